//! What only the PostgreSQL store has to show: replicas that start together over one new
//! database apply its migrations once, a database that goes away is answered 503 (and
//! `/readyz` says so) until it is back, without a restart, and the change feed tells every
//! change, even after its connection died without a word.
//!
//! They need a PostgreSQL server: `CONSOLA_TEST_POSTGRES=postgres://…` (`.ci/run` starts
//! one and sets it for its second `cargo test`). Without it they say so and stop; the
//! variable set, they always run.

mod common;

use common::hop::Hop;
use common::*;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_on_a_new_database_apply_its_migrations_once() {
    let Some(_) = database::postgres_or_say_so() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = database::url_for(dir.path()).unwrap();
    let replicas =
        futures::future::join_all((0..6).map(|_| consola::store::open_url(&url, None))).await;
    let mut stores = Vec::new();
    for (i, opened) in replicas.into_iter().enumerate() {
        match opened {
            Ok(store) => stores.push(store),
            Err(err) => panic!("replica {i} did not start: {err}"),
        }
    }
    // Every replica works on the same schema.
    for store in &stores {
        assert_eq!(store.user_count().await.unwrap(), 0);
    }
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let files = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/store/migrations/postgres"
    ))
    .unwrap()
    .count();
    assert_eq!(applied.len(), files, "each migration once: {applied:?}");
    for store in &stores {
        store.close().await;
    }
}

/// Polls `readyz` until it answers `status`, for at most `limit`.
async fn until_ready_is(base: &str, status: u16, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let now = readyz(base).await;
        if now == status {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "/readyz still {now}, not {status}, after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_goes_away_is_answered_503_until_it_is_back() {
    let Some(_) = database::postgres_or_say_so() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (hop, through) = Hop::before(&database::url_for(&data).unwrap()).await;

    let mut config =
        consola::server::ServerConfig::new(data.clone(), "127.0.0.1:0".parse().unwrap());
    config.database_url = Some(through);
    config.system_secret = Some(database::test_system_secret());
    let server = consola::server::start(config).await.expect("server starts");
    let base = server.url();
    let anonymous = consola::client::Client::new(&base).unwrap();
    anonymous
        .setup(
            &consola::domain::SetupRequest {
                account_name: "Planta Norte".into(),
                username: "superadmin".into(),
                display_name: "Sara".into(),
                password: PASSWORD.into(),
            },
            None,
        )
        .await
        .unwrap();
    let login = anonymous.login("superadmin", PASSWORD).await.unwrap();
    let admin = anonymous.with_token(login.token);
    group(&admin, "Antes", "reports").await;
    assert_eq!(readyz(&base).await, 200);

    hop.cut();
    until_ready_is(&base, 503, Duration::from_secs(10)).await;
    let refused = admin
        .create_permission_group(&consola::domain::NewPermissionGroup {
            name: "Durante".into(),
            description: String::new(),
            read_only: true,
            permissions: vec![],
        })
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(503), "{refused}");
    assert_eq!(
        refused.problem().and_then(|p| p.code()),
        Some("storage_unreachable"),
        "{refused}"
    );

    hop.restore();
    until_ready_is(&base, 200, Duration::from_secs(10)).await;
    group(&admin, "Después", "reports").await;
    let names: Vec<String> = admin
        .permission_groups()
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert!(names.contains(&"Antes".to_string()), "{names:?}");
    assert!(names.contains(&"Después".to_string()), "{names:?}");
    assert!(!names.contains(&"Durante".to_string()), "{names:?}");
    server.shutdown().await;
}

/// The next change of `feed` that `wanted` accepts, within a second (the feed carries the
/// changes of every test step, and the server's own writes too).
async fn next_change(
    feed: &mut consola::store::ChangeFeed,
    wanted: impl Fn(&consola::store::Change) -> bool,
) -> consola::store::Change {
    change_within(feed, Duration::from_secs(1), wanted)
        .await
        .expect("the change arrives within a second")
}

/// The next change of `feed` that `wanted` accepts, if one comes within `limit`.
async fn change_within(
    feed: &mut consola::store::ChangeFeed,
    limit: Duration,
    wanted: impl Fn(&consola::store::Change) -> bool,
) -> Option<consola::store::Change> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let change = tokio::time::timeout_at(deadline, feed.recv())
            .await
            .ok()?
            .expect("the feed is open");
        if wanted(&change) {
            return Some(change);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_change_feed_tells_every_change_the_caches_depend_on() {
    use consola::store::{Change, RevocationKind, ThrottleRule};
    let Some(_) = database::postgres_or_say_so() else {
        return;
    };
    let server = TestServer::start().await;
    let admin = server.setup().await;
    let url = database::url_for(&server.data_dir()).unwrap();
    // Another replica's store, listening.
    let other = consola::store::open_url(&url, None).await.unwrap();
    let mut feed = other.follow_changes().await.expect("PostgreSQL has a feed");
    assert_eq!(
        feed.recv().await,
        Some(Change::Resync),
        "first, a full reload"
    );

    let group = group(&admin, "Reportes", "reports").await;
    let created = admin
        .create_consumer(&new_consumer("ERP", group.id))
        .await
        .unwrap();
    let client_id = created.consumer.client_id.clone();
    let is_consumer = |enabled: bool| {
        let client_id = client_id.clone();
        move |c: &Change| {
            matches!(c, Change::Consumer { state, .. }
                if state.client_id == client_id && state.enabled == enabled)
        }
    };
    next_change(&mut feed, is_consumer(true)).await;
    let patch = consola::domain::ConsumerPatch {
        enabled: Some(false),
        ..Default::default()
    };
    admin
        .update_consumer(created.consumer.id, &patch, None)
        .await
        .unwrap();
    next_change(&mut feed, is_consumer(false)).await;

    admin
        .update_permission_group(
            group.id,
            &consola::domain::PermissionGroupPatch {
                description: Some("Solo lectura".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    next_change(&mut feed, |c| *c == Change::Group { id: group.id }).await;

    admin.delete_consumer(created.consumer.id).await.unwrap();
    next_change(&mut feed, |c| {
        matches!(c, Change::Revocation(r) if r.kind == RevocationKind::Client && r.id == client_id)
    })
    .await;
    next_change(
        &mut feed,
        |c| matches!(c, Change::ConsumerDeleted { client_id: id } if *id == client_id),
    )
    .await;

    // A signing-key rotation writes the sealed set.
    admin.rotate_signing_key().await.unwrap();
    next_change(&mut feed, |c| {
        *c == Change::SealedKey {
            name: "jwt_signing_keys".into(),
        }
    })
    .await;

    // A shared throttle's new block, with its key.
    let key = [7u8; 16];
    let rule = ThrottleRule {
        limit: 1,
        window: Duration::from_secs(60),
        first_block: Duration::from_secs(30),
        longest_block: Duration::from_secs(60),
    };
    let now = chrono::Utc::now();
    let counted = other
        .count_throttle_failures(&[(key, rule)], now)
        .await
        .unwrap();
    let until = counted[0].blocked_until.expect("blocked at the limit");
    next_change(&mut feed, |c| *c == Change::Blocked { key, until }).await;
    other.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_whose_connection_goes_silent_listens_again_and_reloads() {
    use consola::store::{Change, ChangeStore};
    let Some(_) = database::postgres_or_say_so() else {
        return;
    };
    let server = TestServer::start().await;
    let admin = server.setup().await;
    let url = database::url_for(&server.data_dir()).unwrap();
    // Another replica's store, behind a hop that can go silent.
    let (hop, through) = Hop::before(&url).await;
    // Long enough that a loaded machine (the whole suite at once on two cores) still gets
    // a beat (one a second) through within it; at 1.5 s one was once late.
    let silence_limit = Duration::from_secs(3);
    let other = consola::store::PostgresStore::open_url(&through)
        .await
        .unwrap()
        .with_feed_silence_limit(silence_limit);
    let mut feed = other.follow_changes().await.expect("PostgreSQL has a feed");
    assert_eq!(feed.recv().await, Some(Change::Resync));
    let is_resync = |c: &Change| *c == Change::Resync;

    // Quiet is not silence: the beats keep a healthy listener from listening again.
    assert!(
        change_within(&mut feed, silence_limit * 2, is_resync)
            .await
            .is_none(),
        "a quiet, healthy feed started over"
    );

    // The listener's connection dies without a word; a change made meanwhile is not heard
    // on it, and the feed says so with a Resync once it listens on a new connection.
    let quiet = group(&admin, "Reportes", "reports").await;
    let described = |text: &str| consola::domain::PermissionGroupPatch {
        description: Some(text.into()),
        ..Default::default()
    };
    hop.silence();
    admin
        .update_permission_group(quiet.id, &described("Durante el silencio"))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    assert!(
        change_within(&mut feed, silence_limit * 4, is_resync)
            .await
            .is_some(),
        "the silent connection was never taken for dead"
    );
    assert!(
        started.elapsed() >= silence_limit / 2,
        "{:?}",
        started.elapsed()
    );
    // And the new connection hears what follows.
    admin
        .update_permission_group(quiet.id, &described("Después del silencio"))
        .await
        .unwrap();
    next_change(&mut feed, |c| *c == Change::Group { id: quiet.id }).await;

    // The silenced connections would hold the pool's close forever: end them first.
    hop.cut();
    other.close().await;
}
