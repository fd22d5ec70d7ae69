//! The Kubernetes source's bookkeeping, without I/O: what each watched
//! resource holds, whether it has been listed, what failed and when, and
//! from that the inventory and status to publish.
//!
//! Each watched resource (a kind at one API version) is a [`Resource`]
//! that receives [`Msg`]s from its watcher task. A relist is buffered by the
//! task and arrives whole ([`Msg::Listed`]), so a resource's set is replaced
//! atomically. The inventory is the union of every resource, a Cilium kind
//! served at two versions counted once per name with the first (newest)
//! version winning; it is empty until every resource has been listed once
//! or found absent.

use super::Stats;
use bgp_intent::Inventory;
use bgp_intent::{Kind, Object};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `(namespace, name)`; the namespace is empty for cluster-scoped kinds.
pub(super) type Key = (String, String);

/// What an object read from a watch event became.
pub(super) type Read = Result<Option<Object>, String>;

/// A report of a watcher task (or of the connectivity probe) to the state.
#[derive(Debug)]
pub(super) enum Msg {
    /// A (re)list of resource `0` began (`watcher::Event::Init`).
    Listing(usize),
    /// A list completed: the objects read and those that failed to read.
    Listed {
        resource: usize,
        objects: BTreeMap<Key, Object>,
        unparsed: BTreeMap<Key, String>,
    },
    /// An object was added or modified (boxed: objects are large).
    Applied {
        resource: usize,
        key: Key,
        read: Box<Read>,
    },
    /// An object was deleted.
    Deleted { resource: usize, key: Key },
    /// The API server does not serve the resource (404).
    Absent { resource: usize, error: String },
    /// A list or watch request failed; the watcher retries by itself.
    Failed { resource: usize, error: String },
    /// The connectivity probe succeeded (`Ok`) or failed.
    Probe(Result<(), String>),
}

/// One watched resource.
#[derive(Debug)]
struct Resource {
    kind: Kind,
    /// `group/version/plural`, for messages.
    label: String,
    objects: BTreeMap<Key, Object>,
    unparsed: BTreeMap<Key, String>,
    /// Listed at least once, or found absent.
    synced: bool,
    /// The last list said 404.
    absent: bool,
    /// A list is in progress (between `Listing` and `Listed`).
    listing: bool,
    /// Since when its list has been failing, and the last error.
    failing: Option<(Instant, String)>,
    /// The last error logged at warning level since the last success: a
    /// watcher retrying through an outage repeats itself at debug level.
    logged: Option<String>,
}

/// The state of every watched resource.
#[derive(Debug)]
pub(super) struct State {
    resources: Vec<Resource>,
    stale_after: Duration,
    last_contact: Instant,
    last_sync: Option<f64>,
    /// The last failure that the next successful contact clears (a watch
    /// that broke, an unreachable API server), and when it happened.
    transient: Option<(Instant, String)>,
    /// The last probe failed.
    probe_failing: bool,
    parse_errors: u64,
    relists: u64,
    /// The inventory last built, while nothing it depends on changed.
    built: Option<Arc<Inventory>>,
    empty: Arc<Inventory>,
}

/// What applying a message asks of the caller.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Effects {
    /// The probe came back after failing: restart the watchers that are
    /// waiting out a backoff.
    pub recovered: bool,
}

impl State {
    /// The state of `resources` (kind and label, in order of preference
    /// within a kind), with nothing listed yet, at `now`.
    pub(super) fn new(
        resources: impl IntoIterator<Item = (Kind, String)>,
        stale_after: Duration,
        now: Instant,
    ) -> Self {
        Self {
            resources: resources
                .into_iter()
                .map(|(kind, label)| Resource {
                    kind,
                    label,
                    objects: BTreeMap::new(),
                    unparsed: BTreeMap::new(),
                    synced: false,
                    absent: false,
                    listing: false,
                    failing: None,
                    logged: None,
                })
                .collect(),
            stale_after,
            last_contact: now,
            last_sync: None,
            transient: None,
            probe_failing: false,
            parse_errors: 0,
            relists: 0,
            built: None,
            empty: Arc::new(Inventory::default()),
        }
    }

    /// Applies one message received at `now` (`unix`: the same moment in
    /// Unix seconds).
    pub(super) fn apply(&mut self, msg: Msg, now: Instant, unix: f64) -> Effects {
        let mut effects = Effects::default();
        match msg {
            Msg::Listing(i) => {
                let r = &mut self.resources[i];
                // A relist episode counts once, however many attempts it
                // takes; a resource found absent is only being checked.
                if r.synced && !r.absent && !r.listing {
                    self.relists += 1;
                    tracing::info!(resource = %r.label, "inventory: relisting");
                }
                r.listing = true;
            }
            Msg::Listed {
                resource: i,
                objects,
                unparsed,
            } => {
                self.contact(now, unix);
                let r = &mut self.resources[i];
                if r.absent {
                    tracing::info!(resource = %r.label, "inventory: resource is served now");
                }
                for (key, error) in &unparsed {
                    if r.unparsed.get(key) != Some(error) {
                        tracing::warn!(resource = %r.label, "inventory: skipping an object: {error}");
                        self.parse_errors += 1;
                    }
                }
                r.objects = objects;
                r.unparsed = unparsed;
                r.logged = None;
                r.synced = true;
                r.absent = false;
                r.listing = false;
                r.failing = None;
                self.built = None;
            }
            Msg::Applied {
                resource: i,
                key,
                read,
            } => {
                self.contact(now, unix);
                let r = &mut self.resources[i];
                r.logged = None;
                match *read {
                    Ok(Some(object)) => {
                        r.unparsed.remove(&key);
                        r.objects.insert(key, object);
                    }
                    Ok(None) => {
                        r.unparsed.remove(&key);
                        r.objects.remove(&key);
                    }
                    Err(error) => {
                        r.objects.remove(&key);
                        if r.unparsed.get(&key) != Some(&error) {
                            tracing::warn!(resource = %r.label, "inventory: skipping an object: {error}");
                            self.parse_errors += 1;
                        }
                        r.unparsed.insert(key, error);
                    }
                }
                self.built = None;
            }
            Msg::Deleted { resource: i, key } => {
                self.contact(now, unix);
                let r = &mut self.resources[i];
                r.logged = None;
                r.objects.remove(&key);
                r.unparsed.remove(&key);
                self.built = None;
            }
            Msg::Absent { resource: i, error } => {
                // A 404 is an answer: the server was reached.
                self.contact(now, unix);
                let r = &mut self.resources[i];
                if !r.absent {
                    tracing::info!(
                        resource = %r.label,
                        "inventory: not served by the API server, read as empty: {error}"
                    );
                }
                r.objects.clear();
                r.unparsed.clear();
                r.logged = None;
                r.synced = true;
                r.absent = true;
                r.listing = false;
                r.failing = None;
                self.built = None;
            }
            Msg::Failed { resource: i, error } => {
                let r = &mut self.resources[i];
                if r.logged.as_ref() != Some(&error) {
                    tracing::warn!(resource = %r.label, "inventory: {error}");
                    r.logged = Some(error.clone());
                } else {
                    tracing::debug!(resource = %r.label, "inventory: {error}");
                }
                let error = format!("{}: {error}", r.label);
                if r.listing || !r.synced {
                    let since = r.failing.as_ref().map_or(now, |(t, _)| *t);
                    r.failing = Some((since, error));
                } else {
                    self.transient = Some((now, error));
                }
            }
            Msg::Probe(Ok(())) => {
                if self.probe_failing {
                    tracing::info!("inventory: the API server answers again");
                    effects.recovered = true;
                }
                self.probe_failing = false;
                self.contact(now, unix);
            }
            Msg::Probe(Err(error)) => {
                if !self.probe_failing {
                    tracing::warn!("inventory: the API server does not answer: {error}");
                }
                self.probe_failing = true;
                self.transient = Some((now, format!("API server: {error}")));
            }
        }
        effects
    }

    /// A successful exchange with the API server at `now`.
    fn contact(&mut self, now: Instant, unix: f64) {
        self.last_contact = now;
        self.last_sync = Some(unix);
        if self.transient.as_ref().is_some_and(|(t, _)| *t <= now) && !self.probe_failing {
            self.transient = None;
        }
    }

    /// Every resource has been listed once (or found absent).
    pub(super) fn synced(&self) -> bool {
        self.resources.iter().all(|r| r.synced)
    }

    /// No contact for `stale_after`, or a list failing that long.
    pub(super) fn stale(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_contact) > self.stale_after
            || self.resources.iter().any(|r| {
                r.failing
                    .as_ref()
                    .is_some_and(|(t, _)| now.saturating_duration_since(*t) > self.stale_after)
            })
    }

    /// The next moment `stale` turns true if nothing else happens, when it
    /// is false now.
    pub(super) fn stale_deadline(&self, now: Instant) -> Option<Instant> {
        if self.stale(now) {
            return None;
        }
        let after = self.stale_after + Duration::from_millis(1);
        self.resources
            .iter()
            .filter_map(|r| r.failing.as_ref().map(|(t, _)| *t + after))
            .chain(std::iter::once(self.last_contact + after))
            .min()
    }

    /// What is wrong: a failing list first (it holds back or freezes a
    /// kind), else the last transient failure.
    pub(super) fn error(&self) -> Option<String> {
        let failing: Vec<&str> = self
            .resources
            .iter()
            .filter_map(|r| r.failing.as_ref().map(|(_, e)| e.as_str()))
            .collect();
        match failing.as_slice() {
            [] => self.transient.as_ref().map(|(_, e)| e.clone()),
            [one] => Some((*one).to_owned()),
            [first, rest @ ..] => Some(format!("{first} (and {} more failing)", rest.len())),
        }
    }

    /// Unix seconds of the last successful exchange.
    pub(super) fn last_sync(&self) -> Option<f64> {
        self.last_sync
    }

    /// The inventory to publish: empty until synced, then the union of
    /// every resource (a name present at two versions of a kind taken from
    /// the first).
    pub(super) fn inventory(&mut self) -> Arc<Inventory> {
        if !self.synced() {
            return self.empty.clone();
        }
        if let Some(built) = &self.built {
            return built.clone();
        }
        let mut inventory = Inventory::default();
        for kind in Kind::ALL {
            let mut merged: BTreeMap<&Key, &Object> = BTreeMap::new();
            for r in self.resources.iter().filter(|r| r.kind == kind) {
                for (key, object) in &r.objects {
                    merged.entry(key).or_insert(object);
                }
            }
            for object in merged.into_values() {
                inventory.upsert(object.clone());
            }
        }
        let built = Arc::new(inventory);
        self.built = Some(built.clone());
        built
    }

    /// Counters (without `objects`, which the publisher counts).
    pub(super) fn stats(&self) -> Stats {
        Stats {
            objects: BTreeMap::new(),
            unparsed: self
                .resources
                .iter()
                .flat_map(|r| r.unparsed.values().cloned())
                .collect(),
            parse_errors: self.parse_errors,
            relists: self.relists,
            absent: self
                .resources
                .iter()
                .filter(|r| r.absent)
                .map(|r| r.label.clone())
                .collect(),
            reloads: 0,
        }
    }
}
