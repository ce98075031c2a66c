//! Validated models: typed, borrowed views over a [`Message`].
//!
//! Each model checks the members it needs, in a fixed order, and reports the first failure
//! as a [`ModelError`] whose text is the reference's (`qemu.qmp` for greetings and errors,
//! QEMU's dispatcher for commands). Members a model does not know are ignored (commands
//! excepted, as in QEMU). Nothing is copied: a model holds the [`Message`] and the few
//! values it found, so its accessors are free.
//!
//! [`Message::classify`] picks the model by [`Message::kind`] and validates it:
//!
//! ```
//! use qmp_codec::{Classified, Message};
//! let msg = Message::parse(br#"{"return": {"status": "running"}, "id": 3}"#)?;
//! match msg.classify() {
//!     Ok(Classified::Return(ret)) => assert_eq!(ret.id().unwrap().as_i64(), Some(3)),
//!     other => panic!("unexpected {other:?}"),
//! }
//! # Ok::<(), qmp_codec::ParseError>(())
//! ```

mod command;
mod error;
mod event;
mod greeting;
mod response;

pub use self::command::Command;
pub use self::error::{Expected, ModelError};
pub use self::event::{Event, Timestamp};
pub use self::greeting::{Greeting, Version};
pub(crate) use self::response::{error_of, return_of};
pub use self::response::{ErrorClass, ErrorInfo, ErrorResponse, ReturnResponse};

use crate::message::{Kind, Message};

/// A message validated as the model its [`Kind`] names.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Classified<'a> {
    /// A server greeting.
    Greeting(Greeting<'a>),
    /// An event.
    Event(Event<'a>),
    /// An error response.
    Error(ErrorResponse<'a>),
    /// A success response.
    Return(ReturnResponse<'a>),
    /// A command.
    Command(Command<'a>),
    /// A message with none of the members that mark a kind.
    Unknown(Message<'a>),
}

impl<'a> Classified<'a> {
    /// The whole message.
    pub fn message(&self) -> Message<'a> {
        match self {
            Classified::Greeting(m) => m.message(),
            Classified::Event(m) => m.message(),
            Classified::Error(m) => m.message(),
            Classified::Return(m) => m.message(),
            Classified::Command(m) => m.message(),
            Classified::Unknown(m) => *m,
        }
    }

    /// The kind, as [`Message::kind`] gives it.
    pub fn kind(&self) -> Kind {
        match self {
            Classified::Greeting(_) => Kind::Greeting,
            Classified::Event(_) => Kind::Event,
            Classified::Error(_) => Kind::Error,
            Classified::Return(_) => Kind::Return,
            Classified::Command(_) => Kind::Command,
            Classified::Unknown(_) => Kind::Unknown,
        }
    }
}

impl<'a> Message<'a> {
    /// Validates the message as the model for its [`kind`](Self::kind) (precedence
    /// `QMP` > `event` > `error` > `return` > `execute`/`exec-oob` > unknown).
    ///
    /// A message that has the marking member but fails its model is an error, not
    /// [`Classified::Unknown`]: `{"event": 1}` is refused with
    /// `'Event' member 'event' must be a string`.
    pub fn classify(&self) -> Result<Classified<'a>, ModelError<'a>> {
        let m = *self;
        Ok(match m.kind() {
            Kind::Greeting => Classified::Greeting(Greeting::new(m)?),
            Kind::Event => Classified::Event(Event::new(m)?),
            Kind::Error => Classified::Error(ErrorResponse::new(m)?),
            Kind::Return => Classified::Return(ReturnResponse::new(m)?),
            Kind::Command => Classified::Command(Command::new(m)?),
            Kind::Unknown => Classified::Unknown(m),
        })
    }
}

impl<'a> TryFrom<Message<'a>> for Classified<'a> {
    type Error = ModelError<'a>;
    fn try_from(message: Message<'a>) -> Result<Self, ModelError<'a>> {
        message.classify()
    }
}
