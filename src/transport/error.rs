//! The errors of the std transports: a server's error reply, or why no reply came.

use std::boxed::Box;
use std::fmt;
use std::io;
use std::string::String;

use crate::client::{ClientError, Refusal};
use crate::json::Str;
use crate::model::{ErrorClass, ErrorInfo};
use crate::{Classified, Message, OwnedMessage};

/// The server answered a command with an error: `{"error": {"class": …, "desc": …}}`.
#[derive(Clone)]
pub struct QmpError {
    /// The class as sent (a validated JSON string body, escapes kept).
    class_raw: Box<[u8]>,
    class: String,
    desc: String,
    response: Box<OwnedMessage>,
}

impl QmpError {
    /// Builds the error from a validated `error` object and the response holding it.
    pub(crate) fn new(info: &ErrorInfo<'_>, response: Message<'_>) -> QmpError {
        QmpError {
            class_raw: info.class_str().raw().into(),
            class: info.class_str().to_cow().into_owned(),
            desc: info.desc().to_cow().into_owned(),
            response: Box::new(response.to_owned_message()),
        }
    }

    /// The error class, e.g. [`ErrorClass::CommandNotFound`].
    pub fn class(&self) -> ErrorClass<'_> {
        ErrorClass::from(Str::from_body(&self.class_raw))
    }

    /// The class name, unescaped (e.g. `"GenericError"`).
    pub fn class_name(&self) -> &str {
        &self.class
    }

    /// The human-readable description, unescaped.
    pub fn desc(&self) -> &str {
        &self.desc
    }

    /// The whole error response.
    pub fn response(&self) -> &OwnedMessage {
        &self.response
    }
}

impl fmt::Debug for QmpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QmpError")
            .field("class", &self.class)
            .field("desc", &self.desc)
            .finish()
    }
}

impl fmt::Display for QmpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.class, self.desc)
    }
}

impl std::error::Error for QmpError {}

/// Why a transport call failed.
///
/// [`Qmp`](Self::Qmp) is the server's answer; every other variant means no answer came.
/// After [`Io`](Self::Io) from a write, or [`Closed`](Self::Closed), the session is over;
/// after [`Timeout`](Self::Timeout) it goes on (a late reply is dropped as unmatched).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The server answered the command with an error.
    Qmp(QmpError),
    /// The server refused `qmp_capabilities`; the session is closed.
    Negotiation(QmpError),
    /// The reply matched the command but is not a valid response (e.g. an `error` member
    /// without `class`); it is kept whole.
    InvalidResponse(Box<OwnedMessage>),
    /// No reply (or greeting) within the call's deadline; the session goes on, and a late
    /// reply is dropped and counted as a protocol violation.
    Timeout,
    /// No greeting came within the connection's deadline. A QEMU monitor serves one client
    /// at a time and keeps a second one waiting without a word, so another client probably
    /// holds it (or the socket is not a QMP monitor: a guest agent never greets).
    NoGreeting,
    /// A limit refused a message while this command was the oldest waiting one: its reply
    /// may have been that message (see [`Config::with_max_message_len`](super::blocking::Config::with_max_message_len)).
    /// The session goes on.
    ReplyRefused(Refusal),
    /// Connecting to `address` failed.
    Connect {
        /// The socket path or address.
        address: String,
        /// Why.
        source: io::Error,
    },
    /// The connection is closed (by the server, or by a failed write).
    Closed,
    /// The request was not sent: the engine refused it (too many pending requests, OOB not
    /// negotiated, arguments that are not an object, a request larger than the transmit
    /// buffer).
    Refused(ClientError),
    /// The guest agent command was not sent: the agent engine refused it (a request larger
    /// than the transmit buffer, a closed session).
    AgentRefused(crate::agent::AgentError),
    /// An I/O error from the stream.
    Io(io::Error),
}

impl Error {
    /// The server's error reply, if that is what this is.
    pub fn as_qmp(&self) -> Option<&QmpError> {
        match self {
            Error::Qmp(e) | Error::Negotiation(e) => Some(e),
            _ => None,
        }
    }

    /// Maps a read or write error: timeouts become [`Error::Timeout`].
    pub(crate) fn from_io(e: io::Error) -> Error {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Error::Timeout,
            _ => Error::Io(e),
        }
    }

    /// The error for a refused `qmp_capabilities`.
    pub(crate) fn negotiation(message: &Message<'_>) -> Error {
        match message.classify() {
            Ok(Classified::Error(e)) => Error::Negotiation(QmpError::new(&e.info(), *message)),
            _ => Error::InvalidResponse(Box::new(message.to_owned_message())),
        }
    }

    /// Turns a response matched to a request into the reply or the server's error: the
    /// one convention of every transport (a QMP error reply is `Err(Error::Qmp)`).
    pub(crate) fn check(message: &Message<'_>) -> Result<OwnedMessage, Error> {
        match message.classify() {
            Ok(Classified::Return(_)) => Ok(message.to_owned_message()),
            Ok(Classified::Error(e)) => Err(Error::Qmp(QmpError::new(&e.info(), *message))),
            _ => Err(Error::InvalidResponse(Box::new(message.to_owned_message()))),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Qmp(e) => write!(f, "QMP error: {e}"),
            Error::Negotiation(e) => write!(f, "QMP negotiation refused: {e}"),
            Error::InvalidResponse(m) => write!(f, "invalid QMP response: {}", m.compact_string()),
            Error::Timeout => f.write_str("timed out waiting for the QMP server"),
            Error::ReplyRefused(r) => write!(f, "no usable reply: {r}"),
            Error::NoGreeting => f.write_str(
                "no greeting from the QMP server in time (is another client holding the monitor?)",
            ),
            Error::Connect { address, source } => {
                write!(f, "cannot connect to {address}: {source}")
            }
            Error::Closed => f.write_str("the QMP connection is closed"),
            Error::Refused(e) => write!(f, "QMP request not sent: {e}"),
            Error::AgentRefused(e) => write!(f, "guest agent command not sent: {e}"),
            Error::Io(e) => write!(f, "QMP I/O error: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Qmp(e) | Error::Negotiation(e) => Some(e),
            Error::Refused(e) => Some(e),
            Error::AgentRefused(e) => Some(e),
            Error::Io(e) | Error::Connect { source: e, .. } => Some(e),
            _ => None,
        }
    }
}

impl From<ClientError> for Error {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Closed => Error::Closed,
            other => Error::Refused(other),
        }
    }
}

impl From<crate::agent::AgentError> for Error {
    fn from(e: crate::agent::AgentError) -> Self {
        match e {
            crate::agent::AgentError::Closed => Error::Closed,
            other => Error::AgentRefused(other),
        }
    }
}

impl From<QmpError> for Error {
    fn from(e: QmpError) -> Self {
        Error::Qmp(e)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::from_io(e)
    }
}
