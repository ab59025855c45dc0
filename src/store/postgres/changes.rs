//! PostgreSQL side of [`ChangeStore`]: a `LISTEN consola_changes` connection of its own,
//! fed by the triggers of migrations 0005 to 0007. A lost connection is made again (with a pause
//! that grows while the database stays away) and then announced as [`Change::Resync`]:
//! notifications sent meanwhile are gone, so the caches are read again in full.

use super::*;
use crate::store::{Change, ChangeFeed, ChangeStore};
use serde::Deserialize;
use sqlx::postgres::PgListener;
use tokio::sync::mpsc;

/// The channel the triggers notify.
const CHANNEL: &str = "consola_changes";
/// Changes waiting for the service; past it the feed waits (the database keeps them).
const FEED_CAPACITY: usize = 1024;
/// The pause between attempts to listen again grows from the first to the longest.
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LONGEST_RETRY: Duration = Duration::from_secs(2);

#[async_trait]
impl ChangeStore for PostgresStore {
    async fn follow_changes(&self) -> Option<ChangeFeed> {
        let (tx, rx) = mpsc::channel(FEED_CAPACITY);
        tokio::spawn(listen(self.pool.clone(), tx));
        Some(rx)
    }
}

/// Listens until the service drops its end of the feed or the pool closes.
async fn listen(pool: PgPool, feed: mpsc::Sender<Change>) {
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
            match listener.try_recv().await {
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

/// A trigger's payload (see migrations 0005 to 0007): one of these shapes.
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
            kind: super::grants::kind_named(&revocation),
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
