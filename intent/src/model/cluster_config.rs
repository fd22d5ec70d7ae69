//! The BGP control plane v2 (`CiliumBGPClusterConfig`, `CiliumBGPPeerConfig`,
//! `CiliumBGPAdvertisement`) translated to [`Router`]s, with Cilium 1.17's
//! defaults and failure modes.
//!
//! - `BGPResourceManager.getMatchingNodes` (`operator/pkg/bgpv2/cluster.go`)
//!   turns each cluster config into one `CiliumBGPNodeConfig` per selected
//!   node; `toNodeBGPInstance` copies instances and peers unchanged.
//! - `NeighborReconciler.Reconcile` (`pkg/bgpv1/manager/reconcilerv2/
//!   neighbor.go`): a peer without `peerASN` fails the reconciliation of the
//!   whole instance; a peer without `peerAddress` is skipped; a peer whose
//!   `peerConfigRef` names a missing `CiliumBGPPeerConfig` is skipped; a
//!   peer without `peerConfigRef` gets the defaults.
//! - `CiliumBGPPeerConfigSpec.SetDefaults` (`pkg/k8s/apis/cilium.io/
//!   v2alpha1/bgp_peer_types.go`): peer port 179, families IPv6 and IPv4
//!   unicast without advertisements.
//! - `CiliumPeerAdvertisement.GetConfiguredAdvertisements`
//!   (`reconcilerv2/peer_advertisements.go`): per peer and family, the
//!   `CiliumBGPAdvertisement`s whose labels match the family's
//!   `advertisements` selector; a nil selector matches none. Peers without
//!   `peerConfigRef` get no advertisement.
//! - `ServiceReconciler.getServicePrefixes` (`reconcilerv2/service.go`): an
//!   advertisement without `selector` or without `service` matches no
//!   Service; an IPv4 address only goes out on an `ipv4` family and an IPv6
//!   address only on `ipv6`; route policies export each path only to the
//!   peer whose advertisements produced it.

use super::plan::{
    capitalize, neighbor_diagnostics, reason, Api, Cause, Export, FamilyExports, Peer, Router,
    ServiceExport,
};
use super::selector;
use crate::expected::Reason;
use crate::objects::{
    Advertisement, BgpInstance, BgpPeer, ClusterConfig, Inventory, Origin, PeerConfig,
};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// The routers one cluster config gives every node it selects.
pub(crate) fn routers(cc: &ClusterConfig, inv: &Inventory, diags: &mut Vec<Reason>) -> Vec<Router> {
    let owner = format!("CiliumBGPClusterConfig {}", cc.meta.name);
    let origin = &cc.meta.origin;
    let mut out = Vec::new();
    let mut names = BTreeSet::new();
    for inst in &cc.spec.bgp_instances {
        if !names.insert(inst.name.clone()) {
            diags.push(reason(
                "duplicate-bgp-instance",
                format!(
                    "{owner} has two BGP instances named {}; Cilium refuses the node configuration at the second one, so it and every later instance run on no node.",
                    inst.name
                ),
                origin,
            ));
            break;
        }
        if let Some(router) = instance(cc, &owner, inst, inv, diags) {
            out.push(router);
        }
    }
    neighbor_diagnostics("BGP instances", &owner, &out, origin, diags);
    out
}

fn instance(
    cc: &ClusterConfig,
    owner: &str,
    inst: &BgpInstance,
    inv: &Inventory,
    diags: &mut Vec<Reason>,
) -> Option<Router> {
    let origin = &cc.meta.origin;
    let label = format!("BGP instance {} of {owner}", inst.name);
    let local_asn = match inst.local_asn.map(u32::try_from) {
        Some(Ok(asn)) => asn,
        Some(Err(_)) | None => {
            diags.push(reason(
                "bgp-instance-no-local-asn",
                format!(
                    "{} has no valid localASN, so Cilium cannot start it on any node.",
                    capitalize(&label)
                ),
                origin,
            ));
            return None;
        }
    };
    let mut router = Router {
        name: inst.name.clone(),
        label: label.clone(),
        local_asn,
        origin: origin.clone(),
        peers: Vec::new(),
    };
    if let Some(p) = inst.peers.iter().find(|p| p.peer_asn.is_none()) {
        diags.push(reason(
            "bgp-peer-no-asn",
            format!(
                "Peer {} of {label} has no peerASN, so Cilium fails to configure any peer of the instance and it advertises nothing.",
                p.name
            ),
            origin,
        ));
        return Some(router);
    }
    for p in &inst.peers {
        match peer(&label, p, inv, origin) {
            Ok(peer) => router.peers.push(peer),
            Err((code, why)) => diags.push(reason(code, format!("{why}."), origin)),
        }
    }
    if inst.peers.is_empty() {
        diags.push(reason(
            "router-no-neighbors",
            format!(
                "{} has no peers, so it advertises nothing.",
                capitalize(&label)
            ),
            origin,
        ));
    }
    Some(router)
}

fn peer(
    router: &str,
    p: &BgpPeer,
    inv: &Inventory,
    origin: &Origin,
) -> Result<Peer, (&'static str, String)> {
    let Some(text) = p.peer_address.as_deref() else {
        return Err((
            "bgp-peer-no-address",
            format!(
                "Peer {} of {router} has no peerAddress, so Cilium skips it",
                p.name
            ),
        ));
    };
    let address: IpAddr = super::legacy::parse_peer_address(text).ok_or_else(|| {
        (
            "neighbor-invalid",
            format!(
                "Peer {} of {router} has peerAddress {text:?}, which is not an IP address",
                p.name
            ),
        )
    })?;
    let asn = p
        .peer_asn
        .and_then(|a| u32::try_from(a).ok())
        .ok_or_else(|| {
            (
                "neighbor-invalid",
                format!(
                    "Peer {} of {router} has a peerASN that is not a 32-bit ASN",
                    p.name
                ),
            )
        })?;
    let label = format!("peer {} ({address}) of {router}", p.name);
    let config = match &p.peer_config_ref {
        None => None,
        Some(r) if r.name.is_empty() => None,
        Some(r) => match inv.peer_configs.iter().find(|pc| pc.meta.name == r.name) {
            Some(pc) => Some(pc),
            None => {
                return Err((
                    "peer-config-missing",
                    format!(
                        "Peer {} of {router} refers to CiliumBGPPeerConfig {}, which does not exist, so Cilium skips the peer",
                        p.name, r.name
                    ),
                ))
            }
        },
    };
    let port = config
        .and_then(|pc| pc.spec.transport.as_ref())
        .and_then(|t| t.peer_port)
        .filter(|port| *port != 0)
        .unwrap_or(179);
    let families = match config {
        None => default_families()
            .into_iter()
            .map(|(afi, safi)| FamilyExports {
                no_service_cause: Some(Cause {
                    code: "peer-config-unset",
                    text: format!(
                        "{label} has no peerConfigRef, so Cilium advertises nothing to it"
                    ),
                    origin: origin.clone(),
                }),
                afi,
                safi,
                exports: Vec::new(),
            })
            .collect(),
        Some(pc) => peer_config_families(&label, pc, inv),
    };
    Ok(Peer {
        label,
        address,
        asn,
        port: Some(port),
        families,
    })
}

fn default_families() -> Vec<(String, String)> {
    vec![
        ("ipv6".to_string(), "unicast".to_string()),
        ("ipv4".to_string(), "unicast".to_string()),
    ]
}

fn peer_config_families(peer: &str, pc: &PeerConfig, inv: &Inventory) -> Vec<FamilyExports> {
    let pc_name = &pc.meta.name;
    let configured: Vec<(String, String, Option<&crate::objects::LabelSelector>)> =
        match pc.spec.families.as_deref() {
            Some(list) if !list.is_empty() => list
                .iter()
                .map(|f| (f.afi.clone(), f.safi.clone(), f.advertisements.as_ref()))
                .collect(),
            _ => default_families()
                .into_iter()
                .map(|(afi, safi)| (afi, safi, None))
                .collect(),
        };
    let mut adverts: Vec<&Advertisement> = inv.advertisements.iter().collect();
    adverts.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
    configured
        .into_iter()
        .map(|(afi, safi, sel)| {
            let fam = format!("{afi}-{safi}");
            let mut family = FamilyExports {
                afi,
                safi,
                exports: Vec::new(),
                no_service_cause: None,
            };
            let Some(sel) = sel else {
                family.no_service_cause = Some(Cause {
                    code: "peer-family-no-advertisements",
                    text: format!(
                        "the {fam} family of CiliumBGPPeerConfig {pc_name} has no advertisements selector, so Cilium advertises nothing on it to {peer}"
                    ),
                    origin: pc.meta.origin.clone(),
                });
                return family;
            };
            let chosen: Vec<&&Advertisement> = adverts
                .iter()
                .filter(|a| selector::matches(sel, &a.meta.labels))
                .collect();
            if chosen.is_empty() {
                family.no_service_cause = Some(Cause {
                    code: "advertisements-none-selected",
                    text: format!(
                        "the {fam} family of CiliumBGPPeerConfig {pc_name} selects CiliumBGPAdvertisements matching {}, but none has such labels, so Cilium advertises nothing on it to {peer}",
                        selector::describe(sel)
                    ),
                    origin: pc.meta.origin.clone(),
                });
                return family;
            }
            for a in &chosen {
                for entry in &a.spec.advertisements {
                    match entry.advertisement_type.as_str() {
                        "Service" => family.exports.push(Export::Services(ServiceExport {
                            api: Api::Advertisement,
                            label: format!(
                                "CiliumBGPAdvertisement {} (used for {fam} by CiliumBGPPeerConfig {pc_name})",
                                a.meta.name
                            ),
                            selector: entry.selector.clone(),
                            addresses: entry
                                .service
                                .as_ref()
                                .map(|s| s.addresses.clone())
                                .unwrap_or_default(),
                            origin: a.meta.origin.clone(),
                        })),
                        "PodCIDR" => family.exports.push(Export::PodCidr),
                        _ => {}
                    }
                }
            }
            if !family
                .exports
                .iter()
                .any(|e| matches!(e, Export::Services(_)))
            {
                let names: Vec<&str> = chosen.iter().map(|a| a.meta.name.as_str()).collect();
                family.no_service_cause = Some(Cause {
                    code: "no-service-advertisement",
                    text: format!(
                        "the CiliumBGPAdvertisements that the {fam} family of CiliumBGPPeerConfig {pc_name} selects ({}) have no advertisement of type Service, so Cilium advertises no Service on it to {peer}",
                        super::plan::and_list(&names)
                    ),
                    origin: pc.meta.origin.clone(),
                });
            }
            family
        })
        .collect()
}

/// Problems of peer configs and advertisements themselves, reported once.
pub(crate) fn object_diagnostics(inv: &Inventory, diags: &mut Vec<Reason>) {
    for pc in &inv.peer_configs {
        for f in pc.spec.families.iter().flatten() {
            if let Some(why) = f.advertisements.as_ref().and_then(selector::invalid) {
                diags.push(reason(
                    "selector-invalid",
                    format!(
                        "The advertisements selector of the {}-{} family of CiliumBGPPeerConfig {} is invalid ({why}), so Cilium advertises nothing on it.",
                        f.afi, f.safi, pc.meta.name
                    ),
                    &pc.meta.origin,
                ));
            }
        }
    }
    for a in &inv.advertisements {
        for entry in &a.spec.advertisements {
            if let Some(why) = entry.selector.as_ref().and_then(selector::invalid) {
                diags.push(reason(
                    "selector-invalid",
                    format!(
                        "A selector of CiliumBGPAdvertisement {} is invalid ({why}), so Cilium fails to reconcile the Services it should advertise.",
                        a.meta.name
                    ),
                    &a.meta.origin,
                ));
            }
        }
    }
}
