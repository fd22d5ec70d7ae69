//! The line format of `bgpdump -m` (bgpdump 1.6.2), byte for byte.
//!
//! One line per route: `TABLE_DUMP2|time|B|peer|peer_as|prefix|...` for a
//! TABLE_DUMP_V2 RIB entry, `TABLE_DUMP|...|B|...` for a legacy TABLE_DUMP
//! record, `BGP4MP|time|A|...` and `BGP4MP|time|W|...` for each prefix an
//! UPDATE announces or withdraws, `BGP4MP|time|STATE|peer|peer_as|old|new`
//! for a state change. An announcement line ends in
//! `as_path|origin|next_hop|local_pref|med|communities|AG or NAG|aggregator|`.
//! OPEN, KEEPALIVE, NOTIFICATION and ROUTE-REFRESH messages, the peer index
//! table, multicast and RIB_GENERIC records print nothing, as in bgpdump.
//!
//! The MRT framing and record views come from `bgp-proto`; what a line says
//! follows bgpdump's own reading of the BGP octets ([`attrs`], [`wire`]),
//! quirks included, so that damaged input prints what bgpdump prints.
//! Every line is assembled from a per-record head (`format|time|`, the peer)
//! and a per-UPDATE tail (the attribute fields), formatted once and copied
//! for every prefix, into one output buffer: nothing is allocated per route.

mod aspath;
mod attrs;
mod wire;

use crate::decode::fmt::{push_ipv4, push_ipv6_bgpdump, push_u32, push_u32_padded, Small};
use attrs::{Attrs, MpAnnounce, Scratch};
use bgp_proto::mrt::{
    bgp4mp_subtype as b, mrt_type, table_dump_v2_subtype as v2, Bgp4mpMessage, Bgp4mpStateChange,
    PeerIndexTable, Record, RecordView, RibRecord, TableDump,
};
use std::net::IpAddr;
use wire::{Prefix, PrefixList, Stream};

/// Why a record printed nothing or only part of its routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError(pub String);

/// Formats MRT records as `bgpdump -m` lines.
#[derive(Debug, Default)]
pub struct Bgpdump {
    /// `peer_ip|peer_as|` of every entry of the last PEER_INDEX_TABLE.
    table_text: Vec<u8>,
    /// Where each peer's text starts and ends in `table_text`.
    table_spans: Vec<(usize, usize)>,
    /// The BGP4MP peer whose `peer_ip|peer_as|` is in `peer_text`.
    peer: Option<(IpAddr, u32)>,
    peer_text: Vec<u8>,
    /// Whether a PEER_INDEX_TABLE was seen.
    have_peers: bool,
    scratch: Scratch,
    /// `format|time|` of the current BGP4MP record.
    head: Vec<u8>,
    /// The start of a line up to the prefix, then a tail, per kind.
    start: Vec<u8>,
    tail: Vec<u8>,
    /// `as_path|origin|` and `communities|AG|aggregator|\n` of an UPDATE.
    pre: Vec<u8>,
    post: Vec<u8>,
    /// Whether the current UPDATE's lines carry path identifiers.
    add_path_lines: bool,
}

impl Bgpdump {
    /// A formatter with no peer index table yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the lines of one record to `out`.
    pub fn record(&mut self, rec: &Record<'_>, out: &mut Vec<u8>) -> Result<(), RecordError> {
        match rec.view() {
            RecordView::PeerIndexTable(t) => {
                self.set_peers(&t);
                Ok(())
            }
            RecordView::Rib(rib) => self.rib(rec, &rib, out),
            RecordView::TableDump(d) => {
                self.table_dump(rec, &d, out);
                Ok(())
            }
            RecordView::Bgp4mpMessage(m) => {
                self.message(rec, &m, out);
                Ok(())
            }
            RecordView::Bgp4mpStateChange(s) => {
                self.state_change(rec, &s, out);
                Ok(())
            }
            RecordView::RibGeneric(_) | RecordView::Unknown(_) => Ok(()),
        }
    }

    fn set_peers(&mut self, table: &PeerIndexTable<'_>) {
        self.table_text.clear();
        self.table_spans.clear();
        for p in table.peers() {
            let from = self.table_text.len();
            push_peer(&mut self.table_text, p.ip, p.asn, false);
            self.table_spans.push((from, self.table_text.len()));
        }
        self.have_peers = true;
    }

    /// TABLE_DUMP_V2 unicast RIB records (with or without ADD-PATH).
    fn rib(
        &mut self,
        rec: &Record<'_>,
        rib: &RibRecord<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), RecordError> {
        if !matches!(
            rib.subtype(),
            v2::RIB_IPV4_UNICAST
                | v2::RIB_IPV6_UNICAST
                | v2::RIB_IPV4_UNICAST_ADDPATH
                | v2::RIB_IPV6_UNICAST_ADDPATH
        ) {
            return Ok(());
        }
        if rib.entry_count() > 0 && !self.have_peers {
            return Err(RecordError(
                "RIB record before any PEER_INDEX_TABLE: skipped".into(),
            ));
        }
        let add_path = rib.add_path();
        self.start.clear();
        self.start.extend_from_slice(if add_path {
            b"TABLE_DUMP2_AP|"
        } else {
            b"TABLE_DUMP2|"
        });
        push_u32(&mut self.start, rec.timestamp());
        self.start.extend_from_slice(b"|B|");
        // The prefix, after the peer.
        let prefix = rib.prefix();
        let mut prefix_text = Small::new();
        ip_text(&mut prefix_text, prefix.addr());
        prefix_text.byte(b'/');
        prefix_text.u32(u32::from(prefix.prefix_len()));
        prefix_text.byte(b'|');

        let mut bad_index = None;
        // bgpdump formats the next hop into a buffer it reuses for every
        // entry of the record; for an MP_REACH_NLRI next hop of a length it
        // does not take (not 4, 16 or 32) it prints what the buffer holds
        // from an earlier entry (from an earlier record it is stack garbage:
        // that prints empty here).
        let mut next_hop = Small::new();
        for e in rib.entries() {
            let Some(&(from, to)) = self.table_spans.get(usize::from(e.peer_index())) else {
                bad_index.get_or_insert(e.peer_index());
                continue;
            };
            out.extend_from_slice(&self.start);
            out.extend_from_slice(&self.table_text[from..to]);
            out.extend_from_slice(prefix_text.as_bytes());
            if let Some(id) = e.path_id() {
                push_u32(out, id);
                out.push(b'|');
            }
            let a = Attrs::parse(e.attributes(), 4, add_path);
            a.push_path_and_origin(out, &mut self.scratch);
            let mp = [a.announce[2][1], a.announce[1][1]]
                .into_iter()
                .flatten()
                .next()
                .filter(|_| a.has_mp_reach());
            match mp {
                Some(m) => {
                    if let Some(text) = mp_next_hop_text(&m) {
                        next_hop = text;
                    }
                }
                None => {
                    next_hop = Small::new();
                    next_hop.ipv4(a.next_hop());
                }
            }
            out.extend_from_slice(next_hop.as_bytes());
            push_pref_med(out, &a, false);
            a.push_communities_to_end(out);
        }
        match bad_index {
            None => Ok(()),
            Some(i) => Err(RecordError(format!(
                "RIB entry names peer index {i}, beyond the {} peers of the PEER_INDEX_TABLE: entry skipped",
                self.table_spans.len()
            ))),
        }
    }

    /// Legacy TABLE_DUMP (2-octet AS numbers).
    fn table_dump(&mut self, rec: &Record<'_>, d: &TableDump<'_>, out: &mut Vec<u8>) {
        out.extend_from_slice(b"TABLE_DUMP|");
        push_u32(out, rec.timestamp());
        out.extend_from_slice(b"|B|");
        push_ip(out, d.peer_ip());
        out.push(b'|');
        push_u32(out, u32::from(d.peer_as()));
        out.push(b'|');
        let prefix = d.prefix();
        push_ip(out, prefix.addr());
        out.push(b'/');
        push_u32(out, u32::from(prefix.prefix_len()));
        out.push(b'|');
        let a = Attrs::parse(d.attributes(), 2, false);
        a.push_path_and_origin(out, &mut self.scratch);
        match a.announce[2][1].filter(|_| a.has_mp_reach()) {
            Some(m) => push_ipv6_bgpdump(out, &m.next_hop),
            None => push_ipv4(out, a.next_hop()),
        }
        push_pref_med(out, &a, false);
        a.push_communities_to_end(out);
    }

    fn push_head(&mut self, rec: &Record<'_>, format: &[u8]) {
        self.head.clear();
        self.head.extend_from_slice(format);
        self.head.push(b'|');
        push_u32(&mut self.head, rec.timestamp());
        if rec.mrt_type() == mrt_type::BGP4MP_ET {
            self.head.push(b'.');
            push_u32_padded(&mut self.head, rec.microseconds().unwrap_or(0), 6);
        }
        self.head.push(b'|');
    }

    fn state_change(&mut self, rec: &Record<'_>, s: &Bgp4mpStateChange, out: &mut Vec<u8>) {
        let et = rec.mrt_type() == mrt_type::BGP4MP_ET;
        self.push_head(rec, if et { b"BGP4MP_ET" } else { b"BGP4MP" });
        out.extend_from_slice(&self.head);
        out.extend_from_slice(b"STATE|");
        push_ip(out, s.peer_ip());
        out.push(b'|');
        push_u32(out, s.peer_as());
        out.push(b'|');
        push_u32(out, u32::from(s.old_state()));
        out.push(b'|');
        push_u32(out, u32::from(s.new_state()));
        out.push(b'\n');
    }

    /// BGP4MP messages: only UPDATEs print.
    fn message(&mut self, rec: &Record<'_>, m: &Bgp4mpMessage<'_>, out: &mut Vec<u8>) {
        let Some(body) = update_body(m.message()) else {
            return;
        };
        let et = rec.mrt_type() == mrt_type::BGP4MP_ET;
        // bgpdump takes only MESSAGE_LOCAL and MESSAGE_AS4_LOCAL as sent by
        // the collector; for the _LOCAL_ADDPATH subtypes it prints the
        // second (local) address and AS of the record.
        let sent = matches!(m.subtype(), b::MESSAGE_LOCAL | b::MESSAGE_AS4_LOCAL);
        let second = matches!(
            m.subtype(),
            b::MESSAGE_LOCAL_ADDPATH | b::MESSAGE_AS4_LOCAL_ADDPATH
        );
        let add_path = m.is_add_path();
        self.add_path_lines = add_path;
        let format: &[u8] = match (et, sent, add_path) {
            (false, false, false) => b"BGP4MP",
            (false, false, true) => b"BGP4MP_AP",
            (false, true, _) => b"BGP4MP_LOCAL",
            (true, false, false) => b"BGP4MP_ET",
            (true, false, true) => b"BGP4MP_ET_AP",
            (true, true, _) => b"BGP4MP_ET_LOCAL",
        };
        self.push_head(rec, format);
        let (ip, asn) = if second {
            (m.local_ip(), m.local_as())
        } else {
            (m.peer_ip(), m.peer_as())
        };
        let asn_len = if m.is_as4() { 4 } else { 2 };

        let mut s = Stream::new(body);
        let withdrawn_len = usize::from(s.u16());
        let withdrawn = s.take(withdrawn_len);
        let attrs_len = usize::from(s.u16());
        let a = Attrs::parse(s.take(attrs_len), asn_len, add_path);
        let nlri = s.rest();

        // Withdrawals: the Withdrawn Routes field, then MP_UNREACH_NLRI by
        // AFI and SAFI.
        self.line_start(b"W|", ip, asn, false);
        self.withdraw_lines(PrefixList::new(withdrawn, add_path), false, out);
        for safi in 1..=3 {
            if let Some(w) = a.withdraw[1][safi] {
                self.withdraw_lines(a.prefixes(w), false, out);
            }
        }
        // In an IPv4 session bgpdump prints the collector's own address of a
        // _LOCAL record in IPv6 notation on IPv6 withdrawal lines.
        self.line_start(b"W|", ip, asn, sent);
        for safi in 1..=3 {
            if let Some(w) = a.withdraw[2][safi] {
                self.withdraw_lines(a.prefixes(w), true, out);
            }
        }

        // Announcements: the NLRI field, then MP_REACH_NLRI by AFI and SAFI.
        let mp = |afi: usize| (1..=3).filter_map(move |safi| a.announce[afi][safi]);
        let any_mp = mp(1).chain(mp(2)).any(|m| !m.nlri.is_empty());
        if nlri.is_empty() && !any_mp {
            return;
        }
        self.pre.clear();
        a.push_path_and_origin(&mut self.pre, &mut self.scratch);
        self.post.clear();
        a.push_communities_to_end(&mut self.post);
        self.line_start(b"A|", ip, asn, false);
        if !nlri.is_empty() {
            self.tail.clear();
            self.tail.extend_from_slice(&self.pre);
            push_ipv4(&mut self.tail, a.next_hop());
            push_pref_med(&mut self.tail, &a, false);
            self.tail.extend_from_slice(&self.post);
            self.announce_lines(PrefixList::new(nlri, add_path), false, out);
        }
        for m in mp(1) {
            self.tail.clear();
            self.tail.extend_from_slice(&self.pre);
            if push_mp_next_hop(&mut self.tail, &m) {
                push_pref_med(&mut self.tail, &a, true);
            }
            self.tail.extend_from_slice(&self.post);
            self.announce_lines(a.prefixes(m.nlri), false, out);
        }
        for m in mp(2) {
            self.tail.clear();
            if matches!(m.next_hop_len, 4 | 16 | 32) {
                self.tail.extend_from_slice(&self.pre);
                push_mp_next_hop(&mut self.tail, &m);
                push_pref_med(&mut self.tail, &a, false);
            }
            self.tail.extend_from_slice(&self.post);
            self.announce_lines(a.prefixes(m.nlri), true, out);
        }
    }

    /// Sets `start` to `head` `kind` `peer_ip|peer_as|`; `v6_text` spells an
    /// IPv4 address as the IPv6 address with the same leading octets.
    fn line_start(&mut self, kind: &[u8], ip: IpAddr, asn: u32, v6_text: bool) {
        self.start.clear();
        self.start.extend_from_slice(&self.head);
        self.start.extend_from_slice(kind);
        if v6_text && ip.is_ipv4() {
            push_peer(&mut self.start, ip, asn, true);
            return;
        }
        if self.peer != Some((ip, asn)) {
            self.peer_text.clear();
            push_peer(&mut self.peer_text, ip, asn, false);
            self.peer = Some((ip, asn));
        }
        self.start.extend_from_slice(&self.peer_text);
    }

    fn withdraw_lines(&self, prefixes: PrefixList<'_>, v6: bool, out: &mut Vec<u8>) {
        for p in prefixes {
            let mut text = Small::new();
            prefix_text(&mut text, &p, v6);
            if self.add_path_lines {
                text.byte(b'|');
                text.u32(p.path_id);
            }
            text.byte(b'\n');
            out.reserve(self.start.len() + text.as_bytes().len());
            out.extend_from_slice(&self.start);
            out.extend_from_slice(text.as_bytes());
        }
    }

    fn announce_lines(&self, prefixes: PrefixList<'_>, v6: bool, out: &mut Vec<u8>) {
        for p in prefixes {
            let mut text = Small::new();
            prefix_text(&mut text, &p, v6);
            text.byte(b'|');
            if self.add_path_lines {
                text.u32(p.path_id);
                text.byte(b'|');
            }
            out.reserve(self.start.len() + text.as_bytes().len() + self.tail.len());
            out.extend_from_slice(&self.start);
            out.extend_from_slice(text.as_bytes());
            out.extend_from_slice(&self.tail);
        }
    }
}

/// The UPDATE body of a recorded message, framed as bgpdump frames it: a
/// bad marker or another message type prints nothing; the header's length
/// bounds the body (a shorter record cuts it).
fn update_body(msg: &[u8]) -> Option<&[u8]> {
    let (marker, rest) = msg.split_first_chunk::<16>()?;
    if marker != &[0xff; 16] {
        return None;
    }
    let mut s = Stream::new(rest);
    let size = i32::from(s.u16());
    let rest = s.rest();
    let copy = match usize::try_from(size - 18) {
        Ok(n) => &rest[..n.min(rest.len())],
        Err(_) => rest,
    };
    match copy.split_first() {
        Some((&2, body)) => Some(body),
        _ => None,
    }
}

/// `peer_ip|peer_as|`; with `v6_text` an IPv4 address is spelled as the
/// IPv6 address with the same leading octets.
fn push_peer(out: &mut Vec<u8>, ip: IpAddr, asn: u32, v6_text: bool) {
    let mut text = Small::new();
    match ip {
        IpAddr::V4(a) if v6_text => {
            let mut v6 = [0u8; 16];
            v6[..4].copy_from_slice(&a.octets());
            text.ipv6_bgpdump(&v6);
        }
        IpAddr::V4(a) => text.ipv4(a.octets()),
        IpAddr::V6(a) => text.ipv6_bgpdump(&a.octets()),
    }
    text.byte(b'|');
    text.u32(asn);
    text.byte(b'|');
    out.extend_from_slice(text.as_bytes());
}

/// An address: dotted quad, or IPv6 as bgpdump spells it.
fn push_ip(out: &mut Vec<u8>, ip: IpAddr) {
    let mut text = Small::new();
    ip_text(&mut text, ip);
    out.extend_from_slice(text.as_bytes());
}

fn ip_text(text: &mut Small, ip: IpAddr) {
    match ip {
        IpAddr::V4(a) => text.ipv4(a.octets()),
        IpAddr::V6(a) => text.ipv6_bgpdump(&a.octets()),
    }
}

fn prefix_text(text: &mut Small, p: &Prefix, v6: bool) {
    if v6 {
        text.ipv6_bgpdump(&p.addr);
    } else {
        text.ipv4(p.v4());
    }
    text.byte(b'/');
    text.u32(u32::from(p.len));
}

/// The next hop of an MP_REACH_NLRI by its length (4: IPv4, 16 or 32: the
/// global IPv6 address); `None` for any other length.
fn mp_next_hop_text(m: &MpAnnounce<'_>) -> Option<Small> {
    let mut text = Small::new();
    match m.next_hop_len {
        4 => text.ipv4([m.next_hop[0], m.next_hop[1], m.next_hop[2], m.next_hop[3]]),
        16 | 32 => text.ipv6_bgpdump(&m.next_hop),
        _ => return None,
    }
    Some(text)
}

/// Appends the next hop of an MP_REACH_NLRI ([`mp_next_hop_text`]);
/// returns whether there was one.
fn push_mp_next_hop(out: &mut Vec<u8>, m: &MpAnnounce<'_>) -> bool {
    match mp_next_hop_text(m) {
        Some(text) => {
            out.extend_from_slice(text.as_bytes());
            true
        }
        None => false,
    }
}

/// `|local_pref|med|`, signed where bgpdump prints them with `%d` (IPv4
/// routes of MP_REACH_NLRI).
fn push_pref_med(out: &mut Vec<u8>, a: &Attrs<'_>, signed: bool) {
    for v in [a.local_pref(), a.med()] {
        out.push(b'|');
        if signed {
            crate::decode::fmt::push_i32(out, v as i32);
        } else {
            push_u32(out, v);
        }
    }
    out.push(b'|');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(size: u16, msg_type: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![0xff; 16];
        m.extend_from_slice(&size.to_be_bytes());
        m.push(msg_type);
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn update_bodies_are_framed_like_bgpdump() {
        assert_eq!(
            update_body(&msg(23, 2, &[0, 0, 0, 0])),
            Some(&[0u8, 0, 0, 0][..])
        );
        // Other types, and a bad marker, print nothing.
        assert_eq!(update_body(&msg(19, 4, &[])), None);
        let mut bad = msg(23, 2, &[0, 0, 0, 0]);
        bad[3] = 0;
        assert_eq!(update_body(&bad), None);
        // The Length field cuts the body; a record shorter than it cuts it
        // too; a Length below 18 leaves the whole rest.
        assert_eq!(update_body(&msg(21, 2, &[0, 0, 9, 9])), Some(&[0u8, 0][..]));
        assert_eq!(update_body(&msg(4000, 2, &[1])), Some(&[1u8][..]));
        assert_eq!(update_body(&msg(3, 2, &[1, 2])), Some(&[1u8, 2][..]));
    }

    #[test]
    fn peers_and_prefixes() {
        let mut out = Vec::new();
        push_peer(&mut out, "192.0.2.1".parse().unwrap(), 64_500, false);
        push_peer(&mut out, "192.0.2.1".parse().unwrap(), 64_500, true);
        push_peer(
            &mut out,
            "2001:db8::1".parse().unwrap(),
            4_200_000_000,
            false,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "192.0.2.1|64500|c000:201::|64500|2001:db8::1|4200000000|"
        );
        let p = PrefixList::new(&[20, 10, 1, 0xf0], false).next().unwrap();
        let mut t = Small::new();
        prefix_text(&mut t, &p, false);
        prefix_text(&mut t, &p, true);
        assert_eq!(t.as_bytes(), b"10.1.240.0/20a01:f000::/20");
    }

    #[test]
    fn mp_next_hops_by_length() {
        let m = |len: u8| MpAnnounce {
            next_hop_len: len,
            next_hop: [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            nlri: &[],
        };
        for (len, want) in [
            (4, "32.1.13.184"),
            (16, "2001:db8::1"),
            (32, "2001:db8::1"),
            (24, ""),
        ] {
            let mut out = Vec::new();
            assert_eq!(push_mp_next_hop(&mut out, &m(len)), !want.is_empty());
            assert_eq!(String::from_utf8(out).unwrap(), want);
        }
    }
}
