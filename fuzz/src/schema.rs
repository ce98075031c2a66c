//! The `schema` harness: the schema view, the command checker and the drift walker on
//! arbitrary bytes.
//!
//! Input `SCHEMA \0 COMMAND`: `SCHEMA` is indexed both into caller storage and into a
//! `Vec` (the two must agree, including on the error); when it indexes, every entry must be
//! found again by its name, and `COMMAND` is checked against it. Input without a `\0` is a
//! command checked against the bundled qemu-storage-daemon 10.0.2 schema. The checker must
//! give the same verdict twice, with one of QEMU's texts; the drift walker then runs over
//! the command's arguments as if they were a return value.
//!
//! This file is part of the fuzz crate's library and is also compiled into the crate's test
//! suite (`tests/fuzz_schema.rs`), which runs it on the seed corpus.

use qmp_codec::schema::{check_command, drift_return, Schema, Slot};
use qmp_codec::{Command, Message};

/// The bundled schema capture.
const CAPTURE: &[u8] = include_bytes!("../../tests/data/schema/qsd-10.0.2.json");

/// Target `schema`: see the module docs.
pub fn schema(data: &[u8]) {
    match data.iter().position(|&b| b == 0) {
        Some(split) => {
            let (schema_bytes, rest) = data.split_at(split);
            let command = rest.get(1..).unwrap_or(&[]);
            let Ok(list) = qmp_codec::encode::validate_json(schema_bytes) else {
                return;
            };
            let mut slots = [Slot::EMPTY; 64];
            let in_storage = Schema::new(list, &mut slots);
            let in_vec = Schema::build(list);
            match (&in_storage, &in_vec) {
                (Ok(a), Ok(b)) => assert_eq!(a.len(), b.len()),
                (Err(a), Err(b)) => assert_eq!(a, b),
                (Err(qmp_codec::schema::SchemaError::StorageTooSmall { needed }), Ok(b)) => {
                    assert_eq!(*needed, b.len());
                    assert!(*needed > 64);
                }
                (a, b) => panic!("storage and Vec disagree: {a:?} / {b:?}"),
            }
            if let Ok(schema) = in_vec {
                for entry in schema.entries() {
                    let again = schema
                        .get(entry.name())
                        .expect("every entry is found by name");
                    assert_eq!(again.value(), entry.value());
                }
                check(&schema, command);
            }
        }
        None => check(capture(), data),
    }
}

/// The capture's schema, indexed once per process.
fn capture() -> &'static Schema<'static, Vec<Slot>> {
    static SCHEMA: std::sync::OnceLock<Schema<'static, Vec<Slot>>> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        let msg = Message::parse(CAPTURE).expect("the capture parses");
        let list = qmp_codec::schema::reply_list(&msg).expect("the capture is a schema");
        Schema::build(list).expect("the capture indexes")
    })
}

fn check(schema: &Schema<'_, Vec<Slot>>, command: &[u8]) {
    let Ok(msg) = Message::parse(command) else {
        return;
    };
    let Ok(cmd) = Command::try_from(msg) else {
        return;
    };
    let first = check_command(schema, &cmd);
    let second = check_command(schema, &cmd);
    match (&first, &second) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.rejection, b.rejection);
            assert_eq!(a.notes, b.notes);
            if let Some(r) = &a.rejection {
                let text = r.to_string();
                const TEXTS: [&str; 3] = [
                    "Parameter '",
                    "Invalid parameter type for '",
                    "The command ",
                ];
                assert!(TEXTS.iter().any(|t| text.starts_with(t)), "{text}");
            }
        }
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("two checks of one command disagree"),
    }
    let args = cmd.arguments().unwrap_or(msg.as_value());
    let mut seen = 0usize;
    let count = drift_return(schema, cmd.name(), args, |d| {
        seen += 1;
        assert!(!d.to_string().is_empty());
    });
    assert_eq!(count, seen);
}
