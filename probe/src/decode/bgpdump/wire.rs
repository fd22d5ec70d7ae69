//! The lenient reads bgpdump makes, reproduced: reading past the end of a
//! field yields zero octets instead of an error, and the NLRI lists it walks
//! stop quietly at a prefix that overruns its field.
//!
//! bgpdump's output on damaged input is defined by these rules (its
//! `mstream` reader and `read_prefix_list`), so the `-m` emulation follows
//! them rather than the RFC 7606 verdicts of `bgp-proto`.

/// Most prefixes bgpdump keeps from one list (`MAX_PREFIXES`); the rest of a
/// longer list is dropped.
pub const MAX_PREFIXES: usize = 8192;

/// A cursor over a field that reads zeros past its end.
#[derive(Debug, Clone, Copy)]
pub struct Stream<'a> {
    buf: &'a [u8],
}

impl<'a> Stream<'a> {
    /// A cursor at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// The octets not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.buf
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// `N` octets, zero-filled past the end.
    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut a = [0u8; N];
        let n = N.min(self.buf.len());
        a[..n].copy_from_slice(&self.buf[..n]);
        self.buf = &self.buf[n..];
        a
    }

    /// One octet (0 past the end).
    pub fn u8(&mut self) -> u8 {
        self.array::<1>()[0]
    }

    /// A big-endian 16-bit value.
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.array())
    }

    /// A big-endian 32-bit value.
    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.array())
    }

    /// An AS number of `asn_len` (2 or 4) octets.
    pub fn asn(&mut self, asn_len: usize) -> u32 {
        if asn_len == 2 {
            u32::from(self.u16())
        } else {
            self.u32()
        }
    }

    /// Up to `n` octets: fewer when the field ends first.
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.buf.split_at(n.min(self.buf.len()));
        self.buf = tail;
        head
    }
}

/// One entry of an NLRI list as bgpdump stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    /// Path identifier (0 without ADD-PATH).
    pub path_id: u32,
    /// The prefix length as printed.
    pub len: u8,
    /// Address octets: those on the wire, zeros after them.
    pub addr: [u8; 16],
}

impl Prefix {
    /// The first four address octets (what `inet_ntoa` prints).
    pub fn v4(&self) -> [u8; 4] {
        [self.addr[0], self.addr[1], self.addr[2], self.addr[3]]
    }
}

/// Walks an NLRI list the way bgpdump's `read_prefix_list` does: a path id
/// first with ADD-PATH, a length octet, then `ceil(len / 8)` octets; the walk
/// ends at the end of the field or at an entry whose octets overrun it, and
/// yields at most [`MAX_PREFIXES`] entries.
#[derive(Debug, Clone)]
pub struct PrefixList<'a> {
    stream: Stream<'a>,
    add_path: bool,
    yielded: usize,
}

impl<'a> PrefixList<'a> {
    /// The entries of `buf`, with path identifiers when `add_path`.
    pub fn new(buf: &'a [u8], add_path: bool) -> Self {
        Self {
            stream: Stream::new(buf),
            add_path,
            yielded: 0,
        }
    }
}

impl Iterator for PrefixList<'_> {
    type Item = Prefix;

    #[inline]
    fn next(&mut self) -> Option<Prefix> {
        if self.stream.is_empty() || self.yielded >= MAX_PREFIXES {
            return None;
        }
        let path_id = if self.add_path { self.stream.u32() } else { 0 };
        let len = self.stream.u8();
        let octets = usize::from(len).div_ceil(8);
        if self.stream.rest().len() < octets {
            self.stream = Stream::new(&[]);
            return None;
        }
        let bytes = self.stream.take(octets);
        self.yielded += 1;
        Some(store(path_id, len, bytes))
    }
}

/// Builds the entry bgpdump ends up with. Its `struct prefix` is a 16-octet
/// address, the length octet, 3 octets of padding and the path id (host
/// order); a prefix longer than 128 bits is copied over the fields after the
/// address, so what prints is what that copy leaves there.
fn store(path_id: u32, len: u8, bytes: &[u8]) -> Prefix {
    let mut addr = [0u8; 16];
    if bytes.len() <= 16 {
        addr[..bytes.len()].copy_from_slice(bytes);
        return Prefix { path_id, len, addr };
    }
    let mut raw = [0u8; 24];
    raw[16] = len;
    raw[20..].copy_from_slice(&path_id.to_le_bytes());
    let n = bytes.len().min(raw.len());
    raw[..n].copy_from_slice(&bytes[..n]);
    addr.copy_from_slice(&raw[..16]);
    Prefix {
        path_id: u32::from_le_bytes([raw[20], raw[21], raw[22], raw[23]]),
        len: raw[16],
        addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_fill() {
        let mut s = Stream::new(&[1, 2, 3]);
        assert_eq!(s.u16(), 0x0102);
        assert_eq!(s.u32(), 0x0300_0000);
        assert!(s.is_empty());
        assert_eq!(s.u8(), 0);
        let mut s = Stream::new(&[0, 9, 7]);
        assert_eq!(s.asn(2), 9);
        assert_eq!(s.take(5), &[7]);
    }

    #[test]
    fn prefix_lists() {
        let l: Vec<_> = PrefixList::new(&[24, 10, 1, 2, 0, 32, 1, 2, 3], false).collect();
        assert_eq!(l.len(), 2, "the last entry overruns and is dropped");
        assert_eq!((l[0].v4(), l[0].len), ([10, 1, 2, 0], 24));
        assert_eq!((l[1].v4(), l[1].len), ([0, 0, 0, 0], 0));
        let l: Vec<_> = PrefixList::new(&[0, 0, 0, 7, 8, 10], true).collect();
        assert_eq!((l[0].path_id, l[0].len, l[0].addr[0]), (7, 8, 10));
        // More than MAX_PREFIXES entries: the rest is dropped.
        let many = vec![0u8; MAX_PREFIXES + 10];
        assert_eq!(PrefixList::new(&many, false).count(), MAX_PREFIXES);
    }

    #[test]
    fn overlong_prefix_spills_like_bgpdump() {
        let mut buf = vec![200u8];
        buf.extend(1..=25u8);
        let p = PrefixList::new(&buf, false).next().unwrap();
        assert_eq!(p.addr[15], 16);
        assert_eq!(p.len, 17);
        assert_eq!(p.path_id, u32::from_le_bytes([21, 22, 23, 24]));
    }
}
