//! Files that only their owner may read or write (mode 0600 on Unix): keys, sessions, the
//! data directory's lock and record, the console's log and the SQLite database. Every such
//! file is opened through here, so none is ever created readable by others.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Open options whose `create` makes the file with mode 0600. The caller adds what it
/// opens the file for (`write`, `append`, `create_new`, …).
pub fn options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Writes `bytes` to a file that must not exist yet, and syncs it: a key made on first
/// start. An existing file is an error (`AlreadyExists`), never overwritten.
pub fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = options().write(true).create_new(true).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Whether [`replace`] syncs the new contents to disk before the rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Synced: the file must survive a crash whole (keys, sessions).
    Synced,
    /// Not synced: the file matters only while this process lives (the data directory's
    /// record); the rename alone keeps readers from seeing half of it.
    Unsynced,
}

/// Replaces `path` with `bytes` through a temporary file beside it (`temporary`) and a
/// rename, so a reader or a crash never sees half a file.
pub fn replace(
    path: &Path,
    temporary: &Path,
    bytes: &[u8],
    durability: Durability,
) -> io::Result<()> {
    let mut file = options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(temporary)?;
    file.write_all(bytes)?;
    if durability == Durability::Synced {
        file.sync_all()?;
    }
    drop(file);
    fs::rename(temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode_of(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    #[cfg(unix)]
    fn every_file_made_here_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let opened = dir.path().join("opened");
        options().write(true).create(true).open(&opened).unwrap();
        let new = dir.path().join("new");
        write_new(&new, b"key").unwrap();
        let replaced = dir.path().join("replaced");
        replace(
            &replaced,
            &dir.path().join(".tmp"),
            b"v1",
            Durability::Synced,
        )
        .unwrap();
        for path in [&opened, &new, &replaced] {
            assert_eq!(mode_of(path), 0o600, "{}", path.display());
        }
    }

    #[test]
    fn write_new_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        write_new(&path, b"first").unwrap();
        let again = write_new(&path, b"second").unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).unwrap(), b"first");
    }

    #[test]
    fn replace_leaves_the_new_contents_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("record");
        let temporary = dir.path().join(".record.tmp");
        replace(&path, &temporary, b"old", Durability::Unsynced).unwrap();
        replace(&path, &temporary, b"new", Durability::Unsynced).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert!(!temporary.exists());
    }
}
