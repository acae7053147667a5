//! Heap allocations per packet in steady state: decoding from a reused receive buffer and
//! encoding into a reused send buffer. The target is none at all, MQTT 5.0 properties
//! included; a change that adds an allocation per packet fails here.

#[path = "fixtures/alloc_counter.rs"]
mod alloc_counter;
mod fixtures;

use bytes::BytesMut;
use mqttwire::{Decoder, Encoder, Packet, ProtocolVersion};

const ROUNDS: u64 = 1000;

/// Allocations per `ROUNDS` decodes of `bytes`, arriving in a reused receive buffer the way
/// a socket read appends them.
fn decode_allocations(bytes: &[u8], version: ProtocolVersion) -> u64 {
    let mut decoder = Decoder::new(version).with_max_packet_size(1 << 20);
    let mut rx = BytesMut::with_capacity(64 * 1024);
    let mut round = |rx: &mut BytesMut| {
        rx.extend_from_slice(bytes);
        let packet = decoder.decode(rx).unwrap().expect("a whole packet");
        drop(packet);
    };
    for _ in 0..10 {
        round(&mut rx); // warm up: the first split turns the buffer into a shared one
    }
    alloc_counter::count(|| {
        for _ in 0..ROUNDS {
            round(&mut rx);
        }
    })
    .0
}

/// Allocations per `ROUNDS` encodes of `packet` into a reused send buffer, drained after
/// each packet the way a socket write drains it.
fn encode_allocations(packet: &Packet, version: ProtocolVersion) -> u64 {
    let encoder = Encoder::new(version);
    let mut tx = BytesMut::with_capacity(64 * 1024);
    for _ in 0..10 {
        encoder.encode(packet, &mut tx).unwrap();
        tx.clear();
    }
    alloc_counter::count(|| {
        for _ in 0..ROUNDS {
            encoder.encode(packet, &mut tx).unwrap();
            tx.clear();
        }
    })
    .0
}

/// SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK hold their lists in a `Vec`, and CONNECT is
/// boxed in `Packet`: one allocation per decoded packet of those kinds, which come once per
/// connection or rarely. Everything else allocates nothing.
fn allowed_decode_allocations(name: &str) -> u64 {
    match name {
        "connect" | "subscribe" | "suback" | "unsubscribe" => ROUNDS,
        "unsuback" => ROUNDS, // 5.0 only: 3.1.1 UNSUBACK has no list
        _ => 0,
    }
}

#[test]
fn decoding_allocates_nothing_per_packet_in_steady_state() {
    for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
        let mut cases = fixtures::every_packet(version);
        cases.push(("publish-qos0-64KiB", fixtures::publish_qos0(64 * 1024)));
        if version.is_v5() {
            cases.push(("publish-qos1-properties", fixtures::publish_qos1_props()));
        }
        for (name, packet) in cases {
            let bytes = fixtures::encode_one(&packet, version);
            let allocations = decode_allocations(&bytes, version);
            let allowed = match (name, version) {
                ("unsuback", ProtocolVersion::V3_1_1) => 0,
                _ => allowed_decode_allocations(name),
            };
            assert!(
                allocations <= allowed,
                "decoding {name} at {version}: {allocations} allocations in {ROUNDS} packets"
            );
        }
    }
}

#[test]
fn encoding_allocates_nothing_per_packet_in_steady_state() {
    for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
        let mut cases = fixtures::every_packet(version);
        cases.push(("publish-qos0-64KiB", fixtures::publish_qos0(64 * 1024)));
        if version.is_v5() {
            cases.push(("publish-qos1-properties", fixtures::publish_qos1_props()));
        }
        for (name, packet) in cases {
            let allocations = encode_allocations(&packet, version);
            assert_eq!(allocations, 0, "encoding {name} at {version}");
        }
    }
}

#[test]
fn decoding_a_mixed_stream_allocates_only_for_connect_and_subscribe() {
    for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
        let stream = fixtures::encode_all(&fixtures::mixed_stream(version), version);
        let mut decoder = Decoder::new(version);
        let mut rx = BytesMut::with_capacity(stream.len());
        rx.extend_from_slice(&stream);
        let (allocations, packets) = alloc_counter::count(|| {
            let mut n = 0;
            while let Some(packet) = decoder.decode(&mut rx).unwrap() {
                drop(packet);
                n += 1;
            }
            n
        });
        assert_eq!(packets, 2 + 100 + 10 + 2); // CONNECT, SUBSCRIBE, PUBLISHes, PUBACKs, PINGREQ, DISCONNECT
                                               // The boxed CONNECT, the SUBSCRIBE's Vec, and the first split of the receive buffer;
                                               // none for the 112 packets after them.
        assert!(allocations <= 3, "{allocations} allocations at {version}");
    }
}

/// A malformed SUBSCRIBE or UNSUBSCRIBE must not make the decoder reserve many times its
/// size before the first entry is checked: 1 MiB of empty filters once led to a 16 MB
/// allocation (a `TopicFilter` is 32 bytes, an empty filter 2 on the wire).
#[test]
fn malformed_subscription_lists_reserve_nothing_large() {
    let body = 2 + (1 << 20); // packet identifier, then empty filters (and options)
    for (first_byte, entry) in [(0xA2u8, &[0x00, 0x00][..]), (0x82, &[0x00, 0x00, 0x00][..])] {
        let mut bytes = vec![first_byte, 0x82, 0x80, 0x40, 0x00, 0x01]; // RL 1 MiB + 2
        while bytes.len() < 4 + body {
            bytes.extend_from_slice(entry);
        }
        bytes.truncate(4 + body);
        let mut rx = BytesMut::from(&bytes[..]);
        let mut decoder = Decoder::new(ProtocolVersion::V3_1_1).with_max_packet_size(2 << 20);
        let (largest, result) = alloc_counter::largest(|| decoder.decode(&mut rx));
        assert!(
            result.is_err(),
            "{first_byte:#04x}: empty filters are malformed"
        );
        assert!(
            largest < 64 * 1024,
            "{first_byte:#04x}: decoding reserved {largest} bytes in one allocation"
        );
    }
}
