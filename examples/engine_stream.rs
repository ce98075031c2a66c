//! Drives the sans-IO client engine over a canned stream of replies and events: a fixed
//! workload for the engine's own cost (read buffer, framing, parsing, matching, events), for
//! instruction counts and a throughput figure.
//!
//! ```text
//! cargo build --profile bench --example engine_stream
//! target/release/examples/engine_stream 200
//! valgrind --tool=callgrind --toggle-collect='*engine_stream::pass' \
//!     target/release/examples/engine_stream 5
//! ```
//!
//! Each pass negotiates a fresh client, then runs 4,096 requests in rounds of 8 (QEMU's
//! limit): the 8 replies arrive in 1,500-byte reads, each after an event, as QEMU sends them.
//! Every reply and event is checked.

use std::hint::black_box;
use std::time::Instant;

use qmp_codec::client::{Client, ClientConfig, ClientEvent};
use qmp_codec::encode::EmptyObject;

const GREETING: &[u8] = b"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2, \"minor\": 0, \"major\": 10}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n{\"return\": {}}\r\n";
const REQUESTS: usize = 4096;
const ROUND: usize = 8;
const READ: usize = 1500;

/// The server's output for every round: per request an event, then the reply.
fn stream() -> Vec<Vec<u8>> {
    (0..REQUESTS / ROUND)
        .map(|round| {
            let mut out = Vec::new();
            for i in 0..ROUND {
                let n = round * ROUND + i;
                out.extend_from_slice(format!(
                    "{{\"timestamp\": {{\"seconds\": 1700000000, \"microseconds\": {n}}}, \"event\": \"BLOCK_JOB_PENDING\", \"data\": {{\"type\": \"commit\", \"id\": \"job{n}\"}}}}\r\n"
                ).as_bytes());
                out.extend_from_slice(format!(
                    "{{\"return\": {{\"status\": \"running\", \"singlestep\": false, \"running\": true}}, \"id\": \"__qmp#{n:05}\"}}\r\n"
                ).as_bytes());
            }
            out
        })
        .collect()
}

/// One pass; returns (replies, events) seen.
#[inline(never)]
fn pass(rounds: &[Vec<u8>], rx: &mut [u8], tx: &mut [u8]) -> (usize, usize) {
    let mut client = Client::<8>::new(rx, tx, ClientConfig::new()).expect("buffers");
    let (mut replies, mut events) = (0, 0);
    let mut feed = |client: &mut Client<'_, 8>, bytes: &[u8]| {
        for chunk in bytes.chunks(READ) {
            let mut rest = chunk;
            while !rest.is_empty() {
                let n = client.handle_input(rest);
                rest = &rest[n..];
                while let Some(event) = client.poll_event() {
                    match event {
                        ClientEvent::Response(r) => {
                            assert!(r.return_value().is_some());
                            replies += 1;
                        }
                        ClientEvent::Event(e) => {
                            assert!(e.name() == "BLOCK_JOB_PENDING");
                            events += 1;
                        }
                        ClientEvent::Greeting(_) | ClientEvent::Negotiated { .. } => {}
                        other => panic!("{other:?}"),
                    }
                }
                let n = client.pending_transmit().len();
                client.consume_transmit(n);
            }
        }
    };
    feed(&mut client, GREETING);
    for round in rounds {
        for _ in 0..ROUND {
            client
                .execute("query-status", None::<EmptyObject>)
                .expect("a free slot");
        }
        let n = client.pending_transmit().len();
        client.consume_transmit(n);
        feed(&mut client, round);
    }
    (replies, events)
}

fn main() {
    let passes: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("passes is a number"))
        .unwrap_or(50);
    let rounds = stream();
    let bytes: usize = rounds.iter().map(Vec::len).sum();
    let (mut rx, mut tx) = (vec![0u8; 64 * 1024], vec![0u8; 4096]);
    let start = Instant::now();
    for _ in 0..passes {
        let (replies, events) = pass(black_box(&rounds), &mut rx, &mut tx);
        assert_eq!((replies, events), (REQUESTS, REQUESTS));
    }
    let secs = start.elapsed().as_secs_f64();
    let total = (bytes * passes) as f64;
    println!(
        "{passes} passes, {bytes} bytes each: {:.0} MiB/s, {:.0} ns per message",
        total / secs / (1 << 20) as f64,
        secs * 1e9 / (passes * REQUESTS * 2) as f64
    );
}
