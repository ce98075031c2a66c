//! The `bytes` and `tokio` layers over the framer.
#![cfg(feature = "tokio")]

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures::{SinkExt, StreamExt};
use qmp_codec::codec::bytes::BytesFramer;
use qmp_codec::codec::tokio::QmpCodec;
use qmp_codec::{Dialect, FrameError, FramerConfig, LexicalKind};
use tokio::io::{AsyncRead, ReadBuf};
use tokio_util::codec::{FramedRead, FramedWrite};

/// An in-memory reader that hands out at most `step` bytes per read.
struct Trickle {
    data: Vec<u8>,
    pos: usize,
    step: usize,
}

impl AsyncRead for Trickle {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let n = self
            .step
            .min(buf.remaining())
            .min(self.data.len() - self.pos);
        let pos = self.pos;
        buf.put_slice(&self.data[pos..pos + n]);
        self.pos += n;
        Poll::Ready(Ok(()))
    }
}

async fn collect(config: FramerConfig, data: &[u8], step: usize) -> Vec<Result<Bytes, FrameError>> {
    let reader = Trickle {
        data: data.to_vec(),
        pos: 0,
        step,
    };
    let mut framed = FramedRead::new(reader, QmpCodec::new(config));
    let mut out = Vec::new();
    while let Some(item) = framed.next().await {
        out.push(item.expect("no transport error"));
    }
    out
}

#[tokio::test(flavor = "current_thread")]
async fn junk_between_frames_does_not_end_the_stream() {
    let data = b"{\"execute\":\"a\"}@@junk {\"a\": 01} {\"execute\":\"b\"}\x01[1,\n2]\"open";
    let config = FramerConfig::new().with_dialect(Dialect::Stream);
    for step in [1, 3, 1000] {
        let out = collect(config, data, step).await;
        assert_eq!(
            out,
            vec![
                Ok(Bytes::from_static(b"{\"execute\":\"a\"}")),
                Err(FrameError::Lexical {
                    offset: 15,
                    byte: b'@',
                    kind: LexicalKind::UnexpectedByte
                }),
                Err(FrameError::Lexical {
                    offset: 29,
                    byte: b'1',
                    kind: LexicalKind::InvalidNumber
                }),
                Err(FrameError::Stray {
                    offset: 30,
                    byte: b'}'
                }),
                Ok(Bytes::from_static(b"{\"execute\":\"b\"}")),
                Err(FrameError::Lexical {
                    offset: 47,
                    byte: 1,
                    kind: LexicalKind::UnexpectedByte
                }),
                Ok(Bytes::from_static(b"[1,\n2]")),
                Err(FrameError::Truncated { offset: 54, len: 5 }),
            ],
            "step {step}"
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn lines_too_long_and_final_line() {
    let data = b"{\"return\": {}}\r\n0123456789012345678901234567890123456789\r\n\r\n{\"event\": \"STOP\"}";
    let config = FramerConfig::new().with_max_frame_len(20);
    for step in [1, 7, 1000] {
        assert_eq!(
            collect(config, data, step).await,
            vec![
                Ok(Bytes::from_static(b"{\"return\": {}}")),
                Err(FrameError::TooLong {
                    offset: 16,
                    len: 40
                }),
                Ok(Bytes::from_static(b"{\"event\": \"STOP\"}")),
            ]
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn encoder_writes_message_and_terminator() {
    let mut out = Vec::new();
    {
        let mut sink = FramedWrite::new(&mut out, QmpCodec::default());
        sink.send(&b"{\"execute\":\"qmp_capabilities\"}"[..])
            .await
            .unwrap();
        sink.send(Bytes::from_static(b"{\"execute\":\"quit\"}"))
            .await
            .unwrap();
    }
    assert_eq!(
        out,
        b"{\"execute\":\"qmp_capabilities\"}\r\n{\"execute\":\"quit\"}\r\n"
    );
    let mut out = Vec::new();
    {
        let codec = QmpCodec::default().with_terminator(b"");
        let mut sink = FramedWrite::new(&mut out, codec);
        sink.send(&b"{}"[..]).await.unwrap();
        sink.send(&b"[]"[..]).await.unwrap();
    }
    assert_eq!(out, b"{}[]");
}

#[test]
fn bytes_frames_share_the_buffer() {
    let mut framer = BytesFramer::new(FramerConfig::new().with_dialect(Dialect::Stream));
    let mut buf = BytesMut::from(&b"  {\"a\": 1}{\"b\""[..]);
    let frame = framer.decode(&mut buf).unwrap().unwrap();
    assert_eq!(&frame[..], b"{\"a\": 1}");
    assert!(framer.decode(&mut buf).is_none());
    assert_eq!(&buf[..], b"{\"b\"");
    buf.extend_from_slice(b": 2}");
    assert_eq!(
        &framer.decode(&mut buf).unwrap().unwrap()[..],
        b"{\"b\": 2}"
    );
    assert!(framer.decode_eof(&mut buf).is_none());
    assert!(buf.is_empty());
}
