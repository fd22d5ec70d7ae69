//! What the session negotiated, and so how its messages decode.
//!
//! The same octets mean different things depending on the OPEN exchange:
//! AS numbers are 2 or 4 octets (RFC 6793), NLRI may carry path identifiers
//! (RFC 7911, per family and direction), and messages may exceed 4096 octets
//! (RFC 8654). The caller (the session, or the MRT reader) passes a
//! [`SessionContext`] to every decoder.

use crate::afi::Family;

/// Largest message without the extended-message capability (RFC 4271 s4.1).
pub const MAX_MESSAGE_LEN: usize = 4096;
/// Largest message with the extended-message capability (RFC 8654).
pub const MAX_EXTENDED_MESSAGE_LEN: usize = 65535;

/// Negotiated decoding parameters for one direction of one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionContext {
    /// Both sides sent the 4-octet AS capability: AS_PATH and AGGREGATOR carry
    /// 4-octet ASNs and AS4_PATH/AS4_AGGREGATOR are not expected.
    pub four_octet_as: bool,
    /// Both sides sent the extended message capability (RFC 8654).
    pub extended_message: bool,
    /// Families (by [`Family::index`]) whose received NLRI carry path ids.
    add_path: u8,
    /// MP_REACH_NLRI may be in the abbreviated form of MRT RIB entries
    /// (RFC 6396 s4.3.4: next hop length and next hop only).
    pub mrt_rib_entry: bool,
}

impl SessionContext {
    /// A context before any capability is negotiated: 2-octet AS, no ADD-PATH,
    /// 4096-octet messages.
    pub const fn classic() -> Self {
        Self {
            four_octet_as: false,
            extended_message: false,
            add_path: 0,
            mrt_rib_entry: false,
        }
    }

    /// A context with 4-octet AS numbers, the common case today.
    pub const fn modern() -> Self {
        Self {
            four_octet_as: true,
            ..Self::classic()
        }
    }

    /// Builder: messages may be up to 65535 octets (RFC 8654).
    pub const fn with_extended_message(mut self) -> Self {
        self.extended_message = true;
        self
    }

    /// Marks `family` as carrying path identifiers (ADD-PATH receive).
    /// Families whose NLRI are kept raw are ignored.
    pub fn set_add_path(&mut self, family: Family, on: bool) {
        if let Some(i) = family.index() {
            if on {
                self.add_path |= 1 << i;
            } else {
                self.add_path &= !(1 << i);
            }
        }
    }

    /// Builder form of [`set_add_path`](Self::set_add_path).
    pub fn with_add_path(mut self, family: Family) -> Self {
        self.set_add_path(family, true);
        self
    }

    /// Whether NLRI of `family` carry path identifiers.
    pub fn add_path(&self, family: Family) -> bool {
        family
            .index()
            .is_some_and(|i| self.add_path & (1 << i) != 0)
    }

    /// Octets in an AS number inside AS_PATH and AGGREGATOR.
    pub fn asn_len(&self) -> usize {
        if self.four_octet_as {
            4
        } else {
            2
        }
    }

    /// Largest acceptable message length.
    pub fn max_message_len(&self) -> usize {
        if self.extended_message {
            MAX_EXTENDED_MESSAGE_LEN
        } else {
            MAX_MESSAGE_LEN
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_path_is_per_family() {
        let mut c = SessionContext::modern().with_add_path(Family::IPV6_UNICAST);
        assert!(c.add_path(Family::IPV6_UNICAST));
        assert!(!c.add_path(Family::IPV4_UNICAST));
        c.set_add_path(Family::IPV6_UNICAST, false);
        assert!(!c.add_path(Family::IPV6_UNICAST));
        assert_eq!(c.asn_len(), 4);
        assert_eq!(SessionContext::classic().max_message_len(), 4096);
    }
}
