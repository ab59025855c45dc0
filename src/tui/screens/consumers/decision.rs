//! Clients that registered themselves: what the console shows of where one came from (its
//! origin, its metadata document, the hosts its codes go to), and the modal "Aprobar cliente"
//! where the Súper Administrador picks the permission group a pending one goes into.

use crate::domain::registration::RegistrationSettings;
use crate::domain::*;
use crate::tui::api::Request;
use crate::tui::form::{Field, Form, Kind};
use crate::tui::i18n::Lang;
use uuid::Uuid;

/// Said beside an empty group select: a client is approved into a group.
pub const NO_GROUPS: &str = "Cree primero un grupo de permisos (Cuentas de Usuarios → Permisos)";

/// The hosts that `uris` send codes to, each once, in their order; one that is no URL is
/// shown as written, so nothing is hidden.
pub fn hosts(uris: &[String]) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for uri in uris {
        let host = url::Url::parse(uri)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| uri.clone());
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    hosts
}

/// The host of a metadata document's URL (its `client_id`), as the client is named by it.
fn document_host(client_id: &str) -> Option<String> {
    url::Url::parse(client_id)
        .ok()?
        .host_str()
        .map(str::to_string)
}

/// What the Estado column and the detail say of a consumer: Pendiente or Rechazado while
/// it is not approved, else Activo or Inactivo.
pub fn state_label(consumer: &Consumer) -> &'static str {
    match consumer.approval {
        Approval::Approved if consumer.enabled => "Activo",
        Approval::Approved => "Inactivo",
        other => other.label_es(),
    }
}

/// Where a self-registered consumer came from, read-only: its origin, for a metadata
/// document its URL and host, and the hosts its redirect URIs send codes to. Nothing for a
/// consumer made in the console.
pub fn origin_fields(lang: Lang, consumer: &Consumer) -> Vec<Field> {
    if !consumer.origin.is_self_registered() {
        return Vec::new();
    }
    let mut fields = vec![Field::value(
        "origin",
        lang.t("Origen"),
        vec![lang.t(consumer.origin.label_es()).to_string()],
    )];
    if consumer.origin == ConsumerOrigin::MetadataDocument {
        fields.push(Field::value(
            "document_url",
            lang.t("URL del documento"),
            vec![consumer.client_id.clone()],
        ));
        fields.push(Field::value(
            "document_host",
            lang.t("Host del documento"),
            vec![document_host(&consumer.client_id).unwrap_or_else(|| "—".into())],
        ));
    }
    let hosts = hosts(&consumer.redirect_uris);
    fields.push(Field::value(
        "redirect_hosts",
        lang.t("Hosts de retorno"),
        if hosts.is_empty() {
            vec!["—".into()]
        } else {
            hosts
        },
    ));
    fields
}

/// "Aprobar cliente": the group a pending client goes into (the policy's, chosen first) and
/// what it is, so the Súper Administrador decides knowing where its codes go.
pub struct ApproveModal {
    pub form: Form,
    pub id: Uuid,
    pub name: String,
    pub group_ids: Vec<Uuid>,
    /// The group proposed: the policy's, else the one it registered with; chosen when the
    /// groups arrive, until the admin chooses another.
    proposed: Uuid,
}

impl ApproveModal {
    pub fn new(
        lang: Lang,
        consumer: &Consumer,
        groups: &[PermissionGroup],
        policy: Option<&RegistrationSettings>,
    ) -> ApproveModal {
        let mut fields = origin_fields(lang, consumer);
        fields.push(Field::value(
            "grant_type",
            lang.t("Tipo de autorización"),
            vec![lang.grant(consumer.grant_type).to_string()],
        ));
        fields.push(Field::value(
            "auth_method",
            lang.t("Método de autenticación"),
            vec![lang.auth_method(consumer.auth_method).to_string()],
        ));
        fields.push(Field::select(
            "permission_group_id",
            lang.t("Grupo de Permisos"),
            Vec::new(),
            0,
        ));
        fields.push(Field::button("save", lang.t("Aprobar")));
        fields.push(Field::button("cancel", lang.t("Cancelar")));
        let mut modal = ApproveModal {
            form: Form::new(fields),
            id: consumer.id,
            name: consumer.name.clone(),
            group_ids: Vec::new(),
            proposed: policy
                .and_then(|p| p.group_id)
                .unwrap_or(consumer.permission_group_id),
        };
        modal.set_groups(lang, groups);
        modal.form.focus_on("permission_group_id");
        modal
    }

    /// The groups from the server, with the one chosen before still chosen (at first, the
    /// one proposed).
    pub fn set_groups(&mut self, lang: Lang, groups: &[PermissionGroup]) {
        let current = self
            .group_ids
            .get(self.form.selected("permission_group_id"))
            .copied();
        self.group_ids = groups.iter().map(|g| g.id).collect();
        let index = [current, Some(self.proposed)]
            .into_iter()
            .flatten()
            .find_map(|id| groups.iter().position(|g| g.id == id))
            .unwrap_or(0);
        if let Some(field) = self.form.field_mut("permission_group_id") {
            field.kind = Kind::Select {
                options: groups.iter().map(|g| g.name.clone()).collect(),
                index,
            };
            let hint = [Lang::Es, Lang::En].map(|l| l.t(NO_GROUPS));
            if groups.is_empty() {
                field.error = Some(lang.t(NO_GROUPS).to_string());
            } else if field.error.as_deref().is_some_and(|e| hint.contains(&e)) {
                field.error = None;
            }
        }
    }

    /// The approval Aprobar sends, or the error to show beside the group select.
    pub fn request(&self, lang: Lang) -> Result<Request, FieldErrors> {
        match self
            .group_ids
            .get(self.form.selected("permission_group_id"))
        {
            Some(group) => Ok(Request::ApproveConsumer(self.id, *group)),
            None => Err(FieldErrors::single(
                "permission_group_id",
                lang.t(NO_GROUPS),
            )),
        }
    }
}
