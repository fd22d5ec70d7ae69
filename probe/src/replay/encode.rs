//! Packing a plan into UPDATE messages, written straight into large
//! buffers.
//!
//! Every [`AttrSet`] is encoded once per session (its octets are cached)
//! with the places where NEXT_HOP and the MP attributes go, so that each
//! message is: header, withdrawn routes, the cached attributes with the
//! per-message NEXT_HOP / MP_REACH_NLRI / MP_UNREACH_NLRI spliced in at
//! their type-code positions (RFC 4271 s5: ascending order), and the NLRI.
//! Prefixes are packed until the next one would pass the message size
//! limit. Messages accumulate in a buffer handed over in chunks of at least
//! [`CHUNK`] octets, always whole messages, so that a KEEPALIVE written
//! between two chunks never lands inside an UPDATE.

use super::plan::{Plan, UpdatePlan};
use super::rewrite::NextHopPlan;
use bgp_proto::attr::{type_code, AttributeRepr};
use bgp_proto::header::{HEADER_LEN, MARKER};
use bgp_proto::nlri::{self, Nlri};
use bgp_proto::{Afi, Family, SessionContext, UpdateRepr};
use std::sync::OnceLock;

/// Octets handed to the socket at a time (the last chunk may be shorter).
pub(crate) const CHUNK: usize = 256 * 1024;

/// Largest encoded NLRI (an IPv6 /128: length octet and 16 octets).
const MAX_NLRI_LEN: usize = 17;

/// Attribute flags octet of the MP attributes (optional, non-transitive).
const MP_FLAGS: u8 = 0x80;
/// The Extended Length flag.
const EXTENDED: u8 = 0x10;

/// Attributes shared by routes, as the plan keeps them: type-ordered,
/// without NEXT_HOP, MP_REACH_NLRI, MP_UNREACH_NLRI, AS4_PATH and
/// AS4_AGGREGATOR.
#[derive(Debug)]
pub(crate) struct AttrSet {
    /// The attributes.
    pub reprs: Vec<AttributeRepr>,
    /// Encoded for 2-octet (`[0]`) and 4-octet (`[1]`) AS sessions.
    encoded: [OnceLock<EncodedAttrs>; 2],
}

impl AttrSet {
    /// A set of rewritten attributes (already sorted by type code).
    pub fn new(reprs: Vec<AttributeRepr>) -> Self {
        Self {
            reprs,
            encoded: [OnceLock::new(), OnceLock::new()],
        }
    }

    /// The wire form for a session with or without 4-octet AS numbers.
    pub fn encoded(&self, four_octet_as: bool) -> &EncodedAttrs {
        self.encoded[usize::from(four_octet_as)]
            .get_or_init(|| EncodedAttrs::new(&self.reprs, four_octet_as))
    }
}

/// An attribute set on the wire, with the positions where the
/// per-message attributes go.
#[derive(Debug)]
pub(crate) struct EncodedAttrs {
    bytes: Vec<u8>,
    /// Before the first attribute whose type code exceeds NEXT_HOP's.
    next_hop_at: usize,
    /// Before the first attribute whose type code exceeds MP_UNREACH_NLRI's.
    mp_at: usize,
}

impl EncodedAttrs {
    fn new(reprs: &[AttributeRepr], four_octet_as: bool) -> Self {
        let ctx = if four_octet_as {
            SessionContext::modern()
        } else {
            SessionContext::classic()
        };
        let mut extra = Vec::new();
        if !four_octet_as {
            // RFC 6793 s4.2.2: toward an OLD speaker, AS numbers that do not
            // fit travel in AS4_PATH and AS4_AGGREGATOR.
            for a in reprs {
                match a {
                    AttributeRepr::AsPath(p)
                        if p.segments.iter().flat_map(|s| &s.asns).any(|&n| n > 0xffff) =>
                    {
                        let mut p4 = p.clone();
                        p4.segments.retain(|s| !s.seg_type.is_confed());
                        extra.push(AttributeRepr::As4Path(p4));
                    }
                    AttributeRepr::Aggregator(g) if g.asn > 0xffff => {
                        extra.push(AttributeRepr::As4Aggregator(*g));
                    }
                    _ => {}
                }
            }
        }
        let mut all: Vec<&AttributeRepr> = reprs.iter().chain(&extra).collect();
        all.sort_by_key(|a| a.type_code());
        let mut me = Self {
            bytes: Vec::with_capacity(64),
            next_hop_at: usize::MAX,
            mp_at: usize::MAX,
        };
        for a in all {
            let t = a.type_code();
            if t > type_code::NEXT_HOP && me.next_hop_at == usize::MAX {
                me.next_hop_at = me.bytes.len();
            }
            if t > type_code::MP_UNREACH_NLRI && me.mp_at == usize::MAX {
                me.mp_at = me.bytes.len();
            }
            // Only a value over 65535 octets fails, which no recorded
            // message can hold; such an attribute is left out.
            let _ = a.emit(&ctx, &mut me.bytes);
        }
        me.next_hop_at = me.next_hop_at.min(me.bytes.len());
        me.mp_at = me.mp_at.min(me.bytes.len());
        me
    }

    /// Octets of the encoded attributes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }
}

/// The negotiated parameters and resolved next hops the encoder needs.
#[derive(Debug, Clone)]
pub(crate) struct SendSettings {
    /// Both sides support 4-octet AS numbers.
    pub four_octet_as: bool,
    /// Largest message: 4096, or 65535 with extended messages.
    pub max_len: usize,
    /// Families negotiated (IPv4 and/or IPv6 unicast), in End-of-RIB order.
    pub families: Vec<Family>,
    /// The next hop of IPv4 routes whose plan says [`NextHopPlan::Session`].
    pub next_hop4: Option<[u8; 4]>,
    /// The next hop of IPv6 routes whose plan says [`NextHopPlan::Session`].
    pub next_hop6: Option<[u8; 16]>,
}

impl SendSettings {
    fn session_next_hop(&self, family: Family) -> Option<&[u8]> {
        match family.afi {
            Afi::IPV4 => self.next_hop4.as_ref().map(|a| &a[..]),
            _ => self.next_hop6.as_ref().map(|a| &a[..]),
        }
    }
}

/// What the encoder wrote and left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// UPDATE messages, End-of-RIB not counted.
    pub updates: u64,
    /// Prefixes announced.
    pub announced: u64,
    /// Prefixes withdrawn.
    pub withdrawn: u64,
    /// Prefixes of families the session did not negotiate.
    pub not_negotiated: u64,
    /// Prefixes whose attributes leave no room in a message.
    pub too_large: u64,
    /// Prefixes with no next hop to send (cannot happen after the checks
    /// made before connecting; counted to be safe).
    pub no_next_hop: u64,
}

/// Announcements of one family with a resolved next hop.
struct Reach<'p> {
    family: Family,
    next_hop: &'p [u8],
    nlri: &'p [Nlri],
}

/// Writes UPDATEs into a buffer.
pub(crate) struct Encoder<'s> {
    s: &'s SendSettings,
    out: Vec<u8>,
    counts: Counts,
}

impl<'s> Encoder<'s> {
    /// An encoder for one session.
    pub fn new(s: &'s SendSettings) -> Self {
        Self {
            s,
            out: Vec::with_capacity(CHUNK + 65536),
            counts: Counts::default(),
        }
    }

    /// What was written so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Octets waiting in the buffer.
    pub fn pending(&self) -> usize {
        self.out.len()
    }

    /// The buffered messages, leaving the buffer empty.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::replace(&mut self.out, Vec::with_capacity(CHUNK + 65536))
    }

    /// Appends the End-of-RIB marker of `family` (RFC 4724 s2).
    pub fn end_of_rib(&mut self, family: Family) {
        let ctx = SessionContext::modern();
        // An empty UPDATE or one empty MP_UNREACH_NLRI always fits.
        let _ = UpdateRepr::end_of_rib(family).emit(&ctx, &mut self.out);
    }

    fn negotiated(&self, f: Family) -> bool {
        self.s.families.contains(&f)
    }

    /// Appends one planned UPDATE: as one message when it fits (as the
    /// recorded one did), else withdrawals first, then the announcements
    /// packed into as few messages as the size limit allows.
    pub fn update(&mut self, u: &UpdatePlan) {
        let mut withdraw: Vec<(Family, &[Nlri])> = Vec::with_capacity(u.withdraw.len());
        for (f, list) in &u.withdraw {
            if self.negotiated(*f) {
                withdraw.push((*f, list));
            } else {
                self.counts.not_negotiated += list.len() as u64;
            }
        }
        let mut reach: Vec<Reach<'_>> = Vec::with_capacity(u.announce.len());
        for a in &u.announce {
            if !self.negotiated(a.family) {
                self.counts.not_negotiated += a.nlri.len() as u64;
                continue;
            }
            let next_hop = match &a.next_hop {
                NextHopPlan::Keep(b) => Some(&b[..]),
                NextHopPlan::Session => self.s.session_next_hop(a.family),
            };
            match next_hop {
                Some(next_hop) => reach.push(Reach {
                    family: a.family,
                    next_hop,
                    nlri: &a.nlri,
                }),
                None => self.counts.no_next_hop += a.nlri.len() as u64,
            }
        }
        let attrs = match (&u.attrs, reach.is_empty()) {
            (Some(a), false) => Some(a.encoded(self.s.four_octet_as)),
            _ => {
                reach.clear();
                None
            }
        };
        if withdraw.is_empty() && reach.is_empty() {
            return;
        }
        if let Some(size) = single_size(&withdraw, attrs, &reach) {
            if size <= self.s.max_len {
                let v4 = |f: &Family| *f == Family::IPV4_UNICAST;
                let withdrawn4 = withdraw
                    .iter()
                    .find(|(f, _)| v4(f))
                    .map_or(&[][..], |w| w.1);
                let unreach = withdraw.iter().find(|(f, _)| !v4(f)).copied();
                let nlri4 = reach.iter().find(|r| v4(&r.family));
                let mp = reach.iter().find(|r| !v4(&r.family));
                self.emit(withdrawn4, unreach, attrs, nlri4, mp);
                return;
            }
        }
        for (f, list) in withdraw {
            self.withdraw_packed(f, list);
        }
        if let Some(attrs) = attrs {
            for r in &reach {
                self.announce_packed(attrs, r);
            }
        }
    }

    fn withdraw_packed(&mut self, family: Family, list: &[Nlri]) {
        let v4 = family == Family::IPV4_UNICAST;
        // Header, the two length fields, and for MP an extended attribute
        // header with AFI and SAFI.
        let fixed = HEADER_LEN + 4 + if v4 { 0 } else { 4 + 3 };
        for part in pack(list, self.s.max_len - fixed) {
            if v4 {
                self.emit(part, None, None, None, None);
            } else {
                self.emit(&[], Some((family, part)), None, None, None);
            }
        }
    }

    fn announce_packed(&mut self, attrs: &EncodedAttrs, r: &Reach<'_>) {
        let v4 = r.family == Family::IPV4_UNICAST;
        let fixed = HEADER_LEN
            + 4
            + attrs.len()
            + if v4 {
                3 + 4
            } else {
                // Extended attribute header, AFI, SAFI, next hop length,
                // next hop, reserved octet.
                4 + 3 + 1 + r.next_hop.len() + 1
            };
        if fixed + MAX_NLRI_LEN > self.s.max_len {
            self.counts.too_large += r.nlri.len() as u64;
            return;
        }
        for part in pack(r.nlri, self.s.max_len - fixed) {
            let reach = Reach {
                family: r.family,
                next_hop: r.next_hop,
                nlri: part,
            };
            if v4 {
                self.emit(&[], None, Some(attrs), Some(&reach), None);
            } else {
                self.emit(&[], None, Some(attrs), None, Some(&reach));
            }
        }
    }

    /// Writes one UPDATE.
    fn emit(
        &mut self,
        withdrawn4: &[Nlri],
        unreach: Option<(Family, &[Nlri])>,
        attrs: Option<&EncodedAttrs>,
        nlri4: Option<&Reach<'_>>,
        mp: Option<&Reach<'_>>,
    ) {
        let out = &mut self.out;
        let start = out.len();
        out.extend_from_slice(&MARKER);
        out.extend_from_slice(&[0, 0, 2]);
        let wlen_at = out.len();
        out.extend_from_slice(&[0, 0]);
        for n in withdrawn4 {
            nlri::emit(n, false, out);
        }
        patch_u16(out, wlen_at);
        let alen_at = out.len();
        out.extend_from_slice(&[0, 0]);
        let (head, middle, tail) = match attrs {
            Some(a) => (
                &a.bytes[..a.next_hop_at],
                &a.bytes[a.next_hop_at..a.mp_at],
                &a.bytes[a.mp_at..],
            ),
            None => (&[][..], &[][..], &[][..]),
        };
        out.extend_from_slice(head);
        if let Some(r) = nlri4 {
            out.extend_from_slice(&[0x40, type_code::NEXT_HOP, 4]);
            out.extend_from_slice(r.next_hop);
        }
        out.extend_from_slice(middle);
        if let Some(r) = mp {
            let value = 3 + 1 + r.next_hop.len() + 1 + nlri_len(r.nlri);
            mp_header(out, type_code::MP_REACH_NLRI, value);
            out.extend_from_slice(&r.family.afi.0.to_be_bytes());
            out.push(r.family.safi.0);
            out.push(r.next_hop.len() as u8);
            out.extend_from_slice(r.next_hop);
            out.push(0);
            for n in r.nlri {
                nlri::emit(n, false, out);
            }
        }
        if let Some((family, list)) = unreach {
            mp_header(out, type_code::MP_UNREACH_NLRI, 3 + nlri_len(list));
            out.extend_from_slice(&family.afi.0.to_be_bytes());
            out.push(family.safi.0);
            for n in list {
                nlri::emit(n, false, out);
            }
        }
        out.extend_from_slice(tail);
        patch_u16(out, alen_at);
        if let Some(r) = nlri4 {
            for n in r.nlri {
                nlri::emit(n, false, out);
            }
        }
        let len = out.len() - start;
        debug_assert!(len <= self.s.max_len, "UPDATE of {len} octets");
        out[start + 16..start + 18].copy_from_slice(&(len as u16).to_be_bytes());
        let c = &mut self.counts;
        c.updates += 1;
        c.withdrawn += (withdrawn4.len() + unreach.map_or(0, |u| u.1.len())) as u64;
        c.announced += (nlri4.map_or(0, |r| r.nlri.len()) + mp.map_or(0, |r| r.nlri.len())) as u64;
    }
}

/// Encodes the plan (the UPDATEs of `families` only, or of every
/// negotiated family), then End-of-RIB for each of those families. `sink`
/// receives chunks of whole messages and returns false to stop early.
pub(crate) fn encode_plan(
    plan: &Plan,
    s: &SendSettings,
    families: &[Family],
    mut sink: impl FnMut(Vec<u8>) -> bool,
) -> Counts {
    let restricted;
    let s = if families == s.families.as_slice() {
        s
    } else {
        restricted = SendSettings {
            families: families.to_vec(),
            ..s.clone()
        };
        &restricted
    };
    let mut enc = Encoder::new(s);
    for u in &plan.updates {
        enc.update(u);
        if enc.pending() >= CHUNK && !sink(enc.take()) {
            return enc.counts();
        }
    }
    for f in &s.families {
        enc.end_of_rib(*f);
    }
    let counts = enc.counts();
    sink(enc.take());
    counts
}

/// The size of the UPDATE holding everything, if one UPDATE can: at most
/// one family per field (withdrawn routes, NLRI, MP_REACH, MP_UNREACH).
fn single_size(
    withdraw: &[(Family, &[Nlri])],
    attrs: Option<&EncodedAttrs>,
    reach: &[Reach<'_>],
) -> Option<usize> {
    let v4 = |f: Family| f == Family::IPV4_UNICAST;
    let w4 = withdraw.iter().filter(|w| v4(w.0)).count();
    let r4 = reach.iter().filter(|r| v4(r.family)).count();
    if w4 > 1 || withdraw.len() - w4 > 1 || r4 > 1 || reach.len() - r4 > 1 {
        return None;
    }
    let mut size = HEADER_LEN + 4 + attrs.map_or(0, EncodedAttrs::len);
    for (f, list) in withdraw {
        size += if v4(*f) {
            nlri_len(list)
        } else {
            mp_attr_len(3 + nlri_len(list))
        };
    }
    for r in reach {
        size += if v4(r.family) {
            3 + 4 + nlri_len(r.nlri)
        } else {
            mp_attr_len(3 + 1 + r.next_hop.len() + 1 + nlri_len(r.nlri))
        };
    }
    Some(size)
}

/// Splits `list` into runs whose encoding fits `budget` octets.
fn pack(list: &[Nlri], budget: usize) -> impl Iterator<Item = &[Nlri]> + '_ {
    let mut rest = list;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut used = 0;
        let mut k = 0;
        while k < rest.len() {
            let l = nlri::encoded_len(&rest[k], false);
            if used + l > budget && k > 0 {
                break;
            }
            used += l;
            k += 1;
        }
        let (now, later) = rest.split_at(k);
        rest = later;
        Some(now)
    })
}

fn nlri_len(list: &[Nlri]) -> usize {
    list.iter().map(|n| nlri::encoded_len(n, false)).sum()
}

/// An MP attribute of `value` octets with its header.
fn mp_attr_len(value: usize) -> usize {
    value + if value > 255 { 4 } else { 3 }
}

fn mp_header(out: &mut Vec<u8>, t: u8, value: usize) {
    if value > 255 {
        out.extend_from_slice(&[MP_FLAGS | EXTENDED, t]);
        out.extend_from_slice(&(value as u16).to_be_bytes());
    } else {
        out.extend_from_slice(&[MP_FLAGS, t, value as u8]);
    }
}

/// Writes the length of the field starting at `at` (its 2 length octets
/// excluded) into those octets.
fn patch_u16(out: &mut [u8], at: usize) {
    let len = (out.len() - at - 2) as u16;
    out[at..at + 2].copy_from_slice(&len.to_be_bytes());
}
