//! Dynamic client registration (RFC 7591) at `/oauth/register`, and the registered client's
//! own management of itself (RFC 7592) at `/oauth/register/{client_id}` with its
//! registration access token. Errors are RFC 7591 §3.2.2's `{error, error_description}`.

use super::form::bearer;
use crate::domain::oauth::OAuthErrorBody;
use crate::domain::registration::{ClientInformation, ClientMetadata};
use crate::server::AppState;
use crate::server::extract::{ClientIp, RawBody};
use crate::service::registration::RegistrationError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

fn refused(err: RegistrationError) -> Response {
    let (status, error) = match &err {
        RegistrationError::NotOffered => (StatusCode::NOT_FOUND, "not_found"),
        RegistrationError::Metadata(refused) => (StatusCode::BAD_REQUEST, refused.error),
        RegistrationError::InvalidToken | RegistrationError::InvalidInitialToken => {
            (StatusCode::UNAUTHORIZED, "invalid_token")
        }
        RegistrationError::TooMany { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
        RegistrationError::Service(_) => {
            (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
        }
    };
    let body = OAuthErrorBody {
        error: error.into(),
        error_description: err.to_string(),
    };
    let mut response = super::super::no_store((status, Json(body)));
    let headers = response.headers_mut();
    if let RegistrationError::TooMany { retry_after, .. } = &err
        && let Ok(value) = HeaderValue::from_str(&retry_after.to_string())
    {
        headers.insert(header::RETRY_AFTER, value);
    }
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
    }
    response
}

/// The body as client metadata: a JSON object, else `invalid_client_metadata`.
fn metadata(body: &[u8]) -> Result<ClientMetadata, RegistrationError> {
    serde_json::from_slice(body).map_err(|err| {
        RegistrationError::Metadata(crate::domain::registration::MetadataRefused {
            error: "invalid_client_metadata",
            description: format!("El cuerpo no es metadata de cliente válida (JSON): {err}"),
        })
    })
}

fn answer(status: StatusCode, information: ClientInformation) -> Response {
    super::super::no_store((status, Json(information)))
}

#[utoipa::path(operation_id = "oauth_register", post, path = "/oauth/register", tag = "oauth",
    request_body = ClientMetadata,
    params(("Authorization" = Option<String>, Header, description = "Bearer with an initial access token (RFC 7591 §3): registers straight into its group")),
    responses((status = 201, description = "Registered (RFC 7591 §3.2.1): `approval` says whether it waits for the Súper Administrador; the secret and registration token are shown this once", body = ClientInformation),
        (status = 400, description = "invalid_redirect_uri or invalid_client_metadata", body = OAuthErrorBody),
        (status = 401, description = "An initial access token that is unknown or expired", body = OAuthErrorBody),
        (status = 404, description = "Registration is off", body = OAuthErrorBody),
        (status = 429, description = "Too many registrations from the address, or waiting for approval; see Retry-After", body = OAuthErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Response {
    let result = match metadata(&body) {
        Ok(metadata) => {
            state
                .service
                .register_client(ip, bearer(&headers).as_deref(), metadata)
                .await
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(information) => answer(StatusCode::CREATED, information),
        Err(err) => refused(err),
    }
}

#[utoipa::path(operation_id = "oauth_registration_read", get, path = "/oauth/register/{client_id}", tag = "oauth",
    params(("client_id" = String, Path), ("Authorization" = String, Header, description = "Bearer with the registration access token")),
    responses((status = 200, description = "The client as registered (RFC 7592 §2.1)", body = ClientInformation),
        (status = 401, body = OAuthErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match state
        .service
        .read_registration(&client_id, bearer(&headers).as_deref())
        .await
    {
        Ok(information) => answer(StatusCode::OK, information),
        Err(err) => refused(err),
    }
}

#[utoipa::path(operation_id = "oauth_registration_update", put, path = "/oauth/register/{client_id}", tag = "oauth",
    request_body = ClientMetadata,
    params(("client_id" = String, Path), ("Authorization" = String, Header, description = "Bearer with the registration access token")),
    responses((status = 200, description = "Its metadata replaced (RFC 7592 §2.2)", body = ClientInformation),
        (status = 400, body = OAuthErrorBody),
        (status = 401, body = OAuthErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Response {
    let result = match metadata(&body) {
        Ok(metadata) => {
            state
                .service
                .update_registration(ip, &client_id, bearer(&headers).as_deref(), metadata)
                .await
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(information) => answer(StatusCode::OK, information),
        Err(err) => refused(err),
    }
}

#[utoipa::path(operation_id = "oauth_registration_delete", delete, path = "/oauth/register/{client_id}", tag = "oauth",
    params(("client_id" = String, Path), ("Authorization" = String, Header, description = "Bearer with the registration access token")),
    responses((status = 204, description = "Deleted (RFC 7592 §2.3); its tokens stop working"),
        (status = 401, body = OAuthErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(client_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match state
        .service
        .delete_registration(ip, &client_id, bearer(&headers).as_deref())
        .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => refused(err),
    }
}
