//! The last username that signed in on this machine, kept in the XDG state directory
//! (`$XDG_STATE_HOME/consola/last_username`, else `~/.local/state/consola/`), so that
//! Iniciar sesión opens with it filled in. Only the username: never a password or token.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Longer than any username the server accepts; a damaged file shows nothing.
const MAX_LEN: usize = 256;

/// Where the username is kept, from the environment `var` reads.
pub fn path(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let state = match var("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(var("HOME").filter(|v| !v.is_empty())?).join(".local/state"),
    };
    Some(state.join("consola").join("last_username"))
}

/// The remembered username, or nothing when there is none or the file is unusable.
pub fn load(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let name = text.trim();
            if name.len() <= MAX_LEN && !name.chars().any(char::is_control) {
                name.to_string()
            } else {
                String::new()
            }
        }
        Err(_) => String::new(),
    }
}

pub fn save(path: &Path, username: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, format!("{username}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_username_round_trips_under_the_xdg_state_directory() {
        let dir = tempfile::tempdir().expect("temp dir");
        let env = |name: &str| match name {
            "XDG_STATE_HOME" => Some(dir.path().as_os_str().to_owned()),
            _ => None,
        };
        let file = path(env).expect("a path");
        assert_eq!(file, dir.path().join("consola/last_username"));
        assert_eq!(load(&file), "", "nothing remembered yet");
        save(&file, "ana").expect("saved");
        assert_eq!(load(&file), "ana");
        // Without XDG_STATE_HOME, under ~/.local/state; with neither, nowhere.
        let home = |name: &str| (name == "HOME").then(|| OsString::from("/home/ana"));
        assert_eq!(
            path(home),
            Some(PathBuf::from(
                "/home/ana/.local/state/consola/last_username"
            ))
        );
        assert_eq!(path(|_| None), None);
        // A damaged file shows nothing rather than garbage.
        std::fs::write(&file, "a\u{1b}[2Jb").expect("written");
        assert_eq!(load(&file), "");
    }
}
