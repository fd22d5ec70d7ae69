//! Wiring of the verifier's inputs: the inventory source feeds the expected
//! state (Cilium's semantics, `bgp_intent::model`) and the node targets of
//! the reachability prober; both results feed the verifier task.
//!
//! ```text
//! inventory::start ──Snapshot──▶ model::expect ──Intent──▶ verify::spawn ──Report──▶ Daemon::report
//!                                     │                        ▲      ▲
//!                                     └──Targets──▶ reach::spawn ─ReachMap┘      │
//!                                                            peers' changes ─────┘
//! ```

use super::{Intent, InventoryStatus, NodeReach, ReachMap};
use crate::daemon::Daemon;
use crate::inventory::{self, InventoryError, InventoryHandle, Snapshot};
use crate::reach::{self, ReachState, Target};
use std::sync::Arc;
use tokio::sync::watch;

/// The running verifier and its sources.
pub struct Running {
    /// The inventory source (SIGHUP → [`InventoryHandle::reload`]).
    pub inventory: InventoryHandle,
    /// The newest expected state.
    pub intent: watch::Receiver<Arc<Intent>>,
}

/// The intent of one inventory snapshot.
pub fn intent_of(snap: &Snapshot) -> Intent {
    let inv = &snap.inventory;
    Intent {
        expected: bgp_intent::model::expect(inv),
        status: InventoryStatus {
            source: snap.source.clone(),
            synced: snap.synced,
            stale: snap.stale,
            last_sync: snap.last_sync,
            error: snap.error.clone(),
            services: inv.services.len(),
            nodes: inv.nodes.len(),
            pools: inv.pools.len(),
            policies: inv.peering_policies.len() + inv.cluster_configs.len(),
        },
    }
}

fn targets_of(intent: &Intent) -> Vec<Target> {
    intent
        .expected
        .nodes
        .iter()
        .flat_map(|n| {
            n.addresses.iter().map(|a| Target {
                node: n.name.clone(),
                address: *a,
            })
        })
        .collect()
}

fn reach_map(state: &ReachState) -> ReachMap {
    state
        .results
        .iter()
        .map(|(k, r)| {
            (
                k.clone(),
                NodeReach {
                    reachable: r.reachable,
                    down: r.is_down(),
                    rtt_seconds: r.rtt.map(|d| d.as_secs_f64()),
                },
            )
        })
        .collect()
}

/// Starts the inventory source, the expected-state task, the prober and the
/// verifier. Fails when the inventory source cannot start (a broken
/// manifest file, no Kubernetes client), with an error naming the cause.
pub async fn start(daemon: Arc<Daemon>) -> Result<Running, InventoryError> {
    let shutdown = daemon.shutdown.subscribe();
    let handle = inventory::start(&daemon.config.inventory, shutdown.clone()).await?;

    let mut snapshots = handle.snapshot.clone();
    let first = intent_of(&snapshots.borrow_and_update());
    let (targets_tx, targets_rx) = watch::channel(targets_of(&first));
    let (intent_tx, intent_rx) = watch::channel(Arc::new(first));
    let mut stop = shutdown.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                r = snapshots.changed() => if r.is_err() {
                    // A source that never changes (embedded).
                    let _ = stop.changed().await;
                    break;
                },
            }
            let snap = snapshots.borrow_and_update().clone();
            let intent = intent_of(&snap);
            let targets = targets_of(&intent);
            targets_tx.send_if_modified(|t| {
                let changed = *t != targets;
                if changed {
                    *t = targets;
                }
                changed
            });
            intent_tx.send_replace(Arc::new(intent));
        }
    });

    let mut probes = reach::spawn(
        daemon.config.reachability.clone(),
        targets_rx,
        shutdown.clone(),
    );
    let (reach_tx, reach_rx) = watch::channel(Arc::new(reach_map(&probes.borrow_and_update())));
    let mut stop = shutdown;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                r = probes.changed() => if r.is_err() {
                    // Probing is off: the map stays empty.
                    let _ = stop.changed().await;
                    break;
                },
            }
            let map = reach_map(&probes.borrow_and_update());
            // Every probe round publishes; the verifier only needs changes.
            reach_tx.send_if_modified(|current| {
                let changed = **current != map;
                if changed {
                    *current = Arc::new(map);
                }
                changed
            });
        }
    });

    super::spawn(daemon, intent_rx.clone(), reach_rx);
    Ok(Running {
        inventory: handle,
        intent: intent_rx,
    })
}
