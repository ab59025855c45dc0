//! The clipboard: OSC 52 through the terminal always (it reaches the admin's own machine over
//! SSH), and the local clipboard through arboard when a display exists and no SSH session
//! is detected.

use std::io::Write;

/// Where copied text goes.
pub struct Clipboard {
    terminal: Box<dyn Write + Send>,
    // Kept alive: on X11 the selection is served by this handle's thread.
    local: Option<arboard::Clipboard>,
}

impl Clipboard {
    /// OSC 52 to `terminal`; arboard too when the environment says a local display is usable.
    pub fn new(terminal: Box<dyn Write + Send>) -> Clipboard {
        let local = if local_display_available(|name| std::env::var_os(name).is_some()) {
            arboard::Clipboard::new().ok()
        } else {
            None
        };
        Clipboard { terminal, local }
    }

    /// Only OSC 52 (tests, remote front ends).
    pub fn terminal_only(terminal: Box<dyn Write + Send>) -> Clipboard {
        Clipboard {
            terminal,
            local: None,
        }
    }

    /// Copies `text`. Fails only when neither OSC 52 nor the local clipboard took it.
    pub fn copy(&mut self, text: &str) -> Result<(), ClipboardError> {
        let osc = crossterm::execute!(
            self.terminal,
            crossterm::clipboard::CopyToClipboard::to_clipboard_from(text)
        );
        let local = match self.local.as_mut() {
            Some(clipboard) => clipboard.set_text(text.to_string()).is_ok(),
            None => false,
        };
        if osc.is_ok() || local {
            Ok(())
        } else {
            Err(ClipboardError)
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
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    pub struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::ErrorKind::Other)?
                .extend_from_slice(buf);
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
        clipboard.copy("abc").unwrap();
        let bytes = sink.0.lock().unwrap().clone();
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
}
