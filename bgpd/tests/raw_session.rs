//! The daemon, run in-process on loopback, against a raw BGP client written
//! with `bgp-proto`: the OPEN exchange, End-of-RIB, routes in the
//! Adj-RIB-In, and the exact NOTIFICATION or RFC 7606 action for each
//! malformed message, an unknown source and max-prefix; a misbehaving peer
//! leaves the other sessions up.

use bgp_proto::attr::{flags, AsPathRepr, AttributeRepr, Origin};
use bgp_proto::capability::CapabilityRepr;
use bgp_proto::header::{split_frame, MessageType};
use bgp_proto::notification::Notification;
use bgp_proto::open::OpenRepr;
use bgp_proto::{Family, Message, Nlri, SessionContext, UpdateRepr};
use bgpd::config::Config;
use bgpd::daemon::{self, Daemon};
use bytes::BytesMut;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A daemon whose "nodes" are 127.0.0.0/29 (AS 64512) with a 5-prefix limit
/// for 127.0.0.6, and nothing configured for other loopback sources.
async fn start() -> (Arc<Daemon>, SocketAddr) {
    let (bgp, http) = (free_port(), free_port());
    let text = format!(
        r#"
asn = 64513
router_id = "127.0.0.1"
listen = ["127.0.0.1:{bgp}"]
hold_time = 90
[http]
listen = "127.0.0.1:{http}"
[[peer]]
name = "nodes"
prefix = "127.0.0.0/29"
remote_asn = 64512
role = "speaker"
[[peer]]
name = "limited"
address = "127.0.0.6"
remote_asn = 64512
role = "speaker"
max_prefixes = 5
"#
    );
    let config = Config::from_str(&text, "test.toml").expect("test config");
    let d = Daemon::new(config).unwrap();
    daemon::start(d.clone()).await.unwrap();
    (d, SocketAddr::from(([127, 0, 0, 1], bgp)))
}

struct Raw {
    stream: TcpStream,
    buf: BytesMut,
}

impl Raw {
    async fn connect(from: Ipv4Addr, to: SocketAddr) -> Self {
        let s = TcpSocket::new_v4().unwrap();
        s.bind(SocketAddr::new(IpAddr::V4(from), 0)).unwrap();
        let stream = s.connect(to).await.unwrap();
        Self {
            stream,
            buf: BytesMut::new(),
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// The next whole message, or None when the connection closes.
    async fn recv(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(f) = split_frame(&mut self.buf, 65535).unwrap() {
                return Some(f.to_vec());
            }
            let n =
                tokio::time::timeout(Duration::from_secs(10), self.stream.read_buf(&mut self.buf))
                    .await
                    .expect("daemon answered within 10 s")
                    .ok()?;
            if n == 0 {
                return None;
            }
        }
    }

    /// Reads until a NOTIFICATION; returns (code, subcode, data).
    async fn notification(&mut self) -> (u8, u8, Vec<u8>) {
        while let Some(m) = self.recv().await {
            if m[18] == MessageType::Notification as u8 {
                let n = Notification::new_checked(&m[19..]).unwrap();
                return (n.code(), n.subcode(), n.data().to_vec());
            }
        }
        panic!("connection closed without a NOTIFICATION");
    }

    /// OPEN as a Cilium node sends it, then KEEPALIVE; returns once the
    /// daemon's End-of-RIB markers for both families have arrived.
    async fn establish(from: Ipv4Addr, to: SocketAddr) -> Self {
        Self::establish_with(from, to, &[]).await
    }

    async fn establish_with(from: Ipv4Addr, to: SocketAddr, extra: &[CapabilityRepr]) -> Self {
        let mut me = Self::connect(from, to).await;
        let open = OpenRepr {
            version: 4,
            my_as: 64512,
            hold_time: 90,
            bgp_identifier: from,
            capabilities: vec![
                CapabilityRepr::Multiprotocol(Family::IPV4_UNICAST),
                CapabilityRepr::Multiprotocol(Family::IPV6_UNICAST),
                CapabilityRepr::RouteRefresh,
                CapabilityRepr::FourOctetAs(64512),
            ]
            .into_iter()
            .chain(extra.iter().cloned())
            .collect(),
        };
        let mut out = Vec::new();
        open.emit(&mut out).unwrap();
        bgp_proto::keepalive::emit_keepalive(&mut out);
        me.send(&out).await;
        let ctx = SessionContext::modern();
        let mut eor = Vec::new();
        while eor.len() < 2 {
            let m = me.recv().await.expect("session came up");
            match Message::new_checked(&m, &ctx).unwrap() {
                Message::Open(o) => assert_eq!(o.peer_as(), 64513),
                Message::Update(u) => eor.push(u.end_of_rib().expect("only End-of-RIB is sent")),
                Message::Keepalive => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(eor, vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST]);
        me
    }
}

fn route(p: &str) -> Nlri {
    Nlri {
        path_id: None,
        prefix: p.parse().unwrap(),
    }
}

fn lb_update(prefixes: &[&str]) -> Vec<u8> {
    let u = UpdateRepr {
        withdrawn: vec![],
        attributes: vec![
            AttributeRepr::Origin(Origin::Igp),
            AttributeRepr::AsPath(AsPathRepr::sequence([64512])),
            AttributeRepr::NextHop(Ipv4Addr::new(127, 0, 0, 2)),
        ],
        nlri: prefixes.iter().map(|p| route(p)).collect(),
    };
    let mut out = Vec::new();
    u.emit(&SessionContext::modern(), &mut out).unwrap();
    out
}

/// Raw UPDATE: header, withdrawn length 0, given attributes, NLRI.
fn raw_update(attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut v = vec![0xff; 16];
    v.extend_from_slice(&((19 + 4 + attrs.len() + nlri.len()) as u16).to_be_bytes());
    v.push(2);
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    v.extend_from_slice(attrs);
    v.extend_from_slice(nlri);
    v
}

const ORIGIN: [u8; 4] = [flags::TRANSITIVE, 1, 1, 0];
const AS_PATH: [u8; 9] = [flags::TRANSITIVE, 2, 6, 2, 1, 0, 0, 0xfc, 0];
const NEXT_HOP: [u8; 7] = [flags::TRANSITIVE, 3, 4, 127, 0, 0, 2];

fn routes_of(d: &Daemon, ip: &str) -> usize {
    let ip: IpAddr = ip.parse().unwrap();
    d.peer_list()
        .iter()
        .find(|p| p.address == ip)
        .map_or(0, |p| p.rib.read().unwrap().len())
}

async fn eventually(mut f: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_arrive_and_malformations_get_their_rfc_answer() {
    let (d, addr) = start().await;

    // A healthy node that must stay up through everything below.
    let mut good = Raw::establish(Ipv4Addr::new(127, 0, 0, 2), addr).await;
    good.send(&lb_update(&["172.29.52.200/32", "172.29.52.100/32"]))
        .await;
    assert!(eventually(|| routes_of(&d, "127.0.0.2") == 2).await);

    // RFC 7606 treat-as-withdraw keeps the session: ORIGIN with optional flag.
    let mut taw = Raw::establish(Ipv4Addr::new(127, 0, 0, 3), addr).await;
    taw.send(&lb_update(&["172.29.52.201/32"])).await;
    assert!(eventually(|| routes_of(&d, "127.0.0.3") == 1).await);
    let bad_flags = [&[0xc0, 1, 1, 0][..], &AS_PATH, &NEXT_HOP].concat();
    taw.send(&raw_update(&bad_flags, &[32, 172, 29, 52, 201]))
        .await;
    assert!(
        eventually(|| routes_of(&d, "127.0.0.3") == 0).await,
        "treat-as-withdraw removed the route"
    );
    // Malformed AS_PATH (segment overrun): also treat-as-withdraw.
    taw.send(&lb_update(&["172.29.52.202/32"])).await;
    assert!(eventually(|| routes_of(&d, "127.0.0.3") == 1).await);
    let bad_path = [
        &ORIGIN[..],
        &[flags::TRANSITIVE, 2, 6, 2, 3, 0, 0, 0xfc, 0],
        &NEXT_HOP,
    ]
    .concat();
    taw.send(&raw_update(&bad_path, &[32, 172, 29, 52, 202]))
        .await;
    assert!(eventually(|| routes_of(&d, "127.0.0.3") == 0).await);
    // Missing well-known attribute (no NEXT_HOP with NLRI): treat-as-withdraw.
    taw.send(&lb_update(&["172.29.52.203/32"])).await;
    assert!(eventually(|| routes_of(&d, "127.0.0.3") == 1).await);
    let missing = [&ORIGIN[..], &AS_PATH].concat();
    taw.send(&raw_update(&missing, &[32, 172, 29, 52, 203]))
        .await;
    assert!(eventually(|| routes_of(&d, "127.0.0.3") == 0).await);
    // AS 0 in AS_PATH (RFC 7607 s2): treat-as-withdraw.
    taw.send(&lb_update(&["172.29.52.204/32"])).await;
    assert!(eventually(|| routes_of(&d, "127.0.0.3") == 1).await);
    let as0 = [
        &ORIGIN[..],
        &[flags::TRANSITIVE, 2, 10, 2, 2, 0, 0, 0xfc, 0, 0, 0, 0, 0],
        &NEXT_HOP,
    ]
    .concat();
    taw.send(&raw_update(&as0, &[32, 172, 29, 52, 204])).await;
    assert!(eventually(|| routes_of(&d, "127.0.0.3") == 0).await);
    let peer3 = d
        .peer_list()
        .into_iter()
        .find(|p| p.address == IpAddr::from([127, 0, 0, 3]))
        .unwrap();
    assert!(peer3.is_established());
    assert_eq!(
        peer3
            .counters
            .treat_as_withdraw
            .load(std::sync::atomic::Ordering::Relaxed),
        4
    );

    // Bad marker: Message Header Error / Connection Not Synchronized.
    let mut c = Raw::establish(Ipv4Addr::new(127, 0, 0, 4), addr).await;
    let mut k = Vec::new();
    bgp_proto::keepalive::emit_keepalive(&mut k);
    k[5] = 0;
    c.send(&k).await;
    assert_eq!(c.notification().await, (1, 1, vec![]));

    // Bad length: Message Header Error / Bad Message Length with the length.
    let mut c = Raw::establish(Ipv4Addr::new(127, 0, 0, 4), addr).await;
    let mut k = Vec::new();
    bgp_proto::keepalive::emit_keepalive(&mut k);
    k[16..18].copy_from_slice(&20u16.to_be_bytes());
    k.push(0);
    c.send(&k).await;
    assert_eq!(c.notification().await, (1, 2, vec![0, 20]));

    // Malformed MP_REACH_NLRI (IPv6 with a 4-octet next hop): session reset,
    // UPDATE Message Error / Optional Attribute Error.
    let mut c = Raw::establish(Ipv4Addr::new(127, 0, 0, 5), addr).await;
    let mp = [flags::OPTIONAL, 14, 9, 0, 2, 1, 4, 127, 0, 0, 2, 0];
    let attrs = [&ORIGIN[..], &AS_PATH, &mp].concat();
    c.send(&raw_update(&attrs, &[])).await;
    let (code, subcode, _) = c.notification().await;
    assert_eq!((code, subcode), (3, 9));

    // Max prefixes: 6 routes over a limit of 5 -> Cease/1 with AFI, SAFI, limit.
    let mut c = Raw::establish(Ipv4Addr::new(127, 0, 0, 6), addr).await;
    c.send(&lb_update(&[
        "10.0.0.1/32",
        "10.0.0.2/32",
        "10.0.0.3/32",
        "10.0.0.4/32",
        "10.0.0.5/32",
        "10.0.0.6/32",
    ]))
    .await;
    assert_eq!(c.notification().await, (6, 1, vec![0, 1, 1, 0, 0, 0, 5]));

    // An unknown source (127.0.0.9 is outside every peer): Cease/Connection Rejected.
    let mut c = Raw::connect(Ipv4Addr::new(127, 0, 0, 9), addr).await;
    assert_eq!(c.notification().await, (6, 5, vec![]));

    // Through all of it the healthy node kept its session and routes.
    assert_eq!(routes_of(&d, "127.0.0.2"), 2);
    good.send(&lb_update(&["172.29.52.210/32"])).await;
    assert!(eventually(|| routes_of(&d, "127.0.0.2") == 3).await);
    let peer2 = d
        .peer_list()
        .into_iter()
        .find(|p| p.address == IpAddr::from([127, 0, 0, 2]))
        .unwrap();
    assert!(peer2.is_established());
    assert_eq!(peer2.session.read().unwrap().flaps, 0);

    // Shutdown: Cease/Administrative Shutdown to the peers still up.
    daemon::stop(&d).await;
    let (code, subcode, _) = good.notification().await;
    assert_eq!((code, subcode), (6, 2));
}

/// With `[mrt]` configured, every received message lands in a BGP4MP_ET
/// file that Debian's bgpdump reads: the post-mortem trail of issue 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_recorded_in_mrt_that_bgpdump_reads() {
    let bgpdump = std::path::Path::new("/usr/bin/bgpdump");
    assert!(
        bgpdump.exists(),
        "bgpdump is required (Debian package bgpdump; scripts/test installs it)"
    );
    let dir = std::env::temp_dir().join(format!("bgpd-mrt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (d, addr) = start_recording(&format!("[mrt]\ndir = \"{}\"\n", dir.display())).await;
    let mut node = Raw::establish(Ipv4Addr::new(127, 0, 0, 2), addr).await;
    node.send(&lb_update(&["172.29.52.200/32"])).await;
    assert!(eventually(|| routes_of(&d, "127.0.0.2") == 1).await);
    daemon::stop(&d).await;
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "one recording: {files:?}");
    let out = std::process::Command::new(bgpdump)
        .arg("-m")
        .arg(&files[0])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bgpdump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = text
        .lines()
        .find(|l| l.contains("|A|"))
        .unwrap_or_else(|| panic!("no announcement in bgpdump output:\n{text}"));
    let fields: Vec<_> = line.split('|').collect();
    assert_eq!(fields[0], "BGP4MP_ET");
    assert_eq!(
        &fields[3..8],
        ["127.0.0.2", "64512", "172.29.52.200/32", "64512", "IGP"]
    );
    assert!(
        text.lines().any(|l| l.contains("|STATE|127.0.0.2|64512|")),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A daemon as in [`start`] that also records to MRT.
async fn start_recording(mrt: &str) -> (Arc<Daemon>, SocketAddr) {
    let (bgp, http) = (free_port(), free_port());
    let text = format!(
        r#"
asn = 64513
router_id = "127.0.0.1"
listen = ["127.0.0.1:{bgp}"]
[http]
listen = "127.0.0.1:{http}"
{mrt}
[[peer]]
name = "nodes"
prefix = "127.0.0.0/29"
remote_asn = 64512
role = "speaker"
"#
    );
    let config = Config::from_str(&text, "test.toml").expect("test config");
    let d = Daemon::new(config).unwrap();
    daemon::start(d.clone()).await.unwrap();
    (d, SocketAddr::from(([127, 0, 0, 1], bgp)))
}

/// Route refresh both ways: the operator's request (SIGUSR1 in the binary)
/// reaches the peer as ROUTE-REFRESH, and the peer's re-send framed by
/// BoRR/EoRR (RFC 7313 s4) drops what it did not re-announce.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_refresh_request_and_enhanced_refresh() {
    use bgp_proto::route_refresh::{RouteRefresh, RouteRefreshRepr, Subtype};
    let (d, addr) = start().await;
    let mut node = Raw::establish_with(
        Ipv4Addr::new(127, 0, 0, 2),
        addr,
        &[CapabilityRepr::EnhancedRouteRefresh],
    )
    .await;
    node.send(&lb_update(&["172.29.52.200/32", "172.29.52.201/32"]))
        .await;
    assert!(eventually(|| routes_of(&d, "127.0.0.2") == 2).await);

    daemon::request_refresh(&d);
    let mut asked = Vec::new();
    while asked.len() < 2 {
        let m = node.recv().await.expect("refresh request");
        if m[18] == MessageType::RouteRefresh as u8 {
            let r = RouteRefresh::new_checked(&m[19..]).unwrap();
            assert_eq!(r.subtype(), Subtype::NormalRequest);
            asked.push(r.family());
        }
    }
    assert_eq!(asked, vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST]);

    let mut out = Vec::new();
    RouteRefreshRepr::borr(Family::IPV4_UNICAST)
        .emit(&mut out)
        .unwrap();
    node.send(&out).await;
    node.send(&lb_update(&["172.29.52.200/32"])).await;
    let mut out = Vec::new();
    RouteRefreshRepr::eorr(Family::IPV4_UNICAST)
        .emit(&mut out)
        .unwrap();
    node.send(&out).await;
    assert!(
        eventually(|| routes_of(&d, "127.0.0.2") == 1).await,
        "EoRR removed the route not re-announced"
    );
    let peer = d
        .peer_list()
        .into_iter()
        .find(|p| p.address == IpAddr::from([127, 0, 0, 2]))
        .unwrap();
    assert_eq!(peer.rib.read().unwrap().stale_count(), 0);
    assert!(peer.is_established());
}
