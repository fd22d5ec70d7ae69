//! FRR (zebra + bgpd) configured as the UniFi UDM Pro of this project.
//!
//! The UDM Pro runs FRR with `router bgp 64513`, `no bgp ebgp-requires-policy`,
//! the Kubernetes nodes as eBGP neighbors (remote-as 64512) and the verifier
//! as an iBGP neighbor (remote-as 64513) that FRR dials on port 1790, with
//! `addpath-tx-all-paths` in both unicast families so the verifier sees every
//! node's path, not just the best one.
//!
//! Several FRR instances coexist: each gets its own directory for config,
//! pid files, the zebra API socket and the vty sockets (`-z`, `-i`,
//! `--vty_socket`), and the vty TCP port is disabled (`-P 0`). The daemons run
//! in the foreground, log to stdout (captured by [`Daemon`]), and drop
//! privileges to the `frr` user as packaged, so their directory is owned by it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::daemon::{try_run, wait_until, Daemon, POLL, TIMEOUT};
use crate::gobgp::{CILIUM_ASN, ROUTER_ASN, VERIFIER_PORT};
use crate::{prereq, Afi, Netns};

/// One `neighbor` of the FRR configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrrNeighbor {
    /// Peer address.
    pub address: String,
    /// `remote-as`.
    pub remote_as: u32,
    /// `neighbor X port N`: the port FRR dials (None: 179).
    pub port: Option<u16>,
    /// `neighbor X password P` (TCP-MD5).
    pub password: Option<String>,
    /// Activate in `address-family ipv4 unicast`.
    pub ipv4_unicast: bool,
    /// Activate in `address-family ipv6 unicast`.
    pub ipv6_unicast: bool,
    /// `neighbor X addpath-tx-all-paths` in every activated family.
    pub addpath_tx_all_paths: bool,
    /// `neighbor X timers connect N` (None: FRR's default, 120 s).
    pub connect_retry_secs: Option<u32>,
    /// `neighbor X passive`: never dial, only accept.
    pub passive: bool,
    /// `neighbor X description D`.
    pub description: Option<String>,
}

impl FrrNeighbor {
    /// A neighbor activated in the family of its own address only.
    pub fn new(address: &str, remote_as: u32) -> FrrNeighbor {
        let v6 = Afi::of(address) == Afi::Ipv6;
        FrrNeighbor {
            address: address.to_string(),
            remote_as,
            port: None,
            password: None,
            ipv4_unicast: !v6,
            ipv6_unicast: v6,
            addpath_tx_all_paths: false,
            connect_retry_secs: None,
            passive: false,
            description: None,
        }
    }

    /// A Kubernetes node (Cilium, AS 64512), eBGP, in its address's family.
    pub fn node(address: &str) -> FrrNeighbor {
        FrrNeighbor::new(address, CILIUM_ASN).description("k8s-node")
    }

    /// The verifier: iBGP (AS 64513), dialled on port 1790, both unicast
    /// families activated, `addpath-tx-all-paths` in both.
    pub fn verifier(address: &str) -> FrrNeighbor {
        let mut n = FrrNeighbor::new(address, ROUTER_ASN).description("bgp-verifier");
        n.port = Some(VERIFIER_PORT);
        n.ipv4_unicast = true;
        n.ipv6_unicast = true;
        n.addpath_tx_all_paths = true;
        n
    }

    /// Sets the port FRR dials.
    pub fn port(mut self, port: u16) -> FrrNeighbor {
        self.port = Some(port);
        self
    }

    /// Sets the TCP-MD5 password.
    pub fn password(mut self, password: &str) -> FrrNeighbor {
        self.password = Some(password.to_string());
        self
    }

    /// Chooses the activated families.
    pub fn families(mut self, ipv4_unicast: bool, ipv6_unicast: bool) -> FrrNeighbor {
        self.ipv4_unicast = ipv4_unicast;
        self.ipv6_unicast = ipv6_unicast;
        self
    }

    /// Sets the connect-retry timer (seconds).
    pub fn connect_retry(mut self, secs: u32) -> FrrNeighbor {
        self.connect_retry_secs = Some(secs);
        self
    }

    /// Makes FRR passive toward this neighbor.
    pub fn passive(mut self) -> FrrNeighbor {
        self.passive = true;
        self
    }

    /// Sets the description.
    pub fn description(mut self, d: &str) -> FrrNeighbor {
        self.description = Some(d.to_string());
        self
    }
}

/// A whole `bgpd` configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrrConfig {
    /// `hostname`.
    pub hostname: String,
    /// `router bgp <asn>`.
    pub asn: u32,
    /// `bgp router-id`.
    pub router_id: String,
    /// Neighbors, in order.
    pub neighbors: Vec<FrrNeighbor>,
    /// BGP listen port (`bgpd -p`), 179 by default.
    pub listen_port: u16,
    /// Extra lines placed inside `router bgp`, before the address families.
    pub extra: Vec<String>,
}

impl FrrConfig {
    /// The UDM Pro baseline: AS 64513, `no bgp ebgp-requires-policy`, no
    /// neighbors yet.
    pub fn udm_pro(router_id: &str) -> FrrConfig {
        FrrConfig {
            hostname: "udm-pro".to_string(),
            asn: ROUTER_ASN,
            router_id: router_id.to_string(),
            neighbors: Vec::new(),
            listen_port: 179,
            extra: Vec::new(),
        }
    }

    /// Adds a neighbor.
    pub fn neighbor(mut self, n: FrrNeighbor) -> FrrConfig {
        self.neighbors.push(n);
        self
    }

    /// Adds a raw line inside `router bgp`.
    pub fn line(mut self, l: &str) -> FrrConfig {
        self.extra.push(l.to_string());
        self
    }

    /// Renders `bgpd.conf`.
    pub fn render(&self) -> String {
        let mut c = String::new();
        let w = &mut c;
        let _ = writeln!(w, "hostname {}", self.hostname);
        let _ = writeln!(w, "!");
        let _ = writeln!(w, "router bgp {}", self.asn);
        let _ = writeln!(w, " bgp router-id {}", self.router_id);
        let _ = writeln!(w, " no bgp ebgp-requires-policy");
        // Activation is explicit per family below.
        let _ = writeln!(w, " no bgp default ipv4-unicast");
        for n in &self.neighbors {
            let a = &n.address;
            let _ = writeln!(w, " neighbor {a} remote-as {}", n.remote_as);
            if let Some(d) = &n.description {
                let _ = writeln!(w, " neighbor {a} description {d}");
            }
            if let Some(p) = n.port {
                let _ = writeln!(w, " neighbor {a} port {p}");
            }
            if let Some(pw) = &n.password {
                let _ = writeln!(w, " neighbor {a} password {pw}");
            }
            if let Some(s) = n.connect_retry_secs {
                let _ = writeln!(w, " neighbor {a} timers connect {s}");
            }
            if n.passive {
                let _ = writeln!(w, " neighbor {a} passive");
            }
        }
        for l in &self.extra {
            let _ = writeln!(w, " {l}");
        }
        for (afi, pick) in [
            (
                "ipv4",
                (|n: &FrrNeighbor| n.ipv4_unicast) as fn(&FrrNeighbor) -> bool,
            ),
            ("ipv6", |n: &FrrNeighbor| n.ipv6_unicast),
        ] {
            let active: Vec<&FrrNeighbor> = self.neighbors.iter().filter(|n| pick(n)).collect();
            if active.is_empty() {
                continue;
            }
            let _ = writeln!(w, " !");
            let _ = writeln!(w, " address-family {afi} unicast");
            for n in active {
                let _ = writeln!(w, "  neighbor {} activate", n.address);
                if n.addpath_tx_all_paths {
                    let _ = writeln!(w, "  neighbor {} addpath-tx-all-paths", n.address);
                }
            }
            let _ = writeln!(w, " exit-address-family");
        }
        let _ = writeln!(w, "exit");
        let _ = writeln!(w, "!");
        c
    }
}

/// One path of FRR's `show bgp <afi> unicast json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrrPath {
    /// The prefix (`network`), e.g. `172.29.52.100/32`.
    pub prefix: String,
    /// The peer the path came from (`peerId`).
    pub peer: String,
    /// AS path as text (`path`), e.g. `64512`.
    pub as_path: String,
    /// ORIGIN (`IGP`, `EGP`, `incomplete`).
    pub origin: String,
    /// Next-hop addresses (`nexthops[].ip`), global first as FRR lists them.
    pub next_hops: Vec<String>,
    /// `valid`.
    pub valid: bool,
    /// `bestpath`.
    pub best: bool,
    /// `stale` (graceful-restart helper keeps it after the peer dropped).
    pub stale: bool,
}

/// A running FRR (zebra + bgpd) in a namespace.
#[derive(Debug)]
pub struct Frr {
    ns: String,
    dir: PathBuf,
    config: FrrConfig,
    // Field order = drop order: bgpd goes before zebra.
    bgpd: Daemon,
    zebra: Daemon,
}

impl Frr {
    /// Starts zebra, then bgpd with `config`, in `ns`; returns when bgpd's
    /// vty answers. Panics with both logs on failure.
    pub fn start(ns: &Netns, config: &FrrConfig) -> Frr {
        let zebra_bin = prereq("zebra");
        let bgpd_bin = prereq("bgpd");
        prereq("vtysh");
        let dir = ns.subdir("frr");
        std::fs::write(
            dir.join("zebra.conf"),
            format!("hostname {}\n", config.hostname),
        )
        .unwrap_or_else(|e| panic!("cannot write zebra.conf: {e}"));
        std::fs::write(dir.join("bgpd.conf"), config.render())
            .unwrap_or_else(|e| panic!("cannot write bgpd.conf: {e}"));
        chown_to_frr(&dir);

        let zsock = dir.join("zserv.api");
        let common = |name: &str| -> Vec<String> {
            vec![
                "-f".into(),
                dir.join(format!("{name}.conf")).display().to_string(),
                "-i".into(),
                dir.join(format!("{name}.pid")).display().to_string(),
                "-z".into(),
                zsock.display().to_string(),
                "--vty_socket".into(),
                dir.display().to_string(),
                "-P".into(),
                "0".into(),
                "--log".into(),
                "stdout".into(),
            ]
        };
        let mut zebra = Daemon::spawn(
            format!("zebra[{}]", ns.name()),
            ns.exec(&zebra_bin, common("zebra")),
            dir.join("zebra.log"),
        );
        let zebra_up = wait_until(TIMEOUT, Duration::from_millis(20), || {
            zsock.exists() || !zebra.is_running()
        });
        if !zebra_up || !zebra.is_running() {
            panic!("zebra did not start in {}\n{}", ns.name(), zebra.logs());
        }
        let mut bgpd_args = common("bgpd");
        bgpd_args.extend(["-p".into(), config.listen_port.to_string()]);
        let bgpd = Daemon::spawn(
            format!("bgpd[{}]", ns.name()),
            ns.exec(&bgpd_bin, bgpd_args),
            dir.join("bgpd.log"),
        );
        let mut frr = Frr {
            ns: ns.name().to_string(),
            dir,
            config: config.clone(),
            bgpd,
            zebra,
        };
        let mut last = String::new();
        let ready = wait_until(TIMEOUT, Duration::from_millis(50), || {
            if !frr.bgpd.is_running() {
                return true;
            }
            match frr.try_vtysh(&["show bgp summary json"]) {
                Ok(out) if out.trim_start().starts_with('{') => true,
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
        if !ready || !frr.bgpd.is_running() {
            panic!("FRR bgpd not ready in {}: {last}\n{}", frr.ns, frr.logs());
        }
        frr
    }

    /// The namespace name.
    pub fn netns(&self) -> &str {
        &self.ns
    }

    /// The configuration FRR was started with.
    pub fn config(&self) -> &FrrConfig {
        &self.config
    }

    /// The directory holding config, sockets and logs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `vtysh --vty_socket <dir> -c cmd1 -c cmd2 ...`.
    pub fn try_vtysh(&self, cmds: &[&str]) -> Result<String, String> {
        let mut c = Command::new(prereq("vtysh"));
        c.arg("--vty_socket").arg(&self.dir);
        for cmd in cmds {
            c.arg("-c").arg(cmd);
        }
        try_run(&mut c)
    }

    /// Like [`Frr::try_vtysh`], panicking with the logs on failure.
    pub fn vtysh(&self, cmds: &[&str]) -> String {
        self.try_vtysh(cmds)
            .unwrap_or_else(|e| panic!("{e}\n{}", self.logs()))
    }

    /// Applies configuration lines (`configure terminal`, `router bgp <asn>`,
    /// then `lines`).
    pub fn configure_bgp(&self, lines: &[&str]) -> String {
        let rb = format!("router bgp {}", self.config.asn);
        let mut cmds = vec!["configure terminal", rb.as_str()];
        cmds.extend_from_slice(lines);
        self.vtysh(&cmds)
    }

    /// Runs a `show ... json` command and parses it.
    pub fn json(&self, cmd: &str) -> Value {
        let out = self.vtysh(&[cmd]);
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("`{cmd}`: bad JSON ({e}): {out}\n{}", self.logs()))
    }

    /// `show bgp summary json`.
    pub fn bgp_summary_json(&self) -> Value {
        self.json("show bgp summary json")
    }

    /// `show bgp <afi> unicast json`.
    pub fn routes_json(&self, afi: Afi) -> Value {
        self.json(&format!("show bgp {} unicast json", afi.name()))
    }

    /// Every path of one family, flattened from [`Frr::routes_json`].
    pub fn routes(&self, afi: Afi) -> Vec<FrrPath> {
        parse_routes(&self.routes_json(afi))
    }

    /// The paths FRR holds for `prefix` (empty if none).
    pub fn paths(&self, prefix: &str) -> Vec<FrrPath> {
        self.routes(Afi::of(prefix))
            .into_iter()
            .filter(|p| p.prefix == prefix)
            .collect()
    }

    /// `bgpState` of `addr` in `show bgp neighbors <addr> json`
    /// (`Established`, `Active`, ...); `Unknown` if FRR does not say.
    pub fn neighbor_state(&self, addr: &str) -> String {
        match self.try_vtysh(&[&format!("show bgp neighbors {addr} json")]) {
            Ok(out) => serde_json::from_str::<Value>(&out)
                .ok()
                .and_then(|v| v.get(addr)?.get("bgpState")?.as_str().map(str::to_string))
                .unwrap_or_else(|| "Unknown".to_string()),
            Err(e) => format!("Unavailable: {e}"),
        }
    }

    /// `show bgp neighbors <addr> json`, the object for `addr`.
    pub fn neighbor_json(&self, addr: &str) -> Value {
        let v = self.json(&format!("show bgp neighbors {addr} json"));
        v.get(addr).cloned().unwrap_or(v)
    }

    /// Waits until the session with `addr` is Established; panics with the
    /// logs and the summary after `timeout`.
    pub fn wait_established(&self, addr: &str, timeout: Duration) {
        let mut last = String::new();
        let ok = wait_until(timeout, POLL, || {
            last = self.neighbor_state(addr);
            last == "Established"
        });
        if !ok {
            panic!(
                "FRR in {}: session with {addr} not Established (state {last})\n{}\n{}",
                self.ns,
                self.try_vtysh(&["show bgp summary"]).unwrap_or_default(),
                self.logs()
            );
        }
    }

    /// bgpd and zebra logs, for assertion messages.
    pub fn logs(&self) -> String {
        format!("{}\n{}", self.bgpd.logs(), self.zebra.logs())
    }

    /// The bgpd process.
    pub fn bgpd(&mut self) -> &mut Daemon {
        &mut self.bgpd
    }

    /// The zebra process.
    pub fn zebra(&mut self) -> &mut Daemon {
        &mut self.zebra
    }
}

/// Flattens `show bgp <afi> unicast json` into paths.
pub fn parse_routes(v: &Value) -> Vec<FrrPath> {
    let mut out = Vec::new();
    let Some(routes) = v.get("routes").and_then(Value::as_object) else {
        return out;
    };
    for (prefix, paths) in routes {
        for p in paths.as_array().into_iter().flatten() {
            let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let b = |k: &str| p.get(k).and_then(Value::as_bool).unwrap_or(false);
            out.push(FrrPath {
                prefix: prefix.clone(),
                peer: s("peerId"),
                as_path: s("path"),
                origin: s("origin"),
                next_hops: p
                    .get("nexthops")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|nh| nh.get("ip").and_then(Value::as_str))
                    .map(str::to_string)
                    .collect(),
                valid: b("valid"),
                best: b("bestpath"),
                stale: b("stale"),
            });
        }
    }
    out
}

/// Gives `dir` (and the files in it) to the `frr` user and group, which the
/// packaged daemons switch to.
fn chown_to_frr(dir: &Path) {
    let uid = lookup_id("/etc/passwd", "frr").unwrap_or_else(|| {
        panic!("no `frr` user in /etc/passwd: install the Debian package `frr`")
    });
    let gid = lookup_id("/etc/group", "frr").unwrap_or_else(|| {
        panic!("no `frr` group in /etc/group: install the Debian package `frr`")
    });
    let chown = |p: &Path| {
        std::os::unix::fs::chown(p, Some(uid), Some(gid))
            .unwrap_or_else(|e| panic!("cannot chown {}: {e}", p.display()))
    };
    chown(dir);
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            chown(&e.path());
        }
    }
}

/// The numeric id (third field) of `name` in a passwd/group style file.
fn lookup_id(file: &str, name: &str) -> Option<u32> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        if f.next()? != name {
            return None;
        }
        f.nth(1)?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udm_pro_config() {
        let c = FrrConfig::udm_pro("172.29.51.1")
            .neighbor(FrrNeighbor::node("172.29.51.11"))
            .neighbor(FrrNeighbor::verifier("172.29.51.5").password("pw"))
            .render();
        for want in [
            "router bgp 64513",
            " bgp router-id 172.29.51.1",
            " no bgp ebgp-requires-policy",
            " neighbor 172.29.51.11 remote-as 64512",
            " neighbor 172.29.51.5 remote-as 64513",
            " neighbor 172.29.51.5 port 1790",
            " neighbor 172.29.51.5 password pw",
        ] {
            assert!(c.contains(want), "missing `{want}` in\n{c}");
        }
        let v4 = c.split("address-family ipv4 unicast").nth(1).unwrap();
        let v6 = c.split("address-family ipv6 unicast").nth(1).unwrap();
        assert!(v4.contains("neighbor 172.29.51.11 activate"));
        assert!(v4.contains("neighbor 172.29.51.5 addpath-tx-all-paths"));
        assert!(v6.contains("neighbor 172.29.51.5 activate"));
        assert!(v6.contains("neighbor 172.29.51.5 addpath-tx-all-paths"));
        assert!(!v6.contains("172.29.51.11"), "{c}");
    }

    #[test]
    fn parses_route_json() {
        let v: Value = serde_json::from_str(
            r#"{"routes":{"172.29.52.100/32":[{"valid":true,"bestpath":true,
            "peerId":"172.29.51.11","path":"64512","origin":"IGP",
            "nexthops":[{"ip":"172.29.51.11","afi":"ipv4","used":true}]}]}}"#,
        )
        .unwrap();
        let p = parse_routes(&v);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].next_hops, vec!["172.29.51.11".to_string()]);
        assert!(p[0].best && p[0].valid && !p[0].stale);
    }
}
