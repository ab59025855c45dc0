//! Drawing: a pure function of the state. The header, the page, the key bar, the status bar,
//! and whatever floats above (modal, menu, confirmation, help, toast).

use super::action::Command;
use super::form::Form;
use super::keymap::bar_items;
use super::sanitize::clean;
use super::state::{MIN_SIZE, Main, Modal, Page, Phase, State};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

const SPINNER: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];

pub fn render(frame: &mut Frame, state: &State) {
    let area = frame.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        let text = format!(
            "{} ({}×{}). {} {}×{}.",
            state.lang.t("Terminal demasiado pequeña"),
            area.width,
            area.height,
            state.lang.t("Mínimo"),
            MIN_SIZE.0,
            MIN_SIZE.1
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
                state.lang.t("Conectando con el servidor…")
            } else {
                state.lang.t("Sin conexión con el servidor.")
            };
            frame.render_widget(Paragraph::new(text), centered(body, 50, 3));
        }
        Phase::Setup(form) => render_welcome(
            frame,
            body,
            state,
            state.lang.t("Configuración inicial"),
            state.lang.t("Cree la cuenta y su Súper Administrador."),
            form,
        ),
        Phase::Login(form) => {
            render_welcome(frame, body, state, state.lang.t("Iniciar sesión"), "", form)
        }
        Phase::Main(main) => render_main(frame, body, state, main),
    }
    if let Some(failure) = &state.failure {
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!(
                    "⚠ {} — F5 {}",
                    clean(&failure.message),
                    state.lang.t("reintenta")
                ),
                Style::default().fg(Color::White).bg(Color::Red),
            )),
            failure_area,
        );
    }
    render_keys(frame, keys, state);
    render_status(frame, status, state);
    if let Some(confirm) = &state.confirm {
        let popup = centered(area, 64, 7);
        frame.render_widget(Clear, popup);
        frame.render_widget(
            Paragraph::new(vec![
                Line::raw(clean(&confirm.message).into_owned()),
                Line::default(),
                Line::styled(
                    format!(
                        "Enter/s: {}    Esc/n: {}",
                        state.lang.t("Sí"),
                        state.lang.t("No")
                    ),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
            ])
            .wrap(Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(state.lang.t("Confirmar"))
                    .border_style(Style::default().fg(Color::Yellow)),
            ),
            popup,
        );
    }
    if state.help {
        render_help(frame, area, state);
    }
    if let Some((_, toast)) = &state.toast {
        let width = (toast.chars().count() as u16 + 4).min(area.width);
        // Inside the content's frame, above its bottom border and the two bottom bars.
        let popup = Rect {
            x: area.width.saturating_sub(width + 2),
            y: area.height.saturating_sub(6),
            width,
            height: 3.min(area.height),
        };
        frame.render_widget(Clear, popup);
        frame.render_widget(
            Paragraph::new(clean(toast).into_owned()).block(
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
        Phase::Main(main) if main.page == Page::Settings => state.lang.t("Configuración"),
        Phase::Main(_) => state.lang.t("Dashboard"),
        _ => "",
    };
    let right = state
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
    let items = bar_items(&bindings, state.lang);
    let help_keys = Command::Help.keys();
    let width = |(keys, label): &(&str, &str)| keys.width() + label.width() + 5;
    let help = items.iter().find(|(keys, _)| *keys == help_keys).copied();
    let mut room = usize::from(area.width).saturating_sub(help.as_ref().map_or(0, width));
    let mut shown = Vec::new();
    for item in items.iter().filter(|(keys, _)| *keys != help_keys) {
        let w = width(item);
        if w <= room {
            room -= w;
            shown.push(*item);
        }
    }
    shown.extend(help);
    let mut spans = Vec::new();
    for (keys, label) in shown {
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
    let user = match &state.user {
        Some(u) => format!(" {} · {} ", clean(&u.username), state.lang.role(u.role)),
        None => format!(" {} ", state.lang.t("Sin sesión")),
    };
    let busy = if state.busy() {
        format!(
            "{} {} ",
            SPINNER[state.spinner % SPINNER.len()],
            state.lang.t("Cargando…")
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

fn render_welcome(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    title: &str,
    subtitle: &str,
    form: &Form,
) {
    let height =
        (form.fields.len() as u16 + 6 + if form.error.is_some() { 2 } else { 0 }).min(area.height);
    let popup = centered(area, 76, height + 4);
    let block = Block::default().borders(Borders::ALL).title(Line::styled(
        format!(" {title} "),
        Style::default().add_modifier(Modifier::BOLD),
    ));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [sub, rest] = Layout::vertical([
        Constraint::Length(u16::from(!subtitle.is_empty()) * 2),
        Constraint::Min(0),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(subtitle), sub);
    super::form::render(frame, rest, form, state.lang, true);
}

fn render_main(frame: &mut Frame, area: Rect, state: &State, main: &Main) {
    match main.page {
        Page::Dashboard => {
            let inner = Rect {
                x: area.x + 1,
                width: area.width.saturating_sub(2),
                ..area
            };
            super::dashboard::render(frame, inner, state, &main.dashboard);
        }
        Page::Settings => super::settings::render(frame, area, state, main),
    }
    if let Some(modal) = &main.modal {
        render_modal(frame, area, state, modal);
    }
    if let Some(index) = main.menu {
        let width = 24;
        let popup = Rect {
            x: area.width.saturating_sub(width + 1),
            y: area.y,
            width,
            height: 4.min(area.height),
        };
        frame.render_widget(Clear, popup);
        let items = [state.lang.t("Configuración"), state.lang.t("Cerrar sesión")];
        let lines: Vec<Line> = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let style = if i == index {
                    Style::default().add_modifier(Modifier::REVERSED)
                } else {
                    Style::default()
                };
                Line::styled(format!(" {item}"), style)
            })
            .collect();
        frame.render_widget(
            Paragraph::new(lines).block(Block::default().borders(Borders::ALL)),
            popup,
        );
    }
}

fn render_modal(frame: &mut Frame, area: Rect, state: &State, modal: &Modal) {
    let lang = state.lang;
    let (title, notice) = match modal {
        Modal::Consumer(m) if m.created => (
            lang.t("Nuevo(a) Cliente OAuth"),
            Some(lang.t("Guarde el secreto ahora: no se volverá a mostrar.")),
        ),
        Modal::Consumer(m) if m.editing.is_some() => (lang.t("Editar Cliente OAuth"), None),
        Modal::Consumer(_) => (lang.t("Nuevo(a) Cliente OAuth"), None),
        Modal::Rotate(_) => (lang.t("Rotar secreto"), None),
        Modal::Detail(_) => (lang.t("Cliente OAuth"), None),
        Modal::Secret(_) => (
            lang.t("Secreto nuevo"),
            Some(lang.t("Guarde el secreto ahora: no se volverá a mostrar.")),
        ),
        Modal::User(m) if m.editing.is_some() => (lang.t("Editar usuario"), None),
        Modal::User(_) => (lang.t("Nuevo usuario"), None),
        Modal::Group(m) if m.editing.is_some() => (lang.t("Editar grupo de permisos"), None),
        Modal::Group(_) => (lang.t("Nuevo grupo de permisos"), None),
        Modal::AuditFilter(_) => (lang.t("Filtrar Log de Transacciones"), None),
    };
    let name = match modal {
        Modal::Rotate(m) => Some(format!("{} «{}»", lang.t("Consumidor"), clean(&m.name))),
        _ => None,
    };
    let form = modal.form();
    let rows: u16 = form.fields.iter().filter(|f| !f.hidden).map(|f| match &f.kind {
        super::form::Kind::Matrix(m) => m.rows.len() as u16 + 2,
        super::form::Kind::Heading => 2,
        _ => 1,
    } + u16::from(f.error.is_some())).sum::<u16>()
        + if form.error.is_some() { 2 } else { 0 }
        // A heading first has no blank line above it (see form::render).
        - u16::from(form.fields.iter().find(|f| !f.hidden).is_some_and(|f| matches!(f.kind, super::form::Kind::Heading)));
    let extra = u16::from(notice.is_some()) * 2 + u16::from(name.is_some()) * 2;
    let popup = centered(area, 100, rows + extra + 2);
    frame.render_widget(Clear, popup);
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(Style::default().fg(Color::Cyan))
        .title(Line::styled(
            format!(" {title} "),
            Style::default().add_modifier(Modifier::BOLD),
        ));
    if form.busy {
        block =
            block.title_bottom(Line::raw(format!(" {} ", lang.t("Guardando…"))).right_aligned());
    }
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [top, rest] =
        Layout::vertical([Constraint::Length(extra), Constraint::Min(0)]).areas(inner);
    let mut lines = Vec::new();
    if let Some(name) = name {
        lines.push(Line::raw(name));
        lines.push(Line::default());
    }
    if let Some(notice) = notice {
        lines.push(Line::styled(
            format!("⚠ {notice}"),
            Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
        ));
        lines.push(Line::default());
    }
    frame.render_widget(Paragraph::new(lines), top);
    super::form::render(frame, rest, form, lang, true);
}

fn render_help(frame: &mut Frame, area: Rect, state: &State) {
    // The help lists what the screen under it binds.
    let under = State::bindings_without_help(state);
    let lines: Vec<Line> = under
        .iter()
        .map(|b| {
            Line::from(vec![
                Span::styled(
                    format!(" {:<12}", b.command.keys()),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::raw(state.lang.t(b.label)),
            ])
        })
        .collect();
    let popup = centered(area, 60, lines.len() as u16 + 2);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(format!(
            " {} ",
            state.lang.t("Ayuda: teclas de esta pantalla")
        ))),
        popup,
    );
}

/// A rectangle of at most `width`×`height` in the middle of `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}
