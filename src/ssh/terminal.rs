//! The console's terminal at the far end of an SSH channel: a ratatui backend that writes
//! frames to the channel with backpressure, and the client's bytes read back as key, paste
//! and mouse events.

use crate::tui::look::{Look, NamedColours};
use crossterm::event::Event;
use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{Notify, mpsc};

/// The size the client's PTY has now, set by its requests and read by the backend.
#[derive(Debug, Default)]
pub struct PtySize(AtomicU32);

impl PtySize {
    pub fn new(width: u16, height: u16) -> PtySize {
        let size = PtySize::default();
        size.set(width, height);
        size
    }

    /// Values a client may send beyond a terminal's range are clamped, never wrapped; a
    /// zero is "unknown" (RFC 4254 §6.2: `ssh -tt` without a terminal sends it), and the
    /// console takes a VT100's 80×24.
    pub fn set_from_request(&self, columns: u32, rows: u32) -> (u16, u16) {
        let clamp = |v: u32, unknown: u16| match v {
            0 => unknown,
            v => u16::try_from(v).unwrap_or(u16::MAX).clamp(1, 1000),
        };
        let (w, h) = (clamp(columns, 80), clamp(rows, 24));
        self.set(w, h);
        (w, h)
    }

    fn set(&self, width: u16, height: u16) {
        self.0.store(
            (u32::from(width) << 16) | u32::from(height),
            Ordering::Relaxed,
        );
    }

    pub fn get(&self) -> (u16, u16) {
        let v = self.0.load(Ordering::Relaxed);
        ((v >> 16) as u16, v as u16)
    }
}

/// What the console wrote and the channel has not taken yet, counted in bytes. The console
/// draws the next frame only once the last one is sent (see [`Output::writable`]), so a
/// slow link gets fewer frames, never a growing queue; a client that reads nothing at all
/// is given up on past [`MAX_PENDING`].
#[derive(Default)]
struct Shared {
    in_flight: AtomicUsize,
    sent: Notify,
    closed: AtomicBool,
}

/// The console's side of the channel's output: a `Write` for the backend and the
/// clipboard. A flush hands the bytes written since to the channel's writer task.
pub struct Output {
    tx: mpsc::UnboundedSender<Vec<u8>>,
    shared: Arc<Shared>,
    buffer: Vec<u8>,
}

impl Clone for Output {
    fn clone(&self) -> Output {
        Output {
            tx: self.tx.clone(),
            shared: self.shared.clone(),
            buffer: Vec::new(),
        }
    }
}

/// Bytes past which a client that reads nothing is given up on.
const MAX_PENDING: usize = 4 * 1024 * 1024;

impl Output {
    /// The output, and the task that copies it to `channel` as its window allows. The task
    /// ends when every `Output` clone is dropped, or when the channel fails.
    pub fn new<W>(mut channel: W) -> (Output, impl Future<Output = ()> + Send + 'static)
    where
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
        let shared = Arc::new(Shared::default());
        let output = Output {
            tx,
            shared: shared.clone(),
            buffer: Vec::new(),
        };
        let task = async move {
            while let Some(bytes) = rx.recv().await {
                // Awaits the SSH window: this is the backpressure.
                let written = channel.write_all(&bytes).await.and(channel.flush().await);
                shared.in_flight.fetch_sub(bytes.len(), Ordering::AcqRel);
                if written.is_err() {
                    shared.closed.store(true, Ordering::Release);
                    shared.sent.notify_waiters();
                    break;
                }
                shared.sent.notify_waiters();
            }
            let _ = channel.shutdown().await;
        };
        (output, task)
    }

    /// Waits until what was flushed has gone to the channel (or the channel is gone).
    pub async fn writable(&self) {
        loop {
            let sent = self.shared.sent.notified();
            tokio::pin!(sent);
            sent.as_mut().enable();
            if self.is_drained() {
                return;
            }
            sent.await;
        }
    }

    /// Nothing waits to be sent.
    pub fn is_drained(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
            || self.shared.in_flight.load(Ordering::Acquire) == 0
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let bytes = std::mem::take(&mut self.buffer);
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let len = bytes.len();
        if self.shared.in_flight.load(Ordering::Acquire) + len > MAX_PENDING {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "the SSH client reads nothing",
            ));
        }
        self.shared.in_flight.fetch_add(len, Ordering::AcqRel);
        self.tx.send(bytes).map_err(|_| {
            self.shared.in_flight.fetch_sub(len, Ordering::AcqRel);
            io::Error::from(io::ErrorKind::BrokenPipe)
        })
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// A crossterm backend over the channel whose size is the client's PTY, not this
/// process's terminal; basic colours go out as their named codes, as locally.
pub struct SessionBackend {
    inner: CrosstermBackend<NamedColours<Output>>,
    size: Arc<PtySize>,
}

impl SessionBackend {
    pub fn new(output: Output, size: Arc<PtySize>) -> SessionBackend {
        SessionBackend {
            inner: CrosstermBackend::new(NamedColours::new(output)),
            size,
        }
    }
}

/// The console's look from what the SSH client sent: `NO_COLOR` and the locale variables
/// when it sent them (OpenSSH does for `SendEnv`/`SetEnv`), and `TERM` from its PTY
/// request (`dumb`: no colours). A client that sent no locale at all is taken to be UTF-8,
/// as every current terminal is: OpenSSH sends none unless configured to.
pub fn look(term: &str, env: &std::collections::HashMap<String, String>) -> Look {
    let sent_locale = ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .any(|name| env.get(*name).is_some_and(|v| !v.is_empty()));
    Look::from_env(|name| match name {
        "NO_COLOR" if term == "dumb" => Some("1".into()),
        "LANG" if !sent_locale => Some("C.UTF-8".into()),
        name => env.get(name).cloned(),
    })
}

impl Backend for SessionBackend {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.inner.draw(content)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.inner.show_cursor()
    }

    /// Only inline viewports ask; the console is full screen. Asking would read the reply
    /// from this process's terminal, so the answer is the origin.
    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Ok(Position::ORIGIN)
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        let (width, height) = self.size.get();
        Ok(Size { width, height })
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        Ok(WindowSize {
            columns_rows: self.size()?,
            pixels: Size::default(),
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(&mut self.inner)
    }
}

/// Longest escape sequence or paste kept while waiting for its end; beyond, it is dropped.
const MAX_SEQUENCE: usize = 1024 * 1024;

/// Turns the client's bytes into terminal events, like crossterm does for its own terminal:
/// a byte at a time into a buffer, an event out whenever the buffer makes one.
#[derive(Default)]
pub struct InputParser {
    buffer: Vec<u8>,
}

impl InputParser {
    /// The events in `bytes`, with what is still incomplete kept for the next call. A lone
    /// Esc at the end of a packet is the Esc key (as in crossterm: a sequence's bytes come
    /// in one packet).
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Event> {
        let mut events = Vec::new();
        for (i, byte) in bytes.iter().enumerate() {
            self.buffer.push(*byte);
            let more = i + 1 < bytes.len();
            if self.buffer == [0x1b] && more {
                continue;
            }
            match terminput::Event::parse_from(&self.buffer) {
                Ok(Some(event)) => {
                    self.buffer.clear();
                    if let Ok(event) = terminput_crossterm::to_crossterm(event) {
                        events.push(event);
                    }
                }
                Ok(None) if self.buffer.len() > MAX_SEQUENCE => self.buffer.clear(),
                Ok(None) => {}
                // Not a sequence anybody sends: dropped, as crossterm does.
                Err(_) => self.buffer.clear(),
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn keys(events: &[Event]) -> Vec<KeyCode> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Key(KeyEvent { code, .. }) => Some(*code),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn keys_arrows_and_a_lone_escape() {
        let mut parser = InputParser::default();
        let events = parser.feed(b"a\x1b[B\r");
        assert_eq!(
            keys(&events),
            vec![KeyCode::Char('a'), KeyCode::Down, KeyCode::Enter]
        );
        assert_eq!(keys(&parser.feed(b"\x1b")), vec![KeyCode::Esc]);
        // Ctrl+C arrives as a byte.
        let events = parser.feed(b"\x03");
        let Event::Key(key) = events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(key.code, KeyCode::Char('c'));
        assert!(key.modifiers.contains(KeyModifiers::CONTROL));
    }

    #[test]
    fn a_sequence_split_across_packets_waits_for_its_end() {
        let mut parser = InputParser::default();
        assert!(parser.feed(b"\x1b[").is_empty());
        assert_eq!(keys(&parser.feed(b"A")), vec![KeyCode::Up]);
    }

    #[test]
    fn a_bracketed_paste_is_one_event_even_in_pieces() {
        let mut parser = InputParser::default();
        assert!(parser.feed(b"\x1b[200~ssh-ed25519 AA").is_empty());
        let events = parser.feed(b"AA x\x1b[201~");
        assert_eq!(events, vec![Event::Paste("ssh-ed25519 AAAA x".into())]);
    }

    #[test]
    fn utf8_typed_in_pieces_is_one_character() {
        let mut parser = InputParser::default();
        let bytes = "ñ".as_bytes();
        assert!(parser.feed(&bytes[..1]).is_empty());
        assert_eq!(keys(&parser.feed(&bytes[1..])), vec![KeyCode::Char('ñ')]);
    }

    #[test]
    fn garbage_is_dropped_and_typing_goes_on() {
        let mut parser = InputParser::default();
        let events = parser.feed(b"\x1b[99;99;99Qx");
        assert_eq!(keys(&events).last(), Some(&KeyCode::Char('x')));
    }

    #[test]
    fn the_look_follows_what_the_client_sent() {
        use crate::tui::look::{Charset, Colours};
        let env = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<std::collections::HashMap<_, _>>()
        };
        let plain = look("xterm-256color", &env(&[]));
        assert_eq!(
            (plain.colours, plain.charset),
            (Colours::Named, Charset::Unicode)
        );
        let c = look("xterm", &env(&[("LANG", "C")]));
        assert_eq!(c.charset, Charset::Ascii);
        let utf8 = look("xterm", &env(&[("LC_ALL", "es_CL.UTF-8"), ("LANG", "C")]));
        assert_eq!(utf8.charset, Charset::Unicode);
        assert_eq!(
            look("xterm", &env(&[("NO_COLOR", "1")])).colours,
            Colours::Monochrome
        );
        assert_eq!(look("dumb", &env(&[])).colours, Colours::Monochrome);
    }

    #[test]
    fn a_pty_size_is_clamped_to_a_terminal() {
        let size = PtySize::new(80, 24);
        assert_eq!(size.get(), (80, 24));
        assert_eq!(size.set_from_request(1, 100_000), (1, 1000));
        assert_eq!(size.set_from_request(0, 0), (80, 24));
        assert_eq!(size.set_from_request(200, 50), (200, 50));
        assert_eq!(size.get(), (200, 50));
    }

    #[tokio::test]
    async fn a_frame_waits_for_the_channel_and_nothing_queues_behind_it() {
        // A channel that takes 8 bytes and then blocks, like a client that stopped reading.
        let (near, mut far) = tokio::io::duplex(8);
        let (mut output, task) = Output::new(near);
        tokio::spawn(task);
        output.write_all(b"0123456789abcdef").unwrap();
        output.flush().unwrap();
        // The writer is stuck on the window: the frame is not sent yet.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!output.is_drained());
        let mut got = vec![0; 16];
        tokio::io::AsyncReadExt::read_exact(&mut far, &mut got)
            .await
            .unwrap();
        assert_eq!(&got, b"0123456789abcdef");
        tokio::time::timeout(std::time::Duration::from_secs(5), output.writable())
            .await
            .unwrap();
        assert!(output.is_drained());
    }

    #[tokio::test]
    async fn the_writer_ends_with_the_last_output() {
        let (near, _far) = tokio::io::duplex(64);
        let (output, task) = Output::new(near);
        let task = tokio::spawn(task);
        let clone = output.clone();
        drop(output);
        drop(clone);
        tokio::time::timeout(std::time::Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
    }
}
