//! Turning one Kubernetes object, as JSON, into the project's types.
//!
//! [`object_from_json`] takes an object exactly as an API server sends it (or
//! a YAML document converted to a [`serde_json::Value`]) and returns the
//! [`Object`] it describes, or `None` for kinds the verifier does not read.
//! Services, EndpointSlices and Nodes go through the `k8s-openapi` types, and
//! [`Service::from_k8s`], [`EndpointSlice::from_k8s`] and [`Node::from_k8s`]
//! convert those, so a watcher that already holds typed objects builds the
//! same values. The Cilium kinds are read with the serde structs of
//! [`crate::objects`].
//!
//! Every error names the object and the path of the offending field
//! ([`ParseError`]), e.g. `CiliumBGPPeeringPolicy bgp-peering:
//! spec.virtualRouters[0].localASN: invalid type: string "x", expected i64`.
//!
//! Kubernetes treats a `null` field like an absent one, so null map entries
//! are dropped before a value is deserialized (`labels:` with nothing under
//! it is an empty map, not an error).

use crate::objects::{
    Advertisement, AdvertisementSpec, ClusterConfig, ClusterConfigSpec, Endpoint, EndpointSlice,
    IpPool, IpPoolSpec, Meta, Node, PeerConfig, PeerConfigSpec, PeeringPolicy, PeeringPolicySpec,
    Service, ServicePort,
};
use ipnet::IpNet;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::discovery::v1 as discovery;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use std::fmt;
use std::net::IpAddr;

/// The kinds of object the verifier reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Service,
    EndpointSlice,
    Node,
    IpPool,
    PeeringPolicy,
    ClusterConfig,
    PeerConfig,
    Advertisement,
}

impl Kind {
    /// Every kind, in the order of the [`Inventory`](crate::Inventory)
    /// fields.
    pub const ALL: [Kind; 8] = [
        Kind::Service,
        Kind::EndpointSlice,
        Kind::Node,
        Kind::IpPool,
        Kind::PeeringPolicy,
        Kind::ClusterConfig,
        Kind::PeerConfig,
        Kind::Advertisement,
    ];

    /// The kind an object's `apiVersion` and `kind` name, if the verifier
    /// reads it. `CiliumBGPPeeringPolicy` exists only in
    /// `cilium.io/v2alpha1`; the other Cilium kinds are read from
    /// `cilium.io/v2alpha1` and `cilium.io/v2`, whose specs are the same for
    /// every field the verifier looks at.
    pub fn from_api(api_version: &str, kind: &str) -> Option<Kind> {
        let cilium = matches!(api_version, "cilium.io/v2alpha1" | "cilium.io/v2");
        match (api_version, kind) {
            ("v1", "Service") => Some(Kind::Service),
            ("discovery.k8s.io/v1", "EndpointSlice") => Some(Kind::EndpointSlice),
            ("v1", "Node") => Some(Kind::Node),
            ("cilium.io/v2alpha1", "CiliumBGPPeeringPolicy") => Some(Kind::PeeringPolicy),
            (_, "CiliumLoadBalancerIPPool") if cilium => Some(Kind::IpPool),
            (_, "CiliumBGPClusterConfig") if cilium => Some(Kind::ClusterConfig),
            (_, "CiliumBGPPeerConfig") if cilium => Some(Kind::PeerConfig),
            (_, "CiliumBGPAdvertisement") if cilium => Some(Kind::Advertisement),
            _ => None,
        }
    }

    /// The Kubernetes kind, e.g. `CiliumLoadBalancerIPPool`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Service => "Service",
            Kind::EndpointSlice => "EndpointSlice",
            Kind::Node => "Node",
            Kind::IpPool => "CiliumLoadBalancerIPPool",
            Kind::PeeringPolicy => "CiliumBGPPeeringPolicy",
            Kind::ClusterConfig => "CiliumBGPClusterConfig",
            Kind::PeerConfig => "CiliumBGPPeerConfig",
            Kind::Advertisement => "CiliumBGPAdvertisement",
        }
    }

    /// Whether objects of this kind live in a namespace (Services and
    /// EndpointSlices); the others are cluster-scoped.
    pub fn namespaced(self) -> bool {
        matches!(self, Kind::Service | Kind::EndpointSlice)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One object of a kind the verifier reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    Service(Service),
    EndpointSlice(EndpointSlice),
    Node(Node),
    IpPool(IpPool),
    PeeringPolicy(PeeringPolicy),
    ClusterConfig(ClusterConfig),
    PeerConfig(PeerConfig),
    Advertisement(Advertisement),
}

impl Object {
    pub fn kind(&self) -> Kind {
        match self {
            Object::Service(_) => Kind::Service,
            Object::EndpointSlice(_) => Kind::EndpointSlice,
            Object::Node(_) => Kind::Node,
            Object::IpPool(_) => Kind::IpPool,
            Object::PeeringPolicy(_) => Kind::PeeringPolicy,
            Object::ClusterConfig(_) => Kind::ClusterConfig,
            Object::PeerConfig(_) => Kind::PeerConfig,
            Object::Advertisement(_) => Kind::Advertisement,
        }
    }

    pub fn meta(&self) -> &Meta {
        match self {
            Object::Service(o) => &o.meta,
            Object::EndpointSlice(o) => &o.meta,
            Object::Node(o) => &o.meta,
            Object::IpPool(o) => &o.meta,
            Object::PeeringPolicy(o) => &o.meta,
            Object::ClusterConfig(o) => &o.meta,
            Object::PeerConfig(o) => &o.meta,
            Object::Advertisement(o) => &o.meta,
        }
    }

    pub fn meta_mut(&mut self) -> &mut Meta {
        match self {
            Object::Service(o) => &mut o.meta,
            Object::EndpointSlice(o) => &mut o.meta,
            Object::Node(o) => &mut o.meta,
            Object::IpPool(o) => &mut o.meta,
            Object::PeeringPolicy(o) => &mut o.meta,
            Object::ClusterConfig(o) => &mut o.meta,
            Object::PeerConfig(o) => &mut o.meta,
            Object::Advertisement(o) => &mut o.meta,
        }
    }
}

/// Why an object could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The object's `kind` as written; empty when it has none.
    pub kind: String,
    /// `namespace/name` (or `name` when cluster-scoped), when known.
    pub name: Option<String>,
    /// Path of the offending field, e.g. `spec.virtualRouters[0].localASN`;
    /// empty when the object as a whole is wrong.
    pub path: String,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.kind.is_empty() {
            "object"
        } else {
            &self.kind
        })?;
        if let Some(name) = &self.name {
            write!(f, " {name}")?;
        }
        f.write_str(": ")?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

/// The `apiVersion` and `kind` of a value, when it is a mapping that has
/// both as strings (that is, when it looks like a Kubernetes object).
pub fn type_meta(value: &Value) -> Option<(&str, &str)> {
    let api_version = value.get("apiVersion")?.as_str()?;
    let kind = value.get("kind")?.as_str()?;
    Some((api_version, kind))
}

/// Parses one object of a relevant kind from its real JSON (as an API server
/// sends it, or a YAML document converted to a [`Value`]). `Ok(None)` for
/// kinds the verifier does not read (ConfigMap, Deployment, ...), including
/// a known kind under an API version it does not read.
pub fn object_from_json(mut value: Value) -> Result<Option<Object>, ParseError> {
    let Some((api_version, kind_name)) = type_meta(&value) else {
        let message = match &value {
            Value::Object(_) => "not a Kubernetes object: `apiVersion` or `kind` missing",
            _ => "not a Kubernetes object: not a mapping",
        };
        return Err(ParseError {
            kind: value
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            name: None,
            path: String::new(),
            message: message.to_owned(),
        });
    };
    let Some(kind) = Kind::from_api(api_version, kind_name) else {
        return Ok(None);
    };
    let name = qualified_name(&value);
    let error = |path: String, message: String| ParseError {
        kind: kind.name().to_owned(),
        name: name.clone(),
        path,
        message,
    };
    drop_nulls(&mut value);
    let object = match kind {
        Kind::Service => {
            let typed: core::Service = deserialize(value, error)?;
            Object::Service(Service::from_k8s(&typed))
        }
        Kind::EndpointSlice => {
            let typed: discovery::EndpointSlice = deserialize(value, error)?;
            Object::EndpointSlice(EndpointSlice::from_k8s(&typed))
        }
        Kind::Node => {
            let typed: core::Node = deserialize(value, error)?;
            Object::Node(Node::from_k8s(&typed))
        }
        Kind::IpPool => {
            let (meta, spec) = cilium::<IpPoolSpec>(value, error)?;
            Object::IpPool(IpPool { meta, spec })
        }
        Kind::PeeringPolicy => {
            let (meta, spec) = cilium::<PeeringPolicySpec>(value, error)?;
            Object::PeeringPolicy(PeeringPolicy { meta, spec })
        }
        Kind::ClusterConfig => {
            let (meta, spec) = cilium::<ClusterConfigSpec>(value, error)?;
            Object::ClusterConfig(ClusterConfig { meta, spec })
        }
        Kind::PeerConfig => {
            let (meta, spec) = cilium::<PeerConfigSpec>(value, error)?;
            Object::PeerConfig(PeerConfig { meta, spec })
        }
        Kind::Advertisement => {
            let (meta, spec) = cilium::<AdvertisementSpec>(value, error)?;
            Object::Advertisement(Advertisement { meta, spec })
        }
    };
    Ok(Some(object))
}

/// `namespace/name`, or `name` when there is no namespace.
fn qualified_name(value: &Value) -> Option<String> {
    let metadata = value.get("metadata")?;
    let name = metadata.get("name")?.as_str()?;
    match metadata.get("namespace").and_then(Value::as_str) {
        Some(namespace) if !namespace.is_empty() => Some(format!("{namespace}/{name}")),
        _ => Some(name.to_owned()),
    }
}

/// Deserializes `value` as `T`, with the path of the failing field.
fn deserialize<T: DeserializeOwned>(
    value: Value,
    error: impl Fn(String, String) -> ParseError,
) -> Result<T, ParseError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        error(path, e.into_inner().to_string())
    })
}

/// The parts of a Cilium object the verifier reads.
#[derive(Deserialize)]
struct CiliumObject<S> {
    metadata: Meta,
    #[serde(default)]
    spec: S,
}

fn cilium<S: DeserializeOwned + Default>(
    value: Value,
    error: impl Fn(String, String) -> ParseError,
) -> Result<(Meta, S), ParseError> {
    let object: CiliumObject<S> = deserialize(value, error)?;
    Ok((object.metadata, object.spec))
}

/// Removes every map entry whose value is `null`, at any depth.
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

fn meta_from_k8s(m: &ObjectMeta) -> Meta {
    Meta {
        name: m.name.clone().unwrap_or_default(),
        namespace: m.namespace.clone().unwrap_or_default(),
        labels: m.labels.clone().unwrap_or_default(),
        annotations: m.annotations.clone().unwrap_or_default(),
        origin: Default::default(),
    }
}

/// The addresses of `items` that parse as IP addresses, in order, without
/// repeats.
fn ips<'a>(items: impl IntoIterator<Item = &'a str>) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for ip in items.into_iter().filter_map(|s| s.trim().parse().ok()) {
        if !out.contains(&ip) {
            out.push(ip);
        }
    }
    out
}

/// The annotations with which Cilium's LB-IPAM lets a Service ask for
/// specific IPs (comma-separated lists); the first is current, the second
/// the older spelling.
pub const REQUESTED_IPS_ANNOTATIONS: [&str; 2] = ["lbipam.cilium.io/ips", "io.cilium/lb-ipam-ips"];

impl Service {
    /// Converts a `k8s-openapi` Service. Entries that are not IP addresses
    /// (in `clusterIPs`, which holds `None` for headless Services,
    /// `externalIPs`, `loadBalancerIP`, the requested-IP annotations and
    /// `status.loadBalancer.ingress[].ip`) are skipped and recorded nowhere:
    /// Cilium cannot use them either. Ports outside 0..=65535 (which the API
    /// server rejects) are skipped too.
    pub fn from_k8s(s: &core::Service) -> Service {
        let meta = meta_from_k8s(&s.metadata);
        let spec = s.spec.clone().unwrap_or_default();
        let cluster_ips = match &spec.cluster_ips {
            Some(list) if !list.is_empty() => ips(list.iter().map(String::as_str)),
            _ => ips(spec.cluster_ip.as_deref()),
        };
        let external_ips = ips(spec.external_ips.iter().flatten().map(String::as_str));
        let annotated = REQUESTED_IPS_ANNOTATIONS
            .iter()
            .filter_map(|a| meta.annotations.get(*a))
            .flat_map(|list| list.split(','));
        let requested_ips = ips(spec
            .load_balancer_ip
            .as_deref()
            .into_iter()
            .chain(annotated));
        let ingress_ips = ips(s
            .status
            .iter()
            .filter_map(|st| st.load_balancer.as_ref())
            .flat_map(|lb| lb.ingress.iter().flatten())
            .filter_map(|i| i.ip.as_deref()));
        let ports = spec
            .ports
            .iter()
            .flatten()
            .filter_map(|p| {
                Some(ServicePort {
                    name: p.name.clone(),
                    protocol: p.protocol.clone().unwrap_or_else(|| "TCP".to_owned()),
                    port: u16::try_from(p.port).ok()?,
                })
            })
            .collect();
        Service {
            meta,
            type_: spec.type_.unwrap_or_else(|| "ClusterIP".to_owned()),
            load_balancer_class: spec.load_balancer_class,
            external_traffic_local: spec.external_traffic_policy.as_deref() == Some("Local"),
            ip_families: spec.ip_families.unwrap_or_default(),
            ip_family_policy: spec.ip_family_policy,
            cluster_ips,
            external_ips,
            requested_ips,
            ingress_ips,
            ports,
        }
    }
}

/// The label that names the Service of an EndpointSlice.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

impl EndpointSlice {
    /// Converts a `k8s-openapi` EndpointSlice; an endpoint without a
    /// `ready` condition counts as ready.
    pub fn from_k8s(s: &discovery::EndpointSlice) -> EndpointSlice {
        let meta = meta_from_k8s(&s.metadata);
        let service_name = meta.labels.get(SERVICE_NAME_LABEL).cloned();
        let endpoints = s
            .endpoints
            .iter()
            .flatten()
            .map(|e| Endpoint {
                addresses: e.addresses.clone(),
                ready: e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true),
                node_name: e.node_name.clone(),
            })
            .collect();
        EndpointSlice {
            meta,
            service_name,
            endpoints,
        }
    }
}

impl Node {
    /// Converts a `k8s-openapi` Node: ready when its `Ready` condition is
    /// `True`; pod CIDRs from `spec.podCIDRs`, or `spec.podCIDR` when that is
    /// empty (entries that are not CIDRs are skipped).
    pub fn from_k8s(n: &core::Node) -> Node {
        let meta = meta_from_k8s(&n.metadata);
        let status = n.status.clone().unwrap_or_default();
        let spec = n.spec.clone().unwrap_or_default();
        let addresses = status
            .addresses
            .iter()
            .flatten()
            .map(|a| (a.type_.clone(), a.address.clone()))
            .collect();
        let ready = status
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "Ready" && c.status == "True");
        let cidrs: Vec<&str> = match &spec.pod_cidrs {
            Some(list) if !list.is_empty() => list.iter().map(String::as_str).collect(),
            _ => spec.pod_cidr.as_deref().into_iter().collect(),
        };
        let pod_cidrs = cidrs
            .into_iter()
            .filter_map(|c| c.trim().parse::<IpNet>().ok())
            .collect();
        Node {
            meta,
            addresses,
            ready,
            pod_cidrs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_round_trip_through_their_api_names() {
        for kind in Kind::ALL {
            let api = match kind {
                Kind::Service | Kind::Node => "v1",
                Kind::EndpointSlice => "discovery.k8s.io/v1",
                _ => "cilium.io/v2alpha1",
            };
            assert_eq!(Kind::from_api(api, kind.name()), Some(kind));
        }
        assert_eq!(
            Kind::from_api("cilium.io/v2", "CiliumLoadBalancerIPPool"),
            Some(Kind::IpPool)
        );
        assert_eq!(
            Kind::from_api("cilium.io/v2", "CiliumBGPPeeringPolicy"),
            None
        );
        assert_eq!(Kind::from_api("apps/v1", "Service"), None);
        assert_eq!(Kind::from_api("v1", "ConfigMap"), None);
        assert_eq!(
            Kind::from_api("discovery.k8s.io/v1beta1", "EndpointSlice"),
            None
        );
    }

    #[test]
    fn other_kinds_are_none() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x"}, "data": {"a": "b"}});
        assert_eq!(object_from_json(cm), Ok(None));
    }

    #[test]
    fn values_that_are_not_objects_are_errors() {
        let e = object_from_json(json!(["a"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "object: not a Kubernetes object: not a mapping"
        );
        let e = object_from_json(json!({"kind": "Service"})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Service: not a Kubernetes object: `apiVersion` or `kind` missing"
        );
    }

    #[test]
    fn error_names_kind_object_and_field() {
        let v = json!({
            "apiVersion": "cilium.io/v2alpha1", "kind": "CiliumBGPPeeringPolicy",
            "metadata": {"name": "bgp-peering"},
            "spec": {"virtualRouters": [{"localASN": "x", "neighbors": []}]}
        });
        let e = object_from_json(v).unwrap_err();
        assert_eq!(e.path, "spec.virtualRouters[0].localASN");
        assert_eq!(
            e.to_string(),
            "CiliumBGPPeeringPolicy bgp-peering: spec.virtualRouters[0].localASN: \
             invalid type: string \"x\", expected i64"
        );
    }

    #[test]
    fn service_errors_carry_namespace_and_path() {
        let v = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "apps"},
            "spec": {"ports": [{"port": "http"}]}
        });
        let e = object_from_json(v).unwrap_err();
        assert_eq!(e.name.as_deref(), Some("apps/web"));
        assert_eq!(e.path, "spec.ports[0].port");
        assert!(
            e.message.starts_with("invalid type: string \"http\""),
            "{e}"
        );
    }

    #[test]
    fn missing_name_is_an_error_for_cilium_kinds() {
        let v = json!({"apiVersion": "cilium.io/v2", "kind": "CiliumLoadBalancerIPPool",
            "metadata": {}, "spec": {}});
        let e = object_from_json(v).unwrap_err();
        assert_eq!(e.path, "metadata");
        assert_eq!(e.message, "missing field `name`");
    }

    #[test]
    fn nulls_are_absent_fields() {
        let v = json!({"apiVersion": "cilium.io/v2", "kind": "CiliumLoadBalancerIPPool",
            "metadata": {"name": "p", "labels": null},
            "spec": {"blocks": null, "serviceSelector": {"matchLabels": null}}});
        let Some(Object::IpPool(p)) = object_from_json(v).unwrap() else {
            panic!("not a pool");
        };
        assert!(p.meta.labels.is_empty());
        assert!(p.spec.blocks.is_empty());
        assert_eq!(p.spec.service_selector, Some(Default::default()));
    }

    #[test]
    fn cilium_spelling_of_virtual_router_fields_is_read() {
        let v = json!({
            "apiVersion": "cilium.io/v2alpha1", "kind": "CiliumBGPPeeringPolicy",
            "metadata": {"name": "p"},
            "spec": {"virtualRouters": [{
                "localASN": 64512, "exportPodCIDR": true,
                "podIPPoolSelector": {"matchLabels": {"a": "b"}},
                "neighbors": []
            }]}
        });
        let Some(Object::PeeringPolicy(p)) = object_from_json(v).unwrap() else {
            panic!("not a policy");
        };
        let vr = &p.spec.virtual_routers[0];
        assert_eq!(vr.export_pod_cidr, Some(true));
        let selector = vr.pod_ip_pool_selector.as_ref().expect("selector read");
        assert_eq!(
            selector.match_labels.as_ref().and_then(|m| m.get("a")),
            Some(&"b".to_owned())
        );
    }

    #[test]
    fn service_conversion_defaults_and_requested_ips() {
        let v = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "apps", "annotations": {
                "lbipam.cilium.io/ips": "172.29.52.10, bogus,fd47::10",
                "io.cilium/lb-ipam-ips": "172.29.52.10,172.29.52.11"
            }},
            "spec": {"loadBalancerIP": "172.29.52.9", "clusterIP": "None",
                "ports": [{"port": 53, "protocol": "UDP"}, {"port": 80}]}
        });
        let Some(Object::Service(s)) = object_from_json(v).unwrap() else {
            panic!("not a service");
        };
        assert_eq!(s.type_, "ClusterIP");
        assert!(!s.external_traffic_local);
        assert!(s.cluster_ips.is_empty());
        let want: Vec<IpAddr> = ["172.29.52.9", "172.29.52.10", "fd47::10", "172.29.52.11"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(s.requested_ips, want);
        assert_eq!(s.ports[0].protocol, "UDP");
        assert_eq!(s.ports[1].protocol, "TCP");
        assert_eq!(s.ports[1].port, 80);
    }

    #[test]
    fn endpoint_without_ready_condition_is_ready() {
        let v = json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "web-abc", "namespace": "apps"},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.42.0.5"]},
                {"addresses": ["10.42.1.5"], "conditions": {"ready": false}, "nodeName": "n2"}]
        });
        let Some(Object::EndpointSlice(s)) = object_from_json(v).unwrap() else {
            panic!("not a slice");
        };
        assert_eq!(s.service_name, None);
        assert!(s.endpoints[0].ready);
        assert!(!s.endpoints[1].ready);
        assert_eq!(s.endpoints[1].node_name.as_deref(), Some("n2"));
    }

    #[test]
    fn node_pod_cidr_falls_back_to_singular_field() {
        let v = json!({
            "apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
            "spec": {"podCIDR": "10.42.3.0/24"},
            "status": {"conditions": [{"type": "Ready", "status": "False"},
                {"type": "MemoryPressure", "status": "True"}]}
        });
        let Some(Object::Node(n)) = object_from_json(v).unwrap() else {
            panic!("not a node");
        };
        assert!(!n.ready);
        assert_eq!(n.pod_cidrs, vec!["10.42.3.0/24".parse::<IpNet>().unwrap()]);
    }

    #[test]
    fn meta_mut_reaches_the_object() {
        let mut o = Object::Node(Node::default());
        o.meta_mut().name = "n9".to_owned();
        assert_eq!(o.meta().name, "n9");
        assert_eq!(o.kind(), Kind::Node);
    }
}
