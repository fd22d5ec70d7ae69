//! Configuration: whom to expect, on which sockets, with which session
//! parameters.
//!
//! A configuration is a TOML file (schema and rationale in
//! `docs/configuration.md`; an annotated example in `examples/bgpd.toml`).
//! Loading has two stages:
//!
//! 1. toml parses the text into raw tables; every table denies unknown keys,
//!    so a misspelt key is an error with its line and column;
//! 2. validation turns the raw tables into [`Config`]: addresses, prefixes
//!    and families are parsed, ranges checked, defaults applied, peers checked
//!    for ambiguity, and TCP-MD5 keys read from their files. Every error names
//!    the file, the field path and the value
//!    (`bgpd.toml: peer[1].prefix = "172.29.51.0/33": invalid prefix length`).
//!
//! Nothing is read from disk after [`Config::from_file`] returns: the MD5 keys
//! are in [`PeerConfig::md5_key`].
//!
//! [`Config::embedded_default`] is the compiled-in `default.toml`, describing
//! the home cluster and listening only on loopback.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use bgp_proto::Family;
use ipnet::IpNet;
use toml::de::DeTable;
use toml::Spanned;

mod error;
mod raw;
#[cfg(test)]
mod tests;

pub use error::ConfigError;

use raw::{RawConfig, RawPeer};

/// Local AS when `asn` is omitted: the home router's AS, so the verifier is
/// an iBGP neighbour of the router and an eBGP neighbour of the nodes.
pub const DEFAULT_ASN: u32 = 64513;
/// BGP listen address when `listen` is omitted: loopback only, and 1790
/// rather than 179 (see `docs/configuration.md`).
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DEFAULT_BGP_PORT);
/// The port bgpd listens on by default.
pub const DEFAULT_BGP_PORT: u16 = 1790;
/// HTTP listen address when `[http] listen` is omitted.
pub const DEFAULT_HTTP_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9179);
/// Hold time in seconds when `hold_time` is omitted (RFC 4271's suggestion).
pub const DEFAULT_HOLD_TIME: u16 = 90;
/// ConnectRetry time in seconds when `connect_retry` is omitted.
pub const DEFAULT_CONNECT_RETRY: u16 = 30;
/// Destination port of an active peer when `port` is omitted.
pub const DEFAULT_ACTIVE_PORT: u16 = 179;
/// MRT rotation interval in seconds when `rotate_seconds` is omitted.
pub const DEFAULT_MRT_ROTATE_SECONDS: u32 = 3600;
/// MRT files kept when `max_files` is omitted.
pub const DEFAULT_MRT_MAX_FILES: u32 = 24;
/// Seconds stale routes are kept after a peer restarts when
/// `graceful_restart.stale_timeout` is omitted.
pub const DEFAULT_STALE_TIMEOUT: u16 = 360;
/// Longest TCP-MD5 key Linux accepts (`TCP_MD5SIG_MAXKEYLEN`).
pub const MD5_KEY_MAX_LEN: usize = 80;

/// Name used in errors about the compiled-in default.
const EMBEDDED_NAME: &str = "default.toml (embedded)";
const EMBEDDED_TEXT: &str = include_str!("default.toml");

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where this came from: the path or name given when loading.
    pub source: String,
    /// Local AS (`asn`).
    pub asn: u32,
    /// BGP Identifier sent in OPEN (`router_id`); never 0.0.0.0.
    pub router_id: Ipv4Addr,
    /// Addresses to accept BGP connections on (`listen`); may be empty
    /// when every peer is active.
    pub listen: Vec<SocketAddr>,
    /// Hold time proposed in OPEN (`hold_time`): zero (no keepalives) or
    /// 3..=65535 whole seconds. Peers inherit it unless they override it.
    pub hold_time: Duration,
    /// ConnectRetry timer for active peers (`connect_retry`), whole seconds.
    pub connect_retry: Duration,
    /// `[http]`.
    pub http: HttpConfig,
    /// `[mrt]`, or `None` when no MRT dump is written.
    pub mrt: Option<MrtConfig>,
    /// `[inventory]`: where the cluster's intent is read from.
    pub inventory: InventoryConfig,
    /// `[reachability]`: probing of node addresses.
    pub reachability: ReachConfig,
    /// `[[peer]]`, in file order. Use [`Config::peer_for`] to match an
    /// incoming connection.
    pub peers: Vec<PeerConfig>,
}

/// `[http]`: the read-only HTTP endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Listen address.
    pub listen: SocketAddr,
}

/// `[inventory]`: the source of the intended state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryConfig {
    /// Where the objects come from (`source`).
    pub source: InventorySource,
    /// No successful sync for this long marks the inventory stale
    /// (`stale_after`, whole seconds).
    pub stale_after: Duration,
}

/// `inventory.source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InventorySource {
    /// `"embedded"`: the home cluster's manifests compiled into the binary.
    Embedded,
    /// `"files"`: YAML manifests under `path` (a file or a directory).
    Files { path: PathBuf },
    /// `"kubernetes"`: watch an API server, in-cluster or through a
    /// kubeconfig (`kubeconfig`, `context`; both optional).
    Kubernetes {
        kubeconfig: Option<PathBuf>,
        context: Option<String>,
    },
}

/// `[reachability]`: periodic probes of every node address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReachConfig {
    /// Off unless `enabled = true`.
    pub enabled: bool,
    /// How to probe (`method`).
    pub method: ReachMethod,
    /// Time between two rounds (`interval`, seconds, fractions allowed).
    pub interval: Duration,
    /// How long one probe may wait for its answer (`timeout`).
    pub timeout: Duration,
    /// Port for TCP connect probes (`tcp_port`).
    pub tcp_port: u16,
}

/// `reachability.method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReachMethod {
    /// `"auto"`: ICMP echo over a datagram socket where the kernel allows
    /// it (`net.ipv4.ping_group_range`), else TCP connect.
    Auto,
    /// `"icmp"`: ICMP echo only.
    Icmp,
    /// `"tcp"`: TCP connect to `tcp_port` only; a refused connection counts
    /// as reachable (the host answered).
    Tcp,
}

/// `stale_after` when omitted: two minutes.
pub const DEFAULT_STALE_AFTER: u64 = 120;
/// Reachability defaults: every 10 s, 1 s timeout, TCP port 10250 (the
/// kubelet, open on every node).
pub const DEFAULT_REACH_INTERVAL: f64 = 10.0;
pub const DEFAULT_REACH_TIMEOUT: f64 = 1.0;
pub const DEFAULT_REACH_TCP_PORT: u16 = 10250;

/// `[mrt]`: rotating MRT (RFC 6396) dumps of received messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MrtConfig {
    /// Directory the files are written to (created by the writer, not
    /// checked here).
    pub dir: PathBuf,
    /// How long one file is written before the next is started.
    pub rotate: Duration,
    /// How many files are kept; older ones are deleted. At least 1.
    pub max_files: u32,
}

/// One `[[peer]]`.
#[derive(Clone, PartialEq, Eq)]
pub struct PeerConfig {
    /// Unique name, used in logs, metrics and the HTTP API.
    pub name: String,
    /// Which source addresses this peer is (`address` or `prefix`).
    pub remote: PeerMatch,
    /// The AS the peer must announce in OPEN.
    pub remote_asn: u32,
    /// What the peer is.
    pub role: Role,
    /// Who opens the TCP connection.
    pub connect: ConnectMode,
    /// Hold time proposed to this peer: its own `hold_time` or the global one.
    pub hold_time: Duration,
    /// Where [`PeerConfig::md5_key`] was read from, if anywhere.
    pub password_file: Option<PathBuf>,
    /// TCP-MD5 (RFC 2385) key, 1..=80 octets, trailing newline removed.
    /// Read during validation; never printed by `Debug`.
    pub md5_key: Option<Vec<u8>>,
    /// GTSM (RFC 5082): require TTL 255 on received packets and send 255.
    pub ttl_security: bool,
    /// Close the session with Cease / Maximum Number of Prefixes Reached
    /// (RFC 4486) when the peer's Adj-RIB-In exceeds this many prefixes.
    pub max_prefixes: Option<u32>,
    /// Graceful restart (RFC 4724) helper behaviour.
    pub graceful_restart: GracefulRestartConfig,
    /// Families offered in the Multiprotocol capability (RFC 4760); each
    /// once, in file order.
    pub families: Vec<Family>,
    /// Offer to receive multiple paths (ADD-PATH, RFC 7911) in every family.
    pub add_path_receive: bool,
}

impl PeerConfig {
    /// The hold time as the 16-bit field of OPEN (lossless: validation keeps
    /// it within 0..=65535 seconds).
    pub fn hold_time_secs(&self) -> u16 {
        u16::try_from(self.hold_time.as_secs()).unwrap_or(u16::MAX)
    }

    /// Whether this peer stands for a range of neighbours (`prefix`).
    pub fn is_dynamic(&self) -> bool {
        matches!(self.remote, PeerMatch::Prefix(_))
    }
}

impl fmt::Debug for PeerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeerConfig")
            .field("name", &self.name)
            .field("remote", &self.remote)
            .field("remote_asn", &self.remote_asn)
            .field("role", &self.role)
            .field("connect", &self.connect)
            .field("hold_time", &self.hold_time)
            .field("password_file", &self.password_file)
            .field(
                "md5_key",
                &self
                    .md5_key
                    .as_ref()
                    .map(|k| format!("<{} octets>", k.len())),
            )
            .field("ttl_security", &self.ttl_security)
            .field("max_prefixes", &self.max_prefixes)
            .field("graceful_restart", &self.graceful_restart)
            .field("families", &self.families)
            .field("add_path_receive", &self.add_path_receive)
            .finish()
    }
}

/// `[peer.graceful_restart]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GracefulRestartConfig {
    /// Act as receiving speaker: keep the peer's routes, marked stale, while
    /// it restarts, instead of dropping them when the session goes down.
    pub helper: bool,
    /// How long stale routes are kept if the peer does not come back and
    /// send End-of-RIB.
    pub stale_timeout: Duration,
}

impl Default for GracefulRestartConfig {
    fn default() -> Self {
        GracefulRestartConfig {
            helper: true,
            stale_timeout: Duration::from_secs(DEFAULT_STALE_TIMEOUT.into()),
        }
    }
}

/// Which source addresses a peer stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerMatch {
    /// Exactly one neighbour.
    Address(IpAddr),
    /// Any neighbour inside the prefix (dynamic neighbours).
    Prefix(IpNet),
}

impl PeerMatch {
    /// Whether a connection from `ip` belongs to this peer. An IPv4-mapped
    /// IPv6 address (`::ffff:a.b.c.d`, as a dual-stack socket reports IPv4
    /// clients) is compared as the IPv4 address.
    pub fn matches(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        match self {
            PeerMatch::Address(a) => *a == ip,
            PeerMatch::Prefix(net) => net.contains(&ip),
        }
    }

    /// Ordering key for "most specific": an exact address beats any prefix,
    /// a longer prefix beats a shorter one.
    fn specificity(&self) -> (bool, u8) {
        match self {
            PeerMatch::Address(_) => (true, 0),
            PeerMatch::Prefix(net) => (false, net.prefix_len()),
        }
    }
}

impl fmt::Display for PeerMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerMatch::Address(a) => write!(f, "address {a}"),
            PeerMatch::Prefix(n) => write!(f, "prefix {n}"),
        }
    }
}

/// What a peer is, which decides what the verifier expects from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A Cilium agent (GoBGP) announcing the cluster's LoadBalancer IPs.
    Speaker,
    /// The home router (FRR on the UDM Pro), showing what it has selected.
    Router,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Speaker => "speaker",
            Role::Router => "router",
        })
    }
}

/// Who opens the TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectMode {
    /// Wait for the peer to connect to one of the `listen` addresses.
    Passive,
    /// Dial the peer's address on `port` (and still accept its connection;
    /// RFC 4271 collision detection picks one).
    Active {
        /// Destination port.
        port: u16,
    },
}

impl fmt::Display for ConnectMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectMode::Passive => f.write_str("passive"),
            ConnectMode::Active { port } => write!(f, "active (port {port})"),
        }
    }
}

impl Config {
    /// Reads and validates the file at `path`. Errors name the path as given;
    /// a relative `password_file` is resolved against the file's directory.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::file(&name, format!("cannot read: {e}")))?;
        let base = path.parent().filter(|p| !p.as_os_str().is_empty());
        parse(&text, &name, base)
    }

    /// Validates `text`, naming it `name` in errors. A relative
    /// `password_file` is resolved against the working directory.
    pub fn from_str(text: &str, name: &str) -> Result<Config, ConfigError> {
        parse(text, name, None)
    }

    /// The compiled-in `default.toml`: the home cluster's peers, listening on
    /// loopback only. Cannot fail (a unit test parses it).
    pub fn embedded_default() -> Config {
        match parse(EMBEDDED_TEXT, EMBEDDED_NAME, None) {
            Ok(config) => config,
            Err(e) => panic!("the embedded default configuration is invalid: {e}"),
        }
    }

    /// The text of the compiled-in `default.toml`.
    pub fn embedded_default_text() -> &'static str {
        EMBEDDED_TEXT
    }

    /// The peer a connection from `ip` belongs to: an exact `address` match,
    /// else the longest `prefix` containing `ip`, else `None` (refuse).
    pub fn peer_for(&self, ip: IpAddr) -> Option<&PeerConfig> {
        self.peers
            .iter()
            .filter(|p| p.remote.matches(ip))
            .max_by_key(|p| p.remote.specificity())
    }

    /// The peer called `name`.
    pub fn peer(&self, name: &str) -> Option<&PeerConfig> {
        self.peers.iter().find(|p| p.name == name)
    }

    /// Whether `peer` is an internal (same-AS) neighbour.
    pub fn is_ibgp(&self, peer: &PeerConfig) -> bool {
        peer.remote_asn == self.asn
    }
}

fn parse(text: &str, name: &str, base: Option<&Path>) -> Result<Config, ConfigError> {
    let doc = DeTable::parse(text).map_err(|e| ConfigError::toml(name, text, None, e))?;
    let raw: RawConfig =
        toml::from_str(text).map_err(|e| ConfigError::toml(name, text, Some(&doc), e))?;
    Validator {
        file: name,
        text,
        doc: &doc,
        base,
    }
    .config(raw)
}

/// Turns raw tables into a [`Config`], one field at a time, with the
/// document at hand to position errors.
struct Validator<'a> {
    file: &'a str,
    text: &'a str,
    doc: &'a Spanned<DeTable<'a>>,
    base: Option<&'a Path>,
}

/// `s` rendered as a TOML string, for [`ConfigError::value`].
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

impl Validator<'_> {
    fn err(&self, field: &str, value: Option<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError::field(self.file, self.text, self.doc, field, value, reason)
    }

    fn config(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let asn = match raw.asn {
            Some(v) => self.asn("asn", v)?,
            None => DEFAULT_ASN,
        };
        let router_id = self.router_id(raw.router_id.as_deref())?;
        let listen = match &raw.listen {
            Some(list) => self.listen(list)?,
            None => vec![DEFAULT_LISTEN],
        };
        let hold_time = match raw.hold_time {
            Some(v) => self.hold_time("hold_time", v)?,
            None => Duration::from_secs(DEFAULT_HOLD_TIME.into()),
        };
        let connect_retry = match raw.connect_retry {
            Some(v) => Duration::from_secs(self.range("connect_retry", v, 1, 65535)?),
            None => Duration::from_secs(DEFAULT_CONNECT_RETRY.into()),
        };
        let http = self.http(raw.http.as_ref(), &listen)?;
        let mrt = match &raw.mrt {
            Some(m) => Some(self.mrt(m)?),
            None => None,
        };
        let inventory = self.inventory(raw.inventory.as_ref())?;
        let reachability = self.reachability(raw.reachability.as_ref())?;
        let mut peers = Vec::with_capacity(raw.peer.len());
        let mut names: HashMap<&str, usize> = HashMap::new();
        for (i, p) in raw.peer.iter().enumerate() {
            if let Some(first) = names.insert(&p.name, i) {
                return Err(self.err(
                    &format!("peer[{i}].name"),
                    Some(quoted(&p.name)),
                    format!("duplicate name (also peer[{first}])"),
                ));
            }
            peers.push(self.peer(i, p, hold_time)?);
        }
        self.check_overlaps(&raw.peer, &peers)?;
        if peers.is_empty() {
            tracing::warn!(
                config = self.file,
                "no [[peer]]: every connection will be refused"
            );
        }
        Ok(Config {
            source: self.file.to_owned(),
            asn,
            router_id,
            listen,
            hold_time,
            connect_retry,
            http,
            mrt,
            inventory,
            reachability,
            peers,
        })
    }

    /// `path` resolved against the config file's directory when relative.
    fn relative(&self, path: &str) -> PathBuf {
        match self.base {
            Some(base) if Path::new(path).is_relative() => base.join(path),
            _ => PathBuf::from(path),
        }
    }

    fn inventory(&self, raw: Option<&raw::RawInventory>) -> Result<InventoryConfig, ConfigError> {
        let default = raw::RawInventory::default();
        let raw = raw.unwrap_or(&default);
        let stale_after = match raw.stale_after {
            Some(v) => self.range("inventory.stale_after", v, 1, 86_400)?,
            None => DEFAULT_STALE_AFTER,
        };
        let source = match raw.source.as_deref().unwrap_or("embedded") {
            "embedded" => InventorySource::Embedded,
            "files" => {
                let Some(path) = raw.path.as_deref() else {
                    return Err(self.err(
                        "inventory.path",
                        None,
                        "required when source = \"files\"",
                    ));
                };
                if path.trim().is_empty() {
                    return Err(self.err("inventory.path", Some(quoted(path)), "empty path"));
                }
                InventorySource::Files {
                    path: self.relative(path),
                }
            }
            "kubernetes" => InventorySource::Kubernetes {
                kubeconfig: raw.kubeconfig.as_deref().map(|p| self.relative(p)),
                context: raw.context.clone(),
            },
            other => {
                return Err(self.err(
                    "inventory.source",
                    Some(quoted(other)),
                    "expected \"embedded\", \"files\" or \"kubernetes\"",
                ))
            }
        };
        for (field, set) in [
            ("path", raw.path.is_some()),
            ("kubeconfig", raw.kubeconfig.is_some()),
            ("context", raw.context.is_some()),
        ] {
            let used = matches!(
                (&source, field),
                (InventorySource::Files { .. }, "path")
                    | (InventorySource::Kubernetes { .. }, "kubeconfig" | "context")
            );
            if set && !used {
                return Err(self.err(
                    &format!("inventory.{field}"),
                    None,
                    "does not apply to this inventory.source",
                ));
            }
        }
        Ok(InventoryConfig {
            source,
            stale_after: Duration::from_secs(stale_after),
        })
    }

    fn reachability(&self, raw: Option<&raw::RawReachability>) -> Result<ReachConfig, ConfigError> {
        let default = raw::RawReachability::default();
        let raw = raw.unwrap_or(&default);
        let method = match raw.method.as_deref().unwrap_or("auto") {
            "auto" => ReachMethod::Auto,
            "icmp" => ReachMethod::Icmp,
            "tcp" => ReachMethod::Tcp,
            other => {
                return Err(self.err(
                    "reachability.method",
                    Some(quoted(other)),
                    "expected \"auto\", \"icmp\" or \"tcp\"",
                ))
            }
        };
        let seconds = |field: &str, v: Option<f64>, default: f64, lo: f64, hi: f64| {
            let v = v.unwrap_or(default);
            if !(lo..=hi).contains(&v) {
                return Err(self.err(
                    field,
                    Some(v.to_string()),
                    format!("expected {lo} to {hi} seconds"),
                ));
            }
            Ok(Duration::from_secs_f64(v))
        };
        let interval = seconds(
            "reachability.interval",
            raw.interval,
            DEFAULT_REACH_INTERVAL,
            0.1,
            3600.0,
        )?;
        let timeout = seconds(
            "reachability.timeout",
            raw.timeout,
            DEFAULT_REACH_TIMEOUT,
            0.01,
            60.0,
        )?;
        if timeout > interval {
            return Err(self.err(
                "reachability.timeout",
                Some(timeout.as_secs_f64().to_string()),
                "longer than reachability.interval",
            ));
        }
        let tcp_port = match raw.tcp_port {
            Some(v) => self.range("reachability.tcp_port", v, 1, 65535)? as u16,
            None => DEFAULT_REACH_TCP_PORT,
        };
        Ok(ReachConfig {
            enabled: raw.enabled.unwrap_or(false),
            method,
            interval,
            timeout,
            tcp_port,
        })
    }

    /// An integer in `lo..=hi`.
    fn range(&self, field: &str, v: i64, lo: i64, hi: i64) -> Result<u64, ConfigError> {
        if v < lo || v > hi {
            return Err(self.err(
                field,
                Some(v.to_string()),
                format!("out of range (expected {lo}..={hi})"),
            ));
        }
        // lo >= 0 at every call site, so v is non-negative here.
        Ok(v.unsigned_abs())
    }

    fn asn(&self, field: &str, v: i64) -> Result<u32, ConfigError> {
        let reason = match v {
            0 => "AS 0 is reserved (RFC 7607)",
            23456 => "AS 23456 is AS_TRANS, a stand-in for 4-octet AS numbers (RFC 6793)",
            65535 | 4294967295 => "reserved AS number (RFC 7300)",
            _ => match u32::try_from(v) {
                Ok(asn) => return Ok(asn),
                Err(_) => "not an AS number (expected 1..=4294967294)",
            },
        };
        Err(self.err(field, Some(v.to_string()), reason))
    }

    fn hold_time(&self, field: &str, v: i64) -> Result<Duration, ConfigError> {
        if v == 1 || v == 2 {
            return Err(self.err(
                field,
                Some(v.to_string()),
                "hold time must be 0 or at least 3 seconds (RFC 4271)",
            ));
        }
        Ok(Duration::from_secs(self.range(field, v, 0, 65535)?))
    }

    fn router_id(&self, raw: Option<&str>) -> Result<Ipv4Addr, ConfigError> {
        let Some(s) = raw else {
            return Err(self.err(
                "router_id",
                None,
                "missing (the BGP Identifier: this host's IPv4 address, unique in the AS)",
            ));
        };
        let bad = |reason: &str| self.err("router_id", Some(quoted(s)), reason);
        match s.trim().parse::<IpAddr>() {
            Ok(IpAddr::V4(id)) if id.is_unspecified() => {
                Err(bad("the BGP Identifier must be non-zero (RFC 6286)"))
            }
            Ok(IpAddr::V4(id)) => Ok(id),
            Ok(IpAddr::V6(_)) => Err(bad(
                "the BGP Identifier is 32 bits: write an IPv4 address (RFC 6286)",
            )),
            Err(_) => Err(bad("not an IPv4 address")),
        }
    }

    fn socket_addr(&self, field: &str, s: &str) -> Result<SocketAddr, ConfigError> {
        let addr: SocketAddr = s.trim().parse().map_err(|_| {
            self.err(
                field,
                Some(quoted(s)),
                "invalid listen address (expected \"addr:port\", IPv6 as \"[addr]:port\")",
            )
        })?;
        if addr.port() == 0 {
            return Err(self.err(field, Some(quoted(s)), "port 0 is not a fixed port"));
        }
        Ok(addr)
    }

    fn listen(&self, list: &[String]) -> Result<Vec<SocketAddr>, ConfigError> {
        let mut out: Vec<SocketAddr> = Vec::with_capacity(list.len());
        for (i, s) in list.iter().enumerate() {
            let field = format!("listen[{i}]");
            let addr = self.socket_addr(&field, s)?;
            if let Some(j) = out.iter().position(|a| *a == addr) {
                return Err(self.err(
                    &field,
                    Some(quoted(s)),
                    format!("listed twice (also listen[{j}])"),
                ));
            }
            // 0.0.0.0:p and a.b.c.d:p cannot both be bound (nor [::]:p and
            // a specific IPv6 address on p): the wildcard already covers it.
            let covers = |a: &SocketAddr, b: &SocketAddr| {
                a.port() == b.port() && a.is_ipv4() == b.is_ipv4() && a.ip().is_unspecified()
            };
            if let Some(j) = out
                .iter()
                .position(|a| covers(a, &addr) || covers(&addr, a))
            {
                return Err(self.err(
                    &field,
                    Some(quoted(s)),
                    format!(
                        "overlaps listen[{j}] ({}): a wildcard address already covers \
                         every address on its port",
                        out[j]
                    ),
                ));
            }
            if addr.port() == 179 && !addr.ip().is_loopback() {
                tracing::warn!(
                    config = self.file,
                    %addr,
                    "listening on port 179 of a non-loopback address: on a node's host network \
                     this captures connections the router makes to the node"
                );
            }
            out.push(addr);
        }
        Ok(out)
    }

    fn http(
        &self,
        raw: Option<&raw::RawHttp>,
        bgp: &[SocketAddr],
    ) -> Result<HttpConfig, ConfigError> {
        let Some(s) = raw.and_then(|h| h.listen.as_deref()) else {
            return Ok(HttpConfig {
                listen: DEFAULT_HTTP_LISTEN,
            });
        };
        let listen = self.socket_addr("http.listen", s)?;
        if let Some(i) = bgp.iter().position(|a| *a == listen) {
            return Err(self.err(
                "http.listen",
                Some(quoted(s)),
                format!("same address as listen[{i}] (BGP)"),
            ));
        }
        Ok(HttpConfig { listen })
    }

    fn mrt(&self, raw: &raw::RawMrt) -> Result<MrtConfig, ConfigError> {
        if raw.dir.trim().is_empty() {
            return Err(self.err("mrt.dir", Some(quoted(&raw.dir)), "empty directory name"));
        }
        let rotate = match raw.rotate_seconds {
            Some(v) => self.range("mrt.rotate_seconds", v, 1, u32::MAX.into())?,
            None => DEFAULT_MRT_ROTATE_SECONDS.into(),
        };
        let max_files = match raw.max_files {
            Some(v) => self.range("mrt.max_files", v, 1, u32::MAX.into())?,
            None => DEFAULT_MRT_MAX_FILES.into(),
        };
        Ok(MrtConfig {
            dir: PathBuf::from(&raw.dir),
            rotate: Duration::from_secs(rotate),
            max_files: u32::try_from(max_files).unwrap_or(u32::MAX),
        })
    }

    fn peer(
        &self,
        i: usize,
        p: &RawPeer,
        global_hold: Duration,
    ) -> Result<PeerConfig, ConfigError> {
        let at = |f: &str| format!("peer[{i}].{f}");
        self.peer_name(&at("name"), &p.name)?;
        let remote = match (&p.address, &p.prefix) {
            (Some(a), None) => PeerMatch::Address(self.address(&at("address"), a)?),
            (None, Some(n)) => PeerMatch::Prefix(self.prefix(&at("prefix"), n)?),
            (Some(_), Some(n)) => {
                return Err(self.err(
                    &at("prefix"),
                    Some(quoted(n)),
                    "give either address or prefix, not both",
                ))
            }
            (None, None) => {
                return Err(self.err(
                    &format!("peer[{i}]"),
                    None,
                    "needs address (one neighbour) or prefix (dynamic neighbours)",
                ))
            }
        };
        let remote_asn = self.asn(&at("remote_asn"), p.remote_asn)?;
        let role = match p.role.as_str() {
            "speaker" => Role::Speaker,
            "router" => Role::Router,
            other => {
                return Err(self.err(
                    &at("role"),
                    Some(quoted(other)),
                    "unknown role (expected \"speaker\" or \"router\")",
                ))
            }
        };
        let connect = match p.connect.as_deref().unwrap_or("passive") {
            "passive" => {
                if let Some(port) = p.port {
                    return Err(self.err(
                        &at("port"),
                        Some(port.to_string()),
                        "port applies only to connect = \"active\"",
                    ));
                }
                ConnectMode::Passive
            }
            "active" => {
                if !matches!(remote, PeerMatch::Address(_)) {
                    return Err(self.err(
                        &at("connect"),
                        Some(quoted("active")),
                        "an active peer needs address (a prefix names no host to dial)",
                    ));
                }
                let port = match p.port {
                    Some(v) => self.range(&at("port"), v, 1, 65535)?,
                    None => DEFAULT_ACTIVE_PORT.into(),
                };
                ConnectMode::Active {
                    port: u16::try_from(port).unwrap_or(DEFAULT_ACTIVE_PORT),
                }
            }
            other => {
                return Err(self.err(
                    &at("connect"),
                    Some(quoted(other)),
                    "unknown mode (expected \"passive\" or \"active\")",
                ))
            }
        };
        let hold_time = match p.hold_time {
            Some(v) => self.hold_time(&at("hold_time"), v)?,
            None => global_hold,
        };
        let (password_file, md5_key) = match &p.password_file {
            Some(path) => {
                let (resolved, key) = self.md5_key(&at("password_file"), path)?;
                (Some(resolved), Some(key))
            }
            None => (None, None),
        };
        let max_prefixes = match p.max_prefixes {
            Some(v) => {
                let n = self.range(&at("max_prefixes"), v, 1, u32::MAX.into())?;
                Some(u32::try_from(n).unwrap_or(u32::MAX))
            }
            None => None,
        };
        let mut graceful_restart = GracefulRestartConfig::default();
        if let Some(gr) = &p.graceful_restart {
            if let Some(helper) = gr.helper {
                graceful_restart.helper = helper;
            }
            if let Some(v) = gr.stale_timeout {
                let secs = self.range(&at("graceful_restart.stale_timeout"), v, 1, 65535)?;
                graceful_restart.stale_timeout = Duration::from_secs(secs);
            }
        }
        let families = match &p.families {
            Some(list) => self.families(i, list)?,
            None => vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST],
        };
        Ok(PeerConfig {
            name: p.name.clone(),
            remote,
            remote_asn,
            role,
            connect,
            hold_time,
            password_file,
            md5_key,
            ttl_security: p.ttl_security.unwrap_or(false),
            max_prefixes,
            graceful_restart,
            families,
            add_path_receive: p.add_path_receive.unwrap_or(true),
        })
    }

    fn peer_name(&self, field: &str, name: &str) -> Result<(), ConfigError> {
        let reason = if name.is_empty() {
            "empty name"
        } else if name.len() > 64 {
            "longer than 64 characters"
        } else if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            "use only letters, digits, '-', '_' and '.' (the name appears in URLs and metrics)"
        } else {
            return Ok(());
        };
        Err(self.err(field, Some(quoted(name)), reason))
    }

    fn address(&self, field: &str, s: &str) -> Result<IpAddr, ConfigError> {
        let bad = |reason: &str| self.err(field, Some(quoted(s)), reason);
        let ip: IpAddr = s.trim().parse().map_err(|_| {
            if s.contains('/') {
                bad("not an IP address (for a range of neighbours use prefix)")
            } else {
                bad("not an IP address")
            }
        })?;
        check_address(ip, false).map_err(bad)?;
        Ok(ip)
    }

    fn prefix(&self, field: &str, s: &str) -> Result<IpNet, ConfigError> {
        let bad = |reason: &str| self.err(field, Some(quoted(s)), reason);
        let Some((addr, len)) = s.trim().split_once('/') else {
            return Err(bad("expected address/length, e.g. \"172.29.51.0/24\""));
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad("not an IP prefix"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len: u8 = match len.parse() {
            Ok(n) if n <= max => n,
            _ => return Err(bad("invalid prefix length")),
        };
        check_address(addr, true).map_err(bad)?;
        let net = IpNet::new(addr, len).map_err(|_| bad("invalid prefix length"))?;
        if net.network() != addr {
            return Err(bad(&format!(
                "host bits set (the prefix is {})",
                net.trunc()
            )));
        }
        Ok(net)
    }

    /// Reads a TCP-MD5 key. Returns the resolved path and the key.
    fn md5_key(&self, field: &str, path: &str) -> Result<(PathBuf, Vec<u8>), ConfigError> {
        let bad = |reason: String| self.err(field, Some(quoted(path)), reason);
        if path.is_empty() {
            return Err(bad("empty path".to_owned()));
        }
        let resolved = match self.base {
            Some(base) if Path::new(path).is_relative() => base.join(path),
            _ => PathBuf::from(path),
        };
        let shown = resolved.display();
        let mut key = std::fs::read(&resolved).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                bad(format!("password file {shown} does not exist"))
            } else {
                bad(format!("cannot read password file {shown}: {e}"))
            }
        })?;
        if key.ends_with(b"\n") {
            key.pop();
            if key.ends_with(b"\r") {
                key.pop();
            }
        }
        if key.is_empty() {
            return Err(bad(format!("password file {shown} is empty")));
        }
        if key.len() > MD5_KEY_MAX_LEN {
            return Err(bad(format!(
                "password file {shown} holds {} octets; a TCP-MD5 key is at most {MD5_KEY_MAX_LEN}",
                key.len()
            )));
        }
        Ok((resolved, key))
    }

    fn families(&self, i: usize, list: &[String]) -> Result<Vec<Family>, ConfigError> {
        if list.is_empty() {
            return Err(self.err(
                &format!("peer[{i}].families"),
                Some("[]".to_owned()),
                "at least one family is needed",
            ));
        }
        let mut out: Vec<Family> = Vec::with_capacity(list.len());
        for (j, s) in list.iter().enumerate() {
            let field = format!("peer[{i}].families[{j}]");
            let family = match s.as_str() {
                "ipv4-unicast" => Family::IPV4_UNICAST,
                "ipv6-unicast" => Family::IPV6_UNICAST,
                _ => {
                    return Err(self.err(
                        &field,
                        Some(quoted(s)),
                        "unknown family (expected \"ipv4-unicast\" or \"ipv6-unicast\")",
                    ))
                }
            };
            if out.contains(&family) {
                return Err(self.err(&field, Some(quoted(s)), "listed twice"));
            }
            out.push(family);
        }
        Ok(out)
    }

    /// Two peers that can match the same source address are ambiguous,
    /// except an exact address inside another peer's prefix (the address,
    /// being more specific, wins).
    fn check_overlaps(&self, raw: &[RawPeer], peers: &[PeerConfig]) -> Result<(), ConfigError> {
        for (j, later) in peers.iter().enumerate() {
            for (i, earlier) in peers[..j].iter().enumerate() {
                let clash = match (earlier.remote, later.remote) {
                    (PeerMatch::Address(a), PeerMatch::Address(b)) => a == b,
                    (PeerMatch::Prefix(a), PeerMatch::Prefix(b)) => {
                        a.contains(&b.network()) || b.contains(&a.network())
                    }
                    _ => false,
                };
                if !clash {
                    continue;
                }
                let (key, value) = match later.remote {
                    PeerMatch::Address(_) => ("address", raw[j].address.as_deref()),
                    PeerMatch::Prefix(_) => ("prefix", raw[j].prefix.as_deref()),
                };
                let field = format!("peer[{j}].{key}");
                let value = value.unwrap_or_default();
                let reason = match later.remote {
                    PeerMatch::Address(_) => format!(
                        "same address as peer[{i}] ({:?}): a connection would match both",
                        earlier.name
                    ),
                    PeerMatch::Prefix(_) => format!(
                        "overlaps peer[{i}] ({:?}, {}): a connection could match both; use \
                         disjoint prefixes, or an exact address inside a prefix",
                        earlier.name, earlier.remote
                    ),
                };
                return Err(self.err(&field, Some(quoted(value)), reason));
            }
        }
        Ok(())
    }
}

/// Addresses a neighbour cannot have (for a prefix, `ip` is its network
/// address, and `0.0.0.0/0` or `::/0`, "anyone", is allowed).
fn check_address(ip: IpAddr, is_prefix: bool) -> Result<(), &'static str> {
    if ip.is_unspecified() && !is_prefix {
        return Err("unspecified address");
    }
    if ip.is_multicast() {
        return Err("multicast address");
    }
    if let IpAddr::V6(v6) = ip {
        if v6.to_ipv4_mapped().is_some() {
            return Err("IPv4-mapped IPv6 address: write the IPv4 form");
        }
    }
    Ok(())
}
