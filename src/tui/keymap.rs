//! Keys → commands. Each screen lists its bindings once; that one list feeds the key bar,
//! the `?` help and `map_key`, so a key missing from the help is also inert.

use super::action::{Action, Command};
use super::i18n::Lang;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// A command available on the current screen, with what it does there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    pub command: Command,
    /// Spanish text (translated on display).
    pub label: &'static str,
    /// Shown in the bottom bar too (all show in the help).
    pub in_bar: bool,
}

pub const fn bar(command: Command, label: &'static str) -> Binding {
    Binding {
        command,
        label,
        in_bar: true,
    }
}

pub const fn help(command: Command, label: &'static str) -> Binding {
    Binding {
        command,
        label,
        in_bar: false,
    }
}

impl Command {
    /// The keys, as printed in the bar and the help.
    pub fn keys(self) -> &'static str {
        match self {
            Command::Up => "↑/k",
            Command::Down => "↓/j",
            Command::PageUp => "PgUp",
            Command::PageDown => "PgDn",
            Command::Left => "←",
            Command::Right => "→",
            Command::Enter => "Enter",
            Command::Back => "Esc",
            Command::Next => "Tab",
            Command::Prev => "Shift+Tab",
            Command::Toggle => "Espacio",
            Command::New => "+",
            Command::Save => "Ctrl+S",
            Command::Copy => "c",
            Command::Filter => "/",
            Command::Help => "?",
            Command::Menu => "m",
            Command::Quit => "q",
            Command::Delete => "d",
            Command::Rotate => "r",
            Command::EnableToggle => "e",
            Command::Reveal => "v",
            Command::Regenerate => "g",
            Command::Refresh => "F5",
            Command::Reload => "Ctrl+R",
            Command::Yes => "Enter/s",
            Command::No => "Esc/n",
        }
    }

    /// Whether `key` means this command. `letters` is false while a text input has focus,
    /// so letters type instead of acting.
    pub fn matches(self, key: &KeyEvent, letters: bool) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let letter = |c: char| letters && !ctrl && !alt && key.code == KeyCode::Char(c);
        match self {
            Command::Up => key.code == KeyCode::Up || letter('k'),
            Command::Down => key.code == KeyCode::Down || letter('j'),
            Command::PageUp => key.code == KeyCode::PageUp,
            Command::PageDown => key.code == KeyCode::PageDown,
            Command::Left => key.code == KeyCode::Left && letters,
            Command::Right => key.code == KeyCode::Right && letters,
            Command::Enter => key.code == KeyCode::Enter,
            Command::Back => key.code == KeyCode::Esc,
            Command::Next => {
                key.code == KeyCode::Tab && !key.modifiers.contains(KeyModifiers::SHIFT)
            }
            Command::Prev => {
                key.code == KeyCode::BackTab
                    || (key.code == KeyCode::Tab && key.modifiers.contains(KeyModifiers::SHIFT))
            }
            Command::Toggle => letter(' '),
            Command::New => letter('+'),
            Command::Save => ctrl && key.code == KeyCode::Char('s'),
            Command::Copy => letter('c'),
            Command::Filter => letter('/'),
            Command::Help => letter('?') || key.code == KeyCode::F(1),
            Command::Menu => letter('m'),
            Command::Quit => letter('q') || (ctrl && key.code == KeyCode::Char('c')),
            Command::Delete => letter('d') || (letters && key.code == KeyCode::Delete),
            Command::Rotate => letter('r'),
            Command::EnableToggle => letter('e'),
            Command::Reveal => letter('v'),
            Command::Regenerate => letter('g'),
            Command::Refresh => key.code == KeyCode::F(5),
            Command::Reload => ctrl && key.code == KeyCode::Char('r'),
            Command::Yes => key.code == KeyCode::Enter || letter('s') || letter('y'),
            Command::No => key.code == KeyCode::Esc || letter('n'),
        }
    }
}

/// The action a key means given the current bindings. `text_focus`: a text input has focus;
/// then unbound printable keys and editing keys go to it.
pub fn map_key(bindings: &[Binding], key: KeyEvent, text_focus: bool) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    // Ctrl+C always reaches Quit, even while typing.
    let ctrl_c = key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c');
    if let Some(binding) = bindings
        .iter()
        .find(|b| b.command.matches(&key, !text_focus) || (ctrl_c && b.command == Command::Quit))
    {
        return Some(Action::Command(binding.command));
    }
    if text_focus {
        return Some(Action::Edit(key));
    }
    // Selects, checkboxes and matrices take arrows and space when not bound to a command.
    match key.code {
        KeyCode::Left | KeyCode::Right | KeyCode::Char(' ') => Some(Action::Edit(key)),
        _ => None,
    }
}

/// "key label" pairs of the bar.
pub fn bar_items(bindings: &[Binding], lang: Lang) -> Vec<(&'static str, &'static str)> {
    bindings
        .iter()
        .filter(|b| b.in_bar)
        .map(|b| (b.command.keys(), lang.t(b.label)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_type_while_a_text_input_has_focus() {
        let bindings = [bar(Command::Quit, "Salir"), bar(Command::Save, "Guardar")];
        let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        assert!(matches!(
            map_key(&bindings, q, false),
            Some(Action::Command(Command::Quit))
        ));
        assert!(matches!(map_key(&bindings, q, true), Some(Action::Edit(_))));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert!(matches!(
            map_key(&bindings, ctrl_c, true),
            Some(Action::Command(Command::Quit))
        ));
        let d = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::NONE);
        assert!(
            map_key(&bindings, d, false).is_none(),
            "unbound keys are inert"
        );
    }
}
