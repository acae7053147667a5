//! The codec checks: one byte vector of every packet type at MQTT 3.1.1 and 5.0 (and a 3.1
//! CONNECT) that must decode and re-encode byte for byte, and malformed ones that must be
//! refused with the right reason code and rule.
//!
//! The tables are plain bytes; the API under test is the `codec` module, chosen by a cargo
//! feature. Another API (such as a borrowed, allocation-free one) adds its own `codec`
//! module with the same two functions, and the tables and `run` stay as they are. The size
//! probe (`probe.rs`) runs its own checks over the same tables.

#[cfg(feature = "codec")]
use crate::{print, print_number};

/// MQTT 5.0 reason codes the refusals name.
const MALFORMED: u8 = 0x81;
const PROTOCOL_ERROR: u8 = 0x82;
const UNSUPPORTED_PROTOCOL_VERSION: u8 = 0x84;

/// A vector's name, printed when it fails. The size probe names a failing vector by its
/// index instead, so that the names take no flash there: its `Name` holds nothing.
#[cfg(feature = "codec")]
type Name = &'static str;
#[cfg(not(feature = "codec"))]
type Name = ();

/// `text` as a [`Name`]; evaluated at compile time, so a discarded name never reaches flash.
#[cfg(feature = "codec")]
const fn name(text: &'static str) -> Name {
    text
}
#[cfg(not(feature = "codec"))]
const fn name(_text: &'static str) -> Name {}

/// A packet that decodes at `level` (3, 4 or 5) and re-encodes to exactly `bytes`.
pub struct Valid {
    #[cfg_attr(not(feature = "codec"), allow(dead_code))]
    pub name: Name,
    pub level: u8,
    pub bytes: &'static [u8],
}

/// What decoding a malformed vector must answer.
#[derive(Clone, Copy)]
pub enum Expect {
    /// Refused with this reason code and rule tag.
    Refused(u8, Option<&'static str>),
    /// The input ends before the packet does: more bytes are needed.
    Incomplete,
}

/// A malformed packet at `level`, and what decoding it must answer.
pub struct Invalid {
    #[cfg_attr(not(feature = "codec"), allow(dead_code))]
    pub name: Name,
    pub level: u8,
    pub bytes: &'static [u8],
    pub expect: Expect,
}

#[rustfmt::skip]
pub const VALID: &[Valid] = &[
    // MQTT 3.1.1 (level 4)
    Valid { name: name("3.1.1 CONNECT with will, user name and password"), level: 4, bytes: &[
        0x10, 0x1C, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0xEE, 0x00, 0x3C,
        0x00, 0x02, b'c', b'1', 0x00, 0x01, b'w', 0x00, 0x03, b'b', b'y', b'e',
        0x00, 0x01, b'u', 0x00, 0x01, b'p'] },
    Valid { name: name("3.1.1 CONNACK"), level: 4, bytes: &[0x20, 0x02, 0x01, 0x00] },
    Valid { name: name("3.1.1 PUBLISH QoS 1, DUP, retain"), level: 4, bytes: &[
        0x3B, 0x09, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x07, b'h', b'i'] },
    Valid { name: name("3.1.1 PUBLISH QoS 0"), level: 4, bytes: &[0x30, 0x05, 0x00, 0x01, b'a', b'h', b'i'] },
    Valid { name: name("3.1.1 PUBACK"), level: 4, bytes: &[0x40, 0x02, 0x00, 0x07] },
    Valid { name: name("3.1.1 PUBREC"), level: 4, bytes: &[0x50, 0x02, 0x00, 0x07] },
    Valid { name: name("3.1.1 PUBREL"), level: 4, bytes: &[0x62, 0x02, 0x00, 0x07] },
    Valid { name: name("3.1.1 PUBCOMP"), level: 4, bytes: &[0x70, 0x02, 0x00, 0x07] },
    Valid { name: name("3.1.1 SUBSCRIBE"), level: 4, bytes: &[
        0x82, 0x0C, 0x00, 0x0A, 0x00, 0x03, b'a', b'/', b'#', 0x01, 0x00, 0x01, b'b', 0x02] },
    Valid { name: name("3.1.1 SUBACK"), level: 4, bytes: &[0x90, 0x05, 0x00, 0x0A, 0x01, 0x02, 0x80] },
    Valid { name: name("3.1.1 UNSUBSCRIBE"), level: 4, bytes: &[
        0xA2, 0x0A, 0x00, 0x0B, 0x00, 0x03, b'a', b'/', b'#', 0x00, 0x01, b'b'] },
    Valid { name: name("3.1.1 UNSUBACK"), level: 4, bytes: &[0xB0, 0x02, 0x00, 0x0B] },
    Valid { name: name("3.1.1 PINGREQ"), level: 4, bytes: &[0xC0, 0x00] },
    Valid { name: name("3.1.1 PINGRESP"), level: 4, bytes: &[0xD0, 0x00] },
    Valid { name: name("3.1.1 DISCONNECT"), level: 4, bytes: &[0xE0, 0x00] },
    // MQTT 3.1 (level 3): its CONNECT is the only packet that differs from 3.1.1.
    Valid { name: name("3.1 CONNECT"), level: 3, bytes: &[
        0x10, 0x10, 0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p', 0x03, 0x02, 0x00, 0x3C,
        0x00, 0x02, b'c', b'1'] },
    // MQTT 5.0 (level 5)
    Valid { name: name("5.0 CONNECT with properties, will properties, user name and password"), level: 5, bytes: &[
        0x10, 0x36, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0xEE, 0x00, 0x3C,
        // Session Expiry Interval 120, Receive Maximum 10, User Property k=v
        0x0F, 0x11, 0x00, 0x00, 0x00, 0x78, 0x21, 0x00, 0x0A, 0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v',
        0x00, 0x02, b'c', b'1',
        // Will Delay Interval 5, Content Type "t"
        0x09, 0x18, 0x00, 0x00, 0x00, 0x05, 0x03, 0x00, 0x01, b't',
        0x00, 0x01, b'w', 0x00, 0x03, b'b', b'y', b'e', 0x00, 0x01, b'u', 0x00, 0x01, b'p'] },
    Valid { name: name("5.0 CONNACK with properties"), level: 5, bytes: &[
        // Receive Maximum 20, Maximum QoS 1, Topic Alias Maximum 5, Assigned Client Identifier
        0x20, 0x10, 0x00, 0x00, 0x0D, 0x21, 0x00, 0x14, 0x24, 0x01, 0x22, 0x00, 0x05,
        0x12, 0x00, 0x02, b'x', b'1'] },
    Valid { name: name("5.0 PUBLISH QoS 2 with properties"), level: 5, bytes: &[
        0x34, 0x24, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x09,
        // Payload Format Indicator, Message Expiry Interval, Topic Alias, Response Topic,
        // Correlation Data, User Property
        0x1A, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x3C, 0x23, 0x00, 0x02,
        0x08, 0x00, 0x01, b'r', 0x09, 0x00, 0x02, 0xAB, 0xCD, 0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v',
        b'h', b'i'] },
    Valid { name: name("5.0 PUBLISH QoS 0"), level: 5, bytes: &[0x30, 0x06, 0x00, 0x01, b'a', 0x00, b'h', b'i'] },
    Valid { name: name("5.0 PUBACK with reason and Reason String"), level: 5, bytes: &[
        0x40, 0x09, 0x00, 0x09, 0x10, 0x05, 0x1F, 0x00, 0x02, b'n', b'o'] },
    Valid { name: name("5.0 PUBACK"), level: 5, bytes: &[0x40, 0x02, 0x00, 0x09] },
    Valid { name: name("5.0 PUBREC with reason"), level: 5, bytes: &[0x50, 0x03, 0x00, 0x09, 0x10] },
    Valid { name: name("5.0 PUBREL with reason"), level: 5, bytes: &[0x62, 0x03, 0x00, 0x09, 0x92] },
    Valid { name: name("5.0 PUBCOMP"), level: 5, bytes: &[0x70, 0x02, 0x00, 0x09] },
    Valid { name: name("5.0 SUBSCRIBE with properties and options"), level: 5, bytes: &[
        // Subscription Identifier 5, User Property k=v
        0x82, 0x16, 0x00, 0x0A, 0x09, 0x0B, 0x05, 0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v',
        0x00, 0x03, b'a', b'/', b'#', 0x1D, 0x00, 0x01, b'b', 0x02] },
    Valid { name: name("5.0 SUBACK with Reason String"), level: 5, bytes: &[
        0x90, 0x0A, 0x00, 0x0A, 0x04, 0x1F, 0x00, 0x01, b'x', 0x01, 0x02, 0x87] },
    Valid { name: name("5.0 UNSUBSCRIBE"), level: 5, bytes: &[
        0xA2, 0x0B, 0x00, 0x0B, 0x00, 0x00, 0x03, b'a', b'/', b'#', 0x00, 0x01, b'b'] },
    Valid { name: name("5.0 UNSUBACK"), level: 5, bytes: &[0xB0, 0x05, 0x00, 0x0B, 0x00, 0x00, 0x11] },
    Valid { name: name("5.0 PINGREQ"), level: 5, bytes: &[0xC0, 0x00] },
    Valid { name: name("5.0 PINGRESP"), level: 5, bytes: &[0xD0, 0x00] },
    Valid { name: name("5.0 DISCONNECT with will and properties"), level: 5, bytes: &[
        // Session Expiry Interval 0, Reason String "ok"
        0xE0, 0x0C, 0x04, 0x0A, 0x11, 0x00, 0x00, 0x00, 0x00, 0x1F, 0x00, 0x02, b'o', b'k'] },
    Valid { name: name("5.0 DISCONNECT"), level: 5, bytes: &[0xE0, 0x00] },
    Valid { name: name("5.0 AUTH continue with method and data"), level: 5, bytes: &[
        0xF0, 0x0B, 0x18, 0x09, 0x15, 0x00, 0x01, b'M', 0x16, 0x00, 0x02, 0x01, 0x02] },
];

#[rustfmt::skip]
pub const INVALID: &[Invalid] = &[
    Invalid { name: name("5.0 PUBLISH QoS 3"), level: 5,
        bytes: &[0x36, 0x06, 0x00, 0x01, b'a', 0x00, 0x01, 0x00],
        expect: Expect::Refused(MALFORMED, Some("MQTT-3.3.1-4")) },
    Invalid { name: name("5.0 Remaining Length not minimal"), level: 5, bytes: &[0x30, 0x80, 0x00],
        expect: Expect::Refused(MALFORMED, Some("MQTT-1.5.5-1")) },
    Invalid { name: name("3.1.1 PINGREQ with flags"), level: 4, bytes: &[0xC1, 0x00],
        expect: Expect::Refused(MALFORMED, Some("MQTT-2.2.2-1")) },
    Invalid { name: name("3.1.1 topic with an encoded surrogate"), level: 4,
        bytes: &[0x30, 0x06, 0x00, 0x04, b'a', 0xED, 0xA0, 0x80],
        expect: Expect::Refused(MALFORMED, Some("MQTT-1.5.3-1")) },
    Invalid { name: name("3.1.1 CONNECT reserved flag"), level: 4,
        bytes: &[0x10, 0x0C, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x03, 0x00, 0x3C, 0x00, 0x00],
        expect: Expect::Refused(MALFORMED, Some("MQTT-3.1.2-3")) },
    Invalid { name: name("5.0 CONNECT protocol name MQTX"), level: 5,
        bytes: &[0x10, 0x0D, 0x00, 0x04, b'M', b'Q', b'T', b'X', 0x05, 0x02, 0x00, 0x3C, 0x00, 0x00, 0x00],
        expect: Expect::Refused(UNSUPPORTED_PROTOCOL_VERSION, Some("MQTT-3.1.2-1")) },
    Invalid { name: name("5.0 CONNACK session present with a refusal"), level: 5,
        bytes: &[0x20, 0x03, 0x01, 0x87, 0x00],
        expect: Expect::Refused(PROTOCOL_ERROR, Some("MQTT-3.2.2-6")) },
    Invalid { name: name("5.0 PUBACK reason 0x92"), level: 5, bytes: &[0x40, 0x03, 0x00, 0x01, 0x92],
        expect: Expect::Refused(PROTOCOL_ERROR, Some("MQTT-3.4.2-1")) },
    Invalid { name: name("5.0 SUBSCRIBE without filters"), level: 5, bytes: &[0x82, 0x03, 0x00, 0x01, 0x00],
        expect: Expect::Refused(PROTOCOL_ERROR, Some("MQTT-3.8.3-2")) },
    Invalid { name: name("5.0 AUTH continue without method"), level: 5, bytes: &[0xF0, 0x02, 0x18, 0x00],
        expect: Expect::Refused(PROTOCOL_ERROR, None) },
    Invalid { name: name("3.1.1 PUBLISH cut short"), level: 4, bytes: &[0x32, 0x06, 0x00, 0x01, b'a'],
        expect: Expect::Incomplete },
];

/// Packet types (bit n for type n) that 3.1.1 and 5.0 have: 1 to 14, and AUTH (15) in 5.0.
pub const TYPES_V311: u16 = 0x7FFE;
pub const TYPES_V5: u16 = 0xFFFE;

/// Runs every check, prints each failure and a summary; true when all passed.
#[cfg(feature = "codec")]
pub fn run() -> bool {
    let mut failures = 0u32;
    // Bit n: a packet of type n round-tripped, per level.
    let (mut seen_v311, mut seen_v5) = (0u16, 0u16);
    for v in VALID {
        match codec::round_trip(v.level, v.bytes) {
            Ok(()) => {
                // A round-tripped vector is not empty; `first` keeps panic code out.
                let bit = v.bytes.first().map_or(0, |b| 1u16 << (b >> 4));
                match v.level {
                    4 => seen_v311 |= bit,
                    5 => seen_v5 |= bit,
                    _ => {}
                }
            }
            Err(why) => {
                failures += 1;
                fail(v.name, why);
            }
        }
    }
    for v in INVALID {
        if let Err(why) = codec::refusal(v.level, v.bytes, v.expect) {
            failures += 1;
            fail(v.name, why);
        }
    }
    if seen_v311 != TYPES_V311 || seen_v5 != TYPES_V5 {
        failures += 1;
        fail("coverage", "a packet type has no vector that round-trips");
    }
    print("mqttwire firmware (");
    print(codec::API);
    print("): ");
    print_number(VALID.len() as u32);
    print(" round trips, ");
    print_number(INVALID.len() as u32);
    print(" refusals, ");
    print_number(failures);
    print(if failures == 0 {
        " failures: PASS\n"
    } else {
        " failures: FAIL\n"
    });
    failures == 0
}

#[cfg(feature = "codec")]
fn fail(name: &str, why: &str) {
    print("FAIL ");
    print(name);
    print(": ");
    print(why);
    print("\n");
}

/// The owned API: `Packet::decode` over `Bytes`, `Packet::encode` into a `Vec`.
#[cfg(feature = "owned")]
mod codec {
    use super::Expect;
    use alloc::vec::Vec;
    use bytes::Bytes;
    use mqttwire::{Packet, ProtocolVersion};

    pub const API: &str = "owned API";

    fn version(level: u8) -> Result<ProtocolVersion, &'static str> {
        ProtocolVersion::from_level(level).ok_or("no such protocol level")
    }

    /// Decodes `bytes` as one packet and re-encodes it; the result must be `bytes` again.
    pub fn round_trip(level: u8, bytes: &'static [u8]) -> Result<(), &'static str> {
        let version = version(level)?;
        let input = Bytes::from_static(bytes);
        let (packet, used) = Packet::decode(&input, version).map_err(|_| "refused")?;
        if used != bytes.len() {
            return Err("decoding used a different number of bytes");
        }
        let mut out = Vec::new();
        let written = packet
            .encode(version, &mut out)
            .map_err(|_| "re-encoding failed")?;
        if written != out.len() || out != bytes {
            return Err("re-encoded bytes differ");
        }
        Ok(())
    }

    /// Decodes `bytes`, which must fail as `expect` says.
    pub fn refusal(level: u8, bytes: &'static [u8], expect: Expect) -> Result<(), &'static str> {
        let version = version(level)?;
        let err = match Packet::decode(&Bytes::from_static(bytes), version) {
            Ok(_) => return Err("accepted"),
            Err(err) => err,
        };
        match expect {
            Expect::Incomplete if err.is_incomplete() => Ok(()),
            Expect::Incomplete => Err("refused, but should wait for more bytes"),
            Expect::Refused(..) if err.is_incomplete() => Err("waits for more bytes"),
            Expect::Refused(code, _) if err.reason_code().0 != code => Err("wrong reason code"),
            Expect::Refused(_, rule) if err.rule() != rule => Err("wrong rule"),
            Expect::Refused(..) => Ok(()),
        }
    }
}

/// The borrowed core: `PacketRef::decode` over the vector itself, `PacketRef::encode` into
/// a buffer on the stack. No heap, no allocator: what a firmware without one runs.
#[cfg(feature = "borrowed")]
mod codec {
    use super::Expect;
    use mqttwire::{Decoded, PacketRef, ProtocolVersion};

    pub const API: &str = "borrowed core";

    fn version(level: u8) -> Result<ProtocolVersion, &'static str> {
        ProtocolVersion::from_level(level).ok_or("no such protocol level")
    }

    /// Decodes `bytes` as one packet and re-encodes it; the result must be `bytes` again.
    pub fn round_trip(level: u8, bytes: &'static [u8]) -> Result<(), &'static str> {
        let version = version(level)?;
        let Decoded::Complete(packet, used) =
            PacketRef::decode(bytes, version).map_err(|_| "refused")?
        else {
            return Err("waits for more bytes");
        };
        if used != bytes.len() {
            return Err("decoding used a different number of bytes");
        }
        let mut out = [0u8; 128];
        let written = packet
            .encode(version, &mut out)
            .map_err(|_| "re-encoding failed")?;
        if out.get(..written) != Some(bytes) {
            return Err("re-encoded bytes differ");
        }
        Ok(())
    }

    /// Decodes `bytes`, which must fail as `expect` says.
    pub fn refusal(level: u8, bytes: &'static [u8], expect: Expect) -> Result<(), &'static str> {
        let version = version(level)?;
        match (PacketRef::decode(bytes, version), expect) {
            (Ok(Decoded::Complete(..)), _) => Err("accepted"),
            (Ok(Decoded::Partial { .. }), Expect::Incomplete) => Ok(()),
            (Ok(Decoded::Partial { .. }), Expect::Refused(..)) => Err("waits for more bytes"),
            (Err(_), Expect::Incomplete) => Err("refused, but should wait for more bytes"),
            (Err(err), Expect::Refused(code, _)) if err.reason_code().0 != code => {
                Err("wrong reason code")
            }
            (Err(err), Expect::Refused(_, rule)) if err.rule() != rule => Err("wrong rule"),
            (Err(_), Expect::Refused(..)) => Ok(()),
        }
    }
}
