//! Findings: one drift between what the cluster intends and what the BGP
//! sessions show, with the objects it concerns and the most likely cause.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A pool has addresses in use and none of them is advertised.
    PoolMissing,
    /// A Service IP is not advertised by a node that should, or by none.
    ServiceNotAdvertised,
    /// A LoadBalancer Service has no external IP.
    ServiceWithoutIp,
    /// The nodes advertise a prefix the router does not hold.
    NotAcceptedByRouter,
    /// A prefix is advertised that the intent does not explain.
    UnexpectedPrefix,
    /// The router's next hop for a prefix is a node that is unreachable or
    /// NotReady.
    NextHopUnreachable,
    /// The router holds fewer paths for a prefix than nodes advertise it.
    FewerRouterPaths,
    /// A node's BGP session with the verifier is down.
    SpeakerSessionDown,
    /// The router's BGP session with the verifier is down.
    RouterSessionDown,
    /// A node address does not answer probes.
    NodeUnreachable,
    /// The intended state could not be refreshed for a while.
    InventoryStale,
}

impl Kind {
    /// Every kind, in a stable order (for metrics with zero values).
    pub const ALL: [Kind; 11] = [
        Kind::PoolMissing,
        Kind::ServiceNotAdvertised,
        Kind::ServiceWithoutIp,
        Kind::NotAcceptedByRouter,
        Kind::UnexpectedPrefix,
        Kind::NextHopUnreachable,
        Kind::FewerRouterPaths,
        Kind::SpeakerSessionDown,
        Kind::RouterSessionDown,
        Kind::NodeUnreachable,
        Kind::InventoryStale,
    ];

    /// The kebab-case name used in JSON and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            Kind::PoolMissing => "pool-missing",
            Kind::ServiceNotAdvertised => "service-not-advertised",
            Kind::ServiceWithoutIp => "service-without-ip",
            Kind::NotAcceptedByRouter => "not-accepted-by-router",
            Kind::UnexpectedPrefix => "unexpected-prefix",
            Kind::NextHopUnreachable => "next-hop-unreachable",
            Kind::FewerRouterPaths => "fewer-router-paths",
            Kind::SpeakerSessionDown => "speaker-session-down",
            Kind::RouterSessionDown => "router-session-down",
            Kind::NodeUnreachable => "node-unreachable",
            Kind::InventoryStale => "inventory-stale",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How bad: `critical` means traffic to a Service is (or will be) lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    /// Every severity, least severe first.
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Critical];

    /// The lowercase name used in JSON and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: Kind,
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    /// `namespace/name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    /// What is wrong, in one line.
    pub message: String,
    /// The most likely cause, from the intent, and where to look.
    pub hint: String,
    /// Stable codes of the causes found in the intent
    /// (`bgp_intent::Reason::code`), for scripts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<String>,
    /// When this finding was first raised (seconds since the epoch); kept
    /// across recomputations while it persists.
    pub since: f64,
}

impl Finding {
    /// A finding of `kind` with nothing filled in but the texts.
    pub fn new(kind: Kind, severity: Severity, message: String, hint: String) -> Self {
        Finding {
            kind,
            severity,
            pool: None,
            service: None,
            prefix: None,
            node: None,
            peer: None,
            message,
            hint,
            causes: Vec::new(),
            since: 0.0,
        }
    }

    /// What identifies the same finding across recomputations: its kind
    /// and the objects it concerns.
    pub fn key(&self) -> FindingKey<'_> {
        FindingKey {
            kind: self.kind,
            objects: [
                self.pool.as_deref(),
                self.service.as_deref(),
                self.prefix.as_deref(),
                self.node.as_deref(),
                self.peer.as_deref(),
            ],
        }
    }
}

/// See [`Finding::key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FindingKey<'a> {
    kind: Kind,
    /// Pool, service, prefix, node, peer.
    objects: [Option<&'a str>; 5],
}
