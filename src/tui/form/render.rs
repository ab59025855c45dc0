//! Drawing a form: labels in a column, the inputs beside them, errors under their field,
//! scrolled so the focused field shows, its buttons kept in sight.

use super::model::{Field, Form, Kind, LABEL_WIDTH};
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

/// Draws a form into `area`, scrolled so the focused field is visible; a form taller than
/// `area` keeps its buttons on the last rows.
pub fn render(frame: &mut Frame, area: Rect, form: &Form, lang: Lang, focused: bool) {
    let (lines, focus_line, owners) = layout(form, area.width, lang, focused);
    let rows = shown(form, &owners, focus_line, area.height);
    let mut shown_lines = Vec::with_capacity(rows.len());
    for row in rows {
        shown_lines.push(match row {
            Row::Line(i) => lines[i].clone(),
            Row::MoreAbove => more("↑"),
            Row::MoreBelow => more("↓"),
        });
    }
    frame.render_widget(Paragraph::new(shown_lines), area);
}

/// Maps the fields `render` drew into `area` for clicks (see `mouse`).
pub fn clickable(hits: &HitMap, area: Rect, form: &Form, lang: Lang) {
    let (_, focus_line, owners) = layout(form, area.width, lang, true);
    for (y, row) in shown(form, &owners, focus_line, area.height)
        .into_iter()
        .enumerate()
    {
        if let Row::Line(i) = row
            && let Some(index) = owners[i]
        {
            let line = Rect::new(area.x, area.y + y as u16, area.width, 1);
            hits.add(line, Target::Field(index));
        }
    }
}

/// A row of a drawn form: one of its lines, or a mark that lines are scrolled away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Row {
    Line(usize),
    MoreAbove,
    MoreBelow,
}

fn more(arrow: &str) -> Line<'static> {
    Line::styled(
        format!("  {arrow} …"),
        Style::default().add_modifier(Modifier::DIM),
    )
}

/// Which lines show in `height` rows. All of them when they fit. Otherwise the buttons at
/// the end stay on the last rows (Guardar is always in sight), and the lines above them
/// scroll so the focused field and the line under it show, with a mark where lines are
/// scrolled away.
fn shown(form: &Form, owners: &[Option<usize>], focus_line: usize, height: u16) -> Vec<Row> {
    let height = usize::from(height);
    let total = owners.len();
    if total <= height {
        return (0..total).map(Row::Line).collect();
    }
    let is_button = |owner: &Option<usize>| {
        owner.is_some_and(|i| matches!(form.fields.get(i).map(|f| &f.kind), Some(Kind::Button)))
    };
    let buttons = total - owners.iter().rev().take_while(|o| is_button(o)).count();
    let footer = total - buttons;
    // Too short to pin them (or none): the whole form scrolls.
    if footer == 0 || footer + 3 > height {
        let offset = scroll(focus_line, total, height);
        return (offset..offset + height).map(Row::Line).collect();
    }
    let body = height - footer;
    // The most lines that fit beside the marks they need.
    for room in (1..=body).rev() {
        let offset = if focus_line >= buttons {
            buttons - room
        } else {
            scroll(focus_line, buttons, room)
        };
        let above = offset > 0;
        let below = offset + room < buttons;
        if room + usize::from(above) + usize::from(below) > body {
            continue;
        }
        let mut rows = Vec::with_capacity(height);
        if above {
            rows.push(Row::MoreAbove);
        }
        rows.extend((offset..offset + room).map(Row::Line));
        if below {
            rows.push(Row::MoreBelow);
        }
        rows.extend((buttons..total).map(Row::Line));
        return rows;
    }
    let offset = scroll(focus_line, total, height);
    (offset..offset + height).map(Row::Line).collect()
}

/// The first of `lines` shown in `height` rows: far enough down that the focused field and
/// the line under it show, never so far that blank rows follow the last line.
fn scroll(focus_line: usize, lines: usize, height: usize) -> usize {
    (focus_line + 2)
        .saturating_sub(height)
        .min(lines.saturating_sub(height))
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
        let columns = label_columns(field, lang, usize::from(width));
        let label = Span::styled(
            pad(
                &format!("{} ", if has_focus { "›" } else { " " }),
                &field.label,
                columns,
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
                let fits =
                    columns + UnicodeWidthStr::width(shown.as_str()) + 2 <= area.width as usize;
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
            Kind::Value(values) => {
                let values: Vec<String> = values.iter().map(|v| clean(v).into_owned()).collect();
                let beside = match values.as_slice() {
                    [one] => LABEL_WIDTH as usize + one.width() <= area.width as usize,
                    _ => false,
                };
                if beside {
                    let mut spans = vec![label];
                    spans.extend(values.into_iter().map(Span::raw));
                    lines.push(Line::from(spans));
                } else {
                    // A list, or a value too long to sit beside its label: a line each,
                    // wrapped rather than cut (a thumbprint is read whole).
                    lines.push(Line::from(label));
                    for value in &values {
                        for line in wrap(value, usize::from(width.saturating_sub(4))) {
                            lines.push(Line::raw(format!("    {line}")));
                        }
                    }
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
        // The lines this field added are its own (headings, notes and values are not
        // clickable).
        let owner =
            (!matches!(field.kind, Kind::Heading | Kind::Note | Kind::Value(_))).then_some(i);
        owners.resize(lines.len(), owner);
    }
    owners.resize(lines.len(), None);
    (lines, focus_line, owners)
}

/// The columns of a field's label: `LABEL_WIDTH`, or as many as a longer label needs whole
/// when what sits beside it is short (a checkbox's mark, a read-only value) and the line
/// still fits `width`; else it is cut, ending in "…".
fn label_columns(field: &Field, lang: Lang, width: usize) -> usize {
    let standard = usize::from(LABEL_WIDTH);
    // The focus mark and its blank, the label, a blank before the value.
    let whole = 2 + field.label.width() + 1;
    if whole <= standard {
        return standard;
    }
    let beside = match &field.kind {
        Kind::Checkbox(_) => "[x]".width(),
        Kind::Copy { value, .. } => {
            let shown = match value {
                Some(v) => clean(v.expose()).width(),
                None => lang.t("(se genera al guardar)").width(),
            };
            shown + 2
        }
        _ => return standard,
    };
    if whole + beside <= width {
        whole
    } else {
        standard
    }
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
