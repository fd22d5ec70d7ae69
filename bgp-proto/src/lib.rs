//! `bgp-proto`: a zero-copy BGP-4 wire codec with MRT reading and writing.
//!
//! Decoding borrows its input and validates each message once
//! (`new_checked`), after which views hand out path attributes, AS_PATH
//! segments, communities and NLRI lazily, allocating nothing. Owned `*Repr`
//! types build messages and round-trip through `parse`/`emit`. Every
//! malformation maps to the NOTIFICATION of RFC 4271 s6 and the action of
//! RFC 7606 ([`Error`]). How octets decode depends on what the session
//! negotiated, which the caller passes as a [`SessionContext`]. No I/O here:
//! the MRT reader takes any `std::io::Read`.

pub mod afi;
pub mod attr;
pub mod capability;
pub mod codes;
pub mod context;
pub mod error;
pub mod header;
pub mod keepalive;
pub mod message;
pub mod mrt;
pub mod nlri;
pub mod notification;
pub mod open;
pub mod route_refresh;
pub mod update;

pub use afi::{Afi, Family, Safi};
pub use context::SessionContext;
pub use error::{Action, Error};
pub use header::{EncodeError, Header, MessageType};
pub use message::{Message, MessageRepr};
pub use nlri::{Nlri, NlriIter};
pub use update::{Update, UpdateRepr};
