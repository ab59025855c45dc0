//! Persistence behind one trait, so that `service` does not know which database holds the
//! data. SQLite is the implementation today; every write runs in one transaction together
//! with the audit entry that records it.

mod security;
mod sqlite;

pub use security::SecurityStore;
pub use sqlite::SqliteStore;

use crate::domain::*;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique key is taken; names the key (`name`, `username`, `client_id`, …).
    #[error("duplicate {0}")]
    Duplicate(&'static str),
    /// The row is referenced by others (a group still used by consumers).
    #[error("in use")]
    InUse,
    /// The write names a row that does not exist (a consumer's permission group).
    #[error("invalid reference")]
    InvalidReference,
    /// The row changed since the version the caller read.
    #[error("stale version")]
    Stale,
    /// The database cannot take the operation now; nothing of it was stored.
    #[error("storage unavailable: {}", .0.as_str())]
    Unavailable(Fault),
    #[error("database error: {0}")]
    Backend(String),
}

/// Why the database refuses work for now. Each clears by itself once its cause is removed
/// (space freed, permissions given back, the other process gone), so callers retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The disk, or the database's size limit, is full.
    StorageFull,
    /// The database file or its directory is read-only.
    ReadOnly,
    /// An I/O error reading or writing the database.
    Io,
    /// Another process holds the database's lock.
    Locked,
    /// The connection to the database is lost or cannot be opened.
    Unreachable,
}

impl Fault {
    /// Its name in logs and error codes.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::StorageFull => "storage_full",
            Fault::ReadOnly => "storage_read_only",
            Fault::Io => "storage_io_error",
            Fault::Locked => "storage_locked",
            Fault::Unreachable => "storage_unreachable",
        }
    }

    /// What the caller is told: nothing was stored, and why.
    pub fn detail(self) -> &'static str {
        match self {
            Fault::StorageFull => {
                "Almacenamiento lleno: el cambio no se guardó; reintente cuando haya espacio libre"
            }
            Fault::ReadOnly => {
                "La base de datos es de solo lectura: el cambio no se guardó; reintente más tarde"
            }
            Fault::Io => {
                "Error de entrada/salida en la base de datos: el cambio no se guardó; reintente más tarde"
            }
            Fault::Locked => {
                "Otro proceso bloquea la base de datos: el cambio no se guardó; reintente más tarde"
            }
            Fault::Unreachable => {
                "La base de datos no responde: el cambio no se guardó; reintente más tarde"
            }
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A user with what only the service may see.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user: User,
    pub password_hash: String,
}

/// The account row with its sealed legacy secret.
#[derive(Debug, Clone)]
pub struct AccountRecord {
    pub account: Account,
    pub api_key: String,
    pub api_secret_sealed: Vec<u8>,
    pub api_key_created_at: DateTime<Utc>,
}

/// What the token endpoint needs to authenticate a consumer.
#[derive(Debug, Clone)]
pub struct ConsumerCredentials {
    pub consumer: Consumer,
    pub secret_digest: Vec<u8>,
    pub previous_secret_digest: Option<Vec<u8>>,
    pub previous_secret_valid_until: Option<DateTime<Utc>>,
    pub tokens_not_before: DateTime<Utc>,
}

/// A consumer to insert.
#[derive(Debug, Clone)]
pub struct ConsumerInsert {
    pub id: Uuid,
    pub fields: ValidConsumer,
    pub client_id: String,
    pub secret_digest: [u8; 32],
    pub secret_last_four: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// A new secret for a consumer.
#[derive(Debug, Clone)]
pub struct SecretRotation {
    pub secret_digest: [u8; 32],
    pub secret_last_four: String,
    pub previous_secret_digest: Option<[u8; 32]>,
    pub previous_secret_valid_until: Option<DateTime<Utc>>,
    pub tokens_not_before: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
}

/// Filter of the consumer list.
#[derive(Debug, Clone, Default)]
pub struct ConsumerFilter {
    /// Matches the name (case-insensitively) or the client_id.
    pub q: Option<String>,
    /// Id after which the page starts.
    pub after: Option<Uuid>,
    pub limit: u32,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub action: Option<AuditAction>,
    /// Id below which the page starts (newest first).
    pub before: Option<i64>,
    pub limit: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub consumers: u64,
    pub enabled_consumers: u64,
    pub permission_groups: u64,
    pub users: u64,
}

/// Token figures for one hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenStat {
    pub hour: i64,
    pub issued: u64,
    pub failed: u64,
}

/// An authorization code, by digest (the code itself is never stored).
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizationCodeRecord {
    pub digest: [u8; 32],
    pub consumer_id: Uuid,
    pub client_id: String,
    pub user_id: Uuid,
    pub redirect_uri: String,
    pub scope: String,
    pub code_challenge: String,
    pub family_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// What consuming a code found.
#[derive(Debug, Clone, PartialEq)]
pub enum CodeUse {
    /// First use: the code is now spent.
    Fresh(AuthorizationCodeRecord),
    /// Already spent before: a replay.
    Reused(AuthorizationCodeRecord),
}

/// A refresh token, by digest.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshTokenRecord {
    pub digest: [u8; 32],
    pub family_id: Uuid,
    pub consumer_id: Uuid,
    pub client_id: String,
    pub user_id: Option<Uuid>,
    pub scope: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, PartialEq)]
pub enum RefreshUse {
    /// It was current: it is now spent and the replacement stored.
    Rotated(RefreshTokenRecord),
    /// It was spent or revoked already: its whole family is now revoked.
    Reused(RefreshTokenRecord),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationKind {
    /// One access token, by jti.
    Token,
    /// Every access token of a deleted consumer, by client_id.
    Client,
    /// Every access token issued under a grant that ended early, by refresh-token family.
    Grant,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Revocation {
    pub kind: RevocationKind,
    pub id: String,
    pub client_id: String,
    pub at: DateTime<Utc>,
    /// After this instant the revoked tokens have expired anyway and the row is moot.
    pub expires_at: DateTime<Utc>,
}

/// A consumer whose tokens are refused or cut: disabled, or rotated with "revocar tokens".
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerTokenState {
    pub client_id: String,
    pub enabled: bool,
    pub tokens_not_before: DateTime<Utc>,
}

#[async_trait]
pub trait Store: SecurityStore + Send + Sync + 'static {
    // account and setup
    async fn user_count(&self) -> StoreResult<u64>;
    /// Creates the account and its first user at once; `Duplicate("account")` when set up.
    async fn setup(
        &self,
        account: &AccountRecord,
        user: &UserRecord,
        audit: &NewAuditEvent,
    ) -> StoreResult<()>;
    async fn account(&self) -> StoreResult<AccountRecord>;
    async fn rename_account(&self, name: &str, audit: &NewAuditEvent) -> StoreResult<Account>;
    async fn replace_api_key(
        &self,
        key: &str,
        sealed_secret: &[u8],
        at: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> StoreResult<()>;

    // users and sessions
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

    // permission groups
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

    // consumers
    async fn insert_consumer(
        &self,
        consumer: &ConsumerInsert,
        audit: &NewAuditEvent,
    ) -> StoreResult<Consumer>;
    async fn consumer(&self, id: Uuid) -> StoreResult<Consumer>;
    async fn consumer_credentials(&self, client_id: &str) -> StoreResult<ConsumerCredentials>;
    /// One page in id order, and the total matching the filter.
    async fn consumers(&self, filter: &ConsumerFilter) -> StoreResult<(Vec<Consumer>, u64)>;
    async fn update_consumer(
        &self,
        id: Uuid,
        fields: &ValidConsumer,
        expected_version: i64,
        at: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> StoreResult<Consumer>;
    async fn rotate_consumer_secret(
        &self,
        id: Uuid,
        rotation: &SecretRotation,
        audit: &NewAuditEvent,
    ) -> StoreResult<Consumer>;
    async fn delete_consumer(&self, id: Uuid, audit: &NewAuditEvent) -> StoreResult<()>;

    // audit and figures
    async fn record(&self, audit: &NewAuditEvent) -> StoreResult<()>;
    /// Remembers a Hawk nonce (its digest) with its timestamp; false when it was already
    /// seen. Nonces with a timestamp before `forget_before` can no longer pass the clock
    /// check, and are dropped.
    async fn remember_hawk_nonce(
        &self,
        digest: &[u8; 32],
        ts: i64,
        forget_before: i64,
    ) -> StoreResult<bool>;
    /// One page, newest first, and the total matching the filter.
    async fn audit_events(&self, filter: &AuditFilter) -> StoreResult<(Vec<AuditEvent>, u64)>;
    async fn counts(&self) -> StoreResult<Counts>;
    async fn add_token_stats(&self, stats: &[TokenStat]) -> StoreResult<()>;
    async fn token_stats(&self, from_hour: i64, to_hour: i64) -> StoreResult<Vec<TokenStat>>;

    // OAuth codes, refresh tokens and revocations
    async fn insert_authorization_code(&self, code: &AuthorizationCodeRecord) -> StoreResult<()>;
    /// Marks the code spent; `NotFound` when no such code exists.
    async fn consume_authorization_code(
        &self,
        digest: &[u8; 32],
        at: DateTime<Utc>,
    ) -> StoreResult<CodeUse>;
    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> StoreResult<()>;
    /// Exchanges a refresh token of `client_id` for `replacement` in one transaction; the
    /// replacement keeps the family, consumer, user and scope of the token it replaces (only
    /// its digest and times are taken). `NotFound` when no such token of that client exists.
    async fn use_refresh_token(
        &self,
        digest: &[u8; 32],
        client_id: &str,
        replacement: &RefreshTokenRecord,
        at: DateTime<Utc>,
    ) -> StoreResult<RefreshUse>;
    /// A refresh token still usable (neither spent nor revoked).
    async fn live_refresh_token(&self, digest: &[u8; 32]) -> StoreResult<RefreshTokenRecord>;
    async fn revoke_refresh_family(&self, family_id: Uuid) -> StoreResult<()>;
    async fn insert_revocation(&self, revocation: &Revocation) -> StoreResult<()>;
    /// Revocations not yet moot at `now`.
    async fn revocations(&self, now: DateTime<Utc>) -> StoreResult<Vec<Revocation>>;
    /// Consumers that are disabled or whose tokens were cut after `since`.
    async fn consumer_token_states(
        &self,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<ConsumerTokenState>>;

    // health
    /// `Ok` when the database answers and, after a write failed, takes writes again.
    async fn ready(&self) -> StoreResult<()>;
}
