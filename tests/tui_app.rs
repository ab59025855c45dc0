//! The event loop itself (`App::run`) on a test terminal: quitting goes through the effect
//! `update` leaves, the path production runs.

mod support;

use consola::client::Client;
use consola::tui::Lang;
use consola::tui::app::App;
use consola::tui::clipboard::Clipboard;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Duration;
use support::*;

fn key(code: KeyCode, modifiers: KeyModifiers) -> std::io::Result<Event> {
    Ok(Event::Key(KeyEvent::new(code, modifiers)))
}

/// Runs the loop over `keys`, then a stream that never ends: only quitting stops it.
async fn run(state: consola::tui::state::State, keys: Vec<std::io::Result<Event>>) -> bool {
    let terminal = Terminal::new(TestBackend::new(80, 24)).expect("test terminal");
    let events = futures::stream::iter(keys).chain(futures::stream::pending());
    // Nothing listens there; no request of these tests is answered.
    let client = Client::new("http://127.0.0.1:9").expect("client");
    let clipboard = Clipboard::terminal_only(Box::new(std::io::sink()));
    let mut app = App::new(terminal, events, state, client, clipboard);
    matches!(
        tokio::time::timeout(Duration::from_secs(20), app.run()).await,
        Ok(Ok(()))
    )
}

#[tokio::test]
async fn q_ends_the_event_loop() {
    let mut state = first_screen(Lang::Es, false);
    state.ctx.effects.clear();
    // On the login form `q` would type; Esc is not bound there, Ctrl+C always quits.
    assert!(run(state, vec![key(KeyCode::Char('c'), KeyModifiers::CONTROL)]).await);
    let mut state = signed_in(consola::domain::Role::ReadOnly);
    state.ctx.effects.clear();
    assert!(run(state, vec![key(KeyCode::Char('q'), KeyModifiers::NONE)]).await);
}

#[tokio::test]
async fn unsaved_input_asks_and_yes_ends_the_event_loop() {
    let mut state = first_screen(Lang::Es, false);
    state.ctx.effects.clear();
    let keys = vec![
        key(KeyCode::Char('a'), KeyModifiers::NONE),
        key(KeyCode::Char('c'), KeyModifiers::CONTROL),
        // "No" keeps the console open; the question comes again and "s" says yes.
        key(KeyCode::Char('n'), KeyModifiers::NONE),
        key(KeyCode::Char('c'), KeyModifiers::CONTROL),
        key(KeyCode::Char('s'), KeyModifiers::NONE),
    ];
    assert!(run(state, keys).await);
}
