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

    pub fn metadata(&self) -> ServerMetadata {
        let issuer = self.issuer();
        let methods = vec![
            "client_secret_basic".to_string(),
            "client_secret_post".to_string(),
            "private_key_jwt".to_string(),
        ];
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
            issuer: issuer.to_string(),
        }
    }
}
