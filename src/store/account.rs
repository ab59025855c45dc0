//! The account and its first-run setup.

use super::audit::insert_audit;
use super::columns::{count_of, from_ms, ms};
use super::sql::{Columns, SqlBackend, transaction};
use super::users::insert_user_row;
use super::*;

#[async_trait]
pub trait AccountStore {
    async fn user_count(&self) -> StoreResult<u64>;
    /// Creates the account and its first user at once; `Duplicate("account")` when set up.
    async fn setup(
        &self,
        account: &AccountRecord,
        user: &UserRecord,
        audit: &NewAuditEvent,
    ) -> StoreResult<()>;
    async fn account(&self) -> StoreResult<AccountRecord>;
    async fn rename_account(&self, name: &str, audit: &NewAuditEvent) -> StoreResult<Account>;
    async fn replace_api_key(
        &self,
        key: &str,
        sealed_secret: &[u8],
        at: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> StoreResult<()>;
}

#[async_trait]
impl<B: SqlBackend> AccountStore for B {
    async fn user_count(&self) -> StoreResult<u64> {
        let n: i64 = B::query("SELECT COUNT(*) FROM users")
            .scalar(self.reader())
            .await?;
        Ok(count_of(n))
    }

    async fn setup(
        &self,
        account: &AccountRecord,
        user: &UserRecord,
        audit: &NewAuditEvent,
    ) -> StoreResult<()> {
        transaction(self, async |tx| {
            let users: i64 = B::query("SELECT COUNT(*) FROM users")
                .scalar(&mut *tx)
                .await?;
            if users > 0 {
                return Err(StoreError::Duplicate("account"));
            }
            // Two replicas may take a setup at once: the account's key lets one through.
            B::query(
                "INSERT INTO account (id, name, created_at, api_key, api_secret_sealed,
                     api_key_created_at)
                 VALUES (1, $1, $2, $3, $4, $5)",
            )
            .bind(&account.account.name)
            .bind(ms(account.account.created_at))
            .bind(&account.api_key)
            .bind(&account.api_secret_sealed)
            .bind(ms(account.api_key_created_at))
            .execute(&mut *tx)
            .await?;
            insert_user_row::<B::Db>(tx, user).await?;
            insert_audit::<B::Db>(tx, audit).await
        })
        .await
    }

    async fn account(&self) -> StoreResult<AccountRecord> {
        let row = B::query(
            "SELECT name, created_at, api_key, api_secret_sealed, api_key_created_at
             FROM account WHERE id = 1",
        )
        .fetch_one(self.reader())
        .await?;
        Ok(AccountRecord {
            account: Account {
                name: row.col("name")?,
                created_at: from_ms(row.col("created_at")?),
            },
            api_key: row.col("api_key")?,
            api_secret_sealed: row.col("api_secret_sealed")?,
            api_key_created_at: from_ms(row.col("api_key_created_at")?),
        })
    }

    async fn rename_account(&self, name: &str, audit: &NewAuditEvent) -> StoreResult<Account> {
        transaction(self, async |tx| {
            let row =
                B::query("UPDATE account SET name = $1 WHERE id = 1 RETURNING name, created_at")
                    .bind(name)
                    .fetch_one(&mut *tx)
                    .await?;
            insert_audit::<B::Db>(tx, audit).await?;
            Ok(Account {
                name: row.col("name")?,
                created_at: from_ms(row.col("created_at")?),
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
        transaction(self, async |tx| {
            B::query(
                "UPDATE account SET api_key = $1, api_secret_sealed = $2, api_key_created_at = $3
                 WHERE id = 1",
            )
            .bind(key)
            .bind(sealed_secret)
            .bind(ms(at))
            .execute(&mut *tx)
            .await?;
            insert_audit::<B::Db>(tx, audit).await
        })
        .await
    }
}
