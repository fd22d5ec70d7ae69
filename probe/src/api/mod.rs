//! Talking to bgpd's read-only JSON API (docs/api.md), for `check`,
//! `peers` and `routes`.
//!
//! - Which daemons to ask ([`TargetArgs`]): `--url` (repeatable) or
//!   `BGP_PROBE_URL` (comma-separated); without either, the bgpd
//!   DaemonSet's pods found through the Kubernetes API ([`discover`]) with
//!   `--kubeconfig` / `--context` (or the usual `KUBECONFIG` and
//!   `~/.kube/config`).
//! - Asking them ([`fetch_all`]): one GET per daemon, all at once, each
//!   with the `--timeout` deadline; every answer or failure is kept with the
//!   daemon it came from, so callers can say which did not answer.
//!
//! The HTTP exchange itself is in [`http`].

pub mod discover;
pub mod http;

use clap::{Args, ValueEnum};
use serde::de::DeserializeOwned;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// bgpd's API port (`[http] listen` of the DaemonSet's configuration).
pub const DEFAULT_API_PORT: u16 = 9179;

/// Which daemons to ask.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// bgpd API to ask: http://HOST:PORT, HOST:PORT or HOST (port 9179);
    /// repeat for several pods [env: BGP_PROBE_URL, comma-separated]
    #[arg(
        long = "url",
        value_name = "URL",
        env = "BGP_PROBE_URL",
        value_delimiter = ',',
        hide_env = true
    )]
    pub urls: Vec<String>,

    /// Find the bgpd pods with this kubeconfig [default: $KUBECONFIG, else
    /// ~/.kube/config]; used when no --url is given
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// Kubeconfig context to use [default: the current context]
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,

    /// Namespace of the bgpd DaemonSet
    #[arg(long, value_name = "NAME", default_value = "bgp-verifier")]
    pub namespace: String,

    /// Label selector of the bgpd pods
    #[arg(
        long,
        value_name = "SELECTOR",
        default_value = "app.kubernetes.io/name=bgp-verifier"
    )]
    pub selector: String,

    /// Port of bgpd's API on the pods
    #[arg(long, value_name = "PORT", default_value_t = DEFAULT_API_PORT)]
    pub api_port: u16,

    /// Which address of a pod to use
    #[arg(long, value_enum, value_name = "WHICH", default_value_t = PodAddress::Host)]
    pub pod_address: PodAddress,

    /// Seconds to wait for each daemon (and, for check, each probe)
    #[arg(long, value_name = "SECONDS", default_value = "3", value_parser = parse_seconds)]
    pub timeout: Duration,
}

/// `--pod-address`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PodAddress {
    /// status.hostIP: bgpd runs on the host network and serves its API on
    /// the node's address
    Host,
    /// status.podIP
    Pod,
}

/// A positive number of seconds, fractions allowed, at most a day.
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(secs > 0.0 && secs <= 86_400.0) {
        return Err(format!(
            "{text}: expected more than 0 and at most 86400 seconds"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// One daemon to ask.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Target {
    /// What to call it: the pod's name, or the URL as given.
    pub name: String,
    /// The node the pod runs on, when found through Kubernetes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// `http://host:port`, or `None` when the pod has no address yet.
    pub url: Option<String>,
    /// Why there is no URL (a Pending pod).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// A base URL, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// Host as written, IPv6 in brackets.
    pub host: String,
    pub port: u16,
}

impl BaseUrl {
    /// Parses `http://HOST:PORT[/]`, `HOST:PORT`, `HOST` or `[V6]:PORT`;
    /// the port defaults to 9179.
    pub fn parse(text: &str) -> Result<BaseUrl, String> {
        let t = text.trim();
        if t.starts_with("https://") {
            return Err(format!("{text}: bgpd's API is plain HTTP; use http://"));
        }
        let rest = t.strip_prefix("http://").unwrap_or(t);
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() || rest.contains('/') || rest.contains('?') {
            return Err(format!(
                "{text}: expected http://HOST:PORT (the daemon's base address, no path)"
            ));
        }
        let bad_port = |p: &str| format!("{text}: bad port {p:?}");
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (addr, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("{text}: unclosed ["))?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad_port(p))?,
                None if after.is_empty() => DEFAULT_API_PORT,
                None => return Err(format!("{text}: unexpected {after:?} after ]")),
            };
            (format!("[{addr}]"), port)
        } else if rest.matches(':').count() > 1 {
            // A bare IPv6 address.
            (format!("[{rest}]"), DEFAULT_API_PORT)
        } else {
            match rest.split_once(':') {
                Some((h, p)) => (h.to_string(), p.parse().map_err(|_| bad_port(p))?),
                None => (rest.to_string(), DEFAULT_API_PORT),
            }
        };
        if port == 0 {
            return Err(bad_port("0"));
        }
        Ok(BaseUrl { host, port })
    }

    /// `host:port`, for the Host header.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}:{}", self.host, self.port)
    }
}

impl TargetArgs {
    /// The daemons to ask: the URLs given, else the pods found in
    /// Kubernetes. An error when there is nothing to ask (exit 2).
    pub async fn resolve(&self) -> Result<Vec<Target>, String> {
        let urls: Vec<&String> = self.urls.iter().filter(|u| !u.trim().is_empty()).collect();
        if !urls.is_empty() {
            let mut out = Vec::new();
            for u in urls {
                let base = BaseUrl::parse(u)?;
                out.push(Target {
                    name: u.trim().to_string(),
                    node: None,
                    url: Some(base.to_string()),
                    problem: None,
                });
            }
            return Ok(out);
        }
        discover::pods(self).await
    }
}

/// Why a daemon gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError(pub String);

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `GET base + path`, parsed as `T`. Errors read like "connection refused",
/// "HTTP 404: no peer named x", "bad JSON: ...".
pub async fn fetch<T: DeserializeOwned>(
    url: &str,
    path: &str,
    timeout: Duration,
) -> Result<T, FetchError> {
    let base = BaseUrl::parse(url).map_err(FetchError)?;
    let addr = http::resolve(&base.host, base.port)
        .await
        .map_err(|e| FetchError(e.to_string()))?;
    let response = http::get(addr, &base.authority(), path, timeout)
        .await
        .map_err(|e| FetchError(e.to_string()))?;
    if response.status != 200 {
        let text = String::from_utf8_lossy(&response.body);
        let said = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("error")?.as_str().map(str::to_string))
            .unwrap_or_else(|| text.trim().chars().take(200).collect());
        return Err(FetchError(format!("HTTP {}: {said}", response.status)));
    }
    serde_json::from_slice(&response.body)
        .map_err(|e| FetchError(format!("GET {path}: not the JSON bgpd sends ({e})")))
}

/// What one daemon answered.
#[derive(Debug)]
pub struct Answer<T> {
    pub target: Target,
    pub result: Result<T, FetchError>,
}

/// `GET path` on every target at once.
pub async fn fetch_all<T: DeserializeOwned + Send + 'static>(
    targets: &[Target],
    path: &str,
    timeout: Duration,
) -> Vec<Answer<T>> {
    let mut tasks = Vec::with_capacity(targets.len());
    for t in targets {
        let t = t.clone();
        let path = path.to_string();
        tasks.push(tokio::spawn(async move {
            let result = match (&t.url, &t.problem) {
                (Some(url), _) => fetch::<T>(url, &path, timeout).await,
                (None, Some(p)) => Err(FetchError(p.clone())),
                (None, None) => Err(FetchError("no address".into())),
            };
            Answer { target: t, result }
        }));
    }
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        match task.await {
            Ok(a) => out.push(a),
            Err(e) => panic!("fetch task failed: {e}"),
        }
    }
    out
}

/// Runs `f` on a small runtime of its own (the subcommands are
/// synchronous at the top).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
        .block_on(f)
}

/// `[{"name", "url", "node", "error"}]`: which daemon answered.
pub fn daemons_json<T>(answers: &[Answer<T>]) -> serde_json::Value {
    serde_json::Value::Array(
        answers
            .iter()
            .map(|a| {
                serde_json::json!({
                    "name": a.target.name,
                    "node": a.target.node,
                    "url": a.target.url,
                    "error": a.result.as_ref().err().map(|e| e.0.clone()),
                })
            })
            .collect(),
    )
}

/// What `peers` and `routes` do: ask every daemon of `targets` for `path`,
/// print the answers as `json` or `table` renders them, and return the exit
/// code ([`report_failures`]); 2 when no daemon could be found.
pub fn query_and_print<T: DeserializeOwned + Send + 'static>(
    command: &str,
    targets: &TargetArgs,
    path: &str,
    output: crate::output::Format,
    style: crate::output::Style,
    json: fn(&[Answer<T>]) -> String,
    table: fn(&[Answer<T>], crate::output::Style) -> String,
) -> std::process::ExitCode {
    use std::io::Write as _;
    let answers = match block_on(async {
        let resolved = targets.resolve().await?;
        Ok::<_, String>(fetch_all::<T>(&resolved, path, targets.timeout).await)
    }) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bgp-probe {command}: {e}");
            return std::process::ExitCode::from(crate::output::EXIT_CANNOT_CHECK);
        }
    };
    let text = match output {
        crate::output::Format::Json => json(&answers),
        crate::output::Format::Table => table(&answers, style),
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    std::process::ExitCode::from(report_failures(command, &answers))
}

/// Names the daemons that did not answer on standard error; returns the
/// exit status: 0 all answered, 1 some, 2 none.
pub fn report_failures<T>(what: &str, answers: &[Answer<T>]) -> u8 {
    let failed: Vec<&Answer<T>> = answers.iter().filter(|a| a.result.is_err()).collect();
    for a in &failed {
        if let Err(e) = &a.result {
            eprintln!(
                "bgp-probe {what}: {}: {e}",
                a.target.url.as_deref().unwrap_or(&a.target.name)
            );
        }
    }
    if failed.is_empty() {
        crate::output::EXIT_OK
    } else if failed.len() == answers.len() {
        eprintln!("bgp-probe {what}: no bgpd answered");
        crate::output::EXIT_CANNOT_CHECK
    } else {
        eprintln!(
            "bgp-probe {what}: incomplete: {} of {} daemons did not answer",
            failed.len(),
            answers.len()
        );
        crate::output::EXIT_FINDINGS
    }
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved).
pub fn query_escape(text: &str) -> String {
    /// Everything but RFC 3986's unreserved characters.
    const RESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(text, RESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        let p = |s: &str| BaseUrl::parse(s).map(|b| b.to_string());
        assert_eq!(p("http://10.0.0.1:9179/").unwrap(), "http://10.0.0.1:9179");
        assert_eq!(p("bgpd.local").unwrap(), "http://bgpd.local:9179");
        assert_eq!(p("127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080");
        assert_eq!(p("[fd00::2]:1").unwrap(), "http://[fd00::2]:1");
        assert_eq!(p("fd00::2").unwrap(), "http://[fd00::2]:9179");
        assert!(p("https://x").unwrap_err().contains("plain HTTP"));
        assert!(p("http://x/api/v1/report").unwrap_err().contains("no path"));
        assert!(p("x:port").unwrap_err().contains("bad port"));
        assert!(p("").is_err());
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds("0.5").unwrap(), Duration::from_millis(500));
        assert!(parse_seconds("0").is_err());
        assert!(parse_seconds("x").is_err());
    }

    #[test]
    fn escapes_queries() {
        assert_eq!(query_escape("172.29.52.200/32"), "172.29.52.200%2F32");
        assert_eq!(query_escape("nodes/fd00::1"), "nodes%2Ffd00%3A%3A1");
    }
}
