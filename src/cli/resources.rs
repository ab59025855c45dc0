//! `consola resources …`: the protected resources (RFC 8707), the APIs tokens are issued for.

use super::output::{Cell, Printer};
use super::{CliResult, Failure, prompt, resolve};
use crate::client::Client;
use crate::domain::*;
use clap::Subcommand;

#[derive(Debug, Clone, Subcommand)]
pub enum Verb {
    /// List the protected resources.
    List,
    /// Add a resource: clients may then ask tokens for it (`resource=URL`), whose
    /// audience (`aud`) is its URL.
    Create {
        /// Its name, unique in any case (as shown in the console).
        #[arg(long)]
        name: String,
        /// The resource indicator: https://… (or http:// to localhost), without a
        /// fragment; tokens carry it exactly as written.
        #[arg(long)]
        url: String,
    },
    /// Delete a resource: no new token is issued for it.
    Delete {
        /// Id, URL or exact name.
        resource: String,
        /// Do not ask (needed without a terminal).
        #[arg(long)]
        yes: bool,
    },
}

pub const HEADERS: [&str; 4] = ["Nombre", "URL", "Fecha de creación", "Creado por"];

fn row(r: &ProtectedResource) -> Vec<Cell> {
    vec![
        Cell::text(&r.name),
        Cell::text(&r.url),
        Cell::text(&r.created_at.format("%Y-%m-%d %H:%M").to_string()),
        Cell::text(&r.created_by),
    ]
}

fn fields(r: &ProtectedResource) -> Vec<(&'static str, Cell)> {
    vec![
        ("ID", Cell::text(&r.id.to_string())),
        ("Nombre", Cell::text(&r.name)),
        ("URL", Cell::text(&r.url)),
        ("Fecha de creación", Cell::text(&r.created_at.to_rfc3339())),
        ("Creado por", Cell::text(&r.created_by)),
    ]
}

/// The resource named by id, URL or exact name.
pub async fn find(client: &Client, given: &str) -> CliResult<ProtectedResource> {
    let resources = client.resources().await?;
    resolve::pick(
        ("recurso protegido", "recursos protegidos"),
        given,
        resources,
        |r| (r.id.to_string(), vec![r.name.clone(), r.url.clone()]),
    )
}

pub async fn run(client: Client, out: Printer, verb: Verb) -> CliResult {
    match verb {
        Verb::List => {
            let resources = client.resources().await?;
            out.list(&resources, |r| r.id.to_string(), &HEADERS, row)
        }
        Verb::Create { name, url } => {
            let r = client
                .create_resource(&NewProtectedResource { name, url })
                .await?;
            out.one(&r, &r.id.to_string(), fields(&r))
        }
        Verb::Delete { resource, yes } => {
            let r = find(&client, &resource).await?;
            let question = format!(
                "¿Eliminar el recurso protegido «{}» ({})?",
                crate::terminal::clean(&r.name),
                crate::terminal::clean(&r.url)
            );
            if !prompt::confirm(&question, yes, &out.streams)? {
                return Err(Failure::failed("cancelado: no se eliminó nada"));
            }
            client.delete_resource(r.id).await?;
            if out.quiet {
                out.line(&r.id.to_string())?;
            }
            out.note(&format!("Recurso protegido «{}» eliminado", r.name))
        }
    }
}
