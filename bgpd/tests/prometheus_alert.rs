//! The alert rules of `deploy/prometheus/bgp-verifier.rules.yaml` in a real
//! Prometheus server (Debian's `prometheus`) scraping bgpd in the netns
//! lab: the seeds' incident makes `BGPVerifierPoolMissing{pool="bgp-ingress"}`
//! fire, and fixing it resolves the alert.
//!
//! The lab (`bgp_tests::scenario`, without the router) has bgpd reading a
//! policy whose only virtual router selects bgp-default's Services, and
//! three gobgpd nodes advertising only bgp-default's address. Prometheus
//! runs in the verifier's namespace, scrapes bgpd's `/metrics` on that
//! namespace's loopback every second and evaluates the rules every second.
//!
//! The rules are loaded from a test-only copy in the lab's scratch
//! directory in which every `for: N m` is `for: N s` (text substitution of
//! whole `for:` lines): the real `for: 2m` of BGPVerifierPoolMissing would
//! make the test last minutes, and only the duration differs. Everything
//! else (expressions, labels, annotations) is the shipped file's.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bgp_tests::prometheus::{render_config, Prometheus};
use bgp_tests::scenario::{find, Lab, LabOptions, Policy, HTTP, LB_DEFAULT, LB_INGRESS};
use bgp_tests::{prereq, require_lab, wait_for, TIMEOUT};
use serde_json::Value;

const BGPD: &str = env!("CARGO_BIN_EXE_bgpd");

/// Where Prometheus listens, inside the verifier's namespace.
const PROMETHEUS: &str = "127.0.0.1:9090";

fn rules_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bgpd/ has a parent")
        .join("deploy/prometheus/bgp-verifier.rules.yaml")
}

/// The rules with every `for: <N>m` line turned into `for: <N>s`, and how
/// many lines were changed.
fn minutes_to_seconds(rules: &str) -> (String, usize) {
    let mut changed = 0;
    let mut out = String::with_capacity(rules.len());
    for line in rules.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let indent = &body[..body.len() - body.trim_start().len()];
        let minutes = body
            .trim()
            .strip_prefix("for:")
            .map(str::trim)
            .and_then(|d| d.strip_suffix('m'))
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        match minutes {
            Some(n) => {
                changed += 1;
                out.push_str(&format!("{indent}for: {n}s"));
                out.push_str(&line[body.len()..]);
            }
            None => out.push_str(line),
        }
    }
    (out, changed)
}

/// The text of one alerting rule: from its `- alert: NAME` line to the next
/// rule.
fn rule_block<'a>(rules: &'a str, name: &str) -> &'a str {
    let start = rules
        .find(&format!("- alert: {name}\n"))
        .unwrap_or_else(|| panic!("no alert {name} in the rules"));
    let rest = &rules[start + 1..];
    let end = rest
        .find("- alert: ")
        .map_or(rules.len(), |i| start + 1 + i);
    &rules[start..end]
}

/// The alerts named `name` with label `pool` = `pool`.
fn pool_alerts<'a>(alerts: &'a [Value], name: &str, pool: &str) -> Vec<&'a Value> {
    alerts
        .iter()
        .filter(|a| a["labels"]["alertname"] == name && a["labels"]["pool"] == pool)
        .collect()
}

#[test]
fn substitution_shortens_only_for_lines() {
    let text = "  - alert: A\n    expr: x > 5m\n    for: 2m\n  - alert: B\n    for: 15m\n    for: 0m\n    for: 1h\n";
    let (out, n) = minutes_to_seconds(text);
    assert_eq!(n, 3);
    assert_eq!(
        out,
        "  - alert: A\n    expr: x > 5m\n    for: 2s\n  - alert: B\n    for: 15s\n    for: 0s\n    for: 1h\n"
    );
    assert_eq!(
        rule_block(&out, "A"),
        "- alert: A\n    expr: x > 5m\n    for: 2s\n  "
    );
}

#[test]
fn pool_missing_alert_fires_in_prometheus_and_resolves() {
    require_lab();
    prereq("prometheus");
    let original = std::fs::read_to_string(rules_file())
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", rules_file().display()));
    let (rules, changed) = minutes_to_seconds(&original);
    assert!(changed > 0, "no `for: Nm` line in the rules");
    let block = rule_block(&rules, "BGPVerifierPoolMissing");
    assert!(
        block.contains("max by (pool) (bgp_verifier_pool_missing) == 1"),
        "{block}"
    );
    let for_line = block
        .lines()
        .find(|l| l.trim_start().starts_with("for:"))
        .unwrap_or_else(|| panic!("BGPVerifierPoolMissing has no `for:`: {block}"));
    assert!(for_line.trim_end().ends_with('s'), "{for_line}");

    let t0 = Instant::now();
    let mut lab = Lab::start(
        Path::new(BGPD),
        LabOptions {
            router: false,
            policy: Policy::DefaultPoolOnly,
            routes: vec![LB_DEFAULT.to_string()],
        },
    );
    lab.wait_report(
        "pool-missing for bgp-ingress in bgpd's report",
        TIMEOUT,
        |r| {
            find(r, "pool-missing", &[("pool", "bgp-ingress")]).is_some()
                && find(r, "pool-missing", &[("pool", "bgp-default")]).is_none()
        },
    );

    let rules_path = lab.vns.subdir("rules").join("bgp-verifier.rules.yaml");
    std::fs::write(&rules_path, &rules).expect("write the rules");
    let config = render_config(
        "bgp-verifier",
        HTTP.parse().unwrap(),
        "1s",
        &[rules_path.as_path()],
    );
    let prom = Prometheus::start(&lab.vns, &config, PROMETHEUS.parse().unwrap());
    let loaded = prom.alert_rules();
    for name in [
        "BGPVerifierPoolMissing",
        "BGPVerifierServiceNotAdvertised",
        "BGPVerifierInventoryStale",
    ] {
        assert!(loaded.iter().any(|n| n == name), "{name} not in {loaded:?}");
    }
    let diag = |lab: &Lab| {
        format!(
            "alerts: {:#}\ntargets: {:?}\n{}\n{}",
            Value::Array(prom.alerts()),
            prom.target_health(),
            prom.logs(),
            lab.diag()
        )
    };
    wait_for(
        "Prometheus to scrape bgpd",
        TIMEOUT,
        || prom.target_health() == ["up"],
        || diag(&lab),
    );

    let started = Instant::now();
    wait_for(
        "BGPVerifierPoolMissing{pool=\"bgp-ingress\"} firing",
        Duration::from_secs(60),
        || {
            pool_alerts(&prom.alerts(), "BGPVerifierPoolMissing", "bgp-ingress")
                .iter()
                .any(|a| a["state"] == "firing")
        },
        || diag(&lab),
    );
    eprintln!(
        "BGPVerifierPoolMissing firing {:.1}s after Prometheus started ({:.1}s into the test)",
        started.elapsed().as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    let alerts = prom.alerts();
    let firing = pool_alerts(&alerts, "BGPVerifierPoolMissing", "bgp-ingress");
    let a = firing[0];
    assert_eq!(a["labels"]["severity"], "critical", "{a:#}");
    assert!(
        a["annotations"]["summary"]
            .as_str()
            .is_some_and(|s| s.contains("bgp-ingress")),
        "{a:#}"
    );
    assert!(
        a["annotations"]["runbook_url"]
            .as_str()
            .is_some_and(|u| u.ends_with("#bgpverifierpoolmissing")),
        "{a:#}"
    );
    assert!(
        pool_alerts(&alerts, "BGPVerifierPoolMissing", "bgp-default").is_empty(),
        "{alerts:#?}"
    );

    // The fix: one virtual router for every pool, then the nodes announce
    // the ingress address.
    lab.manifests.policy = Policy::EveryPool;
    lab.reload();
    lab.wait_report("the fixed policy read", Duration::from_secs(10), |r| {
        r["services"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["name"] == "ingress-nginx-controller")
            .any(|s| s["ips"][0]["expected_from"].as_array().map(Vec::len) == Some(3))
    });
    for n in &mut lab.nodes {
        n.gobgp.announce(LB_INGRESS);
    }
    let fixed = Instant::now();
    lab.wait_clean("no finding once every node announces the ingress address");
    wait_for(
        "BGPVerifierPoolMissing{pool=\"bgp-ingress\"} resolved",
        Duration::from_secs(60),
        || pool_alerts(&prom.alerts(), "BGPVerifierPoolMissing", "bgp-ingress").is_empty(),
        || diag(&lab),
    );
    eprintln!(
        "BGPVerifierPoolMissing resolved {:.1}s after the fix; test done in {:.1}s",
        fixed.elapsed().as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
}
