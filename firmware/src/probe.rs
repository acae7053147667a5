//! The size probe: what a small MQTT client needs of the codec, and no more, so that
//! `.ci/embedded.sh size` can measure it. It decodes every vector of `vectors.rs` (every
//! packet type at 3.1.1 and 5.0, and a 3.1 CONNECT) through `PacketRef::decode`, checks what
//! it decoded, re-encodes only PUBLISH and the four acknowledgements (PUBACK, PUBREC,
//! PUBREL, PUBCOMP), each through its view's own `encode` (`PublishRef::encode`...) and compares the bytes, and checks that the
//! malformed vectors are refused with their reason code and rule. No heap, no `core::fmt`:
//! a failing vector is named by its index.

use crate::vectors::{Expect, INVALID, TYPES_V311, TYPES_V5, VALID};
use crate::{print, print_number};
use mqttwire::{Decoded, PacketRef, ProtocolVersion};

/// Runs every check, prints each failure and the verdict; true when all passed.
pub fn run() -> bool {
    let mut pass = true;
    // Bit n: a packet of type n passed, per level.
    let (mut seen_v311, mut seen_v5) = (0u16, 0u16);
    for (i, v) in VALID.iter().enumerate() {
        if decoded(v.level, v.bytes) {
            // A decoded vector is not empty; `first` rather than `[0]` keeps panic code out.
            let bit = v.bytes.first().map_or(0, |b| 1u16 << (b >> 4));
            match v.level {
                4 => seen_v311 |= bit,
                5 => seen_v5 |= bit,
                _ => {}
            }
        } else {
            pass = false;
            fail("valid vector ", i);
        }
    }
    for (i, v) in INVALID.iter().enumerate() {
        if !refused(v.level, v.bytes, v.expect) {
            pass = false;
            fail("invalid vector ", i);
        }
    }
    if seen_v311 != TYPES_V311 || seen_v5 != TYPES_V5 {
        pass = false;
        print("FAIL: a packet type has no vector that passes\n");
    }
    print(if pass {
        "mqttwire size probe: PASS\n"
    } else {
        "mqttwire size probe: FAIL\n"
    });
    pass
}

fn fail(what: &str, index: usize) {
    print("FAIL ");
    print(what);
    print_number(index as u32);
    print("\n");
}

/// Decodes `bytes` at `level`: the whole vector must be one packet of the type its first
/// byte names. PUBLISH and the acknowledgements must re-encode to `bytes`; every other
/// type must hold what the vectors put in it.
fn decoded(level: u8, bytes: &'static [u8]) -> bool {
    let Some(version) = ProtocolVersion::from_level(level) else {
        return false;
    };
    let Ok(Decoded::Complete(packet, used)) = PacketRef::decode(bytes, version) else {
        return false;
    };
    if used != bytes.len() || bytes.first().map(|b| b >> 4) != Some(packet.packet_type() as u8) {
        return false;
    }
    // Each view's own `encode`, not `PacketRef::encode`, which would link the encoder of
    // every type: what a client that sends only these links.
    let mut out = [0u8; 64];
    let written = match packet {
        PacketRef::Publish(p) => p.encode(version, &mut out),
        PacketRef::PubAck(p) => p.encode(version, &mut out),
        PacketRef::PubRec(p) => p.encode(version, &mut out),
        PacketRef::PubRel(p) => p.encode(version, &mut out),
        PacketRef::PubComp(p) => p.encode(version, &mut out),
        other => return holds_what_was_sent(&other),
    };
    matches!(written, Ok(n) if out.get(..n) == Some(bytes))
}

/// The fields the vectors of the types that are not re-encoded agree on: every CONNECT's
/// client identifier is "c1", every CONNACK accepts, every SUBSCRIBE and UNSUBSCRIBE names
/// "a/#" then "b", and so on.
fn holds_what_was_sent(packet: &PacketRef<'_>) -> bool {
    match packet {
        PacketRef::Connect(p) => p.client_id == "c1" && p.keep_alive == 60,
        PacketRef::ConnAck(p) => u8::from(p.reason_code) == 0,
        PacketRef::Subscribe(p) => {
            let mut filters = p.subscriptions.iter().map(|s| s.filter);
            p.packet_id.get() == 10
                && filters.next().is_some_and(|f| f == "a/#")
                && filters.next().is_some_and(|f| f == "b")
                && filters.next().is_none()
        }
        PacketRef::SubAck(p) => p.packet_id.get() == 10 && p.reason_codes.len() == 3,
        PacketRef::Unsubscribe(p) => {
            let mut filters = p.filters.iter();
            p.packet_id.get() == 11
                && filters.next().is_some_and(|f| f == "a/#")
                && filters.next().is_some_and(|f| f == "b")
                && filters.next().is_none()
        }
        PacketRef::UnsubAck(p) => p.packet_id.get() == 11,
        PacketRef::Disconnect(p) => p.properties.reason_string().map_or(true, |s| s == "ok"),
        PacketRef::Auth(p) => {
            u8::from(p.reason_code) == 0x18
                && p.properties
                    .authentication_method()
                    .is_some_and(|m| m == "M")
        }
        PacketRef::PingReq | PacketRef::PingResp => true,
        // Re-encoded by `decoded`.
        _ => false,
    }
}

/// Decodes `bytes`, which must fail as `expect` says: the reason code and rule tag, or
/// waiting for more bytes.
fn refused(level: u8, bytes: &'static [u8], expect: Expect) -> bool {
    let Some(version) = ProtocolVersion::from_level(level) else {
        return false;
    };
    match (PacketRef::decode(bytes, version), expect) {
        (Ok(Decoded::Partial { .. }), Expect::Incomplete) => true,
        (Err(err), Expect::Refused(code, rule)) => {
            err.reason_code().0 == code && err.rule() == rule
        }
        _ => false,
    }
}
