//! `consola signing-keys …` (Seguridad) and `consola api-key …` (the legacy key).

use super::CliResult;
use super::output::{Cell, Printer, Tone};
use crate::client::Client;
use crate::domain::oauth::SigningKeyInfo;
use clap::Subcommand;

#[derive(Debug, Clone, Subcommand)]
pub enum SigningVerb {
    /// List the JWT signing keys kept, current first.
    List,
    /// Make a new current key; the previous ones still verify the tokens they signed.
    Rotate,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ApiKeyVerb {
    /// Show the legacy API key (not its secret).
    Show,
    /// Show the key and its secret (Súper Administrador only).
    Reveal,
    /// A new key and secret; the old ones stop working (Súper Administrador only).
    Regenerate,
}

const SIGNING_HEADERS: [&str; 4] = ["Clave (kid)", "Algoritmo", "Creada", "Estado"];

fn signing_row(k: &SigningKeyInfo) -> Vec<Cell> {
    vec![
        Cell::text(&k.kid),
        Cell::text(k.alg.as_str()),
        Cell::text(&k.created_at.format("%Y-%m-%d %H:%M").to_string()),
        if k.current {
            Cell::toned("Vigente", Tone::Good)
        } else {
            Cell::toned("Anterior", Tone::Dim)
        },
    ]
}

pub async fn signing(client: Client, out: Printer, verb: SigningVerb) -> CliResult {
    let keys = match verb {
        SigningVerb::List => client.signing_keys().await?,
        SigningVerb::Rotate => client.rotate_signing_key().await?,
    };
    out.list(
        &keys,
        |k| crate::terminal::clean(&k.kid).into_owned(),
        &SIGNING_HEADERS,
        signing_row,
    )
}

pub async fn api_key(client: Client, out: Printer, verb: ApiKeyVerb) -> CliResult {
    match verb {
        ApiKeyVerb::Show => {
            let key = client.api_key().await?;
            out.one(
                &key,
                &key.key,
                vec![
                    ("API Key", Cell::text(&key.key)),
                    ("Creada", Cell::text(&key.created_at.to_rfc3339())),
                    (
                        "Aviso",
                        Cell::text("Método de autenticación deprecado, te invitamos a usar OAuth2"),
                    ),
                ],
            )
        }
        ApiKeyVerb::Reveal | ApiKeyVerb::Regenerate => {
            let regenerate = matches!(verb, ApiKeyVerb::Regenerate);
            let secret = if regenerate {
                client.regenerate_api_key().await?
            } else {
                client.api_key_secret().await?
            };
            out.one(
                &secret,
                &secret.key,
                vec![
                    ("API Key", Cell::text(&secret.key)),
                    ("API Secret", Cell::text(secret.secret.expose())),
                    ("Creada", Cell::text(&secret.created_at.to_rfc3339())),
                ],
            )
        }
    }
}
