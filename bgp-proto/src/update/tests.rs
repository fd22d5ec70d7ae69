//! UPDATE validation, End-of-RIB, treat-as-withdraw, and property tests.

use super::*;
use crate::attr::{flags, AsPathRepr, Origin};
use crate::codes::UpdateMessageSubcode as S;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr};

fn body(withdrawn: &[u8], attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut v = (withdrawn.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(withdrawn);
    v.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    v.extend_from_slice(attrs);
    v.extend_from_slice(nlri);
    v
}

fn route(s: &str) -> Nlri {
    Nlri {
        path_id: None,
        prefix: s.parse().unwrap(),
    }
}

/// The UPDATE a Cilium node sends for one LoadBalancer /32 and one /128.
fn cilium_update() -> UpdateRepr {
    UpdateRepr {
        withdrawn: vec![],
        attributes: vec![
            AttributeRepr::Origin(Origin::Igp),
            AttributeRepr::AsPath(AsPathRepr::sequence([64512])),
            AttributeRepr::NextHop(Ipv4Addr::new(172, 29, 51, 11)),
            AttributeRepr::mp_reach(
                Family::IPV6_UNICAST,
                IpAddr::V6("fd47:25e1:2f96:51::11".parse().unwrap()),
                vec![route("fd47:25e1:2f96:51:100::5/128")],
            ),
        ],
        nlri: vec![route("172.29.52.200/32")],
    }
}

#[test]
fn cilium_update_round_trips() {
    let ctx = SessionContext::modern();
    let mut msg = Vec::new();
    cilium_update().emit(&ctx, &mut msg).unwrap();
    let u = Update::new_checked(&msg[19..], &ctx).unwrap();
    assert!(u.error().is_none());
    let ann: Vec<_> = u
        .announced()
        .map(|(f, n)| (f, n.prefix.to_string()))
        .collect();
    assert_eq!(
        ann,
        vec![
            (Family::IPV4_UNICAST, "172.29.52.200/32".to_string()),
            (
                Family::IPV6_UNICAST,
                "fd47:25e1:2f96:51:100::5/128".to_string()
            )
        ]
    );
    assert_eq!(u.withdrawals().count(), 0);
    assert_eq!(u.end_of_rib(), None);
    assert_eq!(UpdateRepr::parse(&u), cilium_update());
}

#[test]
fn end_of_rib_for_every_family() {
    let ctx = SessionContext::modern();
    for f in Family::DECODED
        .into_iter()
        .chain([Family::new(crate::Afi(25), crate::Safi(70))])
    {
        let mut msg = Vec::new();
        UpdateRepr::end_of_rib(f).emit(&ctx, &mut msg).unwrap();
        let u = Update::new_checked(&msg[19..], &ctx).unwrap();
        assert_eq!(u.end_of_rib(), Some(f));
    }
    assert_eq!(
        UpdateRepr::end_of_rib(Family::IPV4_UNICAST).emit_body(&ctx, &mut Vec::new()),
        Ok(())
    );
    // A withdrawal is not an End-of-RIB.
    let b = body(&[8, 10], &[], &[]);
    assert_eq!(Update::new_checked(&b, &ctx).unwrap().end_of_rib(), None);
}

#[test]
fn missing_mandatory_attribute_withdraws_the_routes() {
    let ctx = SessionContext::modern();
    let mut u = cilium_update();
    u.attributes.remove(0); // ORIGIN
    let mut msg = Vec::new();
    u.emit(&ctx, &mut msg).unwrap();
    let v = Update::new_checked(&msg[19..], &ctx).unwrap();
    let e = v.error().unwrap();
    assert_eq!(
        (e.subcode, e.data.as_slice()),
        (S::MissingWellKnownAttribute.as_u8(), &[1][..])
    );
    assert!(v.is_treat_as_withdraw());
    assert_eq!(v.announced().count(), 0);
    let w: Vec<_> = v.withdrawals().map(|(_, n)| n.prefix.to_string()).collect();
    assert_eq!(w, vec!["172.29.52.200/32", "fd47:25e1:2f96:51:100::5/128"]);
    // NEXT_HOP is not mandatory when routes come only in MP_REACH_NLRI.
    let mut u = cilium_update();
    u.nlri.clear();
    u.attributes.remove(2);
    let mut msg = Vec::new();
    u.emit(&ctx, &mut msg).unwrap();
    assert!(Update::new_checked(&msg[19..], &ctx)
        .unwrap()
        .error()
        .is_none());
}

#[test]
fn field_errors_reset_the_session() {
    let ctx = SessionContext::modern();
    let e = Update::new_checked(&[0, 5, 1], &ctx).unwrap_err();
    assert_eq!(
        (e.subcode, e.action),
        (S::MalformedAttributeList.as_u8(), Action::SessionReset)
    );
    let e = Update::new_checked(&[0, 0, 0, 9, 1], &ctx).unwrap_err();
    assert_eq!(e.subcode, S::MalformedAttributeList.as_u8());
    let e = Update::new_checked(&[0], &ctx).unwrap_err();
    assert_eq!(e.subcode, S::MalformedAttributeList.as_u8());
    let e = Update::new_checked(&body(&[33, 1, 1, 1, 1, 1], &[], &[]), &ctx).unwrap_err();
    assert_eq!(e.subcode, S::InvalidNetworkField.as_u8());
    let e = Update::new_checked(&body(&[], &[], &[24, 1]), &ctx).unwrap_err();
    assert_eq!(e.subcode, S::InvalidNetworkField.as_u8());
}

#[test]
fn add_path_nlri_field() {
    let ctx = SessionContext::modern().with_add_path(Family::IPV4_UNICAST);
    let b = body(&[0, 0, 0, 3, 32, 172, 29, 52, 200], &[], &[]);
    let u = Update::new_checked(&b, &ctx).unwrap();
    let w: Vec<_> = u.withdrawals().collect();
    assert_eq!(w[0].1.path_id, Some(3));
    // The same octets without ADD-PATH do not parse.
    assert!(Update::new_checked(&b, &SessionContext::modern()).is_err());
}

#[test]
fn treat_as_withdraw_from_bad_attribute_flags_keeps_mp_withdrawals() {
    let ctx = SessionContext::modern();
    let mut attrs = Vec::new();
    AttributeRepr::mp_unreach(Family::IPV6_UNICAST, vec![route("fd00::/64")])
        .emit(&ctx, &mut attrs)
        .unwrap();
    attrs.extend_from_slice(&[flags::OPTIONAL | flags::TRANSITIVE, 1, 1, 0]);
    let b = body(&[], &attrs, &[24, 10, 0, 0]);
    let u = Update::new_checked(&b, &ctx).unwrap();
    assert!(u.is_treat_as_withdraw());
    let w: Vec<_> = u.withdrawals().map(|(_, n)| n.prefix.to_string()).collect();
    assert_eq!(w, vec!["10.0.0.0/24", "fd00::/64"]);
}

#[test]
fn oversize_update_is_refused_unless_extended() {
    let mut u = cilium_update();
    u.nlri = (0..1500u32)
        .map(|i| Nlri {
            path_id: None,
            prefix: IpNet::new(IpAddr::V4(Ipv4Addr::from(i << 8)), 24).unwrap(),
        })
        .collect();
    let mut out = Vec::new();
    assert!(u.emit(&SessionContext::modern(), &mut out).is_err());
    assert!(out.is_empty());
    let ext = SessionContext::modern().with_extended_message();
    u.emit(&ext, &mut out).unwrap();
    assert!(out.len() > 4096);
    let v = Update::new_checked(&out[19..], &ext).unwrap();
    assert_eq!(v.nlri().count(), 1500);
}

mod props {
    use super::*;
    use crate::afi::{Afi, Safi};
    use crate::attr::{
        Aggregator, Community, ExtendedCommunity, LargeCommunity, MpReachRepr, MpUnreachRepr,
        SegmentRepr, SegmentType,
    };
    use proptest::collection::vec;
    use proptest::prelude::*;

    fn prefix(v6: bool) -> BoxedStrategy<IpNet> {
        if v6 {
            (any::<u128>(), 0u8..=128)
                .prop_map(|(a, l)| IpNet::new(IpAddr::V6(a.into()), l).unwrap().trunc())
                .boxed()
        } else {
            (any::<u32>(), 0u8..=32)
                .prop_map(|(a, l)| IpNet::new(IpAddr::V4(a.into()), l).unwrap().trunc())
                .boxed()
        }
    }

    fn routes(v6: bool, add_path: bool) -> impl Strategy<Value = Vec<Nlri>> {
        vec(
            (prefix(v6), any::<u32>()).prop_map(move |(prefix, id)| Nlri {
                path_id: add_path.then_some(id),
                prefix,
            }),
            0..8,
        )
    }

    fn as_path() -> impl Strategy<Value = AsPathRepr> {
        vec(
            (1u8..=4, vec(1u32..=u32::MAX, 1..12)).prop_map(|(t, asns)| SegmentRepr {
                seg_type: SegmentType::from_u8(t).unwrap(),
                asns,
            }),
            0..4,
        )
        .prop_map(|segments| AsPathRepr { segments })
    }

    fn family() -> impl Strategy<Value = Family> {
        prop_oneof![
            Just(Family::IPV4_UNICAST),
            Just(Family::IPV4_MULTICAST),
            Just(Family::IPV6_UNICAST),
            Just(Family::IPV6_MULTICAST),
            Just(Family::new(Afi(1), Safi(128))),
        ]
    }

    fn mp_reach(add_path: bool) -> impl Strategy<Value = AttributeRepr> {
        family().prop_flat_map(move |f| {
            let v6 = f.afi == Afi::IPV6;
            let decoded = f.index().is_some();
            let nh_lens: Vec<usize> = match (decoded, v6) {
                (false, _) => vec![0, 12, 24],
                (true, true) => vec![16, 32],
                (true, false) => vec![4, 16, 32],
            };
            (
                proptest::sample::select(nh_lens).prop_flat_map(|n| vec(any::<u8>(), n)),
                routes(v6, add_path && decoded),
                vec(any::<u8>(), 0..20),
            )
                .prop_map(move |(next_hop, nlri, raw)| {
                    AttributeRepr::MpReach(MpReachRepr {
                        family: f,
                        next_hop,
                        nlri: if decoded { nlri } else { vec![] },
                        other_nlri: if decoded { vec![] } else { raw },
                    })
                })
        })
    }

    fn mp_unreach(add_path: bool) -> impl Strategy<Value = AttributeRepr> {
        family().prop_flat_map(move |f| {
            let decoded = f.index().is_some();
            (
                routes(f.afi == Afi::IPV6, add_path && decoded),
                vec(any::<u8>(), 0..20),
            )
                .prop_map(move |(w, raw)| {
                    AttributeRepr::MpUnreach(MpUnreachRepr {
                        family: f,
                        withdrawn: if decoded { w } else { vec![] },
                        other_withdrawn: if decoded { vec![] } else { raw },
                    })
                })
        })
    }

    fn ipv4() -> impl Strategy<Value = Ipv4Addr> {
        any::<u32>().prop_map(Ipv4Addr::from)
    }

    /// Any valid attribute; only one per type code survives in an UPDATE.
    fn attribute(add_path: bool) -> impl Strategy<Value = AttributeRepr> {
        use AttributeRepr as A;
        let agg =
            || (1u32..=u32::MAX, ipv4()).prop_map(|(asn, address)| Aggregator { asn, address });
        prop_oneof![
            (0u8..3).prop_map(|o| A::Origin(Origin::from_u8(o).unwrap())),
            as_path().prop_map(A::AsPath),
            ipv4().prop_map(A::NextHop),
            any::<u32>().prop_map(A::MultiExitDisc),
            any::<u32>().prop_map(A::LocalPref),
            Just(A::AtomicAggregate),
            agg().prop_map(A::Aggregator),
            vec(any::<u32>().prop_map(Community), 1..10).prop_map(A::Communities),
            ipv4().prop_map(A::OriginatorId),
            vec(ipv4(), 1..5).prop_map(A::ClusterList),
            mp_reach(add_path),
            mp_unreach(add_path),
            vec(any::<[u8; 8]>().prop_map(ExtendedCommunity), 1..5)
                .prop_map(A::ExtendedCommunities),
            as_path()
                .prop_map(|mut p| {
                    p.segments.retain(|s| !s.seg_type.is_confed());
                    p
                })
                .prop_map(A::As4Path),
            agg().prop_map(A::As4Aggregator),
            vec(
                (any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(g, a, b)| {
                    LargeCommunity {
                        global: g,
                        local1: a,
                        local2: b,
                    }
                }),
                1..4
            )
            .prop_map(A::LargeCommunities),
            any::<u32>().prop_map(A::Otc),
            (
                prop_oneof![Just(0x80u8), Just(0xc0), Just(0xe0), Just(0xa0)],
                40u8..=250,
                vec(any::<u8>(), 0..300)
            )
                .prop_map(|(flags, type_code, value)| A::Unknown {
                    flags,
                    type_code,
                    value
                }),
        ]
    }

    fn update(add_path: bool) -> impl Strategy<Value = UpdateRepr> {
        (
            routes(false, add_path),
            vec(attribute(add_path), 0..10),
            routes(false, add_path),
        )
            .prop_map(|(withdrawn, attrs, nlri)| {
                let mut seen = std::collections::HashSet::new();
                let attributes = attrs
                    .into_iter()
                    .filter(|a| seen.insert(a.type_code()))
                    .collect();
                UpdateRepr {
                    withdrawn,
                    attributes,
                    nlri,
                }
            })
    }

    proptest! {
        #[test]
        fn parse_emit_round_trip(u in update(false), ap in any::<bool>()) {
            let mut ctx = SessionContext::modern().with_extended_message();
            let u = if ap {
                for f in Family::DECODED { ctx.set_add_path(f, true); }
                // Routes need path ids under ADD-PATH to round-trip.
                let mut u = u;
                for n in u.withdrawn.iter_mut().chain(u.nlri.iter_mut()) {
                    n.path_id = Some(n.path_id.unwrap_or(1));
                }
                for a in &mut u.attributes {
                    match a {
                        AttributeRepr::MpReach(m) => m.nlri.iter_mut().for_each(|n| n.path_id = Some(7)),
                        AttributeRepr::MpUnreach(m) => m.withdrawn.iter_mut().for_each(|n| n.path_id = Some(8)),
                        _ => {}
                    }
                }
                u
            } else { u };
            let mut msg = Vec::new();
            u.emit(&ctx, &mut msg).unwrap();
            let v = Update::new_checked(&msg[19..], &ctx).unwrap();
            prop_assert_eq!(UpdateRepr::parse(&v), u);
        }

        #[test]
        fn classic_two_octet_round_trip(u in update(false)) {
            // 2-octet sessions: AS numbers in AS_PATH/AGGREGATOR must fit.
            let mut u = u;
            for a in &mut u.attributes {
                match a {
                    AttributeRepr::AsPath(p) => p.segments.iter_mut()
                        .for_each(|s| s.asns.iter_mut().for_each(|x| *x &= 0xffff)),
                    AttributeRepr::Aggregator(g) => g.asn &= 0xffff,
                    _ => {}
                }
            }
            let ctx = SessionContext::classic().with_extended_message();
            let mut msg = Vec::new();
            u.emit(&ctx, &mut msg).unwrap();
            let v = Update::new_checked(&msg[19..], &ctx).unwrap();
            prop_assert_eq!(UpdateRepr::parse(&v), u);
        }

        #[test]
        fn arbitrary_bodies_never_panic(b in vec(any::<u8>(), 0..600), ap in any::<bool>(), four in any::<bool>()) {
            let mut ctx = if four { SessionContext::modern() } else { SessionContext::classic() };
            if ap { for f in Family::DECODED { ctx.set_add_path(f, true); } }
            if let Ok(u) = Update::new_checked(&b, &ctx) {
                let _ = UpdateRepr::parse(&u);
                let _ = u.announced().count() + u.withdrawals().count();
                let _ = u.end_of_rib();
                for a in u.attributes().raw() {
                    let _ = a.decode(&ctx, true);
                }
            }
        }

        #[test]
        fn mutated_updates_never_panic(u in update(false), flips in vec((any::<u16>(), any::<u8>()), 1..6)) {
            let ctx = SessionContext::modern().with_extended_message();
            let mut msg = Vec::new();
            u.emit(&ctx, &mut msg).unwrap();
            let mut b = msg[19..].to_vec();
            for (pos, val) in flips {
                if !b.is_empty() {
                    let i = usize::from(pos) % b.len();
                    b[i] = val;
                }
            }
            if let Ok(v) = Update::new_checked(&b, &ctx) {
                let _ = UpdateRepr::parse(&v);
                let _ = v.withdrawals().count();
            }
        }
    }
}
