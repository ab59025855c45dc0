//! Makes text from outside (what the server sent, a stored name) safe to draw: no control
//! characters or escape sequences reach the terminal, and zero-width or direction-changing
//! characters cannot break the layout.

use std::borrow::Cow;
use unicode_width::UnicodeWidthChar;

/// Combining marks kept after one base character; more are "zalgo" and dropped.
const MAX_MARKS: usize = 2;

/// Text safe to draw on one line.
pub fn clean(text: &str) -> Cow<'_, str> {
    if text.chars().all(is_plain) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut marks = 0usize;
    let mut has_base = false;
    for c in text.chars() {
        if let Some(picture) = control_picture(c) {
            out.push(picture);
            has_base = true;
            marks = 0;
        } else if is_layout_changer(c) {
            out.push('\u{FFFD}');
            has_base = true;
            marks = 0;
        } else if c.width().unwrap_or(0) == 0 {
            // A combining mark: fine after a base character, dropped in excess, and never
            // allowed to start the text (it would merge into the cell before it).
            if !has_base {
                out.push('\u{FFFD}');
                has_base = true;
            } else if marks < MAX_MARKS {
                out.push(c);
                marks += 1;
            }
        } else {
            out.push(c);
            has_base = true;
            marks = 0;
        }
    }
    Cow::Owned(out)
}

fn is_plain(c: char) -> bool {
    (' '..='~').contains(&c)
        || (!c.is_control() && !is_layout_changer(c) && c.width().unwrap_or(0) > 0)
}

/// C0 controls become their visible "control picture" (ESC → ␛); DEL and C1 become U+FFFD.
fn control_picture(c: char) -> Option<char> {
    let code = c as u32;
    if code < 0x20 {
        char::from_u32(0x2400 + code)
    } else if c.is_control() {
        Some('\u{FFFD}')
    } else {
        None
    }
}

/// Bidirectional overrides and isolates, zero-width joiners and marks, and other invisible
/// formatting characters: the domain's definition, the one its name checks refuse.
fn is_layout_changer(c: char) -> bool {
    crate::domain::names::is_invisible(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_become_visible() {
        let shown = clean("a\u{1b}[31mrojo\u{7}\u{9b}2J");
        assert!(!shown.chars().any(char::is_control));
        assert!(shown.contains('␛'));
        assert!(shown.contains("[31mrojo"));
    }

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(clean("Órdenes de trabajo 日本"), Cow::Borrowed(_)));
    }

    #[test]
    fn bidi_and_leading_marks_are_neutralized() {
        let shown = clean("\u{0301}abc\u{202E}def");
        assert!(shown.starts_with('\u{FFFD}'));
        assert!(!shown.contains('\u{202E}'));
        let zalgo = clean("e\u{0301}\u{0302}\u{0303}\u{0304}");
        assert_eq!(zalgo.chars().count(), 3);
        // Whatever the domain refuses in a name, the console neutralizes.
        for c in ['\u{200B}', '\u{FEFF}', '\u{00AD}', '\u{2064}', '\u{3164}'] {
            assert!(crate::domain::names::is_invisible(c));
            assert_eq!(clean(&format!("a{c}b")), "a\u{FFFD}b");
        }
    }
}
