//! The BGP session of a replay: connect, OPEN exchange, streaming with
//! KEEPALIVEs on the side, End-of-RIB, and the close.
//!
//! After the OPEN exchange the connection is split. A reader task decodes
//! everything the peer sends: KEEPALIVEs and UPDATEs are taken in, a
//! ROUTE-REFRESH asks for the family again, a NOTIFICATION, a malformed
//! message, the end of the connection or the expiry of the hold timer end
//! the session. A keepalive task writes a KEEPALIVE every third of the hold
//! time. A stream task writes the encoder's chunks. The writers share the
//! write half behind a mutex taken per chunk, so a KEEPALIVE goes between
//! two chunks of whole messages, never inside an UPDATE; a stream asked to
//! stop finishes the chunk it is writing, so the NOTIFICATION that follows
//! starts on a message boundary.

use super::encode::{encode_plan, Counts, SendSettings};
use super::plan::Plan;
use super::{After, Ending, ReplayError, Settings, Summary};
use bgp_proto::capability::CapabilityRepr;
use bgp_proto::codes::{ErrorCode, FsmSubcode, OpenMessageSubcode};
use bgp_proto::context::MAX_MESSAGE_LEN;
use bgp_proto::header::frame_len;
use bgp_proto::keepalive::emit_keepalive;
use bgp_proto::notification::{Notification, NotificationRepr};
use bgp_proto::open::{Open, OpenRepr};
use bgp_proto::route_refresh::Subtype;
use bgp_proto::{Family, Message, SessionContext};
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc, oneshot, Mutex};
use tokio::task::JoinHandle;

/// How long the TCP connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the OPEN exchange may take.
const OPEN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long closing waits for the last chunk, the NOTIFICATION and the
/// peer's end of the connection.
const CLOSE_WAIT: Duration = Duration::from_secs(3);
/// The Shutdown Communication of our Cease (RFC 9003).
const SHUTDOWN_TEXT: &str = "bgp-probe replay finished";

/// What the OPEN exchange settled.
#[derive(Debug, Clone)]
struct Negotiated {
    peer_as: u32,
    peer_id: Ipv4Addr,
    hold_time: u16,
    four_octet_as: bool,
    extended_message: bool,
    families: Vec<Family>,
    route_refresh: bool,
}

impl Negotiated {
    /// How messages decode and encode in both directions (no ADD-PATH: we
    /// do not offer it).
    fn context(&self) -> SessionContext {
        let mut ctx = SessionContext::classic();
        ctx.four_octet_as = self.four_octet_as;
        ctx.extended_message = self.extended_message;
        ctx
    }
}

/// Messages cut from the byte stream.
#[derive(Debug)]
struct Frames {
    buf: Vec<u8>,
    start: usize,
    max: usize,
}

impl Frames {
    fn new() -> Self {
        Self {
            buf: Vec::with_capacity(64 * 1024),
            start: 0,
            max: MAX_MESSAGE_LEN,
        }
    }

    /// The next whole message in the buffer.
    fn pop(&mut self) -> Result<Option<Vec<u8>>, bgp_proto::Error> {
        match frame_len(&self.buf[self.start..], self.max)? {
            Some(len) => {
                let m = self.buf[self.start..self.start + len].to_vec();
                self.start += len;
                if self.start == self.buf.len() {
                    self.buf.clear();
                    self.start = 0;
                }
                Ok(Some(m))
            }
            None => {
                self.buf.drain(..self.start);
                self.start = 0;
                Ok(None)
            }
        }
    }

    /// Reads more octets; `Ok(0)` at the end of the stream.
    async fn fill<R: AsyncRead + Unpin>(&mut self, rd: &mut R) -> io::Result<usize> {
        self.buf.reserve(64 * 1024);
        rd.read_buf(&mut self.buf).await
    }
}

/// The write half, shared by the stream, keepalive and close.
#[derive(Debug)]
struct Writer(Mutex<OwnedWriteHalf>);

impl Writer {
    async fn send(&self, b: &[u8]) -> io::Result<()> {
        self.0.lock().await.write_all(b).await
    }
}

/// What the reader task reports.
#[derive(Debug)]
enum PeerEvent {
    /// The session is over: why, and the NOTIFICATION to send if any.
    Failed(ReplayError, Option<NotificationRepr>),
    /// The peer asked for a family again (RFC 2918).
    Refresh(Family),
}

/// Why streaming stopped before its end.
enum Stop {
    Failed(ReplayError, Option<NotificationRepr>),
    Shutdown,
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn family_list(f: &[Family]) -> String {
    if f.is_empty() {
        return "none".into();
    }
    f.iter()
        .map(|f| f.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs the session for `plan`. `shutdown` completing closes it (SIGINT or
/// SIGTERM in the binary); `streamed`, when given, receives the summary as
/// soon as End-of-RIB is written (for tests that look at the receiver
/// while the session is up).
pub(crate) async fn replay(
    s: &Settings,
    plan: Arc<Plan>,
    shutdown: impl Future<Output = ()>,
    streamed: Option<oneshot::Sender<Summary>>,
) -> Result<Summary, ReplayError> {
    let shutdown = std::pin::pin!(shutdown);
    let mut shutdown: Pin<&mut _> = shutdown;
    let mut stream = connect(s).await?;
    let local = stream.local_addr().map_err(|error| ReplayError::Connect {
        peer: s.peer,
        error,
    })?;
    let router_id = match (s.router_id, local.ip()) {
        (Some(id), _) => id,
        (None, IpAddr::V4(a)) => a,
        (None, IpAddr::V6(_)) => {
            return Err(ReplayError::Usage(
                "--router-id is required on an IPv6 session".into(),
            ))
        }
    };
    let mut frames = Frames::new();
    let n = tokio::select! {
        r = open_exchange(&mut stream, &mut frames, s, router_id) => r?,
        _ = &mut shutdown => return Err(ReplayError::Interrupted),
    };
    let established = Instant::now();
    let ctx = n.context();
    let mut summary = Summary {
        peer: s.peer,
        local,
        peer_as: n.peer_as,
        peer_id: n.peer_id,
        established_unix: unix_now(),
        families: n.families.clone(),
        updates: 0,
        announced: 0,
        withdrawn: 0,
        not_sent: 0,
        octets: 0,
        seconds: 0.0,
        ending: None,
    };
    println!(
        "{:<14}{} (AS {}, BGP ID {})",
        "peer", summary.peer, summary.peer_as, summary.peer_id
    );
    println!(
        "{:<14}{} (AS {}, BGP ID {}, {})",
        "local",
        summary.local,
        s.local_as,
        router_id,
        if s.rewrite.ebgp { "eBGP" } else { "iBGP" }
    );
    println!(
        "{:<14}hold time {} s, {}-octet AS, messages up to {} octets, route refresh {}, families {}",
        "negotiated",
        n.hold_time,
        if n.four_octet_as { 4 } else { 2 },
        ctx.max_message_len(),
        if n.route_refresh { "yes" } else { "no" },
        family_list(&n.families)
    );
    println!("{:<14}unix {:.6}", "established", summary.established_unix);
    if n.families.is_empty() {
        eprintln!("bgp-probe replay: warning: the peer negotiated neither IPv4 nor IPv6 unicast: nothing can be sent");
    }

    let send = Arc::new(SendSettings {
        four_octet_as: n.four_octet_as,
        max_len: ctx.max_message_len(),
        families: n.families.clone(),
        next_hop4: s
            .rewrite
            .next_hop4
            .map(|a| a.octets())
            .or(match local.ip() {
                IpAddr::V4(a) => Some(a.octets()),
                IpAddr::V6(_) => None,
            }),
        next_hop6: Some(s.rewrite.next_hop6.map_or_else(
            || match local.ip() {
                IpAddr::V6(a) => a.octets(),
                IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
            },
            |a| a.octets(),
        )),
    });
    frames.max = ctx.max_message_len();
    let (rd, wr) = stream.into_split();
    let writer = Arc::new(Writer(Mutex::new(wr)));
    let closing = Arc::new(AtomicBool::new(false));
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let reader = tokio::spawn(read_loop(
        rd,
        frames,
        ctx,
        n.hold_time,
        n.families.clone(),
        closing.clone(),
        events_tx,
    ));
    let keepalive = (n.hold_time > 0).then(|| {
        tokio::spawn(keepalives(
            writer.clone(),
            Duration::from_secs(u64::from(n.hold_time / 3).max(1)),
        ))
    });
    let mut conn = Conn {
        writer,
        closing,
        reader,
        keepalive,
    };

    let mut refresh = Vec::new();
    let stream = spawn_stream(&plan, &send, &n.families, &conn.writer);
    let (counts, octets) = match drive(stream, &mut events, &mut shutdown, &mut refresh).await {
        Ok(r) => r,
        Err(Stop::Failed(e, notification)) => {
            conn.close(notification).await;
            return Err(e);
        }
        Err(Stop::Shutdown) => {
            conn.close(Some(NotificationRepr::administrative_shutdown(
                SHUTDOWN_TEXT,
            )))
            .await;
            return Err(ReplayError::Interrupted);
        }
    };
    summary.seconds = established.elapsed().as_secs_f64();
    summary.updates = counts.updates;
    summary.announced = counts.announced;
    summary.withdrawn = counts.withdrawn;
    summary.not_sent = counts.not_negotiated + counts.too_large + counts.no_next_hop;
    summary.octets = octets;
    report(&summary, &counts);
    if let Some(tx) = streamed {
        let _ = tx.send(summary.clone());
    }

    // After End-of-RIB: close now, later, or on a signal; answer
    // ROUTE-REFRESH meanwhile.
    let until = match s.after {
        After::Close => Some(Duration::ZERO),
        After::KeepOpen(d) => Some(d),
        After::Wait => None,
    };
    let timer = async {
        match until {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    let mut timer = std::pin::pin!(timer);
    let ending = loop {
        if let Some(f) = refresh.pop() {
            eprintln!("bgp-probe replay: ROUTE-REFRESH for {f}: sending it again");
            let stream = spawn_stream(&plan, &send, &[f], &conn.writer);
            match drive(stream, &mut events, &mut shutdown, &mut refresh).await {
                Ok((c, _)) => eprintln!(
                    "bgp-probe replay: {f} sent again: {} UPDATEs, {} prefixes",
                    c.updates,
                    c.announced + c.withdrawn
                ),
                Err(Stop::Failed(e, notification)) => {
                    conn.close(notification).await;
                    return Err(e);
                }
                Err(Stop::Shutdown) => break Ending::Interrupted,
            }
            continue;
        }
        tokio::select! {
            _ = &mut timer => break Ending::Closed,
            _ = &mut shutdown => break Ending::Interrupted,
            ev = events.recv() => match ev {
                Some(PeerEvent::Refresh(f)) => refresh.push(f),
                Some(PeerEvent::Failed(e, notification)) => {
                    conn.close(notification).await;
                    return Err(e);
                }
                None => {
                    conn.close(None).await;
                    return Err(ReplayError::Session("the reader stopped".into()));
                }
            },
        }
    };
    conn.close(Some(NotificationRepr::administrative_shutdown(
        SHUTDOWN_TEXT,
    )))
    .await;
    eprintln!("bgp-probe replay: session closed with Cease/Administrative Shutdown");
    summary.ending = Some(ending);
    Ok(summary)
}

/// The report lines of a finished stream.
fn report(s: &Summary, c: &Counts) {
    println!("{:<14}{}", "UPDATEs", s.updates);
    println!(
        "{:<14}{} ({} announced, {} withdrawn)",
        "prefixes",
        s.announced + s.withdrawn,
        s.announced,
        s.withdrawn
    );
    println!("{:<14}{}", "octets", s.octets);
    println!("{:<14}{:.3}", "seconds", s.seconds);
    println!("{:<14}{:.0}", "prefixes/s", s.rate());
    println!("{:<14}{}", "End-of-RIB", family_list(&s.families));
    if s.not_sent > 0 {
        println!("{:<14}{}", "not sent", s.not_sent);
    }
    for (n, why) in [
        (c.not_negotiated, "their family was not negotiated"),
        (c.too_large, "their attributes leave no room in a message"),
        (c.no_next_hop, "no next hop for their family"),
    ] {
        if n > 0 {
            eprintln!("bgp-probe replay: warning: {n} prefixes not sent: {why}");
        }
    }
}

/// The split connection and its tasks.
struct Conn {
    writer: Arc<Writer>,
    closing: Arc<AtomicBool>,
    reader: JoinHandle<()>,
    keepalive: Option<JoinHandle<()>>,
}

impl Conn {
    /// Sends `notification` (if any), closes our side, and waits a moment
    /// for the peer to close its side: reading until then lets the kernel
    /// deliver everything sent instead of resetting the connection.
    async fn close(&mut self, notification: Option<NotificationRepr>) {
        self.closing.store(true, Ordering::SeqCst);
        if let Some(k) = &self.keepalive {
            k.abort();
        }
        if let Some(n) = notification {
            let mut b = Vec::new();
            if n.emit(&mut b).is_ok() {
                let _ = tokio::time::timeout(CLOSE_WAIT, self.writer.send(&b)).await;
            }
        }
        let _ = tokio::time::timeout(CLOSE_WAIT, async {
            let _ = self.writer.0.lock().await.shutdown().await;
        })
        .await;
        if tokio::time::timeout(CLOSE_WAIT, &mut self.reader)
            .await
            .is_err()
        {
            self.reader.abort();
        }
    }
}

/// Dials the peer (from `--source` if given).
async fn connect(s: &Settings) -> Result<TcpStream, ReplayError> {
    let err = |error| ReplayError::Connect {
        peer: s.peer,
        error,
    };
    let socket = if s.peer.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(err)?;
    if let Some(src) = s.source {
        socket.bind(SocketAddr::new(src, 0)).map_err(|e| {
            err(io::Error::new(
                e.kind(),
                format!("cannot bind --source {src}: {e}"),
            ))
        })?;
    }
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, socket.connect(s.peer))
        .await
        .map_err(|_| {
            err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
            ))
        })?
        .map_err(err)?;
    // KEEPALIVEs and NOTIFICATIONs are small and must not wait; UPDATEs go
    // in large writes anyway.
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// The next message during the OPEN exchange.
async fn recv(
    stream: &mut TcpStream,
    frames: &mut Frames,
    deadline: Instant,
) -> Result<Result<Vec<u8>, bgp_proto::Error>, ReplayError> {
    loop {
        match frames.pop() {
            Ok(Some(m)) => return Ok(Ok(m)),
            Ok(None) => {}
            Err(e) => return Ok(Err(e)),
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, frames.fill(stream)).await {
            Err(_) => {
                return Err(ReplayError::Establish(format!(
                    "no OPEN and KEEPALIVE from the peer within {} s",
                    OPEN_TIMEOUT.as_secs()
                )))
            }
            Ok(Ok(0)) => {
                return Err(ReplayError::Establish(
                    "the peer closed the connection during the OPEN exchange".into(),
                ))
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                return Err(ReplayError::Establish(format!(
                    "reading from the peer: {e}"
                )))
            }
        }
    }
}

/// Sends `n` and returns the error to report.
async fn refuse(stream: &mut TcpStream, n: NotificationRepr, why: String) -> ReplayError {
    let mut b = Vec::new();
    if n.emit(&mut b).is_ok() {
        let _ = stream.write_all(&b).await;
    }
    let _ = stream.shutdown().await;
    ReplayError::Establish(format!("{why} (sent NOTIFICATION {n})"))
}

fn fsm_error(sub: FsmSubcode) -> NotificationRepr {
    NotificationRepr::new(ErrorCode::FiniteStateMachine, sub.as_u8(), Vec::new())
}

/// OPEN, the peer's OPEN, KEEPALIVE, the peer's KEEPALIVE.
async fn open_exchange(
    stream: &mut TcpStream,
    frames: &mut Frames,
    s: &Settings,
    router_id: Ipv4Addr,
) -> Result<Negotiated, ReplayError> {
    let mut capabilities = vec![
        CapabilityRepr::Multiprotocol(Family::IPV4_UNICAST),
        CapabilityRepr::Multiprotocol(Family::IPV6_UNICAST),
        CapabilityRepr::RouteRefresh,
        CapabilityRepr::FourOctetAs(s.local_as),
    ];
    if s.extended_message {
        capabilities.push(CapabilityRepr::ExtendedMessage);
    }
    let open = OpenRepr {
        version: 4,
        my_as: s.local_as,
        hold_time: s.hold_time,
        bgp_identifier: router_id,
        capabilities,
    };
    let mut out = Vec::new();
    open.emit(&mut out)
        .map_err(|e| ReplayError::Establish(format!("cannot encode our OPEN: {e:?}")))?;
    stream
        .write_all(&out)
        .await
        .map_err(|e| ReplayError::Establish(format!("sending OPEN: {e}")))?;
    let deadline = Instant::now() + OPEN_TIMEOUT;

    // OpenSent: the peer's OPEN.
    let msg = recv_frame(stream, frames, deadline).await?;
    let n = match Message::new_checked(&msg, &SessionContext::classic()) {
        Ok(Message::Open(o)) => negotiate(&o, s, router_id),
        Ok(Message::Notification(x)) => return Err(refused(&x)),
        Ok(other) => Err((
            fsm_error(FsmSubcode::UnexpectedMessageInOpenSent),
            format!("{} from the peer before its OPEN", other.msg_type().name()),
        )),
        Err(e) => Err((
            NotificationRepr::from_error(&e),
            format!("malformed message from the peer: {e}"),
        )),
    };
    let n = match n {
        Ok(n) => n,
        Err((notification, why)) => return Err(refuse(stream, notification, why).await),
    };
    let mut out = Vec::new();
    emit_keepalive(&mut out);
    stream
        .write_all(&out)
        .await
        .map_err(|e| ReplayError::Establish(format!("sending KEEPALIVE: {e}")))?;

    // OpenConfirm: the peer's KEEPALIVE.
    frames.max = n.context().max_message_len();
    let msg = recv_frame(stream, frames, deadline).await?;
    let (notification, why) = match Message::new_checked(&msg, &n.context()) {
        Ok(Message::Keepalive) => return Ok(n),
        Ok(Message::Notification(x)) => return Err(refused(&x)),
        Ok(other) => (
            fsm_error(FsmSubcode::UnexpectedMessageInOpenConfirm),
            format!(
                "{} from the peer instead of KEEPALIVE",
                other.msg_type().name()
            ),
        ),
        Err(e) => (
            NotificationRepr::from_error(&e),
            format!("malformed message from the peer: {e}"),
        ),
    };
    Err(refuse(stream, notification, why).await)
}

/// A NOTIFICATION received during the OPEN exchange.
fn refused(n: &Notification<'_>) -> ReplayError {
    ReplayError::Establish(format!("the peer refused the session: NOTIFICATION {n}"))
}

/// The next message of the OPEN exchange; a stream that does not frame is
/// refused with the matching NOTIFICATION.
async fn recv_frame(
    stream: &mut TcpStream,
    frames: &mut Frames,
    deadline: Instant,
) -> Result<Vec<u8>, ReplayError> {
    match recv(stream, frames, deadline).await? {
        Ok(m) => Ok(m),
        Err(e) => {
            let why = format!("malformed message from the peer: {e}");
            Err(refuse(stream, NotificationRepr::from_error(&e), why).await)
        }
    }
}

/// Checks the peer's OPEN and settles the session's parameters.
fn negotiate(
    o: &Open<'_>,
    s: &Settings,
    router_id: Ipv4Addr,
) -> Result<Negotiated, (NotificationRepr, String)> {
    let open_error = |sub: OpenMessageSubcode| {
        NotificationRepr::new(ErrorCode::OpenMessage, sub.as_u8(), Vec::new())
    };
    if let Err(e) = o.check_semantics() {
        return Err((
            NotificationRepr::from_error(&e),
            format!("the peer's OPEN is not acceptable: {e}"),
        ));
    }
    let peer_as = o.peer_as();
    if peer_as != s.remote_as {
        return Err((
            open_error(OpenMessageSubcode::BadPeerAs),
            format!("the peer is AS {peer_as}, not --remote-as {}", s.remote_as),
        ));
    }
    if o.bgp_identifier() == router_id {
        return Err((
            open_error(OpenMessageSubcode::BadBgpIdentifier),
            format!("the peer's BGP Identifier {router_id} is ours: give another --router-id"),
        ));
    }
    let offered: Vec<Family> = o.multiprotocol().collect();
    let families = [Family::IPV4_UNICAST, Family::IPV6_UNICAST]
        .into_iter()
        .filter(|f| {
            if offered.is_empty() {
                // RFC 4760 s8: no Multiprotocol capability means IPv4
                // unicast only.
                *f == Family::IPV4_UNICAST
            } else {
                offered.contains(f)
            }
        })
        .collect();
    Ok(Negotiated {
        peer_as,
        peer_id: o.bgp_identifier(),
        hold_time: s.hold_time.min(o.hold_time()),
        four_octet_as: o.four_octet_as().is_some(),
        extended_message: s.extended_message && o.extended_message(),
        families,
        route_refresh: o.route_refresh(),
    })
}

/// Writes a KEEPALIVE every `every`.
async fn keepalives(writer: Arc<Writer>, every: Duration) {
    let mut k = Vec::new();
    emit_keepalive(&mut k);
    let mut t = tokio::time::interval(every);
    t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    t.tick().await;
    loop {
        t.tick().await;
        if writer.send(&k).await.is_err() {
            return;
        }
    }
}

/// Decodes what the peer sends until the session ends.
async fn read_loop(
    mut rd: OwnedReadHalf,
    mut frames: Frames,
    ctx: SessionContext,
    hold_time: u16,
    families: Vec<Family>,
    closing: Arc<AtomicBool>,
    events: mpsc::UnboundedSender<PeerEvent>,
) {
    let closing = || closing.load(Ordering::SeqCst);
    let fail = |e: ReplayError, n: Option<NotificationRepr>| {
        if !closing() {
            let _ = events.send(PeerEvent::Failed(e, n));
        }
    };
    let hold = (hold_time > 0).then(|| Duration::from_secs(u64::from(hold_time)));
    loop {
        loop {
            let msg = match frames.pop() {
                Ok(Some(m)) => m,
                Ok(None) => break,
                Err(e) => {
                    let why = format!("malformed message from the peer: {e}");
                    fail(
                        ReplayError::Session(why),
                        Some(NotificationRepr::from_error(&e)),
                    );
                    return;
                }
            };
            match Message::new_checked(&msg, &ctx) {
                Ok(Message::Keepalive | Message::Update(_)) => {}
                Ok(Message::RouteRefresh(r)) => {
                    if r.subtype() == Subtype::NormalRequest && families.contains(&r.family()) {
                        let _ = events.send(PeerEvent::Refresh(r.family()));
                    }
                }
                Ok(Message::Notification(x)) => {
                    fail(
                        ReplayError::Session(format!("NOTIFICATION from the peer: {x}")),
                        None,
                    );
                    return;
                }
                Ok(Message::Open(_)) => {
                    fail(
                        ReplayError::Session("OPEN from the peer while Established".into()),
                        Some(fsm_error(FsmSubcode::UnexpectedMessageInEstablished)),
                    );
                    return;
                }
                Err(e) => {
                    let why = format!("malformed message from the peer: {e}");
                    fail(
                        ReplayError::Session(why),
                        Some(NotificationRepr::from_error(&e)),
                    );
                    return;
                }
            }
        }
        let read = frames.fill(&mut rd);
        let r = match hold {
            Some(h) => match tokio::time::timeout(h, read).await {
                Ok(r) => r,
                Err(_) => {
                    fail(
                        ReplayError::Session(format!(
                            "hold timer expired: nothing from the peer for {hold_time} s"
                        )),
                        Some(NotificationRepr::new(
                            ErrorCode::HoldTimerExpired,
                            0,
                            Vec::new(),
                        )),
                    );
                    return;
                }
            },
            None => read.await,
        };
        match r {
            Ok(0) => {
                fail(
                    ReplayError::Session("the peer closed the connection".into()),
                    None,
                );
                return;
            }
            Ok(_) => {}
            Err(e) => {
                fail(
                    ReplayError::Session(format!("reading from the peer: {e}")),
                    None,
                );
                return;
            }
        }
    }
}

/// A stream task and the switch that stops it after its current chunk.
struct Streaming {
    task: JoinHandle<Result<(Counts, u64), ReplayError>>,
    stop: Arc<AtomicBool>,
}

/// Starts encoding (on a blocking thread) and writing the plan for
/// `families`, End-of-RIB included.
fn spawn_stream(
    plan: &Arc<Plan>,
    send: &Arc<SendSettings>,
    families: &[Family],
    writer: &Arc<Writer>,
) -> Streaming {
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(8);
    let (plan, send, families, writer) = (
        plan.clone(),
        send.clone(),
        families.to_vec(),
        writer.clone(),
    );
    let enc_stop = stop.clone();
    let task_stop = stop.clone();
    let task = tokio::spawn(async move {
        let encoder = tokio::task::spawn_blocking(move || {
            encode_plan(&plan, &send, &families, |chunk| {
                !enc_stop.load(Ordering::SeqCst) && tx.blocking_send(chunk).is_ok()
            })
        });
        let mut octets = 0u64;
        while let Some(chunk) = rx.recv().await {
            if task_stop.load(Ordering::SeqCst) {
                break;
            }
            writer
                .send(&chunk)
                .await
                .map_err(|e| ReplayError::Session(format!("writing to the peer: {e}")))?;
            octets += chunk.len() as u64;
        }
        drop(rx);
        let counts = encoder
            .await
            .map_err(|e| ReplayError::Session(format!("the encoder failed: {e}")))?;
        Ok((counts, octets))
    });
    Streaming { task, stop }
}

/// Waits for a stream to finish while watching the peer and `shutdown`.
async fn drive<S: Future<Output = ()>>(
    mut st: Streaming,
    events: &mut mpsc::UnboundedReceiver<PeerEvent>,
    shutdown: &mut Pin<&mut S>,
    refresh: &mut Vec<Family>,
) -> Result<(Counts, u64), Stop> {
    loop {
        tokio::select! {
            r = &mut st.task => {
                return match r {
                    Ok(Ok(done)) => Ok(done),
                    Ok(Err(e)) => Err(Stop::Failed(e, None)),
                    Err(e) => Err(Stop::Failed(ReplayError::Session(format!("the stream task failed: {e}")), None)),
                };
            }
            ev = events.recv() => match ev {
                Some(PeerEvent::Refresh(f)) => {
                    if !refresh.contains(&f) {
                        refresh.push(f);
                    }
                }
                Some(PeerEvent::Failed(e, n)) => {
                    st.stop.store(true, Ordering::SeqCst);
                    st.task.abort();
                    return Err(Stop::Failed(e, n));
                }
                None => {
                    st.task.abort();
                    return Err(Stop::Failed(ReplayError::Session("the reader stopped".into()), None));
                }
            },
            _ = shutdown.as_mut() => {
                st.stop.store(true, Ordering::SeqCst);
                if tokio::time::timeout(CLOSE_WAIT, &mut st.task).await.is_err() {
                    st.task.abort();
                }
                return Err(Stop::Shutdown);
            }
        }
    }
}
