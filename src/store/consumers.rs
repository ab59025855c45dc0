//! OAuth consumers and their secrets.

use super::audit::insert_audit;
use super::columns::{
    Versioned, count_of, from_json, from_ms, missing_or_stale, ms, name_key, to_json,
};
use super::sql::{Columns, Dialect, On, Sql, SqlBackend, query, transaction};
use super::*;
use sqlx::AssertSqlSafe;

#[async_trait]
pub trait ConsumerStore {
    async fn insert_consumer(
        &self,
        consumer: &ConsumerInsert,
        audit: &NewAuditEvent,
    ) -> StoreResult<Consumer>;
    async fn consumer(&self, id: Uuid) -> StoreResult<Consumer>;
    async fn consumer_credentials(&self, client_id: &str) -> StoreResult<ConsumerCredentials>;
    /// One page in id order, and the total matching the filter.
    async fn consumers(&self, filter: &ConsumerFilter) -> StoreResult<(Vec<Consumer>, u64)>;
    async fn update_consumer(
        &self,
        id: Uuid,
        fields: &ValidConsumer,
        expected_version: i64,
        at: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> StoreResult<Consumer>;
    async fn rotate_consumer_secret(
        &self,
        id: Uuid,
        rotation: &SecretRotation,
        audit: &NewAuditEvent,
    ) -> StoreResult<Consumer>;
    async fn delete_consumer(&self, id: Uuid, audit: &NewAuditEvent) -> StoreResult<()>;
}

/// What a consumer shows: its row and its permission group's name.
pub(super) const CONSUMER_COLUMNS: &str =
    "c.id, c.name, c.description, c.grant_type, c.permission_group_id,
        g.name AS group_name, c.hub_enabled, c.enabled, c.token_format, c.access_token_alg,
        c.redirect_uris, c.client_id, c.auth_method, c.jwks, c.jwks_uri, c.require_dpop,
        c.origin,
        c.approval, c.secret_last_four, c.created_at, c.created_by, c.updated_at, c.version";
pub(super) const CONSUMER_FROM: &str =
    "FROM consumers c JOIN permission_groups g ON g.id = c.permission_group_id";

pub(super) fn consumer_of<R: Columns>(row: &R) -> StoreResult<Consumer>
where
    R::Database: Sql,
{
    let grant: String = row.col("grant_type")?;
    let format: String = row.col("token_format")?;
    let alg: String = row.col("access_token_alg")?;
    let auth_method: String = row.col("auth_method")?;
    let jwks: Option<String> = row.col("jwks")?;
    let origin: String = row.col("origin")?;
    let approval: String = row.col("approval")?;
    Ok(Consumer {
        id: row.col("id")?,
        name: row.col("name")?,
        description: row.col("description")?,
        grant_type: GrantType::parse(&grant).ok_or(StoreError::Corrupt("grant type"))?,
        permission_group_id: row.col("permission_group_id")?,
        permission_group_name: row.col("group_name")?,
        hub_enabled: row.col("hub_enabled")?,
        enabled: row.col("enabled")?,
        token_format: TokenFormat::parse(&format).ok_or(StoreError::Corrupt("token format"))?,
        access_token_alg: AccessTokenAlg::parse(&alg)
            .ok_or(StoreError::Corrupt("access token alg"))?,
        redirect_uris: from_json("redirect_uris", &row.col::<String>("redirect_uris")?)?,
        client_id: row.col("client_id")?,
        auth_method: AuthMethod::parse(&auth_method).ok_or(StoreError::Corrupt("auth method"))?,
        jwks: jwks.map(|text| from_json("jwks", &text)).transpose()?,
        jwks_uri: row.col("jwks_uri")?,
        require_dpop: row.col("require_dpop")?,
        origin: ConsumerOrigin::parse(&origin).ok_or(StoreError::Corrupt("origin"))?,
        approval: Approval::parse(&approval).ok_or(StoreError::Corrupt("approval"))?,
        secret_last_four: row.col("secret_last_four")?,
        created_at: from_ms(row.col("created_at")?),
        created_by: row.col("created_by")?,
        updated_at: from_ms(row.col("updated_at")?),
        version: row.col("version")?,
    })
}

/// The `jwks` column of these fields: the public keys' JWKS, or NULL.
fn jwks_text(fields: &ValidConsumer) -> StoreResult<Option<String>> {
    fields
        .jwks
        .as_ref()
        .map(|keys| to_json("jwks", keys))
        .transpose()
}

pub(super) async fn consumer_by_id<DB: Sql>(on: impl On<DB>, id: Uuid) -> StoreResult<Consumer> {
    let row = query::<DB>(AssertSqlSafe(format!(
        "SELECT {CONSUMER_COLUMNS} {CONSUMER_FROM} WHERE c.id = $1"
    )))
    .bind(id)
    .fetch_one(on)
    .await?;
    consumer_of(&row)
}

#[async_trait]
impl<B: SqlBackend> ConsumerStore for B {
    async fn insert_consumer(
        &self,
        consumer: &ConsumerInsert,
        audit: &NewAuditEvent,
    ) -> StoreResult<Consumer> {
        let f = &consumer.fields;
        transaction(self, async |tx| {
            B::query(
                "INSERT INTO consumers (id, name, name_key, description, grant_type,
                         permission_group_id, hub_enabled, enabled, token_format, redirect_uris,
                         client_id, secret_digest, secret_last_four, created_at, created_by,
                         updated_at, access_token_alg, auth_method, jwks, require_dpop,
                         origin, approval, registration_token_digest, jwks_uri, version)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                         $14, $16, $17, $18, $19, $20, $21, $22, $23, 1)",
            )
            .bind(consumer.id)
            .bind(&f.name)
            .bind(name_key(&f.name))
            .bind(&f.description)
            .bind(f.grant_type.as_str())
            .bind(f.permission_group_id)
            .bind(f.hub_enabled)
            .bind(f.enabled)
            .bind(f.token_format.as_str())
            .bind(to_json("redirect_uris", &f.redirect_uris)?)
            .bind(&consumer.client_id)
            // An empty digest matches no secret: a key pair's or a public consumer has none.
            .bind(
                consumer
                    .secret_digest
                    .map(|d| d.to_vec())
                    .unwrap_or_default(),
            )
            .bind(&consumer.secret_last_four)
            .bind(ms(consumer.created_at))
            .bind(&consumer.created_by)
            .bind(f.access_token_alg.as_str())
            .bind(f.auth_method.as_str())
            .bind(jwks_text(f)?)
            .bind(f.require_dpop)
            .bind(consumer.origin.as_str())
            .bind(consumer.approval.as_str())
            .bind(consumer.registration_token_digest.map(|d| d.to_vec()))
            .bind(f.jwks_uri.clone())
            .execute(&mut *tx)
            .await?;
            insert_audit::<B::Db>(tx, audit).await?;
            consumer_by_id::<B::Db>(tx, consumer.id).await
        })
        .await
    }

    async fn consumer(&self, id: Uuid) -> StoreResult<Consumer> {
        consumer_by_id::<B::Db>(self.reader(), id).await
    }

    async fn consumer_credentials(&self, client_id: &str) -> StoreResult<ConsumerCredentials> {
        let row = B::query(AssertSqlSafe(format!(
            "SELECT {CONSUMER_COLUMNS}, c.secret_digest, c.previous_secret_digest,
                    c.previous_secret_valid_until, c.tokens_not_before,
                    c.registration_token_digest
             {CONSUMER_FROM} WHERE c.client_id = $1"
        )))
        .bind(client_id)
        .fetch_one(self.reader())
        .await?;
        let valid_until: Option<i64> = row.col("previous_secret_valid_until")?;
        Ok(ConsumerCredentials {
            consumer: consumer_of(&row)?,
            secret_digest: row.col("secret_digest")?,
            previous_secret_digest: row.col("previous_secret_digest")?,
            previous_secret_valid_until: valid_until.map(from_ms),
            tokens_not_before: from_ms(row.col("tokens_not_before")?),
            registration_token_digest: row.col("registration_token_digest")?,
        })
    }

    async fn consumers(&self, filter: &ConsumerFilter) -> StoreResult<(Vec<Consumer>, u64)> {
        let q = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        // Keyset pagination on the primary key, so the cost of a page does not depend on how
        // deep it is. One statement per shape: with `$1 IS NULL OR c.id > $1` SQLite cannot
        // use the key's index and scans from the start. The name matches its key lowered in
        // ASCII only, as SQLite's lower() does, so both stores find the same.
        let position = <B::Db as Dialect>::POSITION;
        // The search's two parameters, numbered from `first`.
        let matches = |first: u8| {
            format!(
                "({position}(c.name_key, ${first}) > 0 OR {position}(c.client_id, ${}) > 0)",
                first + 1
            )
        };
        let wanted = match (filter.after.is_some(), q.is_some()) {
            (false, false) => String::new(),
            (true, false) => "WHERE c.id > $2".to_string(),
            (false, true) => format!("WHERE {}", matches(2)),
            (true, true) => format!("WHERE c.id > $4 AND {}", matches(2)),
        };
        let total = |first: u8| match q {
            None => "SELECT value FROM counters WHERE name = 'consumers'".to_string(),
            Some(_) => format!("SELECT COUNT(*) FROM consumers c WHERE {}", matches(first)),
        };
        // The total rides on the page's rows (a subquery both databases run once), so a
        // page is one round trip; only an empty page asks for it on its own.
        let sql = format!(
            "SELECT {CONSUMER_COLUMNS}, ({}) AS total {CONSUMER_FROM} {wanted}
             ORDER BY c.id LIMIT $1",
            total(2)
        );
        let mut statement = B::query(AssertSqlSafe(sql)).bind(i64::from(filter.limit));
        if let Some(q) = q {
            statement = statement.bind(q.to_ascii_lowercase()).bind(q);
        }
        if let Some(after) = filter.after {
            statement = statement.bind(after);
        }
        let rows = statement.fetch_all(self.reader()).await?;
        let total: i64 = match rows.first() {
            Some(row) => row.col("total")?,
            None => {
                let mut alone = B::query(AssertSqlSafe(total(1)));
                if let Some(q) = q {
                    alone = alone.bind(q.to_ascii_lowercase()).bind(q);
                }
                alone.scalar(self.reader()).await?
            }
        };
        let items = rows
            .iter()
            .map(consumer_of)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((items, count_of(total)))
    }

    async fn update_consumer(
        &self,
        id: Uuid,
        f: &ValidConsumer,
        expected_version: i64,
        at: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> StoreResult<Consumer> {
        transaction(self, async |tx| {
            let done = B::query(
                "UPDATE consumers SET name = $1, name_key = $2, description = $3,
                         permission_group_id = $4, hub_enabled = $5, enabled = $6,
                         token_format = $7, redirect_uris = $8, updated_at = $9,
                         access_token_alg = $10, jwks = $11, require_dpop = $12,
                         jwks_uri = $15, version = version + 1
                     WHERE id = $13 AND version = $14",
            )
            .bind(&f.name)
            .bind(name_key(&f.name))
            .bind(&f.description)
            .bind(f.permission_group_id)
            .bind(f.hub_enabled)
            .bind(f.enabled)
            .bind(f.token_format.as_str())
            .bind(to_json("redirect_uris", &f.redirect_uris)?)
            .bind(ms(at))
            .bind(f.access_token_alg.as_str())
            .bind(jwks_text(f)?)
            .bind(f.require_dpop)
            .bind(id)
            .bind(expected_version)
            .bind(f.jwks_uri.clone())
            .execute(&mut *tx)
            .await?;
            if done == 0 {
                return Err(missing_or_stale::<B::Db>(tx, Versioned::Consumers, id).await);
            }
            insert_audit::<B::Db>(tx, audit).await?;
            consumer_by_id::<B::Db>(tx, id).await
        })
        .await
    }

    async fn rotate_consumer_secret(
        &self,
        id: Uuid,
        rotation: &SecretRotation,
        audit: &NewAuditEvent,
    ) -> StoreResult<Consumer> {
        transaction(self, async |tx| {
            B::query(
                "UPDATE consumers SET secret_digest = $1, secret_last_four = $2,
                         previous_secret_digest = $3, previous_secret_valid_until = $4,
                         tokens_not_before = COALESCE($5, tokens_not_before),
                         updated_at = $6, version = version + 1
                     WHERE id = $7",
            )
            .bind(&rotation.secret_digest[..])
            .bind(&rotation.secret_last_four)
            .bind(rotation.previous_secret_digest.map(|d| d.to_vec()))
            .bind(rotation.previous_secret_valid_until.map(ms))
            .bind(rotation.tokens_not_before.map(ms))
            .bind(ms(rotation.at))
            .bind(id)
            .execute_found(&mut *tx)
            .await?;
            insert_audit::<B::Db>(tx, audit).await?;
            consumer_by_id::<B::Db>(tx, id).await
        })
        .await
    }

    async fn delete_consumer(&self, id: Uuid, audit: &NewAuditEvent) -> StoreResult<()> {
        transaction(self, async |tx| {
            B::query("DELETE FROM consumers WHERE id = $1")
                .bind(id)
                .execute_found(&mut *tx)
                .await?;
            insert_audit::<B::Db>(tx, audit).await
        })
        .await
    }
}
