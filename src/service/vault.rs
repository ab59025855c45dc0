//! Authenticated encryption of the one secret the server must be able to show again: the
//! account's legacy API secret. The key lives in a file of its own (mode 0600), so a copy
//! of the database alone does not reveal the secret.

use super::{ServiceError, ServiceResult};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

const AAD: &[u8] = b"consola legacy api secret v1";
const NONCE_LEN: usize = 24;

#[derive(Clone)]
pub struct Vault {
    cipher: XChaCha20Poly1305,
}

impl Vault {
    pub fn from_key(key: &[u8; 32]) -> Vault {
        Vault {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// A fresh random key, for a new data directory.
    pub fn generate_key() -> [u8; 32] {
        crate::domain::secret::random_bytes::<32>()
    }

    /// nonce || ciphertext.
    pub fn seal(&self, plain: &str) -> ServiceResult<Vec<u8>> {
        let nonce_bytes = crate::domain::secret::random_bytes::<NONCE_LEN>();
        let nonce = XNonce::from_slice(&nonce_bytes);
        let sealed = self
            .cipher
            .encrypt(
                nonce,
                Payload {
                    msg: plain.as_bytes(),
                    aad: AAD,
                },
            )
            .map_err(|_| ServiceError::Internal("no se pudo cifrar".into()))?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8]) -> ServiceResult<String> {
        if sealed.len() <= NONCE_LEN {
            return Err(ServiceError::Internal("secreto cifrado dañado".into()));
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: AAD,
                },
            )
            .map_err(|_| {
                ServiceError::Internal(
                    "no se pudo descifrar el API Secret: ¿cambió el archivo de clave?".into(),
                )
            })?;
        String::from_utf8(plain).map_err(|_| ServiceError::Internal("secreto no es UTF-8".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trips_and_hides_the_text() {
        let vault = Vault::from_key(&Vault::generate_key());
        let sealed = vault.seal("consola_ak_secret").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(vault.open(&sealed).unwrap(), "consola_ak_secret");
    }

    #[test]
    fn another_key_or_tampering_fails() {
        let vault = Vault::from_key(&Vault::generate_key());
        let mut sealed = vault.seal("x").unwrap();
        let other = Vault::from_key(&Vault::generate_key());
        assert!(other.open(&sealed).is_err());
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(vault.open(&sealed).is_err());
        assert!(vault.open(&[1, 2]).is_err());
    }
}
