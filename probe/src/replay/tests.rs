//! Tests of `bgp-probe replay`: the collector files replayed into an
//! in-process `bgpd` on loopback, with what bgpd holds compared to what the
//! file says, computed here independently of the replay code; the encoder's
//! messages decoded back; the rewriting rules; the arguments; the errors.
//!
//! The collector data comes from `$BGP_DATA_DIR`, else `../shared/data/bgp`
//! beside the workspace; a missing file fails the test.

use super::encode::{AttrSet, Encoder, SendSettings};
use super::plan::{Announce, UpdatePlan};
use super::rewrite::{NextHopPlan, Rewrite, DEFAULT_LOCAL_PREF};
use super::*;
use bgp_proto::attr::{
    flags, AsPathRepr, Attribute, AttributeRepr, Attributes, NextHop, Origin, SegmentRepr,
    SegmentType,
};
use bgp_proto::mrt::{MrtReader, RecordView};
use bgp_proto::{Message, Nlri, SessionContext, Update};
use bgpd::config::Config;
use bgpd::daemon::{self, Daemon};
use clap::Parser;
use std::collections::HashMap;
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::Ordering;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

// --- data and arguments -----------------------------------------------------

fn data_dir() -> PathBuf {
    let dir = match std::env::var_os("BGP_DATA_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/bgp"),
    };
    assert!(
        dir.is_dir(),
        "collector data directory {} not found: set BGP_DATA_DIR (these tests never skip)",
        dir.display()
    );
    dir
}

fn data(name: &str) -> String {
    let p = data_dir().join(name);
    assert!(p.is_file(), "collector file {} not found", p.display());
    p.display().to_string()
}

const RIB4: &str = "derived/rib.20140523.0600_firstMB.whole-records.mrt.gz";
const RIB6: &str = "derived/rib6.20151101.0600_firstMB.whole-records.mrt.gz";
const UPDATES: &str = "updates.20190101.0000.gz";

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    args: ReplayArgs,
}

fn parse(argv: &[&str]) -> Result<ReplayArgs, clap::Error> {
    Cli::try_parse_from(std::iter::once("replay").chain(argv.iter().copied())).map(|c| c.args)
}

fn settings(argv: &[&str]) -> Settings {
    Settings::new(&parse(argv).expect("arguments parse")).expect("arguments are consistent")
}

// --- an in-process bgpd -------------------------------------------------------

const LOCAL_AS: u32 = 65001;
const BGPD_AS: u32 = 65002;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// bgpd on loopback expecting the replay from 127.0.0.1 in AS 65001 (eBGP)
/// with the given hold time.
async fn bgpd(hold_time: u16) -> (Arc<Daemon>, SocketAddr) {
    let (bgp, http) = (free_port(), free_port());
    let text = format!(
        r#"
asn = {BGPD_AS}
router_id = "127.0.0.2"
listen = ["127.0.0.1:{bgp}"]
hold_time = {hold_time}
[http]
listen = "127.0.0.1:{http}"
[[peer]]
name = "replay"
address = "127.0.0.1"
remote_asn = {LOCAL_AS}
role = "router"
"#
    );
    let config = Config::from_str(&text, "replay-test.toml").expect("test config");
    let d = Daemon::new(config).unwrap();
    daemon::start(d.clone()).await.unwrap();
    (d, SocketAddr::from(([127, 0, 0, 1], bgp)))
}

fn replay_peer(d: &Daemon) -> Arc<bgpd::peer::Peer> {
    d.peer_list()
        .into_iter()
        .find(|p| p.address == IpAddr::from([127, 0, 0, 1]))
        .expect("bgpd knows the replay peer")
}

async fn eventually(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A replay running in the background, its routes all sent.
struct Running {
    summary: Summary,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<Summary, ReplayError>>,
}

impl Running {
    /// Closes the session (as SIGINT does) and returns the final summary.
    async fn finish(self) -> Summary {
        let _ = self.stop.send(());
        self.task.await.unwrap().expect("the replay ends cleanly")
    }
}

/// Starts a replay (`--wait` added) and returns once End-of-RIB is written
/// and bgpd has read every UPDATE.
async fn replay_into(d: &Daemon, addr: SocketAddr, extra: &[&str]) -> Running {
    let port = addr.to_string();
    let mut argv = vec![
        "--peer",
        &port,
        "--local-as",
        "65001",
        "--remote-as",
        "65002",
        "--wait",
    ];
    argv.extend_from_slice(extra);
    let s = settings(&argv);
    let plan = load_plan(&s).await.expect("plan");
    let (stop, stop_rx) = oneshot::channel::<()>();
    let (sum_tx, sum_rx) = oneshot::channel();
    let task = tokio::spawn(async move {
        session::replay(
            &s,
            plan,
            async {
                let _ = stop_rx.await;
            },
            Some(sum_tx),
        )
        .await
    });
    let summary = match tokio::time::timeout(Duration::from_secs(120), sum_rx).await {
        Ok(Ok(s)) => s,
        Ok(Err(_)) => panic!(
            "the replay ended before End-of-RIB: {:?}",
            task.await.unwrap()
        ),
        Err(_) => panic!("End-of-RIB not sent within 120 s"),
    };
    let peer = replay_peer(d);
    let want = summary.updates + summary.families.len() as u64;
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let n = peer.counters.updates.load(Ordering::Relaxed);
        if n == want {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "bgpd read {n} of {want} UPDATEs in 120 s; session: {:?}",
            peer.session.read().unwrap().last_down_reason
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Running {
        summary,
        stop,
        task,
    }
}

/// What bgpd holds from the replay: prefix to (AS path, next hop).
fn held(d: &Daemon, family: Family) -> HashMap<String, (AsPathRepr, String)> {
    let peer = replay_peer(d);
    let rib = peer.rib.read().unwrap();
    assert!(
        rib.iter_family(family)
            .all(|r| r.attrs.local_pref().is_none()),
        "LOCAL_PREF crossed an eBGP session"
    );
    rib.iter_family(family)
        .map(|r| {
            let nh = match r.attrs.next_hop() {
                Some(NextHop::V4(a)) => a.to_string(),
                Some(NextHop::V6 { global, .. }) => global.to_string(),
                other => format!("{other:?}"),
            };
            (r.prefix.to_string(), (r.attrs.as_path_repr(), nh))
        })
        .collect()
}

fn prepended(asn: u32, mut p: AsPathRepr) -> AsPathRepr {
    match p.segments.first_mut() {
        Some(s) if s.seg_type == SegmentType::Sequence => s.asns.insert(0, asn),
        _ => p.segments.insert(
            0,
            SegmentRepr {
                seg_type: SegmentType::Sequence,
                asns: vec![asn],
            },
        ),
    }
    p
}

// --- expectations computed from the files ------------------------------------

fn records(path: &str, mut f: impl FnMut(RecordView<'_>)) {
    let mut r = MrtReader::open(path).expect("open");
    while let Some(rec) = r.next_record() {
        f(rec.expect("the collector file reads cleanly").view());
    }
}

/// The view of the peer with the most RIB entries (lowest index on a tie):
/// prefix (host bits cleared) to its AS path.
fn rib_view(path: &str) -> HashMap<String, AsPathRepr> {
    let mut count: HashMap<u16, u64> = HashMap::new();
    records(path, |v| {
        if let RecordView::Rib(r) = v {
            for e in r.entries() {
                *count.entry(e.peer_index()).or_default() += 1;
            }
        }
    });
    let best = *count.values().max().unwrap();
    let peer = count
        .iter()
        .filter(|(_, n)| **n == best)
        .map(|(i, _)| *i)
        .min()
        .unwrap();
    let mut view = HashMap::new();
    records(path, |v| {
        if let RecordView::Rib(r) = v {
            if let Some(e) = r.entries().find(|e| e.peer_index() == peer) {
                let attrs = Attributes::new_checked(e.attributes(), &e.attribute_context())
                    .expect("RIB attributes decode");
                let path = attrs
                    .iter()
                    .find_map(|a| match a {
                        Attribute::AsPath(p) => Some(AsPathRepr::parse(&p)),
                        _ => None,
                    })
                    .expect("AS_PATH");
                view.insert(r.prefix().trunc().to_string(), path);
            }
        }
    });
    view
}

/// The table left by the UPDATEs of the peer with the most UPDATEs (lowest
/// address on a tie), applied in order: (family, prefix) to AS path.
fn updates_table(path: &str) -> HashMap<(Family, String), AsPathRepr> {
    let mut count: HashMap<IpAddr, u64> = HashMap::new();
    records(path, |v| {
        if let RecordView::Bgp4mpMessage(m) = v {
            if !m.is_local() && m.message()[18] == 2 {
                *count.entry(m.peer_ip()).or_default() += 1;
            }
        }
    });
    let best = *count.values().max().unwrap();
    let peer = count
        .iter()
        .filter(|(_, n)| **n == best)
        .map(|(ip, _)| *ip)
        .min()
        .unwrap();
    let mut table = HashMap::new();
    records(path, |v| {
        let RecordView::Bgp4mpMessage(m) = v else {
            return;
        };
        if m.peer_ip() != peer || m.is_local() || m.message()[18] != 2 {
            return;
        }
        assert!(m.is_as4(), "this file records 4-octet AS numbers");
        let Ok(Message::Update(u)) = Message::new_checked(m.message(), &m.context()) else {
            panic!("UPDATE decodes");
        };
        for (f, n) in u.withdrawals() {
            table.remove(&(f, n.prefix.trunc().to_string()));
        }
        if u.announced().next().is_some() {
            let path = u
                .attribute_iter()
                .find_map(|a| match a {
                    Attribute::AsPath(p) => Some(AsPathRepr::parse(&p)),
                    _ => None,
                })
                .expect("AS_PATH");
            // RFC 7607: AS 0 in the path withdraws the routes.
            let as0 = path.segments.iter().any(|s| s.asns.contains(&0));
            for (f, n) in u.announced() {
                let key = (f, n.prefix.trunc().to_string());
                if as0 {
                    table.remove(&key);
                } else {
                    table.insert(key, path.clone());
                }
            }
        }
    });
    table
}

// --- replays into bgpd ----------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv4_rib_view_arrives_whole_in_bgpd() {
    let file = data(RIB4);
    let view = rib_view(&file);
    assert!(view.len() > 8000, "a near-full view: {}", view.len());
    let (d, addr) = bgpd(90).await;
    let run = replay_into(&d, addr, &[&file]).await;
    assert_eq!(run.summary.announced, view.len() as u64);
    let got = held(&d, Family::IPV4_UNICAST);
    assert_eq!(got.len(), view.len(), "bgpd holds every prefix of the view");
    for (prefix, path) in &view {
        let (as_path, nh) = got
            .get(prefix)
            .unwrap_or_else(|| panic!("{prefix} missing"));
        assert_eq!(*as_path, prepended(LOCAL_AS, path.clone()), "{prefix}");
        assert_eq!(nh, "127.0.0.1", "{prefix}: the session's address");
    }
    assert_eq!(held(&d, Family::IPV6_UNICAST).len(), 0);
    // Several prefixes share each UPDATE.
    assert!(run.summary.updates * 2 < run.summary.announced);

    let end = run.finish().await;
    assert_eq!(end.ending, Some(Ending::Interrupted));
    let peer = replay_peer(&d);
    eventually("bgpd to see the Cease", 10, || !peer.is_established()).await;
    let last = peer
        .session
        .read()
        .unwrap()
        .last_notification_received
        .clone();
    let text = last.expect("bgpd received our NOTIFICATION").text;
    assert!(text.contains("Administrative Shutdown"), "{text}");
    daemon::stop(&d).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_rib_view_with_next_hop_and_origin_as() {
    let file = data(RIB6);
    let view = rib_view(&file);
    assert!(view.len() > 6000, "a near-full view: {}", view.len());
    let (d, addr) = bgpd(90).await;
    let run = replay_into(
        &d,
        addr,
        &["--next-hop6", "fd00::1", "--origin-as", "64999", &file],
    )
    .await;
    let got = held(&d, Family::IPV6_UNICAST);
    assert_eq!(got.len(), view.len(), "bgpd holds every prefix of the view");
    let rewrite = Rewrite {
        ebgp: true,
        prepend: Some(LOCAL_AS),
        origin_as: Some(64999),
        next_hop4: None,
        next_hop6: None,
    };
    for (prefix, path) in &view {
        let (as_path, nh) = got
            .get(prefix)
            .unwrap_or_else(|| panic!("{prefix} missing"));
        assert_eq!(*as_path, rewrite.as_path(path.clone()), "{prefix}");
        assert_eq!(as_path.segments[0].asns[0], LOCAL_AS);
        let last = as_path.segments.last().unwrap();
        assert_eq!(last.seg_type, SegmentType::Sequence);
        assert_eq!(last.asns.last(), Some(&64999), "{prefix}: {as_path}");
        assert_eq!(nh, "fd00::1", "{prefix}");
    }
    assert_eq!(held(&d, Family::IPV4_UNICAST).len(), 0);
    run.finish().await;
    daemon::stop(&d).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_of_one_peer_leave_the_table_they_describe() {
    let file = data(UPDATES);
    let table = updates_table(&file);
    assert!(table.len() > 1000, "{}", table.len());
    let (d, addr) = bgpd(90).await;
    let run = replay_into(&d, addr, &[&file]).await;
    assert!(run.summary.withdrawn > 0, "withdrawals are replayed");
    let mut got: HashMap<(Family, String), AsPathRepr> = HashMap::new();
    for f in [Family::IPV4_UNICAST, Family::IPV6_UNICAST] {
        for (p, (path, _)) in held(&d, f) {
            got.insert((f, p), path);
        }
    }
    let want: HashMap<(Family, String), AsPathRepr> = table
        .into_iter()
        .map(|(k, p)| (k, prepended(LOCAL_AS, p)))
        .collect();
    let missing: Vec<_> = want
        .keys()
        .filter(|k| !got.contains_key(k))
        .take(5)
        .collect();
    let extra: Vec<_> = got
        .keys()
        .filter(|k| !want.contains_key(k))
        .take(5)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "tables differ: {} held, {} expected; missing {missing:?}, extra {extra:?}",
        got.len(),
        want.len()
    );
    for (k, path) in &want {
        assert_eq!(&got[k], path, "{k:?}");
    }
    run.finish().await;
    daemon::stop(&d).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_refresh_sends_the_family_again_and_keepalives_hold_the_session() {
    let file = data(RIB4);
    // A 5 s hold time: without our KEEPALIVEs (every second) bgpd would
    // drop the session during the wait below.
    let (d, addr) = bgpd(5).await;
    let run = replay_into(&d, addr, &["--hold-time", "5", &file]).await;
    let first = run.summary.updates + 2;
    let peer = replay_peer(&d);
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(
        peer.is_established(),
        "KEEPALIVEs kept the session up: {:?}",
        peer.session.read().unwrap().last_down_reason
    );
    daemon::request_refresh(&d);
    // Both families again: their UPDATEs (only IPv4 has routes) and EoRs.
    let want = first + run.summary.updates + 2;
    let counter = || peer.counters.updates.load(Ordering::Relaxed);
    eventually("the family sent again", 60, || counter() == want).await;
    assert_eq!(
        peer.rib.read().unwrap().len(),
        run.summary.announced as usize
    );
    run.finish().await;
    daemon::stop(&d).await;
}

// --- session errors -------------------------------------------------------------

#[tokio::test]
async fn connection_refused_is_a_connect_error() {
    let port = free_port().to_string();
    let peer = format!("127.0.0.1:{port}");
    let s = settings(&["--peer", &peer, "--local-as", "1", "--remote-as", "2", "x"]);
    let e = session::replay(&s, Arc::default(), std::future::pending(), None)
        .await
        .unwrap_err();
    assert!(matches!(e, ReplayError::Connect { .. }), "{e}");
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains(&peer), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_in_another_as_is_refused_with_bad_peer_as() {
    let (d, addr) = bgpd(90).await;
    let peer = addr.to_string();
    let s = settings(&[
        "--peer",
        &peer,
        "--local-as",
        "65001",
        "--remote-as",
        "65099",
        "x",
    ]);
    let e = session::replay(&s, Arc::default(), std::future::pending(), None)
        .await
        .unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let text = e.to_string();
    assert!(
        text.contains("AS 65002") && text.contains("Bad Peer AS"),
        "{text}"
    );
    daemon::stop(&d).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_from_the_peer_is_printed_with_its_names() {
    let (d, addr) = bgpd(90).await;
    let peer = addr.to_string();
    // bgpd expects AS 65001 from 127.0.0.1.
    let s = settings(&[
        "--peer",
        &peer,
        "--local-as",
        "65009",
        "--remote-as",
        "65002",
        "x",
    ]);
    let e = session::replay(&s, Arc::default(), std::future::pending(), None)
        .await
        .unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let text = e.to_string();
    assert!(
        text.contains("NOTIFICATION") && text.contains("OPEN Message Error / Bad Peer AS"),
        "{text}"
    );
    daemon::stop(&d).await;
}

// --- MRT problems -----------------------------------------------------------------

fn record(t: u16, sub: u16, body: &[u8]) -> Vec<u8> {
    let mut r = 1_400_000_000u32.to_be_bytes().to_vec();
    r.extend_from_slice(&t.to_be_bytes());
    r.extend_from_slice(&sub.to_be_bytes());
    r.extend_from_slice(&(body.len() as u32).to_be_bytes());
    r.extend_from_slice(body);
    r
}

/// A BGP4MP MESSAGE_AS4 record from 192.0.2.1 (AS 64500) holding `msg`.
fn bgp4mp(msg: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&64500u32.to_be_bytes());
    b.extend_from_slice(&12654u32.to_be_bytes());
    b.extend_from_slice(&[0, 0, 0, 1]);
    b.extend_from_slice(&[192, 0, 2, 1, 192, 0, 2, 2]);
    b.extend_from_slice(msg);
    record(16, 4, &b)
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let p = std::env::temp_dir().join(format!("replay-test-{}-{name}", std::process::id()));
    std::fs::write(&p, bytes).unwrap();
    p
}

fn load(path: &Path, extra: &[&str]) -> Result<Plan, ReplayError> {
    let p = path.display().to_string();
    let mut argv = vec!["--peer", "127.0.0.1", "--local-as", "1", "--remote-as", "2"];
    argv.extend_from_slice(extra);
    argv.push(&p);
    let s = settings(&argv);
    plan::load(&s.files, &s.selector, &s.rewrite)
}

#[test]
fn a_malformed_record_names_the_file_and_offset() {
    // An unknown record (16 octets in all), then a RIB record cut short.
    let mut bytes = record(99, 0, &[0, 0, 0, 0]);
    bytes.extend(record(13, 2, &[0, 0, 0]));
    let p = temp_file("bad-rib.mrt", &bytes);
    let e = load(&p, &[]).unwrap_err();
    std::fs::remove_file(&p).unwrap();
    let text = e.to_string();
    assert!(matches!(e, ReplayError::Mrt(_)), "{text}");
    assert_eq!(e.exit_code(), 1);
    assert!(text.contains(&p.display().to_string()), "{text}");
    assert!(text.contains("offset 16"), "{text}");
}

#[test]
fn a_malformed_update_names_the_file_and_offset() {
    let good = lb_update(&["10.0.0.0/8"]);
    let mut bad = vec![0xff; 16];
    bad.extend_from_slice(&29u16.to_be_bytes());
    // No attributes, NLRI with a 33-bit IPv4 prefix.
    bad.extend_from_slice(&[2, 0, 0, 0, 0, 33, 1, 2, 3, 4, 5]);
    let mut bytes = bgp4mp(&good);
    let at = bytes.len();
    bytes.extend(bgp4mp(&bad));
    let p = temp_file("bad-update.mrt", &bytes);
    let e = load(&p, &[]).unwrap_err();
    std::fs::remove_file(&p).unwrap();
    let text = e.to_string();
    assert_eq!(e.exit_code(), 1);
    assert!(
        text.contains(&format!("offset {at}")) && text.contains("UPDATE malformed"),
        "{text}"
    );
}

#[test]
fn a_truncated_file_is_replayed_up_to_its_last_whole_record() {
    let mut bytes = bgp4mp(&lb_update(&["10.0.0.0/8", "10.1.0.0/16"]));
    let cut = bgp4mp(&lb_update(&["10.2.0.0/16"]));
    bytes.extend_from_slice(&cut[..cut.len() - 3]);
    let p = temp_file("cut.mrt", &bytes);
    let plan = load(&p, &[]).unwrap();
    std::fs::remove_file(&p).unwrap();
    assert_eq!(plan.expected, [2, 0]);
    assert!(
        plan.warnings.iter().any(|w| w.contains("truncated")),
        "{:?}",
        plan.warnings
    );
}

/// A BGP4MP UPDATE from 192.0.2.1 announcing `prefixes` with `path`.
fn update_with_path(path: &[u32], prefixes: &[&str]) -> Vec<u8> {
    let u = bgp_proto::UpdateRepr {
        withdrawn: vec![],
        attributes: vec![
            AttributeRepr::Origin(Origin::Igp),
            AttributeRepr::AsPath(AsPathRepr::sequence(path.iter().copied())),
            AttributeRepr::NextHop([192, 0, 2, 1].into()),
        ],
        nlri: prefixes.iter().map(|p| route(p)).collect(),
    };
    let mut out = Vec::new();
    u.emit(&SessionContext::modern(), &mut out).unwrap();
    bgp4mp(&out)
}

#[test]
fn routes_with_as_0_in_their_path_are_withdrawn_not_sent() {
    // RFC 7607 s2: a receiver treats such an UPDATE as withdrawing its
    // routes, and a speaker must not propagate them.
    let mut bytes = update_with_path(&[64500], &["10.0.0.0/8", "10.1.0.0/16"]);
    bytes.extend(update_with_path(&[64500, 0, 64501], &["10.0.0.0/8"]));
    let p = temp_file("as0.mrt", &bytes);
    let plan = load(&p, &[]).unwrap();
    std::fs::remove_file(&p).unwrap();
    assert_eq!(plan.expected, [1, 0]);
    let last = plan.updates.last().unwrap();
    assert!(last.announce.is_empty() && last.attrs.is_none());
    assert_eq!(
        last.withdraw,
        vec![(Family::IPV4_UNICAST, vec![route("10.0.0.0/8")])]
    );
    assert!(
        plan.warnings.iter().any(|w| w.contains("RFC 7607")),
        "{:?}",
        plan.warnings
    );
}

#[test]
fn as_0_replaced_by_the_origin_rewrite_is_announced() {
    // The recorded path ends in AS 0 only at the origin: with --origin-as
    // the route is a valid one again and goes out as an announcement.
    let bytes = update_with_path(&[64500, 64501, 0], &["10.0.0.0/8"]);
    let p = temp_file("as0-origin.mrt", &bytes);
    let plan = load(&p, &["--origin-as", "64999"]).unwrap();
    std::fs::remove_file(&p).unwrap();
    let last = plan.updates.last().unwrap();
    assert!(last.withdraw.is_empty(), "{:?}", last.withdraw);
    assert_eq!(last.announce.len(), 1, "{:?}", last.announce);
    assert!(plan.warnings.iter().all(|w| !w.contains("RFC 7607")));
}

#[test]
fn peer_selection_errors_are_usage_errors() {
    let p = temp_file("one-peer.mrt", &bgp4mp(&lb_update(&["10.0.0.0/8"])));
    let e = load(&p, &["--peer-ip", "192.0.2.9"]).unwrap_err();
    assert!(e.to_string().contains("no route of peer 192.0.2.9"), "{e}");
    assert_eq!(e.exit_code(), 2);
    let e = load(&p, &["--peer-index", "0"]).unwrap_err();
    assert!(e.to_string().contains("--peer-ip"), "{e}");
    assert_eq!(e.exit_code(), 2);
    let plan = load(&p, &["--peer-ip", "192.0.2.1"]).unwrap();
    std::fs::remove_file(&p).unwrap();
    assert_eq!(plan.expected, [1, 0]);
    let e = load(Path::new("/nonexistent/file.mrt"), &[]).unwrap_err();
    assert_eq!(e.exit_code(), 2);
}

#[test]
fn the_default_rib_peer_has_the_most_entries() {
    let plan = load(Path::new(&data(RIB4)), &[]).unwrap();
    let line = plan.files[0].to_string();
    assert!(
        line.contains("peer 8 of 47 (85.114.0.217") && line.contains("most RIB entries"),
        "{line}"
    );
    assert_eq!(plan.expected, [rib_view(&data(RIB4)).len(), 0]);
    let plan = load(Path::new(&data(RIB4)), &["--peer-index", "3"]).unwrap();
    assert!(plan.files[0].to_string().contains("peer 3 of 47"));
}

// --- the encoder ---------------------------------------------------------------

fn route(p: &str) -> Nlri {
    Nlri {
        path_id: None,
        prefix: p.parse().unwrap(),
    }
}

fn lb_update(prefixes: &[&str]) -> Vec<u8> {
    let u = bgp_proto::UpdateRepr {
        withdrawn: vec![],
        attributes: vec![
            AttributeRepr::Origin(Origin::Igp),
            AttributeRepr::AsPath(AsPathRepr::sequence([64500])),
            AttributeRepr::NextHop([192, 0, 2, 1].into()),
        ],
        nlri: prefixes.iter().map(|p| route(p)).collect(),
    };
    let mut out = Vec::new();
    u.emit(&SessionContext::modern(), &mut out).unwrap();
    out
}

fn send_settings(max_len: usize, four_octet_as: bool) -> SendSettings {
    SendSettings {
        four_octet_as,
        max_len,
        families: vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST],
        next_hop4: Some([192, 0, 2, 1]),
        next_hop6: Some("2001:db8::1".parse::<Ipv6Addr>().unwrap().octets()),
    }
}

fn attr_set(path: &[u32]) -> Arc<AttrSet> {
    Arc::new(AttrSet::new(vec![
        AttributeRepr::Origin(Origin::Igp),
        AttributeRepr::AsPath(AsPathRepr::sequence(path.iter().copied())),
        AttributeRepr::MultiExitDisc(7),
        AttributeRepr::Communities((0..40).map(bgp_proto::attr::Community).collect()),
    ]))
}

/// Every message in `bytes`: (length, UPDATE decoded owned).
fn decode_all(bytes: &[u8], ctx: &SessionContext) -> Vec<(usize, bgp_proto::UpdateRepr)> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
        let (msg, tail) = rest.split_at(len);
        let Message::Update(u) = Message::new_checked(msg, ctx).expect("valid message") else {
            panic!("not an UPDATE");
        };
        assert!(u.error().is_none(), "{:?}", u.error());
        let codes: Vec<u8> = u.attributes().raw().map(|a| a.type_code).collect();
        assert!(
            codes.windows(2).all(|w| w[0] < w[1]),
            "attribute order {codes:?}"
        );
        out.push((len, bgp_proto::UpdateRepr::parse(&u)));
        rest = tail;
    }
    out
}

fn announced(u: &bgp_proto::UpdateRepr) -> Vec<Nlri> {
    let mut v = u.nlri.clone();
    for a in &u.attributes {
        if let AttributeRepr::MpReach(m) = a {
            v.extend(m.nlri.iter().copied());
        }
    }
    v
}

fn v4_routes(n: usize) -> Vec<Nlri> {
    (0..n)
        .map(|i| route(&format!("10.{}.{}.0/24", i / 256, i % 256)))
        .collect()
}

#[test]
fn a_large_group_is_split_at_the_size_limit_and_nothing_is_lost() {
    let routes = v4_routes(3000);
    let v6: Vec<Nlri> = (0..1500)
        .map(|i| route(&format!("2001:db8:{i:x}::/48")))
        .collect();
    for (max, ctx) in [
        (4096, SessionContext::modern()),
        (65535, SessionContext::modern().with_extended_message()),
    ] {
        let s = send_settings(max, true);
        let mut enc = Encoder::new(&s);
        let plan = |family, nlri: &Vec<Nlri>| UpdatePlan {
            withdraw: vec![],
            attrs: Some(attr_set(&[64500, 64501])),
            announce: vec![Announce {
                family,
                next_hop: NextHopPlan::Session,
                nlri: nlri.clone(),
            }],
        };
        enc.update(&plan(Family::IPV4_UNICAST, &routes));
        enc.update(&plan(Family::IPV6_UNICAST, &v6));
        let msgs = decode_all(&enc.take(), &ctx);
        assert!(msgs.iter().all(|(len, _)| *len <= max));
        // Full messages: at most one per family is not nearly full.
        let small = msgs.iter().filter(|(len, _)| *len < max - 20).count();
        assert!(small <= 2, "{small} underfilled messages of {}", msgs.len());
        let got: Vec<Nlri> = msgs.iter().flat_map(|(_, u)| announced(u)).collect();
        let want: Vec<Nlri> = routes.iter().chain(&v6).copied().collect();
        assert_eq!(got, want);
        assert_eq!(enc.counts().announced, 4500);
        assert_eq!(enc.counts().updates, msgs.len() as u64);
        let (_, first) = &msgs[0];
        assert!(first
            .attributes
            .contains(&AttributeRepr::NextHop([192, 0, 2, 1].into())));
    }
}

#[test]
fn a_recorded_update_that_still_fits_stays_one_message() {
    let s = send_settings(4096, true);
    let mut enc = Encoder::new(&s);
    enc.update(&UpdatePlan {
        withdraw: vec![
            (Family::IPV4_UNICAST, vec![route("10.9.0.0/16")]),
            (Family::IPV6_UNICAST, vec![route("2001:db8:9::/48")]),
        ],
        attrs: Some(attr_set(&[64500])),
        announce: vec![
            Announce {
                family: Family::IPV4_UNICAST,
                next_hop: NextHopPlan::Keep(Box::new([198, 51, 100, 1])),
                nlri: vec![route("10.1.0.0/16")],
            },
            Announce {
                family: Family::IPV6_UNICAST,
                next_hop: NextHopPlan::Session,
                nlri: vec![route("2001:db8:1::/48")],
            },
        ],
    });
    let msgs = decode_all(&enc.take(), &SessionContext::modern());
    assert_eq!(msgs.len(), 1);
    let u = &msgs[0].1;
    assert_eq!(u.withdrawn, vec![route("10.9.0.0/16")]);
    assert_eq!(u.nlri, vec![route("10.1.0.0/16")]);
    assert!(u
        .attributes
        .contains(&AttributeRepr::NextHop([198, 51, 100, 1].into())));
    assert!(u.attributes.contains(&AttributeRepr::mp_reach(
        Family::IPV6_UNICAST,
        "2001:db8::1".parse().unwrap(),
        vec![route("2001:db8:1::/48")]
    )));
    assert!(u.attributes.contains(&AttributeRepr::mp_unreach(
        Family::IPV6_UNICAST,
        vec![route("2001:db8:9::/48")]
    )));
    assert_eq!((enc.counts().announced, enc.counts().withdrawn), (2, 2));
}

#[test]
fn a_recorded_update_too_large_after_rewriting_is_split() {
    // Three withdrawals and 1015 /24s under 191 octets of attributes do not
    // fit one 4096-octet message.
    let s = send_settings(4096, true);
    let mut enc = Encoder::new(&s);
    let routes = v4_routes(1015);
    enc.update(&UpdatePlan {
        withdraw: vec![(Family::IPV4_UNICAST, v4_routes(3))],
        attrs: Some(attr_set(&[64500, 64501, 64502])),
        announce: vec![Announce {
            family: Family::IPV4_UNICAST,
            next_hop: NextHopPlan::Session,
            nlri: routes.clone(),
        }],
    });
    let msgs = decode_all(&enc.take(), &SessionContext::modern());
    assert_eq!(msgs.len(), 3, "withdrawals, then the routes in two");
    assert_eq!(msgs[0].1.withdrawn, v4_routes(3));
    assert!(msgs[0].1.attributes.is_empty());
    let got: Vec<Nlri> = msgs.iter().flat_map(|(_, u)| u.nlri.clone()).collect();
    assert_eq!(got, routes);
}

#[test]
fn a_two_octet_peer_gets_as_trans_and_as4_path() {
    let s = send_settings(4096, false);
    let mut enc = Encoder::new(&s);
    let set = Arc::new(AttrSet::new(vec![
        AttributeRepr::Origin(Origin::Igp),
        AttributeRepr::AsPath(AsPathRepr::sequence([65001, 4_200_000_000, 3356])),
        AttributeRepr::Aggregator(bgp_proto::attr::Aggregator {
            asn: 4_200_000_001,
            address: [192, 0, 2, 7].into(),
        }),
    ]));
    enc.update(&UpdatePlan {
        withdraw: vec![],
        attrs: Some(set),
        announce: vec![Announce {
            family: Family::IPV4_UNICAST,
            next_hop: NextHopPlan::Session,
            nlri: vec![route("10.0.0.0/8")],
        }],
    });
    let bytes = enc.take();
    let msgs = decode_all(&bytes, &SessionContext::classic());
    let u = &msgs[0].1;
    assert!(u
        .attributes
        .contains(&AttributeRepr::AsPath(AsPathRepr::sequence([
            65001, 23456, 3356
        ]))));
    assert!(u
        .attributes
        .contains(&AttributeRepr::As4Path(AsPathRepr::sequence([
            65001,
            4_200_000_000,
            3356
        ]))));
    // What a 2-octet session reads back is the original path.
    let body = &bytes[19..];
    let view = Update::new_checked(body, &SessionContext::classic()).unwrap();
    let rw = Rewrite {
        ebgp: false,
        prepend: None,
        origin_as: None,
        next_hop4: None,
        next_hop6: None,
    }
    .attributes(view.attribute_iter(), false);
    assert!(rw
        .attrs
        .contains(&AttributeRepr::AsPath(AsPathRepr::sequence([
            65001,
            4_200_000_000,
            3356
        ]))));
    assert!(rw
        .attrs
        .iter()
        .any(|a| matches!(a, AttributeRepr::Aggregator(g) if g.asn == 4_200_000_001)));
}

#[test]
fn families_not_negotiated_are_counted_not_sent() {
    let mut s = send_settings(4096, true);
    s.families = vec![Family::IPV4_UNICAST];
    let mut enc = Encoder::new(&s);
    enc.update(&UpdatePlan {
        withdraw: vec![(Family::IPV6_UNICAST, vec![route("2001:db8::/32")])],
        attrs: Some(attr_set(&[1])),
        announce: vec![Announce {
            family: Family::IPV6_UNICAST,
            next_hop: NextHopPlan::Session,
            nlri: vec![route("2001:db8:1::/48")],
        }],
    });
    assert!(enc.take().is_empty());
    assert_eq!(enc.counts().not_negotiated, 2);
    enc.end_of_rib(Family::IPV6_UNICAST);
    let msgs = decode_all(&enc.take(), &SessionContext::modern());
    assert_eq!(msgs.len(), 1);
}

// --- rewriting -------------------------------------------------------------------

fn rewrite(ebgp: bool) -> Rewrite {
    Rewrite {
        ebgp,
        prepend: ebgp.then_some(LOCAL_AS),
        origin_as: None,
        next_hop4: None,
        next_hop6: None,
    }
}

/// Rewrites `attrs` as they would arrive in a 4-octet UPDATE.
fn rewritten(r: &Rewrite, attrs: Vec<AttributeRepr>) -> Vec<AttributeRepr> {
    let u = bgp_proto::UpdateRepr {
        withdrawn: vec![],
        attributes: attrs,
        nlri: vec![route("10.0.0.0/8")],
    };
    let mut msg = Vec::new();
    u.emit(&SessionContext::modern(), &mut msg).unwrap();
    let view = Update::new_checked(&msg[19..], &SessionContext::modern()).unwrap();
    r.attributes(view.attribute_iter(), true).attrs
}

fn ibgp_attrs() -> Vec<AttributeRepr> {
    vec![
        AttributeRepr::Origin(Origin::Igp),
        AttributeRepr::AsPath(AsPathRepr {
            segments: vec![
                SegmentRepr {
                    seg_type: SegmentType::ConfedSequence,
                    asns: vec![65100],
                },
                SegmentRepr {
                    seg_type: SegmentType::Sequence,
                    asns: vec![3356, 174],
                },
            ],
        }),
        AttributeRepr::NextHop([192, 0, 2, 1].into()),
        AttributeRepr::MultiExitDisc(10),
        AttributeRepr::LocalPref(200),
        AttributeRepr::OriginatorId([192, 0, 2, 9].into()),
        AttributeRepr::ClusterList(vec![[192, 0, 2, 10].into()]),
        AttributeRepr::Unknown {
            flags: flags::OPTIONAL | flags::TRANSITIVE,
            type_code: 21,
            value: vec![1, 2],
        },
        AttributeRepr::Unknown {
            flags: flags::OPTIONAL,
            type_code: 99,
            value: vec![3],
        },
    ]
}

#[test]
fn ebgp_drops_internal_attributes_and_prepends() {
    let got = rewritten(&rewrite(true), ibgp_attrs());
    assert_eq!(
        got,
        vec![
            AttributeRepr::Origin(Origin::Igp),
            // Confederation segment gone, local AS in front.
            AttributeRepr::AsPath(AsPathRepr::sequence([LOCAL_AS, 3356, 174])),
            AttributeRepr::MultiExitDisc(10),
            AttributeRepr::Unknown {
                flags: flags::OPTIONAL | flags::TRANSITIVE | flags::PARTIAL,
                type_code: 21,
                value: vec![1, 2],
            },
        ]
    );
}

#[test]
fn ibgp_keeps_them_and_adds_local_pref_where_missing() {
    let got = rewritten(&rewrite(false), ibgp_attrs());
    assert!(got.contains(&AttributeRepr::LocalPref(200)));
    assert!(got.contains(&AttributeRepr::OriginatorId([192, 0, 2, 9].into())));
    assert!(got
        .iter()
        .any(|a| matches!(a, AttributeRepr::AsPath(p) if p.segments.len() == 2)));
    let got = rewritten(
        &rewrite(false),
        vec![
            AttributeRepr::Origin(Origin::Igp),
            AttributeRepr::AsPath(AsPathRepr::default()),
            AttributeRepr::NextHop([192, 0, 2, 1].into()),
        ],
    );
    assert!(got.contains(&AttributeRepr::LocalPref(DEFAULT_LOCAL_PREF)));
    assert!(got.contains(&AttributeRepr::AsPath(AsPathRepr::default())));
}

#[test]
fn as_0_is_flagged_and_an_aggregator_with_as_0_dropped() {
    let u = bgp_proto::UpdateRepr {
        withdrawn: vec![],
        attributes: vec![
            AttributeRepr::Origin(Origin::Igp),
            AttributeRepr::AsPath(AsPathRepr::sequence([3356, 0])),
            AttributeRepr::NextHop([192, 0, 2, 1].into()),
            AttributeRepr::Aggregator(bgp_proto::attr::Aggregator {
                asn: 0,
                address: [192, 0, 2, 7].into(),
            }),
        ],
        nlri: vec![route("10.0.0.0/8")],
    };
    let mut msg = Vec::new();
    u.emit(&SessionContext::modern(), &mut msg).unwrap();
    let view = Update::new_checked(&msg[19..], &SessionContext::modern()).unwrap();
    let rw = rewrite(true).attributes(view.attribute_iter(), true);
    assert!(rw.as0);
    assert!(!rw
        .attrs
        .iter()
        .any(|a| matches!(a, AttributeRepr::Aggregator(_))));
    // Replacing the origin removes the 0.
    let origin = Rewrite {
        origin_as: Some(64999),
        ..rewrite(true)
    };
    assert!(!origin.attributes(view.attribute_iter(), true).as0);
}

#[test]
fn origin_as_replaces_the_last_as() {
    let r = Rewrite {
        origin_as: Some(64999),
        ..rewrite(true)
    };
    let set = |asns: Vec<u32>| SegmentRepr {
        seg_type: SegmentType::Set,
        asns,
    };
    let seq = |asns: Vec<u32>| SegmentRepr {
        seg_type: SegmentType::Sequence,
        asns,
    };
    let cases = [
        (
            vec![seq(vec![3356, 174, 13335])],
            vec![seq(vec![LOCAL_AS, 3356, 174, 64999])],
        ),
        (
            vec![seq(vec![3356, 174]), set(vec![1, 2])],
            vec![seq(vec![LOCAL_AS, 3356, 174, 64999])],
        ),
        (vec![], vec![seq(vec![LOCAL_AS, 64999])]),
        (vec![set(vec![1, 2])], vec![seq(vec![LOCAL_AS, 64999])]),
    ];
    for (from, to) in cases {
        let got = r.as_path(AsPathRepr {
            segments: from.clone(),
        });
        assert_eq!(got, AsPathRepr { segments: to }, "from {from:?}");
    }
    let no_prepend = Rewrite { prepend: None, ..r };
    assert_eq!(
        no_prepend.as_path(AsPathRepr::sequence([1, 2])),
        AsPathRepr::sequence([1, 64999])
    );
}

#[test]
fn next_hops_follow_the_session_kind() {
    let v4 = [192u8, 0, 2, 1];
    let ebgp = rewrite(true);
    assert_eq!(
        ebgp.next_hop(Family::IPV4_UNICAST, Some(&v4)),
        Some(NextHopPlan::Session)
    );
    let ibgp = rewrite(false);
    assert_eq!(
        ibgp.next_hop(Family::IPV4_UNICAST, Some(&v4)),
        Some(NextHopPlan::Keep(Box::new(v4)))
    );
    assert_eq!(ibgp.next_hop(Family::IPV6_UNICAST, Some(&v4)), None);
    let given = Rewrite {
        next_hop6: Some("fd00::1".parse().unwrap()),
        ..rewrite(false)
    };
    assert_eq!(
        given.next_hop(Family::IPV6_UNICAST, None),
        Some(NextHopPlan::Session)
    );
}

// --- arguments -----------------------------------------------------------------

#[test]
fn peer_addresses_take_port_179_by_default() {
    let s = settings(&[
        "--peer",
        "10.99.0.2",
        "--local-as",
        "1",
        "--remote-as",
        "2",
        "f",
    ]);
    assert_eq!(s.peer, "10.99.0.2:179".parse().unwrap());
    let s = settings(&[
        "--peer",
        "[fd99::2]:1790",
        "--router-id",
        "10.0.0.1",
        "--local-as",
        "1",
        "--remote-as",
        "2",
        "f",
    ]);
    assert_eq!(s.peer, "[fd99::2]:1790".parse().unwrap());
    assert_eq!(parse_peer("fd99::2").unwrap().port(), 179);
    assert!(parse_peer("router.example").is_err());
}

#[test]
fn defaults_follow_ebgp_and_ibgp() {
    let s = settings(&[
        "--peer",
        "10.0.0.1",
        "--local-as",
        "1",
        "--remote-as",
        "2",
        "f",
    ]);
    assert_eq!((s.rewrite.ebgp, s.rewrite.prepend), (true, Some(1)));
    assert_eq!((s.hold_time, s.after), (90, After::Close));
    let s = settings(&[
        "--peer",
        "10.0.0.1",
        "--local-as",
        "1",
        "--remote-as",
        "1",
        "f",
    ]);
    assert_eq!((s.rewrite.ebgp, s.rewrite.prepend), (false, None));
    let s = settings(&[
        "--peer",
        "10.0.0.1",
        "--local-as",
        "1",
        "--remote-as",
        "2",
        "--no-prepend",
        "--keep-open",
        "5",
        "f",
    ]);
    assert_eq!(s.rewrite.prepend, None);
    assert_eq!(s.after, After::KeepOpen(Duration::from_secs(5)));
}

#[test]
fn bad_arguments_are_refused() {
    let base = ["--peer", "10.0.0.1", "--local-as", "1", "--remote-as", "2"];
    let with = |extra: &[&str]| {
        let mut v = base.to_vec();
        v.extend_from_slice(extra);
        v.push("f");
        parse(&v)
    };
    assert!(with(&["--hold-time", "2"]).is_err());
    assert!(with(&["--wait", "--keep-open", "1"]).is_err());
    assert!(with(&["--peer-index", "1", "--peer-ip", "10.0.0.9"]).is_err());
    assert!(with(&["--prepend-as", "5", "--no-prepend"]).is_err());
    assert!(parse(&base).is_err(), "a file is required");
    let v6 = Settings::new(
        &parse(&[
            "--peer",
            "fd00::1",
            "--local-as",
            "1",
            "--remote-as",
            "2",
            "f",
        ])
        .unwrap(),
    );
    assert!(matches!(v6, Err(ReplayError::Usage(m)) if m.contains("--router-id")));
    let zero = Settings::new(&with(&["--origin-as", "0"]).unwrap());
    assert!(matches!(zero, Err(ReplayError::Usage(_))));
}
