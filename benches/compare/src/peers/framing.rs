//! The floor: the Remaining Length read and the frame split off, nothing decoded — the
//! same loop as `frame_only` in benches/codec.rs.

use crate::cases::{Case, Op, Workload};
use crate::harness::{frame_only, job, NotApplicable, Refill, Spec, SLACK};
use bytes::BytesMut;
use std::hint::black_box;

pub fn spec(case: &Case) -> Result<Spec, NotApplicable> {
    if case.op != Op::Decode || !case.is_stream() {
        return Err("the floor is for the streams only".into());
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
                for chunk in stream.chunks(7) {
                    rx.extend_from_slice(chunk);
                    while let Some(frame) = frame_only(rx) {
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
