//! The system secret: the one secret every replica of `consola serve` shares, under which
//! the keys kept in the database are sealed. It is given to serve (a file or an environment
//! variable), never stored, and never shown: not in Debug, not in an error.

/// The fewest bytes a system secret may have: as many as the keys derived from it.
pub const MIN_SYSTEM_SECRET_LEN: usize = 32;

/// The secret's bytes, as given.
#[derive(Clone, PartialEq, Eq)]
pub struct SystemSecret(Vec<u8>);

/// Why some bytes are not a system secret. Says how long it was, never what it held.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SystemSecretError {
    #[error("tiene {len} bytes y el secreto del sistema necesita al menos {MIN_SYSTEM_SECRET_LEN}")]
    TooShort { len: usize },
}

impl SystemSecret {
    /// The bytes as they are (an environment variable's value).
    pub fn new(bytes: Vec<u8>) -> Result<SystemSecret, SystemSecretError> {
        if bytes.len() < MIN_SYSTEM_SECRET_LEN {
            return Err(SystemSecretError::TooShort { len: bytes.len() });
        }
        Ok(SystemSecret(bytes))
    }

    /// A file's contents: one trailing newline (as editors and `echo` leave it) is not part
    /// of the secret; anything else is.
    pub fn from_file_contents(mut bytes: Vec<u8>) -> Result<SystemSecret, SystemSecretError> {
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        SystemSecret::new(bytes)
    }

    /// The secret itself, for the key derivation only.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SystemSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SystemSecret(«redactado»)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_least_32_bytes() {
        assert_eq!(
            SystemSecret::new(vec![b'a'; 31]),
            Err(SystemSecretError::TooShort { len: 31 })
        );
        assert!(SystemSecret::new(vec![b'a'; 32]).is_ok());
        assert!(SystemSecret::new(Vec::new()).is_err());
    }

    #[test]
    fn a_files_one_trailing_newline_is_not_part_of_it() {
        let mut text = vec![b'a'; 32];
        text.push(b'\n');
        assert_eq!(
            SystemSecret::from_file_contents(text).unwrap().expose(),
            &[b'a'; 32][..]
        );
        let mut short = vec![b'a'; 31];
        short.extend_from_slice(b"\r\n");
        assert_eq!(
            SystemSecret::from_file_contents(short),
            Err(SystemSecretError::TooShort { len: 31 })
        );
        // Only one: a second newline is part of the secret.
        let mut two = vec![b'a'; 31];
        two.extend_from_slice(b"\n\n");
        assert_eq!(
            SystemSecret::from_file_contents(two)
                .unwrap()
                .expose()
                .len(),
            32
        );
    }

    #[test]
    fn debug_and_errors_never_show_the_bytes() {
        let secret = SystemSecret::new(b"zorro-azul-zorro-azul-zorro-azul-zorro".to_vec()).unwrap();
        let shown = format!("{secret:?} {:?}", Some(&secret));
        assert!(!shown.contains("zorro"), "{shown}");
        let err = SystemSecret::new(b"zorro-azul".to_vec()).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("zorro"));
        assert!(err.to_string().contains("10 bytes"), "{err}");
    }
}
