//! Values used once across every replica (see `store::used_once`), checked in groups: a
//! request that needs one waits for the next transaction, which takes every value asked
//! for meanwhile. Under load many share one commit instead of queueing a commit each
//! behind the database's one writer; alone, a value is its own group, with no wait.
//! Expired values are dropped once every [`FORGET_EVERY_SECONDS`], by the same task,
//! between groups, in steps of at most `store::MAX_FORGOTTEN_AT_ONCE`: when a step leaves
//! some, the next follows the next group.

use super::*;
use crate::store::{Fault, MAX_FORGOTTEN_AT_ONCE, MAX_USED_ONCE_BATCH};
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

impl Asked {
    /// A value to ask about, and where its answer comes.
    fn new(
        digest: [u8; 32],
        until: i64,
        now: i64,
    ) -> (Asked, oneshot::Receiver<Result<bool, UsedOnceFailed>>) {
        let (answer, answered) = oneshot::channel();
        let asked = Asked {
            digest,
            until,
            now,
            answer,
        };
        (asked, answered)
    }
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
        let (asked, answered) = Asked::new(digest, until, now);
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
    let mut more_to_forget = false;
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
        if more_to_forget || now.saturating_sub(forgotten_at) >= FORGET_EVERY_SECONDS {
            forgotten_at = now;
            more_to_forget = match store.forget_used_before(now).await {
                Ok(dropped) => dropped >= MAX_FORGOTTEN_AT_ONCE,
                Err(err) => {
                    tracing::warn!(error = %err, "expired values used once could not be dropped");
                    false
                }
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    fn value(n: usize) -> [u8; 32] {
        let mut digest = [0u8; 32];
        digest[..8].copy_from_slice(&(n as u64).to_le_bytes());
        digest
    }

    async fn store(dir: &std::path::Path) -> Arc<dyn Store> {
        Arc::new(SqliteStore::open(&dir.join("t.db"), None).await.unwrap())
    }

    /// Through the task, one group at a time, as requests ask.
    async fn ask(
        queue: &mpsc::UnboundedSender<Asked>,
        digest: [u8; 32],
        until: i64,
        now: i64,
    ) -> bool {
        let (asked, answered) = Asked::new(digest, until, now);
        queue.send(asked).expect("the task takes values");
        answered.await.expect("an answer").expect("recorded")
    }

    /// More expired values than one step drops (a flood's) go in the steps that follow the
    /// next groups, not one step every 10 s; the live ones stay taken.
    #[tokio::test]
    async fn expired_values_past_one_step_go_in_the_groups_that_follow() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path()).await;
        let now = 1_900_000_000;
        let expired = 2 * MAX_FORGOTTEN_AT_ONCE as usize + 10;
        let values: Vec<([u8; 32], i64)> = (0..expired)
            .map(|n| (value(n), now - 1 - (n % 100) as i64))
            .collect();
        for group in values.chunks(MAX_USED_ONCE_BATCH) {
            store.use_once(group).await.unwrap();
        }
        let (queue, asked) = mpsc::unbounded_channel();
        tokio::spawn(write_groups(store.clone(), asked));
        let live = value(expired);
        assert!(ask(&queue, live, now + 60, now).await);
        // Each group is followed by its step; the fourth's answer comes after the third's.
        for n in 1..=3 {
            assert!(ask(&queue, value(expired + n), now + 60, now).await);
        }
        assert_eq!(
            store.forget_used_before(now).await.unwrap(),
            0,
            "every expired value is gone"
        );
        assert!(
            !ask(&queue, live, now + 60, now).await,
            "a live value stays taken"
        );
    }

    /// The database's fault reaches the client as 503 with its cause; any other failure
    /// to record a value is the server's own error.
    #[test]
    fn a_value_the_database_could_not_record_is_unavailable_with_its_fault() {
        let full = UsedOnceFailed::from(&StoreError::Unavailable(Fault::StorageFull));
        assert_eq!(full, UsedOnceFailed(Some(Fault::StorageFull)));
        assert!(matches!(
            OAuthError::from(full),
            OAuthError::Unavailable(Fault::StorageFull)
        ));
        let other = UsedOnceFailed::from(&StoreError::NotFound);
        assert_eq!(other, UsedOnceFailed(None));
        assert!(matches!(OAuthError::from(other), OAuthError::Internal(_)));
    }

    /// A service can outlive the runtime whose task wrote its groups (its task then ends
    /// with it): a value goes to the database alone, and is still taken once.
    #[test]
    fn with_the_group_task_gone_a_value_goes_to_the_database_alone() {
        let runtime = || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
        };
        let dir = tempfile::tempdir().unwrap();
        let until = 2_000_000_000;
        let first = runtime();
        let service = first.block_on(async {
            let store = store(dir.path()).await;
            let vault = crate::service::vault::Vault::from_key(&[7; 32]);
            let service = Service::new(store, vault, ServiceConfig::default());
            assert_eq!(service.use_once(value(1), until).await, Ok(true));
            service
        });
        drop(first);
        runtime().block_on(async {
            assert_eq!(service.use_once(value(2), until).await, Ok(true));
            assert_eq!(service.use_once(value(2), until).await, Ok(false));
            assert_eq!(
                service.use_once(value(1), until).await,
                Ok(false),
                "what the task took stays taken"
            );
        });
    }

    /// The task ends with its queue, when the service is gone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_task_ends_when_its_queue_closes() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path()).await;
        let (queue, asked) = mpsc::unbounded_channel();
        let task = tokio::spawn(write_groups(store, asked));
        assert!(ask(&queue, value(1), 2_000_000_000, 1_900_000_000).await);
        drop(queue);
        tokio::time::timeout(std::time::Duration::from_secs(10), task)
            .await
            .expect("the task ended")
            .expect("without a panic");
    }
}
