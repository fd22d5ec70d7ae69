//! Reachability of node addresses: periodic ICMP echo or TCP connect probes.
//!
//! [`spawn`] starts one task that probes every [`Target`] once per
//! `reachability.interval`, all targets of a round concurrently (at most
//! [`MAX_IN_FLIGHT`] at once), each bounded by `reachability.timeout`, and
//! publishes a [`ReachState`] on a watch channel after every round. A target
//! added between rounds is probed within moments rather than at the next
//! round; a removed one disappears from the state at once.
//!
//! Methods (`reachability.method`):
//!
//! * `icmp`: echo request over an unprivileged ping socket (module `icmp`);
//!   the kernel allows one only to groups inside
//!   `net.ipv4.ping_group_range`.
//! * `tcp`: connect to `tcp_port` (module `tcp`); a refused connection
//!   counts as reachable, with the error text `"port closed, host
//!   answered"`.
//! * `auto`: ICMP, falling back to TCP for as long as the kernel refuses the
//!   ping socket (`EACCES`/`EPERM`). The method in use is logged once per
//!   address family, and again only if it changes.
//!
//! Flapping is the consumer's to avoid, with the help of
//! [`ProbeResult::consecutive_failures`]: a node is down once
//! [`ProbeResult::is_down`] says so (two failures in a row).

mod echo;
mod icmp;
mod state;
mod tcp;

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::config::{ReachConfig, ReachMethod};

pub use state::{Method, ProbeResult, ReachState, Target, DOWN_AFTER_FAILURES};
pub use tcp::PORT_CLOSED;

use state::Outcome;

/// Most probes in flight at once.
pub const MAX_IN_FLIGHT: usize = 64;

/// Starts probing and returns the channel the results are published on.
///
/// `targets` says what to probe; a change is picked up at once (new targets
/// probed, removed ones dropped from the state) and fully at the next round.
/// The task stops when `shutdown` turns true or its sender is dropped, or
/// when every receiver of the returned channel is gone; the channel's sender
/// is then dropped. Until the first round completes the channel holds an
/// empty state with `round` 0.
///
/// When `config.enabled` is false nothing is started: the returned channel
/// holds that empty state forever and its sender is already dropped.
///
/// # Panics
///
/// Outside a Tokio runtime (the probing task is `tokio::spawn`ed).
pub fn spawn(
    config: ReachConfig,
    targets: watch::Receiver<Vec<Target>>,
    shutdown: watch::Receiver<bool>,
) -> watch::Receiver<Arc<ReachState>> {
    let (publish, results) = watch::channel(Arc::new(ReachState::default()));
    if config.enabled {
        tokio::spawn(run(config, targets, shutdown, publish));
    }
    results
}

/// The probing loop: a full round every `interval`, and a partial one for
/// new targets whenever the target list changes in between.
async fn run(
    config: ReachConfig,
    mut targets: watch::Receiver<Vec<Target>>,
    mut shutdown: watch::Receiver<bool>,
    publish: watch::Sender<Arc<ReachState>>,
) {
    tracing::info!(
        method = ?config.method,
        interval = ?config.interval,
        timeout = ?config.timeout,
        tcp_port = config.tcp_port,
        "reachability probing started"
    );
    let prober = Arc::new(Prober::new(&config));
    let mut state = Arc::new(ReachState::default());
    let mut targets_open = true;
    let mut next_round = Instant::now();
    loop {
        let current = dedup(&targets.borrow_and_update());
        let wanted: BTreeSet<(String, IpAddr)> = current.iter().map(Target::key).collect();
        let now = Instant::now();
        let full_round = now >= next_round;
        let batch: Vec<Target> = if full_round {
            next_round = now + config.interval;
            current
        } else {
            current
                .into_iter()
                .filter(|t| !state.results.contains_key(&t.key()))
                .collect()
        };
        let stale = state.results.keys().any(|k| !wanted.contains(k));
        if full_round || !batch.is_empty() || stale {
            let outcomes = tokio::select! {
                biased;
                _ = stopped(&mut shutdown) => break,
                o = probe_all(&prober, batch) => o,
            };
            let next = Arc::new(state.updated(&wanted, outcomes, full_round));
            log_transitions(&state, &next);
            state = next;
            publish.send_replace(state.clone());
        }
        tokio::select! {
            biased;
            _ = stopped(&mut shutdown) => break,
            _ = publish.closed() => break,
            changed = targets.changed(), if targets_open => {
                // The list's sender is gone: keep probing its last value.
                targets_open = changed.is_ok();
            }
            _ = tokio::time::sleep_until(next_round) => {}
        }
    }
    tracing::info!("reachability probing stopped");
}

/// Resolves when `shutdown` is true or its sender is gone.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// The targets without duplicates, in key order.
fn dedup(targets: &[Target]) -> Vec<Target> {
    let set: BTreeSet<&Target> = targets.iter().collect();
    set.into_iter().cloned().collect()
}

/// Probes `batch` concurrently, at most [`MAX_IN_FLIGHT`] at a time.
async fn probe_all(prober: &Arc<Prober>, batch: Vec<Target>) -> Vec<(Target, Outcome)> {
    let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut tasks = JoinSet::new();
    let mut outcomes = Vec::with_capacity(batch.len());
    for target in batch {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break; // never closed
        };
        let prober = prober.clone();
        tasks.spawn(async move {
            let outcome = prober.probe(&target).await;
            drop(permit);
            (target, outcome)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(pair) => outcomes.push(pair),
            Err(e) => tracing::error!(error = %e, "reachability probe task failed"),
        }
    }
    outcomes
}

/// Logs targets going down (per [`ProbeResult::is_down`]) and coming back.
fn log_transitions(before: &ReachState, after: &ReachState) {
    for ((node, address), r) in &after.results {
        let was_down = before
            .results
            .get(&(node.clone(), *address))
            .is_some_and(ProbeResult::is_down);
        match (was_down, r.is_down()) {
            (false, true) => tracing::warn!(
                %node, %address, method = %r.method,
                failures = r.consecutive_failures,
                error = r.error.as_deref().unwrap_or(""),
                "node address unreachable"
            ),
            (true, false) => tracing::info!(
                %node, %address, method = %r.method, rtt = ?r.rtt,
                "node address reachable again"
            ),
            _ => {}
        }
    }
}

/// Seconds since the Unix epoch.
fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Makes single probes with the configured method; remembers, per address
/// family, which method it last announced in the log.
struct Prober {
    method: ReachMethod,
    timeout: Duration,
    tcp_port: u16,
    /// Method last logged for IPv4 (index 0) and IPv6 (index 1).
    announced: Mutex<[Option<Method>; 2]>,
}

impl Prober {
    fn new(config: &ReachConfig) -> Prober {
        Prober {
            method: config.method,
            timeout: config.timeout,
            tcp_port: config.tcp_port,
            announced: Mutex::new([None, None]),
        }
    }

    /// One probe of `target`, bounded by the timeout.
    async fn probe(&self, target: &Target) -> Outcome {
        let addr = target.address.to_canonical();
        match self.method {
            ReachMethod::Tcp => {
                self.announce(addr, Method::Tcp, || "configured".into());
                self.tcp(addr).await
            }
            ReachMethod::Icmp => match icmp::open(addr) {
                Ok(socket) => {
                    self.announce(addr, Method::Icmp, || "configured".into());
                    self.icmp(socket, addr).await
                }
                Err(e) => failed(Method::Icmp, open_error(&e)),
            },
            ReachMethod::Auto => match icmp::open(addr) {
                Ok(socket) => {
                    self.announce(addr, Method::Icmp, || {
                        "method auto: ping sockets allowed".into()
                    });
                    self.icmp(socket, addr).await
                }
                Err(e) if icmp::not_permitted(&e) => {
                    self.announce(addr, Method::Tcp, || {
                        format!("method auto, falling back: {}", open_error(&e))
                    });
                    self.tcp(addr).await
                }
                Err(e) => failed(Method::Icmp, open_error(&e)),
            },
        }
    }

    async fn icmp(&self, socket: socket2::Socket, addr: IpAddr) -> Outcome {
        match tokio::time::timeout(self.timeout, icmp::echo(socket, addr)).await {
            Ok(Ok(rtt)) => Outcome {
                reachable: true,
                rtt: Some(rtt),
                method: Method::Icmp,
                at: unix_now(),
                error: None,
            },
            Ok(Err(e)) => failed(Method::Icmp, format!("ICMP echo: {e}")),
            Err(_) => failed(Method::Icmp, self.no_answer()),
        }
    }

    async fn tcp(&self, addr: IpAddr) -> Outcome {
        let to = SocketAddr::new(addr, self.tcp_port);
        match tokio::time::timeout(self.timeout, tcp::connect(to)).await {
            Ok((verdict, rtt)) => Outcome {
                reachable: verdict.reachable(),
                rtt,
                method: Method::Tcp,
                at: unix_now(),
                error: match verdict {
                    tcp::Verdict::Open => None,
                    tcp::Verdict::Refused => Some(PORT_CLOSED.to_string()),
                    tcp::Verdict::Failed(why) => {
                        Some(format!("TCP connect to port {}: {why}", self.tcp_port))
                    }
                },
            },
            Err(_) => failed(
                Method::Tcp,
                format!(
                    "TCP connect to port {}: {}",
                    self.tcp_port,
                    self.no_answer()
                ),
            ),
        }
    }

    fn no_answer(&self) -> String {
        format!("no answer within {:?}", self.timeout)
    }

    /// Logs the method used for `addr`'s family, with the reason `why`
    /// gives, if it differs from the one logged last for that family.
    fn announce(&self, addr: IpAddr, method: Method, why: impl FnOnce() -> String) {
        let (index, family) = match addr {
            IpAddr::V4(_) => (0, "IPv4"),
            IpAddr::V6(_) => (1, "IPv6"),
        };
        let mut announced = self.announced.lock().unwrap_or_else(|e| e.into_inner());
        if announced[index] == Some(method) {
            return;
        }
        let first = announced[index].is_none();
        announced[index] = Some(method);
        drop(announced);
        let why = why();
        match method {
            Method::Icmp => {
                tracing::info!(family, %method, first, reason = %why, "reachability: probing with ICMP echo")
            }
            Method::Tcp => tracing::info!(
                family, %method, first, port = self.tcp_port, reason = %why,
                "reachability: probing with TCP connect"
            ),
        }
    }
}

/// A failed probe's outcome.
fn failed(method: Method, error: String) -> Outcome {
    Outcome {
        reachable: false,
        rtt: None,
        method,
        at: unix_now(),
        error: Some(error),
    }
}

/// The text for a ping socket that could not be opened; names the sysctl
/// when that is the cause.
fn open_error(e: &std::io::Error) -> String {
    if icmp::not_permitted(e) {
        // SAFETY: getegid(2) has no preconditions and cannot fail.
        let gid = unsafe { libc::getegid() };
        format!(
            "cannot open an ICMP socket: {e}; net.ipv4.ping_group_range is \"{}\" and does not \
             include group {gid}",
            icmp::ping_group_range()
        )
    } else {
        format!("cannot open an ICMP socket: {e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(node: &str, addr: &str) -> Target {
        Target {
            node: node.into(),
            address: addr.parse().unwrap(),
        }
    }

    #[test]
    fn dedup_sorts_and_removes_repeats() {
        let a = target("b", "10.0.0.2");
        let b = target("a", "10.0.0.1");
        let out = dedup(&[a.clone(), b.clone(), a.clone()]);
        assert_eq!(out, vec![b, a]);
    }

    #[test]
    fn announce_logs_once_per_family_and_change() {
        let config = ReachConfig {
            enabled: true,
            method: ReachMethod::Auto,
            interval: Duration::from_secs(1),
            timeout: Duration::from_millis(100),
            tcp_port: 10250,
        };
        let p = Prober::new(&config);
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        let v6: IpAddr = "fd00::1".parse().unwrap();
        let reasons = std::cell::Cell::new(0);
        let why = || {
            reasons.set(reasons.get() + 1);
            String::from("test")
        };
        p.announce(v4, Method::Icmp, why);
        p.announce(v4, Method::Icmp, why);
        assert_eq!(*p.announced.lock().unwrap(), [Some(Method::Icmp), None]);
        assert_eq!(reasons.get(), 1, "the reason is built only when logged");
        p.announce(v6, Method::Tcp, why);
        p.announce(v4, Method::Tcp, why);
        assert_eq!(
            *p.announced.lock().unwrap(),
            [Some(Method::Tcp), Some(Method::Tcp)]
        );
        assert_eq!(reasons.get(), 3);
    }

    #[test]
    fn permission_errors_name_the_sysctl() {
        let e = std::io::Error::from_raw_os_error(libc::EACCES);
        let text = open_error(&e);
        assert!(text.contains("net.ipv4.ping_group_range"), "{text}");
        let other = open_error(&std::io::Error::from_raw_os_error(libc::EAFNOSUPPORT));
        assert!(!other.contains("ping_group_range"), "{other}");
        assert!(icmp::not_permitted(&std::io::Error::from_raw_os_error(
            libc::EPERM
        )));
        assert!(!icmp::not_permitted(&std::io::Error::from_raw_os_error(
            libc::ENOENT
        )));
    }
}
