//! The screens, one file each. A screen owns its data and its dialogs, offers its bindings,
//! runs a command, takes the answers that are its own and hands back the rest, and draws
//! itself. It reaches the rest of the console only through the `Context` it is given; no
//! screen imports the router (`state`), so adding one is a file and a field.

pub mod account;
pub mod api_key;
pub mod audit;
pub mod consumers;
pub mod dashboard;
pub mod login;
pub mod resources;
pub mod security;
pub mod settings;
pub mod setup;
pub mod users;

use super::action::Command;
use super::api::{Request, RequestId, Response};
use super::context::Context;
use super::dialog::Dialog;
use super::form::Form;
use super::keymap::Binding;
use crate::client::ClientError;
use ratatui::Frame;
use ratatui::layout::Rect;

/// An answer from the server, offered to the screens until one takes it.
pub struct Answer {
    pub id: RequestId,
    pub request: Request,
    pub response: Response,
}

/// Where the focus goes after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Stay,
    /// Back to the sidebar.
    Leave,
    /// Open the user menu.
    Menu,
}

pub trait Screen {
    /// The keys of what has the keyboard in this screen (its dialog, if one is open).
    fn bindings(&self, ctx: &Context) -> Vec<Binding>;

    fn command(&mut self, ctx: &mut Context, command: Command) -> Flow;

    /// Loads what the screen shows; called when it is opened.
    fn open(&mut self, _ctx: &mut Context) {}

    /// The dialog over the content, if one is open.
    fn dialog(&self, _ctx: &Context) -> Option<Dialog<'_>> {
        None
    }

    /// The form that takes typed keys and pastes, if any.
    fn form(&self) -> Option<&Form> {
        None
    }

    fn form_mut(&mut self) -> Option<&mut Form> {
        None
    }

    /// Called after a key was typed into `form_mut`.
    fn edited(&mut self) {}

    /// Takes the answer if it is this screen's; otherwise hands it back. A screen may keep a
    /// copy of an answer others need too (permission groups) and still hand it back.
    fn on_response(&mut self, _ctx: &mut Context, answer: Answer) -> Option<Answer> {
        Some(answer)
    }

    /// Shows a refused request where it belongs; false when the screen has no place for it
    /// (the console shows it in the failure bar).
    fn on_error(
        &mut self,
        _ctx: &mut Context,
        _id: RequestId,
        _request: &Request,
        _error: &ClientError,
    ) -> bool {
        false
    }

    /// Something over the content (a dialog, a filter line) has the keyboard, so the keys
    /// of what holds this screen (a tab switch) go to it too.
    fn holds_keys(&self) -> bool {
        false
    }

    /// Holds input not saved yet.
    fn dirty(&self) -> bool {
        false
    }

    /// Throws away unsaved input after the admin said yes (`Then::Discard`).
    fn discard(&mut self) -> Flow {
        Flow::Stay
    }

    /// `focused`: the keyboard is in this screen.
    fn render(&self, frame: &mut Frame, area: Rect, ctx: &Context, focused: bool);
}
