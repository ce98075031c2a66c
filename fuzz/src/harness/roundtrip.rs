//! The `roundtrip` harness (feature `arbitrary`): generated messages through the encoder and
//! back, then a near-valid mutation of them through the other harnesses.

use arbitrary::{Arbitrary, Unstructured};

use qmp_codec::arbitrary::{mutate, ArbMessage, Mutation};
use qmp_codec::{Classified, Message, Value, ValueKind};

/// Target `roundtrip`: the bytes drive [`ArbMessage::arbitrary`]; its encoding must parse,
/// classify as its kind and read back every value it was built from (numbers by value, since
/// server messages re-print them as QEMU does). The encoding, and a [`mutate`]d copy of it,
/// then go through the `message` and `models` harnesses.
pub fn roundtrip(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(generated) = ArbMessage::arbitrary(&mut u) else {
        return;
    };
    let json = generated.to_json();
    let msg = match Message::parse(&json) {
        Ok(msg) => msg,
        Err(e) => panic!("encoder output does not parse: {e}"),
    };
    let classified = match msg.classify() {
        Ok(c) => c,
        Err(e) => panic!("encoder output does not classify: {e}"),
    };
    match (&generated, classified) {
        (ArbMessage::Command(c), Classified::Command(cmd)) => {
            assert!(cmd.name() == c.name.as_str());
            assert_eq!(cmd.is_oob(), c.oob);
            same_opt(cmd.arguments(), c.arguments.as_ref().map(|a| a.value()));
            same_opt(cmd.id(), c.id.as_ref().map(|i| i.value()));
            // Requests are written compactly, exactly as generated.
            assert_eq!(
                cmd.arguments().map(|a| a.raw()),
                c.arguments.as_ref().map(|a| a.as_str().as_bytes())
            );
        }
        (ArbMessage::Return(r), Classified::Return(ret)) => {
            same(ret.value(), r.value.value());
            same_opt(ret.id(), r.id.as_ref().map(|i| i.value()));
        }
        (ArbMessage::Error(e), Classified::Error(err)) => {
            assert!(err.info().class_str() == e.class.as_str());
            assert!(err.desc() == e.desc.as_str());
            same_opt(err.id(), e.id.as_ref().map(|i| i.value()));
        }
        (ArbMessage::Event(e), Classified::Event(ev)) => {
            assert!(ev.name() == e.name.as_str());
            assert_eq!(ev.timestamp(), Some(e.timestamp));
            same_opt(ev.data(), e.data.as_ref().map(|d| d.value()));
        }
        (g, c) => panic!("{g:?} classified as {c:?}"),
    }
    super::message(&json);
    super::models(&json);

    let Ok(mutation) = Mutation::arbitrary(&mut u) else {
        return;
    };
    if let Ok(near) = mutate(&json, mutation, &mut u) {
        // Deeply nested copies only go through the parser and models: the `message`
        // harness pretty-prints them, which is quadratic in depth and would slow every run
        // down for no new coverage (the `message` target nests deeply on its own).
        if mutation == Mutation::DeepNesting {
            if let Ok(msg) = Message::parse(&near) {
                let _ = msg.classify();
            }
        } else {
            super::message(&near);
        }
        super::models(&near);
    }
}

fn same_opt(a: Option<Value<'_>>, b: Option<Value<'_>>) {
    match (a, b) {
        (Some(a), Some(b)) => same(a, b),
        (None, None) => {}
        (a, b) => panic!("{a:?} vs {b:?}"),
    }
}

/// Asserts two values hold the same data, walking both with an explicit stack.
fn same(a: Value<'_>, b: Value<'_>) {
    let mut stack = heapless::Vec::<(Value<'_>, Value<'_>), 64>::new();
    let _ = stack.push((a, b));
    while let Some((a, b)) = stack.pop() {
        assert_eq!(a.kind(), b.kind(), "{a:?} vs {b:?}");
        match a.kind() {
            ValueKind::Object => {
                let (mut x, mut y) = (a.members(), b.members());
                loop {
                    match (x.next(), y.next()) {
                        (Some((ka, va)), Some((kb, vb))) => {
                            assert!(ka == kb, "member {ka:?} vs {kb:?}");
                            assert!(stack.push((va, vb)).is_ok(), "generated value too wide");
                        }
                        (None, None) => break,
                        _ => panic!("member counts differ: {a:?} vs {b:?}"),
                    }
                }
            }
            ValueKind::Array => {
                let (mut x, mut y) = (a.elements(), b.elements());
                loop {
                    match (x.next(), y.next()) {
                        (Some(va), Some(vb)) => {
                            assert!(stack.push((va, vb)).is_ok(), "generated value too wide");
                        }
                        (None, None) => break,
                        _ => panic!("element counts differ: {a:?} vs {b:?}"),
                    }
                }
            }
            ValueKind::String => assert!(a.as_str() == b.as_str(), "{a:?} vs {b:?}"),
            ValueKind::Number => match (a.as_i64(), b.as_i64()) {
                (Some(x), Some(y)) => assert_eq!(x, y),
                _ => assert_eq!(a.as_f64(), b.as_f64(), "{a:?} vs {b:?}"),
            },
            ValueKind::Bool | ValueKind::Null => assert_eq!(a.raw(), b.raw()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_harness_runs_on_varied_input() {
        let mut data = [0u8; 600];
        for seed in 0..200u32 {
            let mut x = seed.wrapping_mul(2_654_435_761) | 1;
            for b in data.iter_mut() {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *b = x as u8;
            }
            roundtrip(&data[..(seed as usize * 3) % data.len()]);
        }
    }

    #[test]
    fn same_compares_by_value() {
        let a = qmp_codec::encode::validate_json(b"{\"a\":[1.0,-0,\"\\u00e9\"]}").unwrap();
        let b = qmp_codec::encode::validate_json(b"{\"a\": [1, 0, \"\xc3\xa9\"]}").unwrap();
        same(a, b);
    }

    #[test]
    #[should_panic(expected = "vs")]
    fn same_sees_a_different_string() {
        let a = qmp_codec::encode::validate_json(b"{\"a\":[1,\"\\u00e9\"]}").unwrap();
        let c = qmp_codec::encode::validate_json(b"{\"a\": [1, \"e\"]}").unwrap();
        same(a, c);
    }
}
