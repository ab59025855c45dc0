//! The baseline of target 5: a minimal ratatui program. It enters the alternate screen, draws
//! one paragraph (its last line is the marker `primer cuadro listo`), and exits when a key
//! arrives or after a few seconds. `first_frame --draw`; without it, it does nothing, so
//! `cargo bench` can run it without a terminal.

use crossterm::event::{Event, poll, read};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::{Constraint, Layout};
use ratatui::widgets::{Block, Borders, Paragraph};
use std::time::Duration;

fn main() -> std::io::Result<()> {
    if !std::env::args().any(|a| a == "--draw") {
        println!("first_frame: run through benches/run.py (needs --draw and a terminal)");
        return Ok(());
    }
    enable_raw_mode()?;
    let mut stdout = std::io::stdout();
    crossterm::execute!(stdout, EnterAlternateScreen)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(stdout))?;
    terminal.draw(|frame| {
        let [body, status] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(frame.area());
        frame.render_widget(
            Paragraph::new("Una consola mínima de ratatui.")
                .block(Block::default().borders(Borders::ALL).title(" consola ")),
            body,
        );
        frame.render_widget(Paragraph::new("primer cuadro listo"), status);
    })?;
    if poll(Duration::from_secs(5))? {
        let _ = matches!(read()?, Event::Key(_));
    }
    disable_raw_mode()?;
    crossterm::execute!(std::io::stdout(), LeaveAlternateScreen)?;
    Ok(())
}
