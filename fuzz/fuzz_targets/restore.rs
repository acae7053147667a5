//! `restore`: arbitrary bytes into `SessionState::restore`, the bytes a process trusts when
//! it restarts.
//!
//! Input: the bytes to restore. Most inputs fail the checksum, so the first byte also
//! chooses, when it is odd, to seal the rest as a saved session (magic, format version,
//! length and a correct CRC-32 around it), which lets the fuzzer reach the record checks.
//!
//! Checked, besides "no panic":
//! - whatever restores saves again, and those bytes restore to a state that saves to the
//!   very same bytes (the saved form is canonical after one round);
//! - a restored state can be resumed: a client built on it connects at 3.1.1 and at 5.0
//!   (with a Receive Maximum of 1 and a small Maximum Packet Size), gets Session Present 1
//!   and hands out what it resends without panicking, and every PUBLISH it sends encodes.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mqttwire::session::{Client, Instant, SessionConfig, SessionState};
use mqttwire::{ConnAck, Connect, ConnectReasonCode, MqttString, Packet, ProtocolVersion};
use std::num::{NonZeroU16, NonZeroU32};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let bytes = if first % 2 == 1 { seal(rest) } else { rest.to_vec() };
    let Ok(state) = SessionState::restore(&bytes) else {
        return;
    };
    let mut once = BytesMut::new();
    state.save(&mut once).expect("a restored state saves");
    let again = SessionState::restore(&once).expect("saved bytes restore");
    let mut twice = BytesMut::new();
    again.save(&mut twice).expect("a restored state saves");
    assert_eq!(once, twice, "the saved form is not canonical");

    for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
        let state = SessionState::restore(&once).expect("saved bytes restore");
        resume(state, version, first);
    }
});

fn resume(state: SessionState, version: ProtocolVersion, knob: u8) {
    let now = Instant::ZERO;
    let mut client = Client::with_session(SessionConfig::default(), state);
    let mut connect = Connect::new(version, MqttString::new("fuzz").unwrap());
    connect.clean_start = false;
    client.connect(now, connect).unwrap();
    while client.poll_transmit(now).is_some() {}
    let mut ack = ConnAck::new(ConnectReasonCode::Success);
    ack.session_present = true;
    if version.is_v5() {
        ack.properties.receive_maximum = NonZeroU16::new(1 + u16::from(knob >> 4));
        ack.properties.maximum_packet_size = NonZeroU32::new(16 + 8 * u32::from(knob >> 1));
    }
    client
        .handle_incoming(now, Packet::ConnAck(ack))
        .expect("a plain CONNACK is accepted");
    let mut buf = BytesMut::new();
    while let Some(packet) = client.poll_transmit(now) {
        packet
            .encode(version, &mut buf)
            .unwrap_or_else(|e| panic!("{packet:?} does not encode at {version:?}: {e}"));
    }
    while client.poll_event().is_some() {}
}

/// `records` as a saved session: header, records and the CRC-32 the format documents.
fn seal(records: &[u8]) -> Vec<u8> {
    let mut bytes = b"MQSS\x01".to_vec();
    bytes.extend_from_slice(&(records.len() as u64).to_be_bytes());
    bytes.extend_from_slice(records);
    let mut crc = !0u32;
    for &b in &bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    bytes.extend_from_slice(&(!crc).to_be_bytes());
    bytes
}
