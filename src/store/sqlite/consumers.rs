//! SQLite side of [`ConsumerStore`]: OAuth consumers and their secrets.

use super::*;
use crate::store::ConsumerStore;

const CONSUMER_SELECT: &str = "SELECT c.id, c.name, c.description, c.grant_type, c.permission_group_id,
        g.name AS group_name, c.hub_enabled, c.enabled, c.token_format, c.access_token_alg,
        c.redirect_uris, c.client_id,
        c.secret_last_four, c.created_at, c.created_by, c.updated_at, c.version,
        c.secret_digest, c.previous_secret_digest, c.previous_secret_valid_until, c.tokens_not_before
     FROM consumers c JOIN permission_groups g ON g.id = c.permission_group_id";

fn consumer_of(row: &SqliteRow) -> StoreResult<Consumer> {
    let grant: String = row.try_get("grant_type").map_err(backend)?;
    let format: String = row.try_get("token_format").map_err(backend)?;
    let alg: String = row.try_get("access_token_alg").map_err(backend)?;
    Ok(Consumer {
        id: uuid_of(row, "id")?,
        name: row.try_get("name").map_err(backend)?,
        description: row.try_get("description").map_err(backend)?,
        grant_type: GrantType::parse(&grant)
            .ok_or_else(|| StoreError::Backend(format!("bad grant {grant}")))?,
        permission_group_id: uuid_of(row, "permission_group_id")?,
        permission_group_name: row.try_get("group_name").map_err(backend)?,
        hub_enabled: row.try_get::<i64, _>("hub_enabled").map_err(backend)? != 0,
        enabled: row.try_get::<i64, _>("enabled").map_err(backend)? != 0,
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

async fn consumer_by_id(conn: &mut SqliteConnection, id: Uuid) -> StoreResult<Consumer> {
    let row = sqlx::query(AssertSqlSafe(format!("{CONSUMER_SELECT} WHERE c.id = ?")))
        .bind(id.to_string())
        .fetch_one(conn)
        .await
        .map_err(backend)?;
    consumer_of(&row)
}

#[async_trait]
impl ConsumerStore for SqliteStore {
    async fn insert_consumer(
        &self,
        consumer: &ConsumerInsert,
        audit: &NewAuditEvent,
    ) -> StoreResult<Consumer> {
        let f = &consumer.fields;
        self.writer.transaction(async |tx| {
            sqlx::query(
                "INSERT INTO consumers (id, name, name_key, description, grant_type, permission_group_id,
                     hub_enabled, enabled, token_format, redirect_uris, client_id, secret_digest,
                     secret_last_four, created_at, created_by, updated_at, access_token_alg, version)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            )
            .bind(consumer.id.to_string())
            .bind(&f.name)
            .bind(name_key(&f.name))
            .bind(&f.description)
            .bind(f.grant_type.as_str())
            .bind(f.permission_group_id.to_string())
            .bind(f.hub_enabled as i64)
            .bind(f.enabled as i64)
            .bind(f.token_format.as_str())
            .bind(to_json(&f.redirect_uris)?)
            .bind(&consumer.client_id)
            .bind(&consumer.secret_digest[..])
            .bind(&consumer.secret_last_four)
            .bind(ms(consumer.created_at))
            .bind(&consumer.created_by)
            .bind(ms(consumer.created_at))
            .bind(f.access_token_alg.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            insert_audit(tx, audit).await?;
            let consumer = consumer_by_id(tx, consumer.id).await?;
            Ok(consumer)
        })
        .await
    }

    async fn consumer(&self, id: Uuid) -> StoreResult<Consumer> {
        let mut conn = self.reader.acquire().await.map_err(backend)?;
        consumer_by_id(&mut conn, id).await
    }

    async fn consumer_credentials(&self, client_id: &str) -> StoreResult<ConsumerCredentials> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "{CONSUMER_SELECT} WHERE c.client_id = ?"
        )))
        .bind(client_id)
        .fetch_one(&self.reader)
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
        // deep it is. One statement per shape: with `?1 IS NULL OR c.id > ?1` SQLite cannot
        // use the key's index and scans from the start.
        const MATCH: &str = "(instr(c.name_key, lower(?)) > 0 OR instr(c.client_id, ?) > 0)";
        let sql = match (filter.after.is_some(), q.is_some()) {
            (false, false) => format!("{CONSUMER_SELECT} ORDER BY c.id LIMIT ?"),
            (true, false) => format!("{CONSUMER_SELECT} WHERE c.id > ? ORDER BY c.id LIMIT ?"),
            (false, true) => format!("{CONSUMER_SELECT} WHERE {MATCH} ORDER BY c.id LIMIT ?"),
            (true, true) => {
                format!("{CONSUMER_SELECT} WHERE c.id > ? AND {MATCH} ORDER BY c.id LIMIT ?")
            }
        };
        let mut query = sqlx::query(AssertSqlSafe(sql));
        if let Some(after) = filter.after {
            query = query.bind(after.to_string());
        }
        if let Some(q) = q {
            query = query.bind(q).bind(q);
        }
        let rows = query
            .bind(i64::from(filter.limit))
            .fetch_all(&self.reader)
            .await
            .map_err(backend)?;
        let items = rows
            .iter()
            .map(consumer_of)
            .collect::<StoreResult<Vec<_>>>()?;
        let total: i64 = match q {
            None => sqlx::query_scalar("SELECT value FROM counters WHERE name = 'consumers'")
                .fetch_one(&self.reader)
                .await
                .map_err(backend)?,
            Some(q) => sqlx::query_scalar(
                "SELECT COUNT(*) FROM consumers c
                 WHERE instr(c.name_key, lower(?1)) > 0 OR instr(c.client_id, ?1) > 0",
            )
            .bind(q)
            .fetch_one(&self.reader)
            .await
            .map_err(backend)?,
        };
        Ok((items, total.max(0) as u64))
    }

    async fn update_consumer(
        &self,
        id: Uuid,
        f: &ValidConsumer,
        expected_version: i64,
        at: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> StoreResult<Consumer> {
        self.writer.transaction(async |tx| {
            let done = sqlx::query(
                "UPDATE consumers SET name = ?, name_key = ?, description = ?, permission_group_id = ?,
                     hub_enabled = ?, enabled = ?, token_format = ?, redirect_uris = ?,
                     updated_at = ?, access_token_alg = ?, version = version + 1
                 WHERE id = ? AND version = ?",
            )
            .bind(&f.name)
            .bind(name_key(&f.name))
            .bind(&f.description)
            .bind(f.permission_group_id.to_string())
            .bind(f.hub_enabled as i64)
            .bind(f.enabled as i64)
            .bind(f.token_format.as_str())
            .bind(to_json(&f.redirect_uris)?)
            .bind(ms(at))
            .bind(f.access_token_alg.as_str())
            .bind(id.to_string())
            .bind(expected_version)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            if done.rows_affected() == 0 {
                return Err(missing_or_stale(tx, "consumers", id).await);
            }
            insert_audit(tx, audit).await?;
            let consumer = consumer_by_id(tx, id).await?;
            Ok(consumer)
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
                    "UPDATE consumers SET secret_digest = ?, secret_last_four = ?,
                     previous_secret_digest = ?, previous_secret_valid_until = ?,
                     tokens_not_before = COALESCE(?, tokens_not_before),
                     updated_at = ?, version = version + 1
                 WHERE id = ?",
                )
                .bind(&rotation.secret_digest[..])
                .bind(&rotation.secret_last_four)
                .bind(rotation.previous_secret_digest.map(|d| d.to_vec()))
                .bind(rotation.previous_secret_valid_until.map(ms))
                .bind(rotation.tokens_not_before.map(ms))
                .bind(ms(rotation.at))
                .bind(id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                found(&done)?;
                insert_audit(tx, audit).await?;
                let consumer = consumer_by_id(tx, id).await?;
                Ok(consumer)
            })
            .await
    }

    async fn delete_consumer(&self, id: Uuid, audit: &NewAuditEvent) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| {
                let done = sqlx::query("DELETE FROM consumers WHERE id = ?")
                    .bind(id.to_string())
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                found(&done)?;
                insert_audit(tx, audit).await
            })
            .await
    }
}
