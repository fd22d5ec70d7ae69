//! `lint`'s report for a person: what was read and assumed, the pools and
//! Services as predicted, then every finding as `file:line: SEVERITY kind:
//! message` (the form editors and CI logs link), with its causes indented
//! below, each with its own location.

use super::LintReport;
use crate::check::merge::verdict_name;
use crate::output::{Cell, Color, Style, Table};
use bgpd::verify::Verdict;
use std::fmt::Write as _;

/// The report as text.
pub fn table(r: &LintReport, style: Style) -> String {
    let mut out = String::new();
    let color = match r.verdict {
        Verdict::Ok => Color::Green,
        Verdict::Degraded => Color::Yellow,
        Verdict::Critical => Color::Red,
    };
    let _ = writeln!(
        out,
        "{} {}: {}",
        style.paint("bgp-probe lint:", Color::Bold),
        style.paint(verdict_name(r.verdict), color),
        r.summary
    );
    let rd = &r.read;
    let _ = writeln!(
        out,
        "read {}: {} file(s), {} document(s): {} pool(s), {} BGP policy object(s), {} Service(s), {} node(s)",
        rd.paths.join(" "),
        rd.files,
        rd.documents,
        rd.pools,
        rd.policies,
        rd.services,
        rd.nodes
    );
    for n in &r.assumed.nodes {
        let labels: Vec<String> = n.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(
            out,
            "assumed node {}{} ({})",
            n.name,
            n.for_policy
                .as_ref()
                .map(|p| format!(" for {p}"))
                .unwrap_or_default(),
            labels.join(", ")
        );
    }
    for (svc, ips) in &r.assumed.addresses {
        let ips: Vec<String> = ips.iter().map(|i| i.to_string()).collect();
        let _ = writeln!(out, "assumed LB-IPAM gives {svc} {}", ips.join(", "));
    }

    let mut pools = Table::new(&["pool", "ranges", "services", "addresses", "advertised"]);
    for p in &r.pools {
        let state = match p.state.as_str() {
            "advertised" => Cell::colored("yes", Color::Green),
            "partly-advertised" => Cell::colored("partly", Color::Yellow),
            "not-advertised" => Cell::colored("NO", Color::Red),
            other => Cell::new(other),
        };
        let addrs: Vec<String> = p.addresses.iter().map(|a| a.to_string()).collect();
        pools.row(vec![
            p.name.clone().into(),
            p.ranges.join(", ").into(),
            dash(p.services.join(" ")).into(),
            dash(addrs.join(" ")).into(),
            state,
        ]);
    }
    if !pools.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", style.paint("POOLS", Color::Bold));
        out.push_str(&pools.render(style, 2));
    }

    let mut services = Table::new(&["service", "address", "pool", "advertised by", "manifest"]);
    for s in &r.services {
        let by = match s.state.as_str() {
            "no-ip" => Cell::colored("no IP", Color::Yellow),
            "not-advertised" => Cell::colored("no node", Color::Red),
            _ => Cell::new(s.advertised_by.join(" ")),
        };
        let addrs: Vec<String> = s.addresses.iter().map(|a| a.to_string()).collect();
        services.row(vec![
            s.service.clone().into(),
            dash(addrs.join(" ")).into(),
            dash(s.pools.join(" ")).into(),
            by,
            s.location
                .as_ref()
                .map(|l| l.to_string())
                .unwrap_or_default()
                .into(),
        ]);
    }
    if !services.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", style.paint("SERVICES", Color::Bold));
        out.push_str(&services.render(style, 2));
    }

    let _ = writeln!(out);
    let _ = writeln!(out, "{}", style.paint("FINDINGS", Color::Bold));
    if r.findings.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for f in &r.findings {
        let at = f
            .location
            .as_ref()
            .map(|l| format!("{l}: "))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{at}{} {}: {}",
            style.severity(f.severity),
            style.paint(&f.kind, Color::Bold),
            f.message
        );
        for c in &f.causes {
            let where_ = c
                .location
                .as_ref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {} {}{where_}: {}",
                style.paint("cause", Color::Dim),
                c.code,
                c.message
            );
        }
    }
    out
}

fn dash(s: String) -> String {
    if s.is_empty() {
        "-".into()
    } else {
        s
    }
}
