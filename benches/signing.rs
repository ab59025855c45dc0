//! The raw signing rate: signatures per second of one algorithm (`--alg EdDSA|ES256|RS256`,
//! EdDSA by default) with the crate the token endpoint uses, over the signing input of a
//! real JWT access token. Run by `benches/run.py` pinned to one core; prints
//! `signatures/s: N`.

#[path = "support/jws.rs"]
mod jws;

use std::hint::black_box;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let alg = jws::alg_of(&args);
    let Some(key) = jws::Signer::new(&alg) else {
        eprintln!("signing: unknown algorithm or no key: {alg}");
        std::process::exit(2);
    };
    let input = jws::signing_input(&alg);
    // Warm up, then count for a fixed time.
    for _ in 0..200 {
        black_box(key.sign(black_box(input.as_bytes())));
    }
    let window = Duration::from_secs(3);
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < window {
        for _ in 0..20 {
            black_box(key.sign(black_box(input.as_bytes())));
        }
        count += 20;
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    println!("signatures/s: {rate:.0}");
}
