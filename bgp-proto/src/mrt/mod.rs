//! MRT routing information export format (RFC 6396, RFC 8050): reading and
//! writing the record framing, without decoding BGP itself.
//!
//! An MRT file is a sequence of records, each a common header (timestamp,
//! type, subtype, length) followed by a body. This module cuts a stream into
//! records ([`MrtReader`] for any `std::io::Read`, compressed or not;
//! [`RecordIter`] for a decompressed stream already in memory) and offers a
//! borrowed, validated view of each body ([`Record`], [`RecordView`]):
//!
//! * `TABLE_DUMP_V2` (type 13): the [`PeerIndexTable`], AFI/SAFI-specific
//!   RIB records ([`RibRecord`], with the RFC 8050 ADD-PATH variants whose
//!   entries carry a path identifier) and `RIB_GENERIC` kept raw
//!   ([`RibGeneric`]);
//! * the legacy `TABLE_DUMP` (type 12, [`TableDump`]);
//! * `BGP4MP` (type 16) and `BGP4MP_ET` (type 17): BGP messages
//!   ([`Bgp4mpMessage`]) and state changes ([`Bgp4mpStateChange`]).
//!
//! Anything else is a [`RecordView::Unknown`] record, not an error.
//!
//! The MRT layer never decodes a BGP message or a path attribute. It hands
//! out the raw octets together with the [`SessionContext`] they must be
//! decoded with ([`Bgp4mpMessage::context`], [`RibEntry::attribute_context`],
//! [`TableDump::attribute_context`]); the message and attribute decoders of
//! this crate take it from there.
//!
//! Views are validated once when the record is read (`new_checked`); after
//! that no accessor can fail or panic, and iterators over RIB entries and
//! peers walk the borrowed octets lazily.
//!
//! [`MrtWriter`] writes `BGP4MP_ET` records (`MESSAGE_AS4` and
//! `STATE_CHANGE_AS4`) that read back through [`MrtReader`].
//!
//! [`SessionContext`]: crate::SessionContext

pub mod bgp4mp;
pub mod error;
pub mod reader;
pub mod record;
pub mod table_dump;
pub mod table_dump_v2;
pub mod writer;

mod wire;

pub use bgp4mp::{Bgp4mpMessage, Bgp4mpStateChange, BgpState};
pub use error::{Malformed, MrtError, MrtErrorKind};
pub use reader::{
    decompress_file, decompress_reader, Compression, Decompressed, MrtReader, RecordIter,
};
pub use record::{
    Record, RecordHeader, RecordView, UnknownRecord, ET_HEADER_LEN, HEADER_LEN, MAX_RECORD_LEN,
};
pub use table_dump::TableDump;
pub use table_dump_v2::{
    Peer, PeerIndexTable, PeerIter, PeerTable, RibEntry, RibEntryIter, RibGeneric, RibRecord,
};
pub use writer::{Bgp4mpEndpoints, MrtWriter, Timestamp};

/// MRT record types (RFC 6396 s4, IANA "MRT Types").
pub mod mrt_type {
    /// OSPFv2 (RFC 6396 s4.1).
    pub const OSPF_V2: u16 = 11;
    /// Legacy RIB dump (RFC 6396 s4.2).
    pub const TABLE_DUMP: u16 = 12;
    /// RIB dump with a peer index table (RFC 6396 s4.3).
    pub const TABLE_DUMP_V2: u16 = 13;
    /// BGP messages and state changes (RFC 6396 s4.4).
    pub const BGP4MP: u16 = 16;
    /// [`BGP4MP`] with a microsecond timestamp (RFC 6396 s3).
    pub const BGP4MP_ET: u16 = 17;
    /// IS-IS (RFC 6396 s4.5).
    pub const ISIS: u16 = 32;
    /// [`ISIS`] with a microsecond timestamp.
    pub const ISIS_ET: u16 = 33;
    /// OSPFv3 (RFC 6396 s4.6).
    pub const OSPF_V3: u16 = 48;
    /// [`OSPF_V3`] with a microsecond timestamp.
    pub const OSPF_V3_ET: u16 = 49;

    /// Whether records of type `t` carry the 4-octet microsecond field after
    /// the common header (the `_ET` types).
    pub const fn is_extended_timestamp(t: u16) -> bool {
        matches!(t, BGP4MP_ET | ISIS_ET | OSPF_V3_ET)
    }
}

/// `TABLE_DUMP` subtypes (RFC 6396 s4.2): the address family of the prefix
/// and peer address.
pub mod table_dump_subtype {
    /// IPv4 prefix and peer.
    pub const AFI_IPV4: u16 = 1;
    /// IPv6 prefix and peer.
    pub const AFI_IPV6: u16 = 2;
}

/// `TABLE_DUMP_V2` subtypes (RFC 6396 s4.3, RFC 8050 s4).
pub mod table_dump_v2_subtype {
    /// The table of peers RIB entries refer to by index.
    pub const PEER_INDEX_TABLE: u16 = 1;
    /// IPv4 unicast RIB.
    pub const RIB_IPV4_UNICAST: u16 = 2;
    /// IPv4 multicast RIB.
    pub const RIB_IPV4_MULTICAST: u16 = 3;
    /// IPv6 unicast RIB.
    pub const RIB_IPV6_UNICAST: u16 = 4;
    /// IPv6 multicast RIB.
    pub const RIB_IPV6_MULTICAST: u16 = 5;
    /// Any other AFI/SAFI, NLRI encoded as in MP_REACH_NLRI.
    pub const RIB_GENERIC: u16 = 6;
    /// [`RIB_IPV4_UNICAST`] whose entries carry a path identifier.
    pub const RIB_IPV4_UNICAST_ADDPATH: u16 = 8;
    /// [`RIB_IPV4_MULTICAST`] whose entries carry a path identifier.
    pub const RIB_IPV4_MULTICAST_ADDPATH: u16 = 9;
    /// [`RIB_IPV6_UNICAST`] whose entries carry a path identifier.
    pub const RIB_IPV6_UNICAST_ADDPATH: u16 = 10;
    /// [`RIB_IPV6_MULTICAST`] whose entries carry a path identifier.
    pub const RIB_IPV6_MULTICAST_ADDPATH: u16 = 11;
    /// [`RIB_GENERIC`] with path identifiers.
    pub const RIB_GENERIC_ADDPATH: u16 = 12;
}

/// `BGP4MP` and `BGP4MP_ET` subtypes (RFC 6396 s4.4, RFC 8050 s3).
pub mod bgp4mp_subtype {
    /// FSM state change, 2-octet AS numbers.
    pub const STATE_CHANGE: u16 = 0;
    /// BGP message, 2-octet AS numbers.
    pub const MESSAGE: u16 = 1;
    /// BGP message, 4-octet AS numbers.
    pub const MESSAGE_AS4: u16 = 4;
    /// FSM state change, 4-octet AS numbers.
    pub const STATE_CHANGE_AS4: u16 = 5;
    /// Locally generated BGP message, 2-octet AS numbers.
    pub const MESSAGE_LOCAL: u16 = 6;
    /// Locally generated BGP message, 4-octet AS numbers.
    pub const MESSAGE_AS4_LOCAL: u16 = 7;
    /// [`MESSAGE`] on a session with ADD-PATH.
    pub const MESSAGE_ADDPATH: u16 = 8;
    /// [`MESSAGE_AS4`] on a session with ADD-PATH.
    pub const MESSAGE_AS4_ADDPATH: u16 = 9;
    /// [`MESSAGE_LOCAL`] on a session with ADD-PATH.
    pub const MESSAGE_LOCAL_ADDPATH: u16 = 10;
    /// [`MESSAGE_AS4_LOCAL`] on a session with ADD-PATH.
    pub const MESSAGE_AS4_LOCAL_ADDPATH: u16 = 11;
}
