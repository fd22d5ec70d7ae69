//! nom parsers for the fields MRT bodies share: addresses and prefixes.

use super::error::Malformed;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use nom::bytes::complete::take;
use nom::number::complete::{be_u128, be_u32, be_u8};
use nom::{IResult, Parser};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Result of a parser over a borrowed body.
pub(super) type Res<'a, T> = IResult<&'a [u8], T>;

/// A failure that is not a lack of input (a value out of range).
pub(super) fn invalid<T>(input: &[u8]) -> Res<'_, T> {
    Err(nom::Err::Failure(nom::error::Error::new(
        input,
        nom::error::ErrorKind::Verify,
    )))
}

/// Maps a parse error to [`Malformed`]: `short` when the body ended early,
/// `bad` when a value was out of range.
pub(super) fn malformed(
    short: &'static str,
    bad: &'static str,
) -> impl Fn(nom::Err<nom::error::Error<&[u8]>>) -> Malformed {
    move |e| match e {
        nom::Err::Failure(_) => Malformed(bad),
        _ => Malformed(short),
    }
}

/// An IPv4 address.
pub(super) fn ipv4(input: &[u8]) -> Res<'_, Ipv4Addr> {
    let (input, v) = be_u32(input)?;
    Ok((input, Ipv4Addr::from(v)))
}

/// An IPv4 (4 octets) or IPv6 (16 octets) address.
pub(super) fn ip(input: &[u8], v6: bool) -> Res<'_, IpAddr> {
    if v6 {
        let (input, v) = be_u128(input)?;
        Ok((input, IpAddr::V6(Ipv6Addr::from(v))))
    } else {
        let (input, v) = ipv4(input)?;
        Ok((input, IpAddr::V4(v)))
    }
}

/// A prefix from an address and a length, host bits kept; `None` if the
/// length exceeds the address width.
pub(super) fn net(addr: IpAddr, len: u8) -> Option<IpNet> {
    match addr {
        IpAddr::V4(a) => Ipv4Net::new(a, len).ok().map(IpNet::V4),
        IpAddr::V6(a) => Ipv6Net::new(a, len).ok().map(IpNet::V6),
    }
}

/// A length-prefixed prefix as in NLRI (RFC 4271 s4.3): one length octet,
/// then only the octets the length covers. A length wider than the address
/// is a failure, not a lack of input.
pub(super) fn prefix(input: &[u8], v6: bool) -> Res<'_, IpNet> {
    let (rest, len) = be_u8(input)?;
    let width: u8 = if v6 { 128 } else { 32 };
    if len > width {
        return invalid(input);
    }
    let (rest, octets) = take(usize::from(len).div_ceil(8)).parse(rest)?;
    let mut full = [0u8; 16];
    if let Some(dst) = full.get_mut(..octets.len()) {
        dst.copy_from_slice(octets);
    }
    let addr = if v6 {
        IpAddr::V6(Ipv6Addr::from(full))
    } else {
        IpAddr::V4(Ipv4Addr::new(full[0], full[1], full[2], full[3]))
    };
    match net(addr, len) {
        Some(p) => Ok((rest, p)),
        None => invalid(input),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_keep_host_bits_and_reject_overlong() {
        let (rest, p) = prefix(&[23, 10, 0, 1, 99], false).unwrap();
        assert_eq!((p.to_string().as_str(), rest), ("10.0.1.0/23", &[99][..]));
        let (_, p) = prefix(&[0], true).unwrap();
        assert_eq!(p.to_string(), "::/0");
        let (_, p) = prefix(&[32, 0x20, 1, 0x0d, 0xb8], true).unwrap();
        assert_eq!(p.to_string(), "2001:db8::/32");
        assert!(matches!(
            prefix(&[33, 1, 2, 3, 4, 5], false),
            Err(nom::Err::Failure(_))
        ));
        assert!(matches!(prefix(&[129], true), Err(nom::Err::Failure(_))));
        assert!(matches!(prefix(&[24, 10], false), Err(nom::Err::Error(_))));
        assert!(prefix(&[], false).is_err());
    }

    #[test]
    fn addresses() {
        let (_, a) = ip(&[192, 0, 2, 1], false).unwrap();
        assert_eq!(a.to_string(), "192.0.2.1");
        let mut v6 = [0u8; 16];
        v6[15] = 1;
        let (_, a) = ip(&v6, true).unwrap();
        assert_eq!(a.to_string(), "::1");
        assert!(ip(&v6[..15], true).is_err());
        let m = malformed("short", "bad");
        assert_eq!(m(prefix(&[40], false).unwrap_err()), Malformed("bad"));
        assert_eq!(m(prefix(&[8], false).unwrap_err()), Malformed("short"));
    }
}
