//! Keys → commands. Keys are data: one table says which keys mean each command, and both
//! what is printed (the bar, the `?` help, the question's buttons) and what is matched come
//! from it, so a key shown and a key matched cannot differ. Each screen lists its bindings
//! once; that one list feeds the key bar, the help and `map_key`, so a key missing from the
//! help is also inert.

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

/// One key of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    /// Held with Ctrl.
    pub ctrl: bool,
    /// A text input takes this key while it has focus (letters, space, ← →), so then it
    /// means no command.
    pub typed: bool,
    /// How it is printed.
    pub name: &'static str,
}

const fn named(code: KeyCode, name: &'static str) -> Key {
    Key {
        code,
        ctrl: false,
        typed: false,
        name,
    }
}

/// A key that a focused text input types or edits with instead.
const fn typed(code: KeyCode, name: &'static str) -> Key {
    Key {
        code,
        ctrl: false,
        typed: true,
        name,
    }
}

const fn letter(c: char, name: &'static str) -> Key {
    typed(KeyCode::Char(c), name)
}

const fn ctrl(c: char, name: &'static str) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: true,
        typed: false,
        name,
    }
}

/// A command's keys. The first `bar` of them are printed in the key bar and on a
/// question's buttons; the help prints them all.
pub struct Keys {
    pub command: Command,
    pub keys: &'static [Key],
    pub bar: usize,
}

const fn keys(command: Command, keys: &'static [Key], bar: usize) -> Keys {
    Keys { command, keys, bar }
}

/// Every command and its keys: the one table.
pub const TABLE: &[Keys] = &[
    keys(Command::Up, &[named(KeyCode::Up, "↑"), letter('k', "k")], 2),
    keys(
        Command::Down,
        &[named(KeyCode::Down, "↓"), letter('j', "j")],
        2,
    ),
    keys(Command::PageUp, &[named(KeyCode::PageUp, "PgUp")], 1),
    keys(Command::PageDown, &[named(KeyCode::PageDown, "PgDn")], 1),
    keys(Command::Left, &[typed(KeyCode::Left, "←")], 1),
    keys(Command::Right, &[typed(KeyCode::Right, "→")], 1),
    keys(Command::Enter, &[named(KeyCode::Enter, "Enter")], 1),
    keys(Command::Back, &[named(KeyCode::Esc, "Esc")], 1),
    keys(Command::Next, &[named(KeyCode::Tab, "Tab")], 1),
    keys(Command::Prev, &[named(KeyCode::BackTab, "Shift+Tab")], 1),
    keys(Command::Toggle, &[letter(' ', "Espacio")], 1),
    keys(Command::New, &[letter('+', "+")], 1),
    keys(Command::Save, &[ctrl('s', "Ctrl+S")], 1),
    keys(Command::Copy, &[letter('c', "c")], 1),
    keys(Command::Filter, &[letter('/', "/")], 1),
    // F1 reaches the help while a text input has focus, where `?` types.
    keys(
        Command::Help,
        &[letter('?', "?"), named(KeyCode::F(1), "F1")],
        1,
    ),
    keys(Command::Menu, &[letter('m', "m")], 1),
    // Ctrl+C quits even while typing.
    keys(Command::Quit, &[letter('q', "q"), ctrl('c', "Ctrl+C")], 1),
    keys(
        Command::Delete,
        &[letter('d', "d"), typed(KeyCode::Delete, "Supr")],
        1,
    ),
    keys(Command::Rotate, &[letter('r', "r")], 1),
    keys(Command::EnableToggle, &[letter('e', "e")], 1),
    keys(Command::Reveal, &[letter('v', "v")], 1),
    keys(Command::Regenerate, &[letter('g', "g")], 1),
    keys(Command::Refresh, &[named(KeyCode::F(5), "F5")], 1),
    keys(Command::Reload, &[ctrl('r', "Ctrl+R")], 1),
    keys(Command::Approve, &[letter('a', "a")], 1),
    keys(Command::Reject, &[letter('x', "x")], 1),
    keys(Command::Policy, &[letter('p', "p")], 1),
    keys(
        Command::Yes,
        &[
            named(KeyCode::Enter, "Enter"),
            letter('s', "s"),
            letter('y', "y"),
        ],
        2,
    ),
    keys(
        Command::No,
        &[named(KeyCode::Esc, "Esc"), letter('n', "n")],
        2,
    ),
];

impl Key {
    /// Whether `event` is this key. `letters` is false while a text input has focus.
    pub fn matches(&self, event: &KeyEvent, letters: bool) -> bool {
        if self.typed && !letters {
            return false;
        }
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        let alt = event.modifiers.contains(KeyModifiers::ALT);
        let shift = event.modifiers.contains(KeyModifiers::SHIFT);
        match self.code {
            KeyCode::Char(c) => event.code == KeyCode::Char(c) && ctrl == self.ctrl && !alt,
            // Terminals send Shift+Tab as BackTab or as Tab with Shift.
            KeyCode::BackTab => {
                event.code == KeyCode::BackTab || (event.code == KeyCode::Tab && shift)
            }
            KeyCode::Tab => event.code == KeyCode::Tab && !shift,
            code => event.code == code,
        }
    }
}

impl Command {
    fn entry(self) -> Option<&'static Keys> {
        TABLE.iter().find(|k| k.command == self)
    }

    /// Every key of this command.
    pub fn all_keys(self) -> &'static [Key] {
        self.entry().map_or(&[], |k| k.keys)
    }

    /// The keys as printed in the bar and on a question's buttons.
    pub fn keys(self) -> String {
        self.entry()
            .map_or_else(String::new, |k| join(k.keys.iter().take(k.bar.max(1))))
    }

    /// The keys printed in the bar now. `letters` is false while a text input has focus:
    /// then the keys it types are left out (`q` types a q there, so the bar says Ctrl+C).
    pub fn keys_now(self, letters: bool) -> String {
        let Some(entry) = self.entry() else {
            return String::new();
        };
        let works = |k: &&Key| letters || !k.typed;
        let shown: Vec<&Key> = entry
            .keys
            .iter()
            .take(entry.bar.max(1))
            .filter(works)
            .collect();
        if !shown.is_empty() {
            return join(shown.into_iter());
        }
        entry
            .keys
            .iter()
            .find(works)
            .map_or_else(|| self.keys(), |k| k.name.to_string())
    }

    /// Every key, as the help prints them.
    pub fn help_keys(self) -> String {
        join(self.all_keys().iter())
    }

    /// The keys that work now, as the help prints them; `letters` as in `keys_now` (in a
    /// text input `q`, `j`, `m` type, so the help leaves them out). Empty: none works now.
    pub fn help_keys_now(self, letters: bool) -> String {
        join(self.all_keys().iter().filter(|k| letters || !k.typed))
    }

    /// Whether `key` means this command. `letters` is false while a text input has focus,
    /// so letters type instead of acting.
    pub fn matches(self, key: &KeyEvent, letters: bool) -> bool {
        self.all_keys().iter().any(|k| k.matches(key, letters))
    }
}

fn join<'a>(keys: impl Iterator<Item = &'a Key>) -> String {
    keys.map(|k| k.name).collect::<Vec<_>>().join("/")
}

/// The action a key means given the current bindings. `text_focus`: a text input has focus;
/// then unbound printable keys and editing keys go to it.
pub fn map_key(bindings: &[Binding], key: KeyEvent, text_focus: bool) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    if let Some(binding) = bindings
        .iter()
        .find(|b| b.command.matches(&key, !text_focus))
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

/// The bar's items: command, its keys that work now (see `Command::keys_now`), label.
pub fn bar_items(
    bindings: &[Binding],
    lang: Lang,
    letters: bool,
) -> Vec<(Command, String, &'static str)> {
    bindings
        .iter()
        .filter(|b| b.in_bar)
        .map(|b| (b.command, b.command.keys_now(letters), lang.t(b.label)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

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

    /// Every key the table matches is printed in the help, and each printed key matches: the
    /// key shown and the key matched come from one table.
    #[test]
    fn every_matched_key_is_shown_and_every_shown_key_matches() {
        for entry in TABLE {
            let command = entry.command;
            assert!(!entry.keys.is_empty(), "{command:?} has no key");
            let names: Vec<&str> = entry.keys.iter().map(|k| k.name).collect();
            assert_eq!(
                command.help_keys(),
                names.join("/"),
                "the help prints them all"
            );
            for key in entry.keys {
                let modifiers = if key.ctrl {
                    KeyModifiers::CONTROL
                } else {
                    KeyModifiers::NONE
                };
                assert!(
                    command.matches(&event(key.code, modifiers), true),
                    "{command:?}: {} shown but not matched",
                    key.name
                );
            }
            assert_eq!(
                TABLE.iter().filter(|k| k.command == command).count(),
                1,
                "{command:?} listed twice"
            );
        }
        // The two that used to disagree.
        assert!(Command::Help.matches(&event(KeyCode::F(1), KeyModifiers::NONE), false));
        assert_eq!(Command::Help.help_keys(), "?/F1");
        assert!(Command::Yes.matches(&event(KeyCode::Char('y'), KeyModifiers::NONE), true));
        assert_eq!(Command::Yes.help_keys(), "Enter/s/y");
        // A key not in the table means nothing.
        assert!(!Command::Yes.matches(&event(KeyCode::Char('x'), KeyModifiers::NONE), true));
        assert!(!Command::Quit.matches(&event(KeyCode::Char('q'), KeyModifiers::NONE), false));
    }

    #[test]
    fn shift_tab_arrives_either_way() {
        for key in [
            event(KeyCode::BackTab, KeyModifiers::SHIFT),
            event(KeyCode::Tab, KeyModifiers::SHIFT),
        ] {
            assert!(Command::Prev.matches(&key, false));
            assert!(!Command::Next.matches(&key, false));
        }
    }
}
