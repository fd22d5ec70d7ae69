//! Allocation-free text formatting into byte buffers.
//!
//! Everything `decode` prints goes through these helpers: decimal integers,
//! dotted-quad IPv4, IPv6 in the spelling of bgpdump's `fmt_ipv6` (which
//! differs from RFC 5952 and from `std`), and hex. Short texts are built on
//! the stack ([`Small`]) and appended to the output buffer in one copy;
//! nothing allocates once that buffer has grown.

/// Two ASCII digits for every value below 100.
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The decimal text of every octet value, padded to 3 characters, and its
/// length in the fourth.
const OCTETS: [[u8; 4]; 256] = {
    let mut t = [[0u8; 4]; 256];
    let mut v = 0;
    while v < 256 {
        let (h, d, u) = ((v / 100) as u8, (v / 10 % 10) as u8, (v % 10) as u8);
        t[v] = if v >= 100 {
            [b'0' + h, b'0' + d, b'0' + u, 3]
        } else if v >= 10 {
            [b'0' + d, b'0' + u, 0, 2]
        } else {
            [b'0' + u, 0, 0, 1]
        };
        v += 1;
    }
    t
};

/// Decimal digits in `v`.
#[inline]
fn count_digits(v: u32) -> usize {
    match v {
        0..=9 => 1,
        10..=99 => 2,
        100..=999 => 3,
        1_000..=9_999 => 4,
        10_000..=99_999 => 5,
        100_000..=999_999 => 6,
        1_000_000..=9_999_999 => 7,
        10_000_000..=99_999_999 => 8,
        100_000_000..=999_999_999 => 9,
        _ => 10,
    }
}

/// A short text built on the stack and appended to a buffer in one copy:
/// a prefix, an address, a number. Holds up to 64 octets, more than the
/// longest thing written into it (an IPv6 prefix, its path id and
/// separators).
#[derive(Debug, Clone, Copy)]
pub struct Small {
    buf: [u8; 64],
    len: usize,
}

impl Default for Small {
    fn default() -> Self {
        Self::new()
    }
}

impl Small {
    /// An empty text.
    #[inline]
    pub fn new() -> Self {
        Self {
            buf: [0; 64],
            len: 0,
        }
    }

    /// The text.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Appends one octet.
    #[inline]
    pub fn byte(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    /// Appends octets.
    #[inline]
    pub fn bytes(&mut self, s: &[u8]) {
        self.buf[self.len..self.len + s.len()].copy_from_slice(s);
        self.len += s.len();
    }

    /// Appends `v` in decimal.
    #[inline]
    pub fn u64(&mut self, v: u64) {
        match u32::try_from(v) {
            Ok(small) => self.u32(small),
            Err(_) => {
                self.u64(v / 1_000_000_000);
                let low = (v % 1_000_000_000) as u32;
                for _ in count_digits(low)..9 {
                    self.byte(b'0');
                }
                self.u32(low);
            }
        }
    }

    /// Appends `v` in decimal, writing the digits in place.
    #[inline]
    pub fn u32(&mut self, mut v: u32) {
        let end = self.len + count_digits(v);
        let digits = &mut self.buf[self.len..end];
        let mut i = digits.len();
        while v >= 100 {
            let pair = (v % 100) as usize * 2;
            v /= 100;
            i -= 2;
            digits[i..i + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        }
        if v >= 10 {
            let pair = v as usize * 2;
            digits[..2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        } else {
            digits[0] = b'0' + v as u8;
        }
        self.len = end;
    }

    /// Appends an octet in decimal (1 to 3 digits).
    #[inline]
    fn octet(&mut self, o: u8) {
        let t = OCTETS[usize::from(o)];
        self.buf[self.len..self.len + 3].copy_from_slice(&t[..3]);
        self.len += usize::from(t[3]);
    }

    /// Appends an IPv4 address in dotted-quad form.
    #[inline]
    pub fn ipv4(&mut self, a: [u8; 4]) {
        self.octet(a[0]);
        for o in &a[1..] {
            self.byte(b'.');
            self.octet(*o);
        }
    }

    /// Appends an IPv6 address as bgpdump's `fmt_ipv6` spells it.
    ///
    /// It differs from RFC 5952 (and from `std`'s `Display`) in two ways:
    /// the first longest run of zero groups is compressed even when it is a
    /// single group, and IPv4-compatible addresses (`::a.b.c.d`, the first
    /// 96 bits zero and the last 32 above 1) print their tail in dotted quad,
    /// like IPv4-mapped ones (`::ffff:a.b.c.d`).
    pub fn ipv6_bgpdump(&mut self, a: &[u8; 16]) {
        let tail = [a[12], a[13], a[14], a[15]];
        let head_zero = a[..10].iter().all(|&b| b == 0);
        let mapped = head_zero && a[10] == 0xff && a[11] == 0xff;
        let compat = head_zero && a[10] == 0 && a[11] == 0 && u32::from_be_bytes(tail) > 1;
        if mapped || compat {
            self.bytes(if mapped { b"::ffff:" } else { b"::" });
            self.ipv4(tail);
            return;
        }
        let groups: [u16; 8] =
            std::array::from_fn(|i| u16::from_be_bytes([a[2 * i], a[2 * i + 1]]));
        // The first longest run of zero groups, of any length.
        let (mut best_at, mut best_len) = (usize::MAX, 0);
        let mut i = 0;
        while i < 8 {
            if groups[i] == 0 {
                let run = groups[i..].iter().take_while(|&&g| g == 0).count();
                if run > best_len {
                    (best_at, best_len) = (i, run);
                }
                i += run;
            } else {
                i += 1;
            }
        }
        let mut i = 0;
        while i < 8 {
            if i == best_at {
                if i == 0 {
                    self.byte(b':');
                }
                self.byte(b':');
                i += best_len;
                continue;
            }
            self.hex_group(groups[i]);
            if i != 7 {
                self.byte(b':');
            }
            i += 1;
        }
    }

    /// Appends a 16-bit group in lowercase hex without leading zeros.
    #[inline]
    fn hex_group(&mut self, g: u16) {
        let nibbles = [g >> 12, (g >> 8) & 0xf, (g >> 4) & 0xf, g & 0xf];
        let first = nibbles.iter().position(|&n| n != 0).unwrap_or(3);
        for &n in &nibbles[first..] {
            self.byte(HEX[usize::from(n)]);
        }
    }
}

/// Appends `v` in decimal.
#[inline]
pub fn push_u64(out: &mut Vec<u8>, v: u64) {
    let mut s = Small::new();
    s.u64(v);
    out.extend_from_slice(s.as_bytes());
}

/// Appends `v` in decimal.
#[inline]
pub fn push_u32(out: &mut Vec<u8>, v: u32) {
    push_u64(out, u64::from(v));
}

/// Appends `v` in decimal, with a minus sign when negative.
#[inline]
pub fn push_i32(out: &mut Vec<u8>, v: i32) {
    if v < 0 {
        out.push(b'-');
    }
    push_u64(out, u64::from(v.unsigned_abs()));
}

/// Appends `v` in decimal, zero-padded to at least `width` digits (C's `%0*u`).
pub fn push_u32_padded(out: &mut Vec<u8>, v: u32, width: usize) {
    let mut s = Small::new();
    s.u32(v);
    for _ in s.as_bytes().len()..width {
        out.push(b'0');
    }
    out.extend_from_slice(s.as_bytes());
}

/// Appends an IPv4 address in dotted-quad form.
#[inline]
pub fn push_ipv4(out: &mut Vec<u8>, a: [u8; 4]) {
    let mut s = Small::new();
    s.ipv4(a);
    out.extend_from_slice(s.as_bytes());
}

/// Appends an IPv6 address as bgpdump spells it ([`Small::ipv6_bgpdump`]).
pub fn push_ipv6_bgpdump(out: &mut Vec<u8>, a: &[u8; 16]) {
    let mut s = Small::new();
    s.ipv6_bgpdump(a);
    out.extend_from_slice(s.as_bytes());
}

/// Appends `bytes` as lowercase hex, two digits per octet, no separator.
pub fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0xf)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).unwrap()
    }

    fn v6(text: &str) -> String {
        let a: Ipv6Addr = text.parse().unwrap();
        s(|o| push_ipv6_bgpdump(o, &a.octets()))
    }

    #[test]
    fn integers() {
        for v in [0u32, 7, 10, 99, 100, 101, 65535, 4_294_967_295] {
            assert_eq!(s(|o| push_u32(o, v)), v.to_string());
        }
        assert_eq!(s(|o| push_u64(o, u64::MAX)), u64::MAX.to_string());
        assert_eq!(s(|o| push_i32(o, -1)), "-1");
        assert_eq!(s(|o| push_i32(o, i32::MIN)), "-2147483648");
        assert_eq!(s(|o| push_u32_padded(o, 42, 6)), "000042");
        assert_eq!(s(|o| push_u32_padded(o, 1_234_567, 6)), "1234567");
    }

    #[test]
    fn ipv4_and_hex() {
        assert_eq!(s(|o| push_ipv4(o, [0, 10, 255, 1])), "0.10.255.1");
        assert_eq!(s(|o| push_hex(o, &[0, 0xab, 0x10])), "00ab10");
    }

    #[test]
    fn ipv6_like_bgpdump() {
        // bgpdump's own self-test cases.
        assert_eq!(v6("fe80::"), "fe80::");
        assert_eq!(v6("2001:db8::1"), "2001:db8::1");
        assert_eq!(v6("::ffff:192.168.2.1"), "::ffff:192.168.2.1");
        assert_eq!(v6("::192.168.1.2"), "::192.168.1.2");
        assert_eq!(v6("2001:7f8:30::2:1:0:8447"), "2001:7f8:30::2:1:0:8447");
        // Differences from RFC 5952: a lone zero group is compressed.
        assert_eq!(v6("2001:db8:0:1:1:1:1:1"), "2001:db8::1:1:1:1:1");
        assert_eq!(v6("::"), "::");
        assert_eq!(v6("::1"), "::1");
        assert_eq!(v6("::2"), "::0.0.0.2");
        assert_eq!(v6("1::"), "1::");
        assert_eq!(v6("1:0:0:2:0:0:0:3"), "1:0:0:2::3");
        assert_eq!(v6("1:0:0:2:0:0:3:4"), "1::2:0:0:3:4");
        assert_eq!(v6("2001:668:0:4::2"), "2001:668:0:4::2");
    }
}
