//! The MRT common header (RFC 6396 s2, s3) and the view of one whole record.
//!
//! Every record starts with 12 octets: Timestamp (seconds), Type, Subtype and
//! Length, the octets that follow. The `_ET` types add a 4-octet Microsecond
//! Timestamp right after the header, and their Length *includes* those 4
//! octets (RFC 6396 s3). [`Record::new_checked`] takes the header and the
//! Length octets after it, peels off the microseconds and validates the body
//! against its type and subtype once.

use super::bgp4mp::{Bgp4mpMessage, Bgp4mpStateChange};
use super::error::Malformed;
use super::table_dump::TableDump;
use super::table_dump_v2::{PeerIndexTable, RibGeneric, RibRecord};
use super::{bgp4mp_subtype as b, mrt_type, table_dump_subtype as td, table_dump_v2_subtype as v2};

/// Octets in the common header.
pub const HEADER_LEN: usize = 12;
/// Octets in the common header plus the microsecond field of `_ET` types.
pub const ET_HEADER_LEN: usize = 16;
/// Largest Length field a reader accepts by default: 16 MiB.
///
/// RFC 6396 allows lengths up to 2^32 - 1, but a record that large would be
/// a RIB entry list far beyond anything a collector writes (full-table RIB
/// records with hundreds of peers stay well below 1 MiB, and a BGP message
/// is at most 65,535 octets). A bigger Length is taken as damage and
/// reported as [`RecordTooLong`](super::MrtErrorKind::RecordTooLong) before
/// anything is allocated; readers can raise the cap.
pub const MAX_RECORD_LEN: u32 = 16 * 1024 * 1024;

/// The common header of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordHeader {
    /// Seconds since the Unix epoch.
    pub timestamp: u32,
    /// Record type ([`mrt_type`]).
    pub mrt_type: u16,
    /// Subtype, meaning depends on the type.
    pub subtype: u16,
    /// Octets after the common header, microsecond field included.
    pub length: u32,
}

impl RecordHeader {
    /// Decodes the 12 header octets.
    pub fn from_bytes(b: &[u8; HEADER_LEN]) -> Self {
        Self {
            timestamp: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            mrt_type: u16::from_be_bytes([b[4], b[5]]),
            subtype: u16::from_be_bytes([b[6], b[7]]),
            length: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
        }
    }

    /// Decodes the header at the start of `buf`, if 12 octets are there.
    pub fn parse(buf: &[u8]) -> Option<Self> {
        let head: &[u8; HEADER_LEN] = buf.get(..HEADER_LEN)?.try_into().ok()?;
        Some(Self::from_bytes(head))
    }

    /// The 12 header octets.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[..4].copy_from_slice(&self.timestamp.to_be_bytes());
        out[4..6].copy_from_slice(&self.mrt_type.to_be_bytes());
        out[6..8].copy_from_slice(&self.subtype.to_be_bytes());
        out[8..].copy_from_slice(&self.length.to_be_bytes());
        out
    }

    /// Appends the 12 header octets.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bytes());
    }

    /// Whether the type carries a microsecond field.
    pub fn is_extended_timestamp(&self) -> bool {
        mrt_type::is_extended_timestamp(self.mrt_type)
    }

    /// Octets in the whole record, header included.
    pub fn record_len(&self) -> u64 {
        HEADER_LEN as u64 + u64::from(self.length)
    }
}

/// A record whose type or subtype this module does not interpret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownRecord<'a> {
    /// Record type.
    pub mrt_type: u16,
    /// Subtype.
    pub subtype: u16,
    /// Body, after the microsecond field for `_ET` types.
    pub body: &'a [u8],
}

/// The body of a record, interpreted by type and subtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordView<'a> {
    /// `TABLE_DUMP_V2` / `PEER_INDEX_TABLE`.
    PeerIndexTable(PeerIndexTable<'a>),
    /// `TABLE_DUMP_V2` / `RIB_IPV{4,6}_{UNICAST,MULTICAST}[_ADDPATH]`.
    Rib(RibRecord<'a>),
    /// `TABLE_DUMP_V2` / `RIB_GENERIC[_ADDPATH]`, kept raw.
    RibGeneric(RibGeneric<'a>),
    /// Legacy `TABLE_DUMP`.
    TableDump(TableDump<'a>),
    /// `BGP4MP[_ET]` / `MESSAGE*`.
    Bgp4mpMessage(Bgp4mpMessage<'a>),
    /// `BGP4MP[_ET]` / `STATE_CHANGE[_AS4]`.
    Bgp4mpStateChange(Bgp4mpStateChange),
    /// Any other type or subtype.
    Unknown(UnknownRecord<'a>),
}

/// One whole, validated record borrowing its octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    header: RecordHeader,
    microseconds: Option<u32>,
    body: &'a [u8],
    view: RecordView<'a>,
}

impl<'a> Record<'a> {
    /// Validates a record: `data` holds the `header.length` octets that
    /// follow the common header (for `_ET` types starting with the
    /// microsecond field).
    pub fn new_checked(header: RecordHeader, data: &'a [u8]) -> Result<Self, Malformed> {
        if u64::try_from(data.len()).ok() != Some(u64::from(header.length)) {
            return Err(Malformed("record data does not match the Length field"));
        }
        let (microseconds, body) = if header.is_extended_timestamp() {
            let Some((us, body)) = data.split_first_chunk::<4>() else {
                return Err(Malformed(
                    "_ET record: Length smaller than the microsecond field",
                ));
            };
            (Some(u32::from_be_bytes(*us)), body)
        } else {
            (None, data)
        };
        let view = Self::view_of(header.mrt_type, header.subtype, body)?;
        Ok(Self {
            header,
            microseconds,
            body,
            view,
        })
    }

    /// Validates the record at the start of `buf`; returns it and the number
    /// of octets it spans. `None` when `buf` holds no whole record.
    pub fn parse(buf: &'a [u8]) -> Option<Result<(Self, usize), Malformed>> {
        let header = RecordHeader::parse(buf)?;
        let end = usize::try_from(header.record_len()).ok()?;
        let data = buf.get(HEADER_LEN..end)?;
        Some(Self::new_checked(header, data).map(|r| (r, end)))
    }

    fn view_of(t: u16, sub: u16, body: &'a [u8]) -> Result<RecordView<'a>, Malformed> {
        Ok(match (t, sub) {
            (mrt_type::TABLE_DUMP, td::AFI_IPV4 | td::AFI_IPV6) => {
                RecordView::TableDump(TableDump::new_checked(sub, body)?)
            }
            (mrt_type::TABLE_DUMP_V2, v2::PEER_INDEX_TABLE) => {
                RecordView::PeerIndexTable(PeerIndexTable::new_checked(body)?)
            }
            (
                mrt_type::TABLE_DUMP_V2,
                v2::RIB_IPV4_UNICAST..=v2::RIB_IPV6_MULTICAST
                | v2::RIB_IPV4_UNICAST_ADDPATH..=v2::RIB_IPV6_MULTICAST_ADDPATH,
            ) => RecordView::Rib(RibRecord::new_checked(sub, body)?),
            (mrt_type::TABLE_DUMP_V2, v2::RIB_GENERIC | v2::RIB_GENERIC_ADDPATH) => {
                RecordView::RibGeneric(RibGeneric::new_checked(sub, body)?)
            }
            (mrt_type::BGP4MP | mrt_type::BGP4MP_ET, b::STATE_CHANGE | b::STATE_CHANGE_AS4) => {
                RecordView::Bgp4mpStateChange(Bgp4mpStateChange::new_checked(sub, body)?)
            }
            (
                mrt_type::BGP4MP | mrt_type::BGP4MP_ET,
                b::MESSAGE
                | b::MESSAGE_AS4
                | b::MESSAGE_LOCAL
                | b::MESSAGE_AS4_LOCAL
                | b::MESSAGE_ADDPATH..=b::MESSAGE_AS4_LOCAL_ADDPATH,
            ) => RecordView::Bgp4mpMessage(Bgp4mpMessage::new_checked(sub, body)?),
            _ => RecordView::Unknown(UnknownRecord {
                mrt_type: t,
                subtype: sub,
                body,
            }),
        })
    }

    /// The common header.
    pub fn header(&self) -> RecordHeader {
        self.header
    }

    /// Seconds since the Unix epoch.
    pub fn timestamp(&self) -> u32 {
        self.header.timestamp
    }

    /// The microsecond field of `_ET` types.
    pub fn microseconds(&self) -> Option<u32> {
        self.microseconds
    }

    /// Record type.
    pub fn mrt_type(&self) -> u16 {
        self.header.mrt_type
    }

    /// Subtype.
    pub fn subtype(&self) -> u16 {
        self.header.subtype
    }

    /// The body, after the microsecond field for `_ET` types.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// The body interpreted by type and subtype.
    pub fn view(&self) -> RecordView<'a> {
        self.view
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A whole record: header with the right Length, then `data`.
    pub(crate) fn record(timestamp: u32, t: u16, sub: u16, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        RecordHeader {
            timestamp,
            mrt_type: t,
            subtype: sub,
            length: data.len() as u32,
        }
        .emit(&mut out);
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn header_round_trips() {
        let h = RecordHeader {
            timestamp: 1_400_824_800,
            mrt_type: 13,
            subtype: 2,
            length: 1985,
        };
        assert_eq!(RecordHeader::from_bytes(&h.to_bytes()), h);
        assert_eq!(RecordHeader::parse(&h.to_bytes()[..11]), None);
        assert_eq!(h.record_len(), 1997);
        assert!(!h.is_extended_timestamp());
    }

    #[test]
    fn et_length_includes_microseconds() {
        let r = record(5, mrt_type::BGP4MP_ET, 99, &[0, 0, 0, 42, 7, 8]);
        let (rec, used) = Record::parse(&r).unwrap().unwrap();
        assert_eq!(used, r.len());
        assert_eq!(rec.microseconds(), Some(42));
        assert_eq!(rec.body(), &[7, 8]);
        assert_eq!(
            rec.view(),
            RecordView::Unknown(UnknownRecord {
                mrt_type: 17,
                subtype: 99,
                body: &[7, 8]
            })
        );
        // An _ET record too short for its microsecond field.
        let r = record(5, mrt_type::ISIS_ET, 0, &[0, 0, 1]);
        assert!(Record::parse(&r).unwrap().is_err());
        // Exactly the microsecond field: an empty body.
        let r = record(5, mrt_type::OSPF_V3_ET, 0, &[0, 0, 0, 1]);
        let (rec, _) = Record::parse(&r).unwrap().unwrap();
        assert_eq!((rec.microseconds(), rec.body()), (Some(1), &[][..]));
    }

    #[test]
    fn unknown_types_and_subtypes_are_not_errors() {
        for (t, sub) in [
            (11, 0),
            (12, 3),
            (13, 7),
            (13, 13),
            (16, 2),
            (16, 3),
            (16, 12),
            (99, 1),
        ] {
            let r = record(1, t, sub, b"xyz");
            let (rec, _) = Record::parse(&r).unwrap().unwrap();
            assert_eq!(rec.microseconds(), None);
            assert!(
                matches!(rec.view(), RecordView::Unknown(u) if u.mrt_type == t
                && u.subtype == sub && u.body == b"xyz")
            );
            assert_eq!(
                (rec.mrt_type(), rec.subtype(), rec.timestamp()),
                (t, sub, 1)
            );
        }
    }

    #[test]
    fn incomplete_and_mismatched() {
        let r = record(1, 99, 1, b"xyz");
        for cut in 0..r.len() {
            assert!(Record::parse(&r[..cut]).is_none());
        }
        let h = RecordHeader::parse(&r).unwrap();
        assert!(Record::new_checked(h, b"xy").is_err());
        assert!(Record::new_checked(h, b"xyz").is_ok());
    }
}
