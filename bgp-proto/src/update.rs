//! UPDATE messages (RFC 4271 s4.3), validated once with RFC 7606 handling.
//!
//! [`Update::new_checked`] splits the three fields, validates withdrawn
//! routes and NLRI (a malformed NLRI field resets the session, RFC 7606
//! s5.3), validates the path attributes ([`Attributes`]), and checks that a
//! reachability UPDATE carries the mandatory well-known attributes. `Err`
//! means session reset; otherwise [`Update::error`] tells whether the routes
//! are to be treated as withdrawn or some attributes were discarded. After
//! that every accessor is infallible and lazy.

use crate::afi::Family;
use crate::attr::{type_code, AttrIter, Attribute, AttributeRepr, Attributes, MpReach, MpUnreach};
use crate::codes::UpdateMessageSubcode as Sub;
use crate::context::SessionContext;
use crate::error::{Action, Error};
use crate::header::{emit_message, EncodeError, MessageType};
use crate::nlri::{self, Nlri, NlriIter};

/// A validated UPDATE body (the octets after the 19-octet header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update<'a> {
    withdrawn: &'a [u8],
    attrs: Attributes<'a>,
    nlri: &'a [u8],
}

/// The three fields: withdrawn routes, path attributes, NLRI.
fn split(body: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let [w0, w1, ref rest @ ..] = *body else {
        return None;
    };
    let (withdrawn, rest) = rest.split_at_checked(usize::from(u16::from_be_bytes([w0, w1])))?;
    let [a0, a1, ref rest @ ..] = *rest else {
        return None;
    };
    let (attrs, nlri) = rest.split_at_checked(usize::from(u16::from_be_bytes([a0, a1])))?;
    Some((withdrawn, attrs, nlri))
}

impl<'a> Update<'a> {
    /// Validates an UPDATE body under the session's `ctx`.
    #[inline]
    pub fn new_checked(body: &'a [u8], ctx: &SessionContext) -> Result<Self, Error> {
        // RFC 4271 s6.3: field lengths that overrun the message.
        let (withdrawn, attrs, nlri_field) = split(body).ok_or_else(|| {
            Error::update(
                Sub::MalformedAttributeList,
                &[],
                Action::SessionReset,
                "withdrawn routes or path attribute length overruns the message",
            )
        })?;
        let ap4 = ctx.add_path(Family::IPV4_UNICAST);
        let invalid_network =
            |reason| Error::update(Sub::InvalidNetworkField, &[], Action::SessionReset, reason);
        nlri::check(withdrawn, false, ap4)
            .map_err(|_| invalid_network("withdrawn routes field malformed"))?;
        nlri::check(nlri_field, false, ap4).map_err(|_| invalid_network("NLRI field malformed"))?;
        // A valid field holds at least one route exactly when it is not empty.
        let has_nlri = !nlri_field.is_empty();
        // Validated in place, inside the value returned.
        let mut me = Self {
            withdrawn,
            attrs: Attributes::unchecked(attrs, ctx),
            nlri: nlri_field,
        };
        me.attrs.validate()?;
        let attrs = &mut me.attrs;
        let mp_reach = attrs.contains(type_code::MP_REACH_NLRI);
        if has_nlri || mp_reach {
            // RFC 7606 s3 d: a missing mandatory attribute is treat-as-withdraw;
            // NEXT_HOP is mandatory only with routes in the NLRI field (RFC 4760 s3).
            let (mandatory, all): (&[u8], u64) = if has_nlri {
                (
                    &[type_code::ORIGIN, type_code::AS_PATH, type_code::NEXT_HOP],
                    1 << type_code::ORIGIN | 1 << type_code::AS_PATH | 1 << type_code::NEXT_HOP,
                )
            } else {
                (
                    &[type_code::ORIGIN, type_code::AS_PATH],
                    1 << type_code::ORIGIN | 1 << type_code::AS_PATH,
                )
            };
            // One mask test when all are there (the common case); only
            // otherwise the search that names the first one missing.
            if attrs.present_below_64() & all != all {
                if let Some(&missing) = mandatory.iter().find(|&&t| !attrs.contains(t)) {
                    attrs.note_error(Error::update(
                        Sub::MissingWellKnownAttribute,
                        &[missing],
                        Action::TreatAsWithdraw,
                        "mandatory well-known attribute missing",
                    ));
                }
            }
        }
        Ok(me)
    }

    /// The context this UPDATE was decoded with.
    pub fn context(&self) -> &SessionContext {
        self.attrs.context()
    }

    /// The strongest non-fatal error (treat-as-withdraw, attribute discard).
    pub fn error(&self) -> Option<&Error> {
        self.attrs.error()
    }

    /// Whether every route in this UPDATE must be treated as withdrawn.
    pub fn is_treat_as_withdraw(&self) -> bool {
        self.attrs.is_treat_as_withdraw()
    }

    /// IPv4 unicast routes in the Withdrawn Routes field.
    pub fn withdrawn(&self) -> NlriIter<'a> {
        NlriIter::new(
            self.withdrawn,
            false,
            self.context().add_path(Family::IPV4_UNICAST),
        )
    }

    /// IPv4 unicast routes in the NLRI field.
    pub fn nlri(&self) -> NlriIter<'a> {
        NlriIter::new(
            self.nlri,
            false,
            self.context().add_path(Family::IPV4_UNICAST),
        )
    }

    /// The path attributes.
    pub fn attributes(&self) -> &Attributes<'a> {
        &self.attrs
    }

    /// Typed path attributes in order, discarded and repeated ones skipped.
    #[inline]
    pub fn attribute_iter(&self) -> AttrIter<'a> {
        self.attrs.iter()
    }

    /// MP_REACH_NLRI, if present.
    pub fn mp_reach(&self) -> Option<MpReach<'a>> {
        self.attrs.mp_reach()
    }

    /// MP_UNREACH_NLRI, if present.
    pub fn mp_unreach(&self) -> Option<MpUnreach<'a>> {
        self.attrs.mp_unreach()
    }

    /// Every route announced, from the NLRI field (IPv4 unicast) and
    /// MP_REACH_NLRI, with its family. Empty when the UPDATE is
    /// treat-as-withdraw: see [`withdrawals`](Self::withdrawals).
    pub fn announced(&self) -> impl Iterator<Item = (Family, Nlri)> + 'a {
        let taw = self.is_treat_as_withdraw();
        let field = self.nlri().filter(move |_| !taw);
        let mp = self
            .mp_reach()
            .filter(|_| !taw)
            .map(|m| (m.family(), m.nlri()));
        field
            .map(|n| (Family::IPV4_UNICAST, n))
            .chain(mp.into_iter().flat_map(|(f, it)| it.map(move |n| (f, n))))
    }

    /// Every route to remove: the Withdrawn Routes field, MP_UNREACH_NLRI,
    /// and, when the UPDATE is treat-as-withdraw, its announced routes too
    /// (RFC 7606 s2).
    pub fn withdrawals(&self) -> impl Iterator<Item = (Family, Nlri)> + 'a {
        let taw = self.is_treat_as_withdraw();
        let unreach = self.mp_unreach().map(|m| (m.family(), m.withdrawn()));
        let reach = self
            .mp_reach()
            .filter(|_| taw)
            .map(|m| (m.family(), m.nlri()));
        let field = self.nlri().filter(move |_| taw);
        self.withdrawn()
            .chain(field)
            .map(|n| (Family::IPV4_UNICAST, n))
            .chain(
                unreach
                    .into_iter()
                    .chain(reach)
                    .flat_map(|(f, it)| it.map(move |n| (f, n))),
            )
    }

    /// The family this UPDATE marks End-of-RIB for (RFC 4724 s2): an empty
    /// UPDATE for IPv4 unicast, or one whose only attribute is an empty
    /// MP_UNREACH_NLRI.
    pub fn end_of_rib(&self) -> Option<Family> {
        if !self.withdrawn.is_empty() || !self.nlri.is_empty() {
            return None;
        }
        let mut raw = self.attrs.raw();
        match (raw.next(), raw.next()) {
            (None, _) => Some(Family::IPV4_UNICAST),
            (Some(a), None) if a.type_code == type_code::MP_UNREACH_NLRI => {
                match self.mp_unreach() {
                    Some(m) if m.is_empty() => Some(m.family()),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// An owned UPDATE.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct UpdateRepr {
    /// IPv4 unicast routes withdrawn in the Withdrawn Routes field.
    pub withdrawn: Vec<Nlri>,
    /// Path attributes in order.
    pub attributes: Vec<AttributeRepr>,
    /// IPv4 unicast routes in the NLRI field.
    pub nlri: Vec<Nlri>,
}

impl UpdateRepr {
    /// The owned form of a view (discarded and repeated attributes left out).
    pub fn parse(u: &Update<'_>) -> Self {
        Self {
            withdrawn: u.withdrawn().collect(),
            attributes: u
                .attribute_iter()
                .map(|a: Attribute<'_>| AttributeRepr::parse(&a))
                .collect(),
            nlri: u.nlri().collect(),
        }
    }

    /// The End-of-RIB marker for `family` (RFC 4724 s2).
    pub fn end_of_rib(family: Family) -> Self {
        if family == Family::IPV4_UNICAST {
            Self::default()
        } else {
            Self {
                attributes: vec![AttributeRepr::mp_unreach(family, Vec::new())],
                ..Self::default()
            }
        }
    }

    /// Appends the body (no header) encoded for `ctx`.
    pub fn emit_body(&self, ctx: &SessionContext, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let ap4 = ctx.add_path(Family::IPV4_UNICAST);
        let start = out.len();
        out.extend_from_slice(&[0, 0]);
        nlri::emit_all(&self.withdrawn, ap4, out)?;
        let wlen = u16::try_from(out.len() - start - 2)
            .map_err(|_| EncodeError::FieldTooLong("withdrawn routes"))?;
        out[start..start + 2].copy_from_slice(&wlen.to_be_bytes());
        let astart = out.len();
        out.extend_from_slice(&[0, 0]);
        for a in &self.attributes {
            a.emit(ctx, out)?;
        }
        let alen = u16::try_from(out.len() - astart - 2)
            .map_err(|_| EncodeError::FieldTooLong("path attributes"))?;
        out[astart..astart + 2].copy_from_slice(&alen.to_be_bytes());
        nlri::emit_all(&self.nlri, ap4, out)
    }

    /// Appends the whole message, header included; fails if it would exceed
    /// the context's maximum message length.
    pub fn emit(&self, ctx: &SessionContext, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        emit_message(out, MessageType::Update, ctx.max_message_len(), |o| {
            self.emit_body(ctx, o)
        })
    }
}

#[cfg(test)]
mod tests;
