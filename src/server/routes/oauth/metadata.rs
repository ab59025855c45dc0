//! Authorization server metadata (RFC 8414) and the JWKS (RFC 7517).

use crate::domain::oauth::*;
use crate::server::AppState;
use axum::Json;
use axum::extract::State;

#[utoipa::path(operation_id = "oauth_metadata", get, path = "/.well-known/oauth-authorization-server", tag = "oauth",
    responses((status = 200, description = "RFC 8414", body = ServerMetadata)))]
pub async fn metadata(State(state): State<AppState>) -> Json<ServerMetadata> {
    Json(state.service.metadata())
}

#[utoipa::path(operation_id = "oauth_jwks", get, path = "/.well-known/jwks.json", tag = "oauth",
    responses((status = 200, description = "Every live public key of the JWT signer, of each algorithm (EdDSA, ES256, RS256), with its kid, alg and use", body = Jwks)))]
pub async fn jwks(State(state): State<AppState>) -> Json<Jwks> {
    Json(state.service.jwks())
}
