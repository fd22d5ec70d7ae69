//! TCP connect probes: the host answered if the handshake completed or was
//! refused.
//!
//! A SYN answered by SYN-ACK or by RST both prove the address is up and
//! routed; only silence (the caller's timeout) or an ICMP unreachable says
//! otherwise. The connection is closed with a zero linger (an RST), so no
//! TIME_WAIT state piles up on either side from a probe every few seconds.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::TcpSocket;

/// Error text of a probe answered by RST: reachable, nothing listening.
pub const PORT_CLOSED: &str = "port closed, host answered";

/// What a finished connect attempt says about the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The handshake completed.
    Open,
    /// The host refused the connection: up, but nothing listens on the port.
    Refused,
    /// The attempt failed in a way that says nothing answered: no route, a
    /// host or network unreachable from a router or from neighbour
    /// discovery, or a local error.
    Failed(String),
}

impl Verdict {
    /// Whether this counts as the host being reachable.
    pub fn reachable(&self) -> bool {
        matches!(self, Verdict::Open | Verdict::Refused)
    }
}

/// Classifies a connect error.
pub fn classify(e: &io::Error) -> Verdict {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => Verdict::Refused,
        io::ErrorKind::HostUnreachable => Verdict::Failed(format!("host unreachable: {e}")),
        io::ErrorKind::NetworkUnreachable => Verdict::Failed(format!("network unreachable: {e}")),
        _ => Verdict::Failed(e.to_string()),
    }
}

/// Connects to `to` and returns the verdict and, when the host answered, the
/// time the answer took.
///
/// Never gives up on its own on a silent host: the caller bounds it with a
/// timeout (the kernel would retry the SYN for minutes).
pub async fn connect(to: SocketAddr) -> (Verdict, Option<Duration>) {
    let socket = match to {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    };
    let socket = match socket {
        Ok(s) => s,
        Err(e) => {
            return (
                Verdict::Failed(format!("cannot create a socket: {e}")),
                None,
            )
        }
    };
    let started = Instant::now();
    match socket.connect(to).await {
        Ok(stream) => {
            let rtt = started.elapsed();
            // Close with RST. Failing to set the option only means a FIN.
            let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
            drop(stream);
            (Verdict::Open, Some(rtt))
        }
        Err(e) => {
            let rtt = started.elapsed();
            let verdict = classify(&e);
            let rtt = (verdict == Verdict::Refused).then_some(rtt);
            (verdict, rtt)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(code: i32) -> io::Error {
        io::Error::from_raw_os_error(code)
    }

    #[test]
    fn refused_means_the_host_answered() {
        let v = classify(&os(libc::ECONNREFUSED));
        assert_eq!(v, Verdict::Refused);
        assert!(v.reachable());
        assert!(Verdict::Open.reachable());
    }

    #[test]
    fn unreachable_errors_mean_down() {
        for (code, word) in [
            (libc::EHOSTUNREACH, "host unreachable"),
            (libc::ENETUNREACH, "network unreachable"),
        ] {
            let v = classify(&os(code));
            assert!(!v.reachable(), "{code}");
            match v {
                Verdict::Failed(text) => assert!(text.starts_with(word), "{text}"),
                other => panic!("{code}: {other:?}"),
            }
        }
        assert!(!classify(&os(libc::EADDRNOTAVAIL)).reachable());
    }
}
