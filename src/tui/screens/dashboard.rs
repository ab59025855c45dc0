//! Dashboard: cards of counts, tokens issued per day, and the Desde – Hasta range.

use super::{Answer, Flow, Screen};
use crate::domain::{Dashboard, DashboardQuery};
use crate::tui::action::Command;
use crate::tui::api::{Request, RequestId, Response};
use crate::tui::context::Context;
use crate::tui::dates;
use crate::tui::fit::fit;
use crate::tui::keymap::{Binding, bar, help};
use chrono::{Days, NaiveDate};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};

/// The end of the range that ← → move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeEnd {
    Since,
    Until,
}

pub struct DashboardScreen {
    pub data: Option<Dashboard>,
    pub since: NaiveDate,
    pub until: NaiveDate,
    pub focus: RangeEnd,
    pub request: Option<RequestId>,
}

impl DashboardScreen {
    /// The last 30 days up to `today`.
    pub fn new(today: NaiveDate) -> DashboardScreen {
        DashboardScreen {
            data: None,
            since: today.checked_sub_days(Days::new(29)).unwrap_or(today),
            until: today,
            focus: RangeEnd::Since,
            request: None,
        }
    }

    /// From the local midnight that starts Desde to the one that ends Hasta.
    pub fn query(&self) -> DashboardQuery {
        let (since, until) = dates::local_query(self.since, self.until);
        DashboardQuery {
            since: Some(since),
            until: Some(until),
        }
    }

    pub fn refresh(&mut self, ctx: &mut Context) {
        self.request = Some(ctx.send(Request::Dashboard(self.query())));
    }
}

impl Screen for DashboardScreen {
    fn bindings(&self, _ctx: &Context) -> Vec<Binding> {
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

    fn command(&mut self, ctx: &mut Context, command: Command) -> Flow {
        match command {
            Command::Next | Command::Prev => {
                self.focus = match self.focus {
                    RangeEnd::Since => RangeEnd::Until,
                    RangeEnd::Until => RangeEnd::Since,
                }
            }
            Command::Enter => return Flow::Menu,
            Command::Left | Command::Right => {
                let date = match self.focus {
                    RangeEnd::Since => &mut self.since,
                    RangeEnd::Until => &mut self.until,
                };
                let moved = if command == Command::Left {
                    date.checked_sub_days(Days::new(1))
                } else {
                    date.checked_add_days(Days::new(1))
                };
                if let Some(moved) = moved {
                    *date = moved;
                }
                if self.since > self.until {
                    match self.focus {
                        RangeEnd::Since => self.until = self.since,
                        RangeEnd::Until => self.since = self.until,
                    }
                }
                self.refresh(ctx);
            }
            Command::Refresh => self.refresh(ctx),
            _ => {}
        }
        Flow::Stay
    }

    fn on_response(&mut self, _ctx: &mut Context, answer: Answer) -> Option<Answer> {
        match answer.response {
            Response::Dashboard(data) => {
                if self.request == Some(answer.id) {
                    self.data = Some(data);
                    self.request = None;
                }
                None
            }
            _ => Some(answer),
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, ctx: &Context, _focused: bool) {
        render(frame, area, ctx, self);
    }
}

fn render(frame: &mut Frame, area: Rect, ctx: &Context, view: &DashboardScreen) {
    let lang = ctx.lang;
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
                date_style(view.focus == RangeEnd::Since),
            ),
            Span::raw(format!(" – {} ", lang.t("Hasta"))),
            Span::styled(
                format!(" {} ", view.until.format("%Y-%m-%d")),
                date_style(view.focus == RangeEnd::Until),
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
            data.map(|d| lang.fill("{} activos", &[&d.enabled_consumers.to_string()])),
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
            Paragraph::new(lines).block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(fit(title, usize::from(card.width.saturating_sub(2))).into_owned()),
            ),
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
    // An empty chart says so, rather than looking like one still loading.
    if data.is_some() && series.iter().all(|n| *n == 0) && chart.height > 2 {
        let line = Rect {
            x: chart.x + 2,
            y: chart.y + 1,
            width: chart.width.saturating_sub(4),
            height: 1,
        };
        frame.render_widget(
            Paragraph::new(lang.t("No se emitieron tokens en este rango.")),
            line,
        );
    }
}
