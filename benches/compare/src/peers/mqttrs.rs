//! mqttrs 0.4: MQTT 3.1.1 only. Decode: `decode_slice(&[u8])`, which borrows topics,
//! strings and payloads from the input (zero-copy; SUBSCRIBE filters are copied into
//! `String`s). It does not say how many bytes it used, so for the streams the harness
//! reads the fixed header (`harness::frame`, the floor's loop) to advance the receive
//! buffer. Encode: `encode_slice(&Packet, &mut [u8])` into a reused 128 KiB buffer (for
//! the stream, each packet written after the one before).

use crate::cases::{Case, Op, Workload};
use crate::harness::{
    batch_for, check_summaries, chunked_decode_job, encode_job, encode_stream_job, frame, job,
    stream_decode_job, NotApplicable, Spec, Summary,
};
use bytes::{Buf, BytesMut};
use mqttwire::{Packet, QoS as WQoS};
use std::hint::black_box;

fn summary(p: &mqttrs::Packet<'_>) -> Summary {
    use mqttrs::Packet as P;
    let pid = |q: &mqttrs::QosPid| q.pid().map_or(0, u16::from);
    match p {
        P::Publish(p) => Summary {
            topic: p.topic_name.to_owned(),
            payload_len: p.payload.len(),
            pid: pid(&p.qospid),
            ..Summary::new("publish")
        },
        P::Connect(c) => Summary {
            topic: c
                .last_will
                .as_ref()
                .map_or(String::new(), |w| w.topic.to_owned()),
            payload_len: c.last_will.as_ref().map_or(0, |w| w.message.len()),
            id: c.client_id.to_owned(),
            text: c.username.unwrap_or_default().to_owned(),
            ..Summary::new("connect")
        },
        P::Connack(_) => Summary::new("connack"),
        P::Puback(pid) => Summary {
            pid: u16::from(*pid),
            ..Summary::new("puback")
        },
        P::Subscribe(s) => Summary {
            pid: u16::from(s.pid),
            count: s.topics.len(),
            ..Summary::new("subscribe")
        },
        P::Pingreq => Summary::new("pingreq"),
        P::Disconnect => Summary::new("disconnect"),
        other => panic!("unexpected {other:?}"),
    }
}

#[inline(always)]
fn step(_: &mut (), rx: &mut BytesMut, sink: &mut impl FnMut(&mqttrs::Packet<'_>)) -> bool {
    let Some((_, total)) = frame(rx) else {
        return false;
    };
    match mqttrs::decode_slice(&rx[..total]) {
        Ok(Some(ref p)) => sink(p),
        Ok(None) => unreachable!("a whole frame"),
        Err(e) => panic!("mqttrs: {e:?}"),
    }
    rx.advance(total);
    true
}

fn next(d: &mut (), rx: &mut BytesMut, out: &mut dyn FnMut(Summary)) -> bool {
    step(d, rx, &mut |p| out(summary(p)))
}

#[inline(always)]
fn fast(d: &mut (), rx: &mut BytesMut) -> bool {
    step(d, rx, &mut |p| {
        black_box(p);
    })
}

fn qos(q: WQoS) -> mqttrs::QoS {
    match q {
        WQoS::AtMostOnce => mqttrs::QoS::AtMostOnce,
        WQoS::AtLeastOnce => mqttrs::QoS::AtLeastOnce,
        WQoS::ExactlyOnce => mqttrs::QoS::ExactlyOnce,
    }
}

/// mqttrs's packet equivalent to `p`, borrowing from it.
fn convert(p: &'static Packet) -> mqttrs::Packet<'static> {
    match p {
        Packet::Publish(p) => mqttrs::Publish {
            dup: p.dup,
            qospid: match p.qos.packet_id() {
                None => mqttrs::QosPid::AtMostOnce,
                Some(id) => mqttrs::QosPid::AtLeastOnce(mqttrs::Pid::try_from(id.get()).unwrap()),
            },
            retain: p.retain,
            topic_name: p.topic.as_str(),
            payload: &p.payload[..],
        }
        .into(),
        Packet::Connect(c) => mqttrs::Connect {
            protocol: mqttrs::Protocol::MQTT311,
            keep_alive: c.keep_alive,
            client_id: c.client_id.as_str(),
            clean_session: c.clean_start,
            last_will: c.will.as_ref().map(|w| mqttrs::LastWill {
                topic: w.topic.as_str(),
                message: &w.payload[..],
                qos: qos(w.qos),
                retain: w.retain,
            }),
            username: c.user_name.as_ref().map(|u| u.as_str()),
            password: c.password.as_deref(),
        }
        .into(),
        Packet::ConnAck(c) => mqttrs::Packet::Connack(mqttrs::Connack {
            session_present: c.session_present,
            code: mqttrs::ConnectReturnCode::Accepted,
        }),
        Packet::PubAck(a) => {
            mqttrs::Packet::Puback(mqttrs::Pid::try_from(a.packet_id.get()).unwrap())
        }
        Packet::Subscribe(sub) => mqttrs::Packet::Subscribe(mqttrs::Subscribe::new(
            mqttrs::Pid::try_from(sub.packet_id.get()).unwrap(),
            sub.subscriptions
                .iter()
                .map(|f| mqttrs::SubscribeTopic {
                    topic_path: f.filter.as_str().to_owned(),
                    qos: qos(f.options.qos),
                })
                .collect(),
        )),
        Packet::PingReq => mqttrs::Packet::Pingreq,
        Packet::Disconnect(_) => mqttrs::Packet::Disconnect,
        other => panic!("no conversion for {other:?}"),
    }
}

pub fn spec(case: &Case) -> Result<Spec, NotApplicable> {
    const NAME: &str = "mqttrs";
    if case.version.is_v5() {
        return Err("mqttrs supports MQTT 3.1.1 only".into());
    }
    match (case.op, case.workload) {
        (Op::Decode, Workload::Stream) => {
            stream_decode_job(NAME, &case.bytes, &case.want, (), next, fast)
        }
        (Op::Decode, Workload::Chunks7) => {
            chunked_decode_job(NAME, &case.bytes, &case.want, (), next, fast)
        }
        (Op::Decode, _) => {
            let p = mqttrs::decode_slice(&case.bytes)
                .map_err(|e| format!("mqttrs: {e:?}"))?
                .ok_or("mqttrs: incomplete")?;
            check_summaries(NAME, &[summary(&p)], &case.want)?;
            let k = batch_for(case.bytes.len());
            Ok(Spec {
                job: job(
                    case.bytes.clone(),
                    |_| {},
                    move |bytes| {
                        for _ in 0..k {
                            let r = mqttrs::decode_slice(black_box(&bytes[..]));
                            black_box(&r);
                            assert!(matches!(r, Ok(Some(_))));
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
                "the stream fits the output buffer"
            );
            encode_stream_job(
                NAME,
                &case.packets,
                case.version,
                packets.iter().map(convert).collect(),
                vec![0u8; 128 * 1024],
                |_| {},
                |p, buf, at| at + mqttrs::encode_slice(p, &mut buf[at..]).unwrap(),
                |buf, n| &buf[..n],
            )
        }
        (Op::Encode, _) => {
            let packet: &'static Packet = Box::leak(Box::new(case.packet.clone()));
            encode_job(
                NAME,
                &case.packet,
                case.version,
                convert(packet),
                vec![0u8; 128 * 1024],
                |p, buf| mqttrs::encode_slice(p, buf).unwrap(),
                |buf, n| &buf[..n],
            )
        }
    }
}
