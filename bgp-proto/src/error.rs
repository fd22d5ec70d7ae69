//! Decoding errors, each mapped to the NOTIFICATION it calls for.
//!
//! Every malformation the codec detects becomes an [`Error`] that carries the
//! RFC 4271 s6 error code, subcode and data field the RFC asks the speaker to
//! send, plus the RFC 7606 [`Action`] a receiver must take. Errors are rare, so
//! the data field is owned; its size is bounded by the message that caused it.

use crate::codes::{
    ErrorCode, MessageHeaderSubcode, OpenMessageSubcode, RouteRefreshSubcode, UpdateMessageSubcode,
};
use core::fmt;

/// What a receiver does about a malformed message (RFC 7606 s2).
///
/// Ordered by severity: when an UPDATE holds several errors the strongest
/// action wins (RFC 7606 s3 last paragraph).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Discard the attribute and go on processing the UPDATE.
    AttributeDiscard,
    /// Treat every prefix the UPDATE reaches or withdraws as withdrawn.
    TreatAsWithdraw,
    /// Send the NOTIFICATION and close the session.
    SessionReset,
}

/// A malformation, with the NOTIFICATION it maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// NOTIFICATION error code.
    pub code: ErrorCode,
    /// NOTIFICATION error subcode (0 where the code has none).
    pub subcode: u8,
    /// NOTIFICATION data field, as RFC 4271 s6 prescribes for this error.
    pub data: Vec<u8>,
    /// What the receiver must do (RFC 7606).
    pub action: Action,
    /// Human-readable detail for logs; never sent on the wire.
    pub reason: &'static str,
}

impl Error {
    /// A Message Header Error (always a session reset).
    pub fn header(sub: MessageHeaderSubcode, data: &[u8], reason: &'static str) -> Self {
        Self::session_reset(ErrorCode::MessageHeader, sub.as_u8(), data, reason)
    }

    /// An OPEN Message Error (always a session reset).
    pub fn open(sub: OpenMessageSubcode, data: &[u8], reason: &'static str) -> Self {
        Self::session_reset(ErrorCode::OpenMessage, sub.as_u8(), data, reason)
    }

    /// An UPDATE Message Error with the RFC 7606 action that applies.
    pub fn update(
        sub: UpdateMessageSubcode,
        data: &[u8],
        action: Action,
        reason: &'static str,
    ) -> Self {
        Self {
            code: ErrorCode::UpdateMessage,
            subcode: sub.as_u8(),
            data: data.to_vec(),
            action,
            reason,
        }
    }

    /// A ROUTE-REFRESH Message Error (RFC 7313 s5).
    pub fn route_refresh(sub: RouteRefreshSubcode, data: &[u8], reason: &'static str) -> Self {
        Self::session_reset(ErrorCode::RouteRefreshMessage, sub.as_u8(), data, reason)
    }

    /// Any error that resets the session.
    pub fn session_reset(code: ErrorCode, subcode: u8, data: &[u8], reason: &'static str) -> Self {
        Self {
            code,
            subcode,
            data: data.to_vec(),
            action: Action::SessionReset,
            reason,
        }
    }

    /// Bad Message Length with the offending length field as data (RFC 4271 s6.1).
    pub fn bad_length(length: u16, reason: &'static str) -> Self {
        Self::header(
            MessageHeaderSubcode::BadMessageLength,
            &length.to_be_bytes(),
            reason,
        )
    }

    /// The same error with another action (used where RFC 7606 overrides RFC 4271).
    pub fn with_action(mut self, action: Action) -> Self {
        self.action = action;
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        match crate::codes::subcode_name(self.code.as_u8(), self.subcode) {
            Some(name) => write!(f, " / {name}")?,
            None => write!(f, " / subcode {}", self.subcode)?,
        }
        write!(f, ": {} ({:?})", self.reason, self.action)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_code_and_subcode() {
        let e = Error::bad_length(5000, "longer than 4096");
        assert_eq!(e.data, vec![0x13, 0x88]);
        assert_eq!(
            e.to_string(),
            "Message Header Error / Bad Message Length: longer than 4096 (SessionReset)"
        );
    }

    #[test]
    fn actions_order_by_severity() {
        assert!(Action::SessionReset > Action::TreatAsWithdraw);
        assert!(Action::TreatAsWithdraw > Action::AttributeDiscard);
    }
}
