//! Use cases: setup, sessions, users, permission groups, consumers, the legacy key, audit and
//! figures. Every authorization check of the project lives here, and nowhere else.

mod account;
mod authorize;
mod changes;
mod consumers;
pub mod counters;
pub mod fetch;
mod groups;
mod guard;
mod hawk;
mod internal;
mod metadata_documents;
mod passwords;
pub mod registration;
mod resources;
pub mod sealed_keys;
mod sessions;
mod shared_throttles;
mod ssh_keys;
mod storage_fault;
mod stored_keys;
mod throttle;
pub mod token_keys;
pub mod tokens;
mod used_once;
mod users;
pub mod vault;

pub use authorize::{AuthorizeError, AuthorizeOutcome, AuthorizePrompt, AuthorizeRequest};
pub use internal::InternalError;
pub use ssh_keys::SshLogin;
pub use throttle::{Throttle, address_key};
pub use token_keys::TokenKeys;
pub use tokens::{AccessDenied, ClientAuth, OAuthError, TokenCaller, TokenRequest};
pub use vault::Vault;

use crate::domain::secret::{self, SecretKind};
use crate::domain::*;
use crate::store::{Fault, Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use parking_lot::Mutex;
use std::net::IpAddr;
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No valid session (401).
    #[error("Inicie sesión para continuar")]
    Unauthenticated,
    /// Signed in, but the role does not allow it (403).
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("No existe")]
    NotFound,
    /// Per-field problems (422).
    #[error("Hay campos con errores")]
    Validation(FieldErrors),
    /// The request collides with the current state (409).
    #[error("{detail}")]
    Conflict {
        code: &'static str,
        detail: String,
        errors: FieldErrors,
    },
    /// The object changed since the version the caller read (412).
    #[error("El registro fue modificado por otro usuario")]
    Stale,
    /// Too many failures; try again after this many seconds (429).
    #[error("Demasiados intentos fallidos; reintente en {retry_after} s")]
    TooManyRequests { retry_after: u64 },
    /// The database refuses work for now (a full disk, a read-only file…); nothing was
    /// stored, and the same request may succeed later (503).
    #[error("Almacenamiento no disponible")]
    Unavailable(Fault),
    /// Too many password checks at once; try again after this many seconds (503).
    #[error("El servidor está ocupado; reintente en {retry_after} s")]
    Busy { retry_after: u64 },
    /// Something broke inside; the detail goes to the log, not to the caller.
    #[error("Error interno")]
    Internal(#[from] InternalError),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ServiceError::NotFound,
            StoreError::Stale => ServiceError::Stale,
            StoreError::Duplicate(key) => ServiceError::Conflict {
                code: "duplicate",
                detail: format!("Ya existe un registro con ese {key}"),
                errors: FieldErrors::single(key, "Ya está en uso"),
            },
            StoreError::InUse => ServiceError::Conflict {
                code: "in_use",
                detail: "El registro está en uso".into(),
                errors: FieldErrors::new(),
            },
            StoreError::InvalidReference => ServiceError::Validation(FieldErrors::single(
                "permission_group_id",
                "El grupo de permisos no existe",
            )),
            StoreError::Unavailable(fault) => ServiceError::Unavailable(fault),
            err @ (StoreError::Database(_)
            | StoreError::Migrate(_)
            | StoreError::Json { .. }
            | StoreError::Corrupt(_)
            | StoreError::CreateFile { .. }) => ServiceError::Internal(InternalError::of(err)),
        }
    }
}

/// The time source; tests move it by hand.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        // Millisecond precision: what the store keeps, so an answer equals a later read.
        let now = Utc::now();
        DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
    }
}

/// A clock that only moves when told to.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        let at = DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at);
        ManualClock(Mutex::new(at))
    }
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock();
        *now += by;
    }
}

impl ManualClock {
    /// The time it shows now.
    pub fn now_for_tests(&self) -> DateTime<Utc> {
        self.now()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock()
    }
}

#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub session_ttl: Duration,
    /// Failed logins of one username before it is slowed down.
    pub login_failures_per_user: u32,
    /// Failed logins from one address before it is slowed down.
    pub login_failures_per_ip: u32,
    /// Lifetime of access tokens (`expires_in`).
    pub access_token_ttl: Duration,
    /// Lifetime of refresh tokens.
    pub refresh_token_ttl: Duration,
    /// Lifetime of authorization codes.
    pub authorization_code_ttl: Duration,
    /// Failed client authentications of one client_id before it is slowed down.
    pub client_failures_per_client: u32,
    /// Failed client authentications from one address before it is slowed down.
    pub client_failures_per_ip: u32,
    /// Largest clock difference accepted on a Hawk-signed request.
    pub hawk_skew: Duration,
    /// DPoP proofs must carry the server's nonce (`DPoP-Nonce`, RFC 9449 §8); otherwise
    /// it is offered and taken when sent.
    pub dpop_nonce_required: bool,
    /// The issuer (`iss`, RFC 8414): the server's base URL. `server::start` fills it from
    /// the listening address when absent.
    pub issuer: Option<String>,
    /// Password checks (argon2, about 19 MiB each) that run at once.
    pub password_hashing_concurrency: usize,
    /// Password checks that may wait for one of those; beyond, 503 with `Retry-After`.
    pub password_hashing_queue: usize,
    /// Audit entries older than this many days are pruned.
    pub audit_retention_days: u32,
    /// Bound on revoked access tokens and ended grants kept in memory; beyond it a
    /// revocation cuts all earlier tokens of its consumer instead of being listed.
    pub max_revocations_in_memory: usize,
    /// How the documents clients publish are fetched (metadata documents): the hosts
    /// allowed to be private, extra trusted roots, the limits.
    pub client_documents: fetch::FetchPolicy,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            session_ttl: Duration::hours(12),
            login_failures_per_user: 5,
            login_failures_per_ip: 50,
            access_token_ttl: Duration::seconds(3600),
            refresh_token_ttl: Duration::days(30),
            authorization_code_ttl: Duration::seconds(60),
            client_failures_per_client: 10,
            client_failures_per_ip: 50,
            hawk_skew: Duration::seconds(60),
            dpop_nonce_required: false,
            issuer: None,
            password_hashing_concurrency: passwords::default_concurrency(),
            password_hashing_queue: 2 * passwords::default_concurrency(),
            audit_retention_days: 400,
            max_revocations_in_memory: 100_000,
            client_documents: fetch::FetchPolicy::default(),
        }
    }
}

/// A signed-in console user.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: SessionUser,
    pub digest: [u8; 32],
    pub expires_at: DateTime<Utc>,
}

/// Who is calling: the address, and the session when one was presented.
#[derive(Debug, Clone)]
pub struct Caller {
    pub ip: IpAddr,
    pub session: Option<Session>,
    /// The request came through a trusted proxy: `ip` is what the proxy said, and the
    /// caller is never "on this machine" (a proxy on loopback forwards the world).
    pub proxied: bool,
}

impl Caller {
    pub fn anonymous(ip: IpAddr) -> Caller {
        Caller {
            ip,
            session: None,
            proxied: false,
        }
    }

    fn actor(&self) -> Actor {
        match &self.session {
            Some(s) => Actor::user(&s.user.username),
            None => Actor::anonymous(),
        }
    }
}

pub struct Service {
    store: Arc<dyn Store>,
    vault: Vault,
    clock: Arc<dyn Clock>,
    config: ServiceConfig,
    throttle: Throttle,
    /// Bounded argon2.
    passwords: passwords::Passwords,
    /// Accepts setup from beyond loopback while no user exists; cleared after setup.
    setup_token: Mutex<Option<String>>,
    /// Keys of access tokens.
    keys: Arc<TokenKeys>,
    /// Token state kept in memory: credentials cache, revocations, pending counts.
    tokens: tokens::TokenState,
    /// `iss` of every token and the metadata, and `aud` of access tokens; made once from
    /// the configuration, since every token carries both.
    issuer: String,
    audience: String,
    /// The keys kept in the database under the system secret; `None` when they live in
    /// the data directory's files.
    sealed: Option<sealed_keys::SealedKeys>,
    /// Marked when a user is disabled or removed, or a key removed, here: the SSH
    /// front end then checks its sessions at once instead of at its next round.
    access_ended: tokio::sync::watch::Sender<()>,
    /// Values used once (nonces, assertion and proof ids), written in groups.
    used_once: used_once::UsedOnce,
    /// The protected resources by URL, for token requests (see `resources`).
    resources: resources::ResourceList,
    /// Fetches the documents clients publish; `None` until [`Service::with_fetcher`].
    fetcher: Option<fetch::Fetcher>,
}

impl Service {
    pub fn new(store: Arc<dyn Store>, vault: Vault, config: ServiceConfig) -> Service {
        Service::with_clock(store, vault, config, Arc::new(SystemClock))
    }

    pub fn with_clock(
        store: Arc<dyn Store>,
        vault: Vault,
        config: ServiceConfig,
        clock: Arc<dyn Clock>,
    ) -> Service {
        let issuer = config
            .issuer
            .clone()
            .unwrap_or_else(|| "http://127.0.0.1".to_string());
        Service {
            audience: format!("{issuer}/api/v1"),
            issuer,
            store,
            vault,
            clock,
            passwords: passwords::Passwords::new(
                config.password_hashing_concurrency,
                config.password_hashing_queue,
            ),
            config,
            throttle: Throttle::new(),
            setup_token: Mutex::new(None),
            keys: Arc::new(TokenKeys::ephemeral()),
            tokens: tokens::TokenState::default(),
            sealed: None,
            access_ended: tokio::sync::watch::Sender::new(()),
            used_once: used_once::UsedOnce::default(),
            resources: Default::default(),
            fetcher: None,
        }
    }

    /// The same service fetching client documents with `fetcher`.
    pub fn with_fetcher(mut self, fetcher: fetch::Fetcher) -> Service {
        self.fetcher = Some(fetcher);
        self
    }

    /// The same service with these token keys (persisted ones, from the data directory).
    pub fn with_token_keys(mut self, keys: TokenKeys) -> Service {
        self.keys = Arc::new(keys);
        self
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn audit(
        &self,
        caller: &Caller,
        action: AuditAction,
        module: &str,
        target: impl Into<String>,
        description: impl Into<String>,
    ) -> NewAuditEvent {
        NewAuditEvent {
            at: self.now(),
            ip: caller.ip.to_string(),
            actor: caller.actor(),
            action,
            module: module.to_string(),
            target: target.into(),
            description: description.into(),
        }
    }

    /// Records a refusal, so that probing shows in the log. A failure to record is logged
    /// and does not change the answer.
    async fn record_denied(&self, caller: &Caller, module: &str, target: &str, what: &str) {
        let target = crate::domain::names::shown_identifier(target);
        let event = self.audit(caller, AuditAction::Denied, module, target, what);
        if let Err(err) = self.store.record(&event).await {
            tracing::warn!(error = %err, "could not record a denial in the audit log");
        }
    }

    // --- role checks: the only place that decides who may do what ------------------------

    fn user<'c>(&self, caller: &'c Caller) -> ServiceResult<&'c SessionUser> {
        caller
            .session
            .as_ref()
            .map(|s| &s.user)
            .ok_or(ServiceError::Unauthenticated)
    }

    /// Admins and the Súper Administrador.
    fn admin<'c>(&self, caller: &'c Caller) -> ServiceResult<&'c SessionUser> {
        let user = self.user(caller)?;
        match user.role {
            Role::SuperAdmin | Role::Admin => Ok(user),
            Role::ReadOnly => Err(ServiceError::Forbidden(
                "Se necesita el rol Administrador o Súper Administrador",
            )),
        }
    }

    fn super_admin<'c>(&self, caller: &'c Caller) -> ServiceResult<&'c SessionUser> {
        let user = self.user(caller)?;
        match user.role {
            Role::SuperAdmin => Ok(user),
            _ => Err(ServiceError::Forbidden(
                "Solo el Súper Administrador puede hacer esto",
            )),
        }
    }

    /// Whether the database answers and takes writes (readiness).
    pub async fn ready(&self) -> ServiceResult<()> {
        Ok(self.store.ready().await?)
    }

    // --- setup ------------------------------------------------------------------------

    pub async fn setup_status(&self) -> ServiceResult<SetupStatus> {
        Ok(SetupStatus {
            needed: self.store.user_count().await? == 0,
        })
    }

    /// A one-time token that authorizes setup from beyond loopback, while no user exists.
    /// `None` once set up.
    pub async fn issue_setup_token(&self) -> ServiceResult<Option<String>> {
        if !self.setup_status().await?.needed {
            return Ok(None);
        }
        let token = secret::generate(SecretKind::SetupToken);
        *self.setup_token.lock() = Some(token.clone());
        Ok(Some(token))
    }

    fn setup_allowed(&self, caller: &Caller, presented: Option<&str>) -> bool {
        if caller.ip.is_loopback() && !caller.proxied {
            return true;
        }
        let expected = self.setup_token.lock();
        match (expected.as_deref(), presented) {
            (Some(expected), Some(presented)) => {
                secret::matches(presented, &secret::digest(expected))
            }
            _ => false,
        }
    }

    pub async fn setup(
        &self,
        caller: &Caller,
        request: SetupRequest,
        setup_token: Option<&str>,
    ) -> ServiceResult<SessionUser> {
        if !self.setup_allowed(caller, setup_token) {
            self.record_denied(
                caller,
                modules::ACCOUNT,
                "setup",
                "configuración inicial sin token",
            )
            .await;
            return Err(ServiceError::Forbidden(
                "La configuración inicial se hace desde el propio servidor o con el token que imprime `consola serve`",
            ));
        }
        if !self.setup_status().await?.needed {
            return Err(already_set_up());
        }
        let mut errors = FieldErrors::new();
        let account_name = match validate_account_name(&request.account_name) {
            Ok(name) => name,
            Err(e) => {
                errors.0.extend(e.0);
                String::new()
            }
        };
        let username = validate_username(&mut errors, "username", &request.username);
        let display_name =
            validate_display_name(&mut errors, "display_name", &request.display_name);
        validate_password(&mut errors, "password", request.password.expose());
        errors.into_result().map_err(ServiceError::Validation)?;

        let now = self.now();
        let password_hash = self.passwords.hash(request.password).await?;
        let api_secret = secret::generate(SecretKind::LegacyApiSecret);
        let account = crate::store::AccountRecord {
            account: Account {
                name: account_name,
                created_at: now,
            },
            api_key: secret::generate_api_key(),
            api_secret_sealed: self.vault.seal(&api_secret)?,
            api_key_created_at: now,
        };
        let user = crate::store::UserRecord {
            user: User {
                id: new_id(),
                username: username.clone(),
                display_name,
                role: Role::SuperAdmin,
                disabled: false,
                created_at: now,
                updated_at: now,
                version: 1,
            },
            password_hash,
        };
        let event = NewAuditEvent {
            actor: Actor::user(&username),
            ..self.audit(
                caller,
                AuditAction::Setup,
                modules::ACCOUNT,
                &username,
                format!(
                    "Cuenta «{}» creada con su Súper Administrador",
                    account.account.name
                ),
            )
        };
        match self.store.setup(&account, &user, &event).await {
            Err(StoreError::Duplicate("account")) => return Err(already_set_up()),
            other => other?,
        }
        *self.setup_token.lock() = None;
        Ok(SessionUser::from(&user.user))
    }

    // --- audit and dashboard --------------------------------------------------------------

    pub async fn audit_events(
        &self,
        caller: &Caller,
        query: AuditQuery,
    ) -> ServiceResult<Page<AuditEvent>> {
        self.admin(caller)?;
        let limit = page_size(query.limit)?;
        let before = match query.cursor.as_deref() {
            None | Some("") => None,
            Some(text) => Some(text.parse::<i64>().map_err(|_| {
                ServiceError::Validation(FieldErrors::single("cursor", "Cursor inválido"))
            })?),
        };
        if let (Some(since), Some(until)) = (query.since, query.until)
            && since > until
        {
            return Err(ServiceError::Validation(FieldErrors::single(
                "until",
                "«Hasta» debe ser posterior a «Desde»",
            )));
        }
        let (mut items, total) = self
            .store
            .audit_events(&crate::store::AuditFilter {
                since: query.since,
                until: query.until,
                action: query.action,
                before,
                limit: limit + 1,
            })
            .await?;
        let next_cursor = next_page(&mut items, limit).map(|last| last.id.to_string());
        Ok(Page {
            items,
            next_cursor,
            total,
        })
    }

    pub async fn dashboard(
        &self,
        caller: &Caller,
        query: DashboardQuery,
    ) -> ServiceResult<Dashboard> {
        self.user(caller)?;
        let until = query.until.unwrap_or_else(|| self.now());
        let since = query.since.unwrap_or(until - Duration::days(30));
        if since > until {
            return Err(ServiceError::Validation(FieldErrors::single(
                "until",
                "«Hasta» debe ser posterior a «Desde»",
            )));
        }
        if until - since > Duration::days(366) {
            return Err(ServiceError::Validation(FieldErrors::single(
                "since",
                "El rango no puede pasar de un año",
            )));
        }
        let counts = self.store.counts().await?;
        let (from_hour, to_hour) = (since.timestamp() / 3600, until.timestamp() / 3600);
        let mut stats = self.store.token_stats(from_hour, to_hour).await?;
        // Counts not yet flushed belong in the figures too.
        stats.extend(
            self.pending_token_stats()
                .into_iter()
                .filter(|s| (from_hour..=to_hour).contains(&s.hour)),
        );
        let mut series = Vec::new();
        let mut day = since.date_naive();
        while day <= until.date_naive() {
            series.push(DashboardPoint {
                day,
                tokens_issued: 0,
                failed_authentications: 0,
            });
            day = day.succ_opt().unwrap_or(day);
            if series.len() > 400 {
                break;
            }
        }
        for stat in &stats {
            let Some(at) = DateTime::from_timestamp(stat.hour * 3600, 0) else {
                continue;
            };
            if let Some(point) = series.iter_mut().find(|p| p.day == at.date_naive()) {
                point.tokens_issued += stat.issued;
                point.failed_authentications += stat.failed;
            }
        }
        Ok(Dashboard {
            since,
            until,
            consumers: counts.consumers,
            enabled_consumers: counts.enabled_consumers,
            permission_groups: counts.permission_groups,
            users: counts.users,
            tokens_issued: stats.iter().map(|s| s.issued).sum(),
            failed_authentications: stats.iter().map(|s| s.failed).sum(),
            series,
        })
    }

    pub fn modules(&self, caller: &Caller) -> ServiceResult<Vec<Module>> {
        self.user(caller)?;
        Ok(module_catalog().to_vec())
    }
}

fn already_set_up() -> ServiceError {
    ServiceError::Conflict {
        code: "already_set_up",
        detail: "La cuenta ya está configurada".into(),
        errors: FieldErrors::new(),
    }
}

/// A page size from the query: default 50, 1 to 500.
fn page_size(requested: Option<u32>) -> ServiceResult<u32> {
    match requested {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
        Some(_) => Err(ServiceError::Validation(FieldErrors::single(
            "limit",
            format!("Debe estar entre 1 y {MAX_PAGE_SIZE}"),
        ))),
    }
}

/// Given `limit + 1` fetched rows, trims to `limit` and returns the last kept row when
/// another page follows.
fn next_page<T>(items: &mut Vec<T>, limit: u32) -> Option<&T> {
    if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last()
    } else {
        None
    }
}
