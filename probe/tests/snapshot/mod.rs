//! Snapshot comparison for `bgp-probe`'s output tests: the expected text is
//! a file under `probe/tests/snapshots/`, checked by hand when written. On
//! a mismatch the test fails with a line diff (`-` expected, `+` actual).
//! `BGP_PROBE_BLESS=1` writes the actual output instead (then read the
//! diff in git before committing it).

#![allow(dead_code)]

use std::path::PathBuf;

/// The snapshot file `name`.
pub fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name)
}

/// Fails the test unless `actual` equals the snapshot `name`.
pub fn assert_snapshot(name: &str, actual: &str) {
    let file = path(name);
    if std::env::var("BGP_PROBE_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&file, actual)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
        return;
    }
    let expected = std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!(
            "cannot read snapshot {}: {e}\nactual output:\n{actual}",
            file.display()
        )
    });
    if expected != actual {
        panic!(
            "output differs from {} (- expected, + actual):\n{}",
            file.display(),
            diff(&expected, actual)
        );
    }
}

/// A line diff from the longest common subsequence, with two lines of
/// context around each change.
pub fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let (n, m) = (a.len(), b.len());
    // lcs[i][j]: common length of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            ops.push(('+', b[j]));
            j += 1;
        } else {
            ops.push(('-', a[i]));
            i += 1;
        }
    }
    if expected.ends_with('\n') != actual.ends_with('\n') {
        ops.push(('!', "(the final newline differs)"));
    }
    let near = |k: usize| {
        let lo = k.saturating_sub(2);
        let hi = (k + 3).min(ops.len());
        ops[lo..hi].iter().any(|(c, _)| *c != ' ')
    };
    let mut out = String::new();
    let mut skipped = false;
    for (k, (c, line)) in ops.iter().enumerate() {
        if near(k) {
            if skipped {
                out.push_str("  ...\n");
                skipped = false;
            }
            out.push_str(&format!("{c} {line}\n"));
        } else {
            skipped = true;
        }
    }
    out
}

#[test]
fn diff_marks_changes() {
    let d = diff("a\nb\nc\n", "a\nB\nc\nd\n");
    assert_eq!(d, "  a\n+ B\n- b\n  c\n+ d\n");
}
