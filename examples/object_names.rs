//! The duplicate-name check's worst cases against an ordinary message of the same size:
//! parses each input several times and prints MB/s (best of the runs), at each size given
//! in MiB (default 10): MB/s that stay the same as the size grows show linear time.
//!
//! ```text
//! cargo build --profile bench --example object_names
//! target/release/examples/object_names 2.5 5 10
//! ```
//!
//! Inputs, each one `{"return": ...}` message of the size:
//!
//! - `ordinary`: the elements of the bundled `query-qmp-schema` reply, repeated;
//! - `distinct`: objects of 1,000 distinct names each (`"n0000000": 0`): past the pairwise
//!   stage (32 names), so each is checked by the hash of whole names when it closes;
//! - `collide`: the same, with names built to collide in the pairwise stage's tag (same
//!   length, same first eight bytes: `"aaaaaaaa000000"`), which the hash of whole names
//!   then tells apart;
//! - `collide-31`: objects of 31 such names, which the pairwise stage would take: the first
//!   tag shared by two different names moves the object to the check at close;
//! - `one-object`: a single object of distinct names (about 700,000 at 10 MiB);
//! - `one-object-collide`: the same with colliding names;
//! - `one-object-dup`: `one-object` with its first name repeated at the end: rejected, and
//!   the time is that of the rejection.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Instant;

use qmp_codec::Message;

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

fn wrap(size: usize, parts: impl Iterator<Item = String>) -> Vec<u8> {
    let mut out = String::from("{\"return\": [");
    let mut first = true;
    for p in parts {
        if out.len() >= size {
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

fn objects(size: usize, names: usize, name: fn(usize) -> String) -> Vec<u8> {
    wrap(
        size,
        (0..).map(move |_| {
            let mut o = String::from("{");
            for k in 0..names {
                if k > 0 {
                    o.push_str(", ");
                }
                let _ = write!(o, "\"{}\": 0", name(k));
            }
            o.push('}');
            o
        }),
    )
}

fn main() {
    let sizes: Vec<f64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("a size in MiB"))
        .collect();
    let sizes = if sizes.is_empty() { vec![10.0] } else { sizes };
    println!("| input | MiB | bytes | result | MB/s (best of 5) |");
    println!("| --- | --- | --- | --- | --- |");
    for mib in sizes {
        run((mib * (1 << 20) as f64) as usize, mib);
    }
}

fn run(size: usize, mib: f64) {
    let schema = schema_elements();
    let one = |name: fn(usize) -> String| {
        let mut one = String::from("{\"return\": {");
        let mut k = 0;
        while one.len() < size {
            if k > 0 {
                one.push_str(", ");
            }
            let _ = write!(one, "\"{}\": 0", name(k));
            k += 1;
        }
        one.push_str("}}");
        one.into_bytes()
    };
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("ordinary", wrap(size, std::iter::repeat(schema))),
        ("distinct", objects(size, 1000, |k| format!("n{k:07}"))),
        (
            "collide",
            objects(size, 1000, |k| format!("aaaaaaaa{k:06}")),
        ),
        (
            "collide-31",
            objects(size, 31, |k| format!("aaaaaaaa{k:06}")),
        ),
        ("one-object", one(|k| format!("n{k:07}"))),
        ("one-object-collide", one(|k| format!("aaaaaaaa{k:07}"))),
        ("one-object-dup", {
            let mut v = one(|k| format!("n{k:07}"));
            let end = v.len() - 2;
            v.splice(end..end, b", \"n0000000\": 1".iter().copied());
            v
        }),
    ];
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
        println!("| {name} | {mib} | {} | {result} | {mbs:.0} |", input.len());
    }
}
