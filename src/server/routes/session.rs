//! Setup, login, logout, the signed-in user.

use crate::domain::*;
use crate::server::AppState;
use crate::server::extract::{JsonBody, setup_token};
use crate::server::problem::ApiResult;
use crate::service::Caller;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

#[utoipa::path(operation_id = "session_healthz", get, path = "/healthz", tag = "system",
    responses((status = 200, description = "The server is up", body = serde_json::Value)))]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

#[utoipa::path(operation_id = "session_readyz", get, path = "/readyz", tag = "system",
    responses((status = 200, description = "The database answers and takes writes", body = serde_json::Value),
        (status = 503, description = "The database does not answer, or refuses writes (a full disk, a read-only file…)",
            body = Problem, content_type = "application/problem+json")))]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    state.service.ready().await?;
    Ok(Json(serde_json::json!({ "status": "ready" })))
}

#[utoipa::path(operation_id = "session_setup_status", get, path = "/api/v1/setup", tag = "setup",
    responses((status = 200, body = SetupStatus),
        (status = 500, body = Problem, content_type = "application/problem+json")))]
pub async fn setup_status(State(state): State<AppState>) -> ApiResult<Json<SetupStatus>> {
    Ok(Json(state.service.setup_status().await?))
}

#[utoipa::path(operation_id = "session_setup", post, path = "/api/v1/setup", tag = "setup",
    request_body = SetupRequest,
    params(("X-Setup-Token" = Option<String>, Header, description = "One-time token printed by `consola serve`; needed beyond loopback")),
    responses((status = 201, description = "Account and Súper Administrador created", body = SessionUser),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not from loopback and no valid setup token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already set up", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn setup(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<SetupRequest>,
) -> ApiResult<(StatusCode, Json<SessionUser>)> {
    let token = setup_token(&headers);
    let user = state.service.setup(&caller, body, token.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[utoipa::path(operation_id = "session_login", post, path = "/api/v1/session", tag = "session",
    request_body = LoginRequest,
    responses((status = 200, description = "Signed in; the token is shown once", body = LoginResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong username or password", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failures; see Retry-After", body = Problem, content_type = "application/problem+json")))]
pub async fn login(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<LoginRequest>,
) -> ApiResult<Response> {
    let answer = state.service.login(&caller, body).await?;
    Ok(super::no_store(Json(answer)))
}

#[utoipa::path(operation_id = "session_logout", delete, path = "/api/v1/session", tag = "session", security(("bearer" = [])),
    responses((status = 204, description = "Signed out"),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    state.service.logout(&caller).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(operation_id = "session_me", get, path = "/api/v1/me", tag = "session", security(("bearer" = [])),
    responses((status = 200, body = SessionUser),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn me(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<SessionUser>> {
    Ok(Json(state.service.me(&caller)?))
}

#[utoipa::path(operation_id = "session_change_password", put, path = "/api/v1/me/password", tag = "session", security(("bearer" = [])),
    request_body = PasswordChange,
    responses((status = 204, description = "Password changed; other sessions ended"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<PasswordChange>,
) -> ApiResult<impl IntoResponse> {
    state.service.change_password(&caller, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(operation_id = "session_modules", get, path = "/api/v1/modules", tag = "permission-groups", security(("bearer" = [])),
    responses((status = 200, description = "The module catalog", body = Vec<Module>),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn modules(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<Module>>> {
    Ok(Json(state.service.modules(&caller)?))
}
