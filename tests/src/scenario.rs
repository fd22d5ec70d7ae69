//! The verifier's scenario lab: the home cluster rebuilt in network
//! namespaces, with its intent as YAML manifests that a test rewrites.
//!
//! One LAN, 172.29.51.0/24 (a [`Lan`] bridge):
//!
//! * the router, `.1`: FRR as the UDM Pro (AS 64513, `no bgp
//!   ebgp-requires-policy`), the three nodes as eBGP neighbours on 179, the
//!   verifier as an iBGP neighbour that FRR dials on 1790 with
//!   `addpath-tx-all-paths` (optional: [`LabOptions::router`]);
//! * the verifier, `.2`: the real `bgpd` binary with a speaker peer for the
//!   node prefix, a router peer for `.1`, the [`Manifests`] directory as its
//!   `files` inventory (re-read on SIGHUP) and ICMP reachability probes
//!   every 0.5 s (`net.ipv4.ping_group_range` is opened in its namespace);
//! * three nodes, `.11`-`.13` (`mini-1`..`mini-3`): gobgpd configured as
//!   Cilium's agent, peering with the router (179) and the verifier (1790).
//!
//! The manifests copy the structure of `intent/default/` (three Ready
//! nodes, pools `bgp-default`, `bgp-ingress` and `bgp-reserved`, the
//! Longhorn Service at 172.29.52.100 and the ingress at .200, one
//! `CiliumBGPPeeringPolicy`) with the lab's addresses, and are written by
//! the test into the verifier's scratch directory. [`Policy`] picks the
//! virtual router's serviceSelector: the seeds' incident (only bgp-default's
//! Services) or the fix (every pool's).
//!
//! Reading the verifier: [`Lab::report`] (`GET /api/v1/report`),
//! [`Lab::metric`] (one series of `GET /metrics`), [`find`] for a finding
//! by kind and fields, [`describe_findings`] for assertion messages.
//!
//! Traffic stays inside the namespaces: every address is on the lab's
//! bridge, and the HTTP API is on the verifier namespace's loopback.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::daemon::{run, wait_until, TIMEOUT};
use crate::frr::{Frr, FrrConfig, FrrNeighbor};
use crate::gobgp::{GoBgp, Neighbor, ROUTER_ASN};
use crate::verifier::Verifier;
use crate::{prereq, Lan, Netns};

/// The router (FRR as the UDM Pro).
pub const ROUTER_V4: &str = "172.29.51.1";
/// The verifier (bgpd).
pub const VERIFIER_V4: &str = "172.29.51.2";
/// bgpd's HTTP API, on the verifier namespace's loopback.
pub const HTTP: &str = "127.0.0.1:9179";
/// gobgpd's gRPC API port in each node namespace.
pub const GOBGP_API_PORT: u16 = 50051;
/// bgpd's name for the router's session.
pub const ROUTER_PEER: &str = "udm-pro";

/// The Longhorn frontend's LoadBalancer IP (pool `bgp-default`).
pub const LB_DEFAULT: &str = "172.29.52.100/32";
/// The ingress controller's LoadBalancer IP (pool `bgp-ingress`).
pub const LB_INGRESS: &str = "172.29.52.200/32";
/// The Service holding [`LB_DEFAULT`].
pub const SVC_DEFAULT: &str = "longhorn-system/longhorn-frontend";
/// The Service holding [`LB_INGRESS`].
pub const SVC_INGRESS: &str = "ingress-nginx/ingress-nginx-controller";

/// The node names, in address order (.11, .12, .13).
pub const NODE_NAMES: [&str; 3] = ["mini-1", "mini-2", "mini-3"];

/// The IPv4 address of node `i` (0-based): 172.29.51.11 to .13.
pub fn node_v4(i: usize) -> String {
    format!("172.29.51.1{}", i + 1)
}

/// bgpd's name for the session of node `i` (a dynamic neighbour of the
/// `nodes` peer).
pub fn speaker_peer(i: usize) -> String {
    format!("nodes/{}", node_v4(i))
}

/// The serviceSelector of the policy's only virtual router.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// The seeds' incident: `matchLabels: {lb.home.arpa/pool: bgp-default}`,
    /// so the ingress pool's Services are advertised by no node.
    DefaultPoolOnly,
    /// The fix: `lb.home.arpa/pool In (bgp-default, bgp-ingress,
    /// bgp-reserved)`. (Not one virtual router per pool: under one localASN
    /// Cilium refuses the second router as a duplicate, see
    /// `intent/default/peering-policy.yaml`.)
    EveryPool,
}

/// The intent as manifest files in one directory, rewritten by
/// [`Manifests::write`] (each file atomically, through a hidden temporary
/// name the files source skips).
#[derive(Debug)]
pub struct Manifests {
    dir: PathBuf,
    /// The virtual router's serviceSelector.
    pub policy: Policy,
    /// Nodes (0-based) whose Ready condition is False.
    pub not_ready: BTreeSet<usize>,
    /// Extra files, by name (without `.yaml`): each holds the given text.
    pub extra: BTreeMap<String, String>,
}

impl Manifests {
    /// The home cluster's manifests with `policy`, in `dir` (not written
    /// yet).
    pub fn new(dir: &Path, policy: Policy) -> Manifests {
        Manifests {
            dir: dir.to_path_buf(),
            policy,
            not_ready: BTreeSet::new(),
            extra: BTreeMap::new(),
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The policy file (named in the hints of findings).
    pub fn policy_file(&self) -> PathBuf {
        self.dir.join("peering-policy.yaml")
    }

    /// Writes every file, and removes extra files no longer listed.
    pub fn write(&self) {
        let mut files: Vec<(String, String)> = vec![
            ("nodes.yaml".into(), nodes_yaml(&self.not_ready)),
            ("pools.yaml".into(), POOLS_YAML.to_string()),
            ("services.yaml".into(), SERVICES_YAML.to_string()),
            ("peering-policy.yaml".into(), policy_yaml(self.policy)),
        ];
        for (name, text) in &self.extra {
            files.push((format!("extra-{name}.yaml"), text.clone()));
        }
        let wanted: BTreeSet<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with("extra-") && !wanted.contains(name.as_str()) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        for (name, text) in &files {
            let tmp = self.dir.join(format!(".{name}.tmp"));
            let path = self.dir.join(name);
            std::fs::write(&tmp, text)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", tmp.display()));
            std::fs::rename(&tmp, &path)
                .unwrap_or_else(|e| panic!("cannot rename to {}: {e}", path.display()));
        }
    }
}

fn nodes_yaml(not_ready: &BTreeSet<usize>) -> String {
    let mut out =
        String::from("# The lab's nodes, as the API server holds them (status included).\n");
    for (i, name) in NODE_NAMES.iter().enumerate() {
        let (ready, reason) = if not_ready.contains(&i) {
            ("False", "KubeletNotReady")
        } else {
            ("True", "KubeletReady")
        };
        let _ = write!(
            out,
            "---
apiVersion: v1
kind: Node
metadata:
  name: {name}
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: {name}
    kubernetes.io/os: linux
    node-role.kubernetes.io/control-plane: \"\"
spec:
  podCIDR: 10.42.{i}.0/24
  podCIDRs:
    - 10.42.{i}.0/24
status:
  addresses:
    - type: InternalIP
      address: {addr}
    - type: Hostname
      address: {name}
  conditions:
    - type: MemoryPressure
      status: \"False\"
      reason: KubeletHasSufficientMemory
    - type: Ready
      status: \"{ready}\"
      reason: {reason}
",
            addr = node_v4(i)
        );
    }
    out
}

const POOLS_YAML: &str = "# LB-IPAM pools, as in intent/default/pools.yaml.
apiVersion: cilium.io/v2alpha1
kind: CiliumLoadBalancerIPPool
metadata:
  name: bgp-default
spec:
  blocks:
    - start: 172.29.52.100
      stop: 172.29.52.199
    - cidr: fd47:25e1:2f96:51:100::/120
  serviceSelector:
    matchLabels:
      lb.home.arpa/pool: bgp-default
---
apiVersion: cilium.io/v2alpha1
kind: CiliumLoadBalancerIPPool
metadata:
  name: bgp-ingress
spec:
  blocks:
    - start: 172.29.52.200
      stop: 172.29.52.220
  serviceSelector:
    matchLabels:
      lb.home.arpa/pool: bgp-ingress
---
apiVersion: cilium.io/v2alpha1
kind: CiliumLoadBalancerIPPool
metadata:
  name: bgp-reserved
spec:
  blocks:
    - start: 172.29.52.221
      stop: 172.29.52.250
  serviceSelector:
    matchLabels:
      lb.home.arpa/pool: bgp-reserved
";

const SERVICES_YAML: &str =
    "# Two LoadBalancer Services with their addresses, as LB-IPAM assigned them.
apiVersion: v1
kind: Service
metadata:
  name: longhorn-frontend
  namespace: longhorn-system
  labels:
    app: longhorn-ui
    lb.home.arpa/pool: bgp-default
  annotations:
    lbipam.cilium.io/ips: 172.29.52.100
spec:
  type: LoadBalancer
  externalTrafficPolicy: Cluster
  ipFamilies:
    - IPv4
  ipFamilyPolicy: SingleStack
  selector:
    app: longhorn-ui
  ports:
    - name: http
      port: 80
      protocol: TCP
      targetPort: http
status:
  loadBalancer:
    ingress:
      - ip: 172.29.52.100
        ipMode: VIP
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: longhorn-frontend-7xk2p
  namespace: longhorn-system
  labels:
    kubernetes.io/service-name: longhorn-frontend
addressType: IPv4
endpoints:
  - addresses:
      - 10.42.0.37
    conditions:
      ready: true
    nodeName: mini-1
ports:
  - name: http
    port: 8000
    protocol: TCP
---
apiVersion: v1
kind: Service
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
  labels:
    app.kubernetes.io/name: ingress-nginx
    lb.home.arpa/pool: bgp-ingress
  annotations:
    lbipam.cilium.io/ips: 172.29.52.200
spec:
  type: LoadBalancer
  externalTrafficPolicy: Cluster
  ipFamilies:
    - IPv4
  ipFamilyPolicy: SingleStack
  selector:
    app.kubernetes.io/name: ingress-nginx
  ports:
    - name: https
      port: 443
      protocol: TCP
      targetPort: https
status:
  loadBalancer:
    ingress:
      - ip: 172.29.52.200
        ipMode: VIP
";

fn policy_yaml(policy: Policy) -> String {
    let selector = match policy {
        Policy::DefaultPoolOnly => {
            "      serviceSelector:
        matchLabels:
          lb.home.arpa/pool: bgp-default
"
        }
        Policy::EveryPool => {
            "      serviceSelector:
        matchExpressions:
          - key: lb.home.arpa/pool
            operator: In
            values:
              - bgp-default
              - bgp-ingress
              - bgp-reserved
"
        }
    };
    format!(
        "# Cilium's BGP control plane, legacy API, as in intent/default/peering-policy.yaml.
apiVersion: cilium.io/v2alpha1
kind: CiliumBGPPeeringPolicy
metadata:
  name: bgp-peering
spec:
  nodeSelector:
    matchLabels:
      kubernetes.io/os: linux
  virtualRouters:
    - localASN: 64512
      exportPodCIDR: false
{selector}      serviceAdvertisements:
        - LoadBalancerIP
      neighbors:
        - peerAddress: {ROUTER_V4}/32
          peerASN: 64513
          gracefulRestart:
            enabled: true
            restartTimeSeconds: 120
        - peerAddress: {VERIFIER_V4}/32
          peerPort: 1790
          peerASN: 64513
          gracefulRestart:
            enabled: true
            restartTimeSeconds: 120
"
    )
}

/// A LoadBalancer Service that no pool serves (its pool label names no
/// pool), so it has no `status.loadBalancer`.
pub fn service_without_ip(namespace: &str, name: &str) -> String {
    format!(
        "apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {namespace}
  labels:
    app.kubernetes.io/name: {name}
    lb.home.arpa/pool: bgp-media
spec:
  type: LoadBalancer
  externalTrafficPolicy: Cluster
  selector:
    app.kubernetes.io/name: {name}
  ports:
    - name: http
      port: 8096
      protocol: TCP
"
    )
}

/// bgpd's configuration in the lab: BGP on the verifier's LAN address,
/// the API on loopback, the `files` inventory from `manifests`, ICMP
/// probes every 0.5 s with a 0.3 s timeout, the node prefix as a speaker
/// peer and, with `router`, the router's address as a router peer.
pub fn bgpd_config(manifests: &Path, router: bool) -> String {
    let mut c = format!(
        r#"asn = 64513
router_id = "{VERIFIER_V4}"
listen = ["{VERIFIER_V4}:1790"]

[http]
listen = "{HTTP}"

[inventory]
source = "files"
path = "{}"

[reachability]
enabled = true
method = "icmp"
interval = 0.5
timeout = 0.3

[[peer]]
name = "nodes"
prefix = "172.29.51.0/24"
remote_asn = 64512
role = "speaker"
"#,
        manifests.display()
    );
    if router {
        let _ = write!(
            c,
            r#"
[[peer]]
name = "{ROUTER_PEER}"
address = "{ROUTER_V4}"
remote_asn = 64513
role = "router"
"#
        );
    }
    c
}

/// FRR as the UDM Pro of the lab: the three nodes and the verifier (5 s
/// connect timer, so a restart of either side is retried soon).
pub fn frr_config() -> FrrConfig {
    let mut cfg = FrrConfig::udm_pro(ROUTER_V4);
    for i in 0..3 {
        cfg = cfg.neighbor(FrrNeighbor::node(&node_v4(i)).connect_retry(5));
    }
    cfg.neighbor(FrrNeighbor::verifier(VERIFIER_V4).connect_retry(5))
}

/// What the lab runs.
#[derive(Clone, Debug)]
pub struct LabOptions {
    /// Run FRR as the router, and give bgpd a router peer.
    pub router: bool,
    /// The virtual router's serviceSelector in the first manifests.
    pub policy: Policy,
    /// The prefixes every node announces from the start.
    pub routes: Vec<String>,
}

/// One node: its namespace and its gobgpd.
#[derive(Debug)]
pub struct LabNode {
    // Field order = drop order: the daemon before its namespace.
    /// The node's Cilium agent.
    pub gobgp: GoBgp,
    /// The node's namespace.
    pub ns: Netns,
    /// The node's name in the manifests.
    pub name: &'static str,
    /// Its address.
    pub v4: String,
    /// Its interface on the LAN (inside `ns`).
    pub dev: String,
}

/// The running lab.
#[derive(Debug)]
pub struct Lab {
    // Field order = drop order: daemons before namespaces, the bridge last.
    /// The three nodes.
    pub nodes: Vec<LabNode>,
    /// FRR, when [`LabOptions::router`] (None while stopped).
    pub frr: Option<Frr>,
    /// bgpd.
    pub verifier: Verifier,
    /// The intent it reads.
    pub manifests: Manifests,
    /// The router's namespace.
    pub router_ns: Netns,
    /// The verifier's namespace.
    pub vns: Netns,
    /// The LAN.
    pub lan: Lan,
    options: LabOptions,
}

impl Lab {
    /// Builds the lab, starts bgpd, FRR (if asked) and the nodes, and waits
    /// until every session is Established (as bgpd and FRR see them).
    pub fn start(bgpd: &Path, options: LabOptions) -> Lab {
        let started = Instant::now();
        let lan = Lan::new("lan");
        let vns = Netns::new("verifier");
        lan.attach(&vns, format!("{VERIFIER_V4}/24"));
        // Unprivileged ICMP echo sockets for every group in this namespace,
        // so the `icmp` probe method works for bgpd.
        run(&mut vns.exec(
            prereq("sysctl"),
            ["-qw", "net.ipv4.ping_group_range=0 2147483647"],
        ));
        let router_ns = Netns::new("udm");
        lan.attach(&router_ns, format!("{ROUTER_V4}/24"));
        let manifests = Manifests::new(&vns.subdir("manifests"), options.policy);
        manifests.write();
        let http: SocketAddr = HTTP.parse().expect("HTTP address");
        // bgpd first, so FRR's first connection attempt finds it.
        let verifier = Verifier::start(
            &vns,
            bgpd,
            &bgpd_config(manifests.dir(), options.router),
            http,
        );
        let frr = options
            .router
            .then(|| Frr::start(&router_ns, &frr_config()));
        let mut peers = vec![Neighbor::verifier(VERIFIER_V4).connect_retry(5)];
        if options.router {
            peers.push(Neighbor::new(ROUTER_V4, ROUTER_ASN).connect_retry(5));
        }
        let routes: Vec<&str> = options.routes.iter().map(String::as_str).collect();
        let nodes = NODE_NAMES
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let ns = Netns::new(&format!("node{}", i + 1));
                let v4 = node_v4(i);
                let dev = lan.attach(&ns, format!("{v4}/24"));
                ns.assert_no_default_route();
                let gobgp =
                    GoBgp::start_with_routes(&ns, &v4, None, &peers, GOBGP_API_PORT, &routes);
                LabNode {
                    gobgp,
                    ns,
                    name,
                    v4,
                    dev,
                }
            })
            .collect();
        for ns in [&vns, &router_ns] {
            ns.assert_no_default_route();
        }
        let lab = Lab {
            nodes,
            frr,
            verifier,
            manifests,
            router_ns,
            vns,
            lan,
            options,
        };
        lab.wait_sessions("every session of the lab Established");
        eprintln!(
            "lab: sessions up after {:.1}s",
            started.elapsed().as_secs_f64()
        );
        lab
    }

    /// Waits until bgpd shows every node's session (and the router's)
    /// Established, and FRR every node's and the verifier's.
    pub fn wait_sessions(&self, what: &str) {
        self.wait(what, TIMEOUT, || {
            (0..3).all(|i| self.verifier.state(&speaker_peer(i)) == "Established")
                && (!self.options.router || self.verifier.state(ROUTER_PEER) == "Established")
                && self.frr.as_ref().is_none_or(|frr| {
                    (0..3).all(|i| frr.neighbor_state(&node_v4(i)) == "Established")
                        && frr.neighbor_state(VERIFIER_V4) == "Established"
                })
        });
    }

    /// Polls `cond` every 20 ms for at most `timeout`; panics naming `what`
    /// with [`Lab::diag`].
    pub fn wait(&self, what: &str, timeout: Duration, cond: impl FnMut() -> bool) {
        let start = Instant::now();
        if !wait_until(timeout, Duration::from_millis(20), cond) {
            panic!(
                "timed out after {:.1}s waiting for {what}\n{}",
                start.elapsed().as_secs_f64(),
                self.diag()
            );
        }
    }

    /// Polls the report every 20 ms until `pred` holds, and returns that
    /// report; panics naming `what` after `timeout`.
    pub fn wait_report(
        &self,
        what: &str,
        timeout: Duration,
        mut pred: impl FnMut(&Value) -> bool,
    ) -> Value {
        let mut last = Value::Null;
        self.wait(what, timeout, || {
            last = self.report();
            pred(&last)
        });
        last
    }

    /// Waits until the report has no finding at all and says `ok`.
    pub fn wait_clean(&self, what: &str) -> Value {
        self.wait_report(what, TIMEOUT, |r| {
            r["verdict"] == "ok" && r["findings"].as_array().is_some_and(Vec::is_empty)
        })
    }

    /// `GET /api/v1/report`.
    pub fn report(&self) -> Value {
        self.verifier.json("/api/v1/report")
    }

    /// `GET /metrics`, the text.
    pub fn metrics(&self) -> String {
        match self.verifier.get("/metrics") {
            Ok((200, body)) => body,
            other => panic!("GET /metrics: {other:?}\n{}", self.verifier.logs()),
        }
    }

    /// The value of the one series `name{labels...}` of `GET /metrics`
    /// (labels not listed may have any value), or None when no series or
    /// more than one matches.
    pub fn metric(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        metric_value(&self.metrics(), name, labels)
    }

    /// Writes the manifests and sends bgpd SIGHUP (the files source reads
    /// them again).
    pub fn reload(&mut self) {
        self.manifests.write();
        self.verifier.daemon().signal(libc::SIGHUP);
    }

    /// FRR, which the lab must run.
    pub fn frr(&self) -> &Frr {
        self.frr.as_ref().expect("the lab runs FRR")
    }

    /// Stops FRR's bgpd with SIGTERM (it closes its sessions), then zebra.
    pub fn stop_frr(&mut self) {
        if let Some(mut frr) = self.frr.take() {
            frr.bgpd().stop(Duration::from_secs(5));
            frr.zebra().stop(Duration::from_secs(5));
        }
    }

    /// Starts FRR again with the lab's configuration.
    pub fn start_frr(&mut self) {
        self.stop_frr();
        let dir = self.router_ns.subdir("frr");
        // A socket or pid file left behind would make the harness think
        // the new zebra is up before it is.
        for f in ["zserv.api", "zebra.pid", "bgpd.pid"] {
            let _ = std::fs::remove_file(dir.join(f));
        }
        self.frr = Some(Frr::start(&self.router_ns, &frr_config()));
    }

    /// Everything useful when an assertion fails: the findings, the peers,
    /// FRR's view, and the logs.
    pub fn diag(&self) -> String {
        let mut s = String::new();
        match self.verifier.get("/api/v1/report") {
            Ok((200, body)) => {
                let r: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                let _ = writeln!(
                    s,
                    "report generation {} verdict {}:\n{}",
                    r["generation"],
                    r["verdict"],
                    describe_findings(&r)
                );
                let _ = writeln!(s, "services: {:#}", r["services"]);
                let _ = writeln!(s, "peers: {:#}", r["peers"]);
                let _ = writeln!(s, "reach: {:#}", r["reach"]);
            }
            other => {
                let _ = writeln!(s, "report: {other:?}");
            }
        }
        if let Some(frr) = &self.frr {
            let _ = writeln!(
                s,
                "FRR:\n{}\n{}",
                frr.try_vtysh(&["show bgp summary"]).unwrap_or_default(),
                frr.try_vtysh(&["show bgp ipv4 unicast"])
                    .unwrap_or_default()
            );
        }
        for n in &self.nodes {
            let tail = n.gobgp.logs();
            let cut = tail.len().saturating_sub(4000);
            let _ = writeln!(s, "{} gobgpd (tail):\n{}", n.name, &tail[cut..]);
        }
        let logs = self.verifier.logs();
        let cut = logs.len().saturating_sub(16000);
        let _ = writeln!(s, "bgpd (tail):\n{}", &logs[cut..]);
        s
    }
}

/// The findings of a report.
pub fn findings(report: &Value) -> Vec<&Value> {
    report["findings"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// The first finding of `kind` whose string fields have the given values
/// (`("node", "mini-3")`, ...).
pub fn find<'a>(report: &'a Value, kind: &str, fields: &[(&str, &str)]) -> Option<&'a Value> {
    findings(report)
        .into_iter()
        .find(|f| f["kind"] == kind && fields.iter().all(|(k, v)| f[*k].as_str() == Some(*v)))
}

/// The findings of `kind`.
pub fn of_kind<'a>(report: &'a Value, kind: &str) -> Vec<&'a Value> {
    findings(report)
        .into_iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

/// One line per finding: kind, severity, objects, message and hint.
pub fn describe_findings(report: &Value) -> String {
    let mut s = String::new();
    for f in findings(report) {
        let mut objects = String::new();
        for k in ["pool", "service", "prefix", "node", "peer"] {
            if let Some(v) = f[k].as_str() {
                let _ = write!(objects, " {k}={v}");
            }
        }
        let _ = writeln!(
            s,
            "  {} {}{objects}: {} | hint: {} | causes: {}",
            f["kind"].as_str().unwrap_or("?"),
            f["severity"].as_str().unwrap_or("?"),
            f["message"].as_str().unwrap_or(""),
            f["hint"].as_str().unwrap_or(""),
            f["causes"]
        );
    }
    if s.is_empty() {
        s.push_str("  (no findings)\n");
    }
    s
}

/// Every series of the Prometheus text `text` named `name` whose labels
/// include `labels`: (all its labels, value).
pub fn metric_series(
    text: &str,
    name: &str,
    labels: &[(&str, &str)],
) -> Vec<(BTreeMap<String, String>, f64)> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let (series_name, rest) = match series.find('{') {
            Some(i) => (&series[..i], &series[i + 1..]),
            None => (series, ""),
        };
        if series_name != name {
            continue;
        }
        let have = parse_labels(rest.strip_suffix('}').unwrap_or(rest));
        if labels
            .iter()
            .all(|(k, v)| have.get(*k).map(String::as_str) == Some(*v))
        {
            if let Ok(v) = value.parse::<f64>() {
                out.push((have, v));
            }
        }
    }
    out
}

/// The value of the single series [`metric_series`] finds, or None when
/// it finds none or several.
pub fn metric_value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    match metric_series(text, name, labels).as_slice() {
        [(_, v)] => Some(*v),
        _ => None,
    }
}

/// `a="x",b="y\"z"` into a map (the escapes of the text format undone).
fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let mut key = String::new();
        for c in chars.by_ref() {
            if c == '=' {
                break;
            }
            key.push(c);
        }
        if key.is_empty() || chars.next() != Some('"') {
            return out;
        }
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(other) => value.push(other),
                    None => break,
                },
                c => value.push(c),
            }
        }
        out.insert(key.trim().to_string(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_series_of_the_text_format() {
        let text = "# HELP bgp_verifier_pool_missing 1 when ...\n\
            # TYPE bgp_verifier_pool_missing gauge\n\
            bgp_verifier_pool_missing{pool=\"bgp-default\"} 0\n\
            bgp_verifier_pool_missing{pool=\"bgp-ingress\"} 1\n\
            bgp_verifier_inventory_stale 0\n\
            bgp_verifier_x{a=\"q\\\"uote\",b=\"2\"} 3.5\n";
        assert_eq!(
            metric_value(
                text,
                "bgp_verifier_pool_missing",
                &[("pool", "bgp-ingress")]
            ),
            Some(1.0)
        );
        assert_eq!(
            metric_value(
                text,
                "bgp_verifier_pool_missing",
                &[("pool", "bgp-default")]
            ),
            Some(0.0)
        );
        // Two series match: no single value.
        assert_eq!(metric_value(text, "bgp_verifier_pool_missing", &[]), None);
        assert_eq!(
            metric_value(text, "bgp_verifier_inventory_stale", &[]),
            Some(0.0)
        );
        assert_eq!(
            metric_value(text, "bgp_verifier_x", &[("a", "q\"uote")]),
            Some(3.5)
        );
        assert_eq!(metric_value(text, "bgp_verifier_pool", &[]), None);
    }

    #[test]
    fn manifests_name_the_lab_addresses_and_the_policy() {
        let nodes = nodes_yaml(&[2].into());
        assert!(nodes.contains("address: 172.29.51.13"), "{nodes}");
        assert_eq!(
            nodes
                .matches("status: \"False\"\n      reason: KubeletNotReady")
                .count(),
            1
        );
        let incident = policy_yaml(Policy::DefaultPoolOnly);
        assert!(
            incident.contains("lb.home.arpa/pool: bgp-default"),
            "{incident}"
        );
        assert!(!incident.contains("bgp-ingress"), "{incident}");
        let fixed = policy_yaml(Policy::EveryPool);
        assert!(fixed.contains("- bgp-ingress"), "{fixed}");
        let c = bgpd_config(Path::new("/m"), true);
        assert!(
            c.contains("path = \"/m\"") && c.contains("name = \"udm-pro\""),
            "{c}"
        );
        assert!(!bgpd_config(Path::new("/m"), false).contains("udm-pro"));
    }
}
