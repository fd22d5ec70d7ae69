//! The read-only HTTP API: health, peers, and routes as JSON.
//!
//! `GET /healthz` (the process is alive), `GET /readyz` (listeners bound),
//! `GET /api/v1/peers` (every peer with session state, negotiated
//! capabilities, counters and event log), `GET /api/v1/peers/{name}/routes`
//! (a peer's Adj-RIB-In, `?family=ipv6-unicast` to narrow it; a dynamic
//! neighbour's name, `nodes/172.29.51.11`, may be written with its `/` as
//! is or as `%2F`), and
//! `GET /api/v1/routes?prefix=172.29.52.200/32&peer=udm-pro` (who
//! advertised a prefix; either parameter narrows, both are optional),
//! `GET /api/v1/report` (the verifier's verdict with every peer, pool,
//! Service, node and finding), `GET /api/v1/findings` (`?severity=warning`
//! keeps that severity and worse) and `GET /metrics` (Prometheus).
//! docs/api.md describes each with examples.

use crate::daemon::Daemon;
use crate::peer::{now_secs, Peer, SessionInfo};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use axum::Router;
use bgp_proto::Family;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The API router.
pub fn router(daemon: Arc<Daemon>) -> Router {
    let registry = Arc::new(crate::metrics::registry(daemon.clone()));
    Router::new()
        .route(
            "/metrics",
            get(move || {
                let registry = registry.clone();
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8",
                        )],
                        crate::metrics::render(&registry),
                    )
                }
            }),
        )
        .route("/api/v1/report", get(report))
        .route("/api/v1/findings", get(findings))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/api/v1/peers", get(peers))
        // A catch-all, so that the `/` in a dynamic neighbour's name
        // (`nodes/172.29.51.11`) needs no escaping.
        .route("/api/v1/peers/{*rest}", get(peer_routes))
        .route("/api/v1/routes", get(routes))
        .with_state(daemon)
}

/// Serves the API until the daemon shuts down.
pub async fn serve(daemon: Arc<Daemon>, listener: tokio::net::TcpListener) {
    let mut shutdown = daemon.shutdown.subscribe();
    let app = router(daemon);
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = shutdown.changed().await;
        })
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "HTTP API stopped");
    }
}

async fn readyz(State(d): State<Arc<Daemon>>) -> Response {
    if d.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "starting\n").into_response()
    }
}

/// One peer as the API shows it.
#[derive(Serialize)]
struct PeerJson {
    name: String,
    address: String,
    remote_asn: u32,
    role: String,
    #[serde(flatten)]
    session: SessionInfo,
    uptime_seconds: Option<f64>,
    prefixes: BTreeMap<String, usize>,
    stale_prefixes: usize,
    attribute_sets: usize,
    updates_received: u64,
    messages_received: u64,
    treat_as_withdraw: u64,
    attribute_discard: u64,
    session_resets: u64,
}

fn peer_json(p: &Peer) -> Option<PeerJson> {
    let session = p.session.read().ok()?.clone();
    let rib = p.rib.read().ok()?;
    let c = &p.counters;
    Some(PeerJson {
        name: p.name.clone(),
        address: p.address.to_string(),
        remote_asn: p.remote_asn,
        role: p.role.to_string(),
        uptime_seconds: session.established_at.map(|t| now_secs() - t),
        session,
        prefixes: Family::DECODED
            .iter()
            .map(|f| (f.to_string(), rib.len_family(*f)))
            .filter(|(_, n)| *n > 0)
            .collect(),
        stale_prefixes: rib.stale_count(),
        attribute_sets: rib.attr_sets(),
        updates_received: c.updates.load(Ordering::Relaxed),
        messages_received: c.messages.load(Ordering::Relaxed),
        treat_as_withdraw: c.treat_as_withdraw.load(Ordering::Relaxed),
        attribute_discard: c.attribute_discard.load(Ordering::Relaxed),
        session_resets: c.session_resets.load(Ordering::Relaxed),
    })
}

async fn peers(State(d): State<Arc<Daemon>>) -> Json<Vec<PeerJson>> {
    Json(d.peer_list().iter().filter_map(|p| peer_json(p)).collect())
}

#[derive(Deserialize)]
struct FamilyQuery {
    family: Option<String>,
}

fn parse_family(s: &str) -> Option<Family> {
    Family::DECODED.into_iter().find(|f| f.to_string() == s)
}

fn bad_request(msg: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({ "error": msg })),
    )
        .into_response()
}

fn not_found(msg: String) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({ "error": msg })),
    )
        .into_response()
}

/// `GET /api/v1/peers/{name}/routes`, `rest` being `{name}/routes`.
async fn peer_routes(
    State(d): State<Arc<Daemon>>,
    Path(rest): Path<String>,
    Query(q): Query<FamilyQuery>,
) -> Response {
    let Some(name) = rest.trim_start_matches('/').strip_suffix("/routes") else {
        return not_found(format!(
            "/api/v1/peers/{rest}: no such endpoint; use /api/v1/peers/{{name}}/routes"
        ));
    };
    let family = match q.family.as_deref().map(|s| (s, parse_family(s))) {
        Some((s, None)) => {
            return bad_request(format!(
                "family={s}: expected one of ipv4-unicast, ipv4-multicast, ipv6-unicast, ipv6-multicast"
            ))
        }
        Some((_, f)) => f,
        None => None,
    };
    let Some(peer) = d.peer_list().into_iter().find(|p| p.name == name) else {
        return not_found(format!("no peer named {name}"));
    };
    let Ok(rib) = peer.rib.read() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let routes: Vec<_> = rib
        .iter()
        .filter(|r| family.is_none_or(|f| r.family == f))
        .collect();
    Json(serde_json::json!({ "peer": peer.name, "routes": routes })).into_response()
}

#[derive(Deserialize)]
struct RoutesQuery {
    prefix: Option<String>,
    peer: Option<String>,
    limit: Option<usize>,
}

/// Routes listed when neither `prefix` nor `limit` narrows the answer.
const DEFAULT_ROUTE_LIMIT: usize = 10_000;

async fn routes(State(d): State<Arc<Daemon>>, Query(q): Query<RoutesQuery>) -> Response {
    let prefix: Option<IpNet> = match q.prefix.as_deref() {
        None => None,
        Some(text) => match text.parse::<IpNet>() {
            Ok(p) => Some(p.trunc()),
            Err(_) => match text.parse::<std::net::IpAddr>() {
                Ok(ip) => Some(IpNet::from(ip)),
                Err(_) => return bad_request(format!("prefix={text}: not an IP prefix")),
            },
        },
    };
    let peers: Vec<Arc<Peer>> = d
        .peer_list()
        .into_iter()
        .filter(|p| q.peer.as_deref().is_none_or(|n| p.name == n))
        .collect();
    if peers.is_empty() {
        if let Some(n) = &q.peer {
            return not_found(format!("no peer named {n}"));
        }
    }
    let limit = q.limit.unwrap_or(DEFAULT_ROUTE_LIMIT);
    let mut found = Vec::new();
    let mut truncated = false;
    for peer in peers {
        let Ok(rib) = peer.rib.read() else { continue };
        let mut push = |prefix: IpNet, path_id: u32, attrs: &crate::rib::PathAttrs, stale: bool| {
            if found.len() == limit {
                truncated = true;
                return;
            }
            found.push(serde_json::json!({
                "peer": peer.name,
                "role": peer.role.to_string(),
                "prefix": prefix,
                "path_id": path_id,
                "stale": stale,
                "attrs": attrs,
            }));
        };
        match prefix {
            Some(p) => {
                for (path_id, attrs, stale) in rib.lookup(p) {
                    push(p, path_id, attrs, stale);
                }
            }
            None => {
                for r in rib.iter() {
                    push(r.prefix, r.path_id, r.attrs, r.stale);
                }
            }
        }
    }
    Json(serde_json::json!({ "prefix": prefix, "peer": q.peer, "paths": found, "truncated": truncated }))
        .into_response()
}

async fn report(State(d): State<Arc<Daemon>>) -> Response {
    let r = d.report.borrow().clone();
    Json(&*r).into_response()
}

#[derive(Deserialize)]
struct FindingsQuery {
    severity: Option<String>,
}

async fn findings(State(d): State<Arc<Daemon>>, Query(q): Query<FindingsQuery>) -> Response {
    use crate::verify::Severity;
    let min = match q.severity.as_deref() {
        None => Severity::Info,
        Some(s) => match Severity::ALL.into_iter().find(|v| v.name() == s) {
            Some(v) => v,
            None => {
                return bad_request(format!("severity={s}: expected info, warning or critical"))
            }
        },
    };
    let r = d.report.borrow().clone();
    let list: Vec<_> = r.findings.iter().filter(|f| f.severity >= min).collect();
    Json(serde_json::json!({
        "verdict": r.verdict,
        "generated_at": r.generated_at,
        "findings": list,
    }))
    .into_response()
}
