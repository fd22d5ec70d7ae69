//! Shared helpers of `bgp-probe`'s integration tests: the binary, the data
//! directory, and a builder of small MRT files by hand (RFC 6396 framing,
//! RFC 4271 messages) covering the record kinds and the corner cases of the
//! `bgpdump -m` format.

#![allow(dead_code)]

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Command, Output};

/// The `bgp-probe` binary cargo built for these tests.
pub fn probe() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bgp-probe"))
}

/// Runs a command to completion, failing the test if it cannot start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// The collector data: `$BGP_DATA_DIR`, else `../shared/data/bgp` beside
/// the workspace.
pub fn data_dir() -> PathBuf {
    match std::env::var_os("BGP_DATA_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/bgp"),
    }
}

/// A path in the temporary directory unique to this test process.
pub fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("bgp-probe-test-{}-{name}", std::process::id()))
}

// --- MRT and BGP building blocks -------------------------------------------

/// A record: common header (timestamp, type, subtype, length), body.
pub fn record(ts: u32, t: u16, sub: u16, body: &[u8]) -> Vec<u8> {
    let mut r = ts.to_be_bytes().to_vec();
    r.extend_from_slice(&t.to_be_bytes());
    r.extend_from_slice(&sub.to_be_bytes());
    r.extend_from_slice(&(body.len() as u32).to_be_bytes());
    r.extend_from_slice(body);
    r
}

/// A BGP4MP_ET record: the microseconds count in the length.
pub fn et_record(ts: u32, us: u32, sub: u16, body: &[u8]) -> Vec<u8> {
    let mut data = us.to_be_bytes().to_vec();
    data.extend_from_slice(body);
    record(ts, 17, sub, &data)
}

/// A path attribute, with the extended length flag when the value needs it.
pub fn attr(flags: u8, t: u8, value: &[u8]) -> Vec<u8> {
    if value.len() > 255 {
        let mut a = vec![flags | 0x10, t];
        a.extend_from_slice(&(value.len() as u16).to_be_bytes());
        a.extend_from_slice(value);
        a
    } else {
        let mut a = vec![flags, t, value.len() as u8];
        a.extend_from_slice(value);
        a
    }
}

/// An AS_PATH or AS4_PATH value.
pub fn path(asn_len: usize, segs: &[(u8, &[u32])]) -> Vec<u8> {
    let mut v = Vec::new();
    for (t, asns) in segs {
        v.push(*t);
        v.push(asns.len() as u8);
        for a in *asns {
            v.extend_from_slice(&a.to_be_bytes()[4 - asn_len..]);
        }
    }
    v
}

pub fn origin(o: u8) -> Vec<u8> {
    attr(0x40, 1, &[o])
}

pub fn as_path(asn_len: usize, segs: &[(u8, &[u32])]) -> Vec<u8> {
    attr(0x40, 2, &path(asn_len, segs))
}

pub fn next_hop(a: [u8; 4]) -> Vec<u8> {
    attr(0x40, 3, &a)
}

pub fn med(v: u32) -> Vec<u8> {
    attr(0x80, 4, &v.to_be_bytes())
}

pub fn local_pref(v: u32) -> Vec<u8> {
    attr(0x40, 5, &v.to_be_bytes())
}

pub fn communities(c: &[u32]) -> Vec<u8> {
    let v: Vec<u8> = c.iter().flat_map(|x| x.to_be_bytes()).collect();
    attr(0xc0, 8, &v)
}

/// A prefix in NLRI encoding, with a path id for ADD-PATH.
pub fn pfx(path_id: Option<u32>, len: u8, addr: &[u8]) -> Vec<u8> {
    let mut v = path_id
        .map(|p| p.to_be_bytes().to_vec())
        .unwrap_or_default();
    v.push(len);
    v.extend_from_slice(&addr[..usize::from(len).div_ceil(8)]);
    v
}

/// MP_REACH_NLRI with a next hop and NLRI.
pub fn mp_reach(afi: u16, safi: u8, nh: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut v = afi.to_be_bytes().to_vec();
    v.push(safi);
    v.push(nh.len() as u8);
    v.extend_from_slice(nh);
    v.push(0);
    v.extend_from_slice(nlri);
    attr(0x80, 14, &v)
}

/// MP_UNREACH_NLRI.
pub fn mp_unreach(afi: u16, safi: u8, nlri: &[u8]) -> Vec<u8> {
    let mut v = afi.to_be_bytes().to_vec();
    v.push(safi);
    v.extend_from_slice(nlri);
    attr(0x80, 15, &v)
}

pub fn v6(text: &str) -> [u8; 16] {
    text.parse::<std::net::Ipv6Addr>().unwrap().octets()
}

/// A whole BGP message.
pub fn bgp(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&((body.len() + 19) as u16).to_be_bytes());
    m.push(msg_type);
    m.extend_from_slice(body);
    m
}

/// An UPDATE message.
pub fn update(withdrawn: &[u8], attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut b = (withdrawn.len() as u16).to_be_bytes().to_vec();
    b.extend_from_slice(withdrawn);
    b.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    b.extend_from_slice(attrs);
    b.extend_from_slice(nlri);
    bgp(2, &b)
}

fn ip_octets(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// A BGP4MP body: peer AS, local AS, interface, AFI, peer and local
/// addresses, then `tail` (a message, or the two states).
pub fn bgp4mp(as4: bool, peer: (&str, u32), local: (&str, u32), tail: &[u8]) -> Vec<u8> {
    let (pip, pas) = (peer.0.parse::<IpAddr>().unwrap(), peer.1);
    let (lip, las) = (local.0.parse::<IpAddr>().unwrap(), local.1);
    let mut b = Vec::new();
    for asn in [pas, las] {
        if as4 {
            b.extend_from_slice(&asn.to_be_bytes());
        } else {
            b.extend_from_slice(&(asn as u16).to_be_bytes());
        }
    }
    b.extend_from_slice(&0u16.to_be_bytes());
    b.extend_from_slice(&(if pip.is_ipv6() { 2u16 } else { 1 }).to_be_bytes());
    b.extend_from_slice(&ip_octets(pip));
    b.extend_from_slice(&ip_octets(lip));
    b.extend_from_slice(tail);
    b
}

/// A PEER_INDEX_TABLE body.
pub fn peer_index_table(peers: &[(&str, u32)]) -> Vec<u8> {
    let mut b = vec![192, 0, 2, 254, 0, 0];
    b.extend_from_slice(&(peers.len() as u16).to_be_bytes());
    for (ip, asn) in peers {
        let ip: IpAddr = ip.parse().unwrap();
        let as4 = *asn > 65535;
        b.push(u8::from(ip.is_ipv6()) | if as4 { 2 } else { 0 });
        b.extend_from_slice(&[10, 0, 0, 1]);
        b.extend_from_slice(&ip_octets(ip));
        if as4 {
            b.extend_from_slice(&asn.to_be_bytes());
        } else {
            b.extend_from_slice(&(*asn as u16).to_be_bytes());
        }
    }
    b
}

/// A RIB entry: peer index, originated time, path id, attributes.
pub struct Entry {
    pub peer: u16,
    pub path_id: Option<u32>,
    pub attrs: Vec<u8>,
}

/// A TABLE_DUMP_V2 RIB body.
pub fn rib(seq: u32, prefix: &[u8], entries: &[Entry]) -> Vec<u8> {
    let mut b = seq.to_be_bytes().to_vec();
    b.extend_from_slice(prefix);
    b.extend_from_slice(&(entries.len() as u16).to_be_bytes());
    for e in entries {
        b.extend_from_slice(&e.peer.to_be_bytes());
        b.extend_from_slice(&1_400_000_000u32.to_be_bytes());
        if let Some(id) = e.path_id {
            b.extend_from_slice(&id.to_be_bytes());
        }
        b.extend_from_slice(&(e.attrs.len() as u16).to_be_bytes());
        b.extend_from_slice(&e.attrs);
    }
    b
}

/// A legacy TABLE_DUMP body.
pub fn table_dump(prefix: &str, len: u8, peer: &str, peer_as: u16, attrs: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 0, 7];
    b.extend_from_slice(&ip_octets(prefix.parse().unwrap()));
    b.extend_from_slice(&[len, 1]);
    b.extend_from_slice(&1_000_000_000u32.to_be_bytes());
    b.extend_from_slice(&ip_octets(peer.parse().unwrap()));
    b.extend_from_slice(&peer_as.to_be_bytes());
    b.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    b.extend_from_slice(attrs);
    b
}

const SET: u8 = 1;
const SEQ: u8 = 2;
const CONFED_SEQ: u8 = 3;
const CONFED_SET: u8 = 4;
const AS_TRANS: u32 = 23456;

/// Attributes most announcements below share (4-octet AS numbers).
fn common4() -> Vec<u8> {
    [
        origin(0),
        as_path(4, &[(SEQ, &[64_500, 4_200_000_000]), (SET, &[1, 2, 3])]),
        next_hop([192, 0, 2, 1]),
        med(10),
        local_pref(200),
        communities(&[
            0xfde8_0001,
            0xFFFF_FF01,
            0xFFFF_FF02,
            0xFFFF_FF03,
            0xFFFF_FF04,
        ]),
    ]
    .concat()
}

/// A small MRT stream with one record of every kind `bgpdump -m` prints,
/// and the corner cases of its format.
pub fn synthetic_mrt() -> Vec<u8> {
    let mut f = Vec::new();
    let ts = 1_600_000_000;

    // Legacy TABLE_DUMP: IPv4 with every scalar attribute, a 2-octet path
    // merged with AS4_PATH, and an IPv6 one with an MP_REACH next hop.
    let td4 = [
        origin(1),
        as_path(2, &[(SEQ, &[65_000, AS_TRANS, 3]), (SET, &[7, 8])]),
        next_hop([192, 0, 2, 9]),
        med(5),
        local_pref(100),
        attr(0x40, 6, &[]),
        attr(0xc0, 7, &[0xfd, 0xe8, 10, 0, 0, 1]),
        communities(&[0x0001_0002, 0xFFFF_FF01]),
        attr(
            0xc0,
            17,
            &path(4, &[(SEQ, &[4_200_000_001, 3]), (SET, &[7, 8])]),
        ),
    ]
    .concat();
    f.extend(record(
        ts,
        12,
        1,
        &table_dump("10.1.0.0", 16, "192.0.2.9", 64_512, &td4),
    ));
    let td6 = [
        origin(2),
        as_path(2, &[(SEQ, &[65_001])]),
        mp_reach(2, 1, &[v6("2001:db8::1"), v6("fe80::1")].concat(), &[]),
    ]
    .concat();
    f.extend(record(
        ts,
        12,
        2,
        &table_dump("2001:db8::", 32, "2001:db8::9", 65_001, &td6),
    ));

    // TABLE_DUMP_V2: peers, IPv4 entries with confederation segments and
    // values above 2^31, ADD-PATH entries, IPv6 entries whose next hop is
    // in the abbreviated MP_REACH_NLRI, and records bgpdump skips.
    f.extend(record(
        ts,
        13,
        1,
        &peer_index_table(&[("192.0.2.1", 64_500), ("2001:db8::2", 4_200_000_002)]),
    ));
    let confed = [
        origin(0),
        as_path(
            4,
            &[
                (CONFED_SEQ, &[65_010, 65_011]),
                (CONFED_SET, &[65_012, 65_013]),
                (SEQ, &[64_500]),
            ],
        ),
        next_hop([192, 0, 2, 1]),
        med(0x8000_0001),
        local_pref(u32::MAX),
    ]
    .concat();
    let entries = [
        Entry {
            peer: 0,
            path_id: None,
            attrs: confed.clone(),
        },
        Entry {
            peer: 1,
            path_id: None,
            attrs: common4(),
        },
        Entry {
            peer: 0,
            path_id: None,
            attrs: Vec::new(),
        },
    ];
    f.extend(record(ts, 13, 2, &rib(0, &[24, 198, 51, 100], &entries)));
    let ap = [
        Entry {
            peer: 0,
            path_id: Some(1),
            attrs: common4(),
        },
        Entry {
            peer: 1,
            path_id: Some(4_000_000_000),
            attrs: confed,
        },
    ];
    f.extend(record(ts, 13, 8, &rib(1, &[0], &ap)));
    let abbreviated = |nh: &[u8]| {
        let mut v = vec![nh.len() as u8];
        v.extend_from_slice(nh);
        attr(0x80, 14, &v)
    };
    let e6 = [
        Entry {
            peer: 1,
            path_id: Some(7),
            attrs: [
                origin(0),
                as_path(4, &[(SEQ, &[4_200_000_002])]),
                abbreviated(&[v6("2001:db8::2"), v6("fe80::2")].concat()),
            ]
            .concat(),
        },
        Entry {
            peer: 0,
            path_id: Some(8),
            attrs: [origin(0), abbreviated(&v6("::ffff:192.0.2.1"))].concat(),
        },
    ];
    f.extend(record(
        ts,
        13,
        10,
        &rib(2, &[48, 0x20, 1, 0xd, 0xb8, 0, 1], &e6),
    ));
    let e6 = [Entry {
        peer: 1,
        path_id: None,
        attrs: [origin(0), abbreviated(&v6("2001:db8:0:1:1:1:1:1"))].concat(),
    }];
    f.extend(record(
        ts,
        13,
        4,
        &rib(
            3,
            &[128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
            &e6,
        ),
    ));
    let e4 = [Entry {
        peer: 0,
        path_id: None,
        attrs: common4(),
    }];
    f.extend(record(ts, 13, 3, &rib(4, &[8, 224], &e4)));
    // A next hop length bgpdump does not take: it prints the previous
    // entry's next hop again.
    let odd = [
        Entry {
            peer: 1,
            path_id: None,
            attrs: [origin(0), abbreviated(&v6("2001:db8::7"))].concat(),
        },
        Entry {
            peer: 0,
            path_id: None,
            attrs: [origin(0), mp_reach(2, 1, &[0x20; 24], &[])].concat(),
        },
    ];
    f.extend(record(ts, 13, 4, &rib(5, &[16, 0x20, 2], &odd)));

    // BGP4MP with 2-octet AS numbers: AS4_PATH and AS4_AGGREGATOR merged,
    // or (AGGREGATOR of another AS) not merged at all, and bgpdump's merge
    // of a path whose first segment is a set.
    let peer4 = ("198.51.100.1", 65_100);
    let local4 = ("198.51.100.2", 65_200);
    let merged = [
        origin(0),
        as_path(2, &[(SEQ, &[65_100, AS_TRANS, AS_TRANS, 65_300])]),
        next_hop([198, 51, 100, 1]),
        attr(0xc0, 7, &[0x5b, 0xa0, 10, 9, 9, 9]),
        attr(
            0xc0,
            17,
            &path(4, &[(SEQ, &[4_200_000_010, 4_200_000_011, 65_300])]),
        ),
        attr(0xc0, 18, &[0xfa, 0x56, 0xea, 0x0a, 10, 9, 9, 9]),
    ]
    .concat();
    let msg = update(
        &pfx(None, 8, &[10]),
        &merged,
        &[
            pfx(None, 24, &[203, 0, 113]),
            pfx(None, 32, &[203, 0, 113, 7]),
        ]
        .concat(),
    );
    f.extend(record(ts + 1, 16, 1, &bgp4mp(false, peer4, local4, &msg)));
    let unmerged = [
        origin(0),
        as_path(2, &[(SEQ, &[65_100, AS_TRANS])]),
        next_hop([198, 51, 100, 1]),
        attr(0xc0, 7, &[0xfe, 0x4c, 10, 9, 9, 9]),
        attr(0xc0, 17, &path(4, &[(SEQ, &[4_200_000_010])])),
        attr(0xc0, 18, &[0xfa, 0x56, 0xea, 0x0a, 10, 9, 9, 9]),
    ]
    .concat();
    let msg = update(&[], &unmerged, &pfx(None, 16, &[172, 16]));
    f.extend(record(ts + 1, 16, 1, &bgp4mp(false, peer4, local4, &msg)));
    let set_first = [
        origin(0),
        as_path(2, &[(SET, &[1, 2]), (SEQ, &[3, AS_TRANS, 5])]),
        attr(0xc0, 17, &path(4, &[(SEQ, &[70_000, 5])])),
        next_hop([198, 51, 100, 1]),
    ]
    .concat();
    let msg = update(&[], &set_first, &pfx(None, 16, &[172, 17]));
    f.extend(record(ts + 1, 16, 1, &bgp4mp(false, peer4, local4, &msg)));

    // BGP4MP_ET, 4-octet AS, IPv6 session: MP_REACH_NLRI with a link-local
    // next hop, MP_UNREACH_NLRI, extended and large communities.
    let peer6 = ("2001:db8::a", 4_200_000_100);
    let local6 = ("2001:db8::b", 65_200);
    let v6_attrs = [
        common4(),
        attr(0xc0, 16, &[0, 2, 0xfd, 0xe8, 0, 0, 0, 100]),
        attr(0xc0, 32, &[0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 0, 0, 0, 2]),
        mp_reach(
            2,
            1,
            &[v6("2001:db8::a"), v6("fe80::a")].concat(),
            &[
                pfx(None, 32, &v6("2001:db8::")),
                pfx(None, 64, &v6("2001:db8:1:2::")),
            ]
            .concat(),
        ),
        mp_unreach(2, 1, &pfx(None, 48, &v6("2001:db8:ffff::"))),
    ]
    .concat();
    let msg = update(&[], &v6_attrs, &[]);
    f.extend(et_record(ts + 2, 42, 4, &bgp4mp(true, peer6, local6, &msg)));

    // IPv4 session, 4-octet AS: an IPv4 MP_REACH_NLRI with an IPv6 next hop
    // (RFC 8950) and LOCAL_PREF/MED above 2^31 (bgpdump prints them signed
    // there), an IPv6 one with a 16-octet next hop, multicast, and an
    // IPv6 MP_UNREACH_NLRI.
    let peer4b = ("198.51.100.3", 4_200_000_003);
    let mixed = [
        origin(0),
        as_path(4, &[(SEQ, &[4_200_000_003])]),
        med(0xFFFF_FFFE),
        local_pref(0x8000_0000),
        mp_reach(1, 1, &v6("2001:db8::3"), &pfx(None, 24, &[100, 64, 1])),
        mp_unreach(2, 1, &pfx(None, 32, &v6("2001:db8::"))),
    ]
    .concat();
    let msg = update(&[], &mixed, &[]);
    f.extend(record(ts + 3, 16, 4, &bgp4mp(true, peer4b, local4, &msg)));
    let v6_over_v4 = [
        origin(0),
        as_path(4, &[(SEQ, &[4_200_000_003])]),
        mp_reach(
            2,
            1,
            &v6("2001:db8::3"),
            &pfx(None, 40, &v6("2001:db8:1::")),
        ),
    ]
    .concat();
    let msg = update(&[], &v6_over_v4, &[]);
    f.extend(record(ts + 3, 16, 4, &bgp4mp(true, peer4b, local4, &msg)));
    let multicast = [
        origin(0),
        as_path(4, &[(SEQ, &[4_200_000_003])]),
        mp_reach(1, 2, &[198, 51, 100, 3], &pfx(None, 8, &[232])),
    ]
    .concat();
    let msg = update(&[], &multicast, &[]);
    f.extend(record(ts + 3, 16, 4, &bgp4mp(true, peer4b, local4, &msg)));

    // ADD-PATH: path ids in the withdrawn routes, the NLRI and MP NLRI.
    let ap_attrs = [
        common4(),
        mp_reach(
            2,
            1,
            &v6("2001:db8::3"),
            &pfx(Some(5), 32, &v6("2001:db8::")),
        ),
    ]
    .concat();
    let msg = update(
        &pfx(Some(9), 8, &[10]),
        &ap_attrs,
        &[
            pfx(Some(1), 24, &[203, 0, 113]),
            pfx(Some(2), 24, &[203, 0, 113]),
        ]
        .concat(),
    );
    f.extend(record(ts + 4, 16, 9, &bgp4mp(true, peer4b, local4, &msg)));
    f.extend(et_record(
        ts + 4,
        999_999,
        8,
        &bgp4mp(
            false,
            peer4,
            local4,
            &update(&pfx(Some(3), 8, &[11]), &[], &[]),
        ),
    ));

    // Messages the collector sent: the _LOCAL subtypes, whose IPv6
    // withdrawal lines spell an IPv4 peer address as IPv6 in bgpdump, and
    // the _LOCAL_ADDPATH ones, printed with the record's second address.
    let local_msg = update(&pfx(None, 8, &[12]), &mixed, &pfx(None, 8, &[13]));
    f.extend(record(
        ts + 5,
        16,
        6,
        &bgp4mp(false, peer4, local4, &local_msg),
    ));
    f.extend(et_record(
        ts + 5,
        1,
        7,
        &bgp4mp(true, peer4b, local4, &local_msg),
    ));
    let ap_local = update(&pfx(Some(1), 8, &[14]), &common4(), &pfx(Some(2), 8, &[15]));
    f.extend(record(
        ts + 5,
        16,
        11,
        &bgp4mp(true, peer4b, local4, &ap_local),
    ));
    f.extend(record(
        ts + 5,
        16,
        10,
        &bgp4mp(false, peer4, local4, &ap_local),
    ));

    // State changes (2- and 4-octet, IPv4 and IPv6, Quagga's states 7 and
    // 8), and messages that print nothing.
    f.extend(record(
        ts + 6,
        16,
        0,
        &bgp4mp(false, peer4, local4, &[0, 1, 0, 2]),
    ));
    f.extend(record(
        ts + 6,
        16,
        5,
        &bgp4mp(true, peer6, local6, &[0, 6, 0, 7]),
    ));
    f.extend(et_record(
        ts + 6,
        5,
        5,
        &bgp4mp(true, peer4b, local4, &[0, 8, 0, 1]),
    ));
    f.extend(record(
        ts + 7,
        16,
        4,
        &bgp4mp(true, peer4b, local4, &bgp(4, &[])),
    ));
    let open = [4, 0xfd, 0xe8, 0, 90, 10, 0, 0, 1, 0];
    f.extend(record(
        ts + 7,
        16,
        4,
        &bgp4mp(true, peer4b, local4, &bgp(1, &open)),
    ));
    f.extend(record(
        ts + 7,
        16,
        4,
        &bgp4mp(true, peer4b, local4, &bgp(3, &[6, 2])),
    ));

    // Odd UPDATEs: no attributes at all, a malformed AS_PATH, an empty
    // segment, a cut NLRI, more prefixes than bgpdump keeps, and more
    // communities than its text buffer holds.
    let msg = update(&[], &[], &pfx(None, 24, &[203, 0, 113]));
    f.extend(record(ts + 8, 16, 4, &bgp4mp(true, peer4b, local4, &msg)));
    let bad_path = [
        origin(0),
        attr(0x40, 2, &[2, 3, 0, 0, 0, 1]),
        next_hop([1, 2, 3, 4]),
    ]
    .concat();
    let msg = update(&[], &bad_path, &pfx(None, 24, &[203, 0, 113]));
    f.extend(record(ts + 8, 16, 4, &bgp4mp(true, peer4b, local4, &msg)));
    let empty_seg = [
        origin(0),
        attr(0x40, 2, &path(4, &[(SEQ, &[1]), (SEQ, &[]), (SEQ, &[2])])),
        next_hop([1, 2, 3, 4]),
    ]
    .concat();
    let msg = update(
        &[],
        &empty_seg,
        &[pfx(None, 24, &[203, 0, 113]), vec![24, 1]].concat(),
    );
    f.extend(record(ts + 8, 16, 4, &bgp4mp(true, peer4b, local4, &msg)));
    let many: Vec<u8> = (0..8200u32)
        .flat_map(|i| pfx(None, 16, &(i as u16).to_be_bytes()))
        .collect();
    let msg = update(&many, &common4(), &many);
    f.extend(record(ts + 9, 16, 4, &bgp4mp(true, peer4b, local4, &msg)));
    let lots: Vec<u32> = (0..1000).map(|i| 0x1000_0000 + i).collect();
    let big = [
        origin(0),
        as_path(4, &[(SEQ, &[1])]),
        next_hop([1, 2, 3, 4]),
        communities(&lots),
    ]
    .concat();
    let msg = update(&[], &big, &pfx(None, 8, &[20]));
    f.extend(record(ts + 9, 16, 4, &bgp4mp(true, peer4b, local4, &msg)));
    f
}
