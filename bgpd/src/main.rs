//! `bgpd`: the verifier daemon's entry point.
//!
//! With no arguments it runs the embedded default configuration (listening
//! on loopback only) and logs where to look; `--config FILE` runs a real
//! configuration; `--check-config FILE` validates one and exits. SIGTERM
//! closes every session with Cease/Administrative Shutdown; SIGUSR1 asks
//! every peer to re-send its routes (ROUTE-REFRESH); SIGHUP re-reads the
//! inventory files (`[inventory] source = "files"`).

use bgpd::config::Config;
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// Passive BGP speaker and route verifier for Cilium LoadBalancer IPs.
#[derive(Parser)]
#[command(version, about, long_about = None, after_help = "\
Examples:
  bgpd                              run the embedded default (loopback only)
  bgpd --config /etc/bgpd/bgpd.toml
  bgpd --check-config deploy/bgpd.toml
  bgpd --print-default-config > bgpd.toml")]
struct Args {
    /// Configuration file (TOML); see docs/configuration.md.
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Validate a configuration file, print a summary and exit.
    #[arg(long, value_name = "FILE", conflicts_with = "config")]
    check_config: Option<PathBuf>,
    /// Print the embedded default configuration and exit.
    #[arg(long)]
    print_default_config: bool,
    /// Log filter (RUST_LOG syntax), e.g. `info,bgpd::session=debug`.
    #[arg(
        long,
        env = "BGPD_LOG",
        default_value = "info,kube_client::client::builder=off"
    )]
    log: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.print_default_config {
        print!("{}", Config::embedded_default_text());
        return ExitCode::SUCCESS;
    }
    if let Some(path) = &args.check_config {
        return match Config::from_file(path) {
            Ok(c) => {
                println!(
                    "{}: OK: AS {}, router id {}, {} listener(s), {} peer(s)",
                    path.display(),
                    c.asn,
                    c.router_id,
                    c.listen.len(),
                    c.peers.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        };
    }
    // Colour only on a terminal: pod logs and journald get plain text.
    tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&args.log)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let config = match &args.config {
        Some(path) => match Config::from_file(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        },
        None => {
            tracing::info!(
                "no --config given: running the embedded default (see `bgpd --print-default-config`)"
            );
            Config::embedded_default()
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bgpd: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(config))
}

async fn run(config: Config) -> ExitCode {
    let http = config.http.listen;
    let daemon = match bgpd::daemon::Daemon::new(config) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("bgpd: {e}");
            return ExitCode::FAILURE;
        }
    };
    let verifier = match bgpd::verify::sources::start(daemon.clone()).await {
        Ok(v) => v,
        Err(e) => {
            eprintln!("bgpd: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = bgpd::daemon::start(daemon.clone()).await {
        eprintln!("bgpd: {e}");
        return ExitCode::FAILURE;
    }
    tracing::info!(
        "bgpd {} running; report at http://{http}/api/v1/report, metrics at http://{http}/metrics, peers at http://{http}/api/v1/peers",
        env!("CARGO_PKG_VERSION")
    );
    let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bgpd: cannot watch SIGHUP: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bgpd: cannot watch SIGTERM: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut usr1 =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1()) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("bgpd: cannot watch SIGUSR1: {e}");
                return ExitCode::FAILURE;
            }
        };
    loop {
        tokio::select! {
            _ = term.recv() => {
                tracing::info!("SIGTERM: closing sessions with Cease/Administrative Shutdown");
                break;
            }
            _ = tokio::signal::ctrl_c() => {
                tracing::info!("interrupt: closing sessions with Cease/Administrative Shutdown");
                break;
            }
            _ = hup.recv() => {
                tracing::info!("SIGHUP: reading the inventory again");
                verifier.inventory.reload();
            }
            _ = usr1.recv() => {
                tracing::info!("SIGUSR1: requesting a route refresh from every peer");
                bgpd::daemon::request_refresh(&daemon);
            }
        }
    }
    bgpd::daemon::stop(&daemon).await;
    ExitCode::SUCCESS
}
