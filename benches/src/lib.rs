//! Shared pieces of the parser benchmarks: the corpus of real UPDATE
//! messages, and one "walk" per library that touches every attribute and
//! every prefix of a message and folds what it saw into a [`Tally`].
//!
//! The walks live here (not in the bench file) so that a test can check that
//! all three libraries see the same prefixes on the same data: a benchmark
//! that compares unequal work measures nothing.

use bgp_proto::attr::Attribute;
use bgp_proto::mrt::{Record, RecordView};
use bgp_proto::{SessionContext, Update};
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The shared collector data directory: `$BGP_DATA_DIR`, else
/// `<workspace>/../shared/data/bgp`.
pub fn data_dir() -> PathBuf {
    std::env::var_os("BGP_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/bgp"))
}

/// UPDATE messages from an MRT updates file, held in memory.
pub struct Corpus {
    /// The decompressed MRT stream.
    pub data: Vec<u8>,
    /// Each UPDATE: its octets in `data` (header included) and whether the
    /// record says AS numbers are 4 octets.
    pub updates: Vec<(Range<usize>, bool)>,
}

impl Corpus {
    /// Loads every BGP4MP/BGP4MP_ET UPDATE of a gzip'd updates file.
    pub fn load(path: &Path) -> std::io::Result<Self> {
        let mut data = Vec::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(path)?).read_to_end(&mut data)?;
        let mut updates = Vec::new();
        let mut at = 0;
        while let Some(parsed) = Record::parse(&data[at..]) {
            let (record, len) = parsed.map_err(|e| {
                std::io::Error::other(format!("{}: offset {at}: {e:?}", path.display()))
            })?;
            if let RecordView::Bgp4mpMessage(m) = record.view() {
                let msg = m.message();
                if msg.get(18) == Some(&2) {
                    let start = msg.as_ptr() as usize - data.as_ptr() as usize;
                    updates.push((start..start + msg.len(), m.is_as4()));
                }
            }
            at += len;
        }
        Ok(Self { data, updates })
    }

    /// Octets of UPDATE messages in the corpus.
    pub fn update_bytes(&self) -> usize {
        self.updates.iter().map(|(r, _)| r.len()).sum()
    }

    /// Each UPDATE's octets and AS number size.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], bool)> {
        self.updates
            .iter()
            .map(|(r, four)| (&self.data[r.clone()], *four))
    }
}

/// What a walk saw; equal across libraries on the same data. The sums fold
/// every decoded value in, so no library can skip decoding one, without a
/// `black_box` store per item; criterion `black_box`es the whole tally.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Prefixes announced (NLRI field and MP_REACH_NLRI).
    pub announced: u64,
    /// Prefixes withdrawn (Withdrawn Routes field and MP_UNREACH_NLRI).
    pub withdrawn: u64,
    /// Sum of every prefix length.
    pub prefix_bits: u64,
    /// Every prefix address folded in.
    pub addr_sum: u64,
    /// AS numbers in AS_PATH (every segment type).
    pub asns: u64,
    /// Sum of those AS numbers.
    pub asn_sum: u64,
    /// Standard, extended and large communities.
    pub communities: u64,
    /// Messages the library rejected.
    pub errors: u64,
}

/// Folds an address to 64 bits.
#[inline]
fn fold(addr: std::net::IpAddr) -> u64 {
    match addr {
        std::net::IpAddr::V4(a) => u64::from(u32::from(a)),
        std::net::IpAddr::V6(a) => {
            let v = u128::from(a);
            (v >> 64) as u64 ^ v as u64
        }
    }
}

impl Tally {
    #[inline]
    fn prefix(&mut self, announced: bool, net: ipnet::IpNet) {
        if announced {
            self.announced += 1;
        } else {
            self.withdrawn += 1;
        }
        self.prefix_bits += u64::from(net.prefix_len());
        self.addr_sum = self.addr_sum.wrapping_add(fold(net.addr()));
    }

    #[inline]
    fn asn(&mut self, asn: u32) {
        self.asns += 1;
        self.asn_sum = self.asn_sum.wrapping_add(u64::from(asn));
    }

    #[inline]
    fn communities<T>(&mut self, items: impl Iterator<Item = T>) {
        for c in items {
            std::hint::black_box(c);
            self.communities += 1;
        }
    }
}

/// Walks one UPDATE with `bgp-proto`.
pub fn walk_ours(msg: &[u8], four: bool, t: &mut Tally) {
    let ctx = if four {
        SessionContext::modern()
    } else {
        SessionContext::classic()
    };
    let Ok(u) = Update::new_checked(msg.get(19..).unwrap_or_default(), &ctx) else {
        t.errors += 1;
        return;
    };
    for a in u.attribute_iter() {
        match a {
            Attribute::AsPath(p) => p.segments().flat_map(|s| s.asns()).for_each(|a| t.asn(a)),
            Attribute::Communities(c) => t.communities(c.iter()),
            Attribute::ExtendedCommunities(c) => t.communities(c.iter()),
            Attribute::LargeCommunities(c) => t.communities(c.iter()),
            Attribute::MpReach(m) => {
                std::hint::black_box(m.next_hop());
                m.nlri().for_each(|n| t.prefix(true, n.prefix));
            }
            Attribute::MpUnreach(m) => m.withdrawn().for_each(|n| t.prefix(false, n.prefix)),
            // An AS_PATH that made the UPDATE treat-as-withdraw (AS 0, RFC
            // 7607) still has its numbers: the other parsers count them.
            Attribute::Invalid(raw) if raw.type_code == bgp_proto::attr::type_code::AS_PATH => {
                bgp_proto::attr::AsPath::new_unchecked(raw.value, ctx.asn_len())
                    .asns()
                    .for_each(|a| t.asn(a))
            }
            other => {
                std::hint::black_box(other);
            }
        }
    }
    u.withdrawn().for_each(|n| t.prefix(false, n.prefix));
    u.nlri().for_each(|n| t.prefix(true, n.prefix));
}

/// Walks one UPDATE with `routecore` (NLnet Labs): typed attributes via
/// `to_owned`, NLRI via its announcement and withdrawal iterators.
pub fn walk_routecore(msg: &[u8], four: bool, t: &mut Tally) {
    use routecore::bgp::aspath::Hop;
    use routecore::bgp::message::update::SessionConfig;
    use routecore::bgp::message::UpdateMessage;
    use routecore::bgp::nlri::afisafi::{IsPrefix, Nlri};
    use routecore::bgp::path_attributes::PathAttribute;
    let cfg = if four {
        SessionConfig::modern()
    } else {
        SessionConfig::legacy()
    };
    let Ok(u) = UpdateMessage::from_octets(msg, &cfg) else {
        t.errors += 1;
        return;
    };
    let Ok(attrs) = u.path_attributes() else {
        t.errors += 1;
        return;
    };
    for a in attrs {
        match a.and_then(|a| a.to_owned()) {
            Ok(PathAttribute::AsPath(p)) => {
                for hop in p.iter() {
                    match hop {
                        Hop::Asn(a) => t.asn(a.into_u32()),
                        Hop::Segment(s) => s.asns().for_each(|a| t.asn(a.into_u32())),
                    }
                }
            }
            Ok(PathAttribute::StandardCommunities(c)) => t.communities(c.communities().iter()),
            Ok(PathAttribute::ExtendedCommunities(c)) => t.communities(c.communities().iter()),
            Ok(PathAttribute::LargeCommunities(c)) => t.communities(c.communities().iter()),
            Ok(other) => {
                std::hint::black_box(other);
            }
            Err(_) => t.errors += 1,
        }
    }
    let net = |n: &Nlri<&[u8]>| {
        let p = match n {
            Nlri::Ipv4Unicast(p) => p.prefix(),
            Nlri::Ipv6Unicast(p) => p.prefix(),
            Nlri::Ipv4Multicast(p) => p.prefix(),
            Nlri::Ipv6Multicast(p) => p.prefix(),
            _ => return None,
        };
        ipnet::IpNet::new(p.addr(), p.len()).ok()
    };
    match u.announcements() {
        Ok(it) => it.for_each(|n| match n {
            Ok(n) => match net(&n) {
                Some(p) => t.prefix(true, p),
                None => t.errors += 1,
            },
            Err(_) => t.errors += 1,
        }),
        Err(_) => t.errors += 1,
    }
    match u.withdrawals() {
        Ok(it) => it.for_each(|n| match n {
            Ok(n) => match net(&n) {
                Some(p) => t.prefix(false, p),
                None => t.errors += 1,
            },
            Err(_) => t.errors += 1,
        }),
        Err(_) => t.errors += 1,
    };
}

/// Walks one UPDATE with `bgpkit-parser`, which decodes eagerly into owned
/// structures; the walk then visits them.
pub fn walk_bgpkit(buf: &bytes::Bytes, four: bool, t: &mut Tally) {
    use bgpkit_parser::models::{AsPathSegment, AsnLength, AttributeValue, BgpMessage};
    let mut data = buf.clone();
    let asn_len = if four {
        AsnLength::Bits32
    } else {
        AsnLength::Bits16
    };
    let Ok(BgpMessage::Update(u)) =
        bgpkit_parser::parser::bgp::messages::parse_bgp_message(&mut data, false, &asn_len)
    else {
        t.errors += 1;
        return;
    };
    for a in u.attributes.iter() {
        match a {
            AttributeValue::AsPath(p) => {
                for seg in &p.segments {
                    let (AsPathSegment::AsSequence(v)
                    | AsPathSegment::AsSet(v)
                    | AsPathSegment::ConfedSequence(v)
                    | AsPathSegment::ConfedSet(v)) = seg;
                    v.iter().for_each(|a| t.asn(a.to_u32()));
                }
            }
            AttributeValue::Communities(c) => t.communities(c.iter()),
            AttributeValue::ExtendedCommunities(c) => t.communities(c.iter()),
            AttributeValue::LargeCommunities(c) => t.communities(c.iter()),
            AttributeValue::MpReachNlri(n) => {
                n.prefixes.iter().for_each(|p| t.prefix(true, p.prefix))
            }
            AttributeValue::MpUnreachNlri(n) => {
                n.prefixes.iter().for_each(|p| t.prefix(false, p.prefix))
            }
            other => {
                std::hint::black_box(other);
            }
        }
    }
    u.withdrawn_prefixes
        .iter()
        .for_each(|p| t.prefix(false, p.prefix));
    u.announced_prefixes
        .iter()
        .for_each(|p| t.prefix(true, p.prefix));
}
