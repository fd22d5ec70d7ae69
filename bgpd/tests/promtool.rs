//! The Prometheus alert rules in `deploy/prometheus/` and their runbooks.
//!
//! Runs `promtool check rules` on `bgp-verifier.rules.yaml` and `promtool
//! test rules` on its unit tests (`bgp-verifier.rules.test.yaml`), then
//! checks what promtool cannot: every alert the daemon's operators rely on
//! exists with a severity, a summary, a description and a `runbook_url`
//! whose anchor is a section of `docs/runbooks.md`, and the unit tests show
//! every alert both firing and staying quiet.
//!
//! promtool comes from Debian's `prometheus` package, which `scripts/test`
//! installs. Without it these tests fail with a message saying so, in CI and
//! everywhere else.

use std::path::{Path, PathBuf};
use std::process::Command;

const RULES: &str = "bgp-verifier.rules.yaml";
const RULE_TESTS: &str = "bgp-verifier.rules.test.yaml";
const RUNBOOK_PREFIX: &str = "https://github.com/home-ops/bgp-verifier/blob/main/docs/runbooks.md#";

/// Alerts that must exist, with their severity.
const REQUIRED: &[(&str, &str)] = &[
    ("BGPVerifierPoolMissing", "critical"),
    ("BGPVerifierServiceNotAdvertised", "warning"),
    ("BGPVerifierNotAcceptedByRouter", "warning"),
    ("BGPVerifierSpeakerSessionDown", "warning"),
    ("BGPVerifierRouterSessionDown", "critical"),
    ("BGPVerifierNodeUnreachable", "warning"),
    ("BGPVerifierInventoryStale", "warning"),
    ("BGPVerifierDown", "warning"),
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bgpd/ has a parent")
        .to_path_buf()
}

fn rules_dir() -> PathBuf {
    repo_root().join("deploy/prometheus")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The `promtool` binary; panics with instructions when it is missing.
fn promtool() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(["/usr/bin", "/usr/local/bin"].map(PathBuf::from))
        .map(|d| d.join("promtool"))
        .find(|p| p.is_file());
    match found {
        Some(p) => p,
        None => panic!(
            "`promtool` not found in $PATH (CI={:?}): install the Debian package `prometheus` \
             (apt-get install -y prometheus; scripts/test does this). The alert rule tests \
             fail rather than skip without it.",
            std::env::var("CI").unwrap_or_default()
        ),
    }
}

/// Runs promtool with `args` in the rules directory; returns its output, or
/// panics with it when promtool fails.
fn run_promtool(args: &[&str]) -> String {
    let out = Command::new(promtool())
        .args(args)
        .current_dir(rules_dir())
        .output()
        .expect("promtool runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "promtool {args:?} failed ({}):\n{text}",
        out.status
    );
    text
}

/// One `- alert:` rule, as far as these checks need it.
#[derive(Debug, Default)]
struct Alert {
    name: String,
    severity: Option<String>,
    for_: Option<String>,
    summary: bool,
    description: bool,
    runbook_url: Option<String>,
}

/// The alerting rules of a rule file, read line by line (the file's layout
/// is ours: one key per line).
fn alerts(text: &str) -> Vec<Alert> {
    let mut out: Vec<Alert> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix("- alert:") {
            out.push(Alert {
                name: name.trim().to_string(),
                ..Alert::default()
            });
            continue;
        }
        if t.starts_with("- record:") || t.starts_with("- name:") {
            // A recording rule or a new group ends the current alert.
            out.push(Alert::default());
            continue;
        }
        let Some(a) = out.last_mut().filter(|a| !a.name.is_empty()) else {
            continue;
        };
        let value = |key: &str| t.strip_prefix(key).map(|v| v.trim().to_string());
        if let Some(v) = value("severity:") {
            a.severity = Some(v);
        } else if let Some(v) = value("for:") {
            a.for_ = Some(v);
        } else if let Some(v) = value("runbook_url:") {
            a.runbook_url = Some(v);
        } else if t.starts_with("summary:") {
            a.summary = true;
        } else if t.starts_with("description:") {
            a.description = true;
        }
    }
    out.retain(|a| !a.name.is_empty());
    out
}

/// Per alert name in a promtool test file: (cases expecting it to fire,
/// cases expecting silence).
fn test_cases(text: &str) -> std::collections::BTreeMap<String, (usize, usize)> {
    let mut cases = std::collections::BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix("alertname:") {
            current = Some(name.trim().to_string());
        } else if let Some(rest) = t.strip_prefix("exp_alerts:") {
            let name = current.take().expect("exp_alerts follows alertname");
            let entry: &mut (usize, usize) = cases.entry(name).or_default();
            if rest.trim() == "[]" {
                entry.1 += 1;
            } else {
                entry.0 += 1;
            }
        }
    }
    cases
}

/// Level-2 headings of a Markdown file.
fn headings(md: &str) -> Vec<String> {
    md.lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(|h| h.trim().to_string())
        .collect()
}

#[test]
fn promtool_check_rules_accepts_the_rule_file() {
    let out = run_promtool(&["check", "rules", RULES]);
    let n = alerts(&read(&rules_dir().join(RULES))).len();
    assert!(
        out.contains(&format!("SUCCESS: {n} rules found")),
        "promtool saw another number of rules than the {n} alerts here:\n{out}"
    );
}

#[test]
fn promtool_unit_tests_pass() {
    let out = run_promtool(&["test", "rules", RULE_TESTS]);
    assert!(out.contains("SUCCESS"), "{out}");
    assert!(!out.contains("FAILED"), "{out}");
}

#[test]
fn every_alert_is_complete_tested_and_has_a_runbook() {
    let alerts = alerts(&read(&rules_dir().join(RULES)));
    let cases = test_cases(&read(&rules_dir().join(RULE_TESTS)));
    let runbook_sections = headings(&read(&repo_root().join("docs/runbooks.md")));

    for (name, severity) in REQUIRED {
        let a = alerts
            .iter()
            .find(|a| a.name == *name)
            .unwrap_or_else(|| panic!("alert {name} is missing from {RULES}"));
        assert_eq!(a.severity.as_deref(), Some(*severity), "{name}");
    }
    for a in &alerts {
        let name = &a.name;
        assert!(
            matches!(a.severity.as_deref(), Some("critical" | "warning" | "info")),
            "{name}: severity {:?}",
            a.severity
        );
        assert!(a.for_.is_some(), "{name} has no `for:`");
        assert!(
            a.summary && a.description,
            "{name} lacks summary or description"
        );
        let url = a.runbook_url.as_deref().unwrap_or_default();
        assert_eq!(
            url,
            format!("{RUNBOOK_PREFIX}{}", name.to_lowercase()),
            "{name}: runbook_url"
        );
        assert!(
            runbook_sections.iter().any(|h| h == name),
            "docs/runbooks.md has no `## {name}` section"
        );
        let (firing, quiet) = cases.get(name).copied().unwrap_or_default();
        assert!(firing > 0, "{RULE_TESTS} never shows {name} firing");
        assert!(quiet > 0, "{RULE_TESTS} never shows {name} staying quiet");
    }
    for h in &runbook_sections {
        assert!(
            alerts.iter().any(|a| &a.name == h),
            "docs/runbooks.md has a section `{h}` for no alert"
        );
    }
    for name in cases.keys() {
        assert!(
            alerts.iter().any(|a| &a.name == name),
            "{RULE_TESTS} tests {name}, which {RULES} does not define"
        );
    }
}

#[test]
fn parsers_read_what_they_check() {
    let rules = "groups:\n  - name: g\n    rules:\n      - alert: A\n        for: 5m\n        labels:\n          severity: critical\n        annotations:\n          summary: s\n          description: d\n          runbook_url: u\n      - record: r\n        expr: x\n      - alert: B\n";
    let a = alerts(rules);
    assert_eq!(a.len(), 2);
    assert_eq!(a[0].name, "A");
    assert_eq!(a[0].severity.as_deref(), Some("critical"));
    assert_eq!(a[0].for_.as_deref(), Some("5m"));
    assert_eq!(a[0].runbook_url.as_deref(), Some("u"));
    assert!(a[0].summary && a[0].description);
    assert_eq!(a[1].name, "B");
    assert_eq!(a[1].severity, None);
    let tests = "    alert_rule_test:\n      - eval_time: 1m\n        alertname: A\n        exp_alerts: []\n      - eval_time: 5m\n        alertname: A\n        exp_alerts:\n          - exp_labels:\n";
    assert_eq!(test_cases(tests).get("A"), Some(&(1, 1)));
    assert_eq!(headings("# T\n## A\ntext\n### C\n## B\n"), ["A", "B"]);
}
