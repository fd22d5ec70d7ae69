//! bgpd against FRR configured as the home router, a UniFi UDM Pro.
//!
//! One LAN (172.29.51.0/24): the router (.1, FRR, AS 64513), three Cilium
//! nodes (.11-.13, gobgpd as Cilium configures it, eBGP neighbours of the
//! router) and bgpd (.2). FRR holds bgpd as an iBGP neighbour that it dials
//! on port 1790, with `addpath-tx-all-paths`, exactly as
//! `docs/configuration.md` tells the UDM Pro to be configured; bgpd's
//! `udm-pro` peer has the router's address, inside the `nodes` prefix, and
//! must win over it.
//!
//! Two nodes announce the same LoadBalancer IP (an ECMP service with
//! endpoints on both): bgpd must hold both of the router's paths, told apart
//! by their ADD-PATH path identifiers, each with the announcing node as next
//! hop (FRR leaves the next hop of eBGP-learnt routes unchanged toward iBGP
//! neighbours), AS path 64512, ORIGIN IGP and the router's LOCAL_PREF. When
//! one node withdraws, only that node's path leaves bgpd.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bgp_tests::frr::{Frr, FrrConfig, FrrNeighbor};
use bgp_tests::gobgp::{GoBgp, Neighbor, CILIUM_ASN, ROUTER_ASN};
use bgp_tests::verifier::{ApiRoute, Verifier};
use bgp_tests::{require_lab, wait_for, Afi, Lan, Netns, TIMEOUT};

const ROUTER_V4: &str = "172.29.51.1";
const VERIFIER_V4: &str = "172.29.51.2";
const API_PORT: u16 = 50051;

/// Announced by nodes 1 and 2: one service, endpoints on both nodes.
const LB_ECMP: &str = "172.29.52.50/32";
/// Announced by node 3 only.
const LB3: &str = "172.29.52.30/32";

const CONFIG: &str = r#"
asn = 64513
router_id = "172.29.51.2"
listen = ["172.29.51.2:1790"]

[http]
listen = "127.0.0.1:9179"

[[peer]]
name = "nodes"
prefix = "172.29.51.0/24"
remote_asn = 64512
role = "speaker"

[[peer]]
name = "udm-pro"
address = "172.29.51.1"
remote_asn = 64513
role = "router"
"#;

struct Node {
    // Field order = drop order: the daemon before its namespace.
    gobgp: GoBgp,
    _ns: Netns,
    v4: String,
}

/// (prefix, next hop) of every route, sorted.
fn keys(routes: &[ApiRoute]) -> Vec<(String, String)> {
    let mut k: Vec<_> = routes
        .iter()
        .map(|r| (r.prefix.clone(), r.next_hop.clone()))
        .collect();
    k.sort();
    k
}

#[test]
fn udm_pro_sends_every_path_with_add_path() {
    require_lab();
    let t0 = Instant::now();

    let lan = Lan::new("lan");
    let router = Netns::new("udm");
    lan.attach(&router, "172.29.51.1/24");
    let vns = Netns::new("verifier");
    lan.attach(&vns, "172.29.51.2/24");
    let http: SocketAddr = "127.0.0.1:9179".parse().unwrap();
    // bgpd first, so FRR's first connection attempt finds it listening.
    let v = Verifier::start(&vns, env!("CARGO_BIN_EXE_bgpd"), CONFIG, http);

    let mut frr_cfg = FrrConfig::udm_pro(ROUTER_V4);
    for i in 1..=3 {
        frr_cfg = frr_cfg.neighbor(FrrNeighbor::node(&format!("172.29.51.1{i}")));
    }
    // A 5 s connect timer instead of FRR's 120 s, in case the first attempt
    // races bgpd's start.
    let frr_cfg = frr_cfg.neighbor(FrrNeighbor::verifier(VERIFIER_V4).connect_retry(5));
    let frr = Frr::start(&router, &frr_cfg);

    // Cilium peering with the router (port 179). 5 s connect retry instead of
    // Cilium's 120 s (GoBGP's first attempt is 5-10 s after start anyway).
    let peers = [Neighbor::new(ROUTER_V4, ROUTER_ASN).connect_retry(5)];
    let announced: [&[&str]; 3] = [&[LB_ECMP], &[LB_ECMP], &[LB3]];
    let mut nodes: Vec<Node> = (1..=3)
        .map(|i| {
            let ns = Netns::new(&format!("node{i}"));
            let v4 = format!("172.29.51.1{i}");
            lan.attach(&ns, format!("{v4}/24"));
            let gobgp =
                GoBgp::start_with_routes(&ns, &v4, None, &peers, API_PORT, announced[i - 1]);
            Node { gobgp, _ns: ns, v4 }
        })
        .collect();
    for ns in [&router, &vns] {
        ns.assert_no_default_route();
    }

    let diag = |nodes: &[Node]| {
        let mut s = format!(
            "bgpd peers: {:#}\nbgpd udm-pro routes: {:#?}\nFRR: {:#?}\n{}\n",
            serde_json::Value::Array(v.peers()),
            v.routes("udm-pro"),
            frr.routes(Afi::Ipv4),
            frr.try_vtysh(&["show bgp summary"]).unwrap_or_default()
        );
        s.push_str(&frr.logs());
        for n in nodes {
            s.push_str(&n.gobgp.logs());
        }
        s.push_str(&v.logs());
        s
    };

    wait_for(
        "bgpd's udm-pro session Established",
        TIMEOUT,
        || v.state("udm-pro") == "Established",
        || diag(&nodes),
    );
    frr.wait_established(VERIFIER_V4, Duration::from_secs(5));
    let p = v.peer("udm-pro").unwrap();
    assert_eq!(p["address"], ROUTER_V4, "{p:#}");
    assert_eq!(p["role"], "router", "{p:#}");
    assert_eq!(p["remote_asn"], ROUTER_ASN, "{p:#}");
    assert_eq!(
        p["negotiated"]["add_path_receive"],
        serde_json::json!(["ipv4-unicast", "ipv6-unicast"]),
        "FRR must send ADD-PATH in both families: {p:#}"
    );
    // The router's connection matched the exact address, not the prefix.
    assert!(v.peer(&format!("nodes/{ROUTER_V4}")).is_none());
    eprintln!(
        "bgpd-router session up after {:.1}s",
        t0.elapsed().as_secs_f64()
    );

    // Both paths of the ECMP service, and node 3's single one.
    let want = vec![
        (LB3.to_string(), "172.29.51.13".to_string()),
        (LB_ECMP.to_string(), "172.29.51.11".to_string()),
        (LB_ECMP.to_string(), "172.29.51.12".to_string()),
    ];
    wait_for(
        "bgpd to hold the router's three paths",
        TIMEOUT,
        || keys(&v.routes("udm-pro")) == want,
        || diag(&nodes),
    );
    let routes = v.routes("udm-pro");
    for r in &routes {
        assert_eq!(r.family, "ipv4-unicast", "{r:#?}");
        assert_eq!(r.origin, "IGP", "{r:#?}");
        assert_eq!(r.as_path, CILIUM_ASN.to_string(), "{r:#?}");
        assert_eq!(r.local_pref, Some(100), "iBGP from the router: {r:#?}");
        assert!(r.path_id != 0, "no ADD-PATH path id: {r:#?}");
        assert!(!r.stale, "{r:#?}");
    }
    let ecmp: Vec<&ApiRoute> = routes.iter().filter(|r| r.prefix == LB_ECMP).collect();
    assert_ne!(ecmp[0].path_id, ecmp[1].path_id, "{ecmp:#?}");
    // The router itself has the same two paths (one best, one not).
    let frr_paths = frr.paths(LB_ECMP);
    assert_eq!(frr_paths.len(), 2, "{frr_paths:#?}");
    assert_eq!(frr_paths.iter().filter(|p| p.best).count(), 1);
    // The prefix lookup names the router for both paths.
    let found = v.lookup(LB_ECMP);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found
        .iter()
        .all(|p| p["peer"] == "udm-pro" && p["role"] == "router"));
    eprintln!(
        "ADD-PATH routes checked after {:.1}s",
        t0.elapsed().as_secs_f64()
    );

    // Node 2 withdraws: only its path goes (ADD-PATH withdrawal by path id).
    let node2_path = ecmp
        .iter()
        .find(|r| r.next_hop == nodes[1].v4)
        .map(|r| r.path_id)
        .unwrap();
    let node1_path = ecmp
        .iter()
        .find(|r| r.next_hop == nodes[0].v4)
        .map(|r| r.path_id)
        .unwrap();
    nodes[1].gobgp.withdraw(LB_ECMP);
    wait_for(
        "node 2's path of the ECMP service to leave bgpd",
        Duration::from_secs(10),
        || v.paths("udm-pro", LB_ECMP).len() == 1,
        || diag(&nodes),
    );
    let left = v.paths("udm-pro", LB_ECMP);
    assert_eq!(left[0].next_hop, nodes[0].v4, "{left:#?}");
    assert_eq!(left[0].path_id, node1_path, "{left:#?}");
    assert_ne!(left[0].path_id, node2_path);
    assert_eq!(v.paths("udm-pro", LB3).len(), 1);
    let p = v.peer("udm-pro").unwrap();
    assert_eq!(p["flaps"], 0, "{p:#}");
    eprintln!("scenario done in {:.1}s", t0.elapsed().as_secs_f64());
}

/// The other way round, for a router configured with `neighbor ... passive`:
/// bgpd's `udm-pro` peer is `connect = "active"` and dials the router on
/// port 179, signing with TCP-MD5, while bgpd listens nowhere (`listen = []`).
#[test]
fn bgpd_dials_a_passive_router() {
    require_lab();
    let t0 = Instant::now();
    let router = Netns::new("udm");
    let vns = Netns::new("verifier");
    bgp_tests::veth(&router, "172.29.51.1/24", &vns, "172.29.51.2/24");
    let key = "udm-pro-md5-key";
    let frr = Frr::start(
        &router,
        &FrrConfig::udm_pro(ROUTER_V4)
            .line("no bgp network import-check")
            .line("network 172.29.52.77/32")
            .neighbor(FrrNeighbor::verifier(VERIFIER_V4).passive().password(key)),
    );
    let secret = vns.subdir("secrets").join("md5");
    std::fs::write(&secret, key).unwrap();
    let config = format!(
        r#"
asn = 64513
router_id = "172.29.51.2"
listen = []
connect_retry = 2

[http]
listen = "127.0.0.1:9179"

[[peer]]
name = "udm-pro"
address = "172.29.51.1"
remote_asn = 64513
role = "router"
connect = "active"
port = 179
password_file = "{}"
"#,
        secret.display()
    );
    let v = Verifier::start(
        &vns,
        env!("CARGO_BIN_EXE_bgpd"),
        &config,
        "127.0.0.1:9179".parse().unwrap(),
    );
    let diag = || {
        format!(
            "{:#}\n{}\n{}",
            serde_json::Value::Array(v.peers()),
            frr.logs(),
            v.logs()
        )
    };
    wait_for(
        "bgpd's outgoing session to the router Established",
        Duration::from_secs(15),
        || v.state("udm-pro") == "Established",
        diag,
    );
    frr.wait_established(VERIFIER_V4, Duration::from_secs(5));
    // FRR accepted the connection on its port 179: bgpd dialled.
    let nb = frr.neighbor_json(VERIFIER_V4);
    assert_eq!(nb["portLocal"], 179, "{nb:#}");
    assert!(
        bgp_tests::netns::listening_ports(&vns)
            .iter()
            .all(|p| *p != 1790 && *p != 179),
        "bgpd listens for BGP"
    );
    // The router's own route arrives over the dialled session.
    wait_for(
        "the router's network in bgpd",
        Duration::from_secs(10),
        || {
            matches!(v.routes("udm-pro").as_slice(), [r]
                if r.prefix == "172.29.52.77/32" && r.as_path.is_empty() && r.origin == "IGP")
        },
        diag,
    );
    eprintln!(
        "active session checked in {:.1}s",
        t0.elapsed().as_secs_f64()
    );
}
