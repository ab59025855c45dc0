//! PostgreSQL side of [`ChangeStore`]: a `LISTEN consola_changes` connection of its own,
//! fed by the triggers of migrations 0005 to 0009. A lost connection is made again (with a pause
//! that grows while the database stays away) and then announced as [`Change::Resync`]:
//! notifications sent meanwhile are gone, so the caches are read again in full.
//!
//! A connection can also die without a word: a partition, or a NAT or firewall that forgets
//! an idle flow, leaves the socket open with nothing ever arriving, and the replica would
//! keep serving consumers that were disabled elsewhere. So every replica sends a beat on the
//! channel through its pool, and a listener that hears nothing at all, beat or change, for
//! `silence_limit` takes its connection for dead and listens again. The beats also keep an
//! idle connection from being forgotten.

use super::PostgresStore;
use crate::store::columns::from_ms;
use crate::store::grants::kind_named;
use crate::store::{Change, ChangeFeed, ChangeStore, ConsumerTokenState, Revocation};
use async_trait::async_trait;
use serde::Deserialize;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use std::time::Duration;
use tokio::sync::mpsc;
use uuid::Uuid;

/// The channel the triggers notify.
const CHANNEL: &str = "consola_changes";
/// Changes waiting for the service; past it the feed waits (the database keeps them).
const FEED_CAPACITY: usize = 1024;
/// The pause between attempts to listen again grows from the first to the longest.
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LONGEST_RETRY: Duration = Duration::from_secs(2);
/// What a beat says; nothing else sends exactly this.
const BEAT: &str = r#"{"beat":1}"#;
/// How long a listener may hear nothing before it takes its connection for dead, unless
/// the store is told otherwise (`PostgresStore::with_feed_silence_limit`). Beats go out
/// three times as often, so one or two lost beats are not taken for a dead connection.
pub(super) const SILENCE_LIMIT: Duration = Duration::from_secs(30);

#[async_trait]
impl ChangeStore for PostgresStore {
    async fn follow_changes(&self) -> Option<ChangeFeed> {
        let (tx, rx) = mpsc::channel(FEED_CAPACITY);
        tokio::spawn(beat(self.pool.clone(), tx.clone(), self.silence_limit / 3));
        tokio::spawn(listen(self.pool.clone(), tx, self.silence_limit));
        Some(rx)
    }
}

/// Sends a beat on the channel every `every`, through the pool, until the feed or the pool
/// closes. A beat that fails is only logged: the listener's silence limit is the check.
async fn beat(pool: PgPool, feed: mpsc::Sender<Change>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = feed.closed() => return,
            _ = tick.tick() => {}
        }
        if pool.is_closed() {
            return;
        }
        let sent = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(BEAT)
            .execute(&pool);
        match tokio::time::timeout(every, sent).await {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => tracing::debug!(error = %err, "a beat to the change feed failed"),
            Err(_) => tracing::debug!("a beat to the change feed timed out"),
        }
    }
}

/// Listens until the service drops its end of the feed or the pool closes.
async fn listen(pool: PgPool, feed: mpsc::Sender<Change>, silence_limit: Duration) {
    let mut retry = FIRST_RETRY;
    // Whether the loss was logged: once per outage, not once per attempt.
    let mut lost = false;
    loop {
        if pool.is_closed() || feed.is_closed() {
            return;
        }
        let mut listener = match subscribe(&pool).await {
            Ok(listener) => listener,
            Err(err) => {
                if !lost {
                    tracing::warn!(error = %err, "cannot listen for other replicas' changes; retrying");
                    lost = true;
                }
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(LONGEST_RETRY);
                continue;
            }
        };
        if lost {
            tracing::info!("listening for other replicas' changes again");
        }
        retry = FIRST_RETRY;
        // Listening from here on: a full read now misses nothing.
        if feed.send(Change::Resync).await.is_err() {
            return;
        }
        loop {
            // On silence the listener is dropped, mid-read or not, and never used again.
            let Ok(heard) = tokio::time::timeout(silence_limit, listener.try_recv()).await else {
                tracing::warn!(
                    "heard nothing from the database, not even a beat, for {silence_limit:?}; \
                     listening again on a new connection"
                );
                lost = true;
                break;
            };
            match heard {
                Ok(Some(notification)) if notification.payload() == BEAT => {}
                Ok(Some(notification)) => match parse(notification.payload()) {
                    Some(change) => {
                        if feed.send(change).await.is_err() {
                            return;
                        }
                    }
                    None => tracing::warn!("an unknown change notification was ignored"),
                },
                // Reconnected by sqlx (and listening again); what was sent meanwhile is lost.
                Ok(None) => {
                    tracing::warn!("lost the connection that hears other replicas' changes");
                    if feed.send(Change::Resync).await.is_err() {
                        return;
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "lost the connection that hears other replicas' changes");
                    lost = true;
                    break;
                }
            }
        }
    }
}

async fn subscribe(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// A trigger's payload (see migrations 0005 to 0009): one of these shapes.
#[derive(Deserialize)]
#[serde(untagged)]
enum Payload {
    Consumer {
        consumer: String,
        #[serde(default)]
        deleted: bool,
        #[serde(default)]
        enabled: bool,
        #[serde(default)]
        tokens_not_before: i64,
        #[serde(default)]
        version: i64,
    },
    Group {
        group: Uuid,
    },
    Resource {
        resource: Uuid,
    },
    SealedKey {
        sealed_key: String,
    },
    Throttle {
        throttle: String,
        blocked_until: i64,
    },
    Revocation {
        revocation: String,
        id: String,
        client_id: String,
        at: i64,
        expires_at: i64,
    },
}

fn parse(payload: &str) -> Option<Change> {
    Some(match serde_json::from_str(payload).ok()? {
        Payload::Consumer {
            consumer,
            deleted: true,
            ..
        } => Change::ConsumerDeleted {
            client_id: consumer,
        },
        Payload::Consumer {
            consumer,
            enabled,
            tokens_not_before,
            version,
            ..
        } => Change::Consumer {
            state: ConsumerTokenState {
                client_id: consumer,
                enabled,
                tokens_not_before: from_ms(tokens_not_before),
            },
            version,
        },
        Payload::Group { group } => Change::Group { id: group },
        Payload::Resource { resource } => Change::Resource { id: resource },
        Payload::SealedKey { sealed_key } => Change::SealedKey { name: sealed_key },
        Payload::Throttle {
            throttle,
            blocked_until,
        } => Change::Blocked {
            key: hex::decode(throttle).ok()?.try_into().ok()?,
            until: from_ms(blocked_until),
        },
        Payload::Revocation {
            revocation,
            id,
            client_id,
            at,
            expires_at,
        } => Change::Revocation(Revocation {
            kind: kind_named(&revocation),
            id,
            client_id,
            at: from_ms(at),
            expires_at: from_ms(expires_at),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RevocationKind;

    #[test]
    fn every_trigger_payload_is_understood() {
        assert_eq!(
            parse(r#"{"consumer":"abc","enabled":false,"tokens_not_before":1500,"version":3}"#),
            Some(Change::Consumer {
                state: ConsumerTokenState {
                    client_id: "abc".into(),
                    enabled: false,
                    tokens_not_before: from_ms(1500),
                },
                version: 3,
            })
        );
        assert_eq!(
            parse(r#"{"consumer":"abc","deleted":true}"#),
            Some(Change::ConsumerDeleted {
                client_id: "abc".into(),
            })
        );
        let id = Uuid::from_u128(7);
        assert_eq!(
            parse(&format!(r#"{{"group":"{id}"}}"#)),
            Some(Change::Group { id })
        );
        assert_eq!(
            parse(&format!(r#"{{"resource":"{id}"}}"#)),
            Some(Change::Resource { id })
        );
        assert_eq!(
            parse(r#"{"revocation":"grant","id":"f","client_id":"c","at":1000,"expires_at":2000}"#),
            Some(Change::Revocation(Revocation {
                kind: RevocationKind::Grant,
                id: "f".into(),
                client_id: "c".into(),
                at: from_ms(1000),
                expires_at: from_ms(2000),
            }))
        );
        assert_eq!(
            parse(r#"{"throttle":"000102030405060708090a0b0c0d0e0f","blocked_until":3000}"#),
            Some(Change::Blocked {
                key: std::array::from_fn(|i| i as u8),
                until: from_ms(3000),
            })
        );
        assert_eq!(
            parse(r#"{"throttle":"0001","blocked_until":3000}"#),
            None,
            "a key of another length"
        );
        assert_eq!(
            parse(r#"{"sealed_key":"jwt_signing_keys"}"#),
            Some(Change::SealedKey {
                name: "jwt_signing_keys".into(),
            })
        );
        assert_eq!(parse("not json"), None);
        assert_eq!(parse(r#"{"something":"else"}"#), None);
    }
}
