//! The running daemon: binds the listeners, accepts and matches connections
//! to configured peers, dials active peers, runs one session task per
//! connection, serves the HTTP API, and shuts down gracefully.
//!
//! A connection from an address that matches no peer is answered with
//! Cease/Connection Rejected (RFC 4486) and closed. TCP-MD5 keys are
//! installed on the listening sockets, so the kernel itself drops unsigned
//! SYNs from keyed peers. Every session runs in its own task: one bad peer
//! cannot disturb another.

use crate::config::{Config, ConnectMode, PeerConfig, PeerMatch};
use crate::negotiate::LocalSettings;
use crate::peer::Peer;
use crate::recorder::{self, Recorder};
use crate::session::{self, SessionSettings};
use crate::sockopt;
use bgp_proto::codes::CeaseSubcode;
use bgp_proto::notification::NotificationRepr;
use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;

/// Shared state of the running daemon.
#[derive(Debug)]
pub struct Daemon {
    /// The configuration it runs.
    pub config: Config,
    /// Every peer seen or configured, by address.
    pub peers: RwLock<BTreeMap<IpAddr, Arc<Peer>>>,
    /// MRT recorder, when configured.
    pub recorder: Option<Recorder>,
    /// Flips to true on shutdown.
    pub shutdown: watch::Sender<bool>,
    /// Bumped to make every session request a route refresh.
    pub refresh: watch::Sender<u64>,
    /// Connections refused because no peer matched.
    pub rejected: AtomicU64,
    /// Set once every listener is bound.
    pub ready: AtomicBool,
    /// Bumped by every peer on any change of session state or routes.
    pub changes: Arc<watch::Sender<u64>>,
    /// The verifier's latest report.
    pub report: watch::Sender<Arc<crate::verify::Report>>,
    next_conn: AtomicU64,
}

impl Daemon {
    /// A daemon for `config`, with its statically addressed peers registered.
    pub fn new(config: Config) -> io::Result<Arc<Self>> {
        let recorder = match &config.mrt {
            Some(m) => Some(Recorder::start(recorder::Settings {
                dir: m.dir.clone(),
                rotate: m.rotate,
                max_files: m.max_files as usize,
            })?),
            None => None,
        };
        let changes = Arc::new(watch::channel(0).0);
        let mut peers = BTreeMap::new();
        for pc in &config.peers {
            if let PeerMatch::Address(a) = pc.remote {
                peers.insert(
                    a,
                    Arc::new(Peer::new(
                        pc.name.clone(),
                        a,
                        pc.remote_asn,
                        pc.role,
                        changes.clone(),
                    )),
                );
            }
        }
        Ok(Arc::new(Self {
            config,
            peers: RwLock::new(peers),
            recorder,
            shutdown: watch::channel(false).0,
            refresh: watch::channel(0).0,
            rejected: AtomicU64::new(0),
            ready: AtomicBool::new(false),
            changes,
            report: watch::channel(Arc::new(crate::verify::Report::default())).0,
            next_conn: AtomicU64::new(1),
        }))
    }

    /// The peer object for `ip` under `pc`, created on first contact for
    /// dynamic (prefix) neighbours.
    fn peer(&self, pc: &PeerConfig, ip: IpAddr) -> Arc<Peer> {
        if let Some(p) = self.peers.read().ok().and_then(|m| m.get(&ip).cloned()) {
            return p;
        }
        let name = if pc.is_dynamic() {
            format!("{}/{ip}", pc.name)
        } else {
            pc.name.clone()
        };
        let mut map = match self.peers.write() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        map.entry(ip)
            .or_insert_with(|| {
                Arc::new(Peer::new(
                    name,
                    ip,
                    pc.remote_asn,
                    pc.role,
                    self.changes.clone(),
                ))
            })
            .clone()
    }

    /// All peers, ordered by address.
    pub fn peer_list(&self) -> Vec<Arc<Peer>> {
        self.peers
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    fn settings(
        &self,
        pc: &PeerConfig,
        local: SocketAddr,
        remote: SocketAddr,
        active: bool,
    ) -> SessionSettings {
        SessionSettings {
            local: LocalSettings {
                asn: self.config.asn,
                router_id: self.config.router_id,
                hold_time: pc.hold_time_secs(),
                families: pc.families.clone(),
                add_path_receive: pc.add_path_receive,
                graceful_restart_helper: pc.graceful_restart.helper,
                restart_time: 120,
            },
            max_prefixes: pc.max_prefixes,
            graceful_restart_helper: pc.graceful_restart.helper,
            stale_timeout: pc.graceful_restart.stale_timeout,
            locally_initiated: active,
            local_addr: local,
            peer_addr: remote,
            conn_id: self.next_conn.fetch_add(1, Ordering::Relaxed),
            refresh: Some(self.refresh.subscribe()),
        }
    }

    /// Runs a session on an established connection.
    async fn serve(self: Arc<Self>, stream: TcpStream, pc: PeerConfig, active: bool) {
        let (Ok(local), Ok(remote)) = (stream.local_addr(), stream.peer_addr()) else {
            return;
        };
        let ip = remote.ip().to_canonical();
        if pc.ttl_security {
            if let Err(e) = sockopt::set_gtsm(&stream, remote.is_ipv6()) {
                tracing::warn!(peer = %pc.name, error = %e, "cannot enable GTSM on the connection");
            }
        }
        let _ = stream.set_nodelay(true);
        let peer = self.peer(&pc, ip);
        let settings = self.settings(&pc, local, remote, active);
        tracing::info!(peer = %peer.name, %remote, active, "connection");
        let reason = session::run(
            stream,
            peer.clone(),
            settings,
            self.recorder.clone(),
            self.shutdown.subscribe(),
        )
        .await;
        tracing::info!(peer = %peer.name, %reason, "session ended");
    }
}

/// Answers an unknown source with Cease/Connection Rejected and closes.
async fn reject(mut stream: TcpStream) {
    let mut out = Vec::new();
    if NotificationRepr::cease(CeaseSubcode::ConnectionRejected)
        .emit(&mut out)
        .is_ok()
    {
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.write_all(&out)).await;
    }
    let _ = stream.shutdown().await;
}

/// Binds one listening socket, with every TCP-MD5 key installed.
fn bind(addr: SocketAddr, config: &Config) -> io::Result<TcpListener> {
    let domain = socket2::Domain::for_address(addr);
    let socket = socket2::Socket::new(domain, socket2::Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    for pc in &config.peers {
        let Some(key) = &pc.md5_key else { continue };
        let (ip, len) = match pc.remote {
            PeerMatch::Address(a) => (a, None),
            PeerMatch::Prefix(n) => (n.addr(), Some(n.prefix_len())),
        };
        if ip.is_ipv6() != addr.is_ipv6() {
            continue;
        }
        sockopt::set_md5_key(&socket, ip, len, key).map_err(|e| {
            io::Error::new(e.kind(), format!("TCP-MD5 key for peer {}: {e}", pc.name))
        })?;
    }
    socket.bind(&addr.into())?;
    socket.listen(128)?;
    socket.set_nonblocking(true)?;
    TcpListener::from_std(socket.into())
}

async fn accept_loop(daemon: Arc<Daemon>, listener: TcpListener) {
    let mut shutdown = daemon.shutdown.subscribe();
    loop {
        let (stream, remote) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let ip = remote.ip().to_canonical();
        match daemon.config.peer_for(ip).cloned() {
            None => {
                daemon.rejected.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%remote, "connection from an address that matches no peer: Cease/Connection Rejected");
                tokio::spawn(reject(stream));
            }
            Some(pc) => {
                tokio::spawn(daemon.clone().serve(stream, pc, false));
            }
        }
    }
}

/// Dials an active peer, runs the session, waits `connect_retry`, again.
async fn dial_loop(daemon: Arc<Daemon>, pc: PeerConfig, addr: SocketAddr) {
    let mut shutdown = daemon.shutdown.subscribe();
    while !*shutdown.borrow() {
        let socket = match addr {
            SocketAddr::V4(_) => TcpSocket::new_v4(),
            SocketAddr::V6(_) => TcpSocket::new_v6(),
        };
        let connected = async {
            let socket = socket?;
            if let Some(key) = &pc.md5_key {
                sockopt::set_md5_key(&socket, addr.ip(), None, key)?;
            }
            if pc.ttl_security {
                sockopt::set_ttl(&socket, addr.is_ipv6(), 255)?;
            }
            tokio::time::timeout(Duration::from_secs(10), socket.connect(addr))
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))?
        }
        .await;
        match connected {
            Ok(stream) if !daemon.peer(&pc, addr.ip()).is_established() => {
                daemon.clone().serve(stream, pc.clone(), true).await;
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(peer = %pc.name, %addr, error = %e, "dial failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(daemon.config.connect_retry) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Starts listeners, dialers and the HTTP API; returns when they are up.
pub async fn start(daemon: Arc<Daemon>) -> io::Result<()> {
    for addr in &daemon.config.listen {
        let listener = bind(*addr, &daemon.config)
            .map_err(|e| io::Error::new(e.kind(), format!("listen on {addr}: {e}")))?;
        tracing::info!(%addr, "listening for BGP");
        tokio::spawn(accept_loop(daemon.clone(), listener));
    }
    for pc in &daemon.config.peers {
        if let (ConnectMode::Active { port }, PeerMatch::Address(ip)) = (pc.connect, pc.remote) {
            tokio::spawn(dial_loop(
                daemon.clone(),
                pc.clone(),
                SocketAddr::new(ip, port),
            ));
        }
    }
    let http = tokio::net::TcpListener::bind(daemon.config.http.listen)
        .await
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("HTTP listen on {}: {e}", daemon.config.http.listen),
            )
        })?;
    tracing::info!(addr = %daemon.config.http.listen, "HTTP API: /api/v1/peers, /api/v1/routes, /healthz");
    tokio::spawn(crate::http::serve(daemon.clone(), http));
    daemon.ready.store(true, Ordering::SeqCst);
    Ok(())
}

/// Asks every Established peer that supports it to re-send its routes
/// (ROUTE-REFRESH, RFC 2918); the daemon does this on SIGUSR1.
pub fn request_refresh(daemon: &Daemon) {
    daemon.refresh.send_modify(|n| *n += 1);
}

/// Tells every session to close with Cease/Administrative Shutdown and
/// gives them a moment to send it.
pub async fn stop(daemon: &Daemon) {
    let _ = daemon.shutdown.send(true);
    for _ in 0..40 {
        if daemon.peer_list().iter().all(|p| !p.is_established()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if let Some(r) = &daemon.recorder {
        r.flush();
    }
}
