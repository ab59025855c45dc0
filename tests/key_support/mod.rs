//! Client key pairs for the private_key_jwt tests: made at test time with AWS-LC (the
//! crate's own dependency, not consola's code), published as public JWKs, written as PKCS#8
//! PEM for the real client libraries, and signing assertions the way RFC 7523 §3 asks.
#![allow(dead_code)]

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self as lc, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

pub enum Pair {
    Ed25519(Ed25519KeyPair),
    P256(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// A key pair with the `kid` it is registered under.
pub struct TestKey {
    pub kid: String,
    pub pair: Pair,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl TestKey {
    /// A new key of `alg` (`EdDSA`, `ES256` or `RS256`).
    pub fn new(alg: &str, kid: &str) -> TestKey {
        let pair = match alg {
            "EdDSA" => Pair::Ed25519(Ed25519KeyPair::generate().expect("Ed25519 key")),
            "ES256" => Pair::P256(
                EcdsaKeyPair::generate(&lc::ECDSA_P256_SHA256_FIXED_SIGNING).expect("P-256 key"),
            ),
            "RS256" => Pair::Rsa(RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key")),
            other => panic!("no test key of {other}"),
        };
        TestKey {
            kid: kid.to_string(),
            pair,
        }
    }

    pub fn alg(&self) -> &'static str {
        match self.pair {
            Pair::Ed25519(_) => "EdDSA",
            Pair::P256(_) => "ES256",
            Pair::Rsa(_) => "RS256",
        }
    }

    /// The public JWK, with its `kid`.
    pub fn public_jwk(&self) -> Value {
        let mut jwk = match &self.pair {
            Pair::Ed25519(pair) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref())})
            }
            Pair::P256(pair) => {
                let point = pair.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65])})
            }
            Pair::Rsa(pair) => {
                let public = pair.public_key();
                json!({
                    "kty": "RSA",
                    "n": b64(public.modulus().big_endian_without_leading_zero()),
                    "e": b64(public.exponent().big_endian_without_leading_zero()),
                })
            }
        };
        jwk["kid"] = json!(self.kid);
        jwk
    }

    /// `{"keys": [each key's public JWK]}`.
    pub fn jwks(keys: &[&TestKey]) -> Value {
        json!({ "keys": keys.iter().map(|k| k.public_jwk()).collect::<Vec<_>>() })
    }

    /// The private key as PKCS#8 PEM, as client libraries load it.
    pub fn private_pem(&self) -> String {
        let der: Vec<u8> = match &self.pair {
            Pair::Ed25519(pair) => pair.to_pkcs8v1().expect("PKCS#8").as_ref().to_vec(),
            Pair::P256(pair) => pair.to_pkcs8v1().expect("PKCS#8").as_ref().to_vec(),
            Pair::Rsa(pair) => AsDer::<Pkcs8V1Der>::as_der(pair)
                .expect("PKCS#8")
                .as_ref()
                .to_vec(),
        };
        let body = STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).expect("base64"))
            .collect();
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        )
    }

    fn sign(&self, input: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.pair {
            Pair::Ed25519(pair) => pair.sign(input).as_ref().to_vec(),
            Pair::P256(pair) => pair.sign(&rng, input).expect("ES256").as_ref().to_vec(),
            Pair::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&lc::RSA_PKCS1_SHA256, &rng, input, &mut signature)
                    .expect("RS256");
                signature
            }
        }
    }

    /// A compact JWS of `claims` under `header` (as given: the test decides `alg`/`kid`).
    pub fn jws(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature = self.sign(input.as_bytes());
        format!("{input}.{}", b64(&signature))
    }

    /// A client assertion for `client_id` to `aud`, valid for a minute from now, with a
    /// fresh `jti`, signed with this key and naming it.
    pub fn assertion(&self, client_id: &str, aud: &str) -> String {
        self.assertion_with(client_id, aud, json!({}))
    }

    /// As [`TestKey::assertion`], with some claims replaced or added.
    pub fn assertion_with(&self, client_id: &str, aud: &str, changes: Value) -> String {
        let now = chrono::Utc::now().timestamp();
        let mut claims = json!({
            "iss": client_id, "sub": client_id, "aud": aud,
            "iat": now, "exp": now + 60, "jti": uuid::Uuid::now_v7().to_string(),
        });
        for (name, value) in changes.as_object().expect("an object of claims") {
            claims[name] = value.clone();
        }
        self.jws(
            &json!({"alg": self.alg(), "kid": self.kid, "typ": "JWT"}),
            &claims,
        )
    }
}

impl TestKey {
    /// The public JWK without `kid`, as a DPoP proof's header carries it.
    pub fn proof_jwk(&self) -> Value {
        let mut jwk = self.public_jwk();
        jwk.as_object_mut().expect("a JWK").remove("kid");
        jwk
    }

    /// The RFC 7638 thumbprint of the public key, as the server computes it.
    pub fn thumbprint(&self) -> String {
        consola::domain::client_keys::ClientKeys::parse(&self.proof_jwk())
            .expect("a public key")
            .keys()[0]
            .thumbprint
            .clone()
    }

    /// A DPoP proof (RFC 9449 §4.2) for `method` `url`, made now with a fresh `jti`; with
    /// the hash of `access_token` (`ath`) and the server's `nonce` when given.
    pub fn dpop_proof(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> String {
        let mut claims = json!({
            "jti": uuid::Uuid::now_v7().to_string(),
            "htm": method,
            "htu": url,
            "iat": chrono::Utc::now().timestamp(),
        });
        if let Some(token) = access_token {
            use sha2::Digest;
            claims["ath"] = json!(b64(&sha2::Sha256::digest(token.as_bytes())));
        }
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        self.dpop_proof_of(&claims)
    }

    /// A proof of exactly these claims, under the standard header.
    pub fn dpop_proof_of(&self, claims: &Value) -> String {
        self.jws(
            &json!({"typ": "dpop+jwt", "alg": self.alg(), "jwk": self.proof_jwk()}),
            claims,
        )
    }
}
