//! consola: a terminal console, an HTTP API and an OAuth2 server for the OAuth consumers of a
//! maintenance-management account. Layers, each a folder: `domain` → `store` → `service` →
//! `server`; `client` → `tui` and `cli`. `target` chooses the server a front end talks to;
//! `config` reads the settings and the configuration file; `launch` runs each command of the
//! binary on top of them all.

pub mod cli;
pub mod client;
pub mod config;
pub mod domain;
pub mod launch;
pub mod private_file;
pub mod server;
pub mod service;
pub mod ssh;
pub mod store;
pub mod target;
pub mod terminal;
pub mod tui;
