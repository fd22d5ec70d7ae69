//! Fixed-size list attributes: COMMUNITIES (RFC 1997), EXTENDED_COMMUNITIES
//! (RFC 4360), LARGE_COMMUNITIES (RFC 8092) and CLUSTER_LIST (RFC 4456).
//!
//! Each view wraps a value whose length is a multiple of the item size
//! (checked by the attribute layer) and iterates its items without
//! allocating.

use core::fmt;
use std::net::Ipv4Addr;

/// A standard community (RFC 1997).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Community(pub u32);

impl Community {
    /// GRACEFUL_SHUTDOWN (RFC 8326).
    pub const GRACEFUL_SHUTDOWN: Community = Community(0xFFFF_0000);
    /// BLACKHOLE (RFC 7999).
    pub const BLACKHOLE: Community = Community(0xFFFF_029A);
    /// NO_EXPORT (RFC 1997).
    pub const NO_EXPORT: Community = Community(0xFFFF_FF01);
    /// NO_ADVERTISE (RFC 1997).
    pub const NO_ADVERTISE: Community = Community(0xFFFF_FF02);
    /// NO_EXPORT_SUBCONFED (RFC 1997).
    pub const NO_EXPORT_SUBCONFED: Community = Community(0xFFFF_FF03);
    /// NOPEER (RFC 3765).
    pub const NOPEER: Community = Community(0xFFFF_FF04);

    /// The high 16 bits (by convention an AS number).
    pub fn asn(self) -> u16 {
        (self.0 >> 16) as u16
    }

    /// The low 16 bits.
    pub fn value(self) -> u16 {
        self.0 as u16
    }
}

impl fmt::Display for Community {
    /// `asn:value`, or the RFC 1997 names of the three well-known ones.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NO_EXPORT => f.write_str("no-export"),
            Self::NO_ADVERTISE => f.write_str("no-advertise"),
            Self::NO_EXPORT_SUBCONFED => f.write_str("no-export-subconfed"),
            c => write!(f, "{}:{}", c.asn(), c.value()),
        }
    }
}

/// An extended community (RFC 4360): 8 octets, type and subtype first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ExtendedCommunity(pub [u8; 8]);

impl ExtendedCommunity {
    /// The type octet (high bit: IANA authority; 0x40: non-transitive).
    pub fn type_high(self) -> u8 {
        self.0[0]
    }

    /// The subtype octet (meaningful for the extended types).
    pub fn subtype(self) -> u8 {
        self.0[1]
    }

    /// Whether the community is transitive across ASes (bit 0x40 clear).
    pub fn is_transitive(self) -> bool {
        self.0[0] & 0x40 == 0
    }
}

impl fmt::Display for ExtendedCommunity {
    /// Route targets and origins in the usual `rt`/`soo` notation, others as hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        let kind = match b[1] {
            0x02 => "rt",
            0x03 => "soo",
            _ => "",
        };
        match (b[0], kind) {
            (0x00, k) if !k.is_empty() => write!(
                f,
                "{k} {}:{}",
                u16::from_be_bytes([b[2], b[3]]),
                u32::from_be_bytes([b[4], b[5], b[6], b[7]])
            ),
            (0x01, k) if !k.is_empty() => write!(
                f,
                "{k} {}:{}",
                Ipv4Addr::new(b[2], b[3], b[4], b[5]),
                u16::from_be_bytes([b[6], b[7]])
            ),
            (0x02, k) if !k.is_empty() => write!(
                f,
                "{k} {}:{}",
                u32::from_be_bytes([b[2], b[3], b[4], b[5]]),
                u16::from_be_bytes([b[6], b[7]])
            ),
            _ => {
                for (i, x) in b.iter().enumerate() {
                    if i > 0 {
                        f.write_str(":")?;
                    }
                    write!(f, "{x:02x}")?;
                }
                Ok(())
            }
        }
    }
}

/// A large community (RFC 8092).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LargeCommunity {
    /// Global administrator (an AS number).
    pub global: u32,
    /// First local data part.
    pub local1: u32,
    /// Second local data part.
    pub local2: u32,
}

impl fmt::Display for LargeCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.global, self.local1, self.local2)
    }
}

#[inline]
fn be32(c: &[u8]) -> u32 {
    match c {
        &[a, b, c, d, ..] => u32::from_be_bytes([a, b, c, d]),
        _ => 0,
    }
}

/// Declares a view over a value made of `$size`-octet items.
macro_rules! list_view {
    ($(#[$meta:meta])* $name:ident, $item:ty, $size:literal, |$c:ident| $conv:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name<'a>(&'a [u8]);

        impl<'a> $name<'a> {
            /// Octets per item.
            pub const ITEM_LEN: usize = $size;

            /// A view over `buf`; trailing octets short of a whole item are ignored.
            pub fn new(buf: &'a [u8]) -> Self {
                Self(buf)
            }

            /// Whether `len` is a valid value length: a non-zero multiple of the item size.
            pub fn valid_len(len: usize) -> bool {
                len != 0 && len % $size == 0
            }

            /// The attribute value.
            pub fn as_bytes(&self) -> &'a [u8] {
                self.0
            }

            /// Number of items.
            pub fn len(&self) -> usize {
                self.0.len() / $size
            }

            /// Whether there are no items.
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// The items in order.
            pub fn iter(&self) -> impl ExactSizeIterator<Item = $item> + 'a {
                self.0.chunks_exact($size).map(|$c| $conv)
            }
        }
    };
}

list_view!(
    /// COMMUNITIES value.
    Communities, Community, 4, |c| Community(be32(c))
);
list_view!(
    /// EXTENDED_COMMUNITIES value.
    ExtendedCommunities, ExtendedCommunity, 8, |c| {
        let mut a = [0u8; 8];
        a.copy_from_slice(c);
        ExtendedCommunity(a)
    }
);
list_view!(
    /// LARGE_COMMUNITIES value.
    LargeCommunities, LargeCommunity, 12, |c| LargeCommunity {
        global: be32(c),
        local1: be32(c.get(4..).unwrap_or_default()),
        local2: be32(c.get(8..).unwrap_or_default()),
    }
);
list_view!(
    /// CLUSTER_LIST value: route reflector cluster ids.
    ClusterList, Ipv4Addr, 4, |c| Ipv4Addr::from(be32(c))
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn communities() {
        let v = [0xff, 0xff, 0xff, 0x01, 0x05, 0x13, 0x88, 0xb8, 1];
        let c = Communities::new(&v);
        let s: Vec<String> = c.iter().map(|c| c.to_string()).collect();
        assert_eq!(s, vec!["no-export", "1299:35000"]);
        assert!(!Communities::valid_len(0));
        assert!(!Communities::valid_len(6));
        assert!(Communities::valid_len(8));
    }

    #[test]
    fn large_and_extended() {
        let mut v = Vec::new();
        for x in [64512u32, 1, 2] {
            v.extend_from_slice(&x.to_be_bytes());
        }
        let l: Vec<_> = LargeCommunities::new(&v).iter().collect();
        assert_eq!(l[0].to_string(), "64512:1:2");
        let e = [0x00, 0x02, 0xfc, 0x00, 0, 0, 0, 100];
        let x: Vec<_> = ExtendedCommunities::new(&e).iter().collect();
        assert_eq!(x[0].to_string(), "rt 64512:100");
        assert!(x[0].is_transitive());
        let o = [0x43, 0x00, 0, 0, 0, 0, 0, 1];
        assert_eq!(
            ExtendedCommunities::new(&o)
                .iter()
                .next()
                .unwrap()
                .to_string(),
            "43:00:00:00:00:00:00:01"
        );
    }

    #[test]
    fn cluster_list() {
        let v = [10, 0, 0, 1, 10, 0, 0, 2];
        let ids: Vec<_> = ClusterList::new(&v).iter().collect();
        assert_eq!(
            ids,
            vec![Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)]
        );
    }
}
