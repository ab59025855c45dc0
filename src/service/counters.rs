//! The service's own metrics, recorded through the `metrics` facade: a no-op until the
//! server installs a recorder (`--metrics-listen`). Labels are fixed words, never anything
//! a caller sent.

use crate::domain::TokenFormat;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a recorder is installed: until then nothing is built per call, not even the
/// labels (the token endpoint's hot path pays one relaxed load).
static RECORDING: AtomicBool = AtomicBool::new(false);

/// Called by the server when it installs the process's recorder.
pub fn start_recording() {
    RECORDING.store(true, Ordering::Relaxed);
}

fn recording() -> bool {
    RECORDING.load(Ordering::Relaxed)
}

pub const TOKENS_ISSUED: &str = "consola_tokens_issued_total";
pub const CLIENT_AUTH_FAILURES: &str = "consola_client_auth_failures_total";

pub fn describe() {
    metrics::describe_counter!(
        TOKENS_ISSUED,
        "Access tokens issued, by grant type and format"
    );
    metrics::describe_counter!(
        CLIENT_AUTH_FAILURES,
        "Failed or throttled OAuth client authentications"
    );
}

/// The grant types and formats that label issued tokens, in the order of `ISSUED`.
const GRANT_TYPES: [&str; 4] = [
    "client_credentials",
    "authorization_code",
    "refresh_token",
    "other",
];
const FORMATS: [&str; 2] = ["opaque", "jwt"];

/// The counters of issued tokens, registered once (the token endpoint's hot path then
/// increments an atomic instead of looking its key up in the recorder's registry).
static ISSUED: OnceLock<Vec<metrics::Counter>> = OnceLock::new();
static AUTH_FAILURES: OnceLock<metrics::Counter> = OnceLock::new();

/// An access token issued at the token endpoint.
pub fn token_issued(grant_type: &str, format: TokenFormat) {
    if !recording() {
        return;
    }
    let grant = GRANT_TYPES[..3]
        .iter()
        .position(|g| *g == grant_type)
        .unwrap_or(3);
    let format = match format {
        TokenFormat::Opaque => 0,
        TokenFormat::Jwt => 1,
    };
    let counters = ISSUED.get_or_init(|| {
        GRANT_TYPES
            .iter()
            .flat_map(|grant_type| {
                FORMATS.iter().map(move |format| {
                    metrics::counter!(TOKENS_ISSUED, "grant_type" => *grant_type, "format" => *format)
                })
            })
            .collect()
    });
    if let Some(counter) = counters.get(grant * FORMATS.len() + format) {
        counter.increment(1);
    }
}

/// A client authentication refused (wrong or missing credentials, or throttled).
pub fn client_auth_failed() {
    if !recording() {
        return;
    }
    AUTH_FAILURES
        .get_or_init(|| metrics::counter!(CLIENT_AUTH_FAILURES))
        .increment(1);
}
