//! Access tokens, whatever their format: the one place their claims are made, and the
//! validation that every protected endpoint relies on (memory only).

use super::*;

/// What an access token says, before its format (`opaque` or `jwt`) writes it.
pub(super) struct Minted<'a> {
    pub sub: &'a str,
    pub scope: &'a str,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
    /// The grant (refresh-token family) of the code flow.
    pub sid: Option<Uuid>,
    /// The thumbprint of the DPoP key the token is bound to.
    pub jkt: Option<&'a str>,
    /// The protected resource it is for (RFC 8707), its `aud`; `None`: consola's API.
    pub resource: Option<&'a str>,
}

impl Service {
    /// An access token for `consumer`, the one place its claims are built: `family` is the
    /// refresh-token family of the code flow, so the token dies with its grant, with the
    /// user who consented there, its subject (RFC 9068 §2.2); without one the subject is
    /// the consumer. `jkt` binds it to a DPoP key, `resource` makes it for that resource.
    pub(super) fn mint_access_token(
        &self,
        consumer: &Consumer,
        scope: &str,
        now: DateTime<Utc>,
        family: Option<(Uuid, Option<Uuid>)>,
        jkt: Option<&str>,
        resource: Option<&str>,
    ) -> Result<SecretText, OAuthError> {
        let (grant, user) = (family.map(|(id, _)| id), family.and_then(|(_, user)| user));
        // A UUIDv7 of the issue instant; its random part comes from the thread's CSPRNG
        // rather than a getrandom system call per token.
        let jti = uuid::Builder::from_unix_timestamp_millis(
            now.timestamp_millis().max(0) as u64,
            &rand::random::<[u8; 10]>(),
        )
        .into_uuid();
        let user = user.map(|id| id.to_string());
        let minted = Minted {
            sub: user.as_deref().unwrap_or(&consumer.client_id),
            scope,
            iat: now.timestamp(),
            exp: (now + self.config.access_token_ttl).timestamp(),
            jti,
            sid: grant,
            jkt,
            resource,
        };
        // A token for another resource is a JWT (RFC 9068): that server checks it with the
        // JWKS alone.
        let token = match (consumer.token_format, resource) {
            (TokenFormat::Jwt, _) | (_, Some(_)) => self.seal_jwt(consumer, &minted)?,
            (TokenFormat::Opaque, None) => self.seal_opaque(consumer, &minted)?,
        };
        Ok(SecretText::new(token))
    }

    /// The claims of an access token for consola's API that we issued and that is unexpired
    /// and not revoked. Reads memory only.
    pub fn validate_access_token(&self, token: &str) -> Option<AccessClaims> {
        let claims = self.decode_access_token(token)?;
        claims
            .check(self.issuer(), self.audience(), self.now().timestamp())
            .ok()?;
        self.still_live(claims)
    }

    /// As [`Service::validate_access_token`], for consola's API or any listed resource
    /// (RFC 8707): what introspection answers for.
    pub(super) fn validate_issued_token(&self, token: &str) -> Option<AccessClaims> {
        let claims = self.decode_access_token(token)?;
        if !self.is_issued_audience(&claims.aud) {
            return None;
        }
        let audience = claims.aud.clone();
        claims
            .check(self.issuer(), &audience, self.now().timestamp())
            .ok()?;
        self.still_live(claims)
    }

    /// The claims, unless the token was revoked, its grant ended or its consumer was cut.
    fn still_live(&self, claims: AccessClaims) -> Option<AccessClaims> {
        if self.tokens.revoked.read().contains_key(&claims.jti) {
            return None;
        }
        if let Some(grant) = &claims.sid
            && self.tokens.ended_grants.read().contains_key(grant)
        {
            return None;
        }
        if let Some(cut) = self.tokens.cuts.read().get(&claims.client_id)
            && (cut.disabled || cut.deleted || claims.issued_at_ms() < cut.not_before_ms)
        {
            return None;
        }
        Some(claims)
    }

    /// The claims of a token with a valid tag or signature, whatever its state; they are
    /// checked by [`AccessClaims::check`].
    pub(super) fn decode_access_token(&self, token: &str) -> Option<AccessClaims> {
        if token.len() > 8192 {
            return None;
        }
        if let Some(rest) = token.strip_prefix(OPAQUE_PREFIX) {
            return self.open_opaque(rest);
        }
        self.open_jwt(token)
    }
}
