//! A form's data: its fields, the focus among them, editing, and the errors the server sent
//! back.

use crate::domain::FieldErrors;
use crate::domain::secret::SecretText;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

/// Columns of a field's label.
/// Fits "Activar Fracttal Hub (Middleware)" after the focus mark; a longer label beside a
/// short value (a checkbox's mark) takes the columns it needs (see `render`).
pub(super) const LABEL_WIDTH: u16 = 36;

/// A grid of checkboxes: module × action.
#[derive(Debug, Clone)]
pub struct Matrix {
    pub rows: Vec<(String, String)>,
    pub columns: Vec<String>,
    pub checked: Vec<Vec<bool>>,
    pub cursor: (usize, usize),
}

#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // a handful per form; boxing buys nothing here
pub enum Kind {
    /// One line of editable text; `masked` for passwords.
    Text {
        area: TextArea<'static>,
        masked: bool,
    },
    Select {
        options: Vec<String>,
        index: usize,
    },
    Checkbox(bool),
    Matrix(Matrix),
    /// A read-only value with a copy icon (Clave, Secreto); `None` until the server sends it.
    /// Held as `SecretText` so no `Debug` of a form can print it.
    Copy {
        value: Option<SecretText>,
        secret: bool,
    },
    /// A read-only value, never focused: what cannot change here (how a consumer
    /// authenticates) or a list of them (its public keys), one a line.
    Value(Vec<String>),
    Button,
    /// A heading between groups of fields.
    Heading,
    /// A line of help under a field, never focused.
    Note,
}

#[derive(Debug, Clone)]
pub struct Field {
    /// The JSON field name the server uses in 422 errors.
    pub name: &'static str,
    pub label: String,
    pub kind: Kind,
    pub error: Option<String>,
    pub hidden: bool,
}

impl Field {
    pub fn text(name: &'static str, label: &str, value: &str) -> Field {
        let mut area = TextArea::new(vec![value.to_string()]);
        area.move_cursor(ratatui_textarea::CursorMove::End);
        Field::new(
            name,
            label,
            Kind::Text {
                area,
                masked: false,
            },
        )
    }
    pub fn password(name: &'static str, label: &str) -> Field {
        Field::new(
            name,
            label,
            Kind::Text {
                area: TextArea::default(),
                masked: true,
            },
        )
    }
    pub fn select(name: &'static str, label: &str, options: Vec<String>, index: usize) -> Field {
        Field::new(name, label, Kind::Select { options, index })
    }
    pub fn checkbox(name: &'static str, label: &str, checked: bool) -> Field {
        Field::new(name, label, Kind::Checkbox(checked))
    }
    pub fn copy(name: &'static str, label: &str, value: Option<SecretText>, secret: bool) -> Field {
        Field::new(name, label, Kind::Copy { value, secret })
    }
    pub fn value(name: &'static str, label: &str, values: Vec<String>) -> Field {
        Field::new(name, label, Kind::Value(values))
    }
    pub fn button(name: &'static str, label: &str) -> Field {
        Field::new(name, label, Kind::Button)
    }
    pub fn heading(label: &str) -> Field {
        Field::new("", label, Kind::Heading)
    }
    /// A line of help; named so that it can be hidden with its field.
    pub fn note(name: &'static str, text: &str) -> Field {
        Field::new(name, text, Kind::Note)
    }
    pub fn matrix(name: &'static str, label: &str, matrix: Matrix) -> Field {
        Field::new(name, label, Kind::Matrix(matrix))
    }
    fn new(name: &'static str, label: &str, kind: Kind) -> Field {
        Field {
            name,
            label: label.to_string(),
            kind,
            error: None,
            hidden: false,
        }
    }

    fn focusable(&self) -> bool {
        !self.hidden
            && !matches!(
                self.kind,
                Kind::Heading | Kind::Note | Kind::Value(_) | Kind::Copy { value: None, .. }
            )
    }

    pub fn is_text(&self) -> bool {
        matches!(self.kind, Kind::Text { .. })
    }
}

#[derive(Debug, Clone)]
pub struct Form {
    pub fields: Vec<Field>,
    pub focus: usize,
    /// The user typed or changed something since the form opened or was saved.
    pub dirty: bool,
    /// A message for the whole form (a conflict, a refused request).
    pub error: Option<String>,
    /// A save is in flight.
    pub busy: bool,
}

impl Form {
    pub fn new(fields: Vec<Field>) -> Form {
        let mut form = Form {
            fields,
            focus: 0,
            dirty: false,
            error: None,
            busy: false,
        };
        form.focus_first();
        form
    }

    pub fn focus_first(&mut self) {
        self.focus = self.fields.iter().position(Field::focusable).unwrap_or(0);
    }

    pub fn focused(&self) -> Option<&Field> {
        self.fields.get(self.focus)
    }

    pub fn focused_name(&self) -> &'static str {
        self.focused().map(|f| f.name).unwrap_or("")
    }

    /// Focuses field `index` if it can take the focus; what kind of field it is.
    pub fn focus_index(&mut self, index: usize) -> Option<&Kind> {
        let field = self.fields.get(index)?;
        if !field.focusable() {
            return None;
        }
        self.focus = index;
        Some(&self.fields[index].kind)
    }

    pub fn focus_on(&mut self, name: &str) {
        if let Some(i) = self.index(name)
            && self.fields[i].focusable()
        {
            self.focus = i;
        }
    }

    pub fn next(&mut self) {
        self.step(1);
    }

    pub fn prev(&mut self) {
        self.step(self.fields.len().saturating_sub(1));
    }

    fn step(&mut self, by: usize) {
        let n = self.fields.len();
        if n == 0 {
            return;
        }
        let mut i = self.focus;
        for _ in 0..n {
            i = (i + by) % n;
            if self.fields[i].focusable() {
                self.focus = i;
                return;
            }
        }
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.index(name).map(|i| &self.fields[i])
    }

    pub fn field_mut(&mut self, name: &str) -> Option<&mut Field> {
        self.index(name).map(move |i| &mut self.fields[i])
    }

    pub fn text(&self, name: &str) -> String {
        match self.field(name).map(|f| &f.kind) {
            Some(Kind::Text { area, .. }) => area.lines().join(" "),
            _ => String::new(),
        }
    }

    pub fn set_text(&mut self, name: &str, value: &str) {
        if let Some(Field {
            kind: Kind::Text { area, .. },
            ..
        }) = self.field_mut(name)
        {
            let mut fresh = TextArea::new(vec![value.to_string()]);
            fresh.move_cursor(ratatui_textarea::CursorMove::End);
            *area = fresh;
        }
    }

    /// Puts the cursor of a text field at `column` (in characters), so the field scrolls to
    /// show it: where a pasted value stopped making sense.
    pub fn set_cursor(&mut self, name: &str, column: usize) {
        if let Some(Field {
            kind: Kind::Text { area, .. },
            ..
        }) = self.field_mut(name)
        {
            let column = u16::try_from(column).unwrap_or(u16::MAX);
            area.move_cursor(ratatui_textarea::CursorMove::Jump(0, column));
        }
    }

    pub fn selected(&self, name: &str) -> usize {
        match self.field(name).map(|f| &f.kind) {
            Some(Kind::Select { index, .. }) => *index,
            _ => 0,
        }
    }

    pub fn checked(&self, name: &str) -> bool {
        matches!(
            self.field(name).map(|f| &f.kind),
            Some(Kind::Checkbox(true))
        )
    }

    pub fn matrix(&self, name: &str) -> Option<&Matrix> {
        match self.field(name).map(|f| &f.kind) {
            Some(Kind::Matrix(m)) => Some(m),
            _ => None,
        }
    }

    pub fn set_copy(&mut self, name: &str, new_value: Option<SecretText>) {
        if let Some(Field {
            kind: Kind::Copy { value, .. },
            ..
        }) = self.field_mut(name)
        {
            *value = new_value;
        }
    }

    pub fn set_hidden(&mut self, name: &str, hidden: bool) {
        if let Some(field) = self.field_mut(name) {
            field.hidden = hidden;
        }
    }

    /// The value of the focused Copy field, if that is what has focus.
    pub fn focused_copy(&self) -> Option<(&str, &SecretText)> {
        match self.focused() {
            Some(Field {
                kind: Kind::Copy {
                    value: Some(value), ..
                },
                label,
                ..
            }) => Some((label.as_str(), value)),
            _ => None,
        }
    }

    pub fn focus_is_text(&self) -> bool {
        self.focused().is_some_and(Field::is_text)
    }

    pub fn focus_is_button(&self) -> bool {
        self.focused()
            .is_some_and(|f| matches!(f.kind, Kind::Button))
    }

    /// Shows each error beside its field; errors for fields this form lacks go to the top.
    pub fn set_errors(&mut self, errors: &FieldErrors, fallback: Option<String>) {
        self.clear_errors();
        let mut rest = Vec::new();
        let mut first = None;
        for (name, message) in &errors.0 {
            match self.index(name) {
                Some(i) => {
                    self.fields[i].error = Some(message.clone());
                    first = Some(first.map_or(i, |f: usize| f.min(i)));
                }
                None => rest.push(message.clone()),
            }
        }
        if !rest.is_empty() {
            self.error = Some(rest.join("; "));
        } else if errors.is_empty() {
            self.error = fallback;
        }
        if let Some(i) = first
            && self.fields[i].focusable()
        {
            self.focus = i;
        }
    }

    pub fn clear_errors(&mut self) {
        self.error = None;
        for field in &mut self.fields {
            field.error = None;
        }
    }

    /// Edits the focused field with a key. Returns whether anything changed.
    pub fn edit(&mut self, key: KeyEvent) -> bool {
        let Some(field) = self.fields.get_mut(self.focus) else {
            return false;
        };
        let changed = match &mut field.kind {
            Kind::Text { area, .. } => {
                // One line only: newlines never enter the value.
                let newline = matches!(key.code, KeyCode::Enter)
                    || (key.modifiers.contains(KeyModifiers::CONTROL)
                        && matches!(key.code, KeyCode::Char('m' | 'j')));
                if newline {
                    false
                } else {
                    let before = area.lines().to_vec();
                    area.input(key);
                    let after = area.lines();
                    after != before.as_slice()
                }
            }
            Kind::Select { options, index } => match key.code {
                KeyCode::Left if *index > 0 => {
                    *index -= 1;
                    true
                }
                KeyCode::Right if *index + 1 < options.len() => {
                    *index += 1;
                    true
                }
                _ => false,
            },
            Kind::Checkbox(checked) => match key.code {
                KeyCode::Char(' ') => {
                    *checked = !*checked;
                    true
                }
                _ => false,
            },
            Kind::Matrix(m) => match key.code {
                KeyCode::Left if m.cursor.1 > 0 => {
                    m.cursor.1 -= 1;
                    return true;
                }
                KeyCode::Right if m.cursor.1 + 1 < m.columns.len() => {
                    m.cursor.1 += 1;
                    return true;
                }
                KeyCode::Char(' ') => {
                    let (r, c) = m.cursor;
                    if let Some(cell) = m.checked.get_mut(r).and_then(|row| row.get_mut(c)) {
                        *cell = !*cell;
                    }
                    true
                }
                _ => false,
            },
            _ => false,
        };
        if changed {
            self.dirty = true;
            field.error = None;
        }
        changed
    }

    /// Moves within a matrix; false when the move should leave the field instead.
    pub fn matrix_move(&mut self, down: bool) -> bool {
        if let Some(Field {
            kind: Kind::Matrix(m),
            ..
        }) = self.fields.get_mut(self.focus)
        {
            if down && m.cursor.0 + 1 < m.rows.len() {
                m.cursor.0 += 1;
                return true;
            }
            if !down && m.cursor.0 > 0 {
                m.cursor.0 -= 1;
                return true;
            }
        }
        false
    }

    /// Pastes into the focused text field (newlines become spaces).
    pub fn paste(&mut self, text: &str) -> bool {
        if let Some(Field {
            kind: Kind::Text { area, .. },
            error,
            ..
        }) = self.fields.get_mut(self.focus)
        {
            let line: String = text
                .chars()
                .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
                .collect();
            area.insert_str(line.trim_end());
            *error = None;
            self.dirty = true;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn typing_pasting_and_errors() {
        let mut form = Form::new(vec![
            Field::heading("Datos"),
            Field::text("name", "Nombre", ""),
            Field::password("password", "Contraseña"),
            Field::checkbox("hub", "Hub", false),
        ]);
        assert_eq!(form.focused_name(), "name");
        form.edit(key('a'));
        form.edit(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
        form.paste("b\nc");
        assert_eq!(form.text("name"), "ab c");
        assert!(form.dirty);
        form.set_errors(&FieldErrors::single("password", "Corta"), None);
        assert_eq!(form.focused_name(), "password");
        assert_eq!(
            form.field("password").unwrap().error.as_deref(),
            Some("Corta")
        );
        assert_eq!(form.text("name"), "ab c");
        form.next();
        form.edit(key(' '));
        assert!(form.checked("hub"));
        form.next();
        assert_eq!(
            form.focused_name(),
            "name",
            "headings are skipped, focus wraps"
        );
    }
}
