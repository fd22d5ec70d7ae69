//! Network namespaces, veth links and bridged LANs for the interop lab.
//!
//! Every [`Netns`] is uniquely named `bgpv-<tag>-<pid>-<n>`, has `lo` up, DAD
//! disabled (so IPv6 addresses are usable at once), no link to the host and no
//! default route. Dropping it kills whatever still runs inside and deletes it.
//! [`veth`] joins two namespaces point to point; [`Lan`] is a namespace holding
//! a Linux bridge, so several "nodes" and the "router" share one L2 segment.
//!
//! Stale namespaces left by a crashed earlier run (their pid is gone) are
//! removed the first time this process creates one.

use std::ffi::OsStr;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;
use std::time::Duration;

use crate::daemon::{run, try_run, wait_until, ScratchDir, POLL};
use crate::{prereq, require_root};

static NEXT_NS: AtomicU32 = AtomicU32::new(0);
static SWEEP: Once = Once::new();

/// Addresses (CIDR notation) to put on an interface: a single `&str`, an array
/// or slice of them, or a `Vec`. IPv6 addresses are added with `nodad`.
pub trait Cidrs {
    /// The addresses, in order.
    fn cidrs(&self) -> Vec<String>;
}

impl Cidrs for &str {
    fn cidrs(&self) -> Vec<String> {
        if self.trim().is_empty() {
            Vec::new()
        } else {
            vec![self.trim().to_string()]
        }
    }
}

impl Cidrs for String {
    fn cidrs(&self) -> Vec<String> {
        self.as_str().cidrs()
    }
}

impl Cidrs for &[&str] {
    fn cidrs(&self) -> Vec<String> {
        self.iter().flat_map(|c| c.cidrs()).collect()
    }
}

impl<const N: usize> Cidrs for [&str; N] {
    fn cidrs(&self) -> Vec<String> {
        self.iter().flat_map(|c| c.cidrs()).collect()
    }
}

impl Cidrs for Vec<String> {
    fn cidrs(&self) -> Vec<String> {
        self.iter().flat_map(|c| c.cidrs()).collect()
    }
}

impl Cidrs for &[String] {
    fn cidrs(&self) -> Vec<String> {
        self.iter().flat_map(|c| c.cidrs()).collect()
    }
}

/// A network namespace owned by the test; deleted (with everything still
/// running in it) on drop.
#[derive(Debug)]
pub struct Netns {
    name: String,
    next_if: AtomicU32,
    scratch: ScratchDir,
}

impl Netns {
    /// Creates `bgpv-<tag>-<pid>-<n>` with `lo` up and IPv6 DAD disabled.
    ///
    /// Panics if not root or if `ip` is missing.
    pub fn new(tag: &str) -> Netns {
        require_root();
        prereq("ip");
        SWEEP.call_once(sweep_stale);
        let tag: String = tag
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .take(24)
            .collect();
        let n = NEXT_NS.fetch_add(1, Ordering::Relaxed);
        let name = format!("bgpv-{tag}-{}-{n}", std::process::id());
        run(ip_cmd().args(["netns", "add", &name]));
        let ns = Netns {
            scratch: ScratchDir::new(&name),
            name,
            next_if: AtomicU32::new(0),
        };
        ns.ip(&["link", "set", "lo", "up"]);
        // Per-namespace sysctls: no DAD, so addresses (link-local included)
        // are never tentative; no forwarding, so a namespace never routes.
        run(&mut ns.exec(
            prereq("sysctl"),
            [
                "-qw",
                "net.ipv6.conf.all.accept_dad=0",
                "net.ipv6.conf.default.accept_dad=0",
                "net.ipv4.ip_forward=0",
                "net.ipv6.conf.all.forwarding=0",
            ],
        ));
        ns
    }

    /// The namespace name (as listed by `ip netns list`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// This namespace's scratch directory (configs, sockets, logs). Removed on
    /// drop unless the test panicked.
    pub fn dir(&self) -> &Path {
        self.scratch.path()
    }

    /// Creates and returns the subdirectory `name` of [`Netns::dir`].
    pub fn subdir(&self, name: &str) -> std::path::PathBuf {
        self.scratch.subdir(name)
    }

    /// A `Command` running `program args...` inside the namespace
    /// (`ip netns exec <name> program args...`; `ip` execs in place, so the
    /// child's pid is the program's).
    pub fn exec<I, S>(&self, program: impl AsRef<OsStr>, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        exec_in(&self.name, program, args)
    }

    /// Runs `ip -n <name> args...` and returns stdout; panics on failure.
    pub fn ip(&self, args: &[&str]) -> String {
        run(ip_cmd().arg("-n").arg(&self.name).args(args))
    }

    /// Adds `cidr` to `dev` (IPv6 with `nodad`).
    pub fn add_addr(&self, dev: &str, cidr: &str) {
        if cidr.contains(':') {
            self.ip(&["-6", "addr", "add", cidr, "dev", dev, "nodad"]);
        } else {
            self.ip(&["addr", "add", cidr, "dev", dev]);
        }
    }

    /// Pids of every process in the namespace.
    pub fn pids(&self) -> Vec<u32> {
        ns_pids(&self.name)
    }

    /// Waits until `dev` has a usable IPv6 link-local address and no address
    /// in the namespace is tentative. Panics after 10 s.
    pub fn wait_ipv6_ready(&self, dev: &str) {
        let ok = wait_until(Duration::from_secs(10), Duration::from_millis(50), || {
            let all = self.ip(&["-6", "-o", "addr", "show"]);
            let this = self.ip(&["-6", "-o", "addr", "show", "dev", dev]);
            !all.contains("tentative") && this.contains("scope link")
        });
        if !ok {
            panic!(
                "IPv6 addresses in {} did not become ready:\n{}",
                self.name,
                self.ip(&["-6", "addr", "show"])
            );
        }
    }

    /// Panics if the namespace has a default route (it must have no way out).
    pub fn assert_no_default_route(&self) {
        for fam in ["-4", "-6"] {
            let r = self.ip(&[fam, "route", "show", "default"]);
            assert!(
                r.trim().is_empty(),
                "namespace {} has a default route ({fam}): {r}",
                self.name
            );
        }
    }

    /// Runs `f` on a new thread that has joined this namespace's network
    /// stack, and returns its result; see [`run_in_ns`].
    pub fn run_in<T, F>(&self, f: F) -> std::io::Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        run_in_ns(&self.name, f)
    }

    /// Opens a TCP connection to `to` from inside the namespace (the kernel
    /// picks the source address), waiting at most `timeout`.
    pub fn connect(&self, to: SocketAddr, timeout: Duration) -> std::io::Result<TcpStream> {
        self.run_in(move || TcpStream::connect_timeout(&to, timeout))?
    }

    fn next_ifname(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.next_if.fetch_add(1, Ordering::Relaxed))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        destroy_ns(&self.name);
    }
}

/// A `Command` for the `ip` binary found by [`prereq`].
fn ip_cmd() -> Command {
    Command::new(prereq("ip"))
}

/// Runs `f` on a new thread that has joined the network stack of the
/// namespace `name` (`setns(2)` on `/run/netns/<name>`), and returns its
/// result. Sockets created by `f` belong to the namespace and keep working
/// after they are handed back to the caller's thread; the caller's own
/// thread never changes namespace.
pub fn run_in_ns<T, F>(name: &str, f: F) -> std::io::Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    use std::os::fd::AsRawFd;
    let handle = std::fs::File::open(Path::new("/run/netns").join(name))?;
    std::thread::Builder::new()
        .name(format!("in-{name}"))
        .spawn(move || {
            // SAFETY: setns(2) on an open namespace file descriptor, for the
            // calling thread only; no memory is involved.
            let rc = unsafe { libc::setns(handle.as_raw_fd(), libc::CLONE_NEWNET) };
            if rc != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(f())
        })?
        .join()
        .map_err(|_| std::io::Error::other("thread inside the namespace panicked"))?
}

/// `ip netns exec <ns> program args...` as a `Command`.
pub fn exec_in<I, S>(ns: &str, program: impl AsRef<OsStr>, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = ip_cmd();
    cmd.args(["netns", "exec", ns]).arg(program).args(args);
    cmd
}

fn ns_pids(name: &str) -> Vec<u32> {
    try_run(ip_cmd().args(["netns", "pids", name]))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn destroy_ns(name: &str) {
    for _ in 0..50 {
        let pids = ns_pids(name);
        if pids.is_empty() {
            break;
        }
        for pid in pids {
            // SAFETY: kill(2) with a pid read from `ip netns pids` for a
            // namespace this harness created; no memory is involved.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGKILL);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = try_run(ip_cmd().args(["netns", "del", name]));
}

/// Deletes `bgpv-*-<pid>-<n>` namespaces whose creating process is gone.
fn sweep_stale() {
    let Ok(entries) = std::fs::read_dir("/run/netns") else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with("bgpv-") {
            continue;
        }
        let parts: Vec<&str> = name.rsplitn(3, '-').collect();
        if parts.len() < 3 {
            continue;
        }
        let Ok(pid) = parts[1].parse::<u32>() else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            destroy_ns(&name);
        }
    }
}

/// The two interface names of a veth pair made by [`veth`].
#[derive(Clone, Debug)]
pub struct Veth {
    /// Interface name inside the first namespace.
    pub a_if: String,
    /// Interface name inside the second namespace.
    pub b_if: String,
}

/// Creates a veth pair between `a` and `b` (named `ethN` in each), assigns the
/// addresses (IPv4 and/or IPv6 with `nodad`), brings both ends up and, when
/// IPv6 is used, waits until link-local addresses are usable.
pub fn veth(a: &Netns, a_cidr: impl Cidrs, b: &Netns, b_cidr: impl Cidrs) -> Veth {
    let a_if = a.next_ifname("eth");
    let b_if = b.next_ifname("eth");
    a.ip(&[
        "link", "add", &a_if, "type", "veth", "peer", "name", &b_if, "netns", &b.name,
    ]);
    let a_addrs = a_cidr.cidrs();
    let b_addrs = b_cidr.cidrs();
    for c in &a_addrs {
        a.add_addr(&a_if, c);
    }
    for c in &b_addrs {
        b.add_addr(&b_if, c);
    }
    a.ip(&["link", "set", &a_if, "up"]);
    b.ip(&["link", "set", &b_if, "up"]);
    if a_addrs.iter().chain(&b_addrs).any(|c| c.contains(':')) {
        a.wait_ipv6_ready(&a_if);
        b.wait_ipv6_ready(&b_if);
    }
    Veth { a_if, b_if }
}

/// One L2 segment: a namespace holding the Linux bridge `br0`. Each
/// [`Lan::attach`] plugs a namespace into it through a veth pair.
#[derive(Debug)]
pub struct Lan {
    ns: Netns,
}

impl Lan {
    /// Creates the bridge namespace. IPv6 is disabled on the bridge itself
    /// (it forwards frames, it has no addresses); STP and multicast snooping
    /// are off, so ports forward at once and ND multicast is flooded.
    pub fn new(tag: &str) -> Lan {
        let ns = Netns::new(tag);
        run(&mut ns.exec(
            prereq("sysctl"),
            [
                "-qw",
                "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1",
            ],
        ));
        ns.ip(&[
            "link",
            "add",
            "br0",
            "type",
            "bridge",
            "stp_state",
            "0",
            "mcast_snooping",
            "0",
        ]);
        ns.ip(&["link", "set", "br0", "up"]);
        Lan { ns }
    }

    /// The namespace holding the bridge.
    pub fn netns(&self) -> &Netns {
        &self.ns
    }

    /// Connects `ns` to the bridge with a new veth, assigns `cidr` (IPv4 and/or
    /// IPv6) on the namespace side, and returns that interface's name.
    pub fn attach(&self, ns: &Netns, cidr: impl Cidrs) -> String {
        let port = self.ns.next_ifname("p");
        let dev = ns.next_ifname("eth");
        self.ns.ip(&[
            "link", "add", &port, "type", "veth", "peer", "name", &dev, "netns", &ns.name,
        ]);
        self.ns.ip(&["link", "set", &port, "master", "br0"]);
        self.ns.ip(&["link", "set", &port, "up"]);
        let addrs = cidr.cidrs();
        for c in &addrs {
            ns.add_addr(&dev, c);
        }
        ns.ip(&["link", "set", &dev, "up"]);
        if addrs.iter().any(|c| c.contains(':')) {
            ns.wait_ipv6_ready(&dev);
        }
        dev
    }
}

/// Polls [`POLL`]-style until `ns` shows a listening TCP socket on `port`.
pub fn wait_listening(ns: &Netns, port: u16, timeout: Duration) -> bool {
    let needle = format!(":{port} ");
    wait_until(timeout, POLL, || {
        try_run(&mut ns.exec(prereq("ss"), ["-Hltn"]))
            .map(|out| out.lines().any(|l| l.contains(&needle)))
            .unwrap_or(false)
    })
}

/// The local ports of TCP sockets listening in `ns`.
pub fn listening_ports(ns: &Netns) -> Vec<u16> {
    let out = run(&mut ns.exec(prereq("ss"), ["-Hltn"]));
    out.lines()
        .filter_map(|l| l.split_whitespace().nth(3))
        .filter_map(|local| local.rsplit(':').next())
        .filter_map(|p| p.parse().ok())
        .collect()
}
