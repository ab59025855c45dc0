//! `consola`: the console (default), the server alone (`serve`), scripted setup (`setup`)
//! and the scriptable commands (`consola <noun> <verb>`). Parses the command line and hands
//! it to `consola::launch`, which does the rest.

use clap::CommandFactory;

/// mimalloc: allocation and freeing were about a tenth of the token endpoint's time under
/// glibc's allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    consola::launch::main(consola::launch::CommandLine::command().get_matches())
}
