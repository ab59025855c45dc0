//! Log de Transacciones: events newest first, paged as the user scrolls, filtered by action
//! and dates.

use super::action::Command;
use super::api::{Request, RequestId};
use super::form::{Field, Form};
use super::keymap::{Binding, bar, help};
use super::sanitize::clean;
use super::state::{FormOutcome, Main, Modal, State, form_command};
use crate::domain::{AuditAction, AuditEvent, AuditQuery, FieldErrors, Page};
use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Block, Borders, Row, Table, TableState};

#[derive(Default)]
pub struct AuditView {
    pub rows: Vec<AuditEvent>,
    pub next_cursor: Option<String>,
    pub selected: usize,
    pub loading: Option<RequestId>,
    pub loading_first: bool,
    pub action: Option<AuditAction>,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

impl AuditView {
    pub fn page(&mut self, id: RequestId, page: Page<AuditEvent>) {
        if self.loading != Some(id) {
            return;
        }
        self.loading = None;
        if self.loading_first {
            self.rows = page.items;
            self.selected = 0;
        } else {
            self.rows.extend(page.items);
        }
        self.next_cursor = page.next_cursor;
    }

    fn query(&self, cursor: Option<String>) -> AuditQuery {
        AuditQuery {
            since: self
                .since
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc()),
            until: self
                .until
                .and_then(|d| d.and_hms_opt(23, 59, 59))
                .map(|t| t.and_utc()),
            action: self.action,
            cursor,
            limit: Some(100),
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

impl State {
    pub(super) fn audit_bindings(&self, _main: &Main) -> Vec<Binding> {
        if !self.is_admin() {
            return Vec::new();
        }
        vec![
            bar(Command::Up, "Mover"),
            help(Command::Down, "Mover"),
            bar(Command::Filter, "Filtrar"),
            help(Command::Refresh, "Actualizar"),
        ]
    }

    pub(super) fn reload_audit(&mut self) {
        self.load_audit(None);
    }

    fn load_audit(&mut self, cursor: Option<String>) {
        let Some(main) = self.main() else { return };
        let first = cursor.is_none();
        let query = main.audit.query(cursor);
        let id = self.send(Request::Audit(query));
        if let Some(main) = self.main_mut() {
            main.audit.loading = Some(id);
            main.audit.loading_first = first;
        }
    }

    pub(super) fn audit_command(&mut self, command: Command) {
        let lang = self.lang;
        let is_admin = self.is_admin();
        let Some(main) = self.main_mut() else { return };
        let view = &mut main.audit;
        match command {
            Command::Up => view.selected = view.selected.saturating_sub(1),
            Command::Down => {
                view.selected = (view.selected + 1).min(view.rows.len().saturating_sub(1));
                if view.loading.is_none()
                    && view.selected + 20 >= view.rows.len()
                    && let Some(cursor) = view.next_cursor.clone()
                {
                    self.load_audit(Some(cursor));
                }
            }
            Command::Back | Command::Prev => main.in_content = false,
            Command::Refresh => self.reload_audit(),
            Command::Filter if is_admin => {
                let mut options = vec![lang.t("Todas").to_string()];
                options.extend(AuditAction::ALL.iter().map(|a| a.as_str().to_string()));
                let index = view
                    .action
                    .and_then(|a| AuditAction::ALL.iter().position(|x| *x == a))
                    .map_or(0, |i| i + 1);
                let date = |d: Option<NaiveDate>| {
                    d.map(|d| d.format("%Y-%m-%d").to_string())
                        .unwrap_or_default()
                };
                main.modal = Some(Modal::AuditFilter(Form::new(vec![
                    Field::select("action", lang.t("Acción"), options, index),
                    Field::text("since", lang.t("Desde (AAAA-MM-DD)"), &date(view.since)),
                    Field::text("until", lang.t("Hasta (AAAA-MM-DD)"), &date(view.until)),
                    Field::button("save", lang.t("Aplicar filtro")),
                    Field::button("cancel", lang.t("Cancelar")),
                ])));
            }
            _ => {}
        }
    }

    pub(super) fn audit_filter_command(&mut self, command: Command) {
        let lang = self.lang;
        let Some(main) = self.main_mut() else { return };
        let Some(Modal::AuditFilter(form)) = &mut main.modal else {
            return;
        };
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
                main.audit.action = form
                    .selected("action")
                    .checked_sub(1)
                    .and_then(|i| AuditAction::ALL.get(i).copied());
                main.audit.since = since;
                main.audit.until = until;
                main.modal = None;
                self.reload_audit();
            }
            FormOutcome::Cancel => main.modal = None,
            _ => {}
        }
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, main: &Main) {
    let lang = state.lang;
    if !state.is_admin() {
        frame.render_widget(
            ratatui::widgets::Paragraph::new(
                lang.t("Su rol no permite ver el Log de Transacciones."),
            ),
            area,
        );
        return;
    }
    let view = &main.audit;
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
    let selected = view.selected.min(view.rows.len().saturating_sub(1));
    let offset = (selected + 1).saturating_sub(height);
    let end = (offset + height).min(view.rows.len());
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
    let rows = view.rows[offset.min(end)..end].iter().map(|e| {
        let cells = [
            e.at.format(date_format).to_string(),
            clean(&e.ip).into_owned(),
            clean(&e.actor.name).into_owned(),
            e.action.as_str().to_string(),
            clean(&e.module).into_owned(),
            clean(&e.target).into_owned(),
            clean(&e.description).into_owned(),
        ];
        Row::new(
            cells
                .into_iter()
                .enumerate()
                .filter(|(i, _)| keep(*i))
                .map(|(_, c)| c),
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
    let header = Row::new(
        titles
            .into_iter()
            .enumerate()
            .filter(|(i, _)| keep(*i))
            .map(|(_, t)| t),
    )
    .style(Style::default().add_modifier(Modifier::BOLD));
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
    let mut table_state =
        TableState::default().with_selected((!view.rows.is_empty()).then_some(selected - offset));
    frame.render_stateful_widget(
        Table::new(rows, widths)
            .header(header)
            .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED)),
        body,
        &mut table_state,
    );
}
