//! The documentation generated from the clap definitions: every
//! subcommand's `--help` ends with examples, the shell completions know
//! every subcommand, and the man pages in `docs/man/` are exactly what
//! `bgp-probe man` prints (regenerate them with `bgp-probe man --dir
//! docs/man` after changing an option or a help text).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SUBCOMMANDS: [&str; 8] = [
    "decode",
    "replay",
    "check",
    "lint",
    "peers",
    "routes",
    "completions",
    "man",
];

fn probe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bgp-probe"))
        .args(args)
        .output()
        .expect("run bgp-probe")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn every_subcommand_help_has_an_example() {
    let top = text(&probe(&["--help"]).stdout);
    for sub in SUBCOMMANDS {
        assert!(top.contains(&format!("\n  {sub} ")), "{sub} not in:\n{top}");
        let out = probe(&[sub, "--help"]);
        assert!(out.status.success(), "{sub} --help failed");
        let help = text(&out.stdout);
        assert!(
            help.contains("Example"),
            "{sub} --help has no example:\n{help}"
        );
        assert!(
            help.contains(&format!("bgp-probe {sub}")),
            "{sub}'s examples do not run it:\n{help}"
        );
    }
}

#[test]
fn completions_know_every_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let out = probe(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let script = text(&out.stdout);
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell} completion lacks {sub}");
        }
        assert!(
            script.contains("fail-on"),
            "{shell} completion lacks --fail-on"
        );
    }
    let bash = text(&probe(&["completions", "bash"]).stdout);
    assert!(bash.contains("complete -F _bgp__probe"), "{bash}");
    let out = probe(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

fn docs_man() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/man")
}

#[test]
fn committed_man_pages_match() {
    let dir = std::env::temp_dir().join(format!("bgp-probe-man-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = probe(&["man", "--dir", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut written: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    let mut expected: Vec<String> = SUBCOMMANDS
        .iter()
        .map(|s| format!("bgp-probe-{s}.1"))
        .chain(["bgp-probe.1".to_string()])
        .collect();
    expected.sort();
    assert_eq!(written, expected);
    let mut committed: Vec<String> = std::fs::read_dir(docs_man())
        .unwrap_or_else(|e| panic!("{}: {e}", docs_man().display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".1"))
        .collect();
    committed.sort();
    assert_eq!(
        committed, expected,
        "docs/man is out of date: run bgp-probe man --dir docs/man"
    );
    for name in &expected {
        let now = std::fs::read_to_string(dir.join(name)).unwrap();
        let kept = std::fs::read_to_string(docs_man().join(name)).unwrap();
        assert!(
            now == kept,
            "docs/man/{name} is out of date: run bgp-probe man --dir docs/man"
        );
    }
    // One page on standard output, the same text.
    let out = probe(&["man", "check"]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout),
        std::fs::read_to_string(docs_man().join("bgp-probe-check.1")).unwrap()
    );
    let page = text(&out.stdout);
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq \\(aq") || page.contains(".TH "),
        "{page}"
    );
    assert!(page.contains("unreachable\\-from\\-here") || page.contains("unreachable-from-here"));
    let out = probe(&["man", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
