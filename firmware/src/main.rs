//! The smallest useful QMP client: negotiate, `execute("query-status")`, read one member.
//!
//! The stream is a scripted peer in memory (`black_box` keeps the compiler from reading the
//! script at build time), so the binary holds exactly what a real client links: the
//! `embedded-io` client, the lines framer, the scanner, the request encoder and the models it
//! uses. `firmware/size.sh` measures its `.text`.
#![no_std]
#![no_main]

use core::convert::Infallible;
use core::hint::black_box;

use cortex_m_rt::entry;
use qmp_codec::transport::embedded::Client;
use qmp_codec::transport::NO_ARGUMENTS;

/// What qemu-storage-daemon answers: its greeting, `qmp_capabilities`, `query-status`.
static SCRIPT: &[u8] = b"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2, \"minor\": 0, \"major\": 10}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n{\"return\": {}}\r\n{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": \"__qmp#00000\"}\r\n";

/// A stream that reads the script and swallows what is written.
struct Scripted {
    input: &'static [u8],
}

impl embedded_io::ErrorType for Scripted {
    type Error = Infallible;
}

impl embedded_io::Read for Scripted {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let input = black_box(self.input);
        let n = buf.len().min(input.len()).min(black_box(64));
        buf[..n].copy_from_slice(&input[..n]);
        self.input = &input[n..];
        Ok(n)
    }
}

impl embedded_io::Write for Scripted {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        Ok(black_box(buf).len())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

#[entry]
fn main() -> ! {
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 256]);
    let io = Scripted { input: SCRIPT };
    if let Ok(mut qmp) = Client::new(io, &mut rx, &mut tx) {
        if let Ok(reply) = qmp.execute("query-status", NO_ARGUMENTS) {
            let status = reply
                .get("return")
                .and_then(|r| r.get("status"))
                .and_then(|s| s.as_str());
            black_box(status.map(|s| s.eq_str("running")));
        }
    }
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
