//! Console users, their roles and sessions.

use super::secret::SecretText;
use super::validation::{FieldErrors, required_line};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Súper Administrador: exactly one; the only one who touches consumers and secrets.
    SuperAdmin,
    /// Manages permission groups and reads everything else.
    Admin,
    /// Reads.
    ReadOnly,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::SuperAdmin => "super_admin",
            Role::Admin => "admin",
            Role::ReadOnly => "read_only",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "super_admin" => Some(Role::SuperAdmin),
            "admin" => Some(Role::Admin),
            "read_only" => Some(Role::ReadOnly),
            _ => None,
        }
    }

    /// The label the web product uses.
    pub fn label_es(self) -> &'static str {
        match self {
            Role::SuperAdmin => "Súper Administrador",
            Role::Admin => "Administrador",
            Role::ReadOnly => "Solo lectura",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Role::SuperAdmin => "Super administrator",
            Role::Admin => "Administrator",
            Role::ReadOnly => "Read only",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// The user as a session sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SessionUser {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

impl From<&User> for SessionUser {
    fn from(user: &User) -> Self {
        SessionUser {
            id: user.id,
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            role: user.role,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    pub account_name: String,
    pub username: String,
    pub display_name: String,
    #[schema(value_type = String)]
    pub password: SecretText,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct SetupStatus {
    /// True while no user exists: the server waits for its Súper Administrador.
    pub needed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    #[schema(value_type = String)]
    pub password: SecretText,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token for `Authorization`; shown once, stored only as a digest.
    #[schema(value_type = String)]
    pub token: crate::domain::secret::SecretText,
    pub expires_at: DateTime<Utc>,
    pub user: SessionUser,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    #[schema(value_type = String)]
    pub password: SecretText,
    pub role: Role,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Giving `super_admin` to another user hands the role over: the caller becomes `admin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// Sets a new password (super admin resetting another user's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub password: Option<SecretText>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(value_type = String)]
    pub current_password: SecretText,
    #[schema(value_type = String)]
    pub new_password: SecretText,
}

pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;

pub fn validate_username(errors: &mut FieldErrors, field: &str, value: &str) -> String {
    let name = value.trim().to_string();
    let len = name.chars().count();
    if len == 0 {
        errors.add(field, "Este campo es obligatorio");
    } else if !(3..=50).contains(&len) {
        errors.add(field, "Debe tener entre 3 y 50 caracteres");
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        errors.add(field, "Solo letras, números y . _ - @");
    }
    name
}

pub fn validate_display_name(errors: &mut FieldErrors, field: &str, value: &str) -> String {
    required_line(errors, field, value, 100)
}

pub fn validate_password(errors: &mut FieldErrors, field: &str, value: &str) {
    let len = value.chars().count();
    if len < PASSWORD_MIN {
        errors.add(field, format!("Mínimo {PASSWORD_MIN} caracteres"));
    } else if len > PASSWORD_MAX {
        errors.add(field, format!("Máximo {PASSWORD_MAX} caracteres"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_checked() {
        let mut errors = FieldErrors::new();
        assert_eq!(
            validate_username(&mut errors, "u", "  ana.lopez "),
            "ana.lopez"
        );
        assert!(errors.is_empty());
        validate_username(&mut errors, "u", "a b");
        assert!(errors.get("u").is_some());
    }

    #[test]
    fn requests_holding_passwords_never_show_them() {
        let password = "contraseña muy secreta";
        let shown = format!(
            "{:?} {:?} {:?} {:?} {:?}",
            LoginRequest {
                username: "ana".into(),
                password: password.into(),
            },
            SetupRequest {
                account_name: "Cuenta".into(),
                username: "ana".into(),
                display_name: "Ana".into(),
                password: password.into(),
            },
            NewUser {
                username: "ana".into(),
                display_name: "Ana".into(),
                password: password.into(),
                role: Role::Admin,
            },
            UserPatch {
                password: Some(password.into()),
                ..UserPatch::default()
            },
            PasswordChange {
                current_password: password.into(),
                new_password: password.into(),
            },
        );
        assert!(shown.contains("ana"));
        assert!(!shown.contains(password), "{shown}");
        // The wire format is unchanged: a plain string.
        let json = serde_json::to_string(&LoginRequest {
            username: "ana".into(),
            password: password.into(),
        })
        .unwrap();
        assert_eq!(
            json,
            format!(r#"{{"username":"ana","password":"{password}"}}"#)
        );
    }

    #[test]
    fn roles_round_trip() {
        for role in [Role::SuperAdmin, Role::Admin, Role::ReadOnly] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }
}
