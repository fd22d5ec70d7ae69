//! BIRD 2 as a generic third-party BGP peer for the interop lab.
//!
//! One BIRD instance per namespace, with its own config, control socket and
//! pid file in the namespace's scratch directory, running in the foreground
//! (`bird -f`) with its log on stderr. It has one `protocol bgp` toward a
//! neighbor on a chosen port, an IPv6 channel (and optionally IPv4), and
//! static routes it exports. [`Bird::refresh_in`] makes BIRD send a
//! ROUTE-REFRESH to the neighbor; [`Bird::refresh_out`] makes it re-send its
//! own routes.
//!
//! Timers are shortened (connect delay 1 s, retry 5 s, error wait 1-5 s) so a
//! lab session comes up quickly; the messages on the wire are unchanged.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::daemon::{try_run, wait_until, Daemon, POLL, TIMEOUT};
use crate::{prereq, Afi, Netns};

/// Name of the BGP protocol in the generated configuration.
pub const BGP_PROTOCOL: &str = "peer";

/// BIRD configuration for one BGP session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BirdConfig {
    /// `router id` (IPv4 notation).
    pub router_id: String,
    /// Local AS.
    pub local_as: u32,
    /// Local address (`local <addr>`), if pinned.
    pub local_address: Option<String>,
    /// Neighbor address.
    pub neighbor: String,
    /// Neighbor AS.
    pub neighbor_as: u32,
    /// Port BIRD dials on the neighbor.
    pub neighbor_port: u16,
    /// Enable the IPv6 unicast channel.
    pub ipv6: bool,
    /// Enable the IPv4 unicast channel.
    pub ipv4: bool,
    /// Static routes (prefixes) to originate and export, `blackhole`.
    pub static_routes: Vec<String>,
    /// `passive on`: accept only.
    pub passive: bool,
    /// TCP-MD5 password.
    pub password: Option<String>,
    /// Extra lines inside the `protocol bgp` block.
    pub extra: Vec<String>,
}

impl BirdConfig {
    /// An IPv6-only eBGP session from `local_as` to `neighbor_as` at
    /// `neighbor`, port 179, no static routes.
    pub fn new(router_id: &str, local_as: u32, neighbor: &str, neighbor_as: u32) -> BirdConfig {
        BirdConfig {
            router_id: router_id.to_string(),
            local_as,
            local_address: None,
            neighbor: neighbor.to_string(),
            neighbor_as,
            neighbor_port: 179,
            ipv6: true,
            ipv4: false,
            static_routes: Vec::new(),
            passive: false,
            password: None,
            extra: Vec::new(),
        }
    }

    /// Sets the port BIRD dials.
    pub fn port(mut self, port: u16) -> BirdConfig {
        self.neighbor_port = port;
        self
    }

    /// Pins the local address.
    pub fn local(mut self, addr: &str) -> BirdConfig {
        self.local_address = Some(addr.to_string());
        self
    }

    /// Adds a static route to export.
    pub fn route(mut self, prefix: &str) -> BirdConfig {
        self.static_routes.push(prefix.to_string());
        self
    }

    /// Enables or disables the IPv4 and IPv6 channels.
    pub fn channels(mut self, ipv4: bool, ipv6: bool) -> BirdConfig {
        self.ipv4 = ipv4;
        self.ipv6 = ipv6;
        self
    }

    /// Sets the TCP-MD5 password.
    pub fn password(mut self, pw: &str) -> BirdConfig {
        self.password = Some(pw.to_string());
        self
    }

    /// Renders `bird.conf`.
    pub fn render(&self) -> String {
        let mut c = String::new();
        let w = &mut c;
        let _ = writeln!(w, "log stderr all;");
        let _ = writeln!(w, "router id {};", self.router_id);
        let _ = writeln!(w, "debug protocols {{ states, events }};");
        let _ = writeln!(w);
        let _ = writeln!(w, "protocol device {{ scan time 2; }}");
        for afi in [Afi::Ipv4, Afi::Ipv6] {
            let routes: Vec<&String> = self
                .static_routes
                .iter()
                .filter(|r| Afi::of(r) == afi)
                .collect();
            if routes.is_empty() {
                continue;
            }
            let _ = writeln!(w, "protocol static static_{} {{", afi.name());
            let _ = writeln!(w, "  {};", afi.name());
            for r in routes {
                let _ = writeln!(w, "  route {r} blackhole;");
            }
            let _ = writeln!(w, "}}");
        }
        let _ = writeln!(w);
        let _ = writeln!(w, "protocol bgp {BGP_PROTOCOL} {{");
        match &self.local_address {
            Some(a) => {
                let _ = writeln!(w, "  local {a} as {};", self.local_as);
            }
            None => {
                let _ = writeln!(w, "  local as {};", self.local_as);
            }
        }
        let _ = writeln!(
            w,
            "  neighbor {} port {} as {};",
            self.neighbor, self.neighbor_port, self.neighbor_as
        );
        if self.passive {
            let _ = writeln!(w, "  passive on;");
        }
        if let Some(pw) = &self.password {
            let _ = writeln!(w, "  password \"{pw}\";");
        }
        let _ = writeln!(w, "  connect delay time 1;");
        let _ = writeln!(w, "  connect retry time 5;");
        let _ = writeln!(w, "  error wait time 1, 5;");
        for l in &self.extra {
            let _ = writeln!(w, "  {l}");
        }
        for (on, afi) in [(self.ipv4, Afi::Ipv4), (self.ipv6, Afi::Ipv6)] {
            if !on {
                continue;
            }
            let _ = writeln!(w, "  {} {{", afi.name());
            let _ = writeln!(w, "    import all;");
            let _ = writeln!(w, "    export where source = RTS_STATIC;");
            let _ = writeln!(w, "  }};");
        }
        let _ = writeln!(w, "}}");
        c
    }
}

/// A running BIRD 2 in a namespace.
#[derive(Debug)]
pub struct Bird {
    ns: String,
    socket: PathBuf,
    config: BirdConfig,
    daemon: Daemon,
}

impl Bird {
    /// Starts BIRD with `config` in `ns`; returns once `birdc` answers.
    pub fn start(ns: &Netns, config: &BirdConfig) -> Bird {
        let bird = prereq("bird");
        prereq("birdc");
        let dir = ns.subdir("bird");
        let conf = dir.join("bird.conf");
        std::fs::write(&conf, config.render())
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", conf.display()));
        let socket = dir.join("bird.ctl");
        let args = [
            "-f".to_string(),
            "-c".to_string(),
            conf.display().to_string(),
            "-s".to_string(),
            socket.display().to_string(),
            "-P".to_string(),
            dir.join("bird.pid").display().to_string(),
        ];
        let daemon = Daemon::spawn(
            format!("bird[{}]", ns.name()),
            ns.exec(&bird, args),
            dir.join("bird.log"),
        );
        let mut b = Bird {
            ns: ns.name().to_string(),
            socket,
            config: config.clone(),
            daemon,
        };
        let mut last = String::new();
        let ok = wait_until(TIMEOUT, Duration::from_millis(50), || {
            if !b.daemon.is_running() {
                return true;
            }
            match b.try_birdc(&["show", "status"]) {
                Ok(out) if out.contains("Daemon is up") => true,
                Ok(out) => {
                    last = out;
                    false
                }
                Err(e) => {
                    last = e;
                    false
                }
            }
        });
        if !ok || !b.daemon.is_running() {
            panic!("BIRD not ready in {}: {last}\n{}", b.ns, b.daemon.logs());
        }
        b
    }

    /// The namespace name.
    pub fn netns(&self) -> &str {
        &self.ns
    }

    /// The configuration BIRD was started with.
    pub fn config(&self) -> &BirdConfig {
        &self.config
    }

    /// Runs `birdc -s <socket> args...`.
    pub fn try_birdc(&self, args: &[&str]) -> Result<String, String> {
        try_run(
            Command::new(prereq("birdc"))
                .arg("-s")
                .arg(&self.socket)
                .args(args),
        )
    }

    /// Like [`Bird::try_birdc`], panicking with the log on failure.
    pub fn birdc(&self, args: &[&str]) -> String {
        self.try_birdc(args)
            .unwrap_or_else(|e| panic!("{e}\n{}", self.daemon.logs()))
    }

    /// The BGP state of `protocol` (`Established`, `Active`, `Idle`, ...) from
    /// `show protocols all`.
    pub fn protocol_state(&self, protocol: &str) -> String {
        match self.try_birdc(&["show", "protocols", "all", protocol]) {
            Ok(out) => out
                .lines()
                .find_map(|l| l.trim().strip_prefix("BGP state:"))
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|| "Unknown".to_string()),
            Err(e) => format!("Unavailable: {e}"),
        }
    }

    /// Waits until `protocol` is Established; panics with the log after
    /// `timeout`.
    pub fn wait_established(&self, protocol: &str, timeout: Duration) {
        let mut last = String::new();
        let ok = wait_until(timeout, POLL, || {
            last = self.protocol_state(protocol);
            last == "Established"
        });
        if !ok {
            panic!(
                "BIRD in {}: protocol {protocol} not Established (state {last})\n{}\n{}",
                self.ns,
                self.try_birdc(&["show", "protocols", "all", protocol])
                    .unwrap_or_default(),
                self.daemon.logs()
            );
        }
    }

    /// `birdc reload <protocol>`: route refresh in both directions.
    pub fn refresh(&self, protocol: &str) -> String {
        self.birdc(&["reload", protocol])
    }

    /// `birdc reload in <protocol>`: BIRD sends a ROUTE-REFRESH to the
    /// neighbor (if negotiated) and re-imports what it gets.
    pub fn refresh_in(&self, protocol: &str) -> String {
        self.birdc(&["reload", "in", protocol])
    }

    /// `birdc reload out <protocol>`: BIRD re-sends its routes to the neighbor.
    pub fn refresh_out(&self, protocol: &str) -> String {
        self.birdc(&["reload", "out", protocol])
    }

    /// `birdc show route all` (every table), as text.
    pub fn routes(&self) -> String {
        self.birdc(&["show", "route", "all"])
    }

    /// The BIRD log, for assertion messages.
    pub fn logs(&self) -> String {
        self.daemon.logs()
    }

    /// The BIRD process.
    pub fn daemon(&mut self) -> &mut Daemon {
        &mut self.daemon
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_ipv6_session() {
        let c = BirdConfig::new("192.0.2.2", 64514, "fd47:25e1:2f96:53::1", 64513)
            .port(1790)
            .route("fd47:25e1:2f96:60::/64")
            .render();
        assert!(
            c.contains("neighbor fd47:25e1:2f96:53::1 port 1790 as 64513;"),
            "{c}"
        );
        assert!(c.contains("protocol static static_ipv6"), "{c}");
        assert!(c.contains("route fd47:25e1:2f96:60::/64 blackhole;"), "{c}");
        assert!(c.contains("  ipv6 {") && !c.contains("  ipv4 {"), "{c}");
    }
}
