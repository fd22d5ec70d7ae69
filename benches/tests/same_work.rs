//! The three parser walks of the benchmark must see the same routes on the
//! same real data, or the benchmark compares unequal work.

use bgp_benches::{data_dir, walk_bgpkit, walk_ours, walk_routecore, Corpus, Tally};

fn tallies(file: &str) -> (Tally, Tally, Tally, usize) {
    let path = data_dir().join(file);
    let corpus = Corpus::load(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the shared collector data is required; set BGP_DATA_DIR)",
            path.display()
        )
    });
    let shared = bytes::Bytes::from(corpus.data.clone());
    let (mut a, mut b, mut c) = (Tally::default(), Tally::default(), Tally::default());
    for (r, four) in &corpus.updates {
        walk_ours(&corpus.data[r.clone()], *four, &mut a);
        walk_routecore(&corpus.data[r.clone()], *four, &mut b);
        walk_bgpkit(&shared.slice(r.clone()), *four, &mut c);
    }
    (a, b, c, corpus.updates.len())
}

#[test]
fn pch_full_table_stream() {
    let (ours, routecore, bgpkit, n) = tallies("updates.et-header.2015.gz");
    assert_eq!(n, 89_679);
    // SOURCES.md: 577,737 announced prefixes in this stream.
    assert_eq!(ours.announced, 577_737);
    assert_eq!(ours.errors, 0);
    assert_eq!(ours, routecore);
    assert_eq!(ours, bgpkit);
}

#[test]
fn ris_rrc00_updates() {
    let (ours, routecore, bgpkit, n) = tallies("updates.20190101.0000.gz");
    assert_eq!(n, 54_107);
    // SOURCES.md: 159,948 announced and 2,626 withdrawn prefix lines.
    assert_eq!((ours.announced, ours.withdrawn), (159_948, 2_626));
    assert_eq!(ours.errors, 0);
    assert_eq!(ours, routecore);
    assert_eq!(ours, bgpkit);
}
