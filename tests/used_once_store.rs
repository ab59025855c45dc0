//! The store's values used once (Hawk nonces, the `jti` of client assertions and of DPoP
//! proofs), on SQLite or, with `CONSOLA_TEST_POSTGRES`, on PostgreSQL: each value is taken
//! once across every store over the database, a repeat in the same group is a replay of its
//! first, and expired values are dropped without touching the live ones.

mod common;
mod faults;

use common::*;
use consola::store::{MAX_FORGOTTEN_AT_ONCE, MAX_USED_ONCE_BATCH};
use sha2::Digest;

fn digest(value: &str) -> [u8; 32] {
    sha2::Sha256::digest(value).into()
}

#[tokio::test]
async fn a_value_is_taken_once_across_stores_and_a_repeat_in_a_group_is_a_replay() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (one, two) = database::two_stores(dir.path()).await;
    let until = 2_000_000_000;
    let (a, b, c) = (digest("jti:a"), digest("jti:b"), digest("jti:c"));
    assert_eq!(
        one.use_once(&[(a, until), (b, until), (a, until)])
            .await
            .unwrap(),
        [true, true, false]
    );
    // The other store over the same database finds both taken, and takes the new one.
    assert_eq!(
        two.use_once(&[(b, until), (c, until), (a, until)])
            .await
            .unwrap(),
        [false, true, false]
    );
    assert_eq!(one.use_once(&[(c, until)]).await.unwrap(), [false]);
    // The same digest with another `until` is another value: what a client signed anew.
    assert_eq!(one.use_once(&[(a, until + 1)]).await.unwrap(), [true]);
    assert!(one.use_once(&[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_group_past_the_bound_has_the_rest_answered_as_used() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (one, _) = database::two_stores(dir.path()).await;
    let values: Vec<([u8; 32], i64)> = (0..MAX_USED_ONCE_BATCH + 2)
        .map(|i| (digest(&format!("n:{i}")), 2_000_000_000))
        .collect();
    let answers = one.use_once(&values).await.unwrap();
    assert_eq!(answers.len(), values.len());
    assert!(answers[..MAX_USED_ONCE_BATCH].iter().all(|new| *new));
    assert_eq!(answers[MAX_USED_ONCE_BATCH..], [false, false]);
    // Those past the bound were not taken: a group of their own takes them.
    assert_eq!(
        one.use_once(&values[MAX_USED_ONCE_BATCH..]).await.unwrap(),
        [true, true]
    );
}

#[tokio::test]
async fn expired_values_are_dropped_and_the_live_ones_stay_taken() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (one, two) = database::two_stores(dir.path()).await;
    let now = 1_900_000_000;
    let (gone, edge, live) = (digest("gone"), digest("edge"), digest("live"));
    let values = [(gone, now - 1), (edge, now), (live, now + 60)];
    assert_eq!(one.use_once(&values).await.unwrap(), [true, true, true]);
    assert_eq!(two.forget_used_before(now).await.unwrap(), 1);
    assert_eq!(two.forget_used_before(now).await.unwrap(), 0);
    // Only the one before `now` went; the others are still taken, on either store.
    assert_eq!(
        one.use_once(&values).await.unwrap(),
        [true, false, false],
        "gone, edge, live"
    );
}

/// A flood's expired values go in steps: at most `MAX_FORGOTTEN_AT_ONCE` a call, the
/// oldest first, so that no one write holds the values asked for meanwhile for long.
#[tokio::test]
async fn expired_values_go_at_most_a_step_at_a_time_the_oldest_first() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (one, two) = database::two_stores(dir.path()).await;
    let now = 1_900_000_000;
    let step = MAX_FORGOTTEN_AT_ONCE as usize;
    let values: Vec<([u8; 32], i64)> = (0..step + 5)
        .map(|i| {
            let until = if i < step { now - 100 } else { now - 1 };
            (digest(&format!("paso:{i}")), until)
        })
        .collect();
    for group in values.chunks(MAX_USED_ONCE_BATCH) {
        assert!(one.use_once(group).await.unwrap().iter().all(|new| *new));
    }
    assert_eq!(two.forget_used_before(now).await.unwrap(), step as u64);
    assert_eq!(
        one.use_once(&values[step..]).await.unwrap(),
        [false; 5],
        "the five that expired last are left for the next step"
    );
    assert_eq!(two.forget_used_before(now).await.unwrap(), 5);
    assert_eq!(two.forget_used_before(now).await.unwrap(), 0);
    assert_eq!(
        one.use_once(&values[..3]).await.unwrap(),
        [true; 3],
        "the oldest went first"
    );
}

/// A group is one statement, its own transaction (no BEGIN, no COMMIT): when the database
/// cannot record it, none of it is taken, the store says why and is not ready until writes
/// succeed again, and the same group is new once there is room. SQLite's size limit stands
/// for a full disk.
#[tokio::test]
async fn a_group_the_database_cannot_record_is_not_taken_at_all() {
    use consola::store::{Fault, HealthStore, SqliteStore, StoreError, UsedOnceStore};
    const MAX_PAGES: u32 = 200;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("full.db");
    let store = SqliteStore::open(&path, Some(MAX_PAGES))
        .await
        .expect("store");
    // Ballast from another connection leaves a few pages free.
    let ballast = faults::Ballast::leaving(&path, MAX_PAGES, 4).await;
    let group = |n: usize| -> Vec<([u8; 32], i64)> {
        (0..MAX_USED_ONCE_BATCH)
            .map(|i| (digest(&format!("lleno:{n}:{i}")), 2_000_000_000))
            .collect()
    };
    let mut n = 0;
    let refused = loop {
        assert!(n < 50, "the database never filled");
        match store.use_once(&group(n)).await {
            Ok(answers) => assert!(answers.iter().all(|new| *new)),
            Err(err) => break err,
        }
        n += 1;
    };
    assert!(
        matches!(refused, StoreError::Unavailable(Fault::StorageFull)),
        "{refused:?}"
    );
    assert!(store.ready().await.is_err(), "not ready while writes fail");

    ballast.remove().await;
    assert!(
        store
            .use_once(&group(n))
            .await
            .unwrap()
            .iter()
            .all(|new| *new),
        "no value of the refused group was taken"
    );
    assert!(store.ready().await.is_ok(), "ready again");
    // Every group recorded stays taken.
    for recorded in 0..=n {
        assert!(
            store
                .use_once(&group(recorded))
                .await
                .unwrap()
                .iter()
                .all(|new| !*new)
        );
    }
}
