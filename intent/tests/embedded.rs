//! The embedded default inventory: the home cluster as it is meant to be.

use bgp_intent::files::{embedded_text, find_line, EMBEDDED_FILES};
use bgp_intent::objects::Inventory;
use bgp_intent::{embedded_default, load_path, Kind};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn three_ready_control_plane_nodes() {
    let inv = embedded_default();
    let nodes: Vec<_> = inv
        .nodes
        .iter()
        .map(|n| {
            let internal: Vec<_> = n
                .addresses
                .iter()
                .filter(|(t, _)| t == "InternalIP")
                .map(|(_, a)| a.as_str())
                .collect();
            let cidrs: Vec<_> = n.pod_cidrs.iter().map(|c| c.to_string()).collect();
            (n.meta.name.as_str(), internal, n.ready, cidrs)
        })
        .collect();
    assert_eq!(
        nodes,
        [
            (
                "mini-1",
                vec!["172.29.51.11"],
                true,
                vec!["10.42.0.0/24".to_owned()]
            ),
            (
                "mini-2",
                vec!["172.29.51.12"],
                true,
                vec!["10.42.1.0/24".to_owned()]
            ),
            (
                "mini-3",
                vec!["172.29.51.13"],
                true,
                vec!["10.42.2.0/24".to_owned()]
            ),
        ]
    );
    for n in &inv.nodes {
        assert_eq!(n.meta.labels["kubernetes.io/hostname"], n.meta.name);
        assert_eq!(n.meta.labels["node-role.kubernetes.io/control-plane"], "");
    }
}

#[test]
fn pools_and_their_selectors() {
    let inv = embedded_default();
    let pools: Vec<_> = inv
        .pools
        .iter()
        .map(|p| {
            let blocks: Vec<_> = p
                .spec
                .blocks
                .iter()
                .map(|b| (b.cidr.as_deref(), b.start.as_deref(), b.stop.as_deref()))
                .collect();
            let selected = p
                .spec
                .service_selector
                .as_ref()
                .unwrap()
                .match_labels
                .as_ref()
                .unwrap()["lb.home.arpa/pool"]
                .clone();
            (p.meta.name.as_str(), blocks, selected)
        })
        .collect();
    assert_eq!(
        pools,
        [
            (
                "bgp-default",
                vec![
                    (None, Some("172.29.52.100"), Some("172.29.52.199")),
                    (Some("fd47:25e1:2f96:51:100::/120"), None, None)
                ],
                "bgp-default".to_owned()
            ),
            (
                "bgp-ingress",
                vec![(None, Some("172.29.52.200"), Some("172.29.52.220"))],
                "bgp-ingress".to_owned()
            ),
            (
                "bgp-reserved",
                vec![(None, Some("172.29.52.221"), Some("172.29.52.250"))],
                "bgp-reserved".to_owned()
            ),
        ]
    );
}

#[test]
fn one_virtual_router_for_every_pool_and_two_neighbours() {
    let inv = embedded_default();
    assert_eq!(inv.peering_policies.len(), 1);
    let policy = &inv.peering_policies[0];
    assert_eq!(policy.meta.name, "bgp-peering");
    let vrs = &policy.spec.virtual_routers;
    assert_eq!(vrs.len(), 1);
    assert_eq!(vrs[0].local_asn, 64512);
    let expr = &vrs[0]
        .service_selector
        .as_ref()
        .unwrap()
        .match_expressions
        .as_ref()
        .unwrap()[0];
    let pool_names: Vec<_> = inv.pools.iter().map(|p| p.meta.name.clone()).collect();
    assert_eq!(expr.key, "lb.home.arpa/pool");
    assert_eq!(expr.operator, "In");
    assert_eq!(expr.values.as_ref().unwrap(), &pool_names);
    let neighbors: Vec<_> = vrs[0]
        .neighbors
        .iter()
        .map(|n| (n.peer_address.as_str(), n.peer_asn, n.peer_port))
        .collect();
    assert_eq!(
        neighbors,
        [
            ("172.29.51.1/32", 64513, None),
            ("172.29.51.11/32", 64513, Some(1790)),
            ("172.29.51.12/32", 64513, Some(1790)),
            ("172.29.51.13/32", 64513, Some(1790))
        ]
    );
}

#[test]
fn services_with_addresses_and_endpoints() {
    let inv = embedded_default();
    let services: Vec<_> = inv
        .services
        .iter()
        .map(|s| {
            let ports: Vec<u16> = s.ports.iter().map(|p| p.port).collect();
            (
                s.meta.namespace.as_str(),
                s.meta.name.as_str(),
                s.type_.as_str(),
                s.meta.labels["lb.home.arpa/pool"].as_str(),
                s.ingress_ips.clone(),
                s.requested_ips.clone(),
                ports,
                s.external_traffic_local,
            )
        })
        .collect();
    assert_eq!(
        services,
        [
            (
                "ingress-nginx",
                "ingress-nginx-controller",
                "LoadBalancer",
                "bgp-ingress",
                vec![ip("172.29.52.200")],
                vec![ip("172.29.52.200")],
                vec![80, 443],
                false
            ),
            (
                "longhorn-system",
                "longhorn-frontend",
                "LoadBalancer",
                "bgp-default",
                vec![ip("172.29.52.100")],
                vec![ip("172.29.52.100")],
                vec![80],
                false
            ),
        ]
    );
    let slices: Vec<_> = inv
        .endpoint_slices
        .iter()
        .map(|e| {
            let nodes: Vec<_> = e
                .endpoints
                .iter()
                .filter(|ep| ep.ready)
                .filter_map(|ep| ep.node_name.as_deref())
                .collect();
            (e.meta.namespace.as_str(), e.service_name.as_deref(), nodes)
        })
        .collect();
    assert_eq!(
        slices,
        [
            (
                "ingress-nginx",
                Some("ingress-nginx-controller"),
                vec!["mini-1", "mini-2", "mini-3"]
            ),
            (
                "longhorn-system",
                Some("longhorn-frontend"),
                vec!["mini-1", "mini-3"]
            ),
        ]
    );
    assert_eq!(inv.len(), 3 + 3 + 1 + 2 + 2);
    assert_eq!(inv.count(Kind::ClusterConfig), 0);
}

#[test]
fn origins_name_the_embedded_files() {
    let inv = embedded_default();
    let pool = &inv.pools[1];
    assert_eq!(
        pool.meta.origin.file.as_deref(),
        Some(Path::new("default/pools.yaml (embedded)"))
    );
    let text = embedded_text(pool.meta.origin.file.as_ref().unwrap()).unwrap();
    let line = pool.meta.origin.line.unwrap();
    let name_line = find_line(text, line, "metadata.name").unwrap();
    assert_eq!(
        text.lines().nth(name_line as usize - 1),
        Some("  name: bgp-ingress")
    );

    let policy = &inv.peering_policies[0].meta.origin;
    let text = embedded_text(policy.file.as_ref().unwrap()).unwrap();
    let port = find_line(
        text,
        policy.line.unwrap(),
        "spec.virtualRouters[0].neighbors[1].peerPort",
    )
    .unwrap();
    assert_eq!(
        text.lines().nth(port as usize - 1),
        Some("          peerPort: 1790")
    );
    assert_eq!(embedded_text(Path::new("default/pools.yaml")), None);
}

#[test]
fn round_trips() {
    let inv = embedded_default();
    // Through JSON, as the API serves it (origins are not serialized).
    let json = serde_json::to_string(&inv).unwrap();
    let back: Inventory = serde_json::from_str(&json).unwrap();
    let mut without_origins = inv.clone();
    let objects: Vec<_> = without_origins
        .objects()
        .map(|mut o| {
            o.meta_mut().origin = Default::default();
            o
        })
        .collect();
    without_origins = objects.into_iter().collect();
    assert_eq!(back, without_origins);
    // Through its objects, in any order.
    let rebuilt: Inventory = inv
        .objects()
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    assert_eq!(rebuilt, inv);
}

#[test]
fn the_files_on_disk_are_the_embedded_ones() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("default");
    let loaded = load_path(&dir).unwrap();
    assert_eq!(loaded.files, EMBEDDED_FILES.len());
    assert!(loaded.skipped.is_empty(), "{:?}", loaded.skipped);
    let mut on_disk = loaded.inventory;
    let objects: Vec<_> = on_disk
        .objects()
        .map(|mut o| {
            let origin = &mut o.meta_mut().origin;
            let file = origin.file.take().unwrap();
            let rel = file.strip_prefix(&dir).unwrap();
            origin.file = Some(PathBuf::from(format!(
                "default/{} (embedded)",
                rel.display()
            )));
            o
        })
        .collect();
    on_disk = objects.into_iter().collect();
    assert_eq!(on_disk, embedded_default());
}
