//! The Adj-RIB-In of one peer (RFC 4271 s3.2): every route the peer
//! announced and has not withdrawn, with its attributes, unmodified.
//!
//! [`AdjRibIn::apply`] takes a validated [`Update`] and removes what it
//! withdraws (including, under RFC 7606 treat-as-withdraw, what it would
//! have announced), then stores what it announces. A route is keyed by
//! family, prefix (host bits cleared) and path id (RFC 7911; 0 without
//! ADD-PATH). Its attributes are a shared [`PathAttrs`]: one UPDATE builds
//! at most one set per next hop it carries (the NEXT_HOP of its NLRI field
//! and the MP_REACH_NLRI next hop), identical sets are interned (one `Arc`
//! each, which queries hand out), and a set disappears with the last route
//! using it.
//!
//! Routes are kept in compact hash tables: an IPv4 route is one 8-octet
//! word (prefix, stale mark, attribute set id) plus hash table slack, an
//! IPv6 route 16 octets up to /64 (see [`memory_estimate`]).
//!
//! What stays with the caller (the session):
//! * families: [`apply_filtered`] drops routes of families not negotiated;
//! * max-prefix (RFC 4486): compare [`len`] or [`len_family`] with the
//!   limit after each `apply` and tear the session down when it is passed;
//! * graceful restart timers (RFC 4724 s4.2): on a session loss with GR,
//!   [`mark_stale`] the preserved families; once the peer is back, each
//!   re-announced route becomes fresh again; at End-of-RIB of a family (as
//!   reported by [`Applied::end_of_rib`]) or when the restart or stale
//!   timer fires, [`flush_stale`] removes what was not re-announced;
//! * a session that ends without GR: [`clear`].
//!
//! [`memory_estimate`]: AdjRibIn::memory_estimate
//! [`apply_filtered`]: AdjRibIn::apply_filtered
//! [`len`]: AdjRibIn::len
//! [`len_family`]: AdjRibIn::len_family
//! [`mark_stale`]: AdjRibIn::mark_stale
//! [`flush_stale`]: AdjRibIn::flush_stale
//! [`clear`]: AdjRibIn::clear

mod attrs;
mod table;

pub use attrs::PathAttrs;

use attrs::{begin_set, encode_update, Sets};
use bgp_proto::attr::{type_code, Attribute, MpReach};
use bgp_proto::{Family, NlriIter, Update};
use ipnet::IpNet;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use std::fmt;
use std::sync::Arc;
use table::{AnyKey, FamilyTable, Former};

/// Number of families with decoded NLRI ([`Family::DECODED`]).
const FAMILIES: usize = Family::DECODED.len();

/// What one UPDATE did to the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Applied {
    /// Routes announced (each stored, fresh or replacing one).
    pub announced: usize,
    /// Routes actually removed by withdrawals (unknown ones do not count).
    pub withdrawn: usize,
    /// Announcements that replaced a route of the same key whose
    /// attributes differed.
    pub implicit_withdraws: usize,
    /// The UPDATE was treat-as-withdraw (RFC 7606): its routes were removed.
    pub treat_as_withdraw: bool,
    /// The UPDATE was the End-of-RIB marker of this (accepted) family.
    pub end_of_rib: Option<Family>,
}

/// One route, borrowed from the table.
#[derive(Debug, Clone, Copy)]
pub struct RouteView<'a> {
    /// Address family.
    pub family: Family,
    /// Prefix, host bits cleared.
    pub prefix: IpNet,
    /// ADD-PATH path identifier (0 without ADD-PATH).
    pub path_id: u32,
    /// Attributes, shared with every route that has the same.
    pub attrs: &'a Arc<PathAttrs>,
    /// Kept across a graceful restart and not yet re-announced.
    pub stale: bool,
}

impl Serialize for RouteView<'_> {
    /// `{"family": "ipv4-unicast", "prefix", "path_id", "stale", "attrs"}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Route", 5)?;
        st.serialize_field("family", &self.family.to_string())?;
        st.serialize_field("prefix", &self.prefix)?;
        st.serialize_field("path_id", &self.path_id)?;
        st.serialize_field("stale", &self.stale)?;
        st.serialize_field("attrs", &**self.attrs)?;
        st.end()
    }
}

/// The routes received from one peer.
///
/// `Send` and `Sync`: a session task can own it and hand it to readers
/// behind a lock. `Debug` prints counts, not routes.
#[derive(Default)]
pub struct AdjRibIn {
    /// By [`Family::index`].
    tables: [FamilyTable; FAMILIES],
    counts: [usize; FAMILIES],
    stale: [usize; FAMILIES],
    sets: Sets,
    /// Canonical attributes of the UPDATE being applied, next hop excluded.
    common: Vec<u8>,
    /// A set being built: next hop, then `common`.
    scratch: Vec<u8>,
}

impl fmt::Debug for AdjRibIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("AdjRibIn");
        for family in Family::DECODED {
            let n = self.len_family(family);
            if n > 0 {
                d.field(&family.to_string(), &n);
            }
        }
        d.field("stale", &self.stale_count())
            .field("attr_sets", &self.attr_sets())
            .finish()
    }
}

/// The routes of one next hop in an UPDATE.
struct Group<'a> {
    family: Family,
    next_hop: &'a [u8],
    routes: NlriIter<'a>,
}

impl AdjRibIn {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies an UPDATE, every family accepted.
    pub fn apply(&mut self, update: &Update<'_>) -> Applied {
        self.apply_filtered(update, |_| true)
    }

    /// Applies an UPDATE, ignoring routes (and End-of-RIB) of families for
    /// which `accept` is false. Withdrawals go first, so a prefix both
    /// withdrawn and announced ends up announced (RFC 4271 s4.3).
    pub fn apply_filtered(
        &mut self,
        update: &Update<'_>,
        accept: impl Fn(Family) -> bool,
    ) -> Applied {
        let mut applied = Applied {
            treat_as_withdraw: update.is_treat_as_withdraw(),
            end_of_rib: update.end_of_rib().filter(|f| accept(*f)),
            ..Applied::default()
        };
        for (family, nlri) in update.withdrawals() {
            if accept(family) && self.remove(family, nlri.prefix, nlri.path_id.unwrap_or(0)) {
                applied.withdrawn += 1;
            }
        }
        if applied.treat_as_withdraw {
            return applied;
        }
        let field = update.nlri();
        let field_next_hop = match update.attributes().get(type_code::NEXT_HOP) {
            Some(Attribute::NextHop(a)) => a.octets(),
            _ => [0; 4],
        };
        let field_group = (!field.as_bytes().is_empty()).then_some(Group {
            family: Family::IPV4_UNICAST,
            next_hop: &field_next_hop,
            routes: field,
        });
        let mp = update.mp_reach();
        let mp_group = mp.as_ref().and_then(|m: &MpReach<'_>| {
            (!m.nlri_bytes().is_empty()).then(|| Group {
                family: m.family(),
                next_hop: m.next_hop_bytes(),
                routes: m.nlri(),
            })
        });
        let mut encoded = false;
        for group in field_group.into_iter().chain(mp_group) {
            let Some(fi) = group.family.index() else {
                continue;
            };
            if !accept(group.family) {
                continue;
            }
            if !encoded {
                self.common.clear();
                encode_update(update, &mut self.common);
                encoded = true;
            }
            self.announce(fi, &group, &mut applied);
        }
        applied
    }

    /// Stores the routes of one group under one interned set.
    fn announce(&mut self, fi: usize, group: &Group<'_>, applied: &mut Applied) {
        begin_set(&mut self.scratch, group.next_hop);
        self.scratch.extend_from_slice(&self.common);
        let set = self.sets.intern(&self.scratch);
        let table = &mut self.tables[fi];
        let mut uses = 0;
        for nlri in group.routes.clone() {
            applied.announced += 1;
            let key = AnyKey::of(nlri.prefix);
            match table.insert(key, nlri.path_id.unwrap_or(0), set) {
                None => {
                    self.counts[fi] += 1;
                    uses += 1;
                }
                Some(Former { set: old, stale }) => {
                    if stale {
                        self.stale[fi] -= 1;
                    }
                    if old != set {
                        applied.implicit_withdraws += 1;
                        uses += 1;
                        self.sets.release(old);
                    }
                }
            }
        }
        self.sets.acquire(set, uses);
        self.sets.forget_unused(set);
    }

    /// Removes one route; whether it was there.
    fn remove(&mut self, family: Family, prefix: IpNet, path_id: u32) -> bool {
        let Some(fi) = family.index() else {
            return false;
        };
        let Some(old) = self.tables[fi].remove(AnyKey::of(prefix), path_id) else {
            return false;
        };
        self.counts[fi] -= 1;
        if old.stale {
            self.stale[fi] -= 1;
        }
        self.sets.release(old.set);
        true
    }

    /// Marks every route of `families` stale (RFC 4724 s4.2: the peer's
    /// session went down and it had advertised graceful restart for them).
    pub fn mark_stale(&mut self, families: &[Family]) {
        for fi in families.iter().filter_map(|f| f.index()) {
            self.tables[fi].mark_stale();
            self.stale[fi] = self.counts[fi];
        }
    }

    /// Removes the routes of `family` still stale; returns how many.
    pub fn flush_stale(&mut self, family: Family) -> usize {
        let Some(fi) = family.index() else {
            return 0;
        };
        if self.stale[fi] == 0 {
            return 0;
        }
        let sets = &mut self.sets;
        let removed = self.tables[fi].flush_stale(|id| sets.release(id));
        self.counts[fi] -= removed;
        self.stale[fi] = 0;
        removed
    }

    /// Number of stale routes, all families.
    pub fn stale_count(&self) -> usize {
        self.stale.iter().sum()
    }

    /// Number of stale routes of `family`.
    pub fn stale_count_family(&self, family: Family) -> usize {
        family.index().map_or(0, |i| self.stale[i])
    }

    /// Drops every route (a session that ended without graceful restart).
    pub fn clear(&mut self) {
        for t in &mut self.tables {
            t.clear();
        }
        self.counts = [0; FAMILIES];
        self.stale = [0; FAMILIES];
        self.sets.clear();
        self.common = Vec::new();
        self.scratch = Vec::new();
    }

    /// Number of routes, all families: what a max-prefix limit compares.
    pub fn len(&self) -> usize {
        self.counts.iter().sum()
    }

    /// Whether the table holds no route.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of routes of `family`.
    pub fn len_family(&self, family: Family) -> usize {
        family.index().map_or(0, |i| self.counts[i])
    }

    /// Number of distinct attribute sets in use.
    pub fn attr_sets(&self) -> usize {
        self.sets.len()
    }

    /// Every route, family by family, in no particular order within one.
    pub fn iter(&self) -> impl Iterator<Item = RouteView<'_>> + '_ {
        Family::DECODED
            .into_iter()
            .flat_map(move |family| self.iter_family(family))
    }

    /// Every route of `family`, in no particular order.
    pub fn iter_family(&self, family: Family) -> impl Iterator<Item = RouteView<'_>> + '_ {
        family
            .index()
            .map(|i| &self.tables[i])
            .into_iter()
            .flat_map(move |t| {
                t.iter()
                    .map(move |(prefix, path_id, set, stale)| RouteView {
                        family,
                        prefix,
                        path_id,
                        attrs: self.sets.get(set),
                        stale,
                    })
            })
    }

    /// The paths of `prefix` in the unicast family of its address family:
    /// (path id, attributes, stale), path id 0 first.
    pub fn lookup(&self, prefix: IpNet) -> Vec<(u32, &Arc<PathAttrs>, bool)> {
        let family = match prefix {
            IpNet::V4(_) => Family::IPV4_UNICAST,
            IpNet::V6(_) => Family::IPV6_UNICAST,
        };
        self.lookup_family(family, prefix)
    }

    /// The paths of `prefix` in `family`.
    pub fn lookup_family(
        &self,
        family: Family,
        prefix: IpNet,
    ) -> Vec<(u32, &Arc<PathAttrs>, bool)> {
        // A prefix of the other address family finds an empty sub-table.
        let Some(i) = family.index() else {
            return Vec::new();
        };
        let paths = self.tables[i].lookup(AnyKey::of(prefix));
        paths
            .into_iter()
            .map(|(id, set, stale)| (id, self.sets.get(set), stale))
            .collect()
    }

    /// Approximate heap octets held: route tables (with their slack),
    /// interner and attribute sets, assuming a glibc-like allocator.
    pub fn memory_estimate(&self) -> usize {
        size_of::<Self>()
            + self
                .tables
                .iter()
                .map(FamilyTable::heap_size)
                .sum::<usize>()
            + self.sets.heap_size()
            + self.common.capacity()
            + self.scratch.capacity()
    }
}

#[cfg(test)]
mod tests;
