//! Shared helpers for the integration tests: hand-computed byte vectors of every packet type
//! at MQTT 3.1, 3.1.1 and 5.0, a tiny deterministic PRNG, and a round-trip check.
//!
//! Every vector was computed by hand from the specification (the Remaining Length and every
//! length prefix counted byte by byte); none was copied from the program's output.

#![allow(dead_code)]

use bytes::{Bytes, BytesMut};
use mqttwire::{Packet, PacketType, ProtocolVersion};

pub const V31: ProtocolVersion = ProtocolVersion::V3_1;
pub const V311: ProtocolVersion = ProtocolVersion::V3_1_1;
pub const V5: ProtocolVersion = ProtocolVersion::V5;
pub const LEVELS: [ProtocolVersion; 3] = [V31, V311, V5];

/// One valid packet on the wire.
#[derive(Debug, Clone, Copy)]
pub struct Vector {
    pub name: &'static str,
    pub version: ProtocolVersion,
    pub bytes: &'static [u8],
    /// Whether mqttwire's encoder writes exactly these bytes back (false for the optional
    /// long forms, such as a PUBACK that spells out reason 0x00 and an empty property set).
    pub canonical: bool,
}

const fn v(
    name: &'static str,
    version: ProtocolVersion,
    bytes: &'static [u8],
    canonical: bool,
) -> Vector {
    Vector {
        name,
        version,
        bytes,
        canonical,
    }
}

/// 3.1.1 CONNECT with every field: clean session, keep alive 60, client id "c1", will
/// (topic "w/t", payload "bye", QoS 1, retain), user name "u", password "pw".
/// Connect Flags 0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02 = 0xEE.
/// Body: 6 (name) + 1 (level) + 1 (flags) + 2 (keep alive) + 4 (client id) + 5 (will topic)
/// + 5 (will payload) + 3 (user) + 4 (password) = 31 = 0x1F.
pub const CONNECT_ALL_V4: &[u8] = &[
    0x10, 0x1F, // fixed header
    0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name
    0x04, // level
    0xEE, // flags
    0x00, 0x3C, // keep alive
    0x00, 0x02, b'c', b'1', // client id
    0x00, 0x03, b'w', b'/', b't', // will topic
    0x00, 0x03, b'b', b'y', b'e', // will payload
    0x00, 0x01, b'u', // user name
    0x00, 0x02, b'p', b'w', // password
];

/// 5.0 CONNECT with every field: as [`CONNECT_ALL_V4`] at level 5, plus CONNECT properties
/// Session Expiry 60 (`11 00 00 00 3C`), Receive Maximum 10 (`21 00 0A`), User Property
/// ("k", "v") (`26 00 01 6B 00 01 76`): 15 bytes; and Will Properties Will Delay 5
/// (`18 00 00 00 05`) and Payload Format Indicator 1 (`01 01`): 7 bytes.
/// Body: 10 + (1 + 15) + 4 + (1 + 7) + 5 + 5 + 3 + 4 = 55 = 0x37.
pub const CONNECT_ALL_V5: &[u8] = &[
    0x10, 0x37, // fixed header
    0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name
    0x05, // level
    0xEE, // flags
    0x00, 0x3C, // keep alive
    0x0F, // property length
    0x11, 0x00, 0x00, 0x00, 0x3C, // session expiry interval
    0x21, 0x00, 0x0A, // receive maximum
    0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // user property
    0x00, 0x02, b'c', b'1', // client id
    0x07, // will property length
    0x18, 0x00, 0x00, 0x00, 0x05, // will delay interval
    0x01, 0x01, // payload format indicator
    0x00, 0x03, b'w', b'/', b't', // will topic
    0x00, 0x03, b'b', b'y', b'e', // will payload
    0x00, 0x01, b'u', // user name
    0x00, 0x02, b'p', b'w', // password
];

/// 5.0 PUBLISH, QoS 2, RETAIN, topic "a/b", packet id 42, every PUBLISH property in the
/// encoder's order (37 bytes), payload "hello". Body: 5 + 2 + 38 + 5 = 50 = 0x32.
pub const PUBLISH_ALL_PROPS_V5: &[u8] = &[
    0x35, 0x32, // QoS 2 | RETAIN
    0x00, 0x03, b'a', b'/', b'b', // topic
    0x00, 0x2A, // packet id
    0x25, // property length 37
    0x01, 0x01, // payload format indicator: UTF-8
    0x02, 0x00, 0x00, 0x00, 0x3C, // message expiry 60
    0x23, 0x00, 0x05, // topic alias 5
    0x08, 0x00, 0x03, b'r', b'/', b'1', // response topic
    0x09, 0x00, 0x02, 0xAB, 0xCD, // correlation data
    0x03, 0x00, 0x04, b't', b'e', b'x', b't', // content type
    0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // user property
    0x0B, 0x07, // subscription identifier 7
    b'h', b'e', b'l', b'l', b'o', // payload
];

/// 5.0 PUBLISH with Subscription Identifiers 1, 300 (`AC 02`) and 268,435,455
/// (`FF FF FF 7F`): property length 2 + 3 + 5 = 10; topic "a", payload "xyz".
/// Body: 3 + 1 + 10 + 3 = 17 = 0x11.
pub const PUBLISH_SUB_IDS_V5: &[u8] = &[
    0x30, 0x11, 0x00, 0x01, b'a', 0x0A, 0x0B, 0x01, 0x0B, 0xAC, 0x02, 0x0B, 0xFF, 0xFF, 0xFF, 0x7F,
    b'x', b'y', b'z',
];

/// 5.0 PUBACK, reason 0x80, Reason String "too bad" (`1F 00 07 ...`, 10 bytes) and User
/// Property ("k", "v") (7 bytes): property length 17 = 0x11, body 2 + 1 + 1 + 17 = 21 = 0x15.
pub const PUBACK_FULL_V5: &[u8] = &[
    0x40, 0x15, 0x00, 0x01, 0x80, 0x11, 0x1F, 0x00, 0x07, b't', b'o', b'o', b' ', b'b', b'a', b'd',
    0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v',
];

/// Every valid vector, all versions.
pub fn vectors() -> Vec<Vector> {
    vec![
        // ---------------------------------------------------------------- MQTT 3.1 (level 3)
        v(
            "3.1 CONNECT, protocol name MQIsdp",
            V31,
            &[
                0x10, 0x10, 0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p', 0x03, 0x02, 0x00, 0x3C,
                0x00, 0x02, b'c', b'1',
            ],
            true,
        ),
        v(
            "3.1 PUBLISH QoS 1, empty payload",
            V31,
            &[0x32, 0x05, 0x00, 0x01, b'a', 0x00, 0x01],
            true,
        ),
        v("3.1 SUBACK", V31, &[0x90, 0x03, 0x00, 0x01, 0x02], true),
        v("3.1 PINGREQ", V31, &[0xC0, 0x00], true),
        // ------------------------------------------------------------ MQTT 3.1.1 (level 4)
        v(
            "3.1.1 CONNECT, client id c1",
            V311,
            &[
                0x10, 0x0E, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x02,
                b'c', b'1',
            ],
            true,
        ),
        v("3.1.1 CONNECT, every field", V311, CONNECT_ALL_V4, true),
        v(
            "3.1.1 CONNACK accepted",
            V311,
            &[0x20, 0x02, 0x00, 0x00],
            true,
        ),
        v(
            "3.1.1 CONNACK session present",
            V311,
            &[0x20, 0x02, 0x01, 0x00],
            true,
        ),
        v(
            "3.1.1 CONNACK not authorized",
            V311,
            &[0x20, 0x02, 0x00, 0x05],
            true,
        ),
        v(
            "3.1.1 PUBLISH QoS 0, payload 00 01",
            V311,
            &[0x30, 0x05, 0x00, 0x01, b'a', 0x00, 0x01],
            true,
        ),
        v(
            "3.1.1 PUBLISH QoS 1",
            V311,
            &[
                0x32, 0x09, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x0A, b'h', b'i',
            ],
            true,
        ),
        v(
            "3.1.1 PUBLISH QoS 2 DUP RETAIN, empty payload",
            V311,
            &[0x3D, 0x05, 0x00, 0x01, b'a', 0x00, 0x07],
            true,
        ),
        v("3.1.1 PUBACK", V311, &[0x40, 0x02, 0x00, 0x01], true),
        v("3.1.1 PUBREC", V311, &[0x50, 0x02, 0x00, 0x01], true),
        v("3.1.1 PUBREL", V311, &[0x62, 0x02, 0x00, 0x01], true),
        v("3.1.1 PUBCOMP", V311, &[0x70, 0x02, 0x00, 0x01], true),
        v(
            "3.1.1 SUBSCRIBE one filter",
            V311,
            &[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x01],
            true,
        ),
        v(
            "3.1.1 SUBSCRIBE two filters",
            V311,
            &[
                0x82, 0x0C, 0x00, 0x02, 0x00, 0x03, b'a', b'/', b'#', 0x02, 0x00, 0x01, b'+', 0x00,
            ],
            true,
        ),
        v("3.1.1 SUBACK", V311, &[0x90, 0x03, 0x00, 0x01, 0x01], true),
        v(
            "3.1.1 SUBACK with failure",
            V311,
            &[0x90, 0x04, 0x00, 0x02, 0x02, 0x80],
            true,
        ),
        v(
            "3.1.1 UNSUBSCRIBE",
            V311,
            &[0xA2, 0x05, 0x00, 0x09, 0x00, 0x01, b'a'],
            true,
        ),
        v(
            "3.1.1 UNSUBSCRIBE two filters",
            V311,
            &[0xA2, 0x08, 0x00, 0x09, 0x00, 0x01, b'a', 0x00, 0x01, b'b'],
            true,
        ),
        v("3.1.1 UNSUBACK", V311, &[0xB0, 0x02, 0x00, 0x09], true),
        v("3.1.1 PINGREQ", V311, &[0xC0, 0x00], true),
        v("3.1.1 PINGRESP", V311, &[0xD0, 0x00], true),
        v("3.1.1 DISCONNECT", V311, &[0xE0, 0x00], true),
        // --------------------------------------------------------------- MQTT 5.0 (level 5)
        v(
            "5.0 CONNECT, client id c1",
            V5,
            &[
                0x10, 0x0F, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3C, 0x00, 0x00,
                0x02, b'c', b'1',
            ],
            true,
        ),
        v(
            "5.0 CONNECT, password without user name",
            V5,
            &[
                0x10, 0x11, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x42, 0x00, 0x3C, 0x00, 0x00,
                0x00, 0x00, 0x02, b'p', b'w',
            ],
            true,
        ),
        v("5.0 CONNECT, every field", V5, CONNECT_ALL_V5, true),
        v(
            "5.0 CONNACK success",
            V5,
            &[0x20, 0x03, 0x00, 0x00, 0x00],
            true,
        ),
        v(
            "5.0 CONNACK not authorized",
            V5,
            &[0x20, 0x03, 0x00, 0x87, 0x00],
            true,
        ),
        v(
            "5.0 CONNACK assigned client id x1",
            V5,
            &[0x20, 0x08, 0x00, 0x00, 0x05, 0x12, 0x00, 0x02, b'x', b'1'],
            true,
        ),
        v(
            "5.0 CONNACK receive maximum 2",
            V5,
            &[0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x02],
            true,
        ),
        v(
            "5.0 PUBLISH QoS 0, empty payload",
            V5,
            &[0x30, 0x04, 0x00, 0x01, b'a', 0x00],
            true,
        ),
        v(
            "5.0 PUBLISH QoS 0, payload hi",
            V5,
            &[0x30, 0x06, 0x00, 0x01, b'a', 0x00, b'h', b'i'],
            true,
        ),
        v(
            "5.0 PUBLISH QoS 1, payload format indicator",
            V5,
            &[
                0x32, 0x0A, 0x00, 0x01, b'a', 0x00, 0x01, 0x02, 0x01, 0x01, b'h', b'i',
            ],
            true,
        ),
        v(
            "5.0 PUBLISH with a user property",
            V5,
            &[
                0x30, 0x0C, 0x00, 0x01, b't', 0x07, 0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', b'p',
            ],
            true,
        ),
        v(
            "5.0 PUBLISH with three subscription identifiers",
            V5,
            PUBLISH_SUB_IDS_V5,
            true,
        ),
        v(
            "5.0 PUBLISH empty topic with topic alias",
            V5,
            &[0x30, 0x06, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01],
            true,
        ),
        v(
            "5.0 PUBLISH with every property",
            V5,
            PUBLISH_ALL_PROPS_V5,
            true,
        ),
        v("5.0 PUBACK short form", V5, &[0x40, 0x02, 0x00, 0x01], true),
        v(
            "5.0 PUBACK no matching subscribers",
            V5,
            &[0x40, 0x03, 0x00, 0x01, 0x10],
            true,
        ),
        v(
            "5.0 PUBACK long form of success",
            V5,
            &[0x40, 0x04, 0x00, 0x01, 0x00, 0x00],
            false,
        ),
        v(
            "5.0 PUBACK reason string and user property",
            V5,
            PUBACK_FULL_V5,
            true,
        ),
        v(
            "5.0 PUBREC topic name invalid",
            V5,
            &[0x50, 0x03, 0x00, 0x01, 0x90],
            true,
        ),
        v("5.0 PUBREL short form", V5, &[0x62, 0x02, 0x00, 0x01], true),
        v(
            "5.0 PUBREL packet identifier not found",
            V5,
            &[0x62, 0x03, 0x00, 0x01, 0x92],
            true,
        ),
        v(
            "5.0 PUBCOMP short form",
            V5,
            &[0x70, 0x02, 0x00, 0x01],
            true,
        ),
        v(
            "5.0 PUBCOMP packet identifier not found",
            V5,
            &[0x70, 0x03, 0x00, 0x01, 0x92],
            true,
        ),
        v(
            "5.0 SUBSCRIBE",
            V5,
            &[0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, b'a', 0x01],
            true,
        ),
        v(
            "5.0 SUBSCRIBE with subscription identifier and options 2D",
            V5,
            &[
                0x82, 0x09, 0x00, 0x01, 0x02, 0x0B, 0x07, 0x00, 0x01, b'a', 0x2D,
            ],
            true,
        ),
        v(
            "5.0 SUBSCRIBE shared",
            V5,
            &[
                0x82, 0x10, 0x00, 0x01, 0x00, 0x00, 0x0A, b'$', b's', b'h', b'a', b'r', b'e', b'/',
                b'g', b'/', b'a', 0x01,
            ],
            true,
        ),
        v(
            "5.0 SUBACK",
            V5,
            &[0x90, 0x04, 0x00, 0x01, 0x00, 0x01],
            true,
        ),
        v(
            "5.0 SUBACK with failure",
            V5,
            &[0x90, 0x05, 0x00, 0x01, 0x00, 0x00, 0x8F],
            true,
        ),
        v(
            "5.0 SUBACK with reason string",
            V5,
            &[0x90, 0x08, 0x00, 0x01, 0x04, 0x1F, 0x00, 0x01, b'x', 0x00],
            true,
        ),
        v(
            "5.0 UNSUBSCRIBE two filters",
            V5,
            &[
                0xA2, 0x09, 0x00, 0x01, 0x00, 0x00, 0x01, b'a', 0x00, 0x01, b'b',
            ],
            true,
        ),
        v(
            "5.0 UNSUBSCRIBE with a user property",
            V5,
            &[
                0xA2, 0x0D, 0x00, 0x01, 0x07, 0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', 0x00, 0x01,
                b'a',
            ],
            true,
        ),
        v(
            "5.0 UNSUBACK",
            V5,
            &[0xB0, 0x04, 0x00, 0x09, 0x00, 0x11],
            true,
        ),
        v(
            "5.0 UNSUBACK two codes",
            V5,
            &[0xB0, 0x05, 0x00, 0x09, 0x00, 0x00, 0x80],
            true,
        ),
        v("5.0 PINGREQ", V5, &[0xC0, 0x00], true),
        v("5.0 PINGRESP", V5, &[0xD0, 0x00], true),
        v("5.0 DISCONNECT short form", V5, &[0xE0, 0x00], true),
        v(
            "5.0 DISCONNECT with will message",
            V5,
            &[0xE0, 0x01, 0x04],
            true,
        ),
        v(
            "5.0 DISCONNECT session taken over, empty properties",
            V5,
            &[0xE0, 0x02, 0x8E, 0x00],
            false,
        ),
        v(
            "5.0 DISCONNECT reason string",
            V5,
            &[0xE0, 0x06, 0x80, 0x04, 0x1F, 0x00, 0x01, b'x'],
            true,
        ),
        v(
            "5.0 DISCONNECT session expiry 0",
            V5,
            &[0xE0, 0x07, 0x00, 0x05, 0x11, 0x00, 0x00, 0x00, 0x00],
            true,
        ),
        v("5.0 AUTH short form", V5, &[0xF0, 0x00], true),
        v(
            "5.0 AUTH continue, method M",
            V5,
            &[0xF0, 0x06, 0x18, 0x04, 0x15, 0x00, 0x01, b'M'],
            true,
        ),
        v(
            "5.0 AUTH re-authenticate with data",
            V5,
            &[
                0xF0, 0x0A, 0x19, 0x08, 0x15, 0x00, 0x01, b'M', 0x16, 0x00, 0x01, 0x01,
            ],
            true,
        ),
    ]
}

/// The vectors of one protocol version.
pub fn vectors_for(version: ProtocolVersion) -> Vec<Vector> {
    vectors()
        .into_iter()
        .filter(|v| v.version == version)
        .collect()
}

/// Length of the fixed header (type byte and Remaining Length) of a complete vector.
pub fn header_len(bytes: &[u8]) -> usize {
    1 + bytes[1..].iter().position(|b| b & 0x80 == 0).unwrap() + 1
}

/// Upper-case hex, space separated, for failure messages.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The version a decoded packet must be encoded at: a CONNECT's own level, otherwise `version`.
pub fn encode_version(packet: &Packet, version: ProtocolVersion) -> ProtocolVersion {
    match packet {
        Packet::Connect(c) => c.protocol_version,
        _ => version,
    }
}

/// Encodes `packet` at `version` (a CONNECT at its own level), checks that `encoded_len`
/// equals the bytes written, decodes the result and checks it equals `packet`. Returns the
/// bytes.
pub fn assert_roundtrip(packet: &Packet, version: ProtocolVersion, context: &str) -> Bytes {
    let version = encode_version(packet, version);
    let len = packet
        .encoded_len(version)
        .unwrap_or_else(|e| panic!("{context}: encoded_len failed: {e} for {packet:?}"));
    let mut buf = BytesMut::new();
    let written = packet
        .encode(version, &mut buf)
        .unwrap_or_else(|e| panic!("{context}: encode failed: {e} for {packet:?}"));
    assert_eq!(written, len, "{context}: written != encoded_len");
    assert_eq!(buf.len(), len, "{context}: buffer length != encoded_len");
    let bytes = buf.freeze();
    let (again, used) = Packet::decode(&bytes, version).unwrap_or_else(|e| {
        panic!(
            "{context}: re-encoded packet does not decode: {e}; bytes {}",
            hex(&bytes)
        )
    });
    assert_eq!(used, len, "{context}: decode used != encoded length");
    assert_eq!(&again, packet, "{context}: round trip changed the packet");
    bytes
}

/// Every packet type, for coverage checks.
pub const ALL_TYPES: [PacketType; 15] = [
    PacketType::Connect,
    PacketType::ConnAck,
    PacketType::Publish,
    PacketType::PubAck,
    PacketType::PubRec,
    PacketType::PubRel,
    PacketType::PubComp,
    PacketType::Subscribe,
    PacketType::SubAck,
    PacketType::Unsubscribe,
    PacketType::UnsubAck,
    PacketType::PingReq,
    PacketType::PingResp,
    PacketType::Disconnect,
    PacketType::Auth,
];

/// xorshift64*: a tiny deterministic PRNG, so the sweeps need no new dependency and every
/// run sees the same inputs.
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn byte(&mut self) -> u8 {
        (self.next_u64() >> 56) as u8
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: usize, den: usize) -> bool {
        self.below(den) < num
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }
}
