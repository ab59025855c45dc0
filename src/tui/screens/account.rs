//! Cuenta: the account's name, changing one's own password, and one's SSH keys (Claves
//! SSH: with one of them, `ssh` opens the console signed in as this user).

use super::{Answer, Flow, Screen};
use crate::client::ClientError;
use crate::domain::ssh_key::{NewSshKey, SshKey};
use crate::domain::{FieldErrors, PasswordChange};
use crate::terminal::clean;
use crate::tui::action::Command;
use crate::tui::api::{Request, RequestId, Response};
use crate::tui::context::{Context, Then};
use crate::tui::dialog::Dialog;
use crate::tui::form::{Field, Form, FormOutcome, form_bindings, form_command};
use crate::tui::i18n::Lang;
use crate::tui::keymap::Binding;
use ratatui::Frame;
use ratatui::layout::Rect;

/// The field of each of the user's SSH keys, in the order of `keys`.
const SSH_KEY: &str = "ssh_key";
/// What the user types in the screen's form, kept when its key list changes.
const TYPED: [&str; 4] = [
    "account_name",
    "current_password",
    "new_password",
    "new_password_again",
];

pub struct AccountScreen {
    pub form: Form,
    /// The account's name as the server last said.
    name: String,
    /// The signed-in user's SSH keys.
    pub keys: Vec<SshKey>,
    /// The form that adds a key, when open.
    pub adding: Option<Form>,
}

fn form(lang: Lang, account_name: &str, keys: &[SshKey]) -> Form {
    let mut fields = vec![
        Field::text("account_name", lang.t("Nombre de la cuenta"), account_name),
        Field::button("save_name", lang.t("Guardar nombre")),
        Field::heading(lang.t("Cambiar mi contraseña")),
        Field::password("current_password", lang.t("Contraseña actual")),
        Field::password("new_password", lang.t("Contraseña nueva")),
        Field::password("new_password_again", lang.t("Repetir contraseña nueva")),
        Field::button("save_password", lang.t("Cambiar contraseña")),
        Field::heading(lang.t("Claves SSH")),
        Field::note(
            "ssh_note",
            lang.t("Con una de estas claves, ssh abre la consola como usted."),
        ),
        Field::note(
            "ssh_remove_note",
            lang.t("Enter sobre una clave la elimina."),
        ),
    ];
    for key in keys {
        fields.push(Field::button(
            SSH_KEY,
            &format!(
                "{} · {}",
                clean(&key.name),
                short_fingerprint(&key.fingerprint)
            ),
        ));
    }
    fields.push(Field::button("add_ssh_key", lang.t("Añadir clave SSH…")));
    Form::new(fields)
}

/// Enough of a fingerprint to tell keys apart in a button that fits 80 columns
/// (`SHA256:` and ten characters); `consola ssh-keys list` shows it whole.
fn short_fingerprint(fingerprint: &str) -> String {
    const SHOWN: usize = "SHA256:".len() + 10;
    if fingerprint.chars().count() <= SHOWN {
        return fingerprint.to_string();
    }
    let mut short: String = fingerprint.chars().take(SHOWN).collect();
    short.push('…');
    short
}

fn adding_form(lang: Lang) -> Form {
    Form::new(vec![
        Field::text("name", lang.t("Nombre"), ""),
        Field::text("public_key", lang.t("Clave pública"), ""),
        Field::note(
            "public_key_note",
            lang.t("Pegue la línea de su archivo .pub (por ejemplo ~/.ssh/id_ed25519.pub)."),
        ),
        Field::button("save", lang.t("Guardar")),
        Field::button("cancel", lang.t("Cancelar")),
    ])
}

impl AccountScreen {
    pub fn new(lang: Lang) -> AccountScreen {
        AccountScreen {
            form: form(lang, "", &[]),
            name: String::new(),
            keys: Vec::new(),
            adding: None,
        }
    }

    /// The form again around a new key list, with what was typed and the focus kept.
    fn rebuild(&mut self, lang: Lang) {
        let mut next = form(lang, &self.name, &self.keys);
        for name in TYPED {
            next.set_text(name, &self.form.text(name));
        }
        let focused = self.form.focused_name();
        next.dirty = self.form.dirty;
        next.focus = self.form.focus.min(next.fields.len().saturating_sub(1));
        if focused != SSH_KEY {
            next.focus_on(focused);
        }
        self.form = next;
    }

    /// The key whose field has the focus.
    fn focused_key(&self) -> Option<&SshKey> {
        let before = self.form.fields[..self.form.focus.min(self.form.fields.len())]
            .iter()
            .filter(|f| f.name == SSH_KEY)
            .count();
        (self.form.focused_name() == SSH_KEY)
            .then(|| self.keys.get(before))
            .flatten()
    }

    fn adding_command(&mut self, ctx: &mut Context, command: Command) {
        let Some(adding) = &mut self.adding else {
            return;
        };
        match form_command(adding, command) {
            FormOutcome::Submit if adding.focused_name() == "cancel" => self.adding = None,
            FormOutcome::Submit if !adding.busy => {
                adding.clear_errors();
                adding.busy = true;
                ctx.send(Request::AddSshKey(NewSshKey {
                    name: adding.text("name"),
                    public_key: adding.text("public_key"),
                }));
            }
            FormOutcome::Cancel => {
                if adding.dirty {
                    ctx.ask(
                        ctx.lang
                            .t("Hay cambios sin guardar. ¿Cerrar de todos modos?"),
                        Then::Discard,
                    );
                } else {
                    self.adding = None;
                }
            }
            _ => {}
        }
    }
}

impl Screen for AccountScreen {
    fn bindings(&self, _ctx: &Context) -> Vec<Binding> {
        if let Some(adding) = &self.adding {
            return form_bindings(adding, "Guardar");
        }
        let mut keys = form_bindings(&self.form, "Guardar");
        // Esc goes back to the sidebar here (the settings list names it).
        keys.retain(|b| b.command != Command::Back);
        keys
    }

    fn open(&mut self, ctx: &mut Context) {
        ctx.send(Request::Account);
        ctx.send(Request::SshKeys);
    }

    fn dialog(&self, ctx: &Context) -> Option<Dialog<'_>> {
        let title = ctx.lang.t("Nueva clave SSH");
        self.adding.as_ref().map(|form| Dialog::new(title, form))
    }

    fn command(&mut self, ctx: &mut Context, command: Command) -> Flow {
        if self.adding.is_some() {
            self.adding_command(ctx, command);
            return Flow::Stay;
        }
        let lang = ctx.lang;
        let is_super = ctx.is_super();
        let focused_key = self.focused_key().map(|k| (k.name.clone(), k.id));
        let form = &mut self.form;
        let focused = form.focused_name();
        match form_command(form, command) {
            FormOutcome::Submit if focused == "add_ssh_key" => {
                self.adding = Some(adding_form(lang));
            }
            FormOutcome::Submit if focused == SSH_KEY => {
                if let Some((name, id)) = focused_key {
                    ctx.ask_delete(
                        "¿Eliminar la clave SSH {}?",
                        &name,
                        "Sus sesiones SSH abiertas con ella terminan.",
                        Then::Send(Request::DeleteSshKey(id)),
                    );
                }
            }
            FormOutcome::Submit if !form.busy => {
                if matches!(focused, "account_name" | "save_name") {
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
        Some(self.adding.as_ref().unwrap_or(&self.form))
    }

    fn form_mut(&mut self) -> Option<&mut Form> {
        Some(self.adding.as_mut().unwrap_or(&mut self.form))
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
                self.form = form(ctx.lang, &self.name, &self.keys);
                ctx.toast(ctx.lang.t("Contraseña cambiada"));
                None
            }
            Response::SshKeys(keys) => {
                self.keys.clone_from(keys);
                self.rebuild(ctx.lang);
                None
            }
            Response::SshKeyAdded(key) => {
                self.keys.push(key.clone());
                self.adding = None;
                self.rebuild(ctx.lang);
                self.form.focus_on("add_ssh_key");
                ctx.toast(ctx.lang.t("Clave SSH añadida"));
                None
            }
            Response::SshKeyDeleted(id) => {
                self.keys.retain(|k| k.id != *id);
                self.rebuild(ctx.lang);
                ctx.toast(ctx.lang.t("Clave SSH eliminada"));
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
        match request {
            Request::AddSshKey(_) => match &mut self.adding {
                Some(adding) => {
                    adding.refused(ctx.lang, error);
                    true
                }
                None => false,
            },
            Request::UpdateAccount(_) | Request::ChangePassword(_) => {
                self.form.refused(ctx.lang, error);
                true
            }
            _ => false,
        }
    }

    fn dirty(&self) -> bool {
        self.adding.as_ref().map_or(self.form.dirty, |a| a.dirty)
    }

    fn discard(&mut self) -> Flow {
        if self.adding.take().is_some() {
            return Flow::Stay;
        }
        self.form.dirty = false;
        Flow::Leave
    }

    fn render(&self, frame: &mut Frame, area: Rect, ctx: &Context, focused: bool) {
        crate::tui::form::render(frame, area, &self.form, ctx.lang, focused);
        crate::tui::form::clickable(&ctx.hits, area, &self.form, ctx.lang);
    }
}
