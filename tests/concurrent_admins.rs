//! Concurrent admins: 8 sessions × 200 mixed operations on shared consumers. No update is
//! lost (versions with If-Match, 412 when stale), names stay unique, and every successful
//! write leaves exactly one audit entry.

mod common;

use common::*;
use consola::domain::*;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::Mutex;

const SESSIONS: usize = 8;
const OPERATIONS: usize = 200;
const SHARED: usize = 6;

#[derive(Default, Debug)]
struct Tally {
    created: u64,
    edited: u64,
    rotated: u64,
    deleted: u64,
    stale: u64,
    taken: u64,
    gone: u64,
    /// Successful increments per consumer id.
    increments: HashMap<uuid::Uuid, u64>,
}

/// A tiny deterministic generator, so a failing run can be replayed.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_sessions_race_without_losing_updates() {
    let t = TestServer::start().await;
    let first = t.setup().await;
    let g = group(&first, "Reportes", "reports").await;
    let mut shared = Vec::new();
    for i in 0..SHARED {
        let c = first
            .create_consumer(&NewConsumer {
                description: "0".into(),
                ..new_consumer(&format!("Compartido {i}"), g.id)
            })
            .await
            .unwrap();
        shared.push(c.consumer.id);
    }
    let audit_before = first.audit(&AuditQuery::default()).await.unwrap().total;
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut tasks = tokio::task::JoinSet::new();
    for s in 0..SESSIONS {
        let client = t.login("superadmin").await;
        let shared = shared.clone();
        let tally = tally.clone();
        let gid = g.id;
        tasks.spawn(async move {
            let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ (s as u64 + 1);
            for _ in 0..OPERATIONS {
                let pick = shared[(next(&mut seed) % SHARED as u64) as usize];
                match next(&mut seed) % 10 {
                    // Read-modify-write: increment the description, guarded by If-Match.
                    0..=5 => {
                        let Ok(current) = client.consumer(pick).await else {
                            tally.lock().await.gone += 1;
                            continue;
                        };
                        let n: u64 = current.description.parse().unwrap();
                        let patch = ConsumerPatch {
                            description: Some((n + 1).to_string()),
                            ..Default::default()
                        };
                        match client
                            .update_consumer(pick, &patch, Some(current.version))
                            .await
                        {
                            Ok(_) => {
                                let mut t = tally.lock().await;
                                t.edited += 1;
                                *t.increments.entry(pick).or_default() += 1;
                            }
                            Err(e) if e.status() == Some(412) => tally.lock().await.stale += 1,
                            Err(e) => panic!("edit: {e}"),
                        }
                    }
                    6 | 7 => match client.rotate_secret(pick, &RotateSecret::default()).await {
                        Ok(_) => tally.lock().await.rotated += 1,
                        Err(e) => panic!("rotate: {e}"),
                    },
                    // Creates from a small pool of names: most collide.
                    _ => {
                        let name = format!("Carrera {}", next(&mut seed) % 20);
                        match client.create_consumer(&new_consumer(&name, gid)).await {
                            Ok(created) => {
                                tally.lock().await.created += 1;
                                // Delete half of what this session created.
                                if next(&mut seed).is_multiple_of(2) {
                                    match client.delete_consumer(created.consumer.id).await {
                                        Ok(()) => tally.lock().await.deleted += 1,
                                        Err(e) if e.status() == Some(404) => {
                                            tally.lock().await.gone += 1
                                        }
                                        Err(e) => panic!("delete: {e}"),
                                    }
                                }
                            }
                            Err(e) if e.status() == Some(409) => tally.lock().await.taken += 1,
                            Err(e) => panic!("create: {e}"),
                        }
                    }
                }
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let tally = tally.lock().await;
    assert!(tally.stale > 0, "the race produced stale writes: {tally:?}");
    assert!(
        tally.taken > 0,
        "the race produced name collisions: {tally:?}"
    );

    // No lost update: each shared consumer counts exactly its successful increments.
    for id in &shared {
        let c = first.consumer(*id).await.unwrap();
        let expected = tally.increments.get(id).copied().unwrap_or(0);
        assert_eq!(c.description, expected.to_string(), "consumer {id}");
    }
    // Unique names hold.
    let mut names = HashSet::new();
    let mut cursor = None;
    loop {
        let page = first
            .consumers(&ConsumerQuery {
                limit: Some(500),
                cursor,
                q: None,
            })
            .await
            .unwrap();
        for c in &page.items {
            assert!(
                names.insert(c.name.to_lowercase()),
                "duplicate name {}",
                c.name
            );
        }
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    // Exactly one audit entry per successful write.
    let count = |action| {
        let client = first.clone();
        async move {
            client
                .audit(&AuditQuery {
                    action: Some(action),
                    ..Default::default()
                })
                .await
                .unwrap()
                .total
        }
    };
    assert_eq!(count(AuditAction::Edit).await, tally.edited);
    assert_eq!(count(AuditAction::Rotate).await, tally.rotated);
    assert_eq!(count(AuditAction::Delete).await, tally.deleted);
    assert_eq!(
        count(AuditAction::Add).await,
        tally.created + SHARED as u64 + 1
    );
    let audit_after = first.audit(&AuditQuery::default()).await.unwrap().total;
    let logins = SESSIONS as u64;
    assert_eq!(
        audit_after - audit_before,
        tally.edited + tally.rotated + tally.deleted + tally.created + logins
    );
}
