//! ICMP and ICMPv6 echo messages as a Linux ping socket exchanges them.
//!
//! A ping socket (`socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)`, or the
//! `AF_INET6`/`IPPROTO_ICMPV6` twin) carries bare ICMP messages: no IP header
//! on either side. On send the kernel fills in the checksum and replaces the
//! identifier with the socket's own (its "port"), and it delivers to the
//! socket only echo replies carrying that identifier. Within those, a reply is
//! ours when its sequence number and its whole payload equal what we sent;
//! the payload holds a per-process token and a per-probe number, so a late
//! reply to an earlier probe, or a reply to another process that happened to
//! reuse the identifier, is never taken for the current one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Octets of echo data after the 8-octet ICMP header.
pub const PAYLOAD_LEN: usize = 24;
/// Octets of an ICMP echo header (type, code, checksum, identifier, sequence).
pub const HEADER_LEN: usize = 8;
/// First eight payload octets of every probe (recognisable in a capture).
const MAGIC: [u8; 8] = *b"bgpv-rch";

/// Which ICMP: version 4 (RFC 792) or 6 (RFC 4443).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IcmpVersion {
    /// ICMP over IPv4: echo request 8, echo reply 0.
    V4,
    /// ICMPv6: echo request 128, echo reply 129.
    V6,
}

impl IcmpVersion {
    /// The type octet of an echo request.
    pub fn request_type(self) -> u8 {
        match self {
            IcmpVersion::V4 => 8,
            IcmpVersion::V6 => 128,
        }
    }

    /// The type octet of an echo reply.
    pub fn reply_type(self) -> u8 {
        match self {
            IcmpVersion::V4 => 0,
            IcmpVersion::V6 => 129,
        }
    }
}

/// One echo request we sent, and what its reply must look like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Echo {
    /// ICMP version of the socket it goes out on.
    pub version: IcmpVersion,
    /// Sequence number (the low 16 bits of the probe number).
    pub seq: u16,
    /// The echo data; a reply must return it unchanged.
    pub payload: [u8; PAYLOAD_LEN],
}

/// Why a received message is not the reply to an [`Echo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    /// Shorter than an echo header plus our payload.
    Truncated,
    /// Not an echo reply of the socket's ICMP version (type or code differ).
    NotReply,
    /// An echo reply with another sequence number.
    Sequence,
    /// Right sequence number, but the data is not ours (another probe).
    Payload,
}

impl Echo {
    /// The echo for probe number `probe` of the process whose token is
    /// `token`.
    pub fn new(version: IcmpVersion, token: u64, probe: u64) -> Echo {
        let mut payload = [0u8; PAYLOAD_LEN];
        payload[..8].copy_from_slice(&MAGIC);
        payload[8..16].copy_from_slice(&token.to_be_bytes());
        payload[16..24].copy_from_slice(&probe.to_be_bytes());
        Echo {
            version,
            seq: (probe & 0xffff) as u16,
            payload,
        }
    }

    /// The next echo of this process: a fresh probe number and the process
    /// token.
    pub fn next(version: IcmpVersion) -> Echo {
        static NEXT_PROBE: AtomicU64 = AtomicU64::new(0);
        Echo::new(
            version,
            process_token(),
            NEXT_PROBE.fetch_add(1, Ordering::Relaxed),
        )
    }

    /// The request as written to a ping socket. Checksum and identifier are
    /// left zero: the kernel fills in both.
    pub fn request(&self) -> Vec<u8> {
        let mut msg = Vec::with_capacity(HEADER_LEN + PAYLOAD_LEN);
        msg.push(self.version.request_type());
        msg.push(0); // code
        msg.extend_from_slice(&[0, 0]); // checksum
        msg.extend_from_slice(&[0, 0]); // identifier
        msg.extend_from_slice(&self.seq.to_be_bytes());
        msg.extend_from_slice(&self.payload);
        msg
    }

    /// Whether `msg`, as read from the ping socket, is the reply to this
    /// echo. Trailing octets beyond our payload are rejected too: a reply
    /// returns the data exactly.
    pub fn check_reply(&self, msg: &[u8]) -> Result<(), Mismatch> {
        if msg.len() < HEADER_LEN + PAYLOAD_LEN {
            return Err(Mismatch::Truncated);
        }
        if msg[0] != self.version.reply_type() || msg[1] != 0 {
            return Err(Mismatch::NotReply);
        }
        if u16::from_be_bytes([msg[6], msg[7]]) != self.seq {
            return Err(Mismatch::Sequence);
        }
        if msg[HEADER_LEN..] != self.payload {
            return Err(Mismatch::Payload);
        }
        Ok(())
    }
}

/// A number fixed for the life of the process and unlikely to be shared
/// with another process: a randomly keyed hash of the pid and start time.
fn process_token() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static TOKEN: OnceLock<u64> = OnceLock::new();
    *TOKEN.get_or_init(|| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            h.write_u128(d.as_nanos());
        }
        h.finish()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the peer's kernel sends back: the request with the reply type,
    /// a checksum and the identifier our kernel assigned.
    fn reply_to(echo: &Echo, ident: u16) -> Vec<u8> {
        let mut msg = echo.request();
        msg[0] = echo.version.reply_type();
        msg[2..4].copy_from_slice(&[0xab, 0xcd]);
        msg[4..6].copy_from_slice(&ident.to_be_bytes());
        msg
    }

    #[test]
    fn request_layout() {
        let e = Echo::new(IcmpVersion::V4, 0x0102_0304_0506_0708, 0x1_0002_0003);
        let m = e.request();
        assert_eq!(m.len(), HEADER_LEN + PAYLOAD_LEN);
        assert_eq!(&m[..8], &[8, 0, 0, 0, 0, 0, 0x00, 0x03]);
        assert_eq!(&m[8..16], b"bgpv-rch");
        assert_eq!(&m[16..24], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(&m[24..32], &[0, 0, 0, 1, 0, 2, 0, 3]);
        let v6 = Echo::new(IcmpVersion::V6, 1, 2).request();
        assert_eq!((v6[0], v6[1]), (128, 0));
    }

    #[test]
    fn matching_reply_is_accepted_whatever_the_identifier() {
        for version in [IcmpVersion::V4, IcmpVersion::V6] {
            let e = Echo::new(version, 42, 7);
            assert_eq!(e.check_reply(&reply_to(&e, 0x1234)), Ok(()));
            assert_eq!(e.check_reply(&reply_to(&e, 0)), Ok(()));
        }
    }

    #[test]
    fn other_sequence_is_rejected() {
        let e = Echo::new(IcmpVersion::V4, 42, 7);
        let earlier = Echo::new(IcmpVersion::V4, 42, 6);
        assert_eq!(
            e.check_reply(&reply_to(&earlier, 9)),
            Err(Mismatch::Sequence)
        );
    }

    #[test]
    fn same_sequence_other_payload_is_rejected() {
        // Probe numbers 16 bits apart share a sequence number.
        let e = Echo::new(IcmpVersion::V6, 42, 0x1_0007);
        let wrapped = Echo::new(IcmpVersion::V6, 42, 0x7);
        assert_eq!(e.seq, wrapped.seq);
        assert_eq!(
            e.check_reply(&reply_to(&wrapped, 9)),
            Err(Mismatch::Payload)
        );
        // Another process (other token), same probe number.
        let stranger = Echo::new(IcmpVersion::V6, 43, 0x1_0007);
        assert_eq!(
            e.check_reply(&reply_to(&stranger, 9)),
            Err(Mismatch::Payload)
        );
    }

    #[test]
    fn requests_and_foreign_types_are_rejected() {
        let e = Echo::new(IcmpVersion::V4, 1, 1);
        // Our own request looped back is not a reply.
        assert_eq!(e.check_reply(&e.request()), Err(Mismatch::NotReply));
        // An ICMPv6 reply on an IPv4 socket is not ours.
        let v6 = Echo::new(IcmpVersion::V6, 1, 1);
        assert_eq!(e.check_reply(&reply_to(&v6, 1)), Err(Mismatch::NotReply));
        // Nonzero code.
        let mut r = reply_to(&e, 1);
        r[1] = 1;
        assert_eq!(e.check_reply(&r), Err(Mismatch::NotReply));
    }

    #[test]
    fn short_and_long_messages_are_rejected() {
        let e = Echo::new(IcmpVersion::V4, 1, 1);
        let r = reply_to(&e, 1);
        assert_eq!(e.check_reply(&r[..r.len() - 1]), Err(Mismatch::Truncated));
        assert_eq!(e.check_reply(&r[..4]), Err(Mismatch::Truncated));
        let mut long = r.clone();
        long.push(0);
        assert_eq!(e.check_reply(&long), Err(Mismatch::Payload));
    }

    #[test]
    fn next_numbers_probes_uniquely() {
        let a = Echo::next(IcmpVersion::V4);
        let b = Echo::next(IcmpVersion::V4);
        assert_ne!(a.payload, b.payload);
        assert_eq!(a.payload[8..16], b.payload[8..16], "same process token");
        assert_ne!(a.seq, b.seq);
    }
}
