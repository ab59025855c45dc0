//! OAuth consumers: create with a secret shown once, list, edit, rotate, delete; and the
//! check of a presented secret that the token endpoint relies on.

use super::*;
use crate::domain::secret::SecretText;
use crate::store::{ConsumerFilter, ConsumerInsert, SecretRotation};
use uuid::Uuid;

fn consumer_name_taken() -> ServiceError {
    ServiceError::Conflict {
        code: "name_taken",
        detail: "Ya existe un consumidor OAuth con ese nombre".into(),
        errors: FieldErrors::single("name", "Ya existe un consumidor con ese nombre"),
    }
}

fn map_consumer_write(err: StoreError) -> ServiceError {
    match err {
        StoreError::Duplicate("name") => consumer_name_taken(),
        other => other.into(),
    }
}

fn unknown_group() -> ServiceError {
    ServiceError::Validation(FieldErrors::single(
        "permission_group_id",
        "El grupo de permisos no existe",
    ))
}

impl Service {
    pub async fn consumers(
        &self,
        caller: &Caller,
        query: ConsumerQuery,
    ) -> ServiceResult<Page<Consumer>> {
        self.user(caller)?;
        let limit = page_size(query.limit)?;
        let after = match query.cursor.as_deref() {
            None | Some("") => None,
            Some(text) => Some(Uuid::parse_str(text).map_err(|_| {
                ServiceError::Validation(FieldErrors::single("cursor", "Cursor inválido"))
            })?),
        };
        if query.q.as_ref().is_some_and(|q| q.chars().count() > 100) {
            return Err(ServiceError::Validation(FieldErrors::single(
                "q",
                "Máximo 100 caracteres",
            )));
        }
        let (mut items, total) = self
            .store
            .consumers(&ConsumerFilter {
                q: query.q,
                after,
                limit: limit + 1,
            })
            .await?;
        let next_cursor = next_page(&mut items, limit).map(|last| last.id.to_string());
        Ok(Page {
            items,
            next_cursor,
            total,
        })
    }

    pub async fn consumer(&self, caller: &Caller, id: Uuid) -> ServiceResult<Consumer> {
        self.user(caller)?;
        Ok(self.store.consumer(id).await?)
    }

    pub(super) async fn require_group(&self, id: Uuid) -> ServiceResult<()> {
        match self.store.group(id).await {
            Ok(_) => Ok(()),
            Err(StoreError::NotFound) => Err(unknown_group()),
            Err(other) => Err(other.into()),
        }
    }

    pub async fn create_consumer(
        &self,
        caller: &Caller,
        new: NewConsumer,
    ) -> ServiceResult<CreatedConsumer> {
        let me = self.super_admin(caller)?;
        let mut errors = FieldErrors::new();
        let jwks = new
            .jwks
            .as_ref()
            .and_then(|jwks| check_jwks(&mut errors, jwks));
        let fields = ValidConsumer {
            name: new.name,
            description: new.description,
            grant_type: new.grant_type,
            permission_group_id: new.permission_group_id,
            hub_enabled: new.hub_enabled,
            enabled: true,
            token_format: new.token_format,
            access_token_alg: new.access_token_alg,
            redirect_uris: new.redirect_uris,
            auth_method: new.auth_method,
            jwks,
            jwks_uri: new.jwks_uri.map(|uri| uri.trim().to_string()),
            require_dpop: new.require_dpop,
        }
        .check_with(errors);
        // Report an unknown group together with the other field errors.
        let group_error = self.require_group(new.permission_group_id).await.err();
        let fields = match (fields, group_error) {
            (Ok(fields), None) => fields,
            (Err(mut errors), Some(ServiceError::Validation(group))) => {
                errors.0.extend(group.0);
                return Err(ServiceError::Validation(errors));
            }
            (Err(errors), _) => return Err(ServiceError::Validation(errors)),
            (Ok(_), Some(err)) => return Err(err),
        };
        // A key pair's consumer gets no secret at all: nothing to leak, nothing to rotate.
        let client_secret = (fields.auth_method == AuthMethod::ClientSecret)
            .then(|| secret::generate(SecretKind::ClientSecret));
        let insert = ConsumerInsert {
            id: new_id(),
            client_id: secret::generate_client_id(),
            secret_digest: client_secret.as_deref().map(secret::digest),
            secret_last_four: client_secret
                .as_deref()
                .map(secret::last_four)
                .unwrap_or_default(),
            created_at: self.now(),
            created_by: me.username.clone(),
            origin: ConsumerOrigin::Console,
            approval: Approval::Approved,
            registration_token_digest: None,
            fields,
        };
        let event = self.audit(
            caller,
            AuditAction::Add,
            modules::CONSUMERS,
            &insert.fields.name,
            format!(
                "Consumidor creado; Clave {}; grupo {}; {}; {}",
                insert.client_id,
                insert.fields.permission_group_id,
                insert.fields.grant_type.as_str(),
                match insert.fields.auth_method {
                    AuthMethod::ClientSecret => "secreto".to_string(),
                    AuthMethod::PrivateKeyJwt =>
                        format!("private_key_jwt, {}", key_list(insert.fields.jwks.as_ref())),
                    AuthMethod::Public => "cliente público".to_string(),
                },
            ),
        );
        let consumer = self
            .store
            .insert_consumer(&insert, &event)
            .await
            .map_err(map_consumer_write)?;
        Ok(CreatedConsumer {
            consumer,
            client_secret: client_secret.map(SecretText::new),
        })
    }

    /// Edits a consumer. `if_match` is the version the caller read; when it is stale the
    /// answer is `Stale` and nothing is written.
    pub async fn update_consumer(
        &self,
        caller: &Caller,
        id: Uuid,
        patch: ConsumerPatch,
        if_match: Option<i64>,
    ) -> ServiceResult<Consumer> {
        self.super_admin(caller)?;
        let current = self.store.consumer(id).await?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(ServiceError::Stale);
        }
        let mut errors = FieldErrors::new();
        // One source of keys: new keys drop the URL, a new URL drops the keys.
        let (jwks, jwks_uri) = match (&patch.jwks, &patch.jwks_uri) {
            (Some(jwks), None) => (check_jwks(&mut errors, jwks), None),
            (None, Some(uri)) => (None, Some(uri.trim().to_string())),
            (Some(jwks), Some(uri)) => {
                (check_jwks(&mut errors, jwks), Some(uri.trim().to_string()))
            }
            (None, None) => (current.jwks.clone(), current.jwks_uri.clone()),
        };
        let fields = ValidConsumer {
            name: patch.name.clone().unwrap_or_else(|| current.name.clone()),
            description: patch
                .description
                .clone()
                .unwrap_or_else(|| current.description.clone()),
            grant_type: current.grant_type,
            permission_group_id: patch
                .permission_group_id
                .unwrap_or(current.permission_group_id),
            hub_enabled: patch.hub_enabled.unwrap_or(current.hub_enabled),
            enabled: patch.enabled.unwrap_or(current.enabled),
            token_format: patch.token_format.unwrap_or(current.token_format),
            access_token_alg: patch.access_token_alg.unwrap_or(current.access_token_alg),
            redirect_uris: patch
                .redirect_uris
                .clone()
                .unwrap_or_else(|| current.redirect_uris.clone()),
            auth_method: current.auth_method,
            jwks,
            jwks_uri,
            require_dpop: patch.require_dpop.unwrap_or(current.require_dpop),
        }
        .check_with(errors)
        .map_err(ServiceError::Validation)?;
        if fields.permission_group_id != current.permission_group_id {
            self.require_group(fields.permission_group_id).await?;
        }
        let event = self.audit(
            caller,
            AuditAction::Edit,
            modules::CONSUMERS,
            &current.name,
            describe_changes(&current, &fields),
        );
        let updated = self
            .store
            .update_consumer(id, &fields, current.version, self.now(), &event)
            .await
            .map_err(map_consumer_write)?;
        self.consumer_changed(&updated);
        if current.enabled && !updated.enabled {
            self.consumer_disabled(&updated.client_id).await?;
        }
        Ok(updated)
    }

    pub async fn delete_consumer(&self, caller: &Caller, id: Uuid) -> ServiceResult<()> {
        self.super_admin(caller)?;
        let current = self.store.consumer(id).await?;
        let event = self.audit(
            caller,
            AuditAction::Delete,
            modules::CONSUMERS,
            &current.name,
            format!("Consumidor eliminado; Clave {}", current.client_id),
        );
        self.remove_consumer(&current, &event).await
    }

    /// Deletes a consumer, its tokens void from then on.
    pub(super) async fn remove_consumer(
        &self,
        consumer: &Consumer,
        event: &NewAuditEvent,
    ) -> ServiceResult<()> {
        // Its tokens are void from now on, durably, before the row goes.
        self.consumer_deleted(&consumer.client_id).await?;
        self.store.delete_consumer(consumer.id, event).await?;
        Ok(())
    }

    pub async fn rotate_consumer_secret(
        &self,
        caller: &Caller,
        id: Uuid,
        request: RotateSecret,
    ) -> ServiceResult<RotatedSecret> {
        self.super_admin(caller)?;
        if request.grace_seconds > MAX_GRACE_SECONDS {
            return Err(ServiceError::Validation(FieldErrors::single(
                "grace_seconds",
                "La gracia no puede pasar de 30 días",
            )));
        }
        let current = self.store.consumer(id).await?;
        if current.auth_method != AuthMethod::ClientSecret {
            return Err(ServiceError::Conflict {
                code: "no_secret",
                detail: "Este consumidor se autentica con Clave privada (JWT): no tiene \
                         Secreto que rotar; registre sus nuevas claves públicas"
                    .into(),
                errors: FieldErrors::new(),
            });
        }
        let credentials = self.store.consumer_credentials(&current.client_id).await?;
        let now = self.now();
        let new_secret = secret::generate(SecretKind::ClientSecret);
        let grace = (request.grace_seconds > 0)
            .then(|| now + Duration::seconds(i64::from(request.grace_seconds)));
        let previous_digest: Option<[u8; 32]> =
            grace.and_then(|_| credentials.secret_digest.as_slice().try_into().ok());
        let rotation = SecretRotation {
            secret_digest: secret::digest(&new_secret),
            secret_last_four: secret::last_four(&new_secret),
            previous_secret_digest: previous_digest,
            previous_secret_valid_until: grace,
            tokens_not_before: request.revoke_tokens.then_some(now),
            at: now,
        };
        let description = match grace {
            Some(until) => format!(
                "Secreto rotado; el anterior vale hasta {}",
                until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            None => "Secreto rotado; el anterior dejó de valer".to_string(),
        };
        let description = if request.revoke_tokens {
            format!("{description}; tokens existentes revocados")
        } else {
            description
        };
        let event = self.audit(
            caller,
            AuditAction::Rotate,
            modules::CONSUMERS,
            &current.name,
            description,
        );
        self.store
            .rotate_consumer_secret(id, &rotation, &event)
            .await?;
        match rotation.tokens_not_before {
            Some(at) => self.consumer_tokens_cut(&current.client_id, at),
            None => self.tokens.forget_client(&current.client_id),
        }
        Ok(RotatedSecret {
            secret_last_four: rotation.secret_last_four,
            client_secret: SecretText::new(new_secret),
            previous_secret_valid_until: grace,
        })
    }
}

/// The thumbprints of a consumer's public keys, for the audit log: "claves a, b" (public
/// names, never key material), or "sin claves".
fn key_list(keys: Option<&ClientKeys>) -> String {
    match keys {
        Some(keys) => {
            let prints: Vec<&str> = keys.keys().iter().map(|k| k.thumbprint.as_str()).collect();
            format!("claves {}", prints.join(", "))
        }
        None => "sin claves".to_string(),
    }
}

/// Names the fields an edit changed, for the audit log (never a secret).
fn describe_changes(current: &Consumer, fields: &ValidConsumer) -> String {
    let mut changed = Vec::new();
    if fields.name != current.name {
        changed.push(format!("nombre → «{}»", fields.name));
    }
    if fields.description != current.description {
        changed.push("descripción".to_string());
    }
    if fields.permission_group_id != current.permission_group_id {
        changed.push(format!("grupo → {}", fields.permission_group_id));
    }
    if fields.hub_enabled != current.hub_enabled {
        changed.push(format!(
            "hub {}",
            if fields.hub_enabled {
                "activado"
            } else {
                "desactivado"
            }
        ));
    }
    if fields.enabled != current.enabled {
        changed.push(
            if fields.enabled {
                "habilitado"
            } else {
                "deshabilitado"
            }
            .to_string(),
        );
    }
    if fields.token_format != current.token_format {
        changed.push(format!("formato de token {}", fields.token_format.as_str()));
    }
    if fields.access_token_alg != current.access_token_alg {
        changed.push(format!(
            "algoritmo de firma {}",
            fields.access_token_alg.as_str()
        ));
    }
    if fields.redirect_uris != current.redirect_uris {
        changed.push("URL de retorno".to_string());
    }
    if fields.require_dpop != current.require_dpop {
        changed.push(
            if fields.require_dpop {
                "solo tokens DPoP"
            } else {
                "tokens DPoP opcionales"
            }
            .to_string(),
        );
    }
    if fields.jwks != current.jwks {
        changed.push(format!(
            "claves públicas ({})",
            key_list(fields.jwks.as_ref())
        ));
    }
    if changed.is_empty() {
        "Sin cambios".to_string()
    } else {
        format!("Editado: {}", changed.join(", "))
    }
}
