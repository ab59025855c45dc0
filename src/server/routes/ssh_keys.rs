//! SSH public keys: each user's own under `/me`, anyone's for the Súper Administrador.

use crate::domain::Problem;
use crate::domain::ssh_key::{NewSshKey, SshKey};
use crate::server::AppState;
use crate::server::extract::{IdPath, IdsPath, JsonBody};
use crate::server::problem::ApiResult;
use crate::service::Caller;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

#[utoipa::path(operation_id = "ssh_keys_mine", get, path = "/api/v1/me/ssh-keys", tag = "session", security(("bearer" = [])),
    responses((status = 200, body = Vec<SshKey>),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn mine(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<SshKey>>> {
    Ok(Json(state.service.my_ssh_keys(&caller).await?))
}

#[utoipa::path(operation_id = "ssh_keys_add", post, path = "/api/v1/me/ssh-keys", tag = "session", security(("bearer" = [])),
    request_body = NewSshKey,
    responses((status = 201, description = "Added; `ssh` with this key opens the console as this user", body = SshKey),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key is registered already", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn add(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewSshKey>,
) -> ApiResult<(StatusCode, Json<SshKey>)> {
    let key = state.service.add_my_ssh_key(&caller, body).await?;
    Ok((StatusCode::CREATED, Json(key)))
}

#[utoipa::path(operation_id = "ssh_keys_remove", delete, path = "/api/v1/me/ssh-keys/{id}", tag = "session", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204, description = "Removed; SSH sessions opened with it end"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    state.service.delete_my_ssh_key(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(operation_id = "ssh_keys_of_user", get, path = "/api/v1/users/{id}/ssh-keys", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Vec<SshKey>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn of_user(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> ApiResult<Json<Vec<SshKey>>> {
    Ok(Json(state.service.user_ssh_keys(&caller, id).await?))
}

#[utoipa::path(operation_id = "ssh_keys_remove_of_user", delete, path = "/api/v1/users/{id}/ssh-keys/{key_id}", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("key_id" = uuid::Uuid, Path)),
    responses((status = 204, description = "Removed; SSH sessions opened with it end"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn remove_of_user(
    State(state): State<AppState>,
    caller: Caller,
    IdsPath(user, key): IdsPath,
) -> ApiResult<StatusCode> {
    state
        .service
        .delete_user_ssh_key(&caller, user, key)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
