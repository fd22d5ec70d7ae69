//! An in-process fake Kubernetes API server that speaks the real list/watch
//! protocol over plain HTTP/1.1 on 127.0.0.1, for the inventory tests.
//!
//! - `GET /api/v1/services` (and every other registered resource) answers a
//!   real `ServiceList`: `kind`, `apiVersion`, `metadata.resourceVersion`,
//!   paging with `limit`/`continue`, items as the API server sends them
//!   (built-in kinds without `apiVersion`/`kind` in list items).
//! - `?watch=true&resourceVersion=N` answers a chunked stream of
//!   newline-delimited watch events (`ADDED`, `MODIFIED`, `DELETED`,
//!   `BOOKMARK`, `ERROR`) from version N on, held open until
//!   `timeoutSeconds`. A version older than the last compaction gets the
//!   real answer: status 200 and one `ERROR` event with a `Status` of code
//!   410, reason `Expired`.
//! - A resource that is not served answers 404 with a `Status`.
//!
//! Resource versions are one counter across all resources, like etcd's.
//! The test mutates the store ([`FakeApi::put`], [`FakeApi::delete`]),
//! loses events on purpose ([`FakeApi::delete_unseen`]), expires every
//! watch ([`FakeApi::expire_watches`]), and takes the server down and up on
//! the same port ([`FakeApi::stop`], [`FakeApi::restart`]): every
//! connection is a task of its own, so stopping aborts them all at once,
//! as a crashed API server would. [`FakeApi::freeze`] hangs it instead,
//! as a network partition would.

// Shared by several test binaries (`mod kubeapi;`), each using a subset.
#![allow(dead_code)]

use axum::body::Body;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

/// A resource the fake server knows: (group, version, plural, kind,
/// namespaced).
const RESOURCES: &[(&str, &str, &str, &str, bool)] = &[
    ("", "v1", "services", "Service", true),
    ("", "v1", "nodes", "Node", false),
    (
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "EndpointSlice",
        true,
    ),
    (
        "cilium.io",
        "v2alpha1",
        "ciliumloadbalancerippools",
        "CiliumLoadBalancerIPPool",
        false,
    ),
    (
        "cilium.io",
        "v2",
        "ciliumloadbalancerippools",
        "CiliumLoadBalancerIPPool",
        false,
    ),
    (
        "cilium.io",
        "v2alpha1",
        "ciliumbgppeeringpolicies",
        "CiliumBGPPeeringPolicy",
        false,
    ),
    (
        "cilium.io",
        "v2alpha1",
        "ciliumbgpclusterconfigs",
        "CiliumBGPClusterConfig",
        false,
    ),
    (
        "cilium.io",
        "v2",
        "ciliumbgpclusterconfigs",
        "CiliumBGPClusterConfig",
        false,
    ),
    (
        "cilium.io",
        "v2alpha1",
        "ciliumbgppeerconfigs",
        "CiliumBGPPeerConfig",
        false,
    ),
    (
        "cilium.io",
        "v2",
        "ciliumbgppeerconfigs",
        "CiliumBGPPeerConfig",
        false,
    ),
    (
        "cilium.io",
        "v2alpha1",
        "ciliumbgpadvertisements",
        "CiliumBGPAdvertisement",
        false,
    ),
    (
        "cilium.io",
        "v2",
        "ciliumbgpadvertisements",
        "CiliumBGPAdvertisement",
        false,
    ),
];

/// The URL path of a resource's cluster-wide list.
pub fn path(group: &str, version: &str, plural: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}/{plural}")
    } else {
        format!("/apis/{group}/{version}/{plural}")
    }
}

/// What one open watch receives.
enum WatchMsg {
    Line(String),
    Close,
}

struct Resource {
    group: String,
    version: String,
    kind: String,
    namespaced: bool,
    served: bool,
    objects: BTreeMap<(String, String), Value>,
    /// (resourceVersion, event type, object) since the last compaction.
    history: Vec<(u64, &'static str, Value)>,
    /// Watches from a version before this one get 410.
    oldest: u64,
    watchers: Vec<mpsc::UnboundedSender<WatchMsg>>,
    fail_lists: Option<u16>,
    delay_lists: Option<Duration>,
    lists: usize,
    watches: usize,
}

impl Resource {
    fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Built-in kinds lose `apiVersion` and `kind` in list items.
    fn builtin(&self) -> bool {
        self.group != "cilium.io"
    }

    fn broadcast(&mut self, line: &str) {
        self.watchers
            .retain(|w| w.send(WatchMsg::Line(line.to_owned())).is_ok());
    }
}

struct Store {
    rv: u64,
    uids: u64,
    resources: BTreeMap<String, Resource>,
    /// While true, requests get no answer (a hung API server).
    frozen: watch::Sender<bool>,
    /// Watches cut off without a word: never written to, never closed.
    silenced: Vec<mpsc::UnboundedSender<WatchMsg>>,
}

struct Running {
    accept: tokio::task::JoinHandle<()>,
    connections: Arc<Mutex<JoinSet<()>>>,
}

/// The fake API server and the handle to change what it serves.
pub struct FakeApi {
    store: Arc<Mutex<Store>>,
    addr: SocketAddr,
    running: Mutex<Option<Running>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn event_line(type_: &str, object: &Value) -> String {
    let mut line = json!({ "type": type_, "object": object }).to_string();
    line.push('\n');
    line
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": {},
        "code": code,
    })
}

fn json_response(code: u16, value: &Value) -> Response<Body> {
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

impl FakeApi {
    /// A server on a free loopback port, every resource served and empty.
    pub async fn start() -> FakeApi {
        let mut resources = BTreeMap::new();
        for (group, version, plural, kind, namespaced) in RESOURCES {
            resources.insert(
                path(group, version, plural),
                Resource {
                    group: group.to_string(),
                    version: version.to_string(),
                    kind: kind.to_string(),
                    namespaced: *namespaced,
                    served: true,
                    objects: BTreeMap::new(),
                    history: Vec::new(),
                    oldest: 0,
                    watchers: Vec::new(),
                    fail_lists: None,
                    delay_lists: None,
                    lists: 0,
                    watches: 0,
                },
            );
        }
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake API server");
        let addr = listener.local_addr().expect("local address");
        let api = FakeApi {
            store: Arc::new(Mutex::new(Store {
                rv: 100,
                uids: 0,
                resources,
                frozen: watch::channel(false).0,
                silenced: Vec::new(),
            })),
            addr,
            running: Mutex::new(None),
        };
        api.serve(listener);
        api
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn serve(&self, listener: TcpListener) {
        let connections = Arc::new(Mutex::new(JoinSet::new()));
        let store = self.store.clone();
        let conns = connections.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    continue;
                };
                let store = store.clone();
                let service = hyper::service::service_fn(move |req| {
                    let store = store.clone();
                    async move { Ok::<_, Infallible>(handle(store, req).await) }
                });
                let mut set = lock(&conns);
                while set.try_join_next().is_some() {}
                set.spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        *lock(&self.running) = Some(Running {
            accept,
            connections,
        });
    }

    /// Takes the server down: no listener, every connection (and watch)
    /// cut.
    pub async fn stop(&self) {
        let running = lock(&self.running).take();
        if let Some(running) = running {
            running.accept.abort();
            let _ = running.accept.await;
            lock(&running.connections).abort_all();
            loop {
                let next = lock(&running.connections).try_join_next();
                match next {
                    Some(_) => continue,
                    None if lock(&running.connections).is_empty() => break,
                    None => tokio::time::sleep(Duration::from_millis(5)).await,
                }
            }
        }
        let mut store = lock(&self.store);
        for r in store.resources.values_mut() {
            r.watchers.clear();
        }
    }

    /// Serves again on the same port, with the store as it was left.
    pub async fn restart(&self) {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        socket.bind(self.addr).expect("bind the same port again");
        let listener = socket.listen(128).expect("listen");
        self.serve(listener);
    }

    fn with<R>(&self, path: &str, f: impl FnOnce(&mut Resource, &mut u64, &mut u64) -> R) -> R {
        let mut guard = lock(&self.store);
        let store = &mut *guard;
        let resource = store
            .resources
            .get_mut(path)
            .unwrap_or_else(|| panic!("no resource {path} in the fake API server"));
        f(resource, &mut store.rv, &mut store.uids)
    }

    /// Creates or replaces an object (ADDED or MODIFIED to every watch), as
    /// the API server stores it: a new resourceVersion, a uid and
    /// creationTimestamp when missing, `apiVersion`/`kind` of the resource.
    /// Returns the new resourceVersion.
    pub fn put(&self, path: &str, mut object: Value) -> u64 {
        self.with(path, |r, rv, uids| {
            *rv += 1;
            let name = object["metadata"]["name"]
                .as_str()
                .expect("metadata.name")
                .to_owned();
            let namespace = object["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert_eq!(
                r.namespaced,
                !namespace.is_empty(),
                "{path}: namespace of {name}"
            );
            let key = (namespace, name);
            let previous = r.objects.get(&key);
            let meta = object["metadata"].as_object_mut().expect("metadata");
            meta.insert("resourceVersion".into(), json!(rv.to_string()));
            let uid = previous
                .and_then(|p| p["metadata"]["uid"].as_str().map(str::to_owned))
                .unwrap_or_else(|| {
                    *uids += 1;
                    format!("6f1c2a3e-0000-4000-8000-{:012x}", *uids)
                });
            meta.entry("uid").or_insert(json!(uid));
            meta.entry("creationTimestamp")
                .or_insert(json!("2025-03-01T10:00:00Z"));
            if !r.builtin() {
                let generation = previous
                    .and_then(|p| p["metadata"]["generation"].as_u64())
                    .map_or(1, |g| g + 1);
                meta.insert("generation".into(), json!(generation));
            }
            object["apiVersion"] = json!(r.api_version());
            object["kind"] = json!(r.kind.clone());
            let type_ = if previous.is_some() {
                "MODIFIED"
            } else {
                "ADDED"
            };
            r.history.push((*rv, type_, object.clone()));
            r.broadcast(&event_line(type_, &object));
            r.objects.insert(key, object);
            *rv
        })
    }

    /// Deletes an object (DELETED to every watch, with the deletion's
    /// resourceVersion).
    pub fn delete(&self, path: &str, namespace: &str, name: &str) {
        self.with(path, |r, rv, _| {
            let mut object = r
                .objects
                .remove(&(namespace.to_owned(), name.to_owned()))
                .unwrap_or_else(|| panic!("{path}: no {namespace}/{name} to delete"));
            *rv += 1;
            object["metadata"]["resourceVersion"] = json!(rv.to_string());
            r.history.push((*rv, "DELETED", object.clone()));
            r.broadcast(&event_line("DELETED", &object));
        })
    }

    /// Deletes an object without any watch hearing of it, and compacts the
    /// history, as when a watcher was away longer than the API server keeps
    /// events: only a relist can tell.
    pub fn delete_unseen(&self, path: &str, namespace: &str, name: &str) {
        self.with(path, |r, rv, _| {
            r.objects
                .remove(&(namespace.to_owned(), name.to_owned()))
                .unwrap_or_else(|| panic!("{path}: no {namespace}/{name} to delete"));
            *rv += 1;
        });
        self.compact();
    }

    /// Drops every event so far: a watch from any earlier version gets 410.
    pub fn compact(&self) {
        let mut store = lock(&self.store);
        let rv = store.rv;
        for r in store.resources.values_mut() {
            r.history.clear();
            r.oldest = rv + 1;
        }
    }

    /// Compacts, then ends every open watch with an ERROR event (410
    /// Expired), as the API server does when a watcher falls too far
    /// behind.
    pub fn expire_watches(&self) {
        self.compact();
        let mut store = lock(&self.store);
        let rv = store.rv;
        for r in store.resources.values_mut() {
            let line = event_line(
                "ERROR",
                &status(
                    410,
                    "Expired",
                    &format!("too old resource version: 1 ({rv})"),
                ),
            );
            for w in r.watchers.drain(..) {
                let _ = w.send(WatchMsg::Line(line.clone()));
                let _ = w.send(WatchMsg::Close);
            }
        }
    }

    /// Hangs the server, as a network partition looks from the client:
    /// new requests get no answer, and every open watch goes silent for
    /// good, its connection left open.
    pub fn freeze(&self) {
        let mut guard = lock(&self.store);
        let store = &mut *guard;
        store.frozen.send_replace(true);
        for r in store.resources.values_mut() {
            store.silenced.append(&mut r.watchers);
        }
    }

    /// Answers requests again; the silenced watches stay silent.
    pub fn thaw(&self) {
        lock(&self.store).frozen.send_replace(false);
    }

    /// Ends every open watch normally, as when its `timeoutSeconds` runs
    /// out: the client watches again from the last version it saw.
    pub fn end_watches(&self) {
        let mut store = lock(&self.store);
        for r in store.resources.values_mut() {
            for w in r.watchers.drain(..) {
                let _ = w.send(WatchMsg::Close);
            }
        }
    }

    /// Sends a BOOKMARK with the current resourceVersion to every watch.
    pub fn bookmark(&self) {
        let mut store = lock(&self.store);
        let rv = store.rv;
        for r in store.resources.values_mut() {
            let line = event_line(
                "BOOKMARK",
                &json!({
                    "apiVersion": r.api_version(),
                    "kind": r.kind,
                    "metadata": { "resourceVersion": rv.to_string() },
                }),
            );
            r.broadcast(&line);
        }
    }

    /// Serves (or stops serving, 404) every resource of `group/version`.
    pub fn set_served(&self, group_version: &str, served: bool) {
        let mut store = lock(&self.store);
        for r in store.resources.values_mut() {
            if r.api_version() == group_version {
                r.served = served;
                if !served {
                    for w in r.watchers.drain(..) {
                        let _ = w.send(WatchMsg::Close);
                    }
                }
            }
        }
    }

    /// Makes every list of `path` answer `code` (a `Status`), or normally
    /// again with `None`.
    pub fn fail_lists(&self, path: &str, code: Option<u16>) {
        self.with(path, |r, _, _| r.fail_lists = code);
    }

    /// Delays every list of `path` by `delay`.
    pub fn delay_lists(&self, path: &str, delay: Option<Duration>) {
        self.with(path, |r, _, _| r.delay_lists = delay);
    }

    /// Lists of `path` served so far (probes with `limit=1` included).
    pub fn lists(&self, path: &str) -> usize {
        self.with(path, |r, _, _| r.lists)
    }

    /// Watches of `path` opened so far.
    pub fn watches(&self, path: &str) -> usize {
        self.with(path, |r, _, _| r.watches)
    }
}

fn query(req: &Request<Incoming>) -> HashMap<String, String> {
    req.uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (p.to_owned(), String::new()),
        })
        .collect()
}

async fn handle(store: Arc<Mutex<Store>>, req: Request<Incoming>) -> Response<Body> {
    let mut frozen = lock(&store).frozen.subscribe();
    while *frozen.borrow_and_update() {
        if frozen.changed().await.is_err() {
            break;
        }
    }
    let path = req.uri().path().to_owned();
    let q = query(&req);
    if req.method() != hyper::Method::GET {
        return json_response(
            405,
            &status(405, "MethodNotAllowed", "the fake API server only reads"),
        );
    }
    let not_found = || {
        json_response(
            404,
            &status(
                404,
                "NotFound",
                "the server could not find the requested resource",
            ),
        )
    };
    let watch = matches!(q.get("watch").map(String::as_str), Some("true" | "1"));
    if watch {
        return open_watch(&store, &path, &q).unwrap_or_else(not_found);
    }
    let delay = {
        let mut guard = lock(&store);
        let Some(r) = guard.resources.get_mut(&path).filter(|r| r.served) else {
            return not_found();
        };
        r.lists += 1;
        if let Some(code) = r.fail_lists {
            let reason = if code == 403 {
                "Forbidden"
            } else {
                "InternalError"
            };
            return json_response(
                code,
                &status(code, reason, &format!("list {path} refused by the test")),
            );
        }
        r.delay_lists
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    list(&store, &path, &q).unwrap_or_else(not_found)
}

fn list(store: &Mutex<Store>, path: &str, q: &HashMap<String, String>) -> Option<Response<Body>> {
    let guard = lock(store);
    let r = guard.resources.get(path).filter(|r| r.served)?;
    let offset: usize = q
        .get("continue")
        .and_then(|c| c.strip_prefix("offset-"))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let limit: usize = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let items: Vec<Value> = r
        .objects
        .values()
        .skip(offset)
        .take(limit)
        .map(|o| {
            let mut o = o.clone();
            if r.builtin() {
                if let Some(map) = o.as_object_mut() {
                    map.remove("apiVersion");
                    map.remove("kind");
                }
            }
            o
        })
        .collect();
    let mut metadata = json!({ "resourceVersion": guard.rv.to_string() });
    let next = offset.saturating_add(items.len());
    if next < r.objects.len() {
        metadata["continue"] = json!(format!("offset-{next}"));
        metadata["remainingItemCount"] = json!(r.objects.len() - next);
    }
    let body = json!({
        "kind": format!("{}List", r.kind),
        "apiVersion": r.api_version(),
        "metadata": metadata,
        "items": items,
    });
    Some(json_response(200, &body))
}

fn open_watch(
    store: &Mutex<Store>,
    path: &str,
    q: &HashMap<String, String>,
) -> Option<Response<Body>> {
    let mut guard = lock(store);
    let current = guard.rv;
    let r = guard.resources.get_mut(path).filter(|r| r.served)?;
    r.watches += 1;
    let from: u64 = q
        .get("resourceVersion")
        .and_then(|v| v.parse().ok())
        .filter(|v| *v > 0)
        .unwrap_or(current);
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|t| t.parse().ok())
        .map_or(Duration::from_secs(1800), Duration::from_secs);
    let (tx, rx) = mpsc::unbounded_channel();
    if from < r.oldest {
        let line = event_line(
            "ERROR",
            &status(
                410,
                "Expired",
                &format!("too old resource version: {from} ({current})"),
            ),
        );
        let _ = tx.send(WatchMsg::Line(line));
        let _ = tx.send(WatchMsg::Close);
    } else {
        for (rv, type_, object) in &r.history {
            if *rv > from {
                let _ = tx.send(WatchMsg::Line(event_line(type_, object)));
            }
        }
        r.watchers.push(tx);
    }
    drop(guard);
    let deadline = tokio::time::Instant::now() + timeout;
    let events = futures::stream::unfold(rx, move |mut rx| async move {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(WatchMsg::Line(line))) => Some((Ok::<_, Infallible>(Bytes::from(line)), rx)),
            _ => None,
        }
    });
    let mut response = Response::new(Body::from_stream(events));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Some(response)
}
