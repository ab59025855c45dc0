//! The three kinds of JWT signing key (Ed25519, P-256, RSA 2048): generating, storing,
//! publishing (as a JWK), signing and verifying.

use super::{InternalError, ServiceError, ServiceResult};
use crate::domain::client_keys::PublicKey;
use crate::domain::consumer::AccessTokenAlg;
use crate::domain::oauth::Jwk;
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as lc, EcdsaKeyPair, KeyPair as _, RsaKeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign};
use ed25519_dalek::{Signature, SigningKey, Verifier, VerifyingKey};
use sha2::Sha512;
use std::collections::HashMap;

/// A private signing key of one of the three algorithms.
pub(super) enum PrivateKey {
    Ed25519(Box<Ed25519Key>),
    P256(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// An Ed25519 key with its secret expanded once (RFC 8032 §5.1.5: the SHA-512 of the seed,
/// clamped), as `SigningKey::sign` would expand it again for every signature; the same
/// signatures, one SHA-512 and a scalar reduction fewer each.
pub(super) struct Ed25519Key {
    key: SigningKey,
    expanded: ExpandedSecretKey,
}

impl Ed25519Key {
    fn sign(&self, input: &[u8]) -> Signature {
        raw_sign::<Sha512>(&self.expanded, input, self.key.as_ref())
    }
}

impl PrivateKey {
    fn ed25519(seed: &[u8; 32]) -> PrivateKey {
        PrivateKey::Ed25519(Box::new(Ed25519Key {
            key: SigningKey::from_bytes(seed),
            expanded: ExpandedSecretKey::from(seed),
        }))
    }

    pub(super) fn generate(alg: AccessTokenAlg) -> ServiceResult<PrivateKey> {
        let failed = |what: &str| InternalError::said(format!("no se pudo generar {what}"));
        Ok(match alg {
            AccessTokenAlg::EdDSA => {
                PrivateKey::ed25519(&crate::domain::secret::random_bytes::<32>())
            }
            AccessTokenAlg::ES256 => PrivateKey::P256(
                EcdsaKeyPair::generate(&lc::ECDSA_P256_SHA256_FIXED_SIGNING)
                    .map_err(|_| failed("la clave P-256"))?,
            ),
            AccessTokenAlg::RS256 => PrivateKey::Rsa(
                RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .map_err(|_| failed("la clave RSA"))?,
            ),
        })
    }

    /// The key as the key file keeps it: the Ed25519 seed, or PKCS#8 DER for the others.
    pub(super) fn to_bytes(&self) -> ServiceResult<Vec<u8>> {
        let failed = |_| ServiceError::Internal("no se pudo serializar una clave".into());
        Ok(match self {
            PrivateKey::Ed25519(ed) => ed.key.to_bytes().to_vec(),
            PrivateKey::P256(key) => key.to_pkcs8v1().map_err(failed)?.as_ref().to_vec(),
            PrivateKey::Rsa(key) => {
                let der: Pkcs8V1Der<'static> = key.as_der().map_err(failed)?;
                der.as_ref().to_vec()
            }
        })
    }

    pub(super) fn from_bytes(alg: AccessTokenAlg, bytes: &[u8]) -> Option<PrivateKey> {
        Some(match alg {
            AccessTokenAlg::EdDSA => PrivateKey::ed25519(&<[u8; 32]>::try_from(bytes).ok()?),
            AccessTokenAlg::ES256 => PrivateKey::P256(
                EcdsaKeyPair::from_pkcs8(&lc::ECDSA_P256_SHA256_FIXED_SIGNING, bytes).ok()?,
            ),
            AccessTokenAlg::RS256 => PrivateKey::Rsa(RsaKeyPair::from_pkcs8(bytes).ok()?),
        })
    }

    pub(super) fn alg(&self) -> AccessTokenAlg {
        match self {
            PrivateKey::Ed25519(_) => AccessTokenAlg::EdDSA,
            PrivateKey::P256(_) => AccessTokenAlg::ES256,
            PrivateKey::Rsa(_) => AccessTokenAlg::RS256,
        }
    }

    /// The public key as its verifier takes it (raw Ed25519, the uncompressed P-256 point,
    /// RSAPublicKey DER) and as the JWKS publishes it.
    pub(super) fn public(&self, kid: &str) -> (Vec<u8>, Jwk) {
        let b64 = |bytes: &[u8]| Some(URL_SAFE_NO_PAD.encode(bytes));
        let alg = self.alg().as_str().to_string();
        let jwk = |kty: &str| Jwk {
            kty: kty.into(),
            crv: None,
            x: None,
            y: None,
            n: None,
            e: None,
            kid: kid.to_string(),
            alg: alg.clone(),
            use_: "sig".into(),
        };
        match self {
            PrivateKey::Ed25519(ed) => {
                let public = ed.key.verifying_key().to_bytes().to_vec();
                let jwk = Jwk {
                    crv: Some("Ed25519".into()),
                    x: b64(&public),
                    ..jwk("OKP")
                };
                (public, jwk)
            }
            PrivateKey::P256(key) => {
                // 0x04 ‖ x ‖ y, 32 bytes each.
                let public = key.public_key().as_ref().to_vec();
                let jwk = Jwk {
                    crv: Some("P-256".into()),
                    x: public.get(1..33).and_then(b64),
                    y: public.get(33..65).and_then(b64),
                    ..jwk("EC")
                };
                (public, jwk)
            }
            PrivateKey::Rsa(key) => {
                let public = key.public_key();
                let jwk = Jwk {
                    n: b64(public.modulus().big_endian_without_leading_zero()),
                    e: b64(public.exponent().big_endian_without_leading_zero()),
                    ..jwk("RSA")
                };
                (public.as_ref().to_vec(), jwk)
            }
        }
    }

    /// The JWS signature of `input` (RFC 7518 §3: r ‖ s for ES256).
    pub(super) fn sign(&self, input: &[u8]) -> ServiceResult<Vec<u8>> {
        let failed = |_| ServiceError::Internal("no se pudo firmar el token".into());
        Ok(match self {
            PrivateKey::Ed25519(ed) => ed.sign(input).to_bytes().to_vec(),
            PrivateKey::P256(key) => key
                .sign(&SystemRandom::new(), input)
                .map_err(failed)?
                .as_ref()
                .to_vec(),
            PrivateKey::Rsa(key) => {
                let mut signature = vec![0; key.public_modulus_len()];
                key.sign(
                    &lc::RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    input,
                    &mut signature,
                )
                .map_err(failed)?;
                signature
            }
        })
    }
}

/// The most Ed25519 keys kept as points; past it the memo starts over.
const MAX_KEPT_ED25519_KEYS: usize = 4096;

/// An Ed25519 public key as the point it names, or none when its bytes name no point. A
/// point costs a square root to take from its bytes, about a tenth of a verification, and
/// the same few keys come back with request after request (ours, each client's registered
/// keys, each DPoP client's key), so the points are kept by their bytes.
fn ed25519_key(bytes: &[u8; 32]) -> Option<VerifyingKey> {
    static KEPT: std::sync::LazyLock<parking_lot::Mutex<HashMap<[u8; 32], VerifyingKey>>> =
        std::sync::LazyLock::new(Default::default);
    if let Some(key) = KEPT.lock().get(bytes) {
        return Some(*key);
    }
    let key = VerifyingKey::from_bytes(bytes).ok()?;
    let mut kept = KEPT.lock();
    if kept.len() >= MAX_KEPT_ED25519_KEYS {
        kept.clear();
    }
    kept.insert(*bytes, key);
    Some(key)
}

/// True when `signature` is `alg`'s signature of `input` under `public` (the form
/// [`PrivateKey::public`] gives).
pub(super) fn verifies(alg: AccessTokenAlg, public: &[u8], input: &[u8], signature: &[u8]) -> bool {
    match alg {
        AccessTokenAlg::EdDSA => {
            let (Ok(public), Ok(signature)) = (
                <[u8; 32]>::try_from(public),
                <[u8; 64]>::try_from(signature),
            ) else {
                return false;
            };
            ed25519_key(&public).is_some_and(|key| {
                key.verify(input, &Signature::from_bytes(&signature))
                    .is_ok()
            })
        }
        AccessTokenAlg::ES256 => UnparsedPublicKey::new(&lc::ECDSA_P256_SHA256_FIXED, public)
            .verify(input, signature)
            .is_ok(),
        AccessTokenAlg::RS256 => UnparsedPublicKey::new(&lc::RSA_PKCS1_2048_8192_SHA256, public)
            .verify(input, signature)
            .is_ok(),
    }
}

/// True when `signature` is the signature of `input` under a client's registered public
/// key (its algorithm is the key's own): the verifier of our own keys, and RSA from the
/// JWK's modulus and exponent.
pub(crate) fn verifies_client_key(key: &PublicKey, input: &[u8], signature: &[u8]) -> bool {
    match key {
        PublicKey::Ed25519(x) => verifies(AccessTokenAlg::EdDSA, x, input, signature),
        PublicKey::P256 { x, y } => verifies(
            AccessTokenAlg::ES256,
            &PublicKey::p256_point(x, y),
            input,
            signature,
        ),
        PublicKey::Rsa { n, e } => lc::RsaPublicKeyComponents { n, e }
            .verify(&lc::RSA_PKCS1_2048_8192_SHA256, input, signature)
            .is_ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Signer as _;

    /// The kept points are the points their bytes name, the bytes of no point name none,
    /// and past the bound the memo starts over and still answers the same.
    #[test]
    fn kept_ed25519_points_are_the_points_their_bytes_name() {
        let mut nowhere = None;
        for round in 0..2 {
            for i in 0..3 * MAX_KEPT_ED25519_KEYS as u32 {
                let mut bytes = [0u8; 32];
                bytes[..4].copy_from_slice(&i.to_le_bytes());
                let fresh = VerifyingKey::from_bytes(&bytes).ok();
                assert_eq!(ed25519_key(&bytes), fresh, "round {round}, {i}");
                if fresh.is_none() {
                    nowhere.get_or_insert(bytes);
                }
            }
        }
        let nowhere = nowhere.expect("some bytes name no point");
        assert_eq!(ed25519_key(&nowhere), None);
        // A kept point verifies as the key itself does, and refuses another's signature.
        let signer = SigningKey::from_bytes(&[7u8; 32]);
        let public = signer.verifying_key().to_bytes();
        let signature = signer.sign(b"input").to_bytes();
        for _ in 0..2 {
            assert!(verifies(
                AccessTokenAlg::EdDSA,
                &public,
                b"input",
                &signature
            ));
            assert!(!verifies(
                AccessTokenAlg::EdDSA,
                &public,
                b"other",
                &signature
            ));
        }
    }

    /// Ed25519 is deterministic: the expanded key kept signs exactly as the seed does.
    #[test]
    fn the_kept_expanded_key_signs_as_the_seed() {
        let seed = [9u8; 32];
        let PrivateKey::Ed25519(kept) = PrivateKey::ed25519(&seed) else {
            unreachable!("an Ed25519 key")
        };
        let plain = SigningKey::from_bytes(&seed);
        for input in [&b""[..], b"eyJhbGciOiJFZERTQSJ9.e30", &[0xa5; 1000]] {
            let signature = kept.sign(input);
            assert_eq!(signature, plain.sign(input));
            assert!(plain.verifying_key().verify(input, &signature).is_ok());
        }
    }
}
