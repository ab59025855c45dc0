//! The configuration file: what an admin would otherwise repeat on every command line.
//!
//! It is TOML, read from `--config PATH` (or `CONSOLA_CONFIG`), else from `config.toml` in
//! the user's configuration directory when that file exists. Flags and environment variables
//! win over the file, and the file over the defaults. A file that cannot be read or parsed,
//! an unknown key or a bad value stops the program with the file, the line and the reason,
//! before anything is created.

mod serve;

pub use serve::{Bounded, LogFormat, ServeSettings};

use crate::terminal::Lang;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The settings a file may hold; every one is optional.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// URL of a remote `consola serve`; without it the console starts the embedded server.
    pub server: Option<String>,
    /// Data directory (database, key files, log). A relative path is taken from the file's
    /// own directory.
    pub data_dir: Option<PathBuf>,
    /// Language of the console: `es` or `en`.
    pub lang: Option<Lang>,
    /// Port of the embedded server on 127.0.0.1 (an ephemeral one when taken).
    pub port: Option<u16>,
    /// Clicks and the wheel in the console (off by default: the terminal keeps its own
    /// selection).
    pub mouse: Option<bool>,
    /// Settings of `consola serve`, declared with their flags and variables.
    #[serde(default)]
    pub serve: ServeSettings,
}

/// A configuration file that can't be used, and why.
#[derive(Debug, thiserror::Error)]
#[error("archivo de configuración {}: {message}", path.display())]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
}

/// `config.toml` in the user's configuration directory (e.g. `~/.config/consola/`).
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "consola").map(|d| d.config_dir().join("config.toml"))
}

/// The file named by `explicit` (which must exist), else the default one if it exists, else
/// an empty configuration. Returns where it came from, if anywhere.
pub fn load(explicit: Option<&Path>) -> Result<(FileConfig, Option<PathBuf>), ConfigError> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None => match default_path() {
            Some(path) if path.is_file() => path,
            _ => return Ok((FileConfig::default(), None)),
        },
    };
    let text = std::fs::read_to_string(&path).map_err(|err| ConfigError {
        path: path.clone(),
        message: format!("no se pudo leer: {err}"),
    })?;
    let config = parse(&text, &path)?;
    Ok((config, Some(path)))
}

/// Parses and checks the text of the file at `path`.
pub fn parse(text: &str, path: &Path) -> Result<FileConfig, ConfigError> {
    let error = |message: String| ConfigError {
        path: path.to_path_buf(),
        message,
    };
    let mut config: FileConfig =
        toml::from_str(text).map_err(|err| error(err.to_string().trim_end().to_string()))?;
    if let Some(server) = &config.server {
        config.server = Some(server_url(server).map_err(|e| error(format!("server: {e}")))?);
    }
    if let Some(dir) = &config.data_dir {
        if dir.as_os_str().is_empty() {
            return Err(error("data_dir: está vacío".into()));
        }
        if dir.is_relative() {
            let base = path.parent().unwrap_or(Path::new("."));
            config.data_dir = Some(base.join(dir));
        }
    }
    if let Some(database) = &config.serve.database
        && !database.starts_with("sqlite:")
        && !crate::store::is_postgres_url(database)
    {
        // The value is not repeated: a database URL may carry a password.
        return Err(error(
            "serve.database: no es una URL sqlite: ni postgres:// (p. ej. sqlite:/var/lib/consola/consola.db o postgres://consola@db.example/consola)".into(),
        ));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    for file in [
        &mut config.serve.tls_cert,
        &mut config.serve.tls_key,
        &mut config.serve.system_secret_file,
        &mut config.serve.previous_system_secret_file,
        &mut config.serve.client_metadata_ca,
    ]
    .into_iter()
    .flatten()
    {
        if file.is_relative() {
            *file = base.join(&*file);
        }
    }
    Ok(config)
}

/// A server URL as given on the command line or in the file: `http` or `https`, with a
/// host, and nothing after the path. Returns it without a trailing slash.
pub fn server_url(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text.trim()).map_err(|e| format!("«{text}» no es una URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("«{text}» debe empezar por http:// o https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("«{text}» no tiene servidor"));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(format!(
            "«{text}» no puede llevar usuario, consulta ni fragmento"
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_at(text: &str) -> Result<FileConfig, ConfigError> {
        parse(text, Path::new("/etc/consola/config.toml"))
    }

    #[test]
    fn a_full_file_is_read() {
        let config = parse_at(
            r#"
            server = "https://consola.example.com:8787/"
            data_dir = "datos"
            lang = "en"
            port = 9000

            [serve]
            listen = "0.0.0.0:8787"
            database = "sqlite:/var/lib/consola/consola.db"
            "#,
        )
        .unwrap();
        assert_eq!(
            config.server.as_deref(),
            Some("https://consola.example.com:8787")
        );
        assert_eq!(
            config.data_dir.as_deref(),
            Some(Path::new("/etc/consola/datos")),
            "relative to the file"
        );
        assert_eq!(config.lang, Some(Lang::En));
        assert_eq!(config.port, Some(9000));
        assert_eq!(config.serve.listen, Some("0.0.0.0:8787".parse().unwrap()));
        assert_eq!(parse_at("").unwrap(), FileConfig::default());
        let postgres = parse_at("[serve]\ndatabase = \"postgres://consola@db/consola\"\n");
        assert_eq!(
            postgres.unwrap().serve.database.as_deref(),
            Some("postgres://consola@db/consola")
        );
    }

    #[test]
    fn bad_files_name_the_file_the_line_and_the_reason() {
        let cases = [
            ("port = 8787\nprot = 1\n", &["line 2", "prot", "port"][..]),
            ("port = \"ocho\"\n", &["line 1", "u16"][..]),
            ("port = 70000\n", &["line 1"][..]),
            ("lang = \"fr\"\n", &["line 1", "fr", "es", "en"][..]),
            ("[serve]\nlisten = \"localhost\"\n", &["line 2"][..]),
            ("server = \"ftp://x\"\n", &["server", "http"][..]),
            ("server = \"no es url\"\n", &["server", "no es una URL"][..]),
            ("data_dir = \"\"\n", &["data_dir", "vacío"][..]),
            (
                "[serve]\ndatabase = \"mysql://u:clave@x\"\n",
                &["serve.database", "sqlite:", "postgres://"][..],
            ),
            ("port = [\n", &["line 1"][..]),
            (
                "[serve]\nssh_max_sessions = 0\n",
                &["line 2", "al menos 1"][..],
            ),
            ("[serve]\ninsecure_http = 1\n", &["line 2", "bool"][..]),
            (
                "[serve]\npublic_url = \"x\"\n",
                &["line 2", "no es una URL"][..],
            ),
            ("[serve]\ntrusted_proxies = [\"x\"]\n", &["line 2"][..]),
        ];
        for (text, needles) in cases {
            let err = parse_at(text).unwrap_err().to_string();
            assert!(
                err.starts_with("archivo de configuración /etc/consola/config.toml: "),
                "{err}"
            );
            for needle in needles {
                assert!(err.contains(needle), "{text:?}: {needle:?} not in {err}");
            }
        }
    }

    #[test]
    fn server_urls_are_checked_and_trimmed() {
        assert_eq!(
            server_url("http://127.0.0.1:8787/").unwrap(),
            "http://127.0.0.1:8787"
        );
        for bad in [
            "127.0.0.1:8787",
            "file:///tmp/x",
            "http://u:p@host",
            "http://host/?q=1",
        ] {
            assert!(server_url(bad).is_err(), "{bad}");
        }
    }

    /// The sample shipped in assets/ parses as it is (all commented), and with every
    /// example uncommented, which sets every `[serve]` key.
    #[test]
    fn the_sample_file_parses_and_sets_every_serve_key() {
        let sample = include_str!("../assets/config.sample.toml");
        assert_eq!(parse_at(sample).unwrap(), FileConfig::default());
        let uncommented: String = sample
            .lines()
            .map(|line| {
                let example = line.strip_prefix("# ").filter(|rest| {
                    rest.split_once(" = ").is_some_and(|(key, _)| {
                        !key.is_empty() && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                    })
                });
                format!("{}\n", example.unwrap_or(line))
            })
            .collect();
        let config = parse_at(&uncommented).unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
        let serve = format!("{:?}", config.serve);
        assert!(
            !serve.contains("None"),
            "a [serve] key has no example: {serve}"
        );
        assert!(config.server.is_some() && config.data_dir.is_some());
    }

    #[test]
    fn secret_files_are_relative_to_the_file() {
        let config = parse_at(
            "[serve]\nsystem_secret_file = \"secreto\"\nprevious_system_secret_file = \"/srv/anterior\"\n",
        )
        .unwrap();
        assert_eq!(
            config.serve.system_secret_file.as_deref(),
            Some(Path::new("/etc/consola/secreto"))
        );
        assert_eq!(
            config.serve.previous_system_secret_file.as_deref(),
            Some(Path::new("/srv/anterior"))
        );
    }

    #[test]
    fn an_explicit_file_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nada.toml");
        let err = load(Some(&missing)).unwrap_err().to_string();
        assert!(
            err.contains("nada.toml") && err.contains("no se pudo leer"),
            "{err}"
        );
        let file = dir.path().join("config.toml");
        std::fs::write(&file, "port = 9001\n").unwrap();
        let (config, from) = load(Some(&file)).unwrap();
        assert_eq!((config.port, from), (Some(9001), Some(file)));
    }
}
