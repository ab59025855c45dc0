//! Cuenta: the account's name and changing one's own password.

use super::{Answer, Flow, Screen};
use crate::client::ClientError;
use crate::domain::{FieldErrors, PasswordChange};
use crate::tui::action::Command;
use crate::tui::api::{Request, RequestId, Response};
use crate::tui::context::{Context, Then};
use crate::tui::form::{Field, Form, FormOutcome, form_bindings, form_command};
use crate::tui::i18n::Lang;
use crate::tui::keymap::Binding;
use ratatui::Frame;
use ratatui::layout::Rect;

/// Fields before this index belong to the account name; the rest to the password.
const PASSWORD_PART: usize = 2;

pub struct AccountScreen {
    pub form: Form,
    /// The account's name as the server last said.
    name: String,
}

fn form(lang: Lang, account_name: &str) -> Form {
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

impl AccountScreen {
    pub fn new(lang: Lang) -> AccountScreen {
        AccountScreen {
            form: form(lang, ""),
            name: String::new(),
        }
    }
}

impl Screen for AccountScreen {
    fn bindings(&self, _ctx: &Context) -> Vec<Binding> {
        let mut keys = form_bindings(&self.form, "Guardar");
        // Esc goes back to the sidebar here (the settings list names it).
        keys.retain(|b| b.command != Command::Back);
        keys
    }

    fn open(&mut self, ctx: &mut Context) {
        ctx.send(Request::Account);
    }

    fn command(&mut self, ctx: &mut Context, command: Command) -> Flow {
        let lang = ctx.lang;
        let is_super = ctx.is_super();
        let form = &mut self.form;
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
                        return Flow::Stay;
                    }
                    form.clear_errors();
                    form.busy = true;
                    ctx.send(Request::UpdateAccount(form.text("account_name")));
                } else {
                    if form.text("new_password") != form.text("new_password_again") {
                        form.set_errors(
                            &FieldErrors::single(
                                "new_password_again",
                                lang.t("Las contraseñas no coinciden"),
                            ),
                            None,
                        );
                        return Flow::Stay;
                    }
                    form.clear_errors();
                    form.busy = true;
                    ctx.send(Request::ChangePassword(PasswordChange {
                        current_password: form.text("current_password").into(),
                        new_password: form.text("new_password").into(),
                    }));
                }
            }
            FormOutcome::Cancel => {
                if form.dirty {
                    ctx.ask(
                        lang.t("Hay cambios sin guardar. ¿Salir de todos modos?"),
                        Then::Discard,
                    );
                } else {
                    return Flow::Leave;
                }
            }
            _ => {}
        }
        Flow::Stay
    }

    fn form(&self) -> Option<&Form> {
        Some(&self.form)
    }

    fn form_mut(&mut self) -> Option<&mut Form> {
        Some(&mut self.form)
    }

    fn on_response(&mut self, ctx: &mut Context, answer: Answer) -> Option<Answer> {
        match &answer.response {
            Response::Account(account) => {
                self.name.clone_from(&account.name);
                let form = &mut self.form;
                form.busy = false;
                let saved = matches!(answer.request, Request::UpdateAccount(_));
                if saved {
                    form.dirty = false;
                }
                if !form.dirty {
                    form.set_text("account_name", &account.name);
                }
                if saved {
                    ctx.toast(ctx.lang.t("Cuenta actualizada"));
                }
                None
            }
            Response::PasswordChanged => {
                self.form = form(ctx.lang, &self.name);
                ctx.toast(ctx.lang.t("Contraseña cambiada"));
                None
            }
            _ => Some(answer),
        }
    }

    fn on_error(
        &mut self,
        ctx: &mut Context,
        _id: RequestId,
        request: &Request,
        error: &ClientError,
    ) -> bool {
        if !matches!(
            request,
            Request::UpdateAccount(_) | Request::ChangePassword(_)
        ) {
            return false;
        }
        self.form.refused(ctx.lang, error);
        true
    }

    fn dirty(&self) -> bool {
        self.form.dirty
    }

    fn discard(&mut self) -> Flow {
        self.form.dirty = false;
        Flow::Leave
    }

    fn render(&self, frame: &mut Frame, area: Rect, ctx: &Context, focused: bool) {
        crate::tui::form::render(frame, area, &self.form, ctx.lang, focused);
        crate::tui::form::clickable(&ctx.hits, area, &self.form, ctx.lang);
    }
}
