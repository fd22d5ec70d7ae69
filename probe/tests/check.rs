//! `bgp-probe check` as an operator runs it.
//!
//! On loopback (no privileges): two bgpd pods answering fixed reports and a
//! third that does not, merged (snapshots of the table and of the JSON),
//! exit statuses for every outcome, the pods found through a fake
//! Kubernetes API server, and the data-plane probes toward a loopback
//! "LoadBalancer IP".
//!
//! In the network-namespace lab (root, gobgpd, FRR): bgpd runs in-process
//! in the verifier's namespace with `[inventory] source = "files"`, three
//! gobgpd nodes announce the LoadBalancer IPs and own them (loopback
//! address and TCP listeners), FRR is the router and installs the routes
//! in its kernel, and `bgp-probe check` runs inside the router's namespace:
//! healthy (exit 0, every IP open from there), the incident (the policy
//! selects only bgp-default and the nodes withdraw the ingress IP: exit 1,
//! bgp-ingress named with its cause, the ingress IP unreachable from
//! there), one of two daemons down (exit 1), and bgpd down (exit 2).

mod snapshot;

use bgp_tests::probe_lab::{FakeApi, HomeLab, VERIFIER};
use serde_json::Value;
use snapshot::assert_snapshot;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn probe() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bgp-probe"));
    // Nothing from the caller's environment decides a test's targets.
    c.env_remove("BGP_PROBE_URL")
        .env_remove("NO_COLOR")
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env("HOME", "/nonexistent");
    c
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/api")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A report with no finding: the incident's, with the ingress IP
/// advertised and accepted.
fn healthy_report() -> String {
    let mut r: Value = serde_json::from_str(&fixture("report-a.json")).unwrap();
    r["verdict"] = "ok".into();
    r["findings"] = Value::Array(vec![]);
    r["pools"][1]["missing"] = false.into();
    for k in ["expected", "advertised", "accepted"] {
        r["pools"][1][k] = 1.into();
    }
    let ip = &mut r["services"][0]["ips"][0];
    ip["advertised"] = true.into();
    ip["accepted"] = true.into();
    ip["advertised_by"] = serde_json::json!(["k8s-1"]);
    ip["expected_from"] = serde_json::json!(["k8s-1"]);
    r["services"][0]["not_advertised"] = Value::Array(vec![]);
    r.to_string()
}

#[test]
fn two_pods_answer_one_does_not_table_and_json() {
    let a = FakeApi::start(&[("/api/v1/report", 200, &fixture("report-a.json"))]);
    let b = FakeApi::start(&[("/api/v1/report", 200, &fixture("report-b.json"))]);
    let down = closed_port();
    let down_url = format!("127.0.0.1:{down}");
    // Ephemeral ports have five digits; five-letter stand-ins keep the
    // columns as wide as they were.
    let ports = [a.addr().port(), b.addr().port(), down];
    assert!(ports.iter().all(|p| *p >= 10_000), "{ports:?}");
    let normalize = |s: &str| {
        s.replace(&ports[0].to_string(), "PORTA")
            .replace(&ports[1].to_string(), "PORTB")
            .replace(&ports[2].to_string(), "PORTX")
    };
    let args = |extra: &[&str]| {
        let mut v = vec![
            "check".to_string(),
            "--url".into(),
            a.url(),
            "--url".into(),
            b.url(),
            "--url".into(),
            down_url.clone(),
            "--no-reach".into(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };

    let out = run(probe().args(args(&[])));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    // Not a terminal: no escape codes.
    assert!(!out.stdout.contains(&0x1b));
    assert_snapshot("check-incident.txt", &normalize(&text(&out.stdout)));
    let err = normalize(&text(&out.stderr));
    assert!(
        err.contains("incomplete: 1 of 3 daemons did not answer (127.0.0.1:PORTX)"),
        "{err}"
    );

    let out = run(probe().args(args(&["--output", "json"])));
    assert_eq!(out.status.code(), Some(1));
    let json = normalize(&text(&out.stdout));
    let doc: Value = serde_json::from_str(&json).expect("--output json is JSON");
    assert_eq!(doc["verdict"], "critical");
    assert_snapshot("check-incident.json", &json);

    // Incomplete is 1 whatever the threshold.
    let out = run(probe().args(args(&["--fail-on", "never"])));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn exit_statuses() {
    let healthy = healthy_report();
    let ok = FakeApi::start(&[("/api/v1/report", 200, &healthy)]);
    let bad = FakeApi::start(&[("/api/v1/report", 200, &fixture("report-b.json"))]);

    // Healthy: 0, also through BGP_PROBE_URL.
    let out = run(probe()
        .args(["check", "--no-reach"])
        .env("BGP_PROBE_URL", ok.url()));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        table.starts_with("bgp-probe check: ok (1 of 1 daemon answered, no probes from here)\n"),
        "{table}"
    );
    assert!(table.contains("FINDINGS\n  none\n"), "{table}");

    // Critical findings: 1, unless the threshold is above them.
    let out = run(probe().args(["check", "--no-reach", "--url", &bad.url()]));
    assert_eq!(out.status.code(), Some(1));
    let out = run(probe().args([
        "check",
        "--no-reach",
        "--fail-on",
        "never",
        "--url",
        &bad.url(),
    ]));
    assert_eq!(out.status.code(), Some(0));
    // Two URLs in BGP_PROBE_URL, comma-separated.
    let out = run(probe()
        .args(["check", "--no-reach", "--output", "json"])
        .env("BGP_PROBE_URL", format!("{},{}", ok.url(), bad.url())));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["sources"].as_array().unwrap().len(), 2);

    // Nothing answered: 2, with the reason.
    let down = format!("127.0.0.1:{}", closed_port());
    let out = run(probe().args(["check", "--url", &down]));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("no bgpd answered, nothing was checked"),
        "{err}"
    );
    assert!(err.contains("connection refused"), "{err}");
    assert!(out.stdout.is_empty());

    // A server that is not bgpd: 2.
    let other = FakeApi::start(&[("/api/v1/report", 200, "{\"hello\": 1}")]);
    let out = run(probe().args(["check", "--url", &other.url()]));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not the JSON bgpd sends"));

    // Nothing to ask: no URL and no kubeconfig.
    let out = run(probe().arg("check"));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("nothing to check: no --url or BGP_PROBE_URL"),
        "{err}"
    );

    // Bad arguments: 2.
    for bad_args in [
        &["check", "--url", "https://x"][..],
        &["check", "--url", "x", "--timeout", "0"],
        &["check", "--url", "x", "--fail-on", "sometimes"],
        &["check", "--url", "x", "--no-reach", "--http"],
    ] {
        let out = run(probe().args(bad_args));
        assert_eq!(out.status.code(), Some(2), "{bad_args:?}");
        assert!(!out.stderr.is_empty(), "{bad_args:?}");
    }
}

#[test]
fn pods_found_through_kubernetes() {
    let report = FakeApi::start(&[("/api/v1/report", 200, &fixture("report-a.json"))]);
    let pods = serde_json::json!({
        "apiVersion": "v1",
        "kind": "PodList",
        "metadata": {"resourceVersion": "7"},
        "items": [
            {
                "metadata": {"name": "bgp-verifier-x7k2p", "namespace": "bgp-verifier"},
                "spec": {"nodeName": "k8s-1", "containers": []},
                "status": {"phase": "Running", "hostIP": "127.0.0.1", "podIP": "127.0.0.1"}
            },
            {
                "metadata": {"name": "bgp-verifier-q9w4z", "namespace": "bgp-verifier"},
                "spec": {"nodeName": "k8s-2", "containers": []},
                "status": {"phase": "Pending"}
            }
        ]
    })
    .to_string();
    let kube = FakeApi::start(&[("/api/v1/namespaces/bgp-verifier/pods", 200, &pods)]);
    let dir = std::env::temp_dir().join(format!("bgp-probe-kube-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("config");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: lab\n  cluster:\n    server: {}\ncontexts:\n- name: lab\n  context:\n    cluster: lab\n    user: lab\ncurrent-context: lab\nusers:\n- name: lab\n  user:\n    token: not-a-secret\n",
            kube.url()
        ),
    )
    .unwrap();
    let out = run(probe()
        .args(["check", "--no-reach", "--context", "lab", "--api-port"])
        .arg(report.addr().port().to_string())
        .arg("--kubeconfig")
        .arg(&kubeconfig));
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    // The pending pod makes the answer incomplete.
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("1 of 2 daemons did not answer (bgp-verifier-q9w4z)"),
        "{stderr}"
    );
    let url = format!("http://127.0.0.1:{}", report.addr().port());
    let line = stdout
        .lines()
        .find(|l| l.contains("bgp-verifier-x7k2p"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains("k8s-1") && line.contains(&url), "{line}");
    let pending = row_with(&stdout, "bgp-verifier-q9w4z  k8s-2  -  ");
    assert!(
        pending.ends_with("no answer  pod is Pending and has no address yet"),
        "{pending}"
    );
    let asked = kube.requests();
    assert!(
        asked
            .iter()
            .any(|r| r.starts_with("/api/v1/namespaces/bgp-verifier/pods?")
                && r.contains("labelSelector=app.kubernetes.io%2Fname%3Dbgp-verifier")),
        "{asked:?}"
    );
    assert_eq!(report.requests(), ["/api/v1/report"]);

    // A context the kubeconfig does not have: 2.
    let out = run(probe()
        .args(["check", "--context", "elsewhere", "--kubeconfig"])
        .arg(&kubeconfig));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("elsewhere"),
        "{}",
        text(&out.stderr)
    );
    // No pod matches: 2.
    let none =
        serde_json::json!({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": []});
    let empty = FakeApi::start(&[(
        "/api/v1/namespaces/bgp-verifier/pods",
        200,
        &none.to_string(),
    )]);
    std::fs::write(
        &kubeconfig,
        std::fs::read_to_string(&kubeconfig)
            .unwrap()
            .replace(&kube.url(), &empty.url()),
    )
    .unwrap();
    let out = run(probe().args(["check", "--kubeconfig"]).arg(&kubeconfig));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no pod matches app.kubernetes.io/name=bgp-verifier"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Probes toward a "LoadBalancer IP" on loopback: one port answers, one
/// refuses.
#[test]
fn probes_from_here_on_loopback() {
    let open = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let open_port = open.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for c in open.incoming().take(4) {
            drop(c);
        }
    });
    let refused = closed_port();
    let mut r: Value = serde_json::from_str(&healthy_report()).unwrap();
    r["services"][1]["ips"][0]["ip"] = "127.0.0.1".into();
    r["services"][1]["ports"] = serde_json::json!([
        format!("{open_port}/TCP"),
        format!("{refused}/TCP"),
        "53/UDP"
    ]);
    // The other Service's IP is a documentation address; drop it so that
    // nothing but loopback is probed.
    r["services"].as_array_mut().unwrap().remove(0);
    let api = FakeApi::start(&[("/api/v1/report", 200, &r.to_string())]);
    let out = run(probe().args(["check", "--timeout", "2", "--url", &api.url()]));
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "{open_port}/TCP open; {refused}/TCP connection refused; 53/UDP UDP not probed"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "CRITICAL  unreachable-from-here  service longhorn-system/longhorn-frontend, prefix 127.0.0.1/32\n    connection refused to 127.0.0.1:{refused}"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("seen by: this machine"), "{stdout}");
    let out = run(probe().args(["check", "--output", "json", "--url", &api.url()]));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let reach = doc["reach"].as_array().unwrap();
    assert_eq!(reach.len(), 3);
    assert_eq!(reach[0]["ok"], true);
    assert_eq!(reach[1]["result"], "connection refused");
    // Only the failure is critical: --fail-on critical still fails.
    let out = run(probe().args(["check", "--fail-on", "critical", "--url", &api.url()]));
    assert_eq!(out.status.code(), Some(1));
    // --no-reach: nothing probed, nothing found.
    let out = run(probe().args(["check", "--no-reach", "--url", &api.url()]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn watch_repeats_until_interrupted() {
    let api = FakeApi::start(&[("/api/v1/report", 200, &healthy_report())]);
    let child = probe()
        .args([
            "check",
            "--no-reach",
            "--output",
            "json",
            "--watch",
            "0.2",
            "--url",
            &api.url(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while api.requests().len() < 3 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: kill(2) on our own child's pid; no memory involved.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let docs: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(docs.len() >= 3, "{docs:?}");
    assert!(docs.iter().all(|d| d["verdict"] == "ok"));
}

// --- The network-namespace lab --------------------------------------------

const LB_DEFAULT: &str = "172.29.52.100/32";
const LB_INGRESS: &str = "172.29.52.200/32";

/// The manifests bgpd reads: three nodes, two pools, two Services with
/// their addresses, and a policy whose virtual router selects `pools`.
fn write_manifests(dir: &Path, pools: &[&str]) {
    let mut nodes = String::new();
    for i in 1..=3 {
        nodes.push_str(&format!(
            "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: k8s-{i}\n  labels:\n    kubernetes.io/os: linux\nstatus:\n  addresses:\n    - type: InternalIP\n      address: 172.29.51.1{i}\n  conditions:\n    - type: Ready\n      status: \"True\"\n"
        ));
    }
    std::fs::write(dir.join("nodes.yaml"), nodes).unwrap();
    let mut pool_docs = String::new();
    for (name, start, stop) in [
        ("bgp-default", "172.29.52.100", "172.29.52.199"),
        ("bgp-ingress", "172.29.52.200", "172.29.52.220"),
    ] {
        pool_docs.push_str(&format!(
            "---\napiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\nmetadata:\n  name: {name}\nspec:\n  blocks:\n    - start: {start}\n      stop: {stop}\n  serviceSelector:\n    matchLabels:\n      lb.home.arpa/pool: {name}\n"
        ));
    }
    std::fs::write(dir.join("pools.yaml"), pool_docs).unwrap();
    let mut services = String::new();
    for (ns, name, pool, ip, ports) in [
        (
            "longhorn-system",
            "longhorn-frontend",
            "bgp-default",
            "172.29.52.100",
            &[80][..],
        ),
        (
            "ingress-nginx",
            "ingress-nginx-controller",
            "bgp-ingress",
            "172.29.52.200",
            &[80, 443],
        ),
    ] {
        let ports: String = ports.iter().map(|p| format!("    - port: {p}\n")).collect();
        services.push_str(&format!(
            "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels:\n    lb.home.arpa/pool: {pool}\nspec:\n  type: LoadBalancer\n  ports:\n{ports}status:\n  loadBalancer:\n    ingress:\n      - ip: {ip}\n"
        ));
    }
    std::fs::write(dir.join("services.yaml"), services).unwrap();
    let values: String = pools
        .iter()
        .map(|p| format!("              - {p}\n"))
        .collect();
    std::fs::write(
        dir.join("policy.yaml"),
        format!(
            "---\napiVersion: cilium.io/v2alpha1\nkind: CiliumBGPPeeringPolicy\nmetadata:\n  name: bgp-peering\nspec:\n  nodeSelector:\n    matchLabels:\n      kubernetes.io/os: linux\n  virtualRouters:\n    - localASN: 64512\n      exportPodCIDR: false\n      serviceSelector:\n        matchExpressions:\n          - key: lb.home.arpa/pool\n            operator: In\n            values:\n{values}      neighbors:\n        - peerAddress: 172.29.51.1/32\n          peerASN: 64513\n        - peerAddress: 172.29.51.2/32\n          peerASN: 64513\n          peerPort: 1790\n"
        ),
    )
    .unwrap();
}

fn bgpd_config(manifests: &Path) -> String {
    format!(
        r#"
asn = 64513
router_id = "{VERIFIER}"
listen = ["{VERIFIER}:1790"]

[http]
listen = "{VERIFIER}:9179"

[inventory]
source = "files"
path = "{}"

[[peer]]
name = "udm-pro"
address = "172.29.51.1"
remote_asn = 64513
role = "router"

[[peer]]
name = "cilium-nodes"
prefix = "172.29.51.0/24"
remote_asn = 64512
role = "speaker"
"#,
        manifests.display()
    )
}

/// What the in-process bgpd is told.
enum Cmd {
    Reload,
    Stop,
}

/// bgpd, run in-process on a runtime whose threads live in the verifier's
/// namespace (threads inherit the namespace of the thread that spawns
/// them): this package's tests have no `bgpd` binary, but they link its
/// library, and this is what its `main` does.
struct InProcessBgpd {
    commands: tokio::sync::mpsc::UnboundedSender<Cmd>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InProcessBgpd {
    fn start(ns: &bgp_tests::Netns, config_file: PathBuf) -> InProcessBgpd {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
        let thread = ns
            .run_in(move || {
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(2)
                        .enable_all()
                        .build()
                        .expect("runtime");
                    runtime.block_on(async move {
                        let config = match bgpd::config::Config::from_file(&config_file) {
                            Ok(c) => c,
                            Err(e) => return drop(ready_tx.send(Err(e.to_string()))),
                        };
                        let daemon = match bgpd::daemon::Daemon::new(config) {
                            Ok(d) => d,
                            Err(e) => return drop(ready_tx.send(Err(e.to_string()))),
                        };
                        let verifier = match bgpd::verify::sources::start(daemon.clone()).await {
                            Ok(v) => v,
                            Err(e) => return drop(ready_tx.send(Err(e.to_string()))),
                        };
                        if let Err(e) = bgpd::daemon::start(daemon.clone()).await {
                            return drop(ready_tx.send(Err(e.to_string())));
                        }
                        let _ = ready_tx.send(Ok(()));
                        while let Some(cmd) = rx.recv().await {
                            match cmd {
                                Cmd::Reload => verifier.inventory.reload(),
                                Cmd::Stop => break,
                            }
                        }
                        bgpd::daemon::stop(&daemon).await;
                    });
                })
            })
            .expect("enter the verifier namespace");
        match ready_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("bgpd did not start: {e}"),
            Err(e) => panic!("bgpd did not start: {e}"),
        }
        InProcessBgpd {
            commands: tx,
            thread: Some(thread),
        }
    }

    fn reload(&self) {
        let _ = self.commands.send(Cmd::Reload);
    }

    fn stop(&mut self) {
        let _ = self.commands.send(Cmd::Stop);
        if let Some(t) = self.thread.take() {
            t.join().expect("bgpd thread");
        }
    }
}

impl Drop for InProcessBgpd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `bgp-probe ARGS` run inside the router's namespace.
fn probe_in(lab: &HomeLab, args: &[&str]) -> Output {
    let mut cmd = lab.router.exec(env!("CARGO_BIN_EXE_bgp-probe"), args);
    cmd.env_remove("BGP_PROBE_URL")
        .env("KUBECONFIG", "/nonexistent/kubeconfig");
    run(&mut cmd)
}

/// The one line of `text` containing `needle`.
fn row_with<'a>(text: &'a str, needle: &str) -> &'a str {
    let rows: Vec<&str> = text.lines().filter(|l| l.contains(needle)).collect();
    assert_eq!(rows.len(), 1, "one line with {needle:?} in:\n{text}");
    rows[0]
}

fn report(lab: &HomeLab) -> Option<Value> {
    let api: SocketAddr = format!("{VERIFIER}:9179").parse().unwrap();
    match lab.get_from_router(api, "/api/v1/report") {
        Ok((200, body)) => serde_json::from_str(&body).ok(),
        _ => None,
    }
}

fn wait_report(lab: &HomeLab, what: &str, cond: impl Fn(&Value) -> bool) {
    let last = std::cell::RefCell::new(None);
    bgp_tests::wait_for(
        what,
        Duration::from_secs(60),
        || {
            let r = report(lab);
            let ok = r.as_ref().is_some_and(&cond);
            *last.borrow_mut() = r;
            ok
        },
        || format!("last report: {:#?}\n{}", last.borrow(), lab.logs()),
    );
}

#[test]
fn lab_healthy_incident_partial_and_daemon_down() {
    bgp_tests::require_lab();
    let started = Instant::now();
    let mut lab = HomeLab::start(&[LB_DEFAULT, LB_INGRESS]);
    lab.serve("172.29.52.100", 80, "HTTP/1.0 200 OK\r\n\r\n");
    lab.serve("172.29.52.200", 80, "HTTP/1.0 200 OK\r\n\r\n");
    lab.serve("172.29.52.200", 443, "");

    let manifests = lab.verifier.subdir("manifests");
    write_manifests(&manifests, &["bgp-default", "bgp-ingress"]);
    let config = lab.verifier.subdir("bgpd").join("bgpd.toml");
    std::fs::write(&config, bgpd_config(&manifests)).unwrap();
    let mut bgpd = InProcessBgpd::start(&lab.verifier, config);
    let url = format!("http://{VERIFIER}:9179");

    // 1. Healthy: every node and the router up, both IPs advertised and
    // accepted, and reachable from the router's namespace.
    wait_report(&lab, "a clean report (every session up)", |r| {
        r["verdict"] == "ok"
            && r["peers"]
                .as_array()
                .is_some_and(|p| p.len() == 4 && p.iter().all(|p| p["state"] == "Established"))
            && r["pools"]
                .as_array()
                .is_some_and(|p| p.iter().all(|p| p["accepted"] == 1))
    });
    lab.wait_router_route(LB_DEFAULT, true);
    lab.wait_router_route(LB_INGRESS, true);
    let out = probe_in(&lab, &["check", "--url", &url, "--timeout", "3"]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.starts_with("bgp-probe check: ok (1 of 1 daemon answered, 3 probes from here)"),
        "{stdout}"
    );
    let row = row_with(&stdout, "  172.29.52.200  ");
    assert!(
        row.contains("k8s-1 k8s-2 k8s-3") && row.contains("accepted"),
        "{row}"
    );
    assert!(row.ends_with("80/TCP open; 443/TCP open"), "{row}");
    let row = row_with(&stdout, "  172.29.52.100  ");
    assert!(
        row.contains("k8s-1 k8s-2 k8s-3") && row.ends_with("accepted  80/TCP open"),
        "{row}"
    );
    // --http: the listeners answer HTTP on 80; 443 is not TLS.
    let out = probe_in(
        &lab,
        &["check", "--url", &url, "--http", "--output", "json"],
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results: Vec<(u64, String)> = doc["reach"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["port"].as_u64().unwrap(),
                r["result"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(results.contains(&(80, "HTTP 200".into())), "{results:?}");
    assert!(
        results
            .iter()
            .any(|(p, r)| *p == 443 && r.starts_with("TLS handshake failed")),
        "{results:?}"
    );
    assert_eq!(out.status.code(), Some(1));
    let healthy_secs = started.elapsed().as_secs_f64();

    // 2. The incident: the policy selects only bgp-default's Services, and
    // the nodes stop announcing the ingress IP.
    write_manifests(&manifests, &["bgp-default"]);
    bgpd.reload();
    lab.withdraw_everywhere(LB_INGRESS);
    lab.wait_router_route(LB_INGRESS, false);
    wait_report(&lab, "the pool-missing finding for bgp-ingress", |r| {
        r["findings"].as_array().is_some_and(|f| {
            f.iter()
                .any(|f| f["kind"] == "pool-missing" && f["pool"] == "bgp-ingress")
        })
    });
    let out = probe_in(&lab, &["check", "--url", &url, "--timeout", "2"]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.starts_with("bgp-probe check: critical"), "{stdout}");
    let pool_row = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("bgp-ingress "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(pool_row.ends_with("MISSING"), "{pool_row}");
    assert!(
        stdout.contains("CRITICAL  pool-missing  pool bgp-ingress"),
        "{stdout}"
    );
    assert!(
        stdout.contains("causes: service-selector-no-match"),
        "{stdout}"
    );
    let hint = stdout
        .lines()
        .find(|l| l.starts_with("    hint: ") && l.contains("CiliumBGPPeeringPolicy"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        hint.contains("virtual router 64512 of CiliumBGPPeeringPolicy bgp-peering")
            && hint.contains("bgp-default")
            && hint.contains("policy.yaml"),
        "{hint}"
    );
    // The view from here beside the BGP view: no route, so no connection.
    let row = row_with(&stdout, "  172.29.52.200  ");
    assert!(
        row.contains("  none  ") && row.contains("  absent  "),
        "{row}"
    );
    assert!(
        row.ends_with("80/TCP network unreachable; 443/TCP network unreachable"),
        "{row}"
    );
    assert!(
        stdout.contains("network unreachable to 172.29.52.200:443"),
        "{stdout}"
    );
    assert!(stdout.contains("80/TCP open"), "{stdout}");

    // 3. One of two daemons answers: 1, the other named.
    let dead = format!("http://{VERIFIER}:9180");
    let out = probe_in(
        &lab,
        &[
            "check",
            "--no-reach",
            "--fail-on",
            "never",
            "--url",
            &url,
            "--url",
            &dead,
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("1 of 2 daemons did not answer ({dead})")),
        "{err}"
    );
    assert!(text(&out.stdout).contains("no answer  connection refused"));

    // 4. bgpd down: nothing can be checked.
    bgpd.stop();
    let out = probe_in(&lab, &["check", "--url", &url]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("no bgpd answered, nothing was checked"),
        "{err}"
    );
    assert!(err.contains(&format!("{url}: connection refused")), "{err}");
    eprintln!(
        "lab: healthy after {healthy_secs:.1}s, whole test {:.1}s",
        started.elapsed().as_secs_f64()
    );
}
