//! Checks shared by the `bgp-proto` fuzz targets.
//!
//! The walkers (`walk_*`) call every accessor and iterator of a validated
//! view and assert the invariants the crate documents for validated input:
//! iterators over checked fields run to the end, a checked AS_PATH or NLRI
//! field encodes back to the same octets, an attribute decodes the same with
//! and without the second validation walk, and so on. The round trips
//! ([`round_trip_message`], [`round_trip_attributes`]) parse a view into its
//! owned `*Repr`, emit it, decode the result and demand the same `Repr`.
//!
//! Everything a walker computes goes through [`sink`] so the optimizer
//! cannot drop the work.

use bgp_proto::afi::Family;
use bgp_proto::attr::{
    type_code, AsPath, AsPathRepr, Attribute, AttributeRepr, Attributes, MpReach, MpUnreach,
};
use bgp_proto::capability::CapabilityRepr;
use bgp_proto::message::{Message, MessageRepr};
use bgp_proto::mrt::{BgpState, Record, RecordView};
use bgp_proto::nlri::{self, NlriIter};
use bgp_proto::notification::{Notification, NotificationRepr};
use bgp_proto::open::{Open, OpenRepr};
use bgp_proto::route_refresh::RouteRefresh;
use bgp_proto::update::Update;
use bgp_proto::SessionContext;
use std::fmt::Write as _;
use std::hint::black_box;

pub mod seed;

/// Keeps a value alive as far as the optimizer can tell.
#[inline]
pub fn sink<T>(value: T) {
    black_box(value);
}

/// Lower-case hex, for assertion messages.
pub fn hex(octets: &[u8]) -> String {
    let mut s = String::with_capacity(octets.len() * 2);
    for b in octets {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Context bit: 4-octet AS numbers (RFC 6793).
pub const CTX_FOUR_OCTET_AS: u8 = 0x01;
/// Context bit: ADD-PATH receive for every decoded family (RFC 7911).
pub const CTX_ADD_PATH: u8 = 0x02;
/// Context bit: extended messages (RFC 8654).
pub const CTX_EXTENDED_MESSAGE: u8 = 0x04;

/// The session context a selector octet names (only its low three bits
/// count: [`CTX_FOUR_OCTET_AS`], [`CTX_ADD_PATH`], [`CTX_EXTENDED_MESSAGE`]).
pub fn context_from_byte(b: u8) -> SessionContext {
    let mut ctx = if b & CTX_FOUR_OCTET_AS != 0 {
        SessionContext::modern()
    } else {
        SessionContext::classic()
    };
    if b & CTX_EXTENDED_MESSAGE != 0 {
        ctx = ctx.with_extended_message();
    }
    if b & CTX_ADD_PATH != 0 {
        for family in Family::DECODED {
            ctx.set_add_path(family, true);
        }
    }
    ctx
}

/// The selector octet for `ctx`, as far as the three bits can express it
/// (ADD-PATH is taken from IPv4 unicast). Used to write seeds.
pub fn context_byte(ctx: &SessionContext) -> u8 {
    let mut b = 0;
    if ctx.four_octet_as {
        b |= CTX_FOUR_OCTET_AS;
    }
    if ctx.add_path(Family::IPV4_UNICAST) {
        b |= CTX_ADD_PATH;
    }
    if ctx.extended_message {
        b |= CTX_EXTENDED_MESSAGE;
    }
    b
}

/// Every context a path attributes field can be decoded with: 2- or
/// 4-octet AS, ADD-PATH or not, MRT RIB entry (abbreviated MP_REACH_NLRI)
/// or not. The extended message flag does not affect attributes.
pub fn attribute_contexts() -> impl Iterator<Item = SessionContext> {
    (0u8..8).map(|bits| {
        let mut ctx = context_from_byte(bits & (CTX_FOUR_OCTET_AS | CTX_ADD_PATH));
        ctx.mrt_rib_entry = bits & 0x04 != 0;
        ctx
    })
}

/// Walks an NLRI iterator. When `checked` (the field was validated by the
/// crate), the iteration must consume every octet and the routes must
/// encode back to exactly the field's octets (host bits are kept).
pub fn walk_nlri(iter: NlriIter<'_>, checked: bool) -> usize {
    let field = iter.as_bytes();
    let add_path = iter.add_path();
    sink(iter.is_ipv6());
    let mut iter = iter;
    let mut routes = Vec::new();
    for n in iter.by_ref() {
        assert_eq!(
            n.path_id.is_some(),
            add_path,
            "path id present exactly with ADD-PATH"
        );
        sink(n.prefix.to_string());
        sink(nlri::encoded_len(&n, add_path));
        routes.push(n);
    }
    if checked {
        assert!(
            iter.as_bytes().is_empty(),
            "iteration over a checked NLRI field stopped early; left {}",
            hex(iter.as_bytes())
        );
        let mut out = Vec::new();
        nlri::emit_all(&routes, add_path, &mut out).expect("emit NLRI");
        assert_eq!(
            hex(&out),
            hex(field),
            "checked NLRI field does not encode back to its octets"
        );
        let len: usize = routes.iter().map(|n| nlri::encoded_len(n, add_path)).sum();
        assert_eq!(len, field.len(), "encoded_len disagrees with the field");
    }
    routes.len()
}

/// Walks an AS_PATH or AS4_PATH view; a valid path must encode back to
/// exactly its octets.
pub fn walk_as_path(path: &AsPath<'_>) {
    for seg in path.segments() {
        sink(seg.seg_type.is_confed());
        sink((seg.len(), seg.is_empty()));
        for asn in seg.asns() {
            sink(asn);
        }
        sink(seg.to_string());
    }
    sink(path.asns().count());
    sink((path.route_len(), path.origin_as(), path.first_as()));
    sink(path.to_string());
    let repr = AsPathRepr::parse(path);
    sink(repr.to_string());
    if AsPath::new_checked(path.as_bytes(), path.asn_len()).is_ok() {
        let mut out = Vec::new();
        repr.emit(path.asn_len(), &mut out);
        assert_eq!(
            hex(&out),
            hex(path.as_bytes()),
            "valid AS path does not encode back to its octets"
        );
    }
}

/// Walks an MP_REACH_NLRI view.
pub fn walk_mp_reach(m: &MpReach<'_>, checked: bool) -> usize {
    sink((m.family(), m.family().to_string(), m.add_path()));
    sink((m.next_hop_bytes(), m.next_hop().to_string()));
    sink(m.nlri_bytes());
    let decoded = m.family().index().is_some();
    let n = walk_nlri(m.nlri(), checked && decoded);
    if !decoded {
        assert_eq!(n, 0, "routes yielded for an undecoded family");
    }
    n
}

/// Walks an MP_UNREACH_NLRI view.
pub fn walk_mp_unreach(m: &MpUnreach<'_>, checked: bool) -> usize {
    sink((m.family(), m.family().to_string(), m.add_path()));
    sink((m.withdrawn_bytes(), m.is_empty()));
    let decoded = m.family().index().is_some();
    let n = walk_nlri(m.withdrawn(), checked && decoded);
    if !decoded {
        assert_eq!(n, 0, "routes yielded for an undecoded family");
    }
    n
}

/// Walks one typed attribute taken from a validated field.
pub fn walk_attribute(a: &Attribute<'_>) {
    match a {
        Attribute::Origin(o) => sink(o.to_string()),
        Attribute::AsPath(p) | Attribute::As4Path(p) => walk_as_path(p),
        Attribute::NextHop(x) | Attribute::OriginatorId(x) => sink(x.to_string()),
        Attribute::MultiExitDisc(v) | Attribute::LocalPref(v) | Attribute::Otc(v) => sink(*v),
        Attribute::AtomicAggregate => {}
        Attribute::Aggregator(g) | Attribute::As4Aggregator(g) => sink((g.asn, g.address)),
        Attribute::Communities(c) => {
            assert_eq!(c.iter().len(), c.len());
            sink((c.is_empty(), c.as_bytes()));
            for x in c.iter() {
                sink((x.to_string(), x.asn(), x.value()));
            }
        }
        Attribute::ClusterList(c) => {
            assert_eq!(c.iter().len(), c.len());
            for x in c.iter() {
                sink(x);
            }
        }
        Attribute::MpReach(m) => {
            walk_mp_reach(m, true);
        }
        Attribute::MpUnreach(m) => {
            walk_mp_unreach(m, true);
        }
        Attribute::ExtendedCommunities(c) => {
            assert_eq!(c.iter().len(), c.len());
            for x in c.iter() {
                sink((x.to_string(), x.type_high(), x.subtype(), x.is_transitive()));
            }
        }
        Attribute::LargeCommunities(c) => {
            assert_eq!(c.iter().len(), c.len());
            for x in c.iter() {
                sink(x.to_string());
            }
        }
        Attribute::Unknown(r) | Attribute::Invalid(r) => {
            sink((r.flags, r.type_code, r.value, r.as_bytes()));
            sink((r.is_optional(), r.is_transitive(), r.is_partial()));
        }
    }
    sink(AttributeRepr::parse(a));
}

/// Walks a validated path attributes field: the typed iterator, every raw
/// attribute decoded with and without validation, and `get` for each type
/// present.
pub fn walk_attributes(attrs: &Attributes<'_>) {
    let ctx = *attrs.context();
    sink((attrs.as_bytes(), attrs.is_treat_as_withdraw()));
    if let Some(e) = attrs.error() {
        assert_ne!(
            e.action,
            bgp_proto::Action::SessionReset,
            "an accepted field carries a session reset"
        );
        sink(e.to_string());
    }
    for a in attrs.iter() {
        walk_attribute(&a);
    }
    for raw in attrs.raw() {
        sink((raw.flags, raw.type_code, raw.as_bytes()));
        let checked = raw.decode(&ctx, true);
        let unchecked = raw.decode(&ctx, false);
        if let Ok(a) = checked {
            assert_eq!(
                unchecked,
                Ok(a),
                "attribute decodes differently without the validation walk: {}",
                hex(raw.as_bytes())
            );
            walk_attribute(&a);
        }
        sink(unchecked);
        assert!(attrs.contains(raw.type_code));
        if let Some(a) = attrs.get(raw.type_code) {
            walk_attribute(&a);
        }
    }
    if let Some(m) = attrs.mp_reach() {
        walk_mp_reach(&m, true);
    }
    if let Some(m) = attrs.mp_unreach() {
        walk_mp_unreach(&m, true);
    }
}

/// Walks a validated UPDATE: fields, routes announced and withdrawn,
/// End-of-RIB, attributes.
pub fn walk_update(u: &Update<'_>) {
    sink(*u.context());
    sink(u.error().map(|e| e.to_string()));
    let taw = u.is_treat_as_withdraw();
    let withdrawn = walk_nlri(u.withdrawn(), true);
    let nlri = walk_nlri(u.nlri(), true);
    let reach = u.mp_reach().map_or(0, |m| walk_mp_reach(&m, true));
    let unreach = u.mp_unreach().map_or(0, |m| walk_mp_unreach(&m, true));

    let mut announced = 0;
    for (family, n) in u.announced() {
        sink((family.to_string(), n));
        announced += 1;
    }
    let mut withdrawals = 0;
    for (family, n) in u.withdrawals() {
        sink((family.to_string(), n));
        withdrawals += 1;
    }
    if taw {
        assert_eq!(announced, 0, "treat-as-withdraw UPDATE announces routes");
        assert_eq!(withdrawals, withdrawn + unreach + nlri + reach);
    } else {
        assert_eq!(announced, nlri + reach);
        assert_eq!(withdrawals, withdrawn + unreach);
    }
    if let Some(family) = u.end_of_rib() {
        sink(family.to_string());
        assert_eq!(announced + withdrawals, 0, "End-of-RIB carries routes");
    }
    for a in u.attribute_iter() {
        walk_attribute(&a);
    }
    walk_attributes(u.attributes());
    if u.attributes().contains(type_code::MP_REACH_NLRI) {
        sink(u.mp_reach());
    }
}

/// Walks a validated OPEN: every parameter, capability and helper.
pub fn walk_open(o: &Open<'_>) {
    sink(o.to_string());
    sink(o.check_semantics().map_err(|e| e.to_string()));
    sink((o.version(), o.my_as(), o.hold_time(), o.bgp_identifier()));
    sink((
        o.as_bytes(),
        o.optional_parameters(),
        o.is_extended_format(),
    ));
    for p in o.parameters() {
        sink((p.param_type, p.value));
        for c in p.capabilities() {
            sink((c.to_string(), c.code().to_string(), c.name()));
            sink(CapabilityRepr::parse(&c));
        }
    }
    for c in o.capabilities() {
        sink(c.code().is_decoded());
    }
    sink((o.four_octet_as(), o.peer_as()));
    for f in o.multiprotocol() {
        sink(f.to_string());
    }
    sink((
        o.route_refresh(),
        o.enhanced_route_refresh(),
        o.extended_message(),
    ));
    for e in o.extended_next_hop() {
        sink((e.to_string(), e.family()));
    }
    for a in o.add_path() {
        sink((a.to_string(), a.mode.receive(), a.mode.send()));
    }
    if let Some(gr) = o.graceful_restart() {
        sink(gr.to_string());
        sink((gr.restart_state(), gr.notification(), gr.restart_flags()));
        sink(gr.restart_time());
        for f in gr.families() {
            sink(f.to_string());
        }
    }
    sink(o.long_lived_graceful_restart());
    for f in o.long_lived_graceful_restart_families() {
        sink(f.to_string());
    }
    if let Some(role) = o.role() {
        sink((role.to_string(), role.name(), role.expected_peer_role()));
    }
    if let Some(fqdn) = o.fqdn() {
        sink((fqdn.to_string(), fqdn.hostname_str(), fqdn.domain_str()));
        sink((fqdn.hostname(), fqdn.domain()));
    }
    if let Some(v) = o.software_version() {
        sink((v.to_string(), v.as_str(), v.as_bytes()));
    }
    let repr = OpenRepr::parse(o);
    assert_eq!(repr.peer_as(), o.peer_as(), "OpenRepr::peer_as disagrees");
    sink(repr.my_as_field());
}

/// Walks a validated NOTIFICATION and the one a Hard Reset wraps.
pub fn walk_notification(n: &Notification<'_>) {
    sink(n.to_string());
    sink((n.code(), n.error_code(), n.subcode(), n.subcode_name()));
    sink((n.cease_subcode(), n.data()));
    if let Some(text) = n.shutdown_communication() {
        sink(text.map_err(|e| e.to_string()));
    }
    sink(n.max_prefix());
    if let Some(inner) = n.hard_reset_inner() {
        sink(inner.to_string());
        sink(
            inner
                .shutdown_communication()
                .map(|r| r.map_err(|e| e.to_string())),
        );
        sink(inner.max_prefix());
    }
    let repr = NotificationRepr::parse(n);
    assert_eq!(repr.view(), *n, "NotificationRepr::view disagrees");
    sink((repr.to_string(), repr.body_len()));
}

/// Walks a validated ROUTE-REFRESH.
pub fn walk_route_refresh(r: &RouteRefresh<'_>) {
    sink((r.afi(), r.safi(), r.family().to_string()));
    sink((r.subtype().to_string(), r.subtype().name(), r.must_ignore()));
    sink(r.as_bytes());
}

/// Walks any validated message.
pub fn walk_message(m: &Message<'_>) {
    sink(m.msg_type().name());
    match m {
        Message::Open(o) => walk_open(o),
        Message::Update(u) => walk_update(u),
        Message::Notification(n) => walk_notification(n),
        Message::Keepalive => {}
        Message::RouteRefresh(r) => walk_route_refresh(r),
    }
}

/// Decodes one whole message under `ctx` and, if it is valid, walks it and
/// its owned form. Returns whether it decoded.
pub fn check_message(msg: &[u8], ctx: &SessionContext) -> bool {
    match Message::new_checked(msg, ctx) {
        Ok(m) => {
            walk_message(&m);
            sink(MessageRepr::parse(&m));
            true
        }
        Err(e) => {
            sink(e.to_string());
            sink(NotificationRepr::from_error(&e));
            false
        }
    }
}

/// The message round trip: decode `msg` under `ctx`; if valid, walk it,
/// take its owned form, emit that under the same context, decode the
/// emitted octets and require the same owned form. The emitted octets are
/// canonical (emitting the second form gives them again) and no longer than
/// the original.
pub fn round_trip_message(msg: &[u8], ctx: &SessionContext) {
    let Ok(view) = Message::new_checked(msg, ctx) else {
        return;
    };
    walk_message(&view);
    let repr = MessageRepr::parse(&view);
    let mut out = Vec::new();
    if let Err(e) = repr.emit(ctx, &mut out) {
        panic!(
            "a message that decoded under {ctx:?} does not encode again: {e}\n\
             input {}\nrepr {repr:?}",
            hex(msg)
        );
    }
    let again = match Message::new_checked(&out, ctx) {
        Ok(m) => m,
        Err(e) => panic!(
            "emitted message does not decode under {ctx:?}: {e}\n\
             input   {}\nemitted {}\nrepr {repr:?}",
            hex(msg),
            hex(&out)
        ),
    };
    assert_eq!(again.msg_type(), view.msg_type());
    let repr2 = MessageRepr::parse(&again);
    assert_eq!(
        repr,
        repr2,
        "round trip changed the message under {ctx:?}\ninput   {}\nemitted {}",
        hex(msg),
        hex(&out)
    );
    let mut out2 = Vec::new();
    repr2.emit(ctx, &mut out2).expect("second emit");
    assert_eq!(hex(&out2), hex(&out), "emission is not canonical");
    assert!(
        out.len() <= msg.len(),
        "canonical form ({} octets) is longer than the input ({} octets)\n\
         input   {}\nemitted {}",
        out.len(),
        msg.len(),
        hex(msg),
        hex(&out)
    );
    walk_message(&again);
}

/// The attribute round trip: the owned forms of a validated field, emitted
/// under the same context, must validate again and give the same owned
/// forms. Not meaningful for MRT RIB entry contexts, where an emitted full
/// MP_REACH_NLRI may read as the abbreviated form (RFC 6396 s4.3.4 leaves
/// the two forms ambiguous), so those are skipped.
pub fn round_trip_attributes(attrs: &Attributes<'_>) {
    let ctx = *attrs.context();
    if ctx.mrt_rib_entry {
        return;
    }
    let reprs: Vec<AttributeRepr> = attrs.iter().map(|a| AttributeRepr::parse(&a)).collect();
    let mut out = Vec::new();
    for r in &reprs {
        if let Err(e) = r.emit(&ctx, &mut out) {
            panic!(
                "attribute from a validated field does not encode: {e}\n\
                 field {}\nrepr {r:?}",
                hex(attrs.as_bytes())
            );
        }
    }
    let again = match Attributes::new_checked(&out, &ctx) {
        Ok(a) => a,
        Err(e) => panic!(
            "emitted attributes do not validate under {ctx:?}: {e}\n\
             field   {}\nemitted {}",
            hex(attrs.as_bytes()),
            hex(&out)
        ),
    };
    let reprs2: Vec<AttributeRepr> = again.iter().map(|a| AttributeRepr::parse(&a)).collect();
    assert_eq!(
        reprs,
        reprs2,
        "attribute round trip changed the field under {ctx:?}\nfield   {}\nemitted {}",
        hex(attrs.as_bytes()),
        hex(&out)
    );
    assert!(out.len() <= attrs.as_bytes().len(), "emitted field grew");
}

/// Validates a path attributes field under `ctx` and walks it.
pub fn check_attributes(buf: &[u8], ctx: &SessionContext) -> bool {
    match Attributes::new_checked(buf, ctx) {
        Ok(a) => {
            walk_attributes(&a);
            true
        }
        Err(e) => {
            assert_eq!(e.action, bgp_proto::Action::SessionReset);
            sink(e.to_string());
            false
        }
    }
}

/// Walks one MRT record and decodes what it carries: BGP messages with the
/// record's context, RIB entry and TABLE_DUMP attributes with theirs.
pub fn walk_record(rec: &Record<'_>) {
    let h = rec.header();
    sink((
        rec.timestamp(),
        rec.microseconds(),
        rec.mrt_type(),
        rec.subtype(),
    ));
    sink((h.to_bytes(), h.is_extended_timestamp(), rec.body()));
    assert_eq!(h.record_len(), 12 + u64::from(h.length));
    assert_eq!(rec.microseconds().is_some(), h.is_extended_timestamp());
    match rec.view() {
        RecordView::PeerIndexTable(t) => {
            sink((t.collector_bgp_id(), t.view_name(), t.view_name_str()));
            let count = t.peer_count();
            let mut n = 0usize;
            for (i, p) in t.peers().enumerate() {
                sink((p.peer_type, p.bgp_id, p.ip, p.asn, p.is_ipv6(), p.is_as4()));
                let index = u16::try_from(i).expect("at most 65535 peers");
                assert_eq!(t.peer(index), Some(p), "peer({i}) disagrees with peers()");
                n += 1;
            }
            assert_eq!(n, count, "peers() of a validated table stopped early");
            let table = t.to_peer_table();
            assert_eq!(table.len(), count);
            sink((table.is_empty(), table.get(0).copied()));
        }
        RecordView::Rib(r) => {
            sink((
                r.subtype(),
                r.family().to_string(),
                r.sequence(),
                r.prefix(),
            ));
            let add_path = r.add_path();
            let mut n = 0usize;
            for e in r.entries() {
                sink((e.peer_index(), e.originated_time(), e.path_id()));
                assert_eq!(e.path_id().is_some(), add_path);
                check_attributes(e.attributes(), &e.attribute_context());
                n += 1;
            }
            assert_eq!(
                n,
                r.entry_count(),
                "entries() of a validated RIB stopped early"
            );
        }
        RecordView::RibGeneric(g) => {
            sink((g.subtype(), g.add_path(), g.sequence(), g.afi(), g.safi()));
            sink((g.family().to_string(), g.data()));
        }
        RecordView::TableDump(t) => {
            sink((
                t.subtype(),
                t.afi(),
                t.view_number(),
                t.sequence(),
                t.prefix(),
            ));
            sink((t.status(), t.originated_time(), t.peer_ip(), t.peer_as()));
            check_attributes(t.attributes(), &t.attribute_context());
        }
        RecordView::Bgp4mpMessage(m) => {
            sink((m.subtype(), m.is_as4(), m.is_local(), m.is_add_path()));
            sink((m.peer_as(), m.local_as(), m.interface_index(), m.afi()));
            sink((m.peer_ip(), m.local_ip()));
            let ctx = m.context();
            assert_eq!(ctx.four_octet_as, m.is_as4());
            check_message(m.message(), &ctx);
        }
        RecordView::Bgp4mpStateChange(s) => {
            sink((s.subtype(), s.is_as4(), s.peer_as(), s.local_as()));
            sink((s.interface_index(), s.afi(), s.peer_ip(), s.local_ip()));
            sink(BgpState::from_u16(s.old_state()).map(BgpState::name));
            sink(BgpState::from_u16(s.new_state()).map(BgpState::name));
        }
        RecordView::Unknown(u) => sink((u.mrt_type, u.subtype, u.body)),
    }
}
