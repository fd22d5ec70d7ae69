//! The Kubernetes inventory source against an in-process fake API server
//! (`kubeapi`) that speaks the real list/watch protocol: initial sync of
//! every kind at both Cilium API versions, watch events, 410 Gone and the
//! relist after it, an API server outage, objects that do not read, CRD
//! versions that are not served, a list that is refused, and kubeconfig
//! errors. The client is configured the way the daemon does it, from a
//! kubeconfig file (written by the test) and a context.

mod kubeapi;

use bgpd::config::{InventoryConfig, InventorySource};
use bgpd::inventory::{self, InventoryHandle, Snapshot, Tuning};
use kubeapi::FakeApi;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

const SERVICES: &str = "/api/v1/services";
const NODES: &str = "/api/v1/nodes";
const SLICES: &str = "/apis/discovery.k8s.io/v1/endpointslices";
const POOLS_V2: &str = "/apis/cilium.io/v2/ciliumloadbalancerippools";
const POOLS_V2ALPHA1: &str = "/apis/cilium.io/v2alpha1/ciliumloadbalancerippools";
const POLICIES: &str = "/apis/cilium.io/v2alpha1/ciliumbgppeeringpolicies";
const CLUSTER_V2: &str = "/apis/cilium.io/v2/ciliumbgpclusterconfigs";
const CLUSTER_V2ALPHA1: &str = "/apis/cilium.io/v2alpha1/ciliumbgpclusterconfigs";
const PEER_V2: &str = "/apis/cilium.io/v2/ciliumbgppeerconfigs";
const PEER_V2ALPHA1: &str = "/apis/cilium.io/v2alpha1/ciliumbgppeerconfigs";
const ADVERT_V2: &str = "/apis/cilium.io/v2/ciliumbgpadvertisements";
const ADVERT_V2ALPHA1: &str = "/apis/cilium.io/v2alpha1/ciliumbgpadvertisements";

// ---------------------------------------------------------------- fixtures
// Objects as the API server returns them (it adds resourceVersion, and the
// uid and creationTimestamp where a fixture has none).

fn lb_service(namespace: &str, name: &str, ip: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "creationTimestamp": "2025-02-11T08:14:03Z",
            "labels": { "app.kubernetes.io/name": name },
            "annotations": { "lbipam.cilium.io/ips": ip },
            "managedFields": [{
                "manager": "kubectl-client-side-apply",
                "operation": "Update",
                "apiVersion": "v1",
                "time": "2025-02-11T08:14:03Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": { "f:spec": { "f:type": {} } }
            }]
        },
        "spec": {
            "type": "LoadBalancer",
            "clusterIP": "10.96.41.7",
            "clusterIPs": ["10.96.41.7"],
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "externalTrafficPolicy": "Cluster",
            "internalTrafficPolicy": "Cluster",
            "allocateLoadBalancerNodePorts": true,
            "sessionAffinity": "None",
            "selector": { "app.kubernetes.io/name": name },
            "ports": [{
                "name": "http",
                "protocol": "TCP",
                "port": 80,
                "targetPort": 8080,
                "nodePort": 31080
            }]
        },
        "status": {
            "loadBalancer": { "ingress": [{ "ip": ip, "ipMode": "VIP" }] }
        }
    })
}

fn cluster_ip_service() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "kube-dns",
            "namespace": "kube-system",
            "uid": "5a0c8e4d-2b1f-4f7a-8d3e-6c9b0a1e2f34",
            "creationTimestamp": "2024-11-02T19:40:12Z",
            "labels": { "k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS" }
        },
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "10.96.0.10",
            "clusterIPs": ["10.96.0.10"],
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster",
            "sessionAffinity": "None",
            "selector": { "k8s-app": "kube-dns" },
            "ports": [
                { "name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53 },
                { "name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53 }
            ]
        },
        "status": { "loadBalancer": {} }
    })
}

fn endpoint_slice(namespace: &str, name: &str, service: &str, node: &str, ready: bool) -> Value {
    json!({
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "generateName": format!("{service}-"),
            "labels": {
                "kubernetes.io/service-name": service,
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"
            },
            "ownerReferences": [{
                "apiVersion": "v1",
                "kind": "Service",
                "name": service,
                "uid": "0b7d3f6e-0000-4c1e-9a55-1d2c3b4a5f60",
                "controller": true,
                "blockOwnerDeletion": true
            }]
        },
        "addressType": "IPv4",
        "endpoints": [{
            "addresses": ["10.244.1.17"],
            "conditions": { "ready": ready, "serving": ready, "terminating": false },
            "nodeName": node,
            "targetRef": { "kind": "Pod", "namespace": namespace, "name": format!("{service}-6d4cf56db6-x2x8n") }
        }],
        "ports": [{ "name": "http", "port": 8080, "protocol": "TCP" }]
    })
}

fn node(name: &str, ip: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "bgp": "enabled"
            },
            "annotations": { "node.alpha.kubernetes.io/ttl": "0" }
        },
        "spec": { "podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"] },
        "status": {
            "addresses": [
                { "type": "InternalIP", "address": ip },
                { "type": "Hostname", "address": name }
            ],
            "conditions": [{
                "type": "Ready",
                "status": "True",
                "reason": "KubeletReady",
                "message": "kubelet is posting ready status",
                "lastHeartbeatTime": "2025-03-01T10:00:00Z",
                "lastTransitionTime": "2025-02-01T10:00:00Z"
            }],
            "nodeInfo": { "kubeletVersion": "v1.32.2", "architecture": "amd64" }
        }
    })
}

fn pool(api_version: &str, name: &str, cidr: &str) -> Value {
    json!({
        "apiVersion": api_version,
        "kind": "CiliumLoadBalancerIPPool",
        "metadata": {
            "name": name,
            "labels": { "served-as": api_version.trim_start_matches("cilium.io/") }
        },
        "spec": { "blocks": [{ "cidr": cidr }], "disabled": false },
        "status": {
            "conditions": [{
                "type": "cilium.io/IPsExhausted",
                "status": "False",
                "reason": "noReason",
                "message": "",
                "lastTransitionTime": "2025-02-11T08:14:03Z",
                "observedGeneration": 1
            }]
        }
    })
}

fn legacy_pool() -> Value {
    // Cilium 1.14 spelled the blocks `cidrs`.
    json!({
        "apiVersion": "cilium.io/v2alpha1",
        "kind": "CiliumLoadBalancerIPPool",
        "metadata": { "name": "legacy-pool", "labels": { "served-as": "v2alpha1" } },
        "spec": { "cidrs": [{ "cidr": "172.29.53.0/28" }] }
    })
}

fn peering_policy(name: &str, local_asn: Value) -> Value {
    json!({
        "apiVersion": "cilium.io/v2alpha1",
        "kind": "CiliumBGPPeeringPolicy",
        "metadata": { "name": name },
        "spec": {
            "nodeSelector": { "matchLabels": { "bgp": "enabled" } },
            "virtualRouters": [{
                "localASN": local_asn,
                "exportPodCIDR": false,
                "serviceSelector": {
                    "matchExpressions": [{ "key": "somekey", "operator": "NotIn", "values": ["never-used-value"] }]
                },
                "neighbors": [{ "peerAddress": "172.29.51.1/32", "peerASN": 64513 }]
            }]
        }
    })
}

fn cluster_config(api_version: &str) -> Value {
    json!({
        "apiVersion": api_version,
        "kind": "CiliumBGPClusterConfig",
        "metadata": { "name": "home" },
        "spec": {
            "nodeSelector": { "matchLabels": { "bgp": "enabled" } },
            "bgpInstances": [{
                "name": "instance-64512",
                "localASN": 64512,
                "peers": [{
                    "name": "udm",
                    "peerASN": 64513,
                    "peerAddress": "172.29.51.1",
                    "peerConfigRef": { "name": "udm" }
                }]
            }]
        }
    })
}

fn peer_config(api_version: &str) -> Value {
    json!({
        "apiVersion": api_version,
        "kind": "CiliumBGPPeerConfig",
        "metadata": { "name": "udm" },
        "spec": {
            "gracefulRestart": { "enabled": true, "restartTimeSeconds": 120 },
            "families": [{
                "afi": "ipv4",
                "safi": "unicast",
                "advertisements": { "matchLabels": { "advertise": "bgp" } }
            }]
        }
    })
}

fn advertisement(api_version: &str, name: &str) -> Value {
    json!({
        "apiVersion": api_version,
        "kind": "CiliumBGPAdvertisement",
        "metadata": { "name": name, "labels": { "advertise": "bgp" } },
        "spec": {
            "advertisements": [{
                "advertisementType": "Service",
                "service": { "addresses": ["LoadBalancerIP"] },
                "selector": {
                    "matchExpressions": [{ "key": "somekey", "operator": "NotIn", "values": ["never-used-value"] }]
                }
            }]
        }
    })
}

/// The home cluster: both BGP APIs, both pool versions (one pool seen at
/// both, as the API server shows a multi-version CRD, and one left from
/// v2alpha1 days).
fn populate(api: &FakeApi) {
    api.put(SERVICES, lb_service("default", "web", "172.29.52.10"));
    api.put(SERVICES, lb_service("ingress", "traefik", "172.29.52.20"));
    api.put(SERVICES, cluster_ip_service());
    api.put(
        SLICES,
        endpoint_slice("default", "web-x7k2p", "web", "k8s-1", true),
    );
    api.put(
        SLICES,
        endpoint_slice("ingress", "traefik-9fz3k", "traefik", "k8s-2", true),
    );
    api.put(
        SLICES,
        endpoint_slice("ingress", "traefik-b2m4q", "traefik", "k8s-3", false),
    );
    api.put(NODES, node("k8s-1", "172.29.51.11"));
    api.put(NODES, node("k8s-2", "172.29.51.12"));
    api.put(NODES, node("k8s-3", "172.29.51.13"));
    api.put(POOLS_V2, pool("cilium.io/v2", "lb-pool", "172.29.52.0/24"));
    api.put(
        POOLS_V2ALPHA1,
        pool("cilium.io/v2alpha1", "lb-pool", "172.29.52.0/24"),
    );
    api.put(POOLS_V2ALPHA1, legacy_pool());
    api.put(POLICIES, peering_policy("udm", json!(64512)));
    api.put(CLUSTER_V2, cluster_config("cilium.io/v2"));
    api.put(CLUSTER_V2ALPHA1, cluster_config("cilium.io/v2alpha1"));
    api.put(PEER_V2, peer_config("cilium.io/v2"));
    api.put(PEER_V2ALPHA1, peer_config("cilium.io/v2alpha1"));
    api.put(ADVERT_V2, advertisement("cilium.io/v2", "lb-services"));
    api.put(
        ADVERT_V2ALPHA1,
        advertisement("cilium.io/v2alpha1", "lb-services"),
    );
}

// ---------------------------------------------------------------- harness

static DIRS: AtomicUsize = AtomicUsize::new(0);

/// A kubeconfig whose current context points nowhere useful: the source
/// must use the context it is given.
fn write_kubeconfig(dir: &Path, server: &str) -> PathBuf {
    let path = dir.join("kubeconfig");
    let text = format!(
        "apiVersion: v1
kind: Config
current-context: elsewhere
clusters:
- name: fake
  cluster:
    server: {server}
- name: elsewhere
  cluster:
    server: http://127.0.0.1:1
contexts:
- name: fake
  context:
    cluster: fake
    user: tester
- name: elsewhere
  context:
    cluster: elsewhere
    user: tester
users:
- name: tester
  user: {{}}
"
    );
    std::fs::write(&path, text).expect("write the kubeconfig");
    path
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "bgpd-kube-source-{}-{}",
        std::process::id(),
        DIRS.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    dir
}

fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}

struct Harness {
    api: FakeApi,
    handle: InventoryHandle,
    shutdown: watch::Sender<bool>,
    dir: PathBuf,
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Harness {
    async fn start(api: FakeApi, tuning: Tuning) -> Harness {
        init_logs();
        let dir = temp_dir();
        let kubeconfig = write_kubeconfig(&dir, &api.url());
        let config = InventoryConfig {
            source: InventorySource::Kubernetes {
                kubeconfig: Some(kubeconfig),
                context: Some("fake".to_owned()),
            },
            stale_after: Duration::from_secs(1),
        };
        let (shutdown, rx) = watch::channel(false);
        let handle = inventory::start_with(&config, rx, tuning)
            .await
            .expect("start the Kubernetes source");
        Harness {
            api,
            handle,
            shutdown,
            dir,
        }
    }

    /// Polls the newest snapshot until `pred` holds; panics with the last
    /// one after `timeout`.
    async fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Snapshot) -> bool,
    ) -> Arc<Snapshot> {
        let start = Instant::now();
        loop {
            let s = self.handle.current();
            if pred(&s) {
                return s;
            }
            if start.elapsed() > timeout {
                panic!(
                    "waited {timeout:?} for {what}; last snapshot: generation {}, synced {}, stale {}, \
                     error {:?}, stats {:?}",
                    s.generation, s.synced, s.stale, s.error, s.stats
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    async fn synced(&self) -> Arc<Snapshot> {
        self.wait_for("the initial sync", Duration::from_secs(10), |s| s.synced)
            .await
    }
}

fn names<T>(items: &[T], meta: impl Fn(&T) -> &bgp_intent::objects::Meta) -> Vec<String> {
    items
        .iter()
        .map(|i| {
            let m = meta(i);
            if m.namespace.is_empty() {
                m.name.clone()
            } else {
                format!("{}/{}", m.namespace, m.name)
            }
        })
        .collect()
}

fn node_names(s: &Snapshot) -> Vec<String> {
    names(&s.inventory.nodes, |n| &n.meta)
}

fn service_names(s: &Snapshot) -> Vec<String> {
    names(&s.inventory.services, |x| &x.meta)
}

fn pool_version(s: &Snapshot, name: &str) -> Option<String> {
    s.inventory
        .pools
        .iter()
        .find(|p| p.meta.name == name)
        .and_then(|p| p.meta.labels.get("served-as").cloned())
}

// ---------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_sync_yields_every_kind_and_never_a_partial_state() {
    let api = FakeApi::start().await;
    populate(&api);
    // One resource answers late: the eleven others are listed long before.
    api.delay_lists(POLICIES, Some(Duration::from_millis(700)));
    let h = Harness::start(api, Tuning::default()).await;

    // Watch every published snapshot, and poll meanwhile: none may carry
    // objects before every kind is listed.
    let mut rx = h.handle.snapshot.clone();
    let observer = tokio::spawn(async move {
        let mut seen = Vec::new();
        loop {
            let s = rx.borrow_and_update().clone();
            let done = s.synced;
            seen.push((s.generation, s.synced, s.inventory.len()));
            if done || rx.changed().await.is_err() {
                return seen;
            }
        }
    });
    let s = h
        .wait_for("the initial sync", Duration::from_secs(10), |s| {
            assert!(
                s.synced || s.inventory.is_empty(),
                "a partial inventory was published: {:?}",
                s.stats.objects
            );
            s.synced
        })
        .await;
    for (generation, synced, len) in observer.await.expect("observer") {
        assert!(
            synced || len == 0,
            "generation {generation}: {len} objects before the sync"
        );
    }

    assert!(
        s.source.starts_with(&format!("kubernetes:{}", h.api.url())),
        "{}",
        s.source
    );
    assert!(!s.stale);
    assert_eq!(s.error, None);
    assert!(s.last_sync.is_some());
    let count = |kind: &str| s.stats.objects.get(kind).copied().unwrap_or(0);
    assert_eq!(count("Service"), 3);
    assert_eq!(count("EndpointSlice"), 3);
    assert_eq!(count("Node"), 3);
    assert_eq!(count("CiliumLoadBalancerIPPool"), 2, "lb-pool counted once");
    assert_eq!(count("CiliumBGPPeeringPolicy"), 1);
    assert_eq!(count("CiliumBGPClusterConfig"), 1);
    assert_eq!(count("CiliumBGPPeerConfig"), 1);
    assert_eq!(count("CiliumBGPAdvertisement"), 1);
    assert_eq!(s.stats.unparsed, Vec::<String>::new());
    assert_eq!(s.stats.absent, Vec::<String>::new());
    assert_eq!(s.stats.relists, 0);

    // The content, read through bgp-intent's parser.
    let inv = &s.inventory;
    assert_eq!(
        service_names(&s),
        ["default/web", "ingress/traefik", "kube-system/kube-dns"]
    );
    let web = &inv.services[0];
    assert_eq!(web.type_, "LoadBalancer");
    assert_eq!(
        web.ingress_ips,
        ["172.29.52.10".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(web.requested_ips, web.ingress_ips);
    assert_eq!(web.ports[0].port, 80);
    let slice = inv
        .endpoint_slices
        .iter()
        .find(|e| e.meta.name == "traefik-b2m4q")
        .expect("slice");
    assert_eq!(slice.service_name.as_deref(), Some("traefik"));
    assert!(!slice.endpoints[0].ready);
    assert_eq!(slice.endpoints[0].node_name.as_deref(), Some("k8s-3"));
    assert_eq!(node_names(&s), ["k8s-1", "k8s-2", "k8s-3"]);
    assert_eq!(
        inv.nodes[0].addresses[0],
        ("InternalIP".to_owned(), "172.29.51.11".to_owned())
    );
    assert!(inv.nodes[0].ready);
    assert_eq!(
        pool_version(&s, "lb-pool").as_deref(),
        Some("v2"),
        "v2 wins"
    );
    assert_eq!(pool_version(&s, "legacy-pool").as_deref(), Some("v2alpha1"));
    let legacy = inv
        .pools
        .iter()
        .find(|p| p.meta.name == "legacy-pool")
        .unwrap();
    assert_eq!(legacy.spec.cidrs[0].cidr.as_deref(), Some("172.29.53.0/28"));
    let policy = &inv.peering_policies[0];
    assert_eq!(policy.spec.virtual_routers[0].local_asn, 64512);
    assert_eq!(
        policy.spec.virtual_routers[0].neighbors[0].peer_address,
        "172.29.51.1/32"
    );
    let cc = &inv.cluster_configs[0];
    assert_eq!(cc.spec.bgp_instances[0].peers[0].peer_asn, Some(64513));
    assert_eq!(inv.peer_configs[0].meta.name, "udm");
    assert_eq!(
        inv.advertisements[0].spec.advertisements[0].advertisement_type,
        "Service"
    );

    // Every resource was listed and is being watched.
    for path in [
        SERVICES,
        SLICES,
        NODES,
        POOLS_V2,
        POOLS_V2ALPHA1,
        POLICIES,
        CLUSTER_V2,
        CLUSTER_V2ALPHA1,
        PEER_V2,
        PEER_V2ALPHA1,
        ADVERT_V2,
        ADVERT_V2ALPHA1,
    ] {
        assert!(h.api.lists(path) >= 1, "{path} never listed");
        h.wait_for(
            &format!("a watch of {path}"),
            Duration::from_secs(5),
            |_| h.api.watches(path) >= 1,
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_events_are_reflected_within_moments() {
    let api = FakeApi::start().await;
    populate(&api);
    let h = Harness::start(api, Tuning::default()).await;
    let first = h.synced().await;
    for path in [SERVICES, NODES, POOLS_V2, ADVERT_V2ALPHA1, SLICES] {
        h.wait_for("the watches", Duration::from_secs(5), |_| {
            h.api.watches(path) >= 1
        })
        .await;
    }
    let mut latencies = Vec::new();
    let timeout = Duration::from_secs(3);

    // Added.
    let t = Instant::now();
    h.api
        .put(SERVICES, lb_service("media", "jellyfin", "172.29.52.30"));
    let s = h
        .wait_for("a new Service", timeout, |s| {
            service_names(s).contains(&"media/jellyfin".to_owned())
        })
        .await;
    latencies.push(t.elapsed());
    assert!(s.generation > first.generation);

    // Modified: a second block in the v2 pool.
    let t = Instant::now();
    let mut changed = pool("cilium.io/v2", "lb-pool", "172.29.52.0/24");
    changed["spec"]["blocks"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "start": "172.29.54.10", "stop": "172.29.54.20" }));
    h.api.put(POOLS_V2, changed);
    h.wait_for("the modified pool", timeout, |s| {
        s.inventory
            .pools
            .iter()
            .any(|p| p.meta.name == "lb-pool" && p.spec.blocks.len() == 2)
    })
    .await;
    latencies.push(t.elapsed());

    // Deleted.
    let t = Instant::now();
    h.api.delete(NODES, "", "k8s-3");
    h.wait_for("the node deleted", timeout, |s| {
        node_names(s) == ["k8s-1", "k8s-2"]
    })
    .await;
    latencies.push(t.elapsed());

    // An endpoint turning ready.
    let t = Instant::now();
    h.api.put(
        SLICES,
        endpoint_slice("ingress", "traefik-b2m4q", "traefik", "k8s-3", true),
    );
    h.wait_for("the endpoint ready", timeout, |s| {
        s.inventory
            .endpoint_slices
            .iter()
            .any(|e| e.meta.name == "traefik-b2m4q" && e.endpoints[0].ready)
    })
    .await;
    latencies.push(t.elapsed());

    // A second advertisement at v2alpha1 only.
    let t = Instant::now();
    h.api.put(
        ADVERT_V2ALPHA1,
        advertisement("cilium.io/v2alpha1", "pod-cidrs"),
    );
    h.wait_for("the advertisement", timeout, |s| {
        s.inventory.advertisements.len() == 2
    })
    .await;
    latencies.push(t.elapsed());
    eprintln!("watch event to snapshot: {latencies:?}");

    // A burst is coalesced: fifty Services, a handful of generations.
    let before = h.handle.current().generation;
    for i in 0..50 {
        h.api.put(
            SERVICES,
            lb_service("burst", &format!("svc-{i:02}"), &format!("172.29.55.{i}")),
        );
    }
    let s = h
        .wait_for("the burst", Duration::from_secs(5), |s| {
            s.inventory.services.len() == 4 + 50
        })
        .await;
    let generations = s.generation - before;
    eprintln!("50 events published in {generations} generation(s)");
    assert!(
        (1..=10).contains(&generations),
        "{generations} generations for one burst"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_relists_and_catches_what_was_missed() {
    let api = FakeApi::start().await;
    populate(&api);
    let h = Harness::start(api, Tuning::default()).await;
    let first = h.synced().await;
    for path in [SERVICES, NODES] {
        h.wait_for("the watches", Duration::from_secs(5), |_| {
            h.api.watches(path) >= 1
        })
        .await;
    }
    // A bookmark moves the watch on without any change.
    h.api.bookmark();
    let service_lists = h.api.lists(SERVICES);

    // Missed: no watch hears of these, and the events are compacted away.
    h.api.delete_unseen(NODES, "", "k8s-2");
    h.api.delete_unseen(SERVICES, "kube-system", "kube-dns");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let s = h.handle.current();
    assert_eq!(
        node_names(&s),
        ["k8s-1", "k8s-2", "k8s-3"],
        "nothing told yet"
    );

    h.api.expire_watches();
    let s = h
        .wait_for("the relist after 410", Duration::from_secs(10), |s| {
            node_names(s) == ["k8s-1", "k8s-3"]
                && !service_names(s).contains(&"kube-system/kube-dns".to_owned())
        })
        .await;
    assert!(h.api.lists(SERVICES) > service_lists, "services relisted");
    assert!(s.stats.relists >= 2, "relists: {}", s.stats.relists);
    assert!(s.synced && !s.stale);
    assert_eq!(s.error, None, "410 is the protocol, not an error");
    assert_eq!(s.inventory.pools.len(), first.inventory.pools.len());

    // The watch goes on after the relist.
    h.api.put(NODES, node("k8s-4", "172.29.51.14"));
    h.wait_for(
        "a node added after the relist",
        Duration::from_secs(5),
        |s| node_names(s) == ["k8s-1", "k8s-3", "k8s-4"],
    )
    .await;

    // The usual way to meet 410: a watch ends (its timeout), the events
    // since its version are compacted away, and watching again from that
    // version is answered with an ERROR event 410.
    let relists = h.handle.current().stats.relists;
    let watches = h.api.watches(NODES);
    h.api.delete_unseen(NODES, "", "k8s-1");
    h.api.end_watches();
    let s = h
        .wait_for(
            "the relist after a 410 on resuming",
            Duration::from_secs(10),
            |s| node_names(s) == ["k8s-3", "k8s-4"],
        )
        .await;
    assert!(h.api.watches(NODES) > watches, "watched again");
    assert!(s.stats.relists > relists);
    assert_eq!(s.error, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_keeps_the_state_marks_it_stale_and_recovers() {
    let api = FakeApi::start().await;
    populate(&api);
    let h = Harness::start(api, Tuning::default()).await;
    let before = h.synced().await;

    h.api.stop().await;
    let down = Instant::now();
    let s = h
        .wait_for("stale", Duration::from_secs(5), |s| s.stale)
        .await;
    let after = down.elapsed();
    eprintln!("stale {after:?} after the outage began (stale_after 1 s)");
    assert!(
        after >= Duration::from_millis(500),
        "stale too soon: {after:?}"
    );
    assert!(s.synced);
    assert_eq!(*s.inventory, *before.inventory, "the state is kept");
    assert!(s.error.is_some());

    // Changes while the API server is down reach the store, not us.
    h.api
        .put(SERVICES, lb_service("media", "jellyfin", "172.29.52.30"));
    h.api.delete(NODES, "", "k8s-3");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(*h.handle.current().inventory, *before.inventory);

    h.api.restart().await;
    let up = Instant::now();
    let s = h
        .wait_for("recovery", Duration::from_secs(15), |s| {
            !s.stale
                && s.error.is_none()
                && node_names(s) == ["k8s-1", "k8s-2"]
                && service_names(s).contains(&"media/jellyfin".to_owned())
        })
        .await;
    eprintln!("recovered {:?} after the restart", up.elapsed());
    assert!(s.synced);

    // And live again.
    h.api.delete(SERVICES, "media", "jellyfin");
    h.wait_for("a deletion after recovery", Duration::from_secs(5), |s| {
        !service_names(s).contains(&"media/jellyfin".to_owned())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_that_died_silently_are_replaced_on_recovery() {
    let api = FakeApi::start().await;
    populate(&api);
    let h = Harness::start(api, Tuning::default()).await;
    let before = h.synced().await;
    for path in [SERVICES, NODES] {
        h.wait_for("the watches", Duration::from_secs(5), |_| {
            h.api.watches(path) >= 1
        })
        .await;
    }

    // A partition: no answers, and the watch connections stay open but
    // will never carry another event.
    h.api.freeze();
    let s = h
        .wait_for("stale", Duration::from_secs(5), |s| s.stale)
        .await;
    assert_eq!(*s.inventory, *before.inventory);
    assert!(s.error.is_some());
    h.api
        .put(SERVICES, lb_service("media", "jellyfin", "172.29.52.30"));
    h.api.delete(NODES, "", "k8s-1");

    // Healed: the probe answers, and the watchers must not wait for their
    // dead connections' idle timeout (minutes) to see the changes.
    h.api.thaw();
    let up = Instant::now();
    h.wait_for(
        "the changes after the partition",
        Duration::from_secs(10),
        |s| {
            !s.stale
                && node_names(s) == ["k8s-2", "k8s-3"]
                && service_names(s).contains(&"media/jellyfin".to_owned())
        },
    )
    .await;
    eprintln!("caught up {:?} after the partition healed", up.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_that_does_not_read_is_skipped_and_the_rest_kept() {
    let api = FakeApi::start().await;
    populate(&api);
    api.put(POLICIES, peering_policy("broken", json!("sixty-four")));
    let h = Harness::start(api, Tuning::default()).await;
    let s = h.synced().await;
    assert_eq!(names(&s.inventory.peering_policies, |p| &p.meta), ["udm"]);
    assert_eq!(s.stats.unparsed.len(), 1, "{:?}", s.stats.unparsed);
    assert!(
        s.stats.unparsed[0].contains("broken") && s.stats.unparsed[0].contains("localASN"),
        "{}",
        s.stats.unparsed[0]
    );
    assert_eq!(s.stats.parse_errors, 1);
    assert_eq!(s.inventory.nodes.len(), 3);
    assert_eq!(s.inventory.services.len(), 3);
    assert_eq!(s.error, None, "one bad object is no source error");

    // A watched object turning unreadable is dropped and counted.
    let mut bad = node("k8s-1", "172.29.51.11");
    bad["status"]["addresses"] = json!("172.29.51.11");
    h.api.put(NODES, bad);
    let s = h
        .wait_for("the unreadable node", Duration::from_secs(3), |s| {
            node_names(s) == ["k8s-2", "k8s-3"]
        })
        .await;
    assert_eq!(s.stats.parse_errors, 2);
    assert_eq!(s.stats.unparsed.len(), 2);

    // Fixed, both come back.
    h.api.put(POLICIES, peering_policy("broken", json!(64512)));
    h.api.put(NODES, node("k8s-1", "172.29.51.11"));
    let s = h
        .wait_for("the fixed objects", Duration::from_secs(3), |s| {
            s.inventory.peering_policies.len() == 2 && s.inventory.nodes.len() == 3
        })
        .await;
    h.wait_for("no unparsed objects", Duration::from_secs(1), |s| {
        s.stats.unparsed.is_empty()
    })
    .await;
    assert_eq!(s.stats.parse_errors, 2, "counted once each");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cilium_version_not_served_leaves_the_others_alone() {
    let api = FakeApi::start().await;
    populate(&api);
    // Cilium 1.15: its CRDs serve v2alpha1 only.
    api.set_served("cilium.io/v2", false);
    let tuning = Tuning {
        absent_retry: Duration::from_millis(800),
        ..Tuning::default()
    };
    let h = Harness::start(api, tuning).await;
    let s = h.synced().await;
    assert_eq!(
        s.stats.absent,
        [
            "cilium.io/v2/ciliumloadbalancerippools",
            "cilium.io/v2/ciliumbgpclusterconfigs",
            "cilium.io/v2/ciliumbgppeerconfigs",
            "cilium.io/v2/ciliumbgpadvertisements",
        ]
    );
    assert_eq!(s.error, None);
    assert!(!s.stale);
    assert_eq!(s.inventory.nodes.len(), 3);
    assert_eq!(s.inventory.services.len(), 3);
    assert_eq!(s.inventory.peering_policies.len(), 1);
    assert_eq!(s.inventory.cluster_configs.len(), 1);
    assert_eq!(
        pool_version(&s, "lb-pool").as_deref(),
        Some("v2alpha1"),
        "read from the version served"
    );

    // Upgraded: v2 is served, and found on the next try.
    h.api.set_served("cilium.io/v2", true);
    let s = h
        .wait_for("v2 picked up", Duration::from_secs(10), |s| {
            s.stats.absent.is_empty() && pool_version(s, "lb-pool").as_deref() == Some("v2")
        })
        .await;
    assert_eq!(s.inventory.pools.len(), 2);

    // Downgraded (the CRD version removed): its objects go, the other
    // version's remain.
    h.api.set_served("cilium.io/v2", false);
    h.wait_for("v2 absent again", Duration::from_secs(10), |s| {
        s.stats.absent.len() == 4 && pool_version(s, "lb-pool").as_deref() == Some("v2alpha1")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_list_holds_the_sync_back_and_is_named() {
    let api = FakeApi::start().await;
    populate(&api);
    // RBAC without endpointslices.
    api.fail_lists(SLICES, Some(403));
    let h = Harness::start(api, Tuning::default()).await;
    let s = h
        .wait_for("the error", Duration::from_secs(5), |s| {
            s.error
                .as_deref()
                .is_some_and(|e| e.contains("discovery.k8s.io/v1/endpointslices"))
        })
        .await;
    assert!(!s.synced);
    assert!(s.inventory.is_empty());
    let s = h
        .wait_for("stale", Duration::from_secs(5), |s| s.stale)
        .await;
    assert!(!s.synced && s.inventory.is_empty());

    h.api.fail_lists(SLICES, None);
    let s = h
        .wait_for("the sync", Duration::from_secs(20), |s| {
            s.synced && !s.stale
        })
        .await;
    assert_eq!(s.error, None);
    assert_eq!(s.inventory.endpoint_slices.len(), 3);
}

#[tokio::test]
async fn kubeconfig_problems_are_errors_of_start() {
    let dir = temp_dir();
    let kubeconfig = write_kubeconfig(&dir, "http://127.0.0.1:1");
    let (_shutdown, rx) = watch::channel(false);
    let config = |kubeconfig: PathBuf, context: &str| InventoryConfig {
        source: InventorySource::Kubernetes {
            kubeconfig: Some(kubeconfig),
            context: Some(context.to_owned()),
        },
        stale_after: Duration::from_secs(1),
    };
    let e = inventory::start(&config(kubeconfig.clone(), "nope"), rx.clone())
        .await
        .expect_err("a context that does not exist");
    let text = e.to_string();
    assert!(text.contains("\"nope\""), "{text}");
    assert!(text.contains(&kubeconfig.display().to_string()), "{text}");

    // An https server: the TLS stack (rustls with ring) is set up at
    // start; nothing listens there, which the snapshot says.
    let tls = dir.join("tls-kubeconfig");
    std::fs::write(
        &tls,
        "apiVersion: v1
kind: Config
current-context: tls
clusters:
- name: tls
  cluster:
    server: https://127.0.0.1:1
    insecure-skip-tls-verify: true
contexts:
- name: tls
  context:
    cluster: tls
    user: tester
users:
- name: tester
  user:
    token: not-a-real-token
",
    )
    .unwrap();
    let (stop, stopped) = watch::channel(false);
    let handle = inventory::start(&config(tls, "tls"), stopped)
        .await
        .expect("an https client");
    assert_eq!(handle.current().source, "kubernetes:https://127.0.0.1:1/");
    let start = Instant::now();
    loop {
        let s = handle.current();
        if s.stale && s.error.is_some() {
            assert!(!s.synced && s.inventory.is_empty());
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "an unreachable server never made the snapshot stale: {:?}",
            s.error
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(true);

    let missing = dir.join("missing");
    let e = inventory::start(&config(missing.clone(), "fake"), rx)
        .await
        .expect_err("no kubeconfig file");
    let text = e.to_string();
    assert!(text.contains(&missing.display().to_string()), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
