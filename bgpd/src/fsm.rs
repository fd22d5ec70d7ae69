//! The BGP finite state machine of RFC 4271 s8, pure and synchronous.
//!
//! [`Fsm::handle`] takes one [`Event`] and returns the [`Action`]s to carry
//! out, in order. The machine owns no socket, timer or clock: the session
//! task runs the timers it is told to start, reads and decodes messages,
//! turns each into an event, and executes the actions (send a message,
//! (re)start or stop a timer, open or drop the TCP connection, hand an
//! UPDATE to the Adj-RIB-In). That keeps every transition testable.
//!
//! The transitions follow s8.2.2 state by state, without the optional
//! DelayOpen, SendNOTIFICATIONwithoutOPEN, DampPeerOscillations,
//! CollisionDetectEstablishedState and TCP validation attributes
//! (`bgpd` enables none of them), and with these refinements:
//!
//! - An unexpected message in OpenSent, OpenConfirm or Established is
//!   answered with Finite State Machine Error and the RFC 6608 subcode of
//!   the state (1, 2 or 3). An OPEN in OpenConfirm or Established is such a
//!   message: a connection collision involves two connections, which the
//!   session task compares with [`resolve_collision`] and ends on the
//!   losing one with [`Event::OpenCollisionDump`].
//! - A hold time of 0 starts no hold or keepalive timer and sends no
//!   periodic KEEPALIVE (s4.2, s4.4, s10).
//! - With PassiveTcpEstablishment a speaker never connects: when the
//!   ConnectRetryTimer expires in Active it restarts the timer and stays
//!   in Active, waiting for the peer.
//! - A NOTIFICATION received in OpenSent closes the connection without
//!   answering it with another NOTIFICATION (s8.2.2 lists it among the
//!   "other events" that do; RFC 6608 counts only KEEPALIVE, UPDATE and
//!   ROUTE-REFRESH as unexpected there, and the peer has closed already).
//! - A message header error in Established is reported with its own
//!   Message Header Error, as s6.1 requires, rather than as an FSM error.
//! - [`Event::UpdateMsgErr`] with an RFC 7606 action other than session
//!   reset (treat-as-withdraw, attribute discard) is processed like an
//!   UPDATE; the session applies the action.
//! - Every transition to Idle stops all three timers, drops the
//!   connection and reports [`Action::SessionDown`]; restarting the
//!   session afterwards is the task's decision.
//!
//! ROUTE-REFRESH (RFC 2918, RFC 7313) is an extra event: processed in
//! Established, unexpected before.

use crate::negotiate::Negotiated;
use bgp_proto::codes::{CeaseSubcode, ErrorCode, FsmSubcode};
use bgp_proto::notification::NotificationRepr;
use bgp_proto::{Action as ErrorAction, Error};
use serde::{Serialize, Serializer};
use std::fmt;
use std::net::Ipv4Addr;
use std::time::Duration;

/// Initial value of the ConnectRetryTimer RFC 4271 s10 suggests.
pub const DEFAULT_CONNECT_RETRY_TIME: Duration = Duration::from_secs(120);
/// The "large value" the HoldTimer runs with in OpenSent (RFC 4271 s8.2.2
/// suggests 4 minutes).
pub const OPEN_SENT_HOLD_TIME: Duration = Duration::from_secs(240);

/// Session state (RFC 4271 s8.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Refuses connections; waits for a start event.
    Idle,
    /// Waiting for an outgoing TCP connection to complete.
    Connect,
    /// Listening for the peer's TCP connection.
    Active,
    /// OPEN sent, waiting for the peer's.
    OpenSent,
    /// OPENs exchanged, KEEPALIVE sent, waiting for the peer's.
    OpenConfirm,
    /// UPDATE, KEEPALIVE, NOTIFICATION and ROUTE-REFRESH flow.
    Established,
}

impl State {
    /// The name RFC 4271 uses.
    pub fn name(self) -> &'static str {
        match self {
            Self::Idle => "Idle",
            Self::Connect => "Connect",
            Self::Active => "Active",
            Self::OpenSent => "OpenSent",
            Self::OpenConfirm => "OpenConfirm",
            Self::Established => "Established",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for State {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// An input to the machine, named after RFC 4271 s8.1 (the comment gives
/// the event number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Event 1: the operator starts the session. Acts as event 4 when the
    /// machine is configured with PassiveTcpEstablishment.
    ManualStart,
    /// Event 2: the operator stops the session.
    ManualStop,
    /// Event 3: the system starts the session. Acts as event 5 when the
    /// machine is configured with PassiveTcpEstablishment.
    AutomaticStart,
    /// Event 4: the operator starts the session, waiting for the peer to
    /// connect.
    ManualStartWithPassiveTcpEstablishment,
    /// Event 5: the system starts the session, waiting for the peer to
    /// connect.
    AutomaticStartWithPassiveTcpEstablishment,
    /// Event 8: the system stops the session, e.g. Cease / Maximum Number
    /// of Prefixes Reached; the NOTIFICATION to send when connected.
    AutomaticStop(NotificationRepr),
    /// Event 9.
    ConnectRetryTimerExpires,
    /// Event 10.
    HoldTimerExpires,
    /// Event 11.
    KeepaliveTimerExpires,
    /// Event 16: our outgoing TCP connection completed.
    TcpCrAcked,
    /// Event 17: the peer's TCP connection was accepted.
    TcpConnectionConfirmed,
    /// Event 18: the TCP connection failed or was closed.
    TcpConnectionFails,
    /// Event 19: a valid OPEN arrived; what [`negotiate`] made of it.
    ///
    /// [`negotiate`]: crate::negotiate::negotiate
    BgpOpen(Box<Negotiated>),
    /// Event 21: a message header failed its checks.
    BgpHeaderErr(Error),
    /// Event 22: an OPEN failed its checks (decoding or negotiation).
    BgpOpenMsgErr(Error),
    /// Event 23: collision detection chose to close this connection.
    OpenCollisionDump,
    /// Event 24: a NOTIFICATION with OPEN Message Error / Unsupported
    /// Version Number arrived.
    NotifMsgVerErr,
    /// Event 25: any other NOTIFICATION arrived.
    NotifMsg(NotificationRepr),
    /// Event 26: a KEEPALIVE arrived.
    KeepAliveMsg,
    /// Event 27: a valid UPDATE arrived.
    UpdateMsg,
    /// Event 28: an UPDATE failed its checks.
    UpdateMsgErr(Error),
    /// A ROUTE-REFRESH arrived (RFC 2918, RFC 7313; not an RFC 4271 event).
    RouteRefreshMsg,
}

impl Event {
    /// The name RFC 4271 s8.1 gives the event (without underscores).
    pub fn name(&self) -> &'static str {
        match self {
            Self::ManualStart => "ManualStart",
            Self::ManualStop => "ManualStop",
            Self::AutomaticStart => "AutomaticStart",
            Self::ManualStartWithPassiveTcpEstablishment => {
                "ManualStartWithPassiveTcpEstablishment"
            }
            Self::AutomaticStartWithPassiveTcpEstablishment => {
                "AutomaticStartWithPassiveTcpEstablishment"
            }
            Self::AutomaticStop(_) => "AutomaticStop",
            Self::ConnectRetryTimerExpires => "ConnectRetryTimerExpires",
            Self::HoldTimerExpires => "HoldTimerExpires",
            Self::KeepaliveTimerExpires => "KeepaliveTimerExpires",
            Self::TcpCrAcked => "TcpCrAcked",
            Self::TcpConnectionConfirmed => "TcpConnectionConfirmed",
            Self::TcpConnectionFails => "TcpConnectionFails",
            Self::BgpOpen(_) => "BgpOpen",
            Self::BgpHeaderErr(_) => "BgpHeaderErr",
            Self::BgpOpenMsgErr(_) => "BgpOpenMsgErr",
            Self::OpenCollisionDump => "OpenCollisionDump",
            Self::NotifMsgVerErr => "NotifMsgVerErr",
            Self::NotifMsg(_) => "NotifMsg",
            Self::KeepAliveMsg => "KeepAliveMsg",
            Self::UpdateMsg => "UpdateMsg",
            Self::UpdateMsgErr(_) => "UpdateMsgErr",
            Self::RouteRefreshMsg => "RouteRefreshMsg",
        }
    }

    /// The RFC 4271 s8.1 event number; `None` for ROUTE-REFRESH.
    pub fn number(&self) -> Option<u8> {
        Some(match self {
            Self::ManualStart => 1,
            Self::ManualStop => 2,
            Self::AutomaticStart => 3,
            Self::ManualStartWithPassiveTcpEstablishment => 4,
            Self::AutomaticStartWithPassiveTcpEstablishment => 5,
            Self::AutomaticStop(_) => 8,
            Self::ConnectRetryTimerExpires => 9,
            Self::HoldTimerExpires => 10,
            Self::KeepaliveTimerExpires => 11,
            Self::TcpCrAcked => 16,
            Self::TcpConnectionConfirmed => 17,
            Self::TcpConnectionFails => 18,
            Self::BgpOpen(_) => 19,
            Self::BgpHeaderErr(_) => 21,
            Self::BgpOpenMsgErr(_) => 22,
            Self::OpenCollisionDump => 23,
            Self::NotifMsgVerErr => 24,
            Self::NotifMsg(_) => 25,
            Self::KeepAliveMsg => 26,
            Self::UpdateMsg => 27,
            Self::UpdateMsgErr(_) => 28,
            Self::RouteRefreshMsg => return None,
        })
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        match self {
            Self::AutomaticStop(n) | Self::NotifMsg(n) => write!(f, " ({n})"),
            Self::BgpHeaderErr(e) | Self::BgpOpenMsgErr(e) | Self::UpdateMsgErr(e) => {
                write!(f, " ({e})")
            }
            Self::BgpOpen(n) => write!(
                f,
                " (AS {}, identifier {}, hold time {})",
                n.peer_asn, n.peer_router_id, n.hold_time
            ),
            _ => Ok(()),
        }
    }
}

/// Why the machine went back to Idle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownReason {
    /// ManualStop; Cease / Administrative Shutdown was sent if connected.
    ManualStop,
    /// AutomaticStop; its NOTIFICATION was sent if connected.
    AutomaticStop(NotificationRepr),
    /// We detected an error and sent this NOTIFICATION.
    NotificationSent(NotificationRepr),
    /// The peer sent this NOTIFICATION.
    NotificationReceived(NotificationRepr),
    /// The peer sent OPEN Message Error / Unsupported Version Number.
    PeerVersionError,
    /// The hold timer expired; Hold Timer Expired was sent.
    HoldTimerExpired,
    /// The TCP connection failed or the peer closed it.
    TcpFailure,
    /// An event the state does not expect, closing without NOTIFICATION
    /// (Connect and Active, where no OPEN has been sent).
    UnexpectedEvent(&'static str),
}

impl fmt::Display for DownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ManualStop => f.write_str("manual stop"),
            Self::AutomaticStop(n) => write!(f, "automatic stop ({n})"),
            Self::NotificationSent(n) => write!(f, "sent NOTIFICATION {n}"),
            Self::NotificationReceived(n) => write!(f, "received NOTIFICATION {n}"),
            Self::PeerVersionError => {
                f.write_str("received NOTIFICATION Unsupported Version Number")
            }
            Self::HoldTimerExpired => f.write_str("hold timer expired"),
            Self::TcpFailure => f.write_str("TCP connection failed"),
            Self::UnexpectedEvent(event) => write!(f, "unexpected event {event}"),
        }
    }
}

impl Serialize for DownReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Something the session task must do, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send our OPEN ([`local_open`](crate::negotiate::local_open)).
    SendOpen,
    /// Send a KEEPALIVE.
    SendKeepalive,
    /// Send this NOTIFICATION (the connection is dropped next).
    SendNotification(NotificationRepr),
    /// (Re)start the ConnectRetryTimer.
    StartConnectRetryTimer(Duration),
    /// Stop the ConnectRetryTimer.
    StopConnectRetryTimer,
    /// (Re)start the HoldTimer.
    StartHoldTimer(Duration),
    /// Stop the HoldTimer.
    StopHoldTimer,
    /// (Re)start the KeepaliveTimer.
    StartKeepaliveTimer(Duration),
    /// Stop the KeepaliveTimer.
    StopKeepaliveTimer,
    /// Open a TCP connection to the peer (active mode only).
    ConnectTcp,
    /// Close the TCP connection, if any.
    DropConnection,
    /// The session reached Established with what was negotiated.
    SessionEstablished(Box<Negotiated>),
    /// The machine went back to Idle.
    SessionDown {
        /// Why.
        reason: DownReason,
    },
    /// Hand the UPDATE that caused the event to the Adj-RIB-In.
    ProcessUpdate,
    /// Act on the ROUTE-REFRESH that caused the event.
    ProcessRouteRefresh,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SendOpen => f.write_str("send OPEN"),
            Self::SendKeepalive => f.write_str("send KEEPALIVE"),
            Self::SendNotification(n) => write!(f, "send NOTIFICATION {n}"),
            Self::StartConnectRetryTimer(d) => {
                write!(f, "start ConnectRetryTimer {}s", d.as_secs())
            }
            Self::StopConnectRetryTimer => f.write_str("stop ConnectRetryTimer"),
            Self::StartHoldTimer(d) => write!(f, "start HoldTimer {}s", d.as_secs()),
            Self::StopHoldTimer => f.write_str("stop HoldTimer"),
            Self::StartKeepaliveTimer(d) => write!(f, "start KeepaliveTimer {}s", d.as_secs()),
            Self::StopKeepaliveTimer => f.write_str("stop KeepaliveTimer"),
            Self::ConnectTcp => f.write_str("connect TCP"),
            Self::DropConnection => f.write_str("drop connection"),
            Self::SessionEstablished(n) => write!(
                f,
                "session established (AS {}, identifier {}, hold time {})",
                n.peer_asn, n.peer_router_id, n.hold_time
            ),
            Self::SessionDown { reason } => write!(f, "session down: {reason}"),
            Self::ProcessUpdate => f.write_str("process UPDATE"),
            Self::ProcessRouteRefresh => f.write_str("process ROUTE-REFRESH"),
        }
    }
}

/// The machine's configuration (RFC 4271 s8.1.1 attributes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FsmConfig {
    /// Initial value of the ConnectRetryTimer.
    pub connect_retry_time: Duration,
    /// PassiveTcpEstablishment: wait for the peer to connect, never
    /// connect ourselves.
    pub passive_tcp_establishment: bool,
}

impl Default for FsmConfig {
    /// 120 seconds, passive: what `bgpd` runs with.
    fn default() -> Self {
        Self {
            connect_retry_time: DEFAULT_CONNECT_RETRY_TIME,
            passive_tcp_establishment: true,
        }
    }
}

/// What a transition to Idle does to the ConnectRetryCounter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counter {
    /// Leaves it.
    Keep,
    /// Adds one.
    Increment,
    /// Sets it to zero (ManualStop).
    Reset,
}

/// One session's state machine.
#[derive(Debug, Clone)]
pub struct Fsm {
    config: FsmConfig,
    state: State,
    connect_retry_counter: u32,
    hold_time: Duration,
    keepalive_time: Duration,
    negotiated: Option<Box<Negotiated>>,
}

impl Fsm {
    /// A machine in Idle.
    pub fn new(config: FsmConfig) -> Self {
        Self {
            config,
            state: State::Idle,
            connect_retry_counter: 0,
            hold_time: Duration::ZERO,
            keepalive_time: Duration::ZERO,
            negotiated: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &FsmConfig {
        &self.config
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The ConnectRetryCounter: transitions to Idle since the last start,
    /// counted as s8.2.2 says.
    pub fn connect_retry_counter(&self) -> u32 {
        self.connect_retry_counter
    }

    /// The negotiated hold time; zero before an OPEN is accepted, after
    /// the return to Idle, and when the session runs without hold timer.
    pub fn hold_time(&self) -> Duration {
        self.hold_time
    }

    /// The negotiated keepalive interval; zero when no KEEPALIVE is sent.
    pub fn keepalive_time(&self) -> Duration {
        self.keepalive_time
    }

    /// What was negotiated, from OpenConfirm until the return to Idle.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_deref()
    }

    /// Whether the session is Established.
    pub fn is_established(&self) -> bool {
        self.state == State::Established
    }

    /// Processes one event and returns the actions to carry out, in order.
    pub fn handle(&mut self, event: Event) -> Vec<Action> {
        match self.state {
            State::Idle => self.idle(event),
            State::Connect => self.connect(event),
            State::Active => self.active(event),
            State::OpenSent => self.open_sent(event),
            State::OpenConfirm => self.open_confirm(event),
            State::Established => self.established(event),
        }
    }

    /// Idle: only start events do anything.
    fn idle(&mut self, event: Event) -> Vec<Action> {
        let passive = match event {
            Event::ManualStart | Event::AutomaticStart => self.config.passive_tcp_establishment,
            Event::ManualStartWithPassiveTcpEstablishment
            | Event::AutomaticStartWithPassiveTcpEstablishment => true,
            _ => return Vec::new(),
        };
        self.connect_retry_counter = 0;
        let mut actions = vec![Action::StartConnectRetryTimer(
            self.config.connect_retry_time,
        )];
        if passive {
            self.state = State::Active;
        } else {
            actions.push(Action::ConnectTcp);
            self.state = State::Connect;
        }
        actions
    }

    /// Connect: waiting for our TCP connection.
    fn connect(&mut self, event: Event) -> Vec<Action> {
        match event {
            e if is_start(&e) => Vec::new(),
            Event::ManualStop => self.enter_idle(None, Counter::Reset, DownReason::ManualStop),
            Event::ConnectRetryTimerExpires => vec![
                Action::DropConnection,
                Action::StartConnectRetryTimer(self.config.connect_retry_time),
                Action::ConnectTcp,
            ],
            Event::TcpCrAcked | Event::TcpConnectionConfirmed => self.send_open(),
            Event::TcpConnectionFails => {
                self.enter_idle(None, Counter::Keep, DownReason::TcpFailure)
            }
            other => self.close_unconnected(other),
        }
    }

    /// Active: listening for the peer's TCP connection.
    fn active(&mut self, event: Event) -> Vec<Action> {
        match event {
            e if is_start(&e) => Vec::new(),
            Event::ManualStop => self.enter_idle(None, Counter::Reset, DownReason::ManualStop),
            Event::ConnectRetryTimerExpires => {
                let restart = Action::StartConnectRetryTimer(self.config.connect_retry_time);
                if self.config.passive_tcp_establishment {
                    vec![restart]
                } else {
                    self.state = State::Connect;
                    vec![restart, Action::ConnectTcp]
                }
            }
            Event::TcpCrAcked | Event::TcpConnectionConfirmed => self.send_open(),
            Event::TcpConnectionFails => {
                self.enter_idle(None, Counter::Increment, DownReason::TcpFailure)
            }
            other => self.close_unconnected(other),
        }
    }

    /// OpenSent: our OPEN is out, waiting for the peer's.
    fn open_sent(&mut self, event: Event) -> Vec<Action> {
        match event {
            e if is_start(&e) || is_second_connection(&e) => Vec::new(),
            Event::TcpConnectionFails => {
                self.state = State::Active;
                vec![
                    Action::DropConnection,
                    Action::StopHoldTimer,
                    Action::StartConnectRetryTimer(self.config.connect_retry_time),
                ]
            }
            Event::BgpOpen(negotiated) => {
                let mut actions = vec![Action::StopConnectRetryTimer, Action::SendKeepalive];
                self.hold_time = negotiated.hold_duration().unwrap_or(Duration::ZERO);
                self.keepalive_time = negotiated.keepalive_duration().unwrap_or(Duration::ZERO);
                if self.hold_time.is_zero() {
                    actions.push(Action::StopHoldTimer);
                } else {
                    if !self.keepalive_time.is_zero() {
                        actions.push(Action::StartKeepaliveTimer(self.keepalive_time));
                    }
                    actions.push(Action::StartHoldTimer(self.hold_time));
                }
                self.negotiated = Some(negotiated);
                self.state = State::OpenConfirm;
                actions
            }
            Event::NotifMsgVerErr => {
                self.enter_idle(None, Counter::Keep, DownReason::PeerVersionError)
            }
            Event::NotifMsg(n) => self.enter_idle(
                None,
                Counter::Increment,
                DownReason::NotificationReceived(n),
            ),
            Event::BgpOpenMsgErr(e) => self.notify(NotificationRepr::from_error(&e)),
            other => self.common_connected(other, FsmSubcode::UnexpectedMessageInOpenSent),
        }
    }

    /// OpenConfirm: OPENs exchanged, waiting for the peer's KEEPALIVE.
    fn open_confirm(&mut self, event: Event) -> Vec<Action> {
        match event {
            e if is_start(&e) || is_second_connection(&e) => Vec::new(),
            Event::KeepaliveTimerExpires => self.keepalive(),
            Event::TcpConnectionFails => {
                self.enter_idle(None, Counter::Increment, DownReason::TcpFailure)
            }
            Event::NotifMsgVerErr => {
                self.enter_idle(None, Counter::Keep, DownReason::PeerVersionError)
            }
            Event::NotifMsg(n) => self.enter_idle(
                None,
                Counter::Increment,
                DownReason::NotificationReceived(n),
            ),
            Event::BgpOpenMsgErr(e) => self.notify(NotificationRepr::from_error(&e)),
            Event::KeepAliveMsg => {
                let mut actions = self.restart_hold_timer();
                self.state = State::Established;
                if let Some(negotiated) = &self.negotiated {
                    actions.push(Action::SessionEstablished(negotiated.clone()));
                }
                actions
            }
            other => self.common_connected(other, FsmSubcode::UnexpectedMessageInOpenConfirm),
        }
    }

    /// Established: routes flow.
    fn established(&mut self, event: Event) -> Vec<Action> {
        match event {
            e if is_start(&e) || is_second_connection(&e) => Vec::new(),
            Event::KeepaliveTimerExpires => self.keepalive(),
            Event::TcpConnectionFails => {
                self.enter_idle(None, Counter::Increment, DownReason::TcpFailure)
            }
            Event::NotifMsgVerErr => {
                self.enter_idle(None, Counter::Increment, DownReason::PeerVersionError)
            }
            Event::NotifMsg(n) => self.enter_idle(
                None,
                Counter::Increment,
                DownReason::NotificationReceived(n),
            ),
            Event::KeepAliveMsg => self.restart_hold_timer(),
            Event::UpdateMsg => self.update(),
            Event::UpdateMsgErr(e) if e.action != ErrorAction::SessionReset => self.update(),
            Event::UpdateMsgErr(e) => self.notify(NotificationRepr::from_error(&e)),
            Event::RouteRefreshMsg => vec![Action::ProcessRouteRefresh],
            other => self.common_connected(other, FsmSubcode::UnexpectedMessageInEstablished),
        }
    }

    /// Events handled alike in OpenSent, OpenConfirm and Established, and
    /// any other event, which is an FSM Error with `unexpected`.
    fn common_connected(&mut self, event: Event, unexpected: FsmSubcode) -> Vec<Action> {
        match event {
            Event::ManualStop => self.enter_idle(
                Some(NotificationRepr::cease(
                    CeaseSubcode::AdministrativeShutdown,
                )),
                Counter::Reset,
                DownReason::ManualStop,
            ),
            Event::AutomaticStop(n) => self.enter_idle(
                Some(n.clone()),
                Counter::Increment,
                DownReason::AutomaticStop(n),
            ),
            Event::HoldTimerExpires => self.enter_idle(
                Some(NotificationRepr::new(
                    ErrorCode::HoldTimerExpired,
                    0,
                    Vec::new(),
                )),
                Counter::Increment,
                DownReason::HoldTimerExpired,
            ),
            Event::BgpHeaderErr(e) => self.notify(NotificationRepr::from_error(&e)),
            Event::OpenCollisionDump => self.notify(NotificationRepr::cease(
                CeaseSubcode::ConnectionCollisionResolution,
            )),
            _ => self.notify(NotificationRepr::new(
                ErrorCode::FiniteStateMachine,
                unexpected.as_u8(),
                Vec::new(),
            )),
        }
    }

    /// Connect and Active, any other event: back to Idle without
    /// NOTIFICATION (no OPEN was sent on this connection).
    fn close_unconnected(&mut self, event: Event) -> Vec<Action> {
        let reason = match event {
            Event::NotifMsgVerErr => DownReason::PeerVersionError,
            Event::NotifMsg(n) => DownReason::NotificationReceived(n),
            Event::AutomaticStop(n) => DownReason::AutomaticStop(n),
            other => DownReason::UnexpectedEvent(other.name()),
        };
        self.enter_idle(None, Counter::Increment, reason)
    }

    /// TCP is up in Connect or Active: send OPEN, wait for the peer's with
    /// the large hold time.
    fn send_open(&mut self) -> Vec<Action> {
        self.state = State::OpenSent;
        vec![
            Action::StopConnectRetryTimer,
            Action::SendOpen,
            Action::StartHoldTimer(OPEN_SENT_HOLD_TIME),
        ]
    }

    /// KeepaliveTimer expired: send a KEEPALIVE and restart the timer,
    /// unless the hold time is zero (then no KEEPALIVE is sent at all).
    fn keepalive(&self) -> Vec<Action> {
        if self.hold_time.is_zero() || self.keepalive_time.is_zero() {
            return Vec::new();
        }
        vec![
            Action::SendKeepalive,
            Action::StartKeepaliveTimer(self.keepalive_time),
        ]
    }

    /// Restarts the HoldTimer, unless the hold time is zero.
    fn restart_hold_timer(&self) -> Vec<Action> {
        if self.hold_time.is_zero() {
            Vec::new()
        } else {
            vec![Action::StartHoldTimer(self.hold_time)]
        }
    }

    /// An UPDATE in Established: process it, restart the HoldTimer.
    fn update(&self) -> Vec<Action> {
        let mut actions = vec![Action::ProcessUpdate];
        actions.extend(self.restart_hold_timer());
        actions
    }

    /// Sends `notification` because of an error we detected and goes to
    /// Idle, counting the failure.
    fn notify(&mut self, notification: NotificationRepr) -> Vec<Action> {
        self.enter_idle(
            Some(notification.clone()),
            Counter::Increment,
            DownReason::NotificationSent(notification),
        )
    }

    /// Goes to Idle: sends `notification` if any, stops every timer, drops
    /// the connection, releases the negotiated parameters.
    fn enter_idle(
        &mut self,
        notification: Option<NotificationRepr>,
        counter: Counter,
        reason: DownReason,
    ) -> Vec<Action> {
        let mut actions = Vec::with_capacity(6);
        if let Some(n) = notification {
            actions.push(Action::SendNotification(n));
        }
        actions.extend([
            Action::StopConnectRetryTimer,
            Action::StopHoldTimer,
            Action::StopKeepaliveTimer,
            Action::DropConnection,
            Action::SessionDown { reason },
        ]);
        match counter {
            Counter::Keep => {}
            Counter::Increment => {
                self.connect_retry_counter = self.connect_retry_counter.saturating_add(1);
            }
            Counter::Reset => self.connect_retry_counter = 0,
        }
        self.state = State::Idle;
        self.hold_time = Duration::ZERO;
        self.keepalive_time = Duration::ZERO;
        self.negotiated = None;
        actions
    }
}

/// Events 1 and 3-7, which every state but Idle ignores.
fn is_start(event: &Event) -> bool {
    matches!(
        event,
        Event::ManualStart
            | Event::AutomaticStart
            | Event::ManualStartWithPassiveTcpEstablishment
            | Event::AutomaticStartWithPassiveTcpEstablishment
    )
}

/// Events 16 and 17 once a connection is up: a second connection, which the
/// session task tracks until its OPEN arrives (RFC 4271 s6.8, s8.2.2).
fn is_second_connection(event: &Event) -> bool {
    matches!(event, Event::TcpCrAcked | Event::TcpConnectionConfirmed)
}

/// Which of two colliding connections to close (RFC 4271 s6.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CollisionOutcome {
    /// Close the connection that already existed; keep the new one.
    CloseExisting,
    /// Close the new connection (the one whose OPEN just arrived); keep the
    /// existing one.
    CloseNew,
}

impl CollisionOutcome {
    /// The NOTIFICATION to send on the connection being closed: Cease /
    /// Connection Collision Resolution (RFC 4486 s4).
    pub fn notification(self) -> NotificationRepr {
        NotificationRepr::cease(CeaseSubcode::ConnectionCollisionResolution)
    }
}

impl fmt::Display for CollisionOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CloseExisting => "close the existing connection",
            Self::CloseNew => "close the new connection",
        })
    }
}

/// Resolves a connection collision (RFC 4271 s6.8): the connection
/// initiated by the speaker with the higher BGP Identifier, compared as
/// 4-octet unsigned integers, survives.
///
/// `existing_was_initiated_locally` tells who opened the connection that
/// already exists (in OpenConfirm or Established); the new one was opened
/// by the other side. Identifiers can only be equal between external peers
/// (RFC 6286 s2.2); [`resolve_collision_with_asn`] breaks that tie, this
/// function then keeps the connection the peer initiated.
pub fn resolve_collision(
    local_id: Ipv4Addr,
    remote_id: Ipv4Addr,
    existing_was_initiated_locally: bool,
) -> CollisionOutcome {
    survivor(
        u32::from(local_id) > u32::from(remote_id),
        existing_was_initiated_locally,
    )
}

/// [`resolve_collision`] with the tie-break of RFC 6286 s2.3: with equal
/// BGP Identifiers, the connection initiated by the speaker with the larger
/// AS number survives.
pub fn resolve_collision_with_asn(
    local_id: Ipv4Addr,
    local_asn: u32,
    remote_id: Ipv4Addr,
    remote_asn: u32,
    existing_was_initiated_locally: bool,
) -> CollisionOutcome {
    let local = (u32::from(local_id), local_asn);
    let remote = (u32::from(remote_id), remote_asn);
    survivor(local > remote, existing_was_initiated_locally)
}

/// Keeps the connection the winner initiated.
fn survivor(local_wins: bool, existing_was_initiated_locally: bool) -> CollisionOutcome {
    if local_wins == existing_was_initiated_locally {
        CollisionOutcome::CloseNew
    } else {
        CollisionOutcome::CloseExisting
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::negotiate::{local_open, negotiate, LocalSettings};
    use bgp_proto::capability::CapabilityRepr;
    use bgp_proto::codes::{MessageHeaderSubcode, UpdateMessageSubcode};
    use bgp_proto::header::HEADER_LEN;
    use bgp_proto::open::Open;
    use bgp_proto::Family;

    const SECS_120: Duration = Duration::from_secs(120);

    /// What a peer with hold time `hold` negotiates with a 90 s local
    /// speaker.
    fn negotiated(hold: u16) -> Box<Negotiated> {
        let local = LocalSettings {
            asn: 65000,
            router_id: Ipv4Addr::new(192, 0, 2, 1),
            hold_time: 90,
            families: vec![Family::IPV4_UNICAST],
            add_path_receive: false,
            graceful_restart_helper: true,
            restart_time: 120,
        };
        let mut peer = local_open(&local);
        peer.my_as = 64512;
        peer.hold_time = hold;
        peer.bgp_identifier = Ipv4Addr::new(10, 0, 0, 1);
        peer.capabilities
            .retain(|c| !matches!(c, CapabilityRepr::FourOctetAs(_)));
        let mut out = Vec::new();
        peer.emit(&mut out).unwrap();
        let open = Open::new_checked(&out[HEADER_LEN..]).unwrap();
        Box::new(negotiate(&local, 64512, &open).unwrap())
    }

    fn passive() -> Fsm {
        Fsm::new(FsmConfig::default())
    }

    /// The machine in `state` on the passive path, hold time `hold`.
    fn at(state: State, hold: u16) -> Fsm {
        let mut fsm = passive();
        let path = [
            (
                State::Active,
                Event::AutomaticStartWithPassiveTcpEstablishment,
            ),
            (State::OpenSent, Event::TcpConnectionConfirmed),
            (State::OpenConfirm, Event::BgpOpen(negotiated(hold))),
            (State::Established, Event::KeepAliveMsg),
        ];
        for (reached, event) in path {
            if fsm.state() == state {
                break;
            }
            fsm.handle(event);
            assert_eq!(fsm.state(), reached);
        }
        assert_eq!(fsm.state(), state);
        fsm
    }

    fn fsm_error(subcode: FsmSubcode) -> NotificationRepr {
        NotificationRepr::new(ErrorCode::FiniteStateMachine, subcode.as_u8(), Vec::new())
    }

    /// The actions of a transition to Idle.
    fn down(notification: Option<NotificationRepr>, reason: DownReason) -> Vec<Action> {
        let mut actions: Vec<Action> = notification
            .map(Action::SendNotification)
            .into_iter()
            .collect();
        actions.extend([
            Action::StopConnectRetryTimer,
            Action::StopHoldTimer,
            Action::StopKeepaliveTimer,
            Action::DropConnection,
            Action::SessionDown { reason },
        ]);
        actions
    }

    /// An FSM error sent with `subcode`: actions, Idle, counter 1.
    fn assert_fsm_error(mut fsm: Fsm, event: Event, subcode: FsmSubcode) {
        let name = event.name();
        let n = fsm_error(subcode);
        assert_eq!(
            fsm.handle(event),
            down(Some(n.clone()), DownReason::NotificationSent(n)),
            "{name} in {subcode}"
        );
        assert_eq!(fsm.state(), State::Idle);
        assert_eq!(fsm.connect_retry_counter(), 1);
    }

    #[test]
    fn passive_happy_path() {
        let mut fsm = passive();
        assert_eq!(fsm.state(), State::Idle);
        assert_eq!(
            fsm.handle(Event::AutomaticStartWithPassiveTcpEstablishment),
            [Action::StartConnectRetryTimer(SECS_120)]
        );
        assert_eq!(fsm.state(), State::Active);
        // Passive: the retry timer never makes us connect.
        assert_eq!(
            fsm.handle(Event::ConnectRetryTimerExpires),
            [Action::StartConnectRetryTimer(SECS_120)]
        );
        assert_eq!(fsm.state(), State::Active);
        assert_eq!(
            fsm.handle(Event::TcpConnectionConfirmed),
            [
                Action::StopConnectRetryTimer,
                Action::SendOpen,
                Action::StartHoldTimer(Duration::from_secs(240)),
            ]
        );
        assert_eq!(fsm.state(), State::OpenSent);
        let neg = negotiated(90);
        assert_eq!(
            fsm.handle(Event::BgpOpen(neg.clone())),
            [
                Action::StopConnectRetryTimer,
                Action::SendKeepalive,
                Action::StartKeepaliveTimer(Duration::from_secs(30)),
                Action::StartHoldTimer(Duration::from_secs(90)),
            ]
        );
        assert_eq!(fsm.state(), State::OpenConfirm);
        assert_eq!(fsm.hold_time(), Duration::from_secs(90));
        assert_eq!(fsm.keepalive_time(), Duration::from_secs(30));
        assert_eq!(fsm.negotiated(), Some(&*neg));
        // Our keepalives go out while waiting for the peer's.
        assert_eq!(
            fsm.handle(Event::KeepaliveTimerExpires),
            [
                Action::SendKeepalive,
                Action::StartKeepaliveTimer(Duration::from_secs(30)),
            ]
        );
        assert_eq!(
            fsm.handle(Event::KeepAliveMsg),
            [
                Action::StartHoldTimer(Duration::from_secs(90)),
                Action::SessionEstablished(neg),
            ]
        );
        assert!(fsm.is_established());
        assert_eq!(
            fsm.handle(Event::UpdateMsg),
            [
                Action::ProcessUpdate,
                Action::StartHoldTimer(Duration::from_secs(90)),
            ]
        );
        assert_eq!(
            fsm.handle(Event::KeepAliveMsg),
            [Action::StartHoldTimer(Duration::from_secs(90))]
        );
        assert_eq!(
            fsm.handle(Event::KeepaliveTimerExpires),
            [
                Action::SendKeepalive,
                Action::StartKeepaliveTimer(Duration::from_secs(30)),
            ]
        );
        assert_eq!(
            fsm.handle(Event::RouteRefreshMsg),
            [Action::ProcessRouteRefresh]
        );
        // Start events and a second connection change nothing.
        for event in [
            Event::ManualStart,
            Event::AutomaticStartWithPassiveTcpEstablishment,
            Event::TcpConnectionConfirmed,
            Event::TcpCrAcked,
        ] {
            assert!(fsm.handle(event).is_empty());
        }
        assert!(fsm.is_established());
        assert_eq!(fsm.connect_retry_counter(), 0);
    }

    #[test]
    fn manual_start_follows_the_passive_attribute() {
        let mut fsm = passive();
        assert_eq!(
            fsm.handle(Event::ManualStart),
            [Action::StartConnectRetryTimer(SECS_120)]
        );
        assert_eq!(fsm.state(), State::Active);
    }

    #[test]
    fn active_mode_connects() {
        let config = FsmConfig {
            connect_retry_time: Duration::from_secs(5),
            passive_tcp_establishment: false,
        };
        let five = Duration::from_secs(5);
        let mut fsm = Fsm::new(config);
        assert_eq!(
            fsm.handle(Event::ManualStart),
            [Action::StartConnectRetryTimer(five), Action::ConnectTcp]
        );
        assert_eq!(fsm.state(), State::Connect);
        assert_eq!(
            fsm.handle(Event::ConnectRetryTimerExpires),
            [
                Action::DropConnection,
                Action::StartConnectRetryTimer(five),
                Action::ConnectTcp,
            ]
        );
        assert_eq!(fsm.state(), State::Connect);
        // TCP failure in Connect: Idle, counter untouched.
        assert_eq!(
            fsm.handle(Event::TcpConnectionFails),
            down(None, DownReason::TcpFailure)
        );
        assert_eq!((fsm.state(), fsm.connect_retry_counter()), (State::Idle, 0));
        // ManualStart with the passive variant goes to Active; its retry
        // timer then tries a connection since the attribute is off.
        assert_eq!(
            fsm.handle(Event::ManualStartWithPassiveTcpEstablishment),
            [Action::StartConnectRetryTimer(five)]
        );
        assert_eq!(fsm.state(), State::Active);
        assert_eq!(
            fsm.handle(Event::ConnectRetryTimerExpires),
            [Action::StartConnectRetryTimer(five), Action::ConnectTcp]
        );
        assert_eq!(fsm.state(), State::Connect);
        assert_eq!(
            fsm.handle(Event::TcpCrAcked),
            [
                Action::StopConnectRetryTimer,
                Action::SendOpen,
                Action::StartHoldTimer(OPEN_SENT_HOLD_TIME),
            ]
        );
        assert_eq!(fsm.state(), State::OpenSent);
    }

    #[test]
    fn active_failures() {
        // TCP failure in Active counts.
        let mut fsm = at(State::Active, 90);
        assert_eq!(
            fsm.handle(Event::TcpConnectionFails),
            down(None, DownReason::TcpFailure)
        );
        assert_eq!((fsm.state(), fsm.connect_retry_counter()), (State::Idle, 1));
        // A restart resets the counter.
        fsm.handle(Event::AutomaticStartWithPassiveTcpEstablishment);
        assert_eq!(fsm.connect_retry_counter(), 0);
        // Any other event: Idle without NOTIFICATION.
        assert_eq!(
            fsm.handle(Event::KeepAliveMsg),
            down(None, DownReason::UnexpectedEvent("KeepAliveMsg"))
        );
        assert_eq!((fsm.state(), fsm.connect_retry_counter()), (State::Idle, 1));
        let mut fsm = at(State::Active, 90);
        assert_eq!(
            fsm.handle(Event::NotifMsgVerErr),
            down(None, DownReason::PeerVersionError)
        );
    }

    #[test]
    fn open_sent_tcp_failure_returns_to_active() {
        let mut fsm = at(State::OpenSent, 90);
        assert_eq!(
            fsm.handle(Event::TcpConnectionFails),
            [
                Action::DropConnection,
                Action::StopHoldTimer,
                Action::StartConnectRetryTimer(SECS_120),
            ]
        );
        assert_eq!(fsm.state(), State::Active);
        assert_eq!(fsm.connect_retry_counter(), 0);
    }

    #[test]
    fn hold_timer_expiry() {
        let expired = NotificationRepr::new(ErrorCode::HoldTimerExpired, 0, Vec::new());
        for state in [State::OpenSent, State::OpenConfirm, State::Established] {
            let mut fsm = at(state, 90);
            assert_eq!(
                fsm.handle(Event::HoldTimerExpires),
                down(Some(expired.clone()), DownReason::HoldTimerExpired),
                "{state}"
            );
            assert_eq!(fsm.state(), State::Idle);
            assert_eq!(fsm.connect_retry_counter(), 1);
            assert_eq!(fsm.hold_time(), Duration::ZERO);
            assert_eq!(fsm.negotiated(), None);
        }
    }

    #[test]
    fn unexpected_messages_in_open_sent() {
        let reset = Error::update(
            UpdateMessageSubcode::MalformedAttributeList,
            &[],
            ErrorAction::SessionReset,
            "test",
        );
        for event in [
            Event::KeepAliveMsg,
            Event::UpdateMsg,
            Event::UpdateMsgErr(reset),
            Event::RouteRefreshMsg,
            Event::KeepaliveTimerExpires,
            Event::ConnectRetryTimerExpires,
        ] {
            assert_fsm_error(
                at(State::OpenSent, 90),
                event,
                FsmSubcode::UnexpectedMessageInOpenSent,
            );
        }
    }

    #[test]
    fn unexpected_messages_in_open_confirm() {
        for event in [
            Event::UpdateMsg,
            Event::BgpOpen(negotiated(90)),
            Event::RouteRefreshMsg,
            Event::ConnectRetryTimerExpires,
        ] {
            assert_fsm_error(
                at(State::OpenConfirm, 90),
                event,
                FsmSubcode::UnexpectedMessageInOpenConfirm,
            );
        }
    }

    #[test]
    fn unexpected_messages_in_established() {
        let bad_open = Error::open(
            bgp_proto::codes::OpenMessageSubcode::UnsupportedCapability,
            &[],
            "test",
        );
        for event in [
            Event::BgpOpen(negotiated(90)),
            Event::BgpOpenMsgErr(bad_open),
            Event::ConnectRetryTimerExpires,
        ] {
            assert_fsm_error(
                at(State::Established, 90),
                event,
                FsmSubcode::UnexpectedMessageInEstablished,
            );
        }
    }

    #[test]
    fn message_errors_send_their_notification() {
        let header = Error::bad_length(5000, "test");
        let n = NotificationRepr::from_error(&header);
        assert_eq!(
            (n.code, n.subcode),
            (1, MessageHeaderSubcode::BadMessageLength.as_u8())
        );
        for state in [State::OpenSent, State::OpenConfirm, State::Established] {
            let mut fsm = at(state, 90);
            assert_eq!(
                fsm.handle(Event::BgpHeaderErr(header.clone())),
                down(Some(n.clone()), DownReason::NotificationSent(n.clone()))
            );
            assert_eq!(fsm.connect_retry_counter(), 1);
        }
        let bad_as = Error::open(
            bgp_proto::codes::OpenMessageSubcode::BadPeerAs,
            &[0xfc, 0],
            "test",
        );
        let n = NotificationRepr::from_error(&bad_as);
        for state in [State::OpenSent, State::OpenConfirm] {
            let mut fsm = at(state, 90);
            assert_eq!(
                fsm.handle(Event::BgpOpenMsgErr(bad_as.clone())),
                down(Some(n.clone()), DownReason::NotificationSent(n.clone()))
            );
        }
        // UPDATE errors: a session reset sends the NOTIFICATION...
        let reset = Error::update(
            UpdateMessageSubcode::MalformedAsPath,
            &[],
            ErrorAction::SessionReset,
            "test",
        );
        let n = NotificationRepr::from_error(&reset);
        let mut fsm = at(State::Established, 90);
        assert_eq!(
            fsm.handle(Event::UpdateMsgErr(reset.clone())),
            down(Some(n.clone()), DownReason::NotificationSent(n))
        );
        // ...treat-as-withdraw keeps the session (RFC 7606).
        let mut fsm = at(State::Established, 90);
        assert_eq!(
            fsm.handle(Event::UpdateMsgErr(
                reset.with_action(ErrorAction::TreatAsWithdraw)
            )),
            [
                Action::ProcessUpdate,
                Action::StartHoldTimer(Duration::from_secs(90)),
            ]
        );
        assert!(fsm.is_established());
    }

    #[test]
    fn notification_received() {
        let n = NotificationRepr::administrative_shutdown("maintenance");
        for state in [State::OpenSent, State::OpenConfirm, State::Established] {
            let mut fsm = at(state, 90);
            assert_eq!(
                fsm.handle(Event::NotifMsg(n.clone())),
                down(None, DownReason::NotificationReceived(n.clone())),
                "{state}"
            );
            assert_eq!(fsm.state(), State::Idle);
            assert_eq!(fsm.connect_retry_counter(), 1);
        }
        // A version error in OpenSent or OpenConfirm: Idle, nothing sent,
        // not counted; counted in Established.
        for (state, count) in [
            (State::OpenSent, 0),
            (State::OpenConfirm, 0),
            (State::Established, 1),
        ] {
            let mut fsm = at(state, 90);
            assert_eq!(
                fsm.handle(Event::NotifMsgVerErr),
                down(None, DownReason::PeerVersionError)
            );
            assert_eq!(fsm.state(), State::Idle);
            assert_eq!(fsm.connect_retry_counter(), count, "{state}");
        }
    }

    #[test]
    fn tcp_failure_when_connected() {
        for state in [State::OpenConfirm, State::Established] {
            let mut fsm = at(state, 90);
            assert_eq!(
                fsm.handle(Event::TcpConnectionFails),
                down(None, DownReason::TcpFailure)
            );
            assert_eq!(fsm.connect_retry_counter(), 1);
        }
    }

    #[test]
    fn hold_time_zero_runs_no_timers() {
        let mut fsm = at(State::OpenSent, 0);
        let neg = negotiated(0);
        assert_eq!(neg.hold_time, 0);
        assert_eq!(
            fsm.handle(Event::BgpOpen(neg.clone())),
            [
                Action::StopConnectRetryTimer,
                Action::SendKeepalive,
                Action::StopHoldTimer,
            ]
        );
        assert_eq!(fsm.hold_time(), Duration::ZERO);
        assert_eq!(fsm.keepalive_time(), Duration::ZERO);
        assert!(fsm.handle(Event::KeepaliveTimerExpires).is_empty());
        assert_eq!(
            fsm.handle(Event::KeepAliveMsg),
            [Action::SessionEstablished(neg)]
        );
        assert!(fsm.is_established());
        assert_eq!(fsm.handle(Event::UpdateMsg), [Action::ProcessUpdate]);
        assert!(fsm.handle(Event::KeepAliveMsg).is_empty());
        assert!(fsm.handle(Event::KeepaliveTimerExpires).is_empty());
        assert!(fsm.is_established());
    }

    #[test]
    fn hold_time_three() {
        let mut fsm = at(State::OpenSent, 3);
        assert_eq!(
            fsm.handle(Event::BgpOpen(negotiated(3))),
            [
                Action::StopConnectRetryTimer,
                Action::SendKeepalive,
                Action::StartKeepaliveTimer(Duration::from_secs(1)),
                Action::StartHoldTimer(Duration::from_secs(3)),
            ]
        );
    }

    #[test]
    fn manual_stop() {
        let cease = NotificationRepr::cease(CeaseSubcode::AdministrativeShutdown);
        assert_eq!((cease.code, cease.subcode), (6, 2));
        for state in [State::OpenSent, State::OpenConfirm, State::Established] {
            let mut fsm = at(state, 90);
            // Failures before do not survive a manual stop.
            fsm.connect_retry_counter = 3;
            assert_eq!(
                fsm.handle(Event::ManualStop),
                down(Some(cease.clone()), DownReason::ManualStop),
                "{state}"
            );
            assert_eq!(fsm.state(), State::Idle);
            assert_eq!(fsm.connect_retry_counter(), 0);
        }
        // Without a connection nothing is sent.
        let mut fsm = at(State::Active, 90);
        assert_eq!(
            fsm.handle(Event::ManualStop),
            down(None, DownReason::ManualStop)
        );
        // Idle ignores it, and every other non-start event.
        assert!(fsm.handle(Event::ManualStop).is_empty());
        assert!(fsm.handle(Event::KeepAliveMsg).is_empty());
        assert!(fsm.handle(Event::HoldTimerExpires).is_empty());
        assert_eq!(fsm.state(), State::Idle);
    }

    #[test]
    fn automatic_stop_sends_its_notification() {
        let max = NotificationRepr::max_prefix(Family::IPV4_UNICAST, 100);
        let mut fsm = at(State::Established, 90);
        assert_eq!(
            fsm.handle(Event::AutomaticStop(max.clone())),
            down(Some(max.clone()), DownReason::AutomaticStop(max.clone()))
        );
        assert_eq!(fsm.connect_retry_counter(), 1);
        let mut fsm = at(State::Active, 90);
        assert_eq!(
            fsm.handle(Event::AutomaticStop(max.clone())),
            down(None, DownReason::AutomaticStop(max))
        );
    }

    #[test]
    fn collision_resolution() {
        let low = Ipv4Addr::new(10, 0, 0, 1);
        let high = Ipv4Addr::new(10, 0, 0, 2);
        // We have the higher identifier: our connection survives.
        assert_eq!(
            resolve_collision(high, low, true),
            CollisionOutcome::CloseNew
        );
        assert_eq!(
            resolve_collision(high, low, false),
            CollisionOutcome::CloseExisting
        );
        // The peer has: its connection survives.
        assert_eq!(
            resolve_collision(low, high, true),
            CollisionOutcome::CloseExisting
        );
        assert_eq!(
            resolve_collision(low, high, false),
            CollisionOutcome::CloseNew
        );
        // Compared as integers, not octet strings of different lengths.
        let big = Ipv4Addr::new(200, 0, 0, 0);
        let small = Ipv4Addr::new(9, 255, 255, 255);
        assert_eq!(
            resolve_collision(big, small, true),
            CollisionOutcome::CloseNew
        );
        // Both sides reach the same verdict about the same connection: the
        // one `low` initiated is closed, whether it is new or existing.
        assert_eq!(
            resolve_collision(low, high, true),
            CollisionOutcome::CloseExisting
        );
        assert_eq!(
            resolve_collision(high, low, false),
            CollisionOutcome::CloseExisting
        );
        // Equal identifiers (eBGP): the larger AS wins.
        assert_eq!(
            resolve_collision_with_asn(low, 65002, low, 65001, true),
            CollisionOutcome::CloseNew
        );
        assert_eq!(
            resolve_collision_with_asn(low, 65001, low, 65002, true),
            CollisionOutcome::CloseExisting
        );
        assert_eq!(
            resolve_collision_with_asn(high, 1, low, 65001, true),
            CollisionOutcome::CloseNew
        );
        let n = CollisionOutcome::CloseNew.notification();
        assert_eq!((n.code, n.subcode), (6, 7));

        // The losing connection is closed through OpenCollisionDump.
        for state in [State::OpenSent, State::OpenConfirm, State::Established] {
            let mut fsm = at(state, 90);
            assert_eq!(
                fsm.handle(Event::OpenCollisionDump),
                down(Some(n.clone()), DownReason::NotificationSent(n.clone()))
            );
            assert_eq!(fsm.connect_retry_counter(), 1);
        }
    }

    #[test]
    fn display() {
        assert_eq!(State::OpenConfirm.to_string(), "OpenConfirm");
        assert_eq!(Event::KeepAliveMsg.to_string(), "KeepAliveMsg");
        assert_eq!(Event::KeepAliveMsg.number(), Some(26));
        assert_eq!(Event::RouteRefreshMsg.number(), None);
        assert_eq!(
            Event::BgpOpen(negotiated(90)).to_string(),
            "BgpOpen (AS 64512, identifier 10.0.0.1, hold time 90)"
        );
        assert!(
            Event::NotifMsg(fsm_error(FsmSubcode::UnexpectedMessageInOpenSent))
                .to_string()
                .starts_with("NotifMsg (Finite State Machine Error")
        );
        assert_eq!(
            Action::StartHoldTimer(OPEN_SENT_HOLD_TIME).to_string(),
            "start HoldTimer 240s"
        );
        assert_eq!(
            Action::SessionDown {
                reason: DownReason::HoldTimerExpired
            }
            .to_string(),
            "session down: hold timer expired"
        );
        assert_eq!(
            CollisionOutcome::CloseNew.to_string(),
            "close the new connection"
        );
        assert_eq!(
            serde_json::to_string(&State::Established).unwrap(),
            "\"Established\""
        );
        assert_eq!(
            serde_json::to_string(&DownReason::TcpFailure).unwrap(),
            "\"TCP connection failed\""
        );
    }
}
