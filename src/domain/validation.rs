//! Per-field validation errors, gathered so that a form can show each beside its field.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Field name → human message (Spanish), in a stable order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the first error of a field; later ones for the same field are dropped.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_string())
            .or_insert_with(|| message.into());
    }

    pub fn single(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    /// `Ok(())` when nothing was recorded.
    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

/// Checks a required one-line text: trimmed, `1..=max` characters, no control characters.
/// Returns the trimmed text.
pub fn required_line(errors: &mut FieldErrors, field: &str, value: &str, max: usize) -> String {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if len == 0 {
        errors.add(field, "Este campo es obligatorio");
    } else if len > max {
        errors.add(field, format!("Máximo {max} caracteres (tiene {len})"));
    } else if super::has_control_chars(trimmed) {
        errors.add(field, "No puede contener caracteres de control");
    } else if let Some(c) = super::names::first_invisible(trimmed) {
        errors.add(
            field,
            format!(
                "No puede contener caracteres invisibles o de formato (U+{:04X})",
                c as u32
            ),
        );
    }
    trimmed.to_string()
}

/// Checks an optional free text: at most `max` characters; line breaks and tabs are the only
/// control characters allowed. Returns the trimmed text.
pub fn optional_text(errors: &mut FieldErrors, field: &str, value: &str, max: usize) -> String {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if len > max {
        errors.add(field, format!("Máximo {max} caracteres (tiene {len})"));
    } else if trimmed
        .chars()
        .any(|c| super::is_unsafe_char(c) && c != '\n' && c != '\t')
    {
        errors.add(field, "No puede contener caracteres de control");
    }
    trimmed.to_string()
}
