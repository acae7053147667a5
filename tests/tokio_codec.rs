//! The `tokio-util` feature: `tokio_util::codec::Decoder` for `Decoder` and
//! `tokio_util::codec::Encoder` for `Encoder` behave exactly like the inherent methods they
//! forward to, with their errors in `CodecError`.
//!
//! The trait methods share their names with the inherent ones, so every call here goes
//! through the trait by path (`FrameDecoder::decode(&mut decoder, ..)`), as a user's would.

#![cfg(feature = "tokio-util")]

mod common;

use bytes::{Bytes, BytesMut};
use common::*;
use mqttwire::codec::CodecError;
use mqttwire::{
    DecodeErrorKind, Decoder, EncodeError, Encoder, Packet, PacketId, PacketType, ProtocolVersion,
    PubAck, Publish, QoS, ReasonCode, TopicName,
};
use std::error::Error as _;
use std::io;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_util::codec::{Decoder as FrameDecoder, Encoder as FrameEncoder};

fn one_shot(v: &Vector) -> Packet {
    let (packet, used) = Packet::decode(&Bytes::from_static(v.bytes), v.version)
        .unwrap_or_else(|e| panic!("{}: {e}", v.name));
    assert_eq!(used, v.bytes.len(), "{}", v.name);
    packet
}

/// Every vector of `version` back to back, and the packets they hold.
fn stream_of(version: ProtocolVersion) -> (Vec<u8>, Vec<Packet>) {
    let vectors = vectors_for(version);
    let bytes = vectors
        .iter()
        .flat_map(|v| v.bytes.iter().copied())
        .collect();
    (bytes, vectors.iter().map(one_shot).collect())
}

/// Decodes through the trait what one more chunk completes.
fn drain(decoder: &mut Decoder, buf: &mut BytesMut, out: &mut Vec<Packet>) {
    while let Some(packet) = FrameDecoder::decode(decoder, buf).unwrap() {
        out.push(packet);
    }
}

fn is_unexpected_eof(err: &CodecError) -> bool {
    matches!(err, CodecError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof)
}

// ------------------------------------------------------------------------------------------
// Decoder
// ------------------------------------------------------------------------------------------

/// Fed in chunks of every size from 1 to 9 bytes and in random ones, the trait answers
/// call for call what the inherent `decode` answers on a copy of the same buffer, and
/// yields the packets the one-shot decoder finds.
#[test]
fn trait_decoder_decodes_a_chunked_stream_exactly_like_the_decoder() {
    let mut rng = XorShift::new(0x70C1_0001);
    for version in LEVELS {
        let (bytes, expected) = stream_of(version);
        let mut chunkings: Vec<Vec<usize>> = (1..=9).map(|n| vec![n]).collect();
        chunkings.extend((0..50).map(|_| (0..64).map(|_| 1 + rng.below(24)).collect()));
        for sizes in chunkings {
            let mut by_trait = Decoder::new(version);
            let mut by_method = Decoder::new(version);
            let (mut buf_trait, mut buf_method) = (BytesMut::new(), BytesMut::new());
            let mut got = Vec::new();
            let mut at = 0;
            for size in sizes.iter().cycle() {
                if at == bytes.len() {
                    break;
                }
                let end = (at + size).min(bytes.len());
                buf_trait.extend_from_slice(&bytes[at..end]);
                buf_method.extend_from_slice(&bytes[at..end]);
                at = end;
                loop {
                    let a = FrameDecoder::decode(&mut by_trait, &mut buf_trait).unwrap();
                    let b = by_method.decode(&mut buf_method).unwrap();
                    assert_eq!(a, b, "{version}, chunks {sizes:?}, at {at}");
                    assert_eq!(buf_trait, buf_method, "{version}: buffers differ at {at}");
                    match a {
                        Some(packet) => got.push(packet),
                        None => break,
                    }
                }
            }
            assert_eq!(got, expected, "{version}, chunks {sizes:?}");
            assert!(buf_trait.is_empty());
            assert_eq!(by_trait.version(), by_method.version());
        }
    }
}

/// A partial packet consumes nothing and the trait reserves, like the inherent method, only
/// what the packet needs once its fixed header is in.
#[test]
fn trait_decoder_waits_on_partial_input_and_reserves_only_the_packet() {
    let mut decoder = Decoder::new(ProtocolVersion::V5);
    // A 324-byte PUBLISH (Remaining Length 321): its fixed header and two bytes of body.
    let mut buf = BytesMut::from(&[0x30, 0xC1, 0x02, 0x00, 0x01][..]);
    assert_eq!(FrameDecoder::decode(&mut decoder, &mut buf).unwrap(), None);
    assert_eq!(&buf[..], [0x30, 0xC1, 0x02, 0x00, 0x01]);
    assert!(
        buf.capacity() >= 324,
        "room for the packet: {}",
        buf.capacity()
    );
    assert!(
        buf.capacity() < 648,
        "no doubling past it: {}",
        buf.capacity()
    );
    assert_eq!(decoder.bytes_needed(&buf), Some(319));
}

#[test]
fn trait_decoder_reports_malformed_packets_as_decode_errors_with_the_reason_code() {
    // PUBLISH with both QoS bits set.
    let bytes: &[u8] = &[0x36, 0x06, 0x00, 0x01, b'a', 0x00, 0x01, 0x00];
    for version in LEVELS {
        let mut decoder = Decoder::new(version);
        let err = FrameDecoder::decode(&mut decoder, &mut BytesMut::from(bytes)).unwrap_err();
        let CodecError::Decode(err) = err else {
            panic!("{version}: {err:?}")
        };
        assert_eq!(err.reason_code(), ReasonCode::MALFORMED_PACKET);
        assert_eq!(err.kind(), &DecodeErrorKind::InvalidQoS { field: "QoS" });
        assert_eq!(err.packet_type(), Some(PacketType::Publish));
        // The same error the inherent method gives.
        let inherent = Decoder::new(version)
            .decode(&mut BytesMut::from(bytes))
            .unwrap_err();
        assert_eq!(err, inherent);
    }
}

/// A fixed header over the maximum fails at once, with reason code 0x95, before anything is
/// reserved for its body.
#[test]
fn trait_decoder_refuses_an_oversized_packet_at_its_fixed_header() {
    let mut decoder = Decoder::new(ProtocolVersion::V5).with_max_packet_size(1024);
    // A PUBLISH that claims 268,435,455 bytes.
    let mut buf = BytesMut::from(&[0x30, 0xFF, 0xFF, 0xFF, 0x7F][..]);
    let capacity = buf.capacity();
    let err = FrameDecoder::decode(&mut decoder, &mut buf).unwrap_err();
    let CodecError::Decode(err) = err else {
        panic!("{err:?}")
    };
    assert_eq!(err.reason_code(), ReasonCode::PACKET_TOO_LARGE);
    assert!(matches!(
        err.kind(),
        DecodeErrorKind::PacketTooLarge { max: 1024, .. }
    ));
    assert_eq!(buf.capacity(), capacity, "nothing reserved");
}

#[test]
fn trait_server_decoder_refuses_a_first_packet_other_than_connect() {
    let mut decoder = Decoder::for_server();
    let err =
        FrameDecoder::decode(&mut decoder, &mut BytesMut::from(&[0xC0, 0x00][..])).unwrap_err();
    let CodecError::Decode(err) = err else {
        panic!("{err:?}")
    };
    assert_eq!(err.kind(), &DecodeErrorKind::ExpectedConnect);
    assert_eq!(err.reason_code(), ReasonCode::PROTOCOL_ERROR);
    assert_eq!(err.rule(), Some("MQTT-3.1.0-1"));
}

// ------------------------------------------------------------------------------------------
// decode_eof
// ------------------------------------------------------------------------------------------

#[test]
fn decode_eof_on_an_empty_buffer_is_the_end() {
    let mut decoder = Decoder::new(ProtocolVersion::V3_1_1);
    let mut buf = BytesMut::new();
    assert_eq!(
        FrameDecoder::decode_eof(&mut decoder, &mut buf).unwrap(),
        None
    );
    // Asked again, as FramedRead does until it gets None.
    assert_eq!(
        FrameDecoder::decode_eof(&mut decoder, &mut buf).unwrap(),
        None
    );
}

#[test]
fn decode_eof_yields_the_whole_packets_left_then_the_end() {
    for version in LEVELS {
        let (bytes, expected) = stream_of(version);
        let mut decoder = Decoder::new(version);
        let mut buf = BytesMut::from(&bytes[..]);
        let mut got = Vec::new();
        while let Some(packet) = FrameDecoder::decode_eof(&mut decoder, &mut buf).unwrap() {
            got.push(packet);
        }
        assert_eq!(got, expected, "{version}");
        assert!(buf.is_empty());
    }
}

/// The stream ending in the middle of a packet is an error, as with tokio-util's default
/// `decode_eof`: here an `UnexpectedEof` I/O error that says how much was missing. The
/// whole packets before it come out first.
#[test]
fn decode_eof_in_the_middle_of_a_packet_is_an_unexpected_eof_error() {
    let cases: [(&[u8], &str); 4] = [
        (&[0x30], "the rest of its fixed header"),
        (&[0x30, 0xC1], "the rest of its fixed header"),
        (&[0x32, 0x06, 0x00, 0x01, b'a'], "3 more bytes"),
        (&[0x30, 0xC1, 0x02], "321 more bytes"),
    ];
    for (partial, missing) in cases {
        let mut decoder = Decoder::new(ProtocolVersion::V5);
        let mut buf = BytesMut::from(&[0xD0, 0x00][..]); // a whole PINGRESP first
        buf.extend_from_slice(partial);
        assert_eq!(
            FrameDecoder::decode_eof(&mut decoder, &mut buf).unwrap(),
            Some(Packet::PingResp)
        );
        let err = FrameDecoder::decode_eof(&mut decoder, &mut buf).unwrap_err();
        assert!(is_unexpected_eof(&err), "{}: {err:?}", hex(partial));
        let text = err.to_string();
        assert!(
            text.contains(&format!("{} bytes buffered", partial.len())) && text.contains(missing),
            "{}: {text}",
            hex(partial)
        );
    }
}

#[test]
fn decode_eof_reports_a_malformed_last_packet_as_a_decode_error() {
    let mut decoder = Decoder::new(ProtocolVersion::V3_1_1);
    // PUBACK with packet identifier 0.
    let mut buf = BytesMut::from(&[0x40, 0x02, 0x00, 0x00][..]);
    let err = FrameDecoder::decode_eof(&mut decoder, &mut buf).unwrap_err();
    let CodecError::Decode(err) = err else {
        panic!("{err:?}")
    };
    assert_eq!(err.kind(), &DecodeErrorKind::ZeroPacketId);
}

// ------------------------------------------------------------------------------------------
// Encoder
// ------------------------------------------------------------------------------------------

/// Owned and borrowed, through the trait, every vector's packet encodes to the bytes
/// `Packet::encode` writes, appended after what the buffer already holds.
#[test]
fn trait_encoder_writes_what_packet_encode_writes() {
    for v in vectors() {
        let packet = one_shot(&v);
        let version = encode_version(&packet, v.version);
        let mut expected = BytesMut::new();
        packet.encode(version, &mut expected).unwrap();
        if v.canonical {
            assert_eq!(&expected[..], v.bytes, "{}", v.name);
        }
        let mut encoder = Encoder::new(version);
        let mut owned = BytesMut::from(&b"xy"[..]);
        FrameEncoder::encode(&mut encoder, packet.clone(), &mut owned).unwrap();
        assert_eq!(&owned[..2], b"xy", "{}", v.name);
        assert_eq!(&owned[2..], &expected[..], "{}: owned", v.name);
        let mut borrowed = BytesMut::new();
        FrameEncoder::encode(&mut encoder, &packet, &mut borrowed).unwrap();
        assert_eq!(borrowed, expected, "{}: borrowed", v.name);
    }
}

/// The encoder's limits hold through the trait: errors are `CodecError::Encode` and nothing
/// is written.
#[test]
fn trait_encoder_reports_unencodable_packets_and_writes_nothing() {
    let publish = Packet::Publish(Publish::new(TopicName::new("t").unwrap(), vec![0u8; 100]));
    let mut encoder = Encoder::new(ProtocolVersion::V5).with_max_packet_size(64);
    let mut buf = BytesMut::from(&b"kept"[..]);
    let err = FrameEncoder::encode(&mut encoder, &publish, &mut buf).unwrap_err();
    assert!(
        matches!(
            err,
            CodecError::Encode(EncodeError::PacketTooLarge { max: 64, .. })
        ),
        "{err:?}"
    );
    assert_eq!(&buf[..], b"kept");

    // A reason code on a PUBACK cannot be encoded at 3.1.1.
    let mut ack = PubAck::new(PacketId::new(1).unwrap());
    ack.reason_code = mqttwire::PubAckReasonCode::NotAuthorized;
    let mut encoder = Encoder::new(ProtocolVersion::V3_1_1);
    let err = FrameEncoder::encode(&mut encoder, Packet::PubAck(ack), &mut buf).unwrap_err();
    assert!(
        matches!(
            err,
            CodecError::Encode(EncodeError::UnsupportedInVersion { .. })
        ),
        "{err:?}"
    );
    assert_eq!(&buf[..], b"kept");
}

// ------------------------------------------------------------------------------------------
// CodecError
// ------------------------------------------------------------------------------------------

#[test]
fn codec_error_shows_the_error_it_holds_and_converts_from_each() {
    fn send_sync_static<T: Send + Sync + 'static>() {}
    send_sync_static::<CodecError>();

    let decode = mqttwire::Packet::decode(
        &Bytes::from_static(&[0x36, 0x06, 0x00, 0x01, b'a', 0x00, 0x01, 0x00]),
        ProtocolVersion::V5,
    )
    .unwrap_err();
    let err = CodecError::from(decode.clone());
    assert_eq!(err.to_string(), decode.to_string());
    assert!(matches!(&err, CodecError::Decode(e) if *e == decode));

    let encode = EncodeError::RemainingLengthTooLarge(1 << 28);
    let err = CodecError::from(encode.clone());
    assert_eq!(err.to_string(), encode.to_string());

    let inner = io::Error::new(io::ErrorKind::ConnectionReset, "reset by peer");
    let err = CodecError::from(inner);
    assert_eq!(err.to_string(), "reset by peer");
    assert!(err.source().is_none());
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
    assert_eq!(boxed.to_string(), "reset by peer");
}

// ------------------------------------------------------------------------------------------
// Over a tokio AsyncRead
// ------------------------------------------------------------------------------------------

/// Reads with `read_buf` from a pipe that holds at most 5 bytes, so the stream arrives in
/// pieces of 1 to 5 bytes, decodes with the trait, and finishes with `decode_eof`: the
/// packets are those of the one-shot decoder.
#[tokio::test]
async fn trait_decoder_over_a_tokio_pipe_yields_every_packet() {
    for version in LEVELS {
        let (bytes, expected) = stream_of(version);
        let (mut writer, mut reader) = tokio::io::duplex(5);
        let write = async move {
            writer.write_all(&bytes).await.unwrap();
            // Dropping the writer ends the stream.
        };
        let read = async {
            let mut decoder = Decoder::new(version);
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            let mut reads = 0;
            loop {
                let n = reader.read_buf(&mut buf).await.unwrap();
                if n == 0 {
                    while let Some(packet) = FrameDecoder::decode_eof(&mut decoder, &mut buf)
                        .unwrap_or_else(|e| panic!("{version}: {e}"))
                    {
                        got.push(packet);
                    }
                    return (got, reads);
                }
                assert!(n <= 5);
                reads += 1;
                drain(&mut decoder, &mut buf, &mut got);
            }
        };
        let ((), (got, reads)) = tokio::join!(write, read);
        assert_eq!(got, expected, "{version}");
        assert!(reads >= expected.len(), "{version}: {reads} reads");
    }
}

#[tokio::test]
async fn trait_decoder_over_a_tokio_pipe_reports_a_stream_cut_mid_packet() {
    let (mut writer, mut reader) = tokio::io::duplex(64);
    // A QoS 0 PUBLISH to "a" with payload "hi", and half of another.
    writer
        .write_all(&[0x30, 0x05, 0x00, 0x01, b'a', b'h', b'i', 0x30, 0x05, 0x00])
        .await
        .unwrap();
    drop(writer);
    let mut decoder = Decoder::new(ProtocolVersion::V3_1_1);
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    while reader.read_buf(&mut buf).await.unwrap() > 0 {
        drain(&mut decoder, &mut buf, &mut got);
    }
    assert_eq!(got.len(), 1);
    let Packet::Publish(publish) = &got[0] else {
        panic!("{got:?}")
    };
    assert_eq!(
        (publish.topic.as_str(), &publish.payload[..]),
        ("a", &b"hi"[..])
    );
    assert_eq!(publish.qos.qos(), QoS::AtMostOnce);
    let err = FrameDecoder::decode_eof(&mut decoder, &mut buf).unwrap_err();
    assert!(is_unexpected_eof(&err), "{err:?}");
}
