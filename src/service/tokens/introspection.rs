//! Token introspection (RFC 7662): whether a token is active, and its claims, for its own
//! consumer or an admin.

use super::*;

impl Service {
    /// RFC 7662. Anything not active for this caller answers `{"active": false}`.
    pub async fn introspect(
        &self,
        ip: IpAddr,
        caller: &TokenCaller,
        token: &str,
    ) -> Result<Introspection, OAuthError> {
        let owner = self.token_caller(ip, caller).await?;
        if secret::is_well_formed(SecretKind::RefreshToken, token) {
            return self.introspect_refresh_token(owner.as_deref(), token).await;
        }
        let Some(claims) = self.validate_issued_token(token) else {
            return Ok(Introspection::inactive());
        };
        if owner.as_ref().is_some_and(|me| *me != claims.client_id) {
            return Ok(Introspection::inactive());
        }
        let claims = self.with_current_scopes(claims).await;
        Ok(Introspection {
            active: true,
            scope: Some(claims.scope),
            client_id: Some(claims.client_id),
            token_type: Some(
                super::endpoint::token_type(claims.cnf.as_ref().map(|c| c.jkt.as_str())).into(),
            ),
            exp: Some(claims.exp),
            iat: Some(claims.iat),
            sub: Some(claims.sub),
            aud: Some(claims.aud),
            iss: Some(claims.iss),
            jti: Some(claims.jti),
            cnf: claims.cnf,
        })
    }

    async fn introspect_refresh_token(
        &self,
        owner: Option<&str>,
        token: &str,
    ) -> Result<Introspection, OAuthError> {
        let record = match self.store.live_refresh_token(&secret::digest(token)).await {
            Ok(record) => record,
            Err(StoreError::NotFound) => return Ok(Introspection::inactive()),
            Err(other) => return Err(other.into()),
        };
        let foreign = owner.is_some_and(|me| me != record.client_id);
        let cut = self
            .tokens
            .cuts
            .read()
            .get(&record.client_id)
            .is_some_and(|c| c.disabled || c.deleted);
        if foreign || cut || record.expires_at <= self.now() {
            return Ok(Introspection::inactive());
        }
        Ok(Introspection {
            active: true,
            scope: Some(record.scope),
            client_id: Some(record.client_id.clone()),
            token_type: Some("refresh_token".into()),
            exp: Some(record.expires_at.timestamp()),
            iat: Some(record.issued_at.timestamp()),
            // The same subject as the grant's access tokens.
            sub: Some(record.user_id.map_or(record.client_id, |id| id.to_string())),
            iss: Some(self.issuer().to_string()),
            ..Introspection::default()
        })
    }
}
