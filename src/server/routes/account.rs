//! The account, the legacy API key, the JWT signing keys, the audit log and the dashboard.

use crate::domain::oauth::SigningKeyInfo;
use crate::domain::*;
use crate::server::AppState;
use crate::server::extract::{JsonBody, QueryParams};
use crate::server::problem::ApiResult;
use crate::service::Caller;
use axum::Json;
use axum::extract::State;
use axum::response::Response;

#[utoipa::path(operation_id = "account_get", get, path = "/api/v1/account", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = Account),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn get(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Account>> {
    Ok(Json(state.service.account(&caller).await?))
}

#[utoipa::path(operation_id = "account_rename", patch, path = "/api/v1/account", tag = "account", security(("bearer" = [])),
    request_body = AccountPatch,
    responses((status = 200, body = Account),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn rename(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<AccountPatch>,
) -> ApiResult<Json<Account>> {
    Ok(Json(state.service.rename_account(&caller, body).await?))
}

#[utoipa::path(operation_id = "account_api_key", get, path = "/api/v1/api-key", tag = "api-key", security(("bearer" = [])),
    responses((status = 200, description = "The legacy key (deprecated authentication)", body = ApiKey),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn api_key(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ApiKey>> {
    Ok(Json(state.service.api_key(&caller).await?))
}

#[utoipa::path(operation_id = "account_api_key_secret", get, path = "/api/v1/api-key/secret", tag = "api-key", security(("bearer" = [])),
    responses((status = 200, description = "Ver API Secret: Súper Administrador only", body = ApiKeySecret),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn api_key_secret(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let secret = state.service.api_key_secret(&caller).await?;
    Ok(super::no_store(Json(secret)))
}

#[utoipa::path(operation_id = "account_regenerate_api_key", post, path = "/api/v1/api-key/regenerate", tag = "api-key", security(("bearer" = [])),
    responses((status = 200, description = "New key and secret", body = ApiKeySecret),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn regenerate_api_key(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Response> {
    let secret = state.service.regenerate_api_key(&caller).await?;
    Ok(super::no_store(Json(secret)))
}

#[utoipa::path(operation_id = "account_audit", get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])),
    params(AuditQuery),
    responses((status = 200, description = "Newest first", body = Page<AuditEvent>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<AuditQuery>,
) -> ApiResult<Json<Page<AuditEvent>>> {
    Ok(Json(state.service.audit_events(&caller, query).await?))
}

#[utoipa::path(operation_id = "account_dashboard", get, path = "/api/v1/dashboard", tag = "audit", security(("bearer" = [])),
    params(DashboardQuery),
    responses((status = 200, body = Dashboard),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn dashboard(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<DashboardQuery>,
) -> ApiResult<Json<Dashboard>> {
    Ok(Json(state.service.dashboard(&caller, query).await?))
}

#[utoipa::path(operation_id = "signing_keys_list", get, path = "/api/v1/signing-keys", tag = "oauth", security(("bearer" = [])),
    responses((status = 200, description = "The JWT signing keys kept, current first (never the keys themselves)", body = Vec<SigningKeyInfo>),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn signing_keys(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<SigningKeyInfo>>> {
    Ok(Json(state.service.signing_keys(&caller)?))
}

#[utoipa::path(operation_id = "signing_keys_rotate", post, path = "/api/v1/signing-keys/rotate", tag = "oauth", security(("bearer" = [])),
    responses((status = 200, description = "A new current key; the previous ones still verify. The keys kept, current first", body = Vec<SigningKeyInfo>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn rotate_signing_key(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<SigningKeyInfo>>> {
    Ok(Json(state.service.rotate_signing_key(&caller).await?))
}
