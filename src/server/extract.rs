//! Request extractors: the caller (address and session), JSON bodies and queries whose
//! errors name the field, ids in paths, and `If-Match`.

use super::AppState;
use super::problem::ApiError;
use super::proxy::{Proto, TrustedProxies};
use crate::domain::FieldErrors;
use crate::service::{Caller, ServiceError};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, StatusCode, header};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use uuid::Uuid;

fn peer_ip(extensions: &Extensions) -> IpAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_canonical())
        // Without connection info the caller counts as remote, never as loopback.
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Set by the listener on the requests of a connection whose peer is a trusted proxy.
#[derive(Clone)]
pub struct ThroughTrustedProxy(pub Arc<TrustedProxies>);

/// Set by the listener on the requests of a connection over TLS.
#[derive(Clone, Copy)]
pub struct OverTls;

/// The one place that decides the scheme the client used: the one a trusted proxy
/// recorded (`Forwarded` proto, `X-Forwarded-Proto`), else the connection's own.
pub fn client_scheme(extensions: &Extensions, headers: &HeaderMap) -> Proto {
    let recorded = extensions
        .get::<ThroughTrustedProxy>()
        .and_then(|ThroughTrustedProxy(trusted)| trusted.proto_of(peer_ip(extensions), headers));
    recorded.unwrap_or(if extensions.get::<OverTls>().is_some() {
        Proto::Https
    } else {
        Proto::Http
    })
}

/// The one place that decides who the client is: its address, and whether the request
/// came through a trusted proxy (then the address is the one the proxy recorded).
pub fn client_address(extensions: &Extensions, headers: &HeaderMap) -> (IpAddr, bool) {
    let peer = peer_ip(extensions);
    match extensions.get::<ThroughTrustedProxy>() {
        Some(ThroughTrustedProxy(trusted)) => (trusted.client_of(peer, headers), true),
        None => (peer, false),
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (ip, proxied) = client_address(&parts.extensions, &parts.headers);
        // A missing or invalid token leaves the caller anonymous; the service refuses what
        // an anonymous caller may not do.
        let session = match bearer(parts) {
            Some(token) => match state.service.authenticate(token).await {
                Ok(session) => Some(session),
                // A database that cannot answer is no signed-out caller: a 401 would make
                // the console drop a session that is fine.
                Err(err @ ServiceError::Unavailable(_)) => return Err(err.into()),
                Err(_) => None,
            },
            None => None,
        };
        Ok(Caller {
            ip,
            session,
            proxied,
        })
    }
}

/// The caller's address alone, for routes that take no console session (OAuth, the
/// protected endpoint).
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Ok(ClientIp(
            client_address(&parts.extensions, &parts.headers).0,
        ))
    }
}

/// The scheme the client used (see [`client_scheme`]), for routes that sign or build URLs.
pub struct ClientScheme(pub Proto);

impl<S: Send + Sync> FromRequestParts<S> for ClientScheme {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Ok(ClientScheme(client_scheme(
            &parts.extensions,
            &parts.headers,
        )))
    }
}

/// Names the failing field of a serde error ("name", "permissions[0].actions[1]").
fn field_of(path: &serde_path_to_error::Path) -> String {
    let text = path.to_string();
    if text == "." || text.is_empty() {
        "body".to_string()
    } else {
        text
    }
}

/// A JSON body: `application/json`, at most the router's body limit, unknown fields
/// rejected, and any error named by its field (422).
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let essence = v.split(';').next().unwrap_or("").trim();
                essence.eq_ignore_ascii_case("application/json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "El cuerpo debe ser JSON (Content-Type: application/json)",
            ));
        }
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        // Every body of this API is an object; serde would otherwise also read a struct
        // from an array.
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first.is_some_and(|b| *b == b'[') {
            return Err(ApiError {
                errors: FieldErrors::single("body", "Se espera un objeto JSON"),
                ..ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_body",
                    "El cuerpo debe ser un objeto JSON",
                )
            });
        }
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| {
            let field = field_of(err.path());
            let inner = err.into_inner();
            let message = if inner.is_syntax() || inner.is_eof() {
                format!("JSON inválido: {inner}")
            } else {
                describe_serde(&inner.to_string())
            };
            let status = if inner.is_syntax() || inner.is_eof() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            ApiError {
                errors: FieldErrors::single(&field, message),
                ..ApiError::new(status, "invalid_body", format!("Campo «{field}» inválido"))
            }
        })?;
        de.end().map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                "JSON inválido: sobra contenido tras el objeto",
            )
        })?;
        Ok(JsonBody(value))
    }
}

/// The body as bytes, at most `BODY_LIMIT`: the one way a handler reads a body (the JSON
/// bodies and the OAuth forms alike), so it is the one place the limit is kept. Over it:
/// 413 problem+json, on every route alike. A body of one frame, as a form usually is,
/// is handed on as it came: no list of frames to gather, no boxed body.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        use http_body_util::BodyExt;
        let mut body = http_body_util::Limited::new(req.into_body(), super::BODY_LIMIT);
        let mut whole = Bytes::new();
        let mut gathered: Option<bytes::BytesMut> = None;
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame.map_err(body_refused)?.into_data() else {
                continue; // trailers
            };
            match &mut gathered {
                Some(buffer) => buffer.extend_from_slice(&data),
                None if whole.is_empty() => whole = data,
                None => {
                    let mut buffer = bytes::BytesMut::with_capacity(whole.len() + data.len());
                    buffer.extend_from_slice(&whole);
                    buffer.extend_from_slice(&data);
                    gathered = Some(buffer);
                }
            }
        }
        Ok(RawBody(gathered.map_or(whole, bytes::BytesMut::freeze)))
    }
}

/// 413 past the body limit; 400 when the body could not be read.
fn body_refused(err: Box<dyn std::error::Error + Send + Sync>) -> ApiError {
    if err.is::<http_body_util::LengthLimitError>() {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "El cuerpo de la solicitud es demasiado grande (máximo 64 KiB)",
        )
    } else {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_body",
            "No se pudo leer el cuerpo de la solicitud",
        )
    }
}

/// serde's message without the line and column (the field is named apart).
fn describe_serde(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// A query string, with errors named by their parameter (422).
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(QueryParams)
            .map_err(|err| {
                let field = field_of(err.path());
                let message = describe_serde(&err.into_inner().to_string());
                ApiError {
                    errors: FieldErrors::single(&field, message),
                    ..ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_query",
                        format!("Parámetro «{field}» inválido"),
                    )
                }
            })
    }
}

/// An object id in the path; anything that is not an id is simply not found.
pub struct IdPath(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(text) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::not_found())?;
        Uuid::parse_str(&text)
            .map(IdPath)
            .map_err(|_| ApiError::not_found())
    }
}

/// Two object ids in the path (an object under another, e.g. a user's SSH key); anything
/// that is not an id is simply not found.
pub struct IdsPath(pub Uuid, pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for IdsPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path((first, second)) =
            axum::extract::Path::<(String, String)>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::not_found())?;
        match (Uuid::parse_str(&first), Uuid::parse_str(&second)) {
            (Ok(first), Ok(second)) => Ok(IdsPath(first, second)),
            _ => Err(ApiError::not_found()),
        }
    }
}

/// The version named by `If-Match` (`"3"`, `W/"3"` or `3`); `*` or no header: none.
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let text = value.to_str().unwrap_or("").trim();
        if text == "*" {
            return Ok(IfMatch(None));
        }
        let bare = text.trim_start_matches("W/").trim_matches('"');
        bare.parse::<i64>().map(|v| IfMatch(Some(v))).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_if_match",
                "If-Match debe ser el ETag recibido (por ejemplo \"3\")",
            )
        })
    }
}

/// The one-time setup token header.
pub fn setup_token(parts: &axum::http::HeaderMap) -> Option<String> {
    parts
        .get("x-setup-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}
