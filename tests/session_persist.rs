//! Saving a `SessionState` and restoring it: the restored session behaves exactly like the
//! saved one (same packets on the wire, same events, for a client and a server), and bytes
//! that are not a whole, unchanged saved session are refused with an error, never a panic
//! or a partly built state.

#[path = "fixtures/sealed_session.rs"]
mod sealed_session;
mod session_util;

use bytes::BytesMut;
use core::num::NonZeroU16;
use mqttwire::session::{Client, RestoreError, SessionConfig, SessionState};
use mqttwire::{Packet, PacketType, ProtocolVersion, QoS};
use sealed_session::sealed;
use session_util::{message, Dir, Pair};

const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V3_1_1, ProtocolVersion::V5];

fn save(state: &SessionState) -> BytesMut {
    let mut buf = BytesMut::new();
    let n = state.save(&mut buf).unwrap();
    assert_eq!(n, buf.len());
    buf
}

/// A pair whose client holds a message in every stage when the link drops: a QoS 1 and a
/// QoS 2 PUBLISH sent and unacknowledged, a QoS 2 past PUBREC (its PUBREL lost), one
/// queued behind the server's Receive Maximum (5.0) and never sent, and a QoS 2 message
/// received from the server, unacknowledged by the application (manual acknowledgement)
/// and another acknowledged, both awaiting PUBREL. The server keeps its side.
fn pair_with_every_stage(version: ProtocolVersion) -> Pair {
    let mut client_config = SessionConfig::default();
    client_config.manual_acks = true;
    let mut server_config = SessionConfig::default();
    server_config.receive_maximum = NonZeroU16::new(3).unwrap();
    let mut pair = Pair::with_configs(version, client_config, server_config);
    pair.connect(false);
    let released = pair
        .client
        .publish(QoS::ExactlyOnce, message("t/a", "released"))
        .unwrap()
        .unwrap();
    pair.deliver_to_server(); // PUBLISH; the server answers PUBREC
    pair.deliver_to_client(); // PUBREC; the client answers PUBREL, which is lost below
    assert!(pair
        .client
        .session()
        .unacknowledged_ids()
        .any(|id| id == released));
    pair.client
        .publish(QoS::AtLeastOnce, message("t/b", "sent q1"))
        .unwrap();
    pair.client
        .publish(QoS::ExactlyOnce, message("t/c", "sent q2"))
        .unwrap();
    pair.client
        .publish(QoS::AtLeastOnce, message("t/d", "queued"))
        .unwrap();
    pair.flush();
    pair.to_server.clear(); // lost with the link, as is the PUBREL
    let a = pair
        .server
        .publish(QoS::ExactlyOnce, message("t/e", "in, unacked"))
        .unwrap()
        .unwrap();
    let b = pair
        .server
        .publish(QoS::ExactlyOnce, message("t/f", "in, acked"))
        .unwrap()
        .unwrap();
    pair.deliver_to_client();
    pair.deliver_to_client();
    pair.client.ack(b).unwrap_or_else(|_| panic!("ack {b}"));
    let _ = a;
    pair.drop_link();
    pair
}

/// Runs `pair` with its client's session replaced by `state` through a resume to
/// quiescence, acknowledging everything the application holds; returns what crossed and
/// what the client reported.
fn resume(mut pair: Pair, state: SessionState) -> (Vec<(Dir, Packet)>, Vec<String>) {
    let config = pair.client.config().clone();
    pair.client = Client::with_session(config, state);
    let mark = pair.log.len();
    let events = pair.client_events.len();
    pair.connect(false);
    pair.run();
    for id in 1..=u16::MAX {
        if let Some(id) = mqttwire::PacketId::new(id) {
            if pair.client.ack(id).is_ok() {
                pair.run();
            }
        }
    }
    let crossed = pair.log[mark..]
        .iter()
        .map(|c| (c.dir, c.packet.clone()))
        .collect();
    let reported = pair.client_events[events..]
        .iter()
        .map(|e| format!("{e:?}"))
        .collect();
    (crossed, reported)
}

#[test]
fn a_restored_client_session_resumes_exactly_like_the_saved_one() {
    for version in VERSIONS {
        let mut pair = pair_with_every_stage(version);
        let state = pair.client.take_session();
        assert!(state.unacknowledged() >= 4, "{version:?}: {state:?}");
        assert_eq!(state.incomplete_incoming(), 2, "{version:?}: {state:?}");
        let saved = save(&state);
        let restored = SessionState::restore(&saved).unwrap();
        assert_eq!(save(&restored), saved, "{version:?}: save(restore(x)) != x");
        assert_eq!(format!("{restored:?}"), format!("{state:?}"));

        let twin = pair_with_every_stage(version);
        let original = resume(pair, state);
        let from_bytes = resume(twin, restored);
        assert_eq!(original, from_bytes, "{version:?}");
        // And the resume did the work: every message arrived, nothing is left.
        assert!(
            original
                .0
                .iter()
                .any(|(d, p)| *d == Dir::ToServer && matches!(p, Packet::PubRel(_))),
            "{version:?}: {:?}",
            original.0
        );
        assert!(
            original
                .0
                .iter()
                .filter(|(d, p)| *d == Dir::ToServer && p.packet_type() == PacketType::Publish)
                .all(|(_, p)| matches!(p, Packet::Publish(p) if p.dup
                    || &p.payload[..] == b"queued")),
            "{version:?}"
        );
    }
}

/// The server's side: the state it keeps for an offline client survives a restart of
/// the broker too.
#[test]
fn a_restored_server_session_resumes_exactly_like_the_saved_one() {
    for version in VERSIONS {
        let mut pair = pair_with_every_stage(version);
        let stored = pair.stored.take().expect("the broker kept the session");
        assert!(!stored.is_empty());
        let saved = save(&stored);
        let restored = SessionState::restore(&saved).unwrap();
        assert_eq!(save(&restored), saved);
        let mut twin = pair_with_every_stage(version);
        twin.stored = Some(restored);
        pair.stored = Some(stored);
        let a = pair.client.take_session();
        let b = twin.client.take_session();
        assert_eq!(resume(pair, a), resume(twin, b), "{version:?}");
    }
}

#[test]
fn every_truncation_of_a_saved_session_is_refused() {
    let mut pair = pair_with_every_stage(ProtocolVersion::V5);
    let saved = save(&pair.client.take_session());
    for len in 0..saved.len() {
        let error = SessionState::restore(&saved[..len]).unwrap_err();
        assert!(
            matches!(
                error,
                RestoreError::NotASession | RestoreError::Truncated { .. }
            ),
            "{len}: {error}"
        );
    }
}

#[test]
fn every_changed_bit_of_a_saved_session_is_refused() {
    let mut pair = pair_with_every_stage(ProtocolVersion::V5);
    let saved = save(&pair.client.take_session());
    for bit in 0..saved.len() * 8 {
        let mut bytes = saved.to_vec();
        bytes[bit / 8] ^= 1 << (bit % 8);
        assert!(SessionState::restore(&bytes).is_err(), "bit {bit}");
    }
    let mut longer = saved.to_vec();
    longer.push(0);
    assert_eq!(
        SessionState::restore(&longer).unwrap_err(),
        RestoreError::TrailingBytes(1)
    );
}

/// Records that a checksum would not catch (bytes built by hand, with a valid checksum)
/// are still checked one by one.
#[test]
fn invalid_records_with_a_valid_checksum_are_refused() {
    assert!(SessionState::restore(&sealed(&[])).unwrap().is_empty());
    let ok =
        SessionState::restore(&sealed(&[0x01, 0x00, 0x07, 0x00, 0x03, 0x00, 0x07, 0x01])).unwrap();
    assert_eq!(ok.unacknowledged(), 1);
    assert_eq!(ok.incomplete_incoming(), 1);
    // A QoS 1 PUBLISH "t" id 9 "x" at 5.0: 32 05 00 01 74 00 09 00 78 (properties 0).
    let publish = [0x32, 0x07, 0x00, 0x01, b't', 0x00, 0x09, 0x00, b'x'];
    let with = |prefix: &[u8], packet: &[u8]| [prefix, packet].concat();
    for (records, what) in [
        (vec![0x04], "unknown kind"),
        (vec![0x01, 0x00], "cut short"),
        (vec![0x01, 0x00, 0x00, 0x00], "identifier 0"),
        (vec![0x01, 0x00, 0x07, 0x02], "flag bits"),
        (
            vec![0x01, 0x00, 0x07, 0x00, 0x01, 0x00, 0x07, 0x00],
            "twice",
        ),
        (
            vec![0x03, 0x00, 0x07, 0x00, 0x03, 0x00, 0x07, 0x00],
            "twice",
        ),
        (with(&[0x02, 0x00], &publish[..5]), "PUBLISH cut short"),
        (with(&[0x02, 0x02], &publish), "flag bits"),
        (
            with(&[0x02, 0x00], &[0x30, 0x05, 0x00, 0x01, b't', 0x00, b'x']),
            "QoS 0",
        ),
        (
            with(
                &[0x02, 0x00],
                &[0x3A, 0x07, 0x00, 0x01, b't', 0x00, 0x09, 0x00, b'x'],
            ),
            "DUP",
        ),
        (
            [with(&[0x02, 0x00], &publish), vec![0x01, 0x00, 0x09, 0x00]].concat(),
            "identifier twice across kinds",
        ),
        (
            with(&[0x02, 0x00], &[0x40, 0x02, 0x00, 0x09]),
            "not a PUBLISH",
        ),
    ] {
        let error = SessionState::restore(&sealed(&records)).unwrap_err();
        assert!(
            matches!(
                error,
                RestoreError::InvalidRecord { .. } | RestoreError::InvalidPublish { .. }
            ),
            "{what}: {error}"
        );
    }
    assert_eq!(
        SessionState::restore(b"MQSS\x02").unwrap_err(),
        RestoreError::UnsupportedFormat(2)
    );
    assert_eq!(
        SessionState::restore(b"{}").unwrap_err(),
        RestoreError::NotASession
    );
}
