//! What a GitOps tree leaves to the cluster, filled in so that the model
//! can predict the result of applying it. Manifests carry no Nodes, no
//! EndpointSlices and no `status`, so before `bgp_intent::model::expect`
//! runs, `lint` assumes:
//!
//! - **Nodes** (only when the tree has none): one ready node per
//!   `CiliumBGPPeeringPolicy` and per `CiliumBGPClusterConfig`, labelled
//!   like a kubelet does (`kubernetes.io/os: linux`, `kubernetes.io/arch`,
//!   `kubernetes.io/hostname`) plus what the policy's `nodeSelector` asks
//!   for (`matchLabels`, the first value of an `In`, a present key for
//!   `Exists`), so each policy configures the node it is meant for; one
//!   such node when there is no policy at all. Addresses come from the
//!   documentation ranges (192.0.2.0/24, and 2001:db8::/64 when a pool has
//!   IPv6 blocks) and are never contacted.
//! - **Endpoints**: a Service with `externalTrafficPolicy: Local` has a
//!   ready endpoint on every node, unless it belongs to Cilium's Ingress or
//!   Gateway API, whose endpoints are placeholders on no node.
//! - **Addresses** (LB-IPAM): every LoadBalancer Service without
//!   `status.loadBalancer.ingress` gets what Cilium's operator would give
//!   it, Services in namespace/name order: the addresses it requests
//!   (annotation or `loadBalancerIP`), else the lowest free address of the
//!   first pool (by name) that serves it, first of its first IP family.
//!   Whether a pool serves it (selector, disabled, conflicts, reserved
//!   first/last addresses) is asked of the model itself, so the simulation
//!   and the prediction cannot disagree: a candidate is good when the model
//!   calls a request for it `ip-pending`, i.e. assignable.

use bgp_intent::model::expect;
use bgp_intent::objects::{
    Endpoint, EndpointSlice, Inventory, LabelSelector, Meta, Node, Origin, Service,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The reason code of an address the operator could assign but has not.
const PENDING: &str = "ip-pending";
/// Rounds of assignment (a dual-stack Service takes two).
const ROUNDS: usize = 4;
/// Addresses of one range tried before giving up on it (reserved first and
/// last addresses are skipped this way).
const TRIES_PER_RANGE: usize = 3;

/// What was assumed, for the output.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Assumptions {
    /// Nodes made up: name and labels.
    pub nodes: Vec<AssumedNode>,
    /// Services given endpoints on every node (externalTrafficPolicy Local).
    pub local_endpoints: Vec<String>,
    /// Addresses given: `namespace/name` → addresses.
    pub addresses: BTreeMap<String, Vec<IpAddr>>,
}

/// A node `lint` made up.
#[derive(Debug, Clone, Serialize)]
pub struct AssumedNode {
    pub name: String,
    /// The policy it was made for, if any.
    pub for_policy: Option<String>,
    pub labels: BTreeMap<String, String>,
}

/// Fills in `inv` as described in the module documentation.
pub fn complete(inv: &mut Inventory) -> Assumptions {
    let mut a = Assumptions::default();
    if inv.nodes.is_empty() {
        add_nodes(inv, &mut a);
    }
    add_endpoints(inv, &mut a);
    assign_addresses(inv, &mut a);
    a
}

fn is_cilium_ingress(svc: &Service) -> bool {
    svc.meta.labels.contains_key("cilium.io/ingress")
        || svc
            .meta
            .labels
            .contains_key("io.cilium.gateway/owning-gateway")
}

/// Labels that make `sel` match (as far as one set of labels can).
fn satisfy(sel: Option<&LabelSelector>, labels: &mut BTreeMap<String, String>) {
    let Some(sel) = sel else { return };
    for (k, v) in sel.match_labels.iter().flatten() {
        labels.insert(k.clone(), v.clone());
    }
    for req in sel.match_expressions.iter().flatten() {
        match req.operator.as_str() {
            "In" => {
                if let Some(v) = req.values.as_ref().and_then(|v| v.first()) {
                    labels.insert(req.key.clone(), v.clone());
                }
            }
            "Exists" => {
                labels
                    .entry(req.key.clone())
                    .or_insert_with(|| "true".into());
            }
            "NotIn" => {
                let bad = req.values.clone().unwrap_or_default();
                if labels.get(&req.key).is_some_and(|v| bad.contains(v)) {
                    labels.remove(&req.key);
                }
            }
            "DoesNotExist" => {
                labels.remove(&req.key);
            }
            _ => {}
        }
    }
}

fn add_nodes(inv: &mut Inventory, a: &mut Assumptions) {
    let dual = inv.pools.iter().any(|p| {
        p.spec.blocks.iter().chain(&p.spec.cidrs).any(|b| {
            [&b.cidr, &b.start]
                .iter()
                .any(|x| x.as_deref().is_some_and(|t| t.contains(':')))
        })
    });
    let mut wanted: Vec<(Option<String>, Option<LabelSelector>)> = Vec::new();
    for p in &inv.peering_policies {
        wanted.push((
            Some(format!("CiliumBGPPeeringPolicy {}", p.meta.name)),
            p.spec.node_selector.clone(),
        ));
    }
    for c in &inv.cluster_configs {
        wanted.push((
            Some(format!("CiliumBGPClusterConfig {}", c.meta.name)),
            c.spec.node_selector.clone(),
        ));
    }
    if wanted.is_empty() {
        wanted.push((None, None));
    }
    for (i, (policy, sel)) in wanted.into_iter().enumerate() {
        let n = i + 1;
        let name = format!("assumed-node-{n}");
        let mut labels: BTreeMap<String, String> = [
            ("kubernetes.io/os", "linux"),
            ("kubernetes.io/arch", "amd64"),
            ("kubernetes.io/hostname", name.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        satisfy(sel.as_ref(), &mut labels);
        let low = u8::try_from(n.min(250)).unwrap_or(250) + 4;
        let mut addresses = vec![(
            "InternalIP".to_string(),
            Ipv4Addr::new(192, 0, 2, low).to_string(),
        )];
        if dual {
            addresses.push((
                "InternalIP".to_string(),
                Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(low)).to_string(),
            ));
        }
        a.nodes.push(AssumedNode {
            name: name.clone(),
            for_policy: policy,
            labels: labels.clone(),
        });
        inv.nodes.push(Node {
            meta: Meta {
                name,
                labels,
                ..Meta::default()
            },
            addresses,
            ready: true,
            pod_cidrs: Vec::new(),
        });
    }
}

fn add_endpoints(inv: &mut Inventory, a: &mut Assumptions) {
    let have: BTreeSet<(String, String)> = inv
        .endpoint_slices
        .iter()
        .filter_map(|s| Some((s.meta.namespace.clone(), s.service_name.clone()?)))
        .collect();
    let nodes: Vec<String> = inv.nodes.iter().map(|n| n.meta.name.clone()).collect();
    let mut slices = Vec::new();
    for svc in &inv.services {
        let key = (svc.meta.namespace.clone(), svc.meta.name.clone());
        if svc.type_ != "LoadBalancer"
            || !svc.external_traffic_local
            || is_cilium_ingress(svc)
            || have.contains(&key)
        {
            continue;
        }
        a.local_endpoints
            .push(format!("{}/{}", svc.meta.namespace, svc.meta.name));
        slices.push(EndpointSlice {
            meta: Meta {
                name: format!("{}-assumed", svc.meta.name),
                namespace: svc.meta.namespace.clone(),
                origin: Origin::default(),
                ..Meta::default()
            },
            service_name: Some(svc.meta.name.clone()),
            endpoints: nodes
                .iter()
                .enumerate()
                .map(|(i, n)| Endpoint {
                    addresses: vec![format!("198.51.100.{}", i + 1)],
                    ready: true,
                    node_name: Some(n.clone()),
                })
                .collect(),
        });
    }
    inv.endpoint_slices.extend(slices);
}

/// The address after `ip`, if any.
fn next(ip: IpAddr) -> Option<IpAddr> {
    match ip {
        IpAddr::V4(v) => u32::from(v).checked_add(1).map(|n| IpAddr::V4(n.into())),
        IpAddr::V6(v) => u128::from(v).checked_add(1).map(|n| IpAddr::V6(n.into())),
    }
}

/// Whether the model, given only the pools and `svc` requesting `ip`,
/// says the operator may assign it.
fn assignable(pools_only: &Inventory, svc: &Service, ip: IpAddr) -> bool {
    let mut trial = pools_only.clone();
    let mut s = svc.clone();
    s.requested_ips = vec![ip];
    s.ingress_ips.clear();
    trial.services = vec![s];
    let ex = expect(&trial);
    ex.services
        .first()
        .and_then(|s| s.no_ip.as_ref())
        .is_some_and(|r| r.code == PENDING)
}

fn assign_addresses(inv: &mut Inventory, a: &mut Assumptions) {
    let mut order: Vec<usize> = (0..inv.services.len()).collect();
    order.sort_by(|&x, &y| {
        let (a, b) = (&inv.services[x].meta, &inv.services[y].meta);
        (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name))
    });
    let pools_only = Inventory {
        pools: inv.pools.clone(),
        ..Inventory::default()
    };
    let mut taken: BTreeSet<IpAddr> = inv
        .services
        .iter()
        .flat_map(|s| s.ingress_ips.iter().copied())
        .collect();
    for _ in 0..ROUNDS {
        let ex = expect(inv);
        let pending: BTreeSet<(String, String)> = ex
            .services
            .iter()
            .filter(|s| s.no_ip.as_ref().is_some_and(|r| r.code == PENDING))
            .map(|s| (s.namespace.clone(), s.name.clone()))
            .collect();
        let mut progress = false;
        for &i in &order {
            let svc = &inv.services[i];
            if !pending.contains(&(svc.meta.namespace.clone(), svc.meta.name.clone())) {
                continue;
            }
            let shares = [
                "lbipam.cilium.io/sharing-key",
                "io.cilium/lb-ipam-sharing-key",
            ]
            .iter()
            .any(|k| svc.meta.annotations.contains_key(*k));
            let pick = if svc.requested_ips.is_empty() {
                free_address(&pools_only, &ex.pools, svc, &taken)
            } else {
                svc.requested_ips
                    .iter()
                    .copied()
                    .find(|ip| !svc.ingress_ips.contains(ip))
                    .filter(|ip| shares || !taken.contains(ip))
            };
            if let Some(ip) = pick {
                let key = format!("{}/{}", svc.meta.namespace, svc.meta.name);
                a.addresses.entry(key).or_default().push(ip);
                inv.services[i].ingress_ips.push(ip);
                taken.insert(ip);
                progress = true;
            }
        }
        if !progress {
            break;
        }
    }
}

/// The lowest free address the operator would give `svc` next: its first
/// family first (the family it lacks, once it has one).
fn free_address(
    pools_only: &Inventory,
    pools: &[bgp_intent::expected::PoolIntent],
    svc: &Service,
    taken: &BTreeSet<IpAddr>,
) -> Option<IpAddr> {
    let has_v4 = svc.ingress_ips.iter().any(IpAddr::is_ipv4);
    let has_v6 = svc.ingress_ips.iter().any(IpAddr::is_ipv6);
    let v6_first = svc.ip_families.first().is_some_and(|f| f == "IPv6");
    let families: Vec<bool> = match (has_v4, has_v6) {
        (true, _) => vec![true],
        (false, true) => vec![false],
        (false, false) if v6_first => vec![true, false],
        (false, false) => vec![false, true],
    };
    for v6 in families {
        for pool in pools.iter().filter(|p| !p.disabled) {
            for &(first, last) in pool.ranges.iter().filter(|(f, _)| f.is_ipv6() == v6) {
                let mut ip = Some(first);
                let mut tries = 0;
                while let Some(cand) = ip {
                    if cand > last || tries == TRIES_PER_RANGE {
                        break;
                    }
                    if !taken.contains(&cand) {
                        tries += 1;
                        if assignable(pools_only, svc, cand) {
                            return Some(cand);
                        }
                    }
                    ip = next(cand);
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use bgp_intent::objects::LabelSelectorRequirement;

    #[test]
    fn labels_that_satisfy_a_selector() {
        let sel = LabelSelector {
            match_labels: Some([("bgp".to_string(), "on".to_string())].into()),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "zone".into(),
                    operator: "In".into(),
                    values: Some(vec!["a".into(), "b".into()]),
                },
                LabelSelectorRequirement {
                    key: "kubernetes.io/os".into(),
                    operator: "NotIn".into(),
                    values: Some(vec!["linux".into()]),
                },
                LabelSelectorRequirement {
                    key: "gpu".into(),
                    operator: "Exists".into(),
                    values: None,
                },
            ]),
        };
        let mut labels: BTreeMap<String, String> =
            [("kubernetes.io/os".to_string(), "linux".to_string())].into();
        satisfy(Some(&sel), &mut labels);
        let got: Vec<(&str, &str)> = labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(got, [("bgp", "on"), ("gpu", "true"), ("zone", "a")]);
    }

    #[test]
    fn next_addresses() {
        assert_eq!(
            next("10.0.0.255".parse().unwrap()),
            Some("10.0.1.0".parse().unwrap())
        );
        assert_eq!(next("255.255.255.255".parse().unwrap()), None);
        assert_eq!(
            next("fd00::ffff".parse().unwrap()),
            Some("fd00::1:0".parse().unwrap())
        );
    }
}
