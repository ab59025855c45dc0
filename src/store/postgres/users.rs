//! PostgreSQL side of [`UserStore`]: users and their sessions.

use super::*;
use crate::store::UserStore;

pub(super) const USER_COLUMNS: &str =
    "id, username, display_name, role, password_hash, disabled, created_at, updated_at, version";

pub(super) fn user_of(row: &PgRow) -> StoreResult<UserRecord> {
    let role: String = row.try_get("role").map_err(backend)?;
    Ok(UserRecord {
        user: User {
            id: row.try_get("id").map_err(backend)?,
            username: row.try_get("username").map_err(backend)?,
            display_name: row.try_get("display_name").map_err(backend)?,
            role: Role::parse(&role)
                .ok_or_else(|| StoreError::Backend(format!("bad role {role}")))?,
            disabled: row.try_get("disabled").map_err(backend)?,
            created_at: from_ms(row.try_get("created_at").map_err(backend)?),
            updated_at: from_ms(row.try_get("updated_at").map_err(backend)?),
            version: row.try_get("version").map_err(backend)?,
        },
        password_hash: row.try_get("password_hash").map_err(backend)?,
    })
}

pub(super) async fn insert_user_row(conn: &mut PgConnection, user: &UserRecord) -> StoreResult<()> {
    let u = &user.user;
    sqlx::query(
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
    .await
    .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl UserStore for PostgresStore {
    async fn insert_user(&self, user: &UserRecord, audit: &NewAuditEvent) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| {
                insert_user_row(tx, user).await?;
                insert_audit(tx, audit).await
            })
            .await
    }

    async fn user(&self, id: Uuid) -> StoreResult<UserRecord> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
        )))
        .bind(id)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        user_of(&row)
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<UserRecord> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username_key = $1"
        )))
        .bind(name_key(username))
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        user_of(&row)
    }

    async fn users(&self) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(|r| user_of(r).map(|u| u.user)).collect()
    }

    async fn update_user(
        &self,
        user: &UserRecord,
        expected_version: i64,
        audit: &NewAuditEvent,
    ) -> StoreResult<User> {
        self.writer
            .transaction(async |tx| {
                let row = sqlx::query(AssertSqlSafe(format!(
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
                .await
                .map_err(backend)?;
                let Some(row) = row else {
                    return Err(missing_or_stale(tx, Table::Users, user.user.id).await);
                };
                insert_audit(tx, audit).await?;
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
        self.writer
            .transaction(async |tx| {
                // Demote first: the partial unique index allows one super_admin at any instant.
                let demoted = sqlx::query(
                    "UPDATE users SET role = 'admin', updated_at = $1, version = version + 1
                     WHERE id = $2 AND role = 'super_admin'",
                )
                .bind(ms(at))
                .bind(from)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                if demoted.rows_affected() == 0 {
                    return Err(StoreError::Stale);
                }
                let promoted = sqlx::query(
                    "UPDATE users SET role = 'super_admin', updated_at = $1, version = version + 1
                     WHERE id = $2 AND NOT disabled",
                )
                .bind(ms(at))
                .bind(to)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                found(&promoted)?;
                insert_audit(tx, audit).await
            })
            .await
    }

    async fn delete_user(&self, id: Uuid, audit: &NewAuditEvent) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| {
                let done = sqlx::query("DELETE FROM users WHERE id = $1 AND role <> 'super_admin'")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                found(&done)?;
                insert_audit(tx, audit).await
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
        self.writer
            .transaction(async |tx| {
                // Expired sessions go as new ones come, so the table does not grow without bound.
                sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                    .bind(ms(created_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                sqlx::query(
                    "INSERT INTO sessions (digest, user_id, created_at, expires_at)
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(&digest[..])
                .bind(user_id)
                .bind(ms(created_at))
                .bind(ms(expires_at))
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                insert_audit(tx, audit).await
            })
            .await
    }

    async fn session(&self, digest: &[u8; 32]) -> StoreResult<(UserRecord, DateTime<Utc>)> {
        let row = sqlx::query(
            "SELECT u.id, u.username, u.display_name, u.role, u.password_hash, u.disabled,
                    u.created_at, u.updated_at, u.version, s.expires_at AS session_expires_at
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.digest = $1",
        )
        .bind(&digest[..])
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        let expires: i64 = row.try_get("session_expires_at").map_err(backend)?;
        Ok((user_of(&row)?, from_ms(expires)))
    }

    async fn delete_session(&self, digest: &[u8; 32], audit: &NewAuditEvent) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| {
                sqlx::query("DELETE FROM sessions WHERE digest = $1")
                    .bind(&digest[..])
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                insert_audit(tx, audit).await
            })
            .await
    }

    async fn delete_sessions_of(&self, user_id: Uuid, keep: Option<&[u8; 32]>) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| {
                sqlx::query(
                    "DELETE FROM sessions WHERE user_id = $1 AND digest IS DISTINCT FROM $2",
                )
                .bind(user_id)
                .bind(keep.map(|d| d.to_vec()))
                .execute(tx)
                .await
                .map_err(backend)?;
                Ok(())
            })
            .await
    }
}
