//! What the token endpoint keeps in memory: the consumers it has read (invalidated on every
//! write to consumers and groups, and by the change feed of other replicas), and the cut
//! consumers, revoked tokens and ended grants that validation checks, loaded at start.

use super::*;

/// Bound on cached consumer credentials; the cache starts over when full.
const MAX_CACHED_CLIENTS: usize = 50_000;

/// A consumer as the token endpoint needs it: credentials and its group's scopes.
pub(crate) struct CachedClient {
    pub credentials: ConsumerCredentials,
    pub scopes: BTreeSet<String>,
    /// `scopes` joined: what a token request that names no scope is granted.
    pub all_scopes: String,
}

impl CachedClient {
    /// The scopes of a space-separated `scope` that the consumer's group still grants: a
    /// grant or token never outlives the group it came from.
    pub(super) fn still_granted(&self, scope: &str) -> BTreeSet<String> {
        scope
            .split(' ')
            .filter(|s| self.scopes.contains(*s))
            .map(String::from)
            .collect()
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub(in crate::service) struct ClientCut {
    pub(in crate::service) disabled: bool,
    pub(in crate::service) deleted: bool,
    /// Tokens issued before this instant (ms) are refused.
    pub(in crate::service) not_before_ms: i64,
}

/// The consumers the token endpoint has read, by client_id.
#[derive(Default)]
struct ClientCache {
    clients: HashMap<String, Arc<CachedClient>>,
    /// Counts the times something was forgotten: a client read from the database is cached
    /// only if nothing was forgotten meanwhile, so that a read which started before a
    /// change committed cannot bring the old state back after the change was seen.
    generation: u64,
}

impl ClientCache {
    fn forget(&mut self, client_id: &str) {
        self.clients.remove(client_id);
        self.generation += 1;
    }
}

/// What the service keeps in memory for tokens.
#[derive(Default)]
pub(crate) struct TokenState {
    clients: RwLock<ClientCache>,
    pub(in crate::service) cuts: RwLock<HashMap<String, ClientCut>>,
    /// Revoked access-token ids and their expiry (s).
    pub(in crate::service) revoked: RwLock<HashMap<String, i64>>,
    /// Grants (refresh-token families) that ended early, and when the last access token
    /// issued under them expires (s).
    pub(in crate::service) ended_grants: RwLock<HashMap<String, i64>>,
    /// Issued and failed counts per Unix hour, not yet flushed.
    pub(super) pending: Mutex<BTreeMap<i64, (u64, u64)>>,
    /// Hawk nonces seen, with their timestamps.
    pub(crate) hawk_nonces: Mutex<HashMap<String, i64>>,
}

impl TokenState {
    pub(crate) fn forget_client(&self, client_id: &str) {
        self.clients.write().forget(client_id);
    }

    pub(crate) fn forget_all_clients(&self) {
        let mut cache = self.clients.write();
        cache.clients.clear();
        cache.generation += 1;
    }

    /// Forgets the consumers of a permission group, whose scopes may have changed.
    pub(crate) fn forget_group(&self, group_id: Uuid) {
        let mut cache = self.clients.write();
        cache
            .clients
            .retain(|_, client| client.credentials.consumer.permission_group_id != group_id);
        cache.generation += 1;
    }

    /// The database holds this `version` of the consumer now (a change the feed told):
    /// a cached copy at least as new stays (the change was this replica's own, and it
    /// read the result already); an older one is forgotten. A first version cannot race
    /// with an older read, so with nothing cached it forgets nothing.
    pub(crate) fn consumer_version_seen(&self, client_id: &str, version: i64) {
        let mut cache = self.clients.write();
        match cache.clients.get(client_id) {
            Some(cached) if cached.credentials.consumer.version >= version => {}
            None if version <= 1 => {}
            _ => cache.forget(client_id),
        }
    }
}

impl Service {
    /// Loads the revoked tokens and cut consumers that are still relevant. Called once at
    /// start, before serving.
    pub async fn load_token_state(&self) -> ServiceResult<()> {
        let now = self.now();
        let since = now - self.config.access_token_ttl - Duration::minutes(5);
        let mut cuts = HashMap::new();
        for state in self.store.consumer_token_states(since).await? {
            cuts.insert(
                state.client_id,
                ClientCut {
                    disabled: !state.enabled,
                    deleted: false,
                    not_before_ms: state.tokens_not_before.timestamp_millis(),
                },
            );
        }
        let mut revoked = HashMap::new();
        let mut ended_grants = HashMap::new();
        for revocation in self.store.revocations(now).await? {
            match revocation.kind {
                RevocationKind::Token => {
                    revoked.insert(revocation.id, revocation.expires_at.timestamp());
                }
                RevocationKind::Grant => {
                    ended_grants.insert(revocation.id, revocation.expires_at.timestamp());
                }
                RevocationKind::Client => {
                    cuts.entry(revocation.client_id).or_default().deleted = true;
                }
            }
        }
        *self.tokens.cuts.write() = cuts;
        *self.tokens.revoked.write() = revoked;
        *self.tokens.ended_grants.write() = ended_grants;
        // Blocks are shared state too: a restarted replica keeps refusing what was refused.
        self.load_shared_blocks().await
    }

    pub(crate) fn consumer_changed(&self, consumer: &Consumer) {
        self.tokens.forget_client(&consumer.client_id);
        let mut cuts = self.tokens.cuts.write();
        let cut = cuts.entry(consumer.client_id.clone()).or_default();
        cut.disabled = !consumer.enabled;
    }

    /// A consumer's state as the database holds it now (a change made elsewhere).
    pub(crate) fn consumer_state_seen(&self, state: &ConsumerTokenState) {
        let mut cuts = self.tokens.cuts.write();
        let cut = cuts.entry(state.client_id.clone()).or_default();
        cut.disabled = !state.enabled;
        cut.not_before_ms = cut
            .not_before_ms
            .max(state.tokens_not_before.timestamp_millis());
    }

    pub(crate) fn consumer_tokens_cut(&self, client_id: &str, at: DateTime<Utc>) {
        self.tokens.forget_client(client_id);
        let mut cuts = self.tokens.cuts.write();
        let cut = cuts.entry(client_id.to_string()).or_default();
        cut.not_before_ms = cut.not_before_ms.max(at.timestamp_millis());
    }

    /// Remembers (durably) that a deleted consumer's tokens are void. Like every change of
    /// the token state, memory follows the database only once it holds the change.
    pub(crate) async fn consumer_deleted(&self, client_id: &str) -> ServiceResult<()> {
        let now = self.now();
        self.store
            .insert_revocation(&Revocation {
                kind: RevocationKind::Client,
                id: client_id.to_string(),
                client_id: client_id.to_string(),
                at: now,
                expires_at: now + self.config.access_token_ttl + Duration::minutes(5),
            })
            .await?;
        self.tokens.forget_client(client_id);
        self.tokens
            .cuts
            .write()
            .entry(client_id.to_string())
            .or_default()
            .deleted = true;
        Ok(())
    }

    /// The consumer's credentials if they are in memory; never reads the database.
    pub(super) fn client_in_memory(&self, client_id: &str) -> Option<Arc<CachedClient>> {
        self.tokens.clients.read().clients.get(client_id).cloned()
    }

    pub(crate) async fn cached_client(
        &self,
        client_id: &str,
    ) -> ServiceResult<Option<Arc<CachedClient>>> {
        let generation = {
            let cache = self.tokens.clients.read();
            if let Some(found) = cache.clients.get(client_id) {
                return Ok(Some(found.clone()));
            }
            cache.generation
        };
        let credentials = match self.store.consumer_credentials(client_id).await {
            Ok(c) => c,
            Err(StoreError::NotFound) => return Ok(None),
            Err(other) => return Err(other.into()),
        };
        let scopes = self
            .store
            .group(credentials.consumer.permission_group_id)
            .await?
            .scopes();
        let entry = Arc::new(CachedClient {
            credentials,
            all_scopes: join_scopes(&scopes),
            scopes,
        });
        let mut cache = self.tokens.clients.write();
        if cache.generation != generation {
            return Ok(Some(entry));
        }
        if cache.clients.len() >= MAX_CACHED_CLIENTS {
            cache.clients.clear();
        }
        cache.clients.insert(client_id.to_string(), entry.clone());
        Ok(Some(entry))
    }
}
