//! `TABLE_DUMP_V2` records (RFC 6396 s4.3, RFC 8050 s4).
//!
//! A RIB dump starts with one [`PeerIndexTable`]; each following RIB record
//! holds one prefix and its entries, one per peer (or per path with
//! ADD-PATH), which refer to the table by peer index. Path attributes stay
//! raw: they decode with [`RibEntry::attribute_context`], 4-octet AS numbers
//! always (RFC 6396 s4.3.4) and MP_REACH_NLRI possibly abbreviated to its
//! next hop.

use super::error::Malformed;
use super::table_dump_v2_subtype as v2;
use super::wire::{self, Res};
use crate::afi::{Afi, Family, Safi};
use crate::context::SessionContext;
use ipnet::IpNet;
use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u32, be_u8};
use nom::Parser;
use std::net::{IpAddr, Ipv4Addr};

/// One entry of the peer index table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    /// Peer Type flags ([`Peer::TYPE_IPV6`], [`Peer::TYPE_AS4`]).
    pub peer_type: u8,
    /// The peer's BGP identifier.
    pub bgp_id: Ipv4Addr,
    /// The peer's address.
    pub ip: IpAddr,
    /// The peer's AS number.
    pub asn: u32,
}

impl Peer {
    /// Peer Type bit: the address is IPv6 (bit 7 in RFC 6396 numbering).
    pub const TYPE_IPV6: u8 = 0x01;
    /// Peer Type bit: the AS number has 4 octets (bit 6).
    pub const TYPE_AS4: u8 = 0x02;

    /// Whether the entry carries an IPv6 address.
    pub fn is_ipv6(&self) -> bool {
        self.peer_type & Self::TYPE_IPV6 != 0
    }

    /// Whether the entry carries a 4-octet AS number.
    pub fn is_as4(&self) -> bool {
        self.peer_type & Self::TYPE_AS4 != 0
    }
}

/// Parses one peer entry.
fn peer_entry(input: &[u8]) -> Res<'_, Peer> {
    let (input, peer_type) = be_u8(input)?;
    let (input, bgp_id) = wire::ipv4(input)?;
    let (input, ip) = wire::ip(input, peer_type & Peer::TYPE_IPV6 != 0)?;
    let (input, asn) = if peer_type & Peer::TYPE_AS4 != 0 {
        be_u32(input)?
    } else {
        let (i, a) = be_u16(input)?;
        (i, u32::from(a))
    };
    Ok((
        input,
        Peer {
            peer_type,
            bgp_id,
            ip,
            asn,
        },
    ))
}

/// A validated `PEER_INDEX_TABLE` body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerIndexTable<'a> {
    collector_bgp_id: Ipv4Addr,
    view_name: &'a [u8],
    peer_count: u16,
    peers: &'a [u8],
}

impl<'a> PeerIndexTable<'a> {
    /// Validates a body: collector id, view name, peer count and exactly that
    /// many whole peer entries, nothing after them.
    pub fn new_checked(body: &'a [u8]) -> Result<Self, Malformed> {
        const SHORT: &str = "PEER_INDEX_TABLE: body ends inside the header";
        let fixed = |i: &'a [u8]| -> Res<'a, (Ipv4Addr, &'a [u8], u16)> {
            let (i, id) = wire::ipv4(i)?;
            let (i, name_len) = be_u16(i)?;
            let (i, name) = take(name_len).parse(i)?;
            let (i, count) = be_u16(i)?;
            Ok((i, (id, name, count)))
        };
        let (peers, (collector_bgp_id, view_name, peer_count)) =
            fixed(body).map_err(|_| Malformed(SHORT))?;
        let mut rest = peers;
        for _ in 0..peer_count {
            rest = peer_entry(rest)
                .map_err(|_| Malformed("PEER_INDEX_TABLE: body ends inside a peer entry"))?
                .0;
        }
        if !rest.is_empty() {
            return Err(Malformed(
                "PEER_INDEX_TABLE: octets after the last peer entry",
            ));
        }
        Ok(Self {
            collector_bgp_id,
            view_name,
            peer_count,
            peers,
        })
    }

    /// The collector's BGP identifier.
    pub fn collector_bgp_id(&self) -> Ipv4Addr {
        self.collector_bgp_id
    }

    /// The view name octets (often empty).
    pub fn view_name(&self) -> &'a [u8] {
        self.view_name
    }

    /// The view name, if it is UTF-8.
    pub fn view_name_str(&self) -> Option<&'a str> {
        core::str::from_utf8(self.view_name).ok()
    }

    /// Number of peers.
    pub fn peer_count(&self) -> usize {
        usize::from(self.peer_count)
    }

    /// The peers in index order.
    pub fn peers(&self) -> PeerIter<'a> {
        PeerIter {
            buf: self.peers,
            remaining: self.peer_count,
        }
    }

    /// The peer a RIB entry's peer index refers to. Walks the table; for
    /// repeated lookups use [`to_peer_table`](Self::to_peer_table).
    pub fn peer(&self, index: u16) -> Option<Peer> {
        self.peers().nth(usize::from(index))
    }

    /// An owned copy with constant-time lookup, which outlives the reader's
    /// buffer.
    pub fn to_peer_table(&self) -> PeerTable {
        PeerTable {
            collector_bgp_id: self.collector_bgp_id,
            view_name: String::from_utf8_lossy(self.view_name).into_owned(),
            peers: self.peers().collect(),
        }
    }
}

/// Iterator over the entries of a validated peer index table.
#[derive(Debug, Clone)]
pub struct PeerIter<'a> {
    buf: &'a [u8],
    remaining: u16,
}

impl Iterator for PeerIter<'_> {
    type Item = Peer;

    fn next(&mut self) -> Option<Peer> {
        if self.remaining == 0 {
            return None;
        }
        match peer_entry(self.buf) {
            Ok((rest, peer)) => {
                self.buf = rest;
                self.remaining -= 1;
                Some(peer)
            }
            Err(_) => {
                self.remaining = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::from(self.remaining);
        (n, Some(n))
    }
}

impl ExactSizeIterator for PeerIter<'_> {}

/// An owned peer index table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerTable {
    /// The collector's BGP identifier.
    pub collector_bgp_id: Ipv4Addr,
    /// The view name (lossily converted to UTF-8).
    pub view_name: String,
    /// Peers in index order.
    pub peers: Vec<Peer>,
}

impl PeerTable {
    /// The peer at `index`.
    pub fn get(&self, index: u16) -> Option<&Peer> {
        self.peers.get(usize::from(index))
    }

    /// Number of peers.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// Whether the table lists no peer.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }
}

/// One RIB entry: which peer, since when, and the raw path attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RibEntry<'a> {
    peer_index: u16,
    originated_time: u32,
    path_id: Option<u32>,
    attributes: &'a [u8],
}

impl<'a> RibEntry<'a> {
    /// Index into the peer index table.
    pub fn peer_index(&self) -> u16 {
        self.peer_index
    }

    /// When the route was received (seconds since the Unix epoch).
    pub fn originated_time(&self) -> u32 {
        self.originated_time
    }

    /// The path identifier of the RFC 8050 `_ADDPATH` subtypes.
    pub fn path_id(&self) -> Option<u32> {
        self.path_id
    }

    /// The path attributes, undecoded.
    pub fn attributes(&self) -> &'a [u8] {
        self.attributes
    }

    /// How to decode [`attributes`](Self::attributes): 4-octet AS numbers
    /// (RFC 6396 s4.3.4), MP_REACH_NLRI possibly in the abbreviated RIB form.
    pub fn attribute_context(&self) -> SessionContext {
        rib_attribute_context()
    }
}

/// The context for attributes of `TABLE_DUMP_V2` RIB entries.
pub(crate) fn rib_attribute_context() -> SessionContext {
    let mut ctx = SessionContext::modern();
    ctx.mrt_rib_entry = true;
    ctx
}

/// Parses one RIB entry.
fn rib_entry(input: &[u8], add_path: bool) -> Res<'_, RibEntry<'_>> {
    let (input, peer_index) = be_u16(input)?;
    let (input, originated_time) = be_u32(input)?;
    let (input, path_id) = if add_path {
        let (i, id) = be_u32(input)?;
        (i, Some(id))
    } else {
        (input, None)
    };
    let (input, attr_len) = be_u16(input)?;
    let (input, attributes) = take(attr_len).parse(input)?;
    Ok((
        input,
        RibEntry {
            peer_index,
            originated_time,
            path_id,
            attributes,
        },
    ))
}

/// Iterator over the entries of a validated RIB record.
#[derive(Debug, Clone)]
pub struct RibEntryIter<'a> {
    buf: &'a [u8],
    remaining: u16,
    add_path: bool,
}

impl<'a> Iterator for RibEntryIter<'a> {
    type Item = RibEntry<'a>;

    #[inline]
    fn next(&mut self) -> Option<RibEntry<'a>> {
        if self.remaining == 0 {
            return None;
        }
        match rib_entry(self.buf, self.add_path) {
            Ok((rest, e)) => {
                self.buf = rest;
                self.remaining -= 1;
                Some(e)
            }
            Err(_) => {
                self.remaining = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::from(self.remaining);
        (n, Some(n))
    }
}

impl ExactSizeIterator for RibEntryIter<'_> {}

/// A validated AFI/SAFI-specific RIB record (`RIB_IPV4_UNICAST` ..
/// `RIB_IPV6_MULTICAST` and their `_ADDPATH` forms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RibRecord<'a> {
    subtype: u16,
    sequence: u32,
    prefix: IpNet,
    entry_count: u16,
    entries: &'a [u8],
}

/// Family and ADD-PATH flag of an AFI/SAFI-specific RIB subtype.
fn rib_subtype(subtype: u16) -> Option<(Family, bool)> {
    Some(match subtype {
        v2::RIB_IPV4_UNICAST => (Family::IPV4_UNICAST, false),
        v2::RIB_IPV4_MULTICAST => (Family::IPV4_MULTICAST, false),
        v2::RIB_IPV6_UNICAST => (Family::IPV6_UNICAST, false),
        v2::RIB_IPV6_MULTICAST => (Family::IPV6_MULTICAST, false),
        v2::RIB_IPV4_UNICAST_ADDPATH => (Family::IPV4_UNICAST, true),
        v2::RIB_IPV4_MULTICAST_ADDPATH => (Family::IPV4_MULTICAST, true),
        v2::RIB_IPV6_UNICAST_ADDPATH => (Family::IPV6_UNICAST, true),
        v2::RIB_IPV6_MULTICAST_ADDPATH => (Family::IPV6_MULTICAST, true),
        _ => return None,
    })
}

impl<'a> RibRecord<'a> {
    /// Validates a body of the given subtype: sequence number, prefix, entry
    /// count and exactly that many whole entries, nothing after them.
    pub fn new_checked(subtype: u16, body: &'a [u8]) -> Result<Self, Malformed> {
        let Some((family, add_path)) = rib_subtype(subtype) else {
            return Err(Malformed("RIB: not an AFI/SAFI-specific RIB subtype"));
        };
        let v6 = family.afi == Afi::IPV6;
        let fixed = |i: &'a [u8]| -> Res<'a, (u32, IpNet, u16)> {
            let (i, sequence) = be_u32(i)?;
            let (i, prefix) = wire::prefix(i, v6)?;
            let (i, count) = be_u16(i)?;
            Ok((i, (sequence, prefix, count)))
        };
        let (entries, (sequence, prefix, entry_count)) = fixed(body).map_err(wire::malformed(
            "RIB: body ends inside the header",
            "RIB: prefix length exceeds the address width",
        ))?;
        let mut rest = entries;
        for _ in 0..entry_count {
            rest = rib_entry(rest, add_path)
                .map_err(|_| Malformed("RIB: body ends inside a RIB entry"))?
                .0;
        }
        if !rest.is_empty() {
            return Err(Malformed("RIB: octets after the last RIB entry"));
        }
        Ok(Self {
            subtype,
            sequence,
            prefix,
            entry_count,
            entries,
        })
    }

    /// The subtype.
    pub fn subtype(&self) -> u16 {
        self.subtype
    }

    /// The address family the subtype names.
    pub fn family(&self) -> Family {
        rib_subtype(self.subtype).map_or(Family::IPV4_UNICAST, |(f, _)| f)
    }

    /// Whether entries carry path identifiers (RFC 8050).
    pub fn add_path(&self) -> bool {
        rib_subtype(self.subtype).is_some_and(|(_, a)| a)
    }

    /// Sequence number within the dump.
    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// The prefix, host bits exactly as on the wire.
    pub fn prefix(&self) -> IpNet {
        self.prefix
    }

    /// Number of entries.
    pub fn entry_count(&self) -> usize {
        usize::from(self.entry_count)
    }

    /// The entries, decoded lazily.
    pub fn entries(&self) -> RibEntryIter<'a> {
        RibEntryIter {
            buf: self.entries,
            remaining: self.entry_count,
            add_path: self.add_path(),
        }
    }
}

/// A `RIB_GENERIC` or `RIB_GENERIC_ADDPATH` record, kept raw past its
/// AFI/SAFI: the NLRI encoding (and so where the entries start) depends on a
/// family this module does not decode, and implementations disagree on where
/// RFC 8050 path identifiers go for this subtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RibGeneric<'a> {
    subtype: u16,
    sequence: u32,
    family: Family,
    data: &'a [u8],
}

impl<'a> RibGeneric<'a> {
    /// Validates that the body holds at least sequence number, AFI and SAFI.
    pub fn new_checked(subtype: u16, body: &'a [u8]) -> Result<Self, Malformed> {
        let fixed = |i: &'a [u8]| -> Res<'a, (u32, u16, u8)> {
            let (i, sequence) = be_u32(i)?;
            let (i, afi) = be_u16(i)?;
            let (i, safi) = be_u8(i)?;
            Ok((i, (sequence, afi, safi)))
        };
        let (data, (sequence, afi, safi)) =
            fixed(body).map_err(|_| Malformed("RIB_GENERIC: body ends inside the header"))?;
        Ok(Self {
            subtype,
            sequence,
            family: Family::new(Afi(afi), Safi(safi)),
            data,
        })
    }

    /// The subtype.
    pub fn subtype(&self) -> u16 {
        self.subtype
    }

    /// Whether this is `RIB_GENERIC_ADDPATH`.
    pub fn add_path(&self) -> bool {
        self.subtype == v2::RIB_GENERIC_ADDPATH
    }

    /// Sequence number within the dump.
    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// Address family identifier.
    pub fn afi(&self) -> Afi {
        self.family.afi
    }

    /// Subsequent address family identifier.
    pub fn safi(&self) -> Safi {
        self.family.safi
    }

    /// AFI and SAFI.
    pub fn family(&self) -> Family {
        self.family
    }

    /// Everything after the SAFI, undecoded: the NLRI, the entry count and
    /// the RIB entries.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A peer index table body.
    pub(crate) fn peer_index_table(id: [u8; 4], name: &[u8], peers: &[(u8, Peer)]) -> Vec<u8> {
        let mut b = id.to_vec();
        b.extend_from_slice(&(name.len() as u16).to_be_bytes());
        b.extend_from_slice(name);
        b.extend_from_slice(&(peers.len() as u16).to_be_bytes());
        for (t, p) in peers {
            b.push(*t);
            b.extend_from_slice(&p.bgp_id.octets());
            match p.ip {
                IpAddr::V4(a) => b.extend_from_slice(&a.octets()),
                IpAddr::V6(a) => b.extend_from_slice(&a.octets()),
            }
            if t & Peer::TYPE_AS4 != 0 {
                b.extend_from_slice(&p.asn.to_be_bytes());
            } else {
                b.extend_from_slice(&(p.asn as u16).to_be_bytes());
            }
        }
        b
    }

    /// A RIB body: sequence, prefix (length + octets), entries
    /// (peer index, time, path id, attributes).
    pub(crate) fn rib(
        seq: u32,
        plen: u8,
        prefix: &[u8],
        entries: &[(u16, u32, Option<u32>, &[u8])],
    ) -> Vec<u8> {
        let mut b = seq.to_be_bytes().to_vec();
        b.push(plen);
        b.extend_from_slice(prefix);
        b.extend_from_slice(&(entries.len() as u16).to_be_bytes());
        for (idx, t, pid, attrs) in entries {
            b.extend_from_slice(&idx.to_be_bytes());
            b.extend_from_slice(&t.to_be_bytes());
            if let Some(p) = pid {
                b.extend_from_slice(&p.to_be_bytes());
            }
            b.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
            b.extend_from_slice(attrs);
        }
        b
    }

    fn peers() -> Vec<(u8, Peer)> {
        vec![
            (
                0,
                Peer {
                    peer_type: 0,
                    bgp_id: Ipv4Addr::new(10, 0, 0, 1),
                    ip: "192.0.2.1".parse().unwrap(),
                    asn: 64500,
                },
            ),
            (
                3,
                Peer {
                    peer_type: 3,
                    bgp_id: Ipv4Addr::new(10, 0, 0, 2),
                    ip: "2001:db8::2".parse().unwrap(),
                    asn: 4_200_000_000,
                },
            ),
            (
                2,
                Peer {
                    peer_type: 2,
                    bgp_id: Ipv4Addr::new(10, 0, 0, 3),
                    ip: "198.51.100.3".parse().unwrap(),
                    asn: 65_551,
                },
            ),
        ]
    }

    #[test]
    fn peer_index_table_parses_and_looks_up() {
        let body = peer_index_table([128, 223, 51, 102], b"view", &peers());
        let t = PeerIndexTable::new_checked(&body).unwrap();
        assert_eq!(t.collector_bgp_id(), Ipv4Addr::new(128, 223, 51, 102));
        assert_eq!(t.view_name_str(), Some("view"));
        assert_eq!(t.peer_count(), 3);
        assert_eq!(t.peers().len(), 3);
        let got: Vec<Peer> = t.peers().collect();
        let want: Vec<Peer> = peers().into_iter().map(|(_, p)| p).collect();
        assert_eq!(got, want);
        assert!(!got[0].is_ipv6() && !got[0].is_as4());
        assert!(got[1].is_ipv6() && got[1].is_as4());
        assert_eq!(t.peer(2), Some(want[2]));
        assert_eq!(t.peer(3), None);
        let owned = t.to_peer_table();
        assert_eq!((owned.len(), owned.get(1)), (3, Some(&want[1])));
        assert_eq!(owned.get(9), None);
        assert_eq!(owned.view_name, "view");
        assert!(!owned.is_empty());
    }

    #[test]
    fn peer_index_table_malformations() {
        let body = peer_index_table([1, 2, 3, 4], b"", &peers());
        // Every cut is a body that ends early.
        for cut in 0..body.len() {
            let e = PeerIndexTable::new_checked(&body[..cut]).unwrap_err();
            assert!(e.0.contains("ends inside"), "{cut}: {e}");
        }
        let mut long = body.clone();
        long.push(0);
        assert_eq!(
            PeerIndexTable::new_checked(&long).unwrap_err().0,
            "PEER_INDEX_TABLE: octets after the last peer entry"
        );
        // A view name longer than the body.
        let mut bad = body.clone();
        bad[4..6].copy_from_slice(&1000u16.to_be_bytes());
        assert!(PeerIndexTable::new_checked(&bad).is_err());
        let empty = peer_index_table([1, 2, 3, 4], b"\xff", &[]);
        let t = PeerIndexTable::new_checked(&empty).unwrap();
        assert_eq!((t.peer_count(), t.view_name_str()), (0, None));
        assert_eq!(t.to_peer_table().view_name, "\u{fffd}");
    }

    #[test]
    fn rib_ipv4_unicast() {
        let body = rib(
            7,
            23,
            &[10, 0, 1],
            &[(0, 100, None, b"\x40\x01\x01\x00"), (2, 200, None, b"")],
        );
        let r = RibRecord::new_checked(v2::RIB_IPV4_UNICAST, &body).unwrap();
        assert_eq!(r.sequence(), 7);
        // Host bits are kept.
        assert_eq!(r.prefix().to_string(), "10.0.1.0/23");
        assert_eq!((r.family(), r.add_path()), (Family::IPV4_UNICAST, false));
        assert_eq!(r.entry_count(), 2);
        let e: Vec<_> = r.entries().collect();
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].peer_index(), e[0].originated_time()), (0, 100));
        assert_eq!(
            (e[0].path_id(), e[0].attributes()),
            (None, &b"\x40\x01\x01\x00"[..])
        );
        assert_eq!((e[1].peer_index(), e[1].attributes()), (2, &b""[..]));
        let ctx = e[0].attribute_context();
        assert!(ctx.four_octet_as && ctx.mrt_rib_entry && !ctx.extended_message);
        assert!(!ctx.add_path(Family::IPV4_UNICAST));
        assert_eq!(r.subtype(), v2::RIB_IPV4_UNICAST);
    }

    #[test]
    fn rib_every_family_and_add_path() {
        let v4 = rib(1, 8, &[10], &[(1, 5, None, b"ab")]);
        let v6 = rib(1, 32, &[0x20, 1, 0xd, 0xb8], &[(1, 5, None, b"ab")]);
        let v4ap = rib(1, 8, &[10], &[(1, 5, Some(77), b"ab")]);
        let v6ap = rib(1, 32, &[0x20, 1, 0xd, 0xb8], &[(1, 5, Some(77), b"ab")]);
        let cases: [(u16, &[u8], Family, bool); 8] = [
            (2, &v4, Family::IPV4_UNICAST, false),
            (3, &v4, Family::IPV4_MULTICAST, false),
            (4, &v6, Family::IPV6_UNICAST, false),
            (5, &v6, Family::IPV6_MULTICAST, false),
            (8, &v4ap, Family::IPV4_UNICAST, true),
            (9, &v4ap, Family::IPV4_MULTICAST, true),
            (10, &v6ap, Family::IPV6_UNICAST, true),
            (11, &v6ap, Family::IPV6_MULTICAST, true),
        ];
        for (sub, body, fam, ap) in cases {
            let r = RibRecord::new_checked(sub, body).unwrap();
            assert_eq!((r.family(), r.add_path()), (fam, ap));
            let e = r.entries().next().unwrap();
            assert_eq!(e.path_id(), ap.then_some(77));
            assert_eq!(e.attributes(), b"ab");
            let want = if fam.afi == Afi::IPV6 {
                "2001:db8::/32"
            } else {
                "10.0.0.0/8"
            };
            assert_eq!(r.prefix().to_string(), want);
        }
        // The add-path body misread without path ids leaves octets over.
        assert!(RibRecord::new_checked(2, &v4ap).is_err());
        assert!(RibRecord::new_checked(6, &v4).is_err());
    }

    #[test]
    fn rib_malformations() {
        let body = rib(
            1,
            24,
            &[10, 1, 2],
            &[(1, 5, Some(9), b"abc"), (0, 6, Some(8), b"")],
        );
        for cut in 0..body.len() {
            let e = RibRecord::new_checked(8, &body[..cut]).unwrap_err();
            assert!(e.0.contains("ends inside"), "{cut}: {e}");
        }
        let mut long = body.clone();
        long.push(1);
        assert_eq!(
            RibRecord::new_checked(8, &long).unwrap_err().0,
            "RIB: octets after the last RIB entry"
        );
        let bad = rib(1, 33, &[1, 2, 3, 4, 5], &[]);
        assert_eq!(
            RibRecord::new_checked(2, &bad).unwrap_err().0,
            "RIB: prefix length exceeds the address width"
        );
        let bad6 = rib(1, 129, &[0; 17], &[]);
        assert!(RibRecord::new_checked(4, &bad6).is_err());
        // 33 is fine for IPv6.
        assert!(RibRecord::new_checked(4, &bad).is_ok_and(|r| r.entry_count() == 0));
    }

    #[test]
    fn unchecked_iterators_stop_quietly() {
        let mut it = RibEntryIter {
            buf: &[0, 1, 0],
            remaining: 3,
            add_path: false,
        };
        assert_eq!((it.len(), it.next()), (3, None));
        assert_eq!(it.len(), 0);
        let mut p = PeerIter {
            buf: &[2, 1],
            remaining: 1,
        };
        assert_eq!(p.next(), None);
    }

    #[test]
    fn rib_generic_is_kept_raw() {
        let body = [0, 0, 0, 9, 0, 25, 70, 1, 2, 3];
        let g = RibGeneric::new_checked(v2::RIB_GENERIC, &body).unwrap();
        assert_eq!((g.sequence(), g.afi(), g.safi()), (9, Afi(25), Safi(70)));
        assert_eq!((g.data(), g.add_path()), (&[1, 2, 3][..], false));
        assert_eq!(g.family(), Family::new(Afi(25), Safi(70)));
        let g = RibGeneric::new_checked(v2::RIB_GENERIC_ADDPATH, &body[..7]).unwrap();
        assert!(g.add_path() && g.data().is_empty());
        assert_eq!(g.subtype(), 12);
        for cut in 0..7 {
            assert!(RibGeneric::new_checked(6, &body[..cut]).is_err());
        }
    }
}
