//! Console user accounts.

use crate::domain::*;
use crate::server::AppState;
use crate::server::extract::{IdPath, JsonBody};
use crate::server::problem::ApiResult;
use crate::service::Caller;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

#[utoipa::path(operation_id = "users_list", get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Vec<User>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(state.service.users(&caller).await?))
}

#[utoipa::path(operation_id = "users_create", post, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    request_body = NewUser,
    responses((status = 201, body = User),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Username taken", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let user = state.service.create_user(&caller, body).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[utoipa::path(operation_id = "users_get", get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = User),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> ApiResult<Json<User>> {
    Ok(Json(state.service.user_by_id(&caller, id).await?))
}

#[utoipa::path(operation_id = "users_update", patch, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    request_body = UserPatch,
    responses((status = 200, body = User),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The Súper Administrador cannot be demoted or disabled", body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody<UserPatch>,
) -> ApiResult<Json<User>> {
    Ok(Json(state.service.update_user(&caller, id, body).await?))
}

#[utoipa::path(operation_id = "users_delete", delete, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204, description = "Deleted"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    state.service.delete_user(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
