//! How a consumer proves who it is at the token endpoint: its Secreto, or a JWT signed with
//! a private key whose public half it registered (`private_key_jwt`, RFC 7523 §2.2 and
//! OpenID Connect Core §9). The public keys are a JWKS (RFC 7517) of the algorithms consola
//! signs with itself (EdDSA, ES256, RS256), each known by its RFC 7638 thumbprint.

use super::jose::AccessTokenAlg;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// `token_endpoint_auth_method` (RFC 7591 §2), as a consumer is set up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// "Secreto": `client_secret_basic` or `client_secret_post`.
    #[default]
    #[serde(rename = "secret")]
    ClientSecret,
    /// "Clave privada (JWT)": `private_key_jwt`, with no secret at all.
    PrivateKeyJwt,
    /// "Ninguno (cliente público)": `none`, a public client (an app on a user's device, a
    /// client named by its metadata document) that holds no credential; PKCE binds its
    /// codes instead.
    Public,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 3] = [
        AuthMethod::ClientSecret,
        AuthMethod::PrivateKeyJwt,
        AuthMethod::Public,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecret => "secret",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::Public => "none",
        }
    }

    pub fn parse(text: &str) -> Option<AuthMethod> {
        AuthMethod::ALL.into_iter().find(|m| m.as_str() == text)
    }

    pub fn label_es(self) -> &'static str {
        match self {
            AuthMethod::ClientSecret => "Secreto",
            AuthMethod::PrivateKeyJwt => "Clave privada (JWT)",
            AuthMethod::Public => "Ninguno (cliente público)",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            AuthMethod::ClientSecret => "Secret",
            AuthMethod::PrivateKeyJwt => "Private key (JWT)",
            AuthMethod::Public => "None (public client)",
        }
    }
}

/// `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The JOSE `alg` names a client assertion may carry: RFC 7518's and RFC 8037's, and
/// `Ed25519`, RFC 9864's fully specified name for EdDSA on Ed25519 (which oauth4webapi,
/// for one, writes). Never `none` or an HMAC.
pub const ASSERTION_ALGS: [&str; 4] = ["EdDSA", "Ed25519", "ES256", "RS256"];

/// The algorithm an assertion's `alg` names, if it is one of [`ASSERTION_ALGS`].
pub fn assertion_alg(name: &str) -> Option<AccessTokenAlg> {
    match name {
        "Ed25519" => Some(AccessTokenAlg::EdDSA),
        other => AccessTokenAlg::parse(other),
    }
}

/// The most keys a consumer may register at once: enough to roll one over while the
/// next is already in place.
pub const MAX_CLIENT_KEYS: usize = 10;
/// The most bytes a registered JWKS may take as JSON.
pub const MAX_JWKS_BYTES: usize = 32 * 1024;
/// The shortest RSA modulus accepted, in bits (RFC 7518 §3.3).
const MIN_RSA_BITS: usize = 2048;
/// The longest, as the verifier takes it.
const MAX_RSA_BITS: usize = 8192;

/// A public key's material, decoded and checked for length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// `OKP` on `Ed25519`: the 32-byte key.
    Ed25519([u8; 32]),
    /// `EC` on `P-256`: the coordinates.
    P256 { x: [u8; 32], y: [u8; 32] },
    /// `RSA`: modulus and exponent, big-endian without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

impl PublicKey {
    /// The one algorithm this key signs with.
    pub fn alg(&self) -> AccessTokenAlg {
        match self {
            PublicKey::Ed25519(_) => AccessTokenAlg::EdDSA,
            PublicKey::P256 { .. } => AccessTokenAlg::ES256,
            PublicKey::Rsa { .. } => AccessTokenAlg::RS256,
        }
    }

    pub fn kty(&self) -> &'static str {
        match self {
            PublicKey::Ed25519(_) => "OKP",
            PublicKey::P256 { .. } => "EC",
            PublicKey::Rsa { .. } => "RSA",
        }
    }

    /// The uncompressed P-256 point `04 ‖ x ‖ y`, as ECDSA verifiers take it.
    pub fn p256_point(x: &[u8; 32], y: &[u8; 32]) -> [u8; 65] {
        let mut point = [0u8; 65];
        point[0] = 4;
        point[1..33].copy_from_slice(x);
        point[33..].copy_from_slice(y);
        point
    }
}

/// One registered public key: its material, the `kid` a client names it by, and its
/// RFC 7638 thumbprint (the base64url SHA-256 of its required members, in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey {
    pub kid: Option<String>,
    pub key: PublicKey,
    pub thumbprint: String,
}

/// A JWK as it is written: the members consola reads and those it must refuse.
#[derive(Debug, Default, Serialize, Deserialize)]
struct JwkText {
    kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    y: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    e: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alg: Option<String>,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    use_: Option<String>,
    /// Private parts (RFC 7518 §6.2.2, §6.3.2, RFC 8037): read only to refuse them.
    #[serde(default, skip_serializing)]
    d: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    p: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    k: Option<serde_json::Value>,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The bytes of a base64url member, or why not.
fn member(name: &str, value: &Option<String>) -> Result<Vec<u8>, String> {
    let text = value.as_deref().ok_or_else(|| format!("falta «{name}»"))?;
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| format!("«{name}» no es base64url"))
}

fn fixed<const N: usize>(name: &str, value: &Option<String>) -> Result<[u8; N], String> {
    member(name, value)?
        .try_into()
        .map_err(|_| format!("«{name}» debe tener {N} bytes"))
}

/// Big-endian without leading zeros, as RFC 7518 §6.3.1 writes `n` and `e`.
fn unsigned(name: &str, value: &Option<String>) -> Result<Vec<u8>, String> {
    let bytes = member(name, value)?;
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let bytes = bytes[first..].to_vec();
    if bytes.is_empty() {
        return Err(format!("«{name}» es cero"));
    }
    Ok(bytes)
}

impl ClientKey {
    fn from_text(jwk: &JwkText) -> Result<ClientKey, String> {
        if jwk.d.is_some() || jwk.p.is_some() {
            return Err("es una clave privada: registre solo la pública".into());
        }
        if jwk.k.is_some() || jwk.kty == "oct" {
            return Err("las claves simétricas (HMAC) no se admiten".into());
        }
        if let Some(use_) = jwk.use_.as_deref()
            && use_ != "sig"
        {
            return Err(format!(
                "«use» debe ser «sig», no «{}»",
                use_.escape_debug()
            ));
        }
        let key = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
            ("OKP", Some("Ed25519")) => PublicKey::Ed25519(fixed("x", &jwk.x)?),
            ("EC", Some("P-256")) => PublicKey::P256 {
                x: fixed("x", &jwk.x)?,
                y: fixed("y", &jwk.y)?,
            },
            ("RSA", _) => {
                let n = unsigned("n", &jwk.n)?;
                let bits = n.len() * 8 - n[0].leading_zeros() as usize;
                if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
                    return Err(format!(
                        "RSA de {bits} bits: se admiten de {MIN_RSA_BITS} a {MAX_RSA_BITS}"
                    ));
                }
                PublicKey::Rsa {
                    n,
                    e: unsigned("e", &jwk.e)?,
                }
            }
            (kty, crv) => {
                return Err(format!(
                    "tipo de clave no admitido ({}{}); use Ed25519, P-256 o RSA",
                    kty.escape_debug(),
                    crv.map(|c| format!(" {}", c.escape_debug()))
                        .unwrap_or_default()
                ));
            }
        };
        if let Some(alg) = jwk.alg.as_deref()
            && assertion_alg(alg) != Some(key.alg())
        {
            return Err(format!(
                "«alg» {} no corresponde a una clave {}; use {}",
                alg.escape_debug(),
                key.kty(),
                key.alg().as_str()
            ));
        }
        let kid = match jwk.kid.as_deref() {
            None => None,
            Some(kid) if kid.is_empty() || kid.len() > 200 || super::has_control_chars(kid) => {
                return Err("«kid» debe tener de 1 a 200 caracteres visibles".into());
            }
            Some(kid) => Some(kid.to_string()),
        };
        let thumbprint = thumbprint(&key);
        Ok(ClientKey {
            kid,
            key,
            thumbprint,
        })
    }

    fn to_text(&self) -> JwkText {
        let base = JwkText {
            kty: self.key.kty().into(),
            kid: self.kid.clone(),
            alg: Some(self.key.alg().as_str().into()),
            use_: Some("sig".into()),
            ..JwkText::default()
        };
        match &self.key {
            PublicKey::Ed25519(x) => JwkText {
                crv: Some("Ed25519".into()),
                x: Some(b64(x)),
                ..base
            },
            PublicKey::P256 { x, y } => JwkText {
                crv: Some("P-256".into()),
                x: Some(b64(x)),
                y: Some(b64(y)),
                ..base
            },
            PublicKey::Rsa { n, e } => JwkText {
                n: Some(b64(n)),
                e: Some(b64(e)),
                ..base
            },
        }
    }

    /// A line that names the key without its material: `kid` (or «sin kid»), algorithm
    /// and thumbprint.
    pub fn summary(&self) -> String {
        format!(
            "{} · {} · {}",
            self.kid.as_deref().unwrap_or("sin kid"),
            self.key.alg().as_str(),
            self.thumbprint
        )
    }
}

/// The RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order, with
/// no whitespace, base64url.
pub fn thumbprint(key: &PublicKey) -> String {
    let canonical = match key {
        PublicKey::Ed25519(x) => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b64(x)),
        PublicKey::P256 { x, y } => format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            b64(x),
            b64(y)
        ),
        PublicKey::Rsa { n, e } => {
            format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b64(e), b64(n))
        }
    };
    b64(&Sha256::digest(canonical.as_bytes()))
}

/// A consumer's registered public keys: a JWKS whose every key was checked, kept and shown
/// as public JWKs only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKeys(Vec<ClientKey>);

impl ClientKeys {
    /// The keys of a JWKS (`{"keys": [...]}`) or of a single JWK, or the first reason it
    /// cannot be registered, in Spanish.
    pub fn parse(jwks: &serde_json::Value) -> Result<ClientKeys, String> {
        let size = serde_json::to_vec(jwks).map(|v| v.len()).unwrap_or(0);
        if size > MAX_JWKS_BYTES {
            return Err(format!("la JWKS pasa de {} KiB", MAX_JWKS_BYTES / 1024));
        }
        let entries: Vec<&serde_json::Value> = match jwks.get("keys") {
            Some(serde_json::Value::Array(keys)) => keys.iter().collect(),
            Some(_) => return Err("«keys» debe ser una lista de claves".into()),
            None if jwks.get("kty").is_some() => vec![jwks],
            None => return Err("se esperaba una JWKS: {\"keys\": [...]}".into()),
        };
        if entries.is_empty() {
            return Err("la JWKS no tiene claves".into());
        }
        if entries.len() > MAX_CLIENT_KEYS {
            return Err(format!("máximo {MAX_CLIENT_KEYS} claves"));
        }
        let mut keys: Vec<ClientKey> = Vec::with_capacity(entries.len());
        for (i, entry) in entries.into_iter().enumerate() {
            let text: JwkText = serde_json::from_value(entry.clone())
                .map_err(|_| format!("clave {}: no es una JWK", i + 1))?;
            let key =
                ClientKey::from_text(&text).map_err(|why| format!("clave {}: {why}", i + 1))?;
            if keys.iter().any(|k| k.thumbprint == key.thumbprint) {
                return Err(format!("clave {}: repetida", i + 1));
            }
            keys.push(key);
        }
        // With several keys a client names the one it signed with, so each needs its own.
        if keys.len() > 1 {
            let mut kids: Vec<_> = keys.iter().map(|k| k.kid.as_deref()).collect();
            if kids.contains(&None) {
                return Err("con varias claves, cada una necesita su «kid»".into());
            }
            kids.sort_unstable();
            if kids.windows(2).any(|pair| pair[0] == pair[1]) {
                return Err("dos claves tienen el mismo «kid»".into());
            }
        }
        Ok(ClientKeys(keys))
    }

    /// The JWKS text (public members only), as stored and served.
    pub fn to_json(&self) -> serde_json::Value {
        let keys: Vec<JwkText> = self.0.iter().map(ClientKey::to_text).collect();
        serde_json::json!({ "keys": keys })
    }

    pub fn keys(&self) -> &[ClientKey] {
        &self.0
    }

    /// The keys a JWS with this header may be signed with: the one named by `kid`, or,
    /// without a `kid`, every key of the header's algorithm.
    pub fn candidates<'a>(
        &'a self,
        alg: AccessTokenAlg,
        kid: Option<&'a str>,
    ) -> impl Iterator<Item = &'a ClientKey> + 'a {
        self.0.iter().filter(move |key| {
            key.key.alg() == alg
                && match kid {
                    Some(kid) => key.kid.as_deref() == Some(kid),
                    None => true,
                }
        })
    }
}

impl Serialize for ClientKeys {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ClientKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        ClientKeys::parse(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    #[test]
    fn thumbprints_are_those_of_rfc_7638_and_rfc_8037() {
        // RFC 8037 §A.3: the Ed25519 key of §A.2 and its thumbprint.
        let keys = ClientKeys::parse(&json!({"kty": "OKP", "crv": "Ed25519", "x": ED_X})).unwrap();
        assert_eq!(
            keys.keys()[0].thumbprint,
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
        // RFC 7638 §3.1: the RSA key and its thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let keys = ClientKeys::parse(&json!({"keys": [{
            "kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"
        }]}))
        .unwrap();
        assert_eq!(
            keys.keys()[0].thumbprint,
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        assert_eq!(keys.keys()[0].kid.as_deref(), Some("2011-04-29"));
    }

    #[test]
    fn what_is_stored_is_public_and_reads_back_the_same() {
        let keys = ClientKeys::parse(&json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": ED_X, "kid": "a"},
            {"kty": "EC", "crv": "P-256", "kid": "b",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
        ]}))
        .unwrap();
        let stored = keys.to_json();
        assert_eq!(
            stored["keys"][0],
            json!({"kty": "OKP", "crv": "Ed25519", "x": ED_X, "kid": "a", "alg": "EdDSA", "use": "sig"})
        );
        assert_eq!(ClientKeys::parse(&stored).unwrap(), keys);
        let by_kid: Vec<_> = keys.candidates(AccessTokenAlg::ES256, Some("b")).collect();
        assert_eq!(by_kid.len(), 1);
        assert_eq!(keys.candidates(AccessTokenAlg::ES256, Some("a")).count(), 0);
        assert_eq!(keys.candidates(AccessTokenAlg::EdDSA, None).count(), 1);
        assert_eq!(keys.candidates(AccessTokenAlg::RS256, None).count(), 0);
    }

    #[test]
    fn private_symmetric_odd_or_ambiguous_keys_are_refused_with_a_reason() {
        let ed = |extra: serde_json::Value| {
            let mut key = json!({"kty": "OKP", "crv": "Ed25519", "x": ED_X});
            key.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            key
        };
        for (jwks, reason) in [
            (
                ed(json!({"d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"})),
                "privada",
            ),
            (json!({"kty": "oct", "k": "c2VjcmV0"}), "simétricas"),
            (ed(json!({"use": "enc"})), "«use»"),
            (ed(json!({"alg": "RS256"})), "«alg»"),
            (ed(json!({"alg": "none"})), "«alg»"),
            (
                json!({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}),
                "32 bytes",
            ),
            (
                json!({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}),
                "no admitido",
            ),
            (
                json!({"kty": "RSA", "n": b64(&[0xff; 128]), "e": "AQAB"}),
                "1024 bits",
            ),
            (json!({"keys": []}), "no tiene claves"),
            (json!({"keys": "x"}), "lista"),
            (json!({"nope": 1}), "JWKS"),
            (json!({"keys": [ed(json!({})), ed(json!({}))]}), "repetida"),
            (
                json!({"keys": [ed(json!({"kid": "k"})), {"kty": "EC", "crv": "P-256", "kid": "k",
                    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}),
                "mismo «kid»",
            ),
            (
                json!({"keys": [ed(json!({})), {"kty": "EC", "crv": "P-256", "kid": "k",
                    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}),
                "cada una necesita",
            ),
        ] {
            let err = ClientKeys::parse(&jwks).unwrap_err();
            assert!(err.contains(reason), "{jwks}: {err}");
        }
        let many: Vec<_> = (0..11).map(|i| ed(json!({"kid": i.to_string()}))).collect();
        assert!(
            ClientKeys::parse(&json!({ "keys": many }))
                .unwrap_err()
                .contains("máximo")
        );
    }

    #[test]
    fn auth_methods_read_back() {
        for method in AuthMethod::ALL {
            assert_eq!(AuthMethod::parse(method.as_str()), Some(method));
        }
        assert_eq!(AuthMethod::parse("none"), Some(AuthMethod::Public));
        assert_eq!(AuthMethod::parse("client_secret_basic"), None);
        assert_eq!(assertion_alg("Ed25519"), Some(AccessTokenAlg::EdDSA));
        assert_eq!(assertion_alg("EdDSA"), Some(AccessTokenAlg::EdDSA));
        for refused in ["none", "HS256", "ES384", "eddsa", ""] {
            assert_eq!(assertion_alg(refused), None, "{refused}");
        }
        let named = json!({"kty": "OKP", "crv": "Ed25519", "x": ED_X, "alg": "Ed25519"});
        assert!(
            ClientKeys::parse(&named).is_ok(),
            "RFC 9864's name for the same key"
        );
    }
}
