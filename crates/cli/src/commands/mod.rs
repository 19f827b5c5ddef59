//! The commands. Each returns the exit code of a completed run, or an error (exit code 2 unless
//! the error says otherwise; see `exit.rs`).

mod catalog;
mod connect;
mod demo;
mod diff;
mod emulator;
mod explain;
mod guide;
mod key;
mod manifest;
mod suggest;
mod verify;

use crate::cli::{Cli, Command};
use crate::exit::Code;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Code> {
    match cli.command {
        Command::Catalog(args) => catalog::run(args),
        Command::Key { command } => key::run(command),
        Command::Manifest { command } => manifest::run(command),
        Command::Guide(args) => guide::run(args),
        Command::Emulator(args) => emulator::run(args),
        Command::Verify(args) => verify::verify(args),
        Command::Scan(args) => verify::scan(args),
        Command::Explain(args) => explain::run(args),
        Command::Suggest(args) => suggest::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Serve(args) => connect::serve(args),
        Command::Demo(args) => demo::run(args),
        Command::Tokens { command } => connect::tokens(command),
        Command::Keys { command } => connect::keys(command),
    }
}

/// Prints a value as pretty, stable JSON (keys in declaration order, newline at the end).
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
