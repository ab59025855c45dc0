//! Configuración: the sidebar of twelve sections, moving between sidebar and content, and
//! the sections this console does not manage.

use super::action::Command;
use super::api::Request;
use super::keymap::{Binding, bar, help};
use super::state::{
    Main, Modal, Page, SECTION_ACCOUNT, SECTION_API, SECTION_AUDIT, SECTION_SECURITY,
    SECTION_USERS, SECTIONS, State, form_bindings,
};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph, Wrap};

impl State {
    pub(super) fn settings_bindings(&self, main: &Main) -> Vec<Binding> {
        if !main.in_content {
            return vec![
                bar(Command::Up, "Mover"),
                help(Command::Down, "Mover"),
                bar(Command::Enter, "Abrir sección"),
                help(Command::Next, "Ir al contenido"),
                bar(Command::Back, "Volver al Dashboard"),
            ];
        }
        let mut keys = match main.section {
            SECTION_API => self.api_bindings(main),
            SECTION_USERS => self.users_bindings(main),
            SECTION_AUDIT => self.audit_bindings(main),
            SECTION_SECURITY => self.security_bindings(),
            SECTION_ACCOUNT => {
                let mut keys = form_bindings(&main.account, "Guardar");
                keys.retain(|b| b.command != Command::Back);
                keys
            }
            _ => Vec::new(),
        };
        if main.consumers.filter_input.is_none() || main.section != SECTION_API {
            keys.push(bar(Command::Back, "Menú lateral"));
        }
        if main.section != SECTION_ACCOUNT {
            keys.push(help(Command::Prev, "Menú lateral"));
        }
        keys
    }

    pub(super) fn settings_command(&mut self, command: Command) {
        let Some(main) = self.main_mut() else { return };
        if !main.in_content {
            match command {
                Command::Up => {
                    main.section = main.section.checked_sub(1).unwrap_or(SECTIONS.len() - 1)
                }
                Command::Down => main.section = (main.section + 1) % SECTIONS.len(),
                Command::Enter | Command::Next => {
                    main.in_content = true;
                    self.open_section();
                }
                Command::Back => main.page = Page::Dashboard,
                _ => {}
            }
            return;
        }
        match main.section {
            SECTION_API => self.api_command(command),
            SECTION_USERS => self.users_command(command),
            SECTION_AUDIT => self.audit_command(command),
            SECTION_SECURITY => self.security_command(command),
            SECTION_ACCOUNT => self.account_command(command),
            _ => {
                if matches!(command, Command::Back | Command::Prev) {
                    main.in_content = false;
                }
            }
        }
    }

    /// Loads what the section shows.
    fn open_section(&mut self) {
        let Some(main) = self.main() else { return };
        match main.section {
            SECTION_API => {
                let load_consumers = !main.consumers.loaded && main.consumers.loading.is_none();
                self.send(Request::ApiKey);
                if load_consumers {
                    self.load_consumers(None);
                }
            }
            SECTION_USERS => {
                if self.is_admin() {
                    self.send(Request::Users);
                }
                self.send(Request::Groups);
            }
            SECTION_AUDIT if self.is_admin() => self.reload_audit(),
            SECTION_SECURITY => {
                self.send(Request::SigningKeys);
            }
            SECTION_ACCOUNT => {
                self.send(Request::Account);
            }
            _ => {}
        }
    }

    pub(super) fn modal_bindings(&self, modal: &Modal) -> Vec<Binding> {
        match modal {
            Modal::Consumer(m) => {
                // Once created, the modal only shows the credentials: Ctrl+S closes it.
                let save = if m.created { "Cerrar" } else { "Guardar" };
                let mut keys = form_bindings(&m.form, save);
                if m.editing.is_some() {
                    keys.push(help(Command::Reload, "Recargar (conserva lo escrito)"));
                }
                keys
            }
            Modal::Rotate(m) => form_bindings(&m.form, "Rotar"),
            Modal::Secret(f) | Modal::Detail(f) => form_bindings(f, "Cerrar"),
            Modal::User(m) => form_bindings(&m.form, "Guardar"),
            Modal::Group(m) => form_bindings(&m.form, "Guardar"),
            Modal::AuditFilter(f) => form_bindings(f, "Aplicar filtro"),
        }
    }

    pub(super) fn modal_command(&mut self, command: Command) {
        let Some(main) = self.main_mut() else { return };
        match &main.modal {
            Some(Modal::Consumer(_)) => self.consumer_modal_command(command),
            Some(Modal::Rotate(_)) => self.rotate_modal_command(command),
            Some(Modal::Secret(_) | Modal::Detail(_)) => self.secret_modal_command(command),
            Some(Modal::User(_)) => self.user_modal_command(command),
            Some(Modal::Group(_)) => self.group_modal_command(command),
            Some(Modal::AuditFilter(_)) => self.audit_filter_command(command),
            None => {}
        }
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, main: &Main) {
    let lang = state.lang;
    let [sidebar, content] =
        Layout::horizontal([Constraint::Length(26), Constraint::Min(0)]).areas(area);
    let items: Vec<ListItem> = SECTIONS.iter().map(|s| ListItem::new(lang.t(s))).collect();
    let border = |focused: bool| {
        if focused {
            Style::default().fg(Color::Cyan)
        } else {
            Style::default().fg(Color::DarkGray)
        }
    };
    let mut list_state = ListState::default().with_selected(Some(main.section));
    frame.render_stateful_widget(
        List::new(items)
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(border(!main.in_content))
                    .title(lang.t("Configuración")),
            )
            .highlight_style(Style::default().add_modifier(Modifier::REVERSED))
            .highlight_symbol("› "),
        sidebar,
        &mut list_state,
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border(main.in_content))
        .title(lang.t(SECTIONS[main.section.min(SECTIONS.len() - 1)]));
    let inner = block.inner(content);
    frame.render_widget(block, content);
    match main.section {
        SECTION_API => super::api_key::render(frame, inner, state, main),
        SECTION_USERS => super::users::render(frame, inner, state, main),
        SECTION_AUDIT => super::audit::render(frame, inner, state, main),
        SECTION_SECURITY => super::security::render(frame, inner, state, main),
        SECTION_ACCOUNT => super::account::render(frame, inner, state, main),
        _ => {
            let text = format!(
                "{} «{}». {}",
                lang.t("Esta consola no administra"),
                lang.t(SECTIONS[main.section.min(SECTIONS.len() - 1)]),
                lang.t("Use la aplicación web para esta sección.")
            );
            frame.render_widget(
                Paragraph::new(vec![Line::default(), Line::raw(text)]).wrap(Wrap { trim: true }),
                inner,
            );
        }
    }
}
