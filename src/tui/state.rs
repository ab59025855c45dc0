//! The console's state and `update`, the only place it changes. This file only routes:
//! help → question → user menu → the screen that has the keyboard. What each screen does
//! lives in its own file under `screens/`.

use super::action::{Action, Command, Effect};
use super::api::{Request, RequestId, Response};
use super::context::{Context, Then};
use super::form::{Form, Kind};
use super::i18n::Lang;
use super::keymap::{Binding, bar, help, map_key};
use super::mouse::Target;
use super::screens::dashboard::DashboardScreen;
use super::screens::login::LoginScreen;
use super::screens::settings::Settings;
use super::screens::setup::SetupScreen;
use super::screens::{Answer, Flow, Screen};
use crate::client::ClientError;
use crate::domain::LoginResponse;
use crate::domain::secret::SecretText;
use chrono::NaiveDate;
use crossterm::event::KeyEvent;

/// Smallest terminal the console draws into: 80×24 less the status line of a tmux or screen
/// around it.
pub const MIN_SIZE: (u16, u16) = (80, 23);

pub struct State {
    /// What screens may reach: language, session, requests, toasts, questions, effects.
    pub ctx: Context,
    pub api_url: String,
    pub phase: Phase,
    pub account_name: String,
    /// The username that signed in last on this machine (Iniciar sesión starts with it).
    pub last_username: String,
    pub help: bool,
    pub failure: Option<Failure>,
    pub spinner: usize,
}

pub enum Phase {
    /// Asking the server whether setup is needed.
    Connecting,
    Setup(SetupScreen),
    Login(LoginScreen),
    Main(Box<Main>),
}

/// The two views of the signed-in console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Dashboard,
    Settings,
}

/// The items of the user menu, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuItem {
    Settings,
    Logout,
}

impl MenuItem {
    pub const ALL: [MenuItem; 2] = [MenuItem::Settings, MenuItem::Logout];

    pub fn label(self) -> &'static str {
        match self {
            MenuItem::Settings => "Configuración",
            MenuItem::Logout => "Cerrar sesión",
        }
    }

    fn other(self) -> MenuItem {
        match self {
            MenuItem::Settings => MenuItem::Logout,
            MenuItem::Logout => MenuItem::Settings,
        }
    }
}

/// The signed-in console.
pub struct Main {
    pub view: View,
    /// The user menu, open with its highlighted item.
    pub menu: Option<MenuItem>,
    pub dashboard: DashboardScreen,
    pub settings: Settings,
}

impl Main {
    pub fn screen(&self) -> &dyn Screen {
        match self.view {
            View::Dashboard => &self.dashboard,
            View::Settings => &self.settings,
        }
    }

    fn screen_mut(&mut self) -> &mut dyn Screen {
        match self.view {
            View::Dashboard => &mut self.dashboard,
            View::Settings => &mut self.settings,
        }
    }
}

/// A request that failed outside any form; F5 sends it again.
pub struct Failure {
    pub message: String,
    pub retry: Option<Request>,
}

impl State {
    pub fn new(lang: Lang, api_url: String, today: NaiveDate) -> State {
        let mut state = State::blank(lang, api_url, today);
        state.ctx.send(Request::SetupStatus);
        state
    }

    /// A console whose user is already known (an SSH key named them): it opens on the
    /// Dashboard, with no Iniciar sesión.
    pub fn signed_in(lang: Lang, api_url: String, today: NaiveDate, login: LoginResponse) -> State {
        let mut state = State::blank(lang, api_url, today);
        state.logged_in(login);
        state
    }

    fn blank(lang: Lang, api_url: String, today: NaiveDate) -> State {
        State {
            ctx: Context::new(lang, today),
            api_url,
            phase: Phase::Connecting,
            account_name: String::new(),
            last_username: String::new(),
            help: false,
            failure: None,
            spinner: 0,
        }
    }

    pub fn lang(&self) -> Lang {
        self.ctx.lang
    }

    /// Some request is in flight (the spinner runs).
    pub fn busy(&self) -> bool {
        self.ctx.busy()
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

    /// The screen that has the keyboard (under the help, the question and the menu).
    fn screen(&self) -> Option<&dyn Screen> {
        match &self.phase {
            Phase::Connecting => None,
            Phase::Setup(s) => Some(s),
            Phase::Login(s) => Some(s),
            Phase::Main(m) => Some(m.screen()),
        }
    }

    fn screen_mut(&mut self) -> Option<&mut dyn Screen> {
        match &mut self.phase {
            Phase::Connecting => None,
            Phase::Setup(s) => Some(s),
            Phase::Login(s) => Some(s),
            Phase::Main(m) => Some(m.screen_mut()),
        }
    }

    /// The form that has the keyboard, if any.
    pub fn active_form(&self) -> Option<&Form> {
        if self.main().is_some_and(|m| m.menu.is_some()) {
            return None;
        }
        self.screen()?.form()
    }

    fn active_form_mut(&mut self) -> Option<&mut Form> {
        if self.main().is_some_and(|m| m.menu.is_some()) {
            return None;
        }
        self.screen_mut()?.form_mut()
    }

    /// A text input has the keyboard: letters type instead of acting.
    pub fn text_focus(&self) -> bool {
        !self.help
            && self.ctx.question.is_none()
            && self.active_form().is_some_and(Form::focus_is_text)
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
        if self.ctx.question.is_some() {
            return vec![bar(Command::Yes, "Sí"), bar(Command::No, "No")];
        }
        let mut keys = match &self.phase {
            Phase::Connecting => vec![bar(Command::Refresh, "Reintentar")],
            Phase::Main(main) if main.menu.is_some() => vec![
                bar(Command::Up, "Mover"),
                help(Command::Down, "Mover"),
                bar(Command::Enter, "Abrir"),
                bar(Command::Back, "Cerrar menú"),
            ],
            Phase::Main(main) => {
                let screen = main.screen();
                let mut keys = screen.bindings(&self.ctx);
                // Every screen opens the user menu; one that shows it in its bar keeps that.
                if screen.dialog(&self.ctx).is_none()
                    && !keys.iter().any(|b| b.command == Command::Menu)
                {
                    keys.push(help(Command::Menu, "Menú de usuario"));
                }
                keys
            }
            Phase::Setup(s) => s.bindings(&self.ctx),
            Phase::Login(s) => s.bindings(&self.ctx),
        };
        if self.failure.is_some() && !keys.iter().any(|b| b.command == Command::Refresh) {
            keys.push(bar(Command::Refresh, "Reintentar"));
        }
        keys.push(bar(Command::Help, "Ayuda"));
        keys.push(bar(Command::Quit, "Salir"));
        keys
    }

    /// Maps a key through the current bindings.
    pub fn key_action(&self, key: KeyEvent) -> Option<Action> {
        map_key(&self.bindings(), key, self.text_focus())
    }

    pub fn update(&mut self, action: Action) {
        match action {
            Action::Resize(w, h) => self.ctx.size = (w, h),
            Action::Tick => self.spinner = self.spinner.wrapping_add(1),
            Action::ToastExpired(id) => {
                if self.ctx.toast.as_ref().is_some_and(|(t, _)| *t == id) {
                    self.ctx.toast = None;
                }
            }
            Action::Terminate => self.leave(),
            Action::Copied { what, done } => {
                if let Some(done) = done {
                    // Says how it went out, never more ("Copiado: Clave (OSC 52 vía tmux)").
                    let route = self.lang().t(done.route());
                    self.ctx.toast(format!("{what} ({route})"));
                } else {
                    let text = self.lang().t("No se pudo copiar al portapapeles");
                    self.ctx.toast(text);
                }
            }
            Action::Paste(text) => {
                if !self.help
                    && self.ctx.question.is_none()
                    && let Some(form) = self.active_form_mut()
                {
                    form.paste(&text);
                }
            }
            Action::Edit(key) => {
                if let Some(form) = self.active_form_mut() {
                    form.edit(key);
                    if let Some(screen) = self.screen_mut() {
                        screen.edited();
                    }
                }
            }
            Action::Api { id, result } => self.on_api(id, result),
            Action::Command(command) => self.command(command),
            Action::Click { column, row } => {
                if let Some(target) = self.ctx.hits.at(column, row) {
                    self.click(target);
                }
            }
            Action::Wheel { down } => {
                self.command(if down { Command::Down } else { Command::Up });
            }
        }
    }

    /// A click: the commands its target stands for, as if typed.
    fn click(&mut self, target: Target) {
        match target {
            Target::Commands(commands) => {
                for command in commands {
                    self.command(command);
                }
            }
            Target::Field(index) => {
                let press = self
                    .active_form_mut()
                    .and_then(|form| form.focus_index(index))
                    .and_then(|kind| match kind {
                        Kind::Button => Some(Command::Enter),
                        Kind::Checkbox(_) => Some(Command::Toggle),
                        Kind::Copy { value: Some(_), .. } => Some(Command::Copy),
                        _ => None,
                    });
                if let Some(command) = press {
                    self.command(command);
                }
            }
            Target::Section(section) => {
                if let Phase::Main(main) = &mut self.phase
                    && main.view == View::Settings
                    && main.menu.is_none()
                {
                    main.settings.open_section(&mut self.ctx, section);
                }
            }
        }
    }

    /// Quitting: the event loop stops when it sees `Effect::Quit`.
    fn leave(&mut self) {
        self.ctx.effects.push(Effect::Quit);
    }

    fn any_dirty(&self) -> bool {
        match &self.phase {
            Phase::Setup(s) => s.dirty(),
            Phase::Login(s) => s.dirty(),
            Phase::Main(m) => m.settings.dirty(),
            Phase::Connecting => false,
        }
    }

    fn command(&mut self, command: Command) {
        if self.help {
            self.help = false;
            return;
        }
        if let Some(question) = self.ctx.question.take() {
            if command == Command::Yes {
                self.confirmed(question.then);
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
                        .lang()
                        .t("Hay cambios sin guardar. ¿Salir de todos modos?");
                    self.ctx.ask(message, Then::Quit);
                } else {
                    self.leave();
                }
                return;
            }
            Command::Refresh if self.failure.is_some() => {
                if let Some(failure) = self.failure.take()
                    && let Some(request) = failure.retry
                {
                    self.ctx.send(request);
                }
                return;
            }
            _ => {}
        }
        match &mut self.phase {
            Phase::Connecting => {
                if command == Command::Refresh {
                    self.ctx.send(Request::SetupStatus);
                }
            }
            Phase::Setup(screen) => {
                screen.command(&mut self.ctx, command);
            }
            Phase::Login(screen) => {
                screen.command(&mut self.ctx, command);
            }
            Phase::Main(main) => main_command(main, &mut self.ctx, command),
        }
    }

    fn confirmed(&mut self, then: Then) {
        match then {
            Then::Quit => self.leave(),
            Then::Send(request) => {
                self.ctx.send(request);
            }
            Then::Discard => {
                if let Some(main) = self.main_mut() {
                    main.screen_mut().discard();
                }
            }
        }
    }

    fn on_api(&mut self, id: RequestId, result: Result<Response, ClientError>) {
        let Some(request) = self.ctx.pending.remove(&id) else {
            return;
        };
        match result {
            Ok(response) => self.on_response(Answer {
                id,
                request,
                response,
            }),
            Err(error) => self.on_error(id, request, error),
        }
    }

    /// The answers that change the phase are the router's; the rest go to the screens.
    fn on_response(&mut self, answer: Answer) {
        let lang = self.lang();
        match answer.response {
            Response::SetupStatus(status) => {
                self.phase = if status.needed {
                    Phase::Setup(SetupScreen::new(lang))
                } else {
                    Phase::Login(LoginScreen::new(lang, &self.last_username))
                };
            }
            Response::SetupDone(user) => {
                // The new Súper Administrador typed the password twice already: sign in
                // with it rather than asking a third time.
                let password = match &self.phase {
                    Phase::Setup(setup) => Some(SecretText::new(setup.form.text("password"))),
                    _ => None,
                };
                let mut login = LoginScreen::new(lang, &user.username);
                match password {
                    Some(password) => {
                        login.form.busy = true;
                        self.ctx.send(Request::Login {
                            username: user.username.clone(),
                            password,
                        });
                        self.ctx.toast(lang.t("Cuenta creada. Iniciando sesión…"));
                    }
                    None => self.ctx.toast(lang.t("Cuenta creada. Inicie sesión.")),
                }
                self.phase = Phase::Login(login);
            }
            Response::LoggedIn(login) => self.logged_in(login),
            Response::LoggedOut => self.logged_out(false),
            response => {
                if let Response::Account(account) = &response {
                    // The header shows it; the Cuenta screen takes it too.
                    self.account_name.clone_from(&account.name);
                }
                let answer = Answer { response, ..answer };
                if let Phase::Main(main) = &mut self.phase {
                    let answer = main.dashboard.on_response(&mut self.ctx, answer);
                    if let Some(answer) = answer {
                        main.settings.on_response(&mut self.ctx, answer);
                    }
                }
            }
        }
    }

    fn logged_in(&mut self, login: LoginResponse) {
        self.ctx.effects.push(Effect::Session(Some(login.token)));
        self.ctx
            .effects
            .push(Effect::RememberUser(login.user.username.clone()));
        self.ctx.user = Some(login.user);
        let mut main = Main {
            view: View::Dashboard,
            menu: None,
            dashboard: DashboardScreen::new(self.ctx.today),
            settings: Settings::new(self.lang()),
        };
        main.dashboard.refresh(&mut self.ctx);
        self.phase = Phase::Main(Box::new(main));
        self.ctx.send(Request::Account);
        self.ctx.send(Request::Groups);
        self.ctx.send(Request::Modules);
    }

    /// Back to Iniciar sesión with the username kept; `expired` says why.
    fn logged_out(&mut self, expired: bool) {
        let lang = self.lang();
        let username = self.ctx.user.take().map(|u| u.username).unwrap_or_default();
        self.ctx.effects.push(Effect::Session(None));
        self.phase = Phase::Login(if expired {
            LoginScreen::expired(lang, &username)
        } else {
            LoginScreen::new(lang, &username)
        });
    }

    fn on_error(&mut self, id: RequestId, request: Request, error: ClientError) {
        if error.status() == Some(401)
            && self.ctx.user.is_some()
            && !matches!(request, Request::Logout)
        {
            self.logged_out(true);
            return;
        }
        if let Request::Logout = request {
            // The session is gone either way.
            self.logged_out(false);
            return;
        }
        let shown = match &mut self.phase {
            Phase::Connecting => false,
            Phase::Setup(s) => s.on_error(&mut self.ctx, id, &request, &error),
            Phase::Login(s) => s.on_error(&mut self.ctx, id, &request, &error),
            Phase::Main(m) => {
                m.dashboard.on_error(&mut self.ctx, id, &request, &error)
                    || m.settings.on_error(&mut self.ctx, id, &request, &error)
            }
        };
        if !shown {
            self.failure = Some(Failure {
                message: error.to_string(),
                retry: Some(request),
            });
        }
    }
}

/// The signed-in console: the user menu first, then the current view.
fn main_command(main: &mut Main, ctx: &mut Context, command: Command) {
    if let Some(item) = main.menu {
        match command {
            Command::Up | Command::Down => main.menu = Some(item.other()),
            Command::Back => main.menu = None,
            Command::Enter => {
                main.menu = None;
                match item {
                    MenuItem::Settings => {
                        main.view = View::Settings;
                        main.settings.in_content = false;
                    }
                    MenuItem::Logout => {
                        ctx.send(Request::Logout);
                    }
                }
            }
            _ => {}
        }
        return;
    }
    let has_dialog = main.screen().dialog(ctx).is_some();
    if command == Command::Menu && !has_dialog {
        main.menu = Some(MenuItem::Settings);
        return;
    }
    match main.screen_mut().command(ctx, command) {
        Flow::Stay => {}
        Flow::Menu => main.menu = Some(MenuItem::Settings),
        // Leaving the sidebar goes back to the dashboard, with its figures brought up to date
        // (what was just created or deleted counts).
        Flow::Leave => {
            main.view = View::Dashboard;
            main.dashboard.refresh(ctx);
        }
    }
}
