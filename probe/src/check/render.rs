//! `check`'s output: the merged view as tables (daemons, pools, Services
//! with the view from here beside the BGP view, nodes, peers) followed by
//! the findings with their hints, or as one JSON document.

use super::merge::{verdict_name, Merged, MergedFinding, Session};
use super::reach::ReachResult;
use crate::output::{utc, Cell, Color, Style, Table};
use bgpd::verify::Verdict;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;

/// The JSON document (pretty unless `compact`).
pub fn json(m: &Merged, compact: bool) -> String {
    let text = if compact {
        serde_json::to_string(m)
    } else {
        serde_json::to_string_pretty(m)
    };
    let mut text = text.expect("the merged view serializes");
    text.push('\n');
    text
}

/// The tables and findings.
pub fn table(m: &Merged, style: Style) -> String {
    let mut out = String::new();
    let answered = m.answered();
    let verdict_color = match m.verdict {
        Verdict::Ok => Color::Green,
        Verdict::Degraded => Color::Yellow,
        Verdict::Critical => Color::Red,
    };
    let _ = writeln!(
        out,
        "{} {} ({} of {} daemon{} answered{})",
        style.paint("bgp-probe check:", Color::Bold),
        style.paint(verdict_name(m.verdict), verdict_color),
        answered,
        m.sources.len(),
        if m.sources.len() == 1 { "" } else { "s" },
        match &m.reach {
            Some(r) => format!(
                ", {} probe{} from here",
                r.len(),
                if r.len() == 1 { "" } else { "s" }
            ),
            None => ", no probes from here".into(),
        }
    );
    let _ = writeln!(out, "{}", m.summary);

    section(&mut out, style, "DAEMONS", &daemons(m));
    section(&mut out, style, "POOLS", &pools(m));
    section(&mut out, style, "SERVICES", &services(m));
    section(&mut out, style, "NODES", &nodes(m));
    section(&mut out, style, "PEERS", &peers(m));

    let _ = writeln!(out);
    let _ = writeln!(out, "{}", style.paint("FINDINGS", Color::Bold));
    if m.findings.is_empty() {
        let _ = writeln!(out, "  none");
    }
    let pods: Vec<&str> = m
        .sources
        .iter()
        .filter(|s| s.answered)
        .map(|s| s.target.name.as_str())
        .collect();
    for f in &m.findings {
        finding(&mut out, style, f, &pods);
    }
    out
}

fn section(out: &mut String, style: Style, title: &str, table: &Table) {
    if table.is_empty() {
        return;
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", style.paint(title, Color::Bold));
    out.push_str(&table.render(style, 2));
}

fn daemons(m: &Merged) -> Table {
    let mut t = Table::new(&["daemon", "node", "url", "verdict", "report", "inventory"]);
    for s in &m.sources {
        let node = s.target.node.clone().unwrap_or_else(|| "-".into());
        let url = s.target.url.clone().unwrap_or_else(|| "-".into());
        if s.answered {
            let v = s.verdict.map(verdict_name).unwrap_or("-");
            let color = match s.verdict {
                Some(Verdict::Ok) => Color::Green,
                Some(Verdict::Degraded) => Color::Yellow,
                _ => Color::Red,
            };
            t.row(vec![
                s.target.name.clone().into(),
                node.into(),
                url.into(),
                Cell::colored(v, color),
                format!(
                    "#{} at {}",
                    s.generation.unwrap_or(0),
                    utc(s.generated_at.unwrap_or(-1.0))
                )
                .into(),
                s.inventory.clone().unwrap_or_default().into(),
            ]);
        } else {
            t.row(vec![
                s.target.name.clone().into(),
                node.into(),
                url.into(),
                Cell::colored("no answer", Color::Red),
                Cell::colored(s.error.clone().unwrap_or_default(), Color::Red),
                "".into(),
            ]);
        }
    }
    t
}

fn pools(m: &Merged) -> Table {
    let mut t = Table::new(&[
        "pool",
        "ranges",
        "in use",
        "expected",
        "advertised",
        "accepted",
        "state",
    ]);
    for p in &m.pools {
        let state = if p.missing {
            Cell::colored("MISSING", Color::Red)
        } else if p.disabled {
            Cell::colored("disabled", Color::Yellow)
        } else if p.in_use == 0 {
            Cell::new("unused")
        } else if p.advertised < p.expected || p.accepted < p.advertised {
            Cell::colored("partial", Color::Yellow)
        } else {
            Cell::colored("ok", Color::Green)
        };
        t.row(vec![
            p.name.clone().into(),
            p.ranges.join(", ").into(),
            p.in_use.to_string().into(),
            p.expected.to_string().into(),
            p.advertised.to_string().into(),
            p.accepted.to_string().into(),
            state,
        ]);
    }
    t
}

/// The probes of one IP, as `80/TCP open; 443/TCP connection timed out`.
fn reach_text(reach: &[ReachResult], service: &str, ip: IpAddr) -> Option<(String, bool)> {
    let mine: Vec<&ReachResult> = reach
        .iter()
        .filter(|r| r.service == service && r.ip == ip)
        .collect();
    if mine.is_empty() {
        return None;
    }
    let text: Vec<String> = mine
        .iter()
        .map(|r| format!("{}/{} {}", r.port, r.protocol, r.result))
        .collect();
    let ok = mine.iter().all(|r| r.ok || r.probe == "none");
    Some((text.join("; "), ok))
}

fn services(m: &Merged) -> Table {
    let mut t = Table::new(&[
        "service",
        "ip",
        "pool",
        "advertised by",
        "router",
        "from here",
    ]);
    for s in &m.services {
        let id = s.id();
        if s.ips.is_empty() {
            let why = s
                .no_ip
                .as_ref()
                .map(|r| format!("no IP: {}", r.code))
                .unwrap_or_else(|| "no IP".into());
            t.row(vec![
                id.clone().into(),
                Cell::colored("-", Color::Yellow),
                "-".into(),
                Cell::colored(why, Color::Yellow),
                "-".into(),
                "-".into(),
            ]);
            continue;
        }
        for ip in &s.ips {
            let advertised = if ip.advertised_by.is_empty() {
                Cell::colored("none", Color::Red)
            } else {
                Cell::new(ip.advertised_by.join(" "))
            };
            let router = if ip.accepted {
                Cell::colored("accepted", Color::Green)
            } else {
                Cell::colored("absent", Color::Red)
            };
            let here = match &m.reach {
                None => Cell::new("-"),
                Some(reach) => match reach_text(reach, &id, ip.ip) {
                    Some((text, true)) => Cell::colored(text, Color::Green),
                    Some((text, false)) => Cell::colored(text, Color::Red),
                    None => Cell::new("no TCP port"),
                },
            };
            t.row(vec![
                id.clone().into(),
                ip.ip.to_string().into(),
                ip.pool.clone().unwrap_or_else(|| "-".into()).into(),
                advertised,
                router,
                here,
            ]);
        }
    }
    t
}

/// One state per pod, condensed: `Established` (one pod), `Established
/// (all 3)`, or `Established 2/3; Active on pod-c`.
fn sessions_text(sessions: &[Session]) -> (String, bool) {
    let states: Vec<(&str, &str)> = sessions
        .iter()
        .map(|s| {
            (
                s.daemon.as_str(),
                s.state.as_deref().unwrap_or("no session"),
            )
        })
        .collect();
    let up = states.iter().filter(|(_, s)| *s == "Established").count();
    let mut by_state: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (pod, s) in &states {
        by_state.entry(s).or_default().push(pod);
    }
    let first = states
        .first()
        .map(|(_, s)| s.to_string())
        .unwrap_or_default();
    let text = match by_state.len() {
        0 => "-".to_string(),
        1 if states.len() == 1 => first,
        1 => format!("{first} (all {})", states.len()),
        _ => {
            let mut parts = vec![format!("Established {up}/{}", states.len())];
            for (state, pods) in by_state.iter().filter(|(s, _)| **s != "Established") {
                parts.push(format!("{state} on {}", pods.join(", ")));
            }
            parts.join("; ")
        }
    };
    (text, up == states.len() && !states.is_empty())
}

fn nodes(m: &Merged) -> Table {
    let mut t = Table::new(&[
        "node",
        "addresses",
        "ready",
        "policy",
        "session",
        "advertised/expected",
    ]);
    for n in &m.nodes {
        let (text, up) = sessions_text(&n.sessions);
        let session = if n.no_bgp.is_some() {
            Cell::new("no BGP")
        } else if up {
            Cell::colored(text, Color::Green)
        } else {
            Cell::colored(text, Color::Red)
        };
        let addrs: Vec<String> = n.addresses.iter().map(|a| a.to_string()).collect();
        t.row(vec![
            n.name.clone().into(),
            addrs.join(" ").into(),
            if n.ready {
                Cell::new("yes")
            } else {
                Cell::colored("NotReady", Color::Red)
            },
            n.policy.clone().unwrap_or_else(|| "-".into()).into(),
            session,
            format!("{}/{}", n.advertised_prefixes, n.expected_prefixes).into(),
        ]);
    }
    t
}

fn peers(m: &Merged) -> Table {
    let mut t = Table::new(&[
        "peer", "address", "asn", "role", "node", "session", "ipv4", "ipv6", "flaps",
    ]);
    for p in &m.peers {
        let (text, up) = sessions_text(&p.sessions);
        t.row(vec![
            p.name.clone().into(),
            p.address
                .map(|a| a.to_string())
                .unwrap_or_else(|| "-".into())
                .into(),
            p.asn.to_string().into(),
            p.role.clone().into(),
            p.node.clone().unwrap_or_else(|| "-".into()).into(),
            if up {
                Cell::colored(text, Color::Green)
            } else {
                Cell::colored(text, Color::Red)
            },
            p.ipv4_prefixes.to_string().into(),
            p.ipv6_prefixes.to_string().into(),
            p.flaps.to_string().into(),
        ]);
    }
    t
}

fn finding(out: &mut String, style: Style, f: &MergedFinding, pods: &[&str]) {
    let mut about = Vec::new();
    if let Some(p) = &f.pool {
        about.push(format!("pool {p}"));
    }
    if let Some(s) = &f.service {
        about.push(format!("service {s}"));
    }
    if let Some(p) = &f.prefix {
        about.push(format!("prefix {p}"));
    }
    if let Some(n) = &f.node {
        about.push(format!("node {n}"));
    }
    if let Some(p) = &f.peer {
        about.push(format!("peer {p}"));
    }
    let head = format!(
        "  {}  {}  {}",
        style.severity(f.severity),
        style.paint(&f.kind, Color::Bold),
        about.join(", ")
    );
    let _ = writeln!(out, "{}", head.trim_end());
    let _ = writeln!(out, "    {}", f.message);
    if !f.hint.is_empty() {
        let _ = writeln!(out, "    {} {}", style.paint("hint:", Color::Dim), f.hint);
    }
    if !f.causes.is_empty() {
        let _ = writeln!(
            out,
            "    {} {}",
            style.paint("causes:", Color::Dim),
            f.causes.join(", ")
        );
    }
    let seen = if f.seen_by == ["here"] {
        "this machine".to_string()
    } else if pods.len() > 1 && f.seen_by.len() == pods.len() {
        format!("all {} daemons", pods.len())
    } else {
        f.seen_by.join(", ")
    };
    let _ = writeln!(out, "    {} {seen}", style.paint("seen by:", Color::Dim));
}
