//! Criterion: decode every UPDATE of two real collector streams and walk
//! every attribute and prefix, with bgp-proto, routecore and bgpkit-parser in
//! the same run. Throughput is octets of UPDATE messages per second.

use bgp_benches::{data_dir, walk_bgpkit, walk_ours, walk_routecore, Corpus, Tally};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    for file in ["updates.et-header.2015.gz", "updates.20190101.0000.gz"] {
        let path = data_dir().join(file);
        let corpus = Corpus::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let shared = bytes::Bytes::from(corpus.data.clone());
        let mut g = c.benchmark_group(file);
        g.throughput(Throughput::Bytes(corpus.update_bytes() as u64));
        g.sample_size(20);
        g.bench_function("bgp-proto", |b| {
            b.iter(|| {
                let mut t = Tally::default();
                for (m, four) in corpus.iter() {
                    walk_ours(m, four, &mut t);
                }
                black_box(t)
            })
        });
        g.bench_function("routecore", |b| {
            b.iter(|| {
                let mut t = Tally::default();
                for (m, four) in corpus.iter() {
                    walk_routecore(m, four, &mut t);
                }
                black_box(t)
            })
        });
        g.bench_function("bgpkit-parser", |b| {
            b.iter(|| {
                let mut t = Tally::default();
                for (r, four) in &corpus.updates {
                    walk_bgpkit(&shared.slice(r.clone()), *four, &mut t);
                }
                black_box(t)
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
