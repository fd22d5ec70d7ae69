//! The 19-octet message header (RFC 4271 s4.1) and framing of a TCP stream.
//!
//! [`Header::new_checked`] validates marker, length and type once; after that
//! no accessor can fail. [`frame_len`] and [`split_frame`] cut a byte stream
//! into whole messages, reporting a bad header as soon as its 19 octets have
//! arrived rather than waiting for a length that may never come.

use crate::codes::MessageHeaderSubcode;
use crate::error::Error;
use bytes::{Bytes, BytesMut};

/// Octets in the header.
pub const HEADER_LEN: usize = 19;
/// The all-ones marker.
pub const MARKER: [u8; 16] = [0xff; 16];

/// Message types (RFC 4271 s4.1, RFC 2918).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MessageType {
    /// OPEN.
    Open = 1,
    /// UPDATE.
    Update = 2,
    /// NOTIFICATION.
    Notification = 3,
    /// KEEPALIVE.
    Keepalive = 4,
    /// ROUTE-REFRESH (RFC 2918, RFC 7313).
    RouteRefresh = 5,
}

impl MessageType {
    /// The type for a wire value.
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => Self::Open,
            2 => Self::Update,
            3 => Self::Notification,
            4 => Self::Keepalive,
            5 => Self::RouteRefresh,
            _ => return None,
        })
    }

    /// The name RFC 4271 uses.
    pub fn name(self) -> &'static str {
        match self {
            Self::Open => "OPEN",
            Self::Update => "UPDATE",
            Self::Notification => "NOTIFICATION",
            Self::Keepalive => "KEEPALIVE",
            Self::RouteRefresh => "ROUTE-REFRESH",
        }
    }

    /// Smallest legal length of a whole message of this type (RFC 4271 s6.1).
    pub fn min_len(self) -> usize {
        match self {
            Self::Open => 29,
            Self::Update => 23,
            Self::Notification => 21,
            Self::Keepalive => 19,
            Self::RouteRefresh => 23,
        }
    }
}

/// A validated header at the start of a buffer holding one whole message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    length: u16,
    msg_type: MessageType,
}

impl Header {
    /// Validates the first 19 octets of `buf`: marker, length within
    /// `19..=max_len` and no smaller than the type's minimum, known type.
    /// `buf` may be longer (the body follows) or exactly 19 octets long.
    pub fn new_checked(buf: &[u8], max_len: usize) -> Result<Self, Error> {
        let Some(head) = buf.get(..HEADER_LEN) else {
            return Err(Error::header(
                MessageHeaderSubcode::BadMessageLength,
                &(buf.len() as u16).to_be_bytes(),
                "fewer than 19 octets",
            ));
        };
        if head[..16] != MARKER {
            return Err(Error::header(
                MessageHeaderSubcode::ConnectionNotSynchronized,
                &[],
                "marker is not all ones",
            ));
        }
        let length = u16::from_be_bytes([head[16], head[17]]);
        if usize::from(length) < HEADER_LEN || usize::from(length) > max_len {
            return Err(Error::bad_length(length, "length outside 19..=max"));
        }
        let Some(msg_type) = MessageType::from_u8(head[18]) else {
            return Err(Error::header(
                MessageHeaderSubcode::BadMessageType,
                &[head[18]],
                "unknown message type",
            ));
        };
        if usize::from(length) < msg_type.min_len()
            || (msg_type == MessageType::Keepalive && usize::from(length) != HEADER_LEN)
        {
            return Err(Error::bad_length(length, "length wrong for message type"));
        }
        Ok(Self { length, msg_type })
    }

    /// Total message length, header included.
    pub fn length(&self) -> usize {
        usize::from(self.length)
    }

    /// Message type.
    pub fn msg_type(&self) -> MessageType {
        self.msg_type
    }
}

/// Length of the first whole message in `buf`, `Ok(None)` if more octets are
/// needed, or the header error as soon as 19 octets are present.
pub fn frame_len(buf: &[u8], max_len: usize) -> Result<Option<usize>, Error> {
    if buf.len() < HEADER_LEN {
        // A wrong marker octet is already certain: report it as soon as it
        // arrives, so the verdict does not depend on how the stream was cut.
        if buf.iter().take(MARKER.len()).any(|&b| b != 0xff) {
            return Err(Error::header(
                MessageHeaderSubcode::ConnectionNotSynchronized,
                &[],
                "marker is not all ones",
            ));
        }
        return Ok(None);
    }
    let header = Header::new_checked(buf, max_len)?;
    Ok((buf.len() >= header.length()).then_some(header.length()))
}

/// Splits the first whole message off a stream buffer without copying.
pub fn split_frame(buf: &mut BytesMut, max_len: usize) -> Result<Option<Bytes>, Error> {
    Ok(frame_len(buf, max_len)?.map(|len| buf.split_to(len).freeze()))
}

/// Why a message could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    /// The message would exceed the negotiated maximum length.
    MessageTooLong {
        /// Length it would have.
        length: usize,
        /// Largest allowed.
        max: usize,
    },
    /// A field does not fit its length octets.
    FieldTooLong(&'static str),
}

impl core::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::MessageTooLong { length, max } => {
                write!(f, "message of {length} octets exceeds maximum {max}")
            }
            Self::FieldTooLong(field) => write!(f, "{field} too long for its length field"),
        }
    }
}

impl std::error::Error for EncodeError {}

/// Writes a whole message: header, then the body `body` appends to `out`.
/// Fails (leaving `out` as it was) if the result exceeds `max_len`.
pub fn emit_message(
    out: &mut Vec<u8>,
    msg_type: MessageType,
    max_len: usize,
    body: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let start = out.len();
    out.extend_from_slice(&MARKER);
    out.extend_from_slice(&[0, 0, msg_type as u8]);
    if let Err(e) = body(out) {
        out.truncate(start);
        return Err(e);
    }
    let length = out.len() - start;
    if length > max_len {
        out.truncate(start);
        return Err(EncodeError::MessageTooLong {
            length,
            max: max_len,
        });
    }
    out[start + 16..start + 18].copy_from_slice(&(length as u16).to_be_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::ErrorCode;

    fn keepalive() -> Vec<u8> {
        let mut v = Vec::new();
        emit_message(&mut v, MessageType::Keepalive, 4096, |_| Ok(())).unwrap();
        v
    }

    #[test]
    fn keepalive_round_trip() {
        let k = keepalive();
        assert_eq!(k.len(), 19);
        let h = Header::new_checked(&k, 4096).unwrap();
        assert_eq!(h.msg_type(), MessageType::Keepalive);
        assert_eq!(h.length(), 19);
    }

    #[test]
    fn bad_marker_is_connection_not_synchronized() {
        let mut k = keepalive();
        k[3] = 0;
        let e = Header::new_checked(&k, 4096).unwrap_err();
        assert_eq!((e.code, e.subcode), (ErrorCode::MessageHeader, 1));
        // Detected before the header is complete, at every cut.
        for cut in 4..19 {
            let e = frame_len(&k[..cut], 4096).unwrap_err();
            assert_eq!(e.subcode, 1, "cut at {cut}");
        }
    }

    #[test]
    fn bad_length_carries_the_length_field() {
        let mut k = keepalive();
        k[16..18].copy_from_slice(&5000u16.to_be_bytes());
        let e = Header::new_checked(&k, 4096).unwrap_err();
        assert_eq!((e.subcode, e.data.as_slice()), (2, &[0x13, 0x88][..]));
        // Accepted with extended messages, then wrong for a KEEPALIVE.
        let e = Header::new_checked(&k, 65535).unwrap_err();
        assert_eq!(e.subcode, 2);
        k[18] = 2;
        assert!(Header::new_checked(&k, 65535).is_ok());
    }

    #[test]
    fn bad_type_carries_the_type() {
        let mut k = keepalive();
        k[18] = 9;
        let e = Header::new_checked(&k, 4096).unwrap_err();
        assert_eq!((e.subcode, e.data.as_slice()), (3, &[9][..]));
    }

    #[test]
    fn splitter_waits_then_cuts() {
        let mut stream = BytesMut::new();
        let k = keepalive();
        stream.extend_from_slice(&k[..10]);
        assert_eq!(split_frame(&mut stream, 4096).unwrap(), None);
        stream.extend_from_slice(&k[10..]);
        stream.extend_from_slice(&k[..4]);
        let f = split_frame(&mut stream, 4096).unwrap().unwrap();
        assert_eq!(&f[..], &k[..]);
        assert_eq!(stream.len(), 4);
        assert_eq!(split_frame(&mut stream, 4096).unwrap(), None);
    }

    #[test]
    fn emit_refuses_oversize() {
        let mut v = vec![1, 2];
        let e = emit_message(&mut v, MessageType::Update, 4096, |o| {
            o.resize(o.len() + 5000, 0);
            Ok(())
        })
        .unwrap_err();
        assert!(matches!(e, EncodeError::MessageTooLong { .. }));
        assert_eq!(v, vec![1, 2]);
    }
}
