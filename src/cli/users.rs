//! `consola users …`: the console's user accounts (Cuentas de Usuarios → Usuarios).

use super::output::{Cell, Printer, Tone};
use super::{CliResult, Failure, prompt, resolve};
use crate::client::Client;
use crate::domain::secret::SecretText;
use crate::domain::*;
use clap::{Subcommand, ValueEnum};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum RoleArg {
    SuperAdmin,
    Admin,
    ReadOnly,
}

impl From<RoleArg> for Role {
    fn from(arg: RoleArg) -> Role {
        match arg {
            RoleArg::SuperAdmin => Role::SuperAdmin,
            RoleArg::Admin => Role::Admin,
            RoleArg::ReadOnly => Role::ReadOnly,
        }
    }
}

#[derive(Debug, Clone, Subcommand)]
pub enum Verb {
    /// List the users.
    List,
    /// Show one user.
    Get {
        /// Id or username.
        user: String,
    },
    /// Create a user; the password comes from standard input or a prompt.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Read the password from standard input (else it is asked on the terminal).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change a user; giving super_admin to another user hands the role over.
    Update {
        /// Id or username.
        user: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long, value_enum)]
        role: Option<RoleArg>,
        /// Disable the account.
        #[arg(long, conflicts_with = "enable")]
        disable: bool,
        /// Enable the account again.
        #[arg(long)]
        enable: bool,
        /// Set a new password, read from standard input.
        #[arg(long, conflicts_with = "new_password")]
        password_stdin: bool,
        /// Set a new password, asked on the terminal.
        #[arg(long)]
        new_password: bool,
    },
    /// Delete a user (never the Súper Administrador).
    Delete {
        /// Id or username.
        user: String,
        /// Do not ask (needed without a terminal).
        #[arg(long)]
        yes: bool,
    },
}

pub const HEADERS: [&str; 5] = ["Usuario", "Nombre", "Rol", "Estado", "Creado"];

fn state(u: &User) -> Cell {
    if u.disabled {
        Cell::toned("Deshabilitado", Tone::Dim)
    } else {
        Cell::toned("Activo", Tone::Good)
    }
}

fn row(u: &User) -> Vec<Cell> {
    vec![
        Cell::text(&u.username),
        Cell::text(&u.display_name),
        Cell::text(u.role.label_es()),
        state(u),
        Cell::text(&u.created_at.format("%Y-%m-%d").to_string()),
    ]
}

fn fields(u: &User) -> Vec<(&'static str, Cell)> {
    vec![
        ("ID", Cell::text(&u.id.to_string())),
        ("Usuario", Cell::text(&u.username)),
        ("Nombre", Cell::text(&u.display_name)),
        ("Rol", Cell::text(u.role.label_es())),
        ("Estado", state(u)),
        ("Creado", Cell::text(&u.created_at.to_rfc3339())),
        ("Actualizado", Cell::text(&u.updated_at.to_rfc3339())),
    ]
}

async fn find(client: &Client, given: &str) -> CliResult<User> {
    if let Ok(id) = Uuid::parse_str(given.trim()) {
        return Ok(client.user(id).await?);
    }
    let users = client.users().await?;
    resolve::pick(("usuario", "usuarios"), given, users, |u| {
        (u.id.to_string(), vec![u.username.clone()])
    })
}

pub async fn run(client: Client, out: Printer, verb: Verb) -> CliResult {
    match verb {
        Verb::List => {
            let users = client.users().await?;
            out.list(&users, |u| u.id.to_string(), &HEADERS, row)
        }
        Verb::Get { user } => {
            let u = find(&client, &user).await?;
            out.one(&u, &u.id.to_string(), fields(&u))
        }
        Verb::Create {
            username,
            display_name,
            role,
            password_stdin,
        } => {
            let password = SecretText::new(prompt::password(
                password_stdin,
                "Contraseña del usuario nuevo: ",
                out.streams.local,
            )?);
            let u = client
                .create_user(&NewUser {
                    username,
                    display_name,
                    password,
                    role: role.into(),
                })
                .await?;
            out.one(&u, &u.id.to_string(), fields(&u))
        }
        Verb::Update {
            user,
            display_name,
            role,
            disable,
            enable,
            password_stdin,
            new_password,
        } => {
            let current = find(&client, &user).await?;
            let password = if password_stdin || new_password {
                Some(SecretText::new(prompt::password(
                    password_stdin,
                    "Contraseña nueva: ",
                    out.streams.local,
                )?))
            } else {
                None
            };
            let patch = UserPatch {
                display_name,
                role: role.map(Into::into),
                disabled: (disable || enable).then_some(disable),
                password,
            };
            if patch.display_name.is_none()
                && patch.role.is_none()
                && patch.disabled.is_none()
                && patch.password.is_none()
            {
                return Err(Failure::Usage(
                    "nada que cambiar: indique al menos un campo (vea --help)".into(),
                ));
            }
            let u = client.update_user(current.id, &patch).await?;
            out.one(&u, &u.id.to_string(), fields(&u))
        }
        Verb::Delete { user, yes } => {
            let u = find(&client, &user).await?;
            let question = format!(
                "¿Eliminar el usuario «{}»?",
                crate::terminal::clean(&u.username)
            );
            if !prompt::confirm(&question, yes, &out.streams)? {
                return Err(Failure::failed("cancelado: no se eliminó nada"));
            }
            client.delete_user(u.id).await?;
            if out.quiet {
                out.line(&u.id.to_string())?;
            }
            out.note(&format!("Usuario «{}» eliminado", u.username))
        }
    }
}
