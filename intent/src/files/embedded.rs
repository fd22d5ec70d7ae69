//! The built-in inventory: the home cluster as it is meant to be, from the
//! manifests under `intent/default/`, compiled into the binary. The daemon
//! runs on it when no configuration names a cluster, and it is what the
//! verifier's own tests expect a healthy cluster to look like.
//!
//! Three Intel Mac mini nodes (`mini-1`..`mini-3`, all control plane) run
//! Cilium 1.17 with the legacy `CiliumBGPPeeringPolicy`: one virtual router,
//! local ASN 64512, peering with the UDM Pro (172.29.51.1, ASN 64513) and
//! with this verifier (on each node's address, port 1790, ASN 64513: see
//! docs/operator-guide.md). A Service picks
//! its LB-IPAM pool with the label `lb.home.arpa/pool: <pool name>`, each
//! pool selects its Services by that label, and the virtual router's
//! serviceSelector selects the Services of every pool. The IPv6 range is a
//! second block of `bgp-default`, so a dual-stack Service of that pool gets
//! an address of each family from one pool.

use super::load_str;
use crate::objects::Inventory;
use std::path::Path;

/// The embedded manifests: (name under `intent/`, text).
pub const EMBEDDED_FILES: [(&str, &str); 4] = [
    (
        "default/nodes.yaml",
        include_str!("../../default/nodes.yaml"),
    ),
    (
        "default/pools.yaml",
        include_str!("../../default/pools.yaml"),
    ),
    (
        "default/peering-policy.yaml",
        include_str!("../../default/peering-policy.yaml"),
    ),
    (
        "default/services.yaml",
        include_str!("../../default/services.yaml"),
    ),
];

/// What origins call an embedded file: `default/pools.yaml (embedded)`.
fn origin_name(name: &str) -> String {
    format!("{name} (embedded)")
}

/// The inventory of the embedded manifests; each object's origin names its
/// file as `default/<file>.yaml (embedded)`.
pub fn embedded_default() -> Inventory {
    let mut inventory = Inventory::default();
    for (name, text) in EMBEDDED_FILES {
        let loaded = load_str(text, Path::new(&origin_name(name)))
            .unwrap_or_else(|e| panic!("embedded manifest {name} is invalid: {e}"));
        inventory.extend(loaded.inventory.objects());
    }
    inventory
}

/// The text of the embedded file an origin names (`default/pools.yaml
/// (embedded)`), for [`find_line`](super::find_line).
pub fn embedded_text(origin_file: &Path) -> Option<&'static str> {
    let shown = origin_file.to_str()?;
    EMBEDDED_FILES
        .iter()
        .find(|(name, _)| origin_name(name) == shown)
        .map(|(_, text)| *text)
}
