//! Unit tests of the inventory bookkeeping (no I/O) and of the files
//! source's reload. The Kubernetes source against a fake API server is in
//! `tests/kube_source.rs`.

use super::state::{Key, Msg, State};
use super::*;
use bgp_intent::objects::{IpPool, Meta, Node};
use bgp_intent::Object;
use std::collections::BTreeMap;
use std::time::Instant;

const V2: usize = 0;
const V2ALPHA1: usize = 1;
const NODES: usize = 2;

fn state(now: Instant) -> State {
    State::new(
        [
            (
                Kind::IpPool,
                "cilium.io/v2/ciliumloadbalancerippools".into(),
            ),
            (
                Kind::IpPool,
                "cilium.io/v2alpha1/ciliumloadbalancerippools".into(),
            ),
            (Kind::Node, "v1/nodes".into()),
        ],
        Duration::from_secs(1),
        now,
    )
}

fn key(name: &str) -> Key {
    (String::new(), name.to_owned())
}

fn pool(name: &str, label: &str) -> Object {
    let mut meta = Meta {
        name: name.to_owned(),
        ..Meta::default()
    };
    meta.labels.insert("from".into(), label.into());
    Object::IpPool(IpPool {
        meta,
        ..IpPool::default()
    })
}

fn node(name: &str) -> Object {
    Object::Node(Node {
        meta: Meta {
            name: name.to_owned(),
            ..Meta::default()
        },
        ..Node::default()
    })
}

fn listed(resource: usize, objects: Vec<Object>) -> Msg {
    Msg::Listed {
        resource,
        objects: objects
            .into_iter()
            .map(|o| (key(&o.meta().name), o))
            .collect(),
        unparsed: BTreeMap::new(),
    }
}

fn pool_names(inventory: &Inventory) -> Vec<(String, String)> {
    inventory
        .pools
        .iter()
        .map(|p| (p.meta.name.clone(), p.meta.labels["from"].clone()))
        .collect()
}

#[test]
fn nothing_is_published_before_every_resource_listed() {
    let t0 = Instant::now();
    let mut s = state(t0);
    for msg in [
        Msg::Listing(V2),
        Msg::Listing(V2ALPHA1),
        Msg::Listing(NODES),
    ] {
        s.apply(msg, t0, 0.0);
    }
    s.apply(listed(V2, vec![pool("a", "v2")]), t0, 1.0);
    s.apply(listed(NODES, vec![node("k8s-1")]), t0, 1.0);
    assert!(!s.synced());
    assert!(s.inventory().is_empty(), "partial state published");
    s.apply(listed(V2ALPHA1, vec![]), t0, 1.0);
    assert!(s.synced());
    let inventory = s.inventory();
    assert_eq!(inventory.pools.len(), 1);
    assert_eq!(inventory.nodes.len(), 1);
}

#[test]
fn absent_resource_counts_as_synced_and_empty() {
    let t0 = Instant::now();
    let mut s = state(t0);
    s.apply(listed(V2ALPHA1, vec![pool("a", "v2alpha1")]), t0, 0.0);
    s.apply(listed(NODES, vec![]), t0, 0.0);
    s.apply(
        Msg::Absent {
            resource: V2,
            error: "404".into(),
        },
        t0,
        0.0,
    );
    assert!(s.synced());
    assert_eq!(
        pool_names(&s.inventory()),
        [("a".into(), "v2alpha1".into())]
    );
    assert_eq!(s.stats().absent, ["cilium.io/v2/ciliumloadbalancerippools"]);
    // Installed later: listed, no longer absent.
    s.apply(listed(V2, vec![pool("b", "v2")]), t0, 0.0);
    assert!(s.stats().absent.is_empty());
    assert_eq!(s.inventory().pools.len(), 2);
}

#[test]
fn both_versions_count_once_and_v2_wins() {
    let t0 = Instant::now();
    let mut s = state(t0);
    s.apply(
        listed(
            V2ALPHA1,
            vec![pool("a", "v2alpha1"), pool("old", "v2alpha1")],
        ),
        t0,
        0.0,
    );
    s.apply(listed(V2, vec![pool("a", "v2")]), t0, 0.0);
    s.apply(listed(NODES, vec![]), t0, 0.0);
    assert_eq!(
        pool_names(&s.inventory()),
        [
            ("a".to_owned(), "v2".to_owned()),
            ("old".to_owned(), "v2alpha1".to_owned())
        ]
    );
    // Deleted at v2 only: the v2alpha1 copy remains.
    s.apply(
        Msg::Deleted {
            resource: V2,
            key: key("a"),
        },
        t0,
        0.0,
    );
    assert_eq!(
        pool_names(&s.inventory()),
        [
            ("a".to_owned(), "v2alpha1".to_owned()),
            ("old".to_owned(), "v2alpha1".to_owned())
        ]
    );
}

#[test]
fn a_relist_replaces_the_set_atomically() {
    let t0 = Instant::now();
    let mut s = state(t0);
    for r in [V2, V2ALPHA1, NODES] {
        s.apply(Msg::Listing(r), t0, 0.0);
    }
    // The first list of a resource failing and retried is no relist.
    s.apply(
        Msg::Failed {
            resource: NODES,
            error: "500".into(),
        },
        t0,
        0.0,
    );
    s.apply(Msg::Listing(NODES), t0, 0.0);
    s.apply(listed(V2, vec![]), t0, 0.0);
    s.apply(listed(V2ALPHA1, vec![]), t0, 0.0);
    s.apply(listed(NODES, vec![node("k8s-1"), node("k8s-2")]), t0, 0.0);
    assert_eq!(s.stats().relists, 0);
    let before = s.inventory();
    s.apply(Msg::Listing(NODES), t0, 0.0);
    assert_eq!(s.stats().relists, 1);
    // While relisting, the old set stays, through failed attempts too.
    s.apply(
        Msg::Failed {
            resource: NODES,
            error: "500".into(),
        },
        t0,
        0.0,
    );
    s.apply(Msg::Listing(NODES), t0, 0.0);
    assert_eq!(s.inventory(), before);
    assert_eq!(s.stats().relists, 1, "one relist, two attempts");
    s.apply(listed(NODES, vec![node("k8s-2"), node("k8s-3")]), t0, 0.0);
    let names: Vec<_> = s
        .inventory()
        .nodes
        .iter()
        .map(|n| n.meta.name.clone())
        .collect();
    assert_eq!(names, ["k8s-2", "k8s-3"]);
    assert_eq!(s.error(), None);
}

#[test]
fn unreadable_objects_are_left_out_counted_once_and_come_back() {
    let t0 = Instant::now();
    let mut s = state(t0);
    s.apply(listed(V2, vec![]), t0, 0.0);
    s.apply(listed(V2ALPHA1, vec![]), t0, 0.0);
    s.apply(listed(NODES, vec![node("k8s-1")]), t0, 0.0);
    let bad = || Msg::Applied {
        resource: V2,
        key: key("bad"),
        read: Box::new(Err(
            "CiliumLoadBalancerIPPool bad: spec.blocks: invalid type".into(),
        )),
    };
    s.apply(bad(), t0, 0.0);
    s.apply(bad(), t0, 0.0);
    let stats = s.stats();
    assert_eq!(stats.parse_errors, 1);
    assert_eq!(stats.unparsed.len(), 1);
    assert!(s.inventory().pools.is_empty());
    assert_eq!(s.inventory().nodes.len(), 1);
    s.apply(
        Msg::Applied {
            resource: V2,
            key: key("bad"),
            read: Box::new(Ok(Some(pool("bad", "v2")))),
        },
        t0,
        0.0,
    );
    assert!(s.stats().unparsed.is_empty());
    assert_eq!(s.inventory().pools.len(), 1);
}

#[test]
fn stale_without_contact_and_while_a_relist_fails() {
    let t0 = Instant::now();
    let mut s = state(t0);
    for r in [V2, V2ALPHA1, NODES] {
        s.apply(listed(r, vec![]), t0, 0.0);
    }
    let t1 = t0 + Duration::from_millis(900);
    assert!(!s.stale(t1));
    assert_eq!(s.stale_deadline(t1), Some(t0 + Duration::from_millis(1001)));
    let t2 = t0 + Duration::from_millis(1500);
    assert!(s.stale(t2));
    assert_eq!(s.stale_deadline(t2), None);
    // A failed probe sets the error; the next good one clears it and says
    // the watchers may restart.
    s.apply(Msg::Probe(Err("connection refused".into())), t2, 0.0);
    assert!(s.error().unwrap().contains("connection refused"));
    let t3 = t2 + Duration::from_millis(100);
    let effects = s.apply(Msg::Probe(Ok(())), t3, 0.0);
    assert!(effects.recovered);
    assert!(!s.stale(t3));
    assert_eq!(s.error(), None);
    // A relist that keeps failing makes the state stale even though the
    // server answers the probe.
    s.apply(Msg::Listing(NODES), t3, 0.0);
    s.apply(
        Msg::Failed {
            resource: NODES,
            error: "403 forbidden".into(),
        },
        t3,
        0.0,
    );
    let t4 = t3 + Duration::from_millis(600);
    s.apply(Msg::Probe(Ok(())), t4, 0.0);
    assert!(s.error().unwrap().contains("v1/nodes: 403 forbidden"));
    assert!(!s.stale(t4));
    let t5 = t3 + Duration::from_millis(1100);
    s.apply(Msg::Probe(Ok(())), t5, 0.0);
    assert!(s.stale(t5));
    s.apply(listed(NODES, vec![]), t5, 0.0);
    assert!(!s.stale(t5));
    assert_eq!(s.error(), None);
}

#[test]
fn a_broken_watch_is_an_error_until_the_next_contact() {
    let t0 = Instant::now();
    let mut s = state(t0);
    for r in [V2, V2ALPHA1, NODES] {
        s.apply(listed(r, vec![]), t0, 0.0);
    }
    s.apply(
        Msg::Failed {
            resource: NODES,
            error: "watch stream failed".into(),
        },
        t0,
        0.0,
    );
    assert!(s.error().unwrap().contains("watch stream failed"));
    let t1 = t0 + Duration::from_millis(10);
    let effects = s.apply(Msg::Probe(Ok(())), t1, 5.0);
    assert!(!effects.recovered, "the probe never failed");
    assert_eq!(s.error(), None);
    assert_eq!(s.last_sync(), Some(5.0));
}

#[tokio::test]
async fn publisher_bumps_the_generation_only_on_content_or_status_change() {
    let (publisher, mut rx) = Publisher::new("test".into());
    let update = Update {
        inventory: Arc::new(Inventory::default()),
        synced: true,
        stale: false,
        last_sync: Some(1.0),
        error: None,
        stats: Stats::default(),
    };
    assert!(publisher.publish(update.clone()));
    assert_eq!(rx.borrow_and_update().generation, 1);
    // Only last_sync and counters: refreshed in place, nobody woken.
    let mut quiet = update.clone();
    quiet.last_sync = Some(2.0);
    quiet.stats.relists = 3;
    assert!(!publisher.publish(quiet));
    assert!(!rx.has_changed().unwrap());
    assert_eq!(rx.borrow().last_sync, Some(2.0));
    assert_eq!(rx.borrow().stats.relists, 3);
    // Equal content in a new Arc is no change either.
    let mut same = update.clone();
    same.inventory = Arc::new(Inventory::default());
    assert!(!publisher.publish(same));
    let mut content = update.clone();
    let mut inventory = Inventory::default();
    inventory.upsert(node("k8s-1"));
    content.inventory = Arc::new(inventory);
    assert!(publisher.publish(content.clone()));
    assert_eq!(rx.borrow_and_update().generation, 2);
    assert_eq!(rx.borrow().stats.objects["Node"], 1);
    let mut status = content;
    status.error = Some("x".into());
    assert!(publisher.publish(status));
    assert_eq!(rx.borrow_and_update().generation, 3);
}

// ------------------------------------------------------------ files source

const POOL_YAML: &str = "\
apiVersion: cilium.io/v2alpha1
kind: CiliumLoadBalancerIPPool
metadata:
  name: lb-pool
spec:
  blocks:
  - cidr: 172.29.52.0/24
";

const SECOND_POOL_YAML: &str = "\
---
apiVersion: cilium.io/v2alpha1
kind: CiliumLoadBalancerIPPool
metadata:
  name: more
spec:
  blocks:
  - cidr: 172.29.53.0/24
";

const BROKEN_POOL_YAML: &str = "\
apiVersion: cilium.io/v2alpha1
kind: CiliumLoadBalancerIPPool
metadata:
  name: lb-pool
spec:
  blocks: 172.29.52.0/24
";

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bgpd-inventory-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    dir
}

fn files_config(path: std::path::PathBuf) -> InventoryConfig {
    InventoryConfig {
        source: InventorySource::Files { path },
        stale_after: Duration::from_secs(120),
    }
}

/// Waits for the next generation.
async fn next(rx: &mut watch::Receiver<Arc<Snapshot>>) -> Arc<Snapshot> {
    tokio::time::timeout(Duration::from_secs(5), rx.changed())
        .await
        .expect("a new snapshot within 5 s")
        .expect("the source is running");
    rx.borrow_and_update().clone()
}

#[tokio::test]
async fn files_reload_keeps_the_old_state_when_the_new_one_is_broken() {
    let dir = temp_dir("reload");
    let file = dir.join("pools.yaml");
    std::fs::write(&file, POOL_YAML).unwrap();
    let (_shutdown, shutdown) = watch::channel(false);
    let handle = start(&files_config(dir.clone()), shutdown)
        .await
        .expect("a good tree loads");
    let mut rx = handle.snapshot.clone();
    let first = rx.borrow_and_update().clone();
    assert!(first.synced && !first.stale);
    assert_eq!(first.error, None);
    assert_eq!(first.source, format!("files:{}", dir.display()));
    assert_eq!(first.inventory.pools.len(), 1);
    assert_eq!(first.stats.objects["CiliumLoadBalancerIPPool"], 1);

    // A half-edited file: the error is set, nothing is lost.
    std::fs::write(&file, BROKEN_POOL_YAML).unwrap();
    handle.reload();
    let broken = next(&mut rx).await;
    let error = broken.error.clone().expect("the reload error");
    assert!(error.contains("pools.yaml:6"), "{error}");
    assert!(error.contains("spec.blocks"), "{error}");
    assert_eq!(*broken.inventory, *first.inventory);
    assert!(broken.synced && !broken.stale);
    assert_eq!(broken.stats.reloads, 1);
    assert!(broken.generation > first.generation);

    // Fixed, with a second pool: the new state, no error.
    std::fs::write(&file, format!("{POOL_YAML}{SECOND_POOL_YAML}")).unwrap();
    handle.reload();
    let fixed = next(&mut rx).await;
    assert_eq!(fixed.error, None);
    assert_eq!(fixed.inventory.pools.len(), 2);
    assert_eq!(fixed.stats.reloads, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn files_that_do_not_load_at_start_are_an_error_naming_file_and_line() {
    let dir = temp_dir("start");
    let file = dir.join("pools.yaml");
    std::fs::write(&file, BROKEN_POOL_YAML).unwrap();
    let (_shutdown, shutdown) = watch::channel(false);
    let e = start(&files_config(file.clone()), shutdown.clone())
        .await
        .expect_err("a broken file");
    let text = e.to_string();
    assert!(text.contains(&format!("{}:6", file.display())), "{text}");
    let e = start(&files_config(dir.join("missing")), shutdown)
        .await
        .expect_err("a missing path");
    assert!(e.to_string().contains("missing"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_embedded_source_is_synced_and_never_stale() {
    let (_shutdown, shutdown) = watch::channel(false);
    let config = InventoryConfig {
        source: InventorySource::Embedded,
        stale_after: Duration::from_secs(1),
    };
    let handle = start(&config, shutdown).await.expect("embedded");
    let s = handle.current();
    assert_eq!(s.source, "embedded");
    assert!(s.synced && !s.stale);
    assert_eq!(s.error, None);
    assert_eq!(*s.inventory, bgp_intent::files::embedded_default());
    assert!(!s.inventory.is_empty());
    // Nothing to reload; the snapshot stays as it is.
    handle.reload();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!handle.snapshot.has_changed().unwrap());
}
