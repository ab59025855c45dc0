//! The signing keys' JSON: the file of the data directory (mode 0600, replaced whole), and
//! the same bytes sealed in the database.

use super::*;

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

/// `what` went wrong with the keys at `path`, for the reason `err` gives.
pub(super) fn internal(what: &str, path: &Path, err: impl Into<Cause>) -> ServiceError {
    InternalError::caused(format!("{what} {}", path.display()), err).into()
}

pub(super) fn read_key_file(bytes: &[u8], path: &Path) -> ServiceResult<KeySets> {
    let damaged = |why: Cause| internal("clave de firma dañada en", path, why);
    let file: KeyFile = serde_json::from_slice(bytes).map_err(|e| damaged(e.into()))?;
    let mut sets: [Vec<SigningEntry>; 3] = Default::default();
    for entry in file.keys {
        let encoded = match entry.alg {
            AccessTokenAlg::EdDSA => entry.seed.as_deref(),
            AccessTokenAlg::ES256 | AccessTokenAlg::RS256 => entry.pkcs8.as_deref(),
        }
        .ok_or_else(|| damaged("sin clave".into()))?;
        let key = URL_SAFE_NO_PAD
            .decode(encoded)
            .ok()
            .and_then(|bytes| PrivateKey::from_bytes(entry.alg, &bytes))
            .ok_or_else(|| damaged(entry.alg.as_str().into()))?;
        sets[entry.alg.index()].push(SigningEntry::new(entry.kid, key, entry.created_at));
    }
    if sets.iter().all(Vec::is_empty) {
        return Err(internal("sin claves de firma en", path, "vacío"));
    }
    Ok(KeySets(sets))
}

/// Writes the key file through a temporary file of mode 0600 and a rename, so a crash never
/// leaves half a key.
pub(super) fn write_key_file(path: &Path, sets: &KeySets) -> ServiceResult<()> {
    let bytes = key_file_bytes(sets)?;
    let tmp = path.with_extension("tmp");
    use crate::private_file::{Durability, replace};
    replace(path, &tmp, &bytes, Durability::Synced)
        .map_err(|e| internal("no se pudo guardar", path, e))
}

/// The key file's JSON: the same in the data directory and, sealed, in the database.
pub(super) fn key_file_bytes(sets: &KeySets) -> ServiceResult<Vec<u8>> {
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
    serde_json::to_vec_pretty(&KeyFile { keys }).map_err(|e| {
        InternalError::caused("no se pudo escribir el JSON de las claves de firma", e).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
