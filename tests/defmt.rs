//! The `defmt` log forms, checked on the host through a global logger that keeps the frames.
//!
//! A `defmt` frame holds interned string indices (the fixed texts, resolved from the ELF by
//! the host tools) and the arguments' data; strings that come from the input travel as data.
//! So these tests check what each log form sends: the input's strings that identify a message
//! (event name, command, id), never its whole text; interned names for known error classes.
#![cfg(feature = "defmt")]

use std::sync::Mutex;

use qmp_codec::encode::EncodeError;
use qmp_codec::{ErrorClass, ErrorResponse, Message, ParseError, Reason};

static LOG: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// Serializes the tests: one frame at a time goes to `LOG`.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[defmt::global_logger]
struct Capture;

// SAFETY: `LOG` is a mutex, so concurrent frames cannot corrupt it; `ONE_AT_A_TIME` keeps
// frames from interleaving between the tests.
unsafe impl defmt::Logger for Capture {
    fn acquire() {}
    unsafe fn flush() {}
    unsafe fn release() {}
    unsafe fn write(bytes: &[u8]) {
        LOG.lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(bytes);
    }
}

defmt::timestamp!("");

/// The bytes of the frame that logging `value` sends.
fn frame<T: defmt::Format>(value: T) -> Vec<u8> {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    LOG.lock().unwrap_or_else(|e| e.into_inner()).clear();
    defmt::error!("{}", value);
    std::mem::take(&mut *LOG.lock().unwrap_or_else(|e| e.into_inner()))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn message_short_form_sends_name_and_id_not_the_message() {
    let event = Message::parse(
        br#"{"timestamp": {"seconds": 1700000000, "microseconds": 5}, "event": "STOP"}"#,
    )
    .unwrap();
    let bytes = frame(event);
    assert!(contains(&bytes, b"STOP"), "{bytes:?}");
    assert!(!contains(&bytes, b"microseconds"), "{bytes:?}");

    let command = Message::parse(br#"{"execute": "query-status", "id": "__qmp#00007"}"#).unwrap();
    let bytes = frame(command);
    assert!(contains(&bytes, b"query-status"), "{bytes:?}");
    assert!(contains(&bytes, br#""__qmp#00007""#), "{bytes:?}");

    let ret = Message::parse(br#"{"return": {"status": "running", "running": true}}"#).unwrap();
    let bytes = frame(ret);
    assert!(!contains(&bytes, b"running"), "{bytes:?}");
}

#[test]
fn message_frames_differ_by_kind_and_size() {
    let a = frame(Message::parse(br#"{"return": {}}"#).unwrap());
    let b = frame(Message::parse(br#"{"return": {}}"#).unwrap());
    let c = frame(Message::parse(br#"{"return": {}, "id": 1}"#).unwrap());
    let d = frame(Message::parse(br#"{"error": {"class": "GenericError", "desc": "x"}}"#).unwrap());
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_ne!(a, d);
}

#[test]
fn known_error_classes_are_interned_others_sent() {
    let known = frame(ErrorClass::GenericError);
    assert!(!contains(&known, b"GenericError"), "{known:?}");
    let msg =
        Message::parse(br#"{"error": {"class": "FrobnicationFailed", "desc": "no"}}"#).unwrap();
    let response = ErrorResponse::try_from(msg).unwrap();
    let other = frame(response.class());
    assert!(contains(&other, b"FrobnicationFailed"), "{other:?}");
    // The error message's short form sends its class too, not its desc.
    let bytes = frame(msg);
    assert!(contains(&bytes, b"FrobnicationFailed"), "{bytes:?}");
    assert!(!contains(&bytes, b"\"no\""), "{bytes:?}");
}

#[test]
fn errors_send_offsets_not_input() {
    let input: &[u8] = br#"{"return": {"secret-text": tru}}"#;
    let err: ParseError<'_> = Message::parse(input).unwrap_err();
    let bytes = frame(err);
    assert!(!contains(&bytes, b"secret-text"), "{bytes:?}");
    // Different reasons and offsets make different frames.
    let other = frame(Message::parse(b"[1]").unwrap_err());
    assert_ne!(bytes, other);
    assert_ne!(frame(Reason::InvalidLiteral), frame(Reason::InvalidNumber));
    assert_ne!(
        frame(EncodeError::BufferTooSmall { required: 10 }),
        frame(EncodeError::BufferTooSmall { required: 11 })
    );
}
