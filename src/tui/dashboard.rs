//! Dashboard: cards of counts, tokens issued per day, and the Desde – Hasta range.

use super::action::Command;
use super::api::{Request, RequestId};
use super::keymap::{Binding, bar, help};
use super::state::State;
use crate::domain::{Dashboard, DashboardQuery};
use chrono::{Days, NaiveDate};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};

pub struct DashboardView {
    pub data: Option<Dashboard>,
    pub since: NaiveDate,
    pub until: NaiveDate,
    /// 0: Desde has focus, 1: Hasta.
    pub focus: usize,
    pub request: Option<RequestId>,
}

impl DashboardView {
    /// The last 30 days up to `today`.
    pub fn new(today: NaiveDate) -> DashboardView {
        DashboardView {
            data: None,
            since: today.checked_sub_days(Days::new(29)).unwrap_or(today),
            until: today,
            focus: 0,
            request: None,
        }
    }

    pub fn query(&self) -> DashboardQuery {
        DashboardQuery {
            since: self.since.and_hms_opt(0, 0, 0).map(|t| t.and_utc()),
            until: self.until.and_hms_opt(23, 59, 59).map(|t| t.and_utc()),
        }
    }
}

impl State {
    pub(super) fn dashboard_bindings(&self) -> Vec<Binding> {
        vec![
            bar(Command::Menu, "Menú de usuario"),
            bar(Command::Next, "Desde/Hasta"),
            help(Command::Prev, "Desde/Hasta"),
            bar(Command::Left, "Día anterior"),
            help(Command::Right, "Día siguiente"),
            help(Command::Enter, "Menú de usuario"),
            help(Command::Refresh, "Actualizar"),
        ]
    }

    pub(super) fn dashboard_command(&mut self, command: Command) {
        let Some(main) = self.main_mut() else { return };
        let view = &mut main.dashboard;
        match command {
            Command::Next | Command::Prev => view.focus = 1 - view.focus.min(1),
            Command::Enter => main.menu = Some(0),
            Command::Left | Command::Right => {
                let date = if view.focus == 0 {
                    &mut view.since
                } else {
                    &mut view.until
                };
                let moved = if command == Command::Left {
                    date.checked_sub_days(Days::new(1))
                } else {
                    date.checked_add_days(Days::new(1))
                };
                if let Some(moved) = moved {
                    *date = moved;
                }
                if view.since > view.until {
                    if view.focus == 0 {
                        view.until = view.since;
                    } else {
                        view.since = view.until;
                    }
                }
                self.refresh_dashboard();
            }
            Command::Refresh => self.refresh_dashboard(),
            _ => {}
        }
    }

    fn refresh_dashboard(&mut self) {
        let Some(main) = self.main() else { return };
        let query = main.dashboard.query();
        let id = self.send(Request::Dashboard(query));
        if let Some(main) = self.main_mut() {
            main.dashboard.request = Some(id);
        }
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &DashboardView) {
    let lang = state.lang;
    let [range, cards, chart] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(5),
        Constraint::Min(0),
    ])
    .areas(area);
    let date_style = |focused: bool| {
        if focused {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default().add_modifier(Modifier::BOLD)
        }
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::raw(format!(" {} ", lang.t("Desde"))),
            Span::styled(
                format!(" {} ", view.since.format("%Y-%m-%d")),
                date_style(view.focus == 0),
            ),
            Span::raw(format!(" – {} ", lang.t("Hasta"))),
            Span::styled(
                format!(" {} ", view.until.format("%Y-%m-%d")),
                date_style(view.focus == 1),
            ),
        ])),
        range,
    );
    let data = view.data.as_ref();
    let count = |f: fn(&Dashboard) -> u64| data.map_or("…".to_string(), |d| f(d).to_string());
    let card_data = [
        (
            lang.t("Consumidores OAuth"),
            count(|d| d.consumers),
            data.map(|d| format!("{} {}", d.enabled_consumers, lang.t("activos"))),
        ),
        (
            lang.t("Grupos de permisos"),
            count(|d| d.permission_groups),
            None,
        ),
        (lang.t("Tokens emitidos"), count(|d| d.tokens_issued), None),
        (
            lang.t("Autenticaciones fallidas"),
            count(|d| d.failed_authentications),
            None,
        ),
    ];
    let areas = Layout::horizontal([Constraint::Ratio(1, 4); 4]).split(cards);
    for ((title, value, extra), card) in card_data.into_iter().zip(areas.iter()) {
        let mut lines = vec![Line::styled(
            value,
            Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
        )];
        if let Some(extra) = extra {
            lines.push(Line::raw(extra));
        }
        frame.render_widget(
            Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title)),
            *card,
        );
    }
    let series: Vec<u64> = data
        .map(|d| d.series.iter().map(|p| p.tokens_issued).collect())
        .unwrap_or_default();
    frame.render_widget(
        Sparkline::default()
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(lang.t("Tokens emitidos por día")),
            )
            .data(&series)
            .style(Style::default().fg(Color::Green)),
        chart,
    );
}
