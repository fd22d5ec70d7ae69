//! Address families: AFI (RFC 4760, IANA) and SAFI, and the four families whose
//! NLRI this codec decodes (IPv4/IPv6 unicast and multicast).

/// Address Family Identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Afi(pub u16);

impl Afi {
    /// IP version 4.
    pub const IPV4: Afi = Afi(1);
    /// IP version 6.
    pub const IPV6: Afi = Afi(2);
}

/// Subsequent Address Family Identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Safi(pub u8);

impl Safi {
    /// Unicast forwarding.
    pub const UNICAST: Safi = Safi(1);
    /// Multicast forwarding (RPF).
    pub const MULTICAST: Safi = Safi(2);
}

/// An AFI/SAFI pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Family {
    /// Address family.
    pub afi: Afi,
    /// Subsequent address family.
    pub safi: Safi,
}

impl Family {
    /// IPv4 unicast.
    pub const IPV4_UNICAST: Family = Family::new(Afi::IPV4, Safi::UNICAST);
    /// IPv4 multicast.
    pub const IPV4_MULTICAST: Family = Family::new(Afi::IPV4, Safi::MULTICAST);
    /// IPv6 unicast.
    pub const IPV6_UNICAST: Family = Family::new(Afi::IPV6, Safi::UNICAST);
    /// IPv6 multicast.
    pub const IPV6_MULTICAST: Family = Family::new(Afi::IPV6, Safi::MULTICAST);

    /// The families whose NLRI this codec decodes, in [`Family::index`] order.
    pub const DECODED: [Family; 4] = [
        Self::IPV4_UNICAST,
        Self::IPV4_MULTICAST,
        Self::IPV6_UNICAST,
        Self::IPV6_MULTICAST,
    ];

    /// A family from its parts.
    pub const fn new(afi: Afi, safi: Safi) -> Self {
        Self { afi, safi }
    }

    /// Position in [`Family::DECODED`], or `None` for a family whose NLRI is
    /// kept raw (VPN, flowspec, EVPN, ...).
    pub fn index(self) -> Option<usize> {
        match (self.afi, self.safi) {
            (Afi::IPV4, Safi::UNICAST) => Some(0),
            (Afi::IPV4, Safi::MULTICAST) => Some(1),
            (Afi::IPV6, Safi::UNICAST) => Some(2),
            (Afi::IPV6, Safi::MULTICAST) => Some(3),
            _ => None,
        }
    }

    /// Octets in a full address of this family (4 or 16), for decoded families.
    pub fn address_len(self) -> Option<usize> {
        match self.afi {
            Afi::IPV4 => Some(4),
            Afi::IPV6 => Some(16),
            _ => None,
        }
    }
}

impl core::fmt::Display for Family {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let afi = match self.afi {
            Afi::IPV4 => "ipv4",
            Afi::IPV6 => "ipv6",
            Afi(n) => return write!(f, "afi{n}/safi{}", self.safi.0),
        };
        match self.safi {
            Safi::UNICAST => write!(f, "{afi}-unicast"),
            Safi::MULTICAST => write!(f, "{afi}-multicast"),
            Safi(n) => write!(f, "{afi}/safi{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_match_decoded_order() {
        for (i, f) in Family::DECODED.iter().enumerate() {
            assert_eq!(f.index(), Some(i));
        }
        assert_eq!(Family::new(Afi::IPV4, Safi(128)).index(), None);
        assert_eq!(Family::IPV6_UNICAST.to_string(), "ipv6-unicast");
        assert_eq!(Family::new(Afi(25), Safi(70)).to_string(), "afi25/safi70");
    }
}
