//! What another replica changed, brought into this one's memory: the token endpoint's
//! caches follow the database's feed of changes (PostgreSQL `LISTEN/NOTIFY`, see
//! `store::ChangeStore`), so a change made anywhere is in force here within moments, while
//! the hot path still reads nothing from the database. The replica's own changes come
//! back through the feed too; applying one twice changes nothing.

use super::sealed_keys::KeyName;
use super::*;
use crate::store::{Change, ChangeFeed, Revocation, RevocationKind};

impl Service {
    /// Applies the feed's changes until it ends (the store closed). A full reload that
    /// fails (the database went away again) is tried again, with a growing pause, before
    /// the next change: until it succeeds this replica may not know what changed.
    pub async fn follow_changes(self: Arc<Self>, mut feed: ChangeFeed) {
        while let Some(change) = feed.recv().await {
            // Only a reload (whole, or of the keys or the resources) can fail, and it is
            // what the replica may not miss: it is tried until it succeeds.
            let mut pause = std::time::Duration::from_millis(100);
            while let Err(err) = self.apply_change(change.clone()).await {
                tracing::warn!(error = %err, "cannot reload what other replicas changed; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_secs(2));
            }
        }
    }

    /// One change of the feed.
    pub async fn apply_change(&self, change: Change) -> ServiceResult<()> {
        match change {
            Change::Resync => {
                self.tokens.forget_all_clients();
                self.load_token_state().await?;
                self.load_resources().await?;
                self.reload_signing_keys().await?;
            }
            Change::SealedKey { name } => {
                if name == KeyName::SigningKeys.as_str() {
                    self.reload_signing_keys().await?;
                }
            }
            Change::Consumer { state, version } => {
                self.tokens.consumer_version_seen(&state.client_id, version);
                self.consumer_state_seen(&state);
            }
            Change::ConsumerDeleted { client_id } => self.tokens.forget_client(&client_id),
            Change::Group { id } => self.tokens.forget_group(id),
            Change::Resource { .. } => self.load_resources().await?,
            Change::Revocation(revocation) => self.revocation_seen(revocation),
            Change::Blocked { key, until } => self.block_seen_elsewhere(key, until),
        }
        Ok(())
    }

    /// A revocation made elsewhere, kept as if it had been made here.
    fn revocation_seen(&self, revocation: Revocation) {
        let expires = revocation.expires_at.timestamp();
        let list = match revocation.kind {
            RevocationKind::Client => {
                self.tokens
                    .cuts
                    .write()
                    .entry(revocation.client_id)
                    .or_default()
                    .deleted = true;
                return;
            }
            RevocationKind::Token => &self.tokens.revoked,
            RevocationKind::Grant => &self.tokens.ended_grants,
        };
        if list.read().contains_key(&revocation.id) {
            return;
        }
        if self.room_for_revocation(list) {
            list.write().insert(revocation.id, expires);
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
