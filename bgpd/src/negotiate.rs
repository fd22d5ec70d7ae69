//! Our OPEN message and the capability negotiation with a peer's OPEN.
//!
//! `bgpd` only listens: it keeps the routes a peer sends and advertises none.
//! [`local_open`] builds the OPEN it sends from [`LocalSettings`], offering
//! everything that lets a peer send it more (families, ADD-PATH receive,
//! extended messages, IPv6 next hops for IPv4) or keep its routes across a
//! restart (Graceful Restart). [`negotiate`] checks the peer's OPEN against
//! the configuration (RFC 4271 s6.2) and computes what the session agreed
//! on, a [`Negotiated`]: hold time, families, and per capability whether
//! both sides sent it, plus what the peer told about itself (graceful
//! restart, role, host name, software). [`Negotiated::receive_context`] turns
//! it into the [`SessionContext`] that decodes the peer's messages.

use bgp_proto::capability::{
    AddPathFamily, AddPathMode, CapabilityRepr, ExtendedNextHopEntry, GracefulRestartRepr, Role,
    MAX_RESTART_TIME,
};
use bgp_proto::codes::OpenMessageSubcode;
use bgp_proto::open::{Open, OpenRepr, AS_TRANS, BGP_VERSION};
use bgp_proto::{Afi, Error, Family, SessionContext};
use serde::Serialize;
use std::net::Ipv4Addr;
use std::time::Duration;

/// Smallest non-zero hold time (RFC 4271 s4.2: 0 or at least 3 seconds).
pub const MIN_HOLD_TIME: u16 = 3;

/// What this speaker is and offers, from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalSettings {
    /// Our AS number (2 or 4 octets).
    pub asn: u32,
    /// Our BGP Identifier.
    pub router_id: Ipv4Addr,
    /// Hold time we propose, in seconds: 0 (no hold timer) or at least 3.
    /// 1 and 2, which RFC 4271 forbids, are sent and used as 3.
    pub hold_time: u16,
    /// Families we accept, in order. Empty means IPv4 unicast only, the
    /// meaning of an OPEN without Multiprotocol capability (RFC 4760 s8).
    pub families: Vec<Family>,
    /// Offer ADD-PATH receive for every family (RFC 7911).
    pub add_path_receive: bool,
    /// Advertise Graceful Restart and keep a restarting peer's routes as
    /// stale (RFC 4724 receiving-speaker / helper mode).
    pub graceful_restart_helper: bool,
    /// Restart Time we advertise, in seconds; at most 4095 are sent.
    pub restart_time: u16,
}

impl LocalSettings {
    /// The hold time we send and negotiate with: [`hold_time`], with the
    /// forbidden values 1 and 2 raised to 3.
    ///
    /// [`hold_time`]: Self::hold_time
    pub fn effective_hold_time(&self) -> u16 {
        if self.hold_time == 0 {
            0
        } else {
            self.hold_time.max(MIN_HOLD_TIME)
        }
    }

    /// The families we accept: [`families`](Self::families) without
    /// duplicates, or IPv4 unicast alone when it is empty.
    pub fn effective_families(&self) -> Vec<Family> {
        if self.families.is_empty() {
            return vec![Family::IPV4_UNICAST];
        }
        let mut out: Vec<Family> = Vec::with_capacity(self.families.len());
        for family in &self.families {
            if !out.contains(family) {
                out.push(*family);
            }
        }
        out
    }

    /// The Extended Next Hop Encoding entries we advertise: IPv4 unicast
    /// NLRI with an IPv6 next hop (RFC 8950), when we accept IPv4 unicast.
    pub fn extended_next_hop(&self) -> Vec<ExtendedNextHopEntry> {
        if self.effective_families().contains(&Family::IPV4_UNICAST) {
            vec![ExtendedNextHopEntry {
                nlri_afi: Afi::IPV4,
                nlri_safi: u16::from(Family::IPV4_UNICAST.safi.0),
                nexthop_afi: Afi::IPV6,
            }]
        } else {
            Vec::new()
        }
    }
}

/// The OPEN we send.
///
/// Capabilities, in order: Multiprotocol for each family (none when
/// [`LocalSettings::families`] is empty, which means IPv4 unicast), Route
/// Refresh, Enhanced Route Refresh, 4-octet AS, Graceful Restart when
/// helping (restart time, no family: we forward nothing, so we preserve no
/// forwarding state), ADD-PATH Receive for each family when asked, Extended
/// Next Hop (IPv4 unicast over IPv6) when we accept IPv4 unicast, and
/// Extended Message. My Autonomous System is [`AS_TRANS`] when the AS needs
/// 4 octets (RFC 6793 s4.1).
pub fn local_open(local: &LocalSettings) -> OpenRepr {
    let families = local.effective_families();
    let mut capabilities: Vec<CapabilityRepr> = Vec::new();
    if !local.families.is_empty() {
        capabilities.extend(families.iter().copied().map(CapabilityRepr::Multiprotocol));
    }
    capabilities.push(CapabilityRepr::RouteRefresh);
    capabilities.push(CapabilityRepr::EnhancedRouteRefresh);
    capabilities.push(CapabilityRepr::FourOctetAs(local.asn));
    if local.graceful_restart_helper {
        capabilities.push(CapabilityRepr::GracefulRestart(GracefulRestartRepr {
            restart_state: false,
            notification: false,
            restart_time: local.restart_time.min(MAX_RESTART_TIME),
            families: Vec::new(),
        }));
    }
    if local.add_path_receive {
        capabilities.push(CapabilityRepr::AddPath(
            families
                .iter()
                .map(|&family| AddPathFamily {
                    family,
                    mode: AddPathMode::RECEIVE,
                })
                .collect(),
        ));
    }
    let enhe = local.extended_next_hop();
    if !enhe.is_empty() {
        capabilities.push(CapabilityRepr::ExtendedNextHop(enhe));
    }
    capabilities.push(CapabilityRepr::ExtendedMessage);
    let my_as = if u16::try_from(local.asn).is_ok() {
        local.asn
    } else {
        u32::from(AS_TRANS)
    };
    OpenRepr {
        version: BGP_VERSION,
        my_as,
        hold_time: local.effective_hold_time(),
        bgp_identifier: local.router_id,
        capabilities,
    }
}

/// The peer's Graceful Restart capability (RFC 4724 s3, RFC 8538).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerGracefulRestart {
    /// Restart Time in seconds: how long to wait for the peer to come back
    /// before deleting its stale routes.
    pub restart_time: u16,
    /// Restart State (R): the peer has just restarted.
    pub restart_state: bool,
    /// Graceful Notification (N, RFC 8538).
    pub notification: bool,
    /// Families the peer listed, with their Forwarding State (F) bit.
    pub families: Vec<PeerGracefulRestartFamily>,
}

/// One family of the peer's Graceful Restart capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PeerGracefulRestartFamily {
    /// The family.
    #[serde(serialize_with = "ser::family")]
    pub family: Family,
    /// Forwarding State (F): the peer preserved forwarding for it.
    pub forwarding_state: bool,
}

/// One family of the peer's Long-Lived Graceful Restart capability
/// (RFC 9494 s3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PeerLlgrFamily {
    /// The family.
    #[serde(serialize_with = "ser::family")]
    pub family: Family,
    /// Forwarding State (F).
    pub forwarding_state: bool,
    /// Long-lived Stale Time in seconds.
    pub stale_time: u32,
}

/// What a session agreed on, and what the peer said about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Negotiated {
    /// The peer's AS (from the 4-octet AS capability if sent).
    pub peer_asn: u32,
    /// The peer's BGP Identifier.
    pub peer_router_id: Ipv4Addr,
    /// Hold time the peer proposed, in seconds.
    pub peer_hold_time: u16,
    /// Hold time of the session in seconds: the smaller proposal; 0 means
    /// no hold timer and no KEEPALIVEs (RFC 4271 s4.2, s4.4).
    pub hold_time: u16,
    /// Seconds between our KEEPALIVEs: a third of the hold time (RFC 4271
    /// s4.4); 0 when the hold time is 0.
    pub keepalive_time: u16,
    /// Families both sides can exchange, in our configured order.
    #[serde(serialize_with = "ser::families")]
    pub families: Vec<Family>,
    /// Both sides sent the 4-octet AS capability (RFC 6793).
    pub four_octet_as: bool,
    /// Families whose NLRI from the peer carry path identifiers: we offered
    /// Receive and the peer Send or Both (RFC 7911 s4).
    #[serde(serialize_with = "ser::families")]
    pub add_path_receive: Vec<Family>,
    /// Both sides sent Route Refresh (RFC 2918).
    pub route_refresh: bool,
    /// Both sides sent Enhanced Route Refresh (RFC 7313).
    pub enhanced_route_refresh: bool,
    /// Both sides sent Extended Message (RFC 8654): messages up to 65535
    /// octets.
    pub extended_message: bool,
    /// NLRI families the peer may send with an IPv6 next hop: both sides
    /// listed the family with next hop AFI IPv6 (RFC 8950).
    #[serde(serialize_with = "ser::families")]
    pub extended_next_hop: Vec<Family>,
    /// The peer's Graceful Restart capability, if it sent one.
    pub peer_graceful_restart: Option<PeerGracefulRestart>,
    /// We act as Graceful Restart helper for this peer: we are configured
    /// to and the peer sent the capability (RFC 4724 s4.2).
    pub graceful_restart_helper: bool,
    /// Families of the peer's Long-Lived Graceful Restart capabilities, if
    /// it sent any (RFC 9494).
    pub peer_llgr: Option<Vec<PeerLlgrFamily>>,
    /// The peer's BGP Role (RFC 9234).
    #[serde(serialize_with = "ser::role")]
    pub peer_role: Option<Role>,
    /// Host name of the peer's FQDN capability.
    pub peer_hostname: Option<String>,
    /// Domain name of the peer's FQDN capability, when not empty.
    pub peer_domain: Option<String>,
    /// The peer's Software Version capability.
    pub peer_software_version: Option<String>,
    /// Every capability the peer sent, as text, in order.
    pub peer_capabilities: Vec<String>,
}

impl Negotiated {
    /// The hold time, or `None` when it is 0 (no hold timer).
    pub fn hold_duration(&self) -> Option<Duration> {
        (self.hold_time != 0).then(|| Duration::from_secs(u64::from(self.hold_time)))
    }

    /// The keepalive interval, or `None` when KEEPALIVEs are not sent.
    pub fn keepalive_duration(&self) -> Option<Duration> {
        (self.hold_time != 0 && self.keepalive_time != 0)
            .then(|| Duration::from_secs(u64::from(self.keepalive_time)))
    }

    /// Whether NLRI of `family` from the peer carry path identifiers.
    pub fn receives_add_path(&self, family: Family) -> bool {
        self.add_path_receive.contains(&family)
    }

    /// Whether `family` was negotiated.
    pub fn has_family(&self, family: Family) -> bool {
        self.families.contains(&family)
    }

    /// The decoding context for messages from the peer: 4-octet AS, ADD-PATH
    /// per family, extended message length.
    pub fn receive_context(&self) -> SessionContext {
        let mut ctx = SessionContext::classic();
        ctx.four_octet_as = self.four_octet_as;
        ctx.extended_message = self.extended_message;
        for &family in &self.add_path_receive {
            ctx.set_add_path(family, true);
        }
        ctx
    }
}

/// Checks the peer's OPEN and computes what the session agreed on.
///
/// Errors, each the NOTIFICATION to send (RFC 4271 s6.2):
/// - whatever [`Open::check_semantics`] finds (AS 0, hold time 1 or 2,
///   identifier 0);
/// - the peer's AS (the 4-octet AS capability's if present) differs from
///   `expected_remote_asn`: Bad Peer AS, data the 2-octet My Autonomous
///   System field;
/// - an internal peer (same AS as ours) with our BGP Identifier: Bad BGP
///   Identifier (RFC 6286 s2.2).
pub fn negotiate(
    local: &LocalSettings,
    expected_remote_asn: u32,
    peer_open: &Open<'_>,
) -> Result<Negotiated, Error> {
    peer_open.check_semantics()?;
    let peer_asn = peer_open.peer_as();
    if peer_asn != expected_remote_asn {
        return Err(Error::open(
            OpenMessageSubcode::BadPeerAs,
            &peer_open.my_as().to_be_bytes(),
            "peer AS differs from the configured remote AS",
        ));
    }
    let peer_router_id = peer_open.bgp_identifier();
    if expected_remote_asn == local.asn && peer_router_id == local.router_id {
        return Err(Error::open(
            OpenMessageSubcode::BadBgpIdentifier,
            &[],
            "internal peer has our BGP Identifier",
        ));
    }

    let peer_hold_time = peer_open.hold_time();
    let hold_time = local.effective_hold_time().min(peer_hold_time);
    let keepalive_time = hold_time / 3;

    let ours = local.effective_families();
    let mut theirs: Vec<Family> = peer_open.multiprotocol().collect();
    if theirs.is_empty() {
        theirs.push(Family::IPV4_UNICAST);
    }
    let families: Vec<Family> = ours.into_iter().filter(|f| theirs.contains(f)).collect();

    let add_path_receive: Vec<Family> = if local.add_path_receive {
        families
            .iter()
            .copied()
            .filter(|&family| {
                peer_open
                    .add_path()
                    .any(|e| e.family == family && e.mode.send())
            })
            .collect()
    } else {
        Vec::new()
    };

    let extended_next_hop: Vec<Family> = local
        .extended_next_hop()
        .iter()
        .filter(|ours| peer_open.extended_next_hop().any(|theirs| theirs == **ours))
        .filter_map(ExtendedNextHopEntry::family)
        .filter(|f| families.contains(f))
        .collect();

    let peer_graceful_restart = peer_open.graceful_restart().map(|gr| PeerGracefulRestart {
        restart_time: gr.restart_time(),
        restart_state: gr.restart_state(),
        notification: gr.notification(),
        families: gr
            .families()
            .map(|f| PeerGracefulRestartFamily {
                family: f.family,
                forwarding_state: f.forwarding_state,
            })
            .collect(),
    });
    let graceful_restart_helper = local.graceful_restart_helper && peer_graceful_restart.is_some();
    let peer_llgr = peer_open.long_lived_graceful_restart().then(|| {
        peer_open
            .long_lived_graceful_restart_families()
            .map(|f| PeerLlgrFamily {
                family: f.family,
                forwarding_state: f.forwarding_state,
                stale_time: f.stale_time,
            })
            .collect()
    });

    let fqdn = peer_open.fqdn();
    let peer_hostname = fqdn.map(|f| String::from_utf8_lossy(f.hostname()).into_owned());
    let peer_domain = fqdn
        .filter(|f| !f.domain().is_empty())
        .map(|f| String::from_utf8_lossy(f.domain()).into_owned());
    let peer_software_version = peer_open
        .software_version()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());

    Ok(Negotiated {
        peer_asn,
        peer_router_id,
        peer_hold_time,
        hold_time,
        keepalive_time,
        families,
        // We always send the 4-octet AS capability.
        four_octet_as: peer_open.four_octet_as().is_some(),
        add_path_receive,
        // We always send Route Refresh, Enhanced Route Refresh and Extended
        // Message.
        route_refresh: peer_open.route_refresh(),
        enhanced_route_refresh: peer_open.enhanced_route_refresh(),
        extended_message: peer_open.extended_message(),
        extended_next_hop,
        peer_graceful_restart,
        graceful_restart_helper,
        peer_llgr,
        peer_role: peer_open.role(),
        peer_hostname,
        peer_domain,
        peer_software_version,
        peer_capabilities: peer_open.capabilities().map(|c| c.to_string()).collect(),
    })
}

/// Serializers for `bgp-proto` types, which derive no `serde` traits in this
/// build: families and roles as their display text (`ipv4-unicast`,
/// `customer`).
mod ser {
    use bgp_proto::capability::Role;
    use bgp_proto::Family;
    use serde::Serializer;

    pub(super) fn family<S: Serializer>(family: &Family, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(family)
    }

    pub(super) fn families<S: Serializer>(families: &[Family], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(families.iter().map(ToString::to_string))
    }

    pub(super) fn role<S: Serializer>(role: &Option<Role>, s: S) -> Result<S::Ok, S::Error> {
        match role {
            Some(role) => s.collect_str(role),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bgp_proto::capability::{CapabilityCode, GracefulRestartFamily, LlgrFamily};
    use bgp_proto::header::HEADER_LEN;

    const ROUTER_ID: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

    fn settings() -> LocalSettings {
        LocalSettings {
            asn: 65000,
            router_id: ROUTER_ID,
            hold_time: 90,
            families: vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST],
            add_path_receive: true,
            graceful_restart_helper: true,
            restart_time: 120,
        }
    }

    /// Emits `repr` as a whole message and returns the body after the
    /// 19-octet header, as the session hands it to `Open::new_checked`.
    fn wire(repr: &OpenRepr) -> Vec<u8> {
        let mut out = Vec::new();
        repr.emit(&mut out).unwrap();
        out.split_off(HEADER_LEN)
    }

    fn run(local: &LocalSettings, remote_asn: u32, repr: &OpenRepr) -> Result<Negotiated, Error> {
        let body = wire(repr);
        let open = Open::new_checked(&body).unwrap();
        negotiate(local, remote_asn, &open)
    }

    fn open(
        my_as: u32,
        hold_time: u16,
        id: [u8; 4],
        capabilities: Vec<CapabilityRepr>,
    ) -> OpenRepr {
        OpenRepr {
            version: 4,
            my_as,
            hold_time,
            bgp_identifier: Ipv4Addr::from(id),
            capabilities,
        }
    }

    /// What GoBGP (so Cilium's BGP control plane) sends: MP IPv4 and IPv6
    /// unicast, Route Refresh, Graceful Restart with N bit, 120 s and both
    /// families preserved, 4-octet AS, FQDN; no ADD-PATH.
    fn gobgp() -> OpenRepr {
        open(
            64512,
            90,
            [10, 0, 0, 1],
            vec![
                CapabilityRepr::Multiprotocol(Family::IPV4_UNICAST),
                CapabilityRepr::Multiprotocol(Family::IPV6_UNICAST),
                CapabilityRepr::RouteRefresh,
                CapabilityRepr::GracefulRestart(GracefulRestartRepr {
                    restart_state: false,
                    notification: true,
                    restart_time: 120,
                    families: vec![
                        GracefulRestartFamily {
                            family: Family::IPV4_UNICAST,
                            forwarding_state: true,
                        },
                        GracefulRestartFamily {
                            family: Family::IPV6_UNICAST,
                            forwarding_state: true,
                        },
                    ],
                }),
                CapabilityRepr::FourOctetAs(64512),
                CapabilityRepr::fqdn("node1", ""),
            ],
        )
    }

    /// What FRR sends with `neighbor X addpath-tx-all-paths` for IPv4
    /// unicast: ADD-PATH Both (it always offers receive, and send once a TX
    /// policy is set), both Route Refresh codes, Enhanced Route Refresh,
    /// Extended Message, GR in helper mode (no family), an empty LLGR,
    /// FQDN and Software Version.
    fn frr(add_path: AddPathMode) -> OpenRepr {
        open(
            65001,
            180,
            [10, 0, 0, 2],
            vec![
                CapabilityRepr::Multiprotocol(Family::IPV4_UNICAST),
                CapabilityRepr::Unknown {
                    code: CapabilityCode::PRESTANDARD_ROUTE_REFRESH,
                    value: Vec::new(),
                },
                CapabilityRepr::RouteRefresh,
                CapabilityRepr::EnhancedRouteRefresh,
                CapabilityRepr::FourOctetAs(65001),
                CapabilityRepr::AddPath(vec![AddPathFamily {
                    family: Family::IPV4_UNICAST,
                    mode: add_path,
                }]),
                CapabilityRepr::ExtendedMessage,
                CapabilityRepr::fqdn("frr1", "lab"),
                CapabilityRepr::GracefulRestart(GracefulRestartRepr {
                    restart_state: true,
                    notification: true,
                    restart_time: 120,
                    families: Vec::new(),
                }),
                CapabilityRepr::LongLivedGracefulRestart(Vec::new()),
                CapabilityRepr::software_version("FRRouting/10.2"),
            ],
        )
    }

    /// What BIRD 2 sends for one IPv4 and one IPv6 channel with a 32-bit
    /// AS: AS_TRANS in My AS, hold 240, GR and LLGR "aware", Enhanced
    /// Route Refresh, LLGR with a stale time for IPv6.
    fn bird() -> OpenRepr {
        open(
            u32::from(AS_TRANS),
            240,
            [10, 0, 0, 3],
            vec![
                CapabilityRepr::Multiprotocol(Family::IPV4_UNICAST),
                CapabilityRepr::Multiprotocol(Family::IPV6_UNICAST),
                CapabilityRepr::RouteRefresh,
                CapabilityRepr::EnhancedRouteRefresh,
                CapabilityRepr::ExtendedNextHop(vec![ExtendedNextHopEntry {
                    nlri_afi: Afi::IPV4,
                    nlri_safi: 1,
                    nexthop_afi: Afi::IPV6,
                }]),
                CapabilityRepr::GracefulRestart(GracefulRestartRepr {
                    restart_state: false,
                    notification: false,
                    restart_time: 120,
                    families: Vec::new(),
                }),
                CapabilityRepr::LongLivedGracefulRestart(vec![LlgrFamily {
                    family: Family::IPV6_UNICAST,
                    forwarding_state: false,
                    stale_time: 3600,
                }]),
                CapabilityRepr::FourOctetAs(4_200_000_001),
                CapabilityRepr::Role(Role::PROVIDER),
            ],
        )
    }

    #[test]
    fn local_open_advertises_everything() {
        let repr = local_open(&settings());
        assert_eq!(repr.my_as, 65000);
        assert_eq!(repr.hold_time, 90);
        assert_eq!(repr.bgp_identifier, ROUTER_ID);
        assert_eq!(
            repr.capabilities,
            vec![
                CapabilityRepr::Multiprotocol(Family::IPV4_UNICAST),
                CapabilityRepr::Multiprotocol(Family::IPV6_UNICAST),
                CapabilityRepr::RouteRefresh,
                CapabilityRepr::EnhancedRouteRefresh,
                CapabilityRepr::FourOctetAs(65000),
                CapabilityRepr::GracefulRestart(GracefulRestartRepr {
                    restart_state: false,
                    notification: false,
                    restart_time: 120,
                    families: Vec::new(),
                }),
                CapabilityRepr::AddPath(vec![
                    AddPathFamily {
                        family: Family::IPV4_UNICAST,
                        mode: AddPathMode::RECEIVE,
                    },
                    AddPathFamily {
                        family: Family::IPV6_UNICAST,
                        mode: AddPathMode::RECEIVE,
                    },
                ]),
                CapabilityRepr::ExtendedNextHop(vec![ExtendedNextHopEntry {
                    nlri_afi: Afi::IPV4,
                    nlri_safi: 1,
                    nexthop_afi: Afi::IPV6,
                }]),
                CapabilityRepr::ExtendedMessage,
            ]
        );
        // It goes on the wire and parses back unchanged.
        let body = wire(&repr);
        let parsed = Open::new_checked(&body).unwrap();
        parsed.check_semantics().unwrap();
        assert_eq!(OpenRepr::parse(&parsed), repr);
    }

    #[test]
    fn local_open_options() {
        let local = LocalSettings {
            asn: 4_200_000_000,
            hold_time: 2,
            families: vec![Family::IPV6_UNICAST, Family::IPV6_UNICAST],
            add_path_receive: false,
            graceful_restart_helper: false,
            restart_time: 9999,
            ..settings()
        };
        let repr = local_open(&local);
        assert_eq!(repr.my_as, u32::from(AS_TRANS));
        assert_eq!(repr.peer_as(), 4_200_000_000);
        assert_eq!(repr.hold_time, 3);
        let codes: Vec<u8> = repr.capabilities.iter().map(|c| c.code().0).collect();
        // MP IPv6 once, RR, ERR, 4-octet AS, Extended Message: no GR, no
        // ADD-PATH, no Extended Next Hop without IPv4 unicast.
        assert_eq!(codes, [1, 2, 70, 65, 6]);
        let body = wire(&repr);
        let parsed = Open::new_checked(&body).unwrap();
        assert_eq!(parsed.my_as(), AS_TRANS);
        assert_eq!(parsed.peer_as(), 4_200_000_000);

        // Restart time is capped to 12 bits; no family means no MP
        // capability (IPv4 unicast implied) but Extended Next Hop for it.
        let local = LocalSettings {
            families: Vec::new(),
            restart_time: 9999,
            hold_time: 0,
            ..settings()
        };
        let repr = local_open(&local);
        assert_eq!(repr.hold_time, 0);
        assert!(!repr
            .capabilities
            .iter()
            .any(|c| matches!(c, CapabilityRepr::Multiprotocol(_))));
        assert!(repr.capabilities.contains(&CapabilityRepr::GracefulRestart(
            GracefulRestartRepr {
                restart_state: false,
                notification: false,
                restart_time: MAX_RESTART_TIME,
                families: Vec::new(),
            }
        )));
        assert!(repr
            .capabilities
            .contains(&CapabilityRepr::AddPath(vec![AddPathFamily {
                family: Family::IPV4_UNICAST,
                mode: AddPathMode::RECEIVE,
            }])));
        wire(&repr);
    }

    #[test]
    fn gobgp_peer() {
        let n = run(&settings(), 64512, &gobgp()).unwrap();
        assert_eq!(n.peer_asn, 64512);
        assert_eq!(n.peer_router_id, Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(
            (n.peer_hold_time, n.hold_time, n.keepalive_time),
            (90, 90, 30)
        );
        assert_eq!(n.hold_duration(), Some(Duration::from_secs(90)));
        assert_eq!(n.keepalive_duration(), Some(Duration::from_secs(30)));
        assert_eq!(n.families, [Family::IPV4_UNICAST, Family::IPV6_UNICAST]);
        assert!(n.four_octet_as);
        assert!(n.add_path_receive.is_empty());
        assert!(n.route_refresh);
        assert!(!n.enhanced_route_refresh);
        assert!(!n.extended_message);
        assert!(n.extended_next_hop.is_empty());
        let gr = n.peer_graceful_restart.as_ref().unwrap();
        assert_eq!(gr.restart_time, 120);
        assert!(!gr.restart_state);
        assert!(gr.notification);
        assert_eq!(
            gr.families,
            [
                PeerGracefulRestartFamily {
                    family: Family::IPV4_UNICAST,
                    forwarding_state: true,
                },
                PeerGracefulRestartFamily {
                    family: Family::IPV6_UNICAST,
                    forwarding_state: true,
                },
            ]
        );
        assert!(n.graceful_restart_helper);
        assert_eq!(n.peer_llgr, None);
        assert_eq!(n.peer_role, None);
        assert_eq!(n.peer_hostname.as_deref(), Some("node1"));
        assert_eq!(n.peer_domain, None);
        assert_eq!(n.peer_software_version, None);
        assert_eq!(n.peer_capabilities.len(), 6);
        assert_eq!(n.receive_context(), SessionContext::modern());

        // Helper mode off: the peer's capability is still reported.
        let local = LocalSettings {
            graceful_restart_helper: false,
            ..settings()
        };
        let n = run(&local, 64512, &gobgp()).unwrap();
        assert!(n.peer_graceful_restart.is_some());
        assert!(!n.graceful_restart_helper);
    }

    #[test]
    fn frr_peer_with_add_path() {
        let n = run(&settings(), 65001, &frr(AddPathMode::BOTH)).unwrap();
        assert_eq!((n.hold_time, n.keepalive_time), (90, 30));
        assert_eq!(n.families, [Family::IPV4_UNICAST]);
        assert_eq!(n.add_path_receive, [Family::IPV4_UNICAST]);
        assert!(n.receives_add_path(Family::IPV4_UNICAST));
        assert!(!n.receives_add_path(Family::IPV6_UNICAST));
        assert!(n.route_refresh && n.enhanced_route_refresh && n.extended_message);
        assert!(n.extended_next_hop.is_empty());
        let gr = n.peer_graceful_restart.as_ref().unwrap();
        assert!(gr.restart_state && gr.notification && gr.families.is_empty());
        assert_eq!(n.peer_llgr, Some(Vec::new()));
        assert_eq!(n.peer_hostname.as_deref(), Some("frr1"));
        assert_eq!(n.peer_domain.as_deref(), Some("lab"));
        assert_eq!(n.peer_software_version.as_deref(), Some("FRRouting/10.2"));
        let ctx = n.receive_context();
        assert!(ctx.four_octet_as && ctx.extended_message);
        assert!(ctx.add_path(Family::IPV4_UNICAST));
        assert!(!ctx.add_path(Family::IPV6_UNICAST));
        assert_eq!(ctx.max_message_len(), 65535);

        // Send alone counts as well.
        let n = run(&settings(), 65001, &frr(AddPathMode::SEND)).unwrap();
        assert_eq!(n.add_path_receive, [Family::IPV4_UNICAST]);
        // The peer only receiving paths sends us none.
        let n = run(&settings(), 65001, &frr(AddPathMode::RECEIVE)).unwrap();
        assert!(n.add_path_receive.is_empty());
        // Nor when we did not offer Receive.
        let local = LocalSettings {
            add_path_receive: false,
            ..settings()
        };
        let n = run(&local, 65001, &frr(AddPathMode::BOTH)).unwrap();
        assert!(n.add_path_receive.is_empty());
        assert!(!n.receive_context().add_path(Family::IPV4_UNICAST));
    }

    #[test]
    fn bird_peer() {
        let n = run(&settings(), 4_200_000_001, &bird()).unwrap();
        assert_eq!(n.peer_asn, 4_200_000_001);
        assert_eq!(
            (n.peer_hold_time, n.hold_time, n.keepalive_time),
            (240, 90, 30)
        );
        assert_eq!(n.families, [Family::IPV4_UNICAST, Family::IPV6_UNICAST]);
        assert!(n.four_octet_as && n.route_refresh && n.enhanced_route_refresh);
        assert!(!n.extended_message);
        assert_eq!(n.extended_next_hop, [Family::IPV4_UNICAST]);
        assert!(n.graceful_restart_helper);
        assert_eq!(
            n.peer_llgr,
            Some(vec![PeerLlgrFamily {
                family: Family::IPV6_UNICAST,
                forwarding_state: false,
                stale_time: 3600,
            }])
        );
        assert_eq!(n.peer_role, Some(Role::PROVIDER));
        assert_eq!(n.peer_hostname, None);
        assert!(n.receive_context().four_octet_as);
        // Extended next hop needs IPv4 unicast on our side.
        let local = LocalSettings {
            families: vec![Family::IPV6_UNICAST],
            ..settings()
        };
        let n = run(&local, 4_200_000_001, &bird()).unwrap();
        assert!(n.extended_next_hop.is_empty());
        assert_eq!(n.families, [Family::IPV6_UNICAST]);
    }

    #[test]
    fn no_multiprotocol_means_ipv4_unicast() {
        let repr = open(65010, 90, [10, 0, 0, 4], Vec::new());
        let n = run(&settings(), 65010, &repr).unwrap();
        assert_eq!(n.families, [Family::IPV4_UNICAST]);
        assert!(!n.four_octet_as && !n.route_refresh && !n.extended_message);
        assert_eq!(n.peer_graceful_restart, None);
        assert!(!n.graceful_restart_helper);
        assert_eq!(n.receive_context(), SessionContext::classic());
        // We only take IPv6: nothing in common.
        let local = LocalSettings {
            families: vec![Family::IPV6_UNICAST],
            ..settings()
        };
        assert!(run(&local, 65010, &repr).unwrap().families.is_empty());
        // Neither side sends MP: IPv4 unicast on both.
        let local = LocalSettings {
            families: Vec::new(),
            ..settings()
        };
        assert_eq!(
            run(&local, 65010, &repr).unwrap().families,
            [Family::IPV4_UNICAST]
        );
    }

    fn error(result: Result<Negotiated, Error>) -> (u8, u8, Vec<u8>) {
        let e = result.unwrap_err();
        (e.code.as_u8(), e.subcode, e.data)
    }

    #[test]
    fn wrong_peer_as() {
        // 2-octet field 64512, expected 64513.
        assert_eq!(
            error(run(&settings(), 64513, &gobgp())),
            (2, 2, vec![0xfc, 0x00])
        );
        // A 4-octet AS is compared whole; the data is AS_TRANS.
        assert_eq!(
            error(run(&settings(), 4_200_000_002, &bird())),
            (2, 2, vec![0x5b, 0xa0])
        );
        // Without the capability, My AS is the AS.
        let repr = open(65010, 90, [10, 0, 0, 4], Vec::new());
        assert_eq!(
            error(run(&settings(), 65011, &repr)),
            (2, 2, vec![0xfd, 0xf2])
        );
    }

    #[test]
    fn semantic_errors() {
        // Hold time 1 and 2 are refused by check_semantics.
        let repr = open(64512, 2, [10, 0, 0, 1], Vec::new());
        assert_eq!(error(run(&settings(), 64512, &repr)), (2, 6, vec![]));
        // Our identifier from an internal peer.
        let repr = open(65000, 90, ROUTER_ID.octets(), Vec::new());
        assert_eq!(error(run(&settings(), 65000, &repr)), (2, 3, vec![]));
        // From an external peer it is allowed (RFC 6286).
        let repr = open(65001, 90, ROUTER_ID.octets(), Vec::new());
        assert!(run(&settings(), 65001, &repr).is_ok());
        // Identifier 0.
        let repr = open(65001, 90, [0, 0, 0, 0], Vec::new());
        assert_eq!(error(run(&settings(), 65001, &repr)), (2, 3, vec![]));
    }

    #[test]
    fn hold_time_zero() {
        let mut repr = gobgp();
        repr.hold_time = 0;
        let n = run(&settings(), 64512, &repr).unwrap();
        assert_eq!((n.peer_hold_time, n.hold_time, n.keepalive_time), (0, 0, 0));
        assert_eq!(n.hold_duration(), None);
        assert_eq!(n.keepalive_duration(), None);
        // Ours 0, theirs 90.
        let local = LocalSettings {
            hold_time: 0,
            ..settings()
        };
        let n = run(&local, 64512, &gobgp()).unwrap();
        assert_eq!((n.hold_time, n.keepalive_time), (0, 0));
    }

    #[test]
    fn hold_time_three() {
        let mut repr = gobgp();
        repr.hold_time = 3;
        let n = run(&settings(), 64512, &repr).unwrap();
        assert_eq!((n.hold_time, n.keepalive_time), (3, 1));
        assert_eq!(n.hold_duration(), Some(Duration::from_secs(3)));
        assert_eq!(n.keepalive_duration(), Some(Duration::from_secs(1)));
        // Ours is the smaller one.
        let local = LocalSettings {
            hold_time: 9,
            ..settings()
        };
        let n = run(&local, 64512, &gobgp()).unwrap();
        assert_eq!((n.hold_time, n.keepalive_time), (9, 3));
    }

    #[test]
    fn serializes_for_the_api() {
        let n = run(&settings(), 4_200_000_001, &bird()).unwrap();
        let json = serde_json::to_value(&n).unwrap();
        assert_eq!(json["peer_asn"], 4_200_000_001u32);
        assert_eq!(json["peer_router_id"], "10.0.0.3");
        assert_eq!(
            json["families"],
            serde_json::json!(["ipv4-unicast", "ipv6-unicast"])
        );
        assert_eq!(
            json["extended_next_hop"],
            serde_json::json!(["ipv4-unicast"])
        );
        assert_eq!(json["peer_role"], "provider");
        assert_eq!(json["peer_llgr"][0]["family"], "ipv6-unicast");
        assert_eq!(json["peer_graceful_restart"]["restart_time"], 120);
        assert_eq!(json["peer_hostname"], serde_json::Value::Null);
    }
}
