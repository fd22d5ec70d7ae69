//! bgpd against BIRD 2, an implementation independent of both GoBGP and
//! FRR, over IPv6 only: a veth link fd47:25e1:2f96:53::/64 between bgpd (::1)
//! and BIRD (::2, AS 64514), bgpd's peer configured by IPv6 address.
//!
//! BIRD exports a static IPv6 route, which bgpd must hold. Then BIRD asks
//! for a route refresh (ROUTE-REFRESH; `birdc reload in`): bgpd has nothing
//! to send, and with enhanced route refresh (RFC 7313) negotiated it answers
//! with an empty Begin/End-of-Route-Refresh pair, which BIRD logs; the
//! session must stay up on both sides. Finally BIRD re-sends its routes
//! (`birdc reload out`, itself framed in BoRR/EoRR): bgpd receives them
//! again and still holds exactly one, fresh copy.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bgp_tests::bird::{Bird, BirdConfig, BGP_PROTOCOL};
use bgp_tests::gobgp::ROUTER_ASN;
use bgp_tests::verifier::Verifier;
use bgp_tests::{require_lab, veth, wait_for, Netns, TIMEOUT};

const VERIFIER_V6: &str = "fd47:25e1:2f96:53::1";
const BIRD_V6: &str = "fd47:25e1:2f96:53::2";
const BIRD_ASN: u32 = 64514;
const ROUTE: &str = "fd47:25e1:2f96:60::/64";

const CONFIG: &str = r#"
asn = 64513
router_id = "172.29.53.1"
listen = ["[fd47:25e1:2f96:53::1]:1790"]

[http]
listen = "127.0.0.1:9179"

[[peer]]
name = "bird"
address = "fd47:25e1:2f96:53::2"
remote_asn = 64514
role = "router"
"#;

fn counter(v: &Verifier, field: &str) -> u64 {
    v.peer("bird").and_then(|p| p[field].as_u64()).unwrap_or(0)
}

#[test]
fn bird_ipv6_route_and_route_refresh() {
    require_lab();
    let t0 = Instant::now();
    let vns = Netns::new("verifier");
    let bns = Netns::new("bird");
    veth(
        &vns,
        format!("{VERIFIER_V6}/64").as_str(),
        &bns,
        format!("{BIRD_V6}/64").as_str(),
    );
    for ns in [&vns, &bns] {
        ns.assert_no_default_route();
    }
    let http: SocketAddr = "127.0.0.1:9179".parse().unwrap();
    let v = Verifier::start(&vns, env!("CARGO_BIN_EXE_bgpd"), CONFIG, http);
    let mut cfg = BirdConfig::new("172.29.53.2", BIRD_ASN, VERIFIER_V6, ROUTER_ASN)
        .port(1790)
        .route(ROUTE);
    // Log every message BIRD sends and receives, BoRR/EoRR included.
    cfg.extra.push("debug all;".to_string());
    let bird = Bird::start(&bns, &cfg);
    let diag = || {
        format!(
            "bgpd peers: {:#}\nbgpd routes: {:#?}\n{}\n{}\n{}",
            serde_json::Value::Array(v.peers()),
            v.routes("bird"),
            bird.try_birdc(&["show", "protocols", "all", BGP_PROTOCOL])
                .unwrap_or_default(),
            bird.logs(),
            v.logs()
        )
    };

    bird.wait_established(BGP_PROTOCOL, TIMEOUT);
    wait_for(
        "bgpd to show the BIRD session Established",
        Duration::from_secs(5),
        || v.state("bird") == "Established",
        diag,
    );
    let p = v.peer("bird").unwrap();
    assert_eq!(p["address"], BIRD_V6, "{p:#}");
    assert_eq!(p["remote_asn"], BIRD_ASN, "{p:#}");
    assert_eq!(p["negotiated"]["route_refresh"], true, "{p:#}");
    // BIRD 2 offers enhanced route refresh (RFC 7313) by default, as bgpd
    // does.
    assert_eq!(p["negotiated"]["enhanced_route_refresh"], true, "{p:#}");
    eprintln!("BIRD session up after {:.1}s", t0.elapsed().as_secs_f64());

    let one_fresh_route = || {
        matches!(v.routes("bird").as_slice(), [r]
            if r.prefix == ROUTE
            && r.family == "ipv6-unicast"
            && r.as_path == BIRD_ASN.to_string()
            && r.origin == "IGP"
            && r.next_hop == BIRD_V6
            && !r.stale)
    };
    wait_for(
        "BIRD's static IPv6 route in bgpd",
        Duration::from_secs(10),
        one_fresh_route,
        diag,
    );
    let r = &v.routes("bird")[0];
    // BIRD sends its link-local address too on a directly connected session.
    let ll = r.json["attrs"]["next_hop_link_local"]
        .as_str()
        .unwrap_or("");
    assert!(ll.is_empty() || ll.starts_with("fe80:"), "{r:#?}");

    // ROUTE-REFRESH from BIRD: answered, the session stays.
    let messages = counter(&v, "messages_received");
    bird.refresh_in(BGP_PROTOCOL);
    wait_for(
        "bgpd to receive BIRD's ROUTE-REFRESH",
        Duration::from_secs(5),
        || counter(&v, "messages_received") > messages,
        diag,
    );
    wait_for(
        "BIRD to log bgpd's empty BoRR/EoRR answer",
        Duration::from_secs(5),
        || {
            let log = bird.logs();
            log.contains("Got BEGIN-OF-RR") && log.contains("Got END-OF-RR")
        },
        diag,
    );
    // Give a broken answer time to break something.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        bird.protocol_state(BGP_PROTOCOL),
        "Established",
        "{}",
        diag()
    );
    assert_eq!(v.state("bird"), "Established", "{}", diag());
    assert!(one_fresh_route(), "{}", diag());

    // BIRD re-sends its routes: still exactly one fresh copy.
    let updates = counter(&v, "updates_received");
    bird.refresh_out(BGP_PROTOCOL);
    wait_for(
        "bgpd to receive BIRD's routes again",
        Duration::from_secs(5),
        || counter(&v, "updates_received") > updates,
        diag,
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(one_fresh_route(), "{}", diag());
    let p = v.peer("bird").unwrap();
    assert_eq!(p["state"], "Established", "{p:#}");
    assert_eq!(p["flaps"], 0, "{p:#}");
    assert_eq!(
        p["prefixes"],
        serde_json::json!({"ipv6-unicast": 1}),
        "{p:#}"
    );
    assert_eq!(bird.protocol_state(BGP_PROTOCOL), "Established");
    eprintln!("scenario done in {:.1}s", t0.elapsed().as_secs_f64());
}
