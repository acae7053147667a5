//! mqtt-protocol-core 0.7: a sans-IO MQTT connection whose packet types each have a
//! public `parse`. Its only stream API, `PacketBuilder::feed`, copies every packet into a
//! zero-filled `Vec` (and PUBLISH once more into an `Arc<[u8]>`), so the harness frames the
//! stream itself (`harness::frame`, the floor's loop) and calls the packet type's `parse`
//! on the body — what its connection does after `feed`, minus the copies: non-PUBLISH
//! bodies are parsed from the receive buffer in place; a PUBLISH body must be an
//! `Arc<[u8]>`, so it is copied into one (that copy is part of its cost). Like its
//! connection, it requires `parse` to consume the whole body. Encode: `to_buffers()`
//! copied into a reused `Vec<u8>` for PUBLISH and the 3.1.1 CONNECT,
//! `to_continuous_buffer()` (a new `Vec<u8>`) for the others: whichever costs fewer
//! instructions for that packet type. The mixed stream: every packet appended to one
//! reused `Vec<u8>`, from `to_buffers()` (PUBACK: `to_continuous_buffer()`), again
//! whichever costs fewer instructions.

use crate::cases::{Case, Op, Workload};
use crate::harness::{
    batch_for, check_summaries, chunked_decode_job, encode_job, encode_stream_job, frame, job,
    stream_decode_job, NotApplicable, Spec, Summary,
};
use bytes::{Buf, BytesMut};
use mqtt::packet::{v3_1_1, v5_0, GenericPacket, Property, Qos};
use mqtt_protocol_core::mqtt;
use mqttwire::{Packet, ProtocolVersion, QoS as WQoS, RetainHandling};
use std::hint::black_box;

type Arc<T> = mqtt::Arc<T>;

#[derive(Clone, Copy)]
struct State {
    v5: bool,
}

fn exact<T>(r: Result<(T, usize), mqtt::result_code::MqttError>, len: usize) -> T {
    match r {
        Ok((p, used)) if used == len => p,
        Ok((_, used)) => panic!("mqtt-protocol-core: parse used {used} of {len} bytes"),
        Err(e) => panic!("mqtt-protocol-core: {e:?}"),
    }
}

/// Parses one frame: `first` is the fixed header's first byte, `body` what follows the
/// Remaining Length.
#[inline(always)]
fn parse(v5: bool, first: u8, body: &[u8]) -> mqtt::packet::Packet {
    let n = body.len();
    let flags = first & 0x0F;
    use GenericPacket as G;
    match (v5, first >> 4) {
        (false, 1) => G::V3_1_1Connect(exact(v3_1_1::Connect::parse(body), n)),
        (false, 2) => G::V3_1_1Connack(exact(v3_1_1::Connack::parse(body), n)),
        (false, 3) => G::V3_1_1Publish(exact(v3_1_1::Publish::parse(flags, Arc::from(body)), n)),
        (false, 4) => G::V3_1_1Puback(exact(v3_1_1::Puback::parse(body), n)),
        (false, 8) => G::V3_1_1Subscribe(exact(v3_1_1::Subscribe::parse(body), n)),
        (false, 12) => G::V3_1_1Pingreq(exact(v3_1_1::Pingreq::parse(body), n)),
        (false, 14) => G::V3_1_1Disconnect(exact(v3_1_1::Disconnect::parse(body), n)),
        (true, 1) => G::V5_0Connect(exact(v5_0::Connect::parse(body), n)),
        (true, 2) => G::V5_0Connack(exact(v5_0::Connack::parse(body), n)),
        (true, 3) => G::V5_0Publish(exact(v5_0::Publish::parse(flags, Arc::from(body)), n)),
        (true, 4) => G::V5_0Puback(exact(v5_0::Puback::parse(body), n)),
        (true, 8) => G::V5_0Subscribe(exact(v5_0::Subscribe::parse(body), n)),
        (true, 12) => G::V5_0Pingreq(exact(v5_0::Pingreq::parse(body), n)),
        (true, 14) => G::V5_0Disconnect(exact(v5_0::Disconnect::parse(body), n)),
        (_, t) => panic!("packet type {t} not in the workloads"),
    }
}

fn user_props(p: &[Property]) -> usize {
    p.iter()
        .filter(|p| matches!(p, Property::UserProperty(_)))
        .count()
}

fn summary(p: &mqtt::packet::Packet) -> Summary {
    use GenericPacket as G;
    match p {
        G::V3_1_1Publish(p) => Summary {
            topic: p.topic_name().to_owned(),
            payload_len: p.payload().len(),
            pid: p.packet_id().unwrap_or(0),
            ..Summary::new("publish")
        },
        G::V5_0Publish(p) => Summary {
            topic: p.topic_name().to_owned(),
            payload_len: p.payload().len(),
            pid: p.packet_id().unwrap_or(0),
            count: user_props(p.props()),
            text: p
                .props()
                .iter()
                .find_map(|p| match p {
                    Property::ContentType(c) => Some(c.val().to_owned()),
                    _ => None,
                })
                .unwrap_or_default(),
            ..Summary::new("publish")
        },
        G::V3_1_1Connect(c) => Summary {
            topic: c.will_topic().unwrap_or_default().to_owned(),
            payload_len: c.will_payload().map_or(0, |p| p.len()),
            id: c.client_id().to_owned(),
            text: c.user_name().unwrap_or_default().to_owned(),
            ..Summary::new("connect")
        },
        G::V5_0Connect(c) => Summary {
            topic: c.will_topic().unwrap_or_default().to_owned(),
            payload_len: c.will_payload().map_or(0, |p| p.len()),
            id: c.client_id().to_owned(),
            count: user_props(c.props()),
            text: c.user_name().unwrap_or_default().to_owned(),
            ..Summary::new("connect")
        },
        G::V3_1_1Connack(_) => Summary::new("connack"),
        G::V5_0Connack(c) => Summary {
            id: c
                .props()
                .iter()
                .find_map(|p| match p {
                    Property::AssignedClientIdentifier(c) => Some(c.val().to_owned()),
                    _ => None,
                })
                .unwrap_or_default(),
            count: user_props(c.props()),
            ..Summary::new("connack")
        },
        G::V3_1_1Puback(a) => Summary {
            pid: a.packet_id(),
            ..Summary::new("puback")
        },
        G::V5_0Puback(a) => Summary {
            pid: a.packet_id(),
            ..Summary::new("puback")
        },
        G::V3_1_1Subscribe(s) => Summary {
            pid: s.packet_id(),
            count: s.entries().len(),
            ..Summary::new("subscribe")
        },
        G::V5_0Subscribe(s) => Summary {
            pid: s.packet_id(),
            count: s.entries().len(),
            ..Summary::new("subscribe")
        },
        G::V3_1_1Pingreq(_) | G::V5_0Pingreq(_) => Summary::new("pingreq"),
        G::V3_1_1Disconnect(_) | G::V5_0Disconnect(_) => Summary::new("disconnect"),
        other => panic!("unexpected {other:?}"),
    }
}

#[inline(always)]
fn step(d: &mut State, rx: &mut BytesMut, sink: &mut impl FnMut(&mqtt::packet::Packet)) -> bool {
    let Some((header, total)) = frame(rx) else {
        return false;
    };
    let p = parse(d.v5, rx[0], &rx[header..total]);
    sink(&p);
    drop(p);
    rx.advance(total);
    true
}

fn next(d: &mut State, rx: &mut BytesMut, out: &mut dyn FnMut(Summary)) -> bool {
    step(d, rx, &mut |p| out(summary(p)))
}

#[inline(always)]
fn fast(d: &mut State, rx: &mut BytesMut) -> bool {
    step(d, rx, &mut |p| {
        black_box(p);
    })
}

fn qos(q: WQoS) -> Qos {
    match q {
        WQoS::AtMostOnce => Qos::AtMostOnce,
        WQoS::AtLeastOnce => Qos::AtLeastOnce,
        WQoS::ExactlyOnce => Qos::ExactlyOnce,
    }
}

fn user_properties(p: &mqttwire::properties::UserProperties) -> Vec<Property> {
    p.iter()
        .map(|(k, v)| Property::UserProperty(mqtt::packet::UserProperty::new(k, v).unwrap()))
        .collect()
}

/// mqtt-protocol-core's packet equivalent to `p`.
fn convert(p: &Packet, version: ProtocolVersion) -> mqtt::packet::Packet {
    use mqtt::packet as mp;
    use GenericPacket as G;
    let v5 = version.is_v5();
    match p {
        Packet::Publish(p) if v5 => {
            let pp = &p.properties;
            let mut props: Vec<Property> = Vec::new();
            if let Some(e) = pp.message_expiry_interval {
                props.push(Property::MessageExpiryInterval(
                    mp::MessageExpiryInterval::new(e).unwrap(),
                ));
            }
            if let Some(c) = &pp.content_type() {
                props.push(Property::ContentType(
                    mp::ContentType::new(c.as_str()).unwrap(),
                ));
            }
            props.extend(user_properties(&pp.user_properties()));
            let mut b = v5_0::Publish::builder()
                .topic_name(p.topic.as_str())
                .unwrap()
                .qos(qos(p.qos.qos()))
                .dup(p.dup)
                .retain(p.retain)
                .payload(p.payload.to_vec());
            if let Some(id) = p.qos.packet_id() {
                b = b.packet_id(id.get());
            }
            if !props.is_empty() {
                b = b.props(props);
            }
            G::V5_0Publish(b.build().unwrap())
        }
        Packet::Publish(p) => {
            let mut b = v3_1_1::Publish::builder()
                .topic_name(p.topic.as_str())
                .unwrap()
                .qos(qos(p.qos.qos()))
                .dup(p.dup)
                .retain(p.retain)
                .payload(p.payload.to_vec());
            if let Some(id) = p.qos.packet_id() {
                b = b.packet_id(id.get());
            }
            G::V3_1_1Publish(b.build().unwrap())
        }
        Packet::Connect(c) if v5 => {
            let cp = &c.properties;
            let mut props: Vec<Property> = Vec::new();
            if let Some(x) = cp.session_expiry_interval {
                props.push(Property::SessionExpiryInterval(
                    mp::SessionExpiryInterval::new(x).unwrap(),
                ));
            }
            if let Some(x) = cp.receive_maximum {
                props.push(Property::ReceiveMaximum(
                    mp::ReceiveMaximum::new(x.get()).unwrap(),
                ));
            }
            if let Some(x) = cp.maximum_packet_size {
                props.push(Property::MaximumPacketSize(
                    mp::MaximumPacketSize::new(x.get()).unwrap(),
                ));
            }
            if let Some(x) = cp.topic_alias_maximum {
                props.push(Property::TopicAliasMaximum(
                    mp::TopicAliasMaximum::new(x).unwrap(),
                ));
            }
            if let Some(x) = cp.request_problem_information {
                props.push(Property::RequestProblemInformation(
                    mp::RequestProblemInformation::new(u8::from(x)).unwrap(),
                ));
            }
            props.extend(user_properties(&cp.user_properties()));
            let mut b = v5_0::Connect::builder()
                .client_id(c.client_id.as_str())
                .unwrap()
                .clean_start(c.clean_start)
                .keep_alive(c.keep_alive)
                .props(props);
            if let Some(w) = &c.will {
                let wp = &w.properties;
                let mut will_props: Vec<Property> = Vec::new();
                if let Some(x) = wp.will_delay_interval {
                    will_props.push(Property::WillDelayInterval(
                        mp::WillDelayInterval::new(x).unwrap(),
                    ));
                }
                if let Some(x) = wp.message_expiry_interval {
                    will_props.push(Property::MessageExpiryInterval(
                        mp::MessageExpiryInterval::new(x).unwrap(),
                    ));
                }
                if let Some(x) = &wp.content_type() {
                    will_props.push(Property::ContentType(
                        mp::ContentType::new(x.as_str()).unwrap(),
                    ));
                }
                b = b
                    .will_message(w.topic.as_str(), w.payload.to_vec(), qos(w.qos), w.retain)
                    .unwrap()
                    .will_props(will_props);
            }
            if let Some(u) = &c.user_name {
                b = b.user_name(u.as_str()).unwrap();
            }
            if let Some(pw) = &c.password {
                b = b.password(pw.to_vec()).unwrap();
            }
            G::V5_0Connect(b.build().unwrap())
        }
        Packet::Connect(c) => {
            let mut b = v3_1_1::Connect::builder()
                .client_id(c.client_id.as_str())
                .unwrap()
                .clean_session(c.clean_start)
                .keep_alive(c.keep_alive);
            if let Some(w) = &c.will {
                b = b
                    .will_message(w.topic.as_str(), w.payload.to_vec(), qos(w.qos), w.retain)
                    .unwrap();
            }
            if let Some(u) = &c.user_name {
                b = b.user_name(u.as_str()).unwrap();
            }
            if let Some(pw) = &c.password {
                b = b.password(pw.to_vec()).unwrap();
            }
            G::V3_1_1Connect(b.build().unwrap())
        }
        Packet::ConnAck(c) if v5 => {
            let p = &c.properties;
            let mut props: Vec<Property> = Vec::new();
            if let Some(x) = p.session_expiry_interval {
                props.push(Property::SessionExpiryInterval(
                    mp::SessionExpiryInterval::new(x).unwrap(),
                ));
            }
            if let Some(x) = p.receive_maximum {
                props.push(Property::ReceiveMaximum(
                    mp::ReceiveMaximum::new(x.get()).unwrap(),
                ));
            }
            if let Some(x) = p.maximum_qos {
                props.push(Property::MaximumQos(mp::MaximumQos::new(x as u8).unwrap()));
            }
            if let Some(x) = p.retain_available {
                props.push(Property::RetainAvailable(
                    mp::RetainAvailable::new(u8::from(x)).unwrap(),
                ));
            }
            if let Some(x) = p.maximum_packet_size {
                props.push(Property::MaximumPacketSize(
                    mp::MaximumPacketSize::new(x.get()).unwrap(),
                ));
            }
            if let Some(x) = &p.assigned_client_identifier() {
                props.push(Property::AssignedClientIdentifier(
                    mp::AssignedClientIdentifier::new(x.as_str()).unwrap(),
                ));
            }
            if let Some(x) = p.topic_alias_maximum {
                props.push(Property::TopicAliasMaximum(
                    mp::TopicAliasMaximum::new(x).unwrap(),
                ));
            }
            if let Some(x) = p.wildcard_subscription_available {
                props.push(Property::WildcardSubscriptionAvailable(
                    mp::WildcardSubscriptionAvailable::new(u8::from(x)).unwrap(),
                ));
            }
            if let Some(x) = p.shared_subscription_available {
                props.push(Property::SharedSubscriptionAvailable(
                    mp::SharedSubscriptionAvailable::new(u8::from(x)).unwrap(),
                ));
            }
            if let Some(x) = p.server_keep_alive {
                props.push(Property::ServerKeepAlive(
                    mp::ServerKeepAlive::new(x).unwrap(),
                ));
            }
            props.extend(user_properties(&p.user_properties()));
            G::V5_0Connack(
                v5_0::Connack::builder()
                    .session_present(c.session_present)
                    .reason_code(mqtt::result_code::ConnectReasonCode::Success)
                    .props(props)
                    .build()
                    .unwrap(),
            )
        }
        Packet::ConnAck(c) => G::V3_1_1Connack(
            v3_1_1::Connack::builder()
                .session_present(c.session_present)
                .return_code(mqtt::result_code::ConnectReturnCode::Accepted)
                .build()
                .unwrap(),
        ),
        Packet::PubAck(a) if v5 => G::V5_0Puback(
            v5_0::Puback::builder()
                .packet_id(a.packet_id.get())
                .build()
                .unwrap(),
        ),
        Packet::PubAck(a) => G::V3_1_1Puback(
            v3_1_1::Puback::builder()
                .packet_id(a.packet_id.get())
                .build()
                .unwrap(),
        ),
        Packet::Subscribe(sub) => {
            let entries: Vec<mp::SubEntry> = sub
                .subscriptions
                .iter()
                .map(|f| {
                    let o = f.options;
                    let mut opts = mp::SubOpts::new().set_qos(qos(o.qos));
                    if v5 {
                        opts = opts
                            .set_nl(o.no_local)
                            .set_rap(o.retain_as_published)
                            .set_rh(match o.retain_handling {
                                RetainHandling::SendAtSubscribe => mp::RetainHandling::SendRetained,
                                RetainHandling::SendIfNew => {
                                    mp::RetainHandling::SendRetainedIfNotExists
                                }
                                RetainHandling::DoNotSend => mp::RetainHandling::DoNotSendRetained,
                            });
                    }
                    mp::SubEntry::new(f.filter.as_str(), opts).unwrap()
                })
                .collect();
            if v5 {
                let sp = &sub.properties;
                let mut props: Vec<Property> = Vec::new();
                if let Some(id) = sp.subscription_identifier {
                    props.push(Property::SubscriptionIdentifier(
                        mp::SubscriptionIdentifier::new(id.get()).unwrap(),
                    ));
                }
                props.extend(user_properties(&sp.user_properties()));
                let mut b = v5_0::Subscribe::builder()
                    .packet_id(sub.packet_id.get())
                    .entries(entries);
                if !props.is_empty() {
                    b = b.props(props);
                }
                G::V5_0Subscribe(b.build().unwrap())
            } else {
                G::V3_1_1Subscribe(
                    v3_1_1::Subscribe::builder()
                        .packet_id(sub.packet_id.get())
                        .entries(entries)
                        .build()
                        .unwrap(),
                )
            }
        }
        Packet::PingReq if v5 => G::V5_0Pingreq(v5_0::Pingreq::new()),
        Packet::PingReq => G::V3_1_1Pingreq(v3_1_1::Pingreq::new()),
        Packet::Disconnect(d) if v5 => {
            let dp = &d.properties;
            let mut props: Vec<Property> = Vec::new();
            if let Some(x) = dp.session_expiry_interval {
                props.push(Property::SessionExpiryInterval(
                    mp::SessionExpiryInterval::new(x).unwrap(),
                ));
            }
            if let Some(x) = &dp.reason_string() {
                props.push(Property::ReasonString(
                    mp::ReasonString::new(x.as_str()).unwrap(),
                ));
            }
            if let Some(x) = &dp.server_reference() {
                props.push(Property::ServerReference(
                    mp::ServerReference::new(x.as_str()).unwrap(),
                ));
            }
            props.extend(user_properties(&dp.user_properties()));
            let mut b = v5_0::Disconnect::builder();
            // Reason code and properties may be left out when they are the defaults, as
            // mqttwire leaves them out.
            if d.reason_code != mqttwire::DisconnectReasonCode::NormalDisconnection
                || !props.is_empty()
            {
                b = b.reason_code(
                    mqtt::result_code::DisconnectReasonCode::try_from(u8::from(d.reason_code))
                        .unwrap(),
                );
            }
            if !props.is_empty() {
                b = b.props(props);
            }
            G::V5_0Disconnect(b.build().unwrap())
        }
        Packet::Disconnect(_) => G::V3_1_1Disconnect(v3_1_1::Disconnect::new()),
        other => panic!("no conversion for {other:?}"),
    }
}

/// `to_buffers()` copied into the reused output buffer: fewer instructions than
/// `to_continuous_buffer()` for PUBLISH and the 3.1.1 CONNECT (measured).
fn gather(bufs: Vec<std::io::IoSlice<'_>>, out: &mut Vec<u8>) {
    out.clear();
    for b in &bufs {
        out.extend_from_slice(b);
    }
}

/// Appends `p` to the stream's output buffer. The output is one buffer, so
/// `to_continuous_buffer()`'s new `Vec` is copied in too; `to_buffers()` copied in costs
/// fewer instructions for every packet type of the stream but PUBACK (measured).
fn put(p: &mqtt::packet::Packet, out: &mut Vec<u8>) {
    use GenericPacket as G;
    let bufs = match p {
        G::V3_1_1Puback(p) => return out.extend_from_slice(&p.to_continuous_buffer()),
        G::V5_0Puback(p) => return out.extend_from_slice(&p.to_continuous_buffer()),
        G::V3_1_1Publish(p) => p.to_buffers(),
        G::V5_0Publish(p) => p.to_buffers(),
        G::V3_1_1Connect(p) => p.to_buffers(),
        G::V5_0Connect(p) => p.to_buffers(),
        G::V3_1_1Subscribe(p) => p.to_buffers(),
        G::V5_0Subscribe(p) => p.to_buffers(),
        G::V3_1_1Pingreq(p) => p.to_buffers(),
        G::V5_0Pingreq(p) => p.to_buffers(),
        G::V3_1_1Disconnect(p) => p.to_buffers(),
        G::V5_0Disconnect(p) => p.to_buffers(),
        _ => unreachable!(),
    };
    for b in &bufs {
        out.extend_from_slice(b);
    }
}

/// Encodes with whichever of its two APIs costs fewer instructions for the packet type:
/// `to_buffers()` (a `Vec<IoSlice>`, copied here into the reused output buffer) for
/// PUBLISH and the 3.1.1 CONNECT, `to_continuous_buffer()` (a new `Vec<u8>`) otherwise.
fn encode(p: &mut mqtt::packet::Packet, out: &mut Vec<u8>) -> usize {
    use GenericPacket as G;
    match p {
        G::V3_1_1Publish(p) => gather(p.to_buffers(), out),
        G::V5_0Publish(p) => gather(p.to_buffers(), out),
        G::V3_1_1Connect(p) => gather(p.to_buffers(), out),
        G::V5_0Connect(p) => *out = p.to_continuous_buffer(),
        G::V3_1_1Connack(p) => *out = p.to_continuous_buffer(),
        G::V5_0Connack(p) => *out = p.to_continuous_buffer(),
        G::V3_1_1Puback(p) => *out = p.to_continuous_buffer(),
        G::V5_0Puback(p) => *out = p.to_continuous_buffer(),
        _ => unreachable!(),
    }
    out.len()
}

pub fn spec(case: &Case) -> Result<Spec, NotApplicable> {
    const NAME: &str = "mqtt-protocol-core";
    let state = State {
        v5: case.version.is_v5(),
    };
    match (case.op, case.workload) {
        (Op::Decode, Workload::Stream) => {
            stream_decode_job(NAME, &case.bytes, &case.want, state, next, fast)
        }
        (Op::Decode, Workload::Chunks7) => {
            chunked_decode_job(NAME, &case.bytes, &case.want, state, next, fast)
        }
        (Op::Decode, _) => {
            // The packet at the start of a buffer, parsed in place (PUBLISH: copied into
            // the Arc its parse requires).
            let mut rx = BytesMut::from(&case.bytes[..]);
            let mut got = Vec::new();
            assert!(next(&mut state.clone(), &mut rx, &mut |s| got.push(s)));
            check_summaries(NAME, &got, &case.want)?;
            let k = batch_for(case.bytes.len());
            Ok(Spec {
                job: job(
                    case.bytes.clone(),
                    |_| {},
                    move |bytes| {
                        for _ in 0..k {
                            let buf = black_box(&bytes[..]);
                            let (header, total) = frame(buf).unwrap();
                            let p = parse(state.v5, buf[0], &buf[header..total]);
                            black_box(&p);
                        }
                    },
                ),
                packets_per_run: k as u64,
                bytes_per_packet: case.bytes.len() as f64,
                note: None,
            })
        }
        (Op::Encode, Workload::Stream) => encode_stream_job(
            NAME,
            &case.packets,
            case.version,
            case.packets
                .iter()
                .map(|p| convert(p, case.version))
                .collect(),
            Vec::new(),
            Vec::clear,
            |p, out, _| {
                put(p, out);
                out.len()
            },
            |out, _| &out[..],
        ),
        (Op::Encode, _) => encode_job(
            NAME,
            &case.packet,
            case.version,
            convert(&case.packet, case.version),
            Vec::new(),
            encode,
            |out, _| &out[..],
        ),
    }
}
