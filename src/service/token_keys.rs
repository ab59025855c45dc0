//! The keys behind access tokens: the HMAC key that tags `opaque` tokens and the keys that
//! sign `jwt` ones, one set per algorithm (EdDSA, ES256, RS256). The signing keys persist in
//! a file of the data directory (mode 0600); a rotation puts a new key of every algorithm
//! first and keeps the older ones for verification.
//!
//! P-256 and RSA come from aws-lc-rs, which rustls already builds into the binary: its keys
//! are generated, parsed and used by AWS-LC's constant-time, assembly-backed code (RSA key
//! generation takes a fraction of a second even in a debug build, so it happens only when a
//! key set is created or rotated, off the async workers).

mod private_key;
mod stored;

use super::{ServiceError, ServiceResult};
use crate::domain::consumer::AccessTokenAlg;
use crate::domain::oauth::{ACCESS_TOKEN_TYP, Jwk, Jwks, SigningKeyInfo};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use parking_lot::RwLock;
use private_key::PrivateKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Signing keys kept per algorithm after a rotation whatever their age, the current one
/// included.
const MIN_KEPT_SIGNING_KEYS: usize = 3;
/// Signing keys kept at most per algorithm: rotating faster than tokens expire retires the
/// oldest anyway.
const MAX_KEPT_SIGNING_KEYS: usize = 10;

#[derive(Clone)]
struct SigningEntry {
    kid: String,
    alg: AccessTokenAlg,
    key: Arc<PrivateKey>,
    created_at: DateTime<Utc>,
    /// The JOSE header naming this key, base64url: the same for every token it signs.
    header: String,
    /// The public key in the form its verifier takes.
    public: Vec<u8>,
    jwk: Jwk,
}

impl SigningEntry {
    fn new(kid: String, key: PrivateKey, created_at: DateTime<Utc>) -> SigningEntry {
        let alg = key.alg();
        let header =
            serde_json::json!({ "alg": alg.as_str(), "typ": ACCESS_TOKEN_TYP, "kid": kid });
        let (public, jwk) = key.public(&kid);
        SigningEntry {
            header: URL_SAFE_NO_PAD.encode(header.to_string()),
            kid,
            alg,
            key: Arc::new(key),
            created_at,
            public,
            jwk,
        }
    }

    /// A new key of `alg`, named by a digest of its public key.
    fn generate(alg: AccessTokenAlg, now: DateTime<Utc>) -> ServiceResult<SigningEntry> {
        let key = PrivateKey::generate(alg)?;
        let (public, _) = key.public("");
        let thumb = Sha256::digest(&public);
        Ok(SigningEntry::new(
            URL_SAFE_NO_PAD.encode(&thumb[..12]),
            key,
            now,
        ))
    }

    fn verifies(&self, input: &[u8], signature: &[u8]) -> bool {
        private_key::verifies(self.alg, &self.public, input, signature)
    }
}

/// The kept keys of every algorithm, each list newest (current) first.
#[derive(Clone)]
struct KeySets([Vec<SigningEntry>; 3]);

impl KeySets {
    fn of(&self, alg: AccessTokenAlg) -> &[SigningEntry] {
        &self.0[alg.index()]
    }

    fn iter(&self) -> impl Iterator<Item = &SigningEntry> {
        self.0.iter().flatten()
    }

    /// Gives a key to each algorithm that has none (a file from before ES256 and RS256);
    /// returns whether it did.
    fn complete(&mut self) -> ServiceResult<bool> {
        let mut completed = false;
        for alg in AccessTokenAlg::ALL {
            if self.0[alg.index()].is_empty() {
                self.0[alg.index()].push(SigningEntry::generate(alg, Utc::now())?);
                completed = true;
            }
        }
        Ok(completed)
    }

    /// A set with one new key of each algorithm: slow (an RSA key), never on a hot path.
    fn generate(now: DateTime<Utc>) -> ServiceResult<KeySets> {
        let mut sets: [Vec<SigningEntry>; 3] = Default::default();
        for alg in AccessTokenAlg::ALL {
            sets[alg.index()].push(SigningEntry::generate(alg, now)?);
        }
        Ok(KeySets(sets))
    }
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    keys: Vec<KeyFileEntry>,
}

#[derive(Serialize, Deserialize)]
struct KeyFileEntry {
    kid: String,
    /// Absent in files written before RS256 and ES256: those hold Ed25519 keys only.
    #[serde(default)]
    alg: AccessTokenAlg,
    /// The 32-byte Ed25519 seed, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seed: Option<String>,
    /// The PKCS#8 DER of a P-256 or RSA key, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pkcs8: Option<String>,
    created_at: DateTime<Utc>,
}

pub struct TokenKeys {
    /// The opaque tokens' HMAC, keyed and past its domain prefix once: each token clones it
    /// rather than deriving the key's pads again.
    opaque_mac: Hmac<Sha256>,
    /// `opaque_mac` past the issuer and audience of version 2 and 3 tokens too, for the first
    /// (in practice the only) pair it is asked for.
    bound_mac: OnceLock<(String, String, Hmac<Sha256>)>,
    signing: RwLock<Arc<KeySets>>,
    /// Where the signing keys persist; `None` keeps them in memory only.
    path: Option<PathBuf>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys").finish_non_exhaustive()
    }
}

fn internal(what: &str, path: &Path, err: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("{what} {}: {err}", path.display()))
}

/// One process-wide set of signing keys for [`TokenKeys::ephemeral`]: every service starts
/// with ephemeral keys before the server gives it the persisted ones, and an RSA key per
/// start would be wasted work.
fn ephemeral_key_sets() -> ServiceResult<KeySets> {
    static SETS: std::sync::OnceLock<KeySets> = std::sync::OnceLock::new();
    if let Some(sets) = SETS.get() {
        return Ok(sets.clone());
    }
    let sets = KeySets::generate(Utc::now())?;
    Ok(SETS.get_or_init(|| sets).clone())
}

impl TokenKeys {
    /// Keys that live as long as the process (tests, tools): a fresh HMAC key, and signing
    /// keys shared by every ephemeral instance until one rotates its own.
    pub fn ephemeral() -> TokenKeys {
        let sets = ephemeral_key_sets().unwrap_or_else(|_| {
            // Without AWS-LC's generator there are still Ed25519 keys; ES256 and RS256
            // consumers then get a server error instead of a token.
            let mut sets: [Vec<SigningEntry>; 3] = Default::default();
            if let Ok(entry) = SigningEntry::generate(AccessTokenAlg::EdDSA, Utc::now()) {
                sets[0].push(entry);
            }
            KeySets(sets)
        });
        TokenKeys {
            opaque_mac: opaque_mac(&crate::domain::secret::random_bytes::<32>()),
            bound_mac: OnceLock::new(),
            signing: RwLock::new(Arc::new(sets)),
            path: None,
        }
    }

    /// The HMAC key as given, and the signing keys read from `signing_path`, created there
    /// (mode 0600) on first start. A file from before ES256 and RS256 gains a key of each.
    pub fn load_or_create(hmac_key: [u8; 32], signing_path: &Path) -> ServiceResult<TokenKeys> {
        let sets = match std::fs::read(signing_path) {
            Ok(bytes) => {
                let mut sets = read_key_file(&bytes, signing_path)?;
                if sets.complete()? {
                    write_key_file(signing_path, &sets)?;
                }
                sets
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let sets = KeySets::generate(Utc::now())?;
                write_key_file(signing_path, &sets)?;
                sets
            }
            Err(err) => return Err(internal("no se pudo leer", signing_path, err)),
        };
        Ok(TokenKeys {
            opaque_mac: opaque_mac(&hmac_key),
            bound_mac: OnceLock::new(),
            signing: RwLock::new(Arc::new(sets)),
            path: Some(signing_path.to_path_buf()),
        })
    }

    fn sets(&self) -> Arc<KeySets> {
        self.signing.read().clone()
    }

    /// A new signing key of every algorithm becomes current; the previous ones still
    /// verify. Per algorithm, a previous key is kept while tokens it signed may still be
    /// alive (it stopped signing less than `token_ttl` ago), and the newest three are kept
    /// whatever their age; never more than ten, so that rotating in a hurry still bounds
    /// the JWKS. Returns the new keys' ids. Slow (an RSA key): call it off the async
    /// workers. Keys kept in the database rotate through the service instead, which
    /// writes the set there (`rotate_stored`); this would change this process only.
    pub fn rotate(
        &self,
        now: DateTime<Utc>,
        token_ttl: chrono::Duration,
    ) -> ServiceResult<Vec<String>> {
        // Generated before taking the lock, so that signing never waits for a new RSA key.
        let fresh = KeySets::generate(now)?;
        let mut guard = self.signing.write();
        let sets = rotated(&guard, fresh, now, token_ttl);
        if let Some(path) = &self.path {
            write_key_file(path, &sets)?;
        }
        let kids = AccessTokenAlg::ALL
            .into_iter()
            .filter_map(|alg| sets.of(alg).first().map(|e| e.kid.clone()))
            .collect();
        *guard = Arc::new(sets);
        Ok(kids)
    }

    /// The keys kept, by algorithm (EdDSA, ES256, RS256), each newest (current) first: the
    /// order of the JWKS.
    pub fn infos(&self) -> Vec<SigningKeyInfo> {
        let sets = self.sets();
        AccessTokenAlg::ALL
            .into_iter()
            .flat_map(|alg| {
                sets.of(alg)
                    .iter()
                    .enumerate()
                    .map(|(i, e)| SigningKeyInfo {
                        kid: e.kid.clone(),
                        alg,
                        created_at: e.created_at,
                        current: i == 0,
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The id of the key that signs new tokens of `alg`.
    pub fn current_kid(&self, alg: AccessTokenAlg) -> Option<String> {
        self.sets().of(alg).first().map(|e| e.kid.clone())
    }

    /// The public keys, in the order of [`TokenKeys::infos`].
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: self.sets().iter().map(|e| e.jwk.clone()).collect(),
        }
    }

    /// A compact JWS of the claims (`typ: at+jwt`), signed with the current key of `alg`.
    pub fn sign_jwt(&self, alg: AccessTokenAlg, claims: &impl Serialize) -> ServiceResult<String> {
        let sets = self.sets();
        let current = sets.of(alg).first().ok_or_else(|| {
            ServiceError::Internal(format!("sin clave de firma {}", alg.as_str()))
        })?;
        // Room for an access token's claims (about 300 bytes) without growing.
        let mut payload = Vec::with_capacity(512);
        serde_json::to_writer(&mut payload, claims)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        // header.payload.signature, built in one buffer: 4/3 of the payload, plus the
        // header and the signature (342 characters for RS256).
        let mut token = String::with_capacity(current.header.len() + payload.len() * 4 / 3 + 360);
        token.push_str(&current.header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut token);
        let signature = current.key.sign(token.as_bytes())?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        Ok(token)
    }

    /// The payload of a JWT whose signature one of our keys made; `None` otherwise. The
    /// header must be exactly the one that key writes, so its `alg` is the key's own and
    /// its `typ` is `at+jwt`.
    pub fn verify_jwt(&self, token: &str) -> Option<Vec<u8>> {
        let mut parts = token.split('.');
        let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let sets = self.sets();
        let entry = sets.iter().find(|e| e.header == header)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let signing_input = &token[..header.len() + 1 + payload.len()];
        if !entry.verifies(signing_input.as_bytes(), &signature) {
            return None;
        }
        URL_SAFE_NO_PAD.decode(payload).ok()
    }

    /// HMAC-SHA256 tag of an opaque token's body.
    pub fn tag(&self, body: &str) -> [u8; 32] {
        let mut mac = self.opaque_mac.clone();
        mac.update(body.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// True when `tag` is the body's (constant time).
    pub fn check_tag(&self, body: &str, tag: &[u8]) -> bool {
        let mut mac = self.opaque_mac.clone();
        mac.update(body.as_bytes());
        mac.verify_slice(tag).is_ok()
    }

    /// HMAC-SHA256 tag of a version 2 or 3 opaque token's body, which leaves out the issuer and
    /// the audience: the tag covers them instead, so the token is valid only where both
    /// are the same. Each is length-prefixed; the prefix's first byte is zero, which never
    /// starts a version-1 body (base64url), so neither version's tag can pass for the other.
    pub fn bound_tag(&self, issuer: &str, audience: &str, body: &str) -> [u8; 32] {
        let mut mac = self.bound_mac(issuer, audience);
        mac.update(body.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// True when `tag` is the version 2 or 3 body's for this issuer and audience (constant time).
    pub fn check_bound_tag(&self, issuer: &str, audience: &str, body: &str, tag: &[u8]) -> bool {
        let mut mac = self.bound_mac(issuer, audience);
        mac.update(body.as_bytes());
        mac.verify_slice(tag).is_ok()
    }

    fn bound_mac(&self, issuer: &str, audience: &str) -> Hmac<Sha256> {
        let bind = || {
            let mut mac = self.opaque_mac.clone();
            for part in [issuer, audience] {
                mac.update(&(part.len() as u64).to_be_bytes());
                mac.update(part.as_bytes());
            }
            mac
        };
        let (bound_issuer, bound_audience, mac) = self
            .bound_mac
            .get_or_init(|| (issuer.to_owned(), audience.to_owned(), bind()));
        if bound_issuer == issuer && bound_audience == audience {
            mac.clone()
        } else {
            bind()
        }
    }
}

/// `fresh` first, then the keys of `previous` still kept beside it (see `rotate`).
fn rotated(
    previous: &KeySets,
    mut fresh: KeySets,
    now: DateTime<Utc>,
    token_ttl: chrono::Duration,
) -> KeySets {
    for alg in AccessTokenAlg::ALL {
        let previous = previous.of(alg);
        let created: Vec<DateTime<Utc>> = previous.iter().map(|e| e.created_at).collect();
        let kept = previous_keys_kept(&created, now, token_ttl);
        fresh.0[alg.index()].extend(previous[..kept].iter().cloned());
    }
    fresh
}

fn opaque_mac(key: &[u8; 32]) -> Hmac<Sha256> {
    // HMAC pads a short key with zeros to SHA-256's 64-byte block; padding it here gives
    // the same tags through the infallible constructor.
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    let mut mac = Hmac::<Sha256>::new(&block.into());
    mac.update(b"consola opaque access token v1\n");
    mac
}

/// How many of the previous keys of one algorithm (newest first, by creation time) stay
/// beside a new one created at `now`: those whose tokens may be alive, at least
/// `MIN_KEPT_SIGNING_KEYS` in all, at most `MAX_KEPT_SIGNING_KEYS`.
fn previous_keys_kept(
    created_at: &[DateTime<Utc>],
    now: DateTime<Utc>,
    token_ttl: chrono::Duration,
) -> usize {
    let mut kept = 0;
    // Each key stopped signing when the next newer one was created.
    let mut stopped_signing = now;
    for created in created_at {
        let total = kept + 1;
        let may_have_live_tokens = stopped_signing > now - token_ttl;
        if total >= MAX_KEPT_SIGNING_KEYS
            || (total >= MIN_KEPT_SIGNING_KEYS && !may_have_live_tokens)
        {
            break;
        }
        kept += 1;
        stopped_signing = *created;
    }
    kept
}

fn read_key_file(bytes: &[u8], path: &Path) -> ServiceResult<KeySets> {
    let damaged = |what: &str| internal("clave de firma dañada en", path, what);
    let file: KeyFile = serde_json::from_slice(bytes).map_err(|e| damaged(&e.to_string()))?;
    let mut sets: [Vec<SigningEntry>; 3] = Default::default();
    for entry in file.keys {
        let encoded = match entry.alg {
            AccessTokenAlg::EdDSA => entry.seed.as_deref(),
            AccessTokenAlg::ES256 | AccessTokenAlg::RS256 => entry.pkcs8.as_deref(),
        }
        .ok_or_else(|| damaged("sin clave"))?;
        let key = URL_SAFE_NO_PAD
            .decode(encoded)
            .ok()
            .and_then(|bytes| PrivateKey::from_bytes(entry.alg, &bytes))
            .ok_or_else(|| damaged(entry.alg.as_str()))?;
        sets[entry.alg.index()].push(SigningEntry::new(entry.kid, key, entry.created_at));
    }
    if sets.iter().all(Vec::is_empty) {
        return Err(internal("sin claves de firma en", path, "vacío"));
    }
    Ok(KeySets(sets))
}

/// Writes the key file through a temporary file of mode 0600 and a rename, so a crash never
/// leaves half a key.
fn write_key_file(path: &Path, sets: &KeySets) -> ServiceResult<()> {
    let bytes = key_file_bytes(sets)?;
    let tmp = path.with_extension("tmp");
    use crate::private_file::{Durability, replace};
    replace(path, &tmp, &bytes, Durability::Synced)
        .map_err(|e| internal("no se pudo guardar", path, e))
}

/// The key file's JSON: the same in the data directory and, sealed, in the database.
fn key_file_bytes(sets: &KeySets) -> ServiceResult<Vec<u8>> {
    let mut keys = Vec::new();
    for e in sets.iter() {
        let encoded = URL_SAFE_NO_PAD.encode(e.key.to_bytes()?);
        let (seed, pkcs8) = match e.alg {
            AccessTokenAlg::EdDSA => (Some(encoded), None),
            AccessTokenAlg::ES256 | AccessTokenAlg::RS256 => (None, Some(encoded)),
        };
        keys.push(KeyFileEntry {
            kid: e.kid.clone(),
            alg: e.alg,
            seed,
            pkcs8,
            created_at: e.created_at,
        });
    }
    serde_json::to_vec_pretty(&KeyFile { keys }).map_err(|e| ServiceError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tags are HMAC-SHA256 under the key of the data directory, past the domain prefix:
    /// tokens issued before an upgrade or restart keep verifying.
    #[test]
    fn opaque_tags_are_hmac_sha256_of_prefix_and_body() {
        let key = [7u8; 32];
        let dir = tempfile::tempdir().unwrap();
        let keys = TokenKeys::load_or_create(key, &dir.path().join("keys.json")).unwrap();
        let mut reference = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        reference.update(b"consola opaque access token v1\nbody");
        let expected: [u8; 32] = reference.finalize().into_bytes().into();
        assert_eq!(keys.tag("body"), expected);
        assert!(keys.check_tag("body", &expected));
        assert!(!keys.check_tag("bodY", &expected));
        assert!(!keys.check_tag("body", &expected[..31]));
    }

    /// One persisted key set for the tests that need files: an RSA key costs time.
    #[test]
    fn jwt_round_trip_rotation_and_reload_for_every_alg() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let keys = TokenKeys::load_or_create([1; 32], &path).unwrap();
        let tokens: Vec<String> = AccessTokenAlg::ALL
            .into_iter()
            .map(|alg| {
                keys.sign_jwt(alg, &serde_json::json!({"sub": "x"}))
                    .unwrap()
            })
            .collect();
        for token in &tokens {
            assert!(keys.verify_jwt(token).is_some());
        }
        let old: Vec<String> = AccessTokenAlg::ALL
            .into_iter()
            .map(|alg| keys.current_kid(alg).unwrap())
            .collect();
        let new = keys.rotate(Utc::now(), chrono::Duration::hours(1)).unwrap();
        assert_eq!(new.len(), 3);
        for (old, new) in old.iter().zip(&new) {
            assert_ne!(old, new);
        }
        for token in &tokens {
            assert!(keys.verify_jwt(token).is_some(), "old keys still verify");
        }
        let reloaded = TokenKeys::load_or_create([1; 32], &path).unwrap();
        for (alg, new) in AccessTokenAlg::ALL.into_iter().zip(&new) {
            assert_eq!(reloaded.current_kid(alg).as_ref(), Some(new));
        }
        assert_eq!(reloaded.infos(), keys.infos());
        for token in &tokens {
            assert!(reloaded.verify_jwt(token).is_some());
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        for token in &tokens {
            let mut forged = token.clone();
            forged.pop();
            forged.push(if token.ends_with('A') { 'B' } else { 'A' });
            assert!(keys.verify_jwt(&forged).is_none());
        }
    }

    /// The header segment is built once per key: it must name the key that signs and say
    /// `at+jwt`, for every algorithm; a token whose header names another algorithm than its
    /// key's is refused (no algorithm confusion).
    #[test]
    fn jwt_header_names_the_current_key_and_its_alg() {
        let keys = TokenKeys::ephemeral();
        let mut tokens = Vec::new();
        for alg in AccessTokenAlg::ALL {
            let token = keys
                .sign_jwt(alg, &serde_json::json!({"sub": "x"}))
                .unwrap();
            let header = token.split('.').next().unwrap();
            let header: serde_json::Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
            assert_eq!(
                header,
                serde_json::json!({
                    "alg": alg.as_str(),
                    "typ": "at+jwt",
                    "kid": keys.current_kid(alg).unwrap(),
                })
            );
            let payload: serde_json::Value =
                serde_json::from_slice(&keys.verify_jwt(&token).unwrap()).unwrap();
            assert_eq!(payload, serde_json::json!({"sub": "x"}));
            tokens.push(token);
        }
        // The EdDSA signature under a header that claims ES256 with the same kid.
        let (_, rest) = tokens[0].split_once('.').unwrap();
        let kid = keys.current_kid(AccessTokenAlg::EdDSA).unwrap();
        let lying = URL_SAFE_NO_PAD
            .encode(serde_json::json!({"alg": "ES256", "typ": "at+jwt", "kid": kid}).to_string());
        assert!(keys.verify_jwt(&format!("{lying}.{rest}")).is_none());
        let untyped = URL_SAFE_NO_PAD
            .encode(serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": kid}).to_string());
        assert!(keys.verify_jwt(&format!("{untyped}.{rest}")).is_none());
    }

    #[test]
    fn jwks_publishes_each_key_with_its_members() {
        let keys = TokenKeys::ephemeral();
        let jwks = keys.jwks();
        let infos = keys.infos();
        assert_eq!(jwks.keys.len(), 3);
        for (jwk, info) in jwks.keys.iter().zip(&infos) {
            assert_eq!(jwk.kid, info.kid);
            assert_eq!(jwk.alg, info.alg.as_str());
            assert_eq!(jwk.use_, "sig");
        }
        let [ed, ec, rsa] = &jwks.keys[..] else {
            panic!("three keys")
        };
        assert_eq!(
            (ed.kty.as_str(), ed.crv.as_deref()),
            ("OKP", Some("Ed25519"))
        );
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(ed.x.as_ref().unwrap())
                .unwrap()
                .len(),
            32
        );
        assert_eq!((ec.kty.as_str(), ec.crv.as_deref()), ("EC", Some("P-256")));
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(ec.x.as_ref().unwrap())
                .unwrap()
                .len(),
            32
        );
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(ec.y.as_ref().unwrap())
                .unwrap()
                .len(),
            32
        );
        assert_eq!((rsa.kty.as_str(), rsa.crv.as_deref()), ("RSA", None));
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(rsa.n.as_ref().unwrap())
                .unwrap()
                .len(),
            256
        );
        assert_eq!(rsa.e.as_deref(), Some("AQAB"));
    }

    /// A key file from before ES256 and RS256 (Ed25519 seeds, no `alg`) keeps its key and
    /// gains one of each other algorithm.
    #[test]
    fn an_ed25519_only_key_file_gains_the_other_algs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let seed = URL_SAFE_NO_PAD.encode([7u8; 32]);
        std::fs::write(
            &path,
            format!(
                r#"{{"keys":[{{"kid":"old","seed":"{seed}","created_at":"2026-01-01T00:00:00Z"}}]}}"#
            ),
        )
        .unwrap();
        let keys = TokenKeys::load_or_create([1; 32], &path).unwrap();
        assert_eq!(
            keys.current_kid(AccessTokenAlg::EdDSA).as_deref(),
            Some("old")
        );
        assert!(keys.current_kid(AccessTokenAlg::ES256).is_some());
        assert!(keys.current_kid(AccessTokenAlg::RS256).is_some());
        let again = TokenKeys::load_or_create([1; 32], &path).unwrap();
        assert_eq!(again.infos(), keys.infos(), "the completed set was saved");
    }

    #[test]
    fn retirement_keeps_keys_while_their_tokens_may_live() {
        let ttl = chrono::Duration::hours(1);
        let t0 = Utc::now();
        let minutes = |m: i64| t0 + chrono::Duration::minutes(m);
        // Four previous keys, each stopped signing less than an hour ago: all stay.
        let created = [minutes(3), minutes(2), minutes(1), minutes(0)];
        assert_eq!(previous_keys_kept(&created, minutes(4), ttl), 4);
        // Two hours on, their tokens have expired: the newest three stay (two previous).
        assert_eq!(previous_keys_kept(&created, minutes(120), ttl), 2);
        // Rotating in a hurry keeps ten at most (nine previous).
        let hurried: Vec<_> = (0..20)
            .rev()
            .map(|s| t0 + chrono::Duration::seconds(s))
            .collect();
        assert_eq!(previous_keys_kept(&hurried, minutes(1), ttl), 9);
        assert_eq!(previous_keys_kept(&[], t0, ttl), 0);
    }

    #[test]
    fn rotation_applies_retirement_to_every_alg() {
        let keys = TokenKeys::ephemeral();
        let ttl = chrono::Duration::hours(1);
        let t0 = Utc::now();
        let first = keys.current_kid(AccessTokenAlg::RS256).unwrap();
        for minute in 1..=3 {
            keys.rotate(t0 + chrono::Duration::minutes(minute), ttl)
                .unwrap();
        }
        let infos = keys.infos();
        for alg in AccessTokenAlg::ALL {
            let of_alg: Vec<_> = infos.iter().filter(|k| k.alg == alg).collect();
            assert_eq!(of_alg.len(), 4, "{alg:?}: every key's tokens may live");
            assert!(of_alg[0].current && of_alg[1..].iter().all(|k| !k.current));
        }
        assert!(infos.iter().any(|k| k.kid == first));
        keys.rotate(t0 + chrono::Duration::hours(3), ttl).unwrap();
        let infos = keys.infos();
        assert_eq!(infos.len(), 9, "three of each algorithm");
        assert!(infos.iter().all(|k| k.kid != first));
        assert_eq!(keys.jwks().keys.len(), 9);
    }

    #[test]
    fn opaque_tags_depend_on_the_key() {
        let a = TokenKeys::ephemeral();
        let b = TokenKeys::ephemeral();
        let tag = a.tag("body");
        assert!(a.check_tag("body", &tag));
        assert!(!b.check_tag("body", &tag));
        assert!(!a.check_tag("bodx", &tag));
    }
}
