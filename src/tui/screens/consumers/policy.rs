//! "Registro de clientes": the policy for clients that register themselves (Desactivado, Con
//! aprobación, Abierto) and the group they go into. The Súper Administrador changes it here;
//! everyone else reads it.

use crate::domain::PermissionGroup;
use crate::domain::registration::{RegistrationPatch, RegistrationPolicy, RegistrationSettings};
use crate::tui::api::Request;
use crate::tui::form::{Field, Form, Kind};
use crate::tui::i18n::Lang;
use uuid::Uuid;

/// Said under the policy: what it does to a client the server has never seen.
fn hint(policy: RegistrationPolicy) -> &'static str {
    match policy {
        RegistrationPolicy::Off => {
            "Ningún cliente se registra solo: el registro no se ofrece en los metadatos"
        }
        RegistrationPolicy::Approval => {
            "Un cliente nuevo queda Pendiente, sin tokens, hasta que el Súper Administrador lo apruebe (a) en un grupo; se propone este"
        }
        RegistrationPolicy::Open => {
            "Un cliente nuevo entra directo en este grupo y obtiene tokens sin revisión"
        }
    }
}

/// Said to whoever may not change it.
const READ_ONLY: &str = "Solo el Súper Administrador puede cambiar la política de registro";

/// Who changed it last, and when; "—" while nobody has (a new server's policy).
fn updated(settings: &RegistrationSettings) -> String {
    if settings.updated_by.trim().is_empty() {
        return "—".into();
    }
    format!(
        "{} · {}",
        settings.updated_by,
        settings.updated_at.format("%Y-%m-%d %H:%M")
    )
}

pub struct PolicyModal {
    pub form: Form,
    pub group_ids: Vec<Uuid>,
    /// The Súper Administrador's: a form to change it; anyone else's: the policy, read.
    pub can_write: bool,
    /// The language it was built in (its hint follows the policy chosen).
    lang: Lang,
    /// The policy's group as it is, chosen when the groups arrive.
    current: Option<Uuid>,
}

impl PolicyModal {
    pub fn new(
        lang: Lang,
        settings: &RegistrationSettings,
        groups: &[PermissionGroup],
        can_write: bool,
    ) -> PolicyModal {
        let policy = settings.policy;
        let fields = if can_write {
            let policies = RegistrationPolicy::ALL
                .iter()
                .map(|p| lang.policy(*p).to_string())
                .collect();
            let index = RegistrationPolicy::ALL
                .iter()
                .position(|p| *p == policy)
                .unwrap_or(0);
            vec![
                Field::select("policy", lang.t("Política"), policies, index),
                Field::note("policy_hint", lang.t(hint(policy))),
                Field::select(
                    "group_id",
                    lang.t("Grupo de los clientes nuevos"),
                    Vec::new(),
                    0,
                ),
                Field::value("updated", lang.t("Cambiada por"), vec![updated(settings)]),
                Field::button("save", lang.t("Guardar")),
                Field::button("cancel", lang.t("Cancelar")),
            ]
        } else {
            let group = settings.group_name.clone().unwrap_or_else(|| "—".into());
            vec![
                Field::value(
                    "policy",
                    lang.t("Política"),
                    vec![lang.policy(policy).to_string()],
                ),
                Field::note("policy_hint", lang.t(hint(policy))),
                Field::value(
                    "group_id",
                    lang.t("Grupo de los clientes nuevos"),
                    vec![group],
                ),
                Field::value("updated", lang.t("Cambiada por"), vec![updated(settings)]),
                Field::note("read_only", lang.t(READ_ONLY)),
                Field::button("cancel", lang.t("Cerrar")),
            ]
        };
        let mut modal = PolicyModal {
            form: Form::new(fields),
            group_ids: Vec::new(),
            can_write,
            lang,
            current: settings.group_id,
        };
        if can_write {
            modal.set_groups(groups);
        }
        modal.form.focus_first();
        modal
    }

    /// The policy chosen in the select.
    pub fn policy(&self) -> RegistrationPolicy {
        RegistrationPolicy::ALL
            .get(self.form.selected("policy"))
            .copied()
            .unwrap_or_default()
    }

    /// The hint follows the policy chosen.
    pub fn sync(&mut self) {
        if !self.can_write {
            return;
        }
        let text = self.lang.t(hint(self.policy()));
        if let Some(field) = self.form.field_mut("policy_hint") {
            field.label = text.to_string();
        }
    }

    /// The groups from the server, with the one chosen before still chosen (at first, the
    /// policy's).
    pub fn set_groups(&mut self, groups: &[PermissionGroup]) {
        let chosen = self.group_ids.get(self.form.selected("group_id")).copied();
        self.group_ids = groups.iter().map(|g| g.id).collect();
        let index = [chosen, self.current]
            .into_iter()
            .flatten()
            .find_map(|id| groups.iter().position(|g| g.id == id))
            .unwrap_or(0);
        if let Some(field) = self.form.field_mut("group_id") {
            field.kind = Kind::Select {
                options: groups.iter().map(|g| g.name.clone()).collect(),
                index,
            };
        }
    }

    /// What Guardar sends; with no group to choose, none goes, and the server says what a
    /// policy other than Desactivado needs (beside the group).
    pub fn request(&self) -> Option<Request> {
        self.can_write.then(|| {
            Request::SetRegistrationSettings(RegistrationPatch {
                policy: self.policy(),
                group_id: self.group_ids.get(self.form.selected("group_id")).copied(),
            })
        })
    }
}
