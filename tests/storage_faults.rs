//! Storage faults never cost an acknowledged write. The database is made to refuse writes (a
//! size limit reached, as on a full disk; its files made read-only; its write lock held by
//! another process), and writes of every kind are sent. Each one either fails with 503 (a
//! `Retry-After` and a detail that says why), or is stored: an independent read-only
//! connection sees it, and it is still there after a restart. Once the fault is removed,
//! writes succeed again without a restart, and `/readyz` follows.

mod common;

use common::{PASSWORD, group, new_consumer};
use consola::client::{Client, ClientError};
use consola::domain::secret::{self, SecretText};
use consola::domain::*;
use consola::server::{RunningServer, ServerConfig};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{Connection, Row};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;
use uuid::Uuid;

/// Writes sent while the fault holds.
const WRITES_UNDER_FAULT: usize = 50;

async fn start(data: &Path, max_pages: Option<u32>) -> RunningServer {
    let mut config = ServerConfig::new(data.to_path_buf(), "127.0.0.1:0".parse().unwrap());
    config.database_max_pages = max_pages;
    consola::server::start(config).await.expect("server starts")
}

fn db_path(data: &Path) -> PathBuf {
    data.join("consola.db")
}

/// A connection of the test's own, as another process would open the file.
async fn own_connection(data: &Path, read_only: bool) -> SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(db_path(data))
        .read_only(read_only)
        .busy_timeout(Duration::from_secs(10));
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("own connection")
}

async fn page_count(pool: &SqlitePool) -> i64 {
    sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// What the server acknowledged, to be found again.
#[derive(Default)]
struct Ledger {
    consumers: HashMap<Uuid, (String, SecretText, String)>,
    deleted: HashSet<Uuid>,
    groups: HashMap<Uuid, String>,
    users: HashMap<Uuid, String>,
    sessions: Vec<SecretText>,
    tried: usize,
    acknowledged: usize,
    refused: usize,
}

impl Ledger {
    /// A consumer acknowledged and not deleted, to edit.
    fn live_consumer(&self, n: usize) -> Uuid {
        let mut ids: Vec<_> = self.consumers.keys().copied().collect();
        ids.sort();
        ids[n % ids.len()]
    }

    /// Counts an answer: an error must be a 503 that says the storage refused.
    fn answer<T>(&mut self, result: Result<T, ClientError>, expected_words: &str) -> Option<T> {
        self.tried += 1;
        match result {
            Ok(value) => {
                self.acknowledged += 1;
                Some(value)
            }
            Err(err) => {
                assert_eq!(err.status(), Some(503), "a write under a fault: {err}");
                let detail = err.problem().map(|p| p.detail.to_lowercase()).unwrap();
                assert!(
                    detail.contains(expected_words),
                    "the detail says why ({expected_words}): {detail}"
                );
                self.refused += 1;
                None
            }
        }
    }
}

fn long_description(i: usize) -> String {
    format!("{i:04} {}", "x".repeat(400))
}

/// One write of each kind in turn: consumers (create, edit, rotate, delete), groups (create,
/// edit), users (create, edit) and a login.
async fn write(
    admin: &Client,
    anonymous: &Client,
    group_id: Uuid,
    ledger: &mut Ledger,
    i: usize,
    words: &str,
) {
    // Names unique across the whole test.
    let n = ledger.tried;
    match i % 9 {
        0 => {
            let mut new = new_consumer(&format!("Fallo {n}"), group_id);
            new.description = long_description(i);
            if let Some(created) = ledger.answer(admin.create_consumer(&new).await, words) {
                ledger.consumers.insert(
                    created.consumer.id,
                    (
                        created.consumer.client_id,
                        created.client_secret,
                        new.description,
                    ),
                );
            }
        }
        1 => {
            let id = ledger.live_consumer(i);
            let description = format!("editado {i}");
            let patch = ConsumerPatch {
                description: Some(description.clone()),
                ..Default::default()
            };
            if ledger
                .answer(admin.update_consumer(id, &patch, None).await, words)
                .is_some()
            {
                ledger.consumers.get_mut(&id).unwrap().2 = description;
            }
        }
        2 => {
            let id = ledger.live_consumer(i);
            let rotate = RotateSecret::default();
            if let Some(rotated) = ledger.answer(admin.rotate_secret(id, &rotate).await, words) {
                ledger.consumers.get_mut(&id).unwrap().1 = rotated.client_secret;
            }
        }
        3 => {
            if ledger.consumers.len() > 2 {
                let id = ledger.live_consumer(i);
                if ledger
                    .answer(admin.delete_consumer(id).await, words)
                    .is_some()
                {
                    ledger.consumers.remove(&id);
                    ledger.deleted.insert(id);
                }
            }
        }
        4 => {
            let new = NewPermissionGroup {
                name: format!("Grupo {n}"),
                description: long_description(i),
                read_only: false,
                permissions: vec![],
            };
            if let Some(created) = ledger.answer(admin.create_permission_group(&new).await, words) {
                ledger.groups.insert(created.id, new.description);
            }
        }
        5 => {
            let description = format!("grupo editado {i}");
            let patch = PermissionGroupPatch {
                description: Some(description.clone()),
                ..Default::default()
            };
            if ledger
                .answer(admin.update_permission_group(group_id, &patch).await, words)
                .is_some()
            {
                ledger.groups.insert(group_id, description);
            }
        }
        6 => {
            let new = NewUser {
                username: format!("usuario{n}"),
                display_name: format!("Usuario {n}"),
                password: PASSWORD.into(),
                role: Role::ReadOnly,
            };
            if let Some(user) = ledger.answer(admin.create_user(&new).await, words) {
                ledger.users.insert(user.id, new.display_name);
            }
        }
        7 => {
            let Some(&id) = ledger.users.keys().next() else {
                return;
            };
            let name = format!("Renombrado {i}");
            let patch = UserPatch {
                display_name: Some(name.clone()),
                ..Default::default()
            };
            if ledger
                .answer(admin.update_user(id, &patch).await, words)
                .is_some()
            {
                ledger.users.insert(id, name);
            }
        }
        _ => {
            if let Some(session) =
                ledger.answer(anonymous.login("superadmin", PASSWORD).await, words)
            {
                ledger.sessions.push(session.token);
            }
        }
    }
}

/// Every acknowledged write, as an independent read-only connection sees the file.
async fn assert_stored(data: &Path, ledger: &Ledger) {
    let db = own_connection(data, true).await;
    for (id, (client_id, secret, description)) in &ledger.consumers {
        let row =
            sqlx::query("SELECT client_id, secret_digest, description FROM consumers WHERE id = ?")
                .bind(id.to_string())
                .fetch_optional(&db)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("acknowledged consumer {id} is not in the file"));
        assert_eq!(row.get::<String, _>("client_id"), *client_id);
        assert_eq!(row.get::<String, _>("description"), *description);
        assert_eq!(
            row.get::<Vec<u8>, _>("secret_digest"),
            secret::digest(secret.expose()).to_vec(),
            "the acknowledged secret of {id} is the stored one"
        );
    }
    for id in &ledger.deleted {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM consumers WHERE id = ?")
            .bind(id.to_string())
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(n, 0, "acknowledged deletion of {id}");
    }
    for (id, description) in &ledger.groups {
        let stored: String =
            sqlx::query_scalar("SELECT description FROM permission_groups WHERE id = ?")
                .bind(id.to_string())
                .fetch_one(&db)
                .await
                .unwrap_or_else(|e| panic!("acknowledged group {id}: {e}"));
        assert_eq!(stored, *description);
    }
    for (id, name) in &ledger.users {
        let stored: String = sqlx::query_scalar("SELECT display_name FROM users WHERE id = ?")
            .bind(id.to_string())
            .fetch_one(&db)
            .await
            .unwrap_or_else(|e| panic!("acknowledged user {id}: {e}"));
        assert_eq!(stored, *name);
    }
    for session in &ledger.sessions {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE digest = ?")
            .bind(secret::digest(session.expose()).to_vec())
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(n, 1, "an acknowledged login's session is stored");
    }
    db.close().await;
}

/// Every acknowledged write, through the API of a restarted server: consumers get tokens with
/// their acknowledged secret, and sessions still sign in.
async fn assert_served(server: &RunningServer, ledger: &Ledger) {
    let anonymous = Client::new(&server.url()).unwrap();
    for (id, (client_id, secret, _)) in &ledger.consumers {
        anonymous
            .token_client_credentials(client_id, secret, None)
            .await
            .unwrap_or_else(|e| panic!("acknowledged consumer {id} gets no token: {e}"));
    }
    for session in &ledger.sessions {
        anonymous
            .with_token(session.clone())
            .me()
            .await
            .expect("an acknowledged session works after a restart");
    }
}

async fn readyz(url: &str) -> u16 {
    reqwest::get(format!("{url}/readyz"))
        .await
        .expect("readyz answers")
        .status()
        .as_u16()
}

/// A refused write's raw answer: 503, `Retry-After`, problem+json.
async fn assert_refusal_shape(server: &RunningServer, admin: &Client, group_id: Uuid) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/consumers", server.url()))
        .bearer_auth(admin.token().unwrap().expose())
        .json(&new_consumer("Forma de la respuesta", group_id))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert!(
        response.headers().get("retry-after").is_some(),
        "Retry-After"
    );
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}

async fn signed_in(server: &RunningServer) -> (Client, Client, Uuid) {
    let anonymous = Client::new(&server.url()).unwrap();
    if anonymous.setup_status().await.unwrap().needed {
        anonymous
            .setup(
                &SetupRequest {
                    account_name: "Cuenta".into(),
                    username: "superadmin".into(),
                    display_name: "Súper".into(),
                    password: PASSWORD.into(),
                },
                None,
            )
            .await
            .unwrap();
    }
    let token = anonymous.login("superadmin", PASSWORD).await.unwrap().token;
    let admin = anonymous.with_token(token);
    let group = group(&admin, "Reportes", "reports").await;
    (anonymous, admin, group.id)
}

/// Writes of every kind until the database is full, while it is, and after space returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_database_refuses_writes_with_503_and_takes_them_again_when_space_returns() {
    const MAX_PAGES: u32 = 200;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data, Some(MAX_PAGES)).await;
    let (anonymous, admin, group_id) = signed_in(&server).await;
    let mut ledger = Ledger::default();
    for i in 0..3 {
        write(&admin, &anonymous, group_id, &mut ledger, i * 9, "lleno").await;
    }
    assert_eq!(ledger.refused, 0);

    // Ballast from another connection (no size limit of its own) leaves a few pages free.
    let other = own_connection(&data, false).await;
    sqlx::query("CREATE TABLE ballast (filler BLOB)")
        .execute(&other)
        .await
        .unwrap();
    while page_count(&other).await < i64::from(MAX_PAGES) - 6 {
        sqlx::query("INSERT INTO ballast VALUES (zeroblob(2000))")
            .execute(&other)
            .await
            .unwrap();
    }

    // 1. Fill it until a write fails.
    let mut i = 0;
    while ledger.refused == 0 {
        assert!(i < 1_000, "the database never filled");
        write(&admin, &anonymous, group_id, &mut ledger, i * 9, "lleno").await;
        i += 1;
    }
    assert_eq!(
        readyz(&server.url()).await,
        503,
        "not ready while writes fail"
    );
    assert_refusal_shape(&server, &admin, group_id).await;

    // 2. Writes of every kind while it is full: 503, or stored.
    for i in 0..WRITES_UNDER_FAULT {
        write(&admin, &anonymous, group_id, &mut ledger, i, "lleno").await;
    }
    assert!(ledger.refused >= 5, "writes that need space are refused");
    // 3. What was acknowledged is in the file, as another process reads it.
    assert_stored(&data, &ledger).await;

    // 4. Space returns: writes succeed again, without a restart.
    sqlx::query("DROP TABLE ballast")
        .execute(&other)
        .await
        .unwrap();
    other.close().await;
    let refused_before = ledger.refused;
    for i in 0..18 {
        write(&admin, &anonymous, group_id, &mut ledger, i, "lleno").await;
    }
    assert_eq!(
        ledger.refused, refused_before,
        "writes succeed once space returns"
    );
    assert_eq!(readyz(&server.url()).await, 200, "ready again");
    assert_stored(&data, &ledger).await;

    // And all of it survives a restart.
    server.shutdown().await;
    let server = start(&data, None).await;
    assert_served(&server, &ledger).await;
    eprintln!(
        "full database: {} writes tried, {} acknowledged, {} refused with 503; all {} acknowledged found after restart",
        ledger.tried, ledger.acknowledged, ledger.refused, ledger.acknowledged
    );
    server.shutdown().await;
}

/// The write lock held by another process: writes wait, then get 503; once it is released
/// they succeed again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_held_by_another_process_gets_503_and_writes_resume_when_it_is_released() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data, None).await;
    let (anonymous, admin, group_id) = signed_in(&server).await;
    let mut ledger = Ledger::default();
    write(&admin, &anonymous, group_id, &mut ledger, 0, "bloquea").await;

    let mut holder =
        sqlx::SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(db_path(&data)))
            .await
            .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .unwrap();
    // Two writes at once, each waiting out the busy timeout.
    let blocked = new_consumer("Bloqueado A", group_id);
    let (a, b) = tokio::join!(
        admin.create_consumer(&blocked),
        admin.delete_consumer(ledger.live_consumer(0)),
    );
    ledger.answer(a.map(|_| ()), "bloquea");
    ledger.answer(b.map(|_| ()), "bloquea");
    assert_eq!(
        ledger.refused, 2,
        "both writes refused while the lock is held"
    );
    assert_eq!(readyz(&server.url()).await, 503);

    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    holder.close().await.unwrap();
    for i in 0..9 {
        write(&admin, &anonymous, group_id, &mut ledger, i, "bloquea").await;
    }
    assert_eq!(
        ledger.refused, 2,
        "writes succeed once the lock is released"
    );
    assert_eq!(readyz(&server.url()).await, 200);
    assert_stored(&data, &ledger).await;
    server.shutdown().await;
    let server = start(&data, None).await;
    assert_served(&server, &ledger).await;
    server.shutdown().await;
}

/// The token counts kept in memory wait through a fault and are written once it ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_counts_survive_a_failed_flush() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data, None).await;
    let (anonymous, admin, group_id) = signed_in(&server).await;
    let created = admin
        .create_consumer(&new_consumer("Contado", group_id))
        .await
        .unwrap();
    let mut holder =
        sqlx::SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(db_path(&data)))
            .await
            .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .unwrap();
    for _ in 0..3 {
        anonymous
            .token_client_credentials(&created.consumer.client_id, &created.client_secret, None)
            .await
            .expect("tokens are issued from memory during the fault");
    }
    assert!(
        server.service.flush_token_stats().await.is_err(),
        "the flush fails while another process holds the lock"
    );
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    holder.close().await.unwrap();
    server
        .service
        .flush_token_stats()
        .await
        .expect("flush after the fault");
    let db = own_connection(&data, true).await;
    let issued: i64 = sqlx::query_scalar("SELECT COALESCE(SUM(issued), 0) FROM token_stats")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(issued, 3, "the counts kept through the failed flush");
    db.close().await;
    server.shutdown().await;
}
