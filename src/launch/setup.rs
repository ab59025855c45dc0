//! `consola setup`: the account and its Súper Administrador, without the console.

use crate::client::Client;
use crate::domain::SetupRequest;
use crate::target::Target;
use anyhow::bail;
use std::path::PathBuf;

pub(super) async fn setup(
    server_url: Option<String>,
    data_dir: PathBuf,
    request: SetupRequest,
    setup_token: Option<String>,
) -> anyhow::Result<()> {
    let server = Target::choose(server_url, data_dir, 0).reach().await?;
    let client = Client::new(&server.url())?;
    let result = client.setup(&request, setup_token.as_deref()).await;
    server.finish().await;
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
