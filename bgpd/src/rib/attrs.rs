//! Interned path attribute sets.
//!
//! A [`PathAttrs`] is everything one route carries besides its prefix: the
//! next hop that applies to its family, and the path attributes of its
//! UPDATE. It is stored in one heap block in a canonical wire form, so that
//! hashing and comparing are a memcmp, a full table's hundreds of thousands
//! of sets stay small, and reading goes through the zero-copy views of
//! `bgp-proto`:
//!
//! ```text
//! [next hop length] [next hop octets] [attribute]...
//! ```
//!
//! The next hop is the NEXT_HOP attribute for routes of the NLRI field and
//! the MP_REACH_NLRI next hop (4, 16 or 32 octets: IPv4, IPv6 global, IPv6
//! global plus link-local) for the others. Attributes follow with flags
//! normalised (the Optional and Transitive bits their type requires; the
//! extended-length bit exactly when the value exceeds 255 octets; unknown
//! attributes keep their flags), in ascending type order, with 4-octet AS
//! numbers: on a 2-octet session AS_PATH is widened, reconciled with
//! AS4_PATH, and AGGREGATOR replaced by AS4_AGGREGATOR, as RFC 6793 s4.2.3
//! says. NEXT_HOP, MP_REACH_NLRI, MP_UNREACH_NLRI, AS4_PATH and
//! AS4_AGGREGATOR are never stored. Attributes discarded under RFC 7606 and
//! repeated ones are not either.
//!
//! [`Sets`] keeps one `Arc` per distinct set in a slab, found by content
//! through a hash index, and counts the routes using each (routes refer to
//! a set by its slab id), dropping the set when the count reaches zero.

use super::table::{alloc_cost, SeededState, MAX_SET_ID};
use bgp_proto::attr::{
    expected_flags, flags, type_code, Aggregator, AsPath, AsPathRepr, Attribute, AttributeRepr,
    ClusterList, Communities, ExtendedCommunities, LargeCommunities, NextHop, Origin, RawAttribute,
    RawAttributes, SegmentType, AS_TRANS,
};
use bgp_proto::{SessionContext, Update};
use hashbrown::HashTable;
use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

/// How the stored attributes decode: 4-octet AS numbers, nothing else.
const STORED: SessionContext = SessionContext::modern();

/// The attribute set of a route: next hop and path attributes, owned,
/// immutable, hashable, shared between routes through `Arc`.
///
/// Accessors decode lazily from the compact stored form (see the module
/// documentation); each costs a walk over a handful of attributes. AS
/// numbers are always 4 octets wide. `Serialize` writes the JSON object the
/// HTTP API shows.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PathAttrs {
    /// `[nh len] [nh] [attributes]`, canonical.
    data: Box<[u8]>,
}

impl PathAttrs {
    fn from_data(data: Box<[u8]>) -> Self {
        Self { data }
    }

    /// Builds a set by hand: `next_hop` as MP_REACH_NLRI would carry it,
    /// and owned attributes (NEXT_HOP, MP_REACH_NLRI, MP_UNREACH_NLRI,
    /// AS4_PATH and AS4_AGGREGATOR are ignored; AS numbers taken as 4
    /// octets). Equal to the set an UPDATE with the same content yields.
    pub fn from_reprs(next_hop: NextHop<'_>, attributes: &[AttributeRepr]) -> Self {
        let mut out = Vec::new();
        push_next_hop(&mut out, next_hop);
        let start = out.len();
        for a in attributes {
            if !stored_type(a.type_code()) {
                continue;
            }
            // Only an oversized value fails; such an attribute could not
            // have arrived either.
            let mark = out.len();
            if a.emit(&STORED, &mut out).is_err() {
                out.truncate(mark);
            }
        }
        canonical_order(&mut out, start);
        Self::from_data(out.into_boxed_slice())
    }

    /// The next hop octets (empty if the route had none).
    pub fn next_hop_bytes(&self) -> &[u8] {
        let n = usize::from(self.data.first().copied().unwrap_or(0));
        self.data.get(1..1 + n).unwrap_or_default()
    }

    /// The next hop: IPv4, or IPv6 global with an optional link-local.
    pub fn next_hop(&self) -> Option<NextHop<'_>> {
        let b = self.next_hop_bytes();
        (!b.is_empty()).then(|| NextHop::from_bytes(b))
    }

    /// The path attributes in canonical wire form (4-octet AS numbers), as
    /// they could be written into an UPDATE or an MRT record.
    pub fn attributes_bytes(&self) -> &[u8] {
        let n = self.next_hop_bytes().len();
        self.data.get(1 + n..).unwrap_or_default()
    }

    /// The stored attributes, framed.
    pub fn raw_attributes(&self) -> RawAttributes<'_> {
        RawAttributes::new(self.attributes_bytes())
    }

    /// The stored attributes, typed, in ascending type order.
    pub fn attributes(&self) -> impl Iterator<Item = Attribute<'_>> + '_ {
        self.raw_attributes()
            .filter_map(|r| r.decode(&STORED, false).ok())
    }

    /// The attribute of type `t`.
    fn get(&self, t: u8) -> Option<Attribute<'_>> {
        self.raw_attributes()
            .take_while(|r| r.type_code <= t)
            .find(|r| r.type_code == t)
            .and_then(|r| r.decode(&STORED, false).ok())
    }

    /// ORIGIN.
    pub fn origin(&self) -> Option<Origin> {
        match self.get(type_code::ORIGIN)? {
            Attribute::Origin(o) => Some(o),
            _ => None,
        }
    }

    /// AS_PATH, with 4-octet AS numbers (reconciled with AS4_PATH when the
    /// session had 2-octet ones).
    pub fn as_path(&self) -> Option<AsPath<'_>> {
        match self.get(type_code::AS_PATH)? {
            Attribute::AsPath(p) => Some(p),
            _ => None,
        }
    }

    /// AS_PATH as owned segments (empty when absent).
    pub fn as_path_repr(&self) -> AsPathRepr {
        self.as_path()
            .map(|p| AsPathRepr::parse(&p))
            .unwrap_or_default()
    }

    /// MULTI_EXIT_DISC.
    pub fn med(&self) -> Option<u32> {
        match self.get(type_code::MULTI_EXIT_DISC)? {
            Attribute::MultiExitDisc(v) => Some(v),
            _ => None,
        }
    }

    /// LOCAL_PREF.
    pub fn local_pref(&self) -> Option<u32> {
        match self.get(type_code::LOCAL_PREF)? {
            Attribute::LocalPref(v) => Some(v),
            _ => None,
        }
    }

    /// Whether ATOMIC_AGGREGATE is present.
    pub fn atomic_aggregate(&self) -> bool {
        matches!(
            self.get(type_code::ATOMIC_AGGREGATE),
            Some(Attribute::AtomicAggregate)
        )
    }

    /// AGGREGATOR with a 4-octet AS (AS4_AGGREGATOR merged in).
    pub fn aggregator(&self) -> Option<Aggregator> {
        match self.get(type_code::AGGREGATOR)? {
            Attribute::Aggregator(g) => Some(g),
            _ => None,
        }
    }

    /// COMMUNITIES (an empty view when absent).
    pub fn communities(&self) -> Communities<'_> {
        match self.get(type_code::COMMUNITIES) {
            Some(Attribute::Communities(c)) => c,
            _ => Communities::new(&[]),
        }
    }

    /// EXTENDED COMMUNITIES (an empty view when absent).
    pub fn extended_communities(&self) -> ExtendedCommunities<'_> {
        match self.get(type_code::EXTENDED_COMMUNITIES) {
            Some(Attribute::ExtendedCommunities(c)) => c,
            _ => ExtendedCommunities::new(&[]),
        }
    }

    /// LARGE_COMMUNITY (an empty view when absent).
    pub fn large_communities(&self) -> LargeCommunities<'_> {
        match self.get(type_code::LARGE_COMMUNITIES) {
            Some(Attribute::LargeCommunities(c)) => c,
            _ => LargeCommunities::new(&[]),
        }
    }

    /// ORIGINATOR_ID.
    pub fn originator_id(&self) -> Option<Ipv4Addr> {
        match self.get(type_code::ORIGINATOR_ID)? {
            Attribute::OriginatorId(a) => Some(a),
            _ => None,
        }
    }

    /// CLUSTER_LIST (an empty view when absent).
    pub fn cluster_list(&self) -> ClusterList<'_> {
        match self.get(type_code::CLUSTER_LIST) {
            Some(Attribute::ClusterList(c)) => c,
            _ => ClusterList::new(&[]),
        }
    }

    /// Only to Customer (RFC 9234).
    pub fn otc(&self) -> Option<u32> {
        match self.get(type_code::OTC)? {
            Attribute::Otc(v) => Some(v),
            _ => None,
        }
    }

    /// Attributes this codec does not interpret: flags (extended-length bit
    /// as needed by the value), type and value.
    pub fn unknown(&self) -> impl Iterator<Item = RawAttribute<'_>> + '_ {
        self.raw_attributes()
            .filter(|r| matches!(r.decode(&STORED, false), Ok(Attribute::Unknown(_))))
    }

    /// The owned attributes (without the next hop).
    pub fn to_reprs(&self) -> Vec<AttributeRepr> {
        self.attributes()
            .map(|a| AttributeRepr::parse(&a))
            .collect()
    }

    /// Heap octets this set occupies behind an `Arc`: the `Arc` block (two
    /// counters and the struct) and the data block.
    pub fn heap_size(&self) -> usize {
        alloc_cost(2 * size_of::<usize>() + size_of::<Self>()) + alloc_cost(self.data.len())
    }
}

impl fmt::Debug for PathAttrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("PathAttrs");
        match self.next_hop() {
            Some(nh) => d.field("next_hop", &format_args!("{nh}")),
            None => d.field("next_hop", &None::<()>),
        };
        for a in self.attributes() {
            match a {
                Attribute::AsPath(p) => d.field("as_path", &format_args!("{p}")),
                other => d.field("attribute", &other),
            };
        }
        d.finish()
    }
}

/// Whether attributes of type `t` are stored in a set.
fn stored_type(t: u8) -> bool {
    !matches!(
        t,
        type_code::NEXT_HOP
            | type_code::MP_REACH_NLRI
            | type_code::MP_UNREACH_NLRI
            | type_code::AS4_PATH
            | type_code::AS4_AGGREGATOR
    )
}

/// Appends the next hop: length octet, then the octets.
fn push_next_hop(out: &mut Vec<u8>, nh: NextHop<'_>) {
    match nh {
        NextHop::V4(a) => {
            out.push(4);
            out.extend_from_slice(&a.octets());
        }
        NextHop::V6 { global, link_local } => {
            out.push(if link_local.is_some() { 32 } else { 16 });
            out.extend_from_slice(&global.octets());
            if let Some(ll) = link_local {
                out.extend_from_slice(&ll.octets());
            }
        }
        NextHop::Other(b) => {
            let b = b.get(..255).unwrap_or(b);
            out.push(b.len() as u8);
            out.extend_from_slice(b);
        }
    }
}

/// Appends one attribute with canonical flags: `flags` (the type's required
/// bits for a known type), extended length exactly when needed.
fn put(out: &mut Vec<u8>, flag_bits: u8, t: u8, value: &[u8]) {
    let base = flag_bits & !flags::EXTENDED_LENGTH;
    match u8::try_from(value.len()) {
        Ok(len) => out.extend_from_slice(&[base, t, len]),
        Err(_) => {
            // Values come from an attribute field that fits in 65535 octets.
            let len = u16::try_from(value.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&[base | flags::EXTENDED_LENGTH, t]);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    out.extend_from_slice(value);
}

/// Appends a known attribute.
fn put_known(out: &mut Vec<u8>, t: u8, value: &[u8]) {
    put(out, expected_flags(t).unwrap_or(flags::OPTIONAL), t, value);
}

/// Sorts the attributes in `out[start..]` by type code if they are not in
/// order already (types are unique: repeats were dropped on decoding).
fn canonical_order(out: &mut Vec<u8>, start: usize) {
    let region = out.get(start..).unwrap_or_default();
    let mut prev = None;
    let sorted = RawAttributes::new(region).all(|r| {
        let ok = prev.is_none_or(|p| p < r.type_code);
        prev = Some(r.type_code);
        ok
    });
    if sorted {
        return;
    }
    let mut items: Vec<(u8, &[u8])> = RawAttributes::new(region)
        .map(|r| (r.type_code, r.as_bytes()))
        .collect();
    items.sort_by_key(|&(t, _)| t);
    let mut rebuilt = Vec::with_capacity(region.len());
    for (_, whole) in items {
        rebuilt.extend_from_slice(whole);
    }
    out.truncate(start);
    out.extend_from_slice(&rebuilt);
}

/// Appends `path` (of any AS number width) with 4-octet AS numbers.
fn put_as_path_wide(out: &mut Vec<u8>, path: &AsPath<'_>) {
    let mut value = Vec::with_capacity(path.as_bytes().len() * 2);
    for seg in path.segments() {
        value.push(seg.seg_type as u8);
        value.push(seg.len() as u8);
        for asn in seg.asns() {
            value.extend_from_slice(&asn.to_be_bytes());
        }
    }
    put_known(out, type_code::AS_PATH, &value);
}

/// Appends an aggregator with a 4-octet AS.
fn put_aggregator(out: &mut Vec<u8>, g: Aggregator) {
    let mut v = [0u8; 8];
    v[..4].copy_from_slice(&g.asn.to_be_bytes());
    v[4..].copy_from_slice(&g.address.octets());
    put_known(out, type_code::AGGREGATOR, &v);
}

/// Appends the canonical form of `update`'s path attributes (no next hop)
/// to `out`. Call only for an UPDATE that is not treat-as-withdraw.
pub(crate) fn encode_update(update: &Update<'_>, out: &mut Vec<u8>) {
    let start = out.len();
    let four = update.context().four_octet_as;
    // RFC 6793 s4.2.3, for a 2-octet session only.
    let mut as4_path = None;
    let mut as4_aggregator = None;
    let mut aggregator_as = None;
    if !four {
        for a in update.attribute_iter() {
            match a {
                Attribute::As4Path(p) => as4_path = Some(p),
                Attribute::As4Aggregator(g) => as4_aggregator = Some(g),
                Attribute::Aggregator(g) => aggregator_as = Some(g.asn),
                _ => {}
            }
        }
        // An AGGREGATOR that names a real 2-octet AS means that whoever
        // aggregated was an OLD speaker: the AS4 attributes are stale.
        if aggregator_as.is_some_and(|asn| asn != AS_TRANS) {
            as4_path = None;
            as4_aggregator = None;
        }
    }
    for a in update.attribute_iter() {
        match a {
            Attribute::Origin(o) => put_known(out, type_code::ORIGIN, &[o as u8]),
            Attribute::AsPath(p) if four => put_known(out, type_code::AS_PATH, p.as_bytes()),
            Attribute::AsPath(p) => match &as4_path {
                Some(p4) => {
                    let mut value = Vec::new();
                    AsPathRepr::reconcile(&p, p4).emit(4, &mut value);
                    put_known(out, type_code::AS_PATH, &value);
                }
                None => put_as_path_wide(out, &p),
            },
            Attribute::MultiExitDisc(v) => {
                put_known(out, type_code::MULTI_EXIT_DISC, &v.to_be_bytes());
            }
            Attribute::LocalPref(v) => put_known(out, type_code::LOCAL_PREF, &v.to_be_bytes()),
            Attribute::AtomicAggregate => put_known(out, type_code::ATOMIC_AGGREGATE, &[]),
            Attribute::Aggregator(g) => match as4_aggregator {
                Some(g4) if g.asn == AS_TRANS => put_aggregator(out, g4),
                _ => put_aggregator(out, g),
            },
            Attribute::Communities(c) => put_known(out, type_code::COMMUNITIES, c.as_bytes()),
            Attribute::OriginatorId(a) => {
                put_known(out, type_code::ORIGINATOR_ID, &a.octets());
            }
            Attribute::ClusterList(c) => put_known(out, type_code::CLUSTER_LIST, c.as_bytes()),
            Attribute::ExtendedCommunities(c) => {
                put_known(out, type_code::EXTENDED_COMMUNITIES, c.as_bytes());
            }
            Attribute::LargeCommunities(c) => {
                put_known(out, type_code::LARGE_COMMUNITIES, c.as_bytes());
            }
            Attribute::Otc(v) => put_known(out, type_code::OTC, &v.to_be_bytes()),
            Attribute::Unknown(r) => put(out, r.flags, r.type_code, r.value),
            // Kept per family (next hop), consumed above (AS4_*), or routes
            // (MP_*). Invalid ones only occur when the UPDATE is
            // treat-as-withdraw, which announces nothing.
            Attribute::NextHop(_)
            | Attribute::MpReach(_)
            | Attribute::MpUnreach(_)
            | Attribute::As4Path(_)
            | Attribute::As4Aggregator(_)
            | Attribute::Invalid(_) => {}
        }
    }
    canonical_order(out, start);
}

/// Starts a set's data with its next hop: `out` is cleared first.
pub(crate) fn begin_set(out: &mut Vec<u8>, next_hop: &[u8]) {
    out.clear();
    push_next_hop(out, NextHop::Other(next_hop));
}

/// One slab slot: a set and its use count, or a free slot.
#[derive(Debug)]
struct SetSlot {
    /// The set; `None` in a free slot.
    attrs: Option<Arc<PathAttrs>>,
    /// Routes using the set; in a free slot, the next free slot id.
    uses: u32,
    /// The set's content hash (what the index was built with).
    hash: u32,
}

/// No free slot.
const NO_SLOT: u32 = u32::MAX;

/// The attribute sets of one table: a slab of `Arc`s addressed by id, an
/// index from content to id, and a use count per set. A set leaves when its
/// last route does, whoever else still holds a clone of its `Arc`.
#[derive(Debug)]
pub(crate) struct Sets {
    slots: Vec<SetSlot>,
    /// Head of the free slot list.
    free: u32,
    /// Ids of the live sets, by content hash.
    index: HashTable<u32>,
    state: SeededState,
}

impl Default for Sets {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            free: NO_SLOT,
            index: HashTable::new(),
            state: SeededState::new(),
        }
    }
}

/// The index hash of a stored 32-bit content hash: both halves, so that
/// the table's bucket bits (low) and tag bits (high) are both well mixed.
#[inline]
fn spread(h: u32) -> u64 {
    u64::from(h) << 32 | u64::from(h)
}

impl Sets {
    /// The id of the set whose stored form is `data`, created if new (with
    /// no use counted yet: [`acquire`](Self::acquire) for the routes that
    /// take it, then [`forget_unused`](Self::forget_unused)).
    pub(crate) fn intern(&mut self, data: &[u8]) -> u32 {
        let hash = self.state.hash_one(data) as u32;
        let slots = &self.slots;
        let same = |&id: &u32| {
            slots
                .get(id as usize)
                .and_then(|s| s.attrs.as_ref())
                .is_some_and(|a| *a.data == *data)
        };
        if let Some(&id) = self.index.find(spread(hash), same) {
            return id;
        }
        let slot = SetSlot {
            attrs: Some(Arc::new(PathAttrs::from_data(data.into()))),
            uses: 0,
            hash,
        };
        let id = if self.free == NO_SLOT {
            let id = u32::try_from(self.slots.len())
                .ok()
                .filter(|&id| id <= MAX_SET_ID);
            // Unreachable in practice: see `MAX_SET_ID`.
            let id = id.expect("more distinct attribute sets than set ids");
            self.slots.push(slot);
            id
        } else {
            let id = self.free;
            let s = &mut self.slots[id as usize];
            self.free = s.uses;
            *s = slot;
            id
        };
        let slots = &self.slots;
        self.index.insert_unique(spread(hash), id, |&id| {
            spread(slots.get(id as usize).map_or(0, |s| s.hash))
        });
        id
    }

    /// The set `id` (of a route of this table).
    #[inline]
    pub(crate) fn get(&self, id: u32) -> &Arc<PathAttrs> {
        // Routes only refer to live sets.
        let slot = self.slots.get(id as usize).and_then(|s| s.attrs.as_ref());
        slot.expect("a route refers to a live attribute set")
    }

    /// Counts `n` more routes using set `id`.
    #[inline]
    pub(crate) fn acquire(&mut self, id: u32, n: u32) {
        if let Some(s) = self.slots.get_mut(id as usize) {
            s.uses += n;
        }
    }

    /// Counts one route fewer using set `id`, dropping the set with the last.
    #[inline]
    pub(crate) fn release(&mut self, id: u32) {
        let Some(s) = self.slots.get_mut(id as usize) else {
            return;
        };
        s.uses = s.uses.saturating_sub(1);
        if s.uses == 0 {
            self.drop_set(id);
        }
    }

    /// Drops set `id` if no route uses it.
    pub(crate) fn forget_unused(&mut self, id: u32) {
        if self.slots.get(id as usize).is_some_and(|s| s.uses == 0) {
            self.drop_set(id);
        }
    }

    fn drop_set(&mut self, id: u32) {
        let Some(s) = self.slots.get_mut(id as usize) else {
            return;
        };
        if s.attrs.take().is_none() {
            return;
        }
        if let Ok(e) = self.index.find_entry(spread(s.hash), |&x| x == id) {
            e.remove();
        }
        s.uses = self.free;
        self.free = id;
    }

    /// Number of live sets.
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// Drops every set.
    pub(crate) fn clear(&mut self) {
        *self = Self {
            state: self.state,
            ..Self::default()
        };
    }

    /// Heap octets of the slab, the index and the sets.
    pub(crate) fn heap_size(&self) -> usize {
        let sets: usize = self
            .slots
            .iter()
            .filter_map(|s| s.attrs.as_ref())
            .map(|a| a.heap_size())
            .sum();
        alloc_cost(self.slots.capacity() * size_of::<SetSlot>())
            + alloc_cost(self.index.allocation_size())
            + sets
    }
}

/// Serializes as a string through `Display`.
struct Str<T>(T);

impl<T: fmt::Display> Serialize for Str<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// Serializes as a list of strings, each item through `Display`.
struct StrSeq<F>(F);

impl<F, I> Serialize for StrSeq<F>
where
    F: Fn() -> I,
    I: Iterator,
    I::Item: fmt::Display,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((self.0)().map(Str))
    }
}

/// An AS path as a list of `{"type", "asns"}` segments.
struct AsPathJson<'a>(Option<AsPath<'a>>);

impl Serialize for AsPathJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for seg in self.0.iter().flat_map(|p| p.segments()) {
            seq.serialize_element(&SegmentJson(seg))?;
        }
        seq.end()
    }
}

struct SegmentJson<'a>(bgp_proto::attr::Segment<'a>);

impl Serialize for SegmentJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let name = match self.0.seg_type {
            SegmentType::Set => "AS_SET",
            SegmentType::Sequence => "AS_SEQUENCE",
            SegmentType::ConfedSequence => "AS_CONFED_SEQUENCE",
            SegmentType::ConfedSet => "AS_CONFED_SET",
        };
        let mut st = s.serialize_struct("Segment", 2)?;
        st.serialize_field("type", name)?;
        st.serialize_field("asns", &AsnSeq(self.0))?;
        st.end()
    }
}

struct AsnSeq<'a>(bgp_proto::attr::Segment<'a>);

impl Serialize for AsnSeq<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.asns())
    }
}

struct AggregatorJson(Aggregator);

impl Serialize for AggregatorJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Aggregator", 2)?;
        st.serialize_field("asn", &self.0.asn)?;
        st.serialize_field("address", &Str(self.0.address))?;
        st.end()
    }
}

struct UnknownJson<'a>(RawAttribute<'a>);

impl Serialize for UnknownJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("UnknownAttribute", 3)?;
        st.serialize_field("flags", &(self.0.flags & !flags::EXTENDED_LENGTH))?;
        st.serialize_field("type", &self.0.type_code)?;
        st.serialize_field("value", &Str(Hex(self.0.value)))?;
        st.end()
    }
}

/// Lower-case hex digits.
struct Hex<'a>(&'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

struct UnknownSeq<'a>(&'a PathAttrs);

impl Serialize for UnknownSeq<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.unknown().map(UnknownJson))
    }
}

impl Serialize for PathAttrs {
    /// A JSON object with every field, `null` or `[]` when absent:
    /// `origin` ("IGP", "EGP", "INCOMPLETE"), `as_path` (segments with
    /// `type` and `asns`), `next_hop` and `next_hop_link_local` (strings),
    /// `med`, `local_pref`, `atomic_aggregate`, `aggregator` (`asn`,
    /// `address`), `communities` ("65000:1", "no-export"),
    /// `extended_communities` ("rt 64512:100", or hex), `large_communities`
    /// ("a:b:c"), `originator_id`, `cluster_list`, `otc`, and `unknown`
    /// (`flags`, `type`, `value` in hex).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (next_hop, link_local): (Option<String>, Option<IpAddr>) = match self.next_hop() {
            None => (None, None),
            Some(NextHop::V4(a)) => (Some(a.to_string()), None),
            Some(NextHop::V6 { global, link_local }) => {
                (Some(global.to_string()), link_local.map(IpAddr::V6))
            }
            Some(other) => (Some(other.to_string()), None),
        };
        let mut st = s.serialize_struct("PathAttrs", 16)?;
        st.serialize_field("origin", &self.origin().map(Str))?;
        st.serialize_field("as_path", &AsPathJson(self.as_path()))?;
        st.serialize_field("next_hop", &next_hop)?;
        st.serialize_field("next_hop_link_local", &link_local.map(Str))?;
        st.serialize_field("med", &self.med())?;
        st.serialize_field("local_pref", &self.local_pref())?;
        st.serialize_field("atomic_aggregate", &self.atomic_aggregate())?;
        st.serialize_field("aggregator", &self.aggregator().map(AggregatorJson))?;
        let c = self.communities();
        st.serialize_field("communities", &StrSeq(|| c.iter()))?;
        let x = self.extended_communities();
        st.serialize_field("extended_communities", &StrSeq(|| x.iter()))?;
        let l = self.large_communities();
        st.serialize_field("large_communities", &StrSeq(|| l.iter()))?;
        st.serialize_field("originator_id", &self.originator_id().map(Str))?;
        let cl = self.cluster_list();
        st.serialize_field("cluster_list", &StrSeq(|| cl.iter()))?;
        st.serialize_field("otc", &self.otc())?;
        st.serialize_field("unknown", &UnknownSeq(self))?;
        st.end()
    }
}
