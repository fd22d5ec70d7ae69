//! What a route looks like once replayed: the attribute and next-hop rules
//! of `--prepend-as`, `--origin-as`, `--next-hop`, `--next-hop6` and of eBGP
//! versus iBGP (see the long help in the parent module for the user's view).
//!
//! The result is an owned, type-ordered attribute list without NEXT_HOP,
//! MP_REACH_NLRI, MP_UNREACH_NLRI, AS4_PATH and AS4_AGGREGATOR: the encoder
//! writes the first three per message and the last two only for a peer
//! without 4-octet AS support.

use bgp_proto::attr::{
    flags, Aggregator, AsPath, AsPathRepr, Attribute, AttributeRepr, SegmentRepr, SegmentType,
    AS_TRANS,
};
use bgp_proto::{Afi, Family};
use std::net::{Ipv4Addr, Ipv6Addr};

/// LOCAL_PREF added to routes sent over iBGP that have none (RFC 4271
/// s5.1.5: it is mandatory toward internal peers); 100 is the common
/// default.
pub(crate) const DEFAULT_LOCAL_PREF: u32 = 100;

/// The rewriting rules of one replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rewrite {
    /// The session is eBGP (`--local-as` differs from `--remote-as`).
    pub ebgp: bool,
    /// AS prepended to every path.
    pub prepend: Option<u32>,
    /// AS that replaces the origin (last) AS of every path.
    pub origin_as: Option<u32>,
    /// `--next-hop`.
    pub next_hop4: Option<Ipv4Addr>,
    /// `--next-hop6`.
    pub next_hop6: Option<Ipv6Addr>,
}

/// Where a route's next hop comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum NextHopPlan {
    /// The session's next hop for the family: `--next-hop`/`--next-hop6`,
    /// else the local address, known once connected.
    Session,
    /// The recorded next hop, as recorded (4 octets for IPv4 routes, 16 or
    /// 32 for IPv6 ones).
    Keep(Box<[u8]>),
}

/// A route's attributes after rewriting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rewritten {
    /// Sorted by type code; no NEXT_HOP, MP_*, AS4_*.
    pub attrs: Vec<AttributeRepr>,
    /// The recorded NEXT_HOP, if any.
    pub next_hop: Option<Ipv4Addr>,
    /// The AS_PATH holds AS 0: RFC 7607 s2 forbids propagating the route,
    /// and a receiver treats it as withdrawn.
    pub as0: bool,
    /// The recorded AS_PATH held AS 0 (which made bgp-proto call the
    /// UPDATE treat-as-withdraw), whether or not rewriting removed it.
    pub recorded_as0: bool,
}

impl Rewrite {
    /// Rewrites the attributes of one route or UPDATE. `four_octet_as` says
    /// how they were recorded: with 2-octet AS numbers, AS4_PATH and
    /// AS4_AGGREGATOR are merged in as RFC 6793 s4.2.3 says.
    pub fn attributes<'a>(
        &self,
        attrs: impl Iterator<Item = Attribute<'a>>,
        four_octet_as: bool,
    ) -> Rewritten {
        let mut out = Vec::with_capacity(8);
        let mut path: Option<AsPath<'a>> = None;
        let mut as4_path: Option<AsPath<'a>> = None;
        let mut aggregator: Option<Aggregator> = None;
        let mut as4_aggregator: Option<Aggregator> = None;
        let mut next_hop = None;
        let mut local_pref = false;
        for a in attrs {
            match a {
                Attribute::AsPath(p) => path = Some(p),
                // RFC 7607: an AS_PATH with AS 0 makes the UPDATE
                // treat-as-withdraw and comes as Invalid; its segments are
                // still well formed.
                Attribute::Invalid(raw) if raw.type_code == bgp_proto::attr::type_code::AS_PATH => {
                    let asn_len = if four_octet_as { 4 } else { 2 };
                    path = AsPath::new_checked(raw.value, asn_len).ok();
                }
                Attribute::As4Path(p) => as4_path = Some(p),
                Attribute::Aggregator(g) => aggregator = Some(g),
                Attribute::As4Aggregator(g) => as4_aggregator = Some(g),
                Attribute::NextHop(n) => next_hop = Some(n),
                Attribute::MpReach(_) | Attribute::MpUnreach(_) => {}
                // Attributes that stay inside an AS (RFC 4271 s5.1.5, RFC 4456 s8).
                Attribute::LocalPref(_)
                | Attribute::OriginatorId(_)
                | Attribute::ClusterList(_)
                    if self.ebgp => {}
                Attribute::Unknown(raw) | Attribute::Invalid(raw) => {
                    // RFC 4271 s5: an unrecognised optional transitive
                    // attribute is passed on with Partial set; a
                    // non-transitive one is not passed on.
                    if raw.is_optional() && raw.is_transitive() {
                        out.push(AttributeRepr::Unknown {
                            flags: (raw.flags | flags::PARTIAL) & !flags::EXTENDED_LENGTH,
                            type_code: raw.type_code,
                            value: raw.value.to_vec(),
                        });
                    }
                }
                other => {
                    local_pref |= matches!(other, Attribute::LocalPref(_));
                    out.push(AttributeRepr::parse(&other));
                }
            }
        }
        let recorded_as0 = path.is_some_and(|p| p.asns().any(|a| a == 0));
        let mut path_repr = path.as_ref().map(AsPathRepr::parse).unwrap_or_default();
        if !four_octet_as {
            // RFC 6793 s4.2.3: an AGGREGATOR with a real 2-octet AS means
            // an OLD speaker aggregated, and the AS4 attributes are stale.
            let stale = aggregator.is_some_and(|g| g.asn != AS_TRANS) && as4_aggregator.is_some();
            if !stale {
                if let (Some(g), Some(g4)) = (aggregator.as_mut(), as4_aggregator) {
                    *g = g4;
                }
                if let (Some(p), Some(p4)) = (path.as_ref(), as4_path.as_ref()) {
                    path_repr = AsPathRepr::reconcile(p, p4);
                }
            }
        }
        let path = self.as_path(path_repr);
        let as0 = path.segments.iter().any(|s| s.asns.contains(&0));
        out.push(AttributeRepr::AsPath(path));
        // RFC 7607 s2: AS 0 must not be propagated in AGGREGATOR either; a
        // receiver only logs it, so the route goes without the attribute.
        if let Some(g) = aggregator.filter(|g| g.asn != 0) {
            out.push(AttributeRepr::Aggregator(g));
        }
        if !self.ebgp && !local_pref {
            out.push(AttributeRepr::LocalPref(DEFAULT_LOCAL_PREF));
        }
        out.sort_by_key(AttributeRepr::type_code);
        Rewritten {
            attrs: out,
            next_hop,
            as0,
            recorded_as0,
        }
    }

    /// The AS_PATH sent: confederation segments removed on eBGP (RFC 5065
    /// s4.1), the origin AS replaced (`--origin-as`), then the prepend.
    pub fn as_path(&self, mut p: AsPathRepr) -> AsPathRepr {
        if self.ebgp {
            p.segments.retain(|s| !s.seg_type.is_confed());
        }
        if let Some(origin) = self.origin_as {
            set_origin(&mut p, origin);
        }
        if let Some(asn) = self.prepend {
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
        }
        p
    }

    /// Where the next hop of a route of `family` comes from, given the
    /// recorded one; `None` when the recorded one cannot be sent as it is
    /// and nothing replaces it.
    pub fn next_hop(&self, family: Family, recorded: Option<&[u8]>) -> Option<NextHopPlan> {
        let (given, usable): (bool, fn(usize) -> bool) = match family.afi {
            Afi::IPV4 => (self.next_hop4.is_some(), |n| n == 4),
            Afi::IPV6 => (self.next_hop6.is_some(), |n| n == 16 || n == 32),
            _ => return None,
        };
        if given || self.ebgp {
            return Some(NextHopPlan::Session);
        }
        recorded
            .filter(|r| usable(r.len()))
            .map(|r| NextHopPlan::Keep(r.into()))
    }
}

/// Makes `origin` the last AS of the path: it replaces the last AS of a
/// final AS_SEQUENCE, takes the place of a final AS_SET (an aggregate has
/// no single origin), and is the whole path when the path is empty.
fn set_origin(p: &mut AsPathRepr, origin: u32) {
    match p.segments.last().map(|s| s.seg_type) {
        Some(SegmentType::Sequence) => {
            if let Some(last) = p.segments.last_mut().and_then(|s| s.asns.last_mut()) {
                *last = origin;
            }
            return;
        }
        Some(SegmentType::Set) => {
            p.segments.pop();
        }
        _ => {}
    }
    match p.segments.last_mut() {
        Some(s) if s.seg_type == SegmentType::Sequence => s.asns.push(origin),
        _ => p.segments.push(SegmentRepr {
            seg_type: SegmentType::Sequence,
            asns: vec![origin],
        }),
    }
}
