//! Thin handlers: parse, call one service function, shape the answer.

pub mod account;
pub mod consumers;
pub mod groups;
pub mod oauth;
pub mod session;
pub mod ssh_keys;
pub mod users;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// Marks a response that carries a secret as not to be stored by any cache.
pub fn no_store(response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
