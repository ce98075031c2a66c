//! The std transports' driver loop and its two I/O steps, shared by the blocking client, the
//! blocking guest-agent client and the server session: read once into an engine, write out
//! everything it has queued, and [`drive`], which alternates them around the engine's pump.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

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

/// Sets a stream's read timeout, when the stream has one
/// ([`Connection`](super::blocking::Connection)).
pub(crate) type SetTimeout<S> = fn(&S, Option<Duration>) -> io::Result<()>;

/// What one pump of an engine tells [`drive`].
pub(crate) enum Pumped<D> {
    /// The wait is over (once the output is written).
    Done(D),
    /// The output is full: write it out and pump again.
    Flush,
    /// The engine needs input: write out its output, then read.
    Read,
}

/// The one loop of the std transports, for any engine: pump, write the output, read with the
/// time left before `deadline` (set through `set_timeout`, for streams that have read
/// timeouts), until `pump` says the wait is over (`Some`) or the deadline passes (`None`).
/// The output is written before the loop returns, so nothing an engine queued waits for the
/// next call.
pub(crate) fn drive<S: Read + Write, E: Engine, D>(
    stream: &mut S,
    engine: &mut E,
    set_timeout: Option<SetTimeout<S>>,
    deadline: Option<Instant>,
    mut pump: impl FnMut(&mut E) -> Pumped<D>,
) -> Result<Option<D>, Error> {
    loop {
        let pumped = pump(engine);
        write_out(stream, engine)?;
        match pumped {
            Pumped::Done(done) => return Ok(Some(done)),
            Pumped::Flush => continue,
            Pumped::Read => {}
        }
        let left = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(None);
                }
                Some(left)
            }
            None => None,
        };
        if let Some(set) = set_timeout {
            set(stream, left).map_err(Error::Io)?;
        }
        read_once(stream, engine)?;
    }
}
