//! The path attributes as bgpdump reads them, and the text fields of a
//! `-m` line built from them.
//!
//! Attributes are framed by `bgp-proto` ([`RawAttributes`]); each value is
//! then read with bgpdump's lenient rules ([`Stream`]): short values are
//! zero-filled, an attribute that appears twice keeps its last value (where
//! bgpdump itself would stop on an assertion), MP_REACH_NLRI and
//! MP_UNREACH_NLRI are kept per AFI (1, 2) and SAFI (1 to 3), others are
//! ignored, and for 2-octet sessions AS4_AGGREGATOR and AS4_PATH are merged
//! in as bgpdump's `process_asn32_trans` does.

use super::aspath;
use super::wire::{PrefixList, Stream};
use crate::decode::fmt::{self, Small};
use bgp_proto::attr::{type_code as tc, RawAttributes};

/// AS_TRANS (RFC 6793).
const AS_TRANS: u32 = 23456;
/// `INADDR_NONE`: bgpdump's "no address" for NEXT_HOP and AGGREGATOR.
const NO_ADDR: [u8; 4] = [255; 4];

/// The bit bgpdump sets in its attribute flag word for type `t` (1 to 32).
const fn bit(t: u8) -> u32 {
    1 << (t - 1)
}

/// One MP_REACH_NLRI as bgpdump keeps it: the next hop (by its length
/// octet) and the NLRI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpAnnounce<'a> {
    /// The next hop length octet.
    pub next_hop_len: u8,
    /// The (first) next hop; an IPv4 one in the first four octets.
    pub next_hop: [u8; 16],
    /// The NLRI octets (empty in the abbreviated form of RIB entries).
    pub nlri: &'a [u8],
}

/// Path attributes read the way bgpdump reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attrs<'a> {
    flags: u32,
    origin: u8,
    next_hop: [u8; 4],
    med: u32,
    local_pref: u32,
    aggregator_as: u32,
    aggregator_addr: [u8; 4],
    as_path: Option<&'a [u8]>,
    as4_path: Option<&'a [u8]>,
    communities: Option<&'a [u8]>,
    merge_as4_path: bool,
    asn_len: usize,
    add_path: bool,
    /// MP_REACH_NLRI by `[afi][safi]`.
    pub announce: [[Option<MpAnnounce<'a>>; 4]; 3],
    /// MP_UNREACH_NLRI withdrawn routes by `[afi][safi]`.
    pub withdraw: [[Option<&'a [u8]>; 4]; 3],
}

impl<'a> Attrs<'a> {
    /// Reads a path attributes field whose AS numbers have `asn_len` octets;
    /// `add_path` says whether MP NLRI carry path identifiers.
    pub fn parse(field: &'a [u8], asn_len: usize, add_path: bool) -> Self {
        let mut a = Self {
            flags: 0,
            origin: u8::MAX,
            next_hop: NO_ADDR,
            med: 0,
            local_pref: 0,
            aggregator_as: u32::MAX,
            aggregator_addr: NO_ADDR,
            as_path: None,
            as4_path: None,
            communities: None,
            merge_as4_path: false,
            asn_len,
            add_path,
            announce: Default::default(),
            withdraw: Default::default(),
        };
        let mut as4_aggregator = None;
        for raw in RawAttributes::new(field) {
            let t = raw.type_code;
            if (1..=32).contains(&t) {
                a.flags |= bit(t);
            }
            let mut v = Stream::new(raw.value);
            match t {
                tc::ORIGIN => a.origin = v.u8(),
                tc::AS_PATH => a.as_path = Some(raw.value),
                tc::NEXT_HOP => a.next_hop = v.array(),
                tc::MULTI_EXIT_DISC => a.med = v.u32(),
                tc::LOCAL_PREF => a.local_pref = v.u32(),
                tc::AGGREGATOR => {
                    a.aggregator_as = v.asn(asn_len);
                    a.aggregator_addr = v.array();
                }
                tc::COMMUNITIES => a.communities = Some(raw.value),
                tc::AS4_PATH => a.as4_path = Some(raw.value),
                tc::AS4_AGGREGATOR => as4_aggregator = Some((v.u32(), v.array())),
                tc::MP_REACH_NLRI => a.read_announce(raw.value),
                tc::MP_UNREACH_NLRI => a.read_withdraw(raw.value),
                _ => {}
            }
        }
        if asn_len == 2 {
            a.merge_as4(as4_aggregator);
        }
        a
    }

    /// bgpdump's `process_asn32_trans`: AS4_AGGREGATOR replaces an
    /// AGGREGATOR of AS_TRANS, and when AGGREGATOR names another AS the
    /// AS4_PATH is ignored as well.
    fn merge_as4(&mut self, as4_aggregator: Option<(u32, [u8; 4])>) {
        if self.has(tc::AGGREGATOR) && self.has(tc::AS4_AGGREGATOR) {
            if self.aggregator_as != AS_TRANS {
                return;
            }
            if let Some((asn, addr)) = as4_aggregator {
                (self.aggregator_as, self.aggregator_addr) = (asn, addr);
            }
        }
        self.merge_as4_path = self.has(tc::AS4_PATH) && self.as_path.is_some();
    }

    fn read_announce(&mut self, value: &'a [u8]) {
        let mut s = Stream::new(value);
        if value.first().is_some_and(|&b| b != 0) {
            // The abbreviated form of MRT RIB entries (next hop only), which
            // bgpdump files as IPv6 unicast whatever the next hop.
            let (next_hop_len, next_hop) = next_hop(&mut s);
            self.announce[2][1] = Some(MpAnnounce {
                next_hop_len,
                next_hop,
                nlri: &[],
            });
            return;
        }
        let (afi, safi) = (usize::from(s.u16()), usize::from(s.u8()));
        if afi > 2 || safi > 3 || self.announce[afi][safi].is_some() {
            return;
        }
        let (next_hop_len, next_hop) = next_hop(&mut s);
        // SNPAs: a count, then length-prefixed entries.
        for _ in 0..s.u8() {
            let n = usize::from(s.u8());
            s.take(n);
        }
        self.announce[afi][safi] = Some(MpAnnounce {
            next_hop_len,
            next_hop,
            nlri: s.rest(),
        });
    }

    fn read_withdraw(&mut self, value: &'a [u8]) {
        let mut s = Stream::new(value);
        let (afi, safi) = (usize::from(s.u16()), usize::from(s.u8()));
        if afi <= 2 && safi <= 3 && self.withdraw[afi][safi].is_none() {
            self.withdraw[afi][safi] = Some(s.rest());
        }
    }

    fn has(&self, t: u8) -> bool {
        self.flags & bit(t) != 0
    }

    /// Whether MP_REACH_NLRI was present.
    pub fn has_mp_reach(&self) -> bool {
        self.has(tc::MP_REACH_NLRI)
    }

    /// NLRI entries of an MP list of this UPDATE or RIB entry.
    pub fn prefixes(&self, nlri: &'a [u8]) -> PrefixList<'a> {
        PrefixList::new(nlri, self.add_path)
    }

    /// The NEXT_HOP attribute (`255.255.255.255` when absent).
    pub fn next_hop(&self) -> [u8; 4] {
        self.next_hop
    }

    /// LOCAL_PREF, 0 when absent.
    pub fn local_pref(&self) -> u32 {
        if self.has(tc::LOCAL_PREF) {
            self.local_pref
        } else {
            0
        }
    }

    /// MULTI_EXIT_DISC, 0 when absent.
    pub fn med(&self) -> u32 {
        if self.has(tc::MULTI_EXIT_DISC) {
            self.med
        } else {
            0
        }
    }

    /// Appends `AS_PATH|ORIGIN|`.
    pub fn push_path_and_origin(&self, out: &mut Vec<u8>, scratch: &mut Scratch) {
        if let Some(path) = self.as_path {
            self.push_as_path(path, out, scratch);
        }
        out.push(b'|');
        out.extend_from_slice(match self.origin {
            0 => b"IGP|",
            1 => b"EGP|",
            _ => b"INCOMPLETE|",
        });
    }

    fn push_as_path(&self, path: &[u8], out: &mut Vec<u8>, scratch: &mut Scratch) {
        let as4 = self.as4_path.filter(|_| self.merge_as4_path);
        let Some(as4) = as4 else {
            aspath::render(path, self.asn_len, out);
            return;
        };
        let path_count = aspath::count(path, self.asn_len, &mut scratch.text);
        let as4_count = aspath::count(as4, 4, &mut scratch.text);
        if path_count < as4_count {
            aspath::render(path, self.asn_len, out);
            return;
        }
        if aspath::merge(path, path_count, as4, as4_count, &mut scratch.merged) {
            aspath::render(&scratch.merged, 4, out);
        }
    }

    /// Appends `COMMUNITIES|AG-or-NAG|AGGREGATOR|` and the newline.
    pub fn push_communities_to_end(&self, out: &mut Vec<u8>) {
        if let Some(c) = self.communities {
            push_communities(c, out);
        }
        out.push(b'|');
        out.extend_from_slice(if self.has(tc::ATOMIC_AGGREGATE) {
            b"AG|"
        } else {
            b"NAG|"
        });
        if self.aggregator_addr != NO_ADDR {
            fmt::push_u32(out, self.aggregator_as);
            out.push(b' ');
            fmt::push_ipv4(out, self.aggregator_addr);
        }
        out.extend_from_slice(b"|\n");
    }
}

/// Reusable buffers for AS path merging.
#[derive(Debug, Default)]
pub struct Scratch {
    text: Vec<u8>,
    merged: Vec<u8>,
}

/// bgpdump's `get_nexthop`: a length octet, then 4, 16 or 32 octets as the
/// length says (the first 16 of 32 kept); any other length reads nothing
/// more.
fn next_hop(s: &mut Stream<'_>) -> (u8, [u8; 16]) {
    let len = s.u8();
    let mut nh = [0u8; 16];
    match len {
        4 => nh[..4].copy_from_slice(&s.array::<4>()),
        16 => nh = s.array(),
        32 => {
            nh = s.array();
            s.array::<16>();
        }
        _ => {}
    }
    (len, nh)
}

/// Most characters in bgpdump's community text (`BUFSIZ` less its NUL).
const COMMUNITY_TEXT_MAX: usize = 8191;

/// Appends the communities as bgpdump's `-m` prints them: space-separated,
/// `as:value` or the names of three well-known ones, cut where its 8 KiB
/// buffer fills.
fn push_communities(value: &[u8], out: &mut Vec<u8>) {
    // bgpdump builds " a:b c:d" and prints it from the second character.
    let start = out.len();
    let mut text_len = 0;
    for c in value.chunks_exact(4) {
        let v = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        let named: Option<&[u8]> = match v {
            0xFFFF_FF01 => Some(b" no-export"),
            0xFFFF_FF02 => Some(b" no-advertise"),
            0xFFFF_FF03 => Some(b" local-AS"),
            _ => None,
        };
        if let Some(name) = named {
            // strlcat: all or nothing.
            if text_len + name.len() < COMMUNITY_TEXT_MAX + 1 {
                out.extend_from_slice(name);
                text_len += name.len();
            }
            continue;
        }
        let mut text = Small::new();
        text.byte(b' ');
        text.u32(v >> 16);
        text.byte(b':');
        text.u32(v & 0xffff);
        // snprintf: cut to what fits.
        let n = text.as_bytes().len().min(COMMUNITY_TEXT_MAX - text_len);
        out.extend_from_slice(&text.as_bytes()[..n]);
        text_len += n;
    }
    if out.len() > start {
        out.remove(start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(flags: u8, t: u8, v: &[u8]) -> Vec<u8> {
        let mut a = vec![flags, t, v.len() as u8];
        a.extend_from_slice(v);
        a
    }

    fn line_parts(a: &Attrs<'_>) -> String {
        let mut out = Vec::new();
        a.push_path_and_origin(&mut out, &mut Scratch::default());
        a.push_communities_to_end(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn absent_attributes() {
        let a = Attrs::parse(&[], 4, false);
        assert_eq!(line_parts(&a), "|INCOMPLETE||NAG||\n");
        assert_eq!((a.med(), a.local_pref(), a.next_hop()), (0, 0, NO_ADDR));
        assert!(!a.has_mp_reach());
    }

    #[test]
    fn typical_attributes() {
        let mut f = attr(0x40, 1, &[0]);
        f.extend(attr(0x40, 2, &[2, 2, 0, 0, 0x05, 0x13, 0, 0, 0x3b, 0x41]));
        f.extend(attr(0x40, 3, &[10, 0, 0, 1]));
        f.extend(attr(0x80, 4, &[0, 0, 0, 7]));
        f.extend(attr(0x40, 6, &[]));
        f.extend(attr(0xc0, 7, &[0, 0, 0x05, 0x13, 192, 0, 2, 1]));
        f.extend(attr(
            0xc0,
            8,
            &[0x05, 0x13, 0x88, 0xb8, 0xff, 0xff, 0xff, 0x01],
        ));
        let a = Attrs::parse(&f, 4, false);
        assert_eq!(
            line_parts(&a),
            "1299 15169|IGP|1299:35000 no-export|AG|1299 192.0.2.1|\n"
        );
        assert_eq!((a.med(), a.next_hop()), (7, [10, 0, 0, 1]));
    }

    #[test]
    fn as4_merge_and_aggregator() {
        // 2-octet AS_PATH 100 23456, AS4_PATH 4200000001, AGGREGATOR
        // AS_TRANS with AS4_AGGREGATOR.
        let mut f = attr(0x40, 2, &[2, 2, 0, 100, 0x5b, 0xa0]);
        f.extend(attr(0xc0, 17, &[2, 1, 0xfa, 0x56, 0xea, 0x01]));
        f.extend(attr(0xc0, 7, &[0x5b, 0xa0, 10, 0, 0, 9]));
        f.extend(attr(0xc0, 18, &[0xfa, 0x56, 0xea, 0x01, 10, 0, 0, 9]));
        let a = Attrs::parse(&f, 2, false);
        assert_eq!(
            line_parts(&a),
            "100 4200000001|INCOMPLETE||NAG|4200000001 10.0.0.9|\n"
        );
        // An AGGREGATOR of another AS turns the AS4_PATH merge off too.
        let mut f = attr(0x40, 2, &[2, 2, 0, 100, 0x5b, 0xa0]);
        f.extend(attr(0xc0, 17, &[2, 1, 0xfa, 0x56, 0xea, 0x01]));
        f.extend(attr(0xc0, 7, &[0, 100, 10, 0, 0, 9]));
        f.extend(attr(0xc0, 18, &[0xfa, 0x56, 0xea, 0x01, 10, 0, 0, 9]));
        let a = Attrs::parse(&f, 2, false);
        assert_eq!(line_parts(&a), "100 23456|INCOMPLETE||NAG|100 10.0.0.9|\n");
    }

    #[test]
    fn mp_attributes() {
        let mut reach = vec![0, 2, 1, 32];
        reach.extend([0x20, 1, 0xd, 0xb8].iter().chain(&[0; 12]));
        reach.extend([0xfe, 0x80].iter().chain(&[0; 14]));
        reach.extend([0, 32, 0x20, 1, 0xd, 0xb8]);
        let mut f = attr(0x80, 14, &reach);
        f.extend(attr(0x80, 15, &[0, 1, 1, 8, 10]));
        let a = Attrs::parse(&f, 4, false);
        let m = a.announce[2][1].unwrap();
        assert_eq!((m.next_hop_len, m.next_hop[1]), (32, 1));
        assert_eq!(a.prefixes(m.nlri).count(), 1);
        assert_eq!(a.prefixes(a.withdraw[1][1].unwrap()).count(), 1);
        // Abbreviated RIB form.
        let mut v = vec![16];
        v.extend([0x20, 1].iter().chain(&[0; 14]));
        let field = attr(0x80, 14, &v);
        let a = Attrs::parse(&field, 4, false);
        assert_eq!(a.announce[2][1].unwrap().next_hop_len, 16);
        assert!(a.has_mp_reach());
    }

    #[test]
    fn community_text_is_capped_like_bgpdump() {
        let value: Vec<u8> = (0..2000u32)
            .flat_map(|_| 0xfde8_fde8u32.to_be_bytes())
            .collect();
        let mut out = Vec::new();
        push_communities(&value, &mut out);
        // " 65000:65000" is 12 characters; 8191 of them fit, less the first.
        assert_eq!(out.len(), 8190);
    }
}
