//! The files source: YAML manifests under a path (a file or a directory),
//! read with `bgp_intent::files::load_path`.
//!
//! The first load happens in [`start`]; its failure is the caller's error
//! (it names the file and line). Every [`reload`](super::InventoryHandle::reload)
//! reads the path again off the async threads: a good read replaces the
//! inventory and clears [`error`](super::Snapshot::error); a bad one is
//! logged, sets `error` and keeps the inventory read before, so nothing
//! learned is lost to a half-edited file. The source is always synced and
//! never stale: it is as current as its last reload.

use super::{unix_now, InventoryError, InventoryHandle, Publisher, Stats, Update};
use bgp_intent::files::{load_path, FilesError, Loaded};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::{watch, Notify};

/// Reads `path` and starts the reload task.
pub(super) async fn start(
    path: PathBuf,
    shutdown: watch::Receiver<bool>,
) -> Result<InventoryHandle, InventoryError> {
    let loaded = read(&path).await.map_err(InventoryError::Files)?;
    log_loaded(&path, &loaded);
    let (publisher, snapshot) = Publisher::new(format!("files:{}", path.display()));
    let update = Update {
        inventory: Arc::new(loaded.inventory),
        synced: true,
        stale: false,
        last_sync: Some(unix_now()),
        error: None,
        stats: Stats::default(),
    };
    publisher.publish(update.clone());
    let reload = Arc::new(Notify::new());
    tokio::spawn(reloads(path, publisher, update, reload.clone(), shutdown));
    Ok(InventoryHandle {
        snapshot,
        reload: Some(reload),
    })
}

/// Loads `path` on the blocking pool.
async fn read(path: &Path) -> Result<Loaded, FilesError> {
    let path = path.to_owned();
    // Boxed across the thread: the error is large.
    match tokio::task::spawn_blocking(move || load_path(&path).map_err(Box::new)).await {
        Ok(result) => result.map_err(|e| *e),
        // A panic in the reader is a bug: let it surface as one.
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

fn log_loaded(path: &Path, loaded: &Loaded) {
    tracing::info!(
        path = %path.display(),
        objects = loaded.inventory.len(),
        files = loaded.files,
        documents = loaded.documents,
        skipped = loaded.skipped.len(),
        "inventory: read the manifests"
    );
    for skipped in &loaded.skipped {
        tracing::debug!("inventory: skipped {skipped}");
    }
}

/// Waits for reload requests and serves them, until shutdown.
async fn reloads(
    path: PathBuf,
    publisher: Publisher,
    mut current: Update,
    reload: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        tokio::select! {
            _ = reload.notified() => {}
            changed = shutdown.changed() => {
                if changed.is_err() {
                    return;
                }
                continue;
            }
            _ = publisher.closed() => return,
        }
        let result = read(&path).await;
        current.stats.reloads += 1;
        match result {
            Ok(loaded) => {
                log_loaded(&path, &loaded);
                current.inventory = Arc::new(loaded.inventory);
                current.error = None;
                current.last_sync = Some(unix_now());
            }
            Err(e) => {
                tracing::warn!(
                    path = %path.display(),
                    "inventory: reload failed, keeping the objects read before: {e}"
                );
                current.error = Some(format!(
                    "reload failed, keeping the objects read before: {e}"
                ));
            }
        }
        publisher.publish(current.clone());
    }
}
