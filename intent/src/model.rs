//! The expected routing state of a cluster, computed from its
//! [`Inventory`] with Cilium 1.17's own semantics: [`expect`].
//!
//! The work is split the way Cilium splits it:
//!
//! - [`selector`]: label selectors (`LabelSelectorAsSelector`), including
//!   the `io.kubernetes.service.*` labels Cilium adds to every Service;
//! - [`pools`]: LB-IPAM (`operator/pkg/lbipam`): pool ranges and sizes,
//!   which pool each Service address comes from, why a Service has none;
//! - [`nodes`]: which `CiliumBGPPeeringPolicy` or `CiliumBGPClusterConfig`
//!   applies to each node (`pkg/bgpv1/agent/controller.go`,
//!   `operator/pkg/bgpv2/cluster.go`);
//! - [`legacy`] and [`cluster_config`]: the routers and neighbours those
//!   objects give a node, in the common shape of [`plan`];
//! - [`advertise`]: the service and pod-CIDR reconcilers: which prefix each
//!   node sends to each neighbour, and why a LoadBalancer address is left
//!   out.
//!
//! A note on selectors, since the home cluster's outage turned on them: a
//! virtual router whose `serviceSelector` is absent advertises no Service
//! at all, while `serviceSelector: {}` advertises every Service (Cilium's
//! slim `LabelSelectorAsSelector` maps an empty selector to
//! `labels.Everything()`). The `NotIn never-used-value` expression that
//! older Cilium documentation recommends also selects every Service, since
//! `NotIn` holds for objects without the key. A selector that matches only
//! one pool's Services leaves every other pool unadvertised, which the
//! `service-selector-no-match` reasons name.

mod advertise;
mod cluster_config;
mod legacy;
mod nodes;
mod plan;
mod pools;
mod selector;
#[cfg(test)]
mod tests;

use crate::expected::{
    Expected, NeighborIntent, NodeIntent, PoolIntent, PrefixIntent, PrefixKind, Reason,
    ServiceIntent,
};
use crate::objects::{Inventory, Node};
use advertise::{Endpoints, NodeOutcome, Svc};
use plan::{capitalize, nodes_phrase, reason, Cause, Router};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Computes what the cluster described by `inv` must advertise over BGP,
/// by which node, to which neighbour, and why anything else is not.
pub fn expect(inv: &Inventory) -> Expected {
    let mut diags: Vec<Reason> = Vec::new();

    let pools = pools::build(inv, &mut diags);
    cluster_config::object_diagnostics(inv, &mut diags);
    let legacy_routers: Vec<Vec<Router>> = inv
        .peering_policies
        .iter()
        .map(|p| {
            selector_diagnostic(
                p.spec.node_selector.as_ref(),
                &format!("The nodeSelector of CiliumBGPPeeringPolicy {}", p.meta.name),
                &p.meta.origin,
                &mut diags,
            );
            legacy::routers(p, &mut diags)
        })
        .collect();
    let v2_routers: Vec<Vec<Router>> = inv
        .cluster_configs
        .iter()
        .map(|c| {
            selector_diagnostic(
                c.spec.node_selector.as_ref(),
                &format!("The nodeSelector of CiliumBGPClusterConfig {}", c.meta.name),
                &c.meta.origin,
                &mut diags,
            );
            cluster_config::routers(c, inv, &mut diags)
        })
        .collect();

    let mut services: Vec<Svc<'_>> = inv
        .services
        .iter()
        .map(|svc| Svc {
            svc,
            key: format!("{}/{}", svc.meta.namespace, svc.meta.name),
            labels: selector::service_labels(svc),
        })
        .collect();
    services.sort_by(|a, b| a.key.cmp(&b.key));
    let eps = Endpoints::of(inv);

    let mut node_list: Vec<&Node> = inv.nodes.iter().collect();
    node_list.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
    let mut node_intents = Vec::new();
    let mut outcomes: Vec<(&Node, NodeOutcome)> = Vec::new();
    for node in node_list {
        let (policy, routers, no_bgp): (Option<String>, &[Router], Option<Reason>) =
            match nodes::select(node, inv, &mut diags) {
                nodes::Selection::Legacy(i) => (
                    Some(inv.peering_policies[i].meta.name.clone()),
                    &legacy_routers[i],
                    None,
                ),
                nodes::Selection::ClusterConfig(i) => (
                    Some(inv.cluster_configs[i].meta.name.clone()),
                    &v2_routers[i],
                    None,
                ),
                nodes::Selection::None(why) => (None, &[], Some(why)),
            };
        let outcome = advertise::evaluate(node, routers, &services, &eps);
        let mut neighbors: Vec<NeighborIntent> = Vec::new();
        for (ri, router) in routers.iter().enumerate() {
            for (pi, peer) in router.peers.iter().enumerate() {
                neighbors.push(NeighborIntent {
                    router: router.name.clone(),
                    local_asn: router.local_asn,
                    address: peer.address,
                    asn: peer.asn,
                    port: peer.port,
                    families: peer.families.iter().map(|f| f.name()).collect(),
                    prefixes: outcome.per_peer.get(&(ri, pi)).cloned().unwrap_or_default(),
                });
            }
        }
        neighbors.sort_by(|a, b| (&a.router, a.address, a.asn).cmp(&(&b.router, b.address, b.asn)));
        let runs_bgp = no_bgp.is_none();
        node_intents.push(NodeIntent {
            name: node.meta.name.clone(),
            addresses: node_addresses(node),
            ready: node.ready,
            policy,
            neighbors,
            no_bgp,
        });
        if runs_bgp {
            outcomes.push((node, outcome));
        }
    }

    let mut prefixes = build_prefixes(&outcomes, &services);
    let bgp_nodes = outcomes.len();

    // Pools and Services.
    let mut in_use: BTreeMap<String, BTreeSet<IpAddr>> = BTreeMap::new();
    let mut pool_services: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut holders: BTreeMap<IpAddr, Vec<String>> = BTreeMap::new();
    let mut service_pools: Vec<BTreeMap<IpAddr, String>> = Vec::new();
    for s in &services {
        let mut map = BTreeMap::new();
        for ip in s.svc.ingress_ips.iter().copied() {
            holders.entry(ip).or_default().push(s.key.clone());
            match pools::pool_of(&pools, ip, &s.labels) {
                Some(pool) => {
                    in_use.entry(pool.name().to_string()).or_default().insert(ip);
                    pool_services
                        .entry(pool.name().to_string())
                        .or_default()
                        .insert(s.key.clone());
                    map.insert(ip, pool.name().to_string());
                }
                None if pools::lbipam_serves(s.svc) && !pools.is_empty() => diags.push(reason(
                    "ingress-ip-outside-pools",
                    format!(
                        "Service {} holds {ip}, which lies in no CiliumLoadBalancerIPPool; Cilium's LB-IPAM removes such an address when it next handles the Service.",
                        s.key
                    ),
                    &s.svc.meta.origin,
                )),
                None => {}
            }
        }
        service_pools.push(map);
    }
    for entry in prefixes.values_mut() {
        if entry.kind == PrefixKind::LoadBalancerIp {
            let owner = services
                .iter()
                .position(|s| Some(&s.key) == entry.service.as_ref());
            entry.pool = owner.and_then(|i| service_pools[i].get(&entry.prefix.addr()).cloned());
        }
    }
    let state = pools::IpamState {
        families: pools::Families::of(inv),
        holders,
        in_use,
    };

    let mut service_intents = Vec::new();
    for (si, s) in services.iter().enumerate() {
        let svc = s.svc;
        if svc.type_ != "LoadBalancer" {
            continue;
        }
        let missing = pools::missing_ip_reason(svc, &s.labels, &pools, &state);
        let no_ip = if svc.ingress_ips.is_empty() {
            missing
        } else {
            if let Some(why) = missing {
                diags.push(why);
            }
            None
        };
        if svc.external_traffic_local
            && (svc.meta.labels.contains_key("cilium.io/ingress")
                || svc
                    .meta
                    .labels
                    .contains_key("io.cilium.gateway/owning-gateway"))
        {
            diags.push(reason(
                "cilium-ingress-etp-local",
                format!(
                    "Service {} belongs to Cilium's Ingress or Gateway API and has externalTrafficPolicy Local, but its endpoints are placeholders that run on no node, so Cilium's BGP control plane advertises it from no node.",
                    s.key
                ),
                &svc.meta.origin,
            ));
        }
        let advertised_by: BTreeSet<String> = outcomes
            .iter()
            .filter(|(_, o)| o.lb_advertised.contains(&si))
            .map(|(n, _)| n.meta.name.clone())
            .collect();
        let not_advertised = if svc.ingress_ips.is_empty() {
            Vec::new()
        } else {
            not_advertised(s, si, &outcomes, bgp_nodes, inv, &eps)
        };
        service_intents.push(ServiceIntent {
            namespace: svc.meta.namespace.clone(),
            name: svc.meta.name.clone(),
            ips: svc.ingress_ips.clone(),
            pools: service_pools[si].clone(),
            ports: svc.ports.clone(),
            external_traffic_local: svc.external_traffic_local,
            advertised_by,
            not_advertised,
            no_ip,
            origin: svc.meta.origin.clone(),
        });
    }

    let pool_intents = pools
        .iter()
        .map(|p| {
            let used = state.in_use.get(p.name()).cloned().unwrap_or_default();
            let expected = used
                .iter()
                .copied()
                .filter(|ip| prefixes.contains_key(&ipnet::IpNet::from(*ip)))
                .collect();
            PoolIntent {
                name: p.name().to_string(),
                disabled: p.obj.spec.disabled,
                ranges: p.blocks.iter().map(|b| (b.first, b.last)).collect(),
                size: p.size(),
                in_use: used,
                services: pool_services.get(p.name()).cloned().unwrap_or_default(),
                expected,
                origin: p.obj.meta.origin.clone(),
            }
        })
        .collect();

    diags.sort();
    diags.dedup();
    Expected {
        nodes: node_intents,
        pools: pool_intents,
        services: service_intents,
        prefixes,
        diagnostics: diags,
    }
}

fn selector_diagnostic(
    sel: Option<&crate::objects::LabelSelector>,
    what: &str,
    origin: &crate::objects::Origin,
    diags: &mut Vec<Reason>,
) {
    if let Some(why) = sel.and_then(selector::invalid) {
        diags.push(reason(
            "selector-invalid",
            format!("{what} is invalid ({why}), so it selects no node."),
            origin,
        ));
    }
}

/// InternalIP addresses first, then ExternalIP, as `NodeIntent` wants.
fn node_addresses(node: &Node) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for wanted in ["InternalIP", "ExternalIP"] {
        for (kind, addr) in &node.addresses {
            if kind == wanted {
                if let Ok(ip) = addr.parse::<IpAddr>() {
                    if !out.contains(&ip) {
                        out.push(ip);
                    }
                }
            }
        }
    }
    out
}

/// The address the node's sessions for `prefix`'s family come from.
fn next_hop(node: &Node, v6: bool) -> Option<IpAddr> {
    let addrs = node_addresses(node);
    addrs
        .iter()
        .copied()
        .find(|a| a.is_ipv6() == v6)
        .or_else(|| addrs.first().copied())
}

fn build_prefixes(
    outcomes: &[(&Node, NodeOutcome)],
    services: &[Svc<'_>],
) -> BTreeMap<ipnet::IpNet, PrefixIntent> {
    let mut out: BTreeMap<ipnet::IpNet, PrefixIntent> = BTreeMap::new();
    for (node, outcome) in outcomes {
        let announced: BTreeSet<ipnet::IpNet> =
            outcome.per_peer.values().flatten().copied().collect();
        for net in announced {
            let Some((kind, svc)) = outcome.prefixes.get(&net) else {
                continue;
            };
            let entry = out.entry(net).or_insert_with(|| PrefixIntent {
                prefix: net,
                kind: *kind,
                service: svc.map(|i| services[i].key.clone()),
                pool: None,
                nodes: BTreeSet::new(),
                next_hops: BTreeSet::new(),
            });
            entry.nodes.insert(node.meta.name.clone());
            if let Some(hop) = next_hop(node, net.addr().is_ipv6()) {
                entry.next_hops.insert(hop);
            }
        }
    }
    out
}

/// Why BGP nodes leave a LoadBalancer Service's addresses out, one reason
/// per cause, naming the nodes it applies on.
fn not_advertised(
    s: &Svc<'_>,
    si: usize,
    outcomes: &[(&Node, NodeOutcome)],
    bgp_nodes: usize,
    inv: &Inventory,
    eps: &Endpoints,
) -> Vec<Reason> {
    let svc = s.svc;
    if let Some(class) = svc
        .load_balancer_class
        .as_deref()
        .filter(|c| *c != pools::BGP_CLASS)
    {
        return vec![reason(
            "load-balancer-class-other",
            format!(
                "Service {} has loadBalancerClass {class}, and Cilium's BGP control plane only advertises Services without a class or with {}.",
                s.key,
                pools::BGP_CLASS
            ),
            &svc.meta.origin,
        )];
    }
    if bgp_nodes == 0 {
        let why = if inv.nodes.is_empty() {
            "the inventory has no node".to_string()
        } else {
            "no CiliumBGPPeeringPolicy or CiliumBGPClusterConfig applies to any node".to_string()
        };
        return vec![reason(
            "no-bgp-node",
            format!(
                "No node runs BGP ({why}), so no node advertises Service {}.",
                s.key
            ),
            &svc.meta.origin,
        )];
    }
    let mut by_cause: BTreeMap<&Cause, Vec<&str>> = BTreeMap::new();
    for (node, outcome) in outcomes {
        for cause in outcome.lb_causes.get(&si).into_iter().flatten() {
            by_cause.entry(cause).or_default().push(&node.meta.name);
        }
    }
    let mut out: Vec<Reason> = by_cause
        .into_iter()
        .map(|(cause, nodes)| {
            let mut message = format!("On {}, {}", nodes_phrase(&nodes), cause.text);
            if cause.code == "no-ready-local-endpoint" {
                let ready = eps.nodes(svc);
                if ready.is_empty() {
                    message.push_str(" (no node has a ready endpoint of it)");
                } else {
                    message.push_str(&format!(
                        " (its ready endpoints run on {})",
                        plan::and_list(&ready)
                    ));
                }
            }
            message.push('.');
            reason(cause.code, capitalize(&message), &cause.origin)
        })
        .collect();
    out.sort();
    out
}
