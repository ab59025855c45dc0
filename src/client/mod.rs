//! The typed HTTP client: one shared `reqwest::Client`, one method per route. Used by the
//! console, the command line and the tests alike; it holds no business state.

mod registration;

use crate::domain::front_door::FRONT_SECRET_HEADER;
use crate::domain::secret::SecretText;
use crate::domain::ssh_key::{NewSshKey, SshKey};
use crate::domain::*;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Why a call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error (problem+json).
    #[error("{}", .0.detail_or_title())]
    Api(Problem),
    /// The server could not be reached or the connection broke.
    #[error("No se pudo conectar con el servidor: {0}")]
    Network(String),
    /// The server did not answer in time.
    #[error("El servidor no respondió a tiempo")]
    Timeout,
    /// The answer was not what the API documents.
    #[error("Respuesta inesperada del servidor: {0}")]
    Decode(String),
}

impl Problem {
    fn detail_or_title(&self) -> &str {
        if self.detail.is_empty() {
            &self.title
        } else {
            &self.detail
        }
    }
}

impl ClientError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api(p) => Some(p.status),
            _ => None,
        }
    }

    pub fn problem(&self) -> Option<&Problem> {
        match self {
            ClientError::Api(p) => Some(p),
            _ => None,
        }
    }

    /// Per-field messages of a validation error (empty otherwise).
    pub fn field_errors(&self) -> FieldErrors {
        match self {
            ClientError::Api(p) => FieldErrors(p.errors.clone()),
            _ => FieldErrors::new(),
        }
    }

    fn from_reqwest(err: reqwest::Error) -> ClientError {
        if err.is_timeout() {
            ClientError::Timeout
        } else if err.is_decode() {
            ClientError::Decode(err.without_url().to_string())
        } else {
            // Without the URL: it may carry a query, and the message is shown to the admin.
            ClientError::Network(err.without_url().to_string())
        }
    }
}

pub type ClientResult<T> = Result<T, ClientError>;

/// A client of one server. Cheap to clone; clones share the connection pool.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Arc<str>,
    token: Option<SecretText>,
    /// Set by a front end of the server's own process (the SSH console): who is really
    /// asking, vouched for by the front end's secret.
    front: Option<Arc<FrontHeaders>>,
}

/// The headers an in-process front end adds to each request: `Forwarded: for=…` and
/// the secret that makes the server believe it.
struct FrontHeaders {
    forwarded: reqwest::header::HeaderValue,
    secret: reqwest::header::HeaderValue,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("signed_in", &self.token.is_some())
            .finish()
    }
}

impl Client {
    /// A client of the server at `base_url` (e.g. `http://127.0.0.1:8787`).
    pub fn new(base_url: &str) -> ClientResult<Client> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            // The server closes keep-alive connections idle for 5 s; dropping ours sooner
            // means no request is sent on a connection the server is closing.
            .pool_idle_timeout(Duration::from_secs(4))
            .user_agent(concat!("consola/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ClientError::from_reqwest)?;
        Ok(Client {
            http,
            base: base_url.trim_end_matches('/').into(),
            token: None,
            front: None,
        })
    }

    /// The same client, asking on behalf of a person at `address`: for a front end inside
    /// the server's process, whose `secret` the server checks before it believes the
    /// address (throttles and the audit log then see the person, not loopback).
    pub fn on_behalf_of(&self, address: std::net::IpAddr, secret: &SecretText) -> Client {
        let forwarded = match address {
            std::net::IpAddr::V4(v4) => format!("for={v4}"),
            std::net::IpAddr::V6(v6) => format!("for=\"[{v6}]\""),
        };
        let headers = reqwest::header::HeaderValue::from_str(&forwarded)
            .ok()
            .zip(reqwest::header::HeaderValue::from_str(secret.expose()).ok());
        Client {
            front: headers.map(|(forwarded, mut secret)| {
                secret.set_sensitive(true);
                Arc::new(FrontHeaders { forwarded, secret })
            }),
            ..self.clone()
        }
    }

    /// The same client, signed in with a session token.
    pub fn with_token(&self, token: SecretText) -> Client {
        Client {
            token: Some(token),
            ..self.clone()
        }
    }

    /// The same client, signed out.
    pub fn without_token(&self) -> Client {
        Client {
            token: None,
            ..self.clone()
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn token(&self) -> Option<&SecretText> {
        self.token.as_ref()
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut builder = self.http.request(method, format!("{}{path}", self.base));
        if let Some(front) = &self.front {
            builder = builder
                .header(reqwest::header::FORWARDED, front.forwarded.clone())
                .header(FRONT_SECRET_HEADER, front.secret.clone());
        }
        match &self.token {
            Some(token) => builder.bearer_auth(token.expose()),
            None => builder,
        }
    }

    async fn send(builder: RequestBuilder) -> ClientResult<reqwest::Response> {
        let response = builder.send().await.map_err(ClientError::from_reqwest)?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = response.bytes().await.map_err(ClientError::from_reqwest)?;
        let oauth = || {
            // OAuth endpoints answer RFC 6749 errors; their code becomes the problem's.
            serde_json::from_slice::<crate::domain::oauth::OAuthErrorBody>(&bytes)
                .ok()
                .map(|e| Problem {
                    kind: format!("urn:consola:{}", e.error),
                    title: e.error.clone(),
                    status: status.as_u16(),
                    detail: e.error_description,
                    errors: Default::default(),
                })
        };
        let mut problem = serde_json::from_slice::<Problem>(&bytes)
            .ok()
            .or_else(oauth)
            .unwrap_or_else(|| Problem {
                kind: "about:blank".into(),
                title: status.canonical_reason().unwrap_or("Error").into(),
                status: status.as_u16(),
                detail: format!("El servidor respondió {status}"),
                errors: Default::default(),
            });
        if status == StatusCode::TOO_MANY_REQUESTS
            && let Some(seconds) = retry_after
            && !problem.detail.contains(&seconds)
        {
            problem.detail = format!("{} (reintente en {seconds} s)", problem.detail);
        }
        Err(ClientError::Api(problem))
    }

    async fn json<T: DeserializeOwned>(builder: RequestBuilder) -> ClientResult<T> {
        let response = Self::send(builder).await?;
        response
            .json::<T>()
            .await
            .map_err(ClientError::from_reqwest)
    }

    async fn empty(builder: RequestBuilder) -> ClientResult<()> {
        Self::send(builder).await.map(|_| ())
    }

    // --- setup, session -------------------------------------------------------------

    pub async fn health(&self) -> ClientResult<()> {
        Self::empty(self.request(Method::GET, "/healthz")).await
    }

    pub async fn setup_status(&self) -> ClientResult<SetupStatus> {
        Self::json(self.request(Method::GET, "/api/v1/setup")).await
    }

    /// Creates the account and its Súper Administrador. `setup_token` is needed when the
    /// caller is not on the server's own machine.
    pub async fn setup(
        &self,
        request: &SetupRequest,
        setup_token: Option<&str>,
    ) -> ClientResult<SessionUser> {
        let mut builder = self.request(Method::POST, "/api/v1/setup").json(request);
        if let Some(token) = setup_token {
            builder = builder.header("X-Setup-Token", token);
        }
        Self::json(builder).await
    }

    pub async fn login(&self, username: &str, password: &str) -> ClientResult<LoginResponse> {
        let body = LoginRequest {
            username: username.to_string(),
            password: password.into(),
        };
        Self::json(self.request(Method::POST, "/api/v1/session").json(&body)).await
    }

    pub async fn logout(&self) -> ClientResult<()> {
        Self::empty(self.request(Method::DELETE, "/api/v1/session")).await
    }

    pub async fn me(&self) -> ClientResult<SessionUser> {
        Self::json(self.request(Method::GET, "/api/v1/me")).await
    }

    pub async fn change_password(&self, change: &PasswordChange) -> ClientResult<()> {
        Self::empty(
            self.request(Method::PUT, "/api/v1/me/password")
                .json(change),
        )
        .await
    }

    // --- account, legacy key ------------------------------------------------------------

    pub async fn account(&self) -> ClientResult<Account> {
        Self::json(self.request(Method::GET, "/api/v1/account")).await
    }

    pub async fn update_account(&self, patch: &AccountPatch) -> ClientResult<Account> {
        Self::json(self.request(Method::PATCH, "/api/v1/account").json(patch)).await
    }

    pub async fn api_key(&self) -> ClientResult<ApiKey> {
        Self::json(self.request(Method::GET, "/api/v1/api-key")).await
    }

    pub async fn api_key_secret(&self) -> ClientResult<ApiKeySecret> {
        Self::json(self.request(Method::GET, "/api/v1/api-key/secret")).await
    }

    pub async fn regenerate_api_key(&self) -> ClientResult<ApiKeySecret> {
        Self::json(self.request(Method::POST, "/api/v1/api-key/regenerate")).await
    }

    /// `GET /api/v1/signing-keys`: the JWT signing keys kept, current first.
    pub async fn signing_keys(&self) -> ClientResult<Vec<crate::domain::oauth::SigningKeyInfo>> {
        Self::json(self.request(Method::GET, "/api/v1/signing-keys")).await
    }

    /// `POST /api/v1/signing-keys/rotate` (Súper Administrador).
    pub async fn rotate_signing_key(
        &self,
    ) -> ClientResult<Vec<crate::domain::oauth::SigningKeyInfo>> {
        Self::json(self.request(Method::POST, "/api/v1/signing-keys/rotate")).await
    }

    // --- modules, groups ----------------------------------------------------------------

    pub async fn modules(&self) -> ClientResult<Vec<Module>> {
        Self::json(self.request(Method::GET, "/api/v1/modules")).await
    }

    pub async fn permission_groups(&self) -> ClientResult<Vec<PermissionGroup>> {
        Self::json(self.request(Method::GET, "/api/v1/permission-groups")).await
    }

    pub async fn permission_group(&self, id: Uuid) -> ClientResult<PermissionGroup> {
        Self::json(self.request(Method::GET, &format!("/api/v1/permission-groups/{id}"))).await
    }

    pub async fn create_permission_group(
        &self,
        group: &NewPermissionGroup,
    ) -> ClientResult<PermissionGroup> {
        Self::json(
            self.request(Method::POST, "/api/v1/permission-groups")
                .json(group),
        )
        .await
    }

    pub async fn update_permission_group(
        &self,
        id: Uuid,
        patch: &PermissionGroupPatch,
    ) -> ClientResult<PermissionGroup> {
        Self::json(
            self.request(Method::PATCH, &format!("/api/v1/permission-groups/{id}"))
                .json(patch),
        )
        .await
    }

    pub async fn delete_permission_group(&self, id: Uuid) -> ClientResult<()> {
        Self::empty(self.request(Method::DELETE, &format!("/api/v1/permission-groups/{id}"))).await
    }

    // --- users --------------------------------------------------------------------------

    pub async fn users(&self) -> ClientResult<Vec<User>> {
        Self::json(self.request(Method::GET, "/api/v1/users")).await
    }

    pub async fn user(&self, id: Uuid) -> ClientResult<User> {
        Self::json(self.request(Method::GET, &format!("/api/v1/users/{id}"))).await
    }

    pub async fn create_user(&self, user: &NewUser) -> ClientResult<User> {
        Self::json(self.request(Method::POST, "/api/v1/users").json(user)).await
    }

    pub async fn update_user(&self, id: Uuid, patch: &UserPatch) -> ClientResult<User> {
        Self::json(
            self.request(Method::PATCH, &format!("/api/v1/users/{id}"))
                .json(patch),
        )
        .await
    }

    pub async fn delete_user(&self, id: Uuid) -> ClientResult<()> {
        Self::empty(self.request(Method::DELETE, &format!("/api/v1/users/{id}"))).await
    }

    // --- SSH keys -------------------------------------------------------------------------

    pub async fn my_ssh_keys(&self) -> ClientResult<Vec<SshKey>> {
        Self::json(self.request(Method::GET, "/api/v1/me/ssh-keys")).await
    }

    pub async fn add_my_ssh_key(&self, key: &NewSshKey) -> ClientResult<SshKey> {
        Self::json(self.request(Method::POST, "/api/v1/me/ssh-keys").json(key)).await
    }

    pub async fn delete_my_ssh_key(&self, id: Uuid) -> ClientResult<()> {
        Self::empty(self.request(Method::DELETE, &format!("/api/v1/me/ssh-keys/{id}"))).await
    }

    pub async fn user_ssh_keys(&self, user: Uuid) -> ClientResult<Vec<SshKey>> {
        Self::json(self.request(Method::GET, &format!("/api/v1/users/{user}/ssh-keys"))).await
    }

    pub async fn delete_user_ssh_key(&self, user: Uuid, id: Uuid) -> ClientResult<()> {
        Self::empty(self.request(
            Method::DELETE,
            &format!("/api/v1/users/{user}/ssh-keys/{id}"),
        ))
        .await
    }

    // --- consumers ----------------------------------------------------------------------

    pub async fn consumers(&self, query: &ConsumerQuery) -> ClientResult<Page<Consumer>> {
        Self::json(self.request(Method::GET, "/api/v1/consumers").query(query)).await
    }

    pub async fn consumer(&self, id: Uuid) -> ClientResult<Consumer> {
        Self::json(self.request(Method::GET, &format!("/api/v1/consumers/{id}"))).await
    }

    pub async fn create_consumer(&self, consumer: &NewConsumer) -> ClientResult<CreatedConsumer> {
        Self::json(
            self.request(Method::POST, "/api/v1/consumers")
                .json(consumer),
        )
        .await
    }

    /// Edits a consumer. With `if_match` (the `version` the edit started from), a change made
    /// meanwhile by someone else answers 412 instead of being overwritten.
    pub async fn update_consumer(
        &self,
        id: Uuid,
        patch: &ConsumerPatch,
        if_match: Option<i64>,
    ) -> ClientResult<Consumer> {
        let mut builder = self
            .request(Method::PATCH, &format!("/api/v1/consumers/{id}"))
            .json(patch);
        if let Some(version) = if_match {
            builder = builder.header(reqwest::header::IF_MATCH, format!("\"{version}\""));
        }
        Self::json(builder).await
    }

    pub async fn delete_consumer(&self, id: Uuid) -> ClientResult<()> {
        Self::empty(self.request(Method::DELETE, &format!("/api/v1/consumers/{id}"))).await
    }

    pub async fn rotate_secret(
        &self,
        id: Uuid,
        rotate: &RotateSecret,
    ) -> ClientResult<RotatedSecret> {
        Self::json(
            self.request(
                Method::POST,
                &format!("/api/v1/consumers/{id}/rotate-secret"),
            )
            .json(rotate),
        )
        .await
    }

    // --- audit, dashboard, spec ---------------------------------------------------------

    pub async fn audit(&self, query: &AuditQuery) -> ClientResult<Page<AuditEvent>> {
        Self::json(self.request(Method::GET, "/api/v1/audit").query(query)).await
    }

    pub async fn dashboard(&self, query: &DashboardQuery) -> ClientResult<Dashboard> {
        Self::json(self.request(Method::GET, "/api/v1/dashboard").query(query)).await
    }

    pub async fn openapi(&self) -> ClientResult<serde_json::Value> {
        Self::json(self.request(Method::GET, "/api/v1/openapi.json")).await
    }

    // --- OAuth --------------------------------------------------------------------------

    /// `Authorization: Basic` with id and secret form-urlencoded first (RFC 6749 §2.3.1).
    pub fn basic_header(client_id: &str, client_secret: &SecretText) -> String {
        use base64::Engine;
        let encode =
            |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
        let pair = format!("{}:{}", encode(client_id), encode(client_secret.expose()));
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }

    /// `POST /oauth/token` with these parameters, authenticated with Basic when given.
    pub async fn oauth_token(
        &self,
        params: &[(&str, &str)],
        basic: Option<(&str, &SecretText)>,
    ) -> ClientResult<crate::domain::oauth::TokenResponse> {
        let mut builder = self
            .http
            .post(format!("{}/oauth/token", self.base))
            .form(params);
        if let Some((id, secret)) = basic {
            builder = builder.header(
                reqwest::header::AUTHORIZATION,
                Self::basic_header(id, secret),
            );
        }
        Self::json(builder).await
    }

    /// A client-credentials access token for the consumer (Basic authentication).
    pub async fn token_client_credentials(
        &self,
        client_id: &str,
        client_secret: &SecretText,
        scope: Option<&str>,
    ) -> ClientResult<crate::domain::oauth::TokenResponse> {
        let mut params = vec![("grant_type", "client_credentials")];
        if let Some(scope) = scope {
            params.push(("scope", scope));
        }
        self.oauth_token(&params, Some((client_id, client_secret)))
            .await
    }

    /// The form request of introspection and revocation: as the consumer (Basic) when
    /// given, else with this client's session.
    fn token_form(
        &self,
        path: &str,
        token: &str,
        client: Option<(&str, &SecretText)>,
    ) -> RequestBuilder {
        let builder = match client {
            Some((id, secret)) => self.http.post(format!("{}{path}", self.base)).header(
                reqwest::header::AUTHORIZATION,
                Self::basic_header(id, secret),
            ),
            None => self.request(Method::POST, path),
        };
        builder.form(&[("token", token)])
    }

    /// `POST /oauth/introspect` (RFC 7662).
    pub async fn introspect(
        &self,
        token: &str,
        client: Option<(&str, &SecretText)>,
    ) -> ClientResult<crate::domain::oauth::Introspection> {
        Self::json(self.token_form("/oauth/introspect", token, client)).await
    }

    /// `POST /oauth/revoke` (RFC 7009).
    pub async fn revoke(
        &self,
        token: &str,
        client: Option<(&str, &SecretText)>,
    ) -> ClientResult<()> {
        Self::empty(self.token_form("/oauth/revoke", token, client)).await
    }

    /// `GET /api/v1/modules/{module}/access` with an access token.
    pub async fn module_access(
        &self,
        access_token: &SecretText,
        module: &str,
    ) -> ClientResult<crate::domain::oauth::ModuleAccess> {
        Self::json(
            self.http
                .get(format!("{}/api/v1/modules/{module}/access", self.base))
                .bearer_auth(access_token.expose()),
        )
        .await
    }

    /// The same, signed with the legacy API key and secret (Hawk, deprecated).
    pub async fn module_access_hawk(
        &self,
        key: &str,
        secret: &SecretText,
        module: &str,
    ) -> ClientResult<crate::domain::oauth::ModuleAccess> {
        let path = format!("/api/v1/modules/{module}/access");
        let url = url::Url::parse(&format!("{}{path}", self.base))
            .map_err(|e| ClientError::Network(e.to_string()))?;
        let host = url.host_str().unwrap_or("").to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let nonce = hex::encode(crate::domain::secret::random_bytes::<8>());
        let (_, header) = crate::domain::hawk::sign(
            key,
            secret.expose(),
            chrono::Utc::now().timestamp(),
            &nonce,
            &crate::domain::hawk::HawkRequest {
                method: "GET",
                resource: url.path(),
                host: &host,
                port,
            },
        );
        Self::json(
            self.http
                .get(url)
                .header(reqwest::header::AUTHORIZATION, header),
        )
        .await
    }

    /// `GET /.well-known/oauth-authorization-server` (RFC 8414).
    pub async fn metadata(&self) -> ClientResult<crate::domain::oauth::ServerMetadata> {
        Self::json(self.http.get(format!(
            "{}/.well-known/oauth-authorization-server",
            self.base
        )))
        .await
    }

    /// `GET /.well-known/jwks.json`.
    pub async fn jwks(&self) -> ClientResult<crate::domain::oauth::Jwks> {
        Self::json(
            self.http
                .get(format!("{}/.well-known/jwks.json", self.base)),
        )
        .await
    }
}
