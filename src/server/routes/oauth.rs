//! OAuth2: the token, introspection and revocation endpoints, metadata, JWKS, the
//! authorization page, and the protected endpoint. Errors here use the RFC 6749 JSON shape
//! `{error, error_description}`, not problem+json.

use crate::domain::hawk::{HawkPayload, HawkRequest};
use crate::domain::oauth::*;
use crate::domain::secret::SecretText;
use crate::server::AppState;
use crate::server::extract::{ClientIp, RawBody};
use crate::service::{
    AccessDenied, AuthorizeError, AuthorizeOutcome, AuthorizePrompt, AuthorizeRequest, ClientAuth,
    OAuthError, TokenCaller, TokenRequest,
};
use axum::Json;
use axum::extract::{FromRequest, OriginalUri, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use bytes::Bytes;
use std::borrow::Cow;
use std::collections::HashMap;

// --- errors ---------------------------------------------------------------------------

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
        OAuthError::Internal(message) => {
            tracing::error!(%message, "oauth internal error");
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

// --- form bodies and client authentication -------------------------------------------

/// The parameters of a form body: `application/x-www-form-urlencoded`, each at most once
/// (RFC 6749 §3.2).
fn form_params<'a>(headers: &HeaderMap, body: &'a Bytes) -> Result<FormParams<'a>, OAuthError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
        .unwrap_or(false);
    if !is_form {
        return Err(OAuthError::InvalidRequest(
            "El cuerpo debe ser application/x-www-form-urlencoded".into(),
        ));
    }
    FormParams::parse(body).map_err(|name| {
        OAuthError::InvalidRequest(format!("Parámetro repetido: {}", name.escape_debug()))
    })
}

/// A form's parameters sorted by name, borrowed from the body where no decoding was needed:
/// a token request has a handful, and hashing each name (as a `HashMap` would, for every
/// insert and every lookup) cost more than this.
struct FormParams<'a>(Vec<(Cow<'a, str>, Option<Cow<'a, str>>)>);

impl<'a> FormParams<'a> {
    /// The parameters, or the name of one that came twice. Decoded as `form_urlencoded`
    /// does (`+` a space, `%XX` a byte, invalid UTF-8 replaced); a pair with nothing to
    /// decode, as a token request's usually are, is only checked and borrowed.
    fn parse(body: &'a [u8]) -> Result<FormParams<'a>, Cow<'a, str>> {
        let mut params = Vec::with_capacity(4);
        for pair in body.split(|&b| b == b'&').filter(|pair| !pair.is_empty()) {
            let (name, value) = if is_form_encoded(pair) {
                match form_urlencoded::parse(pair).next() {
                    Some(decoded) => decoded,
                    None => continue,
                }
            } else {
                let (name, value) = match pair.iter().position(|&b| b == b'=') {
                    Some(i) => (&pair[..i], &pair[i + 1..]),
                    None => (pair, &[][..]),
                };
                (
                    String::from_utf8_lossy(name),
                    String::from_utf8_lossy(value),
                )
            };
            params.push((name, Some(value)));
        }
        // Stable, so that the check below sees every repeated name next to its twin.
        params.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(pair) = params.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err(pair[0].0.clone());
        }
        Ok(FormParams(params))
    }

    /// The parameter's value, once: a second call gets `None`.
    fn remove(&mut self, name: &str) -> Option<String> {
        let index = self
            .0
            .binary_search_by(|(n, _)| n.as_ref().cmp(name))
            .ok()?;
        self.0[index].1.take().map(Cow::into_owned)
    }
}

fn take(params: &mut FormParams<'_>, name: &str) -> Option<String> {
    params.remove(name).filter(|v| !v.is_empty())
}

/// The most bytes `client_id:client_secret` may decode to in Basic.
const BASIC_MAX: usize = 1024;

/// `Authorization: Basic` with the form-urlencoded id and secret (RFC 6749 §2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Result<Option<ClientAuth>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let Some(text) = value.to_str().ok() else {
        return Err(OAuthError::InvalidClient);
    };
    let Some((scheme, encoded)) = text.split_once(' ') else {
        return Err(OAuthError::InvalidClient);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    // Decoded on the stack: real credentials are far shorter, and longer ones are refused.
    let mut decoded = [0u8; BASIC_MAX];
    let parsed = base64::engine::general_purpose::STANDARD
        .decode_slice(encoded.trim(), &mut decoded)
        .ok()
        .and_then(|len| std::str::from_utf8(&decoded[..len]).ok())
        .and_then(|pair| {
            let (id, secret) = pair.split_once(':')?;
            Some((form_decode(id)?, form_decode(secret)?))
        });
    match parsed {
        Some((client_id, secret)) => Ok(Some(ClientAuth {
            client_id,
            client_secret: SecretText::new(secret),
        })),
        None => Err(OAuthError::InvalidClient),
    }
}

/// The client's credentials from Basic or from the body, never both.
fn client_auth(
    headers: &HeaderMap,
    params: &mut FormParams<'_>,
) -> Result<Option<ClientAuth>, OAuthError> {
    let basic = basic_credentials(headers)?;
    let post_id = take(params, "client_id");
    let post_secret = take(params, "client_secret");
    match (basic, post_id, post_secret) {
        (Some(_), _, Some(_)) => Err(OAuthError::InvalidRequest(
            "Use un solo método de autenticación del cliente (Basic o client_secret_post)".into(),
        )),
        (Some(basic), Some(id), None) if id != basic.client_id => Err(OAuthError::InvalidRequest(
            "client_id no coincide con la autenticación Basic".into(),
        )),
        (Some(basic), _, None) => Ok(Some(basic)),
        (None, Some(client_id), Some(secret)) => Ok(Some(ClientAuth {
            client_id,
            client_secret: SecretText::new(secret),
        })),
        (None, _, _) => Ok(None),
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
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

// --- documentation shapes --------------------------------------------------------------

/// The token request (form-urlencoded). Client credentials go in Basic or in the body.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TokenForm {
    /// `client_credentials`, `authorization_code` or `refresh_token`.
    grant_type: String,
    scope: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// An introspection or revocation request (form-urlencoded).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TokenParamForm {
    token: String,
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

// --- handlers ------------------------------------------------------------------------

#[utoipa::path(operation_id = "oauth_token", post, path = "/oauth/token", tag = "oauth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "RFC 6749 §5.1; Cache-Control: no-store", body = TokenResponse),
        (status = 400, description = "invalid_request, invalid_grant, unauthorized_client, unsupported_grant_type, invalid_scope", body = OAuthErrorBody),
        (status = 401, description = "invalid_client", body = OAuthErrorBody),
        (status = 413, body = crate::domain::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed client authentications; see Retry-After", body = OAuthErrorBody)))]
pub async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    mut request: Request,
) -> Response {
    // The busiest route takes the headers rather than copying them, as the `HeaderMap`
    // extractor would.
    let headers = std::mem::take(request.headers_mut());
    let body = match RawBody::from_request(request, &state).await {
        Ok(RawBody(body)) => body,
        Err(err) => return err.into_response(),
    };
    let mut params = match form_params(&headers, &body) {
        Ok(p) => p,
        Err(err) => return oauth_error(err),
    };
    let auth = match client_auth(&headers, &mut params) {
        Ok(auth) => auth,
        Err(err) => return oauth_error(err),
    };
    let request = TokenRequest {
        grant_type: take(&mut params, "grant_type"),
        scope: params.remove("scope"),
        code: take(&mut params, "code"),
        redirect_uri: take(&mut params, "redirect_uri"),
        code_verifier: take(&mut params, "code_verifier"),
        refresh_token: take(&mut params, "refresh_token"),
    };
    match state.service.token(ip, auth.as_ref(), request).await {
        Ok(answer) => token_response(&answer),
        Err(err) => oauth_error(err),
    }
}

/// The JSON of a token response, as serde would write it, into a buffer sized for it.
/// The tokens are most of it and need no escaping (they are base64url, `_` and `.`), so
/// they are copied rather than scanned byte by byte for quotes; anything else is escaped.
fn token_response(answer: &TokenResponse) -> Response {
    let access_token = answer.access_token.expose();
    let refresh_token = answer.refresh_token.as_ref().map(SecretText::expose);
    let size = 128 + access_token.len() + answer.scope.len() + refresh_token.map_or(0, str::len);
    let mut json = Vec::with_capacity(size);
    let written = (|| {
        json.extend_from_slice(b"{\"access_token\":");
        json_token(&mut json, access_token)?;
        json.extend_from_slice(b",\"token_type\":");
        serde_json::to_writer(&mut json, &answer.token_type)?;
        json.extend_from_slice(b",\"expires_in\":");
        serde_json::to_writer(&mut json, &answer.expires_in)?;
        json.extend_from_slice(b",\"scope\":");
        serde_json::to_writer(&mut json, &answer.scope)?;
        if let Some(refresh_token) = refresh_token {
            json.extend_from_slice(b",\"refresh_token\":");
            json_token(&mut json, refresh_token)?;
        }
        json.push(b'}');
        Ok::<(), serde_json::Error>(())
    })();
    if let Err(err) = written {
        return oauth_error(OAuthError::Internal(err.to_string()));
    }
    // Built as it is sent rather than through `IntoResponse` and `no_store`: the headers
    // are inserted once each, into a map sized for them and those added on the way out.
    let mut response = Response::new(axum::body::Body::from(json));
    let headers = response.headers_mut();
    headers.reserve(6);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    super::forbid_storing(headers);
    response
}

/// A token as a JSON string: copied when it has no character JSON escapes (a control
/// character, `"` or `\\`), escaped by serde otherwise. The check has no early exit, so
/// that it compiles to a few vector instructions rather than a branch per byte.
fn json_token(json: &mut Vec<u8>, token: &str) -> Result<(), serde_json::Error> {
    let needs_escaping = token.bytes().fold(false, |found, b| {
        found | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if !needs_escaping {
        json.push(b'"');
        json.extend_from_slice(token.as_bytes());
        json.push(b'"');
        Ok(())
    } else {
        serde_json::to_writer(json, token)
    }
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
        Ok(answer) => super::no_store(Json(answer)),
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
        Ok(()) => super::no_store(StatusCode::OK),
        Err(err) => oauth_error(err),
    }
}

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

// --- the protected endpoint ------------------------------------------------------------

fn bearer_error(denied: AccessDenied) -> Response {
    let (status, challenge, error, description) = match &denied {
        AccessDenied::Missing => (
            StatusCode::UNAUTHORIZED,
            "Bearer realm=\"consola\"".to_string(),
            "invalid_request",
            "Falta Authorization: Bearer".to_string(),
        ),
        AccessDenied::InvalidToken => (
            StatusCode::UNAUTHORIZED,
            "Bearer realm=\"consola\", error=\"invalid_token\"".to_string(),
            "invalid_token",
            "Token de acceso vencido, revocado o inválido".to_string(),
        ),
        AccessDenied::InsufficientScope(scope) => (
            StatusCode::FORBIDDEN,
            format!("Bearer realm=\"consola\", error=\"insufficient_scope\", scope=\"{scope}\""),
            "insufficient_scope",
            format!("El token no incluye {scope}"),
        ),
        AccessDenied::UnknownModule => (
            StatusCode::NOT_FOUND,
            String::new(),
            "not_found",
            "Módulo desconocido".to_string(),
        ),
        AccessDenied::Hawk(reason) => (
            StatusCode::UNAUTHORIZED,
            "Hawk error=\"invalid\"".to_string(),
            "invalid_token",
            format!("API Key (Hawk): {reason}"),
        ),
        AccessDenied::HawkStale { ts, tsm } => (
            StatusCode::UNAUTHORIZED,
            format!("Hawk ts=\"{ts}\", tsm=\"{tsm}\", error=\"Stale timestamp\""),
            "invalid_token",
            "API Key (Hawk): hora fuera de la tolerancia de 60 s".to_string(),
        ),
    };
    let mut response = (
        status,
        Json(OAuthErrorBody {
            error: error.to_string(),
            error_description: description,
        }),
    )
        .into_response();
    if !challenge.is_empty()
        && let Ok(value) = HeaderValue::from_str(&challenge)
    {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

#[utoipa::path(operation_id = "modules_access", get, path = "/api/v1/modules/{module}/access", tag = "oauth",
    params(("module" = String, Path, description = "Module id, e.g. `reports`")),
    security(("bearer" = [])),
    responses((status = 200, description = "The token's scopes include {module}:view", body = ModuleAccess),
        (status = 401, description = "invalid_token: expired, revoked or forged", body = OAuthErrorBody),
        (status = 403, description = "insufficient_scope", body = OAuthErrorBody),
        (status = 404, description = "No such module", body = OAuthErrorBody)))]
pub async fn module_access(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(module): Path<String>,
    // The URI as sent: inside the nested `/api/v1` router `Uri` lacks the prefix.
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let is_hawk = authorization
        .split_once(' ')
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("hawk"));
    let result = if is_hawk {
        let host_header = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let (host, port) =
            crate::domain::hawk::host_and_port(host_header).unwrap_or_else(|| (String::new(), 80));
        let resource = uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or(uri.path());
        let request = HawkRequest {
            method: "GET",
            resource,
            host: &host,
            port,
        };
        // A GET: the payload a `hash` covers is empty, with the request's content type.
        let payload = HawkPayload {
            content_type: headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or(""),
            body: b"",
        };
        state
            .service
            .module_access_hawk(ip, authorization, &request, payload, &module)
            .await
    } else {
        match bearer(&headers) {
            Some(token) => state.service.module_access(&token, &module).await,
            None => Err(AccessDenied::Missing),
        }
    };
    match result {
        Ok(access) => Json(access).into_response(),
        Err(denied) => bearer_error(denied),
    }
}

// --- the authorization page ------------------------------------------------------------

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A page that may not be framed (clickjacking) nor cached.
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    page_posting_to(status, title, body, None, None)
}

/// A page whose form may lead to `redirect_uri`: browsers apply `form-action` to the
/// redirect that answers the form's POST too, so the (validated) redirect URI's origin is
/// allowed besides the server's own. The form's own target, the public URL, is allowed too:
/// the page may have been reached under another name than the public one.
fn page_posting_to(
    status: StatusCode,
    title: &str,
    body: &str,
    redirect_uri: Option<&str>,
    form_target: Option<&str>,
) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"es\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{}</title>\
         <style>body{{font-family:sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}}\
         label{{display:block;margin:.6rem 0}}input{{width:100%}}.error{{color:#b00}}</style>\
         </head><body><h1>{}</h1>{body}</body></html>",
        escape(title),
        escape(title)
    );
    let mut response = super::no_store((status, Html(html)));
    let headers = response.headers_mut();
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    let mut form_action = "'self'".to_string();
    for source in [form_target, redirect_uri]
        .into_iter()
        .flatten()
        .filter_map(csp_source)
    {
        form_action.push(' ');
        form_action.push_str(&source);
    }
    let policy = format!(
        "default-src 'none'; style-src 'unsafe-inline'; form-action {form_action}; frame-ancestors 'none'"
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&policy).unwrap_or_else(|_| {
            HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
            )
        }),
    );
    response
}

/// The CSP source that matches a redirect URI: its origin (`https://app.example:8443`), or
/// its scheme for a native app's private-use URI (`com.example.app:`).
fn csp_source(redirect_uri: &str) -> Option<String> {
    let url = url::Url::parse(redirect_uri).ok()?;
    let origin = url.origin();
    let source = if origin.is_tuple() {
        origin.ascii_serialization()
    } else {
        format!("{}:", url.scheme())
    };
    // Only characters a CSP source may hold: nothing that ends or adds a directive.
    let safe = source
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"+-.:/[]".contains(&b));
    safe.then_some(source)
}

fn error_page(message: &str) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "No se puede autorizar",
        &format!("<p class=\"error\">{}</p>", escape(message)),
    )
}

/// The form posts to the public URL's own authorize endpoint: behind a proxy that serves
/// the server under a path, a bare `/oauth/authorize` would miss it.
fn consent_page(prompt: &AuthorizePrompt, message: Option<&str>, issuer: &str) -> Response {
    let r = &prompt.request;
    let hidden: String = [
        ("response_type", &r.response_type),
        ("client_id", &r.client_id),
        ("redirect_uri", &r.redirect_uri),
        ("scope", &r.scope),
        ("state", &r.state),
        ("code_challenge", &r.code_challenge),
        ("code_challenge_method", &r.code_challenge_method),
    ]
    .iter()
    .filter_map(|(name, value)| {
        value.as_ref().map(|v| {
            format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                escape(v)
            )
        })
    })
    .collect();
    let scopes: String = prompt
        .scopes
        .iter()
        .map(|s| format!("<li>{}</li>", escape(s)))
        .collect();
    let message = message
        .map(|m| format!("<p class=\"error\">{}</p>", escape(m)))
        .unwrap_or_default();
    let body = format!(
        "<p><strong>{}</strong> pide acceso a:</p><ul>{scopes}</ul>{message}\
         <form method=\"post\" action=\"{}/oauth/authorize\">{hidden}\
         <label>Usuario <input name=\"username\" autocomplete=\"username\" required></label>\
         <label>Contraseña <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button name=\"decision\" value=\"approve\">Autorizar</button> \
         <button name=\"decision\" value=\"deny\">Denegar</button></form>",
        escape(&prompt.consumer_name),
        escape(issuer)
    );
    page_posting_to(
        StatusCode::OK,
        "Autorizar acceso",
        &body,
        r.redirect_uri.as_deref(),
        Some(issuer),
    )
}

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
        ("code_challenge" = String, Query), ("code_challenge_method" = String, Query, description = "S256")),
    responses((status = 200, description = "Login and consent page", content_type = "text/html", body = String),
        (status = 303, description = "Error sent back to the registered redirect URI"),
        (status = 400, description = "Unknown client or redirect URI: an error page, never a redirect", content_type = "text/html", body = String)))]
pub async fn authorize_page(State(state): State<AppState>, uri: Uri) -> Response {
    let query = uri.query().unwrap_or("");
    let request = match parse_authorize(query.as_bytes()) {
        Ok(r) => r,
        Err(message) => return error_page(&message),
    };
    match state.service.check_authorize(&request).await {
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

#[cfg(test)]
mod tests {
    use super::csp_source;

    #[test]
    fn the_form_may_lead_to_the_redirect_uri_origin_only() {
        assert_eq!(
            csp_source("https://app.example:8443/cb?x=1#f").as_deref(),
            Some("https://app.example:8443")
        );
        assert_eq!(
            csp_source("http://127.0.0.1:9/callback").as_deref(),
            Some("http://127.0.0.1:9")
        );
        assert_eq!(
            csp_source("http://[::1]:9/callback").as_deref(),
            Some("http://[::1]:9")
        );
        // A native app's private-use scheme: the scheme alone.
        assert_eq!(
            csp_source("com.example.app:/oauth").as_deref(),
            Some("com.example.app:")
        );
        assert_eq!(csp_source("not a url"), None);
    }

    #[test]
    fn form_params_refuse_a_repeated_name_and_give_each_value_once() {
        use super::FormParams;
        let mut params = FormParams::parse(b"scope=a+b&grant_type=client_credentials&x=%41")
            .unwrap_or_else(|name| panic!("refused {name}"));
        assert_eq!(
            params.remove("grant_type").as_deref(),
            Some("client_credentials")
        );
        assert_eq!(params.remove("grant_type"), None, "a value is taken once");
        assert_eq!(params.remove("scope").as_deref(), Some("a b"));
        assert_eq!(params.remove("x").as_deref(), Some("A"));
        assert_eq!(params.remove("missing"), None);
        for repeated in [&b"a=1&b=2&a=3"[..], b"b=&a=&b=", b"%61=1&a=2"] {
            assert_eq!(
                FormParams::parse(repeated).err().as_deref(),
                Some(if repeated[0] == b'b' { "b" } else { "a" })
            );
        }
    }

    proptest::proptest! {
        /// The borrowing parser reads every body as `form_urlencoded` does.
        #[test]
        fn form_params_read_what_form_urlencoded_reads(
            body in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(b'&'), proptest::strategy::Just(b'='),
                    proptest::strategy::Just(b'%'), proptest::strategy::Just(b'+'),
                    proptest::strategy::Just(b'a'), proptest::strategy::Just(b'4'),
                    proptest::strategy::Just(0xc3u8), proptest::strategy::Just(0xb1u8),
                    proptest::prelude::any::<u8>(),
                ],
                0..40,
            )
        ) {
            let mut expected: Vec<_> = form_urlencoded::parse(&body).collect();
            expected.sort_by(|a, b| a.0.cmp(&b.0));
            let repeated = expected.windows(2).any(|pair| pair[0].0 == pair[1].0);
            match super::FormParams::parse(&body) {
                Ok(params) => {
                    proptest::prop_assert!(!repeated);
                    let got: Vec<_> = params.0.into_iter()
                        .map(|(name, value)| (name, value.unwrap_or_default()))
                        .collect();
                    proptest::prop_assert_eq!(got, expected);
                }
                Err(_) => proptest::prop_assert!(repeated),
            }
        }
    }

    #[tokio::test]
    async fn the_token_response_is_the_json_serde_writes() {
        use crate::domain::oauth::TokenResponse;
        use crate::domain::secret::SecretText;
        let answers = [
            TokenResponse {
                access_token: SecretText::new("consola_at_eyJ2IjoxfQ.abc-_".into()),
                token_type: "Bearer".into(),
                expires_in: 3600,
                scope: "reports:view reports:report".into(),
                refresh_token: None,
            },
            // Characters a token of ours never has still come out as valid JSON.
            TokenResponse {
                access_token: SecretText::new("a\"b\\c\u{1}ñ".into()),
                token_type: "Bearer".into(),
                expires_in: 0,
                scope: "q\"uote".into(),
                refresh_token: Some(SecretText::new("consola_rt_x\"".into())),
            },
        ];
        for answer in answers {
            let response = super::token_response(&answer);
            assert_eq!(response.status(), 200);
            let body = axum::body::to_bytes(response.into_body(), 1 << 16)
                .await
                .unwrap_or_default();
            let expected = serde_json::to_vec(&answer).unwrap_or_default();
            assert_eq!(
                String::from_utf8_lossy(&body),
                String::from_utf8_lossy(&expected)
            );
        }
    }
}
