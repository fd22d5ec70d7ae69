//! The OPEN message (RFC 4271 s4.2), with capabilities (RFC 5492) and the
//! extended optional parameters length of RFC 9072.
//!
//! [`Open::new_checked`] validates a message body (the octets after the
//! 19-octet header) once, mapping each malformation to the NOTIFICATION
//! RFC 4271 s6.2 prescribes; after that no accessor can fail or panic, and the
//! iterators over optional parameters and capabilities borrow the message
//! and allocate nothing. Checks that depend on policy rather than on the
//! encoding (hold time, BGP Identifier, AS number) are in
//! [`Open::check_semantics`], which the session calls next. [`OpenRepr`] is
//! the owned form used to build an OPEN.

use crate::afi::Family;
use crate::capability::{
    self, AddPathFamily, Capability, CapabilityCode, CapabilityIter, CapabilityRepr,
    ExtendedNextHopEntry, Fqdn, GracefulRestart, LlgrFamily, Role, SoftwareVersion,
};
use crate::codes::{ErrorCode, OpenMessageSubcode};
use crate::context::MAX_MESSAGE_LEN;
use crate::error::Error;
use crate::header::{emit_message, EncodeError, MessageType, HEADER_LEN};
use core::fmt;
use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u32, be_u8};
use nom::{IResult, Parser};
use std::net::Ipv4Addr;

/// The only BGP version this codec speaks.
pub const BGP_VERSION: u8 = 4;
/// The 2-octet AS number a 4-octet AS speaker puts in My Autonomous System
/// when its AS does not fit (RFC 6793 s9).
pub const AS_TRANS: u16 = 23456;
/// Octets of the body before the optional parameters: Version, My
/// Autonomous System, Hold Time, BGP Identifier, Opt Parm Len.
pub const FIXED_LEN: usize = 10;
/// Optional Parameter Type of the Capabilities parameter (RFC 5492 s4).
pub const CAPABILITIES_PARAMETER: u8 = 2;
/// Optional Parameter Type 255, "Extended Length" (RFC 9072 s2): as the
/// first type it marks the extended encoding.
pub const EXTENDED_LENGTH_PARAMETER: u8 = 255;

/// Result of one of the nom parsers below.
type Res<'a, T> = IResult<&'a [u8], T>;

/// The fixed part of the body.
struct Fixed {
    version: u8,
    my_as: u16,
    hold_time: u16,
    bgp_identifier: u32,
    opt_len: u8,
}

fn fixed(input: &[u8]) -> Res<'_, Fixed> {
    let (input, version) = be_u8(input)?;
    let (input, my_as) = be_u16(input)?;
    let (input, hold_time) = be_u16(input)?;
    let (input, bgp_identifier) = be_u32(input)?;
    let (input, opt_len) = be_u8(input)?;
    let fixed = Fixed {
        version,
        my_as,
        hold_time,
        bgp_identifier,
        opt_len,
    };
    Ok((input, fixed))
}

/// Parses the RFC 9072 header that follows Non-Ext OP Len: Non-Ext OP Type
/// (255) and the 2-octet Extended Opt. Parm. Length, then takes that many
/// octets of optional parameters.
fn extended_parameters(input: &[u8]) -> Res<'_, &[u8]> {
    let (input, _marker) = be_u8(input)?;
    let (input, len) = be_u16(input)?;
    take(usize::from(len)).parse(input)
}

/// Parses one optional parameter: type, length (1 octet, or 2 in the
/// RFC 9072 encoding), value.
fn parameter(input: &[u8], extended: bool) -> Res<'_, OptionalParameter<'_>> {
    let (input, param_type) = be_u8(input)?;
    let (input, len) = if extended {
        be_u16(input)?
    } else {
        let (input, len) = be_u8(input)?;
        (input, u16::from(len))
    };
    let (input, value) = take(usize::from(len)).parse(input)?;
    Ok((input, OptionalParameter { param_type, value }))
}

/// OPEN Message Error with subcode 0, Unspecific (RFC 4271 s6.2: an optional
/// parameter that is recognized but malformed).
fn malformed(reason: &'static str) -> Error {
    Error::session_reset(ErrorCode::OpenMessage, 0, &[], reason)
}

/// One optional parameter (RFC 4271 s4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionalParameter<'a> {
    /// Parm. Type.
    pub param_type: u8,
    /// Parameter Value.
    pub value: &'a [u8],
}

impl<'a> OptionalParameter<'a> {
    /// The capabilities of a Capabilities parameter (type 2); nothing for
    /// any other type.
    pub fn capabilities(&self) -> CapabilityIter<'a> {
        if self.param_type == CAPABILITIES_PARAMETER {
            CapabilityIter::new(self.value)
        } else {
            CapabilityIter::empty()
        }
    }
}

/// Iterator over the optional parameters of a validated OPEN.
#[derive(Debug, Clone)]
pub struct Parameters<'a> {
    buf: &'a [u8],
    extended: bool,
}

impl<'a> Iterator for Parameters<'a> {
    type Item = OptionalParameter<'a>;

    fn next(&mut self) -> Option<OptionalParameter<'a>> {
        if self.buf.is_empty() {
            return None;
        }
        match parameter(self.buf, self.extended) {
            Ok((rest, param)) => {
                self.buf = rest;
                Some(param)
            }
            Err(_) => {
                self.buf = &[];
                None
            }
        }
    }
}

/// Iterator over every capability of every Capabilities parameter, in
/// order (one parameter may hold several capabilities, RFC 5492 s4).
#[derive(Debug, Clone)]
pub struct Capabilities<'a> {
    params: Parameters<'a>,
    current: CapabilityIter<'a>,
}

impl<'a> Iterator for Capabilities<'a> {
    type Item = Capability<'a>;

    fn next(&mut self) -> Option<Capability<'a>> {
        loop {
            if let Some(cap) = self.current.next() {
                return Some(cap);
            }
            self.current = self.params.next()?.capabilities();
        }
    }
}

/// A validated OPEN message body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Open<'a> {
    body: &'a [u8],
    version: u8,
    my_as: u16,
    hold_time: u16,
    bgp_identifier: Ipv4Addr,
    params: &'a [u8],
    extended: bool,
}

impl<'a> Open<'a> {
    /// Validates an OPEN body (the octets after the header):
    ///
    /// - fewer than 10 octets: Message Header Error / Bad Message Length,
    ///   data the 2-octet message length (RFC 4271 s6.1; the header check
    ///   normally catches this first);
    /// - Version other than 4: OPEN Message Error / Unsupported Version
    ///   Number, data the 2-octet largest supported version, 4 (s6.2);
    /// - optional parameters whose lengths disagree with each other or with
    ///   the body, in either encoding (RFC 4271 s4.2, RFC 9072 s2), or a
    ///   Capabilities parameter holding a truncated capability or a known
    ///   capability of the wrong length (RFC 5492 s4): OPEN Message Error /
    ///   0 (Unspecific), as s6.2 asks for a recognized but malformed
    ///   optional parameter;
    /// - an optional parameter of a type other than Capabilities (2): OPEN
    ///   Message Error / Unsupported Optional Parameter, no data (s6.2).
    ///
    /// The encoding of RFC 9072 is recognized when Non-Ext OP Len is not 0
    /// and the octet after it (Non-Ext OP Type) is 255; Non-Ext OP Len is then
    /// ignored, as RFC 9072 s2 specifies.
    pub fn new_checked(body: &'a [u8]) -> Result<Self, Error> {
        let Ok((rest, f)) = fixed(body) else {
            let total = u16::try_from(body.len().saturating_add(HEADER_LEN)).unwrap_or(u16::MAX);
            return Err(Error::bad_length(total, "OPEN body shorter than 10 octets"));
        };
        if f.version != BGP_VERSION {
            return Err(Error::open(
                OpenMessageSubcode::UnsupportedVersionNumber,
                &u16::from(BGP_VERSION).to_be_bytes(),
                "BGP version is not 4",
            ));
        }
        let (params, extended) =
            if f.opt_len != 0 && rest.first() == Some(&EXTENDED_LENGTH_PARAMETER) {
                let Ok((tail, params)) = extended_parameters(rest) else {
                    return Err(malformed(
                        "extended optional parameters run past the message",
                    ));
                };
                if !tail.is_empty() {
                    return Err(malformed("octets after the extended optional parameters"));
                }
                (params, true)
            } else if rest.len() == usize::from(f.opt_len) {
                (rest, false)
            } else {
                return Err(malformed(
                    "optional parameters length disagrees with the message length",
                ));
            };
        check_parameters(params, extended)?;
        Ok(Self {
            body,
            version: f.version,
            my_as: f.my_as,
            hold_time: f.hold_time,
            bgp_identifier: Ipv4Addr::from(f.bgp_identifier),
            params,
            extended,
        })
    }

    /// Checks the fields whose acceptability is not a matter of encoding,
    /// in the order RFC 4271 s6.2 lists them:
    ///
    /// - AS number 0, in My Autonomous System or in the 4-octet AS
    ///   capability: Bad Peer AS (RFC 7607 s2);
    /// - Hold Time of 1 or 2 seconds: Unacceptable Hold Time (RFC 4271
    ///   s4.2 and s6.2: it MUST be 0 or at least 3);
    /// - BGP Identifier 0.0.0.0: Bad BGP Identifier (RFC 6286 s2.2, which
    ///   only requires a non-zero value).
    ///
    /// Comparing the AS with the configured one, the identifier with the
    /// local one and the hold time with local policy is the session's job.
    pub fn check_semantics(&self) -> Result<(), Error> {
        if self.my_as == 0 || self.four_octet_as() == Some(0) {
            return Err(Error::open(
                OpenMessageSubcode::BadPeerAs,
                &[],
                "peer AS is 0",
            ));
        }
        if matches!(self.hold_time, 1 | 2) {
            return Err(Error::open(
                OpenMessageSubcode::UnacceptableHoldTime,
                &[],
                "hold time of 1 or 2 seconds",
            ));
        }
        if self.bgp_identifier.is_unspecified() {
            return Err(Error::open(
                OpenMessageSubcode::BadBgpIdentifier,
                &[],
                "BGP Identifier is 0",
            ));
        }
        Ok(())
    }

    /// Version (always 4 once validated).
    pub fn version(&self) -> u8 {
        self.version
    }

    /// My Autonomous System as on the wire: [`AS_TRANS`] for a speaker
    /// whose AS needs 4 octets. See [`peer_as`](Self::peer_as).
    pub fn my_as(&self) -> u16 {
        self.my_as
    }

    /// Hold Time in seconds.
    pub fn hold_time(&self) -> u16 {
        self.hold_time
    }

    /// BGP Identifier.
    pub fn bgp_identifier(&self) -> Ipv4Addr {
        self.bgp_identifier
    }

    /// The whole body as given to [`new_checked`](Self::new_checked).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.body
    }

    /// The Optional Parameters field (after the length field or fields).
    pub fn optional_parameters(&self) -> &'a [u8] {
        self.params
    }

    /// Whether the optional parameters use the extended encoding of RFC 9072.
    pub fn is_extended_format(&self) -> bool {
        self.extended
    }

    /// The optional parameters, in order.
    pub fn parameters(&self) -> Parameters<'a> {
        Parameters {
            buf: self.params,
            extended: self.extended,
        }
    }

    /// Every capability of every Capabilities parameter, in order.
    pub fn capabilities(&self) -> Capabilities<'a> {
        Capabilities {
            params: self.parameters(),
            current: CapabilityIter::empty(),
        }
    }

    /// Whether some capability has the given code.
    pub fn has_capability(&self, code: CapabilityCode) -> bool {
        self.capabilities().any(|cap| cap.code() == code)
    }

    /// The AS number of the (first) 4-octet AS capability (RFC 6793 s3).
    pub fn four_octet_as(&self) -> Option<u32> {
        self.capabilities().find_map(|cap| match cap {
            Capability::FourOctetAs(asn) => Some(asn),
            _ => None,
        })
    }

    /// The sender's AS: the 4-octet AS capability's if present (RFC 6793
    /// s4.1), otherwise My Autonomous System.
    pub fn peer_as(&self) -> u32 {
        self.four_octet_as()
            .unwrap_or_else(|| u32::from(self.my_as))
    }

    /// The families of the Multiprotocol capabilities (RFC 4760 s8). With
    /// none, RFC 4760 implies IPv4 unicast only; that is for the session to
    /// apply.
    pub fn multiprotocol(&self) -> impl Iterator<Item = Family> + 'a {
        self.capabilities().filter_map(|cap| match cap {
            Capability::Multiprotocol(family) => Some(family),
            _ => None,
        })
    }

    /// Whether the Route Refresh capability is present (RFC 2918).
    pub fn route_refresh(&self) -> bool {
        self.has_capability(CapabilityCode::ROUTE_REFRESH)
    }

    /// Whether the Enhanced Route Refresh capability is present (RFC 7313).
    pub fn enhanced_route_refresh(&self) -> bool {
        self.has_capability(CapabilityCode::ENHANCED_ROUTE_REFRESH)
    }

    /// Whether the BGP Extended Message capability is present (RFC 8654).
    pub fn extended_message(&self) -> bool {
        self.has_capability(CapabilityCode::EXTENDED_MESSAGE)
    }

    /// Entries of every Extended Next Hop Encoding capability (RFC 8950).
    pub fn extended_next_hop(&self) -> impl Iterator<Item = ExtendedNextHopEntry> + 'a {
        self.capabilities()
            .filter_map(|cap| match cap {
                Capability::ExtendedNextHop(list) => Some(list),
                _ => None,
            })
            .flatten()
    }

    /// Entries of the ADD-PATH capabilities (RFC 7911 s4). A capability with
    /// a Send/Receive value other than 1, 2 or 3 is skipped whole, since
    /// RFC 7911 asks that it be treated as not understood.
    pub fn add_path(&self) -> impl Iterator<Item = AddPathFamily> + 'a {
        self.capabilities()
            .filter_map(|cap| match cap {
                Capability::AddPath(list) if list.iter().all(|e| e.mode.is_known()) => Some(list),
                _ => None,
            })
            .flatten()
    }

    /// The (first) Graceful Restart capability (RFC 4724).
    pub fn graceful_restart(&self) -> Option<GracefulRestart<'a>> {
        self.capabilities().find_map(|cap| match cap {
            Capability::GracefulRestart(gr) => Some(gr),
            _ => None,
        })
    }

    /// Whether a Long-Lived Graceful Restart capability is present (RFC 9494).
    pub fn long_lived_graceful_restart(&self) -> bool {
        self.has_capability(CapabilityCode::LONG_LIVED_GRACEFUL_RESTART)
    }

    /// Families of every Long-Lived Graceful Restart capability (RFC 9494).
    pub fn long_lived_graceful_restart_families(&self) -> impl Iterator<Item = LlgrFamily> + 'a {
        self.capabilities()
            .filter_map(|cap| match cap {
                Capability::LongLivedGracefulRestart(list) => Some(list),
                _ => None,
            })
            .flatten()
    }

    /// The role of the (first) BGP Role capability (RFC 9234). RFC 9234 s4.2
    /// makes differing repeated roles a Role Mismatch; the session can check
    /// that with [`capabilities`](Self::capabilities).
    pub fn role(&self) -> Option<Role> {
        self.capabilities().find_map(|cap| match cap {
            Capability::Role(role) => Some(role),
            _ => None,
        })
    }

    /// The (first) FQDN capability.
    pub fn fqdn(&self) -> Option<Fqdn<'a>> {
        self.capabilities().find_map(|cap| match cap {
            Capability::Fqdn(fqdn) => Some(fqdn),
            _ => None,
        })
    }

    /// The (first) Software Version capability.
    pub fn software_version(&self) -> Option<SoftwareVersion<'a>> {
        self.capabilities().find_map(|cap| match cap {
            Capability::SoftwareVersion(version) => Some(version),
            _ => None,
        })
    }
}

/// Validates the optional parameters field: framing, types, capabilities.
fn check_parameters(mut buf: &[u8], extended: bool) -> Result<(), Error> {
    while !buf.is_empty() {
        let Ok((rest, param)) = parameter(buf, extended) else {
            return Err(malformed("optional parameter runs past its field"));
        };
        if param.param_type != CAPABILITIES_PARAMETER {
            return Err(Error::open(
                OpenMessageSubcode::UnsupportedOptionalParameter,
                &[],
                "optional parameter other than Capabilities",
            ));
        }
        capability::check(param.value).map_err(|e| malformed(e.reason()))?;
        buf = rest;
    }
    Ok(())
}

impl fmt::Display for Open<'_> {
    /// One line: `version 4, my-as 64512, hold-time 90, bgp-identifier
    /// 10.0.0.1, capabilities [route-refresh; four-octet-as 64512]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "version {}, my-as {}, hold-time {}, bgp-identifier {}",
            self.version, self.my_as, self.hold_time, self.bgp_identifier
        )?;
        if self.extended {
            f.write_str(", extended-parameters")?;
        }
        f.write_str(", capabilities [")?;
        for (i, cap) in self.capabilities().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{cap}")?;
        }
        f.write_str("]")
    }
}

/// An owned OPEN message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OpenRepr {
    /// Version; 4.
    pub version: u8,
    /// The sender's AS. [`emit`](Self::emit) writes [`AS_TRANS`] in the
    /// 2-octet field when it exceeds 65535; the real AS must then also be in
    /// a [`CapabilityRepr::FourOctetAs`]. [`parse`](Self::parse) sets it to
    /// the 2-octet field as received (so AS_TRANS for such a speaker; see
    /// [`peer_as`](Self::peer_as)).
    pub my_as: u32,
    /// Hold Time in seconds.
    pub hold_time: u16,
    /// BGP Identifier.
    pub bgp_identifier: Ipv4Addr,
    /// Capabilities, in order.
    pub capabilities: Vec<CapabilityRepr>,
}

impl OpenRepr {
    /// The owned form of a validated OPEN: every capability of every
    /// Capabilities parameter in order, `my_as` the 2-octet field.
    pub fn parse(open: &Open<'_>) -> Self {
        Self {
            version: open.version(),
            my_as: u32::from(open.my_as()),
            hold_time: open.hold_time(),
            bgp_identifier: open.bgp_identifier(),
            capabilities: open
                .capabilities()
                .map(|cap| CapabilityRepr::parse(&cap))
                .collect(),
        }
    }

    /// The value of the 2-octet My Autonomous System field: `my_as`, or
    /// [`AS_TRANS`] when it does not fit (RFC 6793 s4.1).
    pub fn my_as_field(&self) -> u16 {
        u16::try_from(self.my_as).unwrap_or(AS_TRANS)
    }

    /// The sender's AS: the first 4-octet AS capability's, else `my_as`.
    pub fn peer_as(&self) -> u32 {
        self.capabilities
            .iter()
            .find_map(|cap| match cap {
                CapabilityRepr::FourOctetAs(asn) => Some(*asn),
                _ => None,
            })
            .unwrap_or(self.my_as)
    }

    /// Octets of all capabilities (code, length and value of each).
    fn capabilities_len(&self) -> usize {
        self.capabilities
            .iter()
            .map(CapabilityRepr::encoded_len)
            .fold(0, usize::saturating_add)
    }

    /// Appends the body (no header). All capabilities go in one Capabilities
    /// parameter; when that parameter and its type and length octets do not
    /// fit the 255 octets of Opt Parm Len, the RFC 9072 encoding is used
    /// (Non-Ext OP Len 255, Non-Ext OP Type 255, 2-octet Extended Opt. Parm.
    /// Length, 2-octet Parameter Length). No capabilities: no parameter.
    /// Fails, leaving `out` as it was, if a capability cannot be encoded.
    pub fn emit_body(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        let result = self.emit_body_inner(out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn emit_body_inner(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(self.version);
        out.extend_from_slice(&self.my_as_field().to_be_bytes());
        out.extend_from_slice(&self.hold_time.to_be_bytes());
        out.extend_from_slice(&self.bgp_identifier.octets());
        let caps_len = self.capabilities_len();
        if caps_len == 0 {
            out.push(0);
        } else if let (Ok(opt_len), Ok(param_len)) = (
            u8::try_from(caps_len.saturating_add(2)),
            u8::try_from(caps_len),
        ) {
            out.extend_from_slice(&[opt_len, CAPABILITIES_PARAMETER, param_len]);
        } else {
            let too_long = || EncodeError::FieldTooLong("optional parameters");
            let ext_len = u16::try_from(caps_len.saturating_add(3)).map_err(|_| too_long())?;
            let param_len = u16::try_from(caps_len).map_err(|_| too_long())?;
            out.extend_from_slice(&[u8::MAX, EXTENDED_LENGTH_PARAMETER]);
            out.extend_from_slice(&ext_len.to_be_bytes());
            out.push(CAPABILITIES_PARAMETER);
            out.extend_from_slice(&param_len.to_be_bytes());
        }
        self.capabilities.iter().try_for_each(|cap| cap.emit(out))
    }

    /// Appends the whole message, header included. An OPEN may not exceed
    /// 4096 octets even when extended messages will be negotiated (RFC 8654
    /// s4).
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        emit_message(out, MessageType::Open, MAX_MESSAGE_LEN, |o| {
            self.emit_body(o)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::afi::{Afi, Safi};
    use crate::capability::{
        AddPathMode, CapabilityError, GracefulRestartFamily, GracefulRestartRepr,
        MAX_LLGR_STALE_TIME, MAX_RESTART_TIME,
    };
    use crate::codes::MessageHeaderSubcode;
    use crate::error::Action;
    use crate::header::Header;
    use proptest::collection::vec;
    use proptest::prelude::*;

    /// Wraps a body in a header.
    fn message(body: &[u8]) -> Vec<u8> {
        let mut out = vec![0xff; 16];
        out.extend_from_slice(&u16::try_from(body.len() + 19).unwrap().to_be_bytes());
        out.push(1);
        out.extend_from_slice(body);
        out
    }

    /// The body of a whole message, after checking its header.
    fn body_of(msg: &[u8]) -> &[u8] {
        let h = Header::new_checked(msg, MAX_MESSAGE_LEN).unwrap();
        assert_eq!(h.msg_type(), MessageType::Open);
        assert_eq!(h.length(), msg.len());
        &msg[HEADER_LEN..]
    }

    fn err(body: &[u8]) -> (u8, u8, Vec<u8>) {
        let e = Open::new_checked(body).unwrap_err();
        assert_eq!(e.action, Action::SessionReset);
        (e.code.as_u8(), e.subcode, e.data)
    }

    fn semantics_err(body: &[u8]) -> (u8, u8, Vec<u8>) {
        let e = Open::new_checked(body)
            .unwrap()
            .check_semantics()
            .unwrap_err();
        (e.code.as_u8(), e.subcode, e.data)
    }

    /// Body of an OPEN with the given fixed fields and optional parameters
    /// in the classic encoding.
    fn body(my_as: u16, hold: u16, id: [u8; 4], params: &[u8]) -> Vec<u8> {
        let mut b = vec![4];
        b.extend_from_slice(&my_as.to_be_bytes());
        b.extend_from_slice(&hold.to_be_bytes());
        b.extend_from_slice(&id);
        b.push(u8::try_from(params.len()).unwrap());
        b.extend_from_slice(params);
        b
    }

    /// An OPEN as GoBGP (and so Cilium) sends it: one Capabilities parameter.
    const GOBGP: &[u8] = &[
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, // marker
        0x00, 0x48, 0x01, // length 72, OPEN
        0x04, 0xfc, 0x00, 0x00, 0x5a, 10, 0, 0, 1, // v4, AS 64512, hold 90, id
        0x2b, 0x02, 0x29, // opt len 43, Capabilities, 41
        0x01, 0x04, 0x00, 0x01, 0x00, 0x01, // MP ipv4 unicast
        0x01, 0x04, 0x00, 0x02, 0x00, 0x01, // MP ipv6 unicast
        0x02, 0x00, // route refresh
        0x40, 0x0a, 0x40, 0x78, 0x00, 0x01, 0x01, 0x80, 0x00, 0x02, 0x01, 0x80, // GR
        0x41, 0x04, 0x00, 0x00, 0xfc, 0x00, // 4-octet AS 64512
        0x49, 0x07, 0x05, b'n', b'o', b'd', b'e', b'1', 0x00, // FQDN node1
    ];

    #[test]
    fn gobgp_open() {
        assert_eq!(message(body_of(GOBGP)), GOBGP);
        let open = Open::new_checked(body_of(GOBGP)).unwrap();
        assert_eq!(open.version(), 4);
        assert_eq!(open.my_as(), 64512);
        assert_eq!(open.hold_time(), 90);
        assert_eq!(open.bgp_identifier(), Ipv4Addr::new(10, 0, 0, 1));
        assert!(!open.is_extended_format());
        assert_eq!(open.parameters().count(), 1);
        assert_eq!(open.capabilities().count(), 6);
        assert_eq!(open.four_octet_as(), Some(64512));
        assert_eq!(open.peer_as(), 64512);
        assert_eq!(
            open.multiprotocol().collect::<Vec<_>>(),
            [Family::IPV4_UNICAST, Family::IPV6_UNICAST]
        );
        assert!(open.route_refresh());
        assert!(!open.enhanced_route_refresh());
        assert!(!open.extended_message());
        let gr = open.graceful_restart().unwrap();
        assert!(gr.notification() && !gr.restart_state());
        assert_eq!(gr.restart_time(), 120);
        assert!(gr.families().all(|f| f.forwarding_state));
        assert_eq!(gr.families().count(), 2);
        assert_eq!(open.fqdn().unwrap().hostname_str(), Some("node1"));
        assert_eq!(open.add_path().count(), 0);
        assert_eq!(open.role(), None);
        assert!(open.check_semantics().is_ok());
        assert_eq!(
            open.to_string(),
            "version 4, my-as 64512, hold-time 90, bgp-identifier 10.0.0.1, capabilities \
             [multiprotocol ipv4-unicast; multiprotocol ipv6-unicast; route-refresh; \
             graceful-restart time 120 notification ipv4-unicast forwarding, \
             ipv6-unicast forwarding; four-octet-as 64512; fqdn node1]"
        );

        let repr = OpenRepr::parse(&open);
        assert_eq!(repr.my_as, 64512);
        assert_eq!(
            repr.capabilities[3],
            CapabilityRepr::GracefulRestart(GracefulRestartRepr {
                restart_state: false,
                notification: true,
                restart_time: 120,
                families: vec![
                    GracefulRestartFamily {
                        family: Family::IPV4_UNICAST,
                        forwarding_state: true
                    },
                    GracefulRestartFamily {
                        family: Family::IPV6_UNICAST,
                        forwarding_state: true
                    }
                ],
            })
        );
        let mut out = Vec::new();
        repr.emit(&mut out).unwrap();
        assert_eq!(out, GOBGP);
    }

    /// An OPEN as FRR sends it: one Capabilities parameter per capability,
    /// including the prestandard Route Refresh (128).
    fn frr_body() -> Vec<u8> {
        let mut params = Vec::new();
        let caps: [&[u8]; 11] = [
            &[0x01, 0x04, 0x00, 0x01, 0x00, 0x01],
            &[0x80, 0x00],
            &[0x02, 0x00],
            &[0x46, 0x00],
            &[0x41, 0x04, 0x00, 0x00, 0xfd, 0xe9],
            &[0x45, 0x04, 0x00, 0x01, 0x01, 0x01],
            &[0x49, 0x04, 0x02, b'r', b'1', 0x00],
            &[0x40, 0x02, 0x40, 0x78],
            &[0x47, 0x00],
            &[
                0x4b, 0x0f, 0x0e, b'F', b'R', b'R', b'o', b'u', b't', b'i', b'n', b'g', b'/', b'1',
                b'0', b'.', b'2',
            ],
            &[0x06, 0x00],
        ];
        for cap in caps {
            params.push(2);
            params.push(u8::try_from(cap.len()).unwrap());
            params.extend_from_slice(cap);
        }
        body(65001, 180, [192, 0, 2, 1], &params)
    }

    #[test]
    fn frr_open() {
        let b = frr_body();
        let open = Open::new_checked(&b).unwrap();
        assert_eq!(open.parameters().count(), 11);
        assert_eq!(open.capabilities().count(), 11);
        assert_eq!(open.peer_as(), 65001);
        assert_eq!(
            open.multiprotocol().collect::<Vec<_>>(),
            [Family::IPV4_UNICAST]
        );
        assert!(open.route_refresh() && open.enhanced_route_refresh());
        assert!(open.extended_message());
        assert!(open.long_lived_graceful_restart());
        assert_eq!(open.long_lived_graceful_restart_families().count(), 0);
        assert_eq!(
            open.add_path().collect::<Vec<_>>(),
            [AddPathFamily {
                family: Family::IPV4_UNICAST,
                mode: AddPathMode::RECEIVE
            }]
        );
        assert_eq!(
            open.software_version().unwrap().as_str(),
            Some("FRRouting/10.2")
        );
        assert!(open.has_capability(CapabilityCode::PRESTANDARD_ROUTE_REFRESH));
        let shown: Vec<_> = open.capabilities().map(|c| c.to_string()).collect();
        assert_eq!(
            shown[1],
            "capability 128 (Prestandard Route Refresh (deprecated))"
        );
        assert_eq!(shown[5], "add-path ipv4-unicast receive");
        assert_eq!(shown[6], "fqdn r1");

        // Re-emitted with all capabilities in one parameter; same content.
        let repr = OpenRepr::parse(&open);
        let mut out = Vec::new();
        repr.emit(&mut out).unwrap();
        assert!(out.len() < b.len() + HEADER_LEN);
        let again = Open::new_checked(body_of(&out)).unwrap();
        assert_eq!(again.parameters().count(), 1);
        assert_eq!(OpenRepr::parse(&again), repr);
    }

    #[test]
    fn four_octet_as_speaker() {
        let repr = OpenRepr {
            version: 4,
            my_as: 4_200_000_001,
            hold_time: 180,
            bgp_identifier: Ipv4Addr::new(192, 0, 2, 7),
            capabilities: vec![CapabilityRepr::FourOctetAs(4_200_000_001)],
        };
        assert_eq!(repr.my_as_field(), AS_TRANS);
        let mut out = Vec::new();
        repr.emit(&mut out).unwrap();
        assert_eq!(&out[20..22], &AS_TRANS.to_be_bytes());
        let open = Open::new_checked(body_of(&out)).unwrap();
        assert_eq!(open.my_as(), AS_TRANS);
        assert_eq!(open.peer_as(), 4_200_000_001);
        let parsed = OpenRepr::parse(&open);
        assert_eq!(parsed.my_as, u32::from(AS_TRANS));
        assert_eq!(parsed.peer_as(), 4_200_000_001);
        assert_eq!(
            parsed,
            OpenRepr {
                my_as: u32::from(AS_TRANS),
                ..repr
            }
        );
    }

    #[test]
    fn short_body_is_bad_message_length() {
        for len in 0..FIXED_LEN {
            let b = vec![4; len];
            let total = u16::try_from(len + 19).unwrap();
            assert_eq!(
                err(&b),
                (
                    ErrorCode::MessageHeader.as_u8(),
                    MessageHeaderSubcode::BadMessageLength.as_u8(),
                    total.to_be_bytes().to_vec()
                )
            );
        }
    }

    #[test]
    fn unsupported_version() {
        let mut b = body(65000, 90, [1, 2, 3, 4], &[]);
        for v in [0, 3, 5, 255] {
            b[0] = v;
            assert_eq!(err(&b), (2, 1, vec![0, 4]));
        }
    }

    #[test]
    fn parameter_length_errors_are_unspecific() {
        let good = body(65000, 90, [1, 2, 3, 4], &[2, 2, 2, 0]);
        assert!(Open::new_checked(&good).is_ok());
        // Opt Parm Len larger than what follows.
        let mut b = good.clone();
        b[9] = 5;
        assert_eq!(err(&b), (2, 0, vec![]));
        // Octets after the optional parameters.
        let mut b = good.clone();
        b.push(0);
        assert_eq!(err(&b), (2, 0, vec![]));
        // Opt Parm Len 0 but parameters follow.
        let mut b = good.clone();
        b[9] = 0;
        assert_eq!(err(&b), (2, 0, vec![]));
        // A parameter running past the field.
        assert_eq!(
            err(&body(65000, 90, [1, 2, 3, 4], &[2, 3, 2, 0])),
            (2, 0, vec![])
        );
        assert_eq!(err(&body(65000, 90, [1, 2, 3, 4], &[2])), (2, 0, vec![]));
        // An empty Capabilities parameter is accepted.
        assert!(Open::new_checked(&body(65000, 90, [1, 2, 3, 4], &[2, 0])).is_ok());
    }

    #[test]
    fn unsupported_optional_parameter() {
        // Authentication Information (type 1, deprecated).
        let b = body(65000, 90, [1, 2, 3, 4], &[2, 2, 2, 0, 1, 1, 0]);
        assert_eq!(err(&b), (2, 4, vec![]));
        let b = body(65000, 90, [1, 2, 3, 4], &[9, 0]);
        assert_eq!(err(&b), (2, 4, vec![]));
    }

    #[test]
    fn malformed_capabilities_are_unspecific() {
        let cases: [&[u8]; 6] = [
            &[2, 6, 1, 3, 0, 1, 0, 1], // MP of 3 octets inside 6
            &[2, 5, 1, 3, 0, 1, 1],    // MP of 3 octets
            &[2, 3, 65, 1, 0],         // 4-octet AS of 1 octet
            &[2, 3, 2, 1, 0],          // Route Refresh with a value
            &[2, 3, 1, 4, 0],          // capability truncated
            &[2, 5, 64, 3, 0, 120, 0], // GR of 3 octets
        ];
        for params in cases {
            let e = Open::new_checked(&body(65000, 90, [1, 2, 3, 4], params)).unwrap_err();
            assert_eq!(
                (e.code, e.subcode, e.data.as_slice()),
                (ErrorCode::OpenMessage, 0, &[][..])
            );
        }
        assert_eq!(
            CapabilityError::Malformed {
                code: CapabilityCode::MULTIPROTOCOL,
                len: 3
            }
            .reason(),
            Open::new_checked(&body(65000, 90, [1, 2, 3, 4], cases[1]))
                .unwrap_err()
                .reason
        );
        // Unknown capability codes are not errors.
        assert!(Open::new_checked(&body(65000, 90, [1, 2, 3, 4], &[2, 3, 200, 1, 0])).is_ok());
    }

    #[test]
    fn semantic_checks() {
        let ok = body(65000, 90, [1, 2, 3, 4], &[]);
        assert!(Open::new_checked(&ok).unwrap().check_semantics().is_ok());
        for hold in [0, 3, 65535] {
            let b = body(65000, hold, [1, 2, 3, 4], &[]);
            assert!(Open::new_checked(&b).unwrap().check_semantics().is_ok());
        }
        for hold in [1, 2] {
            assert_eq!(
                semantics_err(&body(65000, hold, [1, 2, 3, 4], &[])),
                (2, 6, vec![])
            );
        }
        assert_eq!(
            semantics_err(&body(65000, 90, [0, 0, 0, 0], &[])),
            (2, 3, vec![])
        );
        assert_eq!(
            semantics_err(&body(0, 90, [1, 2, 3, 4], &[])),
            (2, 2, vec![])
        );
        let as4_zero = body(AS_TRANS, 90, [1, 2, 3, 4], &[2, 6, 65, 4, 0, 0, 0, 0]);
        assert_eq!(semantics_err(&as4_zero), (2, 2, vec![]));
        // Not called by new_checked.
        assert!(Open::new_checked(&body(0, 1, [0, 0, 0, 0], &[])).is_ok());
    }

    /// An RFC 9072 body: Non-Ext OP Len, 255, Extended Opt. Parm. Length,
    /// then parameters with 2-octet lengths.
    fn extended_body(non_ext_len: u8, params: &[u8]) -> Vec<u8> {
        let mut b = body(65000, 90, [1, 2, 3, 4], &[]);
        b[9] = non_ext_len;
        b.push(255);
        b.extend_from_slice(&u16::try_from(params.len()).unwrap().to_be_bytes());
        b.extend_from_slice(params);
        b
    }

    #[test]
    fn extended_parameters_are_decoded() {
        // Short content in the extended encoding must be accepted too.
        let params = [2, 0, 8, 1, 4, 0, 1, 0, 1, 2, 0, 2, 0, 2, 2, 0];
        let b = extended_body(255, &params);
        let open = Open::new_checked(&b).unwrap();
        assert!(open.is_extended_format());
        assert_eq!(open.optional_parameters(), &params);
        assert_eq!(open.parameters().count(), 2);
        let shown: Vec<_> = open.capabilities().map(|c| c.to_string()).collect();
        assert_eq!(
            shown,
            [
                "multiprotocol ipv4-unicast",
                "route-refresh",
                "route-refresh"
            ]
        );
        // Non-Ext OP Len is ignored once Non-Ext OP Type is 255.
        assert!(Open::new_checked(&extended_body(1, &params))
            .unwrap()
            .is_extended_format());
        // No parameters at all.
        assert_eq!(
            Open::new_checked(&extended_body(255, &[]))
                .unwrap()
                .parameters()
                .count(),
            0
        );
        // Errors.
        let mut b = extended_body(255, &params);
        b.push(0);
        assert_eq!(err(&b), (2, 0, vec![]));
        b.truncate(b.len() - 2);
        assert_eq!(err(&b), (2, 0, vec![]));
        assert_eq!(
            err(&[4, 0, 1, 0, 90, 1, 2, 3, 4, 255, 255, 0]),
            (2, 0, vec![])
        );
        assert_eq!(err(&[4, 0, 1, 0, 90, 1, 2, 3, 4, 255, 255]), (2, 0, vec![]));
        // A parameter with a 1-octet length in the extended encoding is cut.
        assert_eq!(err(&extended_body(255, &[2, 2, 2, 0])), (2, 0, vec![]));
        assert_eq!(err(&extended_body(255, &[1, 0, 0])), (2, 4, vec![]));
        // Non-Ext OP Len 255 but a normal first parameter: classic encoding.
        let mut params = vec![2, 253];
        for _ in 0..125 {
            params.extend_from_slice(&[2, 0]);
        }
        params.extend_from_slice(&[200, 1, 0]);
        let b = body(65000, 90, [1, 2, 3, 4], &params);
        assert_eq!(b[9], 255);
        let open = Open::new_checked(&b).unwrap();
        assert!(!open.is_extended_format());
        assert_eq!(open.capabilities().count(), 126);
    }

    fn route_refreshes(n: usize) -> OpenRepr {
        OpenRepr {
            version: 4,
            my_as: 65000,
            hold_time: 90,
            bgp_identifier: Ipv4Addr::new(1, 2, 3, 4),
            capabilities: vec![CapabilityRepr::RouteRefresh; n],
        }
    }

    #[test]
    fn emit_picks_the_encoding() {
        // 126 capabilities of 2 octets: parameter of 252, Opt Parm Len 254.
        // 127: parameter 254, needs 256 octets -> RFC 9072.
        for (n, extended) in [
            (0, false),
            (1, false),
            (126, false),
            (127, true),
            (600, true),
        ] {
            let repr = route_refreshes(n);
            let mut out = Vec::new();
            repr.emit(&mut out).unwrap();
            let body = body_of(&out);
            let open = Open::new_checked(body).unwrap();
            assert_eq!(open.is_extended_format(), extended, "{n}");
            assert_eq!(open.capabilities().count(), n);
            assert_eq!(OpenRepr::parse(&open), repr);
            if extended {
                let caps = u16::try_from(2 * n).unwrap().to_be_bytes();
                let ext = u16::try_from(2 * n + 3).unwrap().to_be_bytes();
                assert_eq!(
                    &body[9..16],
                    &[255, 255, ext[0], ext[1], 2, caps[0], caps[1]]
                );
            } else if n == 0 {
                assert_eq!(body.len(), FIXED_LEN);
            }
        }
        // Exactly 255 octets of optional parameters in the classic encoding:
        // a 253-octet Capabilities parameter.
        let mut repr = route_refreshes(125);
        repr.capabilities.push(CapabilityRepr::Unknown {
            code: CapabilityCode(200),
            value: vec![0],
        });
        let mut out = Vec::new();
        repr.emit(&mut out).unwrap();
        let open = Open::new_checked(body_of(&out)).unwrap();
        assert!(!open.is_extended_format());
        assert_eq!(open.as_bytes()[9], 255);
        assert_eq!(OpenRepr::parse(&open), repr);
    }

    #[test]
    fn emit_refuses_oversize() {
        let repr = route_refreshes(2100);
        let mut out = vec![9];
        assert!(matches!(
            repr.emit(&mut out),
            Err(EncodeError::MessageTooLong { .. })
        ));
        assert_eq!(out, [9]);
        let mut bad = route_refreshes(1);
        bad.capabilities
            .push(CapabilityRepr::SoftwareVersion(vec![b'x'; 300]));
        assert!(bad.emit_body(&mut out).is_err());
        assert_eq!(out, [9]);
    }

    /// Runs every accessor and iterator of a validated OPEN to completion.
    fn exercise(open: &Open<'_>) {
        let _ = (
            open.version(),
            open.my_as(),
            open.hold_time(),
            open.bgp_identifier(),
        );
        let _ = (
            open.as_bytes(),
            open.optional_parameters(),
            open.is_extended_format(),
        );
        let _ = open.check_semantics();
        let mut checked = 0;
        for param in open.parameters() {
            assert_eq!(param.param_type, CAPABILITIES_PARAMETER);
            checked += capability::check(param.value).unwrap();
        }
        assert_eq!(open.capabilities().count(), checked);
        for cap in open.capabilities() {
            let _ = (cap.to_string(), cap.name(), cap.code());
            let repr = CapabilityRepr::parse(&cap);
            assert_eq!(repr.code(), cap.code());
            if let Capability::GracefulRestart(gr) = cap {
                let _ = (gr.restart_flags(), gr.families().count(), gr.to_string());
            }
        }
        let _ = (open.four_octet_as(), open.peer_as(), open.role());
        let _ = (open.multiprotocol().count(), open.add_path().count());
        let _ = open.extended_next_hop().count();
        let _ = open.long_lived_graceful_restart_families().count();
        let _ = (open.route_refresh(), open.enhanced_route_refresh());
        let _ = (open.extended_message(), open.long_lived_graceful_restart());
        let _ = (
            open.graceful_restart(),
            open.fqdn(),
            open.software_version(),
        );
        let _ = open.to_string();
        // The owned form re-encodes to an OPEN that parses back to itself.
        let repr = OpenRepr::parse(open);
        let mut out = Vec::new();
        repr.emit(&mut out).unwrap();
        let again = Open::new_checked(body_of(&out)).unwrap();
        assert_eq!(OpenRepr::parse(&again), repr);
    }

    fn family() -> impl Strategy<Value = Family> {
        (any::<u16>(), any::<u8>()).prop_map(|(afi, safi)| Family::new(Afi(afi), Safi(safi)))
    }

    fn capability_repr() -> impl Strategy<Value = CapabilityRepr> {
        prop_oneof![
            family().prop_map(CapabilityRepr::Multiprotocol),
            Just(CapabilityRepr::RouteRefresh),
            vec((any::<u16>(), any::<u16>(), any::<u16>()), 0..8).prop_map(|v| {
                CapabilityRepr::ExtendedNextHop(
                    v.into_iter()
                        .map(|(a, s, n)| ExtendedNextHopEntry {
                            nlri_afi: Afi(a),
                            nlri_safi: s,
                            nexthop_afi: Afi(n),
                        })
                        .collect(),
                )
            }),
            Just(CapabilityRepr::ExtendedMessage),
            any::<u8>().prop_map(|r| CapabilityRepr::Role(Role(r))),
            (
                any::<bool>(),
                any::<bool>(),
                0..=MAX_RESTART_TIME,
                vec((family(), any::<bool>()), 0..8)
            )
                .prop_map(|(r, n, t, fams)| {
                    CapabilityRepr::GracefulRestart(GracefulRestartRepr {
                        restart_state: r,
                        notification: n,
                        restart_time: t,
                        families: fams
                            .into_iter()
                            .map(|(family, forwarding_state)| GracefulRestartFamily {
                                family,
                                forwarding_state,
                            })
                            .collect(),
                    })
                }),
            any::<u32>().prop_map(CapabilityRepr::FourOctetAs),
            vec((family(), any::<u8>()), 0..8).prop_map(|v| {
                CapabilityRepr::AddPath(
                    v.into_iter()
                        .map(|(family, m)| AddPathFamily {
                            family,
                            mode: AddPathMode(m),
                        })
                        .collect(),
                )
            }),
            Just(CapabilityRepr::EnhancedRouteRefresh),
            vec((family(), any::<bool>(), 0..=MAX_LLGR_STALE_TIME), 0..8).prop_map(|v| {
                CapabilityRepr::LongLivedGracefulRestart(
                    v.into_iter()
                        .map(|(family, forwarding_state, stale_time)| LlgrFamily {
                            family,
                            forwarding_state,
                            stale_time,
                        })
                        .collect(),
                )
            }),
            (vec(any::<u8>(), 0..64), vec(any::<u8>(), 0..64))
                .prop_map(|(hostname, domain)| CapabilityRepr::Fqdn { hostname, domain }),
            vec(any::<u8>(), 0..64).prop_map(CapabilityRepr::SoftwareVersion),
            (
                any::<u8>().prop_filter("decoded code", |c| !CapabilityCode(*c).is_decoded()),
                vec(any::<u8>(), 0..64)
            )
                .prop_map(|(code, value)| CapabilityRepr::Unknown {
                    code: CapabilityCode(code),
                    value,
                }),
        ]
    }

    /// Valid OPENs: version 4, and `my_as` as parse reports it, i.e. the
    /// 2-octet field. A 4-octet AS speaker (sometimes) carries the
    /// capability with AS_TRANS in the field when its AS needs 4 octets.
    fn open_repr() -> impl Strategy<Value = OpenRepr> {
        (
            prop_oneof![
                (0..=u32::from(u16::MAX)).prop_map(|asn| (asn, None)),
                any::<u32>()
                    .prop_map(|asn| (u32::from(u16::try_from(asn).unwrap_or(AS_TRANS)), Some(asn))),
            ],
            any::<u16>(),
            any::<u32>(),
            vec(capability_repr(), 0..12),
        )
            .prop_map(|((my_as, as4), hold_time, id, mut capabilities)| {
                if let Some(asn) = as4 {
                    capabilities.insert(0, CapabilityRepr::FourOctetAs(asn));
                }
                OpenRepr {
                    version: BGP_VERSION,
                    my_as,
                    hold_time,
                    bgp_identifier: Ipv4Addr::from(id),
                    capabilities,
                }
            })
    }

    proptest! {
        #[test]
        fn round_trip(repr in open_repr()) {
            let mut out = Vec::new();
            repr.emit(&mut out).unwrap();
            let open = Open::new_checked(body_of(&out)).unwrap();
            prop_assert_eq!(open.is_extended_format(), repr.capabilities_len() > 253);
            prop_assert_eq!(open.peer_as(), repr.peer_as());
            prop_assert_eq!(&OpenRepr::parse(&open), &repr);
            let mut body = Vec::new();
            repr.emit_body(&mut body).unwrap();
            prop_assert_eq!(&body[..], &out[HEADER_LEN..]);
        }

        #[test]
        fn arbitrary_bytes_never_panic(body in vec(any::<u8>(), 0..300)) {
            if let Ok(open) = Open::new_checked(&body) {
                exercise(&open);
            }
        }

        #[test]
        fn plausible_bodies_never_panic(
            fixed in any::<[u8; 8]>(),
            opt_len in prop_oneof![Just(None), any::<u8>().prop_map(Some)],
            tail in vec(prop_oneof![Just(2u8), Just(255u8), 0u8..80, any::<u8>()], 0..290),
        ) {
            let mut body = vec![BGP_VERSION];
            body.extend_from_slice(&fixed);
            let len = opt_len.unwrap_or_else(|| u8::try_from(tail.len()).unwrap_or(255));
            body.push(len);
            body.extend_from_slice(&tail);
            if let Ok(open) = Open::new_checked(&body) {
                exercise(&open);
            }
        }

        #[test]
        fn mutated_opens_never_panic(
            repr in open_repr(),
            flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let mut body = Vec::new();
            repr.emit_body(&mut body).unwrap();
            for (at, value) in flips {
                let i = at.index(body.len());
                body[i] = value;
            }
            if truncate {
                body.truncate(cut.index(body.len() + 1));
            }
            if let Ok(open) = Open::new_checked(&body) {
                exercise(&open);
            }
        }
    }
}
