//! How the console looks on the admin's terminal: colours or monochrome, Unicode or ASCII.
//! Decided once from the environment of whoever sits at the terminal (this process's, or the
//! SSH client's), then applied to every frame after it is drawn, so screens never branch on it.

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use std::io::Write;

/// The terminal's look: what colours and which characters the console may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Look {
    pub colours: Colours,
    pub charset: Charset,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Colours {
    /// The 16 named colours (sent as SGR 30–37, 90–97; see `NamedColours`).
    #[default]
    Named,
    /// `NO_COLOR`: no colour at all; what a colour marked is shown by reverse video.
    Monochrome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Charset {
    #[default]
    Unicode,
    /// The locale is not UTF-8: borders, symbols and accented letters become ASCII.
    Ascii,
}

impl Look {
    /// Decides from an environment lookup (`std::env::var` locally, the SSH client's
    /// variables in a session).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Look {
        // https://no-color.org: set and not empty.
        let colours = match get("NO_COLOR") {
            Some(value) if !value.is_empty() => Colours::Monochrome,
            _ => Colours::Named,
        };
        // POSIX precedence: the first of LC_ALL, LC_CTYPE, LANG that is set and not empty.
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
            .into_iter()
            .find_map(|name| get(name).filter(|value| !value.is_empty()));
        let charset = match locale {
            Some(locale) if is_utf8(&locale) => Charset::Unicode,
            // No locale at all is the C locale: ASCII.
            _ => Charset::Ascii,
        };
        Look { colours, charset }
    }

    /// Rewrites a drawn frame for this terminal.
    pub fn apply(self, buffer: &mut Buffer) {
        if self == Look::default() {
            return;
        }
        for cell in buffer.content.iter_mut() {
            if self.colours == Colours::Monochrome {
                // A coloured background (header, status bar, failure bar) stays a band.
                if !matches!(cell.bg, Color::Reset) {
                    cell.modifier.insert(Modifier::REVERSED);
                }
                cell.fg = Color::Reset;
                cell.bg = Color::Reset;
            }
            if self.charset == Charset::Ascii && !cell.symbol().is_ascii() {
                let ascii: String = cell.symbol().chars().map(ascii).collect();
                cell.set_symbol(&ascii);
            }
        }
    }
}

fn is_utf8(locale: &str) -> bool {
    // "es_CL.UTF-8", "en_US.utf8", "C.UTF-8"; the modifier (@euro) comes after the codeset.
    let codeset = locale.split('@').next().unwrap_or_default();
    codeset.rsplit_once('.').is_some_and(|(_, codeset)| {
        codeset.eq_ignore_ascii_case("utf-8") || codeset.eq_ignore_ascii_case("utf8")
    })
}

/// One character in ASCII; what has no likeness becomes `?`.
fn ascii(c: char) -> char {
    if c.is_ascii() {
        return c;
    }
    match c {
        '─' | '━' | '═' | '╌' => '-',
        '│' | '┃' | '║' | '╎' => '|',
        '┌' | '┐' | '└' | '┘' | '├' | '┤' | '┬' | '┴' | '┼' | '╭' | '╮' | '╰' | '╯' => {
            '+'
        }
        '›' | '→' | '▸' | '»' => '>',
        '‹' | '←' | '«' => '<',
        '↑' | '▴' => '^',
        '↓' | '▾' => 'v',
        '…' => '~',
        '⎘' => '#',
        '⚠' => '!',
        '×' => 'x',
        '·' | '•' => '.',
        '–' | '—' => '-',
        '█' | '▇' | '▆' | '▅' => '#',
        '▄' | '▃' | '▂' | '▁' => '.',
        '✓' | '☑' => 'x',
        '¿' | '¡' => ' ',
        'á' | 'à' | 'ä' | 'â' => 'a',
        'é' | 'è' | 'ë' | 'ê' => 'e',
        'í' | 'ì' | 'ï' | 'î' => 'i',
        'ó' | 'ò' | 'ö' | 'ô' => 'o',
        'ú' | 'ù' | 'ü' | 'û' => 'u',
        'ñ' => 'n',
        'Á' | 'À' | 'Ä' | 'Â' => 'A',
        'É' | 'È' | 'Ë' | 'Ê' => 'E',
        'Í' | 'Ì' | 'Ï' | 'Î' => 'I',
        'Ó' | 'Ò' | 'Ö' | 'Ô' => 'O',
        'Ú' | 'Ù' | 'Ü' | 'Û' => 'U',
        'Ñ' => 'N',
        // The spinner's braille frames.
        '\u{2800}'..='\u{28ff}' => '*',
        _ => '?',
    }
}

/// A writer that sends the 16 basic colours as their named SGR codes (30–37, 90–97 and
/// 40–47, 100–107). crossterm writes every colour as a 256-colour index (`38;5;6`), which
/// terminals with a palette of their own (or only 16 colours) show differently or not at all.
/// Everything else passes through untouched.
pub struct NamedColours<W: Write> {
    inner: W,
    /// An escape sequence begun and not yet finished (writes may split it).
    pending: Vec<u8>,
}

/// Longer than any SGR the backend writes; past it the bytes pass through as they are.
const LONGEST_SEQUENCE: usize = 64;

impl<W: Write> NamedColours<W> {
    pub fn new(inner: W) -> NamedColours<W> {
        NamedColours {
            inner,
            pending: Vec::new(),
        }
    }

    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    fn finish_sequence(&mut self) -> std::io::Result<()> {
        let sequence = std::mem::take(&mut self.pending);
        match rewrite_sgr(&sequence) {
            Some(named) => self.inner.write_all(&named),
            None => self.inner.write_all(&sequence),
        }
    }
}

impl<W: Write> Write for NamedColours<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut plain_from = 0;
        for (i, &byte) in buf.iter().enumerate() {
            if self.pending.is_empty() {
                if byte == 0x1b {
                    self.inner.write_all(&buf[plain_from..i])?;
                    self.pending.push(byte);
                }
                continue;
            }
            self.pending.push(byte);
            let done = match self.pending.len() {
                // Only CSI sequences are looked at; any other escape passes through.
                2 => byte != b'[',
                _ => (0x40..=0x7e).contains(&byte) || self.pending.len() >= LONGEST_SEQUENCE,
            };
            if done {
                self.finish_sequence()?;
                plain_from = i + 1;
            }
        }
        if self.pending.is_empty() {
            self.inner.write_all(&buf[plain_from.min(buf.len())..])?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        // A sequence cut by a flush is finished by the next write.
        self.inner.flush()
    }
}

/// `ESC [ … m` with every `38;5;N` / `48;5;N` (N < 16) replaced by its named code.
fn rewrite_sgr(sequence: &[u8]) -> Option<Vec<u8>> {
    let params = sequence.strip_prefix(b"\x1b[")?.strip_suffix(b"m")?;
    let params = std::str::from_utf8(params).ok()?;
    let parts: Vec<&str> = params.split(';').collect();
    let mut out: Vec<String> = Vec::with_capacity(parts.len());
    let mut changed = false;
    let mut i = 0;
    while i < parts.len() {
        let index = parts.get(i + 2).and_then(|n| n.parse::<u8>().ok());
        match (parts[i], parts.get(i + 1), index) {
            (kind @ ("38" | "48"), Some(&"5"), Some(n)) if n < 16 => {
                let base = match (kind, n < 8) {
                    ("38", true) => 30,
                    ("38", false) => 90 - 8,
                    (_, true) => 40,
                    (_, false) => 100 - 8,
                };
                out.push((base + u16::from(n)).to_string());
                changed = true;
                i += 3;
            }
            // 24-bit and other indices are copied whole, so their numbers are not misread.
            ("38" | "48" | "58", Some(&"2"), _) => {
                let end = (i + 5).min(parts.len());
                out.extend(parts[i..end].iter().map(|p| p.to_string()));
                i = end;
            }
            ("38" | "48" | "58", Some(&"5"), _) => {
                let end = (i + 3).min(parts.len());
                out.extend(parts[i..end].iter().map(|p| p.to_string()));
                i = end;
            }
            (part, _, _) => {
                out.push(part.to_string());
                i += 1;
            }
        }
    }
    changed.then(|| format!("\x1b[{}m", out.join(";")).into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::CrosstermBackend;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn utf8_locale_with_colour_is_the_default_look() {
        let look = Look::from_env(env(&[("LANG", "es_CL.UTF-8"), ("TERM", "xterm")]));
        assert_eq!(look, Look::default());
        assert_eq!(
            Look::from_env(env(&[("LC_CTYPE", "C.utf8")])).charset,
            Charset::Unicode
        );
    }

    #[test]
    fn no_color_set_and_not_empty_means_monochrome() {
        let look = Look::from_env(env(&[("LANG", "C.UTF-8"), ("NO_COLOR", "1")]));
        assert_eq!(look.colours, Colours::Monochrome);
        let look = Look::from_env(env(&[("LANG", "C.UTF-8"), ("NO_COLOR", "")]));
        assert_eq!(look.colours, Colours::Named);
    }

    #[test]
    fn the_locale_is_lc_all_then_lc_ctype_then_lang() {
        let ascii = |vars: &[(&str, &str)]| Look::from_env(env(vars)).charset == Charset::Ascii;
        assert!(ascii(&[("LC_ALL", "C"), ("LANG", "es_CL.UTF-8")]));
        assert!(!ascii(&[("LC_ALL", "es_CL.UTF-8"), ("LANG", "C")]));
        assert!(ascii(&[
            ("LC_CTYPE", "es_ES.ISO-8859-1"),
            ("LANG", "es_CL.UTF-8")
        ]));
        assert!(!ascii(&[
            ("LC_ALL", ""),
            ("LC_CTYPE", "en_US.UTF-8"),
            ("LANG", "C")
        ]));
        assert!(!ascii(&[("LANG", "de_DE.UTF-8@euro")]));
        assert!(ascii(&[("LANG", "POSIX")]));
        // Nothing set is the C locale.
        assert!(ascii(&[]));
    }

    #[test]
    fn apply_turns_every_cell_ascii_and_colour_into_reverse_video() {
        let area = Rect::new(0, 0, 12, 1);
        let mut buffer = Buffer::empty(area);
        buffer.set_string(0, 0, "┌─ Menú…│⠋", Style::default().bg(Color::Blue));
        Look {
            colours: Colours::Monochrome,
            charset: Charset::Ascii,
        }
        .apply(&mut buffer);
        let text: String = buffer.content.iter().map(|c| c.symbol()).collect();
        assert_eq!(text, "+- Menu~|*  ");
        let first = &buffer.content[0];
        assert_eq!((first.fg, first.bg), (Color::Reset, Color::Reset));
        assert!(first.modifier.contains(Modifier::REVERSED));
        // A cell that had no colour stays plain.
        assert!(!buffer.content[11].modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn basic_colours_are_sent_as_named_codes() {
        let mut writer = NamedColours::new(Vec::new());
        {
            let mut backend = CrosstermBackend::new(&mut writer);
            let mut buffer = Buffer::empty(Rect::new(0, 0, 4, 1));
            buffer.set_string(0, 0, "ab", Style::default().fg(Color::Cyan).bg(Color::Blue));
            buffer.set_string(2, 0, "c", Style::default().fg(Color::DarkGray));
            buffer.set_string(3, 0, "d", Style::default().fg(Color::Indexed(200)));
            let cells = buffer
                .content
                .iter()
                .enumerate()
                .map(|(i, c)| (i as u16, 0, c));
            ratatui::backend::Backend::draw(&mut backend, cells).unwrap();
        }
        let out = String::from_utf8(writer.get_ref().clone()).unwrap();
        // Cyan is 36 and Blue 44; DarkGray is bright black, 90; index 200 stays an index.
        assert!(out.contains("\x1b[36;44m"), "{out:?}");
        assert!(out.contains("\x1b[90"), "{out:?}");
        assert!(out.contains("38;5;200"), "{out:?}");
        for n in 0..16 {
            assert!(!out.contains(&format!("38;5;{n}m")), "{out:?}");
            assert!(!out.contains(&format!("48;5;{n}m")), "{out:?}");
        }
    }

    #[test]
    fn sequences_split_across_writes_and_other_escapes_pass_whole() {
        let mut writer = NamedColours::new(Vec::new());
        for piece in [
            "x\x1b[",
            "38;",
            "5;1",
            "m",
            "y\x1b]52;c;YQ==\x1b\\",
            "\x1b[2J",
        ] {
            writer.write_all(piece.as_bytes()).unwrap();
        }
        let out = String::from_utf8(writer.get_ref().clone()).unwrap();
        assert_eq!(out, "x\x1b[31my\x1b]52;c;YQ==\x1b\\\x1b[2J");
    }
}
