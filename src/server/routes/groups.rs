//! Permission groups.

use crate::domain::*;
use crate::server::AppState;
use crate::server::extract::{IdPath, JsonBody};
use crate::server::problem::ApiResult;
use crate::service::Caller;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

#[utoipa::path(operation_id = "groups_list", get, path = "/api/v1/permission-groups", tag = "permission-groups", security(("bearer" = [])),
    responses((status = 200, body = Vec<PermissionGroup>),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<PermissionGroup>>> {
    Ok(Json(state.service.permission_groups(&caller).await?))
}

#[utoipa::path(operation_id = "groups_create", post, path = "/api/v1/permission-groups", tag = "permission-groups", security(("bearer" = [])),
    request_body = NewPermissionGroup,
    responses((status = 201, body = PermissionGroup),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name taken", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewPermissionGroup>,
) -> ApiResult<(StatusCode, Json<PermissionGroup>)> {
    let group = state.service.create_permission_group(&caller, body).await?;
    Ok((StatusCode::CREATED, Json(group)))
}

#[utoipa::path(operation_id = "groups_get", get, path = "/api/v1/permission-groups/{id}", tag = "permission-groups", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = PermissionGroup),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> ApiResult<Json<PermissionGroup>> {
    Ok(Json(state.service.permission_group(&caller, id).await?))
}

#[utoipa::path(operation_id = "groups_update", patch, path = "/api/v1/permission-groups/{id}", tag = "permission-groups", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    request_body = PermissionGroupPatch,
    responses((status = 200, body = PermissionGroup),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody<PermissionGroupPatch>,
) -> ApiResult<Json<PermissionGroup>> {
    Ok(Json(
        state
            .service
            .update_permission_group(&caller, id, body)
            .await?,
    ))
}

#[utoipa::path(operation_id = "groups_delete", delete, path = "/api/v1/permission-groups/{id}", tag = "permission-groups", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204, description = "Deleted"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Still used by a consumer", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    state.service.delete_permission_group(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
