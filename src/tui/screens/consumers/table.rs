//! The consumer table: only the rows that fit are built; narrow terminals keep the columns
//! that identify a consumer. Clients waiting for approval come first (pinned in the pager),
//! their Estado "Pendiente" in its own tone.

use super::decision::state_label;
use crate::domain::registration::RegistrationSettings;
use crate::domain::{Approval, Consumer, ConsumerOrigin, GrantType};
use crate::terminal::clean;
use crate::tui::context::Context;
use crate::tui::fit;
use crate::tui::form::Form;
use crate::tui::pager::Pager;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Table, TableState};

/// The tone of a consumer's Estado: what waits for the Súper Administrador stands out (in
/// bold too, for a terminal without colour).
fn state_style(consumer: &Consumer) -> Style {
    match consumer.approval {
        Approval::Pending => Style::default()
            .fg(Color::Yellow)
            .add_modifier(Modifier::BOLD),
        Approval::Rejected => Style::default().fg(Color::Red),
        Approval::Approved if consumer.enabled => Style::default().fg(Color::Green),
        Approval::Approved => Style::default().fg(Color::DarkGray),
    }
}

/// The table: only the rows that fit are built.
/// `filter`: what the rows were fetched with; `filter_input`: the filter line, when open;
/// `registration`: the policy for clients that register themselves, once known.
pub(super) fn render(
    frame: &mut Frame,
    area: Rect,
    ctx: &Context,
    table: &Pager<Consumer>,
    filter: &str,
    filter_input: Option<&Form>,
    registration: Option<&RegistrationSettings>,
) {
    let lang = ctx.lang;
    let mut title = format!(
        " {} ",
        lang.fill(
            "Consumidores OAuth ({}/{})",
            &[&table.seen().to_string(), &table.total.to_string()]
        )
    );
    if !filter.is_empty() {
        title.push_str(&format!(
            "· {} ",
            lang.fill("filtro: {}", &[&clean(filter)])
        ));
    }
    let mut block = Block::default().borders(Borders::TOP).title(title);
    // The policy, and the key that shows it (or changes it).
    if let Some(settings) = registration {
        let policy = lang.fill("Registro de clientes: {}", &[lang.policy(settings.policy)]);
        block = block.title(Line::raw(format!(" {policy} (p) ")).right_aligned());
    }
    if ctx.is_super() {
        block = block.title_bottom(
            Line::styled(
                format!(" [+] {} ", lang.t("Nuevo")),
                Style::default()
                    .fg(Color::Green)
                    .add_modifier(Modifier::BOLD),
            )
            .right_aligned(),
        );
        block = block.borders(Borders::TOP | Borders::BOTTOM);
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut body = inner;
    if let Some(filter) = filter_input {
        let line = Rect {
            height: 1.min(inner.height),
            ..inner
        };
        crate::tui::form::render(frame, line, filter, lang, true);
        crate::tui::form::clickable(&ctx.hits, line, filter, lang);
        body.y = body.y.saturating_add(1);
        body.height = body.height.saturating_sub(1);
    }
    let height = usize::from(body.height.saturating_sub(1)).max(1);
    let (offset, end, selected) = table.view(height);
    // Narrow terminals keep the columns that identify a consumer; a compact layout keeps all
    // six with the Clave shortened (`c` copies it whole).
    let narrow = body.width < 84;
    let full_key = body.width >= 110;
    let key_text = |id: &str| -> String {
        let id = clean(id).into_owned();
        if full_key || id.chars().count() <= 15 {
            id
        } else {
            format!("{}…", id.chars().take(14).collect::<String>())
        }
    };
    let constraints = if narrow {
        vec![
            Constraint::Fill(2),
            Constraint::Length(16),
            Constraint::Fill(1),
            Constraint::Length(9),
        ]
    } else {
        vec![
            Constraint::Fill(3),
            Constraint::Length(if full_key { 32 } else { 15 }),
            Constraint::Fill(2),
            Constraint::Fill(2),
            Constraint::Length(if full_key { 17 } else { 10 }),
            Constraint::Length(9),
        ]
    };
    // Every cell is cut to its column with "…" (the Clave whole with `c`).
    let columns = fit::column_widths(body.width, &constraints);
    let plain = Style::default();
    let rows = table.rows[offset..end].iter().map(|c| {
        let state_cell = (lang.t(state_label(c)).to_string(), state_style(c));
        let name = (clean(&c.name).into_owned(), plain);
        let clave = (key_text(&c.client_id), plain);
        let group = (clean(&c.permission_group_name).into_owned(), plain);
        let cells = if narrow {
            vec![name, clave, group, state_cell]
        } else {
            let short = match c.grant_type {
                GrantType::ClientCredentials => lang.t("Credenciales"),
                GrantType::AuthorizationCode => lang.t("Código"),
            };
            // A client that registered itself says so beside its grant, or instead of it
            // where both do not fit.
            let origin = match c.origin {
                ConsumerOrigin::Console => None,
                ConsumerOrigin::Registration => Some(lang.t("Registro")),
                ConsumerOrigin::MetadataDocument => Some(lang.t("Metadatos")),
            };
            let kind = match origin {
                None if full_key => lang.grant(c.grant_type).to_string(),
                None => short.to_string(),
                Some(origin) => {
                    let both = format!("{short} · {}", origin.to_lowercase());
                    fit::fit_one(&[&both, origin], usize::from(columns[2])).into_owned()
                }
            };
            vec![
                name,
                clave,
                (kind, plain),
                group,
                (c.created_at.format("%Y-%m-%d").to_string(), plain),
                state_cell,
            ]
        };
        fit::row(cells, &columns)
    });
    let bold = Style::default().add_modifier(Modifier::BOLD);
    // A long header gives way to its short form before it is cut.
    let group_header = [lang.t("Grupo de permisos"), lang.t("Grupo")];
    let titles: Vec<String> = if narrow {
        vec![
            lang.t("Nombre").to_string(),
            lang.t("Clave").to_string(),
            fit::fit_one(&group_header, usize::from(columns[2])).into_owned(),
            lang.t("Estado").to_string(),
        ]
    } else {
        vec![
            lang.t("Nombre").to_string(),
            lang.t("Clave").to_string(),
            lang.t("Tipo").to_string(),
            fit::fit_one(&group_header, usize::from(columns[3])).into_owned(),
            fit::fit_one(
                &[lang.t("Fecha de creación"), lang.t("Creación")],
                usize::from(columns[4]),
            )
            .into_owned(),
            lang.t("Estado").to_string(),
        ]
    };
    let header = fit::plain_row(titles, &columns).style(bold);
    let widths = fit::lengths(&columns);
    let first = Rect {
        y: body.y.saturating_add(1),
        height: body.height.saturating_sub(1),
        ..body
    };
    crate::tui::mouse::rows(&ctx.hits, first, end - offset, selected);
    let mut table_state = TableState::default().with_selected(selected);
    let widget = Table::new(rows, widths)
        .header(header)
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED));
    let empty = table.rows.is_empty().then(|| {
        if table.loading.is_some() {
            lang.t("Cargando…")
        } else if ctx.is_super() {
            lang.t("No hay consumidores. Pulse + para crear uno.")
        } else {
            lang.t("No hay consumidores.")
        }
    });
    frame.render_stateful_widget(widget, body, &mut table_state);
    // Across the whole table under the header, not inside its first column.
    if let Some(text) = empty
        && body.height > 1
    {
        let line = Rect {
            y: body.y + 1,
            height: 1,
            ..body
        };
        frame.render_widget(Paragraph::new(text), line);
    }
}
