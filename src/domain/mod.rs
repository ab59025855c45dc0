//! The console's nouns and their rules: pure types, validation, secret formats and
//! permission logic. Nothing here does I/O.

pub mod account;
pub mod approval;
pub mod audit;
pub mod client_keys;
pub mod consumer;
pub mod front_door;
pub mod hawk;
pub mod jose;
pub mod names;
pub mod oauth;
pub mod permission;
pub mod problem;
pub mod registration;
pub mod resource;
pub mod secret;
pub mod ssh_key;
pub mod system_secret;
pub mod user;
pub mod validation;

pub use account::*;
pub use approval::{Approval, ConsumerOrigin};
pub use audit::*;
pub use client_keys::{AuthMethod, ClientKeys};
pub use consumer::*;
pub use permission::*;
pub use problem::Problem;
pub use registration::RegistrationPolicy;
pub use resource::{NewProtectedResource, ProtectedResource};
pub use user::*;
pub use validation::FieldErrors;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A new identifier for a stored object: a UUIDv7, so ids sort by creation time and make a
/// stable key for keyset pagination. Timestamps are `DateTime<Utc>` everywhere.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

/// One page of a keyset-paginated list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// How many items match the query in all.
    pub total: u64,
}

/// Largest page a list route serves.
pub const MAX_PAGE_SIZE: u32 = 500;
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// True when the text holds a character that must never reach a terminal raw: control
/// characters (C0, DEL, C1, so escape sequences) and the bidirectional overrides and
/// isolates that can make text display in another order than it is stored.
pub fn has_control_chars(text: &str) -> bool {
    text.chars().any(is_unsafe_char)
}

pub fn is_unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}
