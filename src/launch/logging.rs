//! Where the log goes: stderr for `serve`, a file in the data directory for the console.

use crate::config;
use crate::server;
use anyhow::Context as _;
use std::path::Path;

/// The default filter where the request lines are off: the server's request target
/// (`server::observe::REQUEST_TARGET`) at `off`.
fn without_request_lines() -> String {
    format!("info,{}=off", crate::server::observe::REQUEST_TARGET)
}

/// `serve`'s log on stderr. One line per request (target `consola::request`) is for log
/// collectors: on by default in JSON, off by default in text; `RUST_LOG` decides over both.
pub(super) fn log_to_stderr(format: config::LogFormat) {
    let default = match format {
        config::LogFormat::Text => without_request_lines(),
        config::LogFormat::Json => "info".to_string(),
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        config::LogFormat::Text => builder.init(),
        config::LogFormat::Json => builder.json().with_ansi(false).init(),
    }
}

/// Logs go to a file in the data directory while the console owns the screen.
pub(super) fn log_to_file(data_dir: &Path) -> anyhow::Result<()> {
    server::data_dir::ensure_private_dir(data_dir)?;
    let path = data_dir.join("consola.log");
    let file = crate::private_file::options()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("no se pudo abrir {}", path.display()))?;
    // No line per request of the console's own calls unless RUST_LOG asks for them.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(without_request_lines()));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .init();
    Ok(())
}

#[cfg(test)]
mod tests {
    /// The filter names the target the request lines are logged under (it once said
    /// `crate::request`, which matches nothing, and every request was logged in text).
    #[test]
    fn the_default_filter_silences_the_request_lines() {
        assert_eq!(super::without_request_lines(), "info,consola::request=off");
    }
}
