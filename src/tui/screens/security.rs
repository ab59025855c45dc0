//! Seguridad: the keys that sign JWT access tokens. Everyone signed in sees them (the JWKS
//! is public); the Súper Administrador rotates them, after a question.

use super::{Answer, Flow, Screen};
use crate::domain::oauth::SigningKeyInfo;
use crate::terminal::clean;
use crate::tui::action::Command;
use crate::tui::api::{Request, Response};
use crate::tui::context::{Context, Then};
use crate::tui::keymap::{Binding, bar, help};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Paragraph, Row, Table, Wrap};

#[derive(Default)]
pub struct SecurityScreen {
    /// The JWT signing keys, current first.
    pub signing_keys: Vec<SigningKeyInfo>,
}

impl Screen for SecurityScreen {
    fn bindings(&self, ctx: &Context) -> Vec<Binding> {
        let mut keys = Vec::new();
        if ctx.is_super() {
            keys.push(bar(Command::Rotate, "Rotar clave de firma"));
        }
        keys.push(help(Command::Refresh, "Actualizar"));
        keys
    }

    fn open(&mut self, ctx: &mut Context) {
        ctx.send(Request::SigningKeys);
    }

    fn command(&mut self, ctx: &mut Context, command: Command) -> Flow {
        let lang = ctx.lang;
        match command {
            Command::Back | Command::Prev => return Flow::Leave,
            Command::Refresh => {
                ctx.send(Request::SigningKeys);
            }
            Command::Rotate if ctx.is_super() => {
                let message = format!(
                    "{} {}",
                    lang.t("¿Rotar la clave de firma de los tokens JWT?"),
                    lang.t("Los tokens nuevos se firmarán con la nueva; los ya emitidos siguen válidos hasta vencer.")
                );
                ctx.ask(message, Then::Send(Request::RotateSigningKey));
            }
            _ => {}
        }
        Flow::Stay
    }

    fn on_response(&mut self, ctx: &mut Context, answer: Answer) -> Option<Answer> {
        match answer.response {
            Response::SigningKeys(keys) => self.signing_keys = keys,
            Response::SigningKeyRotated(keys) => {
                self.signing_keys = keys;
                ctx.toast(ctx.lang.t("Clave de firma rotada"));
            }
            _ => return Some(answer),
        }
        None
    }

    fn render(&self, frame: &mut Frame, area: Rect, ctx: &Context, _focused: bool) {
        render(frame, area, ctx, self);
    }
}

fn render(frame: &mut Frame, area: Rect, ctx: &Context, main: &SecurityScreen) {
    let lang = ctx.lang;
    let intro = [
        lang.t("Claves de firma de los tokens JWT (EdDSA), publicadas en /.well-known/jwks.json. La vigente firma los tokens nuevos; las anteriores solo verifican los que firmaron."),
        lang.t("Una clave anterior se conserva mientras puedan quedar tokens vigentes firmados con ella (y siempre las tres más recientes); un token firmado con una clave retirada deja de ser válido."),
    ];
    // Each paragraph wraps to about its width in characters over the area's, plus a blank.
    let width = usize::from(area.width.max(1));
    let height: usize = intro
        .iter()
        .map(|p| p.chars().count().div_ceil(width))
        .sum::<usize>()
        + 1;
    let [top, body] = Layout::vertical([
        Constraint::Length(u16::try_from(height).unwrap_or(u16::MAX)),
        Constraint::Min(0),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(intro.join("\n")).wrap(Wrap { trim: true }),
        top,
    );
    // Each algorithm has its own current key: the column tells the three "Vigente" apart.
    let rows = main.signing_keys.iter().map(|k| {
        Row::new(vec![
            clean(&k.kid).into_owned(),
            k.alg.as_str().to_string(),
            k.created_at.format("%Y-%m-%d %H:%M").to_string(),
            if k.current {
                lang.t("Vigente")
            } else {
                lang.t("Anterior")
            }
            .to_string(),
        ])
    });
    let header = Row::new(vec![
        lang.t("Clave (kid)"),
        lang.t("Algoritmo"),
        lang.t("Creada"),
        lang.t("Estado"),
    ])
    .style(Style::default().add_modifier(Modifier::BOLD));
    let widths = [
        Constraint::Length(18),
        Constraint::Length(9),
        Constraint::Length(16),
        Constraint::Min(8),
    ];
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(2),
        body,
    );
}
