//! PostgreSQL side of [`SshKeyStore`].

use super::users::{USER_COLUMNS, user_of};
use super::*;
use crate::domain::ssh_key::SshKey;
use crate::store::{SshKeyRecord, SshKeyStore};

const KEY_COLUMNS: &str = "k.id, k.user_id, k.name, k.public_key, k.fingerprint, k.created_at";

fn key_of(row: &PgRow) -> StoreResult<SshKeyRecord> {
    Ok(SshKeyRecord {
        key: SshKey {
            id: row.try_get("id").map_err(backend)?,
            name: row.try_get("name").map_err(backend)?,
            fingerprint: row.try_get("fingerprint").map_err(backend)?,
            created_at: from_ms(row.try_get("created_at").map_err(backend)?),
        },
        user_id: row.try_get("user_id").map_err(backend)?,
        public_key: row.try_get("public_key").map_err(backend)?,
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
impl SshKeyStore for PostgresStore {
    async fn insert_ssh_key(&self, key: &SshKeyRecord, audit: &NewAuditEvent) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| {
                sqlx::query(
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
                .await
                .map_err(backend)?;
                insert_audit(tx, audit).await
            })
            .await
    }

    async fn ssh_keys_of(&self, user_id: Uuid) -> StoreResult<Vec<SshKeyRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {KEY_COLUMNS} FROM ssh_keys k WHERE k.user_id = $1 ORDER BY k.id"
        )))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(key_of).collect()
    }

    async fn ssh_key_by_fingerprint(
        &self,
        fingerprint: &str,
    ) -> StoreResult<(SshKeyRecord, UserRecord)> {
        let key = sqlx::query(AssertSqlSafe(format!(
            "SELECT {KEY_COLUMNS} FROM ssh_keys k WHERE k.fingerprint = $1"
        )))
        .bind(fingerprint)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)
        .and_then(|row| key_of(&row))?;
        let user = self.user(key.user_id).await?;
        Ok((key, user))
    }

    async fn ssh_key_holder(&self, id: Uuid) -> StoreResult<UserRecord> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {} FROM users u JOIN ssh_keys k ON k.user_id = u.id WHERE k.id = $1",
            user_columns()
        )))
        .bind(id)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        user_of(&row)
    }

    async fn delete_ssh_key(
        &self,
        user_id: Uuid,
        id: Uuid,
        audit: &NewAuditEvent,
    ) -> StoreResult<SshKeyRecord> {
        self.writer
            .transaction(async |tx| {
                let row = sqlx::query(AssertSqlSafe(format!(
                    "SELECT {KEY_COLUMNS} FROM ssh_keys k WHERE k.id = $1 AND k.user_id = $2 FOR UPDATE"
                )))
                .bind(id)
                .bind(user_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
                let key = key_of(&row)?;
                sqlx::query("DELETE FROM ssh_keys WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                insert_audit(tx, audit).await?;
                Ok(key)
            })
            .await
    }
}
