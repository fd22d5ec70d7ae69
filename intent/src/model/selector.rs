//! Kubernetes label selectors as Cilium 1.17 evaluates them.
//!
//! Cilium converts every `metav1.LabelSelector` with its slim copy of
//! `LabelSelectorAsSelector` (`pkg/k8s/slim/k8s/apis/meta/v1/helpers.go`):
//!
//! - a nil selector becomes `labels.Nothing()`: it selects nothing. Callers
//!   decide what an absent selector means before they get here, because
//!   Cilium does too (a nil `nodeSelector` selects every node, a nil
//!   `serviceSelector` advertises no Service);
//! - a selector with neither `matchLabels` nor `matchExpressions` (`{}`)
//!   becomes `labels.Everything()`: it selects every object;
//! - otherwise every `matchLabels` pair and every `matchExpressions` entry
//!   must hold (`pkg/k8s/slim/k8s/apis/labels/selector.go`,
//!   `Requirement.Matches`): `In` needs the key with one of the values,
//!   `NotIn` and `DoesNotExist` also hold for objects without the key,
//!   `Exists` needs the key;
//! - an unknown operator, `In`/`NotIn` without values or `Exists`/
//!   `DoesNotExist` with values make the conversion fail
//!   (`labels.NewRequirement`); Cilium then skips the object that carries
//!   the selector, so such a selector selects nothing here.
//!
//! Services are matched against their labels plus the two labels Cilium
//! adds, `io.kubernetes.service.name` and `io.kubernetes.service.namespace`
//! (`serviceLabelSet` in `pkg/bgpv1/manager/reconciler/service.go` and
//! `reconcilerv2/service.go`, `svcLabels` in `operator/pkg/lbipam`).

use crate::objects::{LabelSelector, LabelSelectorRequirement, Service};
use std::collections::BTreeMap;

/// A label set, as Kubernetes stores it.
pub(crate) type Labels = BTreeMap<String, String>;

/// The label Cilium adds with the Service's name.
pub(crate) const SERVICE_NAME_LABEL: &str = "io.kubernetes.service.name";
/// The label Cilium adds with the Service's namespace.
pub(crate) const SERVICE_NAMESPACE_LABEL: &str = "io.kubernetes.service.namespace";

/// Why `sel` cannot be converted by Cilium, if it cannot.
pub(crate) fn invalid(sel: &LabelSelector) -> Option<String> {
    for req in sel.match_expressions.iter().flatten() {
        if req.key.is_empty() {
            return Some("a matchExpressions entry has an empty key".to_string());
        }
        let values = req.values.as_deref().unwrap_or_default();
        match req.operator.as_str() {
            "In" | "NotIn" if values.is_empty() => {
                return Some(format!(
                    "the {} expression on {} has no values",
                    req.operator, req.key
                ));
            }
            "Exists" | "DoesNotExist" if !values.is_empty() => {
                return Some(format!(
                    "the {} expression on {} must not have values",
                    req.operator, req.key
                ));
            }
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => {
                return Some(format!(
                    "{other:?} is not a label selector operator (In, NotIn, Exists, DoesNotExist)"
                ));
            }
        }
    }
    None
}

/// Whether a present selector selects `labels`; `{}` selects everything
/// and an invalid selector nothing.
pub(crate) fn matches(sel: &LabelSelector, labels: &Labels) -> bool {
    if invalid(sel).is_some() {
        return false;
    }
    let pairs_hold = sel
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    pairs_hold
        && sel
            .match_expressions
            .iter()
            .flatten()
            .all(|req| requirement_holds(req, labels))
}

fn requirement_holds(req: &LabelSelectorRequirement, labels: &Labels) -> bool {
    let values = req.values.as_deref().unwrap_or_default();
    let value = labels.get(&req.key);
    match req.operator.as_str() {
        "In" => value.is_some_and(|v| values.contains(v)),
        "NotIn" => value.is_none_or(|v| !values.contains(v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        _ => false,
    }
}

/// The labels Cilium matches a Service selector against.
pub(crate) fn service_labels(svc: &Service) -> Labels {
    let mut labels = svc.meta.labels.clone();
    labels.insert(SERVICE_NAME_LABEL.to_string(), svc.meta.name.clone());
    labels.insert(
        SERVICE_NAMESPACE_LABEL.to_string(),
        svc.meta.namespace.clone(),
    );
    labels
}

/// A selector in `kubectl`'s notation (`pool=bgp-default, tier in (a,b)`);
/// `{}` for the empty selector, which selects everything.
pub(crate) fn describe(sel: &LabelSelector) -> String {
    let mut parts: Vec<(String, String)> = Vec::new();
    for (k, v) in sel.match_labels.iter().flatten() {
        parts.push((k.clone(), format!("{k}={v}")));
    }
    for req in sel.match_expressions.iter().flatten() {
        let values = req.values.as_deref().unwrap_or_default().join(",");
        let text = match req.operator.as_str() {
            "In" => format!("{} in ({values})", req.key),
            "NotIn" => format!("{} notin ({values})", req.key),
            "Exists" => req.key.clone(),
            "DoesNotExist" => format!("!{}", req.key),
            other => format!("{} {other} ({values})", req.key),
        };
        parts.push((req.key.clone(), text));
    }
    if parts.is_empty() {
        return "{}".to_string();
    }
    parts.sort();
    parts
        .into_iter()
        .map(|(_, text)| text)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A Service's own labels for a message, without the two Cilium adds.
pub(crate) fn describe_labels(labels: &Labels) -> String {
    let own: Vec<String> = labels
        .iter()
        .filter(|(k, _)| *k != SERVICE_NAME_LABEL && *k != SERVICE_NAMESPACE_LABEL)
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if own.is_empty() {
        "no labels".to_string()
    } else {
        format!("labels {}", own.join(", "))
    }
}
