//! The console (no subcommand): the terminal screens, beside the embedded server they
//! start, attach to, or take over when the console that served quits.

use super::logging::log_to_file;
use crate::server::instance::{self, Served};
use crate::target::{Reached, Target};
use crate::terminal::Lang;
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
    let target =
        Target::choose(server_url, data_dir.clone(), port).falling_back_to_an_ephemeral_port();
    let server = tokio::spawn(async move {
        // One data directory, one server: a second console attaches to the first's.
        let reached = target.reach().await?;
        let _ = url_tx.send(reached.url());
        let Reached::Embedded(Served::Attached(holder), mut config) = reached else {
            return anyhow::Ok(reached);
        };
        // When the console that serves quits, this one takes over, on the same address:
        // its URL (and whatever the admin typed) stays good.
        config.listen = holder.address().unwrap_or(config.listen);
        config.fallback_to_ephemeral_port = false;
        let stop = async {
            let _ = quit_rx.await;
        };
        let every = instance::TAKE_OVER_EVERY;
        Ok(
            match instance::take_over((*config).clone(), every, stop).await {
                Some(started) => Reached::Embedded(Served::Started(started), config),
                None => Reached::Embedded(Served::Attached(holder), config),
            },
        )
    });
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
    match server.await.context("servidor embebido")? {
        Ok(reached) => reached.finish().await,
        // The console could not connect because the server did not start: say why.
        Err(error) => return Err(error),
    }
    result
}
