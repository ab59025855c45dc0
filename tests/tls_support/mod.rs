//! Certificates made at test time (rcgen): a root CA, an intermediate, and a leaf for the
//! server's name, written as a server would get them from an ACME client.
#![allow(dead_code)]

use consola::server::tls::TlsFiles;
use consola::server::{RunningServer, ServerConfig};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use std::path::{Path, PathBuf};

/// The name the test certificates are made for.
pub const SERVER_NAME: &str = "auth.consola.test";

pub struct Chain {
    /// The root CA, the only one the test clients trust.
    pub root_pem: String,
    /// Leaf then intermediate, as `fullchain.pem`.
    pub chain_pem: String,
    pub key_pem: String,
    /// The root CA as DER, for clients built on rustls.
    pub root_der: Vec<u8>,
    /// The leaf, to tell which certificate a handshake presented.
    pub leaf_der: Vec<u8>,
}

fn ca(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

/// A fresh root → intermediate → leaf chain for `SERVER_NAME`; the leaf is named `label`.
pub fn chain(label: &str) -> Chain {
    let root_key = KeyPair::generate().expect("root key");
    let root_params = ca("consola test root");
    let root = root_params.self_signed(&root_key).expect("root");
    let root_issuer = Issuer::new(root_params, root_key);

    let intermediate_key = KeyPair::generate().expect("intermediate key");
    let intermediate_params = ca("consola test intermediate");
    let intermediate = intermediate_params
        .signed_by(&intermediate_key, &root_issuer)
        .expect("intermediate");
    let intermediate_issuer = Issuer::new(intermediate_params, intermediate_key);

    let leaf_key = KeyPair::generate().expect("leaf key");
    let mut leaf_params =
        CertificateParams::new(vec![SERVER_NAME.to_string()]).expect("leaf params");
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, label);
    let leaf = leaf_params
        .signed_by(&leaf_key, &intermediate_issuer)
        .expect("leaf");
    Chain {
        root_pem: root.pem(),
        root_der: root.der().to_vec(),
        chain_pem: format!("{}{}", leaf.pem(), intermediate.pem()),
        key_pem: leaf_key.serialize_pem(),
        leaf_der: leaf.der().to_vec(),
    }
}

impl Chain {
    /// Writes `fullchain.pem` and `privkey.pem` into `dir`; returns their paths.
    pub fn write(&self, dir: &Path) -> (PathBuf, PathBuf) {
        std::fs::create_dir_all(dir).expect("tls dir");
        let cert = dir.join("fullchain.pem");
        let key = dir.join("privkey.pem");
        std::fs::write(&cert, &self.chain_pem).expect("write chain");
        std::fs::write(&key, &self.key_pem).expect("write key");
        (cert, key)
    }
}

/// A client that trusts these chains' roots only and finds `SERVER_NAME` at `addr`.
pub fn client(chains: &[&Chain], addr: std::net::SocketAddr) -> reqwest::Client {
    let roots = chains
        .iter()
        .map(|c| reqwest::Certificate::from_pem(c.root_pem.as_bytes()).expect("root"));
    reqwest::Client::builder()
        .tls_certs_only(roots)
        .resolve(SERVER_NAME, addr)
        .tls_info(true)
        .build()
        .expect("client")
}

/// The leaf certificate a response's connection presented.
pub fn presented(response: &reqwest::Response) -> Vec<u8> {
    response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .expect("a TLS response")
        .to_vec()
}

/// The issuer of the HTTPS test servers.
pub const PUBLIC_URL: &str = "https://auth.consola.test";

pub fn tls_config(data: &Path, cert: &Path, key: &Path) -> ServerConfig {
    let mut config = ServerConfig::new(data.to_path_buf(), "127.0.0.1:0".parse().unwrap());
    config.tls = Some(TlsFiles {
        cert: cert.to_path_buf(),
        key: key.to_path_buf(),
    });
    config.service.issuer = Some(PUBLIC_URL.into());
    // The store of the harness that made the account (PostgreSQL in its runs).
    config.database_url = crate::common::database::url_for(data);
    config.system_secret =
        crate::common::database::system_secret_for(config.database_url.as_deref());
    config
}

pub async fn start_tls(data: &Path, tls_dir: &Path, chain: &Chain) -> RunningServer {
    let (cert, key) = chain.write(tls_dir);
    consola::server::start(tls_config(data, &cert, &key))
        .await
        .expect("HTTPS server starts")
}
