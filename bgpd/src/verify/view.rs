//! What the verifier reads of the running daemon and of the other sources,
//! copied into plain values so that the computation of findings is a pure
//! function (and testable without sessions).

use crate::config::Role;
use crate::daemon::Daemon;
use bgp_proto::attr::NextHop;
use bgp_proto::Family;
use ipnet::IpNet;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::Ordering;

/// One path of a prefix as a peer sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathView {
    /// ADD-PATH path identifier (0 without ADD-PATH).
    pub path_id: u32,
    /// The next hop (the IPv6 global address for IPv6).
    pub next_hop: Option<IpAddr>,
    /// Kept across a graceful restart, not yet re-announced.
    pub stale: bool,
}

/// A peer: session and unicast routes.
#[derive(Debug, Clone, Default)]
pub struct PeerView {
    pub name: String,
    pub address: Option<IpAddr>,
    pub asn: u32,
    pub role: Option<Role>,
    /// FSM state name.
    pub state: String,
    pub established: bool,
    /// Down, but its routes are kept stale: a graceful restart in progress.
    pub restarting: bool,
    /// Families with ADD-PATH receive negotiated.
    pub add_path: Vec<Family>,
    /// IPv4 and IPv6 unicast routes.
    pub routes: BTreeMap<IpNet, Vec<PathView>>,
    pub flaps: u64,
    pub updates: u64,
    pub treat_as_withdraw: u64,
    pub attribute_discard: u64,
    pub session_resets: u64,
}

impl PeerView {
    pub fn is_router(&self) -> bool {
        self.role == Some(Role::Router)
    }

    pub fn is_speaker(&self) -> bool {
        self.role == Some(Role::Speaker)
    }

    /// Up, or restarting gracefully with its routes kept.
    pub fn up_or_restarting(&self) -> bool {
        self.established || self.restarting
    }

    /// Number of IPv4 and IPv6 prefixes.
    pub fn counts(&self) -> (usize, usize) {
        let v4 = self.routes.keys().filter(|p| p.addr().is_ipv4()).count();
        (v4, self.routes.len() - v4)
    }
}

fn next_hop_ip(nh: Option<NextHop<'_>>) -> Option<IpAddr> {
    match nh? {
        NextHop::V4(a) => Some(IpAddr::V4(a)),
        NextHop::V6 { global, .. } => Some(IpAddr::V6(global)),
        NextHop::Other(_) => None,
    }
}

/// A speaker with more routes than this is not a Cilium agent announcing
/// LoadBalancer IPs (a full table leaked to the verifier, a benchmark):
/// only its relevant routes are copied, like a router's.
pub const SPEAKER_COPY_LIMIT: usize = 10_000;

/// Copies every peer's state and unicast routes out of the daemon: every
/// route of a speaker (up to [`SPEAKER_COPY_LIMIT`]), and the routes of a
/// router for which `relevant` holds (a router may carry a full table).
pub fn collect(daemon: &Daemon, relevant: &dyn Fn(&IpNet) -> bool) -> Vec<PeerView> {
    daemon
        .peer_list()
        .into_iter()
        .map(|peer| {
            let (state, established, flaps, add_path) = match peer.session.read() {
                Ok(s) => (
                    s.state.to_string(),
                    s.state == crate::fsm::State::Established,
                    s.flaps,
                    s.negotiated
                        .as_ref()
                        .map(|n| n.add_path_receive.clone())
                        .unwrap_or_default(),
                ),
                Err(_) => (String::from("unknown"), false, 0, Vec::new()),
            };
            let mut routes: BTreeMap<IpNet, Vec<PathView>> = BTreeMap::new();
            let mut stale = 0;
            if let Ok(rib) = peer.rib.read() {
                stale = rib.stale_count();
                let filter = peer.role == Role::Router || rib.len() > SPEAKER_COPY_LIMIT;
                for f in [Family::IPV4_UNICAST, Family::IPV6_UNICAST] {
                    for r in rib.iter_family(f) {
                        if filter && !relevant(&r.prefix) {
                            continue;
                        }
                        routes.entry(r.prefix).or_default().push(PathView {
                            path_id: r.path_id,
                            next_hop: next_hop_ip(r.attrs.next_hop()),
                            stale: r.stale,
                        });
                    }
                }
            }
            PeerView {
                name: peer.name.clone(),
                address: Some(peer.address),
                asn: peer.remote_asn,
                role: Some(peer.role),
                state,
                established,
                restarting: !established && stale > 0,
                add_path,
                routes,
                flaps,
                updates: peer.counters.updates.load(Ordering::Relaxed),
                treat_as_withdraw: peer.counters.treat_as_withdraw.load(Ordering::Relaxed),
                attribute_discard: peer.counters.attribute_discard.load(Ordering::Relaxed),
                session_resets: peer.counters.session_resets.load(Ordering::Relaxed),
            }
        })
        .collect()
}
