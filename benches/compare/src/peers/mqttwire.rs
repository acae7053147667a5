//! mqttwire: `Packet::decode(&Bytes, version)` for single packets (zero-copy, what
//! benches/codec.rs measures), `Decoder::decode(&mut BytesMut)` for the streams,
//! `Encoder::encode(&Packet, &mut BytesMut)` into a reused buffer (for the stream, every
//! packet appended to it in turn).

use crate::cases::{Case, Op, Workload};
use crate::harness::{
    batch_for, check_summaries, chunked_decode_job, encode_job, encode_stream_job, job,
    stream_decode_job, NotApplicable, Spec, Summary,
};
use bytes::BytesMut;
use mqttwire::{Decoder, Encoder, Packet, ProtocolVersion};
use std::hint::black_box;

#[derive(Clone)]
struct State(Decoder, ProtocolVersion);

#[inline(always)]
fn step(d: &mut State, rx: &mut BytesMut, sink: &mut impl FnMut(&Packet)) -> bool {
    // Matched by reference, here and for every codec: no move of the packet that the
    // codec itself does not make.
    match d.0.decode(rx) {
        Ok(Some(ref p)) => {
            sink(p);
            true
        }
        Ok(None) => false,
        Err(e) => panic!("mqttwire: {e}"),
    }
}

fn next(d: &mut State, rx: &mut BytesMut, out: &mut dyn FnMut(Summary)) -> bool {
    let v = d.1;
    step(d, rx, &mut |p| out(Summary::of(p, v)))
}

#[inline(always)]
fn fast(d: &mut State, rx: &mut BytesMut) -> bool {
    step(d, rx, &mut |p| {
        black_box(p);
    })
}

pub fn spec(case: &Case) -> Result<Spec, NotApplicable> {
    let v = case.version;
    let state = State(Decoder::new(v), v);
    match (case.op, case.workload) {
        (Op::Decode, Workload::Stream) => {
            stream_decode_job("mqttwire", &case.bytes, &case.want, state, next, fast)
        }
        (Op::Decode, Workload::Chunks7) => {
            chunked_decode_job("mqttwire", &case.bytes, &case.want, state, next, fast)
        }
        (Op::Decode, _) => {
            let (p, used) = Packet::decode(&case.bytes, v).map_err(|e| e.to_string())?;
            assert_eq!(used, case.bytes.len());
            check_summaries("mqttwire", &[Summary::of(&p, v)], &case.want)?;
            let k = batch_for(case.bytes.len());
            Ok(Spec {
                job: job(
                    case.bytes.clone(),
                    |_| {},
                    move |bytes| {
                        for _ in 0..k {
                            let r = Packet::decode(black_box(&*bytes), v);
                            black_box(&r);
                            assert!(r.is_ok());
                        }
                    },
                ),
                packets_per_run: k as u64,
                bytes_per_packet: case.bytes.len() as f64,
                note: None,
            })
        }
        (Op::Encode, Workload::Stream) => encode_stream_job(
            "mqttwire",
            &case.packets,
            v,
            case.packets.clone(),
            (Encoder::new(v), BytesMut::with_capacity(128 * 1024)),
            |(_, tx)| tx.clear(),
            |packet, (encoder, tx), _| {
                encoder.encode(packet, tx).unwrap();
                tx.len()
            },
            |(_, tx), _| &tx[..],
        ),
        (Op::Encode, _) => encode_job(
            "mqttwire",
            &case.packet,
            v,
            (Encoder::new(v), case.packet.clone()),
            BytesMut::with_capacity(128 * 1024),
            |(encoder, packet), tx| {
                tx.clear();
                encoder.encode(packet, tx).unwrap()
            },
            |tx, _| &tx[..],
        ),
    }
}
