//! The console's state and `update`, the only place it changes. Screens add their own
//! handlers in their files (`impl State` blocks); this file routes actions to them.

use super::action::{Action, Command, Effect};
use super::api::{Request, RequestId, Response};
use super::audit::AuditView;
use super::consumers::{ConsumerModal, ConsumerTable, RotateModal};
use super::dashboard::DashboardView;
use super::form::Form;
use super::i18n::Lang;
use super::keymap::{Binding, bar, help, map_key};
use super::users::{GroupModal, UserModal};
use crate::client::ClientError;
use crate::domain::secret::SecretText;
use crate::domain::*;
use chrono::NaiveDate;
use crossterm::event::KeyEvent;
use std::collections::HashMap;
use uuid::Uuid;

/// Smallest terminal the console draws into.
pub const MIN_SIZE: (u16, u16) = (80, 24);

pub struct State {
    pub lang: Lang,
    pub api_url: String,
    pub today: NaiveDate,
    pub size: (u16, u16),
    pub phase: Phase,
    pub user: Option<SessionUser>,
    pub account_name: String,
    pub help: bool,
    pub confirm: Option<Confirm>,
    pub toast: Option<(u64, String)>,
    pub failure: Option<Failure>,
    pub pending: HashMap<RequestId, Request>,
    next_id: u64,
    pub spinner: usize,
    pub effects: Vec<Effect>,
    pub quit: bool,
}

pub enum Phase {
    /// Asking the server whether setup is needed.
    Connecting,
    Setup(Form),
    Login(Form),
    Main(Box<Main>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Dashboard,
    Settings,
}

/// Settings sections, in the sidebar's order.
pub const SECTIONS: [&str; 12] = [
    "General",
    "Cuentas de Usuarios",
    "Calendario Laboral",
    "Módulos",
    "Financiero",
    "Catálogos Auxiliares",
    "Gestión Documental",
    "Log de Transacciones",
    "Seguridad",
    "Conexiones API",
    "Portal de Invitados",
    "Cuenta",
];
pub const SECTION_USERS: usize = 1;
pub const SECTION_AUDIT: usize = 7;
pub const SECTION_SECURITY: usize = 8;
pub const SECTION_API: usize = 9;
pub const SECTION_ACCOUNT: usize = 11;

/// The signed-in console.
pub struct Main {
    pub page: Page,
    /// The user menu, open with its highlighted item.
    pub menu: Option<usize>,
    pub dashboard: DashboardView,
    pub section: usize,
    /// Focus is in the section's content (not the sidebar).
    pub in_content: bool,
    pub api_tab: usize,
    pub api_key: Option<ApiKey>,
    pub api_secret: Option<SecretText>,
    pub consumers: ConsumerTable,
    pub modal: Option<Modal>,
    pub groups: Vec<PermissionGroup>,
    pub modules: Vec<Module>,
    pub users_tab: usize,
    pub users: Vec<User>,
    pub users_selected: usize,
    pub groups_selected: usize,
    pub audit: AuditView,
    pub account: Form,
    /// Seguridad: the JWT signing keys, current first.
    pub signing_keys: Vec<crate::domain::oauth::SigningKeyInfo>,
}

/// A dialog over the content.
pub enum Modal {
    Consumer(ConsumerModal),
    Rotate(RotateModal),
    /// A freshly rotated secret, shown once.
    Secret(Form),
    /// A consumer, read-only: what admin and read_only users see on Enter (never a secret).
    Detail(Form),
    User(UserModal),
    Group(GroupModal),
    AuditFilter(Form),
}

impl Modal {
    pub fn form(&self) -> &Form {
        match self {
            Modal::Consumer(m) => &m.form,
            Modal::Rotate(m) => &m.form,
            Modal::Secret(f) | Modal::Detail(f) | Modal::AuditFilter(f) => f,
            Modal::User(m) => &m.form,
            Modal::Group(m) => &m.form,
        }
    }
    pub fn form_mut(&mut self) -> &mut Form {
        match self {
            Modal::Consumer(m) => &mut m.form,
            Modal::Rotate(m) => &mut m.form,
            Modal::Secret(f) | Modal::Detail(f) | Modal::AuditFilter(f) => f,
            Modal::User(m) => &mut m.form,
            Modal::Group(m) => &mut m.form,
        }
    }
}

/// A yes/no question and what "yes" does.
pub struct Confirm {
    pub message: String,
    pub then: Then,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Then {
    Quit,
    Logout,
    CloseModal,
    LeaveForm,
    DeleteConsumer(Uuid),
    DeleteUser(Uuid),
    DeleteGroup(Uuid),
    RotateSigningKey,
    RevealApiSecret,
    RegenerateApiKey,
}

/// A request that failed outside any form; F5 sends it again.
pub struct Failure {
    pub message: String,
    pub retry: Option<Request>,
}

/// What a key did to a form.
pub enum FormOutcome {
    Nothing,
    Submit,
    Cancel,
    Copy(String, SecretText),
}

impl State {
    pub fn new(lang: Lang, api_url: String, today: NaiveDate) -> State {
        let mut state = State {
            lang,
            api_url,
            today,
            size: (120, 40),
            phase: Phase::Connecting,
            user: None,
            account_name: String::new(),
            help: false,
            confirm: None,
            toast: None,
            failure: None,
            pending: HashMap::new(),
            next_id: 1,
            spinner: 0,
            effects: Vec::new(),
            quit: false,
        };
        state.send(Request::SetupStatus);
        state
    }

    /// Some request is in flight (the spinner runs).
    pub fn busy(&self) -> bool {
        !self.pending.is_empty()
    }

    pub fn role(&self) -> Option<Role> {
        self.user.as_ref().map(|u| u.role)
    }

    pub fn is_super(&self) -> bool {
        self.role() == Some(Role::SuperAdmin)
    }

    pub fn is_admin(&self) -> bool {
        matches!(self.role(), Some(Role::SuperAdmin | Role::Admin))
    }

    pub fn main(&self) -> Option<&Main> {
        match &self.phase {
            Phase::Main(m) => Some(m),
            _ => None,
        }
    }

    pub fn main_mut(&mut self) -> Option<&mut Main> {
        match &mut self.phase {
            Phase::Main(m) => Some(m),
            _ => None,
        }
    }

    /// Queues a request; its answer comes back as `Action::Api` with the returned id.
    pub fn send(&mut self, request: Request) -> RequestId {
        let id = self.next_id;
        self.next_id += 1;
        self.pending.insert(id, request.clone());
        self.effects.push(Effect::Send(id, request));
        id
    }

    pub fn toast(&mut self, text: impl Into<String>) {
        let id = self.next_id;
        self.next_id += 1;
        self.toast = Some((id, text.into()));
    }

    pub fn copy(&mut self, what: &str, text: SecretText) {
        // "Copiado: Clave" reads right whatever the gender of the noun.
        let what = format!("{}: {}", self.lang.t("Copiado"), what);
        self.effects.push(Effect::Copy { text, what });
    }

    pub fn ask(&mut self, message: impl Into<String>, then: Then) {
        self.confirm = Some(Confirm {
            message: message.into(),
            then,
        });
    }

    /// Asks before deleting `name`: «`question` «name»? `consequence`».
    pub(super) fn ask_delete(
        &mut self,
        question: &'static str,
        name: &str,
        consequence: &'static str,
        then: Then,
    ) {
        let lang = self.lang;
        let message = format!("{} «{name}»? {}", lang.t(question), lang.t(consequence));
        self.ask(message, then);
    }

    /// The form that has the keyboard, if any.
    pub fn active_form(&self) -> Option<&Form> {
        match &self.phase {
            Phase::Setup(f) | Phase::Login(f) => Some(f),
            Phase::Main(m) if m.menu.is_none() => {
                if let Some(modal) = &m.modal {
                    return Some(modal.form());
                }
                if let Some(filter) = &m.consumers.filter_input {
                    return Some(filter);
                }
                (m.page == Page::Settings && m.in_content && m.section == SECTION_ACCOUNT)
                    .then_some(&m.account)
            }
            _ => None,
        }
    }

    pub fn active_form_mut(&mut self) -> Option<&mut Form> {
        match &mut self.phase {
            Phase::Setup(f) | Phase::Login(f) => Some(f),
            Phase::Main(m) if m.menu.is_none() => {
                if let Some(modal) = &mut m.modal {
                    return Some(modal.form_mut());
                }
                if let Some(filter) = &mut m.consumers.filter_input {
                    return Some(filter);
                }
                (m.page == Page::Settings && m.in_content && m.section == SECTION_ACCOUNT)
                    .then_some(&mut m.account)
            }
            _ => None,
        }
    }

    fn text_focus(&self) -> bool {
        !self.help && self.confirm.is_none() && self.active_form().is_some_and(Form::focus_is_text)
    }

    /// The keys of what has the keyboard now: one list for the bar, the help and the keymap.
    pub fn bindings(&self) -> Vec<Binding> {
        if self.help {
            return vec![
                bar(Command::Back, "Cerrar ayuda"),
                help(Command::Help, "Cerrar ayuda"),
            ];
        }
        self.bindings_without_help()
    }

    /// The bindings of the screen under the help popup (what the help lists).
    pub fn bindings_without_help(&self) -> Vec<Binding> {
        if self.confirm.is_some() {
            return vec![bar(Command::Yes, "Sí"), bar(Command::No, "No")];
        }
        let mut keys = match &self.phase {
            Phase::Connecting => vec![bar(Command::Refresh, "Reintentar")],
            Phase::Setup(form) | Phase::Login(form) => form_bindings(form, "Guardar"),
            Phase::Main(main) => self.main_bindings(main),
        };
        if self.failure.is_some() && !keys.iter().any(|b| b.command == Command::Refresh) {
            keys.push(bar(Command::Refresh, "Reintentar"));
        }
        keys.push(bar(Command::Help, "Ayuda"));
        keys.push(bar(Command::Quit, "Salir"));
        keys
    }

    fn main_bindings(&self, main: &Main) -> Vec<Binding> {
        if main.menu.is_some() {
            return vec![
                bar(Command::Up, "Mover"),
                help(Command::Down, "Mover"),
                bar(Command::Enter, "Abrir"),
                bar(Command::Back, "Cerrar menú"),
            ];
        }
        if let Some(modal) = &main.modal {
            return self.modal_bindings(modal);
        }
        let mut keys = match main.page {
            Page::Dashboard => self.dashboard_bindings(),
            Page::Settings => self.settings_bindings(main),
        };
        keys.push(help(Command::Menu, "Menú de usuario"));
        keys
    }

    /// Maps a key through the current bindings.
    pub fn key_action(&self, key: KeyEvent) -> Option<Action> {
        map_key(&self.bindings(), key, self.text_focus())
    }

    pub fn update(&mut self, action: Action) {
        match action {
            Action::Resize(w, h) => self.size = (w, h),
            Action::Tick => self.spinner = self.spinner.wrapping_add(1),
            Action::ToastExpired(id) => {
                if self.toast.as_ref().is_some_and(|(t, _)| *t == id) {
                    self.toast = None;
                }
            }
            Action::Terminate => self.leave(),
            Action::Copied { what, ok } => {
                if ok {
                    self.toast(what);
                } else {
                    self.toast(self.lang.t("No se pudo copiar al portapapeles"));
                }
            }
            Action::Paste(text) => {
                if !self.help
                    && self.confirm.is_none()
                    && let Some(form) = self.active_form_mut()
                {
                    form.paste(&text);
                }
            }
            Action::Edit(key) => self.edit(key),
            Action::Api { id, result } => self.on_api(id, result),
            Action::Command(command) => self.command(command),
        }
    }

    fn leave(&mut self) {
        self.quit = true;
        self.effects.push(Effect::Quit);
    }

    fn any_dirty(&self) -> bool {
        match &self.phase {
            Phase::Setup(f) | Phase::Login(f) => f.dirty,
            Phase::Main(m) => {
                m.modal.as_ref().is_some_and(|modal| modal.form().dirty) || m.account.dirty
            }
            Phase::Connecting => false,
        }
    }

    fn edit(&mut self, key: KeyEvent) {
        if let Some(form) = self.active_form_mut() {
            form.edit(key);
            if let Phase::Main(main) = &mut self.phase
                && let Some(Modal::Consumer(modal)) = &mut main.modal
            {
                modal.sync_visibility();
            }
        }
    }

    fn command(&mut self, command: Command) {
        if self.help {
            self.help = false;
            return;
        }
        if let Some(confirm) = self.confirm.take() {
            if command == Command::Yes {
                self.confirmed(confirm.then);
            }
            return;
        }
        match command {
            Command::Help => {
                self.help = true;
                return;
            }
            Command::Quit => {
                if self.any_dirty() {
                    let message = self
                        .lang
                        .t("Hay cambios sin guardar. ¿Salir de todos modos?");
                    self.ask(message, Then::Quit);
                } else {
                    self.leave();
                }
                return;
            }
            Command::Refresh if self.failure.is_some() => {
                if let Some(failure) = self.failure.take()
                    && let Some(request) = failure.retry
                {
                    self.send(request);
                }
                return;
            }
            _ => {}
        }
        match &self.phase {
            Phase::Connecting => {
                if command == Command::Refresh {
                    self.send(Request::SetupStatus);
                }
            }
            Phase::Setup(_) => self.setup_command(command),
            Phase::Login(_) => self.login_command(command),
            Phase::Main(_) => self.main_command(command),
        }
    }

    fn confirmed(&mut self, then: Then) {
        match then {
            Then::Quit => self.leave(),
            Then::Logout => {
                self.send(Request::Logout);
            }
            Then::CloseModal => {
                if let Some(main) = self.main_mut() {
                    main.modal = None;
                }
            }
            Then::LeaveForm => {
                if let Some(main) = self.main_mut() {
                    main.account.dirty = false;
                    main.in_content = false;
                }
            }
            Then::DeleteConsumer(id) => {
                self.send(Request::DeleteConsumer(id));
            }
            Then::DeleteUser(id) => {
                self.send(Request::DeleteUser(id));
            }
            Then::DeleteGroup(id) => {
                self.send(Request::DeleteGroup(id));
            }
            Then::RotateSigningKey => {
                self.send(Request::RotateSigningKey);
            }
            Then::RevealApiSecret => {
                self.send(Request::ApiKeySecret);
            }
            Then::RegenerateApiKey => {
                self.send(Request::RegenerateApiKey);
            }
        }
    }

    fn main_command(&mut self, command: Command) {
        let Some(main) = self.main_mut() else { return };
        if let Some(index) = main.menu {
            match command {
                Command::Up | Command::Down => main.menu = Some(1 - index.min(1)),
                Command::Back => main.menu = None,
                Command::Enter => {
                    main.menu = None;
                    if index == 0 {
                        main.page = Page::Settings;
                        main.in_content = false;
                    } else {
                        self.send(Request::Logout);
                    }
                }
                _ => {}
            }
            return;
        }
        if main.modal.is_some() {
            self.modal_command(command);
            return;
        }
        if command == Command::Menu {
            main.menu = Some(0);
            return;
        }
        match main.page {
            Page::Dashboard => self.dashboard_command(command),
            Page::Settings => self.settings_command(command),
        }
    }

    fn on_api(&mut self, id: RequestId, result: Result<Response, ClientError>) {
        let Some(request) = self.pending.remove(&id) else {
            return;
        };
        match result {
            Ok(response) => self.on_response(id, request, response),
            Err(error) => self.on_error(request, error),
        }
    }

    fn on_response(&mut self, id: RequestId, request: Request, response: Response) {
        match response {
            Response::SetupStatus(status) => {
                self.phase = if status.needed {
                    Phase::Setup(super::setup::form(self.lang))
                } else {
                    Phase::Login(super::login::form(self.lang, ""))
                };
            }
            Response::SetupDone(user) => {
                self.phase = Phase::Login(super::login::form(self.lang, &user.username));
                self.toast(self.lang.t("Cuenta creada. Inicie sesión."));
            }
            Response::LoggedIn(login) => self.logged_in(login),
            Response::LoggedOut => {
                let username = self.user.take().map(|u| u.username).unwrap_or_default();
                self.effects.push(Effect::Session(None));
                self.phase = Phase::Login(super::login::form(self.lang, &username));
            }
            Response::Account(account) => {
                self.account_name = account.name.clone();
                let saved = matches!(request, Request::UpdateAccount(_));
                if let Some(main) = self.main_mut() {
                    main.account.busy = false;
                    if saved {
                        main.account.dirty = false;
                    }
                    if !main.account.dirty {
                        main.account.set_text("account_name", &account.name);
                    }
                }
                if matches!(request, Request::UpdateAccount(_)) {
                    self.toast(self.lang.t("Cuenta actualizada"));
                }
            }
            Response::PasswordChanged => {
                let fresh = super::account::form(self.lang, &self.account_name);
                if let Some(main) = self.main_mut() {
                    main.account = fresh;
                }
                self.toast(self.lang.t("Contraseña cambiada"));
            }
            Response::Dashboard(data) => {
                if let Some(main) = self.main_mut()
                    && main.dashboard.request == Some(id)
                {
                    main.dashboard.data = Some(data);
                    main.dashboard.request = None;
                }
            }
            Response::ApiKey(key) => {
                if let Some(main) = self.main_mut() {
                    main.api_key = Some(key);
                }
            }
            Response::ApiKeySecret(secret) => {
                if let Some(main) = self.main_mut() {
                    main.api_key = Some(ApiKey {
                        key: secret.key,
                        created_at: secret.created_at,
                    });
                    main.api_secret = Some(secret.secret);
                }
                if matches!(request, Request::RegenerateApiKey) {
                    self.toast(self.lang.t("API Key regenerada"));
                }
            }
            Response::Modules(modules) => {
                if let Some(main) = self.main_mut() {
                    main.modules = modules;
                }
            }
            Response::Groups(groups) => {
                if let Some(main) = self.main_mut() {
                    main.groups = groups;
                    main.groups_selected = main
                        .groups_selected
                        .min(main.groups.len().saturating_sub(1));
                    if let Some(Modal::Consumer(modal)) = &mut main.modal {
                        modal.set_groups(&main.groups);
                    }
                }
            }
            Response::Group(_) => {
                if let Some(main) = self.main_mut() {
                    main.modal = None;
                }
                self.toast(self.lang.t("Grupo de permisos guardado"));
                self.send(Request::Groups);
            }
            Response::Users(users) => {
                if let Some(main) = self.main_mut() {
                    main.users = users;
                    main.users_selected =
                        main.users_selected.min(main.users.len().saturating_sub(1));
                }
            }
            Response::User(_) => {
                if let Some(main) = self.main_mut() {
                    main.modal = None;
                }
                self.toast(self.lang.t("Usuario guardado"));
                self.send(Request::Users);
            }
            Response::Consumers(page) => self.consumers_page(id, page),
            Response::Consumer(consumer) => self.consumer_answer(request, consumer),
            Response::ConsumerCreated(created) => self.consumer_created(created),
            Response::ConsumerDeleted(deleted) => {
                if let Some(main) = self.main_mut() {
                    main.consumers.remove(deleted);
                }
                self.toast(self.lang.t("Consumidor eliminado"));
            }
            Response::UserDeleted(deleted) => {
                if let Some(main) = self.main_mut() {
                    main.users.retain(|u| u.id != deleted);
                    main.users_selected =
                        main.users_selected.min(main.users.len().saturating_sub(1));
                }
                self.toast(self.lang.t("Usuario eliminado"));
            }
            Response::GroupDeleted(deleted) => {
                if let Some(main) = self.main_mut() {
                    main.groups.retain(|g| g.id != deleted);
                    main.groups_selected = main
                        .groups_selected
                        .min(main.groups.len().saturating_sub(1));
                }
                self.toast(self.lang.t("Grupo eliminado"));
            }
            Response::SecretRotated(consumer, rotated) => self.secret_rotated(consumer, rotated),
            Response::SigningKeys(keys) => {
                if let Some(main) = self.main_mut() {
                    main.signing_keys = keys;
                }
            }
            Response::SigningKeyRotated(keys) => {
                if let Some(main) = self.main_mut() {
                    main.signing_keys = keys;
                }
                self.toast(self.lang.t("Clave de firma rotada"));
            }
            Response::Audit(page) => {
                if let Some(main) = self.main_mut() {
                    main.audit.page(id, page);
                }
            }
        }
    }

    fn logged_in(&mut self, login: LoginResponse) {
        self.effects.push(Effect::Session(Some(login.token)));
        let lang = self.lang;
        self.user = Some(login.user);
        let mut main = Main {
            page: Page::Dashboard,
            menu: None,
            dashboard: DashboardView::new(self.today),
            section: 0,
            in_content: false,
            api_tab: 0,
            api_key: None,
            api_secret: None,
            consumers: ConsumerTable::default(),
            modal: None,
            groups: Vec::new(),
            modules: Vec::new(),
            users_tab: 0,
            users: Vec::new(),
            users_selected: 0,
            groups_selected: 0,
            audit: AuditView::default(),
            account: super::account::form(lang, ""),
            signing_keys: Vec::new(),
        };
        main.dashboard.request = Some(self.send(Request::Dashboard(main.dashboard.query())));
        self.phase = Phase::Main(Box::new(main));
        self.send(Request::Account);
        self.send(Request::Groups);
        self.send(Request::Modules);
    }

    fn on_error(&mut self, request: Request, error: ClientError) {
        let status = error.status();
        if status == Some(401) && self.user.is_some() && !matches!(request, Request::Logout) {
            let username = self.user.take().map(|u| u.username).unwrap_or_default();
            self.effects.push(Effect::Session(None));
            let mut form = super::login::form(self.lang, &username);
            form.error = Some(
                self.lang
                    .t("La sesión expiró. Inicie sesión de nuevo.")
                    .into(),
            );
            self.phase = Phase::Login(form);
            return;
        }
        let message = error.to_string();
        let errors = error.field_errors();
        // A stale version (412): the server names it `urn:consola:modified`.
        let modified = error.problem().and_then(|p| p.code()) == Some("modified");
        match &request {
            Request::Setup(_) | Request::Login { .. } => {
                let lang = self.lang;
                if let Phase::Setup(form) | Phase::Login(form) = &mut self.phase {
                    form.busy = false;
                    if matches!(request, Request::Login { .. }) {
                        // A wrong password keeps the username and clears the password.
                        form.set_text("password", "");
                        form.focus_on("password");
                        let text = if status == Some(401) {
                            lang.t("Usuario o contraseña incorrectos").to_string()
                        } else {
                            message
                        };
                        form.clear_errors();
                        form.error = Some(text);
                    } else {
                        form.set_errors(&errors, Some(message));
                    }
                }
            }
            Request::Logout => {
                // The session is gone either way.
                self.on_response(0, Request::Logout, Response::LoggedOut);
            }
            Request::CreateConsumer(_)
            | Request::UpdateConsumer { .. }
            | Request::RotateSecret(..)
            | Request::CreateUser(_)
            | Request::UpdateUser(..)
            | Request::CreateGroup(_)
            | Request::UpdateGroup(..)
            | Request::UpdateAccount(_)
            | Request::ChangePassword(_)
                if self.form_error(&request, modified, &errors, &message) => {}
            _ => {
                if let Some(main) = self.main_mut() {
                    main.consumers.loading = None;
                    main.audit.loading = None;
                }
                self.failure = Some(Failure {
                    message,
                    retry: Some(request),
                });
            }
        }
    }

    /// Puts a refused save's errors into the form it came from. False when that form is gone.
    fn form_error(
        &mut self,
        request: &Request,
        modified: bool,
        errors: &FieldErrors,
        message: &str,
    ) -> bool {
        let lang = self.lang;
        let Some(main) = self.main_mut() else {
            return false;
        };
        let form = match (&mut main.modal, request) {
            (Some(modal), Request::CreateConsumer(_) | Request::UpdateConsumer { .. }) => {
                if let Modal::Consumer(_) = modal {
                    modal.form_mut()
                } else {
                    // A toggle from the table: no form to show it in.
                    return false;
                }
            }
            (Some(modal), _)
                if !matches!(
                    request,
                    Request::UpdateAccount(_) | Request::ChangePassword(_)
                ) =>
            {
                modal.form_mut()
            }
            (_, Request::UpdateAccount(_) | Request::ChangePassword(_)) => &mut main.account,
            _ => return false,
        };
        form.busy = false;
        if modified {
            let text = lang.t("Modificado por otro usuario. Ctrl+R recarga sin perder lo escrito.");
            form.set_errors(errors, Some(text.to_string()));
            // Shown even when field errors came along (set_errors keeps those instead).
            form.error = Some(text.to_string());
        } else {
            form.set_errors(errors, Some(message.to_string()));
        }
        true
    }
}

/// The bindings of a form; `save` names what Ctrl+S does.
pub fn form_bindings(form: &Form, save: &'static str) -> Vec<Binding> {
    let mut keys = vec![
        bar(Command::Next, "Siguiente campo"),
        help(Command::Prev, "Campo anterior"),
        help(Command::Down, "Siguiente campo"),
        help(Command::Up, "Campo anterior"),
        bar(Command::Save, save),
        help(Command::Enter, "Activar / siguiente"),
        help(Command::Left, "Cambiar valor"),
        help(Command::Right, "Cambiar valor"),
        help(Command::Toggle, "Marcar casilla"),
    ];
    if form.focused_copy().is_some() {
        keys.push(bar(Command::Copy, "Copiar"));
    }
    keys.push(bar(Command::Back, "Cerrar"));
    keys
}

/// Runs a form key: moves focus, edits, or says the form wants to submit, cancel or copy.
pub fn form_command(form: &mut Form, command: Command) -> FormOutcome {
    match command {
        Command::Next => form.next(),
        Command::Prev => form.prev(),
        Command::Down if !form.matrix_move(true) => form.next(),
        Command::Up if !form.matrix_move(false) => form.prev(),
        Command::Save => return FormOutcome::Submit,
        Command::Back => return FormOutcome::Cancel,
        Command::Copy => {
            if let Some((label, value)) = form.focused_copy() {
                return FormOutcome::Copy(label.to_string(), value.clone());
            }
        }
        Command::Enter => {
            if let Some((label, value)) = form.focused_copy() {
                return FormOutcome::Copy(label.to_string(), value.clone());
            }
            if form.focus_is_button() {
                return if form.focused_name() == "cancel" {
                    FormOutcome::Cancel
                } else {
                    FormOutcome::Submit
                };
            }
            let was_text = form.focus_is_text();
            form.next();
            // Enter in the last input submits, as in any form.
            if was_text && form.focus_is_button() && form.focused_name() == "save" {
                return FormOutcome::Submit;
            }
        }
        Command::Toggle => {
            form.edit(crossterm::event::KeyEvent::new(
                crossterm::event::KeyCode::Char(' '),
                crossterm::event::KeyModifiers::NONE,
            ));
        }
        Command::Left | Command::Right => {
            let code = if command == Command::Left {
                crossterm::event::KeyCode::Left
            } else {
                crossterm::event::KeyCode::Right
            };
            form.edit(crossterm::event::KeyEvent::new(
                code,
                crossterm::event::KeyModifiers::NONE,
            ));
        }
        _ => {}
    }
    FormOutcome::Nothing
}
