//! The floor for the token endpoint: a minimal axum handler that takes the same form POST
//! and returns a fixed JSON body of the same size as a real token response. Run by
//! `benches/run`; `--listen ADDR` serves until killed, `--body-size N` sets the body size.

use axum::Router;
use axum::extract::Form;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;
use std::collections::HashMap;
use std::sync::OnceLock;

static BODY: OnceLock<String> = OnceLock::new();

async fn token(Form(_form): Form<HashMap<String, String>>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        BODY.get().map(String::as_str).unwrap_or("{}"),
    )
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let Some(listen) = arg(&args, "--listen") else {
        // Run by `cargo bench` without arguments: nothing to measure on its own.
        println!("floor: run through benches/run (needs --listen ADDR)");
        return Ok(());
    };
    let size: usize = arg(&args, "--body-size")
        .and_then(|s| s.parse().ok())
        .unwrap_or(160);
    let filler = size.saturating_sub(75).max(1);
    let body = format!(
        r#"{{"access_token":"{}","token_type":"Bearer","expires_in":3600,"scope":"r"}}"#,
        "a".repeat(filler)
    );
    let _ = BODY.set(body);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let listener = tokio::net::TcpListener::bind(&listen).await?;
            println!("floor escuchando en http://{}", listener.local_addr()?);
            axum::serve(listener, Router::new().route("/token", post(token))).await
        })
}
