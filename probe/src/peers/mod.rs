//! `bgp-probe peers`: every BGP session of one or more bgpd pods, as
//! `cilium bgp peers` shows Cilium's: peer, address, AS, role, state,
//! uptime, prefixes received per family, flaps and the last reason the
//! session went down. `--output json` passes bgpd's objects through, each
//! with the daemon it came from.
//!
//! Exit status: 0 when every daemon answered, 1 when only some did, 2
//! when none did or the arguments are wrong.

use crate::api::{self, Answer, TargetArgs};
use crate::output::{duration, Cell, Color, Format, Style, Table};
use clap::Args;
use serde_json::{json, Map, Value};
use std::fmt::Write as _;
use std::process::ExitCode;

/// The long help of `peers`.
pub const LONG_ABOUT: &str = "\
List the BGP sessions of bgpd (GET /api/v1/peers), like `cilium bgp peers`: \
every configured and every dynamic neighbour with its role (speaker = a \
Cilium agent, router = the upstream router), session state, uptime, \
prefixes received per family, flaps and the last reason it went down.

Daemons are chosen as for check: --url / BGP_PROBE_URL, else the bgpd pods \
found through Kubernetes; with several, a column names the daemon.

Exit status: 0 when every daemon answered, 1 when only some did (the others \
are named), 2 when none did or the arguments are wrong.";

/// The examples closing the long help of `peers`.
pub const EXAMPLES: &str = "\
Examples:
  bgp-probe peers --url 127.0.0.1:9179
  bgp-probe peers --context home
  bgp-probe peers --url 172.29.51.11 --output json | jq '.peers[] | select(.state != \"Established\")'";

/// Arguments of `bgp-probe peers`.
#[derive(Debug, Clone, Args)]
pub struct PeersArgs {
    #[command(flatten)]
    pub targets: TargetArgs,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub output: Format,

    /// No colour, even on a terminal (NO_COLOR does the same)
    #[arg(long)]
    pub no_color: bool,
}

/// Runs `bgp-probe peers`.
pub fn run(args: PeersArgs) -> ExitCode {
    api::query_and_print(
        "peers",
        &args.targets,
        "/api/v1/peers",
        args.output,
        Style::detect(args.no_color),
        json_doc,
        table,
    )
}

/// `{"daemons": [...], "peers": [{"daemon": ..., bgpd's fields}]}`.
pub fn json_doc(answers: &[Answer<Vec<Value>>]) -> String {
    let mut peers = Vec::new();
    for a in answers {
        for p in a.result.as_ref().into_iter().flatten() {
            let mut obj = Map::new();
            obj.insert("daemon".into(), json!(a.target.name));
            if let Value::Object(fields) = p {
                obj.extend(fields.clone());
            }
            peers.push(Value::Object(obj));
        }
    }
    let doc = json!({ "daemons": api::daemons_json(answers), "peers": peers });
    let mut text = serde_json::to_string_pretty(&doc).expect("JSON serializes");
    text.push('\n');
    text
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("-")
}

/// The table.
pub fn table(answers: &[Answer<Vec<Value>>], style: Style) -> String {
    let several = answers.len() > 1;
    let mut header = Vec::new();
    if several {
        header.push("daemon");
    }
    header.extend([
        "peer",
        "address",
        "asn",
        "role",
        "state",
        "uptime",
        "ipv4",
        "ipv6",
        "flaps",
        "last down",
    ]);
    let mut t = Table::new(&header);
    for a in answers {
        for p in a.result.as_ref().into_iter().flatten() {
            let state = str_of(p, "state");
            let count = |fam: &str| {
                p.get("prefixes")
                    .and_then(|m| m.get(fam))
                    .and_then(Value::as_u64)
                    .unwrap_or(0)
                    .to_string()
            };
            let mut row: Vec<Cell> = Vec::new();
            if several {
                row.push(a.target.name.clone().into());
            }
            row.extend([
                str_of(p, "name").into(),
                str_of(p, "address").into(),
                p.get("remote_asn")
                    .and_then(Value::as_u64)
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "-".into())
                    .into(),
                str_of(p, "role").into(),
                if state == "Established" {
                    Cell::colored(state, Color::Green)
                } else {
                    Cell::colored(state, Color::Red)
                },
                p.get("uptime_seconds")
                    .and_then(Value::as_f64)
                    .map(duration)
                    .unwrap_or_else(|| "-".into())
                    .into(),
                count("ipv4-unicast").into(),
                count("ipv6-unicast").into(),
                p.get("flaps")
                    .and_then(Value::as_u64)
                    .unwrap_or(0)
                    .to_string()
                    .into(),
                p.get("last_down_reason")
                    .and_then(Value::as_str)
                    .unwrap_or("-")
                    .into(),
            ]);
            t.row(row);
        }
    }
    let mut out = t.render(style, 0);
    if t.is_empty() {
        let _ = writeln!(out, "(no peer)");
    }
    out
}
