//! JWT access tokens (RFC 9068): signed with the current key of the consumer's algorithm,
//! verified against every kept key (see `token_keys`).

use super::access_token::Minted;
use super::*;

impl Service {
    /// The JWT of these claims (RFC 9068 §2.2).
    pub(super) fn seal_jwt(
        &self,
        consumer: &Consumer,
        minted: &Minted<'_>,
    ) -> Result<String, OAuthError> {
        let (mut jti_text, mut sid_text) =
            (uuid::Uuid::encode_buffer(), uuid::Uuid::encode_buffer());
        let claims = AccessClaims::<&str> {
            iss: self.issuer(),
            sub: minted.sub,
            aud: minted.resource.unwrap_or(self.audience()),
            iat: minted.iat,
            exp: minted.exp,
            jti: minted.jti.hyphenated().encode_lower(&mut jti_text),
            client_id: &consumer.client_id,
            scope: minted.scope,
            sid: minted
                .sid
                .map(|id| &*id.hyphenated().encode_lower(&mut sid_text)),
            cnf: minted.jkt.map(|jkt| Confirmation { jkt }),
        };
        self.keys
            .sign_jwt(consumer.access_token_alg, &claims)
            .map_err(OAuthError::from)
    }

    /// The claims of a JWT whose signature verifies, whatever their state.
    pub(super) fn open_jwt(&self, token: &str) -> Option<AccessClaims> {
        let payload = self.keys.verify_jwt(token)?;
        serde_json::from_slice(&payload).ok()
    }
}
