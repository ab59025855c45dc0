//! Storage faults never cost an acknowledged write. The database is made to refuse writes (a
//! size limit reached, as on a full disk; its files made read-only; its write lock held by
//! another process), and writes of every kind are sent. Each one either fails with 503 (a
//! `Retry-After` and a detail that says why), or is stored: an independent read-only
//! connection sees it, and it is still there after a restart. Once the fault is removed,
//! writes succeed again without a restart, and `/readyz` follows.

mod common;
mod faults;

use common::new_consumer;
use consola::client::Client;
use consola::server::{RunningServer, ServerConfig};
use faults::*;
use sqlx::Connection;
use sqlx::sqlite::SqliteConnectOptions;
use std::path::{Path, PathBuf};
use uuid::Uuid;

async fn start(data: &Path, max_pages: Option<u32>) -> RunningServer {
    let mut config = ServerConfig::new(data.to_path_buf(), "127.0.0.1:0".parse().unwrap());
    config.database_max_pages = max_pages;
    consola::server::start(config).await.expect("server starts")
}

fn db_path(data: &Path) -> PathBuf {
    data.join("consola.db")
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

/// Writes of every kind until the database is full, while it is, and after space returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_database_refuses_writes_with_503_and_takes_them_again_when_space_returns() {
    const MAX_PAGES: u32 = 200;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data, Some(MAX_PAGES)).await;
    let (anonymous, admin, group_id) = signed_in(&server.url()).await;
    let mut ledger = Ledger::default();
    for i in 0..3 {
        write(&admin, &anonymous, group_id, &mut ledger, i * 9, "lleno").await;
    }
    assert_eq!(ledger.refused, 0);

    // Ballast from another connection leaves a few pages free.
    let ballast = Ballast::leaving(&db_path(&data), MAX_PAGES, 6).await;

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
    assert_stored(&db_path(&data), &ledger).await;

    // 4. Space returns: writes succeed again, without a restart.
    ballast.remove().await;
    let refused_before = ledger.refused;
    for i in 0..18 {
        write(&admin, &anonymous, group_id, &mut ledger, i, "lleno").await;
    }
    assert_eq!(
        ledger.refused, refused_before,
        "writes succeed once space returns"
    );
    assert_eq!(readyz(&server.url()).await, 200, "ready again");
    assert_stored(&db_path(&data), &ledger).await;

    // And all of it survives a restart.
    server.shutdown().await;
    let server = start(&data, None).await;
    assert_served(&server.url(), &ledger).await;
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
    let (anonymous, admin, group_id) = signed_in(&server.url()).await;
    let mut ledger = Ledger::default();
    write(&admin, &anonymous, group_id, &mut ledger, 0, "bloquea").await;
    let consumer = ledger.live_consumer(0);
    let (client_id, secret, _) = ledger.consumers[&consumer].clone();
    let token = anonymous
        .token_client_credentials(&client_id, &secret, None)
        .await
        .unwrap()
        .access_token;

    let mut holder =
        sqlx::SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(db_path(&data)))
            .await
            .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .unwrap();
    // Three writes at once, each waiting out the busy timeout.
    let blocked = new_consumer("Bloqueado A", group_id);
    let (a, b, c) = tokio::join!(
        admin.create_consumer(&blocked),
        admin.delete_consumer(consumer),
        anonymous.revoke(token.expose(), Some((&client_id, &secret))),
    );
    // The first to wait is told another process holds the lock; those queued behind it
    // may be told the database does not answer in time.
    let details: Vec<String> = [&a.as_ref().err(), &b.as_ref().err()]
        .iter()
        .filter_map(|e| e.and_then(|e| e.problem()).map(|p| p.detail.clone()))
        .collect();
    assert!(
        details.iter().any(|d| d.contains("bloquea")),
        "a refusal names the lock: {details:?}"
    );
    ledger.answer(a.map(|_| ()), "no se guardó");
    ledger.answer(b.map(|_| ()), "no se guardó");
    assert_eq!(
        c.err().and_then(|e| e.status()),
        Some(503),
        "the revocation is refused (an OAuth error body: temporarily_unavailable)"
    );
    assert_eq!(
        ledger.refused, 2,
        "every write refused while the lock is held"
    );
    assert_eq!(readyz(&server.url()).await, 503);
    // The refused revocation is not in force: memory holds only what the database does.
    let introspected = anonymous
        .introspect(token.expose(), Some((&client_id, &secret)))
        .await
        .unwrap();
    assert!(
        introspected.active,
        "a revocation the database refused is not in force"
    );

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
    assert_stored(&db_path(&data), &ledger).await;
    server.shutdown().await;
    let server = start(&data, None).await;
    assert_served(&server.url(), &ledger).await;
    server.shutdown().await;
}

/// The token counts kept in memory wait through a fault and are written once it ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_counts_survive_a_failed_flush() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data, None).await;
    let (anonymous, admin, group_id) = signed_in(&server.url()).await;
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
            .token_client_credentials(
                &created.consumer.client_id,
                created.client_secret.as_ref().expect("a secret"),
                None,
            )
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
    let db = read_only(&db_path(&data)).await;
    let issued: i64 = sqlx::query_scalar("SELECT COALESCE(SUM(issued), 0) FROM token_stats")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(issued, 3, "the counts kept through the failed flush");
    db.close().await;
    server.shutdown().await;
}
