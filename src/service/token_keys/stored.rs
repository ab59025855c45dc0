//! Token keys kept in the database (sealed; see `service::sealed_keys`) instead of files:
//! the signing keys travel as the key file's JSON, so a rotation on one replica is read as
//! a whole by the others.

use super::*;

/// What errors about the stored set name: where it lives, never a path.
const STORED: &str = "jwt_signing_keys";

impl TokenKeys {
    /// Keys read from the database: the HMAC key, and the signing keys as the key file's
    /// JSON. A rotation is written back by the service, not here.
    pub fn from_stored(hmac_key: [u8; 32], signing: &[u8]) -> ServiceResult<TokenKeys> {
        let sets = read_key_file(signing, Path::new(STORED))?;
        Ok(TokenKeys {
            opaque_mac: opaque_mac(&hmac_key),
            bound_mac: OnceLock::new(),
            signing: RwLock::new(Arc::new(sets)),
            path: None,
        })
    }

    /// The JSON of the first signing set kept in the database: the key file of the data
    /// directory when there is one (so tokens it signed keep verifying), with a key for
    /// each algorithm it lacks; else a new key of every algorithm. Slow (an RSA key).
    pub fn first_stored_signing_set(file: Option<&[u8]>) -> ServiceResult<Vec<u8>> {
        let sets = match file {
            Some(bytes) => {
                let mut sets = read_key_file(bytes, Path::new(STORED))?;
                sets.complete()?;
                sets
            }
            None => KeySets::generate(Utc::now())?,
        };
        key_file_bytes(&sets)
    }

    /// The stored set after a rotation at `now` (see [`TokenKeys::rotate`]), and the new
    /// keys' ids. It starts from what the database holds, not from this process's copy,
    /// so that no rotation made on another replica is lost. Slow (an RSA key).
    pub fn rotate_stored(
        stored: &[u8],
        now: DateTime<Utc>,
        token_ttl: chrono::Duration,
    ) -> ServiceResult<(Vec<u8>, Vec<String>)> {
        let previous = read_key_file(stored, Path::new(STORED))?;
        let sets = rotated(&previous, KeySets::generate(now)?, now, token_ttl);
        let kids = AccessTokenAlg::ALL
            .into_iter()
            .filter_map(|alg| sets.of(alg).first().map(|e| e.kid.clone()))
            .collect();
        Ok((key_file_bytes(&sets)?, kids))
    }

    /// Puts the stored set in force: new tokens are signed with its current keys and the
    /// JWKS publishes it. The HMAC key stays.
    pub fn install_stored(&self, stored: &[u8]) -> ServiceResult<()> {
        let sets = read_key_file(stored, Path::new(STORED))?;
        *self.signing.write() = Arc::new(sets);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_set_rotates_from_what_is_stored_and_installs() {
        let first = TokenKeys::first_stored_signing_set(None).unwrap();
        let keys = TokenKeys::from_stored([3; 32], &first).unwrap();
        let before = keys.current_kid(AccessTokenAlg::EdDSA).unwrap();
        let token = keys
            .sign_jwt(AccessTokenAlg::EdDSA, &serde_json::json!({"sub": "x"}))
            .unwrap();
        let (rotated, kids) =
            TokenKeys::rotate_stored(&first, Utc::now(), chrono::Duration::minutes(60)).unwrap();
        assert_eq!(kids.len(), 3);
        // Not in force until installed.
        assert_eq!(keys.current_kid(AccessTokenAlg::EdDSA).unwrap(), before);
        keys.install_stored(&rotated).unwrap();
        assert_eq!(keys.current_kid(AccessTokenAlg::EdDSA).unwrap(), kids[0]);
        assert!(
            keys.verify_jwt(&token).is_some(),
            "the previous key still verifies"
        );
        assert_eq!(keys.jwks().keys.len(), 6);
        assert!(keys.install_stored(b"{").is_err());
        let err = format!("{:?}", TokenKeys::from_stored([3; 32], b"{}").unwrap_err());
        assert!(err.contains(STORED), "{err}");
    }

    #[test]
    fn an_ed25519_only_file_is_completed_when_first_stored() {
        let seed = URL_SAFE_NO_PAD.encode([9u8; 32]);
        let file = format!(
            r#"{{"keys":[{{"kid":"viejo","seed":"{seed}","created_at":"2026-01-01T00:00:00Z"}}]}}"#
        );
        let stored = TokenKeys::first_stored_signing_set(Some(file.as_bytes())).unwrap();
        let keys = TokenKeys::from_stored([3; 32], &stored).unwrap();
        assert_eq!(
            keys.current_kid(AccessTokenAlg::EdDSA).as_deref(),
            Some("viejo")
        );
        assert!(keys.current_kid(AccessTokenAlg::RS256).is_some());
        assert!(keys.current_kid(AccessTokenAlg::ES256).is_some());
    }
}
