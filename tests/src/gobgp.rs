//! GoBGP configured exactly as Cilium's BGP control plane configures its
//! embedded GoBGP server, so a lab "node" speaks to a peer as a real Cilium
//! agent would.
//!
//! What Cilium does (pkg/bgpv1/gobgp/server.go, peer.go, manager/reconcile.go,
//! types NewPathForPrefix) and how it is reproduced with `gobgpd`:
//!
//! * global: local AS (64512 in this project), router-id = node IPv4,
//!   `ListenPort: -1` — no listener at all, the agent only dials out
//!   (`port = -1`); `AdvertiseInactiveRoutes: true`;
//! * a global import policy rejecting every path learnt from peers except
//!   locally originated ones (policy `allow-local`, `route-type = local`,
//!   default `reject-route`);
//! * per neighbor: peer address and AS, remote port (`peerPort`, 1790 toward
//!   the verifier), optional TCP-MD5 `auth-password`, local address
//!   `0.0.0.0`/`::` (wildcard), timers connect-retry 120 s, hold 90 s,
//!   keepalive 30 s, idle-hold-after-reset 5 s, no eBGP multihop unless asked;
//! * graceful restart enabled with restart-time 120, notification (N-bit)
//!   enabled, MP graceful restart on every family and **local-restarting** set
//!   (R-bit in the capability; GoBGP then defers its own updates until it has
//!   the peer's End-of-RIB or its 360 s deferral timer fires). `gobgpd -r` is
//!   the daemon's switch for that local-restarting state and is always passed;
//! * families ipv4-unicast and ipv6-unicast (Cilium's default);
//! * LoadBalancer routes are locally originated paths with ORIGIN IGP and next
//!   hop 0.0.0.0 / `::` (GoBGP substitutes the session's local address), added
//!   before the neighbors exist so the first UPDATEs after OPEN carry them.
//!   Here neighbors start `admin-down`, known routes are injected, then the
//!   neighbors are enabled, which gives the same ordering.
//!
//! The gRPC API listens on `127.0.0.1:<api_port>` inside the node namespace
//! only; the `gobgp` CLI runs in the same namespace with `-p <api_port>`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::daemon::{try_run, wait_for, wait_until, Daemon, POLL, TIMEOUT};
use crate::netns::exec_in;
use crate::{prereq, Afi, Netns};

/// The local AS of every Cilium node in this project.
pub const CILIUM_ASN: u32 = 64512;
/// The AS of the UDM Pro and of the verifier (iBGP with the router).
pub const ROUTER_ASN: u32 = 64513;
/// The TCP port the verifier listens on (Cilium's `peerPort` toward it).
pub const VERIFIER_PORT: u16 = 1790;

/// One Cilium BGP neighbor (a `CiliumBGPNeighbor` / `CiliumBGPNodePeer` +
/// `CiliumBGPPeerConfig`), with Cilium's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Neighbor {
    /// Peer IPv4 or IPv6 address.
    pub address: String,
    /// Peer AS.
    pub peer_asn: u32,
    /// Remote TCP port (`peerPort`; CRD default 179).
    pub peer_port: u16,
    /// TCP-MD5 password (`authSecretRef`), if any.
    pub password: Option<String>,
    /// Advertise the ipv4-unicast family (Cilium default: yes).
    pub ipv4_unicast: bool,
    /// Advertise the ipv6-unicast family (Cilium default: yes).
    pub ipv6_unicast: bool,
    /// `connectRetryTimeSeconds` (default 120).
    pub connect_retry_secs: u32,
    /// `holdTimeSeconds` (default 90).
    pub hold_time_secs: u32,
    /// `keepAliveTimeSeconds` (default 30).
    pub keepalive_secs: u32,
    /// `gracefulRestart.enabled` (this project: true).
    pub graceful_restart: bool,
    /// `gracefulRestart.restartTimeSeconds` (default 120).
    pub restart_time_secs: u32,
    /// `eBGPMultihopTTL`; `None` (or 1) leaves multihop off, as Cilium does.
    pub ebgp_multihop_ttl: Option<u8>,
}

impl Neighbor {
    /// A neighbor with Cilium's CRD defaults: port 179, both unicast
    /// families, timers 120/90/30, graceful restart on with 120 s.
    pub fn new(address: &str, peer_asn: u32) -> Neighbor {
        Neighbor {
            address: address.to_string(),
            peer_asn,
            peer_port: 179,
            password: None,
            ipv4_unicast: true,
            ipv6_unicast: true,
            connect_retry_secs: 120,
            hold_time_secs: 90,
            keepalive_secs: 30,
            graceful_restart: true,
            restart_time_secs: 120,
            ebgp_multihop_ttl: None,
        }
    }

    /// The project's Cilium peering toward the verifier: AS 64513, port 1790.
    pub fn verifier(address: &str) -> Neighbor {
        Neighbor::new(address, ROUTER_ASN).port(VERIFIER_PORT)
    }

    /// Sets the remote port.
    pub fn port(mut self, port: u16) -> Neighbor {
        self.peer_port = port;
        self
    }

    /// Sets the TCP-MD5 password.
    pub fn password(mut self, password: &str) -> Neighbor {
        self.password = Some(password.to_string());
        self
    }

    /// Sets `connectRetryTimeSeconds`.
    pub fn connect_retry(mut self, secs: u32) -> Neighbor {
        self.connect_retry_secs = secs;
        self
    }

    /// Sets hold time and keepalive.
    pub fn timers(mut self, hold_secs: u32, keepalive_secs: u32) -> Neighbor {
        self.hold_time_secs = hold_secs;
        self.keepalive_secs = keepalive_secs;
        self
    }

    /// Restricts the advertised families.
    pub fn families(mut self, ipv4_unicast: bool, ipv6_unicast: bool) -> Neighbor {
        self.ipv4_unicast = ipv4_unicast;
        self.ipv6_unicast = ipv6_unicast;
        self
    }

    /// Enables or disables graceful restart, with its restart time.
    pub fn graceful_restart(mut self, enabled: bool, restart_time_secs: u32) -> Neighbor {
        self.graceful_restart = enabled;
        self.restart_time_secs = restart_time_secs;
        self
    }
}

/// Renders the `gobgpd` TOML configuration Cilium's API calls amount to.
/// With `admin_down`, every neighbor starts administratively down.
pub fn render_config(node_ip: &str, asn: u32, neighbors: &[Neighbor], admin_down: bool) -> String {
    let mut c = String::new();
    let w = &mut c;
    let _ = writeln!(w, "# gobgpd configured as Cilium's BGP control plane does");
    let _ = writeln!(w, "[global.config]");
    let _ = writeln!(w, "  as = {asn}");
    let _ = writeln!(w, "  router-id = \"{node_ip}\"");
    let _ = writeln!(w, "  port = -1");
    let _ = writeln!(w, "[global.route-selection-options.config]");
    let _ = writeln!(w, "  advertise-inactive-routes = true");
    let _ = writeln!(w, "[global.apply-policy.config]");
    let _ = writeln!(w, "  import-policy-list = [\"allow-local\"]");
    let _ = writeln!(w, "  default-import-policy = \"reject-route\"");
    let _ = writeln!(w);
    let _ = writeln!(w, "[[policy-definitions]]");
    let _ = writeln!(w, "  name = \"allow-local\"");
    let _ = writeln!(w, "  [[policy-definitions.statements]]");
    let _ = writeln!(
        w,
        "    [policy-definitions.statements.conditions.bgp-conditions]"
    );
    let _ = writeln!(w, "      route-type = \"local\"");
    let _ = writeln!(w, "    [policy-definitions.statements.actions]");
    let _ = writeln!(w, "      route-disposition = \"accept-route\"");
    for n in neighbors {
        let _ = writeln!(w);
        let _ = writeln!(w, "[[neighbors]]");
        let _ = writeln!(w, "  [neighbors.config]");
        let _ = writeln!(w, "    neighbor-address = \"{}\"", n.address);
        let _ = writeln!(w, "    peer-as = {}", n.peer_asn);
        if let Some(pw) = &n.password {
            let _ = writeln!(w, "    auth-password = \"{}\"", toml_escape(pw));
        }
        if admin_down {
            let _ = writeln!(w, "    admin-down = true");
        }
        let _ = writeln!(w, "  [neighbors.transport.config]");
        let wildcard = if Afi::of(&n.address) == Afi::Ipv6 {
            "::"
        } else {
            "0.0.0.0"
        };
        let _ = writeln!(w, "    local-address = \"{wildcard}\"");
        let _ = writeln!(w, "    remote-port = {}", n.peer_port);
        if let Some(ttl) = n.ebgp_multihop_ttl.filter(|t| *t > 1) {
            if n.peer_asn != asn {
                let _ = writeln!(w, "  [neighbors.ebgp-multihop.config]");
                let _ = writeln!(w, "    enabled = true");
                let _ = writeln!(w, "    multihop-ttl = {ttl}");
            }
        }
        let _ = writeln!(w, "  [neighbors.timers.config]");
        let _ = writeln!(w, "    connect-retry = {}", n.connect_retry_secs);
        let _ = writeln!(w, "    hold-time = {}", n.hold_time_secs);
        let _ = writeln!(w, "    keepalive-interval = {}", n.keepalive_secs);
        let _ = writeln!(w, "    idle-hold-time-after-reset = 5");
        if n.graceful_restart {
            let _ = writeln!(w, "  [neighbors.graceful-restart.config]");
            let _ = writeln!(w, "    enabled = true");
            let _ = writeln!(w, "    restart-time = {}", n.restart_time_secs);
            let _ = writeln!(w, "    notification-enabled = true");
        }
        let fams = [
            (n.ipv4_unicast, "ipv4-unicast"),
            (n.ipv6_unicast, "ipv6-unicast"),
        ];
        for (_, fam) in fams.iter().filter(|(on, _)| *on) {
            let _ = writeln!(w, "  [[neighbors.afi-safis]]");
            let _ = writeln!(w, "    [neighbors.afi-safis.config]");
            let _ = writeln!(w, "      afi-safi-name = \"{fam}\"");
            let _ = writeln!(w, "    [neighbors.afi-safis.mp-graceful-restart.config]");
            let _ = writeln!(w, "      enabled = {}", n.graceful_restart);
        }
    }
    c
}

fn toml_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Maps GoBGP's session state (JSON number or name) to its upper-case name,
/// e.g. `6` or `"BGP_FSM_ESTABLISHED"` to `"ESTABLISHED"`.
pub fn session_state_name(v: &Value) -> String {
    match v {
        Value::Number(n) => match n.as_u64() {
            Some(1) => "IDLE",
            Some(2) => "CONNECT",
            Some(3) => "ACTIVE",
            Some(4) => "OPENSENT",
            Some(5) => "OPENCONFIRM",
            Some(6) => "ESTABLISHED",
            _ => "UNKNOWN",
        }
        .to_string(),
        Value::String(s) => s
            .to_ascii_uppercase()
            .trim_start_matches("BGP_FSM_")
            .trim_start_matches("SESSION_STATE_")
            .to_string(),
        _ => "UNKNOWN".to_string(),
    }
}

/// A running `gobgpd` in a node namespace, configured as Cilium would.
#[derive(Debug)]
pub struct GoBgp {
    ns: String,
    node_ip: String,
    node_ipv6: Option<String>,
    asn: u32,
    neighbors: Vec<Neighbor>,
    api_port: u16,
    dir: PathBuf,
    daemon: Daemon,
    /// Announced (prefix, next hop) pairs, re-injected by [`GoBgp::restart`].
    routes: Vec<(String, String)>,
    generation: u32,
}

impl GoBgp {
    /// Starts `gobgpd` in `ns` as the Cilium agent of the node `node_ip`
    /// (router-id, IPv4) / `node_ipv6`, with the given neighbors and the gRPC
    /// API on `127.0.0.1:api_port` inside `ns`. Returns once the API answers
    /// and the neighbors are enabled (sessions come up later: GoBGP's first
    /// connect attempt happens 5-10 s after a neighbor is enabled).
    pub fn start(
        ns: &Netns,
        node_ip: &str,
        node_ipv6: Option<&str>,
        neighbors: &[Neighbor],
        api_port: u16,
    ) -> GoBgp {
        GoBgp::start_with_routes(ns, node_ip, node_ipv6, neighbors, api_port, &[])
    }

    /// Like [`GoBgp::start`], but `routes` (prefixes) are in the RIB before
    /// any session opens, as for an agent that starts with services present.
    pub fn start_with_routes(
        ns: &Netns,
        node_ip: &str,
        node_ipv6: Option<&str>,
        neighbors: &[Neighbor],
        api_port: u16,
        routes: &[&str],
    ) -> GoBgp {
        prereq("gobgpd");
        prereq("gobgp");
        let dir = ns.subdir(&format!("gobgp-{api_port}"));
        let conf = dir.join("gobgpd.toml");
        std::fs::write(&conf, render_config(node_ip, CILIUM_ASN, neighbors, true))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", conf.display()));
        let daemon = spawn_gobgpd(ns.name(), &dir, api_port, 0);
        let mut g = GoBgp {
            ns: ns.name().to_string(),
            node_ip: node_ip.to_string(),
            node_ipv6: node_ipv6.map(str::to_string),
            asn: CILIUM_ASN,
            neighbors: neighbors.to_vec(),
            api_port,
            dir,
            daemon,
            routes: routes
                .iter()
                .map(|p| (p.to_string(), unspecified_next_hop(p).to_string()))
                .collect(),
            generation: 0,
        };
        g.bring_up();
        g
    }

    fn bring_up(&mut self) {
        let port = self.api_port;
        let ns = self.ns.clone();
        let mut ready = false;
        let mut last = String::new();
        let ok = wait_until(TIMEOUT, Duration::from_millis(50), || {
            if !self.daemon.is_running() {
                return true;
            }
            match try_run(&mut gobgp_cli(&ns, port, &["global"])) {
                Ok(_) => {
                    ready = true;
                    true
                }
                Err(e) => {
                    last = e;
                    false
                }
            }
        });
        if !ok || !ready {
            panic!(
                "gobgpd API on 127.0.0.1:{port} in {ns} not ready: {last}\n{}",
                self.daemon.logs()
            );
        }
        for (prefix, nh) in self.routes.clone() {
            self.add_path(&prefix, &nh);
        }
        for n in &self.neighbors {
            self.cli(&["neighbor", &n.address, "enable"])
                .unwrap_or_else(|e| panic!("{e}\n{}", self.daemon.logs()));
        }
    }

    /// The namespace name.
    pub fn netns(&self) -> &str {
        &self.ns
    }

    /// The node's IPv4 address (router-id).
    pub fn node_ip(&self) -> &str {
        &self.node_ip
    }

    /// The node's IPv6 address, if dual-stack.
    pub fn node_ipv6(&self) -> Option<&str> {
        self.node_ipv6.as_deref()
    }

    /// The local AS (64512).
    pub fn asn(&self) -> u32 {
        self.asn
    }

    /// The configured neighbors.
    pub fn neighbors(&self) -> &[Neighbor] {
        &self.neighbors
    }

    /// The gRPC API port (on 127.0.0.1 inside the namespace).
    pub fn api_port(&self) -> u16 {
        self.api_port
    }

    /// The generated `gobgpd.toml`.
    pub fn config(&self) -> String {
        std::fs::read_to_string(self.dir.join("gobgpd.toml")).unwrap_or_default()
    }

    /// The `gobgpd` process (pid, log, signals).
    pub fn daemon(&mut self) -> &mut Daemon {
        &mut self.daemon
    }

    /// Runs `gobgp -p <api_port> args...` in the namespace.
    pub fn cli(&self, args: &[&str]) -> Result<String, String> {
        try_run(&mut gobgp_cli(&self.ns, self.api_port, args))
    }

    /// Runs the CLI with `-j` and parses the JSON output.
    pub fn cli_json(&self, args: &[&str]) -> Result<Value, String> {
        let mut a = args.to_vec();
        a.push("-j");
        let out = self.cli(&a)?;
        serde_json::from_str(&out).map_err(|e| format!("gobgp {args:?}: bad JSON ({e}): {out}"))
    }

    fn add_path(&self, prefix: &str, next_hop: &str) {
        let afi = Afi::of(prefix).name();
        self.cli(&[
            "global", "rib", "add", "-a", afi, prefix, "nexthop", next_hop, "origin", "igp",
        ])
        .unwrap_or_else(|e| panic!("announce {prefix}: {e}\n{}", self.daemon.logs()));
    }

    /// Announces `prefix` (a LoadBalancer /32 or /128) exactly as Cilium does:
    /// locally originated, ORIGIN IGP, next hop 0.0.0.0 or `::` so GoBGP puts
    /// the session's local address in the UPDATE.
    pub fn announce(&mut self, prefix: &str) {
        self.announce_with_next_hop(prefix, unspecified_next_hop(prefix));
    }

    /// Announces `prefix` with an explicit next hop (not what Cilium does; for
    /// negative tests).
    pub fn announce_with_next_hop(&mut self, prefix: &str, next_hop: &str) {
        self.add_path(prefix, next_hop);
        self.routes.retain(|(p, _)| p != prefix);
        self.routes.push((prefix.to_string(), next_hop.to_string()));
    }

    /// Withdraws a previously announced `prefix`.
    pub fn withdraw(&mut self, prefix: &str) {
        let afi = Afi::of(prefix).name();
        self.cli(&["global", "rib", "del", "-a", afi, prefix])
            .unwrap_or_else(|e| panic!("withdraw {prefix}: {e}\n{}", self.daemon.logs()));
        self.routes.retain(|(p, _)| p != prefix);
    }

    /// The prefixes currently announced through this harness.
    pub fn announced(&self) -> Vec<String> {
        self.routes.iter().map(|(p, _)| p.clone()).collect()
    }

    /// The session state toward `addr` as GoBGP names it (`ESTABLISHED`,
    /// `ACTIVE`, `IDLE`, ...); `UNAVAILABLE: <why>` if the API cannot answer.
    pub fn neighbor_state(&self, addr: &str) -> String {
        match self.cli_json(&["neighbor", addr]) {
            Ok(v) => {
                let st = v.get("state").cloned().unwrap_or(Value::Null);
                if st.get("admin_state").and_then(Value::as_u64) == Some(1) {
                    return "IDLE(ADMIN)".to_string();
                }
                session_state_name(st.get("session_state").unwrap_or(&Value::Null))
            }
            Err(e) => format!("UNAVAILABLE: {e}"),
        }
    }

    /// Waits until the session toward `addr` is established; panics with the
    /// log after `timeout`.
    pub fn wait_established(&self, addr: &str, timeout: Duration) {
        let mut last = String::new();
        let ok = wait_until(timeout, POLL, || {
            last = self.neighbor_state(addr);
            last == "ESTABLISHED"
        });
        if !ok {
            panic!(
                "gobgpd in {}: session to {addr} not established (state {last})\n{}",
                self.ns,
                self.logs()
            );
        }
    }

    /// The local RIB of one family (`gobgp global rib -a <afi> -j`).
    pub fn rib_json(&self, afi: Afi) -> Value {
        self.cli_json(&["global", "rib", "-a", afi.name()])
            .unwrap_or_else(|e| panic!("{e}\n{}", self.daemon.logs()))
    }

    /// What GoBGP advertises to `addr` in one family (`adj-out`).
    pub fn adj_out_json(&self, addr: &str, afi: Afi) -> Value {
        self.cli_json(&["neighbor", addr, "adj-out", "-a", afi.name()])
            .unwrap_or_else(|e| panic!("{e}\n{}", self.daemon.logs()))
    }

    /// Simulates an agent crash and restart for graceful restart: SIGKILL (no
    /// NOTIFICATION is sent, so the peers keep our routes as stale), then
    /// start again with the same configuration (R-bit set), re-inject every
    /// announced route before enabling the neighbors. Returns once the API is
    /// up; sessions re-establish 5-10 s later.
    pub fn restart(&mut self) {
        self.daemon.kill();
        self.generation += 1;
        self.daemon = spawn_gobgpd(&self.ns, &self.dir, self.api_port, self.generation);
        self.bring_up();
    }

    /// Kills `gobgpd` with SIGKILL and leaves it down (crash without restart).
    pub fn kill(&mut self) {
        self.daemon.kill();
    }

    /// Stops `gobgpd` with SIGTERM (it sends a Cease NOTIFICATION to every
    /// peer), waiting up to 5 s.
    pub fn stop(&mut self) {
        self.daemon.stop(Duration::from_secs(5));
    }

    /// The daemon log(s) of this instance, for assertion messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for g in 0..self.generation {
            let p = self.dir.join(format!("gobgpd.{g}.log"));
            if let Ok(s) = std::fs::read_to_string(&p) {
                let _ = writeln!(out, "----- earlier run {} -----\n{s}", p.display());
            }
        }
        out.push_str(&self.daemon.logs());
        out
    }

    /// Panics with `what` and the log unless `cond` holds within [`TIMEOUT`].
    pub fn wait_for(&self, what: &str, cond: impl FnMut() -> bool) {
        wait_for(what, TIMEOUT, cond, || self.logs());
    }
}

fn unspecified_next_hop(prefix: &str) -> &'static str {
    match Afi::of(prefix) {
        Afi::Ipv4 => "0.0.0.0",
        Afi::Ipv6 => "::",
    }
}

fn gobgp_cli(ns: &str, api_port: u16, args: &[&str]) -> Command {
    let port = api_port.to_string();
    let mut a = vec!["-u", "127.0.0.1", "-p", port.as_str()];
    a.extend_from_slice(args);
    exec_in(ns, prereq("gobgp"), a)
}

fn spawn_gobgpd(ns: &str, dir: &Path, api_port: u16, generation: u32) -> Daemon {
    let conf = dir.join("gobgpd.toml").display().to_string();
    let api = format!("127.0.0.1:{api_port}");
    let args = [
        "-f",
        conf.as_str(),
        "-t",
        "toml",
        // Cilium sets GracefulRestart.LocalRestarting on every peer.
        "-r",
        "--api-hosts",
        api.as_str(),
        "--pprof-disable",
        // Plain-text log at debug level: every UPDATE sent and received.
        "-p",
        "-l",
        "debug",
    ];
    Daemon::spawn(
        format!("gobgpd[{ns}]"),
        exec_in(ns, prereq("gobgpd"), args),
        dir.join(format!("gobgpd.{generation}.log")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_matches_cilium() {
        let c = render_config(
            "172.29.51.11",
            CILIUM_ASN,
            &[Neighbor::verifier("172.29.51.5").password("s3cret")],
            false,
        );
        for want in [
            "as = 64512",
            "router-id = \"172.29.51.11\"",
            "port = -1",
            "advertise-inactive-routes = true",
            "default-import-policy = \"reject-route\"",
            "route-type = \"local\"",
            "neighbor-address = \"172.29.51.5\"",
            "peer-as = 64513",
            "auth-password = \"s3cret\"",
            "local-address = \"0.0.0.0\"",
            "remote-port = 1790",
            "connect-retry = 120",
            "hold-time = 90",
            "keepalive-interval = 30",
            "idle-hold-time-after-reset = 5",
            "restart-time = 120",
            "notification-enabled = true",
            "afi-safi-name = \"ipv4-unicast\"",
            "afi-safi-name = \"ipv6-unicast\"",
        ] {
            assert!(c.contains(want), "missing `{want}` in\n{c}");
        }
        assert!(!c.contains("ebgp-multihop"), "{c}");
        assert!(!c.contains("admin-down"), "{c}");
        let down = render_config("172.29.51.11", CILIUM_ASN, &[Neighbor::new("::1", 1)], true);
        assert!(down.contains("admin-down = true") && down.contains("local-address = \"::\""));
    }

    #[test]
    fn session_states() {
        assert_eq!(session_state_name(&Value::from(6)), "ESTABLISHED");
        assert_eq!(session_state_name(&Value::from(3)), "ACTIVE");
        assert_eq!(
            session_state_name(&Value::from("BGP_FSM_OPENCONFIRM")),
            "OPENCONFIRM"
        );
    }
}
