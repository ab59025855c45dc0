//! Configuración inicial: the first run creates the account and its Súper Administrador.

use super::{Flow, Screen};
use crate::client::ClientError;
use crate::domain::{FieldErrors, SetupRequest};
use crate::tui::action::Command;
use crate::tui::api::{Request, RequestId};
use crate::tui::context::Context;
use crate::tui::dialog::welcome;
use crate::tui::form::{Field, Form, FormOutcome, form_bindings, form_command};
use crate::tui::i18n::Lang;
use crate::tui::keymap::Binding;
use ratatui::Frame;
use ratatui::layout::Rect;

pub struct SetupScreen {
    pub form: Form,
}

impl SetupScreen {
    pub fn new(lang: Lang) -> SetupScreen {
        SetupScreen {
            form: Form::new(vec![
                Field::text("account_name", lang.t("Nombre de la cuenta"), ""),
                Field::text("username", lang.t("Usuario"), ""),
                Field::text("display_name", lang.t("Nombre para mostrar"), ""),
                Field::password("password", lang.t("Contraseña")),
                Field::password("password_again", lang.t("Repetir contraseña")),
                Field::button("save", lang.t("Crear cuenta")),
            ]),
        }
    }
}

impl Screen for SetupScreen {
    fn bindings(&self, _ctx: &Context) -> Vec<Binding> {
        form_bindings(&self.form, "Guardar")
    }

    fn command(&mut self, ctx: &mut Context, command: Command) -> Flow {
        let lang = ctx.lang;
        let form = &mut self.form;
        if let FormOutcome::Submit = form_command(form, command)
            && !form.busy
        {
            if form.text("password") != form.text("password_again") {
                form.set_errors(
                    &FieldErrors::single("password_again", lang.t("Las contraseñas no coinciden")),
                    None,
                );
                return Flow::Stay;
            }
            form.clear_errors();
            form.busy = true;
            ctx.send(Request::Setup(SetupRequest {
                account_name: form.text("account_name"),
                username: form.text("username"),
                display_name: form.text("display_name"),
                password: form.text("password").into(),
            }));
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
        _ctx: &mut Context,
        _id: RequestId,
        request: &Request,
        error: &ClientError,
    ) -> bool {
        if !matches!(request, Request::Setup(_)) {
            return false;
        }
        self.form.busy = false;
        self.form
            .set_errors(&error.field_errors(), Some(error.to_string()));
        true
    }

    fn dirty(&self) -> bool {
        self.form.dirty
    }

    fn render(&self, frame: &mut Frame, area: Rect, ctx: &Context, _focused: bool) {
        let lang = ctx.lang;
        welcome(
            frame,
            area,
            lang,
            &ctx.hits,
            lang.t("Configuración inicial"),
            lang.t("Cree la cuenta y su Súper Administrador."),
            &self.form,
        );
    }
}
