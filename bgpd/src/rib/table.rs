//! Compact route tables: the per-family storage behind [`AdjRibIn`].
//!
//! A route is its prefix, its path id, a stale mark, and the id of its
//! attribute set in the [`Sets`] slab (a `u32`, not an `Arc`: no atomic
//! reference count to touch per route, and half the width). Routes without
//! a path id (or with path id 0, the common case) live in a hash table of
//! packed entries:
//!
//! * IPv4: one `u64`: the prefix in 33 bits (address bits followed by a
//!   marker bit, which encodes the length), the stale bit, and a 30-bit set
//!   id;
//! * IPv6 up to /64: 8 address octets, length, stale, set id: 16 octets;
//! * longer IPv6 prefixes: 16 address octets and the rest: 24 octets.
//!
//! Routes with a non-zero path id go to an ordered map beside it, so that
//! every path of a prefix is one range away.
//!
//! Hashing uses a small seeded multiply-fold hasher ([`SeededState`]): keys
//! are a few octets, SipHash would cost more than the rest of an insert, and
//! the per-process random seed keeps a peer from choosing colliding
//! prefixes in advance.
//!
//! [`AdjRibIn`]: super::AdjRibIn
//! [`Sets`]: super::attrs::Sets

use hashbrown::hash_table::{Entry, HashTable};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::collections::hash_map::RandomState;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::{Ipv4Addr, Ipv6Addr};

/// An odd constant with well-spread bits (2^64 / golden ratio).
const MUL: u64 = 0x9e37_79b9_7f4a_7c15;

/// Multiplies to 128 bits and folds the halves: every output bit depends on
/// every input bit of both factors.
#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Builds [`FoldHasher`]s from a seed drawn once per table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SeededState {
    seed: u64,
    key: u64,
}

impl SeededState {
    /// A state with a fresh random seed (taken from std's own per-process
    /// randomness).
    pub(crate) fn new() -> Self {
        let seed = RandomState::new().build_hasher().finish();
        Self {
            seed,
            key: fold(seed ^ MUL, MUL) | 1,
        }
    }
}

impl Default for SeededState {
    fn default() -> Self {
        Self::new()
    }
}

impl BuildHasher for SeededState {
    type Hasher = FoldHasher;

    #[inline]
    fn build_hasher(&self) -> FoldHasher {
        FoldHasher {
            state: self.seed,
            key: self.key,
        }
    }
}

/// A word-at-a-time hasher: each word is xored in and folded with a keyed
/// multiply.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FoldHasher {
    state: u64,
    key: u64,
}

impl Hasher for FoldHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.write_u64(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }

    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.write_u64(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.state = fold(self.state ^ i, self.key);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }

    /// A final avalanche (MurmurHash3's 64-bit finalizer): one fold leaves
    /// the low bits, which pick the bucket, depending on few input bits.
    #[inline]
    fn finish(&self) -> u64 {
        let mut h = self.state;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// Largest set id a route can refer to (30 bits: the IPv4 entry's share).
/// Every live set has a route, and a route costs at least 8 octets, so a
/// table reaching this would need several GiB of routes first.
pub(crate) const MAX_SET_ID: u32 = (1 << 30) - 1;

/// An IPv6 prefix, host bits cleared, in the octets its length can touch:
/// 8 up to /64, 16 beyond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Key<const N: usize> {
    addr: [u8; N],
    len: u8,
}

impl<const N: usize> Hash for Key<N> {
    #[inline]
    fn hash<H: Hasher>(&self, h: &mut H) {
        let mut w = [0u8; 16];
        w[..N].copy_from_slice(&self.addr);
        let mut lo = [0u8; 8];
        lo.copy_from_slice(&w[..8]);
        let mut hi = [0u8; 8];
        hi.copy_from_slice(&w[8..]);
        h.write_u64(u64::from_le_bytes(lo));
        h.write_u64(u64::from_le_bytes(hi) ^ u64::from(self.len));
    }
}

/// The 33-bit code of an IPv4 prefix: the address shifted left once with
/// the bit just after the prefix set, so the length is the position of the
/// lowest set bit.
#[inline]
fn v4_code(p: Ipv4Net) -> u64 {
    (u64::from(u32::from(p.addr())) << 1) | (1u64 << (32 - u32::from(p.prefix_len())))
}

/// The prefix of a [`v4_code`].
fn v4_prefix(code: u64) -> IpNet {
    let host = code.trailing_zeros().min(32);
    let addr = ((code & !(1u64 << host)) >> 1) as u32;
    let len = (32 - host) as u8;
    IpNet::V4(Ipv4Net::new(Ipv4Addr::from(addr), len).unwrap_or_default())
}

/// A key of whichever kind the prefix needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AnyKey {
    /// IPv4, as a [`v4_code`].
    V4(u64),
    /// IPv6 up to /64.
    V6Short(Key<8>),
    /// IPv6 longer than /64.
    V6Long(Key<16>),
}

impl AnyKey {
    /// The key of `prefix`, host bits cleared (RFC 4271 s4.3: trailing bits
    /// are irrelevant).
    #[inline]
    pub(crate) fn of(prefix: IpNet) -> Self {
        match prefix.trunc() {
            IpNet::V4(p) => Self::V4(v4_code(p)),
            IpNet::V6(p) => {
                let o = p.addr().octets();
                let len = p.prefix_len();
                if len <= 64 {
                    let mut addr = [0u8; 8];
                    addr.copy_from_slice(&o[..8]);
                    Self::V6Short(Key { addr, len })
                } else {
                    Self::V6Long(Key { addr: o, len })
                }
            }
        }
    }
}

/// A route entry of the hash table: key, stale mark and set id.
pub(crate) trait Slot: Sized {
    /// The prefix part.
    type Key: Copy + Eq + Ord + Hash + std::fmt::Debug;
    /// A fresh entry.
    fn new(key: Self::Key, set: u32) -> Self;
    /// The prefix part.
    fn key(&self) -> Self::Key;
    /// The attribute set id.
    fn set(&self) -> u32;
    /// Whether the route is stale.
    fn stale(&self) -> bool;
    /// Points the route at `set` and clears the stale mark.
    fn refresh(&mut self, set: u32);
    /// Sets the stale mark.
    fn mark_stale(&mut self);
    /// The prefix a key stands for.
    fn prefix(key: Self::Key) -> IpNet;
}

/// An IPv4 route in one word: code (33 bits), stale (1), set id (30).
#[derive(Debug, Clone, Copy)]
pub(crate) struct V4Slot(u64);

const V4_STALE: u64 = 1 << 30;
const V4_SET: u64 = (1 << 30) - 1;

impl Slot for V4Slot {
    type Key = u64;

    #[inline]
    fn new(key: u64, set: u32) -> Self {
        Self(key << 31 | (u64::from(set) & V4_SET))
    }

    #[inline]
    fn key(&self) -> u64 {
        self.0 >> 31
    }

    #[inline]
    fn set(&self) -> u32 {
        (self.0 & V4_SET) as u32
    }

    #[inline]
    fn stale(&self) -> bool {
        self.0 & V4_STALE != 0
    }

    #[inline]
    fn refresh(&mut self, set: u32) {
        self.0 = (self.0 & !(V4_STALE | V4_SET)) | (u64::from(set) & V4_SET);
    }

    #[inline]
    fn mark_stale(&mut self) {
        self.0 |= V4_STALE;
    }

    fn prefix(key: u64) -> IpNet {
        v4_prefix(key)
    }
}

/// An IPv6 route.
#[derive(Debug, Clone, Copy)]
pub(crate) struct V6Slot<const N: usize> {
    key: Key<N>,
    stale: bool,
    set: u32,
}

impl<const N: usize> Slot for V6Slot<N> {
    type Key = Key<N>;

    #[inline]
    fn new(key: Key<N>, set: u32) -> Self {
        Self {
            key,
            stale: false,
            set,
        }
    }

    #[inline]
    fn key(&self) -> Key<N> {
        self.key
    }

    #[inline]
    fn set(&self) -> u32 {
        self.set
    }

    #[inline]
    fn stale(&self) -> bool {
        self.stale
    }

    #[inline]
    fn refresh(&mut self, set: u32) {
        self.set = set;
        self.stale = false;
    }

    #[inline]
    fn mark_stale(&mut self) {
        self.stale = true;
    }

    fn prefix(key: Key<N>) -> IpNet {
        let mut a = [0u8; 16];
        a[..N].copy_from_slice(&key.addr);
        IpNet::V6(Ipv6Net::new(Ipv6Addr::from(a), key.len).unwrap_or_default())
    }
}

/// A route with a non-zero path id.
#[derive(Debug, Clone, Copy)]
struct PathSlot {
    set: u32,
    stale: bool,
}

/// What an insert or a removal found: the route's former set and mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Former {
    /// The attribute set id the route had.
    pub(crate) set: u32,
    /// Whether the route was stale.
    pub(crate) stale: bool,
}

/// A route as iteration yields it: prefix, path id, set id, stale.
pub(crate) type RouteRef = (IpNet, u32, u32, bool);

/// Routes of one key kind.
#[derive(Debug)]
pub(crate) struct Table<S: Slot> {
    plain: HashTable<S>,
    paths: BTreeMap<(S::Key, u32), PathSlot>,
    state: SeededState,
}

impl<S: Slot> Default for Table<S> {
    fn default() -> Self {
        Self {
            plain: HashTable::new(),
            paths: BTreeMap::new(),
            state: SeededState::new(),
        }
    }
}

/// Octets a heap block of `n` costs under a glibc-like allocator: an
/// 8-octet header, 16-octet granularity, 32 at least.
pub(crate) fn alloc_cost(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        ((n + 8 + 15) & !15).max(32)
    }
}

impl<S: Slot> Table<S> {
    #[inline]
    fn hash(&self, key: S::Key) -> u64 {
        self.state.hash_one(key)
    }

    /// Inserts a route or points it at `set`, fresh either way; returns
    /// what it was.
    #[inline]
    pub(crate) fn insert(&mut self, key: S::Key, path_id: u32, set: u32) -> Option<Former> {
        if path_id != 0 {
            let old = self
                .paths
                .insert((key, path_id), PathSlot { set, stale: false })?;
            return Some(Former {
                set: old.set,
                stale: old.stale,
            });
        }
        let hash = self.hash(key);
        let state = self.state;
        let entry = self
            .plain
            .entry(hash, |s| s.key() == key, |s| state.hash_one(s.key()));
        match entry {
            Entry::Occupied(mut o) => {
                let slot = o.get_mut();
                let former = Former {
                    set: slot.set(),
                    stale: slot.stale(),
                };
                slot.refresh(set);
                Some(former)
            }
            Entry::Vacant(v) => {
                v.insert(S::new(key, set));
                None
            }
        }
    }

    /// Removes a route; returns what it was.
    #[inline]
    pub(crate) fn remove(&mut self, key: S::Key, path_id: u32) -> Option<Former> {
        if path_id != 0 {
            let old = self.paths.remove(&(key, path_id))?;
            return Some(Former {
                set: old.set,
                stale: old.stale,
            });
        }
        let hash = self.hash(key);
        let found = self.plain.find_entry(hash, |s| s.key() == key).ok()?;
        let (slot, _) = found.remove();
        Some(Former {
            set: slot.set(),
            stale: slot.stale(),
        })
    }

    /// Every path of one prefix: (path id, set id, stale), path id 0 first.
    pub(crate) fn lookup(&self, key: S::Key) -> impl Iterator<Item = (u32, u32, bool)> + '_ {
        let plain = self
            .plain
            .find(self.hash(key), |s| s.key() == key)
            .map(|s| (0, s.set(), s.stale()));
        let paths = self
            .paths
            .range((key, 0)..=(key, u32::MAX))
            .map(|(&(_, id), s)| (id, s.set, s.stale));
        plain.into_iter().chain(paths)
    }

    /// Marks every route stale.
    pub(crate) fn mark_stale(&mut self) {
        self.plain.iter_mut().for_each(S::mark_stale);
        for s in self.paths.values_mut() {
            s.stale = true;
        }
    }

    /// Removes the stale routes, handing each one's set id to `release`;
    /// returns how many went.
    pub(crate) fn flush_stale(&mut self, mut release: impl FnMut(u32)) -> usize {
        let before = self.len();
        self.plain.retain(|s| {
            if s.stale() {
                release(s.set());
            }
            !s.stale()
        });
        self.paths.retain(|_, s| {
            if s.stale {
                release(s.set);
            }
            !s.stale
        });
        before - self.len()
    }

    /// Number of routes.
    pub(crate) fn len(&self) -> usize {
        self.plain.len() + self.paths.len()
    }

    /// Drops every route (the caller drops their sets as a whole) and frees
    /// the memory.
    pub(crate) fn clear(&mut self) {
        self.plain = HashTable::new();
        self.paths = BTreeMap::new();
    }

    /// Every route.
    pub(crate) fn iter(&self) -> impl Iterator<Item = RouteRef> + '_ {
        let plain = self
            .plain
            .iter()
            .map(|s| (S::prefix(s.key()), 0, s.set(), s.stale()));
        let paths = self
            .paths
            .iter()
            .map(|(&(k, id), s)| (S::prefix(k), id, s.set, s.stale));
        plain.chain(paths)
    }

    /// Heap octets of the route storage; B-tree nodes are counted as
    /// two-thirds full.
    pub(crate) fn heap_size(&self) -> usize {
        let per_path = size_of::<(S::Key, u32)>() + size_of::<PathSlot>();
        alloc_cost(self.plain.allocation_size()) + self.paths.len() * per_path * 3 / 2
    }
}

/// The routes of one address family, in tables by key kind.
#[derive(Debug, Default)]
pub(crate) struct FamilyTable {
    v4: Table<V4Slot>,
    v6_short: Table<V6Slot<8>>,
    v6_long: Table<V6Slot<16>>,
}

/// Runs `$body` with `$t` bound to the table and `$k` to the key of `$key`.
macro_rules! dispatch {
    ($self:expr, $key:expr, |$t:ident, $k:ident| $body:expr) => {
        match $key {
            AnyKey::V4($k) => {
                let $t = &mut $self.v4;
                $body
            }
            AnyKey::V6Short($k) => {
                let $t = &mut $self.v6_short;
                $body
            }
            AnyKey::V6Long($k) => {
                let $t = &mut $self.v6_long;
                $body
            }
        }
    };
}

impl FamilyTable {
    /// Inserts a route or points it at `set`.
    #[inline]
    pub(crate) fn insert(&mut self, key: AnyKey, path_id: u32, set: u32) -> Option<Former> {
        dispatch!(self, key, |t, k| t.insert(k, path_id, set))
    }

    /// Removes a route.
    #[inline]
    pub(crate) fn remove(&mut self, key: AnyKey, path_id: u32) -> Option<Former> {
        dispatch!(self, key, |t, k| t.remove(k, path_id))
    }

    /// Every path of one prefix: (path id, set id, stale).
    pub(crate) fn lookup(&self, key: AnyKey) -> Vec<(u32, u32, bool)> {
        match key {
            AnyKey::V4(k) => self.v4.lookup(k).collect(),
            AnyKey::V6Short(k) => self.v6_short.lookup(k).collect(),
            AnyKey::V6Long(k) => self.v6_long.lookup(k).collect(),
        }
    }

    /// Marks every route stale.
    pub(crate) fn mark_stale(&mut self) {
        self.v4.mark_stale();
        self.v6_short.mark_stale();
        self.v6_long.mark_stale();
    }

    /// Removes the stale routes; see [`Table::flush_stale`].
    pub(crate) fn flush_stale(&mut self, mut release: impl FnMut(u32)) -> usize {
        self.v4.flush_stale(&mut release)
            + self.v6_short.flush_stale(&mut release)
            + self.v6_long.flush_stale(&mut release)
    }

    /// Drops every route.
    pub(crate) fn clear(&mut self) {
        self.v4.clear();
        self.v6_short.clear();
        self.v6_long.clear();
    }

    /// Every route.
    pub(crate) fn iter(&self) -> impl Iterator<Item = RouteRef> + '_ {
        self.v4
            .iter()
            .chain(self.v6_short.iter())
            .chain(self.v6_long.iter())
    }

    /// Heap octets of the route storage.
    pub(crate) fn heap_size(&self) -> usize {
        self.v4.heap_size() + self.v6_short.heap_size() + self.v6_long.heap_size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn entries_are_compact() {
        assert_eq!(size_of::<V4Slot>(), 8);
        assert_eq!(size_of::<V6Slot<8>>(), 16);
        assert_eq!(size_of::<V6Slot<16>>(), 24);
    }

    fn back(k: AnyKey) -> IpNet {
        match k {
            AnyKey::V4(k) => V4Slot::prefix(k),
            AnyKey::V6Short(k) => V6Slot::<8>::prefix(k),
            AnyKey::V6Long(k) => V6Slot::<16>::prefix(k),
        }
    }

    #[test]
    fn keys_round_trip_and_clear_host_bits() {
        for s in [
            "10.0.1.0/23",
            "0.0.0.0/0",
            "255.255.255.255/32",
            "128.0.0.0/1",
            "2001:db8::/32",
            "::/0",
            "2001:db8::1/128",
            "2001:db8:0:1:8000::/65",
        ] {
            let p: IpNet = s.parse().unwrap();
            assert_eq!(back(AnyKey::of(p)), p.trunc(), "{s}");
        }
        let a = AnyKey::of("10.0.1.0/23".parse().unwrap());
        let b = AnyKey::of("10.0.0.0/23".parse().unwrap());
        assert_eq!(a, b);
        // Same address, different lengths: different keys.
        let c = AnyKey::of("10.0.0.0/24".parse().unwrap());
        assert_ne!(a, c);
    }

    #[test]
    fn v4_slot_packs_without_interference() {
        let code = v4_code("255.255.255.255/32".parse().unwrap());
        let mut s = V4Slot::new(code, MAX_SET_ID);
        assert_eq!((s.key(), s.set(), s.stale()), (code, MAX_SET_ID, false));
        s.mark_stale();
        assert_eq!((s.key(), s.set(), s.stale()), (code, MAX_SET_ID, true));
        s.refresh(7);
        assert_eq!((s.key(), s.set(), s.stale()), (code, 7, false));
        let zero = v4_code("0.0.0.0/0".parse().unwrap());
        assert_eq!(V4Slot::new(zero, 0).key(), zero);
    }

    #[test]
    fn table_insert_refresh_remove() {
        let mut t = Table::<V4Slot>::default();
        let k = v4_code("192.0.2.0/24".parse().unwrap());
        assert_eq!(t.insert(k, 0, 1), None);
        assert_eq!(t.insert(k, 3, 2), None);
        t.mark_stale();
        let former = t.insert(k, 0, 5).unwrap();
        assert_eq!((former.set, former.stale), (1, true));
        assert_eq!(
            t.lookup(k).collect::<Vec<_>>(),
            [(0, 5, false), (3, 2, true)]
        );
        let mut released = Vec::new();
        assert_eq!(t.flush_stale(|s| released.push(s)), 1);
        assert_eq!(released, [2]);
        assert_eq!(t.remove(k, 0).map(|f| f.set), Some(5));
        assert_eq!(t.remove(k, 0), None);
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn hasher_spreads_low_bits() {
        // /24 prefixes differ only in their third octet; the bucket index
        // (low bits of the hash) must still vary.
        // Random placement would fill about 162 of 256 buckets; whatever
        // the seed, it must not be much worse.
        for _ in 0..200 {
            let s = SeededState::new();
            let mut low = HashSet::new();
            for i in 0..256u32 {
                let p = Ipv4Net::new(Ipv4Addr::from(0x0a00_0000 | i << 8), 24).unwrap();
                low.insert(s.hash_one(v4_code(p)) & 0xff);
            }
            assert!(low.len() > 128, "{} distinct low octets", low.len());
        }
    }
}
