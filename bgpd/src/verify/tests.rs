//! Unit tests of the findings computation, on hand-built expected states
//! and peer views (the netns scenario tests run it against real peers).

use super::compute::{compute, Input, NodeReach};
use super::finding::{Kind, Severity};
use super::report::{InventoryStatus, Verdict};
use super::view::{PathView, PeerView};
use super::ReachMap;
use crate::config::Role;
use bgp_intent::expected::{NodeIntent, PoolIntent, PrefixIntent, PrefixKind, ServiceIntent};
use bgp_intent::{Expected, Reason};
use ipnet::IpNet;
use std::collections::BTreeMap;
use std::net::IpAddr;

const NODES: [(&str, &str); 3] = [
    ("mini-1", "172.29.51.11"),
    ("mini-2", "172.29.51.12"),
    ("mini-3", "172.29.51.13"),
];

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

/// The home cluster: longhorn at .100 (bgp-default) and ingress at .200
/// (bgp-ingress); `ingress_expected` says whether the intent has the
/// nodes advertise the ingress IP.
fn home(ingress_expected: bool) -> Expected {
    let nodes = NODES
        .iter()
        .map(|(n, a)| NodeIntent {
            name: (*n).into(),
            addresses: vec![ip(a)],
            ready: true,
            policy: Some("bgp-peering".into()),
            neighbors: Vec::new(),
            no_bgp: None,
        })
        .collect();
    let all: std::collections::BTreeSet<String> = NODES.iter().map(|(n, _)| (*n).into()).collect();
    let hops = NODES.iter().map(|(_, a)| ip(a)).collect();
    let mut prefixes = BTreeMap::new();
    prefixes.insert(
        net("172.29.52.100/32"),
        PrefixIntent {
            prefix: net("172.29.52.100/32"),
            kind: PrefixKind::LoadBalancerIp,
            service: Some("longhorn-system/longhorn-frontend".into()),
            pool: Some("bgp-default".into()),
            nodes: all.clone(),
            next_hops: hops,
        },
    );
    let mut ingress_reasons = Vec::new();
    if ingress_expected {
        prefixes.insert(
            net("172.29.52.200/32"),
            PrefixIntent {
                prefix: net("172.29.52.200/32"),
                kind: PrefixKind::LoadBalancerIp,
                service: Some("kube-system/cilium-ingress".into()),
                pool: Some("bgp-ingress".into()),
                nodes: all.clone(),
                next_hops: NODES.iter().map(|(_, a)| ip(a)).collect(),
            },
        );
    } else {
        ingress_reasons.push(Reason {
            code: "service-selector-no-match".into(),
            message: "virtual router 64512 of CiliumBGPPeeringPolicy bgp-peering selects io.cilium/pool=bgp-default, which does not match Service kube-system/cilium-ingress".into(),
            origin: Default::default(),
        });
    }
    let pool = |name: &str, first: &str, last: &str, used: &str, svc: &str, exp: bool| PoolIntent {
        name: name.into(),
        disabled: false,
        ranges: vec![(ip(first), ip(last))],
        size: 100,
        in_use: [ip(used)].into(),
        services: [svc.to_owned()].into(),
        expected: if exp {
            [ip(used)].into()
        } else {
            Default::default()
        },
        origin: Default::default(),
    };
    let service =
        |ns: &str, name: &str, addr: &str, pool: &str, reasons: Vec<Reason>| ServiceIntent {
            namespace: ns.into(),
            name: name.into(),
            ips: vec![ip(addr)],
            pools: [(ip(addr), pool.to_owned())].into(),
            ports: Vec::new(),
            external_traffic_local: false,
            advertised_by: if reasons.is_empty() {
                all.clone()
            } else {
                Default::default()
            },
            not_advertised: reasons,
            no_ip: None,
            origin: Default::default(),
        };
    Expected {
        nodes,
        pools: vec![
            pool(
                "bgp-default",
                "172.29.52.100",
                "172.29.52.199",
                "172.29.52.100",
                "longhorn-system/longhorn-frontend",
                true,
            ),
            pool(
                "bgp-ingress",
                "172.29.52.200",
                "172.29.52.220",
                "172.29.52.200",
                "kube-system/cilium-ingress",
                ingress_expected,
            ),
        ],
        services: vec![
            service(
                "longhorn-system",
                "longhorn-frontend",
                "172.29.52.100",
                "bgp-default",
                Vec::new(),
            ),
            service(
                "kube-system",
                "cilium-ingress",
                "172.29.52.200",
                "bgp-ingress",
                ingress_reasons,
            ),
        ],
        prefixes,
        diagnostics: Vec::new(),
    }
}

fn path(nh: &str) -> PathView {
    PathView {
        path_id: 0,
        next_hop: Some(ip(nh)),
        stale: false,
    }
}

fn speaker(node: usize, prefixes: &[&str]) -> PeerView {
    let addr = NODES[node].1;
    PeerView {
        name: format!("cilium-nodes/{addr}"),
        address: Some(ip(addr)),
        asn: 64512,
        role: Some(Role::Speaker),
        state: "Established".into(),
        established: true,
        routes: prefixes
            .iter()
            .map(|p| (net(p), vec![path(addr)]))
            .collect(),
        ..PeerView::default()
    }
}

/// The router holding `prefixes`, each with a path through every node.
fn router(prefixes: &[&str]) -> PeerView {
    let mut routes = BTreeMap::new();
    for p in prefixes {
        let paths = NODES
            .iter()
            .enumerate()
            .map(|(i, (_, a))| PathView {
                path_id: i as u32 + 1,
                next_hop: Some(ip(a)),
                stale: false,
            })
            .collect();
        routes.insert(net(p), paths);
    }
    PeerView {
        name: "udm-pro".into(),
        address: Some(ip("172.29.51.1")),
        asn: 64513,
        role: Some(Role::Router),
        state: "Established".into(),
        established: true,
        add_path: vec![bgp_proto::Family::IPV4_UNICAST],
        routes,
        ..PeerView::default()
    }
}

fn synced() -> InventoryStatus {
    InventoryStatus {
        source: "embedded".into(),
        synced: true,
        ..InventoryStatus::default()
    }
}

fn run(ex: &Expected, peers: &[PeerView], reach: &ReachMap) -> super::Report {
    run_full(ex, peers, reach, &synced(), None, 1000.0)
}

fn run_full(
    ex: &Expected,
    peers: &[PeerView],
    reach: &ReachMap,
    inventory: &InventoryStatus,
    previous: Option<&super::Report>,
    now: f64,
) -> super::Report {
    compute(Input {
        expected: ex,
        inventory,
        peers,
        speaker_ranges: &[net("172.29.51.0/24")],
        reach,
        previous,
        now,
        generation: 1,
    })
}

/// Every node announcing `prefixes`, and the router holding them.
fn fleet(prefixes: &[&str]) -> Vec<PeerView> {
    vec![
        speaker(0, prefixes),
        speaker(1, prefixes),
        speaker(2, prefixes),
        router(prefixes),
    ]
}

const BOTH: [&str; 2] = ["172.29.52.100/32", "172.29.52.200/32"];

#[test]
fn healthy_cluster_has_no_finding() {
    let ex = home(true);
    let peers = fleet(&BOTH);
    let r = run(&ex, &peers, &ReachMap::new());
    assert_eq!(r.findings, vec![], "{:#?}", r.findings);
    assert_eq!(r.verdict, Some(Verdict::Ok));
    assert!(r
        .pools
        .iter()
        .all(|p| !p.missing && p.advertised == 1 && p.accepted == 1));
    assert_eq!(r.services[1].ips[0].advertised_by.len(), 3);
}

#[test]
fn the_seeds_incident_is_a_missing_pool_naming_the_selector() {
    let ex = home(false);
    let only = ["172.29.52.100/32"];
    let peers = fleet(&only);
    let r = run(&ex, &peers, &ReachMap::new());
    assert_eq!(r.verdict, Some(Verdict::Critical));
    let missing: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.kind == Kind::PoolMissing)
        .collect();
    assert_eq!(missing.len(), 1, "{:#?}", r.findings);
    assert_eq!(missing[0].pool.as_deref(), Some("bgp-ingress"));
    assert_eq!(missing[0].severity, Severity::Critical);
    assert!(
        missing[0].hint.contains("virtual router 64512"),
        "{}",
        missing[0].hint
    );
    assert_eq!(missing[0].causes, vec!["service-selector-no-match"]);
    let svc: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.kind == Kind::ServiceNotAdvertised)
        .collect();
    assert_eq!(svc.len(), 1);
    assert_eq!(
        svc[0].service.as_deref(),
        Some("kube-system/cilium-ingress")
    );
    assert!(r.pools.iter().any(|p| p.name == "bgp-ingress" && p.missing));
    assert!(
        r.summary.starts_with("critical: 1 pool-missing"),
        "{}",
        r.summary
    );
}

#[test]
fn one_node_missing_a_prefix_is_a_warning_naming_the_node() {
    let ex = home(true);
    let peers = vec![
        speaker(0, &BOTH),
        speaker(1, &BOTH),
        speaker(2, &BOTH[..1]),
        router(&BOTH),
    ];
    let r = run(&ex, &peers, &ReachMap::new());
    let f: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.kind == Kind::ServiceNotAdvertised)
        .collect();
    assert_eq!(f.len(), 1, "{:#?}", r.findings);
    assert_eq!(f[0].node.as_deref(), Some("mini-3"));
    assert_eq!(f[0].severity, Severity::Warning);
    assert_eq!(r.verdict, Some(Verdict::Degraded));
}

#[test]
fn router_without_the_prefix_is_not_accepted() {
    let ex = home(true);
    let peers = vec![
        speaker(0, &BOTH),
        speaker(1, &BOTH),
        speaker(2, &BOTH),
        router(&BOTH[..1]),
    ];
    let r = run(&ex, &peers, &ReachMap::new());
    let f: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.kind == Kind::NotAcceptedByRouter)
        .collect();
    assert_eq!(f.len(), 1, "{:#?}", r.findings);
    assert_eq!(f[0].prefix.as_deref(), Some("172.29.52.200/32"));
    assert!(f[0].hint.contains("ebgp-requires-policy"));
}

#[test]
fn fewer_router_paths_than_nodes_only_with_add_path() {
    let ex = home(true);
    let mut r0 = router(&BOTH);
    for paths in r0.routes.values_mut() {
        paths.truncate(1);
    }
    let peers = vec![
        speaker(0, &BOTH),
        speaker(1, &BOTH),
        speaker(2, &BOTH),
        r0.clone(),
    ];
    let r = run(&ex, &peers, &ReachMap::new());
    let fewer: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.kind == Kind::FewerRouterPaths)
        .collect();
    assert_eq!(fewer.len(), 2);
    assert!(
        fewer[0].hint.contains("no path through mini-2, mini-3"),
        "{}",
        fewer[0].hint
    );
    r0.add_path.clear();
    let peers = vec![speaker(0, &BOTH), speaker(1, &BOTH), speaker(2, &BOTH), r0];
    let r = run(&ex, &peers, &ReachMap::new());
    assert_eq!(r.findings, vec![]);
}

#[test]
fn unexpected_prefix_from_a_node_and_in_the_router() {
    let ex = home(true);
    let extra = ["172.29.52.100/32", "172.29.52.200/32", "172.29.52.150/32"];
    let peers = vec![
        speaker(0, &extra),
        speaker(1, &BOTH),
        speaker(2, &BOTH),
        router(&extra),
    ];
    let r = run(&ex, &peers, &ReachMap::new());
    let f: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.kind == Kind::UnexpectedPrefix)
        .collect();
    assert_eq!(f.len(), 2, "{:#?}", r.findings);
    assert!(f.iter().any(|f| f.node.as_deref() == Some("mini-1")));
    assert_eq!(r.unexpected_prefixes.get("speaker"), Some(&1));
    assert_eq!(r.unexpected_prefixes.get("router"), Some(&1));
}

#[test]
fn sessions_down_but_graceful_restart_is_not_a_finding() {
    let ex = home(true);
    let mut down = speaker(1, &BOTH);
    down.established = false;
    down.state = "Idle".into();
    down.restarting = true;
    let peers = vec![
        speaker(0, &BOTH),
        down.clone(),
        speaker(2, &BOTH),
        router(&BOTH),
    ];
    let r = run(&ex, &peers, &ReachMap::new());
    assert_eq!(
        r.findings,
        vec![],
        "graceful restart raised {:#?}",
        r.findings
    );

    down.restarting = false;
    down.routes.clear();
    let mut rt = router(&BOTH);
    rt.established = false;
    rt.state = "Active".into();
    rt.routes.clear();
    let peers = vec![speaker(0, &BOTH), down, speaker(2, &BOTH), rt];
    let r = run(&ex, &peers, &ReachMap::new());
    let kinds: Vec<Kind> = r.findings.iter().map(|f| f.kind).collect();
    assert!(kinds.contains(&Kind::SpeakerSessionDown), "{kinds:?}");
    assert!(kinds.contains(&Kind::RouterSessionDown), "{kinds:?}");
    // With the router down, nothing can be said about acceptance.
    assert!(!kinds.contains(&Kind::NotAcceptedByRouter), "{kinds:?}");
    let s = r
        .findings
        .iter()
        .find(|f| f.kind == Kind::SpeakerSessionDown)
        .unwrap();
    assert_eq!(s.node.as_deref(), Some("mini-2"));
    assert_eq!(s.severity, Severity::Warning);
}

#[test]
fn node_never_connected_is_a_session_down() {
    let ex = home(true);
    let peers = vec![speaker(0, &BOTH), speaker(1, &BOTH), router(&BOTH)];
    let r = run(&ex, &peers, &ReachMap::new());
    let s: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.kind == Kind::SpeakerSessionDown)
        .collect();
    assert_eq!(s.len(), 1, "{:#?}", r.findings);
    assert!(s[0].hint.contains("172.29.51.13"));
    assert_eq!(s[0].peer, None);
}

#[test]
fn unreachable_next_hop_and_node() {
    let ex = home(true);
    let peers = fleet(&BOTH);
    let mut reach = ReachMap::new();
    for (i, (n, a)) in NODES.iter().enumerate() {
        reach.insert(
            ((*n).into(), ip(a)),
            NodeReach {
                reachable: i != 2,
                down: i == 2,
                rtt_seconds: (i != 2).then_some(0.001),
            },
        );
    }
    let r = run(&ex, &peers, &reach);
    let nh: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.kind == Kind::NextHopUnreachable)
        .collect();
    assert_eq!(nh.len(), 2, "{:#?}", r.findings);
    assert!(nh
        .iter()
        .all(|f| f.severity == Severity::Warning && f.hint.contains("mini-3")));
    assert_eq!(
        r.findings
            .iter()
            .filter(|f| f.kind == Kind::NodeUnreachable)
            .count(),
        1
    );
    assert_eq!(r.nodes[2].reachable, Some(false));
    assert_eq!(r.nodes[0].rtt_seconds, Some(0.001));
}

#[test]
fn stale_inventory_and_since_carried_over() {
    let ex = home(false);
    let only = ["172.29.52.100/32"];
    let peers = fleet(&only);
    let mut inv = synced();
    inv.stale = true;
    inv.last_sync = Some(900.0);
    inv.error = Some("connection refused".into());
    let first = run_full(&ex, &peers, &ReachMap::new(), &inv, None, 1000.0);
    let stale = first
        .findings
        .iter()
        .find(|f| f.kind == Kind::InventoryStale)
        .unwrap();
    assert!(stale.message.contains("100 s"), "{}", stale.message);
    assert!(stale.hint.contains("connection refused"));
    let second = run_full(&ex, &peers, &ReachMap::new(), &inv, Some(&first), 1005.0);
    assert!(second.findings.iter().all(|f| f.since == 1000.0));
}

#[test]
fn unsynced_inventory_does_not_call_routes_unexpected() {
    let ex = Expected::default();
    let peers = vec![speaker(0, &BOTH)];
    let inv = InventoryStatus::default();
    let r = run_full(&ex, &peers, &ReachMap::new(), &inv, None, 1.0);
    assert_eq!(r.findings, vec![]);
}
