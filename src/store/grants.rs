//! OAuth authorization codes, refresh tokens and revocations.
//!
//! Spending a code or a refresh token locks its row (`FOR UPDATE` on PostgreSQL; on SQLite
//! the one writer holds the whole database): two replicas given the same one at once must
//! not both see it unspent.

use super::columns::{from_ms, ms};
use super::sql::{Columns, Dialect, Sql, SqlBackend, query, transaction};
use super::*;
use sqlx::{AssertSqlSafe, Database};

#[async_trait]
pub trait GrantStore {
    async fn insert_authorization_code(&self, code: &AuthorizationCodeRecord) -> StoreResult<()>;
    /// Marks the code spent; `NotFound` when no such code exists.
    async fn consume_authorization_code(
        &self,
        digest: &[u8; 32],
        at: DateTime<Utc>,
    ) -> StoreResult<CodeUse>;
    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> StoreResult<()>;
    /// Exchanges a refresh token of `client_id` for `replacement` in one transaction; the
    /// replacement keeps the family, consumer, user and scope of the token it replaces (only
    /// its digest and times are taken). `NotFound` when no such token of that client exists.
    async fn use_refresh_token(
        &self,
        digest: &[u8; 32],
        client_id: &str,
        replacement: &RefreshTokenRecord,
        jkt: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<RefreshUse>;
    /// A refresh token still usable (neither spent nor revoked).
    async fn live_refresh_token(&self, digest: &[u8; 32]) -> StoreResult<RefreshTokenRecord>;
    async fn revoke_refresh_family(&self, family_id: Uuid) -> StoreResult<()>;
    async fn insert_revocation(&self, revocation: &Revocation) -> StoreResult<()>;
    /// Revocations not yet moot at `now`.
    async fn revocations(&self, now: DateTime<Utc>) -> StoreResult<Vec<Revocation>>;
    /// Consumers that are disabled or whose tokens were cut after `since`.
    async fn consumer_token_states(
        &self,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<ConsumerTokenState>>;
}

fn revocation_kind(kind: RevocationKind) -> &'static str {
    match kind {
        RevocationKind::Token => "token",
        RevocationKind::Client => "client",
        RevocationKind::Grant => "grant",
    }
}

/// The kind a `revocations.kind` names.
pub(crate) fn kind_named(kind: &str) -> RevocationKind {
    match kind {
        "client" => RevocationKind::Client,
        "grant" => RevocationKind::Grant,
        _ => RevocationKind::Token,
    }
}

const REFRESH_SELECT: &str = "SELECT digest, family_id, consumer_id, client_id, user_id, scope,
        issued_at, expires_at, used_at, revoked, jkt, resource
     FROM refresh_tokens";

fn digest_of<R: Columns>(row: &R) -> StoreResult<[u8; 32]>
where
    R::Database: Sql,
{
    let digest: Vec<u8> = row.col("digest")?;
    digest
        .as_slice()
        .try_into()
        .map_err(|_| StoreError::Corrupt("refresh token digest"))
}

fn refresh_of<R: Columns>(row: &R) -> StoreResult<RefreshTokenRecord>
where
    R::Database: Sql,
{
    Ok(RefreshTokenRecord {
        digest: digest_of(row)?,
        family_id: row.col("family_id")?,
        consumer_id: row.col("consumer_id")?,
        client_id: row.col("client_id")?,
        user_id: row.col("user_id")?,
        scope: row.col("scope")?,
        issued_at: from_ms(row.col("issued_at")?),
        expires_at: from_ms(row.col("expires_at")?),
        jkt: row.col("jkt")?,
        resource: row.col("resource")?,
    })
}

async fn insert_refresh_row<DB: Sql>(
    conn: &mut <DB as Database>::Connection,
    token: &RefreshTokenRecord,
) -> StoreResult<()> {
    query::<DB>(
        "INSERT INTO refresh_tokens (digest, family_id, consumer_id, client_id, user_id, scope,
             issued_at, expires_at, jkt, resource)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&token.digest[..])
    .bind(token.family_id)
    .bind(token.consumer_id)
    .bind(&token.client_id)
    .bind(token.user_id)
    .bind(&token.scope)
    .bind(ms(token.issued_at))
    .bind(ms(token.expires_at))
    .bind(token.jkt.clone())
    .bind(token.resource.clone())
    .execute(conn)
    .await?;
    Ok(())
}

#[async_trait]
impl<B: SqlBackend> GrantStore for B {
    async fn insert_authorization_code(&self, code: &AuthorizationCodeRecord) -> StoreResult<()> {
        transaction(self, async |tx| {
            B::query(
                "INSERT INTO authorization_codes (digest, consumer_id, client_id, user_id,
                         redirect_uri, scope, code_challenge, family_id, expires_at, resource)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&code.digest[..])
            .bind(code.consumer_id)
            .bind(&code.client_id)
            .bind(code.user_id)
            .bind(&code.redirect_uri)
            .bind(&code.scope)
            .bind(&code.code_challenge)
            .bind(code.family_id)
            .bind(ms(code.expires_at))
            .bind(code.resource.clone())
            .execute(&mut *tx)
            .await?;
            // Spent and expired codes are of no further use.
            B::query("DELETE FROM authorization_codes WHERE expires_at < $1")
                .bind(ms(code.expires_at) - 3_600_000)
                .execute(&mut *tx)
                .await?;
            Ok(())
        })
        .await
    }

    async fn consume_authorization_code(
        &self,
        digest: &[u8; 32],
        at: DateTime<Utc>,
    ) -> StoreResult<CodeUse> {
        transaction(self, async |tx| {
            let row = B::query(AssertSqlSafe(format!(
                "SELECT consumer_id, client_id, user_id, redirect_uri, scope, code_challenge,
                            family_id, expires_at, used_at, resource
                     FROM authorization_codes WHERE digest = $1{}",
                <B::Db as Dialect>::FOR_UPDATE
            )))
            .bind(&digest[..])
            .fetch_one(&mut *tx)
            .await?;
            let record = AuthorizationCodeRecord {
                digest: *digest,
                consumer_id: row.col("consumer_id")?,
                client_id: row.col("client_id")?,
                user_id: row.col("user_id")?,
                redirect_uri: row.col("redirect_uri")?,
                scope: row.col("scope")?,
                code_challenge: row.col("code_challenge")?,
                family_id: row.col("family_id")?,
                expires_at: from_ms(row.col("expires_at")?),
                resource: row.col("resource")?,
            };
            let used: Option<i64> = row.col("used_at")?;
            if used.is_some() {
                return Ok(CodeUse::Reused(record));
            }
            B::query("UPDATE authorization_codes SET used_at = $1 WHERE digest = $2")
                .bind(ms(at))
                .bind(&digest[..])
                .execute(&mut *tx)
                .await?;
            Ok(CodeUse::Fresh(record))
        })
        .await
    }

    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> StoreResult<()> {
        transaction(self, async |tx| {
            insert_refresh_row::<B::Db>(tx, token).await
        })
        .await
    }

    async fn use_refresh_token(
        &self,
        digest: &[u8; 32],
        client_id: &str,
        replacement: &RefreshTokenRecord,
        jkt: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<RefreshUse> {
        transaction(self, async |tx| {
            let row = B::query(AssertSqlSafe(format!(
                "{REFRESH_SELECT} WHERE digest = $1 AND client_id = $2{}",
                <B::Db as Dialect>::FOR_UPDATE
            )))
            .bind(&digest[..])
            .bind(client_id)
            .fetch_one(&mut *tx)
            .await?;
            let record = refresh_of(&row)?;
            let used: Option<i64> = row.col("used_at")?;
            let revoked: bool = row.col("revoked")?;
            if used.is_some() || revoked {
                B::query("UPDATE refresh_tokens SET revoked = TRUE WHERE family_id = $1")
                    .bind(record.family_id)
                    .execute(&mut *tx)
                    .await?;
                return Ok(RefreshUse::Reused(record));
            }
            if record.jkt.is_some() && record.jkt.as_deref() != jkt {
                return Ok(RefreshUse::WrongKey);
            }
            B::query("UPDATE refresh_tokens SET used_at = $1 WHERE digest = $2")
                .bind(ms(at))
                .bind(&digest[..])
                .execute(&mut *tx)
                .await?;
            // The replacement continues the grant: same family, consumer, user, scope and
            // DPoP key.
            let next = RefreshTokenRecord {
                digest: replacement.digest,
                issued_at: replacement.issued_at,
                expires_at: replacement.expires_at,
                ..record.clone()
            };
            insert_refresh_row::<B::Db>(tx, &next).await?;
            Ok(RefreshUse::Rotated(record))
        })
        .await
    }

    async fn live_refresh_token(&self, digest: &[u8; 32]) -> StoreResult<RefreshTokenRecord> {
        let row = B::query(AssertSqlSafe(format!(
            "{REFRESH_SELECT} WHERE digest = $1 AND used_at IS NULL AND NOT revoked"
        )))
        .bind(&digest[..])
        .fetch_one(self.reader())
        .await?;
        refresh_of(&row)
    }

    async fn revoke_refresh_family(&self, family_id: Uuid) -> StoreResult<()> {
        transaction(self, async |tx| {
            B::query("UPDATE refresh_tokens SET revoked = TRUE WHERE family_id = $1")
                .bind(family_id)
                .execute(tx)
                .await?;
            Ok(())
        })
        .await
    }

    async fn insert_revocation(&self, revocation: &Revocation) -> StoreResult<()> {
        transaction(self, async |tx| {
            B::query(AssertSqlSafe(format!(
                "INSERT INTO revocations (kind, id, client_id, at, expires_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (kind, id) DO UPDATE SET at = excluded.at,
                         expires_at = {}(revocations.expires_at, excluded.expires_at)",
                <B::Db as Dialect>::GREATEST
            )))
            .bind(revocation_kind(revocation.kind))
            .bind(&revocation.id)
            .bind(&revocation.client_id)
            .bind(ms(revocation.at))
            .bind(ms(revocation.expires_at))
            .execute(&mut *tx)
            .await?;
            B::query("DELETE FROM revocations WHERE expires_at < $1")
                .bind(ms(revocation.at))
                .execute(&mut *tx)
                .await?;
            Ok(())
        })
        .await
    }

    async fn revocations(&self, now: DateTime<Utc>) -> StoreResult<Vec<Revocation>> {
        let rows = B::query(
            "SELECT kind, id, client_id, at, expires_at FROM revocations WHERE expires_at >= $1",
        )
        .bind(ms(now))
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.col("kind")?;
                Ok(Revocation {
                    kind: kind_named(&kind),
                    id: row.col("id")?,
                    client_id: row.col("client_id")?,
                    at: from_ms(row.col("at")?),
                    expires_at: from_ms(row.col("expires_at")?),
                })
            })
            .collect()
    }

    async fn consumer_token_states(
        &self,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<ConsumerTokenState>> {
        let rows = B::query(
            "SELECT client_id, enabled, tokens_not_before FROM consumers
             WHERE NOT enabled OR tokens_not_before > $1",
        )
        .bind(ms(since))
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ConsumerTokenState {
                    client_id: row.col("client_id")?,
                    enabled: row.col("enabled")?,
                    tokens_not_before: from_ms(row.col("tokens_not_before")?),
                })
            })
            .collect()
    }
}
