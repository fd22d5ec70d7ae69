//! Shared helpers for the conformance and interop tests in `tests/tests/`.
//!
//! The interop lab lives in the submodules: [`netns`] builds isolated network
//! namespaces, veth links and bridged LANs; [`daemon`] runs and supervises a
//! child process inside one; [`gobgp`], [`frr`] and [`bird`] start the real
//! daemons from the Debian packages, configured as Cilium's embedded GoBGP, as a
//! UniFi UDM Pro (FRR) and as a generic BIRD 2 peer; [`verifier`] runs the
//! project's own `bgpd` binary in a namespace and reads its HTTP API; [`raw`]
//! is a bare BGP connection from inside a namespace, for exact octets;
//! [`scenario`] is the verifier's lab (three Cilium nodes, the UDM Pro, bgpd
//! reading manifests the test writes); [`prometheus`] runs a real Prometheus
//! server in a namespace.
//!
//! Every lab test must call [`require_root`] and [`prereq`] (or
//! [`require_lab`]) first: a missing prerequisite is a test failure with a
//! message naming the Debian package, never a silent pass.
//!
//! Network hygiene: the lab only ever talks to loopback and to addresses of
//! namespaces it created itself. Namespaces get no link to the host and no
//! default route.

pub mod bird;
pub mod daemon;
pub mod frr;
pub mod gobgp;
pub mod netns;
pub mod probe_lab;
pub mod prometheus;
pub mod raw;
pub mod scenario;
pub mod verifier;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub use daemon::{wait_for, wait_until, Daemon, POLL, TIMEOUT};
pub use netns::{veth, Lan, Netns, Veth};

/// An address family (AFI) with the unicast SAFI, as used by the lab helpers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Afi {
    /// IPv4 unicast.
    Ipv4,
    /// IPv6 unicast.
    Ipv6,
}

impl Afi {
    /// The family of an address or prefix written as text (`:` means IPv6).
    pub fn of(addr_or_prefix: &str) -> Afi {
        if addr_or_prefix.contains(':') {
            Afi::Ipv6
        } else {
            Afi::Ipv4
        }
    }

    /// The lowercase name used by FRR's and GoBGP's CLIs: `ipv4` or `ipv6`.
    pub fn name(self) -> &'static str {
        match self {
            Afi::Ipv4 => "ipv4",
            Afi::Ipv6 => "ipv6",
        }
    }
}

/// Programs the lab may use, with the Debian package that ships each one.
const PACKAGES: &[(&str, &str)] = &[
    ("ip", "iproute2"),
    ("ss", "iproute2"),
    ("sysctl", "procps"),
    ("gobgpd", "gobgpd"),
    ("gobgp", "gobgpd"),
    ("bgpd", "frr"),
    ("zebra", "frr"),
    ("vtysh", "frr"),
    ("watchfrr", "frr"),
    ("bird", "bird2"),
    ("birdc", "bird2"),
    ("exabgp", "exabgp"),
    ("prometheus", "prometheus"),
    ("promtool", "prometheus"),
];

/// Every program the lab self-test and the harness modules need.
pub const LAB_PROGRAMS: &[&str] = &[
    "ip", "ss", "sysctl", "gobgpd", "gobgp", "bgpd", "zebra", "vtysh", "bird", "birdc",
];

/// Directories searched after `$PATH`: FRR keeps its daemons in
/// `/usr/lib/frr`, and a non-login root shell may lack the `sbin` ones.
const EXTRA_DIRS: &[&str] = &["/usr/lib/frr", "/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// The Debian package that ships `program`, if the lab knows it.
pub fn debian_package(program: &str) -> Option<&'static str> {
    PACKAGES
        .iter()
        .find(|(p, _)| *p == program)
        .map(|(_, pkg)| *pkg)
}

/// Finds `program` and returns its absolute path, or panics with a message
/// naming the Debian package to install.
///
/// Tests must never skip silently when a daemon is missing: CI runs as root
/// with every package installed, and a missing one is a broken environment.
pub fn prereq(program: &str) -> PathBuf {
    static FOUND: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    if let Some(p) = FOUND.lock().unwrap_or_else(|e| e.into_inner()).get(program) {
        return p.clone();
    }
    let found = find_program(program);
    FOUND
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(program.to_string(), found.clone());
    found
}

fn find_program(program: &str) -> PathBuf {
    if program.contains('/') {
        let p = Path::new(program);
        if is_executable(p) {
            return p.to_path_buf();
        }
    } else {
        let path_var = std::env::var_os("PATH").unwrap_or_default();
        let dirs = std::env::split_paths(&path_var)
            .chain(EXTRA_DIRS.iter().map(PathBuf::from))
            .collect::<Vec<_>>();
        for dir in &dirs {
            let candidate = dir.join(program);
            if is_executable(&candidate) {
                return candidate;
            }
        }
    }
    let hint = match debian_package(program) {
        Some(pkg) => format!("install the Debian package `{pkg}` (apt-get install -y {pkg})"),
        None => "install it".to_string(),
    };
    panic!(
        "interop lab prerequisite `{program}` not found in $PATH or {EXTRA_DIRS:?}: {hint}. \
         Lab tests fail rather than skip when a prerequisite is missing."
    );
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Whether this process runs with effective uid 0.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Panics with a clear message unless the process runs as root.
///
/// Network namespaces, veth pairs and the routing daemons need root; the lab
/// tests run as root locally and in CI (`CI=true`) and fail otherwise.
pub fn require_root() {
    if !is_root() {
        let ci = std::env::var("CI").unwrap_or_default();
        panic!(
            "interop lab tests must run as root (they create network namespaces and run \
             gobgpd/FRR/BIRD); effective uid is not 0 (CI={ci:?}). Run `sudo -E cargo test -p \
             bgp-tests` or run the suite as root, as CI does."
        );
    }
}

/// [`require_root`] plus [`prereq`] for every program in [`LAB_PROGRAMS`].
pub fn require_lab() {
    require_root();
    for p in LAB_PROGRAMS {
        prereq(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_program_panics_naming_the_package() {
        let err = std::panic::catch_unwind(|| prereq("bgpv-no-such-program")).unwrap_err();
        let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.contains("`bgpv-no-such-program` not found"), "{msg}");
        assert_eq!(debian_package("gobgpd"), Some("gobgpd"));
        assert_eq!(debian_package("vtysh"), Some("frr"));
        assert_eq!(debian_package("birdc"), Some("bird2"));
    }

    #[test]
    fn afi_of_text() {
        assert_eq!(Afi::of("172.29.52.100/32"), Afi::Ipv4);
        assert_eq!(Afi::of("fd47:25e1:2f96:51:100::1/128"), Afi::Ipv6);
        assert_eq!(Afi::Ipv6.name(), "ipv6");
    }
}
