//! Log de Transacciones: events newest first, paged as the user scrolls (a bounded window),
//! filtered by action and dates.

use super::{Answer, Flow, Screen};
use crate::client::ClientError;
use crate::domain::{AuditAction, AuditEvent, AuditQuery, FieldErrors};
use crate::terminal::clean;
use crate::tui::action::Command;
use crate::tui::api::{Request, RequestId, Response};
use crate::tui::context::Context;
use crate::tui::dates;
use crate::tui::dialog::Dialog;
use crate::tui::fit;
use crate::tui::form::{Field, Form, FormOutcome, form_bindings, form_command};
use crate::tui::keymap::{Binding, bar, help};
use crate::tui::pager::{Fetch, Pager};
use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Block, Borders, Table, TableState};

/// Events asked for per page.
const PAGE: u32 = 100;
/// Pages held at once.
const WINDOW_PAGES: usize = 4;
/// Fetch the next page when the selection is this close to an end of what is held.
const PREFETCH: usize = 20;

pub struct AuditScreen {
    pub log: Pager<AuditEvent>,
    pub action: Option<AuditAction>,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    /// The filter dialog, open.
    pub filter: Option<Form>,
}

impl Default for AuditScreen {
    fn default() -> Self {
        AuditScreen {
            log: Pager::new(WINDOW_PAGES, PREFETCH),
            action: None,
            since: None,
            until: None,
            filter: None,
        }
    }
}

impl AuditScreen {
    /// Desde and Hasta are local days: from Desde's local midnight to the one after Hasta.
    fn query(&self, cursor: Option<String>) -> AuditQuery {
        let local = chrono::Local;
        AuditQuery {
            since: self.since.map(|d| dates::start_of_day(&local, d)),
            until: self
                .until
                .map(|d| dates::days(&local, d, d).1)
                .map(dates::last_instant_before),
            action: self.action,
            cursor,
            limit: Some(PAGE),
        }
    }

    fn load(&mut self, ctx: &mut Context, fetch: Fetch) {
        let id = ctx.send(Request::Audit(self.query(fetch.cursor.clone())));
        self.log.started(id, fetch);
    }

    fn reload(&mut self, ctx: &mut Context) {
        self.load(ctx, Pager::<AuditEvent>::first());
    }

    fn open_filter(&mut self, ctx: &Context) {
        let lang = ctx.lang;
        let mut options = vec![lang.t("Todas").to_string()];
        options.extend(AuditAction::ALL.iter().map(|a| a.as_str().to_string()));
        let index = self
            .action
            .and_then(|a| AuditAction::ALL.iter().position(|x| *x == a))
            .map_or(0, |i| i + 1);
        let date = |d: Option<NaiveDate>| {
            d.map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default()
        };
        self.filter = Some(Form::new(vec![
            Field::select("action", lang.t("Acción"), options, index),
            Field::text("since", lang.t("Desde (AAAA-MM-DD)"), &date(self.since)),
            Field::text("until", lang.t("Hasta (AAAA-MM-DD)"), &date(self.until)),
            Field::button("save", lang.t("Aplicar filtro")),
            Field::button("cancel", lang.t("Cancelar")),
        ]));
    }

    fn filter_command(&mut self, ctx: &mut Context, command: Command) {
        let lang = ctx.lang;
        let Some(form) = &mut self.filter else { return };
        match form_command(form, command) {
            FormOutcome::Submit => {
                let mut errors = FieldErrors::new();
                let since = parse_date(&form.text("since")).unwrap_or_else(|()| {
                    errors.add("since", lang.t("Fecha inválida: use AAAA-MM-DD"));
                    None
                });
                let until = parse_date(&form.text("until")).unwrap_or_else(|()| {
                    errors.add("until", lang.t("Fecha inválida: use AAAA-MM-DD"));
                    None
                });
                if !errors.is_empty() {
                    form.set_errors(&errors, None);
                    return;
                }
                self.action = form
                    .selected("action")
                    .checked_sub(1)
                    .and_then(|i| AuditAction::ALL.get(i).copied());
                self.since = since;
                self.until = until;
                self.filter = None;
                self.reload(ctx);
            }
            FormOutcome::Cancel => self.filter = None,
            _ => {}
        }
    }
}

fn parse_date(text: &str) -> Result<Option<NaiveDate>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| ())
}

impl Screen for AuditScreen {
    fn bindings(&self, ctx: &Context) -> Vec<Binding> {
        if let Some(form) = &self.filter {
            return form_bindings(form, "Aplicar filtro");
        }
        if !ctx.is_admin() {
            return Vec::new();
        }
        vec![
            bar(Command::Up, "Mover"),
            help(Command::Down, "Mover"),
            bar(Command::Filter, "Filtrar"),
            help(Command::Refresh, "Actualizar"),
        ]
    }

    fn open(&mut self, ctx: &mut Context) {
        if ctx.is_admin() {
            self.reload(ctx);
        }
    }

    fn command(&mut self, ctx: &mut Context, command: Command) -> Flow {
        if self.filter.is_some() {
            self.filter_command(ctx, command);
            return Flow::Stay;
        }
        let height = ctx.table_height();
        match command {
            Command::Up | Command::Down => {
                let delta = if command == Command::Up { -1 } else { 1 };
                if let Some(fetch) = self.log.move_by(delta, height) {
                    self.load(ctx, fetch);
                }
            }
            Command::Back | Command::Prev => return Flow::Leave,
            Command::Refresh => self.reload(ctx),
            Command::Filter if ctx.is_admin() => self.open_filter(ctx),
            _ => {}
        }
        Flow::Stay
    }

    fn dialog(&self, ctx: &Context) -> Option<Dialog<'_>> {
        let form = self.filter.as_ref()?;
        Some(Dialog::new(
            ctx.lang.t("Filtrar Log de Transacciones"),
            form,
        ))
    }

    fn form(&self) -> Option<&Form> {
        self.filter.as_ref()
    }

    fn form_mut(&mut self) -> Option<&mut Form> {
        self.filter.as_mut()
    }

    fn on_response(&mut self, _ctx: &mut Context, answer: Answer) -> Option<Answer> {
        match answer.response {
            Response::Audit(page) => {
                self.log.answer(answer.id, page);
                None
            }
            _ => Some(answer),
        }
    }

    fn on_error(
        &mut self,
        _ctx: &mut Context,
        id: RequestId,
        _request: &Request,
        _error: &ClientError,
    ) -> bool {
        self.log.failed(id);
        false
    }

    fn dirty(&self) -> bool {
        self.filter.as_ref().is_some_and(|f| f.dirty)
    }

    fn render(&self, frame: &mut Frame, area: Rect, ctx: &Context, _focused: bool) {
        render(frame, area, ctx, self);
    }
}

fn render(frame: &mut Frame, area: Rect, ctx: &Context, view: &AuditScreen) {
    let lang = ctx.lang;
    if !ctx.is_admin() {
        frame.render_widget(
            ratatui::widgets::Paragraph::new(
                lang.t("Su rol no permite ver el Log de Transacciones."),
            ),
            area,
        );
        return;
    }
    let filter = format!(
        " {}: {} · {} {} – {} ",
        lang.t("Acción"),
        view.action.map_or(lang.t("Todas"), |a| a.as_str()),
        lang.t("Desde"),
        view.since
            .map_or("…".to_string(), |d| d.format("%Y-%m-%d").to_string()),
        view.until
            .map_or("…".to_string(), |d| d.format("%Y-%m-%d").to_string()),
    );
    let block = Block::default().borders(Borders::TOP).title(filter);
    let body = block.inner(area);
    frame.render_widget(block, area);
    let height = usize::from(body.height.saturating_sub(1)).max(1);
    let (offset, end, selected) = view.log.view(height);
    // Which columns fit: all seven when wide; IP and Módulo go first, then Objetivo, so
    // the narrow console keeps when, what, who and why.
    let wide = body.width >= 100;
    let medium = body.width >= 70;
    let keep = |column: usize| match column {
        1 | 4 => wide,
        5 => medium,
        _ => true,
    };
    let date_format = if wide {
        "%Y-%m-%d %H:%M"
    } else {
        "%m-%d %H:%M"
    };
    let all_widths = [
        Constraint::Length(if wide { 16 } else { 11 }),
        Constraint::Length(15),
        Constraint::Fill(1),
        Constraint::Length(10),
        Constraint::Fill(1),
        Constraint::Fill(1),
        Constraint::Fill(2),
    ];
    let widths: Vec<Constraint> = all_widths
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .map(|(_, w)| w)
        .collect();
    // Every cell and header is cut to its column with "…".
    let columns = fit::column_widths(body.width, &widths);
    let rows = view.log.rows[offset..end].iter().map(|e| {
        let cells = [
            e.at.format(date_format).to_string(),
            clean(&e.ip).into_owned(),
            clean(&e.actor.name).into_owned(),
            e.action.as_str().to_string(),
            clean(&e.module).into_owned(),
            clean(&e.target).into_owned(),
            clean(&e.description).into_owned(),
        ];
        fit::plain_row(
            cells
                .into_iter()
                .enumerate()
                .filter(|(i, _)| keep(*i))
                .map(|(_, c)| c),
            &columns,
        )
    });
    let titles = [
        lang.t("Fecha"),
        "IP",
        lang.t("Actor"),
        lang.t("Acción"),
        lang.t("Módulo"),
        lang.t("Objetivo"),
        lang.t("Descripción"),
    ];
    let header = fit::plain_row(
        titles
            .into_iter()
            .enumerate()
            .filter(|(i, _)| keep(*i))
            .map(|(_, t)| t),
        &columns,
    )
    .style(Style::default().add_modifier(Modifier::BOLD));
    let widths = fit::lengths(&columns);
    let first = Rect {
        y: body.y.saturating_add(1),
        height: body.height.saturating_sub(1),
        ..body
    };
    crate::tui::mouse::rows(&ctx.hits, first, end - offset, selected);
    let mut table_state = TableState::default().with_selected(selected);
    frame.render_stateful_widget(
        Table::new(rows, widths)
            .header(header)
            .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED)),
        body,
        &mut table_state,
    );
    let empty = (view.log.rows.is_empty() && view.log.loaded && view.log.loading.is_none())
        .then(|| lang.t("No hay eventos con este filtro. Pulse / para cambiarlo."));
    crate::tui::dialog::under_header(frame, body, empty);
}
