//! The keys behind access tokens: the HMAC key that tags `opaque` tokens and the keys that
//! sign `jwt` ones, one set per algorithm (EdDSA, ES256, RS256). The signing keys persist in
//! a file of the data directory (mode 0600); a rotation puts a new key of every algorithm
//! first and keeps the older ones for verification.
//!
//! P-256 and RSA come from aws-lc-rs, which rustls already builds into the binary: its keys
//! are generated, parsed and used by AWS-LC's constant-time, assembly-backed code (RSA key
//! generation takes a fraction of a second even in a debug build, so it happens only when a
//! key set is created or rotated, off the async workers).
//!
//! The keys' rooms: `key_sets` (the kept keys of each algorithm and their rotation),
//! `key_file` (their JSON, in the data directory or sealed in the database, see `stored`),
//! `signing` (JWS of JWT access tokens), `opaque_tag` (the HMAC of opaque ones) and
//! `private_key` (the three kinds of key).

mod key_file;
mod key_sets;
mod opaque_tag;
mod private_key;
mod signing;
mod stored;

use super::internal::Cause;
use super::{InternalError, ServiceError, ServiceResult};
use crate::domain::consumer::AccessTokenAlg;
use crate::domain::oauth::{ACCESS_TOKEN_TYP, Jwk, Jwks, SigningKeyInfo};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use key_file::{internal, key_file_bytes, read_key_file, write_key_file};
use key_sets::{KeySets, SigningEntry, ephemeral_key_sets, rotated};
use opaque_tag::opaque_mac;
use parking_lot::RwLock;
use private_key::PrivateKey;
pub(crate) use private_key::verifies_client_key;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

pub struct TokenKeys {
    /// The opaque tokens' HMAC, keyed and past its domain prefix once: each token clones it
    /// rather than deriving the key's pads again.
    opaque_mac: Hmac<Sha256>,
    /// `opaque_mac` past the issuer and audience of version 2 and 3 tokens too, for the first
    /// (in practice the only) pair it is asked for.
    bound_mac: OnceLock<(String, String, Hmac<Sha256>)>,
    signing: RwLock<Arc<KeySets>>,
    /// Where the signing keys persist; `None` keeps them in memory only.
    path: Option<PathBuf>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys").finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// Keys that live as long as the process (tests, tools): a fresh HMAC key, and signing
    /// keys shared by every ephemeral instance until one rotates its own.
    pub fn ephemeral() -> TokenKeys {
        let sets = ephemeral_key_sets().unwrap_or_else(|_| {
            // Without AWS-LC's generator there are still Ed25519 keys; ES256 and RS256
            // consumers then get a server error instead of a token.
            let mut sets: [Vec<SigningEntry>; 3] = Default::default();
            if let Ok(entry) = SigningEntry::generate(AccessTokenAlg::EdDSA, Utc::now()) {
                sets[0].push(entry);
            }
            KeySets(sets)
        });
        TokenKeys {
            opaque_mac: opaque_mac(&crate::domain::secret::random_bytes::<32>()),
            bound_mac: OnceLock::new(),
            signing: RwLock::new(Arc::new(sets)),
            path: None,
        }
    }

    /// The HMAC key as given, and the signing keys read from `signing_path`, created there
    /// (mode 0600) on first start. A file from before ES256 and RS256 gains a key of each.
    pub fn load_or_create(hmac_key: [u8; 32], signing_path: &Path) -> ServiceResult<TokenKeys> {
        let sets = match std::fs::read(signing_path) {
            Ok(bytes) => {
                let mut sets = read_key_file(&bytes, signing_path)?;
                if sets.complete()? {
                    write_key_file(signing_path, &sets)?;
                }
                sets
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let sets = KeySets::generate(Utc::now())?;
                write_key_file(signing_path, &sets)?;
                sets
            }
            Err(err) => return Err(internal("no se pudo leer", signing_path, err)),
        };
        Ok(TokenKeys {
            opaque_mac: opaque_mac(&hmac_key),
            bound_mac: OnceLock::new(),
            signing: RwLock::new(Arc::new(sets)),
            path: Some(signing_path.to_path_buf()),
        })
    }

    fn sets(&self) -> Arc<KeySets> {
        self.signing.read().clone()
    }

    /// The keys kept, by algorithm (EdDSA, ES256, RS256), each newest (current) first: the
    /// order of the JWKS.
    pub fn infos(&self) -> Vec<SigningKeyInfo> {
        let sets = self.sets();
        AccessTokenAlg::ALL
            .into_iter()
            .flat_map(|alg| {
                sets.of(alg)
                    .iter()
                    .enumerate()
                    .map(|(i, e)| SigningKeyInfo {
                        kid: e.kid.clone(),
                        alg,
                        created_at: e.created_at,
                        current: i == 0,
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The id of the key that signs new tokens of `alg`.
    pub fn current_kid(&self, alg: AccessTokenAlg) -> Option<String> {
        self.sets().of(alg).first().map(|e| e.kid.clone())
    }

    /// The public keys, in the order of [`TokenKeys::infos`].
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: self.sets().iter().map(|e| e.jwk.clone()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One persisted key set for the tests that need files: an RSA key costs time.
    #[test]
    fn jwt_round_trip_rotation_and_reload_for_every_alg() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let keys = TokenKeys::load_or_create([1; 32], &path).unwrap();
        let tokens: Vec<String> = AccessTokenAlg::ALL
            .into_iter()
            .map(|alg| {
                keys.sign_jwt(alg, &serde_json::json!({"sub": "x"}))
                    .unwrap()
            })
            .collect();
        for token in &tokens {
            assert!(keys.verify_jwt(token).is_some());
        }
        let old: Vec<String> = AccessTokenAlg::ALL
            .into_iter()
            .map(|alg| keys.current_kid(alg).unwrap())
            .collect();
        let new = keys.rotate(Utc::now(), chrono::Duration::hours(1)).unwrap();
        assert_eq!(new.len(), 3);
        for (old, new) in old.iter().zip(&new) {
            assert_ne!(old, new);
        }
        for token in &tokens {
            assert!(keys.verify_jwt(token).is_some(), "old keys still verify");
        }
        let reloaded = TokenKeys::load_or_create([1; 32], &path).unwrap();
        for (alg, new) in AccessTokenAlg::ALL.into_iter().zip(&new) {
            assert_eq!(reloaded.current_kid(alg).as_ref(), Some(new));
        }
        assert_eq!(reloaded.infos(), keys.infos());
        for token in &tokens {
            assert!(reloaded.verify_jwt(token).is_some());
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        for token in &tokens {
            let mut forged = token.clone();
            forged.pop();
            forged.push(if token.ends_with('A') { 'B' } else { 'A' });
            assert!(keys.verify_jwt(&forged).is_none());
        }
    }

    #[test]
    fn jwks_publishes_each_key_with_its_members() {
        let keys = TokenKeys::ephemeral();
        let jwks = keys.jwks();
        let infos = keys.infos();
        assert_eq!(jwks.keys.len(), 3);
        for (jwk, info) in jwks.keys.iter().zip(&infos) {
            assert_eq!(jwk.kid, info.kid);
            assert_eq!(jwk.alg, info.alg.as_str());
            assert_eq!(jwk.use_, "sig");
        }
        let [ed, ec, rsa] = &jwks.keys[..] else {
            panic!("three keys")
        };
        assert_eq!(
            (ed.kty.as_str(), ed.crv.as_deref()),
            ("OKP", Some("Ed25519"))
        );
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(ed.x.as_ref().unwrap())
                .unwrap()
                .len(),
            32
        );
        assert_eq!((ec.kty.as_str(), ec.crv.as_deref()), ("EC", Some("P-256")));
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(ec.x.as_ref().unwrap())
                .unwrap()
                .len(),
            32
        );
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(ec.y.as_ref().unwrap())
                .unwrap()
                .len(),
            32
        );
        assert_eq!((rsa.kty.as_str(), rsa.crv.as_deref()), ("RSA", None));
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(rsa.n.as_ref().unwrap())
                .unwrap()
                .len(),
            256
        );
        assert_eq!(rsa.e.as_deref(), Some("AQAB"));
    }
}
