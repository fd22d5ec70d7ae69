//! Tests of loading and validation. Files are written under
//! `std::env::temp_dir()` in directories unique to the process and test.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bgp_proto::Family;

use super::raw::RawConfig;
use super::*;

const EXAMPLE: &str = include_str!("../../examples/bgpd.toml");
const EXAMPLE_KEY_PATH: &str = "/etc/bgpd/secrets/md5";

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "bgpd-config-test-{}-{tag}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A valid file with the given `[[peer]]` tables appended.
fn with_peers(peers: &str) -> String {
    format!("router_id = \"172.29.51.10\"\n{peers}")
}

/// The `Display` text of the error `text` produces.
fn error_of(text: &str) -> String {
    match Config::from_str(text, "bgpd.toml") {
        Ok(c) => panic!("accepted:\n{text}\n=> {c:?}"),
        Err(e) => e.to_string(),
    }
}

const NODES: &str = "[[peer]]\nname = \"cilium-nodes\"\nprefix = \"172.29.51.0/24\"\n\
                     remote_asn = 64512\nrole = \"speaker\"\n";
const UDM: &str = "[[peer]]\nname = \"udm-pro\"\naddress = \"172.29.51.1\"\n\
                   remote_asn = 64513\nrole = \"router\"\n";

#[test]
fn embedded_default_parses() {
    let c = Config::embedded_default();
    assert_eq!(c.source, "default.toml (embedded)");
    assert_eq!(c.asn, 64513);
    assert_eq!(c.router_id, Ipv4Addr::LOCALHOST);
    assert_eq!(
        c.listen,
        vec!["127.0.0.1:1790".parse::<SocketAddr>().unwrap()]
    );
    assert!(c.listen.iter().all(|a| a.ip().is_loopback()));
    assert!(c.http.listen.ip().is_loopback());
    assert_eq!(c.http.listen.port(), 9179);
    assert_eq!(c.hold_time, Duration::from_secs(90));
    assert_eq!(c.connect_retry, Duration::from_secs(30));
    assert_eq!(c.mrt, None);
    assert_eq!(c.peers.len(), 2);

    let nodes = c.peer("cilium-nodes").unwrap();
    assert_eq!(
        nodes.remote,
        PeerMatch::Prefix("172.29.51.0/24".parse().unwrap())
    );
    assert_eq!(nodes.remote_asn, 64512);
    assert_eq!(nodes.role, Role::Speaker);
    assert_eq!(nodes.connect, ConnectMode::Passive);
    assert!(nodes.is_dynamic());
    assert!(!c.is_ibgp(nodes));

    let udm = c.peer("udm-pro").unwrap();
    assert_eq!(udm.remote, PeerMatch::Address(ip("172.29.51.1")));
    assert_eq!(udm.remote_asn, 64513);
    assert_eq!(udm.role, Role::Router);
    assert_eq!(udm.connect, ConnectMode::Passive);
    assert!(c.is_ibgp(udm));

    for p in &c.peers {
        assert_eq!(p.md5_key, None);
        assert_eq!(p.password_file, None);
        assert_eq!(p.hold_time_secs(), 90);
        assert!(!p.ttl_security);
        assert_eq!(p.max_prefixes, None);
        assert_eq!(p.families, vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST]);
        assert!(p.add_path_receive);
        assert!(p.graceful_restart.helper);
        assert_eq!(p.graceful_restart.stale_timeout, Duration::from_secs(360));
    }
    assert_eq!(c.peer_for(ip("172.29.51.1")).unwrap().name, "udm-pro");
    assert_eq!(c.peer_for(ip("172.29.51.23")).unwrap().name, "cilium-nodes");
    assert!(c.peer_for(ip("10.0.0.1")).is_none());
    assert_eq!(Config::embedded_default_text(), EMBEDDED_TEXT);
}

#[test]
fn defaults_fill_an_almost_empty_file() {
    let c = Config::from_str("router_id = \"172.29.51.10\"\n", "min.toml").unwrap();
    assert_eq!(c.asn, DEFAULT_ASN);
    assert_eq!(c.listen, vec![DEFAULT_LISTEN]);
    assert_eq!(c.http.listen, DEFAULT_HTTP_LISTEN);
    assert_eq!(c.hold_time, Duration::from_secs(DEFAULT_HOLD_TIME.into()));
    assert!(c.peers.is_empty());
    let c = Config::from_str(&with_peers("[mrt]\ndir = \"/tmp/m\"\n"), "m.toml").unwrap();
    let mrt = c.mrt.unwrap();
    assert_eq!(mrt.dir, Path::new("/tmp/m"));
    assert_eq!(mrt.rotate, Duration::from_secs(3600));
    assert_eq!(mrt.max_files, 24);
}

#[test]
fn example_parses() {
    assert!(EXAMPLE.contains(EXAMPLE_KEY_PATH));
    let dir = TempDir::new("example");
    let key = dir.file("md5", b"s3cret-key\n");
    let text = EXAMPLE.replace(EXAMPLE_KEY_PATH, key.to_str().unwrap());
    let c = Config::from_str(&text, "bgpd.toml").unwrap_or_else(|e| panic!("{e}"));

    assert_eq!(c.asn, 64513);
    assert_eq!(c.router_id, Ipv4Addr::new(172, 29, 51, 10));
    assert_eq!(c.listen.len(), 2);
    assert_eq!(
        c.listen[0],
        "172.29.51.10:1790".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(c.http.listen, DEFAULT_HTTP_LISTEN);
    let mrt = c.mrt.as_ref().unwrap();
    assert_eq!(mrt.dir, Path::new("/var/lib/bgpd/mrt"));
    assert_eq!(mrt.rotate, Duration::from_secs(3600));
    assert_eq!(mrt.max_files, 24);

    let nodes = c.peer("cilium-nodes").unwrap();
    assert_eq!(nodes.md5_key.as_deref(), Some(&b"s3cret-key"[..]));
    assert_eq!(nodes.password_file.as_deref(), Some(key.as_path()));
    assert_eq!(nodes.hold_time, Duration::from_secs(30));
    assert_eq!(nodes.max_prefixes, Some(1000));
    assert!(nodes.graceful_restart.helper);
    let udm = c.peer("udm-pro").unwrap();
    assert!(udm.ttl_security);
    assert_eq!(udm.families, vec![Family::IPV4_UNICAST]);
    assert!(!udm.graceful_restart.helper);
    assert_eq!(udm.hold_time, Duration::from_secs(90));
    let lab = c.peer("lab-frr").unwrap();
    assert_eq!(lab.connect, ConnectMode::Active { port: 179 });
    assert_eq!(c.peer_for(ip("172.29.51.1")).unwrap().name, "udm-pro");
    assert_eq!(c.peer_for(ip("172.29.51.99")).unwrap().name, "cilium-nodes");
    assert_eq!(c.peer_for(ip("172.29.60.2")).unwrap().name, "lab-frr");

    // "Uses every field": each optional key is set somewhere in the example.
    let raw: RawConfig = toml::from_str(EXAMPLE).unwrap();
    assert!(raw.asn.is_some() && raw.router_id.is_some() && raw.listen.is_some());
    assert!(raw.hold_time.is_some() && raw.connect_retry.is_some());
    assert!(raw.http.as_ref().unwrap().listen.is_some());
    let m = raw.mrt.as_ref().unwrap();
    assert!(m.rotate_seconds.is_some() && m.max_files.is_some());
    let any = |f: &dyn Fn(&raw::RawPeer) -> bool| raw.peer.iter().any(f);
    assert!(any(&|p| p.address.is_some()));
    assert!(any(&|p| p.prefix.is_some()));
    assert!(any(&|p| p.connect.is_some() && p.port.is_some()));
    assert!(any(&|p| p.hold_time.is_some()));
    assert!(any(&|p| p.password_file.is_some()));
    assert!(any(&|p| p.ttl_security.is_some()));
    assert!(any(&|p| p.max_prefixes.is_some()));
    assert!(any(&|p| p.families.is_some()));
    assert!(any(&|p| p.add_path_receive.is_some()));
    assert!(any(&|p| p
        .graceful_restart
        .as_ref()
        .is_some_and(
            |g| g.helper.is_some() && g.stale_timeout.is_some()
        )));
}

#[test]
fn example_names_its_password_file() {
    // Unsubstituted, the example refers to a file that does not exist here;
    // the error names the field, the path and that it is missing.
    if Path::new(EXAMPLE_KEY_PATH).exists() {
        return;
    }
    let e = Config::from_str(EXAMPLE, "bgpd.toml").unwrap_err();
    assert_eq!(
        e.to_string(),
        "bgpd.toml: peer[0].password_file = \"/etc/bgpd/secrets/md5\": \
         password file /etc/bgpd/secrets/md5 does not exist"
    );
    assert_eq!(e.field, "peer[0].password_file");
    assert!(e.line.is_some());
}

#[test]
fn invalid_prefix_length() {
    let peers = format!(
        "{UDM}[[peer]]\nname = \"n\"\nprefix = \"172.29.51.0/33\"\nremote_asn = 64512\n\
         role = \"speaker\"\n"
    );
    let text = with_peers(&peers);
    let e = Config::from_str(&text, "bgpd.toml").unwrap_err();
    assert_eq!(
        e.to_string(),
        "bgpd.toml: peer[1].prefix = \"172.29.51.0/33\": invalid prefix length"
    );
    assert_eq!(e.file, "bgpd.toml");
    assert_eq!(e.field, "peer[1].prefix");
    assert_eq!(e.value.as_deref(), Some("\"172.29.51.0/33\""));
    assert_eq!(e.reason, "invalid prefix length");
    // Line 9 of: router_id, 5 lines of UDM, [[peer]], name, prefix.
    assert_eq!(e.line, Some(9));
    assert_eq!(e.column, Some(10));
}

#[test]
fn other_bad_prefixes() {
    let bad = |prefix: &str| {
        error_of(&with_peers(&format!(
            "[[peer]]\nname = \"n\"\nprefix = \"{prefix}\"\nremote_asn = 64512\nrole = \"speaker\"\n"
        )))
    };
    assert_eq!(
        bad("172.29.51.5/24"),
        "bgpd.toml: peer[0].prefix = \"172.29.51.5/24\": host bits set (the prefix is 172.29.51.0/24)"
    );
    assert_eq!(
        bad("172.29.51.0"),
        "bgpd.toml: peer[0].prefix = \"172.29.51.0\": expected address/length, e.g. \"172.29.51.0/24\""
    );
    assert_eq!(
        bad("fd00::/129"),
        "bgpd.toml: peer[0].prefix = \"fd00::/129\": invalid prefix length"
    );
    assert_eq!(
        bad("172.29.51/24"),
        "bgpd.toml: peer[0].prefix = \"172.29.51/24\": not an IP prefix"
    );
    // "Anyone" is a valid, if unwise, prefix.
    Config::from_str(
        &with_peers(
            "[[peer]]\nname = \"n\"\nprefix = \"0.0.0.0/0\"\nremote_asn = 64512\nrole = \"speaker\"\n",
        ),
        "bgpd.toml",
    )
    .unwrap();
}

#[test]
fn reserved_as_numbers() {
    let peers = format!(
        "{NODES}{UDM}[[peer]]\nname = \"x\"\naddress = \"10.0.0.1\"\nremote_asn = 0\nrole = \"router\"\n"
    );
    assert_eq!(
        error_of(&with_peers(&peers)),
        "bgpd.toml: peer[2].remote_asn = 0: AS 0 is reserved (RFC 7607)"
    );
    assert_eq!(
        error_of("asn = 23456\nrouter_id = \"1.2.3.4\"\n"),
        "bgpd.toml: asn = 23456: AS 23456 is AS_TRANS, a stand-in for 4-octet AS numbers (RFC 6793)"
    );
    assert_eq!(
        error_of("asn = 4294967296\nrouter_id = \"1.2.3.4\"\n"),
        "bgpd.toml: asn = 4294967296: not an AS number (expected 1..=4294967294)"
    );
    assert_eq!(
        error_of("asn = 65535\nrouter_id = \"1.2.3.4\"\n"),
        "bgpd.toml: asn = 65535: reserved AS number (RFC 7300)"
    );
    // A 4-octet AS is fine.
    let c = Config::from_str("asn = 4200000000\nrouter_id = \"1.2.3.4\"\n", "x").unwrap();
    assert_eq!(c.asn, 4_200_000_000);
}

#[test]
fn duplicate_names() {
    let peers = format!("{NODES}{}", UDM.replace("udm-pro", "cilium-nodes"));
    assert_eq!(
        error_of(&with_peers(&peers)),
        "bgpd.toml: peer[1].name = \"cilium-nodes\": duplicate name (also peer[0])"
    );
}

#[test]
fn bad_names() {
    let peers = UDM.replace("udm-pro", "udm pro");
    assert_eq!(
        error_of(&with_peers(&peers)),
        "bgpd.toml: peer[0].name = \"udm pro\": use only letters, digits, '-', '_' and '.' \
         (the name appears in URLs and metrics)"
    );
    let peers = UDM.replace("udm-pro", "");
    assert_eq!(
        error_of(&with_peers(&peers)),
        "bgpd.toml: peer[0].name = \"\": empty name"
    );
}

#[test]
fn overlapping_prefixes_are_ambiguous() {
    let peers = format!(
        "{NODES}[[peer]]\nname = \"half\"\nprefix = \"172.29.51.128/25\"\nremote_asn = 64512\n\
         role = \"speaker\"\n"
    );
    let e = Config::from_str(&with_peers(&peers), "bgpd.toml").unwrap_err();
    assert_eq!(
        e.to_string(),
        "bgpd.toml: peer[1].prefix = \"172.29.51.128/25\": overlaps peer[0] (\"cilium-nodes\", \
         prefix 172.29.51.0/24): a connection could match both; use disjoint prefixes, or an \
         exact address inside a prefix"
    );
    // The same in the other order: the wider prefix comes second.
    let peers = format!(
        "[[peer]]\nname = \"half\"\nprefix = \"172.29.51.128/25\"\nremote_asn = 64512\n\
         role = \"speaker\"\n{NODES}"
    );
    assert!(error_of(&with_peers(&peers)).starts_with(
        "bgpd.toml: peer[1].prefix = \"172.29.51.0/24\": overlaps peer[0] (\"half\", prefix 172.29.51.128/25)"
    ));
    // Identical prefixes.
    let peers = format!("{NODES}{}", NODES.replace("cilium-nodes", "again"));
    assert!(error_of(&with_peers(&peers))
        .starts_with("bgpd.toml: peer[1].prefix = \"172.29.51.0/24\": overlaps peer[0]"));
    // Disjoint prefixes are fine.
    let peers = format!(
        "{NODES}{}",
        NODES.replace("cilium-nodes", "b").replace("51.0", "52.0")
    );
    Config::from_str(&with_peers(&peers), "bgpd.toml").unwrap();
}

#[test]
fn same_address_twice_is_ambiguous() {
    let peers = format!("{UDM}{}", UDM.replace("udm-pro", "udm-again"));
    assert_eq!(
        error_of(&with_peers(&peers)),
        "bgpd.toml: peer[1].address = \"172.29.51.1\": same address as peer[0] (\"udm-pro\"): \
         a connection would match both"
    );
}

#[test]
fn address_and_prefix_together_or_neither() {
    let peers = UDM.replace("role", "prefix = \"10.0.0.0/8\"\nrole");
    assert_eq!(
        error_of(&with_peers(&peers)),
        "bgpd.toml: peer[0].prefix = \"10.0.0.0/8\": give either address or prefix, not both"
    );
    let peers = "[[peer]]\nname = \"x\"\nremote_asn = 64512\nrole = \"speaker\"\n";
    let e = Config::from_str(&with_peers(peers), "bgpd.toml").unwrap_err();
    assert_eq!(
        e.to_string(),
        "bgpd.toml: peer[0]: needs address (one neighbour) or prefix (dynamic neighbours)"
    );
    assert_eq!(e.value, None);
    assert_eq!(e.line, Some(2));
}

#[test]
fn bad_addresses() {
    let bad = |addr: &str| error_of(&with_peers(&UDM.replace("172.29.51.1", addr)));
    assert_eq!(
        bad("172.29.51.0/24"),
        "bgpd.toml: peer[0].address = \"172.29.51.0/24\": not an IP address (for a range of \
         neighbours use prefix)"
    );
    assert_eq!(
        bad("0.0.0.0"),
        "bgpd.toml: peer[0].address = \"0.0.0.0\": unspecified address"
    );
    assert_eq!(
        bad("::ffff:172.29.51.1"),
        "bgpd.toml: peer[0].address = \"::ffff:172.29.51.1\": IPv4-mapped IPv6 address: write \
         the IPv4 form"
    );
}

#[test]
fn active_needs_an_address() {
    let peers = NODES.replace("role", "connect = \"active\"\nrole");
    let e = Config::from_str(&with_peers(&peers), "bgpd.toml").unwrap_err();
    assert_eq!(
        e.to_string(),
        "bgpd.toml: peer[0].connect = \"active\": an active peer needs address (a prefix names \
         no host to dial)"
    );
    // With an address, the port defaults to 179 or is taken as given.
    let peers = UDM.replace("role", "connect = \"active\"\nrole");
    let c = Config::from_str(&with_peers(&peers), "x").unwrap();
    assert_eq!(c.peers[0].connect, ConnectMode::Active { port: 179 });
    let peers = UDM.replace("role", "connect = \"active\"\nport = 1179\nrole");
    let c = Config::from_str(&with_peers(&peers), "x").unwrap();
    assert_eq!(c.peers[0].connect, ConnectMode::Active { port: 1179 });
}

#[test]
fn connect_and_port_errors() {
    let peers = UDM.replace("role", "port = 1790\nrole");
    assert_eq!(
        error_of(&with_peers(&peers)),
        "bgpd.toml: peer[0].port = 1790: port applies only to connect = \"active\""
    );
    let peers = UDM.replace("role", "connect = \"active\"\nport = 70000\nrole");
    assert_eq!(
        error_of(&with_peers(&peers)),
        "bgpd.toml: peer[0].port = 70000: out of range (expected 1..=65535)"
    );
    let peers = UDM.replace("role", "connect = \"dial\"\nrole");
    assert_eq!(
        error_of(&with_peers(&peers)),
        "bgpd.toml: peer[0].connect = \"dial\": unknown mode (expected \"passive\" or \"active\")"
    );
    let peers = UDM.replace("\"router\"", "\"spaeker\"");
    assert_eq!(
        error_of(&with_peers(&peers)),
        "bgpd.toml: peer[0].role = \"spaeker\": unknown role (expected \"speaker\" or \"router\")"
    );
}

#[test]
fn hold_time_one_or_two_is_invalid() {
    for v in [1, 2] {
        assert_eq!(
            error_of(&format!("router_id = \"1.2.3.4\"\nhold_time = {v}\n")),
            format!(
                "bgpd.toml: hold_time = {v}: hold time must be 0 or at least 3 seconds (RFC 4271)"
            )
        );
        let peers = UDM.replace("role", &format!("hold_time = {v}\nrole"));
        assert_eq!(
            error_of(&with_peers(&peers)),
            format!(
                "bgpd.toml: peer[0].hold_time = {v}: hold time must be 0 or at least 3 seconds \
                 (RFC 4271)"
            )
        );
    }
    assert_eq!(
        error_of("router_id = \"1.2.3.4\"\nhold_time = 65536\n"),
        "bgpd.toml: hold_time = 65536: out of range (expected 0..=65535)"
    );
    // 0 (no keepalives) and 3 are valid; a peer override beats the global.
    let text = format!(
        "router_id = \"1.2.3.4\"\nhold_time = 0\n{}",
        UDM.replace("role", "hold_time = 3\nrole")
    );
    let c = Config::from_str(&text, "x").unwrap();
    assert_eq!(c.hold_time, Duration::ZERO);
    assert_eq!(c.peers[0].hold_time_secs(), 3);
}

#[test]
fn unknown_family() {
    let peers = UDM.replace(
        "role",
        "families = [\"ipv4-unicast\", \"ipv4-flowspec\"]\nrole",
    );
    let e = Config::from_str(&with_peers(&peers), "bgpd.toml").unwrap_err();
    assert_eq!(
        e.to_string(),
        "bgpd.toml: peer[0].families[1] = \"ipv4-flowspec\": unknown family (expected \
         \"ipv4-unicast\" or \"ipv6-unicast\")"
    );
    assert_eq!(e.line, Some(6));
    let peers = UDM.replace(
        "role",
        "families = [\"ipv6-unicast\", \"ipv6-unicast\"]\nrole",
    );
    assert_eq!(
        error_of(&with_peers(&peers)),
        "bgpd.toml: peer[0].families[1] = \"ipv6-unicast\": listed twice"
    );
    let peers = UDM.replace("role", "families = []\nrole");
    assert_eq!(
        error_of(&with_peers(&peers)),
        "bgpd.toml: peer[0].families = []: at least one family is needed"
    );
    let peers = UDM.replace("role", "families = [\"ipv6-unicast\"]\nrole");
    let c = Config::from_str(&with_peers(&peers), "x").unwrap();
    assert_eq!(c.peers[0].families, vec![Family::IPV6_UNICAST]);
}

fn with_password(path: &Path) -> String {
    let path = toml::Value::String(path.display().to_string()).to_string();
    with_peers(&UDM.replace("role", &format!("password_file = {path}\nrole")))
}

#[test]
fn password_file_is_read_and_stripped() {
    let dir = TempDir::new("md5-ok");
    let lf = dir.file("lf", b"key-one\n");
    let crlf = dir.file("crlf", b"key-two\r\n");
    let bare = dir.file("bare", b"key three");
    let twice = dir.file("twice", b"key\n\n");
    let max = dir.file("max", &[b'k'; 80]);
    for (path, key) in [
        (&lf, &b"key-one"[..]),
        (&crlf, b"key-two"),
        (&bare, b"key three"),
        (&twice, b"key\n"),
        (&max, &[b'k'; 80]),
    ] {
        let c = Config::from_str(&with_password(path), "bgpd.toml").unwrap();
        assert_eq!(c.peers[0].md5_key.as_deref(), Some(key));
        assert_eq!(c.peers[0].password_file.as_deref(), Some(path.as_path()));
    }
    // Debug never shows the key.
    let c = Config::from_str(&with_password(&lf), "bgpd.toml").unwrap();
    let debug = format!("{c:?}");
    assert!(!debug.contains("key-one"), "{debug}");
    assert!(debug.contains("<7 octets>"), "{debug}");
}

#[test]
fn password_file_errors_report_the_path() {
    let dir = TempDir::new("md5-bad");
    let missing = dir.0.join("missing");
    let empty = dir.file("empty", b"");
    let newline = dir.file("newline", b"\n");
    let long = dir.file("long", &[b'k'; 81]);
    let long_lf = dir.file("long-lf", &[b"k".repeat(81), b"\n".to_vec()].concat());
    let expect = |path: &Path, reason: String| {
        let shown = path.display();
        assert_eq!(
            error_of(&with_password(path)),
            format!("bgpd.toml: peer[0].password_file = \"{shown}\": {reason}")
        );
    };
    expect(
        &missing,
        format!("password file {} does not exist", missing.display()),
    );
    expect(
        &empty,
        format!("password file {} is empty", empty.display()),
    );
    expect(
        &newline,
        format!("password file {} is empty", newline.display()),
    );
    expect(
        &long,
        format!(
            "password file {} holds 81 octets; a TCP-MD5 key is at most 80",
            long.display()
        ),
    );
    expect(
        &long_lf,
        format!(
            "password file {} holds 81 octets; a TCP-MD5 key is at most 80",
            long_lf.display()
        ),
    );
    // A directory is not a key file.
    let e = error_of(&with_password(&dir.0));
    assert!(
        e.contains(&format!("cannot read password file {}", dir.0.display())),
        "{e}"
    );
}

#[test]
fn relative_password_file_is_beside_the_config_file() {
    let dir = TempDir::new("relative");
    dir.file("md5", b"beside\n");
    let text = with_peers(&UDM.replace("role", "password_file = \"md5\"\nrole"));
    let conf = dir.file("bgpd.toml", text.as_bytes());
    let c = Config::from_file(&conf).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.source, conf.display().to_string());
    assert_eq!(c.peers[0].md5_key.as_deref(), Some(&b"beside"[..]));
    assert_eq!(
        c.peers[0].password_file.as_deref(),
        Some(dir.0.join("md5").as_path())
    );
}

#[test]
fn from_file_names_the_file() {
    let dir = TempDir::new("from-file");
    let missing = dir.0.join("nope.toml");
    let e = Config::from_file(&missing).unwrap_err();
    assert_eq!(e.file, missing.display().to_string());
    assert_eq!(e.field, "");
    assert!(e
        .to_string()
        .starts_with(&format!("{}: cannot read: ", missing.display())));

    let conf = dir.file("bad.toml", b"router_id = \"0.0.0.0\"\n");
    let e = Config::from_file(&conf).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: router_id = \"0.0.0.0\": the BGP Identifier must be non-zero (RFC 6286)",
            conf.display()
        )
    );
}

#[test]
fn listen_addresses() {
    assert_eq!(
        error_of("router_id = \"1.2.3.4\"\nlisten = [\"127.0.0.1:1790\", \"172.29.51.10\"]\n"),
        "bgpd.toml: listen[1] = \"172.29.51.10\": invalid listen address (expected \
         \"addr:port\", IPv6 as \"[addr]:port\")"
    );
    assert_eq!(
        error_of("router_id = \"1.2.3.4\"\nlisten = [\"::1:1790\"]\n"),
        "bgpd.toml: listen[0] = \"::1:1790\": invalid listen address (expected \"addr:port\", \
         IPv6 as \"[addr]:port\")"
    );
    assert_eq!(
        error_of("router_id = \"1.2.3.4\"\nlisten = [\"127.0.0.1:0\"]\n"),
        "bgpd.toml: listen[0] = \"127.0.0.1:0\": port 0 is not a fixed port"
    );
    assert_eq!(
        error_of("router_id = \"1.2.3.4\"\nlisten = [\"[::1]:1790\", \"[::1]:1790\"]\n"),
        "bgpd.toml: listen[1] = \"[::1]:1790\": listed twice (also listen[0])"
    );
    assert_eq!(
        error_of("router_id = \"1.2.3.4\"\n[http]\nlisten = \"localhost:9179\"\n"),
        "bgpd.toml: http.listen = \"localhost:9179\": invalid listen address (expected \
         \"addr:port\", IPv6 as \"[addr]:port\")"
    );
    assert_eq!(
        error_of("router_id = \"1.2.3.4\"\n[http]\nlisten = \"127.0.0.1:1790\"\n"),
        "bgpd.toml: http.listen = \"127.0.0.1:1790\": same address as listen[0] (BGP)"
    );
    assert_eq!(
        error_of("router_id = \"1.2.3.4\"\nlisten = [\"0.0.0.0:1790\", \"172.29.51.10:1790\"]\n"),
        "bgpd.toml: listen[1] = \"172.29.51.10:1790\": overlaps listen[0] (0.0.0.0:1790): a \
         wildcard address already covers every address on its port"
    );
    // Different ports, or IPv4 beside IPv6, are fine.
    Config::from_str(
        "router_id = \"1.2.3.4\"\nlisten = [\"0.0.0.0:1790\", \"127.0.0.1:1791\", \"[::1]:1790\"]\n",
        "x",
    )
    .unwrap();
    let c = Config::from_str("router_id = \"1.2.3.4\"\nlisten = [\"[::]:1790\"]\n", "x").unwrap();
    assert_eq!(c.listen, vec!["[::]:1790".parse::<SocketAddr>().unwrap()]);
    let c = Config::from_str("router_id = \"1.2.3.4\"\nlisten = []\n", "x").unwrap();
    assert!(c.listen.is_empty());
}

#[test]
fn router_id() {
    let e = Config::from_str("router_id = \"0.0.0.0\"\n", "bgpd.toml").unwrap_err();
    assert_eq!(
        e.to_string(),
        "bgpd.toml: router_id = \"0.0.0.0\": the BGP Identifier must be non-zero (RFC 6286)"
    );
    assert_eq!((e.line, e.column), (Some(1), Some(13)));
    assert_eq!(
        error_of("router_id = \"fd00::1\"\n"),
        "bgpd.toml: router_id = \"fd00::1\": the BGP Identifier is 32 bits: write an IPv4 \
         address (RFC 6286)"
    );
    assert_eq!(
        error_of("router_id = \"node-1\"\n"),
        "bgpd.toml: router_id = \"node-1\": not an IPv4 address"
    );
    assert_eq!(
        error_of("asn = 64513\n"),
        "bgpd.toml: router_id: missing (the BGP Identifier: this host's IPv4 address, unique \
         in the AS)"
    );
}

#[test]
fn numeric_ranges() {
    let peers = UDM.replace("role", "max_prefixes = 0\nrole");
    assert_eq!(
        error_of(&with_peers(&peers)),
        "bgpd.toml: peer[0].max_prefixes = 0: out of range (expected 1..=4294967295)"
    );
    let peers = format!("{UDM}[peer.graceful_restart]\nstale_timeout = 0\n");
    let e = Config::from_str(&with_peers(&peers), "bgpd.toml").unwrap_err();
    assert_eq!(
        e.to_string(),
        "bgpd.toml: peer[0].graceful_restart.stale_timeout = 0: out of range (expected 1..=65535)"
    );
    assert_eq!(e.line, Some(8));
    assert_eq!(
        error_of("router_id = \"1.2.3.4\"\nconnect_retry = 0\n"),
        "bgpd.toml: connect_retry = 0: out of range (expected 1..=65535)"
    );
    assert_eq!(
        error_of("router_id = \"1.2.3.4\"\n[mrt]\ndir = \"/m\"\nmax_files = 0\n"),
        "bgpd.toml: mrt.max_files = 0: out of range (expected 1..=4294967295)"
    );
    assert_eq!(
        error_of("router_id = \"1.2.3.4\"\n[mrt]\ndir = \"/m\"\nrotate_seconds = -1\n"),
        "bgpd.toml: mrt.rotate_seconds = -1: out of range (expected 1..=4294967295)"
    );
    assert_eq!(
        error_of("router_id = \"1.2.3.4\"\n[mrt]\ndir = \"\"\n"),
        "bgpd.toml: mrt.dir = \"\": empty directory name"
    );
}

#[test]
fn misspelt_key_is_caught_with_its_line() {
    let text = with_peers(&format!("{NODES}[[peer]]\nname = \"udm-pro\"\naddress = \"172.29.51.1\"\nremote_asm = 64513\nrole = \"router\"\n"));
    let e = Config::from_str(&text, "bgpd.toml").unwrap_err();
    assert_eq!(e.file, "bgpd.toml");
    assert_eq!(e.field, "peer[1].remote_asm");
    assert_eq!(e.line, Some(10));
    assert_eq!(e.column, Some(1));
    assert!(
        e.reason.ends_with(
            "\nunknown field `remote_asm`, expected one of `name`, `address`, `prefix`, \
             `remote_asn`, `role`, `connect`, `port`, `hold_time`, `password_file`, \
             `ttl_security`, `max_prefixes`, `graceful_restart`, `families`, `add_path_receive`"
        ),
        "{}",
        e.reason
    );
    let shown = e.to_string();
    assert!(
        shown.starts_with("bgpd.toml: peer[1].remote_asm: TOML parse error at line 10, column 1\n"),
        "{shown}"
    );
    assert!(shown.contains("10 | remote_asm = 64513"), "{shown}");

    // In a nested table and at the top level too.
    let e = Config::from_str(
        &with_peers(&format!("{UDM}[peer.graceful_restart]\nhelpr = true\n")),
        "bgpd.toml",
    )
    .unwrap_err();
    assert_eq!(e.field, "peer[0].graceful_restart.helpr");
    assert_eq!(e.line, Some(8));
    let e = Config::from_str("router_id = \"1.2.3.4\"\nhold_tme = 9\n", "bgpd.toml").unwrap_err();
    assert_eq!((e.field.as_str(), e.line), ("hold_tme", Some(2)));
    let e = Config::from_str("router_id = \"1.2.3.4\"\n[[peers]]\n", "bgpd.toml").unwrap_err();
    assert_eq!((e.field.as_str(), e.line), ("peers[0]", Some(2)));
}

#[test]
fn wrong_types_and_missing_keys_keep_toml_positions() {
    let e =
        Config::from_str(&with_peers(&UDM.replace("64513", "\"64513\"")), "bgpd.toml").unwrap_err();
    assert_eq!(e.field, "peer[0].remote_asn");
    assert_eq!(e.line, Some(5));
    assert!(e.reason.contains("invalid type"), "{}", e.reason);

    let e = Config::from_str(
        &with_peers(&UDM.replace("role = \"router\"\n", "")),
        "bgpd.toml",
    )
    .unwrap_err();
    assert!(e.reason.ends_with("\nmissing field `role`"), "{}", e.reason);
    assert_eq!(e.field, "peer[0]");
    assert_eq!(e.line, Some(2));
    assert!(e
        .to_string()
        .starts_with("bgpd.toml: peer[0]: TOML parse error at line 2, column 1\n"));
}

#[test]
fn syntax_errors_keep_line_and_column() {
    let e = Config::from_str(
        "router_id = \"1.2.3.4\"\n[[peer]\nname = \"x\"\n",
        "bgpd.toml",
    )
    .unwrap_err();
    assert_eq!(e.field, "");
    assert_eq!((e.line, e.column), (Some(2), Some(8)));
    let shown = e.to_string();
    assert!(
        shown.starts_with("bgpd.toml: TOML parse error at line 2, column 8\n"),
        "{shown}"
    );
    assert!(shown.contains("2 | [[peer]"), "{shown}");
    assert!(
        shown.ends_with("unclosed array table, expected `]`"),
        "{shown}"
    );
    let e = Config::from_str("router_id = 1.2.3.4\n", "bgpd.toml").unwrap_err();
    assert_eq!(e.line, Some(1));
    assert!(e
        .to_string()
        .starts_with("bgpd.toml: TOML parse error at line 1"));
}

#[test]
fn peer_for_picks_the_most_specific() {
    let peers = format!(
        "{NODES}{UDM}[[peer]]\nname = \"lab\"\nprefix = \"172.29.0.0/20\"\nremote_asn = 65010\n\
         role = \"router\"\n[[peer]]\nname = \"v6-nodes\"\nprefix = \"fd00:29:51::/64\"\n\
         remote_asn = 64512\nrole = \"speaker\"\n[[peer]]\nname = \"v6-router\"\n\
         address = \"fd00:29:51::1\"\nremote_asn = 64513\nrole = \"router\"\n"
    );
    let c = Config::from_str(&with_peers(&peers), "x").unwrap_or_else(|e| panic!("{e}"));
    let name = |s: &str| c.peer_for(ip(s)).map(|p| p.name.as_str());
    assert_eq!(name("172.29.51.1"), Some("udm-pro"));
    assert_eq!(name("172.29.51.2"), Some("cilium-nodes"));
    assert_eq!(name("172.29.51.255"), Some("cilium-nodes"));
    assert_eq!(name("172.29.1.1"), Some("lab"));
    assert_eq!(name("172.29.52.1"), None);
    assert_eq!(name("fd00:29:51::1"), Some("v6-router"));
    assert_eq!(name("fd00:29:51::2"), Some("v6-nodes"));
    assert_eq!(name("fd00:29:52::1"), None);
    // A dual-stack socket reports IPv4 clients as IPv4-mapped IPv6.
    assert_eq!(name("::ffff:172.29.51.1"), Some("udm-pro"));
    assert_eq!(name("::ffff:172.29.51.9"), Some("cilium-nodes"));
    // File order does not matter: the address wins when listed after too.
    let peers = format!("{UDM}{NODES}");
    let c = Config::from_str(&with_peers(&peers), "x").unwrap();
    assert_eq!(c.peer_for(ip("172.29.51.1")).unwrap().name, "udm-pro");
}

#[test]
fn peer_match_matches() {
    let addr = PeerMatch::Address(ip("172.29.51.1"));
    assert!(addr.matches(ip("172.29.51.1")));
    assert!(addr.matches(ip("::ffff:172.29.51.1")));
    assert!(!addr.matches(ip("172.29.51.2")));
    let net = PeerMatch::Prefix("172.29.51.0/24".parse().unwrap());
    assert!(net.matches(ip("172.29.51.0")));
    assert!(net.matches(ip("172.29.51.255")));
    assert!(!net.matches(ip("172.29.50.255")));
    assert!(!net.matches(ip("fd00::1")));
    assert_eq!(net.to_string(), "prefix 172.29.51.0/24");
    assert_eq!(addr.to_string(), "address 172.29.51.1");
    assert_eq!(Role::Speaker.to_string(), "speaker");
    assert_eq!(
        ConnectMode::Active { port: 179 }.to_string(),
        "active (port 179)"
    );
}

#[test]
fn error_is_a_std_error() {
    let e: Box<dyn std::error::Error> =
        Box::new(Config::from_str("asn = 0\nrouter_id = \"1.1.1.1\"\n", "a.toml").unwrap_err());
    assert_eq!(
        e.to_string(),
        "a.toml: asn = 0: AS 0 is reserved (RFC 7607)"
    );
}

#[test]
fn documented_examples_parse() {
    // Every ```toml block in docs/configuration.md is either a whole file (it
    // sets router_id) or a [[peer]] fragment; both must load.
    let doc = include_str!("../../../docs/configuration.md");
    let dir = TempDir::new("docs");
    let key = dir.file("md5", b"documented\n");
    let mut blocks = 0;
    for block in doc.split("```toml\n").skip(1) {
        let block = block.split("```").next().unwrap();
        let block = block.replace(EXAMPLE_KEY_PATH, key.to_str().unwrap());
        let text = if block.contains("router_id") {
            block
        } else {
            with_peers(&block)
        };
        Config::from_str(&text, "configuration.md").unwrap_or_else(|e| panic!("{e}\n{text}"));
        blocks += 1;
    }
    assert!(blocks >= 2, "found {blocks} toml blocks");
}
