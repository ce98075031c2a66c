//! Parsing and reading a message allocates nothing: a counting global allocator watches
//! `parse`, `kind`, `id`, `get`, `iter` and `unescape_into` over the whole qsd capture.
//!
//! This test binary holds one test only, so no other test thread allocates meanwhile.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use qmp_codec::{Kind, Message, ParseError, Str, Value};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// Forwards to the system allocator and counts every allocation.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The counter is global: tests that read it take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Unescapes into `buf`, returning the length read (0 when the buffer is short).
fn read_str(s: Str<'_>, buf: &mut [u8]) -> usize {
    match s.unescape_into(buf) {
        Ok(text) => text.len(),
        Err(_) => 0,
    }
}

/// Everything a client reads from a message; returns a checksum so nothing is optimized out.
fn read(msg: &Message<'_>, buf: &mut [u8]) -> usize {
    let mut sum = msg.kind() as usize + msg.len();
    if let Some(id) = msg.id() {
        sum += id.raw().len();
        if let Some(s) = id.as_str() {
            sum += read_str(s, buf);
        }
    }
    for name in [
        "event",
        "return",
        "error",
        "data",
        "timestamp",
        "QMP",
        "unknown-name",
    ] {
        if let Some(v) = msg.get(name) {
            sum += v.raw().len();
        }
    }
    if msg.kind() == Kind::Error {
        let err = msg.get("error").unwrap_or(msg.as_value());
        for field in ["class", "desc"] {
            if let Some(s) = err.get(field).and_then(|v: Value<'_>| v.as_str()) {
                sum += read_str(s, buf);
            }
        }
    }
    if let Some(s) = msg.get_str("event") {
        sum += read_str(s, buf);
    }
    for (k, v) in msg.iter() {
        sum += read_str(k, buf) + v.raw().len();
        if let Some(s) = v.as_str() {
            sum += read_str(s, buf);
        }
    }
    sum
}

#[test]
fn parse_and_read_the_qsd_capture_without_allocating() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let cap = common::Capture::load("qsd");
    let messages = cap.messages();
    let mut buf = vec![0u8; 1 << 19];
    let (mut ok, mut rejected, mut sum) = (0usize, 0usize, 0usize);

    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for m in &messages {
        match Message::parse(m) {
            Ok(msg) => {
                ok += 1;
                sum += read(&msg, &mut buf);
            }
            Err(ParseError::Deserialization(e)) => {
                rejected += 1;
                sum += e.offset();
            }
            Err(_) => rejected += 1_000,
        }
    }
    let after = ALLOCATIONS.load(Ordering::SeqCst);

    assert_eq!((ok, rejected), (1402, 2));
    assert!(sum > 0);
    assert_eq!(after - before, 0, "allocations while parsing and reading");

    // The counter works: the same reads through an allocating API are seen.
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let text = Message::parse(messages[0])
        .expect("the greeting")
        .to_string();
    assert!(ALLOCATIONS.load(Ordering::SeqCst) > before);
    assert!(text.starts_with("{\n  \"QMP\""));
}

#[test]
fn decode_message_from_the_stream_without_allocating() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let cap = common::Capture::load("qsd");
    let stream = &cap.stream[..];
    let mut framer = qmp_codec::Framer::lines();
    let mut buf = vec![0u8; 1 << 19];
    let (mut ok, mut rejected, mut sum) = (0usize, 0usize, 0usize);

    let before = ALLOCATIONS.load(Ordering::SeqCst);
    // Whole, then in 1000-byte windows, so that both the one-pass scan and its fallback run.
    for window in [stream.len(), 1000] {
        let mut at = 0;
        let mut end = window.min(stream.len());
        loop {
            let chunk = &stream[at..end];
            let eof = end == stream.len();
            let step = if eof {
                framer.finish_message(chunk)
            } else {
                framer.decode_message(chunk)
            };
            at += step.consumed;
            match step.status {
                Ok(qmp_codec::Status::Complete(msg)) => {
                    ok += 1;
                    sum += read(&msg, &mut buf);
                }
                Ok(qmp_codec::Status::Partial) if eof => break,
                Ok(qmp_codec::Status::Partial) => end = (end + window).min(stream.len()),
                Err(_) => rejected += 1,
            }
        }
    }
    let after = ALLOCATIONS.load(Ordering::SeqCst);

    assert_eq!((ok, rejected), (2 * 1402, 2 * 2));
    assert!(sum > 0);
    assert_eq!(after - before, 0, "allocations while decoding and reading");
}

#[test]
fn schema_index_check_and_drift_without_allocating() {
    use qmp_codec::schema::{check_command, drift_return, reply_list, Schema, Slot};
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let bytes = common::read_data("schema/qsd-10.0.2.json");
    let commands: [&[u8]; 4] = [
        br#"{"execute": "blockdev-add", "arguments": {"driver": "qcow2", "node-name": "q", "file": {"driver": "null-co", "cache": {"direct": true}}}}"#,
        br#"{"execute": "transaction", "arguments": {"actions": [{"type": "abort", "data": {"x": 1}}]}}"#,
        br#"{"execute": "blockdev-add", "arguments": {"driver": "null-co", "cache": {"direct": 1}}}"#,
        br#"{"execute": "x-debug-query-block-graph"}"#,
    ];
    let mut slots = vec![Slot::EMPTY; 600];
    // The test harness may allocate on its own thread while this runs (reporting the test
    // before): the best of three rounds counts.
    let mut fewest = usize::MAX;
    for _ in 0..3 {
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        let msg = Message::parse(&bytes).expect("capture");
        let schema = Schema::new(reply_list(&msg).unwrap(), &mut slots).expect("index");
        let mut refused = 0;
        let mut drift = 0;
        for c in commands {
            let m = Message::parse(c).unwrap();
            let cmd = qmp_codec::Command::try_from(m).unwrap();
            let checked = check_command(&schema, &cmd).unwrap();
            refused += usize::from(checked.rejection.is_some());
            let args = cmd.arguments().unwrap_or(m.as_value());
            drift += drift_return(&schema, cmd.name(), args, |_| {});
        }
        let after = ALLOCATIONS.load(Ordering::SeqCst);
        assert_eq!(refused, 2);
        assert!(drift > 0);
        fewest = fewest.min(after - before);
    }
    assert_eq!(fewest, 0, "indexing, checking and drift allocated");
}
