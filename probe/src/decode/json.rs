//! `--format json`: one JSON object per route, every attribute decoded.
//!
//! The same records print as in the line format: one `"type":"B"` object per
//! RIB entry, `"A"` and `"W"` objects per prefix an UPDATE announces or
//! withdraws, `"STATE"` per state change; OPEN, KEEPALIVE and NOTIFICATION
//! messages print nothing. Where bgpdump drops routes, this format does
//! not: multicast RIB records print, and so does every prefix of a list
//! longer than bgpdump's 8192. Unlike the line format, which reproduces
//! bgpdump's lenient reading, this one decodes with `bgp-proto` and its RFC
//! 7606 verdicts: an UPDATE that resets the session is an error of its
//! record, routes of a treat-as-withdraw UPDATE print as `"W"` with
//! `"treat_as_withdraw":true`, and an UPDATE error that does not reset the
//! session is reported in `"error"`.
//!
//! A route object holds `type`, `mrt_type`, `timestamp`, `microseconds`
//! (null outside `_ET` records), `peer_ip`, `peer_as`, `family`, `prefix`,
//! `path_id` (null without ADD-PATH), `next_hop` and `link_local_next_hop`
//! (the route's, from NEXT_HOP or MP_REACH_NLRI), and for announcements and
//! RIB entries `attributes`: `origin`, `as_path` (segments; for a 2-octet
//! session merged with AS4_PATH as RFC 6793 says), `as4_path`,
//! `next_hop`, `med`, `local_pref`, `communities`, `extended_communities`,
//! `large_communities`, `atomic_aggregate`, `aggregator`, `as4_aggregator`,
//! `originator_id`, `cluster_list`, `otc`, `mp_reach` and `mp_unreach`
//! (family and next hops), `unknown` and `malformed` (type, flags, value in
//! hex); absent attributes are left out. The attributes object is
//! serialized once per UPDATE or RIB entry and copied into each route.

use super::fmt::{push_hex, push_u32};
use bgp_proto::attr::{
    AsPath, AsPathRepr, Attribute, Attributes, MpReach, NextHop, RawAttribute, SegmentRepr,
    SegmentType,
};
use bgp_proto::mrt::{
    mrt_type, Bgp4mpMessage, Bgp4mpStateChange, BgpState, PeerTable, Record, RecordView, RibRecord,
    TableDump,
};
use bgp_proto::{Family, Message, Nlri, Update};
use serde::Serialize;
use std::io::Write as _;
use std::net::IpAddr;

/// Formats MRT records as JSON lines.
#[derive(Debug, Default)]
pub struct Json {
    peers: Option<PeerTable>,
    /// The serialized attributes of the current UPDATE or RIB entry.
    attrs: Vec<u8>,
    /// The common start of the current record's objects.
    head: Vec<u8>,
}

/// The parts of a route object that vary per route.
struct Route<'a> {
    kind: &'static str,
    family: Family,
    nlri: Nlri,
    next_hop: Option<NextHop<'a>>,
    with_attrs: bool,
    treat_as_withdraw: bool,
}

impl Json {
    /// A formatter with no peer index table yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the objects of one record to `out`.
    pub fn record(&mut self, rec: &Record<'_>, out: &mut Vec<u8>) -> Result<(), String> {
        match rec.view() {
            RecordView::PeerIndexTable(t) => {
                self.peers = Some(t.to_peer_table());
                Ok(())
            }
            RecordView::Rib(rib) => self.rib(rec, &rib, out),
            RecordView::TableDump(d) => self.table_dump(rec, &d, out),
            RecordView::Bgp4mpMessage(m) => self.message(rec, &m, out),
            RecordView::Bgp4mpStateChange(s) => {
                self.state_change(rec, &s, out);
                Ok(())
            }
            RecordView::RibGeneric(_) | RecordView::Unknown(_) => Ok(()),
        }
    }

    /// Sets `head` to the members every object of the record shares:
    /// `"mrt_type":..,"timestamp":..,"microseconds":..,"peer_ip":..,"peer_as":..,`.
    fn set_head(&mut self, rec: &Record<'_>, peer_ip: IpAddr, peer_as: u32) {
        let h = &mut self.head;
        h.clear();
        h.extend_from_slice(b"\"mrt_type\":\"");
        match mrt_type_name(rec.mrt_type()) {
            Some(name) => h.extend_from_slice(name.as_bytes()),
            None => push_u32(h, u32::from(rec.mrt_type())),
        }
        h.extend_from_slice(b"\",\"timestamp\":");
        push_u32(h, rec.timestamp());
        h.extend_from_slice(b",\"microseconds\":");
        match rec.microseconds() {
            Some(us) => push_u32(h, us),
            None => h.extend_from_slice(b"null"),
        }
        let _ = write!(h, ",\"peer_ip\":\"{peer_ip}\",\"peer_as\":");
        push_u32(h, peer_as);
        h.push(b',');
    }

    fn route(&self, r: &Route<'_>, error: Option<&bgp_proto::Error>, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(r.kind.as_bytes());
        out.extend_from_slice(b"\",");
        out.extend_from_slice(&self.head);
        let _ = write!(
            out,
            "\"family\":\"{}\",\"prefix\":\"{}\",\"path_id\":",
            r.family, r.nlri.prefix
        );
        match r.nlri.path_id {
            Some(id) => push_u32(out, id),
            None => out.extend_from_slice(b"null"),
        }
        let (global, link_local) = match r.next_hop {
            Some(NextHop::V4(a)) => (Some(IpAddr::V4(a)), None),
            Some(NextHop::V6 { global, link_local }) => {
                (Some(IpAddr::V6(global)), link_local.map(IpAddr::V6))
            }
            Some(NextHop::Other(_)) | None => (None, None),
        };
        for (key, value) in [("next_hop", global), ("link_local_next_hop", link_local)] {
            if let Some(v) = value {
                let _ = write!(out, ",\"{key}\":\"{v}\"");
            }
        }
        if r.treat_as_withdraw {
            out.extend_from_slice(b",\"treat_as_withdraw\":true");
        }
        if let Some(e) = error {
            out.extend_from_slice(b",\"error\":");
            let _ = serde_json::to_writer(&mut *out, &ErrorJson::new(e));
        }
        if r.with_attrs {
            out.extend_from_slice(b",\"attributes\":");
            out.extend_from_slice(&self.attrs);
        }
        out.extend_from_slice(b"}\n");
    }

    fn set_attrs(&mut self, attrs: &Attributes<'_>) {
        self.attrs.clear();
        let summary = AttrsJson::new(attrs);
        let _ = serde_json::to_writer(&mut self.attrs, &summary);
    }

    fn rib(
        &mut self,
        rec: &Record<'_>,
        rib: &RibRecord<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let Some(peers) = self.peers.take() else {
            return match rib.entry_count() {
                0 => Ok(()),
                _ => Err("RIB record before any PEER_INDEX_TABLE: skipped".into()),
            };
        };
        let prefix = rib.prefix();
        let mut problem = None;
        for e in rib.entries() {
            let Some(peer) = peers.get(e.peer_index()) else {
                problem.get_or_insert(format!("peer index {} not in the table", e.peer_index()));
                continue;
            };
            let attrs = match Attributes::new_checked(e.attributes(), &e.attribute_context()) {
                Ok(a) => a,
                Err(err) => {
                    problem.get_or_insert(format!("RIB entry attributes: {err}"));
                    continue;
                }
            };
            self.set_head(rec, peer.ip, peer.asn);
            self.set_attrs(&attrs);
            let next_hop = route_next_hop(&attrs, None);
            let route = Route {
                kind: "B",
                family: rib.family(),
                nlri: Nlri {
                    path_id: e.path_id(),
                    prefix,
                },
                next_hop,
                with_attrs: true,
                treat_as_withdraw: false,
            };
            self.route(&route, attrs.error(), out);
        }
        self.peers = Some(peers);
        problem.map_or(Ok(()), Err)
    }

    fn table_dump(
        &mut self,
        rec: &Record<'_>,
        d: &TableDump<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let attrs = Attributes::new_checked(d.attributes(), &d.attribute_context())
            .map_err(|e| format!("TABLE_DUMP attributes: {e}"))?;
        self.set_head(rec, d.peer_ip(), u32::from(d.peer_as()));
        self.set_attrs(&attrs);
        let prefix = d.prefix();
        let family = if prefix.addr().is_ipv6() {
            Family::IPV6_UNICAST
        } else {
            Family::IPV4_UNICAST
        };
        let route = Route {
            kind: "B",
            family,
            nlri: Nlri {
                path_id: None,
                prefix,
            },
            next_hop: route_next_hop(&attrs, None),
            with_attrs: true,
            treat_as_withdraw: false,
        };
        self.route(&route, attrs.error(), out);
        Ok(())
    }

    fn message(
        &mut self,
        rec: &Record<'_>,
        m: &Bgp4mpMessage<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let ctx = m.context();
        let u = match Message::new_checked(m.message(), &ctx) {
            Ok(Message::Update(u)) => u,
            Ok(_) => return Ok(()),
            Err(e) => return Err(format!("BGP message rejected: {e}")),
        };
        self.set_head(rec, m.peer_ip(), m.peer_as());
        self.update(&u, out);
        Ok(())
    }

    fn update(&mut self, u: &Update<'_>, out: &mut Vec<u8>) {
        let taw = u.is_treat_as_withdraw();
        let error = u.error();
        let withdraw = |family, nlri, taw| Route {
            kind: "W",
            family,
            nlri,
            next_hop: None,
            with_attrs: false,
            treat_as_withdraw: taw,
        };
        for n in u.withdrawn() {
            self.route(&withdraw(Family::IPV4_UNICAST, n, false), None, out);
        }
        if let Some(w) = u.mp_unreach() {
            for n in w.withdrawn() {
                self.route(&withdraw(w.family(), n, false), None, out);
            }
        }
        let reach = u.mp_reach();
        let field_nh = route_next_hop(u.attributes(), Some(Family::IPV4_UNICAST));
        if taw {
            for n in u.nlri() {
                self.route(&withdraw(Family::IPV4_UNICAST, n, true), error, out);
            }
            if let Some(r) = reach {
                for n in r.nlri() {
                    self.route(&withdraw(r.family(), n, true), error, out);
                }
            }
            return;
        }
        if u.nlri().next().is_none() && reach.is_none_or(|r| r.nlri().next().is_none()) {
            return;
        }
        self.set_attrs(u.attributes());
        let announce = |family, nlri, next_hop| Route {
            kind: "A",
            family,
            nlri,
            next_hop,
            with_attrs: true,
            treat_as_withdraw: false,
        };
        for n in u.nlri() {
            self.route(&announce(Family::IPV4_UNICAST, n, field_nh), error, out);
        }
        if let Some(r) = reach {
            for n in r.nlri() {
                self.route(&announce(r.family(), n, Some(r.next_hop())), error, out);
            }
        }
    }

    fn state_change(&mut self, rec: &Record<'_>, s: &Bgp4mpStateChange, out: &mut Vec<u8>) {
        self.set_head(rec, s.peer_ip(), s.peer_as());
        out.extend_from_slice(b"{\"type\":\"STATE\",");
        out.extend_from_slice(&self.head);
        let _ = write!(out, "\"local_ip\":\"{}\",\"local_as\":", s.local_ip());
        push_u32(out, s.local_as());
        for (key, v) in [("old_state", s.old_state()), ("new_state", s.new_state())] {
            let _ = write!(out, ",\"{key}\":{v},\"{key}_name\":");
            match BgpState::from_u16(v) {
                Some(st) => {
                    let _ = write!(out, "\"{}\"", st.name());
                }
                None => out.extend_from_slice(b"null"),
            }
        }
        out.extend_from_slice(b"}\n");
    }
}

/// The name of the MRT types that carry routes.
fn mrt_type_name(t: u16) -> Option<&'static str> {
    Some(match t {
        mrt_type::TABLE_DUMP => "TABLE_DUMP",
        mrt_type::TABLE_DUMP_V2 => "TABLE_DUMP_V2",
        mrt_type::BGP4MP => "BGP4MP",
        mrt_type::BGP4MP_ET => "BGP4MP_ET",
        _ => return None,
    })
}

/// The next hop of a route of `family` (NEXT_HOP for the NLRI field, the
/// MP_REACH_NLRI one otherwise; `None` picks MP_REACH_NLRI when present, as
/// for RIB entries).
fn route_next_hop<'a>(attrs: &Attributes<'a>, field: Option<Family>) -> Option<NextHop<'a>> {
    let next_hop = || match attrs.get(bgp_proto::attr::type_code::NEXT_HOP) {
        Some(Attribute::NextHop(a)) => Some(NextHop::V4(a)),
        _ => None,
    };
    match field {
        Some(_) => next_hop(),
        None => attrs.mp_reach().map(|m| m.next_hop()).or_else(next_hop),
    }
}

/// An UPDATE error that did not reset the session.
#[derive(Serialize)]
struct ErrorJson {
    code: u8,
    subcode: u8,
    name: String,
    action: &'static str,
    reason: &'static str,
}

impl ErrorJson {
    fn new(e: &bgp_proto::Error) -> Self {
        let sub = bgp_proto::codes::subcode_name(e.code.as_u8(), e.subcode);
        Self {
            code: e.code.as_u8(),
            subcode: e.subcode,
            name: match sub {
                Some(s) => format!("{} / {s}", e.code),
                None => e.code.to_string(),
            },
            action: match e.action {
                bgp_proto::Action::AttributeDiscard => "attribute-discard",
                bgp_proto::Action::TreatAsWithdraw => "treat-as-withdraw",
                bgp_proto::Action::SessionReset => "session-reset",
            },
            reason: e.reason,
        }
    }
}

/// One AS path segment.
#[derive(Serialize)]
struct SegmentJson {
    #[serde(rename = "type")]
    seg_type: &'static str,
    asns: Vec<u32>,
}

fn segment_name(t: SegmentType) -> &'static str {
    match t {
        SegmentType::Set => "AS_SET",
        SegmentType::Sequence => "AS_SEQUENCE",
        SegmentType::ConfedSequence => "AS_CONFED_SEQUENCE",
        SegmentType::ConfedSet => "AS_CONFED_SET",
    }
}

fn segments(path: &AsPathRepr) -> Vec<SegmentJson> {
    path.segments
        .iter()
        .map(|s: &SegmentRepr| SegmentJson {
            seg_type: segment_name(s.seg_type),
            asns: s.asns.clone(),
        })
        .collect()
}

#[derive(Serialize)]
struct AggregatorJson {
    asn: u32,
    address: String,
}

#[derive(Serialize)]
struct MpJson {
    family: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    next_hops: Vec<String>,
}

#[derive(Serialize)]
struct RawJson {
    #[serde(rename = "type")]
    type_code: u8,
    flags: u8,
    hex: String,
}

impl RawJson {
    fn new(raw: &RawAttribute<'_>) -> Self {
        let mut hex = Vec::new();
        push_hex(&mut hex, raw.value);
        Self {
            type_code: raw.type_code,
            flags: raw.flags,
            hex: String::from_utf8(hex).unwrap_or_default(),
        }
    }
}

/// Every attribute of an UPDATE or RIB entry.
#[derive(Serialize, Default)]
struct AttrsJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    origin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    as_path: Option<Vec<SegmentJson>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    as4_path: Option<Vec<SegmentJson>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_hop: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    med: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    local_pref: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    communities: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extended_communities: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    large_communities: Option<Vec<String>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    atomic_aggregate: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    aggregator: Option<AggregatorJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    as4_aggregator: Option<AggregatorJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    originator_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_list: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    otc: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mp_reach: Option<MpJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mp_unreach: Option<MpJson>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unknown: Vec<RawJson>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    malformed: Vec<RawJson>,
}

fn mp_next_hops(m: &MpReach<'_>) -> Vec<String> {
    match m.next_hop() {
        NextHop::V4(a) => vec![a.to_string()],
        NextHop::V6 { global, link_local } => std::iter::once(global)
            .chain(link_local)
            .map(|a| a.to_string())
            .collect(),
        NextHop::Other([]) => Vec::new(),
        NextHop::Other(b) => {
            let mut hex = Vec::new();
            push_hex(&mut hex, b);
            vec![String::from_utf8(hex).unwrap_or_default()]
        }
    }
}

impl AttrsJson {
    fn new(attrs: &Attributes<'_>) -> Self {
        let ctx = attrs.context();
        let mut j = Self::default();
        let mut as_path: Option<AsPath<'_>> = None;
        let mut as4_path: Option<AsPath<'_>> = None;
        for a in attrs.iter() {
            match a {
                Attribute::Origin(o) => j.origin = Some(o.to_string()),
                Attribute::AsPath(p) => as_path = Some(p),
                Attribute::NextHop(a) => j.next_hop = Some(a.to_string()),
                Attribute::MultiExitDisc(v) => j.med = Some(v),
                Attribute::LocalPref(v) => j.local_pref = Some(v),
                Attribute::AtomicAggregate => j.atomic_aggregate = true,
                Attribute::Aggregator(g) => {
                    j.aggregator = Some(AggregatorJson {
                        asn: g.asn,
                        address: g.address.to_string(),
                    })
                }
                Attribute::Communities(c) => {
                    j.communities = Some(c.iter().map(|c| c.to_string()).collect())
                }
                Attribute::OriginatorId(a) => j.originator_id = Some(a.to_string()),
                Attribute::ClusterList(c) => {
                    j.cluster_list = Some(c.iter().map(|a| a.to_string()).collect())
                }
                Attribute::MpReach(m) => {
                    j.mp_reach = Some(MpJson {
                        family: m.family().to_string(),
                        next_hops: mp_next_hops(&m),
                    })
                }
                Attribute::MpUnreach(m) => {
                    j.mp_unreach = Some(MpJson {
                        family: m.family().to_string(),
                        next_hops: Vec::new(),
                    })
                }
                Attribute::ExtendedCommunities(c) => {
                    j.extended_communities = Some(c.iter().map(|c| c.to_string()).collect())
                }
                Attribute::As4Path(p) => as4_path = Some(p),
                Attribute::As4Aggregator(g) => {
                    j.as4_aggregator = Some(AggregatorJson {
                        asn: g.asn,
                        address: g.address.to_string(),
                    })
                }
                Attribute::LargeCommunities(c) => {
                    j.large_communities = Some(c.iter().map(|c| c.to_string()).collect())
                }
                Attribute::Otc(v) => j.otc = Some(v),
                Attribute::Unknown(raw) => j.unknown.push(RawJson::new(&raw)),
                Attribute::Invalid(raw) => j.malformed.push(RawJson::new(&raw)),
            }
        }
        if let Some(p) = as_path {
            let effective = match as4_path {
                Some(p4) if !ctx.four_octet_as => AsPathRepr::reconcile(&p, &p4),
                _ => AsPathRepr::parse(&p),
            };
            j.as_path = Some(segments(&effective));
        }
        j.as4_path = as4_path.map(|p| segments(&AsPathRepr::parse(&p)));
        j
    }
}
