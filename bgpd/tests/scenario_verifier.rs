//! The verifier end to end: every kind of finding raised in the netns lab
//! by what causes it in a real network, seen in `GET /api/v1/report` and
//! `GET /metrics`, and cleared once the cause is gone.
//!
//! One lab for the whole run (`bgp_tests::scenario`): FRR as the UDM Pro
//! (.1), bgpd (.2) reading manifests the test writes, three gobgpd nodes
//! configured as Cilium's agents (.11-.13, `mini-1`..`mini-3`). The phases
//! run in order, each starting and ending with a report without findings:
//!
//! 1. the seeds' incident: the only virtual router selects only
//!    bgp-default's Services and the nodes advertise only its IP, so
//!    `pool-missing` for bgp-ingress, with a hint naming the virtual
//!    router's serviceSelector; fixed by a new policy (SIGHUP) and the
//!    nodes announcing the ingress IP, and the time from the last
//!    announcement to the finding's end is printed;
//! 2. a gobgpd crash and restart with graceful restart raises nothing
//!    (the report sampled every 50 ms throughout);
//! 3. `service-not-advertised` by one node (it withdraws the route);
//! 4. `unexpected-prefix` (a node announces an address no Service holds);
//! 5. `service-without-ip` (a LoadBalancer Service no pool selects);
//! 6. `fewer-router-paths` and `not-accepted-by-router` (an FRR prefix-list
//!    denies one IP from one node, then from every node);
//! 7. `next-hop-unreachable` (a node marked NotReady in the manifests while
//!    the router still has its paths);
//! 8. `node-unreachable` and `next-hop-unreachable` (a node's link down:
//!    ICMP probes fail, the sessions outlive the outage);
//! 9. `speaker-session-down` (a node shuts its session with the verifier);
//! 10. `router-session-down` (FRR stopped, then started again).
//!
//! `inventory-stale` needs a source that can go stale, so a second test
//! runs bgpd with the Kubernetes source against the in-process fake API
//! server of `tests/kubeapi` (in the verifier's namespace) and takes that
//! server down and up again.
//!
//! Timings are printed, never asserted beyond generous waits: the machine
//! is shared. `benches/reaction/run.sh` measures the reaction time.

mod kubeapi;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bgp_tests::netns::run_in_ns;
use bgp_tests::scenario::{
    describe_findings, find, findings, node_v4, of_kind, service_without_ip, speaker_peer, Lab,
    LabOptions, Policy, LB_DEFAULT, LB_INGRESS, ROUTER_PEER, SVC_DEFAULT, SVC_INGRESS, VERIFIER_V4,
};
use bgp_tests::verifier::Verifier;
use bgp_tests::{require_lab, wait_for, Netns, TIMEOUT};
use serde_json::{json, Value};

const BGPD: &str = env!("CARGO_BIN_EXE_bgpd");

/// An address inside bgp-default that no Service holds.
const STRAY: &str = "172.29.52.150/32";

/// The report's entry for the first IP of Service `svc` (`namespace/name`).
fn service_ip<'a>(report: &'a Value, svc: &str) -> &'a Value {
    let (namespace, name) = svc.split_once('/').expect("namespace/name");
    report["services"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["namespace"] == namespace && s["name"] == name)
        .map(|s| &s["ips"][0])
        .unwrap_or(&Value::Null)
}

fn len(v: &Value) -> usize {
    v.as_array().map_or(0, Vec::len)
}

fn text<'a>(f: &'a Value, field: &str) -> &'a str {
    f[field].as_str().unwrap_or("")
}

/// Asserts that `report` has a finding of `kind` and `severity` with the
/// given fields, whose hint contains every string of `hint`; returns it.
fn assert_finding<'a>(
    report: &'a Value,
    kind: &str,
    severity: &str,
    fields: &[(&str, &str)],
    hint: &[&str],
) -> &'a Value {
    let f = find(report, kind, fields).unwrap_or_else(|| {
        panic!(
            "no {kind} finding with {fields:?}; findings:\n{}",
            describe_findings(report)
        )
    });
    assert_eq!(f["severity"], severity, "{f:#}");
    for h in hint {
        assert!(
            text(f, "hint").contains(h),
            "the hint of {kind} does not name `{h}`: {f:#}"
        );
    }
    assert!(!text(f, "message").is_empty(), "{f:#}");
    assert!(f["since"].as_f64().is_some_and(|t| t > 0.0), "{f:#}");
    f
}

/// Asserts that `report`'s findings are exactly of these kinds (with
/// multiplicity), in any order, and prints them.
fn assert_kinds(report: &Value, want: &[&str]) {
    eprint!("{}", describe_findings(report));
    let mut have: Vec<&str> = findings(report)
        .iter()
        .map(|f| f["kind"].as_str().unwrap_or("?"))
        .collect();
    have.sort();
    let mut want = want.to_vec();
    want.sort();
    assert_eq!(have, want, "findings:\n{}", describe_findings(report));
}

/// Asserts the value of one metric series.
fn assert_metric(lab: &Lab, name: &str, labels: &[(&str, &str)], want: f64) {
    let text = lab.metrics();
    let got = bgp_tests::scenario::metric_value(&text, name, labels);
    assert_eq!(
        got,
        Some(want),
        "{name}{labels:?}; the metrics were:\n{}",
        text.lines()
            .filter(|l| l.starts_with(name))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// `bgp_verifier_findings{kind,severity}`.
fn assert_findings_metric(lab: &Lab, kind: &str, severity: &str, want: f64) {
    assert_metric(
        lab,
        "bgp_verifier_findings",
        &[("kind", kind), ("severity", severity)],
        want,
    );
}

/// Prints how long a phase took.
struct Clock(Instant);

impl Clock {
    fn lap(&mut self, phase: &str) {
        eprintln!("phase {phase}: {:.1}s", self.0.elapsed().as_secs_f64());
        self.0 = Instant::now();
    }
}

#[test]
fn every_finding_raised_and_cleared_in_the_lab() {
    require_lab();
    let t0 = Instant::now();
    let mut lab = Lab::start(
        Path::new(BGPD),
        LabOptions {
            router: true,
            policy: Policy::DefaultPoolOnly,
            routes: vec![LB_DEFAULT.to_string()],
        },
    );
    let mut clock = Clock(Instant::now());
    incident(&mut lab);
    clock.lap("1 incident");
    graceful_restart(&mut lab);
    clock.lap("2 graceful restart");
    not_advertised_by_one_node(&mut lab);
    clock.lap("3 service-not-advertised");
    unexpected_prefix(&mut lab);
    clock.lap("4 unexpected-prefix");
    service_without_an_ip(&mut lab);
    clock.lap("5 service-without-ip");
    router_filters(&mut lab);
    clock.lap("6 fewer-router-paths, not-accepted-by-router");
    node_not_ready(&mut lab);
    clock.lap("7 next-hop-unreachable (NotReady)");
    node_link_down(&mut lab);
    clock.lap("8 node-unreachable, next-hop-unreachable (link down)");
    speaker_session_down(&mut lab);
    clock.lap("9 speaker-session-down");
    router_session_down(&mut lab);
    clock.lap("10 router-session-down");
    eprintln!("all scenarios in {:.1}s", t0.elapsed().as_secs_f64());
}

/// The nodes advertise only bgp-default's IP because the only virtual
/// router selects only its Services: one pool-missing finding for
/// bgp-ingress naming that selector. Then the fix.
fn incident(lab: &mut Lab) {
    let r = lab.wait_report(
        "the incident: bgp-ingress missing, the default IP held by the router from every node",
        TIMEOUT,
        |r| {
            find(r, "pool-missing", &[("pool", "bgp-ingress")]).is_some()
                && len(&service_ip(r, SVC_DEFAULT)["router_next_hops"]) == 3
        },
    );
    let policy_file = lab.manifests.policy_file().display().to_string();
    let f = assert_finding(
        &r,
        "pool-missing",
        "critical",
        &[("pool", "bgp-ingress")],
        &[
            "virtual router 64512 of CiliumBGPPeeringPolicy bgp-peering",
            "lb.home.arpa/pool=bgp-default",
            SVC_INGRESS,
            &policy_file,
        ],
    );
    assert!(
        f["causes"]
            .as_array()
            .is_some_and(|c| c.contains(&json!("service-selector-no-match"))),
        "{f:#}"
    );
    assert!(text(f, "message").contains(SVC_INGRESS), "{f:#}");
    // The whole incident is about the ingress pool: its pool, and its
    // Service advertised by no node. Nothing about bgp-default.
    assert_kinds(&r, &["pool-missing", "service-not-advertised"]);
    assert_finding(
        &r,
        "service-not-advertised",
        "critical",
        &[
            ("service", SVC_INGRESS),
            ("prefix", LB_INGRESS),
            ("pool", "bgp-ingress"),
        ],
        &["serviceSelector", "lb.home.arpa/pool=bgp-default"],
    );
    assert_eq!(r["verdict"], "critical");
    assert_metric(
        lab,
        "bgp_verifier_pool_missing",
        &[("pool", "bgp-ingress")],
        1.0,
    );
    assert_metric(
        lab,
        "bgp_verifier_pool_missing",
        &[("pool", "bgp-default")],
        0.0,
    );
    assert_findings_metric(lab, "pool-missing", "critical", 1.0);
    assert_metric(
        lab,
        "bgp_verifier_service_advertised",
        &[
            ("namespace", "ingress-nginx"),
            ("service", "ingress-nginx-controller"),
            ("role", "speaker"),
        ],
        0.0,
    );
    assert_metric(lab, "bgp_verifier_verdict", &[("verdict", "critical")], 1.0);

    // The fix: the virtual router selects every pool's Services (SIGHUP),
    // then the agents announce the ingress IP.
    lab.manifests.policy = Policy::EveryPool;
    lab.reload();
    let r = lab.wait_report(
        "the new policy read: the ingress IP expected from every node",
        Duration::from_secs(10),
        |r| len(&service_ip(r, SVC_INGRESS)["expected_from"]) == 3,
    );
    assert!(
        find(&r, "pool-missing", &[("pool", "bgp-ingress")]).is_some(),
        "the pool is still missing until the nodes announce it:\n{}",
        describe_findings(&r)
    );
    // The first announcement clears the finding (a pool is missing only
    // while none of its addresses is advertised): time it alone, polling
    // the report every 2 ms, then the other nodes follow.
    let sent = Instant::now();
    lab.nodes[0].gobgp.announce(LB_INGRESS);
    let returned = Instant::now();
    let mut polls = 0;
    let cleared = bgp_tests::wait_until(Duration::from_secs(10), Duration::from_millis(2), || {
        polls += 1;
        find(&lab.report(), "pool-missing", &[("pool", "bgp-ingress")]).is_none()
    });
    let at = Instant::now();
    assert!(
        cleared,
        "pool-missing for bgp-ingress not cleared 10 s after mini-1 announced the ingress IP\n{}",
        lab.diag()
    );
    eprintln!(
        "incident fixed: pool-missing cleared {:.0} ms after the announcement was sent \
         ({:.0} ms after its `gobgp` command returned; {polls} polls; target < 1000 ms)",
        (at - sent).as_secs_f64() * 1e3,
        (at - returned).as_secs_f64() * 1e3,
    );
    for n in &mut lab.nodes[1..] {
        n.gobgp.announce(LB_INGRESS);
    }
    assert_metric(
        lab,
        "bgp_verifier_pool_missing",
        &[("pool", "bgp-ingress")],
        0.0,
    );
    let r = lab.wait_clean("no finding once the router holds the ingress IP too");
    assert_eq!(len(&service_ip(&r, SVC_INGRESS)["router_next_hops"]), 3);
    assert_findings_metric(lab, "pool-missing", "critical", 0.0);
    assert_metric(lab, "bgp_verifier_verdict", &[("verdict", "ok")], 1.0);
}

/// One look at the report during node 2's restart.
struct Sample {
    at: Duration,
    findings: String,
    count: usize,
    node2_down: bool,
}

/// Node 2's gobgpd crashes and restarts with graceful restart: bgpd and the
/// router keep its routes while it is away, and no finding is raised at
/// any moment.
fn graceful_restart(lab: &mut Lab) {
    let peer = speaker_peer(1);
    let flaps_before = lab.verifier.peer(&peer).expect("node 2's session")["flaps"]
        .as_u64()
        .unwrap_or(0);
    let verifier = &lab.verifier;
    let node = &mut lab.nodes[1];
    let frr = lab.frr.as_ref().expect("FRR runs");
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    let samples = std::thread::scope(|scope| {
        let sampler = scope.spawn(|| {
            let mut samples = Vec::new();
            while !stop.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(90) {
                let at = start.elapsed();
                if let Ok((200, body)) = verifier.get("/api/v1/report") {
                    let r: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                    let node2_down = r["peers"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|p| p["name"] == peer.as_str() && p["established"] == false);
                    samples.push(Sample {
                        at,
                        findings: describe_findings(&r),
                        count: findings(&r).len(),
                        node2_down,
                    });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            samples
        });
        std::thread::sleep(Duration::from_millis(300));
        node.gobgp.restart();
        let diag = || format!("{}\n{}", verifier.logs(), node.gobgp.logs());
        wait_for(
            "node 2's sessions Established again, seen by bgpd and FRR",
            TIMEOUT,
            || {
                verifier.state(&peer) == "Established"
                    && frr.neighbor_state(&node.v4) == "Established"
                    && verifier.routes(&peer).iter().filter(|r| !r.stale).count() == 2
                    && frr.paths(LB_INGRESS).iter().all(|p| !p.stale)
                    && frr.paths(LB_DEFAULT).iter().all(|p| !p.stale)
            },
            diag,
        );
        // A little longer, to see that nothing is raised after End-of-RIB.
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::SeqCst);
        sampler.join().expect("the sampler")
    });
    let timeline = || {
        samples
            .iter()
            .map(|s| {
                format!(
                    "{:>6.2}s node 2 down: {}\n{}",
                    s.at.as_secs_f64(),
                    s.node2_down,
                    s.findings
                )
            })
            .collect::<String>()
    };
    let down = samples.iter().filter(|s| s.node2_down).count();
    assert!(
        down >= 3,
        "the restart was not sampled ({down} samples with node 2 down)\n{}",
        timeline()
    );
    for s in &samples {
        assert_eq!(
            s.count,
            0,
            "a finding at {:.2}s of the restart\n{}",
            s.at.as_secs_f64(),
            timeline()
        );
    }
    let flaps = lab.verifier.peer(&peer).expect("node 2's session")["flaps"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(flaps, flaps_before + 1, "node 2 restarted once");
    eprintln!(
        "graceful restart: {} samples, {down} with node 2 down, no finding",
        samples.len()
    );
    lab.wait_clean("no finding after the restart");
}

/// mini-3 withdraws the ingress IP: not advertised by that node (the
/// others still do).
fn not_advertised_by_one_node(lab: &mut Lab) {
    lab.nodes[2].gobgp.withdraw(LB_INGRESS);
    let r = lab.wait_report(
        "service-not-advertised by mini-3",
        Duration::from_secs(10),
        |r| find(r, "service-not-advertised", &[("node", "mini-3")]).is_some(),
    );
    let f = assert_finding(
        &r,
        "service-not-advertised",
        "warning",
        &[
            ("node", "mini-3"),
            ("service", SVC_INGRESS),
            ("prefix", LB_INGRESS),
            ("pool", "bgp-ingress"),
        ],
        &["agent", "applied the policy"],
    );
    assert!(text(f, "message").contains("mini-3"), "{f:#}");
    let ip = service_ip(&r, SVC_INGRESS);
    assert_eq!(ip["advertised_by"], json!(["mini-1", "mini-2"]), "{ip:#}");
    assert_findings_metric(lab, "service-not-advertised", "warning", 1.0);
    // Still advertised (by the other nodes).
    assert_metric(
        lab,
        "bgp_verifier_service_advertised",
        &[("ip", "172.29.52.200"), ("role", "speaker")],
        1.0,
    );
    lab.nodes[2].gobgp.announce(LB_INGRESS);
    lab.wait_clean("service-not-advertised cleared once mini-3 announces again");
    assert_findings_metric(lab, "service-not-advertised", "warning", 0.0);
}

/// mini-1 announces an address of bgp-default that no Service holds: the
/// node's route and the router's copy of it are unexpected.
fn unexpected_prefix(lab: &mut Lab) {
    lab.nodes[0].gobgp.announce(STRAY);
    let r = lab.wait_report(
        "unexpected-prefix from mini-1 and at the router",
        Duration::from_secs(10),
        |r| of_kind(r, "unexpected-prefix").len() == 2,
    );
    assert_kinds(&r, &["unexpected-prefix", "unexpected-prefix"]);
    assert_finding(
        &r,
        "unexpected-prefix",
        "warning",
        &[
            ("node", "mini-1"),
            ("prefix", STRAY),
            ("peer", &speaker_peer(0)),
        ],
        &["no Service holds this address"],
    );
    let at_router = of_kind(&r, "unexpected-prefix")
        .into_iter()
        .find(|f| f["node"].is_null())
        .expect("the router's unexpected prefix");
    assert_eq!(at_router["prefix"], STRAY, "{at_router:#}");
    assert!(
        text(at_router, "hint").contains("a node still advertises it"),
        "{at_router:#}"
    );
    assert_metric(
        lab,
        "bgp_verifier_unexpected_prefixes",
        &[("role", "speaker")],
        1.0,
    );
    assert_metric(
        lab,
        "bgp_verifier_unexpected_prefixes",
        &[("role", "router")],
        1.0,
    );
    assert_findings_metric(lab, "unexpected-prefix", "warning", 2.0);
    lab.nodes[0].gobgp.withdraw(STRAY);
    lab.wait_clean("unexpected-prefix cleared once mini-1 withdraws it");
    assert_metric(
        lab,
        "bgp_verifier_unexpected_prefixes",
        &[("role", "speaker")],
        0.0,
    );
}

/// A LoadBalancer Service whose pool label names no pool: no IP.
fn service_without_an_ip(lab: &mut Lab) {
    lab.manifests.extra.insert(
        "jellyfin".to_string(),
        service_without_ip("media", "jellyfin"),
    );
    lab.reload();
    let r = lab.wait_report(
        "service-without-ip for media/jellyfin",
        Duration::from_secs(10),
        |r| find(r, "service-without-ip", &[("service", "media/jellyfin")]).is_some(),
    );
    assert_kinds(&r, &["service-without-ip"]);
    let f = assert_finding(
        &r,
        "service-without-ip",
        "warning",
        &[("service", "media/jellyfin")],
        &["media/jellyfin", "lb.home.arpa/pool=bgp-media"],
    );
    assert!(
        f["causes"]
            .as_array()
            .is_some_and(|c| c.contains(&json!("no-pool-selects-service"))),
        "{f:#}"
    );
    assert_findings_metric(lab, "service-without-ip", "warning", 1.0);
    lab.manifests.extra.clear();
    lab.reload();
    lab.wait_clean("service-without-ip cleared once the Service is gone");
    assert_findings_metric(lab, "service-without-ip", "warning", 0.0);
}

/// Applies (or removes) an inbound prefix-list denying the default IP on
/// the router's sessions with `nodes`, and asks them to re-send their
/// routes.
fn deny_default_ip(lab: &Lab, nodes: &[usize], deny: bool) {
    let frr = lab.frr();
    let mut cmds = vec![
        "configure terminal".to_string(),
        format!("ip prefix-list lab-deny seq 5 deny {LB_DEFAULT}"),
        "ip prefix-list lab-deny seq 10 permit any".to_string(),
        "router bgp 64513".to_string(),
        "address-family ipv4 unicast".to_string(),
    ];
    for i in nodes {
        let no = if deny { "" } else { "no " };
        cmds.push(format!(
            "{no}neighbor {} prefix-list lab-deny in",
            node_v4(*i)
        ));
    }
    cmds.push("end".to_string());
    for i in nodes {
        cmds.push(format!("clear bgp ipv4 unicast {} soft in", node_v4(*i)));
    }
    let refs: Vec<&str> = cmds.iter().map(String::as_str).collect();
    frr.vtysh(&refs);
}

/// The router filters the default IP: from one node, it holds fewer paths
/// than nodes advertise it; from every node, it does not hold it at all.
fn router_filters(lab: &mut Lab) {
    deny_default_ip(lab, &[0], true);
    let r = lab.wait_report(
        "fewer-router-paths for the default IP",
        Duration::from_secs(15),
        |r| find(r, "fewer-router-paths", &[("prefix", LB_DEFAULT)]).is_some(),
    );
    assert_kinds(&r, &["fewer-router-paths"]);
    let f = assert_finding(
        &r,
        "fewer-router-paths",
        "warning",
        &[
            ("prefix", LB_DEFAULT),
            ("service", SVC_DEFAULT),
            ("pool", "bgp-default"),
        ],
        &["no path through mini-1", "prefix-list"],
    );
    assert!(
        text(f, "message").contains("2 path(s)") && text(f, "message").contains("3 node(s)"),
        "{f:#}"
    );
    assert_findings_metric(lab, "fewer-router-paths", "warning", 1.0);

    deny_default_ip(lab, &[1, 2], true);
    let r = lab.wait_report(
        "not-accepted-by-router for the default IP",
        Duration::from_secs(15),
        |r| find(r, "not-accepted-by-router", &[("prefix", LB_DEFAULT)]).is_some(),
    );
    assert_kinds(&r, &["not-accepted-by-router"]);
    let f = assert_finding(
        &r,
        "not-accepted-by-router",
        "critical",
        &[
            ("prefix", LB_DEFAULT),
            ("service", SVC_DEFAULT),
            ("pool", "bgp-default"),
        ],
        &["ebgp-requires-policy", "prefix-list"],
    );
    assert!(
        f["causes"]
            .as_array()
            .is_some_and(|c| c.contains(&json!("router-filtered"))),
        "{f:#}"
    );
    assert_findings_metric(lab, "not-accepted-by-router", "critical", 1.0);
    assert_findings_metric(lab, "fewer-router-paths", "warning", 0.0);
    assert_metric(
        lab,
        "bgp_verifier_service_advertised",
        &[("ip", "172.29.52.100"), ("role", "router")],
        0.0,
    );
    assert_metric(
        lab,
        "bgp_verifier_service_advertised",
        &[("ip", "172.29.52.100"), ("role", "speaker")],
        1.0,
    );
    deny_default_ip(lab, &[0, 1, 2], false);
    let r = lab.wait_clean("the router's findings cleared once it accepts the IP again");
    assert_eq!(len(&service_ip(&r, SVC_DEFAULT)["router_next_hops"]), 3);
}

/// mini-3 is NotReady in the manifests while the router still forwards to
/// it.
fn node_not_ready(lab: &mut Lab) {
    lab.manifests.not_ready.insert(2);
    lab.reload();
    let r = lab.wait_report(
        "next-hop-unreachable for both Service IPs",
        Duration::from_secs(10),
        |r| of_kind(r, "next-hop-unreachable").len() == 2,
    );
    assert_kinds(&r, &["next-hop-unreachable", "next-hop-unreachable"]);
    for (svc, prefix) in [(SVC_DEFAULT, LB_DEFAULT), (SVC_INGRESS, LB_INGRESS)] {
        let f = assert_finding(
            &r,
            "next-hop-unreachable",
            // One next hop of three.
            "warning",
            &[("service", svc), ("prefix", prefix)],
            &["node mini-3 (172.29.51.13) is NotReady"],
        );
        assert!(text(f, "message").contains("1 of 3"), "{f:#}");
    }
    assert_findings_metric(lab, "next-hop-unreachable", "warning", 2.0);
    lab.manifests.not_ready.clear();
    lab.reload();
    lab.wait_clean("next-hop-unreachable cleared once mini-3 is Ready");
}

/// mini-3's link goes down: its address stops answering probes (the BGP
/// sessions outlive the outage, the router keeps its paths), then it comes
/// back.
fn node_link_down(lab: &mut Lab) {
    let dev = lab.nodes[2].dev.clone();
    lab.nodes[2].ns.ip(&["link", "set", &dev, "down"]);
    let down = Instant::now();
    let r = lab.wait_report(
        "node-unreachable for mini-3 and next-hop-unreachable for both IPs",
        Duration::from_secs(15),
        |r| {
            find(r, "node-unreachable", &[("node", "mini-3")]).is_some()
                && of_kind(r, "next-hop-unreachable").len() == 2
        },
    );
    let detected = down.elapsed();
    assert_kinds(
        &r,
        &[
            "node-unreachable",
            "next-hop-unreachable",
            "next-hop-unreachable",
        ],
    );
    let f = assert_finding(
        &r,
        "node-unreachable",
        "warning",
        &[("node", "mini-3")],
        &["Ready for Kubernetes", "path from the verifier"],
    );
    assert!(text(f, "message").contains("172.29.51.13"), "{f:#}");
    for prefix in [LB_DEFAULT, LB_INGRESS] {
        assert_finding(
            &r,
            "next-hop-unreachable",
            "warning",
            &[("prefix", prefix)],
            &["node mini-3 (172.29.51.13) does not answer probes"],
        );
    }
    let mini3 = r["reach"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["node"] == "mini-3")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(mini3["reachable"], false, "{mini3:#}");
    assert_metric(
        lab,
        "bgp_verifier_node_reachable",
        &[("node", "mini-3"), ("address", "172.29.51.13")],
        0.0,
    );
    assert_metric(
        lab,
        "bgp_verifier_node_reachable",
        &[("node", "mini-1"), ("address", "172.29.51.11")],
        1.0,
    );
    assert_findings_metric(lab, "node-unreachable", "warning", 1.0);
    assert_findings_metric(lab, "next-hop-unreachable", "warning", 2.0);
    lab.nodes[2].ns.ip(&["link", "set", &dev, "up"]);
    let up = Instant::now();
    let r = lab.wait_clean("node-unreachable cleared once mini-3's link is up");
    eprintln!(
        "link down: findings after {:.1}s; cleared {:.1}s after the link came up",
        detected.as_secs_f64(),
        up.elapsed().as_secs_f64()
    );
    let mini3 = r["reach"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["node"] == "mini-3")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(mini3["reachable"], true, "{mini3:#}");
    assert!(mini3["rtt_seconds"].as_f64().is_some(), "{mini3:#}");
    // No session went down over the outage.
    assert_eq!(lab.verifier.state(&speaker_peer(2)), "Established");
}

/// mini-3's agent shuts its session with the verifier (a NOTIFICATION, so
/// no graceful restart): speaker-session-down until it is enabled again.
fn speaker_session_down(lab: &mut Lab) {
    let peer = speaker_peer(2);
    lab.nodes[2]
        .gobgp
        .cli(&["neighbor", VERIFIER_V4, "disable"])
        .unwrap_or_else(|e| panic!("{e}"));
    let r = lab.wait_report(
        "speaker-session-down for mini-3",
        Duration::from_secs(10),
        |r| find(r, "speaker-session-down", &[("node", "mini-3")]).is_some(),
    );
    assert_kinds(&r, &["speaker-session-down"]);
    assert_finding(
        &r,
        "speaker-session-down",
        "warning",
        &[("node", "mini-3"), ("peer", &peer)],
        &[&peer, "NOTIFICATION"],
    );
    assert_metric(
        lab,
        "bgp_verifier_session_up",
        &[("peer", &peer), ("role", "speaker")],
        0.0,
    );
    assert_findings_metric(lab, "speaker-session-down", "warning", 1.0);
    lab.nodes[2]
        .gobgp
        .cli(&["neighbor", VERIFIER_V4, "enable"])
        .unwrap_or_else(|e| panic!("{e}"));
    lab.wait_sessions("mini-3's session with the verifier back");
    lab.wait_clean("speaker-session-down cleared once mini-3 is back");
    assert_metric(
        lab,
        "bgp_verifier_session_up",
        &[("peer", &peer), ("role", "speaker")],
        1.0,
    );
}

/// The router stops: router-session-down, until it is started again.
fn router_session_down(lab: &mut Lab) {
    lab.stop_frr();
    let r = lab.wait_report("router-session-down", Duration::from_secs(10), |r| {
        find(r, "router-session-down", &[("peer", ROUTER_PEER)]).is_some()
    });
    assert_kinds(&r, &["router-session-down"]);
    assert_finding(
        &r,
        "router-session-down",
        "critical",
        &[("peer", ROUTER_PEER)],
        &["show bgp summary", "port 1790"],
    );
    assert_eq!(r["verdict"], "critical");
    assert_metric(
        lab,
        "bgp_verifier_session_up",
        &[("peer", ROUTER_PEER), ("role", "router")],
        0.0,
    );
    assert_findings_metric(lab, "router-session-down", "critical", 1.0);
    lab.start_frr();
    lab.wait_sessions("every session back after the router's restart");
    let r = lab.wait_clean("router-session-down cleared once the router is back");
    assert_eq!(len(&service_ip(&r, SVC_DEFAULT)["router_next_hops"]), 3);
    assert_metric(
        lab,
        "bgp_verifier_session_up",
        &[("peer", ROUTER_PEER), ("role", "router")],
        1.0,
    );
}

// ------------------------------------------------------- inventory-stale

/// What the test thread asks of the fake API server's thread.
enum ApiCommand {
    Stop,
    Restart,
}

/// The fake Kubernetes API server on a thread that joined `ns`, so its
/// listener is on that namespace's loopback. Returns its URL and the
/// command channel (each command is acknowledged once done); the thread
/// ends when the sender is dropped.
fn fake_api_in(
    ns: &Netns,
) -> (
    String,
    tokio::sync::mpsc::UnboundedSender<(ApiCommand, mpsc::Sender<()>)>,
) {
    let (url_tx, url_rx) = mpsc::channel();
    let (cmd_tx, mut cmd_rx) =
        tokio::sync::mpsc::unbounded_channel::<(ApiCommand, mpsc::Sender<()>)>();
    let name = ns.name().to_string();
    std::thread::spawn(move || {
        run_in_ns(&name, move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a Tokio runtime");
            rt.block_on(async move {
                let api = kubeapi::FakeApi::start().await;
                api.put(
                    "/api/v1/nodes",
                    json!({
                        "apiVersion": "v1",
                        "kind": "Node",
                        "metadata": {
                            "name": "mini-1",
                            "labels": { "kubernetes.io/os": "linux" }
                        },
                        "status": {
                            "addresses": [{ "type": "InternalIP", "address": "172.29.51.11" }],
                            "conditions": [{ "type": "Ready", "status": "True" }]
                        }
                    }),
                );
                url_tx.send(api.url()).expect("the test waits for the URL");
                while let Some((cmd, ack)) = cmd_rx.recv().await {
                    match cmd {
                        ApiCommand::Stop => api.stop().await,
                        ApiCommand::Restart => api.restart().await,
                    }
                    let _ = ack.send(());
                }
            });
        })
    });
    let url = url_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the fake API server starts");
    (url, cmd_tx)
}

/// bgpd with the Kubernetes source: the API server goes away, the state is
/// kept and marked stale after `stale_after` (1 s): an inventory-stale
/// finding and `bgp_verifier_inventory_stale 1`; it comes back: cleared.
#[test]
fn inventory_stale_with_the_kubernetes_source() {
    require_lab();
    let ns = Netns::new("kstale");
    let (url, api) = fake_api_in(&ns);
    let command = |c: ApiCommand| {
        let (ack_tx, ack_rx) = mpsc::channel();
        api.send((c, ack_tx)).expect("the fake API server runs");
        ack_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the fake API server acknowledges");
    };
    let kubeconfig = ns.subdir("kube").join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1
kind: Config
current-context: fake
clusters:
- name: fake
  cluster:
    server: {url}
contexts:
- name: fake
  context:
    cluster: fake
    user: tester
users:
- name: tester
  user: {{}}
"
        ),
    )
    .expect("write the kubeconfig");
    let config = format!(
        r#"asn = 64513
router_id = "127.0.0.1"
listen = ["127.0.0.1:1790"]

[http]
listen = "127.0.0.1:9179"

[inventory]
source = "kubernetes"
kubeconfig = "{}"
context = "fake"
stale_after = 1

[[peer]]
name = "nodes"
prefix = "172.29.51.0/24"
remote_asn = 64512
role = "speaker"
"#,
        kubeconfig.display()
    );
    let v = Verifier::start(&ns, BGPD, &config, "127.0.0.1:9179".parse().unwrap());
    let report = || v.json("/api/v1/report");
    let metric = |name: &str, labels: &[(&str, &str)]| {
        let text = v.get("/metrics").map(|(_, b)| b).unwrap_or_default();
        bgp_tests::scenario::metric_value(&text, name, labels)
    };
    let diag = || format!("{:#}\n{}", report(), v.logs());
    wait_for(
        "the inventory synced: one node, no finding",
        TIMEOUT,
        || {
            let r = report();
            r["inventory"]["synced"] == true
                && r["inventory"]["nodes"] == 1
                && findings(&r).is_empty()
        },
        diag,
    );
    assert_eq!(metric("bgp_verifier_inventory_stale", &[]), Some(0.0));
    let synced_at = metric("bgp_verifier_inventory_last_sync_timestamp_seconds", &[])
        .expect("a last sync time");

    command(ApiCommand::Stop);
    let down = Instant::now();
    wait_for(
        "inventory-stale while the API server is down",
        Duration::from_secs(15),
        || find(&report(), "inventory-stale", &[]).is_some(),
        diag,
    );
    let after = down.elapsed();
    let r = report();
    assert_kinds(&r, &["inventory-stale"]);
    let f = assert_finding(
        &r,
        "inventory-stale",
        "warning",
        &[],
        &["API server", "RBAC"],
    );
    assert!(text(f, "message").contains(&url), "{f:#}");
    assert_eq!(r["inventory"]["stale"], true, "{:#}", r["inventory"]);
    assert_eq!(r["inventory"]["nodes"], 1, "the last state is kept");
    assert_eq!(metric("bgp_verifier_inventory_stale", &[]), Some(1.0));
    assert_eq!(
        metric(
            "bgp_verifier_findings",
            &[("kind", "inventory-stale"), ("severity", "warning")]
        ),
        Some(1.0)
    );
    eprintln!(
        "inventory-stale raised {:.1}s after the API server went down (stale_after 1 s)",
        after.as_secs_f64()
    );

    command(ApiCommand::Restart);
    let up = Instant::now();
    wait_for(
        "inventory-stale cleared once the API server is back",
        Duration::from_secs(30),
        || {
            let r = report();
            r["inventory"]["stale"] == false && findings(&r).is_empty()
        },
        diag,
    );
    eprintln!(
        "inventory-stale cleared {:.1}s after the API server came back",
        up.elapsed().as_secs_f64()
    );
    assert_eq!(metric("bgp_verifier_inventory_stale", &[]), Some(0.0));
    let resynced = metric("bgp_verifier_inventory_last_sync_timestamp_seconds", &[])
        .expect("a last sync time");
    assert!(resynced > synced_at, "{resynced} <= {synced_at}");
    drop(api);
}
