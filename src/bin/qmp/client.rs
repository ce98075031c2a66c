//! A blocking QMP session over a UNIX socket, for `exec`, `events` and `shell`: a socket
//! pump around the sans-IO [`Client`].
//!
//! The engine does the protocol: greeting, negotiation (enabling OOB when offered), ids,
//! matching responses, deadlines. The socket is framed by the bin's [`FrameReader`] (the
//! library's framer) and each frame handed to [`Client::handle_frame`], so that the stream
//! offset of every frame is known for the summary lines `events` prints.

use std::io::{self, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use qmp_codec::client::{Client, ClientConfig, ClientEvent, Violation};
use qmp_codec::encode::{Id, Request};
use qmp_codec::{FramerConfig, Message, Value};

use crate::frames::{FrameReader, Item};
use crate::{summary, Failure};

/// The transmit buffer a [`Session`] needs: room for the longest request the tool sends.
pub const TX_LEN: usize = 64 * 1024;

/// Something that arrived that the caller did not wait for.
pub enum Incoming<'a> {
    /// A message: an event, a response nobody waits for, or one that breaks the protocol.
    Message {
        /// Stream offset of the frame.
        offset: u64,
        /// The frame's length.
        len: u64,
        /// The message.
        msg: Message<'a>,
    },
    /// A frame that is not a message, with its summary line.
    Bad(String),
}

/// A response to a request: the frame's bytes, owned.
pub struct Reply(Vec<u8>);

impl Reply {
    /// The response message.
    pub fn message(&self) -> Message<'_> {
        // Only frames that parsed become replies.
        Message::parse(&self.0).unwrap_or_else(|_| unreachable!("a reply was parsed before"))
    }

    /// `Ok(return value)` or `Err((class, desc))` for an error response.
    pub fn outcome(&self) -> Result<Value<'_>, (String, String)> {
        let msg = self.message();
        if let Some(error) = msg.get("error") {
            let text = |k: &str| {
                error
                    .get(k)
                    .and_then(|v| v.as_str())
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            };
            return Err((text("class"), text("desc")));
        }
        Ok(msg.get("return").unwrap_or_else(|| msg.as_value()))
    }
}

/// What one step of the pump came to.
enum Step<'a> {
    /// Nothing for the caller yet.
    Nothing,
    /// Negotiation succeeded.
    Ready,
    /// The response to our request with this id.
    Response(Id, Message<'a>),
    /// Anything else.
    Other(Incoming<'a>),
    /// The server closed the connection.
    Closed,
}

/// What [`Session::next`] found.
pub enum Polled<'a> {
    /// Nothing for the caller yet: poll again.
    Idle,
    /// Something arrived.
    Incoming(Incoming<'a>),
    /// The server closed the connection.
    Closed,
}

fn closed() -> Failure {
    Failure::Exit(2, "the server closed the connection".to_owned())
}

/// A `--timeout` in seconds: finite, positive, and small enough for a `Duration`.
pub fn parse_timeout(text: &str) -> Result<f64, String> {
    let secs: f64 = text.parse().map_err(|e| format!("{e}"))?;
    match Duration::try_from_secs_f64(secs) {
        Ok(d) if !d.is_zero() => Ok(secs),
        _ => Err("expected a positive number of seconds".to_owned()),
    }
}

/// A `--timeout` that [`parse_timeout`] admitted, as a `Duration`.
pub fn seconds(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)
}

/// A negotiated session.
pub struct Session<'b> {
    reader: FrameReader<UnixStream>,
    writer: UnixStream,
    client: Client<'b>,
    /// When the session began; engine deadlines are milliseconds since then.
    start: Instant,
    /// How long to wait for the negotiation, and for each reply.
    timeout: Option<Duration>,
}

impl<'b> Session<'b> {
    /// Connects to `path` and negotiates, queueing requests in `tx` (see [`TX_LEN`]).
    /// With a `timeout`, the negotiation and each reply must come within it.
    pub fn connect(
        path: &Path,
        tx: &'b mut [u8],
        timeout: Option<Duration>,
        on_other: &mut dyn FnMut(Incoming<'_>),
    ) -> Result<Session<'b>, Failure> {
        let stream = UnixStream::connect(path)
            .map_err(|e| Failure::Exit(2, format!("cannot connect to {}: {e}", path.display())))?;
        let writer = stream
            .try_clone()
            .map_err(|e| Failure::io("socket".to_owned(), &e))?;
        // Request ids start at `__qmp#00001`, as this tool has always numbered them.
        // Frames are handed over one by one, so the engine's receive buffer stays unused.
        let config = ClientConfig::new().with_first_id(1);
        let client = Client::new(&mut [], tx, config)
            .map_err(|e| Failure::Exit(2, format!("cannot start the session: {e}")))?;
        let mut session = Session {
            reader: FrameReader::new(stream, FramerConfig::new(), 64 * 1024),
            writer,
            client,
            start: Instant::now(),
            timeout,
        };
        let ready_by = timeout.and_then(|t| session.start.checked_add(t));
        loop {
            match session.step(ready_by)? {
                Step::Ready => return Ok(session),
                Step::Other(other) => on_other(other),
                Step::Closed => return Err(closed()),
                Step::Response(..) | Step::Nothing => {}
            }
        }
    }

    /// Writes what the engine queued.
    fn flush(&mut self) -> Result<(), Failure> {
        let pending = self.client.pending_transmit();
        if pending.is_empty() {
            return Ok(());
        }
        self.writer
            .write_all(pending)
            .map_err(|e| Failure::Exit(2, format!("cannot send the request: {e}")))?;
        let n = pending.len();
        self.client.consume_transmit(n);
        Ok(())
    }

    /// One turn of the pump: flush, report what the engine has, else read one frame (or
    /// time out). `limit` bounds the wait while no request deadline is pending.
    fn step(&mut self, limit: Option<Instant>) -> Result<Step<'_>, Failure> {
        self.flush()?;
        while let Some(event) = self.client.poll_event() {
            match event {
                ClientEvent::TimedOut(id) => {
                    let secs = self.timeout.unwrap_or_default().as_secs_f64();
                    let id = id.as_str();
                    return Err(Failure::Exit(
                        2,
                        format!("timed out: no reply to request {id} within {secs} s"),
                    ));
                }
                ClientEvent::Interrupted(_) | ClientEvent::Closed => return Ok(Step::Closed),
                _ => {}
            }
        }
        // How long the next read may wait: until the earliest engine deadline, or `limit`.
        let deadline = match self.client.poll_timeout() {
            Some(ms) => self.start.checked_add(Duration::from_millis(ms)),
            None => limit,
        };
        let wait = match deadline {
            None => None,
            Some(at) => match at.checked_duration_since(Instant::now()) {
                Some(d) if !d.is_zero() => Some(d),
                _ => {
                    time_out(&mut self.client, self.start, self.timeout, limit)?;
                    return Ok(Step::Nothing);
                }
            },
        };
        self.writer
            .set_read_timeout(wait)
            .map_err(|e| Failure::io("socket".to_owned(), &e))?;
        let item = match self.reader.next_item() {
            Ok(item) => item,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                time_out(&mut self.client, self.start, self.timeout, limit)?;
                return Ok(Step::Nothing);
            }
            Err(e) => return Err(Failure::io("reading from the server".to_owned(), &e)),
        };
        let mut line = String::new();
        let (offset, bytes) = match item {
            None => {
                self.client.handle_eof();
                return Ok(Step::Nothing);
            }
            Some(Item::Error(e)) => {
                // Writing to a String cannot fail.
                let _ = summary::frame_error(&mut line, &e, 0);
                return Ok(Step::Other(Incoming::Bad(line)));
            }
            Some(Item::Frame { offset, bytes }) => (offset, bytes),
        };
        let len = bytes.len() as u64;
        let message = |msg| Step::Other(Incoming::Message { offset, len, msg });
        let Some(event) = self.client.handle_frame(bytes) else {
            // Only a greeting whose negotiation did not fit; the buffer is flushed above
            // and holds nothing else before negotiation.
            return Err(Failure::Exit(2, "the negotiation does not fit".to_owned()));
        };
        Ok(match event {
            ClientEvent::Greeting(_) => Step::Nothing,
            ClientEvent::Negotiated { .. } => Step::Ready,
            ClientEvent::NegotiationFailed(msg) => {
                let text = |k: &str| {
                    let v = msg.get("error").and_then(|e| e.get(k));
                    v.and_then(|v| v.as_str()).map(|s| s.to_string())
                };
                let (class, desc) = (text("class"), text("desc"));
                return Err(Failure::Exit(
                    2,
                    format!(
                        "negotiation refused: {}: {}",
                        class.unwrap_or_default(),
                        desc.unwrap_or_default()
                    ),
                ));
            }
            ClientEvent::Response(r) => Step::Response(r.id(), r.message()),
            ClientEvent::Event(e) => message(e.message()),
            ClientEvent::Unmatched { message: msg, .. } => message(msg),
            ClientEvent::Violation(Violation::Parse(e)) => {
                // Writing to a String cannot fail.
                let _ = summary::parse_error(&mut line, offset, len, &e);
                Step::Other(Incoming::Bad(line))
            }
            ClientEvent::Violation(
                Violation::Model(msg, _)
                | Violation::UnexpectedGreeting(msg)
                | Violation::UnexpectedMessage(msg),
            ) => message(msg),
            _ => Step::Nothing,
        })
    }

    /// The deadline for a request sent now, in the engine's clock.
    fn request_deadline(&self) -> Option<u64> {
        let t = self.timeout?;
        let ms = u64::try_from(t.as_millis()).unwrap_or(u64::MAX);
        Some(millis_since(self.start).saturating_add(ms))
    }

    /// Runs `name` with `arguments` (a JSON object) and waits for its response; whatever
    /// else arrives meanwhile goes to `on_other`.
    pub fn execute(
        &mut self,
        name: &str,
        arguments: Option<Value<'_>>,
        on_other: &mut dyn FnMut(Incoming<'_>),
    ) -> Result<Reply, Failure> {
        let deadline = self.request_deadline();
        let sent = match arguments {
            Some(args) => self
                .client
                .send(Request::execute(name).arguments(args), deadline),
            None => self.client.send(Request::execute(name), deadline),
        };
        let id = sent.map_err(|e| Failure::Exit(2, format!("cannot send the request: {e}")))?;
        loop {
            match self.step(None)? {
                Step::Response(got, msg) if got == id => return Ok(Reply(msg.as_bytes().to_vec())),
                Step::Other(other) => on_other(other),
                Step::Closed => return Err(closed()),
                Step::Response(..) | Step::Ready | Step::Nothing => {}
            }
        }
    }

    /// Writes a request as it is, bypassing the engine (its id is the caller's business).
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.flush()?;
        self.writer
            .write_all(bytes)
            .map_err(|e| Failure::Exit(2, format!("cannot send the request: {e}")))
    }

    /// Waits for the response to a request sent with [`send_raw`](Self::send_raw): the one
    /// whose id `matches`, or an id-less error (QEMU's answer to input it could not parse).
    pub fn wait_raw(
        &mut self,
        mut matches: impl FnMut(&Value<'_>) -> bool,
        has_id: bool,
        on_other: &mut dyn FnMut(Incoming<'_>),
    ) -> Result<Reply, Failure> {
        let limit = self.timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            let other = match self.step(limit)? {
                Step::Other(other) => other,
                Step::Closed => return Err(closed()),
                _ => continue,
            };
            if let Incoming::Message { msg, .. } = &other {
                let answers = match msg.id() {
                    Some(id) => has_id && matches(&id),
                    None => msg.contains_key("error") || (!has_id && msg.contains_key("return")),
                };
                if answers && (msg.contains_key("return") || msg.contains_key("error")) {
                    return Ok(Reply(msg.as_bytes().to_vec()));
                }
            }
            on_other(other);
        }
    }

    /// One turn of the pump, for callers that take whatever comes (no deadline).
    pub fn next(&mut self) -> Result<Polled<'_>, Failure> {
        Ok(match self.step(None)? {
            Step::Other(other) => Polled::Incoming(other),
            Step::Closed => Polled::Closed,
            _ => Polled::Idle,
        })
    }
}

/// Milliseconds since `start`: the engine's clock.
fn millis_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// A read waited until its deadline: a request's (the engine reports it at the next poll),
/// or the caller's `limit` (an error).
fn time_out(
    client: &mut Client<'_>,
    start: Instant,
    timeout: Option<Duration>,
    limit: Option<Instant>,
) -> Result<(), Failure> {
    if client.poll_timeout().is_some() {
        client.handle_timeout(millis_since(start));
        return Ok(());
    }
    match limit {
        Some(_) => Err(Failure::Exit(
            2,
            format!(
                "timed out: no answer from the server within {} s",
                timeout.unwrap_or_default().as_secs_f64()
            ),
        )),
        None => Ok(()),
    }
}
