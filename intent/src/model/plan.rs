//! The BGP routers a node runs, reduced to what decides which prefix goes
//! to which neighbour: the common shape into which both the legacy
//! `CiliumBGPPeeringPolicy` ([`super::legacy`]) and the
//! `CiliumBGPClusterConfig` family ([`super::cluster_config`]) are
//! translated, so that [`super::advertise`] evaluates both the same way.
//!
//! Also the small text helpers every message uses.

use crate::expected::Reason;
use crate::objects::{LabelSelector, Origin};
use std::net::IpAddr;

/// One GoBGP server on a node: a virtual router (legacy API) or a BGP
/// instance (`CiliumBGPClusterConfig`).
#[derive(Debug, Clone)]
pub(crate) struct Router {
    /// `NeighborIntent::router`: the local ASN of a virtual router, the name
    /// of a BGP instance.
    pub name: String,
    /// How messages name it, e.g. "virtual router 64512 of
    /// CiliumBGPPeeringPolicy bgp-peering".
    pub label: String,
    pub local_asn: u32,
    pub origin: Origin,
    pub peers: Vec<Peer>,
}

/// One neighbour of a router.
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    /// E.g. "neighbor 172.29.51.1".
    pub label: String,
    pub address: IpAddr,
    pub asn: u32,
    pub port: Option<u16>,
    pub families: Vec<FamilyExports>,
}

/// An address family configured on a peer and what is exported on it.
#[derive(Debug, Clone)]
pub(crate) struct FamilyExports {
    /// `ipv4`, `ipv6`, or another AFI Cilium accepts but that carries no
    /// unicast routes.
    pub afi: String,
    pub safi: String,
    pub exports: Vec<Export>,
    /// Why the family carries no Service at all, when Cilium's
    /// configuration makes it so (bgpv2 only: no advertisement selected).
    pub no_service_cause: Option<Cause>,
}

impl FamilyExports {
    /// `ipv4-unicast`, as [`crate::expected::NeighborIntent::families`]
    /// spells it.
    pub fn name(&self) -> String {
        format!("{}-{}", self.afi, self.safi)
    }

    /// Whether routes of `ip`'s family travel on it.
    pub fn carries(&self, ip: IpAddr) -> bool {
        self.safi == "unicast"
            && match ip {
                IpAddr::V4(_) => self.afi == "ipv4",
                IpAddr::V6(_) => self.afi == "ipv6",
            }
    }
}

/// One kind of route a family exports.
#[derive(Debug, Clone)]
pub(crate) enum Export {
    /// The node's pod CIDRs (`exportPodCIDR`, or a `PodCIDR` advertisement).
    PodCidr,
    /// Services picked by a label selector.
    Services(ServiceExport),
}

/// Which API a Service export comes from; it decides the reason codes and
/// the field names messages use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    /// `CiliumBGPPeeringPolicy` virtual router.
    Legacy,
    /// `CiliumBGPAdvertisement` of type `Service`.
    Advertisement,
}

/// Services selected by a virtual router's `serviceSelector` or by a
/// `CiliumBGPAdvertisement` entry's `selector`.
#[derive(Debug, Clone)]
pub(crate) struct ServiceExport {
    pub api: Api,
    /// How messages name the object, e.g. "virtual router 64512 of
    /// CiliumBGPPeeringPolicy bgp-peering".
    pub label: String,
    pub selector: Option<LabelSelector>,
    /// `LoadBalancerIP`, `ClusterIP`, `ExternalIP` (defaults applied).
    pub addresses: Vec<String>,
    pub origin: Origin,
}

/// Why one router, peer or family does not advertise one Service address
/// on one node: aggregated over nodes into a [`Reason`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Cause {
    pub code: &'static str,
    /// A sentence fragment starting in lower case, without final stop;
    /// prefixed with the nodes it applies on.
    pub text: String,
    pub origin: Origin,
}

/// Builds a [`Reason`].
pub(crate) fn reason(code: &str, message: String, origin: &Origin) -> Reason {
    Reason {
        code: code.to_string(),
        message,
        origin: origin.clone(),
    }
}

/// "a", "a and b", "a, b and c".
pub(crate) fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => format!(
            "{} and {}",
            init.iter()
                .map(|s| s.as_ref())
                .collect::<Vec<_>>()
                .join(", "),
            last.as_ref()
        ),
    }
}

/// "node mini-1", "nodes mini-1 and mini-2".
pub(crate) fn nodes_phrase<S: AsRef<str>>(nodes: &[S]) -> String {
    if nodes.len() == 1 {
        format!("node {}", and_list(nodes))
    } else {
        format!("nodes {}", and_list(nodes))
    }
}

/// Upper-cases the first letter of a sentence.
pub(crate) fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Diagnostics on the neighbours of the routers of one policy or cluster
/// config: one address peered by several routers (each router is its own
/// GoBGP server, so the node opens one session per router from the same
/// address), and routers that peer with different neighbours.
pub(crate) fn neighbor_diagnostics(
    noun: &str,
    owner: &str,
    routers: &[Router],
    origin: &Origin,
    diags: &mut Vec<Reason>,
) {
    let mut by_address: std::collections::BTreeMap<IpAddr, Vec<String>> = Default::default();
    for r in routers {
        let mut seen = std::collections::BTreeSet::new();
        for p in &r.peers {
            if seen.insert(p.address) {
                by_address
                    .entry(p.address)
                    .or_default()
                    .push(r.name.clone());
            }
        }
    }
    for (address, names) in &by_address {
        if names.len() > 1 {
            diags.push(reason(
                "neighbor-in-several-routers",
                format!(
                    "{} {} of {owner} all peer with {address}, so every node opens one session per router to it from the same address; a router such as FRR keeps only one session per neighbor address, so the routes of the other routers may never arrive.",
                    capitalize(noun),
                    and_list(names)
                ),
                origin,
            ));
        }
    }
    let sets: Vec<(String, std::collections::BTreeSet<IpAddr>)> = routers
        .iter()
        .map(|r| (r.name.clone(), r.peers.iter().map(|p| p.address).collect()))
        .collect();
    if sets.windows(2).any(|w| w[0].1 != w[1].1) {
        let described: Vec<String> = sets
            .iter()
            .map(|(name, set)| {
                let addrs: Vec<String> = set.iter().map(IpAddr::to_string).collect();
                if addrs.is_empty() {
                    format!("{name} with no neighbor")
                } else {
                    format!("{name} with {}", and_list(&addrs))
                }
            })
            .collect();
        diags.push(reason(
            "routers-neighbors-differ",
            format!(
                "The {noun} of {owner} peer with different neighbors ({}), so a Service selected by only one of them reaches only that router's neighbors.",
                described.join("; ")
            ),
            origin,
        ));
    }
}
