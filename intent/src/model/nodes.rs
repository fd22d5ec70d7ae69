//! Which BGP configuration applies to a node, as Cilium 1.17 decides it.
//!
//! - `PolicySelection` (`pkg/bgpv1/agent/controller.go`): a
//!   `CiliumBGPPeeringPolicy` without `nodeSelector` selects every node;
//!   one whose selector cannot be converted selects none; when more than
//!   one policy selects the node the agent logs "more then one
//!   CiliumBGPPeeringPolicy applies to this node" and applies none.
//! - `Controller.Reconcile` (same file): a selected peering policy wins over
//!   the node's `CiliumBGPNodeConfig`; the v2 configuration applies only
//!   when no peering policy selects the node, and a policy-selection error
//!   stops the reconciliation before v2 is looked at.
//! - `getMatchingNodes` (`operator/pkg/bgpv2/cluster.go`): a
//!   `CiliumBGPClusterConfig` without `nodeSelector` selects every node; one
//!   whose selector cannot be converted selects none. When two cluster
//!   configs select a node, the one whose `CiliumBGPNodeConfig` exists
//!   first keeps it and the other reports `ConflictingClusterConfigs`;
//!   which one that is depends on history the inventory does not show.

use super::plan::{and_list, reason};
use super::selector;
use crate::expected::Reason;
use crate::objects::{ClusterConfig, Inventory, LabelSelector, Node, PeeringPolicy};

/// The configuration that applies to a node.
pub(crate) enum Selection {
    /// Index into `Inventory::peering_policies`.
    Legacy(usize),
    /// Index into `Inventory::cluster_configs`.
    ClusterConfig(usize),
    /// No BGP on the node, and why.
    None(Reason),
}

fn selects(sel: &Option<LabelSelector>, node: &Node) -> bool {
    match sel {
        None => true,
        Some(sel) => selector::matches(sel, &node.meta.labels),
    }
}

/// Decides the configuration of `node`; adds diagnostics for ambiguous
/// selections.
pub(crate) fn select(node: &Node, inv: &Inventory, diags: &mut Vec<Reason>) -> Selection {
    let name = &node.meta.name;
    let policies: Vec<(usize, &PeeringPolicy)> = inv
        .peering_policies
        .iter()
        .enumerate()
        .filter(|(_, p)| selects(&p.spec.node_selector, node))
        .collect();
    let configs: Vec<(usize, &ClusterConfig)> = inv
        .cluster_configs
        .iter()
        .enumerate()
        .filter(|(_, c)| selects(&c.spec.node_selector, node))
        .collect();
    match policies.as_slice() {
        [] => {}
        [(i, policy)] => {
            if let Some((_, cc)) = configs.first() {
                diags.push(reason(
                    "bgp-v1-and-v2-select-node",
                    format!(
                        "Node {name} is selected by CiliumBGPPeeringPolicy {} and by CiliumBGPClusterConfig {}; Cilium applies only the peering policy and ignores the cluster config there.",
                        policy.meta.name, cc.meta.name
                    ),
                    &cc.meta.origin,
                ));
            }
            return Selection::Legacy(*i);
        }
        several => {
            let names: Vec<&str> = several.iter().map(|(_, p)| p.meta.name.as_str()).collect();
            let message = format!(
                "Node {name} is selected by CiliumBGPPeeringPolicies {}, and Cilium applies no policy at all to a node that more than one selects, so it runs no BGP.",
                and_list(&names)
            );
            let origin = &several[1].1.meta.origin;
            diags.push(reason(
                "several-policies-select-node",
                message.clone(),
                origin,
            ));
            return Selection::None(reason("several-policies-select-node", message, origin));
        }
    }
    match configs.as_slice() {
        [(i, _)] => Selection::ClusterConfig(*i),
        [] => Selection::None(no_policy(node, inv)),
        several => {
            let names: Vec<&str> = several.iter().map(|(_, c)| c.meta.name.as_str()).collect();
            let message = format!(
                "Node {name} is selected by CiliumBGPClusterConfigs {}; Cilium's operator gives it to whichever claimed it first and marks the other as conflicting, so which one runs cannot be told and no routes are expected from it.",
                and_list(&names)
            );
            let origin = &several[1].1.meta.origin;
            diags.push(reason(
                "several-cluster-configs-select-node",
                message.clone(),
                origin,
            ));
            Selection::None(reason(
                "several-cluster-configs-select-node",
                message,
                origin,
            ))
        }
    }
}

fn no_policy(node: &Node, inv: &Inventory) -> Reason {
    let name = &node.meta.name;
    if inv.peering_policies.is_empty() && inv.cluster_configs.is_empty() {
        return reason(
            "no-policy-selects-node",
            format!(
                "Node {name} runs no BGP: there is no CiliumBGPPeeringPolicy and no CiliumBGPClusterConfig."
            ),
            &node.meta.origin,
        );
    }
    let mut wants: Vec<String> = Vec::new();
    for p in &inv.peering_policies {
        wants.push(format!(
            "CiliumBGPPeeringPolicy {} wants {}",
            p.meta.name,
            wanted(&p.spec.node_selector)
        ));
    }
    for c in &inv.cluster_configs {
        wants.push(format!(
            "CiliumBGPClusterConfig {} wants {}",
            c.meta.name,
            wanted(&c.spec.node_selector)
        ));
    }
    reason(
        "no-policy-selects-node",
        format!(
            "Node {name} ({}) runs no BGP because no BGP policy selects it: {}.",
            selector::describe_labels(&node.meta.labels),
            and_list(&wants)
        ),
        &node.meta.origin,
    )
}

fn wanted(sel: &Option<LabelSelector>) -> String {
    match sel {
        None => "every node".to_string(),
        Some(sel) => match selector::invalid(sel) {
            Some(why) => format!("no node (invalid nodeSelector: {why})"),
            None => selector::describe(sel),
        },
    }
}
