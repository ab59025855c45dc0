//! The authorization endpoint (RFC 6749 §4.1.1, §4.1.2): the page that asks the console
//! user to sign in and consent, and the form that answers with a code or an error.

use super::consent_page::{consent_page, error_page, page};
use crate::server::AppState;
use crate::server::extract::{ClientIp, RawBody};
use crate::service::{AuthorizeError, AuthorizeOutcome, AuthorizeRequest};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;

fn authorize_error(err: AuthorizeError) -> Response {
    match err {
        AuthorizeError::Page(message) => error_page(&message),
        AuthorizeError::Redirect(url) => Redirect::to(&url).into_response(),
        AuthorizeError::TooManyRequests { retry_after } | AuthorizeError::Busy { retry_after } => {
            let (status, title) = match err {
                AuthorizeError::Busy { .. } => {
                    (StatusCode::SERVICE_UNAVAILABLE, "Servidor ocupado")
                }
                _ => (StatusCode::TOO_MANY_REQUESTS, "Demasiados intentos"),
            };
            let mut response = page(
                status,
                title,
                &format!("<p class=\"error\">Reintente en {retry_after} s</p>"),
            );
            if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}

#[utoipa::path(operation_id = "oauth_authorize_page", get, path = "/oauth/authorize", tag = "oauth",
    params(("response_type" = String, Query), ("client_id" = String, Query), ("redirect_uri" = String, Query),
        ("scope" = Option<String>, Query), ("state" = Option<String>, Query),
        ("code_challenge" = String, Query), ("code_challenge_method" = String, Query, description = "S256"),
        ("resource" = Option<String>, Query, description = "A protected resource of the list (RFC 8707): the tokens of this grant are JWTs for it (`aud`); unknown: invalid_target")),
    responses((status = 200, description = "Login and consent page", content_type = "text/html", body = String),
        (status = 303, description = "Error sent back to the registered redirect URI"),
        (status = 400, description = "Unknown client or redirect URI: an error page, never a redirect", content_type = "text/html", body = String)))]
pub async fn authorize_page(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    uri: Uri,
) -> Response {
    let query = uri.query().unwrap_or("");
    let request = match parse_authorize(query.as_bytes()) {
        Ok(r) => r,
        Err(message) => return error_page(&message),
    };
    match state.service.check_authorize(ip, &request).await {
        Ok(prompt) => consent_page(&prompt, None, state.service.issuer()),
        Err(err) => authorize_error(err),
    }
}

/// The authorization parameters, each at most once.
fn parse_authorize(input: &[u8]) -> Result<AuthorizeRequest, String> {
    let mut seen = HashMap::new();
    for (name, value) in form_urlencoded::parse(input) {
        if seen.insert(name.to_string(), value.to_string()).is_some() {
            return Err(format!("Parámetro repetido: {}", name.escape_debug()));
        }
    }
    Ok(AuthorizeRequest {
        response_type: seen.remove("response_type"),
        client_id: seen.remove("client_id"),
        redirect_uri: seen.remove("redirect_uri"),
        scope: seen.remove("scope"),
        state: seen.remove("state"),
        code_challenge: seen.remove("code_challenge"),
        code_challenge_method: seen.remove("code_challenge_method"),
        resource: seen.remove("resource"),
    })
}

/// The login and consent form (the authorization parameters come back as hidden fields).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AuthorizeForm {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: String,
    code_challenge_method: String,
    /// The protected resource (RFC 8707) of the grant.
    resource: Option<String>,
    username: String,
    password: String,
    /// `approve` or `deny`.
    decision: String,
}

#[utoipa::path(operation_id = "oauth_authorize_submit", post, path = "/oauth/authorize", tag = "oauth",
    request_body(content = AuthorizeForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Wrong username or password: the page again", content_type = "text/html", body = String),
        (status = 303, description = "Back to the redirect URI with `code` (or `error`) and `state`"),
        (status = 400, content_type = "text/html", body = String),
        (status = 413, body = crate::domain::Problem, content_type = "application/problem+json"),
        (status = 429, content_type = "text/html", body = String)))]
pub async fn authorize_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    RawBody(body): RawBody,
) -> Response {
    let mut fields = HashMap::new();
    for (name, value) in form_urlencoded::parse(&body) {
        if fields.insert(name.to_string(), value.to_string()).is_some() {
            return error_page("Parámetro repetido");
        }
    }
    let request = AuthorizeRequest {
        response_type: fields.remove("response_type"),
        client_id: fields.remove("client_id"),
        redirect_uri: fields.remove("redirect_uri"),
        scope: fields.remove("scope"),
        state: fields.remove("state"),
        code_challenge: fields.remove("code_challenge"),
        code_challenge_method: fields.remove("code_challenge_method"),
        resource: fields.remove("resource"),
    };
    let username = fields.remove("username").unwrap_or_default();
    let password = fields.remove("password").unwrap_or_default();
    let approve = fields.remove("decision").as_deref() == Some("approve");
    match state
        .service
        .authorize(ip, &request, &username, password, approve)
        .await
    {
        Ok(AuthorizeOutcome::Redirect(url)) => Redirect::to(&url).into_response(),
        Ok(AuthorizeOutcome::LoginFailed(prompt, message)) => {
            consent_page(&prompt, Some(&message), state.service.issuer())
        }
        Err(err) => authorize_error(err),
    }
}
