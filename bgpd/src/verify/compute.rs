//! The comparison itself: expected state against the peers' Adj-RIBs-In,
//! session states and probe results, giving the report and its findings.
//!
//! A pure function of its [`Input`]: the verifier task calls it on every
//! routing, inventory or reachability event, and tests call it directly.

use super::finding::{Finding, Kind, Severity};
use super::report::{
    InventoryStatus, NodeReport, PeerReport, PoolReport, ReachReport, Report, ServiceIpReport,
    ServiceReport, Verdict,
};
use super::view::{PathView, PeerView};
use bgp_intent::expected::{PrefixIntent, ServiceIntent};
use bgp_intent::{Expected, Reason};
use bgp_proto::Family;
use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::net::IpAddr;

/// The latest probe result of one node address.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeReach {
    pub reachable: bool,
    /// Failed enough probes in a row to be called down.
    pub down: bool,
    pub rtt_seconds: Option<f64>,
}

/// Everything one computation reads.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub expected: &'a Expected,
    pub inventory: &'a InventoryStatus,
    pub peers: &'a [PeerView],
    /// Source addresses node agents connect from (the `speaker` peers of the
    /// configuration): a BGP node inside them must have a session.
    pub speaker_ranges: &'a [IpNet],
    pub reach: &'a BTreeMap<(String, IpAddr), NodeReach>,
    /// The previous report, to keep each finding's `since`.
    pub previous: Option<&'a Report>,
    pub now: f64,
    pub generation: u64,
}

/// Where to look when the nodes should advertise something and do not,
/// although the intent explains nothing.
const HINT_AGENT: &str = "the intent says Cilium should advertise it: check that the agent \
applied the policy (`cilium bgp peers`, `cilium bgp routes advertised`), that the Cilium \
version reads the CRD version in use (v2alpha1 vs v2), and the agent's log";

const HINT_ROUTER_FILTER: &str = "the router dropped or filtered it: FRR 8 on the UDM Pro \
rejects eBGP routes without an import policy unless `no bgp ebgp-requires-policy` is set \
(neighbor summary shows (Policy)); otherwise look for a prefix-list or route-map on the node \
neighbors";

fn host_prefix(ip: IpAddr) -> IpNet {
    IpNet::from(ip)
}

fn join_reasons<'r>(reasons: impl IntoIterator<Item = &'r Reason>) -> (String, Vec<String>) {
    let mut seen = BTreeSet::new();
    let mut text = String::new();
    let mut codes = Vec::new();
    for r in reasons {
        if !seen.insert((&r.code, &r.message)) {
            continue;
        }
        if !text.is_empty() {
            text.push_str("; ");
        }
        text.push_str(&r.message);
        if let (Some(file), Some(line)) = (&r.origin.file, r.origin.line) {
            let _ = write!(text, " ({}:{line})", file.display());
        }
        if !codes.contains(&r.code) {
            codes.push(r.code.clone());
        }
    }
    (text, codes)
}

/// The routes of the speakers and routers, indexed for the checks.
struct Seen<'a> {
    /// Prefix → node (or peer name when no node owns the address) → paths.
    speakers: BTreeMap<IpNet, BTreeMap<String, &'a [PathView]>>,
    /// Prefix → router paths (all routers together).
    routers: BTreeMap<IpNet, Vec<&'a PathView>>,
    /// Whether some router session is up (or restarting).
    router_up: bool,
    /// Whether ADD-PATH is negotiated with an up router, per address family.
    router_add_path: (bool, bool),
}

impl<'a> Seen<'a> {
    fn new(peers: &'a [PeerView], node_of: &HashMap<IpAddr, String>) -> Self {
        let mut speakers: BTreeMap<IpNet, BTreeMap<String, &'a [PathView]>> = BTreeMap::new();
        let mut routers: BTreeMap<IpNet, Vec<&'a PathView>> = BTreeMap::new();
        let mut router_up = false;
        let mut router_add_path = (false, false);
        for p in peers {
            if p.is_speaker() {
                let who = p
                    .address
                    .and_then(|a| node_of.get(&a).cloned())
                    .unwrap_or_else(|| p.name.clone());
                for (prefix, paths) in &p.routes {
                    speakers
                        .entry(*prefix)
                        .or_default()
                        .insert(who.clone(), paths.as_slice());
                }
            } else if p.is_router() {
                if p.up_or_restarting() {
                    router_up = true;
                }
                if p.established {
                    router_add_path.0 |= p.add_path.contains(&Family::IPV4_UNICAST);
                    router_add_path.1 |= p.add_path.contains(&Family::IPV6_UNICAST);
                }
                for (prefix, paths) in &p.routes {
                    routers.entry(*prefix).or_default().extend(paths.iter());
                }
            }
        }
        Seen {
            speakers,
            routers,
            router_up,
            router_add_path,
        }
    }

    fn advertised_by(&self, p: &IpNet) -> BTreeSet<String> {
        self.speakers
            .get(p)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn router_next_hops(&self, p: &IpNet) -> Vec<IpAddr> {
        let mut hops: Vec<IpAddr> = self
            .routers
            .get(p)
            .map(|v| v.iter().filter_map(|path| path.next_hop).collect())
            .unwrap_or_default();
        hops.sort();
        hops.dedup();
        hops
    }

    fn router_paths(&self, p: &IpNet) -> usize {
        self.routers.get(p).map_or(0, Vec::len)
    }

    fn router_add_path(&self, p: &IpNet) -> bool {
        match p {
            IpNet::V4(_) => self.router_add_path.0,
            IpNet::V6(_) => self.router_add_path.1,
        }
    }
}

/// Computes the report.
pub fn compute(input: Input<'_>) -> Report {
    let ex = input.expected;
    let mut node_of: HashMap<IpAddr, String> = HashMap::new();
    for n in &ex.nodes {
        for a in &n.addresses {
            node_of.entry(*a).or_insert_with(|| n.name.clone());
        }
    }
    let seen = Seen::new(input.peers, &node_of);
    let mut findings = Vec::new();

    let speaker_of_node: HashMap<&str, &PeerView> = input
        .peers
        .iter()
        .filter(|p| p.is_speaker())
        .filter_map(|p| Some((node_of.get(&p.address?)?.as_str(), p)))
        .collect();
    let node_session_up = |node: &str| {
        speaker_of_node
            .get(node)
            .is_some_and(|p| p.up_or_restarting())
    };
    let any_speaker_up = input
        .peers
        .iter()
        .any(|p| p.is_speaker() && p.up_or_restarting());

    // Node reachability and readiness, by address, for next-hop checks.
    let mut bad_next_hop: HashMap<IpAddr, String> = HashMap::new();
    for n in &ex.nodes {
        for a in &n.addresses {
            if let Some(r) = input.reach.get(&(n.name.clone(), *a)) {
                if r.down {
                    bad_next_hop
                        .insert(*a, format!("node {} ({a}) does not answer probes", n.name));
                    continue;
                }
            }
            if !n.ready {
                bad_next_hop.insert(*a, format!("node {} ({a}) is NotReady", n.name));
            }
        }
    }

    let services = check_services(
        &input,
        &seen,
        &node_of,
        &node_session_up,
        any_speaker_up,
        &bad_next_hop,
        &mut findings,
    );
    let pools = check_pools(&input, &seen, &mut findings);
    let unexpected = check_unexpected(&input, &seen, &node_of, &mut findings);
    let (nodes, peers) = check_sessions(
        &input,
        &seen,
        &node_of,
        &speaker_of_node,
        any_speaker_up,
        &mut findings,
    );

    if input.inventory.stale {
        let age = input
            .inventory
            .last_sync
            .map(|t| format!(" for {:.0} s", (input.now - t).max(0.0)))
            .unwrap_or_default();
        let mut f = Finding::new(
            Kind::InventoryStale,
            Severity::Warning,
            format!(
                "the intended state from {} could not be refreshed{age}; checks use the last state read",
                input.inventory.source
            ),
            input.inventory.error.clone().map_or_else(
                || "check the API server and the verifier's RBAC (get/list/watch)".to_owned(),
                |e| format!("last error: {e}; check the API server and the verifier's RBAC (get/list/watch)"),
            ),
        );
        f.causes.push("inventory-stale".into());
        findings.push(f);
    }

    // Stable order, and first-seen times carried over.
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.kind.cmp(&b.kind))
            .then_with(|| a.key().cmp(&b.key()))
    });
    let previous: HashMap<_, f64> = input
        .previous
        .map(|r| r.findings.iter().map(|f| (f.key(), f.since)).collect())
        .unwrap_or_default();
    let sinces: Vec<f64> = findings
        .iter()
        .map(|f| previous.get(&f.key()).copied().unwrap_or(input.now))
        .collect();
    for (f, since) in findings.iter_mut().zip(sinces) {
        f.since = since;
    }
    let verdict = Verdict::of(&findings);
    Report {
        generated_at: input.now,
        generation: input.generation,
        verdict: Some(verdict),
        summary: summary(verdict, &findings),
        inventory: input.inventory.clone(),
        peers,
        pools,
        services,
        nodes,
        findings,
        unexpected_prefixes: unexpected,
        reach: input
            .reach
            .iter()
            .map(|((node, address), r)| ReachReport {
                node: node.clone(),
                address: *address,
                reachable: r.reachable,
                down: r.down,
                rtt_seconds: r.rtt_seconds,
            })
            .collect(),
    }
}

fn summary(verdict: Verdict, findings: &[Finding]) -> String {
    let mut counts: BTreeMap<Kind, usize> = BTreeMap::new();
    for f in findings.iter().filter(|f| f.severity > Severity::Info) {
        *counts.entry(f.kind).or_default() += 1;
    }
    let name = match verdict {
        Verdict::Ok => "ok",
        Verdict::Degraded => "degraded",
        Verdict::Critical => "critical",
    };
    if counts.is_empty() {
        return format!("{name}: every expected prefix is advertised and accepted");
    }
    let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    format!("{name}: {}", parts.join(", "))
}

fn prefix_intent<'e>(ex: &'e Expected, p: &IpNet) -> Option<&'e PrefixIntent> {
    ex.prefixes.get(p)
}

fn service_id(s: &ServiceIntent) -> String {
    format!("{}/{}", s.namespace, s.name)
}

fn check_services(
    input: &Input<'_>,
    seen: &Seen<'_>,
    node_of: &HashMap<IpAddr, String>,
    node_session_up: &dyn Fn(&str) -> bool,
    any_speaker_up: bool,
    bad_next_hop: &HashMap<IpAddr, String>,
    findings: &mut Vec<Finding>,
) -> Vec<ServiceReport> {
    let ex = input.expected;
    let mut out = Vec::with_capacity(ex.services.len());
    for s in &ex.services {
        let id = service_id(s);
        if s.ips.is_empty() {
            let (hint, causes) = join_reasons(s.no_ip.iter());
            let mut f = Finding::new(
                Kind::ServiceWithoutIp,
                Severity::Warning,
                format!("Service {id} of type LoadBalancer has no external IP"),
                if hint.is_empty() {
                    "no pool gave it an address: compare its labels and annotations with the pools' serviceSelector".into()
                } else {
                    hint
                },
            );
            f.service = Some(id.clone());
            f.causes = causes;
            findings.push(f);
        }
        let mut ips = Vec::with_capacity(s.ips.len());
        for ip in &s.ips {
            let p = host_prefix(*ip);
            let pool = s.pools.get(ip).cloned();
            let intent = prefix_intent(ex, &p);
            let expected_from: BTreeSet<String> =
                intent.map(|i| i.nodes.clone()).unwrap_or_default();
            let advertised_by = seen.advertised_by(&p);
            let hops = seen.router_next_hops(&p);
            let accepted = !hops.is_empty() || seen.router_paths(&p) > 0;
            let base = |kind, severity, message: String, hint: String| {
                let mut f = Finding::new(kind, severity, message, hint);
                f.service = Some(id.clone());
                f.prefix = Some(p.to_string());
                f.pool = pool.clone();
                f
            };
            if advertised_by.is_empty() {
                // Nobody advertises it: the intent's reasons, or the agents.
                let (mut hint, causes) = join_reasons(&s.not_advertised);
                if hint.is_empty() {
                    hint = if expected_from.is_empty() {
                        "no node is expected to advertise it, and the intent names no reason".into()
                    } else if !any_speaker_up {
                        "no node has a BGP session with the verifier".into()
                    } else {
                        HINT_AGENT.into()
                    };
                }
                let mut f = base(
                    Kind::ServiceNotAdvertised,
                    Severity::Critical,
                    format!("{ip} of Service {id} is advertised by no node"),
                    hint,
                );
                f.causes = causes;
                findings.push(f);
            } else {
                for node in expected_from.iter().filter(|n| !advertised_by.contains(*n)) {
                    if !node_session_up(node) {
                        // Reported as speaker-session-down.
                        continue;
                    }
                    let mut f = base(
                        Kind::ServiceNotAdvertised,
                        Severity::Warning,
                        format!("{ip} of Service {id} is not advertised by node {node}"),
                        HINT_AGENT.into(),
                    );
                    f.node = Some(node.clone());
                    findings.push(f);
                }
            }
            if !advertised_by.is_empty() && seen.router_up {
                if !accepted {
                    let mut f = base(
                        Kind::NotAcceptedByRouter,
                        Severity::Critical,
                        format!(
                            "{ip} of Service {id} is advertised by {} but the router does not hold it",
                            advertised_by.iter().cloned().collect::<Vec<_>>().join(", ")
                        ),
                        HINT_ROUTER_FILTER.into(),
                    );
                    f.causes.push("router-filtered".into());
                    findings.push(f);
                } else if seen.router_add_path(&p) && seen.router_paths(&p) < advertised_by.len() {
                    let via: BTreeSet<&String> =
                        hops.iter().filter_map(|h| node_of.get(h)).collect();
                    let lacking: Vec<&str> = advertised_by
                        .iter()
                        .filter(|n| !via.contains(n))
                        .map(String::as_str)
                        .collect();
                    findings.push(base(
                        Kind::FewerRouterPaths,
                        Severity::Warning,
                        format!(
                            "the router holds {} path(s) for {ip} of Service {id}, {} node(s) advertise it",
                            seen.router_paths(&p),
                            advertised_by.len()
                        ),
                        if lacking.is_empty() {
                            "the router does not keep a path through every advertising node: check that it accepts each node's session and route, and its maximum-paths; traffic concentrates on fewer nodes".into()
                        } else {
                            format!(
                                "the router has no path through {}: an import filter (prefix-list, route-map) on that neighbor, or its session with the router is down; traffic concentrates on the other nodes",
                                lacking.join(", ")
                            )
                        },
                    ));
                }
            }
            if !hops.is_empty() {
                let bad: Vec<&String> = hops.iter().filter_map(|h| bad_next_hop.get(h)).collect();
                if !bad.is_empty() {
                    let all = bad.len() == hops.len();
                    let f = base(
                        Kind::NextHopUnreachable,
                        if all { Severity::Critical } else { Severity::Warning },
                        format!(
                            "the router forwards {ip} of Service {id} to {} of {} next hop(s) that cannot take traffic",
                            bad.len(),
                            hops.len()
                        ),
                        format!(
                            "{}; its Cilium agent's routes are kept by graceful restart or the node is failing: cordon/drain it or fix it",
                            bad.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("; ")
                        ),
                    );
                    findings.push(f);
                }
            }
            ips.push(ServiceIpReport {
                ip: *ip,
                pool,
                expected_from: expected_from.into_iter().collect(),
                advertised: !advertised_by.is_empty(),
                advertised_by: advertised_by.into_iter().collect(),
                router_next_hops: hops,
                accepted,
            });
        }
        out.push(ServiceReport {
            namespace: s.namespace.clone(),
            name: s.name.clone(),
            ips,
            ports: s
                .ports
                .iter()
                .map(|p| format!("{}/{}", p.port, p.protocol))
                .collect(),
            external_traffic_local: s.external_traffic_local,
            not_advertised: s.not_advertised.clone(),
            no_ip: s.no_ip.clone(),
        });
    }
    out
}

fn check_pools(input: &Input<'_>, seen: &Seen<'_>, findings: &mut Vec<Finding>) -> Vec<PoolReport> {
    let ex = input.expected;
    let mut out = Vec::with_capacity(ex.pools.len());
    for pool in &ex.pools {
        let advertised = pool
            .in_use
            .iter()
            .filter(|ip| seen.speakers.contains_key(&host_prefix(**ip)))
            .count();
        let accepted = pool
            .in_use
            .iter()
            .filter(|ip| seen.routers.contains_key(&host_prefix(**ip)))
            .count();
        let missing = !pool.in_use.is_empty() && advertised == 0 && accepted == 0;
        if missing {
            let services: Vec<&ServiceIntent> = ex
                .services
                .iter()
                .filter(|s| pool.services.contains(&service_id(s)))
                .collect();
            let (mut hint, mut causes) =
                join_reasons(services.iter().flat_map(|s| s.not_advertised.iter()));
            if hint.is_empty() {
                hint = if pool.expected.is_empty() {
                    "no node is expected to advertise this pool's addresses".into()
                } else {
                    HINT_AGENT.into()
                };
            }
            if pool.disabled {
                causes.push("pool-disabled".into());
            }
            let mut f = Finding::new(
                Kind::PoolMissing,
                Severity::Critical,
                format!(
                    "pool {} has {} address(es) in use ({}) and none is advertised",
                    pool.name,
                    pool.in_use.len(),
                    pool.services.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
                hint,
            );
            f.pool = Some(pool.name.clone());
            f.causes = causes;
            findings.push(f);
        }
        out.push(PoolReport {
            name: pool.name.clone(),
            disabled: pool.disabled,
            ranges: pool
                .ranges
                .iter()
                .map(|(a, b)| format!("{a}-{b}"))
                .collect(),
            size: pool.size,
            in_use: pool.in_use.len(),
            expected: pool.expected.len(),
            advertised,
            accepted,
            missing,
        });
    }
    out
}

/// Prefixes advertised that the intent does not explain; returns the
/// number per peer role.
fn check_unexpected(
    input: &Input<'_>,
    seen: &Seen<'_>,
    node_of: &HashMap<IpAddr, String>,
    findings: &mut Vec<Finding>,
) -> BTreeMap<String, usize> {
    let ex = input.expected;
    let mut counts: BTreeMap<String, usize> =
        [("speaker".to_owned(), 0), ("router".to_owned(), 0)].into();
    if !input.inventory.synced {
        // Without the intent every route would look unexpected.
        return counts;
    }
    let service_of_ip: HashMap<IpAddr, &ServiceIntent> = ex
        .services
        .iter()
        .flat_map(|s| s.ips.iter().map(move |ip| (*ip, s)))
        .collect();
    for peer in input.peers.iter().filter(|p| p.is_speaker()) {
        let node = peer.address.and_then(|a| node_of.get(&a).cloned());
        for prefix in peer.routes.keys() {
            let intent = ex.prefixes.get(prefix);
            let ok = match (&node, intent) {
                (Some(n), Some(i)) => i.nodes.contains(n),
                (None, Some(_)) => true,
                (_, None) => false,
            };
            if ok {
                continue;
            }
            *counts.entry("speaker".into()).or_default() += 1;
            let who = node.clone().unwrap_or_else(|| peer.name.clone());
            let (hint, causes, service) = match service_of_ip.get(&prefix.addr()) {
                Some(s) if prefix.prefix_len() == prefix.max_prefix_len() => {
                    let (h, c) = join_reasons(&s.not_advertised);
                    let h = if h.is_empty() {
                        format!("Service {} holds this address but the intent does not have node {who} advertise it", service_id(s))
                    } else {
                        format!("the intent says this node should not advertise it: {h}")
                    };
                    (h, c, Some(service_id(s)))
                }
                _ => (
                    "no Service holds this address: a Service deleted while Cilium kept its route, an address assigned outside the pools, or a leak".to_owned(),
                    Vec::new(),
                    None,
                ),
            };
            let mut f = Finding::new(
                Kind::UnexpectedPrefix,
                Severity::Warning,
                format!("node {who} advertises {prefix}, which the intent does not explain"),
                hint,
            );
            f.prefix = Some(prefix.to_string());
            f.node = node.clone();
            f.peer = Some(peer.name.clone());
            f.service = service;
            f.causes = causes;
            findings.push(f);
        }
    }
    // The router: only prefixes inside the pools concern us.
    let in_pools = |ip: IpAddr| {
        ex.pools
            .iter()
            .any(|p| p.ranges.iter().any(|(a, b)| *a <= ip && ip <= *b))
    };
    for prefix in seen.routers.keys() {
        if ex.prefixes.contains_key(prefix) || !in_pools(prefix.addr()) {
            continue;
        }
        *counts.entry("router".into()).or_default() += 1;
        let mut f = Finding::new(
            Kind::UnexpectedPrefix,
            Severity::Warning,
            format!("the router holds {prefix} inside a pool, which the intent does not explain"),
            if seen.speakers.contains_key(prefix) {
                "a node still advertises it (see that node's unexpected-prefix finding)".to_owned()
            } else {
                "no node advertises it to the verifier: a static route on the router, another speaker, or a stale route".to_owned()
            },
        );
        f.prefix = Some(prefix.to_string());
        findings.push(f);
    }
    counts
}

fn check_sessions(
    input: &Input<'_>,
    seen: &Seen<'_>,
    node_of: &HashMap<IpAddr, String>,
    speaker_of_node: &HashMap<&str, &PeerView>,
    any_speaker_up: bool,
    findings: &mut Vec<Finding>,
) -> (Vec<NodeReport>, Vec<PeerReport>) {
    let ex = input.expected;
    let in_speaker_range = |a: &IpAddr| input.speaker_ranges.iter().any(|r| r.contains(a));
    let mut nodes = Vec::with_capacity(ex.nodes.len());
    for n in &ex.nodes {
        let peer = speaker_of_node.get(n.name.as_str()).copied();
        let expected_prefixes: BTreeSet<&IpNet> = ex
            .prefixes
            .values()
            .filter(|p| p.nodes.contains(&n.name))
            .map(|p| &p.prefix)
            .collect();
        let advertised_prefixes = seen
            .speakers
            .values()
            .filter(|m| m.contains_key(&n.name))
            .count();
        let wants_session = n.no_bgp.is_none() && n.addresses.iter().any(in_speaker_range);
        if wants_session && !peer.is_some_and(|p| p.up_or_restarting()) {
            let severity = if any_speaker_up {
                Severity::Warning
            } else {
                Severity::Critical
            };
            let hint = match peer {
                Some(p) => format!(
                    "session {} is {}; see `bgp-probe peers` for its last NOTIFICATION and down reason; if the node's agent restarted without graceful restart its routes were withdrawn",
                    p.name, p.state
                ),
                None => format!(
                    "no connection from {} yet: check that the node's BGP policy has the verifier as a neighbor (its address, peerPort 1790, peerASN) and that the verifier listens there",
                    n.addresses.first().map(|a| a.to_string()).unwrap_or_default()
                ),
            };
            let mut f = Finding::new(
                Kind::SpeakerSessionDown,
                severity,
                format!(
                    "node {}'s Cilium agent has no BGP session with the verifier",
                    n.name
                ),
                hint,
            );
            f.node = Some(n.name.clone());
            f.peer = peer.map(|p| p.name.clone());
            findings.push(f);
        }
        let mut reachable = None;
        let mut rtt = None;
        for a in &n.addresses {
            if let Some(r) = input.reach.get(&(n.name.clone(), *a)) {
                reachable = Some(reachable.unwrap_or(true) && r.reachable);
                rtt = rtt.or(r.rtt_seconds);
                if r.down {
                    let mut f = Finding::new(
                        Kind::NodeUnreachable,
                        Severity::Warning,
                        format!("node {} does not answer probes at {a}", n.name),
                        if n.ready {
                            "the node is Ready for Kubernetes: check the path from the verifier (firewall, VLAN, cabling)".into()
                        } else {
                            "the node is also NotReady: it is down or partitioned".into()
                        },
                    );
                    f.node = Some(n.name.clone());
                    findings.push(f);
                }
            }
        }
        nodes.push(NodeReport {
            name: n.name.clone(),
            addresses: n.addresses.clone(),
            ready: n.ready,
            policy: n.policy.clone(),
            no_bgp: n.no_bgp.clone(),
            peer: peer.map(|p| p.name.clone()),
            session_state: peer.map(|p| p.state.clone()),
            session_up: wants_session.then(|| peer.is_some_and(|p| p.up_or_restarting())),
            reachable,
            rtt_seconds: rtt,
            expected_prefixes: expected_prefixes.len(),
            advertised_prefixes,
        });
    }
    let mut peers = Vec::with_capacity(input.peers.len());
    for p in input.peers {
        if p.is_router() && !p.up_or_restarting() {
            let mut f = Finding::new(
                Kind::RouterSessionDown,
                Severity::Critical,
                format!("the router's BGP session ({}) is {}", p.name, p.state),
                "the verifier cannot see what the router accepted: check the router's neighbor for the verifier (address, remote-as, port 1790, add-path) with `vtysh -c 'show bgp summary'`".into(),
            );
            f.peer = Some(p.name.clone());
            findings.push(f);
        }
        let (v4, v6) = p.counts();
        peers.push(PeerReport {
            name: p.name.clone(),
            address: p.address,
            asn: p.asn,
            role: p.role.map(|r| r.to_string()).unwrap_or_default(),
            state: p.state.clone(),
            established: p.established,
            restarting: p.restarting,
            node: p.address.and_then(|a| node_of.get(&a).cloned()),
            ipv4_prefixes: v4,
            ipv6_prefixes: v6,
            flaps: p.flaps,
            updates_received: p.updates,
            treat_as_withdraw: p.treat_as_withdraw,
            attribute_discard: p.attribute_discard,
            session_resets: p.session_resets,
        });
    }
    (nodes, peers)
}
