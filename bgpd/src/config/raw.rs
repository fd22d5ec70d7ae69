//! The file as written: every key the schema knows, nothing typed beyond what
//! TOML itself says.
//!
//! Addresses, prefixes, families and enumerations stay strings and numbers
//! stay `i64` here, so that validation ([`super::Validator`]) can report a
//! bad value with its field path (`peer[1].prefix = "...": ...`) instead of
//! serde's generic "invalid value". `deny_unknown_fields` on every table makes
//! a misspelt key an error that toml reports with its line.

use serde::Deserialize;

/// The top-level table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub asn: Option<i64>,
    pub router_id: Option<String>,
    pub listen: Option<Vec<String>>,
    pub hold_time: Option<i64>,
    pub connect_retry: Option<i64>,
    pub http: Option<RawHttp>,
    pub mrt: Option<RawMrt>,
    pub inventory: Option<RawInventory>,
    pub reachability: Option<RawReachability>,
    #[serde(default)]
    pub peer: Vec<RawPeer>,
}

/// `[inventory]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInventory {
    pub source: Option<String>,
    pub path: Option<String>,
    pub kubeconfig: Option<String>,
    pub context: Option<String>,
    pub stale_after: Option<i64>,
}

/// `[reachability]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReachability {
    pub enabled: Option<bool>,
    pub method: Option<String>,
    pub interval: Option<f64>,
    pub timeout: Option<f64>,
    pub tcp_port: Option<i64>,
}

/// `[http]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHttp {
    pub listen: Option<String>,
}

/// `[mrt]`: `dir` is required once the table is present.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMrt {
    pub dir: String,
    pub rotate_seconds: Option<i64>,
    pub max_files: Option<i64>,
}

/// One `[[peer]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPeer {
    pub name: String,
    pub address: Option<String>,
    pub prefix: Option<String>,
    pub remote_asn: i64,
    pub role: String,
    pub connect: Option<String>,
    pub port: Option<i64>,
    pub hold_time: Option<i64>,
    pub password_file: Option<String>,
    pub ttl_security: Option<bool>,
    pub max_prefixes: Option<i64>,
    pub graceful_restart: Option<RawGracefulRestart>,
    pub families: Option<Vec<String>>,
    pub add_path_receive: Option<bool>,
}

/// `[peer.graceful_restart]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGracefulRestart {
    pub helper: Option<bool>,
    pub stale_timeout: Option<i64>,
}
