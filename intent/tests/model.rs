//! The home cluster in the three forms its outage went through, built as
//! Rust values and run through `bgp_intent::model::expect`:
//!
//! - incident: one virtual router whose `serviceSelector` picks only the
//!   bgp-default pool's Services, so the ingress address is never
//!   advertised;
//! - a virtual router without `serviceSelector`, which advertises nothing;
//! - fixed: one virtual router per pool, so every address is expected from
//!   every node.

use bgp_intent::expected::{Expected, PrefixKind, Reason};
use bgp_intent::model::expect;
use bgp_intent::objects::*;
use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn meta(name: &str, namespace: &str, pairs: &[(&str, &str)]) -> Meta {
    Meta {
        name: name.to_string(),
        namespace: namespace.to_string(),
        labels: labels(pairs),
        ..Meta::default()
    }
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn host(text: &str) -> IpNet {
    IpNet::from(ip(text))
}

fn pool_selector(pool: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels(&[("lb.home.arpa/pool", pool)])),
        match_expressions: None,
    }
}

fn pool(name: &str, blocks: Vec<IpPoolBlock>) -> IpPool {
    IpPool {
        meta: meta(name, "", &[]),
        spec: IpPoolSpec {
            blocks,
            service_selector: Some(pool_selector(name)),
            ..IpPoolSpec::default()
        },
    }
}

fn range(start: &str, stop: &str) -> IpPoolBlock {
    IpPoolBlock {
        cidr: None,
        start: Some(start.to_string()),
        stop: Some(stop.to_string()),
    }
}

fn virtual_router(asn: i64, selector: Option<LabelSelector>) -> VirtualRouter {
    VirtualRouter {
        local_asn: asn,
        service_selector: selector,
        neighbors: vec![Neighbor {
            peer_address: "172.29.51.1/32".to_string(),
            peer_asn: 64513,
            ..Neighbor::default()
        }],
        ..VirtualRouter::default()
    }
}

/// mini-1..3, the UDM Pro at 172.29.51.1, three pools, Longhorn's UI on
/// 172.29.52.100 and ingress-nginx on 172.29.52.200.
fn home(routers: Vec<VirtualRouter>) -> Inventory {
    let nodes = (1..=3)
        .map(|i| Node {
            meta: meta(&format!("mini-{i}"), "", &[("kubernetes.io/os", "linux")]),
            addresses: vec![
                ("InternalIP".to_string(), format!("172.29.51.{}", 10 + i)),
                ("Hostname".to_string(), format!("mini-{i}")),
            ],
            ready: true,
            pod_cidrs: vec![format!("10.244.{i}.0/24").parse().unwrap()],
        })
        .collect();
    let v6 = IpPoolBlock {
        cidr: Some("fd47:25e1:2f96:51:100::/120".to_string()),
        ..IpPoolBlock::default()
    };
    let service = |ns: &str, name: &str, pool: &str, address: &str| Service {
        meta: meta(name, ns, &[("lb.home.arpa/pool", pool)]),
        type_: "LoadBalancer".to_string(),
        ip_families: vec!["IPv4".to_string()],
        ingress_ips: vec![ip(address)],
        ..Service::default()
    };
    Inventory {
        nodes,
        pools: vec![
            pool(
                "bgp-default",
                vec![range("172.29.52.100", "172.29.52.199"), v6],
            ),
            pool("bgp-ingress", vec![range("172.29.52.200", "172.29.52.220")]),
            pool(
                "bgp-reserved",
                vec![range("172.29.52.221", "172.29.52.250")],
            ),
        ],
        services: vec![
            service(
                "longhorn-system",
                "longhorn-frontend",
                "bgp-default",
                "172.29.52.100",
            ),
            service(
                "ingress-nginx",
                "ingress-nginx-controller",
                "bgp-ingress",
                "172.29.52.200",
            ),
        ],
        peering_policies: vec![PeeringPolicy {
            meta: meta("bgp-peering", "", &[]),
            spec: PeeringPolicySpec {
                node_selector: Some(LabelSelector {
                    match_labels: Some(labels(&[("kubernetes.io/os", "linux")])),
                    match_expressions: None,
                }),
                virtual_routers: routers,
            },
        }],
        ..Inventory::default()
    }
}

const LONGHORN: &str = "longhorn-system/longhorn-frontend";
const INGRESS: &str = "ingress-nginx/ingress-nginx-controller";

fn all_nodes() -> BTreeSet<String> {
    ["mini-1", "mini-2", "mini-3"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn next_hops() -> BTreeSet<IpAddr> {
    [ip("172.29.51.11"), ip("172.29.51.12"), ip("172.29.51.13")].into()
}

fn reasons_of<'a>(e: &'a Expected, key: &str) -> &'a [Reason] {
    &e.services
        .iter()
        .find(|s| format!("{}/{}", s.namespace, s.name) == key)
        .unwrap()
        .not_advertised
}

fn check_common(e: &Expected) {
    assert_eq!(e.nodes.len(), 3);
    for n in &e.nodes {
        assert_eq!(n.policy.as_deref(), Some("bgp-peering"));
        assert!(n.no_bgp.is_none());
        assert_eq!(
            n.addresses,
            vec![ip(&format!(
                "172.29.51.{}",
                10 + n.name[5..].parse::<u8>().unwrap()
            ))]
        );
        assert!(n
            .neighbors
            .iter()
            .all(|nb| nb.address == ip("172.29.51.1") && nb.asn == 64513));
    }
    let sizes: Vec<(&str, u64)> = e.pools.iter().map(|p| (p.name.as_str(), p.size)).collect();
    assert_eq!(
        sizes,
        vec![
            ("bgp-default", 100 + 256),
            ("bgp-ingress", 21),
            ("bgp-reserved", 30)
        ]
    );
    let ingress_pool = e.pools.iter().find(|p| p.name == "bgp-ingress").unwrap();
    assert_eq!(ingress_pool.in_use, [ip("172.29.52.200")].into());
    assert!(e.services.iter().all(|s| s.no_ip.is_none()));
    assert!(e.diagnostics.iter().all(|d| d.code != "pools-overlap"));
}

#[test]
fn incident_selector_picks_only_the_default_pool() {
    let e = expect(&home(vec![virtual_router(
        64512,
        Some(pool_selector("bgp-default")),
    )]));
    check_common(&e);

    let longhorn = &e.prefixes[&host("172.29.52.100")];
    assert_eq!(longhorn.kind, PrefixKind::LoadBalancerIp);
    assert_eq!(longhorn.pool.as_deref(), Some("bgp-default"));
    assert_eq!(longhorn.nodes, all_nodes());
    assert_eq!(longhorn.next_hops, next_hops());
    assert!(reasons_of(&e, LONGHORN).is_empty());

    assert!(!e.prefixes.contains_key(&host("172.29.52.200")));
    let why = reasons_of(&e, INGRESS);
    assert_eq!(why.len(), 1, "{why:?}");
    assert_eq!(why[0].code, "service-selector-no-match");
    assert_eq!(
        why[0].message,
        "On nodes mini-1, mini-2 and mini-3, virtual router 64512 of CiliumBGPPeeringPolicy \
         bgp-peering has a serviceSelector that selects only Services matching \
         lb.home.arpa/pool=bgp-default, and Service \
         ingress-nginx/ingress-nginx-controller (labels lb.home.arpa/pool=bgp-ingress) does not \
         match, so it does not advertise it."
    );
    let ingress_pool = e.pools.iter().find(|p| p.name == "bgp-ingress").unwrap();
    assert!(ingress_pool.expected.is_empty());
    let default_pool = e.pools.iter().find(|p| p.name == "bgp-default").unwrap();
    assert_eq!(default_pool.expected, [ip("172.29.52.100")].into());
    for n in &e.nodes {
        assert_eq!(n.neighbors.len(), 1);
        assert_eq!(n.neighbors[0].prefixes, [host("172.29.52.100")].into());
    }
}

#[test]
fn unset_selector_advertises_nothing() {
    let e = expect(&home(vec![virtual_router(64512, None)]));
    check_common(&e);
    assert!(e.prefixes.is_empty());
    for key in [LONGHORN, INGRESS] {
        let why = reasons_of(&e, key);
        assert_eq!(why.len(), 1, "{why:?}");
        assert_eq!(why[0].code, "service-selector-unset");
        assert_eq!(
            why[0].message,
            "On nodes mini-1, mini-2 and mini-3, virtual router 64512 of CiliumBGPPeeringPolicy \
             bgp-peering has no serviceSelector, so it advertises no Service."
        );
    }
    assert!(e.pools.iter().all(|p| p.expected.is_empty()));
}

#[test]
fn fixed_one_router_per_pool_advertises_every_address() {
    let e = expect(&home(vec![
        virtual_router(64512, Some(pool_selector("bgp-default"))),
        virtual_router(64514, Some(pool_selector("bgp-ingress"))),
        virtual_router(64515, Some(pool_selector("bgp-reserved"))),
    ]));
    check_common(&e);
    for (address, pool, service) in [
        ("172.29.52.100", "bgp-default", LONGHORN),
        ("172.29.52.200", "bgp-ingress", INGRESS),
    ] {
        let p = &e.prefixes[&host(address)];
        assert_eq!(p.nodes, all_nodes(), "{address}");
        assert_eq!(p.next_hops, next_hops(), "{address}");
        assert_eq!(p.pool.as_deref(), Some(pool));
        assert_eq!(p.service.as_deref(), Some(service));
        assert!(reasons_of(&e, service).is_empty());
        let intent = e.pools.iter().find(|x| x.name == pool).unwrap();
        assert_eq!(intent.expected, [ip(address)].into());
        assert_eq!(intent.expected, intent.in_use);
    }
    assert_eq!(e.prefixes.len(), 2);
    for s in &e.services {
        assert_eq!(s.advertised_by, all_nodes());
    }
    for n in &e.nodes {
        let routers: Vec<&str> = n.neighbors.iter().map(|nb| nb.router.as_str()).collect();
        assert_eq!(routers, vec!["64512", "64514", "64515"]);
        assert_eq!(n.neighbors[1].prefixes, [host("172.29.52.200")].into());
        assert!(n.neighbors[2].prefixes.is_empty());
    }
    // Three routers peering with the one UDM Pro: worth a warning.
    assert!(e
        .diagnostics
        .iter()
        .any(|d| d.code == "neighbor-in-several-routers" && d.message.contains("172.29.51.1")));
}
