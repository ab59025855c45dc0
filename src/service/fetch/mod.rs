//! Fetches the JSON documents that clients publish and name by URL: OAuth Client ID
//! Metadata Documents (the `client_id` is an HTTPS URL) and a `private_key_jwt` client's
//! `jwks_uri`. The URL comes from whoever sends a request, so the fetch is built not to be
//! a way into the server's own network (SSRF): HTTPS only, no redirects, no proxies, and a
//! connection only to an address that is public once the name is resolved ([`address`]),
//! unless the administrator allowed the host. Each fetch is bounded in time and size,
//! throttled per host, and its document kept while its `Cache-Control` allows ([`cache`]).

pub mod address;
mod cache;
mod per_host;
mod resolver;

pub use address::AddressKind;

use cache::Cache;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use parking_lot::Mutex;
use per_host::PerHostLimit;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::{Host, Url};

/// Longest URL fetched: longer ones are refused before any work (they would be cache and
/// throttle keys).
pub const MAX_URL_LENGTH: usize = 2048;

/// What the fetcher may do.
#[derive(Debug, Clone)]
pub struct FetchPolicy {
    /// Hosts (names or IP literals, as written in URLs, compared case-insensitively) that
    /// may resolve to loopback, private or any other refused address:
    /// `--client-metadata-allow`. Empty by default.
    pub allow_hosts: Vec<String>,
    /// Extra trusted root certificates (PEM), beside the system's: `--client-metadata-ca`.
    pub extra_roots_pem: Option<Vec<u8>>,
    /// The whole request: resolving, connecting, TLS, and reading the body.
    pub timeout: Duration,
    /// Largest body read; a longer one is refused.
    pub max_bytes: usize,
    /// Most documents kept at once.
    pub cache_entries: usize,
    /// Network fetches per host per minute (at least one); documents served from the
    /// cache do not count.
    pub per_host_per_minute: u32,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            allow_hosts: Vec::new(),
            extra_roots_pem: None,
            timeout: Duration::from_secs(5),
            max_bytes: 64 * 1024,
            cache_entries: 1024,
            per_host_per_minute: 30,
        }
    }
}

/// What is wrong with a URL, before any network work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlProblem {
    /// Not a URL at all.
    Unparsable,
    /// Another scheme than `https`.
    NotHttps,
    /// No host to connect to.
    NoHost,
    /// A user or a password before the host.
    UserInfo,
    /// A `#` part: a document's URL has none.
    Fragment,
    /// Longer than [`MAX_URL_LENGTH`].
    TooLong,
}

impl fmt::Display for UrlProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlProblem::Unparsable => f.write_str("no es válida"),
            UrlProblem::NotHttps => f.write_str("debe empezar por https://"),
            UrlProblem::NoHost => f.write_str("no nombra ningún servidor"),
            UrlProblem::UserInfo => f.write_str("no puede llevar usuario ni contraseña"),
            UrlProblem::Fragment => f.write_str("no puede llevar fragmento (#)"),
            UrlProblem::TooLong => write!(f, "supera {MAX_URL_LENGTH} caracteres"),
        }
    }
}

/// Why a document was not fetched. The message names the host and the reason, never the
/// body, and may be shown to the client that published the URL or to an administrator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Not an `https://` URL with a host and without user, password or fragment.
    #[error("La URL {0}")]
    InvalidUrl(UrlProblem),
    /// The address is not public (see [`AddressKind`]) and the host is not allowed: no
    /// connection was attempted. `name` is the host name that resolved to it, `None` for
    /// an IP literal.
    #[error("{}", refused(name.as_deref(), address, kind))]
    RefusedAddress {
        name: Option<String>,
        address: IpAddr,
        kind: AddressKind,
    },
    /// The name has no address.
    #[error("No se encontró la dirección de {host}")]
    Unresolved { host: String },
    /// No HTTPS connection: refused, reset, or a certificate that is not trusted.
    #[error("No se pudo establecer una conexión HTTPS con {host}")]
    Connect { host: String },
    /// The whole request took longer than the policy's timeout.
    #[error("{host} no respondió a tiempo")]
    Timeout { host: String },
    /// A 3xx: redirects are never followed.
    #[error("{host} respondió con una redirección ({status}); no se siguen redirecciones")]
    Redirect { host: String, status: u16 },
    /// Any other status than 200.
    #[error("{host} respondió {status} en lugar de 200")]
    Status { host: String, status: u16 },
    /// The body ended early or broke off.
    #[error("Se interrumpió la respuesta de {host}")]
    Interrupted { host: String },
    /// The body is longer than the policy's `max_bytes`.
    #[error("El documento de {host} supera {limit} bytes")]
    TooLarge { host: String, limit: usize },
    /// The body is not a JSON object.
    #[error("El documento de {host} no es un objeto JSON")]
    NotJsonObject { host: String },
    /// The host had its fetches for this minute.
    #[error("Demasiadas descargas de {host}; reintente en {retry_after} s")]
    Throttled { host: String, retry_after: u64 },
    /// The policy cannot be put in force (a bad PEM, a bad allowed host).
    #[error("{0}")]
    Setup(String),
}

fn refused(name: Option<&str>, address: &IpAddr, kind: &AddressKind) -> String {
    match name {
        // The address a name resolved to is not said: it would tell a client how the
        // server's network names its hosts. The log has it.
        Some(name) => format!("{name} resuelve a una dirección {kind}"),
        None => format!("La dirección {address} es {kind}"),
    }
}

/// A host as the allow list, the throttle and the resolver compare it: a name in lower
/// case and in ASCII (IDNA), an IP address in its canonical form without brackets.
fn host_key<S: AsRef<str>>(host: &Host<S>) -> String {
    match host {
        Host::Domain(name) => name.as_ref().to_ascii_lowercase(),
        Host::Ipv4(ip) => ip.to_string(),
        Host::Ipv6(ip) => ip.to_string(),
    }
}

/// A URL that passed every check that needs no network.
struct Target {
    url: Url,
    /// As [`host_key`] writes it.
    host: String,
}

/// Checks `text` as a document's URL; `allowed` are the hosts that may be anything.
fn target(text: &str, allowed: &HashSet<String>) -> Result<Target, FetchError> {
    if text.len() > MAX_URL_LENGTH {
        return Err(FetchError::InvalidUrl(UrlProblem::TooLong));
    }
    let url = Url::parse(text).map_err(|_| FetchError::InvalidUrl(UrlProblem::Unparsable))?;
    if url.scheme() != "https" {
        return Err(FetchError::InvalidUrl(UrlProblem::NotHttps));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FetchError::InvalidUrl(UrlProblem::UserInfo));
    }
    if url.fragment().is_some() {
        return Err(FetchError::InvalidUrl(UrlProblem::Fragment));
    }
    let Some(host) = url.host() else {
        return Err(FetchError::InvalidUrl(UrlProblem::NoHost));
    };
    let key = host_key(&host);
    // An IP literal never reaches the resolver: it is checked here.
    let literal = match host {
        Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        Host::Domain(_) => None,
    };
    if let Some(address) = literal
        && !allowed.contains(&key)
    {
        let kind = address::classify(address);
        if !kind.is_public() {
            return Err(FetchError::RefusedAddress {
                name: None,
                address,
                kind,
            });
        }
    }
    Ok(Target { url, host: key })
}

/// The error a failed request stands for: the resolver's own when it refused (it travels
/// inside the client's error), otherwise what kind of failure it was.
fn request_failed(host: &str, err: &reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(own) = e.downcast_ref::<FetchError>() {
            return own.clone();
        }
        source = e.source();
    }
    let host = host.to_string();
    if err.is_timeout() {
        FetchError::Timeout { host }
    } else if err.is_body() || err.is_decode() {
        FetchError::Interrupted { host }
    } else {
        FetchError::Connect { host }
    }
}

/// What a fetch ends with, shared by everyone waiting for it.
type Outcome = Result<Arc<Value>, FetchError>;
/// A fetch under way, which any number of requests may await.
type Pending = Shared<BoxFuture<'static, Outcome>>;

/// What the clones of one [`Fetcher`] share.
struct Inner {
    http: reqwest::Client,
    timeout: Duration,
    max_bytes: usize,
    allowed: Arc<HashSet<String>>,
    cache: Mutex<Cache>,
    per_host: PerHostLimit,
    /// Fetches under way, by URL: a second request for the same URL waits for the first.
    pending: Mutex<HashMap<String, Pending>>,
}

/// Fetches client documents under a [`FetchPolicy`]. Cheap to clone: clones share the
/// client, the cache and the throttle.
#[derive(Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

impl Fetcher {
    /// A fetcher under `policy`; a bad allowed host or extra root stops it here, so that
    /// `serve` can name the flag at start.
    pub fn new(policy: FetchPolicy) -> Result<Fetcher, FetchError> {
        let mut allowed = HashSet::new();
        for host in &policy.allow_hosts {
            let parsed = Host::parse(host.trim()).map_err(|_| {
                FetchError::Setup(format!(
                    "«{}» no es un nombre de servidor ni una dirección IP válida",
                    host.trim()
                ))
            })?;
            allowed.insert(host_key(&parsed));
        }
        let allowed = Arc::new(allowed);
        let mut builder = reqwest::Client::builder()
            .dns_resolver(resolver::GuardedResolver {
                allowed: allowed.clone(),
            })
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment would connect to the address itself, past the
            // resolver's checks.
            .no_proxy()
            .https_only(true)
            .retry(reqwest::retry::never())
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout)
            // No connection is kept open to a host a client chose.
            .pool_max_idle_per_host(0)
            .referer(false)
            .user_agent(concat!("consola/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &policy.extra_roots_pem {
            let roots = reqwest::Certificate::from_pem_bundle(pem).map_err(|_| {
                FetchError::Setup("Los certificados raíz adicionales no son un PEM válido".into())
            })?;
            if roots.is_empty() {
                return Err(FetchError::Setup(
                    "Los certificados raíz adicionales no contienen ningún certificado \
                     (BEGIN CERTIFICATE)"
                        .into(),
                ));
            }
            builder = builder.tls_certs_merge(roots);
        }
        let http = builder.build().map_err(|err| {
            tracing::warn!(error = %err, "client document fetcher not built");
            FetchError::Setup("No se pudo preparar el cliente HTTPS de documentos".into())
        })?;
        Ok(Fetcher {
            inner: Arc::new(Inner {
                http,
                timeout: policy.timeout,
                max_bytes: policy.max_bytes,
                allowed,
                cache: Mutex::new(Cache::new(policy.cache_entries, cache::MEMORY_BUDGET)),
                per_host: PerHostLimit::new(policy.per_host_per_minute, per_host::MAX_HOSTS),
                pending: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// GETs `url` as JSON (`Accept: application/json`), from the cache while fresh. The
    /// document must be a JSON object.
    pub async fn json(&self, url: &str) -> Result<Arc<Value>, FetchError> {
        let target = target(url, &self.inner.allowed).inspect_err(|err| {
            tracing::warn!(reason = %err, "client document refused");
        })?;
        let key = target.url.as_str().to_string();
        if let Some(value) = self.inner.cache.lock().get(&key, Instant::now()) {
            return Ok(value);
        }
        let pending = {
            let mut pending = self.inner.pending.lock();
            pending
                .entry(key.clone())
                .or_insert_with(|| {
                    let inner = self.inner.clone();
                    async move { inner.fetch(target).await }.boxed().shared()
                })
                .clone()
        };
        let _leave = Leave {
            pending: &self.inner.pending,
            key: &key,
            fetch: &pending,
        };
        pending.clone().await
    }

    /// Drops the document kept for `url` (a key set that lacks a `kid` just seen), so that
    /// the next [`Fetcher::json`] fetches it again, within the per-host throttle.
    pub fn forget(&self, url: &str) {
        if let Ok(target) = target(url, &self.inner.allowed) {
            self.inner.cache.lock().remove(target.url.as_str());
        }
    }
}

/// Takes a finished (or abandoned) fetch off the map of those under way, unless a newer
/// one took its place; also when the caller gives up waiting.
struct Leave<'a> {
    pending: &'a Mutex<HashMap<String, Pending>>,
    key: &'a str,
    fetch: &'a Pending,
}

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        let mut pending = self.pending.lock();
        if pending
            .get(self.key)
            .is_some_and(|p| Shared::ptr_eq(p, self.fetch))
        {
            pending.remove(self.key);
        }
    }
}

impl Inner {
    /// One network fetch of `target`, counted by its host's throttle, kept when fresh.
    async fn fetch(self: Arc<Self>, target: Target) -> Outcome {
        let host = target.host.clone();
        if let Err(retry_after) = self.per_host.take(&host, Instant::now()) {
            tracing::warn!(%host, retry_after, "client document: host throttled");
            return Err(FetchError::Throttled { host, retry_after });
        }
        let outcome = match tokio::time::timeout(self.timeout, self.download(&target)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(FetchError::Timeout { host: host.clone() }),
        };
        match outcome {
            Ok((value, bytes, lifetime)) => {
                let value = Arc::new(value);
                tracing::debug!(
                    %host,
                    bytes,
                    kept_seconds = lifetime.map_or(0, |l| l.as_secs()),
                    "client document fetched"
                );
                if let Some(lifetime) = lifetime {
                    let now = Instant::now();
                    self.cache.lock().insert(
                        target.url.as_str(),
                        value.clone(),
                        now + lifetime,
                        now,
                    );
                }
                Ok(value)
            }
            Err(err) => {
                tracing::warn!(%host, reason = %err, "client document not fetched");
                Err(err)
            }
        }
    }

    /// The request itself: the document, its length and how long it may be kept.
    async fn download(
        &self,
        target: &Target,
    ) -> Result<(Value, usize, Option<Duration>), FetchError> {
        let host = || target.host.clone();
        let mut response = self
            .http
            .get(target.url.clone())
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|err| {
                tracing::debug!(host = %target.host, error = %err, "client document request failed");
                request_failed(&target.host, &err)
            })?;
        let status = response.status();
        if status.is_redirection() {
            return Err(FetchError::Redirect {
                host: host(),
                status: status.as_u16(),
            });
        }
        if status != reqwest::StatusCode::OK {
            return Err(FetchError::Status {
                host: host(),
                status: status.as_u16(),
            });
        }
        let too_large = || FetchError::TooLarge {
            host: host(),
            limit: self.max_bytes,
        };
        if response
            .content_length()
            .is_some_and(|length| length > self.max_bytes as u64)
        {
            return Err(too_large());
        }
        let header = |name| {
            let values: Vec<&str> = response
                .headers()
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            (!values.is_empty()).then(|| values.join(","))
        };
        let lifetime = cache::lifetime(
            header(http::header::CACHE_CONTROL).as_deref(),
            header(http::header::AGE).as_deref(),
        );
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| request_failed(&target.host, &err))?
        {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        let value: Value = serde_json::from_slice(&body)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| FetchError::NotJsonObject { host: host() })?;
        Ok((value, body.len(), lifetime))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str) -> Result<String, FetchError> {
        target(url, &HashSet::new()).map(|t| t.host)
    }

    #[test]
    fn only_https_urls_with_a_host_and_nothing_else_pass() {
        let cases = [
            ("http://client.example/doc", UrlProblem::NotHttps),
            ("ftp://client.example/doc", UrlProblem::NotHttps),
            ("file:///etc/passwd", UrlProblem::NotHttps),
            ("client.example/doc", UrlProblem::Unparsable),
            ("https://", UrlProblem::Unparsable),
            ("", UrlProblem::Unparsable),
            ("https://user@client.example/doc", UrlProblem::UserInfo),
            ("https://user:pw@client.example/doc", UrlProblem::UserInfo),
            ("https://:pw@client.example/doc", UrlProblem::UserInfo),
            ("https://client.example/doc#frag", UrlProblem::Fragment),
            ("https://client.example/doc#", UrlProblem::Fragment),
        ];
        for (url, problem) in cases {
            assert_eq!(check(url), Err(FetchError::InvalidUrl(problem)), "{url}");
        }
        let long = format!("https://client.example/{}", "a".repeat(MAX_URL_LENGTH));
        assert_eq!(
            check(&long),
            Err(FetchError::InvalidUrl(UrlProblem::TooLong))
        );
        assert_eq!(
            check("HTTPS://Client.EXAMPLE:8443/doc?x=1").unwrap(),
            "client.example"
        );
        assert_eq!(check("https://[2606:4700::1]/doc").unwrap(), "2606:4700::1");
        assert_eq!(check("https://93.184.215.14/doc").unwrap(), "93.184.215.14");
    }

    /// IP literals are judged before any request, in every spelling the URL parser reads
    /// as an address.
    #[test]
    fn ip_literals_are_refused_before_any_request() {
        for (url, want) in [
            ("https://127.0.0.1/", "127.0.0.1"),
            ("https://127.1/", "127.0.0.1"),
            ("https://0x7f.0.0.1/", "127.0.0.1"),
            ("https://2130706433/", "127.0.0.1"),
            ("https://0177.0.0.1/", "127.0.0.1"),
            ("https://[::ffff:7f00:1]/", "::ffff:127.0.0.1"),
            ("https://[::1]/", "::1"),
            (
                "https://169.254.169.254/latest/meta-data/",
                "169.254.169.254",
            ),
        ] {
            match check(url) {
                Err(FetchError::RefusedAddress {
                    name: None,
                    address,
                    ..
                }) => assert_eq!(address.to_string(), want, "{url}"),
                other => panic!("{url}: {other:?}"),
            }
        }
        let allowed = HashSet::from(["127.0.0.1".to_string(), "::1".to_string()]);
        assert!(target("https://127.0.0.1:8443/doc", &allowed).is_ok());
        assert!(target("https://[::1]/doc", &allowed).is_ok());
        assert!(target("https://127.0.0.2/doc", &allowed).is_err());
    }

    #[test]
    fn messages_say_the_reason_in_spanish() {
        let literal = FetchError::RefusedAddress {
            name: None,
            address: "10.0.0.1".parse().unwrap(),
            kind: AddressKind::Private,
        };
        assert_eq!(literal.to_string(), "La dirección 10.0.0.1 es privada");
        let named = FetchError::RefusedAddress {
            name: Some("interno.example".into()),
            address: "10.0.0.1".parse().unwrap(),
            kind: AddressKind::Private,
        };
        assert_eq!(
            named.to_string(),
            "interno.example resuelve a una dirección privada"
        );
        assert_eq!(
            FetchError::InvalidUrl(UrlProblem::NotHttps).to_string(),
            "La URL debe empezar por https://"
        );
        assert_eq!(
            FetchError::Throttled {
                host: "a.example".into(),
                retry_after: 42
            }
            .to_string(),
            "Demasiadas descargas de a.example; reintente en 42 s"
        );
    }

    #[test]
    fn allowed_hosts_are_read_as_urls_write_them() {
        let fetcher = Fetcher::new(FetchPolicy {
            allow_hosts: vec![
                "LocalHost".into(),
                " [::1] ".into(),
                "127.0.0.1".into(),
                "Bücher.example".into(),
            ],
            ..FetchPolicy::default()
        })
        .unwrap();
        let allowed = &fetcher.inner.allowed;
        for host in ["localhost", "::1", "127.0.0.1", "xn--bcher-kva.example"] {
            assert!(allowed.contains(host), "{host} in {allowed:?}");
        }
        assert!(matches!(
            Fetcher::new(FetchPolicy {
                allow_hosts: vec!["a b".into()],
                ..FetchPolicy::default()
            }),
            Err(FetchError::Setup(_))
        ));
    }

    #[test]
    fn bad_extra_roots_stop_the_fetcher_at_start() {
        for pem in [&b"not a pem"[..], b""] {
            let err = Fetcher::new(FetchPolicy {
                extra_roots_pem: Some(pem.to_vec()),
                ..FetchPolicy::default()
            })
            .err()
            .expect("refused");
            assert!(matches!(err, FetchError::Setup(_)), "{err:?}");
        }
    }
}
