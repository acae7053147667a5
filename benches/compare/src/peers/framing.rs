//! The floor: the least work any codec with mqttwire's contract must do, nothing decoded
//! or checked.
//!
//! - Streams: the Remaining Length read and the frame split off, the same loop as
//!   `frame_only` in benches/codec.rs; in 7-byte chunks, with the length of the packet
//!   being waited for remembered, so that a chunk that does not complete it costs one
//!   comparison.
//! - A single PUBLISH, PUBACK or CONNACK: the Remaining Length read and, for PUBLISH, the
//!   topic and payload handed out as `Bytes` slices of the input (a reference count taken
//!   and dropped for each), their offsets known in advance.
//! - Encoding: the finished bytes copied into the reused `BytesMut`, after reserving room
//!   (the mixed stream: all its bytes in one copy).

use crate::cases::{Case, Op, Workload};
use crate::harness::{batch_for, frame, frame_only, job, NotApplicable, Refill, Spec, SLACK};
use bytes::{BufMut, BytesMut};
use std::hint::black_box;

pub fn spec(case: &Case) -> Result<Spec, NotApplicable> {
    match (case.op, case.workload) {
        (Op::Encode, _) => return Ok(encode_floor(case)),
        (Op::Decode, Workload::Publish(_) | Workload::PubAck | Workload::Connack) => {
            return Ok(decode_floor(case))
        }
        (Op::Decode, Workload::Stream | Workload::Chunks7) => {}
        _ => return Err("the floor is for PUBLISH, PUBACK, CONNACK and the streams".into()),
    }
    let n = case.want.len();
    let stream = case.bytes.clone();
    let bytes_per_packet = stream.len() as f64 / n as f64;
    let job = match case.workload {
        Workload::Stream => {
            let mut refill = Refill::new(&stream, 1);
            refill.check();
            job(
                refill,
                |r| r.reset(),
                move |r| {
                    let mut count = 0;
                    while let Some(frame) = frame_only(&mut r.buf) {
                        black_box(frame);
                        count += 1;
                    }
                    assert_eq!(count, n);
                },
            )
        }
        _ => job(
            BytesMut::with_capacity(stream.len() + SLACK),
            |_| {},
            move |rx| {
                let mut count = 0;
                // The length of the packet being waited for, once its header is in: until
                // the buffer holds that much, a chunk costs one comparison.
                let mut awaiting = 0;
                for chunk in stream.chunks(7) {
                    rx.extend_from_slice(chunk);
                    if rx.len() < awaiting {
                        continue;
                    }
                    while let Some(frame) = frame_or_wait(rx, &mut awaiting) {
                        black_box(frame);
                        count += 1;
                    }
                }
                assert_eq!(count, n);
            },
        ),
    };
    Ok(Spec {
        job,
        packets_per_run: n as u64,
        bytes_per_packet,
        note: None,
    })
}

/// [`frame_only`], remembering the length of a packet whose header is in but whose body is
/// not, as a stream decoder does.
#[inline(always)]
fn frame_or_wait(rx: &mut BytesMut, awaiting: &mut usize) -> Option<bytes::Bytes> {
    match frame(rx) {
        Some((_, total)) => {
            *awaiting = 0;
            Some(rx.split_to(total).freeze())
        }
        None => {
            // The header's own length, when it is complete, tells how much to wait for.
            let header = (1..5).find(|&i| rx.get(i).is_some_and(|b| b & 0x80 == 0));
            *awaiting = header.map_or(0, |i| {
                let len = rx[1..=i]
                    .iter()
                    .enumerate()
                    .fold(0, |len, (k, &b)| len | usize::from(b & 0x7F) << (7 * k));
                i + 1 + len
            });
            None
        }
    }
}

fn decode_floor(case: &Case) -> Spec {
    let bytes = case.bytes.clone();
    let (header, total) = frame(&bytes).expect("a whole packet");
    assert_eq!(total, bytes.len());
    // Where the topic and payload of a PUBLISH are, found once, outside the loop.
    let fields = match case.workload {
        Workload::Publish(_) => {
            let topic_len = usize::from(u16::from_be_bytes([bytes[header], bytes[header + 1]]));
            let topic = header + 2..header + 2 + topic_len;
            // A QoS 0 PUBLISH: at 5.0 an empty property block (one byte) follows the topic.
            let props = usize::from(case.version.is_v5());
            Some((topic.clone(), topic.end + props..total))
        }
        _ => None,
    };
    let k = batch_for(bytes.len());
    Spec {
        job: job(
            bytes,
            |_| {},
            move |bytes| {
                for _ in 0..k {
                    let input = black_box(&*bytes);
                    let framed = frame(input);
                    black_box(&framed);
                    if let Some((topic, payload)) = &fields {
                        black_box((input.slice(topic.clone()), input.slice(payload.clone())));
                    }
                }
            },
        ),
        packets_per_run: k as u64,
        bytes_per_packet: case.bytes.len() as f64,
        note: None,
    }
}

fn encode_floor(case: &Case) -> Spec {
    let bytes = case.bytes.clone();
    // The stream: its finished bytes copied once per batch, which handles all its packets.
    let (k, packets) = match case.workload {
        Workload::Stream => (1, case.packets.len()),
        _ => (batch_for(bytes.len()), batch_for(bytes.len())),
    };
    Spec {
        job: job(
            (bytes.clone(), BytesMut::with_capacity(128 * 1024)),
            |_| {},
            move |(bytes, out)| {
                for _ in 0..k {
                    out.clear();
                    let b = black_box(&*bytes);
                    out.reserve(b.len());
                    out.put_slice(b);
                    black_box(&*out);
                }
            },
        ),
        packets_per_run: packets as u64,
        // One packet's bytes, or the stream's average.
        bytes_per_packet: case.bytes.len() as f64 * k as f64 / packets as f64,
        note: None,
    }
}
