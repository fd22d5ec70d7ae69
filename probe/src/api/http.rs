//! A plain HTTP/1.1 GET over one TCP connection (hyper's connection-level
//! client), with one deadline for connect, request and body, and errors
//! that say which of them failed and why (refused, timed out, no route).
//!
//! Used for bgpd's API and, by `check --http`, for web ports of
//! LoadBalancer IPs. No redirects, no keep-alive, no proxy: a bgpd API is
//! addressed directly.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::header::{HeaderValue, HOST, USER_AGENT};
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;

/// Largest body read (a report of a large cluster is a few MiB).
const MAX_BODY: usize = 64 << 20;

/// Why a GET got no usable answer.
#[derive(Debug)]
pub enum HttpError {
    /// The name did not resolve.
    Resolve(String),
    /// The TCP connection failed.
    Connect(io::Error),
    /// The deadline passed (connect, request or body).
    Timeout,
    /// The HTTP exchange failed after connecting.
    Protocol(String),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Resolve(e) => write!(f, "cannot resolve: {e}"),
            HttpError::Connect(e) => f.write_str(&connect_error(e)),
            HttpError::Timeout => f.write_str("timed out"),
            HttpError::Protocol(e) => write!(f, "HTTP error: {e}"),
        }
    }
}

/// A connection error in the words an operator expects: "connection
/// refused", "connection timed out", "network unreachable", "no route to
/// host".
pub fn connect_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::TimedOut => "connection timed out".into(),
        io::ErrorKind::NetworkUnreachable => "network unreachable".into(),
        io::ErrorKind::HostUnreachable => "no route to host".into(),
        io::ErrorKind::ConnectionReset => "connection reset".into(),
        _ => e.to_string(),
    }
}

/// A response: status and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Bytes,
}

/// Opens a TCP connection to `addr` within `timeout`.
pub async fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, HttpError> {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(HttpError::Connect(e)),
        Err(_) => Err(HttpError::Timeout),
    }
}

/// Resolves `host:port` (a name or an address) to its first address.
pub async fn resolve(host: &str, port: u16) -> Result<SocketAddr, HttpError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse() {
        return Ok(SocketAddr::new(ip, port));
    }
    let mut addrs = tokio::net::lookup_host((bare, port))
        .await
        .map_err(|e| HttpError::Resolve(format!("{host}: {e}")))?;
    addrs
        .next()
        .ok_or_else(|| HttpError::Resolve(format!("{host}: no address")))
}

/// `GET path` with `Host: authority` on a new connection to `addr`; the
/// whole exchange within `timeout`.
pub async fn get(
    addr: SocketAddr,
    authority: &str,
    path: &str,
    timeout: Duration,
) -> Result<Response, HttpError> {
    let exchange = async {
        let stream = TcpStream::connect(addr).await.map_err(HttpError::Connect)?;
        get_on(stream, authority, path).await
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(r) => r,
        Err(_) => Err(HttpError::Timeout),
    }
}

/// `GET path` on an open connection.
pub async fn get_on(stream: TcpStream, authority: &str, path: &str) -> Result<Response, HttpError> {
    let protocol = |e: hyper::Error| HttpError::Protocol(e.to_string());
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(protocol)?;
    // The connection is driven by its own task; it ends with the exchange.
    let driver = tokio::spawn(conn);
    let host = HeaderValue::from_str(authority)
        .map_err(|_| HttpError::Protocol(format!("bad host {authority:?}")))?;
    let request = Request::get(path)
        .header(HOST, host)
        .header(USER_AGENT, concat!("bgp-probe/", env!("CARGO_PKG_VERSION")))
        .body(Empty::<Bytes>::new())
        .map_err(|e| HttpError::Protocol(e.to_string()))?;
    let response = sender.send_request(request).await.map_err(protocol)?;
    let status = response.status().as_u16();
    let body = Limited::new(response.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| HttpError::Protocol(e.to_string()))?
        .to_bytes();
    driver.abort();
    Ok(Response { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A one-shot server on loopback answering `reply` to one request.
    fn serve_once(reply: &'static str) -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = s.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(reply.as_bytes()).unwrap();
        });
        addr
    }

    #[tokio::test]
    async fn reads_status_and_body_plain_and_chunked() {
        let addr = serve_once("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n");
        let r = get(addr, "x", "/healthz", Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!((r.status, &r.body[..]), (200, &b"ok\n"[..]));
        let addr = serve_once(
            "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        );
        let r = get(addr, "x", "/nope", Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!((r.status, &r.body[..]), (404, &b"{}"[..]));
    }

    #[tokio::test]
    async fn refused_and_silent_servers() {
        // A port just released: nothing listens there.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let e = get(addr, "x", "/", Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "connection refused");
        // Accepts and never answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let e = get(addr, "x", "/", Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(matches!(e, HttpError::Timeout), "{e}");
        drop(listener);
    }
}
