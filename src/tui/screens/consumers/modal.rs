//! The dialogs of Consumidores OAuth: "Nuevo(a) Cliente OAuth" (also used to edit), rotating
//! a secret, and a consumer read-only.

use crate::domain::secret::SecretText;
use crate::domain::*;
use crate::terminal::clean;
use crate::tui::api::Request;
use crate::tui::form::{Field, Form, Kind};
use crate::tui::i18n::Lang;
use uuid::Uuid;

/// Shown under an empty group select.
const NO_GROUPS_HINT: &str = "Sin grupos de permisos: Enter en «+ Nuevo grupo…» crea uno";
/// The group select's only option while there is no group: Enter opens the group form.
pub const NEW_GROUP: &str = "+ Nuevo grupo…";

/// The group select's options: the groups, or "+ Nuevo grupo…" when there are none.
fn group_options(lang: Lang, groups: &[PermissionGroup]) -> Vec<String> {
    if groups.is_empty() {
        return vec![lang.t(NEW_GROUP).to_string()];
    }
    groups.iter().map(|g| g.name.clone()).collect()
}
/// Shown under URL de retorno: which redirect URIs match on any port (RFC 8252 §7.3).
const REDIRECT_HINT: &str =
    "Con 127.0.0.1 o [::1] vale cualquier puerto; localhost y las demás, exactas";

pub struct ConsumerModal {
    pub form: Form,
    pub editing: Option<Consumer>,
    pub group_ids: Vec<Uuid>,
    /// Saved: the form now shows the credentials, once.
    pub created: bool,
}

fn grant_options(lang: Lang) -> Vec<String> {
    GrantType::ALL
        .iter()
        .map(|g| lang.grant(*g).to_string())
        .collect()
}

impl ConsumerModal {
    pub fn new(
        lang: Lang,
        groups: &[PermissionGroup],
        editing: Option<&Consumer>,
    ) -> ConsumerModal {
        let grant = editing.map_or(0, |c| {
            usize::from(c.grant_type == GrantType::AuthorizationCode)
        });
        let group_index = editing
            .and_then(|c| groups.iter().position(|g| g.id == c.permission_group_id))
            .unwrap_or(0);
        let format = editing.map_or(0, |c| usize::from(c.token_format == TokenFormat::Jwt));
        let alg = editing.map_or(0, |c| c.access_token_alg.index());
        let text = |f: fn(&Consumer) -> String| editing.map(f).unwrap_or_default();
        let mut form = Form::new(vec![
            Field::select(
                "grant_type",
                lang.t("Tipo de autorización"),
                grant_options(lang),
                grant,
            ),
            Field::text("name", lang.t("Nombre"), &text(|c| c.name.clone())),
            Field::text(
                "description",
                lang.t("Descripción"),
                &text(|c| c.description.clone()),
            ),
            {
                let mut field = Field::select(
                    "permission_group_id",
                    lang.t("Grupo de Permisos"),
                    group_options(lang, groups),
                    group_index,
                );
                if groups.is_empty() {
                    field.error = Some(lang.t(NO_GROUPS_HINT).to_string());
                }
                field
            },
            Field::checkbox(
                "hub_enabled",
                lang.t("Activar Fracttal Hub (Middleware)"),
                editing.is_some_and(|c| c.hub_enabled),
            ),
            Field::select(
                "token_format",
                lang.t("Formato del token"),
                vec![lang.t("Opaco").to_string(), "JWT".to_string()],
                format,
            ),
            Field::select(
                "access_token_alg",
                lang.t("Algoritmo de firma"),
                AccessTokenAlg::ALL
                    .iter()
                    .map(|a| a.as_str().to_string())
                    .collect(),
                alg,
            ),
            Field::text(
                "redirect_uris",
                lang.t("URL de retorno"),
                &text(|c| c.redirect_uris.join(" ")),
            ),
            Field::note("redirect_uris_hint", lang.t(REDIRECT_HINT)),
            Field::heading(lang.t("Credenciales")),
            Field::copy(
                "created_at",
                lang.t("Fecha de creación"),
                editing.map(|c| SecretText::new(c.created_at.format("%Y-%m-%d %H:%M").to_string())),
                false,
            ),
            Field::copy(
                "client_id",
                lang.t("Clave"),
                editing.map(|c| SecretText::new(c.client_id.clone())),
                false,
            ),
            Field::copy("client_secret", lang.t("Secreto"), None, true),
            Field::button("save", lang.t("Guardar")),
            Field::button("cancel", lang.t("Cancelar")),
        ]);
        if let Some(consumer) = editing
            && let Some(field) = form.field_mut("client_secret")
        {
            field.label = format!(
                "{} (…{})",
                lang.t("Secreto"),
                clean(&consumer.secret_last_four)
            );
        }
        form.focus_first();
        let mut modal = ConsumerModal {
            form,
            editing: editing.cloned(),
            group_ids: groups.iter().map(|g| g.id).collect(),
            created: false,
        };
        modal.sync_visibility();
        modal
    }

    /// Saved: the modal now shows the credentials, once, and only them.
    pub fn show_credentials(&mut self, lang: Lang, created: CreatedConsumer) {
        let form = &mut self.form;
        form.busy = false;
        form.dirty = false;
        form.clear_errors();
        form.set_copy(
            "created_at",
            Some(SecretText::new(
                created
                    .consumer
                    .created_at
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
            )),
        );
        form.set_copy(
            "client_id",
            Some(SecretText::new(created.consumer.client_id.clone())),
        );
        form.set_copy("client_secret", created.client_secret);
        for name in [
            "grant_type",
            "name",
            "description",
            "permission_group_id",
            "hub_enabled",
            "token_format",
            "access_token_alg",
            "redirect_uris",
            "redirect_uris_hint",
            "save",
        ] {
            form.set_hidden(name, true);
        }
        if let Some(cancel) = form.field_mut("cancel") {
            cancel.label = lang.t("Cerrar").to_string();
        }
        self.created = true;
        self.form.focus_on("client_id");
    }

    /// URL de retorno (and its hint) shows only for Código de autorización, Algoritmo de
    /// firma only for JWT tokens.
    pub fn sync_visibility(&mut self) {
        let code = self.form.selected("grant_type") == 1;
        self.form.set_hidden("redirect_uris", !code || self.created);
        self.form
            .set_hidden("redirect_uris_hint", !code || self.created);
        let jwt = self.token_format() == TokenFormat::Jwt;
        self.form
            .set_hidden("access_token_alg", !jwt || self.created);
    }

    /// Enter on the group select opens the group form: there is no group to choose yet.
    pub fn offers_new_group(&self) -> bool {
        self.group_ids.is_empty() && self.form.focused_name() == "permission_group_id"
    }

    pub fn set_groups(&mut self, lang: Lang, groups: &[PermissionGroup]) {
        self.set_groups_selecting(lang, groups, None);
    }

    /// New groups from the server, with `select` chosen (a group just created here), else
    /// the one chosen before.
    pub fn set_groups_selecting(
        &mut self,
        lang: Lang,
        groups: &[PermissionGroup],
        select: Option<Uuid>,
    ) {
        let current = self
            .group_ids
            .get(self.form.selected("permission_group_id"))
            .copied();
        let wanted = select
            .or(current)
            .or(self.editing.as_ref().map(|c| c.permission_group_id));
        self.group_ids = groups.iter().map(|g| g.id).collect();
        let index = wanted
            .and_then(|id| groups.iter().position(|g| g.id == id))
            .unwrap_or(0);
        if let Some(field) = self.form.field_mut("permission_group_id") {
            if let Kind::Select { options, index: i } = &mut field.kind {
                *options = group_options(lang, groups);
                *i = index;
            }
            // The hint to create a group first goes once there is one.
            let hint = [Lang::Es, Lang::En].map(|l| l.t(NO_GROUPS_HINT));
            if !groups.is_empty() && field.error.as_deref().is_some_and(|e| hint.contains(&e)) {
                field.error = None;
            }
        }
    }

    fn redirect_uris(&self) -> Vec<String> {
        if self.form.selected("grant_type") != 1 {
            return Vec::new();
        }
        self.form
            .text("redirect_uris")
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    fn grant(&self) -> GrantType {
        GrantType::ALL[self.form.selected("grant_type").min(1)]
    }

    fn token_format(&self) -> TokenFormat {
        if self.form.selected("token_format") == 1 {
            TokenFormat::Jwt
        } else {
            TokenFormat::Opaque
        }
    }

    fn access_token_alg(&self) -> AccessTokenAlg {
        let index = self.form.selected("access_token_alg");
        AccessTokenAlg::ALL.get(index).copied().unwrap_or_default()
    }

    /// The request Guardar sends, or the error to show beside Grupo de Permisos.
    pub(super) fn request(&self, lang: Lang) -> Result<Option<Request>, FieldErrors> {
        let group = self
            .group_ids
            .get(self.form.selected("permission_group_id"))
            .copied();
        let Some(group) = group else {
            return Err(FieldErrors::single(
                "permission_group_id",
                lang.t("Cree primero un grupo de permisos (Cuentas de Usuarios → Permisos)"),
            ));
        };
        let name = self.form.text("name");
        let description = self.form.text("description");
        match &self.editing {
            None => Ok(Some(Request::CreateConsumer(NewConsumer {
                name,
                description,
                grant_type: self.grant(),
                permission_group_id: group,
                hub_enabled: self.form.checked("hub_enabled"),
                redirect_uris: self.redirect_uris(),
                token_format: self.token_format(),
                access_token_alg: self.access_token_alg(),
                auth_method: AuthMethod::ClientSecret,
                jwks: None,
                require_dpop: false,
            }))),
            Some(old) => {
                let changed = |new: String, old: &str| (new.trim() != old).then_some(new);
                let patch = ConsumerPatch {
                    name: changed(name, &old.name),
                    description: changed(description, &old.description),
                    permission_group_id: (group != old.permission_group_id).then_some(group),
                    hub_enabled: (self.form.checked("hub_enabled") != old.hub_enabled)
                        .then_some(self.form.checked("hub_enabled")),
                    enabled: None,
                    redirect_uris: (self.redirect_uris() != old.redirect_uris)
                        .then(|| self.redirect_uris()),
                    token_format: (self.token_format() != old.token_format)
                        .then_some(self.token_format()),
                    access_token_alg: (self.access_token_alg() != old.access_token_alg)
                        .then_some(self.access_token_alg()),
                    jwks: None,
                    require_dpop: None,
                };
                Ok((!patch.is_empty()).then_some(Request::UpdateConsumer {
                    id: old.id,
                    patch,
                    version: old.version,
                }))
            }
        }
    }
}

pub struct RotateModal {
    pub form: Form,
    pub id: Uuid,
    pub name: String,
}

/// Grace periods offered for the previous secret, in seconds.
pub const GRACE: [u32; 4] = [0, 3600, 24 * 3600, 7 * 24 * 3600];

impl RotateModal {
    pub fn new(lang: Lang, consumer: &Consumer) -> RotateModal {
        RotateModal {
            form: Form::new(vec![
                Field::select(
                    "grace_seconds",
                    lang.t("Periodo de gracia del secreto anterior"),
                    vec![
                        lang.t("Ninguno (inmediato)").to_string(),
                        "1 h".to_string(),
                        "24 h".to_string(),
                        "7 d".to_string(),
                    ],
                    0,
                ),
                Field::checkbox("revoke_tokens", lang.t("Revocar tokens existentes"), false),
                Field::button("save", lang.t("Rotar")),
                Field::button("cancel", lang.t("Cancelar")),
            ]),
            id: consumer.id,
            name: consumer.name.clone(),
        }
    }
}

/// A consumer as admin and read_only users see it: every field read-only, no secret.
pub(super) fn detail(lang: Lang, consumer: &Consumer) -> Form {
    let value = |name: &'static str, label: &str, text: String| {
        Field::copy(name, label, Some(SecretText::new(text)), false)
    };
    let yes_no = |on: bool| lang.t(if on { "Sí" } else { "No" }).to_string();
    let mut fields = vec![
        value("name", lang.t("Nombre"), consumer.name.clone()),
        value(
            "description",
            lang.t("Descripción"),
            consumer.description.clone(),
        ),
        value(
            "grant_type",
            lang.t("Tipo de autorización"),
            lang.grant(consumer.grant_type).to_string(),
        ),
        value(
            "permission_group_id",
            lang.t("Grupo de Permisos"),
            consumer.permission_group_name.clone(),
        ),
        value(
            "hub_enabled",
            lang.t("Activar Fracttal Hub (Middleware)"),
            yes_no(consumer.hub_enabled),
        ),
        value(
            "enabled",
            lang.t("Estado"),
            lang.t(if consumer.enabled {
                "Activo"
            } else {
                "Inactivo"
            })
            .to_string(),
        ),
    ];
    fields.push(value(
        "token_format",
        lang.t("Formato del token"),
        match consumer.token_format {
            TokenFormat::Opaque => lang.t("Opaco").to_string(),
            TokenFormat::Jwt => "JWT".to_string(),
        },
    ));
    if consumer.token_format == TokenFormat::Jwt {
        fields.push(value(
            "access_token_alg",
            lang.t("Algoritmo de firma"),
            consumer.access_token_alg.as_str().to_string(),
        ));
    }
    if !consumer.redirect_uris.is_empty() {
        fields.push(value(
            "redirect_uris",
            lang.t("URL de retorno"),
            consumer.redirect_uris.join(" "),
        ));
    }
    fields.extend([
        Field::heading(lang.t("Credenciales")),
        value(
            "created_at",
            lang.t("Fecha de creación"),
            consumer.created_at.format("%Y-%m-%d %H:%M").to_string(),
        ),
        value("client_id", lang.t("Clave"), consumer.client_id.clone()),
        Field::button("cancel", lang.t("Cerrar")),
    ]);
    let mut form = Form::new(fields);
    form.focus_on("client_id");
    form
}
