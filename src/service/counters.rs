//! The service's own metrics, recorded through the `metrics` facade: a no-op until the
//! server installs a recorder (`--metrics-listen`). Labels are fixed words, never anything
//! a caller sent.

use crate::domain::TokenFormat;
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

/// An access token issued at the token endpoint.
pub fn token_issued(grant_type: &str, format: TokenFormat) {
    if !recording() {
        return;
    }
    let grant_type = match grant_type {
        "client_credentials" => "client_credentials",
        "authorization_code" => "authorization_code",
        "refresh_token" => "refresh_token",
        _ => "other",
    };
    let format = match format {
        TokenFormat::Opaque => "opaque",
        TokenFormat::Jwt => "jwt",
    };
    metrics::counter!(TOKENS_ISSUED, "grant_type" => grant_type, "format" => format).increment(1);
}

/// A client authentication refused (wrong or missing credentials, or throttled).
pub fn client_auth_failed() {
    if !recording() {
        return;
    }
    metrics::counter!(CLIENT_AUTH_FAILURES).increment(1);
}
