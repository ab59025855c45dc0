//! The JWTs clients sign, for `benches/run.py keys`: `private_key_jwt` client assertions
//! (RFC 7523 §3) or DPoP proofs (RFC 9449 §4.2), each with its own `jti`, since the server
//! takes each only once. Signed with the benchmarks' Ed25519 key (`support/jws.rs`), the key
//! the floor verifies with.
//!
//! - `--jwk`: prints the public JWK of the key;
//! - `--assertions N --client-id ID --aud URL`: N assertions, one a line;
//! - `--proofs N --htu URL`: N proofs for POST to that URL, one a line.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer as _, SigningKey};
use std::io::Write;

#[path = "support/jws.rs"]
#[allow(dead_code)]
mod jws;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let key = SigningKey::from_bytes(&jws::BENCH_SEED);
    let x = b64(key.verifying_key().as_bytes());
    let jwk = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{x}"}}"#);
    if args.iter().any(|a| a == "--jwk") {
        println!("{jwk}");
        return Ok(());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    // A prefix of this run, so that no two runs make the same jti.
    let run = b64(&rand::random::<[u8; 12]>());
    let (count, header, claims): (usize, String, Box<dyn Fn(usize) -> String>) = if let Some(n) =
        arg(&args, "--assertions")
    {
        let id = arg(&args, "--client-id").unwrap_or_default();
        let aud = arg(&args, "--aud").unwrap_or_default();
        let header = r#"{"alg":"EdDSA","typ":"JWT"}"#.to_string();
        let claims = move |i: usize| {
            format!(
                r#"{{"iss":"{id}","sub":"{id}","aud":"{aud}","iat":{now},"exp":{},"jti":"{run}-{i}"}}"#,
                now + 3000
            )
        };
        (n.parse().unwrap_or(0), header, Box::new(claims))
    } else if let Some(n) = arg(&args, "--proofs") {
        let htu = arg(&args, "--htu").unwrap_or_default();
        let header = format!(r#"{{"typ":"dpop+jwt","alg":"EdDSA","jwk":{jwk}}}"#);
        let claims = move |i: usize| {
            format!(r#"{{"jti":"{run}-{i}","htm":"POST","htu":"{htu}","iat":{now}}}"#)
        };
        (n.parse().unwrap_or(0), header, Box::new(claims))
    } else {
        println!("client_jwts: run through benches/run.py (--jwk, --assertions N, --proofs N)");
        return Ok(());
    };
    let header = b64(header.as_bytes());
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for i in 0..count {
        let input = format!("{header}.{}", b64(claims(i).as_bytes()));
        let signature = key.sign(input.as_bytes());
        writeln!(out, "{input}.{}", b64(&signature.to_bytes()))?;
    }
    out.flush()
}
