//! The fetcher of the documents clients publish (`service::fetch`), against real HTTPS
//! servers on loopback that count the connections they accept: every refused URL is
//! refused before a connection reaches any server, an allowed host is fetched, and the
//! limits (redirects, size, time, cache, per-host throttle) hold.

mod fetch_support;

use consola::service::fetch::{AddressKind, FetchError, FetchPolicy, Fetcher};
use fetch_support::{Pki, document, mute, pki, serve};
use std::time::{Duration, Instant};

/// A policy that trusts `pki` and lets `hosts` be loopback.
fn allowing(pki: &Pki, hosts: &[&str]) -> FetchPolicy {
    FetchPolicy {
        allow_hosts: hosts.iter().map(|h| h.to_string()).collect(),
        extra_roots_pem: Some(pki.cert_pem.clone().into_bytes()),
        ..FetchPolicy::default()
    }
}

fn fetcher(policy: FetchPolicy) -> Fetcher {
    Fetcher::new(policy).expect("fetcher")
}

/// The refusal of a loopback address, by name or literally.
fn assert_loopback(outcome: Result<impl std::fmt::Debug, FetchError>, name: Option<&str>) {
    match outcome {
        Err(FetchError::RefusedAddress {
            name: refused_name,
            kind: AddressKind::Loopback,
            ..
        }) => assert_eq!(refused_name.as_deref(), name),
        other => panic!("expected a refused loopback address, got {other:?}"),
    }
}

#[tokio::test]
async fn loopback_by_name_or_literal_is_refused_without_a_connection() {
    let pki = pki();
    let v4 = serve("127.0.0.1:0", &pki, None).await;
    let v6 = serve("[::1]:0", &pki, None).await;
    // The certificate is trusted: only the address check stands in the way.
    let guarded = fetcher(FetchPolicy {
        extra_roots_pem: Some(pki.cert_pem.clone().into_bytes()),
        ..FetchPolicy::default()
    });

    let refused = guarded.json(&v4.url("localhost", "/doc")).await;
    assert_loopback(refused, Some("localhost"));
    let refused = guarded.json(&v6.url("localhost", "/doc")).await;
    assert_loopback(refused, Some("localhost"));
    assert_loopback(guarded.json(&v4.url("127.0.0.1", "/doc")).await, None);
    assert_loopback(guarded.json(&v6.url("[::1]", "/doc")).await, None);
    assert_loopback(
        guarded.json(&v4.url("[::ffff:127.0.0.1]", "/doc")).await,
        None,
    );
    assert_loopback(guarded.json(&v4.url("127.1", "/doc")).await, None);
    assert_eq!((v4.accepts(), v6.accepts()), (0, 0), "no connection made");

    // The message names the host, not the address it resolved to.
    let message = guarded
        .json(&v4.url("LOCALHOST", "/doc"))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        "localhost resuelve a una dirección de bucle local (loopback)"
    );
    assert_eq!((v4.accepts(), v6.accepts()), (0, 0));
}

#[tokio::test]
async fn an_allowed_host_with_its_root_is_fetched() {
    let pki = pki();
    let v4 = serve("127.0.0.1:0", &pki, None).await;
    let v6 = serve("[::1]:0", &pki, None).await;
    let allowed = fetcher(allowing(&pki, &["LocalHost", "[::1]"]));
    let value = allowed.json(&v4.url("localhost", "/doc")).await.unwrap();
    assert_eq!(*value, document());
    assert_eq!(v4.accepts(), 1);
    let value = allowed.json(&v6.url("[::1]", "/doc")).await.unwrap();
    assert_eq!(*value, document());
    assert_eq!(v6.accepts(), 1);
    // Allowing a name allows neither its address written out nor another loopback name.
    assert_loopback(allowed.json(&v4.url("127.0.0.1", "/doc")).await, None);
    assert_eq!(v4.accepts(), 1);

    // Without the extra root, the self-signed certificate is not trusted.
    let untrusting = fetcher(FetchPolicy {
        allow_hosts: vec!["localhost".into()],
        ..FetchPolicy::default()
    });
    let refused = untrusting.json(&v4.url("localhost", "/doc")).await;
    assert!(
        matches!(&refused, Err(FetchError::Connect { host }) if host == "localhost"),
        "{refused:?}"
    );
    assert_eq!(
        refused.unwrap_err().to_string(),
        "No se pudo establecer una conexión HTTPS con localhost"
    );
}

#[tokio::test]
async fn only_https_is_fetched() {
    let pki = pki();
    let server = serve("127.0.0.1:0", &pki, None).await;
    let allowed = fetcher(allowing(&pki, &["localhost"]));
    let port = server.addr.port();
    for url in [
        format!("http://localhost:{port}/doc"),
        format!("ws://localhost:{port}/doc"),
        format!("https://user:pw@localhost:{port}/doc"),
        format!("https://localhost:{port}/doc#x"),
        "localhost/doc".to_string(),
    ] {
        let refused = allowed.json(&url).await;
        assert!(
            matches!(refused, Err(FetchError::InvalidUrl(_))),
            "{url}: {refused:?}"
        );
    }
    assert_eq!(
        allowed
            .json(&format!("http://localhost:{port}/doc"))
            .await
            .unwrap_err()
            .to_string(),
        "La URL debe empezar por https://"
    );
    assert_eq!(server.accepts(), 0);
}

#[tokio::test]
async fn a_redirect_is_refused_and_its_target_never_contacted() {
    let pki = pki();
    let target = serve("127.0.0.1:0", &pki, None).await;
    let redirecting = serve("127.0.0.1:0", &pki, Some(target.url("localhost", "/doc"))).await;
    let allowed = fetcher(allowing(&pki, &["localhost"]));
    let refused = allowed
        .json(&redirecting.url("localhost", "/redirect"))
        .await;
    assert_eq!(
        refused,
        Err(FetchError::Redirect {
            host: "localhost".into(),
            status: 302
        })
    );
    assert_eq!(redirecting.accepts(), 1);
    assert_eq!(target.accepts(), 0, "the redirect was not followed");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused() {
    let pki = pki();
    let server = serve("127.0.0.1:0", &pki, None).await;
    let small = fetcher(FetchPolicy {
        max_bytes: 1024,
        ..allowing(&pki, &["localhost"])
    });
    let too_large = Err(FetchError::TooLarge {
        host: "localhost".into(),
        limit: 1024,
    });
    // Announced by its Content-Length, and only found out while reading.
    assert_eq!(
        small.json(&server.url("localhost", "/big")).await,
        too_large
    );
    assert_eq!(
        small.json(&server.url("localhost", "/big-chunked")).await,
        too_large
    );
    assert!(small.json(&server.url("localhost", "/doc")).await.is_ok());
    // The same documents fit the default limit.
    let default = fetcher(allowing(&pki, &["localhost"]));
    for path in ["/big", "/big-chunked"] {
        let value = default.json(&server.url("localhost", path)).await.unwrap();
        assert_eq!(
            value["pad"].as_str().map(str::len),
            Some(4096 - 10),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let pki = pki();
    let server = serve("127.0.0.1:0", &pki, None).await;
    let silent_tcp = mute().await;
    let quick = fetcher(FetchPolicy {
        timeout: Duration::from_millis(300),
        ..allowing(&pki, &["localhost"])
    });
    let timeout = Err(FetchError::Timeout {
        host: "localhost".into(),
    });
    // No answer to the request…
    let started = Instant::now();
    assert_eq!(
        quick.json(&server.url("localhost", "/silent")).await,
        timeout
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.accepts(), 1);
    // …nor to the TLS handshake.
    let started = Instant::now();
    let url = format!("https://localhost:{}/doc", silent_tcp.addr.port());
    assert_eq!(quick.json(&url).await, timeout);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(silent_tcp.accepts(), 1);
}

#[tokio::test]
async fn a_fresh_document_comes_from_the_cache_until_forgotten() {
    let pki = pki();
    let server = serve("127.0.0.1:0", &pki, None).await;
    let allowed = fetcher(allowing(&pki, &["localhost"]));
    let url = server.url("localhost", "/doc");
    let first = allowed.json(&url).await.unwrap();
    let second = allowed.json(&url).await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &second), "the same document");
    // A clone shares the cache.
    assert_eq!(*allowed.clone().json(&url).await.unwrap(), document());
    assert_eq!((server.accepts(), server.requests()), (1, 1));
    allowed.forget(&url);
    assert_eq!(*allowed.json(&url).await.unwrap(), document());
    assert_eq!((server.accepts(), server.requests()), (2, 2));
}

#[tokio::test]
async fn no_store_is_fetched_every_time() {
    let pki = pki();
    let server = serve("127.0.0.1:0", &pki, None).await;
    let allowed = fetcher(allowing(&pki, &["localhost"]));
    for _ in 0..3 {
        let value = allowed.json(&server.url("localhost", "/no-store")).await;
        assert_eq!(*value.unwrap(), document());
    }
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn concurrent_requests_for_one_url_share_one_fetch() {
    let pki = pki();
    let server = serve("127.0.0.1:0", &pki, None).await;
    let allowed = fetcher(allowing(&pki, &["localhost"]));
    let url = server.url("localhost", "/slow-doc");
    let fetches = (0..5).map(|_| {
        let allowed = allowed.clone();
        let url = url.clone();
        async move { allowed.json(&url).await }
    });
    for outcome in futures::future::join_all(fetches).await {
        assert_eq!(*outcome.unwrap(), document());
    }
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn the_per_host_throttle_counts_network_fetches_only() {
    let pki = pki();
    let server = serve("127.0.0.1:0", &pki, None).await;
    let throttled = fetcher(FetchPolicy {
        per_host_per_minute: 2,
        ..allowing(&pki, &["localhost", "127.0.0.1"])
    });
    // One network fetch, then cache hits that cost nothing.
    for _ in 0..5 {
        assert!(
            throttled
                .json(&server.url("localhost", "/doc"))
                .await
                .is_ok()
        );
    }
    assert!(
        throttled
            .json(&server.url("localhost", "/no-store"))
            .await
            .is_ok()
    );
    assert_eq!(server.requests(), 2);
    match throttled.json(&server.url("localhost", "/no-store")).await {
        Err(FetchError::Throttled { host, retry_after }) => {
            assert_eq!(host, "localhost");
            assert!((1..=60).contains(&retry_after), "{retry_after}");
        }
        other => panic!("expected a throttled fetch, got {other:?}"),
    }
    // Forgetting a document does not get around the throttle.
    throttled.forget(&server.url("localhost", "/doc"));
    assert!(matches!(
        throttled.json(&server.url("localhost", "/doc")).await,
        Err(FetchError::Throttled { .. })
    ));
    assert_eq!(server.requests(), 2, "nothing sent once throttled");
    // Another host has its own count.
    assert!(
        throttled
            .json(&server.url("127.0.0.1", "/no-store"))
            .await
            .is_ok()
    );
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn only_a_200_with_a_json_object_is_a_document() {
    let pki = pki();
    let server = serve("127.0.0.1:0", &pki, None).await;
    let allowed = fetcher(allowing(&pki, &["localhost"]));
    let host = || "localhost".to_string();
    assert_eq!(
        allowed.json(&server.url("localhost", "/missing")).await,
        Err(FetchError::Status {
            host: host(),
            status: 404
        })
    );
    for path in ["/array", "/not-json"] {
        assert_eq!(
            allowed.json(&server.url("localhost", path)).await,
            Err(FetchError::NotJsonObject { host: host() }),
            "{path}"
        );
    }
}

/// Private, link-local, metadata, shared and unspecified addresses written in the URL are
/// refused as addresses, before any connection: a connection attempt would end in another
/// error (nothing listens there from this machine), and quickly.
#[tokio::test]
async fn literal_private_addresses_are_refused_as_addresses() {
    let guarded = fetcher(FetchPolicy {
        timeout: Duration::from_secs(2),
        ..FetchPolicy::default()
    });
    let cases = [
        ("10.0.0.1", AddressKind::Private),
        ("192.168.1.1", AddressKind::Private),
        ("172.16.0.1", AddressKind::Private),
        ("169.254.169.254", AddressKind::CloudMetadata),
        ("[fd00:ec2::254]", AddressKind::CloudMetadata),
        ("100.100.100.200", AddressKind::CloudMetadata),
        ("[fd00::1]", AddressKind::Private),
        ("[fe80::1]", AddressKind::LinkLocal),
        ("[::ffff:127.0.0.1]", AddressKind::Loopback),
        ("[::ffff:10.0.0.1]", AddressKind::Private),
        ("[64:ff9b::a00:1]", AddressKind::Private),
        ("[2002:a9fe:a9fe::]", AddressKind::CloudMetadata),
        ("100.64.0.1", AddressKind::Shared),
        ("0.0.0.0", AddressKind::Unspecified),
        ("[::]", AddressKind::Unspecified),
        ("255.255.255.255", AddressKind::Broadcast),
        ("224.0.0.1", AddressKind::Multicast),
        ("192.0.2.1", AddressKind::Documentation),
        ("198.18.0.1", AddressKind::Benchmarking),
        ("240.0.0.1", AddressKind::Reserved),
    ];
    let started = Instant::now();
    for (host, want) in cases {
        match guarded
            .json(&format!("https://{host}/.well-known/doc"))
            .await
        {
            Err(FetchError::RefusedAddress {
                name: None, kind, ..
            }) => assert_eq!(kind, want, "{host}"),
            other => panic!("{host}: expected a refused address, got {other:?}"),
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "refused without waiting on any network: {:?}",
        started.elapsed()
    );
    assert_eq!(
        guarded
            .json("https://10.0.0.1/doc")
            .await
            .unwrap_err()
            .to_string(),
        "La dirección 10.0.0.1 es privada"
    );
}

/// Nothing listening is a connection error, named by the host.
#[tokio::test]
async fn a_closed_port_is_a_connect_error() {
    let pki = pki();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let allowed = fetcher(allowing(&pki, &["localhost"]));
    assert_eq!(
        allowed.json(&format!("https://localhost:{port}/doc")).await,
        Err(FetchError::Connect {
            host: "localhost".into()
        })
    );
}
