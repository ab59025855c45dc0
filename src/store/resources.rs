//! Protected resources (RFC 8707): the APIs tokens are issued for.

use super::audit::insert_audit;
use super::columns::{from_ms, ms, name_key};
use super::sql::{Columns, Dialect, Sql, SqlBackend, transaction};
use super::*;
use sqlx::AssertSqlSafe;

#[async_trait]
pub trait ResourceStore {
    /// Adds a resource; `Duplicate("name")` or `Duplicate("url")` when another has it.
    async fn insert_resource(
        &self,
        resource: &ProtectedResource,
        audit: &NewAuditEvent,
    ) -> StoreResult<()>;
    /// Every resource, by name.
    async fn resources(&self) -> StoreResult<Vec<ProtectedResource>>;
    async fn resource(&self, id: Uuid) -> StoreResult<ProtectedResource>;
    /// Removes a resource; `NotFound` when there is none with this id.
    async fn delete_resource(&self, id: Uuid, audit: &NewAuditEvent) -> StoreResult<()>;
}

const RESOURCE_SELECT: &str =
    "SELECT id, name, url, created_at, created_by FROM protected_resources";

fn resource_of<R: Columns>(row: &R) -> StoreResult<ProtectedResource>
where
    R::Database: Sql,
{
    Ok(ProtectedResource {
        id: row.col("id")?,
        name: row.col("name")?,
        url: row.col("url")?,
        created_at: from_ms(row.col("created_at")?),
        created_by: row.col("created_by")?,
    })
}

#[async_trait]
impl<B: SqlBackend> ResourceStore for B {
    async fn insert_resource(
        &self,
        resource: &ProtectedResource,
        audit: &NewAuditEvent,
    ) -> StoreResult<()> {
        transaction(self, async |tx| {
            B::query(
                "INSERT INTO protected_resources (id, name, name_key, url, created_at, created_by)
                     VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(resource.id)
            .bind(&resource.name)
            .bind(name_key(&resource.name))
            .bind(&resource.url)
            .bind(ms(resource.created_at))
            .bind(&resource.created_by)
            .execute(&mut *tx)
            .await?;
            insert_audit::<B::Db>(tx, audit).await
        })
        .await
    }

    async fn resources(&self) -> StoreResult<Vec<ProtectedResource>> {
        // Byte order on both, whatever PostgreSQL's collation.
        let rows = B::query(AssertSqlSafe(format!(
            "{RESOURCE_SELECT} ORDER BY name_key{}",
            <B::Db as Dialect>::BYTE_ORDER
        )))
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(resource_of).collect()
    }

    async fn resource(&self, id: Uuid) -> StoreResult<ProtectedResource> {
        let row = B::query(AssertSqlSafe(format!("{RESOURCE_SELECT} WHERE id = $1")))
            .bind(id)
            .fetch_one(self.reader())
            .await?;
        resource_of(&row)
    }

    async fn delete_resource(&self, id: Uuid, audit: &NewAuditEvent) -> StoreResult<()> {
        transaction(self, async |tx| {
            B::query("DELETE FROM protected_resources WHERE id = $1")
                .bind(id)
                .execute_found(&mut *tx)
                .await?;
            insert_audit::<B::Db>(tx, audit).await
        })
        .await
    }
}
