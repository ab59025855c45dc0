//! The wire shape of every API error: RFC 9457 problem details, with per-field messages.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`about:blank` or `urn:consola:<code>`).
    #[serde(rename = "type", default = "about_blank")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What happened, in words for the admin (Spanish).
    #[serde(default)]
    pub detail: String,
    /// Field name → message, for validation errors (422).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, String>,
}

fn about_blank() -> String {
    "about:blank".to_string()
}

impl Problem {
    /// The `urn:consola:` code, e.g. `name_taken`, when the problem has one.
    pub fn code(&self) -> Option<&str> {
        self.kind.strip_prefix("urn:consola:")
    }
}
