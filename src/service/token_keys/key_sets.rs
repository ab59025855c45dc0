//! The kept signing keys of every algorithm, newest (current) first, and their rotation:
//! which previous keys stay beside new ones.

use super::*;

/// Signing keys kept per algorithm after a rotation whatever their age, the current one
/// included.
const MIN_KEPT_SIGNING_KEYS: usize = 3;
/// Signing keys kept at most per algorithm: rotating faster than tokens expire retires the
/// oldest anyway.
const MAX_KEPT_SIGNING_KEYS: usize = 10;

#[derive(Clone)]
pub(super) struct SigningEntry {
    pub(super) kid: String,
    pub(super) alg: AccessTokenAlg,
    pub(super) key: Arc<PrivateKey>,
    pub(super) created_at: DateTime<Utc>,
    /// The JOSE header naming this key, base64url: the same for every token it signs.
    pub(super) header: String,
    /// The public key in the form its verifier takes.
    pub(super) public: Vec<u8>,
    pub(super) jwk: Jwk,
}

impl SigningEntry {
    pub(super) fn new(kid: String, key: PrivateKey, created_at: DateTime<Utc>) -> SigningEntry {
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
    pub(super) fn generate(alg: AccessTokenAlg, now: DateTime<Utc>) -> ServiceResult<SigningEntry> {
        let key = PrivateKey::generate(alg)?;
        let (public, _) = key.public("");
        let thumb = Sha256::digest(&public);
        Ok(SigningEntry::new(
            URL_SAFE_NO_PAD.encode(&thumb[..12]),
            key,
            now,
        ))
    }

    pub(super) fn verifies(&self, input: &[u8], signature: &[u8]) -> bool {
        private_key::verifies(self.alg, &self.public, input, signature)
    }
}

/// The kept keys of every algorithm, each list newest (current) first.
#[derive(Clone)]
pub(super) struct KeySets(pub(super) [Vec<SigningEntry>; 3]);

impl KeySets {
    pub(super) fn of(&self, alg: AccessTokenAlg) -> &[SigningEntry] {
        &self.0[alg.index()]
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &SigningEntry> {
        self.0.iter().flatten()
    }

    /// Gives a key to each algorithm that has none (a file from before ES256 and RS256);
    /// returns whether it did.
    pub(super) fn complete(&mut self) -> ServiceResult<bool> {
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
    pub(super) fn generate(now: DateTime<Utc>) -> ServiceResult<KeySets> {
        let mut sets: [Vec<SigningEntry>; 3] = Default::default();
        for alg in AccessTokenAlg::ALL {
            sets[alg.index()].push(SigningEntry::generate(alg, now)?);
        }
        Ok(KeySets(sets))
    }
}

/// One process-wide set of signing keys for [`TokenKeys::ephemeral`]: every service starts
/// with ephemeral keys before the server gives it the persisted ones, and an RSA key per
/// start would be wasted work.
pub(super) fn ephemeral_key_sets() -> ServiceResult<KeySets> {
    static SETS: std::sync::OnceLock<KeySets> = std::sync::OnceLock::new();
    if let Some(sets) = SETS.get() {
        return Ok(sets.clone());
    }
    let sets = KeySets::generate(Utc::now())?;
    Ok(SETS.get_or_init(|| sets).clone())
}

impl TokenKeys {
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
}

/// `fresh` first, then the keys of `previous` still kept beside it (see `rotate`).
pub(super) fn rotated(
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
