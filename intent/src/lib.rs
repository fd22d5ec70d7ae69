//! `bgp-intent`: what the cluster intends to advertise over BGP.
//!
//! - [`objects`]: the Kubernetes and Cilium objects that decide it, as read
//!   from an API server or from YAML files (the [`Inventory`]).
//! - [`expected`]: the expected routing state derived from them.
//!
//! The daemon (`bgpd`) compares the expected state with what its peers send;
//! `bgp-probe lint` reports the problems of a GitOps tree before it is
//! deployed. No I/O to the network here.

pub mod expected;
pub mod files;
pub mod model;
pub mod objects;
pub mod parse;
pub mod store;

pub use expected::{Expected, Reason};
pub use files::{embedded_default, load_path, load_str, FilesError, Loaded};
pub use objects::Inventory;
pub use parse::{object_from_json, Kind, Object, ParseError};
