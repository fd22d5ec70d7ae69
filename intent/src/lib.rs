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
pub mod objects;

pub use expected::{Expected, Reason};
pub use objects::Inventory;
