//! Authorization server metadata (RFC 8414): the issuer, the endpoints and what they
//! support; and the audience of access tokens.

use super::*;

impl Service {
    /// The issuer: the server's base URL.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audience of access tokens: this server's API.
    pub(super) fn audience(&self) -> &str {
        &self.audience
    }

    /// The metadata document; what self-registered clients may use is listed only while
    /// the registration policy lets them in (read from the store: a failure lists nothing
    /// of it).
    pub async fn metadata(&self) -> ServerMetadata {
        let policy = match self.registration_policy().await {
            Ok(settings) => settings.policy,
            Err(err) => {
                tracing::warn!(error = %err, "metadata without the registration policy");
                RegistrationPolicy::Off
            }
        };
        let registering = policy != RegistrationPolicy::Off;
        let issuer = self.issuer();
        let mut methods = vec![
            "client_secret_basic".to_string(),
            "client_secret_post".to_string(),
            "private_key_jwt".to_string(),
        ];
        if registering {
            methods.push("none".into());
        }
        // The client assertions' algorithms: those consola signs with itself.
        let algs: Vec<String> = crate::domain::client_keys::ASSERTION_ALGS
            .iter()
            .map(|alg| alg.to_string())
            .collect();
        ServerMetadata {
            authorization_endpoint: format!("{issuer}/oauth/authorize"),
            token_endpoint: format!("{issuer}/oauth/token"),
            introspection_endpoint: format!("{issuer}/oauth/introspect"),
            revocation_endpoint: format!("{issuer}/oauth/revoke"),
            jwks_uri: format!("{issuer}/.well-known/jwks.json"),
            grant_types_supported: vec![
                "client_credentials".into(),
                "authorization_code".into(),
                "refresh_token".into(),
            ],
            response_types_supported: vec!["code".into()],
            response_modes_supported: vec!["query".into()],
            token_endpoint_auth_methods_supported: methods.clone(),
            token_endpoint_auth_signing_alg_values_supported: algs.clone(),
            introspection_endpoint_auth_methods_supported: methods.clone(),
            introspection_endpoint_auth_signing_alg_values_supported: algs.clone(),
            revocation_endpoint_auth_methods_supported: methods,
            revocation_endpoint_auth_signing_alg_values_supported: algs.clone(),
            dpop_signing_alg_values_supported: algs,
            code_challenge_methods_supported: vec!["S256".into()],
            scopes_supported: all_scopes(),
            authorization_response_iss_parameter_supported: true,
            registration_endpoint: registering.then(|| format!("{issuer}/oauth/register")),
            client_id_metadata_document_supported: registering,
            issuer: issuer.to_string(),
        }
    }

    /// Where the protected resource metadata of consola's API is (RFC 9728 §3.1).
    pub fn resource_metadata_url(&self) -> String {
        format!(
            "{}/.well-known/oauth-protected-resource/api/v1",
            self.issuer()
        )
    }

    pub fn protected_resource_metadata(&self) -> ProtectedResourceMetadata {
        ProtectedResourceMetadata {
            resource: self.audience().to_string(),
            authorization_servers: vec![self.issuer().to_string()],
            bearer_methods_supported: vec!["header".into()],
            scopes_supported: all_scopes(),
            dpop_signing_alg_values_supported: crate::domain::client_keys::ASSERTION_ALGS
                .iter()
                .map(|alg| alg.to_string())
                .collect(),
            resource_name: "consola API".into(),
        }
    }
}
