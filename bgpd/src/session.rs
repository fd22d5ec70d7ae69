//! One BGP session over one TCP connection: the byte stream is cut into
//! messages, each decoded with the context the OPEN exchange settled, fed to
//! the RFC 4271 [`Fsm`], and the FSM's actions carried out here — sending,
//! timers, and handing UPDATEs to the peer's Adj-RIB-In.
//!
//! The speaker never advertises a route: after the OPEN exchange it sends
//! End-of-RIB for each negotiated family (RFC 4724), and answers a
//! ROUTE-REFRESH with an empty BoRR/EoRR pair when enhanced route refresh is
//! negotiated (RFC 7313). Graceful restart helper (RFC 4724 s4.2): when a
//! peer that advertised graceful restart drops without a NOTIFICATION, or
//! connects again while its old session still looks Established (the old
//! connection is then closed without one), its routes are kept stale until
//! it returns and sends End-of-RIB, or until its restart time (or, once
//! back, the configured stale timeout) runs out.
//!
//! The peer's state as the API shows it belongs to its Established session
//! while there is one: another connection from the same peer (a collision,
//! a restart) does not overwrite it until it is Established itself.

use crate::fsm::{resolve_collision_with_asn, CollisionOutcome, DownReason, Event, Fsm, FsmConfig};
use crate::fsm::{Action, State};
use crate::negotiate::{local_open, negotiate, LocalSettings, Negotiated, PeerGracefulRestart};
use crate::peer::Peer;
use crate::recorder::{self, Recorder};
use bgp_proto::codes::{ErrorCode, OpenMessageSubcode};
use bgp_proto::header::split_frame;
use bgp_proto::keepalive::emit_keepalive;
use bgp_proto::mrt::Bgp4mpEndpoints;
use bgp_proto::notification::NotificationRepr;
use bgp_proto::route_refresh::{RouteRefreshRepr, Subtype};
use bgp_proto::{Error, Family, Message, SessionContext, UpdateRepr};
use bytes::{Bytes, BytesMut};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::{sleep_until, Instant};

/// Why another task wants this connection closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dump {
    /// Keep going.
    No,
    /// Lost a connection collision (RFC 4271 s6.8): Cease/Collision.
    Collision,
    /// The peer reconnected while this session looked Established: it
    /// restarted (RFC 4724 s4.2); close without NOTIFICATION, keep routes stale.
    Restarted,
    /// The daemon is stopping: Cease/Administrative Shutdown.
    Shutdown,
}

/// What a session needs besides its socket.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// Our side of the OPEN.
    pub local: LocalSettings,
    /// Close with Cease/Maximum Number of Prefixes Reached above this.
    pub max_prefixes: Option<u32>,
    /// Keep a restarting peer's routes (RFC 4724 helper).
    pub graceful_restart_helper: bool,
    /// After a restarted peer is back, flush routes still stale after this.
    pub stale_timeout: Duration,
    /// Whether we dialled this connection.
    pub locally_initiated: bool,
    /// Our address on the connection.
    pub local_addr: SocketAddr,
    /// The peer's address on the connection.
    pub peer_addr: SocketAddr,
    /// Connection id, unique in the process.
    pub conn_id: u64,
    /// Bumped when the operator asks every peer to re-send its routes.
    pub refresh: Option<watch::Receiver<u64>>,
}

/// Timer deadlines the FSM asked for.
#[derive(Debug, Default)]
struct Timers {
    hold: Option<Instant>,
    keepalive: Option<(Instant, Duration)>,
    connect_retry: Option<Instant>,
}

/// Sleeps until `at`, or forever when there is no deadline.
async fn until(at: Option<Instant>) {
    match at {
        Some(t) => sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// Waits for a change on an optional channel (forever without one).
async fn changed(rx: &mut Option<watch::Receiver<u64>>) {
    match rx {
        Some(r) => {
            if r.changed().await.is_err() {
                *rx = None;
            }
        }
        None => std::future::pending().await,
    }
}

/// Runs the session to its end and returns why it ended.
pub async fn run<S>(
    stream: S,
    peer: Arc<Peer>,
    settings: SessionSettings,
    recorder: Option<Recorder>,
    mut shutdown: watch::Receiver<bool>,
) -> DownReason
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (dump_tx, mut dump_rx) = watch::channel(Dump::No);
    let mut refresh = settings.refresh.clone();
    let mut s = Session {
        peer: peer.clone(),
        settings,
        recorder,
        fsm: Fsm::new(FsmConfig {
            passive_tcp_establishment: true,
            ..FsmConfig::default()
        }),
        ctx: SessionContext::classic(),
        negotiated: None,
        timers: Timers::default(),
        out: Vec::with_capacity(4096),
        dump_tx: Some(dump_tx),
        pending_update: None,
        pending_refresh: None,
        last_state: State::Idle,
        generation: 0,
        superseded: false,
    };
    let (mut rd, mut wr) = tokio::io::split(stream);
    let start = if s.settings.locally_initiated {
        vec![Event::ManualStart, Event::TcpCrAcked]
    } else {
        vec![
            Event::ManualStartWithPassiveTcpEstablishment,
            Event::TcpConnectionConfirmed,
        ]
    };
    for ev in start {
        if let Some(r) = s.step(ev, &mut wr).await {
            return s.finish(r);
        }
    }
    let mut buf = BytesMut::with_capacity(64 * 1024);
    loop {
        // Cut and handle every whole message already buffered.
        loop {
            let frame = match split_frame(&mut buf, s.ctx.max_message_len()) {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    peer.counters.session_resets.fetch_add(1, Ordering::Relaxed);
                    let r = s.step(Event::BgpHeaderErr(e), &mut wr).await;
                    return s.finish(r.unwrap_or(DownReason::UnexpectedEvent("header error")));
                }
            };
            if let Some(r) = s.message(frame, &mut wr).await {
                return s.finish(r);
            }
        }
        let ev = tokio::select! {
            n = rd.read_buf(&mut buf) => match n {
                Ok(0) | Err(_) => Event::TcpConnectionFails,
                Ok(_) => continue,
            },
            _ = until(s.timers.hold) => { s.timers.hold = None; Event::HoldTimerExpires }
            _ = until(s.timers.keepalive.map(|k| k.0)) => {
                if let Some((at, every)) = s.timers.keepalive { s.timers.keepalive = Some((at + every, every)); }
                Event::KeepaliveTimerExpires
            }
            _ = until(s.timers.connect_retry) => { s.timers.connect_retry = None; Event::ConnectRetryTimerExpires }
            _ = dump_rx.changed() => match *dump_rx.borrow() {
                Dump::No => continue,
                Dump::Collision => Event::OpenCollisionDump,
                Dump::Restarted => {
                    s.superseded = true;
                    Event::TcpConnectionFails
                }
                Dump::Shutdown => Event::ManualStop,
            },
            _ = shutdown.changed() => Event::ManualStop,
            _ = changed(&mut refresh) => {
                s.request_refresh(&mut wr).await;
                continue;
            }
        };
        if let Some(r) = s.step(ev, &mut wr).await {
            return s.finish(r);
        }
    }
}

struct Session {
    peer: Arc<Peer>,
    settings: SessionSettings,
    recorder: Option<Recorder>,
    fsm: Fsm,
    ctx: SessionContext,
    negotiated: Option<Negotiated>,
    timers: Timers,
    out: Vec<u8>,
    dump_tx: Option<watch::Sender<Dump>>,
    /// The UPDATE being handled, until the FSM says ProcessUpdate.
    pending_update: Option<Bytes>,
    /// The ROUTE-REFRESH being handled, until the FSM says ProcessRouteRefresh.
    pending_refresh: Option<RouteRefreshRepr>,
    last_state: State,
    /// The peer's generation this session got when it became Established.
    generation: u64,
    /// A new connection from the restarted peer took over (RFC 4724 s4.2);
    /// it has already dealt with the routes.
    superseded: bool,
}

impl Session {
    fn endpoints(&self) -> Bgp4mpEndpoints {
        Bgp4mpEndpoints {
            peer_as: self.peer.remote_asn,
            local_as: self.settings.local.asn,
            interface_index: 0,
            peer_ip: self.settings.peer_addr.ip(),
            local_ip: self.settings.local_addr.ip(),
        }
    }

    /// Handles one framed message.
    async fn message<W: AsyncWrite + Unpin>(
        &mut self,
        frame: Bytes,
        wr: &mut W,
    ) -> Option<DownReason> {
        self.peer.counters.messages.fetch_add(1, Ordering::Relaxed);
        if let Some(r) = &self.recorder {
            r.record(recorder::Event::Message {
                at: SystemTime::now(),
                endpoints: self.endpoints(),
                message: frame.clone(),
            });
        }
        let ev = match Message::new_checked(&frame, &self.ctx) {
            Err(e) => {
                self.peer
                    .counters
                    .session_resets
                    .fetch_add(1, Ordering::Relaxed);
                error_event(e)
            }
            Ok(Message::Open(open)) => {
                match negotiate(&self.settings.local, self.peer.remote_asn, &open) {
                    Err(e) => Event::BgpOpenMsgErr(e),
                    Ok(n) => match self.claim(&n) {
                        Claim::Keep => Event::BgpOpen(Box::new(n)),
                        Claim::Lose => Event::OpenCollisionDump,
                    },
                }
            }
            Ok(Message::Keepalive) => Event::KeepAliveMsg,
            Ok(Message::Notification(n)) => {
                let repr = NotificationRepr::parse(&n);
                if repr.code == ErrorCode::OpenMessage.as_u8()
                    && repr.subcode == OpenMessageSubcode::UnsupportedVersionNumber.as_u8()
                {
                    Event::NotifMsgVerErr
                } else {
                    Event::NotifMsg(repr)
                }
            }
            Ok(Message::Update(u)) => {
                self.peer.counters.updates.fetch_add(1, Ordering::Relaxed);
                if let Some(e) = u.error() {
                    let c = &self.peer.counters;
                    match e.action {
                        bgp_proto::Action::TreatAsWithdraw => &c.treat_as_withdraw,
                        _ => &c.attribute_discard,
                    }
                    .fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(peer = %self.peer.name, error = %e, "UPDATE error handled per RFC 7606");
                }
                drop(u);
                self.pending_update = Some(frame);
                Event::UpdateMsg
            }
            Ok(Message::RouteRefresh(r)) => {
                if r.must_ignore() {
                    return None;
                }
                self.pending_refresh = Some(RouteRefreshRepr::parse(&r));
                Event::RouteRefreshMsg
            }
        };
        self.step(ev, wr).await
    }

    /// Collision detection (RFC 4271 s6.8) once the peer's OPEN is known.
    fn claim(&mut self, n: &Negotiated) -> Claim {
        let Some(dump) = self.dump_tx.take() else {
            return Claim::Keep;
        };
        let Ok(mut slot) = self.peer.claim.lock() else {
            return Claim::Keep;
        };
        let me = crate::peer::Claim {
            conn: self.settings.conn_id,
            locally_initiated: self.settings.locally_initiated,
            dump,
        };
        let Some(existing) = slot.as_ref() else {
            *slot = Some(me);
            return Claim::Keep;
        };
        let established = self.peer.is_established();
        let restarting = if established {
            self.helped_graceful_restart()
        } else {
            None
        };
        let restarted = restarting.is_some();
        let outcome = if restarted {
            CollisionOutcome::CloseExisting
        } else if established {
            CollisionOutcome::CloseNew
        } else {
            resolve_collision_with_asn(
                self.settings.local.router_id,
                self.settings.local.asn,
                n.peer_router_id,
                n.peer_asn,
                existing.locally_initiated,
            )
        };
        match outcome {
            CollisionOutcome::CloseExisting => {
                // The peer restarted while its old session looked
                // Established (RFC 4724 s4.2). That session is over from here
                // on, whenever its task gets to close it: record it as down
                // now (its TCP connection is dead, as the new OPEN tells),
                // and keep the routes stale before the new session can
                // announce anything.
                if let Some(gr) = &restarting {
                    tracing::info!(peer = %self.peer.name, "peer reconnected while Established: it restarted; closing the old connection");
                    self.peer.down(&DownReason::TcpFailure);
                    retain_stale(&self.peer, gr);
                }
                let _ = existing.dump.send(if restarted {
                    Dump::Restarted
                } else {
                    Dump::Collision
                });
                *slot = Some(me);
                Claim::Keep
            }
            CollisionOutcome::CloseNew => Claim::Lose,
        }
    }

    /// The peer's Graceful Restart capability on the Established session,
    /// when we act as its helper.
    fn helped_graceful_restart(&self) -> Option<PeerGracefulRestart> {
        let info = self.peer.session.read().ok()?;
        let n = info.negotiated.as_ref()?;
        if !n.graceful_restart_helper {
            return None;
        }
        n.peer_graceful_restart.clone()
    }

    /// Feeds one event to the FSM and carries out its actions; `Some` when
    /// the session is over.
    async fn step<W: AsyncWrite + Unpin>(&mut self, ev: Event, wr: &mut W) -> Option<DownReason> {
        tracing::trace!(peer = %self.peer.name, event = %ev, state = %self.fsm.state(), "FSM event");
        let actions = self.fsm.handle(ev);
        let mut down = None;
        for action in actions {
            if let Some(r) = self.act(action, wr).await {
                down = Some(r);
            }
        }
        let state = self.fsm.state();
        if state != self.last_state {
            if let Some(r) = &self.recorder {
                r.record(recorder::Event::StateChange {
                    at: SystemTime::now(),
                    endpoints: self.endpoints(),
                    old: mrt_state(self.last_state),
                    new: mrt_state(state),
                });
            }
            // Established is recorded by `established`, and leaving it by
            // `finish` (where `Peer::down` counts the flap). A connection
            // that never got there must not hide another connection's
            // Established session (a collision, or a restarted peer).
            if state != State::Established {
                if let Ok(mut info) = self.peer.session.write() {
                    if info.state != State::Established {
                        info.state = state;
                    }
                }
            }
            self.last_state = state;
        }
        down
    }

    async fn send<W: AsyncWrite + Unpin>(&mut self, wr: &mut W) -> bool {
        let ok = wr.write_all(&self.out).await.is_ok() && wr.flush().await.is_ok();
        self.out.clear();
        ok
    }

    async fn act<W: AsyncWrite + Unpin>(
        &mut self,
        action: Action,
        wr: &mut W,
    ) -> Option<DownReason> {
        let now = Instant::now();
        match action {
            Action::SendOpen => {
                if local_open(&self.settings.local).emit(&mut self.out).is_ok() {
                    self.send(wr).await;
                }
            }
            Action::SendKeepalive => {
                emit_keepalive(&mut self.out);
                self.send(wr).await;
            }
            Action::SendNotification(n) => {
                if n.emit_truncated(&mut self.out, self.ctx.max_message_len())
                    .is_ok()
                {
                    self.send(wr).await;
                }
            }
            Action::StartConnectRetryTimer(d) => self.timers.connect_retry = Some(now + d),
            Action::StopConnectRetryTimer => self.timers.connect_retry = None,
            Action::StartHoldTimer(d) => self.timers.hold = Some(now + d),
            Action::StopHoldTimer => self.timers.hold = None,
            Action::StartKeepaliveTimer(d) => self.timers.keepalive = Some((now + d, d)),
            Action::StopKeepaliveTimer => self.timers.keepalive = None,
            // The connection exists before the session starts.
            Action::ConnectTcp => {}
            Action::DropConnection => {
                let _ = wr.shutdown().await;
            }
            Action::SessionEstablished(n) => self.established(*n, wr).await,
            Action::SessionDown { reason } => return Some(reason),
            Action::ProcessUpdate => return self.process_update(wr).await,
            Action::ProcessRouteRefresh => self.process_refresh(wr).await,
        }
        None
    }

    async fn established<W: AsyncWrite + Unpin>(&mut self, n: Negotiated, wr: &mut W) {
        self.ctx = n.receive_context();
        let generation = self.peer.established(&n);
        self.generation = generation;
        let families: Vec<String> = n.families.iter().map(|f| f.to_string()).collect();
        tracing::info!(peer = %self.peer.name, families = %families.join(","), hold = n.hold_time, "session Established");
        // A returning peer: drop stale routes of families it no longer
        // preserves (RFC 4724 s4.2), and bound how long the rest stay stale.
        let preserved: Vec<Family> = n
            .peer_graceful_restart
            .as_ref()
            .map(|gr| {
                gr.families
                    .iter()
                    .filter(|f| f.forwarding_state)
                    .map(|f| f.family)
                    .collect()
            })
            .unwrap_or_default();
        if let Ok(mut rib) = self.peer.rib.write() {
            if rib.stale_count() > 0 {
                for f in Family::DECODED {
                    if !preserved.contains(&f) {
                        rib.flush_stale(f);
                    }
                }
                spawn_stale_flush(
                    self.peer.clone(),
                    generation,
                    self.settings.stale_timeout,
                    true,
                );
            }
        }
        self.peer.changed();
        // We advertise nothing: End-of-RIB right away for every family.
        for f in &n.families {
            let _ = UpdateRepr::end_of_rib(*f).emit(&SessionContext::modern(), &mut self.out);
        }
        self.negotiated = Some(n);
        self.send(wr).await;
    }

    /// Applies the pending UPDATE to the Adj-RIB-In; `Some` when the
    /// maximum prefix limit closed the session.
    async fn process_update<W: AsyncWrite + Unpin>(&mut self, wr: &mut W) -> Option<DownReason> {
        let frame = self.pending_update.take()?;
        let body = frame
            .get(bgp_proto::header::HEADER_LEN..)
            .unwrap_or_default();
        let update = bgp_proto::Update::new_checked(body, &self.ctx).ok()?;
        let negotiated = self.negotiated.as_ref();
        let total = {
            let mut rib = self.peer.rib.write().ok()?;
            let applied =
                rib.apply_filtered(&update, |f| negotiated.is_some_and(|n| n.has_family(f)));
            if let Some(f) = applied.end_of_rib {
                let flushed = rib.flush_stale(f);
                tracing::debug!(peer = %self.peer.name, family = %f, flushed, "End-of-RIB received");
            }
            rib.len()
        };
        self.peer.changed();
        let limit = self.settings.max_prefixes?;
        if total <= limit as usize {
            return None;
        }
        let family = update
            .announced()
            .next()
            .map_or(Family::IPV4_UNICAST, |(f, _)| f);
        tracing::warn!(peer = %self.peer.name, total, limit, "maximum prefixes exceeded");
        let n = NotificationRepr::max_prefix(family, limit);
        Box::pin(self.step(Event::AutomaticStop(n), wr)).await
    }

    async fn process_refresh<W: AsyncWrite + Unpin>(&mut self, wr: &mut W) {
        let Some(req) = self.pending_refresh.take() else {
            return;
        };
        let enhanced = self
            .negotiated
            .as_ref()
            .is_some_and(|n| n.enhanced_route_refresh);
        match req.subtype {
            // We advertise nothing: the refreshed Adj-RIB-Out is empty.
            Subtype::NormalRequest if enhanced => {
                let _ = RouteRefreshRepr::borr(req.family).emit(&mut self.out);
                let _ = RouteRefreshRepr::eorr(req.family).emit(&mut self.out);
                self.send(wr).await;
            }
            // RFC 7313 s4: the peer re-sends the family: its routes are stale
            // until re-announced, and what is not re-announced goes at EoRR.
            Subtype::BoRR if enhanced => {
                if let Ok(mut rib) = self.peer.rib.write() {
                    rib.mark_stale(&[req.family]);
                }
                self.peer.changed();
                tracing::debug!(peer = %self.peer.name, family = %req.family, "BoRR: routes marked stale");
            }
            Subtype::EoRR if enhanced => {
                let flushed = self
                    .peer
                    .rib
                    .write()
                    .map(|mut rib| rib.flush_stale(req.family))
                    .unwrap_or(0);
                self.peer.changed();
                tracing::debug!(peer = %self.peer.name, family = %req.family, flushed, "EoRR: unrefreshed routes removed");
            }
            _ => {}
        }
    }

    /// Asks the peer to re-send every negotiated family (RFC 2918), when it
    /// supports route refresh.
    async fn request_refresh<W: AsyncWrite + Unpin>(&mut self, wr: &mut W) {
        let Some(n) = self.negotiated.as_ref().filter(|n| n.route_refresh) else {
            return;
        };
        for f in n.families.clone() {
            let _ = RouteRefreshRepr::request(f).emit(&mut self.out);
        }
        tracing::info!(peer = %self.peer.name, "route refresh requested");
        self.send(wr).await;
    }

    /// Records the end of the session and what happens to the routes.
    fn finish(mut self, reason: DownReason) -> DownReason {
        if let Ok(mut slot) = self.peer.claim.lock() {
            if slot
                .as_ref()
                .is_some_and(|c| c.conn == self.settings.conn_id)
            {
                *slot = None;
            }
        }
        let Some(n) = self.negotiated.take() else {
            // Never Established. A connection that lost a collision must not
            // touch the state of the one that won; otherwise record why it
            // failed (an OPEN refused for a wrong AS shows as the NOTIFICATION
            // sent), which counts no flap.
            if !self.peer.is_established() {
                self.peer.down(&reason);
            }
            return reason;
        };
        if self.superseded || self.peer.generation() != self.generation {
            // The restarted peer's new connection took over: it recorded
            // this session as down and kept the routes stale, and the
            // peer's state and routes are its own now.
            tracing::debug!(peer = %self.peer.name, %reason, "superseded session closed");
            return reason;
        }
        self.peer.down(&reason);
        let keep = self.settings.graceful_restart_helper
            && matches!(
                reason,
                DownReason::TcpFailure | DownReason::HoldTimerExpired
            );
        match (keep, n.peer_graceful_restart.as_ref()) {
            (true, Some(gr)) => retain_stale(&self.peer, gr),
            _ => {
                if let Ok(mut rib) = self.peer.rib.write() {
                    rib.clear();
                }
                self.peer.changed();
            }
        }
        reason
    }
}

/// The peer went down without a NOTIFICATION and may be restarting (RFC
/// 4724 s4.2): routes of the families its capability listed stay, marked
/// stale, the others go now, and whatever is still stale when its Restart
/// Time runs out without a new session is flushed.
fn retain_stale(peer: &Arc<Peer>, gr: &PeerGracefulRestart) {
    let families: Vec<Family> = gr.families.iter().map(|f| f.family).collect();
    if let Ok(mut rib) = peer.rib.write() {
        rib.mark_stale(&Family::DECODED);
        for f in Family::DECODED {
            if !families.contains(&f) {
                rib.flush_stale(f);
            }
        }
    }
    peer.changed();
    tracing::info!(peer = %peer.name, restart_time = gr.restart_time, "peer may be restarting: routes kept stale");
    spawn_stale_flush(
        peer.clone(),
        peer.generation(),
        Duration::from_secs(gr.restart_time.into()),
        false,
    );
}

enum Claim {
    Keep,
    Lose,
}

/// After `after`, flush whatever the peer still has stale, unless a newer
/// session (generation) took over in the meantime. `back` is true when the
/// timer is the post-restart stale timeout of generation `generation`.
fn spawn_stale_flush(peer: Arc<Peer>, generation: u64, after: Duration, back: bool) {
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        let same = peer.generation() == generation;
        let expired = if back {
            same
        } else {
            same && !peer.is_established()
        };
        if expired {
            if let Ok(mut rib) = peer.rib.write() {
                let mut n = 0;
                for f in Family::DECODED {
                    n += rib.flush_stale(f);
                }
                if n > 0 {
                    tracing::info!(peer = %peer.name, flushed = n, "stale routes flushed: restart timer expired");
                }
                drop(rib);
                peer.changed();
            }
        }
    });
}

/// The FSM event for a decoding error, by NOTIFICATION code.
fn error_event(e: Error) -> Event {
    match e.code {
        ErrorCode::OpenMessage => Event::BgpOpenMsgErr(e),
        ErrorCode::UpdateMessage => Event::UpdateMsgErr(e),
        _ => Event::BgpHeaderErr(e),
    }
}

/// RFC 6396 s4.4.1 state numbers.
fn mrt_state(s: State) -> u16 {
    match s {
        State::Idle => 1,
        State::Connect => 2,
        State::Active => 3,
        State::OpenSent => 4,
        State::OpenConfirm => 5,
        State::Established => 6,
    }
}
