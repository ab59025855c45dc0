//! An HTTPS server on loopback that publishes client documents (metadata documents, JWKS)
//! for the tests of what the server fetches.
#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::Full;
use parking_lot::Mutex;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::net::TcpListener;

/// An HTTPS server on loopback, certified for `localhost`, that publishes one JSON
/// document (at any path) with a `Cache-Control` of the test's choice, and counts the
/// connections it accepts.
pub struct Publisher {
    pub port: u16,
    pub cert_pem: String,
    pub document: Arc<Mutex<Value>>,
    pub cache_control: Arc<Mutex<&'static str>>,
    accepts: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Publisher {
    pub async fn start() -> Publisher {
        let rcgen::CertifiedKey { cert, signing_key } =
            rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(signing_key.serialize_der()));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(cert.der().to_vec())], key)
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let document = Arc::new(Mutex::new(Value::Null));
        let cache_control = Arc::new(Mutex::new("no-store"));
        let accepts = Arc::new(AtomicUsize::new(0));
        let task = {
            let (document, accepts) = (document.clone(), accepts.clone());
            let cache_control = cache_control.clone();
            tokio::spawn(async move {
                while let Ok((tcp, _)) = listener.accept().await {
                    accepts.fetch_add(1, Ordering::SeqCst);
                    let (acceptor, document) = (acceptor.clone(), document.clone());
                    let cache_control = cache_control.clone();
                    tokio::spawn(async move {
                        let Ok(tls) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let service =
                            hyper::service::service_fn(move |request: hyper::Request<_>| {
                                // A document whose client_id is "SELF" names the URL it was
                                // fetched from: one publisher then holds many clients.
                                let mut value = document.lock().clone();
                                if value["client_id"] == "SELF" {
                                    value["client_id"] =
                                        format!("https://localhost:{port}{}", request.uri().path())
                                            .into();
                                }
                                let body = value.to_string();
                                let cache_control = *cache_control.lock();
                                async move {
                                    Ok::<_, std::convert::Infallible>(
                                        hyper::Response::builder()
                                            .header("content-type", "application/json")
                                            .header("cache-control", cache_control)
                                            .body(Full::new(Bytes::from(body)))
                                            .unwrap(),
                                    )
                                }
                            });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                            .await;
                    });
                }
            })
        };
        Publisher {
            port,
            cert_pem: cert.pem(),
            document,
            cache_control,
            accepts,
            task,
        }
    }

    /// `https://localhost:PORT/PATH`.
    pub fn url_of(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }

    /// TCP connections accepted so far.
    pub fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }

    /// A server's fetch policy that allows `localhost` and trusts this certificate.
    pub fn trusted_by(&self) -> consola::service::fetch::FetchPolicy {
        consola::service::fetch::FetchPolicy {
            allow_hosts: vec!["localhost".into()],
            extra_roots_pem: Some(self.cert_pem.clone().into_bytes()),
            ..Default::default()
        }
    }
}
