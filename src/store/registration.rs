//! Clients that register themselves: the policy for them, the Súper Administrador's
//! decision on a pending one, and the initial access tokens (RFC 7591 §3) that let an
//! automation register straight into a group.

use super::audit::insert_audit;
use super::columns::{from_ms, ms, to_json};
use super::consumers::{CONSUMER_COLUMNS, CONSUMER_FROM, consumer_by_id, consumer_of};
use super::sql::{Columns, Sql, SqlBackend, transaction};
use super::*;
use crate::domain::registration::RegistrationSettings;
use sqlx::AssertSqlSafe;

/// An initial access token, by the digest of the token (never the token).
#[derive(Debug, Clone, PartialEq)]
pub struct InitialAccessTokenRecord {
    pub id: Uuid,
    pub name: String,
    pub digest: [u8; 32],
    pub group_id: Uuid,
    pub group_name: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

#[async_trait]
pub trait RegistrationStore {
    async fn registration_settings(&self) -> StoreResult<RegistrationSettings>;
    /// Sets the policy and its group; `InvalidReference` when the group does not exist.
    async fn set_registration_settings(
        &self,
        settings: &RegistrationSettings,
        audit: &NewAuditEvent,
    ) -> StoreResult<RegistrationSettings>;
    /// Every consumer waiting for approval, oldest first.
    async fn pending_consumers(&self) -> StoreResult<Vec<Consumer>>;
    async fn pending_count(&self) -> StoreResult<u64>;
    /// Records the decision on a pending consumer: `approval`, in `group_id` when given.
    /// `Stale` when it is no longer pending (decided meanwhile), `NotFound` when gone.
    async fn decide_consumer(
        &self,
        id: Uuid,
        approval: Approval,
        group_id: Option<Uuid>,
        at: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> StoreResult<Consumer>;
    /// A metadata document's client as its document now says (name, description and
    /// redirect URIs), without an audit entry: the client, not an admin, changed it.
    async fn refresh_document_client(
        &self,
        id: Uuid,
        fields: &ValidConsumer,
        at: DateTime<Utc>,
    ) -> StoreResult<Consumer>;
    async fn insert_initial_access_token(
        &self,
        token: &InitialAccessTokenRecord,
        audit: &NewAuditEvent,
    ) -> StoreResult<InitialAccessTokenRecord>;
    async fn initial_access_tokens(&self) -> StoreResult<Vec<InitialAccessTokenRecord>>;
    async fn initial_access_token(
        &self,
        digest: &[u8; 32],
    ) -> StoreResult<InitialAccessTokenRecord>;
    async fn delete_initial_access_token(&self, id: Uuid, audit: &NewAuditEvent)
    -> StoreResult<()>;
}

fn settings_of<R: Columns>(row: &R) -> StoreResult<RegistrationSettings>
where
    R::Database: Sql,
{
    let policy: String = row.col("policy")?;
    Ok(RegistrationSettings {
        policy: RegistrationPolicy::parse(&policy).ok_or(StoreError::Corrupt("policy"))?,
        group_id: row.col("group_id")?,
        group_name: row.col("group_name")?,
        updated_at: from_ms(row.col("updated_at")?),
        updated_by: row.col("updated_by")?,
    })
}

const SETTINGS: &str = "SELECT r.policy, r.group_id, g.name AS group_name, r.updated_at,
        r.updated_by
     FROM client_registration r LEFT JOIN permission_groups g ON g.id = r.group_id
     WHERE r.id = 1";

const TOKEN_COLUMNS: &str = "t.id, t.name, t.digest, t.group_id, g.name AS group_name,
        t.expires_at, t.created_at, t.created_by
     FROM initial_access_tokens t JOIN permission_groups g ON g.id = t.group_id";

fn token_of<R: Columns>(row: &R) -> StoreResult<InitialAccessTokenRecord>
where
    R::Database: Sql,
{
    let digest: Vec<u8> = row.col("digest")?;
    Ok(InitialAccessTokenRecord {
        id: row.col("id")?,
        name: row.col("name")?,
        digest: digest
            .try_into()
            .map_err(|_| StoreError::Corrupt("initial access token digest"))?,
        group_id: row.col("group_id")?,
        group_name: row.col("group_name")?,
        expires_at: from_ms(row.col("expires_at")?),
        created_at: from_ms(row.col("created_at")?),
        created_by: row.col("created_by")?,
    })
}

#[async_trait]
impl<B: SqlBackend> RegistrationStore for B {
    async fn registration_settings(&self) -> StoreResult<RegistrationSettings> {
        settings_of(&B::query(SETTINGS).fetch_one(self.reader()).await?)
    }

    async fn set_registration_settings(
        &self,
        settings: &RegistrationSettings,
        audit: &NewAuditEvent,
    ) -> StoreResult<RegistrationSettings> {
        transaction(self, async |tx| {
            B::query(
                "UPDATE client_registration SET policy = $1, group_id = $2, updated_at = $3,
                         updated_by = $4
                     WHERE id = 1",
            )
            .bind(settings.policy.as_str())
            .bind(settings.group_id)
            .bind(ms(settings.updated_at))
            .bind(&settings.updated_by)
            .execute_found(&mut *tx)
            .await?;
            insert_audit::<B::Db>(tx, audit).await?;
            settings_of(&B::query(SETTINGS).fetch_one(&mut *tx).await?)
        })
        .await
    }

    async fn pending_consumers(&self) -> StoreResult<Vec<Consumer>> {
        B::query(AssertSqlSafe(format!(
            "SELECT {CONSUMER_COLUMNS} {CONSUMER_FROM} WHERE c.approval = 'pending'
             ORDER BY c.id"
        )))
        .fetch_all(self.reader())
        .await?
        .iter()
        .map(consumer_of)
        .collect()
    }

    async fn pending_count(&self) -> StoreResult<u64> {
        let n: i64 = B::query("SELECT COUNT(*) FROM consumers WHERE approval = 'pending'")
            .scalar(self.reader())
            .await?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    async fn decide_consumer(
        &self,
        id: Uuid,
        approval: Approval,
        group_id: Option<Uuid>,
        at: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> StoreResult<Consumer> {
        transaction(self, async |tx| {
            let done = B::query(
                "UPDATE consumers SET approval = $1,
                         permission_group_id = COALESCE($2, permission_group_id),
                         updated_at = $3, version = version + 1
                     WHERE id = $4 AND approval = 'pending'",
            )
            .bind(approval.as_str())
            .bind(group_id)
            .bind(ms(at))
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if done == 0 {
                // Gone, or decided by someone else meanwhile.
                let current = consumer_by_id::<B::Db>(&mut *tx, id).await?;
                return Err(if current.approval == Approval::Pending {
                    StoreError::NotFound
                } else {
                    StoreError::Stale
                });
            }
            insert_audit::<B::Db>(tx, audit).await?;
            consumer_by_id::<B::Db>(tx, id).await
        })
        .await
    }

    async fn refresh_document_client(
        &self,
        id: Uuid,
        fields: &ValidConsumer,
        at: DateTime<Utc>,
    ) -> StoreResult<Consumer> {
        transaction(self, async |tx| {
            B::query(
                "UPDATE consumers SET description = $1, redirect_uris = $2, updated_at = $3,
                         version = version + 1
                     WHERE id = $4",
            )
            .bind(&fields.description)
            .bind(to_json("redirect_uris", &fields.redirect_uris)?)
            .bind(ms(at))
            .bind(id)
            .execute_found(&mut *tx)
            .await?;
            consumer_by_id::<B::Db>(tx, id).await
        })
        .await
    }

    async fn insert_initial_access_token(
        &self,
        token: &InitialAccessTokenRecord,
        audit: &NewAuditEvent,
    ) -> StoreResult<InitialAccessTokenRecord> {
        transaction(self, async |tx| {
            B::query(
                "INSERT INTO initial_access_tokens (id, name, digest, group_id, expires_at,
                         created_at, created_by)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(token.id)
            .bind(&token.name)
            .bind(&token.digest[..])
            .bind(token.group_id)
            .bind(ms(token.expires_at))
            .bind(ms(token.created_at))
            .bind(&token.created_by)
            .execute(&mut *tx)
            .await?;
            insert_audit::<B::Db>(tx, audit).await?;
            token_of(
                &B::query(AssertSqlSafe(format!(
                    "SELECT {TOKEN_COLUMNS} WHERE t.id = $1"
                )))
                .bind(token.id)
                .fetch_one(&mut *tx)
                .await?,
            )
        })
        .await
    }

    async fn initial_access_tokens(&self) -> StoreResult<Vec<InitialAccessTokenRecord>> {
        B::query(AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} ORDER BY t.created_at, t.id"
        )))
        .fetch_all(self.reader())
        .await?
        .iter()
        .map(token_of)
        .collect()
    }

    async fn initial_access_token(
        &self,
        digest: &[u8; 32],
    ) -> StoreResult<InitialAccessTokenRecord> {
        token_of(
            &B::query(AssertSqlSafe(format!(
                "SELECT {TOKEN_COLUMNS} WHERE t.digest = $1"
            )))
            .bind(&digest[..])
            .fetch_one(self.reader())
            .await?,
        )
    }

    async fn delete_initial_access_token(
        &self,
        id: Uuid,
        audit: &NewAuditEvent,
    ) -> StoreResult<()> {
        transaction(self, async |tx| {
            B::query("DELETE FROM initial_access_tokens WHERE id = $1")
                .bind(id)
                .execute_found(&mut *tx)
                .await?;
            insert_audit::<B::Db>(tx, audit).await
        })
        .await
    }
}
