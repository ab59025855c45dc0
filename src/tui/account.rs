//! Cuenta: the account's name and changing one's own password.

use super::action::Command;
use super::api::Request;
use super::form::{Field, Form};
use super::i18n::Lang;
use super::state::{FormOutcome, Main, State, Then, form_command};
use crate::domain::{FieldErrors, PasswordChange};
use ratatui::Frame;
use ratatui::layout::Rect;

/// Fields before this index belong to the account name; the rest to the password.
const PASSWORD_PART: usize = 2;

pub fn form(lang: Lang, account_name: &str) -> Form {
    Form::new(vec![
        Field::text("account_name", lang.t("Nombre de la cuenta"), account_name),
        Field::button("save_name", lang.t("Guardar nombre")),
        Field::heading(lang.t("Cambiar mi contraseña")),
        Field::password("current_password", lang.t("Contraseña actual")),
        Field::password("new_password", lang.t("Contraseña nueva")),
        Field::password("new_password_again", lang.t("Repetir contraseña nueva")),
        Field::button("save_password", lang.t("Cambiar contraseña")),
    ])
}

impl State {
    pub(super) fn account_command(&mut self, command: Command) {
        let lang = self.lang;
        let is_super = self.is_super();
        let Some(main) = self.main_mut() else { return };
        let form = &mut main.account;
        match form_command(form, command) {
            FormOutcome::Submit if !form.busy => {
                if form.focus < PASSWORD_PART {
                    if !is_super {
                        form.error = Some(
                            lang.t(
                                "Solo el Súper Administrador puede cambiar el nombre de la cuenta",
                            )
                            .into(),
                        );
                        return;
                    }
                    form.clear_errors();
                    form.busy = true;
                    let name = form.text("account_name");
                    self.send(Request::UpdateAccount(name));
                } else {
                    if form.text("new_password") != form.text("new_password_again") {
                        form.set_errors(
                            &FieldErrors::single(
                                "new_password_again",
                                lang.t("Las contraseñas no coinciden"),
                            ),
                            None,
                        );
                        return;
                    }
                    form.clear_errors();
                    form.busy = true;
                    let change = PasswordChange {
                        current_password: form.text("current_password").into(),
                        new_password: form.text("new_password").into(),
                    };
                    self.send(Request::ChangePassword(change));
                }
            }
            FormOutcome::Cancel => {
                if form.dirty {
                    self.ask(
                        lang.t("Hay cambios sin guardar. ¿Salir de todos modos?"),
                        Then::LeaveForm,
                    );
                } else {
                    main.in_content = false;
                }
            }
            _ => {}
        }
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, main: &Main) {
    super::form::render(frame, area, &main.account, state.lang, main.in_content);
}
