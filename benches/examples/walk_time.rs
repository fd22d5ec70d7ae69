//! Times the bgp-proto walk of one collector file: the best of `N` passes,
//! in GB/s (10^9 octets of UPDATE messages per second). A quick check
//! between criterion runs on a noisy machine.
//! Usage: walk_time FILE [N]

use bgp_benches::{walk_ours, Corpus, Tally};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: walk_time FILE [N]");
    let n: usize = args.next().map_or(50, |s| s.parse().expect("N"));
    let corpus = Corpus::load(path.as_ref()).expect("load corpus");
    let bytes = corpus.update_bytes() as f64;
    let mut best = f64::INFINITY;
    let mut t = Tally::default();
    for _ in 0..n {
        let start = Instant::now();
        let mut pass = Tally::default();
        for (m, four) in corpus.iter() {
            walk_ours(m, four, &mut pass);
        }
        best = best.min(start.elapsed().as_secs_f64());
        t = std::hint::black_box(pass);
    }
    println!(
        "{path}: best {:.3} ms, {:.3} GB/s, {:.1} MiB/s\n{t:?}",
        best * 1e3,
        bytes / best / 1e9,
        bytes / best / 1048576.0
    );
}
