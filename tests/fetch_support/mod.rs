//! HTTPS servers on loopback that publish client documents and count the TCP connections
//! they accept and the requests they answer, for the tests of `service::fetch`. Their
//! certificate is self-signed for `localhost`, 127.0.0.1 and ::1.
#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// The document every server publishes at `/doc`.
pub fn document() -> serde_json::Value {
    serde_json::json!({
        "client_id": "https://localhost/doc",
        "client_name": "Cliente de prueba",
        "redirect_uris": ["https://localhost/callback"],
    })
}

/// A self-signed certificate and what serves it.
pub struct Pki {
    pub cert_pem: String,
    acceptor: TlsAcceptor,
}

pub fn pki() -> Pki {
    let rcgen::CertifiedKey { cert, signing_key } = rcgen::generate_simple_self_signed(vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ])
    .expect("certificate");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(signing_key.serialize_der()));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(cert.der().to_vec())], key)
        .expect("server config");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Pki {
        cert_pem: cert.pem(),
        acceptor: TlsAcceptor::from(Arc::new(config)),
    }
}

/// A running document server; it stops when dropped.
pub struct DocServer {
    pub addr: SocketAddr,
    accepts: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DocServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DocServer {
    /// TCP connections accepted so far.
    pub fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }

    /// HTTP requests answered (or being answered) so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// `https://HOST:PORT/PATH`, with this server's port.
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.addr.port())
    }
}

/// Serves on `bind` (`127.0.0.1:0`, `[::1]:0`) with `pki`'s certificate:
/// - `/doc`: the [`document`], no `Cache-Control`;
/// - `/no-store`: the same with `Cache-Control: no-store`;
/// - `/slow-doc`: the same after 300 ms;
/// - `/redirect`: 302 to `redirect_to`;
/// - `/big`: 4096 bytes of a JSON object, with their `Content-Length`;
/// - `/big-chunked`: the same in chunks, without a length;
/// - `/array`: a JSON array; `/not-json`: text;
/// - `/silent`: never answers;
/// - anything else: 404.
pub async fn serve(bind: &str, pki: &Pki, redirect_to: Option<String>) -> DocServer {
    let listener = TcpListener::bind(bind).await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let accepts = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let acceptor = pki.acceptor.clone();
    let redirect_to = Arc::new(redirect_to);
    let task = {
        let accepts = accepts.clone();
        let requests = requests.clone();
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                accepts.fetch_add(1, Ordering::SeqCst);
                let acceptor = acceptor.clone();
                let requests = requests.clone();
                let redirect_to = redirect_to.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(move |request| {
                        requests.fetch_add(1, Ordering::SeqCst);
                        answer(request, redirect_to.clone())
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        })
    };
    DocServer {
        addr,
        accepts,
        requests,
        task,
    }
}

type Body = BoxBody<Bytes, Infallible>;

fn full(status: u16, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::builder().status(status);
    for (name, value) in headers {
        response = response.header(*name, *value);
    }
    response
        .body(Full::new(body.into()).boxed())
        .expect("response")
}

/// A JSON object of exactly `len` bytes.
fn padded_object(len: usize) -> String {
    let mut body = String::from("{\"pad\":\"");
    body.push_str(&"x".repeat(len - body.len() - 2));
    body.push_str("\"}");
    body
}

async fn answer(
    request: Request<Incoming>,
    redirect_to: Arc<Option<String>>,
) -> Result<Response<Body>, Infallible> {
    let json = [("content-type", "application/json")];
    let doc = document().to_string();
    Ok(match request.uri().path() {
        "/doc" => full(200, &json, doc),
        "/no-store" => full(
            200,
            &[
                ("content-type", "application/json"),
                ("cache-control", "no-store"),
            ],
            doc,
        ),
        "/slow-doc" => {
            tokio::time::sleep(Duration::from_millis(300)).await;
            full(200, &json, doc)
        }
        "/redirect" => full(
            302,
            &[("location", redirect_to.as_deref().unwrap_or("/doc"))],
            "",
        ),
        "/big" => full(200, &json, padded_object(4096)),
        "/big-chunked" => {
            let body = padded_object(4096).into_bytes();
            let chunks: Vec<Result<Frame<Bytes>, Infallible>> = body
                .chunks(512)
                .map(|c| Ok(Frame::data(Bytes::copy_from_slice(c))))
                .collect();
            Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(StreamBody::new(futures::stream::iter(chunks)).boxed())
                .expect("response")
        }
        "/array" => full(200, &json, "[1, 2, 3]"),
        "/not-json" => full(200, &[("content-type", "text/plain")], "hola"),
        "/silent" => std::future::pending().await,
        _ => full(404, &[], ""),
    })
}

/// A TCP listener that accepts and then says nothing (not even a TLS handshake), counting
/// its accepts; it stops when dropped.
pub struct Mute {
    pub addr: SocketAddr,
    accepts: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Mute {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Mute {
    pub fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }
}

pub async fn mute() -> Mute {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let accepts = Arc::new(AtomicUsize::new(0));
    let task = {
        let accepts = accepts.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((tcp, _)) = listener.accept().await {
                accepts.fetch_add(1, Ordering::SeqCst);
                // Bounded: a test opens a handful at most.
                if held.len() < 64 {
                    held.push(tcp);
                }
            }
        })
    };
    Mute {
        addr,
        accepts,
        task,
    }
}
