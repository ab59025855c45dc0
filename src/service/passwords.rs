//! Password hashing with argon2id, off the async runtime (it is slow on purpose).

use super::{ServiceError, ServiceResult};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::OnceLock;

pub async fn hash(password: String) -> ServiceResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&crate::domain::secret::random_bytes::<16>())
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ServiceError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| ServiceError::Internal(e.to_string()))?
}

/// A hash of nothing in particular: checking against it when the username does not exist
/// makes a wrong username cost the same time as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::encode_b64(&[7u8; 16]).expect("16 bytes encode as a salt");
        Argon2::default()
            .hash_password(b"consola dummy password", &salt)
            .map(|h| h.to_string())
            .expect("argon2 hashes with default parameters")
    })
}

/// True when `password` matches `stored`; with `None`, checks against a dummy hash and
/// returns false, taking the same time.
pub async fn verify(password: String, stored: Option<String>) -> ServiceResult<bool> {
    tokio::task::spawn_blocking(move || {
        let (hash, real) = match &stored {
            Some(h) => (h.as_str(), true),
            None => (dummy_hash(), false),
        };
        let parsed = PasswordHash::new(hash).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(ok && real)
    })
    .await
    .map_err(|e| ServiceError::Internal(e.to_string()))?
}
