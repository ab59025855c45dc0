//! The account: its name (shown in the header) and its legacy API key.

use super::validation::{FieldErrors, required_line};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Account {
    /// e.g. "FRACTTAL - Activación".
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    pub name: String,
}

pub fn validate_account_name(value: &str) -> Result<String, FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = required_line(&mut errors, "account_name", value, 100);
    errors.into_result().map(|()| name)
}

/// The legacy key ("Método de autenticación deprecado").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApiKey {
    pub key: String,
    pub created_at: DateTime<Utc>,
}

/// The legacy secret: shown to the Súper Administrador only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApiKeySecret {
    pub key: String,
    #[schema(value_type = String)]
    pub secret: crate::domain::secret::SecretText,
    pub created_at: DateTime<Utc>,
}
