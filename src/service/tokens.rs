//! The OAuth2 token service: client authentication, the token endpoint's grants, access
//! tokens (`opaque` and `jwt`), their validation, introspection and revocation.
//!
//! Issuing a token writes nothing to the database: credentials come from an in-memory cache
//! that the service invalidates on every write to consumers and groups, counts are
//! aggregated in memory and flushed in batches, and validation reads only memory (the keys,
//! and a view of revoked tokens and cut consumers that the service keeps up to date and
//! loads at start).

use super::opaque_body::{self, JsonBody, OpaqueClaims};
use super::token_keys::TokenKeys;
use super::*;
use crate::domain::oauth::*;
use crate::domain::secret::SecretText;
use crate::store::{
    CodeUse, ConsumerCredentials, ConsumerTokenState, RefreshTokenRecord, RefreshUse, Revocation,
    RevocationKind, TokenStat,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use parking_lot::RwLock;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Prefix of `opaque` access tokens, so secret scanners can find a leaked one.
pub const OPAQUE_PREFIX: &str = "consola_at_";
/// Bound on cached consumer credentials; the cache starts over when full.
const MAX_CACHED_CLIENTS: usize = 50_000;

/// An OAuth error (RFC 6749 §5.2), as the token, introspection and revocation endpoints
/// answer it.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    #[error("invalid_client")]
    InvalidClient,
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    #[error("unauthorized_client")]
    UnauthorizedClient,
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    #[error("invalid_scope")]
    InvalidScope,
    /// A console session that may not do this.
    #[error("access_denied")]
    AccessDenied,
    #[error("too many failures; retry in {retry_after} s")]
    TooManyRequests { retry_after: u64 },
    /// The database refuses work for now; nothing was stored.
    #[error("temporarily_unavailable: {}", .0.as_str())]
    Unavailable(Fault),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<ServiceError> for OAuthError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::TooManyRequests { retry_after } => {
                OAuthError::TooManyRequests { retry_after }
            }
            ServiceError::Unavailable(fault) => OAuthError::Unavailable(fault),
            other => OAuthError::Internal(other.to_string()),
        }
    }
}

impl From<StoreError> for OAuthError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(fault) => OAuthError::Unavailable(fault),
            other => OAuthError::Internal(other.to_string()),
        }
    }
}

impl OAuthError {
    /// The RFC 6749 error code.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::UnauthorizedClient => "unauthorized_client",
            OAuthError::UnsupportedGrantType => "unsupported_grant_type",
            OAuthError::InvalidScope => "invalid_scope",
            OAuthError::AccessDenied => "access_denied",
            OAuthError::TooManyRequests { .. } => "slow_down",
            OAuthError::Unavailable(_) => "temporarily_unavailable",
            OAuthError::Internal(_) => "server_error",
        }
    }

    /// Words for the integrator; never a secret.
    pub fn description(&self) -> String {
        match self {
            OAuthError::InvalidRequest(d) | OAuthError::InvalidGrant(d) => d.clone(),
            OAuthError::InvalidClient => {
                "Autenticación del cliente fallida (Clave o Secreto incorrectos, o consumidor deshabilitado)".into()
            }
            OAuthError::UnauthorizedClient => {
                "El tipo de autorización del consumidor no permite este grant_type".into()
            }
            OAuthError::UnsupportedGrantType => "grant_type no soportado".into(),
            OAuthError::InvalidScope => {
                "El scope pedido excede lo que permite el grupo de permisos del consumidor".into()
            }
            OAuthError::AccessDenied => "Se necesita el rol Administrador".into(),
            OAuthError::TooManyRequests { retry_after } => {
                format!("Demasiados intentos fallidos; reintente en {retry_after} s")
            }
            OAuthError::Unavailable(fault) => fault.detail().into(),
            OAuthError::Internal(_) => "Error interno del servidor".into(),
        }
    }
}

/// Client credentials as presented (Basic or body).
#[derive(Clone)]
pub struct ClientAuth {
    pub client_id: String,
    pub client_secret: SecretText,
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuth")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// The token endpoint's parameters, besides client authentication.
#[derive(Clone, Default)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub scope: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
}

/// Who calls introspection or revocation.
#[derive(Debug, Clone)]
pub enum TokenCaller {
    Client(ClientAuth),
    /// A console session token.
    Session(SecretText),
    None,
}

/// Why a bearer token is refused at a protected endpoint (RFC 6750 §3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessDenied {
    /// No credentials at all.
    Missing,
    /// Expired, revoked, forged or malformed.
    InvalidToken,
    /// Valid, but without `{module}:view`; carries the scope that would do.
    InsufficientScope(String),
    UnknownModule,
    /// A Hawk request that fails; the reason is safe to show.
    Hawk(&'static str),
    /// A Hawk timestamp too far from ours: our time and its MAC (`ts`, `tsm`).
    HawkStale {
        ts: i64,
        tsm: String,
    },
}

/// A consumer as the token endpoint needs it: credentials and its group's scopes.
pub(crate) struct CachedClient {
    pub credentials: ConsumerCredentials,
    pub scopes: BTreeSet<String>,
    /// `scopes` joined: what a token request that names no scope is granted.
    pub all_scopes: String,
}

impl CachedClient {
    /// The scopes of a space-separated `scope` that the consumer's group still grants: a
    /// grant or token never outlives the group it came from.
    fn still_granted(&self, scope: &str) -> BTreeSet<String> {
        scope
            .split(' ')
            .filter(|s| self.scopes.contains(*s))
            .map(String::from)
            .collect()
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ClientCut {
    pub(super) disabled: bool,
    pub(super) deleted: bool,
    /// Tokens issued before this instant (ms) are refused.
    pub(super) not_before_ms: i64,
}

/// The consumers the token endpoint has read, by client_id.
#[derive(Default)]
struct ClientCache {
    clients: HashMap<String, Arc<CachedClient>>,
    /// Counts the times something was forgotten: a client read from the database is cached
    /// only if nothing was forgotten meanwhile, so that a read which started before a
    /// change committed cannot bring the old state back after the change was seen.
    generation: u64,
}

impl ClientCache {
    fn forget(&mut self, client_id: &str) {
        self.clients.remove(client_id);
        self.generation += 1;
    }
}

/// What the service keeps in memory for tokens.
#[derive(Default)]
pub(crate) struct TokenState {
    clients: RwLock<ClientCache>,
    pub(super) cuts: RwLock<HashMap<String, ClientCut>>,
    /// Revoked access-token ids and their expiry (s).
    pub(super) revoked: RwLock<HashMap<String, i64>>,
    /// Grants (refresh-token families) that ended early, and when the last access token
    /// issued under them expires (s).
    pub(super) ended_grants: RwLock<HashMap<String, i64>>,
    /// Issued and failed counts per Unix hour, not yet flushed.
    pending: Mutex<BTreeMap<i64, (u64, u64)>>,
    /// Hawk nonces seen, with their timestamps.
    pub(crate) hawk_nonces: Mutex<HashMap<String, i64>>,
}

pub(super) fn read<T>(lock: &RwLock<T>) -> parking_lot::RwLockReadGuard<'_, T> {
    lock.read()
}

pub(super) fn write<T>(lock: &RwLock<T>) -> parking_lot::RwLockWriteGuard<'_, T> {
    lock.write()
}

impl TokenState {
    fn count(&self, at: DateTime<Utc>, issued: u64, failed: u64) {
        let mut pending = self.pending.lock();
        let entry = pending.entry(at.timestamp() / 3600).or_default();
        entry.0 += issued;
        entry.1 += failed;
    }

    pub(crate) fn forget_client(&self, client_id: &str) {
        write(&self.clients).forget(client_id);
    }

    pub(crate) fn forget_all_clients(&self) {
        let mut cache = write(&self.clients);
        cache.clients.clear();
        cache.generation += 1;
    }

    /// Forgets the consumers of a permission group, whose scopes may have changed.
    pub(crate) fn forget_group(&self, group_id: Uuid) {
        let mut cache = write(&self.clients);
        cache
            .clients
            .retain(|_, client| client.credentials.consumer.permission_group_id != group_id);
        cache.generation += 1;
    }

    /// The database holds this `version` of the consumer now (a change the feed told):
    /// a cached copy at least as new stays (the change was this replica's own, and it
    /// read the result already); an older one is forgotten. A first version cannot race
    /// with an older read, so with nothing cached it forgets nothing.
    pub(crate) fn consumer_version_seen(&self, client_id: &str, version: i64) {
        let mut cache = write(&self.clients);
        match cache.clients.get(client_id) {
            Some(cached) if cached.credentials.consumer.version >= version => {}
            None if version <= 1 => {}
            _ => cache.forget(client_id),
        }
    }
}

impl Service {
    /// The issuer: the server's base URL.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audience of access tokens: this server's API.
    fn audience(&self) -> &str {
        &self.audience
    }

    pub fn metadata(&self) -> ServerMetadata {
        let issuer = self.issuer();
        let methods = vec![
            "client_secret_basic".to_string(),
            "client_secret_post".to_string(),
        ];
        ServerMetadata {
            authorization_endpoint: format!("{issuer}/oauth/authorize"),
            token_endpoint: format!("{issuer}/oauth/token"),
            introspection_endpoint: format!("{issuer}/oauth/introspect"),
            revocation_endpoint: format!("{issuer}/oauth/revoke"),
            jwks_uri: format!("{issuer}/.well-known/jwks.json"),
            grant_types_supported: vec![
                "client_credentials".into(),
                "authorization_code".into(),
                "refresh_token".into(),
            ],
            response_types_supported: vec!["code".into()],
            response_modes_supported: vec!["query".into()],
            token_endpoint_auth_methods_supported: methods.clone(),
            introspection_endpoint_auth_methods_supported: methods.clone(),
            revocation_endpoint_auth_methods_supported: methods,
            code_challenge_methods_supported: vec!["S256".into()],
            scopes_supported: all_scopes(),
            authorization_response_iss_parameter_supported: true,
            issuer: issuer.to_string(),
        }
    }

    pub fn jwks(&self) -> Jwks {
        self.keys.jwks()
    }

    /// The JWT signing keys, current first: any signed-in user (the JWKS is public anyway).
    pub fn signing_keys(&self, caller: &Caller) -> ServiceResult<Vec<SigningKeyInfo>> {
        self.user(caller)?;
        Ok(self.keys.infos())
    }

    /// Makes a new JWT signing key of every algorithm current (Súper Administrador only);
    /// tokens signed with the previous ones still verify until their key falls out of the
    /// kept set. Audited.
    pub async fn rotate_signing_key(&self, caller: &Caller) -> ServiceResult<Vec<SigningKeyInfo>> {
        self.super_admin(caller)?;
        let kids = match self.rotate_stored_signing_keys().await? {
            Some(kids) => kids,
            None => {
                // Writing and syncing the key file blocks: off the async workers.
                let (keys, now, ttl) =
                    (self.keys.clone(), self.now(), self.config.access_token_ttl);
                tokio::task::spawn_blocking(move || keys.rotate(now, ttl))
                    .await
                    .map_err(|e| ServiceError::Internal(e.to_string()))??
            }
        };
        let event = self.audit(
            caller,
            AuditAction::Rotate,
            modules::OAUTH,
            kids.join(" "),
            "Claves de firma JWT rotadas (EdDSA, ES256, RS256): los tokens JWT nuevos se firman con ellas",
        );
        self.store.record(&event).await?;
        Ok(self.keys.infos())
    }

    /// The token keys (for wiring and tests).
    pub fn token_keys(&self) -> &TokenKeys {
        &self.keys
    }

    // --- start, stats ----------------------------------------------------------------

    /// Loads the revoked tokens and cut consumers that are still relevant. Called once at
    /// start, before serving.
    pub async fn load_token_state(&self) -> ServiceResult<()> {
        let now = self.now();
        let since = now - self.config.access_token_ttl - Duration::minutes(5);
        let mut cuts = HashMap::new();
        for state in self.store.consumer_token_states(since).await? {
            cuts.insert(
                state.client_id,
                ClientCut {
                    disabled: !state.enabled,
                    deleted: false,
                    not_before_ms: state.tokens_not_before.timestamp_millis(),
                },
            );
        }
        let mut revoked = HashMap::new();
        let mut ended_grants = HashMap::new();
        for revocation in self.store.revocations(now).await? {
            match revocation.kind {
                RevocationKind::Token => {
                    revoked.insert(revocation.id, revocation.expires_at.timestamp());
                }
                RevocationKind::Grant => {
                    ended_grants.insert(revocation.id, revocation.expires_at.timestamp());
                }
                RevocationKind::Client => {
                    cuts.entry(revocation.client_id).or_default().deleted = true;
                }
            }
        }
        *write(&self.tokens.cuts) = cuts;
        *write(&self.tokens.revoked) = revoked;
        *write(&self.tokens.ended_grants) = ended_grants;
        // Blocks are shared state too: a restarted replica keeps refusing what was refused.
        self.load_shared_blocks().await
    }

    /// Writes the counts aggregated since the last flush to the hourly `token_stats`.
    pub async fn flush_token_stats(&self) -> ServiceResult<()> {
        let pending = std::mem::take(&mut *self.tokens.pending.lock());
        if pending.is_empty() {
            return Ok(());
        }
        let stats: Vec<TokenStat> = pending
            .iter()
            .map(|(hour, (issued, failed))| TokenStat {
                hour: *hour,
                issued: *issued,
                failed: *failed,
            })
            .collect();
        if let Err(err) = self.store.add_token_stats(&stats).await {
            // Keep the counts for the next flush.
            let mut current = self.tokens.pending.lock();
            for (hour, (issued, failed)) in pending {
                let entry = current.entry(hour).or_default();
                entry.0 += issued;
                entry.1 += failed;
            }
            return Err(err.into());
        }
        Ok(())
    }

    /// Counts not yet flushed, per hour (for the dashboard).
    pub(crate) fn pending_token_stats(&self) -> Vec<TokenStat> {
        self.tokens
            .pending
            .lock()
            .iter()
            .map(|(hour, (issued, failed))| TokenStat {
                hour: *hour,
                issued: *issued,
                failed: *failed,
            })
            .collect()
    }

    // --- consumer writes seen by the token state --------------------------------------

    pub(crate) fn consumer_changed(&self, consumer: &Consumer) {
        self.tokens.forget_client(&consumer.client_id);
        let mut cuts = write(&self.tokens.cuts);
        let cut = cuts.entry(consumer.client_id.clone()).or_default();
        cut.disabled = !consumer.enabled;
    }

    /// A consumer's state as the database holds it now (a change made elsewhere).
    pub(crate) fn consumer_state_seen(&self, state: &ConsumerTokenState) {
        let mut cuts = write(&self.tokens.cuts);
        let cut = cuts.entry(state.client_id.clone()).or_default();
        cut.disabled = !state.enabled;
        cut.not_before_ms = cut
            .not_before_ms
            .max(state.tokens_not_before.timestamp_millis());
    }

    pub(crate) fn consumer_tokens_cut(&self, client_id: &str, at: DateTime<Utc>) {
        self.tokens.forget_client(client_id);
        let mut cuts = write(&self.tokens.cuts);
        let cut = cuts.entry(client_id.to_string()).or_default();
        cut.not_before_ms = cut.not_before_ms.max(at.timestamp_millis());
    }

    /// Remembers (durably) that a deleted consumer's tokens are void. Like every change of
    /// the token state, memory follows the database only once it holds the change.
    pub(crate) async fn consumer_deleted(&self, client_id: &str) -> ServiceResult<()> {
        let now = self.now();
        self.store
            .insert_revocation(&Revocation {
                kind: RevocationKind::Client,
                id: client_id.to_string(),
                client_id: client_id.to_string(),
                at: now,
                expires_at: now + self.config.access_token_ttl + Duration::minutes(5),
            })
            .await?;
        self.tokens.forget_client(client_id);
        write(&self.tokens.cuts)
            .entry(client_id.to_string())
            .or_default()
            .deleted = true;
        Ok(())
    }

    // --- client authentication -------------------------------------------------------

    /// The consumer's credentials if they are in memory; never reads the database.
    fn client_in_memory(&self, client_id: &str) -> Option<Arc<CachedClient>> {
        read(&self.tokens.clients).clients.get(client_id).cloned()
    }

    pub(crate) async fn cached_client(
        &self,
        client_id: &str,
    ) -> ServiceResult<Option<Arc<CachedClient>>> {
        let generation = {
            let cache = read(&self.tokens.clients);
            if let Some(found) = cache.clients.get(client_id) {
                return Ok(Some(found.clone()));
            }
            cache.generation
        };
        let credentials = match self.store.consumer_credentials(client_id).await {
            Ok(c) => c,
            Err(StoreError::NotFound) => return Ok(None),
            Err(other) => return Err(other.into()),
        };
        let scopes = self
            .store
            .group(credentials.consumer.permission_group_id)
            .await?
            .scopes();
        let entry = Arc::new(CachedClient {
            credentials,
            all_scopes: join_scopes(&scopes),
            scopes,
        });
        let mut cache = write(&self.tokens.clients);
        if cache.generation != generation {
            return Ok(Some(entry));
        }
        if cache.clients.len() >= MAX_CACHED_CLIENTS {
            cache.clients.clear();
        }
        cache.clients.insert(client_id.to_string(), entry.clone());
        Ok(Some(entry))
    }

    fn secret_matches(&self, client: &CachedClient, presented: &str) -> bool {
        let c = &client.credentials;
        let current = secret::matches(presented, &c.secret_digest);
        let previous = match (&c.previous_secret_digest, c.previous_secret_valid_until) {
            (Some(digest), Some(until)) => self.now() < until && secret::matches(presented, digest),
            _ => false,
        };
        current || previous
    }

    /// The audit entry of a refused client. A client_id that cannot be real is kept
    /// shortened, with its length, never raw.
    fn client_denial(&self, ip: IpAddr, client_id: Option<&str>, what: &str) -> NewAuditEvent {
        let shown = client_id.map(crate::domain::names::shown_identifier);
        NewAuditEvent {
            at: self.now(),
            ip: ip.to_string(),
            actor: match &shown {
                Some(id) => Actor::consumer(id),
                None => Actor::anonymous(),
            },
            action: AuditAction::Denied,
            module: modules::OAUTH.to_string(),
            target: shown.map(|s| s.into_owned()).unwrap_or_default(),
            description: what.to_string(),
        }
    }

    async fn deny_client(&self, ip: IpAddr, client_id: Option<&str>, what: &str) {
        let event = self.client_denial(ip, client_id, what);
        if let Err(err) = self.store.record(&event).await {
            tracing::warn!(error = %err, "could not record a denial in the audit log");
        }
    }

    /// The consumer whose credentials these are: current secret, or the previous one during
    /// its grace; enabled. Failures are throttled per client_id and per address, counted
    /// for the dashboard and audited. Only failures are refused while a client or an
    /// address is throttled: the right credentials still pass, so someone who hammers a
    /// Clave (or shares an address with its owner) cannot lock the integration out. With
    /// 256-bit secrets a refused guess and a slowed one protect the same.
    pub(crate) async fn authenticate_client(
        &self,
        ip: IpAddr,
        auth: Option<&ClientAuth>,
    ) -> Result<Arc<CachedClient>, OAuthError> {
        // Formatted only when needed: with nothing blocked, the right credentials pass
        // without it.
        let ip_key = || throttle::address_key("client-ip", ip);
        let Some(auth) = auth else {
            return Err(Box::pin(self.refuse_anonymous(ip)).await);
        };
        let client_id = auth.client_id.as_str();
        let ip_throttled = if self.throttle.anything_blocked() {
            self.throttle.check(&ip_key()).err()
        } else {
            None
        };
        let presented = auth.client_secret.expose();
        let id_plausible = !client_id.is_empty() && client_id.len() <= 64;
        let in_memory = id_plausible
            .then(|| self.client_in_memory(client_id))
            .flatten();
        // A secret that matches a stored digest is one the server generated, so it is well
        // formed: its checksum is only worth checking before a database read, or to name
        // a failure.
        if let Some(client) = &in_memory
            && client.credentials.consumer.enabled
            && self.secret_matches(client, presented)
        {
            return Ok(client.clone());
        }
        let plausible = id_plausible && secret::is_well_formed(SecretKind::ClientSecret, presented);
        let client = match (plausible, in_memory, ip_throttled) {
            (false, _, _) => None,
            (true, Some(client), _) => Some(client),
            // A throttled address gets no database reads: only clients already in memory.
            (true, None, Some(_)) => None,
            (true, None, None) => Box::pin(self.cached_client(client_id)).await?,
        };
        match client {
            Some(client)
                if client.credentials.consumer.enabled
                    && self.secret_matches(&client, presented) =>
            {
                Ok(client)
            }
            // Boxed: the failures' futures would otherwise be part of every request's.
            found => Err(Box::pin(self.refuse_client(ip, client_id, found, ip_throttled)).await),
        }
    }

    /// The answer to a request without client credentials: throttled per address, counted
    /// and audited.
    async fn refuse_anonymous(&self, ip: IpAddr) -> OAuthError {
        let ip_key = throttle::address_key("client-ip", ip);
        if let Err(retry_after) = self.throttle.check(&ip_key) {
            return self.refuse_throttled(ip, None, &ip_key, retry_after).await;
        }
        self.throttle
            .fail(&ip_key, self.config.client_failures_per_ip);
        if let Some((_, retry_after)) = self
            .count_shared_failures(&[(&ip_key, self.config.client_failures_per_ip)])
            .await
        {
            return self.refuse_throttled(ip, None, &ip_key, retry_after).await;
        }
        self.tokens.count(self.now(), 0, 1);
        self.deny_client(ip, None, "solicitud OAuth sin credenciales de cliente")
            .await;
        OAuthError::InvalidClient
    }

    /// The answer to wrong client credentials (`found`: the consumer of that Clave, if
    /// any): throttled, or counted as a failure, audited and answered after the failure's
    /// delay.
    async fn refuse_client(
        &self,
        ip: IpAddr,
        client_id: &str,
        found: Option<Arc<CachedClient>>,
        ip_throttled: Option<u64>,
    ) -> OAuthError {
        let ip_key = throttle::address_key("client-ip", ip);
        let client_key = format!("client:{client_id}");
        let throttled = match self.throttle.check(&client_key) {
            Err(retry_after) => Some((retry_after, &client_key)),
            Ok(()) => ip_throttled.map(|retry_after| (retry_after, &ip_key)),
        };
        if let Some((retry_after, key)) = throttled {
            return self
                .refuse_throttled(ip, Some(client_id), key, retry_after)
                .await;
        }
        let delay = self
            .throttle
            .fail(&client_key, self.config.client_failures_per_client);
        let _ = self
            .throttle
            .fail(&ip_key, self.config.client_failures_per_ip);
        // Failures only: the right credentials above never wait for the database.
        // A key another replica already refuses is answered as throttled here too.
        let keys = [
            (client_key.as_str(), self.config.client_failures_per_client),
            (ip_key.as_str(), self.config.client_failures_per_ip),
        ];
        if let Some((i, retry_after)) = self.count_shared_failures(&keys).await {
            return self
                .refuse_throttled(ip, Some(client_id), keys[i].0, retry_after)
                .await;
        }
        self.tokens.count(self.now(), 0, 1);
        let what = match found {
            Some(c) if !c.credentials.consumer.enabled => {
                "autenticación de cliente: consumidor deshabilitado"
            }
            Some(_) => "autenticación de cliente: secreto incorrecto",
            None => "autenticación de cliente: Clave desconocida",
        };
        self.deny_client(ip, Some(client_id), what).await;
        tokio::time::sleep(delay).await;
        OAuthError::InvalidClient
    }

    /// A failed authentication while its client or address (`key`) is refused: counted
    /// in the key's audit row of this minute, answered 429 with `Retry-After`.
    async fn refuse_throttled(
        &self,
        ip: IpAddr,
        client_id: Option<&str>,
        key: &str,
        retry_after: u64,
    ) -> OAuthError {
        self.tokens.count(self.now(), 0, 1);
        let event = self.client_denial(
            ip,
            client_id,
            "autenticación de cliente frenada por exceso de fallos",
        );
        self.record_refusal(&event, key).await;
        OAuthError::TooManyRequests { retry_after }
    }

    // --- the token endpoint ----------------------------------------------------------

    /// `POST /oauth/token`.
    pub async fn token(
        &self,
        ip: IpAddr,
        auth: Option<&ClientAuth>,
        request: TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let client = self.authenticate_client(ip, auth).await?;
        let grant = request
            .grant_type
            .as_deref()
            .ok_or_else(|| OAuthError::InvalidRequest("Falta grant_type".into()))?;
        let consumer = &client.credentials.consumer;
        let result = match grant {
            "client_credentials" => {
                if consumer.grant_type != GrantType::ClientCredentials {
                    Err(OAuthError::UnauthorizedClient)
                } else {
                    let asked = request
                        .scope
                        .as_deref()
                        .filter(|asked| !asked.bytes().all(|b| b == b' '));
                    match asked {
                        // No scope asked for: all of the group's, joined once per client.
                        None => self.issue(&client, &client.all_scopes, None).await,
                        Some(asked) => {
                            let scopes = narrow_scopes(&client.scopes, Some(asked))
                                .map_err(|_| OAuthError::InvalidScope)?;
                            self.issue(&client, &join_scopes(&scopes), None).await
                        }
                    }
                }
            }
            "authorization_code" => {
                if consumer.grant_type != GrantType::AuthorizationCode {
                    Err(OAuthError::UnauthorizedClient)
                } else {
                    Box::pin(self.exchange_code(&client, &request)).await
                }
            }
            "refresh_token" => {
                if consumer.grant_type != GrantType::AuthorizationCode {
                    Err(OAuthError::UnauthorizedClient)
                } else {
                    Box::pin(self.exchange_refresh_token(&client, &request)).await
                }
            }
            _ => Err(OAuthError::UnsupportedGrantType),
        };
        if result.is_ok() {
            super::counters::token_issued(grant, consumer.token_format);
        }
        if let Err(err) = &result
            && !matches!(err, OAuthError::Internal(_))
        {
            // Boxed, as the grants of the code flow above: only client_credentials' future
            // is part of every request's.
            Box::pin(self.deny_client(
                ip,
                Some(&consumer.client_id),
                &format!("token denegado: {}", err.code()),
            ))
            .await;
        }
        result
    }

    /// A new access token (and, for the code flow, a refresh token of `family`).
    async fn issue(
        &self,
        client: &CachedClient,
        scope: &str,
        family: Option<(Uuid, Option<Uuid>)>,
    ) -> Result<TokenResponse, OAuthError> {
        let consumer = &client.credentials.consumer;
        let now = self.now();
        let ttl = self.config.access_token_ttl;
        let access_token = self.mint_access_token(
            consumer,
            scope,
            now,
            family.map(|(id, _)| id),
            family.and_then(|(_, user)| user),
        )?;
        let refresh_token = match family {
            Some((family_id, user_id)) => {
                let token = secret::generate(SecretKind::RefreshToken);
                // Boxed: client_credentials never waits here, and its requests' futures
                // need not hold room for the database's.
                Box::pin(self.store.insert_refresh_token(&RefreshTokenRecord {
                    digest: secret::digest(&token),
                    family_id,
                    consumer_id: consumer.id,
                    client_id: consumer.client_id.clone(),
                    user_id,
                    scope: scope.to_string(),
                    issued_at: now,
                    expires_at: now + self.config.refresh_token_ttl,
                }))
                .await?;
                Some(SecretText::new(token))
            }
            None => None,
        };
        self.tokens.count(now, 1, 0);
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer".into(),
            expires_in: ttl.num_seconds().max(0) as u64,
            scope: scope.to_string(),
            refresh_token,
        })
    }

    /// An access token for `consumer`, the one place its claims are built: `grant` is the
    /// refresh-token family of the code flow, so the token dies with its grant, and `user`
    /// the user who consented there, its subject (RFC 9068 §2.2); without one the subject
    /// is the consumer.
    fn mint_access_token(
        &self,
        consumer: &Consumer,
        scope: &str,
        now: DateTime<Utc>,
        grant: Option<Uuid>,
        user: Option<Uuid>,
    ) -> Result<SecretText, OAuthError> {
        // A UUIDv7 of the issue instant; its random part comes from the thread's CSPRNG
        // rather than a getrandom system call per token.
        let jti = uuid::Builder::from_unix_timestamp_millis(
            now.timestamp_millis().max(0) as u64,
            &rand::random::<[u8; 10]>(),
        )
        .into_uuid();
        let user = user.map(|id| id.to_string());
        let sub = user.as_deref().unwrap_or(&consumer.client_id);
        let iat = now.timestamp();
        let exp = (now + self.config.access_token_ttl).timestamp();
        let token = match consumer.token_format {
            TokenFormat::Jwt => {
                let (mut jti_text, mut sid_text) =
                    (uuid::Uuid::encode_buffer(), uuid::Uuid::encode_buffer());
                let claims = AccessClaims::<&str> {
                    iss: self.issuer(),
                    sub,
                    aud: self.audience(),
                    iat,
                    exp,
                    jti: jti.hyphenated().encode_lower(&mut jti_text),
                    client_id: &consumer.client_id,
                    scope,
                    sid: grant.map(|id| &*id.hyphenated().encode_lower(&mut sid_text)),
                };
                self.keys.sign_jwt(consumer.access_token_alg, &claims)?
            }
            TokenFormat::Opaque => self.seal_opaque(&OpaqueClaims {
                sub: sub.into(),
                cid: (sub != consumer.client_id).then(|| consumer.client_id.as_str().into()),
                iat,
                exp,
                jti,
                scope: scope.into(),
                sid: grant,
            })?,
        };
        Ok(SecretText::new(token))
    }

    /// `consola_at_` + the version 3 body in base64url + `.` + its HMAC tag bound to the
    /// issuer and audience, written into one string sized for it: the token endpoint's
    /// busiest allocation.
    fn seal_opaque(&self, claims: &OpaqueClaims<'_>) -> Result<String, OAuthError> {
        let mut body = Vec::with_capacity(claims.len());
        claims
            .write(&mut body)
            .map_err(|e| OAuthError::Internal(e.to_string()))?;
        let encoded_len = body.len().div_ceil(3) * 4;
        let mut token = String::with_capacity(OPAQUE_PREFIX.len() + encoded_len + 1 + 43);
        token.push_str(OPAQUE_PREFIX);
        URL_SAFE_NO_PAD.encode_string(&body, &mut token);
        let tag = self.keys.bound_tag(
            self.issuer(),
            self.audience(),
            &token[OPAQUE_PREFIX.len()..],
        );
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(tag, &mut token);
        Ok(token)
    }

    async fn exchange_code(
        &self,
        client: &CachedClient,
        request: &TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let code = request
            .code
            .as_deref()
            .ok_or_else(|| OAuthError::InvalidRequest("Falta code".into()))?;
        let redirect_uri = request
            .redirect_uri
            .as_deref()
            .ok_or_else(|| OAuthError::InvalidRequest("Falta redirect_uri".into()))?;
        let verifier = request
            .code_verifier
            .as_deref()
            .ok_or_else(|| OAuthError::InvalidRequest("Falta code_verifier (PKCE)".into()))?;
        let invalid = |what: &str| OAuthError::InvalidGrant(what.to_string());
        if !secret::is_well_formed(SecretKind::AuthorizationCode, code) {
            return Err(invalid("Código de autorización inválido"));
        }
        // Checked before the code is spent: a code presented by another client stays good
        // for the one it was issued to.
        match self
            .store
            .authorization_code_client(&secret::digest(code))
            .await
        {
            Ok(owner) if owner == client.credentials.consumer.client_id => {}
            Ok(_) => return Err(invalid("El código fue emitido para otro cliente")),
            Err(StoreError::NotFound) => return Err(invalid("Código de autorización inválido")),
            Err(other) => return Err(other.into()),
        }
        let record = match self
            .store
            .consume_authorization_code(&secret::digest(code), self.now())
            .await
        {
            Ok(CodeUse::Fresh(record)) => record,
            Ok(CodeUse::Reused(record)) => {
                // A replayed code: whatever it produced is suspect (RFC 6749 §4.1.2).
                self.end_grant(record.family_id, &record.client_id).await?;
                return Err(invalid("El código de autorización ya fue usado"));
            }
            Err(StoreError::NotFound) => return Err(invalid("Código de autorización inválido")),
            Err(other) => return Err(other.into()),
        };
        let consumer = &client.credentials.consumer;
        if record.client_id != consumer.client_id {
            return Err(invalid("El código fue emitido para otro cliente"));
        }
        if record.expires_at <= self.now() {
            return Err(invalid("El código de autorización venció"));
        }
        if record.redirect_uri != redirect_uri {
            return Err(invalid(
                "redirect_uri no coincide con la de la autorización",
            ));
        }
        if !is_valid_code_verifier(verifier)
            || !bool::from(subtle::ConstantTimeEq::ct_eq(
                pkce_s256(verifier).as_bytes(),
                record.code_challenge.as_bytes(),
            ))
        {
            return Err(invalid("code_verifier no corresponde al code_challenge"));
        }
        // The group may have shrunk since the consent.
        let scopes = client.still_granted(&record.scope);
        self.issue(
            client,
            &join_scopes(&scopes),
            Some((record.family_id, Some(record.user_id))),
        )
        .await
    }

    async fn exchange_refresh_token(
        &self,
        client: &CachedClient,
        request: &TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let presented = request
            .refresh_token
            .as_deref()
            .ok_or_else(|| OAuthError::InvalidRequest("Falta refresh_token".into()))?;
        let invalid = |what: &str| OAuthError::InvalidGrant(what.to_string());
        if !secret::is_well_formed(SecretKind::RefreshToken, presented) {
            return Err(invalid("refresh_token inválido"));
        }
        let now = self.now();
        let next = secret::generate(SecretKind::RefreshToken);
        let replacement = RefreshTokenRecord {
            digest: secret::digest(&next),
            family_id: Uuid::nil(),
            consumer_id: Uuid::nil(),
            client_id: String::new(),
            user_id: None,
            scope: String::new(),
            issued_at: now,
            expires_at: now + self.config.refresh_token_ttl,
        };
        let consumer = &client.credentials.consumer;
        let old = match self
            .store
            .use_refresh_token(
                &secret::digest(presented),
                &consumer.client_id,
                &replacement,
                now,
            )
            .await
        {
            Ok(RefreshUse::Rotated(old)) => old,
            Ok(RefreshUse::Reused(record)) => {
                // The store revoked the family's refresh tokens; its access tokens go too.
                self.end_grant(record.family_id, &record.client_id).await?;
                return Err(invalid(
                    "refresh_token ya usado: se revocó toda su familia de tokens",
                ));
            }
            Err(StoreError::NotFound) => return Err(invalid("refresh_token inválido")),
            Err(other) => return Err(other.into()),
        };
        if old.expires_at <= now {
            self.store.revoke_refresh_family(old.family_id).await?;
            return Err(invalid("refresh_token vencido"));
        }
        let granted = client.still_granted(&old.scope);
        let scopes = match request.scope.as_deref() {
            Some(asked) if !asked.trim().is_empty() => {
                narrow_scopes(&granted, Some(asked)).map_err(|_| OAuthError::InvalidScope)?
            }
            _ => granted,
        };
        let access_token = self.mint_access_token(
            consumer,
            &join_scopes(&scopes),
            now,
            Some(old.family_id),
            old.user_id,
        )?;
        self.tokens.count(now, 1, 0);
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer".into(),
            expires_in: self.config.access_token_ttl.num_seconds().max(0) as u64,
            scope: join_scopes(&scopes),
            refresh_token: Some(SecretText::new(next)),
        })
    }

    // --- validation -------------------------------------------------------------------

    /// The claims of an access token we issued that is unexpired and not revoked. Reads
    /// memory only.
    pub fn validate_access_token(&self, token: &str) -> Option<AccessClaims> {
        let claims = self.decode_access_token(token)?;
        claims
            .check(self.issuer(), self.audience(), self.now().timestamp())
            .ok()?;
        if read(&self.tokens.revoked).contains_key(&claims.jti) {
            return None;
        }
        if let Some(grant) = &claims.sid
            && read(&self.tokens.ended_grants).contains_key(grant)
        {
            return None;
        }
        if let Some(cut) = read(&self.tokens.cuts).get(&claims.client_id)
            && (cut.disabled || cut.deleted || claims.issued_at_ms() < cut.not_before_ms)
        {
            return None;
        }
        Some(claims)
    }

    /// The claims of a token with a valid tag or signature, whatever its state; they are
    /// checked by [`AccessClaims::check`].
    fn decode_access_token(&self, token: &str) -> Option<AccessClaims> {
        if token.len() > 8192 {
            return None;
        }
        if let Some(rest) = token.strip_prefix(OPAQUE_PREFIX) {
            let (body, tag) = rest.split_once('.')?;
            let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
            // Version 2 (bound to this issuer and audience), or a version 1 token from
            // before it, which names its own.
            let bound = self
                .keys
                .check_bound_tag(self.issuer(), self.audience(), body, &tag);
            if !bound && !self.keys.check_tag(body, &tag) {
                return None;
            }
            let body = URL_SAFE_NO_PAD.decode(body).ok()?;
            if body.first() == Some(&opaque_body::VERSION) {
                let claims = opaque_body::read(&body).filter(|_| bound)?;
                return Some(AccessClaims {
                    iss: self.issuer().to_owned(),
                    client_id: claims
                        .cid
                        .unwrap_or_else(|| claims.sub.clone())
                        .into_owned(),
                    sub: claims.sub.into_owned(),
                    aud: self.audience().to_owned(),
                    iat: claims.iat,
                    exp: claims.exp,
                    jti: claims.jti.to_string(),
                    scope: claims.scope.into_owned(),
                    sid: claims.sid.map(|sid| sid.to_string()),
                });
            }
            let body: JsonBody<'_> = serde_json::from_slice(&body).ok()?;
            let (iss, aud) = match (bound, body.v, body.iss, body.aud) {
                (true, 2, None, None) => (self.issuer().to_owned(), self.audience().to_owned()),
                (false, 1, Some(iss), Some(aud)) => (iss.into_owned(), aud.into_owned()),
                _ => return None,
            };
            return Some(AccessClaims {
                iss,
                client_id: body.cid.unwrap_or_else(|| body.sub.clone()).into_owned(),
                sub: body.sub.into_owned(),
                aud,
                iat: body.iat,
                exp: body.exp,
                jti: body.jti.into_owned(),
                scope: body.scope.into_owned(),
                sid: body.sid.map(Cow::into_owned),
            });
        }
        let payload = self.keys.verify_jwt(token)?;
        serde_json::from_slice(&payload).ok()
    }

    /// `GET /api/v1/modules/{module}/access` with a bearer access token.
    pub async fn module_access(
        &self,
        token: &str,
        module: &str,
    ) -> Result<ModuleAccess, AccessDenied> {
        let claims = self
            .validate_access_token(token)
            .ok_or(AccessDenied::InvalidToken)?;
        if !module_exists(module) {
            return Err(AccessDenied::UnknownModule);
        }
        let claims = self.with_current_scopes(claims).await;
        let actions = claims
            .module_actions(module)
            .ok_or_else(|| AccessDenied::InsufficientScope(format!("{module}:view")))?;
        Ok(ModuleAccess {
            module: module.to_string(),
            actions,
        })
    }

    /// The token's scopes narrowed to what its consumer's permission group allows now, so
    /// a group that loses a module takes it from live tokens at once (a group that gains
    /// one does not widen them). Reads memory; the database only when the consumer is not
    /// cached. If the database cannot answer, the token keeps the scopes it was issued.
    async fn with_current_scopes(&self, mut claims: AccessClaims) -> AccessClaims {
        match self.cached_client(&claims.client_id).await {
            Ok(Some(client)) => claims.scope = join_scopes(&client.still_granted(&claims.scope)),
            Ok(None) => claims.scope.clear(),
            Err(err) => {
                tracing::warn!(error = %err, "current scopes unavailable; using the token's own");
            }
        }
        claims
    }

    // --- introspection and revocation ------------------------------------------------

    /// Who is asking: a consumer (sees only its own tokens) or an admin (sees all).
    async fn token_caller(
        &self,
        ip: IpAddr,
        caller: &TokenCaller,
    ) -> Result<Option<String>, OAuthError> {
        match caller {
            TokenCaller::Client(auth) => {
                let client = self.authenticate_client(ip, Some(auth)).await?;
                Ok(Some(client.credentials.consumer.client_id.clone()))
            }
            TokenCaller::Session(token) => {
                let session = self
                    .authenticate(token.expose())
                    .await
                    .map_err(|_| OAuthError::InvalidClient)?;
                match session.user.role {
                    Role::SuperAdmin | Role::Admin => Ok(None),
                    Role::ReadOnly => Err(OAuthError::AccessDenied),
                }
            }
            TokenCaller::None => self.authenticate_client(ip, None).await.map(|_| None),
        }
    }

    /// RFC 7662. Anything not active for this caller answers `{"active": false}`.
    pub async fn introspect(
        &self,
        ip: IpAddr,
        caller: &TokenCaller,
        token: &str,
    ) -> Result<Introspection, OAuthError> {
        let owner = self.token_caller(ip, caller).await?;
        if secret::is_well_formed(SecretKind::RefreshToken, token) {
            return self.introspect_refresh_token(owner.as_deref(), token).await;
        }
        let Some(claims) = self.validate_access_token(token) else {
            return Ok(Introspection::inactive());
        };
        if owner.as_ref().is_some_and(|me| *me != claims.client_id) {
            return Ok(Introspection::inactive());
        }
        let claims = self.with_current_scopes(claims).await;
        Ok(Introspection {
            active: true,
            scope: Some(claims.scope),
            client_id: Some(claims.client_id),
            token_type: Some("Bearer".into()),
            exp: Some(claims.exp),
            iat: Some(claims.iat),
            sub: Some(claims.sub),
            aud: Some(claims.aud),
            iss: Some(claims.iss),
            jti: Some(claims.jti),
        })
    }

    async fn introspect_refresh_token(
        &self,
        owner: Option<&str>,
        token: &str,
    ) -> Result<Introspection, OAuthError> {
        let record = match self.store.live_refresh_token(&secret::digest(token)).await {
            Ok(record) => record,
            Err(StoreError::NotFound) => return Ok(Introspection::inactive()),
            Err(other) => return Err(other.into()),
        };
        let foreign = owner.is_some_and(|me| me != record.client_id);
        let cut = read(&self.tokens.cuts)
            .get(&record.client_id)
            .is_some_and(|c| c.disabled || c.deleted);
        if foreign || cut || record.expires_at <= self.now() {
            return Ok(Introspection::inactive());
        }
        Ok(Introspection {
            active: true,
            scope: Some(record.scope),
            client_id: Some(record.client_id.clone()),
            token_type: Some("refresh_token".into()),
            exp: Some(record.expires_at.timestamp()),
            iat: Some(record.issued_at.timestamp()),
            // The same subject as the grant's access tokens.
            sub: Some(record.user_id.map_or(record.client_id, |id| id.to_string())),
            iss: Some(self.issuer().to_string()),
            ..Introspection::default()
        })
    }

    /// RFC 7009: revokes an access token (by its id) or a refresh token (its whole family).
    /// Unknown, foreign and expired tokens are ignored, as the RFC asks.
    pub async fn revoke(
        &self,
        ip: IpAddr,
        caller: &TokenCaller,
        token: &str,
    ) -> Result<(), OAuthError> {
        let owner = self.token_caller(ip, caller).await?;
        let may = |client_id: &str| owner.as_deref().is_none_or(|me| me == client_id);
        if secret::is_well_formed(SecretKind::RefreshToken, token) {
            match self.store.live_refresh_token(&secret::digest(token)).await {
                Ok(record) if may(&record.client_id) => {
                    self.end_grant(record.family_id, &record.client_id).await?;
                }
                Ok(_) | Err(StoreError::NotFound) => {}
                Err(other) => return Err(other.into()),
            }
            return Ok(());
        }
        let Some(claims) = self.decode_access_token(token) else {
            return Ok(());
        };
        let checked = claims.check(self.issuer(), self.audience(), self.now().timestamp());
        if !may(&claims.client_id) || checked.is_err() {
            return Ok(());
        }
        if !self.room_for_revocation(&self.tokens.revoked) {
            // The list is full of live revocations: cut every token of the consumer issued
            // until now instead, which voids this one too (and, durably, its siblings).
            return self.cut_instead_of_listing(&claims.sub).await;
        }
        self.store
            .insert_revocation(&Revocation {
                kind: RevocationKind::Token,
                id: claims.jti.clone(),
                client_id: claims.client_id.clone(),
                at: self.now(),
                expires_at: DateTime::from_timestamp(claims.exp, 0).unwrap_or_else(|| self.now()),
            })
            .await?;
        write(&self.tokens.revoked).insert(claims.jti.clone(), claims.exp);
        self.prune_revoked();
        Ok(())
    }

    /// Ends a grant early: its refresh tokens are revoked and every access token issued
    /// under it stops working at once, here and after a restart.
    pub(crate) async fn end_grant(
        &self,
        family_id: Uuid,
        client_id: &str,
    ) -> Result<(), OAuthError> {
        self.store.revoke_refresh_family(family_id).await?;
        if !self.room_for_revocation(&self.tokens.ended_grants) {
            return self.cut_instead_of_listing(client_id).await;
        }
        let now = self.now();
        // No access token of the grant outlives this.
        let expires_at = now + self.config.access_token_ttl;
        self.store
            .insert_revocation(&Revocation {
                kind: RevocationKind::Grant,
                id: family_id.to_string(),
                client_id: client_id.to_string(),
                at: now,
                expires_at,
            })
            .await?;
        write(&self.tokens.ended_grants).insert(family_id.to_string(), expires_at.timestamp());
        self.prune_revoked();
        Ok(())
    }

    fn prune_revoked(&self) {
        let now = self.now().timestamp();
        let bound = self.config.max_revocations_in_memory;
        for map in [&self.tokens.revoked, &self.tokens.ended_grants] {
            let mut map = write(map);
            if map.len() >= bound / 2 {
                map.retain(|_, exp| *exp > now);
            }
        }
    }

    /// True when one more entry fits under the operator's bound
    /// (`max_revocations_in_memory`), after forgetting the moot ones.
    pub(super) fn room_for_revocation(&self, map: &RwLock<HashMap<String, i64>>) -> bool {
        let bound = self.config.max_revocations_in_memory;
        let mut map = write(map);
        if map.len() >= bound {
            let now = self.now().timestamp();
            map.retain(|_, exp| *exp > now);
        }
        map.len() < bound
    }

    /// Revokes by cutting: every access token of the consumer issued until now is void,
    /// here and after a restart. Used when the revocation list is at its bound.
    async fn cut_instead_of_listing(&self, client_id: &str) -> Result<(), OAuthError> {
        tracing::warn!(
            "revocation list at its bound; cutting the consumer's earlier tokens instead"
        );
        let now = self.now() + Duration::milliseconds(1);
        self.store.cut_consumer_tokens(client_id, now).await?;
        self.consumer_tokens_cut(client_id, now);
        Ok(())
    }

    /// Revoked access tokens and ended grants kept in memory (bounded by
    /// `max_revocations_in_memory`).
    pub fn revocations_in_memory(&self) -> usize {
        read(&self.tokens.revoked).len() + read(&self.tokens.ended_grants).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_credentials() {
        let secret = secret::generate(SecretKind::ClientSecret);
        let session = secret::generate(SecretKind::Session);
        let auth = ClientAuth {
            client_id: "abc".into(),
            client_secret: SecretText::new(secret.clone()),
        };
        let shown = format!(
            "{auth:?} {:?} {:?}",
            TokenCaller::Client(auth.clone()),
            TokenCaller::Session(SecretText::new(session.clone()))
        );
        assert!(shown.contains("abc"));
        assert!(!shown.contains(&secret) && !shown.contains(&session));
    }
}
