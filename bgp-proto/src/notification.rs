//! NOTIFICATION messages (RFC 4271 s4.5) and the data formats some Cease
//! subcodes give their data field.
//!
//! [`Notification::new_checked`] validates a message body (the octets after
//! the 19-octet header) once: it needs only the Error Code and Error Subcode
//! octets, everything after them being the data field. The typed helpers then
//! read the data of three Cease subcodes without any possibility of panic:
//!
//! * Administrative Shutdown / Administrative Reset carry a Shutdown
//!   Communication (RFC 8203, extended to 255 octets by RFC 9003):
//!   [`Notification::shutdown_communication`];
//! * Maximum Number of Prefixes Reached may carry the family and the upper
//!   bound (RFC 4486 s4): [`Notification::max_prefix`];
//! * Hard Reset wraps the notification that caused it (RFC 8538 s3):
//!   [`Notification::hard_reset_inner`].
//!
//! [`NotificationRepr`] is the owned form, built from a decoding [`Error`]
//! or one of the constructors, and written with
//! [`NotificationRepr::emit`]. Its `Display` (and the view's) prints what an
//! operator wants in a log line, e.g.
//! `Cease / Administrative Shutdown: "maintenance window"`.

use crate::afi::{Afi, Family, Safi};
use crate::codes::{self, CeaseSubcode, ErrorCode};
use crate::context::MAX_MESSAGE_LEN;
use crate::error::Error;
use crate::header::{self, EncodeError, MessageType, HEADER_LEN};
use core::fmt;
use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u32, be_u8};
use nom::{IResult, Parser};

/// Largest Shutdown Communication, in octets (RFC 9003 s2).
pub const MAX_SHUTDOWN_COMMUNICATION_LEN: usize = 255;

/// Octets of the data field `Display` prints in hex before eliding the rest.
const DISPLAY_DATA_OCTETS: usize = 32;

/// Octets in the body before the data field: Error Code and Error Subcode.
const FIXED_BODY_LEN: usize = 2;

/// Total message length for a body, as the header's 2-octet Length field
/// would carry it (saturating, for bodies no real message can have).
fn total_len(body: &[u8]) -> u16 {
    u16::try_from(body.len().saturating_add(HEADER_LEN)).unwrap_or(u16::MAX)
}

/// Splits a body (or an RFC 8538 inner notification) into Error Code, Error
/// Subcode and the remaining data.
fn code_subcode(input: &[u8]) -> IResult<&[u8], (u8, u8)> {
    let (input, code) = be_u8(input)?;
    let (input, subcode) = be_u8(input)?;
    Ok((input, (code, subcode)))
}

/// A Length octet and as many octets as it says (RFC 9003 s2).
fn length_prefixed(input: &[u8]) -> IResult<&[u8], &[u8]> {
    let (input, length) = be_u8(input)?;
    take(usize::from(length)).parse(input)
}

/// AFI, SAFI and prefix upper bound (RFC 4486 s4, Figure 1).
fn afi_safi_bound(input: &[u8]) -> IResult<&[u8], MaxPrefix> {
    let (input, afi) = be_u16(input)?;
    let (input, safi) = be_u8(input)?;
    let (input, upper_bound) = be_u32(input)?;
    Ok((
        input,
        MaxPrefix {
            family: Family::new(Afi(afi), Safi(safi)),
            upper_bound,
        },
    ))
}

/// Whether `code`/`subcode` is Cease with the given subcode.
fn is_cease(code: u8, subcode: u8, which: CeaseSubcode) -> bool {
    code == ErrorCode::Cease.as_u8() && subcode == which.as_u8()
}

/// A validated NOTIFICATION body, borrowed.
///
/// Every accessor is infallible: the only structural requirement, two octets
/// for Error Code and Error Subcode, was checked by [`Notification::new_checked`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Notification<'a> {
    code: u8,
    subcode: u8,
    data: &'a [u8],
}

impl<'a> Notification<'a> {
    /// Validates a NOTIFICATION body (the octets after the 19-octet header).
    ///
    /// A body shorter than 2 octets is a Message Header Error / Bad Message
    /// Length whose data is the message's total length (`body.len() + 19`)
    /// in 2 octets (RFC 4271 s6.1: a NOTIFICATION is at least 21 octets).
    pub fn new_checked(body: &'a [u8]) -> Result<Self, Error> {
        match code_subcode(body) {
            Ok((data, (code, subcode))) => Ok(Self {
                code,
                subcode,
                data,
            }),
            Err(_) => Err(Error::bad_length(
                total_len(body),
                "NOTIFICATION shorter than 21 octets",
            )),
        }
    }

    /// Error Code octet as received.
    pub fn code(&self) -> u8 {
        self.code
    }

    /// Error Code, if it is one the IANA registry defines.
    pub fn error_code(&self) -> Option<ErrorCode> {
        ErrorCode::from_u8(self.code)
    }

    /// Error Subcode octet as received (0 means Unspecific, RFC 4271 s4.5).
    pub fn subcode(&self) -> u8 {
        self.subcode
    }

    /// IANA name of the Error Subcode, if code and subcode are both known.
    pub fn subcode_name(&self) -> Option<&'static str> {
        codes::subcode_name(self.code, self.subcode)
    }

    /// The Cease subcode, if this is a Cease with a known subcode.
    pub fn cease_subcode(&self) -> Option<CeaseSubcode> {
        if self.code == ErrorCode::Cease.as_u8() {
            CeaseSubcode::from_u8(self.subcode)
        } else {
            None
        }
    }

    /// Data field (possibly empty).
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The Shutdown Communication of a Cease / Administrative Shutdown (2) or
    /// Cease / Administrative Reset (4) (RFC 8203 as updated by RFC 9003).
    ///
    /// `None` for any other code or subcode, and when the data field is empty
    /// (a sender that predates RFC 8203). A Length of 0 gives `Some(Ok(""))`.
    /// A Length beyond the data field or text that is not UTF-8 is reported
    /// as an error, which RFC 9003 s5 asks to log (the raw octets are kept
    /// for a hex dump). Octets after the announced text are ignored.
    pub fn shutdown_communication(
        &self,
    ) -> Option<Result<&'a str, ShutdownCommunicationError<'a>>> {
        if !is_cease(
            self.code,
            self.subcode,
            CeaseSubcode::AdministrativeShutdown,
        ) && !is_cease(self.code, self.subcode, CeaseSubcode::AdministrativeReset)
        {
            return None;
        }
        let (&length, after_length) = self.data.split_first()?;
        let Ok((_, text)) = length_prefixed(self.data) else {
            return Some(Err(ShutdownCommunicationError::LengthExceedsData {
                length,
                available: after_length.len(),
            }));
        };
        Some(
            core::str::from_utf8(text).map_err(|e| ShutdownCommunicationError::InvalidUtf8 {
                valid_up_to: e.valid_up_to(),
                octets: text,
            }),
        )
    }

    /// Family and upper bound of a Cease / Maximum Number of Prefixes Reached
    /// (RFC 4486 s4), when present.
    ///
    /// `None` for any other code or subcode, and when the data field is not
    /// exactly the 7 octets AFI (2), SAFI (1), upper bound (4): the RFC makes
    /// them optional, so an empty data field is common.
    pub fn max_prefix(&self) -> Option<MaxPrefix> {
        if !is_cease(
            self.code,
            self.subcode,
            CeaseSubcode::MaximumNumberOfPrefixesReached,
        ) {
            return None;
        }
        match afi_safi_bound(self.data) {
            Ok(([], max)) => Some(max),
            _ => None,
        }
    }

    /// The notification a Cease / Hard Reset wraps (RFC 8538 s3: the data is
    /// the Error Code and Error Subcode of the inner notification followed by
    /// its data).
    ///
    /// `None` for any other code or subcode, or when the data field is
    /// shorter than 2 octets.
    pub fn hard_reset_inner(&self) -> Option<Notification<'a>> {
        if !is_cease(self.code, self.subcode, CeaseSubcode::HardReset) {
            return None;
        }
        let (data, (code, subcode)) = code_subcode(self.data).ok()?;
        Some(Self {
            code,
            subcode,
            data,
        })
    }

    /// Writes the code and subcode part of the `Display` form.
    fn fmt_codes(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.error_code() {
            Some(code) => f.write_str(code.name())?,
            None => write!(f, "code {}", self.code)?,
        }
        match self.subcode_name() {
            Some(name) => write!(f, " / {name}"),
            // Subcode 0 is "Unspecific" under a known code: say nothing.
            None if self.subcode == 0 && self.error_code().is_some() => Ok(()),
            None => write!(f, " / subcode {}", self.subcode),
        }
    }

    /// Writes what follows the codes in the `Display` form, for anything
    /// but a well-formed Hard Reset.
    fn fmt_detail(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.shutdown_communication() {
            Some(Ok("")) => return Ok(()),
            Some(Ok(text)) => return write!(f, ": {text:?}"),
            Some(Err(e)) => {
                write!(f, ": {e}")?;
                return fmt_data(self.data, f);
            }
            None => {}
        }
        if let Some(max) = self.max_prefix() {
            return write!(f, ": {} upper bound {}", max.family, max.upper_bound);
        }
        fmt_data(self.data, f)
    }
}

/// Writes ` (data 02 0a ...)`, or nothing for an empty data field. Only the
/// first [`DISPLAY_DATA_OCTETS`] octets are shown, then the total count.
fn fmt_data(data: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if data.is_empty() {
        return Ok(());
    }
    f.write_str(" (data")?;
    for octet in data.iter().take(DISPLAY_DATA_OCTETS) {
        write!(f, " {octet:02x}")?;
    }
    if data.len() > DISPLAY_DATA_OCTETS {
        write!(f, " ... {} octets", data.len())?;
    }
    f.write_str(")")
}

impl fmt::Display for Notification<'_> {
    /// `Code / Subcode`, then the Shutdown Communication, the max-prefix
    /// family and bound, the wrapped notification of a Hard Reset (after a
    /// colon), or the data in hex. Unknown codes and subcodes print as
    /// numbers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Hard Resets may nest as deep as the data is long: loop, don't recurse.
        let mut current = *self;
        loop {
            current.fmt_codes(f)?;
            match current.hard_reset_inner() {
                Some(inner) => {
                    f.write_str(": ")?;
                    current = inner;
                }
                None => return current.fmt_detail(f),
            }
        }
    }
}

/// Why a Shutdown Communication (RFC 9003) could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShutdownCommunicationError<'a> {
    /// The Length octet announces more octets than the data field holds.
    LengthExceedsData {
        /// The Length octet.
        length: u8,
        /// Octets actually following it.
        available: usize,
    },
    /// The text is not valid UTF-8, which RFC 9003 s2 forbids interpreting.
    InvalidUtf8 {
        /// Octets of valid UTF-8 before the first invalid sequence.
        valid_up_to: usize,
        /// The raw text octets, for a hex dump (RFC 9003 s5).
        octets: &'a [u8],
    },
}

impl fmt::Display for ShutdownCommunicationError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LengthExceedsData { length, available } => write!(
                f,
                "Shutdown Communication length {length} exceeds the {available} octets present"
            ),
            Self::InvalidUtf8 { valid_up_to, .. } => write!(
                f,
                "Shutdown Communication is not UTF-8 after {valid_up_to} octets"
            ),
        }
    }
}

impl std::error::Error for ShutdownCommunicationError<'_> {}

/// Data of a Cease / Maximum Number of Prefixes Reached (RFC 4486 s4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MaxPrefix {
    /// The family whose prefix count exceeded the bound.
    pub family: Family,
    /// The locally configured upper bound.
    pub upper_bound: u32,
}

/// An owned NOTIFICATION, to build and emit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NotificationRepr {
    /// Error Code.
    pub code: u8,
    /// Error Subcode.
    pub subcode: u8,
    /// Data field.
    pub data: Vec<u8>,
}

impl NotificationRepr {
    /// A notification from its parts.
    pub fn new(code: ErrorCode, subcode: u8, data: Vec<u8>) -> Self {
        Self {
            code: code.as_u8(),
            subcode,
            data,
        }
    }

    /// The owned form of a validated view.
    pub fn parse(view: &Notification<'_>) -> Self {
        Self {
            code: view.code(),
            subcode: view.subcode(),
            data: view.data().to_vec(),
        }
    }

    /// The notification a decoding error calls for (RFC 4271 s6).
    pub fn from_error(err: &Error) -> Self {
        Self {
            code: err.code.as_u8(),
            subcode: err.subcode,
            data: err.data.clone(),
        }
    }

    /// A Cease with the given subcode and no data.
    pub fn cease(subcode: CeaseSubcode) -> Self {
        Self::new(ErrorCode::Cease, subcode.as_u8(), Vec::new())
    }

    /// Cease / Administrative Shutdown with a Shutdown Communication
    /// (RFC 9003). See [`NotificationRepr::administrative_reset`] for the
    /// encoding of `text`.
    pub fn administrative_shutdown(text: &str) -> Self {
        Self::with_communication(CeaseSubcode::AdministrativeShutdown, text)
    }

    /// Cease / Administrative Reset with a Shutdown Communication (RFC 9003).
    ///
    /// The data is a Length octet and the UTF-8 text, cut at a character
    /// boundary to at most 255 octets. An empty `text` gives an empty data
    /// field, which every speaker (also those predating RFC 8203) reads as
    /// "no communication".
    pub fn administrative_reset(text: &str) -> Self {
        Self::with_communication(CeaseSubcode::AdministrativeReset, text)
    }

    fn with_communication(subcode: CeaseSubcode, text: &str) -> Self {
        let limit = text.len().min(MAX_SHUTDOWN_COMMUNICATION_LEN);
        // 0 is always a char boundary, so the search cannot fail.
        let end = (0..=limit)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        let text = text.get(..end).unwrap_or("");
        let mut data = Vec::new();
        if !text.is_empty() {
            data.reserve_exact(text.len().saturating_add(1));
            data.push(u8::try_from(text.len()).unwrap_or(u8::MAX));
            data.extend_from_slice(text.as_bytes());
        }
        Self::new(ErrorCode::Cease, subcode.as_u8(), data)
    }

    /// Cease / Maximum Number of Prefixes Reached with the family and the
    /// upper bound (RFC 4486 s4).
    pub fn max_prefix(family: Family, upper_bound: u32) -> Self {
        let mut data = Vec::with_capacity(7);
        data.extend_from_slice(&family.afi.0.to_be_bytes());
        data.push(family.safi.0);
        data.extend_from_slice(&upper_bound.to_be_bytes());
        Self::new(
            ErrorCode::Cease,
            CeaseSubcode::MaximumNumberOfPrefixesReached.as_u8(),
            data,
        )
    }

    /// Cease / Hard Reset wrapping `inner` (RFC 8538 s3).
    pub fn hard_reset(inner: &NotificationRepr) -> Self {
        let mut data = Vec::with_capacity(inner.data.len().saturating_add(FIXED_BODY_LEN));
        data.push(inner.code);
        data.push(inner.subcode);
        data.extend_from_slice(&inner.data);
        Self::new(ErrorCode::Cease, CeaseSubcode::HardReset.as_u8(), data)
    }

    /// Cease / Connection Rejected (RFC 4486 s4), e.g. for a connection
    /// from an unconfigured peer.
    pub fn connection_rejected() -> Self {
        Self::cease(CeaseSubcode::ConnectionRejected)
    }

    /// A view of this notification, for its typed helpers.
    pub fn view(&self) -> Notification<'_> {
        Notification {
            code: self.code,
            subcode: self.subcode,
            data: &self.data,
        }
    }

    /// Octets [`NotificationRepr::emit_body`] writes.
    pub fn body_len(&self) -> usize {
        self.data.len().saturating_add(FIXED_BODY_LEN)
    }

    /// Writes the whole message, header included, limited to 4096 octets.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.emit_with_max_len(out, MAX_MESSAGE_LEN)
    }

    /// Writes the whole message, header included, failing (with `out`
    /// unchanged) if it would exceed `max_len` octets (65535 once the
    /// extended message capability is negotiated, RFC 8654).
    pub fn emit_with_max_len(&self, out: &mut Vec<u8>, max_len: usize) -> Result<(), EncodeError> {
        header::emit_message(out, MessageType::Notification, max_len, |o| {
            self.emit_body(o)
        })
    }

    /// Writes the whole message, cutting the data field short if needed so
    /// the message fits in `max_len` octets. Useful when the data echoes a
    /// message that was itself as long as allowed (e.g. RFC 7313's Invalid
    /// Message Length). Fails only if `max_len` is below 21.
    pub fn emit_truncated(&self, out: &mut Vec<u8>, max_len: usize) -> Result<(), EncodeError> {
        let room = max_len.saturating_sub(HEADER_LEN.saturating_add(FIXED_BODY_LEN));
        let data = self.data.get(..room).unwrap_or(&self.data);
        header::emit_message(out, MessageType::Notification, max_len, |o| {
            o.push(self.code);
            o.push(self.subcode);
            o.extend_from_slice(data);
            Ok(())
        })
    }

    /// Appends the body: Error Code, Error Subcode, data.
    pub fn emit_body(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.reserve(self.body_len());
        out.push(self.code);
        out.push(self.subcode);
        out.extend_from_slice(&self.data);
        Ok(())
    }
}

impl From<&Error> for NotificationRepr {
    fn from(err: &Error) -> Self {
        Self::from_error(err)
    }
}

impl fmt::Display for NotificationRepr {
    /// As for [`Notification`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.view(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::{MessageHeaderSubcode, UpdateMessageSubcode};
    use crate::header::{Header, MARKER};
    use proptest::prelude::*;

    fn body(v: &[u8]) -> Notification<'_> {
        Notification::new_checked(v).unwrap()
    }

    fn emitted(r: &NotificationRepr) -> Vec<u8> {
        let mut out = Vec::new();
        r.emit(&mut out).unwrap();
        out
    }

    #[test]
    fn parses_code_subcode_data() {
        let n = body(&[3, 11, 0x02, 0x0a]);
        assert_eq!(n.code(), 3);
        assert_eq!(n.error_code(), Some(ErrorCode::UpdateMessage));
        assert_eq!(n.subcode(), 11);
        assert_eq!(n.subcode_name(), Some("Malformed AS_PATH"));
        assert_eq!(n.data(), &[0x02, 0x0a]);
        assert_eq!(n.cease_subcode(), None);

        let n = body(&[4, 0]);
        assert_eq!(n.error_code(), Some(ErrorCode::HoldTimerExpired));
        assert_eq!(n.data(), &[] as &[u8]);

        let n = body(&[200, 7, 1]);
        assert_eq!(n.error_code(), None);
        assert_eq!(n.subcode_name(), None);
    }

    #[test]
    fn short_body_is_bad_message_length() {
        for (b, total) in [(&[][..], 19u16), (&[6][..], 20)] {
            let e = Notification::new_checked(b).unwrap_err();
            assert_eq!(e.code, ErrorCode::MessageHeader);
            assert_eq!(e.subcode, MessageHeaderSubcode::BadMessageLength.as_u8());
            assert_eq!(e.data, total.to_be_bytes().to_vec());
            assert_eq!(e.action, crate::Action::SessionReset);
        }
    }

    #[test]
    fn shutdown_communication_rfc9003() {
        let mut b = vec![6, 2, 18];
        b.extend_from_slice(b"maintenance window");
        let n = body(&b);
        assert_eq!(
            n.cease_subcode(),
            Some(CeaseSubcode::AdministrativeShutdown)
        );
        assert_eq!(n.shutdown_communication(), Some(Ok("maintenance window")));
        assert_eq!(
            n.to_string(),
            "Cease / Administrative Shutdown: \"maintenance window\""
        );

        // Administrative Reset too, with multi-byte text.
        let text = "Wartungsfenster für Ölwechsel";
        let mut b = vec![6, 4, text.len() as u8];
        b.extend_from_slice(text.as_bytes());
        assert_eq!(body(&b).shutdown_communication(), Some(Ok(text)));

        // Empty data: no communication at all; Length 0: an empty one.
        assert_eq!(body(&[6, 2]).shutdown_communication(), None);
        assert_eq!(body(&[6, 2]).to_string(), "Cease / Administrative Shutdown");
        assert_eq!(body(&[6, 4, 0]).shutdown_communication(), Some(Ok("")));
        assert_eq!(body(&[6, 4, 0]).to_string(), "Cease / Administrative Reset");

        // Other subcodes and codes have none, whatever the data.
        assert_eq!(body(&[6, 3, 1, b'a']).shutdown_communication(), None);
        assert_eq!(body(&[2, 2, 1, b'a']).shutdown_communication(), None);

        // Trailing octets after the announced text are ignored.
        assert_eq!(
            body(&[6, 2, 2, b'o', b'k', 0xff]).shutdown_communication(),
            Some(Ok("ok"))
        );
    }

    #[test]
    fn shutdown_communication_errors() {
        let n = body(&[6, 2, 10, b'a', b'b', b'c']);
        assert_eq!(
            n.shutdown_communication(),
            Some(Err(ShutdownCommunicationError::LengthExceedsData {
                length: 10,
                available: 3
            }))
        );
        assert_eq!(
            n.to_string(),
            "Cease / Administrative Shutdown: Shutdown Communication length 10 \
             exceeds the 3 octets present (data 0a 61 62 63)"
        );

        let n = body(&[6, 4, 3, b'x', 0xc3, 0x28]);
        assert_eq!(
            n.shutdown_communication(),
            Some(Err(ShutdownCommunicationError::InvalidUtf8 {
                valid_up_to: 1,
                octets: &[b'x', 0xc3, 0x28]
            }))
        );
        assert!(n.to_string().ends_with("(data 03 78 c3 28)"));
    }

    #[test]
    fn shutdown_communication_255_octet_limit() {
        // Exactly 255 octets is accepted on receipt...
        let text = "a".repeat(255);
        let mut b = vec![6, 2, 255];
        b.extend_from_slice(text.as_bytes());
        assert_eq!(body(&b).shutdown_communication(), Some(Ok(text.as_str())));

        // ...and longer text is cut to 255 octets on construction.
        let r = NotificationRepr::administrative_shutdown(&"b".repeat(300));
        assert_eq!(r.code, 6);
        assert_eq!(r.subcode, 2);
        assert_eq!(r.data.len(), 256);
        assert_eq!(r.data[0], 255);
        assert_eq!(
            r.view().shutdown_communication(),
            Some(Ok("b".repeat(255).as_str()))
        );
    }

    #[test]
    fn shutdown_communication_truncates_at_char_boundary() {
        // 'é' is 2 octets: 200 of them are 400 octets; 255 would split one.
        let r = NotificationRepr::administrative_reset(&"é".repeat(200));
        assert_eq!(r.subcode, 4);
        assert_eq!(r.data[0], 254);
        assert_eq!(r.data.len(), 255);
        assert_eq!(
            r.view().shutdown_communication(),
            Some(Ok("é".repeat(127).as_str()))
        );
        // A 4-octet char straddling the limit.
        let text = format!("{}🦀", "z".repeat(253));
        let r = NotificationRepr::administrative_shutdown(&text);
        assert_eq!(r.data[0], 253);
        // Short text is kept whole; empty text gives empty data.
        let r = NotificationRepr::administrative_shutdown("bye");
        assert_eq!(r.data, b"\x03bye".to_vec());
        assert!(NotificationRepr::administrative_shutdown("")
            .data
            .is_empty());
    }

    #[test]
    fn max_prefix_rfc4486() {
        // IPv6 unicast, bound 1000.
        let n = body(&[6, 1, 0x00, 0x02, 0x01, 0x00, 0x00, 0x03, 0xe8]);
        assert_eq!(
            n.max_prefix(),
            Some(MaxPrefix {
                family: Family::IPV6_UNICAST,
                upper_bound: 1000
            })
        );
        assert_eq!(
            n.to_string(),
            "Cease / Maximum Number of Prefixes Reached: ipv6-unicast upper bound 1000"
        );
        let r = NotificationRepr::max_prefix(Family::IPV6_UNICAST, 1000);
        assert_eq!(r.data, &[0x00, 0x02, 0x01, 0x00, 0x00, 0x03, 0xe8]);
        assert_eq!(r, NotificationRepr::parse(&n));

        // Optional data absent, or not the 7-octet form.
        assert_eq!(body(&[6, 1]).max_prefix(), None);
        assert_eq!(body(&[6, 1, 0, 1, 1, 0, 0, 1]).max_prefix(), None);
        assert_eq!(body(&[6, 1, 0, 1, 1, 0, 0, 0, 1, 9]).max_prefix(), None);
        // Not Cease / 1.
        assert_eq!(body(&[6, 2, 0, 1, 1, 0, 0, 0, 1]).max_prefix(), None);
    }

    #[test]
    fn hard_reset_rfc8538() {
        let inner = NotificationRepr::administrative_shutdown("x");
        let r = NotificationRepr::hard_reset(&inner);
        assert_eq!(r.code, 6);
        assert_eq!(r.subcode, 9);
        assert_eq!(r.data, vec![6, 2, 1, b'x']);
        let got = r.view().hard_reset_inner().unwrap();
        assert_eq!(got, inner.view());
        assert_eq!(got.shutdown_communication(), Some(Ok("x")));
        assert_eq!(
            r.to_string(),
            "Cease / Hard Reset: Cease / Administrative Shutdown: \"x\""
        );

        // Too short to hold an inner notification.
        let n = body(&[6, 9, 6]);
        assert_eq!(n.hard_reset_inner(), None);
        assert_eq!(n.to_string(), "Cease / Hard Reset (data 06)");
        assert_eq!(body(&[6, 8, 6, 2]).hard_reset_inner(), None);

        // Deep nesting prints without recursion.
        let mut b = [6u8, 9].repeat(30_000);
        b.extend_from_slice(&[4, 0]);
        let s = body(&b).to_string();
        assert!(s.ends_with("Cease / Hard Reset: Hold Timer Expired"));
    }

    #[test]
    fn display_unknown_and_data() {
        assert_eq!(
            body(&[3, 11, 0x02, 0x0a]).to_string(),
            "UPDATE Message Error / Malformed AS_PATH (data 02 0a)"
        );
        assert_eq!(body(&[4, 0]).to_string(), "Hold Timer Expired");
        assert_eq!(body(&[6, 77]).to_string(), "Cease / subcode 77");
        assert_eq!(
            body(&[9, 1, 0xab]).to_string(),
            "code 9 / subcode 1 (data ab)"
        );
        assert_eq!(body(&[0, 0]).to_string(), "code 0 / subcode 0");
        let mut b = vec![3, 1];
        b.extend_from_slice(&[0x11; 40]);
        let s = body(&b).to_string();
        assert!(s.ends_with(" 11 ... 40 octets)"), "{s}");
        assert_eq!(s.matches(" 11").count(), 32);
    }

    #[test]
    fn from_error_keeps_code_subcode_data() {
        let e = Error::bad_length(5000, "too long");
        let r = NotificationRepr::from_error(&e);
        assert_eq!(
            r,
            NotificationRepr {
                code: 1,
                subcode: 2,
                data: vec![0x13, 0x88]
            }
        );
        let e = Error::update(
            UpdateMessageSubcode::MalformedAsPath,
            &[2, 0x0a],
            crate::Action::TreatAsWithdraw,
            "segment overrun",
        );
        let r = NotificationRepr::from(&e);
        assert_eq!(
            (r.code, r.subcode, r.data.as_slice()),
            (3, 11, &[2, 0x0a][..])
        );
    }

    #[test]
    fn emits_whole_message() {
        let out = emitted(&NotificationRepr::connection_rejected());
        let mut want = MARKER.to_vec();
        want.extend_from_slice(&[0, 21, 3, 6, 5]);
        assert_eq!(out, want);
        let h = Header::new_checked(&out, MAX_MESSAGE_LEN).unwrap();
        assert_eq!(h.msg_type(), MessageType::Notification);
        assert_eq!(h.length(), 21);

        let r = NotificationRepr::cease(CeaseSubcode::OutOfResources);
        let mut b = Vec::new();
        r.emit_body(&mut b).unwrap();
        assert_eq!(b, vec![6, 8]);
        assert_eq!(r.body_len(), 2);
    }

    #[test]
    fn emit_respects_max_len() {
        let r = NotificationRepr::new(ErrorCode::RouteRefreshMessage, 1, vec![0xee; 4096]);
        let mut out = vec![7];
        let e = r.emit(&mut out).unwrap_err();
        assert_eq!(
            e,
            EncodeError::MessageTooLong {
                length: 4117,
                max: 4096
            }
        );
        assert_eq!(out, vec![7]);
        r.emit_with_max_len(&mut out, 65535).unwrap();
        assert_eq!(out.len(), 1 + 4117);

        let mut out = Vec::new();
        r.emit_truncated(&mut out, 4096).unwrap();
        assert_eq!(out.len(), 4096);
        let n = Notification::new_checked(&out[HEADER_LEN..]).unwrap();
        assert_eq!(n.data().len(), 4096 - 21);
        // Fits already: nothing cut.
        let mut out = Vec::new();
        NotificationRepr::connection_rejected()
            .emit_truncated(&mut out, 21)
            .unwrap();
        assert_eq!(out.len(), 21);
        assert!(NotificationRepr::connection_rejected()
            .emit_truncated(&mut out, 20)
            .is_err());
    }

    fn any_repr() -> impl Strategy<Value = NotificationRepr> {
        (
            any::<u8>(),
            any::<u8>(),
            proptest::collection::vec(any::<u8>(), 0..300),
        )
            .prop_map(|(code, subcode, data)| NotificationRepr {
                code,
                subcode,
                data,
            })
    }

    proptest! {
        #[test]
        fn round_trip(r in any_repr()) {
            let out = emitted(&r);
            let h = Header::new_checked(&out, MAX_MESSAGE_LEN).unwrap();
            prop_assert_eq!(h.length(), out.len());
            let n = Notification::new_checked(&out[HEADER_LEN..]).unwrap();
            prop_assert_eq!(NotificationRepr::parse(&n), r);
        }

        #[test]
        fn constructors_round_trip(
            text in ".{0,300}",
            afi in any::<u16>(),
            safi in any::<u8>(),
            bound in any::<u32>(),
        ) {
            let r = NotificationRepr::administrative_shutdown(&text);
            let out = emitted(&r);
            let n = Notification::new_checked(&out[HEADER_LEN..]).unwrap();
            prop_assert_eq!(NotificationRepr::parse(&n), r.clone());
            match n.shutdown_communication() {
                None => prop_assert!(text.is_empty()),
                Some(got) => {
                    let got = got.unwrap();
                    prop_assert!(got.len() <= MAX_SHUTDOWN_COMMUNICATION_LEN);
                    prop_assert!(text.starts_with(got));
                    if text.len() <= MAX_SHUTDOWN_COMMUNICATION_LEN {
                        prop_assert_eq!(got, text.as_str());
                    }
                }
            }
            let family = Family::new(Afi(afi), Safi(safi));
            let m = NotificationRepr::max_prefix(family, bound);
            prop_assert_eq!(
                m.view().max_prefix(),
                Some(MaxPrefix { family, upper_bound: bound })
            );
            let h = NotificationRepr::hard_reset(&m);
            prop_assert_eq!(h.view().hard_reset_inner(), Some(m.view()));
        }

        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            match Notification::new_checked(&b) {
                Ok(n) => {
                    prop_assert_eq!(b.len(), n.data().len() + 2);
                    let _ = (n.code(), n.error_code(), n.subcode(), n.subcode_name());
                    let _ = (n.cease_subcode(), n.shutdown_communication(), n.max_prefix());
                    let _ = n.hard_reset_inner();
                    let _ = n.to_string();
                    let r = NotificationRepr::parse(&n);
                    let _ = r.to_string();
                    prop_assert_eq!(r.view(), n);
                }
                Err(e) => prop_assert!(b.len() < 2 && e.code == ErrorCode::MessageHeader),
            }
        }
    }
}
