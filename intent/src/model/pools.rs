//! LB-IPAM as Cilium 1.17's operator runs it (`operator/pkg/lbipam/
//! lbipam.go`): the address ranges of every `CiliumLoadBalancerIPPool`,
//! which pool each Service address comes from, and why a Service of type
//! LoadBalancer has no address.
//!
//! Facts taken from that file:
//!
//! - `handleNewPool` builds one range per `spec.blocks` entry
//!   (`ipRangeFromBlock`: a `cidr`, masked to its network, or `start` up to
//!   `stop`, `start` alone being one address). The deprecated `spec.cidrs`
//!   field is not read at all since 1.16; a block that fails to parse stops
//!   the pool's remaining blocks.
//! - With `allowFirstLastIPs: No` the first and last address of a `cidr`
//!   block are reserved, unless the block has only one or two addresses.
//!   Any other value, and an unset field, hands them out (the default
//!   became `Yes` in 1.16).
//! - `disabled: true` stops new allocations (`allocateIPAddress`,
//!   `findRangeOfIP` skip disabled ranges); addresses already assigned
//!   stay, as the CRD documents.
//! - A nil `serviceSelector` lets the pool serve every Service; otherwise
//!   it must match the Service's labels plus `io.kubernetes.service.*`.
//! - `isResponsibleForSVC`: LB-IPAM serves type LoadBalancer Services
//!   without `loadBalancerClass` or with `io.cilium/bgp-control-plane` or
//!   `io.cilium/l2-announcer`.
//! - Requested addresses come from `spec.loadBalancerIP` and the
//!   `lbipam.cilium.io/ips` (alias `io.cilium/lb-ipam-ips`) annotation;
//!   `serviceIPFamilyRequest` decides the families from `ipFamilyPolicy`
//!   and `ipFamilies`.
//! - Overlapping pools (`settleConflicts`) put the newer pool in conflict
//!   and disable all its ranges.

use super::plan::{and_list, reason};
use super::selector::{self, Labels};
use crate::expected::Reason;
use crate::objects::{Inventory, IpPool, IpPoolBlock, Service};
use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// The `loadBalancerClass` of Cilium's BGP control plane
/// (`v2alpha1.BGPLoadBalancerClass`).
pub(crate) const BGP_CLASS: &str = "io.cilium/bgp-control-plane";
/// The `loadBalancerClass` of Cilium's L2 announcements, which LB-IPAM
/// also serves.
pub(crate) const L2_CLASS: &str = "io.cilium/l2-announcer";

/// One range of a pool.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub first: IpAddr,
    pub last: IpAddr,
    /// The first and last address are reserved (`allowFirstLastIPs: No`).
    pub reserved_ends: bool,
}

impl Block {
    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv6() == self.first.is_ipv6() && self.first <= ip && ip <= self.last
    }

    /// Whether LB-IPAM may hand `ip` out.
    pub fn allocatable(&self, ip: IpAddr) -> bool {
        self.contains(ip) && !(self.reserved_ends && (ip == self.first || ip == self.last))
    }

    /// Addresses LB-IPAM may hand out.
    pub fn size(&self) -> u128 {
        let span = match (self.first, self.last) {
            (IpAddr::V4(a), IpAddr::V4(b)) => u128::from(u32::from(b) - u32::from(a)),
            (IpAddr::V6(a), IpAddr::V6(b)) => u128::from(b) - u128::from(a),
            _ => 0,
        };
        let total = span.saturating_add(1);
        if self.reserved_ends {
            total - 2
        } else {
            total
        }
    }

    fn text(&self) -> String {
        if self.first == self.last {
            self.first.to_string()
        } else {
            format!("{}-{}", self.first, self.last)
        }
    }
}

/// A pool and its ranges.
#[derive(Debug, Clone)]
pub(crate) struct Pool<'a> {
    pub obj: &'a IpPool,
    pub blocks: Vec<Block>,
}

impl Pool<'_> {
    pub fn name(&self) -> &str {
        &self.obj.meta.name
    }

    /// Whether the pool serves a Service with these labels.
    pub fn selects(&self, labels: &Labels) -> bool {
        match &self.obj.spec.service_selector {
            None => true,
            Some(sel) => selector::matches(sel, labels),
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.blocks.iter().any(|b| b.contains(ip))
    }

    pub fn allocatable(&self, ip: IpAddr) -> bool {
        self.blocks.iter().any(|b| b.allocatable(ip))
    }

    /// Whether it has a range of the IPv6 (`true`) or IPv4 family.
    pub fn has_family(&self, v6: bool) -> bool {
        self.blocks.iter().any(|b| b.first.is_ipv6() == v6)
    }

    /// Addresses it may hand out, saturating.
    pub fn size(&self) -> u64 {
        let total = self
            .blocks
            .iter()
            .fold(0u128, |acc, b| acc.saturating_add(b.size()));
        u64::try_from(total).unwrap_or(u64::MAX)
    }

    /// Addresses of one family still free, given the addresses in use.
    pub fn free(&self, v6: bool, in_use: &BTreeSet<IpAddr>) -> u128 {
        let size = self
            .blocks
            .iter()
            .filter(|b| b.first.is_ipv6() == v6)
            .fold(0u128, |acc, b| acc.saturating_add(b.size()));
        let used = in_use
            .iter()
            .filter(|ip| ip.is_ipv6() == v6 && self.allocatable(**ip))
            .count() as u128;
        size.saturating_sub(used)
    }

    /// "pool bgp-ingress (172.29.52.200-172.29.52.220)".
    pub fn describe(&self) -> String {
        let ranges: Vec<String> = self.blocks.iter().map(Block::text).collect();
        if ranges.is_empty() {
            format!("pool {} (no usable block)", self.name())
        } else {
            format!("pool {} ({})", self.name(), ranges.join(", "))
        }
    }

    /// "selects pool=bgp-ingress", "selects every Service".
    pub fn selector_phrase(&self) -> String {
        match &self.obj.spec.service_selector {
            None => "selects every Service".to_string(),
            Some(sel) => match selector::invalid(sel) {
                Some(_) => "has an invalid serviceSelector".to_string(),
                None => format!("selects {}", selector::describe(sel)),
            },
        }
    }
}

/// Builds the pools of the inventory, sorted by name; reports blocks
/// Cilium cannot use.
pub(crate) fn build<'a>(inv: &'a Inventory, diags: &mut Vec<Reason>) -> Vec<Pool<'a>> {
    let mut pools: Vec<Pool<'a>> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut sorted: Vec<&IpPool> = inv.pools.iter().collect();
    sorted.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
    for obj in sorted {
        if !seen.insert(obj.meta.name.clone()) {
            diags.push(reason(
                "duplicate-pool",
                format!(
                    "There are two CiliumLoadBalancerIPPools named {}; LB-IPAM keeps only the first it sees.",
                    obj.meta.name
                ),
                &obj.meta.origin,
            ));
            continue;
        }
        let reserve = obj.spec.allow_first_last_i_ps.as_deref() == Some("No");
        let mut blocks = Vec::new();
        for raw in &obj.spec.blocks {
            match parse_block(raw, reserve) {
                Ok(block) => blocks.push(block),
                Err(why) => {
                    diags.push(reason(
                        "pool-block-invalid",
                        format!(
                            "CiliumLoadBalancerIPPool {} has a block Cilium cannot use ({why}), so LB-IPAM ignores it and every block after it.",
                            obj.meta.name
                        ),
                        &obj.meta.origin,
                    ));
                    break;
                }
            }
        }
        if !obj.spec.cidrs.is_empty() {
            diags.push(reason(
                "pool-legacy-cidrs",
                format!(
                    "CiliumLoadBalancerIPPool {} lists addresses under spec.cidrs, which Cilium 1.16 and later ignore; move them to spec.blocks.",
                    obj.meta.name
                ),
                &obj.meta.origin,
            ));
        }
        if let Some(why) = obj
            .spec
            .service_selector
            .as_ref()
            .and_then(selector::invalid)
        {
            diags.push(reason(
                "selector-invalid",
                format!(
                    "The serviceSelector of CiliumLoadBalancerIPPool {} is invalid ({why}), so the pool serves no Service.",
                    obj.meta.name
                ),
                &obj.meta.origin,
            ));
        }
        pools.push(Pool { obj, blocks });
    }
    overlaps(&pools, diags);
    pools
}

fn parse_block(raw: &IpPoolBlock, reserve: bool) -> Result<Block, String> {
    if let Some(cidr) = raw.cidr.as_deref().filter(|c| !c.is_empty()) {
        let net: IpNet = cidr
            .parse()
            .map_err(|_| format!("{cidr:?} is not a CIDR"))?;
        let mut block = Block {
            first: net.network(),
            last: net.broadcast(),
            reserved_ends: false,
        };
        // A /32, /31, /128 or /127 would lose every address: Cilium keeps them.
        block.reserved_ends = reserve && block.size() > 2;
        return Ok(block);
    }
    let start = raw.start.as_deref().unwrap_or_default();
    let first: IpAddr = start
        .parse()
        .map_err(|_| format!("start {start:?} is not an IP address"))?;
    let last: IpAddr = match raw.stop.as_deref().filter(|s| !s.is_empty()) {
        None => first,
        Some(stop) => stop
            .parse()
            .map_err(|_| format!("stop {stop:?} is not an IP address"))?,
    };
    if first.is_ipv6() != last.is_ipv6() {
        return Err(format!("{first} and {last} are of different families"));
    }
    if last < first {
        return Err(format!("stop {last} comes before start {first}"));
    }
    Ok(Block {
        first,
        last,
        reserved_ends: false,
    })
}

fn overlaps(pools: &[Pool<'_>], diags: &mut Vec<Reason>) {
    for (i, a) in pools.iter().enumerate() {
        for (j, ba) in a.blocks.iter().enumerate() {
            for bb in &a.blocks[j + 1..] {
                if ba.contains(bb.first) || bb.contains(ba.first) {
                    diags.push(reason(
                        "pools-overlap",
                        format!(
                            "Blocks {} and {} of CiliumLoadBalancerIPPool {} overlap, so Cilium marks the pool as conflicting and disables all its blocks.",
                            ba.text(),
                            bb.text(),
                            a.name()
                        ),
                        &a.obj.meta.origin,
                    ));
                }
            }
            for b in &pools[i + 1..] {
                for bb in &b.blocks {
                    if ba.contains(bb.first) || bb.contains(ba.first) {
                        diags.push(reason(
                            "pools-overlap",
                            format!(
                                "CiliumLoadBalancerIPPools {} ({}) and {} ({}) overlap, so Cilium disables every block of the newer of the two until the overlap is removed.",
                                a.name(),
                                ba.text(),
                                b.name(),
                                bb.text()
                            ),
                            &b.obj.meta.origin,
                        ));
                    }
                }
            }
        }
    }
}

/// The pool a Service address belongs to, as `findRangeOfIP` would find
/// it: the first enabled pool (by name) containing it that selects the
/// Service; failing that, any pool containing it (an address assigned
/// before the pool was disabled or its selector changed).
pub(crate) fn pool_of<'p, 'a>(
    pools: &'p [Pool<'a>],
    ip: IpAddr,
    labels: &Labels,
) -> Option<&'p Pool<'a>> {
    pools
        .iter()
        .find(|p| !p.obj.spec.disabled && p.contains(ip) && p.selects(labels))
        .or_else(|| pools.iter().find(|p| p.contains(ip)))
}

/// Whether LB-IPAM assigns addresses to this Service at all.
pub(crate) fn lbipam_serves(svc: &Service) -> bool {
    svc.type_ == "LoadBalancer"
        && match svc.load_balancer_class.as_deref() {
            None => true,
            Some(class) => class == BGP_CLASS || class == L2_CLASS,
        }
}

/// Which families of the cluster are enabled, as far as the inventory
/// shows: IPv6 when some node, pod CIDR or cluster IP is IPv6; IPv4 when
/// one is IPv4, or when nothing tells.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Families {
    pub v4: bool,
    pub v6: bool,
}

impl Families {
    pub fn of(inv: &Inventory) -> Families {
        let mut seen_v4 = false;
        let mut seen_v6 = false;
        let mut see = |ip: IpAddr| {
            if ip.is_ipv6() {
                seen_v6 = true;
            } else {
                seen_v4 = true;
            }
        };
        for node in &inv.nodes {
            node.addresses
                .iter()
                .filter_map(|(_, a)| a.parse::<IpAddr>().ok())
                .for_each(&mut see);
            node.pod_cidrs.iter().map(IpNet::addr).for_each(&mut see);
        }
        for svc in &inv.services {
            svc.cluster_ips.iter().copied().for_each(&mut see);
        }
        Families {
            v4: seen_v4 || !seen_v6,
            v6: seen_v6,
        }
    }

    /// `serviceIPFamilyRequest`: (IPv4 requested, IPv6 requested).
    pub fn requested(&self, svc: &Service) -> (bool, bool) {
        let first_is_v6 = svc.ip_families.first().map(|f| f == "IPv6");
        let has = |fam: &str| svc.ip_families.iter().any(|f| f == fam);
        let single = |first: Option<bool>| match first {
            Some(v6) => (!v6, v6),
            None if self.v4 => (true, false),
            None => (false, self.v6),
        };
        match svc.ip_family_policy.as_deref() {
            Some("PreferDualStack") if !svc.ip_families.is_empty() => {
                (has("IPv4") && self.v4, has("IPv6") && self.v6)
            }
            Some("PreferDualStack") | Some("RequireDualStack") => (self.v4, self.v6),
            _ => single(first_is_v6),
        }
    }
}

/// What the `no_ip` analysis needs besides the pools.
pub(crate) struct IpamState {
    pub families: Families,
    /// Every ingress address and the Services (`namespace/name`) holding it.
    pub holders: BTreeMap<IpAddr, Vec<String>>,
    /// Per pool, the ingress addresses attributed to it.
    pub in_use: BTreeMap<String, BTreeSet<IpAddr>>,
}

const SHARING_KEYS: [&str; 2] = [
    "lbipam.cilium.io/sharing-key",
    "io.cilium/lb-ipam-sharing-key",
];

/// Why a LoadBalancer Service has no address of a family it asks for;
/// `None` when it has every family it asks for.
pub(crate) fn missing_ip_reason(
    svc: &Service,
    labels: &Labels,
    pools: &[Pool<'_>],
    state: &IpamState,
) -> Option<Reason> {
    let key = format!("{}/{}", svc.meta.namespace, svc.meta.name);
    let origin = &svc.meta.origin;
    if let Some(class) = svc.load_balancer_class.as_deref() {
        if class != BGP_CLASS && class != L2_CLASS && svc.ingress_ips.is_empty() {
            return Some(reason(
                "load-balancer-class-other",
                format!(
                    "Service {key} has loadBalancerClass {class}, so Cilium's LB-IPAM leaves it to another controller and Cilium's BGP control plane never advertises it."
                ),
                origin,
            ));
        }
    }
    if !lbipam_serves(svc) {
        return None;
    }
    if pools.is_empty() {
        if !svc.ingress_ips.is_empty() {
            return None;
        }
        return Some(reason(
            "no-pools",
            format!(
                "There is no CiliumLoadBalancerIPPool, so Cilium's LB-IPAM gives Service {key} no address."
            ),
            origin,
        ));
    }
    if !svc.requested_ips.is_empty() {
        let missing: Vec<IpAddr> = svc
            .requested_ips
            .iter()
            .copied()
            .filter(|ip| !svc.ingress_ips.contains(ip))
            .collect();
        return missing
            .first()
            .map(|ip| requested_ip_reason(svc, &key, *ip, labels, pools, state));
    }
    let (want_v4, want_v6) = state.families.requested(svc);
    let has_v4 = svc.ingress_ips.iter().any(IpAddr::is_ipv4);
    let has_v6 = svc.ingress_ips.iter().any(IpAddr::is_ipv6);
    if want_v4 && !has_v4 {
        return Some(family_reason(svc, &key, false, labels, pools, state));
    }
    if want_v6 && !has_v6 {
        return Some(family_reason(svc, &key, true, labels, pools, state));
    }
    None
}

fn requested_ip_reason(
    svc: &Service,
    key: &str,
    ip: IpAddr,
    labels: &Labels,
    pools: &[Pool<'_>],
    state: &IpamState,
) -> Reason {
    let containing: Vec<&Pool<'_>> = pools.iter().filter(|p| p.contains(ip)).collect();
    let usable = containing
        .iter()
        .find(|p| !p.obj.spec.disabled && p.selects(labels));
    if let Some(pool) = usable {
        let others: Vec<&String> = state
            .holders
            .get(&ip)
            .into_iter()
            .flatten()
            .filter(|holder| *holder != key)
            .collect();
        let shares = SHARING_KEYS
            .iter()
            .any(|k| svc.meta.annotations.contains_key(*k));
        if !pool.allocatable(ip) {
            return reason(
                "requested-ip-reserved",
                format!(
                    "Service {key} asks for {ip}, the first or last address of a block of CiliumLoadBalancerIPPool {}, which allowFirstLastIPs: No keeps back.",
                    pool.name()
                ),
                &pool.obj.meta.origin,
            );
        }
        if !others.is_empty() && !shares {
            return reason(
                "requested-ip-in-use",
                format!(
                    "Service {key} asks for {ip}, which Service {} already holds, and it has no lbipam.cilium.io/sharing-key to share it.",
                    others[0]
                ),
                &svc.meta.origin,
            );
        }
        return reason(
            "ip-pending",
            format!(
                "Service {key} asks for {ip} from CiliumLoadBalancerIPPool {}, which could give it, but the Cilium operator has not assigned it yet.",
                pool.name()
            ),
            &svc.meta.origin,
        );
    }
    if let Some(pool) = containing.iter().find(|p| p.selects(labels)) {
        return reason(
            "pool-disabled",
            format!(
                "Service {key} asks for {ip}, which belongs to CiliumLoadBalancerIPPool {}, but that pool is disabled.",
                pool.name()
            ),
            &pool.obj.meta.origin,
        );
    }
    if let Some(pool) = containing.first() {
        return reason(
            "no-pool-selects-service",
            format!(
                "Service {key} ({}) asks for {ip}, but CiliumLoadBalancerIPPool {}, which holds it, {} and so does not serve the Service.",
                selector::describe_labels(labels),
                pool.name(),
                pool.selector_phrase()
            ),
            &pool.obj.meta.origin,
        );
    }
    let ranges: Vec<String> = pools.iter().map(Pool::describe).collect();
    reason(
        "requested-ip-outside-pools",
        format!(
            "Service {key} asks for {ip}, which lies in no CiliumLoadBalancerIPPool ({}).",
            and_list(&ranges)
        ),
        &svc.meta.origin,
    )
}

fn family_reason(
    svc: &Service,
    key: &str,
    v6: bool,
    labels: &Labels,
    pools: &[Pool<'_>],
    state: &IpamState,
) -> Reason {
    let fam = if v6 { "IPv6" } else { "IPv4" };
    let of_family: Vec<&Pool<'_>> = pools.iter().filter(|p| p.has_family(v6)).collect();
    if of_family.is_empty() {
        let code = if v6 { "no-ipv6-pool" } else { "no-ipv4-pool" };
        return reason(
            code,
            format!(
                "Service {key} asks for an {fam} address, but no CiliumLoadBalancerIPPool has an {fam} block."
            ),
            &svc.meta.origin,
        );
    }
    let selecting: Vec<&&Pool<'_>> = of_family.iter().filter(|p| p.selects(labels)).collect();
    if selecting.is_empty() {
        let wants: Vec<String> = of_family
            .iter()
            .map(|p| format!("{} {}", p.name(), p.selector_phrase()))
            .collect();
        let origin = of_family
            .first()
            .map(|p| p.obj.meta.origin.clone())
            .unwrap_or_default();
        return reason(
            "no-pool-selects-service",
            format!(
                "No CiliumLoadBalancerIPPool with {fam} addresses selects Service {key} ({}): {}.",
                selector::describe_labels(labels),
                and_list(&wants)
            ),
            &origin,
        );
    }
    let enabled: Vec<&&&Pool<'_>> = selecting.iter().filter(|p| !p.obj.spec.disabled).collect();
    if enabled.is_empty() {
        let names: Vec<&str> = selecting.iter().map(|p| p.name()).collect();
        return reason(
            "pool-disabled",
            format!(
                "Every CiliumLoadBalancerIPPool that selects Service {key} for {fam} ({}) is disabled.",
                and_list(&names)
            ),
            &selecting[0].obj.meta.origin,
        );
    }
    let empty = BTreeSet::new();
    let full: Vec<String> = enabled
        .iter()
        .filter(|p| p.free(v6, state.in_use.get(p.name()).unwrap_or(&empty)) == 0)
        .map(|p| format!("{} ({} addresses)", p.name(), p.size()))
        .collect();
    if full.len() == enabled.len() {
        return reason(
            "pool-exhausted",
            format!(
                "Every CiliumLoadBalancerIPPool that selects Service {key} for {fam} is full: {}.",
                and_list(&full)
            ),
            &enabled[0].obj.meta.origin,
        );
    }
    reason(
        "ip-pending",
        format!(
            "CiliumLoadBalancerIPPool {} has a free {fam} address for Service {key}, but the Cilium operator has not assigned it yet.",
            enabled[0].name()
        ),
        &svc.meta.origin,
    )
}
