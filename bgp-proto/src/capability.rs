//! Capabilities (RFC 5492): the `<code, length, value>` triples an OPEN
//! message carries in its Capabilities optional parameters.
//!
//! [`check`] validates a run of capabilities once (the value of one
//! Capabilities optional parameter). [`CapabilityIter`] then walks it, handing
//! out [`Capability`] views that borrow the message; the list-valued ones
//! ([`EntryList`], [`GracefulRestart`]) iterate their entries lazily and
//! allocate nothing. Codes this module does not decode stay raw
//! ([`Capability::Unknown`]), as RFC 5492 s4 asks a speaker to ignore
//! capabilities it does not understand. A capability it does decode whose
//! value has the wrong length is malformed; the OPEN decoder turns that into
//! an OPEN Message Error with subcode 0 (RFC 4271 s6.2).
//!
//! [`CapabilityRepr`] is the owned form used to build an OPEN message;
//! `CapabilityRepr::parse` of a view followed by `emit` reproduces the
//! value, except for reserved bits the RFCs tell a receiver to ignore.

use crate::afi::{Afi, Family, Safi};
use crate::header::EncodeError;
use core::fmt;
use core::marker::PhantomData;
use core::slice::ChunksExact;
use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u24, be_u32, be_u8};
use nom::{IResult, Parser};

/// Result of one of the nom parsers below.
type Res<'a, T> = IResult<&'a [u8], T>;

/// A capability code (IANA "Capability Codes" registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CapabilityCode(pub u8);

impl CapabilityCode {
    /// Multiprotocol Extensions for BGP-4 (RFC 4760).
    pub const MULTIPROTOCOL: Self = Self(1);
    /// Route Refresh Capability for BGP-4 (RFC 2918).
    pub const ROUTE_REFRESH: Self = Self(2);
    /// Outbound Route Filtering Capability (RFC 5291); kept raw.
    pub const OUTBOUND_ROUTE_FILTERING: Self = Self(3);
    /// Extended Next Hop Encoding (RFC 8950).
    pub const EXTENDED_NEXT_HOP: Self = Self(5);
    /// BGP Extended Message (RFC 8654).
    pub const EXTENDED_MESSAGE: Self = Self(6);
    /// BGPsec Capability (RFC 8205); kept raw.
    pub const BGPSEC: Self = Self(7);
    /// Multiple Labels Capability (RFC 8277); kept raw.
    pub const MULTIPLE_LABELS: Self = Self(8);
    /// BGP Role (RFC 9234).
    pub const ROLE: Self = Self(9);
    /// Graceful Restart Capability (RFC 4724).
    pub const GRACEFUL_RESTART: Self = Self(64);
    /// Support for 4-octet AS number capability (RFC 6793).
    pub const FOUR_OCTET_AS: Self = Self(65);
    /// Support for Dynamic Capability (draft-ietf-idr-dynamic-cap); kept raw.
    pub const DYNAMIC: Self = Self(67);
    /// Multisession BGP Capability (draft-ietf-idr-bgp-multisession); kept raw.
    pub const MULTISESSION: Self = Self(68);
    /// ADD-PATH Capability (RFC 7911).
    pub const ADD_PATH: Self = Self(69);
    /// Enhanced Route Refresh Capability (RFC 7313).
    pub const ENHANCED_ROUTE_REFRESH: Self = Self(70);
    /// Long-Lived Graceful Restart (LLGR) Capability (RFC 9494).
    pub const LONG_LIVED_GRACEFUL_RESTART: Self = Self(71);
    /// Routing Policy Distribution (draft-ietf-idr-rpd); kept raw.
    pub const ROUTING_POLICY_DISTRIBUTION: Self = Self(72);
    /// FQDN Capability (draft-walton-bgp-hostname-capability).
    pub const FQDN: Self = Self(73);
    /// BFD Capability (draft-ietf-idr-bgp-bfd-strict-mode); kept raw.
    pub const BFD: Self = Self(74);
    /// Software Version Capability (draft-abraitis-bgp-version-capability).
    pub const SOFTWARE_VERSION: Self = Self(75);
    /// PATHS-LIMIT Capability (draft-abraitis-idr-addpath-paths-limit); kept raw.
    pub const PATHS_LIMIT: Self = Self(76);
    /// Prestandard Route Refresh (deprecated, RFC 8810); kept raw.
    pub const PRESTANDARD_ROUTE_REFRESH: Self = Self(128);

    /// The description the IANA registry gives the code.
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "Reserved",
            1 => "Multiprotocol Extensions for BGP-4",
            2 => "Route Refresh Capability for BGP-4",
            3 => "Outbound Route Filtering Capability",
            4 => "Multiple routes to a destination capability (deprecated)",
            5 => "Extended Next Hop Encoding",
            6 => "BGP Extended Message",
            7 => "BGPsec Capability",
            8 => "Multiple Labels Capability",
            9 => "BGP Role",
            64 => "Graceful Restart Capability",
            65 => "Support for 4-octet AS number capability",
            66 => "Deprecated (2003-03-06)",
            67 => "Support for Dynamic Capability (capability specific)",
            68 => "Multisession BGP Capability",
            69 => "ADD-PATH Capability",
            70 => "Enhanced Route Refresh Capability",
            71 => "Long-Lived Graceful Restart (LLGR) Capability",
            72 => "Routing Policy Distribution",
            73 => "FQDN Capability",
            74 => "BFD Capability",
            75 => "Software Version Capability",
            76 => "PATHS-LIMIT Capability",
            128 => "Prestandard Route Refresh (deprecated)",
            129 => "Prestandard Outbound Route Filtering (deprecated), prestandard Routing Policy Distribution (deprecated)",
            130 => "Prestandard Outbound Route Filtering (deprecated)",
            131 => "Prestandard Multisession (deprecated)",
            184 => "Prestandard FQDN (deprecated)",
            185 => "Prestandard OPERATIONAL message (deprecated)",
            239..=254 => "Experimental Use",
            255 => "Reserved",
            _ => "Unassigned",
        }
    }

    /// Whether [`Capability::new_checked`] decodes this code into a typed
    /// view (and so checks its length) rather than keeping it raw.
    pub fn is_decoded(self) -> bool {
        matches!(self.0, 1 | 2 | 5 | 6 | 9 | 64 | 65 | 69 | 70 | 71 | 73 | 75)
    }
}

impl fmt::Display for CapabilityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a run of capabilities is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapabilityError {
    /// The run ends inside a capability's code, length or value.
    Truncated,
    /// A capability this module decodes has a value of the wrong length or
    /// inconsistent inner lengths (RFC 5492 s4, and the capability's RFC).
    Malformed {
        /// The capability's code.
        code: CapabilityCode,
        /// Octets in its value.
        len: usize,
    },
}

impl CapabilityError {
    /// A fixed description for logs and [`crate::Error::reason`].
    pub fn reason(self) -> &'static str {
        match self {
            Self::Truncated => "capability runs past its optional parameter",
            Self::Malformed { code, .. } => match code {
                CapabilityCode::MULTIPROTOCOL => "malformed Multiprotocol capability",
                CapabilityCode::ROUTE_REFRESH => "malformed Route Refresh capability",
                CapabilityCode::EXTENDED_NEXT_HOP => "malformed Extended Next Hop capability",
                CapabilityCode::EXTENDED_MESSAGE => "malformed Extended Message capability",
                CapabilityCode::ROLE => "malformed BGP Role capability",
                CapabilityCode::GRACEFUL_RESTART => "malformed Graceful Restart capability",
                CapabilityCode::FOUR_OCTET_AS => "malformed 4-octet AS capability",
                CapabilityCode::ADD_PATH => "malformed ADD-PATH capability",
                CapabilityCode::ENHANCED_ROUTE_REFRESH => {
                    "malformed Enhanced Route Refresh capability"
                }
                CapabilityCode::LONG_LIVED_GRACEFUL_RESTART => "malformed LLGR capability",
                CapabilityCode::FQDN => "malformed FQDN capability",
                CapabilityCode::SOFTWARE_VERSION => "malformed Software Version capability",
                _ => "malformed capability",
            },
        }
    }
}

impl fmt::Display for CapabilityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str(self.reason()),
            Self::Malformed { code, len } => {
                write!(f, "{} with a value of {len} octets", self.reason())?;
                write!(f, " (code {})", code.0)
            }
        }
    }
}

impl std::error::Error for CapabilityError {}

/// A BGP Role (RFC 9234 s4.1). Values outside the table are kept so the
/// session can answer them with a Role Mismatch (RFC 9234 s4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Role(pub u8);

impl Role {
    /// The sender is a transit provider to the receiver.
    pub const PROVIDER: Role = Role(0);
    /// The sender is a Route Server.
    pub const RS: Role = Role(1);
    /// The sender is a client of a Route Server.
    pub const RS_CLIENT: Role = Role(2);
    /// The sender is a transit customer of the receiver.
    pub const CUSTOMER: Role = Role(3);
    /// The sender is a lateral (settlement-free) peer.
    pub const PEER: Role = Role(4);

    /// The name RFC 9234 gives the role, if the value is assigned.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "Provider",
            1 => "RS",
            2 => "RS-Client",
            3 => "Customer",
            4 => "Peer",
            _ => return None,
        })
    }

    /// The role the other side must announce for the pair to be consistent
    /// (RFC 9234 s4.2, Table 2), if the value is assigned.
    pub fn expected_peer_role(self) -> Option<Role> {
        Some(match self {
            Self::PROVIDER => Self::CUSTOMER,
            Self::CUSTOMER => Self::PROVIDER,
            Self::RS => Self::RS_CLIENT,
            Self::RS_CLIENT => Self::RS,
            Self::PEER => Self::PEER,
            _ => return None,
        })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("provider"),
            1 => f.write_str("rs"),
            2 => f.write_str("rs-client"),
            3 => f.write_str("customer"),
            4 => f.write_str("peer"),
            n => write!(f, "role-{n}"),
        }
    }
}

/// The Send/Receive field of an ADD-PATH entry (RFC 7911 s4). Values other
/// than 1..=3 are kept; RFC 7911 asks the receiver to treat the whole
/// capability as not understood ([`AddPathMode::is_known`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AddPathMode(pub u8);

impl AddPathMode {
    /// The sender can receive multiple paths.
    pub const RECEIVE: AddPathMode = AddPathMode(1);
    /// The sender can send multiple paths.
    pub const SEND: AddPathMode = AddPathMode(2);
    /// Both.
    pub const BOTH: AddPathMode = AddPathMode(3);

    /// Whether the value is one RFC 7911 defines.
    pub fn is_known(self) -> bool {
        matches!(self.0, 1..=3)
    }

    /// Whether the sender can receive multiple paths.
    pub fn receive(self) -> bool {
        self == Self::RECEIVE || self == Self::BOTH
    }

    /// Whether the sender can send multiple paths.
    pub fn send(self) -> bool {
        self == Self::SEND || self == Self::BOTH
    }
}

impl fmt::Display for AddPathMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("receive"),
            2 => f.write_str("send"),
            3 => f.write_str("both"),
            n => write!(f, "send-receive-{n}"),
        }
    }
}

/// Keeps [`FixedEntry`] to the entry types of this module, whose lengths
/// are known not to be zero.
mod sealed {
    /// Implemented by the entry types of this module only.
    pub trait Sealed {}
}

impl sealed::Sealed for ExtendedNextHopEntry {}
impl sealed::Sealed for GracefulRestartFamily {}
impl sealed::Sealed for AddPathFamily {}
impl sealed::Sealed for LlgrFamily {}

/// A fixed-size entry of a list-valued capability (sealed: implemented by
/// the entry types of this module only).
pub trait FixedEntry: sealed::Sealed + Sized + Copy {
    /// Octets per entry on the wire (never zero).
    const LEN: usize;
    /// Decodes one entry from exactly [`Self::LEN`] octets; `None` otherwise.
    fn decode(octets: &[u8]) -> Option<Self>;
    /// Appends the entry's [`Self::LEN`] octets; fails if a field exceeds
    /// its width on the wire.
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError>;
}

/// AFI (2 octets) and SAFI (1 octet), the layout every family entry shares.
fn family(input: &[u8]) -> Res<'_, Family> {
    let (input, afi) = be_u16(input)?;
    let (input, safi) = be_u8(input)?;
    Ok((input, Family::new(Afi(afi), Safi(safi))))
}

fn put_family(family: Family, out: &mut Vec<u8>) {
    out.extend_from_slice(&family.afi.0.to_be_bytes());
    out.push(family.safi.0);
}

/// One entry of the Extended Next Hop Encoding capability (RFC 8950 s3):
/// NLRI of `nlri_afi`/`nlri_safi` may carry a next hop of `nexthop_afi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ExtendedNextHopEntry {
    /// NLRI AFI.
    pub nlri_afi: Afi,
    /// NLRI SAFI; two octets in this capability.
    pub nlri_safi: u16,
    /// Nexthop AFI.
    pub nexthop_afi: Afi,
}

impl ExtendedNextHopEntry {
    /// The NLRI family, if the SAFI fits the usual one octet.
    pub fn family(&self) -> Option<Family> {
        let safi = u8::try_from(self.nlri_safi).ok()?;
        Some(Family::new(self.nlri_afi, Safi(safi)))
    }
}

fn extended_next_hop_entry(input: &[u8]) -> Res<'_, ExtendedNextHopEntry> {
    let (input, nlri_afi) = be_u16(input)?;
    let (input, nlri_safi) = be_u16(input)?;
    let (input, nexthop_afi) = be_u16(input)?;
    let entry = ExtendedNextHopEntry {
        nlri_afi: Afi(nlri_afi),
        nlri_safi,
        nexthop_afi: Afi(nexthop_afi),
    };
    Ok((input, entry))
}

impl FixedEntry for ExtendedNextHopEntry {
    const LEN: usize = 6;

    fn decode(octets: &[u8]) -> Option<Self> {
        exact(octets, Self::LEN, extended_next_hop_entry)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.nlri_afi.0.to_be_bytes());
        out.extend_from_slice(&self.nlri_safi.to_be_bytes());
        out.extend_from_slice(&self.nexthop_afi.0.to_be_bytes());
        Ok(())
    }
}

/// Writes an AFI as `ipv4`, `ipv6` or `afiN`.
fn write_afi(f: &mut fmt::Formatter<'_>, afi: Afi) -> fmt::Result {
    match afi {
        Afi::IPV4 => f.write_str("ipv4"),
        Afi::IPV6 => f.write_str("ipv6"),
        Afi(n) => write!(f, "afi{n}"),
    }
}

impl fmt::Display for ExtendedNextHopEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.family() {
            Some(family) => write!(f, "{family}")?,
            None => {
                write_afi(f, self.nlri_afi)?;
                write!(f, "/safi{}", self.nlri_safi)?;
            }
        }
        f.write_str(" nexthop ")?;
        write_afi(f, self.nexthop_afi)
    }
}

/// One family of the Graceful Restart capability (RFC 4724 s3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GracefulRestartFamily {
    /// The address family.
    pub family: Family,
    /// Forwarding State bit (F, 0x80): forwarding was preserved across the
    /// restart. The other flag bits are reserved and ignored on receipt.
    pub forwarding_state: bool,
}

/// The F bit in the per-family flags of Graceful Restart and LLGR.
const FORWARDING_STATE: u8 = 0x80;

fn graceful_restart_entry(input: &[u8]) -> Res<'_, GracefulRestartFamily> {
    let (input, family) = family(input)?;
    let (input, flags) = be_u8(input)?;
    let entry = GracefulRestartFamily {
        family,
        forwarding_state: flags & FORWARDING_STATE != 0,
    };
    Ok((input, entry))
}

impl FixedEntry for GracefulRestartFamily {
    const LEN: usize = 4;

    fn decode(octets: &[u8]) -> Option<Self> {
        exact(octets, Self::LEN, graceful_restart_entry)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_family(self.family, out);
        out.push(if self.forwarding_state {
            FORWARDING_STATE
        } else {
            0
        });
        Ok(())
    }
}

impl fmt::Display for GracefulRestartFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.family)?;
        if self.forwarding_state {
            f.write_str(" forwarding")?;
        }
        Ok(())
    }
}

/// One entry of the ADD-PATH capability (RFC 7911 s4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AddPathFamily {
    /// The address family.
    pub family: Family,
    /// Send/Receive.
    pub mode: AddPathMode,
}

fn add_path_entry(input: &[u8]) -> Res<'_, AddPathFamily> {
    let (input, family) = family(input)?;
    let (input, mode) = be_u8(input)?;
    let entry = AddPathFamily {
        family,
        mode: AddPathMode(mode),
    };
    Ok((input, entry))
}

impl FixedEntry for AddPathFamily {
    const LEN: usize = 4;

    fn decode(octets: &[u8]) -> Option<Self> {
        exact(octets, Self::LEN, add_path_entry)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_family(self.family, out);
        out.push(self.mode.0);
        Ok(())
    }
}

impl fmt::Display for AddPathFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.family, self.mode)
    }
}

/// One family of the Long-Lived Graceful Restart capability (RFC 9494 s3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LlgrFamily {
    /// The address family.
    pub family: Family,
    /// Forwarding State bit (F, 0x80); other flag bits are reserved and
    /// ignored on receipt.
    pub forwarding_state: bool,
    /// Long-lived Stale Time in seconds; 24 bits on the wire.
    pub stale_time: u32,
}

/// Largest Long-lived Stale Time (24 bits).
pub const MAX_LLGR_STALE_TIME: u32 = 0x00ff_ffff;

fn llgr_entry(input: &[u8]) -> Res<'_, LlgrFamily> {
    let (input, family) = family(input)?;
    let (input, flags) = be_u8(input)?;
    let (input, stale_time) = be_u24(input)?;
    let entry = LlgrFamily {
        family,
        forwarding_state: flags & FORWARDING_STATE != 0,
        stale_time,
    };
    Ok((input, entry))
}

impl FixedEntry for LlgrFamily {
    const LEN: usize = 7;

    fn decode(octets: &[u8]) -> Option<Self> {
        exact(octets, Self::LEN, llgr_entry)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if self.stale_time > MAX_LLGR_STALE_TIME {
            return Err(EncodeError::FieldTooLong("LLGR stale time"));
        }
        put_family(self.family, out);
        out.push(if self.forwarding_state {
            FORWARDING_STATE
        } else {
            0
        });
        let [_, a, b, c] = self.stale_time.to_be_bytes();
        out.extend_from_slice(&[a, b, c]);
        Ok(())
    }
}

impl fmt::Display for LlgrFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} stale-time {}", self.family, self.stale_time)?;
        if self.forwarding_state {
            f.write_str(" forwarding")?;
        }
        Ok(())
    }
}

/// Runs `parser` on `octets`, which must be exactly `len` long and consumed.
fn exact<'a, T>(octets: &'a [u8], len: usize, parser: fn(&'a [u8]) -> Res<'a, T>) -> Option<T> {
    if octets.len() != len {
        return None;
    }
    whole(octets, parser)
}

/// A validated list of fixed-size entries (the value of an ADD-PATH,
/// Extended Next Hop or LLGR capability, or the tail of Graceful Restart).
pub struct EntryList<'a, T> {
    octets: &'a [u8],
    entry: PhantomData<T>,
}

impl<'a, T: FixedEntry> EntryList<'a, T> {
    /// A list over `octets`, if their length is a whole number of entries.
    pub fn new_checked(octets: &'a [u8]) -> Option<Self> {
        let whole_entries = octets.chunks_exact(T::LEN).remainder().is_empty();
        whole_entries.then_some(Self {
            octets,
            entry: PhantomData,
        })
    }

    /// The entries, decoded lazily.
    pub fn iter(&self) -> Entries<'a, T> {
        Entries {
            chunks: self.octets.chunks_exact(T::LEN),
            entry: PhantomData,
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.iter().len()
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.octets.is_empty()
    }

    /// The octets of the list as on the wire.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.octets
    }
}

impl<T> Clone for EntryList<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for EntryList<'_, T> {}

impl<T> PartialEq for EntryList<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.octets == other.octets
    }
}

impl<T> Eq for EntryList<'_, T> {}

impl<T: FixedEntry + fmt::Debug> fmt::Debug for EntryList<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, T: FixedEntry> IntoIterator for EntryList<'a, T> {
    type Item = T;
    type IntoIter = Entries<'a, T>;

    fn into_iter(self) -> Entries<'a, T> {
        self.iter()
    }
}

/// Writes the entries of a list separated by `, `.
fn write_entries<T: FixedEntry + fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    entries: Entries<'_, T>,
) -> fmt::Result {
    for (i, entry) in entries.enumerate() {
        f.write_str(if i == 0 { " " } else { ", " })?;
        write!(f, "{entry}")?;
    }
    Ok(())
}

/// Iterator over the entries of an [`EntryList`]. It cannot fail: the list
/// was checked to hold whole entries.
pub struct Entries<'a, T> {
    chunks: ChunksExact<'a, u8>,
    entry: PhantomData<T>,
}

impl<T> Clone for Entries<'_, T> {
    fn clone(&self) -> Self {
        Self {
            chunks: self.chunks.clone(),
            entry: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Entries<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entries")
            .field("remaining", &self.chunks.len())
            .finish()
    }
}

impl<T: FixedEntry> Iterator for Entries<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        T::decode(self.chunks.next()?)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chunks.size_hint()
    }
}

impl<T: FixedEntry> ExactSizeIterator for Entries<'_, T> {}

/// The Graceful Restart capability (RFC 4724 s3, with the N bit of RFC 8538
/// s2): restart flags, restart time and the families whose state is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GracefulRestart<'a> {
    flags_time: u16,
    families: EntryList<'a, GracefulRestartFamily>,
}

/// Restart State bit (R) of the Graceful Restart capability.
const RESTART_STATE: u16 = 0x8000;
/// Graceful Notification bit (N) of RFC 8538.
const NOTIFICATION: u16 = 0x4000;
/// Largest Restart Time (12 bits).
pub const MAX_RESTART_TIME: u16 = 0x0fff;

impl<'a> GracefulRestart<'a> {
    /// Restart State (R): the sender has restarted.
    pub fn restart_state(&self) -> bool {
        self.flags_time & RESTART_STATE != 0
    }

    /// Graceful Notification (N, RFC 8538): the sender supports graceful
    /// restart after a NOTIFICATION.
    pub fn notification(&self) -> bool {
        self.flags_time & NOTIFICATION != 0
    }

    /// All four Restart Flags bits, reserved ones included.
    pub fn restart_flags(&self) -> u8 {
        let [high, _] = self.flags_time.to_be_bytes();
        high >> 4
    }

    /// Restart Time in seconds (12 bits).
    pub fn restart_time(&self) -> u16 {
        self.flags_time & MAX_RESTART_TIME
    }

    /// The families whose forwarding state the sender preserves.
    pub fn families(&self) -> Entries<'a, GracefulRestartFamily> {
        self.families.iter()
    }
}

impl fmt::Display for GracefulRestart<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "graceful-restart time {}", self.restart_time())?;
        if self.restart_state() {
            f.write_str(" restarting")?;
        }
        if self.notification() {
            f.write_str(" notification")?;
        }
        write_entries(f, self.families())
    }
}

/// The FQDN capability (draft-walton-bgp-hostname-capability s3): host and
/// domain name, each preceded by a one-octet length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fqdn<'a> {
    hostname: &'a [u8],
    domain: &'a [u8],
}

impl<'a> Fqdn<'a> {
    /// The host name as sent.
    pub fn hostname(&self) -> &'a [u8] {
        self.hostname
    }

    /// The domain name as sent (often empty).
    pub fn domain(&self) -> &'a [u8] {
        self.domain
    }

    /// The host name, if it is UTF-8.
    pub fn hostname_str(&self) -> Option<&'a str> {
        core::str::from_utf8(self.hostname).ok()
    }

    /// The domain name, if it is UTF-8.
    pub fn domain_str(&self) -> Option<&'a str> {
        core::str::from_utf8(self.domain).ok()
    }
}

impl fmt::Display for Fqdn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fqdn {}", Text(self.hostname))?;
        if !self.domain.is_empty() {
            write!(f, " domain {}", Text(self.domain))?;
        }
        Ok(())
    }
}

/// The Software Version capability
/// (draft-abraitis-bgp-version-capability s3): a one-octet length and a
/// UTF-8 text such as `FRRouting/10.2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoftwareVersion<'a>(&'a [u8]);

impl<'a> SoftwareVersion<'a> {
    /// The text as sent.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The text, if it is UTF-8 as the draft requires.
    pub fn as_str(&self) -> Option<&'a str> {
        core::str::from_utf8(self.0).ok()
    }
}

impl fmt::Display for SoftwareVersion<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "software-version {}", Text(self.0))
    }
}

/// Displays peer-supplied text: UTF-8 as is, control characters and invalid
/// octets escaped, so it cannot disturb a terminal.
struct Text<'a>(&'a [u8]);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                if c.is_control() {
                    write!(f, "{}", c.escape_default())?;
                } else {
                    write!(f, "{c}")?;
                }
            }
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

/// Displays octets as lowercase hex.
struct Hex<'a>(&'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// One capability, decoded into a view that borrows the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability<'a> {
    /// Multiprotocol Extensions (code 1, RFC 4760 s8): one family the
    /// sender can exchange. Value: AFI (2), reserved (1, ignored), SAFI (1).
    Multiprotocol(Family),
    /// Route Refresh (code 2, RFC 2918 s3); empty value.
    RouteRefresh,
    /// Extended Next Hop Encoding (code 5, RFC 8950 s3).
    ExtendedNextHop(EntryList<'a, ExtendedNextHopEntry>),
    /// BGP Extended Message (code 6, RFC 8654 s3); empty value.
    ExtendedMessage,
    /// BGP Role (code 9, RFC 9234 s4.1); one octet.
    Role(Role),
    /// Graceful Restart (code 64, RFC 4724 s3, RFC 8538 s2).
    GracefulRestart(GracefulRestart<'a>),
    /// Support for 4-octet AS numbers (code 65, RFC 6793 s3): the sender's
    /// AS number.
    FourOctetAs(u32),
    /// ADD-PATH (code 69, RFC 7911 s4).
    AddPath(EntryList<'a, AddPathFamily>),
    /// Enhanced Route Refresh (code 70, RFC 7313 s3.1); empty value.
    EnhancedRouteRefresh,
    /// Long-Lived Graceful Restart (code 71, RFC 9494 s3).
    LongLivedGracefulRestart(EntryList<'a, LlgrFamily>),
    /// FQDN (code 73, draft-walton-bgp-hostname-capability).
    Fqdn(Fqdn<'a>),
    /// Software Version (code 75, draft-abraitis-bgp-version-capability).
    SoftwareVersion(SoftwareVersion<'a>),
    /// A capability this module does not decode, kept as sent.
    Unknown {
        /// Capability Code.
        code: CapabilityCode,
        /// Capability Value.
        value: &'a [u8],
    },
}

/// Parses the FQDN value: length, host name, length, domain name.
fn fqdn(input: &[u8]) -> Res<'_, Fqdn<'_>> {
    let (input, host_len) = be_u8(input)?;
    let (input, hostname) = take(usize::from(host_len)).parse(input)?;
    let (input, domain_len) = be_u8(input)?;
    let (input, domain) = take(usize::from(domain_len)).parse(input)?;
    Ok((input, Fqdn { hostname, domain }))
}

/// Parses the Software Version value: length, text.
fn software_version(input: &[u8]) -> Res<'_, SoftwareVersion<'_>> {
    let (input, len) = be_u8(input)?;
    let (input, text) = take(usize::from(len)).parse(input)?;
    Ok((input, SoftwareVersion(text)))
}

/// Parses the Multiprotocol value: AFI, reserved, SAFI.
fn multiprotocol(input: &[u8]) -> Res<'_, Family> {
    let (input, afi) = be_u16(input)?;
    let (input, _reserved) = be_u8(input)?;
    let (input, safi) = be_u8(input)?;
    Ok((input, Family::new(Afi(afi), Safi(safi))))
}

/// Parses the Graceful Restart value: flags and time, then families.
fn graceful_restart(input: &[u8]) -> Res<'_, GracefulRestart<'_>> {
    let (rest, flags_time) = be_u16(input)?;
    let Some(families) = EntryList::new_checked(rest) else {
        return Err(nom::Err::Error(nom::error::Error::new(
            rest,
            nom::error::ErrorKind::LengthValue,
        )));
    };
    Ok((
        &[],
        GracefulRestart {
            flags_time,
            families,
        },
    ))
}

/// Parses a 4-octet AS value.
fn four_octet_as(input: &[u8]) -> Res<'_, u32> {
    be_u32(input)
}

/// Parses a one-octet Role value.
fn role(input: &[u8]) -> Res<'_, Role> {
    let (input, value) = be_u8(input)?;
    Ok((input, Role(value)))
}

impl<'a> Capability<'a> {
    /// Decodes one capability from its code and value, checking that the
    /// value has the length the capability's specification gives it.
    pub fn new_checked(code: u8, value: &'a [u8]) -> Result<Self, CapabilityError> {
        let code = CapabilityCode(code);
        let malformed = CapabilityError::Malformed {
            code,
            len: value.len(),
        };
        let empty = |cap: Self| {
            if value.is_empty() {
                Ok(cap)
            } else {
                Err(malformed)
            }
        };
        match code {
            CapabilityCode::MULTIPROTOCOL => whole(value, multiprotocol)
                .map(Self::Multiprotocol)
                .ok_or(malformed),
            CapabilityCode::ROUTE_REFRESH => empty(Self::RouteRefresh),
            CapabilityCode::EXTENDED_NEXT_HOP => EntryList::new_checked(value)
                .map(Self::ExtendedNextHop)
                .ok_or(malformed),
            CapabilityCode::EXTENDED_MESSAGE => empty(Self::ExtendedMessage),
            CapabilityCode::ROLE => whole(value, role).map(Self::Role).ok_or(malformed),
            CapabilityCode::GRACEFUL_RESTART => whole(value, graceful_restart)
                .map(Self::GracefulRestart)
                .ok_or(malformed),
            CapabilityCode::FOUR_OCTET_AS => whole(value, four_octet_as)
                .map(Self::FourOctetAs)
                .ok_or(malformed),
            CapabilityCode::ADD_PATH => EntryList::new_checked(value)
                .map(Self::AddPath)
                .ok_or(malformed),
            CapabilityCode::ENHANCED_ROUTE_REFRESH => empty(Self::EnhancedRouteRefresh),
            CapabilityCode::LONG_LIVED_GRACEFUL_RESTART => EntryList::new_checked(value)
                .map(Self::LongLivedGracefulRestart)
                .ok_or(malformed),
            CapabilityCode::FQDN => whole(value, fqdn).map(Self::Fqdn).ok_or(malformed),
            CapabilityCode::SOFTWARE_VERSION => whole(value, software_version)
                .map(Self::SoftwareVersion)
                .ok_or(malformed),
            _ => Ok(Self::Unknown { code, value }),
        }
    }

    /// The Capability Code.
    pub fn code(&self) -> CapabilityCode {
        match self {
            Self::Multiprotocol(_) => CapabilityCode::MULTIPROTOCOL,
            Self::RouteRefresh => CapabilityCode::ROUTE_REFRESH,
            Self::ExtendedNextHop(_) => CapabilityCode::EXTENDED_NEXT_HOP,
            Self::ExtendedMessage => CapabilityCode::EXTENDED_MESSAGE,
            Self::Role(_) => CapabilityCode::ROLE,
            Self::GracefulRestart(_) => CapabilityCode::GRACEFUL_RESTART,
            Self::FourOctetAs(_) => CapabilityCode::FOUR_OCTET_AS,
            Self::AddPath(_) => CapabilityCode::ADD_PATH,
            Self::EnhancedRouteRefresh => CapabilityCode::ENHANCED_ROUTE_REFRESH,
            Self::LongLivedGracefulRestart(_) => CapabilityCode::LONG_LIVED_GRACEFUL_RESTART,
            Self::Fqdn(_) => CapabilityCode::FQDN,
            Self::SoftwareVersion(_) => CapabilityCode::SOFTWARE_VERSION,
            Self::Unknown { code, .. } => *code,
        }
    }

    /// The IANA name of the capability's code.
    pub fn name(&self) -> &'static str {
        self.code().name()
    }
}

/// Runs `parser` over a whole capability value; `None` unless it consumes
/// every octet.
fn whole<'a, T>(value: &'a [u8], parser: fn(&'a [u8]) -> Res<'a, T>) -> Option<T> {
    match parser(value) {
        Ok(([], parsed)) => Some(parsed),
        _ => None,
    }
}

impl fmt::Display for Capability<'_> {
    /// One line in the style of router CLIs, e.g.
    /// `add-path ipv4-unicast receive` or `multiprotocol ipv6-unicast`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Multiprotocol(family) => write!(f, "multiprotocol {family}"),
            Self::RouteRefresh => f.write_str("route-refresh"),
            Self::ExtendedNextHop(list) => {
                f.write_str("extended-nexthop")?;
                write_entries(f, list.iter())
            }
            Self::ExtendedMessage => f.write_str("extended-message"),
            Self::Role(role) => write!(f, "role {role}"),
            Self::GracefulRestart(gr) => write!(f, "{gr}"),
            Self::FourOctetAs(asn) => write!(f, "four-octet-as {asn}"),
            Self::AddPath(list) => {
                f.write_str("add-path")?;
                write_entries(f, list.iter())
            }
            Self::EnhancedRouteRefresh => f.write_str("enhanced-route-refresh"),
            Self::LongLivedGracefulRestart(list) => {
                f.write_str("llgr")?;
                write_entries(f, list.iter())
            }
            Self::Fqdn(fqdn) => write!(f, "{fqdn}"),
            Self::SoftwareVersion(version) => write!(f, "{version}"),
            Self::Unknown { code, value } => {
                write!(f, "capability {} ({code})", code.0)?;
                if !value.is_empty() {
                    write!(f, " {}", Hex(value))?;
                }
                Ok(())
            }
        }
    }
}

/// Parses one `<code, length, value>` triple.
fn triple(input: &[u8]) -> Res<'_, (u8, &[u8])> {
    let (input, code) = be_u8(input)?;
    let (input, len) = be_u8(input)?;
    let (input, value) = take(usize::from(len)).parse(input)?;
    Ok((input, (code, value)))
}

/// Validates a run of capabilities (the value of a Capabilities optional
/// parameter, RFC 5492 s4); returns how many it holds. An empty run is
/// accepted although RFC 5492 expects at least one capability: it is
/// harmless and some speakers send it.
pub fn check(mut buf: &[u8]) -> Result<usize, CapabilityError> {
    let mut n = 0;
    while !buf.is_empty() {
        let Ok((rest, (code, value))) = triple(buf) else {
            return Err(CapabilityError::Truncated);
        };
        Capability::new_checked(code, value)?;
        buf = rest;
        n += 1;
    }
    Ok(n)
}

/// Iterator over a run of capabilities that [`check`] accepted. On unchecked
/// input it stops at the first malformed capability.
#[derive(Debug, Clone)]
pub struct CapabilityIter<'a> {
    buf: &'a [u8],
}

impl<'a> CapabilityIter<'a> {
    /// An iterator over `buf`, a run of capabilities.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// An iterator over nothing.
    pub fn empty() -> Self {
        Self { buf: &[] }
    }

    /// The undecoded octets left.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }
}

impl<'a> Iterator for CapabilityIter<'a> {
    type Item = Capability<'a>;

    fn next(&mut self) -> Option<Capability<'a>> {
        if self.buf.is_empty() {
            return None;
        }
        let parsed = triple(self.buf).ok().and_then(|(rest, (code, value))| {
            Some((rest, Capability::new_checked(code, value).ok()?))
        });
        match parsed {
            Some((rest, cap)) => {
                self.buf = rest;
                Some(cap)
            }
            None => {
                self.buf = &[];
                None
            }
        }
    }
}

/// The owned form of a Graceful Restart capability (RFC 4724 s3, RFC 8538).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GracefulRestartRepr {
    /// Restart State (R).
    pub restart_state: bool,
    /// Graceful Notification (N, RFC 8538).
    pub notification: bool,
    /// Restart Time in seconds; at most [`MAX_RESTART_TIME`].
    pub restart_time: u16,
    /// Families whose forwarding state is preserved.
    pub families: Vec<GracefulRestartFamily>,
}

/// An owned capability, for building OPEN messages.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum CapabilityRepr {
    /// Multiprotocol Extensions (RFC 4760).
    Multiprotocol(Family),
    /// Route Refresh (RFC 2918).
    RouteRefresh,
    /// Extended Next Hop Encoding (RFC 8950).
    ExtendedNextHop(Vec<ExtendedNextHopEntry>),
    /// BGP Extended Message (RFC 8654).
    ExtendedMessage,
    /// BGP Role (RFC 9234).
    Role(Role),
    /// Graceful Restart (RFC 4724, RFC 8538).
    GracefulRestart(GracefulRestartRepr),
    /// Support for 4-octet AS numbers (RFC 6793).
    FourOctetAs(u32),
    /// ADD-PATH (RFC 7911).
    AddPath(Vec<AddPathFamily>),
    /// Enhanced Route Refresh (RFC 7313).
    EnhancedRouteRefresh,
    /// Long-Lived Graceful Restart (RFC 9494).
    LongLivedGracefulRestart(Vec<LlgrFamily>),
    /// FQDN (draft-walton-bgp-hostname-capability).
    Fqdn {
        /// Host name octets.
        hostname: Vec<u8>,
        /// Domain name octets.
        domain: Vec<u8>,
    },
    /// Software Version (draft-abraitis-bgp-version-capability); UTF-8 text
    /// octets as sent.
    SoftwareVersion(Vec<u8>),
    /// Any other capability, value as is. Its code should be one this module
    /// does not decode ([`CapabilityCode::is_decoded`]); with a decoded code
    /// the value must be valid for it, or the OPEN will not parse back.
    Unknown {
        /// Capability Code.
        code: CapabilityCode,
        /// Capability Value.
        value: Vec<u8>,
    },
}

/// Largest Capability Value (one-octet Capability Length).
pub const MAX_VALUE_LEN: usize = 255;

impl CapabilityRepr {
    /// The owned form of a view. Reserved bits the RFCs tell a receiver to
    /// ignore (Multiprotocol reserved octet, Graceful Restart and LLGR
    /// reserved flags) are dropped.
    pub fn parse(cap: &Capability<'_>) -> Self {
        match *cap {
            Capability::Multiprotocol(family) => Self::Multiprotocol(family),
            Capability::RouteRefresh => Self::RouteRefresh,
            Capability::ExtendedNextHop(list) => Self::ExtendedNextHop(list.iter().collect()),
            Capability::ExtendedMessage => Self::ExtendedMessage,
            Capability::Role(role) => Self::Role(role),
            Capability::GracefulRestart(gr) => Self::GracefulRestart(GracefulRestartRepr {
                restart_state: gr.restart_state(),
                notification: gr.notification(),
                restart_time: gr.restart_time(),
                families: gr.families().collect(),
            }),
            Capability::FourOctetAs(asn) => Self::FourOctetAs(asn),
            Capability::AddPath(list) => Self::AddPath(list.iter().collect()),
            Capability::EnhancedRouteRefresh => Self::EnhancedRouteRefresh,
            Capability::LongLivedGracefulRestart(list) => {
                Self::LongLivedGracefulRestart(list.iter().collect())
            }
            Capability::Fqdn(fqdn) => Self::Fqdn {
                hostname: fqdn.hostname.to_vec(),
                domain: fqdn.domain.to_vec(),
            },
            Capability::SoftwareVersion(version) => Self::SoftwareVersion(version.0.to_vec()),
            Capability::Unknown { code, value } => Self::Unknown {
                code,
                value: value.to_vec(),
            },
        }
    }

    /// An FQDN capability from text.
    pub fn fqdn(hostname: &str, domain: &str) -> Self {
        Self::Fqdn {
            hostname: hostname.as_bytes().to_vec(),
            domain: domain.as_bytes().to_vec(),
        }
    }

    /// A Software Version capability from text.
    pub fn software_version(version: &str) -> Self {
        Self::SoftwareVersion(version.as_bytes().to_vec())
    }

    /// The Capability Code.
    pub fn code(&self) -> CapabilityCode {
        match self {
            Self::Multiprotocol(_) => CapabilityCode::MULTIPROTOCOL,
            Self::RouteRefresh => CapabilityCode::ROUTE_REFRESH,
            Self::ExtendedNextHop(_) => CapabilityCode::EXTENDED_NEXT_HOP,
            Self::ExtendedMessage => CapabilityCode::EXTENDED_MESSAGE,
            Self::Role(_) => CapabilityCode::ROLE,
            Self::GracefulRestart(_) => CapabilityCode::GRACEFUL_RESTART,
            Self::FourOctetAs(_) => CapabilityCode::FOUR_OCTET_AS,
            Self::AddPath(_) => CapabilityCode::ADD_PATH,
            Self::EnhancedRouteRefresh => CapabilityCode::ENHANCED_ROUTE_REFRESH,
            Self::LongLivedGracefulRestart(_) => CapabilityCode::LONG_LIVED_GRACEFUL_RESTART,
            Self::Fqdn { .. } => CapabilityCode::FQDN,
            Self::SoftwareVersion(_) => CapabilityCode::SOFTWARE_VERSION,
            Self::Unknown { code, .. } => *code,
        }
    }

    /// The IANA name of the capability's code.
    pub fn name(&self) -> &'static str {
        self.code().name()
    }

    /// Octets in the Capability Value [`emit`](Self::emit) writes (it fails
    /// when this exceeds [`MAX_VALUE_LEN`]).
    pub fn value_len(&self) -> usize {
        match self {
            Self::RouteRefresh | Self::ExtendedMessage | Self::EnhancedRouteRefresh => 0,
            Self::Role(_) => 1,
            Self::Multiprotocol(_) | Self::FourOctetAs(_) => 4,
            Self::ExtendedNextHop(v) => v.len().saturating_mul(ExtendedNextHopEntry::LEN),
            Self::GracefulRestart(gr) => gr
                .families
                .len()
                .saturating_mul(GracefulRestartFamily::LEN)
                .saturating_add(2),
            Self::AddPath(v) => v.len().saturating_mul(AddPathFamily::LEN),
            Self::LongLivedGracefulRestart(v) => v.len().saturating_mul(LlgrFamily::LEN),
            Self::Fqdn { hostname, domain } => hostname
                .len()
                .saturating_add(domain.len())
                .saturating_add(2),
            Self::SoftwareVersion(text) => text.len().saturating_add(1),
            Self::Unknown { value, .. } => value.len(),
        }
    }

    /// Octets [`emit`](Self::emit) writes: code, length and value.
    pub fn encoded_len(&self) -> usize {
        self.value_len().saturating_add(2)
    }

    /// Appends the capability (code, length, value). Fails, leaving `out` as
    /// it was, if the value exceeds 255 octets or a field its width.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        let result = self.emit_inner(out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn emit_inner(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let len = u8::try_from(self.value_len())
            .map_err(|_| EncodeError::FieldTooLong("capability value"))?;
        out.push(self.code().0);
        out.push(len);
        match self {
            Self::RouteRefresh | Self::ExtendedMessage | Self::EnhancedRouteRefresh => {}
            Self::Multiprotocol(family) => {
                out.extend_from_slice(&family.afi.0.to_be_bytes());
                out.push(0);
                out.push(family.safi.0);
            }
            Self::Role(role) => out.push(role.0),
            Self::FourOctetAs(asn) => out.extend_from_slice(&asn.to_be_bytes()),
            Self::ExtendedNextHop(entries) => encode_all(entries, out)?,
            Self::GracefulRestart(gr) => {
                if gr.restart_time > MAX_RESTART_TIME {
                    return Err(EncodeError::FieldTooLong("graceful restart time"));
                }
                let mut flags_time = gr.restart_time;
                if gr.restart_state {
                    flags_time |= RESTART_STATE;
                }
                if gr.notification {
                    flags_time |= NOTIFICATION;
                }
                out.extend_from_slice(&flags_time.to_be_bytes());
                encode_all(&gr.families, out)?;
            }
            Self::AddPath(entries) => encode_all(entries, out)?,
            Self::LongLivedGracefulRestart(entries) => encode_all(entries, out)?,
            Self::Fqdn { hostname, domain } => {
                put_counted(hostname, "FQDN host name", out)?;
                put_counted(domain, "FQDN domain name", out)?;
            }
            Self::SoftwareVersion(text) => put_counted(text, "software version", out)?,
            Self::Unknown { value, .. } => out.extend_from_slice(value),
        }
        Ok(())
    }
}

fn encode_all<T: FixedEntry>(entries: &[T], out: &mut Vec<u8>) -> Result<(), EncodeError> {
    entries.iter().try_for_each(|e| e.encode(out))
}

/// Appends a one-octet length and the octets.
fn put_counted(octets: &[u8], field: &'static str, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let len = u8::try_from(octets.len()).map_err(|_| EncodeError::FieldTooLong(field))?;
    out.push(len);
    out.extend_from_slice(octets);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(bytes: &[u8]) -> Capability<'_> {
        assert_eq!(check(bytes), Ok(1));
        let mut it = CapabilityIter::new(bytes);
        let cap = it.next().unwrap();
        assert_eq!(it.next(), None);
        cap
    }

    /// Parses, converts to the owned form and emits again.
    fn reemit(bytes: &[u8]) -> Vec<u8> {
        let repr = CapabilityRepr::parse(&one(bytes));
        let mut out = Vec::new();
        repr.emit(&mut out).unwrap();
        assert_eq!(out.len(), repr.encoded_len());
        out
    }

    fn malformed(bytes: &[u8]) -> CapabilityError {
        let err = check(bytes).unwrap_err();
        assert_eq!(CapabilityIter::new(bytes).count(), 0);
        err
    }

    #[test]
    fn multiprotocol() {
        let b = [1, 4, 0, 2, 0, 1];
        assert_eq!(one(&b), Capability::Multiprotocol(Family::IPV6_UNICAST));
        assert_eq!(one(&b).to_string(), "multiprotocol ipv6-unicast");
        assert_eq!(one(&b).name(), "Multiprotocol Extensions for BGP-4");
        assert_eq!(reemit(&b), b);
        // The reserved octet is ignored on receipt and zeroed on emit.
        assert_eq!(reemit(&[1, 4, 0, 1, 0xaa, 1]), [1, 4, 0, 1, 0, 1]);
        assert_eq!(
            malformed(&[1, 3, 0, 1, 1]),
            CapabilityError::Malformed {
                code: CapabilityCode::MULTIPROTOCOL,
                len: 3
            }
        );
        assert!(matches!(
            malformed(&[1, 5, 0, 1, 0, 1, 0]),
            CapabilityError::Malformed { .. }
        ));
    }

    #[test]
    fn empty_valued_capabilities() {
        for (b, cap, text) in [
            ([2, 0], Capability::RouteRefresh, "route-refresh"),
            ([6, 0], Capability::ExtendedMessage, "extended-message"),
            (
                [70, 0],
                Capability::EnhancedRouteRefresh,
                "enhanced-route-refresh",
            ),
        ] {
            assert_eq!(one(&b), cap);
            assert_eq!(one(&b).to_string(), text);
            assert_eq!(reemit(&b), b);
            let long = [b[0], 1, 0];
            assert!(matches!(
                malformed(&long),
                CapabilityError::Malformed { len: 1, .. }
            ));
        }
        assert_eq!(one(&[70, 0]).name(), "Enhanced Route Refresh Capability");
    }

    #[test]
    fn extended_next_hop() {
        let b = [5, 12, 0, 1, 0, 1, 0, 2, 0, 1, 0, 128, 0, 2];
        let Capability::ExtendedNextHop(list) = one(&b) else {
            panic!("wrong variant")
        };
        let got: Vec<_> = list.iter().collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].family(), Some(Family::IPV4_UNICAST));
        assert_eq!(got[0].nexthop_afi, Afi::IPV6);
        assert_eq!(got[1].nlri_safi, 128);
        assert_eq!(
            one(&b).to_string(),
            "extended-nexthop ipv4-unicast nexthop ipv6, ipv4/safi128 nexthop ipv6"
        );
        assert_eq!(reemit(&b), b);
        let wide = ExtendedNextHopEntry {
            nlri_afi: Afi::IPV4,
            nlri_safi: 0x0101,
            nexthop_afi: Afi::IPV6,
        };
        assert_eq!(wide.family(), None);
        assert!(matches!(
            malformed(&[5, 5, 0, 1, 0, 1, 0]),
            CapabilityError::Malformed { .. }
        ));
    }

    #[test]
    fn role() {
        let b = [9, 1, 3];
        assert_eq!(one(&b), Capability::Role(Role::CUSTOMER));
        assert_eq!(one(&b).to_string(), "role customer");
        assert_eq!(Role::CUSTOMER.name(), Some("Customer"));
        assert_eq!(Role::RS.expected_peer_role(), Some(Role::RS_CLIENT));
        assert_eq!(Role(9).name(), None);
        assert_eq!(one(&[9, 1, 9]), Capability::Role(Role(9)));
        assert_eq!(reemit(&b), b);
        assert!(matches!(
            malformed(&[9, 0]),
            CapabilityError::Malformed { len: 0, .. }
        ));
        assert!(matches!(
            malformed(&[9, 2, 0, 0]),
            CapabilityError::Malformed { len: 2, .. }
        ));
    }

    #[test]
    fn graceful_restart() {
        // R and N set, 300 s, IPv4 unicast with F, IPv6 unicast without.
        let b = [64, 10, 0xc1, 0x2c, 0, 1, 1, 0x80, 0, 2, 1, 0];
        let Capability::GracefulRestart(gr) = one(&b) else {
            panic!("wrong variant")
        };
        assert!(gr.restart_state());
        assert!(gr.notification());
        assert_eq!(gr.restart_flags(), 0xc);
        assert_eq!(gr.restart_time(), 300);
        let fams: Vec<_> = gr.families().collect();
        assert_eq!(
            fams,
            [
                GracefulRestartFamily {
                    family: Family::IPV4_UNICAST,
                    forwarding_state: true
                },
                GracefulRestartFamily {
                    family: Family::IPV6_UNICAST,
                    forwarding_state: false
                }
            ]
        );
        assert_eq!(
            one(&b).to_string(),
            "graceful-restart time 300 restarting notification ipv4-unicast forwarding, ipv6-unicast"
        );
        assert_eq!(reemit(&b), b);
        // Helper only: flags and time, no families.
        let helper = [64, 2, 0, 120];
        assert_eq!(one(&helper).to_string(), "graceful-restart time 120");
        assert_eq!(reemit(&helper), helper);
        // Reserved bits are ignored.
        assert_eq!(
            reemit(&[64, 6, 0x30, 120, 0, 1, 1, 0x7f]),
            [64, 6, 0, 120, 0, 1, 1, 0]
        );
        assert!(matches!(
            malformed(&[64, 1, 0]),
            CapabilityError::Malformed { .. }
        ));
        assert!(matches!(
            malformed(&[64, 0]),
            CapabilityError::Malformed { .. }
        ));
        assert!(matches!(
            malformed(&[64, 5, 0, 120, 0, 1, 1]),
            CapabilityError::Malformed { .. }
        ));
        let too_long = CapabilityRepr::GracefulRestart(GracefulRestartRepr {
            restart_time: 4096,
            ..Default::default()
        });
        let mut out = vec![7];
        assert!(too_long.emit(&mut out).is_err());
        assert_eq!(out, [7]);
    }

    #[test]
    fn four_octet_as() {
        let b = [65, 4, 0xfa, 0x56, 0xea, 0x01];
        assert_eq!(one(&b), Capability::FourOctetAs(4_200_000_001));
        assert_eq!(one(&b).to_string(), "four-octet-as 4200000001");
        assert_eq!(reemit(&b), b);
        assert!(matches!(
            malformed(&[65, 2, 0xfd, 0xe8]),
            CapabilityError::Malformed { .. }
        ));
    }

    #[test]
    fn add_path() {
        let b = [69, 8, 0, 1, 1, 1, 0, 2, 1, 3];
        let Capability::AddPath(list) = one(&b) else {
            panic!("wrong variant")
        };
        assert_eq!(list.len(), 2);
        let got: Vec<_> = list.into_iter().collect();
        assert_eq!(got[0].mode, AddPathMode::RECEIVE);
        assert!(got[0].mode.receive() && !got[0].mode.send());
        assert_eq!(got[1].mode, AddPathMode::BOTH);
        assert_eq!(
            one(&[69, 4, 0, 1, 1, 1]).to_string(),
            "add-path ipv4-unicast receive"
        );
        assert_eq!(
            one(&b).to_string(),
            "add-path ipv4-unicast receive, ipv6-unicast both"
        );
        assert_eq!(reemit(&b), b);
        // Unknown Send/Receive values are kept (RFC 7911 s4: ignore the capability).
        let Capability::AddPath(odd) = one(&[69, 4, 0, 1, 1, 7]) else {
            panic!("wrong variant")
        };
        assert!(!odd.iter().all(|e| e.mode.is_known()));
        assert!(matches!(
            malformed(&[69, 3, 0, 1, 1]),
            CapabilityError::Malformed { .. }
        ));
    }

    #[test]
    fn long_lived_graceful_restart() {
        let b = [71, 7, 0, 2, 1, 0x80, 0x01, 0x51, 0x80];
        let Capability::LongLivedGracefulRestart(list) = one(&b) else {
            panic!("wrong variant")
        };
        let got: Vec<_> = list.iter().collect();
        assert_eq!(
            got,
            [LlgrFamily {
                family: Family::IPV6_UNICAST,
                forwarding_state: true,
                stale_time: 86400
            }]
        );
        assert_eq!(
            one(&b).to_string(),
            "llgr ipv6-unicast stale-time 86400 forwarding"
        );
        assert_eq!(reemit(&b), b);
        assert_eq!(one(&[71, 0]).to_string(), "llgr");
        assert!(matches!(
            malformed(&[71, 6, 0, 2, 1, 0, 0, 0]),
            CapabilityError::Malformed { .. }
        ));
        let big = CapabilityRepr::LongLivedGracefulRestart(vec![LlgrFamily {
            family: Family::IPV4_UNICAST,
            forwarding_state: false,
            stale_time: MAX_LLGR_STALE_TIME + 1,
        }]);
        assert_eq!(
            big.emit(&mut Vec::new()),
            Err(EncodeError::FieldTooLong("LLGR stale time"))
        );
    }

    #[test]
    fn fqdn() {
        let b = [
            73, 14, 5, b'n', b'o', b'd', b'e', b'1', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e',
        ];
        let Capability::Fqdn(fqdn) = one(&b) else {
            panic!("wrong variant")
        };
        assert_eq!(fqdn.hostname_str(), Some("node1"));
        assert_eq!(fqdn.domain_str(), Some("example"));
        assert_eq!(one(&b).to_string(), "fqdn node1 domain example");
        assert_eq!(reemit(&b), b);
        assert_eq!(
            CapabilityRepr::parse(&one(&b)),
            CapabilityRepr::fqdn("node1", "example")
        );
        // Empty domain.
        assert_eq!(one(&[73, 3, 1, b'r', 0]).to_string(), "fqdn r");
        // Control characters and invalid UTF-8 are escaped for display.
        assert_eq!(
            one(&[73, 4, 2, 0x1b, 0xff, 0]).to_string(),
            "fqdn \\u{1b}\\xff"
        );
        // Inner lengths must add up to the capability length.
        assert!(matches!(
            malformed(&[73, 3, 2, b'r', 0]),
            CapabilityError::Malformed { .. }
        ));
        assert!(matches!(
            malformed(&[73, 4, 1, b'r', 0, 0]),
            CapabilityError::Malformed { .. }
        ));
        assert!(matches!(
            malformed(&[73, 1, 0]),
            CapabilityError::Malformed { .. }
        ));
    }

    #[test]
    fn software_version() {
        let text = b"FRRouting/10.2";
        let mut b = vec![75, 15, 14];
        b.extend_from_slice(text);
        let Capability::SoftwareVersion(v) = one(&b) else {
            panic!("wrong variant")
        };
        assert_eq!(v.as_str(), Some("FRRouting/10.2"));
        assert_eq!(one(&b).to_string(), "software-version FRRouting/10.2");
        assert_eq!(one(&b).name(), "Software Version Capability");
        assert_eq!(reemit(&b), b);
        assert_eq!(
            CapabilityRepr::parse(&one(&b)),
            CapabilityRepr::software_version("FRRouting/10.2")
        );
        assert!(matches!(
            malformed(&[75, 2, 2, b'x']),
            CapabilityError::Malformed { .. }
        ));
        assert!(matches!(
            malformed(&[75, 0]),
            CapabilityError::Malformed { .. }
        ));
    }

    #[test]
    fn unknown_codes_stay_raw() {
        let b = [128, 0];
        assert_eq!(
            one(&b),
            Capability::Unknown {
                code: CapabilityCode::PRESTANDARD_ROUTE_REFRESH,
                value: &[]
            }
        );
        assert_eq!(
            one(&b).to_string(),
            "capability 128 (Prestandard Route Refresh (deprecated))"
        );
        assert_eq!(reemit(&b), b);
        let odd = [250, 2, 0xab, 0xcd];
        assert_eq!(
            one(&odd).to_string(),
            "capability 250 (Experimental Use) abcd"
        );
        assert_eq!(reemit(&odd), odd);
        assert_eq!(CapabilityCode(100).name(), "Unassigned");
        assert!(!CapabilityCode(3).is_decoded());
        assert!(CapabilityCode::FQDN.is_decoded());
    }

    #[test]
    fn runs_and_truncation() {
        let run = [1, 4, 0, 1, 0, 1, 2, 0, 65, 4, 0, 0, 0xfc, 0];
        assert_eq!(check(&run), Ok(3));
        let codes: Vec<_> = CapabilityIter::new(&run).map(|c| c.code().0).collect();
        assert_eq!(codes, [1, 2, 65]);
        assert_eq!(check(&[]), Ok(0));
        assert_eq!(check(&[2]), Err(CapabilityError::Truncated));
        assert_eq!(check(&[2, 1]), Err(CapabilityError::Truncated));
        assert_eq!(
            check(&run[..run.len() - 1]),
            Err(CapabilityError::Truncated)
        );
        // The iterator stops at the first bad capability of unchecked input.
        assert_eq!(CapabilityIter::new(&[2, 0, 9, 0, 2, 0]).count(), 1);
    }

    #[test]
    fn oversized_values_are_refused() {
        let cap = CapabilityRepr::AddPath(vec![
            AddPathFamily {
                family: Family::IPV4_UNICAST,
                mode: AddPathMode::BOTH
            };
            64
        ]);
        assert_eq!(cap.value_len(), 256);
        let mut out = vec![1, 2, 3];
        assert_eq!(
            cap.emit(&mut out),
            Err(EncodeError::FieldTooLong("capability value"))
        );
        assert_eq!(out, [1, 2, 3]);
        let fqdn = CapabilityRepr::Fqdn {
            hostname: vec![b'a'; 200],
            domain: vec![b'b'; 60],
        };
        assert!(fqdn.emit(&mut out).is_err());
        assert_eq!(out, [1, 2, 3]);
    }
}
