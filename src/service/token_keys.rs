//! The keys behind access tokens: the HMAC key that tags `opaque` tokens and the Ed25519
//! keys that sign `jwt` ones. The signing keys persist in a file of the data directory (mode
//! 0600); a rotation puts a new key first and keeps the older ones for verification.

use super::{ServiceError, ServiceResult};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// Signing keys kept after a rotation whatever their age, the current one included.
const MIN_KEPT_SIGNING_KEYS: usize = 3;
/// Signing keys kept at most: rotating faster than tokens expire retires the oldest anyway.
const MAX_KEPT_SIGNING_KEYS: usize = 10;

struct SigningEntry {
    kid: String,
    key: SigningKey,
    created_at: DateTime<Utc>,
    /// The JOSE header naming this key, base64url: the same for every token it signs.
    header: String,
}

impl SigningEntry {
    fn new(kid: String, key: SigningKey, created_at: DateTime<Utc>) -> SigningEntry {
        let header = serde_json::json!({ "alg": "EdDSA", "typ": "JWT", "kid": kid });
        SigningEntry {
            header: URL_SAFE_NO_PAD.encode(header.to_string()),
            kid,
            key,
            created_at,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    keys: Vec<KeyFileEntry>,
}

#[derive(Serialize, Deserialize)]
struct KeyFileEntry {
    kid: String,
    /// The 32-byte Ed25519 seed, base64url.
    seed: String,
    created_at: DateTime<Utc>,
}

pub struct TokenKeys {
    hmac_key: [u8; 32],
    /// Newest first; the first one signs.
    signing: RwLock<Arc<Vec<SigningEntry>>>,
    /// Where the signing keys persist; `None` keeps them in memory only.
    path: Option<PathBuf>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys").finish_non_exhaustive()
    }
}

fn new_entry(now: DateTime<Utc>) -> SigningEntry {
    let key = SigningKey::from_bytes(&crate::domain::secret::random_bytes::<32>());
    let thumb = Sha256::digest(key.verifying_key().as_bytes());
    SigningEntry::new(URL_SAFE_NO_PAD.encode(&thumb[..12]), key, now)
}

fn internal(what: &str, path: &Path, err: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("{what} {}: {err}", path.display()))
}

impl TokenKeys {
    /// Keys that live as long as the process (tests, tools).
    pub fn ephemeral() -> TokenKeys {
        TokenKeys {
            hmac_key: crate::domain::secret::random_bytes::<32>(),
            signing: RwLock::new(Arc::new(vec![new_entry(Utc::now())])),
            path: None,
        }
    }

    /// The HMAC key as given, and the signing keys read from `signing_path`, created there
    /// (mode 0600) on first start.
    pub fn load_or_create(hmac_key: [u8; 32], signing_path: &Path) -> ServiceResult<TokenKeys> {
        let entries = match std::fs::read(signing_path) {
            Ok(bytes) => {
                let file: KeyFile = serde_json::from_slice(&bytes)
                    .map_err(|e| internal("clave de firma dañada en", signing_path, e))?;
                let mut entries = Vec::new();
                for entry in file.keys {
                    let seed: [u8; 32] = URL_SAFE_NO_PAD
                        .decode(&entry.seed)
                        .ok()
                        .and_then(|b| b.try_into().ok())
                        .ok_or_else(|| {
                            internal("clave de firma dañada en", signing_path, "semilla")
                        })?;
                    entries.push(SigningEntry::new(
                        entry.kid,
                        SigningKey::from_bytes(&seed),
                        entry.created_at,
                    ));
                }
                if entries.is_empty() {
                    return Err(internal("sin claves de firma en", signing_path, "vacío"));
                }
                entries
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let entries = vec![new_entry(Utc::now())];
                write_key_file(signing_path, &entries)?;
                entries
            }
            Err(err) => return Err(internal("no se pudo leer", signing_path, err)),
        };
        Ok(TokenKeys {
            hmac_key,
            signing: RwLock::new(Arc::new(entries)),
            path: Some(signing_path.to_path_buf()),
        })
    }

    fn entries(&self) -> Arc<Vec<SigningEntry>> {
        self.signing
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// A new signing key becomes current; the previous ones still verify. A previous key
    /// is kept while tokens it signed may still be alive (it stopped signing less than
    /// `token_ttl` ago), and the newest three are kept whatever their age; never more than
    /// ten, so that rotating in a hurry still bounds the JWKS.
    pub fn rotate(&self, now: DateTime<Utc>, token_ttl: chrono::Duration) -> ServiceResult<String> {
        let mut guard = self.signing.write().unwrap_or_else(|e| e.into_inner());
        let mut entries: Vec<SigningEntry> = Vec::with_capacity(MIN_KEPT_SIGNING_KEYS);
        entries.push(new_entry(now));
        // Each key stopped signing when the next newer one was created.
        let mut stopped_signing = now;
        for old in guard.iter() {
            let may_have_live_tokens = stopped_signing > now - token_ttl;
            if entries.len() >= MAX_KEPT_SIGNING_KEYS
                || (entries.len() >= MIN_KEPT_SIGNING_KEYS && !may_have_live_tokens)
            {
                break;
            }
            entries.push(SigningEntry::new(
                old.kid.clone(),
                old.key.clone(),
                old.created_at,
            ));
            stopped_signing = old.created_at;
        }
        if let Some(path) = &self.path {
            write_key_file(path, &entries)?;
        }
        let kid = entries[0].kid.clone();
        *guard = Arc::new(entries);
        Ok(kid)
    }

    /// The keys kept, newest (current) first.
    pub fn infos(&self) -> Vec<crate::domain::oauth::SigningKeyInfo> {
        self.entries()
            .iter()
            .enumerate()
            .map(|(i, e)| crate::domain::oauth::SigningKeyInfo {
                kid: e.kid.clone(),
                created_at: e.created_at,
                current: i == 0,
            })
            .collect()
    }

    pub fn current_kid(&self) -> String {
        self.entries()[0].kid.clone()
    }

    /// The public keys, newest first.
    pub fn jwks(&self) -> crate::domain::oauth::Jwks {
        crate::domain::oauth::Jwks {
            keys: self
                .entries()
                .iter()
                .map(|e| crate::domain::oauth::Jwk {
                    kty: "OKP".into(),
                    crv: "Ed25519".into(),
                    x: URL_SAFE_NO_PAD.encode(e.key.verifying_key().as_bytes()),
                    kid: e.kid.clone(),
                    alg: "EdDSA".into(),
                    use_: "sig".into(),
                })
                .collect(),
        }
    }

    /// A compact JWS (EdDSA) of the claims, signed with the current key.
    pub fn sign_jwt(&self, claims: &impl Serialize) -> ServiceResult<String> {
        let entries = self.entries();
        let current = &entries[0];
        let payload =
            serde_json::to_vec(claims).map_err(|e| ServiceError::Internal(e.to_string()))?;
        // header.payload.signature, built in one buffer: 4/3 of the payload, plus the
        // header and 86 characters of signature.
        let mut token = String::with_capacity(current.header.len() + payload.len() * 4 / 3 + 96);
        token.push_str(&current.header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut token);
        let signature: Signature = current.key.sign(token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut token);
        Ok(token)
    }

    /// The payload of a JWT whose signature one of our keys made; `None` otherwise.
    pub fn verify_jwt(&self, token: &str) -> Option<Vec<u8>> {
        let mut parts = token.split('.');
        let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        #[derive(Deserialize)]
        struct Header {
            alg: String,
            kid: String,
        }
        let parsed: Header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
        if parsed.alg != "EdDSA" {
            return None;
        }
        let entries = self.entries();
        let entry = entries.iter().find(|e| e.kid == parsed.kid)?;
        let signature: [u8; 64] = URL_SAFE_NO_PAD.decode(signature).ok()?.try_into().ok()?;
        let verifying: VerifyingKey = entry.key.verifying_key();
        let signing_input = &token[..header.len() + 1 + payload.len()];
        verifying
            .verify(signing_input.as_bytes(), &Signature::from_bytes(&signature))
            .ok()?;
        URL_SAFE_NO_PAD.decode(payload).ok()
    }

    /// HMAC-SHA256 tag of an opaque token's body.
    pub fn tag(&self, body: &str) -> [u8; 32] {
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// True when `tag` is the body's (constant time).
    pub fn check_tag(&self, body: &str, tag: &[u8]) -> bool {
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        mac.verify_slice(tag).is_ok()
    }

    fn mac(&self) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.hmac_key)
            .unwrap_or_else(|_| Hmac::<Sha256>::new(&Default::default()));
        mac.update(b"consola opaque access token v1\n");
        mac
    }
}

/// Writes the key file through a temporary file of mode 0600 and a rename, so a crash never
/// leaves half a key.
fn write_key_file(path: &Path, entries: &[SigningEntry]) -> ServiceResult<()> {
    use std::io::Write;
    let file = KeyFile {
        keys: entries
            .iter()
            .map(|e| KeyFileEntry {
                kid: e.kid.clone(),
                seed: URL_SAFE_NO_PAD.encode(e.key.to_bytes()),
                created_at: e.created_at,
            })
            .collect(),
    };
    let bytes =
        serde_json::to_vec_pretty(&file).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut out = options
        .open(&tmp)
        .map_err(|e| internal("no se pudo crear", &tmp, e))?;
    out.write_all(&bytes)
        .and_then(|()| out.sync_all())
        .map_err(|e| internal("no se pudo escribir", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| internal("no se pudo guardar", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_round_trip_and_rotation_keeps_old_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let keys = TokenKeys::load_or_create([1; 32], &path).unwrap();
        let token = keys.sign_jwt(&serde_json::json!({"sub": "x"})).unwrap();
        assert!(keys.verify_jwt(&token).is_some());
        let old_kid = keys.current_kid();
        let new_kid = keys.rotate(Utc::now(), chrono::Duration::hours(1)).unwrap();
        assert_ne!(old_kid, new_kid);
        assert!(keys.verify_jwt(&token).is_some());
        let reloaded = TokenKeys::load_or_create([1; 32], &path).unwrap();
        assert_eq!(reloaded.current_kid(), new_kid);
        assert!(reloaded.verify_jwt(&token).is_some());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let mut forged = token.clone();
        forged.pop();
        forged.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert!(keys.verify_jwt(&forged).is_none());
    }

    /// The header segment is built once per key: it must still name the key that signs,
    /// before and after a rotation (tests/oauth_access.rs checks the signature against the
    /// JWKS over HTTP).
    #[test]
    fn jwt_header_names_the_current_key() {
        let keys = TokenKeys::ephemeral();
        for round in 0..2 {
            if round == 1 {
                keys.rotate(Utc::now(), chrono::Duration::hours(1)).unwrap();
            }
            let token = keys.sign_jwt(&serde_json::json!({"sub": "x"})).unwrap();
            let header = token.split('.').next().unwrap();
            let header: serde_json::Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
            assert_eq!(
                header,
                serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": keys.current_kid()})
            );
            let payload: serde_json::Value =
                serde_json::from_slice(&keys.verify_jwt(&token).unwrap()).unwrap();
            assert_eq!(payload, serde_json::json!({"sub": "x"}));
        }
    }

    #[test]
    fn rotation_keeps_keys_while_their_tokens_may_live() {
        let keys = TokenKeys::ephemeral();
        let ttl = chrono::Duration::hours(1);
        let t0 = Utc::now();
        let first = keys.current_kid();
        for minute in 1..=4 {
            keys.rotate(t0 + chrono::Duration::minutes(minute), ttl)
                .unwrap();
        }
        let infos = keys.infos();
        assert_eq!(
            infos.len(),
            5,
            "each key stopped signing less than an hour ago"
        );
        assert_eq!(infos.last().unwrap().kid, first);
        assert_eq!(infos.iter().filter(|k| k.current).count(), 1);

        // Two hours on, the tokens of the older keys have expired: the newest three stay.
        let later = t0 + chrono::Duration::hours(2);
        keys.rotate(later, ttl).unwrap();
        assert_eq!(keys.infos().len(), 3);
        assert!(keys.infos().iter().all(|k| k.kid != first));

        // Rotating in a hurry keeps ten at most.
        for second in 0..20 {
            keys.rotate(later + chrono::Duration::seconds(second), ttl)
                .unwrap();
        }
        assert_eq!(keys.infos().len(), 10);
    }

    #[test]
    fn opaque_tags_depend_on_the_key() {
        let a = TokenKeys::ephemeral();
        let b = TokenKeys::ephemeral();
        let tag = a.tag("body");
        assert!(a.check_tag("body", &tag));
        assert!(!b.check_tag("body", &tag));
        assert!(!a.check_tag("bodx", &tag));
    }
}
