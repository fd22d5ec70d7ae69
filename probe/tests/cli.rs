//! `bgp-probe` as a user runs it: `--format json` parsed back with
//! serde_json, `--hex` on hand-built messages, compressed input, standard
//! input, errors and exit statuses, and the help text.

mod common;

use common::{
    as_path, attr, bgp, bgp4mp, data_dir, next_hop, origin, path, pfx, probe, record, run,
    synthetic_mrt, temp_path, update,
};
use serde_json::Value;
use std::io::Write;
use std::process::Stdio;

fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8(stdout.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON {l}: {e}")))
        .collect()
}

/// The objects `--format json` prints for `data`, and its standard error.
fn decode_json(name: &str, data: &[u8]) -> (Vec<Value>, String) {
    let path = temp_path(name);
    std::fs::write(&path, data).unwrap();
    let out = run(probe().args(["decode", "--format", "json"]).arg(&path));
    let _ = std::fs::remove_file(&path);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.success(), err.is_empty(), "{err}");
    (json_lines(&out.stdout), err)
}

#[test]
fn json_has_every_field() {
    let (objs, err) = decode_json("json.mrt", &synthetic_mrt());
    // Two records of the file reset the session, errors of their records:
    // a RIB entry whose MP_REACH_NLRI next hop has 24 octets, and an
    // UPDATE whose NLRI field ends inside a prefix.
    let rejected: Vec<&str> = err.lines().collect();
    assert_eq!(rejected.len(), 2, "{err}");
    assert!(rejected[0].ends_with(
        "RIB entry attributes: UPDATE Message Error / Optional Attribute Error: \
         MP_REACH_NLRI next hop length wrong for the family (SessionReset)"
    ));
    assert!(rejected[1].ends_with(
        "BGP message rejected: UPDATE Message Error / Invalid Network Field: \
         NLRI field malformed (SessionReset)"
    ));
    // Otherwise the routes of the line format, all of them: bgpdump keeps
    // only 8192 prefixes of a list, and the file has a withdrawn routes
    // field and an NLRI field of 8200; it skips multicast RIB records, and
    // the file has one with one entry.
    let path = temp_path("json-lines.mrt");
    std::fs::write(&path, synthetic_mrt()).unwrap();
    let lines = run(probe().arg("decode").arg(&path));
    let _ = std::fs::remove_file(&path);
    let line_count = lines.stdout.iter().filter(|&&b| b == b'\n').count();
    assert_eq!(objs.len(), line_count - 2 + 2 * 8 + 1);
    assert!(objs
        .iter()
        .any(|o| o["family"] == "ipv4-multicast" && o["prefix"] == "224.0.0.0/8"));

    let find = |f: &dyn Fn(&Value) -> bool| objs.iter().find(|o| f(o)).cloned().unwrap();
    // Legacy TABLE_DUMP with a 2-octet path merged with AS4_PATH.
    let td = find(&|o| o["mrt_type"] == "TABLE_DUMP" && o["family"] == "ipv4-unicast");
    assert_eq!(td["type"], "B");
    assert_eq!(td["prefix"], "10.1.0.0/16");
    assert_eq!(
        (td["peer_ip"].as_str(), td["peer_as"].as_u64()),
        (Some("192.0.2.9"), Some(64_512))
    );
    let a = &td["attributes"];
    assert_eq!(a["origin"], "EGP");
    assert_eq!(a["as_path"][0]["type"], "AS_SEQUENCE");
    assert_eq!(
        a["as_path"][0]["asns"],
        serde_json::json!([65_000, 4_200_000_001u32, 3])
    );
    assert_eq!(a["as_path"][1]["type"], "AS_SET");
    assert_eq!(a["as4_path"][0]["asns"][0], 4_200_000_001u32);
    assert_eq!(
        (a["med"].as_u64(), a["local_pref"].as_u64()),
        (Some(5), Some(100))
    );
    assert_eq!(a["atomic_aggregate"], true);
    assert_eq!(a["aggregator"]["asn"], 65_000);
    assert_eq!(a["communities"], serde_json::json!(["1:2", "no-export"]));
    assert_eq!(td["next_hop"], "192.0.2.9");
    assert_eq!(td["microseconds"], Value::Null);

    // TABLE_DUMP_V2 with ADD-PATH and confederation segments.
    let ap = find(&|o| o["mrt_type"] == "TABLE_DUMP_V2" && o["path_id"] == 4_000_000_000u32);
    assert_eq!(ap["attributes"]["as_path"][0]["type"], "AS_CONFED_SEQUENCE");
    assert_eq!(ap["attributes"]["as_path"][1]["type"], "AS_CONFED_SET");
    assert_eq!(ap["attributes"]["med"], 0x8000_0001u32);
    let v6rib = find(&|o| o["mrt_type"] == "TABLE_DUMP_V2" && o["path_id"] == 7);
    assert_eq!(v6rib["next_hop"], "2001:db8::2");
    assert_eq!(v6rib["link_local_next_hop"], "fe80::2");

    // BGP4MP_ET in an IPv6 session: microseconds, link-local next hop,
    // extended and large communities, the MP_UNREACH_NLRI withdrawal.
    let et = find(&|o| o["mrt_type"] == "BGP4MP_ET" && o["type"] == "A");
    assert_eq!(
        (et["timestamp"].as_u64(), et["microseconds"].as_u64()),
        (Some(1_600_000_002), Some(42))
    );
    assert_eq!(et["family"], "ipv6-unicast");
    assert_eq!(
        (et["next_hop"].as_str(), et["link_local_next_hop"].as_str()),
        (Some("2001:db8::a"), Some("fe80::a"))
    );
    assert_eq!(
        et["attributes"]["large_communities"],
        serde_json::json!(["65000:1:2"])
    );
    assert_eq!(
        et["attributes"]["extended_communities"],
        serde_json::json!(["rt 65000:100"])
    );
    assert_eq!(
        et["attributes"]["mp_reach"]["next_hops"],
        serde_json::json!(["2001:db8::a", "fe80::a"])
    );
    let w = find(&|o| o["mrt_type"] == "BGP4MP_ET" && o["type"] == "W");
    assert_eq!(w["prefix"], "2001:db8:ffff::/48");
    assert!(w.get("attributes").is_none());

    // 2-octet BGP4MP: AS4_PATH reconciled as RFC 6793 says.
    let merged = find(&|o| o["prefix"] == "203.0.113.7/32");
    assert_eq!(
        merged["attributes"]["as_path"][0]["asns"],
        serde_json::json!([65_100, 4_200_000_010u32, 4_200_000_011u32, 65_300])
    );
    assert_eq!(
        merged["attributes"]["as4_aggregator"]["asn"],
        4_200_000_010u32
    );

    // ADD-PATH path ids, state changes with names.
    assert!(objs
        .iter()
        .any(|o| o["type"] == "A" && o["path_id"] == 2 && o["prefix"] == "203.0.113.0/24"));
    let st = find(&|o| o["type"] == "STATE" && o["new_state"] == 7);
    assert_eq!(
        (st["old_state_name"].as_str(), st["new_state_name"].clone()),
        (Some("Established"), Value::Null)
    );
    assert_eq!(st["local_ip"], "2001:db8::b");
}

#[test]
fn json_reports_rfc7606_verdicts() {
    // ORIGIN 9 makes the UPDATE treat-as-withdraw; an unknown optional
    // transitive attribute prints as type/flags/hex.
    let attrs = [
        attr(0x40, 1, &[9]),
        as_path(4, &[(2, &[64_500])]),
        next_hop([192, 0, 2, 1]),
    ]
    .concat();
    let taw = update(&[], &attrs, &pfx(None, 24, &[203, 0, 113]));
    let ok_attrs = [
        origin(0),
        as_path(4, &[(2, &[64_500])]),
        next_hop([192, 0, 2, 1]),
        attr(0xe0, 99, &[1, 2]),
    ]
    .concat();
    let ok = update(&[], &ok_attrs, &pfx(None, 8, &[10]));
    let peer = ("192.0.2.1", 64_500);
    let local = ("192.0.2.2", 64_501);
    let data = [
        record(1, 16, 4, &bgp4mp(true, peer, local, &taw)),
        record(2, 16, 4, &bgp4mp(true, peer, local, &ok)),
    ]
    .concat();
    let (objs, err) = decode_json("verdicts.mrt", &data);
    assert!(err.is_empty(), "{err}");
    assert_eq!(objs.len(), 2);
    assert_eq!(objs[0]["type"], "W");
    assert_eq!(objs[0]["treat_as_withdraw"], true);
    assert_eq!(objs[0]["error"]["action"], "treat-as-withdraw");
    assert_eq!(
        objs[0]["error"]["name"],
        "UPDATE Message Error / Invalid ORIGIN Attribute"
    );
    assert_eq!(
        (
            objs[0]["error"]["code"].as_u64(),
            objs[0]["error"]["subcode"].as_u64()
        ),
        (Some(3), Some(6))
    );
    assert_eq!(objs[1]["type"], "A");
    assert_eq!(
        objs[1]["attributes"]["unknown"],
        serde_json::json!([{"type": 99, "flags": 0xe0, "hex": "0102"}])
    );
}

#[test]
fn compressed_and_standard_input_decode_alike() {
    let plain = synthetic_mrt();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    let gz = gz.finish().unwrap();
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(1));
    bz.write_all(&plain).unwrap();
    let bz = bz.finish().unwrap();
    let mut outputs = Vec::new();
    for (name, data) in [("p.mrt", &plain), ("c.mrt.gz", &gz), ("c.mrt.bz2", &bz)] {
        let path = temp_path(name);
        std::fs::write(&path, data).unwrap();
        let out = run(probe().arg("decode").arg(&path));
        let _ = std::fs::remove_file(&path);
        assert!(out.status.success());
        outputs.push(out.stdout);
    }
    let mut child = probe()
        .args(["decode", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || stdin.write_all(&gz).unwrap());
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    outputs.push(out.stdout);
    assert!(!outputs[0].is_empty());
    assert!(outputs.iter().all(|o| *o == outputs[0]));
}

#[test]
fn errors_name_file_and_offset_and_decoding_goes_on() {
    let good = record(
        1,
        16,
        0,
        &bgp4mp(false, ("192.0.2.1", 1), ("192.0.2.2", 2), &[0, 1, 0, 2]),
    );
    // A BGP4MP message record too short for its peering fields.
    let bad = record(2, 16, 4, &[0, 0, 0, 1]);
    let file = temp_path("bad.mrt");
    std::fs::write(&file, [good.clone(), bad, good].concat()).unwrap();
    let missing = temp_path("missing.mrt");
    let out = run(probe().arg("decode").arg(&missing).arg(&file));
    let _ = std::fs::remove_file(&file);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("bgp-probe: {}: ", missing.display())),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "bgp-probe: {}: malformed record at offset 32: ",
            file.display()
        )),
        "{err}"
    );
    // Both state changes around the bad record print.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .matches("|STATE|")
            .count(),
        2
    );

    // A stream cut inside a record: a warning and exit status 0.
    let cut = [
        record(
            1,
            16,
            0,
            &bgp4mp(false, ("192.0.2.1", 1), ("192.0.2.2", 2), &[0, 1, 0, 2]),
        ),
        vec![0, 0, 0],
    ]
    .concat();
    let file = temp_path("cut.mrt");
    std::fs::write(&file, cut).unwrap();
    let out = run(probe().arg("decode").arg(&file));
    let _ = std::fs::remove_file(&file);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: truncated record at offset 32"));
}

#[test]
fn hex_decodes_one_message() {
    let body = update(
        &[],
        &[
            origin(0),
            attr(0x40, 2, &path(2, &[(2, &[65_000, 65_001])])),
            next_hop([192, 0, 2, 1]),
        ]
        .concat(),
        &pfx(None, 24, &[198, 51, 100]),
    );
    let spaced: String = body.iter().map(|b| format!("{b:02x} ")).collect();
    let out = run(probe().args(["decode", "--as2", "--hex", &spaced]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("session: 2-octet AS numbers"), "{text}");
    assert!(text.contains(": 65000 65001 (route length 2)"), "{text}");
    assert!(text.contains("198.51.100.0/24"), "{text}");
    assert!(text.contains("verdict: accepted"), "{text}");
    // The same octets read with 4-octet AS numbers: a malformed AS_PATH.
    let colons: String = body
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    let out = run(probe().args(["decode", "--hex", &colons]));
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "verdict: treat-as-withdraw (UPDATE Message Error (3) / Malformed AS_PATH (11)"
        ),
        "{text}"
    );
    // ADD-PATH.
    let ap = update(&pfx(Some(7), 8, &[10]), &[], &[]);
    let out = run(probe().args(["decode", "--add-path", "--hex", &hex::encode(&ap)]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("10.0.0.0/8 path-id 7"));
    // A NOTIFICATION, and bad input.
    let out = run(probe().args(["decode", "--hex", &hex::encode(bgp(3, &[6, 4]))]));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("NOTIFICATION: Cease / Administrative Reset")
    );
    let out = run(probe().args(["decode", "--hex", "zz"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--hex: not hex"));
    let out = run(probe().args(["decode", "--hex", &hex::encode(bgp(9, &[]))]));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Bad Message Type"));
}

#[test]
fn help_shows_the_format_and_an_example() {
    let out = run(probe().args(["decode", "--help"]));
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("bgpdump -m"), "{text}");
    assert!(
        text.contains("Examples:\n  bgp-probe decode updates.20190101.0000.gz"),
        "{text}"
    );
    let out = run(probe().arg("--help"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("decode"));
    // No file and no --hex is a usage error.
    let out = run(probe().arg("decode"));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn json_on_collector_data() {
    let file = data_dir().join("updates.20190101.0000.gz");
    assert!(file.is_file(), "missing data file {}", file.display());
    let out = run(probe().args(["decode", "--format", "json"]).arg(&file));
    assert!(out.status.success());
    let objs = json_lines(&out.stdout);
    assert_eq!(objs.len(), 162_617);
    let kinds = |k: &str| objs.iter().filter(|o| o["type"] == k).count();
    assert_eq!(
        (kinds("A"), kinds("W"), kinds("STATE")),
        (159_948, 2_626, 43)
    );
    assert!(objs
        .iter()
        .any(|o| o["attributes"]["large_communities"].is_array()));
}
