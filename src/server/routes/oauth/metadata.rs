//! Authorization server metadata (RFC 8414) and the JWKS (RFC 7517).

use crate::domain::oauth::*;
use crate::server::AppState;
use axum::Json;
use axum::extract::State;

#[utoipa::path(operation_id = "oauth_metadata", get, path = "/.well-known/oauth-authorization-server", tag = "oauth",
    responses((status = 200, description = "RFC 8414", body = ServerMetadata)))]
pub async fn metadata(State(state): State<AppState>) -> Json<ServerMetadata> {
    Json(state.service.metadata().await)
}

#[utoipa::path(operation_id = "oauth_protected_resource", get, path = "/.well-known/oauth-protected-resource/api/v1", tag = "oauth",
    responses((status = 200, description = "RFC 9728: consola's API as a protected resource, and its authorization server; also at /.well-known/oauth-protected-resource", body = ProtectedResourceMetadata)))]
pub async fn protected_resource(State(state): State<AppState>) -> Json<ProtectedResourceMetadata> {
    Json(state.service.protected_resource_metadata())
}

/// A 401 of the API names where its protected resource metadata is (RFC 9728 §5.1), so
/// that a client that meets the API first finds its authorization server.
pub async fn with_resource_metadata(
    State(state): State<AppState>,
    mut response: axum::response::Response,
) -> axum::response::Response {
    use axum::http::{HeaderValue, StatusCode, header};
    if response.status() != StatusCode::UNAUTHORIZED {
        return response;
    }
    let headers = response.headers_mut();
    let Some(challenge) = headers
        .get(header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .filter(|c| c.starts_with("Bearer") || c.starts_with("DPoP"))
    else {
        return response;
    };
    let url = state.service.resource_metadata_url();
    let extended = if challenge.contains(' ') {
        format!("{challenge}, resource_metadata=\"{url}\"")
    } else {
        format!("{challenge} resource_metadata=\"{url}\"")
    };
    if let Ok(value) = HeaderValue::from_str(&extended) {
        headers.insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

#[utoipa::path(operation_id = "oauth_jwks", get, path = "/.well-known/jwks.json", tag = "oauth",
    responses((status = 200, description = "Every live public key of the JWT signer, of each algorithm (EdDSA, ES256, RS256), with its kid, alg and use", body = Jwks)))]
pub async fn jwks(State(state): State<AppState>) -> Json<Jwks> {
    Json(state.service.jwks())
}
