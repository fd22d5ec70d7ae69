//! Helpers for `bgp-probe`'s tests (`probe/tests/check.rs`, `lint.rs`):
//!
//! - [`FakeApi`]: a tiny HTTP/1.1 server on 127.0.0.1 answering canned
//!   bodies by request target (a bgpd API with a fixed report, or a
//!   Kubernetes API server listing pods), recording every request.
//! - [`HomeLab`]: the home network in namespaces, as `check` sees it from
//!   the UDM Pro: a LAN (172.29.51.0/24) with the router (FRR, .1, which
//!   dials the verifier on 1790 and installs the nodes' routes in its
//!   kernel), the verifier's namespace (.2; the caller runs bgpd there) and
//!   three nodes (.11-.13) running gobgpd as Cilium does, peering with both.
//!   Each node owns the LoadBalancer IPs it announces on its loopback with
//!   TCP listeners on their ports ([`HomeLab::serve`]), so a connect from
//!   the router's namespace follows the BGP routes into a node namespace.
//!   No namespace has a default route: nothing leaves the lab.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::frr::{Frr, FrrConfig, FrrNeighbor};
use crate::gobgp::{GoBgp, Neighbor, ROUTER_ASN};
use crate::{wait_for, Lan, Netns, TIMEOUT};

/// One canned answer: status and body.
#[derive(Clone, Debug)]
struct Canned {
    status: u16,
    body: String,
}

/// An HTTP server on loopback answering fixed bodies; stops on drop.
#[derive(Debug)]
pub struct FakeApi {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeApi {
    /// Serves `routes`: (target, status, body). A target with `?` must
    /// match the request target exactly; one without matches the path
    /// whatever the query. Anything else is 404 `{"error": ...}`.
    pub fn start(routes: &[(&str, u16, &str)]) -> FakeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let table: Arc<BTreeMap<String, Canned>> = Arc::new(
            routes
                .iter()
                .map(|(t, status, body)| {
                    (
                        t.to_string(),
                        Canned {
                            status: *status,
                            body: body.to_string(),
                        },
                    )
                })
                .collect(),
        );
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let stop = stop.clone();
            let requests = requests.clone();
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let table = table.clone();
                    let requests = requests.clone();
                    std::thread::spawn(move || serve_one(conn, &table, &requests));
                }
            })
        };
        FakeApi {
            addr,
            stop,
            requests,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request target received so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_one(mut conn: TcpStream, table: &BTreeMap<String, Canned>, log: &Mutex<Vec<String>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > 64 * 1024 {
            return;
        }
    }
    let text = String::from_utf8_lossy(&head);
    let target = text
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("")
        .to_string();
    log.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(target.clone());
    let path = target.split('?').next().unwrap_or("");
    let found = table.get(&target).or_else(|| {
        table
            .iter()
            .find(|(k, _)| !k.contains('?') && k.as_str() == path)
            .map(|(_, v)| v)
    });
    let (status, body) = match found {
        Some(c) => (c.status, c.body.clone()),
        None => (404, format!("{{\"error\":\"no such endpoint: {path}\"}}")),
    };
    let reply = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = conn.write_all(reply.as_bytes());
}

/// The router's address on the LAN.
pub const ROUTER: &str = "172.29.51.1";
/// The verifier's address on the LAN.
pub const VERIFIER: &str = "172.29.51.2";
/// gobgpd's gRPC port inside each node namespace.
const GOBGP_API_PORT: u16 = 50061;

/// One node of the lab.
#[derive(Debug)]
pub struct LabNode {
    // Field order = drop order: the daemon before its namespace.
    pub gobgp: GoBgp,
    pub ns: Netns,
    pub name: String,
    pub address: String,
}

/// The lab described in the module documentation.
#[derive(Debug)]
pub struct HomeLab {
    // Drop order: listeners, daemons, namespaces, LAN.
    listeners: Vec<Listener>,
    pub nodes: Vec<LabNode>,
    pub frr: Frr,
    pub router: Netns,
    pub verifier: Netns,
    pub lan: Lan,
}

/// A TCP listener in a namespace, answering every connection with a fixed
/// reply, until dropped.
#[derive(Debug)]
struct Listener {
    addr: SocketAddr,
    ns: String,
    stop: Arc<AtomicBool>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let addr = self.addr;
        let _ = crate::netns::run_in_ns(&self.ns, move || {
            TcpStream::connect_timeout(&addr, Duration::from_secs(1))
        });
    }
}

impl HomeLab {
    /// Builds the namespaces and starts FRR and the three gobgpd; each
    /// node announces `announced` from the start. bgpd is not started:
    /// the caller runs it in [`HomeLab::verifier`] listening on
    /// 172.29.51.2:1790 (BGP) and its API where the test wants.
    pub fn start(announced: &[&str]) -> HomeLab {
        let lan = Lan::new("plan");
        let router = Netns::new("prouter");
        lan.attach(&router, format!("{ROUTER}/24").as_str());
        let verifier = Netns::new("pverifier");
        lan.attach(&verifier, format!("{VERIFIER}/24").as_str());
        let mut frr_cfg = FrrConfig::udm_pro(ROUTER);
        let mut nodes = Vec::new();
        let names: Vec<(String, String)> = (1..=3)
            .map(|i| (format!("k8s-{i}"), format!("172.29.51.1{i}")))
            .collect();
        for (_, addr) in &names {
            frr_cfg = frr_cfg.neighbor(FrrNeighbor::node(addr).connect_retry(5));
        }
        frr_cfg = frr_cfg.neighbor(FrrNeighbor::verifier(VERIFIER).connect_retry(5));
        let frr = Frr::start(&router, &frr_cfg);
        let peers = [
            Neighbor::new(ROUTER, ROUTER_ASN).connect_retry(5),
            Neighbor::verifier(VERIFIER).connect_retry(5),
        ];
        for (name, addr) in names {
            let ns = Netns::new(&format!("p{name}"));
            lan.attach(&ns, format!("{addr}/24").as_str());
            ns.assert_no_default_route();
            for prefix in announced {
                ns.ip(&["addr", "add", prefix, "dev", "lo"]);
            }
            let gobgp =
                GoBgp::start_with_routes(&ns, &addr, None, &peers, GOBGP_API_PORT, announced);
            nodes.push(LabNode {
                gobgp,
                ns,
                name,
                address: addr,
            });
        }
        for ns in [&router, &verifier] {
            ns.assert_no_default_route();
        }
        HomeLab {
            listeners: Vec::new(),
            nodes,
            frr,
            router,
            verifier,
            lan,
        }
    }

    /// Listens on `ip:port` in every node namespace (the address must be
    /// one of the announced ones, on the nodes' loopback); a connection
    /// gets `reply` and is closed.
    pub fn serve(&mut self, ip: &str, port: u16, reply: &'static str) {
        let addr: SocketAddr = format!("{ip}:{port}").parse().expect("address");
        for n in &self.nodes {
            let listener =
                n.ns.run_in(move || TcpListener::bind(addr))
                    .and_then(|r| r)
                    .unwrap_or_else(|e| panic!("listen on {addr} in {}: {e}", n.ns.name()));
            let stop = Arc::new(AtomicBool::new(false));
            let stopped = stop.clone();
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stopped.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(mut c) = conn {
                        let _ = c.set_read_timeout(Some(Duration::from_millis(500)));
                        let mut buf = [0u8; 1024];
                        let _ = c.read(&mut buf);
                        let _ = c.write_all(reply.as_bytes());
                    }
                }
            });
            self.listeners.push(Listener {
                addr,
                ns: n.ns.name().to_string(),
                stop,
            });
        }
    }

    /// Waits until the router's kernel has (`present`) or lacks a route
    /// for `prefix`.
    pub fn wait_router_route(&self, prefix: &str, present: bool) {
        wait_for(
            &format!(
                "the router's kernel to {} a route to {prefix}",
                if present { "have" } else { "lose" }
            ),
            TIMEOUT,
            || {
                let out = self.router.ip(&["route", "show", prefix]);
                out.trim().is_empty() != present
            },
            || {
                format!(
                    "routes: {}\n{}",
                    self.router.ip(&["route"]),
                    self.frr.logs()
                )
            },
        );
    }

    /// Withdraws `prefix` on every node.
    pub fn withdraw_everywhere(&mut self, prefix: &str) {
        for n in &mut self.nodes {
            n.gobgp.withdraw(prefix);
        }
    }

    /// `GET path` on `addr` from inside the router's namespace: status and
    /// body.
    pub fn get_from_router(&self, addr: SocketAddr, path: &str) -> Result<(u16, String), String> {
        crate::verifier::http_get(self.router.name(), addr, path)
    }

    /// Everything the daemons logged, for assertion messages.
    pub fn logs(&self) -> String {
        let mut s = self.frr.logs();
        for n in &self.nodes {
            s.push_str(&n.gobgp.logs());
        }
        s
    }
}
