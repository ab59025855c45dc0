//! The OAuth2 token service: client authentication, the token endpoint's grants, access
//! tokens (`opaque` and `jwt`), their validation, introspection and revocation. Each RFC has
//! its file: the grants (`client_credentials`, `authorization_code`, `refresh`), the
//! formats (`opaque`, `jwt`), `introspection`, `revocation`, `metadata`.
//!
//! Issuing a token writes nothing to the database: credentials come from an in-memory cache
//! that the service invalidates on every write to consumers and groups (`cache`), counts are
//! aggregated in memory and flushed in batches (`stats`), and validation reads only memory
//! (the keys, and a view of revoked tokens and cut consumers that the service keeps up to
//! date and loads at start).

mod access_token;
mod authorization_code;
mod bearer;
mod cache;
mod client_assertion;
mod client_auth;
mod client_credentials;
mod dpop;
mod endpoint;
mod error;
mod introspection;
mod jwt;
mod keys;
mod metadata;
mod opaque;
mod opaque_body;
mod refresh;
mod resource;
mod revocation;
mod stats;

pub(crate) use cache::{CachedClient, TokenState};
pub use dpop::{DpopRefused, ProofFor, access_token_hash};
pub use error::OAuthError;
pub use opaque::OPAQUE_PREFIX;

use super::token_keys::TokenKeys;
use super::*;
use crate::domain::oauth::*;
use crate::domain::secret::SecretText;
use crate::store::{
    CodeUse, ConsumerCredentials, ConsumerTokenState, RefreshTokenRecord, RefreshUse, Revocation,
    RevocationKind, TokenStat,
};
use parking_lot::RwLock;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Client credentials as presented.
#[derive(Clone)]
pub enum ClientAuth {
    /// A Clave and its Secreto, in Basic or in the body (`client_secret_basic`,
    /// `client_secret_post`).
    Secret {
        client_id: String,
        client_secret: SecretText,
    },
    /// A JWT signed with one of the consumer's registered keys (`private_key_jwt`,
    /// RFC 7523 §2.2), and the `client_id` of the body when it was sent too.
    Assertion {
        client_id: Option<String>,
        assertion: SecretText,
    },
    /// Only a `client_id`: a public client (`none`, RFC 6749 §2.1), which PKCE and, when it
    /// has one, its DPoP key stand for.
    Public { client_id: String },
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientAuth::Secret { client_id, .. } => f
                .debug_struct("ClientAuth::Secret")
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            ClientAuth::Assertion { client_id, .. } => f
                .debug_struct("ClientAuth::Assertion")
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            ClientAuth::Public { client_id } => f
                .debug_struct("ClientAuth::Public")
                .field("client_id", client_id)
                .finish(),
        }
    }
}

/// The token endpoint's parameters, besides client authentication.
#[derive(Clone, Default)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub scope: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    /// The `DPoP` header's proof (RFC 9449 §5): the token is then bound to its key.
    pub dpop: Option<String>,
    /// The protected resource the token is for (RFC 8707): its `aud`.
    pub resource: Option<String>,
}

/// Who calls introspection or revocation.
#[derive(Debug, Clone)]
pub enum TokenCaller {
    Client(ClientAuth),
    /// A console session token.
    Session(SecretText),
    None,
}

/// Why a bearer token is refused at a protected endpoint (RFC 6750 §3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessDenied {
    /// No credentials at all.
    Missing,
    /// Expired, revoked, forged or malformed.
    InvalidToken,
    /// Valid, but without `{module}:view`; carries the scope that would do.
    InsufficientScope(String),
    UnknownModule,
    /// A DPoP-bound token without its proof, or a proof that fails (RFC 9449 §7.1).
    Dpop(&'static str),
    /// A proof without the nonce the server asks for; carries it.
    DpopNonce(String),
    /// A Hawk request that fails; the reason is safe to show.
    Hawk(&'static str),
    /// A Hawk timestamp too far from ours: our time and its MAC (`ts`, `tsm`).
    HawkStale {
        ts: i64,
        tsm: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_credentials() {
        let secret = secret::generate(SecretKind::ClientSecret);
        let session = secret::generate(SecretKind::Session);
        let auth = ClientAuth::Secret {
            client_id: "abc".into(),
            client_secret: SecretText::new(secret.clone()),
        };
        let assertion = ClientAuth::Assertion {
            client_id: Some("def".into()),
            assertion: SecretText::new("eyJhbGciOiJFZERTQSJ9.e30.c2ln".into()),
        };
        let shown = format!(
            "{auth:?} {:?} {:?} {assertion:?}",
            TokenCaller::Client(auth.clone()),
            TokenCaller::Session(SecretText::new(session.clone()))
        );
        assert!(shown.contains("abc") && shown.contains("def"));
        assert!(!shown.contains(&secret) && !shown.contains(&session));
        assert!(!shown.contains("eyJ"));
    }
}
