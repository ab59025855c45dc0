//! Thin handlers: parse, call one service function, shape the answer.

pub mod account;
pub mod consumers;
pub mod groups;
pub mod oauth;
pub mod registration;
pub mod resources;
pub mod session;
pub mod ssh_keys;
pub mod users;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// Marks a response that carries a secret as not to be stored by any cache.
pub fn no_store(response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    forbid_storing(response.headers_mut());
    response
}

/// `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1).
pub fn forbid_storing(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}
