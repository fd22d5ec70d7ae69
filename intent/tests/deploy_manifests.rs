//! The deployment manifests under `deploy/`, read by the verifier's own
//! types and model of Cilium.
//!
//! - `deploy/cilium/` holds the Cilium peering examples: the LB-IPAM pools,
//!   the legacy `CiliumBGPPeeringPolicy` and the same with the v2 API. Each
//!   must parse, and, with the embedded default's nodes and Services (the
//!   home cluster), must leave no pool in use unadvertised, give every node
//!   the UDM Pro and every verifier instance as neighbours, and send the
//!   verifier exactly what it sends the router.
//! - `deploy/base/` is the verifier's own kustomize base; the only object in
//!   it the verifier reads is its metrics Service, which must not add
//!   anything to the intent.
//!
//! scripts/check-deploy runs this test; it is also part of `cargo test`.

use bgp_intent::expected::{Expected, NeighborIntent};
use bgp_intent::model::expect;
use bgp_intent::{embedded_default, load_path, Inventory, Kind, Loaded};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The UDM Pro.
const ROUTER: &str = "172.29.51.1";
const ROUTER_ASN: u32 = 64513;
const CILIUM_ASN: u32 = 64512;
/// Where bgpd listens (deploy/base/bgpd.toml).
const VERIFIER_PORT: u16 = 1790;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate lives in the workspace")
        .to_path_buf()
}

/// Loads one directory under the repository; every YAML document in it
/// must be read (nothing skipped).
fn load(rel: &str) -> Loaded {
    let loaded = load_path(&repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert!(
        loaded.skipped.is_empty(),
        "{rel}: documents the verifier does not read as Cilium or Kubernetes objects:\n{}",
        loaded
            .skipped
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    loaded
}

/// The home cluster with the peering of one variant of `deploy/cilium`: the
/// embedded default's nodes, Services and EndpointSlices, the pools of
/// `deploy/cilium/pools` and the BGP objects of `deploy/cilium/<variant>`.
fn cluster(variant: &str) -> Inventory {
    let mut inv: Inventory = embedded_default()
        .objects()
        .filter(|o| matches!(o.kind(), Kind::Node | Kind::Service | Kind::EndpointSlice))
        .collect();
    assert_eq!(inv.count(Kind::Node), 3, "the embedded default's nodes");
    inv.extend(load("deploy/cilium/pools").inventory.objects());
    inv.extend(
        load(&format!("deploy/cilium/{variant}"))
            .inventory
            .objects(),
    );
    inv
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("an IP address")
}

/// Everything the examples promise, for one variant.
fn check_variant(variant: &str) {
    let inv = cluster(variant);
    assert_eq!(inv.count(Kind::IpPool), 3, "{variant}: pools");
    let e: Expected = expect(&inv);

    assert!(
        e.diagnostics.is_empty(),
        "{variant}: the model of Cilium finds problems in the example:\n{:#?}",
        e.diagnostics
    );

    // Every pool: each address in use is one the nodes must advertise.
    for pool in &e.pools {
        assert_eq!(
            pool.expected, pool.in_use,
            "{variant}: pool {} has addresses in use that no node is expected to advertise",
            pool.name
        );
    }
    let in_use: BTreeSet<&str> = e
        .pools
        .iter()
        .filter(|p| !p.in_use.is_empty())
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(
        in_use,
        BTreeSet::from(["bgp-default", "bgp-ingress"]),
        "{variant}: the embedded Services hold addresses of bgp-default (Longhorn) and bgp-ingress (ingress-nginx)"
    );
    for svc in &e.services {
        assert!(
            svc.not_advertised.is_empty() && svc.no_ip.is_none(),
            "{variant}: Service {}/{} would not be advertised: {:?} {:?}",
            svc.namespace,
            svc.name,
            svc.not_advertised,
            svc.no_ip
        );
    }

    // Every node: BGP configured, the router on 179, and bgpd on port 1790
    // of every node address, each with the same prefixes as the router.
    let node_addresses: BTreeSet<IpAddr> = e
        .nodes
        .iter()
        .flat_map(|n| n.addresses.iter().copied())
        .collect();
    assert_eq!(node_addresses.len(), 3, "{variant}: one address per node");
    let lb_prefixes: BTreeSet<_> = e.prefixes.keys().copied().collect();
    assert!(!lb_prefixes.is_empty(), "{variant}: nothing to advertise");
    for node in &e.nodes {
        assert!(
            node.no_bgp.is_none() && node.policy.is_some(),
            "{variant}: node {} runs no BGP: {:?}",
            node.name,
            node.no_bgp
        );
        let router: Vec<&NeighborIntent> = node
            .neighbors
            .iter()
            .filter(|n| n.address == ip(ROUTER))
            .collect();
        assert_eq!(
            router.len(),
            1,
            "{variant}: node {}: the UDM Pro",
            node.name
        );
        let router = router[0];
        assert_eq!(
            (router.asn, router.port.unwrap_or(179), router.local_asn),
            (ROUTER_ASN, 179, CILIUM_ASN),
            "{variant}: node {}: the UDM Pro session",
            node.name
        );
        assert_eq!(
            router.prefixes, lb_prefixes,
            "{variant}: node {} does not send the router every expected prefix",
            node.name
        );

        let verifiers: Vec<&NeighborIntent> = node
            .neighbors
            .iter()
            .filter(|n| n.address != ip(ROUTER))
            .collect();
        let addresses: BTreeSet<IpAddr> = verifiers.iter().map(|n| n.address).collect();
        assert_eq!(
            addresses, node_addresses,
            "{variant}: node {}: the verifier neighbours must be the node addresses (bgpd on every node)",
            node.name
        );
        for v in verifiers {
            assert_eq!(
                (v.asn, v.port),
                (ROUTER_ASN, Some(VERIFIER_PORT)),
                "{variant}: node {}: verifier neighbour {}",
                node.name,
                v.address
            );
            assert_eq!(
                v.prefixes, router.prefixes,
                "{variant}: node {}: the verifier at {} would not see what the router is sent",
                node.name, v.address
            );
        }
    }
}

#[test]
fn legacy_peering_policy_advertises_every_pool_to_router_and_verifier() {
    let loaded = load("deploy/cilium/legacy");
    assert_eq!(loaded.inventory.count(Kind::PeeringPolicy), 1);
    assert_eq!(loaded.inventory.len(), 1, "legacy/ holds the policy only");
    check_variant("legacy");
}

#[test]
fn v2_cluster_config_advertises_every_pool_to_router_and_verifier() {
    let loaded = load("deploy/cilium/v2");
    let inv = &loaded.inventory;
    assert_eq!(inv.count(Kind::ClusterConfig), 1);
    assert_eq!(inv.count(Kind::PeerConfig), 2);
    assert_eq!(inv.count(Kind::Advertisement), 1);
    assert_eq!(inv.len(), 4, "v2/ holds the BGP objects only");
    check_variant("v2");
}

#[test]
fn pools_parse_with_their_ranges() {
    let loaded = load("deploy/cilium/pools");
    let pools = &loaded.inventory.pools;
    let names: Vec<&str> = pools.iter().map(|p| p.meta.name.as_str()).collect();
    assert_eq!(names, ["bgp-default", "bgp-ingress", "bgp-reserved"]);
    let e = expect(&loaded.inventory);
    let ranges = |name: &str| {
        e.pools
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.ranges.clone())
            .unwrap_or_default()
    };
    assert!(ranges("bgp-default").contains(&(ip("172.29.52.100"), ip("172.29.52.199"))));
    assert!(ranges("bgp-default")
        .iter()
        .any(|(first, _)| *first == ip("fd47:25e1:2f96:51:100::")));
    assert_eq!(
        ranges("bgp-ingress"),
        [(ip("172.29.52.200"), ip("172.29.52.220"))]
    );
    assert_eq!(
        ranges("bgp-reserved"),
        [(ip("172.29.52.221"), ip("172.29.52.250"))]
    );
}

#[test]
fn the_verifiers_own_base_adds_nothing_to_the_intent() {
    let loaded = load_path(&repo().join("deploy/base")).unwrap_or_else(|e| panic!("{e}"));
    let inv = &loaded.inventory;
    assert_eq!(
        inv.len(),
        1,
        "deploy/base: only the metrics Service is an object the verifier reads"
    );
    let svc = &inv.services[0];
    assert_eq!(
        (
            svc.meta.namespace.as_str(),
            svc.meta.name.as_str(),
            svc.type_.as_str()
        ),
        ("bgp-verifier", "bgp-verifier", "ClusterIP")
    );
    // Every other document is a kind the verifier does not read, not an
    // unparsable one.
    assert!(
        loaded
            .skipped
            .iter()
            .all(|s| s.why.contains("is not a kind the verifier reads")),
        "{:#?}",
        loaded.skipped
    );
    let with_home = {
        let mut all = embedded_default();
        all.extend(inv.objects());
        all
    };
    assert_eq!(expect(&with_home), expect(&embedded_default()));
}
