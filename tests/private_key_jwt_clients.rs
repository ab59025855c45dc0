//! `private_key_jwt` and DPoP as real client libraries do them, each with its own flow and
//! its own assertion and proofs: Authlib (PyPI) fetches a client_credentials token with
//! `PrivateKeyJWT` (it has no DPoP); requests-oauth2client (PyPI) does the same with its
//! `PrivateKeyJwt` and DPoP-bound tokens, then calls the API with its `DPoPToken`; and
//! openid-client (npm) discovers the server from its RFC 8414 metadata and runs its
//! `clientCredentialsGrant` with `PrivateKeyJwt`, then binds the token with its DPoP handle
//! and calls the API with `fetchProtectedResource`. Both pinned, installed by the test under
//! `target/test-tools` (see `common::tools`). The keys are made here; the libraries read
//! the private key from a file, as an integration would.

mod common;
mod key_support;
mod oauth_support;

use common::tools::{node_packages, python_packages};
use consola::domain::*;
use key_support::TestKey;
use oauth_support::*;
use tokio::process::Command;

const AUTHLIB: [&str; 3] = ["authlib==1.6.5", "requests==2.32.5", "cryptography==46.0.3"];
const OPENID_CLIENT: &str = "openid-client@6.9.1";
const REQUESTS_OAUTH2CLIENT: &str = "requests-oauth2client==1.8.0";

/// A consumer of reports that authenticates with `key`, and the file with its private key.
async fn machine(h: &Harness, key: &TestKey) -> (CreatedConsumer, std::path::PathBuf) {
    let group = h
        .group(
            &format!("Máquinas {}", key.kid),
            &[("reports", &[Action::View])],
        )
        .await;
    let mut new = common::new_consumer(&format!("Máquina {}", key.kid), group.id);
    new.auth_method = AuthMethod::PrivateKeyJwt;
    new.jwks = Some(TestKey::jwks(&[key]));
    let created = h.consumer_with(new).await;
    let path = h.dir.path().join(format!("{}.pem", key.kid));
    std::fs::write(&path, key.private_pem()).expect("key file");
    (created, path)
}

/// What a library printed: the token response's JSON.
async fn run(mut command: Command, what: &str) -> serde_json::Value {
    let out = command.output().await.expect("the client runs");
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{what} printed {}", String::from_utf8_lossy(&out.stdout)))
}

/// The token is this consumer's, for reports, on the server's own API.
async fn works(h: &Harness, token: &serde_json::Value, what: &str) {
    // (openid-client writes the type it read in lower case: RFC 6749 §5.1 makes it
    // case-insensitive.)
    let token_type = token["token_type"].as_str().unwrap_or_default();
    assert!(token_type.eq_ignore_ascii_case("bearer"), "{what}: {token}");
    let access_token = token["access_token"].as_str().expect("an access token");
    let access = h
        .anon
        .module_access(&access_token.to_string().into(), "reports")
        .await
        .unwrap_or_else(|err| panic!("{what}: the token is refused: {err}"));
    assert_eq!(access.module, "reports");
}

const AUTHLIB_SCRIPT: &str = r#"
import json, os, sys
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT

client_id, token_url, alg, kid = sys.argv[1:5]
with open(os.environ["KEY_FILE"]) as f:
    private_key = f.read()
auth = PrivateKeyJWT(token_url, alg=alg, headers={"kid": kid})
session = OAuth2Session(client_id, private_key, token_endpoint_auth_method=auth,
                        scope="reports:view")
token = session.fetch_token(token_url, grant_type="client_credentials")
print(json.dumps({"access_token": token["access_token"], "token_type": token["token_type"]}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authlib_gets_a_client_credentials_token_with_private_key_jwt() {
    let libraries = python_packages("authlib-1.6.5", "authlib", &AUTHLIB).await;
    let h = start().await;
    let token_url = format!("{}/oauth/token", h.url());
    for alg in ["RS256", "ES256", "EdDSA"] {
        let key = TestKey::new(alg, &format!("authlib-{alg}"));
        let (created, key_file) = machine(&h, &key).await;
        let mut command = Command::new("python3");
        command
            .env("PYTHONPATH", &libraries)
            .env("KEY_FILE", &key_file)
            .args([
                "-c",
                AUTHLIB_SCRIPT,
                &created.consumer.client_id,
                &token_url,
            ])
            .args([alg, &key.kid]);
        let token = run(command, &format!("Authlib {alg}")).await;
        works(&h, &token, &format!("Authlib {alg}")).await;
    }
}

const OPENID_CLIENT_SCRIPT: &str = r#"
import * as client from "openid-client";
import { readFileSync } from "node:fs";

const [issuer, clientId, alg, kid] = process.argv.slice(2);
const pem = readFileSync(process.env.KEY_FILE, "utf8");
const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
const algorithm = {
  ES256: { name: "ECDSA", namedCurve: "P-256" },
  EdDSA: { name: "Ed25519" },
  RS256: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
}[alg];
const key = await crypto.subtle.importKey("pkcs8", der, algorithm, false, ["sign"]);
const config = await client.discovery(
  new URL(issuer), clientId, undefined, client.PrivateKeyJwt({ key, kid }),
  { algorithm: "oauth2", execute: [client.allowInsecureRequests] },
);
const tokens = await client.clientCredentialsGrant(config, { scope: "reports:view" });
console.log(JSON.stringify({ access_token: tokens.access_token, token_type: tokens.token_type }));
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_discovers_the_server_and_gets_a_token_with_private_key_jwt() {
    let libraries = node_packages("openid-client-6.9.1", &[OPENID_CLIENT]).await;
    let script = libraries.join("grant.mjs");
    std::fs::write(&script, OPENID_CLIENT_SCRIPT).expect("script");
    let h = start().await;
    for alg in ["ES256", "EdDSA", "RS256"] {
        let key = TestKey::new(alg, &format!("openid-client-{alg}"));
        let (created, key_file) = machine(&h, &key).await;
        let mut command = Command::new("node");
        command.env("KEY_FILE", &key_file).arg(&script).args([
            &h.url(),
            &created.consumer.client_id,
            alg,
            &key.kid,
        ]);
        let token = run(command, &format!("openid-client {alg}")).await;
        works(&h, &token, &format!("openid-client {alg}")).await;
    }
}

const OPENID_CLIENT_DPOP_SCRIPT: &str = r#"
import * as client from "openid-client";
import { readFileSync } from "node:fs";

const [issuer, clientId, kid, resource] = process.argv.slice(2);
const pem = readFileSync(process.env.KEY_FILE, "utf8");
const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
const key = await crypto.subtle.importKey(
  "pkcs8", der, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
const config = await client.discovery(
  new URL(issuer), clientId, undefined, client.PrivateKeyJwt({ key, kid }),
  { algorithm: "oauth2", execute: [client.allowInsecureRequests] },
);
// The proof key is the library's own, made for this session.
const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
const DPoP = client.getDPoPHandle(config, pair);
const tokens = await client.clientCredentialsGrant(config, { scope: "reports:view" }, { DPoP });
const calls = [];
for (const dpop of [DPoP, undefined]) {
  try {
    const response = await client.fetchProtectedResource(
      config, tokens.access_token, new URL(resource), "GET", undefined, undefined,
      dpop ? { DPoP: dpop } : undefined);
    calls.push({ status: response.status, body: await response.text() });
  } catch (err) {
    // A refusal with a WWW-Authenticate challenge is thrown, with the response.
    calls.push({ status: err.response?.status ?? 0, body: String(err.cause?.[0]?.scheme ?? err) });
  }
}
console.log(JSON.stringify({ token_type: tokens.token_type, calls }));
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_binds_its_token_with_dpop_and_calls_the_api_with_proofs() {
    let libraries = node_packages("openid-client-6.9.1", &[OPENID_CLIENT]).await;
    let script = libraries.join("dpop.mjs");
    std::fs::write(&script, OPENID_CLIENT_DPOP_SCRIPT).expect("script");
    for nonce_required in [false, true] {
        let h = start_with(consola::service::ServiceConfig {
            dpop_nonce_required: nonce_required,
            ..Default::default()
        })
        .await;
        let key = TestKey::new("ES256", "dpop-client");
        let (created, key_file) = machine(&h, &key).await;
        let resource = format!("{}/api/v1/modules/reports/access", h.url());
        let mut command = Command::new("node");
        command.env("KEY_FILE", &key_file).arg(&script).args([
            &h.url(),
            &created.consumer.client_id,
            &key.kid,
            &resource,
        ]);
        let what = format!("openid-client DPoP (nonce required: {nonce_required})");
        let out = run(command, &what).await;
        assert!(
            out["token_type"]
                .as_str()
                .unwrap_or_default()
                .eq_ignore_ascii_case("dpop"),
            "{what}: {out}"
        );
        assert_eq!(
            out["calls"][0]["status"], 200,
            "{what}: with its proof: {out}"
        );
        let body: serde_json::Value =
            serde_json::from_str(out["calls"][0]["body"].as_str().unwrap_or_default())
                .unwrap_or_default();
        assert_eq!(body["module"], "reports", "{what}");
        assert_eq!(
            out["calls"][1]["status"], 401,
            "{what}: the same token without a proof"
        );
    }
}

const REQUESTS_OAUTH2CLIENT_SCRIPT: &str = r#"
import json, os, sys
import requests
from jwskate import Jwk
from requests_oauth2client import OAuth2Client, PrivateKeyJwt

client_id, token_url, kid, resource = sys.argv[1:5]
with open(os.environ["KEY_FILE"]) as f:
    private_jwk = Jwk.from_pem(f.read()).with_kid_thumbprint().to_dict()
private_jwk["kid"] = kid
client = OAuth2Client(
    token_endpoint=token_url,
    auth=PrivateKeyJwt(client_id, private_jwk, alg="ES256"),
    dpop_bound_access_tokens=True,
    # The library's own switch for a server on plain-HTTP loopback: it checks no URL.
    testing=True,
)
token = client.client_credentials(scope="reports:view")
with_proof = requests.get(resource, auth=token)
bearer = requests.get(resource, headers={"Authorization": "Bearer " + token.access_token})
print(json.dumps({
    "token_type": token.token_type,
    "with_proof": with_proof.status_code, "body": with_proof.text,
    "as_bearer": bearer.status_code,
}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_oauth2client_uses_a_key_pair_and_dpop_bound_tokens() {
    let libraries = python_packages(
        "requests-oauth2client-1.8.0",
        "requests_oauth2client",
        &[REQUESTS_OAUTH2CLIENT],
    )
    .await;
    for nonce_required in [false, true] {
        let h = start_with(consola::service::ServiceConfig {
            dpop_nonce_required: nonce_required,
            ..Default::default()
        })
        .await;
        let key = TestKey::new("ES256", "ro2c");
        let (created, key_file) = machine(&h, &key).await;
        let resource = format!("{}/api/v1/modules/reports/access", h.url());
        let token_url = format!("{}/oauth/token", h.url());
        let mut command = Command::new("python3");
        command
            .env("PYTHONPATH", &libraries)
            .env("KEY_FILE", &key_file)
            .args([
                "-c",
                REQUESTS_OAUTH2CLIENT_SCRIPT,
                &created.consumer.client_id,
            ])
            .args([&token_url, &key.kid, &resource]);
        let what = format!("requests-oauth2client (nonce required: {nonce_required})");
        let out = run(command, &what).await;
        assert_eq!(out["token_type"], "DPoP", "{what}: {out}");
        assert_eq!(out["with_proof"], 200, "{what}: {out}");
        assert_eq!(
            out["as_bearer"], 401,
            "{what}: the bound token without its proof"
        );
    }
}
