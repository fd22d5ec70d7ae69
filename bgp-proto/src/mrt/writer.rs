//! Writing MRT: `BGP4MP_ET` records of BGP messages and state changes, as a
//! collector or a BGP speaker logging its sessions would.
//!
//! Records use the 4-octet AS subtypes (`MESSAGE_AS4`, `STATE_CHANGE_AS4`)
//! and the extended timestamp, whose Length includes the microsecond field
//! (RFC 6396 s3). The encoding functions append to a `Vec<u8>` and do no
//! I/O; [`MrtWriter`] puts them on any `std::io::Write`.

use super::record::{RecordHeader, HEADER_LEN, MAX_RECORD_LEN};
use super::{bgp4mp_subtype as b, mrt_type};
use crate::header::HEADER_LEN as BGP_HEADER_LEN;
use std::io::{self, Write};
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

/// When a record was made: seconds since the Unix epoch and microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Timestamp {
    /// Seconds since the Unix epoch.
    pub seconds: u32,
    /// Microseconds within the second, below 1,000,000.
    pub microseconds: u32,
}

impl Timestamp {
    /// A timestamp from its parts.
    pub const fn new(seconds: u32, microseconds: u32) -> Self {
        Self {
            seconds,
            microseconds,
        }
    }

    /// The timestamp of `t`; `None` before 1970 or after 2106, which 32-bit
    /// seconds cannot hold.
    pub fn from_system_time(t: SystemTime) -> Option<Self> {
        let d = t.duration_since(UNIX_EPOCH).ok()?;
        Some(Self {
            seconds: u32::try_from(d.as_secs()).ok()?,
            microseconds: d.subsec_micros(),
        })
    }
}

/// The peering a `BGP4MP` record describes. Both addresses must be of the
/// same family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bgp4mpEndpoints {
    /// The peer's AS number.
    pub peer_as: u32,
    /// The local AS number.
    pub local_as: u32,
    /// Interface index (0 when unknown).
    pub interface_index: u16,
    /// The peer's address.
    pub peer_ip: IpAddr,
    /// The local address.
    pub local_ip: IpAddr,
}

fn invalid(reason: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, reason)
}

/// Appends one `BGP4MP_ET` record of `subtype` whose body is the 4-octet AS
/// peering followed by `tail`.
fn emit_bgp4mp_et(
    out: &mut Vec<u8>,
    ts: Timestamp,
    subtype: u16,
    ep: &Bgp4mpEndpoints,
    tail: &[u8],
) -> io::Result<()> {
    if ts.microseconds >= 1_000_000 {
        return Err(invalid("MRT: microseconds must be below 1,000,000"));
    }
    let (afi, addr_len) = match (ep.peer_ip, ep.local_ip) {
        (IpAddr::V4(_), IpAddr::V4(_)) => (1u16, 4),
        (IpAddr::V6(_), IpAddr::V6(_)) => (2u16, 16),
        _ => return Err(invalid("MRT: peer and local address of different families")),
    };
    // Microseconds, two ASNs, interface index, AFI, two addresses, tail.
    let length = 4 + 4 + 4 + 2 + 2 + 2 * addr_len + tail.len();
    let length = u32::try_from(length)
        .ok()
        .filter(|&l| l <= MAX_RECORD_LEN)
        .ok_or_else(|| invalid("MRT: record longer than the reader accepts"))?;
    out.reserve(HEADER_LEN + length as usize);
    RecordHeader {
        timestamp: ts.seconds,
        mrt_type: mrt_type::BGP4MP_ET,
        subtype,
        length,
    }
    .emit(out);
    out.extend_from_slice(&ts.microseconds.to_be_bytes());
    out.extend_from_slice(&ep.peer_as.to_be_bytes());
    out.extend_from_slice(&ep.local_as.to_be_bytes());
    out.extend_from_slice(&ep.interface_index.to_be_bytes());
    out.extend_from_slice(&afi.to_be_bytes());
    for ip in [ep.peer_ip, ep.local_ip] {
        match ip {
            IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
            IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
        }
    }
    out.extend_from_slice(tail);
    Ok(())
}

/// Appends a `BGP4MP_ET` / `MESSAGE_AS4` record holding `message`, a whole
/// BGP message (marker and header included; at least 19 octets).
pub fn emit_message_as4(
    out: &mut Vec<u8>,
    ts: Timestamp,
    ep: &Bgp4mpEndpoints,
    message: &[u8],
) -> io::Result<()> {
    if message.len() < BGP_HEADER_LEN {
        return Err(invalid("MRT: a BGP message has at least 19 octets"));
    }
    emit_bgp4mp_et(out, ts, b::MESSAGE_AS4, ep, message)
}

/// Appends a `BGP4MP_ET` / `STATE_CHANGE_AS4` record.
pub fn emit_state_change_as4(
    out: &mut Vec<u8>,
    ts: Timestamp,
    ep: &Bgp4mpEndpoints,
    old_state: u16,
    new_state: u16,
) -> io::Result<()> {
    let mut states = [0u8; 4];
    states[..2].copy_from_slice(&old_state.to_be_bytes());
    states[2..].copy_from_slice(&new_state.to_be_bytes());
    emit_bgp4mp_et(out, ts, b::STATE_CHANGE_AS4, ep, &states)
}

/// Writes MRT records to `W`, one `write_all` per record.
#[derive(Debug)]
pub struct MrtWriter<W: Write> {
    inner: W,
    buf: Vec<u8>,
}

impl<W: Write> MrtWriter<W> {
    /// A writer on `inner`. Wrap files in a `BufWriter` (and a compressor if
    /// wanted); the reader detects gzip and bzip2.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            buf: Vec::new(),
        }
    }

    fn write_buf(&mut self) -> io::Result<()> {
        let r = self.inner.write_all(&self.buf);
        self.buf.clear();
        r
    }

    /// Writes a `BGP4MP_ET` / `MESSAGE_AS4` record; see [`emit_message_as4`].
    pub fn write_message(
        &mut self,
        ts: Timestamp,
        ep: &Bgp4mpEndpoints,
        message: &[u8],
    ) -> io::Result<()> {
        self.buf.clear();
        emit_message_as4(&mut self.buf, ts, ep, message)?;
        self.write_buf()
    }

    /// Writes a `BGP4MP_ET` / `STATE_CHANGE_AS4` record.
    pub fn write_state_change(
        &mut self,
        ts: Timestamp,
        ep: &Bgp4mpEndpoints,
        old_state: u16,
        new_state: u16,
    ) -> io::Result<()> {
        self.buf.clear();
        emit_state_change_as4(&mut self.buf, ts, ep, old_state, new_state)?;
        self.write_buf()
    }

    /// Writes any record: the common header, then `data`, which for `_ET`
    /// types must start with the microsecond field. Nothing checks that
    /// `data` suits the type.
    pub fn write_record(
        &mut self,
        timestamp: u32,
        mrt_type: u16,
        subtype: u16,
        data: &[u8],
    ) -> io::Result<()> {
        let length = u32::try_from(data.len())
            .map_err(|_| invalid("MRT: record longer than 2^32 - 1 octets"))?;
        let header = RecordHeader {
            timestamp,
            mrt_type,
            subtype,
            length,
        };
        self.inner.write_all(&header.to_bytes())?;
        self.inner.write_all(data)
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The underlying writer, mutably.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Unwraps the writer (without flushing it).
    pub fn into_inner(self) -> W {
        self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mrt::bgp4mp::tests::KEEPALIVE;
    use crate::mrt::{MrtReader, RecordIter, RecordView};
    use std::time::Duration;

    fn v4() -> Bgp4mpEndpoints {
        Bgp4mpEndpoints {
            peer_as: 4_200_000_001,
            local_as: 12_654,
            interface_index: 3,
            peer_ip: "192.0.2.1".parse().unwrap(),
            local_ip: "193.0.4.28".parse().unwrap(),
        }
    }

    fn v6() -> Bgp4mpEndpoints {
        Bgp4mpEndpoints {
            peer_ip: "2001:db8::1".parse().unwrap(),
            local_ip: "2001:67c:2e8:2:ffff::4:28".parse().unwrap(),
            ..v4()
        }
    }

    #[test]
    fn writes_what_the_reader_reads() {
        let mut update = vec![0xff; 16];
        update.extend_from_slice(&[0, 23, 2, 0, 0, 0, 0]);
        let mut big = vec![0xff; 16];
        big.extend_from_slice(&[0x27, 0x10, 2]);
        big.resize(10_000, 0);
        let mut w = MrtWriter::new(Vec::new());
        w.write_state_change(Timestamp::new(1, 2), &v4(), 1, 6)
            .unwrap();
        w.write_message(Timestamp::new(3, 999_999), &v4(), &KEEPALIVE)
            .unwrap();
        w.write_message(Timestamp::new(4, 0), &v6(), &update)
            .unwrap();
        w.write_message(Timestamp::new(5, 6), &v6(), &big).unwrap();
        w.write_state_change(Timestamp::new(7, 8), &v6(), 6, 1)
            .unwrap();
        w.flush().unwrap();
        let bytes = w.into_inner();

        let check = |recs: Vec<(u32, u32, RecordView<'_>)>| {
            assert_eq!(recs.len(), 5);
            let times: Vec<_> = recs.iter().map(|r| (r.0, r.1)).collect();
            assert_eq!(times, [(1, 2), (3, 999_999), (4, 0), (5, 6), (7, 8)]);
            let msgs: [(usize, &[u8], Bgp4mpEndpoints); 3] =
                [(1, &KEEPALIVE, v4()), (2, &update, v6()), (3, &big, v6())];
            for (i, msg, ep) in msgs {
                let RecordView::Bgp4mpMessage(m) = recs[i].2 else {
                    panic!("record {i} is {:?}", recs[i].2);
                };
                assert_eq!(m.message(), msg);
                assert_eq!((m.peer_as(), m.local_as()), (ep.peer_as, ep.local_as));
                assert_eq!((m.peer_ip(), m.local_ip()), (ep.peer_ip, ep.local_ip));
                assert_eq!((m.interface_index(), m.subtype()), (3, b::MESSAGE_AS4));
                assert!(m.context().four_octet_as);
            }
            for (i, old, new, ep) in [(0, 1, 6, v4()), (4, 6, 1, v6())] {
                let RecordView::Bgp4mpStateChange(s) = recs[i].2 else {
                    panic!("record {i} is {:?}", recs[i].2);
                };
                assert_eq!((s.old_state(), s.new_state()), (old, new));
                assert_eq!((s.peer_ip(), s.local_ip()), (ep.peer_ip, ep.local_ip));
                assert_eq!(s.subtype(), b::STATE_CHANGE_AS4);
            }
        };

        let from_slice: Vec<_> = RecordIter::new(&bytes)
            .map(|r| {
                let r = r.unwrap();
                assert_eq!(r.mrt_type(), mrt_type::BGP4MP_ET);
                (r.timestamp(), r.microseconds().unwrap(), r.view())
            })
            .collect();
        check(from_slice);

        let mut reader = MrtReader::new(&bytes[..]);
        let mut owned = Vec::new();
        while let Some(r) = reader.next_record() {
            let r = r.unwrap();
            // Keep the octets so the views can outlive the reader's buffer.
            owned.push((r.timestamp(), r.microseconds().unwrap(), r.header()));
        }
        assert_eq!(owned.len(), 5);
        assert_eq!(reader.offset(), bytes.len() as u64);
    }

    #[test]
    fn refuses_what_would_not_read_back() {
        let mut out = Vec::new();
        let mixed = Bgp4mpEndpoints {
            local_ip: "2001:db8::9".parse().unwrap(),
            ..v4()
        };
        let ts = Timestamp::new(1, 0);
        assert!(emit_message_as4(&mut out, ts, &mixed, &KEEPALIVE).is_err());
        assert!(emit_state_change_as4(&mut out, ts, &mixed, 1, 2).is_err());
        assert!(emit_message_as4(&mut out, ts, &v4(), &KEEPALIVE[..18]).is_err());
        let late = Timestamp::new(1, 1_000_000);
        assert!(emit_message_as4(&mut out, late, &v4(), &KEEPALIVE).is_err());
        let huge = vec![0u8; MAX_RECORD_LEN as usize];
        assert!(emit_message_as4(&mut out, ts, &v4(), &huge).is_err());
        assert!(out.is_empty());
        let e = MrtWriter::new(Vec::new())
            .write_message(ts, &mixed, &KEEPALIVE)
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn raw_records_and_accessors() {
        let mut w = MrtWriter::new(Vec::new());
        w.write_record(9, 99, 1, b"abc").unwrap();
        assert_eq!(w.get_ref().len(), 15);
        w.get_mut().clear();
        w.write_record(9, mrt_type::BGP4MP_ET, 77, &[0, 0, 0, 5])
            .unwrap();
        let bytes = w.into_inner();
        let r = RecordIter::new(&bytes).next().unwrap().unwrap();
        assert_eq!((r.microseconds(), r.body()), (Some(5), &[][..]));
    }

    #[test]
    fn timestamps_from_system_time() {
        let t = UNIX_EPOCH + Duration::new(1_445_565_660, 123_456_789);
        assert_eq!(
            Timestamp::from_system_time(t),
            Some(Timestamp::new(1_445_565_660, 123_456))
        );
        assert_eq!(
            Timestamp::from_system_time(UNIX_EPOCH - Duration::from_secs(1)),
            None
        );
        let far = UNIX_EPOCH + Duration::from_secs(1 << 33);
        assert_eq!(Timestamp::from_system_time(far), None);
    }
}
