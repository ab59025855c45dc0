//! The server's own keys kept in the database, sealed under the system secret, so that every
//! replica over one database signs, tags and seals with the same ones (DESIGN §6).
//!
//! Sealing is XChaCha20-Poly1305 under a key derived from the secret with HKDF-SHA256
//! (RFC 5869; aws-lc-rs, already in the binary): the secret may be any text of 32 bytes or
//! more, and HKDF turns it into a uniform key, bound to this one use by its label. The key's
//! name is the associated data, so a sealed value moved to another name does not open.
//! With a previous secret (a rotation), a value only it opens is sealed again under the
//! current one and written back: after one start with both, the previous can go.

use super::{InternalError, ServiceError, ServiceResult};
use crate::domain::system_secret::SystemSecret;
use crate::store::Store;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::Utc;
use std::sync::Arc;

/// The keys kept this way, by their name in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyName {
    /// The HMAC key that tags `opaque` access tokens (32 bytes).
    TokenHmac,
    /// The key that seals the legacy API secret (32 bytes).
    Vault,
    /// The JWT signing keys: the same JSON as `jwt-signing-keys.json`.
    SigningKeys,
    /// The SSH console's Ed25519 host key, in OpenSSH format.
    SshHostKey,
}

impl KeyName {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyName::TokenHmac => "token_hmac",
            KeyName::Vault => "vault",
            KeyName::SigningKeys => "jwt_signing_keys",
            KeyName::SshHostKey => "ssh_host_key",
        }
    }
}

/// HKDF's salt and info: fixed labels, so the derived key serves this purpose only.
const HKDF_SALT: &[u8] = b"consola system secret v1";
const HKDF_INFO: &[u8] = b"consola sealed keys v1";
/// The first byte of every sealed value: the format, should it ever change.
const FORMAT: u8 = 1;
const NONCE_LEN: usize = 24;

/// Why a key in the database could not be used. Names the key, never its bytes.
#[derive(Debug, thiserror::Error)]
pub enum SealedKeyError {
    #[error(
        "el secreto del sistema no abre la clave «{0}» de la base de datos: si lo cambió, \
         dé el anterior con --previous-system-secret-file (o CONSOLA_PREVIOUS_SYSTEM_SECRET)"
    )]
    NotOpened(&'static str),
    #[error("la clave «{0}» de la base de datos no tiene la forma esperada: {1}")]
    Damaged(&'static str, String),
    #[error("no se pudo leer o guardar la clave «{0}» en la base de datos: {1}")]
    Storage(&'static str, crate::store::StoreError),
}

impl From<SealedKeyError> for ServiceError {
    fn from(err: SealedKeyError) -> ServiceError {
        match err {
            SealedKeyError::Storage(_, err) => err.into(),
            other => ServiceError::Internal(InternalError::of(other)),
        }
    }
}

/// The ciphers of the current secret and of the previous one.
struct Sealer {
    current: XChaCha20Poly1305,
    previous: Option<XChaCha20Poly1305>,
}

fn cipher_of(secret: &SystemSecret) -> XChaCha20Poly1305 {
    use aws_lc_rs::hkdf::{HKDF_SHA256, KeyType, Salt};
    struct Len32;
    impl KeyType for Len32 {
        fn len(&self) -> usize {
            32
        }
    }
    let mut key = [0u8; 32];
    let prk = Salt::new(HKDF_SHA256, HKDF_SALT).extract(secret.expose());
    // Expanding 32 bytes (far below HKDF's 255 × 32 limit) and filling 32 cannot fail.
    if let Ok(okm) = prk.expand(&[HKDF_INFO], Len32) {
        let _ = okm.fill(&mut key);
    }
    let cipher = XChaCha20Poly1305::new((&key).into());
    key.fill(0);
    cipher
}

/// What opening found: the key, and whether only the previous secret opened it.
struct Opened {
    plain: Vec<u8>,
    by_previous: bool,
}

impl Sealer {
    fn new(current: &SystemSecret, previous: Option<&SystemSecret>) -> Sealer {
        Sealer {
            current: cipher_of(current),
            previous: previous.map(cipher_of),
        }
    }

    /// FORMAT || nonce || ciphertext, the name as associated data.
    fn seal(&self, name: KeyName, plain: &[u8]) -> Result<Vec<u8>, SealedKeyError> {
        let nonce = crate::domain::secret::random_bytes::<NONCE_LEN>();
        let body = self
            .current
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: name.as_str().as_bytes(),
                },
            )
            .map_err(|_| SealedKeyError::Damaged(name.as_str(), "no se pudo cifrar".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + body.len());
        out.push(FORMAT);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&body);
        Ok(out)
    }

    fn open(&self, name: KeyName, sealed: &[u8]) -> Result<Opened, SealedKeyError> {
        let (format, rest) = sealed
            .split_first()
            .ok_or_else(|| SealedKeyError::Damaged(name.as_str(), "vacía".into()))?;
        if *format != FORMAT || rest.len() <= NONCE_LEN {
            return Err(SealedKeyError::Damaged(
                name.as_str(),
                "formato desconocido".into(),
            ));
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let open = |cipher: &XChaCha20Poly1305| {
            cipher
                .decrypt(
                    XNonce::from_slice(nonce),
                    Payload {
                        msg: body,
                        aad: name.as_str().as_bytes(),
                    },
                )
                .ok()
        };
        if let Some(plain) = open(&self.current) {
            return Ok(Opened {
                plain,
                by_previous: false,
            });
        }
        match self.previous.as_ref().and_then(open) {
            Some(plain) => Ok(Opened {
                plain,
                by_previous: true,
            }),
            None => Err(SealedKeyError::NotOpened(name.as_str())),
        }
    }
}

/// A key as read from the database: the key, and the sealed bytes it was read from (what a
/// later replacement expects to find there).
pub struct StoredKey {
    pub plain: Vec<u8>,
    pub sealed: Vec<u8>,
}

/// The keys in the database, sealed under the system secret.
#[derive(Clone)]
pub struct SealedKeys {
    store: Arc<dyn Store>,
    sealer: Arc<Sealer>,
}

impl std::fmt::Debug for SealedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedKeys").finish_non_exhaustive()
    }
}

fn storage(name: KeyName) -> impl Fn(crate::store::StoreError) -> SealedKeyError {
    move |err| SealedKeyError::Storage(name.as_str(), err)
}

impl SealedKeys {
    pub fn new(
        store: Arc<dyn Store>,
        current: &SystemSecret,
        previous: Option<&SystemSecret>,
    ) -> SealedKeys {
        SealedKeys {
            store,
            sealer: Arc::new(Sealer::new(current, previous)),
        }
    }

    /// The key under `name`, or, when there is none yet, the one `make` gives, stored
    /// sealed. When another replica stored one first, that one is returned. A key that
    /// only the previous secret opens is sealed again under the current one.
    pub async fn load_or_create(
        &self,
        name: KeyName,
        make: impl FnOnce() -> ServiceResult<Vec<u8>>,
    ) -> Result<Vec<u8>, SealedKeyError> {
        if let Some(stored) = self.read(name).await? {
            return Ok(stored.plain);
        }
        let plain = make().map_err(|e| SealedKeyError::Damaged(name.as_str(), reason(e)))?;
        let sealed = self.sealer.seal(name, &plain)?;
        let stored = self
            .store
            .create_sealed_key(name.as_str(), &sealed, Utc::now())
            .await
            .map_err(storage(name))?;
        if stored == sealed {
            return Ok(plain);
        }
        // Another replica was first: its key is the one.
        let opened = self.sealer.open(name, &stored)?;
        Ok(opened.plain)
    }

    /// The key under `name`, if there is one. One opened by the previous secret is sealed
    /// again under the current one and written back.
    pub async fn read(&self, name: KeyName) -> Result<Option<StoredKey>, SealedKeyError> {
        let Some(sealed) = self
            .store
            .sealed_key(name.as_str())
            .await
            .map_err(storage(name))?
        else {
            return Ok(None);
        };
        let opened = self.sealer.open(name, &sealed)?;
        if !opened.by_previous {
            return Ok(Some(StoredKey {
                plain: opened.plain,
                sealed,
            }));
        }
        let resealed = self.sealer.seal(name, &opened.plain)?;
        let replaced = self
            .store
            .replace_sealed_key(name.as_str(), &sealed, &resealed, Utc::now())
            .await
            .map_err(storage(name))?;
        if replaced {
            tracing::info!(
                key = name.as_str(),
                "key sealed again under the current system secret"
            );
            return Ok(Some(StoredKey {
                plain: opened.plain,
                sealed: resealed,
            }));
        }
        // Changed meanwhile (another replica sealed it again, or rotated it): read anew.
        let Some(now) = self
            .store
            .sealed_key(name.as_str())
            .await
            .map_err(storage(name))?
        else {
            return Ok(None);
        };
        let opened = self.sealer.open(name, &now)?;
        Ok(Some(StoredKey {
            plain: opened.plain,
            sealed: now,
        }))
    }

    /// Replaces the key under `name` with `plain` if the database still holds `expected`
    /// (the sealed bytes it was read from); returns whether it did.
    pub async fn replace(
        &self,
        name: KeyName,
        expected: &[u8],
        plain: &[u8],
    ) -> Result<bool, SealedKeyError> {
        let sealed = self.sealer.seal(name, plain)?;
        self.store
            .replace_sealed_key(name.as_str(), expected, &sealed, Utc::now())
            .await
            .map_err(storage(name))
    }
}

/// What went wrong, for the admin at start: an internal error's own message (its Display
/// is the generic one that API callers get).
pub fn reason(err: ServiceError) -> String {
    match err {
        ServiceError::Internal(err) => err.detail(),
        other => other.to_string(),
    }
}

/// A 32-byte key from the database.
pub fn key_32(name: KeyName, bytes: &[u8]) -> Result<[u8; 32], SealedKeyError> {
    bytes
        .try_into()
        .map_err(|_| SealedKeyError::Damaged(name.as_str(), "no tiene 32 bytes".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> SystemSecret {
        SystemSecret::new(text.as_bytes().to_vec()).unwrap()
    }

    const S1: &str = "primer-secreto-del-sistema-de-32-bytes";
    const S2: &str = "segundo-secreto-del-sistema-de-32-bytes";

    #[test]
    fn the_reason_at_start_is_the_internal_message_not_the_generic_one() {
        let internal = ServiceError::Internal("la clave de firma no tiene 32 bytes".into());
        assert_eq!(reason(internal), "la clave de firma no tiene 32 bytes");
        let other = ServiceError::Unauthenticated;
        let shown = other.to_string();
        assert!(!shown.is_empty());
        assert_eq!(reason(other), shown);
    }

    #[tokio::test]
    async fn debug_shows_nothing_of_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::SqliteStore::open(&dir.path().join("consola.db"), None)
            .await
            .unwrap();
        let keys = SealedKeys::new(Arc::new(store), &secret(S1), None);
        assert_eq!(format!("{keys:?}"), "SealedKeys { .. }");
    }

    #[test]
    fn sealing_hides_the_key_and_opens_with_the_same_secret_and_name_only() {
        let sealer = Sealer::new(&secret(S1), None);
        let plain = b"clave-de-prueba-clave-de-prueba!";
        let sealed = sealer.seal(KeyName::TokenHmac, plain).unwrap();
        assert!(!sealed.windows(8).any(|w| w == &plain[..8]));
        let opened = sealer.open(KeyName::TokenHmac, &sealed).unwrap();
        assert_eq!(
            (opened.plain.as_slice(), opened.by_previous),
            (&plain[..], false)
        );
        assert!(matches!(
            sealer.open(KeyName::Vault, &sealed),
            Err(SealedKeyError::NotOpened("vault"))
        ));
        let other = Sealer::new(&secret(S2), None);
        assert!(other.open(KeyName::TokenHmac, &sealed).is_err());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(sealer.open(KeyName::TokenHmac, &tampered).is_err());
        assert!(sealer.open(KeyName::TokenHmac, &[]).is_err());
        assert!(sealer.open(KeyName::TokenHmac, &[FORMAT, 1, 2]).is_err());
    }

    #[test]
    fn the_previous_secret_opens_what_it_sealed_and_says_so() {
        let old = Sealer::new(&secret(S1), None);
        let sealed = old.seal(KeyName::SigningKeys, b"{}").unwrap();
        let rotating = Sealer::new(&secret(S2), Some(&secret(S1)));
        let opened = rotating.open(KeyName::SigningKeys, &sealed).unwrap();
        assert!(opened.by_previous);
        assert_eq!(opened.plain, b"{}");
        let err = match Sealer::new(&secret(S2), None).open(KeyName::SigningKeys, &sealed) {
            Ok(_) => panic!("opened without the previous secret"),
            Err(err) => err.to_string(),
        };
        assert!(err.contains("--previous-system-secret-file"), "{err}");
    }

    /// The derivation is HKDF-SHA256 with these labels: a key sealed by one build opens in
    /// the next. Checked against HKDF computed here from HMAC-SHA256 (RFC 5869 §2).
    #[test]
    fn the_key_is_hkdf_sha256_of_the_secret() {
        use hmac::{Hmac, Mac};
        use sha2::Sha256;
        let mut extract = <Hmac<Sha256> as Mac>::new_from_slice(HKDF_SALT).unwrap();
        extract.update(S1.as_bytes());
        let prk = extract.finalize().into_bytes();
        let mut expand = <Hmac<Sha256> as Mac>::new_from_slice(&prk).unwrap();
        expand.update(HKDF_INFO);
        expand.update(&[1]);
        let okm: [u8; 32] = expand.finalize().into_bytes().into();
        let reference = XChaCha20Poly1305::new((&okm).into());
        let sealed = Sealer::new(&secret(S1), None)
            .seal(KeyName::Vault, b"x")
            .unwrap();
        let (nonce, body) = sealed[1..].split_at(NONCE_LEN);
        let plain = reference
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: b"vault",
                },
            )
            .unwrap();
        assert_eq!(plain, b"x");
    }
}
