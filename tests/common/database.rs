//! Which database a test's server uses: SQLite in its data directory (the default), or,
//! with `CONSOLA_TEST_POSTGRES=postgres://…` set, a fresh PostgreSQL database of its own on
//! that server, so the same test functions run on both stores.
//!
//! A data directory keeps its database across restarts of its server. Each database is
//! named `consola_test_…` and remembers (as its comment) the temporary directory it
//! belongs to; once that directory is gone, the next test that makes a database drops it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

/// The variable that turns the PostgreSQL runs on: a URL whose user may create databases.
pub const POSTGRES_VAR: &str = "CONSOLA_TEST_POSTGRES";

/// The PostgreSQL server, for the tests that need one; without it they say so (and stop).
pub fn postgres_or_say_so() -> Option<String> {
    let server = postgres();
    if server.is_none() {
        eprintln!("not tried: set {POSTGRES_VAR} to a PostgreSQL URL");
    }
    server
}

/// The PostgreSQL server the tests run on, if any.
pub fn postgres() -> Option<String> {
    std::env::var(POSTGRES_VAR)
        .ok()
        .filter(|url| !url.is_empty())
}

/// The system secret of every test server on PostgreSQL (which requires one), as
/// `CONSOLA_SYSTEM_SECRET` takes it.
pub const TEST_SYSTEM_SECRET: &str = "consola-test-system-secret-0123456789abcdef";

/// The system secret a test server over `database` is given: the test one on PostgreSQL,
/// none on SQLite (whose keys stay in the data directory's files).
pub fn system_secret_for(
    database: Option<&str>,
) -> Option<consola::domain::system_secret::SystemSecret> {
    database.filter(|url| consola::store::is_postgres_url(url))?;
    Some(test_system_secret())
}

pub fn test_system_secret() -> consola::domain::system_secret::SystemSecret {
    consola::domain::system_secret::SystemSecret::new(TEST_SYSTEM_SECRET.as_bytes().to_vec())
        .expect("a long enough secret")
}

/// One database for several stores or servers under `dir`: a PostgreSQL database of its
/// own, or a SQLite file.
pub fn shared_url(dir: &Path) -> String {
    url_for(&dir.join("shared"))
        .unwrap_or_else(|| format!("sqlite:{}", dir.join("shared.db").display()))
}

/// Two stores over the one database of [`shared_url`], as two replicas open it.
pub async fn two_stores(
    dir: &Path,
) -> (
    std::sync::Arc<dyn consola::store::Store>,
    std::sync::Arc<dyn consola::store::Store>,
) {
    let database = shared_url(dir);
    let one = consola::store::open_url(&database, None)
        .await
        .expect("one store");
    let two = consola::store::open_url(&database, None)
        .await
        .expect("two stores");
    (one, two)
}

/// The `--database` URL for a server over `data_dir`: `None` for SQLite in the directory.
pub fn url_for(data_dir: &Path) -> Option<String> {
    let server = postgres()?;
    static MADE: LazyLock<Mutex<HashMap<PathBuf, String>>> = LazyLock::new(Default::default);
    let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(url) = made.get(data_dir) {
        return Some(url.clone());
    }
    let owner = existing_ancestor(data_dir);
    let url = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime")
                    .block_on(create(&server, &owner))
            })
            .join()
            .expect("database made")
    });
    made.insert(data_dir.to_path_buf(), url.clone());
    Some(url)
}

/// The directory whose removal ends the database: the test's temporary directory (the data
/// directory itself may not exist yet).
fn existing_ancestor(data_dir: &Path) -> PathBuf {
    let mut dir = data_dir;
    while !dir.exists() {
        match dir.parent() {
            Some(parent) => dir = parent,
            None => break,
        }
    }
    dir.to_path_buf()
}

async fn create(server: &str, owner: &Path) -> String {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(server)
        .await
        .unwrap_or_else(|e| panic!("{POSTGRES_VAR}: no connection: {e}"));
    drop_orphans(&mut admin).await;
    let name = format!("consola_test_{}", uuid::Uuid::now_v7().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("CREATE DATABASE");
    let owner = owner.to_string_lossy().replace('\'', "''");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "COMMENT ON DATABASE {name} IS '{owner}'"
    )))
    .execute(&mut admin)
    .await
    .expect("COMMENT ON DATABASE");
    let _ = admin.close().await;
    let mut url = url::Url::parse(server).expect("a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// Drops the test databases whose directory is gone (their test has ended), whichever test
/// binary made them.
async fn drop_orphans(admin: &mut sqlx::PgConnection) {
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT datname::text, shobj_description(oid, 'pg_database')
         FROM pg_database WHERE datname LIKE 'consola\\_test\\_%'",
    )
    .fetch_all(&mut *admin)
    .await
    .expect("list test databases");
    for (name, owner) in rows {
        // A database just made by another test has no comment yet: it is not an orphan.
        let Some(owner) = owner else { continue };
        if Path::new(&owner).exists() {
            continue;
        }
        // Another binary may drop it at the same time; either way it is gone.
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut *admin)
        .await;
    }
}

/// The size of a test database's files, seen by a connection of its own.
pub async fn postgres_size(url: &str) -> u64 {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .expect("a connection");
    let size: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(&mut conn)
        .await
        .expect("pg_database_size");
    size.max(0) as u64
}

/// The key that tags opaque tokens, where the server keeps it: sealed in the database when
/// it has a system secret (always on PostgreSQL), else in the data directory's file.
pub async fn token_hmac_key(server: &consola::server::RunningServer, data_dir: &Path) -> Vec<u8> {
    use consola::service::sealed_keys::KeyName;
    match server.service.sealed_keys() {
        Some(sealed) => {
            sealed
                .read(KeyName::TokenHmac)
                .await
                .expect("the key opens")
                .expect("a token key")
                .plain
        }
        None => std::fs::read(data_dir.join("token.key")).expect("token key"),
    }
}
