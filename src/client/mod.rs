//! The typed HTTP client: one shared `reqwest::Client`, one method per route. Used by the
//! console, the command line and the tests alike; it holds no business state.

use crate::domain::secret::SecretText;
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
            .user_agent(concat!("consola/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ClientError::from_reqwest)?;
        Ok(Client {
            http,
            base: base_url.trim_end_matches('/').into(),
            token: None,
        })
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
        let builder = self.http.request(method, format!("{}{path}", self.base));
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
        let mut problem = serde_json::from_slice::<Problem>(&bytes).unwrap_or_else(|_| Problem {
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
            password: password.to_string(),
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
}
