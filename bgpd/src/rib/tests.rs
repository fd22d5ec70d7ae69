//! Tests of the Adj-RIB-In: UPDATEs built with `bgp-proto`'s owned types,
//! emitted, decoded and applied; and a replay of a real MRT update dump.

use super::*;
use bgp_proto::attr::{
    Aggregator, AsPathRepr, AttributeRepr, Community, MpReachRepr, NextHop, Origin,
};
use bgp_proto::mrt::{decompress_file, BgpState, RecordIter, RecordView};
use bgp_proto::{Nlri, SessionContext, UpdateRepr};
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

const V4: Family = Family::IPV4_UNICAST;
const V6: Family = Family::IPV6_UNICAST;

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn nlri(s: &str) -> Nlri {
    Nlri {
        path_id: None,
        prefix: net(s),
    }
}

fn nlri_id(s: &str, id: u32) -> Nlri {
    Nlri {
        path_id: Some(id),
        prefix: net(s),
    }
}

/// ORIGIN, AS_PATH, NEXT_HOP.
fn basic(path: &[u32], next_hop: &str) -> Vec<AttributeRepr> {
    vec![
        AttributeRepr::Origin(Origin::Igp),
        AttributeRepr::AsPath(AsPathRepr::sequence(path.iter().copied())),
        AttributeRepr::NextHop(next_hop.parse().unwrap()),
    ]
}

fn announce(attributes: Vec<AttributeRepr>, routes: Vec<Nlri>) -> UpdateRepr {
    UpdateRepr {
        attributes,
        nlri: routes,
        ..UpdateRepr::default()
    }
}

fn withdraw(routes: Vec<Nlri>) -> UpdateRepr {
    UpdateRepr {
        withdrawn: routes,
        ..UpdateRepr::default()
    }
}

/// Emits `repr` for `ctx`, decodes it and applies it.
fn apply_ctx(rib: &mut AdjRibIn, repr: &UpdateRepr, ctx: &SessionContext) -> Applied {
    let mut msg = Vec::new();
    repr.emit(ctx, &mut msg).expect("emit");
    let update = Update::new_checked(&msg[19..], ctx).expect("decode");
    rib.apply(&update)
}

fn apply(rib: &mut AdjRibIn, repr: &UpdateRepr) -> Applied {
    apply_ctx(rib, repr, &SessionContext::modern())
}

fn path_of(rib: &AdjRibIn, prefix: &str) -> Option<String> {
    let found = rib.lookup(net(prefix));
    let (_, attrs, _) = found.first()?;
    Some(attrs.as_path().map(|p| p.to_string()).unwrap_or_default())
}

#[test]
fn shareable_between_tasks() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<AdjRibIn>();
    send_sync::<Arc<PathAttrs>>();
    let rib = AdjRibIn::new();
    assert_eq!(format!("{rib:?}"), "AdjRibIn { stale: 0, attr_sets: 0 }");
}

#[test]
fn announce_stores_routes_with_their_attributes() {
    let mut rib = AdjRibIn::new();
    let mut attrs = basic(&[65001, 65002], "192.0.2.1");
    attrs.push(AttributeRepr::MultiExitDisc(10));
    attrs.push(AttributeRepr::Communities(vec![
        Community(0xfde8_0001),
        Community::NO_EXPORT,
    ]));
    let a = apply(
        &mut rib,
        &announce(attrs, vec![nlri("10.0.0.0/8"), nlri("10.1.0.0/16")]),
    );
    assert_eq!(
        a,
        Applied {
            announced: 2,
            ..Applied::default()
        }
    );
    assert_eq!(rib.len(), 2);
    assert_eq!(rib.len_family(V4), 2);
    assert_eq!(rib.len_family(V6), 0);
    assert_eq!(rib.attr_sets(), 1);
    let found = rib.lookup(net("10.1.0.0/16"));
    assert_eq!(found.len(), 1);
    let (id, attrs, stale) = found[0];
    assert_eq!((id, stale), (0, false));
    assert_eq!(attrs.origin(), Some(Origin::Igp));
    assert_eq!(attrs.as_path().unwrap().to_string(), "65001 65002");
    assert_eq!(
        attrs.next_hop(),
        Some(NextHop::V4(Ipv4Addr::new(192, 0, 2, 1)))
    );
    assert_eq!(attrs.med(), Some(10));
    assert_eq!(attrs.local_pref(), None);
    let c: Vec<String> = attrs.communities().iter().map(|c| c.to_string()).collect();
    assert_eq!(c, ["65000:1", "no-export"]);
    assert!(rib.lookup(net("10.2.0.0/16")).is_empty());
    // Host bits are irrelevant (RFC 4271 s4.3).
    assert_eq!(rib.lookup(net("10.1.2.3/16")).len(), 1);
    let routes: HashSet<(Family, IpNet, u32)> = rib
        .iter()
        .map(|r| (r.family, r.prefix, r.path_id))
        .collect();
    assert_eq!(
        routes,
        HashSet::from([(V4, net("10.0.0.0/8"), 0), (V4, net("10.1.0.0/16"), 0)])
    );
}

#[test]
fn implicit_withdraw_replaces_and_releases_the_old_set() {
    let mut rib = AdjRibIn::new();
    let p = || vec![nlri("198.51.100.0/24")];
    apply(&mut rib, &announce(basic(&[1, 2], "192.0.2.1"), p()));
    let old = Arc::clone(rib.lookup(net("198.51.100.0/24"))[0].1);
    let a = apply(&mut rib, &announce(basic(&[1, 3], "192.0.2.1"), p()));
    assert_eq!((a.announced, a.implicit_withdraws), (1, 1));
    assert_eq!(rib.len(), 1);
    assert_eq!(rib.attr_sets(), 1);
    assert_eq!(path_of(&rib, "198.51.100.0/24").unwrap(), "1 3");
    // Only this test's clone keeps the old set alive.
    assert_eq!(Arc::strong_count(&old), 1);
    // The same attributes again: a refresh, not an implicit withdraw.
    let a = apply(&mut rib, &announce(basic(&[1, 3], "192.0.2.1"), p()));
    assert_eq!((a.announced, a.implicit_withdraws), (1, 0));
    assert_eq!(rib.len(), 1);
}

#[test]
fn withdraw_removes_and_unknown_withdraw_is_a_no_op() {
    let mut rib = AdjRibIn::new();
    let routes = vec![nlri("10.0.0.0/8"), nlri("172.16.0.0/12")];
    apply(&mut rib, &announce(basic(&[1], "192.0.2.1"), routes));
    let a = apply(&mut rib, &withdraw(vec![nlri("10.0.0.0/8")]));
    assert_eq!(a.withdrawn, 1);
    assert_eq!(rib.len(), 1);
    let a = apply(
        &mut rib,
        &withdraw(vec![nlri("10.0.0.0/8"), nlri("192.168.0.0/16")]),
    );
    assert_eq!(a.withdrawn, 0);
    assert_eq!(rib.len(), 1);
    apply(&mut rib, &withdraw(vec![nlri("172.16.0.0/12")]));
    assert!(rib.is_empty());
    assert_eq!(rib.attr_sets(), 0);
}

#[test]
fn mp_reach_and_mp_unreach() {
    let mut rib = AdjRibIn::new();
    let global: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let ll: Ipv6Addr = "fe80::1".parse().unwrap();
    let mut nh = global.octets().to_vec();
    nh.extend_from_slice(&ll.octets());
    let reach = AttributeRepr::MpReach(MpReachRepr {
        family: V6,
        next_hop: nh,
        nlri: vec![nlri("2001:db8:1::/48"), nlri("2001:db8:2::1/128")],
        other_nlri: Vec::new(),
    });
    let attrs = vec![
        AttributeRepr::Origin(Origin::Igp),
        AttributeRepr::AsPath(AsPathRepr::sequence([65001])),
        reach,
    ];
    let a = apply(&mut rib, &announce(attrs, Vec::new()));
    assert_eq!(a.announced, 2);
    assert_eq!(rib.len_family(V6), 2);
    assert_eq!(rib.len_family(V4), 0);
    let found = rib.lookup(net("2001:db8:2::1/128"));
    assert_eq!(
        found[0].1.next_hop(),
        Some(NextHop::V6 {
            global,
            link_local: Some(ll)
        })
    );
    let unreach = AttributeRepr::mp_unreach(V6, vec![nlri("2001:db8:1::/48")]);
    let a = apply(&mut rib, &announce(vec![unreach], Vec::new()));
    assert_eq!(a.withdrawn, 1);
    assert_eq!(a.end_of_rib, None);
    assert_eq!(rib.len_family(V6), 1);
    assert!(rib.lookup(net("2001:db8:1::/48")).is_empty());
}

#[test]
fn one_update_two_next_hops_two_sets() {
    // IPv4 routes in the NLRI field and IPv4 routes over an IPv6 next hop
    // (RFC 8950) in MP_REACH_NLRI: same attributes, different next hops.
    let mut rib = AdjRibIn::new();
    let mut attrs = basic(&[65001], "192.0.2.1");
    let v6nh: IpAddr = "2001:db8::7".parse().unwrap();
    attrs.push(AttributeRepr::mp_reach(
        V4,
        v6nh,
        vec![nlri("203.0.113.0/24")],
    ));
    let a = apply(&mut rib, &announce(attrs, vec![nlri("198.51.100.0/24")]));
    assert_eq!(a.announced, 2);
    assert_eq!(rib.attr_sets(), 2);
    let nh = |p| rib.lookup(net(p))[0].1.next_hop().unwrap().to_string();
    assert_eq!(nh("198.51.100.0/24"), "192.0.2.1");
    assert_eq!(nh("203.0.113.0/24"), "2001:db8::7");
}

#[test]
fn treat_as_withdraw_removes_the_routes() {
    let mut rib = AdjRibIn::new();
    let routes = || vec![nlri("10.0.0.0/8"), nlri("10.1.0.0/16")];
    apply(&mut rib, &announce(basic(&[1], "192.0.2.1"), routes()));
    assert_eq!(rib.len(), 2);
    // No ORIGIN: RFC 7606 s3 d.
    let no_origin = basic(&[1], "192.0.2.1").split_off(1);
    let a = apply(&mut rib, &announce(no_origin, routes()));
    assert!(a.treat_as_withdraw);
    assert_eq!((a.announced, a.withdrawn), (0, 2));
    assert!(rib.is_empty());
    assert_eq!(rib.attr_sets(), 0);
    // The same through MP_REACH_NLRI.
    let v6 = |attrs: &mut Vec<AttributeRepr>| {
        let nh: IpAddr = "2001:db8::1".parse().unwrap();
        attrs.push(AttributeRepr::mp_reach(V6, nh, vec![nlri("2001:db8::/32")]));
    };
    let mut attrs = basic(&[1], "192.0.2.1")[..2].to_vec();
    v6(&mut attrs);
    apply(&mut rib, &announce(attrs, Vec::new()));
    assert_eq!(rib.len_family(V6), 1);
    let mut attrs = vec![AttributeRepr::AsPath(AsPathRepr::sequence([1]))];
    v6(&mut attrs);
    let a = apply(&mut rib, &announce(attrs, Vec::new()));
    assert!(a.treat_as_withdraw);
    assert_eq!(a.withdrawn, 1);
    assert!(rib.is_empty());
}

#[test]
fn add_path_keeps_paths_apart() {
    let ctx = SessionContext::modern().with_add_path(V4);
    let mut rib = AdjRibIn::new();
    apply_ctx(
        &mut rib,
        &announce(basic(&[1], "192.0.2.1"), vec![nlri_id("10.0.0.0/8", 1)]),
        &ctx,
    );
    apply_ctx(
        &mut rib,
        &announce(basic(&[2], "192.0.2.2"), vec![nlri_id("10.0.0.0/8", 2)]),
        &ctx,
    );
    apply_ctx(
        &mut rib,
        &announce(basic(&[3], "192.0.2.3"), vec![nlri_id("10.0.0.0/8", 0)]),
        &ctx,
    );
    assert_eq!(rib.len(), 3);
    assert_eq!(rib.attr_sets(), 3);
    let ids: Vec<u32> = rib.lookup(net("10.0.0.0/8")).iter().map(|p| p.0).collect();
    assert_eq!(ids, [0, 1, 2]);
    let a = apply_ctx(&mut rib, &withdraw(vec![nlri_id("10.0.0.0/8", 1)]), &ctx);
    assert_eq!(a.withdrawn, 1);
    let found = rib.lookup(net("10.0.0.0/8"));
    let ids: Vec<u32> = found.iter().map(|p| p.0).collect();
    assert_eq!(ids, [0, 2]);
    assert_eq!(found[1].1.as_path().unwrap().to_string(), "2");
    assert_eq!(rib.attr_sets(), 2);
    // Re-announcing path 2 with new attributes replaces only path 2.
    let a = apply_ctx(
        &mut rib,
        &announce(basic(&[4], "192.0.2.4"), vec![nlri_id("10.0.0.0/8", 2)]),
        &ctx,
    );
    assert_eq!(a.implicit_withdraws, 1);
    assert_eq!(rib.len(), 2);
    assert_eq!(rib.attr_sets(), 2);
    let paths: HashSet<u32> = rib.iter().map(|r| r.path_id).collect();
    assert_eq!(paths, HashSet::from([0, 2]));
}

#[test]
fn identical_attributes_share_one_set_and_leave_no_trace() {
    let mut rib = AdjRibIn::new();
    let prefixes: Vec<Nlri> = (0..1000u32)
        .map(|i| Nlri {
            path_id: None,
            prefix: IpNet::new(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | i << 8)), 24).unwrap(),
        })
        .collect();
    for chunk in prefixes.chunks(250) {
        let mut attrs = basic(&[64512, 64513], "192.0.2.1");
        attrs.push(AttributeRepr::LocalPref(100));
        let a = apply(&mut rib, &announce(attrs, chunk.to_vec()));
        assert_eq!(a.announced, 250);
    }
    assert_eq!(rib.len(), 1000);
    assert_eq!(rib.attr_sets(), 1);
    let first = Arc::clone(rib.iter().next().unwrap().attrs);
    assert!(rib.iter().all(|r| Arc::ptr_eq(r.attrs, &first)));
    // The table's own reference and this clone: routes refer to the set
    // by id, not by `Arc`.
    assert_eq!(Arc::strong_count(&first), 2);
    // A clone held elsewhere (an API response) does not keep the set in
    // the interner once its routes are gone.
    for chunk in prefixes.chunks(300) {
        apply(&mut rib, &withdraw(chunk.to_vec()));
    }
    assert!(rib.is_empty());
    assert_eq!(rib.attr_sets(), 0);
    assert_eq!(Arc::strong_count(&first), 1);
    let a = apply(
        &mut rib,
        &announce(basic(&[64512, 64513], "192.0.2.1"), prefixes[..1].to_vec()),
    );
    assert_eq!(a.announced, 1);
    assert_eq!(rib.attr_sets(), 1);
    assert!(rib.memory_estimate() > 0);
}

#[test]
fn graceful_restart_stale_refresh_flush() {
    let mut rib = AdjRibIn::new();
    let ctx = SessionContext::modern();
    let routes = vec![nlri("10.0.0.0/8"), nlri("10.1.0.0/16"), nlri("10.2.0.0/16")];
    apply(&mut rib, &announce(basic(&[1], "192.0.2.1"), routes));
    let nh: IpAddr = "2001:db8::1".parse().unwrap();
    let mut v6 = basic(&[1], "192.0.2.1")[..2].to_vec();
    v6.push(AttributeRepr::mp_reach(V6, nh, vec![nlri("2001:db8::/32")]));
    apply(&mut rib, &announce(v6, Vec::new()));
    assert_eq!(rib.stale_count(), 0);

    // The session drops; the peer had graceful restart for IPv4 only (the
    // session would clear... nothing else here: IPv6 just stays fresh).
    rib.mark_stale(&[V4]);
    assert_eq!(rib.stale_count(), 3);
    assert_eq!(rib.stale_count_family(V4), 3);
    assert_eq!(rib.stale_count_family(V6), 0);
    assert!(rib.lookup(net("10.0.0.0/8"))[0].2);

    // Back up: one route re-announced unchanged, one with new attributes,
    // one never again.
    let a = apply(
        &mut rib,
        &announce(basic(&[1], "192.0.2.1"), vec![nlri("10.0.0.0/8")]),
    );
    assert_eq!((a.announced, a.implicit_withdraws), (1, 0));
    apply(
        &mut rib,
        &announce(basic(&[2], "192.0.2.1"), vec![nlri("10.1.0.0/16")]),
    );
    assert_eq!(rib.stale_count(), 1);
    assert!(!rib.lookup(net("10.0.0.0/8"))[0].2);
    assert!(rib.lookup(net("10.2.0.0/16"))[0].2);
    let stale: Vec<IpNet> = rib.iter().filter(|r| r.stale).map(|r| r.prefix).collect();
    assert_eq!(stale, [net("10.2.0.0/16")]);

    // End-of-RIB for IPv4: the session flushes what is still stale.
    let a = apply_ctx(&mut rib, &UpdateRepr::end_of_rib(V4), &ctx);
    assert_eq!(a.end_of_rib, Some(V4));
    assert_eq!(rib.flush_stale(a.end_of_rib.unwrap()), 1);
    assert_eq!(rib.flush_stale(V4), 0);
    assert_eq!(rib.stale_count(), 0);
    assert_eq!(rib.len_family(V4), 2);
    assert_eq!(rib.len_family(V6), 1);
    assert!(rib.lookup(net("10.2.0.0/16")).is_empty());
    // Sets: [1] via 192.0.2.1 (field), [2], and [1] via the IPv6 next hop.
    assert_eq!(rib.attr_sets(), 3);

    // A stale route withdrawn before End-of-RIB is simply gone.
    rib.mark_stale(&[V4, V6]);
    assert_eq!(rib.stale_count(), 3);
    apply(&mut rib, &withdraw(vec![nlri("10.0.0.0/8")]));
    assert_eq!(rib.stale_count(), 2);
    assert_eq!(rib.flush_stale(V4), 1);
    assert_eq!(rib.flush_stale(V6), 1);
    assert!(rib.is_empty());
    assert_eq!(rib.attr_sets(), 0);

    // A session that ends without graceful restart.
    apply(
        &mut rib,
        &announce(basic(&[1], "192.0.2.1"), vec![nlri("10.0.0.0/8")]),
    );
    rib.clear();
    assert!(rib.is_empty());
    assert_eq!(rib.attr_sets(), 0);
}

#[test]
fn end_of_rib_is_reported_for_accepted_families() {
    let mut rib = AdjRibIn::new();
    let ctx = SessionContext::modern();
    let a = apply_ctx(&mut rib, &UpdateRepr::end_of_rib(V4), &ctx);
    assert_eq!(a.end_of_rib, Some(V4));
    let a = apply_ctx(&mut rib, &UpdateRepr::end_of_rib(V6), &ctx);
    assert_eq!(a.end_of_rib, Some(V6));
    let mut msg = Vec::new();
    UpdateRepr::end_of_rib(V6).emit(&ctx, &mut msg).unwrap();
    let u = Update::new_checked(&msg[19..], &ctx).unwrap();
    assert_eq!(rib.apply_filtered(&u, |f| f == V4).end_of_rib, None);
}

#[test]
fn apply_filtered_ignores_other_families() {
    let mut rib = AdjRibIn::new();
    let nh: IpAddr = "2001:db8::1".parse().unwrap();
    let mut attrs = basic(&[1], "192.0.2.1");
    attrs.push(AttributeRepr::mp_reach(V6, nh, vec![nlri("2001:db8::/32")]));
    let mut msg = Vec::new();
    let ctx = SessionContext::modern();
    announce(attrs, vec![nlri("10.0.0.0/8")])
        .emit(&ctx, &mut msg)
        .unwrap();
    let u = Update::new_checked(&msg[19..], &ctx).unwrap();
    let a = rib.apply_filtered(&u, |f| f == V4);
    assert_eq!(a.announced, 1);
    assert_eq!(rib.len_family(V6), 0);
    assert_eq!(rib.attr_sets(), 1);
    // A rejected family's withdrawal leaves nothing behind either.
    let a = rib.apply_filtered(&u, |_| false);
    assert_eq!(a, Applied::default());
    assert_eq!(rib.len(), 1);
}

#[test]
fn two_octet_session_reconciles_as4_path_and_as4_aggregator() {
    let mut rib = AdjRibIn::new();
    let classic = SessionContext::classic();
    let full = [100, 4_200_000_001, 4_200_000_002, 300];
    let attrs = vec![
        AttributeRepr::Origin(Origin::Igp),
        // Emitted with 2-octet AS numbers: 100 23456 23456 300.
        AttributeRepr::AsPath(AsPathRepr::sequence(full)),
        AttributeRepr::NextHop("192.0.2.1".parse().unwrap()),
        AttributeRepr::Aggregator(Aggregator {
            asn: 4_200_000_002,
            address: Ipv4Addr::new(192, 0, 2, 9),
        }),
        AttributeRepr::As4Path(AsPathRepr::sequence(full[1..].iter().copied())),
        AttributeRepr::As4Aggregator(Aggregator {
            asn: 4_200_000_002,
            address: Ipv4Addr::new(192, 0, 2, 9),
        }),
    ];
    let mut msg = Vec::new();
    announce(attrs.clone(), vec![nlri("10.0.0.0/8")])
        .emit(&classic, &mut msg)
        .unwrap();
    let u = Update::new_checked(&msg[19..], &classic).unwrap();
    assert!(u.attribute_iter().any(|a| matches!(a, Attribute::AsPath(p)
        if p.to_string() == "100 23456 23456 300")));
    rib.apply(&u);
    let found = rib.lookup(net("10.0.0.0/8"));
    let set = found[0].1;
    assert_eq!(
        set.as_path().unwrap().to_string(),
        "100 4200000001 4200000002 300"
    );
    assert_eq!(set.aggregator().unwrap().asn, 4_200_000_002);
    assert!(set
        .attributes()
        .all(|a| !matches!(a, Attribute::As4Path(_) | Attribute::As4Aggregator(_))));
    // The same route from a 4-octet session has the very same set.
    let mut modern_rib = AdjRibIn::new();
    let modern_attrs: Vec<AttributeRepr> = attrs[..4].to_vec();
    apply(
        &mut modern_rib,
        &announce(modern_attrs, vec![nlri("10.0.0.0/8")]),
    );
    assert_eq!(**modern_rib.lookup(net("10.0.0.0/8"))[0].1, **set);

    // Without AS4_PATH the 2-octet path is widened as it is.
    let mut rib = AdjRibIn::new();
    apply_ctx(
        &mut rib,
        &announce(basic(&[100, 200], "192.0.2.1"), vec![nlri("10.0.0.0/8")]),
        &classic,
    );
    assert_eq!(path_of(&rib, "10.0.0.0/8").unwrap(), "100 200");
    let set = rib.lookup(net("10.0.0.0/8"))[0].1.clone();
    assert_eq!(set.as_path().unwrap().asn_len(), 4);
}

#[test]
fn attribute_order_and_flags_do_not_split_sets() {
    let mut rib = AdjRibIn::new();
    let mut attrs = basic(&[1, 2], "192.0.2.1");
    attrs.push(AttributeRepr::LocalPref(200));
    attrs.push(AttributeRepr::Unknown {
        flags: 0xc0,
        type_code: 99,
        value: vec![1, 2, 3],
    });
    apply(&mut rib, &announce(attrs.clone(), vec![nlri("10.0.0.0/8")]));
    attrs.reverse();
    apply(&mut rib, &announce(attrs.clone(), vec![nlri("11.0.0.0/8")]));
    assert_eq!(rib.attr_sets(), 1);
    let a = rib.lookup(net("10.0.0.0/8"))[0].1.clone();
    let b = rib.lookup(net("11.0.0.0/8"))[0].1.clone();
    assert!(Arc::ptr_eq(&a, &b));
    let types: Vec<u8> = a.raw_attributes().map(|r| r.type_code).collect();
    assert_eq!(types, [1, 2, 5, 99]);
    let unknown: Vec<_> = a
        .unknown()
        .map(|r| (r.flags, r.type_code, r.value))
        .collect();
    assert_eq!(unknown, [(0xc0, 99, &[1u8, 2, 3][..])]);
    // Built by hand from the same owned attributes: equal.
    let by_hand = PathAttrs::from_reprs(NextHop::V4(Ipv4Addr::new(192, 0, 2, 1)), &attrs);
    assert_eq!(by_hand, *a);
    assert_eq!(by_hand.to_reprs().len(), 4);
}

#[test]
fn json_shape() {
    let mut rib = AdjRibIn::new();
    let mut attrs = basic(&[65001, 65002], "192.0.2.1");
    attrs.push(AttributeRepr::Communities(vec![Community(0xfde8_0001)]));
    attrs.push(AttributeRepr::Aggregator(Aggregator {
        asn: 65002,
        address: Ipv4Addr::new(192, 0, 2, 9),
    }));
    apply(&mut rib, &announce(attrs, vec![nlri("10.0.0.0/8")]));
    let route = rib.iter().next().unwrap();
    let v = serde_json::to_value(route).unwrap();
    assert_eq!(v["family"], "ipv4-unicast");
    assert_eq!(v["prefix"], "10.0.0.0/8");
    assert_eq!(v["path_id"], 0);
    assert_eq!(v["stale"], false);
    let a = &v["attrs"];
    assert_eq!(a["origin"], "IGP");
    assert_eq!(a["as_path"][0]["type"], "AS_SEQUENCE");
    assert_eq!(a["as_path"][0]["asns"], serde_json::json!([65001, 65002]));
    assert_eq!(a["next_hop"], "192.0.2.1");
    assert_eq!(a["next_hop_link_local"], serde_json::Value::Null);
    assert_eq!(a["med"], serde_json::Value::Null);
    assert_eq!(a["communities"], serde_json::json!(["65000:1"]));
    assert_eq!(a["aggregator"]["asn"], 65002);
    assert_eq!(a["aggregator"]["address"], "192.0.2.9");
    assert_eq!(a["large_communities"], serde_json::json!([]));
    assert_eq!(a["unknown"], serde_json::json!([]));
}

/// Where the shared BGP data lives: `BGP_DATA_DIR`, else
/// `<workspace>/../shared/data/bgp`.
fn data_dir() -> PathBuf {
    match std::env::var_os("BGP_DATA_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/bgp"),
    }
}

/// What the independent bookkeeping expects a route to look like.
fn describe(path: Option<String>, next_hop: String) -> String {
    format!("{} via {next_hop}", path.unwrap_or_default())
}

#[test]
fn real_update_dump_replays_consistently() {
    let path = data_dir().join("updates.20190101.0000.gz");
    let dump = decompress_file(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (set BGP_DATA_DIR)", path.display()));
    let mut ribs: HashMap<IpAddr, AdjRibIn> = HashMap::new();
    // Per peer: key -> expected AS path and next hop, kept with HashMaps
    // from the codec's own `announced()`/`withdrawals()`.
    type Book = HashMap<(Family, IpNet, u32), String>;
    let mut books: HashMap<IpAddr, Book> = HashMap::new();
    let (mut updates, mut resets, mut session_downs) = (0usize, 0usize, 0usize);
    let (mut announced, mut withdrawn, mut implicit, mut taw) = (0usize, 0usize, 0usize, 0usize);
    for record in RecordIter::new(&dump.data) {
        let record = record.expect("MRT record");
        match record.view() {
            RecordView::Bgp4mpMessage(m) => {
                let msg = m.message();
                if msg.get(18) != Some(&2) {
                    continue;
                }
                let ctx = m.context();
                let Ok(update) = Update::new_checked(&msg[19..], &ctx) else {
                    resets += 1;
                    continue;
                };
                updates += 1;
                let peer = m.peer_ip();
                let applied = ribs.entry(peer).or_default().apply(&update);
                let book = books.entry(peer).or_default();
                let mut removed = 0;
                for (f, n) in update.withdrawals() {
                    let key = (f, n.prefix.trunc(), n.path_id.unwrap_or(0));
                    removed += usize::from(book.remove(&key).is_some());
                }
                let mut added = 0;
                if !update.is_treat_as_withdraw() {
                    let as_path = match update.attributes().get(type_code::AS_PATH) {
                        Some(Attribute::AsPath(p)) => Some(p.to_string()),
                        _ => None,
                    };
                    let field_nh = match update.attributes().get(type_code::NEXT_HOP) {
                        Some(Attribute::NextHop(a)) => a.to_string(),
                        _ => String::new(),
                    };
                    for n in update.nlri() {
                        let key = (V4, n.prefix.trunc(), n.path_id.unwrap_or(0));
                        book.insert(key, describe(as_path.clone(), field_nh.clone()));
                        added += 1;
                    }
                    if let Some(mp) = update.mp_reach() {
                        let nh = mp.next_hop().to_string();
                        for n in mp.nlri() {
                            let key = (mp.family(), n.prefix.trunc(), n.path_id.unwrap_or(0));
                            book.insert(key, describe(as_path.clone(), nh.clone()));
                            added += 1;
                        }
                    }
                }
                assert_eq!(applied.withdrawn, removed, "withdrawals from {peer}");
                assert_eq!(applied.announced, added, "announcements from {peer}");
                announced += applied.announced;
                withdrawn += applied.withdrawn;
                implicit += applied.implicit_withdraws;
                taw += usize::from(applied.treat_as_withdraw);
            }
            RecordView::Bgp4mpStateChange(s)
                if s.old_state() == BgpState::Established as u16
                    && s.new_state() != BgpState::Established as u16 =>
            {
                // The collector's session dropped: no graceful restart here.
                session_downs += 1;
                if let Some(rib) = ribs.get_mut(&s.peer_ip()) {
                    rib.clear();
                    assert_eq!(rib.attr_sets(), 0);
                }
                if let Some(book) = books.get_mut(&s.peer_ip()) {
                    book.clear();
                }
            }
            _ => {}
        }
    }
    assert!(updates > 50_000, "{updates} UPDATEs");
    let mut routes = 0;
    let mut sets = 0;
    let mut memory = 0;
    let mut set_memory = 0;
    for (peer, rib) in &ribs {
        let book = &books[peer];
        assert_eq!(rib.len(), book.len(), "routes of {peer}");
        let per_family: usize = Family::DECODED.iter().map(|f| rib.len_family(*f)).sum();
        assert_eq!(per_family, rib.len());
        assert_eq!(rib.stale_count(), 0);
        let mut paths_per_prefix: HashMap<(Family, IpNet), usize> = HashMap::new();
        for k in book.keys() {
            *paths_per_prefix.entry((k.0, k.1)).or_default() += 1;
        }
        for r in rib.iter() {
            let want = book
                .get(&(r.family, r.prefix, r.path_id))
                .unwrap_or_else(|| panic!("{peer}: {} not expected", r.prefix));
            let nh = r
                .attrs
                .next_hop()
                .map(|n| n.to_string())
                .unwrap_or_default();
            let got = describe(r.attrs.as_path().map(|p| p.to_string()), nh);
            assert_eq!(&got, want, "{peer} {}", r.prefix);
            assert_eq!(
                rib.lookup_family(r.family, r.prefix).len(),
                paths_per_prefix[&(r.family, r.prefix)]
            );
        }
        routes += rib.len();
        sets += rib.attr_sets();
        memory += rib.memory_estimate();
        set_memory += rib.sets.heap_size();
    }
    let booked: usize = books.values().map(HashMap::len).sum();
    assert_eq!(routes, booked);
    assert!(routes > 10_000, "{routes} routes");
    assert!(
        sets * 3 < routes,
        "{sets} attribute sets for {routes} routes"
    );
    println!(
        "{} peers, {updates} UPDATEs ({resets} session resets, {taw} treat-as-withdraw), \
         {session_downs} sessions down; {announced} announced, {withdrawn} withdrawn, \
         {implicit} implicit withdraws",
        ribs.len()
    );
    let per_route = |octets: usize| octets as f64 / routes as f64;
    println!(
        "{routes} routes, {sets} attribute sets; memory estimate {memory} octets: \
         {:.1} octets per route all included, {:.1} for the route tables, {:.1} for \
         the attribute sets and their interner ({:.1} per set)",
        per_route(memory),
        per_route(memory - set_memory),
        per_route(set_memory),
        set_memory as f64 / sets as f64
    );
}
