//! `consola ssh-keys …`: the SSH public keys with which `ssh` opens the console (DESIGN §7):
//! one's own, or, for the Súper Administrador, any user's (`--user`).

use super::output::{Cell, Printer};
use super::{CliResult, Failure, prompt, resolve};
use crate::client::Client;
use crate::domain::ssh_key::{NewSshKey, SshKey};
use clap::Subcommand;
use std::path::PathBuf;
use uuid::Uuid;

#[derive(Debug, Clone, Subcommand)]
pub enum Verb {
    /// List your keys (or, with --user, that user's).
    List {
        /// Id or username (the Súper Administrador's view of another user's keys).
        #[arg(long)]
        user: Option<String>,
    },
    /// Add one of your keys: its OpenSSH public line, given or read from a .pub file.
    Create {
        #[arg(long)]
        name: String,
        /// The public key line (`ssh-ed25519 AAAA… comment`).
        #[arg(
            long,
            conflicts_with = "public_key_file",
            required_unless_present = "public_key_file"
        )]
        public_key: Option<String>,
        /// A .pub file on this machine (e.g. ~/.ssh/id_ed25519.pub).
        #[arg(long)]
        public_key_file: Option<PathBuf>,
    },
    /// Remove a key; its open SSH sessions end.
    Delete {
        /// Id, name or fingerprint of the key.
        key: String,
        /// Id or username whose key it is (the Súper Administrador; default: yours).
        #[arg(long)]
        user: Option<String>,
        /// Do not ask (needed without a terminal).
        #[arg(long)]
        yes: bool,
    },
}

pub const HEADERS: [&str; 3] = ["Nombre", "Huella", "Añadida"];

fn row(k: &SshKey) -> Vec<Cell> {
    vec![
        Cell::text(&k.name),
        Cell::text(&k.fingerprint),
        Cell::text(&k.created_at.format("%Y-%m-%d").to_string()),
    ]
}

/// The user named (by id or username), for the Súper Administrador's commands.
async fn user_id(client: &Client, given: &str) -> CliResult<Uuid> {
    if let Ok(id) = Uuid::parse_str(given.trim()) {
        return Ok(id);
    }
    let users = client.users().await?;
    let user = resolve::pick(("usuario", "usuarios"), given, users, |u| {
        (u.id.to_string(), vec![u.username.clone()])
    })?;
    Ok(user.id)
}

async fn keys_of(client: &Client, user: Option<Uuid>) -> CliResult<Vec<SshKey>> {
    Ok(match user {
        Some(id) => client.user_ssh_keys(id).await?,
        None => client.my_ssh_keys().await?,
    })
}

pub async fn run(client: Client, out: Printer, verb: Verb) -> CliResult {
    match verb {
        Verb::List { user } => {
            let user = match user {
                Some(given) => Some(user_id(&client, &given).await?),
                None => None,
            };
            let keys = keys_of(&client, user).await?;
            out.list(&keys, |k| k.id.to_string(), &HEADERS, row)
        }
        Verb::Create {
            name,
            public_key,
            public_key_file,
        } => {
            let public_key = match (public_key, public_key_file) {
                (Some(line), _) => line,
                (None, Some(_)) if !out.streams.local => {
                    return Err(Failure::Usage(
                        "por SSH no se leen archivos del servidor: use --public-key".into(),
                    ));
                }
                (None, Some(path)) => std::fs::read_to_string(&path).map_err(|e| {
                    Failure::failed(format!("no se pudo leer {}: {e}", path.display()))
                })?,
                (None, None) => {
                    return Err(Failure::Usage(
                        "falta --public-key o --public-key-file".into(),
                    ));
                }
            };
            let key = client
                .add_my_ssh_key(&NewSshKey { name, public_key })
                .await?;
            out.one(
                &key,
                &key.id.to_string(),
                vec![
                    ("ID", Cell::text(&key.id.to_string())),
                    ("Nombre", Cell::text(&key.name)),
                    ("Huella", Cell::text(&key.fingerprint)),
                    ("Añadida", Cell::text(&key.created_at.to_rfc3339())),
                ],
            )
        }
        Verb::Delete { key, user, yes } => {
            let user = match user {
                Some(given) => Some(user_id(&client, &given).await?),
                None => None,
            };
            let keys = keys_of(&client, user).await?;
            let found = resolve::pick(("clave SSH", "claves SSH"), &key, keys, |k| {
                (
                    k.id.to_string(),
                    vec![k.name.clone(), k.fingerprint.clone()],
                )
            })?;
            let question = format!(
                "¿Eliminar la clave SSH «{}» ({})?",
                crate::terminal::clean(&found.name),
                found.fingerprint
            );
            if !prompt::confirm(&question, yes, &out.streams)? {
                return Err(Failure::failed("cancelado: no se eliminó nada"));
            }
            match user {
                Some(user) => client.delete_user_ssh_key(user, found.id).await?,
                None => client.delete_my_ssh_key(found.id).await?,
            }
            if out.quiet {
                out.line(&found.id.to_string())?;
            }
            out.note(&format!("Clave SSH «{}» eliminada", found.name))
        }
    }
}
