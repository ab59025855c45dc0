//! The HTML of the authorization endpoint: the login and consent page and the error page,
//! never framed nor cached, with a CSP that lets the form lead only to the redirect URI.

use crate::service::AuthorizePrompt;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, Response};

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
pub(super) fn page(status: StatusCode, title: &str, body: &str) -> Response {
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
    let mut response = crate::server::routes::no_store((status, Html(html)));
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

pub(super) fn error_page(message: &str) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "No se puede autorizar",
        &format!("<p class=\"error\">{}</p>", escape(message)),
    )
}

/// The form posts to the public URL's own authorize endpoint: behind a proxy that serves
/// the server under a path, a bare `/oauth/authorize` would miss it.
pub(super) fn consent_page(
    prompt: &AuthorizePrompt,
    message: Option<&str>,
    issuer: &str,
) -> Response {
    let r = &prompt.request;
    let hidden: String = [
        ("response_type", &r.response_type),
        ("client_id", &r.client_id),
        ("redirect_uri", &r.redirect_uri),
        ("scope", &r.scope),
        ("state", &r.state),
        ("code_challenge", &r.code_challenge),
        ("code_challenge_method", &r.code_challenge_method),
        ("resource", &r.resource),
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
    // Who is asking, as hosts no client can choose for itself (a name can pose as another).
    let mut facts = format!(
        "<li>Volverá a <strong>{}</strong></li>",
        escape(&prompt.redirect_host)
    );
    if let Some(host) = &prompt.document_host {
        facts.push_str(&format!(
            "<li>Cliente descrito por <strong>{}</strong></li>",
            escape(host)
        ));
    } else if prompt.self_registered {
        facts.push_str("<li>Cliente que se registró solo</li>");
    }
    if let Some((name, url)) = &prompt.resource {
        facts.push_str(&format!(
            "<li>Para el recurso <strong>{}</strong> ({})</li>",
            escape(name),
            escape(url)
        ));
    }
    let body = format!(
        "<p><strong>{}</strong> pide acceso a:</p><ul>{scopes}</ul><ul class=\"facts\">{facts}</ul>{message}\
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
}
