//! The expected routing state: what the cluster's intent, read with
//! Cilium's own semantics, says must be advertised, by which node, to which
//! neighbour, and why other things will not be.
//!
//! Built from an [`Inventory`](crate::objects::Inventory) by
//! [`crate::model::expect`]; read by the daemon's drift findings and by
//! `bgp-probe lint`. Plain data, serializable as it is for the JSON API.

use crate::objects::Origin;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// The whole expected state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expected {
    /// Every node, by name.
    pub nodes: Vec<NodeIntent>,
    /// Every IP pool, by name.
    pub pools: Vec<PoolIntent>,
    /// Every Service of type LoadBalancer, by namespace and name.
    pub services: Vec<ServiceIntent>,
    /// Every prefix that some node must advertise.
    pub prefixes: BTreeMap<IpNet, PrefixIntent>,
    /// Problems of the intent itself that Cilium would not report as errors
    /// (a node selected by two policies, overlapping pools, ...), in a
    /// stable order.
    pub diagnostics: Vec<Reason>,
}

/// Why something is or is not as one might expect: a stable code, one
/// readable sentence naming the objects involved, and where the object that
/// causes it was read from.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Reason {
    /// Kebab-case, stable across releases, e.g. `service-selector-unset`.
    pub code: String,
    /// E.g. "virtual router 64512 of CiliumBGPPeeringPolicy bgp-peering has
    /// no serviceSelector, so it advertises no Service".
    pub message: String,
    /// The object responsible, when it was read from a file.
    #[serde(default, skip_serializing_if = "origin_is_empty")]
    pub origin: Origin,
}

fn origin_is_empty(o: &Origin) -> bool {
    o.file.is_none() && o.line.is_none()
}

/// A node and its BGP configuration as Cilium will derive it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeIntent {
    pub name: String,
    /// InternalIP addresses first, then ExternalIP; the addresses its Cilium
    /// agent's sessions come from.
    pub addresses: Vec<IpAddr>,
    pub ready: bool,
    /// The policy (`CiliumBGPPeeringPolicy` or `CiliumBGPClusterConfig`
    /// name) that configures BGP on this node, if exactly one does.
    pub policy: Option<String>,
    /// The neighbours the node's agent will peer with.
    pub neighbors: Vec<NeighborIntent>,
    /// Why the node runs no BGP at all, when it does not.
    pub no_bgp: Option<Reason>,
}

/// One BGP neighbour of a node, from a virtual router or a BGP instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeighborIntent {
    /// Virtual router (`localASN`) or BGP instance name it belongs to.
    pub router: String,
    pub local_asn: u32,
    pub address: IpAddr,
    pub asn: u32,
    pub port: Option<u16>,
    /// Families (`ipv4-unicast`, `ipv6-unicast`) negotiated on it.
    pub families: Vec<String>,
    /// Prefixes this node must advertise to this neighbour.
    pub prefixes: BTreeSet<IpNet>,
}

/// An IP pool and the addresses of it that Services hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolIntent {
    pub name: String,
    pub disabled: bool,
    /// Address ranges (first, last), from `blocks` (or legacy `cidrs`).
    pub ranges: Vec<(IpAddr, IpAddr)>,
    /// Number of addresses the pool may hand out, saturating.
    pub size: u64,
    /// Ingress IPs of Services that fall in this pool.
    pub in_use: BTreeSet<IpAddr>,
    /// Services (`namespace/name`) holding those IPs.
    pub services: BTreeSet<String>,
    /// Of `in_use`, the IPs at least one node must advertise.
    pub expected: BTreeSet<IpAddr>,
    pub origin: Origin,
}

/// A Service of type LoadBalancer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceIntent {
    pub namespace: String,
    pub name: String,
    /// `status.loadBalancer.ingress` IPs.
    pub ips: Vec<IpAddr>,
    /// The pool each IP belongs to (by IP).
    pub pools: BTreeMap<IpAddr, String>,
    pub ports: Vec<crate::objects::ServicePort>,
    pub external_traffic_local: bool,
    /// Nodes that must advertise its IPs.
    pub advertised_by: BTreeSet<String>,
    /// Why nodes will not advertise it (empty when every BGP node does).
    pub not_advertised: Vec<Reason>,
    /// Why it has no IP, when `ips` is empty.
    pub no_ip: Option<Reason>,
    pub origin: Origin,
}

/// Which Service field a prefix comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrefixKind {
    LoadBalancerIp,
    ExternalIp,
    ClusterIp,
    PodCidr,
}

/// One prefix some node must advertise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefixIntent {
    pub prefix: IpNet,
    pub kind: PrefixKind,
    /// `namespace/name` of the Service (none for pod CIDRs).
    pub service: Option<String>,
    /// The pool the address belongs to.
    pub pool: Option<String>,
    /// Nodes that must advertise it.
    pub nodes: BTreeSet<String>,
    /// Their addresses: the next hops the router should hold for it.
    pub next_hops: BTreeSet<IpAddr>,
}
