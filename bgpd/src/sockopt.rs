//! Socket options a BGP speaker needs that the standard library lacks:
//! TCP-MD5 signatures (RFC 2385, Linux `TCP_MD5SIG`/`TCP_MD5SIG_EXT`) keyed
//! per peer address or per prefix for dynamic neighbours, and GTSM
//! (RFC 5082: send with TTL 255, accept only TTL/hop limit 255).
//!
//! Keys are installed on the listening socket before `accept`, so the
//! kernel drops unsigned or wrongly signed SYNs and the daemon never sees
//! them; an accepted socket inherits the key.

use std::io;
use std::net::IpAddr;
use std::os::fd::AsRawFd;

/// `TCP_MD5SIG_MAXKEYLEN` from linux/tcp.h.
pub const MD5_MAX_KEY_LEN: usize = 80;
/// `TCP_MD5SIG_FLAG_PREFIX`: the entry covers `tcpm_prefixlen` bits.
const TCP_MD5SIG_FLAG_PREFIX: u8 = 0x1;

/// `struct tcp_md5sig` from linux/tcp.h.
#[repr(C)]
struct TcpMd5Sig {
    addr: libc::sockaddr_storage,
    flags: u8,
    prefix_len: u8,
    key_len: u16,
    ifindex: libc::c_int,
    key: [u8; MD5_MAX_KEY_LEN],
}

fn storage_for(ip: IpAddr) -> libc::sockaddr_storage {
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    match ip {
        IpAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: 0,
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { std::ptr::write(&mut ss as *mut _ as *mut libc::sockaddr_in, sin) };
        }
        IpAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: 0,
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr {
                    s6_addr: a.octets(),
                },
                sin6_scope_id: 0,
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            unsafe { std::ptr::write(&mut ss as *mut _ as *mut libc::sockaddr_in6, sin6) };
        }
    }
    ss
}

/// Installs (or, with an empty `key`, removes) the TCP-MD5 key for peers at
/// `addr` — or, with `prefix_len`, for every address in `addr/prefix_len`.
/// An IPv4 peer reaching an IPv6 socket appears as a mapped address; callers
/// with dual-stack listeners install both forms.
pub fn set_md5_key(
    socket: &impl AsRawFd,
    addr: IpAddr,
    prefix_len: Option<u8>,
    key: &[u8],
) -> io::Result<()> {
    if key.len() > MD5_MAX_KEY_LEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "TCP-MD5 key of {} octets exceeds {MD5_MAX_KEY_LEN}",
                key.len()
            ),
        ));
    }
    let mut sig = TcpMd5Sig {
        addr: storage_for(addr),
        flags: 0,
        prefix_len: 0,
        key_len: key.len() as u16,
        ifindex: 0,
        key: [0; MD5_MAX_KEY_LEN],
    };
    sig.key[..key.len()].copy_from_slice(key);
    let opt = match prefix_len {
        Some(len) => {
            sig.flags = TCP_MD5SIG_FLAG_PREFIX;
            sig.prefix_len = len;
            libc::TCP_MD5SIG_EXT
        }
        None => libc::TCP_MD5SIG,
    };
    // SAFETY: `sig` is a valid, initialised tcp_md5sig that outlives the call,
    // and the length passed is its exact size.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            opt,
            &sig as *const TcpMd5Sig as *const libc::c_void,
            std::mem::size_of::<TcpMd5Sig>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn set_int(
    socket: &impl AsRawFd,
    level: libc::c_int,
    opt: libc::c_int,
    v: libc::c_int,
) -> io::Result<()> {
    // SAFETY: an int option with its exact size.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            opt,
            &v as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// GTSM (RFC 5082): send with TTL (hop limit) 255 and drop anything that
/// arrives with less, i.e. from more than one hop away. On a listening
/// socket the minimum applies to accepted connections too.
pub fn set_gtsm(socket: &impl AsRawFd, ipv6: bool) -> io::Result<()> {
    if ipv6 {
        set_int(socket, libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS, 255)?;
        set_int(socket, libc::IPPROTO_IPV6, libc::IPV6_MINHOPCOUNT, 255)
    } else {
        set_int(socket, libc::IPPROTO_IP, libc::IP_TTL, 255)?;
        set_int(socket, libc::IPPROTO_IP, libc::IP_MINTTL, 255)
    }
}

/// Sets the TTL (hop limit) of outgoing packets, e.g. 255 toward a GTSM peer.
pub fn set_ttl(socket: &impl AsRawFd, ipv6: bool, ttl: u8) -> io::Result<()> {
    if ipv6 {
        set_int(
            socket,
            libc::IPPROTO_IPV6,
            libc::IPV6_UNICAST_HOPS,
            ttl.into(),
        )
    } else {
        set_int(socket, libc::IPPROTO_IP, libc::IP_TTL, ttl.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
    use std::time::Duration;

    fn md5_client(to: SocketAddr, key: Option<&[u8]>) -> io::Result<TcpStream> {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
        if let Some(k) = key {
            set_md5_key(&s, to.ip(), None, k)?;
        }
        s.connect_timeout(&to.into(), Duration::from_millis(700))?;
        Ok(s.into())
    }

    /// The kernel completes the handshake only when both sides sign with the
    /// same key: the real behaviour the daemon relies on, on loopback.
    #[test]
    fn md5_keys_gate_the_handshake() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        set_md5_key(
            &listener,
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            Some(8),
            b"cilium-secret",
        )
        .unwrap();
        assert!(md5_client(addr, Some(b"cilium-secret")).is_ok());
        assert!(md5_client(addr, Some(b"wrong")).is_err());
        assert!(md5_client(addr, None).is_err());
        // Removing the key opens the listener to unsigned peers again.
        set_md5_key(&listener, IpAddr::V4(Ipv4Addr::LOCALHOST), Some(8), b"").unwrap();
        assert!(md5_client(addr, None).is_ok());
    }

    #[test]
    fn oversize_key_is_refused() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let e =
            set_md5_key(&listener, IpAddr::V4(Ipv4Addr::LOCALHOST), None, &[1; 81]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }

    /// Loopback traffic leaves with TTL 64 by default, so a GTSM listener
    /// refuses it, and accepts a client that sends with TTL 255.
    #[test]
    fn gtsm_drops_packets_below_ttl_255() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        set_gtsm(&listener, false).unwrap();
        let far = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        set_ttl(&far, false, 64).unwrap();
        assert!(far
            .connect_timeout(&addr.into(), Duration::from_millis(700))
            .is_err());
        let near =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        set_ttl(&near, false, 255).unwrap();
        near.connect_timeout(&addr.into(), Duration::from_millis(700))
            .unwrap();
    }
}
