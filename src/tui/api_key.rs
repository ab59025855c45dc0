//! Conexiones API ("CONEXIÓN API"): the tabs API Key and Consumidores OAuth, and the legacy
//! API Key tab itself.

use super::action::Command;
use super::api::Request;
use super::keymap::{Binding, bar, help};
use super::sanitize::clean;
use super::state::{Main, State, Then};
use crate::domain::secret::SecretText;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Tabs, Wrap};

impl State {
    pub(super) fn api_bindings(&self, main: &Main) -> Vec<Binding> {
        if main.api_tab == 1 {
            return self.consumers_bindings(main);
        }
        let mut keys = vec![
            bar(Command::Right, "Consumidores OAuth"),
            help(Command::Left, "Cambiar pestaña"),
            bar(Command::Copy, "Copiar API Key"),
        ];
        if self.is_super() {
            keys.push(bar(Command::Reveal, "Ver API Secret"));
            keys.push(bar(Command::Regenerate, "Regenerar"));
        }
        keys.push(help(Command::Refresh, "Actualizar"));
        keys
    }

    pub(super) fn api_command(&mut self, command: Command) {
        let lang = self.lang;
        let Some(main) = self.main_mut() else { return };
        if main.api_tab == 1 && !matches!(command, Command::Left)
            || main.consumers.filter_input.is_some()
        {
            self.consumers_command(command);
            return;
        }
        match command {
            Command::Left | Command::Right => {
                main.api_tab = 1 - main.api_tab.min(1);
            }
            Command::Back | Command::Prev => main.in_content = false,
            Command::Copy => {
                if let Some(key) = &main.api_key {
                    let key = SecretText::new(key.key.clone());
                    self.copy("API Key", key);
                }
            }
            Command::Reveal if self.is_super() => self.ask(
                lang.t("¿Mostrar el API Secret? Quedará registrado en el Log de Transacciones."),
                Then::RevealApiSecret,
            ),
            Command::Regenerate if self.is_super() => self.ask(
                lang.t("¿Regenerar la API Key? Las integraciones que usan la actual dejarán de funcionar."),
                Then::RegenerateApiKey,
            ),
            Command::Refresh => {
                self.send(Request::ApiKey);
            }
            _ => {}
        }
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, main: &Main) {
    let lang = state.lang;
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
    frame.render_widget(
        Tabs::new(vec![lang.t("API Key"), lang.t("Consumidores OAuth")])
            .select(main.api_tab)
            .highlight_style(
                Style::default()
                    .fg(Color::Cyan)
                    .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            ),
        tabs,
    );
    if main.api_tab == 1 {
        super::consumers::render(frame, body, state, main);
        return;
    }
    let key = main.api_key.as_ref().map_or_else(
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
    match (&main.api_secret, state.is_super()) {
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
