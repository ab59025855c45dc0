//! The terminal console: the router (`state`), one file per screen (`screens`), the context
//! screens reach the app through, actions, pure rendering, keymaps and the clipboard.
//! It talks to the server only through the typed `Client`.

pub mod action;
pub mod api;
pub mod app;
pub mod clipboard;
pub mod context;
pub mod dates;
pub mod dialog;
pub mod fit;
pub mod form;
pub mod group_modal;
pub mod i18n;
pub mod keymap;
pub mod last_user;
pub mod look;
pub mod mouse;
pub mod pager;
pub mod render;
pub mod screens;
pub mod section;
pub mod state;

pub use i18n::Lang;

use crate::client::Client;
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    EventStream,
};
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// How the console starts.
#[derive(Debug, Clone)]
pub struct Options {
    pub lang: Lang,
    /// Colours and characters this terminal takes (`Look::from_env`).
    pub look: look::Look,
    /// Clicks and the wheel (opt in: capturing the mouse takes the terminal's own selection).
    pub mouse: bool,
}

/// Runs the console on this process's terminal until the user quits or a signal arrives.
/// The terminal is restored on every way out, panics included.
///
/// `connect` yields the server's URL (shown in the status bar so the admin can try
/// credentials with curl). The first frame is drawn before it is awaited, so starting an
/// embedded server never delays the screen.
pub async fn run(
    connect: impl Future<Output = anyhow::Result<String>>,
    options: Options,
) -> anyhow::Result<()> {
    install_panic_hook();
    let mut terminal = enter(options.mouse)?;
    let _restore = Restore;
    let today = chrono::Local::now().date_naive();
    let mut state = state::State::new(options.lang, String::new(), today);
    state.ctx.look = options.look;
    let remembered = last_user::path(|name| std::env::var_os(name));
    if let Some(path) = &remembered {
        state.last_username = last_user::load(path);
    }
    if let Ok(size) = terminal.size() {
        state.ctx.size = (size.width, size.height);
    }
    terminal.draw(|frame| render::render(frame, &state))?;
    let url = connect.await?;
    let client = Client::new(&url)?;
    state.api_url = url;
    let clipboard = clipboard::Clipboard::new(Box::new(std::io::stdout()));
    let mut app = app::App::new(terminal, EventStream::new(), state, client, clipboard);
    app.run().await
}

fn enter(
    mouse: bool,
) -> anyhow::Result<Terminal<CrosstermBackend<look::NamedColours<std::io::Stdout>>>> {
    crossterm::terminal::enable_raw_mode()?;
    let mut stdout = std::io::stdout();
    if let Err(error) = crossterm::execute!(stdout, EnterAlternateScreen, EnableBracketedPaste) {
        restore();
        return Err(error.into());
    }
    if mouse && let Err(error) = crossterm::execute!(stdout, EnableMouseCapture) {
        restore();
        return Err(error.into());
    }
    match Terminal::new(CrosstermBackend::new(look::NamedColours::new(stdout))) {
        Ok(terminal) => Ok(terminal),
        Err(error) => {
            restore();
            Err(error.into())
        }
    }
}

/// Puts the terminal back as it was; safe to call more than once.
pub fn restore() {
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = crossterm::execute!(
        std::io::stdout(),
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Restores the terminal when dropped (normal exit, error, signal).
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        restore();
    }
}

/// On panic: restore the terminal first, then let the previous hook report.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}
