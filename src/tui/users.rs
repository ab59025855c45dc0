//! Cuentas de Usuarios: the tabs Usuarios (list, create, edit role, disable) and Permisos
//! (permission groups with their module × action matrix).

use super::action::Command;
use super::api::Request;
use super::form::{Field, Form, Matrix};
use super::i18n::Lang;
use super::keymap::{Binding, bar, help};
use super::sanitize::clean;
use super::state::{FormOutcome, Main, Modal, State, Then, form_command};
use crate::domain::{
    Action as Permission, Module, ModulePermission, NewPermissionGroup, NewUser, PermissionGroup,
    PermissionGroupPatch, Role, User, UserPatch,
};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Row, Table, TableState, Tabs};

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

pub struct GroupModal {
    pub form: Form,
    pub editing: Option<PermissionGroup>,
}

impl GroupModal {
    pub fn new(lang: Lang, modules: &[Module], editing: Option<&PermissionGroup>) -> GroupModal {
        let checked = modules
            .iter()
            .map(|m| {
                let granted = editing
                    .and_then(|g| g.permissions.iter().find(|p| p.module == m.id))
                    .map(|p| p.actions.clone())
                    .unwrap_or_default();
                Permission::ALL
                    .iter()
                    .map(|a| granted.contains(a))
                    .collect()
            })
            .collect();
        let matrix = Matrix {
            rows: modules
                .iter()
                .map(|m| (m.id.clone(), m.name.clone()))
                .collect(),
            columns: Permission::ALL
                .iter()
                .map(|a| lang.action(*a).to_string())
                .collect(),
            checked,
            cursor: (0, 0),
        };
        let text = |f: fn(&PermissionGroup) -> String| editing.map(f).unwrap_or_default();
        GroupModal {
            form: Form::new(vec![
                Field::text("name", lang.t("Nombre"), &text(|g| g.name.clone())),
                Field::text(
                    "description",
                    lang.t("Descripción"),
                    &text(|g| g.description.clone()),
                ),
                Field::checkbox(
                    "read_only",
                    lang.t("Solo lectura"),
                    editing.is_some_and(|g| g.read_only),
                ),
                Field::matrix("permissions", lang.t("Permisos por módulo"), matrix),
                Field::button("save", lang.t("Guardar")),
                Field::button("cancel", lang.t("Cancelar")),
            ]),
            editing: editing.cloned(),
        }
    }

    fn permissions(&self) -> Vec<ModulePermission> {
        let Some(matrix) = self.form.matrix("permissions") else {
            return Vec::new();
        };
        matrix
            .rows
            .iter()
            .zip(&matrix.checked)
            .filter_map(|((id, _), row)| {
                let actions: Vec<Permission> = Permission::ALL
                    .iter()
                    .zip(row)
                    .filter(|(_, on)| **on)
                    .map(|(a, _)| *a)
                    .collect();
                (!actions.is_empty()).then(|| ModulePermission {
                    module: id.clone(),
                    actions,
                })
            })
            .collect()
    }

    fn request(&self) -> Request {
        let name = self.form.text("name");
        let description = self.form.text("description");
        let read_only = self.form.checked("read_only");
        let permissions = self.permissions();
        match &self.editing {
            None => Request::CreateGroup(NewPermissionGroup {
                name,
                description,
                read_only,
                permissions,
            }),
            Some(old) => Request::UpdateGroup(
                old.id,
                PermissionGroupPatch {
                    name: Some(name),
                    description: Some(description),
                    read_only: Some(read_only),
                    permissions: Some(permissions),
                },
            ),
        }
    }
}

impl State {
    pub(super) fn users_bindings(&self, main: &Main) -> Vec<Binding> {
        let mut keys = vec![
            bar(Command::Right, "Pestaña"),
            help(Command::Left, "Pestaña"),
            bar(Command::Up, "Mover"),
            help(Command::Down, "Mover"),
        ];
        let can_write = if main.users_tab == 0 {
            self.is_super()
        } else {
            self.is_admin()
        };
        if can_write {
            keys.push(bar(Command::New, "Nuevo"));
            keys.push(bar(Command::Enter, "Editar"));
            keys.push(bar(Command::Delete, "Eliminar"));
            if main.users_tab == 0 {
                keys.push(bar(Command::EnableToggle, "Habilitar/Deshabilitar"));
            }
        }
        keys.push(help(Command::Refresh, "Actualizar"));
        keys
    }

    pub(super) fn users_command(&mut self, command: Command) {
        let lang = self.lang;
        let can_users = self.is_super();
        let can_groups = self.is_admin();
        let Some(main) = self.main_mut() else { return };
        let (selected, len) = if main.users_tab == 0 {
            (&mut main.users_selected, main.users.len())
        } else {
            (&mut main.groups_selected, main.groups.len())
        };
        match command {
            Command::Left | Command::Right => main.users_tab = 1 - main.users_tab.min(1),
            Command::Up => *selected = selected.saturating_sub(1),
            Command::Down => *selected = (*selected + 1).min(len.saturating_sub(1)),
            Command::Back | Command::Prev => main.in_content = false,
            Command::Refresh => {
                self.send(Request::Users);
                self.send(Request::Groups);
            }
            Command::New if main.users_tab == 0 && can_users => {
                main.modal = Some(Modal::User(UserModal::new(lang, None)));
            }
            Command::New if main.users_tab == 1 && can_groups => {
                if main.modules.is_empty() {
                    self.send(Request::Modules);
                    return;
                }
                main.modal = Some(Modal::Group(GroupModal::new(lang, &main.modules, None)));
            }
            Command::Enter if main.users_tab == 0 && can_users => {
                if let Some(user) = main.users.get(main.users_selected) {
                    main.modal = Some(Modal::User(UserModal::new(lang, Some(user))));
                }
            }
            Command::Enter if main.users_tab == 1 && can_groups => {
                if let Some(group) = main.groups.get(main.groups_selected) {
                    main.modal = Some(Modal::Group(GroupModal::new(
                        lang,
                        &main.modules,
                        Some(group),
                    )));
                }
            }
            Command::Delete if main.users_tab == 0 && can_users => {
                let Some(user) = main.users.get(main.users_selected) else {
                    return;
                };
                if user.role == Role::SuperAdmin {
                    let message = lang.t("El Súper Administrador no se puede eliminar");
                    self.toast(message);
                    return;
                }
                let (name, id) = (user.username.clone(), user.id);
                self.ask_delete(
                    "¿Eliminar el usuario",
                    &name,
                    "Perderá el acceso. No se puede deshacer.",
                    Then::DeleteUser(id),
                );
            }
            Command::Delete if main.users_tab == 1 && can_groups => {
                if let Some(group) = main.groups.get(main.groups_selected) {
                    let (name, id) = (group.name.clone(), group.id);
                    self.ask_delete(
                        "¿Eliminar el grupo de permisos",
                        &name,
                        "No se puede deshacer.",
                        Then::DeleteGroup(id),
                    );
                }
            }
            Command::EnableToggle if main.users_tab == 0 && can_users => {
                if let Some(user) = main.users.get(main.users_selected) {
                    let request = Request::UpdateUser(
                        user.id,
                        UserPatch {
                            disabled: Some(!user.disabled),
                            ..UserPatch::default()
                        },
                    );
                    self.send(request);
                }
            }
            _ => {}
        }
    }

    pub(super) fn user_modal_command(&mut self, command: Command) {
        let lang = self.lang;
        let Some(main) = self.main_mut() else { return };
        let Some(Modal::User(modal)) = &mut main.modal else {
            return;
        };
        match form_command(&mut modal.form, command) {
            FormOutcome::Submit if !modal.form.busy => match modal.request() {
                Some(request) => {
                    modal.form.busy = true;
                    modal.form.clear_errors();
                    self.send(request);
                }
                None => main.modal = None,
            },
            FormOutcome::Cancel => self.close_modal_asking(lang),
            _ => {}
        }
    }

    pub(super) fn group_modal_command(&mut self, command: Command) {
        let lang = self.lang;
        let Some(main) = self.main_mut() else { return };
        let Some(Modal::Group(modal)) = &mut main.modal else {
            return;
        };
        match form_command(&mut modal.form, command) {
            FormOutcome::Submit if !modal.form.busy => {
                modal.form.busy = true;
                modal.form.clear_errors();
                let request = modal.request();
                self.send(request);
            }
            FormOutcome::Cancel => self.close_modal_asking(lang),
            _ => {}
        }
    }

    pub(super) fn close_modal_asking(&mut self, lang: Lang) {
        let Some(main) = self.main_mut() else { return };
        if main.modal.as_ref().is_some_and(|m| m.form().dirty) {
            self.ask(
                lang.t("Hay cambios sin guardar. ¿Cerrar de todos modos?"),
                Then::CloseModal,
            );
        } else {
            main.modal = None;
        }
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, main: &Main) {
    let lang = state.lang;
    let [tabs, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(0)]).areas(area);
    frame.render_widget(
        Tabs::new(vec![lang.t("Usuarios"), lang.t("Permisos")])
            .select(main.users_tab)
            .highlight_style(
                Style::default()
                    .fg(Color::Cyan)
                    .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            ),
        tabs,
    );
    // One table, either tab: its header, rows, widths and the selected row.
    let (header, rows, widths, selected): (Vec<&str>, Vec<Row>, [Constraint; 5], usize) =
        if main.users_tab == 0 {
            if !state.is_admin() {
                frame.render_widget(
                    ratatui::widgets::Paragraph::new(lang.t("Su rol no permite ver los usuarios.")),
                    body,
                );
                return;
            }
            let rows = main.users.iter().map(|u| {
                Row::new(vec![
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
                ])
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
                Row::new(vec![
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
                ])
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
    let mut table_state =
        TableState::default().with_selected((!rows.is_empty()).then_some(selected));
    frame.render_stateful_widget(
        Table::new(rows, widths)
            .header(Row::new(header).style(Style::default().add_modifier(Modifier::BOLD)))
            .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED)),
        body,
        &mut table_state,
    );
}
