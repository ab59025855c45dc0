//! PostgreSQL side of [`ConsumerStore`]: OAuth consumers and their secrets.

use super::*;
use crate::store::ConsumerStore;

const CONSUMER_SELECT: &str = "SELECT c.id, c.name, c.description, c.grant_type, c.permission_group_id,
        g.name AS group_name, c.hub_enabled, c.enabled, c.token_format, c.access_token_alg,
        c.redirect_uris, c.client_id,
        c.secret_last_four, c.created_at, c.created_by, c.updated_at, c.version,
        c.secret_digest, c.previous_secret_digest, c.previous_secret_valid_until, c.tokens_not_before
     FROM consumers c JOIN permission_groups g ON g.id = c.permission_group_id";

fn consumer_of(row: &PgRow) -> StoreResult<Consumer> {
    let grant: String = row.try_get("grant_type").map_err(backend)?;
    let format: String = row.try_get("token_format").map_err(backend)?;
    let alg: String = row.try_get("access_token_alg").map_err(backend)?;
    Ok(Consumer {
        id: row.try_get("id").map_err(backend)?,
        name: row.try_get("name").map_err(backend)?,
        description: row.try_get("description").map_err(backend)?,
        grant_type: GrantType::parse(&grant)
            .ok_or_else(|| StoreError::Backend(format!("bad grant {grant}")))?,
        permission_group_id: row.try_get("permission_group_id").map_err(backend)?,
        permission_group_name: row.try_get("group_name").map_err(backend)?,
        hub_enabled: row.try_get("hub_enabled").map_err(backend)?,
        enabled: row.try_get("enabled").map_err(backend)?,
        token_format: TokenFormat::parse(&format)
            .ok_or_else(|| StoreError::Backend(format!("bad token format {format}")))?,
        access_token_alg: AccessTokenAlg::parse(&alg)
            .ok_or_else(|| StoreError::Backend(format!("bad access token alg {alg}")))?,
        redirect_uris: json_of(row, "redirect_uris")?,
        client_id: row.try_get("client_id").map_err(backend)?,
        secret_last_four: row.try_get("secret_last_four").map_err(backend)?,
        created_at: from_ms(row.try_get("created_at").map_err(backend)?),
        created_by: row.try_get("created_by").map_err(backend)?,
        updated_at: from_ms(row.try_get("updated_at").map_err(backend)?),
        version: row.try_get("version").map_err(backend)?,
    })
}

async fn consumer_by_id(conn: &mut PgConnection, id: Uuid) -> StoreResult<Consumer> {
    let row = sqlx::query(AssertSqlSafe(format!("{CONSUMER_SELECT} WHERE c.id = $1")))
        .bind(id)
        .fetch_one(conn)
        .await
        .map_err(backend)?;
    consumer_of(&row)
}

#[async_trait]
impl ConsumerStore for PostgresStore {
    async fn insert_consumer(
        &self,
        consumer: &ConsumerInsert,
        audit: &NewAuditEvent,
    ) -> StoreResult<Consumer> {
        let f = &consumer.fields;
        self.writer
            .transaction(async |tx| {
                sqlx::query(
                    "INSERT INTO consumers (id, name, name_key, description, grant_type,
                         permission_group_id, hub_enabled, enabled, token_format, redirect_uris,
                         client_id, secret_digest, secret_last_four, created_at, created_by,
                         updated_at, access_token_alg, version)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                         $14, $16, 1)",
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
                .bind(to_json(&f.redirect_uris)?)
                .bind(&consumer.client_id)
                .bind(&consumer.secret_digest[..])
                .bind(&consumer.secret_last_four)
                .bind(ms(consumer.created_at))
                .bind(&consumer.created_by)
                .bind(f.access_token_alg.as_str())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                insert_audit(tx, audit).await?;
                consumer_by_id(tx, consumer.id).await
            })
            .await
    }

    async fn consumer(&self, id: Uuid) -> StoreResult<Consumer> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        consumer_by_id(&mut conn, id).await
    }

    async fn consumer_credentials(&self, client_id: &str) -> StoreResult<ConsumerCredentials> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "{CONSUMER_SELECT} WHERE c.client_id = $1"
        )))
        .bind(client_id)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        let valid_until: Option<i64> = row
            .try_get("previous_secret_valid_until")
            .map_err(backend)?;
        Ok(ConsumerCredentials {
            consumer: consumer_of(&row)?,
            secret_digest: row.try_get("secret_digest").map_err(backend)?,
            previous_secret_digest: row.try_get("previous_secret_digest").map_err(backend)?,
            previous_secret_valid_until: valid_until.map(from_ms),
            tokens_not_before: from_ms(row.try_get("tokens_not_before").map_err(backend)?),
        })
    }

    async fn consumers(&self, filter: &ConsumerFilter) -> StoreResult<(Vec<Consumer>, u64)> {
        let q = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        // Keyset pagination on the primary key, so the cost of a page does not depend on how
        // deep it is; one statement per shape, as on SQLite. The name matches its key
        // lowered in ASCII only, as SQLite's lower() does, so both stores find the same.
        const MATCH: &str = "(strpos(c.name_key, $2) > 0 OR strpos(c.client_id, $3) > 0)";
        let sql = match (filter.after.is_some(), q.is_some()) {
            (false, false) => format!("{CONSUMER_SELECT} ORDER BY c.id LIMIT $1"),
            (true, false) => format!("{CONSUMER_SELECT} WHERE c.id > $2 ORDER BY c.id LIMIT $1"),
            (false, true) => format!("{CONSUMER_SELECT} WHERE {MATCH} ORDER BY c.id LIMIT $1"),
            (true, true) => {
                format!("{CONSUMER_SELECT} WHERE c.id > $4 AND {MATCH} ORDER BY c.id LIMIT $1")
            }
        };
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(i64::from(filter.limit));
        if let Some(q) = q {
            query = query.bind(q.to_ascii_lowercase()).bind(q);
        }
        if let Some(after) = filter.after {
            query = query.bind(after);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(backend)?;
        let items = rows
            .iter()
            .map(consumer_of)
            .collect::<StoreResult<Vec<_>>>()?;
        let total: i64 = match q {
            None => sqlx::query_scalar("SELECT value FROM counters WHERE name = 'consumers'")
                .fetch_one(&self.pool)
                .await
                .map_err(backend)?,
            Some(q) => sqlx::query_scalar(
                "SELECT COUNT(*) FROM consumers c
                 WHERE strpos(c.name_key, $1) > 0 OR strpos(c.client_id, $2) > 0",
            )
            .bind(q.to_ascii_lowercase())
            .bind(q)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?,
        };
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
        self.writer
            .transaction(async |tx| {
                let done = sqlx::query(
                    "UPDATE consumers SET name = $1, name_key = $2, description = $3,
                         permission_group_id = $4, hub_enabled = $5, enabled = $6,
                         token_format = $7, redirect_uris = $8, updated_at = $9,
                         access_token_alg = $10, version = version + 1
                     WHERE id = $11 AND version = $12",
                )
                .bind(&f.name)
                .bind(name_key(&f.name))
                .bind(&f.description)
                .bind(f.permission_group_id)
                .bind(f.hub_enabled)
                .bind(f.enabled)
                .bind(f.token_format.as_str())
                .bind(to_json(&f.redirect_uris)?)
                .bind(ms(at))
                .bind(f.access_token_alg.as_str())
                .bind(id)
                .bind(expected_version)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                if done.rows_affected() == 0 {
                    return Err(missing_or_stale(tx, Table::Consumers, id).await);
                }
                insert_audit(tx, audit).await?;
                consumer_by_id(tx, id).await
            })
            .await
    }

    async fn rotate_consumer_secret(
        &self,
        id: Uuid,
        rotation: &SecretRotation,
        audit: &NewAuditEvent,
    ) -> StoreResult<Consumer> {
        self.writer
            .transaction(async |tx| {
                let done = sqlx::query(
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
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                found(&done)?;
                insert_audit(tx, audit).await?;
                consumer_by_id(tx, id).await
            })
            .await
    }

    async fn delete_consumer(&self, id: Uuid, audit: &NewAuditEvent) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| {
                let done = sqlx::query("DELETE FROM consumers WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                found(&done)?;
                insert_audit(tx, audit).await
            })
            .await
    }
}
