//! Protected resources ("Recursos protegidos"): the APIs that tokens are issued for. A
//! client names one in its request (`resource`, RFC 8707 resource indicators) and the
//! token's `aud` is then that resource's URL, exactly as it is listed here.

use super::consumer::check_web_url;
use super::validation::{FieldErrors, required_line};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Longest name of a resource, in characters.
pub const NAME_MAX: usize = 100;
/// Longest URL of a resource, in characters (as for redirect URIs).
pub const URL_MAX: usize = 2000;

/// A resource, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProtectedResource {
    pub id: Uuid,
    pub name: String,
    /// The resource indicator (RFC 8707): an absolute URL without fragment, compared as
    /// written; a token for it carries it as `aud`.
    pub url: String,
    pub created_at: DateTime<Utc>,
    /// Username of the creator.
    pub created_by: String,
}

/// A resource to add.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProtectedResource {
    pub name: String,
    /// `https://…`, or `http://` to a loopback host; no fragment.
    pub url: String,
}

/// A resource's fields once checked: trimmed, and fit to be a token's audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidProtectedResource {
    pub name: String,
    pub url: String,
}

impl NewProtectedResource {
    /// Checks every field at once, so a form can show all errors together.
    pub fn check(&self) -> Result<ValidProtectedResource, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = required_line(&mut errors, "name", &self.name, NAME_MAX);
        let url = self.url.trim();
        if let Err(message) = check_resource_url(url) {
            errors.add("url", message);
        }
        errors.into_result().map(|()| ValidProtectedResource {
            name,
            url: url.to_string(),
        })
    }
}

/// A resource indicator (RFC 8707 §2): an absolute URL with no fragment, `https://` or
/// `http://` to a loopback host, as a redirect URI. Since it is compared as written and
/// shown in tokens and in the audit log, it may hold no spaces, control or invisible
/// characters (which URL parsers drop without a word), nor a user or password.
pub fn check_resource_url(url: &str) -> Result<(), String> {
    let len = url.chars().count();
    if len == 0 {
        return Err("Este campo es obligatorio".into());
    }
    if len > URL_MAX {
        return Err(format!("Máximo {URL_MAX} caracteres (tiene {len})"));
    }
    if url
        .chars()
        .any(|c| c.is_whitespace() || super::is_unsafe_char(c) || super::names::is_invisible(c))
    {
        return Err("No puede contener espacios ni caracteres de control o invisibles".into());
    }
    // The scheme written plainly, so that what is compared is what it looks like: parsers
    // also read `HTTPS:api.example.com` as `https://api.example.com/`.
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(
            "Debe ser una URL absoluta que empiece con https:// (o http:// hacia localhost)".into(),
        );
    }
    let parsed = url::Url::parse(url).map_err(|_| "No es una URL válida".to_string())?;
    check_web_url(url).map_err(|message| format!("URL no válida: {message}"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("La URL no puede llevar usuario ni contraseña".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(name: &str, url: &str) -> NewProtectedResource {
        NewProtectedResource {
            name: name.into(),
            url: url.into(),
        }
    }

    #[test]
    fn fields_are_trimmed_and_kept_as_written() {
        let valid = new("  API de activos ", " https://API.example.com/v1 ")
            .check()
            .unwrap();
        assert_eq!(valid.name, "API de activos");
        // Not normalised: the token's `aud` is what the admin wrote.
        assert_eq!(valid.url, "https://API.example.com/v1");
        for good in [
            "https://api.example.com",
            "https://api.example.com/v1?tenant=7",
            "http://127.0.0.1:8080/api",
            "http://localhost/api",
            "http://[::1]/api",
        ] {
            assert!(new("A", good).check().is_ok(), "{good}");
        }
    }

    #[test]
    fn a_url_that_cannot_be_an_audience_is_refused() {
        for (bad, says) in [
            ("", "obligatorio"),
            ("   ", "obligatorio"),
            ("http://api.example.com/", "localhost"),
            ("http://10.0.0.1/", "localhost"),
            ("https://api.example.com/#parte", "fragmento"),
            ("https://api.example.com/#", "fragmento"),
            ("api.example.com", "URL absoluta"),
            ("/api/v1", "URL absoluta"),
            ("https:api.example.com", "URL absoluta"),
            ("HTTPS://api.example.com", "URL absoluta"),
            ("https://", "No es una URL válida"),
            ("https://exa mple.com", "espacios"),
            ("ftp://api.example.com/", "https://"),
            ("urn:consola:api", "https://"),
            ("https://api.example.com/a b", "espacios"),
            ("https://api.exa\nmple.com/", "control"),
            ("https://api.example.com/\u{200b}", "invisibles"),
            ("https://yo:clave@api.example.com/", "usuario"),
        ] {
            let errors = new("A", bad).check().unwrap_err();
            let message = errors.get("url").unwrap_or_else(|| panic!("{bad:?}"));
            assert!(message.contains(says), "{bad:?}: {message}");
        }
        let long = format!("https://api.example.com/{}", "a".repeat(URL_MAX));
        let errors = new("A", &long).check().unwrap_err();
        assert!(errors.get("url").unwrap().contains("Máximo 2000"));
    }

    #[test]
    fn the_name_is_a_required_line() {
        let url = "https://api.example.com";
        for bad in ["", "  ", "a\u{1b}[31mb"] {
            assert!(new(bad, url).check().unwrap_err().get("name").is_some());
        }
        let errors = new(&"n".repeat(NAME_MAX + 1), url).check().unwrap_err();
        assert!(errors.get("name").unwrap().contains("Máximo 100"));
        assert!(new(&"n".repeat(NAME_MAX), url).check().is_ok());
        // Both fields at once.
        let both = new("", "nada").check().unwrap_err();
        assert!(both.get("name").is_some() && both.get("url").is_some());
    }
}
