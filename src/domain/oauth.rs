//! OAuth2 wire shapes (RFC 6749, 7009, 7662, 8414, 7517) and the pure rules behind them:
//! scopes, PKCE and the claims an access token carries.

use super::consumer::AccessTokenAlg;
use super::secret::SecretText;
use super::{Action, find_module};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use utoipa::ToSchema;

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    #[schema(value_type = String)]
    pub access_token: SecretText,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Space-separated scopes granted, `module:action`.
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub refresh_token: Option<SecretText>,
}

/// An OAuth error body (RFC 6749 §5.2, RFC 6750 §3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OAuthErrorBody {
    pub error: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error_description: String,
}

/// RFC 7662 answer. An inactive token answers `{"active": false}` and nothing else.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Introspection {
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// The key a DPoP-bound token is bound to (RFC 9449 §6.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
}

impl Introspection {
    pub fn inactive() -> Introspection {
        Introspection::default()
    }
}

/// The protected endpoint's answer: what the caller may do in the module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModuleAccess {
    pub module: String,
    pub actions: Vec<Action>,
}

/// RFC 8414 authorization server metadata: what is served and nothing else. The access
/// tokens' signing algorithms are in the JWKS (each key's `alg`): RFC 8414's
/// `*_signing_alg_values_supported` fields describe the JWTs that clients sign to
/// authenticate (`private_key_jwt`), accepted at the token, introspection and revocation
/// endpoints alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ServerMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub introspection_endpoint: String,
    pub revocation_endpoint: String,
    pub jwks_uri: String,
    pub grant_types_supported: Vec<String>,
    pub response_types_supported: Vec<String>,
    /// Only `query`: said, because RFC 8414's default adds `fragment`, which is not served.
    pub response_modes_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// The algorithms of `private_key_jwt` client assertions (RFC 8414 §2).
    pub token_endpoint_auth_signing_alg_values_supported: Vec<String>,
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
    pub introspection_endpoint_auth_signing_alg_values_supported: Vec<String>,
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    pub revocation_endpoint_auth_signing_alg_values_supported: Vec<String>,
    /// The algorithms of DPoP proofs (RFC 9449 §5.1).
    pub dpop_signing_alg_values_supported: Vec<String>,
    pub code_challenge_methods_supported: Vec<String>,
    pub scopes_supported: Vec<String>,
    /// RFC 9207: every authorization response carries `iss`.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// RFC 7591's endpoint, while the registration policy is not `off`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    /// A `client_id` may be the HTTPS URL of a Client ID Metadata Document, while the
    /// registration policy is not `off`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub client_id_metadata_document_supported: bool,
}

/// Protected resource metadata (RFC 9728) of consola's own API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProtectedResourceMetadata {
    /// The API's identifier, the `aud` of its tokens.
    pub resource: String,
    pub authorization_servers: Vec<String>,
    pub bearer_methods_supported: Vec<String>,
    pub scopes_supported: Vec<String>,
    pub dpop_signing_alg_values_supported: Vec<String>,
    pub resource_name: String,
}

/// A JWT signing key as the console shows it: its id and age, never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SigningKeyInfo {
    /// The `kid` of the JWKS and of the tokens' header.
    pub kid: String,
    /// The algorithm the key signs with; each algorithm has its own current key.
    #[serde(default)]
    pub alg: AccessTokenAlg,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Signs new tokens of its algorithm; the others only verify the tokens they signed.
    pub current: bool,
}

/// A public key of the JWT signer (RFC 7517, RFC 7518 §6 for EC and RSA, RFC 8037 for
/// Ed25519): the members of its key type, the others absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Jwk {
    /// `OKP` (Ed25519), `EC` (P-256) or `RSA`.
    pub kty: String,
    /// `Ed25519` or `P-256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// The public key (OKP) or its x coordinate (EC), base64url without padding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// The y coordinate (EC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// The modulus (RSA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// The public exponent (RSA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    pub kid: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub use_: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// The JOSE `typ` of access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// What an access token says, whatever its format: the claims of RFC 9068 §2.2. Read
/// into owned strings; a token being issued writes them borrowed (`AccessClaims<&str>`),
/// without a copy of each string first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims<S = String> {
    pub iss: S,
    /// Whom the token is about: the user who consented in the authorization code flow, the
    /// consumer itself (its client_id) in client_credentials.
    pub sub: S,
    pub aud: S,
    /// Seconds since the epoch.
    pub iat: i64,
    pub exp: i64,
    /// A UUIDv7 whose time part is the issue instant in milliseconds.
    pub jti: S,
    /// The consumer the token was issued to, whatever the grant.
    pub client_id: S,
    pub scope: S,
    /// The grant (refresh-token family) of a token from the authorization code flow: when
    /// the grant ends early, its access tokens stop working too. Absent for
    /// client_credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<S>,
    /// The key of a DPoP-bound token (RFC 9449 §6.1): only requests with a proof signed by
    /// it may use the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation<S>>,
}

/// `cnf` (RFC 7800): the key a token is bound to, by its RFC 7638 thumbprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Confirmation<S = String> {
    pub jkt: S,
}

/// Why a token's claims are refused, whatever its signature or tag said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClaimsRefused {
    #[error("another issuer")]
    Issuer,
    #[error("another audience")]
    Audience,
    #[error("expired")]
    Expired,
    #[error("a required claim is empty or out of order")]
    Malformed,
}

impl AccessClaims {
    /// The one check of an access token's claims, for every format: our issuer and
    /// audience, not expired at `now` (seconds), and every claim RFC 9068 §2.2 requires
    /// present. Revocation and cuts are the service's business.
    pub fn check(&self, issuer: &str, audience: &str, now: i64) -> Result<(), ClaimsRefused> {
        if self.iss != issuer {
            return Err(ClaimsRefused::Issuer);
        }
        if self.aud != audience {
            return Err(ClaimsRefused::Audience);
        }
        if self.sub.is_empty()
            || self.client_id.is_empty()
            || self.jti.is_empty()
            || self.iat > self.exp
        {
            return Err(ClaimsRefused::Malformed);
        }
        if self.exp <= now {
            return Err(ClaimsRefused::Expired);
        }
        Ok(())
    }

    pub fn scopes(&self) -> BTreeSet<&str> {
        self.scope.split(' ').filter(|s| !s.is_empty()).collect()
    }

    /// Issue instant in milliseconds, from the jti (finer than `iat`).
    pub fn issued_at_ms(&self) -> i64 {
        uuid::Uuid::parse_str(&self.jti)
            .ok()
            .and_then(|id| id.get_timestamp())
            .map(|ts| {
                let (secs, nanos) = ts.to_unix();
                secs as i64 * 1000 + i64::from(nanos / 1_000_000)
            })
            .unwrap_or(self.iat * 1000)
    }

    /// The actions the token grants in a module, or `None` when it may not even view it.
    pub fn module_actions(&self, module: &str) -> Option<Vec<Action>> {
        let scopes = self.scopes();
        if !scopes.contains(format!("{module}:view").as_str()) {
            return None;
        }
        Some(
            Action::ALL
                .into_iter()
                .filter(|a| scopes.contains(format!("{module}:{}", a.as_str()).as_str()))
                .collect(),
        )
    }
}

/// A requested scope reaches beyond what the group allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("scope beyond the permission group")]
pub struct ScopeBeyondGroup;

/// The scopes to grant: everything the group allows when none is asked for, the asked subset
/// otherwise.
pub fn narrow_scopes(
    allowed: &BTreeSet<String>,
    requested: Option<&str>,
) -> Result<BTreeSet<String>, ScopeBeyondGroup> {
    let requested: Vec<&str> = requested
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if requested.is_empty() {
        return Ok(allowed.clone());
    }
    let mut granted = BTreeSet::new();
    for scope in requested {
        if !allowed.contains(scope) {
            return Err(ScopeBeyondGroup);
        }
        granted.insert(scope.to_string());
    }
    Ok(granted)
}

/// What an authorization request may be granted: the scopes asked for that the group
/// allows (RFC 6749 §3.3 lets the server grant fewer than asked, and says which in the
/// response), or all of them when none were asked for; refused only when none of those
/// asked for is allowed. A client that asks for every scope the metadata lists (as MCP
/// clients do when a resource names none) then gets what its group gives.
pub fn grantable_scopes(
    allowed: &BTreeSet<String>,
    requested: Option<&str>,
) -> Result<BTreeSet<String>, ScopeBeyondGroup> {
    let requested: Vec<&str> = requested
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if requested.is_empty() {
        return Ok(allowed.clone());
    }
    let granted: BTreeSet<String> = requested
        .into_iter()
        .filter(|scope| allowed.contains(*scope))
        .map(str::to_string)
        .collect();
    if granted.is_empty() {
        return Err(ScopeBeyondGroup);
    }
    Ok(granted)
}

pub fn join_scopes(scopes: &BTreeSet<String>) -> String {
    scopes
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every scope that exists: one per module of the catalog and action.
pub fn all_scopes() -> Vec<String> {
    super::module_catalog()
        .iter()
        .flat_map(|m| {
            Action::ALL
                .into_iter()
                .map(move |a| format!("{}:{}", m.id, a.as_str()))
        })
        .collect()
}

/// True when the module exists in the catalog.
pub fn module_exists(module: &str) -> bool {
    find_module(module).is_some()
}

/// PKCE S256 (RFC 7636 §4.2): base64url(SHA-256(verifier)) without padding.
pub fn pkce_s256(verifier: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A code verifier is 43 to 128 unreserved characters (RFC 7636 §4.1).
pub fn is_valid_code_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// A code challenge (S256) is 43 base64url characters.
pub fn is_valid_code_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// True when form-urlencoded text has something to decode (`+` or `%`). The scan has no
/// early exit, so that it compiles to a few vector instructions rather than a branch per
/// byte.
pub fn is_form_encoded(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .fold(false, |found, &b| found | (b == b'+') | (b == b'%'))
}

/// Decodes one half of `client_id:client_secret` inside Basic, which RFC 6749 §2.3.1 says
/// is form-urlencoded (`+` is a space, `%XX` a byte).
pub fn form_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    // Keys and secrets of this server have nothing to decode.
    if !is_form_encoded(bytes) {
        return Some(text.to_string());
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_the_rfc_example() {
        // RFC 7636 appendix B.
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(is_valid_code_verifier(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        ));
        assert!(!is_valid_code_verifier("short"));
        assert!(is_valid_code_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
    }

    #[test]
    fn scopes_narrow_and_refuse() {
        let allowed: BTreeSet<String> = ["reports:view", "reports:report"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(narrow_scopes(&allowed, None).unwrap(), allowed);
        assert_eq!(narrow_scopes(&allowed, Some("  ")).unwrap(), allowed);
        assert_eq!(
            join_scopes(&narrow_scopes(&allowed, Some("reports:view")).unwrap()),
            "reports:view"
        );
        assert!(narrow_scopes(&allowed, Some("reports:view assets:view")).is_err());
        assert_eq!(
            join_scopes(&grantable_scopes(&allowed, Some("reports:view assets:view")).unwrap()),
            "reports:view"
        );
        assert_eq!(grantable_scopes(&allowed, None).unwrap(), allowed);
        assert!(grantable_scopes(&allowed, Some("assets:view")).is_err());
    }

    #[test]
    fn form_decoding_of_basic_halves() {
        assert_eq!(form_decode("Ab0_-.~").unwrap(), "Ab0_-.~");
        assert_eq!(form_decode("a%3Ab+c").unwrap(), "a:b c");
        assert_eq!(form_decode("%C3%B1").unwrap(), "ñ");
        assert!(form_decode("%G1").is_none());
        assert!(form_decode("%4").is_none());
    }

    #[test]
    fn borrowed_claims_are_written_as_owned_claims_are_read() {
        for sid in [None, Some("0190a8c2-0000-7000-8000-000000000001")] {
            let issued = AccessClaims::<&str> {
                iss: "https://as",
                sub: "user-1",
                aud: "https://as/api/v1",
                iat: 100,
                exp: 200,
                jti: "0190a8c2-0000-7000-8000-000000000002",
                client_id: "client",
                scope: "reports:view",
                sid,
                cnf: None,
            };
            let json = serde_json::to_string(&issued).unwrap();
            let read: AccessClaims = serde_json::from_str(&json).unwrap();
            assert_eq!(serde_json::to_string(&read).unwrap(), json);
            assert_eq!(read.sid.as_deref(), sid);
            assert_eq!(
                (read.iss.as_str(), read.aud.as_str()),
                (issued.iss, issued.aud)
            );
        }
    }

    #[test]
    fn claims_are_checked_in_one_place() {
        let good = AccessClaims {
            iss: "https://as".into(),
            sub: "user-1".into(),
            aud: "https://as/api/v1".into(),
            iat: 100,
            exp: 200,
            jti: "j".into(),
            client_id: "client".into(),
            scope: String::new(),
            sid: None,
            cnf: None,
        };
        let check = |c: &AccessClaims, now| c.check("https://as", "https://as/api/v1", now);
        assert_eq!(check(&good, 150), Ok(()));
        assert_eq!(check(&good, 200), Err(ClaimsRefused::Expired));
        let other = |f: fn(&mut AccessClaims)| {
            let mut c = good.clone();
            f(&mut c);
            check(&c, 150)
        };
        assert_eq!(other(|c| c.iss = "x".into()), Err(ClaimsRefused::Issuer));
        assert_eq!(other(|c| c.aud = "x".into()), Err(ClaimsRefused::Audience));
        assert_eq!(other(|c| c.sub.clear()), Err(ClaimsRefused::Malformed));
        assert_eq!(
            other(|c| c.client_id.clear()),
            Err(ClaimsRefused::Malformed)
        );
        assert_eq!(other(|c| c.jti.clear()), Err(ClaimsRefused::Malformed));
        assert_eq!(other(|c| c.iat = 300), Err(ClaimsRefused::Malformed));
    }

    #[test]
    fn module_actions_need_view() {
        let claims = AccessClaims {
            iss: "i".into(),
            sub: "c".into(),
            aud: "a".into(),
            iat: 0,
            exp: 1,
            jti: uuid::Uuid::now_v7().to_string(),
            client_id: "c".into(),
            scope: "reports:view reports:report assets:edit".into(),
            sid: None,
            cnf: None,
        };
        assert_eq!(
            claims.module_actions("reports"),
            Some(vec![Action::View, Action::Report])
        );
        assert_eq!(claims.module_actions("assets"), None);
        assert!(claims.issued_at_ms() > 0);
    }
}
