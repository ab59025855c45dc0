//! The token keys as callers see them: the public JWKS (RFC 7517), the list of JWT signing
//! keys and their rotation.

use super::*;

impl Service {
    pub fn jwks(&self) -> Jwks {
        self.keys.jwks()
    }

    /// The JWT signing keys, current first: any signed-in user (the JWKS is public anyway).
    pub fn signing_keys(&self, caller: &Caller) -> ServiceResult<Vec<SigningKeyInfo>> {
        self.user(caller)?;
        Ok(self.keys.infos())
    }

    /// Makes a new JWT signing key of every algorithm current (Súper Administrador only);
    /// tokens signed with the previous ones still verify until their key falls out of the
    /// kept set. Audited.
    pub async fn rotate_signing_key(&self, caller: &Caller) -> ServiceResult<Vec<SigningKeyInfo>> {
        self.super_admin(caller)?;
        let kids = match self.rotate_stored_signing_keys().await? {
            Some(kids) => kids,
            None => {
                // Writing and syncing the key file blocks: off the async workers.
                let (keys, now, ttl) =
                    (self.keys.clone(), self.now(), self.config.access_token_ttl);
                tokio::task::spawn_blocking(move || keys.rotate(now, ttl))
                    .await
                    .map_err(|e| {
                        InternalError::caused("la rotación de claves de firma se interrumpió", e)
                    })??
            }
        };
        let event = self.audit(
            caller,
            AuditAction::Rotate,
            modules::OAUTH,
            kids.join(" "),
            "Claves de firma JWT rotadas (EdDSA, ES256, RS256): los tokens JWT nuevos se firman con ellas",
        );
        self.store.record(&event).await?;
        Ok(self.keys.infos())
    }

    /// The token keys (for wiring and tests).
    pub fn token_keys(&self) -> &TokenKeys {
        &self.keys
    }
}
