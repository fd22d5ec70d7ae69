//! `--hex`: one BGP message, given in hex, decoded and explained.
//!
//! The message (marker and header included) is validated with
//! `bgp_proto::Message::new_checked` under a session context of 4-octet AS
//! numbers (`--as2`: 2-octet) and, with `--add-path`, path identifiers in
//! the NLRI of every family; messages up to 65535 octets are accepted
//! (RFC 8654). The report names the type and length, then: for an OPEN its
//! parameters and capabilities, for a NOTIFICATION its code, subcode and
//! data, for a ROUTE-REFRESH its family and subtype, and for an UPDATE every
//! path attribute with its flags, value and own verdict, every route, and
//! the UPDATE's RFC 7606 verdict with the NOTIFICATION code and subcode
//! names of RFC 4271. A message that resets the session is explained as far
//! as it can be read.
//!
//! Exit status: 0 when the message is accepted (possibly with a
//! treat-as-withdraw or attribute-discard verdict), 1 when it would reset
//! the session or the hex does not parse.

use super::fmt::push_hex;
use bgp_proto::attr::{type_name, Attribute, RawAttribute, RawAttributes};
use bgp_proto::codes::subcode_name;
use bgp_proto::{Action, Family, Message, MessageType, NlriIter, SessionContext, Update};
use std::fmt::Write as _;
use std::process::ExitCode;

/// Runs `decode --hex`.
pub fn run(text: &str, as2: bool, add_path: bool) -> ExitCode {
    let msg = match parse_hex(text) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("bgp-probe: --hex: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (report, accepted) = describe(&msg, &context(as2, add_path));
    print!("{report}");
    if accepted {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The session context `--as2` and `--add-path` describe.
pub fn context(as2: bool, add_path: bool) -> SessionContext {
    let mut ctx = if as2 {
        SessionContext::classic()
    } else {
        SessionContext::modern()
    }
    .with_extended_message();
    if add_path {
        for f in Family::DECODED {
            ctx.set_add_path(f, true);
        }
    }
    ctx
}

/// Octets from hex text; whitespace, `:` and `-` between digits and a
/// leading `0x` are ignored.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let trimmed = text.trim();
    let body = trimmed
        .strip_prefix("0x")
        .or_else(|| trimmed.strip_prefix("0X"))
        .unwrap_or(trimmed);
    let digits: String = body
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, ':' | '-'))
        .collect();
    if digits.is_empty() {
        return Err("no hex digits".into());
    }
    hex::decode(&digits).map_err(|e| format!("not hex: {e}"))
}

/// The text of an error as a NOTIFICATION would carry it.
pub fn error_text(e: &bgp_proto::Error) -> String {
    let code = e.code.as_u8();
    let mut s = format!("{} ({code})", e.code.name());
    match subcode_name(code, e.subcode) {
        Some(name) => {
            let _ = write!(s, " / {name} ({})", e.subcode);
        }
        None if e.subcode != 0 => {
            let _ = write!(s, " / subcode {}", e.subcode);
        }
        None => {}
    }
    let _ = write!(s, ": {}", e.reason);
    s
}

fn action_text(a: Action) -> &'static str {
    match a {
        Action::AttributeDiscard => "attribute discard",
        Action::TreatAsWithdraw => "treat-as-withdraw",
        Action::SessionReset => "session reset",
    }
}

/// The report on `msg`, and whether the message is accepted.
pub fn describe(msg: &[u8], ctx: &SessionContext) -> (String, bool) {
    let mut r = String::new();
    let Some(head) = msg.get(..19) else {
        let _ = writeln!(
            r,
            "{} octets: too short for a BGP header (19 octets)",
            msg.len()
        );
        return (r, false);
    };
    let length = u16::from_be_bytes([head[16], head[17]]);
    let type_label = MessageType::from_u8(head[18])
        .map_or_else(|| format!("type {}", head[18]), |t| t.name().to_string());
    let _ = writeln!(
        r,
        "{type_label}, length {length} ({} octets given), marker {}",
        msg.len(),
        if head[..16] == [0xff; 16] {
            "ok"
        } else {
            "NOT all ones"
        }
    );
    let _ = writeln!(
        r,
        "session: {}-octet AS numbers{}",
        ctx.asn_len(),
        if Family::DECODED.iter().any(|&f| ctx.add_path(f)) {
            ", ADD-PATH"
        } else {
            ""
        }
    );
    match Message::new_checked(msg, ctx) {
        Ok(Message::Open(o)) => {
            let _ = writeln!(r, "OPEN: {o}");
        }
        Ok(Message::Keepalive) => {
            let _ = writeln!(r, "KEEPALIVE");
        }
        Ok(Message::Notification(n)) => {
            let _ = writeln!(r, "NOTIFICATION: {n}");
        }
        Ok(Message::RouteRefresh(rr)) => {
            let _ = writeln!(r, "ROUTE-REFRESH: {} {}", rr.family(), rr.subtype());
        }
        Ok(Message::Update(u)) => {
            update(&mut r, &u, ctx);
            match u.error() {
                None => {
                    let _ = writeln!(r, "verdict: accepted");
                }
                Some(e) => {
                    let _ = writeln!(r, "verdict: {} ({})", action_text(e.action), error_text(e));
                }
            }
        }
        Err(e) => {
            if head[18] == MessageType::Update as u8 {
                let body = msg
                    .get(19..usize::from(length).min(msg.len()))
                    .unwrap_or(&[]);
                salvage_update(&mut r, body, ctx);
            }
            let mut data = Vec::new();
            push_hex(&mut data, &e.data);
            let _ = writeln!(
                r,
                "verdict: session reset, NOTIFICATION {} data [{}]",
                error_text(&e),
                String::from_utf8_lossy(&data)
            );
            return (r, false);
        }
    }
    (r, true)
}

fn routes(r: &mut String, label: &str, family: Family, it: NlriIter<'_>) {
    let list: Vec<_> = it.collect();
    if list.is_empty() {
        return;
    }
    let _ = writeln!(r, "  {label} ({family}): {}", list.len());
    for n in list {
        match n.path_id {
            Some(id) => {
                let _ = writeln!(r, "    {} path-id {id}", n.prefix);
            }
            None => {
                let _ = writeln!(r, "    {}", n.prefix);
            }
        }
    }
}

fn update(r: &mut String, u: &Update<'_>, ctx: &SessionContext) {
    let _ = writeln!(r, "UPDATE");
    attributes(r, u.attributes().raw(), ctx);
    let taw = u.is_treat_as_withdraw();
    routes(r, "withdrawn", Family::IPV4_UNICAST, u.withdrawn());
    let label = if taw {
        "announced, treated as withdrawn"
    } else {
        "announced"
    };
    routes(r, label, Family::IPV4_UNICAST, u.nlri());
    if let Some(m) = u.mp_reach() {
        routes(r, label, m.family(), m.nlri());
    }
    if let Some(m) = u.mp_unreach() {
        routes(r, "withdrawn", m.family(), m.withdrawn());
    }
    if let Some(f) = u.end_of_rib() {
        let _ = writeln!(r, "  End-of-RIB marker for {f}");
    }
}

/// What can be read of an UPDATE that resets the session.
fn salvage_update(r: &mut String, body: &[u8], ctx: &SessionContext) {
    let field = |at: usize| {
        body.get(at..at + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    };
    let Some(wlen) = field(0) else {
        let _ = writeln!(
            r,
            "UPDATE body of {} octets: no Withdrawn Routes Length",
            body.len()
        );
        return;
    };
    let _ = writeln!(r, "UPDATE: withdrawn routes {wlen} octets");
    let Some(alen) = field(2 + wlen) else {
        let _ = writeln!(r, "  the withdrawn routes overrun the message");
        return;
    };
    let start = 4 + wlen;
    let Some(attrs) = body.get(start..start + alen) else {
        let _ = writeln!(r, "  path attributes of {alen} octets overrun the message");
        return;
    };
    attributes(r, RawAttributes::new(attrs), ctx);
}

fn flags_text(raw: &RawAttribute<'_>) -> String {
    let mut parts = vec![
        if raw.is_optional() {
            "optional"
        } else {
            "well-known"
        },
        if raw.is_transitive() {
            "transitive"
        } else {
            "non-transitive"
        },
    ];
    if raw.is_partial() {
        parts.push("partial");
    }
    if raw.flags & bgp_proto::attr::flags::EXTENDED_LENGTH != 0 {
        parts.push("extended-length");
    }
    format!("0x{:02x} {}", raw.flags, parts.join(" "))
}

fn attributes(r: &mut String, raw: RawAttributes<'_>, ctx: &SessionContext) {
    let _ = writeln!(r, "  path attributes:");
    let mut seen = [false; 256];
    for a in raw {
        let name = type_name(a.type_code).map_or_else(|| "unknown".to_string(), str::to_string);
        let n = a.value.len();
        let _ = write!(
            r,
            "    {name} (type {}, flags {}, {n} octet{}): ",
            a.type_code,
            flags_text(&a),
            if n == 1 { "" } else { "s" }
        );
        let first = !std::mem::replace(&mut seen[usize::from(a.type_code)], true);
        match a.decode(ctx, true) {
            Ok(v) => {
                let _ = writeln!(r, "{}", value_text(&v));
            }
            Err(m) => {
                let e = m.to_error(&a);
                let _ = writeln!(
                    r,
                    "MALFORMED, {}: {}",
                    action_text(m.action),
                    error_text(&e)
                );
            }
        }
        if !first {
            let _ = writeln!(r, "      repeated: ignored after the first (RFC 7606 s3 g)");
        }
    }
}

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>, sep: &str) -> String {
    items.map(|i| i.to_string()).collect::<Vec<_>>().join(sep)
}

fn value_text(a: &Attribute<'_>) -> String {
    match a {
        Attribute::Origin(o) => o.to_string(),
        Attribute::AsPath(p) | Attribute::As4Path(p) => {
            format!("{p} (route length {})", p.route_len())
        }
        Attribute::NextHop(a) | Attribute::OriginatorId(a) => a.to_string(),
        Attribute::MultiExitDisc(v) | Attribute::LocalPref(v) | Attribute::Otc(v) => v.to_string(),
        Attribute::AtomicAggregate => "present".into(),
        Attribute::Aggregator(g) | Attribute::As4Aggregator(g) => {
            format!("AS{} {}", g.asn, g.address)
        }
        Attribute::Communities(c) => join(c.iter(), " "),
        Attribute::ClusterList(c) => join(c.iter(), " "),
        Attribute::ExtendedCommunities(c) => join(c.iter(), ", "),
        Attribute::LargeCommunities(c) => join(c.iter(), " "),
        Attribute::MpReach(m) => {
            format!("{}, next hop {}", m.family(), m.next_hop())
        }
        Attribute::MpUnreach(m) => m.family().to_string(),
        Attribute::Unknown(raw) | Attribute::Invalid(raw) => {
            let mut h = Vec::new();
            push_hex(&mut h, raw.value);
            format!("[{}]", String::from_utf8_lossy(&h))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A whole message of `msg_type` around `body`, in hex.
    fn message(msg_type: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![0xff; 16];
        m.extend_from_slice(&((body.len() + 19) as u16).to_be_bytes());
        m.push(msg_type);
        m.extend_from_slice(body);
        m
    }

    fn update_body(withdrawn: &[u8], attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
        let mut b = (withdrawn.len() as u16).to_be_bytes().to_vec();
        b.extend_from_slice(withdrawn);
        b.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        b.extend_from_slice(attrs);
        b.extend_from_slice(nlri);
        b
    }

    const ORIGIN: [u8; 4] = [0x40, 1, 1, 0];
    const NEXT_HOP: [u8; 7] = [0x40, 3, 4, 10, 0, 0, 1];

    #[test]
    fn hex_parsing() {
        assert_eq!(parse_hex("ff:00 0a").unwrap(), vec![0xff, 0, 10]);
        assert_eq!(parse_hex(" 0xFF-01\n").unwrap(), vec![0xff, 1]);
        assert!(parse_hex("fg").is_err());
        assert!(parse_hex("abc").is_err());
        assert!(parse_hex("  ").is_err());
    }

    #[test]
    fn keepalive_and_short_input() {
        let (r, ok) = describe(&message(4, &[]), &context(false, false));
        assert!(ok);
        assert!(r.starts_with("KEEPALIVE, length 19 (19 octets given), marker ok\n"));
        assert!(r.contains("\nKEEPALIVE\n"));
        let (r, ok) = describe(&[0xff; 5], &context(false, false));
        assert!(!ok && r.contains("too short"));
    }

    #[test]
    fn update_with_routes_and_attributes() {
        let mut attrs = ORIGIN.to_vec();
        attrs.extend([0x40, 2, 6, 2, 1, 0, 0, 0x05, 0x13]);
        attrs.extend(NEXT_HOP);
        attrs.extend([0xc0, 8, 4, 0xff, 0xff, 0xff, 0x01]);
        attrs.extend([0xc0, 99, 2, 0xab, 0xcd]);
        let body = update_body(&[8, 10], &attrs, &[24, 192, 0, 2]);
        let (r, ok) = describe(&message(2, &body), &context(false, false));
        assert!(ok, "{r}");
        for want in [
            "ORIGIN (type 1, flags 0x40 well-known transitive, 1 octet): IGP",
            "AS_PATH (type 2, flags 0x40 well-known transitive, 6 octets): 1299 (route length 1)",
            "NEXT_HOP (type 3, flags 0x40 well-known transitive, 4 octets): 10.0.0.1",
            "COMMUNITIES (type 8, flags 0xc0 optional transitive, 4 octets): no-export",
            "unknown (type 99, flags 0xc0 optional transitive, 2 octets): [abcd]",
            "withdrawn (ipv4-unicast): 1\n    10.0.0.0/8\n",
            "announced (ipv4-unicast): 1\n    192.0.2.0/24\n",
            "verdict: accepted",
        ] {
            assert!(r.contains(want), "missing {want:?} in\n{r}");
        }
    }

    #[test]
    fn two_octet_and_add_path_contexts() {
        let mut attrs = ORIGIN.to_vec();
        attrs.extend([0x40, 2, 4, 2, 1, 0xfd, 0xe8]);
        attrs.extend(NEXT_HOP);
        let body = update_body(&[], &attrs, &[0, 0, 0, 9, 8, 10]);
        let (r, ok) = describe(&message(2, &body), &context(true, true));
        assert!(ok, "{r}");
        assert!(r.contains("session: 2-octet AS numbers, ADD-PATH"));
        assert!(r.contains(": 65000 (route length 1)"), "{r}");
        assert!(r.contains("10.0.0.0/8 path-id 9"), "{r}");
    }

    #[test]
    fn treat_as_withdraw_names_the_notification() {
        // ORIGIN with value 7: Invalid ORIGIN Attribute, treat-as-withdraw.
        let mut attrs = vec![0x40, 1, 1, 7];
        attrs.extend([0x40, 2, 0]);
        attrs.extend(NEXT_HOP);
        let body = update_body(&[], &attrs, &[8, 10]);
        let (r, ok) = describe(&message(2, &body), &context(false, false));
        assert!(ok);
        assert!(
            r.contains("MALFORMED, treat-as-withdraw: UPDATE Message Error (3) / Invalid ORIGIN Attribute (6)"),
            "{r}"
        );
        assert!(
            r.contains("announced, treated as withdrawn (ipv4-unicast): 1"),
            "{r}"
        );
        assert!(r.contains("verdict: treat-as-withdraw (UPDATE Message Error (3) / Invalid ORIGIN Attribute (6)"), "{r}");
    }

    #[test]
    fn session_reset_is_explained() {
        // MP_REACH_NLRI with the wrong flags resets the session.
        let mut attrs = ORIGIN.to_vec();
        attrs.extend([0x40, 14, 3, 0, 1, 1]);
        let body = update_body(&[], &attrs, &[]);
        let (r, ok) = describe(&message(2, &body), &context(false, false));
        assert!(!ok);
        assert!(r.contains("MP_REACH_NLRI (type 14"), "{r}");
        assert!(r.contains("verdict: session reset, NOTIFICATION UPDATE Message Error (3) / Attribute Flags Error (4)"), "{r}");
        let e = Message::new_checked(&message(2, &body), &context(false, false)).unwrap_err();
        assert_eq!(e.code, bgp_proto::codes::ErrorCode::UpdateMessage);
        // A bad marker.
        let mut m = message(4, &[]);
        m[0] = 0;
        let (r, ok) = describe(&m, &context(false, false));
        assert!(
            !ok && r.contains("marker NOT all ones") && r.contains("Connection Not Synchronized")
        );
    }

    #[test]
    fn other_message_types() {
        let (r, ok) = describe(&message(3, &[6, 2]), &context(false, false));
        assert!(ok && r.contains("NOTIFICATION: Cease"), "{r}");
        let (r, ok) = describe(&message(5, &[0, 1, 0, 1]), &context(false, false));
        assert!(ok && r.contains("ROUTE-REFRESH: ipv4-unicast"), "{r}");
        let open = [4, 0xfd, 0xe8, 0, 90, 10, 0, 0, 1, 0];
        let (r, ok) = describe(&message(1, &open), &context(false, false));
        assert!(
            ok && r.contains("OPEN: version 4, my-as 65000, hold-time 90"),
            "{r}"
        );
    }
}
