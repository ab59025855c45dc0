//! OAuth consumers ("Consumidores OAuth"): the clients whose key and secret get tokens.

use super::approval::{Approval, ConsumerOrigin};
use super::client_keys::{AuthMethod, ClientKeys};
use super::validation::{FieldErrors, optional_text, required_line};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    /// "Credenciales de cliente".
    ClientCredentials,
    /// "Código de autorización"; needs at least one redirect URI.
    AuthorizationCode,
}

impl GrantType {
    pub const ALL: [GrantType; 2] = [GrantType::ClientCredentials, GrantType::AuthorizationCode];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::ClientCredentials => "client_credentials",
            GrantType::AuthorizationCode => "authorization_code",
        }
    }

    pub fn parse(text: &str) -> Option<GrantType> {
        GrantType::ALL.into_iter().find(|g| g.as_str() == text)
    }

    pub fn label_es(self) -> &'static str {
        match self {
            GrantType::ClientCredentials => "Credenciales de cliente",
            GrantType::AuthorizationCode => "Código de autorización",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            GrantType::ClientCredentials => "Client credentials",
            GrantType::AuthorizationCode => "Authorization code",
        }
    }
}

/// The shape of the access tokens a consumer gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenFormat {
    /// Random, with an HMAC tag: validated without a database read.
    #[default]
    Opaque,
    /// A signed JWT.
    Jwt,
}

impl TokenFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenFormat::Opaque => "opaque",
            TokenFormat::Jwt => "jwt",
        }
    }

    pub fn parse(text: &str) -> Option<TokenFormat> {
        match text {
            "opaque" => Some(TokenFormat::Opaque),
            "jwt" => Some(TokenFormat::Jwt),
            _ => None,
        }
    }
}

pub use super::jose::AccessTokenAlg;

/// The longest client_id taken: a generated Clave is 32 characters, a metadata document's
/// URL may be much longer.
pub const MAX_CLIENT_ID: usize = 2000;

/// A consumer as every read returns it: never with its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Consumer {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub grant_type: GrantType,
    pub permission_group_id: Uuid,
    /// Name of the permission group, for display.
    pub permission_group_name: String,
    pub hub_enabled: bool,
    pub enabled: bool,
    pub token_format: TokenFormat,
    /// How its `jwt` access tokens are signed (kept, and ignored, for `opaque` ones).
    #[serde(default)]
    pub access_token_alg: AccessTokenAlg,
    pub redirect_uris: Vec<String>,
    /// "Clave": the public client identifier.
    pub client_id: String,
    /// How it authenticates at the token endpoint.
    #[serde(default)]
    pub auth_method: AuthMethod,
    /// The public keys of a `private_key_jwt` consumer, as a JWKS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<ClientKeys>,
    /// Or where a `private_key_jwt` consumer publishes them (`https://`), fetched as the
    /// metadata documents are and kept as their `Cache-Control` says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Gets only DPoP-bound tokens (RFC 9449 §5.2 `dpop_bound_access_tokens`): a token
    /// request without a proof is refused.
    #[serde(default)]
    pub require_dpop: bool,
    /// Made in the console, or registered by the client itself.
    #[serde(default)]
    pub origin: ConsumerOrigin,
    /// A self-registered client gets nothing while `pending` or `rejected`.
    #[serde(default)]
    pub approval: Approval,
    /// The last four characters of its secret; empty for a `private_key_jwt` or public
    /// consumer, which has none.
    pub secret_last_four: String,
    pub created_at: DateTime<Utc>,
    /// Username of the creator.
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
    /// Increases with every write; sent back as `ETag`, expected in `If-Match`.
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConsumer {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub grant_type: GrantType,
    pub permission_group_id: Uuid,
    #[serde(default)]
    pub hub_enabled: bool,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub token_format: TokenFormat,
    /// How `jwt` access tokens are signed; EdDSA unless asked.
    #[serde(default)]
    pub access_token_alg: AccessTokenAlg,
    /// How it authenticates: with a Secreto (made now, shown once) unless asked.
    #[serde(default)]
    pub auth_method: AuthMethod,
    /// For `private_key_jwt`: its public keys, a JWKS (`{"keys": [...]}`) or one JWK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    /// For `private_key_jwt`, instead of `jwks`: the `https://` URL of its JWKS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Only DPoP-bound tokens (RFC 9449 §5.2).
    #[serde(default)]
    pub require_dpop: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsumerPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_group_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_format: Option<TokenFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_alg: Option<AccessTokenAlg>,
    /// A `private_key_jwt` consumer's new set of public keys, replacing the old one: keys
    /// are rolled over by registering the next beside the current, then dropping it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    /// A `private_key_jwt` consumer's keys from now on at this `https://` URL (the
    /// registered JWKS is then dropped); a `jwks` drops the URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_dpop: Option<bool>,
}

impl Consumer {
    /// True when it may get tokens: enabled, and approved if it registered itself.
    pub fn may_get_tokens(&self) -> bool {
        self.enabled && self.approval == Approval::Approved
    }
}

impl ConsumerPatch {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_none()
            && self.permission_group_id.is_none()
            && self.hub_enabled.is_none()
            && self.enabled.is_none()
            && self.redirect_uris.is_none()
            && self.token_format.is_none()
            && self.access_token_alg.is_none()
            && self.jwks.is_none()
            && self.jwks_uri.is_none()
            && self.require_dpop.is_none()
    }
}

/// Query of the consumer list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsumerQuery {
    /// Part of the name (any case) or of the Clave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// The answer to a create: the consumer plus its secret, shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedConsumer {
    #[serde(flatten)]
    pub consumer: Consumer,
    /// "Secreto": shown only in this response; absent for a `private_key_jwt` consumer,
    /// which has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub client_secret: Option<crate::domain::secret::SecretText>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    /// How long the previous secret keeps working, in seconds (0: stops at once).
    #[serde(default)]
    pub grace_seconds: u32,
    /// Also revoke the access tokens issued so far ("revocar tokens existentes").
    #[serde(default)]
    pub revoke_tokens: bool,
}

/// Longest grace a rotation may give the previous secret: 30 days.
pub const MAX_GRACE_SECONDS: u32 = 30 * 24 * 3600;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RotatedSecret {
    /// The new secret, shown only in this response.
    #[schema(value_type = String)]
    pub client_secret: crate::domain::secret::SecretText,
    pub secret_last_four: String,
    pub previous_secret_valid_until: Option<DateTime<Utc>>,
}

/// The fields of a consumer once validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidConsumer {
    pub name: String,
    pub description: String,
    pub grant_type: GrantType,
    pub permission_group_id: Uuid,
    pub hub_enabled: bool,
    pub enabled: bool,
    pub token_format: TokenFormat,
    pub access_token_alg: AccessTokenAlg,
    pub redirect_uris: Vec<String>,
    pub auth_method: AuthMethod,
    pub jwks: Option<ClientKeys>,
    pub jwks_uri: Option<String>,
    pub require_dpop: bool,
}

/// The keys of a `jwks` field as sent, or `None` with its error recorded.
pub fn check_jwks(errors: &mut FieldErrors, jwks: &serde_json::Value) -> Option<ClientKeys> {
    ClientKeys::parse(jwks)
        .map_err(|why| errors.add("jwks", format!("JWKS inválida: {why}")))
        .ok()
}

impl ValidConsumer {
    /// Validates every field at once, so the form can show all errors together.
    pub fn check(self) -> Result<ValidConsumer, FieldErrors> {
        self.check_with(FieldErrors::new())
    }

    /// As [`ValidConsumer::check`], adding to errors already found (a `jwks` that did not
    /// parse, say).
    pub fn check_with(self, mut errors: FieldErrors) -> Result<ValidConsumer, FieldErrors> {
        let name = required_line(&mut errors, "name", &self.name, 100);
        let description = optional_text(&mut errors, "description", &self.description, 500);
        let mut uris = Vec::new();
        for (i, raw) in self.redirect_uris.iter().enumerate() {
            let uri = raw.trim();
            if uri.is_empty() {
                continue;
            }
            if let Err(message) = check_redirect_uri(uri) {
                errors.add("redirect_uris", format!("URL {}: {message}", i + 1));
            }
            uris.push(uri.to_string());
        }
        if uris.len() > 10 {
            errors.add("redirect_uris", "Máximo 10 URL de retorno");
        }
        if self.grant_type == GrantType::AuthorizationCode && uris.is_empty() {
            errors.add(
                "redirect_uris",
                "Código de autorización necesita al menos una URL de retorno",
            );
        }
        if let Some(uri) = &self.jwks_uri
            && let Err(why) = check_jwks_uri(uri)
        {
            errors.add("jwks_uri", format!("jwks_uri {why}"));
        }
        match (self.auth_method, &self.jwks, &self.jwks_uri) {
            (AuthMethod::PrivateKeyJwt, None, None) if errors.get("jwks").is_none() => errors.add(
                "jwks",
                "Clave privada (JWT) necesita las claves públicas (una JWKS o su jwks_uri)",
            ),
            (AuthMethod::PrivateKeyJwt, Some(_), Some(_)) => {
                errors.add("jwks_uri", "Una JWKS o una jwks_uri, no las dos")
            }
            (AuthMethod::ClientSecret | AuthMethod::Public, Some(_), _) => errors.add(
                "jwks",
                "Solo un consumidor con Clave privada (JWT) registra claves públicas",
            ),
            (AuthMethod::ClientSecret | AuthMethod::Public, _, Some(_)) => errors.add(
                "jwks_uri",
                "Solo un consumidor con Clave privada (JWT) registra claves públicas",
            ),
            _ => {}
        }
        if self.auth_method == AuthMethod::Public && self.grant_type != GrantType::AuthorizationCode
        {
            errors.add(
                "auth_method",
                "Un cliente público (sin credenciales) solo usa Código de autorización",
            );
        }
        errors.into_result().map(|()| ValidConsumer {
            name,
            description,
            redirect_uris: uris,
            ..self
        })
    }
}

/// A `jwks_uri` is an absolute `https://` URL with a host, no user or password and no
/// fragment, at most 2000 characters.
pub fn check_jwks_uri(uri: &str) -> Result<(), &'static str> {
    if uri.chars().count() > 2000 {
        return Err("demasiado larga");
    }
    let parsed = url::Url::parse(uri).map_err(|_| "no es una URL válida")?;
    if parsed.scheme() != "https" || parsed.host().is_none() {
        return Err("debe empezar con https://");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("no puede llevar usuario ni contraseña");
    }
    if parsed.fragment().is_some() {
        return Err("no puede tener fragmento (#)");
    }
    Ok(())
}

/// A redirect URI must be absolute, `https://`, or `http://` to a loopback host (RFC 8252),
/// with no fragment: a [`check_web_url`].
pub fn check_redirect_uri(uri: &str) -> Result<(), &'static str> {
    check_web_url(uri)
}

/// An absolute URL the server sends to or names: `https://`, or `http://` to a loopback host
/// (RFC 8252), with no fragment, at most 2000 characters. Redirect URIs and protected
/// resources (RFC 8707 §2) follow it.
pub fn check_web_url(uri: &str) -> Result<(), &'static str> {
    if uri.chars().count() > 2000 {
        return Err("demasiado larga");
    }
    let parsed = url::Url::parse(uri).map_err(|_| "no es una URL válida")?;
    if parsed.fragment().is_some() {
        return Err("no puede tener fragmento (#)");
    }
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(()),
        "http" => match parsed.host() {
            Some(url::Host::Domain("localhost")) => Ok(()),
            Some(url::Host::Ipv4(ip)) if ip.is_loopback() => Ok(()),
            Some(url::Host::Ipv6(ip)) if ip.is_loopback() => Ok(()),
            _ => Err("http solo se permite hacia localhost; use https"),
        },
        _ => Err("debe empezar con https://"),
    }
}

/// True when a redirect URI in an authorization request matches a registered one: the same
/// string, or, for `http` on the loopback IP literals `127.0.0.1` and `[::1]`, the same on any
/// port (RFC 8252 §7.3, RFC 9700 §2.1), since a native app listens on whatever port it gets.
/// `localhost` is a name that may resolve elsewhere (RFC 8252 §8.3): it matches exactly only.
pub fn redirect_uri_matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    let (Ok(registered_url), Ok(mut requested_url)) =
        (url::Url::parse(registered), url::Url::parse(requested))
    else {
        return false;
    };
    // Only the port may differ: the request must be written as the parser writes it (no
    // `127.1`, dot segments or case games), with the registered URI's scheme, host, path
    // and query.
    if requested_url.as_str() != requested
        || !is_loopback_literal(&registered_url)
        || !is_loopback_literal(&requested_url)
        || requested_url.set_port(registered_url.port()).is_err()
    {
        return false;
    }
    requested_url == registered_url
}

/// `http://127.0.0.1…` or `http://[::1]…`, without credentials.
fn is_loopback_literal(url: &url::Url) -> bool {
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
        Some(url::Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        _ => false,
    };
    loopback && url.scheme() == "http" && url.username().is_empty() && url.password().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> ValidConsumer {
        ValidConsumer {
            name: "  ERP  ".into(),
            description: String::new(),
            grant_type: GrantType::ClientCredentials,
            permission_group_id: crate::domain::new_id(),
            hub_enabled: false,
            enabled: true,
            token_format: TokenFormat::Opaque,
            access_token_alg: AccessTokenAlg::EdDSA,
            redirect_uris: vec![],
            auth_method: AuthMethod::ClientSecret,
            jwks: None,
            jwks_uri: None,
            require_dpop: false,
        }
    }

    #[test]
    fn name_is_trimmed_and_bounded() {
        assert_eq!(base().check().unwrap().name, "ERP");
        let long = ValidConsumer {
            name: "x".repeat(101),
            ..base()
        };
        assert!(long.check().unwrap_err().get("name").is_some());
        let ctrl = ValidConsumer {
            name: "a\u{1b}[31mb".into(),
            ..base()
        };
        assert!(ctrl.check().unwrap_err().get("name").is_some());
        let empty = ValidConsumer {
            name: "   ".into(),
            ..base()
        };
        assert!(empty.check().unwrap_err().get("name").is_some());
    }

    #[test]
    fn authorization_code_needs_a_safe_redirect() {
        let none = ValidConsumer {
            grant_type: GrantType::AuthorizationCode,
            ..base()
        };
        assert!(none.check().unwrap_err().get("redirect_uris").is_some());
        for bad in [
            "http://example.com/cb",
            "ftp://x",
            "nope",
            "https://a/b#frag",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
        for good in [
            "https://example.com/cb",
            "http://127.0.0.1:8080/cb",
            "http://localhost/cb",
            "http://[::1]/cb",
        ] {
            assert!(check_redirect_uri(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn loopback_redirects_match_on_any_port_and_nothing_else() {
        for (registered, requested) in [
            ("http://127.0.0.1/cb", "http://127.0.0.1:49152/cb"),
            ("http://127.0.0.1:8080/cb", "http://127.0.0.1:61000/cb"),
            (
                "http://127.0.0.1:8080/cb?app=1",
                "http://127.0.0.1:5/cb?app=1",
            ),
            ("http://[::1]/cb", "http://[::1]:50000/cb"),
            ("http://[::1]:9/cb", "http://[::1]/cb"),
            ("https://erp.example/cb", "https://erp.example/cb"),
            ("http://localhost:8080/cb", "http://localhost:8080/cb"),
        ] {
            assert!(
                redirect_uri_matches(registered, requested),
                "{registered} {requested}"
            );
        }
        for (registered, requested) in [
            // localhost is a name, not a loopback IP: exact only.
            ("http://localhost/cb", "http://localhost:5000/cb"),
            ("http://localhost:8080/cb", "http://localhost:8081/cb"),
            // Another host, path, scheme, query or user.
            ("http://127.0.0.1/cb", "http://127.0.0.2:5000/cb"),
            ("http://127.0.0.1/cb", "http://[::1]:5000/cb"),
            ("http://127.0.0.1/cb", "http://127.0.0.1:5000/other"),
            ("http://127.0.0.1/cb", "http://127.0.0.1:5000/cb/"),
            ("http://127.0.0.1/cb", "https://127.0.0.1:5000/cb"),
            ("http://127.0.0.1/cb", "http://127.0.0.1:5000/cb?x=1"),
            ("http://127.0.0.1/cb?a=1", "http://127.0.0.1:5000/cb?a=2"),
            ("http://127.0.0.1/cb", "http://u@127.0.0.1:5000/cb"),
            ("http://127.0.0.1/cb", "http://127.1:5000/cb"),
            ("http://127.0.0.1/cb", "http://127.0.0.1:5000/x/../cb"),
            // Anything else stays an exact string match, port included.
            ("https://erp.example/cb", "https://erp.example:8443/cb"),
            ("https://127.0.0.1/cb", "https://127.0.0.1:8443/cb"),
            ("http://127.0.0.1/cb", "not a url"),
        ] {
            assert!(
                !redirect_uri_matches(registered, requested),
                "{registered} {requested}"
            );
        }
    }

    #[test]
    fn description_limit() {
        let long = ValidConsumer {
            description: "d".repeat(501),
            ..base()
        };
        assert!(long.check().unwrap_err().get("description").is_some());
    }
}
