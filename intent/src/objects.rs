//! The Kubernetes objects the verifier reads, reduced to what decides
//! whether a LoadBalancer IP is advertised: Services, EndpointSlices, Nodes,
//! and Cilium's IP pools and BGP policies (both the legacy
//! `CiliumBGPPeeringPolicy` and the newer `CiliumBGPClusterConfig` /
//! `CiliumBGPPeerConfig` / `CiliumBGPAdvertisement`).
//!
//! The Cilium kinds are deserialized straight from their real JSON or YAML
//! (field names as Cilium's CRDs spell them). Services, EndpointSlices and
//! Nodes come from `k8s-openapi` types and are converted here by
//! [`Service::from_k8s`] and friends, so the Kubernetes watcher and the YAML
//! file source build the same values.
//!
//! A selector that is absent (`None`) and one that is present but empty
//! (`Some` of a default [`LabelSelector`]) mean different things to Cilium,
//! so every selector is an `Option`.

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

/// Where an object came from: a Kubernetes API server, or a line of a
/// YAML file (for `lint` and for error messages).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Origin {
    /// The file, for objects read from YAML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// 1-based line of the document's first line in `file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

/// The metadata every object carries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub name: String,
    /// Empty for cluster-scoped kinds (Nodes, Cilium pools and policies).
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Not part of the Kubernetes object: filled in by the source.
    #[serde(default, skip)]
    pub origin: Origin,
}

/// Kubernetes `metav1.LabelSelector`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_expressions: Option<Vec<LabelSelectorRequirement>>,
}

/// One `matchExpressions` entry; `operator` is `In`, `NotIn`, `Exists` or
/// `DoesNotExist` (anything else selects nothing, as in Kubernetes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelSelectorRequirement {
    pub key: String,
    pub operator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

/// A Service, with what LB-IPAM and the BGP control plane look at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub meta: Meta,
    /// `spec.type` (`ClusterIP` when unset).
    pub type_: String,
    /// `spec.loadBalancerClass`.
    pub load_balancer_class: Option<String>,
    /// `spec.externalTrafficPolicy` is `Local`.
    pub external_traffic_local: bool,
    /// `spec.ipFamilies` (`IPv4`, `IPv6`), empty when unset.
    pub ip_families: Vec<String>,
    /// `spec.ipFamilyPolicy`, when set.
    pub ip_family_policy: Option<String>,
    /// `spec.clusterIPs`.
    pub cluster_ips: Vec<IpAddr>,
    /// `spec.externalIPs`.
    pub external_ips: Vec<IpAddr>,
    /// IPs asked for: `spec.loadBalancerIP` and the annotations
    /// `lbipam.cilium.io/ips` and `io.cilium/lb-ipam-ips` (comma-separated).
    pub requested_ips: Vec<IpAddr>,
    /// `status.loadBalancer.ingress[].ip`: the IPs LB-IPAM gave it.
    pub ingress_ips: Vec<IpAddr>,
    pub ports: Vec<ServicePort>,
}

/// One `spec.ports` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicePort {
    pub name: Option<String>,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    pub port: u16,
}

/// An EndpointSlice: which nodes have a ready endpoint of which Service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointSlice {
    pub meta: Meta,
    /// The label `kubernetes.io/service-name`.
    pub service_name: Option<String>,
    pub endpoints: Vec<Endpoint>,
}

/// One endpoint of an EndpointSlice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub addresses: Vec<String>,
    /// `conditions.ready`; an unset condition counts as ready (Kubernetes API
    /// convention for EndpointSlices).
    pub ready: bool,
    pub node_name: Option<String>,
}

/// A Node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub meta: Meta,
    /// `status.addresses`: (type, address), e.g. (`InternalIP`, `172.29.51.11`).
    pub addresses: Vec<(String, String)>,
    /// The `Ready` condition is `True`.
    pub ready: bool,
    /// `spec.podCIDRs` (or `spec.podCIDR`).
    pub pod_cidrs: Vec<IpNet>,
}

/// `CiliumLoadBalancerIPPool` (cilium.io/v2alpha1 and v2 share the spec).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpPool {
    pub meta: Meta,
    pub spec: IpPoolSpec,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IpPoolSpec {
    #[serde(default)]
    pub blocks: Vec<IpPoolBlock>,
    /// The field of Cilium 1.14 that `blocks` replaced.
    #[serde(default)]
    pub cidrs: Vec<IpPoolBlock>,
    #[serde(default)]
    pub service_selector: Option<LabelSelector>,
    #[serde(default)]
    pub disabled: bool,
    /// `"Yes"` / `"No"`: whether the first and last address of a CIDR block
    /// may be handed out.
    #[serde(default)]
    pub allow_first_last_i_ps: Option<String>,
}

/// A pool block: `cidr`, or a `start`..=`stop` range.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpPoolBlock {
    #[serde(default)]
    pub cidr: Option<String>,
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub stop: Option<String>,
}

/// `CiliumBGPPeeringPolicy` (cilium.io/v2alpha1, the legacy API).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeeringPolicy {
    pub meta: Meta,
    pub spec: PeeringPolicySpec,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeeringPolicySpec {
    #[serde(default)]
    pub node_selector: Option<LabelSelector>,
    #[serde(default)]
    pub virtual_routers: Vec<VirtualRouter>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualRouter {
    #[serde(rename = "localASN")]
    pub local_asn: i64,
    #[serde(default, rename = "exportPodCIDR")]
    pub export_pod_cidr: Option<bool>,
    #[serde(default, rename = "podIPPoolSelector")]
    pub pod_ip_pool_selector: Option<LabelSelector>,
    #[serde(default)]
    pub service_selector: Option<LabelSelector>,
    /// `LoadBalancerIP`, `ClusterIP`, `ExternalIP`; Cilium's default when
    /// unset is `[LoadBalancerIP]`.
    #[serde(default)]
    pub service_advertisements: Option<Vec<String>>,
    #[serde(default)]
    pub neighbors: Vec<Neighbor>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Neighbor {
    /// CIDR notation, e.g. `172.29.51.1/32`.
    pub peer_address: String,
    #[serde(rename = "peerASN")]
    pub peer_asn: i64,
    #[serde(default)]
    pub peer_port: Option<u16>,
    #[serde(default)]
    pub auth_secret_ref: Option<String>,
    #[serde(default, rename = "eBGPMultihopTTL")]
    pub ebgp_multihop_ttl: Option<i64>,
    #[serde(default)]
    pub hold_time_seconds: Option<i64>,
    #[serde(default)]
    pub keep_alive_time_seconds: Option<i64>,
    #[serde(default)]
    pub graceful_restart: Option<GracefulRestart>,
    /// Unset means IPv4 and IPv6 unicast.
    #[serde(default)]
    pub families: Option<Vec<Family>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GracefulRestart {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub restart_time_seconds: Option<i64>,
}

/// An address family as Cilium names it: afi `ipv4`/`ipv6`, safi `unicast`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Family {
    pub afi: String,
    pub safi: String,
}

/// `CiliumBGPClusterConfig` (cilium.io/v2alpha1 and v2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterConfig {
    pub meta: Meta,
    pub spec: ClusterConfigSpec,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterConfigSpec {
    #[serde(default)]
    pub node_selector: Option<LabelSelector>,
    #[serde(default)]
    pub bgp_instances: Vec<BgpInstance>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BgpInstance {
    pub name: String,
    #[serde(default, rename = "localASN")]
    pub local_asn: Option<i64>,
    #[serde(default)]
    pub peers: Vec<BgpPeer>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BgpPeer {
    pub name: String,
    /// A plain address, e.g. `172.29.51.1`.
    #[serde(default)]
    pub peer_address: Option<String>,
    #[serde(default, rename = "peerASN")]
    pub peer_asn: Option<i64>,
    #[serde(default)]
    pub peer_config_ref: Option<PeerConfigRef>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerConfigRef {
    pub name: String,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
}

/// `CiliumBGPPeerConfig` (cilium.io/v2alpha1 and v2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerConfig {
    pub meta: Meta,
    pub spec: PeerConfigSpec,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerConfigSpec {
    #[serde(default)]
    pub transport: Option<Transport>,
    #[serde(default)]
    pub auth_secret_ref: Option<String>,
    #[serde(default)]
    pub graceful_restart: Option<GracefulRestart>,
    /// Unset means IPv4 and IPv6 unicast, advertising nothing.
    #[serde(default)]
    pub families: Option<Vec<PeerFamily>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transport {
    #[serde(default)]
    pub peer_port: Option<u16>,
    #[serde(default)]
    pub local_port: Option<u16>,
}

/// A family of a peer config, with the selector of the
/// `CiliumBGPAdvertisement`s (by their labels) advertised on it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerFamily {
    pub afi: String,
    pub safi: String,
    #[serde(default)]
    pub advertisements: Option<LabelSelector>,
}

/// `CiliumBGPAdvertisement` (cilium.io/v2alpha1 and v2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advertisement {
    pub meta: Meta,
    pub spec: AdvertisementSpec,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvertisementSpec {
    #[serde(default)]
    pub advertisements: Vec<BgpAdvertisement>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BgpAdvertisement {
    /// `Service`, `PodCIDR` or `CiliumPodIPPool`.
    pub advertisement_type: String,
    #[serde(default)]
    pub service: Option<ServiceAdvertisement>,
    /// For `Service`: which Services; unset selects none.
    #[serde(default)]
    pub selector: Option<LabelSelector>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAdvertisement {
    /// `LoadBalancerIP`, `ClusterIP`, `ExternalIP`.
    #[serde(default)]
    pub addresses: Vec<String>,
}

/// Everything the verifier knows of the cluster's intent at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub services: Vec<Service>,
    pub endpoint_slices: Vec<EndpointSlice>,
    pub nodes: Vec<Node>,
    pub pools: Vec<IpPool>,
    pub peering_policies: Vec<PeeringPolicy>,
    pub cluster_configs: Vec<ClusterConfig>,
    pub peer_configs: Vec<PeerConfig>,
    pub advertisements: Vec<Advertisement>,
}
