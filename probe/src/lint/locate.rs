//! File and line of a problem: the model's reasons name the object that
//! causes them (`Reason::origin`: file and first line); this finds the
//! field within it that the operator must change, with
//! `bgp_intent::files::find_line`: the virtual router's `serviceSelector`,
//! the Service's pool label or requested-address annotation, its
//! `externalTrafficPolicy` or `loadBalancerClass`, the pool's `blocks`...

use bgp_intent::files::find_line;
use bgp_intent::objects::{Inventory, LabelSelector, Origin};
use bgp_intent::Reason;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// A place in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    pub file: String,
    pub line: u32,
    /// The field, e.g. `spec.virtualRouters[0].serviceSelector`; absent
    /// for the object as a whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// The objects of an inventory by origin, and the text of their files.
pub struct Locator<'a> {
    inv: &'a Inventory,
    texts: BTreeMap<PathBuf, Option<String>>,
}

/// What kind of object an origin belongs to.
enum Obj<'a> {
    Service(&'a bgp_intent::objects::Service),
    Pool,
    Policy(&'a bgp_intent::objects::PeeringPolicy),
    ClusterConfig,
    PeerConfig,
    Advertisement(&'a bgp_intent::objects::Advertisement),
    Other,
}

impl<'a> Locator<'a> {
    pub fn new(inv: &'a Inventory) -> Locator<'a> {
        Locator {
            inv,
            texts: BTreeMap::new(),
        }
    }

    fn text(&mut self, file: &Path) -> Option<&str> {
        self.texts
            .entry(file.to_path_buf())
            .or_insert_with(|| std::fs::read_to_string(file).ok())
            .as_deref()
    }

    fn object(&self, origin: &Origin) -> Obj<'a> {
        let inv = self.inv;
        if let Some(s) = inv.services.iter().find(|s| &s.meta.origin == origin) {
            return Obj::Service(s);
        }
        if inv.pools.iter().any(|p| &p.meta.origin == origin) {
            return Obj::Pool;
        }
        if let Some(p) = inv
            .peering_policies
            .iter()
            .find(|p| &p.meta.origin == origin)
        {
            return Obj::Policy(p);
        }
        if inv.cluster_configs.iter().any(|c| &c.meta.origin == origin) {
            return Obj::ClusterConfig;
        }
        if inv.peer_configs.iter().any(|c| &c.meta.origin == origin) {
            return Obj::PeerConfig;
        }
        if let Some(a) = inv.advertisements.iter().find(|a| &a.meta.origin == origin) {
            return Obj::Advertisement(a);
        }
        Obj::Other
    }

    /// `origin`'s object, at `field` when that is written in the file, else
    /// at the object's first line. `None` for objects not read from a file.
    pub fn at(&mut self, origin: &Origin, field: Option<&str>) -> Option<Location> {
        let file = origin.file.clone()?;
        let line = origin.line.unwrap_or(1);
        let shown = file.display().to_string();
        if let Some(path) = field {
            if let Some(text) = self.text(&file) {
                if let Some(l) = find_line(text, line, path) {
                    return Some(Location {
                        file: shown,
                        line: l,
                        field: Some(path.to_string()),
                    });
                }
            }
        }
        Some(Location {
            file: shown,
            line,
            field: None,
        })
    }

    /// The first of `fields` written in the object's text.
    pub fn first_of(&mut self, origin: &Origin, fields: &[String]) -> Option<Location> {
        for f in fields {
            if let Some(l) = self.at(origin, Some(f)) {
                if l.field.is_some() {
                    return Some(l);
                }
            }
        }
        self.at(origin, None)
    }

    /// Where to fix what `reason` says.
    pub fn reason(&mut self, reason: &Reason) -> Option<Location> {
        let origin = &reason.origin;
        let code = reason.code.as_str();
        let fields: Vec<String> = match self.object(origin) {
            Obj::Service(svc) => match code {
                "load-balancer-class-other" => vec!["spec.loadBalancerClass".into()],
                "cilium-ingress-etp-local" | "no-ready-local-endpoint" => {
                    vec!["spec.externalTrafficPolicy".into()]
                }
                "no-ipv6-pool" | "no-ipv4-pool" => {
                    vec!["spec.ipFamilies".into(), "spec.ipFamilyPolicy".into()]
                }
                c if c.starts_with("requested-ip") || c == "ip-pending" => requested_fields(),
                _ => {
                    let mut f: Vec<String> = svc
                        .meta
                        .labels
                        .keys()
                        .map(|k| format!("metadata.labels.{k}"))
                        .collect();
                    f.push("metadata.name".into());
                    f
                }
            },
            Obj::Pool => match code {
                "pools-overlap" | "pool-block-invalid" | "pool-exhausted" => {
                    vec!["spec.blocks".into()]
                }
                "pool-legacy-cidrs" => vec!["spec.cidrs".into()],
                "pool-disabled" => vec!["spec.disabled".into()],
                "no-pool-selects-service" => vec!["spec.serviceSelector".into()],
                _ => vec!["metadata.name".into()],
            },
            Obj::Policy(p) => {
                let vr = p
                    .spec
                    .virtual_routers
                    .iter()
                    .position(|vr| {
                        reason
                            .message
                            .contains(&format!("virtual router {} ", vr.local_asn))
                    })
                    .or(if p.spec.virtual_routers.len() == 1 {
                        Some(0)
                    } else {
                        None
                    });
                match (code, vr) {
                    ("service-selector-no-match" | "selector-invalid", Some(i))
                        if p.spec.virtual_routers[i].service_selector.is_some() =>
                    {
                        vec![format!("spec.virtualRouters[{i}].serviceSelector")]
                    }
                    ("service-selector-unset", Some(i)) => {
                        vec![format!("spec.virtualRouters[{i}].localASN")]
                    }
                    ("service-advertisements-exclude-lb", Some(i)) => vec![
                        format!("spec.virtualRouters[{i}].serviceAdvertisements"),
                        format!("spec.virtualRouters[{i}]"),
                    ],
                    ("family-not-negotiated" | "router-no-neighbors", Some(i)) => {
                        vec![format!("spec.virtualRouters[{i}].neighbors")]
                    }
                    ("selector-invalid", _) if reason.message.contains("nodeSelector") => {
                        vec!["spec.nodeSelector".into()]
                    }
                    _ => vec!["spec.virtualRouters".into()],
                }
            }
            Obj::ClusterConfig => match code {
                "selector-invalid" | "no-policy-selects-node" => vec!["spec.nodeSelector".into()],
                _ => vec!["spec.bgpInstances".into()],
            },
            Obj::PeerConfig => vec!["spec.families".into()],
            Obj::Advertisement(a) => {
                let i = a
                    .spec
                    .advertisements
                    .iter()
                    .position(|e| e.advertisement_type == "Service")
                    .unwrap_or(0);
                vec![
                    format!("spec.advertisements[{i}].selector"),
                    format!("spec.advertisements[{i}]"),
                ]
            }
            Obj::Other => Vec::new(),
        };
        self.first_of(origin, &fields)
    }

    /// The label of `svc` that a pool's selector looks at, for a Service no
    /// pool serves: the first key of `selector` the Service carries, else
    /// its labels, else the object.
    pub fn service_label(
        &mut self,
        svc: &bgp_intent::objects::Service,
        selector: Option<&LabelSelector>,
    ) -> Option<Location> {
        let mut keys: Vec<&String> = Vec::new();
        if let Some(sel) = selector {
            keys.extend(sel.match_labels.iter().flat_map(|m| m.keys()));
            keys.extend(sel.match_expressions.iter().flatten().map(|r| &r.key));
        }
        let mut fields: Vec<String> = keys
            .iter()
            .filter(|k| svc.meta.labels.contains_key(k.as_str()))
            .map(|k| format!("metadata.labels.{k}"))
            .collect();
        fields.push("metadata.labels".into());
        fields.extend(requested_fields());
        self.first_of(&svc.meta.origin, &fields)
    }
}

/// Where a Service asks for an address.
fn requested_fields() -> Vec<String> {
    vec![
        "metadata.annotations.lbipam.cilium.io/ips".into(),
        "metadata.annotations.io.cilium/lb-ipam-ips".into(),
        "spec.loadBalancerIP".into(),
    ]
}
