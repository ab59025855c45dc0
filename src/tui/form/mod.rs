//! A form: labelled fields (text, select, checkbox, permission matrix, copyable value,
//! button), the focus among them, and the per-field errors the server sent back. Every form of
//! the console is one of these, so they all edit, validate and draw the same way.

mod command;
mod model;
mod render;

pub use command::{FormOutcome, form_bindings, form_command};
pub use model::{Field, Form, Kind, Matrix};
pub use render::{clickable, lines, render};
