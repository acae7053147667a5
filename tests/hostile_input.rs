//! Memory and panic safety on hostile input: size limits checked at the fixed header before
//! anything is reserved, strict Remaining Length form, and deterministic pseudo-random
//! sweeps (random bytes, mutated vectors, every truncation, every header bit flip) through
//! the one-shot decoders and a `Decoder` fed in random chunks.

mod common;

use bytes::{Bytes, BytesMut};
use common::*;
use mqttwire::{DecodeErrorKind, Decoder, Packet, PacketType, ProtocolVersion, ReasonCode};
use std::time::Instant;

// ------------------------------------------------------------------------------------------
// Size limits, checked at the fixed header
// ------------------------------------------------------------------------------------------

#[test]
fn header_claiming_256_mib_fails_at_once_without_growing_the_buffer() {
    // 5-byte fixed header: PUBLISH with Remaining Length 268,435,455 (FF FF FF 7F), so a
    // 268,435,460-byte packet against the default 1 MiB limit.
    let header = [0x30, 0xFF, 0xFF, 0xFF, 0x7F];
    for version in LEVELS {
        let mut decoder = Decoder::new(version);
        assert_eq!(decoder.max_packet_size(), 1 << 20);
        assert_eq!(Decoder::DEFAULT_MAX_PACKET_SIZE, 1_048_576);
        let mut buf = BytesMut::with_capacity(16);
        buf.extend_from_slice(&header);
        let capacity = buf.capacity();
        let err = decoder.decode(&mut buf).unwrap_err();
        assert_eq!(
            err.kind(),
            &DecodeErrorKind::PacketTooLarge {
                size: 268_435_460,
                max: 1_048_576
            }
        );
        assert_eq!(err.reason_code(), ReasonCode::PACKET_TOO_LARGE);
        assert_eq!(err.reason_code(), ReasonCode(0x95));
        assert_eq!(err.packet_type(), Some(PacketType::Publish));
        assert_eq!(buf.capacity(), capacity, "{version}: the buffer grew");
    }
    // The server decoder, before it knows the version, refuses a huge CONNECT the same way.
    let mut decoder = Decoder::for_server();
    let mut buf = BytesMut::from(&[0x10, 0xFF, 0xFF, 0xFF, 0x7F][..]);
    let capacity = buf.capacity();
    let err = decoder.decode(&mut buf).unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::PacketTooLarge { .. }));
    assert_eq!(err.reason_code(), ReasonCode::PACKET_TOO_LARGE);
    assert_eq!(buf.capacity(), capacity);
}

#[test]
fn packet_of_exactly_the_limit_waits_and_one_byte_more_fails() {
    // (limit, header of a packet of exactly `limit` bytes, header of `limit + 1` bytes)
    let cases: [(usize, &[u8], &[u8]); 3] = [
        // Remaining Length 98 (0x62) + 2 = 100; 99 (0x63) + 2 = 101.
        (100, &[0x30, 0x62], &[0x30, 0x63]),
        // 197 = 69 + 128 (C5 01) + 3 = 200; 198 (C6 01) + 3 = 201.
        (200, &[0x30, 0xC5, 0x01], &[0x30, 0xC6, 0x01]),
        // 16,384 (80 80 01) + 4 = 16,388; 16,385 (81 80 01) + 4 = 16,389.
        (16_388, &[0x30, 0x80, 0x80, 0x01], &[0x30, 0x81, 0x80, 0x01]),
    ];
    for version in LEVELS {
        for (limit, fits, too_big) in cases {
            let mut decoder = Decoder::new(version).with_max_packet_size(limit);
            assert_eq!(decoder.max_packet_size(), limit);
            let mut buf = BytesMut::from(fits);
            assert_eq!(decoder.decode(&mut buf).unwrap(), None, "{}", hex(fits));
            assert_eq!(decoder.bytes_needed(&buf), Some(limit - fits.len()));

            let mut decoder = Decoder::new(version).with_max_packet_size(limit);
            let mut buf = BytesMut::from(too_big);
            let capacity = buf.capacity();
            let err = decoder.decode(&mut buf).unwrap_err();
            assert_eq!(
                err.kind(),
                &DecodeErrorKind::PacketTooLarge {
                    size: limit + 1,
                    max: limit
                },
                "{}",
                hex(too_big)
            );
            assert_eq!(err.reason_code(), ReasonCode::PACKET_TOO_LARGE);
            assert_eq!(buf.capacity(), capacity);
        }
    }
    // A whole packet of exactly the limit decodes; one byte less of limit refuses it.
    let publish = [0x30, 0x05, 0x00, 0x01, b'a', 0x00, 0x01]; // 7 bytes
    let mut decoder = Decoder::new(V311).with_max_packet_size(7);
    assert!(decoder
        .decode(&mut BytesMut::from(&publish[..]))
        .unwrap()
        .is_some());
    let mut decoder = Decoder::new(V311).with_max_packet_size(6);
    let err = decoder
        .decode(&mut BytesMut::from(&publish[..]))
        .unwrap_err();
    assert_eq!(
        err.kind(),
        &DecodeErrorKind::PacketTooLarge { size: 7, max: 6 }
    );
}

#[test]
fn generous_limit_reserves_at_most_the_announced_total() {
    // Remaining Length 3,000,000 = 64 + 13 * 128 + 55 * 128^2 + 1 * 128^3: C0 8D B7 01.
    let header = [0x30, 0xC0, 0x8D, 0xB7, 0x01];
    let total = 3_000_005;
    let limit = 4 << 20;
    let mut decoder = Decoder::new(V5).with_max_packet_size(limit);
    let mut buf = BytesMut::with_capacity(header.len());
    buf.extend_from_slice(&header);
    assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    assert_eq!(decoder.bytes_needed(&buf), Some(3_000_000));
    let capacity = buf.capacity();
    // Room for the next read (2 KiB), not for the whole packet: the decoder grows the
    // buffer as bytes arrive (tests/allocations.rs), by 4 KiB at first.
    assert!(
        capacity - buf.len() >= 2048,
        "no room for the next read: {capacity}"
    );
    assert!(
        capacity <= header.len() + 4096,
        "reserved {capacity} for {} bytes",
        header.len()
    );
    assert!(
        capacity <= total,
        "reserved {capacity}, beyond the {total} announced"
    );
    // More of the body arriving does not make the decoder reserve again.
    buf.extend_from_slice(&[0x00, 0x01, b'a']);
    assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    assert_eq!(buf.capacity(), capacity);

    // A packet of exactly the limit: reservation never goes beyond the configured max.
    // 4 MiB - 5 = 4,194,299 = 123 + 127 * 128 + 127 * 128^2 + 1 * 128^3: FB FF FF 01.
    let header = [0x30, 0xFB, 0xFF, 0xFF, 0x01];
    let mut decoder = Decoder::new(V5).with_max_packet_size(limit);
    let mut buf = BytesMut::with_capacity(header.len());
    buf.extend_from_slice(&header);
    assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    assert_eq!(decoder.bytes_needed(&buf), Some(limit - 5));
    assert!(buf.capacity() - buf.len() >= 2048);
    assert!(buf.capacity() <= limit, "reserved {} > max", buf.capacity());
    // Its body, topic "a" and no properties, arriving 2 KiB at a time: the buffer grows
    // to the limit and no further.
    let mut body = vec![0u8; limit - 5];
    body[..4].copy_from_slice(&[0x00, 0x01, b'a', 0x00]);
    for chunk in body.chunks(2048) {
        buf.extend_from_slice(chunk);
        let capacity = buf.capacity();
        assert!(capacity <= limit, "reserved {capacity} > max");
        if let Some(packet) = decoder.decode(&mut buf).unwrap() {
            assert!(matches!(packet, Packet::Publish(p) if p.payload.len() == limit - 9));
            assert!(buf.is_empty());
            return;
        }
        assert!(buf.capacity() <= limit, "reserved {} > max", buf.capacity());
    }
    panic!("the packet of exactly the limit did not decode");
}

// ------------------------------------------------------------------------------------------
// Remaining Length form: [MQTT-1.5.5-1] in 5.0, untagged §2.2.3 in 3.1.1
// ------------------------------------------------------------------------------------------

fn assert_remaining_length_error(bytes: &[u8], not_minimal: bool) {
    for version in LEVELS {
        let one_shot = Packet::decode(&Bytes::copy_from_slice(bytes), version).unwrap_err();
        let slice = Packet::decode_slice(bytes, version).unwrap_err();
        let streamed = Decoder::new(version)
            .decode(&mut BytesMut::from(bytes))
            .unwrap_err();
        for err in [one_shot, slice, streamed] {
            if not_minimal {
                assert!(
                    matches!(err.kind(), DecodeErrorKind::VarIntNotMinimal { .. }),
                    "{version} {}: {err}",
                    hex(bytes)
                );
            } else {
                assert!(
                    matches!(err.kind(), DecodeErrorKind::VarIntTooLong { .. }),
                    "{version} {}: {err}",
                    hex(bytes)
                );
            }
            assert_eq!(err.reason_code(), ReasonCode::MALFORMED_PACKET);
            assert_eq!(err.packet_type(), PacketType::from_bits(bytes[0] >> 4));
            // Tags are version specific: MQTT-1.5.5-1 is a 5.0 statement; 3.1.1 states the
            // rule in untagged text (§2.2.3).
            let expected_rule = if version == V5 {
                Some("MQTT-1.5.5-1")
            } else {
                None
            };
            assert_eq!(err.rule(), expected_rule, "{version} {}", hex(bytes));
        }
    }
}

#[test]
fn non_minimal_remaining_length_is_malformed_5_0_mqtt_1_5_5_1_untagged_in_3_1_1() {
    assert_remaining_length_error(&[0x30, 0x80, 0x00], true);
    assert_remaining_length_error(&[0xC0, 0x80, 0x00], true);
    // 5 written in two bytes, with a body that would otherwise be a valid 3.1.1 PUBLISH.
    assert_remaining_length_error(&[0x30, 0x85, 0x00, 0x00, 0x01, b'a', 0x00, 0x01], true);
    // 127 written in three bytes.
    assert_remaining_length_error(&[0x30, 0xFF, 0x80, 0x00], true);
    // 0 written in four bytes.
    assert_remaining_length_error(&[0x30, 0x80, 0x80, 0x80, 0x00], true);
}

#[test]
fn five_byte_remaining_length_is_malformed_5_0_mqtt_1_5_5_1_untagged_in_3_1_1() {
    assert_remaining_length_error(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], false);
    assert_remaining_length_error(&[0x30, 0x80, 0x80, 0x80, 0x80, 0x01], false);
    // Four continuation bytes already settle it, before a fifth byte arrives.
    assert_remaining_length_error(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF], false);
}

// ------------------------------------------------------------------------------------------
// Sweep machinery
// ------------------------------------------------------------------------------------------

/// How a one-shot decode of some input ended.
#[derive(Debug)]
enum OneShot {
    Decoded(Box<Packet>, usize),
    Incomplete(Option<usize>),
    Failed(mqttwire::DecodeError),
}

/// Decodes `input` once at `version` and checks everything a decode result promises:
/// a packet round-trips through the encoder at the same version; `decode_slice` agrees;
/// errors carry a failure reason code and format without panicking.
fn one_shot(input: &[u8], version: ProtocolVersion, context: &str) -> OneShot {
    let bytes = Bytes::copy_from_slice(input);
    let result = Packet::decode(&bytes, version);
    assert_eq!(
        Packet::decode_slice(input, version),
        result,
        "{context}: decode_slice disagrees on {}",
        hex(input)
    );
    match result {
        Ok((packet, used)) => {
            assert!(used <= input.len() && used >= 2, "{context}: used {used}");
            let _ = format!("{packet:?}");
            let ctx = format!("{context} at {version}: {}", hex(input));
            assert_roundtrip(&packet, version, &ctx);
            OneShot::Decoded(Box::new(packet), used)
        }
        Err(err) => {
            let _ = err.to_string();
            assert!(err.reason_code().is_error(), "{context}: {err:?}");
            match err.kind() {
                DecodeErrorKind::Incomplete { needed } => {
                    if let Some(n) = needed {
                        assert!(*n > 0);
                    }
                    OneShot::Incomplete(*needed)
                }
                _ => OneShot::Failed(err),
            }
        }
    }
}

/// How a stream ends for a decoder.
#[derive(Debug, PartialEq)]
enum End {
    Waiting,
    Failed(mqttwire::DecodeError),
    TooLarge { size: usize, max: usize },
}

/// What a `Decoder` at `version` with `limit` must produce from `input`, worked out with
/// one-shot decodes (following the level of any CONNECT, as the decoder does).
fn expected_stream(
    input: &[u8],
    mut version: ProtocolVersion,
    limit: usize,
    context: &str,
) -> (Vec<Packet>, End) {
    let mut packets = Vec::new();
    let mut at = 0;
    loop {
        if at == input.len() {
            return (packets, End::Waiting);
        }
        match one_shot(&input[at..], version, context) {
            OneShot::Decoded(packet, used) => {
                assert!(used <= limit, "test inputs are small");
                if let Packet::Connect(c) = packet.as_ref() {
                    version = c.protocol_version;
                }
                packets.push(*packet);
                at += used;
            }
            OneShot::Incomplete(Some(n)) if input.len() - at + n > limit => {
                let size = input.len() - at + n;
                return (packets, End::TooLarge { size, max: limit });
            }
            OneShot::Incomplete(_) => return (packets, End::Waiting),
            OneShot::Failed(err) => return (packets, End::Failed(err)),
        }
    }
}

/// Feeds `input` to a fresh `Decoder` in random chunks and returns what it produced.
fn run_decoder(mut decoder: Decoder, input: &[u8], rng: &mut XorShift) -> (Vec<Packet>, End) {
    let mut buf = BytesMut::new();
    let mut packets = Vec::new();
    let mut at = 0;
    // Chunk sizes from 1 byte to the whole input.
    let max_chunk = 1 + rng.below(input.len().max(1));
    loop {
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(packet)) => packets.push(packet),
                Ok(None) => break,
                Err(err) => {
                    let end = match err.kind() {
                        DecodeErrorKind::PacketTooLarge { size, max } => End::TooLarge {
                            size: *size,
                            max: *max,
                        },
                        _ => End::Failed(err),
                    };
                    return (packets, end);
                }
            }
        }
        if at == input.len() {
            return (packets, End::Waiting);
        }
        let end = (at + 1 + rng.below(max_chunk)).min(input.len());
        buf.extend_from_slice(&input[at..end]);
        at = end;
    }
}

const DECODER_LIMIT: usize = Decoder::DEFAULT_MAX_PACKET_SIZE;

/// The whole check for one input: one-shot at every level, and a chunked `Decoder` at every
/// level that must agree with the one-shot decodes packet for packet and error for error.
/// Also a server decoder and a strict-strings decoder, which must not panic and whose
/// packets must round-trip.
fn check_input(input: &[u8], rng: &mut XorShift, context: &str) {
    for version in LEVELS {
        let expected = expected_stream(input, version, DECODER_LIMIT, context);
        let got = run_decoder(Decoder::new(version), input, rng);
        assert_eq!(
            got,
            expected,
            "{context}: Decoder at {version} disagrees with one-shot on {}",
            hex(input)
        );
    }
    for decoder in [
        Decoder::for_server(),
        Decoder::new(V5).with_strict_strings(true),
    ] {
        let start = decoder.version();
        let (packets, _) = run_decoder(decoder, input, rng);
        let mut version = start.unwrap_or(V311);
        for packet in &packets {
            if let Packet::Connect(c) = packet {
                version = c.protocol_version;
            }
            assert_roundtrip(packet, version, context);
        }
        if start.is_none() {
            // A server decoder lets nothing but a CONNECT through first.
            if let Some(first) = packets.first() {
                assert_eq!(first.packet_type(), PacketType::Connect, "{context}");
            }
        }
    }
}

/// Writes a Remaining Length (at most 268,435,455).
fn put_remaining_length(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let mut byte = (value % 128) as u8;
        value /= 128;
        if value > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if value == 0 {
            return;
        }
    }
}

/// Rewrites the Remaining Length to match the bytes after the (old) fixed header, so that
/// a mutated body reaches the body parsers instead of stopping at the length check.
fn fix_remaining_length(bytes: &mut Vec<u8>) {
    if bytes.is_empty() {
        return;
    }
    let rl_bytes = bytes[1..]
        .iter()
        .take(4)
        .position(|b| b & 0x80 == 0)
        .map_or(bytes.len().saturating_sub(1).min(4), |i| i + 1);
    let body = bytes[1 + rl_bytes..].to_vec();
    let mut out = vec![bytes[0]];
    put_remaining_length(&mut out, body.len());
    out.extend_from_slice(&body);
    *bytes = out;
}

const INTERESTING: [u8; 12] = [
    0x00, 0x01, 0x02, 0x03, 0x7F, 0x80, 0x81, 0xFF, 0x0B, 0x26, 0x1F, 0x15,
];

fn mutate(rng: &mut XorShift, base: &[u8]) -> Vec<u8> {
    let mut bytes = base.to_vec();
    for _ in 0..1 + rng.below(3) {
        let len = bytes.len();
        match rng.below(8) {
            0 if len > 0 => {
                let at = rng.below(len);
                bytes[at] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let at = rng.below(len);
                bytes[at] = rng.byte();
            }
            2 if len > 0 => {
                let at = rng.below(len);
                bytes[at] = INTERESTING[rng.below(INTERESTING.len())];
            }
            3 => {
                let at = rng.below(len + 1);
                bytes.insert(at, rng.byte());
            }
            4 if len > 0 => {
                bytes.remove(rng.below(len));
            }
            5 => bytes.truncate(rng.below(len + 1)),
            6 => {
                let n = 1 + rng.below(8);
                let extra = rng.bytes(n);
                bytes.extend_from_slice(&extra);
            }
            _ if len > 1 => {
                // Copy a run of bytes over another place (lengths and identifiers move).
                let from = rng.below(len);
                let to = rng.below(len);
                let n = 1 + rng.below(4);
                for i in 0..n {
                    if from + i < len && to + i < len {
                        bytes[to + i] = bytes[from + i];
                    }
                }
            }
            _ => {}
        }
    }
    if rng.chance(2, 3) {
        fix_remaining_length(&mut bytes);
    }
    bytes
}

/// A random input: usually a plausible first byte and a matching Remaining Length, so the
/// body parsers see most of them.
fn random_input(rng: &mut XorShift) -> Vec<u8> {
    let len = rng.below(48);
    let mut bytes = rng.bytes(len);
    if !bytes.is_empty() && rng.chance(3, 4) {
        let packet_type = 1 + rng.below(15) as u8;
        let flags = match packet_type {
            3 => rng.byte() & 0x0F,
            6 | 8 | 10 => 0x02,
            _ => 0x00,
        };
        let flags = if rng.chance(1, 10) {
            rng.byte() & 0x0F
        } else {
            flags
        };
        bytes[0] = packet_type << 4 | flags;
        if rng.chance(3, 4) {
            fix_remaining_length(&mut bytes);
        }
    }
    bytes
}

// ------------------------------------------------------------------------------------------
// The sweeps
// ------------------------------------------------------------------------------------------

#[test]
fn sweep_random_bytes_never_panic_and_whatever_decodes_round_trips() {
    let start = Instant::now();
    let mut rng = XorShift::new(0xDEC0_DE01);
    let mut decoded = 0;
    for i in 0..20_000 {
        let input = random_input(&mut rng);
        let context = format!("random #{i}");
        if let OneShot::Decoded(..) = one_shot(&input, V5, &context) {
            decoded += 1;
        }
        check_input(&input, &mut rng, &context);
    }
    eprintln!(
        "random sweep: 20000 inputs, {decoded} decoded at 5.0, {:?}",
        start.elapsed()
    );
    assert!(decoded > 100, "the sweep barely reaches the body parsers");
}

#[test]
fn sweep_mutated_vectors_never_panic_and_whatever_decodes_round_trips() {
    let start = Instant::now();
    let vectors = vectors();
    let mut rng = XorShift::new(0x0BAD_F00D);
    let mut decoded = 0;
    for i in 0..20_000 {
        let base = &vectors[rng.below(vectors.len())];
        let mut input = mutate(&mut rng, base.bytes);
        if rng.chance(1, 8) {
            // Sometimes a valid packet follows, to test recovery of nothing but the position.
            let next = &vectors[rng.below(vectors.len())];
            input.extend_from_slice(next.bytes);
        }
        let context = format!("mutation #{i} of {}", base.name);
        if let OneShot::Decoded(..) = one_shot(&input, base.version, &context) {
            decoded += 1;
        }
        check_input(&input, &mut rng, &context);
    }
    eprintln!(
        "mutation sweep: 20000 inputs, {decoded} decoded, {:?}",
        start.elapsed()
    );
    assert!(decoded > 1_000, "mutations rarely decode: {decoded}");
}

#[test]
fn every_truncation_of_every_vector_is_incomplete_and_the_decoder_waits() {
    for v in vectors() {
        let hl = header_len(v.bytes);
        let total = v.bytes.len();
        for cut in 0..total {
            let prefix = &v.bytes[..cut];
            let needed = (cut >= hl).then(|| total - cut);
            let err = Packet::decode(&Bytes::copy_from_slice(prefix), v.version).unwrap_err();
            assert_eq!(
                err.kind(),
                &DecodeErrorKind::Incomplete { needed },
                "{} cut at {cut}",
                v.name
            );
            let err = Packet::decode_slice(prefix, v.version).unwrap_err();
            assert_eq!(err.kind(), &DecodeErrorKind::Incomplete { needed });

            let mut decoder = Decoder::new(v.version);
            let mut buf = BytesMut::from(prefix);
            assert_eq!(
                decoder.decode(&mut buf).unwrap(),
                None,
                "{} cut at {cut}",
                v.name
            );
            assert_eq!(&buf[..], prefix, "{} cut at {cut}: consumed", v.name);
            assert_eq!(
                decoder.bytes_needed(&buf),
                needed,
                "{} cut at {cut}",
                v.name
            );
            // And the rest completes it.
            buf.extend_from_slice(&v.bytes[cut..]);
            let packet = decoder.decode(&mut buf).unwrap().unwrap();
            let (expected, _) = Packet::decode(&Bytes::from_static(v.bytes), v.version).unwrap();
            assert_eq!(packet, expected, "{} cut at {cut}", v.name);
        }
    }
}

#[test]
fn every_bit_flip_in_the_fixed_header_errors_waits_or_round_trips() {
    let mut rng = XorShift::new(0xF11F);
    let mut outcomes = [0usize; 3]; // failed, waiting, decoded
    for v in vectors() {
        let hl = header_len(v.bytes);
        for byte in 0..hl {
            for bit in 0..8 {
                let mut input = v.bytes.to_vec();
                input[byte] ^= 1 << bit;
                let context = format!("{}: bit {bit} of byte {byte} flipped", v.name);
                match one_shot(&input, v.version, &context) {
                    OneShot::Failed(_) => outcomes[0] += 1,
                    OneShot::Incomplete(_) => outcomes[1] += 1,
                    OneShot::Decoded(_, used) => {
                        outcomes[2] += 1;
                        if byte == 0 {
                            // Type or flags changed, length not: another valid packet of
                            // the same size (a RETAIN flip, PUBACK <-> PUBREC, ...).
                            assert_eq!(used, input.len(), "{context}");
                        } else {
                            // A changed Remaining Length can only decode a shorter packet:
                            // a longer one has to wait for more bytes.
                            assert!(used < input.len(), "{context}: used {used}");
                        }
                    }
                }
                check_input(&input, &mut rng, &context);
            }
        }
    }
    eprintln!(
        "header bit flips: {} failed, {} waiting, {} decoded",
        outcomes[0], outcomes[1], outcomes[2]
    );
    assert!(outcomes[0] > outcomes[2], "most flips must be refused");
}

#[test]
fn every_bit_flip_anywhere_in_small_vectors_never_panics() {
    // Cheap enough to do exhaustively for every vector: every bit of every byte.
    let mut rng = XorShift::new(0xB17);
    for v in vectors() {
        for byte in 0..v.bytes.len() {
            for bit in 0..8 {
                let mut input = v.bytes.to_vec();
                input[byte] ^= 1 << bit;
                let context = format!("{}: bit {bit} of byte {byte} flipped", v.name);
                one_shot(&input, v.version, &context);
                check_input(&input, &mut rng, &context);
            }
        }
    }
}
