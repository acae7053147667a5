//! Heap allocations per packet in steady state: decoding from a reused receive buffer and
//! encoding into a reused send buffer. The target is none at all, MQTT 5.0 properties
//! included; a change that adds an allocation per packet fails here. Also the memory a
//! `Decoder` takes while a packet arrives: bounded by what arrived, not by what the fixed
//! header claims, and growing geometrically.

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

/// SUBACK and UNSUBACK hold their reason codes in a `Vec`, and CONNECT is boxed in
/// `Packet`: one allocation per decoded packet of those kinds, which come once per
/// connection or rarely. Everything else allocates nothing, SUBSCRIBE and UNSUBSCRIBE
/// included (their lists are slices of the frame).
fn allowed_decode_allocations(name: &str) -> u64 {
    match name {
        "connect" | "suback" => ROUNDS,
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
        // CONNECT, SUBSCRIBE, PUBLISHes, PUBACKs, PINGREQ, DISCONNECT.
        assert_eq!(packets, 2 + 100 + 10 + 2);
        // The boxed CONNECT and the first split of the receive buffer; none for the
        // SUBSCRIBE (its list is a slice of the frame) nor the 112 packets after it.
        assert!(allocations <= 2, "{allocations} allocations at {version}");
    }
}

/// Decoding a large packet takes at most about twice its size in heap, lists included: an
/// 8 MiB SUBSCRIBE of 4-byte filters (84 MB when its list was a `Vec`, 10 times its size),
/// an UNSUBSCRIBE of 3-byte filters (134 MB, 16 times), a PUBLISH of many User Properties
/// and a CONNECT with every field long. Measured through the `Decoder`, with the packet's
/// bytes already received (the packet shares them: nothing more), and through
/// `Packet::decode_slice` (one copy of the frame), with the decoded packet kept.
#[test]
fn decoding_a_large_packet_takes_at_most_twice_its_size() {
    use mqttwire::properties::{PublishProperties, UserProperties};
    use mqttwire::{
        Connect, MqttString, PacketId, Publish, QoS, Subscribe, Subscription, TopicFilter,
        TopicName, Unsubscribe, Will,
    };
    let id = PacketId::new(1).unwrap();
    let filters = |width: usize| {
        (0..8 << 20).step_by(width + 2).map(move |i| {
            TopicFilter::new(&format!("{:0width$x}", i % (1 << (4 * width)))).unwrap()
        })
    };
    let subscribe = Subscribe::new(
        id,
        filters(4).map(|f| Subscription::new(f, QoS::AtLeastOnce)),
    );
    let unsubscribe = Unsubscribe::new(id, filters(3));
    let pairs: Vec<(String, String)> = (0..100_000)
        .map(|i| (format!("k{i}"), format!("v{i}")))
        .collect();
    let user = UserProperties::from_pairs(pairs.iter().map(|(k, v)| (&k[..], &v[..]))).unwrap();
    let mut publish = Publish::new(TopicName::new("a/b").unwrap(), vec![0x5A; 1 << 20]);
    publish.properties = PublishProperties::default().with_user_properties(user);
    let long = |c: char| MqttString::new(&c.to_string().repeat(60_000)).unwrap();
    let mut connect = Connect::new(ProtocolVersion::V5, long('c'));
    connect.user_name = Some(long('u'));
    connect.password = Some(vec![0x70; 60_000].into());
    connect.will = Some(Will::new(TopicName::new("w").unwrap(), vec![0x77; 60_000]));
    for (name, packet) in [
        ("SUBSCRIBE", Packet::from(subscribe)),
        ("UNSUBSCRIBE", Packet::from(unsubscribe)),
        ("PUBLISH", Packet::from(publish)),
        ("CONNECT", Packet::from(connect)),
    ] {
        let version = ProtocolVersion::V5;
        let bytes = fixtures::encode_one(&packet, version);
        let size = bytes.len();
        let mut rx = BytesMut::from(&bytes[..]);
        let mut decoder = Decoder::new(version).with_max_packet_size(16 << 20);
        let (streamed, decoded) = alloc_counter::peak(|| decoder.decode(&mut rx).unwrap());
        assert_eq!(decoded.as_ref(), Some(&packet), "{name}");
        let (sliced, decoded) = alloc_counter::peak(|| Packet::decode_slice(&bytes, version));
        assert_eq!(decoded.map(|(p, _)| p).as_ref(), Ok(&packet), "{name}");
        for (how, peak) in [("the Decoder", streamed), ("decode_slice", sliced)] {
            assert!(
                peak <= 2 * size + 1024,
                "{name} of {size} bytes took {peak} bytes of heap through {how}"
            );
        }
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

/// The room the `Decoder` keeps for the next read while a packet is incomplete, and the
/// least it grows a buffer by: its documented memory bound is `max(2 × len, len + GROWTH)`
/// for an allocation made with `len` bytes of the packet buffered.
const READ_ROOM: usize = 2 * 1024;
const GROWTH: usize = 4 * 1024;

/// Feeds `bytes` to `decoder` in `chunk`-byte pieces appended to a buffer that starts
/// empty, checking after every call the decoder's memory bound and its room for the next
/// read. Returns the packet (if the bytes complete one), the buffer's capacity before the
/// last call, the bytes the decoder copied (each time the buffer moved, the bytes it held),
/// the times it grew the buffer, and the allocations made and the largest one.
fn trickle(decoder: &mut Decoder, bytes: &[u8], chunk: usize) -> Trickle {
    let mut rx = BytesMut::new();
    let mut out = Trickle::default();
    for piece in bytes.chunks(chunk) {
        let capacity = rx.capacity();
        rx.extend_from_slice(piece);
        assert!(
            capacity == 0 || rx.capacity() == capacity,
            "the caller had to grow the buffer: no room for {chunk} bytes"
        );
        let (held, at) = (rx.len(), rx.as_ptr());
        out.capacity = rx.capacity();
        let (allocations, (largest, result)) =
            alloc_counter::count(|| alloc_counter::largest(|| decoder.decode(&mut rx)));
        out.allocations += allocations;
        out.largest = out.largest.max(largest);
        if let Some(packet) = result.unwrap() {
            out.packet = Some(packet);
            return out;
        }
        if rx.as_ptr() != at {
            out.copied += held;
        }
        if rx.capacity() != out.capacity {
            out.growths += 1;
        }
        // Before the header is complete the packet may be as large as the maximum.
        let missing = decoder
            .bytes_needed(&rx)
            .unwrap_or(decoder.max_packet_size() - held);
        assert!(
            rx.capacity() <= (2 * held).max(held + GROWTH),
            "{held} bytes buffered, capacity {}",
            rx.capacity()
        );
        assert!(
            rx.capacity() - rx.len() >= missing.min(READ_ROOM),
            "{held} bytes buffered, {missing} missing: room for only {} more",
            rx.capacity() - rx.len()
        );
    }
    out
}

#[derive(Default)]
struct Trickle {
    packet: Option<Packet>,
    capacity: usize,
    copied: usize,
    growths: u32,
    allocations: u64,
    largest: usize,
}

/// A 5-byte fixed header once made the decoder reserve the whole packet it claims (1 MiB
/// at the default limit, 256 MiB at `MAX_PACKET_SIZE`) before any body byte came: an idle
/// connection per claimed packet. Now what it reserves follows what arrived.
#[test]
fn a_header_claiming_1_mib_or_256_mib_reserves_only_what_arrived_plus_4_kib() {
    // PUBLISH, Remaining Length 1,048,572 (FC FF 3F): 1 MiB in all, the default limit.
    let one_mib = [0x30, 0xFC, 0xFF, 0x3F];
    // PUBLISH, Remaining Length 268,435,455 (FF FF FF 7F): 256 MiB, MAX_PACKET_SIZE.
    let max = [0x30, 0xFF, 0xFF, 0xFF, 0x7F];
    for (header, limit) in [
        (&one_mib[..], Decoder::DEFAULT_MAX_PACKET_SIZE),
        (&max[..], mqttwire::MAX_PACKET_SIZE),
    ] {
        let mut bytes = header.to_vec();
        bytes.extend_from_slice(&[0x00, 0x01, b'a', 0x00, 0x01, b'x', b'y']);
        for chunk in [1, 3, bytes.len()] {
            let mut decoder = Decoder::new(ProtocolVersion::V5).with_max_packet_size(limit);
            let t = trickle(&mut decoder, &bytes, chunk);
            assert!(t.packet.is_none());
            let received = bytes.len();
            assert_eq!(decoder.bytes_needed(&bytes), Some(limit - received));
            assert!(
                t.largest <= received + GROWTH,
                "limit {limit}, {chunk}-byte chunks: an allocation of {} bytes for {received} received",
                t.largest
            );
            assert!(t.allocations <= 2, "{} allocations", t.allocations);
        }
    }
}

/// A large packet arriving in small pieces: the buffer doubles as bytes arrive, so it is
/// allocated a logarithmic number of times, ends no larger than the packet, and the bytes
/// copied while growing stay within twice the packet's size.
#[test]
fn a_large_packet_trickling_in_grows_its_buffer_geometrically() {
    let v = ProtocolVersion::V5;
    for size in [100 * 1024, 1 << 20] {
        let bytes = fixtures::encode_one(&fixtures::publish_qos0(size), v);
        let total = bytes.len();
        for chunk in [1, 7, 1460, READ_ROOM] {
            if size > 100 * 1024 && chunk == 1 {
                continue; // a million calls: the 100 KiB packet covers one-byte pieces
            }
            let mut decoder = Decoder::new(v).with_max_packet_size(2 << 20);
            let t = trickle(&mut decoder, &bytes, chunk);
            let context = format!("{total} bytes in {chunk}-byte pieces");
            let Some(Packet::Publish(publish)) = t.packet else {
                panic!("{context}: no PUBLISH")
            };
            assert_eq!(publish.payload.len(), size, "{context}");
            assert!(t.capacity <= total, "{context}: capacity {}", t.capacity);
            assert!(
                t.copied <= 2 * total,
                "{context}: {} bytes copied",
                t.copied
            );
            // About one growth per doubling from 4 KiB (8 to 1 MiB), and a few more while
            // the buffer is small: it grows by at least 4 KiB, not yet by doubling. Each
            // is a `realloc` and at most one small allocation of `bytes`' bookkeeping; one
            // more such makes the finished frame shareable.
            assert!(t.growths <= 12, "{context}: {} growths", t.growths);
            let allocations = t.allocations;
            assert!(
                allocations <= 2 * u64::from(t.growths) + 1,
                "{context}: {allocations}"
            );
        }
    }
}
