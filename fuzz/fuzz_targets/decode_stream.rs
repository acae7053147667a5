//! `decode_stream`: a byte stream fed to a `Decoder` in fuzz-chosen fragments must give the
//! same packets, and the same first error, as decoding it in one go with repeated
//! `Packet::decode`.
//!
//! Input, read with `arbitrary::Unstructured`:
//! - 1 byte: the protocol level (`byte % 3`: 3 is MQTT 3.1, 4 is 3.1.1, 5 is 5.0);
//! - 1 byte: how many fragment lengths follow (`byte % 17`);
//! - that many little-endian `u16`: the fragment lengths, used in turn, cycling (zero-length
//!   fragments are fed too; if every length is 0 the stream is fed in one piece);
//! - the rest: the byte stream.
//!
//! After a CONNECT both sides speak the level it declares. The `Decoder` keeps its default
//! maximum packet size of 1 MiB while `Packet::decode` has none, so a stream that ends
//! inside a packet claiming more than 1 MiB must end in the `Decoder` with
//! `PacketTooLarge` (reported as soon as the fixed header is in) instead of waiting.

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use mqttwire::{DecodeError, DecodeErrorKind, Decoder, Packet, ProtocolVersion};

const LEVELS: [ProtocolVersion; 3] = [
    ProtocolVersion::V3_1,
    ProtocolVersion::V3_1_1,
    ProtocolVersion::V5,
];

const MAX: usize = Decoder::DEFAULT_MAX_PACKET_SIZE;

/// How a stream ends.
#[derive(Debug, PartialEq)]
enum End {
    /// Cleanly, with these many bytes of an unfinished packet left over.
    Leftover(usize),
    /// With this error.
    Error(DecodeError),
    /// With a packet of this size, larger than the `Decoder`'s maximum.
    TooLarge(usize),
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(&version) = u.choose(&LEVELS) else {
        return;
    };
    let Ok(count) = u.int_in_range(0..=16u8) else {
        return;
    };
    let mut fragments = Vec::new();
    for _ in 0..count {
        fragments.push(usize::from(u16::arbitrary(&mut u).unwrap_or(0)));
    }
    let stream = u.take_rest();
    // The reference tells a too-large packet only by one that is incomplete.
    if stream.len() >= MAX {
        return;
    }
    if fragments.iter().all(|&n| n == 0) {
        fragments = vec![stream.len()];
    }

    let expected = in_one_go(stream, version);
    let actual = in_fragments(stream, version, &fragments);
    assert_eq!(actual, expected, "fragments {fragments:?}");
});

/// Repeated `Packet::decode` over the whole stream.
fn in_one_go(stream: &[u8], mut version: ProtocolVersion) -> (Vec<Packet>, End) {
    let input = Bytes::copy_from_slice(stream);
    let mut packets = Vec::new();
    let mut offset = 0;
    loop {
        let rest = input.slice(offset..);
        if rest.is_empty() {
            return (packets, End::Leftover(0));
        }
        match Packet::decode(&rest, version) {
            Ok((packet, used)) => {
                assert!(used > 0 && used <= rest.len());
                if let Packet::Connect(connect) = &packet {
                    version = connect.protocol_version;
                }
                packets.push(packet);
                offset += used;
            }
            Err(e) => {
                let end = match *e.kind() {
                    DecodeErrorKind::Incomplete { needed: Some(n) } if rest.len() + n > MAX => {
                        End::TooLarge(rest.len() + n)
                    }
                    DecodeErrorKind::Incomplete { .. } => End::Leftover(rest.len()),
                    _ => End::Error(e),
                };
                return (packets, end);
            }
        }
    }
}

/// A `Decoder` fed the stream fragment by fragment, decoding all it can after each.
fn in_fragments(
    stream: &[u8],
    version: ProtocolVersion,
    fragments: &[usize],
) -> (Vec<Packet>, End) {
    let mut decoder = Decoder::new(version);
    let mut buf = BytesMut::new();
    let mut packets = Vec::new();
    let mut fed = 0;
    for &len in fragments.iter().cycle() {
        let n = len.min(stream.len() - fed);
        buf.extend_from_slice(&stream[fed..fed + n]);
        fed += n;
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(packet)) => packets.push(packet),
                Ok(None) => {
                    assert_ne!(decoder.bytes_needed(&buf), Some(0), "a whole packet waits");
                    break;
                }
                Err(e) => {
                    let end = match *e.kind() {
                        DecodeErrorKind::PacketTooLarge { size, max } => {
                            assert_eq!(max, MAX);
                            End::TooLarge(size)
                        }
                        _ => End::Error(e),
                    };
                    return (packets, end);
                }
            }
        }
        if fed == stream.len() {
            break;
        }
    }
    (packets, End::Leftover(buf.len()))
}
