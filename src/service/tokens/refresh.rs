//! Refreshing an access token (RFC 6749 §6): the refresh token rotates on every use, and a
//! reused one ends its whole grant.

use super::*;

impl Service {
    pub(super) async fn exchange_refresh_token(
        &self,
        client: &CachedClient,
        request: &TokenRequest,
        jkt: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let presented = request
            .refresh_token
            .as_deref()
            .ok_or_else(|| OAuthError::InvalidRequest("Falta refresh_token".into()))?;
        let invalid = |what: &str| OAuthError::InvalidGrant(what.to_string());
        if !secret::is_well_formed(SecretKind::RefreshToken, presented) {
            return Err(invalid("refresh_token inválido"));
        }
        // An unknown resource is refused before the token is spent.
        self.requested_resource(request.resource.as_deref())?;
        let consumer = &client.credentials.consumer;
        let digest = secret::digest(presented);
        // So is a request that does not fit the grant of a token still current (another
        // resource, a wider scope): a client's mistake must not end its grant. A token spent
        // or revoked already is left to the rotation below, which ends its family.
        if let Ok(current) = self.store.live_refresh_token(&digest).await
            && current.client_id == consumer.client_id
        {
            self.refreshed_grant(client, &current, request)?;
        }
        let now = self.now();
        let next = secret::generate(SecretKind::RefreshToken);
        let replacement = RefreshTokenRecord {
            digest: secret::digest(&next),
            family_id: Uuid::nil(),
            consumer_id: Uuid::nil(),
            client_id: String::new(),
            user_id: None,
            scope: String::new(),
            issued_at: now,
            expires_at: now + self.config.refresh_token_ttl,
            jkt: None,
            resource: None,
        };
        let old = match self
            .store
            .use_refresh_token(&digest, &consumer.client_id, &replacement, jkt, now)
            .await
        {
            Ok(RefreshUse::Rotated(old)) => old,
            Ok(RefreshUse::Reused(record)) => {
                // The store revoked the family's refresh tokens; its access tokens go too.
                self.end_grant(record.family_id, &record.client_id).await?;
                return Err(invalid(
                    "refresh_token ya usado: se revocó toda su familia de tokens",
                ));
            }
            Ok(RefreshUse::WrongKey) => {
                return Err(OAuthError::InvalidDpopProof(
                    "Este refresh_token está ligado a una clave DPoP: envíe una prueba DPoP \
                     de esa clave",
                ));
            }
            Err(StoreError::NotFound) => return Err(invalid("refresh_token inválido")),
            Err(other) => return Err(other.into()),
        };
        if old.expires_at <= now {
            self.store.revoke_refresh_family(old.family_id).await?;
            return Err(invalid("refresh_token vencido"));
        }
        // The same check on the row the rotation locked: what was read before may be stale
        // only in whether it was spent, which the rotation settled.
        let (resource, scopes) = self.refreshed_grant(client, &old, request)?;
        let access_token = self.mint_access_token(
            consumer,
            &join_scopes(&scopes),
            now,
            Some((old.family_id, old.user_id)),
            jkt,
            resource.as_deref(),
        )?;
        self.tokens.count(now, 1, 0);
        Ok(TokenResponse {
            access_token,
            token_type: super::endpoint::token_type(jkt).into(),
            expires_in: self.config.access_token_ttl.num_seconds().max(0) as u64,
            scope: join_scopes(&scopes),
            refresh_token: Some(SecretText::new(next)),
        })
    }

    /// What refreshing `grant`'s token gets: the grant's resource, which the request may
    /// repeat but never change (RFC 8707 §2.2), and its scopes the consumer still has,
    /// narrowed to those the request asks for, never widened (RFC 6749 §6).
    fn refreshed_grant(
        &self,
        client: &CachedClient,
        grant: &RefreshTokenRecord,
        request: &TokenRequest,
    ) -> Result<(Option<String>, BTreeSet<String>), OAuthError> {
        let resource =
            self.grant_resource(grant.resource.as_deref(), request.resource.as_deref())?;
        // No scope asked for (or only spaces) is the whole of what is still granted.
        let scopes = narrow_scopes(
            &client.still_granted(&grant.scope),
            request.scope.as_deref(),
        )
        .map_err(|_| OAuthError::InvalidScope)?;
        Ok((resource, scopes))
    }
}
