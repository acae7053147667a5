//! rumqttc 0.25's codec, `rumqttc::mqttbytes::v4` (3.1.1) and `rumqttc::v5::mqttbytes::v5`
//! (5.0). Decode: `Packet::read(&mut BytesMut, max_size)`, which splits the frame off the
//! receive buffer and freezes it (payloads are zero-copy `Bytes`; topics and strings are
//! copied into `String`s, 5.0 topics stay `Bytes`). Encode: each packet type's own
//! `write(&mut BytesMut)` into a reused buffer (what `Packet::write` dispatches to, minus
//! its size pre-check).

use crate::cases::{Case, Op, Workload};
use crate::harness::{
    bytesmut_decode_job, chunked_decode_job, encode_job, encode_stream_job, stream_decode_job,
    NotApplicable, Spec, Summary,
};
use bytes::{Bytes, BytesMut};
use mqttwire::{Packet, QoS as WQoS, RetainHandling};
use rumqttc::mqttbytes::v4;
use rumqttc::v5::mqttbytes::v5;
use std::hint::black_box;

const MAX: usize = 1 << 20;

fn s(x: &impl AsRef<str>) -> String {
    x.as_ref().to_owned()
}

fn pairs(p: &mqttwire::properties::UserProperties) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

// ---- 3.1.1 ----

fn qos4(q: WQoS) -> rumqttc::mqttbytes::QoS {
    match q {
        WQoS::AtMostOnce => rumqttc::mqttbytes::QoS::AtMostOnce,
        WQoS::AtLeastOnce => rumqttc::mqttbytes::QoS::AtLeastOnce,
        WQoS::ExactlyOnce => rumqttc::mqttbytes::QoS::ExactlyOnce,
    }
}

#[inline(always)]
fn step4(_: &mut (), rx: &mut BytesMut, sink: &mut impl FnMut(&v4::Packet)) -> bool {
    match v4::Packet::read(rx, MAX) {
        Ok(ref p) => {
            sink(p);
            true
        }
        Err(rumqttc::mqttbytes::Error::InsufficientBytes(_)) => false,
        Err(e) => panic!("rumqttc v4: {e:?}"),
    }
}

fn summary4(p: &v4::Packet) -> Summary {
    match p {
        v4::Packet::Publish(p) => Summary {
            topic: p.topic.clone(),
            payload_len: p.payload.len(),
            pid: p.pkid,
            ..Summary::new("publish")
        },
        v4::Packet::Connect(c) => Summary {
            topic: c
                .last_will
                .as_ref()
                .map_or(String::new(), |w| w.topic.clone()),
            payload_len: c.last_will.as_ref().map_or(0, |w| w.message.len()),
            id: c.client_id.clone(),
            text: c
                .login
                .as_ref()
                .map_or(String::new(), |l| l.username.clone()),
            ..Summary::new("connect")
        },
        v4::Packet::ConnAck(_) => Summary::new("connack"),
        v4::Packet::PubAck(a) => Summary {
            pid: a.pkid,
            ..Summary::new("puback")
        },
        v4::Packet::Subscribe(s) => Summary {
            pid: s.pkid,
            count: s.filters.len(),
            ..Summary::new("subscribe")
        },
        v4::Packet::PingReq => Summary::new("pingreq"),
        v4::Packet::Disconnect => Summary::new("disconnect"),
        other => panic!("unexpected {other:?}"),
    }
}

fn next4(d: &mut (), rx: &mut BytesMut, out: &mut dyn FnMut(Summary)) -> bool {
    step4(d, rx, &mut |p| out(summary4(p)))
}

#[inline(always)]
fn fast4(d: &mut (), rx: &mut BytesMut) -> bool {
    step4(d, rx, &mut |p| {
        black_box(p);
    })
}

enum Out4 {
    Publish(v4::Publish),
    Connect(v4::Connect),
    ConnAck(v4::ConnAck),
    PubAck(v4::PubAck),
    Subscribe(v4::Subscribe),
    PingReq(v4::PingReq),
    Disconnect(v4::Disconnect),
}

fn convert4(p: &Packet) -> Out4 {
    match p {
        Packet::Publish(p) => {
            let mut out =
                v4::Publish::from_bytes(s(&p.topic), qos4(p.qos.qos()), p.payload.clone());
            out.pkid = p.qos.packet_id().map_or(0, |id| id.get());
            out.dup = p.dup;
            out.retain = p.retain;
            Out4::Publish(out)
        }
        Packet::Connect(c) => {
            let mut out = v4::Connect::new(s(&c.client_id));
            out.keep_alive = c.keep_alive;
            out.clean_session = c.clean_start;
            out.last_will = c
                .will
                .as_ref()
                .map(|w| v4::LastWill::new(s(&w.topic), w.payload.to_vec(), qos4(w.qos), w.retain));
            if let (Some(u), Some(pw)) = (&c.user_name, &c.password) {
                out.set_login(s(u), String::from_utf8(pw.to_vec()).unwrap());
            }
            Out4::Connect(out)
        }
        Packet::ConnAck(c) => Out4::ConnAck(v4::ConnAck::new(
            v4::ConnectReturnCode::Success,
            c.session_present,
        )),
        Packet::PubAck(a) => Out4::PubAck(v4::PubAck::new(a.packet_id.get())),
        Packet::Subscribe(sub) => {
            let mut out = v4::Subscribe::new_many(
                sub.subscriptions
                    .iter()
                    .map(|f| v4::SubscribeFilter::new(s(&f.filter), qos4(f.options.qos))),
            );
            out.pkid = sub.packet_id.get();
            Out4::Subscribe(out)
        }
        Packet::PingReq => Out4::PingReq(v4::PingReq),
        Packet::Disconnect(_) => Out4::Disconnect(v4::Disconnect),
        other => panic!("no conversion for {other:?}"),
    }
}

/// Appends `p` to `tx`.
#[inline(always)]
fn put4(p: &Out4, tx: &mut BytesMut) -> usize {
    match p {
        Out4::Publish(p) => p.write(tx),
        Out4::Connect(p) => p.write(tx),
        Out4::ConnAck(p) => p.write(tx),
        Out4::PubAck(p) => p.write(tx),
        Out4::Subscribe(p) => p.write(tx),
        Out4::PingReq(p) => p.write(tx),
        Out4::Disconnect(p) => p.write(tx),
    }
    .unwrap()
}

fn write4(p: &mut Out4, tx: &mut BytesMut) -> usize {
    tx.clear();
    put4(p, tx)
}

// ---- 5.0 ----

fn qos5(q: WQoS) -> rumqttc::v5::mqttbytes::QoS {
    match q {
        WQoS::AtMostOnce => rumqttc::v5::mqttbytes::QoS::AtMostOnce,
        WQoS::AtLeastOnce => rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
        WQoS::ExactlyOnce => rumqttc::v5::mqttbytes::QoS::ExactlyOnce,
    }
}

#[inline(always)]
fn step5(_: &mut (), rx: &mut BytesMut, sink: &mut impl FnMut(&v5::Packet)) -> bool {
    match v5::Packet::read(rx, Some(MAX as u32)) {
        Ok(ref p) => {
            sink(p);
            true
        }
        Err(rumqttc::v5::mqttbytes::Error::InsufficientBytes(_)) => false,
        Err(e) => panic!("rumqttc v5: {e:?}"),
    }
}

fn summary5(p: &v5::Packet) -> Summary {
    let utf8 = |b: &Bytes| String::from_utf8_lossy(b).into_owned();
    match p {
        v5::Packet::Publish(p) => Summary {
            topic: utf8(&p.topic),
            payload_len: p.payload.len(),
            pid: p.pkid,
            count: p.properties.as_ref().map_or(0, |p| p.user_properties.len()),
            text: p
                .properties
                .as_ref()
                .and_then(|p| p.content_type.clone())
                .unwrap_or_default(),
            ..Summary::new("publish")
        },
        v5::Packet::Connect(c, will, login) => Summary {
            topic: will.as_ref().map_or(String::new(), |w| utf8(&w.topic)),
            payload_len: will.as_ref().map_or(0, |w| w.message.len()),
            id: c.client_id.clone(),
            count: c.properties.as_ref().map_or(0, |p| p.user_properties.len()),
            text: login.as_ref().map_or(String::new(), |l| l.username.clone()),
            ..Summary::new("connect")
        },
        v5::Packet::ConnAck(c) => Summary {
            id: c
                .properties
                .as_ref()
                .and_then(|p| p.assigned_client_identifier.clone())
                .unwrap_or_default(),
            count: c.properties.as_ref().map_or(0, |p| p.user_properties.len()),
            ..Summary::new("connack")
        },
        v5::Packet::PubAck(a) => Summary {
            pid: a.pkid,
            ..Summary::new("puback")
        },
        v5::Packet::Subscribe(s) => Summary {
            pid: s.pkid,
            count: s.filters.len(),
            ..Summary::new("subscribe")
        },
        v5::Packet::PingReq(_) => Summary::new("pingreq"),
        v5::Packet::Disconnect(_) => Summary::new("disconnect"),
        other => panic!("unexpected {other:?}"),
    }
}

fn next5(d: &mut (), rx: &mut BytesMut, out: &mut dyn FnMut(Summary)) -> bool {
    step5(d, rx, &mut |p| out(summary5(p)))
}

#[inline(always)]
fn fast5(d: &mut (), rx: &mut BytesMut) -> bool {
    step5(d, rx, &mut |p| {
        black_box(p);
    })
}

enum Out5 {
    Publish(v5::Publish),
    Connect(v5::Connect, Option<v5::LastWill>, Option<v5::Login>),
    ConnAck(v5::ConnAck),
    PubAck(v5::PubAck),
    Subscribe(v5::Subscribe),
    PingReq,
    Disconnect(v5::Disconnect),
}

fn convert5(p: &Packet) -> Out5 {
    match p {
        Packet::Publish(p) => {
            let pp = &p.properties;
            let properties = (!pp.is_empty()).then(|| v5::PublishProperties {
                payload_format_indicator: None,
                message_expiry_interval: pp.message_expiry_interval,
                topic_alias: None,
                response_topic: None,
                correlation_data: None,
                user_properties: pairs(&pp.user_properties()),
                subscription_identifiers: Vec::new(),
                content_type: pp.content_type().as_ref().map(s),
            });
            let mut out = v5::Publish::new(
                s(&p.topic),
                qos5(p.qos.qos()),
                p.payload.clone(),
                properties,
            );
            out.pkid = p.qos.packet_id().map_or(0, |id| id.get());
            out.dup = p.dup;
            out.retain = p.retain;
            Out5::Publish(out)
        }
        Packet::Connect(c) => {
            let cp = &c.properties;
            let properties = v5::ConnectProperties {
                session_expiry_interval: cp.session_expiry_interval,
                receive_maximum: cp.receive_maximum.map(|n| n.get()),
                max_packet_size: cp.maximum_packet_size.map(|n| n.get()),
                topic_alias_max: cp.topic_alias_maximum,
                request_response_info: None,
                request_problem_info: cp.request_problem_information.map(u8::from),
                user_properties: pairs(&cp.user_properties()),
                authentication_method: None,
                authentication_data: None,
            };
            let will = c.will.as_ref().map(|w| {
                let wp = &w.properties;
                v5::LastWill::new(
                    s(&w.topic),
                    w.payload.to_vec(),
                    qos5(w.qos),
                    w.retain,
                    Some(v5::LastWillProperties {
                        delay_interval: wp.will_delay_interval,
                        payload_format_indicator: None,
                        message_expiry_interval: wp.message_expiry_interval,
                        content_type: wp.content_type().as_ref().map(s),
                        response_topic: None,
                        correlation_data: None,
                        user_properties: Vec::new(),
                    }),
                )
            });
            let login = match (&c.user_name, &c.password) {
                (Some(u), Some(pw)) => Some(v5::Login::new(
                    s(u),
                    String::from_utf8(pw.to_vec()).unwrap(),
                )),
                _ => None,
            };
            Out5::Connect(
                v5::Connect {
                    keep_alive: c.keep_alive,
                    client_id: s(&c.client_id),
                    clean_start: c.clean_start,
                    properties: Some(properties),
                },
                will,
                login,
            )
        }
        Packet::ConnAck(c) => {
            let p = &c.properties;
            let properties = v5::ConnAckProperties {
                session_expiry_interval: p.session_expiry_interval,
                receive_max: p.receive_maximum.map(|n| n.get()),
                max_qos: p.maximum_qos.map(|q| q as u8),
                retain_available: p.retain_available.map(u8::from),
                max_packet_size: p.maximum_packet_size.map(|n| n.get()),
                assigned_client_identifier: p.assigned_client_identifier().as_ref().map(s),
                topic_alias_max: p.topic_alias_maximum,
                reason_string: None,
                user_properties: pairs(&p.user_properties()),
                wildcard_subscription_available: p.wildcard_subscription_available.map(u8::from),
                subscription_identifiers_available: None,
                shared_subscription_available: p.shared_subscription_available.map(u8::from),
                server_keep_alive: p.server_keep_alive,
                response_information: None,
                server_reference: None,
                authentication_method: None,
                authentication_data: None,
            };
            Out5::ConnAck(v5::ConnAck {
                session_present: c.session_present,
                code: v5::ConnectReturnCode::Success,
                properties: Some(properties),
            })
        }
        Packet::PubAck(a) => Out5::PubAck(v5::PubAck::new(a.packet_id.get(), None)),
        Packet::Subscribe(sub) => {
            let sp = &sub.properties;
            let filters = sub.subscriptions.iter().map(|f| {
                let o = f.options;
                v5::Filter {
                    path: s(&f.filter),
                    qos: qos5(o.qos),
                    nolocal: o.no_local,
                    preserve_retain: o.retain_as_published,
                    retain_forward_rule: match o.retain_handling {
                        RetainHandling::SendAtSubscribe => v5::RetainForwardRule::OnEverySubscribe,
                        RetainHandling::SendIfNew => v5::RetainForwardRule::OnNewSubscribe,
                        RetainHandling::DoNotSend => v5::RetainForwardRule::Never,
                    },
                }
            });
            Out5::Subscribe(v5::Subscribe {
                pkid: sub.packet_id.get(),
                filters: filters.collect(),
                properties: (!sp.is_empty()).then(|| v5::SubscribeProperties {
                    id: sp.subscription_identifier.map(|id| id.get() as usize),
                    user_properties: pairs(&sp.user_properties()),
                }),
            })
        }
        Packet::PingReq => Out5::PingReq,
        Packet::Disconnect(d) => {
            let dp = &d.properties;
            Out5::Disconnect(v5::Disconnect {
                reason_code: u8::from(d.reason_code).try_into().unwrap(),
                properties: (!dp.is_empty()).then(|| v5::DisconnectProperties {
                    session_expiry_interval: dp.session_expiry_interval,
                    reason_string: dp.reason_string().as_ref().map(s),
                    user_properties: pairs(&dp.user_properties()),
                    server_reference: dp.server_reference().as_ref().map(s),
                }),
            })
        }
        other => panic!("no conversion for {other:?}"),
    }
}

/// Appends `p` to `tx`.
#[inline(always)]
fn put5(p: &Out5, tx: &mut BytesMut) -> usize {
    match p {
        Out5::Publish(p) => p.write(tx),
        Out5::Connect(c, w, l) => c.write(w, l, tx),
        Out5::ConnAck(p) => p.write(tx),
        Out5::PubAck(p) => p.write(tx),
        Out5::Subscribe(p) => p.write(tx),
        Out5::PingReq => v5::PingReq::write(tx),
        Out5::Disconnect(p) => p.write(tx),
    }
    .unwrap()
}

fn write5(p: &mut Out5, tx: &mut BytesMut) -> usize {
    tx.clear();
    put5(p, tx)
}

pub fn spec(case: &Case) -> Result<Spec, NotApplicable> {
    const NAME: &str = "rumqttc";
    let tx = BytesMut::with_capacity(128 * 1024);
    let want = case.want.first().cloned().unwrap_or_default();
    let v5 = case.version.is_v5();
    match (case.op, case.workload, v5) {
        (Op::Decode, Workload::Stream, false) => {
            stream_decode_job(NAME, &case.bytes, &case.want, (), next4, fast4)
        }
        (Op::Decode, Workload::Chunks7, false) => {
            chunked_decode_job(NAME, &case.bytes, &case.want, (), next4, fast4)
        }
        (Op::Decode, _, false) => bytesmut_decode_job(NAME, &case.bytes, want, (), next4, fast4),
        (Op::Decode, Workload::Stream, true) => {
            stream_decode_job(NAME, &case.bytes, &case.want, (), next5, fast5)
        }
        (Op::Decode, Workload::Chunks7, true) => {
            chunked_decode_job(NAME, &case.bytes, &case.want, (), next5, fast5)
        }
        (Op::Decode, _, true) => bytesmut_decode_job(NAME, &case.bytes, want, (), next5, fast5),
        (Op::Encode, Workload::Stream, false) => encode_stream_job(
            NAME,
            &case.packets,
            case.version,
            case.packets.iter().map(convert4).collect(),
            tx,
            BytesMut::clear,
            |p, tx, _| {
                put4(p, tx);
                tx.len()
            },
            |tx, _| &tx[..],
        ),
        (Op::Encode, Workload::Stream, true) => encode_stream_job(
            NAME,
            &case.packets,
            case.version,
            case.packets.iter().map(convert5).collect(),
            tx,
            BytesMut::clear,
            |p, tx, _| {
                put5(p, tx);
                tx.len()
            },
            |tx, _| &tx[..],
        ),
        (Op::Encode, _, false) => encode_job(
            NAME,
            &case.packet,
            case.version,
            convert4(&case.packet),
            tx,
            write4,
            |tx, _| &tx[..],
        ),
        (Op::Encode, _, true) => encode_job(
            NAME,
            &case.packet,
            case.version,
            convert5(&case.packet),
            tx,
            write5,
            |tx, _| &tx[..],
        ),
    }
}
