//! Client authentication (RFC 6749 §2.3.1): the consumer's Clave and secret, throttled,
//! counted and audited when they fail; and who calls introspection or revocation.

use super::*;

/// What went wrong with a Clave and secret, for the audit log (`found`: the consumer of
/// that Clave, if any).
fn secret_failure(found: Option<&CachedClient>) -> &'static str {
    match found.map(|c| &c.credentials.consumer) {
        Some(c) if !c.enabled => "autenticación de cliente: consumidor deshabilitado",
        Some(c) if c.approval != Approval::Approved => {
            "autenticación de cliente: cliente registrado sin aprobar"
        }
        Some(c) if c.auth_method == AuthMethod::PrivateKeyJwt => {
            "autenticación de cliente: secreto para un consumidor con Clave privada (JWT)"
        }
        Some(c) if c.auth_method == AuthMethod::Public => {
            "autenticación de cliente: secreto para un cliente público"
        }
        Some(_) => "autenticación de cliente: secreto incorrecto",
        None => "autenticación de cliente: Clave desconocida",
    }
}

impl Service {
    fn secret_matches(&self, client: &CachedClient, presented: &str) -> bool {
        let c = &client.credentials;
        let current = secret::matches(presented, &c.secret_digest);
        let previous = match (&c.previous_secret_digest, c.previous_secret_valid_until) {
            (Some(digest), Some(until)) => self.now() < until && secret::matches(presented, digest),
            _ => false,
        };
        current || previous
    }

    /// The audit entry of a refused client. A client_id that cannot be real is kept
    /// shortened, with its length, never raw.
    fn client_denial(&self, ip: IpAddr, client_id: Option<&str>, what: &str) -> NewAuditEvent {
        let shown = client_id.map(crate::domain::names::shown_identifier);
        NewAuditEvent {
            at: self.now(),
            ip: ip.to_string(),
            actor: match &shown {
                Some(id) => Actor::consumer(id),
                None => Actor::anonymous(),
            },
            action: AuditAction::Denied,
            module: modules::OAUTH.to_string(),
            target: shown.map(|s| s.into_owned()).unwrap_or_default(),
            description: what.to_string(),
        }
    }

    pub(super) async fn deny_client(&self, ip: IpAddr, client_id: Option<&str>, what: &str) {
        let event = self.client_denial(ip, client_id, what);
        if let Err(err) = self.store.record(&event).await {
            tracing::warn!(error = %err, "could not record a denial in the audit log");
        }
    }

    /// The consumer whose credentials these are: current secret, or the previous one during
    /// its grace; enabled. Failures are throttled per client_id and per address, counted
    /// for the dashboard and audited. Only failures are refused while a client or an
    /// address is throttled: the right credentials still pass, so someone who hammers a
    /// Clave (or shares an address with its owner) cannot lock the integration out. With
    /// 256-bit secrets a refused guess and a slowed one protect the same.
    pub(crate) async fn authenticate_client(
        &self,
        ip: IpAddr,
        auth: Option<&ClientAuth>,
    ) -> Result<Arc<CachedClient>, OAuthError> {
        // Formatted only when needed: with nothing blocked, the right credentials pass
        // without it.
        let ip_key = || throttle::address_key("client-ip", ip);
        let (client_id, presented) = match auth {
            None => return Err(Box::pin(self.refuse_anonymous(ip)).await),
            Some(ClientAuth::Secret {
                client_id,
                client_secret,
            }) => (client_id.as_str(), client_secret.expose()),
            Some(ClientAuth::Assertion {
                client_id,
                assertion,
            }) => {
                return Box::pin(self.authenticate_assertion(
                    ip,
                    client_id.as_deref(),
                    assertion.expose(),
                ))
                .await;
            }
            Some(ClientAuth::Public { client_id }) => {
                return Box::pin(self.authenticate_public(ip, client_id)).await;
            }
        };
        let ip_throttled = if self.throttle.anything_blocked() {
            self.throttle.check(&ip_key()).err()
        } else {
            None
        };
        let id_plausible = !client_id.is_empty() && client_id.len() <= 64;
        let in_memory = id_plausible
            .then(|| self.client_in_memory(client_id))
            .flatten();
        // A secret that matches a stored digest is one the server generated, so it is well
        // formed: its checksum is only worth checking before a database read, or to name
        // a failure.
        if let Some(client) = &in_memory
            && client.credentials.consumer.may_get_tokens()
            && self.secret_matches(client, presented)
        {
            return Ok(client.clone());
        }
        let plausible = id_plausible && secret::is_well_formed(SecretKind::ClientSecret, presented);
        let client = match (plausible, in_memory, ip_throttled) {
            (false, _, _) => None,
            (true, Some(client), _) => Some(client),
            // A throttled address gets no database reads: only clients already in memory.
            (true, None, Some(_)) => None,
            (true, None, None) => Box::pin(self.cached_client(client_id)).await?,
        };
        match client {
            Some(client)
                if client.credentials.consumer.may_get_tokens()
                    && self.secret_matches(&client, presented) =>
            {
                Ok(client)
            }
            // Boxed: the failures' futures would otherwise be part of every request's.
            found => {
                let what = secret_failure(found.as_deref());
                Err(Box::pin(self.refuse_client(ip, client_id, what, ip_throttled)).await)
            }
        }
    }

    /// A public client, by its client_id alone: it must be one (`none`), approved and
    /// enabled. What it may do is bounded by its grant (the code flow, with PKCE).
    async fn authenticate_public(
        &self,
        ip: IpAddr,
        client_id: &str,
    ) -> Result<Arc<CachedClient>, OAuthError> {
        let plausible = !client_id.is_empty() && client_id.len() <= MAX_CLIENT_ID;
        let client = match plausible {
            false => None,
            true => Box::pin(self.cached_client(client_id)).await?,
        };
        let what = match client {
            Some(client)
                if client.credentials.consumer.auth_method == AuthMethod::Public
                    && client.credentials.consumer.may_get_tokens() =>
            {
                return Ok(client);
            }
            Some(client) if client.credentials.consumer.auth_method != AuthMethod::Public => {
                "autenticación de cliente: falta el secreto o la aserción"
            }
            found => secret_failure(found.as_deref()),
        };
        let ip_throttled = self
            .throttle
            .check(&throttle::address_key("client-ip", ip))
            .err();
        Err(Box::pin(self.refuse_client(ip, client_id, what, ip_throttled)).await)
    }

    /// The answer to a request without client credentials: throttled per address, counted
    /// and audited.
    async fn refuse_anonymous(&self, ip: IpAddr) -> OAuthError {
        let ip_key = throttle::address_key("client-ip", ip);
        if let Err(retry_after) = self.throttle.check(&ip_key) {
            return self.refuse_throttled(ip, None, &ip_key, retry_after).await;
        }
        self.throttle
            .fail(&ip_key, self.config.client_failures_per_ip);
        if let Some((_, retry_after)) = self
            .count_shared_failures(&[(&ip_key, self.config.client_failures_per_ip)])
            .await
        {
            return self.refuse_throttled(ip, None, &ip_key, retry_after).await;
        }
        self.tokens.count(self.now(), 0, 1);
        self.deny_client(ip, None, "solicitud OAuth sin credenciales de cliente")
            .await;
        OAuthError::InvalidClient
    }

    /// The answer to wrong client credentials (`what` went wrong, for the audit log):
    /// throttled, or counted as a failure, audited and answered after the failure's delay.
    pub(super) async fn refuse_client(
        &self,
        ip: IpAddr,
        client_id: &str,
        what: &str,
        ip_throttled: Option<u64>,
    ) -> OAuthError {
        let ip_key = throttle::address_key("client-ip", ip);
        let client_key = format!("client:{client_id}");
        let throttled = match self.throttle.check(&client_key) {
            Err(retry_after) => Some((retry_after, &client_key)),
            Ok(()) => ip_throttled.map(|retry_after| (retry_after, &ip_key)),
        };
        if let Some((retry_after, key)) = throttled {
            return self
                .refuse_throttled(ip, Some(client_id), key, retry_after)
                .await;
        }
        let delay = self
            .throttle
            .fail(&client_key, self.config.client_failures_per_client);
        let _ = self
            .throttle
            .fail(&ip_key, self.config.client_failures_per_ip);
        // Failures only: the right credentials above never wait for the database.
        // A key another replica already refuses is answered as throttled here too.
        let keys = [
            (client_key.as_str(), self.config.client_failures_per_client),
            (ip_key.as_str(), self.config.client_failures_per_ip),
        ];
        if let Some((i, retry_after)) = self.count_shared_failures(&keys).await {
            return self
                .refuse_throttled(ip, Some(client_id), keys[i].0, retry_after)
                .await;
        }
        self.tokens.count(self.now(), 0, 1);
        self.deny_client(ip, Some(client_id), what).await;
        tokio::time::sleep(delay).await;
        OAuthError::InvalidClient
    }

    /// A failed authentication while its client or address (`key`) is refused: counted
    /// in the key's audit row of this minute, answered 429 with `Retry-After`.
    async fn refuse_throttled(
        &self,
        ip: IpAddr,
        client_id: Option<&str>,
        key: &str,
        retry_after: u64,
    ) -> OAuthError {
        self.tokens.count(self.now(), 0, 1);
        let event = self.client_denial(
            ip,
            client_id,
            "autenticación de cliente frenada por exceso de fallos",
        );
        self.record_refusal(&event, key).await;
        OAuthError::TooManyRequests { retry_after }
    }

    /// Who is asking: a consumer (sees only its own tokens) or an admin (sees all).
    pub(super) async fn token_caller(
        &self,
        ip: IpAddr,
        caller: &TokenCaller,
    ) -> Result<Option<String>, OAuthError> {
        match caller {
            TokenCaller::Client(auth) => {
                let client = self.authenticate_client(ip, Some(auth)).await?;
                Ok(Some(client.credentials.consumer.client_id.clone()))
            }
            TokenCaller::Session(token) => {
                let session = self
                    .authenticate(token.expose())
                    .await
                    .map_err(|_| OAuthError::InvalidClient)?;
                match session.user.role {
                    Role::SuperAdmin | Role::Admin => Ok(None),
                    Role::ReadOnly => Err(OAuthError::AccessDenied),
                }
            }
            TokenCaller::None => self.authenticate_client(ip, None).await.map(|_| None),
        }
    }
}
