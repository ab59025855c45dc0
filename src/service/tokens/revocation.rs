//! Token revocation (RFC 7009), and the grants ended early: kept in memory within a bound,
//! beyond which a consumer's earlier tokens are cut instead of listed.

use super::*;

impl Service {
    /// RFC 7009: revokes an access token (by its id) or a refresh token (its whole family).
    /// Unknown, foreign and expired tokens are ignored, as the RFC asks.
    pub async fn revoke(
        &self,
        ip: IpAddr,
        caller: &TokenCaller,
        token: &str,
    ) -> Result<(), OAuthError> {
        let owner = self.token_caller(ip, caller).await?;
        let may = |client_id: &str| owner.as_deref().is_none_or(|me| me == client_id);
        if secret::is_well_formed(SecretKind::RefreshToken, token) {
            match self.store.live_refresh_token(&secret::digest(token)).await {
                Ok(record) if may(&record.client_id) => {
                    self.end_grant(record.family_id, &record.client_id).await?;
                }
                Ok(_) | Err(StoreError::NotFound) => {}
                Err(other) => return Err(other.into()),
            }
            return Ok(());
        }
        let Some(claims) = self.decode_access_token(token) else {
            return Ok(());
        };
        let checked = claims.check(self.issuer(), self.audience(), self.now().timestamp());
        if !may(&claims.client_id) || checked.is_err() {
            return Ok(());
        }
        if !self.room_for_revocation(&self.tokens.revoked) {
            // The list is full of live revocations: cut every token of the consumer issued
            // until now instead, which voids this one too (and, durably, its siblings).
            return self.cut_instead_of_listing(&claims.sub).await;
        }
        self.store
            .insert_revocation(&Revocation {
                kind: RevocationKind::Token,
                id: claims.jti.clone(),
                client_id: claims.client_id.clone(),
                at: self.now(),
                expires_at: DateTime::from_timestamp(claims.exp, 0).unwrap_or_else(|| self.now()),
            })
            .await?;
        self.tokens
            .revoked
            .write()
            .insert(claims.jti.clone(), claims.exp);
        self.prune_revoked();
        Ok(())
    }

    /// Ends a grant early: its refresh tokens are revoked and every access token issued
    /// under it stops working at once, here and after a restart.
    pub(crate) async fn end_grant(
        &self,
        family_id: Uuid,
        client_id: &str,
    ) -> Result<(), OAuthError> {
        self.store.revoke_refresh_family(family_id).await?;
        if !self.room_for_revocation(&self.tokens.ended_grants) {
            return self.cut_instead_of_listing(client_id).await;
        }
        let now = self.now();
        // No access token of the grant outlives this.
        let expires_at = now + self.config.access_token_ttl;
        self.store
            .insert_revocation(&Revocation {
                kind: RevocationKind::Grant,
                id: family_id.to_string(),
                client_id: client_id.to_string(),
                at: now,
                expires_at,
            })
            .await?;
        self.tokens
            .ended_grants
            .write()
            .insert(family_id.to_string(), expires_at.timestamp());
        self.prune_revoked();
        Ok(())
    }

    fn prune_revoked(&self) {
        let now = self.now().timestamp();
        let bound = self.config.max_revocations_in_memory;
        for map in [&self.tokens.revoked, &self.tokens.ended_grants] {
            let mut map = map.write();
            if map.len() >= bound / 2 {
                map.retain(|_, exp| *exp > now);
            }
        }
    }

    /// True when one more entry fits under the operator's bound
    /// (`max_revocations_in_memory`), after forgetting the moot ones.
    pub(in crate::service) fn room_for_revocation(
        &self,
        map: &RwLock<HashMap<String, i64>>,
    ) -> bool {
        let bound = self.config.max_revocations_in_memory;
        let mut map = map.write();
        if map.len() >= bound {
            let now = self.now().timestamp();
            map.retain(|_, exp| *exp > now);
        }
        map.len() < bound
    }

    /// Revokes by cutting: every access token of the consumer issued until now is void,
    /// here and after a restart. Used when the revocation list is at its bound.
    async fn cut_instead_of_listing(&self, client_id: &str) -> Result<(), OAuthError> {
        tracing::warn!(
            "revocation list at its bound; cutting the consumer's earlier tokens instead"
        );
        let now = self.now() + Duration::milliseconds(1);
        self.store.cut_consumer_tokens(client_id, now).await?;
        self.consumer_tokens_cut(client_id, now);
        Ok(())
    }

    /// Revoked access tokens and ended grants kept in memory (bounded by
    /// `max_revocations_in_memory`).
    pub fn revocations_in_memory(&self) -> usize {
        self.tokens.revoked.read().len() + self.tokens.ended_grants.read().len()
    }
}
