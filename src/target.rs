//! Which server a front end talks to: the one `--server URL` names, or the embedded server
//! over the data directory (the one already serving it, attached to, or one started here).
//! The console, `setup` and the scriptable commands all choose here, and only here.

use crate::server::ServerConfig;
use crate::server::instance::{self, Served};
use std::net::SocketAddr;
use std::path::PathBuf;

/// The server to reach.
pub enum Target {
    /// A `consola serve` elsewhere, by its URL.
    Remote(String),
    /// The embedded server over a data directory, as it would be started here.
    Embedded(Box<ServerConfig>),
}

impl Target {
    /// `server` when one is given, else the embedded server over `data_dir`, listening on
    /// 127.0.0.1:`port` (0: any free port) when this process starts it.
    pub fn choose(server: Option<String>, data_dir: PathBuf, port: u16) -> Target {
        match server {
            Some(url) => Target::Remote(url),
            None => Target::Embedded(Box::new(ServerConfig::new(
                data_dir,
                SocketAddr::from(([127, 0, 0, 1], port)),
            ))),
        }
    }

    /// When the embedded server's port is taken, it listens on an ephemeral one instead.
    pub fn falling_back_to_an_ephemeral_port(mut self) -> Target {
        if let Target::Embedded(config) = &mut self {
            config.fallback_to_ephemeral_port = true;
        }
        self
    }

    /// Reaches the server: a remote one as it is; the embedded one started, or attached to
    /// when another process already serves the data directory.
    pub async fn reach(self) -> anyhow::Result<Reached> {
        Ok(match self {
            Target::Remote(url) => Reached::Remote(url),
            Target::Embedded(config) => {
                Reached::Embedded(instance::start_or_attach((*config).clone()).await?, config)
            }
        })
    }
}

/// A server reached, until [`Reached::finish`].
// One per command, held while it runs: the size of the embedded variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Reached {
    Remote(String),
    /// The embedded server, and the configuration it was (or would have been) started with.
    Embedded(Served, Box<ServerConfig>),
}

impl Reached {
    pub fn url(&self) -> String {
        match self {
            Reached::Remote(url) => url.clone(),
            Reached::Embedded(served, _) => served.url(),
        }
    }

    /// True when another process runs the embedded server this one talks to.
    pub fn attached(&self) -> bool {
        matches!(self, Reached::Embedded(Served::Attached(_), _))
    }

    /// Stops the embedded server this process started; any other keeps running.
    pub async fn finish(self) {
        if let Reached::Embedded(served, _) = self {
            served.shutdown().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_given_server_is_reached_as_it_is() {
        let target = Target::choose(Some("https://consola.example".into()), "datos".into(), 9)
            .falling_back_to_an_ephemeral_port();
        let reached = target.reach().await.unwrap();
        assert_eq!(reached.url(), "https://consola.example");
        assert!(!reached.attached());
        reached.finish().await;
    }

    #[test]
    fn without_a_server_the_embedded_one_listens_on_loopback() {
        let Target::Embedded(config) = Target::choose(None, "datos".into(), 8787) else {
            panic!("no --server: the embedded server");
        };
        assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 8787)));
        assert_eq!(config.data_dir, PathBuf::from("datos"));
        assert!(!config.fallback_to_ephemeral_port);
        let Target::Embedded(config) =
            Target::choose(None, "datos".into(), 8787).falling_back_to_an_ephemeral_port()
        else {
            panic!("no --server: the embedded server");
        };
        assert!(config.fallback_to_ephemeral_port);
    }
}
