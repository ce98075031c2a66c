//! Duplicate member names at every depth, seeded: messages of nested objects of every size
//! the check treats differently (a few names, past the 32 of the pairwise stage, past the
//! 256 entries kept on the stack), with names drawn from a small set so that repeats happen,
//! some spelled with escapes, some sharing the pairwise stage's tag (same length and first
//! eight bytes). The generator knows which objects hold a repeat; the parser must reject
//! exactly those messages, at a name that repeats one of its object, and accept the others
//! with every member in place.

use std::collections::HashSet;

use qmp_codec::{Message, ParseError, Reason, Value, ValueKind};

/// xorshift64*: a seeded generator, so a failure reproduces from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A name's text (unescaped) for index `k` of a pool: short names, and long ones that share
/// their first eight bytes and length.
fn name(k: u64) -> String {
    if k.is_multiple_of(2) {
        format!("n{k}")
    } else {
        format!("shared-prefix-{k:06}")
    }
}

/// `text` as a JSON string, sometimes with letters spelled as `\u00XX` escapes.
fn spell(text: &str, rng: &mut Rng) -> String {
    let escape = rng.below(4) == 0;
    let mut s = String::from("\"");
    for c in text.chars() {
        if escape && c.is_ascii_alphabetic() && rng.below(2) == 0 {
            s.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            s.push(c);
        }
    }
    s.push('"');
    s
}

/// Writes an object into `out` and returns whether it (or an object inside it) repeats a
/// name. (Recursive: this test's objects nest at most 6 deep.)
fn object(out: &mut String, rng: &mut Rng, depth: u32) -> bool {
    let size = match rng.below(6) {
        0 | 1 => 1 + rng.below(4),
        2 | 3 => 28 + rng.below(10),
        4 => 200 + rng.below(120),
        _ => 1 + rng.below(12),
    };
    // A pool a little larger than the object when a repeat is wanted, much larger (so that
    // names are all distinct) otherwise.
    let want_repeat = rng.below(3) == 0;
    let mut used = HashSet::new();
    let mut repeated = false;
    let mut fresh = 0u64;
    out.push('{');
    for i in 0..size {
        if i > 0 {
            out.push_str(", ");
        }
        let k = if want_repeat && rng.below(size.max(4)) == 0 && !used.is_empty() {
            *used.iter().next().expect("a used name")
        } else {
            fresh += 1 + rng.below(3);
            fresh
        };
        if !used.insert(k) {
            repeated = true;
        }
        out.push_str(&spell(&name(k), rng));
        out.push_str(": ");
        // About one nested object per object, so messages stay small.
        if depth < 5 && rng.below(size) == 0 {
            if rng.below(2) == 0 {
                repeated |= object(out, rng, depth + 1);
            } else {
                out.push('[');
                repeated |= object(out, rng, depth + 1);
                out.push(']');
            }
        } else {
            out.push_str(&rng.below(1000).to_string());
        }
    }
    out.push('}');
    repeated
}

/// Every object of `v` has distinct names, and as many members as it was written with
/// (counted by the members iterator and by lookups).
fn distinct_everywhere(v: Value<'_>) {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v.kind() {
            ValueKind::Object => {
                let names: HashSet<String> = v.members().map(|(k, _)| k.to_string()).collect();
                assert_eq!(names.len(), v.members().count());
                for name in &names {
                    assert!(v.get(name).is_some(), "{name} not found by get");
                }
                stack.extend(v.members().map(|(_, c)| c));
            }
            ValueKind::Array => stack.extend(v.elements()),
            _ => {}
        }
    }
}

#[test]
fn seeded_nested_objects_are_rejected_exactly_when_they_repeat_a_name() {
    let (mut rejected, mut accepted) = (0, 0);
    for seed in 1..=600u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut text = String::from("{\"return\": ");
        let repeated = object(&mut text, &mut rng, 0);
        text.push_str(", \"id\": 1}");
        match Message::parse(text.as_bytes()) {
            Ok(msg) => {
                assert!(!repeated, "seed {seed}: a repeated name was accepted");
                distinct_everywhere(msg.as_value());
                accepted += 1;
            }
            Err(ParseError::Deserialization(e)) => {
                assert!(repeated, "seed {seed}: refused: {e}");
                assert_eq!(e.reason(), Reason::DuplicateMember, "seed {seed}");
                // The offset is a member name's quote.
                let rest = &text[e.offset()..];
                let end = rest[1..].find('"').expect("a closing quote") + 2;
                assert!(
                    rest[end..].trim_start().starts_with(':'),
                    "seed {seed}: no member name at {}",
                    e.offset()
                );
                rejected += 1;
            }
            Err(e) => panic!("seed {seed}: {e}"),
        }
    }
    // Both outcomes are well represented.
    eprintln!("{rejected} rejected, {accepted} accepted");
    assert!(rejected > 100 && accepted > 100, "{rejected} / {accepted}");
}
