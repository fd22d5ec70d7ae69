//! `bgp-probe peers` and `bgp-probe routes` against a bgpd API serving
//! fixed answers on loopback: tables (snapshots), JSON, the query sent,
//! and exit statuses.

mod snapshot;

use bgp_tests::probe_lab::FakeApi;
use serde_json::Value;
use snapshot::assert_snapshot;
use std::path::Path;
use std::process::{Command, Output};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/api")
            .join(name),
    )
    .unwrap()
}

fn probe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bgp-probe"))
        .env_remove("BGP_PROBE_URL")
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .args(args)
        .output()
        .expect("run bgp-probe")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn peers_table_and_json() {
    let api = FakeApi::start(&[("/api/v1/peers", 200, &fixture("peers.json"))]);
    let out = probe(&["peers", "--url", &api.url()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_snapshot("peers.txt", &text(&out.stdout));
    let out = probe(&["peers", "--url", &api.url(), "--output", "json"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["peers"].as_array().unwrap().len(), 2);
    assert_eq!(doc["peers"][1]["daemon"], api.url());
    assert_eq!(doc["peers"][1]["last_down_reason"], "hold timer expired");
    assert_eq!(doc["daemons"][0]["error"], Value::Null);
    assert_eq!(api.requests(), ["/api/v1/peers", "/api/v1/peers"]);
}

#[test]
fn routes_table_json_and_query() {
    let api = FakeApi::start(&[("/api/v1/routes", 200, &fixture("routes.json"))]);
    let out = probe(&["routes", "--url", &api.url(), "172.29.52.100/32"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_snapshot("routes.txt", &text(&out.stdout));
    let out = probe(&[
        "routes",
        "--url",
        &api.url(),
        "--peer",
        "udm-pro",
        "--limit",
        "3",
        "--output",
        "json",
    ]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["paths"].as_array().unwrap().len(), 2);
    assert_eq!(doc["paths"][1]["attrs"]["local_pref"], 100);
    assert_eq!(doc["truncated"], false);
    assert_eq!(
        api.requests(),
        [
            "/api/v1/routes?limit=10000&prefix=172.29.52.100%2F32",
            "/api/v1/routes?limit=3&peer=udm-pro",
        ]
    );
}

#[test]
fn daemons_that_do_not_answer() {
    let ok = FakeApi::start(&[("/api/v1/peers", 200, &fixture("peers.json"))]);
    let down = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let down = format!("http://{down}");
    // One of two: 1, the table has a daemon column, the other is named.
    let out = probe(&["peers", "--url", &ok.url(), "--url", &down]);
    assert_eq!(out.status.code(), Some(1));
    let table = text(&out.stdout);
    assert!(table.starts_with("daemon  "), "{table}");
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("{down}: connection refused")),
        "{err}"
    );
    assert!(
        err.contains("incomplete: 1 of 2 daemons did not answer"),
        "{err}"
    );
    // None: 2.
    let out = probe(&["routes", "--url", &down]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no bgpd answered"));
    // An unknown peer is bgpd's 404, reported as it says it.
    let api = FakeApi::start(&[(
        "/api/v1/routes?limit=10000&peer=nope",
        404,
        "{\"error\":\"no peer named nope\"}",
    )]);
    let out = probe(&["routes", "--url", &api.url(), "--peer", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("HTTP 404: no peer named nope"));
    // Nothing to ask.
    let out = probe(&["peers"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("nothing to check"));
}
