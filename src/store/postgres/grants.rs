//! PostgreSQL side of [`GrantStore`]: authorization codes, refresh tokens and revocations.
//!
//! Spending a code or a refresh token locks its row (`FOR UPDATE`): two replicas given the
//! same one at once must not both see it unspent.

use super::*;
use crate::store::GrantStore;

fn revocation_kind(kind: RevocationKind) -> &'static str {
    match kind {
        RevocationKind::Token => "token",
        RevocationKind::Client => "client",
        RevocationKind::Grant => "grant",
    }
}

/// The kind a `revocations.kind` names.
pub(super) fn kind_named(kind: &str) -> RevocationKind {
    match kind {
        "client" => RevocationKind::Client,
        "grant" => RevocationKind::Grant,
        _ => RevocationKind::Token,
    }
}

const REFRESH_SELECT: &str = "SELECT digest, family_id, consumer_id, client_id, user_id, scope,
        issued_at, expires_at, used_at, revoked
     FROM refresh_tokens";

fn digest_of(row: &PgRow) -> StoreResult<[u8; 32]> {
    let digest: Vec<u8> = row.try_get("digest").map_err(backend)?;
    digest
        .as_slice()
        .try_into()
        .map_err(|_| StoreError::Backend("bad digest".into()))
}

fn refresh_of(row: &PgRow) -> StoreResult<RefreshTokenRecord> {
    Ok(RefreshTokenRecord {
        digest: digest_of(row)?,
        family_id: row.try_get("family_id").map_err(backend)?,
        consumer_id: row.try_get("consumer_id").map_err(backend)?,
        client_id: row.try_get("client_id").map_err(backend)?,
        user_id: row.try_get("user_id").map_err(backend)?,
        scope: row.try_get("scope").map_err(backend)?,
        issued_at: from_ms(row.try_get("issued_at").map_err(backend)?),
        expires_at: from_ms(row.try_get("expires_at").map_err(backend)?),
    })
}

async fn insert_refresh_row(
    conn: &mut PgConnection,
    token: &RefreshTokenRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (digest, family_id, consumer_id, client_id, user_id, scope,
             issued_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&token.digest[..])
    .bind(token.family_id)
    .bind(token.consumer_id)
    .bind(&token.client_id)
    .bind(token.user_id)
    .bind(&token.scope)
    .bind(ms(token.issued_at))
    .bind(ms(token.expires_at))
    .execute(conn)
    .await
    .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl GrantStore for PostgresStore {
    async fn insert_authorization_code(&self, code: &AuthorizationCodeRecord) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| {
                sqlx::query(
                    "INSERT INTO authorization_codes (digest, consumer_id, client_id, user_id,
                         redirect_uri, scope, code_challenge, family_id, expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                // Spent and expired codes are of no further use.
                sqlx::query("DELETE FROM authorization_codes WHERE expires_at < $1")
                    .bind(ms(code.expires_at) - 3_600_000)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                Ok(())
            })
            .await
    }

    async fn consume_authorization_code(
        &self,
        digest: &[u8; 32],
        at: DateTime<Utc>,
    ) -> StoreResult<CodeUse> {
        self.writer
            .transaction(async |tx| {
                let row = sqlx::query(
                    "SELECT consumer_id, client_id, user_id, redirect_uri, scope, code_challenge,
                            family_id, expires_at, used_at
                     FROM authorization_codes WHERE digest = $1 FOR UPDATE",
                )
                .bind(&digest[..])
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
                let record = AuthorizationCodeRecord {
                    digest: *digest,
                    consumer_id: row.try_get("consumer_id").map_err(backend)?,
                    client_id: row.try_get("client_id").map_err(backend)?,
                    user_id: row.try_get("user_id").map_err(backend)?,
                    redirect_uri: row.try_get("redirect_uri").map_err(backend)?,
                    scope: row.try_get("scope").map_err(backend)?,
                    code_challenge: row.try_get("code_challenge").map_err(backend)?,
                    family_id: row.try_get("family_id").map_err(backend)?,
                    expires_at: from_ms(row.try_get("expires_at").map_err(backend)?),
                };
                let used: Option<i64> = row.try_get("used_at").map_err(backend)?;
                if used.is_some() {
                    return Ok(CodeUse::Reused(record));
                }
                sqlx::query("UPDATE authorization_codes SET used_at = $1 WHERE digest = $2")
                    .bind(ms(at))
                    .bind(&digest[..])
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                Ok(CodeUse::Fresh(record))
            })
            .await
    }

    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| insert_refresh_row(tx, token).await)
            .await
    }

    async fn use_refresh_token(
        &self,
        digest: &[u8; 32],
        client_id: &str,
        replacement: &RefreshTokenRecord,
        at: DateTime<Utc>,
    ) -> StoreResult<RefreshUse> {
        self.writer
            .transaction(async |tx| {
                let row = sqlx::query(AssertSqlSafe(format!(
                    "{REFRESH_SELECT} WHERE digest = $1 AND client_id = $2 FOR UPDATE"
                )))
                .bind(&digest[..])
                .bind(client_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
                let record = refresh_of(&row)?;
                let used: Option<i64> = row.try_get("used_at").map_err(backend)?;
                let revoked: bool = row.try_get("revoked").map_err(backend)?;
                if used.is_some() || revoked {
                    sqlx::query("UPDATE refresh_tokens SET revoked = TRUE WHERE family_id = $1")
                        .bind(record.family_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                    return Ok(RefreshUse::Reused(record));
                }
                sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE digest = $2")
                    .bind(ms(at))
                    .bind(&digest[..])
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                // The replacement continues the grant: same family, consumer, user and scope.
                let next = RefreshTokenRecord {
                    digest: replacement.digest,
                    issued_at: replacement.issued_at,
                    expires_at: replacement.expires_at,
                    ..record.clone()
                };
                insert_refresh_row(tx, &next).await?;
                Ok(RefreshUse::Rotated(record))
            })
            .await
    }

    async fn live_refresh_token(&self, digest: &[u8; 32]) -> StoreResult<RefreshTokenRecord> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "{REFRESH_SELECT} WHERE digest = $1 AND used_at IS NULL AND NOT revoked"
        )))
        .bind(&digest[..])
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        refresh_of(&row)
    }

    async fn revoke_refresh_family(&self, family_id: Uuid) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| {
                sqlx::query("UPDATE refresh_tokens SET revoked = TRUE WHERE family_id = $1")
                    .bind(family_id)
                    .execute(tx)
                    .await
                    .map_err(backend)?;
                Ok(())
            })
            .await
    }

    async fn insert_revocation(&self, revocation: &Revocation) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| {
                sqlx::query(
                    "INSERT INTO revocations (kind, id, client_id, at, expires_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (kind, id) DO UPDATE SET at = excluded.at,
                         expires_at = GREATEST(revocations.expires_at, excluded.expires_at)",
                )
                .bind(revocation_kind(revocation.kind))
                .bind(&revocation.id)
                .bind(&revocation.client_id)
                .bind(ms(revocation.at))
                .bind(ms(revocation.expires_at))
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                sqlx::query("DELETE FROM revocations WHERE expires_at < $1")
                    .bind(ms(revocation.at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                Ok(())
            })
            .await
    }

    async fn revocations(&self, now: DateTime<Utc>) -> StoreResult<Vec<Revocation>> {
        let rows = sqlx::query(
            "SELECT kind, id, client_id, at, expires_at FROM revocations WHERE expires_at >= $1",
        )
        .bind(ms(now))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind").map_err(backend)?;
                Ok(Revocation {
                    kind: kind_named(&kind),
                    id: row.try_get("id").map_err(backend)?,
                    client_id: row.try_get("client_id").map_err(backend)?,
                    at: from_ms(row.try_get("at").map_err(backend)?),
                    expires_at: from_ms(row.try_get("expires_at").map_err(backend)?),
                })
            })
            .collect()
    }

    async fn consumer_token_states(
        &self,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<ConsumerTokenState>> {
        let rows = sqlx::query(
            "SELECT client_id, enabled, tokens_not_before FROM consumers
             WHERE NOT enabled OR tokens_not_before > $1",
        )
        .bind(ms(since))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| {
                Ok(ConsumerTokenState {
                    client_id: row.try_get("client_id").map_err(backend)?,
                    enabled: row.try_get("enabled").map_err(backend)?,
                    tokens_not_before: from_ms(row.try_get("tokens_not_before").map_err(backend)?),
                })
            })
            .collect()
    }
}
