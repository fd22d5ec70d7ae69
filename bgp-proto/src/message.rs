//! Whole BGP messages: the header validated, then the body dispatched to the
//! view of its type.
//!
//! [`Message::new_checked`] takes one framed message (marker included, as
//! [`crate::header::split_frame`] cuts them from a stream) and the session's
//! context; [`MessageRepr`] is the owned counterpart with `parse`/`emit`.

use crate::context::{SessionContext, MAX_MESSAGE_LEN};
use crate::error::Error;
use crate::header::{EncodeError, Header, MessageType, HEADER_LEN};
use crate::keepalive::{Keepalive, KeepaliveRepr};
use crate::notification::{Notification, NotificationRepr};
use crate::open::{Open, OpenRepr};
use crate::route_refresh::{RouteRefresh, RouteRefreshRepr};
use crate::update::{Update, UpdateRepr};

/// A validated message of any type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message<'a> {
    /// OPEN.
    Open(Open<'a>),
    /// UPDATE (which may carry a treat-as-withdraw or discard verdict).
    Update(Update<'a>),
    /// NOTIFICATION.
    Notification(Notification<'a>),
    /// KEEPALIVE.
    Keepalive,
    /// ROUTE-REFRESH.
    RouteRefresh(RouteRefresh<'a>),
}

impl<'a> Message<'a> {
    /// Validates one whole message. `msg` must hold exactly the octets its
    /// Length field announces (a longer or shorter buffer is a Bad Message
    /// Length, as it would be on the wire).
    pub fn new_checked(msg: &'a [u8], ctx: &SessionContext) -> Result<Self, Error> {
        let header = Header::new_checked(msg, ctx.max_message_len())?;
        if header.length() != msg.len() {
            return Err(Error::bad_length(
                u16::try_from(header.length()).unwrap_or(u16::MAX),
                "buffer does not hold exactly one message",
            ));
        }
        // RFC 8654 s4: the extended length never applies to OPEN (nor
        // KEEPALIVE, whose length is fixed).
        if header.msg_type() == MessageType::Open && header.length() > MAX_MESSAGE_LEN {
            return Err(Error::bad_length(
                u16::try_from(header.length()).unwrap_or(u16::MAX),
                "OPEN longer than 4096 octets (RFC 8654 s4)",
            ));
        }
        let body = msg.get(HEADER_LEN..).unwrap_or_default();
        Ok(match header.msg_type() {
            MessageType::Open => Self::Open(Open::new_checked(body)?),
            MessageType::Update => Self::Update(Update::new_checked(body, ctx)?),
            MessageType::Notification => Self::Notification(Notification::new_checked(body)?),
            MessageType::Keepalive => {
                Keepalive::new_checked(body)?;
                Self::Keepalive
            }
            MessageType::RouteRefresh => Self::RouteRefresh(RouteRefresh::new_checked(body)?),
        })
    }

    /// The message type.
    pub fn msg_type(&self) -> MessageType {
        match self {
            Self::Open(_) => MessageType::Open,
            Self::Update(_) => MessageType::Update,
            Self::Notification(_) => MessageType::Notification,
            Self::Keepalive => MessageType::Keepalive,
            Self::RouteRefresh(_) => MessageType::RouteRefresh,
        }
    }
}

/// An owned message of any type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageRepr {
    /// OPEN.
    Open(OpenRepr),
    /// UPDATE.
    Update(UpdateRepr),
    /// NOTIFICATION.
    Notification(NotificationRepr),
    /// KEEPALIVE.
    Keepalive,
    /// ROUTE-REFRESH.
    RouteRefresh(RouteRefreshRepr),
}

impl MessageRepr {
    /// The owned form of a view.
    pub fn parse(m: &Message<'_>) -> Self {
        match m {
            Message::Open(o) => Self::Open(OpenRepr::parse(o)),
            Message::Update(u) => Self::Update(UpdateRepr::parse(u)),
            Message::Notification(n) => Self::Notification(NotificationRepr::parse(n)),
            Message::Keepalive => Self::Keepalive,
            Message::RouteRefresh(r) => Self::RouteRefresh(RouteRefreshRepr::parse(r)),
        }
    }

    /// Appends the whole message. UPDATEs are encoded for `ctx` (AS number
    /// size, ADD-PATH, maximum length); NOTIFICATIONs may use the extended
    /// length too (RFC 8654 s4); OPEN always stays within 4096 octets.
    pub fn emit(&self, ctx: &SessionContext, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Self::Open(o) => o.emit(out),
            Self::Update(u) => u.emit(ctx, out),
            Self::Notification(n) => n.emit_with_max_len(out, ctx.max_message_len()),
            Self::Keepalive => KeepaliveRepr.emit(out),
            Self::RouteRefresh(r) => r.emit(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::afi::Family;
    use crate::codes::{CeaseSubcode, ErrorCode};
    use proptest::prelude::*;

    fn round_trip(m: MessageRepr) {
        let ctx = SessionContext::modern();
        let mut out = Vec::new();
        m.emit(&ctx, &mut out).unwrap();
        let v = Message::new_checked(&out, &ctx).unwrap();
        assert_eq!(MessageRepr::parse(&v), m);
    }

    #[test]
    fn every_type_round_trips() {
        round_trip(MessageRepr::Keepalive);
        round_trip(MessageRepr::Update(UpdateRepr::end_of_rib(
            Family::IPV6_UNICAST,
        )));
        round_trip(MessageRepr::Notification(NotificationRepr::cease(
            CeaseSubcode::ConnectionRejected,
        )));
        round_trip(MessageRepr::RouteRefresh(RouteRefreshRepr::borr(
            Family::IPV4_UNICAST,
        )));
        round_trip(MessageRepr::Open(OpenRepr {
            version: 4,
            my_as: 64512,
            hold_time: 90,
            bgp_identifier: [172, 29, 51, 11].into(),
            capabilities: vec![],
        }));
    }

    #[test]
    fn length_must_match_the_buffer() {
        let ctx = SessionContext::modern();
        let mut out = Vec::new();
        MessageRepr::Keepalive.emit(&ctx, &mut out).unwrap();
        out.push(0);
        let e = Message::new_checked(&out, &ctx).unwrap_err();
        assert_eq!((e.code, e.subcode), (ErrorCode::MessageHeader, 2));
        let e = Message::new_checked(&out[..10], &ctx).unwrap_err();
        assert_eq!(e.code, ErrorCode::MessageHeader);
    }

    #[test]
    fn extended_length_never_applies_to_open() {
        let ext = SessionContext::modern().with_extended_message();
        let mut msg = vec![0xff; 16];
        msg.extend_from_slice(&5000u16.to_be_bytes());
        msg.push(1);
        msg.resize(5000, 0);
        let e = Message::new_checked(&msg, &ext).unwrap_err();
        assert_eq!(
            (e.code, e.subcode, e.data.as_slice()),
            (ErrorCode::MessageHeader, 2, &[0x13, 0x88][..])
        );
        // A long NOTIFICATION is fine there, and encodes again.
        let n = MessageRepr::Notification(NotificationRepr {
            code: 6,
            subcode: 2,
            data: vec![0; 5000],
        });
        let mut out = Vec::new();
        n.emit(&ext, &mut out).unwrap();
        let v = Message::new_checked(&out, &ext).unwrap();
        assert_eq!(MessageRepr::parse(&v), n);
    }

    proptest! {
        #[test]
        fn arbitrary_messages_never_panic(body in proptest::collection::vec(any::<u8>(), 0..400), t in 1u8..=6) {
            let mut msg = vec![0xff; 16];
            msg.extend_from_slice(&((body.len() + 19) as u16).to_be_bytes());
            msg.push(t);
            msg.extend_from_slice(&body);
            for ctx in [SessionContext::modern(), SessionContext::classic()] {
                if let Ok(m) = Message::new_checked(&msg, &ctx) {
                    let _ = MessageRepr::parse(&m);
                }
            }
        }
    }
}
