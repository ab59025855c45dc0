//! The mouse, when the admin opts in (`mouse = true`, `--mouse`): each frame leaves a map of
//! what can be clicked where, and a click or a wheel turn becomes the commands the keyboard
//! would have given, so the mouse never does what a key could not.

use super::action::{Action, Command};
use super::section::Section;
use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};
use std::cell::RefCell;

/// What a click on an area does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The commands these keys would send, in order (a row: move there; a tab: switch).
    Commands(Vec<Command>),
    /// A field of the form that has the keyboard: focus it and press it (a button, a
    /// checkbox, a copy icon).
    Field(usize),
    /// A section of the Configuración sidebar: open it.
    Section(Section),
}

/// The clickable areas of the last frame, topmost last.
#[derive(Debug, Default)]
pub struct HitMap(RefCell<Vec<(Rect, Target)>>);

impl HitMap {
    /// Forgets the last frame's areas (drawing starts over).
    pub fn clear(&self) {
        self.0.borrow_mut().clear();
    }

    pub fn add(&self, area: Rect, target: Target) {
        if area.width > 0 && area.height > 0 {
            self.0.borrow_mut().push((area, target));
        }
    }

    /// How many areas are mapped so far (see `truncate`).
    pub fn len(&self) -> usize {
        self.0.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.borrow().is_empty()
    }

    /// Forgets the areas mapped after the first `len` (content that has no focus).
    pub fn truncate(&self, len: usize) {
        self.0.borrow_mut().truncate(len);
    }

    /// A popup is modal: nothing under it can be clicked.
    pub fn modal(&self) {
        self.clear();
    }

    /// What is at column `x`, row `y`, topmost first.
    pub fn at(&self, x: u16, y: u16) -> Option<Target> {
        self.0
            .borrow()
            .iter()
            .rev()
            .find(|(area, _)| area.contains(Position { x, y }))
            .map(|(_, target)| target.clone())
    }
}

/// Moving from row `from` to row `to` with the arrow keys; pressing Enter when already there
/// (click to select, click again to open).
pub fn row_commands(from: usize, to: usize) -> Vec<Command> {
    match to.cmp(&from) {
        std::cmp::Ordering::Equal => vec![Command::Enter],
        std::cmp::Ordering::Greater => vec![Command::Down; to - from],
        std::cmp::Ordering::Less => vec![Command::Up; from - to],
    }
}

/// The titles of a `Tabs` drawn at `area` (one space each side, a divider between): a click
/// on one moves there with ← and →.
pub fn tabs(hits: &HitMap, area: Rect, titles: &[&str], selected: usize) {
    use unicode_width::UnicodeWidthStr;
    let mut x = area.x;
    for (i, title) in titles.iter().enumerate() {
        let width = title.width() as u16 + 2;
        let commands = match i.cmp(&selected) {
            std::cmp::Ordering::Equal => Vec::new(),
            std::cmp::Ordering::Greater => vec![Command::Right; i - selected],
            std::cmp::Ordering::Less => vec![Command::Left; selected - i],
        };
        let right = area.right();
        let tab = Rect::new(x.min(right), area.y, width.min(right.saturating_sub(x)), 1);
        hits.add(tab, Target::Commands(commands));
        x = x.saturating_add(width + 1);
    }
}

/// The visible rows of a table whose first row is drawn at `first` (under its header): a
/// click moves the selection there, and opens a row already selected.
pub fn rows(hits: &HitMap, first: Rect, count: usize, selected: Option<usize>) {
    let Some(selected) = selected else {
        return;
    };
    for i in 0..count {
        let y = first.y.saturating_add(i as u16);
        if y >= first.bottom() {
            break;
        }
        let row = Rect::new(first.x, y, first.width, 1);
        hits.add(row, Target::Commands(row_commands(selected, i)));
    }
}

/// A terminal mouse event as an action: a left click or a wheel turn; the rest means nothing.
pub fn action(event: MouseEvent) -> Option<Action> {
    match event.kind {
        MouseEventKind::Down(MouseButton::Left) => Some(Action::Click {
            column: event.column,
            row: event.row,
        }),
        MouseEventKind::ScrollDown => Some(Action::Wheel { down: true }),
        MouseEventKind::ScrollUp => Some(Action::Wheel { down: false }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    #[test]
    fn the_topmost_area_wins_and_a_modal_hides_what_is_under_it() {
        let hits = HitMap::default();
        hits.add(Rect::new(0, 0, 10, 10), Target::Commands(vec![Command::Up]));
        hits.add(Rect::new(2, 2, 2, 2), Target::Field(3));
        assert_eq!(hits.at(2, 3), Some(Target::Field(3)));
        assert_eq!(hits.at(8, 8), Some(Target::Commands(vec![Command::Up])));
        assert_eq!(hits.at(10, 0), None);
        hits.modal();
        assert_eq!(hits.at(8, 8), None);
    }

    #[test]
    fn rows_are_reached_with_arrows_and_opened_with_enter() {
        assert_eq!(row_commands(1, 3), vec![Command::Down, Command::Down]);
        assert_eq!(row_commands(2, 0), vec![Command::Up, Command::Up]);
        assert_eq!(row_commands(2, 2), vec![Command::Enter]);
    }

    #[test]
    fn only_left_clicks_and_the_wheel_mean_something() {
        let event = |kind| MouseEvent {
            kind,
            column: 4,
            row: 5,
            modifiers: KeyModifiers::NONE,
        };
        assert!(matches!(
            action(event(MouseEventKind::Down(MouseButton::Left))),
            Some(Action::Click { column: 4, row: 5 })
        ));
        assert!(matches!(
            action(event(MouseEventKind::ScrollDown)),
            Some(Action::Wheel { down: true })
        ));
        assert!(action(event(MouseEventKind::Down(MouseButton::Right))).is_none());
        assert!(action(event(MouseEventKind::Moved)).is_none());
    }
}
