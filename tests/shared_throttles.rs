//! Throttles hold across replicas: two servers over one database (a shared SQLite file, or
//! with `CONSOLA_TEST_POSTGRES` one PostgreSQL database) count the same failures, refuse
//! the same keys, forget them on a success on either, and keep a block over a restart.

mod common;

use chrono::Utc;
use common::*;
use consola::client::Client;
use consola::domain::secret::{self, SecretKind, SecretText};
use consola::domain::*;
use consola::server::RunningServer;
use consola::service::{Caller, ManualClock, ServiceError};
use consola::store::ThrottleRule;
use sha2::Digest;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;

/// Two replicas over one database, sharing a clock as replicas share the wall clock.
struct Replicas {
    dir: TempDir,
    database: String,
    clock: Arc<ManualClock>,
    a: RunningServer,
    b: RunningServer,
    restarts: u32,
}

impl Replicas {
    async fn start() -> Replicas {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = database::shared_url(dir.path());
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let a = start_replica(dir.path().join("a"), &database, Some(clock.clone())).await;
        // The same vault key, as replicas share their keys: B can open the legacy API
        // secret A sealed. With PostgreSQL it is in the database, under the system secret.
        let vault = dir.path().join("a").join("vault.key");
        if vault.exists() {
            std::fs::create_dir_all(dir.path().join("b")).expect("b");
            std::fs::copy(&vault, dir.path().join("b").join("vault.key")).expect("vault key");
        }
        let b = start_replica(dir.path().join("b"), &database, Some(clock.clone())).await;
        Replicas {
            dir,
            database,
            clock,
            a,
            b,
            restarts: 0,
        }
    }

    fn data_dir(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Sets the account up on A; returns the Súper Administrador's client there.
    async fn setup(&self) -> Client {
        let anonymous = Client::new(&self.a.url()).expect("client");
        anonymous
            .setup(
                &SetupRequest {
                    account_name: "FRACTTAL - Activación".into(),
                    username: "superadmin".into(),
                    display_name: "Sara Súper".into(),
                    password: PASSWORD.into(),
                },
                None,
            )
            .await
            .expect("setup");
        let answer = anonymous
            .login("superadmin", PASSWORD)
            .await
            .expect("login");
        anonymous.with_token(answer.token)
    }

    /// A restart of A: a new process, with nothing in memory.
    async fn restart_a(&mut self) {
        self.restarts += 1;
        let dir = self.data_dir(&format!("a{}", self.restarts));
        let fresh = start_replica(dir, &self.database, Some(self.clock.clone())).await;
        let old = std::mem::replace(&mut self.a, fresh);
        old.shutdown().await;
    }
}

/// The login rule (5 failures) with the throttle's window and blocks.
const RULE: ThrottleRule = ThrottleRule {
    limit: 5,
    window: Duration::from_secs(900),
    first_block: Duration::from_secs(30),
    longest_block: Duration::from_secs(900),
};

fn attacker() -> Caller {
    Caller::anonymous("198.51.100.7".parse().expect("address"))
}

fn login(password: &str) -> LoginRequest {
    LoginRequest {
        username: "superadmin".into(),
        password: password.into(),
    }
}

/// What a login of `superadmin` with `password` from the attacker's address gets.
async fn login_on(server: &RunningServer, password: &str) -> &'static str {
    match server.service.login(&attacker(), login(password)).await {
        Ok(_) => "in",
        Err(ServiceError::Unauthenticated) => "wrong",
        Err(ServiceError::TooManyRequests { retry_after }) => {
            assert!((1..=900).contains(&retry_after), "{retry_after}");
            "throttled"
        }
        Err(other) => panic!("unexpected {other:?}"),
    }
}

/// A consumer made on A, and a secret that is not its own.
async fn consumer(sup: &Client) -> (String, SecretText, SecretText) {
    let g = group(sup, "Reportes", "reports").await;
    let created = sup
        .create_consumer(&new_consumer("ERP", g.id))
        .await
        .expect("consumer");
    let wrong = SecretText::new(secret::generate(SecretKind::ClientSecret));
    (
        created.consumer.client_id,
        created.client_secret.expect("a secret"),
        wrong,
    )
}

/// The token endpoint's status for these credentials on `server`.
async fn token_status(server: &RunningServer, client_id: &str, secret: &SecretText) -> u16 {
    let anonymous = Client::new(&server.url()).expect("client");
    match anonymous
        .token_client_credentials(client_id, secret, None)
        .await
    {
        Ok(_) => 200,
        Err(err) => err.status().expect("an API answer"),
    }
}

#[tokio::test]
async fn five_wrong_passwords_over_two_replicas_lock_the_user_on_both() {
    let r = Replicas::start().await;
    let _ = r.setup().await;
    // Four on each side would stay under the limit on either replica alone.
    for server in [&r.a, &r.b, &r.a, &r.b, &r.a] {
        assert_eq!(login_on(server, "incorrecta").await, "wrong");
    }
    assert_eq!(login_on(&r.b, PASSWORD).await, "throttled");
    assert_eq!(login_on(&r.a, PASSWORD).await, "throttled");
    // From elsewhere the user is refused too: the user's key is blocked, not the address.
    let colleague = Caller::anonymous("198.51.100.8".parse().unwrap());
    assert!(matches!(
        r.b.service.login(&colleague, login(PASSWORD)).await,
        Err(ServiceError::TooManyRequests { .. })
    ));
}

#[tokio::test]
async fn a_success_on_one_replica_forgets_the_failures_on_both() {
    let r = Replicas::start().await;
    let _ = r.setup().await;
    for server in [&r.a, &r.b, &r.a, &r.b] {
        assert_eq!(login_on(server, "incorrecta").await, "wrong");
    }
    assert_eq!(login_on(&r.a, PASSWORD).await, "in");
    // Four more: eight in all, but the four before the success are forgotten everywhere.
    for server in [&r.b, &r.a, &r.b, &r.a] {
        assert_eq!(login_on(server, "incorrecta").await, "wrong");
    }
    assert_eq!(login_on(&r.b, PASSWORD).await, "in");
}

#[tokio::test]
async fn client_failures_over_two_replicas_block_the_client_on_both() {
    let r = Replicas::start().await;
    let sup = r.setup().await;
    let (client_id, right, wrong) = consumer(&sup).await;
    // Ten failures (the client's limit), five on each replica.
    for i in 0..10 {
        let server = if i % 2 == 0 { &r.a } else { &r.b };
        assert_eq!(token_status(server, &client_id, &wrong).await, 401, "{i}");
    }
    assert_eq!(token_status(&r.a, &client_id, &wrong).await, 429);
    assert_eq!(token_status(&r.b, &client_id, &wrong).await, 429);
    // The right secret still passes on both: a hammered Clave does not lock its owner out.
    assert_eq!(token_status(&r.a, &client_id, &right).await, 200);
    assert_eq!(token_status(&r.b, &client_id, &right).await, 200);
}

#[tokio::test]
async fn a_block_outlives_a_restart() {
    let mut r = Replicas::start().await;
    let sup = r.setup().await;
    let (client_id, right, wrong) = consumer(&sup).await;
    for _ in 0..5 {
        assert_eq!(login_on(&r.a, "incorrecta").await, "wrong");
    }
    for _ in 0..10 {
        assert_eq!(token_status(&r.a, &client_id, &wrong).await, 401);
    }
    r.restart_a().await;
    assert_eq!(login_on(&r.a, PASSWORD).await, "throttled");
    assert_eq!(token_status(&r.a, &client_id, &wrong).await, 429);
    assert_eq!(token_status(&r.a, &client_id, &right).await, 200);
    // The blocks were copied into memory at start: they hold even while the table cannot
    // be read.
    r.restart_a().await;
    execute(
        &r.database,
        "ALTER TABLE throttles RENAME TO throttles_gone",
    )
    .await;
    assert_eq!(login_on(&r.a, PASSWORD).await, "throttled");
    assert_eq!(token_status(&r.a, &client_id, &wrong).await, 429);
    assert_eq!(token_status(&r.a, &client_id, &right).await, 200);
}

/// A Hawk request for `module` on `server`, signed with `secret`: its status and the
/// reason given.
async fn hawk_call(server: &RunningServer, key: &str, secret: &str, nonce: &str) -> (u16, String) {
    let path = "/api/v1/modules/reports/access";
    let (_, header) = consola::domain::hawk::sign(
        key,
        secret,
        Utc::now().timestamp(),
        nonce,
        &consola::domain::hawk::HawkRequest {
            method: "GET",
            resource: path,
            host: "127.0.0.1",
            port: server.addr.port(),
        },
    );
    let response = reqwest::Client::new()
        .get(format!("{}{path}", server.url()))
        .header("authorization", header)
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (
        status,
        body["error_description"].as_str().unwrap_or("").to_string(),
    )
}

#[tokio::test]
async fn hawk_failures_over_two_replicas_block_the_address_on_both() {
    let r = Replicas::start().await;
    let sup = r.setup().await;
    let revealed = sup.api_key_secret().await.expect("the legacy key");
    let (key, secret) = (revealed.key, revealed.secret.expose().to_string());
    assert_eq!(hawk_call(&r.b, &key, &secret, "n-0").await.0, 200);
    // The address's limit (50) of bad signatures, half on each replica.
    for i in 0..50 {
        let server = if i % 2 == 0 { &r.a } else { &r.b };
        let (status, why) = hawk_call(server, &key, "consola_ak_otro", &format!("m-{i}")).await;
        assert_eq!(
            (status, why.as_str()),
            (401, "API Key (Hawk): firma inválida"),
            "{i}"
        );
    }
    // B counted the fiftieth: refused there, even signed right.
    let (status, why) = hawk_call(&r.b, &key, &secret, "n-1").await;
    assert_eq!(status, 401);
    assert!(why.contains("demasiados intentos fallidos"), "{why}");
    // A learns of it at its next failure, and refuses from then on.
    let (_, why) = hawk_call(&r.a, &key, "consola_ak_otro", "m-50").await;
    assert!(why.contains("demasiados intentos fallidos"), "{why}");
    let (_, why) = hawk_call(&r.a, &key, &secret, "n-2").await;
    assert!(why.contains("demasiados intentos fallidos"), "{why}");
}

/// The first 16 bytes of the SHA-256 of a throttle key's text.
fn key_digest(key: &str) -> [u8; 16] {
    let full = sha2::Sha256::digest(key.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

#[tokio::test]
async fn a_block_told_by_the_change_feed_is_in_force_at_once() {
    let r = Replicas::start().await;
    let sup = r.setup().await;
    let (client_id, right, wrong) = consumer(&sup).await;
    let until = Utc::now() + chrono::Duration::seconds(60);
    // Not in the database: only this replica is told.
    r.b.service
        .block_seen_elsewhere(key_digest(&format!("client:{client_id}")), until);
    assert_eq!(token_status(&r.b, &client_id, &wrong).await, 429);
    assert_eq!(token_status(&r.b, &client_id, &right).await, 200);
    assert_eq!(token_status(&r.a, &client_id, &wrong).await, 401);
}

#[tokio::test]
async fn without_the_shared_table_each_replica_still_throttles_alone() {
    let r = Replicas::start().await;
    let _ = r.setup().await;
    // The table goes away under the replicas: every shared call fails from now on.
    execute(
        &r.database,
        "ALTER TABLE throttles RENAME TO throttles_gone",
    )
    .await;
    for _ in 0..5 {
        assert_eq!(login_on(&r.a, "incorrecta").await, "wrong");
    }
    assert_eq!(login_on(&r.a, PASSWORD).await, "throttled");
    // B heard nothing: alone, each replica counts only its own.
    assert_eq!(login_on(&r.b, PASSWORD).await, "in");
    // Back: failures are counted in the database again.
    execute(
        &r.database,
        "ALTER TABLE throttles_gone RENAME TO throttles",
    )
    .await;
    assert_eq!(login_on(&r.b, "incorrecta").await, "wrong");
    let user_key = key_digest("login-user:superadmin");
    let failures: Vec<_> =
        r.b.store()
            .count_throttle_failures(&[(user_key, RULE)], Utc::now())
            .await
            .expect("counted");
    assert_eq!(failures[0].failures, 2, "B's failure was counted there");
    assert_eq!(
        login_on(&r.a, PASSWORD).await,
        "throttled",
        "A was blocked in memory all along"
    );
}

/// Runs one statement on the shared database from a connection of its own.
async fn execute(database: &str, sql: &'static str) {
    use sqlx::Connection;
    if database.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(database)
            .await
            .expect("connect");
        sqlx::query(sql).execute(&mut conn).await.expect(sql);
    } else {
        let mut conn = sqlx::SqliteConnection::connect(database)
            .await
            .expect("connect");
        sqlx::query(sql).execute(&mut conn).await.expect(sql);
    }
}

#[tokio::test]
async fn concurrent_failures_over_two_stores_are_each_counted_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (one, two) = database::two_stores(dir.path()).await;
    let rule = RULE;
    let key = key_digest("client:concurrido");
    // To the millisecond, as stored.
    let now = chrono::DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap();
    let states = futures::future::join_all((0..20).map(|i| {
        let store = if i % 2 == 0 { one.clone() } else { two.clone() };
        async move {
            store
                .count_throttle_failures(&[(key, rule)], now)
                .await
                .expect("counted")
                .remove(0)
        }
    }))
    .await;
    let mut counted: Vec<u32> = states
        .iter()
        .filter(|s| s.counted)
        .map(|s| s.failures)
        .collect();
    counted.sort();
    assert_eq!(
        counted,
        vec![1, 2, 3, 4, 5],
        "no failure lost or counted twice"
    );
    assert!(
        states
            .iter()
            .filter(|s| !s.counted)
            .all(|s| s.blocked_until == Some(now + chrono::Duration::seconds(30))),
        "the other fifteen found the block"
    );
    assert_eq!(
        two.throttle_block(&key, now).await.expect("read"),
        one.throttle_block(&key, now).await.expect("read"),
    );
    // Forgotten on one, gone for both; old rows are pruned, blocked ones kept until done.
    one.forget_throttle(&key).await.expect("forget");
    assert_eq!(two.throttle_block(&key, now).await.expect("read"), None);
    let other = key_digest("login-user:nadie");
    let _ = two
        .count_throttle_failures(&[(other, rule)], now)
        .await
        .expect("counted");
    for _ in 0..4 {
        let _ = one
            .count_throttle_failures(&[(key, rule)], now)
            .await
            .expect("counted");
    }
    let later = now + chrono::Duration::seconds(10);
    let blocked = one.active_throttle_blocks(later, 10).await.expect("list");
    assert_eq!(blocked, vec![]);
    let _ = one
        .count_throttle_failures(&[(key, rule)], now)
        .await
        .expect("counted");
    let blocked = two.active_throttle_blocks(later, 10).await.expect("list");
    assert_eq!(blocked, vec![(key, now + chrono::Duration::seconds(30))]);
    assert_eq!(
        one.prune_throttles(later, later).await.expect("prune"),
        1,
        "the unblocked row goes, the blocked one stays"
    );
    assert_eq!(
        two.active_throttle_blocks(later, 10).await.unwrap().len(),
        1
    );
    one.close().await;
    two.close().await;
}

#[tokio::test]
async fn with_its_database_gone_a_replica_still_answers_right_and_throttles_alone() {
    // This test's log: what this thread writes (its server tasks run on it).
    let log = ThreadLog::start();
    let r = Replicas::start().await;
    let sup = r.setup().await;
    let (client_id, right, wrong) = consumer(&sup).await;
    assert_eq!(token_status(&r.a, &client_id, &right).await, 200);
    r.a.store().close().await;
    // The right secret reads nothing from the database: it still gets its token.
    assert_eq!(token_status(&r.a, &client_id, &right).await, 200);
    // Failures cannot be shared: refused all the same, then throttled by A alone.
    for i in 0..10 {
        assert_eq!(token_status(&r.a, &client_id, &wrong).await, 401, "{i}");
    }
    assert_eq!(token_status(&r.a, &client_id, &wrong).await, 429);
    assert_eq!(token_status(&r.a, &client_id, &right).await, 200);
    // B, which shares nothing with A now, counted none of them.
    assert_eq!(token_status(&r.b, &client_id, &wrong).await, 401);
    assert_eq!(
        log.text().matches("shared throttles unavailable").count(),
        1,
        "said once, not once per failure"
    );
}

#[tokio::test]
async fn a_block_found_in_the_database_is_kept_in_memory() {
    let r = Replicas::start().await;
    let _ = r.setup().await;
    for _ in 0..5 {
        assert_eq!(login_on(&r.a, "incorrecta").await, "wrong");
    }
    // B finds A's block in the database (on PostgreSQL the feed may tell it first), and
    // says how long it has left: about the first block's 30 s.
    match r.b.service.login(&attacker(), login(PASSWORD)).await {
        Err(ServiceError::TooManyRequests { retry_after }) => {
            assert!((25..=30).contains(&retry_after), "{retry_after}")
        }
        other => panic!("not throttled: {other:?}"),
    }
    // ...and keeps it: with its database gone, B still refuses, from memory.
    r.b.store().close().await;
    assert_eq!(login_on(&r.b, PASSWORD).await, "throttled");
}

/// Writes a key of `address` last seen an hour ago (past the window, with no block), makes
/// A count a wrong login, and returns how many idle keys were left to prune after it.
async fn idle_keys_left_after_a_failure(r: &Replicas, address: &str) -> u64 {
    let idle = key_digest(&format!("client-ip:{address}"));
    let hour_ago = Utc::now() - chrono::Duration::hours(1);
    r.a.store()
        .count_throttle_failures(&[(idle, RULE)], hour_ago)
        .await
        .expect("counted");
    assert_eq!(login_on(&r.a, "incorrecta").await, "wrong");
    let now = Utc::now();
    r.a.store()
        .prune_throttles(now - chrono::Duration::minutes(15), now)
        .await
        .expect("pruned")
}

#[tokio::test]
async fn idle_shared_throttle_rows_are_pruned_on_the_back_of_a_failure() {
    let r = Replicas::start().await;
    let _ = r.setup().await;
    // The failure pruned the idle key: nothing idle is left.
    assert_eq!(
        idle_keys_left_after_a_failure(&r, "203.0.113.9").await,
        0,
        "the idle key was still there"
    );
    // At most once a minute: another idle key, another failure, and it stays.
    assert_eq!(
        idle_keys_left_after_a_failure(&r, "203.0.113.10").await,
        1,
        "pruned again within the minute"
    );
}

/// The warnings each thread wrote, under one global subscriber. A scoped subscriber
/// (`set_default`) raced with the other tests' threads: whichever registered a log
/// statement's callsite first could leave it cached as of interest to nobody, and the
/// warning went unwritten about one run in five.
struct ThreadLog;

thread_local! {
    static WRITTEN: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl ThreadLog {
    /// Installs the global subscriber (once per test binary) and empties this thread's log.
    fn start() -> ThreadLog {
        static INSTALLED: std::sync::Once = std::sync::Once::new();
        INSTALLED.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_writer(|| ThreadLog)
                .with_max_level(tracing::Level::WARN)
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("the only global subscriber");
        });
        WRITTEN.with(|w| w.borrow_mut().clear());
        ThreadLog
    }

    fn text(&self) -> String {
        WRITTEN.with(|w| String::from_utf8_lossy(&w.borrow()).into_owned())
    }
}

impl std::io::Write for ThreadLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        WRITTEN.with(|w| w.borrow_mut().extend_from_slice(bytes));
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The Súper Administrador's session on A, and the same session on B (sessions live in
/// the database).
async fn one_session_on_both(r: &Replicas) -> (Client, Client) {
    let on_a = r.setup().await;
    let on_b = Client::new(&r.b.url())
        .expect("client")
        .with_token(on_a.token().expect("a session").clone());
    (on_a, on_b)
}

fn password_change(current: &str, new: &str) -> PasswordChange {
    PasswordChange {
        current_password: current.into(),
        new_password: new.into(),
    }
}

#[tokio::test]
async fn wrong_current_passwords_over_two_replicas_stop_the_change_on_both() {
    let r = Replicas::start().await;
    let (on_a, on_b) = one_session_on_both(&r).await;
    let change = |current: &str| password_change(current, "otra contraseña");
    let status = |result: Result<(), consola::client::ClientError>| match result {
        Ok(()) => 204,
        Err(err) => err.status().expect("an API answer"),
    };
    // Five wrong guesses (the user's limit), spread so that neither replica alone sees it.
    for (i, client) in [&on_a, &on_b, &on_a, &on_b, &on_a].into_iter().enumerate() {
        assert_eq!(
            status(client.change_password(&change("incorrecta")).await),
            422,
            "{i}"
        );
    }
    // Refused on both now, even with the right password.
    assert_eq!(status(on_b.change_password(&change(PASSWORD)).await), 429);
    assert_eq!(status(on_a.change_password(&change(PASSWORD)).await), 429);
}

#[tokio::test]
async fn a_password_changed_on_one_replica_forgets_the_wrong_guesses_on_both() {
    let r = Replicas::start().await;
    let (on_a, on_b) = one_session_on_both(&r).await;
    for client in [&on_a, &on_b, &on_a, &on_b] {
        let wrong = password_change("incorrecta", "otra contraseña");
        assert!(client.change_password(&wrong).await.is_err());
    }
    on_a.change_password(&password_change(PASSWORD, "otra contraseña"))
        .await
        .expect("the right password changes it");
    // Four more: eight in all, but the four before the change are forgotten everywhere.
    for client in [&on_b, &on_a, &on_b, &on_a] {
        let wrong = password_change("incorrecta", "la tercera");
        assert!(client.change_password(&wrong).await.is_err());
    }
    on_b.change_password(&password_change("otra contraseña", "la tercera"))
        .await
        .expect("not throttled: the earlier guesses were forgotten");
}

/// Writes a block of `key` until `until` into the shared table the way no replica is told
/// of it: an INSERT, which the change feed does not carry (it carries the UPDATEs that set
/// blocks), as when a replica's notice is lost.
async fn block_unannounced(database: &str, key: &str, until: chrono::DateTime<Utc>) {
    use sqlx::Connection;
    let digest = key_digest(key).to_vec();
    let (now, until) = (Utc::now().timestamp_millis(), until.timestamp_millis());
    let sql = "INSERT INTO throttles (key, failures, last_failure, blocked_until)
               VALUES ($1, 5, $2, $3)";
    if database.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(database)
            .await
            .expect("connect");
        let q = sqlx::query(sql).bind(digest).bind(now).bind(until);
        q.execute(&mut conn).await.expect("insert");
    } else {
        let mut conn = sqlx::SqliteConnection::connect(database)
            .await
            .expect("connect");
        let q = sqlx::query(sql).bind(digest).bind(now).bind(until);
        q.execute(&mut conn).await.expect("insert");
    }
}

#[tokio::test]
async fn a_block_no_replica_was_told_of_is_found_before_the_password_and_kept() {
    let r = Replicas::start().await;
    let _ = r.setup().await;
    block_unannounced(
        &r.database,
        "login-user:superadmin",
        Utc::now() + chrono::Duration::seconds(60),
    )
    .await;
    // Neither replica has it in memory: the right password is refused all the same, from
    // the database, before it is checked.
    assert_eq!(login_on(&r.b, PASSWORD).await, "throttled");
    // ...and B keeps it: with its database gone, it still refuses, from memory.
    r.b.store().close().await;
    assert_eq!(login_on(&r.b, PASSWORD).await, "throttled");
}
