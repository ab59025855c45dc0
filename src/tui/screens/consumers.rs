//! Consumidores OAuth: the keyset-paged table (with the clients that registered themselves
//! and wait for approval first), the modal "Nuevo(a) Cliente OAuth" (also used to edit),
//! deleting, enabling, rotating a secret, approving or rejecting a pending client, and the
//! policy for such clients ("Registro de clientes", `p`).

mod decision;
mod modal;
mod policy;
mod table;

pub use decision::ApproveModal;
pub use modal::{ConsumerModal, GRACE, RotateModal};
pub use policy::PolicyModal;

use super::{Answer, Flow, Screen};
use crate::client::ClientError;
use crate::domain::registration::RegistrationSettings;
use crate::domain::secret::SecretText;
use crate::domain::*;
use crate::terminal::clean;
use crate::tui::action::Command;
use crate::tui::api::{Request, RequestId, Response};
use crate::tui::context::{Context, Then};
use crate::tui::dialog::Dialog;
use crate::tui::form::{Field, Form, FormOutcome, form_bindings, form_command};
use crate::tui::group_modal::GroupModal;
use crate::tui::i18n::Lang;
use crate::tui::keymap::{Binding, bar, help};
use crate::tui::pager::{Fetch, Pager};
use ratatui::Frame;
use ratatui::layout::Rect;

/// What `r` says on a consumer that authenticates with a key pair.
const NO_SECRET: &str = "Este consumidor usa Clave privada (JWT): no tiene Secreto; cambie sus claves públicas en Editar";
/// Said instead of rotating a public client's Secreto.
const NO_SECRET_PUBLIC: &str = "Es un cliente público: no tiene Secreto; PKCE protege sus códigos";

/// Rows asked for per page.
const PAGE: u32 = 50;
/// Fetch the next page when the selection is this close to an end of the loaded rows.
const PREFETCH: usize = 20;
/// Pages held in memory (see `Pager`).
const WINDOW_PAGES: usize = 4;

/// The dialogs of this screen.
#[allow(clippy::large_enum_variant)] // one open at a time; boxing buys nothing
pub enum ConsumerDialog {
    /// New or edit.
    Edit(ConsumerModal),
    Rotate(RotateModal),
    /// A freshly rotated secret, shown once.
    Secret(Form),
    /// A consumer, read-only: what admin and read_only users see on Enter (never a secret).
    Detail(Form),
    /// "+ Nuevo grupo…" from the consumer modal, which waits under it with what was typed.
    NewGroup {
        group: GroupModal,
        consumer: ConsumerModal,
    },
    /// A client waiting for approval, read-only; the Súper Administrador decides from here.
    Pending {
        form: Form,
        consumer: Consumer,
    },
    /// "Aprobar cliente": the group a pending client goes into.
    Approve(ApproveModal),
    /// "Registro de clientes": the policy (read-only for all but the Súper Administrador).
    Policy(PolicyModal),
}

impl ConsumerDialog {
    pub fn form(&self) -> &Form {
        match self {
            ConsumerDialog::Edit(m) => &m.form,
            ConsumerDialog::Rotate(m) => &m.form,
            ConsumerDialog::Secret(f) | ConsumerDialog::Detail(f) => f,
            ConsumerDialog::NewGroup { group, .. } => &group.form,
            ConsumerDialog::Pending { form, .. } => form,
            ConsumerDialog::Approve(m) => &m.form,
            ConsumerDialog::Policy(m) => &m.form,
        }
    }

    /// Holds input not saved yet (the consumer modal under the group form counts).
    fn dirty(&self) -> bool {
        match self {
            ConsumerDialog::NewGroup { group, consumer } => group.form.dirty || consumer.form.dirty,
            dialog => dialog.form().dirty,
        }
    }

    fn form_mut(&mut self) -> &mut Form {
        match self {
            ConsumerDialog::Edit(m) => &mut m.form,
            ConsumerDialog::Rotate(m) => &mut m.form,
            ConsumerDialog::Secret(f) | ConsumerDialog::Detail(f) => f,
            ConsumerDialog::NewGroup { group, .. } => &mut group.form,
            ConsumerDialog::Pending { form, .. } => form,
            ConsumerDialog::Approve(m) => &mut m.form,
            ConsumerDialog::Policy(m) => &mut m.form,
        }
    }
}

pub struct ConsumersScreen {
    pub table: Pager<Consumer>,
    /// The filter the rows were fetched with.
    pub filter: String,
    /// The filter line, open.
    pub filter_input: Option<Form>,
    /// For the group select of the modal (a copy of what the server last sent).
    pub groups: Vec<PermissionGroup>,
    /// For the group form that "+ Nuevo grupo…" opens (a copy of what the server sent).
    pub modules: Vec<Module>,
    pub dialog: Option<ConsumerDialog>,
    /// The clients waiting for approval, as last fetched (pinned first in the table while
    /// no filter is set).
    pub pending: Vec<Consumer>,
    /// The policy for clients that register themselves, once fetched.
    pub registration: Option<RegistrationSettings>,
    /// `p` was pressed before the policy arrived: it opens when it does.
    policy_wanted: bool,
}

impl Default for ConsumersScreen {
    fn default() -> Self {
        ConsumersScreen {
            table: Pager::new(WINDOW_PAGES, PREFETCH).keyed(|a, b| a.id == b.id),
            filter: String::new(),
            filter_input: None,
            groups: Vec::new(),
            modules: Vec::new(),
            dialog: None,
            pending: Vec::new(),
            registration: None,
            policy_wanted: false,
        }
    }
}

impl ConsumersScreen {
    pub fn load(&mut self, ctx: &mut Context, fetch: Fetch) {
        let q = self.filter.trim().to_string();
        let query = ConsumerQuery {
            q: (!q.is_empty()).then_some(q),
            limit: Some(PAGE),
            cursor: fetch.cursor.clone(),
        };
        let id = ctx.send(Request::Consumers(query));
        self.table.started(id, fetch);
    }

    /// Everything again: the clients waiting for approval, the policy and the first page.
    pub fn refresh(&mut self, ctx: &mut Context) {
        ctx.send(Request::PendingConsumers);
        ctx.send(Request::RegistrationSettings);
        self.load(ctx, Pager::<Consumer>::first());
    }

    /// Pins the pending clients ahead of the first page, unless a filter is set (then they
    /// show where the server's filtered list puts them). True when the first page must be
    /// fetched again to show a row no longer pinned in its place.
    fn pin_pending(&mut self) -> bool {
        let pinned = if self.filter.trim().is_empty() {
            self.pending.clone()
        } else {
            Vec::new()
        };
        self.table.pin(pinned)
    }

    /// The policy modal, over the table, as the policy was last fetched; the Súper
    /// Administrador's with the groups brought up to date.
    fn open_policy(&mut self, ctx: &mut Context) {
        if let Some(settings) = &self.registration {
            self.dialog = Some(ConsumerDialog::Policy(PolicyModal::new(
                ctx.lang,
                settings,
                &self.groups,
                ctx.is_super(),
            )));
            if ctx.is_super() {
                ctx.send(Request::Groups);
            }
        }
    }

    /// "Aprobar cliente" for a pending client, with the groups brought up to date (one made
    /// since the console opened may be the policy's).
    fn open_approve(&mut self, ctx: &mut Context, consumer: &Consumer) {
        self.dialog = Some(ConsumerDialog::Approve(ApproveModal::new(
            ctx.lang,
            consumer,
            &self.groups,
            self.registration.as_ref(),
        )));
        ctx.send(Request::Groups);
    }

    /// Asks before rejecting a pending client.
    fn ask_reject(ctx: &mut Context, consumer: &Consumer) {
        ctx.ask_delete(
            "¿Rechazar el cliente {}?",
            &clean(&consumer.name),
            "No recibirá códigos ni tokens; queda en la lista como Rechazado.",
            Then::Send(Request::RejectConsumer(consumer.id)),
        );
    }

    fn edit_command(&mut self, ctx: &mut Context, command: Command) {
        let lang = ctx.lang;
        let Some(ConsumerDialog::Edit(modal)) = &mut self.dialog else {
            return;
        };
        if command == Command::Reload {
            if let Some(old) = &modal.editing {
                ctx.send(Request::Consumer(old.id));
            }
            return;
        }
        if command == Command::Enter && modal.offers_new_group() {
            if self.modules.is_empty() {
                ctx.send(Request::Modules);
            }
            if let Some(ConsumerDialog::Edit(consumer)) = self.dialog.take() {
                self.dialog = Some(ConsumerDialog::NewGroup {
                    group: GroupModal::new(lang, &self.modules, None),
                    consumer,
                });
            }
            return;
        }
        let outcome = form_command(&mut modal.form, command);
        modal.sync_visibility();
        match outcome {
            FormOutcome::Submit if modal.created => self.dialog = None,
            FormOutcome::Submit if !modal.form.busy => match modal.request(lang) {
                Ok(Some(request)) => {
                    modal.form.clear_errors();
                    modal.form.busy = true;
                    ctx.send(request);
                }
                Ok(None) => self.dialog = None,
                Err(errors) => {
                    modal.form.set_errors(&errors, None);
                    modal.point_at_jwks_error();
                }
            },
            FormOutcome::Cancel => {
                if modal.form.dirty && !modal.created {
                    ctx.ask(
                        lang.t("Hay cambios sin guardar. ¿Cerrar de todos modos?"),
                        Then::Discard,
                    );
                } else {
                    self.dialog = None;
                }
            }
            FormOutcome::Copy(label, value) => ctx.copy(&label, value),
            _ => {}
        }
    }

    fn dialog_command(&mut self, ctx: &mut Context, command: Command) {
        match &mut self.dialog {
            Some(ConsumerDialog::Edit(_)) => self.edit_command(ctx, command),
            Some(ConsumerDialog::Rotate(modal)) => match form_command(&mut modal.form, command) {
                FormOutcome::Submit if !modal.form.busy => {
                    modal.form.busy = true;
                    let rotate = RotateSecret {
                        grace_seconds: GRACE
                            [modal.form.selected("grace_seconds").min(GRACE.len() - 1)],
                        revoke_tokens: modal.form.checked("revoke_tokens"),
                    };
                    ctx.send(Request::RotateSecret(modal.id, rotate));
                }
                FormOutcome::Cancel => self.dialog = None,
                _ => {}
            },
            Some(ConsumerDialog::Secret(form) | ConsumerDialog::Detail(form)) => {
                match form_command(form, command) {
                    FormOutcome::Submit | FormOutcome::Cancel => self.dialog = None,
                    FormOutcome::Copy(label, value) => ctx.copy(&label, value),
                    _ => {}
                }
            }
            Some(ConsumerDialog::Pending { form, consumer }) => match command {
                Command::Approve if ctx.is_super() => {
                    let consumer = consumer.clone();
                    self.open_approve(ctx, &consumer);
                }
                Command::Reject if ctx.is_super() => {
                    let consumer = consumer.clone();
                    self.dialog = None;
                    Self::ask_reject(ctx, &consumer);
                }
                _ => match form_command(form, command) {
                    FormOutcome::Submit | FormOutcome::Cancel => self.dialog = None,
                    FormOutcome::Copy(label, value) => ctx.copy(&label, value),
                    _ => {}
                },
            },
            Some(ConsumerDialog::Approve(modal)) => match form_command(&mut modal.form, command) {
                FormOutcome::Submit if !modal.form.busy => match modal.request(ctx.lang) {
                    Ok(request) => {
                        modal.form.clear_errors();
                        modal.form.busy = true;
                        ctx.send(request);
                    }
                    Err(errors) => modal.form.set_errors(&errors, None),
                },
                FormOutcome::Cancel => self.dialog = None,
                _ => {}
            },
            Some(ConsumerDialog::Policy(modal)) => {
                let outcome = form_command(&mut modal.form, command);
                modal.sync();
                match outcome {
                    FormOutcome::Submit if !modal.form.busy => match modal.request() {
                        Some(request) => {
                            modal.form.clear_errors();
                            modal.form.busy = true;
                            ctx.send(request);
                        }
                        // Read-only: Ctrl+S closes it.
                        None => self.dialog = None,
                    },
                    FormOutcome::Cancel if modal.form.dirty => {
                        let lang = ctx.lang;
                        ctx.ask(
                            lang.t("Hay cambios sin guardar. ¿Cerrar de todos modos?"),
                            Then::Discard,
                        );
                    }
                    FormOutcome::Cancel => self.dialog = None,
                    _ => {}
                }
            }
            Some(ConsumerDialog::NewGroup { group, .. }) => {
                match form_command(&mut group.form, command) {
                    FormOutcome::Submit if !group.form.busy => {
                        group.form.busy = true;
                        group.form.clear_errors();
                        ctx.send(group.request());
                    }
                    FormOutcome::Cancel if group.form.dirty => {
                        let lang = ctx.lang;
                        ctx.ask(
                            lang.t("Hay cambios sin guardar. ¿Cerrar de todos modos?"),
                            Then::Discard,
                        );
                    }
                    FormOutcome::Cancel => self.back_to_consumer(ctx.lang, None),
                    _ => {}
                }
            }
            None => {}
        }
    }

    /// Closes the group form and shows the consumer modal again, as it was typed, with
    /// `created` chosen in its group select.
    fn back_to_consumer(&mut self, lang: Lang, created: Option<PermissionGroup>) {
        let Some(ConsumerDialog::NewGroup { mut consumer, .. }) = self.dialog.take() else {
            return;
        };
        let select = created.as_ref().map(|g| g.id);
        if let Some(group) = created
            && !self.groups.iter().any(|g| g.id == group.id)
        {
            self.groups.push(group);
        }
        consumer.set_groups_selecting(lang, &self.groups, select);
        consumer.form.focus_on("permission_group_id");
        self.dialog = Some(ConsumerDialog::Edit(consumer));
    }

    fn dialog_discard_group(&mut self) {
        if let Some(ConsumerDialog::NewGroup { mut consumer, .. }) = self.dialog.take() {
            consumer.form.focus_on("permission_group_id");
            self.dialog = Some(ConsumerDialog::Edit(consumer));
        }
    }

    fn filter_command(&mut self, ctx: &mut Context, command: Command) {
        let Some(filter) = &self.filter_input else {
            return;
        };
        match command {
            Command::Enter => {
                self.filter = filter.text("q");
                self.filter_input = None;
                // The first page comes again anyway.
                let _ = self.pin_pending();
                self.load(ctx, Pager::<Consumer>::first());
            }
            Command::Back => self.filter_input = None,
            _ => {}
        }
    }

    fn table_command(&mut self, ctx: &mut Context, command: Command) -> Flow {
        let lang = ctx.lang;
        let height = ctx.table_height();
        let is_super = ctx.is_super();
        let page = height as isize;
        let moved = match command {
            Command::Up => Some(-1),
            Command::Down => Some(1),
            Command::PageUp => Some(-page),
            Command::PageDown => Some(page),
            _ => None,
        };
        if let Some(delta) = moved {
            if let Some(fetch) = self.table.move_by(delta, height) {
                self.load(ctx, fetch);
            }
            return Flow::Stay;
        }
        let selected = self.table.selected();
        match command {
            Command::Back | Command::Prev => return Flow::Leave,
            Command::Filter => {
                self.filter_input = Some(Form::new(vec![Field::text(
                    "q",
                    lang.t("Filtrar por nombre o clave"),
                    &self.filter,
                )]));
            }
            Command::Refresh => self.refresh(ctx),
            Command::Policy => {
                if self.registration.is_some() {
                    self.open_policy(ctx);
                } else {
                    self.policy_wanted = true;
                    ctx.send(Request::RegistrationSettings);
                }
            }
            Command::Copy => {
                if let Some(consumer) = selected {
                    ctx.copy(lang.t("Clave"), SecretText::new(consumer.client_id.clone()));
                }
            }
            Command::New if is_super => {
                self.dialog = Some(ConsumerDialog::Edit(ConsumerModal::new(
                    lang,
                    &self.groups,
                    None,
                )));
                if self.groups.is_empty() {
                    ctx.send(Request::Groups);
                }
            }
            // A client waiting for approval opens read-only, for whoever asks: what it is
            // comes before deciding on it.
            Command::Enter if selected.is_some_and(|c| c.approval == Approval::Pending) => {
                if let Some(consumer) = selected {
                    // From the top: its name, then where it came from.
                    let mut form = modal::detail(lang, consumer);
                    form.focus_first();
                    self.dialog = Some(ConsumerDialog::Pending {
                        form,
                        consumer: consumer.clone(),
                    });
                }
            }
            // Offered on a pending row only (see `bindings`).
            Command::Approve if is_super => {
                if let Some(consumer) = selected.filter(|c| c.approval == Approval::Pending) {
                    let consumer = consumer.clone();
                    self.open_approve(ctx, &consumer);
                }
            }
            Command::Reject if is_super => {
                if let Some(consumer) = selected.filter(|c| c.approval == Approval::Pending) {
                    Self::ask_reject(ctx, consumer);
                }
            }
            Command::Enter if is_super => {
                if let Some(consumer) = selected {
                    self.dialog = Some(ConsumerDialog::Edit(ConsumerModal::new(
                        lang,
                        &self.groups,
                        Some(consumer),
                    )));
                }
            }
            Command::Enter => {
                if let Some(consumer) = selected {
                    self.dialog = Some(ConsumerDialog::Detail(modal::detail(lang, consumer)));
                }
            }
            Command::Delete if is_super => {
                if let Some(consumer) = selected {
                    ctx.ask_delete(
                        "¿Eliminar el consumidor {}?",
                        &consumer.name,
                        "Sus tokens dejarán de funcionar. No se puede deshacer.",
                        Then::Send(Request::DeleteConsumer(consumer.id)),
                    );
                }
            }
            Command::Rotate if is_super => match selected {
                // A key pair's consumer has no Secreto; its keys change in Editar.
                Some(consumer) if consumer.auth_method == AuthMethod::PrivateKeyJwt => {
                    ctx.toast(lang.t(NO_SECRET));
                }
                Some(consumer) if consumer.auth_method == AuthMethod::Public => {
                    ctx.toast(lang.t(NO_SECRET_PUBLIC));
                }
                Some(consumer) => {
                    self.dialog = Some(ConsumerDialog::Rotate(RotateModal::new(lang, consumer)));
                }
                None => {}
            },
            Command::EnableToggle if is_super => {
                if let Some(consumer) = selected {
                    ctx.send(Request::UpdateConsumer {
                        id: consumer.id,
                        patch: ConsumerPatch {
                            enabled: Some(!consumer.enabled),
                            ..ConsumerPatch::default()
                        },
                        version: consumer.version,
                    });
                }
            }
            _ => {}
        }
        Flow::Stay
    }

    fn consumer_answer(&mut self, ctx: &mut Context, request: Request, consumer: Consumer) {
        let lang = ctx.lang;
        let modal_id = match &self.dialog {
            Some(ConsumerDialog::Edit(m)) => m.editing.as_ref().map(|c| c.id),
            _ => None,
        };
        self.table.upsert(consumer.clone(), |a, b| a.id == b.id);
        match request {
            Request::Consumer(_) => {
                if let Some(ConsumerDialog::Edit(modal)) = &mut self.dialog
                    && modal_id == Some(consumer.id)
                {
                    modal.set_keys(lang, &consumer);
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
                    self.dialog = None;
                }
                ctx.toast(match patch.enabled {
                    Some(true) => lang.t("Consumidor activado"),
                    Some(false) => lang.t("Consumidor desactivado"),
                    None => lang.t("Consumidor guardado"),
                });
            }
            _ => {}
        }
    }

    fn consumer_created(&mut self, ctx: &mut Context, created: CreatedConsumer) {
        let lang = ctx.lang;
        self.table
            .upsert(created.consumer.clone(), |a, b| a.id == b.id);
        if let Some(ConsumerDialog::Edit(modal)) = &mut self.dialog {
            modal.show_credentials(lang, created);
        }
        ctx.toast(lang.t("Consumidor creado"));
    }

    fn secret_rotated(&mut self, ctx: &mut Context, id: uuid::Uuid, rotated: RotatedSecret) {
        let lang = ctx.lang;
        if let Some(row) = self.table.rows.iter_mut().find(|c| c.id == id) {
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
        self.dialog = Some(ConsumerDialog::Secret(Form::new(fields)));
        ctx.toast(lang.t("Secreto rotado"));
    }

    /// A pending client approved or rejected: its dialogs close, the toast says how it was
    /// decided, and the table shows it where it now belongs.
    fn decided(&mut self, ctx: &mut Context, consumer: Consumer) {
        let lang = ctx.lang;
        let about_it = match &self.dialog {
            Some(ConsumerDialog::Approve(m)) => m.id == consumer.id,
            Some(ConsumerDialog::Pending { consumer: c, .. }) => c.id == consumer.id,
            _ => false,
        };
        if about_it {
            self.dialog = None;
        }
        let name = format!("«{}»", clean(&consumer.name));
        ctx.toast(match consumer.approval {
            Approval::Approved => lang.fill(
                "Cliente {} aprobado en el grupo {}",
                &[
                    &name,
                    &format!("«{}»", clean(&consumer.permission_group_name)),
                ],
            ),
            _ => lang.fill("Cliente {} rechazado", &[&name]),
        });
        self.pending.retain(|c| c.id != consumer.id);
        self.table.upsert(consumer, |a, b| a.id == b.id);
        self.refresh(ctx);
    }
}

impl Screen for ConsumersScreen {
    /// Blocks the tab switch: the filter line or a dialog has the keyboard.
    fn holds_keys(&self) -> bool {
        self.filter_input.is_some() || self.dialog.is_some()
    }

    fn bindings(&self, ctx: &Context) -> Vec<Binding> {
        match &self.dialog {
            Some(ConsumerDialog::Edit(m)) => {
                // Once created, the modal only shows the credentials: Ctrl+S closes it.
                let save = if m.created { "Cerrar" } else { "Guardar" };
                let mut keys = form_bindings(&m.form, save);
                // On "+ Nuevo grupo…", Enter opens the group form: the bar says so first.
                if m.offers_new_group() {
                    keys.retain(|b| b.command != Command::Enter);
                    keys.insert(0, bar(Command::Enter, "Crear grupo"));
                }
                if m.editing.is_some() {
                    keys.push(help(Command::Reload, "Recargar (conserva lo escrito)"));
                }
                return keys;
            }
            Some(ConsumerDialog::Rotate(m)) => return form_bindings(&m.form, "Rotar"),
            Some(ConsumerDialog::Secret(f) | ConsumerDialog::Detail(f)) => {
                return form_bindings(f, "Cerrar");
            }
            Some(ConsumerDialog::NewGroup { group, .. }) => {
                return form_bindings(&group.form, "Guardar");
            }
            Some(ConsumerDialog::Pending { form, .. }) => {
                let mut keys = form_bindings(form, "Cerrar");
                if ctx.is_super() {
                    keys.insert(0, bar(Command::Approve, "Aprobar"));
                    keys.insert(1, bar(Command::Reject, "Rechazar"));
                }
                return keys;
            }
            Some(ConsumerDialog::Approve(m)) => return form_bindings(&m.form, "Aprobar"),
            Some(ConsumerDialog::Policy(m)) => {
                return form_bindings(&m.form, if m.can_write { "Guardar" } else { "Cerrar" });
            }
            None => {}
        }
        if self.filter_input.is_some() {
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
            help(Command::Right, "Pestaña Recursos protegidos"),
        ];
        let pending = self
            .table
            .selected()
            .is_some_and(|c| c.approval == Approval::Pending);
        if ctx.is_super() {
            // On a client waiting for approval, the decision comes first.
            if pending {
                keys.push(bar(Command::Approve, "Aprobar"));
                keys.push(bar(Command::Reject, "Rechazar"));
            }
            keys.push(bar(Command::New, "Nuevo"));
            keys.push(if pending {
                bar(Command::Enter, "Ver detalle")
            } else {
                bar(Command::Enter, "Editar")
            });
            keys.push(bar(Command::Delete, "Eliminar"));
            // Offered where there is a Secreto; elsewhere `r` says why not.
            let keys_only = self
                .table
                .selected()
                .is_some_and(|c| c.auth_method != AuthMethod::ClientSecret);
            keys.push(if keys_only {
                help(Command::Rotate, "Rotar secreto")
            } else {
                bar(Command::Rotate, "Rotar secreto")
            });
            keys.push(bar(Command::EnableToggle, "Activar/Desactivar"));
        } else {
            keys.push(bar(Command::Enter, "Ver detalle"));
        }
        keys.push(bar(Command::Copy, "Copiar Clave"));
        keys.push(bar(Command::Filter, "Filtrar"));
        keys.push(help(Command::Policy, "Registro de clientes"));
        keys.push(help(Command::Refresh, "Actualizar"));
        keys
    }

    fn open(&mut self, ctx: &mut Context) {
        if !self.table.loaded && self.table.loading.is_none() {
            self.refresh(ctx);
        }
    }

    fn command(&mut self, ctx: &mut Context, command: Command) -> Flow {
        if self.dialog.is_some() {
            self.dialog_command(ctx, command);
            Flow::Stay
        } else if self.filter_input.is_some() {
            self.filter_command(ctx, command);
            Flow::Stay
        } else {
            self.table_command(ctx, command)
        }
    }

    fn dialog(&self, ctx: &Context) -> Option<Dialog<'_>> {
        let lang = ctx.lang;
        let once = lang.t("Guarde el secreto ahora: no se volverá a mostrar.");
        let dialog = self.dialog.as_ref()?;
        let mut shown = Dialog::new("", dialog.form());
        match dialog {
            ConsumerDialog::Edit(m) if m.created => {
                shown.title = lang.t("Nuevo(a) Cliente OAuth");
                // A key pair's consumer got no Secreto: nothing shown only once.
                shown.notice = m.has_secret().then_some(once);
            }
            ConsumerDialog::Edit(m) if m.editing.is_some() => {
                shown.title = lang.t("Editar Cliente OAuth");
            }
            ConsumerDialog::Edit(_) => shown.title = lang.t("Nuevo(a) Cliente OAuth"),
            ConsumerDialog::Rotate(m) => {
                shown.title = lang.t("Rotar secreto");
                shown.name = Some(lang.fill("Consumidor {}", &[&format!("«{}»", clean(&m.name))]));
            }
            ConsumerDialog::Detail(_) => shown.title = lang.t("Cliente OAuth"),
            ConsumerDialog::Secret(_) => {
                shown.title = lang.t("Secreto nuevo");
                shown.notice = Some(once);
            }
            ConsumerDialog::NewGroup { .. } => shown.title = lang.t("Nuevo grupo de permisos"),
            ConsumerDialog::Pending { .. } => {
                shown.title = lang.t("Cliente pendiente de aprobación");
            }
            ConsumerDialog::Approve(m) => {
                shown.title = lang.t("Aprobar cliente");
                shown.name = Some(lang.fill("Cliente {}", &[&format!("«{}»", clean(&m.name))]));
            }
            ConsumerDialog::Policy(_) => shown.title = lang.t("Registro de clientes"),
        }
        Some(shown)
    }

    fn form(&self) -> Option<&Form> {
        match &self.dialog {
            Some(dialog) => Some(dialog.form()),
            None => self.filter_input.as_ref(),
        }
    }

    fn form_mut(&mut self) -> Option<&mut Form> {
        match &mut self.dialog {
            Some(dialog) => Some(dialog.form_mut()),
            None => self.filter_input.as_mut(),
        }
    }

    fn edited(&mut self) {
        match &mut self.dialog {
            Some(ConsumerDialog::Edit(modal)) => modal.sync_visibility(),
            Some(ConsumerDialog::Policy(modal)) => modal.sync(),
            _ => {}
        }
    }

    fn on_response(&mut self, ctx: &mut Context, answer: Answer) -> Option<Answer> {
        match answer.response {
            // The users screen takes them too.
            Response::Groups(ref groups) => {
                self.groups.clone_from(groups);
                match &mut self.dialog {
                    Some(ConsumerDialog::Edit(modal)) => modal.set_groups(ctx.lang, groups),
                    Some(ConsumerDialog::NewGroup { consumer, .. }) => {
                        consumer.set_groups(ctx.lang, groups);
                    }
                    Some(ConsumerDialog::Approve(modal)) => modal.set_groups(ctx.lang, groups),
                    Some(ConsumerDialog::Policy(modal)) if modal.can_write => {
                        modal.set_groups(groups);
                    }
                    _ => {}
                }
                return Some(answer);
            }
            // The users screen takes them too.
            Response::Modules(ref modules) => {
                self.modules.clone_from(modules);
                return Some(answer);
            }
            // The group "+ Nuevo grupo…" created: back to the consumer, with it chosen.
            Response::Group(ref group)
                if matches!(self.dialog, Some(ConsumerDialog::NewGroup { .. })) =>
            {
                let lang = ctx.lang;
                self.back_to_consumer(lang, Some(group.clone()));
                ctx.toast(lang.t("Grupo de permisos guardado"));
                // Everyone's copy of the groups (Permisos, other modals) catches up.
                ctx.send(Request::Groups);
            }
            Response::Consumers(page) => {
                self.table.answer(answer.id, page);
            }
            Response::Consumer(consumer) => self.consumer_answer(ctx, answer.request, consumer),
            Response::ConsumerCreated(created) => self.consumer_created(ctx, created),
            Response::ConsumerDeleted(deleted) => {
                self.table.remove(|c| c.id == deleted);
                ctx.toast(ctx.lang.t("Consumidor eliminado"));
            }
            Response::SecretRotated(id, rotated) => self.secret_rotated(ctx, id, rotated),
            Response::PendingConsumers(pending) => {
                self.pending = pending;
                if self.pin_pending() && self.table.loading.is_none() {
                    self.load(ctx, Pager::<Consumer>::first());
                }
            }
            Response::Decided(consumer) => self.decided(ctx, consumer),
            Response::RegistrationSettings(settings) => {
                let saved = matches!(answer.request, Request::SetRegistrationSettings(_));
                self.registration = Some(settings);
                if saved {
                    if matches!(self.dialog, Some(ConsumerDialog::Policy(_))) {
                        self.dialog = None;
                    }
                    ctx.toast(ctx.lang.t("Política de registro guardada"));
                } else if std::mem::take(&mut self.policy_wanted) && self.dialog.is_none() {
                    self.open_policy(ctx);
                }
            }
            _ => return Some(answer),
        }
        None
    }

    fn on_error(
        &mut self,
        ctx: &mut Context,
        id: RequestId,
        request: &Request,
        error: &ClientError,
    ) -> bool {
        self.table.failed(id);
        let form = match (&mut self.dialog, request) {
            (
                Some(ConsumerDialog::Edit(m)),
                Request::CreateConsumer(_) | Request::UpdateConsumer { .. },
            ) => &mut m.form,
            (Some(ConsumerDialog::Rotate(m)), Request::RotateSecret(..)) => &mut m.form,
            (Some(ConsumerDialog::NewGroup { group, .. }), Request::CreateGroup(_)) => {
                &mut group.form
            }
            (Some(ConsumerDialog::Approve(_)), Request::ApproveConsumer(..)) => {
                // Decided elsewhere meanwhile (409): the table catches up under the modal.
                if error.status() == Some(409) {
                    self.refresh(ctx);
                }
                let Some(ConsumerDialog::Approve(m)) = &mut self.dialog else {
                    return true;
                };
                m.form.refused(ctx.lang, error);
                return true;
            }
            (Some(ConsumerDialog::Policy(m)), Request::SetRegistrationSettings(_)) => &mut m.form,
            // A rejection (or an approval whose modal is gone) has no form: the toast says
            // why, and a decision already taken shows as it is now.
            (_, Request::RejectConsumer(_) | Request::ApproveConsumer(..)) => {
                ctx.toast(error.to_string());
                if error.status() == Some(409) {
                    self.refresh(ctx);
                }
                return true;
            }
            (_, Request::RegistrationSettings) => {
                self.policy_wanted = false;
                return false;
            }
            // A toggle from the table: no form to show it in.
            _ => return false,
        };
        form.refused(ctx.lang, error);
        true
    }

    fn dirty(&self) -> bool {
        self.dialog.as_ref().is_some_and(ConsumerDialog::dirty)
    }

    fn discard(&mut self) -> Flow {
        // Throwing away the group form keeps the consumer modal under it.
        match &self.dialog {
            Some(ConsumerDialog::NewGroup { .. }) => self.dialog_discard_group(),
            _ => self.dialog = None,
        }
        Flow::Stay
    }

    fn render(&self, frame: &mut Frame, area: Rect, ctx: &Context, _focused: bool) {
        table::render(
            frame,
            area,
            ctx,
            &self.table,
            &self.filter,
            self.filter_input.as_ref(),
            self.registration.as_ref(),
        );
    }
}

#[cfg(test)]
mod tests;
