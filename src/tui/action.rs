//! Every user intent and every async result is an `Action`; `update` is the only place that
//! turns one into a state change. What `update` wants done outside (a request, a copy, quitting)
//! it leaves as an `Effect` for the event loop.

use super::api::{Request, RequestId, Response};
use super::clipboard::Delivery;
use crate::client::ClientError;
use crate::domain::secret::SecretText;
use crossterm::event::KeyEvent;

/// A user intent, named by what it does; each screen's key list maps keys to these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Up,
    Down,
    PageUp,
    PageDown,
    Left,
    Right,
    Enter,
    Back,
    Next,
    Prev,
    Toggle,
    New,
    Save,
    Copy,
    Filter,
    Help,
    Menu,
    Quit,
    Delete,
    Rotate,
    EnableToggle,
    Reveal,
    Regenerate,
    Refresh,
    Reload,
    /// Let a client that registered itself in (into a permission group).
    Approve,
    /// Refuse a client that registered itself.
    Reject,
    /// The policy for clients that register themselves.
    Policy,
    Yes,
    No,
}

#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one action at a time; API answers are the large ones
pub enum Action {
    Command(Command),
    /// A key typed into the focused input.
    Edit(KeyEvent),
    Paste(String),
    Resize(u16, u16),
    /// Spinner frame (only while requests are in flight).
    Tick,
    ToastExpired(u64),
    Api {
        id: RequestId,
        result: Result<Response, ClientError>,
    },
    /// A copy finished; `what` names what was copied (never the value), `done` how it went
    /// out (`None`: it did not).
    Copied {
        what: String,
        done: Option<Delivery>,
    },
    /// SIGTERM, SIGHUP, SIGQUIT: leave now.
    Terminate,
    /// A left click at this cell (only with the mouse opted in; see `mouse`).
    Click {
        column: u16,
        row: u16,
    },
    /// The wheel turned one step.
    Wheel {
        down: bool,
    },
}

/// Work for the event loop.
#[derive(Debug)]
pub enum Effect {
    Send(RequestId, Request),
    Copy {
        text: SecretText,
        what: String,
    },
    /// From now on requests carry this session token (or none).
    Session(Option<SecretText>),
    /// Remember this username for the next start (see `last_user`).
    RememberUser(String),
    Quit,
}
