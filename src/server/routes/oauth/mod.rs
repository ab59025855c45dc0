//! OAuth2: the token, introspection and revocation endpoints, metadata, JWKS, the
//! authorization page, and the protected endpoint, one file each. Errors here use the
//! RFC 6749 JSON shape `{error, error_description}`, not problem+json.

mod authorize;
mod consent_page;
mod form;
mod introspect_revoke;
mod metadata;
mod module_access;
mod register;
mod token;

// Each handler with the path item that utoipa made beside it, for the router and the
// OpenAPI document.
pub use authorize::{
    __path_authorize_page, __path_authorize_submit, authorize_page, authorize_submit,
};
pub use introspect_revoke::{__path_introspect, __path_revoke, introspect, revoke};
pub use metadata::{
    __path_jwks, __path_metadata, __path_protected_resource, jwks, metadata, protected_resource,
    with_resource_metadata,
};
pub use module_access::{__path_module_access, module_access};
pub use register::{
    __path_delete as __path_registration_delete, __path_read as __path_registration_read,
    __path_register, __path_update as __path_registration_update, delete as registration_delete,
    read as registration_read, register, update as registration_update,
};
pub use token::{__path_token, token};

use crate::domain::oauth::OAuthErrorBody;
use crate::service::OAuthError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

/// An OAuth error as RFC 6749 §5.2 answers it.
fn oauth_error(err: OAuthError) -> Response {
    if matches!(
        err,
        OAuthError::InvalidClient | OAuthError::TooManyRequests { .. }
    ) {
        crate::service::counters::client_auth_failed();
    }
    let status = match &err {
        OAuthError::InvalidClient => StatusCode::UNAUTHORIZED,
        OAuthError::AccessDenied => StatusCode::FORBIDDEN,
        OAuthError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
        OAuthError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        OAuthError::Internal(err) => {
            tracing::error!(message = %err.detail(), "oauth internal error");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::BAD_REQUEST,
    };
    let body = OAuthErrorBody {
        error: err.code().to_string(),
        error_description: err.description(),
    };
    let mut response = super::no_store((status, Json(body)));
    let headers = response.headers_mut();
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"consola\", charset=\"UTF-8\""),
        );
    }
    if let OAuthError::UseDpopNonce(nonce) = &err
        && let Ok(value) = HeaderValue::from_str(nonce)
    {
        headers.insert(DPOP_NONCE, value);
    }
    let retry_after = match err {
        OAuthError::TooManyRequests { retry_after } => Some(retry_after),
        OAuthError::Unavailable(_) => Some(crate::server::problem::STORAGE_RETRY_AFTER),
        _ => None,
    };
    if let Some(seconds) = retry_after
        && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
    {
        headers.insert(header::RETRY_AFTER, value);
    }
    response
}

/// `DPoP-Nonce` (RFC 9449 §8): the nonce the server offers, or asks for.
pub(crate) const DPOP_NONCE: header::HeaderName = header::HeaderName::from_static("dpop-nonce");

/// The `DPoP` header's proof: none, or exactly one (RFC 9449 §4.3).
pub(crate) fn dpop_proof(headers: &axum::http::HeaderMap) -> Result<Option<String>, &'static str> {
    let mut proofs = headers.get_all("dpop").iter();
    let proof = match (proofs.next(), proofs.next()) {
        (None, _) => return Ok(None),
        (Some(proof), None) => proof,
        (Some(_), Some(_)) => return Err("Más de una cabecera DPoP"),
    };
    proof
        .to_str()
        .map(|p| Some(p.trim().to_string()))
        .map_err(|_| "La cabecera DPoP no es texto")
}

/// Offers the current DPoP nonce on the answer to a request that came with a proof.
pub(crate) fn offer_dpop_nonce(response: &mut Response, nonce: &str) {
    if let Ok(value) = HeaderValue::from_str(nonce) {
        response.headers_mut().insert(DPOP_NONCE, value);
    }
}
