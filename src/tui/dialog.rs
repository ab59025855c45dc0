//! A dialog over the content: a titled frame around a form, sized to its fields, with an
//! optional line naming what it is about and a warning; and the same frame alone on the
//! screens before signing in.

use super::form::Form;
use super::i18n::Lang;
use super::mouse::HitMap;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// What a screen's open dialog shows (translated already).
pub struct Dialog<'a> {
    pub title: &'static str,
    /// What the dialog is about ("Consumidor «ERP»").
    pub name: Option<String>,
    /// A warning above the form.
    pub notice: Option<&'static str>,
    pub form: &'a Form,
}

impl<'a> Dialog<'a> {
    pub fn new(title: &'static str, form: &'a Form) -> Dialog<'a> {
        Dialog {
            title,
            name: None,
            notice: None,
            form,
        }
    }
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

/// A line across a table just under its header (an empty table saying what to press).
pub fn under_header(frame: &mut Frame, table: Rect, text: Option<&str>) {
    if let Some(text) = text
        && table.height > 1
    {
        let line = Rect {
            y: table.y + 1,
            height: 1,
            ..table
        };
        frame.render_widget(Paragraph::new(text.to_string()), line);
    }
}

/// Draws `dialog` in the middle of `area`, or of `room` (more of the screen, the header
/// included) when it is taller than `area`, so its buttons always show.
pub fn render(
    frame: &mut Frame,
    area: Rect,
    room: Rect,
    lang: Lang,
    hits: &HitMap,
    dialog: &Dialog,
) {
    let form = dialog.form;
    // As tall as the form's lines at the popup's inner width, so its buttons always show.
    let width = area.width.min(100);
    let rows = super::form::lines(form, width.saturating_sub(2), lang, true)
        .0
        .len();
    let rows = u16::try_from(rows).unwrap_or(u16::MAX);
    let extra = u16::from(dialog.notice.is_some()) * 2 + u16::from(dialog.name.is_some()) * 2;
    let height = rows.saturating_add(extra + 2);
    let popup = centered(
        if height > area.height { room } else { area },
        width,
        height,
    );
    frame.render_widget(Clear, popup);
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(Style::default().fg(Color::Cyan))
        .title(Line::styled(
            format!(" {} ", dialog.title),
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
    if let Some(name) = &dialog.name {
        lines.push(Line::raw(name.clone()));
        lines.push(Line::default());
    }
    if let Some(notice) = dialog.notice {
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
    // A dialog is modal: only its own fields can be clicked.
    hits.modal();
    super::form::clickable(hits, rest, form, lang);
}

/// The frame of the screens before signing in: a title, a line under it, the form.
pub fn welcome(
    frame: &mut Frame,
    area: Rect,
    lang: Lang,
    hits: &HitMap,
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
    super::form::render(frame, rest, form, lang, true);
    super::form::clickable(hits, rest, form, lang);
}
