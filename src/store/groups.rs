//! Permission groups.

use super::audit::insert_audit;
use super::columns::{
    Versioned, count_of, from_json, from_ms, missing_or_stale, ms, name_key, to_json,
};
use super::sql::{Columns, Dialect, On, Sql, SqlBackend, query, transaction};
use super::*;
use sqlx::AssertSqlSafe;

#[async_trait]
pub trait GroupStore {
    async fn insert_group(&self, group: &PermissionGroup, audit: &NewAuditEvent)
    -> StoreResult<()>;
    async fn group(&self, id: Uuid) -> StoreResult<PermissionGroup>;
    async fn groups(&self) -> StoreResult<Vec<PermissionGroup>>;
    async fn update_group(
        &self,
        group: &PermissionGroup,
        expected_version: i64,
        audit: &NewAuditEvent,
    ) -> StoreResult<PermissionGroup>;
    /// `InUse` while a consumer uses the group.
    async fn delete_group(&self, id: Uuid, audit: &NewAuditEvent) -> StoreResult<()>;
}

const GROUP_SELECT: &str = "SELECT g.id, g.name, g.description, g.read_only, g.permissions,
        g.created_at, g.updated_at, g.version,
        (SELECT COUNT(*) FROM consumers c WHERE c.permission_group_id = g.id) AS consumer_count
     FROM permission_groups g";

fn group_of<R: Columns>(row: &R) -> StoreResult<PermissionGroup>
where
    R::Database: Sql,
{
    Ok(PermissionGroup {
        id: row.col("id")?,
        name: row.col("name")?,
        description: row.col("description")?,
        read_only: row.col("read_only")?,
        permissions: from_json("permissions", &row.col::<String>("permissions")?)?,
        consumer_count: count_of(row.col("consumer_count")?),
        created_at: from_ms(row.col("created_at")?),
        updated_at: from_ms(row.col("updated_at")?),
        version: row.col("version")?,
    })
}

async fn group_by_id<DB: Sql>(on: impl On<DB>, id: Uuid) -> StoreResult<PermissionGroup> {
    let row = query::<DB>(AssertSqlSafe(format!("{GROUP_SELECT} WHERE g.id = $1")))
        .bind(id)
        .fetch_one(on)
        .await?;
    group_of(&row)
}

#[async_trait]
impl<B: SqlBackend> GroupStore for B {
    async fn insert_group(
        &self,
        group: &PermissionGroup,
        audit: &NewAuditEvent,
    ) -> StoreResult<()> {
        transaction(self, async |tx| {
            B::query(
                "INSERT INTO permission_groups (id, name, name_key, description, read_only,
                         permissions, created_at, updated_at, version)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)",
            )
            .bind(group.id)
            .bind(&group.name)
            .bind(name_key(&group.name))
            .bind(&group.description)
            .bind(group.read_only)
            .bind(to_json("permissions", &group.permissions)?)
            .bind(ms(group.created_at))
            .bind(ms(group.updated_at))
            .execute(&mut *tx)
            .await?;
            insert_audit::<B::Db>(tx, audit).await
        })
        .await
    }

    async fn group(&self, id: Uuid) -> StoreResult<PermissionGroup> {
        group_by_id::<B::Db>(self.reader(), id).await
    }

    async fn groups(&self) -> StoreResult<Vec<PermissionGroup>> {
        // Byte order on both, whatever PostgreSQL's collation.
        let rows = B::query(AssertSqlSafe(format!(
            "{GROUP_SELECT} ORDER BY g.name_key{}",
            <B::Db as Dialect>::BYTE_ORDER
        )))
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(group_of).collect()
    }

    async fn update_group(
        &self,
        group: &PermissionGroup,
        expected_version: i64,
        audit: &NewAuditEvent,
    ) -> StoreResult<PermissionGroup> {
        transaction(self, async |tx| {
            let done = B::query(
                "UPDATE permission_groups SET name = $1, name_key = $2, description = $3,
                         read_only = $4, permissions = $5, updated_at = $6, version = version + 1
                     WHERE id = $7 AND version = $8",
            )
            .bind(&group.name)
            .bind(name_key(&group.name))
            .bind(&group.description)
            .bind(group.read_only)
            .bind(to_json("permissions", &group.permissions)?)
            .bind(ms(group.updated_at))
            .bind(group.id)
            .bind(expected_version)
            .execute(&mut *tx)
            .await?;
            if done == 0 {
                return Err(missing_or_stale::<B::Db>(tx, Versioned::Groups, group.id).await);
            }
            insert_audit::<B::Db>(tx, audit).await?;
            group_by_id::<B::Db>(tx, group.id).await
        })
        .await
    }

    async fn delete_group(&self, id: Uuid, audit: &NewAuditEvent) -> StoreResult<()> {
        transaction(self, async |tx| {
            let users: i64 =
                B::query("SELECT COUNT(*) FROM consumers WHERE permission_group_id = $1")
                    .bind(id)
                    .scalar(&mut *tx)
                    .await?;
            if users > 0 {
                return Err(StoreError::InUse);
            }
            // A consumer given the group by another replica since the count is caught
            // by the foreign key.
            B::query("DELETE FROM permission_groups WHERE id = $1")
                .bind(id)
                .execute_found(&mut *tx)
                .await
                .map_err(|e| match e {
                    StoreError::InvalidReference => StoreError::InUse,
                    other => other,
                })?;
            insert_audit::<B::Db>(tx, audit).await
        })
        .await
    }
}
