//! The console (no subcommand): the terminal screens, beside the embedded server they
//! start, attach to, or take over when the console that served quits.

use super::logging::log_to_file;
use super::loopback;
use crate::server::{self, ServerConfig};
use crate::tui::Lang;
use anyhow::Context as _;
use std::path::PathBuf;

pub(super) async fn console(
    server_url: Option<String>,
    data_dir: PathBuf,
    lang: Lang,
    port: u16,
    mouse: bool,
) -> anyhow::Result<()> {
    log_to_file(&data_dir)?;
    // The embedded server starts beside the console's first frame, not before it.
    let (url_tx, url_rx) = tokio::sync::oneshot::channel();
    // Tells an attached console's takeover to stop waiting: the console quits.
    let (quit_tx, quit_rx) = tokio::sync::oneshot::channel::<()>();
    let embedded = match server_url {
        Some(url) => {
            let _ = url_tx.send(url);
            None
        }
        None => {
            let mut config = ServerConfig::new(data_dir.clone(), loopback(port));
            config.fallback_to_ephemeral_port = true;
            Some(tokio::spawn(async move {
                // One data directory, one server: a second console attaches to the first's.
                let server = server::instance::start_or_attach(config.clone()).await?;
                let _ = url_tx.send(server.url());
                let server::instance::Served::Attached(holder) = server else {
                    return anyhow::Ok(server);
                };
                // When the console that serves quits, this one takes over, on the same
                // address: its URL (and whatever the admin typed) stays good.
                config.listen = holder.address().unwrap_or(config.listen);
                config.fallback_to_ephemeral_port = false;
                let stop = async {
                    let _ = quit_rx.await;
                };
                let every = server::instance::TAKE_OVER_EVERY;
                Ok(
                    match server::instance::take_over(config, every, stop).await {
                        Some(started) => server::instance::Served::Started(started),
                        None => server::instance::Served::Attached(holder),
                    },
                )
            }))
        }
    };
    let connect = async {
        url_rx
            .await
            .map_err(|_| anyhow::anyhow!("el servidor embebido no arrancó"))
    };
    let result = crate::tui::run(
        connect,
        crate::tui::Options {
            lang,
            look: crate::tui::look::Look::from_env(|name| std::env::var(name).ok()),
            mouse,
        },
    )
    .await;
    let _ = quit_tx.send(());
    if let Some(task) = embedded {
        match task.await.context("servidor embebido")? {
            Ok(server) => server.shutdown().await,
            // The console could not connect because the server did not start: say why.
            Err(error) => return Err(error),
        }
    }
    result
}
