//! Parses one benchmark corpus N times: a fixed workload for instruction counts, which stay
//! stable where wall-clock timings do not.
//!
//! ```text
//! cargo build --profile bench --example parse_corpus
//! valgrind --tool=callgrind --toggle-collect='*variants::serde_raw' \
//!     target/release/examples/parse_corpus small 20 serde_json-raw
//! ```
//!
//! Arguments: the corpus (`small`, `schema`, `mix`, `id-echo`, or `small-top`, the message
//! that is three quarters of `small` repeated 1,000 times; default `small`), the number of
//! passes (default 20) and the parser (`qmp-codec`, the default, `framer+qmp-codec`,
//! `decode_message`, `serde_json-raw`, `serde_json-value`, `serde-json-core`). Every pass
//! checks its counts against the capture. Collect from `*Message::parse_with` for the scanner
//! alone, or from the parser's function in `benches/corpus/variants.rs` to compare parsers.
//!
//! It also prints the throughput of the passes: `benches/interleave.sh` runs several builds
//! of it in turn for a wall-clock A/B that tolerates a noisy machine.

#[path = "../benches/corpus/mod.rs"]
mod corpus;

use std::hint::black_box;

use corpus::{variants, Corpus, Counts};

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "small".to_owned());
    let passes: usize = match args.next() {
        Some(n) => n.parse().expect("passes is a number"),
        None => 20,
    };
    let parser = args.next().unwrap_or_else(|| "qmp-codec".to_owned());
    let run: fn(&Corpus) -> Counts = match parser.as_str() {
        "qmp-codec" => variants::qmp_codec,
        "framer+qmp-codec" => variants::framed,
        "decode_message" => variants::fused,
        "serde_json-raw" => variants::serde_raw,
        "serde_json-value" => variants::serde_value,
        "serde-json-core" => variants::serde_core,
        other => panic!("no parser {other:?}"),
    };
    let c = if name == "small-top" {
        corpus::small_top()
    } else {
        corpus::all()
            .into_iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no corpus {name:?}: small, schema, mix, id-echo, small-top"))
    };
    let mut want = c.expected;
    if matches!(parser.as_str(), "serde_json-value" | "serde-json-core") {
        want.id_bytes = 0;
    }
    let start = std::time::Instant::now();
    for _ in 0..passes {
        assert_eq!(run(black_box(&c)), want);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{name}: {passes} passes of {parser} over {} messages, {} bytes: {:.0} MiB/s",
        c.lines.len(),
        c.bytes.len(),
        (passes * c.bytes.len()) as f64 / secs / (1024.0 * 1024.0)
    );
}
