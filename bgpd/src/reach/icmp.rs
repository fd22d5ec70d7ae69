//! ICMP echo over an unprivileged ping socket, driven by Tokio's reactor.
//!
//! Why a ping socket and not a raw one: it needs no `CAP_NET_RAW`, only a
//! group inside `net.ipv4.ping_group_range` (which covers ICMPv6 as well),
//! and the kernel demultiplexes replies by identifier, so every probe sees
//! only replies to its own socket.
//!
//! Why the reactor and not a blocking thread: a round has up to 64 probes in
//! flight; on the reactor each is a few hundred bytes of task state and the
//! timeout is an ordinary Tokio timer that cancels the probe by dropping it,
//! where threads would cost a stack each and need a receive timeout of their
//! own. The datagram fd is registered as a [`tokio::net::UdpSocket`]: that
//! type is Tokio's readiness wrapper (an `AsyncFd` underneath) for any
//! `SOCK_DGRAM` descriptor, and `send`/`recv_from` are plain `send(2)` and
//! `recvfrom(2)`, which is all a ping socket needs, with no `unsafe` for
//! uninitialised receive buffers.
//!
//! Each probe opens its own socket, connected to the target: `send` then
//! needs no address, and an ICMP error the kernel attributes to the
//! destination (host or network unreachable) ends the probe at once as an
//! error from `recv` instead of a silent timeout.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::echo::{Echo, IcmpVersion, HEADER_LEN, PAYLOAD_LEN};

/// The ICMP version used to reach `addr`.
pub fn version_for(addr: IpAddr) -> IcmpVersion {
    match addr {
        IpAddr::V4(_) => IcmpVersion::V4,
        IpAddr::V6(_) => IcmpVersion::V6,
    }
}

/// Opens a non-blocking ping socket for `addr`'s family, connected to `addr`.
///
/// Fails with `EACCES` when our group is outside
/// `net.ipv4.ping_group_range` of the current network namespace (see
/// [`not_permitted`]).
pub fn open(addr: IpAddr) -> io::Result<Socket> {
    let (domain, protocol) = match addr {
        IpAddr::V4(_) => (Domain::IPV4, Protocol::ICMPV4),
        IpAddr::V6(_) => (Domain::IPV6, Protocol::ICMPV6),
    };
    let socket = Socket::new(domain, Type::DGRAM, Some(protocol))?;
    socket.set_nonblocking(true)?;
    socket.connect(&SockAddr::from(SocketAddr::new(addr, 0)))?;
    Ok(socket)
}

/// Whether an error from [`open`] means "ping sockets are not allowed for
/// this group" (`EACCES`, or `EPERM` from a security module), the case in
/// which method `auto` falls back to TCP.
pub fn not_permitted(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EACCES) | Some(libc::EPERM))
}

/// `net.ipv4.ping_group_range` as this thread sees it (the current network
/// namespace's), for log and error messages.
pub fn ping_group_range() -> String {
    std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range")
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|e| format!("unreadable: {e}"))
}

/// Sends one echo request on `socket` (from [`open`]) to `addr` and waits for
/// its reply; returns the round-trip time.
///
/// Never returns on its own if no reply comes: the caller bounds it with a
/// timeout. Messages that are not the reply (stray replies, other sources)
/// are read and ignored. An error from the socket (a queued ICMP error such
/// as host unreachable, or a failed send) is returned as is.
pub async fn echo(socket: Socket, addr: IpAddr) -> io::Result<Duration> {
    let socket = tokio::net::UdpSocket::from_std(std::net::UdpSocket::from(socket))?;
    let echo = Echo::next(version_for(addr));
    let request = echo.request();
    let mut buf = [0u8; 2 * (HEADER_LEN + PAYLOAD_LEN)];
    let sent = Instant::now();
    socket.send(&request).await?;
    loop {
        let (n, from) = socket.recv_from(&mut buf).await?;
        if from.ip().to_canonical() != addr {
            continue;
        }
        match echo.check_reply(&buf[..n]) {
            Ok(()) => return Ok(sent.elapsed()),
            Err(why) => {
                tracing::trace!(%addr, ?why, "ignoring an ICMP message that is not our reply");
            }
        }
    }
}
