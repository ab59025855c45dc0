//! The fetcher of client documents ignores the environment's proxy: a proxy connects to
//! the address itself, past the resolver's checks. A test binary of its own, with a single
//! test, because it sets `HTTPS_PROXY` in the process's environment before any other
//! thread runs.

mod fetch_support;

use consola::service::fetch::{FetchPolicy, Fetcher};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[test]
fn the_environment_proxy_is_never_used() {
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    proxy.set_nonblocking(true).expect("nonblocking");
    let proxy_url = format!("http://{}", proxy.local_addr().expect("address"));
    // SAFETY: this is the only test of this binary and no runtime exists yet, so no other
    // thread reads the environment meanwhile.
    unsafe {
        for name in ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
            std::env::set_var(name, &proxy_url);
        }
        for name in ["NO_PROXY", "no_proxy"] {
            std::env::remove_var(name);
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let proxied = Arc::new(AtomicUsize::new(0));
        let proxy = tokio::net::TcpListener::from_std(proxy).expect("proxy listener");
        let counter = proxied.clone();
        tokio::spawn(async move {
            // Accept and hang up: a proxy that serves nobody.
            while let Ok((tcp, _)) = proxy.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                drop(tcp);
            }
        });
        let pki = fetch_support::pki();
        let server = fetch_support::serve("127.0.0.1:0", &pki, None).await;
        let url = server.url("localhost", "/doc");

        // The control: a client with the default settings goes through the proxy.
        let root = reqwest::Certificate::from_pem(pki.cert_pem.as_bytes()).expect("root");
        let ordinary = reqwest::Client::builder()
            .tls_certs_merge([root])
            .build()
            .expect("client");
        assert!(ordinary.get(&url).send().await.is_err());
        assert_eq!(proxied.load(Ordering::SeqCst), 1, "the proxy was asked");
        assert_eq!(server.accepts(), 0);

        let fetcher = Fetcher::new(FetchPolicy {
            allow_hosts: vec!["localhost".into()],
            extra_roots_pem: Some(pki.cert_pem.clone().into_bytes()),
            ..FetchPolicy::default()
        })
        .expect("fetcher");
        let value = fetcher.json(&url).await.expect("fetched directly");
        assert_eq!(*value, fetch_support::document());
        assert_eq!(server.accepts(), 1);
        assert_eq!(
            proxied.load(Ordering::SeqCst),
            1,
            "the fetcher went around it"
        );

        // Nor does a refused host get through it.
        let guarded = Fetcher::new(FetchPolicy::default()).expect("fetcher");
        assert!(guarded.json(&url).await.is_err());
        assert_eq!(proxied.load(Ordering::SeqCst), 1);
        assert_eq!(server.accepts(), 1);
    });
}
