//! `bgp-probe lint PATH...`: what applying a GitOps tree would advertise,
//! before it is applied.
//!
//! The manifests are read with `bgp_intent::load_path` (multi-document
//! YAML, kustomize layouts, Flux `${VAR}` substitutions tolerated), what
//! the cluster would fill in is assumed ([`simulate`]: nodes, endpoints,
//! LB-IPAM addresses), the same expected-state model as bgpd's runs
//! (`bgp_intent::model::expect`, Cilium 1.17's semantics), and its
//! prediction becomes findings with the file and line to change
//! ([`rules`], [`locate`]). Output: a report for a person ([`render`]) or
//! `--output json`.
//!
//! Exit status as for `check`: 0 when no finding reaches `--fail-on`
//! (default warning), 1 when one does, 2 when the manifests cannot be read
//! (the file and line are named) or the arguments are wrong.

mod locate;
mod render;
mod rules;
mod simulate;

use crate::output::{FailOn, Format, Style, EXIT_CANNOT_CHECK, EXIT_FINDINGS, EXIT_OK};
use bgp_intent::model::expect;
use bgp_intent::objects::Inventory;
use bgpd::verify::{Severity, Verdict};
use clap::Args;
use locate::{Location, Locator};
use rules::LintFinding;
use serde::Serialize;
use simulate::Assumptions;
use std::io::{self, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// The long help of `lint`.
pub const LONG_ABOUT: &str = "\
Predict, from Kubernetes manifests, which LoadBalancer pools and Services \
Cilium's BGP control plane will not advertise or give no IP, and why, with \
the file and line to change. Nothing is contacted.

Input: files or directories of YAML (multi-document files, kustomize \
layouts; Flux substitutions ${VAR:=default} read as their default, ${VAR} \
kept as text): CiliumBGPPeeringPolicy, CiliumBGPClusterConfig / \
CiliumBGPPeerConfig / CiliumBGPAdvertisement, CiliumLoadBalancerIPPool, \
Services, and Nodes and EndpointSlices when present. Other kinds are passed \
over.

What the cluster would add is assumed: when the tree has no Node, one ready \
node per BGP policy, labelled to match its nodeSelector; for a Service with \
externalTrafficPolicy: Local, a ready endpoint on every node (except \
Cilium's Ingress/Gateway Services, whose endpoints run nowhere); for every \
LoadBalancer Service without status, the address LB-IPAM would assign. \
Then bgpd's own model (Cilium 1.17 semantics) predicts what every node \
advertises.

Problems found: pools and Services advertised by no node (virtual router \
serviceSelector unset or not matching, advertisements excluding \
LoadBalancerIP, eTP=Local without local endpoints, neighbours lacking the \
family); Services that get no IP (no pool selects their labels or requested \
address, pool disabled or full, loadBalancerClass of another controller); \
overlapping pools, duplicate local ASNs, neighbours differing between \
virtual routers, eTP=Local on Cilium Ingress/Gateway Services, IPv6 pools \
with no ipv6-unicast neighbour. A serviceSelector {} selects every Service \
in Cilium; lint says so and names the causes that would produce the same \
outage (unset selector, eTP=Local ingress, loadBalancerClass) as notes.

Exit status: 0 when no finding is at or above --fail-on (default warning), \
1 when one is, 2 when a manifest cannot be read or the arguments are wrong.";

/// The examples closing the long help of `lint`.
pub const EXAMPLES: &str = "\
Examples:
  # A whole GitOps repository:
  bgp-probe lint ~/src/home-ops
  # Only the BGP policy, the pools and the apps, fail on critical only:
  bgp-probe lint infrastructure/cilium-bgp infrastructure/cilium apps --fail-on critical
  # For a script or a CI job:
  bgp-probe lint --output json . | jq '.findings[] | select(.severity != \"info\")'";

/// Arguments of `bgp-probe lint`.
#[derive(Debug, Clone, Args)]
pub struct LintArgs {
    /// Manifest files or directories (walked recursively for *.yaml, *.yml)
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub output: Format,

    /// No colour, even on a terminal (NO_COLOR does the same)
    #[arg(long)]
    pub no_color: bool,

    /// The least severity that makes the exit status 1
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = FailOn::Warning)]
    pub fail_on: FailOn,
}

/// What was read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Read {
    pub paths: Vec<String>,
    pub files: usize,
    pub documents: usize,
    pub services: usize,
    pub pools: usize,
    pub policies: usize,
    pub nodes: usize,
}

/// A pool as predicted.
#[derive(Debug, Clone, Serialize)]
pub struct PoolPrediction {
    pub name: String,
    pub ranges: Vec<String>,
    pub disabled: bool,
    pub services: Vec<String>,
    pub addresses: Vec<IpAddr>,
    pub advertised: Vec<IpAddr>,
    /// `advertised`, `partly-advertised`, `not-advertised`, `unused`.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// A LoadBalancer Service as predicted.
#[derive(Debug, Clone, Serialize)]
pub struct ServicePrediction {
    pub service: String,
    pub addresses: Vec<IpAddr>,
    pub pools: Vec<String>,
    pub advertised_by: Vec<String>,
    /// `advertised`, `partly-advertised`, `not-advertised`, `no-ip`.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// The whole result.
#[derive(Debug, Clone, Serialize)]
pub struct LintReport {
    pub verdict: Verdict,
    pub summary: String,
    pub read: Read,
    pub assumed: Assumptions,
    pub pools: Vec<PoolPrediction>,
    pub services: Vec<ServicePrediction>,
    pub findings: Vec<LintFinding>,
}

/// Runs `bgp-probe lint`.
pub fn run(args: LintArgs) -> ExitCode {
    let report = match lint(&args.paths) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bgp-probe lint: {e}");
            return ExitCode::from(EXIT_CANNOT_CHECK);
        }
    };
    let text = match args.output {
        Format::Table => render::table(&report, Style::detect(args.no_color)),
        Format::Json => {
            let mut t = serde_json::to_string_pretty(&report).expect("the report serializes");
            t.push('\n');
            t
        }
    };
    let mut stdout = io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("bgp-probe: writing output: {e}");
        }
    }
    if report
        .findings
        .iter()
        .any(|f| args.fail_on.fails(f.severity))
    {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::from(EXIT_OK)
    }
}

/// Reads, completes, predicts and explains.
pub fn lint(paths: &[PathBuf]) -> Result<LintReport, String> {
    let mut inv = Inventory::default();
    let mut read = Read::default();
    for p in paths {
        let loaded = bgp_intent::load_path(p).map_err(|e| e.to_string())?;
        read.paths.push(p.display().to_string());
        read.files += loaded.files;
        read.documents += loaded.documents;
        let i = loaded.inventory;
        inv.services.extend(i.services);
        inv.endpoint_slices.extend(i.endpoint_slices);
        inv.nodes.extend(i.nodes);
        inv.pools.extend(i.pools);
        inv.peering_policies.extend(i.peering_policies);
        inv.cluster_configs.extend(i.cluster_configs);
        inv.peer_configs.extend(i.peer_configs);
        inv.advertisements.extend(i.advertisements);
    }
    read.services = inv.services.len();
    read.pools = inv.pools.len();
    read.policies = inv.peering_policies.len() + inv.cluster_configs.len();
    read.nodes = inv.nodes.len();
    let assumed = simulate::complete(&mut inv);
    let ex = expect(&inv);
    let mut loc = Locator::new(&inv);
    let findings = rules::findings(&inv, &ex, &assumed, &mut loc);

    let pools = ex
        .pools
        .iter()
        .map(|p| {
            let advertised: Vec<IpAddr> = p.expected.iter().copied().collect();
            let state = if p.in_use.is_empty() {
                "unused"
            } else if advertised.is_empty() {
                "not-advertised"
            } else if advertised.len() < p.in_use.len() {
                "partly-advertised"
            } else {
                "advertised"
            };
            PoolPrediction {
                name: p.name.clone(),
                ranges: p
                    .ranges
                    .iter()
                    .map(|(a, b)| {
                        if a == b {
                            a.to_string()
                        } else {
                            format!("{a}-{b}")
                        }
                    })
                    .collect(),
                disabled: p.disabled,
                services: p.services.iter().cloned().collect(),
                addresses: p.in_use.iter().copied().collect(),
                advertised,
                state: state.into(),
                location: loc.at(&p.origin, None),
            }
        })
        .collect();
    let services = ex
        .services
        .iter()
        .map(|s| {
            let state = if s.ips.is_empty() {
                "no-ip"
            } else if s.advertised_by.is_empty() {
                "not-advertised"
            } else if s.not_advertised.is_empty() {
                "advertised"
            } else {
                "partly-advertised"
            };
            let mut pools: Vec<String> = s.pools.values().cloned().collect();
            pools.sort();
            pools.dedup();
            ServicePrediction {
                service: format!("{}/{}", s.namespace, s.name),
                addresses: s.ips.clone(),
                pools,
                advertised_by: s.advertised_by.iter().cloned().collect(),
                state: state.into(),
                location: loc.at(&s.origin, None),
            }
        })
        .collect();

    let verdict = match findings.iter().map(|f| f.severity).max() {
        Some(Severity::Critical) => Verdict::Critical,
        Some(Severity::Warning) => Verdict::Degraded,
        _ => Verdict::Ok,
    };
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let summary = format!(
        "{} critical, {} warning(s), {} note(s)",
        count(Severity::Critical),
        count(Severity::Warning),
        count(Severity::Info)
    );
    Ok(LintReport {
        verdict,
        summary,
        read,
        assumed,
        pools,
        services,
        findings,
    })
}
