//! One configured (or dynamically matched) neighbour: what the session task
//! writes and the HTTP API reads. The Adj-RIB-In outlives sessions, so that
//! graceful restart can keep a peer's routes across a reconnect.

use crate::config::Role;
use crate::fsm::{DownReason, State};
use crate::negotiate::Negotiated;
use crate::rib::AdjRibIn;
use bgp_proto::notification::NotificationRepr;
use serde::Serialize;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;
use tokio::sync::watch;

/// How many peer events are kept.
const EVENT_LOG: usize = 64;

/// Something that happened to the session, for the event log.
#[derive(Debug, Clone, Serialize)]
pub struct PeerEvent {
    /// When, as seconds since the Unix epoch.
    pub at: f64,
    /// `up` or `down`.
    pub kind: &'static str,
    /// Why (for `down`) or what was negotiated (for `up`).
    pub detail: String,
}

/// A NOTIFICATION with the time it was sent or received.
#[derive(Debug, Clone, Serialize)]
pub struct NotificationRecord {
    /// When, as seconds since the Unix epoch.
    pub at: f64,
    /// Code.
    pub code: u8,
    /// Subcode.
    pub subcode: u8,
    /// Readable form (RFC names, shutdown communication).
    pub text: String,
}

impl NotificationRecord {
    fn new(n: &NotificationRepr) -> Self {
        Self {
            at: now_secs(),
            code: n.code,
            subcode: n.subcode,
            text: n.to_string(),
        }
    }
}

/// Session state as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SessionInfo {
    /// FSM state.
    pub state: State,
    /// Since when (seconds since the epoch) the session is Established.
    pub established_at: Option<f64>,
    /// What the OPEN exchange settled, while Established.
    pub negotiated: Option<Negotiated>,
    /// Times the session went down after being Established.
    pub flaps: u64,
    /// Last NOTIFICATION sent.
    pub last_notification_sent: Option<NotificationRecord>,
    /// Last NOTIFICATION received.
    pub last_notification_received: Option<NotificationRecord>,
    /// Last reason the session went down.
    pub last_down_reason: Option<String>,
    /// Up/down history, newest last.
    pub events: VecDeque<PeerEvent>,
}

/// Message counters.
#[derive(Debug, Default)]
pub struct Counters {
    /// UPDATE messages received.
    pub updates: AtomicU64,
    /// Messages of any type received.
    pub messages: AtomicU64,
    /// UPDATEs with a treat-as-withdraw verdict (RFC 7606).
    pub treat_as_withdraw: AtomicU64,
    /// UPDATEs with attributes discarded (RFC 7606).
    pub attribute_discard: AtomicU64,
    /// Malformed messages that reset the session.
    pub session_resets: AtomicU64,
}

/// A neighbour.
#[derive(Debug)]
pub struct Peer {
    /// Name from the configuration (`name/address` for dynamic neighbours).
    pub name: String,
    /// Its address.
    pub address: IpAddr,
    /// Its AS.
    pub remote_asn: u32,
    /// Speaker or router.
    pub role: Role,
    /// Session state.
    pub session: RwLock<SessionInfo>,
    /// What it advertised.
    pub rib: RwLock<AdjRibIn>,
    /// Message counters.
    pub counters: Counters,
    /// Bumped whenever a session becomes Established; timers started for an
    /// older generation do nothing.
    pub generation: AtomicU64,
    /// The connection currently holding the peer (collision detection):
    /// its id, whether we dialled it, and a switch that tells it to close.
    pub claim: Mutex<Option<Claim>>,
    /// Bumped on every change of state or routes; the verifier waits on it.
    pub changes: Arc<watch::Sender<u64>>,
}

/// A connection that has received the peer's OPEN.
#[derive(Debug)]
pub struct Claim {
    /// Connection id.
    pub conn: u64,
    /// Whether this speaker initiated it.
    pub locally_initiated: bool,
    /// Tells that connection to close, and why.
    pub dump: watch::Sender<crate::session::Dump>,
}

/// Seconds since the Unix epoch, with microseconds.
pub fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Peer {
    /// A peer with no session yet.
    pub fn new(
        name: String,
        address: IpAddr,
        remote_asn: u32,
        role: Role,
        changes: Arc<watch::Sender<u64>>,
    ) -> Self {
        Self {
            name,
            address,
            remote_asn,
            role,
            session: RwLock::new(SessionInfo {
                state: State::Idle,
                established_at: None,
                negotiated: None,
                flaps: 0,
                last_notification_sent: None,
                last_notification_received: None,
                last_down_reason: None,
                events: VecDeque::new(),
            }),
            rib: RwLock::new(AdjRibIn::default()),
            counters: Counters::default(),
            generation: AtomicU64::new(0),
            claim: Mutex::new(None),
            changes,
        }
    }

    /// Tells whoever watches (the verifier) that state or routes changed.
    pub fn changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn log(s: &mut SessionInfo, kind: &'static str, detail: String) {
        if s.events.len() == EVENT_LOG {
            s.events.pop_front();
        }
        s.events.push_back(PeerEvent {
            at: now_secs(),
            kind,
            detail,
        });
    }

    /// Records a new FSM state.
    pub fn set_state(&self, state: State) {
        let changed = match self.session.write() {
            Ok(mut s) => std::mem::replace(&mut s.state, state) != state,
            Err(_) => false,
        };
        if changed {
            self.changed();
        }
    }

    /// Records that the session is Established; returns its generation.
    pub fn established(&self, n: &Negotiated) -> u64 {
        if let Ok(mut s) = self.session.write() {
            s.state = State::Established;
            s.established_at = Some(now_secs());
            s.negotiated = Some(n.clone());
            let detail = format!(
                "hold {}s, families {}",
                n.hold_time,
                n.families
                    .iter()
                    .map(|f| f.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            Self::log(&mut s, "up", detail);
        }
        self.changed();
        self.generation.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Records that the session went down.
    pub fn down(&self, reason: &DownReason) {
        if let Ok(mut s) = self.session.write() {
            if s.state == State::Established {
                s.flaps += 1;
            }
            s.state = State::Idle;
            s.established_at = None;
            s.negotiated = None;
            match reason {
                DownReason::NotificationSent(n) | DownReason::AutomaticStop(n) => {
                    s.last_notification_sent = Some(NotificationRecord::new(n))
                }
                DownReason::NotificationReceived(n) => {
                    s.last_notification_received = Some(NotificationRecord::new(n))
                }
                _ => {}
            }
            s.last_down_reason = Some(reason.to_string());
            Self::log(&mut s, "down", reason.to_string());
        }
        self.changed();
    }

    /// Records a NOTIFICATION sent outside the FSM (e.g. collision).
    pub fn notification_sent(&self, n: &NotificationRepr) {
        if let Ok(mut s) = self.session.write() {
            s.last_notification_sent = Some(NotificationRecord::new(n));
        }
    }

    /// The current generation.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Whether a session is Established now.
    pub fn is_established(&self) -> bool {
        self.session
            .read()
            .map(|s| s.state == State::Established)
            .unwrap_or(false)
    }
}
