//! Conexiones API ("CONEXIÓN API"): the tabs API Key, Consumidores OAuth and Recursos
//! protegidos, and the legacy API Key tab itself.

use super::consumers::ConsumersScreen;
use super::resources::ResourcesScreen;
use super::{Answer, Flow, Screen};
use crate::client::ClientError;
use crate::domain::ApiKey;
use crate::domain::secret::SecretText;
use crate::terminal::clean;
use crate::tui::action::Command;
use crate::tui::api::{Request, RequestId, Response};
use crate::tui::context::{Context, Then};
use crate::tui::dialog::Dialog;
use crate::tui::form::Form;
use crate::tui::keymap::{Binding, bar, help};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Tabs, Wrap};

/// The three tabs, in their order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ApiTab {
    #[default]
    ApiKey,
    Consumers,
    Resources,
}

impl ApiTab {
    pub const ALL: [ApiTab; 3] = [ApiTab::ApiKey, ApiTab::Consumers, ApiTab::Resources];

    /// The tab's title (Spanish source text).
    pub fn label(self) -> &'static str {
        match self {
            ApiTab::ApiKey => "API Key",
            ApiTab::Consumers => "Consumidores OAuth",
            ApiTab::Resources => "Recursos protegidos",
        }
    }

    /// The tab `by` steps away, round the ends.
    fn step(self, by: isize) -> ApiTab {
        let n = ApiTab::ALL.len() as isize;
        ApiTab::ALL[(self as isize + by).rem_euclid(n) as usize]
    }
}

#[derive(Default)]
pub struct ApiKeyScreen {
    pub tab: ApiTab,
    pub key: Option<ApiKey>,
    /// Shown once asked for (and recorded in the log).
    pub secret: Option<SecretText>,
    pub consumers: ConsumersScreen,
    pub resources: ResourcesScreen,
}

impl ApiKeyScreen {
    /// The screen of the current tab; `None` on the API Key tab, which is this one's own.
    fn tab_screen(&self) -> Option<&dyn Screen> {
        match self.tab {
            ApiTab::ApiKey => None,
            ApiTab::Consumers => Some(&self.consumers),
            ApiTab::Resources => Some(&self.resources),
        }
    }

    fn tab_screen_mut(&mut self) -> Option<&mut dyn Screen> {
        match self.tab {
            ApiTab::ApiKey => None,
            ApiTab::Consumers => Some(&mut self.consumers),
            ApiTab::Resources => Some(&mut self.resources),
        }
    }

    /// Shows the tab `by` steps away; Recursos protegidos loads the first time it shows.
    fn switch(&mut self, ctx: &mut Context, by: isize) {
        self.tab = self.tab.step(by);
        if self.tab == ApiTab::Resources && !self.resources.loaded {
            self.resources.open(ctx);
        }
    }
}

impl Screen for ApiKeyScreen {
    fn bindings(&self, ctx: &Context) -> Vec<Binding> {
        if let Some(screen) = self.tab_screen() {
            return screen.bindings(ctx);
        }
        let mut keys = vec![
            bar(Command::Right, "Consumidores OAuth"),
            help(Command::Left, "Cambiar pestaña"),
            bar(Command::Copy, "Copiar API Key"),
        ];
        if ctx.is_super() {
            keys.push(bar(Command::Reveal, "Ver API Secret"));
            keys.push(bar(Command::Regenerate, "Regenerar"));
        }
        keys.push(help(Command::Refresh, "Actualizar"));
        keys
    }

    fn open(&mut self, ctx: &mut Context) {
        ctx.send(Request::ApiKey);
        self.consumers.open(ctx);
        if self.tab == ApiTab::Resources {
            self.resources.open(ctx);
        }
    }

    fn command(&mut self, ctx: &mut Context, command: Command) -> Flow {
        let lang = ctx.lang;
        let switch = matches!(command, Command::Left | Command::Right);
        if let Some(screen) = self.tab_screen_mut()
            && (!switch || screen.holds_keys())
        {
            return screen.command(ctx, command);
        }
        match command {
            Command::Left => self.switch(ctx, -1),
            Command::Right => self.switch(ctx, 1),
            Command::Back | Command::Prev => return Flow::Leave,
            Command::Copy => {
                if let Some(key) = &self.key {
                    ctx.copy("API Key", SecretText::new(key.key.clone()));
                }
            }
            Command::Reveal if ctx.is_super() => ctx.ask(
                lang.t("¿Mostrar el API Secret? Quedará registrado en el Log de Transacciones."),
                Then::Send(Request::ApiKeySecret),
            ),
            Command::Regenerate if ctx.is_super() => ctx.ask(
                lang.t("¿Regenerar la API Key? Las integraciones que usan la actual dejarán de funcionar."),
                Then::Send(Request::RegenerateApiKey),
            ),
            Command::Refresh => {
                ctx.send(Request::ApiKey);
            }
            _ => {}
        }
        Flow::Stay
    }

    fn dialog(&self, ctx: &Context) -> Option<Dialog<'_>> {
        self.tab_screen()?.dialog(ctx)
    }

    fn form(&self) -> Option<&Form> {
        self.tab_screen()?.form()
    }

    fn form_mut(&mut self) -> Option<&mut Form> {
        self.tab_screen_mut()?.form_mut()
    }

    fn edited(&mut self) {
        if let Some(screen) = self.tab_screen_mut() {
            screen.edited();
        }
    }

    fn on_response(&mut self, ctx: &mut Context, answer: Answer) -> Option<Answer> {
        match answer.response {
            Response::ApiKey(key) => self.key = Some(key),
            Response::ApiKeySecret(secret) => {
                self.key = Some(ApiKey {
                    key: secret.key,
                    created_at: secret.created_at,
                });
                self.secret = Some(secret.secret);
                if matches!(answer.request, Request::RegenerateApiKey) {
                    ctx.toast(ctx.lang.t("API Key regenerada"));
                }
            }
            _ => {
                let answer = self.consumers.on_response(ctx, answer)?;
                return self.resources.on_response(ctx, answer);
            }
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
        // Both hear of it (the consumer pager stops waiting); either may show it.
        let consumers = self.consumers.on_error(ctx, id, request, error);
        let resources = self.resources.on_error(ctx, id, request, error);
        consumers || resources
    }

    fn dirty(&self) -> bool {
        self.consumers.dirty() || self.resources.dirty()
    }

    fn discard(&mut self) -> Flow {
        match self.tab_screen_mut() {
            Some(screen) => screen.discard(),
            None => Flow::Stay,
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, ctx: &Context, focused: bool) {
        render(frame, area, ctx, self, focused);
    }
}

fn render(frame: &mut Frame, area: Rect, ctx: &Context, main: &ApiKeyScreen, focused: bool) {
    let lang = ctx.lang;
    let [title, tabs, body] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Min(0),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(Line::styled(
            lang.t("CONEXIÓN API"),
            Style::default().add_modifier(Modifier::BOLD),
        )),
        title,
    );
    let titles: Vec<&str> = ApiTab::ALL.iter().map(|t| lang.t(t.label())).collect();
    frame.render_widget(
        Tabs::new(titles.clone())
            .select(main.tab as usize)
            .highlight_style(
                Style::default()
                    .fg(Color::Cyan)
                    .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            ),
        tabs,
    );
    crate::tui::mouse::tabs(&ctx.hits, tabs, &titles, main.tab as usize);
    if let Some(screen) = main.tab_screen() {
        screen.render(frame, body, ctx, focused);
        return;
    }
    let key = main.key.as_ref().map_or_else(
        || lang.t("Cargando…").to_string(),
        |k| clean(&k.key).into_owned(),
    );
    let mut lines = vec![
        Line::from(vec![
            Span::styled(
                format!("{}: ", lang.t("API Key")),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::raw(key),
        ]),
        Line::default(),
        Line::styled(
            format!(
                "⚠ {}",
                lang.t("Método de autenticación deprecado, te invitamos a usar OAuth2")
            ),
            Style::default().fg(Color::Yellow),
        ),
        Line::default(),
    ];
    match (&main.secret, ctx.is_super()) {
        (Some(secret), true) => lines.push(Line::from(vec![
            Span::styled(
                format!("{}: ", lang.t("API Secret")),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                clean(secret.expose()).into_owned(),
                Style::default().fg(Color::Yellow),
            ),
        ])),
        (None, true) => lines.push(Line::from(vec![
            Span::styled(
                format!("[ {} ]", lang.t("Ver API Secret")),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!("  (v)   [ {} ]  (g)", lang.t("Regenerar"))),
        ])),
        _ => {}
    }
    lines.push(Line::styled(
        lang.t("Solo el Súper Administrador puede acceder al API Secret"),
        Style::default().fg(Color::DarkGray),
    ));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
}
