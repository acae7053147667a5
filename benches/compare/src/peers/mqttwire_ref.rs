//! mqttwire's borrowed core: `PacketRef::decode(&[u8], version)` for single packets and, on
//! the streams, from the front of the receive buffer, which then advances by the bytes
//! used; `PacketRef::encode` of the packet's view into a reused 128 KiB slice (for the
//! stream, each packet's view made once, each written after the one before). Nothing is
//! allocated or reference-counted. The summaries are taken from the owned packet made of
//! each view (`Packet::from_view`), outside the measured loops.
//!
//! On a stream, an incomplete packet's `Decoded::Partial { needed }` is kept, as its
//! documentation suggests: the next decode waits until that many more bytes have arrived
//! (one comparison per chunk until then), so that a large packet arriving in small chunks
//! is not parsed again for every chunk.

use crate::cases::{Case, Op, Workload};
use crate::harness::{
    batch_for, check_summaries, chunked_decode_job, encode_job, encode_stream_job, job,
    stream_decode_job, NotApplicable, Spec, Summary,
};
use bytes::{Buf, Bytes, BytesMut};
use mqttwire::{Decoded, Packet, PacketRef, ProtocolVersion};
use std::hint::black_box;

/// A stream's decoding state: the version, and how many bytes the receive buffer must hold
/// before the packet at its front can be complete (0: unknown, try).
#[derive(Clone, Copy)]
struct Stream {
    version: ProtocolVersion,
    until: usize,
}

#[inline(always)]
fn step(s: &mut Stream, rx: &mut BytesMut, sink: &mut impl FnMut(&PacketRef<'_>)) -> bool {
    if rx.len() < s.until {
        return false;
    }
    let used = match PacketRef::decode(&rx[..], s.version) {
        Ok(Decoded::Complete(ref p, used)) => {
            sink(p);
            used
        }
        Ok(Decoded::Partial { needed }) => {
            s.until = rx.len() + needed.unwrap_or(1);
            return false;
        }
        Err(e) => panic!("mqttwire (borrowed): {e}"),
    };
    s.until = 0;
    rx.advance(used);
    true
}

fn next(s: &mut Stream, rx: &mut BytesMut, out: &mut dyn FnMut(Summary)) -> bool {
    let version = s.version;
    step(s, rx, &mut |p| {
        let frame = Bytes::new();
        out(Summary::of(&Packet::from_view(p, &frame), version))
    })
}

#[inline(always)]
fn fast(s: &mut Stream, rx: &mut BytesMut) -> bool {
    step(s, rx, &mut |p| {
        black_box(p);
    })
}

pub fn spec(case: &Case) -> Result<Spec, NotApplicable> {
    const NAME: &str = "mqttwire (borrowed)";
    let v = case.version;
    let stream = Stream {
        version: v,
        until: 0,
    };
    match (case.op, case.workload) {
        (Op::Decode, Workload::Stream) => {
            stream_decode_job(NAME, &case.bytes, &case.want, stream, next, fast)
        }
        (Op::Decode, Workload::Chunks7) => {
            chunked_decode_job(NAME, &case.bytes, &case.want, stream, next, fast)
        }
        (Op::Decode, _) => {
            let Ok(Decoded::Complete(view, used)) = PacketRef::decode(&case.bytes, v) else {
                return Err("mqttwire (borrowed): not one whole packet".into());
            };
            assert_eq!(used, case.bytes.len());
            let p = Packet::from_view(&view, &case.bytes);
            check_summaries(NAME, &[Summary::of(&p, v)], &case.want)?;
            let k = batch_for(case.bytes.len());
            Ok(Spec {
                job: job(
                    case.bytes.clone(),
                    |_| {},
                    move |bytes| {
                        for _ in 0..k {
                            let r = PacketRef::decode(black_box(&bytes[..]), v);
                            black_box(&r);
                            assert!(matches!(r, Ok(Decoded::Complete(..))));
                        }
                    },
                ),
                packets_per_run: k as u64,
                bytes_per_packet: case.bytes.len() as f64,
                note: None,
            })
        }
        (Op::Encode, Workload::Stream) => {
            let packets: &'static [Packet] = Box::leak(case.packets.clone().into_boxed_slice());
            assert!(
                case.bytes.len() <= 128 * 1024,
                "the stream fits the output slice"
            );
            encode_stream_job(
                NAME,
                &case.packets,
                v,
                packets.iter().map(Packet::as_view).collect(),
                vec![0u8; 128 * 1024],
                |_| {},
                move |p, buf, at| at + p.encode(v, &mut buf[at..]).unwrap(),
                |buf, n| &buf[..n],
            )
        }
        (Op::Encode, _) => {
            let packet: &'static Packet = Box::leak(Box::new(case.packet.clone()));
            encode_job(
                NAME,
                &case.packet,
                v,
                packet.as_view(),
                vec![0u8; 128 * 1024],
                move |p, buf| p.encode(v, buf).unwrap(),
                |buf, n| &buf[..n],
            )
        }
    }
}
