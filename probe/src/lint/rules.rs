//! From the model's prediction to lint findings, each with the file and
//! line to change.
//!
//! - `pool-not-advertised` (critical): a pool whose addresses Services will
//!   hold and that no node will advertise; the causes are the reasons the
//!   model gives for its Services (e.g. `service-selector-no-match` at the
//!   virtual router's `serviceSelector`).
//! - `service-not-advertised` (critical when by no node, warning when by
//!   some) and `service-without-ip` (warning): per Service, with the
//!   model's reasons; a Service no pool serves is located at its pool label.
//! - The model's diagnostics of the intent itself (overlapping pools,
//!   duplicate local ASNs, neighbours differing between virtual routers,
//!   eTP=Local on Cilium's Ingress/Gateway Services, ...): warnings, under
//!   their own codes.
//! - `ipv6-family-missing` (warning): pools hand out IPv6 addresses and no
//!   BGP neighbour carries ipv6-unicast.
//! - `selector-selects-everything` (info): a `serviceSelector: {}` (or a
//!   CiliumBGPAdvertisement `selector: {}`), which Cilium reads as "every
//!   Service"; with `same-outage-cause` notes naming what would really
//!   leave a pool unadvertised, and whether the tree has it.
//! - `etp-local` (info): a Service with `externalTrafficPolicy: Local`,
//!   advertised only by nodes with a ready endpoint (lint assumes every
//!   node has one).

use super::locate::{Location, Locator};
use super::simulate::Assumptions;
use bgp_intent::expected::{Expected, ServiceIntent};
use bgp_intent::objects::{Inventory, LabelSelector};
use bgp_intent::Reason;
use bgpd::verify::Severity;
use serde::Serialize;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// The `loadBalancerClass` Cilium's BGP control plane advertises.
const BGP_CLASS: &str = "io.cilium/bgp-control-plane";

/// One cause of a finding.
#[derive(Debug, Clone, Serialize)]
pub struct Cause {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// One lint finding.
#[derive(Debug, Clone, Serialize)]
pub struct LintFinding {
    pub severity: Severity,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    pub message: String,
    /// Where to look first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<Cause>,
}

fn service_key(s: &ServiceIntent) -> String {
    format!("{}/{}", s.namespace, s.name)
}

fn ips_text(ips: &[IpAddr]) -> String {
    ips.iter()
        .map(IpAddr::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn cause(loc: &mut Locator<'_>, r: &Reason) -> Cause {
    Cause {
        code: r.code.clone(),
        message: r.message.clone(),
        location: loc.reason(r),
    }
}

/// Every finding, most severe first, then by location.
pub fn findings(
    inv: &Inventory,
    ex: &Expected,
    assumed: &Assumptions,
    loc: &mut Locator<'_>,
) -> Vec<LintFinding> {
    let mut out = Vec::new();
    pools(ex, loc, &mut out);
    services(inv, ex, loc, &mut out);
    for d in &ex.diagnostics {
        let c = cause(loc, d);
        out.push(LintFinding {
            severity: Severity::Warning,
            kind: d.code.clone(),
            pool: None,
            service: None,
            message: d.message.clone(),
            location: c.location,
            causes: Vec::new(),
        });
    }
    ipv6(inv, ex, loc, &mut out);
    everything_selectors(inv, ex, loc, &mut out);
    etp_local(inv, assumed, loc, &mut out);
    // A Service of a pool that no node advertises is named by the pool's
    // finding already.
    let missing: BTreeSet<String> = out
        .iter()
        .filter(|f| f.kind == "pool-not-advertised")
        .filter_map(|f| f.pool.clone())
        .collect();
    out.retain(|f| {
        !(f.kind == "service-not-advertised"
            && f.severity == Severity::Critical
            && f.pool.as_ref().is_some_and(|p| missing.contains(p)))
    });
    // Stable: notes without a location keep the order they were made in.
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.location.is_none().cmp(&b.location.is_none()))
            .then_with(|| a.location.cmp(&b.location))
            .then_with(|| a.kind.cmp(&b.kind))
    });
    out.dedup_by(|a, b| a.kind == b.kind && a.message == b.message);
    out
}

fn pools(ex: &Expected, loc: &mut Locator<'_>, out: &mut Vec<LintFinding>) {
    for pool in &ex.pools {
        if pool.in_use.is_empty() || !pool.expected.is_empty() {
            continue;
        }
        let holders: Vec<&ServiceIntent> = ex
            .services
            .iter()
            .filter(|s| pool.services.contains(&service_key(s)))
            .collect();
        let mut reasons: Vec<&Reason> = holders.iter().flat_map(|s| &s.not_advertised).collect();
        reasons.sort();
        reasons.dedup();
        let causes: Vec<Cause> = reasons.into_iter().map(|r| cause(loc, r)).collect();
        let used: Vec<IpAddr> = pool.in_use.iter().copied().collect();
        let location = causes
            .iter()
            .find_map(|c| c.location.clone())
            .or_else(|| loc.at(&pool.origin, Some("metadata.name")));
        out.push(LintFinding {
            severity: Severity::Critical,
            kind: "pool-not-advertised".into(),
            pool: Some(pool.name.clone()),
            service: None,
            message: format!(
                "pool {}: {} ({}) will be advertised by no node",
                pool.name,
                ips_text(&used),
                pool.services.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
            location,
            causes,
        });
    }
}

fn services(inv: &Inventory, ex: &Expected, loc: &mut Locator<'_>, out: &mut Vec<LintFinding>) {
    let bgp_nodes = ex.nodes.iter().filter(|n| n.no_bgp.is_none()).count();
    let pool_selectors: Vec<&LabelSelector> = inv
        .pools
        .iter()
        .filter_map(|p| p.spec.service_selector.as_ref())
        .collect();
    for s in &ex.services {
        let key = service_key(s);
        let obj = inv
            .services
            .iter()
            .find(|o| o.meta.namespace == s.namespace && o.meta.name == s.name);
        if let Some(r) = &s.no_ip {
            let c = cause(loc, r);
            let location = match (r.code.as_str(), obj) {
                ("no-pool-selects-service", Some(o)) => {
                    let mut merged = LabelSelector::default();
                    for sel in &pool_selectors {
                        let mut labels = merged.match_labels.take().unwrap_or_default();
                        labels.extend(sel.match_labels.clone().unwrap_or_default());
                        merged.match_labels = Some(labels);
                        let mut exprs = merged.match_expressions.take().unwrap_or_default();
                        exprs.extend(sel.match_expressions.clone().unwrap_or_default());
                        merged.match_expressions = Some(exprs);
                    }
                    loc.service_label(o, Some(&merged))
                }
                _ => c.location.clone(),
            };
            out.push(LintFinding {
                severity: Severity::Warning,
                kind: "service-without-ip".into(),
                pool: None,
                service: Some(key.clone()),
                message: format!("Service {key} will get no LoadBalancer IP"),
                location,
                causes: vec![c],
            });
            continue;
        }
        if s.ips.is_empty() || s.not_advertised.is_empty() {
            continue;
        }
        let causes: Vec<Cause> = s.not_advertised.iter().map(|r| cause(loc, r)).collect();
        let location = causes.iter().find_map(|c| c.location.clone());
        let pools: BTreeSet<&String> = s.pools.values().collect();
        let pool = pools.iter().next().map(|p| p.to_string());
        let (severity, message) = if s.advertised_by.is_empty() {
            (
                Severity::Critical,
                format!(
                    "Service {key}: {} will be advertised by no node",
                    ips_text(&s.ips)
                ),
            )
        } else if s.advertised_by.len() < bgp_nodes {
            (
                Severity::Warning,
                format!(
                    "Service {key}: {} will be advertised by {} of {bgp_nodes} BGP nodes only",
                    ips_text(&s.ips),
                    s.advertised_by.len()
                ),
            )
        } else {
            continue;
        };
        out.push(LintFinding {
            severity,
            kind: "service-not-advertised".into(),
            pool,
            service: Some(key),
            message,
            location,
            causes,
        });
    }
}

fn ipv6(inv: &Inventory, ex: &Expected, loc: &mut Locator<'_>, out: &mut Vec<LintFinding>) {
    let v6_pools: Vec<&str> = ex
        .pools
        .iter()
        .filter(|p| !p.disabled && p.ranges.iter().any(|(a, _)| a.is_ipv6()))
        .map(|p| p.name.as_str())
        .collect();
    let neighbors: Vec<_> = ex.nodes.iter().flat_map(|n| &n.neighbors).collect();
    if v6_pools.is_empty()
        || neighbors.is_empty()
        || neighbors
            .iter()
            .any(|n| n.families.iter().any(|f| f == "ipv6-unicast"))
    {
        return;
    }
    // The neighbour whose `families` list leaves IPv6 out, else the policy.
    let mut location = None;
    'found: for p in &inv.peering_policies {
        for (i, vr) in p.spec.virtual_routers.iter().enumerate() {
            for (j, n) in vr.neighbors.iter().enumerate() {
                if n.families.is_some() {
                    location = loc.at(
                        &p.meta.origin,
                        Some(&format!("spec.virtualRouters[{i}].neighbors[{j}].families")),
                    );
                    break 'found;
                }
            }
        }
    }
    if location.is_none() {
        if let Some(pc) = inv.peer_configs.iter().find(|c| c.spec.families.is_some()) {
            location = loc.at(&pc.meta.origin, Some("spec.families"));
        }
    }
    if location.is_none() {
        if let Some(p) = inv.peering_policies.first() {
            location = loc.at(&p.meta.origin, Some("spec.virtualRouters"));
        }
    }
    let (noun, verb) = if v6_pools.len() == 1 {
        ("pool", "hands out")
    } else {
        ("pools", "hand out")
    };
    out.push(LintFinding {
        severity: Severity::Warning,
        kind: "ipv6-family-missing".into(),
        pool: None,
        service: None,
        message: format!(
            "{noun} {} {verb} IPv6 addresses, but no BGP neighbor is configured for ipv6-unicast: IPv6 LoadBalancer IPs would never be advertised",
            v6_pools.join(", ")
        ),
        location,
        causes: Vec::new(),
    });
}

fn is_empty_selector(sel: &LabelSelector) -> bool {
    sel.match_labels.as_ref().is_none_or(|m| m.is_empty())
        && sel.match_expressions.as_ref().is_none_or(|e| e.is_empty())
}

fn everything_selectors(
    inv: &Inventory,
    ex: &Expected,
    loc: &mut Locator<'_>,
    out: &mut Vec<LintFinding>,
) {
    let mut found = Vec::new();
    for p in &inv.peering_policies {
        for (i, vr) in p.spec.virtual_routers.iter().enumerate() {
            if vr.service_selector.as_ref().is_some_and(is_empty_selector) {
                found.push((
                    format!(
                        "virtual router {} of CiliumBGPPeeringPolicy {} has serviceSelector: {{}}",
                        vr.local_asn, p.meta.name
                    ),
                    loc.at(
                        &p.meta.origin,
                        Some(&format!("spec.virtualRouters[{i}].serviceSelector")),
                    ),
                ));
            }
        }
    }
    for a in &inv.advertisements {
        for (i, e) in a.spec.advertisements.iter().enumerate() {
            if e.advertisement_type == "Service"
                && e.selector.as_ref().is_some_and(is_empty_selector)
            {
                found.push((
                    format!(
                        "advertisement {i} of CiliumBGPAdvertisement {} has selector: {{}}",
                        a.meta.name
                    ),
                    loc.at(
                        &a.meta.origin,
                        Some(&format!("spec.advertisements[{i}].selector")),
                    ),
                ));
            }
        }
    }
    if found.is_empty() {
        return;
    }
    let pools: Vec<String> = ex
        .pools
        .iter()
        .filter(|p| !p.in_use.is_empty())
        .map(|p| {
            let state = if p.expected.len() == p.in_use.len() {
                "advertised"
            } else if p.expected.is_empty() {
                "NOT advertised"
            } else {
                "partly advertised"
            };
            format!("{} {state}", p.name)
        })
        .collect();
    let outcome = if pools.is_empty() {
        "no pool is in use in this tree".to_string()
    } else {
        format!("predicted here: {}", pools.join(", "))
    };
    for (what, location) in found {
        out.push(LintFinding {
            severity: Severity::Info,
            kind: "selector-selects-everything".into(),
            pool: None,
            service: None,
            message: format!(
                "{what}, which selects every Service: Cilium's LabelSelectorAsSelector turns an empty selector into labels.Everything(), so every LoadBalancer IP is advertised from it ({outcome}); an empty selector cannot be why a pool is missing, only an absent one advertises nothing"
            ),
            location,
            causes: Vec::new(),
        });
    }
    same_outage_causes(inv, loc, out);
}

/// The causes that would leave a pool unadvertised although a selector
/// selects everything, and whether this tree has them.
fn same_outage_causes(inv: &Inventory, loc: &mut Locator<'_>, out: &mut Vec<LintFinding>) {
    let note = |message: String, location: Option<Location>, causes: Vec<Cause>| LintFinding {
        severity: Severity::Info,
        kind: "same-outage-cause".into(),
        pool: None,
        service: None,
        message,
        location,
        causes,
    };

    let mut unset = Vec::new();
    for p in &inv.peering_policies {
        for (i, vr) in p.spec.virtual_routers.iter().enumerate() {
            if vr.service_selector.is_none() {
                unset.push(Cause {
                    code: "service-selector-unset".into(),
                    message: format!(
                        "virtual router {} of CiliumBGPPeeringPolicy {} has no serviceSelector",
                        vr.local_asn, p.meta.name
                    ),
                    location: loc.at(
                        &p.meta.origin,
                        Some(&format!("spec.virtualRouters[{i}].localASN")),
                    ),
                });
            }
        }
    }
    let first = unset.first().and_then(|c| c.location.clone());
    out.push(note(
        format!(
            "same outage, other cause: a virtual router WITHOUT serviceSelector advertises no Service at all; {}",
            if unset.is_empty() {
                "no virtual router in this tree lacks one".to_string()
            } else {
                format!("{} in this tree", unset.len())
            }
        ),
        first,
        unset,
    ));

    let mut local = Vec::new();
    for s in inv
        .services
        .iter()
        .filter(|s| s.type_ == "LoadBalancer" && s.external_traffic_local)
    {
        let ingress = s.meta.labels.contains_key("cilium.io/ingress")
            || s.meta
                .labels
                .contains_key("io.cilium.gateway/owning-gateway");
        local.push(Cause {
            code: if ingress {
                "cilium-ingress-etp-local".into()
            } else {
                "etp-local".into()
            },
            message: format!(
                "Service {}/{} has externalTrafficPolicy: Local{}",
                s.meta.namespace,
                s.meta.name,
                if ingress {
                    " and is Cilium's Ingress/Gateway Service (placeholder endpoints on no node)"
                } else {
                    ""
                }
            ),
            location: loc.at(&s.meta.origin, Some("spec.externalTrafficPolicy")),
        });
    }
    let first = local.first().and_then(|c| c.location.clone());
    out.push(note(
        format!(
            "same outage, other cause: externalTrafficPolicy: Local on the ingress Service with no ready endpoint on any node (Cilium's Ingress and Gateway Services never have one) makes every node withdraw its IP; {}",
            if local.is_empty() {
                "no LoadBalancer Service in this tree sets it".to_string()
            } else {
                format!("{} Service(s) in this tree set it", local.len())
            }
        ),
        first,
        local,
    ));

    let mut class = Vec::new();
    for s in inv.services.iter().filter(|s| s.type_ == "LoadBalancer") {
        if let Some(c) = s.load_balancer_class.as_deref().filter(|c| *c != BGP_CLASS) {
            class.push(Cause {
                code: "load-balancer-class-other".into(),
                message: format!(
                    "Service {}/{} has loadBalancerClass {c}",
                    s.meta.namespace, s.meta.name
                ),
                location: loc.at(&s.meta.origin, Some("spec.loadBalancerClass")),
            });
        }
    }
    let first = class.first().and_then(|c| c.location.clone());
    out.push(note(
        format!(
            "same outage, other cause: a loadBalancerClass other than {BGP_CLASS} hands the Service to another controller, and Cilium's BGP control plane never advertises it; {}",
            if class.is_empty() {
                "no Service in this tree sets one".to_string()
            } else {
                format!("{} Service(s) in this tree set one", class.len())
            }
        ),
        first,
        class,
    ));
}

fn etp_local(
    inv: &Inventory,
    assumed: &Assumptions,
    loc: &mut Locator<'_>,
    out: &mut Vec<LintFinding>,
) {
    for key in &assumed.local_endpoints {
        let Some(s) = inv
            .services
            .iter()
            .find(|s| format!("{}/{}", s.meta.namespace, s.meta.name) == *key)
        else {
            continue;
        };
        out.push(LintFinding {
            severity: Severity::Info,
            kind: "etp-local".into(),
            pool: None,
            service: Some(key.clone()),
            message: format!(
                "Service {key} has externalTrafficPolicy: Local: only nodes with a ready endpoint of it advertise its IP (lint assumes every node has one)"
            ),
            location: loc.at(&s.meta.origin, Some("spec.externalTrafficPolicy")),
            causes: Vec::new(),
        });
    }
}
