//! DPoP (RFC 9449): a client proves, request by request, that it holds the private key a
//! token is bound to. A proof is a JWT (`typ: dpop+jwt`) signed by the key whose public
//! JWK its header carries, for one method and URL, fresh, used once across every replica,
//! and, on a resource request, for one access token (`ath`). The server offers nonces
//! (`DPoP-Nonce`, §8) and may require them.

use super::*;
use crate::domain::client_keys::{ClientKeys, assertion_alg};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::Digest;

/// The JOSE `typ` of a proof (RFC 9449 §4.2).
const PROOF_TYP: &str = "dpop+jwt";
/// The longest proof read: a JWK of RSA-8192 and its signature fit well within it.
const MAX_PROOF_BYTES: usize = 8 * 1024;
/// How old a proof may be (`iat`), and how far ahead of our clock.
const PROOF_MAX_AGE_SECONDS: i64 = 300;
const PROOF_SKEW_SECONDS: i64 = 60;
/// How long one nonce is offered; the previous one is still taken.
const NONCE_PERIOD_SECONDS: i64 = 300;

/// Why a proof is refused: a reason for the client and the audit log, or the nonce it
/// must use (`use_dpop_nonce`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DpopRefused {
    Invalid(&'static str),
    UseNonce(String),
}

/// What a proof must be for: the request's method and URL, and, on a resource request,
/// the access token it comes with.
pub struct ProofFor<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub access_token: Option<&'a str>,
}

#[derive(serde::Deserialize)]
struct ProofHeader {
    typ: String,
    alg: String,
    jwk: serde_json::Value,
}

#[derive(serde::Deserialize)]
struct ProofClaims {
    jti: String,
    htm: String,
    htu: String,
    iat: i64,
    #[serde(default)]
    ath: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

/// A URL as `htu` compares it (RFC 9449 §4.3): without query and fragment, normalized.
fn without_query(url: &str) -> Option<url::Url> {
    let mut url = url::Url::parse(url).ok()?;
    url.set_query(None);
    url.set_fragment(None);
    Some(url)
}

/// `ath`: the base64url SHA-256 of the access token (RFC 9449 §4.2).
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(token.as_bytes()))
}

impl Service {
    /// The nonce offered now: a MAC of the current period under the key every replica
    /// shares, so any of them takes it and none keeps state.
    pub fn dpop_nonce(&self) -> String {
        self.nonce_of(self.now().timestamp().div_euclid(NONCE_PERIOD_SECONDS))
    }

    fn nonce_of(&self, period: i64) -> String {
        let tag = self.keys.tag(&format!("dpop-nonce:{period}"));
        URL_SAFE_NO_PAD.encode(&tag[..16])
    }

    fn nonce_is_fresh(&self, nonce: &str) -> bool {
        let period = self.now().timestamp().div_euclid(NONCE_PERIOD_SECONDS);
        [period, period - 1].into_iter().any(|p| {
            bool::from(subtle::ConstantTimeEq::ct_eq(
                self.nonce_of(p).as_bytes(),
                nonce.as_bytes(),
            ))
        })
    }

    /// The thumbprint (`jkt`) of the key that signed a valid proof for this request.
    pub async fn check_dpop_proof(
        &self,
        proof: &str,
        wanted: &ProofFor<'_>,
    ) -> Result<String, DpopRefused> {
        use DpopRefused::Invalid;
        const MALFORMED: DpopRefused = Invalid("prueba DPoP mal formada");
        if proof.len() > MAX_PROOF_BYTES {
            return Err(Invalid("prueba DPoP demasiado larga"));
        }
        let mut parts = proof.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(MALFORMED);
        };
        let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| MALFORMED);
        let header: ProofHeader =
            serde_json::from_slice(&decode(header)?).map_err(|_| MALFORMED)?;
        let claims: ProofClaims = serde_json::from_slice(&decode(payload)?)
            .map_err(|_| Invalid("prueba DPoP sin jti, htm, htu o iat"))?;
        if header.typ != PROOF_TYP {
            return Err(Invalid("prueba DPoP sin typ dpop+jwt"));
        }
        let alg = assertion_alg(&header.alg)
            .ok_or(Invalid("prueba DPoP con un algoritmo no admitido"))?;
        // The key is the header's, public only (a private part is refused as any JWK).
        let keys = ClientKeys::parse(&header.jwk)
            .map_err(|_| Invalid("prueba DPoP con una jwk inválida"))?;
        let [key] = keys.keys() else {
            return Err(Invalid("prueba DPoP con una jwk inválida"));
        };
        let signing_input = &proof[..proof.len() - signature.len() - 1];
        if key.key.alg() != alg
            || !crate::service::token_keys::verifies_client_key(
                &key.key,
                signing_input.as_bytes(),
                &decode(signature)?,
            )
        {
            return Err(Invalid("prueba DPoP con firma inválida"));
        }
        if claims.htm != wanted.method {
            return Err(Invalid("prueba DPoP para otro método"));
        }
        match (without_query(&claims.htu), without_query(wanted.url)) {
            (Some(htu), Some(url)) if htu == url => {}
            _ => return Err(Invalid("prueba DPoP para otra URL")),
        }
        let now = self.now().timestamp();
        if claims.iat > now + PROOF_SKEW_SECONDS || claims.iat < now - PROOF_MAX_AGE_SECONDS {
            return Err(Invalid("prueba DPoP fuera de hora"));
        }
        if claims.jti.is_empty() || claims.jti.chars().count() > 256 {
            return Err(Invalid("prueba DPoP sin un jti válido"));
        }
        match (wanted.access_token, claims.ath.as_deref()) {
            (Some(token), Some(ath)) if ath == access_token_hash(token) => {}
            (Some(_), _) => return Err(Invalid("prueba DPoP para otro token (ath)")),
            (None, _) => {}
        }
        match claims.nonce.as_deref() {
            Some(nonce) if self.nonce_is_fresh(nonce) => {}
            Some(_) => return Err(DpopRefused::UseNonce(self.dpop_nonce())),
            None if self.config.dpop_nonce_required => {
                return Err(DpopRefused::UseNonce(self.dpop_nonce()));
            }
            None => {}
        }
        // Once across every replica, for as long as its iat passes the check above.
        let jkt = key.thumbprint.clone();
        let digest: [u8; 32] = sha2::Sha256::digest(format!("dpop:{jkt}:{}", claims.jti)).into();
        let until = claims.iat + PROOF_MAX_AGE_SECONDS + PROOF_SKEW_SECONDS;
        match self.use_once(digest, until).await {
            Ok(true) => Ok(jkt),
            Ok(false) => Err(Invalid("prueba DPoP ya usada (jti repetido)")),
            Err(_) => Err(Invalid("no se pudo comprobar la prueba DPoP")),
        }
    }
}
