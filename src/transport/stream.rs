//! The std transports' two I/O steps, shared by the blocking client and the server session:
//! read once into an engine, and write out everything it has queued.

use std::io::{self, Read, Write};

use super::Error;

/// What the I/O steps need of an engine: the driver's one trait, for the client's, the
/// server's and the guest agent's engines alike.
pub(crate) use crate::driver::Engine;

/// Reads once from `stream` into `engine` (the end of stream included). A read timeout is
/// `Ok(())`: the caller's loop checks its deadline. Any other error closes the session.
pub(crate) fn read_once<S: Read, E: Engine>(stream: &mut S, engine: &mut E) -> Result<(), Error> {
    let spare = engine.spare();
    if spare.is_empty() {
        // Only after the end of stream (the engines take every byte after a poll), which the
        // caller's next poll reports.
        return Err(Error::Closed);
    }
    loop {
        match stream.read(spare) {
            Ok(0) => {
                engine.handle_eof();
                return Ok(());
            }
            Ok(n) => {
                engine.commit(n);
                return Ok(());
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let e = Error::from_io(e);
                if matches!(e, Error::Timeout) {
                    return Ok(());
                }
                engine.close();
                return Err(e);
            }
        }
    }
}

/// Writes everything `engine` has queued to `stream`. A failed write closes the session:
/// part of a message may have been sent.
pub(crate) fn write_out<S: Write, E: Engine>(stream: &mut S, engine: &mut E) -> Result<(), Error> {
    while !engine.pending_transmit().is_empty() {
        match stream.write(engine.pending_transmit()) {
            Ok(0) => {
                engine.close();
                return Err(Error::Closed);
            }
            Ok(n) => engine.consume_transmit(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                engine.close();
                return Err(Error::from_io(e));
            }
        }
    }
    stream.flush().map_err(|e| {
        engine.close();
        Error::from_io(e)
    })
}
