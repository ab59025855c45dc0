//! A read request makes no write (issue 25): every GET of the console's API, over a signed-in
//! session, leaves the database as it was, on SQLite and on PostgreSQL. The watch is the
//! database's own: SQLite's `data_version`, which changes when another connection commits,
//! and on PostgreSQL a statement trigger on every table, which fires even for a statement
//! that changes no row.
//!
//! Two GETs write by design and are left out: `/api-key/secret` audits who saw the legacy
//! secret, and `/modules/{module}/access` keeps the Hawk nonce it was signed with.

mod common;

use common::*;
use consola::domain::*;
use sqlx::Connection;

/// What the database says has been written since the watch began.
enum Watch {
    Sqlite {
        conn: sqlx::SqliteConnection,
        version: i64,
    },
    Postgres(sqlx::PgConnection),
}

const NOTE_WRITES: &str = r#"
    CREATE TABLE test_writes (written text NOT NULL);
    CREATE FUNCTION test_note_write() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO test_writes VALUES (TG_OP || ' ' || TG_TABLE_NAME); RETURN NULL; END
    $$;
    DO $$ DECLARE t text; BEGIN
        FOR t IN SELECT tablename FROM pg_tables
                 WHERE schemaname = 'public' AND tablename <> 'test_writes' LOOP
            EXECUTE format('CREATE TRIGGER test_note_write
                AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I
                FOR EACH STATEMENT EXECUTE FUNCTION test_note_write()', t);
        END LOOP;
    END $$;"#;

impl Watch {
    async fn start(t: &TestServer) -> Watch {
        match database::url_for(&t.data_dir()) {
            Some(url) => {
                let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
                sqlx::raw_sql(NOTE_WRITES)
                    .execute(&mut conn)
                    .await
                    .expect("triggers");
                Watch::Postgres(conn)
            }
            None => {
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(t.data_dir().join("consola.db"))
                    .read_only(true);
                let mut conn = sqlx::SqliteConnection::connect_with(&options)
                    .await
                    .expect("open");
                let version = data_version(&mut conn).await;
                Watch::Sqlite { conn, version }
            }
        }
    }

    /// The writes seen so far: on PostgreSQL each statement's kind and table; on SQLite
    /// one line if anything was committed.
    async fn writes(&mut self) -> Vec<String> {
        match self {
            Watch::Postgres(conn) => sqlx::query_scalar("SELECT written FROM test_writes")
                .fetch_all(conn)
                .await
                .expect("writes"),
            Watch::Sqlite { conn, version } => {
                let now = data_version(conn).await;
                if now == *version {
                    Vec::new()
                } else {
                    vec![format!("data_version {version} → {now}")]
                }
            }
        }
    }
}

async fn data_version(conn: &mut sqlx::SqliteConnection) -> i64 {
    sqlx::query_scalar("PRAGMA data_version")
        .fetch_one(conn)
        .await
        .expect("data_version")
}

#[tokio::test]
async fn read_requests_write_nothing() {
    let t = TestServer::start().await;
    let sup = t.setup().await;
    let g = group(&sup, "Reportes", "reports").await;
    let mut consumers = Vec::new();
    for i in 0..3 {
        let made = sup
            .create_consumer(&new_consumer(&format!("Consumidor {i}"), g.id))
            .await
            .expect("consumer");
        consumers.push(made.consumer);
    }
    let me = sup.me().await.expect("me");
    let mut watch = Watch::start(&t).await;
    assert_eq!(watch.writes().await, Vec::<String>::new(), "a quiet start");

    // Each read twice: a write that only the first of them made would show too.
    for _ in 0..2 {
        sup.health().await.expect("healthz");
        assert_eq!(readyz(&t.server.url()).await, 200);
        sup.setup_status().await.expect("setup");
        sup.me().await.expect("me");
        sup.modules().await.expect("modules");
        sup.account().await.expect("account");
        sup.api_key().await.expect("api key");
        sup.signing_keys().await.expect("signing keys");
        sup.dashboard(&DashboardQuery::default())
            .await
            .expect("dashboard");
        sup.audit(&AuditQuery::default()).await.expect("audit");
        sup.users().await.expect("users");
        sup.user(me.id).await.expect("user");
        sup.my_ssh_keys().await.expect("my keys");
        sup.user_ssh_keys(me.id).await.expect("a user's keys");
        sup.permission_groups().await.expect("groups");
        sup.permission_group(g.id).await.expect("group");
        let first = sup
            .consumers(&ConsumerQuery {
                q: None,
                limit: Some(2),
                cursor: None,
            })
            .await
            .expect("first page");
        sup.consumers(&ConsumerQuery {
            q: Some("consumidor".into()),
            limit: Some(2),
            cursor: first.next_cursor.clone(),
        })
        .await
        .expect("a search's next page");
        sup.consumer(consumers[0].id).await.expect("consumer");
        sup.openapi().await.expect("openapi");
        sup.metadata().await.expect("metadata");
        sup.jwks().await.expect("jwks");
    }
    assert_eq!(watch.writes().await, Vec::<String>::new(), "reads wrote");

    // The watch sees a write: one request that changes something.
    sup.delete_consumer(consumers[2].id).await.expect("delete");
    assert!(!watch.writes().await.is_empty(), "the rename went unseen");
}
