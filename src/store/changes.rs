//! What the other replicas changed, for the caches each one keeps in memory (DESIGN §6
//! "Replicas"). PostgreSQL tells every replica through `LISTEN/NOTIFY`, from triggers in
//! the writing transaction, so that a notification goes out exactly when its change
//! commits. SQLite has one server only and no feed.

use super::*;
use tokio::sync::mpsc;

/// One change to the state behind the token endpoint's caches.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Anything may have changed: the feed (re)connected, and what was sent while it was
    /// away is lost. Everything cached is to be read again.
    Resync,
    /// A consumer was created or updated (enabled or not, secret, group, tokens cut):
    /// `state` is what it is now and `version` its row's version.
    Consumer {
        state: ConsumerTokenState,
        version: i64,
    },
    /// A consumer was deleted.
    ConsumerDeleted { client_id: String },
    /// A permission group's scopes may have changed.
    Group { id: Uuid },
    /// A protected resource was added or removed: the list is to be read again.
    Resource { id: Uuid },
    /// Tokens, a grant or a deleted consumer's tokens were revoked.
    Revocation(Revocation),
    /// A key sealed under the system secret was written (its name; a rotation of the
    /// signing keys, or a key sealed again under a new secret).
    SealedKey { name: String },
    /// A shared throttle key (its digest, see `store::throttles`) is refused until then.
    Blocked {
        key: super::ThrottleKey,
        until: DateTime<Utc>,
    },
}

/// The receiving end of a store's feed of changes.
pub type ChangeFeed = mpsc::Receiver<Change>;

#[async_trait]
pub trait ChangeStore {
    /// Starts following the changes every writer on the database makes, this process
    /// included; `None` where there is nobody else (SQLite). The first item is a
    /// [`Change::Resync`], sent once the feed listens, so nothing between the caller's
    /// own first load and the feed's start is missed.
    async fn follow_changes(&self) -> Option<ChangeFeed>;
}
