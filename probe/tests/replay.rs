//! End-to-end tests of `bgp-probe replay`, through the binary: the help,
//! exit statuses and messages of each kind of error, and real replays into
//! a `bgpd` running in this test process on loopback (the session kept up
//! until SIGINT, and the default close after End-of-RIB).
//!
//! The collector data comes from `$BGP_DATA_DIR`, else `../shared/data/bgp`
//! beside the workspace; a missing file fails the test.

use bgpd::config::Config;
use bgpd::daemon::{self, Daemon};
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn probe() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bgp-probe"))
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn data(name: &str) -> String {
    let dir = match std::env::var_os("BGP_DATA_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/bgp"),
    };
    let p = dir.join(name);
    assert!(
        p.is_file(),
        "collector file {} not found: set BGP_DATA_DIR (these tests never skip)",
        p.display()
    );
    p.display().to_string()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A runtime running bgpd on loopback: AS 65002, expecting AS 65001 from
/// 127.0.0.1. The test thread stays outside the runtime, free to block.
struct Receiver {
    rt: tokio::runtime::Runtime,
    daemon: Arc<Daemon>,
    addr: SocketAddr,
}

impl Receiver {
    fn start() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (bgp, http) = (free_port(), free_port());
        let toml = format!(
            r#"
asn = 65002
router_id = "127.0.0.2"
listen = ["127.0.0.1:{bgp}"]
[http]
listen = "127.0.0.1:{http}"
[[peer]]
name = "replay"
address = "127.0.0.1"
remote_asn = 65001
role = "router"
"#
        );
        let config = Config::from_str(&toml, "replay-e2e.toml").unwrap();
        let daemon = Daemon::new(config).unwrap();
        rt.block_on(daemon::start(daemon.clone())).unwrap();
        Self {
            rt,
            daemon,
            addr: SocketAddr::from(([127, 0, 0, 1], bgp)),
        }
    }

    fn peer(&self) -> Arc<bgpd::peer::Peer> {
        self.daemon
            .peer_list()
            .into_iter()
            .find(|p| p.address == IpAddr::from([127, 0, 0, 1]))
            .expect("bgpd knows the replay peer")
    }

    fn updates(&self) -> u64 {
        self.peer().counters.updates.load(Ordering::Relaxed)
    }

    fn last_notification(&self) -> String {
        self.peer()
            .session
            .read()
            .unwrap()
            .last_notification_received
            .as_ref()
            .map(|n| n.text.clone())
            .unwrap_or_default()
    }

    fn stop(self) {
        self.rt.block_on(daemon::stop(&self.daemon));
    }
}

fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The value of a report line `key  value` (first word of the value).
fn value<'a>(report: &'a str, key: &str) -> &'a str {
    report
        .lines()
        .find_map(|l| l.strip_prefix(key).filter(|r| r.starts_with(' ')))
        .unwrap_or_else(|| panic!("no `{key}` line in:\n{report}"))
        .split_whitespace()
        .next()
        .unwrap()
}

#[test]
fn help_describes_the_rules_and_shows_examples() {
    let out = run(probe().args(["replay", "--help"]));
    assert!(out.status.success());
    let help = text(&out.stdout);
    for want in [
        "--peer <ADDR[:PORT]>",
        "--origin-as",
        "--keep-open",
        "End-of-RIB",
        "Examples:",
        "bgp-probe replay --peer",
    ] {
        assert!(help.contains(want), "`{want}` missing from:\n{help}");
    }
}

#[test]
fn usage_errors_exit_2() {
    for (args, want) in [
        (
            &["replay", "--local-as", "1", "--remote-as", "2", "f"][..],
            "--peer",
        ),
        (
            &[
                "replay",
                "--peer",
                "10.0.0.1",
                "--local-as",
                "1",
                "--remote-as",
                "2",
                "--hold-time",
                "2",
                "f",
            ][..],
            "hold time",
        ),
        (
            &[
                "replay",
                "--peer",
                "fd00::1",
                "--local-as",
                "1",
                "--remote-as",
                "2",
                "f",
            ][..],
            "--router-id",
        ),
        (
            &[
                "replay",
                "--peer",
                "10.0.0.1",
                "--local-as",
                "1",
                "--remote-as",
                "2",
                "/nonexistent/f.mrt",
            ][..],
            "/nonexistent/f.mrt",
        ),
    ] {
        let out = run(probe().args(args));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: `{want}` not in {err}");
    }
}

#[test]
fn an_unreachable_peer_exits_2() {
    let peer = format!("127.0.0.1:{}", free_port());
    let out = run(probe().args([
        "replay",
        "--peer",
        &peer,
        "--local-as",
        "65001",
        "--remote-as",
        "65002",
        &data("updates.20190101.0000.gz"),
    ]));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("cannot connect to {peer}")), "{err}");
}

#[test]
fn a_malformed_file_exits_1_naming_the_offset() {
    // An unknown record (16 octets), then a TABLE_DUMP_V2 RIB record whose
    // body ends inside its header.
    let mut bytes = Vec::new();
    for (t, sub, body) in [(99u16, 0u16, &[0u8, 0, 0, 0][..]), (13, 2, &[0, 0, 0][..])] {
        bytes.extend_from_slice(&1_400_000_000u32.to_be_bytes());
        bytes.extend_from_slice(&t.to_be_bytes());
        bytes.extend_from_slice(&sub.to_be_bytes());
        bytes.extend_from_slice(&(body.len() as u32).to_be_bytes());
        bytes.extend_from_slice(body);
    }
    let path = std::env::temp_dir().join(format!("replay-e2e-{}.mrt", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    let out = run(probe()
        .args([
            "replay",
            "--peer",
            "127.0.0.1:9",
            "--local-as",
            "65001",
            "--remote-as",
            "65002",
        ])
        .arg(&path));
    std::fs::remove_file(&path).unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&path.display().to_string()) && err.contains("offset 16"),
        "{err}"
    );
}

#[test]
fn a_rib_view_stays_in_bgpd_until_sigint() {
    let rx = Receiver::start();
    let peer = rx.addr.to_string();
    let mut child = probe()
        .args([
            "replay",
            "--peer",
            &peer,
            "--local-as",
            "65001",
            "--remote-as",
            "65002",
            "--wait",
            &data("derived/rib.20140523.0600_firstMB.whole-records.mrt.gz"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The report up to End-of-RIB; the session stays up after it.
    let mut report = String::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        report.push_str(&line);
        report.push('\n');
        if line.starts_with("End-of-RIB") {
            break;
        }
    }
    assert!(report.contains("most RIB entries"), "{report}");
    let expected: usize = value(&report, "expected").parse().unwrap();
    let updates: u64 = value(&report, "UPDATEs").parse().unwrap();
    assert!(expected > 8000, "{report}");
    assert_eq!(value(&report, "prefixes"), expected.to_string());
    assert!(value(&report, "established") == "unix", "{report}");
    wait_for("bgpd to read every UPDATE", 120, || {
        rx.updates() == updates + 2
    });
    assert_eq!(rx.peer().rib.read().unwrap().len(), expected);
    assert!(rx.peer().is_established());

    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    wait_for("bgpd to see the Cease", 10, || !rx.peer().is_established());
    let n = rx.last_notification();
    assert!(n.contains("Administrative Shutdown"), "{n}");
    rx.stop();
}

#[test]
fn by_default_the_session_closes_after_end_of_rib() {
    let rx = Receiver::start();
    let out = run(probe().args([
        "replay",
        "--peer",
        &rx.addr.to_string(),
        "--local-as",
        "65001",
        "--remote-as",
        "65002",
        "--next-hop6",
        "fd00::1",
        "--no-extended-message",
        &data("derived/rib6.20151101.0600_firstMB.whole-records.mrt.gz"),
    ]));
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(report.contains("messages up to 4096 octets"), "{report}");
    let updates: u64 = value(&report, "UPDATEs").parse().unwrap();
    let expected: &str = value(&report, "expected");
    assert_eq!(expected, "0", "no IPv4 routes: {report}");
    assert!(
        report.contains("End-of-RIB    ipv4-unicast ipv6-unicast"),
        "{report}"
    );
    // Everything was read before the Cease that ended the session.
    wait_for("bgpd to see the Cease", 10, || {
        rx.last_notification().contains("Administrative Shutdown")
    });
    assert_eq!(rx.updates(), updates + 2);
    rx.stop();
}
