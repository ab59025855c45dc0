//! What keys do to a form: the bindings every form offers, and running one of its commands.
//! Screens call these and decide what a submit, a cancel or a copy means for them.

use super::model::Form;
use crate::client::ClientError;
use crate::domain::secret::SecretText;
use crate::tui::action::Command;
use crate::tui::i18n::Lang;
use crate::tui::keymap::{Binding, bar, help};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key did to a form.
pub enum FormOutcome {
    Nothing,
    Submit,
    Cancel,
    Copy(String, SecretText),
}

/// The bindings of a form; `save` names what Ctrl+S does.
pub fn form_bindings(form: &Form, save: &'static str) -> Vec<Binding> {
    let mut keys = vec![
        bar(Command::Next, "Siguiente campo"),
        help(Command::Prev, "Campo anterior"),
        help(Command::Down, "Siguiente campo"),
        help(Command::Up, "Campo anterior"),
        bar(Command::Save, save),
        help(Command::Enter, "Activar / siguiente"),
        help(Command::Left, "Cambiar valor"),
        help(Command::Right, "Cambiar valor"),
        help(Command::Toggle, "Marcar casilla"),
    ];
    if form.focused_copy().is_some() {
        keys.push(bar(Command::Copy, "Copiar"));
    }
    keys.push(bar(Command::Back, "Cerrar"));
    keys
}

/// Runs a form key: moves focus, edits, or says the form wants to submit, cancel or copy.
pub fn form_command(form: &mut Form, command: Command) -> FormOutcome {
    let key = |code| KeyEvent::new(code, KeyModifiers::NONE);
    match command {
        Command::Next => form.next(),
        Command::Prev => form.prev(),
        Command::Down if !form.matrix_move(true) => form.next(),
        Command::Up if !form.matrix_move(false) => form.prev(),
        Command::Save => return FormOutcome::Submit,
        Command::Back => return FormOutcome::Cancel,
        Command::Copy => {
            if let Some((label, value)) = form.focused_copy() {
                return FormOutcome::Copy(label.to_string(), value.clone());
            }
        }
        Command::Enter => {
            if let Some((label, value)) = form.focused_copy() {
                return FormOutcome::Copy(label.to_string(), value.clone());
            }
            if form.focus_is_button() {
                return if form.focused_name() == "cancel" {
                    FormOutcome::Cancel
                } else {
                    FormOutcome::Submit
                };
            }
            let was_text = form.focus_is_text();
            form.next();
            // Enter in the last input submits, as in any form.
            if was_text && form.focus_is_button() && form.focused_name() == "save" {
                return FormOutcome::Submit;
            }
        }
        Command::Toggle => {
            form.edit(key(KeyCode::Char(' ')));
        }
        Command::Left => {
            form.edit(key(KeyCode::Left));
        }
        Command::Right => {
            form.edit(key(KeyCode::Right));
        }
        _ => {}
    }
    FormOutcome::Nothing
}

impl Form {
    /// Shows why the server refused this form's save, keeping everything typed: each field's
    /// error beside it, a stale version (412, `urn:consola:modified`) as how to reload.
    pub fn refused(&mut self, lang: Lang, error: &ClientError) {
        self.busy = false;
        let errors = error.field_errors();
        if error.problem().and_then(|p| p.code()) == Some("modified") {
            let text = lang.t("Modificado por otro usuario. Ctrl+R recarga sin perder lo escrito.");
            self.set_errors(&errors, Some(text.to_string()));
            // Shown even when field errors came along (set_errors keeps those instead).
            self.error = Some(text.to_string());
        } else {
            self.set_errors(&errors, Some(error.to_string()));
        }
    }
}
