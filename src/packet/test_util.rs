//! Scaffolding shared by the packet test modules, so that every packet type's vectors go
//! through the same (and the strictest) round-trip checks: a check added here tightens
//! every test at once.

use super::{ConnAck, Connect, Packet, PacketType, Publish};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
#[cfg(feature = "alloc")]
use crate::properties::{AckProperties, UserProperties};
use crate::types::{InvalidTopic, PacketId, ProtocolVersion};
#[cfg(feature = "alloc")]
use crate::types::{MqttString, TopicName};
use crate::ReasonCode;
#[cfg(feature = "alloc")]
use alloc::string::String;
use alloc::vec;
#[cfg(feature = "alloc")]
use alloc::vec::Vec;
#[cfg(feature = "alloc")]
use bytes::Bytes;

pub(crate) const V3: ProtocolVersion = ProtocolVersion::V3_1;
pub(crate) const V4: ProtocolVersion = ProtocolVersion::V3_1_1;
pub(crate) const V5: ProtocolVersion = ProtocolVersion::V5;
pub(crate) const M: ReasonCode = ReasonCode::MALFORMED_PACKET;
pub(crate) const P: ReasonCode = ReasonCode::PROTOCOL_ERROR;

/// Two different fills: a byte the encoder skips shows up as the two runs disagreeing,
/// which one fill alone could miss when the skipped byte happens to equal it.
const SENTINELS: [u8; 2] = [0xAA, 0x55];

/// Sentinel bytes past the end of a successful encoding, to catch writes past the end.
const SLACK: usize = 16;

/// The buffer size when the encoder refuses: room for whatever it might wrongly write
/// before refusing, so that "nothing written on error" means something.
const ROOM_ON_ERROR: usize = 256;

/// Whitespace-separated hex bytes (`"E0 01 8E"`): vectors written so read like the
/// specification's tables and CONFORMANCE.md, which makes them easy to check by hand.
pub(crate) fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

/// Test input given either as [`hex`] text or as bytes, so that each test module keeps the
/// notation its vectors are easiest to check in.
pub(crate) trait Wire {
    /// The bytes on the wire.
    fn wire(&self) -> Vec<u8>;
}

impl Wire for str {
    fn wire(&self) -> Vec<u8> {
        hex(self)
    }
}

impl Wire for String {
    fn wire(&self) -> Vec<u8> {
        hex(self)
    }
}

impl Wire for [u8] {
    fn wire(&self) -> Vec<u8> {
        self.to_vec()
    }
}

impl<const N: usize> Wire for [u8; N] {
    fn wire(&self) -> Vec<u8> {
        self.to_vec()
    }
}

impl Wire for Vec<u8> {
    fn wire(&self) -> Vec<u8> {
        self.clone()
    }
}

/// Panics on 0, which no test means to build.
pub(crate) fn pid(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

/// Panics on an invalid string, which no test means to build.
pub(crate) fn s(v: &str) -> MqttString {
    MqttString::new(v).unwrap()
}

/// Panics on an invalid topic name, which no test means to build.
pub(crate) fn topic(v: &str) -> TopicName {
    TopicName::new(v).unwrap()
}

/// The property set the PUBACK family, SUBACK and UNSUBACK share: the sender may drop
/// both under a Maximum Packet Size, so most of their trimming tests build one.
pub(crate) fn ack_props(reason_string: Option<&str>, user: &[(&str, &str)]) -> AckProperties {
    let mut props = AckProperties::default()
        .with_user_properties(UserProperties::from_pairs(user.iter().copied()).unwrap());
    props.set_reason_string(reason_string.map(s));
    props
}

/// The error SUBSCRIBE and UNSUBSCRIBE report for a topic filter breaking a topic rule.
pub(crate) fn invalid_filter(reason: InvalidTopic) -> DecodeErrorKind {
    DecodeErrorKind::InvalidTopic {
        field: "topic filter",
        reason,
    }
}

/// A SUBSCRIBE (`options` given) or UNSUBSCRIBE of packet identifier 1 and one filter,
/// empty properties at 5.0: the topic filter tests vary nothing else, and take the filter
/// as raw bytes so that they can build invalid ones. Both lengths are written as one byte,
/// so the filter must stay short (under 100 bytes).
pub(crate) fn one_filter_frame(
    first_byte: u8,
    version: ProtocolVersion,
    filter: &[u8],
    options: Option<u8>,
) -> Vec<u8> {
    let mut body = vec![0x00, 0x01];
    if version.is_v5() {
        body.push(0x00);
    }
    body.extend([0x00, filter.len() as u8]);
    body.extend_from_slice(filter);
    body.extend(options);
    let mut frame = vec![first_byte, body.len() as u8];
    frame.extend(body);
    frame
}

/// Decodes one whole packet. Every vector goes through both entry points, `Bytes` and
/// slice, which must agree (errors included), and through `detach`, which must not change
/// the packet.
#[track_caller]
pub(crate) fn decode(bytes: &[u8], version: ProtocolVersion) -> Result<Packet, DecodeError> {
    let shared = Packet::decode(&Bytes::copy_from_slice(bytes), version);
    assert_eq!(
        shared,
        Packet::decode_slice(bytes, version),
        "decode and decode_slice disagree"
    );
    let (packet, used) = shared?;
    assert_eq!(used, bytes.len(), "the packet is not the whole input");
    assert_eq!(packet.detach(), packet);
    Ok(packet)
}

/// The packet types a test can ask [`decode_as`] for, to read their fields directly (the
/// ones whose tests need that; add more as needed).
pub(crate) trait Variant: Sized {
    /// The packet inside, or `None` for another type.
    fn from_packet(packet: Packet) -> Option<Self>;
}

macro_rules! variant {
    ($($variant:ident),+) => {$(
        impl Variant for $variant {
            fn from_packet(packet: Packet) -> Option<Self> {
                match packet {
                    Packet::$variant(p) => Some(p),
                    _ => None,
                }
            }
        }
    )+};
}

variant!(ConnAck, Publish);

impl Variant for Connect {
    fn from_packet(packet: Packet) -> Option<Self> {
        match packet {
            Packet::Connect(p) => Some(*p),
            _ => None,
        }
    }
}

/// [`decode`], which must succeed with a packet of type `T`.
#[track_caller]
pub(crate) fn decode_as<T: Variant>(bytes: &[u8], version: ProtocolVersion) -> T {
    let packet = decode(bytes, version).unwrap();
    let packet_type = packet.packet_type();
    T::from_packet(packet).unwrap_or_else(|| panic!("not the expected type: {packet_type}"))
}

/// Runs `write` into a buffer of `room` bytes once per sentinel: what it reports written
/// must be exactly what it advanced over, nothing past that may change (on error nothing
/// at all), and both runs must give the same bytes.
fn into_sentinels(
    room: usize,
    write: impl Fn(&mut &mut [u8]) -> Result<usize, EncodeError>,
) -> Result<Vec<u8>, EncodeError> {
    let [first, second] = SENTINELS.map(|fill| {
        let mut buf = vec![fill; room];
        let mut out = &mut buf[..];
        let result = write(&mut out);
        let advanced = room - out.len();
        match &result {
            Ok(n) => {
                assert_eq!(*n, advanced, "returned length disagrees with bytes written");
                assert!(buf[*n..].iter().all(|&b| b == fill), "wrote past the end");
            }
            Err(_) => assert!(buf.iter().all(|&b| b == fill), "wrote on error"),
        }
        result.map(|n| {
            buf.truncate(n);
            buf
        })
    });
    assert_eq!(first, second, "a byte was left unwritten");
    first
}

/// Encodes into sentinel-filled slices (see [`into_sentinels`]). Callers size buffers
/// with `encoded_len`, so it must agree with the bytes written, or refuse with the same
/// error.
#[track_caller]
pub(crate) fn encode<T: Clone + Into<Packet>>(
    packet: &T,
    version: ProtocolVersion,
) -> Result<Vec<u8>, EncodeError> {
    let packet: Packet = packet.clone().into();
    let len = packet.encoded_len(version);
    let room = len.as_ref().map_or(ROOM_ON_ERROR, |len| len + SLACK);
    let result = into_sentinels(room, |buf| packet.encode(version, buf));
    match (&result, len) {
        (Ok(bytes), Ok(len)) => assert_eq!(bytes.len(), len, "encoded_len disagrees"),
        (Err(err), Err(len_err)) => assert_eq!(err, &len_err, "encoded_len refuses otherwise"),
        (r, l) => panic!("encode gave {r:?}, encoded_len {l:?}"),
    }
    result
}

/// The encoder's refusal, with all of [`encode`]'s checks: nothing written, and
/// `encoded_len` refuses alike.
#[track_caller]
pub(crate) fn encode_err<T: Clone + Into<Packet>>(
    packet: &T,
    version: ProtocolVersion,
) -> EncodeError {
    encode(packet, version).unwrap_err()
}

/// `encode_with_limit` into sentinel-filled slices (see [`into_sentinels`]); whatever
/// it trims, the result must still fit `max`, the peer's Maximum Packet Size.
#[track_caller]
pub(crate) fn encode_limited<T: Clone + Into<Packet>>(
    packet: &T,
    version: ProtocolVersion,
    max: usize,
) -> Result<Vec<u8>, EncodeError> {
    let packet: Packet = packet.clone().into();
    let result = into_sentinels(max + SLACK, |buf| {
        packet.encode_with_limit(version, max, buf)
    });
    if let Ok(bytes) = &result {
        assert!(
            bytes.len() <= max,
            "{} bytes over a limit of {max}",
            bytes.len()
        );
    }
    result
}

/// A vector both ways: `bytes` decode to `packet`, and both `packet` and what was decoded
/// encode back to exactly `bytes` (re-encoding the decoded packet catches a field the
/// decoder fills in differently from how a test builds it).
#[track_caller]
pub(crate) fn both_ways<W: Wire + ?Sized, T: Clone + Into<Packet>>(
    bytes: &W,
    version: ProtocolVersion,
    packet: &T,
) {
    let bytes = bytes.wire();
    let packet: Packet = packet.clone().into();
    let decoded = decode(&bytes, version).unwrap();
    assert_eq!(decoded, packet, "decode at {version}");
    let encoded = encode(&packet, version).unwrap();
    assert_eq!(encoded, bytes, "encode at {version}");
    let reencoded = encode(&decoded, version).unwrap();
    assert_eq!(reencoded, bytes, "re-encode at {version}");
}

/// The decoder's refusal of `bytes`, checked in everything a server acts on: the kind, the
/// reason code it answers with, the conformance rule named, and the packet type of the
/// first byte (none for a reserved type, which is no packet type at all).
#[track_caller]
pub(crate) fn rejects<W: Wire + ?Sized>(
    bytes: &W,
    version: ProtocolVersion,
    kind: DecodeErrorKind,
    reason: ReasonCode,
    rule: Option<&str>,
) {
    let bytes = bytes.wire();
    let err = decode(&bytes, version).unwrap_err();
    assert_eq!(err.kind(), &kind, "{bytes:02X?} at {version}");
    assert_eq!(err.reason_code(), reason, "{bytes:02X?} at {version}");
    assert_eq!(err.rule(), rule, "{bytes:02X?} at {version}");
    let packet_type = match kind {
        DecodeErrorKind::ReservedPacketType { .. } => None,
        _ => PacketType::from_bits(bytes[0] >> 4),
    };
    assert_eq!(err.packet_type(), packet_type, "{bytes:02X?} at {version}");
}
