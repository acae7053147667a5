//! Property tests over generated valid packets (tests/strategies) and generated hostile
//! input, at MQTT 3.1, 3.1.1 and 5.0:
//!
//! - encode then decode is the identity, for every packet type and level;
//! - `encoded_len` is exactly what `encode` writes, into growable buffers and into a
//!   `&mut [u8]` of exactly that size; one byte less is `BufferTooSmall` and writes nothing;
//!   the borrowed `PacketRef::encode` writes the same bytes into a slice, and a decoded view
//!   re-encodes to the bytes it came from;
//! - decode, encode, decode is stable: the bytes of a decoded packet re-encode identically;
//! - packets concatenated and split anywhere come out of a `Decoder` exactly as one-shot
//!   decoding gives them, and the `Decoder` never consumes a partial packet;
//! - arbitrary bytes, valid packets followed by arbitrary bytes, and valid packets with
//!   random byte substitutions never panic `Packet::decode`, `Packet::decode_slice`,
//!   `PacketRef::decode` or a `Decoder` (every level, `for_server`, strict strings); the
//!   borrowed `PacketRef::decode` agrees with the owned decode field for field and error for
//!   error, the `Decoder` agrees with one-shot decoding packet for packet and error for
//!   error, whatever decodes round-trips, and the `Decoder` grows its buffer only to keep
//!   room for the next read of a packet it waits for, by no more than twice what arrived
//!   plus 4 KiB (never for one over the maximum packet size, never beyond max(capacity
//!   before the call, maximum packet size));
//! - `encode_with_limit` and `Encoder::with_max_packet_size` never write more than the
//!   limit, leave out only the Reason String and then the User Properties (of the packets
//!   MQTT 5.0 lets them be left out of), and fail with `PacketTooLarge` only when even the
//!   trimmed packet does not fit.
//!
//! Case counts follow `PROPTEST_CASES` (default 256); the costlier properties run a fixed
//! fraction of it. Failures are persisted in `proptest-regressions/properties.txt`, which
//! is committed so that a failure found once is replayed on every run.

mod strategies;

use bytes::{Bytes, BytesMut};
use mqttwire::properties::UserProperties;
use mqttwire::{
    DecodeError, DecodeErrorKind, Decoded, Decoder, EncodeError, Encoder, Packet, PacketRef,
    PacketType, ProtocolVersion, MAX_PACKET_SIZE,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::FileFailurePersistence;
use strategies::*;

/// Where proptest keeps the seeds of failing cases: committed, and replayed first on every
/// run.
const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proptest-regressions/properties.txt"
);

/// The default configuration (`PROPTEST_CASES` or 256 cases) with the committed
/// regressions file.
fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        ..ProptestConfig::default()
    }
}

/// [`config`] with `1/divisor` of the cases (at least one), for the costlier properties;
/// `PROPTEST_CASES` scales them too.
fn config_fraction(divisor: u32) -> ProptestConfig {
    let config = config();
    ProptestConfig {
        cases: (config.cases / divisor).max(1),
        ..config
    }
}

/// `view` encoded through its packet type's own `encode` (`PublishRef::encode`...); PINGREQ
/// and PINGRESP, which have no view of their own, through `PacketRef::encode`.
fn encode_alone(
    view: &PacketRef<'_>,
    at: ProtocolVersion,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    match view {
        PacketRef::Connect(p) => p.encode(at, out),
        PacketRef::ConnAck(p) => p.encode(at, out),
        PacketRef::Publish(p) => p.encode(at, out),
        PacketRef::PubAck(p) => p.encode(at, out),
        PacketRef::PubRec(p) => p.encode(at, out),
        PacketRef::PubRel(p) => p.encode(at, out),
        PacketRef::PubComp(p) => p.encode(at, out),
        PacketRef::Subscribe(p) => p.encode(at, out),
        PacketRef::SubAck(p) => p.encode(at, out),
        PacketRef::Unsubscribe(p) => p.encode(at, out),
        PacketRef::UnsubAck(p) => p.encode(at, out),
        PacketRef::Disconnect(p) => p.encode(at, out),
        PacketRef::Auth(p) => p.encode(at, out),
        PacketRef::PingReq | PacketRef::PingResp => view.encode(at, out),
    }
}

// ------------------------------------------------------------------------------------------
// Round trips
// ------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// Every generated valid packet encodes at its level, and decoding the bytes (one-shot
    /// from `Bytes`, from a slice, and through a `Decoder`) gives back exactly the packet
    /// and uses exactly the bytes written.
    #[test]
    fn encode_then_decode_is_the_identity((version, packet) in any_version_and_packet()) {
        let at = encode_version(&packet, version);
        let bytes = Bytes::from(encode(&packet, at));

        let (decoded, used) = Packet::decode(&bytes, version)
            .map_err(|e| TestCaseError::fail(format!("{e}: {}", hex(&bytes))))?;
        prop_assert_eq!(&decoded, &packet);
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(Packet::decode_slice(&bytes, version), Ok((packet.clone(), used)));

        let mut decoder = Decoder::new(version).with_max_packet_size(MAX_PACKET_SIZE);
        let mut buf = BytesMut::from(&bytes[..]);
        prop_assert_eq!(decoder.decode(&mut buf), Ok(Some(packet.clone())));
        prop_assert!(buf.is_empty());
        prop_assert_eq!(decoder.decode(&mut buf), Ok(None));
    }

    /// `encoded_len` is what `encode` writes and returns, into a `Vec`, a `BytesMut` that
    /// already holds data, and a `&mut [u8]` of exactly that size; a slice one byte
    /// shorter gets `BufferTooSmall` and is left untouched.
    #[test]
    fn encoded_len_is_exactly_the_bytes_written((version, packet) in any_version_and_packet()) {
        let at = encode_version(&packet, version);
        let len = packet.encoded_len(at).unwrap();
        // A CONNECT is encoded at its own level, whatever level is asked for.
        if matches!(packet, Packet::Connect(_)) {
            for level in LEVELS {
                prop_assert_eq!(packet.encoded_len(level), Ok(len));
            }
        }

        let mut vec_out = Vec::new();
        prop_assert_eq!(packet.encode(at, &mut vec_out), Ok(len));
        prop_assert_eq!(vec_out.len(), len);

        let mut bytes_out = BytesMut::from(&b"prefix"[..]);
        prop_assert_eq!(packet.encode(at, &mut bytes_out), Ok(len));
        prop_assert_eq!(&bytes_out[..6], b"prefix");
        prop_assert!(bytes_out[6..] == vec_out[..]);

        let mut exact = vec![0xEEu8; len];
        let mut slice = &mut exact[..];
        prop_assert_eq!(packet.encode(at, &mut slice), Ok(len));
        prop_assert!(slice.is_empty());
        prop_assert!(exact == vec_out);

        let mut short = vec![0xEEu8; len - 1];
        let mut slice = &mut short[..];
        prop_assert_eq!(
            packet.encode(at, &mut slice),
            Err(EncodeError::BufferTooSmall { needed: len, available: len - 1 })
        );
        prop_assert_eq!(slice.len(), len - 1, "the slice advanced");
        prop_assert!(short.iter().all(|&b| b == 0xEE), "bytes were written");

        // encode_with_limit at exactly the size writes the same bytes.
        let mut limited = Vec::new();
        prop_assert_eq!(packet.encode_with_limit(at, len, &mut limited), Ok(len));
        prop_assert!(limited == vec_out);

        // The borrowed encoder, into a slice: the same bytes, the same length, and nothing
        // written into a slice one byte short; and a decoded view re-encodes identically.
        let view = packet.as_view();
        prop_assert_eq!(view.encoded_len(at), Ok(len));
        let mut out = vec![0xEEu8; len + 3];
        prop_assert_eq!(view.encode(at, &mut out), Ok(len));
        prop_assert!(out[..len] == vec_out[..] && out[len..] == [0xEE; 3]);
        let mut short = vec![0xEEu8; len - 1];
        prop_assert_eq!(
            view.encode(at, &mut short),
            Err(EncodeError::BufferTooSmall { needed: len, available: len - 1 })
        );
        prop_assert!(short.iter().all(|&b| b == 0xEE), "bytes were written");
        // Each type's view encodes on its own exactly as through `PacketRef`.
        let mut alone = vec![0xEEu8; len + 3];
        prop_assert_eq!(encode_alone(&view, at, &mut alone), Ok(len));
        prop_assert!(alone == out);
        prop_assert_eq!(
            encode_alone(&view, at, &mut short),
            Err(EncodeError::BufferTooSmall { needed: len, available: len - 1 })
        );
        prop_assert!(short.iter().all(|&b| b == 0xEE), "bytes were written");
        let Ok(Decoded::Complete(decoded, used)) = PacketRef::decode(&vec_out, at) else {
            panic!("{packet:?} does not decode from its own bytes");
        };
        prop_assert_eq!(used, len);
        let mut again = vec![0u8; len];
        prop_assert_eq!(decoded.encode(at, &mut again), Ok(len));
        prop_assert!(again == vec_out);
    }

    /// Decode, encode, decode: starting from the bytes of a generated packet, the decoded
    /// packet re-encodes to identical bytes, decodes to an equal packet, and so does its
    /// detached copy (which shares no memory with the frame).
    #[test]
    fn decode_encode_decode_is_stable((version, packet) in any_version_and_packet()) {
        let at = encode_version(&packet, version);
        let first = Bytes::from(encode(&packet, at));
        let (decoded, _) = Packet::decode(&first, version).unwrap();
        let again = encode(&decoded, at);
        prop_assert!(again[..] == first[..], "re-encoding changed the bytes: {} vs {}",
            hex(&first), hex(&again));
        let (twice, used) = Packet::decode(&Bytes::from(again), version).unwrap();
        prop_assert_eq!(&twice, &decoded);
        prop_assert_eq!(used, first.len());

        let detached = decoded.detach();
        prop_assert_eq!(&detached, &decoded);
        prop_assert!(encode(&detached, at)[..] == first[..]);
    }
}

// ------------------------------------------------------------------------------------------
// The generators reach what they claim to
// ------------------------------------------------------------------------------------------

/// Samples every packet type at every level from the strategies with a fixed seed and
/// checks that the forms the properties rely on are generated: Remaining Length edges (2 MiB
/// included), the 5.0 short forms, empty topic with Topic Alias, wildcards and shared
/// subscriptions, repeated User Property names, several Subscription Identifiers, multi-byte
/// UTF-8 and U+FEFF, and the CONNECT flag combinations of each level.
#[test]
fn strategies_generate_every_form() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};
    use std::collections::BTreeSet;

    let mut runner = TestRunner::new_with_rng(
        ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, b"mqttwire strategies coverage 001"),
    );
    let mut seen = BTreeSet::new();
    let mut see = |what: String| {
        seen.insert(what);
    };
    for version in LEVELS {
        for packet_type in packet_types(version) {
            let strategy = packet_of_type(version, packet_type, FULL);
            for _ in 0..200 {
                let packet = strategy.new_tree(&mut runner).unwrap().current();
                assert_eq!(packet.packet_type(), packet_type);
                let level = version.level();
                let rl = remaining_length(&packet, encode_version(&packet, version));
                see(format!("{level} {packet_type}"));
                if [127, 128, 16_383, 16_384, 2_097_151, 2_097_152].contains(&rl) {
                    see(format!("{level} {packet_type} RL {rl}"));
                }
                if rl <= 3 {
                    see(format!("{level} {packet_type} RL {rl}"));
                }
                match &packet {
                    Packet::Connect(c) => {
                        let flags = (
                            c.will.is_some(),
                            c.user_name.is_some(),
                            c.password.is_some(),
                        );
                        see(format!("{level} CONNECT will/user/password {flags:?}"));
                        if c.client_id.is_empty() {
                            see(format!("{level} CONNECT empty client id"));
                        }
                    }
                    Packet::ConnAck(c) if c.session_present => {
                        see(format!("{level} CONNACK session present"));
                    }
                    Packet::Publish(p) => {
                        if p.topic.is_empty() && p.properties.topic_alias.is_some() {
                            see(format!("{level} PUBLISH empty topic with alias"));
                        }
                        for c in ['\u{FEFF}', '😀', '€', 'é', '/'] {
                            if p.topic.contains(c) {
                                see(format!("{level} topic with {c:?}"));
                            }
                        }
                        if p.properties.subscription_identifiers().len() >= 2 {
                            see(format!("{level} several subscription identifiers"));
                        }
                        let users = p.properties.user_properties();
                        let names: Vec<_> = users.iter().map(|(n, _)| n).collect();
                        let unique: BTreeSet<_> = names.iter().collect();
                        if unique.len() < names.len() {
                            see(format!("{level} repeated user property names"));
                        }
                    }
                    Packet::Subscribe(s) => {
                        for sub in &s.subscriptions {
                            let f = sub.filter.as_str();
                            if f.starts_with("$share/") {
                                see(format!("{level} shared filter"));
                            }
                            if f.split('/').any(|l| l == "+") {
                                see(format!("{level} filter with +"));
                            }
                            if f.ends_with('#') {
                                see(format!("{level} filter with #"));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let mut missing = Vec::new();
    let mut expect = |what: String| {
        if !seen.contains(&what) {
            missing.push(what);
        }
    };
    for version in LEVELS {
        let level = version.level();
        for t in packet_types(version) {
            expect(format!("{level} {t}"));
        }
        for rl in [127, 128, 16_383, 16_384] {
            expect(format!("{level} PUBLISH RL {rl}"));
            expect(format!("{level} SUBACK RL {rl}"));
            expect(format!("{level} CONNECT RL {rl}"));
        }
        for rl in [2_097_151, 2_097_152] {
            expect(format!("{level} PUBLISH RL {rl}"));
        }
        for c in ["'\\u{feff}'", "'😀'", "'€'", "'é'", "'/'"] {
            expect(format!("{level} topic with {c}"));
        }
        for what in ["filter with +", "filter with #", "shared filter"] {
            expect(format!("{level} {what}"));
        }
        expect(format!(
            "{level} CONNECT will/user/password (true, true, true)"
        ));
        expect(format!(
            "{level} CONNECT will/user/password (false, true, false)"
        ));
        expect(format!(
            "{level} CONNECT will/user/password (false, false, false)"
        ));
        expect(format!("{level} PINGREQ RL 0"));
        expect(format!("{level} PUBACK RL 2"));
        if !version.is_v5() {
            expect(format!("{level} UNSUBACK RL 2"));
        }
    }
    expect("4 CONNECT empty client id".into());
    expect("5 CONNECT empty client id".into());
    expect("4 CONNACK session present".into());
    expect("5 CONNACK session present".into());
    expect("5 CONNECT will/user/password (false, false, true)".into());
    expect("5 PUBLISH empty topic with alias".into());
    expect("5 several subscription identifiers".into());
    expect("5 repeated user property names".into());
    expect("5 UNSUBACK RL 127".into());
    expect("5 UNSUBACK RL 16384".into());
    for t in ["PUBACK", "PUBREC", "PUBREL", "PUBCOMP"] {
        expect(format!("5 {t} RL 3"));
    }
    expect("5 DISCONNECT RL 0".into());
    expect("5 DISCONNECT RL 1".into());
    expect("5 AUTH RL 0".into());
    assert!(missing.is_empty(), "never generated: {missing:#?}");
    // What must never be generated.
    for what in [
        "3 CONNACK session present",
        "3 CONNECT empty client id",
        "3 CONNECT will/user/password (false, false, true)",
        "4 CONNECT will/user/password (false, false, true)",
        "5 AUTH RL 1",
    ] {
        assert!(!seen.contains(what), "generated {what}");
    }
}

// ------------------------------------------------------------------------------------------
// Streaming
// ------------------------------------------------------------------------------------------

/// A level, packets valid at it, and a CONNECT at it to open a server-side stream with.
fn stream_strategy() -> BoxedStrategy<(ProtocolVersion, Vec<Packet>, Packet)> {
    any_version()
        .prop_flat_map(|v| {
            (
                Just(v),
                vec(any_modest_packet(v), 1..6),
                packet_of_type(v, PacketType::Connect, SMALL),
            )
        })
        .boxed()
}

proptest! {
    #![proptest_config(config_fraction(2))]

    /// Packets of one level, concatenated, split at arbitrary points and fed piece by
    /// piece to a `Decoder` (or a server `Decoder`, after a CONNECT), come out exactly as
    /// one-shot decoding them one after another gives them (which is the packets
    /// themselves). While waiting the `Decoder` consumes nothing and `bytes_needed` tells
    /// exactly how many bytes the current packet lacks.
    #[test]
    fn split_stream_decodes_like_one_shot(
        (version, mut packets, connect) in stream_strategy(),
        cuts in vec(any::<Index>(), 0..12),
        server in any::<bool>(),
    ) {
        if server {
            packets.insert(0, connect);
        }
        let mut stream = Vec::new();
        let mut ends = Vec::new(); // (header length, end offset) of each packet
        for p in &packets {
            let start = stream.len();
            stream.extend_from_slice(&encode(p, encode_version(p, version)));
            let rl = remaining_length_of_total(stream.len() - start);
            ends.push((1 + varint_len(rl), stream.len()));
        }
        let stream = Bytes::from(stream);

        // One-shot, one packet after another.
        let mut at = 0;
        let mut one_shot = Vec::new();
        while at < stream.len() {
            let (p, used) = Packet::decode(&stream.slice(at..), version).unwrap();
            one_shot.push(p);
            at += used;
        }
        prop_assert_eq!(&one_shot, &packets);

        // Streamed, in pieces.
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        points.push(stream.len());
        points.sort_unstable();
        points.dedup();
        let mut decoder = if server {
            Decoder::for_server()
        } else {
            Decoder::new(version)
        }
        .with_max_packet_size(MAX_PACKET_SIZE);
        let mut buf = BytesMut::new();
        let mut fed = 0;
        let mut streamed = Vec::new();
        for point in points {
            buf.extend_from_slice(&stream[fed..point]);
            fed = point;
            loop {
                let before = buf.clone();
                match decoder.decode(&mut buf) {
                    Ok(Some(p)) => {
                        streamed.push(p);
                        let (_, end) = ends[streamed.len() - 1];
                        prop_assert_eq!(fed - buf.len(), end, "consumed a wrong amount");
                    }
                    Ok(None) => {
                        prop_assert_eq!(&buf, &before, "consumed bytes while waiting");
                        if streamed.len() < packets.len() {
                            let (header_len, end) = ends[streamed.len()];
                            let start = fed - buf.len();
                            match decoder.bytes_needed(&buf) {
                                Some(n) => prop_assert_eq!(fed + n, end),
                                None => prop_assert!(buf.len() < header_len),
                            }
                            prop_assert!(start + buf.len() < end);
                        } else {
                            prop_assert!(buf.is_empty());
                        }
                        break;
                    }
                    Err(e) => return Err(TestCaseError::fail(format!("decoder failed: {e}"))),
                }
            }
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(&streamed, &packets);
        prop_assert_eq!(decoder.version(), Some(version));
    }
}

// ------------------------------------------------------------------------------------------
// Hostile input
// ------------------------------------------------------------------------------------------

/// How a stream ends.
#[derive(Debug, PartialEq)]
enum End {
    /// Everything complete was decoded; more bytes are needed (or none are left).
    Waiting,
    /// The decoder's maximum packet size refused the next packet at its fixed header.
    TooLarge {
        size: usize,
        max: usize,
    },
    Failed(DecodeError),
}

/// What a `Decoder` must produce from `input`: each packet with the number of bytes
/// consumed once it is out, and how the stream ends. Worked out with one-shot decodes
/// (which have no size limit) and the fixed header's claimed size: a `Decoder` refuses a
/// packet larger than `limit` as soon as its fixed header is in, before anything else about
/// it; a server decoder (`version` None) refuses anything but a CONNECT first, and treats
/// that CONNECT's fixed header as 3.1.1 does. Every decoded packet must round-trip.
fn expected_stream(
    input: &[u8],
    mut version: Option<ProtocolVersion>,
    limit: usize,
) -> (Vec<(Packet, usize)>, End) {
    assert!(limit >= 5, "the model needs room for a whole fixed header");
    let mut packets = Vec::new();
    let mut at = 0;
    loop {
        let rest = &input[at..];
        if rest.is_empty() {
            return (packets, End::Waiting);
        }
        let level = match version {
            Some(v) => v,
            None => match PacketType::from_bits(rest[0] >> 4) {
                Some(t) if t != PacketType::Connect => {
                    // [MQTT-3.1.0-1]: the server decoder tells from the first byte.
                    return (packets, End::Failed(expected_connect_error(t)));
                }
                _ => ProtocolVersion::V3_1_1,
            },
        };
        // The fixed header alone (at most 5 bytes) tells the packet's total size.
        let probe = &rest[..rest.len().min(5)];
        if let Err(e) = Packet::decode(&Bytes::copy_from_slice(probe), level) {
            if let DecodeErrorKind::Incomplete { needed: Some(n) } = e.kind() {
                let size = probe.len() + n;
                if size > limit {
                    return (packets, End::TooLarge { size, max: limit });
                }
            }
        }
        let bytes = Bytes::copy_from_slice(rest);
        let result = Packet::decode(&bytes, level);
        assert_eq!(
            Packet::decode_slice(rest, level),
            result,
            "decode_slice disagrees with decode on {}",
            hex(rest)
        );
        assert_borrowed_agrees(rest, level, &result);
        match result {
            Ok((packet, used)) => {
                assert!((2..=rest.len()).contains(&used));
                let _ = format!("{packet:?}");
                assert_round_trips(&packet, level, rest);
                if let Packet::Connect(c) = &packet {
                    version = Some(c.protocol_version);
                }
                at += used;
                packets.push((packet, at));
            }
            Err(e) => {
                let _ = e.to_string();
                assert!(e.reason_code().is_error(), "{e:?}");
                return match e.kind() {
                    DecodeErrorKind::Incomplete { needed } => {
                        assert_ne!(*needed, Some(0));
                        (packets, End::Waiting)
                    }
                    _ => (packets, End::Failed(e)),
                };
            }
        }
    }
}

/// The error a server decoder gives for a first packet of type `t` other than CONNECT,
/// obtained through the public API: a server decoder fed just that first byte.
fn expected_connect_error(t: PacketType) -> DecodeError {
    let mut buf = BytesMut::from(&[(t as u8) << 4][..]);
    let err = Decoder::for_server().decode(&mut buf).unwrap_err();
    assert_eq!(err.kind(), &DecodeErrorKind::ExpectedConnect);
    assert_eq!(err.packet_type(), Some(t));
    assert_eq!(err.rule(), Some("MQTT-3.1.0-1"));
    err
}

/// A decoded packet encodes at `version` (a CONNECT at its own level) and that encoding
/// decodes to the same packet. The one packet that decodes but must not be encoded is a
/// 3.1/3.1.1 CONNECT with an empty client identifier and clean start 0 (MQTT-3.1.3-7 for
/// senders, -8 for receivers).
fn assert_round_trips(packet: &Packet, version: ProtocolVersion, input: &[u8]) {
    let at = encode_version(packet, version);
    let mut out = Vec::new();
    match packet.encode(at, &mut out) {
        Ok(n) => assert_eq!(n, out.len()),
        Err(e) => {
            let known = matches!(packet, Packet::Connect(c)
                if !c.protocol_version.is_v5() && c.client_id.is_empty() && !c.clean_start);
            assert!(
                known,
                "decoded packet does not encode at {at}: {e}; input {}; {packet:?}",
                hex(input)
            );
            return;
        }
    }
    let (again, used) = Packet::decode(&Bytes::from(out.clone()), version).unwrap_or_else(|e| {
        panic!(
            "re-encoded packet does not decode: {e}; input {}, re-encoded {}",
            hex(input),
            hex(&out)
        )
    });
    assert_eq!(used, out.len());
    assert_eq!(
        &again,
        packet,
        "round trip changed the packet; input {}",
        hex(input)
    );
}

/// How the bytes reach a `Decoder`: chunk sizes (cycled), the buffer's starting capacity
/// and the decoder's maximum packet size.
#[derive(Debug, Clone)]
struct Feed {
    chunks: Vec<usize>,
    initial_capacity: usize,
    limit: usize,
}

fn feed() -> impl Strategy<Value = Feed> {
    (
        vec(1..24usize, 1..8),
        0..160usize,
        prop_oneof![
            2 => 5..64usize,
            1 => 64..4096usize,
            2 => Just(Decoder::DEFAULT_MAX_PACKET_SIZE),
        ],
    )
        .prop_map(|(chunks, initial_capacity, limit)| Feed {
            chunks,
            initial_capacity,
            limit,
        })
}

/// Feeds `input` to `decoder` in the chunks of `feed`, calling `decode` until it waits or
/// fails after every chunk; returns each packet with the bytes consumed once it is out, and
/// how it ended. Checks on every call that waiting consumes nothing, that the buffer then
/// has room for the next read (2 KiB, or the rest of the packet), that it grows only when
/// short of that room and by no more than what arrived allows, and that a packet over the
/// maximum makes the decoder reserve nothing.
/// With `strict_capacity`, also that the decoder never grows the buffer beyond
/// max(capacity before the call, maximum packet size).
fn run_decoder(
    mut decoder: Decoder,
    input: &[u8],
    feed: &Feed,
    strict_capacity: bool,
) -> (Vec<(Packet, usize)>, End) {
    let limit = decoder.max_packet_size();
    let mut buf = BytesMut::with_capacity(feed.initial_capacity);
    let mut packets = Vec::new();
    let mut fed = 0;
    let mut chunks = feed.chunks.iter().cycle();
    // The largest capacity the buffer has had: no allocation of its is larger.
    let mut largest = 0;
    loop {
        loop {
            let before = buf.clone();
            let capacity = buf.capacity();
            largest = largest.max(capacity);
            let result = decoder.decode(&mut buf);
            let context = || {
                format!(
                    "capacity {capacity} -> {}, maximum packet size {limit}, {} bytes \
                     buffered, {} fed of {}",
                    buf.capacity(),
                    before.len(),
                    fed,
                    hex(input)
                )
            };
            if strict_capacity {
                assert!(
                    buf.capacity() <= capacity.max(limit),
                    "decoder grew the buffer beyond max(capacity, maximum packet size): {}",
                    context()
                );
            }
            match result {
                Ok(Some(packet)) => {
                    assert!(buf.capacity() <= capacity, "grew: {}", context());
                    packets.push((packet, fed - buf.len()));
                }
                Ok(None) => {
                    assert_eq!(buf, before, "consumed bytes while waiting");
                    let len = buf.len();
                    // The packet waited for: its size once the fixed header is in; before
                    // that, as large as the maximum (and at least one byte more).
                    let total = match decoder.bytes_needed(&buf) {
                        Some(needed) => {
                            let total = len + needed;
                            assert!(total <= limit, "waits for {total} bytes: {}", context());
                            total
                        }
                        None => limit.max(len + 1),
                    };
                    if len > 0 {
                        // Room for the next read: 2 KiB, or the rest of the packet.
                        let room = buf.capacity() - len;
                        let want = (total - len).min(2048);
                        assert!(room >= want, "no room for the next read: {}", context());
                    }
                    if buf.capacity() > capacity {
                        // Grown only when short of that room, and then to at most twice
                        // what arrived or 4 KiB more, never past the packet's end.
                        let short = capacity < total.min(len + 2048);
                        assert!(short, "grew needlessly: {}", context());
                        // (A larger capacity is an allocation the buffer already had.)
                        let bound = total.min((2 * len).max(len + 4096)).max(largest);
                        assert!(buf.capacity() <= bound, "grew too much: {}", context());
                    }
                    break;
                }
                Err(err) => {
                    assert!(buf.capacity() <= capacity, "grew: {}", context());
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
        if fed == input.len() {
            return (packets, End::Waiting);
        }
        let end = (fed + chunks.next().unwrap()).min(input.len());
        buf.extend_from_slice(&input[fed..end]);
        fed = end;
    }
}

/// The whole hostile-input check for one input: one-shot decodes at every level (through
/// [`expected_stream`], which asserts that whatever decodes round-trips) and a `Decoder`
/// at every level and a server `Decoder` that must agree with them exactly; a
/// strict-strings `Decoder` that must not panic and whose packets round-trip.
fn check_input(input: &[u8], feed: &Feed) {
    for version in LEVELS {
        let expected = expected_stream(input, Some(version), feed.limit);
        let decoder = Decoder::new(version).with_max_packet_size(feed.limit);
        let got = run_decoder(decoder, input, feed, false);
        assert_eq!(
            got,
            expected,
            "Decoder at {version} (limit {}) disagrees with one-shot on {}",
            feed.limit,
            hex(input)
        );
    }
    let expected = expected_stream(input, None, feed.limit);
    let got = run_decoder(
        Decoder::for_server().with_max_packet_size(feed.limit),
        input,
        feed,
        false,
    );
    assert_eq!(
        got,
        expected,
        "server Decoder (limit {}) disagrees with one-shot on {}",
        feed.limit,
        hex(input)
    );

    let strict = Decoder::new(ProtocolVersion::V5)
        .with_strict_strings(true)
        .with_max_packet_size(feed.limit);
    let (packets, _) = run_decoder(strict, input, feed, false);
    let mut version = ProtocolVersion::V5;
    for (packet, _) in &packets {
        if let Packet::Connect(c) = packet {
            version = c.protocol_version;
        }
        assert_round_trips(packet, version, input);
    }
}

/// The borrowed decode of `input` agrees with the owned one (`owned`), error for error: the
/// same bytes used, the same fields, the same `DecodeError`, and "need more bytes" exactly
/// when the owned decode says `Incomplete`, with the same count.
fn assert_borrowed_agrees(
    input: &[u8],
    version: ProtocolVersion,
    owned: &Result<(Packet, usize), DecodeError>,
) {
    let borrowed = PacketRef::decode(input, version);
    match (&borrowed, owned) {
        (Ok(Decoded::Complete(view, n)), Ok((packet, used))) => {
            assert_eq!(n, used, "{}", hex(input));
            assert_same_fields(view, packet, input);
        }
        (Ok(Decoded::Partial { needed }), Err(e)) => {
            assert_eq!(e.kind(), &DecodeErrorKind::Incomplete { needed: *needed });
        }
        (Err(a), Err(b)) => assert_eq!(a, b, "{}", hex(input)),
        _ => panic!(
            "borrowed {borrowed:?} and owned {owned:?} disagree on {}",
            hex(input)
        ),
    }
}

/// Field by field, through each owned packet's own `as_view` (or its lists' iterators).
fn assert_same_fields(view: &PacketRef<'_>, packet: &Packet, input: &[u8]) {
    let what = hex(input);
    match (view, packet) {
        (PacketRef::Connect(v), Packet::Connect(p)) => {
            assert_eq!(v.protocol_version, p.protocol_version, "{what}");
            assert_eq!(v.clean_start, p.clean_start, "{what}");
            assert_eq!(v.keep_alive, p.keep_alive, "{what}");
            assert_eq!(v.client_id, p.client_id.as_str(), "{what}");
            assert_eq!(
                v.user_name.map(|s| s.as_str()),
                p.user_name.as_deref(),
                "{what}"
            );
            assert_eq!(v.password, p.password.as_deref(), "{what}");
            assert_eq!(v.properties, p.properties.as_view(), "{what}");
            assert_eq!(v.will.is_some(), p.will.is_some(), "{what}");
            if let (Some(v), Some(p)) = (&v.will, &p.will) {
                assert_eq!(v.topic, p.topic.as_str(), "{what}");
                assert_eq!(v.payload, &p.payload[..], "{what}");
                assert_eq!((v.qos, v.retain), (p.qos, p.retain), "{what}");
                assert_eq!(v.properties, p.properties.as_view(), "{what}");
            }
        }
        (PacketRef::ConnAck(v), Packet::ConnAck(p)) => assert_eq!(*v, p.as_view(), "{what}"),
        (PacketRef::Publish(v), Packet::Publish(p)) => assert_eq!(*v, p.as_view(), "{what}"),
        (PacketRef::PubAck(v), Packet::PubAck(p)) => assert_eq!(*v, p.as_view(), "{what}"),
        (PacketRef::PubRec(v), Packet::PubRec(p)) => assert_eq!(*v, p.as_view(), "{what}"),
        (PacketRef::PubRel(v), Packet::PubRel(p)) => assert_eq!(*v, p.as_view(), "{what}"),
        (PacketRef::PubComp(v), Packet::PubComp(p)) => assert_eq!(*v, p.as_view(), "{what}"),
        (PacketRef::Subscribe(v), Packet::Subscribe(p)) => {
            assert_eq!(v.packet_id, p.packet_id, "{what}");
            assert_eq!(v.properties, p.properties.as_view(), "{what}");
            let owned = p
                .subscriptions
                .iter()
                .map(|s| (s.filter.to_string(), s.options));
            let view = v.subscriptions.iter();
            assert!(
                view.map(|s| (s.filter.to_string(), s.options)).eq(owned),
                "{what}"
            );
        }
        (PacketRef::SubAck(v), Packet::SubAck(p)) => {
            assert_eq!(v.packet_id, p.packet_id, "{what}");
            assert_eq!(v.properties, p.properties.as_view(), "{what}");
            assert!(
                v.reason_codes.iter().eq(p.reason_codes.iter().copied()),
                "{what}"
            );
        }
        (PacketRef::Unsubscribe(v), Packet::Unsubscribe(p)) => {
            assert_eq!(v.packet_id, p.packet_id, "{what}");
            assert_eq!(v.properties, p.properties.as_view(), "{what}");
            let owned = p.filters.iter().map(|f| f.to_string());
            assert!(v.filters.iter().map(|f| f.to_string()).eq(owned), "{what}");
        }
        (PacketRef::UnsubAck(v), Packet::UnsubAck(p)) => {
            assert_eq!(v.packet_id, p.packet_id, "{what}");
            assert_eq!(v.properties, p.properties.as_view(), "{what}");
            assert!(
                v.reason_codes.iter().eq(p.reason_codes.iter().copied()),
                "{what}"
            );
        }
        (PacketRef::PingReq, Packet::PingReq) | (PacketRef::PingResp, Packet::PingResp) => {}
        (PacketRef::Disconnect(v), Packet::Disconnect(p)) => {
            assert_eq!(*v, p.as_view(), "{what}")
        }
        (PacketRef::Auth(v), Packet::Auth(p)) => assert_eq!(*v, p.as_view(), "{what}"),
        _ => panic!("borrowed {view:?} and owned {packet:?} differ in type on {what}"),
    }
}

/// Arbitrary bytes: raw, or a plausible first byte followed by a Remaining Length that
/// matches the rest (so that the body parsers see them).
fn arbitrary_input() -> impl Strategy<Value = Vec<u8>> {
    let raw = vec(any::<u8>(), 0..64);
    let framed = (1..16u8, 0..16u8, any::<bool>(), vec(any::<u8>(), 0..64)).prop_map(
        |(packet_type, flags, usual_flags, body)| {
            let flags = match (usual_flags, packet_type) {
                (true, 6 | 8 | 10) => 0b0010,
                (true, 3) => flags & 0b0111,
                (true, _) => 0,
                (false, _) => flags,
            };
            let mut out = vec![packet_type << 4 | flags];
            put_varint(&mut out, body.len());
            out.extend_from_slice(&body);
            out
        },
    );
    prop_oneof![raw, framed]
}

fn put_varint(out: &mut Vec<u8>, mut value: usize) {
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

proptest! {
    #![proptest_config(config_fraction(2))]

    /// Arbitrary bytes never panic any decoder, and every decoder agrees with the one-shot
    /// decodes; the `Decoder` keeps its buffer bounded.
    #[test]
    fn arbitrary_bytes_never_panic_and_decoders_agree(input in arbitrary_input(), feed in feed()) {
        check_input(&input, &feed);
    }

    /// A valid packet followed by arbitrary bytes: the one-shot decode gives the packet and
    /// uses exactly its bytes, whatever follows; every decoder agrees and never panics.
    #[test]
    fn valid_packet_then_arbitrary_bytes(
        (version, packet) in version_and_packet_with(SMALL),
        tail in vec(any::<u8>(), 0..40),
        feed in feed(),
    ) {
        let at = encode_version(&packet, version);
        let mut input = encode(&packet, at);
        let len = input.len();
        input.extend_from_slice(&tail);
        let (decoded, used) = Packet::decode(&Bytes::from(input.clone()), version).unwrap();
        prop_assert_eq!(&decoded, &packet);
        prop_assert_eq!(used, len);
        check_input(&input, &feed);
    }

    /// A valid packet with one to four bytes replaced by arbitrary values never panics any
    /// decoder, at its own level or another; decoders agree and what decodes round-trips.
    #[test]
    fn valid_packet_with_substituted_bytes(
        (version, packet) in version_and_packet_with(SMALL),
        substitutions in vec((any::<Index>(), any::<u8>()), 1..=4),
        feed in feed(),
    ) {
        let mut input = encode(&packet, encode_version(&packet, version));
        for (at, byte) in substitutions {
            let at = at.index(input.len());
            input[at] = byte;
        }
        check_input(&input, &feed);
    }
}

proptest! {
    #![proptest_config(config_fraction(2))]

    /// The `Decoder` never grows its buffer beyond max(capacity before the call, configured
    /// maximum packet size), whatever it is fed.
    #[test]
    fn decoder_never_grows_its_buffer_beyond_capacity_or_maximum(
        input in arbitrary_input(),
        feed in feed(),
    ) {
        for decoder in [
            Decoder::new(ProtocolVersion::V3_1_1),
            Decoder::new(ProtocolVersion::V5),
            Decoder::for_server(),
        ] {
            let _ = run_decoder(decoder.with_max_packet_size(feed.limit), &input, &feed, true);
        }
    }
}

/// The smallest case proptest found: a buffer with room for 28 bytes holds the fixed header
/// of a 42-byte CONNECT (`10 28`, Remaining Length 40) and the maximum packet size is 42;
/// waiting for the body, the decoder must leave room for at most max(28, 42) bytes, where
/// `BytesMut::reserve(40)` would have doubled the 28 to 56. The same on a buffer a packet
/// was split off: capacity 62 must not become 126 with a maximum of 100.
#[test]
fn decoder_reserve_stays_within_the_maximum_packet_size_minimal_case() {
    let mut decoder = Decoder::new(ProtocolVersion::V3_1_1).with_max_packet_size(42);
    let mut buf = BytesMut::with_capacity(28);
    buf.extend_from_slice(&[0x10, 0x28]);
    assert_eq!(buf.capacity(), 28);
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    assert_eq!(decoder.bytes_needed(&buf), Some(40));
    assert!(buf.capacity() >= 42);
    assert!(
        buf.capacity() <= 42,
        "capacity 28 grew to {}, beyond 42",
        buf.capacity()
    );
}

// ------------------------------------------------------------------------------------------
// Peer Maximum Packet Size
// ------------------------------------------------------------------------------------------

/// `packet` without its Reason String (`drop_user_properties`: and its User Properties),
/// for the packet types that MQTT 5.0 lets an encoder trim; `None` for the others.
fn trimmed(packet: &Packet, drop_user_properties: bool) -> Option<Packet> {
    macro_rules! trim {
        ($p:expr) => {{
            let mut p = $p.clone();
            p.properties.set_reason_string(None);
            if drop_user_properties {
                p.properties.set_user_properties(UserProperties::new());
            }
            p
        }};
    }
    Some(match packet {
        Packet::ConnAck(p) => Packet::ConnAck(trim!(p)),
        Packet::PubAck(p) => Packet::PubAck(trim!(p)),
        Packet::PubRec(p) => Packet::PubRec(trim!(p)),
        Packet::PubRel(p) => Packet::PubRel(trim!(p)),
        Packet::PubComp(p) => Packet::PubComp(trim!(p)),
        Packet::SubAck(p) => Packet::SubAck(trim!(p)),
        Packet::UnsubAck(p) => Packet::UnsubAck(trim!(p)),
        Packet::Disconnect(p) => Packet::Disconnect(trim!(p)),
        Packet::Auth(p) => Packet::Auth(trim!(p)),
        _ => return None,
    })
}

proptest! {
    #![proptest_config(config())]

    /// With a peer Maximum Packet Size, `encode_with_limit` writes the packet unchanged if
    /// it fits; otherwise (CONNACK, the publish acknowledgements, SUBACK, UNSUBACK,
    /// DISCONNECT, AUTH) the packet without its Reason String, or without its Reason String
    /// and User Properties, whichever first fits, byte for byte as encoding that trimmed
    /// packet gives; otherwise `PacketTooLarge` with the smallest size tried, writing
    /// nothing. Never more than the limit. `Encoder::with_max_packet_size` does the same.
    #[test]
    fn encoding_within_a_limit_only_drops_diagnostics(
        (version, packet) in any_version_and_packet(),
        pick in 0..10u8,
        random in any::<Index>(),
    ) {
        let at = encode_version(&packet, version);
        let mut candidates = vec![packet.clone()];
        if let (Some(a), Some(b)) = (trimmed(&packet, false), trimmed(&packet, true)) {
            candidates.extend([a, b]);
        }
        let sizes: Vec<usize> = candidates.iter().map(|p| p.encoded_len(at).unwrap()).collect();
        let full = sizes[0];
        let smallest = *sizes.iter().min().unwrap();
        let max = match pick {
            0 => full,
            1 => full - 1,
            2 => sizes[sizes.len() / 2],
            3 => sizes[sizes.len() / 2] - 1,
            4 => smallest,
            5 => smallest - 1,
            6 => 0,
            7 => usize::MAX,
            _ => random.index(full + 9),
        };

        let expected = candidates.iter().zip(&sizes).find(|(_, &size)| size <= max);
        let mut out = Vec::new();
        let result = packet.encode_with_limit(at, max, &mut out);
        let mut encoder_out = BytesMut::from(&b"queued"[..]);
        let encoder_result = Encoder::new(version)
            .with_max_packet_size(max)
            .encode(&packet, &mut encoder_out);
        prop_assert_eq!(&encoder_result, &result);

        match expected {
            Some((expected, &size)) => {
                prop_assert_eq!(&result, &Ok(size));
                prop_assert!(size <= max);
                prop_assert_eq!(out.len(), size);
                prop_assert!(out == encode(expected, at), "not the encoding of the trimmed packet");
                prop_assert!(encoder_out[6..] == out[..]);
                let (decoded, used) = Packet::decode(&Bytes::from(out), version).unwrap();
                prop_assert_eq!(&decoded, expected);
                prop_assert_eq!(used, size);
            }
            None => {
                prop_assert_eq!(
                    result,
                    Err(EncodeError::PacketTooLarge { size: smallest, max })
                );
                prop_assert!(out.is_empty(), "wrote {} bytes on error", out.len());
                prop_assert_eq!(&encoder_out[..], b"queued");
            }
        }
    }
}
