//! HTTPS: the certificate chain and key that `serve` presents, read from PEM files and
//! reloaded on demand (SIGHUP) when an ACME tool renews them. A reload changes what new
//! handshakes get; connections already open keep theirs.

use parking_lot::RwLock;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// Where the certificate chain (leaf first) and its private key are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A file that cannot serve HTTPS: which file, and why.
#[derive(Debug, thiserror::Error)]
#[error("TLS: {}: {reason}", path.display())]
pub struct TlsError {
    pub path: PathBuf,
    pub reason: String,
}

fn failed(path: &Path, reason: impl Into<String>) -> TlsError {
    TlsError {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// The chain and key in force, swapped whole by a reload.
#[derive(Debug)]
pub struct Certificates {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl Certificates {
    /// Reads and checks both files; any problem names the file.
    pub fn load(files: TlsFiles) -> Result<Arc<Certificates>, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let current = read(&files, &provider)?;
        Ok(Arc::new(Certificates {
            files,
            provider,
            current: RwLock::new(Arc::new(current)),
        }))
    }

    /// Reads the files again. On an error the chain in force stays (a renewal caught half
    /// written must not take HTTPS down).
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = read(&self.files, &self.provider)?;
        *self.current.write() = Arc::new(fresh);
        Ok(())
    }

    /// The acceptor that wraps accepted TCP streams; it asks for the chain at every handshake.
    pub fn acceptor(self: &Arc<Self>) -> Result<TlsAcceptor, TlsError> {
        let config = rustls::ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| failed(&self.files.cert, e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        let mut config = config;
        // HTTP/2 for the clients that offer it, HTTP/1.1 for the rest (see `listener`);
        // plain HTTP stays HTTP/1.1.
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().clone())
    }
}

fn read(files: &TlsFiles, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let cert_pem = std::fs::read(&files.cert)
        .map_err(|e| failed(&files.cert, format!("no se pudo leer: {e}")))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| failed(&files.cert, format!("PEM inválido: {e}")))?;
    if chain.is_empty() {
        return Err(failed(
            &files.cert,
            "no contiene ningún certificado (BEGIN CERTIFICATE)",
        ));
    }
    let key_pem = std::fs::read(&files.key)
        .map_err(|e| failed(&files.key, format!("no se pudo leer: {e}")))?;
    // The key's own bytes never go into a message: only what kind of problem it has.
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        let reason = match e {
            rustls::pki_types::pem::Error::NoItemsFound => {
                "no contiene ninguna clave privada (BEGIN PRIVATE KEY)".to_string()
            }
            _ => "la clave privada no es un PEM válido".to_string(),
        };
        failed(&files.key, reason)
    })?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => failed(
            &files.key,
            format!(
                "la clave no corresponde al certificado {}",
                files.cert.display()
            ),
        ),
        rustls::Error::InvalidCertificate(_) | rustls::Error::InvalidCertRevocationList(_) => {
            failed(&files.cert, format!("certificado inválido: {e}"))
        }
        _ => failed(&files.key, format!("clave no admitida: {e}")),
    })
}
