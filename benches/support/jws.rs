//! The signers of the token benchmarks: one key of the algorithm named by `--alg` (EdDSA,
//! ES256 or RS256; EdDSA by default), from the crates the server uses (ed25519-dalek, and
//! aws-lc-rs for P-256 and RSA), generated once at start, and the JWT signing input with
//! that algorithm's header.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as lc, EcdsaKeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer as _, SigningKey};

/// Header and claims of an EdDSA JWT access token, base64url, as the server signs them.
const INPUT: &str = include_str!("../jwt_signing_input.txt");

/// The seed of the benchmarks' Ed25519 key.
pub const BENCH_SEED: [u8; 32] = [7u8; 32];

pub enum Signer {
    Ed25519(SigningKey),
    P256(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

impl Signer {
    /// A key of `alg`; `None` for an unknown algorithm or a failed generation.
    pub fn new(alg: &str) -> Option<Signer> {
        Some(match alg {
            "EdDSA" => Signer::Ed25519(SigningKey::from_bytes(&BENCH_SEED)),
            "ES256" => {
                Signer::P256(EcdsaKeyPair::generate(&lc::ECDSA_P256_SHA256_FIXED_SIGNING).ok()?)
            }
            "RS256" => Signer::Rsa(RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).ok()?),
            _ => return None,
        })
    }

    /// The JWS signature of `input` (empty if the library refuses).
    pub fn sign(&self, input: &[u8]) -> Vec<u8> {
        match self {
            Signer::Ed25519(key) => key.sign(input).to_bytes().to_vec(),
            Signer::P256(key) => key
                .sign(&SystemRandom::new(), input)
                .map(|s| s.as_ref().to_vec())
                .unwrap_or_default(),
            Signer::Rsa(key) => {
                let mut signature = vec![0; key.public_modulus_len()];
                match key.sign(
                    &lc::RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    input,
                    &mut signature,
                ) {
                    Ok(()) => signature,
                    Err(_) => Vec::new(),
                }
            }
        }
    }
}

/// The algorithm named by `--alg`, EdDSA without one.
pub fn alg_of(args: &[String]) -> String {
    args.iter()
        .position(|a| a == "--alg")
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| "EdDSA".to_string())
}

/// The signing input of a JWT access token with `alg`'s header (`typ: at+jwt`) and the
/// claims of a real token.
pub fn signing_input(alg: &str) -> String {
    let input = INPUT.trim_end();
    let claims = input.split_once('.').map_or(input, |(_, claims)| claims);
    let header = format!(r#"{{"alg":"{alg}","kid":"D7TNUD3_7F7oVAsB","typ":"at+jwt"}}"#);
    format!("{}.{claims}", URL_SAFE_NO_PAD.encode(header))
}
