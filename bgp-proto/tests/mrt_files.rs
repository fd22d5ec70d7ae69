//! The MRT reader over real collector files, checked against the figures in
//! the data directory's SOURCES.md (counted there with bgpdump and by
//! walking the common headers).
//!
//! The directory is `$BGP_DATA_DIR`, else `<workspace>/../shared/data/bgp`.
//! A missing directory or file fails the test: these checks never pass by
//! being skipped.

use bgp_proto::mrt::{
    bgp4mp_subtype, decompress_file, mrt_type, table_dump_v2_subtype, Bgp4mpEndpoints, Compression,
    MrtError, MrtErrorKind, MrtReader, MrtWriter, Record, RecordIter, RecordView, Timestamp,
};
use bgp_proto::Family;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

fn data_dir() -> PathBuf {
    let dir = match std::env::var_os("BGP_DATA_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
            let workspace = manifest
                .parent()
                .expect("CARGO_MANIFEST_DIR has a parent (the workspace root)");
            workspace.join("../shared/data/bgp")
        }
    };
    assert!(
        dir.is_dir(),
        "BGP data directory {} is missing: set BGP_DATA_DIR or provide \
         <workspace>/../shared/data/bgp (see its SOURCES.md)",
        dir.display()
    );
    dir
}

fn data_file(name: &str) -> PathBuf {
    let path = data_dir().join(name);
    assert!(
        path.is_file(),
        "BGP data file {} is missing (see SOURCES.md in the data directory)",
        path.display()
    );
    path
}

/// What a walk over a file found.
#[derive(Debug, Default, PartialEq, Eq)]
struct Summary {
    /// Records per (type, subtype).
    records: BTreeMap<(u16, u16), usize>,
    /// RIB entries over all RIB records.
    rib_entries: usize,
    /// Collector id and peer count of each PEER_INDEX_TABLE.
    peer_tables: Vec<(Ipv4Addr, usize)>,
    /// Distinct peer indices in RIB entries.
    peer_indices: BTreeSet<u16>,
    /// Largest peer index seen against the table size.
    peer_index_in_range: bool,
    /// First and last RIB prefix.
    first_prefix: Option<String>,
    last_prefix: Option<String>,
    /// BGP4MP messages by BGP message type octet.
    message_types: BTreeMap<u8, usize>,
    /// Longest BGP message.
    longest_message: usize,
    /// Distinct (peer AS, peer address) of BGP4MP messages.
    peers: BTreeSet<(u32, IpAddr)>,
    /// Distinct (local AS, local address) of BGP4MP messages.
    locals: BTreeSet<(u32, IpAddr)>,
    /// Distinct (peer AS, peer address) of state changes.
    state_change_peers: BTreeSet<(u32, IpAddr)>,
    /// Distinct (local AS, local address, old state, new state).
    state_changes: BTreeSet<(u32, IpAddr, u16, u16)>,
    /// Records with / without a microsecond field, and with a non-zero one.
    with_microseconds: usize,
    without_microseconds: usize,
    nonzero_microseconds: usize,
    /// Distinct record timestamps.
    timestamps: BTreeSet<u32>,
    /// Sum of every entry's attribute length, to compare walks.
    attribute_octets: usize,
    /// The error that ended the walk, as (offset, display).
    error: Option<(u64, String)>,
    /// The truncation figures, if the error was a truncation.
    truncated: Option<(u64, u64)>,
}

impl Summary {
    fn add(&mut self, r: &Record<'_>) {
        *self.records.entry((r.mrt_type(), r.subtype())).or_default() += 1;
        match r.microseconds() {
            Some(us) => {
                self.with_microseconds += 1;
                self.nonzero_microseconds += usize::from(us != 0);
                assert!(us < 1_000_000, "microseconds {us}");
            }
            None => self.without_microseconds += 1,
        }
        self.timestamps.insert(r.timestamp());
        match r.view() {
            RecordView::PeerIndexTable(t) => {
                self.peer_tables
                    .push((t.collector_bgp_id(), t.to_peer_table().len()));
                assert_eq!(t.peers().count(), t.peer_count());
            }
            RecordView::Rib(rib) => {
                let peers = self.peer_tables.last().map_or(0, |t| t.1);
                let prefix = rib.prefix().to_string();
                self.first_prefix.get_or_insert_with(|| prefix.clone());
                self.last_prefix = Some(prefix);
                assert_eq!(rib.entries().len(), rib.entry_count());
                for e in rib.entries() {
                    self.rib_entries += 1;
                    self.peer_indices.insert(e.peer_index());
                    if usize::from(e.peer_index()) >= peers {
                        self.peer_index_in_range = false;
                    }
                    assert_eq!(e.path_id(), None);
                    let ctx = e.attribute_context();
                    assert!(ctx.four_octet_as && ctx.mrt_rib_entry);
                    self.attribute_octets += e.attributes().len();
                }
            }
            RecordView::Bgp4mpMessage(m) => {
                let msg = m.message();
                assert_eq!(&msg[..16], &[0xff; 16], "marker");
                assert_eq!(
                    usize::from(u16::from_be_bytes([msg[16], msg[17]])),
                    msg.len(),
                    "BGP length field matches the recorded message"
                );
                *self.message_types.entry(msg[18]).or_default() += 1;
                self.longest_message = self.longest_message.max(msg.len());
                self.peers.insert((m.peer_as(), m.peer_ip()));
                self.locals.insert((m.local_as(), m.local_ip()));
                let ctx = m.context();
                assert_eq!(ctx.four_octet_as, m.is_as4());
                assert!(ctx.extended_message);
                assert!(!ctx.add_path(Family::IPV4_UNICAST));
            }
            RecordView::Bgp4mpStateChange(s) => {
                self.state_change_peers.insert((s.peer_as(), s.peer_ip()));
                self.state_changes.insert((
                    s.local_as(),
                    s.local_ip(),
                    s.old_state(),
                    s.new_state(),
                ));
            }
            RecordView::RibGeneric(_) | RecordView::TableDump(_) | RecordView::Unknown(_) => {}
        }
    }

    fn fail(&mut self, e: MrtError) {
        if let MrtErrorKind::Truncated { needed, got } = e.kind {
            self.truncated = Some((needed, got));
        }
        self.error = Some((e.offset, e.to_string()));
    }

    fn total(&self) -> usize {
        self.records.values().sum()
    }

    fn count(&self, t: u16, sub: u16) -> usize {
        self.records.get(&(t, sub)).copied().unwrap_or(0)
    }
}

/// Walks a file with the streaming reader.
fn read_file(name: &str) -> (Summary, Option<Compression>) {
    let mut reader = MrtReader::open(data_file(name)).expect("open");
    let mut s = Summary {
        peer_index_in_range: true,
        ..Summary::default()
    };
    while let Some(r) = reader.next_record() {
        match r {
            Ok(r) => s.add(&r),
            Err(e) => {
                assert!(!e.is_recoverable(), "malformed record in {name}: {e}");
                s.fail(e);
            }
        }
    }
    (s, reader.compression())
}

/// Walks a file decompressed into memory with the zero-copy iterator.
fn iterate_file(name: &str) -> Summary {
    let d = decompress_file(data_file(name)).expect("decompress");
    let mut s = Summary {
        peer_index_in_range: true,
        ..Summary::default()
    };
    for r in RecordIter::new(&d.data).with_file_name(name) {
        match r {
            Ok(r) => s.add(&r),
            Err(e) => s.fail(e),
        }
    }
    s
}

const RIB4: &str = "rib.20140523.0600_firstMB.bz2";
const RIB6: &str = "rib6.20151101.0600_firstMB.bz2";
const RIB4_GZ: &str = "derived/rib.20140523.0600_firstMB.whole-records.mrt.gz";
const RIB6_GZ: &str = "derived/rib6.20151101.0600_firstMB.whole-records.mrt.gz";
const RIS: &str = "updates.20190101.0000.gz";
const PCH_ET: &str = "updates.et-header.2015.gz";

fn check_rib4(s: &Summary) {
    assert_eq!(s.count(13, table_dump_v2_subtype::PEER_INDEX_TABLE), 1);
    assert_eq!(s.count(13, table_dump_v2_subtype::RIB_IPV4_UNICAST), 9_072);
    assert_eq!(s.total(), 9_073);
    assert_eq!(s.rib_entries, 270_005);
    assert_eq!(
        s.peer_tables,
        [(Ipv4Addr::new(128, 223, 51, 102), 47)],
        "collector id and peer count"
    );
    assert_eq!(s.peer_indices.len(), 35, "peers that appear");
    assert!(s.peer_index_in_range);
    assert_eq!(s.first_prefix.as_deref(), Some("0.0.0.0/0"));
    assert_eq!(s.last_prefix.as_deref(), Some("12.167.138.0/24"));
    assert_eq!(s.timestamps, BTreeSet::from([1_400_824_800]));
    assert_eq!((s.with_microseconds, s.without_microseconds), (0, 9_073));
}

fn check_rib6(s: &Summary) {
    assert_eq!(s.count(13, table_dump_v2_subtype::PEER_INDEX_TABLE), 1);
    assert_eq!(s.count(13, table_dump_v2_subtype::RIB_IPV6_UNICAST), 6_870);
    assert_eq!(s.total(), 6_871);
    assert_eq!(s.rib_entries, 149_578);
    assert_eq!(s.peer_tables, [(Ipv4Addr::new(128, 223, 51, 112), 29)]);
    assert_eq!(s.peer_indices.len(), 27, "peers that appear");
    assert!(s.peer_index_in_range);
    assert_eq!(s.first_prefix.as_deref(), Some("2001::/32"));
    assert_eq!(s.last_prefix.as_deref(), Some("2401:be00::/32"));
    assert_eq!(s.timestamps, BTreeSet::from([1_446_357_600]));
}

#[test]
fn rib_ipv4_truncated_bz2() {
    let (s, c) = read_file(RIB4);
    assert_eq!(c, Some(Compression::Bzip2));
    check_rib4(&s);
    assert_eq!(
        s.error,
        Some((
            15_273_283,
            "rib.20140523.0600_firstMB.bz2: truncated record at offset 15273283: \
             needed 1985 octets, got 1255"
                .to_string()
        ))
    );
    assert_eq!(s.truncated, Some((1985, 1255)));
}

#[test]
fn rib_ipv6_truncated_bz2() {
    let (s, c) = read_file(RIB6);
    assert_eq!(c, Some(Compression::Bzip2));
    check_rib6(&s);
    assert_eq!(s.error.as_ref().map(|e| e.0), Some(12_131_168));
    // 1,829 trailing octets: a 12-octet header announcing 1,935.
    assert_eq!(s.truncated, Some((1935, 1817)));
}

#[test]
fn rib_derived_gzip_copies_are_whole() {
    let (s4, c) = read_file(RIB4_GZ);
    assert_eq!(c, Some(Compression::Gzip));
    check_rib4(&s4);
    assert_eq!(s4.error, None);
    let (s6, c) = read_file(RIB6_GZ);
    assert_eq!(c, Some(Compression::Gzip));
    check_rib6(&s6);
    assert_eq!(s6.error, None);

    // Same records as the truncated originals.
    let (b4, _) = read_file(RIB4);
    assert_eq!(
        (&b4.records, b4.attribute_octets),
        (&s4.records, s4.attribute_octets)
    );
}

#[test]
fn ris_updates_bgp4mp_as4() {
    let (s, c) = read_file(RIS);
    assert_eq!(c, Some(Compression::Gzip));
    assert_eq!(s.error, None);
    assert_eq!(
        s.count(mrt_type::BGP4MP, bgp4mp_subtype::MESSAGE_AS4),
        54_471
    );
    assert_eq!(
        s.count(mrt_type::BGP4MP, bgp4mp_subtype::STATE_CHANGE_AS4),
        43
    );
    assert_eq!(s.total(), 54_514);
    assert_eq!(s.message_types, BTreeMap::from([(2, 54_107), (4, 364)]));
    assert_eq!(s.longest_message, 2_916);
    // SOURCES.md counts "76 peers" its own way; by address, 69 peers sent
    // messages and 13 more only changed state, 82 in all.
    let msg_peers: BTreeSet<IpAddr> = s.peers.iter().map(|p| p.1).collect();
    let all_peers: BTreeSet<IpAddr> = s
        .state_change_peers
        .iter()
        .map(|p| p.1)
        .chain(msg_peers.iter().copied())
        .collect();
    assert_eq!((msg_peers.len(), all_peers.len()), (69, 82));
    let ris_v4: IpAddr = "193.0.4.28".parse().unwrap();
    let ris_v6: IpAddr = "2001:67c:2e8:2:ffff::4:28".parse().unwrap();
    assert_eq!(
        s.locals,
        BTreeSet::from([(12_654, ris_v4), (12_654, ris_v6)])
    );
    let locals: BTreeSet<_> = s.state_changes.iter().map(|c| (c.0, c.1)).collect();
    assert_eq!(locals, BTreeSet::from([(12_654, ris_v4), (12_654, ris_v6)]));
    assert_eq!(s.with_microseconds, 0);
}

#[test]
fn pch_updates_bgp4mp_et() {
    let (s, c) = read_file(PCH_ET);
    assert_eq!(c, Some(Compression::Gzip));
    assert_eq!(s.error, None);
    let et = mrt_type::BGP4MP_ET;
    assert_eq!(s.count(et, bgp4mp_subtype::MESSAGE_AS4), 89_681);
    assert_eq!(s.count(et, bgp4mp_subtype::STATE_CHANGE_AS4), 4);
    assert_eq!(s.count(et, bgp4mp_subtype::MESSAGE), 1);
    assert_eq!(s.total(), 89_686);
    // Every record carries the microsecond field, and it is used.
    assert_eq!((s.with_microseconds, s.without_microseconds), (89_686, 0));
    assert!(
        s.nonzero_microseconds > 89_000,
        "{}",
        s.nonzero_microseconds
    );
    assert_eq!(
        s.message_types,
        BTreeMap::from([(1, 1), (2, 89_679), (4, 2)])
    );
    assert_eq!(s.longest_message, 4_095);
    let ip = |a: &str| -> IpAddr { a.parse().unwrap() };
    let peer = (3856, ip("206.220.231.55"));
    assert_eq!(s.peers, BTreeSet::from([peer]));
    assert_eq!(s.state_change_peers, BTreeSet::from([peer]));
    assert_eq!(s.locals, BTreeSet::from([(3856, ip("216.21.3.6"))]));
    // The session comes up: Idle -> Connect (local address not yet known),
    // then OpenSent, OpenConfirm, Established.
    assert_eq!(
        s.state_changes,
        BTreeSet::from([
            (3856, ip("0.0.0.0"), 1, 2),
            (3856, ip("216.21.3.6"), 2, 4),
            (3856, ip("216.21.3.6"), 4, 5),
            (3856, ip("216.21.3.6"), 5, 6),
        ])
    );
}

#[test]
fn in_memory_iterator_matches_the_reader() {
    for name in [RIB4, RIB6, RIS, PCH_ET] {
        let (streamed, _) = read_file(name);
        let walked = iterate_file(name);
        assert_eq!(walked, streamed, "{name}");
    }
    let d = decompress_file(data_file(RIB4)).unwrap();
    assert_eq!(
        (d.data.len(), d.complete, d.compression),
        (15_274_550, false, Compression::Bzip2)
    );
    let d = decompress_file(data_file(RIB6_GZ)).unwrap();
    assert_eq!((d.data.len(), d.complete), (12_131_168, true));
}

#[test]
fn writer_round_trips_real_messages() {
    // Rewrite every BGP4MP record of the RIS file as BGP4MP_ET, gzip it, and
    // read it back.
    let mut originals = Vec::new();
    let mut reader = MrtReader::open(data_file(RIS)).unwrap();
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut writer = MrtWriter::new(gz);
    let mut n = 0u32;
    while let Some(r) = reader.next_record() {
        let r = r.unwrap();
        let ts = Timestamp::new(r.timestamp(), n % 1_000_000);
        n += 1;
        match r.view() {
            RecordView::Bgp4mpMessage(m) => {
                let ep = Bgp4mpEndpoints {
                    peer_as: m.peer_as(),
                    local_as: m.local_as(),
                    interface_index: m.interface_index(),
                    peer_ip: m.peer_ip(),
                    local_ip: m.local_ip(),
                };
                writer.write_message(ts, &ep, m.message()).unwrap();
                originals.push((ts, ep, Ok(m.message().to_vec())));
            }
            RecordView::Bgp4mpStateChange(s) => {
                let ep = Bgp4mpEndpoints {
                    peer_as: s.peer_as(),
                    local_as: s.local_as(),
                    interface_index: s.interface_index(),
                    peer_ip: s.peer_ip(),
                    local_ip: s.local_ip(),
                };
                writer
                    .write_state_change(ts, &ep, s.old_state(), s.new_state())
                    .unwrap();
                originals.push((ts, ep, Err((s.old_state(), s.new_state()))));
            }
            other => panic!("unexpected record {other:?}"),
        }
    }
    let bytes = writer.into_inner().finish().unwrap();
    assert_eq!(originals.len(), 54_514);

    let mut reader = MrtReader::new(&bytes[..]);
    let mut i = 0;
    while let Some(r) = reader.next_record() {
        let r = r.unwrap();
        let (ts, ep, what) = &originals[i];
        i += 1;
        assert_eq!(r.mrt_type(), mrt_type::BGP4MP_ET);
        assert_eq!(
            (r.timestamp(), r.microseconds()),
            (ts.seconds, Some(ts.microseconds))
        );
        match (r.view(), what) {
            (RecordView::Bgp4mpMessage(m), Ok(msg)) => {
                assert_eq!(m.subtype(), bgp4mp_subtype::MESSAGE_AS4);
                assert_eq!(m.message(), &msg[..]);
                assert_eq!((m.peer_as(), m.local_as()), (ep.peer_as, ep.local_as));
                assert_eq!((m.peer_ip(), m.local_ip()), (ep.peer_ip, ep.local_ip));
                assert_eq!(m.interface_index(), ep.interface_index);
            }
            (RecordView::Bgp4mpStateChange(s), Err(states)) => {
                assert_eq!(s.subtype(), bgp4mp_subtype::STATE_CHANGE_AS4);
                assert_eq!((s.old_state(), s.new_state()), *states);
                assert_eq!((s.peer_ip(), s.local_ip()), (ep.peer_ip, ep.local_ip));
            }
            (v, _) => panic!("record {i} read back as {v:?}"),
        }
    }
    assert_eq!(i, originals.len());
    assert_eq!(reader.compression(), Some(Compression::Gzip));
}
