//! The intended state: where the verifier learns which Services, pools,
//! nodes and BGP policies the cluster has, behind one watch channel.
//!
//! Three sources, chosen by `[inventory] source` ([`InventorySource`]):
//!
//! - **embedded**: the home cluster's manifests compiled into the binary;
//!   one snapshot, synced, never stale.
//! - **files**: YAML manifests under a path, read at start (a broken file is
//!   an error of [`start`], naming the file and line) and again on
//!   [`InventoryHandle::reload`] (SIGHUP). A reload that fails keeps the
//!   previous inventory and sets [`Snapshot::error`].
//! - **kubernetes**: list/watch of every relevant kind with kube's
//!   [`watcher`](::kube::runtime::watcher()), see [`kubernetes`].
//!
//! Every source publishes [`Snapshot`]s on a `tokio::sync::watch` channel.
//! [`Snapshot::generation`] is bumped on every change of content (the
//! [`Inventory`]) or status (`synced`, `stale`, `error`); `last_sync` and
//! [`Stats`] are refreshed in place without waking receivers.

mod files;
pub mod kubernetes;
mod state;
#[cfg(test)]
mod tests;

use crate::config::{InventoryConfig, InventorySource};
use bgp_intent::{Inventory, Kind};
use serde::Serialize;
use std::collections::BTreeMap;
use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{watch, Notify};

/// The intended state at one moment, as the verifier consumes it.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The objects. Empty until `synced`: a partial initial list is never
    /// published.
    pub inventory: Arc<Inventory>,
    /// `embedded`, `files:<path>` or `kubernetes:<cluster url>`.
    pub source: String,
    /// Every kind has been read completely at least once.
    pub synced: bool,
    /// The source has not been reached for `stale_after` (or a relist has
    /// been failing that long): `inventory` may be out of date.
    pub stale: bool,
    /// Unix seconds of the last successful read (a list, a watch event, a
    /// file load).
    pub last_sync: Option<f64>,
    /// What is wrong right now, if anything (kept while the state it left
    /// behind is kept).
    pub error: Option<String>,
    /// Bumped on every change of `inventory`, `synced`, `stale` or `error`.
    pub generation: u64,
    /// Counters for metrics and the API.
    pub stats: Stats,
}

/// Counters of a source, refreshed with every snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Objects in the published inventory, by kind (`Kind::name`).
    pub objects: BTreeMap<&'static str, usize>,
    /// Objects that could not be read, as `Kind name: error`; they are left
    /// out of the inventory until they can be.
    pub unparsed: Vec<String>,
    /// Failed reads of an object, counted once per distinct failure (each is
    /// logged once).
    pub parse_errors: u64,
    /// Relists after the first list of a resource (410 Gone, a restart
    /// after an outage), each counted once however many attempts it takes;
    /// Kubernetes only.
    pub relists: u64,
    /// Resources the API server does not serve (404), e.g.
    /// `cilium.io/v2/ciliumbgpclusterconfigs`: read as empty.
    pub absent: Vec<String>,
    /// Reloads of the files source that completed, good or bad.
    pub reloads: u64,
}

/// The running source: the snapshot channel and the reload trigger.
#[derive(Debug, Clone)]
pub struct InventoryHandle {
    /// Always holds the newest snapshot.
    pub snapshot: watch::Receiver<Arc<Snapshot>>,
    reload: Option<Arc<Notify>>,
}

impl InventoryHandle {
    /// Asks the files source to read its path again (the daemon calls this
    /// on SIGHUP). Requests made while a reload runs are folded into one
    /// more reload. The embedded source has nothing to re-read and the
    /// Kubernetes source is always current, so for them this only logs.
    pub fn reload(&self) {
        match &self.reload {
            Some(n) => n.notify_one(),
            None => tracing::info!("inventory: reload requested, but this source does not reload"),
        }
    }

    /// The newest snapshot.
    pub fn current(&self) -> Arc<Snapshot> {
        self.snapshot.borrow().clone()
    }
}

/// Why the source could not start.
#[derive(Debug)]
pub enum InventoryError {
    /// The files source's first load failed (the error names file and line).
    Files(bgp_intent::files::FilesError),
    /// No Kubernetes client could be configured: `what` says from where.
    Kubernetes {
        what: String,
        source: Box<dyn Error + Send + Sync>,
    },
}

impl fmt::Display for InventoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InventoryError::Files(e) => write!(f, "inventory: {e}"),
            InventoryError::Kubernetes { what, source } => {
                write!(f, "inventory: {what}: {}", error_chain(source.as_ref()))
            }
        }
    }
}

impl Error for InventoryError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            InventoryError::Files(e) => Some(e),
            InventoryError::Kubernetes { source, .. } => Some(source.as_ref()),
        }
    }
}

/// Knobs of the Kubernetes source that the configuration does not expose;
/// [`start`] uses the defaults, tests shorten them.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// Least time between two snapshots: a burst of events within it is
    /// published once, and no change waits longer than this. 20 ms.
    pub coalesce: Duration,
    /// How long a resource the API server does not serve (a CRD version not
    /// installed) is left alone before it is listed again. 5 minutes.
    pub absent_retry: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            coalesce: Duration::from_millis(20),
            absent_retry: Duration::from_secs(300),
        }
    }
}

/// Starts the source `config` names. Files are read before this returns
/// (a broken file is an error); the Kubernetes client is configured before
/// this returns (a missing kubeconfig or context is an error) but its first
/// list completes later: watch for [`Snapshot::synced`]. The source's tasks
/// end when `shutdown` turns true (or its sender is dropped), or when no
/// receiver of the snapshots is left.
pub async fn start(
    config: &InventoryConfig,
    shutdown: watch::Receiver<bool>,
) -> Result<InventoryHandle, InventoryError> {
    start_with(config, shutdown, Tuning::default()).await
}

/// [`start`] with non-default [`Tuning`].
pub async fn start_with(
    config: &InventoryConfig,
    shutdown: watch::Receiver<bool>,
    tuning: Tuning,
) -> Result<InventoryHandle, InventoryError> {
    match &config.source {
        InventorySource::Embedded => Ok(embedded()),
        InventorySource::Files { path } => files::start(path.clone(), shutdown).await,
        InventorySource::Kubernetes {
            kubeconfig,
            context,
        } => {
            kubernetes::start(
                kubeconfig.as_deref(),
                context.as_deref(),
                config.stale_after,
                tuning,
                shutdown,
            )
            .await
        }
    }
}

/// The embedded source: one snapshot that never changes.
fn embedded() -> InventoryHandle {
    let inventory = bgp_intent::files::embedded_default();
    let snapshot = Snapshot {
        stats: Stats {
            objects: count(&inventory),
            ..Stats::default()
        },
        inventory: Arc::new(inventory),
        source: "embedded".to_owned(),
        synced: true,
        stale: false,
        last_sync: Some(unix_now()),
        error: None,
        generation: 1,
    };
    let (tx, rx) = watch::channel(Arc::new(snapshot));
    // Keep the sender alive for as long as any receiver is, so that
    // `changed()` waits instead of failing: the embedded state never changes.
    tokio::spawn(async move { tx.closed().await });
    InventoryHandle {
        snapshot: rx,
        reload: None,
    }
}

/// Publishes snapshots: bumps the generation when content or status
/// changed, and otherwise refreshes the value without waking receivers.
#[derive(Debug)]
struct Publisher {
    tx: watch::Sender<Arc<Snapshot>>,
}

/// What a source knows at one moment; [`Publisher::publish`] makes a
/// [`Snapshot`] of it.
#[derive(Debug, Clone)]
struct Update {
    inventory: Arc<Inventory>,
    synced: bool,
    stale: bool,
    last_sync: Option<f64>,
    error: Option<String>,
    stats: Stats,
}

impl Publisher {
    /// A publisher whose first snapshot is empty and not synced.
    fn new(source: String) -> (Self, watch::Receiver<Arc<Snapshot>>) {
        let first = Snapshot {
            inventory: Arc::new(Inventory::default()),
            source,
            synced: false,
            stale: false,
            last_sync: None,
            error: None,
            generation: 0,
            stats: Stats::default(),
        };
        let (tx, rx) = watch::channel(Arc::new(first));
        (Self { tx }, rx)
    }

    /// Publishes `update`; true when receivers were woken (a new
    /// generation).
    fn publish(&self, update: Update) -> bool {
        self.tx.send_if_modified(|current| {
            let content = !Arc::ptr_eq(&current.inventory, &update.inventory)
                && *current.inventory != *update.inventory;
            let status = current.synced != update.synced
                || current.stale != update.stale
                || current.error != update.error;
            let changed = content || status;
            let inventory = if content {
                update.inventory
            } else {
                current.inventory.clone()
            };
            let mut stats = update.stats;
            stats.objects = count(&inventory);
            *current = Arc::new(Snapshot {
                inventory,
                source: current.source.clone(),
                synced: update.synced,
                stale: update.stale,
                last_sync: update.last_sync,
                error: update.error,
                generation: current.generation + u64::from(changed),
                stats,
            });
            changed
        })
    }

    /// Resolves once every receiver is gone.
    async fn closed(&self) {
        self.tx.closed().await
    }
}

/// Objects per kind.
fn count(inventory: &Inventory) -> BTreeMap<&'static str, usize> {
    Kind::ALL
        .into_iter()
        .map(|kind| (kind.name(), inventory.count(kind)))
        .collect()
}

/// Seconds since the Unix epoch, now.
fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// An error and its sources, `outer: inner: innermost`, without repeating
/// a message that already ends the text.
fn error_chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(e) = next {
        let part = e.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        next = e.source();
    }
    text
}
