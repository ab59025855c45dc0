//! Clients that register themselves, for the console's users: the policy, the pending
//! clients and the Súper Administrador's decisions, and the initial access tokens.

use crate::domain::registration::*;
use crate::domain::*;
use crate::server::AppState;
use crate::server::extract::{IdPath, JsonBody};
use crate::server::problem::ApiResult;
use crate::service::Caller;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

#[utoipa::path(operation_id = "client_registration_get", get, path = "/api/v1/client-registration", tag = "consumers", security(("bearer" = [])),
    responses((status = 200, description = "The policy for clients that register themselves", body = RegistrationSettings),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn settings(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<RegistrationSettings>> {
    Ok(Json(state.service.registration_settings(&caller).await?))
}

#[utoipa::path(operation_id = "client_registration_set", put, path = "/api/v1/client-registration", tag = "consumers", security(("bearer" = [])),
    request_body = RegistrationPatch,
    responses((status = 200, body = RegistrationSettings),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A policy other than off without a group, or an unknown group", body = Problem, content_type = "application/problem+json")))]
pub async fn set_settings(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(patch): JsonBody<RegistrationPatch>,
) -> ApiResult<Json<RegistrationSettings>> {
    Ok(Json(
        state
            .service
            .set_registration_settings(&caller, patch)
            .await?,
    ))
}

#[utoipa::path(operation_id = "consumers_pending", get, path = "/api/v1/consumers/pending", tag = "consumers", security(("bearer" = [])),
    responses((status = 200, description = "Self-registered clients waiting for approval, oldest first", body = Vec<Consumer>),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn pending(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<Consumer>>> {
    Ok(Json(state.service.pending_consumers(&caller).await?))
}

#[utoipa::path(operation_id = "consumers_approve", post, path = "/api/v1/consumers/{id}/approve", tag = "consumers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = ApproveConsumer,
    responses((status = 200, description = "Approved into the group: it may now get tokens", body = Consumer),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It does not wait for approval", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    JsonBody(decision): JsonBody<ApproveConsumer>,
) -> ApiResult<Json<Consumer>> {
    Ok(Json(
        state
            .service
            .approve_consumer(&caller, id, decision)
            .await?,
    ))
}

#[utoipa::path(operation_id = "consumers_reject", post, path = "/api/v1/consumers/{id}/reject", tag = "consumers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "Rejected: kept, and refused from then on", body = Consumer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It does not wait for approval", body = Problem, content_type = "application/problem+json")))]
pub async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> ApiResult<Json<Consumer>> {
    Ok(Json(state.service.reject_consumer(&caller, id).await?))
}

#[utoipa::path(operation_id = "initial_access_tokens_list", get, path = "/api/v1/initial-access-tokens", tag = "consumers", security(("bearer" = [])),
    responses((status = 200, description = "Never the tokens themselves", body = Vec<InitialAccessToken>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn initial_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<InitialAccessToken>>> {
    Ok(Json(state.service.initial_access_tokens(&caller).await?))
}

#[utoipa::path(operation_id = "initial_access_tokens_create", post, path = "/api/v1/initial-access-tokens", tag = "consumers", security(("bearer" = [])),
    request_body = NewInitialAccessToken,
    responses((status = 201, description = "Created; `initial_access_token` is shown only here", body = CreatedInitialAccessToken),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_initial_token(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(new): JsonBody<NewInitialAccessToken>,
) -> ApiResult<Response> {
    let created = state
        .service
        .create_initial_access_token(&caller, new)
        .await?;
    Ok(super::no_store((StatusCode::CREATED, Json(created))))
}

#[utoipa::path(operation_id = "initial_access_tokens_delete", delete, path = "/api/v1/initial-access-tokens/{id}", tag = "consumers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204, description = "Deleted: it registers nothing more"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_initial_token(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    state
        .service
        .delete_initial_access_token(&caller, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
