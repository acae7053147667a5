//! mqttwire's borrowed core: `PacketRef::decode(&[u8], version)` for single packets and, on
//! the streams, from the front of the receive buffer, which then advances by the bytes
//! used; `PacketRef::encode` of the packet's view into a reused 128 KiB slice. Nothing is
//! allocated or reference-counted. The summaries are taken from the owned packet made of
//! each view (`Packet::from_view`), outside the measured loops.

use crate::cases::{Case, Op, Workload};
use crate::harness::{
    batch_for, check_summaries, chunked_decode_job, encode_job, job, stream_decode_job,
    NotApplicable, Spec, Summary,
};
use bytes::{Buf, Bytes, BytesMut};
use mqttwire::{Decoded, Packet, PacketRef, ProtocolVersion};
use std::hint::black_box;

#[inline(always)]
fn step(v: &mut ProtocolVersion, rx: &mut BytesMut, sink: &mut impl FnMut(&PacketRef<'_>)) -> bool {
    let used = match PacketRef::decode(&rx[..], *v) {
        Ok(Decoded::Complete(ref p, used)) => {
            sink(p);
            used
        }
        Ok(Decoded::Partial { .. }) => return false,
        Err(e) => panic!("mqttwire (borrowed): {e}"),
    };
    rx.advance(used);
    true
}

fn next(v: &mut ProtocolVersion, rx: &mut BytesMut, out: &mut dyn FnMut(Summary)) -> bool {
    let version = *v;
    step(v, rx, &mut |p| {
        let frame = Bytes::new();
        out(Summary::of(&Packet::from_view(p, &frame), version))
    })
}

#[inline(always)]
fn fast(v: &mut ProtocolVersion, rx: &mut BytesMut) -> bool {
    step(v, rx, &mut |p| {
        black_box(p);
    })
}

pub fn spec(case: &Case) -> Result<Spec, NotApplicable> {
    const NAME: &str = "mqttwire (borrowed)";
    let v = case.version;
    match (case.op, case.workload) {
        (Op::Decode, Workload::Stream) => {
            stream_decode_job(NAME, &case.bytes, &case.want, v, next, fast)
        }
        (Op::Decode, Workload::Chunks7) => {
            chunked_decode_job(NAME, &case.bytes, &case.want, v, next, fast)
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
