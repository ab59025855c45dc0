//! Protected resources (RFC 8707): the APIs tokens are issued for.

use crate::domain::*;
use crate::server::AppState;
use crate::server::extract::{IdPath, JsonBody};
use crate::server::problem::ApiResult;
use crate::service::Caller;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Json, Router, routing};

/// This file's routes, under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/resources", routing::get(list).post(create))
        .route("/resources/{id}", routing::delete(delete))
}

#[utoipa::path(operation_id = "resources_list", get, path = "/api/v1/resources", tag = "resources", security(("bearer" = [])),
    responses((status = 200, description = "Every protected resource, by name", body = Vec<ProtectedResource>),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<ProtectedResource>>> {
    Ok(Json(state.service.resources(&caller).await?))
}

#[utoipa::path(operation_id = "resources_create", post, path = "/api/v1/resources", tag = "resources", security(("bearer" = [])),
    request_body = NewProtectedResource,
    responses((status = 201, description = "Created; tokens may be asked for it from now on (`resource`, RFC 8707)", body = ProtectedResource),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name or URL taken", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewProtectedResource>,
) -> ApiResult<(StatusCode, Json<ProtectedResource>)> {
    let resource = state.service.create_resource(&caller, body).await?;
    Ok((StatusCode::CREATED, Json(resource)))
}

#[utoipa::path(operation_id = "resources_delete", delete, path = "/api/v1/resources/{id}", tag = "resources", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204, description = "Deleted; no new token is issued for it"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    state.service.delete_resource(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
