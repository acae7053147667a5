//! One regression test per codec mistake listed in DESIGN.md section 5 ("Mistakes other MQTT
//! codecs make"). Each test is named for the behaviour mqttwire must keep; the comment above
//! it names the mistake. The session-level mistakes of that list are in
//! `tests/session_design_regressions.rs`.

mod common;

use bytes::{Bytes, BytesMut};
use common::*;
use mqttwire::{
    AuthReasonCode, DecodeError, DecodeErrorKind, Decoder, DisconnectReasonCode, InvalidTopic,
    Packet, PacketType, ProtocolVersion, ReasonCode,
};

fn decode_err(bytes: &[u8], version: ProtocolVersion) -> DecodeError {
    let one_shot = Packet::decode(&Bytes::copy_from_slice(bytes), version)
        .expect_err(&format!("{version}: {} decoded", hex(bytes)));
    // The streaming decoder must refuse it the same way.
    let streamed = Decoder::new(version)
        .decode(&mut BytesMut::from(bytes))
        .expect_err(&format!("{version}: Decoder accepted {}", hex(bytes)));
    assert_eq!(streamed, one_shot, "{version}: {}", hex(bytes));
    one_shot
}

fn decode_ok(bytes: &[u8], version: ProtocolVersion) -> Packet {
    let (packet, used) = Packet::decode(&Bytes::copy_from_slice(bytes), version)
        .unwrap_or_else(|e| panic!("{version}: {}: {e}", hex(bytes)));
    assert_eq!(used, bytes.len());
    let streamed = Decoder::new(version)
        .decode(&mut BytesMut::from(bytes))
        .unwrap()
        .unwrap();
    assert_eq!(streamed, packet);
    packet
}

fn encode(packet: &Packet, version: ProtocolVersion) -> Vec<u8> {
    let mut buf = BytesMut::new();
    packet.encode(version, &mut buf).unwrap();
    buf.to_vec()
}

// ------------------------------------------------------------------------------------------
// Mistake: reserving up to 256 MiB from a 6-byte header before checking the size limit.
// ------------------------------------------------------------------------------------------

#[test]
fn six_byte_prefix_claiming_256_mib_is_refused_before_anything_is_reserved() {
    // PUBLISH, Remaining Length 268,435,455 (FF FF FF 7F), and one byte of its body.
    let prefix = [0x30, 0xFF, 0xFF, 0xFF, 0x7F, 0x00];
    for version in LEVELS {
        let mut decoder = Decoder::new(version);
        let mut buf = BytesMut::with_capacity(prefix.len());
        buf.extend_from_slice(&prefix);
        let capacity = buf.capacity();
        let err = decoder.decode(&mut buf).unwrap_err();
        assert!(matches!(
            err.kind(),
            DecodeErrorKind::PacketTooLarge {
                size: 268_435_460,
                ..
            }
        ));
        assert_eq!(err.reason_code(), ReasonCode::PACKET_TOO_LARGE);
        assert_eq!(
            buf.capacity(),
            capacity,
            "{version}: reserved before refusing"
        );
    }
}

// ------------------------------------------------------------------------------------------
// Mistake: a panic when a PUBLISH topic length runs past the packet end.
// ------------------------------------------------------------------------------------------

#[test]
fn publish_topic_length_past_the_packet_end_is_malformed_not_a_panic_mqtt_3_3_2_1() {
    let cases: [&[u8]; 6] = [
        &[0x30, 0x03, 0x00, 0x10, b'a'],       // topic of 16 bytes, 1 present
        &[0x30, 0x02, 0x00, 0x05],             // topic of 5 bytes, none present
        &[0x30, 0x01, 0x00],                   // half a length prefix
        &[0x30, 0x04, 0xFF, 0xFF, b'a', b'b'], // topic of 65,535 bytes
        &[0x32, 0x03, 0x00, 0x01, b'a'],       // QoS 1: packet id missing
        &[0x34, 0x04, 0x00, 0x01, b'a', 0x00], // QoS 2: half a packet id
    ];
    for version in [V311, V5] {
        for bytes in cases {
            let err = decode_err(bytes, version);
            assert!(
                matches!(err.kind(), DecodeErrorKind::UnexpectedEnd { .. }),
                "{version} {}: {err}",
                hex(bytes)
            );
            assert_eq!(err.reason_code(), ReasonCode::MALFORMED_PACKET);
            assert_eq!(err.packet_type(), Some(PacketType::Publish));
        }
        // The topic cases name the Topic Name rule (3.1.1 and 5.0 share this tag).
        for bytes in &cases[..4] {
            assert_eq!(decode_err(bytes, version).rule(), Some("MQTT-3.3.2-1"));
        }
    }
    // 5.0: a property length running past the end.
    let err = decode_err(&[0x30, 0x05, 0x00, 0x01, b'a', 0x05, 0x01], V5);
    assert!(matches!(err.kind(), DecodeErrorKind::UnexpectedEnd { .. }));
}

// ------------------------------------------------------------------------------------------
// Mistake: a miscounted property length with several Subscription Identifiers, so that the
// next property's bytes end up in the payload; or repeated Subscription Identifiers
// rejected as duplicates.
// ------------------------------------------------------------------------------------------

fn subscription_ids(packet: &Packet) -> Vec<u32> {
    let Packet::Publish(p) = packet else {
        panic!("not a PUBLISH")
    };
    p.properties
        .subscription_identifiers()
        .iter()
        .map(|id| id.get())
        .collect()
}

fn payload(packet: &Packet) -> &[u8] {
    let Packet::Publish(p) = packet else {
        panic!("not a PUBLISH")
    };
    &p.payload
}

#[test]
fn several_subscription_identifiers_leave_the_payload_exactly_the_payload() {
    // Identifiers 1 (01), 300 (AC 02) and 268,435,455 (FF FF FF 7F), then payload "xyz".
    let packet = decode_ok(PUBLISH_SUB_IDS_V5, V5);
    assert_eq!(subscription_ids(&packet), [1, 300, 268_435_455]);
    assert_eq!(payload(&packet), b"xyz");
    assert_eq!(encode(&packet, V5), PUBLISH_SUB_IDS_V5);

    // The identifiers mixed with other properties: Payload Format Indicator (01 01) and a
    // User Property ("k", "v") between them. Property length 2 + 2 + 3 + 7 + 5 = 19 = 0x13;
    // body 3 + 1 + 19 + 3 = 26 = 0x1A.
    let mixed = [
        0x30, 0x1A, 0x00, 0x01, b'a', 0x13, 0x0B, 0x01, 0x01, 0x01, 0x0B, 0xAC, 0x02, 0x26, 0x00,
        0x01, b'k', 0x00, 0x01, b'v', 0x0B, 0xFF, 0xFF, 0xFF, 0x7F, b'x', b'y', b'z',
    ];
    let packet = decode_ok(&mixed, V5);
    assert_eq!(subscription_ids(&packet), [1, 300, 268_435_455]);
    assert_eq!(payload(&packet), b"xyz");
    let Packet::Publish(p) = &packet else {
        panic!()
    };
    assert_eq!(
        p.properties.payload_format_indicator,
        Some(mqttwire::properties::PayloadFormat::Utf8)
    );
    assert_eq!(
        p.properties.user_properties().iter().collect::<Vec<_>>(),
        [("k", "v")]
    );
    assert_roundtrip(&packet, V5, "mixed subscription identifiers");
}

#[test]
fn repeated_subscription_identifiers_in_publish_are_accepted_not_duplicates() {
    // The same identifier twice (05, 05) and a third (05): property length 6,
    // body 3 + 1 + 6 + 2 = 12 = 0x0C, payload "hi".
    let bytes = [
        0x30, 0x0C, 0x00, 0x01, b'a', 0x06, 0x0B, 0x05, 0x0B, 0x05, 0x0B, 0x05, b'h', b'i',
    ];
    let packet = decode_ok(&bytes, V5);
    assert_eq!(subscription_ids(&packet), [5, 5, 5]);
    assert_eq!(payload(&packet), b"hi");
    assert_eq!(encode(&packet, V5), bytes);
}

#[test]
fn subscribe_allows_one_subscription_identifier_only() {
    // SUBSCRIBE may carry one: two are a Protocol Error (untagged §3.8.2.1.2).
    // Property length 4, body 2 + 1 + 4 + 3 + 1 = 11 = 0x0B.
    let bytes = [
        0x82, 0x0B, 0x00, 0x01, 0x04, 0x0B, 0x01, 0x0B, 0x02, 0x00, 0x01, b'a', 0x00,
    ];
    let err = decode_err(&bytes, V5);
    assert_eq!(err.kind(), &DecodeErrorKind::DuplicateProperty { id: 0x0B });
    assert_eq!(err.reason_code(), ReasonCode::PROTOCOL_ERROR);
}

// ------------------------------------------------------------------------------------------
// Mistake: DISCONNECT and AUTH with Remaining Length 0 (valid in 5.0: reason 0x00) rejected,
// AUTH not decodable at all.
// ------------------------------------------------------------------------------------------

#[test]
fn disconnect_with_remaining_length_0_is_a_normal_disconnection_at_5_0() {
    let packet = decode_ok(&[0xE0, 0x00], V5);
    let Packet::Disconnect(d) = &packet else {
        panic!()
    };
    assert_eq!(d.reason_code, DisconnectReasonCode::NormalDisconnection);
    assert!(d.properties.is_empty());
    assert_eq!(encode(&packet, V5), [0xE0, 0x00]);
    // And the one-byte form, reason only (§3.14.2.1).
    let packet = decode_ok(&[0xE0, 0x01, 0x04], V5);
    let Packet::Disconnect(d) = &packet else {
        panic!()
    };
    assert_eq!(
        d.reason_code,
        DisconnectReasonCode::DisconnectWithWillMessage
    );
}

#[test]
fn auth_with_remaining_length_0_is_success_at_5_0() {
    let packet = decode_ok(&[0xF0, 0x00], V5);
    let Packet::Auth(a) = &packet else { panic!() };
    assert_eq!(a.reason_code, AuthReasonCode::Success);
    assert!(a.properties.is_empty());
    assert_eq!(encode(&packet, V5), [0xF0, 0x00]);
}

#[test]
fn auth_with_reason_and_method_decodes_and_encodes_back() {
    // F0 06 18 04 15 00 01 4D: Continue authentication, method "M".
    let bytes = [0xF0, 0x06, 0x18, 0x04, 0x15, 0x00, 0x01, b'M'];
    let packet = decode_ok(&bytes, V5);
    let Packet::Auth(a) = &packet else { panic!() };
    assert_eq!(a.reason_code, AuthReasonCode::ContinueAuthentication);
    assert_eq!(a.properties.authentication_method().as_deref(), Some("M"));
    assert_eq!(encode(&packet, V5), bytes);
}

// ------------------------------------------------------------------------------------------
// Mistake: accepting wrong reserved flag bits (PUBREL, SUBSCRIBE, UNSUBSCRIBE need 0b0010).
// ------------------------------------------------------------------------------------------

#[test]
fn pubrel_subscribe_unsubscribe_need_flags_0010() {
    // (bytes, rule) — the per-packet tags are the same number in 3.1.1 and 5.0.
    let v311: [(&[u8], &str); 5] = [
        (&[0x60, 0x02, 0x00, 0x01], "MQTT-3.6.1-1"),
        (&[0x63, 0x02, 0x00, 0x01], "MQTT-3.6.1-1"),
        (
            &[0x80, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x00],
            "MQTT-3.8.1-1",
        ),
        (
            &[0x83, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x00],
            "MQTT-3.8.1-1",
        ),
        (&[0xA0, 0x05, 0x00, 0x01, 0x00, 0x01, b'a'], "MQTT-3.10.1-1"),
    ];
    let v5: [(&[u8], &str); 4] = [
        (&[0x60, 0x02, 0x00, 0x01], "MQTT-3.6.1-1"),
        (
            &[0x80, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, b'a', 0x00],
            "MQTT-3.8.1-1",
        ),
        (
            &[0xA0, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, b'a'],
            "MQTT-3.10.1-1",
        ),
        (
            &[0xA6, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, b'a'],
            "MQTT-3.10.1-1",
        ),
    ];
    for (version, cases) in [(V311, &v311[..]), (V5, &v5[..])] {
        for (bytes, rule) in cases {
            let err = decode_err(bytes, version);
            assert_eq!(
                err.kind(),
                &DecodeErrorKind::InvalidFlags {
                    flags: bytes[0] & 0x0F
                },
                "{version} {}",
                hex(bytes)
            );
            assert_eq!(err.rule(), Some(*rule));
            assert_eq!(err.reason_code(), ReasonCode::MALFORMED_PACKET);
        }
    }
    // And the correct flags are accepted.
    decode_ok(&[0x62, 0x02, 0x00, 0x01], V5);
    decode_ok(&[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x00], V311);
    decode_ok(&[0xA2, 0x05, 0x00, 0x01, 0x00, 0x01, b'a'], V311);
}

#[test]
fn other_packets_need_flags_0000_mqtt_2_1_3_1_and_3_1_1_mqtt_2_2_2_1() {
    let cases: [&[u8]; 5] = [
        &[0x21, 0x02, 0x00, 0x00], // CONNACK
        &[0x41, 0x02, 0x00, 0x01], // PUBACK
        &[0x52, 0x02, 0x00, 0x01], // PUBREC
        &[0xC1, 0x00],             // PINGREQ
        &[0xD8, 0x00],             // PINGRESP
    ];
    for (version, rule) in [(V311, "MQTT-2.2.2-1"), (V5, "MQTT-2.1.3-1")] {
        for bytes in cases {
            let err = decode_err(bytes, version);
            assert!(matches!(err.kind(), DecodeErrorKind::InvalidFlags { .. }));
            assert_eq!(err.rule(), Some(rule), "{version} {}", hex(bytes));
        }
    }
    // DISCONNECT and AUTH have their own statements.
    assert_eq!(decode_err(&[0xE1, 0x00], V5).rule(), Some("MQTT-3.14.1-1"));
    assert_eq!(decode_err(&[0xF2, 0x00], V5).rule(), Some("MQTT-3.15.1-1"));
    // CONNECT's fixed header flags, checked at the level the CONNECT declares.
    let connect5 = [
        0x11, 0x0F, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3C, 0x00, 0x00, 0x02,
        b'c', b'1',
    ];
    let err = decode_err(&connect5, V5);
    assert!(matches!(
        err.kind(),
        DecodeErrorKind::InvalidFlags { flags: 1 }
    ));
    assert_eq!(err.rule(), Some("MQTT-2.1.3-1"));
    // Even when the caller expected 3.1.1: the CONNECT says it is 5.0, so the 5.0 tag.
    assert_eq!(decode_err(&connect5, V311).rule(), Some("MQTT-2.1.3-1"));
    let connect4 = [
        0x12, 0x0E, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x02, b'c',
        b'1',
    ];
    assert_eq!(decode_err(&connect4, V5).rule(), Some("MQTT-2.2.2-1"));
}

// ------------------------------------------------------------------------------------------
// Mistake: accepting the CONNECT reserved bit.
// ------------------------------------------------------------------------------------------

#[test]
fn connect_reserved_flag_is_malformed_mqtt_3_1_2_3() {
    // C4n(03) and C5n(03): Connect Flags 0x03 = clean start + reserved bit.
    let c4 = [
        0x10, 0x0E, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x03, 0x00, 0x3C, 0x00, 0x02, b'c',
        b'1',
    ];
    let c5 = [
        0x10, 0x0F, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x03, 0x00, 0x3C, 0x00, 0x00, 0x02,
        b'c', b'1',
    ];
    for (bytes, version) in [(&c4[..], V311), (&c5[..], V5)] {
        let err = decode_err(bytes, version);
        assert_eq!(err.kind(), &DecodeErrorKind::ConnectReservedFlag);
        assert_eq!(err.rule(), Some("MQTT-3.1.2-3"));
        assert_eq!(err.reason_code(), ReasonCode::MALFORMED_PACKET);
        // The server decoder refuses it too.
        let err = Decoder::for_server()
            .decode(&mut BytesMut::from(bytes))
            .unwrap_err();
        assert_eq!(err.kind(), &DecodeErrorKind::ConnectReservedFlag);
    }
}

// ------------------------------------------------------------------------------------------
// Mistake: accepting packet identifier 0.
// ------------------------------------------------------------------------------------------

#[test]
fn packet_identifier_0_is_refused_3_1_1_mqtt_2_3_1_1_and_5_0_mqtt_2_2_1_3() {
    // Requests break MQTT-2.3.1-1; acknowledgements, the rule that they carry their
    // request's identifier (MQTT-2.3.1-6), which is never 0.
    let v311: [(&[u8], &str); 5] = [
        (&[0x32, 0x05, 0x00, 0x01, b'a', 0x00, 0x00], "MQTT-2.3.1-1"), // PUBLISH QoS 1
        (
            &[0x82, 0x06, 0x00, 0x00, 0x00, 0x01, b'a', 0x00],
            "MQTT-2.3.1-1",
        ), // SUBSCRIBE
        (&[0xA2, 0x05, 0x00, 0x00, 0x00, 0x01, b'a'], "MQTT-2.3.1-1"), // UNSUBSCRIBE
        (&[0x40, 0x02, 0x00, 0x00], "MQTT-2.3.1-6"),                   // PUBACK
        (&[0x62, 0x02, 0x00, 0x00], "MQTT-2.3.1-6"),                   // PUBREL
    ];
    for (bytes, rule) in v311 {
        let err = decode_err(bytes, V311);
        assert_eq!(err.kind(), &DecodeErrorKind::ZeroPacketId, "{}", hex(bytes));
        assert_eq!(err.rule(), Some(rule), "{}", hex(bytes));
    }
    // 5.0: Protocol Error for PUBLISH, Malformed Packet elsewhere (mosquitto's choice).
    let err = decode_err(&[0x34, 0x06, 0x00, 0x01, b'a', 0x00, 0x00, 0x00], V5);
    assert_eq!(err.kind(), &DecodeErrorKind::ZeroPacketId);
    assert_eq!(err.rule(), Some("MQTT-2.2.1-3"));
    assert_eq!(err.reason_code(), ReasonCode::PROTOCOL_ERROR);
    let err = decode_err(&[0x82, 0x07, 0x00, 0x00, 0x00, 0x00, 0x01, b'a', 0x00], V5);
    assert_eq!(err.kind(), &DecodeErrorKind::ZeroPacketId);
    assert_eq!(err.rule(), Some("MQTT-2.2.1-3"));
    assert_eq!(err.reason_code(), ReasonCode::MALFORMED_PACKET);
}

// ------------------------------------------------------------------------------------------
// Mistake: accepting NUL or invalid UTF-8 in topics.
// ------------------------------------------------------------------------------------------

#[test]
fn nul_in_a_topic_is_malformed_3_1_1_mqtt_1_5_3_2_and_5_0_mqtt_1_5_4_2() {
    // Topic "a\0b".
    let err = decode_err(&[0x30, 0x05, 0x00, 0x03, b'a', 0x00, b'b'], V311);
    assert!(matches!(err.kind(), DecodeErrorKind::NullCharacter { .. }));
    assert_eq!(err.rule(), Some("MQTT-1.5.3-2"));
    let err = decode_err(&[0x30, 0x06, 0x00, 0x03, b'a', 0x00, b'b', 0x00], V5);
    assert!(matches!(err.kind(), DecodeErrorKind::NullCharacter { .. }));
    assert_eq!(err.rule(), Some("MQTT-1.5.4-2"));
    assert_eq!(err.reason_code(), ReasonCode::MALFORMED_PACKET);
    // In a SUBSCRIBE topic filter too.
    let err = decode_err(
        &[0x82, 0x08, 0x00, 0x01, 0x00, 0x03, b'a', 0x00, b'b', 0x00],
        V311,
    );
    assert!(matches!(err.kind(), DecodeErrorKind::NullCharacter { .. }));
}

#[test]
fn invalid_utf8_in_a_topic_is_malformed_3_1_1_mqtt_1_5_3_1_and_5_0_mqtt_1_5_4_1() {
    let bad: [&[u8]; 4] = [
        &[0xFF],                   // never valid in UTF-8
        &[0xC0, 0xAF],             // overlong "/"
        &[b'a', 0xED, 0xA0, 0x80], // encoded surrogate U+D800
        &[0xE2, 0x82],             // truncated sequence
    ];
    for topic in bad {
        for (version, rule) in [(V311, "MQTT-1.5.3-1"), (V5, "MQTT-1.5.4-1")] {
            let mut bytes = vec![0x30, 0, 0x00, topic.len() as u8];
            bytes.extend_from_slice(topic);
            if version == V5 {
                bytes.push(0x00); // empty property set
            }
            bytes[1] = (bytes.len() - 2) as u8;
            let err = decode_err(&bytes, version);
            assert!(
                matches!(err.kind(), DecodeErrorKind::InvalidUtf8 { .. }),
                "{version} {}",
                hex(&bytes)
            );
            assert_eq!(err.rule(), Some(rule));
            assert_eq!(err.reason_code(), ReasonCode::MALFORMED_PACKET);
        }
    }
}

// ------------------------------------------------------------------------------------------
// Mistake: accepting wildcards in PUBLISH topic names.
// ------------------------------------------------------------------------------------------

#[test]
fn wildcards_in_a_publish_topic_name_are_refused_mqtt_3_3_2_2() {
    let cases: [(&[u8], ProtocolVersion); 4] = [
        (&[0x30, 0x06, 0x00, 0x03, b'a', b'/', b'#', 0x00], V5),
        (&[0x30, 0x06, 0x00, 0x03, b'a', b'/', b'+', 0x00], V5),
        (&[0x30, 0x05, 0x00, 0x03, b'a', b'/', b'+'], V311),
        (&[0x30, 0x03, 0x00, 0x01, b'#'], V311),
    ];
    for (bytes, version) in cases {
        let err = decode_err(bytes, version);
        assert!(
            matches!(
                err.kind(),
                DecodeErrorKind::InvalidTopic {
                    reason: InvalidTopic::WildcardInName,
                    ..
                }
            ),
            "{version} {}",
            hex(bytes)
        );
        assert_eq!(err.rule(), Some("MQTT-3.3.2-2"));
        assert_eq!(err.reason_code(), ReasonCode::MALFORMED_PACKET);
    }
    // Nor can one be built to send.
    assert_eq!(
        mqttwire::TopicName::new("a/#"),
        Err(InvalidTopic::WildcardInName)
    );
}

// ------------------------------------------------------------------------------------------
// Mistake: duplicate single-valued properties accepted, the last one winning.
// ------------------------------------------------------------------------------------------

#[test]
fn duplicate_single_valued_properties_are_a_protocol_error_not_last_wins() {
    let cases: [(&[u8], u8); 4] = [
        // CONNACK, Receive Maximum twice: 21 00 02 21 00 02.
        (
            &[
                0x20, 0x09, 0x00, 0x00, 0x06, 0x21, 0x00, 0x02, 0x21, 0x00, 0x02,
            ],
            0x21,
        ),
        // PUBLISH, Payload Format Indicator twice: body 3 + 1 + 4 = 8.
        (
            &[0x30, 0x08, 0x00, 0x01, b'a', 0x04, 0x01, 0x00, 0x01, 0x00],
            0x01,
        ),
        // PUBLISH, Topic Alias 1 then 2: body 3 + 1 + 6 = 10.
        (
            &[
                0x30, 0x0A, 0x00, 0x01, b'a', 0x06, 0x23, 0x00, 0x01, 0x23, 0x00, 0x02,
            ],
            0x23,
        ),
        // AUTH, Authentication Method "M" then "N": body 1 + 1 + 8 = 10.
        (
            &[
                0xF0, 0x0A, 0x18, 0x08, 0x15, 0x00, 0x01, b'M', 0x15, 0x00, 0x01, b'N',
            ],
            0x15,
        ),
    ];
    for (bytes, id) in cases {
        let err = decode_err(bytes, V5);
        assert_eq!(
            err.kind(),
            &DecodeErrorKind::DuplicateProperty { id },
            "{}",
            hex(bytes)
        );
        assert_eq!(err.reason_code(), ReasonCode::PROTOCOL_ERROR);
    }
    // User Properties may repeat, names included, and keep their order (§2.2.2.2).
    // Property length 7 + 7 = 14, body 3 + 1 + 14 = 18 = 0x12.
    let bytes = [
        0x30, 0x12, 0x00, 0x01, b'a', 0x0E, 0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'2', 0x26, 0x00,
        0x01, b'k', 0x00, 0x01, b'1',
    ];
    let packet = decode_ok(&bytes, V5);
    let Packet::Publish(p) = &packet else {
        panic!()
    };
    assert_eq!(
        p.properties.user_properties().iter().collect::<Vec<_>>(),
        [("k", "2"), ("k", "1")]
    );
    assert_eq!(encode(&packet, V5), bytes);
}

// ------------------------------------------------------------------------------------------
// Mistake: accepting PINGREQ with a body.
// ------------------------------------------------------------------------------------------

#[test]
fn pingreq_and_pingresp_with_a_body_are_malformed() {
    for version in LEVELS {
        for bytes in [
            &[0xC0, 0x01, 0x00][..],
            &[0xD0, 0x01, 0x00],
            &[0xC0, 0x02, 0xC0, 0x00],
        ] {
            let err = decode_err(bytes, version);
            assert!(
                matches!(err.kind(), DecodeErrorKind::TrailingBytes { .. }),
                "{version} {}",
                hex(bytes)
            );
            assert_eq!(err.reason_code(), ReasonCode::MALFORMED_PACKET);
        }
    }
    // 3.1.1 DISCONNECT has no body either.
    let err = decode_err(&[0xE0, 0x01, 0x00], V311);
    assert!(matches!(
        err.kind(),
        DecodeErrorKind::TrailingBytes { count: 1 }
    ));
}

// ------------------------------------------------------------------------------------------
// Mistake: accepting non-minimal Remaining Length encodings.
// ------------------------------------------------------------------------------------------

#[test]
fn non_minimal_remaining_length_is_refused_5_0_mqtt_1_5_5_1_untagged_in_3_1_1() {
    // PINGREQ with Remaining Length 0 written as 80 00; PUBACK with 2 written as 82 00.
    for bytes in [&[0xC0, 0x80, 0x00][..], &[0x40, 0x82, 0x00, 0x00, 0x01]] {
        let err = decode_err(bytes, V5);
        assert!(matches!(
            err.kind(),
            DecodeErrorKind::VarIntNotMinimal { .. }
        ));
        assert_eq!(err.rule(), Some("MQTT-1.5.5-1"));
        // 3.1.1 states the form in untagged text (§2.2.3): refused, with no 5.0 tag.
        let err = decode_err(bytes, V311);
        assert!(matches!(
            err.kind(),
            DecodeErrorKind::VarIntNotMinimal { .. }
        ));
        assert_eq!(err.rule(), None);
    }
    // Non-minimal Variable Byte Integers inside the packet too: a property length 00
    // written as 80 00.
    let err = decode_err(&[0x30, 0x05, 0x00, 0x01, b'a', 0x80, 0x00], V5);
    assert!(matches!(
        err.kind(),
        DecodeErrorKind::VarIntNotMinimal { .. }
    ));
}

// ------------------------------------------------------------------------------------------
// Mistake: rejecting a valid 5.0 CONNECT with a password and no user name.
// ------------------------------------------------------------------------------------------

#[test]
fn connect_5_0_with_password_and_no_user_name_is_valid_mqtt_3_1_2_19() {
    let bytes = [
        0x10, 0x11, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x42, 0x00, 0x3C, 0x00, 0x00, 0x00,
        0x00, 0x02, b'p', b'w',
    ];
    let packet = decode_ok(&bytes, V5);
    let Packet::Connect(c) = &packet else {
        panic!()
    };
    assert_eq!(c.protocol_version, V5);
    assert!(c.clean_start);
    assert_eq!(c.keep_alive, 60);
    assert!(c.client_id.is_empty());
    assert_eq!(c.user_name, None);
    assert_eq!(c.password.as_deref(), Some(&b"pw"[..]));
    assert_eq!(encode(&packet, V5), bytes);
    // Through the server decoder, which learns the level from it.
    let mut decoder = Decoder::for_server();
    assert_eq!(
        decoder.decode(&mut BytesMut::from(&bytes[..])).unwrap(),
        Some(packet)
    );
    assert_eq!(decoder.version(), Some(V5));
}

#[test]
fn connect_3_1_1_with_password_and_no_user_name_is_refused_mqtt_3_1_2_22() {
    // The same at level 4 (no property length): body 17 - 1 = 16 = 0x10.
    let bytes = [
        0x10, 0x10, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x42, 0x00, 0x3C, 0x00, 0x00, 0x00,
        0x02, b'p', b'w',
    ];
    let err = decode_err(&bytes, V311);
    assert_eq!(err.kind(), &DecodeErrorKind::PasswordWithoutUserName);
    assert_eq!(err.rule(), Some("MQTT-3.1.2-22"));
}

// ------------------------------------------------------------------------------------------
// Mistake: stripping a leading U+FEFF.
// ------------------------------------------------------------------------------------------

#[test]
fn leading_u_feff_in_a_topic_survives_decode_and_encode_5_0_mqtt_1_5_4_3() {
    // Topic EF BB BF 61 ("\u{FEFF}a"): body 2 + 4 + 1 = 7.
    let bytes = [0x30, 0x07, 0x00, 0x04, 0xEF, 0xBB, 0xBF, b'a', 0x00];
    let packet = decode_ok(&bytes, V5);
    let Packet::Publish(p) = &packet else {
        panic!()
    };
    assert_eq!(p.topic.as_str(), "\u{FEFF}a");
    assert_eq!(p.topic.as_bytes(), [0xEF, 0xBB, 0xBF, b'a']);
    assert_eq!(encode(&packet, V5), bytes);
}

#[test]
fn leading_u_feff_survives_at_3_1_1_mqtt_1_5_3_3() {
    // Topic "\u{FEFF}" alone, payload EF BB BF as well: body 5 + 3 = 8.
    let bytes = [0x30, 0x08, 0x00, 0x03, 0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF];
    let packet = decode_ok(&bytes, V311);
    let Packet::Publish(p) = &packet else {
        panic!()
    };
    assert_eq!(p.topic.as_str(), "\u{FEFF}");
    assert_eq!(&p.payload[..], [0xEF, 0xBB, 0xBF]);
    assert_eq!(encode(&packet, V311), bytes);
    // In a client identifier too: C4 with client id "\u{FEFF}c" (00 04 EF BB BF 63).
    let connect = [
        0x10, 0x10, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x04, 0xEF,
        0xBB, 0xBF, b'c',
    ];
    let packet = decode_ok(&connect, V311);
    let Packet::Connect(c) = &packet else {
        panic!()
    };
    assert_eq!(c.client_id.as_str(), "\u{FEFF}c");
    assert_eq!(encode(&packet, V311), connect);
}

#[test]
fn u_feff_built_by_hand_is_written_as_ef_bb_bf() {
    let publish = mqttwire::Publish::new(mqttwire::TopicName::new("\u{FEFF}t").unwrap(), &b""[..]);
    let bytes = encode(&Packet::Publish(publish), V311);
    assert_eq!(bytes, [0x30, 0x06, 0x00, 0x04, 0xEF, 0xBB, 0xBF, b't']);
}
