//! Cuentas de Usuarios: the tabs Usuarios (list, create, edit role, disable) and Permisos
//! (permission groups with their module × action matrix).

use super::{Answer, Flow, Screen};
use crate::client::ClientError;
use crate::domain::{Module, NewUser, PermissionGroup, Role, User, UserPatch};
use crate::terminal::clean;
use crate::tui::action::Command;
use crate::tui::api::{Request, RequestId, Response};
use crate::tui::context::{Context, Then};
use crate::tui::dialog::Dialog;
use crate::tui::fit;
use crate::tui::form::{Field, Form, FormOutcome, form_bindings, form_command};
pub use crate::tui::group_modal::GroupModal;
use crate::tui::i18n::Lang;
use crate::tui::keymap::{Binding, bar, help};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Row, Table, TableState, Tabs};

/// The two tabs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UsersTab {
    #[default]
    Users,
    Groups,
}

impl UsersTab {
    fn other(self) -> UsersTab {
        match self {
            UsersTab::Users => UsersTab::Groups,
            UsersTab::Groups => UsersTab::Users,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The dialogs of this screen.
pub enum UsersDialog {
    User(UserModal),
    Group(GroupModal),
}

impl UsersDialog {
    pub fn form(&self) -> &Form {
        match self {
            UsersDialog::User(m) => &m.form,
            UsersDialog::Group(m) => &m.form,
        }
    }

    fn form_mut(&mut self) -> &mut Form {
        match self {
            UsersDialog::User(m) => &mut m.form,
            UsersDialog::Group(m) => &mut m.form,
        }
    }
}

#[derive(Default)]
pub struct UsersScreen {
    pub tab: UsersTab,
    pub users: Vec<User>,
    pub groups: Vec<PermissionGroup>,
    /// The module catalog (rows of the permission matrix).
    pub modules: Vec<Module>,
    pub users_selected: usize,
    pub groups_selected: usize,
    pub dialog: Option<UsersDialog>,
}

const ROLES: [Role; 3] = [Role::SuperAdmin, Role::Admin, Role::ReadOnly];

pub struct UserModal {
    pub form: Form,
    pub editing: Option<User>,
}

impl UserModal {
    pub fn new(lang: Lang, editing: Option<&User>) -> UserModal {
        let roles: Vec<String> = ROLES.iter().map(|r| lang.role(*r).to_string()).collect();
        let role = editing.map_or(1, |u| ROLES.iter().position(|r| *r == u.role).unwrap_or(1));
        let mut fields = Vec::new();
        match editing {
            None => {
                fields.push(Field::text("username", lang.t("Usuario"), ""));
                fields.push(Field::text(
                    "display_name",
                    lang.t("Nombre para mostrar"),
                    "",
                ));
                fields.push(Field::password("password", lang.t("Contraseña")));
            }
            Some(user) => {
                fields.push(Field::text(
                    "display_name",
                    lang.t("Nombre para mostrar"),
                    &user.display_name,
                ));
            }
        }
        fields.push(Field::select("role", lang.t("Rol"), roles, role));
        if let Some(user) = editing {
            fields.push(Field::checkbox(
                "disabled",
                lang.t("Deshabilitado"),
                user.disabled,
            ));
        }
        fields.push(Field::button("save", lang.t("Guardar")));
        fields.push(Field::button("cancel", lang.t("Cancelar")));
        UserModal {
            form: Form::new(fields),
            editing: editing.cloned(),
        }
    }

    fn request(&self) -> Option<Request> {
        let role = ROLES[self.form.selected("role").min(2)];
        match &self.editing {
            None => Some(Request::CreateUser(NewUser {
                username: self.form.text("username").trim().to_string(),
                display_name: self.form.text("display_name"),
                password: self.form.text("password").into(),
                role,
            })),
            Some(old) => {
                let display_name = self.form.text("display_name");
                let disabled = self.form.checked("disabled");
                let patch = UserPatch {
                    display_name: (display_name.trim() != old.display_name).then_some(display_name),
                    role: (role != old.role).then_some(role),
                    disabled: (disabled != old.disabled).then_some(disabled),
                    password: None,
                };
                let empty = patch.display_name.is_none()
                    && patch.role.is_none()
                    && patch.disabled.is_none();
                (!empty).then_some(Request::UpdateUser(old.id, patch))
            }
        }
    }
}

impl UsersScreen {
    fn dialog_command(&mut self, ctx: &mut Context, command: Command) {
        let Some(dialog) = &mut self.dialog else {
            return;
        };
        let outcome = form_command(dialog.form_mut(), command);
        match outcome {
            FormOutcome::Submit if !dialog.form().busy => {
                let request = match dialog {
                    UsersDialog::User(modal) => modal.request(),
                    UsersDialog::Group(modal) => Some(modal.request()),
                };
                match request {
                    Some(request) => {
                        let form = dialog.form_mut();
                        form.busy = true;
                        form.clear_errors();
                        ctx.send(request);
                    }
                    None => self.dialog = None,
                }
            }
            FormOutcome::Cancel => {
                if dialog.form().dirty {
                    ctx.ask(
                        ctx.lang
                            .t("Hay cambios sin guardar. ¿Cerrar de todos modos?"),
                        Then::Discard,
                    );
                } else {
                    self.dialog = None;
                }
            }
            _ => {}
        }
    }

    fn clamp(&mut self) {
        self.users_selected = self.users_selected.min(self.users.len().saturating_sub(1));
        self.groups_selected = self
            .groups_selected
            .min(self.groups.len().saturating_sub(1));
    }
}

impl Screen for UsersScreen {
    fn bindings(&self, ctx: &Context) -> Vec<Binding> {
        if let Some(dialog) = &self.dialog {
            return form_bindings(dialog.form(), "Guardar");
        }
        let mut keys = vec![
            bar(Command::Right, "Pestaña"),
            help(Command::Left, "Pestaña"),
            bar(Command::Up, "Mover"),
            help(Command::Down, "Mover"),
        ];
        let can_write = match self.tab {
            UsersTab::Users => ctx.is_super(),
            UsersTab::Groups => ctx.is_admin(),
        };
        if can_write {
            keys.push(bar(Command::New, "Nuevo"));
            keys.push(bar(Command::Enter, "Editar"));
            keys.push(bar(Command::Delete, "Eliminar"));
            if self.tab == UsersTab::Users {
                keys.push(bar(Command::EnableToggle, "Habilitar/Deshabilitar"));
            }
        }
        keys.push(help(Command::Refresh, "Actualizar"));
        keys
    }

    fn open(&mut self, ctx: &mut Context) {
        if ctx.is_admin() {
            ctx.send(Request::Users);
        }
        ctx.send(Request::Groups);
    }

    fn command(&mut self, ctx: &mut Context, command: Command) -> Flow {
        if self.dialog.is_some() {
            self.dialog_command(ctx, command);
            return Flow::Stay;
        }
        let lang = ctx.lang;
        let users_tab = self.tab == UsersTab::Users;
        // Who may write on this tab: users are the Súper Administrador's, groups any admin's.
        let can = if users_tab {
            ctx.is_super()
        } else {
            ctx.is_admin()
        };
        let (selected, len) = if users_tab {
            (&mut self.users_selected, self.users.len())
        } else {
            (&mut self.groups_selected, self.groups.len())
        };
        match command {
            Command::Left | Command::Right => self.tab = self.tab.other(),
            Command::Up => *selected = selected.saturating_sub(1),
            Command::Down => *selected = (*selected + 1).min(len.saturating_sub(1)),
            Command::Back | Command::Prev => return Flow::Leave,
            Command::Refresh => {
                ctx.send(Request::Users);
                ctx.send(Request::Groups);
            }
            Command::New if can && users_tab => {
                self.dialog = Some(UsersDialog::User(UserModal::new(lang, None)));
            }
            Command::New if can => {
                if self.modules.is_empty() {
                    ctx.send(Request::Modules);
                    return Flow::Stay;
                }
                self.dialog = Some(UsersDialog::Group(GroupModal::new(
                    lang,
                    &self.modules,
                    None,
                )));
            }
            Command::Enter if can && users_tab => {
                if let Some(user) = self.users.get(self.users_selected) {
                    self.dialog = Some(UsersDialog::User(UserModal::new(lang, Some(user))));
                }
            }
            Command::Enter if can => {
                if let Some(group) = self.groups.get(self.groups_selected) {
                    self.dialog = Some(UsersDialog::Group(GroupModal::new(
                        lang,
                        &self.modules,
                        Some(group),
                    )));
                }
            }
            Command::Delete if can && users_tab => {
                let Some(user) = self.users.get(self.users_selected) else {
                    return Flow::Stay;
                };
                if user.role == Role::SuperAdmin {
                    ctx.toast(lang.t("El Súper Administrador no se puede eliminar"));
                    return Flow::Stay;
                }
                let (name, id) = (user.username.clone(), user.id);
                ctx.ask_delete(
                    "¿Eliminar el usuario {}?",
                    &name,
                    "Perderá el acceso. No se puede deshacer.",
                    Then::Send(Request::DeleteUser(id)),
                );
            }
            Command::Delete if can => {
                if let Some(group) = self.groups.get(self.groups_selected) {
                    let (name, id) = (group.name.clone(), group.id);
                    ctx.ask_delete(
                        "¿Eliminar el grupo de permisos {}?",
                        &name,
                        "No se puede deshacer.",
                        Then::Send(Request::DeleteGroup(id)),
                    );
                }
            }
            Command::EnableToggle if can && users_tab => {
                if let Some(user) = self.users.get(self.users_selected) {
                    ctx.send(Request::UpdateUser(
                        user.id,
                        UserPatch {
                            disabled: Some(!user.disabled),
                            ..UserPatch::default()
                        },
                    ));
                }
            }
            _ => {}
        }
        Flow::Stay
    }

    fn dialog(&self, ctx: &Context) -> Option<Dialog<'_>> {
        let lang = ctx.lang;
        let dialog = self.dialog.as_ref()?;
        let title = match dialog {
            UsersDialog::User(m) if m.editing.is_some() => lang.t("Editar usuario"),
            UsersDialog::User(_) => lang.t("Nuevo usuario"),
            UsersDialog::Group(m) if m.editing.is_some() => lang.t("Editar grupo de permisos"),
            UsersDialog::Group(_) => lang.t("Nuevo grupo de permisos"),
        };
        Some(Dialog::new(title, dialog.form()))
    }

    fn form(&self) -> Option<&Form> {
        self.dialog.as_ref().map(UsersDialog::form)
    }

    fn form_mut(&mut self) -> Option<&mut Form> {
        self.dialog.as_mut().map(UsersDialog::form_mut)
    }

    fn on_response(&mut self, ctx: &mut Context, answer: Answer) -> Option<Answer> {
        let lang = ctx.lang;
        match answer.response {
            // The consumer screen keeps a copy too (its modal creates groups).
            Response::Modules(ref modules) => {
                self.modules.clone_from(modules);
                return Some(answer);
            }
            // The consumer screen keeps its own copy for its group select.
            Response::Groups(ref groups) => {
                self.groups.clone_from(groups);
                self.clamp();
                return Some(answer);
            }
            // A group saved from elsewhere (the consumer modal's "+ Nuevo grupo…").
            Response::Group(_) if !matches!(self.dialog, Some(UsersDialog::Group(_))) => {
                return Some(answer);
            }
            Response::Group(_) => {
                self.dialog = None;
                ctx.toast(lang.t("Grupo de permisos guardado"));
                ctx.send(Request::Groups);
            }
            Response::Users(users) => {
                self.users = users;
                self.clamp();
            }
            Response::User(_) => {
                self.dialog = None;
                ctx.toast(lang.t("Usuario guardado"));
                ctx.send(Request::Users);
            }
            Response::UserDeleted(deleted) => {
                self.users.retain(|u| u.id != deleted);
                self.clamp();
                ctx.toast(lang.t("Usuario eliminado"));
            }
            Response::GroupDeleted(deleted) => {
                self.groups.retain(|g| g.id != deleted);
                self.clamp();
                ctx.toast(lang.t("Grupo eliminado"));
            }
            _ => return Some(answer),
        }
        None
    }

    fn on_error(
        &mut self,
        ctx: &mut Context,
        _id: RequestId,
        request: &Request,
        error: &ClientError,
    ) -> bool {
        let form = match (&mut self.dialog, request) {
            (Some(UsersDialog::User(m)), Request::CreateUser(_) | Request::UpdateUser(..)) => {
                &mut m.form
            }
            (Some(UsersDialog::Group(m)), Request::CreateGroup(_) | Request::UpdateGroup(..)) => {
                &mut m.form
            }
            _ => return false,
        };
        form.refused(ctx.lang, error);
        true
    }

    fn dirty(&self) -> bool {
        self.dialog.as_ref().is_some_and(|d| d.form().dirty)
    }

    fn discard(&mut self) -> Flow {
        self.dialog = None;
        Flow::Stay
    }

    fn render(&self, frame: &mut Frame, area: Rect, ctx: &Context, _focused: bool) {
        render(frame, area, ctx, self);
    }
}

fn render(frame: &mut Frame, area: Rect, ctx: &Context, main: &UsersScreen) {
    let lang = ctx.lang;
    let [tabs, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(0)]).areas(area);
    let titles = [lang.t("Usuarios"), lang.t("Permisos")];
    crate::tui::mouse::tabs(&ctx.hits, tabs, &titles, main.tab.index());
    frame.render_widget(
        Tabs::new(vec![lang.t("Usuarios"), lang.t("Permisos")])
            .select(main.tab.index())
            .highlight_style(
                Style::default()
                    .fg(Color::Cyan)
                    .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            ),
        tabs,
    );
    // One table, either tab: its header, rows, widths and the selected row.
    let (header, rows, widths, selected): (Vec<&str>, Vec<Vec<String>>, [Constraint; 5], usize) =
        if main.tab == UsersTab::Users {
            if !ctx.is_admin() {
                frame.render_widget(
                    ratatui::widgets::Paragraph::new(lang.t("Su rol no permite ver los usuarios.")),
                    body,
                );
                return;
            }
            let rows = main.users.iter().map(|u| {
                vec![
                    clean(&u.username).into_owned(),
                    clean(&u.display_name).into_owned(),
                    lang.role(u.role).to_string(),
                    if u.disabled {
                        lang.t("Deshabilitado")
                    } else {
                        lang.t("Activo")
                    }
                    .to_string(),
                    u.created_at.format("%Y-%m-%d").to_string(),
                ]
            });
            (
                vec![
                    lang.t("Usuario"),
                    lang.t("Nombre"),
                    lang.t("Rol"),
                    lang.t("Estado"),
                    lang.t("Creado"),
                ],
                rows.collect(),
                [
                    Constraint::Fill(2),
                    Constraint::Fill(3),
                    Constraint::Fill(2),
                    Constraint::Length(13),
                    Constraint::Length(10),
                ],
                main.users_selected,
            )
        } else {
            let rows = main.groups.iter().map(|g| {
                vec![
                    clean(&g.name).into_owned(),
                    clean(&g.description).into_owned(),
                    if g.read_only {
                        lang.t("Sí")
                    } else {
                        lang.t("No")
                    }
                    .to_string(),
                    g.permissions.len().to_string(),
                    g.consumer_count.to_string(),
                ]
            });
            (
                vec![
                    lang.t("Nombre"),
                    lang.t("Descripción"),
                    lang.t("Solo lectura"),
                    lang.t("Módulos"),
                    lang.t("Consumidores"),
                ],
                rows.collect(),
                [
                    Constraint::Fill(2),
                    Constraint::Fill(3),
                    Constraint::Length(12),
                    Constraint::Length(8),
                    Constraint::Length(12),
                ],
                main.groups_selected,
            )
        };
    let empty = rows.is_empty().then(|| {
        let (can, hint, plain) = match main.tab {
            UsersTab::Users => (
                ctx.is_super(),
                "No hay usuarios. Pulse + para crear uno.",
                "No hay usuarios.",
            ),
            UsersTab::Groups => (
                ctx.is_admin(),
                "No hay grupos de permisos. Pulse + para crear uno.",
                "No hay grupos de permisos.",
            ),
        };
        lang.t(if can { hint } else { plain })
    });
    let shown = (!rows.is_empty()).then_some(selected);
    // The table scrolls just enough to show the selection (its state is new each frame).
    let visible = usize::from(body.height.saturating_sub(1)).max(1);
    let offset = selected.saturating_sub(visible - 1);
    let first = Rect {
        y: body.y.saturating_add(1),
        height: body.height.saturating_sub(1),
        ..body
    };
    crate::tui::mouse::rows(
        &ctx.hits,
        first,
        rows.len().saturating_sub(offset),
        shown.map(|s| s - offset),
    );
    let mut table_state = TableState::default().with_selected(shown);
    // Every cell and header is cut to its column with "…".
    let columns = fit::column_widths(body.width, &widths);
    let rows: Vec<Row> = rows
        .iter()
        .map(|cells| fit::plain_row(cells, &columns))
        .collect();
    let header =
        fit::plain_row(header, &columns).style(Style::default().add_modifier(Modifier::BOLD));
    frame.render_stateful_widget(
        Table::new(rows, fit::lengths(&columns))
            .header(header)
            .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED)),
        body,
        &mut table_state,
    );
    crate::tui::dialog::under_header(frame, body, empty);
}
