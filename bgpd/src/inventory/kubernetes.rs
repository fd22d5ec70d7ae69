//! The Kubernetes source: list/watch every kind the verifier reads.
//!
//! One task per [`WATCHED`] resource runs kube's
//! [`watcher`](kube::runtime::watcher()) with its default backoff over
//! `Api<DynamicObject>` (every kind, core ones included, is read as
//! untyped JSON and converted by `bgp_intent::parse::object_from_json`, so
//! one object that does not read costs only itself, never its whole list).
//! The watcher lists, then watches from the list's resourceVersion,
//! resumes a broken watch from the last version it saw, and relists from
//! scratch on `410 Gone`. A relist is buffered and sent whole on
//! `InitDone`, so a kind's set is replaced atomically.
//!
//! A resource the server does not serve (a Cilium CRD version that is not
//! installed: 404 on list) is read as present and empty and listed again
//! after [`Tuning::absent_retry`](super::Tuning). When both `cilium.io/v2`
//! and `v2alpha1` of a kind are served the API server shows every object at
//! both; the two are merged by name, v2 first.
//!
//! A probe lists one Node every `stale_after / 4` (100 ms to 10 s): the
//! watches are silent in a quiet cluster, so the probe is what tells that
//! the API server is still there. No answer for `stale_after` marks the
//! snapshot stale. When the probe answers again after failing, every
//! watcher starts over at once with a fresh list: one whose requests failed
//! would otherwise wait out its backoff (up to 30 s), and one whose watch
//! connection died without a word would hang until kube's idle timeout
//! (295 s), both while the snapshot already says "not stale".
//!
//! Snapshots are coalesced: at most one per [`Tuning::coalesce`], and none
//! waits longer than that.

use super::state::{Key, Msg, Read, State};
use super::{error_chain, unix_now, InventoryError, InventoryHandle, Publisher, Tuning, Update};
use bgp_intent::{object_from_json, Kind, Object};
use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, TypeMeta};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher::Event;
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Client, Config};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// A resource the source watches: a kind at one API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watched {
    pub kind: Kind,
    /// API group, empty for the core group.
    pub group: &'static str,
    pub version: &'static str,
    /// The resource name in URLs, e.g. `ciliumloadbalancerippools`.
    pub plural: &'static str,
}

impl Watched {
    const fn new(
        kind: Kind,
        group: &'static str,
        version: &'static str,
        plural: &'static str,
    ) -> Self {
        Self {
            kind,
            group,
            version,
            plural,
        }
    }

    /// `group/version/plural` (`version/plural` for the core group).
    pub fn label(&self) -> String {
        if self.group.is_empty() {
            format!("{}/{}", self.version, self.plural)
        } else {
            format!("{}/{}/{}", self.group, self.version, self.plural)
        }
    }

    /// The URL path of the cluster-wide list, e.g. `/api/v1/services`.
    pub fn path(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}/{}", self.version, self.plural)
        } else {
            format!("/apis/{}/{}/{}", self.group, self.version, self.plural)
        }
    }

    fn api_resource(&self) -> ApiResource {
        ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(self.group, self.version, self.kind.name()),
            self.plural,
        )
    }
}

/// Nodes, which the probe lists too.
const NODES: Watched = Watched::new(Kind::Node, "", "v1", "nodes");

/// Every resource watched, all namespaces. Within a kind, in order of
/// preference: an object found at both Cilium versions is taken from v2.
pub const WATCHED: [Watched; 12] = [
    Watched::new(Kind::Service, "", "v1", "services"),
    Watched::new(
        Kind::EndpointSlice,
        "discovery.k8s.io",
        "v1",
        "endpointslices",
    ),
    NODES,
    Watched::new(Kind::IpPool, "cilium.io", "v2", "ciliumloadbalancerippools"),
    Watched::new(
        Kind::IpPool,
        "cilium.io",
        "v2alpha1",
        "ciliumloadbalancerippools",
    ),
    Watched::new(
        Kind::PeeringPolicy,
        "cilium.io",
        "v2alpha1",
        "ciliumbgppeeringpolicies",
    ),
    Watched::new(
        Kind::ClusterConfig,
        "cilium.io",
        "v2",
        "ciliumbgpclusterconfigs",
    ),
    Watched::new(
        Kind::ClusterConfig,
        "cilium.io",
        "v2alpha1",
        "ciliumbgpclusterconfigs",
    ),
    Watched::new(Kind::PeerConfig, "cilium.io", "v2", "ciliumbgppeerconfigs"),
    Watched::new(
        Kind::PeerConfig,
        "cilium.io",
        "v2alpha1",
        "ciliumbgppeerconfigs",
    ),
    Watched::new(
        Kind::Advertisement,
        "cilium.io",
        "v2",
        "ciliumbgpadvertisements",
    ),
    Watched::new(
        Kind::Advertisement,
        "cilium.io",
        "v2alpha1",
        "ciliumbgpadvertisements",
    ),
];

/// Configures the client, then runs the source in the background.
pub(super) async fn start(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
    stale_after: Duration,
    tuning: Tuning,
    shutdown: watch::Receiver<bool>,
) -> Result<InventoryHandle, InventoryError> {
    let config = client_config(kubeconfig, context).await?;
    let url = config.cluster_url.to_string();
    let client = Client::try_from(config).map_err(|e| InventoryError::Kubernetes {
        what: format!("client for {url}"),
        source: Box::new(e),
    })?;
    let (publisher, snapshot) = Publisher::new(format!("kubernetes:{url}"));
    tracing::info!(%url, "inventory: watching the Kubernetes API server");
    tokio::spawn(run(client, stale_after, tuning, publisher, shutdown));
    Ok(InventoryHandle {
        snapshot,
        reload: None,
    })
}

/// The client configuration: the kubeconfig file and context given, or
/// the in-cluster service account, or else kube's inference (`KUBECONFIG`,
/// `~/.kube/config`).
async fn client_config(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<Config, InventoryError> {
    let options = KubeConfigOptions {
        context: context.map(str::to_owned),
        ..KubeConfigOptions::default()
    };
    let in_context = match context {
        Some(c) => format!(", context {c:?}"),
        None => String::new(),
    };
    let fail = |what: String| {
        move |e: kube::config::KubeconfigError| InventoryError::Kubernetes {
            what,
            source: Box::new(e),
        }
    };
    if let Some(path) = kubeconfig {
        let what = format!("kubeconfig {}{in_context}", path.display());
        let file = Kubeconfig::read_from(path).map_err(fail(what.clone()))?;
        return Config::from_custom_kubeconfig(file, &options)
            .await
            .map_err(fail(what));
    }
    if context.is_some() {
        return Config::from_kubeconfig(&options)
            .await
            .map_err(fail(format!(
                "kubeconfig (KUBECONFIG or ~/.kube/config){in_context}"
            )));
    }
    match Config::incluster() {
        Ok(config) => Ok(config),
        Err(in_cluster) => {
            tracing::debug!(
                "inventory: not in a cluster ({}), trying the local kubeconfig",
                error_chain(&in_cluster)
            );
            Config::infer()
                .await
                .map_err(|e| InventoryError::Kubernetes {
                    what: "no in-cluster service account and no usable kubeconfig".to_owned(),
                    source: Box::new(e),
                })
        }
    }
}

/// The source: starts a watcher task per resource and the probe, applies
/// their reports and publishes snapshots, until `shutdown` (or until
/// nobody holds a receiver any more).
async fn run(
    client: Client,
    stale_after: Duration,
    tuning: Tuning,
    publisher: Publisher,
    mut shutdown: watch::Receiver<bool>,
) {
    let (tx, mut rx) = mpsc::channel(512);
    let (restart, _) = watch::channel(0u64);
    // Dropped (and so aborted) when this function returns.
    let mut tasks = JoinSet::new();
    for (index, watched) in WATCHED.iter().enumerate() {
        tasks.spawn(watch_resource(
            index,
            *watched,
            client.clone(),
            tx.clone(),
            restart.subscribe(),
            tuning.absent_retry,
        ));
    }
    tasks.spawn(probe(client, stale_after, tx));
    let mut state = State::new(
        WATCHED.iter().map(|w| (w.kind, w.label())),
        stale_after,
        Instant::now().into_std(),
    );
    let mut last_publish: Option<Instant> = None;
    let mut pending = true;
    loop {
        if *shutdown.borrow() {
            break;
        }
        let now = Instant::now();
        let due = last_publish.map(|t| t + tuning.coalesce);
        if pending && due.is_none_or(|due| now >= due) {
            let std_now = now.into_std();
            publisher.publish(Update {
                synced: state.synced(),
                stale: state.stale(std_now),
                error: state.error(),
                last_sync: state.last_sync(),
                inventory: state.inventory(),
                stats: state.stats(),
            });
            last_publish = Some(now);
            pending = false;
        }
        let publish_at = if pending { due } else { None };
        let stale_at = state.stale_deadline(now.into_std()).map(Instant::from_std);
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            _ = publisher.closed() => break,
            msg = rx.recv() => {
                let Some(msg) = msg else { break };
                let mut recovered = apply(&mut state, msg);
                while let Ok(msg) = rx.try_recv() {
                    recovered |= apply(&mut state, msg);
                }
                if recovered {
                    restart.send_modify(|n| *n += 1);
                }
                pending = true;
            }
            _ = sleep_until(publish_at), if publish_at.is_some() => {}
            _ = sleep_until(stale_at), if stale_at.is_some() => pending = true,
        }
    }
    tracing::debug!("inventory: Kubernetes source stopped");
}

/// Applies `msg` now; true when the watchers should restart.
fn apply(state: &mut State, msg: Msg) -> bool {
    state
        .apply(msg, std::time::Instant::now(), unix_now())
        .recovered
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

/// How one watcher ended.
enum Ended {
    /// The resource is not served: report it, wait, list again.
    Absent(String),
    /// Asked to start over (the API server is back).
    Restart,
    /// The stream ended (kube's watcher does not; guard against a spin).
    Closed,
}

/// Watches one resource and reports to the state, for ever.
async fn watch_resource(
    index: usize,
    watched: Watched,
    client: Client,
    tx: mpsc::Sender<Msg>,
    mut restart: watch::Receiver<u64>,
    absent_retry: Duration,
) {
    let resource = watched.api_resource();
    loop {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        let mut events = watcher(api, watcher::Config::default())
            .default_backoff()
            .boxed();
        let mut listing: Option<(BTreeMap<Key, Object>, BTreeMap<Key, String>)> = None;
        restart.mark_unchanged();
        let ended = loop {
            let item = tokio::select! {
                item = events.next() => item,
                changed = restart.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    break Ended::Restart;
                }
            };
            let msg = match item {
                None => break Ended::Closed,
                Some(Ok(Event::Init)) => {
                    listing = Some(Default::default());
                    Msg::Listing(index)
                }
                Some(Ok(Event::InitApply(object))) => {
                    let (key, read) = read(&resource, object);
                    if let Some((objects, unparsed)) = &mut listing {
                        match read {
                            Ok(Some(object)) => {
                                objects.insert(key, object);
                            }
                            Ok(None) => {}
                            Err(error) => {
                                unparsed.insert(key, error);
                            }
                        }
                    }
                    continue;
                }
                Some(Ok(Event::InitDone)) => {
                    let (objects, unparsed) = listing.take().unwrap_or_default();
                    Msg::Listed {
                        resource: index,
                        objects,
                        unparsed,
                    }
                }
                Some(Ok(Event::Apply(object))) => {
                    let (key, read) = read(&resource, object);
                    Msg::Applied {
                        resource: index,
                        key,
                        read: Box::new(read),
                    }
                }
                Some(Ok(Event::Delete(object))) => Msg::Deleted {
                    resource: index,
                    key: key(&object),
                },
                Some(Err(e)) => match status_code(&e) {
                    Some(404) => break Ended::Absent(describe(&e)),
                    Some(410) => {
                        // The watcher relists by itself (Init follows).
                        tracing::debug!(resource = %watched.label(), "inventory: 410 Gone, relisting");
                        continue;
                    }
                    _ => Msg::Failed {
                        resource: index,
                        error: describe(&e),
                    },
                },
            };
            if tx.send(msg).await.is_err() {
                return;
            }
        };
        drop(events);
        match ended {
            Ended::Absent(error) => {
                if tx
                    .send(Msg::Absent {
                        resource: index,
                        error,
                    })
                    .await
                    .is_err()
                {
                    return;
                }
                tokio::time::sleep(absent_retry).await;
            }
            Ended::Restart => {
                tracing::debug!(resource = %watched.label(), "inventory: restarting the watch");
            }
            Ended::Closed => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}

/// The HTTP status of an error the API server answered with.
fn status_code(error: &watcher::Error) -> Option<u16> {
    match error {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => Some(s.code),
        watcher::Error::WatchError(s) => Some(s.code),
        _ => None,
    }
}

/// A watcher error in one line: what failed, then the API server's
/// status (`404 NotFound: ...`) or the transport error and its causes.
fn describe(error: &watcher::Error) -> String {
    let client = |e: &kube::Error| match e {
        kube::Error::Api(s) => status(s),
        other => error_chain(other),
    };
    match error {
        watcher::Error::InitialListFailed(e) => format!("list failed: {}", client(e)),
        watcher::Error::WatchStartFailed(e) => format!("watch failed to start: {}", client(e)),
        watcher::Error::WatchFailed(e) => format!("watch broke: {}", client(e)),
        watcher::Error::WatchError(s) => format!("watch error event: {}", status(s)),
        other => error_chain(other),
    }
}

fn status(s: &kube::core::Status) -> String {
    format!("{} {}: {}", s.code, s.reason, s.message)
}

fn key(object: &DynamicObject) -> Key {
    (
        object.metadata.namespace.clone().unwrap_or_default(),
        object.metadata.name.clone().unwrap_or_default(),
    )
}

/// Converts one object. List items of built-in kinds come without
/// `apiVersion` and `kind`; they are those of the resource listed.
fn read(resource: &ApiResource, mut object: DynamicObject) -> (Key, Read) {
    let key = key(&object);
    if object.types.is_none() {
        object.types = Some(TypeMeta {
            api_version: resource.api_version.clone(),
            kind: resource.kind.clone(),
        });
    }
    let read = match serde_json::to_value(&object) {
        Ok(value) => object_from_json(value).map_err(|e| e.to_string()),
        Err(e) => Err(format!("{} {}: {e}", resource.kind, key.1)),
    };
    (key, read)
}

/// Lists one Node every `stale_after / 4` to tell whether the API server
/// answers. Any answer counts, an error status included: the watchers
/// report their own errors.
async fn probe(client: Client, stale_after: Duration, tx: mpsc::Sender<Msg>) {
    let interval = (stale_after / 4).clamp(Duration::from_millis(100), Duration::from_secs(10));
    let timeout = (stale_after / 2).clamp(Duration::from_millis(500), Duration::from_secs(10));
    let api: Api<DynamicObject> = Api::all_with(client, &NODES.api_resource());
    let params = ListParams::default().limit(1);
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let result = match tokio::time::timeout(timeout, api.list(&params)).await {
            Ok(Ok(_)) | Ok(Err(kube::Error::Api(_))) => Ok(()),
            Ok(Err(e)) => Err(error_chain(&e)),
            Err(_) => Err(format!("no answer within {timeout:?}")),
        };
        if tx.send(Msg::Probe(result)).await.is_err() {
            return;
        }
    }
}
