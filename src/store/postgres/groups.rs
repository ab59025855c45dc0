//! PostgreSQL side of [`GroupStore`]: permission groups.

use super::*;
use crate::store::GroupStore;

const GROUP_SELECT: &str = "SELECT g.id, g.name, g.description, g.read_only, g.permissions,
        g.created_at, g.updated_at, g.version,
        (SELECT COUNT(*) FROM consumers c WHERE c.permission_group_id = g.id) AS consumer_count
     FROM permission_groups g";

fn group_of(row: &PgRow) -> StoreResult<PermissionGroup> {
    Ok(PermissionGroup {
        id: row.try_get("id").map_err(backend)?,
        name: row.try_get("name").map_err(backend)?,
        description: row.try_get("description").map_err(backend)?,
        read_only: row.try_get("read_only").map_err(backend)?,
        permissions: json_of(row, "permissions")?,
        consumer_count: count_of(row.try_get("consumer_count").map_err(backend)?),
        created_at: from_ms(row.try_get("created_at").map_err(backend)?),
        updated_at: from_ms(row.try_get("updated_at").map_err(backend)?),
        version: row.try_get("version").map_err(backend)?,
    })
}

async fn group_by_id(conn: &mut PgConnection, id: Uuid) -> StoreResult<PermissionGroup> {
    let row = sqlx::query(AssertSqlSafe(format!("{GROUP_SELECT} WHERE g.id = $1")))
        .bind(id)
        .fetch_one(conn)
        .await
        .map_err(backend)?;
    group_of(&row)
}

#[async_trait]
impl GroupStore for PostgresStore {
    async fn insert_group(
        &self,
        group: &PermissionGroup,
        audit: &NewAuditEvent,
    ) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| {
                sqlx::query(
                    "INSERT INTO permission_groups (id, name, name_key, description, read_only,
                         permissions, created_at, updated_at, version)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)",
                )
                .bind(group.id)
                .bind(&group.name)
                .bind(name_key(&group.name))
                .bind(&group.description)
                .bind(group.read_only)
                .bind(to_json(&group.permissions)?)
                .bind(ms(group.created_at))
                .bind(ms(group.updated_at))
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                insert_audit(tx, audit).await
            })
            .await
    }

    async fn group(&self, id: Uuid) -> StoreResult<PermissionGroup> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        group_by_id(&mut conn, id).await
    }

    async fn groups(&self) -> StoreResult<Vec<PermissionGroup>> {
        // Byte order, as on SQLite, whatever the database's collation.
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{GROUP_SELECT} ORDER BY g.name_key COLLATE \"C\""
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(group_of).collect()
    }

    async fn update_group(
        &self,
        group: &PermissionGroup,
        expected_version: i64,
        audit: &NewAuditEvent,
    ) -> StoreResult<PermissionGroup> {
        self.writer
            .transaction(async |tx| {
                let done = sqlx::query(
                    "UPDATE permission_groups SET name = $1, name_key = $2, description = $3,
                         read_only = $4, permissions = $5, updated_at = $6, version = version + 1
                     WHERE id = $7 AND version = $8",
                )
                .bind(&group.name)
                .bind(name_key(&group.name))
                .bind(&group.description)
                .bind(group.read_only)
                .bind(to_json(&group.permissions)?)
                .bind(ms(group.updated_at))
                .bind(group.id)
                .bind(expected_version)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                if done.rows_affected() == 0 {
                    return Err(missing_or_stale(tx, Table::Groups, group.id).await);
                }
                insert_audit(tx, audit).await?;
                group_by_id(tx, group.id).await
            })
            .await
    }

    async fn delete_group(&self, id: Uuid, audit: &NewAuditEvent) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| {
                let users: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM consumers WHERE permission_group_id = $1",
                )
                .bind(id)
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
                if users > 0 {
                    return Err(StoreError::InUse);
                }
                // A consumer given the group by another replica since the count is caught
                // by the foreign key.
                let done = sqlx::query("DELETE FROM permission_groups WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match backend(e) {
                        StoreError::InvalidReference => StoreError::InUse,
                        other => other,
                    })?;
                found(&done)?;
                insert_audit(tx, audit).await
            })
            .await
    }
}
