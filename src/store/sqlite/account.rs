//! SQLite side of [`AccountStore`]: the account row and the first-run setup.

use super::*;
use crate::store::AccountStore;

#[async_trait]
impl AccountStore for SqliteStore {
    async fn user_count(&self) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.reader)
            .await
            .map_err(backend)?;
        Ok(n as u64)
    }

    async fn setup(
        &self,
        account: &AccountRecord,
        user: &UserRecord,
        audit: &NewAuditEvent,
    ) -> StoreResult<()> {
        self.writer.transaction(async |tx| {
            let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
            if users > 0 {
                return Err(StoreError::Duplicate("account"));
            }
            sqlx::query(
                "INSERT INTO account (id, name, created_at, api_key, api_secret_sealed, api_key_created_at)
                 VALUES (1, ?, ?, ?, ?, ?)",
            )
            .bind(&account.account.name)
            .bind(ms(account.account.created_at))
            .bind(&account.api_key)
            .bind(&account.api_secret_sealed)
            .bind(ms(account.api_key_created_at))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            insert_user_row(tx, user).await?;
            insert_audit(tx, audit).await
        })
        .await
    }

    async fn account(&self) -> StoreResult<AccountRecord> {
        let row = sqlx::query(
            "SELECT name, created_at, api_key, api_secret_sealed, api_key_created_at FROM account WHERE id = 1",
        )
        .fetch_one(&self.reader)
        .await
        .map_err(backend)?;
        Ok(AccountRecord {
            account: Account {
                name: row.try_get("name").map_err(backend)?,
                created_at: from_ms(row.try_get("created_at").map_err(backend)?),
            },
            api_key: row.try_get("api_key").map_err(backend)?,
            api_secret_sealed: row.try_get("api_secret_sealed").map_err(backend)?,
            api_key_created_at: from_ms(row.try_get("api_key_created_at").map_err(backend)?),
        })
    }

    async fn rename_account(&self, name: &str, audit: &NewAuditEvent) -> StoreResult<Account> {
        self.writer
            .transaction(async |tx| {
                let done = sqlx::query("UPDATE account SET name = ? WHERE id = 1")
                    .bind(name)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                found(&done)?;
                insert_audit(tx, audit).await?;
                let row = sqlx::query("SELECT name, created_at FROM account WHERE id = 1")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(backend)?;
                Ok(Account {
                    name: row.try_get("name").map_err(backend)?,
                    created_at: from_ms(row.try_get("created_at").map_err(backend)?),
                })
            })
            .await
    }

    async fn replace_api_key(
        &self,
        key: &str,
        sealed_secret: &[u8],
        at: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> StoreResult<()> {
        self.writer.transaction(async |tx| {
            sqlx::query(
                "UPDATE account SET api_key = ?, api_secret_sealed = ?, api_key_created_at = ? WHERE id = 1",
            )
            .bind(key)
            .bind(sealed_secret)
            .bind(ms(at))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            insert_audit(tx, audit).await
        })
        .await
    }
}
