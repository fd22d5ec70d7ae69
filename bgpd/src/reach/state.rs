//! The published reachability state and its bookkeeping between rounds.
//!
//! Each probe yields an [`Outcome`]; [`ReachState::updated`] folds a batch of
//! them into the next state: a success resets the target's
//! `consecutive_failures`, a failure adds one to it, targets that are no
//! longer wanted are dropped and targets not probed in this batch keep their
//! last result. Consumers judge a node down only after
//! [`DOWN_AFTER_FAILURES`] failures in a row, so one lost packet does not
//! flap a finding.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

/// A node address to probe.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    /// The node's name (Kubernetes `Node` name).
    pub node: String,
    /// The address to probe. An IPv4-mapped IPv6 address is probed over
    /// IPv4.
    pub address: IpAddr,
}

impl Target {
    /// The key of this target in [`ReachState::results`].
    pub fn key(&self) -> (String, IpAddr) {
        (self.node.clone(), self.address)
    }
}

/// How a probe was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// ICMP or ICMPv6 echo over a ping socket.
    Icmp,
    /// TCP connect to `reachability.tcp_port`.
    Tcp,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::Icmp => "icmp",
            Method::Tcp => "tcp",
        })
    }
}

/// A target counts as down (see [`ProbeResult::is_down`]) after this many
/// failed probes in a row.
pub const DOWN_AFTER_FAILURES: u32 = 2;

/// The latest probe of one target.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeResult {
    /// Whether the last probe got an answer: an echo reply, or for TCP a
    /// completed handshake or a refusal.
    ///
    /// Do not alert on a single `false`: use [`ProbeResult::is_down`], which
    /// waits for [`DOWN_AFTER_FAILURES`] failures in a row.
    pub reachable: bool,
    /// Round-trip time of the last probe, when it got an answer.
    pub rtt: Option<Duration>,
    /// How the last probe was made.
    pub method: Method,
    /// When the last probe finished, in seconds since the Unix epoch.
    pub at: f64,
    /// What went wrong, or for a TCP refusal `"port closed, host answered"`
    /// (reachable, with a note).
    pub error: Option<String>,
    /// Failed probes in a row, 0 after a success. The target is down once
    /// this reaches [`DOWN_AFTER_FAILURES`] (2): a single lost probe is not
    /// an outage.
    pub consecutive_failures: u32,
}

impl ProbeResult {
    /// Whether the target is considered down: at least
    /// [`DOWN_AFTER_FAILURES`] probes in a row failed.
    pub fn is_down(&self) -> bool {
        self.consecutive_failures >= DOWN_AFTER_FAILURES
    }
}

/// What the probing task publishes after every batch of probes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReachState {
    /// The latest result of every current target, by `(node, address)`.
    /// A target appears after its first probe and disappears once it is no
    /// longer among the targets.
    pub results: BTreeMap<(String, IpAddr), ProbeResult>,
    /// Full rounds completed (every target probed): 0 until the first one.
    /// A target added between rounds is probed at once and its result
    /// published without waiting for (or counting as) a round.
    pub round: u64,
}

impl ReachState {
    /// The result for `node` at `address`, if it has been probed.
    pub fn get(&self, node: &str, address: IpAddr) -> Option<&ProbeResult> {
        self.results.get(&(node.to_string(), address))
    }

    /// Targets currently considered down (see [`ProbeResult::is_down`]).
    pub fn down(&self) -> impl Iterator<Item = (&(String, IpAddr), &ProbeResult)> {
        self.results.iter().filter(|(_, r)| r.is_down())
    }

    /// The state after a batch of probes: `wanted` is the current target
    /// set, `outcomes` the batch's results, `full_round` whether the batch
    /// covered every target (which increments [`ReachState::round`]).
    /// Outcomes for targets no longer wanted are discarded.
    pub(super) fn updated(
        &self,
        wanted: &BTreeSet<(String, IpAddr)>,
        outcomes: Vec<(Target, Outcome)>,
        full_round: bool,
    ) -> ReachState {
        let mut results: BTreeMap<_, _> = self
            .results
            .iter()
            .filter(|(k, _)| wanted.contains(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (target, outcome) in outcomes {
            let key = target.key();
            if !wanted.contains(&key) {
                continue;
            }
            let consecutive_failures = if outcome.reachable {
                0
            } else {
                results
                    .get(&key)
                    .map_or(0, |r: &ProbeResult| r.consecutive_failures)
                    .saturating_add(1)
            };
            results.insert(
                key,
                ProbeResult {
                    reachable: outcome.reachable,
                    rtt: outcome.rtt,
                    method: outcome.method,
                    at: outcome.at,
                    error: outcome.error,
                    consecutive_failures,
                },
            );
        }
        ReachState {
            results,
            round: self.round + u64::from(full_round),
        }
    }
}

/// The result of one probe, before bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Outcome {
    pub reachable: bool,
    pub rtt: Option<Duration>,
    pub method: Method,
    pub at: f64,
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(node: &str, addr: &str) -> Target {
        Target {
            node: node.to_string(),
            address: addr.parse().unwrap(),
        }
    }

    fn up(at: f64) -> Outcome {
        Outcome {
            reachable: true,
            rtt: Some(Duration::from_micros(120)),
            method: Method::Icmp,
            at,
            error: None,
        }
    }

    fn lost(at: f64) -> Outcome {
        Outcome {
            reachable: false,
            rtt: None,
            method: Method::Icmp,
            at,
            error: Some("no answer within 1s".into()),
        }
    }

    fn wanted(ts: &[&Target]) -> BTreeSet<(String, IpAddr)> {
        ts.iter().map(|t| t.key()).collect()
    }

    #[test]
    fn failures_count_up_and_reset_on_success() {
        let a = target("node-1", "172.29.51.11");
        let w = wanted(&[&a]);
        let mut s = ReachState::default();
        let expect = [
            (true, 0, false),
            (false, 1, false),
            (false, 2, true),
            (false, 3, true),
            (true, 0, false),
        ];
        for (i, (ok, failures, down)) in expect.into_iter().enumerate() {
            let o = if ok { up(i as f64) } else { lost(i as f64) };
            s = s.updated(&w, vec![(a.clone(), o)], true);
            let r = s.get("node-1", a.address).unwrap();
            assert_eq!(r.consecutive_failures, failures, "step {i}");
            assert_eq!(r.is_down(), down, "step {i}");
            assert_eq!(r.reachable, ok, "step {i}");
            assert_eq!(r.at, i as f64);
            assert_eq!(s.round, i as u64 + 1);
        }
    }

    #[test]
    fn a_new_target_failing_starts_at_one() {
        let a = target("node-1", "fd47:25e1:2f96:51::11");
        let s = ReachState::default().updated(&wanted(&[&a]), vec![(a.clone(), lost(1.0))], true);
        let r = s.get("node-1", a.address).unwrap();
        assert_eq!(r.consecutive_failures, 1);
        assert!(!r.is_down());
        assert_eq!(s.down().count(), 0);
    }

    #[test]
    fn removed_targets_are_dropped_and_unprobed_ones_kept() {
        let a = target("node-1", "172.29.51.11");
        let b = target("node-2", "172.29.51.12");
        let c = target("node-3", "172.29.51.13");
        let s = ReachState::default().updated(
            &wanted(&[&a, &b]),
            vec![(a.clone(), lost(1.0)), (b.clone(), lost(1.0))],
            true,
        );
        let s = s.updated(
            &wanted(&[&a, &b]),
            vec![(a.clone(), lost(2.0)), (b.clone(), lost(2.0))],
            true,
        );
        assert_eq!(s.down().count(), 2);
        // b is removed and c added between rounds: only c is probed.
        let s = s.updated(&wanted(&[&a, &c]), vec![(c.clone(), up(3.0))], false);
        assert_eq!(s.round, 2, "a partial batch is not a round");
        assert!(s.get("node-2", b.address).is_none());
        let kept = s.get("node-1", a.address).unwrap();
        assert_eq!((kept.consecutive_failures, kept.at), (2, 2.0));
        assert!(s.get("node-3", c.address).unwrap().reachable);
        // An outcome for a target removed while it was being probed is
        // discarded.
        let s = s.updated(
            &wanted(&[&c]),
            vec![(a.clone(), up(4.0)), (c.clone(), up(4.0))],
            true,
        );
        assert_eq!(s.results.len(), 1);
        assert_eq!(s.round, 3);
    }

    #[test]
    fn same_address_under_two_nodes_is_two_targets() {
        let a = target("node-1", "172.29.51.11");
        let b = target("node-1b", "172.29.51.11");
        let s = ReachState::default().updated(
            &wanted(&[&a, &b]),
            vec![(a.clone(), up(1.0)), (b.clone(), lost(1.0))],
            true,
        );
        assert!(s.get("node-1", a.address).unwrap().reachable);
        assert!(!s.get("node-1b", b.address).unwrap().reachable);
    }

    #[test]
    fn method_names() {
        assert_eq!(Method::Icmp.to_string(), "icmp");
        assert_eq!(Method::Tcp.to_string(), "tcp");
    }
}
