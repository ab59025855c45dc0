//! The token endpoint (RFC 6749 §3.2): its form, and the JSON of its answer (§5.1).

use super::form::{client_auth, form_params, take};
use super::oauth_error;
use crate::domain::oauth::*;
use crate::domain::secret::SecretText;
use crate::server::AppState;
use crate::server::extract::{ClientIp, RawBody};
use crate::service::{InternalError, OAuthError, TokenRequest};
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The token request (form-urlencoded). Client credentials go in Basic, in the body, or as
/// a `private_key_jwt` assertion (RFC 7523 §2.2); a `DPoP` header (RFC 9449) binds the
/// token to its key.
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
    /// The protected resource the token is for (RFC 8707): a URL of the resource list; the
    /// token is then a JWT whose `aud` it is.
    resource: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    /// `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`, with `client_assertion`.
    client_assertion_type: Option<String>,
    /// A JWT signed with one of the consumer's registered keys.
    client_assertion: Option<String>,
}

#[utoipa::path(operation_id = "oauth_token", post, path = "/oauth/token", tag = "oauth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    params(("DPoP" = Option<String>, Header, description = "A DPoP proof (RFC 9449 §4) for POST to this endpoint: the token is then bound to its key (token_type DPoP)")),
    responses((status = 200, description = "RFC 6749 §5.1; Cache-Control: no-store", body = TokenResponse),
        (status = 400, description = "invalid_request, invalid_grant, unauthorized_client, unsupported_grant_type, invalid_scope, invalid_target, invalid_dpop_proof, use_dpop_nonce (with DPoP-Nonce)", body = OAuthErrorBody),
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
    let dpop = match super::dpop_proof(&headers) {
        Ok(dpop) => dpop,
        Err(why) => return oauth_error(OAuthError::InvalidDpopProof(why)),
    };
    let with_proof = dpop.is_some();
    let request = TokenRequest {
        grant_type: take(&mut params, "grant_type"),
        scope: params.remove("scope"),
        code: take(&mut params, "code"),
        redirect_uri: take(&mut params, "redirect_uri"),
        code_verifier: take(&mut params, "code_verifier"),
        refresh_token: take(&mut params, "refresh_token"),
        resource: take(&mut params, "resource"),
        dpop,
    };
    let mut response = match state.service.token(ip, auth.as_ref(), request).await {
        Ok(answer) => token_response(&answer),
        Err(err) => oauth_error(err),
    };
    if with_proof && !response.headers().contains_key(super::DPOP_NONCE) {
        super::offer_dpop_nonce(&mut response, &state.service.dpop_nonce());
    }
    response
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
        let err = InternalError::caused("no se pudo escribir la respuesta de token", err);
        return oauth_error(OAuthError::Internal(err));
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
    crate::server::routes::forbid_storing(headers);
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
#[cfg(test)]
mod tests {

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
