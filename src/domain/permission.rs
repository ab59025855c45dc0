//! Permission groups: a matrix of module × action, and the OAuth scopes it grants.

use super::validation::{FieldErrors, optional_text, required_line};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use utoipa::ToSchema;
use uuid::Uuid;

/// What a group may do in a module ("ver", "agregar", "editar", "eliminar", "generar reportes").
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    View,
    Add,
    Edit,
    Delete,
    Report,
}

impl Action {
    pub const ALL: [Action; 5] = [
        Action::View,
        Action::Add,
        Action::Edit,
        Action::Delete,
        Action::Report,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::View => "view",
            Action::Add => "add",
            Action::Edit => "edit",
            Action::Delete => "delete",
            Action::Report => "report",
        }
    }

    pub fn parse(text: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == text)
    }

    pub fn label_es(self) -> &'static str {
        match self {
            Action::View => "Ver",
            Action::Add => "Agregar",
            Action::Edit => "Editar",
            Action::Delete => "Eliminar",
            Action::Report => "Generar reportes",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Action::View => "View",
            Action::Add => "Add",
            Action::Edit => "Edit",
            Action::Delete => "Delete",
            Action::Report => "Reports",
        }
    }

    /// Actions that change data; a read-only group may not hold them.
    pub fn writes(self) -> bool {
        matches!(self, Action::Add | Action::Edit | Action::Delete)
    }
}

/// An entry of the module catalog (`assets/modules.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Module {
    pub id: String,
    pub name: String,
}

/// The module catalog, shipped with the binary.
pub fn module_catalog() -> &'static [Module] {
    use std::sync::OnceLock;
    static CATALOG: OnceLock<Vec<Module>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        serde_json::from_str(include_str!("../../assets/modules.json"))
            .expect("assets/modules.json is valid (checked by a unit test)")
    })
}

pub fn find_module(id: &str) -> Option<&'static Module> {
    module_catalog().iter().find(|m| m.id == id)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModulePermission {
    pub module: String,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PermissionGroup {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub read_only: bool,
    pub permissions: Vec<ModulePermission>,
    /// Consumers that use this group.
    pub consumer_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl PermissionGroup {
    /// OAuth scopes the group grants: one per module and action, `module:action`.
    pub fn scopes(&self) -> BTreeSet<String> {
        scopes_of(&self.permissions)
    }
}

pub fn scopes_of(permissions: &[ModulePermission]) -> BTreeSet<String> {
    permissions
        .iter()
        .flat_map(|p| {
            p.actions
                .iter()
                .map(move |a| format!("{}:{}", p.module, a.as_str()))
        })
        .collect()
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPermissionGroup {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub permissions: Vec<ModulePermission>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionGroupPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<ModulePermission>>,
}

/// A group's fields once validated: trimmed texts and a normalized matrix (modules in
/// catalog order, actions sorted and unique, empty rows dropped).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidGroup {
    pub name: String,
    pub description: String,
    pub read_only: bool,
    pub permissions: Vec<ModulePermission>,
}

pub fn validate_group(
    name: &str,
    description: &str,
    read_only: bool,
    permissions: &[ModulePermission],
) -> Result<ValidGroup, FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = required_line(&mut errors, "name", name, 100);
    let description = optional_text(&mut errors, "description", description, 500);
    let mut rows: Vec<ModulePermission> = Vec::new();
    for module in module_catalog() {
        let mut actions: BTreeSet<Action> = BTreeSet::new();
        for p in permissions.iter().filter(|p| p.module == module.id) {
            actions.extend(p.actions.iter().copied());
        }
        if !actions.is_empty() {
            rows.push(ModulePermission {
                module: module.id.clone(),
                actions: actions.into_iter().collect(),
            });
        }
    }
    if let Some(unknown) = permissions
        .iter()
        .find(|p| find_module(&p.module).is_none())
    {
        errors.add(
            "permissions",
            format!("Módulo desconocido: {}", unknown.module.escape_debug()),
        );
    }
    if read_only && rows.iter().any(|r| r.actions.iter().any(|a| a.writes())) {
        errors.add(
            "permissions",
            "Un grupo de solo lectura no puede agregar, editar ni eliminar",
        );
    }
    errors.into_result().map(|()| ValidGroup {
        name,
        description,
        read_only,
        permissions: rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_loads_and_has_reports() {
        let catalog = module_catalog();
        assert!(
            catalog
                .iter()
                .any(|m| m.id == "reports" && m.name == "Reportes")
        );
        assert!(catalog.iter().any(|m| m.id == "work_orders"));
    }

    #[test]
    fn matrix_is_normalized_and_scoped() {
        let group = validate_group(
            " Reportes ",
            "",
            false,
            &[
                ModulePermission {
                    module: "reports".into(),
                    actions: vec![Action::Report, Action::View, Action::View],
                },
                ModulePermission {
                    module: "assets".into(),
                    actions: vec![],
                },
            ],
        )
        .unwrap();
        assert_eq!(group.name, "Reportes");
        assert_eq!(group.permissions.len(), 1);
        let scopes = scopes_of(&group.permissions);
        assert_eq!(
            scopes.into_iter().collect::<Vec<_>>(),
            vec!["reports:report".to_string(), "reports:view".to_string()]
        );
    }

    #[test]
    fn read_only_group_cannot_write_and_unknown_modules_fail() {
        let err = validate_group(
            "x",
            "",
            true,
            &[ModulePermission {
                module: "nope".into(),
                actions: vec![Action::View],
            }],
        )
        .unwrap_err();
        assert!(err.get("permissions").unwrap().contains("desconocido"));
        let err = validate_group(
            "x",
            "",
            true,
            &[ModulePermission {
                module: "assets".into(),
                actions: vec![Action::Edit],
            }],
        )
        .unwrap_err();
        assert!(err.get("permissions").unwrap().contains("solo lectura"));
    }
}
