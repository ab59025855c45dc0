//! A `private_key_jwt` consumer that publishes its keys at a `jwks_uri` instead of
//! registering them: fetched as metadata documents are (public addresses only, unless the
//! host is allowed), kept as the set's `Cache-Control` says, and fetched again when an
//! assertion names a key the kept set lacks, so that a key rolls over without an admin.

mod common;
mod key_support;
mod oauth_support;
mod publisher;

use consola::domain::client_keys::JWT_BEARER_ASSERTION;
use consola::domain::*;
use consola::service::ServiceConfig;
use key_support::TestKey;
use oauth_support::*;
use publisher::Publisher;
use serde_json::Value;

async fn uri_consumer(
    h: &Harness,
    uri: &str,
) -> Result<CreatedConsumer, consola::client::ClientError> {
    let n = consola::domain::secret::generate_client_id();
    let group = h
        .group(&format!("Máquinas {n}"), &[("reports", &[Action::View])])
        .await;
    let mut new = common::new_consumer(&format!("Máquina {n}"), group.id);
    new.auth_method = AuthMethod::PrivateKeyJwt;
    new.jwks_uri = Some(uri.into());
    h.admin.create_consumer(&new).await
}

async fn token_with(h: &Harness, key: &TestKey, client_id: &str) -> (u16, Value) {
    let token_url = format!("{}/oauth/token", h.url());
    let response = raw()
        .post(&token_url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER_ASSERTION),
            ("client_assertion", &key.assertion(client_id, &token_url)),
        ])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn keys_published_at_a_jwks_uri_sign_and_roll_over_without_an_admin() {
    let publisher = Publisher::start().await;
    let first = TestKey::new("EdDSA", "k1");
    *publisher.document.lock() = TestKey::jwks(&[&first]);
    *publisher.cache_control.lock() = "max-age=300";
    let h = start_with(ServiceConfig {
        client_documents: publisher.trusted_by(),
        ..ServiceConfig::default()
    })
    .await;
    let uri = publisher.url_of("/jwks.json");
    let created = uri_consumer(&h, &uri).await.unwrap();
    assert!(created.client_secret.is_none());
    assert_eq!(created.consumer.jwks_uri.as_deref(), Some(uri.as_str()));
    assert!(created.consumer.jwks.is_none());
    let client_id = created.consumer.client_id.clone();

    let (status, body) = token_with(&h, &first, &client_id).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = token_with(&h, &first, &client_id).await;
    assert_eq!(status, 200);
    assert_eq!(publisher.accepts(), 1, "kept as max-age says");

    // The client rolls its key over: a kid the kept set lacks has it fetched again.
    let second = TestKey::new("ES256", "k2");
    *publisher.document.lock() = TestKey::jwks(&[&second]);
    let (status, body) = token_with(&h, &second, &client_id).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(publisher.accepts(), 2);
    let (status, body) = token_with(&h, &first, &client_id).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    // A key of nobody's with a kid the set lacks: refused after one more fetch.
    let stranger = TestKey::new("EdDSA", "k9");
    let (status, _) = token_with(&h, &stranger, &client_id).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_jwks_uri_must_be_https_and_is_never_fetched_from_a_host_not_allowed() {
    let publisher = Publisher::start().await;
    let key = TestKey::new("EdDSA", "k1");
    *publisher.document.lock() = TestKey::jwks(&[&key]);
    let h = start().await;
    for bad in [
        "http://keys.example/jwks.json",
        "no es una url",
        "https://u:p@keys.example/j",
    ] {
        let err = uri_consumer(&h, bad).await.unwrap_err();
        assert_eq!(err.status(), Some(422), "{bad}");
    }
    // This server does not allow localhost: the set is the server's own network.
    let created = uri_consumer(&h, &publisher.url_of("/jwks.json"))
        .await
        .unwrap();
    let (status, body) = token_with(&h, &key, &created.consumer.client_id).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert_eq!(publisher.accepts(), 0, "no connection was made");
}
