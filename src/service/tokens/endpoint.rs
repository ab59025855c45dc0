//! The token endpoint (RFC 6749 §3.2): one grant per `grant_type`, and the response that
//! every grant answers with (§5.1).

use super::client_credentials::client_credentials_scope;
use super::*;

impl Service {
    /// `POST /oauth/token`.
    pub async fn token(
        &self,
        ip: IpAddr,
        auth: Option<&ClientAuth>,
        request: TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let client = self.authenticate_client(ip, auth).await?;
        let grant = request
            .grant_type
            .as_deref()
            .ok_or_else(|| OAuthError::InvalidRequest("Falta grant_type".into()))?;
        let consumer = &client.credentials.consumer;
        let result = match self.token_binding(consumer, request.dpop.as_deref()).await {
            Err(err) => Err(err),
            Ok(jkt) => self.grant(&client, grant, &request, jkt.as_deref()).await,
        };
        if result.is_ok() {
            super::counters::token_issued(grant, consumer.token_format);
        }
        if let Err(err) = &result
            && !matches!(err, OAuthError::Internal(_))
        {
            // Boxed, as the grants of the code flow above: only client_credentials' future
            // is part of every request's.
            Box::pin(self.deny_client(
                ip,
                Some(&consumer.client_id),
                &format!("token denegado: {}", err.code()),
            ))
            .await;
        }
        result
    }

    /// The key the tokens of this request are bound to: the DPoP proof's, when it came
    /// with one (checked for a POST to the token endpoint).
    async fn token_binding(
        &self,
        consumer: &Consumer,
        proof: Option<&str>,
    ) -> Result<Option<String>, OAuthError> {
        let Some(proof) = proof else {
            if consumer.require_dpop {
                return Err(OAuthError::InvalidDpopProof(
                    "Este consumidor solo recibe tokens ligados a una clave (DPoP)",
                ));
            }
            return Ok(None);
        };
        let url = format!("{}/oauth/token", self.issuer());
        let wanted = ProofFor {
            method: "POST",
            url: &url,
            access_token: None,
        };
        Ok(Some(Box::pin(self.check_dpop_proof(proof, &wanted)).await?))
    }

    /// The grant the request names, for an authenticated client.
    async fn grant(
        &self,
        client: &CachedClient,
        grant: &str,
        request: &TokenRequest,
        jkt: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let consumer = &client.credentials.consumer;
        match grant {
            "client_credentials" => {
                let resource = self.requested_resource(request.resource.as_deref())?;
                match client_credentials_scope(client, request.scope.as_deref()) {
                    Ok(scope) => {
                        self.issue(client, &scope, None, jkt, resource.as_deref())
                            .await
                    }
                    Err(err) => Err(err),
                }
            }
            "authorization_code" => {
                if consumer.grant_type != GrantType::AuthorizationCode {
                    Err(OAuthError::UnauthorizedClient)
                } else {
                    Box::pin(self.exchange_code(client, request, jkt)).await
                }
            }
            "refresh_token" => {
                if consumer.grant_type != GrantType::AuthorizationCode {
                    Err(OAuthError::UnauthorizedClient)
                } else {
                    Box::pin(self.exchange_refresh_token(client, request, jkt)).await
                }
            }
            _ => Err(OAuthError::UnsupportedGrantType),
        }
    }

    /// A new access token (and, for the code flow, a refresh token of `family`), bound to
    /// the DPoP key `jkt` when there is one, for `resource` when the grant names one.
    pub(super) async fn issue(
        &self,
        client: &CachedClient,
        scope: &str,
        family: Option<(Uuid, Option<Uuid>)>,
        jkt: Option<&str>,
        resource: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let consumer = &client.credentials.consumer;
        let now = self.now();
        let ttl = self.config.access_token_ttl;
        let access_token = self.mint_access_token(consumer, scope, now, family, jkt, resource)?;
        let refresh_token = match family {
            Some((family_id, user_id)) => {
                let token = secret::generate(SecretKind::RefreshToken);
                // Boxed: client_credentials never waits here, and its requests' futures
                // need not hold room for the database's.
                Box::pin(
                    self.store.insert_refresh_token(&RefreshTokenRecord {
                        digest: secret::digest(&token),
                        family_id,
                        consumer_id: consumer.id,
                        client_id: consumer.client_id.clone(),
                        user_id,
                        scope: scope.to_string(),
                        issued_at: now,
                        expires_at: now + self.config.refresh_token_ttl,
                        // A public client has no credential to hold its refresh token to: the
                        // DPoP key does it (RFC 9449 §5).
                        jkt: jkt
                            .filter(|_| consumer.auth_method == AuthMethod::Public)
                            .map(str::to_string),
                        resource: resource.map(str::to_string),
                    }),
                )
                .await?;
                Some(SecretText::new(token))
            }
            None => None,
        };
        self.tokens.count(now, 1, 0);
        Ok(TokenResponse {
            access_token,
            token_type: token_type(jkt).into(),
            expires_in: ttl.num_seconds().max(0) as u64,
            scope: scope.to_string(),
            refresh_token,
        })
    }
}

/// `token_type` (RFC 6749 §7.1): `DPoP` for a token bound to a key (RFC 9449 §5).
pub(super) fn token_type(jkt: Option<&str>) -> &'static str {
    if jkt.is_some() { "DPoP" } else { "Bearer" }
}
