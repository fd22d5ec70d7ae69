//! bgpd against real GoBGP configured as Cilium's embedded BGP speaker.
//!
//! The home cluster in a box: one LAN (172.29.51.0/24 + fd47:25e1:2f96:51::/64)
//! with three node namespaces (.11-.13) each running gobgpd as the Cilium
//! agent does, and a verifier namespace (.2) running the real `bgpd` binary
//! with one dynamic peer per address family. Each node peers with both of the
//! verifier's addresses on port 1790, with Cilium's default families (IPv4 and
//! IPv6 unicast on every session, as `CiliumBGPPeerConfig` does when
//! `families` is left out), so each node has two sessions with bgpd and each
//! family is carried on both:
//!
//! * on the IPv4 session, IPv4 routes have the node's IPv4 address as next
//!   hop, and IPv6 routes the IPv4-mapped form of it (`::ffff:172.29.51.12`),
//!   which is what GoBGP puts in MP_REACH_NLRI for an IPv6 path over IPv4;
//! * on the IPv6 session, IPv6 routes have the node's global IPv6 address,
//!   and IPv4 routes too (RFC 8950 extended next hop: bgpd offers it and
//!   GoBGP does as well).
//!
//! Asserted: every session Established in bgpd's API; every route with
//! ORIGIN IGP, AS path 64512 and those next hops; the routes arrive within
//! seconds although gobgpd runs "restarting" (as Cilium's does) and defers its
//! UPDATEs until every peer sent End-of-RIB, which bgpd does right after
//! Established; a withdrawal reaches bgpd; a gobgpd crash and restart is a
//! graceful restart for bgpd: node 2's routes stay, marked stale, while it is
//! down, and are fresh again after it is back, with no route missing at any
//! moment (sampled every 50 ms).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bgp_tests::gobgp::{GoBgp, Neighbor, CILIUM_ASN};
use bgp_tests::verifier::{ApiRoute, Verifier};
use bgp_tests::{require_lab, wait_for, Afi, Lan, Netns, TIMEOUT};

const VERIFIER_V4: &str = "172.29.51.2";
const VERIFIER_V6: &str = "fd47:25e1:2f96:51::2";
const HTTP: &str = "127.0.0.1:9179";
const API_PORT: u16 = 50051;

const LB1: &str = "172.29.52.100/32";
const LB2: &str = "172.29.52.200/32";
const LB2_V6: &str = "fd47:25e1:2f96:51:100::1/128";

const CONFIG: &str = r#"
asn = 64513
router_id = "172.29.51.2"
listen = ["172.29.51.2:1790", "[fd47:25e1:2f96:51::2]:1790"]

[http]
listen = "127.0.0.1:9179"

[[peer]]
name = "nodes"
prefix = "172.29.51.0/24"
remote_asn = 64512
role = "speaker"

[[peer]]
name = "nodes6"
prefix = "fd47:25e1:2f96:51::/64"
remote_asn = 64512
role = "speaker"
"#;

struct Node {
    // Field order = drop order: the daemon before its namespace.
    gobgp: GoBgp,
    _ns: Netns,
    v4: String,
    v6: String,
}

impl Node {
    /// bgpd's names for this node's two sessions (dynamic neighbours).
    fn sessions(&self) -> [String; 2] {
        [format!("nodes/{}", self.v4), format!("nodes6/{}", self.v6)]
    }
}

/// What bgpd must hold from `node` on each of its sessions when it announces
/// `prefixes`: (session, prefix, next hop), per the module documentation.
fn expected(node: &Node, prefixes: &[&str]) -> Vec<(String, String, String)> {
    let [s4, s6] = node.sessions();
    let mut out = Vec::new();
    for p in prefixes {
        let (nh4, nh6) = match Afi::of(p) {
            Afi::Ipv4 => (node.v4.clone(), node.v6.clone()),
            Afi::Ipv6 => (format!("::ffff:{}", node.v4), node.v6.clone()),
        };
        out.push((s4.clone(), p.to_string(), nh4));
        out.push((s6.clone(), p.to_string(), nh6));
    }
    out.sort();
    out
}

/// A route exactly as a Cilium agent announces a LoadBalancer IP.
fn cilium_route(r: &ApiRoute) -> bool {
    let family = match Afi::of(&r.prefix) {
        Afi::Ipv4 => "ipv4-unicast",
        Afi::Ipv6 => "ipv6-unicast",
    };
    r.family == family
        && r.origin == "IGP"
        && r.as_path == CILIUM_ASN.to_string()
        && r.path_id == 0
        && r.local_pref.is_none()
}

/// What bgpd holds on `sessions`: (session, prefix, next hop), sorted, with
/// the routes themselves.
fn held(v: &Verifier, sessions: &[String]) -> (Vec<(String, String, String)>, Vec<ApiRoute>) {
    let mut keys = Vec::new();
    let mut all = Vec::new();
    for s in sessions {
        for r in v.routes(s) {
            keys.push((s.clone(), r.prefix.clone(), r.next_hop.clone()));
            all.push(r);
        }
    }
    keys.sort();
    (keys, all)
}

fn diag(v: &Verifier, nodes: &[Node]) -> String {
    let mut s = format!("bgpd peers: {:#}\n", serde_json::Value::Array(v.peers()));
    for n in nodes {
        for name in n.sessions() {
            s.push_str(&format!("{name}: {:#?}\n", v.routes(&name)));
        }
        s.push_str(&n.gobgp.logs());
    }
    s.push_str(&v.logs());
    s
}

fn epoch_now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[test]
fn cilium_nodes_graceful_restart_and_end_of_rib() {
    require_lab();
    let t0 = Instant::now();

    let lan = Lan::new("lan");
    let vns = Netns::new("verifier");
    lan.attach(
        &vns,
        [
            format!("{VERIFIER_V4}/24").as_str(),
            format!("{VERIFIER_V6}/64").as_str(),
        ],
    );
    vns.assert_no_default_route();
    let http: SocketAddr = HTTP.parse().unwrap();
    let v = Verifier::start(&vns, env!("CARGO_BIN_EXE_bgpd"), CONFIG, http);

    // Cilium's peering toward the verifier, on both of its addresses. The
    // connect-retry timer is 5 s instead of Cilium's 120 s: GoBGP's first
    // attempt comes 5-10 s after the neighbour is enabled whatever the timer,
    // but a missed attempt would cost 2-4 minutes with 120 s.
    let peers = [
        Neighbor::verifier(VERIFIER_V4).connect_retry(5),
        Neighbor::verifier(VERIFIER_V6).connect_retry(5),
    ];
    // Services exist before the agents start: the routes are in GoBGP's RIB
    // before any session opens, as for a Cilium agent (re)starting.
    let announced: [&[&str]; 3] = [&[LB1], &[LB2, LB2_V6], &[]];
    let mut nodes: Vec<Node> = (1..=3)
        .map(|i| {
            let ns = Netns::new(&format!("node{i}"));
            let v4 = format!("172.29.51.1{i}");
            let v6 = format!("fd47:25e1:2f96:51::1{i}");
            lan.attach(&ns, vec![format!("{v4}/24"), format!("{v6}/64")]);
            ns.assert_no_default_route();
            let gobgp =
                GoBgp::start_with_routes(&ns, &v4, Some(&v6), &peers, API_PORT, announced[i - 1]);
            Node {
                gobgp,
                _ns: ns,
                v4,
                v6,
            }
        })
        .collect();

    // 1. All six sessions Established, seen from both sides.
    let all_sessions: Vec<String> = nodes.iter().flat_map(|n| n.sessions()).collect();
    wait_for(
        "bgpd to show all six node sessions Established",
        TIMEOUT,
        || all_sessions.iter().all(|s| v.state(s) == "Established"),
        || diag(&v, &nodes),
    );
    for n in &nodes {
        assert_eq!(n.gobgp.neighbor_state(VERIFIER_V4), "ESTABLISHED");
        assert_eq!(n.gobgp.neighbor_state(VERIFIER_V6), "ESTABLISHED");
    }
    for s in &all_sessions {
        let p = v.peer(s).unwrap();
        assert_eq!(p["role"], "speaker", "{p:#}");
        assert_eq!(p["remote_asn"], CILIUM_ASN, "{p:#}");
        assert_eq!(
            p["negotiated"]["families"],
            serde_json::json!(["ipv4-unicast", "ipv6-unicast"]),
            "{p:#}"
        );
        assert_eq!(p["negotiated"]["graceful_restart_helper"], true, "{p:#}");
    }
    eprintln!("sessions up after {:.1}s", t0.elapsed().as_secs_f64());

    // 2. Every route, with the right attributes, soon after Established.
    // gobgpd runs restarting (`-r`, as Cilium's does) and defers its UPDATEs
    // until it has End-of-RIB from every peer, or its 360 s deferral timer
    // fires: routes within seconds mean bgpd's End-of-RIB released it.
    let want: Vec<_> = nodes
        .iter()
        .zip(announced)
        .map(|(n, a)| expected(n, a))
        .collect();
    wait_for(
        "bgpd to hold every announced route on both sessions of each node",
        Duration::from_secs(10),
        || {
            nodes
                .iter()
                .zip(&want)
                .all(|(n, w)| held(&v, &n.sessions()).0 == *w)
        },
        || diag(&v, &nodes),
    );
    let arrived = epoch_now();
    for n in &nodes {
        let (_, routes) = held(&v, &n.sessions());
        for r in &routes {
            assert!(cilium_route(r), "not as Cilium announces it: {r:#?}");
            assert!(!r.stale, "{r:#?}");
        }
        // GoBGP could only send once both of its sessions were up.
        let up = n
            .sessions()
            .iter()
            .filter_map(|s| v.peer(s)?["established_at"].as_f64())
            .fold(0.0, f64::max);
        let delay = arrived - up;
        assert!(
            delay < 5.0,
            "node {} routes took {delay:.1}s after Established: gobgpd waited for End-of-RIB\n{}",
            n.v4,
            diag(&v, &nodes)
        );
        for addr in [VERIFIER_V4, VERIFIER_V6] {
            let nb = n.gobgp.cli_json(&["neighbor", addr]).unwrap();
            for af in nb["afi_safis"].as_array().unwrap() {
                assert_eq!(
                    af["mp_graceful_restart"]["state"]["end_of_rib_received"], true,
                    "gobgpd on {} has no End-of-RIB from bgpd: {af:#}",
                    n.v4
                );
            }
        }
    }
    // The prefix lookup finds node 2's IPv4 LoadBalancer IP on both sessions.
    let found: Vec<String> = v
        .lookup(LB2)
        .iter()
        .map(|p| p["peer"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(found.len(), 2, "{found:?}");
    for s in nodes[1].sessions() {
        assert!(found.contains(&s), "{s} missing from {found:?}");
    }
    // A dynamic neighbour's name has a `/`: the API takes it escaped (as
    // `Verifier::routes` sends it) or as is.
    for name in nodes[1].sessions() {
        let plain = v.json(&format!("/api/v1/peers/{name}/routes"));
        assert_eq!(plain["peer"], name.as_str(), "{plain:#}");
        assert_eq!(
            plain["routes"].as_array().map(Vec::len),
            Some(2),
            "{plain:#}"
        );
    }
    assert_eq!(v.get("/api/v1/peers/nodes").map(|r| r.0), Ok(404));
    eprintln!("routes checked after {:.1}s", t0.elapsed().as_secs_f64());

    // 3. A withdrawal on node 1 leaves bgpd.
    nodes[0].gobgp.withdraw(LB1);
    wait_for(
        "node 1's withdrawn route to leave bgpd",
        Duration::from_secs(10),
        || held(&v, &nodes[0].sessions()).0.is_empty(),
        || diag(&v, &nodes),
    );
    assert_eq!(held(&v, &nodes[1].sessions()).0, want[1]);

    // 4. Node 2's gobgpd crashes (SIGKILL: no NOTIFICATION) and restarts.
    // bgpd must keep its routes, stale, until the new gobgpd is back and has
    // sent End-of-RIB; a sampler records node 2's routes every 50 ms.
    let sessions2 = nodes[1].sessions().to_vec();
    let stop = AtomicBool::new(false);
    let t_restart = Instant::now();
    let samples = std::thread::scope(|scope| {
        let sampler = scope.spawn(|| {
            let mut samples = Vec::new();
            while !stop.load(Ordering::SeqCst) && t_restart.elapsed() < Duration::from_secs(60) {
                // States before and after the routes: a sample counts as
                // "down" only if the sessions were down all along.
                let before: Vec<String> = sessions2.iter().map(|s| v.state(s)).collect();
                let (keys, routes) = held(&v, &sessions2);
                let after: Vec<String> = sessions2.iter().map(|s| v.state(s)).collect();
                samples.push(Sample {
                    at: t_restart.elapsed(),
                    keys,
                    routes,
                    down: before.iter().chain(&after).all(|st| st != "Established"),
                    states: after,
                });
                std::thread::sleep(Duration::from_millis(50));
            }
            samples
        });
        // Let the sampler record the steady state first.
        std::thread::sleep(Duration::from_millis(300));
        nodes[1].gobgp.restart();
        wait_for(
            "bgpd to see node 2's sessions go down",
            Duration::from_secs(5),
            || sessions2.iter().all(|s| v.state(s) != "Established"),
            || diag(&v, &nodes),
        );
        wait_for(
            "node 2 back: both sessions Established, its routes fresh again",
            TIMEOUT,
            || {
                sessions2.iter().all(|s| v.state(s) == "Established") && {
                    let (keys, routes) = held(&v, &sessions2);
                    keys == want[1] && routes.iter().all(|r| !r.stale)
                }
            },
            || diag(&v, &nodes),
        );
        // A little more, to see that nothing is flushed after End-of-RIB.
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::SeqCst);
        sampler.join().expect("sampler thread")
    });
    let timeline = || {
        samples
            .iter()
            .map(|s| {
                format!(
                    "{:>6.2}s {:?} {} routes, stale {:?}",
                    s.at.as_secs_f64(),
                    s.states,
                    s.keys.len(),
                    s.routes.iter().map(|r| r.stale).collect::<Vec<_>>()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    // No route lost at any moment.
    for s in &samples {
        assert_eq!(
            s.keys,
            want[1],
            "node 2's routes changed at {:.2}s\n{}",
            s.at.as_secs_f64(),
            timeline()
        );
    }
    // While down, every route stale; at the end, every route fresh.
    let down: Vec<&Sample> = samples.iter().filter(|s| s.down).collect();
    assert!(
        down.len() >= 5,
        "too few samples while node 2 was down\n{}",
        timeline()
    );
    for s in &down {
        assert!(
            s.routes.iter().all(|r| r.stale),
            "a route of node 2 was not stale while it was down, at {:.2}s\n{}",
            s.at.as_secs_f64(),
            timeline()
        );
    }
    let last = samples.last().expect("samples");
    assert!(
        last.routes.iter().all(|r| !r.stale && cilium_route(r)),
        "{:#?}",
        last.routes
    );
    for s in &sessions2 {
        let p = v.peer(s).unwrap();
        assert_eq!(p["stale_prefixes"], 0, "{p:#}");
        assert_eq!(p["flaps"], 1, "{p:#}");
        assert_eq!(p["last_down_reason"], "TCP connection failed", "{p:#}");
        assert_eq!(
            p["negotiated"]["peer_graceful_restart"]["restart_state"], true,
            "the restarted gobgpd sets the R bit: {p:#}"
        );
    }
    // The other nodes were not disturbed.
    for n in [&nodes[0], &nodes[2]] {
        for s in n.sessions() {
            assert_eq!(v.peer(&s).unwrap()["flaps"], 0, "{s}");
        }
    }
    assert!(held(&v, &nodes[0].sessions()).0.is_empty());
    assert!(held(&v, &nodes[2].sessions()).0.is_empty());
    eprintln!(
        "node 2 restart: down for {:.1}s, {} samples; scenario done in {:.1}s",
        down.last().map_or(0.0, |s| s.at.as_secs_f64())
            - down.first().map_or(0.0, |s| s.at.as_secs_f64()),
        samples.len(),
        t0.elapsed().as_secs_f64()
    );
}

/// One look at node 2's sessions during its restart.
struct Sample {
    at: Duration,
    keys: Vec<(String, String, String)>,
    routes: Vec<ApiRoute>,
    /// Session states after the routes were read.
    states: Vec<String>,
    /// Both sessions down before and after the routes were read.
    down: bool,
}

mod raw_node {
    //! A node speaking through a raw connection, as a Cilium agent would
    //! after a reboot that bgpd never saw (no FIN, no RST reached it).
    use bgp_proto::attr::{AsPathRepr, AttributeRepr, Origin};
    use bgp_proto::capability::{CapabilityRepr, GracefulRestartFamily, GracefulRestartRepr};
    use bgp_proto::open::OpenRepr;
    use bgp_proto::{Family, Message, Nlri, SessionContext, UpdateRepr};
    use bgp_tests::raw::RawPeer;
    use std::net::Ipv4Addr;

    /// OPEN and KEEPALIVE as GoBGP configured by Cilium sends them: AS
    /// 64512, both unicast families, graceful restart with the given
    /// Restart Time and the R and F bits set when `restarting`.
    pub fn open(id: Ipv4Addr, restarting: bool, restart_time: u16) -> Vec<u8> {
        let families = [Family::IPV4_UNICAST, Family::IPV6_UNICAST];
        let mut capabilities: Vec<CapabilityRepr> = families
            .iter()
            .map(|f| CapabilityRepr::Multiprotocol(*f))
            .collect();
        capabilities.push(CapabilityRepr::RouteRefresh);
        capabilities.push(CapabilityRepr::FourOctetAs(64512));
        capabilities.push(CapabilityRepr::GracefulRestart(GracefulRestartRepr {
            restart_state: restarting,
            notification: false,
            restart_time,
            families: families
                .iter()
                .map(|&family| GracefulRestartFamily {
                    family,
                    forwarding_state: restarting,
                })
                .collect(),
        }));
        let mut out = Vec::new();
        OpenRepr {
            version: 4,
            my_as: 64512,
            hold_time: 90,
            bgp_identifier: id,
            capabilities,
        }
        .emit(&mut out)
        .unwrap();
        bgp_proto::keepalive::emit_keepalive(&mut out);
        out
    }

    /// An UPDATE announcing `prefixes` (IPv4) with ORIGIN IGP, AS path 64512.
    pub fn announce(next_hop: Ipv4Addr, prefixes: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        UpdateRepr {
            withdrawn: vec![],
            attributes: vec![
                AttributeRepr::Origin(Origin::Igp),
                AttributeRepr::AsPath(AsPathRepr::sequence([64512])),
                AttributeRepr::NextHop(next_hop),
            ],
            nlri: prefixes
                .iter()
                .map(|p| Nlri {
                    path_id: None,
                    prefix: p.parse().unwrap(),
                })
                .collect(),
        }
        .emit(&SessionContext::modern(), &mut out)
        .unwrap();
        out
    }

    /// End-of-RIB for both unicast families.
    pub fn end_of_rib() -> Vec<u8> {
        let mut out = Vec::new();
        for f in [Family::IPV4_UNICAST, Family::IPV6_UNICAST] {
            UpdateRepr::end_of_rib(f)
                .emit(&SessionContext::modern(), &mut out)
                .unwrap();
        }
        out
    }

    /// Reads until bgpd's End-of-RIB for both families; panics on anything
    /// else than OPEN, KEEPALIVE and End-of-RIB, or on a closed connection.
    pub fn until_end_of_rib(c: &mut RawPeer) {
        let mut eor = Vec::new();
        while eor.len() < 2 {
            let m = c
                .recv()
                .expect("bgpd answers")
                .expect("bgpd keeps the connection");
            match Message::new_checked(&m, &SessionContext::modern()).unwrap() {
                Message::Open(o) => assert_eq!(o.peer_as(), 64513),
                Message::Keepalive => {}
                Message::Update(u) => eor.push(u.end_of_rib().expect("bgpd sends only End-of-RIB")),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}

/// A node that reboots and reconnects while bgpd still holds its old
/// connection open (the FIN or RST never arrived: power loss, link down).
/// RFC 4724 s4.2: the new OPEN closes the old connection without a
/// NOTIFICATION, the routes stay (stale), and the new session takes over.
/// A raw client stands in for gobgpd, since only it can keep the old socket
/// silent at will.
#[test]
fn node_reboot_unseen_by_bgpd_is_a_graceful_restart() {
    use bgp_tests::raw::RawPeer;
    use std::net::Ipv4Addr;
    require_lab();
    let t0 = Instant::now();
    let vns = Netns::new("verifier");
    let node = Netns::new("node4");
    bgp_tests::veth(&vns, "172.29.51.2/24", &node, "172.29.51.14/24");
    let config = CONFIG.replace(
        r#"listen = ["172.29.51.2:1790", "[fd47:25e1:2f96:51::2]:1790"]"#,
        r#"listen = ["172.29.51.2:1790"]"#,
    );
    let v = Verifier::start(
        &vns,
        env!("CARGO_BIN_EXE_bgpd"),
        &config,
        HTTP.parse().unwrap(),
    );
    let to: SocketAddr = "172.29.51.2:1790".parse().unwrap();
    let id = Ipv4Addr::new(172, 29, 51, 14);
    let name = "nodes/172.29.51.14";
    let diag = || format!("{:#}\n{}", serde_json::Value::Array(v.peers()), v.logs());

    let mut old = RawPeer::connect(&node, to, Duration::from_secs(10)).unwrap();
    old.send(&raw_node::open(id, false, 120)).unwrap();
    raw_node::until_end_of_rib(&mut old);
    old.send(&raw_node::announce(
        id,
        &["172.29.52.150/32", "172.29.52.151/32"],
    ))
    .unwrap();
    old.send(&raw_node::end_of_rib()).unwrap();
    wait_for(
        "the node's two routes in bgpd",
        Duration::from_secs(5),
        || v.routes(name).len() == 2,
        diag,
    );

    // The node is back, from the same address, with the R and F bits set
    // (and a Restart Time of 2 s, for the last step).
    let mut new = RawPeer::connect(&node, to, Duration::from_secs(10)).unwrap();
    new.send(&raw_node::open(id, true, 2)).unwrap();
    raw_node::until_end_of_rib(&mut new);
    // The old connection is closed, without a NOTIFICATION.
    match old.notification() {
        Ok(None) | Err(_) => {}
        Ok(Some(n)) => panic!("bgpd sent {n:?} on the old connection\n{}", diag()),
    }
    wait_for(
        "bgpd to show the new session Established, the routes stale",
        Duration::from_secs(5),
        || {
            v.state(name) == "Established"
                && matches!(v.routes(name).as_slice(), [a, b] if a.stale && b.stale)
        },
        diag,
    );
    // The node re-announces one route and ends with End-of-RIB: that route
    // is fresh, the other one is gone.
    new.send(&raw_node::announce(id, &["172.29.52.150/32"]))
        .unwrap();
    new.send(&raw_node::end_of_rib()).unwrap();
    wait_for(
        "the re-announced route fresh, the other flushed at End-of-RIB",
        Duration::from_secs(5),
        || matches!(v.routes(name).as_slice(), [r] if !r.stale && r.prefix == "172.29.52.150/32"),
        diag,
    );
    let p = v.peer(name).unwrap();
    assert_eq!(p["state"], "Established", "{p:#}");
    assert_eq!(p["flaps"], 1, "{p:#}");
    assert_eq!(p["stale_prefixes"], 0, "{p:#}");
    assert!(p["last_notification_sent"].is_null(), "{p:#}");

    // The node goes away for good: its route is kept stale for its Restart
    // Time (2 s), then flushed.
    drop(new);
    wait_for(
        "the route stale after the node closed its connection",
        Duration::from_secs(2),
        || matches!(v.routes(name).as_slice(), [r] if r.stale),
        diag,
    );
    let gone = Instant::now();
    wait_for(
        "the stale route flushed when the Restart Time ran out",
        Duration::from_secs(5),
        || v.routes(name).is_empty(),
        diag,
    );
    let waited = gone.elapsed();
    assert!(
        waited >= Duration::from_millis(1500),
        "flushed after {waited:?}, before the 2 s Restart Time"
    );
    assert_eq!(v.peer(name).unwrap()["flaps"], 2);
    eprintln!(
        "half-open restart done in {:.1}s",
        t0.elapsed().as_secs_f64()
    );
}
