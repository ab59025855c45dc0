//! The authorization code grant's token request (RFC 6749 §4.1.3), with PKCE (RFC 7636):
//! a single-use code of this client, its redirect URI and verifier.

use super::*;

impl Service {
    pub(super) async fn exchange_code(
        &self,
        client: &CachedClient,
        request: &TokenRequest,
        jkt: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let code = request
            .code
            .as_deref()
            .ok_or_else(|| OAuthError::InvalidRequest("Falta code".into()))?;
        let redirect_uri = request
            .redirect_uri
            .as_deref()
            .ok_or_else(|| OAuthError::InvalidRequest("Falta redirect_uri".into()))?;
        let verifier = request
            .code_verifier
            .as_deref()
            .ok_or_else(|| OAuthError::InvalidRequest("Falta code_verifier (PKCE)".into()))?;
        let invalid = |what: &str| OAuthError::InvalidGrant(what.to_string());
        // An unknown resource is refused before the code is spent.
        self.requested_resource(request.resource.as_deref())?;
        if !secret::is_well_formed(SecretKind::AuthorizationCode, code) {
            return Err(invalid("Código de autorización inválido"));
        }
        // Checked before the code is spent: a code presented by another client stays good
        // for the one it was issued to.
        match self
            .store
            .authorization_code_client(&secret::digest(code))
            .await
        {
            Ok(owner) if owner == client.credentials.consumer.client_id => {}
            Ok(_) => return Err(invalid("El código fue emitido para otro cliente")),
            Err(StoreError::NotFound) => return Err(invalid("Código de autorización inválido")),
            Err(other) => return Err(other.into()),
        }
        let record = match self
            .store
            .consume_authorization_code(&secret::digest(code), self.now())
            .await
        {
            Ok(CodeUse::Fresh(record)) => record,
            Ok(CodeUse::Reused(record)) => {
                // A replayed code: whatever it produced is suspect (RFC 6749 §4.1.2).
                self.end_grant(record.family_id, &record.client_id).await?;
                return Err(invalid("El código de autorización ya fue usado"));
            }
            Err(StoreError::NotFound) => return Err(invalid("Código de autorización inválido")),
            Err(other) => return Err(other.into()),
        };
        let consumer = &client.credentials.consumer;
        if record.client_id != consumer.client_id {
            return Err(invalid("El código fue emitido para otro cliente"));
        }
        if record.expires_at <= self.now() {
            return Err(invalid("El código de autorización venció"));
        }
        if record.redirect_uri != redirect_uri {
            return Err(invalid(
                "redirect_uri no coincide con la de la autorización",
            ));
        }
        if !is_valid_code_verifier(verifier)
            || !bool::from(subtle::ConstantTimeEq::ct_eq(
                pkce_s256(verifier).as_bytes(),
                record.code_challenge.as_bytes(),
            ))
        {
            return Err(invalid("code_verifier no corresponde al code_challenge"));
        }
        let resource =
            self.grant_resource(record.resource.as_deref(), request.resource.as_deref())?;
        // The group may have shrunk since the consent.
        let scopes = client.still_granted(&record.scope);
        self.issue(
            client,
            &join_scopes(&scopes),
            Some((record.family_id, Some(record.user_id))),
            jkt,
            resource.as_deref(),
        )
        .await
    }
}
