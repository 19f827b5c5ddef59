//! The `rakguard` binary: parses the command line, dispatches to a command, prints the error chain
//! and picks the exit code. Exit codes are documented in `docs/cli.md` and on [`exit::Code`].

mod cli;
mod commands;
mod exit;
mod input;
mod logging;

use std::process::ExitCode;

use clap::Parser;

// The emulator allocates a little for every request (JSON trees, header maps); mimalloc keeps
// that cheap and predictable under load where glibc's allocator showed up at ~15% of a profile
// (`bench/emulator.sh`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match commands::run(args) {
        Ok(code) => code.into(),
        Err(error) => {
            eprintln!("error: {error:#}");
            exit::Code::for_error(&error).into()
        }
    }
}
