//! Owned path attributes: built by hand or parsed from a view, emitted with
//! canonical flags (extended length exactly when the value needs it).

use super::{
    expected_flags, flags, type_code, Aggregator, AsPathRepr, Attribute, Community,
    ExtendedCommunity, LargeCommunity, Origin,
};
use crate::afi::Family;
use crate::context::SessionContext;
use crate::header::EncodeError;
use crate::nlri::{self, Nlri};
use std::net::Ipv4Addr;

/// An owned MP_REACH_NLRI.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MpReachRepr {
    /// AFI/SAFI.
    pub family: Family,
    /// Next hop octets (4, 16 or 32 for the decoded families).
    pub next_hop: Vec<u8>,
    /// Routes, for decoded families.
    pub nlri: Vec<Nlri>,
    /// NLRI octets for families this codec does not decode.
    pub other_nlri: Vec<u8>,
}

/// An owned MP_UNREACH_NLRI.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MpUnreachRepr {
    /// AFI/SAFI.
    pub family: Family,
    /// Withdrawn routes, for decoded families.
    pub withdrawn: Vec<Nlri>,
    /// Withdrawn NLRI octets for families this codec does not decode.
    pub other_withdrawn: Vec<u8>,
}

/// An owned path attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AttributeRepr {
    /// ORIGIN.
    Origin(Origin),
    /// AS_PATH.
    AsPath(AsPathRepr),
    /// NEXT_HOP.
    NextHop(Ipv4Addr),
    /// MULTI_EXIT_DISC.
    MultiExitDisc(u32),
    /// LOCAL_PREF.
    LocalPref(u32),
    /// ATOMIC_AGGREGATE.
    AtomicAggregate,
    /// AGGREGATOR.
    Aggregator(Aggregator),
    /// COMMUNITIES.
    Communities(Vec<Community>),
    /// ORIGINATOR_ID.
    OriginatorId(Ipv4Addr),
    /// CLUSTER_LIST.
    ClusterList(Vec<Ipv4Addr>),
    /// MP_REACH_NLRI.
    MpReach(MpReachRepr),
    /// MP_UNREACH_NLRI.
    MpUnreach(MpUnreachRepr),
    /// EXTENDED COMMUNITIES.
    ExtendedCommunities(Vec<ExtendedCommunity>),
    /// AS4_PATH.
    As4Path(AsPathRepr),
    /// AS4_AGGREGATOR.
    As4Aggregator(Aggregator),
    /// LARGE_COMMUNITY.
    LargeCommunities(Vec<LargeCommunity>),
    /// Only to Customer.
    Otc(u32),
    /// Any other attribute, raw. `flags` never has the extended-length bit:
    /// emit sets it when the value needs it.
    Unknown {
        /// Flags (optional, transitive, partial).
        flags: u8,
        /// Type code.
        type_code: u8,
        /// Value.
        value: Vec<u8>,
    },
}

impl AttributeRepr {
    /// The owned form of a typed view (an [`Attribute::Invalid`] one is kept
    /// as [`AttributeRepr::Unknown`] with its octets).
    pub fn parse(a: &Attribute<'_>) -> Self {
        match a {
            Attribute::Origin(o) => Self::Origin(*o),
            Attribute::AsPath(p) => Self::AsPath(AsPathRepr::parse(p)),
            Attribute::NextHop(n) => Self::NextHop(*n),
            Attribute::MultiExitDisc(m) => Self::MultiExitDisc(*m),
            Attribute::LocalPref(l) => Self::LocalPref(*l),
            Attribute::AtomicAggregate => Self::AtomicAggregate,
            Attribute::Aggregator(g) => Self::Aggregator(*g),
            Attribute::Communities(c) => Self::Communities(c.iter().collect()),
            Attribute::OriginatorId(o) => Self::OriginatorId(*o),
            Attribute::ClusterList(c) => Self::ClusterList(c.iter().collect()),
            Attribute::MpReach(m) => Self::MpReach(MpReachRepr {
                family: m.family(),
                next_hop: m.next_hop_bytes().to_vec(),
                nlri: m.nlri().collect(),
                other_nlri: if m.family().index().is_some() {
                    Vec::new()
                } else {
                    m.nlri_bytes().to_vec()
                },
            }),
            Attribute::MpUnreach(m) => Self::MpUnreach(MpUnreachRepr {
                family: m.family(),
                withdrawn: m.withdrawn().collect(),
                other_withdrawn: if m.family().index().is_some() {
                    Vec::new()
                } else {
                    m.withdrawn_bytes().to_vec()
                },
            }),
            Attribute::ExtendedCommunities(c) => Self::ExtendedCommunities(c.iter().collect()),
            Attribute::As4Path(p) => Self::As4Path(AsPathRepr::parse(p)),
            Attribute::As4Aggregator(g) => Self::As4Aggregator(*g),
            Attribute::LargeCommunities(c) => Self::LargeCommunities(c.iter().collect()),
            Attribute::Otc(o) => Self::Otc(*o),
            Attribute::Unknown(r) | Attribute::Invalid(r) => Self::Unknown {
                flags: r.flags & !flags::EXTENDED_LENGTH,
                type_code: r.type_code,
                value: r.value.to_vec(),
            },
        }
    }

    /// The attribute type code.
    pub fn type_code(&self) -> u8 {
        use type_code::*;
        match self {
            Self::Origin(_) => ORIGIN,
            Self::AsPath(_) => AS_PATH,
            Self::NextHop(_) => NEXT_HOP,
            Self::MultiExitDisc(_) => MULTI_EXIT_DISC,
            Self::LocalPref(_) => LOCAL_PREF,
            Self::AtomicAggregate => ATOMIC_AGGREGATE,
            Self::Aggregator(_) => AGGREGATOR,
            Self::Communities(_) => COMMUNITIES,
            Self::OriginatorId(_) => ORIGINATOR_ID,
            Self::ClusterList(_) => CLUSTER_LIST,
            Self::MpReach(_) => MP_REACH_NLRI,
            Self::MpUnreach(_) => MP_UNREACH_NLRI,
            Self::ExtendedCommunities(_) => EXTENDED_COMMUNITIES,
            Self::As4Path(_) => AS4_PATH,
            Self::As4Aggregator(_) => AS4_AGGREGATOR,
            Self::LargeCommunities(_) => LARGE_COMMUNITIES,
            Self::Otc(_) => OTC,
            Self::Unknown { type_code, .. } => *type_code,
        }
    }

    fn emit_value(&self, ctx: &SessionContext, out: &mut Vec<u8>) {
        let aggregator = |g: &Aggregator, asn_len: usize, out: &mut Vec<u8>| {
            if asn_len == 2 {
                let short = u16::try_from(g.asn).unwrap_or(super::AS_TRANS as u16);
                out.extend_from_slice(&short.to_be_bytes());
            } else {
                out.extend_from_slice(&g.asn.to_be_bytes());
            }
            out.extend_from_slice(&g.address.octets());
        };
        match self {
            Self::Origin(o) => out.push(*o as u8),
            Self::AsPath(p) => p.emit(ctx.asn_len(), out),
            Self::NextHop(a) | Self::OriginatorId(a) => out.extend_from_slice(&a.octets()),
            Self::MultiExitDisc(v) | Self::LocalPref(v) | Self::Otc(v) => {
                out.extend_from_slice(&v.to_be_bytes())
            }
            Self::AtomicAggregate => {}
            Self::Aggregator(g) => aggregator(g, ctx.asn_len(), out),
            Self::As4Aggregator(g) => aggregator(g, 4, out),
            Self::Communities(c) => c
                .iter()
                .for_each(|c| out.extend_from_slice(&c.0.to_be_bytes())),
            Self::ClusterList(c) => c.iter().for_each(|a| out.extend_from_slice(&a.octets())),
            Self::ExtendedCommunities(c) => c.iter().for_each(|c| out.extend_from_slice(&c.0)),
            Self::LargeCommunities(c) => c.iter().for_each(|c| {
                for x in [c.global, c.local1, c.local2] {
                    out.extend_from_slice(&x.to_be_bytes());
                }
            }),
            Self::As4Path(p) => p.emit(4, out),
            Self::MpReach(m) => {
                out.extend_from_slice(&m.family.afi.0.to_be_bytes());
                out.push(m.family.safi.0);
                out.push(m.next_hop.len() as u8);
                out.extend_from_slice(&m.next_hop);
                out.push(0);
                let ap = ctx.add_path(m.family);
                m.nlri.iter().for_each(|n| nlri::emit(n, ap, out));
                out.extend_from_slice(&m.other_nlri);
            }
            Self::MpUnreach(m) => {
                out.extend_from_slice(&m.family.afi.0.to_be_bytes());
                out.push(m.family.safi.0);
                let ap = ctx.add_path(m.family);
                m.withdrawn.iter().for_each(|n| nlri::emit(n, ap, out));
                out.extend_from_slice(&m.other_withdrawn);
            }
            Self::Unknown { value, .. } => out.extend_from_slice(value),
        }
    }

    /// Appends the attribute (flags, type, length, value) encoded for `ctx`.
    pub fn emit(&self, ctx: &SessionContext, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let t = self.type_code();
        let base = match self {
            Self::Unknown { flags: f, .. } => f & !flags::EXTENDED_LENGTH,
            _ => expected_flags(t).unwrap_or(flags::OPTIONAL),
        };
        if let Self::MpReach(m) = self {
            if m.next_hop.len() > 255 {
                return Err(EncodeError::FieldTooLong("MP_REACH_NLRI next hop"));
            }
        }
        let start = out.len();
        // Reserve the long form, then shrink if the value fits one octet.
        out.extend_from_slice(&[base | flags::EXTENDED_LENGTH, t, 0, 0]);
        self.emit_value(ctx, out);
        let len = out.len() - start - 4;
        if len > usize::from(u16::MAX) {
            out.truncate(start);
            return Err(EncodeError::FieldTooLong("path attribute value"));
        }
        if len <= 255 {
            out[start] = base;
            out[start + 2] = len as u8;
            out.remove(start + 3);
        } else {
            out[start + 2..start + 4].copy_from_slice(&(len as u16).to_be_bytes());
        }
        Ok(())
    }

    /// An MP_REACH_NLRI for IPv4 or IPv6 routes with a plain next hop.
    pub fn mp_reach(family: Family, next_hop: std::net::IpAddr, nlri: Vec<Nlri>) -> Self {
        let next_hop = match next_hop {
            std::net::IpAddr::V4(a) => a.octets().to_vec(),
            std::net::IpAddr::V6(a) => a.octets().to_vec(),
        };
        Self::MpReach(MpReachRepr {
            family,
            next_hop,
            nlri,
            other_nlri: Vec::new(),
        })
    }

    /// An MP_UNREACH_NLRI (empty: the End-of-RIB marker of `family`).
    pub fn mp_unreach(family: Family, withdrawn: Vec<Nlri>) -> Self {
        Self::MpUnreach(MpUnreachRepr {
            family,
            withdrawn,
            other_withdrawn: Vec::new(),
        })
    }
}
