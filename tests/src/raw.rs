//! A raw, blocking BGP connection opened from inside a lab namespace, for
//! tests that must control the octets on the wire (a peer that never closes
//! its old connection, a source no peer matches). Messages are built by the
//! test, usually with `bgp-proto`'s `*Repr` types; this only frames them.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::Netns;

/// Length of the BGP message header (marker, length, type).
pub const HEADER_LEN: usize = 19;
/// Largest message a peer may send (RFC 8654 Extended Message).
const MAX_LEN: usize = 65535;

/// Message type codes (RFC 4271 s4.1, RFC 2918).
pub mod msg_type {
    /// OPEN.
    pub const OPEN: u8 = 1;
    /// UPDATE.
    pub const UPDATE: u8 = 2;
    /// NOTIFICATION.
    pub const NOTIFICATION: u8 = 3;
    /// KEEPALIVE.
    pub const KEEPALIVE: u8 = 4;
    /// ROUTE-REFRESH.
    pub const ROUTE_REFRESH: u8 = 5;
}

/// One TCP connection carrying BGP messages.
#[derive(Debug)]
pub struct RawPeer {
    stream: TcpStream,
}

impl RawPeer {
    /// Connects from inside `ns` to `to` (the kernel picks the source
    /// address); reads time out after `read_timeout`.
    pub fn connect(ns: &Netns, to: SocketAddr, read_timeout: Duration) -> io::Result<RawPeer> {
        let stream = ns.connect(to, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(read_timeout))?;
        stream.set_write_timeout(Some(Duration::from_secs(5)))?;
        stream.set_nodelay(true)?;
        Ok(RawPeer { stream })
    }

    /// The socket.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Writes whole messages.
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// The next whole message (header included), `None` when the peer closed
    /// the connection cleanly; a read timeout or reset is an error.
    pub fn recv(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut msg = vec![0u8; HEADER_LEN];
        match self.stream.read_exact(&mut msg) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let len = usize::from(u16::from_be_bytes([msg[16], msg[17]]));
        if !(HEADER_LEN..=MAX_LEN).contains(&len) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad BGP message length {len}"),
            ));
        }
        msg.resize(len, 0);
        self.stream.read_exact(&mut msg[HEADER_LEN..])?;
        Ok(Some(msg))
    }

    /// Reads messages until a NOTIFICATION and returns its code, subcode and
    /// data; `None` if the connection closed first. The other messages are
    /// dropped.
    pub fn notification(&mut self) -> io::Result<Option<(u8, u8, Vec<u8>)>> {
        while let Some(m) = self.recv()? {
            if m[18] == msg_type::NOTIFICATION && m.len() >= HEADER_LEN + 2 {
                return Ok(Some((m[19], m[20], m[21..].to_vec())));
            }
        }
        Ok(None)
    }
}

/// The type octet of a whole message.
pub fn message_type(msg: &[u8]) -> u8 {
    msg.get(18).copied().unwrap_or(0)
}
