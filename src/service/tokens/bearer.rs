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
        // A bound token is only as good as its key: without the proof it is refused.
        if claims.cnf.is_some() {
            return Err(AccessDenied::Dpop(
                "token ligado a una clave (DPoP) sin su prueba",
            ));
        }
        self.module_access_of(claims, module).await
    }

    /// A protected module seen with a DPoP-bound token (`Authorization: DPoP`) and its proof
    /// for this request (`method` and `url`, RFC 9449 §7): signed by the token's key, with
    /// the token's hash in `ath`.
    pub async fn module_access_dpop(
        &self,
        token: &str,
        proof: &str,
        method: &str,
        url: &str,
        module: &str,
    ) -> Result<ModuleAccess, AccessDenied> {
        let claims = self
            .validate_access_token(token)
            .ok_or(AccessDenied::InvalidToken)?;
        let Some(bound) = claims.cnf.as_ref().map(|c| c.jkt.clone()) else {
            return Err(AccessDenied::Dpop("token Bearer presentado como DPoP"));
        };
        let wanted = ProofFor {
            method,
            url,
            access_token: Some(token),
        };
        let jkt = self
            .check_dpop_proof(proof, &wanted)
            .await
            .map_err(|refused| match refused {
                DpopRefused::Invalid(why) => AccessDenied::Dpop(why),
                DpopRefused::UseNonce(nonce) => AccessDenied::DpopNonce(nonce),
            })?;
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            jkt.as_bytes(),
            bound.as_bytes(),
        )) {
            return Err(AccessDenied::Dpop(
                "prueba DPoP de otra clave que la del token",
            ));
        }
        self.module_access_of(claims, module).await
    }

    async fn module_access_of(
        &self,
        claims: AccessClaims,
        module: &str,
    ) -> Result<ModuleAccess, AccessDenied> {
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
