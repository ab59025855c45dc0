//! SSH public keys ("Claves SSH"): with one of them, `ssh host` opens the console signed in
//! as its user (DESIGN §7). Only the public half is ever stored; the fingerprint names it.

use super::validation::{FieldErrors, required_line};
use chrono::{DateTime, Utc};
use russh::keys::ssh_key::{HashAlg, PublicKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Longest name of a key, in characters.
pub const NAME_MAX: usize = 80;
/// Longest pasted public key line, in bytes (an RSA 16384-bit key is about 2.8 KB).
pub const PUBLIC_KEY_MAX: usize = 8 * 1024;

/// A user's key, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SshKey {
    pub id: Uuid,
    pub name: String,
    /// `SHA256:…`, as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    pub created_at: DateTime<Utc>,
}

/// A key to add: a name and the OpenSSH public key line (`ssh-ed25519 AAAA… comment`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewSshKey {
    pub name: String,
    pub public_key: String,
}

/// A key that passed validation: its name, the key line without its comment, and its
/// fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidSshKey {
    pub name: String,
    pub public_key: String,
    pub fingerprint: String,
}

/// The fingerprint of a key, as OpenSSH prints it: `SHA256:` and unpadded base64.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Checks a pasted key: a name, and exactly one OpenSSH public key of a kind OpenSSH still
/// accepts (no DSA, RSA of at least 2048 bits).
pub fn validate(new: &NewSshKey) -> Result<ValidSshKey, FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = required_line(&mut errors, "name", &new.name, NAME_MAX);
    let parsed = parse_public_key(&new.public_key);
    if let Err(message) = &parsed {
        errors.add("public_key", *message);
    }
    errors.into_result()?;
    let key = parsed.map_err(|message| FieldErrors::single("public_key", message))?;
    let public_key = key
        .to_openssh()
        .map_err(|_| FieldErrors::single("public_key", "No se pudo leer la clave pública"))?;
    Ok(ValidSshKey {
        name,
        fingerprint: fingerprint(&key),
        public_key,
    })
}

/// The key in a pasted line, without its comment; why not, in the words of the form.
pub fn parse_public_key(text: &str) -> Result<PublicKey, &'static str> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Pegue la clave pública (por ejemplo, el contenido de ~/.ssh/id_ed25519.pub)");
    }
    if text.len() > PUBLIC_KEY_MAX {
        return Err("La clave pública es demasiado larga");
    }
    if text.lines().count() > 1 {
        return Err("Pegue una sola clave pública, en una línea");
    }
    if text.starts_with("-----BEGIN") {
        return Err("Esa es una clave privada o en otro formato: pegue la línea del archivo .pub");
    }
    let mut key = PublicKey::from_openssh(text)
        .map_err(|_| "No es una clave pública de OpenSSH (ssh-ed25519, ecdsa-sha2-… o ssh-rsa)")?;
    key.set_comment("");
    use russh::keys::ssh_key::public::KeyData;
    match key.key_data() {
        KeyData::Ed25519(_) | KeyData::Ecdsa(_) => Ok(key),
        KeyData::Rsa(rsa) if rsa_bits(rsa) >= 2048 => Ok(key),
        KeyData::Rsa(_) => Err("Las claves RSA deben tener al menos 2048 bits"),
        _ => Err("Tipo de clave no admitido: use ssh-ed25519, ecdsa-sha2-… o ssh-rsa"),
    }
}

fn rsa_bits(key: &russh::keys::ssh_key::public::RsaPublicKey) -> usize {
    let n = key.n().as_bytes();
    let leading = n.iter().take_while(|b| **b == 0).count();
    let n = &n[leading..];
    match n.first() {
        Some(first) => n.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made with `ssh-keygen -t ed25519 -C alice@laptop`.
    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKo7m7qJEb+Z1NFP0N7NnfH7i2ucH0cijAZuwuM978KG alice@laptop";

    fn new(name: &str, key: &str) -> NewSshKey {
        NewSshKey {
            name: name.into(),
            public_key: key.into(),
        }
    }

    #[test]
    fn a_pasted_line_keeps_the_key_and_drops_the_comment() {
        let valid = validate(&new(" Portátil ", &format!("  {ED25519}\n"))).unwrap();
        assert_eq!(valid.name, "Portátil");
        assert!(!valid.public_key.contains("alice"), "{}", valid.public_key);
        assert!(valid.public_key.starts_with("ssh-ed25519 AAAA"));
        assert!(
            valid.fingerprint.starts_with("SHA256:"),
            "{}",
            valid.fingerprint
        );
        // The same key with another comment is the same key.
        let again = validate(&new("x", &ED25519.replace("alice@laptop", "otro"))).unwrap();
        assert_eq!(again.fingerprint, valid.fingerprint);
    }

    #[test]
    fn bad_input_names_the_field_and_says_why() {
        let cases = [
            ("", "Pegue la clave"),
            ("hola", "No es una clave pública"),
            (
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n",
                "una sola clave",
            ),
            ("-----BEGIN OPENSSH PRIVATE KEY-----", "clave privada"),
            (&format!("{ED25519}\n{ED25519}"), "una sola clave"),
            ("ssh-ed25519 AAAA", "No es una clave pública"),
        ];
        for (text, expected) in cases {
            let errors = validate(&new("k", text)).unwrap_err();
            let message = errors.get("public_key").unwrap_or_default();
            assert!(message.contains(expected), "{text:?}: {message}");
        }
        let errors = validate(&new("  ", ED25519)).unwrap_err();
        assert!(errors.get("name").is_some());
        let long = "x".repeat(PUBLIC_KEY_MAX + 1);
        let errors = validate(&new("k", &long)).unwrap_err();
        assert!(errors.get("public_key").unwrap().contains("larga"));
    }

    #[test]
    fn rsa_size_is_counted_in_bits_of_the_modulus() {
        use russh::keys::ssh_key::{Mpint, public::RsaPublicKey};
        let key = |n: &[u8]| {
            RsaPublicKey::new(
                Mpint::from_positive_bytes(&[1, 0, 1]),
                Mpint::from_positive_bytes(n),
            )
            .unwrap()
        };
        assert_eq!(rsa_bits(&key(&[0x80; 128])), 1024);
        assert_eq!(rsa_bits(&key(&[0x01; 256])), 2041);
        assert_eq!(rsa_bits(&key(&[0xff; 256])), 2048);
    }
}
