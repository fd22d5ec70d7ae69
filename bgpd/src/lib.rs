//! `bgpd`: a passive BGP speaker that keeps an Adj-RIB-In per peer and never
//! advertises a route.
//!
//! The data path, top to bottom: [`config`] says whom to expect; the
//! listener accepts a TCP connection and matches it to a peer; a session
//! task runs the RFC 4271 [`fsm`] over the framed byte stream, negotiates
//! capabilities ([`negotiate`]) and hands every UPDATE to the peer's
//! Adj-RIB-In ([`rib`]); the HTTP endpoint reads what they hold.

pub mod recorder;
pub mod sockopt;
