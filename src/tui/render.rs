//! Drawing: a pure function of the state. The header, the page, the key bar, the status bar,
//! and whatever floats above (modal, menu, confirmation, help, toast).

use super::action::Command;
use super::dialog::centered;
use super::keymap::bar_items;
use super::mouse::Target;
use super::screens::Screen;
use super::state::{MIN_SIZE, Main, MenuItem, Phase, State, View};
use crate::terminal::clean;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

const SPINNER: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];

/// Draws the console, then fits the frame to the terminal's look (colours, charset).
pub fn render(frame: &mut Frame, state: &State) {
    // Drawing maps what can be clicked anew.
    state.ctx.hits.clear();
    draw(frame, state);
    state.ctx.look.apply(frame.buffer_mut());
}

fn draw(frame: &mut Frame, state: &State) {
    let area = frame.area();
    let lang = state.lang();
    let ctx = &state.ctx;
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        let size = |w: u16, h: u16| format!("{w}×{h}");
        let text = lang.fill(
            "Terminal demasiado pequeña ({}). Mínimo {}.",
            &[
                &size(area.width, area.height),
                &size(MIN_SIZE.0, MIN_SIZE.1),
            ],
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let [header, body, failure_area, keys, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(u16::from(state.failure.is_some())),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    render_header(frame, header, state);
    match &state.phase {
        Phase::Connecting => {
            let text = if state.busy() {
                lang.t("Conectando con el servidor…")
            } else {
                lang.t("Sin conexión con el servidor.")
            };
            frame.render_widget(Paragraph::new(text), centered(body, 50, 3));
        }
        Phase::Setup(screen) => screen.render(frame, body, ctx, true),
        Phase::Login(screen) => screen.render(frame, body, ctx, true),
        Phase::Main(main) => render_main(frame, body, state, main),
    }
    if let Some(failure) = &state.failure {
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!(
                    "⚠ {}",
                    lang.fill("{} — F5 reintenta", &[&clean(&failure.message)])
                ),
                Style::default().fg(Color::White).bg(Color::Red),
            )),
            failure_area,
        );
    }
    render_keys(frame, keys, state);
    render_status(frame, status, state);
    if let Some(confirm) = &ctx.question {
        let popup = centered(area, 64, 7);
        frame.render_widget(Clear, popup);
        // Answered with the keys only: a stray click must not say yes.
        ctx.hits.modal();
        frame.render_widget(
            Paragraph::new(vec![
                Line::raw(clean(&confirm.message).into_owned()),
                Line::default(),
                Line::styled(
                    format!(
                        "{}: {}    {}: {}",
                        Command::Yes.keys(),
                        lang.t("Sí"),
                        Command::No.keys(),
                        lang.t("No")
                    ),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
            ])
            .wrap(Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(lang.t("Confirmar"))
                    .border_style(Style::default().fg(Color::Yellow)),
            ),
            popup,
        );
    }
    if state.help {
        ctx.hits.modal();
        render_help(frame, area, state);
    }
    if let Some((_, toast)) = &ctx.toast {
        // One line when it fits, else wrapped: a toast is read whole.
        let text = clean(toast).into_owned();
        let room = usize::from(area.width.saturating_sub(8)).max(1);
        let lines = super::fit::wrap(&text, room);
        let widest = lines.iter().map(|l| l.width()).max().unwrap_or(0);
        let width = (widest as u16 + 4).min(area.width);
        let height = (lines.len() as u16 + 2).min(area.height);
        // Inside the content's frame, above its bottom border and the two bottom bars.
        let popup = Rect {
            x: area.width.saturating_sub(width + 2),
            y: area.height.saturating_sub(height + 3),
            width,
            height,
        };
        frame.render_widget(Clear, popup);
        frame.render_widget(
            Paragraph::new(lines.join("\n")).block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(Style::default().fg(Color::Green)),
            ),
            popup,
        );
    }
}

fn render_header(frame: &mut Frame, area: Rect, state: &State) {
    let style = Style::default().bg(Color::Blue).fg(Color::White);
    let left = if state.account_name.is_empty() {
        "consola".to_string()
    } else {
        clean(&state.account_name).into_owned()
    };
    let page = match &state.phase {
        Phase::Main(main) if main.view == View::Settings => state.lang().t("Configuración"),
        Phase::Main(_) => state.lang().t("Dashboard"),
        _ => "",
    };
    let right = state
        .ctx
        .user
        .as_ref()
        .map(|u| format!("{} ▾ (m) ", clean(&u.display_name)))
        .unwrap_or_default();
    let [l, r] = Layout::horizontal([
        Constraint::Min(0),
        Constraint::Length(right.chars().count() as u16),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!(" {left} "), style.add_modifier(Modifier::BOLD)),
            Span::styled(
                if page.is_empty() {
                    String::new()
                } else {
                    format!("· {page}")
                },
                style,
            ),
        ]))
        .style(style),
        l,
    );
    frame.render_widget(
        Paragraph::new(right).style(style.add_modifier(Modifier::BOLD)),
        r,
    );
}

/// The key bar: the screen's bar keys in their order (most important first), as many as fit
/// whole, always ending with the help key, which lists the rest.
fn render_keys(frame: &mut Frame, area: Rect, state: &State) {
    let bindings = state.bindings();
    let items = bar_items(&bindings, state.lang(), !state.text_focus());
    let width = |(_, keys, label): &(Command, String, &str)| keys.width() + label.width() + 5;
    let help = items.iter().find(|(c, _, _)| *c == Command::Help).cloned();
    let mut room = usize::from(area.width).saturating_sub(help.as_ref().map_or(0, width));
    let mut shown = Vec::new();
    for item in items.iter().filter(|(c, _, _)| *c != Command::Help) {
        let w = width(item);
        if w <= room {
            room -= w;
            shown.push(item.clone());
        }
    }
    shown.extend(help);
    let mut spans = Vec::new();
    let mut x = area.x;
    for (command, keys, label) in shown {
        // Each key of the bar is a button.
        let w = (keys.width() + label.width() + 5) as u16;
        let button = Rect::new(x, area.y, w, 1).intersection(area);
        state.ctx.hits.add(button, Target::Commands(vec![command]));
        x = x.saturating_add(w);
        spans.push(Span::styled(
            format!(" {keys} "),
            Style::default().add_modifier(Modifier::REVERSED),
        ));
        spans.push(Span::raw(format!(" {label}  ")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn render_status(frame: &mut Frame, area: Rect, state: &State) {
    let style = Style::default().bg(Color::DarkGray).fg(Color::White);
    let lang = state.lang();
    let user = match &state.ctx.user {
        Some(u) => format!(" {} · {} ", clean(&u.username), lang.role(u.role)),
        None => format!(" {} ", lang.t("Sin sesión")),
    };
    let busy = if state.busy() {
        format!(
            "{} {} ",
            SPINNER[state.spinner % SPINNER.len()],
            lang.t("Cargando…")
        )
    } else {
        String::new()
    };
    let [l, r] = Layout::horizontal([
        Constraint::Min(0),
        Constraint::Length(busy.chars().count() as u16),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(format!("{user}│ API {} ", clean(&state.api_url))).style(style),
        l,
    );
    frame.render_widget(Paragraph::new(busy).style(style.fg(Color::Yellow)), r);
}

fn render_main(frame: &mut Frame, area: Rect, state: &State, main: &Main) {
    let ctx = &state.ctx;
    match main.view {
        View::Dashboard => {
            let inner = Rect {
                x: area.x + 1,
                width: area.width.saturating_sub(2),
                ..area
            };
            main.dashboard.render(frame, inner, ctx, true);
        }
        View::Settings => main.settings.render(frame, area, ctx, true),
    }
    if let Some(dialog) = main.screen().dialog(ctx) {
        // A tall dialog may cover the header too.
        let room = Rect {
            y: 0,
            height: area.bottom(),
            ..area
        };
        super::dialog::render(frame, area, room, ctx.lang, &ctx.hits, &dialog);
    }
    if let Some(open) = main.menu {
        let width = 24;
        let popup = Rect {
            x: area.width.saturating_sub(width + 1),
            y: area.y,
            width,
            height: 4.min(area.height),
        };
        frame.render_widget(Clear, popup);
        ctx.hits.modal();
        for (i, item) in MenuItem::ALL.iter().enumerate() {
            let line = Rect::new(popup.x + 1, popup.y + 1 + i as u16, width - 2, 1);
            let commands = if *item == open {
                vec![Command::Enter]
            } else {
                vec![Command::Down, Command::Enter]
            };
            ctx.hits
                .add(line.intersection(popup), Target::Commands(commands));
        }
        let lines: Vec<Line> = MenuItem::ALL
            .iter()
            .map(|item| {
                let style = if *item == open {
                    Style::default().add_modifier(Modifier::REVERSED)
                } else {
                    Style::default()
                };
                Line::styled(format!(" {}", ctx.lang.t(item.label())), style)
            })
            .collect();
        frame.render_widget(
            Paragraph::new(lines).block(Block::default().borders(Borders::ALL)),
            popup,
        );
    }
}

fn render_help(frame: &mut Frame, area: Rect, state: &State) {
    // The help lists what the screen under it binds, with the keys that work there now: in a
    // text input the letters type, so only the other keys are listed.
    let under = State::bindings_without_help(state);
    let letters = state.ctx.question.is_some()
        || !state
            .active_form()
            .is_some_and(super::form::Form::focus_is_text);
    // Commands that do the same ("Mover" up and down) share a line, so the help of a busy
    // screen still fits 24 rows.
    let mut entries: Vec<(String, &'static str)> = Vec::new();
    for b in &under {
        let keys = b.command.help_keys_now(letters);
        if keys.is_empty() {
            continue;
        }
        match entries.iter_mut().find(|(_, label)| *label == b.label) {
            Some((shown, _)) => {
                shown.push(' ');
                shown.push_str(&keys);
            }
            None => entries.push((keys, b.label)),
        }
    }
    let column = entries
        .iter()
        .map(|(keys, _)| keys.width() + 1)
        .max()
        .unwrap_or(0)
        .max(12);
    let lines: Vec<Line> = entries
        .iter()
        .map(|(keys, label)| {
            Line::from(vec![
                Span::styled(
                    format!(" {keys:<column$}"),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::raw(state.lang().t(label)),
            ])
        })
        .collect();
    let popup = centered(area, 60, lines.len() as u16 + 2);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(format!(
            " {} ",
            state.lang().t("Ayuda: teclas de esta pantalla")
        ))),
        popup,
    );
}
