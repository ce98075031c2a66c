//! A blocking QMP client session over a UNIX socket, for `exec`, `events` and `shell`.
//!
//! Framing and parsing are the library's ([`FrameReader`] over the sans-IO framer,
//! [`Message`], the models); requests are written with the library's encoder. What lives here
//! is the little session logic these commands need: read the greeting, negotiate (enabling
//! OOB when offered, as `qemu.qmp` does), then match responses to requests by id.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::Path;

use qmp_codec::encode::{validate_json, Encode, Id, IdGenerator, Request};
use qmp_codec::{FramerConfig, Greeting, Kind, Message, Value};

use crate::frames::{FrameReader, Item};
use crate::Failure;

/// Something that arrived while waiting, handed to the caller's callback.
pub enum Incoming<'a> {
    /// A message that is not the awaited response (an event, a stray response).
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

/// A negotiated session.
pub struct Session {
    reader: FrameReader<UnixStream>,
    writer: UnixStream,
    ids: IdGenerator,
    oob: bool,
}

/// A response to one of our requests: the frame's bytes, owned.
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

fn closed() -> Failure {
    Failure::Exit(2, "the server closed the connection".to_owned())
}

impl Session {
    /// Connects to `path`, reads the greeting and negotiates.
    pub fn connect(
        path: &Path,
        on_other: &mut dyn FnMut(Incoming<'_>),
    ) -> Result<Session, Failure> {
        let stream = UnixStream::connect(path)
            .map_err(|e| Failure::Exit(2, format!("cannot connect to {}: {e}", path.display())))?;
        let writer = stream
            .try_clone()
            .map_err(|e| Failure::io("socket".to_owned(), &e))?;
        let mut session = Session {
            reader: FrameReader::new(stream, FramerConfig::new(), 64 * 1024),
            writer,
            ids: IdGenerator::new(),
            oob: false,
        };
        session.oob = session.greeting()?;
        let id = session.ids.next_id();
        if session.oob {
            // A constant, valid JSON object.
            let enable = validate_json(br#"{"enable":["oob"]}"#)
                .map_err(|e| Failure::Exit(2, e.to_string()))?;
            session.send(
                &Request::execute("qmp_capabilities")
                    .arguments(enable)
                    .id(id),
            )?;
        } else {
            session.send(&Request::execute("qmp_capabilities").id(id))?;
        }
        let reply = session.wait(Some(id), on_other)?;
        if let Err((class, desc)) = reply.outcome() {
            return Err(Failure::Exit(
                2,
                format!("negotiation refused: {class}: {desc}"),
            ));
        }
        Ok(session)
    }

    /// Reads the greeting; returns whether it offers OOB.
    fn greeting(&mut self) -> Result<bool, Failure> {
        let item = self
            .reader
            .next_item()
            .map_err(|e| Failure::io("reading the greeting".to_owned(), &e))?;
        let bytes = match item {
            None => return Err(closed()),
            Some(Item::Error(e)) => return Err(Failure::Exit(2, format!("bad greeting: {e}"))),
            Some(Item::Frame { bytes, .. }) => bytes,
        };
        let msg =
            Message::parse(bytes).map_err(|e| Failure::Exit(2, format!("bad greeting: {e}")))?;
        let greeting =
            Greeting::try_from(msg).map_err(|e| Failure::Exit(2, format!("bad greeting: {e}")))?;
        Ok(greeting.has_capability("oob"))
    }

    /// Writes one request.
    pub fn send(&mut self, request: &impl Encode) -> Result<(), Failure> {
        let mut text = String::new();
        request
            .encode_fmt(&mut text)
            .map_err(|e| Failure::Exit(2, format!("cannot encode the request: {e}")))?;
        self.send_raw(text.as_bytes())
    }

    /// Writes bytes as they are.
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.writer
            .write_all(bytes)
            .map_err(|e| Failure::Exit(2, format!("cannot send the request: {e}")))
    }

    /// A fresh request id.
    pub fn next_id(&mut self) -> Id {
        self.ids.next_id()
    }

    /// Runs `name` with `arguments` (a JSON object) and waits for its response.
    pub fn execute(
        &mut self,
        name: &str,
        arguments: Option<Value<'_>>,
        on_other: &mut dyn FnMut(Incoming<'_>),
    ) -> Result<Reply, Failure> {
        let id = self.next_id();
        match arguments {
            Some(args) => self.send(&Request::execute(name).arguments(args).id(id))?,
            None => self.send(&Request::execute(name).id(id))?,
        }
        self.wait(Some(id), on_other)
    }

    /// Waits for the response whose id is `id`, or with `None` for the next response without
    /// an id. An id-less error also answers a request with an id: it is how QEMU answers
    /// input it could not parse. Everything else goes to `on_other`.
    pub fn wait(
        &mut self,
        id: Option<Id>,
        on_other: &mut dyn FnMut(Incoming<'_>),
    ) -> Result<Reply, Failure> {
        self.wait_for(
            |msg| match (msg.id(), id) {
                (Some(got), Some(want)) => want.matches(&got),
                (None, None) => true,
                (None, Some(_)) => msg.kind() == Kind::Error,
                (Some(_), None) => false,
            },
            on_other,
        )
    }

    /// Waits for a response (return or error) that `matches`.
    pub fn wait_for(
        &mut self,
        mut matches: impl FnMut(&Message<'_>) -> bool,
        on_other: &mut dyn FnMut(Incoming<'_>),
    ) -> Result<Reply, Failure> {
        loop {
            match self.next()? {
                None => return Err(closed()),
                Some(Incoming::Message { msg, .. })
                    if matches!(msg.kind(), Kind::Return | Kind::Error) && matches(&msg) =>
                {
                    return Ok(Reply(msg.as_bytes().to_vec()));
                }
                Some(other) => on_other(other),
            }
        }
    }

    /// The next message or bad frame; `None` when the peer has closed the connection.
    pub fn next(&mut self) -> Result<Option<Incoming<'_>>, Failure> {
        let item = self
            .reader
            .next_item()
            .map_err(|e| Failure::io("reading from the server".to_owned(), &e))?;
        let mut line = String::new();
        // Writing to a String cannot fail.
        Ok(match item {
            None => None,
            Some(Item::Frame { offset, bytes }) => {
                let len = bytes.len() as u64;
                match Message::parse(bytes) {
                    Ok(msg) => Some(Incoming::Message { offset, len, msg }),
                    Err(e) => {
                        let _ = crate::summary::parse_error(&mut line, offset, len, &e);
                        Some(Incoming::Bad(line))
                    }
                }
            }
            Some(Item::Error(e)) => {
                let _ = crate::summary::frame_error(&mut line, &e, 0);
                Some(Incoming::Bad(line))
            }
        })
    }
}
