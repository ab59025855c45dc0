//! Users' SSH public keys (DESIGN §7).

use super::audit::insert_audit;
use super::columns::{from_ms, ms};
use super::sql::{Columns, Dialect, Sql, SqlBackend, transaction};
use super::users::{USER_COLUMNS, user_of};
use super::*;
use crate::domain::ssh_key::SshKey;
use sqlx::AssertSqlSafe;

/// A stored key: what the API shows, whose it is, and the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshKeyRecord {
    pub key: SshKey,
    pub user_id: Uuid,
    /// The OpenSSH line without its comment.
    pub public_key: String,
}

#[async_trait]
pub trait SshKeyStore {
    /// Adds a key; `Duplicate("fingerprint")` when any user has it already.
    async fn insert_ssh_key(&self, key: &SshKeyRecord, audit: &NewAuditEvent) -> StoreResult<()>;
    /// A user's keys, oldest first.
    async fn ssh_keys_of(&self, user_id: Uuid) -> StoreResult<Vec<SshKeyRecord>>;
    /// The key with this fingerprint and its user.
    async fn ssh_key_by_fingerprint(
        &self,
        fingerprint: &str,
    ) -> StoreResult<(SshKeyRecord, UserRecord)>;
    /// The user holding this key now; `NotFound` once the key is removed.
    async fn ssh_key_holder(&self, id: Uuid) -> StoreResult<UserRecord>;
    /// Removes one of a user's keys; `NotFound` when that user has no such key.
    async fn delete_ssh_key(
        &self,
        user_id: Uuid,
        id: Uuid,
        audit: &NewAuditEvent,
    ) -> StoreResult<SshKeyRecord>;
}

const KEY_COLUMNS: &str = "k.id, k.user_id, k.name, k.public_key, k.fingerprint, k.created_at";

fn key_of<R: Columns>(row: &R) -> StoreResult<SshKeyRecord>
where
    R::Database: Sql,
{
    Ok(SshKeyRecord {
        key: SshKey {
            id: row.col("id")?,
            name: row.col("name")?,
            fingerprint: row.col("fingerprint")?,
            created_at: from_ms(row.col("created_at")?),
        },
        user_id: row.col("user_id")?,
        public_key: row.col("public_key")?,
    })
}

/// The user columns of a join, under the `u.` alias.
fn user_columns() -> String {
    USER_COLUMNS
        .split(", ")
        .map(|c| format!("u.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait]
impl<B: SqlBackend> SshKeyStore for B {
    async fn insert_ssh_key(&self, key: &SshKeyRecord, audit: &NewAuditEvent) -> StoreResult<()> {
        transaction(self, async |tx| {
            B::query(
                "INSERT INTO ssh_keys (id, user_id, name, public_key, fingerprint, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(key.key.id)
            .bind(key.user_id)
            .bind(&key.key.name)
            .bind(&key.public_key)
            .bind(&key.key.fingerprint)
            .bind(ms(key.key.created_at))
            .execute(&mut *tx)
            .await?;
            insert_audit::<B::Db>(tx, audit).await
        })
        .await
    }

    async fn ssh_keys_of(&self, user_id: Uuid) -> StoreResult<Vec<SshKeyRecord>> {
        let rows = B::query(AssertSqlSafe(format!(
            "SELECT {KEY_COLUMNS} FROM ssh_keys k WHERE k.user_id = $1 ORDER BY k.id"
        )))
        .bind(user_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(key_of).collect()
    }

    async fn ssh_key_by_fingerprint(
        &self,
        fingerprint: &str,
    ) -> StoreResult<(SshKeyRecord, UserRecord)> {
        let key = B::query(AssertSqlSafe(format!(
            "SELECT {KEY_COLUMNS} FROM ssh_keys k WHERE k.fingerprint = $1"
        )))
        .bind(fingerprint)
        .fetch_one(self.reader())
        .await
        .and_then(|row| key_of(&row))?;
        let user = self.user(key.user_id).await?;
        Ok((key, user))
    }

    async fn ssh_key_holder(&self, id: Uuid) -> StoreResult<UserRecord> {
        let row = B::query(AssertSqlSafe(format!(
            "SELECT {} FROM users u JOIN ssh_keys k ON k.user_id = u.id WHERE k.id = $1",
            user_columns()
        )))
        .bind(id)
        .fetch_one(self.reader())
        .await?;
        user_of(&row)
    }

    async fn delete_ssh_key(
        &self,
        user_id: Uuid,
        id: Uuid,
        audit: &NewAuditEvent,
    ) -> StoreResult<SshKeyRecord> {
        transaction(self, async |tx| {
            let row = B::query(AssertSqlSafe(format!(
                "SELECT {KEY_COLUMNS} FROM ssh_keys k WHERE k.id = $1 AND k.user_id = $2{}",
                <B::Db as Dialect>::FOR_UPDATE
            )))
            .bind(id)
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
            let key = key_of(&row)?;
            B::query("DELETE FROM ssh_keys WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            insert_audit::<B::Db>(tx, audit).await?;
            Ok(key)
        })
        .await
    }
}
