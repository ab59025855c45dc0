//! Drawing a form: labels in a column, the inputs beside them, errors under their field,
//! scrolled so the focused field shows.

use super::model::{Form, Kind, LABEL_WIDTH};
use crate::tui::i18n::Lang;
use crate::tui::sanitize::clean;
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
    let mut lines: Vec<Line> = Vec::new();
    let mut focus_line = 0usize;
    let input_width = area.width.saturating_sub(LABEL_WIDTH + 1) as usize;
    if let Some(error) = &form.error {
        lines.push(Line::styled(
            format!("⚠ {}", clean(error)),
            Style::default().fg(Color::Red),
        ));
        lines.push(Line::default());
    }
    for (i, field) in form.fields.iter().enumerate() {
        if field.hidden {
            continue;
        }
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
                lines.push(Line::styled(
                    format!("  {}", field.label),
                    Style::default().add_modifier(Modifier::DIM),
                ));
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
            lines.push(Line::from(vec![
                Span::raw(" ".repeat(LABEL_WIDTH as usize)),
                Span::styled(
                    format!("⚠ {}", clean(error)),
                    Style::default().fg(Color::Red),
                ),
            ]));
        }
    }
    let height = area.height as usize;
    let offset = (focus_line + 2).saturating_sub(height);
    frame.render_widget(
        Paragraph::new(lines).scroll((u16::try_from(offset).unwrap_or(u16::MAX), 0)),
        area,
    );
}

fn focus_style(focused: bool) -> Style {
    if focused {
        Style::default().add_modifier(Modifier::REVERSED)
    } else {
        Style::default()
    }
}

/// `prefix` + `text`, cut or padded to `width` columns.
fn pad(prefix: &str, text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for c in prefix.chars().chain(text.chars()) {
        let w = c.width().unwrap_or(0);
        if used + w > width.saturating_sub(1) {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push_str(&" ".repeat(width.saturating_sub(used)));
    out
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
