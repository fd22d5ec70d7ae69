//! How fast the verifier reacts: the latency from a routing event (a
//! gobgpd node withdraws or announces a LoadBalancer IP) and from an
//! inventory event (a manifest changes and bgpd gets SIGHUP) until
//! `GET /api/v1/report` shows the consequence, over `--repeat` rounds in
//! the netns lab of `bgp_tests::scenario` (FRR as the router, three
//! gobgpd nodes, bgpd reading manifests). Run by `benches/reaction/run.sh`
//! (root); see `benches/reaction/README.md` for the method.
//!
//! Each event is measured by a poller thread inside the verifier's
//! namespace that asks bgpd, back to back with a pause of `--poll-ms`,
//! for node mini-3's Adj-RIB-In (routing events only) and for the report,
//! and timestamps the first answer that shows the change. Events:
//!
//! * `withdraw`: mini-3 withdraws 172.29.52.200/32 (`gobgp global rib del`)
//!   → a `service-not-advertised` finding for mini-3 appears;
//! * `announce`: mini-3 announces it again → the finding disappears;
//! * `add Service`: a manifest with a LoadBalancer Service that no pool
//!   selects is written, then SIGHUP → `service-without-ip` appears;
//! * `remove Service`: the manifest is removed, then SIGHUP → it
//!   disappears.
//!
//! Usage: `reaction --bgpd PATH [--repeat N] [--poll-ms MS]`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bgp_tests::netns::run_in_ns;
use bgp_tests::scenario::{
    find, service_without_ip, speaker_peer, Lab, LabOptions, Policy, HTTP, LB_DEFAULT, LB_INGRESS,
};
use bgp_tests::verifier::{http_get_here, percent_encode};
use bgp_tests::{require_lab, TIMEOUT};
use serde_json::Value;

/// Longest wait for one event's consequence.
const EVENT_TIMEOUT: Duration = Duration::from_secs(10);

/// A test on the JSON of one answer.
type Check = Box<dyn Fn(&Value) -> bool + Send>;

/// What the poller saw.
struct Seen {
    /// When the first report showing the change was received.
    report: Instant,
    /// When the first Adj-RIB-In answer showing the change was received.
    rib: Option<Instant>,
    /// Report requests made, and their median duration.
    polls: usize,
    median_request: Duration,
}

/// Starts polling inside `ns`: the report until `report_check` holds and,
/// when given, the routes at `rib_path` until `rib_check` holds. Returns
/// the receiver of the result (or of the reason there is none).
fn start_poller(
    ns: &str,
    http: SocketAddr,
    report_check: Check,
    rib: Option<(String, Check)>,
    pause: Duration,
) -> mpsc::Receiver<Result<Seen, String>> {
    let (tx, rx) = mpsc::channel();
    let ns = ns.to_string();
    std::thread::spawn(move || {
        let result = run_in_ns(&ns, move || -> Result<Seen, String> {
            let json = |path: &str| -> Result<Value, String> {
                match http_get_here(http, path)? {
                    (200, body) => serde_json::from_str(&body).map_err(|e| e.to_string()),
                    (status, body) => Err(format!("GET {path}: HTTP {status}: {body}")),
                }
            };
            let start = Instant::now();
            let mut rib_seen = None;
            let mut durations = Vec::new();
            loop {
                if let Some((path, check)) = &rib {
                    if rib_seen.is_none() && check(&json(path)?) {
                        rib_seen = Some(Instant::now());
                    }
                }
                let asked = Instant::now();
                let report = json("/api/v1/report")?;
                let answered = Instant::now();
                durations.push(answered - asked);
                if report_check(&report) {
                    durations.sort();
                    return Ok(Seen {
                        report: answered,
                        rib: rib_seen,
                        polls: durations.len(),
                        median_request: durations[durations.len() / 2],
                    });
                }
                if start.elapsed() > EVENT_TIMEOUT {
                    return Err(format!("no change within {EVENT_TIMEOUT:?}: {report:#}"));
                }
                std::thread::sleep(pause);
            }
        })
        .unwrap_or_else(|e| Err(format!("cannot enter the namespace: {e}")));
        let _ = tx.send(result);
    });
    rx
}

/// One measured event.
struct Sample {
    /// From the start of the action (the `gobgp` command, or `kill`).
    from_start: Duration,
    /// From the first answer showing the route change in the Adj-RIB-In
    /// (routing events).
    from_rib: Option<Duration>,
    polls: usize,
    median_request: Duration,
}

/// Runs `action` while polling, and returns what it took.
fn measure(
    lab: &mut Lab,
    pause: Duration,
    report_check: Check,
    rib: Option<(String, Check)>,
    action: impl FnOnce(&mut Lab),
) -> Sample {
    let http: SocketAddr = HTTP.parse().expect("HTTP address");
    let rx = start_poller(lab.vns.name(), http, report_check, rib, pause);
    // Let the poller make its first requests on the state before.
    std::thread::sleep(Duration::from_millis(20));
    let start = Instant::now();
    action(lab);
    let seen = rx
        .recv_timeout(EVENT_TIMEOUT + Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("poller: {e}"))
        .unwrap_or_else(|e| panic!("poller: {e}\n{}", lab.diag()));
    Sample {
        from_start: seen.report.saturating_duration_since(start),
        from_rib: seen
            .rib
            .map(|rib| seen.report.saturating_duration_since(rib)),
        polls: seen.polls,
        median_request: seen.median_request,
    }
}

fn not_advertised_by_mini3(r: &Value) -> bool {
    find(r, "service-not-advertised", &[("node", "mini-3")]).is_some()
}

fn without_ip(r: &Value) -> bool {
    find(r, "service-without-ip", &[("service", "media/jellyfin")]).is_some()
}

/// How many paths the router holds for the ingress IP, per the report.
fn router_paths_of_ingress(r: &Value) -> usize {
    r["services"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"] == "ingress-nginx-controller")
        .and_then(|s| s["ips"][0]["router_next_hops"].as_array())
        .map_or(0, Vec::len)
}

/// Waits until the router's paths for the ingress IP are `n` in the
/// report, and a little longer, so that no late UPDATE of the previous
/// event wakes the verifier during the next one.
fn settle(lab: &Lab, n: usize) {
    lab.wait_report("the router's view settled", TIMEOUT, |r| {
        router_paths_of_ingress(r) == n
    });
    std::thread::sleep(Duration::from_millis(200));
}

fn has_ingress(routes: &Value) -> bool {
    routes["routes"]
        .as_array()
        .is_some_and(|a| a.iter().any(|r| r["prefix"] == LB_INGRESS))
}

/// min, median, p95 (nearest rank) and max, in milliseconds.
fn stats(mut v: Vec<Duration>) -> [f64; 4] {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let rank = |p: f64| ((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    [
        ms(v[0]),
        ms(v[rank(0.5)]),
        ms(v[rank(0.95)]),
        ms(v[v.len() - 1]),
    ]
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn usage() -> ! {
    eprintln!("usage: reaction --bgpd PATH [--repeat N] [--poll-ms MS]");
    std::process::exit(2);
}

fn main() {
    let mut bgpd = None;
    let mut repeat = 20usize;
    let mut poll_ms = 1u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--bgpd" => bgpd = Some(PathBuf::from(value())),
            "--repeat" => repeat = value().parse().unwrap_or_else(|_| usage()),
            "--poll-ms" => poll_ms = value().parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    let Some(bgpd) = bgpd else { usage() };
    if repeat == 0 {
        usage();
    }
    require_lab();
    let pause = Duration::from_millis(poll_ms);
    eprintln!(
        "reaction: starting the lab (load average {})",
        load_average()
    );
    let mut lab = Lab::start(
        &bgpd,
        LabOptions {
            router: true,
            policy: Policy::EveryPool,
            routes: vec![LB_DEFAULT.to_string(), LB_INGRESS.to_string()],
        },
    );
    lab.wait_clean("a clean report before measuring");
    let rib_path = format!("/api/v1/peers/{}/routes", percent_encode(&speaker_peer(2)));
    let mut withdraw = Vec::new();
    let mut announce = Vec::new();
    let mut added = Vec::new();
    let mut removed = Vec::new();
    for round in 0..repeat {
        settle(&lab, 3);
        withdraw.push(measure(
            &mut lab,
            pause,
            Box::new(not_advertised_by_mini3),
            Some((rib_path.clone(), Box::new(|r| !has_ingress(r)))),
            |lab| lab.nodes[2].gobgp.withdraw(LB_INGRESS),
        ));
        settle(&lab, 2);
        announce.push(measure(
            &mut lab,
            pause,
            Box::new(|r| !not_advertised_by_mini3(r)),
            Some((rib_path.clone(), Box::new(has_ingress))),
            |lab| lab.nodes[2].gobgp.announce(LB_INGRESS),
        ));
        lab.wait_clean("a clean report after the routing events");
        settle(&lab, 3);
        lab.manifests.extra.insert(
            "jellyfin".to_string(),
            service_without_ip("media", "jellyfin"),
        );
        lab.manifests.write();
        added.push(measure(
            &mut lab,
            pause,
            Box::new(without_ip),
            None,
            |lab| lab.verifier.daemon().signal(libc::SIGHUP),
        ));
        lab.manifests.extra.clear();
        lab.manifests.write();
        std::thread::sleep(Duration::from_millis(200));
        removed.push(measure(
            &mut lab,
            pause,
            Box::new(|r| !without_ip(r)),
            None,
            |lab| lab.verifier.daemon().signal(libc::SIGHUP),
        ));
        lab.wait_report("a clean report after the inventory events", TIMEOUT, |r| {
            r["findings"].as_array().is_some_and(Vec::is_empty)
        });
        eprintln!("reaction: round {}/{repeat} done", round + 1);
    }

    let requests: Vec<Duration> = [&withdraw, &announce, &added, &removed]
        .iter()
        .flat_map(|s| s.iter().map(|x| x.median_request))
        .collect();
    let polls: Vec<usize> = [&withdraw, &announce, &added, &removed]
        .iter()
        .flat_map(|s| s.iter().map(|x| x.polls))
        .collect();
    println!(
        "Verifier reaction time, {repeat} rounds, report polled every {poll_ms} ms \
         (+ one request, median {:.2} ms; {} to {} polls per event); load average {}",
        stats(requests)[1],
        polls.iter().min().unwrap_or(&0),
        polls.iter().max().unwrap_or(&0),
        load_average()
    );
    println!();
    println!("| event | measured from | n | min ms | median ms | p95 ms | max ms |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    let row = |event: &str, from: &str, v: Vec<Duration>| {
        let [min, med, p95, max] = stats(v.clone());
        println!(
            "| {event} | {from} | {} | {min:.1} | {med:.1} | {p95:.1} | {max:.1} |",
            v.len()
        );
    };
    for (event, samples) in [
        ("route withdrawn by a node", &withdraw),
        ("route announced by a node", &announce),
    ] {
        row(
            event,
            "`gobgp global rib` started",
            samples.iter().map(|s| s.from_start).collect(),
        );
        row(
            event,
            "route seen in bgpd's Adj-RIB-In",
            samples.iter().filter_map(|s| s.from_rib).collect(),
        );
    }
    row(
        "Service added (file, SIGHUP)",
        "SIGHUP sent",
        added.iter().map(|s| s.from_start).collect(),
    );
    row(
        "Service removed (file, SIGHUP)",
        "SIGHUP sent",
        removed.iter().map(|s| s.from_start).collect(),
    );
}
