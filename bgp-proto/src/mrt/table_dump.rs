//! Legacy `TABLE_DUMP` records (RFC 6396 s4.2): one RIB entry per record,
//! the address family given by the subtype, 2-octet peer AS.

use super::error::Malformed;
use super::table_dump_subtype as td;
use super::wire::{self, Res};
use crate::afi::Afi;
use crate::context::SessionContext;
use ipnet::IpNet;
use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u32, be_u8};
use nom::Parser;
use std::net::IpAddr;

/// A validated `TABLE_DUMP` body (subtype `AFI_IPv4` or `AFI_IPv6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableDump<'a> {
    subtype: u16,
    view_number: u16,
    sequence: u16,
    prefix: IpNet,
    status: u8,
    originated_time: u32,
    peer_ip: IpAddr,
    peer_as: u16,
    attributes: &'a [u8],
}

impl<'a> TableDump<'a> {
    /// Validates a body: every fixed field, a prefix length within the
    /// address width, and an attribute length that ends exactly at the end
    /// of the body.
    pub fn new_checked(subtype: u16, body: &'a [u8]) -> Result<Self, Malformed> {
        let v6 = match subtype {
            td::AFI_IPV4 => false,
            td::AFI_IPV6 => true,
            _ => {
                return Err(Malformed(
                    "TABLE_DUMP: subtype is neither AFI_IPv4 nor AFI_IPv6",
                ))
            }
        };
        let parse = |i: &'a [u8]| -> Res<'a, TableDump<'a>> {
            let (i, view_number) = be_u16(i)?;
            let (i, sequence) = be_u16(i)?;
            let (i, addr) = wire::ip(i, v6)?;
            let len_at = i;
            let (i, len) = be_u8(i)?;
            let Some(prefix) = wire::net(addr, len) else {
                return wire::invalid(len_at);
            };
            let (i, status) = be_u8(i)?;
            let (i, originated_time) = be_u32(i)?;
            let (i, peer_ip) = wire::ip(i, v6)?;
            let (i, peer_as) = be_u16(i)?;
            let (i, attr_len) = be_u16(i)?;
            let (i, attributes) = take(attr_len).parse(i)?;
            Ok((
                i,
                TableDump {
                    subtype,
                    view_number,
                    sequence,
                    prefix,
                    status,
                    originated_time,
                    peer_ip,
                    peer_as,
                    attributes,
                },
            ))
        };
        let (rest, dump) = parse(body).map_err(wire::malformed(
            "TABLE_DUMP: body ends early",
            "TABLE_DUMP: prefix length exceeds the address width",
        ))?;
        if !rest.is_empty() {
            return Err(Malformed("TABLE_DUMP: octets after the path attributes"));
        }
        Ok(dump)
    }

    /// The subtype.
    pub fn subtype(&self) -> u16 {
        self.subtype
    }

    /// Address family of prefix and peer.
    pub fn afi(&self) -> Afi {
        if self.subtype == td::AFI_IPV6 {
            Afi::IPV6
        } else {
            Afi::IPV4
        }
    }

    /// View number (normally 0).
    pub fn view_number(&self) -> u16 {
        self.view_number
    }

    /// Sequence number (wraps at 65535).
    pub fn sequence(&self) -> u16 {
        self.sequence
    }

    /// The prefix, host bits exactly as on the wire.
    pub fn prefix(&self) -> IpNet {
        self.prefix
    }

    /// Status octet (unused, normally 1).
    pub fn status(&self) -> u8 {
        self.status
    }

    /// When the route was received (seconds since the Unix epoch).
    pub fn originated_time(&self) -> u32 {
        self.originated_time
    }

    /// The peer's address.
    pub fn peer_ip(&self) -> IpAddr {
        self.peer_ip
    }

    /// The peer's AS number (2 octets in this format).
    pub fn peer_as(&self) -> u16 {
        self.peer_as
    }

    /// The path attributes, undecoded.
    pub fn attributes(&self) -> &'a [u8] {
        self.attributes
    }

    /// How to decode [`attributes`](Self::attributes): this format predates
    /// 4-octet AS numbers, so AS_PATH carries 2-octet ones.
    pub fn attribute_context(&self) -> SessionContext {
        SessionContext::classic()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A TABLE_DUMP body.
    pub(crate) fn body(prefix: &[u8], plen: u8, peer: &[u8], attrs: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 3, 0, 9];
        b.extend_from_slice(prefix);
        b.extend_from_slice(&[plen, 1]);
        b.extend_from_slice(&1_000_000u32.to_be_bytes());
        b.extend_from_slice(peer);
        b.extend_from_slice(&64_512u16.to_be_bytes());
        b.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        b.extend_from_slice(attrs);
        b
    }

    #[test]
    fn ipv4_and_ipv6() {
        let b = body(&[10, 1, 2, 3], 16, &[192, 0, 2, 9], b"\x40\x01\x01\x02");
        let d = TableDump::new_checked(td::AFI_IPV4, &b).unwrap();
        assert_eq!((d.view_number(), d.sequence()), (3, 9));
        assert_eq!(d.prefix().to_string(), "10.1.2.3/16");
        assert_eq!((d.status(), d.originated_time()), (1, 1_000_000));
        assert_eq!(d.peer_ip().to_string(), "192.0.2.9");
        assert_eq!(
            (d.peer_as(), d.attributes()),
            (64_512, &b"\x40\x01\x01\x02"[..])
        );
        assert_eq!((d.afi(), d.subtype()), (Afi::IPV4, 1));
        assert!(!d.attribute_context().four_octet_as);

        let mut p6 = [0u8; 16];
        p6[..2].copy_from_slice(&[0x20, 0x01]);
        let mut peer6 = [0u8; 16];
        peer6[15] = 1;
        let b = body(&p6, 16, &peer6, b"");
        let d = TableDump::new_checked(td::AFI_IPV6, &b).unwrap();
        assert_eq!(d.prefix().to_string(), "2001::/16");
        assert_eq!(
            (d.peer_ip().to_string().as_str(), d.afi()),
            ("::1", Afi::IPV6)
        );
        // The IPv6 body read as IPv4 leaves octets over.
        assert!(TableDump::new_checked(td::AFI_IPV4, &b).is_err());
    }

    #[test]
    fn malformations() {
        let b = body(&[10, 1, 2, 3], 24, &[192, 0, 2, 9], b"xyz");
        for cut in 0..b.len() {
            let e = TableDump::new_checked(1, &b[..cut]).unwrap_err();
            assert_eq!(e.0, "TABLE_DUMP: body ends early", "{cut}");
        }
        let mut long = b.clone();
        long.push(0);
        assert!(TableDump::new_checked(1, &long).is_err());
        let bad = body(&[10, 1, 2, 3], 33, &[192, 0, 2, 9], b"");
        assert_eq!(
            TableDump::new_checked(1, &bad).unwrap_err().0,
            "TABLE_DUMP: prefix length exceeds the address width"
        );
        assert!(TableDump::new_checked(3, &b).is_err());
    }
}
