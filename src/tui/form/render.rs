//! Drawing a form: labels in a column, the inputs beside them, errors under their field,
//! scrolled so the focused field shows.

use super::model::{Form, Kind, LABEL_WIDTH};
use crate::terminal::clean;
use crate::tui::fit::{fit, wrap};
use crate::tui::i18n::Lang;
use crate::tui::mouse::{HitMap, Target};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui_textarea::TextArea;
use unicode_width::UnicodeWidthChar;
use unicode_width::UnicodeWidthStr;

/// Draws a form into `area`, scrolled so the focused field is visible.
pub fn render(frame: &mut Frame, area: Rect, form: &Form, lang: Lang, focused: bool) {
    let (lines, focus_line) = lines(form, area.width, lang, focused);
    let height = area.height as usize;
    let offset = (focus_line + 2).saturating_sub(height);
    frame.render_widget(
        Paragraph::new(lines).scroll((u16::try_from(offset).unwrap_or(u16::MAX), 0)),
        area,
    );
}

/// Maps the fields `render` drew into `area` for clicks (see `mouse`).
pub fn clickable(hits: &HitMap, area: Rect, form: &Form, lang: Lang) {
    let (_, focus_line, owners) = layout(form, area.width, lang, true);
    let offset = (focus_line + 2).saturating_sub(area.height as usize);
    for (row, owner) in owners.iter().skip(offset).enumerate() {
        if row >= area.height as usize {
            break;
        }
        if let Some(index) = owner {
            let line = Rect::new(area.x, area.y + row as u16, area.width, 1);
            hits.add(line, Target::Field(*index));
        }
    }
}

/// The lines a form takes at `width` columns (a dialog is as tall as these), and the line of
/// the focused field. Errors and notes wrap rather than being cut.
pub fn lines(form: &Form, width: u16, lang: Lang, focused: bool) -> (Vec<Line<'static>>, usize) {
    let (lines, focus_line, _) = layout(form, width, lang, focused);
    (lines, focus_line)
}

/// `lines`, and which field each line belongs to.
fn layout(
    form: &Form,
    width: u16,
    lang: Lang,
    focused: bool,
) -> (Vec<Line<'static>>, usize, Vec<Option<usize>>) {
    let area = Rect::new(0, 0, width, 1);
    let mut lines: Vec<Line> = Vec::new();
    let mut focus_line = 0usize;
    let input_width = area.width.saturating_sub(LABEL_WIDTH + 1) as usize;
    if let Some(error) = &form.error {
        for line in wrap(&format!("⚠ {}", clean(error)), usize::from(width)) {
            lines.push(Line::styled(line, Style::default().fg(Color::Red)));
        }
        lines.push(Line::default());
    }
    let mut owners: Vec<Option<usize>> = vec![None; lines.len()];
    for (i, field) in form.fields.iter().enumerate() {
        if field.hidden {
            continue;
        }
        owners.resize(lines.len(), None);
        let has_focus = focused && i == form.focus;
        if has_focus {
            focus_line = lines.len();
        }
        let label_style = if has_focus {
            Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default()
        };
        let label = Span::styled(
            pad(
                &format!("{} ", if has_focus { "›" } else { " " }),
                &field.label,
                LABEL_WIDTH as usize,
            ),
            label_style,
        );
        match &field.kind {
            Kind::Heading => {
                // A blank line sets the heading apart, unless one is already there.
                if lines.last().is_some_and(|l| l.width() > 0) {
                    lines.push(Line::default());
                }
                lines.push(Line::styled(
                    field.label.clone(),
                    Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                ));
            }
            Kind::Note => {
                for line in wrap(&field.label, usize::from(width.saturating_sub(2))) {
                    lines.push(Line::styled(
                        format!("  {line}"),
                        Style::default().add_modifier(Modifier::DIM),
                    ));
                }
            }
            Kind::Text { area: text, masked } => {
                let mut spans = vec![label];
                spans.extend(text_spans(text, *masked, has_focus, input_width));
                lines.push(Line::from(spans));
            }
            Kind::Select { options, index } => {
                let value = options
                    .get(*index)
                    .map(|s| clean(s).into_owned())
                    .unwrap_or_else(|| lang.t("(sin opciones)").to_string());
                let style = focus_style(has_focus);
                lines.push(Line::from(vec![
                    label,
                    Span::styled(format!("◀ {value} ▶"), style),
                ]));
            }
            Kind::Checkbox(checked) => {
                let mark = if *checked { "[x]" } else { "[ ]" };
                lines.push(Line::from(vec![
                    label,
                    Span::styled(mark, focus_style(has_focus)),
                ]));
            }
            Kind::Copy { value, secret } => {
                let shown = match value {
                    Some(v) => clean(v.expose()).into_owned(),
                    None => lang.t("(se genera al guardar)").to_string(),
                };
                let style = if *secret {
                    focus_style(has_focus).fg(Color::Yellow)
                } else {
                    focus_style(has_focus)
                };
                let copy_icon = Span::styled("⎘", Style::default().fg(Color::Cyan));
                let fits = LABEL_WIDTH as usize + UnicodeWidthStr::width(shown.as_str()) + 2
                    <= area.width as usize;
                if fits {
                    lines.push(Line::from(vec![
                        label,
                        Span::styled(shown, style),
                        Span::raw(" "),
                        copy_icon,
                    ]));
                } else {
                    // A secret is shown once: never cut it, give it a line of its own.
                    lines.push(Line::from(vec![label, copy_icon]));
                    lines.push(Line::from(vec![
                        Span::raw("    "),
                        Span::styled(shown, style),
                    ]));
                }
            }
            Kind::Button => {
                let text = format!("[ {} ]", field.label);
                let style = if has_focus {
                    Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
                } else {
                    Style::default().add_modifier(Modifier::BOLD)
                };
                lines.push(Line::from(vec![
                    Span::raw(" ".repeat(LABEL_WIDTH as usize)),
                    Span::styled(text, style),
                ]));
            }
            Kind::Matrix(m) => {
                lines.push(Line::from(label));
                // Module names are shorter than field labels; each action column is as wide
                // as its header, so "Generar reportes" shows whole even at 80 columns.
                let row_label = m
                    .rows
                    .iter()
                    .map(|(_, name)| UnicodeWidthStr::width(name.as_str()))
                    .max()
                    .unwrap_or(0)
                    + 3;
                let widths: Vec<usize> = m
                    .columns
                    .iter()
                    .map(|c| UnicodeWidthStr::width(c.as_str()).max(3) + 2)
                    .collect();
                let mut header = vec![Span::raw(" ".repeat(row_label))];
                for (column, width) in m.columns.iter().zip(&widths) {
                    header.push(Span::styled(
                        pad("", column, *width),
                        Style::default().add_modifier(Modifier::BOLD),
                    ));
                }
                lines.push(Line::from(header));
                for (r, (_, name)) in m.rows.iter().enumerate() {
                    if has_focus && r == m.cursor.0 {
                        focus_line = lines.len();
                    }
                    let mut spans = vec![Span::raw(pad("  ", &clean(name), row_label))];
                    for c in 0..m.columns.len() {
                        let on = m
                            .checked
                            .get(r)
                            .and_then(|row| row.get(c))
                            .copied()
                            .unwrap_or(false);
                        let cell = if on { "[x]" } else { "[ ]" };
                        let style = focus_style(has_focus && m.cursor == (r, c));
                        spans.push(Span::styled(cell, style));
                        let gap = widths.get(c).copied().unwrap_or(10).saturating_sub(3);
                        spans.push(Span::raw(" ".repeat(gap)));
                    }
                    lines.push(Line::from(spans));
                }
            }
        }
        if let Some(error) = &field.error {
            for line in wrap(&format!("⚠ {}", clean(error)), input_width) {
                lines.push(Line::from(vec![
                    Span::raw(" ".repeat(LABEL_WIDTH as usize)),
                    Span::styled(line, Style::default().fg(Color::Red)),
                ]));
            }
        }
        // The lines this field added are its own (headings and notes are not clickable).
        let owner = (!matches!(field.kind, Kind::Heading | Kind::Note)).then_some(i);
        owners.resize(lines.len(), owner);
    }
    owners.resize(lines.len(), None);
    (lines, focus_line, owners)
}

fn focus_style(focused: bool) -> Style {
    if focused {
        Style::default().add_modifier(Modifier::REVERSED)
    } else {
        Style::default()
    }
}

/// `prefix` + `text`, cut (ending in "…") or padded to `width` columns, the last one blank.
fn pad(prefix: &str, text: &str, width: usize) -> String {
    let room = width.saturating_sub(1);
    let out = fit(&format!("{prefix}{text}"), room).into_owned();
    let used = out.width();
    out + &" ".repeat(width.saturating_sub(used))
}

/// The visible part of a text input, scrolled so the cursor shows.
fn text_spans(
    area: &TextArea<'static>,
    masked: bool,
    focused: bool,
    width: usize,
) -> Vec<Span<'static>> {
    let raw = area.lines().first().cloned().unwrap_or_default();
    let chars: Vec<char> = if masked {
        raw.chars().map(|_| '•').collect()
    } else {
        clean(&raw).chars().collect()
    };
    let cursor = area.cursor().1.min(chars.len());
    let width = width.max(2);
    // Start far enough right that the cursor fits.
    let mut start = 0;
    let col = |from: usize, to: usize| -> usize {
        chars[from..to].iter().map(|c| c.width().unwrap_or(0)).sum()
    };
    while start < cursor && col(start, cursor) + 1 >= width {
        start += 1;
    }
    let mut before = String::new();
    let mut used = 0;
    for c in &chars[start..cursor] {
        before.push(*c);
        used += c.width().unwrap_or(0);
    }
    let at = chars.get(cursor).copied();
    let mut after = String::new();
    used += at.and_then(|c| c.width()).unwrap_or(1);
    for c in chars.iter().skip(cursor + 1) {
        let w = c.width().unwrap_or(0);
        if used + w > width {
            break;
        }
        after.push(*c);
        used += w;
    }
    let fill = " ".repeat(width.saturating_sub(used));
    let base = Style::default().bg(Color::DarkGray).fg(Color::White);
    let cursor_style = if focused {
        base.add_modifier(Modifier::REVERSED)
    } else {
        base
    };
    vec![
        Span::styled(before, base),
        Span::styled(
            at.map(String::from).unwrap_or_else(|| " ".into()),
            cursor_style,
        ),
        Span::styled(after + &fill, base),
    ]
}
