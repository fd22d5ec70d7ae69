//! Walks every UPDATE of a collector file with bgp-proto `N` times; a fixed
//! workload for profilers (`valgrind --tool=callgrind`, `perf record`).
//! Usage: walk_ours FILE [N]

use bgp_benches::{walk_ours, Corpus, Tally};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: walk_ours FILE [N]");
    let n: usize = args.next().map_or(1, |s| s.parse().expect("N"));
    let corpus = Corpus::load(path.as_ref()).expect("load corpus");
    let mut t = Tally::default();
    for _ in 0..n {
        for (m, four) in corpus.iter() {
            walk_ours(m, four, &mut t);
        }
    }
    println!("{t:?}");
}
