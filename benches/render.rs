//! Target 3: a frame of the consumer table while scrolling, and the console's resident
//! memory after scrolling, on a `TestBackend` at 120×40, driven through the real client.
//!
//! `render --server URL` talks to a running `consola serve`, so the resident memory measured
//! is the console's alone; `render --data DIR` starts the server in this process instead.
//! Either way the data directory must already hold the account `bench` and its consumers
//! (`benches/run.py` seeds them). Prints `frame_median_us`, `frame_p90_us`, `rss_kb`.

use consola::client::Client;
use consola::server::{ServerConfig, start};
use consola::tui::Lang;
use consola::tui::action::{Action, Effect};
use consola::tui::api::execute;
use consola::tui::state::State;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, Instant};

const PASSWORD: &str = "contraseña de banco";

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

struct Driver {
    state: State,
    client: Client,
}

impl Driver {
    /// Runs every request the state asked for, through the real client, until none is left.
    async fn settle(&mut self) {
        loop {
            let effects = std::mem::take(&mut self.state.ctx.effects);
            if effects.is_empty() {
                break;
            }
            for effect in effects {
                match effect {
                    Effect::Send(id, request) => {
                        let result = execute(&self.client, request).await;
                        self.state.update(Action::Api { id, result });
                    }
                    Effect::Session(Some(token)) => self.client = self.client.with_token(token),
                    Effect::Session(None) => self.client = self.client.without_token(),
                    Effect::Copy { .. } | Effect::RememberUser(_) | Effect::Quit => {}
                }
            }
        }
    }

    fn press(&mut self, code: KeyCode) {
        if let Some(action) = self
            .state
            .key_action(KeyEvent::new(code, KeyModifiers::NONE))
        {
            self.state.update(action);
        }
    }

    async fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.press(KeyCode::Char(c));
        }
        self.settle().await;
    }
}

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e6
}

async fn bench(url: String, scroll: usize) -> anyhow::Result<()> {
    let client = Client::new(&url)?;
    let today = chrono::Local::now().date_naive();
    let mut driver = Driver {
        state: State::new(Lang::Es, url, today),
        client,
    };
    driver.settle().await;
    driver.type_text("bench").await;
    driver.press(KeyCode::Tab);
    driver.type_text(PASSWORD).await;
    driver.press(KeyCode::Enter);
    driver.settle().await;
    anyhow::ensure!(driver.state.ctx.user.is_some(), "login failed");
    // Configuración → Conexiones API → Consumidores OAuth, as a person would.
    driver.press(KeyCode::Char('m'));
    driver.press(KeyCode::Enter);
    for _ in 0..9 {
        driver.press(KeyCode::Down);
    }
    driver.press(KeyCode::Enter);
    driver.settle().await;
    driver.press(KeyCode::Right);
    driver.settle().await;
    let mut terminal = Terminal::new(TestBackend::new(120, 40))?;
    terminal.draw(|frame| consola::tui::render::render(frame, &driver.state))?;
    let rows = driver
        .state
        .main()
        .map_or(0, |m| m.settings.api.consumers.table.rows.len());
    anyhow::ensure!(rows > 0, "the consumer table is empty");
    // Scroll `scroll` rows; a short table bounces between its ends, so the number of frames
    // is the same whatever the number of consumers.
    let mut frames = Vec::with_capacity(scroll);
    let mut down = true;
    for _ in 0..scroll {
        let (selected, loaded, more) = driver.state.main().map_or((0, 0, false), |m| {
            let t = &m.settings.api.consumers.table;
            (
                t.selected,
                t.rows.len(),
                t.next_cursor.is_some() || t.loading.is_some(),
            )
        });
        if down && selected + 1 >= loaded && !more {
            down = false;
        } else if !down && selected == 0 {
            down = true;
        }
        driver.press(if down { KeyCode::Down } else { KeyCode::Up });
        driver.settle().await;
        let started = Instant::now();
        terminal.draw(|frame| consola::tui::render::render(frame, &driver.state))?;
        frames.push(started.elapsed());
    }
    frames.sort_unstable();
    let table = driver.state.main().map(|m| &m.settings.api.consumers.table);
    println!("selected: {}", table.map_or(0, |t| t.skipped + t.selected));
    println!("rows_held: {}", table.map_or(0, |t| t.rows.len()));
    println!("frame_median_us: {:.2}", percentile(&frames, 0.5));
    println!("frame_p90_us: {:.2}", percentile(&frames, 0.9));
    println!("rss_kb: {}", rss_kb());
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let scroll: usize = arg(&args, "--scroll")
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    if let Some(url) = arg(&args, "--server") {
        return runtime.block_on(bench(url, scroll));
    }
    let Some(data) = arg(&args, "--data") else {
        println!("render: run through benches/run.py (needs --server URL or --data DIR)");
        return Ok(());
    };
    runtime.block_on(async {
        let config = ServerConfig::new(data.into(), "127.0.0.1:0".parse()?);
        let server = start(config).await?;
        let result = bench(server.url(), scroll).await;
        server.shutdown().await;
        result
    })
}
