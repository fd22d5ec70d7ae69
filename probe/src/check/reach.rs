//! The data plane as seen from where `check` runs: a TCP connect to every
//! LoadBalancer IP on each of its Service's TCP ports, at most
//! `--concurrency` at a time, each within `--timeout`.
//!
//! With `--http`, web ports get more than a connect: ports 80 and 8080 an
//! HTTP GET of `/` (any HTTP status counts as an answer), ports 443 and
//! 8443 a TLS handshake (rustls, TLS 1.2/1.3). The server's certificate is
//! not verified (an LB IP is rarely the name on it); its handshake
//! signature is, so a completed handshake means a TLS server holding the
//! key of the certificate it sent answered at that address. UDP and SCTP
//! ports are listed as not probed.
//!
//! Every probe that gets no answer becomes a critical finding of kind
//! `unreachable-from-here`, e.g. "connection timed out to
//! 172.29.52.200:443".

use super::merge::{MergedFinding, Service, UNREACHABLE_FROM_HERE};
use crate::api::http;
use bgpd::verify::Severity;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde::Serialize;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Ports that get an HTTP GET with `--http`.
pub const HTTP_PORTS: [u16; 2] = [80, 8080];
/// Ports that get a TLS handshake with `--http`.
pub const HTTPS_PORTS: [u16; 2] = [443, 8443];

/// How to probe.
#[derive(Debug, Clone)]
pub struct Options {
    pub timeout: Duration,
    pub concurrency: usize,
    /// Ports that get an HTTP GET after connecting (empty without --http).
    pub http_ports: Vec<u16>,
    /// Ports that get a TLS handshake after connecting.
    pub https_ports: Vec<u16>,
}

/// One probe's result.
#[derive(Debug, Clone, Serialize)]
pub struct ReachResult {
    /// `namespace/name`.
    pub service: String,
    pub ip: IpAddr,
    pub port: u16,
    /// `TCP`, `UDP`, `SCTP`.
    pub protocol: String,
    /// What was tried: `tcp`, `http`, `tls`, or `none` (not probed).
    pub probe: String,
    /// Whether something answered.
    pub ok: bool,
    /// `open`, `HTTP 200`, `TLS 1.3 (certificate not verified)`,
    /// `connection timed out`, `UDP not probed`, ...
    pub result: String,
    /// Connect time, when connected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_ms: Option<f64>,
}

impl ReachResult {
    /// The finding for a failed probe.
    pub fn finding(&self) -> Option<MergedFinding> {
        if self.ok || self.probe == "none" {
            return None;
        }
        let what = match self.probe.as_str() {
            "http" => "no HTTP answer",
            "tls" => "no TLS handshake",
            _ => "",
        };
        let addr = SocketAddr::new(self.ip, self.port);
        let message = if what.is_empty() {
            format!("{} to {addr}", self.result)
        } else {
            format!("{what} from {addr}: {}", self.result)
        };
        let prefix = match self.ip {
            IpAddr::V4(_) => format!("{}/32", self.ip),
            IpAddr::V6(_) => format!("{}/128", self.ip),
        };
        Some(MergedFinding {
            kind: UNREACHABLE_FROM_HERE.into(),
            severity: Severity::Critical,
            pool: None,
            service: Some(self.service.clone()),
            prefix: Some(prefix),
            node: None,
            peer: None,
            message: format!("{message} (Service {})", self.service),
            hint: "compare with the BGP view of this IP: not advertised or not accepted explains it; advertised and accepted points at the path from here (routing toward the router, firewalls) or at the Service's endpoints".into(),
            causes: Vec::new(),
            seen_by: vec!["here".into()],
        })
    }
}

/// Probes every (IP, port) of `services`; results in Service, IP, port
/// order.
pub async fn probe_all(services: &[Service], opts: Options) -> Vec<ReachResult> {
    let semaphore = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let opts = Arc::new(opts);
    let tls = Arc::new(tls_config());
    let mut tasks = Vec::new();
    for s in services {
        for ip in &s.ips {
            for port in &s.ports {
                let (number, protocol) = split_port(port);
                let Some(number) = number else { continue };
                let base = ReachResult {
                    service: s.id(),
                    ip: ip.ip,
                    port: number,
                    protocol: protocol.clone(),
                    probe: "none".into(),
                    ok: false,
                    result: String::new(),
                    connect_ms: None,
                };
                if protocol != "TCP" {
                    tasks.push(tokio::spawn(async move {
                        ReachResult {
                            result: format!("{} not probed", base.protocol),
                            ..base
                        }
                    }));
                    continue;
                }
                let semaphore = semaphore.clone();
                let tls = tls.clone();
                let opts = opts.clone();
                tasks.push(tokio::spawn(async move {
                    let _permit = semaphore.acquire_owned().await;
                    probe_one(base, &opts, tls).await
                }));
            }
        }
    }
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        if let Ok(r) = t.await {
            out.push(r);
        }
    }
    out
}

/// `80/TCP` → (80, `TCP`); a port without protocol is TCP.
fn split_port(text: &str) -> (Option<u16>, String) {
    let (num, proto) = text.split_once('/').unwrap_or((text, "TCP"));
    (num.trim().parse().ok(), proto.trim().to_ascii_uppercase())
}

async fn probe_one(
    mut r: ReachResult,
    opts: &Options,
    tls: Arc<rustls::ClientConfig>,
) -> ReachResult {
    let addr = SocketAddr::new(r.ip, r.port);
    r.probe = "tcp".into();
    let started = Instant::now();
    let stream = match http::connect(addr, opts.timeout).await {
        Ok(s) => s,
        Err(http::HttpError::Timeout) => {
            r.result = "connection timed out".into();
            return r;
        }
        Err(e) => {
            r.result = e.to_string();
            return r;
        }
    };
    r.connect_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
    if opts.http_ports.contains(&r.port) {
        r.probe = "http".into();
        let host = match r.ip {
            IpAddr::V4(_) => r.ip.to_string(),
            IpAddr::V6(_) => format!("[{}]", r.ip),
        };
        let exchange = http::get_on(stream, &host, "/");
        match tokio::time::timeout(opts.timeout, exchange).await {
            Ok(Ok(resp)) => {
                r.ok = true;
                r.result = format!("HTTP {}", resp.status);
            }
            Ok(Err(e)) => r.result = e.to_string(),
            Err(_) => r.result = "timed out".into(),
        }
        return r;
    }
    if opts.https_ports.contains(&r.port) {
        r.probe = "tls".into();
        let connector = tokio_rustls::TlsConnector::from(tls);
        let name = ServerName::IpAddress(r.ip.into());
        match tokio::time::timeout(opts.timeout, connector.connect(name, stream)).await {
            Ok(Ok(conn)) => {
                let version = match conn.get_ref().1.protocol_version() {
                    Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3",
                    Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2",
                    _ => "TLS",
                };
                r.ok = true;
                r.result = format!("{version} (certificate not verified)");
            }
            Ok(Err(e)) => r.result = format!("TLS handshake failed: {e}"),
            Err(_) => r.result = "TLS handshake timed out".into(),
        }
        return r;
    }
    r.ok = true;
    r.result = "open".into();
    r
}

/// A client configuration that completes a handshake with any certificate
/// but still checks the handshake signature against it.
fn tls_config() -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(AnyCertificate {
        provider: provider.clone(),
    });
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth()
}

/// Accepts the server's certificate chain without looking at it; verifies
/// the handshake signatures with the provider's algorithms.
#[derive(Debug)]
struct AnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::merge::ServiceIp;
    use std::io::{Read, Write};

    fn service(ip: &str, ports: &[&str]) -> Service {
        Service {
            namespace: "ns".into(),
            name: "svc".into(),
            ports: ports.iter().map(|p| p.to_string()).collect(),
            external_traffic_local: false,
            ips: vec![ServiceIp {
                ip: ip.parse().unwrap(),
                pool: None,
                expected_from: vec![],
                advertised_by: vec![],
                router_next_hops: vec![],
                advertised: true,
                accepted: true,
            }],
            not_advertised: vec![],
            no_ip: None,
        }
    }

    #[test]
    fn port_texts() {
        assert_eq!(split_port("80/TCP"), (Some(80), "TCP".into()));
        assert_eq!(split_port("53/udp"), (Some(53), "UDP".into()));
        assert_eq!(split_port("8443"), (Some(8443), "TCP".into()));
        assert_eq!(split_port("x/TCP").0, None);
    }

    /// Loopback only: a listener that answers HTTP, a port nothing
    /// listens on, a listener that closes at once (so no TLS), and a UDP
    /// port; the web ports are the listeners' instead of 80 and 443.
    #[tokio::test]
    async fn open_refused_http_and_tls_failures() {
        let web = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let web_port = web.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for s in web.incoming().take(2) {
                let mut s = s.unwrap();
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf);
                let _ = s.write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
            }
        });
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let not_tls = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let not_tls_port = not_tls.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for s in not_tls.incoming().take(2) {
                drop(s);
            }
        });
        let ports = [
            format!("{web_port}/TCP"),
            format!("{closed}/TCP"),
            format!("{not_tls_port}/TCP"),
            "53/UDP".to_string(),
        ];
        let ports: Vec<&str> = ports.iter().map(String::as_str).collect();
        let svc = service("127.0.0.1", &ports);
        let mut opts = Options {
            timeout: Duration::from_secs(3),
            concurrency: 2,
            http_ports: vec![],
            https_ports: vec![],
        };
        let r = probe_all(std::slice::from_ref(&svc), opts.clone()).await;
        let got: Vec<(u16, &str, bool, &str)> = r
            .iter()
            .map(|x| (x.port, x.probe.as_str(), x.ok, x.result.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (web_port, "tcp", true, "open"),
                (closed, "tcp", false, "connection refused"),
                (not_tls_port, "tcp", true, "open"),
                (53, "none", false, "UDP not probed"),
            ]
        );
        let f = r[1].finding().unwrap();
        assert_eq!(f.kind, "unreachable-from-here");
        assert_eq!(f.severity, Severity::Critical);
        assert!(f
            .message
            .starts_with(&format!("connection refused to 127.0.0.1:{closed}")));
        assert!(r[0].finding().is_none() && r[3].finding().is_none());

        opts.http_ports = vec![web_port, closed];
        opts.https_ports = vec![not_tls_port];
        let r = probe_all(std::slice::from_ref(&svc), opts).await;
        let got: Vec<(&str, bool)> = r.iter().map(|x| (x.probe.as_str(), x.ok)).collect();
        assert_eq!(
            got,
            [
                ("http", true),
                ("tcp", false),
                ("tls", false),
                ("none", false)
            ]
        );
        assert_eq!(r[0].result, "HTTP 204");
        assert!(
            r[2].result.starts_with("TLS handshake failed"),
            "{}",
            r[2].result
        );
        let f = r[2].finding().unwrap();
        assert!(f.message.starts_with(&format!(
            "no TLS handshake from 127.0.0.1:{not_tls_port}: TLS handshake failed"
        )));
    }
}
