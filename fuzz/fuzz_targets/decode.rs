//! `decode`: raw bytes into `Packet::decode`, the `Decoder` and back out through the encoder.
//!
//! Input: the first byte picks the protocol level (`byte % 3`: 3 is MQTT 3.1, 4 is 3.1.1,
//! 5 is 5.0); the rest is the bytes to decode.
//!
//! Checked, besides "no panic":
//! - whatever `Packet::decode` accepts re-encodes at the same level into exactly
//!   `encoded_len` bytes, which decode to the same packet again (and to the same bytes once
//!   more); the one packet allowed not to re-encode is a 3.1 or 3.1.1 CONNECT with an empty
//!   client identifier and no clean session, which a server must answer with CONNACK 0x02
//!   ([MQTT-3.1.3-8]) and a client must not send ([MQTT-3.1.3-7]);
//! - `Packet::decode_slice` agrees with `Packet::decode`;
//! - the borrowed `PacketRef::decode` agrees with `Packet::decode`, error for error, bytes
//!   used and "need more bytes" alike, and a view it decodes encodes into a slice exactly
//!   as the owned packet encodes (or fails alike), writing nothing on failure;
//! - the same bytes through `Decoder::for_server()` and a `Decoder` with a small maximum
//!   packet size: no panic, the first packet agrees with `Packet::decode`, and the receive
//!   buffer's capacity never grows past what it started with plus the maximum packet size.

#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use mqttwire::{
    DecodeErrorKind, Decoded, Decoder, EncodeError, Packet, PacketRef, ProtocolVersion,
};

const LEVELS: [ProtocolVersion; 3] = [
    ProtocolVersion::V3_1,
    ProtocolVersion::V3_1_1,
    ProtocolVersion::V5,
];

/// The small maximum packet size: just above the first Remaining Length edge.
const SMALL_MAX: usize = 130;

fuzz_target!(|data: &[u8]| {
    let Some((&level, bytes)) = data.split_first() else {
        return;
    };
    let version = LEVELS[usize::from(level % 3)];
    let input = Bytes::copy_from_slice(bytes);

    let decoded = Packet::decode(&input, version);
    match (&decoded, Packet::decode_slice(bytes, version)) {
        (Ok(a), Ok(b)) => assert_eq!(*a, b),
        (Err(a), Err(b)) => assert_eq!(*a, b),
        (a, b) => panic!("decode gave {a:?}, decode_slice {b:?}"),
    }
    if let Ok((packet, used)) = &decoded {
        assert!(*used <= bytes.len());
        round_trip(packet, version);
    }
    borrowed_agrees(bytes, version, &decoded);

    let decoders = [
        Decoder::for_server(),
        Decoder::new(version).with_max_packet_size(SMALL_MAX),
    ];
    for (i, mut decoder) in decoders.into_iter().enumerate() {
        let mut buf = BytesMut::from(bytes);
        let start_capacity = buf.capacity();
        let max = decoder.max_packet_size();
        let mut first = true;
        loop {
            let result = decoder.decode(&mut buf);
            assert!(
                buf.capacity() <= start_capacity + max,
                "capacity {} after starting at {start_capacity} with a maximum of {max}",
                buf.capacity()
            );
            // The versioned decoder's first packet is Packet::decode's, size permitting.
            if i == 1 && first {
                check_first(&result, &decoded, max);
            }
            first = false;
            match result {
                Ok(Some(packet)) => round_trip(&packet, decoder.version().unwrap_or(version)),
                Ok(None) | Err(_) => break,
            }
        }
    }
});

/// Compares a `Decoder`'s first answer with `Packet::decode`'s for the same bytes.
fn check_first(
    result: &Result<Option<Packet>, mqttwire::DecodeError>,
    decoded: &Result<(Packet, usize), mqttwire::DecodeError>,
    max: usize,
) {
    match (result, decoded) {
        (Ok(Some(a)), Ok((b, used))) => {
            assert!(*used <= max);
            assert_eq!(a, b);
        }
        (Ok(None), Err(e)) => assert!(e.is_incomplete(), "{e:?}"),
        (Err(e), Ok((_, used))) => {
            assert!(
                *used > max,
                "Decoder failed with {e:?} on a decodable packet"
            );
            assert!(matches!(e.kind(), DecodeErrorKind::PacketTooLarge { .. }));
        }
        (Err(a), Err(b)) if a == b => {}
        (Err(a), Err(b)) => {
            // Only the size check may differ: the Decoder checks the size at the fixed
            // header, before the body it would have to wait for or that fails later.
            assert!(
                matches!(a.kind(), DecodeErrorKind::PacketTooLarge { max: m, .. } if *m == max),
                "Decoder: {a:?}, Packet::decode: {b:?}"
            );
        }
        (a, b) => panic!("Decoder gave {a:?}, Packet::decode {b:?}"),
    }
}

/// A decoded packet re-encodes to `encoded_len` bytes that decode to it again.
fn round_trip(packet: &Packet, version: ProtocolVersion) {
    let mut buf = BytesMut::new();
    let encoded = packet.encode(version, &mut buf);
    let len = packet.encoded_len(version);
    let written = match encoded {
        Ok(written) => written,
        Err(e) => {
            assert_eq!(len, Err(e.clone()));
            assert!(buf.is_empty());
            assert!(
                is_documented_asymmetry(packet, &e),
                "decoded {packet:?} does not re-encode at {version}: {e}"
            );
            return;
        }
    };
    assert_eq!(len, Ok(written));
    assert_eq!(buf.len(), written);
    let frame = buf.freeze();
    let (again, used) = Packet::decode(&frame, version)
        .unwrap_or_else(|e| panic!("{packet:?} re-encoded as {frame:02x?} fails: {e}"));
    assert_eq!(used, written);
    assert_eq!(&again, packet, "re-encoded as {frame:02x?}");
    // The encoder's output is canonical: once more gives the same bytes.
    let mut buf2 = BytesMut::new();
    again.encode(version, &mut buf2).unwrap();
    assert_eq!(buf2.freeze(), frame);
}

/// The one decodable packet that must not be re-encoded: a 3.1 or 3.1.1 CONNECT with an
/// empty client identifier and no clean session ([MQTT-3.1.3-7], [MQTT-3.1.3-8]).
fn is_documented_asymmetry(packet: &Packet, e: &EncodeError) -> bool {
    matches!(packet, Packet::Connect(c)
        if !c.protocol_version.is_v5() && c.client_id.is_empty() && !c.clean_start)
        && matches!(
            e,
            EncodeError::Invalid {
                rule: Some("MQTT-3.1.3-7"),
                ..
            }
        )
}

/// `PacketRef::decode` answers what `Packet::decode` answers, and its view encodes into a
/// slice as the owned packet encodes.
fn borrowed_agrees(
    bytes: &[u8],
    version: ProtocolVersion,
    owned: &Result<(Packet, usize), mqttwire::DecodeError>,
) {
    match (PacketRef::decode(bytes, version), owned) {
        (Ok(Decoded::Complete(view, n)), Ok((packet, used))) => {
            assert_eq!(n, *used);
            let mut want = Vec::new();
            let want = packet.encode(version, &mut want).map(|_| want);
            let mut out = vec![0xEE; bytes.len() + 16];
            match (view.encode(version, &mut out), want) {
                (Ok(written), Ok(want)) => assert_eq!(&out[..written], &want[..]),
                (Err(a), Err(b)) => {
                    assert_eq!(a, b);
                    assert!(out.iter().all(|&b| b == 0xEE), "written before {a:?}");
                }
                (a, b) => panic!("borrowed encode {a:?}, owned {b:?}"),
            }
        }
        (Ok(Decoded::Partial { needed }), Err(e)) => {
            assert_eq!(e.kind(), &DecodeErrorKind::Incomplete { needed });
        }
        (Err(a), Err(b)) => assert_eq!(&a, b),
        (a, b) => panic!("PacketRef::decode gave {a:?}, Packet::decode {b:?}"),
    }
}
