//! The legacy API key on the protected endpoint: Hawk (HMAC-SHA256) with ±60 s of skew,
//! no replayed nonce, full access, every use audited as deprecated.

mod common;
mod oauth_support;

use consola::domain::hawk::{self, HawkRequest};
use consola::domain::*;
use oauth_support::*;

struct Legacy {
    h: Harness,
    key: String,
    secret: String,
}

async fn legacy() -> Legacy {
    let h = start().await;
    let revealed = h.admin.api_key_secret().await.unwrap();
    Legacy {
        key: revealed.key,
        secret: revealed.secret.expose().to_string(),
        h,
    }
}

impl Legacy {
    fn header(&self, secret: &str, ts: i64, nonce: &str, module: &str) -> String {
        let path = format!("/api/v1/modules/{module}/access");
        let (_, value) = hawk::sign(
            &self.key,
            secret,
            ts,
            nonce,
            &HawkRequest {
                method: "GET",
                resource: &path,
                host: "127.0.0.1",
                port: self.h.server.addr.port(),
            },
        );
        value
    }

    async fn call(&self, header: &str, module: &str) -> reqwest::Response {
        raw()
            .get(format!("{}/api/v1/modules/{module}/access", self.h.url()))
            .header("authorization", header)
            .send()
            .await
            .unwrap()
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn a_good_signature_gets_full_access_and_is_audited_as_deprecated() {
    let l = legacy().await;
    let header = l.header(&l.secret, now(), "n-good", "work_orders");
    let response = l.call(&header, "work_orders").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"module": "work_orders", "actions": ["view", "add", "edit", "delete", "report"]})
    );
    // The typed client signs the same way, within the skew (30 s behind here).
    let behind = l.header(&l.secret, now() - 30, "n-behind", "reports");
    assert_eq!(l.call(&behind, "reports").await.status(), 200);
    let secret = consola::domain::secret::SecretText::new(l.secret.clone());
    let access =
        l.h.anon
            .module_access_hawk(&l.key, &secret, "assets")
            .await
            .unwrap();
    assert_eq!(access.actions.len(), 5);

    let log =
        l.h.admin
            .audit(&AuditQuery {
                action: Some(AuditAction::Token),
                ..Default::default()
            })
            .await
            .unwrap();
    let uses: Vec<_> = log
        .items
        .iter()
        .filter(|e| e.module == "API Key" && e.description.contains("deprecado"))
        .collect();
    assert_eq!(uses.len(), 3, "each use is audited");
    for event in &log.items {
        assert!(!event.description.contains(&l.secret));
    }
}

#[tokio::test]
async fn a_bad_mac_is_refused() {
    let l = legacy().await;
    let forged = l.header("consola_ak_otro", now(), "n-bad", "reports");
    let response = l.call(&forged, "reports").await;
    assert_eq!(response.status(), 401);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Hawk")
    );
    // Signed for another module, sent to this one.
    let moved = l.header(&l.secret, now(), "n-moved", "assets");
    assert_eq!(l.call(&moved, "reports").await.status(), 401);
    // A wrong key id.
    let other = Legacy {
        key: "otra-clave".into(),
        secret: l.secret.clone(),
        h: l.h,
    };
    let header = other.header(&other.secret, now(), "n-key", "reports");
    assert_eq!(other.call(&header, "reports").await.status(), 401);

    let log = other
        .h
        .admin
        .audit(&AuditQuery {
            action: Some(AuditAction::Denied),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(log.items.iter().filter(|e| e.module == "API Key").count() >= 3);
}

#[tokio::test]
async fn a_skewed_timestamp_is_refused_with_the_server_time() {
    let l = legacy().await;
    for ts in [now() - 120, now() + 120] {
        let header = l.header(&l.secret, ts, &format!("n-skew{ts}"), "reports");
        let response = l.call(&header, "reports").await;
        assert_eq!(response.status(), 401);
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(challenge.contains("Stale timestamp"), "{challenge}");
        // The server's time comes signed with the shared secret.
        let ts: i64 = challenge
            .split("ts=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!((ts - now()).abs() <= 5);
        assert!(challenge.contains(&hawk::timestamp_mac(&l.secret, ts)));
    }
}

#[tokio::test]
async fn a_replayed_nonce_is_refused() {
    let l = legacy().await;
    let header = l.header(&l.secret, now(), "n-once", "reports");
    assert_eq!(l.call(&header, "reports").await.status(), 200);
    let again = l.call(&header, "reports").await;
    assert_eq!(again.status(), 401);
    let body: serde_json::Value = again.json().await.unwrap();
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("nonce")
    );
}

/// A header built attribute by attribute: a payload hash, an `ext`, another host.
struct Signed<'a> {
    ts: i64,
    nonce: &'a str,
    module: &'a str,
    hash: Option<String>,
    ext: Option<&'a str>,
    host: &'a str,
    port: u16,
}

impl Legacy {
    fn signed(&self, s: Signed<'_>) -> String {
        let path = format!("/api/v1/modules/{}/access", s.module);
        let mut header = hawk::HawkHeader {
            id: self.key.clone(),
            ts: s.ts,
            nonce: s.nonce.into(),
            mac: String::new(),
            hash: s.hash,
            ext: s.ext.map(str::to_string),
        };
        header.mac = hawk::mac(
            &self.secret,
            &header,
            &HawkRequest {
                method: "GET",
                resource: &path,
                host: s.host,
                port: s.port,
            },
        );
        hawk::header_value(&header)
    }

    fn plain(&self, nonce: &'static str) -> Signed<'static> {
        Signed {
            ts: now(),
            nonce,
            module: "reports",
            hash: None,
            ext: None,
            host: "127.0.0.1",
            port: self.h.server.addr.port(),
        }
    }
}

#[tokio::test]
async fn a_request_replayed_after_a_restart_is_refused() {
    let l = legacy().await;
    let header = l.header(&l.secret, now(), "n-restart", "reports");
    assert_eq!(l.call(&header, "reports").await.status(), 200);
    let Legacy { h, key, secret } = l;
    let addr = h.server.addr;
    let Harness { dir, server, .. } = h;
    server.shutdown().await;
    let server = start_server_on(&dir, consola::service::ServiceConfig::default(), addr).await;
    let replay = raw()
        .get(format!("{}/api/v1/modules/reports/access", server.url()))
        .header("authorization", &header)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 401, "the same nonce, inside the window");
    let body: serde_json::Value = replay.json().await.unwrap();
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("nonce")
    );
    // A fresh nonce still passes after the restart.
    let (_, fresh) = hawk::sign(
        &key,
        &secret,
        now(),
        "n-after-restart",
        &HawkRequest {
            method: "GET",
            resource: "/api/v1/modules/reports/access",
            host: "127.0.0.1",
            port: addr.port(),
        },
    );
    let ok = raw()
        .get(format!("{}/api/v1/modules/reports/access", server.url()))
        .header("authorization", fresh)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    server.shutdown().await;
}

#[tokio::test]
async fn a_timestamp_that_would_overflow_the_skew_check_is_stale() {
    let l = legacy().await;
    for ts in [i64::MIN + now(), i64::MIN, i64::MAX] {
        let header = l.signed(Signed {
            ts,
            ..l.plain("n-overflow")
        });
        let response = l.call(&header, "reports").await;
        assert_eq!(response.status(), 401, "ts = {ts}");
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.contains("Stale timestamp"), "{challenge}");
    }
}

#[tokio::test]
async fn a_payload_hash_is_verified_when_present() {
    let l = legacy().await;
    let wrong = l.signed(Signed {
        hash: Some(hawk::payload_hash("text/plain", b"another body")),
        ..l.plain("n-hash-wrong")
    });
    let response = l.call(&wrong, "reports").await;
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["error_description"].as_str().unwrap().contains("hash"));
    // The hash of this GET's empty payload passes.
    let right = l.signed(Signed {
        hash: Some(hawk::payload_hash("", b"")),
        ..l.plain("n-hash-right")
    });
    assert_eq!(l.call(&right, "reports").await.status(), 200);
}

#[tokio::test]
async fn the_scheme_is_matched_in_any_case() {
    let l = legacy().await;
    for (nonce, scheme) in [("n-lower", "hawk"), ("n-upper", "HAWK")] {
        let header = l.signed(l.plain(nonce));
        let header = header.replacen("Hawk", scheme, 1);
        assert_eq!(l.call(&header, "reports").await.status(), 200, "{scheme}");
    }
}

#[tokio::test]
async fn an_ipv6_host_without_a_port_is_signed_as_sent() {
    let l = legacy().await;
    let header = l.signed(Signed {
        host: "[::1]",
        port: 80,
        ..l.plain("n-ipv6")
    });
    let response = raw()
        .get(format!("{}/api/v1/modules/reports/access", l.h.url()))
        .header("host", "[::1]")
        .header("authorization", header)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_quoted_ext_with_a_comma_is_accepted() {
    let l = legacy().await;
    let header = l.signed(Signed {
        ext: Some("app=consola, build=7"),
        ..l.plain("n-ext")
    });
    assert_eq!(l.call(&header, "reports").await.status(), 200);
}
