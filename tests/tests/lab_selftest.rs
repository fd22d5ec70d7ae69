//! Self-test of the interop lab harness (`bgp_tests::{netns, daemon, gobgp,
//! frr, bird}`), with real daemons and no `bgpd` involved.
//!
//! 1. Three Cilium-configured GoBGP "nodes" and a UDM Pro FRR "router" share
//!    the LAN 172.29.51.0/24 + fd47:25e1:2f96:51::/64; the nodes announce
//!    LoadBalancer /32 and /128 routes, FRR must hold them with the node as
//!    next hop and AS path 64512, a withdraw must disappear, and a gobgpd
//!    crash + restart must be handled as a graceful restart.
//! 2. BIRD and FRR bring up an IPv6 eBGP session, BIRD's static route reaches
//!    FRR, and a route refresh from BIRD reaches FRR.
//!
//! Both need root and the Debian packages `iproute2 procps gobgpd frr bird2`;
//! they fail, never skip, without them.

use std::time::{Duration, Instant};

use bgp_tests::bird::{Bird, BirdConfig, BGP_PROTOCOL};
use bgp_tests::frr::{Frr, FrrConfig, FrrNeighbor, FrrPath};
use bgp_tests::gobgp::{GoBgp, Neighbor, CILIUM_ASN, ROUTER_ASN};
use bgp_tests::netns::listening_ports;
use bgp_tests::{require_lab, veth, wait_for, Afi, Lan, Netns, TIMEOUT};

const ROUTER_V4: &str = "172.29.51.1";
const ROUTER_V6: &str = "fd47:25e1:2f96:51::1";
const API_PORT: u16 = 50051;

const LB1: &str = "172.29.52.100/32";
const LB2: &str = "172.29.52.200/32";
const LB2_V6: &str = "fd47:25e1:2f96:51:100::1/128";

struct Node {
    // Field order = drop order: the daemon before its namespace.
    gobgp: GoBgp,
    ns: Netns,
    v4: String,
    v6: String,
}

/// Checks that FRR holds exactly one path for `prefix`, from `peer`, with
/// next hop `next_hop`, AS path 64512 and ORIGIN IGP.
fn single_path_ok(paths: &[FrrPath], peer: &str, next_hop: &str) -> bool {
    matches!(paths, [p] if p.peer == peer
        && p.next_hops.first().map(String::as_str) == Some(next_hop)
        && p.as_path == CILIUM_ASN.to_string()
        && p.origin == "IGP"
        && p.valid)
}

fn diag(frr: &Frr, nodes: &[Node]) -> String {
    let mut s = String::new();
    for afi in [Afi::Ipv4, Afi::Ipv6] {
        s.push_str(&format!("FRR {afi:?} paths: {:#?}\n", frr.routes(afi)));
    }
    s.push_str(&frr.try_vtysh(&["show bgp summary"]).unwrap_or_default());
    s.push_str(&frr.logs());
    for n in nodes {
        s.push_str(&n.gobgp.logs());
    }
    s
}

#[test]
fn gobgp_nodes_announce_to_frr() {
    require_lab();
    let t0 = Instant::now();

    let lan = Lan::new("lan");
    let router = Netns::new("udm");
    lan.attach(&router, ["172.29.51.1/24", "fd47:25e1:2f96:51::1/64"]);

    let mut frr_cfg = FrrConfig::udm_pro(ROUTER_V4);
    let mut addrs = Vec::new();
    for i in 1..=3 {
        let v4 = format!("172.29.51.1{i}");
        let v6 = format!("fd47:25e1:2f96:51::1{i}");
        frr_cfg = frr_cfg
            .neighbor(FrrNeighbor::node(&v4))
            .neighbor(FrrNeighbor::node(&v6));
        addrs.push((i, v4, v6));
    }
    let frr = Frr::start(&router, &frr_cfg);

    // Dual-stack Cilium nodes, each peering with the router over IPv4 and IPv6.
    let cilium_peers = [
        Neighbor::new(ROUTER_V4, ROUTER_ASN),
        Neighbor::new(ROUTER_V6, ROUTER_ASN),
    ];
    let mut nodes: Vec<Node> = addrs
        .into_iter()
        .map(|(i, v4, v6)| {
            let ns = Netns::new(&format!("node{i}"));
            lan.attach(&ns, vec![format!("{v4}/24"), format!("{v6}/64")]);
            ns.assert_no_default_route();
            let gobgp = GoBgp::start(&ns, &v4, Some(&v6), &cilium_peers, API_PORT);
            Node { gobgp, ns, v4, v6 }
        })
        .collect();
    router.assert_no_default_route();

    // Like Cilium's agent (ListenPort -1), gobgpd never listens for BGP; its
    // API is the only listener.
    for n in &nodes {
        let ports = listening_ports(&n.ns);
        assert!(!ports.contains(&179), "gobgpd listens on 179: {ports:?}");
        assert!(
            ports.contains(&API_PORT),
            "no gobgp API on {API_PORT}: {ports:?}"
        );
    }

    let all_up = |frr: &Frr, nodes: &[Node]| {
        nodes.iter().all(|n| {
            frr.neighbor_state(&n.v4) == "Established" && frr.neighbor_state(&n.v6) == "Established"
        })
    };
    wait_for(
        "FRR to establish all six node sessions",
        TIMEOUT,
        || all_up(&frr, &nodes),
        || diag(&frr, &nodes),
    );
    for n in &nodes {
        assert_eq!(n.gobgp.neighbor_state(ROUTER_V4), "ESTABLISHED");
        assert_eq!(n.gobgp.neighbor_state(ROUTER_V6), "ESTABLISHED");
    }
    eprintln!("sessions up after {:.1}s", t0.elapsed().as_secs_f64());

    nodes[0].gobgp.announce(LB1);
    nodes[1].gobgp.announce(LB2);
    nodes[1].gobgp.announce(LB2_V6);
    let (n1v4, n2v4, n2v6) = (
        nodes[0].v4.clone(),
        nodes[1].v4.clone(),
        nodes[1].v6.clone(),
    );
    wait_for(
        "FRR to hold the three LoadBalancer routes with the nodes as next hops",
        TIMEOUT,
        || {
            single_path_ok(&frr.paths(LB1), &n1v4, &n1v4)
                && single_path_ok(&frr.paths(LB2), &n2v4, &n2v4)
                && single_path_ok(&frr.paths(LB2_V6), &n2v6, &n2v6)
        },
        || diag(&frr, &nodes),
    );

    // Cilium's import policy: nothing learnt from the router enters a node's
    // RIB, only its own routes.
    let rib = nodes[2].gobgp.rib_json(Afi::Ipv4);
    assert!(
        rib.as_object().is_none_or(|m| m.is_empty()),
        "node3 accepted routes from its peers: {rib}"
    );

    nodes[1].gobgp.withdraw(LB2);
    wait_for(
        "the withdrawn 172.29.52.200/32 to leave FRR",
        TIMEOUT,
        || frr.paths(LB2).is_empty(),
        || diag(&frr, &nodes),
    );
    assert!(single_path_ok(&frr.paths(LB1), &n1v4, &n1v4));
    assert!(single_path_ok(&frr.paths(LB2_V6), &n2v6, &n2v6));

    // Graceful restart: a crashed agent's routes stay (stale) in FRR, and are
    // refreshed once the restarted gobgpd re-establishes and re-announces.
    nodes[0].gobgp.restart();
    wait_for(
        "FRR to keep node1's route as stale while gobgpd restarts",
        Duration::from_secs(5),
        || matches!(frr.paths(LB1).as_slice(), [p] if p.stale),
        || diag(&frr, &nodes),
    );
    wait_for(
        "node1 to re-establish and refresh its route after a restart",
        TIMEOUT,
        || {
            frr.neighbor_state(&n1v4) == "Established"
                && matches!(frr.paths(LB1).as_slice(), [p] if !p.stale && p.peer == n1v4)
        },
        || diag(&frr, &nodes),
    );
    assert_eq!(nodes[0].gobgp.announced(), vec![LB1.to_string()]);
    eprintln!("lab self-test 1 done in {:.1}s", t0.elapsed().as_secs_f64());
}

#[test]
fn bird_frr_ipv6_session() {
    require_lab();
    let t0 = Instant::now();
    let router = Netns::new("udm6");
    let peer = Netns::new("bird");
    veth(
        &router,
        "fd47:25e1:2f96:53::1/64",
        &peer,
        "fd47:25e1:2f96:53::2/64",
    );
    let bird_addr = "fd47:25e1:2f96:53::2";
    let frr = Frr::start(
        &router,
        &FrrConfig::udm_pro("172.29.53.1").neighbor(FrrNeighbor::new(bird_addr, 64514)),
    );
    let bird = Bird::start(
        &peer,
        &BirdConfig::new("172.29.53.2", 64514, "fd47:25e1:2f96:53::1", ROUTER_ASN)
            .route("fd47:25e1:2f96:60::/64"),
    );
    bird.wait_established(BGP_PROTOCOL, TIMEOUT);
    frr.wait_established(bird_addr, TIMEOUT);

    let diag = || {
        format!(
            "{:#?}\n{}\n{}",
            frr.routes(Afi::Ipv6),
            frr.logs(),
            bird.logs()
        )
    };
    wait_for(
        "BIRD's static route in FRR",
        TIMEOUT,
        || {
            matches!(frr.paths("fd47:25e1:2f96:60::/64").as_slice(),
                [p] if p.as_path == "64514" && p.next_hops.first().map(String::as_str) == Some(bird_addr))
        },
        diag,
    );

    let refreshes = |frr: &Frr| {
        frr.neighbor_json(bird_addr)["messageStats"]["routeRefreshRecv"]
            .as_u64()
            .unwrap_or(0)
    };
    let before = refreshes(&frr);
    bird.refresh_in(BGP_PROTOCOL);
    wait_for(
        "FRR to receive BIRD's ROUTE-REFRESH",
        Duration::from_secs(10),
        || refreshes(&frr) > before,
        || format!("{:#}\n{}", frr.neighbor_json(bird_addr), bird.logs()),
    );
    bird.refresh_out(BGP_PROTOCOL);
    eprintln!("lab self-test 2 done in {:.1}s", t0.elapsed().as_secs_f64());
}
