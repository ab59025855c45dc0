//! Keys kept in the database, sealed under the system secret (DESIGN §6): the token HMAC
//! key, the vault key, the JWT signing keys and the SSH host key, so that every replica
//! over one database uses the same ones. The store holds sealed bytes only; it never sees
//! a key in clear.

use super::columns::ms;
use super::sql::{SqlBackend, transaction};
use super::*;

#[async_trait]
pub trait SealedKeyStore {
    /// The sealed bytes stored under `name`, if any.
    async fn sealed_key(&self, name: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Stores `sealed` under `name` unless a key is there already, and returns what is
    /// stored then: these bytes, or the ones another replica stored first. Replicas that
    /// start at once thus agree on one key.
    async fn create_sealed_key(
        &self,
        name: &str,
        sealed: &[u8],
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<u8>>;
    /// Replaces the key under `name` with `sealed` if it still holds `expected`; returns
    /// whether it did. A replica that read an older value (another rotated meanwhile)
    /// writes nothing and reads again.
    async fn replace_sealed_key(
        &self,
        name: &str,
        expected: &[u8],
        sealed: &[u8],
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
}

#[async_trait]
impl<B: SqlBackend> SealedKeyStore for B {
    async fn sealed_key(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        B::query("SELECT sealed FROM sealed_keys WHERE name = $1")
            .bind(name)
            .scalar_optional(self.reader())
            .await
    }

    async fn create_sealed_key(
        &self,
        name: &str,
        sealed: &[u8],
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<u8>> {
        transaction(self, async |tx| {
            B::query(
                "INSERT INTO sealed_keys (name, sealed, updated_at) VALUES ($1, $2, $3)
                     ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(sealed)
            .bind(ms(at))
            .execute(&mut *tx)
            .await?;
            B::query("SELECT sealed FROM sealed_keys WHERE name = $1")
                .bind(name)
                .scalar(&mut *tx)
                .await
        })
        .await
    }

    async fn replace_sealed_key(
        &self,
        name: &str,
        expected: &[u8],
        sealed: &[u8],
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        transaction(self, async |tx| {
            let done = B::query(
                "UPDATE sealed_keys SET sealed = $1, updated_at = $2
                     WHERE name = $3 AND sealed = $4",
            )
            .bind(sealed)
            .bind(ms(at))
            .bind(name)
            .bind(expected)
            .execute(&mut *tx)
            .await?;
            Ok(done == 1)
        })
        .await
    }
}
