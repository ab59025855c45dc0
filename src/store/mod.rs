//! Persistence behind one trait, so that `service` does not know which database holds the
//! data: SQLite (the default, one server) or PostgreSQL (several replicas over one
//! database). Every write runs in one transaction together with the audit entry that
//! records it.

mod account;
mod audit;
mod changes;
mod columns;
mod consumers;
mod grants;
mod groups;
mod health;
mod postgres;
mod registration;
mod resources;
mod sealed_keys;
mod security;
mod sql;
mod sqlite;
mod ssh_keys;
mod throttles;
mod unique;
mod used_once;
mod users;

pub use account::AccountStore;
pub use audit::AuditStore;
pub use changes::{Change, ChangeFeed, ChangeStore};
pub use consumers::ConsumerStore;
pub use grants::GrantStore;
pub use groups::GroupStore;
pub use health::HealthStore;
pub use postgres::PostgresStore;
pub use registration::{InitialAccessTokenRecord, RegistrationStore};
pub use resources::ResourceStore;
pub use sealed_keys::SealedKeyStore;
pub use security::SecurityStore;
pub use sqlite::SqliteStore;
pub use ssh_keys::{SshKeyRecord, SshKeyStore};
pub use throttles::{SharedThrottle, ThrottleKey, ThrottleRule, ThrottleStore};
pub use used_once::{MAX_FORGOTTEN_AT_ONCE, MAX_USED_ONCE_BATCH, UsedOnceStore};
pub use users::UserStore;

use crate::domain::*;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use uuid::Uuid;

/// Whether a `--database` URL names a PostgreSQL server.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Opens the database a `--database` URL names: PostgreSQL for `postgres://…`, else SQLite
/// (`sqlite:PATH`). `max_pages` caps a SQLite database's size (see [`SqliteStore::open`]).
pub async fn open_url(url: &str, max_pages: Option<u32>) -> StoreResult<Arc<dyn Store>> {
    if is_postgres_url(url) {
        Ok(Arc::new(PostgresStore::open_url(url).await?))
    } else {
        Ok(Arc::new(SqliteStore::open_url(url, max_pages).await?))
    }
}

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
    /// The database failed in a way no caller can act on.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("database migration failed: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// A JSON column could not be written or read back.
    #[error("bad {column}: {source}")]
    Json {
        column: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// A stored value is not one the store writes (names what it is).
    #[error("bad {0} in the database")]
    Corrupt(&'static str),
    /// The database file could not be created.
    #[error("database error: no se pudo crear {}: {source}", path.display())]
    CreateFile {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
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

// What the caller is told about each fault is the service's (`Fault::detail`).
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
    /// The digest of a self-registered client's registration access token (RFC 7592).
    pub registration_token_digest: Option<Vec<u8>>,
}

/// A consumer to insert.
#[derive(Debug, Clone)]
pub struct ConsumerInsert {
    pub id: Uuid,
    pub fields: ValidConsumer,
    pub client_id: String,
    /// `None` for a `private_key_jwt` or public consumer, which has no secret.
    pub secret_digest: Option<[u8; 32]>,
    pub secret_last_four: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub origin: ConsumerOrigin,
    pub approval: Approval,
    /// For a registration (RFC 7592): the digest of its registration access token.
    pub registration_token_digest: Option<[u8; 32]>,
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
    /// The protected resource (RFC 8707) asked for, its tokens' audience.
    pub resource: Option<String>,
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
    /// A public client's: the thumbprint of the DPoP key it is bound to (RFC 9449 §5).
    pub jkt: Option<String>,
    /// The protected resource (RFC 8707) of its grant, its access tokens' audience.
    pub resource: Option<String>,
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, PartialEq)]
pub enum RefreshUse {
    /// It was current: it is now spent and the replacement stored.
    Rotated(RefreshTokenRecord),
    /// It was spent or revoked already: its whole family is now revoked.
    Reused(RefreshTokenRecord),
    /// It is bound to another DPoP key than the request's (or the request has none): left
    /// as it was, since whoever holds the key may still use it.
    WrongKey,
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

/// Everything the service asks of the database: the sum of one trait per section, each
/// implemented by every backend in a file of its own.
pub trait Store:
    AccountStore
    + UserStore
    + GroupStore
    + ConsumerStore
    + AuditStore
    + GrantStore
    + HealthStore
    + SecurityStore
    + SshKeyStore
    + ChangeStore
    + ThrottleStore
    + SealedKeyStore
    + UsedOnceStore
    + ResourceStore
    + RegistrationStore
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: AccountStore
        + UserStore
        + GroupStore
        + ConsumerStore
        + AuditStore
        + GrantStore
        + HealthStore
        + SecurityStore
        + SshKeyStore
        + ChangeStore
        + ThrottleStore
        + SealedKeyStore
        + UsedOnceStore
        + ResourceStore
        + RegistrationStore
        + Send
        + Sync
        + 'static
{
}
