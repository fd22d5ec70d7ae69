//! Merging the reports of several bgpd pods into one view: per pool, per
//! Service IP, per node, per peer, and the findings.
//!
//! Every pod reads the same intent but holds its own BGP sessions, so the
//! pods can disagree. The rules:
//!
//! - A route seen by any pod exists: a Service IP is advertised (accepted)
//!   when some pod sees it advertised (accepted); `advertised_by` and the
//!   router's next hops are the union; a pool's counts are the largest any
//!   pod reports, and it is missing only when every pod that knows it says
//!   so.
//! - Sessions are per pod: a node's and a peer's session state is kept per
//!   pod (`sessions`), shown as "Established 2/3".
//! - Findings are deduplicated by what they concern (kind, pool, Service,
//!   prefix, node, peer): one entry, the highest severity any pod gave it,
//!   the first pod's message and hint (pods in the order given), and `seen_by`,
//!   the pods that raised it.

use super::reach::ReachResult;
use crate::api::Target;
use bgp_intent::Reason;
use bgpd::verify::report::{NodeReport, PeerReport, PoolReport, ServiceReport};
use bgpd::verify::{Finding, Report, Severity, Verdict};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The kind of a finding raised by `check` itself when a LoadBalancer IP
/// does not answer from where the probe runs.
pub const UNREACHABLE_FROM_HERE: &str = "unreachable-from-here";
/// The kind of a finding raised by `check` itself for a daemon that did not
/// answer.
pub const DAEMON_UNREACHABLE: &str = "daemon-unreachable";

/// One daemon and how it answered.
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    #[serde(flatten)]
    pub target: Target,
    pub answered: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<f64>,
    /// The inventory source and its state, as the daemon reported it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inventory: Option<String>,
}

/// A pool across pods.
#[derive(Debug, Clone, Serialize)]
pub struct Pool {
    /// The pool as the first pod reported it, its counts raised to the
    /// highest any pod saw and `missing` only if every pod says so.
    #[serde(flatten)]
    pub report: PoolReport,
    /// Pods whose report has this pool.
    pub seen_by: Vec<String>,
}

impl std::ops::Deref for Pool {
    type Target = PoolReport;

    fn deref(&self) -> &PoolReport {
        &self.report
    }
}

/// One IP of a Service across pods.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceIp {
    pub ip: IpAddr,
    pub pool: Option<String>,
    pub expected_from: Vec<String>,
    pub advertised_by: Vec<String>,
    pub router_next_hops: Vec<IpAddr>,
    pub advertised: bool,
    pub accepted: bool,
}

/// A Service across pods.
#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub namespace: String,
    pub name: String,
    pub ports: Vec<String>,
    pub external_traffic_local: bool,
    pub ips: Vec<ServiceIp>,
    pub not_advertised: Vec<Reason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_ip: Option<Reason>,
}

impl Service {
    /// `namespace/name`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// A node across pods.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub name: String,
    pub addresses: Vec<IpAddr>,
    pub ready: bool,
    pub policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_bgp: Option<Reason>,
    pub expected_prefixes: usize,
    pub advertised_prefixes: usize,
    /// Its Cilium agent's session state as each pod sees it, in the order
    /// the pods were given (`state` absent: the pod has no session for it).
    pub sessions: Vec<Session>,
}

/// One pod's view of one session.
#[derive(Debug, Clone, Serialize)]
pub struct Session {
    pub daemon: String,
    pub state: Option<String>,
}

/// A peer across pods.
#[derive(Debug, Clone, Serialize)]
pub struct Peer {
    pub name: String,
    pub address: Option<IpAddr>,
    pub asn: u32,
    pub role: String,
    pub node: Option<String>,
    pub ipv4_prefixes: usize,
    pub ipv6_prefixes: usize,
    pub flaps: u64,
    /// Session state per pod, in the order the pods were given.
    pub sessions: Vec<Session>,
}

/// A finding after deduplication, or one raised by `check` itself.
#[derive(Debug, Clone, Serialize)]
pub struct MergedFinding {
    /// A bgpd kind (`pool-missing`, ...) or [`UNREACHABLE_FROM_HERE`] /
    /// [`DAEMON_UNREACHABLE`].
    pub kind: String,
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    pub message: String,
    pub hint: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<String>,
    /// Pods that raised it; `["here"]` for what the probe itself found.
    pub seen_by: Vec<String>,
}

impl MergedFinding {
    fn from_bgpd(f: &Finding, pod: &str) -> MergedFinding {
        MergedFinding {
            kind: f.kind.name().to_string(),
            severity: f.severity,
            pool: f.pool.clone(),
            service: f.service.clone(),
            prefix: f.prefix.clone(),
            node: f.node.clone(),
            peer: f.peer.clone(),
            message: f.message.clone(),
            hint: f.hint.clone(),
            causes: f.causes.clone(),
            seen_by: vec![pod.to_string()],
        }
    }

    /// What makes two findings the same one.
    #[allow(clippy::type_complexity)]
    fn key(
        &self,
    ) -> (
        &str,
        &Option<String>,
        &Option<String>,
        &Option<String>,
        &Option<String>,
        &Option<String>,
    ) {
        (
            &self.kind,
            &self.pool,
            &self.service,
            &self.prefix,
            &self.node,
            &self.peer,
        )
    }
}

/// The merged view.
#[derive(Debug, Clone, Serialize)]
pub struct Merged {
    pub verdict: Verdict,
    pub summary: String,
    pub sources: Vec<Source>,
    pub pools: Vec<Pool>,
    pub services: Vec<Service>,
    pub nodes: Vec<Node>,
    pub peers: Vec<Peer>,
    /// Most severe first, then by kind and object.
    pub findings: Vec<MergedFinding>,
    /// The probes from here; absent with --no-reach.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reach: Option<Vec<ReachResult>>,
}

impl Merged {
    /// Daemons that answered.
    pub fn answered(&self) -> usize {
        self.sources.iter().filter(|s| s.answered).count()
    }

    /// The most severe finding's severity.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// Merges the answers, in the order the daemons were given (pods are
/// listed by name, URLs as on the command line); the first daemon's texts
/// win for findings several raised.
pub fn merge(answers: Vec<(Target, Result<Report, String>)>) -> Merged {
    let mut sources = Vec::new();
    let mut pools: BTreeMap<String, Pool> = BTreeMap::new();
    let mut services: BTreeMap<(String, String), Service> = BTreeMap::new();
    let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
    let mut peers: BTreeMap<String, Peer> = BTreeMap::new();
    let mut findings: Vec<MergedFinding> = Vec::new();
    let reports: Vec<(&Target, &Report)> = answers
        .iter()
        .filter_map(|(t, r)| r.as_ref().ok().map(|r| (t, r)))
        .collect();
    for (target, result) in &answers {
        let pod = &target.name;
        match result {
            Ok(r) => sources.push(Source {
                target: target.clone(),
                answered: true,
                error: None,
                verdict: r.verdict,
                generation: Some(r.generation),
                generated_at: Some(r.generated_at),
                inventory: Some(inventory_text(r)),
            }),
            Err(e) => {
                sources.push(Source {
                    target: target.clone(),
                    answered: false,
                    error: Some(e.clone()),
                    verdict: None,
                    generation: None,
                    generated_at: None,
                    inventory: None,
                });
                let mut f = MergedFinding {
                    kind: DAEMON_UNREACHABLE.into(),
                    severity: Severity::Warning,
                    pool: None,
                    service: None,
                    prefix: None,
                    node: target.node.clone(),
                    peer: None,
                    message: format!(
                        "bgpd {} did not answer: {e}",
                        target.url.as_deref().unwrap_or(pod)
                    ),
                    hint: "its view is missing from this check: see its pod's logs (kubectl -n bgp-verifier logs POD) or the URL".into(),
                    causes: Vec::new(),
                    seen_by: vec!["here".into()],
                };
                if target.url.is_none() {
                    f.message = format!("bgpd pod {pod} cannot be asked: {e}");
                }
                findings.push(f);
            }
        }
    }
    for (target, r) in &reports {
        let pod = target.name.as_str();
        for p in &r.pools {
            merge_pool(&mut pools, p, pod);
        }
        for s in &r.services {
            merge_service(&mut services, s);
        }
        for n in &r.nodes {
            merge_node(&mut nodes, n, pod);
        }
        for p in &r.peers {
            merge_peer(&mut peers, p, pod);
        }
        for f in &r.findings {
            let new = MergedFinding::from_bgpd(f, pod);
            match findings.iter_mut().find(|m| m.key() == new.key()) {
                Some(m) => {
                    m.severity = m.severity.max(new.severity);
                    m.seen_by.push(pod.to_string());
                }
                None => findings.push(new),
            }
        }
    }
    // A node that a pod does not list has no session with it.
    let pods: Vec<String> = reports.iter().map(|(t, _)| t.name.clone()).collect();
    for n in nodes.values_mut() {
        let mut ordered = Vec::with_capacity(pods.len());
        for pod in &pods {
            let state = n
                .sessions
                .iter()
                .find(|s| &s.daemon == pod)
                .and_then(|s| s.state.clone());
            ordered.push(Session {
                daemon: pod.clone(),
                state,
            });
        }
        n.sessions = ordered;
    }
    let mut merged = Merged {
        verdict: Verdict::Ok,
        summary: String::new(),
        sources,
        pools: pools.into_values().collect(),
        services: services.into_values().collect(),
        nodes: nodes.into_values().collect(),
        peers: peers.into_values().collect(),
        findings,
        reach: None,
    };
    finish(&mut merged);
    merged
}

/// Sorts the findings and sets the verdict and summary; called again after
/// findings are added.
pub fn finish(m: &mut Merged) {
    m.findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.pool.cmp(&b.pool))
            .then_with(|| a.service.cmp(&b.service))
            .then_with(|| a.prefix.cmp(&b.prefix))
            .then_with(|| a.node.cmp(&b.node))
            .then_with(|| a.peer.cmp(&b.peer))
            .then_with(|| a.message.cmp(&b.message))
    });
    m.verdict = match m.worst() {
        Some(Severity::Critical) => Verdict::Critical,
        Some(Severity::Warning) => Verdict::Degraded,
        _ => Verdict::Ok,
    };
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for f in m.findings.iter().filter(|f| f.severity > Severity::Info) {
        *counts.entry(&f.kind).or_default() += 1;
    }
    let name = verdict_name(m.verdict);
    m.summary = if counts.is_empty() {
        format!("{name}: every expected prefix is advertised and accepted")
    } else {
        let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
        format!("{name}: {}", parts.join(", "))
    };
}

/// `ok`, `degraded`, `critical`.
pub fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Ok => "ok",
        Verdict::Degraded => "degraded",
        Verdict::Critical => "critical",
    }
}

fn inventory_text(r: &Report) -> String {
    let i = &r.inventory;
    let mut text = i.source.clone();
    if !i.synced {
        text.push_str(" (not synced)");
    } else if i.stale {
        text.push_str(" (stale)");
    }
    if let Some(e) = &i.error {
        text.push_str(&format!(": {e}"));
    }
    text
}

fn merge_pool(pools: &mut BTreeMap<String, Pool>, p: &PoolReport, pod: &str) {
    match pools.get_mut(&p.name) {
        Some(m) => {
            let r = &mut m.report;
            r.in_use = r.in_use.max(p.in_use);
            r.expected = r.expected.max(p.expected);
            r.advertised = r.advertised.max(p.advertised);
            r.accepted = r.accepted.max(p.accepted);
            r.missing &= p.missing;
            m.seen_by.push(pod.to_string());
        }
        None => {
            pools.insert(
                p.name.clone(),
                Pool {
                    report: p.clone(),
                    seen_by: vec![pod.to_string()],
                },
            );
        }
    }
}

fn union<T: Ord + Clone>(into: &mut Vec<T>, from: &[T]) {
    into.extend(from.iter().cloned());
    into.sort();
    into.dedup();
}

fn merge_service(services: &mut BTreeMap<(String, String), Service>, s: &ServiceReport) {
    let key = (s.namespace.clone(), s.name.clone());
    let m = services.entry(key).or_insert_with(|| Service {
        namespace: s.namespace.clone(),
        name: s.name.clone(),
        ports: s.ports.clone(),
        external_traffic_local: s.external_traffic_local,
        ips: Vec::new(),
        not_advertised: Vec::new(),
        no_ip: s.no_ip.clone(),
    });
    for p in &s.ports {
        if !m.ports.contains(p) {
            m.ports.push(p.clone());
        }
    }
    union(&mut m.not_advertised, &s.not_advertised);
    if m.no_ip.is_none() {
        m.no_ip = s.no_ip.clone();
    }
    for ip in &s.ips {
        match m.ips.iter_mut().find(|x| x.ip == ip.ip) {
            Some(x) => {
                union(&mut x.expected_from, &ip.expected_from);
                union(&mut x.advertised_by, &ip.advertised_by);
                union(&mut x.router_next_hops, &ip.router_next_hops);
                x.advertised |= ip.advertised;
                x.accepted |= ip.accepted;
                if x.pool.is_none() {
                    x.pool = ip.pool.clone();
                }
            }
            None => m.ips.push(ServiceIp {
                ip: ip.ip,
                pool: ip.pool.clone(),
                expected_from: ip.expected_from.clone(),
                advertised_by: ip.advertised_by.clone(),
                router_next_hops: ip.router_next_hops.clone(),
                advertised: ip.advertised,
                accepted: ip.accepted,
            }),
        }
    }
    m.ips.sort_by_key(|x| x.ip);
}

fn merge_node(nodes: &mut BTreeMap<String, Node>, n: &NodeReport, pod: &str) {
    let m = nodes.entry(n.name.clone()).or_insert_with(|| Node {
        name: n.name.clone(),
        addresses: n.addresses.clone(),
        ready: n.ready,
        policy: n.policy.clone(),
        no_bgp: n.no_bgp.clone(),
        expected_prefixes: n.expected_prefixes,
        advertised_prefixes: n.advertised_prefixes,
        sessions: Vec::new(),
    });
    m.expected_prefixes = m.expected_prefixes.max(n.expected_prefixes);
    m.advertised_prefixes = m.advertised_prefixes.max(n.advertised_prefixes);
    m.sessions.push(Session {
        daemon: pod.to_string(),
        state: n.session_state.clone(),
    });
}

fn merge_peer(peers: &mut BTreeMap<String, Peer>, p: &PeerReport, pod: &str) {
    let m = peers.entry(p.name.clone()).or_insert_with(|| Peer {
        name: p.name.clone(),
        address: p.address,
        asn: p.asn,
        role: p.role.clone(),
        node: p.node.clone(),
        ipv4_prefixes: 0,
        ipv6_prefixes: 0,
        flaps: 0,
        sessions: Vec::new(),
    });
    m.ipv4_prefixes = m.ipv4_prefixes.max(p.ipv4_prefixes);
    m.ipv6_prefixes = m.ipv6_prefixes.max(p.ipv6_prefixes);
    m.flaps += p.flaps;
    m.sessions.push(Session {
        daemon: pod.to_string(),
        state: Some(p.state.clone()),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use bgpd::verify::Kind;

    fn target(name: &str) -> Target {
        Target {
            name: name.into(),
            node: None,
            url: Some(format!("http://{name}:9179")),
            problem: None,
        }
    }

    fn report(advertised: bool) -> Report {
        let mut f = Finding::new(
            Kind::PoolMissing,
            Severity::Warning,
            "pool p missing".into(),
            "hint".into(),
        );
        f.pool = Some("p".into());
        Report {
            pools: vec![PoolReport {
                name: "p".into(),
                in_use: 1,
                advertised: usize::from(advertised),
                missing: !advertised,
                ..PoolReport::default()
            }],
            findings: if advertised { vec![] } else { vec![f] },
            ..Report::default()
        }
    }

    #[test]
    fn pods_disagreeing() {
        let mut crit = report(false);
        crit.findings[0].severity = Severity::Critical;
        let m = merge(vec![
            (target("b"), Ok(report(false))),
            (target("a"), Ok(crit)),
            (target("c"), Ok(report(true))),
            (target("d"), Err("connection refused".into())),
        ]);
        assert_eq!(m.answered(), 3);
        assert_eq!(m.pools.len(), 1);
        // Seen advertised by one pod: not missing.
        assert!(!m.pools[0].missing);
        assert_eq!(m.pools[0].advertised, 1);
        // In the order given.
        assert_eq!(m.pools[0].seen_by, ["b", "a", "c"]);
        let kinds: Vec<(&str, Severity, Vec<String>)> = m
            .findings
            .iter()
            .map(|f| (f.kind.as_str(), f.severity, f.seen_by.clone()))
            .collect();
        assert_eq!(
            kinds,
            [
                (
                    "pool-missing",
                    Severity::Critical,
                    vec!["b".into(), "a".into()]
                ),
                ("daemon-unreachable", Severity::Warning, vec!["here".into()]),
            ]
        );
        assert_eq!(m.verdict, Verdict::Critical);
        assert_eq!(m.summary, "critical: 1 daemon-unreachable, 1 pool-missing");
    }
}
