//! `encode`: an `Arbitrary` packet through the encoder and back through the decoder.
//!
//! Input, read with `arbitrary::Unstructured`: one byte for the protocol level (`byte % 3`:
//! 3 is MQTT 3.1, 4 is 3.1.1, 5 is 5.0), then a `Packet` from mqttwire's `Arbitrary`
//! implementation (feature `arbitrary`), then the limit for `encode_with_limit`.
//!
//! Checked, besides "no panic":
//! - `encode` and `encoded_len` agree: both fail with the same error (and nothing is
//!   written), or `encode` writes exactly `encoded_len` bytes, which `Packet::decode` turns
//!   back into the same packet. The one lossy encoding the model documents: below MQTT 5.0
//!   an UNSUBACK's reason codes (all Success, or it is refused) are left out, so it decodes
//!   with none;
//! - `encode_with_limit` never writes more than the limit. It writes the first of the
//!   packet, the packet without its Reason String, and the packet without Reason String and
//!   User Properties (the last two only for the packet types MQTT 5.0 lets a sender trim)
//!   whose `encoded_len` fits, and the result decodes to that packet; when none fits it
//!   fails with `PacketTooLarge` naming the smallest size; when the packet cannot be
//!   encoded at all it fails with `encode`'s error. On failure it writes nothing.

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mqttwire::properties::UserProperties;
use mqttwire::{EncodeError, Packet, ProtocolVersion};

const LEVELS: [ProtocolVersion; 3] = [
    ProtocolVersion::V3_1,
    ProtocolVersion::V3_1_1,
    ProtocolVersion::V5,
];

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(&version) = u.choose(&LEVELS) else {
        return;
    };
    let Ok(packet) = Packet::arbitrary(&mut u) else {
        return;
    };

    let len = packet.encoded_len(version);
    let mut buf = BytesMut::new();
    let encoded = packet.encode(version, &mut buf);
    match (&encoded, &len) {
        (Ok(written), Ok(len)) => {
            assert_eq!(written, len);
            assert_eq!(buf.len(), *written);
            let frame = buf.clone().freeze();
            let (decoded, used) = Packet::decode(&frame, version)
                .unwrap_or_else(|e| panic!("{packet:?} encoded as {frame:02x?} fails: {e}"));
            assert_eq!(used, *written);
            assert_eq!(
                decoded,
                as_decoded(&packet, version),
                "encoded as {frame:02x?}"
            );
        }
        (Err(a), Err(b)) => {
            assert_eq!(a, b);
            assert!(buf.is_empty());
        }
        (a, b) => panic!("encode gave {a:?}, encoded_len {b:?} for {packet:?}"),
    }

    let limit = match (u8::arbitrary(&mut u).unwrap_or(0) % 4, &len) {
        (0, Ok(len)) => *len,
        (1, Ok(len)) => len.saturating_sub(1),
        (2, Ok(len)) => u.int_in_range(0..=len + 8).unwrap_or(0),
        _ => u32::arbitrary(&mut u).unwrap_or(0) as usize,
    };
    let mut limited = BytesMut::new();
    let result = packet.encode_with_limit(version, limit, &mut limited);

    // The candidates, in the order the encoder must try them.
    let candidates = if may_trim(&packet) {
        vec![
            packet.clone(),
            trimmed(&packet, false),
            trimmed(&packet, true),
        ]
    } else {
        vec![packet.clone()]
    };
    match (&result, &encoded) {
        (Err(e), Err(full)) => {
            assert_eq!(e, full);
            assert!(limited.is_empty());
        }
        (Ok(_), Err(full)) => panic!("encode_with_limit succeeds where encode fails: {full}"),
        (Err(EncodeError::PacketTooLarge { size, max }), Ok(_)) => {
            assert!(limited.is_empty());
            assert_eq!(*max, limit);
            let lens: Vec<usize> = candidates
                .iter()
                .map(|c| c.encoded_len(version).unwrap())
                .collect();
            assert!(
                lens.iter().all(|&n| n > limit),
                "{lens:?} with limit {limit}"
            );
            assert_eq!(Some(size), lens.iter().min());
        }
        (Err(e), Ok(_)) => panic!("encode succeeds, encode_with_limit fails with {e}"),
        (Ok(n), Ok(_)) => {
            assert!(*n <= limit, "{n} bytes written with a limit of {limit}");
            assert_eq!(limited.len(), *n);
            let chosen = candidates
                .iter()
                .find(|c| c.encoded_len(version).unwrap() <= limit)
                .expect("a candidate fits");
            assert_eq!(chosen.encoded_len(version), Ok(*n));
            if chosen == &packet {
                assert_eq!(limited, buf);
            }
            let frame = limited.freeze();
            let (decoded, used) = Packet::decode(&frame, version).unwrap_or_else(|e| {
                panic!("{packet:?} encoded within {limit} as {frame:02x?} fails: {e}")
            });
            assert_eq!(used, *n);
            assert_eq!(
                decoded,
                as_decoded(chosen, version),
                "encoded as {frame:02x?}"
            );
        }
    }
});

/// The packet as decoding its encoding at `version` gives it back.
fn as_decoded(packet: &Packet, version: ProtocolVersion) -> Packet {
    let mut packet = packet.clone();
    if let Packet::UnsubAck(unsuback) = &mut packet {
        if !version.is_v5() {
            unsuback.reason_codes.clear();
        }
    }
    packet
}

/// Whether MQTT 5.0 lets a sender leave out the packet's Reason String and User Properties.
fn may_trim(packet: &Packet) -> bool {
    matches!(
        packet,
        Packet::ConnAck(_)
            | Packet::PubAck(_)
            | Packet::PubRec(_)
            | Packet::PubRel(_)
            | Packet::PubComp(_)
            | Packet::SubAck(_)
            | Packet::UnsubAck(_)
            | Packet::Disconnect(_)
            | Packet::Auth(_)
    )
}

/// The packet without its Reason String and, if `user_properties_too`, its User Properties.
fn trimmed(packet: &Packet, user_properties_too: bool) -> Packet {
    let mut packet = packet.clone();
    macro_rules! strip {
        ($properties:expr) => {{
            $properties.set_reason_string(None);
            if user_properties_too {
                $properties.set_user_properties(UserProperties::new());
            }
        }};
    }
    match &mut packet {
        Packet::ConnAck(p) => strip!(p.properties),
        Packet::PubAck(p) => strip!(p.properties),
        Packet::PubRec(p) => strip!(p.properties),
        Packet::PubRel(p) => strip!(p.properties),
        Packet::PubComp(p) => strip!(p.properties),
        Packet::SubAck(p) => strip!(p.properties),
        Packet::UnsubAck(p) => strip!(p.properties),
        Packet::Disconnect(p) => strip!(p.properties),
        Packet::Auth(p) => strip!(p.properties),
        _ => {}
    }
    packet
}
