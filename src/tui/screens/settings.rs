//! Configuración: the sidebar of twelve sections, moving between sidebar and content, and
//! the sections this console does not manage. Each managed section is its own screen.

use super::account::AccountScreen;
use super::api_key::ApiKeyScreen;
use super::audit::AuditScreen;
use super::security::SecurityScreen;
use super::users::UsersScreen;
use super::{Answer, Flow, Screen};
use crate::client::ClientError;
use crate::tui::action::Command;
use crate::tui::api::{Request, RequestId};
use crate::tui::context::Context;
use crate::tui::dialog::Dialog;
use crate::tui::form::Form;
use crate::tui::i18n::Lang;
use crate::tui::keymap::{Binding, bar, help};
use crate::tui::mouse::Target;
pub use crate::tui::section::Section;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph, Wrap};

/// Narrower terminals fold the sidebar while the focus is in the content.
pub const FOLD_BELOW: u16 = 100;

/// Configuración: where the focus is and every managed section's screen.
pub struct Settings {
    pub section: Section,
    /// Focus is in the section's content (not the sidebar).
    pub in_content: bool,
    pub users: UsersScreen,
    pub api: ApiKeyScreen,
    pub audit: AuditScreen,
    pub security: SecurityScreen,
    pub account: AccountScreen,
}

impl Settings {
    pub fn new(lang: Lang) -> Settings {
        Settings {
            section: Section::default(),
            in_content: false,
            users: UsersScreen::default(),
            api: ApiKeyScreen::default(),
            audit: AuditScreen::default(),
            security: SecurityScreen::default(),
            account: AccountScreen::new(lang),
        }
    }

    /// The screen of the current section; `None` for sections this console does not manage.
    fn screen(&self) -> Option<&dyn Screen> {
        Some(match self.section {
            Section::Users => &self.users,
            Section::Api => &self.api,
            Section::Audit => &self.audit,
            Section::Security => &self.security,
            Section::Account => &self.account,
            _ => return None,
        })
    }

    fn screen_mut(&mut self) -> Option<&mut dyn Screen> {
        Some(match self.section {
            Section::Users => &mut self.users,
            Section::Api => &mut self.api,
            Section::Audit => &mut self.audit,
            Section::Security => &mut self.security,
            Section::Account => &mut self.account,
            _ => return None,
        })
    }

    /// Every section's screen, for answers that may belong to any.
    fn screens_mut(&mut self) -> [&mut dyn Screen; 5] {
        [
            &mut self.users,
            &mut self.api,
            &mut self.audit,
            &mut self.security,
            &mut self.account,
        ]
    }

    /// Opens `section` with the focus in its content (a click on the sidebar).
    pub fn open_section(&mut self, ctx: &mut Context, section: Section) {
        self.section = section;
        self.in_content = true;
        if let Some(screen) = self.screen_mut() {
            screen.open(ctx);
        }
    }

    fn leave(&mut self, flow: Flow) -> Flow {
        if flow == Flow::Leave {
            self.in_content = false;
            return Flow::Stay;
        }
        flow
    }
}

impl Screen for Settings {
    fn bindings(&self, ctx: &Context) -> Vec<Binding> {
        if !self.in_content {
            return vec![
                bar(Command::Up, "Mover"),
                help(Command::Down, "Mover"),
                bar(Command::Enter, "Abrir sección"),
                help(Command::Next, "Ir al contenido"),
                bar(Command::Back, "Volver al Dashboard"),
            ];
        }
        let Some(screen) = self.screen() else {
            return vec![
                bar(Command::Back, "Menú lateral"),
                help(Command::Prev, "Menú lateral"),
            ];
        };
        let mut keys = screen.bindings(ctx);
        if screen.dialog(ctx).is_some() {
            return keys;
        }
        // Esc goes back to the sidebar unless the screen uses it (a filter line to cancel).
        if !keys.iter().any(|b| b.command == Command::Back) {
            keys.push(bar(Command::Back, "Menú lateral"));
        }
        // In a form, Shift+Tab is the previous field.
        if !keys.iter().any(|b| b.command == Command::Prev) {
            keys.push(help(Command::Prev, "Menú lateral"));
        }
        keys
    }

    fn command(&mut self, ctx: &mut Context, command: Command) -> Flow {
        if !self.in_content {
            match command {
                Command::Up => self.section = self.section.step(-1),
                Command::Down => self.section = self.section.step(1),
                Command::Enter | Command::Next => {
                    self.in_content = true;
                    if let Some(screen) = self.screen_mut() {
                        screen.open(ctx);
                    }
                }
                Command::Back => return Flow::Leave,
                _ => {}
            }
            return Flow::Stay;
        }
        let flow = match self.screen_mut() {
            Some(screen) => screen.command(ctx, command),
            None if matches!(command, Command::Back | Command::Prev) => Flow::Leave,
            None => Flow::Stay,
        };
        self.leave(flow)
    }

    fn dialog(&self, ctx: &Context) -> Option<Dialog<'_>> {
        self.screen()?.dialog(ctx)
    }

    fn form(&self) -> Option<&Form> {
        if !self.in_content {
            return None;
        }
        self.screen()?.form()
    }

    fn form_mut(&mut self) -> Option<&mut Form> {
        if !self.in_content {
            return None;
        }
        self.screen_mut()?.form_mut()
    }

    fn edited(&mut self) {
        if let Some(screen) = self.screen_mut() {
            screen.edited();
        }
    }

    fn on_response(&mut self, ctx: &mut Context, answer: Answer) -> Option<Answer> {
        let mut answer = Some(answer);
        for screen in self.screens_mut() {
            answer = screen.on_response(ctx, answer?);
        }
        answer
    }

    fn on_error(
        &mut self,
        ctx: &mut Context,
        id: RequestId,
        request: &Request,
        error: &ClientError,
    ) -> bool {
        // Every screen hears of it (a pager stops waiting); the first with a form shows it.
        let mut shown = false;
        for screen in self.screens_mut() {
            let here = screen.on_error(ctx, id, request, error);
            shown = shown || here;
        }
        shown
    }

    fn dirty(&self) -> bool {
        self.users.dirty()
            || self.api.dirty()
            || self.audit.dirty()
            || self.security.dirty()
            || self.account.dirty()
    }

    fn discard(&mut self) -> Flow {
        let flow = match self.screen_mut() {
            Some(screen) => screen.discard(),
            None => Flow::Stay,
        };
        self.leave(flow)
    }

    fn render(&self, frame: &mut Frame, area: Rect, ctx: &Context, _focused: bool) {
        render(frame, area, ctx, self);
    }
}

fn render(frame: &mut Frame, area: Rect, ctx: &Context, main: &Settings) {
    let lang = ctx.lang;
    // Below 100 columns the sidebar folds to a strip of initials while the focus is in the
    // content, so tables and dialogs get the room (the content's title names the section).
    let folded = area.width < FOLD_BELOW && main.in_content;
    let [sidebar, content] = Layout::horizontal([
        Constraint::Length(if folded { 5 } else { 26 }),
        Constraint::Min(0),
    ])
    .areas(area);
    let items: Vec<ListItem> = Section::ALL
        .iter()
        .map(|s| {
            let label = lang.t(s.label());
            ListItem::new(if folded {
                label.chars().take(1).collect::<String>()
            } else {
                label.to_string()
            })
        })
        .collect();
    let border = |focused: bool| {
        if focused {
            Style::default().fg(Color::Cyan)
        } else {
            Style::default().fg(Color::DarkGray)
        }
    };
    let mut list_state = ListState::default().with_selected(Some(main.section.index()));
    frame.render_stateful_widget(
        List::new(items)
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(border(!main.in_content))
                    .title(if folded { "" } else { lang.t("Configuración") }),
            )
            .highlight_style(Style::default().add_modifier(Modifier::REVERSED))
            .highlight_symbol("› "),
        sidebar,
        &mut list_state,
    );
    // Each section's line opens it.
    for (i, section) in Section::ALL.iter().enumerate() {
        let y = sidebar.y + 1 + i as u16;
        if y + 1 < sidebar.bottom() {
            let line = Rect::new(sidebar.x + 1, y, sidebar.width.saturating_sub(2), 1);
            ctx.hits.add(line, Target::Section(*section));
        }
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border(main.in_content))
        .title(lang.t(main.section.label()));
    let inner = block.inner(content);
    frame.render_widget(block, content);
    let before = ctx.hits.len();
    match main.screen() {
        Some(screen) => screen.render(frame, inner, ctx, main.in_content),
        None => {
            let text = lang.fill(
                "Esta consola no administra «{}». Use la aplicación web para esta sección.",
                &[lang.t(main.section.label())],
            );
            frame.render_widget(
                Paragraph::new(vec![Line::default(), Line::raw(text)]).wrap(Wrap { trim: true }),
                inner,
            );
        }
    }
    // While the sidebar has the keyboard the content is not clickable; a click on it goes
    // into it, as Enter would.
    if !main.in_content {
        ctx.hits.truncate(before);
        ctx.hits
            .add(content, Target::Commands(vec![Command::Enter]));
    }
}
