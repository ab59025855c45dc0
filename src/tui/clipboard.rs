//! The clipboard: OSC 52 through the terminal always (it reaches the admin's own machine over
//! SSH), and the local clipboard through arboard when a display exists and no SSH session
//! is detected.

use std::io::Write;
use std::time::{Duration, Instant};

/// Where copied text goes.
pub struct Clipboard {
    terminal: Box<dyn Write + Send>,
    // Kept alive: on X11 the selection is served by this handle's thread.
    local: Option<arboard::Clipboard>,
    multiplexer: Multiplexer,
}

/// A terminal multiplexer between the console and the admin's terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Multiplexer {
    None,
    /// `$TMUX`: tmux drops an application's OSC 52 by default (`set-clipboard external`),
    /// but `tmux load-buffer -w -` reaches the admin's clipboard through tmux itself.
    Tmux,
    /// `$STY`: GNU screen passes OSC 52 on only wrapped in its own DCS.
    Screen,
}

impl Multiplexer {
    pub fn from_env(is_set: impl Fn(&str) -> bool) -> Multiplexer {
        if is_set("TMUX") {
            Multiplexer::Tmux
        } else if is_set("STY") {
            Multiplexer::Screen
        } else {
            Multiplexer::None
        }
    }
}

/// How a copy went out: what the toast may say was done, and no more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The local clipboard took it (OSC 52 went out too).
    Local,
    /// tmux took it (`load-buffer -w`) to pass on to the admin's terminal.
    Tmux,
    /// OSC 52 wrapped for GNU screen.
    Screen,
    /// OSC 52 written to the terminal; whether the terminal honours it is its own affair.
    Terminal,
}

impl Delivery {
    /// What the toast adds after "Copiado: Clave" (Spanish source text).
    pub fn route(self) -> &'static str {
        match self {
            Delivery::Local => "portapapeles local",
            Delivery::Tmux => "OSC 52 vía tmux",
            Delivery::Screen => "OSC 52 vía screen",
            Delivery::Terminal => "OSC 52",
        }
    }
}

/// How long tmux gets to take the text; it answers in milliseconds.
const TMUX_WAIT: Duration = Duration::from_secs(2);

impl Clipboard {
    /// OSC 52 to `terminal`; arboard too when the environment says a local display is usable;
    /// and tmux or GNU screen when the console runs inside one.
    pub fn new(terminal: Box<dyn Write + Send>) -> Clipboard {
        let is_set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        let local = if local_display_available(is_set) {
            arboard::Clipboard::new().ok()
        } else {
            None
        };
        Clipboard {
            terminal,
            local,
            multiplexer: Multiplexer::from_env(is_set),
        }
    }

    /// Only OSC 52 (tests, remote front ends: there the server's own environment must not
    /// matter).
    pub fn terminal_only(terminal: Box<dyn Write + Send>) -> Clipboard {
        Clipboard::through(terminal, Multiplexer::None)
    }

    /// OSC 52 to `terminal` through `multiplexer`, no local clipboard.
    pub fn through(terminal: Box<dyn Write + Send>, multiplexer: Multiplexer) -> Clipboard {
        Clipboard {
            terminal,
            local: None,
            multiplexer,
        }
    }

    /// Copies `text` and says how. Fails only when nothing took it.
    pub fn copy(&mut self, text: &str) -> Result<Delivery, ClipboardError> {
        let osc = osc52(text);
        let sequence = match self.multiplexer {
            Multiplexer::Screen => for_screen(&osc),
            _ => osc,
        };
        let written = self
            .terminal
            .write_all(sequence.as_bytes())
            .and_then(|()| self.terminal.flush())
            .is_ok();
        let local = match self.local.as_mut() {
            Some(clipboard) => clipboard.set_text(text.to_string()).is_ok(),
            None => false,
        };
        let tmux = self.multiplexer == Multiplexer::Tmux && tmux_load_buffer(text);
        if local {
            Ok(Delivery::Local)
        } else if tmux {
            Ok(Delivery::Tmux)
        } else if written && self.multiplexer == Multiplexer::Screen {
            Ok(Delivery::Screen)
        } else if written {
            Ok(Delivery::Terminal)
        } else {
            Err(ClipboardError)
        }
    }
}

/// OSC 52 for the clipboard selection, base64 of the text, ended by ST.
fn osc52(text: &str) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    format!("\x1b]52;c;{encoded}\x1b\\")
}

/// `sequence` passed through GNU screen: in DCS pieces short enough for its buffer, each
/// one's own `ESC P … ESC \\` (screen strips the wrapper and sends the rest on).
fn for_screen(sequence: &str) -> String {
    const PIECE: usize = 76;
    let bytes = sequence.as_bytes();
    let mut out = String::with_capacity(bytes.len() * 2);
    for piece in bytes.chunks(PIECE) {
        out.push_str("\x1bP");
        // The sequence is ASCII (escape codes and base64), so any cut is a char boundary.
        out.push_str(&String::from_utf8_lossy(piece));
        out.push_str("\x1b\\");
    }
    out
}

/// `tmux load-buffer -w -`: tmux keeps the text and sends it to the terminal it runs in
/// (its own OSC 52), which works with tmux's default settings. True when tmux took it.
fn tmux_load_buffer(text: &str) -> bool {
    use std::process::{Command, Stdio};
    let child = Command::new("tmux")
        .args(["load-buffer", "-w", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return false;
    };
    let fed = child
        .stdin
        .take()
        .is_some_and(|mut stdin| stdin.write_all(text.as_bytes()).is_ok());
    // Bounded: a wedged tmux must not freeze the console.
    let deadline = Instant::now() + TMUX_WAIT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return fed && status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}

/// The clipboard could not be written.
#[derive(Debug, thiserror::Error)]
#[error("no se pudo copiar al portapapeles")]
pub struct ClipboardError;

/// A local display exists (X11 or Wayland) and this is not an SSH session.
pub fn local_display_available(is_set: impl Fn(&str) -> bool) -> bool {
    let display = is_set("DISPLAY") || is_set("WAYLAND_DISPLAY");
    let ssh = is_set("SSH_CONNECTION") || is_set("SSH_TTY") || is_set("SSH_CLIENT");
    display && !ssh
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;
    use std::sync::Arc;

    #[derive(Clone, Default)]
    pub struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn osc52_carries_base64_of_the_text() {
        let sink = Sink::default();
        let mut clipboard = Clipboard::terminal_only(Box::new(sink.clone()));
        assert_eq!(clipboard.copy("abc").unwrap(), Delivery::Terminal);
        let bytes = sink.0.lock().clone();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "\u{1b}]52;c;YWJj\u{1b}\\"
        );
    }

    #[test]
    fn arboard_only_with_local_display_and_no_ssh() {
        assert!(local_display_available(|n| n == "DISPLAY"));
        assert!(local_display_available(|n| n == "WAYLAND_DISPLAY"));
        assert!(!local_display_available(
            |n| n == "DISPLAY" || n == "SSH_TTY"
        ));
        assert!(!local_display_available(|n| n == "SSH_CONNECTION"));
        assert!(!local_display_available(|_| false));
    }

    #[test]
    fn under_gnu_screen_osc52_is_wrapped_in_pieces() {
        let sink = Sink::default();
        let mut clipboard = Clipboard::through(Box::new(sink.clone()), Multiplexer::Screen);
        let text = "x".repeat(100);
        assert_eq!(clipboard.copy(&text).unwrap(), Delivery::Screen);
        let out = String::from_utf8(sink.0.lock().clone()).unwrap();
        let plain = osc52(&text);
        assert!(out.starts_with("\x1bP\x1b]52;c;"), "{out:?}");
        assert!(out.ends_with("\x1b\\\x1b\\"), "{out:?}");
        // Unwrapped, the pieces are the plain sequence again.
        let unwrapped: String = out
            .split("\x1b\\\x1bP")
            .collect::<String>()
            .trim_start_matches("\x1bP")
            .to_string();
        assert_eq!(unwrapped.strip_suffix("\x1b\\").unwrap(), plain);
        for piece in out.split("\x1bP").skip(1) {
            assert!(piece.len() <= 76 + 2, "{piece:?}");
        }
    }

    #[test]
    fn the_multiplexer_is_read_from_the_environment() {
        assert_eq!(Multiplexer::from_env(|n| n == "TMUX"), Multiplexer::Tmux);
        assert_eq!(Multiplexer::from_env(|n| n == "STY"), Multiplexer::Screen);
        assert_eq!(
            Multiplexer::from_env(|n| n == "TMUX" || n == "STY"),
            Multiplexer::Tmux
        );
        assert_eq!(Multiplexer::from_env(|_| false), Multiplexer::None);
    }
}
