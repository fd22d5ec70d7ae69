//! Reachability probing (`bgpd::reach`) against real network namespaces.
//!
//! Each test builds its own little network: a "probe" namespace where
//! `reach::spawn` runs (on a Tokio runtime inside a thread that joined that
//! namespace, so every socket it opens lives there) and one or more "node"
//! namespaces owning the target addresses, joined by veth pairs. The
//! addresses are documentation ranges (192.0.2.0/24, 198.51.100.0/24,
//! 2001:db8::/32) that exist only inside these namespaces; nothing is sent
//! anywhere else.
//!
//! `net.ipv4.ping_group_range` is per network namespace, so each test sets it
//! in its probe namespace to allow or forbid ping sockets for our group;
//! root is subject to it like anyone (the kernel checks the group, not
//! capabilities). Needs root: fails, never skips, without it.
//!
//! Covered: ICMP and ICMPv6 echo with an RTT; `auto` on TCP while ping
//! sockets are forbidden and back on ICMP once they are allowed; `icmp`
//! alone failing with a message naming the sysctl; a refused TCP connection
//! counting as reachable; link down and address removal making a node
//! unreachable with growing `consecutive_failures`, and recovery; a round of
//! many silent targets finishing in about one timeout (concurrency); a
//! target added between rounds probed within a second, a removed one
//! dropped.

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bgp_tests::daemon::run;
use bgp_tests::netns::run_in_ns;
use bgp_tests::{prereq, require_root, veth, wait_until, Netns};
use bgpd::config::{ReachConfig, ReachMethod};
use bgpd::reach::{self, Method, ProbeResult, ReachState, Target, PORT_CLOSED};
use tokio::sync::watch;

const PROBE_V4: &str = "192.0.2.1/24";
const NODE_V4: &str = "192.0.2.2/24";
const NODE_V4_ADDR: &str = "192.0.2.2";
const PROBE_V6: &str = "2001:db8:51::1/64";
const NODE_V6: &str = "2001:db8:51::2/64";
const NODE_V6_ADDR: &str = "2001:db8:51::2";
const KUBELET_PORT: u16 = 10250;

/// `reach::spawn` running inside a namespace, driven from the test thread.
struct Prober {
    targets: watch::Sender<Vec<Target>>,
    shutdown: watch::Sender<bool>,
    state: watch::Receiver<Arc<ReachState>>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
    started: Instant,
}

impl Prober {
    /// Starts probing `targets` from inside `ns` with `config`.
    fn start(ns: &Netns, config: ReachConfig, targets: Vec<Target>) -> Prober {
        let (targets_tx, targets_rx) = watch::channel(targets);
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let (back_tx, back_rx) = mpsc::channel();
        let name = ns.name().to_string();
        let started = Instant::now();
        let thread = std::thread::spawn(move || {
            run_in_ns(&name, move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a Tokio runtime");
                rt.block_on(async move {
                    let mut stop = shutdown_rx.clone();
                    let state = reach::spawn(config, targets_rx, shutdown_rx);
                    back_tx
                        .send(state)
                        .expect("test thread waits for the state");
                    let _ = stop.wait_for(|s| *s).await;
                });
            })
        });
        let state = back_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the probing thread did not start");
        Prober {
            targets: targets_tx,
            shutdown: shutdown_tx,
            state,
            thread: Some(thread),
            started,
        }
    }

    fn set_targets(&self, targets: Vec<Target>) {
        self.targets.send_replace(targets);
    }

    fn now(&self) -> Arc<ReachState> {
        self.state.borrow().clone()
    }

    /// Waits until `pred` holds for the published state; panics with the
    /// last state after `timeout`.
    fn wait(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&ReachState) -> bool,
    ) -> Arc<ReachState> {
        let mut last = self.now();
        let ok = wait_until(timeout, Duration::from_millis(10), || {
            last = self.now();
            pred(&last)
        });
        assert!(
            ok,
            "timed out after {timeout:?} waiting for {what}; last state: {last:#?}"
        );
        last
    }

    /// Waits until `node`/`addr` has a result satisfying `pred` and returns it.
    fn wait_result(
        &self,
        what: &str,
        timeout: Duration,
        node: &str,
        addr: &str,
        pred: impl Fn(&ProbeResult) -> bool,
    ) -> ProbeResult {
        let addr: IpAddr = addr.parse().unwrap();
        let s = self.wait(what, timeout, |s| s.get(node, addr).is_some_and(&pred));
        s.get(node, addr).cloned().unwrap()
    }
}

impl Drop for Prober {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
        if let Some(t) = self.thread.take() {
            let joined = t.join();
            if !std::thread::panicking() {
                joined
                    .expect("probing thread panicked")
                    .expect("could not enter the probe namespace");
            }
        }
    }
}

fn target(node: &str, addr: &str) -> Target {
    Target {
        node: node.to_string(),
        address: addr.parse().unwrap(),
    }
}

fn config(method: ReachMethod, interval_ms: u64, timeout_ms: u64) -> ReachConfig {
    ReachConfig {
        enabled: true,
        method,
        interval: Duration::from_millis(interval_ms),
        timeout: Duration::from_millis(timeout_ms),
        tcp_port: KUBELET_PORT,
    }
}

/// Allows (`true`) or forbids ping sockets for every group in `ns`, and
/// checks that the kernel took the value.
fn allow_ping(ns: &Netns, allow: bool) {
    let range = if allow { "0 2147483647" } else { "1 0" };
    let setting = format!("net.ipv4.ping_group_range={range}");
    run(&mut ns.exec(prereq("sysctl"), ["-qw", setting.as_str()]));
    let now = run(&mut ns.exec(prereq("sysctl"), ["-n", "net.ipv4.ping_group_range"]));
    assert_eq!(
        now.split_whitespace().collect::<Vec<_>>().join(" "),
        range,
        "ping_group_range in {}",
        ns.name()
    );
}

/// A probe namespace and a node namespace joined by one veth pair.
struct Pair {
    probe: Netns,
    node: Netns,
    /// The node's end of the veth.
    node_if: String,
}

fn pair(tag: &str, probe_cidrs: &[&str], node_cidrs: &[&str]) -> Pair {
    require_root();
    let probe = Netns::new(&format!("{tag}-p"));
    let node = Netns::new(&format!("{tag}-n"));
    let link = veth(&probe, probe_cidrs, &node, node_cidrs);
    probe.assert_no_default_route();
    node.assert_no_default_route();
    Pair {
        probe,
        node,
        node_if: link.b_if,
    }
}

/// A TCP listener on `addr`, created inside `ns`.
fn listen_in(ns: &Netns, addr: SocketAddr) -> TcpListener {
    ns.run_in(move || TcpListener::bind(addr))
        .expect("enter the node namespace")
        .unwrap_or_else(|e| panic!("cannot listen on {addr}: {e}"))
}

fn assert_answered(r: &ProbeResult, method: Method, timeout: Duration) {
    assert!(r.reachable, "{r:?}");
    assert_eq!(r.method, method, "{r:?}");
    assert_eq!(r.consecutive_failures, 0, "{r:?}");
    assert!(!r.is_down(), "{r:?}");
    let rtt = r.rtt.unwrap_or_else(|| panic!("no RTT: {r:?}"));
    assert!(rtt > Duration::ZERO && rtt < timeout, "{r:?}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        r.at <= now + 0.001 && r.at > now - 60.0,
        "at {} vs now {now}",
        r.at
    );
}

#[test]
fn icmp_echo_v4_is_answered_with_an_rtt() {
    let net = pair("rch-icmp4", &[PROBE_V4], &[NODE_V4]);
    allow_ping(&net.probe, true);
    let cfg = config(ReachMethod::Icmp, 300, 250);
    let p = Prober::start(
        &net.probe,
        cfg.clone(),
        vec![target("node-1", NODE_V4_ADDR)],
    );
    let first = p.wait("the first round", Duration::from_secs(3), |s| s.round >= 1);
    assert_eq!(first.results.len(), 1, "{first:#?}");
    let r = first.get("node-1", NODE_V4_ADDR.parse().unwrap()).unwrap();
    assert_answered(r, Method::Icmp, cfg.timeout);
    assert_eq!(r.error, None);
    // Rounds keep coming, one per interval.
    let s = p.wait("three rounds", Duration::from_secs(5), |s| s.round >= 4);
    let r = s.get("node-1", NODE_V4_ADDR.parse().unwrap()).unwrap();
    assert_answered(r, Method::Icmp, cfg.timeout);
    let elapsed = p.started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(3 * 300),
        "4 rounds in {elapsed:?}: faster than the interval"
    );
}

#[test]
fn icmpv6_echo_and_tcp_over_ipv6() {
    let net = pair("rch-v6", &[PROBE_V6], &[NODE_V6]);
    allow_ping(&net.probe, true);
    let cfg = config(ReachMethod::Icmp, 300, 250);
    let icmp = Prober::start(
        &net.probe,
        cfg.clone(),
        vec![target("node-1", NODE_V6_ADDR)],
    );
    let r = icmp.wait_result(
        "an ICMPv6 reply",
        Duration::from_secs(3),
        "node-1",
        NODE_V6_ADDR,
        |r| r.reachable,
    );
    assert_answered(&r, Method::Icmp, cfg.timeout);
    assert_eq!(r.error, None);

    // TCP over IPv6: first refused (nothing listens), then open.
    let tcp = Prober::start(
        &net.probe,
        config(ReachMethod::Tcp, 300, 250),
        vec![target("node-1", NODE_V6_ADDR)],
    );
    let r = tcp.wait_result(
        "a TCP answer",
        Duration::from_secs(3),
        "node-1",
        NODE_V6_ADDR,
        |_| true,
    );
    assert_answered(&r, Method::Tcp, cfg.timeout);
    assert_eq!(r.error.as_deref(), Some(PORT_CLOSED));
    let _kubelet = listen_in(
        &net.node,
        SocketAddr::new(NODE_V6_ADDR.parse().unwrap(), KUBELET_PORT),
    );
    let r = tcp.wait_result(
        "a completed handshake",
        Duration::from_secs(3),
        "node-1",
        NODE_V6_ADDR,
        |r| r.error.is_none(),
    );
    assert_answered(&r, Method::Tcp, cfg.timeout);
}

#[test]
fn refused_tcp_connection_counts_as_reachable() {
    let net = pair("rch-tcp4", &[PROBE_V4], &[NODE_V4]);
    let cfg = config(ReachMethod::Tcp, 300, 250);
    let p = Prober::start(
        &net.probe,
        cfg.clone(),
        vec![target("node-1", NODE_V4_ADDR)],
    );
    let r = p.wait_result(
        "a TCP answer",
        Duration::from_secs(3),
        "node-1",
        NODE_V4_ADDR,
        |_| true,
    );
    assert_answered(&r, Method::Tcp, cfg.timeout);
    assert_eq!(r.error.as_deref(), Some(PORT_CLOSED), "{r:?}");
    assert_eq!(PORT_CLOSED, "port closed, host answered");
}

#[test]
fn auto_uses_tcp_while_ping_sockets_are_forbidden() {
    let net = pair("rch-auto", &[PROBE_V4], &[NODE_V4]);
    let _kubelet = listen_in(
        &net.node,
        SocketAddr::new(NODE_V4_ADDR.parse().unwrap(), KUBELET_PORT),
    );
    allow_ping(&net.probe, false);
    let cfg = config(ReachMethod::Auto, 300, 250);
    let auto = Prober::start(
        &net.probe,
        cfg.clone(),
        vec![target("node-1", NODE_V4_ADDR)],
    );
    let r = auto.wait_result(
        "a probe",
        Duration::from_secs(3),
        "node-1",
        NODE_V4_ADDR,
        |_| true,
    );
    assert_answered(&r, Method::Tcp, cfg.timeout);
    assert_eq!(r.error, None, "the listener accepts: {r:?}");

    // Method icmp alone cannot probe, and says why.
    let icmp = Prober::start(
        &net.probe,
        config(ReachMethod::Icmp, 300, 250),
        vec![target("node-1", NODE_V4_ADDR)],
    );
    let r = icmp.wait_result(
        "a failed probe",
        Duration::from_secs(3),
        "node-1",
        NODE_V4_ADDR,
        |_| true,
    );
    assert!(!r.reachable, "{r:?}");
    assert_eq!(r.method, Method::Icmp);
    let err = r.error.clone().unwrap_or_default();
    assert!(err.contains("net.ipv4.ping_group_range"), "{err}");
    assert!(err.contains("\"1 0\""), "{err}");

    // Allowed now: auto switches to ICMP at its next round, icmp recovers.
    allow_ping(&net.probe, true);
    let r = auto.wait_result(
        "auto on ICMP",
        Duration::from_secs(3),
        "node-1",
        NODE_V4_ADDR,
        |r| r.method == Method::Icmp,
    );
    assert_answered(&r, Method::Icmp, cfg.timeout);
    assert_eq!(r.error, None);
    let r = icmp.wait_result(
        "icmp recovered",
        Duration::from_secs(3),
        "node-1",
        NODE_V4_ADDR,
        |r| r.reachable,
    );
    assert_answered(&r, Method::Icmp, cfg.timeout);

    // Forbidden again: back to TCP, never unreachable in between.
    allow_ping(&net.probe, false);
    let r = auto.wait_result(
        "auto back on TCP",
        Duration::from_secs(3),
        "node-1",
        NODE_V4_ADDR,
        |r| r.method == Method::Tcp,
    );
    assert_answered(&r, Method::Tcp, cfg.timeout);
}

#[test]
fn link_down_and_address_removal_make_a_node_unreachable() {
    let net = pair("rch-down", &[PROBE_V4], &[NODE_V4]);
    allow_ping(&net.probe, true);
    let timeout = Duration::from_millis(200);
    let t = vec![target("node-1", NODE_V4_ADDR)];
    let icmp = Prober::start(&net.probe, config(ReachMethod::Icmp, 300, 200), t.clone());
    let tcp = Prober::start(&net.probe, config(ReachMethod::Tcp, 300, 200), t);
    let probers = [(&icmp, Method::Icmp), (&tcp, Method::Tcp)];
    for (p, method) in probers {
        let r = p.wait_result(
            "reachable",
            Duration::from_secs(3),
            "node-1",
            NODE_V4_ADDR,
            |r| r.reachable,
        );
        assert_answered(&r, method, timeout);
    }

    for (what, cut, heal) in [
        (
            "link down",
            vec!["link", "set", net.node_if.as_str(), "down"],
            vec!["link", "set", net.node_if.as_str(), "up"],
        ),
        (
            "address removed",
            vec!["addr", "del", NODE_V4, "dev", net.node_if.as_str()],
            vec!["addr", "add", NODE_V4, "dev", net.node_if.as_str()],
        ),
    ] {
        net.node.ip(&cut);
        for (p, method) in probers {
            // Observe failures counting up, never resetting.
            let mut seen = Vec::new();
            let ok = wait_until(Duration::from_secs(5), Duration::from_millis(10), || {
                if let Some(r) = p.now().get("node-1", NODE_V4_ADDR.parse().unwrap()) {
                    if seen.last() != Some(&r.consecutive_failures) {
                        seen.push(r.consecutive_failures);
                    }
                }
                seen.last().is_some_and(|n| *n >= 3)
            });
            assert!(ok, "{what}, {method}: failures seen {seen:?}");
            assert!(
                seen.windows(2).all(|w| w[1] > w[0]),
                "{what}, {method}: failures must only grow: {seen:?}"
            );
            let r = p
                .now()
                .get("node-1", NODE_V4_ADDR.parse().unwrap())
                .cloned()
                .unwrap();
            assert!(!r.reachable && r.is_down(), "{what}, {method}: {r:?}");
            assert_eq!(r.rtt, None, "{what}, {method}: {r:?}");
            assert_eq!(r.method, method);
            assert!(r.error.is_some(), "{what}, {method}: {r:?}");
        }
        net.node.ip(&heal);
        for (p, method) in probers {
            let r = p.wait_result(
                &format!("{method} recovery after {what}"),
                Duration::from_secs(5),
                "node-1",
                NODE_V4_ADDR,
                |r| r.reachable,
            );
            assert_answered(&r, method, timeout);
        }
    }
}

#[test]
fn rounds_are_concurrent_and_new_targets_are_probed_at_once() {
    // 40 addresses owned by a node whose link goes down: none answers.
    let net = pair("rch-many", &[PROBE_V4], &[NODE_V4]);
    let silent = Netns::new("rch-many-s");
    let silent_addrs: Vec<String> = (10..50).map(|i| format!("198.51.100.{i}")).collect();
    let silent_cidrs: Vec<String> = silent_addrs.iter().map(|a| format!("{a}/24")).collect();
    let link = veth(&net.probe, "198.51.100.1/24", &silent, silent_cidrs);
    silent.ip(&["link", "set", &link.b_if, "down"]);
    allow_ping(&net.probe, true);

    let mut targets: Vec<Target> = silent_addrs
        .iter()
        .enumerate()
        .map(|(i, a)| target(&format!("silent-{i}"), a))
        .collect();
    targets.push(target("node-1", NODE_V4_ADDR));
    let timeout = Duration::from_millis(500);
    let p = Prober::start(
        &net.probe,
        config(ReachMethod::Icmp, 20_000, 500),
        targets.clone(),
    );
    let s = p.wait("the first round", Duration::from_secs(4), |s| s.round >= 1);
    let took = p.started.elapsed();
    assert_eq!(s.results.len(), 41);
    // 41 probes of 0.5 s one after the other would take 20 s.
    assert!(took < Duration::from_secs(3), "first round took {took:?}");
    assert_eq!(s.down().count(), 0, "one failure is not down");
    for (key, r) in &s.results {
        if key.0 == "node-1" {
            assert_answered(r, Method::Icmp, timeout);
        } else {
            assert!(
                !r.reachable && r.consecutive_failures == 1,
                "{key:?}: {r:?}"
            );
        }
    }

    // Between rounds (the next is 20 s away): a new target appears within a
    // second, removed ones leave.
    let changed = Instant::now();
    targets.retain(|t| !t.node.starts_with("silent-"));
    targets.push(target("node-late", NODE_V4_ADDR));
    p.set_targets(targets);
    let s = p.wait("the late node", Duration::from_millis(1500), |s| {
        s.get("node-late", NODE_V4_ADDR.parse().unwrap()).is_some()
    });
    assert!(
        changed.elapsed() < Duration::from_millis(1200),
        "{:?}",
        changed.elapsed()
    );
    assert_eq!(s.round, 1, "a partial batch is not a round: {s:#?}");
    let keys: Vec<&str> = s.results.keys().map(|(n, _)| n.as_str()).collect();
    assert_eq!(keys, ["node-1", "node-late"]);
    assert_answered(
        s.get("node-late", NODE_V4_ADDR.parse().unwrap()).unwrap(),
        Method::Icmp,
        timeout,
    );
}

#[test]
fn disabled_probing_starts_nothing() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (_targets, targets_rx) = watch::channel(vec![target("node-1", "192.0.2.2")]);
        let (_stop, stop_rx) = watch::channel(false);
        let mut cfg = config(ReachMethod::Icmp, 100, 50);
        cfg.enabled = false;
        let mut state = reach::spawn(cfg, targets_rx, stop_rx);
        assert!(state.changed().await.is_err(), "no task publishes");
        assert_eq!(**state.borrow(), ReachState::default());
    });
}

#[test]
fn shutdown_stops_the_task() {
    let net = pair("rch-stop", &[PROBE_V4], &[NODE_V4]);
    let name = net.probe.name().to_string();
    let closed = run_in_ns(&name, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (_targets, targets_rx) = watch::channel(vec![target("node-1", NODE_V4_ADDR)]);
            let (stop, stop_rx) = watch::channel(false);
            let mut state = reach::spawn(config(ReachMethod::Tcp, 100, 50), targets_rx, stop_rx);
            state.changed().await.expect("the first round");
            stop.send_replace(true);
            // The task drops its sender once it has stopped.
            let end = tokio::time::timeout(Duration::from_secs(2), async {
                while state.changed().await.is_ok() {}
            });
            end.await.is_ok()
        })
    })
    .expect("enter the namespace");
    assert!(closed, "the probing task kept running after shutdown");
}
