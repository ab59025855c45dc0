//! SQLite side of [`GroupStore`]: permission groups.

use super::*;
use crate::store::GroupStore;

const GROUP_SELECT: &str = "SELECT g.id, g.name, g.description, g.read_only, g.permissions, g.created_at, g.updated_at, g.version,
        (SELECT COUNT(*) FROM consumers c WHERE c.permission_group_id = g.id) AS consumer_count
     FROM permission_groups g";

fn group_of(row: &SqliteRow) -> StoreResult<PermissionGroup> {
    Ok(PermissionGroup {
        id: uuid_of(row, "id")?,
        name: row.try_get("name").map_err(backend)?,
        description: row.try_get("description").map_err(backend)?,
        read_only: row.try_get::<i64, _>("read_only").map_err(backend)? != 0,
        permissions: json_of(row, "permissions")?,
        consumer_count: row.try_get::<i64, _>("consumer_count").map_err(backend)? as u64,
        created_at: from_ms(row.try_get("created_at").map_err(backend)?),
        updated_at: from_ms(row.try_get("updated_at").map_err(backend)?),
        version: row.try_get("version").map_err(backend)?,
    })
}

#[async_trait]
impl GroupStore for SqliteStore {
    async fn insert_group(
        &self,
        group: &PermissionGroup,
        audit: &NewAuditEvent,
    ) -> StoreResult<()> {
        self.writer.transaction(async |tx| {
            sqlx::query(
                "INSERT INTO permission_groups
                     (id, name, name_key, description, read_only, permissions, created_at, updated_at, version)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
            )
            .bind(group.id.to_string())
            .bind(&group.name)
            .bind(name_key(&group.name))
            .bind(&group.description)
            .bind(group.read_only as i64)
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
        let row = sqlx::query(AssertSqlSafe(format!("{GROUP_SELECT} WHERE g.id = ?")))
            .bind(id.to_string())
            .fetch_one(&self.reader)
            .await
            .map_err(backend)?;
        group_of(&row)
    }

    async fn groups(&self) -> StoreResult<Vec<PermissionGroup>> {
        let rows = sqlx::query(AssertSqlSafe(format!("{GROUP_SELECT} ORDER BY g.name_key")))
            .fetch_all(&self.reader)
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
        self.writer.transaction(async |tx| {
            let done = sqlx::query(
                "UPDATE permission_groups SET name = ?, name_key = ?, description = ?, read_only = ?,
                     permissions = ?, updated_at = ?, version = version + 1
                 WHERE id = ? AND version = ?",
            )
            .bind(&group.name)
            .bind(name_key(&group.name))
            .bind(&group.description)
            .bind(group.read_only as i64)
            .bind(to_json(&group.permissions)?)
            .bind(ms(group.updated_at))
            .bind(group.id.to_string())
            .bind(expected_version)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            if done.rows_affected() == 0 {
                return Err(missing_or_stale(tx, "permission_groups", group.id).await);
            }
            insert_audit(tx, audit).await?;
            let row = sqlx::query(AssertSqlSafe(format!("{GROUP_SELECT} WHERE g.id = ?")))
                .bind(group.id.to_string())
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
            group_of(&row)
        })
        .await
    }

    async fn delete_group(&self, id: Uuid, audit: &NewAuditEvent) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| {
                let users: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM consumers WHERE permission_group_id = ?",
                )
                .bind(id.to_string())
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
                if users > 0 {
                    return Err(StoreError::InUse);
                }
                let done = sqlx::query("DELETE FROM permission_groups WHERE id = ?")
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
