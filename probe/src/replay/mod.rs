//! `bgp-probe replay`: opens an active BGP session to any speaker and sends
//! the routes of MRT files as UPDATEs, as fast as the socket takes them,
//! then End-of-RIB. It is the sender of the ingest benchmark
//! (`benches/ingest/`) and of lab tests.
//!
//! The work is split in two phases, so that reading and rewriting the
//! files never competes with the session for time:
//!
//! 1. [`plan`] reads every file before connecting: it picks one peer's view
//!    of a `TABLE_DUMP_V2`/`TABLE_DUMP` RIB or one peer's UPDATEs of a
//!    `BGP4MP` file, rewrites the attributes ([`rewrite`]) and, for RIBs,
//!    groups the prefixes that share identical attributes.
//! 2. [`session`] connects, completes the OPEN exchange, and streams: an
//!    encoder thread ([`encode`]) packs the plan into UPDATEs of at most the
//!    negotiated message size, in 256 KiB chunks of whole messages, which
//!    the session writes with one `write` per chunk while a separate task
//!    sends KEEPALIVEs and another reads what the peer sends. End-of-RIB for
//!    every family closes the stream; then the session is closed with
//!    Cease/Administrative Shutdown, kept open for `--keep-open` seconds, or
//!    kept until SIGINT/SIGTERM (`--wait`).
//!
//! The report goes to standard output as `key  value` lines (plan, session,
//! counts), warnings and errors to standard error. Exit status: 0 on
//! success, 1 when the input is malformed or the session fails after it was
//! established, 2 for usage errors, unreadable files and sessions that
//! could not be established.

mod encode;
mod plan;
mod rewrite;
mod session;
#[cfg(test)]
mod tests;

use bgp_proto::Family;
use clap::Args;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use plan::{Plan, Selector};
use rewrite::Rewrite;

/// The long help of `replay`.
pub const LONG_ABOUT: &str = "\
Open an active BGP session to any speaker and send the routes of MRT files \
as UPDATEs, as fast as the socket takes them, then End-of-RIB for every \
family.

Input: TABLE_DUMP_V2 (or TABLE_DUMP) RIB dumps and BGP4MP updates files, \
plain, gzip or bzip2, read completely before connecting.
  RIB: one peer's view is sent (--peer-index or --peer-ip; default: the \
peer with the most RIB entries in the file, lowest index on a tie). \
Prefixes whose rewritten attributes are identical are packed into the same \
UPDATEs, up to the message size limit; IPv6 routes go in MP_REACH_NLRI.
  BGP4MP: one peer's UPDATEs are sent in order, withdrawals included \
(--peer-ip; default: the peer with the most UPDATEs), one UPDATE per \
recorded UPDATE unless the rewritten one no longer fits. State changes \
and the collector's own messages are ignored.

Rewriting (the same for both):
  AS_PATH: with --origin-as N, the origin AS (the last AS of the path) \
becomes N; a path ending in an AS_SET ends in N instead, an empty path \
becomes N. Then --prepend-as is prepended (default: --local-as on an eBGP \
session, nothing on iBGP; --no-prepend sends the path as it is). On eBGP, \
confederation segments are removed first.
  Next hop: --next-hop for IPv4 routes and --next-hop6 for IPv6 routes. \
When not given, eBGP uses the session's local address (an IPv4 session \
sends IPv6 routes with the IPv4-mapped address ::ffff:a.b.c.d) and iBGP \
keeps the recorded next hop.
  AS 0 (RFC 7607 s2: never propagated): a RIB route whose path holds it \
is left out, and a recorded announcement becomes a withdrawal, as \
receivers treat it; an AGGREGATOR with AS 0 is dropped.
  eBGP drops LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST (MED is kept); \
iBGP adds LOCAL_PREF 100 where the route has none. Unrecognised optional \
non-transitive attributes are dropped and transitive ones marked Partial \
(RFC 4271 s5). AS4_PATH and AS4_AGGREGATOR are merged into AS_PATH and \
AGGREGATOR, and sent again only to a peer without 4-octet AS support.

Session: OPEN with Multiprotocol IPv4 and IPv6 unicast, Route Refresh, \
4-octet AS and Extended Message (messages up to 65535 octets when the peer \
offers it too; --no-extended-message keeps 4096). The peer's AS must be \
--remote-as. KEEPALIVEs go out every third of the negotiated hold time \
while streaming; a ROUTE-REFRESH from the peer is answered by sending the \
family again. A NOTIFICATION from the peer is printed with its code and \
subcode names.

Report (standard output): the plan per file and the table the receiver \
should end up with (`expected`), the negotiated session, \
`established  unix SECONDS`, then UPDATEs sent, prefixes, octets, seconds \
and prefixes per second, timed from Established to the last End-of-RIB \
handed to the socket.

Exit status: 0 on success; 1 when an input file is malformed (the file and \
the offset of the record are named; nothing is sent) or the session fails \
after it was established; 2 for usage errors, unreadable files and \
sessions that cannot be established.";

/// The examples closing the long help of `replay`.
pub const EXAMPLES: &str = "\
Examples:
  # One peer's view of a RIB into a local speaker, eBGP, then close:
  bgp-probe replay --peer 127.0.0.1:1790 --local-as 65001 --remote-as 64513 \\
      rib.20140523.0600.bz2
  # The full-table stream into a receiver, kept up until Ctrl-C:
  bgp-probe replay --peer 10.99.0.2 --local-as 65001 --remote-as 65002 \\
      --next-hop 10.99.0.1 --next-hop6 fd99::1 --wait updates.et-header.2015.gz
  # One RIS peer's updates, every route originated by AS 64999:
  bgp-probe replay --peer 10.99.0.2 --local-as 65001 --remote-as 65002 \\
      --peer-ip 12.0.1.63 --origin-as 64999 --keep-open 60 updates.20190101.0000.gz";

/// Arguments of `bgp-probe replay`.
#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// MRT files to send, in order: TABLE_DUMP_V2 or TABLE_DUMP RIB dumps,
    /// BGP4MP updates files; plain, gzip or bzip2
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    /// The speaker to connect to: ADDR, ADDR:PORT or [IPV6]:PORT (port 179
    /// when not given)
    #[arg(long, value_name = "ADDR[:PORT]", value_parser = parse_peer)]
    pub peer: SocketAddr,

    /// Our AS number, sent in OPEN
    #[arg(long, value_name = "ASN")]
    pub local_as: u32,

    /// The AS number the peer must announce in its OPEN
    #[arg(long, value_name = "ASN")]
    pub remote_as: u32,

    /// BGP Identifier sent in OPEN [default: the session's local IPv4
    /// address]
    #[arg(long, value_name = "IPV4")]
    pub router_id: Option<Ipv4Addr>,

    /// Local address to connect from
    #[arg(long, value_name = "IP")]
    pub source: Option<IpAddr>,

    /// Next hop of IPv4 routes [default: eBGP the local address, iBGP the
    /// recorded one]
    #[arg(long, value_name = "IPV4")]
    pub next_hop: Option<Ipv4Addr>,

    /// Next hop of IPv6 routes [default: eBGP the local address, iBGP the
    /// recorded one]
    #[arg(long, value_name = "IPV6")]
    pub next_hop6: Option<Ipv6Addr>,

    /// AS prepended to every AS_PATH [default: --local-as on eBGP, none on
    /// iBGP]
    #[arg(long, value_name = "ASN", conflicts_with = "no_prepend")]
    pub prepend_as: Option<u32>,

    /// Send the AS_PATH without prepending anything, even on eBGP
    #[arg(long)]
    pub no_prepend: bool,

    /// Make every route look originated by this AS: it replaces the last AS
    /// of the path
    #[arg(long, value_name = "ASN")]
    pub origin_as: Option<u32>,

    /// RIB files: send the view of the peer at this index of the
    /// PEER_INDEX_TABLE
    #[arg(long, value_name = "N", conflicts_with = "peer_ip")]
    pub peer_index: Option<u16>,

    /// Send the routes of the peer with this address (RIB and BGP4MP files)
    #[arg(long, value_name = "IP")]
    pub peer_ip: Option<IpAddr>,

    /// Hold time proposed in OPEN, in seconds (0, or 3 and more)
    #[arg(long, value_name = "SECS", default_value_t = 90, value_parser = parse_hold_time)]
    pub hold_time: u16,

    /// After End-of-RIB, keep the session up this many seconds before
    /// closing it
    #[arg(long, value_name = "SECS", conflicts_with = "wait")]
    pub keep_open: Option<u64>,

    /// After End-of-RIB, keep the session up until SIGINT or SIGTERM
    #[arg(long)]
    pub wait: bool,

    /// Do not offer the Extended Message capability: UPDATEs stay within
    /// 4096 octets whatever the peer supports
    #[arg(long)]
    pub no_extended_message: bool,
}

/// `ADDR`, `ADDR:PORT` or `[IPV6]:PORT`.
fn parse_peer(s: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    let bare = s.strip_prefix('[').and_then(|r| r.strip_suffix(']'));
    match bare.unwrap_or(s).parse::<IpAddr>() {
        Ok(ip) => Ok(SocketAddr::new(ip, 179)),
        Err(_) => Err(format!(
            "`{s}` is not ADDR, ADDR:PORT or [IPV6]:PORT (an IP address, not a name)"
        )),
    }
}

/// 0, or at least 3 seconds (RFC 4271 s4.2).
fn parse_hold_time(s: &str) -> Result<u16, String> {
    let v: u16 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds from 0 to 65535"))?;
    if matches!(v, 1 | 2) {
        return Err("the hold time must be 0 or at least 3 seconds (RFC 4271 s4.2)".into());
    }
    Ok(v)
}

/// What happens after End-of-RIB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    /// Close with Cease/Administrative Shutdown at once.
    Close,
    /// Keep the session up for a while, then close.
    KeepOpen(Duration),
    /// Keep the session up until SIGINT or SIGTERM.
    Wait,
}

/// The arguments, checked.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub files: Vec<PathBuf>,
    pub peer: SocketAddr,
    pub local_as: u32,
    pub remote_as: u32,
    pub router_id: Option<Ipv4Addr>,
    pub source: Option<IpAddr>,
    pub hold_time: u16,
    pub extended_message: bool,
    pub after: After,
    pub selector: Selector,
    pub rewrite: Rewrite,
}

impl Settings {
    /// Checks what clap cannot: AS numbers, the addresses' families.
    pub fn new(a: &ReplayArgs) -> Result<Self, ReplayError> {
        let usage = |m: String| Err(ReplayError::Usage(m));
        for (name, asn) in [
            ("--local-as", Some(a.local_as)),
            ("--remote-as", Some(a.remote_as)),
            ("--prepend-as", a.prepend_as),
            ("--origin-as", a.origin_as),
        ] {
            if asn == Some(0) {
                return usage(format!("{name} 0: AS 0 is reserved (RFC 7607)"));
            }
        }
        if let Some(src) = a.source {
            if src.is_ipv4() != a.peer.is_ipv4() {
                return usage(format!(
                    "--source {src} and --peer {} are of different address families",
                    a.peer
                ));
            }
        }
        if a.router_id.is_none() && a.peer.is_ipv6() {
            return usage(format!(
                "--router-id is required on an IPv6 session (--peer {}): the BGP Identifier is an IPv4 address",
                a.peer
            ));
        }
        if a.router_id.is_some_and(|r| r.is_unspecified()) {
            return usage("--router-id 0.0.0.0: the BGP Identifier must not be 0".into());
        }
        let ebgp = a.local_as != a.remote_as;
        let prepend = match (a.no_prepend, a.prepend_as) {
            (true, _) => None,
            (false, Some(asn)) => Some(asn),
            (false, None) => ebgp.then_some(a.local_as),
        };
        let after = match (a.keep_open, a.wait) {
            (Some(s), _) => After::KeepOpen(Duration::from_secs(s)),
            (None, true) => After::Wait,
            (None, false) => After::Close,
        };
        Ok(Self {
            files: a.files.clone(),
            peer: a.peer,
            local_as: a.local_as,
            remote_as: a.remote_as,
            router_id: a.router_id,
            source: a.source,
            hold_time: a.hold_time,
            extended_message: !a.no_extended_message,
            after,
            selector: Selector {
                peer_index: a.peer_index,
                peer_ip: a.peer_ip,
            },
            rewrite: Rewrite {
                ebgp,
                prepend,
                origin_as: a.origin_as,
                next_hop4: a.next_hop,
                next_hop6: a.next_hop6,
            },
        })
    }
}

/// Why a replay failed.
#[derive(Debug)]
pub enum ReplayError {
    /// The arguments do not make sense together (exit 2).
    Usage(String),
    /// An input file cannot be read, or has nothing of the peer asked for
    /// (exit 2).
    Input(String),
    /// An input file is malformed; the message names the file and the
    /// offset of the record (exit 1).
    Mrt(String),
    /// The TCP connection could not be made (exit 2).
    Connect {
        /// The address dialled.
        peer: SocketAddr,
        /// Why it failed.
        error: io::Error,
    },
    /// The session did not reach Established (exit 2).
    Establish(String),
    /// The session failed after it was established (exit 1).
    Session(String),
    /// SIGINT or SIGTERM before every route was sent (exit 1).
    Interrupted,
}

impl ReplayError {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) | Self::Input(_) | Self::Connect { .. } | Self::Establish(_) => 2,
            Self::Mrt(_) | Self::Session(_) | Self::Interrupted => 1,
        }
    }
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(m) => write!(f, "usage: {m}"),
            Self::Input(m) | Self::Mrt(m) => f.write_str(m),
            Self::Connect { peer, error } => write!(f, "cannot connect to {peer}: {error}"),
            Self::Establish(m) => write!(f, "session not established: {m}"),
            Self::Session(m) => write!(f, "session failed: {m}"),
            Self::Interrupted => f.write_str("interrupted before every route was sent"),
        }
    }
}

impl std::error::Error for ReplayError {}

/// How the session ended after End-of-RIB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// We closed it with Cease/Administrative Shutdown.
    Closed,
    /// A signal (or the caller) asked us to close it.
    Interrupted,
}

/// What a replay did.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The peer's address.
    pub peer: SocketAddr,
    /// Our end of the connection.
    pub local: SocketAddr,
    /// The peer's AS.
    pub peer_as: u32,
    /// The peer's BGP Identifier.
    pub peer_id: Ipv4Addr,
    /// When the session became Established, seconds since the Unix epoch.
    pub established_unix: f64,
    /// Families negotiated; End-of-RIB was sent for each.
    pub families: Vec<Family>,
    /// UPDATE messages sent, End-of-RIB markers not counted.
    pub updates: u64,
    /// Prefixes announced.
    pub announced: u64,
    /// Prefixes withdrawn.
    pub withdrawn: u64,
    /// Prefixes of the plan not sent: family not negotiated, or attributes
    /// too large for one message.
    pub not_sent: u64,
    /// Octets written, End-of-RIB included.
    pub octets: u64,
    /// Seconds from Established to the last End-of-RIB handed to the socket.
    pub seconds: f64,
    /// How the session ended (set when it has).
    pub ending: Option<Ending>,
}

impl Summary {
    /// Prefixes (announced and withdrawn) per second.
    pub fn rate(&self) -> f64 {
        let n = (self.announced + self.withdrawn) as f64;
        if self.seconds > 0.0 {
            n / self.seconds
        } else {
            0.0
        }
    }
}

/// Runs `bgp-probe replay` and returns the process exit status.
pub fn run(args: ReplayArgs) -> ExitCode {
    // One thread for the session's tasks; the encoder and the file reader
    // get blocking threads of their own.
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bgp-probe replay: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(run_async(args)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bgp-probe replay: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Reads the files, runs the session and reports; SIGINT and SIGTERM close
/// the session with Cease/Administrative Shutdown.
pub async fn run_async(args: ReplayArgs) -> Result<Summary, ReplayError> {
    let settings = Settings::new(&args)?;
    let plan = load_plan(&settings).await?;
    session::replay(&settings, plan, signals(), None).await
}

/// Reads and rewrites every file on a blocking thread, prints what will be
/// sent, and checks that it can be sent to this peer.
pub(crate) async fn load_plan(settings: &Settings) -> Result<Arc<Plan>, ReplayError> {
    let s = settings.clone();
    let plan = tokio::task::spawn_blocking(move || plan::load(&s.files, &s.selector, &s.rewrite))
        .await
        .map_err(|e| ReplayError::Input(format!("reading the files failed: {e}")))??;
    for w in &plan.warnings {
        eprintln!("bgp-probe replay: warning: {w}");
    }
    for f in &plan.files {
        println!("{:<14}{f}", "file");
    }
    println!(
        "{:<14}{} ipv4-unicast, {} ipv6-unicast prefixes in the final table",
        "expected", plan.expected[0], plan.expected[1]
    );
    if plan.needs_session_next_hop[0]
        && settings.peer.is_ipv6()
        && settings.rewrite.next_hop4.is_none()
    {
        return Err(ReplayError::Usage(format!(
            "IPv4 routes need --next-hop on an IPv6 session (--peer {})",
            settings.peer
        )));
    }
    Ok(Arc::new(plan))
}

/// Completes on the first SIGINT or SIGTERM.
async fn signals() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
