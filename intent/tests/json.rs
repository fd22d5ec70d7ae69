//! `object_from_json` on objects as an API server sends them (fixtures
//! under `tests/fixtures/json/`), and the errors it gives for wrong fields.

use bgp_intent::objects::{EndpointSlice, LabelSelectorRequirement, Node, Service};
use bgp_intent::{object_from_json, Kind, Object};
use serde_json::{json, Value};
use std::net::IpAddr;
use std::path::Path;

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/json")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse(name: &str) -> Object {
    match object_from_json(fixture(name)) {
        Ok(Some(o)) => o,
        other => panic!("{name}: {other:?}"),
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn service_with_status() {
    let Object::Service(s) = parse("service.json") else {
        panic!("not a Service")
    };
    assert_eq!(s.meta.name, "longhorn-frontend");
    assert_eq!(s.meta.namespace, "longhorn-system");
    assert_eq!(s.meta.labels["lb.home.arpa/pool"], "bgp-default");
    assert_eq!(s.type_, "LoadBalancer");
    assert!(s.external_traffic_local);
    assert_eq!(s.load_balancer_class, None);
    assert_eq!(s.ip_families, ["IPv4", "IPv6"]);
    assert_eq!(s.ip_family_policy.as_deref(), Some("PreferDualStack"));
    assert_eq!(
        s.cluster_ips,
        [ip("10.43.118.204"), ip("fd47:25e1:2f96:43::8c1e")]
    );
    assert_eq!(
        s.requested_ips,
        [ip("172.29.52.100"), ip("fd47:25e1:2f96:51:100::10")]
    );
    assert_eq!(
        s.ingress_ips,
        [ip("172.29.52.100"), ip("fd47:25e1:2f96:51:100::10")]
    );
    assert_eq!(s.ports.len(), 1);
    assert_eq!(s.ports[0].name.as_deref(), Some("http"));
    assert_eq!((s.ports[0].protocol.as_str(), s.ports[0].port), ("TCP", 80));
    assert_eq!(s.meta.origin, Default::default());
}

#[test]
fn typed_conversion_matches_json() {
    // The watcher holds k8s-openapi values; both routes give one value.
    type Convert = fn(Value) -> Object;
    let cases: [(&str, Convert); 3] = [
        ("service.json", |v| {
            Object::Service(Service::from_k8s(&serde_json::from_value(v).unwrap()))
        }),
        ("endpointslice.json", |v| {
            Object::EndpointSlice(EndpointSlice::from_k8s(&serde_json::from_value(v).unwrap()))
        }),
        ("node.json", |v| {
            Object::Node(Node::from_k8s(&serde_json::from_value(v).unwrap()))
        }),
    ];
    for (name, typed) in cases {
        assert_eq!(typed(fixture(name)), parse(name), "{name}");
    }
}

#[test]
fn endpoint_slice() {
    let Object::EndpointSlice(s) = parse("endpointslice.json") else {
        panic!("not an EndpointSlice")
    };
    assert_eq!(s.meta.namespace, "longhorn-system");
    assert_eq!(s.service_name.as_deref(), Some("longhorn-frontend"));
    let got: Vec<_> = s
        .endpoints
        .iter()
        .map(|e| (e.addresses[0].as_str(), e.ready, e.node_name.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("10.42.0.37", true, Some("mini-1")),
            ("10.42.2.41", false, Some("mini-3")),
            // No `ready` condition: ready.
            ("10.42.1.12", true, Some("mini-2")),
        ]
    );
}

#[test]
fn node_with_conditions() {
    let Object::Node(n) = parse("node.json") else {
        panic!("not a Node")
    };
    assert_eq!(n.meta.name, "mini-2");
    assert_eq!(n.meta.namespace, "");
    assert!(n.ready);
    assert_eq!(
        n.addresses,
        [
            ("InternalIP".to_owned(), "172.29.51.12".to_owned()),
            ("InternalIP".to_owned(), "fd47:25e1:2f96:51::12".to_owned()),
            ("Hostname".to_owned(), "mini-2".to_owned()),
        ]
    );
    // spec.podCIDRs wins over spec.podCIDR.
    let cidrs: Vec<String> = n.pod_cidrs.iter().map(|c| c.to_string()).collect();
    assert_eq!(cidrs, ["10.42.1.0/24", "fd47:25e1:2f96:42:1::/80"]);
    assert_eq!(n.meta.labels["node-role.kubernetes.io/control-plane"], "");
}

#[test]
fn node_not_ready_when_condition_is_unknown() {
    let mut v = fixture("node.json");
    v["status"]["conditions"][3]["status"] = json!("Unknown");
    let Some(Object::Node(n)) = object_from_json(v).unwrap() else {
        panic!("not a Node")
    };
    assert!(!n.ready);
}

#[test]
fn pool_v2alpha1_with_cidrs() {
    let Object::IpPool(p) = parse("pool-v2alpha1.json") else {
        panic!("not a pool")
    };
    assert_eq!(p.meta.name, "legacy-cidrs");
    assert!(p.spec.blocks.is_empty());
    let cidrs: Vec<_> = p.spec.cidrs.iter().map(|b| b.cidr.as_deref()).collect();
    assert_eq!(
        cidrs,
        [Some("172.29.53.0/28"), Some("fd47:25e1:2f96:53::/124")]
    );
    assert_eq!(p.spec.service_selector, None);
    assert_eq!(p.spec.allow_first_last_i_ps.as_deref(), Some("No"));
    assert!(!p.spec.disabled);
}

#[test]
fn pool_v2_with_blocks() {
    let Object::IpPool(p) = parse("pool-v2.json") else {
        panic!("not a pool")
    };
    assert_eq!(p.spec.blocks.len(), 1);
    assert_eq!(p.spec.blocks[0].start.as_deref(), Some("172.29.52.200"));
    assert_eq!(p.spec.blocks[0].stop.as_deref(), Some("172.29.52.220"));
    assert_eq!(p.spec.blocks[0].cidr, None);
    let selector = p.spec.service_selector.expect("serviceSelector");
    assert_eq!(selector.match_labels, None);
    assert_eq!(
        selector.match_expressions,
        Some(vec![LabelSelectorRequirement {
            key: "lb.home.arpa/pool".to_owned(),
            operator: "In".to_owned(),
            values: Some(vec!["bgp-ingress".to_owned()]),
        }])
    );
}

#[test]
fn peering_policy() {
    let Object::PeeringPolicy(p) = parse("peering-policy.json") else {
        panic!("not a policy")
    };
    let selector = p.spec.node_selector.expect("nodeSelector");
    assert_eq!(selector.match_labels.unwrap()["kubernetes.io/os"], "linux");
    assert_eq!(p.spec.virtual_routers.len(), 1);
    let vr = &p.spec.virtual_routers[0];
    assert_eq!(vr.local_asn, 64512);
    assert_eq!(vr.export_pod_cidr, Some(false));
    assert_eq!(
        vr.service_advertisements,
        Some(vec!["LoadBalancerIP".to_owned()])
    );
    let labels = vr
        .service_selector
        .as_ref()
        .unwrap()
        .match_labels
        .as_ref()
        .unwrap();
    assert_eq!(labels["lb.home.arpa/pool"], "bgp-default");
    let n = &vr.neighbors[0];
    assert_eq!(n.peer_address, "172.29.51.1/32");
    assert_eq!(n.peer_asn, 64513);
    assert_eq!(n.peer_port, Some(179));
    assert_eq!(n.ebgp_multihop_ttl, Some(1));
    assert_eq!(n.hold_time_seconds, Some(90));
    assert_eq!(n.keep_alive_time_seconds, Some(30));
    let gr = n.graceful_restart.as_ref().unwrap();
    assert!(gr.enabled);
    assert_eq!(gr.restart_time_seconds, Some(120));
    let families = n.families.as_ref().unwrap();
    assert_eq!(
        (families[0].afi.as_str(), families[0].safi.as_str()),
        ("ipv4", "unicast")
    );
}

#[test]
fn cluster_config_v2() {
    let Object::ClusterConfig(c) = parse("cluster-config-v2.json") else {
        panic!("not a cluster config")
    };
    assert_eq!(c.meta.name, "cilium-bgp");
    let instance = &c.spec.bgp_instances[0];
    assert_eq!(instance.name, "instance-64512");
    assert_eq!(instance.local_asn, Some(64512));
    let peer = &instance.peers[0];
    assert_eq!(peer.name, "udm-pro");
    assert_eq!(peer.peer_address.as_deref(), Some("172.29.51.1"));
    assert_eq!(peer.peer_asn, Some(64513));
    assert_eq!(peer.peer_config_ref.as_ref().unwrap().name, "cilium-peer");
}

#[test]
fn peer_config_v2() {
    let Object::PeerConfig(c) = parse("peer-config-v2.json") else {
        panic!("not a peer config")
    };
    assert_eq!(c.spec.transport.as_ref().unwrap().peer_port, Some(179));
    assert_eq!(
        c.spec
            .graceful_restart
            .as_ref()
            .unwrap()
            .restart_time_seconds,
        Some(15)
    );
    let families = c.spec.families.as_ref().unwrap();
    assert_eq!(families.len(), 2);
    assert_eq!(families[1].afi, "ipv6");
    let adverts = families[0].advertisements.as_ref().unwrap();
    assert_eq!(adverts.match_labels.as_ref().unwrap()["advertise"], "bgp");
}

#[test]
fn advertisement_v2() {
    let Object::Advertisement(a) = parse("advertisement-v2.json") else {
        panic!("not an advertisement")
    };
    assert_eq!(a.meta.labels["advertise"], "bgp");
    let ads = &a.spec.advertisements;
    assert_eq!(ads.len(), 2);
    assert_eq!(ads[0].advertisement_type, "Service");
    assert_eq!(
        ads[0].service.as_ref().unwrap().addresses,
        ["LoadBalancerIP"]
    );
    let expr = &ads[0]
        .selector
        .as_ref()
        .unwrap()
        .match_expressions
        .as_ref()
        .unwrap()[0];
    assert_eq!(
        (expr.key.as_str(), expr.operator.as_str()),
        ("lb.home.arpa/pool", "Exists")
    );
    assert_eq!(ads[1].advertisement_type, "PodCIDR");
    assert_eq!(ads[1].selector, None);
}

#[test]
fn kinds_of_fixtures() {
    let want = [
        ("service.json", Kind::Service),
        ("endpointslice.json", Kind::EndpointSlice),
        ("node.json", Kind::Node),
        ("pool-v2alpha1.json", Kind::IpPool),
        ("pool-v2.json", Kind::IpPool),
        ("peering-policy.json", Kind::PeeringPolicy),
        ("cluster-config-v2.json", Kind::ClusterConfig),
        ("peer-config-v2.json", Kind::PeerConfig),
        ("advertisement-v2.json", Kind::Advertisement),
    ];
    for (name, kind) in want {
        assert_eq!(parse(name).kind(), kind, "{name}");
    }
}

/// The error for `fixture` with the value at `pointer` replaced.
fn error_with(name: &str, pointer: &str, value: Value) -> String {
    let mut v = fixture(name);
    *v.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer}")) = value;
    object_from_json(v).unwrap_err().to_string()
}

#[test]
fn errors_name_the_field_path() {
    assert_eq!(
        error_with(
            "peering-policy.json",
            "/spec/virtualRouters/0/localASN",
            json!("x")
        ),
        "CiliumBGPPeeringPolicy bgp-peering: spec.virtualRouters[0].localASN: \
         invalid type: string \"x\", expected i64"
    );
    assert_eq!(
        error_with(
            "peering-policy.json",
            "/spec/virtualRouters/0/neighbors/0/peerPort",
            json!(70000)
        ),
        "CiliumBGPPeeringPolicy bgp-peering: spec.virtualRouters[0].neighbors[0].peerPort: \
         invalid value: integer `70000`, expected u16"
    );
    assert_eq!(
        error_with("pool-v2.json", "/spec/blocks/0/start", json!(1)),
        "CiliumLoadBalancerIPPool bgp-ingress: spec.blocks[0].start: \
         invalid type: integer `1`, expected a string"
    );
    assert_eq!(
        error_with("node.json", "/status/conditions/3/status", json!(true)),
        "Node mini-2: status.conditions[3].status: invalid type: boolean `true`, expected a string"
    );
    assert_eq!(
        error_with("service.json", "/spec/ports/0/port", json!("http")),
        "Service longhorn-system/longhorn-frontend: spec.ports[0].port: \
         invalid type: string \"http\", expected i32"
    );
    assert_eq!(
        error_with(
            "endpointslice.json",
            "/endpoints/1/addresses",
            json!("10.42.2.41")
        ),
        "EndpointSlice longhorn-system/longhorn-frontend-7xk2p: endpoints[1].addresses: \
         invalid type: string \"10.42.2.41\", expected a sequence"
    );
    assert_eq!(
        error_with(
            "cluster-config-v2.json",
            "/spec/bgpInstances/0/peers/0",
            json!({})
        ),
        "CiliumBGPClusterConfig cilium-bgp: spec.bgpInstances[0].peers[0]: missing field `name`"
    );
}

#[test]
fn other_kinds_and_versions_are_not_read() {
    let mut v = fixture("peering-policy.json");
    v["apiVersion"] = json!("cilium.io/v2");
    assert_eq!(object_from_json(v), Ok(None));
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "x", "namespace": "y"}, "spec": {"replicas": "many"}});
    assert_eq!(object_from_json(deployment), Ok(None));
}
