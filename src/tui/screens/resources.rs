//! Recursos protegidos, the third tab of Conexiones API: the APIs that tokens are issued for
//! (RFC 8707), each a name and the URL a token names as its audience. Everyone signed in reads
//! the list; the Súper Administrador adds ("+") and deletes them.

use super::{Answer, Flow, Screen};
use crate::client::ClientError;
use crate::domain::secret::SecretText;
use crate::domain::{NewProtectedResource, ProtectedResource};
use crate::terminal::clean;
use crate::tui::action::Command;
use crate::tui::api::{Request, RequestId, Response};
use crate::tui::context::{Context, Then};
use crate::tui::dialog::Dialog;
use crate::tui::fit;
use crate::tui::form::{Field, Form, FormOutcome, form_bindings, form_command};
use crate::tui::i18n::Lang;
use crate::tui::keymap::{Binding, bar, help};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Table, TableState, Wrap};

/// Under the URL field: what a resource's URL may be and what it is for.
const URL_HINT: &str = "https://… (o http:// hacia localhost), sin fragmento: el aud de los tokens pedidos para este recurso";
/// Under the list, for whoever may not change it.
const READ_ONLY: &str = "Solo el Súper Administrador puede agregar o eliminar recursos protegidos";

/// "Nuevo recurso protegido": a name and a URL.
pub fn resource_form(lang: Lang) -> Form {
    Form::new(vec![
        Field::text("name", lang.t("Nombre"), ""),
        Field::text("url", lang.t("URL"), ""),
        Field::note("url_hint", lang.t(URL_HINT)),
        Field::button("save", lang.t("Guardar")),
        Field::button("cancel", lang.t("Cancelar")),
    ])
}

#[derive(Default)]
pub struct ResourcesScreen {
    /// As the server lists them (by name).
    pub resources: Vec<ProtectedResource>,
    pub selected: usize,
    /// The list arrived at least once.
    pub loaded: bool,
    /// "Nuevo recurso protegido", open.
    pub dialog: Option<Form>,
}

impl ResourcesScreen {
    fn clamp(&mut self) {
        self.selected = self.selected.min(self.resources.len().saturating_sub(1));
    }

    fn dialog_command(&mut self, ctx: &mut Context, command: Command) {
        let lang = ctx.lang;
        let Some(form) = &mut self.dialog else {
            return;
        };
        match form_command(form, command) {
            FormOutcome::Submit if !form.busy => {
                form.clear_errors();
                form.busy = true;
                ctx.send(Request::CreateResource(NewProtectedResource {
                    name: form.text("name"),
                    url: form.text("url"),
                }));
            }
            FormOutcome::Cancel if form.dirty => ctx.ask(
                lang.t("Hay cambios sin guardar. ¿Cerrar de todos modos?"),
                Then::Discard,
            ),
            FormOutcome::Cancel => self.dialog = None,
            _ => {}
        }
    }
}

impl Screen for ResourcesScreen {
    fn holds_keys(&self) -> bool {
        self.dialog.is_some()
    }

    fn bindings(&self, ctx: &Context) -> Vec<Binding> {
        if let Some(form) = &self.dialog {
            return form_bindings(form, "Guardar");
        }
        let mut keys = vec![
            bar(Command::Up, "Mover"),
            help(Command::Down, "Mover"),
            help(Command::Left, "Pestaña Consumidores OAuth"),
            help(Command::Right, "Pestaña API Key"),
        ];
        if ctx.is_super() {
            keys.push(bar(Command::New, "Nuevo"));
            keys.push(bar(Command::Delete, "Eliminar"));
        }
        keys.push(bar(Command::Copy, "Copiar URL"));
        keys.push(help(Command::Refresh, "Actualizar"));
        keys
    }

    fn open(&mut self, ctx: &mut Context) {
        ctx.send(Request::Resources);
    }

    fn command(&mut self, ctx: &mut Context, command: Command) -> Flow {
        if self.dialog.is_some() {
            self.dialog_command(ctx, command);
            return Flow::Stay;
        }
        let lang = ctx.lang;
        match command {
            Command::Up => self.selected = self.selected.saturating_sub(1),
            Command::Down => {
                self.selected = (self.selected + 1).min(self.resources.len().saturating_sub(1));
            }
            Command::Back | Command::Prev => return Flow::Leave,
            Command::Refresh => {
                ctx.send(Request::Resources);
            }
            Command::Copy => {
                if let Some(resource) = self.resources.get(self.selected) {
                    ctx.copy(lang.t("URL"), SecretText::new(resource.url.clone()));
                }
            }
            Command::New if ctx.is_super() => self.dialog = Some(resource_form(lang)),
            Command::Delete if ctx.is_super() => {
                if let Some(resource) = self.resources.get(self.selected) {
                    ctx.ask_delete(
                        "¿Eliminar el recurso protegido {}?",
                        &clean(&resource.name),
                        "Los clientes ya no podrán pedir tokens para él. No se puede deshacer.",
                        Then::Send(Request::DeleteResource(resource.id)),
                    );
                }
            }
            _ => {}
        }
        Flow::Stay
    }

    fn dialog(&self, ctx: &Context) -> Option<Dialog<'_>> {
        let form = self.dialog.as_ref()?;
        Some(Dialog::new(ctx.lang.t("Nuevo recurso protegido"), form))
    }

    fn form(&self) -> Option<&Form> {
        self.dialog.as_ref()
    }

    fn form_mut(&mut self) -> Option<&mut Form> {
        self.dialog.as_mut()
    }

    fn on_response(&mut self, ctx: &mut Context, answer: Answer) -> Option<Answer> {
        let lang = ctx.lang;
        match answer.response {
            Response::Resources(resources) => {
                self.resources = resources;
                self.loaded = true;
                self.clamp();
            }
            Response::ResourceCreated(resource) => {
                self.dialog = None;
                // In the list's order (by name), and selected.
                let key = resource.name.to_lowercase();
                let at = self
                    .resources
                    .iter()
                    .position(|r| r.name.to_lowercase() > key)
                    .unwrap_or(self.resources.len());
                self.resources.insert(at, resource);
                self.selected = at;
                ctx.toast(lang.t("Recurso protegido creado"));
            }
            Response::ResourceDeleted(id) => {
                self.resources.retain(|r| r.id != id);
                self.clamp();
                ctx.toast(lang.t("Recurso protegido eliminado"));
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
        match (&mut self.dialog, request) {
            // Each field's error beside it (422, or 409 for a name or URL taken), the text
            // kept.
            (Some(form), Request::CreateResource(_)) => {
                form.refused(ctx.lang, error);
                true
            }
            _ => false,
        }
    }

    fn dirty(&self) -> bool {
        self.dialog.as_ref().is_some_and(|f| f.dirty)
    }

    fn discard(&mut self) -> Flow {
        self.dialog = None;
        Flow::Stay
    }

    fn render(&self, frame: &mut Frame, area: Rect, ctx: &Context, _focused: bool) {
        render(frame, area, ctx, self);
    }
}

fn render(frame: &mut Frame, area: Rect, ctx: &Context, main: &ResourcesScreen) {
    let lang = ctx.lang;
    let note_rows = u16::from(!ctx.is_super()) * 2;
    let [list, note] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(note_rows)]).areas(area);
    let title = format!(
        " {} ",
        lang.fill(
            "Recursos protegidos ({})",
            &[&main.resources.len().to_string()]
        )
    );
    let mut block = Block::default().borders(Borders::TOP).title(title);
    if ctx.is_super() {
        block = block.borders(Borders::TOP | Borders::BOTTOM).title_bottom(
            Line::styled(
                format!(" [+] {} ", lang.t("Nuevo")),
                Style::default()
                    .fg(Color::Green)
                    .add_modifier(Modifier::BOLD),
            )
            .right_aligned(),
        );
    }
    let body = block.inner(list);
    frame.render_widget(block, list);
    let widths = [
        Constraint::Fill(2),
        Constraint::Fill(4),
        Constraint::Length(10),
    ];
    let columns = fit::column_widths(body.width, &widths);
    let header = fit::plain_row(
        vec![lang.t("Nombre"), lang.t("URL"), lang.t("Creación")],
        &columns,
    )
    .style(Style::default().add_modifier(Modifier::BOLD));
    // The table scrolls just enough to show the selection.
    let visible = usize::from(body.height.saturating_sub(1)).max(1);
    let offset = main.selected.saturating_sub(visible - 1);
    let rows: Vec<_> = main
        .resources
        .iter()
        .skip(offset)
        .take(visible)
        .map(|r| {
            fit::plain_row(
                vec![
                    clean(&r.name).into_owned(),
                    clean(&r.url).into_owned(),
                    r.created_at.format("%Y-%m-%d").to_string(),
                ],
                &columns,
            )
        })
        .collect();
    let shown = (!main.resources.is_empty()).then(|| main.selected - offset);
    let first = Rect {
        y: body.y.saturating_add(1),
        height: body.height.saturating_sub(1),
        ..body
    };
    crate::tui::mouse::rows(&ctx.hits, first, rows.len(), shown);
    let mut state = TableState::default().with_selected(shown);
    frame.render_stateful_widget(
        Table::new(rows, fit::lengths(&columns))
            .header(header)
            .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED)),
        body,
        &mut state,
    );
    let empty = main.resources.is_empty().then(|| {
        if !main.loaded {
            lang.t("Cargando…")
        } else if ctx.is_super() {
            lang.t("No hay recursos protegidos. Pulse + para crear uno.")
        } else {
            lang.t("No hay recursos protegidos.")
        }
    });
    crate::tui::dialog::under_header(frame, body, empty);
    if note_rows > 0 {
        frame.render_widget(
            Paragraph::new(vec![
                Line::default(),
                Line::styled(lang.t(READ_ONLY), Style::default().fg(Color::DarkGray)),
            ])
            .wrap(Wrap { trim: true }),
            note,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Problem, Role, SessionUser};
    use uuid::Uuid;

    fn ctx(role: Role) -> Context {
        let mut ctx = Context::new(
            Lang::Es,
            chrono::NaiveDate::from_ymd_opt(2024, 3, 31).expect("date"),
        );
        ctx.user = Some(SessionUser {
            id: Uuid::from_u128(7),
            username: "ana".into(),
            display_name: "Ana".into(),
            role,
        });
        ctx
    }

    fn resource(n: u128, name: &str) -> ProtectedResource {
        ProtectedResource {
            id: Uuid::from_u128(n),
            name: name.into(),
            url: format!("https://api.example.com/{n}"),
            created_at: chrono::DateTime::UNIX_EPOCH,
            created_by: "ana".into(),
        }
    }

    fn listed(ctx: &mut Context) -> ResourcesScreen {
        let mut screen = ResourcesScreen::default();
        screen.open(ctx);
        let (id, request) = ctx.pending.drain().next().expect("the list is asked for");
        let rest = screen.on_response(
            ctx,
            Answer {
                id,
                request,
                response: Response::Resources(vec![resource(1, "Activos"), resource(2, "Órdenes")]),
            },
        );
        assert!(rest.is_none());
        screen
    }

    fn type_in(form: &mut Form, text: &str) {
        for c in text.chars() {
            form.edit(crossterm::event::KeyEvent::new(
                crossterm::event::KeyCode::Char(c),
                crossterm::event::KeyModifiers::NONE,
            ));
        }
    }

    #[test]
    fn only_the_super_administrator_adds_or_deletes() {
        for role in [Role::Admin, Role::ReadOnly] {
            let mut ctx = ctx(role);
            let mut screen = listed(&mut ctx);
            let commands: Vec<Command> = screen.bindings(&ctx).iter().map(|b| b.command).collect();
            assert!(!commands.contains(&Command::New) && !commands.contains(&Command::Delete));
            screen.command(&mut ctx, Command::New);
            screen.command(&mut ctx, Command::Delete);
            assert!(screen.dialog.is_none() && ctx.question.is_none() && ctx.pending.is_empty());
            // Everyone copies a URL.
            screen.command(&mut ctx, Command::Copy);
            let copied = ctx.effects.iter().any(|e| {
                matches!(e, crate::tui::action::Effect::Copy { text, .. }
                    if text.expose() == "https://api.example.com/1")
            });
            assert!(copied, "{:?}", ctx.effects);
        }
        let mut ctx = ctx(Role::SuperAdmin);
        let mut screen = listed(&mut ctx);
        screen.command(&mut ctx, Command::Down);
        screen.command(&mut ctx, Command::Delete);
        let question = ctx.question.take().expect("asks first");
        assert!(
            question.message.contains("«Órdenes»"),
            "{}",
            question.message
        );
        assert!(matches!(
            question.then,
            Then::Send(Request::DeleteResource(id)) if id == Uuid::from_u128(2)
        ));
        assert!(ctx.pending.is_empty(), "nothing before yes");
        let rest = screen.on_response(
            &mut ctx,
            Answer {
                id: 99,
                request: Request::DeleteResource(Uuid::from_u128(2)),
                response: Response::ResourceDeleted(Uuid::from_u128(2)),
            },
        );
        assert!(rest.is_none());
        assert_eq!(screen.resources.len(), 1);
        assert_eq!(screen.selected, 0);
    }

    #[test]
    fn a_refused_resource_keeps_the_text_with_each_error_beside_its_field() {
        let mut ctx = ctx(Role::SuperAdmin);
        let mut screen = listed(&mut ctx);
        screen.command(&mut ctx, Command::New);
        let form = screen.dialog.as_mut().expect("the modal");
        assert_eq!(form.focused_name(), "name");
        type_in(form, "Activos");
        form.next();
        type_in(form, "http://api.example.com/#x");
        screen.command(&mut ctx, Command::Save);
        let (id, request) = ctx.pending.drain().next().expect("sent");
        let Request::CreateResource(new) = &request else {
            panic!("a create request")
        };
        assert_eq!(
            (new.name.as_str(), new.url.as_str()),
            ("Activos", "http://api.example.com/#x")
        );
        assert!(screen.dialog.as_ref().is_some_and(|f| f.busy));
        let error = ClientError::Api(Problem {
            kind: "urn:consola:conflict".into(),
            title: "Conflicto".into(),
            status: 409,
            detail: "Ya existe".into(),
            errors: [(
                "name".to_string(),
                "Ya existe un recurso protegido con ese nombre".to_string(),
            )]
            .into(),
        });
        assert!(screen.on_error(&mut ctx, id, &request, &error));
        let form = screen.dialog.as_ref().expect("the modal stays");
        assert!(!form.busy);
        assert_eq!(form.text("name"), "Activos");
        assert_eq!(form.text("url"), "http://api.example.com/#x");
        assert_eq!(form.focused_name(), "name");
        assert_eq!(
            form.field("name").and_then(|f| f.error.as_deref()),
            Some("Ya existe un recurso protegido con ese nombre")
        );
        // Esc asks before throwing the typing away.
        screen.command(&mut ctx, Command::Back);
        assert!(ctx.question.take().is_some() && screen.dialog.is_some());
        // Created: in the list by name, selected, with a toast.
        screen.command(&mut ctx, Command::Save);
        let (id, request) = ctx.pending.drain().next().expect("sent again");
        let rest = screen.on_response(
            &mut ctx,
            Answer {
                id,
                request,
                response: Response::ResourceCreated(resource(3, "Compras")),
            },
        );
        assert!(rest.is_none() && screen.dialog.is_none());
        let names: Vec<&str> = screen.resources.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["Activos", "Compras", "Órdenes"]);
        assert_eq!(screen.selected, 1);
        assert_eq!(
            ctx.toast.as_ref().map(|t| t.1.as_str()),
            Some("Recurso protegido creado")
        );
    }
}
