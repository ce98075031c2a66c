//! File descriptor passing on Unix sockets (feature `fd-passing`): a command sent together
//! with a descriptor in one `sendmsg` (`SCM_RIGHTS`), for QEMU's `getfd` and `add-fd`.

use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::os::fd::BorrowedFd;
use std::os::unix::net::UnixStream;

use rustix::net::{sendmsg, SendAncillaryBuffer, SendAncillaryMessage, SendFlags};

use super::blocking::Client;
use super::{return_value, Error};
use crate::encode::{Payload, Request};
use crate::OwnedValue;

impl Client<UnixStream> {
    /// Runs `{"execute": name, "arguments": …}` with `fd` attached to the command's bytes
    /// (one `sendmsg` with `SCM_RIGHTS`), as QEMU's `getfd` and `add-fd` expect. The
    /// descriptor is duplicated into the server; `fd` stays open here.
    ///
    /// ```no_run
    /// use qmp_codec::encode::validate_json;
    /// use qmp_codec::transport::blocking::Client;
    /// use std::os::fd::AsFd;
    ///
    /// let mut qmp = Client::connect_unix("/run/qemu/qmp.sock")?;
    /// let file = std::fs::File::open("/dev/null")?;
    /// let args = validate_json(br#"{"fdname": "null"}"#)?;
    /// qmp.execute_with_fd("getfd", Some(args), file.as_fd())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn execute_with_fd<A: Payload>(
        &mut self,
        name: &str,
        arguments: Option<A>,
        fd: BorrowedFd<'_>,
    ) -> Result<OwnedValue, Error> {
        let deadline = self.call_deadline();
        // Earlier output goes first, so the descriptor travels with this command.
        self.flush()?;
        let id = match arguments {
            Some(a) => self.send(Request::execute(name).with_arguments(a)),
            None => self.send(Request::execute(name)),
        }?;
        let (stream, engine) = self.transmit_parts();
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        let fds = [fd];
        // The buffer was sized for exactly this message.
        let _ = control.push(SendAncillaryMessage::ScmRights(&fds));
        let bytes = engine.pending_transmit();
        let sent = loop {
            match sendmsg(
                &*stream,
                &[IoSlice::new(bytes)],
                &mut control,
                SendFlags::NOSIGNAL,
            ) {
                Ok(n) => break n,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => {
                    engine.close();
                    return Err(Error::from_io(e.into()));
                }
            }
        };
        engine.consume_transmit(sent);
        // The rest of the command, if the socket took only part of it.
        self.flush()?;
        Ok(return_value(self.wait_reply(id, deadline)?))
    }
}
