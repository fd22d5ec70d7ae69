//! The legacy `CiliumBGPPeeringPolicy` (cilium.io/v2alpha1) translated to
//! [`Router`]s, with Cilium 1.17's defaults and failure modes.
//!
//! - `CiliumBGPVirtualRouter.SetDefaults` and `CiliumBGPNeighbor.SetDefaults`
//!   (`pkg/k8s/apis/cilium.io/v2alpha1/bgpp_types.go`): `exportPodCIDR`
//!   defaults to false, `serviceAdvertisements` to `[LoadBalancerIP]` when
//!   absent (an explicit empty list stays empty), `peerPort` to 179, and
//!   `families` to IPv4 and IPv6 unicast.
//! - `reconcileDiff.registerOrReconcileDiff` (`pkg/bgpv1/manager/
//!   reconcile_diff.go`) stops at the first virtual router whose `localASN`
//!   repeats an earlier one ("encountered duplicate local ASNs"), and
//!   `BGPRouterManager.ConfigurePeers` ignores that error: the routers
//!   before it run, it and every later one do not.
//! - `ServiceReconciler.svcDesiredRoutes` (`pkg/bgpv1/manager/reconciler/
//!   service.go`): a virtual router without `serviceSelector` advertises no
//!   Service at all; `{}` advertises every Service. Its paths go to every
//!   neighbour of the router that has the path's address family; there is
//!   no per-neighbour export filter in the legacy API.

use super::plan::{
    capitalize, neighbor_diagnostics, reason, Api, Export, FamilyExports, Peer, Router,
    ServiceExport,
};
use super::selector;
use crate::expected::Reason;
use crate::objects::{Neighbor, PeeringPolicy};
use ipnet::IpNet;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// The routers one policy gives every node it applies to.
pub(crate) fn routers(policy: &PeeringPolicy, diags: &mut Vec<Reason>) -> Vec<Router> {
    let name = &policy.meta.name;
    let origin = &policy.meta.origin;
    let mut out: Vec<Router> = Vec::new();
    let mut asns = BTreeSet::new();
    for vr in &policy.spec.virtual_routers {
        let Ok(local_asn) = u32::try_from(vr.local_asn) else {
            diags.push(reason(
                "asn-invalid",
                format!(
                    "A virtual router of CiliumBGPPeeringPolicy {name} has localASN {}, which is not a 32-bit ASN, so the API server rejects the policy.",
                    vr.local_asn
                ),
                origin,
            ));
            continue;
        };
        if !asns.insert(local_asn) {
            diags.push(reason(
                "duplicate-local-asn",
                format!(
                    "CiliumBGPPeeringPolicy {name} has two virtual routers with localASN {local_asn}; Cilium stops at the second one, so it and every virtual router after it run on no node."
                ),
                origin,
            ));
            break;
        }
        let label = format!("virtual router {local_asn} of CiliumBGPPeeringPolicy {name}");
        if let Some(why) = vr.service_selector.as_ref().and_then(selector::invalid) {
            diags.push(reason(
                "selector-invalid",
                format!(
                    "The serviceSelector of {label} is invalid ({why}), so Cilium fails to reconcile its Services and advertises none."
                ),
                origin,
            ));
        }
        let addresses = vr
            .service_advertisements
            .clone()
            .unwrap_or_else(|| vec!["LoadBalancerIP".to_string()]);
        let mut exports = vec![Export::Services(ServiceExport {
            api: Api::Legacy,
            label: label.clone(),
            selector: vr.service_selector.clone(),
            addresses,
            origin: origin.clone(),
        })];
        if vr.export_pod_cidr == Some(true) {
            exports.push(Export::PodCidr);
        }
        let mut peers = Vec::new();
        for n in &vr.neighbors {
            match peer(n, &exports) {
                Ok(p) => peers.push(p),
                Err(why) => diags.push(reason(
                    "neighbor-invalid",
                    format!("A neighbor of {label} cannot be used: {why}."),
                    origin,
                )),
            }
        }
        if vr.neighbors.is_empty() {
            diags.push(reason(
                "router-no-neighbors",
                format!(
                    "{} has no neighbors, so it advertises nothing.",
                    capitalize(&label)
                ),
                origin,
            ));
        }
        out.push(Router {
            name: local_asn.to_string(),
            label,
            local_asn,
            origin: origin.clone(),
            peers,
        });
    }
    neighbor_diagnostics(
        "virtual routers",
        &format!("CiliumBGPPeeringPolicy {name}"),
        &out,
        origin,
        diags,
    );
    out
}

fn peer(n: &Neighbor, exports: &[Export]) -> Result<Peer, String> {
    let address = parse_peer_address(&n.peer_address).ok_or_else(|| {
        format!(
            "peerAddress {:?} is not an address in CIDR notation",
            n.peer_address
        )
    })?;
    let asn = u32::try_from(n.peer_asn)
        .map_err(|_| format!("peerASN {} is not a 32-bit ASN", n.peer_asn))?;
    let families = match &n.families {
        Some(list) if !list.is_empty() => list
            .iter()
            .map(|f| (f.afi.clone(), f.safi.clone()))
            .collect(),
        _ => vec![
            ("ipv4".to_string(), "unicast".to_string()),
            ("ipv6".to_string(), "unicast".to_string()),
        ],
    };
    Ok(Peer {
        label: format!("neighbor {address}"),
        address,
        asn,
        port: Some(n.peer_port.filter(|p| *p != 0).unwrap_or(179)),
        families: families
            .into_iter()
            .map(|(afi, safi)| FamilyExports {
                afi,
                safi,
                exports: exports.to_vec(),
                no_service_cause: None,
            })
            .collect(),
    })
}

/// `172.29.51.1/32` (the CRD's format) or a bare address.
pub(crate) fn parse_peer_address(text: &str) -> Option<IpAddr> {
    text.parse::<IpNet>()
        .map(|net| net.addr())
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok())
}
