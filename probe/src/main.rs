//! `bgp-probe`: the operator's command-line tool for the BGP route verifier.
//!
//! Each subcommand lives in a module of its own: `decode` (MRT files or one
//! BGP message to text) and `replay` (send MRT routes to a BGP speaker).

mod decode;
mod replay;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// The operator's tool for the BGP route verifier.
#[derive(Debug, Parser)]
#[command(name = "bgp-probe", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode MRT files (as `bgpdump -m` does, or as JSON) or one BGP message
    #[command(long_about = decode::LONG_ABOUT, after_long_help = decode::EXAMPLES)]
    Decode(decode::DecodeArgs),
    /// Send the routes of MRT files to a BGP speaker over an active session
    #[command(long_about = replay::LONG_ABOUT, after_long_help = replay::EXAMPLES)]
    Replay(replay::ReplayArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Decode(args) => decode::run(args),
        Command::Replay(args) => replay::run(args),
    }
}
