//! `consola groups …`: the permission groups (Cuentas de Usuarios → Permisos).

use super::output::{Cell, Printer};
use super::{CliResult, Failure, prompt, resolve};
use crate::client::Client;
use crate::domain::*;
use clap::Subcommand;
use uuid::Uuid;

#[derive(Debug, Clone, Subcommand)]
pub enum Verb {
    /// List the permission groups.
    List,
    /// Show one group and the scopes it grants.
    Get {
        /// Id or exact name.
        group: String,
    },
    /// Create a group.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Solo lectura: may only view and report.
        #[arg(long)]
        read_only: bool,
        /// What it may do in a module, in the scopes' syntax: `reports:view,add`
        /// (repeat for more modules: `--allow work_orders:view`). Actions: view, add,
        /// edit, delete, report.
        #[arg(long = "allow", value_parser = parse_allow)]
        allow: Vec<ModulePermission>,
    },
    /// Change a group; --allow replaces all its permissions.
    Update {
        /// Id or exact name.
        group: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// true or false.
        #[arg(long)]
        read_only: Option<bool>,
        /// The new permissions, as for `create` (replace the old ones).
        #[arg(long = "allow", value_parser = parse_allow)]
        allow: Vec<ModulePermission>,
        /// Remove every permission.
        #[arg(long, conflicts_with = "allow")]
        clear_permissions: bool,
    },
    /// Delete a group no consumer uses.
    Delete {
        /// Id or exact name.
        group: String,
        /// Do not ask (needed without a terminal).
        #[arg(long)]
        yes: bool,
    },
}

/// `module:action,action`, where an item may also carry its own `module:`
/// (`reports:view,work_orders:add`), as scopes are written.
pub fn parse_allow(text: &str) -> Result<ModulePermission, String> {
    let usage = || {
        format!(
            "«{text}»: use módulo:acción[,acción…], p. ej. reports:view,add (acciones: {})",
            Action::ALL.map(Action::as_str).join(", ")
        )
    };
    let (module, actions) = text.split_once(':').ok_or_else(usage)?;
    let module = module.trim();
    if module.is_empty() {
        return Err(usage());
    }
    let mut parsed = Vec::new();
    for item in actions.split(',') {
        let item = item.trim();
        let action = match item.split_once(':') {
            Some((other, _)) if other.trim() != module => {
                return Err(format!(
                    "«{text}»: un --allow por módulo («{other}» necesita su propio --allow)"
                ));
            }
            Some((_, action)) => action.trim(),
            None => item,
        };
        parsed.push(Action::parse(action).ok_or_else(usage)?);
    }
    Ok(ModulePermission {
        module: module.to_string(),
        actions: parsed,
    })
}

pub const HEADERS: [&str; 5] = [
    "Nombre",
    "Descripción",
    "Solo lectura",
    "Módulos",
    "Consumidores",
];

fn yes_no(value: bool) -> &'static str {
    if value { "Sí" } else { "No" }
}

fn row(g: &PermissionGroup) -> Vec<Cell> {
    vec![
        Cell::text(&g.name),
        Cell::text(&g.description),
        Cell::text(yes_no(g.read_only)),
        Cell::text(&g.permissions.len().to_string()),
        Cell::text(&g.consumer_count.to_string()),
    ]
}

fn fields(g: &PermissionGroup) -> Vec<(&'static str, Cell)> {
    let scopes: Vec<String> = g.scopes().into_iter().collect();
    vec![
        ("ID", Cell::text(&g.id.to_string())),
        ("Nombre", Cell::text(&g.name)),
        ("Descripción", Cell::text(&g.description)),
        ("Solo lectura", Cell::text(yes_no(g.read_only))),
        ("Permisos", Cell::text(&scopes.join(" "))),
        ("Consumidores", Cell::text(&g.consumer_count.to_string())),
        ("Fecha de creación", Cell::text(&g.created_at.to_rfc3339())),
        ("Actualizado", Cell::text(&g.updated_at.to_rfc3339())),
    ]
}

/// The group named by id or exact name.
pub async fn find(client: &Client, given: &str) -> CliResult<PermissionGroup> {
    if let Ok(id) = Uuid::parse_str(given.trim()) {
        return Ok(client.permission_group(id).await?);
    }
    let groups = client.permission_groups().await?;
    resolve::pick(("grupo", "grupos"), given, groups, |g| {
        (g.id.to_string(), vec![g.name.clone()])
    })
}

pub async fn run(client: Client, out: Printer, verb: Verb) -> CliResult {
    match verb {
        Verb::List => {
            let groups = client.permission_groups().await?;
            out.list(&groups, |g| g.id.to_string(), &HEADERS, row)
        }
        Verb::Get { group } => {
            let g = find(&client, &group).await?;
            out.one(&g, &g.id.to_string(), fields(&g))
        }
        Verb::Create {
            name,
            description,
            read_only,
            allow,
        } => {
            let g = client
                .create_permission_group(&NewPermissionGroup {
                    name,
                    description,
                    read_only,
                    permissions: allow,
                })
                .await?;
            out.one(&g, &g.id.to_string(), fields(&g))
        }
        Verb::Update {
            group,
            name,
            description,
            read_only,
            allow,
            clear_permissions,
        } => {
            let current = find(&client, &group).await?;
            let patch = PermissionGroupPatch {
                name,
                description,
                read_only,
                permissions: (clear_permissions || !allow.is_empty()).then_some(allow),
            };
            if patch.name.is_none()
                && patch.description.is_none()
                && patch.read_only.is_none()
                && patch.permissions.is_none()
            {
                return Err(Failure::Usage(
                    "nada que cambiar: indique al menos un campo (vea --help)".into(),
                ));
            }
            let g = client.update_permission_group(current.id, &patch).await?;
            out.one(&g, &g.id.to_string(), fields(&g))
        }
        Verb::Delete { group, yes } => {
            let g = find(&client, &group).await?;
            let question = format!("¿Eliminar el grupo «{}»?", crate::terminal::clean(&g.name));
            if !prompt::confirm(&question, yes, &out.streams)? {
                return Err(Failure::failed("cancelado: no se eliminó nada"));
            }
            client.delete_permission_group(g.id).await?;
            if out.quiet {
                out.line(&g.id.to_string())?;
            }
            out.note(&format!("Grupo «{}» eliminado", g.name))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_reads_the_scopes_syntax() {
        let p = parse_allow("reports:view,add").unwrap();
        assert_eq!(p.module, "reports");
        assert_eq!(p.actions, vec![Action::View, Action::Add]);
        let p = parse_allow("work_orders:view,work_orders:report").unwrap();
        assert_eq!(p.actions, vec![Action::View, Action::Report]);
        for bad in [
            "reports",
            ":view",
            "reports:ver",
            "reports:view,assets:add",
            "reports:",
        ] {
            assert!(parse_allow(bad).is_err(), "{bad}");
        }
    }
}
