//! Codec throughput: decode and encode of every packet type, PUBLISH across payload sizes,
//! property-heavy packets, a realistic mixed stream arriving whole and in 7-byte chunks,
//! a large PUBLISH arriving in pieces; and the session engine's publish cycles between a
//! connected client and server.
//! Before timing, it reports heap allocations per packet and per session cycle.
//!
//! `cargo bench --bench codec`; `cargo bench --bench codec -- publish` for one group,
//! `-- session` for the session engine.

#[path = "../tests/fixtures/alloc_counter.rs"]
mod alloc_counter;
#[path = "../tests/fixtures/mod.rs"]
mod fixtures;

use bytes::{Bytes, BytesMut};
use criterion::{BatchSize, Criterion, Throughput};
use fixtures::{CycleEvents, Direction, SessionPair};
use mqttwire::{Decoder, Encoder, Packet, ProtocolVersion, QoS};
use std::hint::black_box;

const VERSIONS: [(&str, ProtocolVersion); 2] = [
    ("3.1.1", ProtocolVersion::V3_1_1),
    ("5.0", ProtocolVersion::V5),
];

fn bench_decode(c: &mut Criterion, group: &str, name: &str, bytes: &Bytes, v: ProtocolVersion) {
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function(name, |b| {
        b.iter(|| Packet::decode(black_box(bytes), v).unwrap())
    });
    g.finish();
}

fn bench_encode(c: &mut Criterion, group: &str, name: &str, packet: &Packet, v: ProtocolVersion) {
    let encoder = Encoder::new(v);
    let mut tx = BytesMut::with_capacity(128 * 1024);
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Bytes(packet.encoded_len(v).unwrap() as u64));
    g.bench_function(name, |b| {
        b.iter(|| {
            tx.clear();
            encoder.encode(black_box(packet), &mut tx).unwrap()
        })
    });
    g.finish();
}

fn every_packet(c: &mut Criterion) {
    for (label, v) in VERSIONS {
        for (name, packet) in fixtures::every_packet(v) {
            let bytes = fixtures::encode_one(&packet, v);
            bench_decode(c, &format!("decode/{label}"), name, &bytes, v);
            bench_encode(c, &format!("encode/{label}"), name, &packet, v);
        }
    }
}

fn publish(c: &mut Criterion) {
    for (label, v) in VERSIONS {
        for size in [0, 64, 1024, 64 * 1024] {
            let packet = fixtures::publish_qos0(size);
            let bytes = fixtures::encode_one(&packet, v);
            let name = format!("qos0-{size}B");
            bench_decode(c, &format!("publish-decode/{label}"), &name, &bytes, v);
            bench_encode(c, &format!("publish-encode/{label}"), &name, &packet, v);
        }
    }
    let v = ProtocolVersion::V5;
    let packet = fixtures::publish_qos1_props();
    let bytes = fixtures::encode_one(&packet, v);
    bench_decode(c, "publish-decode/5.0", "qos1-properties", &bytes, v);
    bench_encode(c, "publish-encode/5.0", "qos1-properties", &packet, v);
}

/// The bare cost of framing: the fixed header's Remaining Length read and the frame split
/// off, nothing decoded. The floor the chunked decode is compared with.
fn frame_only(rx: &mut BytesMut) -> Option<Bytes> {
    let mut len = 0usize;
    for i in 0..4 {
        let byte = *rx.get(1 + i)?;
        len |= usize::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            let total = 2 + i + len;
            return (rx.len() >= total).then(|| rx.split_to(total).freeze());
        }
    }
    None
}

fn mixed_stream(c: &mut Criterion) {
    for (label, v) in VERSIONS {
        let packets = fixtures::mixed_stream(v);
        let stream = fixtures::encode_all(&packets, v);
        let mut g = c.benchmark_group(format!("stream/{label}"));
        g.throughput(Throughput::Elements(packets.len() as u64));
        g.bench_function("whole", |b| {
            b.iter_batched_ref(
                || BytesMut::from(&stream[..]),
                |rx| {
                    let mut decoder = Decoder::new(v);
                    while let Some(packet) = decoder.decode(rx).unwrap() {
                        black_box(packet);
                    }
                },
                BatchSize::SmallInput,
            )
        });
        g.bench_function("7-byte-chunks", |b| {
            let mut rx = BytesMut::with_capacity(stream.len());
            b.iter(|| {
                let mut decoder = Decoder::new(v);
                for chunk in stream.chunks(7) {
                    rx.extend_from_slice(chunk);
                    while let Some(packet) = decoder.decode(&mut rx).unwrap() {
                        black_box(packet);
                    }
                }
            })
        });
        g.bench_function("7-byte-chunks-framing-only", |b| {
            let mut rx = BytesMut::with_capacity(stream.len());
            b.iter(|| {
                for chunk in stream.chunks(7) {
                    rx.extend_from_slice(chunk);
                    while let Some(frame) = frame_only(&mut rx) {
                        black_box(frame);
                    }
                }
            })
        });
        g.finish();
    }
}

/// Copies up to `max` bytes of `src` into `rx`'s spare capacity and no further, the way a
/// socket read into a `BytesMut` does; panics when there is no room, a stalled reader.
fn read_into_spare(rx: &mut BytesMut, src: &mut &[u8], max: usize) {
    let n = src.len().min(max).min(rx.capacity() - rx.len());
    assert!(n > 0, "no room to read into");
    rx.extend_from_slice(&src[..n]);
    *src = &src[n..];
}

/// One large PUBLISH arriving on a new connection (an 8 KiB receive buffer, as tokio-util's
/// `FramedRead` starts with): in 1460-byte segments appended to the buffer, and in reads of
/// at most 16 KiB into the buffer's spare capacity only.
fn large_packet_in_pieces(c: &mut Criterion) {
    let v = ProtocolVersion::V5;
    let mut g = c.benchmark_group("stream-large/5.0");
    for (label, size) in [("64KiB", 64 * 1024), ("1MiB", 1 << 20)] {
        let bytes = fixtures::encode_one(&fixtures::publish_qos0(size), v);
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(format!("{label}-1460-byte-chunks"), |b| {
            b.iter(|| {
                let mut decoder = Decoder::new(v).with_max_packet_size(2 << 20);
                let mut rx = BytesMut::with_capacity(8 * 1024);
                for chunk in bytes.chunks(1460) {
                    rx.extend_from_slice(chunk);
                    if let Some(packet) = decoder.decode(&mut rx).unwrap() {
                        black_box(packet);
                    }
                }
            })
        });
        g.bench_function(format!("{label}-16KiB-reads-into-spare-capacity"), |b| {
            b.iter(|| {
                let mut decoder = Decoder::new(v).with_max_packet_size(2 << 20);
                let mut rx = BytesMut::with_capacity(8 * 1024);
                let mut src = &bytes[..];
                while !src.is_empty() {
                    read_into_spare(&mut rx, &mut src, 16 * 1024);
                    if let Some(packet) = decoder.decode(&mut rx).unwrap() {
                        black_box(packet);
                    }
                }
            })
        });
    }
    g.finish();
}

/// The session publish cycles measured: QoS 0, 1 and 2 at 5.0 and QoS 1 at 3.1.1, each
/// with packets handed across as values and over the wire.
fn session_cases() -> Vec<(&'static str, ProtocolVersion, QoS)> {
    vec![
        ("5.0", ProtocolVersion::V5, QoS::AtMostOnce),
        ("5.0", ProtocolVersion::V5, QoS::AtLeastOnce),
        ("5.0", ProtocolVersion::V5, QoS::ExactlyOnce),
        ("3.1.1", ProtocolVersion::V3_1_1, QoS::AtLeastOnce),
    ]
}

fn qos_name(qos: QoS) -> &'static str {
    match qos {
        QoS::AtMostOnce => "qos0",
        QoS::AtLeastOnce => "qos1",
        QoS::ExactlyOnce => "qos2",
    }
}

fn transport_name(wire: bool) -> &'static str {
    if wire {
        "wire"
    } else {
        "direct"
    }
}

/// One message cycle per iteration between a client and a server connected once: the
/// client publishes a 64-byte message on a 20-byte topic, and every packet of its flow
/// crosses (QoS 0: PUBLISH; QoS 1: PUBLISH, PUBACK; QoS 2: PUBLISH, PUBREC, PUBREL,
/// PUBCOMP) until the sender has its acknowledgement; both sides' events are handled.
/// `direct` hands packets across (`poll_transmit` to `handle_incoming`); `wire` encodes
/// them into a reused send buffer (`poll_transmit_into`) and decodes them with a `Decoder`
/// from a reused receive buffer, the realistic cost.
fn session(c: &mut Criterion) {
    let message = fixtures::message(64);
    for (label, v, qos) in session_cases() {
        let mut g = c.benchmark_group(format!("session/{label}"));
        g.throughput(Throughput::Elements(1));
        for wire in [false, true] {
            let mut pair = SessionPair::connected(v, wire);
            let name = format!("{}-{}", qos_name(qos), transport_name(wire));
            g.bench_function(name, |b| {
                b.iter(|| pair.cycle(Direction::ClientToServer, qos, black_box(&message)))
            });
            let expected = CycleEvents::of_one(qos);
            assert_eq!(
                pair.cycle(Direction::ClientToServer, qos, &message),
                expected
            );
        }
        g.finish();
    }
}

/// Heap allocations per packet, decoding from and encoding into reused buffers.
fn report_allocations() {
    println!("allocations per packet (steady state, reused buffers):");
    for (label, v) in VERSIONS {
        let mut cases = fixtures::every_packet(v);
        cases.push(("publish-qos0-64KiB", fixtures::publish_qos0(64 * 1024)));
        if v.is_v5() {
            cases.push(("publish-qos1-properties", fixtures::publish_qos1_props()));
        }
        for (name, packet) in cases {
            let bytes = fixtures::encode_one(&packet, v);
            let mut decoder = Decoder::new(v).with_max_packet_size(1 << 20);
            let encoder = Encoder::new(v);
            let (mut rx, mut tx) = (
                BytesMut::with_capacity(1 << 17),
                BytesMut::with_capacity(1 << 17),
            );
            let mut round = || {
                rx.extend_from_slice(&bytes);
                black_box(decoder.decode(&mut rx).unwrap());
                encoder.encode(&packet, &mut tx).unwrap();
                tx.clear();
            };
            for _ in 0..10 {
                round();
            }
            let (n, ()) = alloc_counter::count(|| (0..1000).for_each(|_| round()));
            println!("  {label:>5} {name:<24} {:.3}", n as f64 / 1000.0);
        }
    }
    println!("allocations per session cycle (steady state, publish to last event handled):");
    let message = fixtures::message(64);
    for (label, v, qos) in session_cases() {
        for wire in [false, true] {
            let mut pair = SessionPair::connected(v, wire);
            let expected = CycleEvents::of_one(qos);
            let mut cycle = || pair.cycle(Direction::ClientToServer, qos, &message) == expected;
            for _ in 0..100 {
                assert!(cycle(), "a session cycle did not complete");
            }
            let (n, complete) = alloc_counter::count(|| (0..1000).filter(|_| cycle()).count());
            assert_eq!(complete, 1000, "session cycles that completed");
            let name = format!("{}-{}", qos_name(qos), transport_name(wire));
            println!("  {label:>5} session {name:<16} {:.3}", n as f64 / 1000.0);
        }
    }
}

fn main() {
    report_allocations();
    let mut c = Criterion::default().configure_from_args();
    every_packet(&mut c);
    publish(&mut c);
    mixed_stream(&mut c);
    large_packet_in_pieces(&mut c);
    session(&mut c);
    c.final_summary();
}
