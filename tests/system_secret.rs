//! The system secret (`--system-secret-file`, `CONSOLA_SYSTEM_SECRET`): what serve refuses
//! at start, and the keys sealed under it in the database.

mod binary;
mod common;

use binary::{consola, served_url};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A secret of exactly the minimum length, and one byte short of it.
const SECRET_32: &str = "tortuga-verde-tortuga-verde-1234";
const SECRET_31: &str = "tortuga-verde-tortuga-verde-123";

/// Runs `command` (a serve that must refuse to start) to its end, at most 30 s; returns
/// whether it succeeded and its stderr.
fn refused(mut command: Command) -> String {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve did not stop within 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = reader.join().unwrap();
    assert!(!status.success(), "serve started: {text}");
    text
}

fn serve(data: &Path) -> Command {
    let mut command = consola();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data)
        .env_remove("RUST_LOG");
    command
}

/// Nothing listens there: a serve that tried the database would fail otherwise, later.
const UNREACHABLE_POSTGRES: &str = "postgres://consola@127.0.0.1:1/consola";

#[test]
fn postgres_without_a_system_secret_is_refused_before_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut command = serve(&data);
    command.args(["--database", UNREACHABLE_POSTGRES]);
    let err = refused(command);
    for needle in [
        "--system-secret-file",
        "CONSOLA_SYSTEM_SECRET",
        "PostgreSQL",
    ] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    assert!(!err.contains("127.0.0.1:1"), "it tried the database: {err}");
    assert!(!data.exists(), "nothing is created before the refusal");

    // The same from the environment's database URL.
    let mut command = serve(&data);
    command.env("CONSOLA_DATABASE_URL", UNREACHABLE_POSTGRES);
    let err = refused(command);
    assert!(err.contains("--system-secret-file"), "{err}");
}

/// The library's own entry point refuses too: in-process servers (tests, replicas) cannot
/// start on PostgreSQL without a secret either.
#[tokio::test]
async fn an_in_process_server_on_postgres_needs_a_system_secret() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut config =
        consola::server::ServerConfig::new(data.clone(), "127.0.0.1:0".parse().unwrap());
    config.database_url = Some(UNREACHABLE_POSTGRES.into());
    let err = match consola::server::start(config).await {
        Ok(_) => panic!("started without a system secret"),
        Err(err) => format!("{err:#}"),
    };
    assert!(
        err.contains("--system-secret-file") && err.contains("CONSOLA_SYSTEM_SECRET"),
        "{err}"
    );
    assert!(!data.exists());
}

#[test]
fn a_short_missing_or_unreadable_secret_file_stops_serve_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let short = dir.path().join("corto");
    std::fs::write(&short, format!("{SECRET_31}\n")).unwrap();
    let mut command = serve(&data);
    command.arg("--system-secret-file").arg(&short);
    let err = refused(command);
    assert!(err.contains(&short.display().to_string()), "{err}");
    assert!(err.contains("31 bytes") && err.contains("32"), "{err}");
    assert!(
        !err.contains("tortuga"),
        "the secret's bytes are never shown: {err}"
    );
    // The flag names a file on purpose: it wins over a variable left in the environment.
    let mut command = serve(&data);
    command
        .arg("--system-secret-file")
        .arg(&short)
        .env("CONSOLA_SYSTEM_SECRET", SECRET_32);
    let err = refused(command);
    assert!(err.contains(&short.display().to_string()), "{err}");

    let missing = dir.path().join("no-existe");
    let mut command = serve(&data);
    command.arg("--system-secret-file").arg(&missing);
    let err = refused(command);
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(err.contains("No such file"), "the reason: {err}");

    // A directory cannot be read as a file, even by root.
    let mut command = serve(&data);
    command
        .arg("--previous-system-secret-file")
        .arg(dir.path())
        .env("CONSOLA_SYSTEM_SECRET", SECRET_32);
    let err = refused(command);
    assert!(err.contains(&dir.path().display().to_string()), "{err}");
    assert!(!err.contains("tortuga"), "{err}");
}

#[test]
fn a_short_secret_in_the_environment_is_refused_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut command = serve(&data);
    command.env("CONSOLA_SYSTEM_SECRET", SECRET_31);
    let err = refused(command);
    assert!(
        err.contains("CONSOLA_SYSTEM_SECRET") && err.contains("31 bytes"),
        "{err}"
    );
    assert!(!err.contains("tortuga"), "{err}");

    let mut command = serve(&data);
    command
        .env("CONSOLA_SYSTEM_SECRET", SECRET_32)
        .env("CONSOLA_PREVIOUS_SYSTEM_SECRET", "corto");
    let err = refused(command);
    assert!(err.contains("CONSOLA_PREVIOUS_SYSTEM_SECRET"), "{err}");
    assert!(!err.contains("corto"), "{err}");
}

#[test]
fn a_previous_secret_without_a_current_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut command = serve(&data);
    command.env("CONSOLA_PREVIOUS_SYSTEM_SECRET", SECRET_32);
    let err = refused(command);
    assert!(err.contains("--system-secret-file"), "{err}");
    assert!(!err.contains("tortuga"), "{err}");
}

/// The `[serve]` key of the configuration file, relative to the file, reaches serve.
#[test]
fn the_config_files_secret_file_is_read_relative_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::write(dir.path().join("secreto"), SECRET_31).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[serve]\nsystem_secret_file = \"secreto\"\n").unwrap();
    let mut command = serve(&data);
    command.arg("--config").arg(&config);
    let err = refused(command);
    let path = dir.path().join("secreto");
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains("31 bytes"), "{err}");

    // The environment wins over the file, as everywhere.
    let mut command = serve(&data);
    command
        .arg("--config")
        .arg(&config)
        .env("CONSOLA_SYSTEM_SECRET", SECRET_32);
    starts(command);
}

/// Spawns a serve that must start; stops it once it prints its URL.
fn starts(mut command: Command) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = served_url(&mut child);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_secret_of_32_bytes_and_its_newline_starts_serve() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("secreto");
    std::fs::write(&file, format!("{SECRET_32}\n")).unwrap();
    let mut command = serve(&data);
    command.arg("--system-secret-file").arg(&file);
    starts(command);
    // The same file named by the variable.
    let mut command = serve(&data);
    command.env("CONSOLA_SYSTEM_SECRET_FILE", &file);
    starts(command);
}

// --- keys sealed in the database --------------------------------------------------------
//
// On SQLite (given a secret) and, with CONSOLA_TEST_POSTGRES, on PostgreSQL.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use consola::client::Client;
use consola::domain::secret::SecretText;
use consola::domain::system_secret::SystemSecret;
use consola::domain::*;
use consola::server::{RunningServer, ServerConfig};
use consola::service::sealed_keys::{KeyName, SealedKeys};
use std::path::PathBuf;

const PUBLIC_URL: &str = "https://consola.example.com";
const S1: &str = "primer-secreto-del-sistema-para-las-pruebas";
const S2: &str = "segundo-secreto-del-sistema-para-las-pruebas";

fn secret(text: &str) -> SystemSecret {
    SystemSecret::new(text.as_bytes().to_vec()).unwrap()
}

/// A server over `data` and its database (the harness's: SQLite in `data`, or a
/// PostgreSQL database of its own), with these secrets.
async fn start(
    data: &Path,
    database: Option<String>,
    current: &str,
    previous: Option<&str>,
) -> anyhow::Result<RunningServer> {
    let mut config = ServerConfig::new(data.to_path_buf(), "127.0.0.1:0".parse().unwrap());
    config.database_url = database;
    // Tokens are bound to the issuer: the same one on every start (and replica).
    config.service.issuer = Some(PUBLIC_URL.into());
    config.system_secret = Some(secret(current));
    config.previous_system_secret = previous.map(secret);
    consola::server::start(config).await
}

async fn start_ok(data: &Path, current: &str, previous: Option<&str>) -> RunningServer {
    start(data, common::database::url_for(data), current, previous)
        .await
        .unwrap_or_else(|e| panic!("server starts: {e:#}"))
}

const PASSWORD: &str = "contraseña segura";

async fn set_up(server: &RunningServer) -> Client {
    let anonymous = Client::new(&server.url()).unwrap();
    anonymous
        .setup(
            &SetupRequest {
                account_name: "Planta Norte".into(),
                username: "superadmin".into(),
                display_name: "Sara Súper".into(),
                password: PASSWORD.into(),
            },
            None,
        )
        .await
        .unwrap();
    log_in(server).await
}

async fn log_in(server: &RunningServer) -> Client {
    let anonymous = Client::new(&server.url()).unwrap();
    let login = anonymous.login("superadmin", PASSWORD).await.unwrap();
    anonymous.with_token(login.token)
}

/// A consumer of each token format; returns their Clave and Secreto.
async fn consumers(admin: &Client) -> [(String, SecretText); 2] {
    let group = common::group(admin, "Reportes", "reports").await;
    let mut made = Vec::new();
    for (name, format) in [("ERP", TokenFormat::Opaque), ("BI", TokenFormat::Jwt)] {
        let mut consumer = common::new_consumer(name, group.id);
        consumer.token_format = format;
        let created = admin.create_consumer(&consumer).await.unwrap();
        made.push((
            created.consumer.client_id.clone(),
            created.client_secret.expect("a secret"),
        ));
    }
    made.try_into().unwrap()
}

/// What a restart must keep: tokens of both formats, the legacy secret, the signing keys.
struct Issued {
    consumers: [(String, SecretText); 2],
    tokens: [SecretText; 2],
    api_secret: String,
    kids: Vec<String>,
}

async fn issue(server: &RunningServer, admin: &Client) -> Issued {
    let consumers = consumers(admin).await;
    let anonymous = Client::new(&server.url()).unwrap();
    let mut tokens = Vec::new();
    for (id, secret) in &consumers {
        let token = anonymous
            .token_client_credentials(id, secret, None)
            .await
            .unwrap();
        tokens.push(token.access_token);
    }
    Issued {
        consumers,
        tokens: tokens.try_into().unwrap(),
        api_secret: admin.api_key_secret().await.unwrap().secret.expose().into(),
        kids: kids(admin).await,
    }
}

async fn kids(admin: &Client) -> Vec<String> {
    admin
        .signing_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect()
}

/// Everything issued before still holds on this server.
async fn still_holds(server: &RunningServer, issued: &Issued) {
    let anonymous = Client::new(&server.url()).unwrap();
    for ((id, secret), token) in issued.consumers.iter().zip(&issued.tokens) {
        let answer = anonymous
            .introspect(token.expose(), Some((id, secret)))
            .await
            .unwrap();
        assert!(
            answer.active,
            "the token of {id} is active after the restart"
        );
        anonymous
            .module_access(token, "reports")
            .await
            .unwrap_or_else(|e| panic!("the token of {id} is accepted: {e}"));
    }
    let admin = log_in(server).await;
    assert_eq!(
        admin.api_key_secret().await.unwrap().secret.expose(),
        issued.api_secret,
        "the legacy secret opens"
    );
    assert_eq!(kids(&admin).await, issued.kids, "the same signing keys");
}

/// The `kid` of a JWT's header.
fn kid_of(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_string()
}

/// The sealed rows as the database holds them.
async fn sealed_rows(server: &RunningServer) -> Vec<(KeyName, Vec<u8>)> {
    let store = server.store().clone();
    let mut rows = Vec::new();
    for name in [
        KeyName::TokenHmac,
        KeyName::Vault,
        KeyName::SigningKeys,
        KeyName::SshHostKey,
    ] {
        if let Some(bytes) = store.sealed_key(name.as_str()).await.unwrap() {
            rows.push((name, bytes));
        }
    }
    rows
}

fn key_files(data: &Path) -> Vec<PathBuf> {
    ["vault.key", "token.key", "jwt-signing-keys.json"]
        .iter()
        .map(|f| data.join(f))
        .filter(|p| p.exists())
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn the_keys_are_sealed_in_the_database_never_in_clear_nor_in_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start_ok(&data, S1, None).await;
    let admin = set_up(&server).await;
    issue(&server, &admin).await;
    let host =
        consola::ssh::host_key::load_or_create_sealed(server.service.sealed_keys().unwrap(), &data)
            .await
            .unwrap();

    let rows = sealed_rows(&server).await;
    assert_eq!(
        rows.len(),
        4,
        "token_hmac, vault, jwt_signing_keys, ssh_host_key"
    );
    assert!(
        key_files(&data).is_empty(),
        "no key file: {:?}",
        key_files(&data)
    );
    assert!(!data.join(consola::ssh::host_key::FILE_NAME).exists());

    // The keys in clear, as the server opens them.
    let opener = SealedKeys::new(server.store().clone(), &secret(S1), None);
    let mut secrets: Vec<Vec<u8>> = Vec::new();
    for name in [KeyName::TokenHmac, KeyName::Vault] {
        let key = opener.read(name).await.unwrap().unwrap().plain;
        assert_eq!(key.len(), 32);
        secrets.push(key);
    }
    let signing = opener
        .read(KeyName::SigningKeys)
        .await
        .unwrap()
        .unwrap()
        .plain;
    let signing: serde_json::Value = serde_json::from_slice(&signing).unwrap();
    for key in signing["keys"].as_array().unwrap() {
        let encoded = key["seed"].as_str().or(key["pkcs8"].as_str()).unwrap();
        secrets.push(encoded.as_bytes().to_vec());
        secrets.push(URL_SAFE_NO_PAD.decode(encoded).unwrap());
    }
    let host_text = host
        .to_openssh(russh::keys::ssh_key::LineEnding::LF)
        .unwrap();
    secrets.push(host_text.lines().nth(1).unwrap().as_bytes().to_vec());
    assert_eq!(secrets.len(), 2 + 6 + 1);

    for (name, sealed) in &rows {
        for plain in &secrets {
            assert!(!contains(sealed, plain), "{name:?} holds a key in clear");
        }
        assert!(!contains(sealed, b"\"kid\""), "{name:?} is JSON in clear");
    }
    let server_url = server.url();
    server.shutdown().await;
    // On SQLite, the whole database file and its WAL.
    if common::database::url_for(&data).is_none() {
        let mut bytes = std::fs::read(data.join("consola.db")).unwrap();
        if let Ok(wal) = std::fs::read(data.join("consola.db-wal")) {
            bytes.extend(wal);
        }
        for plain in &secrets {
            assert!(
                !contains(&bytes, plain),
                "a key in clear in the database file"
            );
        }
        assert!(
            contains(&bytes, b"jwt_signing_keys"),
            "the scan reads the keys' table"
        );
    }
    assert!(server_url.starts_with("http://"));
}

#[tokio::test]
async fn tokens_and_the_legacy_secret_hold_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start_ok(&data, S1, None).await;
    let admin = set_up(&server).await;
    let issued = issue(&server, &admin).await;
    server.shutdown().await;
    let server = start_ok(&data, S1, None).await;
    still_holds(&server, &issued).await;
    server.shutdown().await;
}

/// The whole rotation of the system secret, as the README tells it.
#[tokio::test]
async fn the_system_secret_rotates_with_the_previous_one_for_one_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let server = start_ok(&data, S1, None).await;
    let admin = set_up(&server).await;
    admin.rotate_signing_key().await.unwrap();
    let issued = issue(&server, &admin).await;
    assert_eq!(issued.kids.len(), 6, "two keys of each algorithm");
    let host =
        consola::ssh::host_key::load_or_create_sealed(server.service.sealed_keys().unwrap(), &data)
            .await
            .unwrap();
    let before = sealed_rows(&server).await;
    assert_eq!(before.len(), 4);
    server.shutdown().await;

    // S2, with S1 as the previous one: everything opens, and is sealed again under S2.
    let server = start_ok(&data, S2, Some(S1)).await;
    still_holds(&server, &issued).await;
    let again =
        consola::ssh::host_key::load_or_create_sealed(server.service.sealed_keys().unwrap(), &data)
            .await
            .unwrap();
    assert_eq!(
        consola::ssh::host_key::fingerprint(&again),
        consola::ssh::host_key::fingerprint(&host)
    );
    let after = sealed_rows(&server).await;
    assert_eq!(after.len(), 4);
    let only_s2 = SealedKeys::new(server.store().clone(), &secret(S2), None);
    for ((name, old), (_, new)) in before.iter().zip(&after) {
        assert_ne!(old, new, "{name:?} is sealed again");
        assert!(
            only_s2.read(*name).await.unwrap().is_some(),
            "{name:?} opens with S2"
        );
    }
    server.shutdown().await;

    // S2 alone: the previous one can go.
    let server = start_ok(&data, S2, None).await;
    still_holds(&server, &issued).await;
    server.shutdown().await;

    // S1 alone no longer opens them: a clear refusal, naming the way out.
    let err = match start(&data, common::database::url_for(&data), S1, None).await {
        Ok(_) => panic!("started with the old secret"),
        Err(err) => format!("{err:#}"),
    };
    assert!(err.contains("--previous-system-secret-file"), "{err}");
    assert!(!err.contains("primer-secreto"), "{err}");
    // And it changed nothing: S2 alone still serves.
    let server = start_ok(&data, S2, None).await;
    assert_eq!(sealed_rows(&server).await, after);
    still_holds(&server, &issued).await;
    server.shutdown().await;
}

/// Another replica rotated: `reload_signing_keys` puts the new set in force here, in the
/// JWKS and in the `kid` of new tokens.
#[tokio::test]
async fn reloading_the_signing_keys_follows_a_rotation_on_another_replica() {
    let dir = tempfile::tempdir().unwrap();
    let a_data = dir.path().join("a");
    let a = start_ok(&a_data, S1, None).await;
    let admin = set_up(&a).await;
    let [_, (bi, bi_secret)] = consumers(&admin).await;
    // B: another server over the same database, with a data directory of its own.
    let shared = common::database::url_for(&a_data)
        .unwrap_or_else(|| format!("sqlite:{}", a_data.join("consola.db").display()));
    let b_data = dir.path().join("b");
    let b = start(&b_data, Some(shared), S1, None).await.unwrap();
    let b_client = Client::new(&b.url()).unwrap();
    let before = b_client.jwks().await.unwrap();
    assert_eq!(before, a_client_jwks(&a).await, "one set for both");

    let rotated = admin.rotate_signing_key().await.unwrap();
    let new_kid = rotated
        .iter()
        .find(|k| k.current && k.alg == AccessTokenAlg::EdDSA)
        .unwrap()
        .kid
        .clone();
    let token = |client: Client| {
        let (bi, bi_secret) = (bi.clone(), bi_secret.clone());
        async move {
            let answer = client
                .token_client_credentials(&bi, &bi_secret, None)
                .await
                .unwrap();
            kid_of(answer.access_token.expose())
        }
    };
    if common::database::postgres().is_none() {
        // On SQLite nobody tells B (PostgreSQL's change feed does; see tests/replicas.rs).
        assert_ne!(
            token(b_client.clone()).await,
            new_kid,
            "B has not read it yet"
        );
    }

    b.service.reload_signing_keys().await.unwrap();
    assert_eq!(token(b_client.clone()).await, new_kid);
    let after = b_client.jwks().await.unwrap();
    assert_eq!(after, a_client_jwks(&a).await);
    assert!(after.keys.iter().any(|k| k.kid == new_kid));
    assert_eq!(after.keys.len(), before.keys.len() + 3);
    b.shutdown().await;
    a.shutdown().await;
}

async fn a_client_jwks(server: &RunningServer) -> consola::domain::oauth::Jwks {
    Client::new(&server.url()).unwrap().jwks().await.unwrap()
}

/// A data directory served without a secret keeps its keys when one is given: the first
/// start with it seals the files' keys into the database (SQLite, the only store that runs
/// without a secret).
#[tokio::test]
async fn the_first_start_with_a_secret_takes_the_keys_of_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut config = ServerConfig::new(data.clone(), "127.0.0.1:0".parse().unwrap());
    config.service.issuer = Some(PUBLIC_URL.into());
    let server = consola::server::start(config).await.unwrap();
    let admin = set_up(&server).await;
    let issued = issue(&server, &admin).await;
    let host = consola::ssh::host_key::load_or_create(&data).unwrap();
    server.shutdown().await;
    assert_eq!(key_files(&data).len(), 3);

    let server = start(&data, None, S1, None).await.unwrap();
    still_holds(&server, &issued).await;
    let sealed =
        consola::ssh::host_key::load_or_create_sealed(server.service.sealed_keys().unwrap(), &data)
            .await
            .unwrap();
    assert_eq!(
        consola::ssh::host_key::fingerprint(&sealed),
        consola::ssh::host_key::fingerprint(&host),
        "admins keep trusting the same host key"
    );
    assert_eq!(sealed_rows(&server).await.len(), 4);
    server.shutdown().await;
}

/// Three replicas that start at once over a new database each make keys; one of each is
/// stored and all three use it.
#[tokio::test]
async fn replicas_starting_at_once_agree_on_one_set_of_keys() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("a");
    let url = match common::database::url_for(&first) {
        Some(url) => url,
        None => {
            // SQLite: the file made (and migrated) once, then shared.
            let path = dir.path().join("compartida.db");
            consola::store::SqliteStore::open(&path, None)
                .await
                .unwrap();
            format!("sqlite:{}", path.display())
        }
    };
    let starts = ["a", "b", "c"].map(|name| {
        let (data, url) = (dir.path().join(name), url.clone());
        async move { start(&data, Some(url), S1, None).await.unwrap() }
    });
    let replicas = futures::future::join_all(starts).await;
    let admin = set_up(&replicas[0]).await;
    let [(erp, erp_secret), _] = consumers(&admin).await;
    let token = Client::new(&replicas[1].url())
        .unwrap()
        .token_client_credentials(&erp, &erp_secret, None)
        .await
        .unwrap()
        .access_token;
    let jwks = a_client_jwks(&replicas[0]).await;
    for replica in &replicas {
        assert_eq!(
            a_client_jwks(replica).await,
            jwks,
            "one set of signing keys"
        );
        // An opaque token tagged by B verifies on each: one HMAC key.
        let answer = Client::new(&replica.url())
            .unwrap()
            .introspect(token.expose(), Some((&erp, &erp_secret)))
            .await
            .unwrap();
        assert!(answer.active);
    }
    assert_eq!(sealed_rows(&replicas[2]).await.len(), 3);
    for replica in replicas {
        replica.shutdown().await;
    }
}
