//! Prometheus metrics, rendered at scrape time from the verifier's latest
//! report and the peers' counters.
//!
//! Nothing is updated on the data path: a scrape reads the current
//! [`Report`](crate::verify::Report) (published on every recomputation) and
//! builds the metric families from it, so the values a scrape returns are
//! always one consistent report, series of objects that disappeared vanish
//! with them, and label sets stay bounded by what the cluster holds.

use crate::daemon::Daemon;
use crate::verify::{Kind, Report, Severity};
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{Encoder, GaugeVec, IntCounterVec, Opts, Registry, TextEncoder};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// One metric: its name, help and label names. A fresh vector is built
/// from it at each scrape.
struct Family {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    counter: bool,
    desc: Desc,
}

impl Family {
    fn new(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
        counter: bool,
    ) -> Self {
        let desc = Desc::new(
            name.to_owned(),
            help.to_owned(),
            labels.iter().map(|l| (*l).to_owned()).collect(),
            Default::default(),
        )
        .unwrap_or_else(|e| panic!("metric {name}: {e}"));
        Family {
            name,
            help,
            labels,
            counter,
            desc,
        }
    }
}

/// A metric family being filled for one scrape.
enum Filling {
    Gauge(GaugeVec),
    Counter(IntCounterVec),
}

impl Filling {
    fn of(f: &Family) -> Filling {
        let opts = Opts::new(f.name, f.help);
        if f.counter {
            Filling::Counter(IntCounterVec::new(opts, f.labels).expect("valid metric"))
        } else {
            Filling::Gauge(GaugeVec::new(opts, f.labels).expect("valid metric"))
        }
    }

    fn set(&self, labels: &[&str], v: f64) {
        match self {
            Filling::Gauge(g) => g.with_label_values(labels).set(v),
            Filling::Counter(c) => c.with_label_values(labels).inc_by(v as u64),
        }
    }

    fn collect(&self) -> Vec<MetricFamily> {
        match self {
            Filling::Gauge(g) => g.collect(),
            Filling::Counter(c) => c.collect(),
        }
    }
}

const SESSION_UP: usize = 0;
const FLAPS: usize = 1;
const RECEIVED: usize = 2;
const UPDATES: usize = 3;
const POOL_EXPECTED: usize = 4;
const POOL_ADVERTISED: usize = 5;
const POOL_MISSING: usize = 6;
const SERVICE_ADVERTISED: usize = 7;
const UNEXPECTED: usize = 8;
const FINDINGS: usize = 9;
const NODE_REACHABLE: usize = 10;
const NODE_RTT: usize = 11;
const INVENTORY_STALE: usize = 12;
const INVENTORY_SYNC: usize = 13;
const MESSAGE_ERRORS: usize = 14;
const VERDICT: usize = 15;
const REPORT_TIME: usize = 16;
const REJECTED: usize = 17;
const NODE_SESSION: usize = 18;

/// The collector registered with the registry.
pub struct Metrics {
    daemon: Arc<Daemon>,
    families: Vec<Family>,
}

impl Metrics {
    /// A collector over `daemon`'s report and peers.
    pub fn new(daemon: Arc<Daemon>) -> Self {
        let f = Family::new;
        let families = vec![
            f("bgp_verifier_session_up", "Whether the BGP session with the peer is Established (1) or not (0).", &["peer", "peer_asn", "role"], false),
            f("bgp_verifier_session_flaps_total", "Times the session with the peer went down after being Established.", &["peer"], true),
            f("bgp_verifier_received_prefixes", "Prefixes in the peer's Adj-RIB-In, by address family.", &["peer", "afi"], false),
            f("bgp_verifier_updates_received_total", "UPDATE messages received from the peer.", &["peer"], true),
            f("bgp_verifier_pool_expected_prefixes", "Addresses of the pool in use by Services that the intent says must be advertised.", &["pool"], false),
            f("bgp_verifier_pool_advertised_prefixes", "Addresses of the pool in use that are advertised by the nodes (role speaker) or held by the router (role router).", &["pool", "role"], false),
            f("bgp_verifier_pool_missing", "1 when the pool has addresses in use and none is advertised.", &["pool"], false),
            f("bgp_verifier_service_advertised", "Whether the Service IP is advertised by some node (role speaker) or held by the router (role router).", &["namespace", "service", "ip", "pool", "role"], false),
            f("bgp_verifier_unexpected_prefixes", "Prefixes advertised that the intent does not explain, by peer role.", &["role"], false),
            f("bgp_verifier_findings", "Current findings, by kind and severity.", &["kind", "severity"], false),
            f("bgp_verifier_node_reachable", "Whether the node address answered the latest probe.", &["node", "address"], false),
            f("bgp_verifier_node_rtt_seconds", "Round-trip time of the latest successful probe of the node address.", &["node", "address"], false),
            f("bgp_verifier_inventory_stale", "1 when the intended state could not be refreshed for longer than inventory.stale_after.", &[], false),
            f("bgp_verifier_inventory_last_sync_timestamp_seconds", "When the intended state was last read successfully.", &[], false),
            f("bgp_verifier_message_errors_total", "Malformed messages from the peer: kind treat-as-withdraw, attribute-discard (RFC 7606) or session-reset.", &["peer", "kind"], true),
            f("bgp_verifier_verdict", "1 for the current overall verdict (ok, degraded, critical).", &["verdict"], false),
            f("bgp_verifier_report_timestamp_seconds", "When the current report was computed.", &[], false),
            f("bgp_verifier_connections_rejected_total", "BGP connections refused because no configured peer matched the source address.", &[], true),
            f("bgp_verifier_node_session_up", "Whether the node's Cilium agent has its BGP session with the verifier up or gracefully restarting (1) or not (0); only nodes that must have one.", &["node"], false),
        ];
        Metrics { daemon, families }
    }

    fn fill(&self, report: &Report) -> Vec<Filling> {
        let m: Vec<Filling> = self.families.iter().map(Filling::of).collect();
        for p in &report.peers {
            let asn = p.asn.to_string();
            m[SESSION_UP].set(
                &[&p.name, &asn, &p.role],
                f64::from(u8::from(p.established)),
            );
            m[FLAPS].set(&[&p.name], p.flaps as f64);
            m[RECEIVED].set(&[&p.name, "ipv4"], p.ipv4_prefixes as f64);
            m[RECEIVED].set(&[&p.name, "ipv6"], p.ipv6_prefixes as f64);
            m[UPDATES].set(&[&p.name], p.updates_received as f64);
            m[MESSAGE_ERRORS].set(&[&p.name, "treat-as-withdraw"], p.treat_as_withdraw as f64);
            m[MESSAGE_ERRORS].set(&[&p.name, "attribute-discard"], p.attribute_discard as f64);
            m[MESSAGE_ERRORS].set(&[&p.name, "session-reset"], p.session_resets as f64);
        }
        for p in &report.pools {
            m[POOL_EXPECTED].set(&[&p.name], p.expected as f64);
            m[POOL_ADVERTISED].set(&[&p.name, "speaker"], p.advertised as f64);
            m[POOL_ADVERTISED].set(&[&p.name, "router"], p.accepted as f64);
            m[POOL_MISSING].set(&[&p.name], f64::from(u8::from(p.missing)));
        }
        for s in &report.services {
            for ip in &s.ips {
                let addr = ip.ip.to_string();
                let pool = ip.pool.as_deref().unwrap_or("");
                let labels = |role| {
                    [
                        s.namespace.as_str(),
                        s.name.as_str(),
                        addr.as_str(),
                        pool,
                        role,
                    ]
                };
                m[SERVICE_ADVERTISED].set(&labels("speaker"), f64::from(u8::from(ip.advertised)));
                m[SERVICE_ADVERTISED].set(&labels("router"), f64::from(u8::from(ip.accepted)));
            }
        }
        for role in ["speaker", "router"] {
            let n = report.unexpected_prefixes.get(role).copied().unwrap_or(0);
            m[UNEXPECTED].set(&[role], n as f64);
        }
        let mut counts: BTreeMap<(Kind, Severity), usize> = BTreeMap::new();
        for k in Kind::ALL {
            for s in Severity::ALL {
                counts.insert((k, s), 0);
            }
        }
        for f in &report.findings {
            *counts.entry((f.kind, f.severity)).or_default() += 1;
        }
        for ((k, s), n) in counts {
            m[FINDINGS].set(&[k.name(), s.name()], n as f64);
        }
        for n in &report.nodes {
            if let Some(up) = n.session_up {
                m[NODE_SESSION].set(&[&n.name], f64::from(u8::from(up)));
            }
            for a in &n.addresses {
                let Some(r) = self.reach_of(report, &n.name, *a) else {
                    continue;
                };
                let addr = a.to_string();
                m[NODE_REACHABLE].set(&[&n.name, &addr], f64::from(u8::from(r.0)));
                if let Some(rtt) = r.1 {
                    m[NODE_RTT].set(&[&n.name, &addr], rtt);
                }
            }
        }
        m[INVENTORY_STALE].set(&[], f64::from(u8::from(report.inventory.stale)));
        if let Some(t) = report.inventory.last_sync {
            m[INVENTORY_SYNC].set(&[], t);
        }
        if let Some(v) = report.verdict {
            for (name, this) in [
                ("ok", crate::verify::Verdict::Ok),
                ("degraded", crate::verify::Verdict::Degraded),
                ("critical", crate::verify::Verdict::Critical),
            ] {
                m[VERDICT].set(&[name], f64::from(u8::from(v == this)));
            }
            m[REPORT_TIME].set(&[], report.generated_at);
        }
        m[REJECTED].set(&[], self.daemon.rejected.load(Ordering::Relaxed) as f64);
        m
    }

    /// (reachable, rtt) of a node address, from the report's probe data.
    fn reach_of(
        &self,
        report: &Report,
        node: &str,
        addr: std::net::IpAddr,
    ) -> Option<(bool, Option<f64>)> {
        report
            .reach
            .iter()
            .find(|r| r.node == node && r.address == addr)
            .map(|r| (r.reachable, r.rtt_seconds))
    }
}

impl Collector for Metrics {
    fn desc(&self) -> Vec<&Desc> {
        self.families.iter().map(|f| &f.desc).collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let report = self.daemon.report.borrow().clone();
        self.fill(&report)
            .iter()
            .flat_map(Filling::collect)
            .collect()
    }
}

/// The registry `/metrics` serves.
pub fn registry(daemon: Arc<Daemon>) -> Registry {
    let r = Registry::new();
    r.register(Box::new(Metrics::new(daemon)))
        .expect("metric names are unique");
    r
}

/// The text exposition format of everything in `registry`.
pub fn render(registry: &Registry) -> String {
    let mut out = Vec::new();
    let _ = TextEncoder::new().encode(&registry.gather(), &mut out);
    String::from_utf8(out).unwrap_or_default()
}
