//! The duplicate-name check's worst cases against an ordinary message of the same size:
//! parses each 10 MiB input several times and prints MB/s (best of the runs).
//!
//! ```text
//! cargo run --profile bench --example object_names
//! ```
//!
//! Inputs, each one `{"return": [...]}` message of about 10 MiB:
//!
//! - `ordinary`: the elements of the bundled `query-qmp-schema` reply, repeated;
//! - `distinct`: objects of 1,000 distinct names each (`"n0000000": 0`), near the most the
//!   check holds (`Limits::MAX_NESTED_NAMES`), so every object goes through its hash index;
//! - `collide`: the same, with names built to collide in the check's first stage (same
//!   length, same first eight bytes: `"aaaaaaaa000000"`), which the index's hash of all the
//!   bytes then tells apart;
//! - `collide-31`: objects of 31 such names, the most the first stage takes before it builds
//!   the index: every name is compared in full with every earlier name of its object;
//! - `one-object`: a single object of distinct names: rejected (`TooManyMembers`) once it has
//!   more names than the check holds; the time is that of the rejection.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Instant;

use qmp_codec::Message;

const SIZE: usize = 10 << 20;

fn schema_elements() -> String {
    let stream = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/corpus/qsd/stream.bin"
    ))
    .expect("the bundled capture");
    let line = stream
        .split(|&b| b == b'\n')
        .find(|l| l.windows(9).any(|w| w == b"meta-type"))
        .expect("the schema reply");
    let msg = Message::parse(line).expect("valid");
    let ret = msg.get("return").expect("a return value");
    let raw = std::str::from_utf8(ret.raw()).expect("UTF-8");
    raw.trim_start_matches('[').trim_end_matches(']').to_owned()
}

fn wrap(parts: impl Iterator<Item = String>) -> Vec<u8> {
    let mut out = String::from("{\"return\": [");
    let mut first = true;
    for p in parts {
        if out.len() >= SIZE {
            break;
        }
        if !first {
            out.push_str(", ");
        }
        first = false;
        out.push_str(&p);
    }
    out.push_str("]}");
    out.into_bytes()
}

fn objects(names: usize, name: fn(usize) -> String) -> Vec<u8> {
    wrap((0..).map(move |_| {
        let mut o = String::from("{");
        for k in 0..names {
            if k > 0 {
                o.push_str(", ");
            }
            let _ = write!(o, "\"{}\": 0", name(k));
        }
        o.push('}');
        o
    }))
}

fn main() {
    let schema = schema_elements();
    let mut one = String::from("{\"return\": {");
    let mut k = 0;
    while one.len() < SIZE {
        if k > 0 {
            one.push_str(", ");
        }
        let _ = write!(one, "\"n{k:07}\": 0");
        k += 1;
    }
    one.push_str("}}");
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("ordinary", wrap(std::iter::repeat(schema))),
        ("distinct", objects(1000, |k| format!("n{k:07}"))),
        ("collide", objects(1000, |k| format!("aaaaaaaa{k:06}"))),
        ("collide-31", objects(31, |k| format!("aaaaaaaa{k:06}"))),
        ("one-object", one.into_bytes()),
    ];
    println!("| input | bytes | result | MB/s (best of 5) |");
    println!("| --- | --- | --- | --- |");
    for (name, input) in &inputs {
        let mut best = f64::MAX;
        let mut result = String::new();
        for _ in 0..5 {
            let t = Instant::now();
            let r = Message::parse(black_box(input));
            let s = t.elapsed().as_secs_f64();
            best = best.min(s);
            result = match r {
                Ok(m) => format!("ok, {} members", m.len()),
                Err(e) => format!("{e}"),
            };
        }
        let mbs = input.len() as f64 / 1e6 / best;
        println!("| {name} | {} | {result} | {mbs:.0} |", input.len());
    }
}
