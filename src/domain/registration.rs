//! Clients that meet the server for the first time: the policy for them, the decision on
//! one, and the client metadata a client sends with a
//! registration (RFC 7591 §2) or publishes as its Client ID Metadata Document
//! (draft-ietf-oauth-client-id-metadata-document), checked into a consumer's fields.

pub use super::approval::{Approval, ConsumerOrigin};
use super::client_keys::AuthMethod;
use super::consumer::{AccessTokenAlg, GrantType, TokenFormat, ValidConsumer, check_redirect_uri};
use super::validation::{FieldErrors, optional_text};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// What the server does with a client it has never seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationPolicy {
    /// Neither registration nor metadata documents are offered.
    #[default]
    Off,
    /// A new client is *Pendiente* until the Súper Administrador approves it.
    Approval,
    /// A new client goes straight into the policy's group.
    Open,
}

impl RegistrationPolicy {
    pub const ALL: [RegistrationPolicy; 3] = [
        RegistrationPolicy::Off,
        RegistrationPolicy::Approval,
        RegistrationPolicy::Open,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationPolicy::Off => "off",
            RegistrationPolicy::Approval => "approval",
            RegistrationPolicy::Open => "open",
        }
    }

    pub fn parse(text: &str) -> Option<RegistrationPolicy> {
        RegistrationPolicy::ALL
            .into_iter()
            .find(|p| p.as_str() == text)
    }

    pub fn label_es(self) -> &'static str {
        match self {
            RegistrationPolicy::Off => "Desactivado",
            RegistrationPolicy::Approval => "Con aprobación",
            RegistrationPolicy::Open => "Abierto",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            RegistrationPolicy::Off => "Off",
            RegistrationPolicy::Approval => "With approval",
            RegistrationPolicy::Open => "Open",
        }
    }
}

impl std::str::FromStr for RegistrationPolicy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        RegistrationPolicy::parse(text)
            .ok_or_else(|| format!("«{text}» no es off, approval ni open"))
    }
}

/// The policy in force, as the console shows it and the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RegistrationSettings {
    pub policy: RegistrationPolicy,
    /// The group a new client goes into (under `approval`, the one proposed).
    pub group_id: Option<Uuid>,
    pub group_name: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

/// A change of the policy.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationPatch {
    pub policy: RegistrationPolicy,
    /// Required unless the policy is `off`.
    #[serde(default)]
    pub group_id: Option<Uuid>,
}

/// The Súper Administrador's decision on a pending client.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveConsumer {
    /// The permission group it goes into.
    pub permission_group_id: Uuid,
}

/// Client metadata (RFC 7591 §2), as a registration sends it or a metadata document holds
/// it. Fields consola does not use are accepted and ignored, as §2 asks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClientMetadata {
    /// Only in a metadata document: its own URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
}

/// The answer to a registration or a read of it (RFC 7591 §3.2.1, RFC 7592 §3): the client's
/// metadata as registered, its credentials, and where and how to manage it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClientInformation {
    pub client_id: String,
    /// Shown when it is made, never again (absent for a public client).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub client_secret: Option<crate::domain::secret::SecretText>,
    pub client_id_issued_at: i64,
    /// 0: it does not expire (present when a secret is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
    /// Shown when it is made, never again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub registration_access_token: Option<crate::domain::secret::SecretText>,
    pub registration_client_uri: String,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    pub token_endpoint_auth_method: String,
    /// consola's own: `pending` until the Súper Administrador approves the client.
    pub approval: Approval,
}

/// An initial access token as listed: never the token itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InitialAccessToken {
    pub id: Uuid,
    pub name: String,
    pub permission_group_id: Uuid,
    pub permission_group_name: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// A new initial access token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInitialAccessToken {
    pub name: String,
    pub permission_group_id: Uuid,
    /// How long it registers clients, in days (1 to 365; default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
}

/// A new initial access token with the token, shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedInitialAccessToken {
    #[serde(flatten)]
    pub token: InitialAccessToken,
    #[schema(value_type = String)]
    pub initial_access_token: crate::domain::secret::SecretText,
}

/// A refusal of client metadata (RFC 7591 §3.2.2): its error code and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{description}")]
pub struct MetadataRefused {
    /// `invalid_redirect_uri` or `invalid_client_metadata`.
    pub error: &'static str,
    pub description: String,
}

impl MetadataRefused {
    fn metadata(description: impl Into<String>) -> MetadataRefused {
        MetadataRefused {
            error: "invalid_client_metadata",
            description: description.into(),
        }
    }

    fn redirect(description: impl Into<String>) -> MetadataRefused {
        MetadataRefused {
            error: "invalid_redirect_uri",
            description: description.into(),
        }
    }
}

/// What a client's metadata makes of it, once checked.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisteredClient {
    /// The consumer's name: `client_name`, or for a metadata document its URL's host.
    pub name: String,
    pub description: String,
    pub grant_type: GrantType,
    pub auth_method: AuthMethod,
    pub redirect_uris: Vec<String>,
}

impl RegisteredClient {
    /// The consumer's fields of a client that registered itself, in `group`: JWT access
    /// tokens (a resource server checks them with the JWKS alone), nothing else turned on.
    /// Still to be checked ([`ValidConsumer::check`]).
    pub fn fields(self, group: Uuid) -> ValidConsumer {
        ValidConsumer {
            name: self.name,
            description: self.description,
            grant_type: self.grant_type,
            permission_group_id: group,
            hub_enabled: false,
            enabled: true,
            token_format: TokenFormat::Jwt,
            access_token_alg: AccessTokenAlg::default(),
            redirect_uris: self.redirect_uris,
            auth_method: self.auth_method,
            jwks: None,
            jwks_uri: None,
            require_dpop: false,
        }
    }
}

/// The authentication methods a registration may ask for.
pub const REGISTRATION_AUTH_METHODS: [&str; 3] =
    ["none", "client_secret_basic", "client_secret_post"];

impl ClientMetadata {
    /// Checks a registration's metadata (RFC 7591 §2): redirect URIs as the console's,
    /// the authorization code grant (with `refresh_token` beside it) or client credentials,
    /// `response_types` of `code` only, and an authentication method of `none`,
    /// `client_secret_basic` or `client_secret_post` (default `client_secret_basic`).
    pub fn check_registration(&self) -> Result<RegisteredClient, MetadataRefused> {
        let auth_method = match self
            .token_endpoint_auth_method
            .as_deref()
            .unwrap_or("client_secret_basic")
        {
            "none" => AuthMethod::Public,
            "client_secret_basic" | "client_secret_post" => AuthMethod::ClientSecret,
            other => {
                return Err(MetadataRefused::metadata(format!(
                    "token_endpoint_auth_method «{}» no se admite; use none, \
                     client_secret_basic o client_secret_post",
                    shown(other)
                )));
            }
        };
        let fallback = self
            .redirect_uris
            .first()
            .and_then(|uri| url::Url::parse(uri).ok())
            .and_then(|url| url.host_str().map(str::to_string))
            .unwrap_or_else(|| "cliente registrado".into());
        self.check(auth_method, fallback)
    }

    /// Checks a Client ID Metadata Document fetched from `url`: its `client_id` must be
    /// that URL, it is a public client (`none`; a document cannot hold a secret), and it
    /// is named by the URL's host.
    pub fn check_document(&self, url: &str) -> Result<RegisteredClient, MetadataRefused> {
        if self.client_id.as_deref() != Some(url) {
            return Err(MetadataRefused::metadata(
                "el client_id del documento no es la URL de la que se obtuvo",
            ));
        }
        match self.token_endpoint_auth_method.as_deref() {
            None | Some("none") => {}
            Some(other) => {
                return Err(MetadataRefused::metadata(format!(
                    "un documento de metadatos describe un cliente público \
                     (token_endpoint_auth_method none), no «{}»",
                    shown(other)
                )));
            }
        }
        let host = document_host(url)
            .ok_or_else(|| MetadataRefused::metadata("el client_id no es una URL https"))?;
        let mut client = self.check(AuthMethod::Public, host.clone())?;
        if client.grant_type != GrantType::AuthorizationCode {
            return Err(MetadataRefused::metadata(
                "un documento de metadatos es para Código de autorización",
            ));
        }
        // The host is the identity shown everywhere; a client_name could pose as another.
        client.description = match self.client_name.as_deref().map(str::trim) {
            Some(name) if !name.is_empty() => format!("{} (se presenta como «{name}»)", url),
            _ => url.to_string(),
        };
        client.name = host;
        Ok(client)
    }

    fn check(
        &self,
        auth_method: AuthMethod,
        fallback_name: String,
    ) -> Result<RegisteredClient, MetadataRefused> {
        let grants: Vec<&str> = match &self.grant_types {
            None => vec!["authorization_code"],
            Some(grants) => grants.iter().map(String::as_str).collect(),
        };
        let code = grants.contains(&"authorization_code");
        let credentials = grants.contains(&"client_credentials");
        if let Some(other) = grants.iter().find(|g| {
            !matches!(
                **g,
                "authorization_code" | "refresh_token" | "client_credentials"
            )
        }) {
            return Err(MetadataRefused::metadata(format!(
                "grant_types: «{}» no se admite",
                shown(other)
            )));
        }
        let grant_type = match (code, credentials) {
            (true, false) => GrantType::AuthorizationCode,
            (false, true) => GrantType::ClientCredentials,
            (true, true) => {
                return Err(MetadataRefused::metadata(
                    "grant_types: authorization_code o client_credentials, no ambos",
                ));
            }
            (false, false) => {
                return Err(MetadataRefused::metadata(
                    "grant_types debe incluir authorization_code o client_credentials",
                ));
            }
        };
        if grant_type == GrantType::ClientCredentials && auth_method == AuthMethod::Public {
            return Err(MetadataRefused::metadata(
                "client_credentials necesita autenticar al cliente; none no sirve",
            ));
        }
        let response_types = self.response_types.as_deref().unwrap_or_default();
        if response_types.iter().any(|r| r != "code") {
            return Err(MetadataRefused::metadata(
                "response_types: solo se admite code",
            ));
        }
        if grant_type == GrantType::AuthorizationCode && self.redirect_uris.is_empty() {
            return Err(MetadataRefused::redirect(
                "Código de autorización necesita al menos una redirect_uri",
            ));
        }
        if self.redirect_uris.len() > 10 {
            return Err(MetadataRefused::redirect("máximo 10 redirect_uris"));
        }
        for (i, uri) in self.redirect_uris.iter().enumerate() {
            if let Err(why) = check_redirect_uri(uri) {
                return Err(MetadataRefused::redirect(format!(
                    "redirect_uris[{i}]: {why}"
                )));
            }
        }
        let mut errors = FieldErrors::new();
        let name = match self.client_name.as_deref().map(str::trim) {
            Some(name) if !name.is_empty() => {
                super::validation::required_line(&mut errors, "client_name", name, 100)
            }
            _ => fallback_name,
        };
        let description = optional_text(
            &mut errors,
            "client_uri",
            self.client_uri.as_deref().unwrap_or_default(),
            500,
        );
        if let Some((field, message)) = errors.0.iter().next() {
            return Err(MetadataRefused::metadata(format!("{field}: {message}")));
        }
        Ok(RegisteredClient {
            name,
            description,
            grant_type,
            auth_method,
            redirect_uris: self.redirect_uris.clone(),
        })
    }
}

/// True when a client_id names a metadata document: an `https` URL with a path (the draft's
/// §3), no fragment, no credentials, no dot segments.
pub fn is_metadata_document_url(client_id: &str) -> bool {
    document_host(client_id).is_some()
}

/// The host of a metadata document's URL, if `client_id` is one.
pub fn document_host(client_id: &str) -> Option<String> {
    if client_id.len() > 2000 || !client_id.starts_with("https://") {
        return None;
    }
    let url = url::Url::parse(client_id).ok()?;
    let plain = url.as_str() == client_id
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
        && url.path() != "/"
        && !client_id.contains("/./")
        && !client_id.contains("/../");
    plain.then(|| url.host_str().map(str::to_string)).flatten()
}

/// A value from a client, shortened and stripped of control characters for a message.
fn shown(text: &str) -> String {
    crate::domain::names::shown_identifier(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_client() -> ClientMetadata {
        ClientMetadata {
            redirect_uris: vec!["http://127.0.0.1:5000/callback".into()],
            token_endpoint_auth_method: Some("none".into()),
            grant_types: Some(vec!["authorization_code".into(), "refresh_token".into()]),
            response_types: Some(vec!["code".into()]),
            client_name: Some("Cursor".into()),
            ..ClientMetadata::default()
        }
    }

    #[test]
    fn a_public_code_client_registers() {
        let client = code_client().check_registration().unwrap();
        assert_eq!(client.name, "Cursor");
        assert_eq!(client.auth_method, AuthMethod::Public);
        assert_eq!(client.grant_type, GrantType::AuthorizationCode);
        let confidential = ClientMetadata {
            token_endpoint_auth_method: None,
            ..code_client()
        };
        assert_eq!(
            confidential.check_registration().unwrap().auth_method,
            AuthMethod::ClientSecret
        );
        let unnamed = ClientMetadata {
            client_name: None,
            ..code_client()
        };
        assert_eq!(unnamed.check_registration().unwrap().name, "127.0.0.1");
    }

    #[test]
    fn bad_registrations_say_why() {
        let cases: [(ClientMetadata, &str); 8] = [
            (
                ClientMetadata {
                    token_endpoint_auth_method: Some("private_key_jwt".into()),
                    ..code_client()
                },
                "invalid_client_metadata",
            ),
            (
                ClientMetadata {
                    redirect_uris: vec!["http://evil.example/cb".into()],
                    ..code_client()
                },
                "invalid_redirect_uri",
            ),
            (
                ClientMetadata {
                    redirect_uris: vec!["javascript:alert(1)".into()],
                    ..code_client()
                },
                "invalid_redirect_uri",
            ),
            (
                ClientMetadata {
                    redirect_uris: vec![],
                    ..code_client()
                },
                "invalid_redirect_uri",
            ),
            (
                ClientMetadata {
                    grant_types: Some(vec!["implicit".into()]),
                    ..code_client()
                },
                "invalid_client_metadata",
            ),
            (
                ClientMetadata {
                    response_types: Some(vec!["token".into()]),
                    ..code_client()
                },
                "invalid_client_metadata",
            ),
            (
                ClientMetadata {
                    grant_types: Some(vec!["client_credentials".into()]),
                    ..code_client()
                },
                "invalid_client_metadata",
            ),
            (
                ClientMetadata {
                    client_name: Some("a\u{1b}[31m".into()),
                    ..code_client()
                },
                "invalid_client_metadata",
            ),
        ];
        for (metadata, error) in cases {
            let refused = metadata.check_registration().unwrap_err();
            assert_eq!(refused.error, error, "{metadata:?}");
            assert!(!refused.description.is_empty());
        }
    }

    #[test]
    fn a_document_is_named_by_its_host_and_must_name_itself() {
        let url = "https://app.example.com/oauth/client.json";
        let document = ClientMetadata {
            client_id: Some(url.into()),
            ..code_client()
        };
        let client = document.check_document(url).unwrap();
        assert_eq!(client.name, "app.example.com");
        assert!(client.description.contains("Cursor"));
        assert_eq!(client.auth_method, AuthMethod::Public);
        let other = ClientMetadata {
            client_id: Some("https://other.example/c.json".into()),
            ..code_client()
        };
        assert!(other.check_document(url).is_err());
        let secret = ClientMetadata {
            client_id: Some(url.into()),
            token_endpoint_auth_method: Some("client_secret_basic".into()),
            ..code_client()
        };
        assert!(secret.check_document(url).is_err());
    }

    #[test]
    fn metadata_document_urls() {
        for good in [
            "https://app.example.com/client.json",
            "https://localhost:8443/oauth/client",
        ] {
            assert!(is_metadata_document_url(good), "{good}");
        }
        for bad in [
            "http://app.example.com/client.json",
            "https://app.example.com/",
            "https://app.example.com",
            "https://u:p@app.example.com/c",
            "https://app.example.com/c#x",
            "https://app.example.com/a/../c",
            "https://APP.example.com/c",
            "abc123",
        ] {
            assert!(!is_metadata_document_url(bad), "{bad}");
        }
    }

    #[test]
    fn policies_have_their_own_words_in_each_language() {
        let es: Vec<_> = RegistrationPolicy::ALL
            .iter()
            .map(|p| p.label_es())
            .collect();
        let en: Vec<_> = RegistrationPolicy::ALL
            .iter()
            .map(|p| p.label_en())
            .collect();
        assert_eq!(es, ["Desactivado", "Con aprobación", "Abierto"]);
        assert_eq!(en, ["Off", "With approval", "Open"]);
    }

    #[test]
    fn policies_parse() {
        for policy in RegistrationPolicy::ALL {
            assert_eq!(policy.as_str().parse::<RegistrationPolicy>(), Ok(policy));
        }
        assert!("abierto".parse::<RegistrationPolicy>().is_err());
    }
}
