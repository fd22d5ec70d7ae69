//! Reading MRT files into what will be sent: a list of UPDATEs to encode,
//! built completely before the session starts.
//!
//! Which peer: `--peer-index` (TABLE_DUMP_V2 only) or `--peer-ip` pick it;
//! otherwise a first pass over each file counts, per peer, the RIB entries
//! (TABLE_DUMP_V2 by peer index, TABLE_DUMP by peer address) and the
//! UPDATE messages (BGP4MP, the collector's own `_LOCAL` ones left out), and
//! the peer with the most is taken, the lowest index or address on a tie.
//! The count covers the whole file, so the choice is the fullest view, not
//! the one that happens to come first; the pass costs one more
//! decompression of the file, before connecting.
//!
//! RIB routes are grouped by (family, next hop, rewritten attributes), the
//! groups in the order of their first route, and each group becomes one
//! planned UPDATE that the encoder splits at the message size limit: that is
//! how a router sends its table, and few, full UPDATEs are what makes a
//! replay fast. A BGP4MP UPDATE stays one planned UPDATE (withdrawals,
//! treat-as-withdraw routes as withdrawals, announcements), in file order;
//! a group of RIB routes is closed when a BGP4MP message follows, so a file
//! holding both keeps its order.
//!
//! Only IPv4 and IPv6 unicast are planned (the families the session
//! offers); prefixes of other families, RIB entries whose attributes are
//! treat-as-withdraw, routes without a usable next hop and RIB routes with
//! AS 0 in their path (RFC 7607 s2 forbids propagating them) are left out,
//! counted and reported as warnings; a recorded announcement with AS 0 in
//! its path becomes a withdrawal, which is what its receiver did. Any record or message that does not parse is an
//! error naming the file and the record's offset in the decompressed
//! stream, and nothing is sent; a file that ends inside a record is replayed
//! up to its last whole record, with a warning.

use super::encode::AttrSet;
use super::rewrite::{NextHopPlan, Rewrite};
use super::ReplayError;
use bgp_proto::attr::{type_code, AttributeRepr, Attributes};
use bgp_proto::header::{MessageType, HEADER_LEN};
use bgp_proto::mrt::{MrtReader, Peer, RecordView};
use bgp_proto::{Afi, Family, Message, Nlri, SessionContext, Update};
use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `--peer-index` and `--peer-ip`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Selector {
    pub peer_index: Option<u16>,
    pub peer_ip: Option<IpAddr>,
}

/// One UPDATE to send (split by the encoder if it does not fit).
#[derive(Debug, Clone)]
pub(crate) struct UpdatePlan {
    /// Withdrawn prefixes per family, IPv4 unicast going in the Withdrawn
    /// Routes field and others in MP_UNREACH_NLRI.
    pub withdraw: Vec<(Family, Vec<Nlri>)>,
    /// Attributes of the announcements (`None` when there are none).
    pub attrs: Option<Arc<AttrSet>>,
    /// Announced prefixes per family and next hop.
    pub announce: Vec<Announce>,
}

/// Prefixes of one family sharing a next hop.
#[derive(Debug, Clone)]
pub(crate) struct Announce {
    pub family: Family,
    pub next_hop: NextHopPlan,
    pub nlri: Vec<Nlri>,
}

/// Everything to send, and what was learnt on the way.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub updates: Vec<UpdatePlan>,
    /// One line per file: its kind, the peer chosen and why, the counts.
    pub files: Vec<FileReport>,
    /// Routes left out, truncated files.
    pub warnings: Vec<String>,
    /// Prefixes the receiver holds once everything is applied in order:
    /// IPv4 unicast, IPv6 unicast.
    pub expected: [usize; 2],
    /// Whether some IPv4 / IPv6 route takes the session's next hop.
    pub needs_session_next_hop: [bool; 2],
}

/// What was taken from one file.
#[derive(Debug, Clone)]
pub(crate) struct FileReport {
    pub path: PathBuf,
    pub parts: Vec<String>,
}

impl fmt::Display for FileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.path.display())?;
        if self.parts.is_empty() {
            return f.write_str("nothing to send");
        }
        f.write_str(&self.parts.join("; "))
    }
}

/// Reads every file and builds the plan.
pub(crate) fn load(
    files: &[PathBuf],
    sel: &Selector,
    rewrite: &Rewrite,
) -> Result<Plan, ReplayError> {
    let mut b = Builder::new(rewrite);
    for path in files {
        let census = match (sel.peer_index, sel.peer_ip) {
            (None, None) => Some(census(path)?),
            _ => None,
        };
        b.file(path, sel, census.as_ref())?;
    }
    Ok(b.finish())
}

/// Why RIB routes with AS 0 in their path are left out.
const AS0: &str = "not sent: AS 0 in AS_PATH (RFC 7607 s2 forbids propagating it)";
/// Why announcements with AS 0 in their path become withdrawals.
const AS0_WITHDRAWN: &str = "announced with AS 0 in AS_PATH: sent as withdrawals (RFC 7607 s2: \
     receivers treat them so, and a speaker must not propagate them)";

/// The families planned: those the session offers.
fn planned(f: Family) -> bool {
    f == Family::IPV4_UNICAST || f == Family::IPV6_UNICAST
}

/// A route as sent and as counted: no path id, host bits cleared.
fn canonical(n: Nlri) -> Nlri {
    Nlri {
        path_id: None,
        prefix: n.prefix.trunc(),
    }
}

fn is_update(message: &[u8]) -> bool {
    message.get(HEADER_LEN - 1) == Some(&(MessageType::Update as u8))
}

/// Calls `f` with every record of `path` and its offset. A stream that
/// ends inside a record ends the walk, with a warning when `warnings` is
/// given; any other problem is an error naming the file and the offset.
fn each_record(
    path: &Path,
    mut warnings: Option<&mut Vec<String>>,
    mut f: impl FnMut(u64, RecordView<'_>) -> Result<(), ReplayError>,
) -> Result<(), ReplayError> {
    let file =
        File::open(path).map_err(|e| ReplayError::Input(format!("{}: {e}", path.display())))?;
    let mut reader = MrtReader::new(file);
    loop {
        let at = reader.offset();
        match reader.next_record() {
            None => return Ok(()),
            Some(Ok(record)) => f(at, record.view())?,
            Some(Err(e)) if e.is_truncated() => {
                if let Some(w) = warnings.as_mut() {
                    w.push(format!(
                        "{}: {e}; the whole records before it are replayed",
                        path.display()
                    ));
                }
                return Ok(());
            }
            Some(Err(e)) => return Err(ReplayError::Mrt(format!("{}: {e}", path.display()))),
        }
    }
}

/// Per-peer counts of one file (the first pass).
#[derive(Debug, Default)]
struct Census {
    /// TABLE_DUMP_V2 RIB entries per peer index.
    rib: HashMap<u16, u64>,
    /// TABLE_DUMP entries per peer address.
    table_dump: HashMap<IpAddr, u64>,
    /// BGP4MP UPDATE messages per peer address.
    bgp4mp: HashMap<IpAddr, u64>,
}

fn census(path: &Path) -> Result<Census, ReplayError> {
    let mut c = Census::default();
    each_record(path, None, |_, view| {
        match view {
            RecordView::Rib(r) => {
                for e in r.entries() {
                    *c.rib.entry(e.peer_index()).or_default() += 1;
                }
            }
            RecordView::TableDump(t) => *c.table_dump.entry(t.peer_ip()).or_default() += 1,
            RecordView::Bgp4mpMessage(m) if !m.is_local() && is_update(m.message()) => {
                *c.bgp4mp.entry(m.peer_ip()).or_default() += 1;
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(c)
}

/// The key with the highest count, the lowest key on a tie.
fn most<K: Ord + Copy>(counts: &HashMap<K, u64>) -> Option<(K, u64)> {
    counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(k, n)| (*k, *n))
}

/// An interned attribute set, looked up by its attributes.
#[derive(Debug)]
struct Interned(Arc<AttrSet>);

impl Borrow<[AttributeRepr]> for Interned {
    fn borrow(&self) -> &[AttributeRepr] {
        &self.0.reprs
    }
}

impl Hash for Interned {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.0.reprs.as_slice().hash(h);
    }
}

impl PartialEq for Interned {
    fn eq(&self, other: &Self) -> bool {
        self.0.reprs == other.0.reprs
    }
}

impl Eq for Interned {}

/// RIB routes sharing family, next hop and attributes.
#[derive(Debug)]
struct Group {
    family: Family,
    next_hop: NextHopPlan,
    attrs: Arc<AttrSet>,
    nlri: Vec<Nlri>,
}

/// Routes left out of one file, by reason: how many, and the first.
#[derive(Debug, Default)]
struct Skips(BTreeMap<&'static str, (u64, String)>);

impl Skips {
    fn add(&mut self, reason: &'static str, n: u64, first: impl FnOnce() -> String) {
        let e = self.0.entry(reason).or_insert_with(|| (0, first()));
        e.0 += n;
    }
}

/// What the RIB view of one file comes from.
#[derive(Debug)]
struct RibChoice {
    index: Option<u16>,
    why: &'static str,
    peers: Vec<Peer>,
}

/// Builds the plan file by file.
struct Builder<'r> {
    rewrite: &'r Rewrite,
    sets: HashSet<Interned>,
    groups: Vec<Group>,
    group_of: HashMap<(Family, NextHopPlan, usize), usize>,
    updates: Vec<UpdatePlan>,
    /// The receiver's table after everything so far.
    table: HashSet<(Family, Nlri)>,
    warnings: Vec<String>,
    files: Vec<FileReport>,
    needs_session_next_hop: [bool; 2],
}

/// Counts of one file.
#[derive(Debug, Default)]
struct FileCounts {
    rib_routes: u64,
    rib_sets: HashSet<usize>,
    table_dump_routes: u64,
    table_dump_sets: HashSet<usize>,
    updates: u64,
    announced: u64,
    withdrawn: u64,
    bgp4mp_peer_as: Option<u32>,
}

impl<'r> Builder<'r> {
    fn new(rewrite: &'r Rewrite) -> Self {
        Self {
            rewrite,
            sets: HashSet::new(),
            groups: Vec::new(),
            group_of: HashMap::new(),
            updates: Vec::new(),
            table: HashSet::new(),
            warnings: Vec::new(),
            files: Vec::new(),
            needs_session_next_hop: [false; 2],
        }
    }

    fn finish(mut self) -> Plan {
        self.flush_groups();
        let mut expected = [0; 2];
        for (f, _) in &self.table {
            expected[usize::from(f.afi == Afi::IPV6)] += 1;
        }
        Plan {
            updates: self.updates,
            files: self.files,
            warnings: self.warnings,
            expected,
            needs_session_next_hop: self.needs_session_next_hop,
        }
    }

    fn intern(&mut self, reprs: Vec<AttributeRepr>) -> Arc<AttrSet> {
        if let Some(i) = self.sets.get(reprs.as_slice()) {
            return i.0.clone();
        }
        let set = Arc::new(AttrSet::new(reprs));
        self.sets.insert(Interned(set.clone()));
        set
    }

    fn note_next_hop(&mut self, family: Family, nh: &NextHopPlan) {
        if *nh == NextHopPlan::Session {
            self.needs_session_next_hop[usize::from(family.afi == Afi::IPV6)] = true;
        }
    }

    /// Turns the open RIB groups into planned UPDATEs.
    fn flush_groups(&mut self) {
        self.group_of.clear();
        for g in self.groups.drain(..) {
            self.updates.push(UpdatePlan {
                withdraw: Vec::new(),
                attrs: Some(g.attrs),
                announce: vec![Announce {
                    family: g.family,
                    next_hop: g.next_hop,
                    nlri: g.nlri,
                }],
            });
        }
    }

    /// The second pass over one file.
    fn file(
        &mut self,
        path: &Path,
        sel: &Selector,
        census: Option<&Census>,
    ) -> Result<(), ReplayError> {
        let name = path.display().to_string();
        let mut rib = RibChoice {
            index: sel.peer_index,
            why: if sel.peer_index.is_some() {
                "--peer-index"
            } else {
                "--peer-ip"
            },
            peers: Vec::new(),
        };
        let mut table_dump_peer = sel.peer_ip.map(|ip| (ip, "--peer-ip"));
        let mut bgp4mp_peer = sel.peer_ip.map(|ip| (ip, "--peer-ip"));
        if let Some(c) = census {
            rib.index = most(&c.rib).map(|(i, _)| i);
            rib.why = "most RIB entries";
            table_dump_peer = most(&c.table_dump).map(|(ip, _)| (ip, "most RIB entries"));
            bgp4mp_peer = most(&c.bgp4mp).map(|(ip, _)| (ip, "most UPDATEs"));
        }
        let index_only = sel.peer_index.is_some();
        let mut counts = FileCounts::default();
        let mut skips = Skips::default();
        let mut warnings = Vec::new();
        each_record(path, Some(&mut warnings), |at, view| {
            match view {
                RecordView::PeerIndexTable(t) => {
                    rib.peers = t.peers().collect();
                    if let (Some(ip), None) = (sel.peer_ip, census) {
                        rib.index = rib
                            .peers
                            .iter()
                            .position(|p| p.ip == ip)
                            .and_then(|i| u16::try_from(i).ok());
                        if rib.index.is_none() {
                            return Err(ReplayError::Input(format!(
                                "{name}: no peer {ip} in the PEER_INDEX_TABLE (offset {at})"
                            )));
                        }
                    }
                    if let Some(i) = sel.peer_index {
                        if usize::from(i) >= rib.peers.len() {
                            return Err(ReplayError::Input(format!(
                                "{name}: --peer-index {i}: the PEER_INDEX_TABLE (offset {at}) has {} peers",
                                rib.peers.len()
                            )));
                        }
                    }
                }
                RecordView::Rib(r) => {
                    let Some(index) = rib.index else {
                        return Ok(());
                    };
                    let Some(e) = r.entries().find(|e| e.peer_index() == index) else {
                        return Ok(());
                    };
                    let route = canonical(Nlri {
                        path_id: None,
                        prefix: r.prefix(),
                    });
                    let set = self.rib_route(
                        r.family(),
                        route,
                        e.attributes(),
                        &e.attribute_context(),
                        &mut skips,
                        || {
                            format!(
                                "{name}: RIB record at offset {at} (prefix {}, peer index {index})",
                                route.prefix
                            )
                        },
                    )?;
                    if let Some(set) = set {
                        counts.rib_routes += 1;
                        counts.rib_sets.insert(set);
                    }
                }
                RecordView::TableDump(t) => {
                    if index_only {
                        return Err(peer_index_only(&name, "TABLE_DUMP"));
                    }
                    if Some(t.peer_ip()) != table_dump_peer.map(|p| p.0) {
                        return Ok(());
                    }
                    let route = canonical(Nlri {
                        path_id: None,
                        prefix: t.prefix(),
                    });
                    let family = match route.prefix.addr() {
                        IpAddr::V4(_) => Family::IPV4_UNICAST,
                        IpAddr::V6(_) => Family::IPV6_UNICAST,
                    };
                    let set = self.rib_route(
                        family,
                        route,
                        t.attributes(),
                        &t.attribute_context(),
                        &mut skips,
                        || {
                            format!(
                                "{name}: TABLE_DUMP record at offset {at} (prefix {})",
                                route.prefix
                            )
                        },
                    )?;
                    if let Some(set) = set {
                        counts.table_dump_routes += 1;
                        counts.table_dump_sets.insert(set);
                    }
                }
                RecordView::Bgp4mpMessage(m) => {
                    if m.is_local() || !is_update(m.message()) {
                        return Ok(());
                    }
                    if index_only {
                        return Err(peer_index_only(&name, "BGP4MP"));
                    }
                    if Some(m.peer_ip()) != bgp4mp_peer.map(|p| p.0) {
                        return Ok(());
                    }
                    let ctx = m.context();
                    let where_ = || {
                        format!(
                            "{name}: BGP4MP record at offset {at} (peer {})",
                            m.peer_ip()
                        )
                    };
                    let update = match Message::new_checked(m.message(), &ctx) {
                        Ok(Message::Update(u)) => u,
                        Ok(_) => return Ok(()),
                        Err(e) => {
                            return Err(ReplayError::Mrt(format!(
                                "{}: UPDATE malformed: {e}",
                                where_()
                            )))
                        }
                    };
                    counts.bgp4mp_peer_as.get_or_insert(m.peer_as());
                    self.flush_groups();
                    let (a, w) = self.update(&update, &ctx, &mut skips, where_);
                    if a + w > 0 {
                        counts.updates += 1;
                        counts.announced += a;
                        counts.withdrawn += w;
                    }
                }
                _ => {}
            }
            Ok(())
        })?;
        self.flush_groups();

        let mut parts = Vec::new();
        if counts.rib_routes > 0 || rib.index.is_some() && !rib.peers.is_empty() {
            let peer = match rib
                .index
                .and_then(|i| rib.peers.get(usize::from(i)).map(|p| (i, p)))
            {
                Some((i, p)) => format!(
                    "peer {i} of {} ({}, AS {}, {})",
                    rib.peers.len(),
                    p.ip,
                    p.asn,
                    rib.why
                ),
                None => "no peer".to_string(),
            };
            parts.push(format!(
                "TABLE_DUMP_V2, {peer}: {} prefixes in {} attribute sets",
                counts.rib_routes,
                counts.rib_sets.len()
            ));
        }
        if counts.table_dump_routes > 0 {
            let (ip, why) = table_dump_peer.unwrap_or((IpAddr::from([0, 0, 0, 0]), ""));
            parts.push(format!(
                "TABLE_DUMP, peer {ip} ({why}): {} prefixes in {} attribute sets",
                counts.table_dump_routes,
                counts.table_dump_sets.len()
            ));
        }
        if counts.updates > 0 {
            let (ip, why) = bgp4mp_peer.unwrap_or((IpAddr::from([0, 0, 0, 0]), ""));
            let asn = counts.bgp4mp_peer_as.unwrap_or(0);
            parts.push(format!(
                "BGP4MP, peer {ip} (AS {asn}, {why}): {} UPDATEs, {} prefixes announced, {} withdrawn",
                counts.updates, counts.announced, counts.withdrawn
            ));
        }
        if parts.is_empty() {
            if let Some(ip) = sel.peer_ip {
                return Err(ReplayError::Input(format!(
                    "{name}: no route of peer {ip} in this file"
                )));
            }
        }
        for (reason, (n, first)) in skips.0 {
            warnings.push(format!("{n} prefixes {reason} (first: {first})"));
        }
        self.warnings.extend(warnings);
        self.files.push(FileReport {
            path: path.to_path_buf(),
            parts,
        });
        Ok(())
    }

    /// One RIB entry: its group's identity, or `None` if left out.
    fn rib_route(
        &mut self,
        family: Family,
        route: Nlri,
        attributes: &[u8],
        ctx: &SessionContext,
        skips: &mut Skips,
        where_: impl Fn() -> String,
    ) -> Result<Option<usize>, ReplayError> {
        if !planned(family) {
            skips.add(
                "not sent: family other than IPv4 or IPv6 unicast",
                1,
                &where_,
            );
            return Ok(None);
        }
        let attrs = Attributes::new_checked(attributes, ctx).map_err(|e| {
            ReplayError::Mrt(format!("{}: path attributes malformed: {e}", where_()))
        })?;
        let rw = self.rewrite.attributes(attrs.iter(), ctx.four_octet_as);
        if rw.as0 {
            skips.add(AS0, 1, &where_);
            return Ok(None);
        }
        // A recorded AS 0 that the origin rewrite replaced is no longer a
        // reason to withdraw; any other treat-as-withdraw cause is.
        if (attrs.is_treat_as_withdraw() && !rw.recorded_as0)
            || !attrs.contains(type_code::ORIGIN)
            || !(attrs.contains(type_code::AS_PATH) || rw.recorded_as0)
        {
            skips.add(
                "not sent: attributes treat-as-withdraw (RFC 7606) or ORIGIN/AS_PATH missing",
                1,
                &where_,
            );
            return Ok(None);
        }
        let mp_next_hop = attrs.mp_reach().map(|m| m.next_hop_bytes());
        let v4 = rw.next_hop.map(|a| a.octets());
        let recorded = match family.afi {
            Afi::IPV4 => v4.as_ref().map(|a| &a[..]).or(mp_next_hop),
            _ => mp_next_hop,
        };
        let Some(next_hop) = self.rewrite.next_hop(family, recorded) else {
            skips.add(
                "not sent: no usable recorded next hop (give --next-hop/--next-hop6)",
                1,
                &where_,
            );
            return Ok(None);
        };
        self.note_next_hop(family, &next_hop);
        let set = self.intern(rw.attrs);
        let id = Arc::as_ptr(&set) as usize;
        let key = (family, next_hop, id);
        let gi = match self.group_of.get(&key) {
            Some(&gi) => gi,
            None => {
                self.groups.push(Group {
                    family,
                    next_hop: key.1.clone(),
                    attrs: set,
                    nlri: Vec::new(),
                });
                self.group_of.insert(key, self.groups.len() - 1);
                self.groups.len() - 1
            }
        };
        self.groups[gi].nlri.push(route);
        self.table.insert((family, route));
        Ok(Some(id))
    }

    /// One recorded UPDATE; returns the prefixes (announced, withdrawn)
    /// planned.
    fn update(
        &mut self,
        u: &Update<'_>,
        ctx: &SessionContext,
        skips: &mut Skips,
        where_: impl Fn() -> String,
    ) -> (u64, u64) {
        let has_reach = u.mp_reach().is_some_and(|m| m.nlri().next().is_some());
        let rewritten = (u.nlri().next().is_some() || has_reach).then(|| {
            self.rewrite
                .attributes(u.attribute_iter(), ctx.four_octet_as)
        });
        // Treat-as-withdraw only for the AS 0 that the origin rewrite
        // replaced: the routes are re-announced, not withdrawn.
        let resend = u.is_treat_as_withdraw()
            && rewritten.as_ref().is_some_and(|r| r.recorded_as0 && !r.as0);
        let withdrawals: Box<dyn Iterator<Item = (Family, Nlri)>> = if resend {
            Box::new(
                u.withdrawn().map(|n| (Family::IPV4_UNICAST, n)).chain(
                    u.mp_unreach()
                        .into_iter()
                        .flat_map(|m| m.withdrawn().map(move |n| (m.family(), n))),
                ),
            )
        } else {
            Box::new(u.withdrawals())
        };
        let mut withdraw: Vec<(Family, Vec<Nlri>)> = Vec::new();
        for (f, n) in withdrawals {
            if !planned(f) {
                skips.add(
                    "not sent: family other than IPv4 or IPv6 unicast",
                    1,
                    &where_,
                );
                continue;
            }
            let n = canonical(n);
            match withdraw.iter_mut().find(|w| w.0 == f) {
                Some(w) => w.1.push(n),
                None => withdraw.push((f, vec![n])),
            }
        }
        let mut announce: Vec<Announce> = Vec::new();
        let mut attrs = None;
        let mut rw = None;
        if let Some(r) = rewritten {
            if u.is_treat_as_withdraw() && !r.recorded_as0 {
                // Another RFC 7606 treat-as-withdraw cause: nothing to send.
            } else if r.as0 {
                // What a receiver of the recorded UPDATE did (RFC 7607 s2:
                // bgp-proto calls it treat-as-withdraw, so its routes are
                // among `withdrawals()` above), and all a speaker may send.
                let reach = u
                    .mp_reach()
                    .filter(|m| planned(m.family()))
                    .map_or(0, |m| m.nlri().count());
                let n = u.nlri().count() + reach;
                if n > 0 {
                    skips.add(AS0_WITHDRAWN, n as u64, &where_);
                }
            } else {
                rw = Some(r);
            }
        }
        if let Some(rw) = rw {
            let field: Vec<Nlri> = u.nlri().map(canonical).collect();
            let v4 = rw.next_hop.map(|a| a.octets());
            let mut add =
                |b: &mut Self, family: Family, recorded: Option<&[u8]>, nlri: Vec<Nlri>| {
                    if nlri.is_empty() {
                        return;
                    }
                    if !planned(family) {
                        skips.add(
                            "not sent: family other than IPv4 or IPv6 unicast",
                            nlri.len() as u64,
                            &where_,
                        );
                        return;
                    }
                    let Some(next_hop) = b.rewrite.next_hop(family, recorded) else {
                        skips.add(
                            "not sent: no usable recorded next hop (give --next-hop/--next-hop6)",
                            nlri.len() as u64,
                            &where_,
                        );
                        return;
                    };
                    b.note_next_hop(family, &next_hop);
                    match announce
                        .iter_mut()
                        .find(|a| a.family == family && a.next_hop == next_hop)
                    {
                        Some(a) => a.nlri.extend(nlri),
                        None => announce.push(Announce {
                            family,
                            next_hop,
                            nlri,
                        }),
                    }
                };
            add(
                self,
                Family::IPV4_UNICAST,
                v4.as_ref().map(|a| &a[..]),
                field,
            );
            if let Some(m) = u.mp_reach() {
                add(
                    self,
                    m.family(),
                    Some(m.next_hop_bytes()),
                    m.nlri().map(canonical).collect(),
                );
            }
            if !announce.is_empty() {
                attrs = Some(self.intern(rw.attrs));
            }
        }
        for (f, list) in &withdraw {
            for n in list {
                self.table.remove(&(*f, *n));
            }
        }
        for a in &announce {
            for n in &a.nlri {
                self.table.insert((a.family, *n));
            }
        }
        let announced = announce.iter().map(|a| a.nlri.len() as u64).sum();
        let withdrawn = withdraw.iter().map(|w| w.1.len() as u64).sum();
        if announced + withdrawn > 0 {
            self.updates.push(UpdatePlan {
                withdraw,
                attrs,
                announce,
            });
        }
        (announced, withdrawn)
    }
}

fn peer_index_only(name: &str, kind: &str) -> ReplayError {
    ReplayError::Usage(format!(
        "{name} holds {kind} records, to which --peer-index does not apply: use --peer-ip"
    ))
}
