//! The raw signing rate: Ed25519 signatures per second with the same crate the token
//! endpoint uses, over an input the size of a real JWT's header and claims. Run by
//! `benches/run.py` pinned to one core; prints `signatures/s: N`.

use ed25519_dalek::{Signer, SigningKey};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn main() {
    let key = SigningKey::from_bytes(&[7u8; 32]);
    // Header and claims of a JWT access token, base64url, as signed by the server.
    let input = include_str!("jwt_signing_input.txt").trim_end();
    // Warm up, then count for a fixed time.
    for _ in 0..1_000 {
        black_box(key.sign(black_box(input.as_bytes())));
    }
    let window = Duration::from_secs(3);
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < window {
        for _ in 0..100 {
            black_box(key.sign(black_box(input.as_bytes())));
        }
        count += 100;
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    println!("signatures/s: {rate:.0}");
}
