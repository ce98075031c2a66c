//! Parses one benchmark corpus N times with `Message::parse` + `kind()` + `id()`: a fixed
//! workload for instruction counts, which stay stable where wall-clock timings do not.
//!
//! ```text
//! cargo build --profile bench --example parse_corpus
//! valgrind --tool=callgrind target/release/examples/parse_corpus small 20
//! ```
//!
//! Arguments: the corpus (`small`, `schema`, `mix`, `id-echo`; default `small`) and the number
//! of passes (default 20). It checks the counts against the capture on every pass.

#[path = "../benches/corpus/mod.rs"]
mod corpus;

use std::hint::black_box;

use corpus::Counts;

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "small".to_owned());
    let passes: usize = match args.next() {
        Some(n) => n.parse().expect("passes is a number"),
        None => 20,
    };
    let c = corpus::all()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no corpus {name:?}: small, schema, mix, id-echo"));
    for _ in 0..passes {
        let mut n = Counts::default();
        for line in c.messages() {
            let msg = qmp_codec::Message::parse(black_box(line)).expect("valid QMP message");
            n.kinds[msg.kind() as usize] += 1;
            if let Some(id) = msg.id() {
                n.ids += 1;
                n.id_bytes += id.raw().len();
            }
        }
        assert_eq!(n, c.expected);
    }
    println!(
        "{name}: {passes} passes over {} messages, {} bytes",
        c.lines.len(),
        c.bytes.len()
    );
}
