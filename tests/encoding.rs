//! The encoder contract: `encoded_len` is exactly what is written, a too-small buffer is an
//! error that writes nothing, content a version cannot carry is an error and never silently
//! dropped, protocol limits are enforced, the peer's Maximum Packet Size is kept by dropping
//! only what MQTT 5.0 lets a sender drop, and hand-built packets give hand-computed bytes.

mod common;

use bytes::{Bytes, BytesMut};
use common::*;
use core::num::{NonZeroU16, NonZeroU32};
use mqttwire::properties::{
    AckProperties, AuthProperties, ConnAckProperties, ConnectProperties, DisconnectProperties,
    PayloadFormat, PublishProperties, SubscribeProperties, SubscriptionIds, UnsubscribeProperties,
    UserProperties, WillProperties,
};
use mqttwire::{
    Auth, AuthReasonCode, ConnAck, Connect, ConnectReasonCode, Disconnect, DisconnectReasonCode,
    EncodeError, Encoder, InvalidString, InvalidTopic, MqttString, Packet, PacketId, PacketType,
    ProtocolVersion, PubAck, PubAckReasonCode, PubComp, PubRec, PubRel, PubRelReasonCode, Publish,
    QoS, QosPid, RetainHandling, SubAck, SubAckReasonCode, Subscribe, Subscription, SubscriptionId,
    TopicFilter, TopicName, UnsubAck, UnsubAckReasonCode, Unsubscribe, Will, MAX_PACKET_SIZE,
};
use std::collections::BTreeSet;

fn pid(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

fn s(x: &str) -> MqttString {
    MqttString::new(x).unwrap()
}

fn topic(x: &str) -> TopicName {
    TopicName::new(x).unwrap()
}

fn filter(x: &str) -> TopicFilter {
    TopicFilter::new(x).unwrap()
}

fn pairs(list: &[(&str, &str)]) -> UserProperties {
    UserProperties::from_pairs(list.iter().copied()).unwrap()
}

fn encode(packet: &Packet, version: ProtocolVersion) -> Vec<u8> {
    let mut buf = BytesMut::new();
    let n = packet.encode(version, &mut buf).unwrap();
    assert_eq!(n, buf.len());
    buf.to_vec()
}

// ------------------------------------------------------------------------------------------
// Packets of every type, built by hand
// ------------------------------------------------------------------------------------------

fn connect_all(version: ProtocolVersion) -> Connect {
    let mut connect = Connect::new(version, s("c1"));
    let mut will = Will::new(topic("w/t"), &b"bye"[..]);
    will.qos = QoS::AtLeastOnce;
    will.retain = true;
    connect.will = Some(will);
    connect.user_name = Some(s("u"));
    connect.password = Some(Bytes::from_static(b"pw"));
    connect
}

fn connect_all_v5() -> Connect {
    let mut connect = connect_all(V5);
    let mut props = ConnectProperties::default();
    props.session_expiry_interval = Some(60);
    props.receive_maximum = NonZeroU16::new(10);
    props.set_user_properties(pairs(&[("k", "v")]));
    connect.properties = props;
    let mut will_props = WillProperties::default();
    will_props.will_delay_interval = Some(5);
    will_props.payload_format_indicator = Some(PayloadFormat::Utf8);
    connect.will.as_mut().unwrap().properties = will_props;
    connect
}

/// Packets without any 5.0-only content: valid at every level.
fn common_packets(version: ProtocolVersion) -> Vec<Packet> {
    let mut qos1 = Publish::new(topic("a/b"), &b"hi"[..]);
    qos1.qos = QosPid::AtLeastOnce(pid(10));
    let mut qos2 = Publish::new(topic("a"), Bytes::new());
    qos2.qos = QosPid::ExactlyOnce(pid(7));
    qos2.dup = true;
    qos2.retain = true;
    // MQTT 3.1 has no Session Present (its CONNACK flags byte is all reserved).
    let mut session = ConnAck::new(ConnectReasonCode::Success);
    session.session_present = version != V31;
    // MQTT 3.1 has no SUBACK failure code (0x80 came with 3.1.1).
    let second_grant = if version == V31 {
        SubAckReasonCode::GrantedQoS0
    } else {
        SubAckReasonCode::UnspecifiedError
    };
    let unsuback_codes = if version == V5 {
        vec![UnsubAckReasonCode::Success]
    } else {
        vec![]
    };
    vec![
        Connect::new(version, s("c1")).into(),
        connect_all(version).into(),
        ConnAck::new(ConnectReasonCode::Success).into(),
        session.into(),
        ConnAck::new(ConnectReasonCode::NotAuthorized).into(),
        Publish::new(topic("a"), &b"\x00\x01"[..]).into(),
        qos1.into(),
        qos2.into(),
        PubAck::new(pid(1)).into(),
        PubRec::new(pid(2)).into(),
        PubRel::new(pid(3)).into(),
        PubComp::new(pid(65_535)).into(),
        Subscribe::new(
            pid(1),
            vec![
                Subscription::new(filter("a/#"), QoS::ExactlyOnce),
                Subscription::new(filter("+"), QoS::AtMostOnce),
            ],
        )
        .into(),
        SubAck::new(pid(1), vec![SubAckReasonCode::GrantedQoS2, second_grant]).into(),
        Unsubscribe::new(pid(9), vec![filter("a"), filter("b/+")]).into(),
        UnsubAck::new(pid(9), unsuback_codes).into(),
        Packet::PingReq,
        Packet::PingResp,
        Disconnect::new(DisconnectReasonCode::NormalDisconnection).into(),
    ]
}

/// Packets with 5.0-only content, one or more per packet type that can carry it.
fn v5_packets() -> Vec<(&'static str, Packet)> {
    let mut out: Vec<(&'static str, Packet)> = Vec::new();
    out.push((
        "CONNECT with properties and will properties",
        connect_all_v5().into(),
    ));

    let mut connect = Connect::new(V5, s(""));
    let mut props = ConnectProperties::default();
    props.set_authentication_method(Some(s("SCRAM")));
    props
        .set_authentication_data(Some(Bytes::from_static(b"\x01\x02")))
        .unwrap();
    props.maximum_packet_size = NonZeroU32::new(1024);
    props.topic_alias_maximum = Some(3);
    props.request_response_information = Some(true);
    props.request_problem_information = Some(false);
    connect.properties = props;
    connect.password = Some(Bytes::from_static(b"pw"));
    out.push(("CONNECT with authentication, password only", connect.into()));

    let mut connack = ConnAck::new(ConnectReasonCode::Success);
    let mut props = ConnAckProperties::default();
    props.set_assigned_client_identifier(Some(s("x1")));
    props.maximum_qos = Some(QoS::AtLeastOnce);
    props.retain_available = Some(false);
    props.server_keep_alive = Some(5);
    props.set_reason_string(Some(s("welcome")));
    props.set_user_properties(pairs(&[("a", "1"), ("a", "2")]));
    connack.properties = props;
    out.push(("CONNACK with properties", connack.into()));
    out.push((
        "CONNACK Banned",
        ConnAck::new(ConnectReasonCode::Banned).into(),
    ));

    let mut publish = Publish::new(topic("a/b"), &b"hello"[..]);
    publish.qos = QosPid::ExactlyOnce(pid(42));
    let mut props = PublishProperties::default();
    props.payload_format_indicator = Some(PayloadFormat::Utf8);
    props.message_expiry_interval = Some(60);
    props.topic_alias = NonZeroU16::new(5);
    props.set_response_topic(Some(topic("r/1"))).unwrap();
    props
        .set_correlation_data(Some(Bytes::from_static(b"\xAB\xCD")))
        .unwrap();
    props.set_content_type(Some(s("text")));
    props.set_user_properties(pairs(&[("k", "v")]));
    props.set_subscription_identifiers(
        [1, 300, 268_435_455]
            .into_iter()
            .filter_map(SubscriptionId::new)
            .collect::<SubscriptionIds>(),
    );
    publish.properties = props;
    out.push(("PUBLISH with every property", publish.into()));

    let mut aliased = Publish::new(TopicName::default(), Bytes::new());
    let mut props = PublishProperties::default();
    props.topic_alias = NonZeroU16::new(1);
    aliased.properties = props;
    out.push(("PUBLISH empty topic with topic alias", aliased.into()));

    let mut ack_props = AckProperties::default();
    ack_props.set_reason_string(Some(s("too bad")));
    ack_props.set_user_properties(pairs(&[("k", "v")]));

    let mut puback = PubAck::new(pid(1));
    puback.reason_code = PubAckReasonCode::NoMatchingSubscribers;
    out.push(("PUBACK reason code only", puback.into()));
    let mut puback = PubAck::new(pid(1));
    puback.reason_code = PubAckReasonCode::UnspecifiedError;
    puback.properties = ack_props.clone();
    out.push(("PUBACK reason string and user property", puback.into()));
    let mut puback = PubAck::new(pid(1));
    puback.properties = ack_props.clone();
    out.push(("PUBACK success with properties", puback.into()));
    let mut pubrec = PubRec::new(pid(2));
    pubrec.reason_code = PubAckReasonCode::QuotaExceeded;
    pubrec.properties = ack_props.clone();
    out.push(("PUBREC with properties", pubrec.into()));
    let mut pubrel = PubRel::new(pid(3));
    pubrel.reason_code = PubRelReasonCode::PacketIdentifierNotFound;
    out.push(("PUBREL not found", pubrel.into()));
    let mut pubcomp = PubComp::new(pid(4));
    pubcomp.properties = ack_props.clone();
    out.push(("PUBCOMP with properties", pubcomp.into()));

    let mut sub = Subscription::new(filter("$share/g/a"), QoS::AtLeastOnce);
    sub.options.retain_as_published = true;
    sub.options.retain_handling = RetainHandling::DoNotSend;
    let mut local = Subscription::new(filter("b"), QoS::AtMostOnce);
    local.options.no_local = true;
    local.options.retain_handling = RetainHandling::SendIfNew;
    let mut subscribe = Subscribe::new(pid(5), vec![sub, local]);
    let mut props = SubscribeProperties::default();
    props.subscription_identifier = SubscriptionId::new(7);
    props.set_user_properties(pairs(&[("k", "v")]));
    subscribe.properties = props;
    out.push(("SUBSCRIBE with properties and options", subscribe.into()));

    let mut suback = SubAck::new(
        pid(5),
        vec![
            SubAckReasonCode::GrantedQoS1,
            SubAckReasonCode::NotAuthorized,
        ],
    );
    suback.properties = ack_props.clone();
    out.push(("SUBACK with properties", suback.into()));

    let mut unsubscribe = Unsubscribe::new(pid(6), vec![filter("a")]);
    let mut props = UnsubscribeProperties::default();
    props.set_user_properties(pairs(&[("k", "v")]));
    unsubscribe.properties = props;
    out.push(("UNSUBSCRIBE with a user property", unsubscribe.into()));

    let mut unsuback = UnsubAck::new(
        pid(6),
        vec![
            UnsubAckReasonCode::Success,
            UnsubAckReasonCode::NoSubscriptionExisted,
        ],
    );
    unsuback.properties = ack_props.clone();
    out.push(("UNSUBACK with properties", unsuback.into()));

    out.push((
        "DISCONNECT with will message",
        Disconnect::new(DisconnectReasonCode::DisconnectWithWillMessage).into(),
    ));
    let mut disconnect = Disconnect::new(DisconnectReasonCode::ServerMoved);
    let mut props = DisconnectProperties::default();
    props.set_server_reference(Some(s("other:1883")));
    props.set_reason_string(Some(s("moved")));
    disconnect.properties = props;
    out.push(("DISCONNECT with properties", disconnect.into()));
    let mut disconnect = Disconnect::new(DisconnectReasonCode::NormalDisconnection);
    let mut props = DisconnectProperties::default();
    props.session_expiry_interval = Some(0);
    disconnect.properties = props;
    out.push(("DISCONNECT success with properties", disconnect.into()));

    out.push(("AUTH success", Auth::new(AuthReasonCode::Success).into()));
    let mut auth = Auth::new(AuthReasonCode::ContinueAuthentication);
    let mut props = AuthProperties::default();
    props.set_authentication_method(Some(s("SCRAM")));
    props
        .set_authentication_data(Some(Bytes::from_static(b"\x00\xFF")))
        .unwrap();
    props.set_reason_string(Some(s("more")));
    auth.properties = props;
    out.push(("AUTH continue", auth.into()));
    out
}

fn all_packets(version: ProtocolVersion) -> Vec<Packet> {
    let mut packets = common_packets(version);
    if version == V5 {
        packets.extend(v5_packets().into_iter().map(|(_, p)| p));
    }
    packets
}

// ------------------------------------------------------------------------------------------
// encoded_len
// ------------------------------------------------------------------------------------------

#[test]
fn encoded_len_equals_bytes_written_for_every_packet_type_at_every_level() {
    for version in LEVELS {
        let mut types = BTreeSet::new();
        for packet in all_packets(version) {
            let context = format!("{version} {:?}", packet.packet_type());
            let len = packet.encoded_len(version).unwrap();
            let mut buf = BytesMut::new();
            assert_eq!(packet.encode(version, &mut buf).unwrap(), len, "{context}");
            assert_eq!(buf.len(), len, "{context}");
            // The Encoder writes the same, appending to what is already there.
            let mut appended = BytesMut::from(&b"xyz"[..]);
            let n = Encoder::new(version)
                .encode(&packet, &mut appended)
                .unwrap();
            assert_eq!(n, len, "{context}");
            assert_eq!(&appended[..3], b"xyz");
            assert_eq!(&appended[3..], &buf[..], "{context}");
            // A Vec<u8> is a BufMut as well.
            let mut vec = Vec::new();
            assert_eq!(packet.encode(version, &mut vec).unwrap(), len);
            assert_eq!(vec, &buf[..]);
            assert_roundtrip(&packet, version, &context);
            types.insert(packet.packet_type());
        }
        let expected: BTreeSet<_> = ALL_TYPES
            .into_iter()
            .filter(|t| version == V5 || *t != PacketType::Auth)
            .collect();
        assert_eq!(
            types, expected,
            "{version}: not every packet type was checked"
        );
    }
}

#[test]
fn encoded_len_follows_the_remaining_length_width_5_0_mqtt_1_5_5_1_and_3_1_1_section_2_2_3() {
    // PUBLISH QoS 0 with topic "a" (3 bytes): body = 3 + payload.
    // (body, Remaining Length bytes as the spec writes them)
    let cases: [(usize, &[u8]); 8] = [
        (127, &[0x7F]),
        (128, &[0x80, 0x01]),
        (321, &[0xC1, 0x02]),
        (16_383, &[0xFF, 0x7F]),
        (16_384, &[0x80, 0x80, 0x01]),
        (2_097_151, &[0xFF, 0xFF, 0x7F]),
        (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
        (4, &[0x04]),
    ];
    for version in LEVELS {
        for (body, rl) in cases {
            let extra = if version == V5 { 1 } else { 0 }; // the empty property set
            let payload = Bytes::from(vec![0x5A; body - 3 - extra]);
            let packet = Packet::Publish(Publish::new(topic("a"), payload));
            let total = 1 + rl.len() + body;
            assert_eq!(
                packet.encoded_len(version).unwrap(),
                total,
                "{version} {body}"
            );
            let mut buf = BytesMut::new();
            assert_eq!(packet.encode(version, &mut buf).unwrap(), total);
            assert_eq!(buf[0], 0x30);
            assert_eq!(&buf[1..1 + rl.len()], rl, "{version} {body}");
            assert_eq!(&buf[1 + rl.len()..1 + rl.len() + 3], [0x00, 0x01, b'a']);
        }
    }
}

// ------------------------------------------------------------------------------------------
// Too-small buffers
// ------------------------------------------------------------------------------------------

#[test]
fn encoding_into_a_too_small_slice_is_buffer_too_small_and_writes_nothing() {
    for version in LEVELS {
        for packet in all_packets(version) {
            let len = packet.encoded_len(version).unwrap();
            let mut storage = vec![0xA5u8; len + 4];
            for room in [0, 1, len / 2, len - 1] {
                let mut slice: &mut [u8] = &mut storage[..room];
                let err = packet.encode(version, &mut slice).unwrap_err();
                assert_eq!(
                    err,
                    EncodeError::BufferTooSmall {
                        needed: len,
                        available: room
                    },
                    "{version} {:?}",
                    packet.packet_type()
                );
                assert!(
                    storage.iter().all(|&b| b == 0xA5),
                    "{version} {:?}: bytes written into a {room}-byte slice",
                    packet.packet_type()
                );
            }
            // Exactly enough room: the whole packet, nothing after it.
            let mut slice: &mut [u8] = &mut storage[..len];
            assert_eq!(packet.encode(version, &mut slice).unwrap(), len);
            assert!(slice.is_empty());
            assert_eq!(&storage[..len], &encode(&packet, version)[..]);
            assert_eq!(&storage[len..], [0xA5; 4]);
        }
    }
}

#[test]
fn encoder_errors_leave_the_buffer_as_it_was() {
    let mut buf = BytesMut::from(&b"before"[..]);
    let packet: Packet = Auth::new(AuthReasonCode::Success).into();
    let err = Encoder::new(V311).encode(&packet, &mut buf).unwrap_err();
    assert!(matches!(err, EncodeError::UnsupportedInVersion { .. }));
    assert_eq!(&buf[..], b"before");
    let err = Encoder::new(V5)
        .with_max_packet_size(1)
        .encode(&Packet::PingReq, &mut buf)
        .unwrap_err();
    assert_eq!(err, EncodeError::PacketTooLarge { size: 2, max: 1 });
    assert_eq!(&buf[..], b"before");
}

// ------------------------------------------------------------------------------------------
// 5.0-only content below 5.0: an error, never silently dropped
// ------------------------------------------------------------------------------------------

/// The 5.0 packets, rebuilt for `version` where the packet itself says its level (CONNECT).
fn at_level(packet: &Packet, version: ProtocolVersion) -> Packet {
    match packet {
        Packet::Connect(c) => {
            let mut c = c.clone();
            c.protocol_version = version;
            Packet::Connect(c)
        }
        other => other.clone(),
    }
}

#[test]
fn v5_only_content_is_unsupported_in_version_below_5_0() {
    let mut cases = v5_packets();
    // A few single-feature cases on top of the full ones, so that each feature alone fails.
    let mut will_only = connect_all(V5);
    let mut will_props = WillProperties::default();
    will_props.message_expiry_interval = Some(1);
    will_only.will.as_mut().unwrap().properties = will_props;
    cases.push(("CONNECT with will properties only", will_only.into()));
    let mut user_only = Connect::new(V5, s("c1"));
    let mut props = ConnectProperties::default();
    props.set_user_properties(pairs(&[("k", "v")]));
    user_only.properties = props;
    cases.push(("CONNECT with a user property only", user_only.into()));
    for (code, name) in [
        (SubAckReasonCode::NotAuthorized, "SUBACK 0x87"),
        (SubAckReasonCode::QuotaExceeded, "SUBACK 0x97"),
    ] {
        cases.push((name, SubAck::new(pid(1), vec![code]).into()));
    }
    let mut nl = Subscription::new(filter("a"), QoS::AtMostOnce);
    nl.options.no_local = true;
    cases.push((
        "SUBSCRIBE No Local",
        Subscribe::new(pid(1), vec![nl]).into(),
    ));
    let mut rap = Subscription::new(filter("a"), QoS::AtMostOnce);
    rap.options.retain_as_published = true;
    cases.push((
        "SUBSCRIBE Retain As Published",
        Subscribe::new(pid(1), vec![rap]).into(),
    ));
    let mut rh = Subscription::new(filter("a"), QoS::AtMostOnce);
    rh.options.retain_handling = RetainHandling::SendIfNew;
    cases.push((
        "SUBSCRIBE Retain Handling",
        Subscribe::new(pid(1), vec![rh]).into(),
    ));
    for code in [
        DisconnectReasonCode::UnspecifiedError,
        DisconnectReasonCode::ServerShuttingDown,
    ] {
        cases.push(("DISCONNECT reason", Disconnect::new(code).into()));
    }
    let mut pubcomp = PubComp::new(pid(1));
    pubcomp.reason_code = PubRelReasonCode::PacketIdentifierNotFound;
    cases.push(("PUBCOMP not found", pubcomp.into()));
    let mut unsuback = UnsubAck::new(pid(1), vec![UnsubAckReasonCode::NotAuthorized]);
    unsuback.properties = AckProperties::default();
    cases.push(("UNSUBACK 0x87", unsuback.into()));

    for (name, packet) in &cases {
        // At 5.0 it is fine: the error below is about the version alone.
        assert_roundtrip(packet, V5, name);
        for version in [V31, V311] {
            let packet = at_level(packet, version);
            let err = packet.encoded_len(version).unwrap_err();
            assert!(
                matches!(err, EncodeError::UnsupportedInVersion { version: v, .. } if v == version),
                "{name} at {version}: {err:?}"
            );
            let mut buf = BytesMut::from(&b"kept"[..]);
            assert_eq!(packet.encode(version, &mut buf).unwrap_err(), err, "{name}");
            assert_eq!(
                &buf[..],
                b"kept",
                "{name} at {version}: something was written"
            );
            assert_eq!(
                Encoder::new(version).encode(&packet, &mut buf).unwrap_err(),
                err
            );
            assert_eq!(
                packet
                    .encode_with_limit(version, MAX_PACKET_SIZE, &mut buf)
                    .unwrap_err(),
                err
            );
            assert_eq!(&buf[..], b"kept");
        }
    }
}

#[test]
fn session_present_cannot_be_encoded_at_3_1() {
    // MQTT 3.1's CONNACK has no Session Present: the flag would be lost, so it is an error.
    let mut connack = ConnAck::new(ConnectReasonCode::Success);
    connack.session_present = true;
    let packet = Packet::ConnAck(connack);
    let err = packet.encoded_len(V31).unwrap_err();
    assert!(matches!(
        err,
        EncodeError::UnsupportedInVersion { version: V31, .. }
    ));
    let mut buf = BytesMut::new();
    assert_eq!(packet.encode(V31, &mut buf).unwrap_err(), err);
    assert!(buf.is_empty());
    assert_eq!(encode(&packet, V311), [0x20, 0x02, 0x01, 0x00]);
    assert_eq!(encode(&packet, V5), [0x20, 0x03, 0x01, 0x00, 0x00]);
}

#[test]
fn connect_is_encoded_at_its_own_level_whatever_the_encoder_version() {
    // A level 4 CONNECT handed to a 5.0 encoder is still a level 4 CONNECT.
    let packet: Packet = connect_all(V311).into();
    assert_eq!(encode(&packet, V5), CONNECT_ALL_V4);
    // And a level 5 CONNECT with properties through a 3.1.1 encoder keeps them.
    let packet: Packet = connect_all_v5().into();
    assert_eq!(encode(&packet, V311), CONNECT_ALL_V5);
}

// ------------------------------------------------------------------------------------------
// Protocol limits
// ------------------------------------------------------------------------------------------

#[test]
fn strings_over_65535_bytes_cannot_be_built() {
    let long = "a".repeat(65_536);
    assert_eq!(MqttString::new(&long), Err(InvalidString::TooLong(65_536)));
    assert_eq!(
        MqttString::try_from(long.clone()),
        Err(InvalidString::TooLong(65_536))
    );
    assert_eq!(
        TopicName::new(&long),
        Err(InvalidTopic::String(InvalidString::TooLong(65_536)))
    );
    assert_eq!(
        TopicFilter::new(&long),
        Err(InvalidTopic::String(InvalidString::TooLong(65_536)))
    );
    assert!(UserProperties::from_pairs([("k", long.as_str())]).is_err());
    assert!(UserProperties::from_pairs([(long.as_str(), "v")]).is_err());
    // Multi-byte characters count in bytes: 21,846 x 3 = 65,538 bytes.
    assert_eq!(
        MqttString::new(&"\u{20AC}".repeat(21_846)),
        Err(InvalidString::TooLong(65_538))
    );

    // 65,535 bytes is the longest: a topic of that length encodes with a two-byte prefix
    // FF FF. Body 2 + 65,535 = 65,537 needs a 3-byte Remaining Length (81 80 04).
    let max = "a".repeat(65_535);
    let packet = Packet::Publish(Publish::new(TopicName::new(&max).unwrap(), Bytes::new()));
    let bytes = encode(&packet, V311);
    assert_eq!(bytes.len(), 1 + 3 + 65_537);
    assert_eq!(&bytes[..6], [0x30, 0x81, 0x80, 0x04, 0xFF, 0xFF]);
    assert_roundtrip(&packet, V311, "65,535-byte topic");
}

#[test]
fn binary_data_over_65535_bytes_is_binary_too_long() {
    let too_long = Bytes::from(vec![7u8; 65_536]);
    let longest = Bytes::from(vec![7u8; 65_535]);

    type Build = fn(Bytes) -> Result<Packet, EncodeError>;
    let build: [(&str, Build); 5] = [
        ("password", |b| {
            let mut c = Connect::new(V5, s("c1"));
            c.password = Some(b);
            Ok(c.into())
        }),
        ("will payload", |b| {
            let mut c = Connect::new(V311, s("c1"));
            c.will = Some(Will::new(TopicName::new("w").unwrap(), b));
            Ok(c.into())
        }),
        ("Correlation Data", |b| {
            let mut p = Publish::new(TopicName::new("a").unwrap(), Bytes::new());
            let mut props = PublishProperties::default();
            props.set_correlation_data(Some(b))?;
            p.properties = props;
            Ok(p.into())
        }),
        ("Correlation Data", |b| {
            let mut c = Connect::new(V5, s("c1"));
            let mut will = Will::new(TopicName::new("w").unwrap(), Bytes::new());
            let mut props = WillProperties::default();
            props.set_correlation_data(Some(b))?;
            will.properties = props;
            c.will = Some(will);
            Ok(c.into())
        }),
        ("Authentication Data", |b| {
            let mut a = Auth::new(AuthReasonCode::ContinueAuthentication);
            let mut props = AuthProperties::default();
            props.set_authentication_method(Some(MqttString::new("M").unwrap()));
            props.set_authentication_data(Some(b))?;
            a.properties = props;
            Ok(a.into())
        }),
    ];
    for (field, make) in build {
        let expected = EncodeError::BinaryTooLong { field, len: 65_536 };
        // A password or will payload is refused when encoded, a binary property when set.
        match make(too_long.clone()) {
            Ok(packet) => {
                assert_eq!(packet.encoded_len(V5).unwrap_err(), expected, "{field}");
                let mut buf = BytesMut::new();
                assert_eq!(packet.encode(V5, &mut buf).unwrap_err(), expected);
                assert!(buf.is_empty(), "{field}: something was written");
            }
            Err(err) => assert_eq!(err, expected, "{field}"),
        }
        // One byte less is fine, and round-trips.
        assert_roundtrip(&make(longest.clone()).unwrap(), V5, field);
    }
}

#[test]
fn body_over_268435455_bytes_is_remaining_length_too_large() {
    // Topic "a" is 3 bytes, so a payload of 268,435,452 bytes makes the largest body there
    // is (268,435,455: FF FF FF 7F) and one byte more is too much. The payloads are zeroed
    // allocations that nothing below touches.
    let fits = Packet::Publish(Publish::new(
        topic("a"),
        Bytes::from(vec![0u8; 268_435_452]),
    ));
    assert_eq!(fits.encoded_len(V311).unwrap(), MAX_PACKET_SIZE);
    assert_eq!(MAX_PACKET_SIZE, 268_435_460);

    let over = Packet::Publish(Publish::new(
        topic("a"),
        Bytes::from(vec![0u8; 268_435_453]),
    ));
    assert_eq!(
        over.encoded_len(V311).unwrap_err(),
        EncodeError::RemainingLengthTooLarge(268_435_456)
    );
    // At 5.0 the empty property set adds a byte.
    assert_eq!(
        fits.encoded_len(V5).unwrap_err(),
        EncodeError::RemainingLengthTooLarge(268_435_456)
    );
    drop((fits, over));

    let huge = Packet::Publish(Publish::new(
        topic("a"),
        Bytes::from(vec![0u8; 268_435_456]),
    ));
    let err = EncodeError::RemainingLengthTooLarge(268_435_459);
    for version in LEVELS {
        let extra = usize::from(version == V5);
        let expected = EncodeError::RemainingLengthTooLarge(268_435_459 + extra);
        assert_eq!(huge.encoded_len(version).unwrap_err(), expected);
        let mut buf = BytesMut::with_capacity(64);
        let capacity = buf.capacity();
        assert_eq!(huge.encode(version, &mut buf).unwrap_err(), expected);
        assert_eq!(
            Encoder::new(version).encode(&huge, &mut buf).unwrap_err(),
            expected
        );
        assert_eq!(
            huge.encode_with_limit(version, usize::MAX, &mut buf)
                .unwrap_err(),
            expected
        );
        assert!(buf.is_empty());
        assert_eq!(
            buf.capacity(),
            capacity,
            "{version}: reserved for an unencodable packet"
        );
    }
    assert_eq!(
        err.to_string(),
        "remaining length of 268435459 bytes exceeds 268,435,455"
    );
}

#[test]
fn level_4_connect_with_empty_client_id_and_no_clean_session_decodes_but_is_not_sent() {
    // C4(00): 3.1.1 lets a server receive it, to answer CONNACK 0x02 (MQTT-3.1.3-8), so the
    // decoder accepts it; a client must not send it (MQTT-3.1.3-7), so the encoder refuses.
    // This is the one packet that decodes and does not encode back.
    let bytes = [
        0x10, 0x0C, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x00, 0x00, 0x3C, 0x00, 0x00,
    ];
    let (packet, _) = Packet::decode(&Bytes::copy_from_slice(&bytes), V311).unwrap();
    let Packet::Connect(c) = &packet else {
        panic!()
    };
    assert!(c.client_id.is_empty() && !c.clean_start);
    assert_eq!(
        packet.encoded_len(V311).unwrap_err(),
        EncodeError::Invalid {
            what: "empty client identifier without clean session",
            rule: Some("MQTT-3.1.3-7")
        }
    );
    // At 5.0 an empty client identifier goes with any Clean Start.
    let mut c5 = Connect::new(V5, MqttString::empty());
    c5.clean_start = false;
    assert_roundtrip(&c5.into(), V5, "5.0 empty client id, clean start 0");
}

// ------------------------------------------------------------------------------------------
// The peer's Maximum Packet Size
// ------------------------------------------------------------------------------------------

fn encode_within(packet: &Packet, max: usize) -> Result<Vec<u8>, EncodeError> {
    let mut buf = BytesMut::new();
    let result = Encoder::new(V5)
        .with_max_packet_size(max)
        .encode(packet, &mut buf);
    match result {
        Ok(n) => {
            assert_eq!(n, buf.len());
            assert!(n <= max, "{n} bytes exceed the limit {max}");
            let mut direct = BytesMut::new();
            assert_eq!(packet.encode_with_limit(V5, max, &mut direct), Ok(n));
            assert_eq!(direct, buf);
            Ok(buf.to_vec())
        }
        Err(err) => {
            assert!(buf.is_empty(), "written despite {err}");
            Err(err)
        }
    }
}

#[test]
fn max_packet_size_drops_the_reason_string_then_user_properties_of_puback_mqtt_3_4_2_2_and_3() {
    let mut puback = PubAck::new(pid(1));
    puback.reason_code = PubAckReasonCode::UnspecifiedError;
    let mut props = AckProperties::default();
    props.set_reason_string(Some(s("too bad")));
    props.set_user_properties(pairs(&[("k", "v")]));
    puback.properties = props;
    let packet = Packet::PubAck(puback);

    // Everything: 23 bytes, the common vector.
    assert_eq!(encode_within(&packet, 23).unwrap(), PUBACK_FULL_V5);
    assert_eq!(encode_within(&packet, 1_000).unwrap(), PUBACK_FULL_V5);
    // Without the Reason String (MQTT-3.4.2-2): property length 7, body 2 + 1 + 1 + 7 = 11.
    let without_reason = [
        0x40, 0x0B, 0x00, 0x01, 0x80, 0x07, 0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v',
    ];
    assert_eq!(encode_within(&packet, 22).unwrap(), without_reason);
    assert_eq!(encode_within(&packet, 13).unwrap(), without_reason);
    // Without the User Properties too (MQTT-3.4.2-3): the reason code alone.
    assert_eq!(
        encode_within(&packet, 12).unwrap(),
        [0x40, 0x03, 0x00, 0x01, 0x80]
    );
    assert_eq!(
        encode_within(&packet, 5).unwrap(),
        [0x40, 0x03, 0x00, 0x01, 0x80]
    );
    // Nothing else may go.
    assert_eq!(
        encode_within(&packet, 4).unwrap_err(),
        EncodeError::PacketTooLarge { size: 5, max: 4 }
    );

    // A successful PUBACK shrinks to the two-byte short form.
    let mut ok = PubAck::new(pid(1));
    let mut props = AckProperties::default();
    props.set_reason_string(Some(s("fine")));
    ok.properties = props;
    assert_eq!(
        encode_within(&ok.into(), 4).unwrap(),
        [0x40, 0x02, 0x00, 0x01]
    );
}

#[test]
fn max_packet_size_trims_disconnect_mqtt_3_14_2_3_and_4_and_keeps_the_auth_method() {
    let mut disconnect = Disconnect::new(DisconnectReasonCode::UnspecifiedError);
    let mut props = DisconnectProperties::default();
    props.set_reason_string(Some(s("x")));
    props.set_user_properties(pairs(&[("k", "v")]));
    disconnect.properties = props;
    let packet = Packet::Disconnect(disconnect);
    // Full: body 1 + 1 + 4 + 7 = 13.
    assert_eq!(
        encode_within(&packet, 15).unwrap(),
        [
            0xE0, 0x0D, 0x80, 0x0B, 0x1F, 0x00, 0x01, b'x', 0x26, 0x00, 0x01, b'k', 0x00, 0x01,
            b'v'
        ]
    );
    assert_eq!(
        encode_within(&packet, 14).unwrap(),
        [0xE0, 0x09, 0x80, 0x07, 0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v']
    );
    assert_eq!(encode_within(&packet, 3).unwrap(), [0xE0, 0x01, 0x80]);
    assert_eq!(
        encode_within(&packet, 2).unwrap_err(),
        EncodeError::PacketTooLarge { size: 3, max: 2 }
    );

    // AUTH: the Reason String goes (MQTT-3.15.2-2), the Authentication Method stays.
    let mut auth = Auth::new(AuthReasonCode::ContinueAuthentication);
    let mut props = AuthProperties::default();
    props.set_authentication_method(Some(s("M")));
    props.set_reason_string(Some(s("x")));
    auth.properties = props;
    let packet = Packet::Auth(auth);
    assert_eq!(
        encode_within(&packet, 12).unwrap(),
        [0xF0, 0x0A, 0x18, 0x08, 0x15, 0x00, 0x01, b'M', 0x1F, 0x00, 0x01, b'x']
    );
    assert_eq!(
        encode_within(&packet, 11).unwrap(),
        [0xF0, 0x06, 0x18, 0x04, 0x15, 0x00, 0x01, b'M']
    );
    assert_eq!(
        encode_within(&packet, 7).unwrap_err(),
        EncodeError::PacketTooLarge { size: 8, max: 7 }
    );
}

#[test]
fn max_packet_size_never_drops_publish_properties() {
    // PUBLISH "a", payload "hi", User Property ("k", "v"): body 3 + 1 + 7 + 2 = 13.
    let mut publish = Publish::new(topic("a"), &b"hi"[..]);
    let mut props = PublishProperties::default();
    props.set_user_properties(pairs(&[("k", "v")]));
    publish.properties = props;
    let packet = Packet::Publish(publish);
    let full = [
        0x30, 0x0D, 0x00, 0x01, b'a', 0x07, 0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', b'h', b'i',
    ];
    assert_eq!(encode_within(&packet, 15).unwrap(), full);
    assert_eq!(
        encode_within(&packet, 14).unwrap_err(),
        EncodeError::PacketTooLarge { size: 15, max: 14 }
    );
    assert_eq!(
        encode_within(&packet, 3).unwrap_err(),
        EncodeError::PacketTooLarge { size: 15, max: 3 }
    );

    // Nor those of SUBSCRIBE, UNSUBSCRIBE and CONNECT.
    let mut unsubscribe = Unsubscribe::new(pid(1), vec![filter("a")]);
    let mut props = UnsubscribeProperties::default();
    props.set_user_properties(pairs(&[("k", "v")]));
    unsubscribe.properties = props;
    let unsubscribe = Packet::Unsubscribe(unsubscribe);
    assert_eq!(
        encode_within(&unsubscribe, 14).unwrap_err(),
        EncodeError::PacketTooLarge { size: 15, max: 14 }
    );
    let connect: Packet = connect_all_v5().into();
    assert_eq!(
        encode_within(&connect, 56).unwrap_err(),
        EncodeError::PacketTooLarge { size: 57, max: 56 }
    );
    assert_eq!(encode_within(&connect, 57).unwrap(), CONNECT_ALL_V5);
}

// ------------------------------------------------------------------------------------------
// Hand-built packets give hand-computed bytes
// ------------------------------------------------------------------------------------------

#[test]
fn connect_with_every_field_at_level_4_encodes_to_the_spec_bytes_mqtt_3_1_3_1() {
    let packet: Packet = connect_all(V311).into();
    assert_eq!(CONNECT_ALL_V4.len(), 33);
    assert_eq!(packet.encoded_len(V311).unwrap(), 33);
    assert_eq!(encode(&packet, V311), CONNECT_ALL_V4);
    let (decoded, _) = Packet::decode(&Bytes::from_static(CONNECT_ALL_V4), V311).unwrap();
    assert_eq!(decoded, packet);
}

#[test]
fn connect_with_every_field_at_level_5_encodes_to_the_spec_bytes_mqtt_3_1_3_1() {
    let packet: Packet = connect_all_v5().into();
    assert_eq!(CONNECT_ALL_V5.len(), 57);
    assert_eq!(packet.encoded_len(V5).unwrap(), 57);
    assert_eq!(encode(&packet, V5), CONNECT_ALL_V5);
    let (decoded, _) = Packet::decode(&Bytes::from_static(CONNECT_ALL_V5), V5).unwrap();
    assert_eq!(decoded, packet);
}

#[test]
fn connect_at_level_3_uses_the_protocol_name_mqisdp() {
    let packet: Packet = Connect::new(V31, s("c1")).into();
    assert_eq!(
        encode(&packet, V31),
        [
            0x10, 0x10, 0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p', 0x03, 0x02, 0x00, 0x3C,
            0x00, 0x02, b'c', b'1'
        ]
    );
}

#[test]
fn hand_built_packets_encode_to_the_spec_vectors() {
    let mut publish = Publish::new(topic("a/b"), &b"hello"[..]);
    publish.qos = QosPid::ExactlyOnce(pid(42));
    publish.retain = true;
    let mut props = PublishProperties::default();
    props.payload_format_indicator = Some(PayloadFormat::Utf8);
    props.message_expiry_interval = Some(60);
    props.topic_alias = NonZeroU16::new(5);
    props.set_response_topic(Some(topic("r/1"))).unwrap();
    props
        .set_correlation_data(Some(Bytes::from_static(b"\xAB\xCD")))
        .unwrap();
    props.set_content_type(Some(s("text")));
    props.set_user_properties(pairs(&[("k", "v")]));
    let mut ids = SubscriptionIds::new();
    ids.push(SubscriptionId::new(7).unwrap());
    props.set_subscription_identifiers(ids);
    publish.properties = props;

    let mut sub_ids = Publish::new(topic("a"), &b"xyz"[..]);
    let mut props = PublishProperties::default();
    props.set_subscription_identifiers(
        [1, 300, 268_435_455]
            .into_iter()
            .filter_map(SubscriptionId::new)
            .collect(),
    );
    sub_ids.properties = props;

    let mut connack = ConnAck::new(ConnectReasonCode::Success);
    let mut props = ConnAckProperties::default();
    props.set_assigned_client_identifier(Some(s("x1")));
    connack.properties = props;

    let cases: [(Packet, ProtocolVersion, &[u8]); 14] = [
        (publish.into(), V5, PUBLISH_ALL_PROPS_V5),
        (sub_ids.into(), V5, PUBLISH_SUB_IDS_V5),
        (
            connack.into(),
            V5,
            &[0x20, 0x08, 0x00, 0x00, 0x05, 0x12, 0x00, 0x02, b'x', b'1'],
        ),
        (
            ConnAck::new(ConnectReasonCode::NotAuthorized).into(),
            V311,
            &[0x20, 0x02, 0x00, 0x05],
        ),
        (
            ConnAck::new(ConnectReasonCode::NotAuthorized).into(),
            V5,
            &[0x20, 0x03, 0x00, 0x87, 0x00],
        ),
        (PubAck::new(pid(1)).into(), V311, &[0x40, 0x02, 0x00, 0x01]),
        (PubAck::new(pid(1)).into(), V5, &[0x40, 0x02, 0x00, 0x01]),
        (PubRel::new(pid(1)).into(), V5, &[0x62, 0x02, 0x00, 0x01]),
        (
            Subscribe::new(
                pid(1),
                vec![Subscription::new(filter("a"), QoS::AtLeastOnce)],
            )
            .into(),
            V5,
            &[0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, b'a', 0x01],
        ),
        (
            Subscribe::new(
                pid(1),
                vec![Subscription::new(filter("a"), QoS::AtLeastOnce)],
            )
            .into(),
            V311,
            &[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x01],
        ),
        (
            UnsubAck::new(pid(9), vec![UnsubAckReasonCode::NoSubscriptionExisted]).into(),
            V5,
            &[0xB0, 0x04, 0x00, 0x09, 0x00, 0x11],
        ),
        (
            UnsubAck::new(pid(9), vec![]).into(),
            V311,
            &[0xB0, 0x02, 0x00, 0x09],
        ),
        (
            Disconnect::new(DisconnectReasonCode::SessionTakenOver).into(),
            V5,
            &[0xE0, 0x01, 0x8E],
        ),
        (Auth::new(AuthReasonCode::Success).into(), V5, &[0xF0, 0x00]),
    ];
    for (packet, version, bytes) in cases {
        assert_eq!(
            encode(&packet, version),
            bytes,
            "{version} {:?}",
            packet.packet_type()
        );
    }
}

#[test]
fn decoded_vectors_encode_back_byte_for_byte() {
    for v in vectors() {
        let (packet, _) = Packet::decode(&Bytes::from_static(v.bytes), v.version).unwrap();
        let bytes = assert_roundtrip(&packet, v.version, v.name);
        if v.canonical {
            assert_eq!(&bytes[..], v.bytes, "{}", v.name);
        }
    }
    // The optional long forms come back in their short form.
    let short = |bytes: &'static [u8]| {
        let (packet, _) = Packet::decode(&Bytes::from_static(bytes), V5).unwrap();
        encode(&packet, V5)
    };
    assert_eq!(
        short(&[0x40, 0x04, 0x00, 0x01, 0x00, 0x00]),
        [0x40, 0x02, 0x00, 0x01]
    );
    assert_eq!(short(&[0xE0, 0x02, 0x8E, 0x00]), [0xE0, 0x01, 0x8E]);
}
