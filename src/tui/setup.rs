//! Configuración inicial: the first run creates the account and its Súper Administrador.

use super::action::Command;
use super::api::Request;
use super::form::{Field, Form};
use super::i18n::Lang;
use super::state::{FormOutcome, Phase, State, form_command};
use crate::domain::{FieldErrors, SetupRequest};

pub fn form(lang: Lang) -> Form {
    Form::new(vec![
        Field::text("account_name", lang.t("Nombre de la cuenta"), ""),
        Field::text("username", lang.t("Usuario"), ""),
        Field::text("display_name", lang.t("Nombre para mostrar"), ""),
        Field::password("password", lang.t("Contraseña")),
        Field::password("password_again", lang.t("Repetir contraseña")),
        Field::button("save", lang.t("Crear cuenta")),
    ])
}

impl State {
    pub(super) fn setup_command(&mut self, command: Command) {
        let lang = self.lang;
        let Phase::Setup(form) = &mut self.phase else {
            return;
        };
        match form_command(form, command) {
            FormOutcome::Submit if !form.busy => {
                if form.text("password") != form.text("password_again") {
                    form.set_errors(
                        &FieldErrors::single(
                            "password_again",
                            lang.t("Las contraseñas no coinciden"),
                        ),
                        None,
                    );
                    return;
                }
                form.clear_errors();
                form.busy = true;
                let request = SetupRequest {
                    account_name: form.text("account_name"),
                    username: form.text("username"),
                    display_name: form.text("display_name"),
                    password: form.text("password").into(),
                };
                self.send(Request::Setup(request));
            }
            _ => {}
        }
    }
}
