//! The protected endpoint with a bearer access token (RFC 6750): whether the token's scopes,
//! narrowed to what its consumer's group allows now, may see a module.

use super::*;

impl Service {
    /// `GET /api/v1/modules/{module}/access` with a bearer access token.
    pub async fn module_access(
        &self,
        token: &str,
        module: &str,
    ) -> Result<ModuleAccess, AccessDenied> {
        let claims = self
            .validate_access_token(token)
            .ok_or(AccessDenied::InvalidToken)?;
        if !module_exists(module) {
            return Err(AccessDenied::UnknownModule);
        }
        let claims = self.with_current_scopes(claims).await;
        let actions = claims
            .module_actions(module)
            .ok_or_else(|| AccessDenied::InsufficientScope(format!("{module}:view")))?;
        Ok(ModuleAccess {
            module: module.to_string(),
            actions,
        })
    }

    /// The token's scopes narrowed to what its consumer's permission group allows now, so
    /// a group that loses a module takes it from live tokens at once (a group that gains
    /// one does not widen them). Reads memory; the database only when the consumer is not
    /// cached. If the database cannot answer, the token keeps the scopes it was issued.
    pub(super) async fn with_current_scopes(&self, mut claims: AccessClaims) -> AccessClaims {
        match self.cached_client(&claims.client_id).await {
            Ok(Some(client)) => claims.scope = join_scopes(&client.still_granted(&claims.scope)),
            Ok(None) => claims.scope.clear(),
            Err(err) => {
                tracing::warn!(error = %err, "current scopes unavailable; using the token's own");
            }
        }
        claims
    }
}
