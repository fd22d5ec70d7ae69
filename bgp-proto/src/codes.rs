//! NOTIFICATION error codes and subcodes.
//!
//! One enum per table: RFC 4271 s4.5 (error codes) and s6.1-s6.6 (subcodes),
//! RFC 4486 + RFC 8203 + RFC 8538 + RFC 9384 (Cease), RFC 6608 (FSM error),
//! RFC 7313 (ROUTE-REFRESH message error) and RFC 9234 (Role Mismatch). Every
//! enum converts from/to the octet on the wire and has the IANA name, so logs
//! and `bgp-probe decode --hex` print what the registry calls it.

/// Declares a `#[repr(u8)]` enum whose variants carry their wire value and
/// IANA registry name, with `from_u8`, `as_u8` and `name`.
macro_rules! code_table {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum $name {
            $($(#[$vmeta])* $variant = $value,)+
        }

        impl $name {
            /// The variant for a wire value, if the table defines it.
            pub fn from_u8(value: u8) -> Option<Self> {
                match value {
                    $($value => Some(Self::$variant),)+
                    _ => None,
                }
            }

            /// The wire value.
            pub fn as_u8(self) -> u8 {
                self as u8
            }

            /// The name the IANA registry gives it.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

code_table! {
    /// NOTIFICATION error code (RFC 4271 s4.5, RFC 7313 s5).
    ErrorCode {
        MessageHeader = 1 => "Message Header Error",
        OpenMessage = 2 => "OPEN Message Error",
        UpdateMessage = 3 => "UPDATE Message Error",
        HoldTimerExpired = 4 => "Hold Timer Expired",
        FiniteStateMachine = 5 => "Finite State Machine Error",
        Cease = 6 => "Cease",
        RouteRefreshMessage = 7 => "ROUTE-REFRESH Message Error",
    }
}

code_table! {
    /// Message Header Error subcodes (RFC 4271 s6.1).
    MessageHeaderSubcode {
        ConnectionNotSynchronized = 1 => "Connection Not Synchronized",
        BadMessageLength = 2 => "Bad Message Length",
        BadMessageType = 3 => "Bad Message Type",
    }
}

code_table! {
    /// OPEN Message Error subcodes (RFC 4271 s6.2, RFC 5492, RFC 9234).
    OpenMessageSubcode {
        UnsupportedVersionNumber = 1 => "Unsupported Version Number",
        BadPeerAs = 2 => "Bad Peer AS",
        BadBgpIdentifier = 3 => "Bad BGP Identifier",
        UnsupportedOptionalParameter = 4 => "Unsupported Optional Parameter",
        /// Deprecated by RFC 4271 (was Authentication Failure).
        AuthenticationFailure = 5 => "[Deprecated] Authentication Failure",
        UnacceptableHoldTime = 6 => "Unacceptable Hold Time",
        UnsupportedCapability = 7 => "Unsupported Capability",
        /// Deprecated (draft-ietf-idr-error-handling).
        Deprecated8 = 8 => "[Deprecated]",
        /// Deprecated (draft-ietf-idr-error-handling).
        Deprecated9 = 9 => "[Deprecated]",
        /// Deprecated (draft-ietf-idr-error-handling).
        Deprecated10 = 10 => "[Deprecated]",
        RoleMismatch = 11 => "Role Mismatch",
    }
}

code_table! {
    /// UPDATE Message Error subcodes (RFC 4271 s6.3).
    UpdateMessageSubcode {
        MalformedAttributeList = 1 => "Malformed Attribute List",
        UnrecognizedWellKnownAttribute = 2 => "Unrecognized Well-known Attribute",
        MissingWellKnownAttribute = 3 => "Missing Well-known Attribute",
        AttributeFlagsError = 4 => "Attribute Flags Error",
        AttributeLengthError = 5 => "Attribute Length Error",
        InvalidOriginAttribute = 6 => "Invalid ORIGIN Attribute",
        /// Deprecated by RFC 4271.
        AsRoutingLoop = 7 => "[Deprecated] AS Routing Loop",
        InvalidNextHopAttribute = 8 => "Invalid NEXT_HOP Attribute",
        OptionalAttributeError = 9 => "Optional Attribute Error",
        InvalidNetworkField = 10 => "Invalid Network Field",
        MalformedAsPath = 11 => "Malformed AS_PATH",
    }
}

code_table! {
    /// Finite State Machine Error subcodes (RFC 6608).
    FsmSubcode {
        UnspecifiedError = 0 => "Unspecified Error",
        UnexpectedMessageInOpenSent = 1 => "Receive Unexpected Message in OpenSent State",
        UnexpectedMessageInOpenConfirm = 2 => "Receive Unexpected Message in OpenConfirm State",
        UnexpectedMessageInEstablished = 3 => "Receive Unexpected Message in Established State",
    }
}

code_table! {
    /// Cease subcodes (RFC 4486, RFC 8203/9003, RFC 8538, RFC 9384).
    CeaseSubcode {
        MaximumNumberOfPrefixesReached = 1 => "Maximum Number of Prefixes Reached",
        AdministrativeShutdown = 2 => "Administrative Shutdown",
        PeerDeconfigured = 3 => "Peer De-configured",
        AdministrativeReset = 4 => "Administrative Reset",
        ConnectionRejected = 5 => "Connection Rejected",
        OtherConfigurationChange = 6 => "Other Configuration Change",
        ConnectionCollisionResolution = 7 => "Connection Collision Resolution",
        OutOfResources = 8 => "Out of Resources",
        HardReset = 9 => "Hard Reset",
        BfdDown = 10 => "BFD Down",
    }
}

code_table! {
    /// ROUTE-REFRESH Message Error subcodes (RFC 7313 s5).
    RouteRefreshSubcode {
        InvalidMessageLength = 1 => "Invalid Message Length",
    }
}

/// The registry name of a subcode under a given error code, if both are known.
pub fn subcode_name(code: u8, subcode: u8) -> Option<&'static str> {
    match ErrorCode::from_u8(code)? {
        ErrorCode::MessageHeader => MessageHeaderSubcode::from_u8(subcode).map(|s| s.name()),
        ErrorCode::OpenMessage => OpenMessageSubcode::from_u8(subcode).map(|s| s.name()),
        ErrorCode::UpdateMessage => UpdateMessageSubcode::from_u8(subcode).map(|s| s.name()),
        ErrorCode::HoldTimerExpired => None,
        ErrorCode::FiniteStateMachine => FsmSubcode::from_u8(subcode).map(|s| s.name()),
        ErrorCode::Cease => CeaseSubcode::from_u8(subcode).map(|s| s.name()),
        ErrorCode::RouteRefreshMessage => RouteRefreshSubcode::from_u8(subcode).map(|s| s.name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_every_value() {
        for v in 0..=255u8 {
            if let Some(c) = ErrorCode::from_u8(v) {
                assert_eq!(c.as_u8(), v);
            }
            if let Some(c) = CeaseSubcode::from_u8(v) {
                assert_eq!(c.as_u8(), v);
            }
            if let Some(c) = UpdateMessageSubcode::from_u8(v) {
                assert_eq!(c.as_u8(), v);
            }
        }
        assert_eq!(ErrorCode::from_u8(0), None);
        assert_eq!(ErrorCode::from_u8(8), None);
    }

    #[test]
    fn names_follow_iana() {
        assert_eq!(subcode_name(6, 5), Some("Connection Rejected"));
        assert_eq!(subcode_name(3, 11), Some("Malformed AS_PATH"));
        assert_eq!(subcode_name(2, 11), Some("Role Mismatch"));
        assert_eq!(subcode_name(4, 0), None);
        assert_eq!(subcode_name(9, 1), None);
    }
}
