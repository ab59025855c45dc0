//! What a screen may reach of the console: the language, who is signed in, requests in
//! flight, toasts, questions and the clipboard. Screens get a `&mut Context` and nothing
//! else of the app, so a screen never depends on another screen or on the router.

use super::action::Effect;
use super::api::{Request, RequestId};
use super::i18n::Lang;
use super::look::Look;
use super::mouse::HitMap;
use crate::domain::secret::SecretText;
use crate::domain::{Role, SessionUser};
use chrono::NaiveDate;
use std::collections::HashMap;

pub struct Context {
    pub lang: Lang,
    /// The local date the console started on (the dashboard's default range ends there).
    pub today: NaiveDate,
    pub size: (u16, u16),
    /// Colours and characters of the admin's terminal (applied after each frame is drawn).
    pub look: Look,
    pub user: Option<SessionUser>,
    /// Requests sent and not answered yet.
    pub pending: HashMap<RequestId, Request>,
    next_id: u64,
    pub toast: Option<(u64, String)>,
    /// A yes/no question over everything; its answer is routed by `State`.
    pub question: Option<Question>,
    /// Work for the event loop.
    pub effects: Vec<Effect>,
    /// What the last frame drew where, for clicks (filled while drawing).
    pub hits: HitMap,
}

/// A yes/no question and what "yes" does.
pub struct Question {
    pub message: String,
    pub then: Then,
}

/// What "yes" does. Screens that ask about their own dialogs get `Discard` back.
pub enum Then {
    Quit,
    /// Send this request (delete, rotate, reveal…).
    Send(Request),
    /// Throw away the unsaved input of the screen that asked and close what holds it.
    Discard,
}

impl Context {
    pub fn new(lang: Lang, today: NaiveDate) -> Context {
        Context {
            lang,
            today,
            size: (120, 40),
            look: Look::default(),
            user: None,
            pending: HashMap::new(),
            next_id: 1,
            toast: None,
            question: None,
            effects: Vec::new(),
            hits: HitMap::default(),
        }
    }

    /// Some request is in flight (the spinner runs).
    pub fn busy(&self) -> bool {
        !self.pending.is_empty()
    }

    pub fn role(&self) -> Option<Role> {
        self.user.as_ref().map(|u| u.role)
    }

    pub fn is_super(&self) -> bool {
        self.role() == Some(Role::SuperAdmin)
    }

    pub fn is_admin(&self) -> bool {
        matches!(self.role(), Some(Role::SuperAdmin | Role::Admin))
    }

    /// Queues a request; its answer comes back as `Action::Api` with the returned id.
    pub fn send(&mut self, request: Request) -> RequestId {
        let id = self.next_id;
        self.next_id += 1;
        self.pending.insert(id, request.clone());
        self.effects.push(Effect::Send(id, request));
        id
    }

    pub fn toast(&mut self, text: impl Into<String>) {
        let id = self.next_id;
        self.next_id += 1;
        self.toast = Some((id, text.into()));
    }

    /// Copies `text`; the toast names `what`, never the value.
    pub fn copy(&mut self, what: &str, text: SecretText) {
        // "Copiado: Clave" reads right whatever the gender of the noun.
        let what = self.lang.fill("Copiado: {}", &[what]);
        self.effects.push(Effect::Copy { text, what });
    }

    pub fn ask(&mut self, message: impl Into<String>, then: Then) {
        self.question = Some(Question {
            message: message.into(),
            then,
        });
    }

    /// Asks before deleting `name`. `question` holds `{}` where the name goes, so each
    /// language puts it where its grammar wants.
    pub fn ask_delete(
        &mut self,
        question: &'static str,
        name: &str,
        consequence: &'static str,
        then: Then,
    ) {
        let lang = self.lang;
        let message = format!(
            "{} {}",
            lang.fill(question, &[&format!("«{name}»")]),
            lang.t(consequence)
        );
        self.ask(message, then);
    }

    /// The rows a table of the settings content shows at the current terminal size.
    pub fn table_height(&self) -> usize {
        usize::from(self.size.1.saturating_sub(14)).max(1)
    }
}
