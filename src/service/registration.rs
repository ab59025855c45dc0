//! Clients that register themselves (RFC 7591, managed after with RFC 7592), under the
//! Súper Administrador's policy: off, with approval, or open. The decisions on pending
//! clients, and the initial access tokens that let an automation skip the wait.

use super::*;
use crate::domain::registration::*;
use crate::domain::secret::SecretText;
use crate::store::{ConsumerInsert, InitialAccessTokenRecord};

/// Most clients waiting for approval at once: past it, registrations are refused until the
/// Súper Administrador decides, so that a flood cannot bury the real ones.
pub const MAX_PENDING: u64 = 50;
/// Registrations one address may make in the throttle's window.
pub(super) const REGISTRATIONS_PER_ADDRESS: u32 = 10;

/// Why a registration request is refused (RFC 7591 §3.2.2, RFC 7592 §2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    /// The policy is `off`: the endpoint is not offered (404).
    #[error("El registro de clientes está desactivado")]
    NotOffered,
    /// The metadata is refused (400, `invalid_redirect_uri` or `invalid_client_metadata`).
    #[error("{0}")]
    Metadata(MetadataRefused),
    /// No registration access token, a wrong one, or an unknown client (401).
    #[error("Token de registro inválido")]
    InvalidToken,
    /// An initial access token that is unknown or expired (401).
    #[error("Token de acceso inicial inválido o vencido")]
    InvalidInitialToken,
    /// Too many registrations from the address, or too many waiting for approval (429).
    #[error("{detail}")]
    TooMany { detail: String, retry_after: u64 },
    /// The store failed (500 or 503).
    #[error("{0}")]
    Service(String),
}

impl From<ServiceError> for RegistrationError {
    fn from(err: ServiceError) -> Self {
        RegistrationError::Service(err.to_string())
    }
}

impl From<StoreError> for RegistrationError {
    fn from(err: StoreError) -> Self {
        ServiceError::from(err).into()
    }
}

fn information(
    consumer: &Consumer,
    registration_client_uri: String,
    client_secret: Option<String>,
    registration_access_token: Option<String>,
) -> ClientInformation {
    let grant_types = match consumer.grant_type {
        GrantType::AuthorizationCode => vec!["authorization_code".into(), "refresh_token".into()],
        GrantType::ClientCredentials => vec!["client_credentials".into()],
    };
    let response_types = match consumer.grant_type {
        GrantType::AuthorizationCode => vec!["code".into()],
        GrantType::ClientCredentials => vec![],
    };
    ClientInformation {
        client_id: consumer.client_id.clone(),
        client_secret_expires_at: (consumer.auth_method == AuthMethod::ClientSecret).then_some(0),
        client_secret: client_secret.map(SecretText::new),
        client_id_issued_at: consumer.created_at.timestamp(),
        registration_access_token: registration_access_token.map(SecretText::new),
        registration_client_uri,
        client_name: consumer.name.clone(),
        redirect_uris: consumer.redirect_uris.clone(),
        grant_types,
        response_types,
        token_endpoint_auth_method: match consumer.auth_method {
            AuthMethod::Public => "none",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::ClientSecret => "client_secret_basic",
        }
        .into(),
        approval: consumer.approval,
    }
}

fn initial_token_of(record: InitialAccessTokenRecord) -> InitialAccessToken {
    InitialAccessToken {
        id: record.id,
        name: record.name,
        permission_group_id: record.group_id,
        permission_group_name: record.group_name,
        expires_at: record.expires_at,
        created_at: record.created_at,
        created_by: record.created_by,
    }
}

/// Why the policy lets no new client in now.
#[derive(Debug)]
pub(super) enum NotAdmitted {
    /// [`MAX_PENDING`] clients wait already.
    TooManyPending,
    /// The policy has no group to put it in.
    NoGroup,
    Store(StoreError),
}

impl std::fmt::Display for NotAdmitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotAdmitted::TooManyPending => write!(
                f,
                "Hay {MAX_PENDING} clientes esperando aprobación; reintente cuando el Súper \
                 Administrador los haya revisado"
            ),
            NotAdmitted::NoGroup => f.write_str(
                "El registro de clientes no tiene grupo de permisos; el Súper Administrador \
                 debe elegirlo",
            ),
            NotAdmitted::Store(err) => write!(f, "{err}"),
        }
    }
}

impl From<NotAdmitted> for RegistrationError {
    fn from(refused: NotAdmitted) -> Self {
        match refused {
            NotAdmitted::TooManyPending => RegistrationError::TooMany {
                detail: refused.to_string(),
                retry_after: 3600,
            },
            NotAdmitted::Store(err) => err.into(),
            NotAdmitted::NoGroup => RegistrationError::Service(refused.to_string()),
        }
    }
}

impl Service {
    /// What the policy makes of a new client, registered or named by its document: pending
    /// under `approval`, approved under `open`, in the policy's group; refused past
    /// [`MAX_PENDING`] waiting.
    pub(super) async fn admission(
        &self,
        settings: &RegistrationSettings,
    ) -> Result<(Approval, Uuid), NotAdmitted> {
        let group = settings.group_id.ok_or(NotAdmitted::NoGroup)?;
        if settings.policy == RegistrationPolicy::Open {
            return Ok((Approval::Approved, group));
        }
        let pending = self
            .store
            .pending_count()
            .await
            .map_err(NotAdmitted::Store)?;
        if pending >= MAX_PENDING {
            return Err(NotAdmitted::TooManyPending);
        }
        Ok((Approval::Pending, group))
    }

    /// Where a registered client is read, changed and deleted (RFC 7592).
    pub fn registration_client_uri(&self, client_id: &str) -> String {
        format!("{}/oauth/register/{client_id}", self.issuer())
    }

    // --- the policy ----------------------------------------------------------------------

    pub async fn registration_settings(
        &self,
        caller: &Caller,
    ) -> ServiceResult<RegistrationSettings> {
        self.user(caller)?;
        Ok(self.store.registration_settings().await?)
    }

    /// The policy in force, for the metadata and the endpoints.
    pub async fn registration_policy(&self) -> ServiceResult<RegistrationSettings> {
        Ok(self.store.registration_settings().await?)
    }

    pub async fn set_registration_settings(
        &self,
        caller: &Caller,
        patch: RegistrationPatch,
    ) -> ServiceResult<RegistrationSettings> {
        let me = self.super_admin(caller)?;
        let group = match (patch.policy, patch.group_id) {
            (RegistrationPolicy::Off, group) => group,
            (_, None) => {
                return Err(ServiceError::Validation(FieldErrors::single(
                    "group_id",
                    "Elija el grupo de permisos de los clientes nuevos",
                )));
            }
            (_, Some(group)) => Some(group),
        };
        if let Some(group) = group {
            self.require_group(group).await?;
        }
        let settings = RegistrationSettings {
            policy: patch.policy,
            group_id: group,
            group_name: None,
            updated_at: self.now(),
            updated_by: me.username.clone(),
        };
        let event = self.audit(
            caller,
            AuditAction::Edit,
            modules::REGISTRATION,
            "política",
            format!(
                "Registro de clientes: {}{}",
                patch.policy.label_es(),
                group.map(|g| format!("; grupo {g}")).unwrap_or_default()
            ),
        );
        Ok(self
            .store
            .set_registration_settings(&settings, &event)
            .await?)
    }

    /// `serve --client-registration` (and its group, by name) at start: written when it
    /// differs from the stored policy, audited as the server's own.
    pub async fn apply_registration_setting(
        &self,
        policy: RegistrationPolicy,
        group_name: Option<&str>,
    ) -> ServiceResult<RegistrationSettings> {
        let current = self.store.registration_settings().await?;
        let group = match group_name {
            None => current.group_id,
            Some(name) => {
                let key = crate::domain::names::comparison_key(name);
                let groups = self.store.groups().await?;
                let found = groups
                    .iter()
                    .find(|g| crate::domain::names::comparison_key(&g.name) == key)
                    .ok_or_else(|| {
                        ServiceError::Validation(FieldErrors::single(
                            "client_registration_group",
                            format!("No existe el grupo de permisos «{name}»"),
                        ))
                    })?;
                Some(found.id)
            }
        };
        if policy != RegistrationPolicy::Off && group.is_none() {
            return Err(ServiceError::Validation(FieldErrors::single(
                "client_registration_group",
                "--client-registration approval u open necesita --client-registration-group",
            )));
        }
        if current.policy == policy && current.group_id == group {
            return Ok(current);
        }
        let settings = RegistrationSettings {
            policy,
            group_id: group,
            group_name: None,
            updated_at: self.now(),
            updated_by: "configuración del servidor".into(),
        };
        let event = NewAuditEvent {
            at: self.now(),
            ip: String::new(),
            actor: Actor::system(),
            action: AuditAction::Edit,
            module: modules::REGISTRATION.into(),
            target: "política".into(),
            description: format!(
                "Registro de clientes (configuración del servidor): {}",
                policy.label_es()
            ),
        };
        Ok(self
            .store
            .set_registration_settings(&settings, &event)
            .await?)
    }

    // --- decisions -----------------------------------------------------------------------

    /// The clients waiting for approval, oldest first (at most [`MAX_PENDING`]).
    pub async fn pending_consumers(&self, caller: &Caller) -> ServiceResult<Vec<Consumer>> {
        self.user(caller)?;
        Ok(self.store.pending_consumers().await?)
    }

    /// Lets a pending client in, into `group`.
    pub async fn approve_consumer(
        &self,
        caller: &Caller,
        id: Uuid,
        decision: ApproveConsumer,
    ) -> ServiceResult<Consumer> {
        self.super_admin(caller)?;
        self.require_group(decision.permission_group_id).await?;
        self.decide(
            caller,
            id,
            Approval::Approved,
            Some(decision.permission_group_id),
        )
        .await
    }

    /// Refuses a pending client; it stays, rejected, so that it does not come back pending.
    pub async fn reject_consumer(&self, caller: &Caller, id: Uuid) -> ServiceResult<Consumer> {
        self.super_admin(caller)?;
        self.decide(caller, id, Approval::Rejected, None).await
    }

    async fn decide(
        &self,
        caller: &Caller,
        id: Uuid,
        approval: Approval,
        group: Option<Uuid>,
    ) -> ServiceResult<Consumer> {
        let current = self.store.consumer(id).await?;
        if current.approval != Approval::Pending {
            return Err(ServiceError::Conflict {
                code: "not_pending",
                detail: format!(
                    "«{}» no espera aprobación: está {}",
                    current.name,
                    current.approval.label_es().to_lowercase()
                ),
                errors: FieldErrors::new(),
            });
        }
        let what = match (approval, group) {
            (Approval::Approved, Some(group)) => format!("Aprobado en el grupo {group}"),
            _ => "Rechazado".to_string(),
        };
        let event = self.audit(
            caller,
            AuditAction::Edit,
            modules::REGISTRATION,
            &current.name,
            format!(
                "{what}; Clave {}; origen {}",
                current.client_id,
                current.origin.label_es()
            ),
        );
        let decided = self
            .store
            .decide_consumer(id, approval, group, self.now(), &event)
            .await?;
        self.consumer_changed(&decided);
        Ok(decided)
    }

    // --- initial access tokens -------------------------------------------------------------

    pub async fn initial_access_tokens(
        &self,
        caller: &Caller,
    ) -> ServiceResult<Vec<InitialAccessToken>> {
        self.super_admin(caller)?;
        Ok(self
            .store
            .initial_access_tokens()
            .await?
            .into_iter()
            .map(initial_token_of)
            .collect())
    }

    pub async fn create_initial_access_token(
        &self,
        caller: &Caller,
        new: NewInitialAccessToken,
    ) -> ServiceResult<CreatedInitialAccessToken> {
        let me = self.super_admin(caller)?;
        let mut errors = FieldErrors::new();
        let name = crate::domain::validation::required_line(&mut errors, "name", &new.name, 100);
        let days = new.days.unwrap_or(30);
        if !(1..=365).contains(&days) {
            errors.add("days", "Entre 1 y 365 días");
        }
        errors.into_result().map_err(ServiceError::Validation)?;
        self.require_group(new.permission_group_id).await?;
        let token = secret::generate(SecretKind::InitialAccessToken);
        let now = self.now();
        let record = InitialAccessTokenRecord {
            id: new_id(),
            name,
            digest: secret::digest(&token),
            group_id: new.permission_group_id,
            group_name: String::new(),
            expires_at: now + Duration::days(i64::from(days)),
            created_at: now,
            created_by: me.username.clone(),
        };
        let event = self.audit(
            caller,
            AuditAction::Add,
            modules::REGISTRATION,
            &record.name,
            format!(
                "Token de acceso inicial creado; grupo {}; vence {}",
                record.group_id,
                record.expires_at.format("%Y-%m-%d")
            ),
        );
        let stored = self
            .store
            .insert_initial_access_token(&record, &event)
            .await?;
        Ok(CreatedInitialAccessToken {
            token: initial_token_of(stored),
            initial_access_token: SecretText::new(token),
        })
    }

    pub async fn delete_initial_access_token(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> ServiceResult<()> {
        self.super_admin(caller)?;
        let event = self.audit(
            caller,
            AuditAction::Delete,
            modules::REGISTRATION,
            id.to_string(),
            "Token de acceso inicial eliminado",
        );
        Ok(self.store.delete_initial_access_token(id, &event).await?)
    }

    // --- RFC 7591: registration ----------------------------------------------------------

    /// Registers a client: pending under `approval`, in the policy's group under `open`, or
    /// straight into an initial access token's group.
    pub async fn register_client(
        &self,
        ip: IpAddr,
        initial_token: Option<&str>,
        metadata: ClientMetadata,
    ) -> Result<ClientInformation, RegistrationError> {
        let settings = self.store.registration_settings().await?;
        // Off means not offered at all, initial access token or not.
        if settings.policy == RegistrationPolicy::Off {
            return Err(RegistrationError::NotOffered);
        }
        let key = throttle::address_key("register-ip", ip);
        if let Err(retry_after) = self.throttle.check(&key) {
            return Err(RegistrationError::TooMany {
                detail: "Demasiados registros desde esta dirección".into(),
                retry_after,
            });
        }
        let initial = match initial_token {
            None => None,
            Some(token) => {
                let found = if secret::is_well_formed(SecretKind::InitialAccessToken, token) {
                    match self
                        .store
                        .initial_access_token(&secret::digest(token))
                        .await
                    {
                        Ok(found) if found.expires_at > self.now() => Some(found),
                        Ok(_) | Err(StoreError::NotFound) => None,
                        Err(other) => return Err(other.into()),
                    }
                } else {
                    None
                };
                if found.is_none() {
                    let _ = self.throttle.fail(&key, REGISTRATIONS_PER_ADDRESS);
                    self.record_denied(
                        &Caller::anonymous(ip),
                        modules::REGISTRATION,
                        "",
                        "registro: token de acceso inicial inválido",
                    )
                    .await;
                    return Err(RegistrationError::InvalidInitialToken);
                }
                found
            }
        };
        let client = metadata
            .check_registration()
            .map_err(RegistrationError::Metadata)?;
        let (approval, group) = match &initial {
            Some(token) => (Approval::Approved, token.group_id),
            None => self.admission(&settings).await?,
        };
        // Every registration counts against the address, accepted or not.
        let _ = self.throttle.fail(&key, REGISTRATIONS_PER_ADDRESS);
        let client_secret = (client.auth_method == AuthMethod::ClientSecret)
            .then(|| secret::generate(SecretKind::ClientSecret));
        let token = secret::generate(SecretKind::RegistrationAccessToken);
        let insert = ConsumerInsert {
            id: new_id(),
            client_id: secret::generate_client_id(),
            secret_digest: client_secret.as_deref().map(secret::digest),
            secret_last_four: client_secret
                .as_deref()
                .map(secret::last_four)
                .unwrap_or_default(),
            created_at: self.now(),
            created_by: "registro dinámico".into(),
            origin: ConsumerOrigin::Registration,
            approval,
            registration_token_digest: Some(secret::digest(&token)),
            fields: self.registered_fields(client, group)?,
        };
        let event = NewAuditEvent {
            actor: Actor::consumer(&insert.client_id),
            ..self.audit(
                &Caller::anonymous(ip),
                AuditAction::Add,
                modules::REGISTRATION,
                &insert.fields.name,
                format!(
                    "Cliente registrado ({}); Clave {}; {}; URL de retorno: {}",
                    match &initial {
                        Some(t) => format!("token de acceso inicial «{}»", t.name),
                        None => approval.label_es().to_lowercase(),
                    },
                    insert.client_id,
                    insert.fields.auth_method.as_str(),
                    insert.fields.redirect_uris.join(" ")
                ),
            )
        };
        let consumer = match self.store.insert_consumer(&insert, &event).await {
            // Many copies of one app register under its one name: each after the first is
            // told apart by the start of its Clave.
            Err(StoreError::Duplicate("name")) => {
                let mut insert = insert;
                let base: String = insert.fields.name.chars().take(90).collect();
                insert.fields.name = format!("{base} ({})", &insert.client_id[..6]);
                let event = NewAuditEvent {
                    target: insert.fields.name.clone(),
                    ..event
                };
                self.store.insert_consumer(&insert, &event).await?
            }
            other => other?,
        };
        self.consumer_changed(&consumer);
        Ok(information(
            &consumer,
            self.registration_client_uri(&consumer.client_id),
            client_secret,
            Some(token),
        ))
    }

    fn registered_fields(
        &self,
        client: RegisteredClient,
        group: Uuid,
    ) -> Result<ValidConsumer, RegistrationError> {
        client.fields(group).check().map_err(|errors| {
            let (field, message) = errors.0.into_iter().next().unwrap_or_default();
            RegistrationError::Metadata(MetadataRefused {
                error: if field == "redirect_uris" {
                    "invalid_redirect_uri"
                } else {
                    "invalid_client_metadata"
                },
                description: format!("{field}: {message}"),
            })
        })
    }

    // --- RFC 7592: management ------------------------------------------------------------

    /// The registered client whose registration access token this is.
    async fn registered(
        &self,
        client_id: &str,
        token: Option<&str>,
    ) -> Result<Consumer, RegistrationError> {
        let token = token
            .filter(|t| secret::is_well_formed(SecretKind::RegistrationAccessToken, t))
            .ok_or(RegistrationError::InvalidToken)?;
        if client_id.is_empty() || client_id.len() > 64 {
            return Err(RegistrationError::InvalidToken);
        }
        let credentials = match self.store.consumer_credentials(client_id).await {
            Ok(found) => found,
            Err(StoreError::NotFound) => return Err(RegistrationError::InvalidToken),
            Err(other) => return Err(other.into()),
        };
        match &credentials.registration_token_digest {
            Some(digest) if secret::matches(token, digest) => Ok(credentials.consumer),
            _ => Err(RegistrationError::InvalidToken),
        }
    }

    pub async fn read_registration(
        &self,
        client_id: &str,
        token: Option<&str>,
    ) -> Result<ClientInformation, RegistrationError> {
        let consumer = self.registered(client_id, token).await?;
        Ok(information(
            &consumer,
            self.registration_client_uri(client_id),
            None,
            None,
        ))
    }

    /// Replaces the client's metadata (RFC 7592 §2.2). Its authentication method and grant
    /// stay as registered; a pending client stays pending.
    pub async fn update_registration(
        &self,
        ip: IpAddr,
        client_id: &str,
        token: Option<&str>,
        metadata: ClientMetadata,
    ) -> Result<ClientInformation, RegistrationError> {
        let consumer = self.registered(client_id, token).await?;
        if metadata
            .client_id
            .as_deref()
            .is_some_and(|id| id != client_id)
        {
            return Err(RegistrationError::Metadata(MetadataRefused {
                error: "invalid_client_metadata",
                description: "client_id no coincide con el del cliente".into(),
            }));
        }
        let client = metadata
            .check_registration()
            .map_err(RegistrationError::Metadata)?;
        if client.auth_method != consumer.auth_method || client.grant_type != consumer.grant_type {
            return Err(RegistrationError::Metadata(MetadataRefused {
                error: "invalid_client_metadata",
                description: "token_endpoint_auth_method y grant_types no cambian; registre \
                              un cliente nuevo"
                    .into(),
            }));
        }
        let fields = ValidConsumer {
            enabled: consumer.enabled,
            ..self.registered_fields(client, consumer.permission_group_id)?
        };
        let event = NewAuditEvent {
            actor: Actor::consumer(client_id),
            ..self.audit(
                &Caller::anonymous(ip),
                AuditAction::Edit,
                modules::REGISTRATION,
                &fields.name,
                format!(
                    "Cliente registrado modificado; URL de retorno: {}",
                    fields.redirect_uris.join(" ")
                ),
            )
        };
        let updated = self
            .store
            .update_consumer(consumer.id, &fields, consumer.version, self.now(), &event)
            .await?;
        self.consumer_changed(&updated);
        Ok(information(
            &updated,
            self.registration_client_uri(client_id),
            None,
            None,
        ))
    }

    /// The client deletes itself (RFC 7592 §2.3).
    pub async fn delete_registration(
        &self,
        ip: IpAddr,
        client_id: &str,
        token: Option<&str>,
    ) -> Result<(), RegistrationError> {
        let consumer = self.registered(client_id, token).await?;
        let event = NewAuditEvent {
            actor: Actor::consumer(client_id),
            ..self.audit(
                &Caller::anonymous(ip),
                AuditAction::Delete,
                modules::REGISTRATION,
                &consumer.name,
                "El cliente registrado se dio de baja",
            )
        };
        self.remove_consumer(&consumer, &event).await?;
        Ok(())
    }
}
