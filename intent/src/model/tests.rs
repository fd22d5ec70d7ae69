//! Unit tests of the model: one or more per Cilium rule the model follows,
//! on inventories built as Rust values.

use super::selector::{self, Labels};
use super::*;
use crate::expected::PrefixKind;
use crate::objects::*;
use ipnet::IpNet;
use std::net::IpAddr;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn meta(name: &str, namespace: &str, pairs: &[(&str, &str)]) -> Meta {
    Meta {
        name: name.to_string(),
        namespace: namespace.to_string(),
        labels: labels(pairs),
        ..Meta::default()
    }
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn net(text: &str) -> IpNet {
    text.parse().unwrap()
}

fn sel(pairs: &[(&str, &str)]) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels(pairs)),
        match_expressions: None,
    }
}

fn expr(key: &str, operator: &str, values: &[&str]) -> LabelSelector {
    LabelSelector {
        match_labels: None,
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: key.to_string(),
            operator: operator.to_string(),
            values: if values.is_empty() {
                None
            } else {
                Some(values.iter().map(|v| v.to_string()).collect())
            },
        }]),
    }
}

fn node(name: &str, address: &str, pairs: &[(&str, &str)]) -> Node {
    Node {
        meta: meta(name, "", pairs),
        addresses: vec![("InternalIP".to_string(), address.to_string())],
        ready: true,
        pod_cidrs: Vec::new(),
    }
}

fn lb(namespace: &str, name: &str, pairs: &[(&str, &str)], ips: &[&str]) -> Service {
    Service {
        meta: meta(name, namespace, pairs),
        type_: "LoadBalancer".to_string(),
        ingress_ips: ips.iter().map(|i| ip(i)).collect(),
        ..Service::default()
    }
}

fn block(start: &str, stop: &str) -> IpPoolBlock {
    IpPoolBlock {
        cidr: None,
        start: Some(start.to_string()),
        stop: Some(stop.to_string()),
    }
}

fn cidr(text: &str) -> IpPoolBlock {
    IpPoolBlock {
        cidr: Some(text.to_string()),
        ..IpPoolBlock::default()
    }
}

fn pool(name: &str, blocks: Vec<IpPoolBlock>, selector: Option<LabelSelector>) -> IpPool {
    IpPool {
        meta: meta(name, "", &[]),
        spec: IpPoolSpec {
            blocks,
            service_selector: selector,
            ..IpPoolSpec::default()
        },
    }
}

fn neighbor(address: &str, asn: i64) -> Neighbor {
    Neighbor {
        peer_address: address.to_string(),
        peer_asn: asn,
        ..Neighbor::default()
    }
}

fn vr(asn: i64, selector: Option<LabelSelector>, neighbors: Vec<Neighbor>) -> VirtualRouter {
    VirtualRouter {
        local_asn: asn,
        service_selector: selector,
        neighbors,
        ..VirtualRouter::default()
    }
}

fn policy(
    name: &str,
    node_selector: Option<LabelSelector>,
    vrs: Vec<VirtualRouter>,
) -> PeeringPolicy {
    PeeringPolicy {
        meta: meta(name, "", &[]),
        spec: PeeringPolicySpec {
            node_selector,
            virtual_routers: vrs,
        },
    }
}

/// Two nodes, one pool for everything, one Service at 10.0.0.10, and one
/// policy with one virtual router whose selector is `selector`.
fn small(selector: Option<LabelSelector>) -> Inventory {
    Inventory {
        nodes: vec![node("n1", "192.0.2.1", &[]), node("n2", "192.0.2.2", &[])],
        pools: vec![pool("all", vec![block("10.0.0.10", "10.0.0.20")], None)],
        services: vec![lb("web", "front", &[("app", "front")], &["10.0.0.10"])],
        peering_policies: vec![policy(
            "bgp",
            None,
            vec![vr(64512, selector, vec![neighbor("192.0.2.254/32", 64513)])],
        )],
        ..Inventory::default()
    }
}

fn service<'a>(e: &'a Expected, key: &str) -> &'a ServiceIntent {
    e.services
        .iter()
        .find(|s| format!("{}/{}", s.namespace, s.name) == key)
        .unwrap_or_else(|| panic!("no service {key}"))
}

fn node_intent<'a>(e: &'a Expected, name: &str) -> &'a NodeIntent {
    e.nodes.iter().find(|n| n.name == name).unwrap()
}

fn codes(reasons: &[Reason]) -> Vec<&str> {
    reasons.iter().map(|r| r.code.as_str()).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ---- selectors ------------------------------------------------------------

#[test]
fn selector_operators_follow_kubernetes() {
    let l = labels(&[("tier", "web"), ("env", "prod")]);
    assert!(selector::matches(&sel(&[("tier", "web")]), &l));
    assert!(!selector::matches(&sel(&[("tier", "db")]), &l));
    assert!(!selector::matches(
        &sel(&[("tier", "web"), ("env", "dev")]),
        &l
    ));
    assert!(selector::matches(&expr("env", "In", &["prod", "dev"]), &l));
    assert!(!selector::matches(&expr("env", "In", &["dev"]), &l));
    assert!(!selector::matches(&expr("missing", "In", &["x"]), &l));
    assert!(selector::matches(&expr("env", "NotIn", &["dev"]), &l));
    assert!(!selector::matches(&expr("env", "NotIn", &["prod"]), &l));
    // NotIn and DoesNotExist hold for objects without the key.
    assert!(selector::matches(
        &expr("somekey", "NotIn", &["never-used-value"]),
        &l
    ));
    assert!(selector::matches(&expr("somekey", "DoesNotExist", &[]), &l));
    assert!(!selector::matches(&expr("env", "DoesNotExist", &[]), &l));
    assert!(selector::matches(&expr("env", "Exists", &[]), &l));
    assert!(!selector::matches(&expr("somekey", "Exists", &[]), &l));
    // matchLabels and matchExpressions must both hold.
    let both = LabelSelector {
        match_labels: Some(labels(&[("tier", "web")])),
        match_expressions: expr("env", "In", &["dev"]).match_expressions,
    };
    assert!(!selector::matches(&both, &l));
}

#[test]
fn invalid_selectors_select_nothing() {
    let l = labels(&[("env", "prod")]);
    for bad in [
        expr("env", "Equals", &["prod"]),
        expr("env", "In", &[]),
        expr("env", "Exists", &["prod"]),
    ] {
        assert!(selector::invalid(&bad).is_some(), "{bad:?}");
        assert!(!selector::matches(&bad, &l), "{bad:?}");
    }
}

#[test]
fn empty_selector_selects_everything_and_services_carry_cilium_labels() {
    assert!(selector::matches(&LabelSelector::default(), &Labels::new()));
    let svc = lb(
        "longhorn-system",
        "longhorn-frontend",
        &[("app", "lh")],
        &[],
    );
    let l = selector::service_labels(&svc);
    assert!(selector::matches(
        &sel(&[("io.kubernetes.service.namespace", "longhorn-system")]),
        &l
    ));
    assert!(selector::matches(
        &sel(&[("io.kubernetes.service.name", "longhorn-frontend")]),
        &l
    ));
    assert_eq!(selector::describe_labels(&l), "labels app=lh");
    assert_eq!(selector::describe(&LabelSelector::default()), "{}");
    let mixed = LabelSelector {
        match_labels: Some(labels(&[("pool", "bgp-default")])),
        match_expressions: expr("app", "NotIn", &["a", "b"]).match_expressions,
    };
    assert_eq!(
        selector::describe(&mixed),
        "app notin (a,b), pool=bgp-default"
    );
}

// ---- node selection ---------------------------------------------------------

#[test]
fn nil_node_selector_selects_every_node_and_neighbors_get_defaults() {
    let e = expect(&small(Some(LabelSelector::default())));
    for n in &e.nodes {
        assert_eq!(n.policy.as_deref(), Some("bgp"));
        assert!(n.no_bgp.is_none());
        assert_eq!(n.neighbors.len(), 1);
        let nb = &n.neighbors[0];
        assert_eq!(nb.router, "64512");
        assert_eq!(nb.local_asn, 64512);
        assert_eq!(nb.address, ip("192.0.2.254"));
        assert_eq!(nb.asn, 64513);
        assert_eq!(nb.port, Some(179));
        assert_eq!(nb.families, vec!["ipv4-unicast", "ipv6-unicast"]);
    }
}

#[test]
fn node_selector_picks_nodes_by_label() {
    let mut inv = small(Some(LabelSelector::default()));
    inv.nodes[0].meta.labels = labels(&[("bgp", "on")]);
    inv.peering_policies[0].spec.node_selector = Some(sel(&[("bgp", "on")]));
    let e = expect(&inv);
    assert_eq!(node_intent(&e, "n1").policy.as_deref(), Some("bgp"));
    let n2 = node_intent(&e, "n2");
    assert_eq!(n2.policy, None);
    let why = n2.no_bgp.as_ref().unwrap();
    assert_eq!(why.code, "no-policy-selects-node");
    assert!(why.message.contains("bgp=on"), "{}", why.message);
    assert_eq!(service(&e, "web/front").advertised_by, set(&["n1"]));
}

#[test]
fn node_selected_by_two_policies_gets_none() {
    let mut inv = small(Some(LabelSelector::default()));
    for n in &mut inv.nodes {
        let name = n.meta.name.clone();
        n.meta
            .labels
            .insert("kubernetes.io/hostname".to_string(), name);
    }
    inv.peering_policies.push(policy(
        "other",
        Some(expr("kubernetes.io/hostname", "NotIn", &["n2"])),
        vec![vr(64600, None, vec![neighbor("192.0.2.253/32", 64513)])],
    ));
    let e = expect(&inv);
    let n1 = node_intent(&e, "n1");
    assert_eq!(n1.policy, None);
    assert!(n1.neighbors.is_empty());
    let why = n1.no_bgp.as_ref().unwrap();
    assert_eq!(why.code, "several-policies-select-node");
    assert!(why.message.contains("bgp and other"), "{}", why.message);
    assert_eq!(node_intent(&e, "n2").policy.as_deref(), Some("bgp"));
    assert!(codes(&e.diagnostics).contains(&"several-policies-select-node"));
    assert_eq!(service(&e, "web/front").advertised_by, set(&["n2"]));
}

#[test]
fn peering_policy_wins_over_cluster_config() {
    let mut inv = small(Some(LabelSelector::default()));
    inv.cluster_configs
        .push(cluster_config("v2", "192.0.2.250", Some("peer")));
    inv.peer_configs
        .push(peer_config("peer", Some(sel(&[("adv", "lb")]))));
    inv.advertisements
        .push(service_advert("lb", Some(LabelSelector::default())));
    let e = expect(&inv);
    assert_eq!(node_intent(&e, "n1").policy.as_deref(), Some("bgp"));
    assert!(node_intent(&e, "n1")
        .neighbors
        .iter()
        .all(|n| n.address == ip("192.0.2.254")));
    assert!(codes(&e.diagnostics).contains(&"bgp-v1-and-v2-select-node"));
}

#[test]
fn no_policy_at_all_means_no_bgp_node() {
    let mut inv = small(None);
    inv.peering_policies.clear();
    let e = expect(&inv);
    assert!(e
        .nodes
        .iter()
        .all(|n| n.no_bgp.as_ref().unwrap().code == "no-policy-selects-node"));
    let s = service(&e, "web/front");
    assert_eq!(codes(&s.not_advertised), vec!["no-bgp-node"]);
    assert!(e.prefixes.is_empty());
    assert!(e.pools[0].expected.is_empty());
    assert_eq!(e.pools[0].in_use, [ip("10.0.0.10")].into());
}

// ---- legacy service advertisement --------------------------------------------

#[test]
fn unset_service_selector_advertises_nothing() {
    let e = expect(&small(None));
    let s = service(&e, "web/front");
    assert!(s.advertised_by.is_empty());
    assert_eq!(codes(&s.not_advertised), vec!["service-selector-unset"]);
    assert_eq!(
        s.not_advertised[0].message,
        "On nodes n1 and n2, virtual router 64512 of CiliumBGPPeeringPolicy bgp has no serviceSelector, so it advertises no Service."
    );
    assert!(e.prefixes.is_empty());
}

#[test]
fn empty_service_selector_advertises_everything() {
    let e = expect(&small(Some(LabelSelector::default())));
    let s = service(&e, "web/front");
    assert_eq!(s.advertised_by, set(&["n1", "n2"]));
    assert!(s.not_advertised.is_empty());
    let p = &e.prefixes[&net("10.0.0.10/32")];
    assert_eq!(p.kind, PrefixKind::LoadBalancerIp);
    assert_eq!(p.service.as_deref(), Some("web/front"));
    assert_eq!(p.pool.as_deref(), Some("all"));
    assert_eq!(p.nodes, set(&["n1", "n2"]));
    assert_eq!(p.next_hops, [ip("192.0.2.1"), ip("192.0.2.2")].into());
    for n in &e.nodes {
        assert_eq!(n.neighbors[0].prefixes, [net("10.0.0.10/32")].into());
    }
    assert_eq!(e.pools[0].expected, [ip("10.0.0.10")].into());
}

#[test]
fn not_in_trick_selects_every_service() {
    let e = expect(&small(Some(expr(
        "somekey",
        "NotIn",
        &["never-used-value"],
    ))));
    assert_eq!(service(&e, "web/front").advertised_by, set(&["n1", "n2"]));
}

#[test]
fn selector_mismatch_names_selector_and_labels() {
    let e = expect(&small(Some(sel(&[("app", "other")]))));
    let s = service(&e, "web/front");
    assert_eq!(codes(&s.not_advertised), vec!["service-selector-no-match"]);
    let m = &s.not_advertised[0].message;
    assert!(
        m.contains("virtual router 64512 of CiliumBGPPeeringPolicy bgp"),
        "{m}"
    );
    assert!(m.contains("app=other"), "{m}");
    assert!(m.contains("labels app=front"), "{m}");
}

#[test]
fn service_advertisements_decide_address_kinds() {
    let mut inv = small(Some(LabelSelector::default()));
    inv.peering_policies[0].spec.virtual_routers[0].service_advertisements =
        Some(vec!["ClusterIP".to_string(), "ExternalIP".to_string()]);
    inv.services[0].cluster_ips = vec![ip("10.96.0.5")];
    inv.services[0].external_ips = vec![ip("198.51.100.7")];
    let e = expect(&inv);
    let s = service(&e, "web/front");
    assert!(s.advertised_by.is_empty());
    assert_eq!(
        codes(&s.not_advertised),
        vec!["service-advertisements-exclude-lb"]
    );
    assert_eq!(e.prefixes[&net("10.96.0.5/32")].kind, PrefixKind::ClusterIp);
    assert_eq!(
        e.prefixes[&net("198.51.100.7/32")].kind,
        PrefixKind::ExternalIp
    );
    assert!(!e.prefixes.contains_key(&net("10.0.0.10/32")));

    // An explicit empty list is not the default.
    inv.peering_policies[0].spec.virtual_routers[0].service_advertisements = Some(Vec::new());
    let e = expect(&inv);
    assert!(e.prefixes.is_empty());
}

#[test]
fn external_traffic_local_needs_a_ready_endpoint_on_the_node() {
    let mut inv = small(Some(LabelSelector::default()));
    inv.services[0].external_traffic_local = true;
    inv.endpoint_slices.push(EndpointSlice {
        meta: meta("front-abc", "web", &[]),
        service_name: Some("front".to_string()),
        endpoints: vec![
            Endpoint {
                addresses: vec!["10.244.1.5".to_string()],
                ready: true,
                node_name: Some("n1".to_string()),
            },
            Endpoint {
                addresses: vec!["10.244.2.5".to_string()],
                ready: false,
                node_name: Some("n2".to_string()),
            },
        ],
    });
    // A slice of a same-named Service in another namespace does not count.
    inv.endpoint_slices.push(EndpointSlice {
        meta: meta("front-xyz", "other", &[]),
        service_name: Some("front".to_string()),
        endpoints: vec![Endpoint {
            addresses: vec!["10.244.2.6".to_string()],
            ready: true,
            node_name: Some("n2".to_string()),
        }],
    });
    let e = expect(&inv);
    let s = service(&e, "web/front");
    assert_eq!(s.advertised_by, set(&["n1"]));
    assert_eq!(codes(&s.not_advertised), vec!["no-ready-local-endpoint"]);
    let m = &s.not_advertised[0].message;
    assert!(m.starts_with("On node n2,"), "{m}");
    assert!(m.contains("its ready endpoints run on n1"), "{m}");
    assert_eq!(
        e.prefixes[&net("10.0.0.10/32")].next_hops,
        [ip("192.0.2.1")].into()
    );
}

#[test]
fn other_load_balancer_class_is_never_advertised() {
    let mut inv = small(Some(LabelSelector::default()));
    inv.services[0].load_balancer_class = Some("io.cilium/l2-announcer".to_string());
    let e = expect(&inv);
    let s = service(&e, "web/front");
    assert!(s.advertised_by.is_empty());
    assert_eq!(codes(&s.not_advertised), vec!["load-balancer-class-other"]);
    assert!(s.no_ip.is_none());

    inv.services[0].load_balancer_class = Some("io.cilium/bgp-control-plane".to_string());
    assert_eq!(
        service(&expect(&inv), "web/front").advertised_by,
        set(&["n1", "n2"])
    );

    inv.services[0].load_balancer_class = Some("example.com/metal".to_string());
    inv.services[0].ingress_ips.clear();
    let e = expect(&inv);
    let s = service(&e, "web/front");
    assert_eq!(s.no_ip.as_ref().unwrap().code, "load-balancer-class-other");
}

#[test]
fn export_pod_cidr_advertises_the_nodes_pod_cidrs() {
    let mut inv = small(None);
    inv.peering_policies[0].spec.virtual_routers[0].export_pod_cidr = Some(true);
    inv.nodes[0].pod_cidrs = vec![net("10.244.1.0/24"), net("fd00:10:244:1::/64")];
    inv.nodes[1].pod_cidrs = vec![net("10.244.2.0/24")];
    let e = expect(&inv);
    let p = &e.prefixes[&net("10.244.1.0/24")];
    assert_eq!(p.kind, PrefixKind::PodCidr);
    assert_eq!(p.service, None);
    assert_eq!(p.nodes, set(&["n1"]));
    assert_eq!(e.prefixes[&net("fd00:10:244:1::/64")].nodes, set(&["n1"]));
    assert_eq!(
        e.prefixes[&net("10.244.2.0/24")].next_hops,
        [ip("192.0.2.2")].into()
    );
    assert_eq!(
        node_intent(&e, "n2").neighbors[0].prefixes,
        [net("10.244.2.0/24")].into()
    );
}

#[test]
fn prefixes_go_only_to_neighbors_with_their_family() {
    let mut inv = small(Some(LabelSelector::default()));
    inv.pools[0].spec.blocks.push(cidr("fd00:5::/120"));
    inv.services[0].ingress_ips.push(ip("fd00:5::10"));
    let mut v4_only = neighbor("192.0.2.254/32", 64513);
    v4_only.families = Some(vec![Family {
        afi: "ipv4".to_string(),
        safi: "unicast".to_string(),
    }]);
    let mut v6_only = neighbor("fd00:1::1/128", 64513);
    v6_only.families = Some(vec![Family {
        afi: "ipv6".to_string(),
        safi: "unicast".to_string(),
    }]);
    inv.peering_policies[0].spec.virtual_routers[0].neighbors = vec![v4_only, v6_only];
    let e = expect(&inv);
    let n1 = node_intent(&e, "n1");
    let v4 = n1
        .neighbors
        .iter()
        .find(|n| n.address == ip("192.0.2.254"))
        .unwrap();
    let v6 = n1
        .neighbors
        .iter()
        .find(|n| n.address == ip("fd00:1::1"))
        .unwrap();
    assert_eq!(v4.prefixes, [net("10.0.0.10/32")].into());
    assert_eq!(v6.prefixes, [net("fd00:5::10/128")].into());
    assert_eq!(v4.families, vec!["ipv4-unicast"]);
    // The IPv6 next hop falls back to the node's only (IPv4) address.
    assert_eq!(
        e.prefixes[&net("fd00:5::10/128")].next_hops,
        [ip("192.0.2.1"), ip("192.0.2.2")].into()
    );

    // Without the IPv6 neighbor, the IPv6 address is not negotiated anywhere.
    inv.peering_policies[0].spec.virtual_routers[0]
        .neighbors
        .pop();
    let e = expect(&inv);
    let s = service(&e, "web/front");
    assert_eq!(s.advertised_by, set(&["n1", "n2"]));
    assert_eq!(codes(&s.not_advertised), vec!["family-not-negotiated"]);
    assert!(s.not_advertised[0].message.contains("fd00:5::10"));
    assert!(!e.prefixes.contains_key(&net("fd00:5::10/128")));
}

#[test]
fn next_hop_prefers_internal_ip_of_the_family() {
    let mut inv = small(Some(LabelSelector::default()));
    inv.nodes[0].addresses = vec![
        ("ExternalIP".to_string(), "203.0.113.1".to_string()),
        ("Hostname".to_string(), "n1".to_string()),
        ("InternalIP".to_string(), "fd00::1".to_string()),
        ("InternalIP".to_string(), "192.0.2.1".to_string()),
    ];
    let e = expect(&inv);
    assert_eq!(
        node_intent(&e, "n1").addresses,
        vec![ip("fd00::1"), ip("192.0.2.1"), ip("203.0.113.1")]
    );
    assert!(e.prefixes[&net("10.0.0.10/32")]
        .next_hops
        .contains(&ip("192.0.2.1")));
    assert!(!e.prefixes[&net("10.0.0.10/32")]
        .next_hops
        .contains(&ip("fd00::1")));
}

#[test]
fn duplicate_local_asn_stops_at_the_duplicate() {
    let mut inv = small(Some(LabelSelector::default()));
    let vrs = &mut inv.peering_policies[0].spec.virtual_routers;
    vrs.push(vr(64512, None, vec![neighbor("192.0.2.253/32", 64513)]));
    vrs.push(vr(64999, None, vec![neighbor("192.0.2.252/32", 64513)]));
    let e = expect(&inv);
    let n1 = node_intent(&e, "n1");
    assert_eq!(n1.neighbors.len(), 1);
    assert_eq!(n1.neighbors[0].address, ip("192.0.2.254"));
    assert!(codes(&e.diagnostics).contains(&"duplicate-local-asn"));
}

#[test]
fn routers_sharing_or_differing_in_neighbors_are_reported() {
    let mut inv = small(Some(LabelSelector::default()));
    let vrs = &mut inv.peering_policies[0].spec.virtual_routers;
    vrs.push(vr(
        64514,
        None,
        vec![
            neighbor("192.0.2.254/32", 64513),
            neighbor("192.0.2.253/32", 64513),
        ],
    ));
    let e = expect(&inv);
    let d = codes(&e.diagnostics);
    assert!(d.contains(&"neighbor-in-several-routers"), "{d:?}");
    assert!(d.contains(&"routers-neighbors-differ"), "{d:?}");
    assert_eq!(node_intent(&e, "n1").neighbors.len(), 3);
}

// ---- bgpv2 -------------------------------------------------------------------

fn cluster_config(name: &str, peer: &str, peer_config: Option<&str>) -> ClusterConfig {
    ClusterConfig {
        meta: meta(name, "", &[]),
        spec: ClusterConfigSpec {
            node_selector: None,
            bgp_instances: vec![BgpInstance {
                name: "home".to_string(),
                local_asn: Some(64512),
                peers: vec![BgpPeer {
                    name: "udm".to_string(),
                    peer_address: Some(peer.to_string()),
                    peer_asn: Some(64513),
                    peer_config_ref: peer_config.map(|n| PeerConfigRef {
                        name: n.to_string(),
                        ..PeerConfigRef::default()
                    }),
                }],
            }],
        },
    }
}

fn peer_config(name: &str, adverts: Option<LabelSelector>) -> PeerConfig {
    PeerConfig {
        meta: meta(name, "", &[]),
        spec: PeerConfigSpec {
            families: Some(vec![PeerFamily {
                afi: "ipv4".to_string(),
                safi: "unicast".to_string(),
                advertisements: adverts,
            }]),
            ..PeerConfigSpec::default()
        },
    }
}

fn service_advert(name: &str, selector: Option<LabelSelector>) -> Advertisement {
    Advertisement {
        meta: meta(name, "", &[("adv", "lb")]),
        spec: AdvertisementSpec {
            advertisements: vec![BgpAdvertisement {
                advertisement_type: "Service".to_string(),
                service: Some(ServiceAdvertisement {
                    addresses: vec!["LoadBalancerIP".to_string()],
                }),
                selector,
            }],
        },
    }
}

fn v2(selector: Option<LabelSelector>) -> Inventory {
    let mut inv = small(None);
    inv.peering_policies.clear();
    inv.cluster_configs
        .push(cluster_config("bgp", "192.0.2.254", Some("udm")));
    inv.peer_configs
        .push(peer_config("udm", Some(sel(&[("adv", "lb")]))));
    inv.advertisements.push(service_advert("lb", selector));
    inv
}

#[test]
fn cluster_config_advertises_through_peer_config_and_advertisement() {
    let e = expect(&v2(Some(sel(&[("app", "front")]))));
    let n1 = node_intent(&e, "n1");
    assert_eq!(n1.policy.as_deref(), Some("bgp"));
    assert_eq!(n1.neighbors.len(), 1);
    let nb = &n1.neighbors[0];
    assert_eq!(
        (nb.router.as_str(), nb.local_asn, nb.asn),
        ("home", 64512, 64513)
    );
    assert_eq!(nb.port, Some(179));
    assert_eq!(nb.families, vec!["ipv4-unicast"]);
    assert_eq!(nb.prefixes, [net("10.0.0.10/32")].into());
    assert_eq!(service(&e, "web/front").advertised_by, set(&["n1", "n2"]));
}

#[test]
fn advertisement_selector_unset_or_mismatched() {
    let e = expect(&v2(None));
    let s = service(&e, "web/front");
    assert_eq!(
        codes(&s.not_advertised),
        vec!["advertisement-selector-unset"]
    );
    assert!(s.not_advertised[0]
        .message
        .contains("CiliumBGPAdvertisement lb"));

    let e = expect(&v2(Some(sel(&[("app", "back")]))));
    let s = service(&e, "web/front");
    assert_eq!(
        codes(&s.not_advertised),
        vec!["advertisement-selector-no-match"]
    );
    assert!(s.not_advertised[0].message.contains("app=back"));
}

#[test]
fn peer_config_family_without_advertisements_advertises_nothing() {
    let mut inv = v2(Some(LabelSelector::default()));
    inv.peer_configs[0].spec.families.as_mut().unwrap()[0].advertisements = None;
    let e = expect(&inv);
    assert_eq!(
        codes(&service(&e, "web/front").not_advertised),
        vec!["peer-family-no-advertisements"]
    );

    let mut inv = v2(Some(LabelSelector::default()));
    inv.advertisements[0].meta.labels = labels(&[("adv", "other")]);
    let e = expect(&inv);
    assert_eq!(
        codes(&service(&e, "web/front").not_advertised),
        vec!["advertisements-none-selected"]
    );
}

#[test]
fn peer_without_config_gets_defaults_and_no_advertisement() {
    let mut inv = v2(Some(LabelSelector::default()));
    inv.cluster_configs[0].spec.bgp_instances[0].peers[0].peer_config_ref = None;
    let e = expect(&inv);
    let nb = &node_intent(&e, "n1").neighbors[0];
    assert_eq!(nb.families, vec!["ipv6-unicast", "ipv4-unicast"]);
    assert!(nb.prefixes.is_empty());
    assert_eq!(
        codes(&service(&e, "web/front").not_advertised),
        vec!["peer-config-unset"]
    );
}

#[test]
fn missing_peer_config_drops_the_peer() {
    let mut inv = v2(Some(LabelSelector::default()));
    inv.peer_configs.clear();
    let e = expect(&inv);
    assert!(node_intent(&e, "n1").neighbors.is_empty());
    assert!(codes(&e.diagnostics).contains(&"peer-config-missing"));
    assert_eq!(
        codes(&service(&e, "web/front").not_advertised),
        vec!["router-no-neighbors"]
    );
}

#[test]
fn v2_pod_cidr_advertisement_and_family_split() {
    let mut inv = v2(Some(LabelSelector::default()));
    inv.advertisements[0]
        .spec
        .advertisements
        .push(BgpAdvertisement {
            advertisement_type: "PodCIDR".to_string(),
            ..BgpAdvertisement::default()
        });
    inv.nodes[0].pod_cidrs = vec![net("10.244.1.0/24"), net("fd00:10:244:1::/64")];
    inv.services[0].ingress_ips.push(ip("fd00:5::10"));
    inv.pools[0].spec.blocks.push(cidr("fd00:5::/120"));
    let e = expect(&inv);
    assert_eq!(e.prefixes[&net("10.244.1.0/24")].kind, PrefixKind::PodCidr);
    // The peer config has only ipv4-unicast: no IPv6 route leaves the node.
    assert!(!e.prefixes.contains_key(&net("fd00:10:244:1::/64")));
    assert!(!e.prefixes.contains_key(&net("fd00:5::10/128")));
    let s = service(&e, "web/front");
    assert_eq!(codes(&s.not_advertised), vec!["family-not-negotiated"]);
}

#[test]
fn selected_advertisements_without_service_entry_advertise_no_service() {
    let mut inv = v2(Some(LabelSelector::default()));
    inv.advertisements[0].spec.advertisements[0].advertisement_type = "PodCIDR".to_string();
    let e = expect(&inv);
    let why = &service(&e, "web/front").not_advertised;
    assert_eq!(codes(why), vec!["no-service-advertisement"]);
    assert!(why[0].message.contains("(lb)"), "{}", why[0].message);
}

#[test]
fn broken_instances_and_peers_configure_nothing() {
    let mut inv = v2(Some(LabelSelector::default()));
    inv.cluster_configs[0].spec.bgp_instances[0].peers[0].peer_asn = None;
    let e = expect(&inv);
    assert!(node_intent(&e, "n1").neighbors.is_empty());
    assert!(codes(&e.diagnostics).contains(&"bgp-peer-no-asn"));

    let mut inv = v2(Some(LabelSelector::default()));
    inv.cluster_configs[0].spec.bgp_instances[0].local_asn = None;
    let e = expect(&inv);
    assert!(node_intent(&e, "n1").neighbors.is_empty());
    assert_eq!(node_intent(&e, "n1").policy.as_deref(), Some("bgp"));
    assert!(codes(&e.diagnostics).contains(&"bgp-instance-no-local-asn"));
    assert_eq!(
        codes(&service(&e, "web/front").not_advertised),
        vec!["no-router"]
    );

    let mut inv = v2(Some(LabelSelector::default()));
    inv.cluster_configs[0].spec.bgp_instances[0].peers[0].peer_address = None;
    let e = expect(&inv);
    assert!(node_intent(&e, "n1").neighbors.is_empty());
    assert!(codes(&e.diagnostics).contains(&"bgp-peer-no-address"));
}

#[test]
fn two_cluster_configs_on_one_node_are_ambiguous() {
    let mut inv = v2(Some(LabelSelector::default()));
    inv.cluster_configs
        .push(cluster_config("bgp-2", "192.0.2.253", Some("udm")));
    let e = expect(&inv);
    for n in &e.nodes {
        assert_eq!(
            n.no_bgp.as_ref().unwrap().code,
            "several-cluster-configs-select-node"
        );
    }
    assert_eq!(
        codes(&service(&e, "web/front").not_advertised),
        vec!["no-bgp-node"]
    );
}

// ---- pools -------------------------------------------------------------------

#[test]
fn pool_ranges_and_sizes() {
    let mut reserved = pool("r", vec![cidr("10.1.0.0/24"), cidr("10.1.1.0/31")], None);
    reserved.spec.allow_first_last_i_ps = Some("No".to_string());
    let mut legacy = pool("l", vec![block("10.3.0.1", "10.3.0.1")], None);
    legacy.spec.cidrs = vec![cidr("10.4.0.0/24")];
    let inv = Inventory {
        pools: vec![
            reserved,
            pool(
                "a",
                vec![cidr("10.2.0.7/24"), block("10.2.1.1", "10.2.1.10")],
                None,
            ),
            legacy,
            pool("v6", vec![cidr("fd00::/64")], None),
            pool("huge", vec![cidr("fd01::/8")], None),
        ],
        ..Inventory::default()
    };
    let e = expect(&inv);
    let by = |n: &str| e.pools.iter().find(|p| p.name == n).unwrap();
    assert_eq!(by("r").size, 254 + 2);
    assert_eq!(by("a").size, 256 + 10);
    assert_eq!(by("a").ranges[0], (ip("10.2.0.0"), ip("10.2.0.255")));
    assert_eq!(by("l").size, 1);
    assert_eq!(by("l").ranges, vec![(ip("10.3.0.1"), ip("10.3.0.1"))]);
    assert_eq!(by("v6").size, u64::MAX);
    assert_eq!(by("huge").size, u64::MAX);
    assert!(codes(&e.diagnostics).contains(&"pool-legacy-cidrs"));
    let names: Vec<&str> = e.pools.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["a", "huge", "l", "r", "v6"]);
}

#[test]
fn overlapping_pools_are_reported() {
    let inv = Inventory {
        pools: vec![
            pool("a", vec![block("10.0.0.1", "10.0.0.50")], None),
            pool("b", vec![cidr("10.0.0.32/28")], None),
            pool("c", vec![block("10.0.1.1", "10.0.1.5")], None),
        ],
        ..Inventory::default()
    };
    let e = expect(&inv);
    let overlaps: Vec<&Reason> = e
        .diagnostics
        .iter()
        .filter(|d| d.code == "pools-overlap")
        .collect();
    assert_eq!(overlaps.len(), 1);
    assert!(overlaps[0].message.contains("a (10.0.0.1-10.0.0.50) and b"));
}

#[test]
fn pool_attribution_fills_in_use_services_and_expected() {
    let mut inv = small(Some(sel(&[("app", "front")])));
    inv.pools = vec![
        pool(
            "a",
            vec![block("10.0.0.10", "10.0.0.19")],
            Some(sel(&[("app", "front")])),
        ),
        pool(
            "b",
            vec![block("10.0.0.20", "10.0.0.29")],
            Some(sel(&[("app", "back")])),
        ),
    ];
    inv.services
        .push(lb("web", "back", &[("app", "back")], &["10.0.0.20"]));
    let e = expect(&inv);
    let a = &e.pools[0];
    assert_eq!(a.in_use, [ip("10.0.0.10")].into());
    assert_eq!(a.services, set(&["web/front"]));
    assert_eq!(a.expected, [ip("10.0.0.10")].into());
    let b = &e.pools[1];
    assert_eq!(b.services, set(&["web/back"]));
    assert!(b.expected.is_empty());
    assert_eq!(
        service(&e, "web/back").pools,
        [(ip("10.0.0.20"), "b".to_string())].into()
    );
    assert_eq!(e.prefixes[&net("10.0.0.10/32")].pool.as_deref(), Some("a"));
}

fn no_ip_code(inv: &Inventory) -> (String, String) {
    let e = expect(inv);
    let s = e.services.iter().find(|s| s.ips.is_empty()).unwrap();
    let r = s.no_ip.clone().unwrap();
    (r.code, r.message)
}

#[test]
fn services_without_address_say_why() {
    let base = || {
        let mut inv = small(Some(LabelSelector::default()));
        inv.pools = vec![
            pool(
                "default",
                vec![block("10.0.0.10", "10.0.0.10")],
                Some(sel(&[("pool", "default")])),
            ),
            pool(
                "ingress",
                vec![block("10.0.0.20", "10.0.0.21")],
                Some(sel(&[("pool", "ingress")])),
            ),
        ];
        inv.services = vec![
            lb("web", "front", &[("pool", "default")], &["10.0.0.10"]),
            lb("web", "new", &[("app", "new")], &[]),
        ];
        inv
    };

    let (code, message) = no_ip_code(&base());
    assert_eq!(code, "no-pool-selects-service");
    assert!(message.contains("labels app=new"), "{message}");
    assert!(
        message.contains("default selects pool=default"),
        "{message}"
    );
    assert!(
        message.contains("ingress selects pool=ingress"),
        "{message}"
    );

    let mut inv = base();
    inv.services[1].meta.labels = labels(&[("pool", "default")]);
    assert_eq!(no_ip_code(&inv).0, "pool-exhausted");

    let mut inv = base();
    inv.services[1].meta.labels = labels(&[("pool", "ingress")]);
    assert_eq!(no_ip_code(&inv).0, "ip-pending");
    inv.pools[1].spec.disabled = true;
    assert_eq!(no_ip_code(&inv).0, "pool-disabled");

    let mut inv = base();
    inv.services[1].requested_ips = vec![ip("10.9.9.9")];
    assert_eq!(no_ip_code(&inv).0, "requested-ip-outside-pools");
    inv.services[1].requested_ips = vec![ip("10.0.0.20")];
    assert_eq!(no_ip_code(&inv).0, "no-pool-selects-service");
    inv.services[1].requested_ips = vec![ip("10.0.0.10")];
    inv.services[1].meta.labels = labels(&[("pool", "default")]);
    let (code, message) = no_ip_code(&inv);
    assert_eq!(code, "requested-ip-in-use");
    assert!(message.contains("web/front"), "{message}");

    let mut inv = base();
    inv.services[1].ip_families = vec!["IPv6".to_string()];
    assert_eq!(no_ip_code(&inv).0, "no-ipv6-pool");

    let mut inv = base();
    inv.pools.clear();
    assert_eq!(no_ip_code(&inv).0, "no-pools");
}

#[test]
fn reserved_first_and_last_addresses_count() {
    let mut inv = small(Some(LabelSelector::default()));
    let mut p = pool("tiny", vec![cidr("10.0.0.8/30")], None);
    p.spec.allow_first_last_i_ps = Some("No".to_string());
    inv.pools = vec![p];
    inv.services = vec![
        lb("web", "a", &[], &["10.0.0.9"]),
        lb("web", "b", &[], &["10.0.0.10"]),
        lb("web", "c", &[], &[]),
    ];
    let e = expect(&inv);
    assert_eq!(e.pools[0].size, 2);
    assert_eq!(no_ip_code(&inv).0, "pool-exhausted");
    inv.services[2].requested_ips = vec![ip("10.0.0.11")];
    assert_eq!(no_ip_code(&inv).0, "requested-ip-reserved");
}

// ---- diagnostics and determinism ---------------------------------------------

#[test]
fn cilium_ingress_with_local_traffic_policy_is_diagnosed() {
    let mut inv = small(Some(LabelSelector::default()));
    let mut svc = lb(
        "kube-system",
        "cilium-ingress",
        &[("cilium.io/ingress", "true")],
        &["10.0.0.11"],
    );
    svc.external_traffic_local = true;
    inv.services.push(svc);
    let e = expect(&inv);
    assert!(codes(&e.diagnostics).contains(&"cilium-ingress-etp-local"));
    let s = service(&e, "kube-system/cilium-ingress");
    assert!(s.advertised_by.is_empty());
    assert!(s.not_advertised[0]
        .message
        .contains("no node has a ready endpoint"));
}

#[test]
fn output_does_not_depend_on_inventory_order() {
    let mut inv = small(Some(LabelSelector::default()));
    inv.services.push(lb("a", "z", &[], &["10.0.0.12"]));
    inv.nodes.push(node("n0", "192.0.2.9", &[]));
    let first = expect(&inv);
    inv.services.reverse();
    inv.nodes.reverse();
    inv.pools.reverse();
    let second = expect(&inv);
    assert_eq!(first, second);
    let names: Vec<&str> = first.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, vec!["n0", "n1", "n2"]);
    let keys: Vec<String> = first
        .services
        .iter()
        .map(|s| format!("{}/{}", s.namespace, s.name))
        .collect();
    assert_eq!(keys, vec!["a/z", "web/front"]);
}
