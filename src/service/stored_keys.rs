//! The service's side of the keys kept in the database (see `sealed_keys`): a signing-key
//! rotation written there, and the set read again when another replica rotated.

use super::sealed_keys::{KeyName, SealedKeys};
use super::token_keys::TokenKeys;
use super::{InternalError, Service, ServiceError, ServiceResult};

/// Rotations that may find the set changed by another replica before one gets through.
const ROTATION_ATTEMPTS: usize = 5;

impl Service {
    /// The same service with its keys kept in the database under the system secret: a
    /// signing-key rotation is written there, for every replica.
    pub fn with_sealed_keys(mut self, sealed: SealedKeys) -> Service {
        self.sealed = Some(sealed);
        self
    }

    /// The keys kept in the database, when the server has a system secret.
    pub fn sealed_keys(&self) -> Option<&SealedKeys> {
        self.sealed.as_ref()
    }

    /// Reads the signing keys from the database and puts them in force: new tokens get the
    /// current key's `kid`, and the JWKS publishes the set. For a replica told that another
    /// rotated. Without keys in the database (one server, keys in files) there is nothing
    /// to read and nothing changes.
    pub async fn reload_signing_keys(&self) -> ServiceResult<()> {
        let Some(sealed) = &self.sealed else {
            return Ok(());
        };
        let stored = sealed
            .read(KeyName::SigningKeys)
            .await?
            .ok_or_else(no_signing_keys)?;
        self.keys.install_stored(&stored.plain)
    }

    /// With keys in the database: rotates the set the database holds, writes it back unless
    /// another replica changed it meanwhile (then starts again from theirs), and puts it in
    /// force here. Returns the new keys' ids; `None` when the keys live in files.
    pub(super) async fn rotate_stored_signing_keys(&self) -> ServiceResult<Option<Vec<String>>> {
        let Some(sealed) = &self.sealed else {
            return Ok(None);
        };
        for _ in 0..ROTATION_ATTEMPTS {
            let stored = sealed
                .read(KeyName::SigningKeys)
                .await?
                .ok_or_else(no_signing_keys)?;
            let (now, ttl) = (self.now(), self.config.access_token_ttl);
            let plain = stored.plain;
            // A new RSA key: off the async workers.
            let (next, kids) =
                tokio::task::spawn_blocking(move || TokenKeys::rotate_stored(&plain, now, ttl))
                    .await
                    .map_err(|e| {
                        InternalError::caused("la rotación de claves de firma se interrumpió", e)
                    })??;
            if sealed
                .replace(KeyName::SigningKeys, &stored.sealed, &next)
                .await?
            {
                self.keys.install_stored(&next)?;
                return Ok(Some(kids));
            }
        }
        Err(ServiceError::Internal(
            "otras réplicas rotan las claves de firma a la vez; reintente".into(),
        ))
    }
}

fn no_signing_keys() -> ServiceError {
    ServiceError::Internal("la base de datos no tiene claves de firma".into())
}
