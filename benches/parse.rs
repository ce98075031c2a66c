//! Parse throughput on real QEMU traffic: this crate against serde_json (borrowed `&RawValue`
//! struct and `Value`), serde-json-core, and a newline count as the floor.
//!
//! The `framer+qmp-codec` variant starts from the byte stream instead of pre-split lines.
//! Every variant classifies each message (greeting/event/error/return/command) and looks at
//! its `id`, and the counts are asserted inside the timed loop against the capture's
//! `expect.jsonl`. The parsers are in `benches/corpus/variants.rs`.
//! Run: `cargo bench --bench parse -- --warm-up-time 1 --measurement-time 3`.

mod corpus;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use corpus::variants::{framed, memchr_lines, qmp_codec, serde_core, serde_raw, serde_value};
use corpus::Counts;

fn parse(crit: &mut Criterion) {
    for c in corpus::all() {
        let want = c.expected;
        let ids_only = Counts {
            id_bytes: 0,
            ..want
        };
        let mut g = crit.benchmark_group(format!("parse/{}", c.name));
        g.throughput(Throughput::Bytes(c.bytes.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter("qmp-codec"), &c, |b, c| {
            b.iter(|| assert_eq!(qmp_codec(black_box(c)), want))
        });
        g.bench_with_input(
            BenchmarkId::from_parameter("framer+qmp-codec"),
            &c,
            |b, c| b.iter(|| assert_eq!(framed(black_box(c)), want)),
        );
        g.bench_with_input(BenchmarkId::from_parameter("serde_json-raw"), &c, |b, c| {
            b.iter(|| assert_eq!(serde_raw(black_box(c)), want))
        });
        g.bench_with_input(
            BenchmarkId::from_parameter("serde_json-value"),
            &c,
            |b, c| b.iter(|| assert_eq!(serde_value(black_box(c)), ids_only)),
        );
        g.bench_with_input(
            BenchmarkId::from_parameter("serde-json-core"),
            &c,
            |b, c| b.iter(|| assert_eq!(serde_core(black_box(c)), ids_only)),
        );
        g.bench_with_input(BenchmarkId::from_parameter("memchr-lines"), &c, |b, c| {
            b.iter(|| assert_eq!(memchr_lines(black_box(c)), c.lines.len()))
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = parse
}
criterion_main!(benches);
