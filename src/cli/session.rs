//! Sessions of the command line, one per server, in the XDG state directory.
//!
//! Each session is a file `sessions/<digest of the server>.json` (mode 0600, in a 0700
//! directory) holding the server, the username, the expiry and the session token sealed
//! with XChaCha20-Poly1305 under `session.key` (32 random bytes, mode 0600, beside it).
//! So the token never lies in clear on disk (a secret scanner, a backup or a copy of the
//! sessions folder alone finds nothing), and the authentication tag covers the server,
//! the username and the expiry too: a file edited or cut short is refused, never half used.

use super::{CliResult, Failure};
use crate::domain::secret::SecretText;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs;
use std::path::PathBuf;

const FORMAT: u32 = 1;
const NONCE_LEN: usize = 24;

/// A session kept for a server.
#[derive(Debug, Clone)]
pub struct Session {
    /// The server's URL, or `data-dir:PATH` for the embedded server.
    pub server: String,
    pub username: String,
    pub expires_at: DateTime<Utc>,
    pub token: SecretText,
}

impl Session {
    pub fn expired(&self) -> bool {
        self.expires_at <= Utc::now()
    }
}

/// The file's shape; `sealed` is base64 of nonce ‖ ciphertext ‖ tag.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionFile {
    format: u32,
    server: String,
    username: String,
    expires_at: DateTime<Utc>,
    sealed: String,
}

/// What the tag covers besides the token.
fn associated_data(server: &str, username: &str, expires_at: &DateTime<Utc>) -> Vec<u8> {
    format!(
        "consola cli session v{FORMAT}\0{server}\0{username}\0{}",
        expires_at.to_rfc3339()
    )
    .into_bytes()
}

/// The folder of kept sessions.
#[derive(Debug, Clone)]
pub struct SessionStore {
    dir: PathBuf,
}

impl SessionStore {
    pub fn new(dir: PathBuf) -> SessionStore {
        SessionStore { dir }
    }

    /// `$XDG_STATE_HOME/consola` (e.g. `~/.local/state/consola`); where the platform has no
    /// state directory, `state` in its local data directory.
    pub fn default_location() -> Option<SessionStore> {
        let dirs = directories::ProjectDirs::from("", "", "consola")?;
        let dir = dirs
            .state_dir()
            .map(|d| d.to_path_buf())
            .unwrap_or_else(|| dirs.data_local_dir().join("state"));
        Some(SessionStore::new(dir))
    }

    /// The file of the session kept for `server`.
    pub fn path_of(&self, server: &str) -> PathBuf {
        let digest = hex::encode(Sha256::digest(server.as_bytes()));
        self.dir
            .join("sessions")
            .join(format!("{}.json", &digest[..32]))
    }

    fn cipher(&self) -> CliResult<XChaCha20Poly1305> {
        crate::server::data_dir::ensure_private_dir(&self.dir)?;
        let key = crate::server::data_dir::load_or_create_key(&self.dir.join("session.key"))?;
        Ok(XChaCha20Poly1305::new((&key).into()))
    }

    pub fn save(&self, session: &Session) -> CliResult<PathBuf> {
        let cipher = self.cipher()?;
        let nonce = crate::domain::secret::random_bytes::<NONCE_LEN>();
        let aad = associated_data(&session.server, &session.username, &session.expires_at);
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: session.token.expose().as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| Failure::failed("no se pudo cifrar la sesión"))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        let file = SessionFile {
            format: FORMAT,
            server: session.server.clone(),
            username: session.username.clone(),
            expires_at: session.expires_at,
            sealed: base64::engine::general_purpose::STANDARD.encode(bytes),
        };
        let text = serde_json::to_vec_pretty(&file)
            .map_err(|e| Failure::failed(format!("no se pudo guardar la sesión: {e}")))?;
        let path = self.path_of(&session.server);
        let folder = self.dir.join("sessions");
        crate::server::data_dir::ensure_private_dir(&folder)?;
        // Written beside and renamed: a crash never leaves half a session file.
        let temporary = folder.join(format!(".{}.tmp", std::process::id()));
        use crate::private_file::{Durability, replace};
        replace(&path, &temporary, &text, Durability::Synced)
            .map_err(|e| Failure::failed(format!("no se pudo guardar la sesión: {e}")))?;
        Ok(path)
    }

    /// The session kept for `server`, if any. A file that is damaged or was edited is an
    /// error that says how to start over.
    pub fn load(&self, server: &str) -> CliResult<Option<Session>> {
        let path = self.path_of(server);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => {
                return Err(Failure::failed(format!(
                    "no se pudo leer {}: {err}",
                    path.display()
                )));
            }
        };
        let damaged = || Failure::Failed {
            message: format!(
                "el archivo de sesión {} está dañado o fue modificado",
                path.display()
            ),
            details: vec!["Bórrelo con `consola logout` e inicie sesión de nuevo".into()],
        };
        let file: SessionFile = serde_json::from_slice(&bytes).map_err(|_| damaged())?;
        if file.format != FORMAT || file.server != server {
            return Err(damaged());
        }
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(&file.sealed)
            .map_err(|_| damaged())?;
        if sealed.len() <= NONCE_LEN {
            return Err(damaged());
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let aad = associated_data(&file.server, &file.username, &file.expires_at);
        let plain = self
            .cipher()?
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: &aad,
                },
            )
            .map_err(|_| damaged())?;
        let token = String::from_utf8(plain).map_err(|_| damaged())?;
        Ok(Some(Session {
            server: file.server,
            username: file.username,
            expires_at: file.expires_at,
            token: SecretText::new(token),
        }))
    }

    /// Forgets the session kept for `server`; true when there was one.
    pub fn remove(&self, server: &str) -> CliResult<bool> {
        match fs::remove_file(self.path_of(server)) {
            Ok(()) => Ok(true),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(err) => Err(Failure::failed(format!(
                "no se pudo borrar la sesión: {err}"
            ))),
        }
    }
}
