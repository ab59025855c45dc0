//! The transaction log ("Log de Transacciones"). An entry never holds a secret.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuditAction {
    Add,
    Edit,
    Delete,
    Login,
    Logout,
    Rotate,
    Token,
    Denied,
    Reveal,
    Regenerate,
    Setup,
}

impl AuditAction {
    pub const ALL: [AuditAction; 11] = [
        AuditAction::Add,
        AuditAction::Edit,
        AuditAction::Delete,
        AuditAction::Login,
        AuditAction::Logout,
        AuditAction::Rotate,
        AuditAction::Token,
        AuditAction::Denied,
        AuditAction::Reveal,
        AuditAction::Regenerate,
        AuditAction::Setup,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Add => "ADD",
            AuditAction::Edit => "EDIT",
            AuditAction::Delete => "DELETE",
            AuditAction::Login => "LOGIN",
            AuditAction::Logout => "LOGOUT",
            AuditAction::Rotate => "ROTATE",
            AuditAction::Token => "TOKEN",
            AuditAction::Denied => "DENIED",
            AuditAction::Reveal => "REVEAL",
            AuditAction::Regenerate => "REGENERATE",
            AuditAction::Setup => "SETUP",
        }
    }

    pub fn parse(text: &str) -> Option<AuditAction> {
        AuditAction::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(text))
    }
}

/// Who did something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Actor {
    /// `user`, `consumer` or `anonymous`.
    pub kind: String,
    /// Username or client_id; empty for anonymous callers.
    pub name: String,
}

impl Actor {
    pub fn user(username: &str) -> Actor {
        Actor {
            kind: "user".into(),
            name: username.into(),
        }
    }
    pub fn consumer(client_id: &str) -> Actor {
        Actor {
            kind: "consumer".into(),
            name: client_id.into(),
        }
    }
    /// The server itself, applying its own settings at start.
    pub fn system() -> Actor {
        Actor {
            kind: "system".into(),
            name: "consola serve".into(),
        }
    }
    pub fn anonymous() -> Actor {
        Actor {
            kind: "anonymous".into(),
            name: String::new(),
        }
    }
}

/// An entry to write, next to the change it records.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEvent {
    pub at: DateTime<Utc>,
    pub ip: String,
    pub actor: Actor,
    pub action: AuditAction,
    pub module: String,
    pub target: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub ip: String,
    pub actor: Actor,
    pub action: AuditAction,
    pub module: String,
    /// Uuid or name of what was acted on.
    pub target: String,
    pub description: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    #[serde(default, deserialize_with = "sane_instant")]
    pub since: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "sane_instant")]
    pub until: Option<DateTime<Utc>>,
    pub action: Option<AuditAction>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// Module names used in the log (the web product's words).
pub mod modules {
    pub const CONSUMERS: &str = "Consumidores OAuth";
    /// The APIs tokens are issued for (RFC 8707).
    pub const RESOURCES: &str = "Recursos protegidos";
    pub const GROUPS: &str = "Grupos de permisos";
    pub const USERS: &str = "Cuentas de Usuarios";
    pub const SESSION: &str = "Sesión";
    pub const API_KEY: &str = "API Key";
    pub const ACCOUNT: &str = "Cuenta";
    pub const OAUTH: &str = "OAuth";
    pub const SSH_KEYS: &str = "Claves SSH";
    /// Clients that register themselves: the policy, the decisions, the initial tokens.
    pub const REGISTRATION: &str = "Registro de clientes";
}

/// Dashboard figures for a range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Dashboard {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub consumers: u64,
    pub enabled_consumers: u64,
    pub permission_groups: u64,
    pub users: u64,
    pub tokens_issued: u64,
    pub failed_authentications: u64,
    /// One point per day of the range, oldest first.
    pub series: Vec<DashboardPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DashboardPoint {
    pub day: chrono::NaiveDate,
    pub tokens_issued: u64,
    pub failed_authentications: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    #[serde(default, deserialize_with = "sane_instant")]
    pub since: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "sane_instant")]
    pub until: Option<DateTime<Utc>>,
}

/// The years a date in a query may name. Far outside them, date arithmetic overflows;
/// nothing in the log lies there anyway.
pub const QUERY_YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;

/// An instant of a query, refused (422 naming the parameter) outside `QUERY_YEARS`.
fn sane_instant<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    use chrono::Datelike;
    let at = Option::<DateTime<Utc>>::deserialize(deserializer)?;
    match at {
        Some(at) if !QUERY_YEARS.contains(&at.year()) => Err(serde::de::Error::custom(format!(
            "fecha fuera de rango: el año debe estar entre {} y {}",
            QUERY_YEARS.start(),
            QUERY_YEARS.end()
        ))),
        at => Ok(at),
    }
}
