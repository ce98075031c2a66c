//! Parse throughput on real QEMU traffic: this crate against serde_json (borrowed `&RawValue`
//! struct and `Value`), serde-json-core, and a newline count as the floor.
//!
//! The `framer+qmp-codec` and `decode_message` variants start from the byte stream instead
//! of pre-split lines: the framer then `Message::parse`, or `Framer::decode_message`, which
//! frames and parses each line in one pass. The `feed-1-byte` group hands the small corpus
//! over one byte at a time (framer alone, and `decode_message`).
//! Every variant classifies each message (greeting/event/error/return/command) and looks at
//! its `id`, and the counts are asserted inside the timed loop against the capture's
//! `expect.jsonl`. The parsers are in `benches/corpus/variants.rs`.
//! Run: `cargo bench --bench parse -- --warm-up-time 1 --measurement-time 3`.

mod corpus;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use corpus::variants::{
    framed, fused, memchr_lines, one_byte_feed, qmp_codec, serde_core, serde_raw, serde_value,
};
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
        g.bench_with_input(BenchmarkId::from_parameter("decode_message"), &c, |b, c| {
            b.iter(|| assert_eq!(fused(black_box(c)), want))
        });
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

/// One-byte reads of the small corpus: the cost of partial input, which must stay linear.
fn feed(crit: &mut Criterion) {
    let c = corpus::all()
        .into_iter()
        .find(|c| c.name == "small")
        .expect("the small corpus");
    let messages = c.lines.len();
    let mut g = crit.benchmark_group("feed-1-byte/small");
    g.throughput(Throughput::Bytes(c.bytes.len() as u64));
    g.bench_function("framer", |b| {
        b.iter(|| assert_eq!(one_byte_feed(black_box(&c), false), messages))
    });
    g.bench_function("decode_message", |b| {
        b.iter(|| assert_eq!(one_byte_feed(black_box(&c), true), messages))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = parse, feed
}
criterion_main!(benches);
