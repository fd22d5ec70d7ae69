//! A real Prometheus server (Debian's `prometheus`, `/usr/bin/prometheus`)
//! run inside a lab namespace, scraping one target and evaluating rule
//! files, and its HTTP API read from inside that namespace.
//!
//! The TSDB lives in the namespace's scratch directory; the web listener is
//! on the namespace's loopback, so nothing outside the lab can reach it and
//! it reaches nothing outside the lab.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::daemon::{wait_until, Daemon, TIMEOUT};
use crate::verifier::http_get;
use crate::{prereq, Netns};

/// A running Prometheus.
#[derive(Debug)]
pub struct Prometheus {
    ns: String,
    listen: SocketAddr,
    dir: PathBuf,
    daemon: Daemon,
}

/// The `prometheus.yml` of a server that scrapes `target` (job `job`) and
/// evaluates `rules`, both every `interval`.
pub fn render_config(job: &str, target: SocketAddr, interval: &str, rules: &[&Path]) -> String {
    let mut c = String::new();
    let _ = writeln!(c, "global:");
    let _ = writeln!(c, "  scrape_interval: {interval}");
    let _ = writeln!(c, "  scrape_timeout: {interval}");
    let _ = writeln!(c, "  evaluation_interval: {interval}");
    let _ = writeln!(c, "rule_files:");
    for r in rules {
        let _ = writeln!(c, "  - {}", r.display());
    }
    let _ = writeln!(c, "scrape_configs:");
    let _ = writeln!(c, "  - job_name: {job}");
    let _ = writeln!(c, "    static_configs:");
    let _ = writeln!(c, "      - targets: [\"{target}\"]");
    c
}

impl Prometheus {
    /// Starts Prometheus in `ns` with `config` (YAML text), the TSDB in the
    /// namespace's scratch directory and the web API on `listen`; returns
    /// once `/-/ready` answers 200. Panics with the log otherwise.
    pub fn start(ns: &Netns, config: &str, listen: SocketAddr) -> Prometheus {
        let bin = prereq("prometheus");
        let dir = ns.subdir("prometheus");
        let conf = dir.join("prometheus.yml");
        std::fs::write(&conf, config)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", conf.display()));
        let tsdb = dir.join("data");
        let args = [
            format!("--config.file={}", conf.display()),
            format!("--storage.tsdb.path={}", tsdb.display()),
            format!("--web.listen-address={listen}"),
            "--log.level=info".to_string(),
        ];
        let daemon = Daemon::spawn(
            format!("prometheus[{}]", ns.name()),
            ns.exec(&bin, args),
            dir.join("prometheus.log"),
        );
        let mut p = Prometheus {
            ns: ns.name().to_string(),
            listen,
            dir,
            daemon,
        };
        let mut last = String::new();
        let ok = wait_until(TIMEOUT, Duration::from_millis(100), || {
            if !p.daemon.is_running() {
                return true;
            }
            match p.get("/-/ready") {
                Ok((200, _)) => true,
                other => {
                    last = format!("{other:?}");
                    false
                }
            }
        });
        if !ok || !p.daemon.is_running() {
            panic!(
                "Prometheus not ready in {} on {listen}: {last}\n{}",
                p.ns,
                p.logs()
            );
        }
        p
    }

    /// The scratch directory (config, TSDB, log).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `GET path` on the web API.
    pub fn get(&self, path: &str) -> Result<(u16, String), String> {
        http_get(&self.ns, self.listen, path)
    }

    /// The `data` of an API answer (`{"status":"success","data":...}`);
    /// panics with the log on anything else.
    pub fn data(&self, path: &str) -> Value {
        match self.get(path) {
            Ok((200, body)) => {
                let v: Value = serde_json::from_str(&body)
                    .unwrap_or_else(|e| panic!("GET {path}: bad JSON ({e}): {body}"));
                assert_eq!(v["status"], "success", "GET {path}: {v:#}");
                v["data"].clone()
            }
            other => panic!("GET {path}: {other:?}\n{}", self.logs()),
        }
    }

    /// `GET /api/v1/alerts`: every pending or firing alert.
    pub fn alerts(&self) -> Vec<Value> {
        self.data("/api/v1/alerts")["alerts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// `GET /api/v1/rules`: the names of every alerting rule loaded.
    pub fn alert_rules(&self) -> Vec<String> {
        let data = self.data("/api/v1/rules");
        let mut names = Vec::new();
        for g in data["groups"].as_array().into_iter().flatten() {
            for r in g["rules"].as_array().into_iter().flatten() {
                if r["type"] == "alerting" {
                    if let Some(n) = r["name"].as_str() {
                        names.push(n.to_string());
                    }
                }
            }
        }
        names
    }

    /// `GET /api/v1/targets`: the health (`up`, `down`, `unknown`) of every
    /// active target.
    pub fn target_health(&self) -> Vec<String> {
        self.data("/api/v1/targets")["activeTargets"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| t["health"].as_str().unwrap_or("").to_string())
            .collect()
    }

    /// The log, for assertion messages.
    pub fn logs(&self) -> String {
        self.daemon.logs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_scrapes_the_target_and_loads_the_rules() {
        let c = render_config(
            "bgp-verifier",
            "127.0.0.1:9179".parse().unwrap(),
            "1s",
            &[Path::new("/r/rules.yaml")],
        );
        for want in [
            "  scrape_interval: 1s",
            "  evaluation_interval: 1s",
            "  - /r/rules.yaml",
            "  - job_name: bgp-verifier",
            "      - targets: [\"127.0.0.1:9179\"]",
        ] {
            assert!(c.contains(want), "missing `{want}` in\n{c}");
        }
    }
}
