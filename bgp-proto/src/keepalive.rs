//! KEEPALIVE messages (RFC 4271 s4.4): a header and nothing else.
//!
//! There is nothing to decode, only a length to check:
//! [`Keepalive::new_checked`] accepts an empty body and reports anything else
//! as the Bad Message Length RFC 4271 s6.1 prescribes. [`emit_keepalive`]
//! writes the 19 octets; [`KeepaliveRepr`] exists so that every message type
//! has the same `new_checked` / `parse` / `emit` shape.

use crate::error::Error;
use crate::header::{EncodeError, MessageType, HEADER_LEN, MARKER};

/// Octets in a KEEPALIVE message: the header alone.
pub const KEEPALIVE_LEN: usize = HEADER_LEN;

/// A validated (empty) KEEPALIVE body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Keepalive;

impl Keepalive {
    /// Validates a KEEPALIVE body (the octets after the 19-octet header),
    /// which must be empty. Otherwise: Message Header Error / Bad Message
    /// Length with the message's total length (`body.len() + 19`) in 2
    /// octets as data.
    pub fn new_checked(body: &[u8]) -> Result<Self, Error> {
        if body.is_empty() {
            Ok(Self)
        } else {
            let total = u16::try_from(body.len().saturating_add(HEADER_LEN)).unwrap_or(u16::MAX);
            Err(Error::bad_length(total, "KEEPALIVE longer than 19 octets"))
        }
    }
}

/// Appends a whole KEEPALIVE message (19 octets) to `out`.
pub fn emit_keepalive(out: &mut Vec<u8>) {
    out.reserve(KEEPALIVE_LEN);
    out.extend_from_slice(&MARKER);
    // KEEPALIVE_LEN is 19, which fits the 2-octet Length field.
    out.extend_from_slice(&(KEEPALIVE_LEN as u16).to_be_bytes());
    out.push(MessageType::Keepalive as u8);
}

/// An owned KEEPALIVE, for uniformity with the other message types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct KeepaliveRepr;

impl KeepaliveRepr {
    /// The owned form of a validated view.
    pub fn parse(_view: &Keepalive) -> Self {
        Self
    }

    /// Writes the whole message (19 octets); never fails.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        emit_keepalive(out);
        Ok(())
    }

    /// Writes the body, which is empty; never fails.
    pub fn emit_body(&self, _out: &mut Vec<u8>) -> Result<(), EncodeError> {
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
    fn emits_nineteen_octets() {
        let mut out = vec![0xaa];
        emit_keepalive(&mut out);
        let mut want = vec![0xaa];
        want.extend_from_slice(&[0xff; 16]);
        want.extend_from_slice(&[0x00, 0x13, 0x04]);
        assert_eq!(out, want);

        let h = Header::new_checked(&out[1..], 4096).unwrap();
        assert_eq!(h.msg_type(), MessageType::Keepalive);
        assert_eq!(h.length(), KEEPALIVE_LEN);

        let mut again = Vec::new();
        KeepaliveRepr.emit(&mut again).unwrap();
        assert_eq!(again, out[1..]);
        let mut body = Vec::new();
        KeepaliveRepr.emit_body(&mut body).unwrap();
        assert!(body.is_empty());
    }

    #[test]
    fn empty_body_parses() {
        let k = Keepalive::new_checked(&[]).unwrap();
        assert_eq!(KeepaliveRepr::parse(&k), KeepaliveRepr);
    }

    #[test]
    fn non_empty_body_is_bad_message_length() {
        let e = Keepalive::new_checked(&[0]).unwrap_err();
        assert_eq!(e.code, ErrorCode::MessageHeader);
        assert_eq!(e.subcode, MessageHeaderSubcode::BadMessageLength.as_u8());
        assert_eq!(e.data, vec![0, 20]);
        let e = Keepalive::new_checked(&[0; 300]).unwrap_err();
        assert_eq!(e.data, 319u16.to_be_bytes().to_vec());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            match Keepalive::new_checked(&b) {
                Ok(k) => {
                    prop_assert!(b.is_empty());
                    let mut out = Vec::new();
                    KeepaliveRepr::parse(&k).emit(&mut out).unwrap();
                    let h = Header::new_checked(&out, 4096).unwrap();
                    prop_assert!(Keepalive::new_checked(&out[h.length()..]).is_ok());
                }
                Err(e) => {
                    prop_assert!(!b.is_empty());
                    prop_assert_eq!(e.data, ((b.len() + 19) as u16).to_be_bytes().to_vec());
                }
            }
        }
    }
}
