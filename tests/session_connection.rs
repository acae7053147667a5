//! Session engine scenarios: connection set-up and tear-down, flow control (Receive
//! Maximum), topic aliases, Maximum Packet Size and keep alive, for the client and the
//! server role, in MQTT 3.1.1 and 5.0.
//!
//! Rule tags follow /work/shared/spec/CONFORMANCE.md and are per version: a test of 5.0
//! behaviour cites the 5.0 tag, a test of 3.1.1 behaviour the 3.1.1 tag (section 15.2 of
//! the checklist lists the numbers that mean different rules in the two versions).
//! "untagged §x" marks normative text without a number.

mod session_util;

use bytes::{Bytes, BytesMut};
use core::num::{NonZeroU16, NonZeroU32};
use mqttwire::properties::{AckProperties, ConnAckProperties, SubscribeProperties};
use mqttwire::session::{
    Client, Connected, DisconnectCause, Event, Instant, ProtocolError, Server, Session,
    SessionConfig, SessionError,
};
use mqttwire::{
    Auth, AuthReasonCode, ConnAck, Connect, ConnectReasonCode, DecodeErrorKind, Disconnect,
    DisconnectReasonCode, MqttString, Packet, PacketId, PacketType, ProtocolVersion, PubAck,
    PubAckReasonCode, PubRel, Publish, QoS, QosPid, ReasonCode, SubAckReasonCode, Subscription,
    TopicFilter, TopicName, Will, MAX_PACKET_SIZE,
};
use session_util::{message, topic, Dir, Pair};
use std::time::Duration;

const V3: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;
const BOTH: [ProtocolVersion; 2] = [V3, V5];

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn pid(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

fn mstr(s: &str) -> MqttString {
    MqttString::new(s).unwrap()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// The bytes `packet` encodes to at `version`.
fn wire(packet: &Packet, version: ProtocolVersion) -> Vec<u8> {
    let mut out = Vec::new();
    packet.encode(version, &mut out).unwrap();
    out
}

/// Decodes one packet from a hand-written byte vector.
fn parse(version: ProtocolVersion, bytes: &[u8]) -> Packet {
    let (packet, used) = Packet::decode_slice(bytes, version).unwrap();
    assert_eq!(used, bytes.len(), "one whole packet");
    packet
}

/// Everything the session has to send, in order.
fn drain<R>(session: &mut Session<R>, now: Instant) -> Vec<Packet> {
    std::iter::from_fn(|| session.poll_transmit(now)).collect()
}

/// Everything the session has to send, encoded as it would go on the wire.
fn drain_bytes<R>(session: &mut Session<R>, now: Instant) -> Vec<Vec<u8>> {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    while session.poll_transmit_into(now, &mut buf).unwrap().is_some() {
        out.push(buf.split().to_vec());
    }
    out
}

fn events<R>(session: &mut Session<R>) -> Vec<Event> {
    std::iter::from_fn(|| session.poll_event()).collect()
}

/// The encoded packets of type `ty` that crossed towards `dir`.
fn crossed_bytes(pair: &Pair, dir: Dir, ty: PacketType) -> Vec<Vec<u8>> {
    pair.log
        .iter()
        .filter(|c| c.dir == dir && c.packet.packet_type() == ty)
        .map(|c| c.bytes.to_vec())
        .collect()
}

/// The types of every packet that crossed towards `dir`, in order.
fn crossed_types(pair: &Pair, dir: Dir) -> Vec<PacketType> {
    pair.log
        .iter()
        .filter(|c| c.dir == dir)
        .map(|c| c.packet.packet_type())
        .collect()
}

fn publishes(pair: &Pair, dir: Dir) -> Vec<Publish> {
    pair.crossed(dir, PacketType::Publish)
        .into_iter()
        .map(|p| match p {
            Packet::Publish(p) => p,
            other => panic!("{other:?}"),
        })
        .collect()
}

fn connected(events: &[Event]) -> &Connected {
    events
        .iter()
        .find_map(|e| match e {
            Event::Connected(c) => Some(c),
            _ => None,
        })
        .expect("an Event::Connected")
}

fn last_connected(events: &[Event]) -> &Connected {
    events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Connected(c) => Some(c),
            _ => None,
        })
        .expect("an Event::Connected")
}

/// The cause of the (only) Event::Disconnected.
fn disconnect_cause(events: &[Event]) -> &DisconnectCause {
    let mut causes = events.iter().filter_map(|e| match e {
        Event::Disconnected(cause) => Some(cause),
        _ => None,
    });
    let cause = causes.next().expect("an Event::Disconnected");
    assert!(
        causes.next().is_none(),
        "one Event::Disconnected: {events:?}"
    );
    cause
}

fn violation(events: &[Event]) -> ProtocolError {
    match disconnect_cause(events) {
        DisconnectCause::ProtocolViolation(e) => *e,
        other => panic!("expected a protocol violation, got {other:?}"),
    }
}

fn delivered(events: &[Event]) -> Vec<(String, Bytes)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message(p) => Some((p.topic.as_str().to_owned(), p.payload.clone())),
            _ => None,
        })
        .collect()
}

fn config(f: impl FnOnce(&mut SessionConfig)) -> SessionConfig {
    let mut c = SessionConfig::default();
    f(&mut c);
    c
}

fn nz16(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap()
}

fn nz32(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

/// A hand-made PUBLISH as a peer would send it.
fn publish_packet(t: &str, payload: &'static str, qos: QosPid) -> Packet {
    let mut p = Publish::new(topic(t), payload);
    p.qos = qos;
    Packet::Publish(p)
}

fn aliased(t: &str, alias: u16, payload: &'static str) -> Packet {
    let mut p = Publish::new(
        if t.is_empty() {
            TopicName::default()
        } else {
            topic(t)
        },
        payload,
    );
    p.properties.topic_alias = Some(nz16(alias));
    Packet::Publish(p)
}

/// A client whose CONNECT (client id "c1", keep alive 10) has been sent at `now`.
fn connecting_client(version: ProtocolVersion, clean_start: bool, now: Instant) -> Client {
    let mut client = Client::new(SessionConfig::default());
    let mut connect = Connect::new(version, mstr("c1"));
    connect.clean_start = clean_start;
    connect.keep_alive = 10;
    client.connect(now, connect).unwrap();
    let sent = drain(&mut client, now);
    assert!(matches!(sent[..], [Packet::Connect(_)]), "{sent:?}");
    client
}

/// A server that received `connect` at `now` and holds the ConnectRequest (not answered).
fn requested_server(config: SessionConfig, connect: Connect, now: Instant) -> Server {
    let mut server = Server::new(config);
    server.handle_incoming(now, Packet::from(connect)).unwrap();
    let ev = events(&mut server);
    assert!(
        matches!(ev[..], [Event::ConnectRequest(_)]),
        "expected a ConnectRequest: {ev:?}"
    );
    server
}

/// A server that accepted `connect` at `now` and sent its CONNACK.
fn accepted_server(config: SessionConfig, connect: Connect, now: Instant) -> Server {
    let mut server = requested_server(config, connect, now);
    server.accept(None, ConnAckProperties::default()).unwrap();
    let sent = drain(&mut server, now);
    assert!(matches!(sent[..], [Packet::ConnAck(_)]), "{sent:?}");
    let ev = events(&mut server);
    assert!(matches!(ev[..], [Event::Connected(_)]), "{ev:?}");
    server
}

fn connect_v(version: ProtocolVersion, keep_alive: u16) -> Connect {
    let mut c = Connect::new(version, mstr("c1"));
    c.keep_alive = keep_alive;
    c
}

/// A pair whose server side is answered by the test, connected through `accept`.
fn pair_accepting(pair: &mut Pair, connect: Connect, properties: ConnAckProperties) {
    pair.auto_answer = false;
    pair.client.connect(pair.now, connect).unwrap();
    pair.run();
    assert!(matches!(
        pair.server_events.last(),
        Some(Event::ConnectRequest(_))
    ));
    pair.server.accept(None, properties).unwrap();
    pair.run();
    assert!(pair.client.is_connected() && pair.server.is_connected());
}

// ---------------------------------------------------------------------------------------
// CONNECT / CONNACK negotiation
// ---------------------------------------------------------------------------------------

/// A 5.0 pair whose sides configured different limits, connected with an empty client id
/// (the server assigns "x1") and Keep Alive 10.
fn negotiated_v5_pair() -> Pair {
    let client_config = config(|c| {
        c.receive_maximum = nz16(5);
        c.maximum_packet_size = nz32(2_000);
        c.topic_alias_maximum = 3;
    });
    let server_config = config(|c| {
        c.receive_maximum = nz16(7);
        c.maximum_packet_size = nz32(3_000);
        c.topic_alias_maximum = 4;
        c.maximum_qos = QoS::AtLeastOnce;
        c.retain_available = false;
        c.server_keep_alive = Some(5);
    });
    let mut pair = Pair::with_configs(V5, client_config, server_config);
    let mut connect = Connect::new(V5, MqttString::default());
    connect.keep_alive = 10;
    let mut props = ConnAckProperties::default();
    props.set_assigned_client_identifier(Some(mstr("x1")));
    pair_accepting(&mut pair, connect, props);
    pair
}

/// 5.0 untagged §3.1.2.11.3-§3.1.2.11.5 and §3.2.2.3: each side announces its own Receive
/// Maximum, Maximum Packet Size and Topic Alias Maximum (the server also Maximum QoS,
/// Retain Available and Server Keep Alive); MQTT-3.2.2-16 Assigned Client Identifier.
#[test]
fn v5_connect_and_connack_carry_each_sides_configured_limits() {
    let pair = negotiated_v5_pair();

    #[rustfmt::skip]
    let connect_bytes = [
        0x10, 0x18, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x0A,
        0x0B, // properties:
        0x21, 0x00, 0x05, // Receive Maximum 5
        0x27, 0x00, 0x00, 0x07, 0xD0, // Maximum Packet Size 2000
        0x22, 0x00, 0x03, // Topic Alias Maximum 3
        0x00, 0x00, // empty client id
    ];
    assert_eq!(
        crossed_bytes(&pair, Dir::ToServer, PacketType::Connect),
        [connect_bytes.to_vec()]
    );
    #[rustfmt::skip]
    let connack_bytes = [
        0x20, 0x1A, 0x00, 0x00,
        0x17, // properties:
        0x21, 0x00, 0x07, // Receive Maximum 7
        0x24, 0x01, // Maximum QoS 1
        0x25, 0x00, // Retain Available 0
        0x27, 0x00, 0x00, 0x0B, 0xB8, // Maximum Packet Size 3000
        0x22, 0x00, 0x04, // Topic Alias Maximum 4
        0x13, 0x00, 0x05, // Server Keep Alive 5
        0x12, 0x00, 0x02, b'x', b'1', // Assigned Client Identifier "x1"
    ];
    assert_eq!(
        crossed_bytes(&pair, Dir::ToClient, PacketType::ConnAck),
        [connack_bytes.to_vec()]
    );
}

/// The client's Event::Connected reports the limits the server announced; Server Keep
/// Alive replaces the client's (5.0 MQTT-3.2.2-21); the server's reports the client's.
#[test]
fn v5_connected_events_report_the_negotiated_limits() {
    let pair = negotiated_v5_pair();

    let c = connected(&pair.client_events);
    assert_eq!(c.protocol_version, V5);
    assert!(!c.session_present);
    assert_eq!(c.send_quota, 7);
    assert_eq!(c.max_outgoing_packet_size, 3_000);
    assert_eq!(c.peer_topic_alias_maximum, 4);
    assert_eq!(c.maximum_qos, QoS::AtLeastOnce);
    assert!(!c.retain_available);
    assert_eq!(c.keep_alive, secs(5), "Server Keep Alive wins");
    assert_eq!(c.assigned_client_id, Some(mstr("x1")));
    assert_eq!(c.session_expiry_interval, 0);
    assert_eq!(pair.client.max_outgoing_packet_size(), 3_000);

    let s = connected(&pair.server_events);
    assert_eq!(s.send_quota, 5);
    assert_eq!(s.max_outgoing_packet_size, 2_000);
    assert_eq!(s.peer_topic_alias_maximum, 3);
    assert_eq!(s.keep_alive, secs(5));
    assert_eq!(s.assigned_client_id, Some(mstr("x1")));
    assert_eq!(pair.server.max_outgoing_packet_size(), 2_000);
}

/// 3.1.1 has no properties: CONNECT carries none whatever the configuration, CONNACK is
/// `20 02 00 00` (3.1.1 MQTT-3.1.4-4), and the limits are the protocol's.
#[test]
fn v3_connect_has_no_properties_and_connected_reports_protocol_defaults() {
    let client_config = config(|c| {
        c.receive_maximum = nz16(5);
        c.topic_alias_maximum = 3;
    });
    let server_config = config(|c| {
        c.receive_maximum = nz16(7);
        c.server_keep_alive = Some(5);
    });
    let mut pair = Pair::with_configs(V3, client_config, server_config);
    pair.connect(true);
    assert_eq!(
        crossed_bytes(&pair, Dir::ToServer, PacketType::Connect),
        [vec![
            0x10, 0x0E, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x0A, 0x00, 0x02,
            b'c', b'1'
        ]]
    );
    assert_eq!(
        crossed_bytes(&pair, Dir::ToClient, PacketType::ConnAck),
        [vec![0x20, 0x02, 0x00, 0x00]]
    );
    let c = connected(&pair.client_events);
    assert_eq!(c.protocol_version, V3);
    assert_eq!(c.send_quota, u16::MAX);
    assert_eq!(c.max_outgoing_packet_size, MAX_PACKET_SIZE);
    assert_eq!(c.peer_topic_alias_maximum, 0);
    assert_eq!(c.maximum_qos, QoS::ExactlyOnce);
    assert!(c.retain_available);
    assert_eq!(c.keep_alive, secs(10), "no Server Keep Alive below 5.0");
    assert_eq!(connected(&pair.server_events).keep_alive, secs(10));
}

// ---------------------------------------------------------------------------------------
// Server role: CONNECT handling
// ---------------------------------------------------------------------------------------

/// 3.1.1+5.0 MQTT-3.1.0-1: the first packet must be CONNECT; a server sends nothing back
/// (no DISCONNECT before CONNACK, 5.0 MQTT-3.14.0-1).
#[test]
fn server_refuses_a_first_packet_that_is_not_connect_mqtt_3_1_0_1() {
    for first in [
        Packet::PingReq,
        publish_packet("a", "x", QosPid::AtMostOnce),
        Packet::Disconnect(Disconnect::new(DisconnectReasonCode::NormalDisconnection)),
    ] {
        let now = Instant::from_millis(1);
        let mut server = Server::new(SessionConfig::default());
        let err = server.handle_incoming(now, first.clone()).unwrap_err();
        assert_eq!(err.rule(), Some("MQTT-3.1.0-1"), "{first:?}");
        assert_eq!(err.reason_code(), DisconnectReasonCode::ProtocolError);
        assert!(drain(&mut server, now).is_empty(), "nothing is sent");
        assert!(!server.is_connected());
        assert!(
            !events(&mut server)
                .iter()
                .any(|e| matches!(e, Event::ConnectRequest(_) | Event::Message(_))),
            "nothing is processed"
        );
    }
}

/// After the MQTT-3.1.0-1 violation the connection is over (3.1.1 MQTT-4.8.0-1, 5.0
/// MQTT-4.13.1-1): the session reports Event::Disconnected, and a CONNECT arriving
/// afterwards on the same connection is not processed. Likewise for bytes the decoder
/// refuses before any CONNECT: nothing is sent (no CONNACK was), the connection ends.
#[test]
fn server_connection_is_over_after_a_first_packet_that_is_not_connect_mqtt_3_1_0_1() {
    for version in BOTH {
        let now = Instant::from_millis(1);
        let mut server = Server::new(SessionConfig::default());
        let err = server.handle_incoming(now, Packet::PingReq).unwrap_err();
        assert_eq!(
            disconnect_cause(&events(&mut server)),
            &DisconnectCause::ProtocolViolation(err)
        );
        // The caller may be slow to close: the session must not act on more input.
        server
            .handle_incoming(now, Packet::from(connect_v(version, 10)))
            .unwrap();
        assert!(events(&mut server).is_empty(), "{version:?}");
        assert!(drain(&mut server, now).is_empty());
        assert_eq!(
            server
                .accept(None, ConnAckProperties::default())
                .map_err(|e| e.error().clone()),
            Err(SessionError::NotConnected)
        );
    }
    // A reserved packet type 0 as the first byte.
    let mut decoder = SessionConfig::default().server_decoder();
    let err = decoder
        .decode(&mut BytesMut::from(&[0x00, 0x00][..]))
        .expect_err("packet type 0 is reserved");
    let mut server = Server::new(SessionConfig::default());
    let violation_err = server.handle_decode_error(&err);
    assert!(drain(&mut server, Instant::ZERO).is_empty());
    assert_eq!(
        disconnect_cause(&events(&mut server)),
        &DisconnectCause::ProtocolViolation(violation_err)
    );
}

/// 3.1.1+5.0 MQTT-3.1.0-2: a second CONNECT is a protocol violation: 5.0 sends
/// DISCONNECT 0x82 (`E0 01 82`), 3.1.1 just closes.
#[test]
fn server_second_connect_is_a_protocol_error_mqtt_3_1_0_2() {
    for version in BOTH {
        let mut pair = Pair::new(version);
        pair.connect(true);
        let again = pair.connect_packet(true);
        let err = pair
            .server
            .handle_incoming(pair.now, Packet::from(again))
            .unwrap_err();
        assert_eq!(err.rule(), Some("MQTT-3.1.0-2"));
        assert_eq!(err.reason_code(), DisconnectReasonCode::ProtocolError);
        let sent = drain_bytes(&mut pair.server, pair.now);
        if version.is_v5() {
            assert_eq!(sent, [vec![0xE0, 0x01, 0x82]]);
        } else {
            assert!(sent.is_empty(), "3.1.1 closes without a packet");
        }
        assert!(!pair.server.is_connected());
        assert_eq!(
            violation(&events(&mut pair.server)).rule(),
            Some("MQTT-3.1.0-2")
        );
    }
}

/// 5.0 MQTT-3.1.0-2 before the application answered the first CONNECT: no DISCONNECT
/// goes out before a CONNACK (5.0 MQTT-3.14.0-1). Like any packet pipelined after the
/// CONNECT, the second one waits for the answer: once accepted, the connection ends with
/// CONNACK then DISCONNECT 0x82, as if it had arrived after the CONNACK. During enhanced
/// authentication (no CONNACK can come first) the connection ends at once, silently.
#[test]
fn v5_server_second_connect_before_connack_sends_no_disconnect_before_connack_mqtt_3_14_0_1() {
    let now = Instant::from_millis(1);
    let mut server = requested_server(SessionConfig::default(), connect_v(V5, 10), now);
    server
        .handle_incoming(now, Packet::from(connect_v(V5, 10)))
        .unwrap();
    assert!(
        drain(&mut server, now).is_empty(),
        "no DISCONNECT, no CONNACK"
    );
    assert!(events(&mut server).is_empty(), "held until the answer");
    server.accept(None, ConnAckProperties::default()).unwrap();
    let sent = drain(&mut server, now);
    assert!(
        matches!(&sent[..], [Packet::ConnAck(_), Packet::Disconnect(d)]
            if d.reason_code == DisconnectReasonCode::ProtocolError),
        "{sent:?}"
    );
    let err = violation(&events(&mut server));
    assert_eq!(err.rule(), Some("MQTT-3.1.0-2"));
    assert!(!server.is_connected());

    let mut connect = connect_v(V5, 10);
    connect
        .properties
        .set_authentication_method(Some(mstr("M")));
    let mut server = requested_server(SessionConfig::default(), connect, now);
    let err = server
        .handle_incoming(now, Packet::from(connect_v(V5, 10)))
        .unwrap_err();
    assert_eq!(err.rule(), Some("MQTT-3.1.0-2"));
    assert!(
        drain(&mut server, now).is_empty(),
        "no DISCONNECT, no CONNACK"
    );
    assert_eq!(violation(&events(&mut server)), err);
    assert_eq!(
        server
            .accept(None, ConnAckProperties::default())
            .map_err(|e| e.error().clone()),
        Err(SessionError::NotConnected),
        "nothing left to accept"
    );
}

/// 3.1.1 MQTT-3.1.3-8: an empty client id with Clean Session 0 is answered with CONNACK
/// return code 2 (`20 02 00 02`), then the connection closes; the application is not
/// asked. The input is the checklist's `C4(00)`.
#[test]
fn v3_server_refuses_empty_client_id_without_clean_session_with_code_2_mqtt_3_1_3_8() {
    let now = Instant::from_millis(1);
    let c4_00 = [
        0x10, 0x0C, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x00, 0x00, 0x3C, 0x00, 0x00,
    ];
    let mut server = Server::new(SessionConfig::default());
    server.handle_incoming(now, parse(V3, &c4_00)).unwrap();
    assert_eq!(
        drain_bytes(&mut server, now),
        [vec![0x20, 0x02, 0x00, 0x02]]
    );
    let ev = events(&mut server);
    assert!(!ev.iter().any(|e| matches!(e, Event::ConnectRequest(_))));
    assert_eq!(
        disconnect_cause(&ev),
        &DisconnectCause::Rejected(ConnectReasonCode::ClientIdentifierNotValid)
    );
    assert!(!server.is_connected());
    // Nothing else on this connection is processed (3.1.1 MQTT-3.1.4-5).
    server
        .handle_incoming(now, publish_packet("a", "x", QosPid::AtLeastOnce(pid(1))))
        .unwrap();
    assert!(events(&mut server).is_empty());
    assert!(drain(&mut server, now).is_empty());
}

/// MQTT 3.1 (untagged): a client identifier is 1 to 23 characters; a server answers any
/// other with CONNACK return code 2, Clean Session or not, without asking the application.
/// One of 23 characters is taken.
#[test]
fn v3_1_server_refuses_client_id_not_of_1_to_23_characters_with_code_2() {
    let now = Instant::from_millis(1);
    let connect = |id: &str, clean: bool| {
        let mut bytes = vec![0x10, 0, 0x00, 0x06];
        bytes.extend_from_slice(b"MQIsdp");
        bytes.extend_from_slice(&[0x03, if clean { 0x02 } else { 0x00 }, 0x00, 0x3C]);
        bytes.extend_from_slice(&(id.len() as u16).to_be_bytes());
        bytes.extend_from_slice(id.as_bytes());
        bytes[1] = (bytes.len() - 2) as u8;
        bytes
    };
    for id in ["", "abcdefghijklmnopqrstuvwx"] {
        for clean in [false, true] {
            let mut server = Server::new(SessionConfig::default());
            server
                .handle_incoming(now, parse(ProtocolVersion::V3_1, &connect(id, clean)))
                .unwrap();
            assert_eq!(
                drain_bytes(&mut server, now),
                [vec![0x20, 0x02, 0x00, 0x02]],
                "{id:?} {clean}"
            );
            let ev = events(&mut server);
            assert!(!ev.iter().any(|e| matches!(e, Event::ConnectRequest(_))));
            assert!(!server.is_connected());
        }
    }
    let mut server = Server::new(SessionConfig::default());
    server
        .handle_incoming(
            now,
            parse(
                ProtocolVersion::V3_1,
                &connect("abcdefghijklmnopqrstuvw", false),
            ),
        )
        .unwrap();
    assert!(events(&mut server)
        .iter()
        .any(|e| matches!(e, Event::ConnectRequest(_))));
}

/// `reject` sends CONNACK with the code and ends the connection (5.0 MQTT-3.2.2-7, 3.1.1
/// MQTT-3.2.2-5); packets the client sent after CONNECT are never processed (5.0
/// MQTT-3.1.4-6, 3.1.1 MQTT-3.1.4-5); the client reports the refusal.
#[test]
fn server_reject_sends_connack_with_the_code_then_ends_the_connection() {
    for version in BOTH {
        let mut pair = Pair::new(version);
        pair.auto_answer = false;
        let connect = pair.connect_packet(true);
        pair.client.connect(pair.now, connect).unwrap();
        pair.deliver_to_server();
        // A PUBLISH the client sent before it saw the answer.
        pair.server
            .handle_incoming(pair.now, publish_packet("a", "x", QosPid::AtMostOnce))
            .unwrap();
        let refused = pair.server.reject(ConnectReasonCode::Success);
        if version.is_v5() {
            assert_eq!(
                refused,
                Err(SessionError::Forbidden {
                    what: "refusing a connection with a success code",
                    rule: "MQTT-3.2.2-7",
                })
            );
        } else {
            // (The engine cites the 5.0 tag here too; 3.1.1 has no MQTT-3.2.2-7.)
            assert!(matches!(refused, Err(SessionError::Forbidden { .. })));
        }
        pair.server
            .reject(ConnectReasonCode::NotAuthorized)
            .unwrap();
        pair.run();
        let expected = if version.is_v5() {
            vec![0x20, 0x03, 0x00, 0x87, 0x00]
        } else {
            vec![0x20, 0x02, 0x00, 0x05]
        };
        assert_eq!(
            crossed_bytes(&pair, Dir::ToClient, PacketType::ConnAck),
            [expected]
        );
        assert_eq!(pair.log.len(), 2, "CONNECT and CONNACK only");
        assert!(!pair.server.is_connected());
        assert!(pair.server_messages().is_empty(), "the PUBLISH is dropped");
        assert_eq!(
            disconnect_cause(&pair.server_events),
            &DisconnectCause::Rejected(ConnectReasonCode::NotAuthorized)
        );
        assert_eq!(
            pair.server.reject(ConnectReasonCode::NotAuthorized),
            Err(SessionError::NotConnected)
        );
    }
}

/// 3.1.1 MQTT-3.2.2-6: a refusal with no 3.1.1 return code closes without CONNACK.
#[test]
fn v3_server_reject_without_a_return_code_closes_without_connack_mqtt_3_2_2_6() {
    let now = Instant::from_millis(1);
    let mut server = requested_server(SessionConfig::default(), connect_v(V3, 10), now);
    server.reject(ConnectReasonCode::Banned).unwrap();
    assert!(drain(&mut server, now).is_empty());
    assert_eq!(
        disconnect_cause(&events(&mut server)),
        &DisconnectCause::Rejected(ConnectReasonCode::Banned)
    );
}

/// 5.0 MQTT-3.2.2-12: a Will QoS above the server's Maximum QoS is refused with CONNACK
/// 0x9B (`20 03 00 9B 00`) and the connection closes; the application is not asked.
#[test]
fn v5_server_refuses_will_qos_above_its_maximum_with_connack_9b_mqtt_3_2_2_12() {
    let now = Instant::from_millis(1);
    let mut server = Server::new(config(|c| c.maximum_qos = QoS::AtMostOnce));
    let mut connect = connect_v(V5, 10);
    let mut will = Will::new(topic("will/t"), "gone");
    will.qos = QoS::AtLeastOnce;
    connect.will = Some(will);
    server.handle_incoming(now, Packet::from(connect)).unwrap();
    assert_eq!(
        drain_bytes(&mut server, now),
        [vec![0x20, 0x03, 0x00, 0x9B, 0x00]]
    );
    let ev = events(&mut server);
    assert!(!ev.iter().any(|e| matches!(e, Event::ConnectRequest(_))));
    assert_eq!(
        disconnect_cause(&ev),
        &DisconnectCause::Rejected(ConnectReasonCode::QoSNotSupported)
    );
}

/// 5.0 MQTT-3.2.2-13: a Will Retain when retained messages are unavailable is refused with
/// CONNACK 0x9A (`20 03 00 9A 00`).
#[test]
fn v5_server_refuses_will_retain_without_retain_available_with_connack_9a_mqtt_3_2_2_13() {
    let now = Instant::from_millis(1);
    let mut server = Server::new(config(|c| c.retain_available = false));
    let mut connect = connect_v(V5, 10);
    let mut will = Will::new(topic("will/t"), "gone");
    will.retain = true;
    connect.will = Some(will);
    server.handle_incoming(now, Packet::from(connect)).unwrap();
    assert_eq!(
        drain_bytes(&mut server, now),
        [vec![0x20, 0x03, 0x00, 0x9A, 0x00]]
    );
    assert_eq!(
        disconnect_cause(&events(&mut server)),
        &DisconnectCause::Rejected(ConnectReasonCode::RetainNotSupported)
    );
}

/// 5.0 MQTT-3.2.2-16: accepting an empty client id needs an Assigned Client Identifier;
/// without one `accept` is refused and nothing is sent; with one the CONNACK carries it
/// (`12 00 02 78 31`).
#[test]
fn v5_server_accepts_empty_client_id_only_with_an_assigned_id_mqtt_3_2_2_16() {
    let now = Instant::from_millis(1);
    let mut server = requested_server(
        SessionConfig::default(),
        Connect::new(V5, MqttString::default()),
        now,
    );
    assert_eq!(
        server
            .accept(None, ConnAckProperties::default())
            .map_err(|e| e.error().clone()),
        Err(SessionError::Forbidden {
            what: "accepting an empty client identifier without assigning one",
            rule: "MQTT-3.2.2-16",
        })
    );
    assert!(drain(&mut server, now).is_empty());
    assert!(!server.is_connected());
    let mut props = ConnAckProperties::default();
    props.set_assigned_client_identifier(Some(mstr("x1")));
    server.accept(None, props).unwrap();
    let sent = drain_bytes(&mut server, now);
    assert_eq!(sent.len(), 1);
    let connack = &sent[0];
    assert_eq!(connack[..4], [0x20, connack[1], 0x00, 0x00]);
    assert!(
        connack
            .windows(5)
            .any(|w| w == [0x12, 0x00, 0x02, b'x', b'1']),
        "{connack:02X?}"
    );
    assert!(server.is_connected());
}

/// 5.0 MQTT-3.14.0-1: before its CONNACK the server never sends DISCONNECT: the API
/// refuses it, and a client violation at that stage closes silently.
#[test]
fn v5_server_never_sends_disconnect_before_connack_mqtt_3_14_0_1() {
    let now = Instant::from_millis(1);
    let mut server = requested_server(SessionConfig::default(), connect_v(V5, 10), now);
    assert_eq!(
        server.disconnect(Disconnect::new(DisconnectReasonCode::NotAuthorized)),
        Err(SessionError::Forbidden {
            what: "DISCONNECT before CONNACK",
            rule: "MQTT-3.14.0-1",
        })
    );
    assert!(drain(&mut server, now).is_empty());

    // A CONNECT with an Authentication Method, then a PUBLISH during the authentication.
    let mut connect = connect_v(V5, 10);
    connect
        .properties
        .set_authentication_method(Some(mstr("M")));
    let mut server = requested_server(SessionConfig::default(), connect, now);
    let err = server
        .handle_incoming(now, publish_packet("a", "x", QosPid::AtMostOnce))
        .unwrap_err();
    assert_eq!(err.rule(), Some("MQTT-3.1.2-30"));
    assert!(drain(&mut server, now).is_empty(), "no DISCONNECT");
    assert_eq!(violation(&events(&mut server)), err);
}

// ---------------------------------------------------------------------------------------
// Client role: CONNACK handling
// ---------------------------------------------------------------------------------------

/// 5.0 MQTT-3.2.2-4 (3.1.1: the server broke MQTT-3.2.2-1): Session Present 1 after a
/// clean start is a protocol error; 5.0 sends DISCONNECT 0x82.
#[test]
fn client_session_present_after_clean_start_is_a_protocol_error() {
    for (version, rule) in [(V5, "MQTT-3.2.2-4"), (V3, "MQTT-3.2.2-1")] {
        let now = Instant::from_millis(1);
        let mut client = connecting_client(version, true, now);
        let mut ack = ConnAck::new(ConnectReasonCode::Success);
        ack.session_present = true;
        let err = client
            .handle_incoming(now, Packet::ConnAck(ack))
            .unwrap_err();
        assert_eq!(err.rule(), Some(rule), "{version:?}");
        assert_eq!(err.reason_code(), DisconnectReasonCode::ProtocolError);
        let sent = drain_bytes(&mut client, now);
        if version.is_v5() {
            assert_eq!(sent, [vec![0xE0, 0x01, 0x82]]);
        } else {
            assert!(sent.is_empty());
        }
        let ev = events(&mut client);
        assert!(!ev.iter().any(|e| matches!(e, Event::Connected(_))));
        assert_eq!(violation(&ev), err);
        assert!(!client.is_connected());
    }
}

/// A CONNACK with a failure code ends the connection (the server closes after it: 5.0
/// MQTT-3.2.2-7, 3.1.1 MQTT-3.2.2-5); the client reports DisconnectCause::Refused.
#[test]
fn client_reports_a_refusing_connack_as_refused() {
    for version in BOTH {
        let mut pair = Pair::new(version);
        pair.auto_answer = false;
        let connect = pair.connect_packet(true);
        pair.client.connect(pair.now, connect).unwrap();
        pair.run();
        pair.server
            .reject(ConnectReasonCode::BadUserNameOrPassword)
            .unwrap();
        pair.run();
        match disconnect_cause(&pair.client_events) {
            DisconnectCause::Refused(ack) => {
                assert_eq!(ack.reason_code, ConnectReasonCode::BadUserNameOrPassword);
                assert!(!ack.session_present);
            }
            other => panic!("{other:?}"),
        }
        assert!(!pair
            .client_events
            .iter()
            .any(|e| matches!(e, Event::Connected(_))));
        assert!(!pair.client.is_connected());
        assert_eq!(pair.client.poll_timeout(), None);
        assert_eq!(
            pair.client.publish(QoS::AtMostOnce, message("a", "x")),
            Err(SessionError::NotConnected)
        );
        assert_eq!(crossed_types(&pair, Dir::ToServer), [PacketType::Connect]);
    }
}

/// Before CONNACK only CONNACK (or, in 5.0, AUTH) may arrive: 5.0 MQTT-3.2.0-1 (CONNACK
/// before anything but AUTH) and 3.1.1 MQTT-3.2.0-1 (CONNACK is the server's first
/// packet), a "false friend" pair with the same number; anything else is a protocol error
/// (5.0: DISCONNECT 0x82).
#[test]
fn client_packet_other_than_connack_before_connack_is_a_protocol_error_mqtt_3_2_0_1() {
    for version in BOTH {
        for early in [
            publish_packet("a", "x", QosPid::AtMostOnce),
            Packet::PingResp,
            Packet::PubAck(PubAck::new(pid(1))),
        ] {
            let now = Instant::from_millis(1);
            let mut client = connecting_client(version, true, now);
            let err = client.handle_incoming(now, early.clone()).unwrap_err();
            assert_eq!(err.rule(), Some("MQTT-3.2.0-1"), "{version:?} {early:?}");
            let sent = drain_bytes(&mut client, now);
            if version.is_v5() {
                assert_eq!(sent, [vec![0xE0, 0x01, 0x82]]);
            } else {
                assert!(sent.is_empty());
            }
            let ev = events(&mut client);
            assert!(!ev.iter().any(|e| matches!(e, Event::Message(_))));
            assert_eq!(violation(&ev), err);
        }
    }
}

/// 5.0 MQTT-3.2.0-2: a second CONNACK is a protocol error; the client sends DISCONNECT
/// 0x82. 3.1.1 closes without a packet.
#[test]
fn client_second_connack_is_a_protocol_error_mqtt_3_2_0_2() {
    for version in BOTH {
        let mut pair = Pair::new(version);
        pair.connect(true);
        let err = pair
            .client
            .handle_incoming(
                pair.now,
                Packet::ConnAck(ConnAck::new(ConnectReasonCode::Success)),
            )
            .unwrap_err();
        assert_eq!(err.reason_code(), DisconnectReasonCode::ProtocolError);
        pair.run();
        if version.is_v5() {
            assert_eq!(err.rule(), Some("MQTT-3.2.0-2"));
            assert_eq!(
                crossed_bytes(&pair, Dir::ToServer, PacketType::Disconnect),
                [vec![0xE0, 0x01, 0x82]]
            );
            assert!(matches!(
                disconnect_cause(&pair.server_events),
                DisconnectCause::Peer(d) if d.reason_code == DisconnectReasonCode::ProtocolError
            ));
        } else {
            assert!(pair
                .crossed(Dir::ToServer, PacketType::Disconnect)
                .is_empty());
        }
        assert!(!pair.client.is_connected());
        pair.drain_events(); // nothing crossed in 3.1.1, so `run` did not collect them
        assert_eq!(violation(&pair.client_events), err);
    }
}

/// Untagged §3.1.4 (both versions): a client that gets no CONNACK in reasonable time
/// closes; here after `response_timeout`.
#[test]
fn client_gives_up_waiting_for_connack_after_the_response_timeout() {
    for version in BOTH {
        let t0 = Instant::from_millis(1_000);
        let mut client = connecting_client(version, true, t0);
        assert_eq!(client.poll_timeout(), Some(t0 + secs(30)));
        client.handle_timeout(t0 + Duration::from_millis(29_999));
        assert!(events(&mut client).is_empty());
        client.handle_timeout(t0 + secs(30));
        assert_eq!(
            disconnect_cause(&events(&mut client)),
            &DisconnectCause::KeepAliveTimeout
        );
        assert!(drain(&mut client, t0 + secs(30)).is_empty());
        assert_eq!(client.poll_timeout(), None);
    }
}

// ---------------------------------------------------------------------------------------
// Maximum QoS, Retain Available, Subscription Identifier (5.0)
// ---------------------------------------------------------------------------------------

/// 5.0 MQTT-3.2.2-11: after CONNACK `Maximum QoS 1` the client refuses to publish at QoS 2
/// and sends nothing; QoS 1 still works.
#[test]
fn v5_client_refuses_qos_above_the_servers_maximum_qos_mqtt_3_2_2_11() {
    let mut pair = Pair::with_configs(
        V5,
        SessionConfig::default(),
        config(|c| c.maximum_qos = QoS::AtLeastOnce),
    );
    pair.connect(true);
    let connack = &crossed_bytes(&pair, Dir::ToClient, PacketType::ConnAck)[0];
    assert!(
        connack.windows(2).any(|w| w == [0x24, 0x01]),
        "{connack:02X?}"
    );
    assert_eq!(
        pair.client.publish(QoS::ExactlyOnce, message("a", "x")),
        Err(SessionError::QosNotSupported {
            maximum: QoS::AtLeastOnce
        })
    );
    assert_eq!(pair.client.in_flight(), 0);
    pair.run();
    assert!(pair.crossed(Dir::ToServer, PacketType::Publish).is_empty());
    let id = pair
        .client
        .publish(QoS::AtLeastOnce, message("a", "y"))
        .unwrap();
    assert_eq!(id, Some(pid(1)), "the refused message took no identifier");
    pair.run();
    assert_eq!(pair.server_messages(), ["y"]);
}

/// 5.0 MQTT-3.2.2-11: a server with Maximum QoS 1 fed a QoS 2 PUBLISH (the checklist's
/// `34 06 00 01 61 00 01 00`) sends DISCONNECT 0x9B and closes.
#[test]
fn v5_server_disconnects_9b_on_publish_above_its_maximum_qos_mqtt_3_2_2_11() {
    let mut pair = Pair::with_configs(
        V5,
        SessionConfig::default(),
        config(|c| c.maximum_qos = QoS::AtLeastOnce),
    );
    pair.connect(true);
    let packet = parse(V5, &[0x34, 0x06, 0x00, 0x01, 0x61, 0x00, 0x01, 0x00]);
    let err = pair.server.handle_incoming(pair.now, packet).unwrap_err();
    assert_eq!(err.reason_code(), DisconnectReasonCode::QoSNotSupported);
    assert_eq!(err.rule(), Some("MQTT-3.2.2-11"));
    assert_eq!(
        drain_bytes(&mut pair.server, pair.now),
        [vec![0xE0, 0x01, 0x9B]]
    );
    let ev = events(&mut pair.server);
    assert!(!ev.iter().any(|e| matches!(e, Event::Message(_))));
    assert_eq!(violation(&ev), err);
}

/// 5.0 MQTT-3.2.2-14: after Retain Available 0 the client refuses a retained publish, and
/// a server fed one (`31 04 00 01 61 00`) sends DISCONNECT 0x9A.
#[test]
fn v5_retain_unavailable_is_refused_by_client_and_disconnect_9a_from_server_mqtt_3_2_2_14() {
    let mut pair = Pair::with_configs(
        V5,
        SessionConfig::default(),
        config(|c| c.retain_available = false),
    );
    pair.connect(true);
    let mut retained = message("a", "x");
    retained.retain = true;
    assert_eq!(
        pair.client.publish(QoS::AtMostOnce, retained),
        Err(SessionError::RetainNotSupported)
    );
    pair.run();
    assert!(pair.crossed(Dir::ToServer, PacketType::Publish).is_empty());

    let packet = parse(V5, &[0x31, 0x04, 0x00, 0x01, 0x61, 0x00]);
    let err = pair.server.handle_incoming(pair.now, packet).unwrap_err();
    assert_eq!(err.reason_code(), DisconnectReasonCode::RetainNotSupported);
    assert_eq!(err.rule(), Some("MQTT-3.2.2-14"));
    assert_eq!(
        drain_bytes(&mut pair.server, pair.now),
        [vec![0xE0, 0x01, 0x9A]]
    );
}

/// 5.0 MQTT-3.3.4-6: a client's PUBLISH never carries a Subscription Identifier; the
/// server fed `30 06 00 01 61 02 0B 01` sends DISCONNECT 0x82.
#[test]
fn v5_server_disconnects_82_on_publish_with_subscription_identifier_mqtt_3_3_4_6() {
    let mut pair = Pair::new(V5);
    pair.connect(true);
    let packet = parse(V5, &[0x30, 0x06, 0x00, 0x01, 0x61, 0x02, 0x0B, 0x01]);
    let err = pair.server.handle_incoming(pair.now, packet).unwrap_err();
    assert_eq!(err.reason_code(), DisconnectReasonCode::ProtocolError);
    assert_eq!(err.rule(), Some("MQTT-3.3.4-6"));
    assert_eq!(
        drain_bytes(&mut pair.server, pair.now),
        [vec![0xE0, 0x01, 0x82]]
    );
    assert!(!events(&mut pair.server)
        .iter()
        .any(|e| matches!(e, Event::Message(_))));
}

// ---------------------------------------------------------------------------------------
// Receive Maximum (5.0 section 4.9)
// ---------------------------------------------------------------------------------------

/// 5.0 MQTT-4.9.0-1 / MQTT-4.9.0-2: with the server's Receive Maximum 2, only two QoS 1
/// PUBLISH are unacknowledged at once; QoS 0 still flows; the third goes out after a
/// PUBACK frees a slot.
#[test]
fn v5_client_keeps_at_most_the_servers_receive_maximum_in_flight_mqtt_4_9_0_2() {
    let mut pair = Pair::with_configs(
        V5,
        SessionConfig::default(),
        config(|c| c.receive_maximum = nz16(2)),
    );
    pair.connect(true);
    let connack = &crossed_bytes(&pair, Dir::ToClient, PacketType::ConnAck)[0];
    assert!(connack.windows(3).any(|w| w == [0x21, 0x00, 0x02]));
    assert_eq!(connected(&pair.client_events).send_quota, 2);

    let a = pair.client.publish(QoS::AtLeastOnce, message("t", "a"));
    let b = pair.client.publish(QoS::AtLeastOnce, message("t", "b"));
    let c = pair.client.publish(QoS::AtLeastOnce, message("t", "c"));
    assert_eq!(
        (a, b, c),
        (Ok(Some(pid(1))), Ok(Some(pid(2))), Ok(Some(pid(3))))
    );
    assert_eq!(pair.client.in_flight(), 2);
    assert_eq!(pair.client.session().unacknowledged(), 3);
    assert_eq!(
        pair.client.publish(QoS::AtMostOnce, message("t", "d")),
        Ok(None)
    );
    pair.flush();
    assert_eq!(pair.to_server.len(), 3, "a, b and the QoS 0 d");
    for _ in 0..3 {
        pair.deliver_to_server();
    }
    pair.flush();
    assert!(pair.to_server.is_empty(), "c waits for a PUBACK");
    let seen: Vec<_> = publishes(&pair, Dir::ToServer)
        .iter()
        .map(|p| (p.payload.clone(), p.qos))
        .collect();
    assert_eq!(
        seen,
        [
            (Bytes::from("a"), QosPid::AtLeastOnce(pid(1))),
            (Bytes::from("b"), QosPid::AtLeastOnce(pid(2))),
            (Bytes::from("d"), QosPid::AtMostOnce),
        ]
    );
    // PUBACK 1 frees one slot: c goes out.
    assert!(matches!(pair.deliver_to_client(), Some(Packet::PubAck(a)) if a.packet_id == pid(1)));
    pair.flush();
    assert_eq!(pair.to_server.len(), 1);
    pair.run();
    assert_eq!(pair.server_messages(), ["a", "b", "d", "c"]);
    assert_eq!(pair.client.in_flight(), 0);
    let acked: Vec<_> = pair
        .client_events
        .iter()
        .filter_map(|e| match e {
            Event::PublishAcknowledged { packet_id, .. } => Some(packet_id.get()),
            _ => None,
        })
        .collect();
    assert_eq!(acked, [1, 2, 3]);
}

/// Untagged §4.9: a PUBACK with a failure code (`40 03 00 01 80`) also returns the quota.
/// The server engine only sends success PUBACKs, so its PUBACK is replaced on the link.
#[test]
fn v5_puback_with_a_failure_code_frees_a_quota_slot() {
    let mut pair = Pair::with_configs(
        V5,
        SessionConfig::default(),
        config(|c| {
            c.receive_maximum = nz16(1);
            c.manual_acks = true;
        }),
    );
    pair.connect(true);
    pair.client
        .publish(QoS::AtLeastOnce, message("t", "a"))
        .unwrap();
    pair.client
        .publish(QoS::AtLeastOnce, message("t", "b"))
        .unwrap();
    pair.run();
    assert_eq!(pair.server_messages(), ["a"]);
    assert_eq!(pair.client.in_flight(), 1);
    pair.server.ack(pid(1)).unwrap();
    pair.flush();
    assert_eq!(pair.to_client.len(), 1);
    pair.to_client.clear(); // the success PUBACK, replaced by a refusal:
    pair.client
        .handle_incoming(pair.now, parse(V5, &[0x40, 0x03, 0x00, 0x01, 0x80]))
        .unwrap();
    assert_eq!(
        pair.client.poll_event(),
        Some(Event::PublishFailed {
            packet_id: pid(1),
            reason_code: PubAckReasonCode::UnspecifiedError
        })
    );
    pair.run();
    assert_eq!(pair.server_messages(), ["a", "b"]);
    assert_eq!(pair.client.in_flight(), 1);
    assert_eq!(pair.client.session().unacknowledged(), 1);
}

/// 5.0 MQTT-3.3.4-8 / MQTT-4.9.0-3: at send quota 0, SUBSCRIBE, PINGREQ and PUBREL still go
/// out at once; only the next QoS 1 PUBLISH waits.
#[test]
fn v5_subscribe_pingreq_and_pubrel_are_not_held_back_at_quota_zero_mqtt_3_3_4_8() {
    let mut pair = Pair::with_configs(
        V5,
        SessionConfig::default(),
        config(|c| c.receive_maximum = nz16(1)),
    );
    pair.connect(true);
    pair.client
        .publish(QoS::ExactlyOnce, message("t", "x"))
        .unwrap();
    pair.client
        .publish(QoS::AtLeastOnce, message("t", "y"))
        .unwrap();
    assert!(matches!(pair.deliver_to_server(), Some(Packet::Publish(p)) if p.payload == "x"));
    let filter = TopicFilter::new("s/#").unwrap();
    pair.client
        .subscribe(
            vec![Subscription::new(filter, QoS::AtLeastOnce)],
            SubscribeProperties::default(),
        )
        .unwrap();
    assert!(matches!(
        pair.deliver_to_server(),
        Some(Packet::Subscribe(_))
    ));
    pair.advance(secs(10));
    assert_eq!(pair.deliver_to_server(), Some(Packet::PingReq));
    assert!(matches!(pair.deliver_to_client(), Some(Packet::PubRec(_))));
    assert!(matches!(pair.deliver_to_server(), Some(Packet::PubRel(r)) if r.packet_id == pid(1)));
    pair.flush();
    assert!(pair.to_server.is_empty(), "y waits for PUBCOMP");
    pair.run();
    assert_eq!(
        crossed_types(&pair, Dir::ToServer),
        [
            PacketType::Connect,
            PacketType::Publish,
            PacketType::Subscribe,
            PacketType::PingReq,
            PacketType::PubRel,
            PacketType::Publish,
        ]
    );
    assert_eq!(pair.server_messages(), ["x", "y"]);
}

/// 5.0 MQTT-3.3.4-9: a client whose Receive Maximum is 1 (CONNECT `21 00 01`) fed a second
/// QoS 1 PUBLISH before it sent PUBACK sends DISCONNECT 0x93.
#[test]
fn v5_client_disconnects_93_when_the_server_exceeds_its_receive_maximum_mqtt_3_3_4_9() {
    let mut pair = Pair::with_configs(
        V5,
        config(|c| {
            c.receive_maximum = nz16(1);
            c.manual_acks = true;
        }),
        SessionConfig::default(),
    );
    pair.connect(true);
    let connect = &crossed_bytes(&pair, Dir::ToServer, PacketType::Connect)[0];
    assert!(connect.windows(3).any(|w| w == [0x21, 0x00, 0x01]));
    assert_eq!(connected(&pair.server_events).send_quota, 1);
    // The server engine itself honours the limit: its second message waits.
    pair.server
        .publish(QoS::AtLeastOnce, message("t", "1"))
        .unwrap();
    pair.server
        .publish(QoS::AtLeastOnce, message("t", "2"))
        .unwrap();
    pair.run();
    assert_eq!(pair.client_messages(), ["1"]);
    assert_eq!(pair.server.in_flight(), 1);
    // A server that does not.
    let err = pair
        .client
        .handle_incoming(
            pair.now,
            publish_packet("t", "3", QosPid::AtLeastOnce(pid(9))),
        )
        .unwrap_err();
    assert_eq!(
        err.reason_code(),
        DisconnectReasonCode::ReceiveMaximumExceeded
    );
    assert_eq!(err.rule(), Some("MQTT-3.3.4-9"));
    pair.run();
    assert_eq!(
        crossed_bytes(&pair, Dir::ToServer, PacketType::Disconnect),
        [vec![0xE0, 0x01, 0x93]]
    );
    assert_eq!(pair.client_messages(), ["1"]);
    assert_eq!(violation(&pair.client_events), err);
}

/// 5.0 MQTT-3.3.4-7, the checklist's test: a server with Receive Maximum 1 fed QoS 2 pid 1
/// (PUBREC sent, no PUBREL yet) then QoS 1 pid 2 sends DISCONNECT 0x93.
#[test]
fn v5_server_disconnects_93_when_the_client_exceeds_its_receive_maximum_mqtt_3_3_4_7() {
    let mut pair = Pair::with_configs(
        V5,
        SessionConfig::default(),
        config(|c| c.receive_maximum = nz16(1)),
    );
    pair.connect(true);
    let now = pair.now;
    pair.server
        .handle_incoming(now, publish_packet("t", "q2", QosPid::ExactlyOnce(pid(1))))
        .unwrap();
    let err = pair
        .server
        .handle_incoming(now, publish_packet("t", "q1", QosPid::AtLeastOnce(pid(2))))
        .unwrap_err();
    assert_eq!(
        err.reason_code(),
        DisconnectReasonCode::ReceiveMaximumExceeded
    );
    assert_eq!(err.rule(), Some("MQTT-3.3.4-7"));
    assert_eq!(
        drain_bytes(&mut pair.server, now),
        [vec![0x50, 0x02, 0x00, 0x01], vec![0xE0, 0x01, 0x93]]
    );
    let ev = events(&mut pair.server);
    assert_eq!(delivered(&ev), [("t".to_owned(), Bytes::from("q2"))]);
    assert_eq!(violation(&ev), err);
}

/// 5.0 MQTT-3.3.4-9 with QoS 2: the state kept for received QoS 2 messages awaiting PUBREL
/// is bounded by our Receive Maximum; a retransmission does not count twice and a PUBREL
/// frees a place.
#[test]
fn v5_inbound_qos2_state_is_bounded_by_our_receive_maximum() {
    let mut pair = Pair::with_configs(
        V5,
        config(|c| c.receive_maximum = nz16(2)),
        SessionConfig::default(),
    );
    pair.connect(true);
    let now = pair.now;
    let client = &mut pair.client;
    let q2 =
        |id: u16, payload: &'static str| publish_packet("t", payload, QosPid::ExactlyOnce(pid(id)));
    client.handle_incoming(now, q2(1, "one")).unwrap();
    client.handle_incoming(now, q2(2, "two")).unwrap();
    let mut dup = Publish::new(topic("t"), "one");
    dup.qos = QosPid::ExactlyOnce(pid(1));
    dup.dup = true;
    client.handle_incoming(now, Packet::Publish(dup)).unwrap();
    assert_eq!(client.session().incomplete_incoming(), 2);
    client
        .handle_incoming(now, Packet::PubRel(PubRel::new(pid(1))))
        .unwrap();
    assert_eq!(client.session().incomplete_incoming(), 1);
    client.handle_incoming(now, q2(3, "three")).unwrap();
    assert_eq!(client.session().incomplete_incoming(), 2);
    let err = client.handle_incoming(now, q2(4, "four")).unwrap_err();
    assert_eq!(
        err.reason_code(),
        DisconnectReasonCode::ReceiveMaximumExceeded
    );
    assert_eq!(client.session().incomplete_incoming(), 2, "pid 4 not kept");
    assert_eq!(
        drain_bytes(client, now),
        [
            vec![0x50, 0x02, 0x00, 0x01],
            vec![0x50, 0x02, 0x00, 0x02],
            vec![0x50, 0x02, 0x00, 0x01],
            vec![0x70, 0x02, 0x00, 0x01],
            vec![0x50, 0x02, 0x00, 0x03],
            vec![0xE0, 0x01, 0x93],
        ]
    );
    let payloads: Vec<_> = delivered(&events(client))
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    assert_eq!(
        payloads,
        ["one", "two", "three"],
        "the DUP is not delivered"
    );
}

/// Untagged §4.9: the send quota is not session state; on a new connection it starts
/// again from the new CONNACK's Receive Maximum (2, then 3).
#[test]
fn v5_send_quota_is_reinitialised_from_the_new_connack_on_reconnect() {
    let server_config = config(|c| {
        c.receive_maximum = nz16(2);
        c.manual_acks = true;
    });
    let mut pair = Pair::with_configs(V5, SessionConfig::default(), server_config);
    pair.connect(false);
    for payload in ["a", "b", "c"] {
        pair.client
            .publish(QoS::AtLeastOnce, message("t", payload))
            .unwrap();
    }
    pair.run();
    assert_eq!(pair.server_messages(), ["a", "b"]);
    pair.server_config.receive_maximum = nz16(3);
    pair.drop_link();
    let before = pair.log.len();
    pair.connect(false);
    let c = last_connected(&pair.client_events);
    assert!(c.session_present);
    assert_eq!(c.send_quota, 3);
    let resent: Vec<_> = pair.log[before..]
        .iter()
        .filter_map(|c| match &c.packet {
            Packet::Publish(p) if c.dir == Dir::ToServer => {
                Some((p.payload.clone(), p.dup, p.qos.packet_id().unwrap().get()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        resent,
        [
            (Bytes::from("a"), true, 1),
            (Bytes::from("b"), true, 2),
            (Bytes::from("c"), false, 3),
        ]
    );
    assert_eq!(pair.client.in_flight(), 3);
}

// ---------------------------------------------------------------------------------------
// Topic aliases (5.0 section 3.3.2.3.4)
// ---------------------------------------------------------------------------------------

/// Each PUBLISH that crossed towards `dir`: its topic (empty when aliased) and Topic Alias.
fn topics_and_aliases(pair: &Pair, dir: Dir) -> Vec<(String, Option<u16>)> {
    publishes(pair, dir)
        .iter()
        .map(|p| (p.topic.as_str().to_owned(), topic_alias(p)))
        .collect()
}

/// The topics of the messages delivered in `events`, in order.
fn delivered_topics(events: &[Event]) -> Vec<String> {
    delivered(events).into_iter().map(|(t, _)| t).collect()
}

fn topic_alias(p: &Publish) -> Option<u16> {
    p.properties.topic_alias.map(NonZeroU16::get)
}

/// 5.0 MQTT-3.2.2-17 / MQTT-3.3.2-9: the client assigns aliases by itself, only 1 to the
/// server's Topic Alias Maximum (2); a repeated topic crosses empty with its alias
/// (`30 08 00 00 03 23 00 01 70 32`), and the server delivers the full topic.
#[test]
fn v5_client_auto_assigns_topic_aliases_within_the_servers_maximum_mqtt_3_2_2_17() {
    let mut pair = Pair::with_configs(
        V5,
        SessionConfig::default(),
        config(|c| c.topic_alias_maximum = 2),
    );
    pair.connect(true);
    assert_eq!(connected(&pair.client_events).peer_topic_alias_maximum, 2);
    for (t, payload) in [
        ("a/b", "p1"),
        ("a/b", "p2"),
        ("c", "p3"),
        ("d", "p4"),
        ("a/b", "p5"),
    ] {
        pair.client
            .publish(QoS::AtMostOnce, message(t, payload))
            .unwrap();
    }
    pair.run();
    let sent = topics_and_aliases(&pair, Dir::ToServer);
    assert_eq!(
        sent,
        [
            ("a/b".to_owned(), Some(1)),
            (String::new(), Some(1)),
            ("c".to_owned(), Some(2)),
            ("d".to_owned(), Some(1)), // least recently used alias reassigned
            ("a/b".to_owned(), Some(2)), // the mapping for "a/b" was replaced
        ]
    );
    assert_eq!(
        crossed_bytes(&pair, Dir::ToServer, PacketType::Publish)[1],
        [0x30, 0x08, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01, b'p', b'2']
    );
    let topics = delivered_topics(&pair.server_events);
    assert_eq!(topics, ["a/b", "a/b", "c", "d", "a/b"]);
}

/// 5.0 MQTT-3.1.2-26 / MQTT-3.3.2-11: the server's aliases stay within the client's Topic
/// Alias Maximum (CONNECT `22 00 01`); the client delivers the full topic (MQTT-3.3.2-10).
#[test]
fn v5_server_uses_topic_aliases_within_the_clients_maximum_mqtt_3_1_2_26() {
    let mut pair = Pair::with_configs(
        V5,
        config(|c| c.topic_alias_maximum = 1),
        SessionConfig::default(),
    );
    pair.connect(true);
    let connect = &crossed_bytes(&pair, Dir::ToServer, PacketType::Connect)[0];
    assert!(connect.windows(3).any(|w| w == [0x22, 0x00, 0x01]));
    for (t, payload) in [("x/y", "1"), ("x/y", "2"), ("z", "3"), ("x/y", "4")] {
        pair.server
            .publish(QoS::AtLeastOnce, message(t, payload))
            .unwrap();
    }
    pair.run();
    let sent = topics_and_aliases(&pair, Dir::ToClient);
    assert_eq!(
        sent,
        [
            ("x/y".to_owned(), Some(1)),
            (String::new(), Some(1)),
            ("z".to_owned(), Some(1)),
            ("x/y".to_owned(), Some(1)),
        ]
    );
    let topics = delivered_topics(&pair.client_events);
    assert_eq!(topics, ["x/y", "x/y", "z", "x/y"]);
}

/// Untagged §3.3.4: a Topic Alias above our Topic Alias Maximum is DISCONNECT 0x94 (the
/// peer broke 5.0 MQTT-3.3.2-9 towards a server, MQTT-3.3.2-11 towards a client); with a
/// maximum of 0 every alias is.
#[test]
fn v5_topic_alias_above_our_maximum_is_disconnect_94() {
    for (server_tam, alias) in [(2, 3), (0, 1)] {
        let mut pair = Pair::with_configs(
            V5,
            SessionConfig::default(),
            config(|c| c.topic_alias_maximum = server_tam),
        );
        pair.connect(true);
        let err = pair
            .server
            .handle_incoming(pair.now, aliased("t", alias, "x"))
            .unwrap_err();
        assert_eq!(err.reason_code(), DisconnectReasonCode::TopicAliasInvalid);
        assert_eq!(err.rule(), Some("MQTT-3.3.2-9"));
        assert_eq!(
            drain_bytes(&mut pair.server, pair.now),
            [vec![0xE0, 0x01, 0x94]]
        );
    }
    let mut pair = Pair::with_configs(
        V5,
        config(|c| c.topic_alias_maximum = 2),
        SessionConfig::default(),
    );
    pair.connect(true);
    // Alias 2 is fine (MQTT-3.3.2-10), 3 is not.
    pair.client
        .handle_incoming(pair.now, aliased("t", 2, "ok"))
        .unwrap();
    let err = pair
        .client
        .handle_incoming(pair.now, aliased("t", 3, "x"))
        .unwrap_err();
    assert_eq!(err.reason_code(), DisconnectReasonCode::TopicAliasInvalid);
    assert_eq!(err.rule(), Some("MQTT-3.3.2-11"));
    assert_eq!(
        drain_bytes(&mut pair.client, pair.now),
        [vec![0xE0, 0x01, 0x94]]
    );
    assert_eq!(
        delivered(&events(&mut pair.client)),
        [("t".to_owned(), Bytes::from("ok"))]
    );
}

/// Untagged §3.3.4 / §3.3.2.1: an empty topic with an alias not mapped on this connection
/// (`30 06 00 00 03 23 00 01`) is DISCONNECT 0x82; known alias + topic remaps.
#[test]
fn v5_unknown_topic_alias_with_an_empty_topic_is_disconnect_82() {
    let mut pair = Pair::with_configs(
        V5,
        SessionConfig::default(),
        config(|c| c.topic_alias_maximum = 4),
    );
    pair.connect(true);
    let now = pair.now;
    let err = pair
        .server
        .handle_incoming(
            now,
            parse(V5, &[0x30, 0x06, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01]),
        )
        .unwrap_err();
    assert_eq!(err.reason_code(), DisconnectReasonCode::ProtocolError);
    assert_eq!(drain_bytes(&mut pair.server, now), [vec![0xE0, 0x01, 0x82]]);

    // The same packet after the alias was mapped, and a remap.
    let mut pair = Pair::with_configs(
        V5,
        SessionConfig::default(),
        config(|c| c.topic_alias_maximum = 4),
    );
    pair.connect(true);
    let server = &mut pair.server;
    #[rustfmt::skip]
    let inputs: [&[u8]; 4] = [
        &[0x30, 0x08, 0x00, 0x01, b'a', 0x03, 0x23, 0x00, 0x01, b'1'],
        &[0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01, b'2'],
        &[0x30, 0x08, 0x00, 0x01, b'b', 0x03, 0x23, 0x00, 0x01, b'3'],
        &[0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01, b'4'],
    ];
    for bytes in inputs {
        server.handle_incoming(now, parse(V5, bytes)).unwrap();
    }
    let topics: Vec<_> = delivered(&events(server))
        .into_iter()
        .map(|(t, p)| format!("{t}:{}", std::str::from_utf8(&p).unwrap()))
        .collect();
    assert_eq!(topics, ["a:1", "a:2", "b:3", "b:4"]);
}

/// 5.0 MQTT-3.3.2-7: outgoing alias mappings end with the connection: a message that
/// crossed with an empty topic and an alias is resent on the next connection with its
/// full topic.
#[test]
fn v5_topic_aliases_do_not_survive_a_reconnect_outgoing_mqtt_3_3_2_7() {
    let server_config = config(|c| {
        c.topic_alias_maximum = 4;
        c.manual_acks = true;
    });
    let mut pair = Pair::with_configs(V5, SessionConfig::default(), server_config);
    pair.connect(false);
    pair.client
        .publish(QoS::AtMostOnce, message("t/1", "first"))
        .unwrap();
    pair.client
        .publish(QoS::AtLeastOnce, message("t/1", "second"))
        .unwrap();
    pair.run();
    let sent = publishes(&pair, Dir::ToServer);
    assert_eq!(sent[1].topic, "", "crossed through the alias");
    assert_eq!(topic_alias(&sent[1]), Some(1));
    pair.drop_link();
    let before = publishes(&pair, Dir::ToServer).len();
    let before_events = pair.server_events.len();
    pair.connect(false);
    let resent = &publishes(&pair, Dir::ToServer)[before..];
    assert_eq!(resent.len(), 1);
    assert_eq!(resent[0].topic, "t/1", "full topic on the new connection");
    assert!(resent[0].dup);
    assert_eq!(resent[0].payload, "second");
    assert_eq!(
        delivered(&pair.server_events[before_events..]),
        [("t/1".to_owned(), Bytes::from("second"))]
    );
}

/// 5.0 MQTT-3.3.2-7, incoming side: the client forgets the server's aliases when the
/// connection ends; the checklist's `30 06 00 00 03 23 00 01` after a reconnect is
/// DISCONNECT 0x82.
#[test]
fn v5_topic_aliases_do_not_survive_a_reconnect_incoming_mqtt_3_3_2_7() {
    let mut pair = Pair::with_configs(
        V5,
        config(|c| c.topic_alias_maximum = 2),
        SessionConfig::default(),
    );
    pair.connect(false);
    let map = [0x30, 0x07, 0x00, 0x01, b'a', 0x03, 0x23, 0x00, 0x01];
    let use_alias = [0x30, 0x06, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01];
    pair.client
        .handle_incoming(pair.now, parse(V5, &map))
        .unwrap();
    pair.client
        .handle_incoming(pair.now, parse(V5, &use_alias))
        .unwrap();
    let topics = delivered_topics(&events(&mut pair.client));
    assert_eq!(topics, ["a", "a"]);
    pair.drop_link();
    pair.connect(false);
    assert!(pair.client.is_connected());
    let err = pair
        .client
        .handle_incoming(pair.now, parse(V5, &use_alias))
        .unwrap_err();
    assert_eq!(err.reason_code(), DisconnectReasonCode::ProtocolError);
    assert_eq!(
        drain_bytes(&mut pair.client, pair.now),
        [vec![0xE0, 0x01, 0x82]]
    );
}

/// 5.0 MQTT-3.2.2-18 (client) and MQTT-3.1.2-27 (server): a Topic Alias Maximum absent or
/// 0 means no aliases are sent: every PUBLISH carries its full topic and no `23` property.
#[test]
fn v5_no_topic_aliases_are_sent_when_the_peers_maximum_is_zero_mqtt_3_2_2_18() {
    let mut pair = Pair::new(V5);
    pair.connect(true);
    assert_eq!(connected(&pair.client_events).peer_topic_alias_maximum, 0);
    assert_eq!(connected(&pair.server_events).peer_topic_alias_maximum, 0);
    match &pair.crossed(Dir::ToClient, PacketType::ConnAck)[0] {
        Packet::ConnAck(ack) => assert_eq!(ack.properties.topic_alias_maximum, None),
        other => panic!("{other:?}"),
    }
    match &pair.crossed(Dir::ToServer, PacketType::Connect)[0] {
        Packet::Connect(c) => assert_eq!(c.properties.topic_alias_maximum, None),
        other => panic!("{other:?}"),
    }
    for i in 0..3 {
        pair.client
            .publish(QoS::AtLeastOnce, message("same/topic", "c"))
            .unwrap();
        pair.server
            .publish(QoS::AtMostOnce, message("other/topic", "s"))
            .unwrap();
        pair.run();
        assert_eq!(publishes(&pair, Dir::ToServer).len(), i + 1);
    }
    for p in publishes(&pair, Dir::ToServer) {
        assert_eq!((p.topic.as_str(), topic_alias(&p)), ("same/topic", None));
    }
    for p in publishes(&pair, Dir::ToClient) {
        assert_eq!((p.topic.as_str(), topic_alias(&p)), ("other/topic", None));
    }
}

/// 5.0 MQTT-3.3.2-9 / MQTT-3.2.2-17: a caller's own alias above the server's maximum is
/// refused before anything is sent, as is an empty topic with an alias not mapped yet.
#[test]
fn v5_caller_topic_alias_above_the_servers_maximum_is_refused_mqtt_3_3_2_9() {
    let mut pair = Pair::with_configs(
        V5,
        SessionConfig::default(),
        config(|c| c.topic_alias_maximum = 2),
    );
    pair.connect(true);
    let with_alias = |t: &str, alias: u16| {
        let Packet::Publish(p) = aliased(t, alias, "x") else {
            unreachable!()
        };
        p
    };
    assert_eq!(
        pair.client.publish(QoS::AtMostOnce, with_alias("t", 3)),
        Err(SessionError::TopicAliasInvalid {
            alias: 3,
            maximum: 2
        })
    );
    assert_eq!(
        pair.client.publish(QoS::AtLeastOnce, with_alias("", 2)),
        Err(SessionError::TopicAliasInvalid {
            alias: 2,
            maximum: 2
        })
    );
    pair.run();
    assert!(publishes(&pair, Dir::ToServer).is_empty());
    // Alias 2 set up by the caller, then used with an empty topic.
    pair.client
        .publish(QoS::AtMostOnce, with_alias("t", 2))
        .unwrap();
    pair.client
        .publish(QoS::AtMostOnce, with_alias("", 2))
        .unwrap();
    pair.run();
    let sent = topics_and_aliases(&pair, Dir::ToServer);
    assert_eq!(sent, [("t".to_owned(), Some(2)), (String::new(), Some(2))]);
    assert_eq!(pair.server_messages(), ["x", "x"]);
}

/// 5.0 MQTT-3.2.2-18 / MQTT-3.2.2-17 with MQTT-3.3.2-7: a caller-chosen alias belongs to
/// the connection it was sent on. Resent on a new connection whose server announces no
/// Topic Alias Maximum (or a lower one, 2), the message must carry no alias above it.
#[test]
fn v5_caller_alias_is_not_resent_above_the_new_connections_maximum_mqtt_3_2_2_18() {
    for new_maximum in [0, 2] {
        let server_config = config(|c| {
            c.topic_alias_maximum = 4;
            c.manual_acks = true;
        });
        let mut pair = Pair::with_configs(V5, SessionConfig::default(), server_config);
        pair.connect(false);
        let Packet::Publish(p) = aliased("t", 3, "x") else {
            unreachable!()
        };
        pair.client.publish(QoS::AtLeastOnce, p).unwrap();
        pair.run();
        assert_eq!(topic_alias(&publishes(&pair, Dir::ToServer)[0]), Some(3));
        pair.server_config.topic_alias_maximum = new_maximum;
        pair.drop_link();
        pair.connect(false);
        assert_eq!(
            last_connected(&pair.client_events).peer_topic_alias_maximum,
            new_maximum
        );
        let resent = publishes(&pair, Dir::ToServer);
        assert_eq!(resent.len(), 2);
        assert_eq!(resent[1].topic, "t");
        assert!(
            !matches!(topic_alias(&resent[1]), Some(a) if a > new_maximum),
            "alias {:?} above the new maximum {new_maximum}",
            topic_alias(&resent[1])
        );
        assert!(pair.server.is_connected(), "no DISCONNECT 0x94");
        assert_eq!(pair.server_messages(), ["x", "x"]);
    }
}

/// 5.0 section 3.3.2.3.4: remapping an alias never changes a topic already delivered. A
/// message that arrives with only its alias shares the topic the server stored for it; the
/// application keeps some of those messages and drops the others while the peer remaps the
/// alias to shorter and longer topics. Every message is delivered with the topic its alias
/// stood for, and the kept ones still read it at the end.
#[test]
fn v5_remapping_an_alias_leaves_the_topics_of_kept_messages_intact() {
    let mut pair = Pair::with_configs(
        V5,
        SessionConfig::default(),
        config(|c| c.topic_alias_maximum = 2),
    );
    pair.connect(true);
    let long = "a/topic/longer/than/the/alias/had";
    // (topic sent, alias, topic delivered, kept by the application)
    let inputs = [
        ("a", 1, "a", false),
        ("", 1, "a", true),
        ("b", 1, "b", false), // written next to the kept "a"
        ("", 1, "b", false),
        (long, 1, long, false), // does not fit next to "a", which is still held
        ("", 1, long, false),
        ("c", 1, "c", false), // nothing holds the long topic any more
        ("", 1, "c", true),
        ("d/e", 2, "d/e", false),
        ("", 2, "d/e", true),
        ("f", 1, "f", false),
        ("", 1, "f", false),
        ("", 2, "d/e", false),
    ];
    let mut kept = Vec::new();
    for (i, (sent, alias, expected, keep)) in inputs.into_iter().enumerate() {
        pair.server
            .handle_incoming(pair.now, aliased(sent, alias, "x"))
            .unwrap();
        let message = match events(&mut pair.server).as_slice() {
            [Event::Message(message)] => message.clone(),
            other => panic!("input {i}: {other:?}"),
        };
        assert_eq!(message.topic, expected, "input {i} as delivered");
        if keep {
            kept.push((i, message, expected));
        }
    }
    for (i, message, expected) in kept {
        assert_eq!(message.topic, expected, "input {i} kept until the end");
    }
}

/// 5.0 section 3.3.2.3.4 with MQTT-3.3.2-7: a message published with an empty topic and
/// the caller's alias takes the topic the alias stands for, and keeps it when the caller
/// remaps the alias before the message is acknowledged: resent on a new connection, it
/// carries that topic, not the alias's new one.
#[test]
fn v5_a_message_sent_through_a_remapped_caller_alias_keeps_its_topic() {
    let server_config = config(|c| {
        c.topic_alias_maximum = 4;
        c.manual_acks = true;
    });
    let mut pair = Pair::with_configs(V5, SessionConfig::default(), server_config);
    pair.connect(false);
    let inputs = [
        ("t/1", QoS::AtMostOnce, "first"),
        ("", QoS::AtLeastOnce, "second"),
        ("t/2", QoS::AtMostOnce, "third"),
        ("", QoS::AtMostOnce, "fourth"),
    ];
    for (t, qos, payload) in inputs {
        let Packet::Publish(p) = aliased(t, 1, payload) else {
            unreachable!()
        };
        pair.client.publish(qos, p).unwrap();
    }
    pair.run();
    assert_eq!(
        topics_and_aliases(&pair, Dir::ToServer),
        [
            ("t/1".to_owned(), Some(1)),
            (String::new(), Some(1)),
            ("t/2".to_owned(), Some(1)),
            (String::new(), Some(1)),
        ]
    );
    assert_eq!(
        delivered_topics(&pair.server_events),
        ["t/1", "t/1", "t/2", "t/2"]
    );
    pair.drop_link();
    let before = publishes(&pair, Dir::ToServer).len();
    pair.connect(false);
    let resent = &publishes(&pair, Dir::ToServer)[before..];
    assert_eq!(resent.len(), 1);
    assert_eq!(
        (
            resent[0].topic.as_str(),
            &resent[0].payload[..],
            resent[0].dup
        ),
        ("t/1", &b"second"[..], true)
    );
}

// ---------------------------------------------------------------------------------------
// Maximum Packet Size (5.0 section 3.1.2.11.4 / 3.2.2.3.6)
// ---------------------------------------------------------------------------------------

fn payload_of(n: usize) -> Vec<u8> {
    vec![b'x'; n]
}

/// 5.0 MQTT-3.2.2-15: the client never sends a packet larger than the server's Maximum
/// Packet Size (64): a 65-byte PUBLISH is refused, nothing is sent and no packet identifier
/// is used; a 64-byte one crosses.
#[test]
fn v5_client_refuses_a_publish_over_the_servers_maximum_packet_size_mqtt_3_2_2_15() {
    let mut pair = Pair::with_configs(
        V5,
        SessionConfig::default(),
        config(|c| c.maximum_packet_size = nz32(64)),
    );
    pair.connect(true);
    assert_eq!(connected(&pair.client_events).max_outgoing_packet_size, 64);
    // QoS 1, topic "t": 2 (fixed header) + 3 (topic) + 2 (id) + 1 (properties) = 8.
    let big = Publish::new(topic("t"), payload_of(57));
    assert_eq!(
        pair.client.publish(QoS::AtLeastOnce, big),
        Err(SessionError::PacketTooLarge { size: 65, max: 64 })
    );
    assert_eq!(pair.client.in_flight(), 0);
    assert_eq!(pair.client.session().unacknowledged(), 0);
    pair.run();
    assert!(publishes(&pair, Dir::ToServer).is_empty());
    let fits = Publish::new(topic("t"), payload_of(56));
    assert_eq!(
        pair.client.publish(QoS::AtLeastOnce, fits),
        Ok(Some(pid(1)))
    );
    pair.run();
    assert_eq!(
        crossed_bytes(&pair, Dir::ToServer, PacketType::Publish)[0].len(),
        64
    );
    assert_eq!(pair.server_messages().len(), 1);
}

/// 5.0 MQTT-3.1.2-24 / MQTT-3.1.2-25: the server never sends a packet larger than the
/// client's Maximum Packet Size: an over-size message is refused (the application drops
/// it) with no identifier or quota used, and the next message flows.
#[test]
fn v5_server_refuses_a_publish_over_the_clients_maximum_packet_size_mqtt_3_1_2_25() {
    let mut pair = Pair::with_configs(
        V5,
        config(|c| c.maximum_packet_size = nz32(64)),
        SessionConfig::default(),
    );
    pair.connect(true);
    let connect = &crossed_bytes(&pair, Dir::ToServer, PacketType::Connect)[0];
    assert!(connect
        .windows(5)
        .any(|w| w == [0x27, 0x00, 0x00, 0x00, 0x40]));
    assert_eq!(pair.server.max_outgoing_packet_size(), 64);
    assert_eq!(
        pair.server
            .publish(QoS::AtLeastOnce, Publish::new(topic("t"), payload_of(57))),
        Err(SessionError::PacketTooLarge { size: 65, max: 64 })
    );
    assert_eq!(pair.server.in_flight(), 0);
    assert_eq!(
        pair.server.publish(QoS::AtLeastOnce, message("t", "small")),
        Ok(Some(pid(1)))
    );
    pair.run();
    assert_eq!(pair.client_messages(), ["small"]);
    assert!(pair
        .log
        .iter()
        .all(|c| c.dir == Dir::ToServer || c.bytes.len() <= 64));
}

/// 5.0 MQTT-3.1.2-24 with MQTT-3.9.2-1: a SUBACK whose Reason String would exceed the
/// client's Maximum Packet Size goes out without it, the reason codes intact.
#[test]
fn v5_server_drops_the_suback_reason_string_to_fit_the_clients_maximum_mqtt_3_1_2_24() {
    let mut pair = Pair::with_configs(
        V5,
        config(|c| c.maximum_packet_size = nz32(32)),
        SessionConfig::default(),
    );
    let connect = pair.connect_packet(true);
    pair_accepting(&mut pair, connect, ConnAckProperties::default());
    let id = pair
        .client
        .subscribe(
            vec![Subscription::new(
                TopicFilter::new("a/#").unwrap(),
                QoS::AtLeastOnce,
            )],
            SubscribeProperties::default(),
        )
        .unwrap();
    pair.run();
    let mut props = AckProperties::default();
    props.set_reason_string(Some(mstr(&"r".repeat(100))));
    pair.server
        .suback(id, vec![SubAckReasonCode::GrantedQoS1], props)
        .unwrap();
    pair.run();
    let suback = crossed_bytes(&pair, Dir::ToClient, PacketType::SubAck);
    assert_eq!(suback, [vec![0x90, 0x04, 0x00, 0x01, 0x00, 0x01]]);
    assert!(pair.client_events.iter().any(
        |e| matches!(e, Event::Subscribed(s) if s.reason_codes == [SubAckReasonCode::GrantedQoS1])
    ));
}

/// Untagged §3.1.2.11.4 / §3.2.2.3.6: our own limit is enforced by the decoder the config
/// builds (`client_decoder`, `server_decoder`); `handle_decode_error` then queues
/// DISCONNECT 0x95 in 5.0 (5.0 MQTT-4.13.1-1) and ends the connection; 3.1.1 closes
/// without a packet (3.1.1 MQTT-4.8.0-1).
#[test]
fn incoming_packet_over_our_maximum_packet_size_is_refused_by_the_decoder() {
    for version in BOTH {
        let limits = config(|c| c.maximum_packet_size = nz32(64));
        let mut pair = Pair::with_configs(version, limits.clone(), limits);
        pair.connect(true);
        let big = wire(
            &Packet::Publish(Publish::new(topic("t"), payload_of(90))),
            version,
        );
        assert_eq!(big.len(), 2 + 3 + usize::from(version.is_v5()) + 90);

        // Client side.
        let mut decoder = pair.client.config().client_decoder(version);
        let err = decoder
            .decode(&mut BytesMut::from(&big[..]))
            .expect_err("over the limit");
        assert!(matches!(
            err.kind(),
            DecodeErrorKind::PacketTooLarge { max: 64, .. }
        ));
        assert_eq!(err.reason_code(), ReasonCode::PACKET_TOO_LARGE);
        let violation_err = pair.client.handle_decode_error(&err);
        assert_eq!(
            violation_err.reason_code(),
            DisconnectReasonCode::PacketTooLarge
        );
        let sent = drain_bytes(&mut pair.client, pair.now);
        if version.is_v5() {
            assert_eq!(sent, [vec![0xE0, 0x01, 0x95]]);
        } else {
            assert!(sent.is_empty());
        }
        assert!(!pair.client.is_connected());
        assert_eq!(
            violation(&events(&mut pair.client)).reason_code(),
            DisconnectReasonCode::PacketTooLarge
        );

        // Server side: its decoder learns the version from the CONNECT.
        let mut decoder = pair.server_config.server_decoder();
        let mut rx = BytesMut::from(&pair.log[0].bytes[..]);
        assert!(matches!(
            decoder.decode(&mut rx),
            Ok(Some(Packet::Connect(_)))
        ));
        let err = decoder
            .decode(&mut BytesMut::from(&big[..]))
            .expect_err("over the limit");
        assert_eq!(err.reason_code(), ReasonCode::PACKET_TOO_LARGE);
        pair.server.handle_decode_error(&err);
        let sent = drain_bytes(&mut pair.server, pair.now);
        if version.is_v5() {
            assert_eq!(sent, [vec![0xE0, 0x01, 0x95]]);
        } else {
            assert!(sent.is_empty());
        }
        assert!(!pair.server.is_connected());
    }
}

/// 5.0 MQTT-3.2.2-15 with topic aliases: a PUBLISH `publish` accepted must go out within
/// the server's Maximum Packet Size even when the session adds a Topic Alias to it.
#[test]
fn v5_automatic_topic_alias_never_pushes_a_publish_over_the_maximum_mqtt_3_2_2_15() {
    let now = Instant::from_millis(1);
    let mut client = connecting_client(V5, true, now);
    let mut ack = ConnAck::new(ConnectReasonCode::Success);
    ack.properties.maximum_packet_size = Some(nz32(64));
    ack.properties.topic_alias_maximum = Some(4);
    client.handle_incoming(now, Packet::ConnAck(ack)).unwrap();
    // QoS 0, topic "t": 2 + 3 + 1 = 6 bytes of overhead; 64 bytes exactly.
    let exact = Publish::new(topic("t"), payload_of(58));
    let result = client.publish(QoS::AtMostOnce, exact);
    if let Err(e) = result {
        // Refusing it is also correct: nothing may be sent then.
        assert!(matches!(e, SessionError::PacketTooLarge { .. }), "{e:?}");
        assert!(drain(&mut client, now).is_empty());
        return;
    }
    let mut buf = BytesMut::new();
    let sent = client.poll_transmit_into(now, &mut buf);
    assert!(
        matches!(sent, Ok(Some(n)) if n <= 64),
        "{sent:?}: the accepted PUBLISH does not fit the server's 64 bytes"
    );
}

// ---------------------------------------------------------------------------------------
// Keep alive (5.0 section 3.1.2.10, 3.1.1 section 3.1.2.10)
// ---------------------------------------------------------------------------------------

/// 5.0 MQTT-3.1.2-20 / 3.1.1 MQTT-3.1.2-23: after Keep Alive (10 s) without sending, the
/// client sends PINGREQ (`C0 00`) and the server answers PINGRESP (`D0 00`, MQTT-3.12.4-1);
/// any packet sent resets the timer.
#[test]
fn client_pings_after_keep_alive_of_silence_and_sending_resets_the_timer() {
    for version in BOTH {
        let mut pair = Pair::new(version);
        let t0 = pair.now;
        pair.connect(true);
        assert_eq!(pair.client.poll_timeout(), Some(t0 + secs(10)));
        pair.advance(secs(9));
        pair.client
            .publish(QoS::AtMostOnce, message("t", "keep"))
            .unwrap();
        pair.run();
        assert_eq!(pair.client.poll_timeout(), Some(t0 + secs(19)));
        pair.advance(secs(1)); // t0 + 10 s: the old deadline, no ping
        pair.run();
        assert!(pair.crossed(Dir::ToServer, PacketType::PingReq).is_empty());
        pair.advance(Duration::from_millis(8_999));
        pair.run();
        assert!(pair.crossed(Dir::ToServer, PacketType::PingReq).is_empty());
        pair.advance(Duration::from_millis(1)); // t0 + 19 s
        pair.run();
        assert_eq!(
            crossed_bytes(&pair, Dir::ToServer, PacketType::PingReq),
            [vec![0xC0, 0x00]]
        );
        assert_eq!(
            crossed_bytes(&pair, Dir::ToClient, PacketType::PingResp),
            [vec![0xD0, 0x00]]
        );
        assert!(pair.client.is_connected() && pair.server.is_connected());
        assert_eq!(pair.client.poll_timeout(), Some(t0 + secs(29)));
        assert_eq!(pair.server.poll_timeout(), Some(t0 + secs(19 + 15)));
    }
}

/// 5.0 MQTT-3.1.2-21 / MQTT-3.2.2-21: Server Keep Alive (CONNACK `13 00 03`) replaces the
/// client's 10 s on both sides; a Server Keep Alive of 0 turns keep alive off.
#[test]
fn v5_server_keep_alive_replaces_the_clients_mqtt_3_1_2_21() {
    let mut pair = Pair::with_configs(
        V5,
        SessionConfig::default(),
        config(|c| c.server_keep_alive = Some(3)),
    );
    let t0 = pair.now;
    pair.connect(true);
    let connack = &crossed_bytes(&pair, Dir::ToClient, PacketType::ConnAck)[0];
    assert!(connack.windows(3).any(|w| w == [0x13, 0x00, 0x03]));
    assert_eq!(connected(&pair.client_events).keep_alive, secs(3));
    assert_eq!(pair.client.poll_timeout(), Some(t0 + secs(3)));
    assert_eq!(
        pair.server.poll_timeout(),
        Some(t0 + Duration::from_millis(4_500))
    );
    pair.advance(secs(3));
    pair.run();
    assert_eq!(pair.crossed(Dir::ToServer, PacketType::PingReq).len(), 1);

    let mut pair = Pair::with_configs(
        V5,
        SessionConfig::default(),
        config(|c| c.server_keep_alive = Some(0)),
    );
    pair.connect(true);
    assert_eq!(connected(&pair.client_events).keep_alive, Duration::ZERO);
    assert_eq!(pair.client.poll_timeout(), None);
    assert_eq!(pair.server.poll_timeout(), None);
}

/// Untagged §3.1.2.10 (both versions): no PINGRESP within `response_timeout` (5 s) after
/// PINGREQ: the client ends the connection with DisconnectCause::KeepAliveTimeout.
#[test]
fn client_closes_when_no_pingresp_arrives_within_the_response_timeout() {
    for version in BOTH {
        let mut pair = Pair::with_configs(
            version,
            config(|c| c.response_timeout = secs(5)),
            SessionConfig::default(),
        );
        let t0 = pair.now;
        pair.connect(true);
        pair.advance(secs(10));
        assert_eq!(pair.deliver_to_server(), Some(Packet::PingReq));
        pair.flush();
        pair.to_client.clear(); // the PINGRESP is lost
        assert_eq!(pair.client.poll_timeout(), Some(t0 + secs(15)));
        pair.advance(Duration::from_millis(4_999));
        assert!(pair.client.is_connected());
        pair.advance(Duration::from_millis(1));
        assert!(!pair.client.is_connected());
        assert_eq!(
            disconnect_cause(&pair.client_events),
            &DisconnectCause::KeepAliveTimeout
        );
        assert!(pair.server.is_connected(), "the server heard the PINGREQ");
        assert!(drain(&mut pair.client, pair.now).is_empty());
        assert_eq!(pair.client.poll_timeout(), None);
    }
}

/// 5.0 MQTT-3.1.2-22 / 3.1.1 MQTT-3.1.2-24: with Keep Alive 10 the server closes after
/// 15 s without a packet: nothing at 14.9 s; at 15 s 5.0 sends DISCONNECT 0x8D
/// (`E0 01 8D`), 3.1.1 closes without a packet. A received packet restarts the period.
#[test]
fn server_closes_after_one_and_a_half_keep_alives_of_silence() {
    for version in BOTH {
        let t0 = Instant::from_millis(5_000);
        let mut server = accepted_server(SessionConfig::default(), connect_v(version, 10), t0);
        assert_eq!(server.poll_timeout(), Some(t0 + secs(15)));
        server.handle_timeout(t0 + Duration::from_millis(14_900));
        assert!(drain(&mut server, t0).is_empty());
        assert!(events(&mut server).is_empty());
        assert!(server.is_connected());
        server.handle_timeout(t0 + secs(15));
        let sent = drain_bytes(&mut server, t0 + secs(15));
        if version.is_v5() {
            assert_eq!(sent, [vec![0xE0, 0x01, 0x8D]]);
        } else {
            assert!(sent.is_empty());
        }
        assert_eq!(
            disconnect_cause(&events(&mut server)),
            &DisconnectCause::KeepAliveTimeout
        );
        assert!(!server.is_connected());
        assert_eq!(server.poll_timeout(), None);

        // Any packet from the client restarts the 15 s.
        let mut server = accepted_server(SessionConfig::default(), connect_v(version, 10), t0);
        server
            .handle_incoming(t0 + secs(10), Packet::PingReq)
            .unwrap();
        assert_eq!(server.poll_timeout(), Some(t0 + secs(25)));
        server.handle_timeout(t0 + secs(15));
        assert!(server.is_connected());
        assert_eq!(drain(&mut server, t0 + secs(15)), [Packet::PingResp]);
    }
}

/// Untagged §3.1.2.10 (both versions): Keep Alive 0 turns the mechanism off: once
/// connected neither side has a deadline.
#[test]
fn keep_alive_zero_means_no_deadline_once_connected() {
    for version in BOTH {
        let mut pair = Pair::new(version);
        let mut connect = pair.connect_packet(true);
        connect.keep_alive = 0;
        pair.client.connect(pair.now, connect).unwrap();
        assert_eq!(
            pair.client.poll_timeout(),
            Some(pair.now + secs(30)),
            "waiting for CONNACK"
        );
        pair.run();
        assert!(pair.client.is_connected());
        assert_eq!(connected(&pair.client_events).keep_alive, Duration::ZERO);
        assert_eq!(pair.client.poll_timeout(), None);
        assert_eq!(pair.server.poll_timeout(), None);
        pair.advance(secs(24 * 3600));
        pair.run();
        assert!(pair.client.is_connected() && pair.server.is_connected());
        assert_eq!(pair.log.len(), 2, "CONNECT and CONNACK only");
    }
}

/// `handle_timeout` before the deadline, without one, or after the connection ended
/// changes nothing.
#[test]
fn early_or_spurious_handle_timeout_does_nothing() {
    for version in BOTH {
        let mut idle = Client::new(SessionConfig::default());
        idle.handle_timeout(Instant::from_millis(u64::MAX));
        assert!(drain(&mut idle, Instant::ZERO).is_empty());
        assert!(events(&mut idle).is_empty());
        let mut idle = Server::new(SessionConfig::default());
        idle.handle_timeout(Instant::from_millis(u64::MAX));
        assert!(drain(&mut idle, Instant::ZERO).is_empty());
        assert!(events(&mut idle).is_empty());

        let mut pair = Pair::new(version);
        pair.connect(true);
        let (client_deadline, server_deadline) =
            (pair.client.poll_timeout(), pair.server.poll_timeout());
        let early = pair.now + secs(5);
        pair.client.handle_timeout(early);
        pair.server.handle_timeout(early);
        pair.client.handle_timeout(pair.now); // the past
        assert!(drain(&mut pair.client, early).is_empty());
        assert!(drain(&mut pair.server, early).is_empty());
        assert!(events(&mut pair.client).is_empty());
        assert!(events(&mut pair.server).is_empty());
        assert_eq!(pair.client.poll_timeout(), client_deadline);
        assert_eq!(pair.server.poll_timeout(), server_deadline);

        pair.client
            .disconnect(Disconnect::new(DisconnectReasonCode::NormalDisconnection))
            .unwrap();
        pair.run();
        let count = pair.log.len();
        pair.client.handle_timeout(pair.now + secs(3600));
        pair.server.handle_timeout(pair.now + secs(3600));
        pair.run();
        assert_eq!(pair.log.len(), count);
        assert!(events(&mut pair.client).is_empty());
        assert!(events(&mut pair.server).is_empty());
    }
}

// ---------------------------------------------------------------------------------------
// DISCONNECT (5.0 section 3.14, 3.1.1 section 3.14)
// ---------------------------------------------------------------------------------------

/// 5.0 MQTT-3.14.4-1 / 3.1.1 MQTT-3.14.4-2: after DISCONNECT (`E0 00`) the client sends
/// nothing more: `publish` and `subscribe` fail, and a message waiting for quota (5.0) is
/// not flushed even when a PUBACK arrives.
#[test]
fn client_sends_nothing_after_disconnect() {
    for version in BOTH {
        let mut pair = Pair::with_configs(
            version,
            SessionConfig::default(),
            config(|c| c.receive_maximum = nz16(1)),
        );
        pair.connect(true);
        pair.client
            .publish(QoS::AtLeastOnce, message("t", "a"))
            .unwrap();
        pair.client
            .publish(QoS::AtLeastOnce, message("t", "b"))
            .unwrap();
        pair.client
            .disconnect(Disconnect::new(DisconnectReasonCode::NormalDisconnection))
            .unwrap();
        assert!(!pair.client.is_connected());
        assert_eq!(
            pair.client.publish(QoS::AtMostOnce, message("t", "c")),
            Err(SessionError::NotConnected)
        );
        assert_eq!(
            pair.client.subscribe(
                vec![Subscription::new(
                    TopicFilter::new("x").unwrap(),
                    QoS::AtMostOnce
                )],
                SubscribeProperties::default()
            ),
            Err(SessionError::NotConnected)
        );
        assert_eq!(
            pair.client
                .disconnect(Disconnect::new(DisconnectReasonCode::NormalDisconnection)),
            Err(SessionError::NotConnected)
        );
        assert_eq!(pair.client.poll_timeout(), None);
        pair.run();
        let expected_publishes = if version.is_v5() { 1 } else { 2 };
        let mut expected = vec![PacketType::Connect];
        expected.extend(std::iter::repeat(PacketType::Publish).take(expected_publishes));
        expected.push(PacketType::Disconnect);
        assert_eq!(crossed_types(&pair, Dir::ToServer), expected, "{version:?}");
        assert_eq!(
            crossed_bytes(&pair, Dir::ToServer, PacketType::Disconnect),
            [vec![0xE0, 0x00]]
        );
        assert_eq!(
            pair.client_events.last(),
            Some(&Event::Disconnected(DisconnectCause::Local(
                DisconnectReasonCode::NormalDisconnection
            )))
        );
        // The unacknowledged messages stay in the session for a resume.
        assert_eq!(pair.client.session().unacknowledged(), 2);
    }
}

/// The server reports a client's DISCONNECT as DisconnectCause::Peer with its reason code
/// (5.0 `E0 01 04`, 3.1.1 `E0 00`) and then ignores the connection.
#[test]
fn server_reports_the_clients_disconnect_as_peer() {
    for version in BOTH {
        let mut pair = Pair::new(version);
        pair.connect(true);
        let code = if version.is_v5() {
            DisconnectReasonCode::DisconnectWithWillMessage
        } else {
            DisconnectReasonCode::NormalDisconnection
        };
        pair.client.disconnect(Disconnect::new(code)).unwrap();
        pair.run();
        let expected = if version.is_v5() {
            vec![0xE0, 0x01, 0x04]
        } else {
            vec![0xE0, 0x00]
        };
        assert_eq!(
            crossed_bytes(&pair, Dir::ToServer, PacketType::Disconnect),
            [expected]
        );
        assert_eq!(
            disconnect_cause(&pair.server_events),
            &DisconnectCause::Peer(Disconnect::new(code))
        );
        assert!(!pair.server.is_connected());
        pair.server
            .handle_incoming(pair.now, publish_packet("t", "late", QosPid::AtMostOnce))
            .unwrap();
        assert!(events(&mut pair.server).is_empty());
    }
}

/// 3.1.1 untagged §3.14: DISCONNECT travels only from client to server; a 3.1.1 client
/// fed `E0 00` treats it as a protocol violation and closes without sending anything.
#[test]
fn v3_client_fed_a_disconnect_from_the_server_is_a_protocol_error() {
    let mut pair = Pair::new(V3);
    pair.connect(true);
    let err = pair
        .client
        .handle_incoming(pair.now, parse(V3, &[0xE0, 0x00]))
        .unwrap_err();
    assert_eq!(err.reason_code(), DisconnectReasonCode::ProtocolError);
    assert!(drain(&mut pair.client, pair.now).is_empty());
    assert!(!pair.client.is_connected());
    assert_eq!(violation(&events(&mut pair.client)), err);
}

/// 5.0: the server may send DISCONNECT (`E0 01 8B`), reported by the client as Peer; but
/// never with a Session Expiry Interval (MQTT-3.14.2-2): the server API refuses it and a
/// client fed `E0 07 00 05 11 00 00 00 00` answers DISCONNECT 0x82.
#[test]
fn v5_server_disconnect_reaches_the_client_without_session_expiry_mqtt_3_14_2_2() {
    let mut pair = Pair::new(V5);
    pair.connect(true);
    let mut with_expiry = Disconnect::new(DisconnectReasonCode::ServerShuttingDown);
    with_expiry.properties.session_expiry_interval = Some(0);
    assert_eq!(
        pair.server.disconnect(with_expiry),
        Err(SessionError::Forbidden {
            what: "Session Expiry Interval in a server's DISCONNECT",
            rule: "MQTT-3.14.2-2",
        })
    );
    assert!(pair.server.is_connected());
    pair.server
        .disconnect(Disconnect::new(DisconnectReasonCode::ServerShuttingDown))
        .unwrap();
    pair.run();
    assert_eq!(
        crossed_bytes(&pair, Dir::ToClient, PacketType::Disconnect),
        [vec![0xE0, 0x01, 0x8B]]
    );
    assert_eq!(
        disconnect_cause(&pair.client_events),
        &DisconnectCause::Peer(Disconnect::new(DisconnectReasonCode::ServerShuttingDown))
    );
    assert!(pair
        .crossed(Dir::ToServer, PacketType::Disconnect)
        .is_empty());

    let mut pair = Pair::new(V5);
    pair.connect(true);
    let err = pair
        .client
        .handle_incoming(
            pair.now,
            parse(V5, &[0xE0, 0x07, 0x00, 0x05, 0x11, 0x00, 0x00, 0x00, 0x00]),
        )
        .unwrap_err();
    assert_eq!(err.rule(), Some("MQTT-3.14.2-2"));
    assert_eq!(
        drain_bytes(&mut pair.client, pair.now),
        [vec![0xE0, 0x01, 0x82]]
    );
}

/// 5.0 untagged §3.14.2.2.2: after a CONNECT with Session Expiry 0, a DISCONNECT setting a
/// non-zero one is a protocol error: the client API refuses it (nothing sent, still
/// connected); a server fed `E0 07 00 05 11 00 00 00 0A` answers DISCONNECT 0x82 and does
/// not treat it as a normal DISCONNECT.
#[test]
fn v5_disconnect_setting_session_expiry_after_zero_is_refused() {
    let mut pair = Pair::new(V5);
    pair.connect(true);
    let mut d = Disconnect::new(DisconnectReasonCode::NormalDisconnection);
    d.properties.session_expiry_interval = Some(10);
    assert_eq!(
        pair.client.disconnect(d),
        Err(SessionError::Forbidden {
            what: "Session Expiry Interval set in DISCONNECT after 0 in CONNECT",
            rule: "section 3.14.2.2.2",
        })
    );
    assert!(pair.client.is_connected());
    assert!(drain(&mut pair.client, pair.now).is_empty());

    let err = pair
        .server
        .handle_incoming(
            pair.now,
            parse(V5, &[0xE0, 0x07, 0x00, 0x05, 0x11, 0x00, 0x00, 0x00, 0x0A]),
        )
        .unwrap_err();
    assert_eq!(err.reason_code(), DisconnectReasonCode::ProtocolError);
    assert_eq!(
        drain_bytes(&mut pair.server, pair.now),
        [vec![0xE0, 0x01, 0x82]]
    );
    assert!(matches!(
        disconnect_cause(&events(&mut pair.server)),
        DisconnectCause::ProtocolViolation(_)
    ));

    // With a non-zero expiry in CONNECT, the client may change it (here to 0).
    let mut pair = Pair::new(V5);
    pair.connect(false);
    let mut d = Disconnect::new(DisconnectReasonCode::NormalDisconnection);
    d.properties.session_expiry_interval = Some(0);
    pair.client.disconnect(d.clone()).unwrap();
    pair.run();
    assert_eq!(
        disconnect_cause(&pair.server_events),
        &DisconnectCause::Peer(d)
    );
}

// ---------------------------------------------------------------------------------------
// AUTH (5.0 section 4.12)
// ---------------------------------------------------------------------------------------

/// 5.0 MQTT-4.12.0-7 (client) and MQTT-4.12.0-6 (server): without an Authentication
/// Method in CONNECT no AUTH is sent and CONNACK has no `15`; a client fed AUTH
/// (`F0 06 18 04 15 00 01 4D`) answers DISCONNECT 0x82 (untagged §3.15).
#[test]
fn v5_auth_without_an_authentication_method_is_refused_mqtt_4_12_0_7() {
    let mut pair = Pair::new(V5);
    pair.connect(true);
    assert_eq!(
        pair.client.auth(Auth::new(AuthReasonCode::ReAuthenticate)),
        Err(SessionError::AuthNotNegotiated)
    );
    assert_eq!(
        pair.server
            .auth(Auth::new(AuthReasonCode::ContinueAuthentication)),
        Err(SessionError::AuthNotNegotiated)
    );
    pair.run();
    assert!(pair.crossed(Dir::ToServer, PacketType::Auth).is_empty());
    assert!(pair.crossed(Dir::ToClient, PacketType::Auth).is_empty());
    match &pair.crossed(Dir::ToClient, PacketType::ConnAck)[0] {
        Packet::ConnAck(ack) => assert_eq!(ack.properties.authentication_method(), None),
        other => panic!("{other:?}"),
    }
    let auth = parse(V5, &[0xF0, 0x06, 0x18, 0x04, 0x15, 0x00, 0x01, 0x4D]);
    let err = pair.client.handle_incoming(pair.now, auth).unwrap_err();
    assert_eq!(err.reason_code(), DisconnectReasonCode::ProtocolError);
    assert_eq!(
        drain_bytes(&mut pair.client, pair.now),
        [vec![0xE0, 0x01, 0x82]]
    );
}

/// 5.0 MQTT-4.12.0-5 / MQTT-4.12.0-2 / MQTT-4.12.0-3: with Authentication Method "M" the
/// AUTH packets carry it (`F0 06 18 04 15 00 01 4D`) and arrive as Event::Auth; the client
/// sends nothing but AUTH before CONNACK (MQTT-3.1.2-30); the CONNACK repeats the method;
/// re-authentication is `F0 06 19 04 15 00 01 4D` (MQTT-4.12.1-1).
#[test]
fn v5_auth_exchange_reaches_the_other_side_as_event_auth_mqtt_4_12_0_5() {
    let mut pair = Pair::new(V5);
    pair.auto_answer = false;
    let mut connect = pair.connect_packet(true);
    connect
        .properties
        .set_authentication_method(Some(mstr("M")));
    pair.client.connect(pair.now, connect).unwrap();
    pair.run();
    let connect_bytes = &crossed_bytes(&pair, Dir::ToServer, PacketType::Connect)[0];
    assert!(connect_bytes
        .windows(4)
        .any(|w| w == [0x15, 0x00, 0x01, b'M']));

    pair.server
        .auth(Auth::new(AuthReasonCode::ContinueAuthentication))
        .unwrap();
    pair.run();
    assert_eq!(
        crossed_bytes(&pair, Dir::ToClient, PacketType::Auth),
        [vec![0xF0, 0x06, 0x18, 0x04, 0x15, 0x00, 0x01, b'M']]
    );
    let mut expected = Auth::new(AuthReasonCode::ContinueAuthentication);
    expected
        .properties
        .set_authentication_method(Some(mstr("M")));
    assert_eq!(pair.client_events, [Event::Auth(expected.clone())]);

    assert_eq!(
        pair.client.publish(QoS::AtMostOnce, message("t", "x")),
        Err(SessionError::NotConnected)
    );
    let mut answer = Auth::new(AuthReasonCode::ContinueAuthentication);
    answer
        .properties
        .set_authentication_data(Some(Bytes::from_static(b"secret")))
        .unwrap();
    pair.client.auth(answer).unwrap();
    pair.run();
    match pair.server_events.last() {
        Some(Event::Auth(a)) => {
            assert_eq!(a.reason_code, AuthReasonCode::ContinueAuthentication);
            assert_eq!(a.properties.authentication_method(), Some(mstr("M")));
            assert_eq!(
                a.properties.authentication_data().as_deref(),
                Some(&b"secret"[..])
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        crossed_types(&pair, Dir::ToServer),
        [PacketType::Connect, PacketType::Auth]
    );

    pair.server
        .accept(None, ConnAckProperties::default())
        .unwrap();
    pair.run();
    assert!(pair.client.is_connected());
    match &pair.crossed(Dir::ToClient, PacketType::ConnAck)[0] {
        Packet::ConnAck(ack) => {
            assert_eq!(ack.properties.authentication_method(), Some(mstr("M")))
        }
        other => panic!("{other:?}"),
    }
    pair.client
        .auth(Auth::new(AuthReasonCode::ReAuthenticate))
        .unwrap();
    pair.run();
    assert_eq!(
        crossed_bytes(&pair, Dir::ToServer, PacketType::Auth)[1],
        [0xF0, 0x06, 0x19, 0x04, 0x15, 0x00, 0x01, b'M']
    );
    assert!(matches!(
        pair.server_events.last(),
        Some(Event::Auth(a)) if a.reason_code == AuthReasonCode::ReAuthenticate
    ));
}

/// 5.0 MQTT-4.12.0-5: an AUTH with another Authentication Method is a protocol error
/// (DISCONNECT 0x82) on either side, and our own AUTH must repeat the CONNECT's method.
#[test]
fn v5_auth_with_a_different_method_is_disconnect_82_mqtt_4_12_0_5() {
    let other = || {
        let mut a = Auth::new(AuthReasonCode::ContinueAuthentication);
        a.properties.set_authentication_method(Some(mstr("X")));
        a
    };
    let connect_m = |pair: &Pair| {
        let mut c = pair.connect_packet(true);
        c.properties.set_authentication_method(Some(mstr("M")));
        c
    };

    // Server side, after CONNACK.
    let mut pair = Pair::new(V5);
    let connect = connect_m(&pair);
    pair.connect_with(connect);
    assert!(pair.client.is_connected());
    assert_eq!(
        pair.client.auth(other()),
        Err(SessionError::AuthNotNegotiated)
    );
    let err = pair
        .server
        .handle_incoming(pair.now, Packet::Auth(other()))
        .unwrap_err();
    assert_eq!(err.rule(), Some("MQTT-4.12.0-5"));
    assert_eq!(err.reason_code(), DisconnectReasonCode::ProtocolError);
    assert_eq!(
        drain_bytes(&mut pair.server, pair.now),
        [vec![0xE0, 0x01, 0x82]]
    );

    // Client side, after CONNACK.
    let mut pair = Pair::new(V5);
    let connect = connect_m(&pair);
    pair.connect_with(connect);
    let err = pair
        .client
        .handle_incoming(pair.now, Packet::Auth(other()))
        .unwrap_err();
    assert_eq!(err.rule(), Some("MQTT-4.12.0-5"));
    assert_eq!(
        drain_bytes(&mut pair.client, pair.now),
        [vec![0xE0, 0x01, 0x82]]
    );

    // Server side, before CONNACK: the connection ends without DISCONNECT
    // (MQTT-3.14.0-1), and accept cannot change the method either.
    let now = Instant::from_millis(1);
    let mut connect = connect_v(V5, 10);
    connect
        .properties
        .set_authentication_method(Some(mstr("M")));
    let mut server = requested_server(SessionConfig::default(), connect.clone(), now);
    let mut props = ConnAckProperties::default();
    props.set_authentication_method(Some(mstr("X")));
    assert_eq!(
        server.accept(None, props).map_err(|e| e.error().clone()),
        Err(SessionError::AuthNotNegotiated)
    );
    let err = server
        .handle_incoming(now, Packet::Auth(other()))
        .unwrap_err();
    assert_eq!(err.rule(), Some("MQTT-4.12.0-5"));
    assert!(drain(&mut server, now).is_empty());
    assert!(!server.is_connected());
}

/// Section 3.15.2.1: AUTH Success without properties has a short form, `F0 00`, and a full
/// one, `F0 02 00 00`; both decode to the same packet, so a session treats them alike. With
/// Authentication Method "M" negotiated, either lacks the method the AUTH must repeat
/// (MQTT-4.12.0-5): DISCONNECT 0x82 on either side.
#[test]
fn v5_bare_auth_success_is_refused_alike_in_short_and_full_form_mqtt_4_12_0_5() {
    let short = parse(V5, &[0xF0, 0x00]);
    assert_eq!(parse(V5, &[0xF0, 0x02, 0x00, 0x00]), short);
    for client_side in [true, false] {
        let mut pair = Pair::new(V5);
        let mut connect = pair.connect_packet(true);
        connect
            .properties
            .set_authentication_method(Some(mstr("M")));
        pair.connect_with(connect);
        assert!(pair.client.is_connected());
        let err = if client_side {
            pair.client.handle_incoming(pair.now, short.clone())
        } else {
            pair.server.handle_incoming(pair.now, short.clone())
        }
        .unwrap_err();
        assert_eq!(
            err.rule(),
            Some("MQTT-4.12.0-5"),
            "client side: {client_side}"
        );
        assert_eq!(err.reason_code(), DisconnectReasonCode::ProtocolError);
        let sent = if client_side {
            drain_bytes(&mut pair.client, pair.now)
        } else {
            drain_bytes(&mut pair.server, pair.now)
        };
        assert_eq!(sent, [vec![0xE0, 0x01, 0x82]], "client side: {client_side}");
    }
}

/// A 3.1.1 CONNECT has no properties (3.1.1 section 3.1.2); one built by hand with 5.0
/// limits in its property set is not obeyed by a server: no Receive Maximum, Maximum
/// Packet Size or Topic Alias Maximum comes from it, so the server never adds an alias a
/// 3.1.1 PUBLISH cannot carry.
#[test]
fn v3_server_ignores_properties_of_a_hand_built_connect() {
    let mut connect = Connect::new(ProtocolVersion::V3_1_1, MqttString::new("c").unwrap());
    connect.properties.receive_maximum = NonZeroU16::new(1);
    connect.properties.maximum_packet_size = NonZeroU32::new(20);
    connect.properties.topic_alias_maximum = Some(5);
    let mut config = SessionConfig::default();
    config.outgoing_topic_aliases = 5;
    let mut server = Server::new(config);
    server
        .handle_incoming(Instant::ZERO, Packet::Connect(Box::new(connect)))
        .unwrap();
    assert!(matches!(
        server.poll_event(),
        Some(Event::ConnectRequest(_))
    ));
    server.accept(None, ConnAckProperties::default()).unwrap();
    let Some(Event::Connected(connected)) = server.poll_event() else {
        panic!("no Connected event");
    };
    assert_eq!(connected.send_quota, u16::MAX);
    assert_eq!(connected.peer_topic_alias_maximum, 0);
    assert_eq!(server.max_outgoing_packet_size(), mqttwire::MAX_PACKET_SIZE);
    let mut buf = BytesMut::new();
    while server
        .poll_transmit_into(Instant::ZERO, &mut buf)
        .unwrap()
        .is_some()
    {}
    let message = Publish::new(topic("a/long/topic/name"), "payload that is long enough");
    server.publish(QoS::AtLeastOnce, message).unwrap();
    let mut buf = BytesMut::new();
    assert!(server
        .poll_transmit_into(Instant::ZERO, &mut buf)
        .unwrap()
        .is_some());
    let (packet, _) = Packet::decode(&buf.freeze(), ProtocolVersion::V3_1_1).unwrap();
    assert!(matches!(packet, Packet::Publish(p) if !p.topic.is_empty()));
}
