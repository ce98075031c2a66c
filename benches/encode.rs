//! Encoding throughput: this crate's writers against serde_json's, same run, same output.
//!
//! - `request/blockdev-add`: a client command with nested arguments, compact as `qemu.qmp`
//!   sends it. This crate with the arguments as a validated JSON [`Value`] (re-printed) and,
//!   with feature `serde`, as a derived struct through `Ser`; serde_json's `to_writer` of a
//!   `serde_json::Value` and of derived structs into a reused `Vec`.
//! - `server/return` and `server/event`: QEMU's wire format (`", "`/`": "`, `\r\n`), this
//!   crate's `ServerReturn`/`EventMessage` against serde_json with a formatter for those
//!   separators; the bytes are asserted equal.
//!
//! Every variant writes into a buffer reused across iterations and asserts its output
//! length inside the timed loop. Run: `cargo bench --features serde --bench encode`.

use std::hint::black_box;
use std::io;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use qmp_codec::encode::{validate_json, Encode, EventMessage, Id, Request, ServerReturn};
use qmp_codec::Timestamp;
use serde::Serialize;

const ARGS: &str = r#"{"driver":"qcow2","node-name":"disk0","discard":"unmap","cache":{"direct":true,"no-flush":false},"file":{"driver":"file","filename":"/var/lib/libvirt/images/vm0-disk0.qcow2","aio":"native","locking":"off"},"backing":null,"read-only":false,"detect-zeroes":"unmap"}"#;

#[derive(Serialize)]
struct Cache {
    direct: bool,
    #[serde(rename = "no-flush")]
    no_flush: bool,
}

#[derive(Serialize)]
struct File<'a> {
    driver: &'a str,
    filename: &'a str,
    aio: &'a str,
    locking: &'a str,
}

#[derive(Serialize)]
struct BlockdevAdd<'a> {
    driver: &'a str,
    #[serde(rename = "node-name")]
    node_name: &'a str,
    discard: &'a str,
    cache: Cache,
    file: File<'a>,
    backing: Option<&'a str>,
    #[serde(rename = "read-only")]
    read_only: bool,
    #[serde(rename = "detect-zeroes")]
    detect_zeroes: &'a str,
}

fn blockdev_add() -> BlockdevAdd<'static> {
    BlockdevAdd {
        driver: "qcow2",
        node_name: "disk0",
        discard: "unmap",
        cache: Cache {
            direct: true,
            no_flush: false,
        },
        file: File {
            driver: "file",
            filename: "/var/lib/libvirt/images/vm0-disk0.qcow2",
            aio: "native",
            locking: "off",
        },
        backing: None,
        read_only: false,
        detect_zeroes: "unmap",
    }
}

#[derive(Serialize)]
struct Execute<'a, A> {
    execute: &'a str,
    arguments: A,
    id: &'a str,
}

fn request(c: &mut Criterion) {
    let id = Id::new(42);
    let args = validate_json(ARGS.as_bytes()).expect("valid arguments");
    let req = Request::execute("blockdev-add")
        .with_arguments(args)
        .with_id(id);
    let len = req.encoded_len().expect("encodable");
    let args_value: serde_json::Value = serde_json::from_str(ARGS).expect("JSON");
    let value =
        serde_json::json!({"execute": "blockdev-add", "arguments": args_value, "id": id.as_str()});
    let typed = Execute {
        execute: "blockdev-add",
        arguments: blockdev_add(),
        id: id.as_str(),
    };
    assert_eq!(serde_json::to_vec(&typed).expect("serializes").len(), len);
    assert_eq!(serde_json::to_vec(&value).expect("serializes").len(), len);

    let mut g = c.benchmark_group("encode/request-blockdev-add");
    g.throughput(Throughput::Bytes(len as u64));
    let mut buf = [0u8; 1024];
    g.bench_function("qmp-codec-value", |b| {
        b.iter(|| assert_eq!(black_box(&req).encode(&mut buf), Ok(len)))
    });
    #[cfg(feature = "serde")]
    {
        let args = blockdev_add();
        let req = Request::execute("blockdev-add")
            .with_arguments(qmp_codec::encode::Ser(&args))
            .with_id(id);
        g.bench_function("qmp-codec-derive", |b| {
            b.iter(|| assert_eq!(black_box(&req).encode(&mut buf), Ok(len)))
        });
    }
    let mut out = Vec::with_capacity(1024);
    g.bench_function("serde_json-value", |b| {
        b.iter(|| {
            out.clear();
            serde_json::to_writer(&mut out, black_box(&value)).expect("serializes");
            assert_eq!(out.len(), len);
        })
    });
    g.bench_function("serde_json-derive", |b| {
        b.iter(|| {
            out.clear();
            serde_json::to_writer(&mut out, black_box(&typed)).expect("serializes");
            assert_eq!(out.len(), len);
        })
    });
    g.finish();
}

/// serde_json's compact output with QEMU's separators: `", "` and `": "`.
struct QemuFormatter;

impl serde_json::ser::Formatter for QemuFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
}

fn qemu_json<T: Serialize>(out: &mut Vec<u8>, value: &T) {
    let mut ser = serde_json::Serializer::with_formatter(&mut *out, QemuFormatter);
    value.serialize(&mut ser).expect("serializes");
    out.extend_from_slice(b"\r\n");
}

const JOBS: &str = r#"[{"auto-finalize": true, "io-status": "ok", "device": "bk1", "auto-dismiss": true, "busy": false, "len": 67108864, "offset": 1048576, "status": "running", "paused": false, "speed": 0, "ready": false, "type": "backup"}]"#;

#[derive(Serialize)]
struct Job<'a> {
    #[serde(rename = "auto-finalize")]
    auto_finalize: bool,
    #[serde(rename = "io-status")]
    io_status: &'a str,
    device: &'a str,
    #[serde(rename = "auto-dismiss")]
    auto_dismiss: bool,
    busy: bool,
    len: u64,
    offset: u64,
    status: &'a str,
    paused: bool,
    speed: u64,
    ready: bool,
    #[serde(rename = "type")]
    kind: &'a str,
}

#[derive(Serialize)]
struct Return<'a, T> {
    #[serde(rename = "return")]
    value: T,
    id: &'a str,
}

#[derive(Serialize)]
struct Seconds {
    seconds: u64,
    microseconds: u64,
}

#[derive(Serialize)]
struct JobStatus<'a> {
    status: &'a str,
    id: &'a str,
}

#[derive(Serialize)]
struct EventMsg<'a, D> {
    timestamp: Seconds,
    event: &'a str,
    data: D,
}

fn server(c: &mut Criterion) {
    let mut buf = [0u8; 1024];
    let mut out = Vec::with_capacity(1024);

    let id_text = br#""__qmp#00042""#;
    let id = validate_json(id_text).expect("valid id");
    let jobs = validate_json(JOBS.as_bytes()).expect("valid return");
    let ret = ServerReturn::new(jobs, Some(id));
    let n = ret.encode(&mut buf).expect("encodes");
    let typed = Return {
        value: [Job {
            auto_finalize: true,
            io_status: "ok",
            device: "bk1",
            auto_dismiss: true,
            busy: false,
            len: 67108864,
            offset: 1048576,
            status: "running",
            paused: false,
            speed: 0,
            ready: false,
            kind: "backup",
        }],
        id: "__qmp#00042",
    };
    qemu_json(&mut out, &typed);
    assert_eq!(out, &buf[..n], "same bytes as serde_json");
    let value: serde_json::Value = serde_json::from_slice(&out).expect("JSON");
    let mut g = c.benchmark_group("encode/server-return");
    g.throughput(Throughput::Bytes(n as u64));
    g.bench_function("qmp-codec-value", |b| {
        b.iter(|| assert_eq!(black_box(&ret).encode(&mut buf), Ok(n)))
    });
    #[cfg(feature = "serde")]
    {
        let ret = ServerReturn::new(qmp_codec::encode::Ser(&typed.value), Some(id));
        g.bench_function("qmp-codec-derive", |b| {
            b.iter(|| assert_eq!(black_box(&ret).encode(&mut buf), Ok(n)))
        });
    }
    g.bench_function("serde_json-value", |b| {
        b.iter(|| {
            out.clear();
            qemu_json(&mut out, black_box(&value));
            assert_eq!(out.len(), n);
        })
    });
    g.bench_function("serde_json-derive", |b| {
        b.iter(|| {
            out.clear();
            qemu_json(&mut out, black_box(&typed));
            assert_eq!(out.len(), n);
        })
    });
    g.finish();

    let ts = Timestamp {
        seconds: 1795985506,
        microseconds: 560243,
    };
    let data = validate_json(br#"{"status": "created", "id": "bk1"}"#).expect("valid data");
    let ev = EventMessage::new("JOB_STATUS_CHANGE", ts).data(data);
    let n = ev.encode(&mut buf).expect("encodes");
    let typed = EventMsg {
        timestamp: Seconds {
            seconds: ts.seconds as u64,
            microseconds: ts.microseconds as u64,
        },
        event: "JOB_STATUS_CHANGE",
        data: JobStatus {
            status: "created",
            id: "bk1",
        },
    };
    out.clear();
    qemu_json(&mut out, &typed);
    assert_eq!(out, &buf[..n], "same bytes as serde_json");
    let mut g = c.benchmark_group("encode/server-event");
    g.throughput(Throughput::Bytes(n as u64));
    g.bench_function("qmp-codec-value", |b| {
        b.iter(|| assert_eq!(black_box(&ev).encode(&mut buf), Ok(n)))
    });
    #[cfg(feature = "serde")]
    {
        let ev =
            EventMessage::new("JOB_STATUS_CHANGE", ts).data(qmp_codec::encode::Ser(&typed.data));
        g.bench_function("qmp-codec-derive", |b| {
            b.iter(|| assert_eq!(black_box(&ev).encode(&mut buf), Ok(n)))
        });
    }
    g.bench_function("serde_json-derive", |b| {
        b.iter(|| {
            out.clear();
            qemu_json(&mut out, black_box(&typed));
            assert_eq!(out.len(), n);
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = request, server
}
criterion_main!(benches);
