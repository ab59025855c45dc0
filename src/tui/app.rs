//! The event loop. One `select!` over terminal events, API results, signals, the spinner tick
//! (only while requests are in flight) and the toast timer; pending events are drained, then
//! the screen is drawn once, and only when something changed.

use super::action::{Action, Effect};
use super::api::{RequestId, Response, execute};
use super::clipboard::Clipboard;
use super::render::render;
use super::state::State;
use crate::client::{Client, ClientError};
use crossterm::event::{Event, KeyEventKind};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

type ApiResult = (RequestId, Result<Response, ClientError>);

/// How long a toast stays.
const TOAST: Duration = Duration::from_secs(3);

pub struct App<B: Backend, E> {
    pub terminal: Terminal<B>,
    events: E,
    pub state: State,
    client: Client,
    clipboard: Clipboard,
    results: mpsc::UnboundedSender<ApiResult>,
    incoming: mpsc::UnboundedReceiver<ApiResult>,
    toast_deadline: Option<(u64, Instant)>,
    /// Where the console runs: this process's terminal, or a remote one.
    seat: Seat,
    /// A frame waits to be drawn until the link has taken the last one.
    dirty: bool,
}

/// Whether a link is ready for the next frame: an SSH channel's output is, once it has
/// sent the last one. Frames drawn while it is not would only queue up behind it.
pub trait Pace: Send + Sync {
    fn is_ready(&self) -> bool;
    fn ready(&self) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

enum Seat {
    /// This process's terminal: its signals end the console, and the last username is
    /// remembered on this machine.
    Local,
    /// A terminal at the end of a link (SSH): the process's signals and files are not the
    /// console's, and frames go at the link's pace. Who is signed in is told to the front
    /// end, which ends the session when that user is disabled.
    Remote {
        pace: std::sync::Arc<dyn Pace>,
        signed_in: tokio::sync::watch::Sender<Option<uuid::Uuid>>,
    },
}

impl<B, E> App<B, E>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    E: Stream<Item = std::io::Result<Event>> + Unpin,
{
    pub fn new(
        terminal: Terminal<B>,
        events: E,
        mut state: State,
        client: Client,
        clipboard: Clipboard,
    ) -> Self {
        if let Ok(size) = terminal.size() {
            state.ctx.size = (size.width, size.height);
        }
        let (results, incoming) = mpsc::unbounded_channel();
        App {
            terminal,
            events,
            state,
            client,
            clipboard,
            results,
            incoming,
            toast_deadline: None,
            seat: Seat::Local,
            dirty: false,
        }
    }

    /// The console runs on a remote terminal whose link sets the pace of frames;
    /// `signed_in` is kept up to date with the id of the user signed in.
    pub fn remote(
        mut self,
        pace: std::sync::Arc<dyn Pace>,
        signed_in: tokio::sync::watch::Sender<Option<uuid::Uuid>>,
    ) -> Self {
        self.seat = Seat::Remote { pace, signed_in };
        self.tell_who();
        self
    }

    /// Tells a remote front end who is signed in now, when that changed.
    fn tell_who(&self) {
        if let Seat::Remote { signed_in, .. } = &self.seat {
            let now = self.state.ctx.user.as_ref().map(|u| u.id);
            signed_in.send_if_modified(|was| {
                let changed = *was != now;
                *was = now;
                changed
            });
        }
    }

    /// The client as the console left it (signed in or not).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Runs until the user quits, a signal arrives, or the event stream ends.
    pub async fn run(&mut self) -> anyhow::Result<()> {
        let mut signals = match self.seat {
            Seat::Local => Some(Signals::new()?),
            Seat::Remote { .. } => None,
        };
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        if self.apply_effects().1 {
            return Ok(());
        }
        self.draw()?;
        // Test hook, used only by the pseudo-terminal test of panic restore (tests/tui_e2e.rs):
        // a real panic with the console on screen. The message carries no state.
        if matches!(self.seat, Seat::Local)
            && std::env::var_os("CONSOLA_TEST_PANIC").is_some_and(|v| v == "1")
        {
            panic!("CONSOLA_TEST_PANIC: forced panic after the first frame");
        }
        loop {
            let mut changed = false;
            let ticking = self.state.busy();
            let toast = self.toast_deadline;
            let pace = match &self.seat {
                Seat::Remote { pace, .. } if self.dirty => Some(pace.clone()),
                _ => None,
            };
            tokio::select! {
                event = self.events.next() => match event {
                    Some(Ok(event)) => changed |= self.on_event(event),
                    Some(Err(error)) => return Err(error.into()),
                    None => break,
                },
                Some((id, result)) = self.incoming.recv() => {
                    self.state.update(Action::Api { id, result });
                    changed = true;
                }
                () = recv_signal(signals.as_mut()) => {
                    self.state.update(Action::Terminate);
                }
                () = async { if let Some(pace) = &pace { pace.ready().await } }, if pace.is_some() => {
                    changed = true;
                }
                _ = tick.tick(), if ticking => {
                    self.state.update(Action::Tick);
                    changed = true;
                }
                () = sleep_until(toast.map(|(_, at)| at)), if toast.is_some() => {
                    if let Some((id, _)) = toast {
                        self.state.update(Action::ToastExpired(id));
                        self.toast_deadline = None;
                        changed = true;
                    }
                }
            }
            // Drain whatever else is already waiting, then draw once.
            // Polled with this task's waker (a zero timeout polls the stream first), never a
            // no-op waker: crossterm's EventStream keeps the waker it saw when it went pending.
            while let Ok(Some(event)) =
                tokio::time::timeout(Duration::ZERO, self.events.next()).await
            {
                match event {
                    Ok(event) => changed |= self.on_event(event),
                    Err(error) => return Err(error.into()),
                }
            }
            while let Ok((id, result)) = self.incoming.try_recv() {
                self.state.update(Action::Api { id, result });
                changed = true;
            }
            let (effects_changed, quit) = self.apply_effects();
            changed |= effects_changed;
            self.tell_who();
            if quit {
                break;
            }
            if changed || self.dirty {
                match &self.seat {
                    Seat::Remote { pace, .. } if !pace.is_ready() => self.dirty = true,
                    _ => {
                        self.dirty = false;
                        self.draw()?;
                    }
                }
            }
        }
        Ok(())
    }

    fn draw(&mut self) -> anyhow::Result<()> {
        let state = &self.state;
        self.terminal.draw(|frame| render(frame, state))?;
        Ok(())
    }

    /// Feeds one terminal event to `update`; false when it meant nothing.
    fn on_event(&mut self, event: Event) -> bool {
        let action = match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => self.state.key_action(key),
            Event::Paste(text) => Some(Action::Paste(text)),
            Event::Mouse(mouse) => super::mouse::action(mouse),
            // Bursts of resizes end in one draw at the last size.
            Event::Resize(w, h) => Some(Action::Resize(w, h)),
            _ => None,
        };
        match action {
            Some(action) => {
                self.state.update(action);
                true
            }
            None => false,
        }
    }

    /// Does what `update` asked for: whether that changed the state, and whether to quit.
    fn apply_effects(&mut self) -> (bool, bool) {
        let mut changed = false;
        let mut quit = false;
        while !self.state.ctx.effects.is_empty() {
            let effects = std::mem::take(&mut self.state.ctx.effects);
            for effect in effects {
                match effect {
                    Effect::Send(id, request) => {
                        let client = self.client.clone();
                        let results = self.results.clone();
                        tracing::debug!(id, request = request.name(), "request");
                        tokio::spawn(async move {
                            let result = execute(&client, request).await;
                            // The loop may be gone (quitting); nothing to do then.
                            let _ = results.send((id, result));
                        });
                    }
                    Effect::Copy { text, what } => {
                        let done = self.clipboard.copy(text.expose()).ok();
                        self.state.update(Action::Copied { what, done });
                        changed = true;
                    }
                    Effect::Session(token) => {
                        self.client = match token {
                            Some(token) => self.client.with_token(token),
                            None => self.client.without_token(),
                        };
                    }
                    // Only on this machine's console: a remote one's user is not ours.
                    Effect::RememberUser(_) if !matches!(self.seat, Seat::Local) => {}
                    Effect::RememberUser(username) => {
                        // A convenience: failing to keep it is no reason to stop.
                        if let Some(path) = super::last_user::path(|n| std::env::var_os(n))
                            && let Err(error) = super::last_user::save(&path, &username)
                        {
                            tracing::debug!(%error, "could not remember the username");
                        }
                    }
                    // Leave once what was asked before it has been done.
                    Effect::Quit => quit = true,
                }
            }
        }
        if let Some((id, _)) = &self.state.ctx.toast
            && self.toast_deadline.is_none_or(|(shown, _)| shown != *id)
        {
            self.toast_deadline = Some((*id, Instant::now() + TOAST));
        }
        (changed, quit)
    }
}

async fn recv_signal(signals: Option<&mut Signals>) {
    match signals {
        Some(signals) => signals.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// SIGTERM, SIGHUP (an SSH disconnect) and SIGQUIT.
struct Signals {
    #[cfg(unix)]
    streams: [tokio::signal::unix::Signal; 3],
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                streams: [
                    signal(SignalKind::terminate())?,
                    signal(SignalKind::hangup())?,
                    signal(SignalKind::quit())?,
                ],
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        {
            let [a, b, c] = &mut self.streams;
            tokio::select! {
                _ = a.recv() => {}
                _ = b.recv() => {}
                _ = c.recv() => {}
            }
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await
    }
}
