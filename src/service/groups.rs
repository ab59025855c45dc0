//! Permission groups ("Cuentas de Usuarios" → Permisos).

use super::*;
use uuid::Uuid;

fn group_name_taken() -> ServiceError {
    ServiceError::Conflict {
        code: "name_taken",
        detail: "Ya existe un grupo de permisos con ese nombre".into(),
        errors: FieldErrors::single("name", "Ya existe un grupo con ese nombre"),
    }
}

fn map_group_write(err: StoreError) -> ServiceError {
    match err {
        StoreError::Duplicate(_) => group_name_taken(),
        other => other.into(),
    }
}

impl Service {
    pub async fn permission_groups(&self, caller: &Caller) -> ServiceResult<Vec<PermissionGroup>> {
        self.user(caller)?;
        Ok(self.store.groups().await?)
    }

    pub async fn permission_group(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> ServiceResult<PermissionGroup> {
        self.user(caller)?;
        Ok(self.store.group(id).await?)
    }

    pub async fn create_permission_group(
        &self,
        caller: &Caller,
        new: NewPermissionGroup,
    ) -> ServiceResult<PermissionGroup> {
        self.admin(caller)?;
        let valid = validate_group(&new.name, &new.description, new.read_only, &new.permissions)
            .map_err(ServiceError::Validation)?;
        let now = self.now();
        let group = PermissionGroup {
            id: new_id(),
            name: valid.name,
            description: valid.description,
            read_only: valid.read_only,
            permissions: valid.permissions,
            consumer_count: 0,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let scopes: Vec<String> = group.scopes().into_iter().collect();
        let event = self.audit(
            caller,
            AuditAction::Add,
            modules::GROUPS,
            &group.name,
            format!("Grupo creado; permisos: {}", scopes.join(" ")),
        );
        self.store
            .insert_group(&group, &event)
            .await
            .map_err(map_group_write)?;
        Ok(group)
    }

    pub async fn update_permission_group(
        &self,
        caller: &Caller,
        id: Uuid,
        patch: PermissionGroupPatch,
    ) -> ServiceResult<PermissionGroup> {
        self.admin(caller)?;
        let current = self.store.group(id).await?;
        let valid = validate_group(
            patch.name.as_deref().unwrap_or(&current.name),
            patch.description.as_deref().unwrap_or(&current.description),
            patch.read_only.unwrap_or(current.read_only),
            patch.permissions.as_deref().unwrap_or(&current.permissions),
        )
        .map_err(ServiceError::Validation)?;
        let updated = PermissionGroup {
            name: valid.name,
            description: valid.description,
            read_only: valid.read_only,
            permissions: valid.permissions,
            updated_at: self.now(),
            ..current.clone()
        };
        let scopes: Vec<String> = updated.scopes().into_iter().collect();
        let event = self.audit(
            caller,
            AuditAction::Edit,
            modules::GROUPS,
            &current.name,
            format!("Grupo editado; permisos: {}", scopes.join(" ")),
        );
        self.store
            .update_group(&updated, current.version, &event)
            .await
            .map_err(map_group_write)
    }

    pub async fn delete_permission_group(&self, caller: &Caller, id: Uuid) -> ServiceResult<()> {
        self.admin(caller)?;
        let current = self.store.group(id).await?;
        let event = self.audit(
            caller,
            AuditAction::Delete,
            modules::GROUPS,
            &current.name,
            "Grupo eliminado",
        );
        match self.store.delete_group(id, &event).await {
            Err(StoreError::InUse) => Err(ServiceError::Conflict {
                code: "group_in_use",
                detail: format!(
                    "El grupo «{}» está asignado a consumidores OAuth; cámbielos de grupo antes de eliminarlo",
                    current.name
                ),
                errors: FieldErrors::new(),
            }),
            other => other.map_err(Into::into),
        }
    }
}
