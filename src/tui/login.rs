//! Iniciar sesión. A wrong password keeps the username.

use super::action::Command;
use super::api::Request;
use super::form::{Field, Form};
use super::i18n::Lang;
use super::state::{FormOutcome, Phase, State, form_command};
use crate::domain::secret::SecretText;

pub fn form(lang: Lang, username: &str) -> Form {
    let mut form = Form::new(vec![
        Field::text("username", lang.t("Usuario"), username),
        Field::password("password", lang.t("Contraseña")),
        Field::button("save", lang.t("Iniciar sesión")),
    ]);
    if !username.is_empty() {
        form.focus_on("password");
    }
    form
}

impl State {
    pub(super) fn login_command(&mut self, command: Command) {
        let Phase::Login(form) = &mut self.phase else {
            return;
        };
        if let FormOutcome::Submit = form_command(form, command)
            && !form.busy
        {
            form.clear_errors();
            form.busy = true;
            let request = Request::Login {
                username: form.text("username").trim().to_string(),
                password: SecretText::new(form.text("password")),
            };
            // Logged in, the password is not kept anywhere.
            self.send(request);
        }
    }
}
