//! Fitting text into columns: a cut label always ends in "…", a table's cells are cut to the
//! widths its columns get, and long messages wrap instead of being cut.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::widgets::{Cell, Row};
use std::borrow::Cow;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// `text` in at most `width` columns; when it has to be cut, it ends in "…".
pub fn fit(text: &str, width: usize) -> Cow<'_, str> {
    if text.width() <= width {
        return Cow::Borrowed(text);
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    // "Autenticaciones…", not "Autenticaciones …".
    out.truncate(out.trim_end().len());
    out.push('…');
    Cow::Owned(out)
}

/// The first of `labels` (longest first) that fits `width` whole, else the last one cut.
pub fn fit_one<'a>(labels: &[&'a str], width: usize) -> Cow<'a, str> {
    match labels.iter().find(|label| label.width() <= width) {
        Some(label) => Cow::Borrowed(label),
        None => fit(labels.last().copied().unwrap_or_default(), width),
    }
}

/// `text` broken at spaces into lines of at most `width` columns (a word longer than a line
/// is cut with "…").
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let needed = if line.is_empty() {
            word.width()
        } else {
            line.width() + 1 + word.width()
        };
        if needed > width && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&fit(word, width));
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// The widths a table of `width` columns gives its columns (as `Table` lays them out, with
/// one column of space between them).
pub fn column_widths(width: u16, constraints: &[Constraint]) -> Vec<u16> {
    Layout::horizontal(constraints.iter().copied())
        .spacing(1)
        .split(Rect::new(0, 0, width, 1))
        .iter()
        .map(|r| r.width)
        .collect()
}

/// The same widths as constraints, so the table lays out exactly what was fitted.
pub fn lengths(widths: &[u16]) -> Vec<Constraint> {
    widths.iter().map(|w| Constraint::Length(*w)).collect()
}

/// A row whose cells are cut to `widths` with "…".
pub fn row<'a>(cells: impl IntoIterator<Item = (String, Style)>, widths: &[u16]) -> Row<'a> {
    Row::new(
        cells
            .into_iter()
            .zip(widths)
            .map(|((text, style), width)| {
                Cell::from(fit(&text, usize::from(*width)).into_owned()).style(style)
            })
            .collect::<Vec<_>>(),
    )
}

/// `row` of unstyled texts.
pub fn plain_row<'a, S: AsRef<str>>(cells: impl IntoIterator<Item = S>, widths: &[u16]) -> Row<'a> {
    row(
        cells
            .into_iter()
            .map(|s| (s.as_ref().to_string(), Style::default())),
        widths,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_text_ends_in_an_ellipsis_and_a_fitting_one_is_whole() {
        assert_eq!(fit("Autenticaciones fallidas", 17), "Autenticaciones…");
        assert_eq!(fit("Descripción", 10), "Descripci…");
        assert_eq!(fit("Nombre", 6), "Nombre");
        assert_eq!(fit("Nombre", 0), "");
        assert_eq!(fit("Nombre", 1), "…");
    }

    #[test]
    fn fit_one_takes_the_longest_label_that_fits() {
        let labels = ["Grupo de permisos", "Grupo"];
        assert_eq!(fit_one(&labels, 20), "Grupo de permisos");
        assert_eq!(fit_one(&labels, 8), "Grupo");
        assert_eq!(fit_one(&labels, 3), "Gr…");
    }

    #[test]
    fn wrap_breaks_at_spaces() {
        assert_eq!(
            wrap("Código de autorización necesita al menos una URL", 20),
            vec!["Código de", "autorización", "necesita al menos", "una URL"]
        );
        assert_eq!(wrap("", 5), vec![""]);
        assert_eq!(wrap("supercalifragilístico", 6), vec!["super…"]);
    }

    #[test]
    fn column_widths_add_up_with_their_spacing() {
        let widths = column_widths(
            50,
            &[
                Constraint::Fill(2),
                Constraint::Length(10),
                Constraint::Fill(1),
            ],
        );
        assert_eq!(widths.iter().sum::<u16>() + 2, 50);
        assert_eq!(widths[1], 10);
    }
}
