//! `bgpd`: a passive BGP speaker that keeps an Adj-RIB-In per peer and never
//! advertises a route.
//!
//! The data path, top to bottom: [`config`] says whom to expect; the
//! [`daemon`] binds listeners (with TCP-MD5 keys and GTSM from [`sockopt`]),
//! accepts a connection and matches it to a [`peer`]; a [`session`] task runs
//! the RFC 4271 [`fsm`] over the framed byte stream, settles capabilities
//! ([`negotiate`]) and hands every UPDATE to the peer's Adj-RIB-In ([`rib`]),
//! optionally recording every message to MRT ([`recorder`]); the [`http`]
//! API reads what they hold.

pub mod config;
pub mod daemon;
pub mod fsm;
pub mod http;
pub mod inventory;
pub mod metrics;
pub mod negotiate;
pub mod peer;
pub mod reach;
pub mod recorder;
pub mod rib;
pub mod session;
pub mod sockopt;
pub mod verify;
