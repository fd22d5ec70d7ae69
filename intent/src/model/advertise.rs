//! What one node advertises to each neighbour, and why it leaves a
//! LoadBalancer address out: the service and pod-CIDR reconcilers of
//! Cilium 1.17, applied to the [`Router`]s of the node.
//!
//! Per Service and address kind, as `ServiceReconciler.svcDesiredRoutes`
//! (`pkg/bgpv1/manager/reconciler/service.go`) and
//! `ServiceReconciler.getServicePrefixes` (`pkg/bgpv1/manager/reconcilerv2/
//! service.go`) decide it, in this order:
//!
//! 1. no selector: nothing (`{}` selects everything);
//! 2. the selector must match the Service's labels plus
//!    `io.kubernetes.service.name`/`namespace`;
//! 3. the address kind must be listed (`serviceAdvertisements`,
//!    `service.addresses`);
//! 4. `LoadBalancerIP`: the Service must be of type LoadBalancer, with
//!    `externalTrafficPolicy: Local` it needs a ready, non-terminating
//!    endpoint on this node (`populateLocalServices`), and its
//!    `loadBalancerClass` must be unset or `io.cilium/bgp-control-plane`;
//!    `ExternalIP`: the same endpoint rule; `ClusterIP`: the rule applies to
//!    `internalTrafficPolicy`, which the inventory does not carry, so
//!    cluster IPs are treated as `Cluster`.
//!
//! In 1.17 a Service with `externalTrafficPolicy: Cluster` is advertised
//! whether or not it has endpoints (withdrawing such Services came with
//! Cilium 1.19). A prefix is a /32 or /128 and goes only to neighbours that
//! have its family (`ipv4`/`ipv6` unicast).

use super::plan::{Api, Cause, Export, Peer, Router, ServiceExport};
use super::pools::BGP_CLASS;
use super::selector::{self, Labels};
use crate::expected::PrefixKind;
use crate::objects::{Inventory, Node, Service};
use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Which nodes have a ready endpoint of which Service.
pub(crate) struct Endpoints {
    ready: BTreeMap<(String, String), BTreeSet<String>>,
}

impl Endpoints {
    /// Indexes the EndpointSlices by their `kubernetes.io/service-name`.
    pub fn of(inv: &Inventory) -> Endpoints {
        let mut ready: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
        for slice in &inv.endpoint_slices {
            let Some(svc) = &slice.service_name else {
                continue;
            };
            let nodes = ready
                .entry((slice.meta.namespace.clone(), svc.clone()))
                .or_default();
            for ep in &slice.endpoints {
                if let (true, Some(node)) = (ep.ready, &ep.node_name) {
                    nodes.insert(node.clone());
                }
            }
        }
        Endpoints { ready }
    }

    /// Whether `svc` has a ready endpoint on `node`.
    pub fn local(&self, svc: &Service, node: &str) -> bool {
        self.ready
            .get(&(svc.meta.namespace.clone(), svc.meta.name.clone()))
            .is_some_and(|nodes| nodes.contains(node))
    }

    /// Nodes with a ready endpoint of `svc`.
    pub fn nodes(&self, svc: &Service) -> Vec<String> {
        self.ready
            .get(&(svc.meta.namespace.clone(), svc.meta.name.clone()))
            .map(|nodes| nodes.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// A Service with the labels Cilium matches it with.
pub(crate) struct Svc<'a> {
    pub svc: &'a Service,
    pub key: String,
    pub labels: Labels,
}

/// What one node does.
#[derive(Default)]
pub(crate) struct NodeOutcome {
    /// Per (router index, peer index), the prefixes sent to that peer.
    pub per_peer: BTreeMap<(usize, usize), BTreeSet<IpNet>>,
    /// What each prefix advertised by the node is.
    pub prefixes: BTreeMap<IpNet, (PrefixKind, Option<usize>)>,
    /// Per LoadBalancer Service (index into the Service list), why some of
    /// its addresses are not advertised by the node.
    pub lb_causes: BTreeMap<usize, BTreeSet<Cause>>,
    /// LoadBalancer Services with at least one address advertised.
    pub lb_advertised: BTreeSet<usize>,
}

impl NodeOutcome {
    fn add(
        &mut self,
        router: usize,
        peer: usize,
        net: IpNet,
        kind: PrefixKind,
        svc: Option<usize>,
    ) {
        self.per_peer.entry((router, peer)).or_default().insert(net);
        self.prefixes.entry(net).or_insert((kind, svc));
    }
}

/// Evaluates every Service and the node's pod CIDRs against the routers.
pub(crate) fn evaluate(
    node: &Node,
    routers: &[Router],
    svcs: &[Svc<'_>],
    eps: &Endpoints,
) -> NodeOutcome {
    let mut out = NodeOutcome::default();
    for (ri, router) in routers.iter().enumerate() {
        for (pi, peer) in router.peers.iter().enumerate() {
            for fam in &peer.families {
                if !fam.exports.iter().any(|e| matches!(e, Export::PodCidr)) {
                    continue;
                }
                for cidr in &node.pod_cidrs {
                    if fam.carries(cidr.addr()) {
                        out.add(ri, pi, cidr.trunc(), PrefixKind::PodCidr, None);
                    }
                }
            }
        }
    }
    for (si, s) in svcs.iter().enumerate() {
        let local = eps.local(s.svc, &node.meta.name);
        let kinds = [
            (PrefixKind::LoadBalancerIp, &s.svc.ingress_ips),
            (PrefixKind::ExternalIp, &s.svc.external_ips),
            (PrefixKind::ClusterIp, &s.svc.cluster_ips),
        ];
        for (kind, ips) in kinds {
            for ip in ips.iter().copied() {
                let mut causes = BTreeSet::new();
                let mut hit = false;
                for (ri, router) in routers.iter().enumerate() {
                    if router.peers.is_empty() {
                        causes.insert(Cause {
                            code: "router-no-neighbors",
                            text: format!(
                                "{} has no usable neighbor, so it advertises nothing",
                                router.label
                            ),
                            origin: router.origin.clone(),
                        });
                    }
                    for (pi, peer) in router.peers.iter().enumerate() {
                        if peer_exports(router, peer, s, kind, ip, local, &mut causes) {
                            out.add(ri, pi, host(ip), kind, Some(si));
                            hit = true;
                        }
                    }
                }
                if kind == PrefixKind::LoadBalancerIp && s.svc.type_ == "LoadBalancer" {
                    if hit {
                        out.lb_advertised.insert(si);
                    } else {
                        if causes.is_empty() {
                            causes.insert(Cause {
                                code: "no-router",
                                text: "the BGP policy of the node configures no BGP router, so the node advertises nothing".to_string(),
                                origin: Default::default(),
                            });
                        }
                        out.lb_causes.entry(si).or_default().extend(causes);
                    }
                }
            }
        }
    }
    out
}

/// Whether `peer` receives `ip`; collects why not.
fn peer_exports(
    router: &Router,
    peer: &Peer,
    s: &Svc<'_>,
    kind: PrefixKind,
    ip: IpAddr,
    local: bool,
    causes: &mut BTreeSet<Cause>,
) -> bool {
    let mut wrong_family: Option<&ServiceExport> = None;
    let mut mine = BTreeSet::new();
    for fam in &peer.families {
        let mut any = false;
        for export in &fam.exports {
            let Export::Services(e) = export else {
                continue;
            };
            any = true;
            match check(e, s, kind, local) {
                Ok(()) if fam.carries(ip) => return true,
                Ok(()) => wrong_family = wrong_family.or(Some(e)),
                Err(cause) => {
                    mine.insert(cause);
                }
            }
        }
        if !any && fam.safi == "unicast" {
            if let Some(cause) = &fam.no_service_cause {
                mine.insert(cause.clone());
            }
        }
    }
    if let Some(e) = wrong_family {
        let fam = if ip.is_ipv6() {
            "ipv6-unicast"
        } else {
            "ipv4-unicast"
        };
        mine.insert(Cause {
            code: "family-not-negotiated",
            text: format!(
                "{} would send {ip} of Service {} to {}, but that neighbor is not configured for the {fam} family",
                e.label, s.key, peer.label
            ),
            origin: router.origin.clone(),
        });
    }
    causes.extend(mine);
    false
}

fn host(ip: IpAddr) -> IpNet {
    IpNet::from(ip)
}

fn address_name(kind: PrefixKind) -> &'static str {
    match kind {
        PrefixKind::LoadBalancerIp => "LoadBalancerIP",
        PrefixKind::ExternalIp => "ExternalIP",
        PrefixKind::ClusterIp => "ClusterIP",
        PrefixKind::PodCidr => "PodCIDR",
    }
}

/// Whether one Service export selects `s` for `kind` on a node where the
/// Service has (`local`) or has no ready endpoint.
fn check(e: &ServiceExport, s: &Svc<'_>, kind: PrefixKind, local: bool) -> Result<(), Cause> {
    let key = &s.key;
    let (unset, no_match, exclude, field, selector_field) = match e.api {
        Api::Legacy => (
            "service-selector-unset",
            "service-selector-no-match",
            "service-advertisements-exclude-lb",
            "serviceAdvertisements",
            "serviceSelector",
        ),
        Api::Advertisement => (
            "advertisement-selector-unset",
            "advertisement-selector-no-match",
            "advertisement-addresses-exclude-lb",
            "service.addresses",
            "selector",
        ),
    };
    let cause = |code: &'static str, text: String, origin: &crate::objects::Origin| Cause {
        code,
        text,
        origin: origin.clone(),
    };
    let Some(sel) = &e.selector else {
        let text = match e.api {
            Api::Legacy => format!(
                "{} has no serviceSelector, so it advertises no Service",
                e.label
            ),
            Api::Advertisement => {
                format!("{} has no selector, so it advertises no Service", e.label)
            }
        };
        return Err(cause(unset, text, &e.origin));
    };
    if let Some(why) = selector::invalid(sel) {
        return Err(cause(
            "selector-invalid",
            format!(
                "{} has an invalid selector ({why}), so it advertises no Service",
                e.label
            ),
            &e.origin,
        ));
    }
    if !selector::matches(sel, &s.labels) {
        return Err(cause(
            no_match,
            format!(
                "{} has a {selector_field} that selects only Services matching {}, and Service {key} ({}) does not match, so it does not advertise it",
                e.label,
                selector::describe(sel),
                selector::describe_labels(&s.labels)
            ),
            &e.origin,
        ));
    }
    let wanted = address_name(kind);
    if !e.addresses.iter().any(|a| a == wanted) {
        let code = if kind == PrefixKind::LoadBalancerIp {
            exclude
        } else {
            "service-advertisements-exclude-kind"
        };
        let text = if e.addresses.is_empty() {
            format!(
                "{} has an empty {field} list, so it advertises no Service address",
                e.label
            )
        } else {
            format!(
                "{} lists only {} in {field}, not {wanted}, so it does not advertise the Service's {wanted} addresses",
                e.label,
                e.addresses.join(", ")
            )
        };
        return Err(cause(code, text, &e.origin));
    }
    let svc = s.svc;
    let needs_local = matches!(kind, PrefixKind::LoadBalancerIp | PrefixKind::ExternalIp)
        && svc.external_traffic_local;
    if kind == PrefixKind::LoadBalancerIp && svc.type_ != "LoadBalancer" {
        return Err(cause(
            "not-load-balancer",
            format!("Service {key} is of type {}, not LoadBalancer", svc.type_),
            &svc.meta.origin,
        ));
    }
    if needs_local && !local {
        return Err(cause(
            "no-ready-local-endpoint",
            format!(
                "Service {key} has externalTrafficPolicy Local and no ready endpoint there, so Cilium does not advertise it from there"
            ),
            &svc.meta.origin,
        ));
    }
    if kind == PrefixKind::LoadBalancerIp {
        if let Some(class) = svc
            .load_balancer_class
            .as_deref()
            .filter(|c| *c != BGP_CLASS)
        {
            return Err(cause(
                "load-balancer-class-other",
                format!(
                    "Service {key} has loadBalancerClass {class}, and Cilium's BGP control plane only advertises Services without a class or with {BGP_CLASS}"
                ),
                &svc.meta.origin,
            ));
        }
    }
    Ok(())
}
