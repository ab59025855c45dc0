//! `consola setup`: the account and its Súper Administrador, without the console.

use super::loopback;
use crate::client::Client;
use crate::domain::SetupRequest;
use crate::server::{self, ServerConfig};
use anyhow::bail;
use std::path::PathBuf;

pub(super) async fn setup(
    server_url: Option<String>,
    data_dir: PathBuf,
    request: SetupRequest,
    setup_token: Option<String>,
) -> anyhow::Result<()> {
    let embedded = match &server_url {
        Some(_) => None,
        None => {
            Some(server::instance::start_or_attach(ServerConfig::new(data_dir, loopback(0))).await?)
        }
    };
    let url = server_url.unwrap_or_else(|| embedded.as_ref().map(|s| s.url()).unwrap_or_default());
    let client = Client::new(&url)?;
    let result = client.setup(&request, setup_token.as_deref()).await;
    if let Some(server) = embedded {
        server.shutdown().await;
    }
    match result {
        Ok(user) => {
            println!(
                "Cuenta «{}» creada; Súper Administrador: {}",
                request.account_name, user.username
            );
            Ok(())
        }
        Err(err) => {
            let mut message = err.to_string();
            for (field, problem) in err.field_errors().0 {
                message.push_str(&format!("\n  {field}: {problem}"));
            }
            bail!(message)
        }
    }
}
