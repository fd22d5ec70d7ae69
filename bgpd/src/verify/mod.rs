//! The verifier: compares what the cluster intends with what the BGP
//! sessions show, and says what is missing and why.
//!
//! Event-driven, no polling loop: a task waits on three sources (every
//! peer's state and route changes, through [`Daemon::changes`]; the intended
//! state; the node probe results), copies what it needs ([`view`]), computes
//! the [`Report`] ([`compute`]) and publishes it on [`Daemon::report`], where
//! the HTTP API and the Prometheus metrics read it. A change after a quiet
//! spell is computed at once; bursts of changes (a full table arriving)
//! are coalesced: two computations start at least [`MIN_INTERVAL`] apart,
//! or twice the last one's duration when that is longer, so that ingest is
//! never slowed down by the checks.

pub mod compute;
pub mod finding;
pub mod report;
pub mod sources;
pub mod view;

#[cfg(test)]
mod tests;

pub use compute::{Input, NodeReach};
pub use finding::{Finding, Kind, Severity};
pub use report::{InventoryStatus, Report, Verdict};

use crate::config::{PeerMatch, Role};
use crate::daemon::Daemon;
use bgp_intent::Expected;
use ipnet::IpNet;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Shortest time between two recomputations.
pub const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// The intended state as the verifier consumes it.
#[derive(Debug, Clone, Default)]
pub struct Intent {
    pub expected: Expected,
    pub status: InventoryStatus,
}

/// Probe results by (node, address).
pub type ReachMap = BTreeMap<(String, IpAddr), NodeReach>;

/// Starts the verifier task; it stops with the daemon.
pub fn spawn(
    daemon: Arc<Daemon>,
    mut intent: watch::Receiver<Arc<Intent>>,
    mut reach: watch::Receiver<Arc<ReachMap>>,
) -> tokio::task::JoinHandle<()> {
    let mut changes = daemon.changes.subscribe();
    let mut shutdown = daemon.shutdown.subscribe();
    let speaker_ranges: Vec<IpNet> = daemon
        .config
        .peers
        .iter()
        .filter(|p| p.role == Role::Speaker)
        .map(|p| match p.remote {
            PeerMatch::Address(a) => IpNet::from(a),
            PeerMatch::Prefix(n) => n,
        })
        .collect();
    tokio::spawn(async move {
        let mut generation = 0u64;
        let mut cost;
        loop {
            generation += 1;
            let started = Instant::now();
            let report = {
                let intent = intent.borrow_and_update().clone();
                let reach = reach.borrow_and_update().clone();
                changes.borrow_and_update();
                recompute(&daemon, &intent, &reach, &speaker_ranges, generation)
            };
            daemon.report.send_replace(Arc::new(report));
            cost = started.elapsed();
            tokio::select! {
                _ = shutdown.changed() => break,
                _ = next_change(&mut changes) => {}
                _ = next_change(&mut intent) => {}
                _ = next_change(&mut reach) => {}
            }
            // Coalesce a burst: the next computation starts no sooner than
            // the pause after the previous one began, a pause that grows
            // when computing is expensive (a large Adj-RIB-In being
            // filled). After a quiet spell it starts at once.
            let pause = MIN_INTERVAL.max(cost * 2).min(Duration::from_secs(1));
            let wait = pause.saturating_sub(started.elapsed());
            if !wait.is_zero() {
                tokio::select! {
                    _ = shutdown.changed() => break,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
        tracing::debug!(last_cost_us = cost.as_micros() as u64, "verifier stopped");
    })
}

/// Waits for the next value; a source whose sender is gone (probing off,
/// a source that never changes) simply never wakes us.
async fn next_change<T>(rx: &mut watch::Receiver<T>) {
    if rx.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// One computation against the daemon's current state.
pub fn recompute(
    daemon: &Daemon,
    intent: &Intent,
    reach: &ReachMap,
    speaker_ranges: &[IpNet],
    generation: u64,
) -> Report {
    let ex = &intent.expected;
    // A router may send a full table: only prefixes inside the pools or
    // expected ones matter to the checks.
    let relevant = |p: &IpNet| {
        ex.prefixes.contains_key(p)
            || ex.pools.iter().any(|pool| {
                pool.ranges
                    .iter()
                    .any(|(a, b)| *a <= p.addr() && p.addr() <= *b)
            })
    };
    let peers = view::collect(daemon, &relevant);
    let previous = daemon.report.borrow().clone();
    compute::compute(Input {
        expected: ex,
        inventory: &intent.status,
        peers: &peers,
        speaker_ranges,
        reach,
        previous: Some(&previous),
        now: crate::peer::now_secs(),
        generation,
    })
}
