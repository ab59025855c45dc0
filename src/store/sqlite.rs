//! The SQLite store: WAL journal, `synchronous=FULL`, one writer connection (SQLite allows one
//! writer; serializing in the pool avoids busy retries) and a few readers.

use super::*;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row, SqliteConnection, SqlitePool};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

mod security;
mod writer;

use writer::Writer;

pub struct SqliteStore {
    writer: Writer,
    reader: SqlitePool,
}

pub(crate) fn ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(crate) fn from_ms(value: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(value).unwrap_or_default()
}

fn backend(err: sqlx::Error) -> StoreError {
    if let sqlx::Error::RowNotFound = err {
        return StoreError::NotFound;
    }
    if let sqlx::Error::Database(db) = &err {
        let message = db.message();
        if db.is_unique_violation() {
            let key = if message.contains("client_id") {
                "client_id"
            } else if message.contains("username_key") {
                "username"
            } else if message.contains("users.role") || message.contains("super_admin") {
                "super_admin"
            } else if message.contains("account.id") {
                "account"
            } else {
                "name"
            };
            return StoreError::Duplicate(key);
        }
        if db.is_foreign_key_violation() {
            return StoreError::InvalidReference;
        }
    }
    match fault_of(&err) {
        Some(fault) => StoreError::Unavailable(fault),
        None => StoreError::Backend(err.to_string()),
    }
}

/// The storage faults among SQLite's result codes (their primary code, the low byte): each
/// one clears when its cause is removed, so the caller is told to retry.
fn fault_of(err: &sqlx::Error) -> Option<Fault> {
    const SQLITE_BUSY: i64 = 5;
    const SQLITE_LOCKED: i64 = 6;
    const SQLITE_READONLY: i64 = 8;
    const SQLITE_IOERR: i64 = 10;
    const SQLITE_FULL: i64 = 13;
    const SQLITE_CANTOPEN: i64 = 14;
    match err {
        sqlx::Error::Database(db) => {
            let code: i64 = db.code()?.parse().ok()?;
            match code & 0xff {
                SQLITE_FULL => Some(Fault::StorageFull),
                SQLITE_READONLY => Some(Fault::ReadOnly),
                SQLITE_IOERR | SQLITE_CANTOPEN => Some(Fault::Io),
                SQLITE_BUSY | SQLITE_LOCKED => Some(Fault::Locked),
                _ => None,
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Some(Fault::Unreachable),
        _ => None,
    }
}

fn uuid_of(row: &SqliteRow, column: &str) -> StoreResult<Uuid> {
    let text: String = row.try_get(column).map_err(backend)?;
    Uuid::parse_str(&text).map_err(|e| StoreError::Backend(format!("bad id in {column}: {e}")))
}

fn json_of<T: serde::de::DeserializeOwned>(row: &SqliteRow, column: &str) -> StoreResult<T> {
    let text: String = row.try_get(column).map_err(backend)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Backend(format!("bad {column}: {e}")))
}

fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(e.to_string()))
}

/// Key of a name for unique indexes: the domain's comparison key (NFKC, case folded).
fn name_key(name: &str) -> String {
    crate::domain::names::comparison_key(name)
}

async fn insert_audit(conn: &mut SqliteConnection, audit: &NewAuditEvent) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_events (at, ip, actor_kind, actor_name, action, module, target, description)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(ms(audit.at))
    .bind(&audit.ip)
    .bind(&audit.actor.kind)
    .bind(&audit.actor.name)
    .bind(audit.action.as_str())
    .bind(&audit.module)
    .bind(&audit.target)
    .bind(&audit.description)
    .execute(conn)
    .await
    .map_err(backend)?;
    Ok(())
}

const USER_COLUMNS: &str =
    "id, username, display_name, role, password_hash, disabled, created_at, updated_at, version";

fn user_of(row: &SqliteRow) -> StoreResult<UserRecord> {
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

fn audit_of(row: &SqliteRow) -> StoreResult<AuditEvent> {
    let action: String = row.try_get("action").map_err(backend)?;
    Ok(AuditEvent {
        id: row.try_get("id").map_err(backend)?,
        at: from_ms(row.try_get("at").map_err(backend)?),
        ip: row.try_get("ip").map_err(backend)?,
        actor: Actor {
            kind: row.try_get("actor_kind").map_err(backend)?,
            name: row.try_get("actor_name").map_err(backend)?,
        },
        action: AuditAction::parse(&action)
            .ok_or_else(|| StoreError::Backend(format!("bad action {action}")))?,
        module: row.try_get("module").map_err(backend)?,
        target: row.try_get("target").map_err(backend)?,
        description: row.try_get("description").map_err(backend)?,
    })
}

impl SqliteStore {
    /// Opens (creating if needed, mode 0600) the database file and applies migrations.
    pub async fn open(path: &Path, max_pages: Option<u32>) -> StoreResult<SqliteStore> {
        create_private_file(path)?;
        Self::connect(SqliteConnectOptions::new().filename(path), max_pages).await
    }

    /// Opens a `sqlite:` URL (e.g. `sqlite::memory:` is not supported: readers would not
    /// share it; use a file).
    pub async fn open_url(url: &str, max_pages: Option<u32>) -> StoreResult<SqliteStore> {
        Self::connect(
            SqliteConnectOptions::from_str(url).map_err(backend)?,
            max_pages,
        )
        .await
    }

    /// `max_pages` caps the database's size (`PRAGMA max_page_count`, pages of 4 KiB): a
    /// write that needs more fails as on a full disk.
    async fn connect(
        options: SqliteConnectOptions,
        max_pages: Option<u32>,
    ) -> StoreResult<SqliteStore> {
        let mut options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Another process holding the lock gets this long before a write answers 503.
            .busy_timeout(Duration::from_secs(5));
        if let Some(pages) = max_pages {
            options = options.pragma("max_page_count", pages.to_string());
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            // Writes queue for the one connection; past this wait they are answered 503.
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await
            .map_err(backend)?;
        sqlx::migrate!("src/store/migrations")
            .run(&writer)
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        security::rekey_names(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await
            .map_err(backend)?;
        Ok(SqliteStore {
            writer: Writer::new(writer),
            reader,
        })
    }

    /// Closes both pools, checkpointing the WAL.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.pool().close().await;
    }
}

/// Creates the file with mode 0600 if it does not exist; SQLite gives its WAL and shared
/// memory files the same mode.
fn create_private_file(path: &Path) -> StoreResult<()> {
    use std::fs::OpenOptions;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    options.mode(0o600);
    options
        .open(path)
        .map(|_| ())
        .map_err(|e| StoreError::Backend(format!("no se pudo crear {}: {e}", path.display())))
}

#[async_trait]
impl Store for SqliteStore {
    async fn user_count(&self) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.reader)
            .await
            .map_err(backend)?;
        Ok(n as u64)
    }

    async fn setup(
        &self,
        account: &AccountRecord,
        user: &UserRecord,
        audit: &NewAuditEvent,
    ) -> StoreResult<()> {
        self.writer.transaction(async |tx| {
            let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
            if users > 0 {
                return Err(StoreError::Duplicate("account"));
            }
            sqlx::query(
                "INSERT INTO account (id, name, created_at, api_key, api_secret_sealed, api_key_created_at)
                 VALUES (1, ?, ?, ?, ?, ?)",
            )
            .bind(&account.account.name)
            .bind(ms(account.account.created_at))
            .bind(&account.api_key)
            .bind(&account.api_secret_sealed)
            .bind(ms(account.api_key_created_at))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            insert_user_row(tx, user).await?;
            insert_audit(tx, audit).await
        })
        .await
    }

    async fn account(&self) -> StoreResult<AccountRecord> {
        let row = sqlx::query(
            "SELECT name, created_at, api_key, api_secret_sealed, api_key_created_at FROM account WHERE id = 1",
        )
        .fetch_one(&self.reader)
        .await
        .map_err(backend)?;
        Ok(AccountRecord {
            account: Account {
                name: row.try_get("name").map_err(backend)?,
                created_at: from_ms(row.try_get("created_at").map_err(backend)?),
            },
            api_key: row.try_get("api_key").map_err(backend)?,
            api_secret_sealed: row.try_get("api_secret_sealed").map_err(backend)?,
            api_key_created_at: from_ms(row.try_get("api_key_created_at").map_err(backend)?),
        })
    }

    async fn rename_account(&self, name: &str, audit: &NewAuditEvent) -> StoreResult<Account> {
        self.writer
            .transaction(async |tx| {
                let done = sqlx::query("UPDATE account SET name = ? WHERE id = 1")
                    .bind(name)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                found(&done)?;
                insert_audit(tx, audit).await?;
                let row = sqlx::query("SELECT name, created_at FROM account WHERE id = 1")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(backend)?;
                Ok(Account {
                    name: row.try_get("name").map_err(backend)?,
                    created_at: from_ms(row.try_get("created_at").map_err(backend)?),
                })
            })
            .await
    }

    async fn replace_api_key(
        &self,
        key: &str,
        sealed_secret: &[u8],
        at: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> StoreResult<()> {
        self.writer.transaction(async |tx| {
            sqlx::query(
                "UPDATE account SET api_key = ?, api_secret_sealed = ?, api_key_created_at = ? WHERE id = 1",
            )
            .bind(key)
            .bind(sealed_secret)
            .bind(ms(at))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            insert_audit(tx, audit).await
        })
        .await
    }

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

    async fn record(&self, audit: &NewAuditEvent) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| insert_audit(tx, audit).await)
            .await
    }

    async fn audit_events(&self, filter: &AuditFilter) -> StoreResult<(Vec<AuditEvent>, u64)> {
        let rows = sqlx::query(
            "SELECT id, at, ip, actor_kind, actor_name, action, module, target, description
             FROM audit_events
             WHERE (?1 IS NULL OR id < ?1)
               AND (?2 IS NULL OR at >= ?2)
               AND (?3 IS NULL OR at <= ?3)
               AND (?4 IS NULL OR action = ?4)
             ORDER BY id DESC LIMIT ?5",
        )
        .bind(filter.before)
        .bind(filter.since.map(ms))
        .bind(filter.until.map(ms))
        .bind(filter.action.map(AuditAction::as_str))
        .bind(i64::from(filter.limit))
        .fetch_all(&self.reader)
        .await
        .map_err(backend)?;
        let items = rows.iter().map(audit_of).collect::<StoreResult<Vec<_>>>()?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_events
             WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR at <= ?2) AND (?3 IS NULL OR action = ?3)",
        )
        .bind(filter.since.map(ms))
        .bind(filter.until.map(ms))
        .bind(filter.action.map(AuditAction::as_str))
        .fetch_one(&self.reader)
        .await
        .map_err(backend)?;
        Ok((items, total.max(0) as u64))
    }

    async fn counts(&self) -> StoreResult<Counts> {
        let row = sqlx::query(
            "SELECT (SELECT value FROM counters WHERE name = 'consumers') AS consumers,
                    (SELECT COUNT(*) FROM consumers WHERE enabled = 1) AS enabled_consumers,
                    (SELECT COUNT(*) FROM permission_groups) AS groups,
                    (SELECT COUNT(*) FROM users) AS users",
        )
        .fetch_one(&self.reader)
        .await
        .map_err(backend)?;
        let get = |name: &str| -> StoreResult<u64> {
            Ok(row.try_get::<i64, _>(name).map_err(backend)?.max(0) as u64)
        };
        Ok(Counts {
            consumers: get("consumers")?,
            enabled_consumers: get("enabled_consumers")?,
            permission_groups: get("groups")?,
            users: get("users")?,
        })
    }

    async fn add_token_stats(&self, stats: &[TokenStat]) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| {
                for stat in stats {
                    sqlx::query(
                        "INSERT INTO token_stats (hour, issued, failed) VALUES (?, ?, ?)
                     ON CONFLICT (hour) DO UPDATE SET issued = issued + excluded.issued,
                                                      failed = failed + excluded.failed",
                    )
                    .bind(stat.hour)
                    .bind(stat.issued as i64)
                    .bind(stat.failed as i64)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                }
                Ok(())
            })
            .await
    }

    async fn token_stats(&self, from_hour: i64, to_hour: i64) -> StoreResult<Vec<TokenStat>> {
        let rows = sqlx::query(
            "SELECT hour, issued, failed FROM token_stats WHERE hour >= ? AND hour <= ? ORDER BY hour",
        )
        .bind(from_hour)
        .bind(to_hour)
        .fetch_all(&self.reader)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok(TokenStat {
                    hour: r.try_get("hour").map_err(backend)?,
                    issued: r.try_get::<i64, _>("issued").map_err(backend)?.max(0) as u64,
                    failed: r.try_get::<i64, _>("failed").map_err(backend)?.max(0) as u64,
                })
            })
            .collect()
    }
    async fn insert_authorization_code(&self, code: &AuthorizationCodeRecord) -> StoreResult<()> {
        self.writer
            .transaction(async |conn| {
                sqlx::query(
            "INSERT INTO authorization_codes (digest, consumer_id, client_id, user_id, redirect_uri,
                 scope, code_challenge, family_id, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&code.digest[..])
        .bind(code.consumer_id.to_string())
        .bind(&code.client_id)
        .bind(code.user_id.to_string())
        .bind(&code.redirect_uri)
        .bind(&code.scope)
        .bind(&code.code_challenge)
        .bind(code.family_id.to_string())
        .bind(ms(code.expires_at))
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
                // Spent and expired codes are of no further use.
                sqlx::query("DELETE FROM authorization_codes WHERE expires_at < ?")
                    .bind(ms(code.expires_at) - 3_600_000)
                    .execute(&mut *conn)
                    .await
                    .map_err(backend)?;
                Ok(())
            })
            .await
    }

    async fn consume_authorization_code(
        &self,
        digest: &[u8; 32],
        at: DateTime<Utc>,
    ) -> StoreResult<CodeUse> {
        self.writer.transaction(async |tx| {
            let row = sqlx::query(
                "SELECT consumer_id, client_id, user_id, redirect_uri, scope, code_challenge, family_id,
                        expires_at, used_at
                 FROM authorization_codes WHERE digest = ?",
            )
            .bind(&digest[..])
            .fetch_one(&mut *tx)
            .await
            .map_err(backend)?;
            let record = AuthorizationCodeRecord {
                digest: *digest,
                consumer_id: uuid_of(&row, "consumer_id")?,
                client_id: row.try_get("client_id").map_err(backend)?,
                user_id: uuid_of(&row, "user_id")?,
                redirect_uri: row.try_get("redirect_uri").map_err(backend)?,
                scope: row.try_get("scope").map_err(backend)?,
                code_challenge: row.try_get("code_challenge").map_err(backend)?,
                family_id: uuid_of(&row, "family_id")?,
                expires_at: from_ms(row.try_get("expires_at").map_err(backend)?),
            };
            let used: Option<i64> = row.try_get("used_at").map_err(backend)?;
            if used.is_some() {
                return Ok(CodeUse::Reused(record));
            }
            sqlx::query("UPDATE authorization_codes SET used_at = ? WHERE digest = ?")
                .bind(ms(at))
                .bind(&digest[..])
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            Ok(CodeUse::Fresh(record))
        })
        .await
    }

    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| insert_refresh_row(tx, token).await)
            .await
    }

    async fn use_refresh_token(
        &self,
        digest: &[u8; 32],
        client_id: &str,
        replacement: &RefreshTokenRecord,
        at: DateTime<Utc>,
    ) -> StoreResult<RefreshUse> {
        self.writer
            .transaction(async |tx| {
                let row = sqlx::query(AssertSqlSafe(format!(
                    "{REFRESH_SELECT} WHERE digest = ? AND client_id = ?"
                )))
                .bind(&digest[..])
                .bind(client_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
                let record = refresh_of(&row)?;
                let used: Option<i64> = row.try_get("used_at").map_err(backend)?;
                let revoked: i64 = row.try_get("revoked").map_err(backend)?;
                if used.is_some() || revoked != 0 {
                    sqlx::query("UPDATE refresh_tokens SET revoked = 1 WHERE family_id = ?")
                        .bind(record.family_id.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                    return Ok(RefreshUse::Reused(record));
                }
                sqlx::query("UPDATE refresh_tokens SET used_at = ? WHERE digest = ?")
                    .bind(ms(at))
                    .bind(&digest[..])
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                // The replacement continues the grant: same family, consumer, user and scope.
                let next = RefreshTokenRecord {
                    digest: replacement.digest,
                    issued_at: replacement.issued_at,
                    expires_at: replacement.expires_at,
                    ..record.clone()
                };
                insert_refresh_row(tx, &next).await?;
                Ok(RefreshUse::Rotated(record))
            })
            .await
    }

    async fn live_refresh_token(&self, digest: &[u8; 32]) -> StoreResult<RefreshTokenRecord> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "{REFRESH_SELECT} WHERE digest = ? AND used_at IS NULL AND revoked = 0"
        )))
        .bind(&digest[..])
        .fetch_one(&self.reader)
        .await
        .map_err(backend)?;
        refresh_of(&row)
    }

    async fn revoke_refresh_family(&self, family_id: Uuid) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| {
                sqlx::query("UPDATE refresh_tokens SET revoked = 1 WHERE family_id = ?")
                    .bind(family_id.to_string())
                    .execute(tx)
                    .await
                    .map_err(backend)?;
                Ok(())
            })
            .await
    }

    async fn remember_hawk_nonce(
        &self,
        digest: &[u8; 32],
        ts: i64,
        forget_before: i64,
    ) -> StoreResult<bool> {
        self.writer
            .transaction(async |conn| {
                sqlx::query("DELETE FROM hawk_nonces WHERE ts < ?")
                    .bind(forget_before)
                    .execute(&mut *conn)
                    .await
                    .map_err(backend)?;
                let inserted =
                    sqlx::query("INSERT OR IGNORE INTO hawk_nonces (digest, ts) VALUES (?, ?)")
                        .bind(&digest[..])
                        .bind(ts)
                        .execute(&mut *conn)
                        .await
                        .map_err(backend)?;
                Ok(inserted.rows_affected() == 1)
            })
            .await
    }

    async fn insert_revocation(&self, revocation: &Revocation) -> StoreResult<()> {
        self.writer
            .transaction(async |conn| {
                sqlx::query(
            "INSERT INTO revocations (kind, id, client_id, at, expires_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (kind, id) DO UPDATE SET at = excluded.at,
                 expires_at = max(expires_at, excluded.expires_at)",
        )
        .bind(revocation_kind(revocation.kind))
        .bind(&revocation.id)
        .bind(&revocation.client_id)
        .bind(ms(revocation.at))
        .bind(ms(revocation.expires_at))
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
                sqlx::query("DELETE FROM revocations WHERE expires_at < ?")
                    .bind(ms(revocation.at))
                    .execute(&mut *conn)
                    .await
                    .map_err(backend)?;
                Ok(())
            })
            .await
    }

    async fn revocations(&self, now: DateTime<Utc>) -> StoreResult<Vec<Revocation>> {
        let rows = sqlx::query(
            "SELECT kind, id, client_id, at, expires_at FROM revocations WHERE expires_at >= ?",
        )
        .bind(ms(now))
        .fetch_all(&self.reader)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind").map_err(backend)?;
                Ok(Revocation {
                    kind: match kind.as_str() {
                        "client" => RevocationKind::Client,
                        "grant" => RevocationKind::Grant,
                        _ => RevocationKind::Token,
                    },
                    id: row.try_get("id").map_err(backend)?,
                    client_id: row.try_get("client_id").map_err(backend)?,
                    at: from_ms(row.try_get("at").map_err(backend)?),
                    expires_at: from_ms(row.try_get("expires_at").map_err(backend)?),
                })
            })
            .collect()
    }

    async fn ready(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(backend)?;
        if self.writer.fault().is_some() {
            self.writer.probe().await?;
        }
        Ok(())
    }

    async fn consumer_token_states(
        &self,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<ConsumerTokenState>> {
        let rows = sqlx::query(
            "SELECT client_id, enabled, tokens_not_before FROM consumers
             WHERE enabled = 0 OR tokens_not_before > ?",
        )
        .bind(ms(since))
        .fetch_all(&self.reader)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| {
                Ok(ConsumerTokenState {
                    client_id: row.try_get("client_id").map_err(backend)?,
                    enabled: row.try_get::<i64, _>("enabled").map_err(backend)? != 0,
                    tokens_not_before: from_ms(row.try_get("tokens_not_before").map_err(backend)?),
                })
            })
            .collect()
    }
}

fn revocation_kind(kind: RevocationKind) -> &'static str {
    match kind {
        RevocationKind::Token => "token",
        RevocationKind::Client => "client",
        RevocationKind::Grant => "grant",
    }
}

const REFRESH_SELECT: &str = "SELECT digest, family_id, consumer_id, client_id, user_id, scope,
        issued_at, expires_at, used_at, revoked
     FROM refresh_tokens";

fn refresh_of(row: &SqliteRow) -> StoreResult<RefreshTokenRecord> {
    let digest: Vec<u8> = row.try_get("digest").map_err(backend)?;
    let user: Option<String> = row.try_get("user_id").map_err(backend)?;
    Ok(RefreshTokenRecord {
        digest: digest
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::Backend("bad refresh digest".into()))?,
        family_id: uuid_of(row, "family_id")?,
        consumer_id: uuid_of(row, "consumer_id")?,
        client_id: row.try_get("client_id").map_err(backend)?,
        user_id: match user {
            Some(text) => Some(
                Uuid::parse_str(&text)
                    .map_err(|e| StoreError::Backend(format!("bad user id: {e}")))?,
            ),
            None => None,
        },
        scope: row.try_get("scope").map_err(backend)?,
        issued_at: from_ms(row.try_get("issued_at").map_err(backend)?),
        expires_at: from_ms(row.try_get("expires_at").map_err(backend)?),
    })
}

async fn insert_refresh_row(
    conn: &mut SqliteConnection,
    token: &RefreshTokenRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (digest, family_id, consumer_id, client_id, user_id, scope,
             issued_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&token.digest[..])
    .bind(token.family_id.to_string())
    .bind(token.consumer_id.to_string())
    .bind(&token.client_id)
    .bind(token.user_id.map(|u| u.to_string()))
    .bind(&token.scope)
    .bind(ms(token.issued_at))
    .bind(ms(token.expires_at))
    .execute(conn)
    .await
    .map_err(backend)?;
    Ok(())
}

/// `NotFound` when a write matched no row.
fn found(done: &sqlx::sqlite::SqliteQueryResult) -> StoreResult<()> {
    if done.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

async fn consumer_by_id(conn: &mut SqliteConnection, id: Uuid) -> StoreResult<Consumer> {
    let row = sqlx::query(AssertSqlSafe(format!("{CONSUMER_SELECT} WHERE c.id = ?")))
        .bind(id.to_string())
        .fetch_one(conn)
        .await
        .map_err(backend)?;
    consumer_of(&row)
}

async fn insert_user_row(conn: &mut SqliteConnection, user: &UserRecord) -> StoreResult<()> {
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

/// After an update matched no row: `NotFound` if the row is gone, `Stale` otherwise.
async fn missing_or_stale(conn: &mut SqliteConnection, table: &str, id: Uuid) -> StoreError {
    let exists = sqlx::query_scalar::<_, i64>(AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM {table} WHERE id = ?"
    )))
    .bind(id.to_string())
    .fetch_one(conn)
    .await;
    match exists {
        Ok(0) => StoreError::NotFound,
        Ok(_) => StoreError::Stale,
        Err(e) => backend(e),
    }
}
