//! `bgp-probe check`: is every LoadBalancer IP advertised, accepted and
//! reachable, in one command from a laptop.
//!
//! 1. Which daemons: `--url` / `BGP_PROBE_URL`, or the bgpd DaemonSet's
//!    pods found through Kubernetes ([`crate::api`]).
//! 2. `GET /api/v1/report` on each, at once; the answers are merged per
//!    pool, Service, node and peer, findings deduplicated with the pods
//!    that raised them ([`merge`]).
//! 3. Unless `--no-reach`: a TCP connect (and with `--http` an HTTP GET or a
//!    TLS handshake) to every expected LB IP on its Service's ports, from
//!    here ([`reach`]); a failure is a critical `unreachable-from-here`
//!    finding, shown beside the BGP view of the same IP.
//! 4. Output ([`render`]): tables and findings, or `--output json`;
//!    `--watch SECONDS` repeats until interrupted.
//!
//! Exit status: 0 when no finding reaches `--fail-on` (default warning);
//! 1 when one does, or when only some daemons answered (the check is
//! incomplete: what answered is shown, what did not is named, and the
//! status is 1 even with `--fail-on critical` or `never`); 2 when nothing
//! could be checked (bad arguments, no daemon to ask, none answered).

pub mod merge;
pub mod reach;
pub mod render;

use crate::api::{self, TargetArgs};
use crate::output::{FailOn, Format, Style, EXIT_CANNOT_CHECK, EXIT_FINDINGS, EXIT_OK};
use bgpd::verify::Report;
use clap::Args;
use merge::Merged;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

/// The long help of `check`.
pub const LONG_ABOUT: &str = "\
Ask one or every bgpd pod for its report and say, in one view, whether every \
LoadBalancer IP is advertised by the nodes, accepted by the router, and \
reachable from here.

Daemons: --url (repeatable) or BGP_PROBE_URL (comma-separated). Without \
either, the pods of the bgpd DaemonSet are found through the Kubernetes API \
(--kubeconfig, --context, --namespace, --selector) and asked on their host \
address and --api-port.

Merging: a route seen by any pod counts as advertised (accepted); a pool is \
missing only when every pod says so; session states are shown per pod; \
identical findings are shown once with the pods that raised them. A daemon \
that does not answer is named, with a daemon-unreachable warning, and the \
others are checked.

Output: tables on standard output, coloured only on a terminal (--no-color \
or NO_COLOR turn it off); --output json prints one document, one per line \
with --watch.

From here (unless --no-reach): a TCP connect to every LB IP on each TCP port \
of its Service, --concurrency at a time, each within --timeout. With --http, \
ports 80 and 8080 also get an HTTP GET of / (any status counts as an answer) \
and ports 443 and 8443 a TLS handshake (the certificate is not verified). A \
probe without an answer is a critical finding of kind unreachable-from-here, \
shown beside the BGP view of the same IP.

Exit status: 0 when no finding is at or above --fail-on; 1 when one is, or \
when only some daemons answered (which ones did not is said); 2 when nothing \
could be checked: bad arguments, no daemon to ask, or none answered.";

/// The examples closing the long help of `check`.
pub const EXAMPLES: &str = "\
Examples:
  # Every bgpd pod of the current kube context, and every LB IP from here:
  bgp-probe check
  # Two pods by address, warnings do not fail, JSON for a script:
  bgp-probe check --url 172.29.51.11:9179 --url 172.29.51.12:9179 \\
      --fail-on critical --output json
  # HTTP(S) answers too, refreshed every 10 seconds:
  BGP_PROBE_URL=http://172.29.51.11:9179 bgp-probe check --http --watch 10
  # The BGP view only:
  bgp-probe check --context home --no-reach";

/// Arguments of `bgp-probe check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub targets: TargetArgs,

    /// Do not probe LB IPs from here
    #[arg(long)]
    pub no_reach: bool,

    /// Also send an HTTP GET to ports 80 and 8080 and a TLS handshake to
    /// ports 443 and 8443
    #[arg(long, conflicts_with = "no_reach")]
    pub http: bool,

    /// Probes in flight at once
    #[arg(long, value_name = "N", default_value_t = 32,
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub output: Format,

    /// No colour, even on a terminal (NO_COLOR does the same)
    #[arg(long)]
    pub no_color: bool,

    /// Check again every SECONDS until interrupted (the exit status is the
    /// last check's)
    #[arg(long, value_name = "SECONDS", value_parser = api::parse_seconds)]
    pub watch: Option<Duration>,

    /// The least severity that makes the exit status 1
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = FailOn::Warning)]
    pub fail_on: FailOn,
}

/// The outcome of one check.
enum Outcome {
    /// Checked; the merged view.
    Checked(Box<Merged>),
    /// Nothing could be checked, and why.
    Cannot(String),
}

/// Runs `bgp-probe check`.
pub fn run(args: CheckArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bgp-probe: cannot start the runtime: {e}");
            return ExitCode::from(EXIT_CANNOT_CHECK);
        }
    };
    ExitCode::from(runtime.block_on(run_async(args)))
}

async fn run_async(args: CheckArgs) -> u8 {
    let style = Style::detect(args.no_color);
    let Some(every) = args.watch else {
        let outcome = check_once(&args).await;
        return show(&args, style, &outcome, false);
    };
    // Installed once, before the first round: a signal that arrives while a
    // round runs is kept until the wait after it.
    use tokio::signal::unix::{signal, SignalKind};
    let (mut interrupt, mut terminate) = match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(i), Ok(t)) => (i, t),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("bgp-probe: cannot watch for signals: {e}");
            return EXIT_CANNOT_CHECK;
        }
    };
    let clear = io::stdout().is_terminal() && args.output == Format::Table;
    loop {
        let outcome = check_once(&args).await;
        if clear {
            print!("\x1b[2J\x1b[H");
        }
        let code = show(&args, style, &outcome, true);
        if args.output == Format::Table {
            println!("\n(every {}s; Ctrl-C to stop)", every.as_secs_f64());
        }
        let _ = io::stdout().flush();
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = interrupt.recv() => return code,
            _ = terminate.recv() => return code,
        }
    }
}

/// One round: resolve, fetch, merge, probe.
async fn check_once(args: &CheckArgs) -> Outcome {
    let targets = match args.targets.resolve().await {
        Ok(t) => t,
        Err(e) => return Outcome::Cannot(e),
    };
    let answers = api::fetch_all::<Report>(&targets, "/api/v1/report", args.targets.timeout).await;
    let answers: Vec<_> = answers
        .into_iter()
        .map(|a| (a.target, a.result.map_err(|e| e.0)))
        .collect();
    let mut merged = merge::merge(answers);
    if merged.answered() == 0 {
        let why: Vec<String> = merged
            .sources
            .iter()
            .map(|s| {
                format!(
                    "{}: {}",
                    s.target.url.as_deref().unwrap_or(&s.target.name),
                    s.error.as_deref().unwrap_or("no answer")
                )
            })
            .collect();
        return Outcome::Cannot(format!(
            "no bgpd answered, nothing was checked:\n  {}",
            why.join("\n  ")
        ));
    }
    if !args.no_reach {
        let (http_ports, https_ports) = if args.http {
            (reach::HTTP_PORTS.to_vec(), reach::HTTPS_PORTS.to_vec())
        } else {
            (Vec::new(), Vec::new())
        };
        let opts = reach::Options {
            timeout: args.targets.timeout,
            concurrency: usize::from(args.concurrency),
            http_ports,
            https_ports,
        };
        let results = reach::probe_all(&merged.services, opts).await;
        merged
            .findings
            .extend(results.iter().filter_map(reach::ReachResult::finding));
        merged.reach = Some(results);
        merge::finish(&mut merged);
    }
    Outcome::Checked(Box::new(merged))
}

/// Prints one outcome; returns its exit status.
fn show(args: &CheckArgs, style: Style, outcome: &Outcome, watching: bool) -> u8 {
    match outcome {
        Outcome::Cannot(why) => {
            eprintln!("bgp-probe check: {why}");
            if args.output == Format::Json {
                let doc = serde_json::json!({ "verdict": null, "error": why });
                println!("{doc}");
            }
            EXIT_CANNOT_CHECK
        }
        Outcome::Checked(m) => {
            let text = match args.output {
                Format::Table => render::table(m, style),
                Format::Json => render::json(m, watching),
            };
            let mut stdout = io::stdout().lock();
            if let Err(e) = stdout
                .write_all(text.as_bytes())
                .and_then(|_| stdout.flush())
            {
                if e.kind() != io::ErrorKind::BrokenPipe {
                    eprintln!("bgp-probe: writing output: {e}");
                }
            }
            let missing: Vec<&str> = m
                .sources
                .iter()
                .filter(|s| !s.answered)
                .map(|s| s.target.name.as_str())
                .collect();
            if !missing.is_empty() {
                eprintln!(
                    "bgp-probe check: incomplete: {} of {} daemons did not answer ({})",
                    missing.len(),
                    m.sources.len(),
                    missing.join(", ")
                );
                return EXIT_FINDINGS;
            }
            if m.findings.iter().any(|f| args.fail_on.fails(f.severity)) {
                EXIT_FINDINGS
            } else {
                EXIT_OK
            }
        }
    }
}
