//! How names are told apart and which characters they may not hold. One definition serves
//! the domain's checks, the stores' unique keys and the console's sanitizer, so that what
//! the server refuses and what the console neutralizes cannot drift apart.

use std::borrow::Cow;
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// True for characters that change how text looks or reads without being seen: the
/// Unicode format characters (category Cf: zero-width spaces and joiners, bidirectional
/// controls, the BOM, tags…) and the other zero-width ones (the combining grapheme joiner,
/// Mongolian variation selectors, Hangul fillers).
pub fn is_invisible(c: char) -> bool {
    c.general_category() == GeneralCategory::Format
        || matches!(c,
            '\u{034F}'
            | '\u{115F}' | '\u{1160}'
            | '\u{180B}'..='\u{180F}'
            | '\u{3164}' | '\u{FFA0}'
            | '\u{E0000}'..='\u{E007F}')
}

/// The first invisible character of a text, if any.
pub fn first_invisible(text: &str) -> Option<char> {
    text.chars().find(|c| is_invisible(*c))
}

/// The key under which two names are "the same": NFKC (fullwidth, ligatures and composed
/// accents fold to one form) with case folded, so "Ｚeta", "ZETA" and "zeta", or "Café"
/// written with a combining accent and without one, cannot sit side by side.
pub fn comparison_key(name: &str) -> String {
    let folded: String = name.nfkc().collect::<String>().to_lowercase();
    // Lowercasing can leave text that NFKC would write differently (e.g. "İ").
    folded.nfkc().collect()
}

/// Longest text a real username or Clave has (usernames: 50; Claves: 32).
const LONGEST_IDENTIFIER: usize = 64;
/// How much of an impossible identifier the audit log keeps.
const SHOWN_PREFIX: usize = 16;

fn identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')
}

/// An identifier (username, Clave) as the audit log may keep it. One that could be real is
/// kept as is. One that cannot be (longer than any, or with characters none has) is kept
/// shortened, with its length, so that unauthenticated callers cannot write their input
/// into the log: `«abc?def…» (60000 bytes)`.
pub fn shown_identifier(text: &str) -> Cow<'_, str> {
    if text.len() <= LONGEST_IDENTIFIER && text.chars().all(identifier_char) {
        return Cow::Borrowed(text);
    }
    let prefix: String = text
        .chars()
        .take(SHOWN_PREFIX)
        .map(|c| if identifier_char(c) { c } else { '?' })
        .collect();
    let more = if text.chars().count() > SHOWN_PREFIX {
        "…"
    } else {
        ""
    };
    Cow::Owned(format!("«{prefix}{more}» ({} bytes)", text.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alikes_share_a_key() {
        assert_eq!(comparison_key("Ｚeta"), comparison_key("Zeta"));
        assert_eq!(comparison_key("ZETA"), comparison_key("zeta"));
        assert_eq!(comparison_key("Cafe\u{301}"), comparison_key("Café"));
        assert_eq!(comparison_key("ﬁnanzas"), comparison_key("Finanzas"));
        assert_ne!(comparison_key("Zeta"), comparison_key("Zeta2"));
        assert_eq!(comparison_key("Órdenes"), "órdenes");
    }

    #[test]
    fn format_and_zero_width_characters_are_invisible() {
        for c in [
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{202E}',
            '\u{2066}',
            '\u{061C}',
            '\u{E0041}',
            '\u{034F}',
            '\u{3164}',
        ] {
            assert!(is_invisible(c), "U+{:04X}", c as u32);
        }
        for c in ['a', 'é', '\u{301}', ' ', '日', '-', '\u{1b}'] {
            assert!(!is_invisible(c), "U+{:04X}", c as u32);
        }
        assert_eq!(first_invisible("Ze\u{200B}ta"), Some('\u{200B}'));
        assert_eq!(first_invisible("Zeta"), None);
    }

    #[test]
    fn impossible_identifiers_are_shortened_with_their_length() {
        assert_eq!(shown_identifier("superadmin"), "superadmin");
        let clave = "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE";
        assert_eq!(shown_identifier(clave), clave);
        let long = "x".repeat(60_000);
        assert_eq!(shown_identifier(&long), "«xxxxxxxxxxxxxxxx…» (60000 bytes)");
        assert_eq!(shown_identifier("a\u{1b}[2Jb"), "«a??2Jb» (6 bytes)");
        assert_eq!(
            shown_identifier(&"y".repeat(65)),
            "«yyyyyyyyyyyyyyyy…» (65 bytes)"
        );
        assert_eq!(shown_identifier(&"y".repeat(64)), "y".repeat(64));
    }
}
