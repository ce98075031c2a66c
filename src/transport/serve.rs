//! A blocking QMP server connection: the sans-IO [`Server`] engine driven over a stream,
//! with the same read path (the engine's [`ReadBuffer`](crate::ReadBuffer)) and the same
//! write-out rules as the clients.

use std::format;
use std::io::{self, Read, Write};

use super::stream::{self, Pumped};
use super::Error;
use crate::encode::EncodeError;
use crate::server::{IncomingCommand, Server, ServerConfig, ServerEvent, ServerState};

/// What a command handler wants after answering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Flow {
    /// Go on serving this connection.
    Continue,
    /// Write what is queued, then end the connection (e.g. after `quit`).
    Close,
}

/// One server connection over a blocking stream.
///
/// The engine sends the greeting, frames input as QEMU does, negotiates and answers bad
/// input with QEMU's errors; [`run`](Self::run) hands every valid command to a handler,
/// which answers through the [`IncomingCommand`] (events first if it likes, as QEMU sends
/// `STOP` before the reply to `stop`). The transmit queue grows for an answer that does
/// not fit, up to eight times the longest request, so every request the server accepts is
/// answered whatever the size of its id. Memory is bounded by `rx_len`, that queue, and
/// nothing else. Set the stream's write timeout so that a client that never reads cannot
/// hold the server.
#[derive(Debug)]
pub struct ServerSession<S> {
    stream: S,
    engine: Server<'static>,
    unanswered: u64,
}

impl<S: Read + Write> ServerSession<S> {
    /// A session over `stream`, receiving requests of up to `rx_len` bytes (the frame limit
    /// is capped there), transmitting from a queue of `tx_len` bytes that grows as needed.
    /// The greeting is queued at once.
    pub fn new(
        stream: S,
        rx_len: usize,
        tx_len: usize,
        config: ServerConfig<'static>,
    ) -> Result<Self, Error> {
        let engine = Server::with_capacity(rx_len, tx_len, config)
            .map_err(|e| Error::Io(io::Error::other(format!("cannot queue the greeting: {e}"))))?;
        Ok(ServerSession {
            stream,
            engine,
            unanswered: 0,
        })
    }

    /// Serves until the client leaves ([`Flow::Continue`]: accept the next one) or the
    /// handler returns [`Flow::Close`] (its output written first). A handler whose answer
    /// cannot be encoded gets a `GenericError` sent for it, so no request goes unanswered.
    pub fn run<H>(&mut self, mut handler: H) -> Result<Flow, Error>
    where
        H: FnMut(&mut IncomingCommand<'_>) -> Result<Flow, EncodeError>,
    {
        let unanswered = &mut self.unanswered;
        let pump = |engine: &mut Server<'static>| {
            let mut flow = Flow::Continue;
            while let Some(event) = engine.poll_event() {
                match event {
                    ServerEvent::Command(mut cmd) => match handler(&mut cmd) {
                        Ok(f) => flow = f,
                        Err(e) => {
                            *unanswered = unanswered.saturating_add(1);
                            let _ = cmd
                                .respond_error("GenericError", format_args!("cannot answer: {e}"));
                        }
                    },
                    ServerEvent::ReplyTooLarge { .. } => {
                        *unanswered = unanswered.saturating_add(1);
                    }
                    _ => {}
                }
                if flow == Flow::Close {
                    return Pumped::Done(Flow::Close);
                }
            }
            if engine.is_blocked() {
                // An answer of the engine's own waits for the room the write makes.
                Pumped::Flush
            } else if engine.state() == ServerState::Closed {
                Pumped::Done(Flow::Continue)
            } else {
                Pumped::Read
            }
        };
        // No deadline: a server waits for its client's next request.
        let flow = stream::drive(&mut self.stream, &mut self.engine, None, None, pump)?;
        let flow = flow.unwrap_or(Flow::Continue);
        if flow == Flow::Close {
            self.engine.close();
        }
        Ok(flow)
    }

    /// How many answers could not be sent (too large even for the grown queue); each was
    /// replaced by an error reply where the engine could still write one.
    pub fn unanswered(&self) -> u64 {
        self.unanswered
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// Gives the stream back.
    pub fn into_inner(self) -> S {
        self.stream
    }
}
