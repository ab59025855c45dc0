//! The JOSE signing algorithms (RFC 7518, RFC 8037) consola signs access tokens with, and
//! that it accepts from clients' keys: one list for both.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How a consumer's `jwt` access tokens are signed (the JOSE `alg`, RFC 7518 and RFC 8037).
/// EdDSA is the fastest; RS256 is the one RFC 9068 §2.1 makes every validator support, and
/// ES256 the one many accept besides it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum AccessTokenAlg {
    /// Ed25519.
    #[default]
    EdDSA,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys.
    RS256,
}

impl AccessTokenAlg {
    pub const ALL: [AccessTokenAlg; 3] = [
        AccessTokenAlg::EdDSA,
        AccessTokenAlg::ES256,
        AccessTokenAlg::RS256,
    ];

    /// The JOSE name, as in the tokens' header and the JWKS.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessTokenAlg::EdDSA => "EdDSA",
            AccessTokenAlg::ES256 => "ES256",
            AccessTokenAlg::RS256 => "RS256",
        }
    }

    pub fn parse(text: &str) -> Option<AccessTokenAlg> {
        AccessTokenAlg::ALL.into_iter().find(|a| a.as_str() == text)
    }

    /// Position in [`AccessTokenAlg::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}
