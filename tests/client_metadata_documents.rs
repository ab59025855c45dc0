//! Clients named by their Client ID Metadata Document: an authorization request whose
//! `client_id` is an HTTPS URL makes the server fetch the document there, check it (its
//! `client_id` is that URL, its redirect URIs exact), and keep the client as a public,
//! self-registered consumer: pending until approved under `approval`, straight in under
//! `open`, never fetched under `off` or from the server's own network unless allowed.

mod common;
mod oauth_support;
mod publisher;

use consola::domain::oauth::pkce_s256;
use consola::domain::registration::*;
use consola::domain::*;
use consola::service::ServiceConfig;
use oauth_support::*;
use publisher::Publisher;
use serde_json::{Value, json};
use std::collections::HashMap;

const CALLBACK: &str = "http://127.0.0.1:9/callback";

/// The client document at `/client.json`, naming itself.
fn publish(publisher: &Publisher, redirect_uris: &[&str]) {
    *publisher.document.lock() = json!({
        "client_id": publisher.url_of("/client.json"),
        "client_name": "Cursor",
        "redirect_uris": redirect_uris,
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
    });
}

/// A server that may fetch from `localhost` and trusts the publisher's certificate.
async fn start_trusting(publisher: &Publisher) -> Harness {
    start_with(ServiceConfig {
        client_documents: publisher.trusted_by(),
        ..ServiceConfig::default()
    })
    .await
}

async fn set_policy(h: &Harness, policy: RegistrationPolicy) -> PermissionGroup {
    let group = h.group("Agentes", &[("assets", &[Action::View])]).await;
    h.admin
        .set_registration_settings(&RegistrationPatch {
            policy,
            group_id: Some(group.id),
        })
        .await
        .unwrap();
    group
}

fn params(client_id: &str, redirect_uri: &str, challenge: &str) -> Vec<(String, String)> {
    vec![
        ("response_type".into(), "code".into()),
        ("client_id".into(), client_id.into()),
        ("redirect_uri".into(), redirect_uri.into()),
        ("state".into(), "s".into()),
        ("code_challenge".into(), challenge.into()),
        ("code_challenge_method".into(), "S256".into()),
    ]
}

async fn page(h: &Harness, params: &[(String, String)]) -> (u16, String) {
    let response = raw()
        .get(format!("{}/oauth/authorize", h.url()))
        .query(params)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_document_client_waits_for_approval_then_gets_tokens_with_pkce_alone() {
    let publisher = Publisher::start().await;
    publish(&publisher, &[CALLBACK]);
    let h = start_trusting(&publisher).await;
    let group = set_policy(&h, RegistrationPolicy::Approval).await;
    let metadata = h.anon.metadata().await.unwrap();
    assert!(metadata.client_id_metadata_document_supported);

    let url = publisher.url_of("/client.json");
    let v = verifier();
    let request = params(&url, CALLBACK, &pkce_s256(&v));
    let (status, html) = page(&h, &request).await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("espera la aprobación"), "{html}");
    assert!(publisher.accepts() >= 1, "the document was fetched");

    let pending = h.admin.pending_consumers().await.unwrap();
    assert_eq!(pending.len(), 1);
    let client = &pending[0];
    assert_eq!(client.client_id, url);
    assert_eq!(client.name, "localhost", "its URL's host is its identity");
    assert_eq!(client.origin, ConsumerOrigin::MetadataDocument);
    assert_eq!(client.auth_method, AuthMethod::Public);
    assert!(
        client.description.contains("Cursor"),
        "{}",
        client.description
    );
    h.admin.approve_consumer(client.id, group.id).await.unwrap();

    // Approved: the consent page names the document's host and the redirect's.
    let (status, html) = page(&h, &request).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("Cliente descrito por <strong>localhost</strong>"),
        "{html}"
    );
    assert!(
        html.contains("Volverá a <strong>127.0.0.1</strong>"),
        "{html}"
    );
    let mut form = request.clone();
    form.push(("username".into(), "ana".into()));
    form.push(("password".into(), PASSWORD.into()));
    form.push(("decision".into(), "approve".into()));
    let answer = raw()
        .post(format!("{}/oauth/authorize", h.url()))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    let location = url::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
    let query: HashMap<String, String> = location.query_pairs().into_owned().collect();
    let token = raw()
        .post(format!("{}/oauth/token", h.url()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", url.as_str()),
            ("code", &query["code"]),
            ("redirect_uri", CALLBACK),
            ("code_verifier", &v),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    let body: Value = token.json().await.unwrap();
    assert_eq!(body["scope"], "assets:view");
}

#[tokio::test]
async fn the_document_decides_the_redirect_uris_and_must_name_itself() {
    let publisher = Publisher::start().await;
    publish(&publisher, &[CALLBACK]);
    let h = start_trusting(&publisher).await;
    set_policy(&h, RegistrationPolicy::Open).await;
    let url = publisher.url_of("/client.json");
    let v = verifier();
    let (status, _) = page(&h, &params(&url, CALLBACK, &pkce_s256(&v))).await;
    assert_eq!(status, 200, "open: straight in");

    // A redirect URI the document does not list: a page, never a redirect.
    let other = "http://127.0.0.1:9/otra";
    let (status, html) = page(&h, &params(&url, other, &pkce_s256(&v))).await;
    assert_eq!(status, 400, "{html}");
    // The document changes: the client follows it.
    publish(&publisher, &[other]);
    let (status, html) = page(&h, &params(&url, other, &pkce_s256(&v))).await;
    assert_eq!(status, 200, "{html}");
    let (status, _) = page(&h, &params(&url, CALLBACK, &pkce_s256(&v))).await;
    assert_eq!(status, 400, "the old one is gone");

    // A document that names another client_id is refused.
    *publisher.document.lock() = json!({
        "client_id": "https://localhost/otro.json",
        "redirect_uris": [other],
    });
    let (status, html) = page(&h, &params(&url, other, &pkce_s256(&v))).await;
    assert_eq!(status, 400);
    assert!(html.contains("client_id"), "{html}");
}

#[tokio::test]
async fn nothing_is_fetched_when_registration_is_off_or_the_host_is_not_allowed() {
    let publisher = Publisher::start().await;
    publish(&publisher, &[CALLBACK]);
    let url = publisher.url_of("/client.json");
    let v = verifier();

    // Off: refused without a fetch.
    let h = start_trusting(&publisher).await;
    let (status, html) = page(&h, &params(&url, CALLBACK, &pkce_s256(&v))).await;
    assert_eq!(status, 400);
    assert!(html.contains("no acepta"), "{html}");
    assert!(
        h.anon
            .metadata()
            .await
            .unwrap()
            .registration_endpoint
            .is_none()
    );
    assert_eq!(publisher.accepts(), 0);

    // Open, but localhost is not allowed: loopback is the server's own network.
    let h = start().await;
    set_policy(&h, RegistrationPolicy::Open).await;
    let (status, html) = page(&h, &params(&url, CALLBACK, &pkce_s256(&v))).await;
    assert_eq!(status, 400);
    assert!(html.contains("localhost"), "{html}");
    assert_eq!(publisher.accepts(), 0, "no connection was made");
    assert!(h.admin.pending_consumers().await.unwrap().is_empty());
}

#[tokio::test]
async fn one_address_brings_in_at_most_ten_new_clients_in_the_window() {
    let publisher = Publisher::start().await;
    *publisher.document.lock() = json!({
        "client_id": "SELF",
        "redirect_uris": [CALLBACK],
        "token_endpoint_auth_method": "none",
    });
    let h = start_trusting(&publisher).await;
    set_policy(&h, RegistrationPolicy::Approval).await;
    let v = verifier();
    let mut statuses = Vec::new();
    for i in 0..12 {
        let url = publisher.url_of(&format!("/clientes/{i}.json"));
        statuses.push(page(&h, &params(&url, CALLBACK, &pkce_s256(&v))).await.0);
    }
    // Each new one waits (400, the waiting page); past ten, 429.
    assert!(statuses[..10].iter().all(|s| *s == 400), "{statuses:?}");
    assert_eq!(statuses[10..], [429, 429], "{statuses:?}");
    assert_eq!(h.admin.pending_consumers().await.unwrap().len(), 10);
}
