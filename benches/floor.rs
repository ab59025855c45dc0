//! The floors for the token endpoint, run by `benches/run.py`:
//! - a minimal axum handler that takes the same form POST and returns a fixed JSON body of
//!   the same size as a real token response (`--body-size N`);
//! - with `--sign`, the same handler that also signs a JWT's signing input with the
//!   algorithm of `--alg` (EdDSA, ES256 or RS256; the crates the server uses) and returns
//!   it: the most a JWT token endpoint on axum can do when HTTP and the signature are all
//!   it pays for.
//!
//! - with `--verify assertion` or `--verify dpop`, the same handler that also checks one
//!   Ed25519 signature, as a `private_key_jwt` or DPoP token request costs at least: of the
//!   form's `client_assertion` with the key registered for it (read once, before serving),
//!   or of the `DPoP` header's proof with the public key the proof carries, as a proof can
//!   only be checked (both made by `benches/client_jwts.rs` with the same key), and refuses
//!   a bad one.
//!
//! `--listen ADDR` serves until killed.

use axum::Router;
use axum::extract::Form;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::HashMap;
use std::sync::OnceLock;

#[path = "support/jws.rs"]
mod jws;

/// The server's allocator, so the floor differs from it only in the handler's work.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

static BODY: OnceLock<String> = OnceLock::new();
/// The key, made once before serving, and the signing input of its algorithm.
static SIGNER: OnceLock<(jws::Signer, String)> = OnceLock::new();

const HEADERS: [(header::HeaderName, &str); 3] = [
    (header::CONTENT_TYPE, "application/json"),
    (header::CACHE_CONTROL, "no-store"),
    (header::PRAGMA, "no-cache"),
];

async fn token(Form(_form): Form<HashMap<String, String>>) -> impl IntoResponse {
    (HEADERS, BODY.get().map(String::as_str).unwrap_or("{}"))
}

/// The Ed25519 key registered for the assertions: the one `client_jwts` signs with.
static VERIFIER: OnceLock<ed25519_dalek::VerifyingKey> = OnceLock::new();

/// Whether the JWS `jws` is signed by `key`.
fn verifies(key: Option<&ed25519_dalek::VerifyingKey>, jws: &str) -> bool {
    let (Some(key), Some((input, signature))) = (key, jws.rsplit_once('.')) else {
        return false;
    };
    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
        return false;
    };
    let Ok(signature) = ed25519_dalek::Signature::from_slice(&signature) else {
        return false;
    };
    key.verify_strict(input.as_bytes(), &signature).is_ok()
}

async fn verified_assertion(Form(form): Form<HashMap<String, String>>) -> axum::response::Response {
    let ok = form
        .get("client_assertion")
        .is_some_and(|a| verifies(VERIFIER.get(), a));
    answer(ok)
}

async fn verified_proof(
    headers: axum::http::HeaderMap,
    Form(_form): Form<HashMap<String, String>>,
) -> axum::response::Response {
    let ok = headers
        .get("dpop")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|proof| verifies(carried_key(proof).as_ref(), proof));
    answer(ok)
}

/// The Ed25519 key a DPoP proof carries in its header's `jwk`.
fn carried_key(proof: &str) -> Option<ed25519_dalek::VerifyingKey> {
    let header = URL_SAFE_NO_PAD.decode(proof.split('.').next()?).ok()?;
    let header: serde_json::Value = serde_json::from_slice(&header).ok()?;
    let x = URL_SAFE_NO_PAD.decode(header["jwk"]["x"].as_str()?).ok()?;
    ed25519_dalek::VerifyingKey::from_bytes(&x.try_into().ok()?).ok()
}

fn answer(ok: bool) -> axum::response::Response {
    if ok {
        (HEADERS, BODY.get().map(String::as_str).unwrap_or("{}")).into_response()
    } else {
        (axum::http::StatusCode::UNAUTHORIZED, "{}").into_response()
    }
}

async fn signed_token(Form(_form): Form<HashMap<String, String>>) -> impl IntoResponse {
    let Some((key, input)) = SIGNER.get() else {
        return (HEADERS, String::from("{}"));
    };
    let signature = key.sign(input.as_bytes());
    let body = format!(
        r#"{{"access_token":"{input}.{}","token_type":"Bearer","expires_in":3600,"scope":"reports:view reports:report"}}"#,
        URL_SAFE_NO_PAD.encode(signature)
    );
    (HEADERS, body)
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
        println!("floor: run through benches/run.py (needs --listen ADDR)");
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
    let verify = arg(&args, "--verify");
    if verify.is_some() {
        let _ =
            VERIFIER.set(ed25519_dalek::SigningKey::from_bytes(&jws::BENCH_SEED).verifying_key());
    }
    let handler = if let Some(what) = verify {
        match what.as_str() {
            "assertion" => post(verified_assertion),
            "dpop" => post(verified_proof),
            other => {
                eprintln!("floor: --verify assertion|dpop, not {other}");
                std::process::exit(2);
            }
        }
    } else if args.iter().any(|a| a == "--sign") {
        let alg = jws::alg_of(&args);
        let Some(key) = jws::Signer::new(&alg) else {
            eprintln!("floor: unknown algorithm or no key: {alg}");
            std::process::exit(2);
        };
        let _ = SIGNER.set((key, jws::signing_input(&alg)));
        post(signed_token)
    } else {
        post(token)
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let listener = tokio::net::TcpListener::bind(&listen).await?;
            println!("floor escuchando en http://{}", listener.local_addr()?);
            axum::serve(listener, Router::new().route("/token", handler)).await
        })
}
