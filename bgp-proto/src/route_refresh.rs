//! ROUTE-REFRESH messages (RFC 2918) with the Message Subtype of Enhanced
//! Route Refresh (RFC 7313).
//!
//! The body is 4 octets: AFI (2), Message Subtype (1, "Reserved" in RFC 2918)
//! and SAFI (1). Subtype 0 asks the peer to re-advertise a family; 1 (BoRR)
//! and 2 (EoRR) bracket such a re-advertisement. A message with any other
//! subtype is valid on the wire but MUST be ignored by its receiver (RFC 7313
//! s5): the view reports it as [`Subtype::Unknown`] and
//! [`RouteRefresh::must_ignore`] says so.
//!
//! [`RouteRefresh::new_checked`] validates the length once; a wrong length is
//! a ROUTE-REFRESH Message Error for BoRR/EoRR and a Bad Message Length
//! otherwise. Outbound-route-filter entries (RFC 5291), which would lengthen
//! a subtype-0 message, are not supported and so rejected as a bad length.

use crate::afi::{Afi, Family, Safi};
use crate::codes::RouteRefreshSubcode;
use crate::context::MAX_MESSAGE_LEN;
use crate::error::Error;
use crate::header::{self, EncodeError, MessageType, HEADER_LEN, MARKER};
use nom::number::complete::{be_u16, be_u8};
use nom::IResult;

/// Octets in a ROUTE-REFRESH body.
pub const BODY_LEN: usize = 4;
/// Octets in a whole ROUTE-REFRESH message.
pub const ROUTE_REFRESH_LEN: usize = HEADER_LEN + BODY_LEN;

/// Offset of the Message Subtype octet in the body.
const SUBTYPE_OFFSET: usize = 2;

/// Message Subtype (RFC 7313 s3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subtype {
    /// 0: normal route refresh request (RFC 2918).
    NormalRequest,
    /// 1: demarcation of the beginning of a route refresh (BoRR).
    BoRR,
    /// 2: demarcation of the ending of a route refresh (EoRR).
    EoRR,
    /// Any other value (255 is reserved, the rest unassigned): the message
    /// is to be ignored (RFC 7313 s5). Holds a value other than 0, 1 and 2
    /// when it comes from [`Subtype::from_u8`].
    Unknown(u8),
}

impl Subtype {
    /// The subtype for a wire value.
    pub fn from_u8(value: u8) -> Self {
        match value {
            0 => Self::NormalRequest,
            1 => Self::BoRR,
            2 => Self::EoRR,
            other => Self::Unknown(other),
        }
    }

    /// The wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            Self::NormalRequest => 0,
            Self::BoRR => 1,
            Self::EoRR => 2,
            Self::Unknown(v) => v,
        }
    }

    /// Whether a receiver must ignore a message with this subtype (RFC 7313
    /// s5: any value other than 0, 1 and 2).
    pub fn must_ignore(self) -> bool {
        !matches!(
            Self::from_u8(self.as_u8()),
            Self::NormalRequest | Self::BoRR | Self::EoRR
        )
    }

    /// Short name for logs (RFC 7313 terms).
    pub fn name(self) -> &'static str {
        match Self::from_u8(self.as_u8()) {
            Self::NormalRequest => "Request",
            Self::BoRR => "BoRR",
            Self::EoRR => "EoRR",
            Self::Unknown(_) => "Unknown",
        }
    }
}

impl core::fmt::Display for Subtype {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Unknown(v) => write!(f, "subtype {v}"),
            known => f.write_str(known.name()),
        }
    }
}

/// AFI, Message Subtype, SAFI.
fn fields(input: &[u8]) -> IResult<&[u8], (u16, u8, u8)> {
    let (input, afi) = be_u16(input)?;
    let (input, subtype) = be_u8(input)?;
    let (input, safi) = be_u8(input)?;
    Ok((input, (afi, subtype, safi)))
}

/// The whole message a body came in: the header is rebuilt from the body
/// length (saturating the Length field for impossible bodies).
fn whole_message(body: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(body.len().saturating_add(HEADER_LEN));
    msg.extend_from_slice(&MARKER);
    msg.extend_from_slice(&total_len(body).to_be_bytes());
    msg.push(MessageType::RouteRefresh as u8);
    msg.extend_from_slice(body);
    msg
}

/// Total message length for a body, as the 2-octet Length field carries it.
fn total_len(body: &[u8]) -> u16 {
    u16::try_from(body.len().saturating_add(HEADER_LEN)).unwrap_or(u16::MAX)
}

/// A validated ROUTE-REFRESH body, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteRefresh<'a> {
    body: &'a [u8],
    family: Family,
    subtype: Subtype,
}

impl<'a> RouteRefresh<'a> {
    /// Validates a ROUTE-REFRESH body (the octets after the 19-octet
    /// header), which must be exactly 4 octets. Otherwise:
    ///
    /// * subtype BoRR or EoRR: ROUTE-REFRESH Message Error / Invalid Message
    ///   Length whose data is the complete ROUTE-REFRESH message (RFC 7313
    ///   s5). The view sees only the body, so the 19-octet header is rebuilt
    ///   from it: all-ones marker, Length `body.len() + 19`, Type 5. This is
    ///   the header that carried the body, since framing took the body
    ///   length from it;
    /// * subtype 0, any other subtype, or a body too short to hold one:
    ///   Message Header Error / Bad Message Length with the message's total
    ///   length (`body.len() + 19`) in 2 octets as data (RFC 4271 s6.1).
    pub fn new_checked(body: &'a [u8]) -> Result<Self, Error> {
        match fields(body) {
            Ok(([], (afi, subtype, safi))) => Ok(Self {
                body,
                family: Family::new(Afi(afi), Safi(safi)),
                subtype: Subtype::from_u8(subtype),
            }),
            _ => Err(Self::length_error(body)),
        }
    }

    /// The error for a body whose length is not 4.
    fn length_error(body: &[u8]) -> Error {
        match body.get(SUBTYPE_OFFSET).copied().map(Subtype::from_u8) {
            Some(Subtype::BoRR | Subtype::EoRR) => Error::route_refresh(
                RouteRefreshSubcode::InvalidMessageLength,
                &whole_message(body),
                "BoRR/EoRR ROUTE-REFRESH body is not 4 octets",
            ),
            _ => Error::bad_length(total_len(body), "ROUTE-REFRESH body is not 4 octets"),
        }
    }

    /// Address Family Identifier.
    pub fn afi(&self) -> Afi {
        self.family.afi
    }

    /// Subsequent Address Family Identifier.
    pub fn safi(&self) -> Safi {
        self.family.safi
    }

    /// AFI and SAFI together.
    pub fn family(&self) -> Family {
        self.family
    }

    /// Message Subtype.
    pub fn subtype(&self) -> Subtype {
        self.subtype
    }

    /// Whether the receiver must ignore this message because its subtype is
    /// none of 0, 1, 2 (RFC 7313 s5).
    pub fn must_ignore(&self) -> bool {
        self.subtype.must_ignore()
    }

    /// The 4 octets of the body.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.body
    }
}

/// An owned ROUTE-REFRESH, to build and emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteRefreshRepr {
    /// The family to refresh.
    pub family: Family,
    /// Message Subtype.
    pub subtype: Subtype,
}

impl RouteRefreshRepr {
    /// A normal route refresh request for `family` (RFC 2918).
    pub fn request(family: Family) -> Self {
        Self {
            family,
            subtype: Subtype::NormalRequest,
        }
    }

    /// Beginning of Route Refresh for `family` (RFC 7313 s4).
    pub fn borr(family: Family) -> Self {
        Self {
            family,
            subtype: Subtype::BoRR,
        }
    }

    /// End of Route Refresh for `family` (RFC 7313 s4).
    pub fn eorr(family: Family) -> Self {
        Self {
            family,
            subtype: Subtype::EoRR,
        }
    }

    /// The owned form of a validated view.
    pub fn parse(view: &RouteRefresh<'_>) -> Self {
        Self {
            family: view.family(),
            subtype: view.subtype(),
        }
    }

    /// Writes the whole message (23 octets), header included.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        header::emit_message(out, MessageType::RouteRefresh, MAX_MESSAGE_LEN, |o| {
            self.emit_body(o)
        })
    }

    /// Appends the body: AFI, Message Subtype, SAFI.
    pub fn emit_body(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.reserve(BODY_LEN);
        out.extend_from_slice(&self.family.afi.0.to_be_bytes());
        out.push(self.subtype.as_u8());
        out.push(self.family.safi.0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::{ErrorCode, MessageHeaderSubcode};
    use crate::header::Header;
    use proptest::prelude::*;

    #[test]
    fn parses_each_subtype() {
        let r = RouteRefresh::new_checked(&[0, 1, 0, 1]).unwrap();
        assert_eq!(r.family(), Family::IPV4_UNICAST);
        assert_eq!(r.afi(), Afi::IPV4);
        assert_eq!(r.safi(), Safi::UNICAST);
        assert_eq!(r.subtype(), Subtype::NormalRequest);
        assert!(!r.must_ignore());
        assert_eq!(r.as_bytes(), &[0, 1, 0, 1]);

        let r = RouteRefresh::new_checked(&[0, 2, 1, 1]).unwrap();
        assert_eq!(r.family(), Family::IPV6_UNICAST);
        assert_eq!(r.subtype(), Subtype::BoRR);
        let r = RouteRefresh::new_checked(&[0, 2, 2, 2]).unwrap();
        assert_eq!(r.family(), Family::IPV6_MULTICAST);
        assert_eq!(r.subtype(), Subtype::EoRR);
        assert!(!r.must_ignore());
    }

    #[test]
    fn unknown_subtype_is_to_be_ignored() {
        for v in [3u8, 128, 255] {
            let body = [0, 1, v, 1];
            let r = RouteRefresh::new_checked(&body).unwrap();
            assert_eq!(r.subtype(), Subtype::Unknown(v));
            assert!(r.must_ignore());
            assert_eq!(r.subtype().to_string(), format!("subtype {v}"));
        }
        assert_eq!(Subtype::BoRR.to_string(), "BoRR");
        // A non-canonical Unknown still answers by its wire value.
        assert!(!Subtype::Unknown(1).must_ignore());
    }

    #[test]
    fn borr_eorr_bad_length_is_route_refresh_error() {
        let body = [0, 1, 1, 1, 0];
        let e = RouteRefresh::new_checked(&body).unwrap_err();
        assert_eq!(e.code, ErrorCode::RouteRefreshMessage);
        assert_eq!(e.subcode, RouteRefreshSubcode::InvalidMessageLength.as_u8());
        let mut want = vec![0xff; 16];
        want.extend_from_slice(&[0, 24, 5, 0, 1, 1, 1, 0]);
        assert_eq!(e.data, want);
        // The rebuilt message passes the header check it originally passed.
        let h = Header::new_checked(&e.data, 4096).unwrap();
        assert_eq!(h.length(), e.data.len());

        let e = RouteRefresh::new_checked(&[0, 2, 2]).unwrap_err();
        assert_eq!(e.code, ErrorCode::RouteRefreshMessage);
        let mut want = vec![0xff; 16];
        want.extend_from_slice(&[0, 22, 5, 0, 2, 2]);
        assert_eq!(e.data, want);
    }

    #[test]
    fn other_bad_length_is_bad_message_length() {
        for (body, total) in [
            (&[][..], 19u16),
            (&[0, 1][..], 21),
            (&[0, 1, 0][..], 22),
            (&[0, 1, 0, 1, 9][..], 24),
            (&[0, 1, 7, 1, 9, 9][..], 25),
        ] {
            let e = RouteRefresh::new_checked(body).unwrap_err();
            assert_eq!(e.code, ErrorCode::MessageHeader, "{body:?}");
            assert_eq!(e.subcode, MessageHeaderSubcode::BadMessageLength.as_u8());
            assert_eq!(e.data, total.to_be_bytes().to_vec());
        }
    }

    #[test]
    fn emits_whole_message() {
        let mut out = Vec::new();
        RouteRefreshRepr::borr(Family::IPV6_UNICAST)
            .emit(&mut out)
            .unwrap();
        let mut want = vec![0xff; 16];
        want.extend_from_slice(&[0, 23, 5, 0, 2, 1, 1]);
        assert_eq!(out, want);
        assert_eq!(out.len(), ROUTE_REFRESH_LEN);

        let mut body = Vec::new();
        RouteRefreshRepr::request(Family::IPV4_UNICAST)
            .emit_body(&mut body)
            .unwrap();
        assert_eq!(body, vec![0, 1, 0, 1]);
        let mut body = Vec::new();
        RouteRefreshRepr::eorr(Family::IPV4_MULTICAST)
            .emit_body(&mut body)
            .unwrap();
        assert_eq!(body, vec![0, 1, 2, 2]);
    }

    fn any_repr() -> impl Strategy<Value = RouteRefreshRepr> {
        (any::<u16>(), any::<u8>(), any::<u8>()).prop_map(|(afi, subtype, safi)| RouteRefreshRepr {
            family: Family::new(Afi(afi), Safi(safi)),
            subtype: Subtype::from_u8(subtype),
        })
    }

    proptest! {
        #[test]
        fn round_trip(r in any_repr()) {
            let mut out = Vec::new();
            r.emit(&mut out).unwrap();
            let h = Header::new_checked(&out, 4096).unwrap();
            prop_assert_eq!(h.msg_type(), MessageType::RouteRefresh);
            prop_assert_eq!(h.length(), ROUTE_REFRESH_LEN);
            let v = RouteRefresh::new_checked(&out[HEADER_LEN..]).unwrap();
            prop_assert_eq!(RouteRefreshRepr::parse(&v), r);
        }

        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            match RouteRefresh::new_checked(&b) {
                Ok(v) => {
                    prop_assert_eq!(b.len(), BODY_LEN);
                    let _ = (v.afi(), v.safi(), v.family(), v.as_bytes());
                    let _ = (v.subtype().to_string(), v.subtype().name());
                    prop_assert_eq!(v.must_ignore(), b[2] > 2);
                    let _ = RouteRefreshRepr::parse(&v);
                }
                Err(e) => {
                    prop_assert!(b.len() != BODY_LEN);
                    if e.code == ErrorCode::RouteRefreshMessage {
                        prop_assert_eq!(e.data.len(), b.len() + HEADER_LEN);
                        prop_assert_eq!(&e.data[HEADER_LEN..], &b[..]);
                    } else {
                        prop_assert_eq!(e.code, ErrorCode::MessageHeader);
                    }
                }
            }
        }
    }
}
