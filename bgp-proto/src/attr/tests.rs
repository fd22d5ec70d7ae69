//! RFC 7606 classification of every attribute and the typed iterator.

use super::*;
use crate::codes::ErrorCode;

/// Encodes one attribute with the given flags (extended length if needed).
pub(crate) fn attr(flags: u8, t: u8, value: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    if value.len() > 255 {
        v.extend_from_slice(&[flags | flags::EXTENDED_LENGTH, t]);
        v.extend_from_slice(&(value.len() as u16).to_be_bytes());
    } else {
        v.extend_from_slice(&[flags, t, value.len() as u8]);
    }
    v.extend_from_slice(value);
    v
}

const WK: u8 = flags::TRANSITIVE;
const OT: u8 = flags::OPTIONAL | flags::TRANSITIVE;
const ON: u8 = flags::OPTIONAL;

fn verdict(buf: &[u8], ctx: &SessionContext) -> Option<(u8, Action)> {
    match Attributes::new_checked(buf, ctx) {
        Err(e) => Some((e.subcode, e.action)),
        Ok(a) => a.error().map(|e| (e.subcode, e.action)),
    }
}

#[test]
fn well_formed_set_decodes() {
    let ctx = SessionContext::modern();
    let mut buf = attr(WK, 1, &[0]);
    buf.extend(attr(WK, 2, &[2, 1, 0, 0, 0xfc, 0]));
    buf.extend(attr(WK, 3, &[172, 29, 51, 11]));
    buf.extend(attr(ON, 4, &[0, 0, 0, 0]));
    buf.extend(attr(WK, 5, &[0, 0, 0, 100]));
    buf.extend(attr(WK, 6, &[]));
    buf.extend(attr(OT, 7, &[0, 0, 0xfc, 0, 172, 29, 51, 11]));
    buf.extend(attr(OT, 8, &[0xff, 0xff, 0xff, 0x01]));
    buf.extend(attr(ON, 9, &[1, 1, 1, 1]));
    buf.extend(attr(ON, 10, &[2, 2, 2, 2]));
    buf.extend(attr(OT, 16, &[0, 2, 0xfc, 0, 0, 0, 0, 1]));
    buf.extend(attr(OT, 32, &[0; 12]));
    buf.extend(attr(OT, 35, &[0, 0, 0xfc, 1]));
    buf.extend(attr(OT | flags::PARTIAL, 99, &[1, 2, 3]));
    let a = Attributes::new_checked(&buf, &ctx).unwrap();
    assert!(a.error().is_none());
    let kinds: Vec<_> = a.iter().map(|x| std::mem::discriminant(&x)).collect();
    assert_eq!(kinds.len(), 14);
    match a.get(type_code::AS_PATH) {
        Some(Attribute::AsPath(p)) => assert_eq!(p.to_string(), "64512"),
        other => panic!("{other:?}"),
    }
    match a.iter().last() {
        Some(Attribute::Unknown(r)) => {
            assert_eq!((r.type_code, r.value), (99, &[1, 2, 3][..]));
            assert!(r.is_partial());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn per_attribute_actions_follow_rfc7606() {
    use crate::codes::UpdateMessageSubcode as S;
    use Action::*;
    let m = SessionContext::modern();
    let cases: Vec<(Vec<u8>, (S, Action))> = vec![
        (
            attr(WK, 1, &[0, 0]),
            (S::AttributeLengthError, TreatAsWithdraw),
        ),
        (
            attr(WK, 1, &[3]),
            (S::InvalidOriginAttribute, TreatAsWithdraw),
        ),
        (
            attr(WK, 2, &[2, 2, 0, 0, 0, 1]),
            (S::MalformedAsPath, TreatAsWithdraw),
        ),
        (
            attr(WK, 2, &[7, 1, 0, 0, 0, 1]),
            (S::MalformedAsPath, TreatAsWithdraw),
        ),
        (attr(WK, 2, &[2, 0]), (S::MalformedAsPath, TreatAsWithdraw)),
        // RFC 7607: AS 0 anywhere in AS_PATH, AS4_PATH, AGGREGATOR.
        (
            attr(WK, 2, &[2, 2, 0, 0, 0xfc, 0, 0, 0, 0, 0]),
            (S::MalformedAsPath, TreatAsWithdraw),
        ),
        (
            attr(WK, 2, &[1, 1, 0, 0, 0, 0]),
            (S::MalformedAsPath, TreatAsWithdraw),
        ),
        (
            attr(OT, 17, &[2, 1, 0, 0, 0, 0]),
            (S::MalformedAsPath, AttributeDiscard),
        ),
        (
            attr(OT, 7, &[0, 0, 0, 0, 10, 0, 0, 1]),
            (S::OptionalAttributeError, AttributeDiscard),
        ),
        (
            attr(OT, 18, &[0, 0, 0, 0, 10, 0, 0, 1]),
            (S::OptionalAttributeError, AttributeDiscard),
        ),
        (
            attr(WK, 3, &[1, 2, 3]),
            (S::AttributeLengthError, TreatAsWithdraw),
        ),
        (
            attr(ON, 4, &[1]),
            (S::AttributeLengthError, TreatAsWithdraw),
        ),
        (
            attr(WK, 5, &[1, 2, 3, 4, 5]),
            (S::AttributeLengthError, TreatAsWithdraw),
        ),
        (
            attr(WK, 6, &[1]),
            (S::AttributeLengthError, AttributeDiscard),
        ),
        (
            attr(OT, 7, &[1, 2, 3, 4, 5, 6]),
            (S::AttributeLengthError, AttributeDiscard),
        ),
        (
            attr(OT, 8, &[1, 2, 3]),
            (S::AttributeLengthError, TreatAsWithdraw),
        ),
        (attr(OT, 8, &[]), (S::AttributeLengthError, TreatAsWithdraw)),
        (
            attr(ON, 9, &[1]),
            (S::AttributeLengthError, TreatAsWithdraw),
        ),
        (
            attr(ON, 10, &[1, 2, 3, 4, 5]),
            (S::AttributeLengthError, TreatAsWithdraw),
        ),
        (
            attr(OT, 16, &[1; 7]),
            (S::AttributeLengthError, TreatAsWithdraw),
        ),
        (
            attr(OT, 17, &[2, 1, 0, 1]),
            (S::MalformedAsPath, AttributeDiscard),
        ),
        (
            attr(OT, 18, &[0; 6]),
            (S::AttributeLengthError, AttributeDiscard),
        ),
        (
            attr(OT, 32, &[0; 8]),
            (S::AttributeLengthError, TreatAsWithdraw),
        ),
        (
            attr(OT, 35, &[0; 3]),
            (S::AttributeLengthError, TreatAsWithdraw),
        ),
        // Flags conflicting with the type.
        (attr(OT, 1, &[0]), (S::AttributeFlagsError, TreatAsWithdraw)),
        (
            attr(WK, 8, &[0, 0, 0, 1]),
            (S::AttributeFlagsError, TreatAsWithdraw),
        ),
        (
            attr(OT, 14, &[0, 1, 1, 4, 1, 1, 1, 1, 0]),
            (S::AttributeFlagsError, SessionReset),
        ),
        // MP attributes that cannot be trusted reset the session.
        (
            attr(ON, 14, &[0, 2, 1, 4, 1, 1, 1, 1, 0]),
            (S::OptionalAttributeError, SessionReset),
        ),
        (
            attr(ON, 14, &[0, 1, 1, 4, 1, 1, 1, 1, 0, 40]),
            (S::OptionalAttributeError, SessionReset),
        ),
        (
            attr(ON, 15, &[0, 2]),
            (S::OptionalAttributeError, SessionReset),
        ),
        // An unrecognized well-known attribute cannot be passed on.
        (
            attr(WK, 200, &[1]),
            (S::UnrecognizedWellKnownAttribute, SessionReset),
        ),
    ];
    for (buf, (sub, action)) in cases {
        assert_eq!(verdict(&buf, &m), Some((sub.as_u8(), action)), "{buf:02x?}");
    }
}

#[test]
fn aggregator_size_follows_the_session() {
    let two = attr(OT, 7, &[0xfc, 0, 10, 0, 0, 1]);
    assert_eq!(verdict(&two, &SessionContext::classic()), None);
    assert!(verdict(&two, &SessionContext::modern()).is_some());
    let a = Attributes::new_checked(&two, &SessionContext::classic()).unwrap();
    assert_eq!(
        a.get(type_code::AGGREGATOR),
        Some(Attribute::Aggregator(Aggregator {
            asn: 64512,
            address: Ipv4Addr::new(10, 0, 0, 1)
        }))
    );
}

#[test]
fn error_data_is_the_attribute() {
    let buf = attr(WK, 3, &[1, 2, 3]);
    let a = Attributes::new_checked(&buf, &SessionContext::modern()).unwrap();
    let e = a.error().unwrap();
    assert_eq!(e.code, ErrorCode::UpdateMessage);
    assert_eq!(e.data, buf);
    // Malformed AS_PATH carries no data.
    let buf = attr(WK, 2, &[2, 2, 0, 1]);
    let a = Attributes::new_checked(&buf, &SessionContext::modern()).unwrap();
    assert!(a.error().unwrap().data.is_empty());
}

#[test]
fn discard_is_skipped_and_weaker_than_withdraw() {
    let ctx = SessionContext::modern();
    let mut buf = attr(WK, 1, &[0]);
    buf.extend(attr(WK, 6, &[9]));
    buf.extend(attr(WK, 5, &[0, 0, 0, 7]));
    let a = Attributes::new_checked(&buf, &ctx).unwrap();
    assert_eq!(a.error().unwrap().action, Action::AttributeDiscard);
    assert_eq!(a.iter().count(), 2);
    assert_eq!(a.get(type_code::ATOMIC_AGGREGATE), None);
    assert_eq!(a.raw().count(), 3);
    buf.extend(attr(WK, 3, &[1]));
    let a = Attributes::new_checked(&buf, &ctx).unwrap();
    assert!(a.is_treat_as_withdraw());
    assert!(matches!(a.iter().last(), Some(Attribute::Invalid(_))));
}

#[test]
fn repeated_attributes() {
    let ctx = SessionContext::modern();
    let mut buf = attr(WK, 1, &[0]);
    buf.extend(attr(WK, 1, &[2]));
    let a = Attributes::new_checked(&buf, &ctx).unwrap();
    assert!(a.error().is_none());
    assert_eq!(
        a.iter().collect::<Vec<_>>(),
        vec![Attribute::Origin(Origin::Igp)]
    );
    let mp = attr(ON, 15, &[0, 2, 1]);
    let twice = [mp.clone(), mp].concat();
    let e = Attributes::new_checked(&twice, &ctx).unwrap_err();
    assert_eq!((e.subcode, e.action), (1, Action::SessionReset));
}

#[test]
fn overrun_is_treat_as_withdraw() {
    let ctx = SessionContext::modern();
    let mut buf = attr(WK, 1, &[0]);
    buf.extend_from_slice(&[WK, 3, 4, 1, 2]);
    let a = Attributes::new_checked(&buf, &ctx).unwrap();
    assert!(a.is_treat_as_withdraw());
    assert_eq!(a.error().unwrap().subcode, 1);
    // Fewer octets than an attribute header.
    let mut buf = attr(WK, 1, &[0]);
    buf.extend_from_slice(&[WK, 3]);
    assert!(Attributes::new_checked(&buf, &ctx)
        .unwrap()
        .is_treat_as_withdraw());
}

#[test]
fn extended_length_on_a_short_value_is_fine() {
    let buf = [WK | flags::EXTENDED_LENGTH, 1, 0, 1, 2];
    let a = Attributes::new_checked(&buf, &SessionContext::modern()).unwrap();
    assert_eq!(a.iter().next(), Some(Attribute::Origin(Origin::Incomplete)));
}

#[test]
fn repr_emit_round_trips_with_canonical_flags() {
    let ctx = SessionContext::modern();
    let reprs = vec![
        AttributeRepr::Origin(Origin::Egp),
        AttributeRepr::AsPath(AsPathRepr::sequence(1..101)),
        AttributeRepr::Communities((0..80).map(Community).collect()),
        AttributeRepr::Unknown {
            flags: OT | flags::PARTIAL,
            type_code: 250,
            value: vec![7; 300],
        },
    ];
    let mut buf = Vec::new();
    for r in &reprs {
        r.emit(&ctx, &mut buf).unwrap();
    }
    let a = Attributes::new_checked(&buf, &ctx).unwrap();
    let back: Vec<_> = a.iter().map(|x| AttributeRepr::parse(&x)).collect();
    assert_eq!(back, reprs);
    // The 400-octet AS_PATH and the communities took the extended length form.
    let flagged: Vec<_> = a
        .raw()
        .map(|r| r.flags & flags::EXTENDED_LENGTH != 0)
        .collect();
    assert_eq!(flagged, vec![false, true, true, true]);
}

/// Fuzzer finding: an empty AS_SET made the UPDATE treat-as-withdraw, but
/// the typed view still read it as a (shortened) path, so re-encoding
/// changed the message. Invalid attributes now keep their octets.
#[test]
fn invalid_attribute_keeps_its_octets() {
    let ctx = SessionContext::modern();
    let mut buf = attr(WK, 1, &[0]);
    buf.extend(attr(WK, 2, &[1, 0]));
    let a = Attributes::new_checked(&buf, &ctx).unwrap();
    assert!(a.is_treat_as_withdraw());
    let typed: Vec<_> = a.iter().collect();
    assert!(matches!(typed[1], Attribute::Invalid(r) if r.value == [1, 0]));
    assert!(matches!(
        a.get(type_code::AS_PATH),
        Some(Attribute::Invalid(_))
    ));
    let reprs: Vec<_> = typed.iter().map(AttributeRepr::parse).collect();
    let mut again = Vec::new();
    for r in &reprs {
        r.emit(&ctx, &mut again).unwrap();
    }
    assert_eq!(again, buf);
}

#[test]
fn as_0_path_is_yielded_invalid_with_its_octets() {
    let m = SessionContext::modern();
    let path = attr(WK, 2, &[2, 2, 0, 0, 0xfc, 0, 0, 0, 0, 0]);
    let buf = [attr(WK, 1, &[0]), path.clone()].concat();
    let a = Attributes::new_checked(&buf, &m).unwrap();
    assert!(a.is_treat_as_withdraw());
    let got: Vec<_> = a.iter().collect();
    assert!(
        matches!(got[1], Attribute::Invalid(raw) if raw.type_code == 2 && raw.value == &path[3..]),
        "{got:?}"
    );
}
