//! bgpd's defences, against the real peers of the home network.
//!
//! * TCP-MD5 (RFC 2385): bgpd reads its keys from `password_file` and puts
//!   them on its listening socket, per peer address or per prefix. FRR (the
//!   router) and gobgpd (a node) with the right password reach Established;
//!   with a wrong one, or none, the kernel drops their SYNs (its
//!   TCPMD5Failure / TCPMD5NotFound counters prove the attempts arrived) and
//!   no session ever shows in bgpd's API.
//! * A connection from an address that matches no peer is answered with
//!   NOTIFICATION Cease / Connection Rejected (RFC 4486): checked octet by
//!   octet with a raw client, and as FRR reports it.
//! * Maximum prefixes: a peer limited to 2 prefixes that announces 3 gets
//!   Cease / Maximum Number of Prefixes Reached (RFC 4486 s4, with AFI, SAFI
//!   and the limit), bgpd shows it as its last NOTIFICATION sent, and
//!   gobgpd as received; another node on the same prefix peer is untouched.
//!
//! GoBGP and FRR get 5 s connect-retry timers instead of their 120 s
//! defaults, so that a retry fits in the test; GoBGP's first attempt comes
//! 5-10 s after start whatever the timer.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use bgp_tests::frr::{Frr, FrrConfig, FrrNeighbor};
use bgp_tests::gobgp::{GoBgp, Neighbor, CILIUM_ASN};
use bgp_tests::raw::RawPeer;
use bgp_tests::verifier::Verifier;
use bgp_tests::{require_lab, wait_for, wait_until, Lan, Netns, TIMEOUT};

const ROUTER_V4: &str = "172.29.51.1";
const VERIFIER_V4: &str = "172.29.51.2";
const API_PORT: u16 = 50051;
const NODES_KEY: &str = "cilium-nodes-md5-key";
// FRR takes a password as one word.
const ROUTER_KEY: &str = "udm-pro-md5-key";

fn http() -> SocketAddr {
    "127.0.0.1:9179".parse().unwrap()
}

/// bgpd's configuration with TCP-MD5 keys for the node prefix and the router,
/// read from files in `dir`.
fn md5_config(dir: &Path) -> String {
    let nodes = dir.join("md5-nodes");
    let router = dir.join("md5-udm-pro");
    // As from a Kubernetes Secret created with --from-file out of `echo`:
    // one trailing newline, which bgpd strips.
    std::fs::write(&nodes, format!("{NODES_KEY}\n")).unwrap();
    std::fs::write(&router, ROUTER_KEY).unwrap();
    format!(
        r#"
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
password_file = "{}"

[[peer]]
name = "udm-pro"
address = "172.29.51.1"
remote_asn = 64513
role = "router"
password_file = "{}"
"#,
        nodes.display(),
        router.display()
    )
}

/// A LAN with bgpd's namespace (.2), the router's (.1) and `n` node
/// namespaces (.11, .12, ...); [`Lab::start`] runs bgpd.
struct Lab {
    // Field order = drop order: namespaces, then the LAN.
    router: Netns,
    nodes: Vec<Netns>,
    vns: Netns,
    _lan: Lan,
}

impl Lab {
    fn new(n: usize) -> Lab {
        let lan = Lan::new("lan");
        let vns = Netns::new("verifier");
        lan.attach(&vns, "172.29.51.2/24");
        let router = Netns::new("udm");
        lan.attach(&router, "172.29.51.1/24");
        let nodes = (1..=n)
            .map(|i| {
                let ns = Netns::new(&format!("node{i}"));
                lan.attach(&ns, format!("172.29.51.1{i}/24").as_str());
                ns
            })
            .collect();
        Lab {
            router,
            nodes,
            vns,
            _lan: lan,
        }
    }

    /// Starts bgpd with the configuration `config` makes, given a directory
    /// for secrets.
    fn start(&self, config: impl FnOnce(&Path) -> String) -> Verifier {
        let text = config(&self.vns.subdir("secrets"));
        Verifier::start(&self.vns, env!("CARGO_BIN_EXE_bgpd"), &text, http())
    }
}

/// A TcpExt counter (`/proc/net/netstat`) of the namespace `ns`.
fn tcp_ext(ns: &Netns, name: &str) -> u64 {
    let name = name.to_string();
    ns.run_in(move || {
        // /proc/thread-self: this thread's network namespace, not the
        // process's.
        let text = std::fs::read_to_string("/proc/thread-self/net/netstat").unwrap_or_default();
        let mut lines = text.lines();
        while let (Some(keys), Some(values)) = (lines.next(), lines.next()) {
            if !keys.starts_with("TcpExt:") {
                continue;
            }
            let found = keys
                .split_whitespace()
                .zip(values.split_whitespace())
                .find(|(k, _)| *k == name)
                .and_then(|(_, v)| v.parse().ok());
            if let Some(v) = found {
                return v;
            }
        }
        0
    })
    .unwrap_or(0)
}

#[test]
fn md5_right_password_establishes() {
    require_lab();
    let t0 = Instant::now();
    let lab = Lab::new(1);
    let v = &lab.start(md5_config);
    let frr = Frr::start(
        &lab.router,
        &FrrConfig::udm_pro(ROUTER_V4).neighbor(
            FrrNeighbor::verifier(VERIFIER_V4)
                .password(ROUTER_KEY)
                .connect_retry(5),
        ),
    );
    let node = GoBgp::start(
        &lab.nodes[0],
        "172.29.51.11",
        None,
        &[Neighbor::verifier(VERIFIER_V4)
            .password(NODES_KEY)
            .connect_retry(5)],
        API_PORT,
    );
    let diag = || {
        format!(
            "{:#}\n{}\n{}\n{}",
            serde_json::Value::Array(v.peers()),
            frr.logs(),
            node.logs(),
            v.logs()
        )
    };
    wait_for(
        "both keyed sessions Established in bgpd",
        TIMEOUT,
        || v.state("udm-pro") == "Established" && v.state("nodes/172.29.51.11") == "Established",
        diag,
    );
    frr.wait_established(VERIFIER_V4, Duration::from_secs(5));
    node.wait_established(VERIFIER_V4, Duration::from_secs(5));
    // The kernel checked signatures and found them right.
    assert_eq!(tcp_ext(&lab.vns, "TCPMD5Failure"), 0);
    assert_eq!(tcp_ext(&lab.vns, "TCPMD5NotFound"), 0);
    eprintln!("MD5 sessions up in {:.1}s", t0.elapsed().as_secs_f64());
}

#[test]
fn md5_wrong_or_missing_password_never_establishes() {
    require_lab();
    let t0 = Instant::now();
    let lab = Lab::new(2);
    let v = &lab.start(md5_config);
    let frr = Frr::start(
        &lab.router,
        &FrrConfig::udm_pro(ROUTER_V4).neighbor(
            FrrNeighbor::verifier(VERIFIER_V4)
                .password("not-the-udm-pro-key")
                .connect_retry(5),
        ),
    );
    let wrong = GoBgp::start(
        &lab.nodes[0],
        "172.29.51.11",
        None,
        &[Neighbor::verifier(VERIFIER_V4)
            .password("not-the-nodes-key")
            .connect_retry(5)],
        API_PORT,
    );
    let unsigned = GoBgp::start(
        &lab.nodes[1],
        "172.29.51.12",
        None,
        &[Neighbor::verifier(VERIFIER_V4).connect_retry(5)],
        API_PORT,
    );
    let diag = || {
        format!(
            "{:#}\nTCPMD5Failure {} TCPMD5NotFound {}\n{}\n{}\n{}\n{}",
            serde_json::Value::Array(v.peers()),
            tcp_ext(&lab.vns, "TCPMD5Failure"),
            tcp_ext(&lab.vns, "TCPMD5NotFound"),
            frr.logs(),
            wrong.logs(),
            unsigned.logs(),
            v.logs()
        )
    };
    // Watch for 12 s, which covers FRR's first attempts and at least one of
    // each gobgpd (5-10 s after start): bgpd never shows a session beyond
    // Idle, and never learns of the nodes.
    let mut samples = 0;
    let watched = wait_until(Duration::from_secs(12), Duration::from_millis(200), || {
        samples += 1;
        for p in v.peers() {
            let (name, state) = (
                p["name"].as_str().unwrap_or(""),
                p["state"].as_str().unwrap_or(""),
            );
            assert!(
                name == "udm-pro" && state == "Idle",
                "bgpd shows {name} in {state} despite a wrong MD5 key\n{}",
                diag()
            );
        }
        false
    });
    assert!(!watched && samples >= 30, "only {samples} samples");
    // The attempts did reach bgpd's kernel, which dropped them: FRR and the
    // first node sign with the wrong key, the second node does not sign.
    wait_for(
        "the kernel to drop signed and unsigned SYNs",
        Duration::from_secs(5),
        || tcp_ext(&lab.vns, "TCPMD5Failure") >= 2 && tcp_ext(&lab.vns, "TCPMD5NotFound") >= 1,
        diag,
    );
    assert_ne!(frr.neighbor_state(VERIFIER_V4), "Established");
    assert_ne!(wrong.neighbor_state(VERIFIER_V4), "ESTABLISHED");
    assert_ne!(unsigned.neighbor_state(VERIFIER_V4), "ESTABLISHED");
    eprintln!("MD5 mismatch checked in {:.1}s", t0.elapsed().as_secs_f64());
}

#[test]
fn unknown_source_gets_connection_rejected() {
    require_lab();
    let t0 = Instant::now();
    // bgpd listens on the node LAN and on a second link, 172.29.55.0/24,
    // where no peer is configured.
    let config = |_: &Path| {
        r#"
asn = 64513
router_id = "172.29.51.2"
listen = ["172.29.51.2:1790", "172.29.55.2:1790"]

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
"#
        .to_string()
    };
    let lab = Lab::new(0);
    let link = Lan::new("lan55");
    let stranger = Netns::new("stranger");
    let frr_ns = Netns::new("strangefrr");
    link.attach(&lab.vns, "172.29.55.2/24");
    link.attach(&stranger, "172.29.55.9/24");
    link.attach(&frr_ns, "172.29.55.10/24");
    let v = &lab.start(config);
    let to: SocketAddr = "172.29.55.2:1790".parse().unwrap();

    // The exact octets: a 21-octet NOTIFICATION, Cease (6) / Connection
    // Rejected (5), no data, sent before anything is asked, then the close.
    let mut raw = RawPeer::connect(&stranger, to, Duration::from_secs(5)).unwrap();
    let msg = raw
        .recv()
        .unwrap()
        .expect("a NOTIFICATION before the close");
    let mut want = vec![0xff; 16];
    want.extend_from_slice(&[0, 21, 3, 6, 5]);
    assert_eq!(msg, want);
    assert!(
        matches!(raw.recv(), Ok(None) | Err(_)),
        "connection not closed"
    );

    // A real speaker configured toward bgpd from that address. FRR logs the
    // NOTIFICATION it received and counts it; having sent its OPEN, it is in
    // OpenSent, where RFC 4271 s8.2.2 makes any NOTIFICATION but a version
    // error an FSM error, so it answers 5/1 (RFC 6608), and that is what its
    // `lastNotificationReason` keeps.
    let frr = Frr::start(
        &frr_ns,
        &FrrConfig::udm_pro("172.29.55.10")
            .line("bgp log-neighbor-changes")
            .neighbor(FrrNeighbor::verifier("172.29.55.2").connect_retry(5)),
    );
    let needle =
        "%NOTIFICATION: received from neighbor 172.29.55.2 6/5 (Cease/Connection Rejected)";
    wait_for(
        "FRR to log bgpd's Cease/Connection Rejected",
        Duration::from_secs(10),
        || frr.logs().contains(needle),
        || format!("{}\n{}", frr.logs(), v.logs()),
    );
    let nb = frr.neighbor_json("172.29.55.2");
    assert!(
        nb["messageStats"]["notificationsRecv"]
            .as_u64()
            .unwrap_or(0)
            >= 1,
        "{nb:#}"
    );
    assert_eq!(nb["connectionsEstablished"], 0, "{nb:#}");
    assert_ne!(nb["bgpState"], "Established", "{nb:#}");

    // bgpd made no peer of either stranger and logged why.
    for p in v.peers() {
        assert!(
            p["name"] == "udm-pro" && p["state"] == "Idle",
            "unexpected peer {p:#}"
        );
    }
    assert!(v.logs().contains("matches no peer"), "{}", v.logs());
    eprintln!("rejections checked in {:.1}s", t0.elapsed().as_secs_f64());
}

#[test]
fn max_prefixes_closes_the_session() {
    require_lab();
    let t0 = Instant::now();
    let config = |_: &Path| {
        r#"
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
name = "limited"
address = "172.29.51.12"
remote_asn = 64512
role = "speaker"
max_prefixes = 2
"#
        .to_string()
    };
    let lab = Lab::new(2);
    let v = &lab.start(config);
    let peers = [Neighbor::verifier(VERIFIER_V4).connect_retry(5)];
    let ok = GoBgp::start_with_routes(
        &lab.nodes[0],
        "172.29.51.11",
        None,
        &peers,
        API_PORT,
        &["172.29.52.11/32"],
    );
    let over = GoBgp::start_with_routes(
        &lab.nodes[1],
        "172.29.51.12",
        None,
        &peers,
        API_PORT,
        &["172.29.52.1/32", "172.29.52.2/32", "172.29.52.3/32"],
    );
    let diag = || {
        format!(
            "{:#}\n{}\n{}\n{}",
            serde_json::Value::Array(v.peers()),
            ok.logs(),
            over.logs(),
            v.logs()
        )
    };
    wait_for(
        "bgpd to send Cease/Maximum Number of Prefixes Reached to the limited peer",
        TIMEOUT,
        || {
            v.peer("limited")
                .is_some_and(|p| !p["last_notification_sent"].is_null())
        },
        diag,
    );
    let p = v.peer("limited").unwrap();
    let sent = &p["last_notification_sent"];
    assert_eq!(
        (sent["code"].as_u64(), sent["subcode"].as_u64()),
        (Some(6), Some(1)),
        "{p:#}"
    );
    assert_eq!(p["flaps"], 1, "{p:#}");
    assert_ne!(p["state"], "Established", "{p:#}");
    // No route of the closed session is kept (a NOTIFICATION is no restart).
    assert!(v.routes("limited").is_empty(), "{}", diag());

    // gobgpd received it: its counter, and its log with code and subcode.
    let nb = over.cli_json(&["neighbor", VERIFIER_V4]).unwrap();
    let received = nb["state"]["messages"]["received"]["notification"]
        .as_u64()
        .unwrap_or(0);
    assert!(received >= 1, "gobgpd counted no NOTIFICATION: {nb:#}");
    // RFC 4486 s4: the data is AFI 1, SAFI 1 and the limit, 2.
    let log = over.logs();
    assert!(
        log.lines().any(|l| l.contains("received notification")
            && l.contains("Code=6")
            && l.contains("Subcode=1")
            && l.contains("Data=\"[0 1 1 0 0 0 2]\"")),
        "gobgpd did not log Cease/1 with AFI, SAFI and limit:\n{log}"
    );

    // The node within limits keeps its session and route.
    wait_for(
        "the other node's session and route",
        TIMEOUT,
        || {
            v.state("nodes/172.29.51.11") == "Established"
                && v.routes("nodes/172.29.51.11").len() == 1
        },
        diag,
    );
    assert_eq!(v.peer("nodes/172.29.51.11").unwrap()["flaps"], 0);
    let r = &v.routes("nodes/172.29.51.11")[0];
    assert_eq!(r.as_path, CILIUM_ASN.to_string());
    eprintln!("max-prefix checked in {:.1}s", t0.elapsed().as_secs_f64());
}

/// A node whose AS is not the one configured for it: bgpd refuses its OPEN
/// with OPEN Message Error / Bad Peer AS (RFC 4271 s6.2), and its API says
/// so, although the session never was Established.
#[test]
fn wrong_peer_as_is_refused_and_shown() {
    require_lab();
    let t0 = Instant::now();
    let config = |_: &Path| {
        r#"
asn = 64513
router_id = "172.29.51.2"
listen = ["172.29.51.2:1790"]

[http]
listen = "127.0.0.1:9179"

[[peer]]
name = "nodes"
prefix = "172.29.51.0/24"
remote_asn = 64599
role = "speaker"
"#
        .to_string()
    };
    let lab = Lab::new(1);
    let v = &lab.start(config);
    let node = GoBgp::start_with_routes(
        &lab.nodes[0],
        "172.29.51.11",
        None,
        &[Neighbor::verifier(VERIFIER_V4).connect_retry(5)],
        API_PORT,
        &["172.29.52.11/32"],
    );
    let name = "nodes/172.29.51.11";
    let diag = || {
        format!(
            "{:#}\n{}\n{}",
            serde_json::Value::Array(v.peers()),
            node.logs(),
            v.logs()
        )
    };
    wait_for(
        "bgpd to show the OPEN error it sent",
        TIMEOUT,
        || {
            v.peer(name)
                .is_some_and(|p| !p["last_notification_sent"].is_null())
        },
        diag,
    );
    let p = v.peer(name).unwrap();
    let sent = &p["last_notification_sent"];
    assert_eq!(
        (sent["code"].as_u64(), sent["subcode"].as_u64()),
        (Some(2), Some(2)),
        "{p:#}"
    );
    assert_eq!(p["state"], "Idle", "{p:#}");
    assert_eq!(p["flaps"], 0, "{p:#}");
    assert!(v.routes(name).is_empty());
    // gobgpd, in OpenConfirm by then (it had bgpd's OPEN), counts the
    // NOTIFICATION but only logs it as an unexpected message.
    let nb = node.cli_json(&["neighbor", VERIFIER_V4]).unwrap();
    assert!(
        nb["state"]["messages"]["received"]["notification"]
            .as_u64()
            .unwrap_or(0)
            >= 1,
        "gobgpd counted no NOTIFICATION: {nb:#}"
    );
    assert_ne!(node.neighbor_state(VERIFIER_V4), "ESTABLISHED");
    eprintln!("wrong AS checked in {:.1}s", t0.elapsed().as_secs_f64());
}
