//! `bgp-probe decode` against the real `bgpdump -m` (Debian's bgpdump
//! 1.6.2): the output must be byte-identical on every collector file in the
//! data directory and on a hand-built MRT file covering the record kinds and
//! corner cases the data does not have.
//!
//! This test lives in the `probe` crate rather than in `tests/` so that
//! cargo builds the binary for it and names it in `CARGO_BIN_EXE_bgp-probe`.
//! It runs the debug build `cargo test` made (about a second per file). The
//! data directory is `$BGP_DATA_DIR`, else `../shared/data/bgp` beside the
//! workspace; a missing directory, file or `bgpdump` fails the test.

mod common;

use common::{data_dir, probe, run, synthetic_mrt, temp_path};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The files the test must find, relative to the data directory.
const FILES: [&str; 6] = [
    "rib.20140523.0600_firstMB.bz2",
    "rib6.20151101.0600_firstMB.bz2",
    "updates.20190101.0000.gz",
    "updates.et-header.2015.gz",
    "derived/rib.20140523.0600_firstMB.whole-records.mrt.gz",
    "derived/rib6.20151101.0600_firstMB.whole-records.mrt.gz",
];

/// `bgpdump -m FILE`'s standard output.
fn bgpdump(file: &Path) -> Vec<u8> {
    let out = Command::new("bgpdump")
        .arg("-m")
        .arg(file)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run bgpdump ({e}): install it (Debian package `bgpdump`, \
                 which scripts/test installs) to run this test"
            )
        });
    assert!(
        out.status.success(),
        "bgpdump -m {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Panics with the first differing line of each output.
fn assert_same(file: &Path, want: &[u8], got: &[u8]) {
    if want == got {
        return;
    }
    let (w, g): (Vec<_>, Vec<_>) = (
        want.split(|&b| b == b'\n').collect(),
        got.split(|&b| b == b'\n').collect(),
    );
    let n = w.iter().zip(&g).take_while(|(a, b)| a == b).count();
    let line = |v: &[&[u8]]| {
        v.get(n).map_or("<end of output>".into(), |l| {
            String::from_utf8_lossy(l).into_owned()
        })
    };
    panic!(
        "{}: output differs from bgpdump -m at line {} ({} vs {} lines)\n  bgpdump:   {}\n  bgp-probe: {}",
        file.display(),
        n + 1,
        w.len() - 1,
        g.len() - 1,
        line(&w),
        line(&g)
    );
}

fn compare(file: &Path) {
    let want = bgpdump(file);
    let out = run(probe().arg("decode").arg(file));
    assert!(
        out.status.success(),
        "bgp-probe decode {} exited with {}: {}",
        file.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_same(file, &want, &out.stdout);
}

#[test]
fn collector_files_match_bgpdump() {
    let dir = data_dir();
    let files: Vec<PathBuf> = FILES.iter().map(|f| dir.join(f)).collect();
    for f in &files {
        assert!(
            f.is_file(),
            "missing data file {} (set BGP_DATA_DIR to the directory of the collector data)",
            f.display()
        );
    }
    // One thread per file: bgpdump and the debug build take about a second
    // each.
    std::thread::scope(|s| {
        let handles: Vec<_> = files.iter().map(|f| s.spawn(move || compare(f))).collect();
        let failures: Vec<String> = handles
            .into_iter()
            .filter_map(|h| h.join().err())
            .map(|e| {
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            })
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    });
}

#[test]
fn truncated_file_is_a_warning_not_a_failure() {
    let file = data_dir().join(FILES[0]);
    assert!(file.is_file(), "missing data file {}", file.display());
    let out = run(probe().arg("decode").arg(&file));
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: truncated record at offset 15273283"),
        "{err}"
    );
}

#[test]
fn synthetic_records_match_bgpdump() {
    let path = temp_path("synthetic.mrt");
    std::fs::write(&path, synthetic_mrt()).unwrap();
    let want = bgpdump(&path);
    let out = run(probe().arg("decode").arg(&path));
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_same(&path, &want, &out.stdout);
    // Every kind of line is there.
    let text = String::from_utf8_lossy(&out.stdout);
    for kind in [
        "TABLE_DUMP|",
        "TABLE_DUMP2|",
        "TABLE_DUMP2_AP|",
        "BGP4MP|",
        "BGP4MP_ET|",
        "BGP4MP_AP|",
        "BGP4MP_ET_AP|",
        "BGP4MP_LOCAL|",
        "BGP4MP_ET_LOCAL|",
        "|STATE|",
        "|W|",
        "! Error !",
        "{1,2}",
        "(65010 65011) [65012,65013]",
    ] {
        assert!(text.contains(kind), "no {kind:?} in\n{text}");
    }
}
