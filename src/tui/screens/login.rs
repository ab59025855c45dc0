//! Iniciar sesión. A wrong password keeps the username.

use super::{Flow, Screen};
use crate::client::ClientError;
use crate::domain::secret::SecretText;
use crate::tui::action::Command;
use crate::tui::api::{Request, RequestId};
use crate::tui::context::Context;
use crate::tui::dialog::welcome;
use crate::tui::form::{Field, Form, FormOutcome, form_bindings, form_command};
use crate::tui::i18n::Lang;
use crate::tui::keymap::Binding;
use ratatui::Frame;
use ratatui::layout::Rect;

pub struct LoginScreen {
    pub form: Form,
}

impl LoginScreen {
    /// Focus on the password when the username is known.
    pub fn new(lang: Lang, username: &str) -> LoginScreen {
        let mut form = Form::new(vec![
            Field::text("username", lang.t("Usuario"), username),
            Field::password("password", lang.t("Contraseña")),
            Field::button("save", lang.t("Iniciar sesión")),
        ]);
        if !username.is_empty() {
            form.focus_on("password");
        }
        LoginScreen { form }
    }

    /// The session expired: sign in again, saying why.
    pub fn expired(lang: Lang, username: &str) -> LoginScreen {
        let mut screen = LoginScreen::new(lang, username);
        screen.form.error = Some(lang.t("La sesión expiró. Inicie sesión de nuevo.").into());
        screen
    }
}

impl Screen for LoginScreen {
    fn bindings(&self, _ctx: &Context) -> Vec<Binding> {
        form_bindings(&self.form, "Guardar")
    }

    fn command(&mut self, ctx: &mut Context, command: Command) -> Flow {
        let form = &mut self.form;
        if let FormOutcome::Submit = form_command(form, command)
            && !form.busy
        {
            form.clear_errors();
            form.busy = true;
            // Logged in, the password is not kept anywhere.
            ctx.send(Request::Login {
                username: form.text("username").trim().to_string(),
                password: SecretText::new(form.text("password")),
            });
        }
        Flow::Stay
    }

    fn form(&self) -> Option<&Form> {
        Some(&self.form)
    }

    fn form_mut(&mut self) -> Option<&mut Form> {
        Some(&mut self.form)
    }

    fn on_error(
        &mut self,
        ctx: &mut Context,
        _id: RequestId,
        request: &Request,
        error: &ClientError,
    ) -> bool {
        if !matches!(request, Request::Login { .. }) {
            return false;
        }
        let form = &mut self.form;
        form.busy = false;
        // A wrong password keeps the username and clears the password.
        form.set_text("password", "");
        form.focus_on("password");
        form.clear_errors();
        form.error = Some(if error.status() == Some(401) {
            ctx.lang.t("Usuario o contraseña incorrectos").to_string()
        } else {
            error.to_string()
        });
        true
    }

    fn dirty(&self) -> bool {
        self.form.dirty
    }

    fn render(&self, frame: &mut Frame, area: Rect, ctx: &Context, _focused: bool) {
        welcome(
            frame,
            area,
            ctx.lang,
            &ctx.hits,
            ctx.lang.t("Iniciar sesión"),
            "",
            &self.form,
        );
    }
}
