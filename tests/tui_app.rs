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
    let terminal = Terminal::new(TestBackend::new(80, 24)).expect("test terminal");
    let (keys, typed) = futures::channel::mpsc::unbounded();
    let (waiting, mut waits) = futures::channel::mpsc::unbounded();
    // Tells the test each time the loop has taken every key sent so far and waits for more.
    let mut typed = typed;
    let events = futures::stream::poll_fn(move |cx| {
        let next = typed.poll_next_unpin(cx);
        if next.is_pending() {
            let _ = waiting.unbounded_send(());
        }
        next
    });
    let client = Client::new("http://127.0.0.1:9").expect("client");
    let clipboard = Clipboard::terminal_only(Box::new(std::io::sink()));
    let mut app = App::new(terminal, events, state, client, clipboard);
    let send = |code, modifiers| keys.unbounded_send(key(code, modifiers)).expect("send key");
    // Typed input, then Ctrl+C: the console asks; "No" keeps it open.
    send(KeyCode::Char('a'), KeyModifiers::NONE);
    send(KeyCode::Char('c'), KeyModifiers::CONTROL);
    send(KeyCode::Char('n'), KeyModifiers::NONE);
    let run = app.run();
    tokio::pin!(run);
    let deadline = Duration::from_secs(20);
    // The loop takes the keys, then is given time to act on them: it must still be running.
    // (A quit acts within microseconds of its key; the settling time only bounds the wait.)
    tokio::select! {
        biased;
        ended = &mut run => panic!("Ctrl+C with unsaved input quit without asking: {ended:?}"),
        _ = waits.next() => {}
        _ = tokio::time::sleep(deadline) => panic!("the loop took no key"),
    }
    tokio::select! {
        biased;
        ended = &mut run => panic!("Ctrl+C with unsaved input quit without asking: {ended:?}"),
        _ = tokio::time::sleep(Duration::from_millis(300)) => {}
    }
    // The question comes again and "s" says yes.
    send(KeyCode::Char('c'), KeyModifiers::CONTROL);
    send(KeyCode::Char('s'), KeyModifiers::NONE);
    let ended = tokio::time::timeout(deadline, run).await;
    assert!(matches!(ended, Ok(Ok(()))), "{ended:?}");
}
