//! consola: a terminal console, an HTTP API and an OAuth2 server for the OAuth consumers of a
//! maintenance-management account. Layers, each a folder: `domain` → `store` → `service` →
//! `server`; `client` → `tui` and `cli`. `config` reads the configuration file for the binary.

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
pub mod tui;
