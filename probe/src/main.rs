//! `bgp-probe`: the operator's command-line tool for the BGP route verifier.
//!
//! Each subcommand lives in a module of its own: `decode` (MRT files or one
//! BGP message to text), `replay` (send MRT routes to a BGP speaker),
//! `check` (is every LoadBalancer IP advertised, accepted and reachable,
//! from bgpd's reports and from here), `lint` (what a GitOps tree would
//! advertise, before it is applied), `peers` and `routes` (bgpd's sessions
//! and Adj-RIB-In), `completions` and `man` (generated from these
//! definitions). [`api`] and [`output`] hold what the API subcommands
//! share.

mod api;
mod check;
mod completions;
mod decode;
mod lint;
mod man;
mod output;
mod peers;
mod replay;
mod routes;

use clap::{CommandFactory, Parser, Subcommand};
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
    /// Check that every LoadBalancer IP is advertised, accepted and reachable
    #[command(long_about = check::LONG_ABOUT, after_long_help = check::EXAMPLES)]
    Check(check::CheckArgs),
    /// Predict from manifests which pools and Services will not be
    /// advertised or get no IP, and why
    #[command(long_about = lint::LONG_ABOUT, after_long_help = lint::EXAMPLES)]
    Lint(lint::LintArgs),
    /// List bgpd's BGP sessions
    #[command(long_about = peers::LONG_ABOUT, after_long_help = peers::EXAMPLES)]
    Peers(peers::PeersArgs),
    /// List the paths bgpd holds from its peers
    #[command(long_about = routes::LONG_ABOUT, after_long_help = routes::EXAMPLES)]
    Routes(routes::RoutesArgs),
    /// Print a shell completion script
    #[command(long_about = completions::LONG_ABOUT, after_long_help = completions::EXAMPLES)]
    Completions(completions::CompletionsArgs),
    /// Print the manual pages (roff)
    #[command(long_about = man::LONG_ABOUT, after_long_help = man::EXAMPLES)]
    Man(man::ManArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Decode(args) => decode::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Check(args) => check::run(args),
        Command::Lint(args) => lint::run(args),
        Command::Peers(args) => peers::run(args),
        Command::Routes(args) => routes::run(args),
        Command::Completions(args) => completions::run(args, Cli::command()),
        Command::Man(args) => man::run(args, Cli::command()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}
