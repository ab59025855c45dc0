//! The SSH server's host key: Ed25519, made on first start and kept in the data directory
//! (mode 0600, OpenSSH format, so `ssh-keygen -l -f` reads it), or, with a system secret,
//! in the database, sealed, so that every replica shows the same. Admins compare its
//! fingerprint, printed by `consola serve`, on their first connection.

use anyhow::Context;
use russh::keys::ssh_key::private::{Ed25519Keypair, KeypairData};
use russh::keys::ssh_key::{HashAlg, LineEnding, PrivateKey};
use std::path::Path;

/// The file's name in the data directory.
pub const FILE_NAME: &str = "ssh_host_ed25519_key";

/// Reads the host key, or makes and stores one. A file that is there but unreadable stops
/// the start: a new key would make every admin's `known_hosts` cry wolf.
pub fn load_or_create(data_dir: &Path) -> anyhow::Result<PrivateKey> {
    let path = data_dir.join(FILE_NAME);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let key = PrivateKey::from_openssh(text.trim()).map_err(|err| {
                anyhow::anyhow!(
                    "{} no es una clave privada OpenSSH válida ({err}); restáurela, o bórrela \
                     para crear otra (los clientes verán una huella nueva)",
                    path.display()
                )
            })?;
            if !matches!(key.key_data(), KeypairData::Ed25519(_)) {
                anyhow::bail!("{} no es una clave Ed25519", path.display());
            }
            Ok(key)
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let text = new_key_text()?;
            let key = PrivateKey::from_openssh(&text)
                .map_err(|err| anyhow::anyhow!("no se pudo leer la clave de host: {err}"))?;
            crate::private_file::write_new(&path, text.as_bytes())
                .with_context(|| format!("no se pudo crear {}", path.display()))?;
            Ok(key)
        }
        Err(err) => Err(err).with_context(|| format!("no se pudo leer {}", path.display())),
    }
}

/// The host key kept in the database (DESIGN §7), made on first start: from the data
/// directory's file when there is one (admins already trust it), else a new one.
pub async fn load_or_create_sealed(
    sealed: &crate::service::sealed_keys::SealedKeys,
    data_dir: &Path,
) -> anyhow::Result<PrivateKey> {
    use crate::service::sealed_keys::KeyName;
    let path = data_dir.join(FILE_NAME);
    let text = sealed
        .load_or_create(KeyName::SshHostKey, || {
            if let Some(bytes) = crate::server::keys::existing(&path)? {
                return Ok(bytes);
            }
            new_key_text().map(String::into_bytes).map_err(|e| {
                crate::service::InternalError::caused("no se pudo crear la clave de host", e).into()
            })
        })
        .await?;
    let text = String::from_utf8(text)
        .map_err(|_| anyhow::anyhow!("la clave de host de la base de datos no es texto"))?;
    let key = PrivateKey::from_openssh(text.trim()).map_err(|err| {
        anyhow::anyhow!("la clave de host de la base de datos no es OpenSSH válida ({err})")
    })?;
    if !matches!(key.key_data(), KeypairData::Ed25519(_)) {
        anyhow::bail!("la clave de host de la base de datos no es Ed25519");
    }
    Ok(key)
}

/// A new Ed25519 key in OpenSSH format.
fn new_key_text() -> anyhow::Result<String> {
    let seed: [u8; 32] = rand::random();
    let key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
    Ok(key
        .to_openssh(LineEnding::LF)
        .map_err(|err| anyhow::anyhow!("no se pudo escribir la clave de host: {err}"))?
        .to_string())
}

/// The fingerprint admins compare: `SHA256:…`, as `ssh` shows it.
pub fn fingerprint(key: &PrivateKey) -> String {
    key.public_key().fingerprint(HashAlg::Sha256).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_private_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        let again = load_or_create(dir.path()).unwrap();
        assert_eq!(fingerprint(&first), fingerprint(&again));
        assert!(fingerprint(&first).starts_with("SHA256:"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_damaged_file_stops_the_start_and_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "no es una clave").unwrap();
        let err = load_or_create(dir.path()).unwrap_err().to_string();
        assert!(err.contains(FILE_NAME) && err.contains("bórrela"), "{err}");
    }
}
