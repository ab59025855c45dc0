//! The dialogs of Consumidores OAuth: "Nuevo(a) Cliente OAuth" (also used to edit), rotating
//! a secret, and a consumer read-only.

use crate::domain::client_keys::ClientKey;
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
/// Shown under Claves públicas (JWKS) of a new consumer.
const JWKS_HINT: &str =
    "JWKS pública ({\"keys\": [...]}) o su URL https://; nunca la clave privada";
/// Shown under the same field when editing: empty means "keep them".
const JWKS_KEEP_HINT: &str =
    "Vacío conserva las claves; una JWKS o URL https:// nueva las reemplaza";
/// Where a key pair's public keys come from, as the JWKS field was filled.
#[derive(Default)]
struct KeySource {
    jwks: Option<serde_json::Value>,
    jwks_uri: Option<String>,
}

/// The label of the DPoP box (RFC 9449 §5.2 `dpop_bound_access_tokens`).
const REQUIRE_DPOP: &str = "Solo tokens ligados a una clave (DPoP)";
/// Shown under it while ticked: what the consumer's integration must then do.
const REQUIRE_DPOP_HINT: &str =
    "Sin prueba DPoP no recibe token; su token solo vale con prueba de su clave";

fn auth_options(lang: Lang) -> Vec<String> {
    AuthMethod::ALL
        .iter()
        .map(|m| lang.auth_method(*m).to_string())
        .collect()
}

/// A registered key in one line: `kid`, algorithm and RFC 7638 thumbprint, never its
/// material.
fn key_line(lang: Lang, key: &ClientKey) -> String {
    match key.kid {
        Some(_) => key.summary(),
        None => format!(
            "{} · {} · {}",
            lang.t("sin kid"),
            key.key.alg().as_str(),
            key.thumbprint
        ),
    }
}

/// The lines of a consumer's registered keys, or where it publishes them.
fn key_lines(lang: Lang, consumer: &Consumer) -> Vec<String> {
    if let Some(uri) = &consumer.jwks_uri {
        return vec![lang.fill("Publicadas en {}", &[uri])];
    }
    consumer
        .jwks
        .as_ref()
        .map(|k| k.keys().iter().map(|key| key_line(lang, key)).collect())
        .unwrap_or_default()
}

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
        let group_index = editing
            .and_then(|c| groups.iter().position(|g| g.id == c.permission_group_id))
            .unwrap_or(0);
        let format = editing.map_or(0, |c| usize::from(c.token_format == TokenFormat::Jwt));
        let alg = editing.map_or(0, |c| c.access_token_alg.index());
        let text = |f: fn(&Consumer) -> String| editing.map(f).unwrap_or_default();
        let mut form = Form::new(vec![
            // Chosen once, like the method below: the server keeps a consumer's grant.
            match editing {
                None => Field::select(
                    "grant_type",
                    lang.t("Tipo de autorización"),
                    grant_options(lang),
                    0,
                ),
                Some(c) => Field::value(
                    "grant_type",
                    lang.t("Tipo de autorización"),
                    vec![lang.grant(c.grant_type).to_string()],
                ),
            },
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
            match editing {
                None => Field::select(
                    "auth_method",
                    lang.t("Método de autenticación"),
                    auth_options(lang),
                    0,
                ),
                Some(c) => Field::value(
                    "auth_method",
                    lang.t("Método de autenticación"),
                    vec![lang.auth_method(c.auth_method).to_string()],
                ),
            },
            Field::text(
                "jwks",
                lang.t(if editing.is_some() {
                    "Claves públicas nuevas (JWKS)"
                } else {
                    "Claves públicas (JWKS)"
                }),
                "",
            ),
            Field::note(
                "jwks_hint",
                lang.t(if editing.is_some() {
                    JWKS_KEEP_HINT
                } else {
                    JWKS_HINT
                }),
            ),
            Field::checkbox(
                "require_dpop",
                lang.t(REQUIRE_DPOP),
                editing.is_some_and(|c| c.require_dpop),
            ),
            Field::note("require_dpop_hint", lang.t(REQUIRE_DPOP_HINT)),
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
            Field::value(
                "keys",
                lang.t("Claves públicas registradas"),
                editing.map(|c| key_lines(lang, c)).unwrap_or_default(),
            ),
            Field::button("save", lang.t("Guardar")),
            Field::button("cancel", lang.t("Cancelar")),
        ]);
        if let Some(consumer) = editing
            && consumer.auth_method == AuthMethod::ClientSecret
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
        self.set_keys(lang, &created.consumer);
        let form = &mut self.form;
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
        self.sync_visibility();
        self.form.focus_on("client_id");
    }

    /// Shows the consumer's keys as they are now (after Guardar, after a reload).
    pub fn set_keys(&mut self, lang: Lang, consumer: &Consumer) {
        if let Some(field) = self.form.field_mut("keys") {
            field.kind = Kind::Value(key_lines(lang, consumer));
        }
    }

    /// How the consumer authenticates: as it was made, or as chosen in the select.
    pub fn auth_method(&self) -> AuthMethod {
        match &self.editing {
            Some(consumer) => consumer.auth_method,
            None => AuthMethod::ALL
                .get(self.form.selected("auth_method"))
                .copied()
                .unwrap_or_default(),
        }
    }

    /// The consumer has (or will have) a Secreto: not so with a key pair.
    pub fn has_secret(&self) -> bool {
        self.auth_method() == AuthMethod::ClientSecret
    }

    /// URL de retorno (and its hint) shows only for Código de autorización, Algoritmo de
    /// firma only for JWT tokens; the JWKS field and the registered keys only for a key
    /// pair, Secreto only for a secret.
    pub fn sync_visibility(&mut self) {
        let code = self.grant() == GrantType::AuthorizationCode;
        self.form.set_hidden("redirect_uris", !code || self.created);
        self.form
            .set_hidden("redirect_uris_hint", !code || self.created);
        let jwt = self.token_format() == TokenFormat::Jwt;
        self.form
            .set_hidden("access_token_alg", !jwt || self.created);
        // A key pair instead of a Secreto: the JWKS to paste, the keys registered. A public
        // client has neither.
        let secret = self.has_secret();
        let keys = self.auth_method() == AuthMethod::PrivateKeyJwt;
        self.form.set_hidden("auth_method", self.created);
        self.form.set_hidden("jwks", !keys || self.created);
        self.form.set_hidden("jwks_hint", !keys || self.created);
        // What a DPoP-only consumer must do, while the box says so.
        let dpop = self.form.checked("require_dpop");
        self.form.set_hidden("require_dpop", self.created);
        self.form
            .set_hidden("require_dpop_hint", !dpop || self.created);
        self.form.set_hidden("client_secret", !secret);
        let made = self.created || self.editing.is_some();
        self.form.set_hidden("keys", !keys || !made);
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
        if self.grant() != GrantType::AuthorizationCode {
            return Vec::new();
        }
        self.form
            .text("redirect_uris")
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// The grant: as the consumer was made, or as chosen in the select.
    fn grant(&self) -> GrantType {
        match &self.editing {
            Some(consumer) => consumer.grant_type,
            None => GrantType::ALL[self.form.selected("grant_type").min(1)],
        }
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

    /// The JWKS pasted, for a key pair's consumer: `None` when the field is empty (for an
    /// edit, "keep the keys"), a field error at once when it is not JSON. What the keys
    /// themselves are worth, the server says.
    /// The keys as typed: a JWKS, or the `https://` URL where they are published
    /// (`jwks_uri`).
    fn jwks(&self, lang: Lang) -> Result<KeySource, FieldErrors> {
        if self.auth_method() != AuthMethod::PrivateKeyJwt {
            return Ok(KeySource::default());
        }
        let text = self.form.text("jwks");
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Ok(KeySource::default());
        }
        if trimmed.starts_with("https://") {
            return Ok(KeySource {
                jwks: None,
                jwks_uri: Some(trimmed.to_string()),
            });
        }
        serde_json::from_str(&text)
            .map(|jwks| KeySource {
                jwks: Some(jwks),
                jwks_uri: None,
            })
            .map_err(|error| {
                let at = [error.line().to_string(), error.column().to_string()];
                FieldErrors::single(
                    "jwks",
                    lang.fill("No es JSON: línea {}, columna {}", &[&at[0], &at[1]]),
                )
            })
    }

    /// After a JWKS that is not JSON, puts the field's cursor where it stopped being JSON,
    /// so that part shows.
    pub fn point_at_jwks_error(&mut self) {
        let text = self.form.text("jwks");
        let refused = self.form.field("jwks").is_some_and(|f| f.error.is_some());
        if let (true, Err(error)) = (refused, serde_json::from_str::<serde_json::Value>(&text)) {
            // serde_json counts bytes, 1-based, on the field's single line.
            let byte = error.column().saturating_sub(1).min(text.len());
            let column = text.char_indices().take_while(|(i, _)| *i < byte).count();
            self.form.set_cursor("jwks", column);
        }
    }

    /// The request Guardar sends, or the errors to show beside their fields (no group yet,
    /// a JWKS that is not JSON).
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
        let KeySource { jwks, jwks_uri } = self.jwks(lang)?;
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
                auth_method: self.auth_method(),
                jwks,
                jwks_uri,
                require_dpop: self.form.checked("require_dpop"),
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
                    // Empty keeps the keys; anything pasted replaces them all.
                    jwks,
                    jwks_uri,
                    require_dpop: (self.form.checked("require_dpop") != old.require_dpop)
                        .then_some(self.form.checked("require_dpop")),
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

/// A consumer as admin and read_only users see it (and everyone sees a pending one): every
/// field read-only, no secret.
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
            lang.t(super::decision::state_label(consumer)).to_string(),
        ),
    ];
    // A client that registered itself says where it came from and where its codes go.
    fields.extend(super::decision::origin_fields(lang, consumer));
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
    fields.push(value(
        "auth_method",
        lang.t("Método de autenticación"),
        lang.auth_method(consumer.auth_method).to_string(),
    ));
    fields.push(value(
        "require_dpop",
        lang.t(REQUIRE_DPOP),
        yes_no(consumer.require_dpop),
    ));
    fields.extend([
        Field::heading(lang.t("Credenciales")),
        value(
            "created_at",
            lang.t("Fecha de creación"),
            consumer.created_at.format("%Y-%m-%d %H:%M").to_string(),
        ),
        value("client_id", lang.t("Clave"), consumer.client_id.clone()),
    ]);
    if consumer.auth_method == AuthMethod::PrivateKeyJwt {
        fields.push(Field::value(
            "keys",
            lang.t("Claves públicas registradas"),
            key_lines(lang, consumer),
        ));
    }
    fields.push(Field::button("cancel", lang.t("Cerrar")));
    let mut form = Form::new(fields);
    form.focus_on("client_id");
    form
}
