//! `consola audit list`: the Log de Transacciones, newest first.

use super::CliResult;
use super::output::{Cell, Printer};
use crate::client::Client;
use crate::domain::*;
use chrono::{DateTime, NaiveDate, Utc};
use clap::Subcommand;

#[derive(Debug, Clone, Subcommand)]
pub enum Verb {
    /// List events, newest first: every page, or the first --limit.
    List {
        /// From this time: RFC 3339 (2026-03-01T08:00:00Z) or a day (2026-03-01, 00:00 UTC).
        #[arg(long, value_parser = parse_time)]
        since: Option<DateTime<Utc>>,
        /// Up to this time, in the same forms.
        #[arg(long, value_parser = parse_time)]
        until: Option<DateTime<Utc>>,
        /// Only this action: ADD, EDIT, DELETE, LOGIN, LOGOUT, ROTATE, TOKEN, DENIED, …
        #[arg(long, value_parser = parse_action)]
        action: Option<AuditAction>,
        /// At most this many.
        #[arg(long)]
        limit: Option<u32>,
    },
}

pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text.trim()) {
        return Ok(time.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("«{text}»: use 2026-03-01 o 2026-03-01T08:00:00Z"))
}

pub fn parse_action(text: &str) -> Result<AuditAction, String> {
    AuditAction::parse(text.trim()).ok_or_else(|| {
        format!(
            "«{text}»: acciones: {}",
            AuditAction::ALL.map(AuditAction::as_str).join(", ")
        )
    })
}

pub const HEADERS: [&str; 7] = [
    "Fecha",
    "IP",
    "Actor",
    "Acción",
    "Módulo",
    "Objetivo",
    "Descripción",
];

fn row(e: &AuditEvent) -> Vec<Cell> {
    vec![
        Cell::text(&e.at.format("%Y-%m-%d %H:%M:%S").to_string()),
        Cell::text(&e.ip),
        Cell::text(&e.actor.name),
        Cell::text(e.action.as_str()),
        Cell::text(&e.module),
        Cell::text(&e.target),
        Cell::text(&e.description),
    ]
}

pub async fn run(client: Client, out: Printer, verb: Verb) -> CliResult {
    let Verb::List {
        since,
        until,
        action,
        limit,
    } = verb;
    let mut items: Vec<AuditEvent> = Vec::new();
    let mut cursor = None;
    // Page after page to the end (or the limit); a failed page fails the whole list.
    loop {
        let want = limit.map(|l| l.saturating_sub(items.len() as u32));
        if want == Some(0) {
            break;
        }
        let page = client
            .audit(&AuditQuery {
                since,
                until,
                action,
                cursor,
                limit: Some(want.unwrap_or(MAX_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE)),
            })
            .await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(next) if !next.is_empty() => cursor = Some(next),
            _ => break,
        }
    }
    if let Some(limit) = limit {
        items.truncate(limit as usize);
    }
    out.list(&items, |e| e.id.to_string(), &HEADERS, row)
}
