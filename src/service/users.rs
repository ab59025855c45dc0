//! Console user accounts ("Cuentas de Usuarios" → Usuarios).

use super::*;
use crate::store::UserRecord;
use uuid::Uuid;

fn super_admin_is_fixed() -> ServiceError {
    ServiceError::Conflict {
        code: "super_admin_fixed",
        detail: "El Súper Administrador no se puede eliminar, desactivar ni degradar; primero transfiera el rol a otro usuario".into(),
        errors: FieldErrors::single("role", "Transfiera el rol primero"),
    }
}

impl Service {
    pub async fn users(&self, caller: &Caller) -> ServiceResult<Vec<User>> {
        self.admin(caller)?;
        Ok(self.store.users().await?)
    }

    pub async fn user_by_id(&self, caller: &Caller, id: Uuid) -> ServiceResult<User> {
        self.admin(caller)?;
        Ok(self.store.user(id).await?.user)
    }

    pub async fn create_user(&self, caller: &Caller, new: NewUser) -> ServiceResult<User> {
        self.super_admin(caller)?;
        let mut errors = FieldErrors::new();
        let username = validate_username(&mut errors, "username", &new.username);
        let display_name = validate_display_name(&mut errors, "display_name", &new.display_name);
        validate_password(&mut errors, "password", new.password.expose());
        if new.role == Role::SuperAdmin {
            errors.add(
                "role",
                "Solo hay un Súper Administrador; para cambiarlo, transfiera el rol",
            );
        }
        errors.into_result().map_err(ServiceError::Validation)?;
        let now = self.now();
        let record = UserRecord {
            user: User {
                id: new_id(),
                username,
                display_name,
                role: new.role,
                disabled: false,
                created_at: now,
                updated_at: now,
                version: 1,
            },
            password_hash: self.passwords.hash(new.password).await?,
        };
        let event = self.audit(
            caller,
            AuditAction::Add,
            modules::USERS,
            &record.user.username,
            format!("Usuario creado con rol {}", record.user.role.as_str()),
        );
        match self.store.insert_user(&record, &event).await {
            Err(StoreError::Duplicate(_)) => Err(ServiceError::Conflict {
                code: "username_taken",
                detail: "Ya existe un usuario con ese nombre".into(),
                errors: FieldErrors::single("username", "Ya existe un usuario con ese nombre"),
            }),
            other => other.map(|()| record.user).map_err(Into::into),
        }
    }

    pub async fn update_user(
        &self,
        caller: &Caller,
        id: Uuid,
        patch: UserPatch,
    ) -> ServiceResult<User> {
        let me = self.super_admin(caller)?.clone();
        let mut record = self.store.user(id).await?;
        let before = record.user.clone();
        let mut errors = FieldErrors::new();
        if let Some(name) = &patch.display_name {
            record.user.display_name = validate_display_name(&mut errors, "display_name", name);
        }
        if let Some(password) = &patch.password {
            validate_password(&mut errors, "password", password.expose());
        }
        errors.into_result().map_err(ServiceError::Validation)?;

        let hand_over = patch.role == Some(Role::SuperAdmin) && before.role != Role::SuperAdmin;
        if before.role == Role::SuperAdmin
            && (patch.role.is_some_and(|r| r != Role::SuperAdmin) || patch.disabled == Some(true))
        {
            return Err(super_admin_is_fixed());
        }
        if hand_over && (before.disabled || patch.disabled == Some(true)) {
            return Err(ServiceError::Validation(FieldErrors::single(
                "role",
                "No se puede transferir el rol a un usuario desactivado",
            )));
        }
        if let Some(role) = patch.role
            && !hand_over
        {
            record.user.role = role;
        }
        if let Some(disabled) = patch.disabled {
            record.user.disabled = disabled;
        }
        if let Some(password) = patch.password.clone() {
            record.password_hash = self.passwords.hash(password).await?;
        }
        record.user.updated_at = self.now();
        let mut changed = Vec::new();
        if record.user.display_name != before.display_name {
            changed.push("nombre".to_string());
        }
        if record.user.role != before.role {
            changed.push(format!("rol {}", record.user.role.as_str()));
        }
        if record.user.disabled != before.disabled {
            changed.push(
                if record.user.disabled {
                    "desactivado"
                } else {
                    "activado"
                }
                .to_string(),
            );
        }
        let password_changed = patch.password.is_some();
        if password_changed {
            changed.push("contraseña".to_string());
        }
        let event = self.audit(
            caller,
            AuditAction::Edit,
            modules::USERS,
            &before.username,
            if changed.is_empty() {
                "Sin cambios".to_string()
            } else {
                changed.join(", ")
            },
        );
        let mut user = self
            .store
            .update_user(&record, before.version, &event)
            .await?;
        if user.disabled {
            self.access_ended.send_replace(());
        }
        if user.disabled || password_changed {
            self.store.delete_sessions_of(user.id, None).await?;
            // What the user authorized applications to do ends with their access.
            self.end_user_grants(user.id).await?;
        }
        if hand_over {
            let event = self.audit(
                caller,
                AuditAction::Edit,
                modules::USERS,
                &user.username,
                format!(
                    "Rol de Súper Administrador transferido desde {}",
                    me.username
                ),
            );
            self.store
                .transfer_super_admin(me.id, user.id, self.now(), &event)
                .await?;
            user = self.store.user(user.id).await?.user;
        }
        Ok(user)
    }

    pub async fn delete_user(&self, caller: &Caller, id: Uuid) -> ServiceResult<()> {
        self.super_admin(caller)?;
        let record = self.store.user(id).await?;
        if record.user.role == Role::SuperAdmin {
            return Err(super_admin_is_fixed());
        }
        let event = self.audit(
            caller,
            AuditAction::Delete,
            modules::USERS,
            &record.user.username,
            "Usuario eliminado",
        );
        self.store.delete_user(id, &event).await?;
        self.access_ended.send_replace(());
        Ok(())
    }
}
