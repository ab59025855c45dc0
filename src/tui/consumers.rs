//! Consumidores OAuth: the keyset-paged table, the modal "Nuevo(a) Cliente OAuth" (also used
//! to edit), deleting, enabling, and rotating a secret.

use super::action::Command;
use super::api::{Request, RequestId};
use super::form::{Field, Form};
use super::i18n::Lang;
use super::keymap::{Binding, bar, help};
use super::sanitize::clean;
use super::state::{FormOutcome, Main, Modal, State, Then, form_command};
use crate::domain::secret::SecretText;
use crate::domain::*;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState};
use std::collections::VecDeque;
use uuid::Uuid;

/// Shown under an empty group select.
const NO_GROUPS_HINT: &str = "Cree primero un grupo en Cuentas de Usuarios → Permisos";
/// Shown under URL de retorno: which redirect URIs match on any port (RFC 8252 §7.3).
const REDIRECT_HINT: &str =
    "Con 127.0.0.1 o [::1] vale cualquier puerto; localhost y las demás, exactas";

/// Rows asked for per page.
const PAGE: u32 = 50;
/// Fetch the next page when the selection is this close to the last loaded row.
const PREFETCH: usize = 20;
/// Pages held in memory. The window slides with the selection (pages behind it are dropped
/// and fetched again by their cursor when the admin scrolls back), so memory does not grow
/// with how far the admin scrolled.
const WINDOW_PAGES: usize = 4;

#[derive(Default)]
pub struct ConsumerTable {
    pub rows: Vec<Consumer>,
    pub next_cursor: Option<String>,
    pub total: u64,
    pub selected: usize,
    pub offset: usize,
    pub loading: Option<RequestId>,
    /// The page being loaded is the first (it replaces the rows).
    pub loading_first: bool,
    pub loaded: bool,
    pub filter: String,
    pub filter_input: Option<Form>,
    /// The page being loaded goes before the window (scrolling back up).
    pub loading_before: bool,
    /// The cursor of the page being loaded.
    pub loading_cursor: Option<String>,
    /// The pages held in `rows`, in order: the cursor that fetched each and its length.
    pub pages: VecDeque<(Option<String>, usize)>,
    /// The pages dropped before the window, the nearest last: their cursors and lengths.
    pub before: Vec<(Option<String>, usize)>,
    /// Rows dropped before the window.
    pub skipped: usize,
}

impl ConsumerTable {
    pub fn selected(&self) -> Option<&Consumer> {
        self.rows.get(self.selected)
    }

    pub fn remove(&mut self, id: Uuid) {
        if let Some(i) = self.rows.iter().position(|c| c.id == id) {
            self.rows.remove(i);
            let mut start = 0;
            for page in &mut self.pages {
                if i < start + page.1 {
                    page.1 -= 1;
                    break;
                }
                start += page.1;
            }
            self.total = self.total.saturating_sub(1);
            self.selected = self.selected.min(self.rows.len().saturating_sub(1));
        }
    }

    pub fn upsert(&mut self, consumer: Consumer) {
        match self.rows.iter_mut().find(|c| c.id == consumer.id) {
            Some(row) => *row = consumer,
            None => {
                self.rows.insert(0, consumer);
                match self.pages.front_mut() {
                    Some(page) => page.1 += 1,
                    None => self.pages.push_back((None, 1)),
                }
                self.total += 1;
                self.selected = 0;
                self.offset = 0;
            }
        }
    }

    /// Adds a fetched page at the end of the window, dropping pages from its start that are
    /// out of sight.
    fn append(&mut self, cursor: Option<String>, items: Vec<Consumer>) {
        self.pages.push_back((cursor, items.len()));
        self.rows.extend(items);
        while self.pages.len() > WINDOW_PAGES {
            let Some(&(_, len)) = self.pages.front() else {
                break;
            };
            if self.offset < len || self.selected < len {
                break;
            }
            if let Some(page) = self.pages.pop_front() {
                self.rows.drain(..len);
                self.before.push(page);
                self.skipped += len;
                self.selected -= len;
                self.offset -= len;
            }
        }
    }

    /// Adds a page fetched again before the window, dropping pages from its end.
    fn prepend(&mut self, cursor: Option<String>, items: Vec<Consumer>) {
        let len = items.len();
        if let Some((_, dropped)) = self.before.pop() {
            self.skipped = self.skipped.saturating_sub(dropped);
        }
        self.pages.push_front((cursor, len));
        self.rows.splice(0..0, items);
        self.selected += len;
        self.offset += len;
        while self.pages.len() > WINDOW_PAGES {
            let Some((cursor, len)) = self.pages.pop_back() else {
                break;
            };
            self.rows.truncate(self.rows.len().saturating_sub(len));
            self.next_cursor = cursor;
        }
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
    }

    fn move_by(&mut self, delta: isize, height: usize) {
        if self.rows.is_empty() {
            return;
        }
        let last = self.rows.len() - 1;
        self.selected = self.selected.saturating_add_signed(delta).min(last);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
    }
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
                    groups.iter().map(|g| g.name.clone()).collect(),
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

    pub fn set_groups(&mut self, groups: &[PermissionGroup]) {
        let current = self
            .group_ids
            .get(self.form.selected("permission_group_id"))
            .copied();
        let wanted = current.or(self.editing.as_ref().map(|c| c.permission_group_id));
        self.group_ids = groups.iter().map(|g| g.id).collect();
        let index = wanted
            .and_then(|id| groups.iter().position(|g| g.id == id))
            .unwrap_or(0);
        if let Some(field) = self.form.field_mut("permission_group_id") {
            if let super::form::Kind::Select { options, index: i } = &mut field.kind {
                *options = groups.iter().map(|g| g.name.clone()).collect();
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
    fn request(&self, lang: Lang) -> Result<Option<Request>, FieldErrors> {
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

impl State {
    pub(super) fn consumers_bindings(&self, main: &Main) -> Vec<Binding> {
        if main.consumers.filter_input.is_some() {
            return vec![
                bar(Command::Enter, "Aplicar filtro"),
                bar(Command::Back, "Cancelar"),
            ];
        }
        let mut keys = vec![
            bar(Command::Up, "Mover"),
            help(Command::Down, "Mover"),
            help(Command::PageUp, "Página anterior"),
            help(Command::PageDown, "Página siguiente"),
            help(Command::Left, "Pestaña API Key"),
        ];
        if self.is_super() {
            keys.push(bar(Command::New, "Nuevo"));
            keys.push(bar(Command::Enter, "Editar"));
            keys.push(bar(Command::Delete, "Eliminar"));
            keys.push(bar(Command::Rotate, "Rotar secreto"));
            keys.push(bar(Command::EnableToggle, "Activar/Desactivar"));
        } else {
            keys.push(bar(Command::Enter, "Ver detalle"));
        }
        keys.push(bar(Command::Copy, "Copiar Clave"));
        keys.push(bar(Command::Filter, "Filtrar"));
        keys.push(help(Command::Refresh, "Actualizar"));
        keys
    }

    pub(super) fn load_consumers(&mut self, cursor: Option<String>) {
        let Some(main) = self.main() else { return };
        let first = cursor.is_none();
        let q = main.consumers.filter.trim().to_string();
        let query = ConsumerQuery {
            q: (!q.is_empty()).then_some(q),
            limit: Some(PAGE),
            cursor,
        };
        let loading_cursor = query.cursor.clone();
        let id = self.send(Request::Consumers(query));
        if let Some(main) = self.main_mut() {
            main.consumers.loading = Some(id);
            main.consumers.loading_first = first;
            main.consumers.loading_before = false;
            main.consumers.loading_cursor = loading_cursor;
        }
    }

    pub(super) fn consumers_page(&mut self, id: RequestId, page: Page<Consumer>) {
        let Some(main) = self.main_mut() else { return };
        let table = &mut main.consumers;
        if table.loading != Some(id) {
            return;
        }
        table.loading = None;
        table.loaded = true;
        let cursor = table.loading_cursor.take();
        table.total = page.total;
        if table.loading_first {
            table.pages = VecDeque::from([(None, page.items.len())]);
            table.before.clear();
            table.skipped = 0;
            table.rows = page.items;
            table.selected = 0;
            table.offset = 0;
            table.next_cursor = page.next_cursor;
        } else if table.loading_before {
            table.prepend(cursor, page.items);
        } else {
            table.append(cursor, page.items);
            table.next_cursor = page.next_cursor;
        }
    }

    fn table_height(&self) -> usize {
        usize::from(self.size.1.saturating_sub(14)).max(1)
    }

    fn maybe_fetch_more(&mut self) {
        let Some(main) = self.main() else { return };
        let table = &main.consumers;
        if table.loading.is_none()
            && table.selected + PREFETCH >= table.rows.len()
            && let Some(cursor) = table.next_cursor.clone()
        {
            self.load_consumers(Some(cursor));
        }
    }

    /// Scrolling back up towards pages dropped from the window: fetch the nearest again.
    fn maybe_fetch_before(&mut self) {
        let Some(main) = self.main() else { return };
        let table = &main.consumers;
        if table.loading.is_none()
            && table.selected < PREFETCH
            && let Some((cursor, _)) = table.before.last()
        {
            let cursor = cursor.clone();
            self.load_consumers(cursor);
            if let Some(main) = self.main_mut() {
                // Even the first page, fetched again, goes before the window.
                main.consumers.loading_first = false;
                main.consumers.loading_before = true;
            }
        }
    }

    pub(super) fn consumers_command(&mut self, command: Command) {
        let lang = self.lang;
        let height = self.table_height();
        let is_super = self.is_super();
        let Some(main) = self.main_mut() else { return };
        if let Some(filter) = &mut main.consumers.filter_input {
            match command {
                Command::Enter => {
                    main.consumers.filter = filter.text("q");
                    main.consumers.filter_input = None;
                    self.load_consumers(None);
                }
                Command::Back => main.consumers.filter_input = None,
                _ => {}
            }
            return;
        }
        let table = &mut main.consumers;
        match command {
            Command::Up => table.move_by(-1, height),
            Command::Down => table.move_by(1, height),
            Command::PageUp => table.move_by(-(height as isize), height),
            Command::PageDown => table.move_by(height as isize, height),
            Command::Left => main.api_tab = 0,
            Command::Back | Command::Prev => main.in_content = false,
            Command::Filter => {
                table.filter_input = Some(Form::new(vec![Field::text(
                    "q",
                    lang.t("Filtrar por nombre o clave"),
                    &table.filter,
                )]));
            }
            Command::Refresh => self.load_consumers(None),
            Command::Copy => {
                if let Some(consumer) = table.selected() {
                    let clave = SecretText::new(consumer.client_id.clone());
                    self.copy(lang.t("Clave"), clave);
                }
            }
            Command::New if is_super => {
                let empty = main.groups.is_empty();
                main.modal = Some(Modal::Consumer(ConsumerModal::new(
                    lang,
                    &main.groups,
                    None,
                )));
                if empty {
                    self.send(Request::Groups);
                }
            }
            Command::Enter if is_super => {
                if let Some(consumer) = table.selected() {
                    main.modal = Some(Modal::Consumer(ConsumerModal::new(
                        lang,
                        &main.groups,
                        Some(consumer),
                    )));
                }
            }
            Command::Enter => {
                if let Some(consumer) = table.selected() {
                    main.modal = Some(Modal::Detail(detail(lang, consumer)));
                }
            }
            Command::Delete if is_super => {
                if let Some(consumer) = table.selected() {
                    let (name, id) = (consumer.name.clone(), consumer.id);
                    self.ask_delete(
                        "¿Eliminar el consumidor",
                        &name,
                        "Sus tokens dejarán de funcionar. No se puede deshacer.",
                        Then::DeleteConsumer(id),
                    );
                }
            }
            Command::Rotate if is_super => {
                if let Some(consumer) = table.selected() {
                    main.modal = Some(Modal::Rotate(RotateModal::new(lang, consumer)));
                }
            }
            Command::EnableToggle if is_super => {
                if let Some(consumer) = table.selected() {
                    let request = Request::UpdateConsumer {
                        id: consumer.id,
                        patch: ConsumerPatch {
                            enabled: Some(!consumer.enabled),
                            ..ConsumerPatch::default()
                        },
                        version: consumer.version,
                    };
                    self.send(request);
                }
            }
            _ => {}
        }
        if matches!(command, Command::Down | Command::PageDown) {
            self.maybe_fetch_more();
        }
        if matches!(command, Command::Up | Command::PageUp) {
            self.maybe_fetch_before();
        }
    }

    pub(super) fn consumer_modal_command(&mut self, command: Command) {
        let lang = self.lang;
        let Some(main) = self.main_mut() else { return };
        let Some(Modal::Consumer(modal)) = &mut main.modal else {
            return;
        };
        if command == Command::Reload {
            if let Some(old) = &modal.editing {
                let id = old.id;
                self.send(Request::Consumer(id));
            }
            return;
        }
        let outcome = form_command(&mut modal.form, command);
        modal.sync_visibility();
        match outcome {
            FormOutcome::Submit if modal.created => main.modal = None,
            FormOutcome::Submit if !modal.form.busy => match modal.request(lang) {
                Ok(Some(request)) => {
                    modal.form.clear_errors();
                    modal.form.busy = true;
                    self.send(request);
                }
                Ok(None) => main.modal = None,
                Err(errors) => modal.form.set_errors(&errors, None),
            },
            FormOutcome::Cancel => {
                if modal.form.dirty && !modal.created {
                    self.ask(
                        lang.t("Hay cambios sin guardar. ¿Cerrar de todos modos?"),
                        Then::CloseModal,
                    );
                } else {
                    main.modal = None;
                }
            }
            FormOutcome::Copy(label, value) => self.copy(&label, value),
            _ => {}
        }
    }

    pub(super) fn consumer_answer(&mut self, request: Request, consumer: Consumer) {
        let lang = self.lang;
        let Some(main) = self.main_mut() else { return };
        let modal_id = match &main.modal {
            Some(Modal::Consumer(m)) => m.editing.as_ref().map(|c| c.id),
            _ => None,
        };
        main.consumers.upsert(consumer.clone());
        match request {
            Request::Consumer(_) => {
                if let Some(Modal::Consumer(modal)) = &mut main.modal
                    && modal_id == Some(consumer.id)
                {
                    modal.editing = Some(consumer);
                    modal.form.busy = false;
                    modal.form.clear_errors();
                    modal.form.error = Some(
                        lang.t("Recargado. Guardar aplicará lo escrito sobre la versión actual.")
                            .to_string(),
                    );
                }
            }
            Request::UpdateConsumer { patch, .. } => {
                if modal_id == Some(consumer.id) {
                    main.modal = None;
                }
                let text = match patch.enabled {
                    Some(true) => lang.t("Consumidor activado"),
                    Some(false) => lang.t("Consumidor desactivado"),
                    None => lang.t("Consumidor guardado"),
                };
                self.toast(text);
            }
            _ => {}
        }
    }

    pub(super) fn consumer_created(&mut self, created: CreatedConsumer) {
        let lang = self.lang;
        let Some(main) = self.main_mut() else { return };
        main.consumers.upsert(created.consumer.clone());
        if let Some(Modal::Consumer(modal)) = &mut main.modal {
            let form = &mut modal.form;
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
            form.set_copy("client_secret", Some(created.client_secret));
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
            modal.created = true;
            modal.form.focus_on("client_id");
        }
        self.toast(lang.t("Consumidor creado"));
    }

    pub(super) fn rotate_modal_command(&mut self, command: Command) {
        let Some(main) = self.main_mut() else { return };
        let Some(Modal::Rotate(modal)) = &mut main.modal else {
            return;
        };
        match form_command(&mut modal.form, command) {
            FormOutcome::Submit if !modal.form.busy => {
                modal.form.busy = true;
                let rotate = RotateSecret {
                    grace_seconds: GRACE[modal.form.selected("grace_seconds").min(GRACE.len() - 1)],
                    revoke_tokens: modal.form.checked("revoke_tokens"),
                };
                let id = modal.id;
                self.send(Request::RotateSecret(id, rotate));
            }
            FormOutcome::Cancel => main.modal = None,
            _ => {}
        }
    }

    pub(super) fn secret_rotated(&mut self, id: Uuid, rotated: RotatedSecret) {
        let lang = self.lang;
        let Some(main) = self.main_mut() else { return };
        if let Some(row) = main.consumers.rows.iter_mut().find(|c| c.id == id) {
            row.secret_last_four = rotated.secret_last_four.clone();
        }
        let mut fields = vec![Field::copy(
            "client_secret",
            lang.t("Secreto nuevo"),
            Some(rotated.client_secret),
            true,
        )];
        if let Some(until) = rotated.previous_secret_valid_until {
            fields.push(Field::copy(
                "previous_valid_until",
                lang.t("El anterior vale hasta"),
                Some(SecretText::new(
                    until.format("%Y-%m-%d %H:%M UTC").to_string(),
                )),
                false,
            ));
        }
        fields.push(Field::button("cancel", lang.t("Cerrar")));
        main.modal = Some(Modal::Secret(Form::new(fields)));
        self.toast(lang.t("Secreto rotado"));
    }

    pub(super) fn secret_modal_command(&mut self, command: Command) {
        let Some(main) = self.main_mut() else { return };
        let Some(Modal::Secret(form) | Modal::Detail(form)) = &mut main.modal else {
            return;
        };
        match form_command(form, command) {
            FormOutcome::Submit | FormOutcome::Cancel => main.modal = None,
            FormOutcome::Copy(label, value) => self.copy(&label, value),
            _ => {}
        }
    }
}

/// A consumer as admin and read_only users see it: every field read-only, no secret.
fn detail(lang: Lang, consumer: &Consumer) -> Form {
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

/// The table: only the rows that fit are built.
pub fn render(frame: &mut Frame, area: Rect, state: &State, main: &Main) {
    let lang = state.lang;
    let table = &main.consumers;
    let mut title = format!(
        " {} ({}/{}) ",
        lang.t("Consumidores OAuth"),
        table.skipped + table.rows.len(),
        table.total
    );
    if !table.filter.is_empty() {
        title.push_str(&format!(
            "· {}: {} ",
            lang.t("filtro"),
            clean(&table.filter)
        ));
    }
    let mut block = Block::default().borders(Borders::TOP).title(title);
    if state.is_super() {
        block = block.title_bottom(
            Line::styled(
                format!(" [+] {} ", lang.t("Nuevo")),
                Style::default()
                    .fg(Color::Green)
                    .add_modifier(Modifier::BOLD),
            )
            .right_aligned(),
        );
        block = block.borders(Borders::TOP | Borders::BOTTOM);
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut body = inner;
    if let Some(filter) = &table.filter_input {
        let line = Rect {
            height: 1.min(inner.height),
            ..inner
        };
        super::form::render(frame, line, filter, lang, true);
        body.y = body.y.saturating_add(1);
        body.height = body.height.saturating_sub(1);
    }
    let height = usize::from(body.height.saturating_sub(1)).max(1);
    let selected = table.selected.min(table.rows.len().saturating_sub(1));
    let mut offset = table.offset.min(selected);
    if selected >= offset + height {
        offset = selected + 1 - height;
    }
    let end = (offset + height).min(table.rows.len());
    // Narrow terminals keep the columns that identify a consumer; a compact layout keeps all
    // six with the Clave shortened (`c` copies it whole).
    let narrow = body.width < 84;
    let full_key = body.width >= 110;
    let key_text = |id: &str| -> String {
        let id = clean(id).into_owned();
        if full_key || id.chars().count() <= 15 {
            id
        } else {
            format!("{}…", id.chars().take(14).collect::<String>())
        }
    };
    let rows = table.rows[offset.min(end)..end].iter().map(|c| {
        let state_text = if c.enabled {
            lang.t("Activo")
        } else {
            lang.t("Inactivo")
        };
        let state_cell = Cell::from(state_text).style(if c.enabled {
            Style::default().fg(Color::Green)
        } else {
            Style::default().fg(Color::DarkGray)
        });
        let name = Cell::from(clean(&c.name).into_owned());
        let clave = Cell::from(key_text(&c.client_id));
        let group = Cell::from(clean(&c.permission_group_name).into_owned());
        if narrow {
            Row::new(vec![name, clave, group, state_cell])
        } else {
            Row::new(vec![
                name,
                clave,
                Cell::from(if full_key {
                    lang.grant(c.grant_type)
                } else {
                    match c.grant_type {
                        GrantType::ClientCredentials => lang.t("Credenciales"),
                        GrantType::AuthorizationCode => lang.t("Código"),
                    }
                }),
                group,
                Cell::from(c.created_at.format("%Y-%m-%d").to_string()),
                state_cell,
            ])
        }
    });
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let (header, widths) = if narrow {
        (
            Row::new(vec![
                lang.t("Nombre"),
                lang.t("Clave"),
                lang.t("Grupo de permisos"),
                lang.t("Estado"),
            ])
            .style(bold),
            vec![
                Constraint::Fill(2),
                Constraint::Length(16),
                Constraint::Fill(1),
                Constraint::Length(8),
            ],
        )
    } else {
        (
            Row::new(vec![
                lang.t("Nombre"),
                lang.t("Clave"),
                lang.t("Tipo"),
                // The compact layout abbreviates the two long headers.
                if full_key {
                    lang.t("Grupo de permisos")
                } else {
                    lang.t("Grupo")
                },
                if full_key {
                    lang.t("Fecha de creación")
                } else {
                    lang.t("Creación")
                },
                lang.t("Estado"),
            ])
            .style(bold),
            vec![
                Constraint::Fill(3),
                Constraint::Length(if full_key { 32 } else { 15 }),
                Constraint::Fill(2),
                Constraint::Fill(2),
                Constraint::Length(if full_key { 17 } else { 10 }),
                Constraint::Length(8),
            ],
        )
    };
    let mut table_state = TableState::default()
        .with_selected((!table.rows.is_empty()).then_some(selected - offset.min(selected)));
    let widget = Table::new(rows, widths)
        .header(header)
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED));
    let empty = table.rows.is_empty().then(|| {
        if table.loading.is_some() {
            lang.t("Cargando…")
        } else if state.is_super() {
            lang.t("No hay consumidores. Pulse + para crear uno.")
        } else {
            lang.t("No hay consumidores.")
        }
    });
    frame.render_stateful_widget(widget, body, &mut table_state);
    // Across the whole table under the header, not inside its first column.
    if let Some(text) = empty
        && body.height > 1
    {
        let line = Rect {
            y: body.y + 1,
            height: 1,
            ..body
        };
        frame.render_widget(Paragraph::new(text), line);
    }
}

#[cfg(test)]
mod tests;
