//! Login, logout and session checks.

use super::*;
use crate::domain::secret::SecretText;

/// Why a username and password were refused.
pub(crate) enum PasswordRefused {
    /// The username or the address is refused for this many seconds.
    Throttled(u64),
    /// Wrong, unknown or disabled; the throttle asks to hold the answer back this long.
    Wrong(std::time::Duration),
}

/// What a refusal is audited as, per place that asks for a password.
pub(crate) struct PasswordDenials {
    pub module: &'static str,
    pub throttled: &'static str,
    pub wrong: &'static str,
}

impl Service {
    /// The enabled user with this username and password: the one check behind console
    /// login and the authorization page. Throttled per username and per address; an unknown
    /// username costs an argon2 verification like a wrong password; each refusal audited.
    pub(crate) async fn check_password(
        &self,
        caller: &Caller,
        username: &str,
        password: SecretText,
        denials: &PasswordDenials,
    ) -> ServiceResult<Result<User, PasswordRefused>> {
        let username = username.trim();
        let user_key = format!("login-user:{}", username.to_lowercase());
        let ip_key = throttle::address_key("login-ip", caller.ip);
        // Each attempt is reserved before argon2 runs: a burst of parallel guesses gets at
        // most the limit checked, however fast it arrives.
        let user_attempt = match self
            .throttle
            .reserve(&user_key, self.config.login_failures_per_user)
        {
            Ok(attempt) => attempt,
            Err(retry_after) => {
                self.record_throttled(
                    caller,
                    denials.module,
                    &user_key,
                    username,
                    denials.throttled,
                )
                .await;
                return Ok(Err(PasswordRefused::Throttled(retry_after)));
            }
        };
        let ip_attempt = match self
            .throttle
            .reserve(&ip_key, self.config.login_failures_per_ip)
        {
            Ok(attempt) => attempt,
            Err(retry_after) => {
                user_attempt.give_back();
                self.record_throttled(caller, denials.module, &ip_key, username, denials.throttled)
                    .await;
                return Ok(Err(PasswordRefused::Throttled(retry_after)));
            }
        };
        // Another replica may have refused either key (or this one, before a restart):
        // the database says, before argon2 runs. The reservations go back first, so that
        // giving them back cannot lift the block mirrored next.
        let shared = match self.shared_block(&user_key).await {
            Some(until) => Some((until, &user_key)),
            None => self
                .shared_block(&ip_key)
                .await
                .map(|until| (until, &ip_key)),
        };
        if let Some((until, key)) = shared {
            user_attempt.give_back();
            ip_attempt.give_back();
            self.mirror_shared(key, until);
            self.record_throttled(caller, denials.module, key, username, denials.throttled)
                .await;
            return Ok(Err(PasswordRefused::Throttled(
                super::shared_throttles::seconds_until(until),
            )));
        }
        let record = match self.store.user_by_username(username).await {
            Ok(record) => Some(record),
            Err(StoreError::NotFound) => None,
            Err(other) => {
                user_attempt.give_back();
                ip_attempt.give_back();
                return Err(other.into());
            }
        };
        let stored = record.as_ref().map(|r| r.password_hash.clone());
        let password_ok = match self.passwords.verify(password, stored).await {
            Ok(ok) => ok,
            Err(err) => {
                // Not checked (the server is busy or broke): the attempt proves nothing.
                user_attempt.give_back();
                ip_attempt.give_back();
                return Err(err);
            }
        };
        match record {
            Some(r) if password_ok && !r.user.disabled => {
                user_attempt.succeeded();
                ip_attempt.give_back();
                self.forget_shared(&user_key).await;
                Ok(Ok(r.user))
            }
            _ => {
                let delay = user_attempt.failed();
                let _ = ip_attempt.failed();
                // Counted on every replica's behalf; the answer stays a wrong password
                // whatever the database says (or fails to).
                let _ = self
                    .count_shared_failures(&[
                        (&user_key, self.config.login_failures_per_user),
                        (&ip_key, self.config.login_failures_per_ip),
                    ])
                    .await;
                self.record_denied(caller, denials.module, username, denials.wrong)
                    .await;
                Ok(Err(PasswordRefused::Wrong(delay)))
            }
        }
    }

    pub async fn login(
        &self,
        caller: &Caller,
        request: LoginRequest,
    ) -> ServiceResult<LoginResponse> {
        let denials = PasswordDenials {
            module: modules::SESSION,
            throttled: "inicio de sesión frenado",
            wrong: "usuario o contraseña incorrectos",
        };
        let user = match self
            .check_password(caller, &request.username, request.password, &denials)
            .await?
        {
            Ok(user) => user,
            Err(PasswordRefused::Throttled(retry_after)) => {
                return Err(ServiceError::TooManyRequests { retry_after });
            }
            Err(PasswordRefused::Wrong(delay)) => {
                tokio::time::sleep(delay).await;
                return Err(ServiceError::Unauthenticated);
            }
        };
        self.open_session(caller, &user, "Inicio de sesión".to_string())
            .await
    }

    /// A new console session for `user`, who proved who they are; audited as LOGIN with
    /// `detail`.
    pub(crate) async fn open_session(
        &self,
        caller: &Caller,
        user: &User,
        detail: String,
    ) -> ServiceResult<LoginResponse> {
        let token = secret::generate(SecretKind::Session);
        let digest = secret::digest(&token);
        let now = self.now();
        let expires_at = now + self.config.session_ttl;
        let event = NewAuditEvent {
            actor: Actor::user(&user.username),
            ..self.audit(
                caller,
                AuditAction::Login,
                modules::SESSION,
                &user.username,
                detail,
            )
        };
        self.store
            .insert_session(&digest, user.id, now, expires_at, &event)
            .await?;
        Ok(LoginResponse {
            token: SecretText::new(token),
            expires_at,
            user: SessionUser::from(user),
        })
    }

    /// The session behind a bearer token, or `Unauthenticated`.
    pub async fn authenticate(&self, token: &str) -> ServiceResult<Session> {
        if !secret::is_well_formed(SecretKind::Session, token) {
            return Err(ServiceError::Unauthenticated);
        }
        let digest = secret::digest(token);
        let (record, expires_at) = match self.store.session(&digest).await {
            Ok(found) => found,
            Err(StoreError::NotFound) => return Err(ServiceError::Unauthenticated),
            Err(other) => return Err(other.into()),
        };
        if expires_at <= self.now() || record.user.disabled {
            return Err(ServiceError::Unauthenticated);
        }
        Ok(Session {
            user: SessionUser::from(&record.user),
            digest,
            expires_at,
        })
    }

    pub async fn logout(&self, caller: &Caller) -> ServiceResult<()> {
        let session = caller
            .session
            .as_ref()
            .ok_or(ServiceError::Unauthenticated)?;
        let event = self.audit(
            caller,
            AuditAction::Logout,
            modules::SESSION,
            &session.user.username,
            "Cierre de sesión",
        );
        self.store.delete_session(&session.digest, &event).await?;
        Ok(())
    }

    pub fn me(&self, caller: &Caller) -> ServiceResult<SessionUser> {
        self.user(caller).cloned()
    }

    pub async fn change_password(
        &self,
        caller: &Caller,
        change: PasswordChange,
    ) -> ServiceResult<()> {
        let session = caller
            .session
            .as_ref()
            .ok_or(ServiceError::Unauthenticated)?;
        let key = format!("password:{}", session.user.id);
        let limit = self.config.login_failures_per_user;
        if let Err(retry_after) = self.throttle.check(&key) {
            return Err(ServiceError::TooManyRequests { retry_after });
        }
        // Guesses spread over the replicas count as one replica's would: another may have
        // refused this key already (the database says, before argon2 runs).
        if let Some(until) = self.shared_block(&key).await {
            self.mirror_shared(&key, until);
            return Err(ServiceError::TooManyRequests {
                retry_after: super::shared_throttles::seconds_until(until),
            });
        }
        let mut errors = FieldErrors::new();
        validate_password(&mut errors, "new_password", change.new_password.expose());
        errors.into_result().map_err(ServiceError::Validation)?;
        let mut record = self.store.user(session.user.id).await?;
        if !self
            .passwords
            .verify(change.current_password, Some(record.password_hash.clone()))
            .await?
        {
            self.throttle.fail(&key, limit);
            // Counted on every replica's behalf; this answer stays a wrong password.
            let _ = self.count_shared_failures(&[(&key, limit)]).await;
            self.record_denied(
                caller,
                modules::USERS,
                &record.user.username,
                "contraseña actual incorrecta",
            )
            .await;
            return Err(ServiceError::Validation(FieldErrors::single(
                "current_password",
                "La contraseña actual no es correcta",
            )));
        }
        self.throttle.succeed(&key);
        self.forget_shared(&key).await;
        record.password_hash = self.passwords.hash(change.new_password).await?;
        record.user.updated_at = self.now();
        let version = record.user.version;
        let event = self.audit(
            caller,
            AuditAction::Edit,
            modules::USERS,
            &record.user.username,
            "Cambió su contraseña",
        );
        self.store.update_user(&record, version, &event).await?;
        // Other sessions of this user end: whoever else held them no longer knows the password.
        self.store
            .delete_sessions_of(session.user.id, Some(&session.digest))
            .await?;
        // So do the grants given to applications with the old password.
        self.end_user_grants(session.user.id).await?;
        Ok(())
    }
}
