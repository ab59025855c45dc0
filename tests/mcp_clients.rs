//! The MCP Python SDK's own OAuth flow against consola, end to end: an MCP server built with
//! the SDK (its MCPServer over streamable HTTP, `tests/mcp_support/resource_server.py`)
//! names consola as its authorization server and accepts only JWTs that consola's JWKS
//! verifies for its own URL; a client built with the SDK (its `OAuthClientProvider`,
//! `tests/mcp_support/agent.py`) meets the server's 401 and does the rest itself: protected
//! resource metadata (RFC 9728), consola's metadata (RFC 8414), registration as a public
//! client (RFC 7591), PKCE with `resource` (RFC 8707), the code, the token, a refresh. What a
//! person does in a browser, the client's redirect handler does by HTTP as a console user.
//!
//! Under `approval` the registered client waits: the handler sees the page that says so, the
//! test lets it in with the real `consola consumers approve`, and the handler tries again.
//! Under `open` it goes straight through. Both end with the tools listed and called, and the
//! client in `consola consumers list` as registered by itself.
//!
//! The same client may instead be given the HTTPS URL of its Client ID Metadata Document
//! (draft-ietf-oauth-client-id-metadata-document, the SDK's `client_metadata_url`): since
//! consola's metadata says `client_id_metadata_document_supported`, the SDK registers
//! nothing and sends that URL as its `client_id`, and consola fetches the document from an
//! HTTPS publisher on loopback (`tests/publisher`) that it is started trusting.
//!
//! The SDK and PyJWT are installed pinned under `target/test-tools` (`common::tools`).

mod binary;
mod cli_support;
mod common;
mod oauth_support;
mod publisher;

use cli_support::Cli;
use consola::domain::registration::{RegistrationPatch, RegistrationPolicy};
use consola::domain::resource::NewProtectedResource;
use consola::domain::*;
use consola::service::ServiceConfig;
use oauth_support::{Harness, PASSWORD, creds, raw};
use publisher::Publisher;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio::sync::OnceCell;

/// The MCP Python SDK (with `OAuthClientProvider` and dynamic registration), the JOSE
/// library the resource server verifies tokens with, and the SDK's dependencies that the
/// scripts use themselves (its HTTP client, its async library, its ASGI server).
const SDK: [&str; 6] = [
    "mcp==2.3.0",
    "pyjwt[crypto]==2.15.1",
    "cryptography==51.0.1",
    "httpx2==2.17.0",
    "anyio==4.16.0",
    "uvicorn==0.55.0",
];
/// The scope the MCP server requires, and the group of registered clients grants.
const SCOPE: &str = "assets:view";
const GROUP: &str = "Agentes MCP";
/// The console user who signs in and consents on the authorization page.
const USER: &str = "tecnica";

/// Where the SDK is importable from, installed once per run of the tests.
async fn sdk() -> &'static PathBuf {
    static PATH: OnceCell<PathBuf> = OnceCell::const_new();
    PATH.get_or_init(|| common::tools::python_packages("mcp-2.3.0", "mcp", &SDK))
        .await
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/mcp_support")
        .join(name)
}

/// A Python process with the SDK on its path, loopback only (no proxy from the
/// environment), killed if the test ends first; its stderr goes to `log`.
async fn python(name: &str, log: &Path) -> Command {
    let mut command = Command::new("python3");
    command
        .arg(script(name))
        .env("PYTHONPATH", sdk().await)
        .env("PYTHONNOUSERSITE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).expect("a log file"))
        .kill_on_drop(true);
    for var in [
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
    ] {
        command.env_remove(var);
    }
    command
}

/// A child process and the lines it prints.
struct Script {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    log: PathBuf,
}

impl Script {
    fn start(mut command: Command, log: PathBuf) -> Script {
        let mut child = command.spawn().expect("python3 runs");
        let stdout = child.stdout.take().expect("stdout piped");
        Script {
            child,
            lines: BufReader::new(stdout).lines(),
            log,
        }
    }

    /// What it wrote on stderr so far, for a failure's message.
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The next JSON line it prints, within `within`.
    async fn next(&mut self, what: &str, within: Duration) -> Value {
        let line = match tokio::time::timeout(within, self.lines.next_line()).await {
            Ok(Ok(Some(line))) => line,
            Ok(_) => panic!("{what}: the script ended early:\n{}", self.log()),
            Err(_) => panic!("{what}: nothing within {within:?}:\n{}", self.log()),
        };
        serde_json::from_str(&line)
            .unwrap_or_else(|_| panic!("{what}: printed {line:?}:\n{}", self.log()))
    }

    async fn say(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin piped");
        stdin.write_all(line.as_bytes()).await.expect("stdin");
        stdin.flush().await.expect("stdin");
    }

    /// Waits for it to exit, and checks it succeeded.
    async fn finished(mut self, what: &str) {
        drop(self.child.stdin.take());
        let status = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("{what} did not exit"))
            .expect("wait");
        assert!(status.success(), "{what}: {status}\n{}", self.log());
    }
}

/// The name the SDK's client gives itself in its metadata.
const CLIENT_NAME: &str = "Agente MCP de prueba";
/// Where the client's metadata document is published, on the publisher's host.
const DOCUMENT_PATH: &str = "/clientes/agente-mcp.json";

/// How the SDK's client makes itself known to consola.
enum Identity {
    /// It registers itself (RFC 7591).
    Registered,
    /// It names the URL of its metadata document, published here.
    Document(Publisher),
}

impl Identity {
    /// A publisher on loopback, for a client named by its metadata document.
    async fn document() -> Identity {
        Identity::Document(Publisher::start().await)
    }

    /// The document's URL, which is the client's `client_id`.
    fn url(&self) -> Option<String> {
        match self {
            Identity::Registered => None,
            Identity::Document(publisher) => Some(publisher.url_of(DOCUMENT_PATH)),
        }
    }
}

/// consola with the group for registered clients, the policy, a console user to consent,
/// and the Súper Administrador's command line; returns the user's id too. For a client of
/// a metadata document it may fetch from the publisher's host and trusts its certificate.
async fn consola(policy: RegistrationPolicy, identity: &Identity) -> (Harness, Cli, uuid::Uuid) {
    let h = match identity {
        Identity::Registered => oauth_support::start().await,
        Identity::Document(publisher) => {
            oauth_support::start_with(ServiceConfig {
                client_documents: publisher.trusted_by(),
                ..ServiceConfig::default()
            })
            .await
        }
    };
    let group = h.group(GROUP, &[("assets", &[Action::View])]).await;
    h.admin
        .set_registration_settings(&RegistrationPatch {
            policy,
            group_id: Some(group.id),
        })
        .await
        .expect("policy set");
    let user = h
        .admin
        .create_user(&NewUser {
            username: USER.into(),
            display_name: "Técnica de turno".into(),
            password: PASSWORD.into(),
            role: Role::ReadOnly,
        })
        .await
        .expect("user created");
    let cli = Cli::server(&h.url());
    cli.login("ana", PASSWORD).ok();
    (h, cli, user.id)
}

/// The SDK's MCP server, listed in consola as a protected resource; returns its URL.
async fn resource_server(h: &Harness) -> (Script, String) {
    let log = h.dir.path().join("resource_server.log");
    let mut command = python("resource_server.py", &log).await;
    command.args([&h.url(), SCOPE]);
    let mut server = Script::start(command, log);
    let started = server.next("the MCP server", Duration::from_secs(30)).await;
    let url = started["url"].as_str().expect("its URL").to_string();
    h.admin
        .create_resource(&NewProtectedResource {
            name: "Servidor MCP de mantenimiento".into(),
            url: url.clone(),
        })
        .await
        .expect("resource listed");
    (server, url)
}

/// The SDK's client, signing in as the console user when consola asks. A client of a
/// metadata document is given its URL, and the document is published with the redirect URI
/// the client holds before it starts.
async fn agent(h: &Harness, mcp_url: &str, identity: &Identity) -> Script {
    let log = h.dir.path().join("agent.log");
    let mut command = python("agent.py", &log).await;
    command
        .env("CONSOLA_TEST_PASSWORD", PASSWORD)
        .args([mcp_url, USER]);
    command.args(identity.url());
    let mut agent = Script::start(command, log);
    if let Identity::Document(publisher) = identity {
        let said = agent
            .next("the redirect URI", Duration::from_secs(30))
            .await;
        assert_eq!(said["event"], "redirect_uri", "{said}");
        *publisher.document.lock() = serde_json::json!({
            "client_id": publisher.url_of(DOCUMENT_PATH),
            "client_name": CLIENT_NAME,
            "redirect_uris": [said["redirect_uri"]],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        });
        agent.say("published\n").await;
    }
    agent
}

fn consumers(cli: &Cli, args: &[&str]) -> Vec<Consumer> {
    cli.run(&[&["consumers"], args, &["-o", "json"]].concat())
        .ok()
        .json()
}

/// What the SDK did and what the tools answered, as the client printed it.
fn check_done(
    done: &Value,
    h: &Harness,
    mcp_url: &str,
    user: uuid::Uuid,
    identity: &Identity,
) -> String {
    assert_eq!(done["event"], "done", "{done}");
    let client_id = done["client_id"].as_str().expect("a client_id").to_string();
    if let Some(url) = identity.url() {
        assert_eq!(
            client_id, url,
            "the document's URL is the client_id: {done}"
        );
    }
    assert_eq!(done["token_endpoint_auth_method"], "none", "{done}");
    assert_eq!(
        done["tools"],
        serde_json::json!(["asset_status", "whoami"]),
        "{done}"
    );
    assert_eq!(done["asset_status"], "BOMBA-7: operativo", "{done}");
    // The MCP server's verifier saw a token for itself, from consola, of this client and
    // this user, with the group's scope.
    let whoami = &done["whoami"];
    assert_eq!(whoami["aud"], mcp_url, "{done}");
    assert_eq!(whoami["iss"], h.url(), "{done}");
    assert_eq!(whoami["client_id"], client_id, "{done}");
    assert_eq!(whoami["sub"], user.to_string(), "{done}");
    assert_eq!(whoami["scope"], SCOPE, "{done}");
    // The SDK asked for the resource, checked the authorization response's issuer, and
    // refreshed the token when it ran out (the refreshed one was let in too).
    assert_eq!(done["resource"], mcp_url, "{done}");
    assert_eq!(done["iss"], h.url(), "{done}");
    assert_eq!(done["refreshed"], true, "{done}");
    assert_eq!(done["tokens_saved"], 2, "{done}");

    // Every request the SDK made itself, in order: the 401, discovery, registration (none
    // for a client of a metadata document), the token, the MCP calls, the refresh.
    let seen: Vec<String> = done["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .map(|r| format!("{} {} {}", r["method"], r["url"], r["status"]).replace('"', ""))
        .collect();
    let prm = mcp_url.replacen("/mcp", "/.well-known/oauth-protected-resource/mcp", 1);
    let issuer = h.url();
    let mut expected_start = vec![
        format!("POST {mcp_url} 401"),
        format!("GET {prm} 200"),
        format!("GET {issuer}/.well-known/oauth-authorization-server 200"),
        format!("POST {issuer}/oauth/token 200"),
        format!("POST {mcp_url} 200"),
    ];
    if let Identity::Registered = identity {
        expected_start.insert(3, format!("POST {issuer}/oauth/register 201"));
    }
    assert_eq!(seen[..expected_start.len()], expected_start, "{seen:#?}");
    let tokens: Vec<_> = seen.iter().filter(|r| r.contains("/oauth/token")).collect();
    assert_eq!(tokens.len(), 2, "the code and one refresh: {seen:#?}");
    assert_eq!(
        seen.last(),
        Some(&format!("POST {mcp_url} 200")),
        "{seen:#?}"
    );
    assert!(
        !seen.iter().any(|r| r.ends_with(" 401") && r != &seen[0]),
        "one 401 only: {seen:#?}"
    );
    let registrations = seen
        .iter()
        .filter(|r| r.contains("/oauth/register"))
        .count();
    let expected = match identity {
        Identity::Registered => 1,
        Identity::Document(_) => 0,
    };
    assert_eq!(registrations, expected, "{seen:#?}");
    client_id
}

/// The client is in `consola consumers list`, registered by itself (or named by its
/// document's host), in the policy's group, a public client of the code flow.
fn check_listed(cli: &Cli, client_id: &str, identity: &Identity) {
    let listed = consumers(cli, &["list"]);
    let consumer = listed
        .iter()
        .find(|c| c.client_id == client_id)
        .unwrap_or_else(|| panic!("{client_id} not in consumers list: {listed:#?}"));
    assert_eq!(consumer.approval, Approval::Approved);
    assert_eq!(consumer.permission_group_name, GROUP);
    assert_eq!(consumer.grant_type, GrantType::AuthorizationCode);
    assert_eq!(consumer.auth_method, AuthMethod::Public);
    match identity {
        Identity::Registered => {
            assert_eq!(consumer.origin, ConsumerOrigin::Registration);
            assert_eq!(consumer.name, CLIENT_NAME);
        }
        Identity::Document(_) => {
            assert_eq!(consumer.origin, ConsumerOrigin::MetadataDocument);
            assert_eq!(consumer.name, "localhost", "its URL's host is its identity");
            assert!(
                consumer.description.contains(CLIENT_NAME),
                "{}",
                consumer.description
            );
        }
    }
}

/// Under `approval` the client waits on the page that says so until the Súper
/// Administrador approves it with `consola consumers approve`, then the flow ends.
async fn waits_for_approval(identity: Identity) {
    let (h, cli, user) = consola(RegistrationPolicy::Approval, &identity).await;
    let (server, mcp_url) = resource_server(&h).await;
    let mut agent = agent(&h, &mcp_url, &identity).await;

    // The SDK registered itself (or named its document, which consola fetched) and its
    // redirect handler met the waiting page.
    let pending = agent
        .next("the pending page", Duration::from_secs(30))
        .await;
    assert_eq!(pending["event"], "pending", "{pending}");
    assert_eq!(pending["status"], 400, "{pending}");
    let client_id = pending["client_id"].as_str().expect("a client_id");
    let origin = match &identity {
        Identity::Registered => ConsumerOrigin::Registration,
        Identity::Document(publisher) => {
            assert_eq!(Some(client_id.to_string()), identity.url(), "{pending}");
            assert!(publisher.accepts() >= 1, "consola fetched the document");
            ConsumerOrigin::MetadataDocument
        }
    };
    let waiting = consumers(&cli, &["pending"]);
    assert_eq!(
        waiting
            .iter()
            .map(|c| c.client_id.as_str())
            .collect::<Vec<_>>(),
        [client_id],
        "{waiting:#?}"
    );
    assert_eq!(waiting[0].origin, origin);

    // The Súper Administrador lets it in from the command line; the handler tries again.
    let approved = cli
        .run(&[
            "consumers",
            "approve",
            client_id,
            "--group",
            GROUP,
            "-o",
            "json",
        ])
        .ok()
        .json::<Consumer>();
    assert_eq!(approved.approval, Approval::Approved);
    agent.say("approved\n").await;
    let done = agent.next("the flow", Duration::from_secs(45)).await;
    // The first try after the approval got the login form.
    assert_eq!(done["pending_pages"], 1, "{done}");
    assert_eq!(check_done(&done, &h, &mcp_url, user, &identity), client_id);
    check_listed(&cli, client_id, &identity);
    assert!(consumers(&cli, &["pending"]).is_empty());
    agent.finished("the client").await;
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_waits_for_approval_then_gets_a_token_for_the_mcp_server() {
    waits_for_approval(Identity::Registered).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_named_by_its_metadata_document_waits_for_approval_without_registering() {
    waits_for_approval(Identity::document().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_named_by_its_metadata_document_goes_straight_through_under_open() {
    let identity = Identity::document().await;
    let (h, cli, user) = consola(RegistrationPolicy::Open, &identity).await;
    let (_server, mcp_url) = resource_server(&h).await;
    let mut agent = agent(&h, &mcp_url, &identity).await;
    let done = agent.next("the flow", Duration::from_secs(45)).await;
    assert_eq!(done["pending_pages"], 0, "{done}");
    let client_id = check_done(&done, &h, &mcp_url, user, &identity);
    assert_eq!(Some(client_id.clone()), identity.url());
    check_listed(&cli, &client_id, &identity);
    agent.finished("the client").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_goes_straight_through_under_open_and_the_server_takes_only_its_own_tokens() {
    let identity = Identity::Registered;
    let (h, cli, user) = consola(RegistrationPolicy::Open, &identity).await;
    let (server, mcp_url) = resource_server(&h).await;
    let agent = {
        let mut agent = agent(&h, &mcp_url, &identity).await;
        let done = agent.next("the flow", Duration::from_secs(45)).await;
        assert_eq!(done["pending_pages"], 0, "{done}");
        let client_id = check_done(&done, &h, &mcp_url, user, &identity);
        check_listed(&cli, &client_id, &identity);
        agent
    };
    agent.finished("the client").await;

    // The server's verifier checks the audience: consola's tokens for its own API or for
    // another resource are refused, the same client's token for this server is let in.
    let other = "http://127.0.0.1:9/otro";
    h.admin
        .create_resource(&NewProtectedResource {
            name: "Otro servidor".into(),
            url: other.into(),
        })
        .await
        .expect("resource listed");
    let group = h
        .group("Integraciones", &[("assets", &[Action::View])])
        .await;
    let machine = h
        .consumer(
            "Integración",
            &group,
            GrantType::ClientCredentials,
            TokenFormat::Jwt,
        )
        .await;
    let (id, secret) = creds(&machine);
    let mut answers = Vec::new();
    for resource in [None, Some(other), Some(mcp_url.as_str())] {
        let mut form = vec![("grant_type", "client_credentials"), ("scope", SCOPE)];
        form.extend(resource.map(|r| ("resource", r)));
        let token: Value = raw()
            .post(format!("{}/oauth/token", h.url()))
            .basic_auth(id, Some(secret.expose()))
            .form(&form)
            .send()
            .await
            .expect("token endpoint")
            .json()
            .await
            .expect("JSON");
        let access = token["access_token"].as_str().expect("a token");
        let answer = raw()
            .post(&mcp_url)
            .bearer_auth(access)
            .header("accept", "application/json, text/event-stream")
            .json(&serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
            .send()
            .await
            .expect("MCP server");
        let challenge = answer
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap_or_default().to_string());
        answers.push((resource, answer.status().as_u16(), challenge));
    }
    let log = server.log();
    for (resource, status, challenge) in &answers[..2] {
        assert_eq!(*status, 401, "{resource:?} let in: {answers:?}");
        assert!(
            challenge
                .as_deref()
                .is_some_and(|c| c.contains("resource_metadata=")),
            "{answers:?}"
        );
    }
    assert_ne!(
        answers[2].1, 401,
        "its own token refused: {answers:?}\n{log}"
    );
    assert_eq!(
        log.matches("token refused: InvalidAudienceError").count(),
        2,
        "the verifier refused both for their audience:\n{log}"
    );
    drop(server);
}
