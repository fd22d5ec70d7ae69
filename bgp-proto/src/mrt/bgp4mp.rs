//! `BGP4MP` and `BGP4MP_ET` records (RFC 6396 s4.4, RFC 8050 s3): BGP
//! messages as a collector saw them, and FSM state changes.
//!
//! Both start with the peering: peer AS, local AS (2 or 4 octets by
//! subtype), interface index, address family, then peer and local address
//! (4 or 16 octets by family). A message record then holds one whole BGP
//! message, marker included, which this module does not decode;
//! [`Bgp4mpMessage::context`] says how to decode it.

use super::bgp4mp_subtype as b;
use super::error::Malformed;
use super::wire::{self, Res};
use crate::afi::{Afi, Family};
use crate::context::SessionContext;
use crate::header::HEADER_LEN as BGP_HEADER_LEN;
use nom::number::complete::{be_u16, be_u32};
use std::net::IpAddr;

/// BGP FSM states as MRT records them (RFC 6396 s4.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum BgpState {
    /// Idle.
    Idle = 1,
    /// Connect.
    Connect = 2,
    /// Active.
    Active = 3,
    /// OpenSent.
    OpenSent = 4,
    /// OpenConfirm.
    OpenConfirm = 5,
    /// Established.
    Established = 6,
}

impl BgpState {
    /// The state for a recorded value; `None` for values outside RFC 6396
    /// (Quagga, for one, also records 7 "Clearing" and 8 "Deleted").
    pub fn from_u16(v: u16) -> Option<Self> {
        Some(match v {
            1 => Self::Idle,
            2 => Self::Connect,
            3 => Self::Active,
            4 => Self::OpenSent,
            5 => Self::OpenConfirm,
            6 => Self::Established,
            _ => return None,
        })
    }

    /// The name RFC 4271 uses.
    pub fn name(self) -> &'static str {
        match self {
            Self::Idle => "Idle",
            Self::Connect => "Connect",
            Self::Active => "Active",
            Self::OpenSent => "OpenSent",
            Self::OpenConfirm => "OpenConfirm",
            Self::Established => "Established",
        }
    }
}

/// The fields both record kinds start with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Peering {
    peer_as: u32,
    local_as: u32,
    interface_index: u16,
    afi: Afi,
    peer_ip: IpAddr,
    local_ip: IpAddr,
}

/// Parses the peering fields; an address family other than IPv4 or IPv6 is a
/// failure.
fn peering(input: &[u8], as4: bool) -> Res<'_, Peering> {
    let asn = |i| -> Res<'_, u32> {
        if as4 {
            be_u32(i)
        } else {
            let (i, a) = be_u16(i)?;
            Ok((i, u32::from(a)))
        }
    };
    let (input, peer_as) = asn(input)?;
    let (input, local_as) = asn(input)?;
    let (input, interface_index) = be_u16(input)?;
    let afi_at = input;
    let (input, afi) = be_u16(input)?;
    let v6 = match Afi(afi) {
        Afi::IPV4 => false,
        Afi::IPV6 => true,
        _ => return wire::invalid(afi_at),
    };
    let (input, peer_ip) = wire::ip(input, v6)?;
    let (input, local_ip) = wire::ip(input, v6)?;
    Ok((
        input,
        Peering {
            peer_as,
            local_as,
            interface_index,
            afi: Afi(afi),
            peer_ip,
            local_ip,
        },
    ))
}

/// Whether a subtype carries 4-octet AS numbers.
fn is_as4(subtype: u16) -> bool {
    matches!(
        subtype,
        b::MESSAGE_AS4
            | b::STATE_CHANGE_AS4
            | b::MESSAGE_AS4_LOCAL
            | b::MESSAGE_AS4_ADDPATH
            | b::MESSAGE_AS4_LOCAL_ADDPATH
    )
}

/// A validated `BGP4MP` message record (`MESSAGE`, `MESSAGE_AS4`, the
/// `_LOCAL` and the RFC 8050 `_ADDPATH` forms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bgp4mpMessage<'a> {
    subtype: u16,
    peering: Peering,
    message: &'a [u8],
}

impl<'a> Bgp4mpMessage<'a> {
    /// Validates a body of a message subtype: the peering fields, an IPv4 or
    /// IPv6 address family, and at least a BGP header's worth of message.
    /// The message itself is not looked into.
    pub fn new_checked(subtype: u16, body: &'a [u8]) -> Result<Self, Malformed> {
        if !matches!(
            subtype,
            b::MESSAGE
                | b::MESSAGE_AS4
                | b::MESSAGE_LOCAL
                | b::MESSAGE_AS4_LOCAL
                | b::MESSAGE_ADDPATH..=b::MESSAGE_AS4_LOCAL_ADDPATH
        ) {
            return Err(Malformed("BGP4MP: not a message subtype"));
        }
        let (message, peering) = peering(body, is_as4(subtype)).map_err(wire::malformed(
            "BGP4MP message: body ends inside the peer and local fields",
            "BGP4MP message: address family is neither IPv4 nor IPv6",
        ))?;
        if message.len() < BGP_HEADER_LEN {
            return Err(Malformed(
                "BGP4MP message: fewer than 19 octets of BGP message",
            ));
        }
        Ok(Self {
            subtype,
            peering,
            message,
        })
    }

    /// The subtype.
    pub fn subtype(&self) -> u16 {
        self.subtype
    }

    /// Whether AS numbers (here and in the message's AS_PATH) have 4 octets.
    pub fn is_as4(&self) -> bool {
        is_as4(self.subtype)
    }

    /// Whether the collector itself sent the message (`_LOCAL` subtypes).
    pub fn is_local(&self) -> bool {
        matches!(
            self.subtype,
            b::MESSAGE_LOCAL
                | b::MESSAGE_AS4_LOCAL
                | b::MESSAGE_LOCAL_ADDPATH
                | b::MESSAGE_AS4_LOCAL_ADDPATH
        )
    }

    /// Whether the session negotiated ADD-PATH (RFC 8050 subtypes).
    pub fn is_add_path(&self) -> bool {
        (b::MESSAGE_ADDPATH..=b::MESSAGE_AS4_LOCAL_ADDPATH).contains(&self.subtype)
    }

    /// The peer's AS number.
    pub fn peer_as(&self) -> u32 {
        self.peering.peer_as
    }

    /// The collector's AS number.
    pub fn local_as(&self) -> u32 {
        self.peering.local_as
    }

    /// Interface index (normally 0).
    pub fn interface_index(&self) -> u16 {
        self.peering.interface_index
    }

    /// Address family of the two addresses (IPv4 or IPv6).
    pub fn afi(&self) -> Afi {
        self.peering.afi
    }

    /// The peer's address.
    pub fn peer_ip(&self) -> IpAddr {
        self.peering.peer_ip
    }

    /// The collector's address.
    pub fn local_ip(&self) -> IpAddr {
        self.peering.local_ip
    }

    /// The whole BGP message, marker and header included, undecoded.
    pub fn message(&self) -> &'a [u8] {
        self.message
    }

    /// How to decode [`message`](Self::message): 4-octet AS numbers for the
    /// AS4 subtypes (RFC 6396 s4.4.3), path identifiers in the NLRI of every
    /// decoded family for the `_ADDPATH` subtypes (RFC 8050 s3), and the
    /// extended length allowed, since a recorded message may exceed 4096
    /// octets.
    pub fn context(&self) -> SessionContext {
        let mut ctx = SessionContext::classic();
        ctx.four_octet_as = self.is_as4();
        ctx.extended_message = true;
        if self.is_add_path() {
            for family in Family::DECODED {
                ctx.set_add_path(family, true);
            }
        }
        ctx
    }
}

/// A validated `BGP4MP` state change record (`STATE_CHANGE` or
/// `STATE_CHANGE_AS4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bgp4mpStateChange {
    subtype: u16,
    peering: Peering,
    old_state: u16,
    new_state: u16,
}

impl Bgp4mpStateChange {
    /// Validates a body of a state change subtype: the peering fields, an
    /// IPv4 or IPv6 address family, the two states, nothing after them.
    pub fn new_checked(subtype: u16, body: &[u8]) -> Result<Self, Malformed> {
        if !matches!(subtype, b::STATE_CHANGE | b::STATE_CHANGE_AS4) {
            return Err(Malformed("BGP4MP: not a state change subtype"));
        }
        let parse = |i| -> Res<'_, (Peering, u16, u16)> {
            let (i, p) = peering(i, is_as4(subtype))?;
            let (i, old) = be_u16(i)?;
            let (i, new) = be_u16(i)?;
            Ok((i, (p, old, new)))
        };
        let (rest, (peering, old_state, new_state)) = parse(body).map_err(wire::malformed(
            "BGP4MP state change: body ends early",
            "BGP4MP state change: address family is neither IPv4 nor IPv6",
        ))?;
        if !rest.is_empty() {
            return Err(Malformed("BGP4MP state change: octets after the new state"));
        }
        Ok(Self {
            subtype,
            peering,
            old_state,
            new_state,
        })
    }

    /// The subtype.
    pub fn subtype(&self) -> u16 {
        self.subtype
    }

    /// Whether AS numbers have 4 octets.
    pub fn is_as4(&self) -> bool {
        is_as4(self.subtype)
    }

    /// The peer's AS number.
    pub fn peer_as(&self) -> u32 {
        self.peering.peer_as
    }

    /// The collector's AS number.
    pub fn local_as(&self) -> u32 {
        self.peering.local_as
    }

    /// Interface index (normally 0).
    pub fn interface_index(&self) -> u16 {
        self.peering.interface_index
    }

    /// Address family of the two addresses.
    pub fn afi(&self) -> Afi {
        self.peering.afi
    }

    /// The peer's address.
    pub fn peer_ip(&self) -> IpAddr {
        self.peering.peer_ip
    }

    /// The collector's address.
    pub fn local_ip(&self) -> IpAddr {
        self.peering.local_ip
    }

    /// The state left, as recorded ([`BgpState::from_u16`] names it).
    pub fn old_state(&self) -> u16 {
        self.old_state
    }

    /// The state entered.
    pub fn new_state(&self) -> u16 {
        self.new_state
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const KEEPALIVE: [u8; 19] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0, 19, 4,
    ];

    /// Peering fields.
    pub(crate) fn peering_octets(as4: bool, v6: bool) -> Vec<u8> {
        let mut b = Vec::new();
        if as4 {
            b.extend_from_slice(&4_200_000_001u32.to_be_bytes());
            b.extend_from_slice(&65_550u32.to_be_bytes());
        } else {
            b.extend_from_slice(&64_501u16.to_be_bytes());
            b.extend_from_slice(&64_502u16.to_be_bytes());
        }
        b.extend_from_slice(&7u16.to_be_bytes());
        if v6 {
            b.extend_from_slice(&2u16.to_be_bytes());
            let mut a = [0u8; 16];
            a[..4].copy_from_slice(&[0x20, 1, 0xd, 0xb8]);
            a[15] = 1;
            b.extend_from_slice(&a);
            a[15] = 2;
            b.extend_from_slice(&a);
        } else {
            b.extend_from_slice(&1u16.to_be_bytes());
            b.extend_from_slice(&[192, 0, 2, 1, 192, 0, 2, 2]);
        }
        b
    }

    #[test]
    fn every_message_subtype() {
        for sub in [1u16, 4, 6, 7, 8, 9, 10, 11] {
            for v6 in [false, true] {
                let as4 = matches!(sub, 4 | 7 | 9 | 11);
                let mut body = peering_octets(as4, v6);
                body.extend_from_slice(&KEEPALIVE);
                let m = Bgp4mpMessage::new_checked(sub, &body).unwrap();
                assert_eq!(m.subtype(), sub);
                assert_eq!(m.is_as4(), as4);
                assert_eq!(m.is_local(), matches!(sub, 6 | 7 | 10 | 11));
                assert_eq!(m.is_add_path(), sub >= 8);
                let (pa, la) = if as4 {
                    (4_200_000_001, 65_550)
                } else {
                    (64_501, 64_502)
                };
                assert_eq!(
                    (m.peer_as(), m.local_as(), m.interface_index()),
                    (pa, la, 7)
                );
                assert_eq!(m.afi(), if v6 { Afi::IPV6 } else { Afi::IPV4 });
                let (p, l) = if v6 {
                    ("2001:db8::1", "2001:db8::2")
                } else {
                    ("192.0.2.1", "192.0.2.2")
                };
                assert_eq!(m.peer_ip().to_string(), p);
                assert_eq!(m.local_ip().to_string(), l);
                assert_eq!(m.message(), &KEEPALIVE);
                let ctx = m.context();
                assert_eq!(ctx.four_octet_as, as4);
                assert!(ctx.extended_message && !ctx.mrt_rib_entry);
                for f in Family::DECODED {
                    assert_eq!(ctx.add_path(f), sub >= 8);
                }
                // Misused as a state change subtype.
                assert!(Bgp4mpStateChange::new_checked(sub, &body).is_err());
            }
        }
    }

    #[test]
    fn message_malformations() {
        let mut body = peering_octets(true, false);
        let fixed = body.len();
        body.extend_from_slice(&KEEPALIVE);
        for cut in 0..body.len() {
            let e = Bgp4mpMessage::new_checked(4, &body[..cut]).unwrap_err();
            let want = if cut < fixed {
                "BGP4MP message: body ends inside the peer and local fields"
            } else {
                "BGP4MP message: fewer than 19 octets of BGP message"
            };
            assert_eq!(e.0, want, "{cut}");
        }
        body[10..12].copy_from_slice(&3u16.to_be_bytes());
        assert_eq!(
            Bgp4mpMessage::new_checked(4, &body).unwrap_err().0,
            "BGP4MP message: address family is neither IPv4 nor IPv6"
        );
        assert!(Bgp4mpMessage::new_checked(0, &body).is_err());
        assert!(Bgp4mpMessage::new_checked(2, &body).is_err());
    }

    #[test]
    fn state_changes() {
        for (sub, as4) in [(0u16, false), (5, true)] {
            for v6 in [false, true] {
                let mut body = peering_octets(as4, v6);
                body.extend_from_slice(&[0, 1, 0, 6]);
                let s = Bgp4mpStateChange::new_checked(sub, &body).unwrap();
                assert_eq!((s.subtype(), s.is_as4()), (sub, as4));
                assert_eq!((s.old_state(), s.new_state()), (1, 6));
                assert_eq!(s.interface_index(), 7);
                assert_eq!(s.afi(), if v6 { Afi::IPV6 } else { Afi::IPV4 });
                assert_eq!(s.peer_as(), if as4 { 4_200_000_001 } else { 64_501 });
                assert_eq!(s.local_as(), if as4 { 65_550 } else { 64_502 });
                assert_eq!(s.peer_ip().is_ipv6(), v6);
                assert_eq!(s.local_ip().is_ipv6(), v6);
                for cut in 0..body.len() {
                    assert!(Bgp4mpStateChange::new_checked(sub, &body[..cut]).is_err());
                }
                let mut long = body.clone();
                long.push(0);
                assert_eq!(
                    Bgp4mpStateChange::new_checked(sub, &long).unwrap_err().0,
                    "BGP4MP state change: octets after the new state"
                );
                assert!(Bgp4mpMessage::new_checked(sub, &body).is_err());
            }
        }
        let mut body = peering_octets(false, false);
        body[6..8].copy_from_slice(&0u16.to_be_bytes());
        body.extend_from_slice(&[0, 1, 0, 2]);
        assert_eq!(
            Bgp4mpStateChange::new_checked(0, &body).unwrap_err().0,
            "BGP4MP state change: address family is neither IPv4 nor IPv6"
        );
    }

    #[test]
    fn state_names() {
        assert_eq!(
            BgpState::from_u16(6).map(BgpState::name),
            Some("Established")
        );
        assert_eq!(BgpState::from_u16(7), None);
        assert_eq!(BgpState::from_u16(0), None);
        for v in 1..=6 {
            assert_eq!(BgpState::from_u16(v).unwrap() as u16, v);
        }
    }
}
