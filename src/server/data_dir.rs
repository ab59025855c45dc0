//! The data directory: mode 0700, its files 0600.

use anyhow::Context;
use std::fs;
use std::path::Path;

pub fn ensure_private_dir(dir: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("no se pudo crear {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("no se pudo proteger {}", dir.display()))?;
    }
    Ok(())
}

/// Reads the 32-byte key, or creates it (mode 0600) on first start.
pub fn load_or_create_key(path: &Path) -> anyhow::Result<[u8; 32]> {
    match fs::read(path) {
        Ok(bytes) => bytes.as_slice().try_into().map_err(|_| {
            anyhow::anyhow!(
                "{} está dañado (debe tener 32 bytes); sin él no se puede leer el API Secret",
                path.display()
            )
        }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let key = crate::service::Vault::generate_key();
            crate::private_file::write_new(path, &key)
                .with_context(|| format!("no se pudo crear {}", path.display()))?;
            Ok(key)
        }
        Err(err) => Err(err).with_context(|| format!("no se pudo leer {}", path.display())),
    }
}

/// Reads the system secret from `path` (`--system-secret-file`). An unreadable file or a
/// short secret is refused naming the file and why, never its bytes.
pub fn read_system_secret(
    path: &Path,
) -> anyhow::Result<crate::domain::system_secret::SystemSecret> {
    let bytes = fs::read(path)
        .with_context(|| format!("no se pudo leer el secreto del sistema {}", path.display()))?;
    crate::domain::system_secret::SystemSecret::from_file_contents(bytes)
        .with_context(|| format!("el secreto del sistema {}", path.display()))
}
