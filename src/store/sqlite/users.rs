//! SQLite side of [`UserStore`]: users and their sessions.

use super::*;
use crate::store::UserStore;

pub(super) const USER_COLUMNS: &str =
    "id, username, display_name, role, password_hash, disabled, created_at, updated_at, version";

pub(super) fn user_of(row: &SqliteRow) -> StoreResult<UserRecord> {
    let role: String = row.try_get("role").map_err(backend)?;
    Ok(UserRecord {
        user: User {
            id: uuid_of(row, "id")?,
            username: row.try_get("username").map_err(backend)?,
            display_name: row.try_get("display_name").map_err(backend)?,
            role: Role::parse(&role)
                .ok_or_else(|| StoreError::Backend(format!("bad role {role}")))?,
            disabled: row.try_get::<i64, _>("disabled").map_err(backend)? != 0,
            created_at: from_ms(row.try_get("created_at").map_err(backend)?),
            updated_at: from_ms(row.try_get("updated_at").map_err(backend)?),
            version: row.try_get("version").map_err(backend)?,
        },
        password_hash: row.try_get("password_hash").map_err(backend)?,
    })
}

pub(super) async fn insert_user_row(
    conn: &mut SqliteConnection,
    user: &UserRecord,
) -> StoreResult<()> {
    let u = &user.user;
    sqlx::query(
        "INSERT INTO users (id, username, username_key, display_name, role, password_hash, disabled,
             created_at, updated_at, version)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
    )
    .bind(u.id.to_string())
    .bind(&u.username)
    .bind(name_key(&u.username))
    .bind(&u.display_name)
    .bind(u.role.as_str())
    .bind(&user.password_hash)
    .bind(u.disabled as i64)
    .bind(ms(u.created_at))
    .bind(ms(u.updated_at))
    .execute(conn)
    .await
    .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl UserStore for SqliteStore {
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
            "SELECT {USER_COLUMNS} FROM users WHERE id = ?"
        )))
        .bind(id.to_string())
        .fetch_one(&self.reader)
        .await
        .map_err(backend)?;
        user_of(&row)
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<UserRecord> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username_key = ?"
        )))
        .bind(name_key(username))
        .fetch_one(&self.reader)
        .await
        .map_err(backend)?;
        user_of(&row)
    }

    async fn users(&self) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY id"
        )))
        .fetch_all(&self.reader)
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
                let done = sqlx::query(
                    "UPDATE users SET display_name = ?, role = ?, password_hash = ?, disabled = ?,
                     updated_at = ?, version = version + 1
                 WHERE id = ? AND version = ?",
                )
                .bind(&user.user.display_name)
                .bind(user.user.role.as_str())
                .bind(&user.password_hash)
                .bind(user.user.disabled as i64)
                .bind(ms(user.user.updated_at))
                .bind(user.user.id.to_string())
                .bind(expected_version)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                if done.rows_affected() == 0 {
                    return Err(missing_or_stale(tx, "users", user.user.id).await);
                }
                insert_audit(tx, audit).await?;
                let row = sqlx::query(AssertSqlSafe(format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE id = ?"
                )))
                .bind(user.user.id.to_string())
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
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
                    "UPDATE users SET role = 'admin', updated_at = ?, version = version + 1
                 WHERE id = ? AND role = 'super_admin'",
                )
                .bind(ms(at))
                .bind(from.to_string())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                if demoted.rows_affected() == 0 {
                    return Err(StoreError::Stale);
                }
                let promoted = sqlx::query(
                    "UPDATE users SET role = 'super_admin', updated_at = ?, version = version + 1
                 WHERE id = ? AND disabled = 0",
                )
                .bind(ms(at))
                .bind(to.to_string())
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
                let done = sqlx::query("DELETE FROM users WHERE id = ? AND role <> 'super_admin'")
                    .bind(id.to_string())
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
        self.writer.transaction(async |tx| {
            // Expired sessions go as new ones come, so the table does not grow without bound.
            sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
                .bind(ms(created_at))
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            sqlx::query(
                "INSERT INTO sessions (digest, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
            )
            .bind(&digest[..])
            .bind(user_id.to_string())
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
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.digest = ?",
        )
        .bind(&digest[..])
        .fetch_one(&self.reader)
        .await
        .map_err(backend)?;
        let expires: i64 = row.try_get("session_expires_at").map_err(backend)?;
        Ok((user_of(&row)?, from_ms(expires)))
    }

    async fn delete_session(&self, digest: &[u8; 32], audit: &NewAuditEvent) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| {
                sqlx::query("DELETE FROM sessions WHERE digest = ?")
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
                sqlx::query("DELETE FROM sessions WHERE user_id = ? AND digest IS NOT ?")
                    .bind(user_id.to_string())
                    .bind(keep.map(|d| d.to_vec()))
                    .execute(tx)
                    .await
                    .map_err(backend)?;
                Ok(())
            })
            .await
    }
}
