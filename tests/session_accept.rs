//! `Server::accept`: what a failed call leaves (nothing: the session state comes back to the
//! caller untouched, and a later accept with it is as if the failed call never happened),
//! what Session Present says, and the packets a client pipelines after its CONNECT, which
//! are handled as if they arrived after the CONNACK.
//!
//! Rule tags follow /work/shared/spec/CONFORMANCE.md and are per version: a test of 5.0
//! behaviour cites the 5.0 tag, a test of 3.1.1 behaviour the 3.1.1 tag.

mod session_util;

use core::num::{NonZeroU16, NonZeroU32};
use mqttwire::properties::ConnAckProperties;
use mqttwire::session::{
    AcceptError, DisconnectCause, Event, Instant, Server, SessionConfig, SessionError, SessionState,
};
use mqttwire::{
    Auth, AuthReasonCode, ConnAck, Connect, ConnectReasonCode, Disconnect, DisconnectReasonCode,
    EncodeError, MqttString, Packet, PacketId, ProtocolVersion, PubAck, PubComp, PubRec, PubRel,
    Publish, QoS, QosPid, SubAck, SubAckReasonCode, Subscribe, Subscription, TopicFilter,
    Unsubscribe,
};
use session_util::topic;

const V3: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;
const BOTH: [ProtocolVersion; 2] = [V3, V5];

/// The packet identifier of the QoS 2 message the stored session received and delivered,
/// whose PUBREL never came.
const RECEIVED_QOS2: u16 = 7;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn now() -> Instant {
    Instant::from_millis(1_000)
}

fn pid(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

fn drain(server: &mut Server) -> Vec<Packet> {
    std::iter::from_fn(|| server.poll_transmit(now())).collect()
}

fn events(server: &mut Server) -> Vec<Event> {
    std::iter::from_fn(|| server.poll_event()).collect()
}

/// A CONNECT for client id "c1"; a 5.0 one that resumes asks for a session that outlives
/// the connection.
fn connect(version: ProtocolVersion, clean_start: bool) -> Connect {
    let mut connect = Connect::new(version, MqttString::new("c1").unwrap());
    connect.clean_start = clean_start;
    connect.keep_alive = 10;
    if version.is_v5() && !clean_start {
        connect.properties.session_expiry_interval = Some(3_600);
    }
    connect
}

fn publish(id: u16, qos: QoS, dup: bool) -> Packet {
    let mut p = Publish::new(topic("t"), format!("m{id}"));
    p.qos = match qos {
        QoS::AtMostOnce => QosPid::AtMostOnce,
        QoS::AtLeastOnce => QosPid::AtLeastOnce(pid(id)),
        QoS::ExactlyOnce => QosPid::ExactlyOnce(pid(id)),
    };
    p.dup = dup;
    Packet::Publish(p)
}

/// A server that received `connect` and reported its ConnectRequest (drained).
fn requested(config: SessionConfig, connect: Connect) -> Server {
    let mut server = Server::new(config);
    server
        .handle_incoming(now(), Packet::from(connect))
        .unwrap();
    let ev = events(&mut server);
    assert!(matches!(ev[..], [Event::ConnectRequest(_)]), "{ev:?}");
    server
}

/// The state a client's earlier connection left: one QoS 1 message of ours unacknowledged,
/// and the QoS 2 message `RECEIVED_QOS2` received, delivered and PUBRECed, no PUBREL yet.
fn stored_session(version: ProtocolVersion) -> SessionState {
    let mut server = requested(SessionConfig::default(), connect(version, false));
    server.accept(None, ConnAckProperties::default()).unwrap();
    server
        .publish(QoS::AtLeastOnce, Publish::new(topic("out"), "ours"))
        .unwrap();
    server
        .handle_incoming(now(), publish(RECEIVED_QOS2, QoS::ExactlyOnce, false))
        .unwrap();
    let ev = events(&mut server);
    assert_eq!(
        ev.iter().filter(|e| matches!(e, Event::Message(_))).count(),
        1
    );
    let sent = drain(&mut server);
    assert_eq!(
        sent.last(),
        Some(&Packet::PubRec(PubRec::new(pid(RECEIVED_QOS2))))
    );
    server.handle_connection_lost();
    let state = server.take_session();
    assert_eq!(state.incomplete_incoming(), 1);
    assert_eq!(state.unacknowledged(), 1);
    state
}

/// What a server sent and reported from an `accept` that succeeded onwards, with the
/// client then retransmitting the stored QoS 2 message (DUP) and releasing it, and sending
/// a new QoS 1 message.
fn transcript_after_accept(server: &mut Server) -> (Vec<Packet>, Vec<Event>) {
    let mut sent = drain(server);
    let mut ev = events(server);
    for packet in [
        publish(RECEIVED_QOS2, QoS::ExactlyOnce, true),
        Packet::PubRel(PubRel::new(pid(RECEIVED_QOS2))),
        publish(20, QoS::AtLeastOnce, false),
    ] {
        server.handle_incoming(now(), packet).unwrap();
        sent.extend(drain(server));
        ev.extend(events(server));
    }
    (sent, ev)
}

/// The transcript of a resumed session: CONNACK with Session Present 1, our message again
/// with DUP, the retransmitted QoS 2 message acknowledged but not delivered a second time
/// (5.0 MQTT-4.3.3-10, 3.1.1 MQTT-4.3.3-2), then the new message delivered.
fn assert_resumed_exactly_once(sent: &[Packet], ev: &[Event]) {
    let [Packet::ConnAck(ack), Packet::Publish(ours), Packet::PubRec(rec), Packet::PubComp(comp), Packet::PubAck(new)] =
        sent
    else {
        panic!("unexpected packets: {sent:?}");
    };
    assert!(ack.session_present, "{ack:?}");
    assert!(ours.dup && &ours.payload[..] == b"ours", "{ours:?}");
    assert_eq!(rec.packet_id, pid(RECEIVED_QOS2));
    assert_eq!(comp.packet_id, pid(RECEIVED_QOS2));
    assert_eq!(new.packet_id, pid(20));
    let [Event::Connected(connected), Event::Message(m)] = ev else {
        panic!("unexpected events: {ev:?}");
    };
    assert!(connected.session_present);
    assert_eq!(&m.payload[..], b"m20", "only the new message is delivered");
}

// ---------------------------------------------------------------------------------------
// A failed accept
// ---------------------------------------------------------------------------------------

/// Where the session state goes after the failure.
enum Retry {
    /// The same engine can still accept, with these properties.
    SameEngine(ConnAckProperties),
    /// The client's next connection, on a new engine.
    NextConnection,
}

struct Failure {
    name: &'static str,
    version: ProtocolVersion,
    /// The engine just before the failing call.
    engine: fn(ProtocolVersion) -> Server,
    properties: ConnAckProperties,
    error: fn(&SessionError) -> bool,
    retry: Retry,
}

fn with_assigned(id: &str) -> ConnAckProperties {
    let mut p = ConnAckProperties::default();
    p.set_assigned_client_identifier(Some(MqttString::new(id).unwrap()));
    p
}

fn with_auth_method(method: &str) -> ConnAckProperties {
    let mut p = ConnAckProperties::default();
    p.set_authentication_method(Some(MqttString::new(method).unwrap()));
    p
}

fn requested_resume(version: ProtocolVersion) -> Server {
    requested(SessionConfig::default(), connect(version, false))
}

fn authenticating(version: ProtocolVersion) -> Server {
    let mut c = connect(version, false);
    c.properties
        .set_authentication_method(Some(MqttString::new("M").unwrap()));
    requested(SessionConfig::default(), c)
}

/// Every way `accept` can fail, in the versions where it can.
fn failures() -> Vec<Failure> {
    let mut all = Vec::new();
    for version in BOTH {
        all.extend([
            Failure {
                name: "out of turn: no CONNECT yet",
                version,
                engine: |_| Server::new(SessionConfig::default()),
                properties: ConnAckProperties::default(),
                error: |e| *e == SessionError::NotConnected,
                retry: Retry::NextConnection,
            },
            Failure {
                name: "out of turn: already accepted",
                version,
                engine: |v| {
                    let mut server = requested_resume(v);
                    server.accept(None, ConnAckProperties::default()).unwrap();
                    server
                },
                properties: ConnAckProperties::default(),
                error: |e| *e == SessionError::AlreadyConnected,
                retry: Retry::NextConnection,
            },
            Failure {
                name: "connection lost before the answer",
                version,
                engine: |v| {
                    let mut server = requested_resume(v);
                    server.handle_connection_lost();
                    server
                },
                properties: ConnAckProperties::default(),
                error: |e| *e == SessionError::NotConnected,
                retry: Retry::NextConnection,
            },
            Failure {
                name: "already rejected",
                version,
                engine: |v| {
                    let mut server = requested_resume(v);
                    server.reject(ConnectReasonCode::NotAuthorized).unwrap();
                    server
                },
                properties: ConnAckProperties::default(),
                error: |e| *e == SessionError::NotConnected,
                retry: Retry::NextConnection,
            },
            Failure {
                name: "too many packets pipelined before the answer",
                version,
                engine: |v| {
                    let mut server = requested_resume(v);
                    let refused = (0..1_000)
                        .map(|_| server.handle_incoming(now(), Packet::PingReq))
                        .find_map(Result::err)
                        .expect("the held packets are bounded");
                    assert_eq!(refused.reason_code(), DisconnectReasonCode::QuotaExceeded);
                    server
                },
                properties: ConnAckProperties::default(),
                error: |e| *e == SessionError::NotConnected,
                retry: Retry::NextConnection,
            },
        ]);
    }
    all.extend([
        Failure {
            name: "client DISCONNECT during enhanced authentication",
            version: V5,
            engine: |v| {
                let mut server = authenticating(v);
                let bye = Disconnect::new(DisconnectReasonCode::NormalDisconnection);
                server.handle_incoming(now(), Packet::Disconnect(bye)).unwrap();
                server
            },
            properties: ConnAckProperties::default(),
            error: |e| *e == SessionError::NotConnected,
            retry: Retry::NextConnection,
        },
        Failure {
            name: "protocol violation during enhanced authentication (MQTT-3.1.2-30)",
            version: V5,
            engine: |v| {
                let mut server = authenticating(v);
                let err = server
                    .handle_incoming(now(), publish(1, QoS::AtLeastOnce, false))
                    .unwrap_err();
                assert_eq!(err.rule(), Some("MQTT-3.1.2-30"));
                server
            },
            properties: ConnAckProperties::default(),
            error: |e| *e == SessionError::NotConnected,
            retry: Retry::NextConnection,
        },
        Failure {
            name: "empty client identifier, none assigned (MQTT-3.2.2-16)",
            version: V5,
            engine: |v| {
                let mut c = connect(v, false);
                c.client_id = MqttString::new("").unwrap();
                requested(SessionConfig::default(), c)
            },
            properties: ConnAckProperties::default(),
            error: |e| matches!(e, SessionError::Forbidden { rule, .. } if *rule == "MQTT-3.2.2-16"),
            retry: Retry::SameEngine(with_assigned("x1")),
        },
        Failure {
            name: "Authentication Method the CONNECT did not have (MQTT-4.12.0-6)",
            version: V5,
            engine: requested_resume,
            properties: with_auth_method("X"),
            error: |e| *e == SessionError::AuthNotNegotiated,
            retry: Retry::SameEngine(ConnAckProperties::default()),
        },
        Failure {
            name: "CONNACK above the client's Maximum Packet Size (MQTT-3.1.2-24)",
            version: V5,
            engine: |v| {
                let mut c = connect(v, false);
                c.properties.maximum_packet_size = NonZeroU32::new(30);
                requested(SessionConfig::default(), c)
            },
            properties: with_assigned(&"x".repeat(40)),
            error: |e| matches!(e, SessionError::PacketTooLarge { max: 30, .. }),
            retry: Retry::SameEngine(ConnAckProperties::default()),
        },
        Failure {
            name: "CONNACK property on a 3.1.1 connection",
            version: V3,
            engine: requested_resume,
            properties: with_assigned("x1"),
            error: |e| {
                matches!(
                    e,
                    SessionError::Encode(EncodeError::UnsupportedInVersion { .. })
                )
            },
            retry: Retry::SameEngine(ConnAckProperties::default()),
        },
    ]);
    all
}

/// Whatever makes `accept(Some(state))` fail, nothing is sent, nothing is reported, the
/// engine is as it was (its own state too), and the error hands back every piece of the
/// state it was given: our unacknowledged message and the received QoS 2 identifier.
#[test]
fn a_failed_accept_changes_nothing_and_hands_the_session_back_untouched() {
    for failure in failures() {
        let name = failure.name;
        let version = failure.version;
        let state = stored_session(version);
        let given = format!("{state:?}");
        let mut server = (failure.engine)(version);
        let _ = drain(&mut server);
        let _ = events(&mut server);
        let before = format!("{server:?}");
        let own_state = format!("{:?}", server.session());

        let err = server
            .accept(Some(state), failure.properties.clone())
            .expect_err(name);
        assert!((failure.error)(err.error()), "{name} ({version}): {err:?}");
        assert!(drain(&mut server).is_empty(), "{name}: nothing is sent");
        assert!(events(&mut server).is_empty(), "{name}: no event");
        assert_eq!(
            format!("{server:?}"),
            before,
            "{name}: the engine is unchanged"
        );
        assert_eq!(format!("{:?}", server.session()), own_state, "{name}");
        assert_eq!(
            format!("{:?}", err.session().unwrap()),
            given,
            "{name}: borrowed"
        );
        let back = err.into_session().expect(name);
        assert_eq!(format!("{back:?}"), given, "{name}: handed back untouched");
        assert_eq!(back.incomplete_incoming(), 1, "{name}");
        assert_eq!(back.unacknowledged(), 1, "{name}");
    }
}

/// The defect this guards against: a failed `accept(Some(state))` discarded the state's
/// received QoS 2 identifiers, so the session resumed later with Session Present 1 and the
/// client's retransmission (DUP) was delivered a second time. Now the state handed back,
/// accepted on the same engine once the problem is fixed or on the client's next
/// connection, gives exactly what accepting the original state would have given: Session
/// Present 1 (5.0 MQTT-3.2.2-3, 3.1.1 MQTT-3.2.2-2), our message again with DUP, and the
/// retransmitted QoS 2 message acknowledged, not delivered again.
#[test]
fn accepting_the_handed_back_session_is_as_if_the_failed_accept_never_happened() {
    for failure in failures() {
        let name = failure.name;
        let version = failure.version;
        let state = stored_session(version);

        // As if the failed call never happened.
        let (mut expected_server, properties) = match &failure.retry {
            Retry::SameEngine(p) => ((failure.engine)(version), p.clone()),
            Retry::NextConnection => (requested_resume(version), ConnAckProperties::default()),
        };
        let _ = drain(&mut expected_server);
        let _ = events(&mut expected_server);
        expected_server
            .accept(Some(state.clone()), properties.clone())
            .unwrap();
        let expected = transcript_after_accept(&mut expected_server);
        assert_resumed_exactly_once(&expected.0, &expected.1);

        let mut server = (failure.engine)(version);
        let _ = drain(&mut server);
        let _ = events(&mut server);
        let back = server
            .accept(Some(state), failure.properties.clone())
            .expect_err(name)
            .into_session();
        let mut server = match failure.retry {
            Retry::SameEngine(_) => server,
            Retry::NextConnection => requested_resume(version),
        };
        server.accept(back, properties).expect(name);
        let actual = transcript_after_accept(&mut server);
        assert_eq!(actual, expected, "{name} ({version})");
    }
}

/// A client that pipelines a second CONNECT (3.1.1 and 5.0 MQTT-3.1.0-2) right after the
/// one resuming its session: the application's `accept` succeeds, then the violation ends
/// the connection. The received QoS 2 identifier survives in the session, so the next
/// connection does not deliver the retransmission again.
#[test]
fn a_second_connect_pipelined_before_accept_keeps_the_exactly_once_state() {
    for version in BOTH {
        let state = stored_session(version);
        let mut server = requested_resume(version);
        server
            .handle_incoming(now(), Packet::from(connect(version, false)))
            .unwrap();
        server
            .accept(Some(state), ConnAckProperties::default())
            .unwrap();
        let ev = events(&mut server);
        let Some(Event::Disconnected(DisconnectCause::ProtocolViolation(e))) = ev.last() else {
            panic!("{version}: {ev:?}");
        };
        assert_eq!(e.rule(), Some("MQTT-3.1.0-2"));
        let kept = server.take_session();
        assert_eq!(kept.incomplete_incoming(), 1, "{version}");

        let mut next = requested_resume(version);
        next.accept(Some(kept), ConnAckProperties::default())
            .unwrap();
        let (sent, ev) = transcript_after_accept(&mut next);
        assert_resumed_exactly_once(&sent, &ev);
    }
}

// ---------------------------------------------------------------------------------------
// Session Present and CONNACK properties
// ---------------------------------------------------------------------------------------

/// `accept(Some(empty state))` answers Session Present 1 when the CONNECT's Clean Start
/// (Clean Session) is 0: the server has a session for the client, holding no message
/// (5.0 MQTT-3.2.2-3, 3.1.1 MQTT-3.2.2-2). `None` means no session: Session Present 0
/// (5.0 MQTT-3.2.2-3, 3.1.1 MQTT-3.2.2-3). A clean start answers 0 either way (5.0
/// MQTT-3.2.2-2, 3.1.1 MQTT-3.2.2-1).
#[test]
fn accept_with_an_empty_state_answers_session_present_unless_clean_start() {
    for version in BOTH {
        for (clean_start, session, present) in [
            (false, Some(SessionState::default()), true),
            (false, None, false),
            (true, Some(SessionState::default()), false),
            (true, None, false),
        ] {
            let case = format!("{version} clean start {clean_start} {session:?}");
            let mut server = requested(SessionConfig::default(), connect(version, clean_start));
            server
                .accept(session, ConnAckProperties::default())
                .unwrap();
            let sent = drain(&mut server);
            let [Packet::ConnAck(ack)] = &sent[..] else {
                panic!("{case}: {sent:?}");
            };
            assert_eq!(ack.session_present, present, "{case}");
            let ev = events(&mut server);
            let [Event::Connected(connected)] = &ev[..] else {
                panic!("{case}: {ev:?}");
            };
            assert_eq!(connected.session_present, present, "{case}");
        }
    }
}

/// A 3.1.1 CONNACK has no properties: any given to `accept` is an encoding error, and the
/// call changes nothing; without them the same engine accepts.
#[test]
fn v3_accept_with_a_connack_property_is_an_encode_error() {
    let mut server = requested_resume(V3);
    let mut properties = ConnAckProperties::default();
    properties.server_keep_alive = Some(5);
    let err = server
        .accept(Some(SessionState::default()), properties)
        .unwrap_err();
    assert_eq!(
        err.error(),
        &SessionError::Encode(EncodeError::UnsupportedInVersion {
            what: "CONNACK properties",
            version: V3,
        })
    );
    assert!(drain(&mut server).is_empty() && events(&mut server).is_empty());
    server
        .accept(err.into_session(), ConnAckProperties::default())
        .unwrap();
    let sent = drain(&mut server);
    assert!(
        matches!(&sent[..], [Packet::ConnAck(ack)] if ack.session_present),
        "{sent:?}"
    );
}

/// `AcceptError` displays its cause and goes through `?` into a boxed error.
#[test]
fn accept_error_displays_its_cause_and_converts_into_a_boxed_error() {
    fn accept(server: &mut Server) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        server.accept(None, ConnAckProperties::default())?;
        Ok(())
    }
    let mut server = Server::new(SessionConfig::default());
    let err = accept(&mut server).unwrap_err();
    assert_eq!(err.to_string(), SessionError::NotConnected.to_string());
    let err = err.downcast::<AcceptError>().unwrap();
    assert_eq!(err.error(), &SessionError::NotConnected);
    let (error, session) = err.into_parts();
    assert_eq!(error, SessionError::NotConnected);
    assert!(session.is_none());
}

// ---------------------------------------------------------------------------------------
// Packets pipelined before the answer
// ---------------------------------------------------------------------------------------

/// How a sequence ends the connection, if it does.
#[derive(Debug, Clone, Copy, PartialEq)]
enum End {
    Open,
    Violation(DisconnectReasonCode),
    Peer,
}

struct Sequence {
    name: &'static str,
    versions: &'static [ProtocolVersion],
    config: SessionConfig,
    packets: Vec<Packet>,
    /// Messages delivered, and how the connection ends, in [3.1.1, 5.0], on a fresh
    /// connection.
    delivered: [usize; 2],
    end: [End; 2],
}

fn config(f: impl FnOnce(&mut SessionConfig)) -> SessionConfig {
    let mut c = SessionConfig::default();
    f(&mut c);
    c
}

fn sequences() -> Vec<Sequence> {
    use DisconnectReasonCode as Code;
    let protocol = End::Violation(Code::ProtocolError);
    let qos1 = |id| publish(id, QoS::AtLeastOnce, false);
    let qos2 = |id| publish(id, QoS::ExactlyOnce, false);
    let subscribe = Packet::Subscribe(Subscribe::new(
        pid(2),
        vec![Subscription::new(
            TopicFilter::new("a/#").unwrap(),
            QoS::AtLeastOnce,
        )],
    ));
    let unsubscribe = Packet::Unsubscribe(Unsubscribe::new(
        pid(3),
        vec![TopicFilter::new("a/#").unwrap()],
    ));
    let mut retained = Publish::new(topic("t"), "r");
    retained.qos = QosPid::AtLeastOnce(pid(2));
    retained.retain = true;
    let mut aliased = Publish::new(topic("t"), "a");
    aliased.properties.topic_alias = NonZeroU16::new(1);
    let mut expiry = Disconnect::new(Code::NormalDisconnection);
    expiry.properties.session_expiry_interval = Some(60);
    let bye = Packet::Disconnect(Disconnect::new(Code::NormalDisconnection));
    vec![
        Sequence {
            name: "a QoS 1 PUBLISH",
            versions: &BOTH,
            config: SessionConfig::default(),
            packets: vec![qos1(1)],
            delivered: [1, 1],
            end: [End::Open; 2],
        },
        Sequence {
            name: "QoS 0, 1 and 2 PUBLISH",
            versions: &BOTH,
            config: SessionConfig::default(),
            packets: vec![publish(0, QoS::AtMostOnce, false), qos1(1), qos2(2)],
            delivered: [3, 3],
            end: [End::Open; 2],
        },
        Sequence {
            name: "SUBSCRIBE, UNSUBSCRIBE, PINGREQ",
            versions: &BOTH,
            config: SessionConfig::default(),
            packets: vec![subscribe, unsubscribe, Packet::PingReq],
            delivered: [0, 0],
            end: [End::Open; 2],
        },
        Sequence {
            name: "a QoS 2 exchange with a retransmission",
            versions: &BOTH,
            config: SessionConfig::default(),
            packets: vec![
                qos2(4),
                publish(4, QoS::ExactlyOnce, true),
                Packet::PubRel(PubRel::new(pid(4))),
            ],
            delivered: [1, 1],
            end: [End::Open; 2],
        },
        Sequence {
            name: "acknowledgements of nothing",
            versions: &BOTH,
            config: SessionConfig::default(),
            packets: vec![
                Packet::PubAck(PubAck::new(pid(9))),
                Packet::PubRec(PubRec::new(pid(9))),
                Packet::PubComp(PubComp::new(pid(9))),
                Packet::PubRel(PubRel::new(pid(9))),
            ],
            delivered: [0, 0],
            end: [End::Open; 2],
        },
        Sequence {
            // 5.0 MQTT-3.2.2-11; 3.1.1 announces no Maximum QoS.
            name: "QoS 2 above the Maximum QoS 1 between QoS 1 PUBLISH",
            versions: &BOTH,
            config: config(|c| c.maximum_qos = QoS::AtLeastOnce),
            packets: vec![qos1(1), qos2(2), qos1(3)],
            delivered: [3, 1],
            end: [End::Open, End::Violation(Code::QoSNotSupported)],
        },
        Sequence {
            // 5.0 MQTT-3.2.2-14; 3.1.1 announces no Retain Available.
            name: "retained PUBLISH while Retain Available is 0",
            versions: &BOTH,
            config: config(|c| c.retain_available = false),
            packets: vec![qos1(1), Packet::Publish(retained), qos1(3)],
            delivered: [3, 1],
            end: [End::Open, End::Violation(Code::RetainNotSupported)],
        },
        Sequence {
            // 5.0 MQTT-3.3.4-7.
            name: "more QoS 2 messages than the Receive Maximum",
            versions: &BOTH,
            config: config(|c| c.receive_maximum = NonZeroU16::new(2).unwrap()),
            packets: vec![qos2(1), qos2(2), qos2(3), qos1(4)],
            delivered: [2, 2],
            end: [End::Violation(Code::ReceiveMaximumExceeded); 2],
        },
        Sequence {
            // 3.1.1 and 5.0 MQTT-3.1.0-2.
            name: "a second CONNECT",
            versions: &BOTH,
            config: SessionConfig::default(),
            packets: vec![qos1(1), Packet::from(connect(V3, true)), qos1(3)],
            delivered: [1, 1],
            end: [protocol; 2],
        },
        Sequence {
            name: "packets a client never sends",
            versions: &BOTH,
            config: SessionConfig::default(),
            packets: vec![qos1(1), Packet::PingResp, qos1(3)],
            delivered: [1, 1],
            end: [protocol; 2],
        },
        Sequence {
            name: "a CONNACK",
            versions: &BOTH,
            config: SessionConfig::default(),
            packets: vec![
                Packet::ConnAck(ConnAck::new(ConnectReasonCode::Success)),
                qos1(3),
            ],
            delivered: [0, 0],
            end: [protocol; 2],
        },
        Sequence {
            name: "a SUBACK",
            versions: &BOTH,
            config: SessionConfig::default(),
            packets: vec![
                qos1(1),
                Packet::SubAck(SubAck::new(pid(1), vec![SubAckReasonCode::GrantedQoS0])),
            ],
            delivered: [1, 1],
            end: [protocol; 2],
        },
        Sequence {
            name: "DISCONNECT between QoS 1 PUBLISH",
            versions: &BOTH,
            config: SessionConfig::default(),
            packets: vec![qos1(1), bye, qos1(3)],
            delivered: [1, 1],
            end: [End::Peer; 2],
        },
        Sequence {
            // 5.0 MQTT-3.3.2-9.
            name: "Topic Alias above the Topic Alias Maximum",
            versions: &[V5],
            config: SessionConfig::default(),
            packets: vec![qos1(1), Packet::Publish(aliased), qos1(3)],
            delivered: [0, 1],
            end: [End::Open, End::Violation(Code::TopicAliasInvalid)],
        },
        Sequence {
            // 5.0 MQTT-4.12.0-5 (no Authentication Method was negotiated).
            name: "AUTH without enhanced authentication",
            versions: &[V5],
            config: SessionConfig::default(),
            packets: vec![
                qos1(1),
                Packet::Auth(Auth::new(AuthReasonCode::ReAuthenticate)),
                qos1(3),
            ],
            delivered: [0, 1],
            end: [End::Open, protocol],
        },
        Sequence {
            // 5.0 section 3.14.2.2.2.
            name: "DISCONNECT setting a Session Expiry Interval after 0",
            versions: &[V5],
            config: SessionConfig::default(),
            packets: vec![qos1(1), Packet::Disconnect(expiry), qos1(3)],
            delivered: [0, 1],
            end: [End::Open, protocol],
        },
    ]
}

/// What the server sent and reported for one run of a sequence, CONNACK included.
#[derive(Debug, PartialEq)]
struct Run {
    sent: Vec<Packet>,
    events: Vec<Event>,
    connected: bool,
}

/// Connects (resuming a stored session when `resume`), then feeds `packets` before the
/// application's `accept` (`pipelined`) or after it, then one PINGREQ (answered on an open
/// connection, ignored on a closed one).
fn run(
    version: ProtocolVersion,
    config: SessionConfig,
    packets: &[Packet],
    pipelined: bool,
    resume: bool,
) -> Run {
    let mut server = requested(config, connect(version, !resume));
    let session = resume.then(|| stored_session(version));
    let feed = |server: &mut Server| {
        for packet in packets {
            let _ = server.handle_incoming(now(), packet.clone());
        }
    };
    if pipelined {
        feed(&mut server);
        // No answer yet: nothing goes out, not even a DISCONNECT before the CONNACK
        // (5.0 MQTT-3.14.0-1), and nothing is processed.
        assert!(drain(&mut server).is_empty(), "{version}: {packets:?}");
        assert!(events(&mut server).is_empty(), "{version}: {packets:?}");
    }
    server
        .accept(session, ConnAckProperties::default())
        .unwrap();
    if !pipelined {
        feed(&mut server);
    }
    let _ = server.handle_incoming(now(), Packet::PingReq);
    Run {
        sent: drain(&mut server),
        events: events(&mut server),
        connected: server.is_connected(),
    }
}

fn end_of(run: &Run) -> End {
    match run.events.iter().find_map(|e| match e {
        Event::Disconnected(cause) => Some(cause),
        _ => None,
    }) {
        None => End::Open,
        Some(DisconnectCause::ProtocolViolation(e)) => End::Violation(e.reason_code()),
        Some(DisconnectCause::Peer(_)) => End::Peer,
        Some(other) => panic!("unexpected end: {other:?}"),
    }
}

/// The regression: `accept` replayed the packets pipelined after CONNECT and stopped at
/// the first violation without a DISCONNECT or an Event::Disconnected, leaving the
/// connection up and the packets behind it unanswered. Now every sequence, valid or not,
/// sends and reports exactly the same pipelined before `accept` as arriving after the
/// CONNACK: the packets before a violation are delivered and acknowledged, the violation
/// ends the connection (5.0: DISCONNECT with its reason code), the packets after it are
/// ignored. Checked on a fresh connection and on a resumed session, in 3.1.1 and 5.0.
#[test]
fn packets_pipelined_before_accept_are_handled_as_if_they_arrived_after_the_connack() {
    for sequence in sequences() {
        for &version in sequence.versions {
            let v = usize::from(version.is_v5());
            let name = format!("{} ({version})", sequence.name);
            for resume in [false, true] {
                let config = sequence.config.clone();
                let after = run(version, config.clone(), &sequence.packets, false, resume);
                let pipelined = run(version, config, &sequence.packets, true, resume);
                assert_eq!(pipelined, after, "{name}, resume {resume}");

                let end = end_of(&after);
                assert_eq!(after.connected, end == End::Open, "{name}");
                // The expectations are those of a fresh start (a resumed session has its
                // own Session Expiry Interval and Receive Maximum use).
                if !resume {
                    assert_eq!(end, sequence.end[v], "{name}: {after:?}");
                    let delivered = after
                        .events
                        .iter()
                        .filter(|e| matches!(e, Event::Message(_)))
                        .count();
                    assert_eq!(delivered, sequence.delivered[v], "{name}: {after:?}");
                }
                let disconnect = after.sent.iter().find_map(|p| match p {
                    Packet::Disconnect(d) => Some(d.reason_code),
                    _ => None,
                });
                match end {
                    End::Violation(code) if version.is_v5() => {
                        assert_eq!(disconnect, Some(code), "{name}");
                        assert!(
                            matches!(after.sent.last(), Some(Packet::Disconnect(_))),
                            "{name}: nothing after the DISCONNECT: {:?}",
                            after.sent
                        );
                    }
                    _ => assert_eq!(disconnect, None, "{name}"),
                }
            }
        }
    }
}

/// A refused connection processes nothing the client sent after its CONNECT, held packets
/// included (3.1.1 MQTT-3.1.4-5, 5.0 MQTT-3.1.4-6): the CONNACK with the refusal, no
/// delivery, no DISCONNECT for a held violation.
#[test]
fn packets_pipelined_before_reject_are_never_processed() {
    for version in BOTH {
        let mut server = requested(SessionConfig::default(), connect(version, true));
        for packet in [
            publish(1, QoS::AtLeastOnce, false),
            Packet::PingResp,
            Packet::PingReq,
        ] {
            server.handle_incoming(now(), packet).unwrap();
        }
        server.reject(ConnectReasonCode::NotAuthorized).unwrap();
        let sent = drain(&mut server);
        assert!(
            matches!(&sent[..], [Packet::ConnAck(ack)] if ack.reason_code == ConnectReasonCode::NotAuthorized),
            "{version}: {sent:?}"
        );
        let ev = events(&mut server);
        assert_eq!(
            ev,
            [Event::Disconnected(DisconnectCause::Rejected(
                ConnectReasonCode::NotAuthorized
            ))],
            "{version}"
        );
    }
}
