//! `bgp-probe routes [--peer P] [PREFIX]`: the paths bgpd holds in its
//! Adj-RIB-In per peer, as `cilium bgp routes` shows Cilium's: peer,
//! prefix, path id, next hop, AS path, origin, MED, LOCAL_PREF,
//! communities, stale. `GET /api/v1/routes` with `prefix`, `peer` and
//! `limit`; `--output json` passes bgpd's path objects through, each with
//! the daemon it came from.
//!
//! Exit status: 0 when every daemon answered (no matching path is not an
//! error), 1 when only some did, 2 when none did or the arguments are
//! wrong.

use crate::api::{self, Answer, TargetArgs};
use crate::output::{Cell, Color, Format, Style, Table};
use clap::Args;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::fmt::Write as _;
use std::process::ExitCode;

/// The long help of `routes`.
pub const LONG_ABOUT: &str = "\
List the paths bgpd holds from its peers (GET /api/v1/routes), like \
`cilium bgp routes`: one line per path with its peer, prefix, ADD-PATH id, \
next hop, AS path, ORIGIN, MED, LOCAL_PREF, communities and whether it is \
stale (kept over a graceful restart). PREFIX narrows to one prefix (an \
address means its host prefix, e.g. 172.29.52.200 is 172.29.52.200/32); \
--peer to one peer (a dynamic neighbour is named like cilium-nodes/172.29.51.11).

Daemons are chosen as for check: --url / BGP_PROBE_URL, else the bgpd pods \
found through Kubernetes; with several, a column names the daemon.

Exit status: 0 when every daemon answered (finding no path is not an \
error), 1 when only some did, 2 when none did or the arguments are wrong \
(an unknown --peer is reported by every daemon, so it exits 2).";

/// The examples closing the long help of `routes`.
pub const EXAMPLES: &str = "\
Examples:
  # Who advertises the ingress IP, and what the router holds for it:
  bgp-probe routes --url 127.0.0.1:9179 172.29.52.200
  # Everything the UDM Pro sent:
  bgp-probe routes --url 127.0.0.1:9179 --peer udm-pro
  bgp-probe routes --context home --output json 172.29.52.0/24";

/// Arguments of `bgp-probe routes`.
#[derive(Debug, Clone, Args)]
pub struct RoutesArgs {
    /// Only this prefix (or address: its host prefix)
    #[arg(value_name = "PREFIX")]
    pub prefix: Option<String>,

    /// Only the paths of this peer (bgpd's peer name)
    #[arg(long, value_name = "NAME")]
    pub peer: Option<String>,

    /// At most this many paths per daemon
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub limit: usize,

    #[command(flatten)]
    pub targets: TargetArgs,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub output: Format,

    /// No colour, even on a terminal (NO_COLOR does the same)
    #[arg(long)]
    pub no_color: bool,
}

/// bgpd's answer.
#[derive(Debug, Clone, Deserialize)]
pub struct RoutesAnswer {
    #[serde(default)]
    pub paths: Vec<Value>,
    #[serde(default)]
    pub truncated: bool,
}

/// The query string for `args`.
fn path_of(args: &RoutesArgs) -> String {
    let mut q = vec![format!("limit={}", args.limit)];
    if let Some(p) = &args.prefix {
        q.push(format!("prefix={}", api::query_escape(p)));
    }
    if let Some(p) = &args.peer {
        q.push(format!("peer={}", api::query_escape(p)));
    }
    format!("/api/v1/routes?{}", q.join("&"))
}

/// Runs `bgp-probe routes`.
pub fn run(args: RoutesArgs) -> ExitCode {
    api::query_and_print(
        "routes",
        &args.targets,
        &path_of(&args),
        args.output,
        Style::detect(args.no_color),
        json_doc,
        table,
    )
}

/// `{"daemons": [...], "truncated": bool, "paths": [{"daemon", ...}]}`.
pub fn json_doc(answers: &[Answer<RoutesAnswer>]) -> String {
    let mut paths = Vec::new();
    let mut truncated = false;
    for a in answers {
        if let Ok(r) = &a.result {
            truncated |= r.truncated;
            for p in &r.paths {
                let mut obj = Map::new();
                obj.insert("daemon".into(), json!(a.target.name));
                if let Value::Object(fields) = p {
                    obj.extend(fields.clone());
                }
                paths.push(Value::Object(obj));
            }
        }
    }
    let doc = json!({
        "daemons": api::daemons_json(answers),
        "truncated": truncated,
        "paths": paths,
    });
    let mut text = serde_json::to_string_pretty(&doc).expect("JSON serializes");
    text.push('\n');
    text
}

/// An AS path from bgpd's segments: `64512 65000 {1 2}`.
pub fn as_path(v: Option<&Value>) -> String {
    let Some(v) = v else { return String::new() };
    if let Some(s) = v.as_str() {
        return s.to_string();
    }
    let mut out: Vec<String> = Vec::new();
    for seg in v.as_array().into_iter().flatten() {
        let asns: Vec<String> = seg
            .get("asns")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|a| a.to_string())
            .collect();
        match seg.get("type").and_then(Value::as_str) {
            Some("AS_SET") => out.push(format!("{{{}}}", asns.join(" "))),
            Some("AS_CONFED_SEQUENCE") => out.push(format!("({})", asns.join(" "))),
            Some("AS_CONFED_SET") => out.push(format!("[{}]", asns.join(" "))),
            _ => out.extend(asns),
        }
    }
    out.join(" ")
}

fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) if a.is_empty() => "-".into(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect::<Vec<_>>()
            .join(" "),
        Some(other) => other.to_string(),
    }
}

/// The table.
pub fn table(answers: &[Answer<RoutesAnswer>], style: Style) -> String {
    let several = answers.len() > 1;
    let mut header = Vec::new();
    if several {
        header.push("daemon");
    }
    header.extend([
        "peer",
        "prefix",
        "path id",
        "next hop",
        "as path",
        "origin",
        "med",
        "local pref",
        "communities",
        "stale",
    ]);
    let mut t = Table::new(&header);
    let mut truncated = Vec::new();
    for a in answers {
        let Ok(r) = &a.result else { continue };
        if r.truncated {
            truncated.push(a.target.name.as_str());
        }
        for p in &r.paths {
            let attrs = p.get("attrs");
            let attr = |k: &str| attrs.and_then(|a| a.get(k));
            let mut row: Vec<Cell> = Vec::new();
            if several {
                row.push(a.target.name.clone().into());
            }
            let stale = p.get("stale").and_then(Value::as_bool).unwrap_or(false);
            let mut path = as_path(attr("as_path"));
            if path.is_empty() {
                path = "(empty)".into();
            }
            row.extend([
                text(p.get("peer")).into(),
                text(p.get("prefix")).into(),
                text(p.get("path_id")).into(),
                text(attr("next_hop")).into(),
                path.into(),
                text(attr("origin")).into(),
                text(attr("med")).into(),
                text(attr("local_pref")).into(),
                text(attr("communities")).into(),
                if stale {
                    Cell::colored("stale", Color::Yellow)
                } else {
                    Cell::new("-")
                },
            ]);
            t.row(row);
        }
    }
    let mut out = t.render(style, 0);
    if t.is_empty() {
        let _ = writeln!(out, "(no path)");
    }
    if !truncated.is_empty() {
        let _ = writeln!(
            out,
            "(truncated at --limit by {}: narrow with PREFIX or --peer)",
            truncated.join(", ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_paths_and_queries() {
        let v: Value = serde_json::from_str(
            r#"[{"type":"AS_SEQUENCE","asns":[64512,65000]},{"type":"AS_SET","asns":[1,2]}]"#,
        )
        .unwrap();
        assert_eq!(as_path(Some(&v)), "64512 65000 {1 2}");
        assert_eq!(as_path(Some(&json!("64512"))), "64512");
        assert_eq!(as_path(None), "");
        let args = RoutesArgs {
            prefix: Some("172.29.52.200/32".into()),
            peer: Some("cilium-nodes/172.29.51.11".into()),
            limit: 5,
            targets: TargetArgs {
                urls: vec![],
                kubeconfig: None,
                context: None,
                namespace: String::new(),
                selector: String::new(),
                api_port: 1,
                pod_address: api::PodAddress::Host,
                timeout: std::time::Duration::from_secs(1),
            },
            output: Format::Table,
            no_color: true,
        };
        assert_eq!(
            path_of(&args),
            "/api/v1/routes?limit=5&prefix=172.29.52.200%2F32&peer=cilium-nodes%2F172.29.51.11"
        );
    }
}
