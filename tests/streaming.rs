//! The streaming `Decoder` and the one-shot decoders, through the public API only.
//!
//! The `Decoder` follows tokio-util's contract: `Ok(None)` while a packet is incomplete
//! (nothing consumed), `Ok(Some(packet))` with exactly the packet's bytes split off the
//! buffer, `Err` when the stream is unusable.

mod common;

use bytes::{Bytes, BytesMut};
use common::*;
use mqttwire::{DecodeErrorKind, Decoder, Packet, PacketType, ProtocolVersion, QosPid, ReasonCode};
use std::collections::BTreeSet;

fn one_shot(v: &Vector) -> Packet {
    let (packet, used) = Packet::decode(&Bytes::from_static(v.bytes), v.version)
        .unwrap_or_else(|e| panic!("{}: {e}", v.name));
    assert_eq!(used, v.bytes.len(), "{}", v.name);
    packet
}

fn stream_of(version: ProtocolVersion) -> (Vec<u8>, Vec<Packet>) {
    let vectors = vectors_for(version);
    let bytes = vectors
        .iter()
        .flat_map(|v| v.bytes.iter().copied())
        .collect();
    let packets = vectors.iter().map(one_shot).collect();
    (bytes, packets)
}

// ------------------------------------------------------------------------------------------
// Partial packets: Ok(None), nothing consumed (§2.1.4 / 3.1.1 §2.2.3: a fragment is no error)
// ------------------------------------------------------------------------------------------

#[test]
fn partial_packet_is_none_and_consumes_nothing() {
    let cases: [&[u8]; 6] = [
        &[],
        &[0x32],
        &[0x32, 0x06, 0x00, 0x01, 0x61], // QoS 1 PUBLISH, 3 of its 8 bytes missing
        &[0x30, 0xC1],                   // Remaining Length cut after its first byte
        &[0x30, 0xC1, 0x02],             // Remaining Length 321, no body yet
        &[0x82, 0x80, 0x80, 0x80],       // three continuation bytes, the fourth not in yet
    ];
    for version in LEVELS {
        for bytes in cases {
            let mut decoder = Decoder::new(version);
            let mut buf = BytesMut::from(bytes);
            assert_eq!(
                decoder.decode(&mut buf).unwrap(),
                None,
                "{version}: {}",
                hex(bytes)
            );
            assert_eq!(&buf[..], bytes, "{version}: bytes were consumed");
            // Asking again changes nothing either.
            assert_eq!(decoder.decode(&mut buf).unwrap(), None);
            assert_eq!(&buf[..], bytes);
        }
    }
}

#[test]
fn partial_packet_completes_when_the_rest_arrives() {
    let mut decoder = Decoder::new(V311);
    let mut buf = BytesMut::from(&[0x32, 0x06, 0x00, 0x01, b'a'][..]);
    assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    buf.extend_from_slice(&[0x00, 0x07, b'!']);
    let Some(Packet::Publish(publish)) = decoder.decode(&mut buf).unwrap() else {
        panic!("expected a PUBLISH");
    };
    assert_eq!(publish.topic, "a");
    assert_eq!(publish.qos.packet_id().map(|id| id.get()), Some(7));
    assert_eq!(&publish.payload[..], b"!");
    assert!(buf.is_empty());
}

#[test]
fn bytes_needed_is_exact_once_the_header_is_in_and_none_before() {
    let decoder = Decoder::new(V5);
    let cases: [(&[u8], Option<usize>); 9] = [
        (&[], None),
        (&[0x32], None),
        (&[0x30, 0xC1], None),
        (&[0x30, 0x80, 0x80], None),
        (&[0x32, 0x06], Some(6)),
        (&[0x32, 0x06, 0x00, 0x01, 0x61], Some(3)),
        (&[0x32, 0x06, 0x00, 0x01, 0x61, 0x00, 0x01, 0x00], Some(0)),
        (&[0x30, 0xC1, 0x02], Some(321)), // 321 = 0x41 + 2 * 128
        (&[0x30, 0x80, 0x80, 0x01, 0x00], Some(16_383)), // 16,384 minus the 1 body byte in
    ];
    for (bytes, expected) in cases {
        assert_eq!(decoder.bytes_needed(bytes), expected, "{}", hex(bytes));
    }
    // With more than one packet in the buffer, only the first counts.
    assert_eq!(
        decoder.bytes_needed(&[0xC0, 0x00, 0x32, 0x06]),
        Some(0),
        "a complete PINGREQ is in"
    );
}

#[test]
fn bytes_needed_counts_down_while_the_header_is_cached() {
    // 5.0 PUBLISH QoS 1 "a", packet id 1, no properties, payload "hello": body 3+2+1+5 = 11.
    let packet = [
        0x32, 0x0B, 0x00, 0x01, b'a', 0x00, 0x01, 0x00, b'h', b'e', b'l', b'l', b'o',
    ];
    let mut decoder = Decoder::new(V5);
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&packet[..2]); // the fixed header alone
    assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    assert_eq!(decoder.bytes_needed(&buf), Some(11));
    for (i, &byte) in packet[2..].iter().enumerate() {
        assert_eq!(decoder.bytes_needed(&buf), Some(11 - i));
        let done = i == packet.len() - 3;
        buf.extend_from_slice(&[byte]);
        let got = decoder.decode(&mut buf).unwrap();
        assert_eq!(got.is_some(), done, "after body byte {i}");
        if !done {
            assert_eq!(buf.len(), 3 + i, "nothing consumed while partial");
        }
    }
    assert!(buf.is_empty());
    assert_eq!(decoder.bytes_needed(&buf), None, "next header not in yet");
}

#[test]
fn header_cache_then_body_in_pieces_decodes_like_one_shot() {
    let expected = one_shot(&Vector {
        name: "every publish property",
        version: V5,
        bytes: PUBLISH_ALL_PROPS_V5,
        canonical: true,
    });
    let hl = header_len(PUBLISH_ALL_PROPS_V5);
    // Header first, then the body in pieces of 1, 2, 3, ... bytes.
    let mut decoder = Decoder::new(V5);
    let mut buf = BytesMut::from(&PUBLISH_ALL_PROPS_V5[..hl]);
    assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    let body = &PUBLISH_ALL_PROPS_V5[hl..];
    let mut at = 0;
    let mut step = 1;
    let mut result = None;
    while at < body.len() {
        let end = (at + step).min(body.len());
        buf.extend_from_slice(&body[at..end]);
        at = end;
        step += 1;
        let got = decoder.decode(&mut buf).unwrap();
        if at < body.len() {
            assert_eq!(got, None);
            assert_eq!(decoder.bytes_needed(&buf), Some(body.len() - at));
        } else {
            result = got;
        }
    }
    assert_eq!(result, Some(expected));
    assert!(buf.is_empty());
}

#[test]
fn decoder_reserves_room_for_the_whole_packet_once_the_header_is_in() {
    // Remaining Length 1,000 (E8 07): the decoder reserves for the body so the caller's
    // reads need not grow the buffer piecemeal.
    let mut decoder = Decoder::new(V5);
    let mut buf = BytesMut::from(&[0x30, 0xE8, 0x07][..]);
    assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    assert!(buf.capacity() >= 1_003, "capacity {}", buf.capacity());
    assert_eq!(&buf[..], [0x30, 0xE8, 0x07]);
}

/// A caller that reads only into the buffer's spare capacity, as `read_buf` does, always
/// finds room while a packet is incomplete: the decoder keeps room for the next read (2 KiB,
/// or the rest of the packet when less is missing) rather than the room for the whole
/// packet up front, large packets included. Only an empty buffer is the caller's to size.
#[test]
fn a_reader_into_spare_capacity_always_has_room_while_a_packet_is_incomplete() {
    let mut rng = XorShift::new(0x5EED_0015);
    for version in LEVELS {
        let (mut bytes, mut expected) = stream_of(version);
        // A QoS 0 PUBLISH to "big" with 300 KiB of payload, then the stream once more.
        let payload = 300 * 1024;
        let body = 5 + usize::from(version.is_v5()) + payload;
        let mut big = vec![0x30];
        let mut rest = body;
        while rest >= 0x80 {
            big.push(0x80 | (rest & 0x7F) as u8);
            rest >>= 7;
        }
        big.push(rest as u8);
        big.extend_from_slice(&[0x00, 0x03, b'b', b'i', b'g']);
        if version.is_v5() {
            big.push(0x00); // no properties
        }
        big.resize(big.len() + payload, 0xA5);
        expected.push(
            Packet::decode(&Bytes::from(big.clone()), version)
                .unwrap()
                .0,
        );
        expected.extend(expected[..expected.len() - 1].to_vec());
        let again = bytes.clone();
        bytes.extend_from_slice(&big);
        bytes.extend_from_slice(&again);

        let mut decoder = Decoder::new(version);
        let mut buf = BytesMut::with_capacity(16);
        let (mut got, mut at) = (Vec::new(), 0);
        while at < bytes.len() {
            if buf.is_empty() && buf.capacity() == 0 {
                buf.reserve(64);
            }
            let room = buf.capacity() - buf.len();
            assert!(
                room > 0,
                "{version}: no room to read into with {} bytes buffered",
                buf.len()
            );
            let n = room.min(1 + rng.below(8192)).min(bytes.len() - at);
            buf.extend_from_slice(&bytes[at..at + n]);
            at += n;
            while let Some(packet) = decoder.decode(&mut buf).unwrap() {
                got.push(packet);
            }
        }
        assert_eq!(got, expected, "{version}");
        assert!(buf.is_empty(), "{version}");
    }
}

// ------------------------------------------------------------------------------------------
// Several packets in one buffer
// ------------------------------------------------------------------------------------------

#[test]
fn several_packets_in_one_buffer_decode_one_after_another() {
    for version in LEVELS {
        let (bytes, expected) = stream_of(version);
        let mut decoder = Decoder::new(version);
        let mut buf = BytesMut::from(&bytes[..]);
        let mut got = Vec::new();
        while let Some(packet) = decoder.decode(&mut buf).unwrap() {
            got.push(packet);
        }
        assert_eq!(got, expected, "{version}");
        assert!(buf.is_empty(), "{version}: {} bytes left", buf.len());
    }
}

#[test]
fn leftover_bytes_of_the_next_packet_are_preserved() {
    // PUBACK, PINGRESP, then 3 bytes of a QoS 1 PUBLISH.
    let bytes = [0x40, 0x02, 0x00, 0x05, 0xD0, 0x00, 0x32, 0x06, 0x00];
    let mut decoder = Decoder::new(V311);
    let mut buf = BytesMut::from(&bytes[..]);
    let Some(Packet::PubAck(ack)) = decoder.decode(&mut buf).unwrap() else {
        panic!("expected PUBACK");
    };
    assert_eq!(ack.packet_id.get(), 5);
    assert_eq!(&buf[..], &bytes[4..]);
    assert_eq!(decoder.decode(&mut buf).unwrap(), Some(Packet::PingResp));
    assert_eq!(&buf[..], &bytes[6..]);
    assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    assert_eq!(&buf[..], &bytes[6..], "partial PUBLISH kept as it was");
    assert_eq!(decoder.bytes_needed(&buf), Some(5));
}

#[test]
fn stream_fed_one_byte_at_a_time_yields_the_same_packets() {
    for version in LEVELS {
        let (bytes, expected) = stream_of(version);
        let mut decoder = Decoder::new(version);
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for &byte in &bytes {
            buf.extend_from_slice(&[byte]);
            while let Some(packet) = decoder.decode(&mut buf).unwrap() {
                got.push(packet);
            }
        }
        assert_eq!(got, expected, "{version}");
        assert!(buf.is_empty());
    }
}

#[test]
fn stream_fed_in_random_chunks_yields_the_same_packets() {
    let mut rng = XorShift::new(0x5EED_0001);
    for version in LEVELS {
        let (bytes, expected) = stream_of(version);
        for _ in 0..200 {
            let mut decoder = Decoder::new(version);
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            let mut at = 0;
            while at < bytes.len() {
                let end = (at + 1 + rng.below(40)).min(bytes.len());
                buf.extend_from_slice(&bytes[at..end]);
                at = end;
                while let Some(packet) = decoder.decode(&mut buf).unwrap() {
                    got.push(packet);
                }
            }
            assert_eq!(got, expected, "{version}");
            assert!(buf.is_empty());
        }
    }
}

// ------------------------------------------------------------------------------------------
// Every vector through the Decoder
// ------------------------------------------------------------------------------------------

#[test]
fn every_vector_decodes_through_the_decoder_like_one_shot() {
    for version in LEVELS {
        let mut types = BTreeSet::new();
        for v in vectors_for(version) {
            let mut decoder = Decoder::new(v.version);
            let mut buf = BytesMut::from(v.bytes);
            let packet = decoder
                .decode(&mut buf)
                .unwrap_or_else(|e| panic!("{}: {e}", v.name))
                .unwrap_or_else(|| panic!("{}: incomplete", v.name));
            assert!(buf.is_empty(), "{}", v.name);
            assert_eq!(packet, one_shot(&v), "{}", v.name);
            types.insert(packet.packet_type());
        }
        if version == V5 {
            // Every one of the fifteen packet types has a 5.0 vector.
            assert_eq!(types, ALL_TYPES.into_iter().collect(), "{version}");
        }
        if version == V311 {
            // Every type but AUTH, which 3.1.1 reserves.
            let expected: BTreeSet<_> = ALL_TYPES
                .into_iter()
                .filter(|t| *t != PacketType::Auth)
                .collect();
            assert_eq!(types, expected, "{version}");
        }
    }
}

#[test]
fn client_decoder_follows_the_level_of_a_connect_it_decodes() {
    // A decoder made for 5.0 that decodes a level 4 CONNECT speaks 3.1.1 afterwards.
    let mut decoder = Decoder::new(V5);
    let mut buf = BytesMut::from(
        &[
            0x10, 0x0E, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x02,
            b'c', b'1',
        ][..],
    );
    assert!(matches!(
        decoder.decode(&mut buf).unwrap(),
        Some(Packet::Connect(_))
    ));
    assert_eq!(decoder.version(), Some(V311));
}

// ------------------------------------------------------------------------------------------
// The server decoder learns the version from CONNECT ([MQTT-3.1.0-1] in 3.1.1 and 5.0)
// ------------------------------------------------------------------------------------------

/// `30 05 00 01 61 00 01`: at 3.1.1 topic "a" and payload `00 01`; at 5.0 the `00` would be
/// read as an empty property set and the payload would be just `01`.
const PUBLISH_AMBIGUOUS: [u8; 7] = [0x30, 0x05, 0x00, 0x01, b'a', 0x00, 0x01];

#[test]
fn server_decoder_learns_3_1_1_from_connect_and_parses_publish_at_level_4() {
    let mut decoder = Decoder::for_server();
    assert_eq!(decoder.version(), None);
    let mut buf = BytesMut::from(
        &[
            0x10, 0x0E, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x02,
            b'c', b'1',
        ][..],
    );
    buf.extend_from_slice(&PUBLISH_AMBIGUOUS);
    let Some(Packet::Connect(connect)) = decoder.decode(&mut buf).unwrap() else {
        panic!("expected CONNECT");
    };
    assert_eq!(connect.protocol_version, V311);
    assert_eq!(decoder.version(), Some(V311));
    let Some(Packet::Publish(publish)) = decoder.decode(&mut buf).unwrap() else {
        panic!("expected PUBLISH");
    };
    assert_eq!(publish.topic, "a");
    assert_eq!(&publish.payload[..], [0x00, 0x01]);
    assert!(publish.properties.is_empty());
    assert!(buf.is_empty());

    // The same bytes read at 5.0 give another payload: the version really mattered.
    let (at5, _) = Packet::decode(&Bytes::from_static(&PUBLISH_AMBIGUOUS), V5).unwrap();
    let Packet::Publish(at5) = at5 else { panic!() };
    assert_eq!(&at5.payload[..], [0x01]);
}

#[test]
fn server_decoder_learns_5_0_from_connect_and_then_accepts_auth() {
    let mut decoder = Decoder::for_server();
    let mut buf = BytesMut::from(
        &[
            0x10, 0x0F, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3C, 0x00, 0x00,
            0x02, b'c', b'1',
        ][..],
    );
    buf.extend_from_slice(&[0xF0, 0x06, 0x18, 0x04, 0x15, 0x00, 0x01, b'M']);
    buf.extend_from_slice(&PUBLISH_AMBIGUOUS);
    assert!(matches!(
        decoder.decode(&mut buf).unwrap(),
        Some(Packet::Connect(_))
    ));
    assert_eq!(decoder.version(), Some(V5));
    let Some(Packet::Auth(auth)) = decoder.decode(&mut buf).unwrap() else {
        panic!("expected AUTH");
    };
    assert_eq!(
        auth.properties.authentication_method().as_deref(),
        Some("M")
    );
    let Some(Packet::Publish(publish)) = decoder.decode(&mut buf).unwrap() else {
        panic!("expected PUBLISH");
    };
    assert_eq!(&publish.payload[..], [0x01], "parsed at 5.0");
}

#[test]
fn server_decoder_learns_3_1_from_an_mqisdp_connect() {
    let mut decoder = Decoder::for_server();
    let mut buf = BytesMut::from(vectors_for(V31)[0].bytes);
    assert!(matches!(
        decoder.decode(&mut buf).unwrap(),
        Some(Packet::Connect(_))
    ));
    assert_eq!(decoder.version(), Some(V31));
}

#[test]
fn server_decoder_refuses_auth_after_a_level_4_connect() {
    // Packet type 15 is reserved in 3.1.1.
    let mut decoder = Decoder::for_server();
    let mut buf = BytesMut::from(
        &[
            0x10, 0x0E, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x02,
            b'c', b'1',
        ][..],
    );
    buf.extend_from_slice(&[0xF0, 0x00]);
    decoder.decode(&mut buf).unwrap().unwrap();
    let err = decoder.decode(&mut buf).unwrap_err();
    assert_eq!(
        err.kind(),
        &DecodeErrorKind::ReservedPacketType { packet_type: 15 }
    );
}

#[test]
fn server_decoder_refuses_a_first_packet_other_than_connect_mqtt_3_1_0_1() {
    let cases: [&[u8]; 7] = [
        &[0xC0, 0x00],                                     // PINGREQ
        &[0x30, 0x05, 0x00, 0x01, b'a', 0x00, 0x01],       // whole PUBLISH
        &[0x32, 0x06],                                     // PUBLISH header, body not yet in
        &[0x30, 0xC1, 0x02],                               // 321-byte PUBLISH, body not yet in
        &[0xE0, 0x00],                                     // DISCONNECT
        &[0xF0, 0x00],                                     // AUTH
        &[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x00], // SUBSCRIBE
    ];
    for bytes in cases {
        let mut decoder = Decoder::for_server();
        let mut buf = BytesMut::from(bytes);
        let err = decoder.decode(&mut buf).unwrap_err();
        assert_eq!(
            err.kind(),
            &DecodeErrorKind::ExpectedConnect,
            "{}",
            hex(bytes)
        );
        assert_eq!(err.reason_code(), ReasonCode::PROTOCOL_ERROR);
        assert_eq!(err.rule(), Some("MQTT-3.1.0-1"));
        assert_eq!(
            err.packet_type(),
            PacketType::from_bits(bytes[0] >> 4),
            "{}",
            hex(bytes)
        );
        assert_eq!(decoder.version(), None);
    }
}

/// The first byte alone names the packet type: a server need not wait for the rest of the
/// fixed header to refuse anything but CONNECT ([MQTT-3.1.0-1]).
#[test]
fn server_decoder_refuses_a_non_connect_from_its_first_byte_mqtt_3_1_0_1() {
    for first in [0xC0u8, 0x32, 0x82] {
        let mut decoder = Decoder::for_server();
        let err = decoder
            .decode(&mut BytesMut::from(&[first][..]))
            .unwrap_err();
        assert_eq!(err.kind(), &DecodeErrorKind::ExpectedConnect, "{first:02x}");
        assert_eq!(decoder.bytes_needed(&[first]), None, "{first:02x}");
    }
    // A CONNECT's first byte just waits for more.
    let mut decoder = Decoder::for_server();
    assert_eq!(
        decoder.decode(&mut BytesMut::from(&[0x10][..])).unwrap(),
        None
    );
}

/// `bytes_needed` answers `None` for a header that `decode` refuses, such as one over the
/// size limit, rather than counting towards a packet that will never be accepted.
#[test]
fn bytes_needed_is_none_for_a_header_over_the_limit() {
    let decoder = Decoder::new(ProtocolVersion::V5).with_max_packet_size(16);
    assert_eq!(decoder.bytes_needed(&[0x30, 0x0E]), Some(14)); // 16 in all, 2 here
    assert_eq!(decoder.bytes_needed(&[0x30, 0x0F]), None);
    assert_eq!(decoder.bytes_needed(&[0x30, 0xFF, 0xFF, 0xFF, 0x7F]), None);
}

// ------------------------------------------------------------------------------------------
// One-shot decoding
// ------------------------------------------------------------------------------------------

#[test]
fn one_shot_decode_reports_incomplete_with_the_bytes_needed() {
    let cases: [(&[u8], Option<usize>); 7] = [
        (&[], None),
        (&[0x30], None),
        (&[0x30, 0xC1], None),
        (&[0x32, 0x06], Some(6)),
        (&[0x32, 0x06, 0x00, 0x01, 0x61], Some(3)),
        (&[0x30, 0xC1, 0x02], Some(321)),
        (&[0x30, 0xFF, 0xFF, 0xFF, 0x7F], Some(268_435_455)),
    ];
    for version in LEVELS {
        for (bytes, needed) in cases {
            let err = Packet::decode(&Bytes::copy_from_slice(bytes), version).unwrap_err();
            assert_eq!(
                err.kind(),
                &DecodeErrorKind::Incomplete { needed },
                "{version}: {}",
                hex(bytes)
            );
            assert!(err.is_incomplete());
            let err = Packet::decode_slice(bytes, version).unwrap_err();
            assert_eq!(err.kind(), &DecodeErrorKind::Incomplete { needed });
        }
    }
}

#[test]
fn one_shot_decode_reports_the_bytes_used_and_leaves_trailing_bytes() {
    for v in vectors() {
        let mut input = v.bytes.to_vec();
        input.extend_from_slice(&[0xC0, 0x00, 0xFF]); // a PINGREQ and a stray byte
        let input = Bytes::from(input);
        let (packet, used) = Packet::decode(&input, v.version).unwrap();
        assert_eq!(used, v.bytes.len(), "{}", v.name);
        assert_eq!(packet, one_shot(&v), "{}", v.name);
        let (next, used2) = Packet::decode(&input.slice(used..), v.version).unwrap();
        assert_eq!((next, used2), (Packet::PingReq, 2), "{}", v.name);
    }
}

#[test]
fn decode_slice_decodes_a_byte_slice_like_decode() {
    for v in vectors() {
        let mut input = v.bytes.to_vec();
        input.extend_from_slice(&[0xD0, 0x00]);
        let (packet, used) = Packet::decode_slice(&input, v.version).unwrap();
        assert_eq!(used, v.bytes.len(), "{}", v.name);
        assert_eq!(packet, one_shot(&v), "{}", v.name);
    }
    // Errors are the same as decode's.
    for (bytes, version) in [
        (&[0x60, 0x02, 0x00, 0x01][..], V5),
        (&[0xC0, 0x01, 0x00][..], V311),
        (&[0x30, 0x80, 0x00][..], V5),
    ] {
        assert_eq!(
            Packet::decode_slice(bytes, version).unwrap_err(),
            Packet::decode(&Bytes::copy_from_slice(bytes), version).unwrap_err(),
            "{}",
            hex(bytes)
        );
    }
}

// ------------------------------------------------------------------------------------------
// Zero copy: decoded fields are slices of the received frame; detach() copies them out
// ------------------------------------------------------------------------------------------

struct Region {
    start: usize,
    end: usize,
}

impl Region {
    fn of(buf: &[u8]) -> Self {
        let start = buf.as_ptr() as usize;
        Self {
            start,
            end: start + buf.len(),
        }
    }

    fn holds(&self, field: &Span) -> bool {
        field.len > 0 && field.addr >= self.start && field.addr + field.len <= self.end
    }
}

/// Where a decoded field's bytes are. Property getters return owned (zero-copy) values,
/// so the fields are compared by address rather than borrowed.
struct Span {
    addr: usize,
    len: usize,
}

impl Span {
    fn of(bytes: &[u8]) -> Self {
        Self {
            addr: bytes.as_ptr() as usize,
            len: bytes.len(),
        }
    }
}

/// Every string and binary field a test packet carries, with a label.
fn borrowed_fields(packet: &Packet) -> Vec<(&'static str, Span)> {
    let mut out: Vec<(&'static str, Span)> = Vec::new();
    match packet {
        Packet::Publish(p) => {
            out.push(("topic", Span::of(p.topic.as_bytes())));
            out.push(("payload", Span::of(&p.payload[..])));
            if let Some(t) = p.properties.response_topic() {
                out.push(("response topic", Span::of(t.as_bytes())));
            }
            if let Some(c) = p.properties.correlation_data() {
                out.push(("correlation data", Span::of(&c[..])));
            }
            if let Some(c) = p.properties.content_type() {
                out.push(("content type", Span::of(c.as_bytes())));
            }
            for (k, v) in p.properties.user_properties().iter() {
                out.push(("user property name", Span::of(k.as_bytes())));
                out.push(("user property value", Span::of(v.as_bytes())));
            }
        }
        Packet::Connect(c) => {
            out.push(("client id", Span::of(c.client_id.as_bytes())));
            if let Some(w) = &c.will {
                out.push(("will topic", Span::of(w.topic.as_bytes())));
                out.push(("will payload", Span::of(&w.payload[..])));
            }
            if let Some(u) = &c.user_name {
                out.push(("user name", Span::of(u.as_bytes())));
            }
            if let Some(p) = &c.password {
                out.push(("password", Span::of(&p[..])));
            }
            for (k, v) in c.properties.user_properties().iter() {
                out.push(("user property name", Span::of(k.as_bytes())));
                out.push(("user property value", Span::of(v.as_bytes())));
            }
        }
        Packet::PubAck(a) => {
            if let Some(r) = a.properties.reason_string() {
                out.push(("reason string", Span::of(r.as_bytes())));
            }
            for (k, v) in a.properties.user_properties().iter() {
                out.push(("user property name", Span::of(k.as_bytes())));
                out.push(("user property value", Span::of(v.as_bytes())));
            }
        }
        Packet::Subscribe(s) => {
            for sub in &s.subscriptions {
                out.push(("filter", Span::of(sub.filter.as_bytes())));
            }
        }
        Packet::Auth(a) => {
            if let Some(m) = a.properties.authentication_method() {
                out.push(("authentication method", Span::of(m.as_bytes())));
            }
            if let Some(d) = a.properties.authentication_data() {
                out.push(("authentication data", Span::of(&d[..])));
            }
        }
        _ => {}
    }
    out
}

const ZERO_COPY_CASES: [(&[u8], usize); 5] = [
    (PUBLISH_ALL_PROPS_V5, 7), // topic, payload, response topic, correlation, content type, pair
    (CONNECT_ALL_V5, 7),       // client id, will topic and payload, user, password, 1 pair
    (PUBACK_FULL_V5, 3),       // reason string, 1 pair
    (
        &[
            0x82, 0x10, 0x00, 0x01, 0x00, 0x00, 0x0A, b'$', b's', b'h', b'a', b'r', b'e', b'/',
            b'g', b'/', b'a', 0x01,
        ],
        1,
    ),
    (
        &[
            0xF0, 0x0A, 0x19, 0x08, 0x15, 0x00, 0x01, b'M', 0x16, 0x00, 0x01, 0x01,
        ],
        2,
    ),
];

#[test]
fn decoder_output_points_into_the_received_buffer() {
    for (bytes, count) in ZERO_COPY_CASES {
        let mut decoder = Decoder::new(V5);
        // Something in front, so the frame is not at the start of the allocation.
        let mut buf = BytesMut::from(&[0xC0, 0x00][..]);
        buf.extend_from_slice(bytes);
        let region = Region::of(&buf);
        assert_eq!(decoder.decode(&mut buf).unwrap(), Some(Packet::PingReq));
        let packet = decoder.decode(&mut buf).unwrap().unwrap();
        let fields = borrowed_fields(&packet);
        assert_eq!(fields.len(), count, "{}", hex(bytes));
        for (label, field) in &fields {
            assert!(region.holds(field), "{label} was copied: {}", hex(bytes));
        }
    }
}

#[test]
fn one_shot_decode_output_points_into_the_input() {
    for (bytes, count) in ZERO_COPY_CASES {
        let input = Bytes::copy_from_slice(bytes);
        let region = Region::of(&input);
        let (packet, _) = Packet::decode(&input, V5).unwrap();
        let fields = borrowed_fields(&packet);
        assert_eq!(fields.len(), count);
        for (label, field) in &fields {
            assert!(region.holds(field), "{label} was copied: {}", hex(bytes));
        }
    }
}

#[test]
fn detach_gives_an_equal_packet_that_shares_nothing_with_the_frame() {
    for (bytes, count) in ZERO_COPY_CASES {
        let input = Bytes::copy_from_slice(bytes);
        let region = Region::of(&input);
        let (packet, _) = Packet::decode(&input, V5).unwrap();
        let detached = packet.detach();
        assert_eq!(detached, packet);
        let fields = borrowed_fields(&detached);
        assert_eq!(fields.len(), count);
        for (label, field) in &fields {
            assert!(!region.holds(field), "{label} still shares the frame");
        }
        // The detached copy still encodes to the same bytes.
        assert_eq!(&assert_roundtrip(&detached, V5, "detached")[..], bytes);
    }
}

#[test]
fn detach_of_every_vector_is_equal_and_encodes_the_same() {
    for v in vectors() {
        let input = Bytes::from_static(v.bytes);
        let (packet, _) = Packet::decode(&input, v.version).unwrap();
        let detached = packet.detach();
        assert_eq!(detached, packet, "{}", v.name);
        let region = Region::of(&input);
        for (label, field) in borrowed_fields(&detached) {
            assert!(
                !region.holds(&field),
                "{}: {label} still shares the frame",
                v.name
            );
        }
        let a = assert_roundtrip(&packet, v.version, v.name);
        let b = assert_roundtrip(&detached, v.version, v.name);
        assert_eq!(a, b, "{}", v.name);
    }
}

#[test]
fn detach_of_a_publish_keeps_qos_and_flags() {
    let (packet, _) = Packet::decode(&Bytes::from_static(PUBLISH_ALL_PROPS_V5), V5).unwrap();
    let Packet::Publish(p) = packet.detach() else {
        panic!()
    };
    assert!(p.retain && !p.dup);
    assert!(matches!(p.qos, QosPid::ExactlyOnce(id) if id.get() == 42));
    assert_eq!(
        p.properties
            .subscription_identifiers()
            .iter()
            .map(|id| id.get())
            .collect::<Vec<_>>(),
        [7]
    );
}
