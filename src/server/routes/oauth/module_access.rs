//! The protected endpoint: a bearer access token (RFC 6750), or the legacy key signed with
//! Hawk, may see a module; refusals answer with their `WWW-Authenticate` challenge.

use super::form::bearer;
use crate::domain::hawk::{HawkPayload, HawkRequest};
use crate::domain::oauth::*;
use crate::server::AppState;
use crate::server::extract::{ClientIp, ClientScheme};
use crate::server::proxy::Proto;
use crate::service::AccessDenied;
use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

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
        AccessDenied::Dpop(reason) => (
            StatusCode::UNAUTHORIZED,
            format!(
                "DPoP algs=\"{}\", error=\"invalid_dpop_proof\"",
                dpop_algs()
            ),
            "invalid_dpop_proof",
            format!("DPoP: {reason}"),
        ),
        AccessDenied::DpopNonce(_) => (
            StatusCode::UNAUTHORIZED,
            format!("DPoP algs=\"{}\", error=\"use_dpop_nonce\"", dpop_algs()),
            "use_dpop_nonce",
            "DPoP: la prueba debe llevar el nonce de la cabecera DPoP-Nonce".to_string(),
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
    if let AccessDenied::DpopNonce(nonce) = &denied {
        super::offer_dpop_nonce(&mut response, nonce);
    }
    response
}

/// The proofs' algorithms, as a `DPoP` challenge names them (RFC 9449 §7.1).
fn dpop_algs() -> String {
    crate::domain::client_keys::ASSERTION_ALGS.join(" ")
}

#[utoipa::path(operation_id = "modules_access", get, path = "/api/v1/modules/{module}/access", tag = "oauth",
    params(("module" = String, Path, description = "Module id, e.g. `reports`"),
        ("DPoP" = Option<String>, Header, description = "With `Authorization: DPoP TOKEN`: a proof (RFC 9449 §7) of the token's key for this GET and URL, with `ath`")),
    security(("bearer" = [])),
    responses((status = 200, description = "The token's scopes include {module}:view", body = ModuleAccess),
        (status = 401, description = "invalid_token: expired, revoked or forged; invalid_dpop_proof: a bound token without its proof, or a proof that fails; use_dpop_nonce (with DPoP-Nonce)", body = OAuthErrorBody),
        (status = 403, description = "insufficient_scope", body = OAuthErrorBody),
        (status = 404, description = "No such module", body = OAuthErrorBody)))]
pub async fn module_access(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(module): Path<String>,
    // The URI as sent: inside the nested `/api/v1` router `Uri` lacks the prefix.
    OriginalUri(uri): OriginalUri,
    ClientScheme(scheme): ClientScheme,
    headers: HeaderMap,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let scheme_is = |name: &str| {
        authorization
            .split_once(' ')
            .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case(name))
    };
    let dpop = match super::dpop_proof(&headers) {
        Ok(dpop) => dpop,
        Err(why) => return bearer_error(AccessDenied::Dpop(why)),
    };
    let result = if scheme_is("dpop") {
        let token = authorization.split_once(' ').map_or("", |(_, t)| t.trim());
        match &dpop {
            // The URL the client called, as the issuer names this server.
            Some(proof) => {
                let url = format!("{}{}", state.service.issuer(), uri.path());
                state
                    .service
                    .module_access_dpop(token, proof, "GET", &url, &module)
                    .await
            }
            None => Err(AccessDenied::Dpop("falta la cabecera DPoP")),
        }
    } else if scheme_is("hawk") {
        let host_header = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        // A standard client signs the port of the URL it called, the scheme's when it named
        // none: 443 over HTTPS, here or at a trusted proxy in front.
        let default_port = match scheme {
            Proto::Https => 443,
            Proto::Http => 80,
        };
        let (host, port) = crate::domain::hawk::host_and_port(host_header, default_port)
            .unwrap_or_else(|| (String::new(), default_port));
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
    let mut response = match result {
        Ok(access) => Json(access).into_response(),
        Err(denied) => bearer_error(denied),
    };
    if dpop.is_some() && !response.headers().contains_key(super::DPOP_NONCE) {
        super::offer_dpop_nonce(&mut response, &state.service.dpop_nonce());
    }
    response
}
