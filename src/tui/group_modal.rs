//! The dialog "Nuevo grupo de permisos" (also used to edit): name, description, read-only and
//! the module × action matrix. Cuentas de Usuarios → Permisos opens it, and so does the
//! consumer modal's "+ Nuevo grupo…".

use crate::domain::{
    Action as Permission, Module, ModulePermission, NewPermissionGroup, PermissionGroup,
    PermissionGroupPatch,
};
use crate::tui::api::Request;
use crate::tui::form::{Field, Form, Matrix};
use crate::tui::i18n::Lang;

pub struct GroupModal {
    pub form: Form,
    pub editing: Option<PermissionGroup>,
}

impl GroupModal {
    pub fn new(lang: Lang, modules: &[Module], editing: Option<&PermissionGroup>) -> GroupModal {
        let checked = modules
            .iter()
            .map(|m| {
                let granted = editing
                    .and_then(|g| g.permissions.iter().find(|p| p.module == m.id))
                    .map(|p| p.actions.clone())
                    .unwrap_or_default();
                Permission::ALL
                    .iter()
                    .map(|a| granted.contains(a))
                    .collect()
            })
            .collect();
        let matrix = Matrix {
            rows: modules
                .iter()
                .map(|m| (m.id.clone(), m.name.clone()))
                .collect(),
            columns: Permission::ALL
                .iter()
                .map(|a| lang.action(*a).to_string())
                .collect(),
            checked,
            cursor: (0, 0),
        };
        let text = |f: fn(&PermissionGroup) -> String| editing.map(f).unwrap_or_default();
        GroupModal {
            form: Form::new(vec![
                Field::text("name", lang.t("Nombre"), &text(|g| g.name.clone())),
                Field::text(
                    "description",
                    lang.t("Descripción"),
                    &text(|g| g.description.clone()),
                ),
                Field::checkbox(
                    "read_only",
                    lang.t("Solo lectura"),
                    editing.is_some_and(|g| g.read_only),
                ),
                Field::matrix("permissions", lang.t("Permisos por módulo"), matrix),
                Field::button("save", lang.t("Guardar")),
                Field::button("cancel", lang.t("Cancelar")),
            ]),
            editing: editing.cloned(),
        }
    }

    fn permissions(&self) -> Vec<ModulePermission> {
        let Some(matrix) = self.form.matrix("permissions") else {
            return Vec::new();
        };
        matrix
            .rows
            .iter()
            .zip(&matrix.checked)
            .filter_map(|((id, _), row)| {
                let actions: Vec<Permission> = Permission::ALL
                    .iter()
                    .zip(row)
                    .filter(|(_, on)| **on)
                    .map(|(a, _)| *a)
                    .collect();
                (!actions.is_empty()).then(|| ModulePermission {
                    module: id.clone(),
                    actions,
                })
            })
            .collect()
    }

    pub fn request(&self) -> Request {
        let name = self.form.text("name");
        let description = self.form.text("description");
        let read_only = self.form.checked("read_only");
        let permissions = self.permissions();
        match &self.editing {
            None => Request::CreateGroup(NewPermissionGroup {
                name,
                description,
                read_only,
                permissions,
            }),
            Some(old) => Request::UpdateGroup(
                old.id,
                PermissionGroupPatch {
                    name: Some(name),
                    description: Some(description),
                    read_only: Some(read_only),
                    permissions: Some(permissions),
                },
            ),
        }
    }
}
