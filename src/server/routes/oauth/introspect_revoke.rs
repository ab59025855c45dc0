//! Introspection (RFC 7662) and revocation (RFC 7009): one form, who asks and the token.

use super::form::{FormParams, bearer, client_auth, form_params, take};
use super::oauth_error;
use crate::domain::oauth::*;
use crate::domain::secret::SecretText;
use crate::server::AppState;
use crate::server::extract::{ClientIp, RawBody};
use crate::service::{OAuthError, TokenCaller};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;

/// An introspection or revocation request (form-urlencoded).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TokenParamForm {
    token: String,
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    /// `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`, with `client_assertion`.
    client_assertion_type: Option<String>,
    /// A JWT signed with one of the consumer's registered keys.
    client_assertion: Option<String>,
}

/// The form of introspection and revocation (RFC 7662, RFC 7009): who asks and the token.
fn token_form(headers: &HeaderMap, body: &Bytes) -> Result<(TokenCaller, String), OAuthError> {
    let mut params = form_params(headers, body)?;
    let caller = token_caller(headers, &mut params)?;
    let token = take(&mut params, "token")
        .ok_or_else(|| OAuthError::InvalidRequest("Falta token".into()))?;
    Ok((caller, token))
}

/// Who calls introspection or revocation: a consumer, or a console session.
fn token_caller(
    headers: &HeaderMap,
    params: &mut FormParams<'_>,
) -> Result<TokenCaller, OAuthError> {
    if let Some(auth) = client_auth(headers, params)? {
        return Ok(TokenCaller::Client(auth));
    }
    Ok(match bearer(headers) {
        Some(session) => TokenCaller::Session(SecretText::new(session)),
        None => TokenCaller::None,
    })
}

#[utoipa::path(operation_id = "oauth_introspect", post, path = "/oauth/introspect", tag = "oauth",
    request_body(content = TokenParamForm, content_type = "application/x-www-form-urlencoded"),
    security((), ("bearer" = [])),
    responses((status = 200, description = "RFC 7662; an inactive token is exactly {\"active\": false}", body = Introspection),
        (status = 400, body = OAuthErrorBody),
        (status = 401, description = "No or wrong client credentials or session", body = OAuthErrorBody),
        (status = 403, description = "A session without the admin role", body = OAuthErrorBody),
        (status = 413, body = crate::domain::Problem, content_type = "application/problem+json"),
        (status = 429, body = OAuthErrorBody)))]
pub async fn introspect(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Response {
    let (caller, token) = match token_form(&headers, &body) {
        Ok(parts) => parts,
        Err(err) => return oauth_error(err),
    };
    match state.service.introspect(ip, &caller, &token).await {
        Ok(answer) => crate::server::routes::no_store(Json(answer)),
        Err(err) => oauth_error(err),
    }
}

#[utoipa::path(operation_id = "oauth_revoke", post, path = "/oauth/revoke", tag = "oauth",
    request_body(content = TokenParamForm, content_type = "application/x-www-form-urlencoded"),
    security((), ("bearer" = [])),
    responses((status = 200, description = "RFC 7009: revoked, or unknown (the same answer)"),
        (status = 400, body = OAuthErrorBody),
        (status = 401, body = OAuthErrorBody),
        (status = 403, body = OAuthErrorBody),
        (status = 413, body = crate::domain::Problem, content_type = "application/problem+json"),
        (status = 429, body = OAuthErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Response {
    let (caller, token) = match token_form(&headers, &body) {
        Ok(parts) => parts,
        Err(err) => return oauth_error(err),
    };
    match state.service.revoke(ip, &caller, &token).await {
        Ok(()) => crate::server::routes::no_store(StatusCode::OK),
        Err(err) => oauth_error(err),
    }
}
