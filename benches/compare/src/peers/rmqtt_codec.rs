//! rmqtt-codec 0.1 (rmqtt broker's codec, derived from ntex-mqtt): `v3::Codec` (3.1.1) and
//! `v5::Codec` (5.0), through their `tokio_util::codec` traits. Decode:
//! `Decoder::decode(&mut BytesMut)`, which splits the frame off the receive buffer and
//! freezes it (payloads are `Bytes`, strings `ByteString`s: zero-copy). Encode:
//! `Encoder::encode(Packet, &mut BytesMut)` takes the packet by value (its inner encoding
//! trait is private), so each iteration encodes a clone of a prepared packet: `Bytes` and
//! `ByteString` clones are reference counts, a boxed packet (CONNECT, PUBLISH) one
//! allocation.

use crate::cases::{Case, Op, Workload};
use crate::harness::{
    bytesmut_decode_job, chunked_decode_job, encode_job, encode_stream_job, stream_decode_job,
    NotApplicable, Spec, Summary,
};
use bytes::BytesMut;
use bytestring::ByteString;
use mqttwire::{Packet, QoS as WQoS, RetainHandling};
use rmqtt_codec::types::{Protocol, Publish, QoS};
use rmqtt_codec::{v3, v5};
use std::hint::black_box;
use std::num::{NonZeroU16, NonZeroU32};
use tokio_util::codec::{Decoder, Encoder};

fn qos(q: WQoS) -> QoS {
    match q {
        WQoS::AtMostOnce => QoS::AtMostOnce,
        WQoS::AtLeastOnce => QoS::AtLeastOnce,
        WQoS::ExactlyOnce => QoS::ExactlyOnce,
    }
}

fn bs(s: &str) -> ByteString {
    ByteString::from(s)
}

fn pairs(p: &mqttwire::properties::UserProperties) -> Vec<(ByteString, ByteString)> {
    p.iter().map(|(k, v)| (bs(k), bs(v))).collect()
}

fn publish_summary(p: &Publish) -> Summary {
    Summary {
        topic: p.topic.to_string(),
        payload_len: p.payload.len(),
        pid: p.packet_id.map_or(0, |n| n.get()),
        count: p.properties.as_ref().map_or(0, |p| p.user_properties.len()),
        text: p
            .properties
            .as_ref()
            .and_then(|p| p.content_type.as_ref())
            .map_or(String::new(), |s| s.to_string()),
        ..Summary::new("publish")
    }
}

fn publish(p: &mqttwire::Publish, v5: bool) -> Publish {
    let pp = &p.properties;
    Publish {
        dup: p.dup,
        retain: p.retain,
        qos: qos(p.qos.qos()),
        topic: bs(p.topic.as_str()),
        packet_id: p
            .qos
            .packet_id()
            .map(|id| NonZeroU16::new(id.get()).unwrap()),
        payload: p.payload.clone(),
        properties: v5.then(|| v5::PublishProperties {
            topic_alias: None,
            correlation_data: None,
            message_expiry_interval: pp.message_expiry_interval.and_then(NonZeroU32::new),
            content_type: pp.content_type().as_ref().map(|s| bs(s.as_str())),
            user_properties: pairs(&pp.user_properties()),
            is_utf8_payload: false,
            response_topic: None,
            subscription_ids: Vec::new(),
        }),
        delay_interval: None,
        create_time: None,
    }
}

// ---- 3.1.1 ----

#[inline(always)]
fn step3(d: &mut v3::Codec, rx: &mut BytesMut, sink: &mut impl FnMut(&v3::Packet)) -> bool {
    match d.decode(rx) {
        Ok(Some((ref p, _))) => {
            sink(p);
            true
        }
        Ok(None) => false,
        Err(e) => panic!("rmqtt-codec v3: {e:?}"),
    }
}

fn summary3(p: &v3::Packet) -> Summary {
    match p {
        v3::Packet::Publish(p) => publish_summary(p),
        v3::Packet::Connect(c) => Summary {
            topic: c
                .last_will
                .as_ref()
                .map_or(String::new(), |w| w.topic.to_string()),
            payload_len: c.last_will.as_ref().map_or(0, |w| w.message.len()),
            id: c.client_id.to_string(),
            text: c.username.as_ref().map_or(String::new(), |s| s.to_string()),
            ..Summary::new("connect")
        },
        v3::Packet::ConnectAck(_) => Summary::new("connack"),
        v3::Packet::PublishAck { packet_id } => Summary {
            pid: packet_id.get(),
            ..Summary::new("puback")
        },
        v3::Packet::Subscribe {
            packet_id,
            topic_filters,
        } => Summary {
            pid: packet_id.get(),
            count: topic_filters.len(),
            ..Summary::new("subscribe")
        },
        v3::Packet::PingRequest => Summary::new("pingreq"),
        v3::Packet::Disconnect => Summary::new("disconnect"),
        other => panic!("unexpected {other:?}"),
    }
}

fn next3(d: &mut v3::Codec, rx: &mut BytesMut, out: &mut dyn FnMut(Summary)) -> bool {
    step3(d, rx, &mut |p| out(summary3(p)))
}

#[inline(always)]
fn fast3(d: &mut v3::Codec, rx: &mut BytesMut) -> bool {
    step3(d, rx, &mut |p| {
        black_box(p);
    })
}

fn convert3(p: &Packet) -> v3::Packet {
    match p {
        Packet::Publish(p) => v3::Packet::Publish(Box::new(publish(p, false))),
        Packet::Connect(c) => v3::Packet::Connect(Box::new(v3::Connect {
            protocol: Protocol::default(),
            clean_session: c.clean_start,
            keep_alive: c.keep_alive,
            last_will: c.will.as_ref().map(|w| v3::LastWill {
                qos: qos(w.qos),
                retain: w.retain,
                topic: bs(w.topic.as_str()),
                message: w.payload.clone(),
            }),
            client_id: bs(c.client_id.as_str()),
            username: c.user_name.as_ref().map(|s| bs(s.as_str())),
            password: c.password.clone(),
        })),
        Packet::ConnAck(c) => v3::Packet::ConnectAck(v3::ConnectAck {
            return_code: v3::ConnectAckReason::ConnectionAccepted,
            session_present: c.session_present,
        }),
        Packet::PubAck(a) => v3::Packet::PublishAck {
            packet_id: NonZeroU16::new(a.packet_id.get()).unwrap(),
        },
        Packet::Subscribe(sub) => v3::Packet::Subscribe {
            packet_id: NonZeroU16::new(sub.packet_id.get()).unwrap(),
            topic_filters: sub
                .subscriptions
                .iter()
                .map(|f| (bs(f.filter.as_str()), qos(f.options.qos)))
                .collect(),
        },
        Packet::PingReq => v3::Packet::PingRequest,
        Packet::Disconnect(_) => v3::Packet::Disconnect,
        other => panic!("no conversion for {other:?}"),
    }
}

// ---- 5.0 ----

#[inline(always)]
fn step5(d: &mut v5::Codec, rx: &mut BytesMut, sink: &mut impl FnMut(&v5::Packet)) -> bool {
    match d.decode(rx) {
        Ok(Some((ref p, _))) => {
            sink(p);
            true
        }
        Ok(None) => false,
        Err(e) => panic!("rmqtt-codec v5: {e:?}"),
    }
}

fn summary5(p: &v5::Packet) -> Summary {
    match p {
        v5::Packet::Publish(p) => publish_summary(p),
        v5::Packet::Connect(c) => Summary {
            topic: c
                .last_will
                .as_ref()
                .map_or(String::new(), |w| w.topic.to_string()),
            payload_len: c.last_will.as_ref().map_or(0, |w| w.message.len()),
            id: c.client_id.to_string(),
            count: c.user_properties.len(),
            text: c.username.as_ref().map_or(String::new(), |s| s.to_string()),
            ..Summary::new("connect")
        },
        v5::Packet::ConnectAck(c) => Summary {
            id: c
                .assigned_client_id
                .as_ref()
                .map_or(String::new(), |s| s.to_string()),
            count: c.user_properties.len(),
            ..Summary::new("connack")
        },
        v5::Packet::PublishAck(a) => Summary {
            pid: a.packet_id.get(),
            ..Summary::new("puback")
        },
        v5::Packet::Subscribe(s) => Summary {
            pid: s.packet_id.get(),
            count: s.topic_filters.len(),
            ..Summary::new("subscribe")
        },
        v5::Packet::PingRequest => Summary::new("pingreq"),
        v5::Packet::Disconnect(_) => Summary::new("disconnect"),
        other => panic!("unexpected {other:?}"),
    }
}

fn next5(d: &mut v5::Codec, rx: &mut BytesMut, out: &mut dyn FnMut(Summary)) -> bool {
    step5(d, rx, &mut |p| out(summary5(p)))
}

#[inline(always)]
fn fast5(d: &mut v5::Codec, rx: &mut BytesMut) -> bool {
    step5(d, rx, &mut |p| {
        black_box(p);
    })
}

fn convert5(p: &Packet) -> v5::Packet {
    match p {
        Packet::Publish(p) => v5::Packet::Publish(Box::new(publish(p, true))),
        Packet::Connect(c) => {
            let cp = &c.properties;
            v5::Packet::Connect(Box::new(v5::Connect {
                clean_start: c.clean_start,
                keep_alive: c.keep_alive,
                session_expiry_interval_secs: cp.session_expiry_interval.unwrap_or(0),
                auth_method: None,
                auth_data: None,
                request_problem_info: cp.request_problem_information.unwrap_or(true),
                request_response_info: false,
                receive_max: cp.receive_maximum,
                topic_alias_max: cp.topic_alias_maximum.unwrap_or(0),
                user_properties: pairs(&cp.user_properties()),
                max_packet_size: cp.maximum_packet_size,
                last_will: c.will.as_ref().map(|w| {
                    let wp = &w.properties;
                    v5::LastWill {
                        qos: qos(w.qos),
                        retain: w.retain,
                        topic: bs(w.topic.as_str()),
                        message: w.payload.clone(),
                        will_delay_interval_sec: wp.will_delay_interval,
                        correlation_data: None,
                        message_expiry_interval: wp
                            .message_expiry_interval
                            .and_then(NonZeroU32::new),
                        content_type: wp.content_type().as_ref().map(|s| bs(s.as_str())),
                        user_properties: Vec::new(),
                        is_utf8_payload: None,
                        response_topic: None,
                    }
                }),
                client_id: bs(c.client_id.as_str()),
                username: c.user_name.as_ref().map(|s| bs(s.as_str())),
                password: c.password.clone(),
            }))
        }
        Packet::ConnAck(c) => {
            let p = &c.properties;
            v5::Packet::ConnectAck(Box::new(v5::ConnectAck {
                session_present: c.session_present,
                reason_code: v5::ConnectAckReason::Success,
                session_expiry_interval_secs: p.session_expiry_interval,
                receive_max: p.receive_maximum.unwrap_or(NonZeroU16::MAX),
                max_qos: p.maximum_qos.map_or(QoS::ExactlyOnce, qos),
                max_packet_size: p.maximum_packet_size.map(|n| n.get()),
                assigned_client_id: p
                    .assigned_client_identifier()
                    .as_ref()
                    .map(|s| bs(s.as_str())),
                topic_alias_max: p.topic_alias_maximum.unwrap_or(0),
                retain_available: p.retain_available.unwrap_or(true),
                wildcard_subscription_available: p.wildcard_subscription_available.unwrap_or(true),
                subscription_identifiers_available: true,
                shared_subscription_available: p.shared_subscription_available.unwrap_or(true),
                server_keepalive_sec: p.server_keep_alive,
                response_info: None,
                server_reference: None,
                auth_method: None,
                auth_data: None,
                reason_string: None,
                user_properties: pairs(&p.user_properties()),
            }))
        }
        Packet::PubAck(a) => v5::Packet::PublishAck(v5::PublishAck {
            packet_id: NonZeroU16::new(a.packet_id.get()).unwrap(),
            reason_code: v5::PublishAckReason::Success,
            properties: Vec::new(),
            reason_string: None,
        }),
        Packet::Subscribe(sub) => {
            let sp = &sub.properties;
            v5::Packet::Subscribe(v5::Subscribe {
                packet_id: NonZeroU16::new(sub.packet_id.get()).unwrap(),
                id: sp
                    .subscription_identifier
                    .map(|id| NonZeroU32::new(id.get()).unwrap()),
                user_properties: pairs(&sp.user_properties()),
                topic_filters: sub
                    .subscriptions
                    .iter()
                    .map(|f| {
                        let o = f.options;
                        let options = v5::SubscriptionOptions {
                            qos: qos(o.qos),
                            no_local: o.no_local,
                            retain_as_published: o.retain_as_published,
                            retain_handling: match o.retain_handling {
                                RetainHandling::SendAtSubscribe => v5::RetainHandling::AtSubscribe,
                                RetainHandling::SendIfNew => v5::RetainHandling::AtSubscribeNew,
                                RetainHandling::DoNotSend => v5::RetainHandling::NoAtSubscribe,
                            },
                        };
                        (bs(f.filter.as_str()), options)
                    })
                    .collect(),
            })
        }
        Packet::PingReq => v5::Packet::PingRequest,
        Packet::Disconnect(d) => {
            let dp = &d.properties;
            v5::Packet::Disconnect(v5::Disconnect {
                reason_code: u8::from(d.reason_code).try_into().unwrap(),
                session_expiry_interval_secs: dp.session_expiry_interval,
                server_reference: dp.server_reference().as_ref().map(|s| bs(s.as_str())),
                reason_string: dp.reason_string().as_ref().map(|s| bs(s.as_str())),
                user_properties: pairs(&dp.user_properties()),
            })
        }
        other => panic!("no conversion for {other:?}"),
    }
}

pub fn spec(case: &Case) -> Result<Spec, NotApplicable> {
    const NAME: &str = "rmqtt-codec";
    let want = case.want.first().cloned().unwrap_or_default();
    let (c3, c5) = (v3::Codec::new(1 << 20), v5::Codec::new(1 << 20, 0));
    let tx = BytesMut::with_capacity(128 * 1024);
    match (case.op, case.workload, case.version.is_v5()) {
        (Op::Decode, Workload::Stream, false) => {
            stream_decode_job(NAME, &case.bytes, &case.want, c3, next3, fast3)
        }
        (Op::Decode, Workload::Chunks7, false) => {
            chunked_decode_job(NAME, &case.bytes, &case.want, c3, next3, fast3)
        }
        (Op::Decode, _, false) => bytesmut_decode_job(NAME, &case.bytes, want, c3, next3, fast3),
        (Op::Decode, Workload::Stream, true) => {
            stream_decode_job(NAME, &case.bytes, &case.want, c5, next5, fast5)
        }
        (Op::Decode, Workload::Chunks7, true) => {
            chunked_decode_job(NAME, &case.bytes, &case.want, c5, next5, fast5)
        }
        (Op::Decode, _, true) => bytesmut_decode_job(NAME, &case.bytes, want, c5, next5, fast5),
        (Op::Encode, Workload::Stream, false) => encode_stream_job(
            NAME,
            &case.packets,
            case.version,
            case.packets.iter().map(convert3).collect(),
            (c3, tx),
            |(_, tx)| tx.clear(),
            |p, (codec, tx), _| {
                codec.encode(p.clone(), tx).unwrap();
                tx.len()
            },
            |(_, tx), _| &tx[..],
        ),
        (Op::Encode, Workload::Stream, true) => encode_stream_job(
            NAME,
            &case.packets,
            case.version,
            case.packets.iter().map(convert5).collect(),
            (c5, tx),
            |(_, tx)| tx.clear(),
            |p, (codec, tx), _| {
                codec.encode(p.clone(), tx).unwrap();
                tx.len()
            },
            |(_, tx), _| &tx[..],
        ),
        (Op::Encode, _, false) => encode_job(
            NAME,
            &case.packet,
            case.version,
            (c3, convert3(&case.packet)),
            tx,
            |(codec, p), tx| {
                tx.clear();
                codec.encode(p.clone(), tx).unwrap();
                tx.len()
            },
            |tx, _| &tx[..],
        ),
        (Op::Encode, _, true) => encode_job(
            NAME,
            &case.packet,
            case.version,
            (c5, convert5(&case.packet)),
            tx,
            |(codec, p), tx| {
                tx.clear();
                codec.encode(p.clone(), tx).unwrap();
                tx.len()
            },
            |tx, _| &tx[..],
        ),
    }
}
