//! MP_REACH_NLRI and MP_UNREACH_NLRI (RFC 4760), with the IPv6 global +
//! link-local next hop (RFC 2545) and IPv6 next hops for IPv4 routes
//! (RFC 8950), plus the abbreviated MP_REACH_NLRI of MRT RIB entries
//! (RFC 6396 s4.3.4: next hop length and next hop only).
//!
//! NLRI of the families in [`Family::DECODED`] iterate as [`Nlri`]; others
//! (VPN, flowspec, EVPN, ...) are kept as raw octets.

use crate::afi::{Afi, Family, Safi};
use crate::context::SessionContext;
use crate::nlri::{self, NlriIter};
use core::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Why an MP attribute is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MpError {
    /// Shorter than its fixed fields.
    TooShort,
    /// The next hop length overruns the attribute.
    NextHopOverrun,
    /// The next hop length does not fit the address family.
    NextHopLength,
    /// The NLRI do not parse for the family.
    Nlri,
}

impl MpError {
    /// Reason text for logs.
    pub fn reason(self) -> &'static str {
        match self {
            Self::TooShort => "MP attribute shorter than its fixed fields",
            Self::NextHopOverrun => "MP_REACH_NLRI next hop overruns the attribute",
            Self::NextHopLength => "MP_REACH_NLRI next hop length wrong for the family",
            Self::Nlri => "MP attribute NLRI malformed",
        }
    }
}

/// A next hop as MP_REACH_NLRI carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextHop<'a> {
    /// An IPv4 address.
    V4(Ipv4Addr),
    /// An IPv6 global address, with a link-local one when 32 octets were sent.
    V6 {
        /// Global address.
        global: Ipv6Addr,
        /// Link-local address (RFC 2545 s3).
        link_local: Option<Ipv6Addr>,
    },
    /// Any other form (VPN next hops with route distinguisher, ...), raw.
    Other(&'a [u8]),
}

impl NextHop<'_> {
    /// Interprets next-hop octets by their length.
    pub fn from_bytes(b: &[u8]) -> NextHop<'_> {
        let v6 =
            |s: &[u8]| -> Option<Ipv6Addr> { Some(Ipv6Addr::from(<[u8; 16]>::try_from(s).ok()?)) };
        match b.len() {
            4 => match <[u8; 4]>::try_from(b) {
                Ok(a) => NextHop::V4(Ipv4Addr::from(a)),
                Err(_) => NextHop::Other(b),
            },
            16 => v6(b).map_or(NextHop::Other(b), |global| NextHop::V6 {
                global,
                link_local: None,
            }),
            32 => match (v6(&b[..16]), v6(&b[16..])) {
                (Some(global), Some(ll)) => NextHop::V6 {
                    global,
                    link_local: Some(ll),
                },
                _ => NextHop::Other(b),
            },
            _ => NextHop::Other(b),
        }
    }
}

impl fmt::Display for NextHop<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NextHop::V4(a) => write!(f, "{a}"),
            NextHop::V6 {
                global,
                link_local: None,
            } => write!(f, "{global}"),
            NextHop::V6 {
                global,
                link_local: Some(ll),
            } => write!(f, "{global} {ll}"),
            NextHop::Other(b) => {
                for x in *b {
                    write!(f, "{x:02x}")?;
                }
                Ok(())
            }
        }
    }
}

/// Whether `len` is a legal next hop length for a decoded `family`.
fn next_hop_len_ok(family: Family, len: usize) -> bool {
    match family.afi {
        // RFC 8950 lets IPv4 routes carry IPv6 next hops.
        Afi::IPV4 => matches!(len, 4 | 16 | 32),
        Afi::IPV6 => matches!(len, 16 | 32),
        _ => true,
    }
}

fn family_of(b: &[u8]) -> Option<Family> {
    match b {
        [a0, a1, s, ..] => Some(Family::new(Afi(u16::from_be_bytes([*a0, *a1])), Safi(*s))),
        _ => None,
    }
}

/// A view over an MP_REACH_NLRI value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpReach<'a> {
    family: Family,
    next_hop: &'a [u8],
    nlri: &'a [u8],
    add_path: bool,
}

impl<'a> MpReach<'a> {
    /// Validates the value: fixed fields, next hop length for the family, and
    /// (for decoded families) every NLRI. In an MRT RIB entry context the
    /// abbreviated form is accepted; its family is inferred from the next hop
    /// length (4: IPv4, 16 or 32: IPv6) with SAFI unicast.
    pub fn new_checked(value: &'a [u8], ctx: &SessionContext) -> Result<Self, MpError> {
        Self::parse(value, ctx, true)
    }

    /// A view trusting an earlier successful [`new_checked`](Self::new_checked)
    /// with the same context: the fields are located but the NLRI are not
    /// walked. On other input it yields what it can and never panics.
    pub fn new_unchecked(value: &'a [u8], ctx: &SessionContext) -> Self {
        Self::parse(value, ctx, false)
            .unwrap_or_else(|_| Self::empty(family_of(value).unwrap_or(Family::IPV4_UNICAST)))
    }

    fn parse(value: &'a [u8], ctx: &SessionContext, validate: bool) -> Result<Self, MpError> {
        if ctx.mrt_rib_entry {
            if let [nh_len, nh @ ..] = value {
                if usize::from(*nh_len) == nh.len() {
                    let afi = if nh.len() == 4 { Afi::IPV4 } else { Afi::IPV6 };
                    return Ok(Self {
                        family: Family::new(afi, Safi::UNICAST),
                        next_hop: nh,
                        nlri: &[],
                        add_path: false,
                    });
                }
            }
        }
        let family = family_of(value).ok_or(MpError::TooShort)?;
        let [_, _, _, nh_len, rest @ ..] = value else {
            return Err(MpError::TooShort);
        };
        let nh_len = usize::from(*nh_len);
        let next_hop = rest.get(..nh_len).ok_or(MpError::NextHopOverrun)?;
        // One reserved octet (the old SNPA count) follows the next hop.
        let nlri = rest.get(nh_len + 1..).ok_or(MpError::TooShort)?;
        let add_path = ctx.add_path(family);
        if validate && family.index().is_some() {
            if !next_hop_len_ok(family, nh_len) {
                return Err(MpError::NextHopLength);
            }
            nlri::check(nlri, family.afi == Afi::IPV6, add_path).map_err(|_| MpError::Nlri)?;
        }
        Ok(Self {
            family,
            next_hop,
            nlri,
            add_path,
        })
    }

    fn empty(family: Family) -> Self {
        Self {
            family,
            next_hop: &[],
            nlri: &[],
            add_path: false,
        }
    }

    /// AFI/SAFI of the routes.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The next hop octets.
    pub fn next_hop_bytes(&self) -> &'a [u8] {
        self.next_hop
    }

    /// The next hop, interpreted by its length.
    pub fn next_hop(&self) -> NextHop<'a> {
        NextHop::from_bytes(self.next_hop)
    }

    /// The NLRI octets.
    pub fn nlri_bytes(&self) -> &'a [u8] {
        self.nlri
    }

    /// Whether the NLRI carry path identifiers.
    pub fn add_path(&self) -> bool {
        self.add_path
    }

    /// The routes, for decoded families (empty for others: see [`nlri_bytes`](Self::nlri_bytes)).
    pub fn nlri(&self) -> NlriIter<'a> {
        if self.family.index().is_some() {
            NlriIter::new(self.nlri, self.family.afi == Afi::IPV6, self.add_path)
        } else {
            NlriIter::empty()
        }
    }
}

/// A view over an MP_UNREACH_NLRI value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpUnreach<'a> {
    family: Family,
    withdrawn: &'a [u8],
    add_path: bool,
}

impl<'a> MpUnreach<'a> {
    /// Validates the value: AFI, SAFI and (for decoded families) every NLRI.
    pub fn new_checked(value: &'a [u8], ctx: &SessionContext) -> Result<Self, MpError> {
        let family = family_of(value).ok_or(MpError::TooShort)?;
        let withdrawn = value.get(3..).unwrap_or_default();
        let add_path = ctx.add_path(family);
        if family.index().is_some() {
            nlri::check(withdrawn, family.afi == Afi::IPV6, add_path).map_err(|_| MpError::Nlri)?;
        }
        Ok(Self {
            family,
            withdrawn,
            add_path,
        })
    }

    /// A view trusting an earlier successful [`new_checked`](Self::new_checked).
    pub fn new_unchecked(value: &'a [u8], ctx: &SessionContext) -> Self {
        let family = family_of(value).unwrap_or(Family::IPV4_UNICAST);
        Self {
            family,
            withdrawn: value.get(3..).unwrap_or_default(),
            add_path: ctx.add_path(family),
        }
    }

    /// AFI/SAFI of the withdrawn routes.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The withdrawn NLRI octets.
    pub fn withdrawn_bytes(&self) -> &'a [u8] {
        self.withdrawn
    }

    /// Whether the NLRI carry path identifiers.
    pub fn add_path(&self) -> bool {
        self.add_path
    }

    /// The withdrawn routes, for decoded families.
    pub fn withdrawn(&self) -> NlriIter<'a> {
        if self.family.index().is_some() {
            NlriIter::new(self.withdrawn, self.family.afi == Afi::IPV6, self.add_path)
        } else {
            NlriIter::empty()
        }
    }

    /// Whether this attribute alone is the End-of-RIB marker for its family
    /// (RFC 4724 s2: no withdrawn routes).
    pub fn is_empty(&self) -> bool {
        self.withdrawn.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_reach_with_link_local() {
        let mut v = vec![0, 2, 1, 32];
        v.extend_from_slice(&"fd00::1".parse::<Ipv6Addr>().unwrap().octets());
        v.extend_from_slice(&"fe80::1".parse::<Ipv6Addr>().unwrap().octets());
        v.push(0);
        v.extend_from_slice(&[
            128, 0xfd, 0x47, 0x25, 0xe1, 0x2f, 0x96, 0, 0x51, 1, 0, 0, 0, 0, 0, 0, 5,
        ]);
        let m = MpReach::new_checked(&v, &SessionContext::modern()).unwrap();
        assert_eq!(m.family(), Family::IPV6_UNICAST);
        assert_eq!(m.next_hop().to_string(), "fd00::1 fe80::1");
        let n: Vec<_> = m.nlri().collect();
        assert_eq!(n[0].prefix.to_string(), "fd47:25e1:2f96:51:100::5/128");
    }

    #[test]
    fn ipv4_routes_over_ipv6_next_hop() {
        let mut v = vec![0, 1, 1, 16];
        v.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        v.extend_from_slice(&[0, 32, 172, 29, 52, 200]);
        let m = MpReach::new_checked(&v, &SessionContext::modern()).unwrap();
        assert_eq!(m.next_hop().to_string(), "2001:db8::1");
        assert_eq!(
            m.nlri().next().unwrap().prefix.to_string(),
            "172.29.52.200/32"
        );
    }

    #[test]
    fn malformed_reach() {
        let ctx = SessionContext::modern();
        assert_eq!(
            MpReach::new_checked(&[0, 2, 1], &ctx),
            Err(MpError::TooShort)
        );
        assert_eq!(
            MpReach::new_checked(&[0, 2, 1, 16, 0], &ctx),
            Err(MpError::NextHopOverrun)
        );
        assert_eq!(
            MpReach::new_checked(&[0, 2, 1, 4, 1, 2, 3, 4, 0], &ctx),
            Err(MpError::NextHopLength)
        );
        assert_eq!(
            MpReach::new_checked(&[0, 1, 1, 4, 1, 2, 3, 4, 0, 33, 1, 1, 1, 1, 1], &ctx),
            Err(MpError::Nlri)
        );
        // Unknown family: next hop and NLRI kept raw.
        let m = MpReach::new_checked(&[0, 1, 128, 3, 9, 9, 9, 0, 7, 7], &ctx).unwrap();
        assert_eq!(m.nlri_bytes(), &[7, 7]);
        assert_eq!(m.nlri().count(), 0);
    }

    #[test]
    fn abbreviated_form_in_mrt_rib_entries() {
        let mut ctx = SessionContext::modern();
        let mut v = vec![16];
        v.extend_from_slice(&"2001:668:0:4::2".parse::<Ipv6Addr>().unwrap().octets());
        // Outside MRT the same octets read as an (undecoded) AFI 0x1020.
        let full = MpReach::new_checked(&v, &ctx).unwrap();
        assert_eq!(full.family().index(), None);
        ctx.mrt_rib_entry = true;
        let m = MpReach::new_checked(&v, &ctx).unwrap();
        assert_eq!(m.next_hop().to_string(), "2001:668:0:4::2");
        assert_eq!(m.family(), Family::IPV6_UNICAST);
    }

    #[test]
    fn unreach_and_eor() {
        let ctx = SessionContext::modern().with_add_path(Family::IPV6_UNICAST);
        let e = MpUnreach::new_checked(&[0, 2, 1], &ctx).unwrap();
        assert!(e.is_empty());
        let w = MpUnreach::new_checked(&[0, 2, 1, 0, 0, 0, 1, 8, 0xfd], &ctx).unwrap();
        let n: Vec<_> = w.withdrawn().collect();
        assert_eq!(
            (n[0].path_id, n[0].prefix.to_string()),
            (Some(1), "fd00::/8".into())
        );
        assert_eq!(
            MpUnreach::new_checked(&[0, 2], &ctx),
            Err(MpError::TooShort)
        );
    }
}
