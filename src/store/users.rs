//! Users and their sessions.

use super::audit::insert_audit;
use super::columns::{Versioned, from_ms, missing_or_stale, ms, name_key};
use super::sql::{Columns, Sql, SqlBackend, query, transaction};
use super::*;
use sqlx::{AssertSqlSafe, Database};

#[async_trait]
pub trait UserStore {
    async fn insert_user(&self, user: &UserRecord, audit: &NewAuditEvent) -> StoreResult<()>;
    async fn user(&self, id: Uuid) -> StoreResult<UserRecord>;
    async fn user_by_username(&self, username: &str) -> StoreResult<UserRecord>;
    async fn users(&self) -> StoreResult<Vec<User>>;
    /// Writes the user's fields as given, if its version is still `expected_version`.
    async fn update_user(
        &self,
        user: &UserRecord,
        expected_version: i64,
        audit: &NewAuditEvent,
    ) -> StoreResult<User>;
    /// Gives the Súper Administrador role to `to`; `from` becomes `admin`.
    async fn transfer_super_admin(
        &self,
        from: Uuid,
        to: Uuid,
        at: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> StoreResult<()>;
    async fn delete_user(&self, id: Uuid, audit: &NewAuditEvent) -> StoreResult<()>;
    async fn insert_session(
        &self,
        digest: &[u8; 32],
        user_id: Uuid,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> StoreResult<()>;
    /// The session's user and expiry.
    async fn session(&self, digest: &[u8; 32]) -> StoreResult<(UserRecord, DateTime<Utc>)>;
    async fn delete_session(&self, digest: &[u8; 32], audit: &NewAuditEvent) -> StoreResult<()>;
    /// Ends every session of a user but `keep`.
    async fn delete_sessions_of(&self, user_id: Uuid, keep: Option<&[u8; 32]>) -> StoreResult<()>;
}

pub(super) const USER_COLUMNS: &str =
    "id, username, display_name, role, password_hash, disabled, created_at, updated_at, version";

pub(super) fn user_of<R: Columns>(row: &R) -> StoreResult<UserRecord>
where
    R::Database: Sql,
{
    let role: String = row.col("role")?;
    Ok(UserRecord {
        user: User {
            id: row.col("id")?,
            username: row.col("username")?,
            display_name: row.col("display_name")?,
            role: Role::parse(&role).ok_or(StoreError::Corrupt("user role"))?,
            disabled: row.col("disabled")?,
            created_at: from_ms(row.col("created_at")?),
            updated_at: from_ms(row.col("updated_at")?),
            version: row.col("version")?,
        },
        password_hash: row.col("password_hash")?,
    })
}

pub(super) async fn insert_user_row<DB: Sql>(
    conn: &mut <DB as Database>::Connection,
    user: &UserRecord,
) -> StoreResult<()> {
    let u = &user.user;
    query::<DB>(
        "INSERT INTO users (id, username, username_key, display_name, role, password_hash, disabled,
             created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1)",
    )
    .bind(u.id)
    .bind(&u.username)
    .bind(name_key(&u.username))
    .bind(&u.display_name)
    .bind(u.role.as_str())
    .bind(&user.password_hash)
    .bind(u.disabled)
    .bind(ms(u.created_at))
    .bind(ms(u.updated_at))
    .execute(conn)
    .await?;
    Ok(())
}

#[async_trait]
impl<B: SqlBackend> UserStore for B {
    async fn insert_user(&self, user: &UserRecord, audit: &NewAuditEvent) -> StoreResult<()> {
        transaction(self, async |tx| {
            insert_user_row::<B::Db>(tx, user).await?;
            insert_audit::<B::Db>(tx, audit).await
        })
        .await
    }

    async fn user(&self, id: Uuid) -> StoreResult<UserRecord> {
        let row = B::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
        )))
        .bind(id)
        .fetch_one(self.reader())
        .await?;
        user_of(&row)
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<UserRecord> {
        let row = B::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username_key = $1"
        )))
        .bind(name_key(username))
        .fetch_one(self.reader())
        .await?;
        user_of(&row)
    }

    async fn users(&self) -> StoreResult<Vec<User>> {
        let rows = B::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY id"
        )))
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(|r| user_of(r).map(|u| u.user)).collect()
    }

    async fn update_user(
        &self,
        user: &UserRecord,
        expected_version: i64,
        audit: &NewAuditEvent,
    ) -> StoreResult<User> {
        transaction(self, async |tx| {
            let row = B::query(AssertSqlSafe(format!(
                "UPDATE users SET display_name = $1, role = $2, password_hash = $3, disabled = $4,
                         updated_at = $5, version = version + 1
                     WHERE id = $6 AND version = $7
                     RETURNING {USER_COLUMNS}"
            )))
            .bind(&user.user.display_name)
            .bind(user.user.role.as_str())
            .bind(&user.password_hash)
            .bind(user.user.disabled)
            .bind(ms(user.user.updated_at))
            .bind(user.user.id)
            .bind(expected_version)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                return Err(missing_or_stale::<B::Db>(tx, Versioned::Users, user.user.id).await);
            };
            insert_audit::<B::Db>(tx, audit).await?;
            user_of(&row).map(|u| u.user)
        })
        .await
    }

    async fn transfer_super_admin(
        &self,
        from: Uuid,
        to: Uuid,
        at: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> StoreResult<()> {
        transaction(self, async |tx| {
            // Demote first: the partial unique index allows one super_admin at any instant.
            let demoted = B::query(
                "UPDATE users SET role = 'admin', updated_at = $1, version = version + 1
                     WHERE id = $2 AND role = 'super_admin'",
            )
            .bind(ms(at))
            .bind(from)
            .execute(&mut *tx)
            .await?;
            if demoted == 0 {
                return Err(StoreError::Stale);
            }
            B::query(
                "UPDATE users SET role = 'super_admin', updated_at = $1, version = version + 1
                     WHERE id = $2 AND NOT disabled",
            )
            .bind(ms(at))
            .bind(to)
            .execute_found(&mut *tx)
            .await?;
            insert_audit::<B::Db>(tx, audit).await
        })
        .await
    }

    async fn delete_user(&self, id: Uuid, audit: &NewAuditEvent) -> StoreResult<()> {
        transaction(self, async |tx| {
            B::query("DELETE FROM users WHERE id = $1 AND role <> 'super_admin'")
                .bind(id)
                .execute_found(&mut *tx)
                .await?;
            insert_audit::<B::Db>(tx, audit).await
        })
        .await
    }

    async fn insert_session(
        &self,
        digest: &[u8; 32],
        user_id: Uuid,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> StoreResult<()> {
        transaction(self, async |tx| {
            // Expired sessions go as new ones come, so the table does not grow without bound.
            B::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(ms(created_at))
                .execute(&mut *tx)
                .await?;
            B::query(
                "INSERT INTO sessions (digest, user_id, created_at, expires_at)
                     VALUES ($1, $2, $3, $4)",
            )
            .bind(&digest[..])
            .bind(user_id)
            .bind(ms(created_at))
            .bind(ms(expires_at))
            .execute(&mut *tx)
            .await?;
            insert_audit::<B::Db>(tx, audit).await
        })
        .await
    }

    async fn session(&self, digest: &[u8; 32]) -> StoreResult<(UserRecord, DateTime<Utc>)> {
        let row = B::query(
            "SELECT u.id, u.username, u.display_name, u.role, u.password_hash, u.disabled,
                    u.created_at, u.updated_at, u.version, s.expires_at AS session_expires_at
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.digest = $1",
        )
        .bind(&digest[..])
        .fetch_one(self.reader())
        .await?;
        let expires: i64 = row.col("session_expires_at")?;
        Ok((user_of(&row)?, from_ms(expires)))
    }

    async fn delete_session(&self, digest: &[u8; 32], audit: &NewAuditEvent) -> StoreResult<()> {
        transaction(self, async |tx| {
            B::query("DELETE FROM sessions WHERE digest = $1")
                .bind(&digest[..])
                .execute(&mut *tx)
                .await?;
            insert_audit::<B::Db>(tx, audit).await
        })
        .await
    }

    async fn delete_sessions_of(&self, user_id: Uuid, keep: Option<&[u8; 32]>) -> StoreResult<()> {
        transaction(self, async |tx| {
            B::query("DELETE FROM sessions WHERE user_id = $1 AND digest IS DISTINCT FROM $2")
                .bind(user_id)
                .bind(keep.map(|d| d.to_vec()))
                .execute(tx)
                .await?;
            Ok(())
        })
        .await
    }
}
