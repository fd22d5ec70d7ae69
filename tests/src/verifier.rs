//! The project's own daemon, `bgpd` (the verifier), run as a process inside a
//! lab namespace, and its read-only HTTP API read from inside that namespace.
//!
//! The binary is passed in by the caller (an integration test of the `bgpd`
//! package has it as `env!("CARGO_BIN_EXE_bgpd")`); this crate does not
//! depend on `bgpd`. The configuration is TOML text written by the test, so
//! each test shows exactly what it runs. bgpd runs with `--log debug` and its
//! output goes to `bgpd.log` in the namespace's scratch directory.
//!
//! The API is reached without any helper program: [`Verifier::get`] opens
//! the TCP connection from a thread that joined the namespace
//! ([`run_in_ns`]) and speaks HTTP/1.0, so the HTTP listener can stay on the
//! namespace's loopback.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::daemon::{wait_until, Daemon, TIMEOUT};
use crate::netns::run_in_ns;
use crate::Netns;

/// How long one API request may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// A running `bgpd` in a namespace.
#[derive(Debug)]
pub struct Verifier {
    ns: String,
    http: SocketAddr,
    config: PathBuf,
    daemon: Daemon,
}

impl Verifier {
    /// Writes `config` to `bgpd/bgpd.toml` in the scratch directory of `ns`,
    /// starts `bin --config <file> --log debug` inside `ns`, and returns once
    /// `GET /readyz` on `http` (the `[http] listen` address of `config`)
    /// answers 200, i.e. every BGP listener is bound. Panics with the log if
    /// bgpd exits or is not ready within [`TIMEOUT`].
    pub fn start(ns: &Netns, bin: impl AsRef<Path>, config: &str, http: SocketAddr) -> Verifier {
        let dir = ns.subdir("bgpd");
        let path = dir.join("bgpd.toml");
        std::fs::write(&path, config)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        let mut cmd = ns.exec(
            bin.as_ref(),
            [
                "--config".as_ref(),
                path.as_os_str(),
                "--log".as_ref(),
                "debug".as_ref(),
            ],
        );
        // Plain log lines: tracing-subscriber honours NO_COLOR.
        cmd.env("NO_COLOR", "1");
        let daemon = Daemon::spawn(format!("bgpd[{}]", ns.name()), cmd, dir.join("bgpd.log"));
        let mut v = Verifier {
            ns: ns.name().to_string(),
            http,
            config: path,
            daemon,
        };
        let mut last = String::new();
        let ok = wait_until(TIMEOUT, Duration::from_millis(50), || {
            if !v.daemon.is_running() {
                return true;
            }
            match v.get("/readyz") {
                Ok((200, _)) => true,
                Ok((status, body)) => {
                    last = format!("HTTP {status}: {body}");
                    false
                }
                Err(e) => {
                    last = e;
                    false
                }
            }
        });
        if !ok || !v.daemon.is_running() {
            panic!(
                "bgpd not ready in {} (API {http}): {last}\n{}",
                v.ns,
                v.logs()
            );
        }
        v
    }

    /// The namespace name.
    pub fn netns(&self) -> &str {
        &self.ns
    }

    /// The configuration file bgpd was started with.
    pub fn config_path(&self) -> &Path {
        &self.config
    }

    /// The HTTP API address (inside the namespace).
    pub fn http_addr(&self) -> SocketAddr {
        self.http
    }

    /// `GET path` on the API: the status and the body, or why there is none.
    pub fn get(&self, path: &str) -> Result<(u16, String), String> {
        http_get(&self.ns, self.http, path)
    }

    /// `GET path`, which must answer 200 with JSON; panics with the log
    /// otherwise.
    pub fn json(&self, path: &str) -> Value {
        match self.get(path) {
            Ok((200, body)) => serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("GET {path}: bad JSON ({e}): {body}\n{}", self.logs())),
            Ok((status, body)) => panic!("GET {path}: HTTP {status}: {body}\n{}", self.logs()),
            Err(e) => panic!("GET {path}: {e}\n{}", self.logs()),
        }
    }

    /// `GET /api/v1/peers`.
    pub fn peers(&self) -> Vec<Value> {
        match self.json("/api/v1/peers") {
            Value::Array(a) => a,
            other => panic!("/api/v1/peers is not a list: {other}"),
        }
    }

    /// The peer called `name` in `GET /api/v1/peers`, if bgpd knows it.
    /// Dynamic neighbours are called `<peer>/<address>`.
    pub fn peer(&self, name: &str) -> Option<Value> {
        self.peers()
            .into_iter()
            .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
    }

    /// The session state of `name` (`Established`, `Idle`, ...), or
    /// `Unknown` if bgpd has no such peer.
    pub fn state(&self, name: &str) -> String {
        self.peer(name)
            .and_then(|p| p.get("state")?.as_str().map(str::to_string))
            .unwrap_or_else(|| "Unknown".to_string())
    }

    /// `GET /api/v1/peers/{name}/routes` (the name percent-encoded, so the
    /// `/` of a dynamic neighbour's name stays in one path segment), parsed;
    /// empty when bgpd has no such peer.
    pub fn routes(&self, name: &str) -> Vec<ApiRoute> {
        self.routes_json(name).iter().map(ApiRoute::parse).collect()
    }

    /// Like [`Verifier::routes`], the JSON objects as bgpd wrote them.
    pub fn routes_json(&self, name: &str) -> Vec<Value> {
        let path = format!("/api/v1/peers/{}/routes", percent_encode(name));
        match self.get(&path) {
            Ok((404, _)) => Vec::new(),
            Ok((200, body)) => {
                let v: Value = serde_json::from_str(&body)
                    .unwrap_or_else(|e| panic!("GET {path}: bad JSON ({e}): {body}"));
                v.get("routes")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            }
            Ok((status, body)) => panic!("GET {path}: HTTP {status}: {body}\n{}", self.logs()),
            Err(e) => panic!("GET {path}: {e}\n{}", self.logs()),
        }
    }

    /// The routes of `name` for `prefix` (every path).
    pub fn paths(&self, name: &str, prefix: &str) -> Vec<ApiRoute> {
        self.routes(name)
            .into_iter()
            .filter(|r| r.prefix == prefix)
            .collect()
    }

    /// `GET /api/v1/routes?prefix=<prefix>`: every peer's paths for it.
    pub fn lookup(&self, prefix: &str) -> Vec<Value> {
        let v = self.json(&format!("/api/v1/routes?prefix={}", percent_encode(prefix)));
        v.get("paths")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    /// The log, for assertion messages.
    pub fn logs(&self) -> String {
        self.daemon.logs()
    }

    /// The bgpd process.
    pub fn daemon(&mut self) -> &mut Daemon {
        &mut self.daemon
    }
}

/// One route of `GET /api/v1/peers/{name}/routes`, with the fields the
/// interop tests compare pulled out.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiRoute {
    /// `family`, e.g. `ipv4-unicast`.
    pub family: String,
    /// `prefix`, e.g. `172.29.52.100/32`.
    pub prefix: String,
    /// `path_id` (ADD-PATH; 0 without it).
    pub path_id: u64,
    /// `stale` (kept over a graceful restart, not yet re-announced).
    pub stale: bool,
    /// `attrs.origin` (`IGP`, `EGP`, `INCOMPLETE`), empty when absent.
    pub origin: String,
    /// `attrs.as_path` as text, segments joined by a space, sets in braces:
    /// `64512`, `64512 65000 {1 2}`.
    pub as_path: String,
    /// `attrs.next_hop`, empty when absent.
    pub next_hop: String,
    /// `attrs.local_pref`.
    pub local_pref: Option<u64>,
    /// The whole object.
    pub json: Value,
}

impl ApiRoute {
    /// Reads one route object.
    pub fn parse(v: &Value) -> ApiRoute {
        let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
        let attrs = v.get("attrs");
        let mut path = Vec::new();
        for seg in attrs
            .and_then(|a| a.get("as_path"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let asns: Vec<String> = seg
                .get("asns")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|a| a.to_string())
                .collect();
            match seg.get("type").and_then(Value::as_str) {
                Some("AS_SET") | Some("AS_CONFED_SET") => {
                    path.push(format!("{{{}}}", asns.join(" ")))
                }
                _ => path.extend(asns),
            }
        }
        ApiRoute {
            family: s(v.get("family")),
            prefix: s(v.get("prefix")),
            path_id: v.get("path_id").and_then(Value::as_u64).unwrap_or(0),
            stale: v.get("stale").and_then(Value::as_bool).unwrap_or(false),
            origin: s(attrs.and_then(|a| a.get("origin"))),
            as_path: path.join(" "),
            next_hop: s(attrs.and_then(|a| a.get("next_hop"))),
            local_pref: attrs
                .and_then(|a| a.get("local_pref"))
                .and_then(Value::as_u64),
            json: v.clone(),
        }
    }
}

/// `GET path` from inside the namespace `ns` to the HTTP server at `to`
/// (HTTP/1.0, one connection per request): the status and the body, or why
/// there is none. Used for bgpd's API and for other servers a lab runs in a
/// namespace (Prometheus).
pub fn http_get(ns: &str, to: SocketAddr, path: &str) -> Result<(u16, String), String> {
    let path = path.to_string();
    run_in_ns(ns, move || http_get_here(to, &path))
        .map_err(|e| format!("cannot enter {ns}: {e}"))?
}

/// Like [`http_get`], from the calling thread's own network namespace (a
/// thread that already joined the lab namespace, e.g. a poller).
pub fn http_get_here(to: SocketAddr, path: &str) -> Result<(u16, String), String> {
    let request = format!("GET {path} HTTP/1.0\r\nHost: {to}\r\nAccept: */*\r\n\r\n");
    let mut s = std::net::TcpStream::connect_timeout(&to, HTTP_TIMEOUT)
        .map_err(|e| format!("connect {to}: {e}"))?;
    let _ = s.set_read_timeout(Some(HTTP_TIMEOUT));
    let _ = s.set_write_timeout(Some(HTTP_TIMEOUT));
    s.write_all(request.as_bytes())
        .map_err(|e| format!("send to {to}: {e}"))?;
    let mut response = Vec::new();
    s.read_to_end(&mut response)
        .map_err(|e| format!("read from {to}: {e}"))?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("malformed HTTP response: {text:?}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in {head:?}"))?;
    Ok((status, body.to_string()))
}

/// Percent-encodes everything but unreserved characters (RFC 3986 s2.3).
pub fn percent_encode(s: &str) -> String {
    /// Everything but RFC 3986's unreserved characters.
    const RESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, RESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_dynamic_peer_names() {
        assert_eq!(percent_encode("nodes/172.29.51.11"), "nodes%2F172.29.51.11");
        assert_eq!(percent_encode("nodes6/fd47::11"), "nodes6%2Ffd47%3A%3A11");
    }

    #[test]
    fn parses_api_route() {
        let v: Value = serde_json::from_str(
            r#"{"family":"ipv4-unicast","prefix":"172.29.52.100/32","path_id":3,
            "stale":true,"attrs":{"origin":"IGP","as_path":[
            {"type":"AS_SEQUENCE","asns":[64512,65000]},{"type":"AS_SET","asns":[1,2]}],
            "next_hop":"172.29.51.11","local_pref":100}}"#,
        )
        .unwrap();
        let r = ApiRoute::parse(&v);
        assert_eq!(r.as_path, "64512 65000 {1 2}");
        assert_eq!((r.path_id, r.stale, r.local_pref), (3, true, Some(100)));
        assert_eq!(r.next_hop, "172.29.51.11");
        assert_eq!(r.origin, "IGP");
    }
}
