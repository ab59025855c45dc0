//! OAuth consumers.

use crate::domain::*;
use crate::server::AppState;
use crate::server::extract::{IdPath, IfMatch, JsonBody, QueryParams};
use crate::server::problem::ApiResult;
use crate::service::Caller;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A consumer with its version as `ETag`, for `If-Match` on the next edit.
fn with_etag(consumer: Consumer) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", consumer.version)).ok();
    let mut response = Json(consumer).into_response();
    if let Some(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

#[utoipa::path(operation_id = "consumers_list", get, path = "/api/v1/consumers", tag = "consumers", security(("bearer" = [])),
    params(ConsumerQuery),
    responses((status = 200, description = "One page, in creation order", body = Page<Consumer>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<ConsumerQuery>,
) -> ApiResult<Json<Page<Consumer>>> {
    Ok(Json(state.service.consumers(&caller, query).await?))
}

#[utoipa::path(operation_id = "consumers_create", post, path = "/api/v1/consumers", tag = "consumers", security(("bearer" = [])),
    request_body = NewConsumer,
    responses((status = 201, description = "Created; `client_secret` is shown only here", body = CreatedConsumer),
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
    JsonBody(body): JsonBody<NewConsumer>,
) -> ApiResult<Response> {
    let created = state.service.create_consumer(&caller, body).await?;
    Ok(super::no_store((StatusCode::CREATED, Json(created))))
}

#[utoipa::path(operation_id = "consumers_get", get, path = "/api/v1/consumers/{id}", tag = "consumers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "Never with the secret", body = Consumer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> ApiResult<Response> {
    Ok(with_etag(state.service.consumer(&caller, id).await?))
}

#[utoipa::path(operation_id = "consumers_update", patch, path = "/api/v1/consumers/{id}", tag = "consumers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path),
        ("If-Match" = Option<String>, Header, description = "The `ETag` (version) the edit started from")),
    request_body = ConsumerPatch,
    responses((status = 200, body = Consumer),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Modified by someone else since that version", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    IfMatch(version): IfMatch,
    JsonBody(body): JsonBody<ConsumerPatch>,
) -> ApiResult<Response> {
    Ok(with_etag(
        state
            .service
            .update_consumer(&caller, id, body, version)
            .await?,
    ))
}

#[utoipa::path(operation_id = "consumers_delete", delete, path = "/api/v1/consumers/{id}", tag = "consumers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204, description = "Deleted; its tokens stop working"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    state.service.delete_consumer(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(operation_id = "consumers_rotate_secret", post, path = "/api/v1/consumers/{id}/rotate-secret", tag = "consumers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    request_body = RotateSecret,
    responses((status = 200, description = "The new secret, shown only here", body = RotatedSecret),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody<RotateSecret>,
) -> ApiResult<Response> {
    let rotated = state
        .service
        .rotate_consumer_secret(&caller, id, body)
        .await?;
    Ok(super::no_store(Json(rotated)))
}
