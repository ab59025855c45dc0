//! The system secrets `serve` seals the database's keys under (DESIGN §6): the current one
//! and, while it is being rotated, the one before it.

use crate::config::ServeSettings;
use crate::domain::system_secret::SystemSecret;
use crate::server;
use anyhow::Context as _;
use std::ffi::OsString;
use std::path::PathBuf;

/// The secrets read, as the server takes them.
pub(super) struct SystemSecrets {
    pub(super) current: Option<SystemSecret>,
    pub(super) previous: Option<SystemSecret>,
}

impl SystemSecrets {
    /// Reads each secret: from the file its flag (or `*_FILE` variable) names in `given`,
    /// else from its variable (`env`), which holds the secret itself, else from the file the
    /// configuration file names. Flags and the environment win over the configuration file,
    /// as everywhere.
    pub(super) fn read(
        given: &ServeSettings,
        file: &ServeSettings,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> anyhow::Result<SystemSecrets> {
        let one = |given: &Option<PathBuf>, var: &str, in_file: &Option<PathBuf>| {
            if let Some(path) = given {
                return server::data_dir::read_system_secret(path).map(Some);
            }
            if let Some(value) = env(var) {
                return secret_from_env(value)
                    .map(Some)
                    .with_context(|| format!("el secreto del sistema de {var}"));
            }
            match in_file {
                Some(path) => server::data_dir::read_system_secret(path).map(Some),
                None => Ok(None),
            }
        };
        Ok(SystemSecrets {
            current: one(
                &given.system_secret_file,
                "CONSOLA_SYSTEM_SECRET",
                &file.system_secret_file,
            )?,
            previous: one(
                &given.previous_system_secret_file,
                "CONSOLA_PREVIOUS_SYSTEM_SECRET",
                &file.previous_system_secret_file,
            )?,
        })
    }
}

fn secret_from_env(value: OsString) -> anyhow::Result<SystemSecret> {
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStringExt;
        value.into_vec()
    };
    #[cfg(not(unix))]
    let bytes = value
        .into_string()
        .map_err(|_| anyhow::anyhow!("no es UTF-8"))?
        .into_bytes();
    Ok(SystemSecret::new(bytes)?)
}
