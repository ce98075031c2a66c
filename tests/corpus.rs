//! Every message of the real QEMU captures parses, and its kind, id, keys, error and event
//! details match `expect.jsonl`.

mod common;

use common::walk::{compare, str_text};
use common::{field, split_lines, Capture};
use qmp_codec::{Kind, Message, ParseError, Reason, ValueKind};
use serde_json::Value as J;

/// SHA-256 (FIPS 180-4), enough to check the digest of the 256 KiB id in expect.jsonl.
fn sha256_hex(data: &[u8]) -> String {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

#[test]
fn sha256_matches_known_digests() {
    assert_eq!(
        sha256_hex(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Greeting => "greeting",
        Kind::Event => "event",
        Kind::Error => "error",
        Kind::Return => "return",
        Kind::Command => "command",
        _ => "unknown",
    }
}

/// Checks one message against its expect.jsonl entry; returns whether it was parsed.
fn check(capture: &str, bytes: &[u8], e: &J) -> bool {
    let seq = field(e, "seq");
    let ctx = format!("{capture} seq {seq}");
    let strict = e["strict_json"].as_bool().expect("strict_json");
    let msg = match Message::parse(bytes) {
        Ok(msg) => msg,
        Err(ParseError::Deserialization(err)) if !strict => {
            assert_eq!(err.raw(), bytes, "{ctx}");
            let id_raw = e["id_raw"].as_str().expect("id_raw");
            let reason = if id_raw.starts_with('-') {
                Reason::InvalidNumber
            } else {
                Reason::ExpectedValue
            };
            assert_eq!(err.reason(), reason, "{ctx}: {err}");
            let at = bytes.len() - 2 - 1 - id_raw.len();
            assert_eq!(&bytes[at..at + id_raw.len()], id_raw.as_bytes(), "{ctx}");
            // `inf` fails at its first byte, `-inf` right after the minus sign.
            let want = at + usize::from(id_raw.starts_with('-'));
            assert_eq!(err.offset(), want, "{ctx}: offset");
            return false;
        }
        Err(err) => panic!("{ctx}: {err}"),
    };
    assert!(strict, "{ctx}: non-strict JSON was accepted");
    assert_eq!(msg.as_bytes(), bytes, "{ctx}");
    assert_eq!(kind_name(msg.kind()), e["kind"], "{ctx}: kind");

    let keys: Vec<String> = msg.iter().map(|(k, _)| str_text(k).expect("key")).collect();
    let want_keys: Vec<String> =
        serde_json::from_value(e["keys"].clone()).expect("keys is a list of strings");
    assert_eq!(keys, want_keys, "{ctx}: keys");
    assert_eq!(msg.len(), keys.len(), "{ctx}: len");
    for k in &keys {
        assert!(msg.contains_key(k), "{ctx}: contains_key({k})");
    }

    // The id, compared by value (and, as the server sent it, by bytes).
    let id_present = e["id_present"].as_bool().expect("id_present");
    assert_eq!(msg.id().is_some(), id_present, "{ctx}: id presence");
    if let Some(id) = msg.id() {
        assert_eq!(msg.get("id"), Some(id), "{ctx}");
        if let Some(raw) = e.get("id_raw").and_then(J::as_str) {
            assert_eq!(id.raw(), raw.as_bytes(), "{ctx}: id bytes");
            match e.get("id") {
                Some(want) => {
                    // Both Python's reading (`id`) and serde_json's (`-0` is a float there).
                    let parsed: J = serde_json::from_str(raw).expect("id_raw is JSON");
                    compare(id, &parsed).unwrap_or_else(|d| panic!("{ctx}: id: {d}"));
                    compare(id, want).unwrap_or_else(|d| panic!("{ctx}: id vs expect: {d}"));
                }
                // Only the id nested too deep to store has no `id`: check its shape.
                None => {
                    assert_eq!(id.kind(), ValueKind::Array, "{ctx}");
                    let mut depth = 0;
                    let mut v = Some(id);
                    while let Some(x) = v.filter(|x| x.kind() == ValueKind::Array) {
                        depth += 1;
                        v = x.elements().next();
                    }
                    assert!(depth > 128, "{ctx}: id depth {depth}");
                }
            }
        } else {
            let len = field(e, "id_raw_len");
            assert_eq!(id.raw().len(), len, "{ctx}: id length");
            assert_eq!(
                sha256_hex(id.raw()),
                e["id_raw_sha256"].as_str().expect("id_raw_sha256"),
                "{ctx}: id digest"
            );
            let s = id.as_str().expect("the big id is a string");
            assert_eq!(str_text(s).expect("text").len(), s.unescaped_len());
        }
    }

    if let Some(class) = e.get("error_class") {
        let err = msg.get("error").expect("error member");
        let got = str_text(err.get("class").and_then(|c| c.as_str()).expect("class"));
        assert_eq!(got.as_deref().ok(), class.as_str(), "{ctx}: class");
        let desc = str_text(err.get("desc").and_then(|c| c.as_str()).expect("desc"));
        assert_eq!(
            desc.as_deref().ok(),
            e["error_desc"].as_str(),
            "{ctx}: desc"
        );
    }
    if let Some(event) = e.get("event") {
        let got = msg.get_str("event").expect("event name");
        assert!(got == event.as_str().expect("event"), "{ctx}: event");
    }
    if let Some(ts) = e.get("timestamp") {
        let t = msg.get("timestamp").expect("timestamp");
        for part in ["seconds", "microseconds"] {
            let got = t.get(part).and_then(|v| v.as_i64());
            assert_eq!(got, ts[part].as_i64(), "{ctx}: {part}");
        }
    }
    if let Some(t) = e.get("return_json_type") {
        let got = msg.get("return").expect("return").kind();
        assert_eq!(
            got.as_str(),
            t.as_str().expect("type"),
            "{ctx}: return type"
        );
    }
    true
}

fn check_capture(name: &str) -> (usize, usize) {
    let cap = Capture::load(name);
    let (mut parsed, mut rejected) = (0, 0);
    for (bytes, e) in cap.messages().into_iter().zip(&cap.expect) {
        if check(name, bytes, e) {
            parsed += 1;
        } else {
            rejected += 1;
        }
    }
    (parsed, rejected)
}

#[test]
fn every_qsd_message_matches_expect() {
    let (parsed, rejected) = check_capture("qsd");
    assert_eq!((parsed, rejected), (1402, 2));
}

#[test]
fn qsd_lines_are_the_messages() {
    // In the plain capture, line framing and the expect.jsonl offsets agree.
    let cap = Capture::load("qsd");
    assert_eq!(split_lines(&cap.stream), cap.messages());
}

#[test]
fn inf_ids_are_rejected() {
    let cap = Capture::load("qsd");
    let msgs = cap.messages();
    for seq in [53, 54] {
        assert_eq!(cap.expect[seq]["strict_json"], false);
        assert!(Message::parse(msgs[seq]).is_err(), "seq {seq}");
    }
}

#[test]
fn every_pretty_message_matches_expect() {
    let (parsed, rejected) = check_capture("qsd-pretty");
    assert_eq!((parsed, rejected), (20, 0));
    // They really are multi-line.
    let cap = Capture::load("qsd-pretty");
    assert!(cap.messages().iter().any(|m| split_lines(m).len() > 3));
}

#[test]
fn qemu_style_reprints_every_qsd_message_byte_for_byte() {
    let cap = Capture::load("qsd");
    let mut checked = 0;
    for (bytes, e) in cap.messages().into_iter().zip(&cap.expect) {
        let Ok(msg) = Message::parse(bytes) else {
            continue;
        };
        let body = &bytes[..field(e, "body_len")];
        let printed = msg.as_value().display(qmp_codec::Style::QEMU).to_string();
        assert!(
            printed.as_bytes() == body,
            "seq {}: {printed:.200}",
            field(e, "seq")
        );
        checked += 1;
    }
    assert_eq!(checked, 1402);
}
