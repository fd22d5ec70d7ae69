//! NLRI: length-prefixed IP prefixes (RFC 4271 s4.3, RFC 4760 s5), optionally
//! preceded by a 4-octet path identifier (RFC 7911).
//!
//! [`check`] validates a whole run of NLRI once; [`NlriIter`] then walks it
//! without allocating and without any possibility of failure.

use crate::header::EncodeError;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use nom::bytes::complete::take;
use nom::number::complete::{be_u32, be_u8};
use nom::Parser;
use std::net::{Ipv4Addr, Ipv6Addr};

/// One route: a prefix and, with ADD-PATH, its path identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Nlri {
    /// Path identifier (RFC 7911), present when ADD-PATH is negotiated.
    pub path_id: Option<u32>,
    /// The prefix, with the host bits exactly as they were on the wire.
    pub prefix: IpNet,
}

/// Why a run of NLRI is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NlriError {
    /// The prefix length exceeds the address width.
    PrefixLength,
    /// The field ends inside an entry.
    Truncated,
}

/// One raw entry: path id, prefix length, prefix octets.
type RawEntry<'a> = (Option<u32>, u8, &'a [u8]);

/// Parses one entry: `[path id] length prefix-octets`. nom's unit error
/// type keeps this per-prefix step free of error bookkeeping.
#[inline]
fn entry(input: &[u8], v6: bool, add_path: bool) -> Result<(&[u8], RawEntry<'_>), NlriError> {
    let truncated = |_| NlriError::Truncated;
    let (input, path_id) = if add_path {
        let (i, id) = be_u32::<_, ()>(input).map_err(truncated)?;
        (i, Some(id))
    } else {
        (input, None)
    };
    let (input, len) = be_u8::<_, ()>(input).map_err(truncated)?;
    if len > if v6 { 128 } else { 32 } {
        return Err(NlriError::PrefixLength);
    }
    let (input, bytes) = take::<_, _, ()>(usize::from(len).div_ceil(8))
        .parse(input)
        .map_err(truncated)?;
    Ok((input, (path_id, len, bytes)))
}

#[inline]
fn to_prefix(v6: bool, len: u8, bytes: &[u8]) -> Option<IpNet> {
    if v6 {
        let mut a = [0u8; 16];
        a.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Ipv6Net::new(Ipv6Addr::from(a), len).ok().map(IpNet::V6)
    } else {
        v4_prefix(bytes, bytes.len(), len)
    }
}

/// The IPv4 prefix of `len` bits whose `n` octets start `field`. Octets of
/// `field` past those `n` (the next entry) never reach the address: when
/// four octets can be read they are masked off, else only `n` are read.
#[inline]
fn v4_prefix(field: &[u8], n: usize, len: u8) -> Option<IpNet> {
    let a = match field.first_chunk::<4>() {
        Some(c) if n <= 4 => {
            let keep = u32::MAX.checked_shl(32 - 8 * n as u32).unwrap_or_default();
            u32::from_be_bytes(*c) & keep
        }
        _ => match *field.get(..n)? {
            [] => 0,
            [a] => u32::from(a) << 24,
            [a, b] => u32::from_be_bytes([a, b, 0, 0]),
            [a, b, c] => u32::from_be_bytes([a, b, c, 0]),
            [a, b, c, d] => u32::from_be_bytes([a, b, c, d]),
            _ => return None,
        },
    };
    Ipv4Net::new(Ipv4Addr::from(a), len).ok().map(IpNet::V4)
}

/// Validates a whole NLRI field; returns the number of entries.
pub fn check(mut buf: &[u8], v6: bool, add_path: bool) -> Result<usize, NlriError> {
    let mut n = 0;
    if add_path {
        while !buf.is_empty() {
            buf = entry(buf, v6, add_path)?.0;
            n += 1;
        }
        return Ok(n);
    }
    // Without path ids, `entry` in slice patterns: this runs for every
    // prefix of every UPDATE.
    let max = if v6 { 128 } else { 32 };
    while let [len, ref rest @ ..] = *buf {
        if len > max {
            return Err(NlriError::PrefixLength);
        }
        buf = rest
            .get(usize::from(len).div_ceil(8)..)
            .ok_or(NlriError::Truncated)?;
        n += 1;
    }
    Ok(n)
}

/// Iterator over a validated NLRI field.
#[derive(Debug, Clone)]
pub struct NlriIter<'a> {
    buf: &'a [u8],
    v6: bool,
    add_path: bool,
}

impl<'a> NlriIter<'a> {
    /// An iterator over `buf`, which [`check`] accepted with the same flags.
    /// On unchecked input it stops at the first malformed entry.
    pub fn new(buf: &'a [u8], v6: bool, add_path: bool) -> Self {
        Self { buf, v6, add_path }
    }

    /// An iterator over nothing.
    pub fn empty() -> Self {
        Self::new(&[], false, false)
    }

    /// The undecoded octets left.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// Whether entries carry path identifiers.
    pub fn add_path(&self) -> bool {
        self.add_path
    }

    /// Whether entries are IPv6 prefixes.
    pub fn is_ipv6(&self) -> bool {
        self.v6
    }
}

/// One step of [`NlriIter`] with path ids or IPv6: the octets left and the
/// entry (`None` ends the iteration). Out of line, and on values rather than
/// the iterator, so that the IPv4 step stays small and in registers.
#[inline(never)]
fn general_step(buf: &[u8], v6: bool, add_path: bool) -> (&[u8], Option<Nlri>) {
    if buf.is_empty() {
        return (buf, None);
    }
    let Ok((rest, (path_id, len, bytes))) = entry(buf, v6, add_path) else {
        return (&[], None);
    };
    let prefix = to_prefix(v6, len, bytes);
    (rest, prefix.map(|prefix| Nlri { path_id, prefix }))
}

impl Iterator for NlriIter<'_> {
    type Item = Nlri;

    #[inline]
    fn next(&mut self) -> Option<Nlri> {
        if self.add_path || self.v6 {
            let (rest, item) = general_step(self.buf, self.v6, self.add_path);
            self.buf = rest;
            return item;
        }
        // IPv4 without path ids: `entry` in slice patterns, and the address
        // read from the field in place (see `v4_prefix`).
        let [len, ref field @ ..] = *self.buf else {
            return None;
        };
        let n = usize::from(len).div_ceil(8);
        let (true, Some(rest)) = (len <= 32, field.get(n..)) else {
            self.buf = &[];
            return None;
        };
        self.buf = rest;
        Some(Nlri {
            path_id: None,
            prefix: v4_prefix(field, n, len)?,
        })
    }
}

/// Octets [`emit`] writes for `nlri`.
pub fn encoded_len(nlri: &Nlri, add_path: bool) -> usize {
    usize::from(add_path) * 4 + 1 + usize::from(nlri.prefix.prefix_len()).div_ceil(8)
}

/// Appends one entry. The path id is written only when `add_path` is set (0
/// when the route has none); prefix octets beyond the length are omitted.
pub fn emit(nlri: &Nlri, add_path: bool, out: &mut Vec<u8>) {
    if add_path {
        out.extend_from_slice(&nlri.path_id.unwrap_or(0).to_be_bytes());
    }
    let len = nlri.prefix.prefix_len();
    out.push(len);
    let n = usize::from(len).div_ceil(8);
    match nlri.prefix {
        IpNet::V4(p) => out.extend_from_slice(&p.addr().octets()[..n]),
        IpNet::V6(p) => out.extend_from_slice(&p.addr().octets()[..n]),
    }
}

/// Appends every entry of `nlris`, all of one address family.
pub fn emit_all<'a>(
    nlris: impl IntoIterator<Item = &'a Nlri>,
    add_path: bool,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    for n in nlris {
        emit(n, add_path, out);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_v4_and_v6_with_and_without_path_ids() {
        let v4 = [24, 10, 1, 2, 0, 32, 172, 29, 52, 200];
        assert_eq!(check(&v4, false, false), Ok(3));
        let got: Vec<_> = NlriIter::new(&v4, false, false).collect();
        assert_eq!(got[0].prefix.to_string(), "10.1.2.0/24");
        assert_eq!(got[1].prefix.to_string(), "0.0.0.0/0");
        assert_eq!(got[2].prefix.to_string(), "172.29.52.200/32");

        let ap = [0, 0, 0, 7, 8, 10];
        let got: Vec<_> = NlriIter::new(&ap, false, true).collect();
        assert_eq!(got[0].path_id, Some(7));
        assert_eq!(got[0].prefix.to_string(), "10.0.0.0/8");

        let v6 = [
            120, 0xfd, 0x47, 0x25, 0xe1, 0x2f, 0x96, 0, 0x51, 1, 0, 0, 0, 0, 0, 0,
        ];
        let got: Vec<_> = NlriIter::new(&v6, true, false).collect();
        assert_eq!(got[0].prefix.to_string(), "fd47:25e1:2f96:51:100::/120");
    }

    #[test]
    fn rejects_long_prefix_and_overrun() {
        assert_eq!(
            check(&[33, 1, 2, 3, 4, 5], false, false),
            Err(NlriError::PrefixLength)
        );
        assert_eq!(check(&[129], true, false), Err(NlriError::PrefixLength));
        assert_eq!(check(&[24, 10, 1], false, false), Err(NlriError::Truncated));
        assert_eq!(check(&[0, 0, 1], false, true), Err(NlriError::Truncated));
        // Unchecked input: the iterator stops instead of failing.
        assert_eq!(NlriIter::new(&[24, 10, 1], false, false).count(), 0);
    }

    #[test]
    fn addresses_stop_at_their_octets() {
        // Octets of the next entry never leak into an address.
        let v4 = [8, 10, 24, 172, 29, 52, 1, 0x80, 0, 0xff, 0xff];
        let got: Vec<_> = NlriIter::new(&v4, false, false)
            .map(|n| n.prefix.to_string())
            .collect();
        assert_eq!(
            got,
            vec!["10.0.0.0/8", "172.29.52.0/24", "128.0.0.0/1", "0.0.0.0/0"]
        );
        let mut v6 = vec![32, 0x20, 0x01, 0x0d, 0xb8, 128];
        v6.extend_from_slice(&[0xfd; 16]);
        v6.extend_from_slice(&[16, 0xfe, 0x80]);
        let got: Vec<_> = NlriIter::new(&v6, true, false)
            .map(|n| n.prefix.to_string())
            .collect();
        assert_eq!(
            got,
            vec![
                "2001:db8::/32",
                "fdfd:fdfd:fdfd:fdfd:fdfd:fdfd:fdfd:fdfd/128",
                "fe80::/16"
            ]
        );
    }

    #[test]
    fn host_bits_are_kept() {
        let got: Vec<_> = NlriIter::new(&[23, 10, 0, 1], false, false).collect();
        assert_eq!(got[0].prefix.to_string(), "10.0.1.0/23");
    }

    #[test]
    fn emit_round_trips() {
        let buf = [0, 0, 0, 9, 22, 45, 169, 4, 0, 0, 0, 0, 0];
        let items: Vec<_> = NlriIter::new(&buf, false, true).collect();
        let mut out = Vec::new();
        emit_all(&items, true, &mut out).unwrap();
        assert_eq!(out, buf);
        assert_eq!(encoded_len(&items[0], true), 8);
    }
}
