//! Where the server's keys come from at start: the data directory's files, or, with a
//! system secret, the database, sealed under it (DESIGN §6). The first start with a secret
//! takes the keys of the files that are there, so tokens and the legacy secret issued
//! before keep working; the files are then no longer read.

use crate::domain::system_secret::SystemSecret;
use crate::service::sealed_keys::{KeyName, SealedKeys, key_32, reason};
use crate::service::{InternalError, ServiceResult, TokenKeys, Vault};
use crate::store::Store;
use anyhow::Context;
use std::path::Path;
use std::sync::Arc;

/// The data directory's key files.
pub const VAULT_KEY_FILE: &str = "vault.key";
pub const TOKEN_KEY_FILE: &str = "token.key";
pub const SIGNING_KEYS_FILE: &str = "jwt-signing-keys.json";

/// The keys a service is made with.
pub struct Keys {
    pub vault: Vault,
    pub token_keys: TokenKeys,
    /// Where they are kept, with a system secret.
    pub sealed: Option<SealedKeys>,
}

/// The keys of the data directory's files, created there on first start.
pub fn of_files(data_dir: &Path) -> anyhow::Result<Keys> {
    let vault_key = super::data_dir::load_or_create_key(&data_dir.join(VAULT_KEY_FILE))?;
    let token_key = super::data_dir::load_or_create_key(&data_dir.join(TOKEN_KEY_FILE))?;
    let token_keys = TokenKeys::load_or_create(token_key, &data_dir.join(SIGNING_KEYS_FILE))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Keys {
        vault: Vault::from_key(&vault_key),
        token_keys,
        sealed: None,
    })
}

/// The keys in the database, sealed under `secret` (or `previous`, then sealed again under
/// `secret`); each one missing is made (from its file in `data_dir` when there is one).
pub async fn of_database(
    store: Arc<dyn Store>,
    data_dir: &Path,
    secret: &SystemSecret,
    previous: Option<&SystemSecret>,
) -> anyhow::Result<Keys> {
    let sealed = SealedKeys::new(store, secret, previous);
    let vault = key_of(&sealed, KeyName::Vault, &data_dir.join(VAULT_KEY_FILE)).await?;
    let token = key_of(&sealed, KeyName::TokenHmac, &data_dir.join(TOKEN_KEY_FILE)).await?;
    let signing_file = data_dir.join(SIGNING_KEYS_FILE);
    let signing = sealed
        .load_or_create(KeyName::SigningKeys, || {
            let file = existing(&signing_file)?;
            TokenKeys::first_stored_signing_set(file.as_deref())
        })
        .await?;
    let token_keys =
        TokenKeys::from_stored(token, &signing).map_err(|e| anyhow::anyhow!(reason(e)))?;
    Ok(Keys {
        vault: Vault::from_key(&vault),
        token_keys,
        sealed: Some(sealed),
    })
}

/// A 32-byte key from the database, made from its file or at random the first time.
async fn key_of(sealed: &SealedKeys, name: KeyName, file: &Path) -> anyhow::Result<[u8; 32]> {
    let bytes = sealed
        .load_or_create(name, || match existing(file)? {
            Some(bytes) => Ok(key_32(name, &bytes)?.to_vec()),
            None => Ok(Vault::generate_key().to_vec()),
        })
        .await?;
    key_32(name, &bytes).with_context(|| format!("clave {}", name.as_str()))
}

/// A file's bytes, `None` when it does not exist.
pub fn existing(path: &Path) -> ServiceResult<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => {
            Err(InternalError::caused(format!("no se pudo leer {}", path.display()), err).into())
        }
    }
}
