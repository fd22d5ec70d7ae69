//! The verifier's report: the verdict, every peer, pool, Service and node
//! as checked, and the findings. It is what `GET /api/v1/report` returns
//! and what the Prometheus metrics are read from.

use super::finding::{Finding, Severity};
use bgp_intent::Reason;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Overall state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No warning or critical finding.
    Ok,
    /// Warnings only.
    Degraded,
    /// At least one critical finding.
    Critical,
}

impl Verdict {
    /// The verdict that a set of findings gives.
    pub fn of(findings: &[Finding]) -> Verdict {
        match findings.iter().map(|f| f.severity).max() {
            Some(Severity::Critical) => Verdict::Critical,
            Some(Severity::Warning) => Verdict::Degraded,
            _ => Verdict::Ok,
        }
    }
}

/// Where the intent came from and how fresh it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InventoryStatus {
    /// `embedded`, `files:PATH` or `kubernetes:URL`.
    pub source: String,
    /// Every kind has been read at least once.
    pub synced: bool,
    pub stale: bool,
    /// Seconds since the epoch of the last successful read.
    pub last_sync: Option<f64>,
    pub error: Option<String>,
    pub services: usize,
    pub nodes: usize,
    pub pools: usize,
    pub policies: usize,
}

/// The complete report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Seconds since the epoch.
    pub generated_at: f64,
    /// Bumped with every recomputation.
    pub generation: u64,
    pub verdict: Option<Verdict>,
    /// One line, e.g. "critical: 1 pool missing, 2 Services not advertised".
    pub summary: String,
    pub inventory: InventoryStatus,
    pub peers: Vec<PeerReport>,
    pub pools: Vec<PoolReport>,
    pub services: Vec<ServiceReport>,
    pub nodes: Vec<NodeReport>,
    pub findings: Vec<Finding>,
    /// Prefixes advertised that the intent does not explain, by peer role
    /// (`speaker`, `router`).
    pub unexpected_prefixes: BTreeMap<String, usize>,
    /// Latest probe result of every node address (empty when probing is
    /// off).
    pub reach: Vec<ReachReport>,
}

/// The latest probe of one node address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReachReport {
    pub node: String,
    pub address: IpAddr,
    pub reachable: bool,
    /// Failed enough probes in a row to be called down.
    pub down: bool,
    pub rtt_seconds: Option<f64>,
}

/// A peer as checked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PeerReport {
    pub name: String,
    pub address: Option<IpAddr>,
    pub asn: u32,
    /// `speaker` or `router`.
    pub role: String,
    pub state: String,
    pub established: bool,
    /// Down but its routes are kept (graceful restart).
    pub restarting: bool,
    /// The node whose address it connects from.
    pub node: Option<String>,
    pub ipv4_prefixes: usize,
    pub ipv6_prefixes: usize,
    pub flaps: u64,
    pub updates_received: u64,
    pub treat_as_withdraw: u64,
    pub attribute_discard: u64,
    pub session_resets: u64,
}

/// A pool as checked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PoolReport {
    pub name: String,
    pub disabled: bool,
    /// `first-last` ranges.
    pub ranges: Vec<String>,
    pub size: u64,
    /// Addresses held by Services.
    pub in_use: usize,
    /// Of those, how many the intent says must be advertised.
    pub expected: usize,
    /// How many the nodes advertise.
    pub advertised: usize,
    /// How many the router holds.
    pub accepted: usize,
    /// In use and none advertised.
    pub missing: bool,
}

/// One IP of a Service as checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceIpReport {
    pub ip: IpAddr,
    pub pool: Option<String>,
    /// Nodes that must advertise it.
    pub expected_from: Vec<String>,
    /// Nodes that do (stale routes of a restarting node count).
    pub advertised_by: Vec<String>,
    /// Next hops of the router's paths.
    pub router_next_hops: Vec<IpAddr>,
    pub advertised: bool,
    pub accepted: bool,
}

/// A Service of type LoadBalancer as checked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceReport {
    pub namespace: String,
    pub name: String,
    pub ips: Vec<ServiceIpReport>,
    pub ports: Vec<String>,
    pub external_traffic_local: bool,
    /// Why nodes will not advertise it, from the intent.
    pub not_advertised: Vec<Reason>,
    /// Why it has no IP.
    pub no_ip: Option<Reason>,
}

/// A node as checked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeReport {
    pub name: String,
    pub addresses: Vec<IpAddr>,
    pub ready: bool,
    /// The policy that configures BGP on it.
    pub policy: Option<String>,
    /// Why it runs no BGP.
    pub no_bgp: Option<Reason>,
    /// The verifier's peer for its Cilium agent.
    pub peer: Option<String>,
    pub session_state: Option<String>,
    /// Whether its agent's session with the verifier is up (or restarting
    /// gracefully); `None` when no session is expected from it (no BGP, or
    /// its address is outside every speaker peer of the configuration).
    pub session_up: Option<bool>,
    /// Latest probe result (none when probing is off).
    pub reachable: Option<bool>,
    pub rtt_seconds: Option<f64>,
    pub expected_prefixes: usize,
    pub advertised_prefixes: usize,
}
