//! `bgp-probe lint` on GitOps trees laid out like the home-ops repository
//! (infrastructure/cilium-bgp/, infrastructure/cilium/loadbalancer-pool-
//! bgp.yaml, apps/.../service.yaml):
//!
//! - `intent/tests/fixtures/trees/`: the incident (one virtual router whose
//!   selector picks bgp-default's Services only: the ingress pool is
//!   flagged at the selector's line, exit 1), the ingress Service's pool
//!   label that no pool selects (flagged at the label's line), the fixed
//!   policy (clean, exit 0);
//! - `probe/tests/fixtures/trees/`: `empty-selector`, the policy the seeds
//!   blamed (`serviceSelector: {}`: lint says Cilium advertises everything
//!   and names the other causes of the same outage, as notes), and
//!   `pitfalls` (overlapping pools, eTP=Local on Cilium's ingress Service,
//!   a loadBalancerClass of another controller, IPv6 pool without an
//!   ipv6-unicast neighbor, virtual routers with different neighbors and an
//!   unset selector), both also as snapshots of the table and the JSON.

mod snapshot;

use serde_json::Value;
use snapshot::assert_snapshot;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn intent_trees() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../intent/tests/fixtures/trees")
}

fn own_trees() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/trees")
}

/// `bgp-probe lint ARGS` run from `dir` (origins are then relative).
fn lint_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bgp-probe"))
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .arg("lint")
        .args(args)
        .output()
        .expect("run bgp-probe")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out.stdout)))
}

/// The 1-based line of the first line of `file` (under `dir`) containing
/// `needle`.
fn line_of(dir: &Path, file: &str, needle: &str) -> u64 {
    let body = std::fs::read_to_string(dir.join(file)).unwrap();
    body.lines()
        .position(|l| l.contains(needle))
        .map(|i| i as u64 + 1)
        .unwrap_or_else(|| panic!("{needle:?} not in {file}"))
}

/// The 1-based line of the first line containing `needle` after the first
/// line containing `anchor`.
fn line_after(dir: &Path, file: &str, anchor: &str, needle: &str) -> u64 {
    let start = line_of(dir, file, anchor);
    let body = std::fs::read_to_string(dir.join(file)).unwrap();
    body.lines()
        .enumerate()
        .skip(start as usize)
        .find(|(_, l)| l.contains(needle))
        .map(|(i, _)| i as u64 + 1)
        .unwrap_or_else(|| panic!("{needle:?} not after {anchor:?} in {file}"))
}

fn kinds(doc: &Value) -> Vec<(String, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_string(),
                f["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn incident_tree_flags_the_ingress_pool_at_the_selector() {
    let dir = intent_trees();
    let out = lint_in(&dir, &["incident", "--output", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let doc = json(&out);
    assert_eq!(doc["verdict"], "critical");
    let f = &doc["findings"][0];
    assert_eq!(f["kind"], "pool-not-advertised");
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["pool"], "bgp-ingress");
    let policy = "incident/infrastructure/cilium-bgp/policy.yaml";
    assert_eq!(f["location"]["file"], policy);
    assert_eq!(
        f["location"]["line"],
        line_of(&dir, policy, "serviceSelector:")
    );
    assert_eq!(
        f["location"]["field"],
        "spec.virtualRouters[0].serviceSelector"
    );
    assert_eq!(f["causes"][0]["code"], "service-selector-no-match");
    let pools: Vec<(&str, &str)> = doc["pools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["state"].as_str().unwrap()))
        .collect();
    assert!(
        pools.contains(&("bgp-ingress", "not-advertised")),
        "{pools:?}"
    );
    assert!(pools.contains(&("bgp-default", "advertised")), "{pools:?}");
    // The table says the same, compiler-style.
    let out = lint_in(&dir, &["incident"]);
    assert_eq!(out.status.code(), Some(1));
    let table = text(&out.stdout);
    let expected = format!(
        "{policy}:{}: CRITICAL pool-not-advertised: pool bgp-ingress: 172.29.52.200 (ingress-nginx/ingress-nginx-controller) will be advertised by no node",
        line_of(&dir, policy, "serviceSelector:")
    );
    assert!(table.contains(&expected), "{table}");
    // Critical only: still 1.
    let out = lint_in(&dir, &["incident", "--fail-on", "critical"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn label_mismatch_is_flagged_at_the_label() {
    let dir = intent_trees();
    let out = lint_in(&dir, &["label-mismatch", "--output", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let doc = json(&out);
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["service"] == "ingress-nginx/ingress-nginx-controller")
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(f["kind"], "service-without-ip");
    let service = "label-mismatch/apps/ingress-nginx/controller/service.yaml";
    assert_eq!(f["location"]["file"], service);
    assert_eq!(
        f["location"]["line"],
        line_of(&dir, service, "lb.home.arpa/pool: ingress")
    );
    assert_eq!(f["causes"][0]["code"], "no-pool-selects-service");
    let pool_file = "label-mismatch/infrastructure/cilium/loadbalancer-pool-bgp.yaml";
    assert_eq!(f["causes"][0]["location"]["file"], pool_file);
}

#[test]
fn fixed_tree_is_clean() {
    let dir = intent_trees();
    let out = lint_in(&dir, &["fixed", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let doc = json(&out);
    assert_eq!(doc["verdict"], "ok");
    assert_eq!(doc["findings"], Value::Array(vec![]));
    assert!(doc["pools"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["state"] == "advertised" || p["state"] == "unused"));
    // The same tree given as its parts.
    let out = lint_in(
        &dir.join("fixed"),
        &[
            "infrastructure",
            "apps/ingress-nginx",
            "apps/longhorn-system",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("FINDINGS\n  none\n"));
}

#[test]
fn empty_selector_says_what_cilium_does_and_the_other_causes() {
    let dir = own_trees();
    let out = lint_in(&dir, &["empty-selector", "--no-color"]);
    // Notes only: not a failure at the default threshold.
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_snapshot("lint-empty-selector.txt", &text(&out.stdout));
    let out = lint_in(&dir, &["empty-selector", "--output", "json"]);
    let doc = json(&out);
    let k = kinds(&doc);
    assert_eq!(
        k,
        [
            (
                "info".to_string(),
                "selector-selects-everything".to_string()
            ),
            ("info".into(), "same-outage-cause".into()),
            ("info".into(), "same-outage-cause".into()),
            ("info".into(), "same-outage-cause".into()),
        ]
    );
    let first = &doc["findings"][0];
    assert!(first["message"]
        .as_str()
        .unwrap()
        .contains("which selects every Service"));
    assert_eq!(
        first["location"]["line"],
        line_of(
            &dir,
            "empty-selector/infrastructure/cilium-bgp/policy.yaml",
            "serviceSelector: {}"
        )
    );
    let notes: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(notes[0].contains("WITHOUT serviceSelector"), "{notes:?}");
    assert!(
        notes[1].contains("externalTrafficPolicy: Local on the ingress Service"),
        "{notes:?}"
    );
    assert!(notes[2].contains("loadBalancerClass"), "{notes:?}");
    // Every pool is predicted advertised.
    assert!(doc["pools"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["state"] == "advertised"));
    let out = lint_in(&dir, &["empty-selector", "--fail-on", "info"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn pitfalls_each_with_its_line() {
    let dir = own_trees();
    let out = lint_in(&dir, &["pitfalls"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_snapshot("lint-pitfalls.txt", &text(&out.stdout));
    let out = lint_in(&dir, &["pitfalls", "--output", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let body = text(&out.stdout);
    assert_snapshot("lint-pitfalls.json", &body);
    let doc = json(&out);
    let found: Vec<(String, String, u64)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["location"]["file"].as_str().unwrap_or("").to_string(),
                f["location"]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let policy = "pitfalls/infrastructure/cilium-bgp/policy.yaml";
    let pools = "pitfalls/infrastructure/cilium/loadbalancer-pool-bgp.yaml";
    let ingress = "pitfalls/apps/ingress/cilium-ingress.yaml";
    let tailscale = "pitfalls/apps/tailscale/service.yaml";
    for (kind, file, needle) in [
        (
            "pool-not-advertised",
            ingress,
            "  externalTrafficPolicy: Local",
        ),
        (
            "cilium-ingress-etp-local",
            ingress,
            "  externalTrafficPolicy: Local",
        ),
        (
            "service-without-ip",
            tailscale,
            "loadBalancerClass: tailscale",
        ),
        ("routers-neighbors-differ", policy, "virtualRouters:"),
        ("ipv6-family-missing", policy, "families:"),
        (
            "etp-local",
            "pitfalls/apps/media/service.yaml",
            "externalTrafficPolicy",
        ),
    ] {
        let want = (
            kind.to_string(),
            file.to_string(),
            line_of(&dir, file, needle),
        );
        assert!(found.contains(&want), "{want:?} not in {found:#?}");
    }
    let overlap = (
        "pools-overlap".to_string(),
        pools.to_string(),
        line_after(&dir, pools, "name: bgp-media", "blocks:"),
    );
    assert!(found.contains(&overlap), "{overlap:?} not in {found:#?}");
    // The unset selector of the second virtual router is a cause of the
    // missing pool, at that router.
    let causes = doc["findings"][0]["causes"].as_array().unwrap();
    assert!(causes.iter().any(|c| c["code"] == "service-selector-unset"
        && c["location"]["line"] == line_of(&dir, policy, "localASN: 64514")));
}

#[test]
fn unreadable_input_exits_2_naming_file_and_line() {
    let dir = std::env::temp_dir().join(format!("bgp-probe-lint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("broken.yaml"),
        "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: x\n  labels: [unclosed\n",
    )
    .unwrap();
    let out = lint_in(&dir, &["broken.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.starts_with("bgp-probe lint: broken.yaml:"), "{err}");
    assert!(out.stdout.is_empty());
    let out = lint_in(&dir, &["no-such-dir"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no-such-dir"));
    let out = lint_in(&dir, &[]);
    assert_eq!(out.status.code(), Some(2), "PATH is required");
    let _ = std::fs::remove_dir_all(&dir);
}
