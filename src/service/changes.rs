//! What another replica changed, brought into this one's memory: the token endpoint's
//! caches follow the database's feed of changes (PostgreSQL `LISTEN/NOTIFY`, see
//! `store::ChangeStore`), so a change made anywhere is in force here within moments, while
//! the hot path still reads nothing from the database. The replica's own changes come
//! back through the feed too; applying one twice changes nothing.

use super::tokens::{read, write};
use super::*;
use crate::store::{Change, ChangeFeed, Revocation, RevocationKind};

impl Service {
    /// Applies the feed's changes until it ends (the store closed). A failure to reload is
    /// logged and the next change is applied anyway; a full reload is tried again on the
    /// next [`Change::Resync`] or, failing that, the next failure is logged again.
    pub async fn follow_changes(self: Arc<Self>, mut feed: ChangeFeed) {
        while let Some(change) = feed.recv().await {
            if let Err(err) = self.apply_change(change).await {
                tracing::warn!(error = %err, "a change made elsewhere could not be applied");
            }
        }
    }

    /// One change of the feed.
    pub async fn apply_change(&self, change: Change) -> ServiceResult<()> {
        match change {
            Change::Resync => {
                self.tokens.forget_all_clients();
                self.load_token_state().await?;
            }
            Change::Consumer { client_id, state } => {
                self.tokens.forget_client(&client_id);
                if let Some(state) = state {
                    self.consumer_state_seen(&state);
                }
            }
            Change::Group { id } => self.tokens.forget_group(id),
            Change::Revocation(revocation) => self.revocation_seen(revocation),
        }
        Ok(())
    }

    /// A revocation made elsewhere, kept as if it had been made here.
    fn revocation_seen(&self, revocation: Revocation) {
        let expires = revocation.expires_at.timestamp();
        let list = match revocation.kind {
            RevocationKind::Client => {
                write(&self.tokens.cuts)
                    .entry(revocation.client_id)
                    .or_default()
                    .deleted = true;
                return;
            }
            RevocationKind::Token => &self.tokens.revoked,
            RevocationKind::Grant => &self.tokens.ended_grants,
        };
        if read(list).contains_key(&revocation.id) {
            return;
        }
        if self.room_for_revocation(list) {
            write(list).insert(revocation.id, expires);
        } else {
            // No room to list it: void every earlier token of the consumer here instead,
            // which errs on the side of refusing.
            self.consumer_tokens_cut(
                &revocation.client_id,
                revocation.at + Duration::milliseconds(1),
            );
        }
    }
}
