//! Values used once across every replica (see `store::used_once`), checked in groups: a
//! request that needs one waits for the next transaction, which takes every value asked
//! for meanwhile. Under load many share one commit instead of queueing a commit each
//! behind the database's one writer; alone, a value is its own group, with no wait.
//! Expired values are dropped at most once every [`FORGET_EVERY_SECONDS`], by the same
//! task, between groups.

use super::*;
use crate::store::{Fault, MAX_USED_ONCE_BATCH};
use tokio::sync::{mpsc, oneshot};

/// How often the expired values are dropped. Until they are, they take room but meet no
/// new value, whose `until` is later (see `store::used_once`).
const FORGET_EVERY_SECONDS: i64 = 10;

/// A value waiting for its group's answer.
struct Asked {
    digest: [u8; 32],
    until: i64,
    now: i64,
    answer: oneshot::Sender<Result<bool, UsedOnceFailed>>,
}

/// The database could not record a value (its fault, when it named one); the value is
/// then not taken, as if it were used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UsedOnceFailed(pub Option<Fault>);

impl From<&StoreError> for UsedOnceFailed {
    fn from(err: &StoreError) -> Self {
        match err {
            StoreError::Unavailable(fault) => UsedOnceFailed(Some(*fault)),
            _ => UsedOnceFailed(None),
        }
    }
}

impl From<UsedOnceFailed> for OAuthError {
    fn from(failed: UsedOnceFailed) -> Self {
        match failed.0 {
            Some(fault) => OAuthError::Unavailable(fault),
            None => OAuthError::Internal(InternalError::said(String::from(
                "no se pudo registrar un valor de un solo uso",
            ))),
        }
    }
}

/// The queue to the task that writes the groups, started with the first value.
#[derive(Default)]
pub(crate) struct UsedOnce {
    queue: std::sync::OnceLock<mpsc::UnboundedSender<Asked>>,
}

impl Service {
    /// Marks a value (its digest) used until `until` (Unix seconds); false when any replica
    /// used it before. `until` must come from what the client signed, as the value does:
    /// a replay then names the same pair.
    pub(crate) async fn use_once(
        &self,
        digest: [u8; 32],
        until: i64,
    ) -> Result<bool, UsedOnceFailed> {
        let now = self.now().timestamp();
        let queue = self.used_once.queue.get_or_init(|| {
            let (queue, asked) = mpsc::unbounded_channel();
            tokio::spawn(write_groups(self.store.clone(), asked));
            queue
        });
        let (answer, answered) = oneshot::channel();
        let asked = Asked {
            digest,
            until,
            now,
            answer,
        };
        match queue.send(asked) {
            Ok(()) => match answered.await {
                Ok(result) => result,
                // The task ended (its runtime is gone): ask the database directly.
                Err(_) => self.use_once_alone(digest, until).await,
            },
            Err(_) => self.use_once_alone(digest, until).await,
        }
    }

    async fn use_once_alone(&self, digest: [u8; 32], until: i64) -> Result<bool, UsedOnceFailed> {
        match self.store.use_once(&[(digest, until)]).await {
            Ok(answers) => Ok(answers.first().copied().unwrap_or(false)),
            Err(err) => {
                tracing::warn!(error = %err, "a value used once could not be recorded");
                Err(UsedOnceFailed::from(&err))
            }
        }
    }
}

/// Takes what is queued, up to a group, writes it in one transaction and answers each;
/// now and then drops the expired values.
async fn write_groups(store: Arc<dyn Store>, mut asked: mpsc::UnboundedReceiver<Asked>) {
    let mut group = Vec::with_capacity(MAX_USED_ONCE_BATCH);
    let mut forgotten_at = i64::MIN;
    while asked.recv_many(&mut group, MAX_USED_ONCE_BATCH).await > 0 {
        let values: Vec<([u8; 32], i64)> = group.iter().map(|a| (a.digest, a.until)).collect();
        // The oldest request's clock: a value it can no longer pass, no one can.
        let now = group.iter().map(|a| a.now).min().unwrap_or_default();
        match store.use_once(&values).await {
            Ok(answers) => {
                for (asked, new) in group.drain(..).zip(answers) {
                    let _ = asked.answer.send(Ok(new));
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "values used once could not be recorded");
                let failed = UsedOnceFailed::from(&err);
                for asked in group.drain(..) {
                    let _ = asked.answer.send(Err(failed));
                }
            }
        }
        if now.saturating_sub(forgotten_at) >= FORGET_EVERY_SECONDS {
            forgotten_at = now;
            if let Err(err) = store.forget_used_before(now).await {
                tracing::warn!(error = %err, "expired values used once could not be dropped");
            }
        }
    }
}
