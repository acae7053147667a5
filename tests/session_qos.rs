//! QoS 0, 1 and 2 flows of the session engine, end to end over the simulated link of
//! `session_util` (and, where the simulator is too coarse, on a hand-driven `Client`):
//! delivery guarantees across link drops and session resumption, DUP flags, packet
//! identifiers, retransmission order, failure reason codes and manual acknowledgement.
//!
//! Rule tags are those of /work/shared/spec/CONFORMANCE.md (sections 6, 7 and 13). Tag
//! numbers differ between the versions (section 15.2 there): each comment names the 5.0
//! tag and the 3.1.1 tag separately, for the version the loop is running.

mod session_util;

use bytes::{Bytes, BytesMut};
use mqttwire::properties::{ConnAckProperties, SubscribeProperties, UnsubscribeProperties};
use mqttwire::session::{
    Client, DisconnectCause, Event, Instant, Session, SessionConfig, SessionError, SessionState,
};
use mqttwire::{
    ConnAck, Connect, ConnectReasonCode, DisconnectReasonCode, MqttString, Packet, PacketId,
    ProtocolVersion, PubAck, PubAckReasonCode, PubComp, PubRec, PubRel, Publish, QoS, QosPid,
    SubAck, SubAckReasonCode, Subscription, TopicFilter, UnsubAck, UnsubAckReasonCode,
};
use session_util::{message, topic, Crossed, Dir, Pair};
use std::num::NonZeroU16;
use std::time::Duration;

const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V3_1_1, ProtocolVersion::V5];
const T0: Instant = Instant::ZERO;

fn pid(value: u16) -> PacketId {
    PacketId::new(value).unwrap()
}

// ---------------------------------------------------------------------------------------
// Showing packets and events compactly, so that tests can compare exact sequences.
// ---------------------------------------------------------------------------------------

fn rc(code: u8) -> String {
    if code == 0 {
        String::new()
    } else {
        format!(" rc={code:#04x}")
    }
}

/// "PUBLISH q1 7 dup", "PUBREC 7", "PUBCOMP 7 rc=0x92", "CONNACK sp=1", ...
fn show(packet: &Packet) -> String {
    match packet {
        Packet::Connect(_) => "CONNECT".into(),
        Packet::ConnAck(a) => format!("CONNACK sp={}", u8::from(a.session_present)),
        Packet::Publish(p) => {
            let qos = match p.qos {
                QosPid::AtMostOnce => "q0".to_string(),
                QosPid::AtLeastOnce(id) => format!("q1 {id}"),
                QosPid::ExactlyOnce(id) => format!("q2 {id}"),
            };
            format!("PUBLISH {qos}{}", if p.dup { " dup" } else { "" })
        }
        Packet::PubAck(a) => format!("PUBACK {}{}", a.packet_id, rc(a.reason_code.code())),
        Packet::PubRec(a) => format!("PUBREC {}{}", a.packet_id, rc(a.reason_code.code())),
        Packet::PubRel(a) => format!("PUBREL {}{}", a.packet_id, rc(a.reason_code.code())),
        Packet::PubComp(a) => format!("PUBCOMP {}{}", a.packet_id, rc(a.reason_code.code())),
        Packet::Subscribe(s) => format!("SUBSCRIBE {}", s.packet_id),
        Packet::SubAck(s) => format!("SUBACK {}", s.packet_id),
        Packet::Unsubscribe(u) => format!("UNSUBSCRIBE {}", u.packet_id),
        Packet::UnsubAck(u) => format!("UNSUBACK {}", u.packet_id),
        other => format!("{:?}", other.packet_type()),
    }
}

/// The QoS flow outcomes among `events`: "acked 1", "completed 2", "failed 3 rc=0x87",
/// "dropped 4 (payload)", "dropped 5 (released)".
fn outcomes(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::PublishAcknowledged {
                packet_id,
                reason_code,
            } => Some(format!("acked {packet_id}{}", rc(reason_code.code()))),
            Event::PublishCompleted { packet_id } => Some(format!("completed {packet_id}")),
            Event::PublishFailed {
                packet_id,
                reason_code,
            } => Some(format!("failed {packet_id}{}", rc(reason_code.code()))),
            Event::PublishDropped { packet_id, message } => Some(match message {
                Some(m) => format!(
                    "dropped {packet_id} ({})",
                    String::from_utf8_lossy(&m.payload)
                ),
                None => format!("dropped {packet_id} (released)"),
            }),
            _ => None,
        })
        .collect()
}

fn count(items: &[String], wanted: &str) -> usize {
    items.iter().filter(|s| *s == wanted).count()
}

// ---------------------------------------------------------------------------------------
// The simulated link.
// ---------------------------------------------------------------------------------------

/// What crossed towards `dir` since log index `mark`.
fn crossings(pair: &Pair, mark: usize, dir: Dir) -> Vec<&Crossed> {
    pair.log[mark..].iter().filter(|c| c.dir == dir).collect()
}

fn since(pair: &Pair, mark: usize, dir: Dir) -> Vec<String> {
    crossings(pair, mark, dir)
        .iter()
        .map(|c| show(&c.packet))
        .collect()
}

/// As `since`, without the CONNECT and CONNACK of a new link.
fn flows(pair: &Pair, mark: usize, dir: Dir) -> Vec<String> {
    since(pair, mark, dir)
        .into_iter()
        .filter(|s| s != "CONNECT" && !s.starts_with("CONNACK"))
        .collect()
}

/// The first byte of the first PUBLISH that crossed towards `dir` since `mark`.
fn first_publish_byte(pair: &Pair, mark: usize, dir: Dir) -> u8 {
    crossings(pair, mark, dir)
        .iter()
        .find(|c| matches!(c.packet, Packet::Publish(_)))
        .map(|c| c.bytes[0])
        .expect("a PUBLISH crossed")
}

fn encode(version: ProtocolVersion, packet: &Packet) -> Bytes {
    let mut buf = BytesMut::new();
    packet.encode(version, &mut buf).unwrap();
    buf.freeze()
}

fn link(pair: &mut Pair, dir: Dir) -> &mut std::collections::VecDeque<Bytes> {
    match dir {
        Dir::ToServer => &mut pair.to_server,
        Dir::ToClient => &mut pair.to_client,
    }
}

/// Puts `packet` on the link towards `dir`, behind what the sessions already sent.
fn inject(pair: &mut Pair, dir: Dir, packet: &Packet) {
    pair.flush();
    let bytes = encode(pair.version, packet);
    link(pair, dir).push_back(bytes);
}

/// Replaces the next packet on the link towards `dir` (which must show as `expected`) by
/// `packet`: the peer answers differently from what its engine chose.
fn replace_next(pair: &mut Pair, dir: Dir, expected: &str, packet: &Packet) {
    pair.flush();
    let version = pair.version;
    let bytes = encode(version, packet);
    let queue = link(pair, dir);
    let old = queue.pop_front().expect("a packet on the link");
    let (old, _) = Packet::decode(&old, version).unwrap();
    assert_eq!(show(&old), expected);
    queue.push_front(bytes);
}

fn session_present_on_last_connack(pair: &Pair) -> bool {
    pair.log
        .iter()
        .rev()
        .find_map(|c| match &c.packet {
            Packet::ConnAck(a) => Some(a.session_present),
            _ => None,
        })
        .expect("a CONNACK crossed")
}

/// Which side publishes in a two-sided scenario; the other one receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Client,
    Server,
}

impl Side {
    const BOTH: [Side; 2] = [Side::Client, Side::Server];

    fn publish(
        self,
        pair: &mut Pair,
        qos: QoS,
        m: Publish,
    ) -> Result<Option<PacketId>, SessionError> {
        match self {
            Side::Client => pair.client.publish(qos, m),
            Side::Server => pair.server.publish(qos, m),
        }
    }

    /// Publishes a QoS 1 or 2 message and returns its packet identifier.
    fn send(self, pair: &mut Pair, qos: QoS, payload: &'static str) -> PacketId {
        self.publish(pair, qos, message("t/qos", payload))
            .unwrap()
            .expect("QoS 1 and 2 get a packet identifier")
    }

    /// The direction from this side to its peer.
    fn out(self) -> Dir {
        match self {
            Side::Client => Dir::ToServer,
            Side::Server => Dir::ToClient,
        }
    }

    /// The direction from the peer back to this side.
    fn back(self) -> Dir {
        match self {
            Side::Client => Dir::ToClient,
            Side::Server => Dir::ToServer,
        }
    }

    fn to_peer(self, pair: &mut Pair) -> Option<Packet> {
        match self {
            Side::Client => pair.deliver_to_server(),
            Side::Server => pair.deliver_to_client(),
        }
    }

    fn take_answer(self, pair: &mut Pair) -> Option<Packet> {
        match self {
            Side::Client => pair.deliver_to_client(),
            Side::Server => pair.deliver_to_server(),
        }
    }

    fn duplicate_next_to_peer(self, pair: &mut Pair) {
        match self {
            Side::Client => pair.duplicate_next_to_server(),
            Side::Server => pair.duplicate_next_to_client(),
        }
    }

    /// Payloads the peer's application got, in order.
    fn peer_got(self, pair: &Pair) -> Vec<Bytes> {
        match self {
            Side::Client => pair.server_messages(),
            Side::Server => pair.client_messages(),
        }
    }

    fn events(self, pair: &Pair) -> &[Event] {
        match self {
            Side::Client => &pair.client_events,
            Side::Server => &pair.server_events,
        }
    }

    fn state(self, pair: &Pair) -> &SessionState {
        match self {
            Side::Client => pair.client.session(),
            Side::Server => pair.server.session(),
        }
    }

    fn peer_state(self, pair: &Pair) -> &SessionState {
        match self {
            Side::Client => pair.server.session(),
            Side::Server => pair.client.session(),
        }
    }

    fn peer_ack(self, pair: &mut Pair, id: PacketId) -> Result<(), SessionError> {
        let result = match self {
            Side::Client => pair.server.ack(id),
            Side::Server => pair.client.ack(id),
        };
        pair.drain_events();
        result
    }

    /// A pair where the peer of this side runs with `peer_config`.
    fn pair_with_peer_config(self, version: ProtocolVersion, peer_config: SessionConfig) -> Pair {
        match self {
            Side::Client => Pair::with_configs(version, SessionConfig::default(), peer_config),
            Side::Server => Pair::with_configs(version, peer_config, SessionConfig::default()),
        }
    }
}

fn ids(state: &SessionState) -> Vec<u16> {
    state.unacknowledged_ids().map(PacketId::get).collect()
}

// ---------------------------------------------------------------------------------------
// A client driven by hand, packet by packet.
// ---------------------------------------------------------------------------------------

fn connect_packet(version: ProtocolVersion) -> Connect {
    let mut connect = Connect::new(version, MqttString::new("c1").unwrap());
    connect.clean_start = false;
    connect
}

/// A client connected by hand (CONNECT out, a plain CONNACK in), with `config`.
fn hand_client(version: ProtocolVersion, config: SessionConfig) -> Client {
    let mut client = Client::new(config);
    client.connect(T0, connect_packet(version)).unwrap();
    assert_eq!(transmitted(&mut client), ["CONNECT"]);
    let ack = ConnAck::new(ConnectReasonCode::Success);
    client.handle_incoming(T0, Packet::ConnAck(ack)).unwrap();
    assert!(client.is_connected());
    events(&mut client);
    client
}

/// Drops the client's connection and reconnects it with Clean Start 0 to a server reporting
/// Session Present 1; returns what the client sends after CONNECT.
fn hand_resume(client: &mut Client, version: ProtocolVersion) -> Vec<String> {
    client.handle_connection_lost();
    client.connect(T0, connect_packet(version)).unwrap();
    assert_eq!(transmitted(client)[..1], ["CONNECT"]);
    let mut ack = ConnAck::new(ConnectReasonCode::Success);
    ack.session_present = true;
    client.handle_incoming(T0, Packet::ConnAck(ack)).unwrap();
    transmitted(client)
}

fn transmitted<R>(session: &mut Session<R>) -> Vec<String> {
    std::iter::from_fn(|| session.poll_transmit(T0))
        .map(|p| show(&p))
        .collect()
}

fn events<R>(session: &mut Session<R>) -> Vec<Event> {
    std::iter::from_fn(|| session.poll_event()).collect()
}

fn feed(client: &mut Client, packet: Packet) {
    client.handle_incoming(T0, packet).unwrap();
}

fn publish_packet(qos: QosPid, payload: &'static str) -> Packet {
    let mut p = Publish::new(topic("t/in"), payload);
    p.qos = qos;
    Packet::Publish(p)
}

fn received_payloads(events: &[Event]) -> Vec<Bytes> {
    session_util::messages(events)
}

// =======================================================================================
// QoS 0
// =======================================================================================

/// 5.0 MQTT-4.3.1-1 / 3.1.1 MQTT-4.3.1-1 (sent QoS 0 DUP 0, no state kept); 5.0
/// MQTT-2.2.1-2 / 3.1.1 MQTT-2.3.1-5 (no packet identifier); MQTT-3.3.4-1 in both (no
/// acknowledgement).
#[test]
fn qos0_sent_once_without_packet_id_and_never_stored() {
    for version in VERSIONS {
        for side in Side::BOTH {
            let mut pair = Pair::new(version);
            pair.connect(false);
            let mark = pair.log.len();
            let result = side.publish(&mut pair, QoS::AtMostOnce, message("t/0", "zero"));
            assert_eq!(result, Ok(None), "{version:?} {side:?}");
            assert_eq!(side.state(&pair).unacknowledged(), 0);
            assert!(side.state(&pair).is_empty());
            pair.run();
            assert_eq!(since(&pair, mark, side.out()), ["PUBLISH q0"]);
            assert_eq!(first_publish_byte(&pair, mark, side.out()), 0x30);
            assert!(
                since(&pair, mark, side.back()).is_empty(),
                "no answer to QoS 0"
            );
            assert_eq!(side.peer_got(&pair), ["zero"]);
            assert!(outcomes(side.events(&pair)).is_empty());
            assert_eq!(side.state(&pair).unacknowledged(), 0);
        }
    }
}

/// 5.0 MQTT-4.3.1-1 and MQTT-4.4.0-1 / 3.1.1 MQTT-4.3.1-1 and MQTT-4.4.0-1: only QoS > 0
/// messages are resent; a QoS 0 message lost with the link is gone, and one delivered is
/// not delivered again.
#[test]
fn qos0_lost_with_the_link_is_not_resent_after_resume() {
    for version in VERSIONS {
        for side in Side::BOTH {
            let mut pair = Pair::new(version);
            pair.connect(false);
            side.publish(&mut pair, QoS::AtMostOnce, message("t/0", "delivered"))
                .unwrap();
            pair.run();
            side.publish(&mut pair, QoS::AtMostOnce, message("t/0", "lost"))
                .unwrap();
            pair.flush();
            pair.drop_link();
            let mark = pair.log.len();
            pair.connect(false);
            assert!(session_present_on_last_connack(&pair));
            assert!(
                flows(&pair, mark, side.out()).is_empty(),
                "{version:?} {side:?}"
            );
            assert_eq!(side.peer_got(&pair), ["delivered"]);
            assert!(outcomes(side.events(&pair)).is_empty(), "not even dropped");
        }
    }
}

// =======================================================================================
// QoS 1
// =======================================================================================

/// 5.0 MQTT-4.3.2-1, -2, -3, -4 and MQTT-2.2.1-5 / 3.1.1 MQTT-4.3.2-1, MQTT-4.3.2-2 and
/// MQTT-2.3.1-6: fresh identifier, first sent with DUP 0, unacknowledged until the PUBACK,
/// which carries the same identifier.
#[test]
fn qos1_acked_with_same_packet_id_and_unacknowledged_until_puback() {
    for version in VERSIONS {
        for side in Side::BOTH {
            let mut pair = Pair::new(version);
            pair.connect(false);
            let mark = pair.log.len();
            let id = side.send(&mut pair, QoS::AtLeastOnce, "one");
            assert_eq!(ids(side.state(&pair)), [id.get()]);

            let publish = side.to_peer(&mut pair).expect("the PUBLISH");
            assert_eq!(show(&publish), format!("PUBLISH q1 {id}"));
            assert_eq!(first_publish_byte(&pair, mark, side.out()), 0x32);
            assert_eq!(side.peer_got(&pair), ["one"]);
            // The PUBACK is on its way back: still unacknowledged.
            assert_eq!(ids(side.state(&pair)), [id.get()], "{version:?} {side:?}");
            assert!(outcomes(side.events(&pair)).is_empty());

            let ack = side.take_answer(&mut pair).expect("the PUBACK");
            assert_eq!(show(&ack), format!("PUBACK {id}"));
            assert_eq!(side.state(&pair).unacknowledged(), 0);
            assert_eq!(outcomes(side.events(&pair)), [format!("acked {id}")]);
            assert!(side.events(&pair).contains(&Event::PublishAcknowledged {
                packet_id: id,
                reason_code: PubAckReasonCode::Success,
            }));
            pair.run();
            assert_eq!(since(&pair, mark, side.out()).len(), 1, "sent once");
        }
    }
}

/// 5.0 MQTT-4.3.2-3 / 3.1.1 MQTT-4.3.2-1: a PUBACK for another identifier leaves the
/// message unacknowledged.
#[test]
fn qos1_stays_unacknowledged_until_its_own_puback() {
    for version in VERSIONS {
        let mut client = hand_client(version, SessionConfig::default());
        let a = client
            .publish(QoS::AtLeastOnce, message("t/1", "a"))
            .unwrap()
            .unwrap();
        let b = client
            .publish(QoS::AtLeastOnce, message("t/1", "b"))
            .unwrap()
            .unwrap();
        assert_ne!(a, b);
        assert_eq!(
            transmitted(&mut client),
            [format!("PUBLISH q1 {a}"), format!("PUBLISH q1 {b}")]
        );
        feed(&mut client, Packet::PubAck(PubAck::new(b)));
        assert_eq!(ids(client.session()), [a.get()]);
        assert_eq!(outcomes(&events(&mut client)), [format!("acked {b}")]);
        feed(&mut client, Packet::PubAck(PubAck::new(a)));
        assert_eq!(client.session().unacknowledged(), 0);
        assert_eq!(outcomes(&events(&mut client)), [format!("acked {a}")]);
        assert!(transmitted(&mut client).is_empty());
    }
}

/// 5.0 MQTT-4.4.0-1, MQTT-3.3.1-1 and MQTT-3.2.2-3 / 3.1.1 MQTT-4.4.0-1, MQTT-3.3.1-1 and
/// MQTT-3.2.2-2: after a link drop before the PUBACK, the resumed session (Session
/// Present 1) resends the PUBLISH with DUP 1 and the same identifier; it is delivered again
/// if it had arrived (at least once) and acknowledged once.
#[test]
fn qos1_resent_with_dup_after_link_drop_before_puback() {
    for version in VERSIONS {
        for side in Side::BOTH {
            for arrived in [false, true] {
                let what = format!("{version:?} {side:?} arrived={arrived}");
                let mut pair = Pair::new(version);
                pair.connect(false);
                let id = side.send(&mut pair, QoS::AtLeastOnce, "m");
                if arrived {
                    // The PUBACK is lost with the link.
                    assert!(side.to_peer(&mut pair).is_some());
                }
                assert_eq!(ids(side.state(&pair)), [id.get()]);
                pair.drop_link();
                let mark = pair.log.len();
                pair.connect(false);
                assert!(session_present_on_last_connack(&pair), "{what}");
                assert_eq!(
                    flows(&pair, mark, side.out()),
                    [format!("PUBLISH q1 {id} dup")],
                    "{what}"
                );
                assert_eq!(first_publish_byte(&pair, mark, side.out()), 0x3A, "{what}");
                assert_eq!(flows(&pair, mark, side.back()), [format!("PUBACK {id}")]);
                let expected: &[&str] = if arrived { &["m", "m"] } else { &["m"] };
                assert_eq!(side.peer_got(&pair), expected, "{what}");
                assert_eq!(outcomes(side.events(&pair)), [format!("acked {id}")]);
                assert_eq!(side.state(&pair).unacknowledged(), 0);
            }
        }
    }
}

/// 5.0 MQTT-4.3.2-5 / 3.1.1 MQTT-4.3.2-2: once PUBACK went out, a PUBLISH with the same
/// identifier is a new message: delivered and acknowledged again. The sender's flow ends
/// once (the second PUBACK finds nothing in flight).
#[test]
fn qos1_duplicate_on_same_link_is_delivered_and_acked_again() {
    for version in VERSIONS {
        for side in Side::BOTH {
            let mut pair = Pair::new(version);
            pair.connect(false);
            let mark = pair.log.len();
            let id = side.send(&mut pair, QoS::AtLeastOnce, "twice");
            side.duplicate_next_to_peer(&mut pair);
            pair.run();
            let publish = format!("PUBLISH q1 {id}");
            assert_eq!(since(&pair, mark, side.out()), [&*publish, &*publish]);
            let ack = format!("PUBACK {id}");
            assert_eq!(since(&pair, mark, side.back()), [&*ack, &*ack]);
            assert_eq!(
                side.peer_got(&pair),
                ["twice", "twice"],
                "{version:?} {side:?}"
            );
            assert_eq!(outcomes(side.events(&pair)), [format!("acked {id}")]);
            assert_eq!(side.state(&pair).unacknowledged(), 0);
        }
    }
}

// =======================================================================================
// QoS 2
// =======================================================================================

/// 5.0 MQTT-4.3.3-1 to -5, -8, -11 and MQTT-2.2.1-5 / 3.1.1 MQTT-4.3.3-1, MQTT-4.3.3-2,
/// MQTT-2.3.1-3 and MQTT-2.3.1-6: one identifier through PUBLISH, PUBREC, PUBREL and
/// PUBCOMP; the sender keeps it until PUBCOMP, the receiver until PUBREL.
#[test]
fn qos2_handshake_keeps_one_packet_id_and_state_until_pubcomp() {
    for version in VERSIONS {
        for side in Side::BOTH {
            let what = format!("{version:?} {side:?}");
            let mut pair = Pair::new(version);
            pair.connect(false);
            let mark = pair.log.len();
            let id = side.send(&mut pair, QoS::ExactlyOnce, "two");

            let p = side.to_peer(&mut pair).unwrap();
            assert_eq!(show(&p), format!("PUBLISH q2 {id}"), "{what}");
            assert_eq!(first_publish_byte(&pair, mark, side.out()), 0x34);
            assert_eq!(side.peer_got(&pair), ["two"], "delivered on PUBLISH");
            assert_eq!(side.peer_state(&pair).incomplete_incoming(), 1);

            let p = side.take_answer(&mut pair).unwrap();
            assert_eq!(show(&p), format!("PUBREC {id}"));
            assert_eq!(ids(side.state(&pair)), [id.get()], "busy until PUBCOMP");
            assert!(outcomes(side.events(&pair)).is_empty());

            let p = side.to_peer(&mut pair).unwrap();
            assert_eq!(show(&p), format!("PUBREL {id}"));
            assert_eq!(crossings(&pair, mark, side.out())[1].bytes[0], 0x62);
            assert_eq!(side.peer_state(&pair).incomplete_incoming(), 0);

            let p = side.take_answer(&mut pair).unwrap();
            assert_eq!(show(&p), format!("PUBCOMP {id}"));
            assert_eq!(side.state(&pair).unacknowledged(), 0);
            assert_eq!(outcomes(side.events(&pair)), [format!("completed {id}")]);
            assert!(side
                .events(&pair)
                .contains(&Event::PublishCompleted { packet_id: id }));

            pair.run();
            assert_eq!(since(&pair, mark, side.out()).len(), 2, "{what}");
            assert_eq!(since(&pair, mark, side.back()).len(), 2, "{what}");
            assert_eq!(side.peer_got(&pair), ["two"]);
        }
    }
}

/// Where the link drops in a QoS 2 exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// The PUBLISH is lost with the link.
    PublishInFlight,
    /// The PUBLISH arrived, the PUBREC is lost.
    PubRecInFlight,
    /// The PUBREC arrived, the PUBREL is lost.
    PubRelInFlight,
    /// The PUBREL arrived, the PUBCOMP is lost.
    PubCompInFlight,
    /// The exchange completed.
    Completed,
}

/// Runs a QoS 2 exchange from `side`, drops the link at `cut`, resumes (Clean Start 0,
/// Session Present 1) and checks exactly-once delivery and what was resent.
fn qos2_exactly_once_across_drop(cut: Cut) {
    for version in VERSIONS {
        for side in Side::BOTH {
            let what = format!("{version:?} {side:?} {cut:?}");
            let mut pair = Pair::new(version);
            pair.connect(false);
            let id = side.send(&mut pair, QoS::ExactlyOnce, "once");
            let steps = match cut {
                Cut::PublishInFlight => 0,
                Cut::PubRecInFlight => 1,
                Cut::PubRelInFlight => 2,
                Cut::PubCompInFlight => 3,
                Cut::Completed => 4,
            };
            for step in 0..steps {
                let moved = if step % 2 == 0 {
                    side.to_peer(&mut pair)
                } else {
                    side.take_answer(&mut pair)
                };
                assert!(moved.is_some(), "{what}: step {step}");
            }
            pair.flush();
            pair.drop_link();
            let mark = pair.log.len();
            pair.connect(false);
            assert!(session_present_on_last_connack(&pair), "{what}");

            let publish = format!("PUBLISH q2 {id} dup");
            let rel = format!("PUBREL {id}");
            let rec = format!("PUBREC {id}");
            let comp = format!("PUBCOMP {id}");
            // 5.0 answers a PUBREL it no longer knows with 0x92 (MQTT-4.3.3-11).
            let comp_unknown = if version.is_v5() {
                format!("PUBCOMP {id} rc=0x92")
            } else {
                comp.clone()
            };
            let (resent, answered): (Vec<String>, Vec<String>) = match cut {
                Cut::PublishInFlight | Cut::PubRecInFlight => (vec![publish, rel], vec![rec, comp]),
                // Past PUBREC only the PUBREL is resent, never the PUBLISH (5.0
                // MQTT-4.3.3-6, 3.1.1 MQTT-4.3.3-1).
                Cut::PubRelInFlight => (vec![rel], vec![comp]),
                Cut::PubCompInFlight => (vec![rel], vec![comp_unknown]),
                Cut::Completed => (vec![], vec![]),
            };
            assert_eq!(flows(&pair, mark, side.out()), resent, "{what}");
            assert_eq!(flows(&pair, mark, side.back()), answered, "{what}");
            if matches!(cut, Cut::PublishInFlight | Cut::PubRecInFlight) {
                assert_eq!(first_publish_byte(&pair, mark, side.out()), 0x3C, "{what}");
            }
            assert_eq!(side.peer_got(&pair), ["once"], "{what}: exactly once");
            assert_eq!(
                outcomes(side.events(&pair)),
                [format!("completed {id}")],
                "{what}"
            );
            assert_eq!(side.state(&pair).unacknowledged(), 0, "{what}");
            assert_eq!(side.peer_state(&pair).incomplete_incoming(), 0, "{what}");
        }
    }
}

/// 5.0 MQTT-4.3.3-2, MQTT-4.4.0-1 / 3.1.1 MQTT-4.3.3-1, MQTT-4.4.0-1: the PUBLISH never
/// arrived; resent with DUP 1, delivered once.
#[test]
fn qos2_exactly_once_when_link_drops_before_publish_arrives() {
    qos2_exactly_once_across_drop(Cut::PublishInFlight);
}

/// 5.0 MQTT-4.3.3-10 / 3.1.1 MQTT-4.3.3-2: the PUBLISH arrived, its PUBREC did not; the
/// resent PUBLISH is answered with PUBREC and not delivered again.
#[test]
fn qos2_exactly_once_when_link_drops_before_pubrec_arrives() {
    qos2_exactly_once_across_drop(Cut::PubRecInFlight);
}

/// 5.0 MQTT-4.3.3-6 / 3.1.1 MQTT-4.3.3-1: the PUBREC arrived; only the PUBREL is resent.
#[test]
fn qos2_only_pubrel_resent_when_link_drops_after_pubrec() {
    qos2_exactly_once_across_drop(Cut::PubRelInFlight);
}

/// 5.0 MQTT-4.3.3-6 and MQTT-4.3.3-11 / 3.1.1 MQTT-4.3.3-1 and MQTT-4.3.3-2: the PUBREL
/// arrived, its PUBCOMP did not; the resent PUBREL is answered with PUBCOMP (0x92 in 5.0)
/// and completes the flow; the message is not delivered again.
#[test]
fn qos2_exactly_once_when_link_drops_after_pubrel_arrives() {
    qos2_exactly_once_across_drop(Cut::PubCompInFlight);
}

/// 5.0 MQTT-4.4.0-1 / 3.1.1 MQTT-4.4.0-1: a completed exchange leaves nothing to resend.
#[test]
fn qos2_nothing_resent_when_link_drops_after_pubcomp() {
    qos2_exactly_once_across_drop(Cut::Completed);
}

/// 5.0 MQTT-4.3.3-10 / 3.1.1 MQTT-4.3.3-2: a PUBLISH duplicated on the same link before
/// PUBREL gets a second PUBREC but no second delivery; the sender completes once.
#[test]
fn qos2_duplicate_publish_on_same_link_gets_two_pubrecs_and_one_delivery() {
    for version in VERSIONS {
        for side in Side::BOTH {
            let what = format!("{version:?} {side:?}");
            let mut pair = Pair::new(version);
            pair.connect(false);
            let mark = pair.log.len();
            let id = side.send(&mut pair, QoS::ExactlyOnce, "dup2");
            side.duplicate_next_to_peer(&mut pair);
            pair.run();
            let out = since(&pair, mark, side.out());
            let back = since(&pair, mark, side.back());
            assert_eq!(
                count(&out, &format!("PUBLISH q2 {id}")),
                2,
                "{what}: {out:?}"
            );
            assert_eq!(count(&back, &format!("PUBREC {id}")), 2, "{what}: {back:?}");
            assert_eq!(side.peer_got(&pair), ["dup2"], "{what}");
            assert_eq!(outcomes(side.events(&pair)), [format!("completed {id}")]);
            assert!(out
                .iter()
                .chain(&back)
                .all(|s| s.contains(&format!(" {id}"))));
            assert!(
                count(&back, &format!("PUBCOMP {id}")) >= 1,
                "{what}: {back:?}"
            );
            assert_eq!(side.state(&pair).unacknowledged(), 0);
            assert_eq!(side.peer_state(&pair).incomplete_incoming(), 0);
        }
    }
}

/// 5.0 MQTT-4.3.3-10 and MQTT-4.3.3-12 / 3.1.1 MQTT-4.3.3-2: before PUBREL a repeated
/// PUBLISH is not delivered; after PUBCOMP the same identifier carries a new message.
#[test]
fn qos2_packet_id_after_pubcomp_is_a_new_message() {
    for version in VERSIONS {
        let mut client = hand_client(version, SessionConfig::default());
        let seven = QosPid::ExactlyOnce(pid(7));
        feed(&mut client, publish_packet(seven, "first"));
        assert_eq!(transmitted(&mut client), ["PUBREC 7"]);
        let mut dup = publish_packet(seven, "first");
        if let Packet::Publish(p) = &mut dup {
            p.dup = true;
        }
        feed(&mut client, dup);
        assert_eq!(transmitted(&mut client), ["PUBREC 7"]);
        assert_eq!(received_payloads(&events(&mut client)), ["first"]);
        assert_eq!(client.session().incomplete_incoming(), 1);

        feed(&mut client, Packet::PubRel(PubRel::new(pid(7))));
        assert_eq!(transmitted(&mut client), ["PUBCOMP 7"]);
        assert_eq!(client.session().incomplete_incoming(), 0);

        feed(&mut client, publish_packet(seven, "second"));
        assert_eq!(transmitted(&mut client), ["PUBREC 7"]);
        assert_eq!(received_payloads(&events(&mut client)), ["second"]);
        feed(&mut client, Packet::PubRel(PubRel::new(pid(7))));
        assert_eq!(transmitted(&mut client), ["PUBCOMP 7"]);
        assert!(client.session().is_empty());
    }
}

// =======================================================================================
// Session Present 0 and Clean Start
// =======================================================================================

/// 5.0 MQTT-3.2.2-5 and MQTT-4.4.0-1 / 3.1.1 MQTT-3.2.2-3 (with the untagged §3.2.2.2
/// client reaction): the broker lost the session, so CONNACK says Session Present 0; the
/// client discards its unacknowledged messages, reports each as dropped (a QoS 2 message
/// past PUBREC without its payload: the server has it), and resends nothing.
#[test]
fn session_present_0_discards_unacked_messages_and_resends_nothing() {
    for version in VERSIONS {
        let mut pair = Pair::new(version);
        pair.connect(false);
        let released = pair
            .client
            .publish(QoS::ExactlyOnce, message("t/q", "released"))
            .unwrap()
            .unwrap();
        pair.deliver_to_server();
        pair.deliver_to_client(); // PUBREC: the PUBREL is lost with the link
        let a = pair
            .client
            .publish(QoS::AtLeastOnce, message("t/q", "a"))
            .unwrap()
            .unwrap();
        let b = pair
            .client
            .publish(QoS::ExactlyOnce, message("t/q", "b"))
            .unwrap()
            .unwrap();
        assert_eq!(pair.client.session().unacknowledged(), 3);
        pair.keep_session = false;
        pair.drop_link();
        let mark = pair.log.len();
        let events_mark = pair.client_events.len();
        pair.connect(false);
        assert!(!session_present_on_last_connack(&pair), "{version:?}");
        assert_eq!(
            outcomes(&pair.client_events[events_mark..]),
            [
                format!("dropped {released} (released)"),
                format!("dropped {a} (a)"),
                format!("dropped {b} (b)"),
            ]
        );
        assert!(
            flows(&pair, mark, Dir::ToServer).is_empty(),
            "nothing resent"
        );
        assert!(pair.client.session().is_empty());
        assert_eq!(pair.server_messages(), ["released"]);
        // The session goes on with fresh state.
        let c = pair
            .client
            .publish(QoS::AtLeastOnce, message("t/q", "c"))
            .unwrap()
            .unwrap();
        pair.run();
        assert_eq!(pair.server_messages(), ["released", "c"]);
        assert_eq!(
            outcomes(&pair.client_events).last(),
            Some(&format!("acked {c}"))
        );
    }
}

/// 5.0 MQTT-3.1.2-4 and MQTT-3.2.2-2 / 3.1.1 MQTT-3.1.2-6 and MQTT-3.2.2-1: a client
/// connecting with Clean Start 1 discards its session at once, reports the dropped
/// messages, and resends nothing; the server answers Session Present 0.
#[test]
fn clean_start_client_discards_unacked_messages_and_resends_nothing() {
    for version in VERSIONS {
        let mut pair = Pair::new(version);
        pair.connect(false);
        let released = pair
            .client
            .publish(QoS::ExactlyOnce, message("t/q", "released"))
            .unwrap()
            .unwrap();
        pair.deliver_to_server();
        pair.deliver_to_client();
        let a = pair
            .client
            .publish(QoS::AtLeastOnce, message("t/q", "a"))
            .unwrap()
            .unwrap();
        pair.drop_link();
        let events_mark = pair.client_events.len();
        let (now, connect) = (pair.now, pair.connect_packet(true));
        pair.client.connect(now, connect).unwrap();
        // Discarded on `connect`, before any CONNACK.
        assert!(pair.client.session().is_empty());
        pair.drain_events();
        assert_eq!(
            outcomes(&pair.client_events[events_mark..]),
            [
                format!("dropped {released} (released)"),
                format!("dropped {a} (a)")
            ]
        );
        let mark = pair.log.len();
        pair.run();
        assert!(!session_present_on_last_connack(&pair), "{version:?}");
        assert!(flows(&pair, mark, Dir::ToServer).is_empty());
        assert_eq!(pair.server_messages(), ["released"]);
    }
}

/// 5.0 MQTT-3.1.2-4 and MQTT-3.2.2-2 / 3.1.1 MQTT-3.1.2-6 and MQTT-3.2.2-1: a server
/// accepting a Clean Start 1 CONNECT with a stored session discards it (reporting the
/// server's dropped messages), answers Session Present 0 and resends nothing.
#[test]
fn server_clean_start_discards_stored_session_and_resends_nothing() {
    for version in VERSIONS {
        let mut pair = Pair::new(version);
        pair.connect(false);
        let id = Side::Server.send(&mut pair, QoS::AtLeastOnce, "stored");
        pair.drop_link();
        assert!(pair.stored.is_some());
        pair.auto_answer = false;
        let mark = pair.log.len();
        let events_mark = pair.server_events.len();
        let (now, connect) = (pair.now, pair.connect_packet(true));
        pair.client.connect(now, connect).unwrap();
        pair.run();
        assert!(matches!(
            pair.server_events.last(),
            Some(Event::ConnectRequest(c)) if c.clean_start
        ));
        let stored = pair.stored.take();
        pair.server
            .accept(stored, ConnAckProperties::default())
            .unwrap();
        pair.drain_events();
        pair.run();
        assert!(!session_present_on_last_connack(&pair), "{version:?}");
        assert_eq!(
            outcomes(&pair.server_events[events_mark..]),
            [format!("dropped {id} (stored)")]
        );
        assert!(flows(&pair, mark, Dir::ToClient).is_empty());
        assert!(pair.client_messages().is_empty());
        assert!(pair.server.session().is_empty());
    }
}

// =======================================================================================
// Retransmission: only on resume, in the original order
// =======================================================================================

/// 5.0 MQTT-4.4.0-1 / 3.1.1 MQTT-4.4.0-1 (retransmission is required only on reconnect;
/// the engine never retries on a timer): a lost QoS 1 message is not resent while the link
/// stays up, however long, only after the resume.
#[test]
fn unacked_messages_are_not_resent_on_a_timer_only_on_resume() {
    for version in VERSIONS {
        let mut pair = Pair::new(version);
        pair.connect(false);
        let mark = pair.log.len();
        let up = Side::Client.send(&mut pair, QoS::AtLeastOnce, "up");
        let down = Side::Server.send(&mut pair, QoS::ExactlyOnce, "down");
        pair.flush();
        pair.to_server.clear();
        pair.to_client.clear();
        for _ in 0..24 {
            pair.advance(Duration::from_secs(5));
            pair.run();
        }
        assert!(pair.client.is_connected() && pair.server.is_connected());
        let to_server = since(&pair, mark, Dir::ToServer);
        let to_client = since(&pair, mark, Dir::ToClient);
        assert!(!to_server.is_empty(), "keep alive pings flowed");
        assert!(to_server.iter().all(|s| s == "PingReq"), "{to_server:?}");
        assert!(to_client.iter().all(|s| s == "PingResp"), "{to_client:?}");
        assert_eq!(ids(pair.client.session()), [up.get()]);
        assert_eq!(ids(pair.server.session()), [down.get()]);

        pair.drop_link();
        let mark = pair.log.len();
        pair.connect(false);
        let publishes = |dir| -> Vec<String> {
            flows(&pair, mark, dir)
                .into_iter()
                .filter(|s| s.starts_with("PUBLISH"))
                .collect()
        };
        assert_eq!(publishes(Dir::ToServer), [format!("PUBLISH q1 {up} dup")]);
        assert_eq!(publishes(Dir::ToClient), [format!("PUBLISH q2 {down} dup")]);
        assert_eq!(pair.server_messages(), ["up"]);
        assert_eq!(pair.client_messages(), ["down"]);
        assert_eq!(outcomes(&pair.client_events), [format!("acked {up}")]);
        assert_eq!(outcomes(&pair.server_events), [format!("completed {down}")]);
    }
}

/// 5.0 MQTT-4.6.0-1 and MQTT-4.3.3-6 / 3.1.1 MQTT-4.6.0-1 and MQTT-4.3.3-1: on resume
/// the PUBREL of a flow past PUBREC and the unacknowledged PUBLISH packets go out in their
/// original order, with DUP 1; every flow then ends exactly once.
#[test]
fn resume_resends_unacked_qos1_and_qos2_in_original_order() {
    for version in VERSIONS {
        let mut pair = Pair::new(version);
        pair.connect(false);
        let a = Side::Client.send(&mut pair, QoS::AtLeastOnce, "a");
        let b = Side::Client.send(&mut pair, QoS::ExactlyOnce, "b");
        let c = Side::Client.send(&mut pair, QoS::AtLeastOnce, "c");
        let d = Side::Client.send(&mut pair, QoS::ExactlyOnce, "d");
        let e = Side::Client.send(&mut pair, QoS::AtLeastOnce, "e");
        for _ in 0..4 {
            pair.deliver_to_server(); // a to d arrive, e is lost
        }
        pair.deliver_to_client(); // PUBACK a
        pair.deliver_to_client(); // PUBREC b; PUBREL b, PUBACK c, PUBREC d are lost
        assert_eq!(ids(pair.client.session()), [b, c, d, e].map(PacketId::get));
        pair.drop_link();
        let mark = pair.log.len();
        pair.connect(false);
        assert_eq!(
            flows(&pair, mark, Dir::ToServer),
            [
                format!("PUBREL {b}"),
                format!("PUBLISH q1 {c} dup"),
                format!("PUBLISH q2 {d} dup"),
                format!("PUBLISH q1 {e} dup"),
                format!("PUBREL {d}"),
            ],
            "{version:?}"
        );
        // c is delivered twice (at least once), d once (exactly once).
        assert_eq!(pair.server_messages(), ["a", "b", "c", "d", "c", "e"]);
        let mut got = outcomes(&pair.client_events);
        got.sort();
        let mut want = vec![
            format!("acked {a}"),
            format!("completed {b}"),
            format!("acked {c}"),
            format!("completed {d}"),
            format!("acked {e}"),
        ];
        want.sort();
        assert_eq!(got, want);
        assert!(pair.client.session().is_empty());
    }
}

/// 5.0 MQTT-4.6.0-1 / 3.1.1 MQTT-4.6.0-1: resent PUBLISH packets follow the original send
/// order, not the identifier order (here freed identifiers come back in the order they
/// were freed, newest first, so the order of the identifiers is not the send order).
#[test]
fn resent_publishes_keep_send_order_not_identifier_order() {
    for version in VERSIONS {
        let mut client = hand_client(version, SessionConfig::default());
        let first: Vec<PacketId> = (0..40)
            .map(|_| {
                client
                    .publish(QoS::AtLeastOnce, message("t/w", "x"))
                    .unwrap()
                    .unwrap()
            })
            .collect();
        for &id in first.iter().rev() {
            feed(&mut client, Packet::PubAck(PubAck::new(id)));
        }
        while client.poll_transmit(T0).is_some() {}
        while client.poll_event().is_some() {}
        let sent: Vec<u16> = [
            QoS::AtLeastOnce,
            QoS::ExactlyOnce,
            QoS::AtLeastOnce,
            QoS::ExactlyOnce,
        ]
        .into_iter()
        .map(|q| {
            client
                .publish(q, message("t/w", "y"))
                .unwrap()
                .unwrap()
                .get()
        })
        .collect();
        assert!(
            !sent.is_sorted(),
            "{version:?}: {sent:?} is in identifier order"
        );
        transmitted(&mut client);
        let q = ["q1", "q2", "q1", "q2"];
        let expected: Vec<String> = sent
            .iter()
            .zip(q)
            .map(|(id, q)| format!("PUBLISH {q} {id} dup"))
            .collect();
        assert_eq!(hand_resume(&mut client, version), expected);
    }
}

/// 5.0 MQTT-4.6.0-4 / 3.1.1 MQTT-4.6.0-4: PUBREL packets leave in the order the PUBRECs
/// arrived, not the order of the PUBLISH packets.
#[test]
fn pubrels_leave_in_pubrec_arrival_order() {
    for version in VERSIONS {
        let mut client = hand_client(version, SessionConfig::default());
        for payload in ["1", "2", "3"] {
            client
                .publish(QoS::ExactlyOnce, message("t/r", payload))
                .unwrap();
        }
        assert_eq!(
            transmitted(&mut client),
            ["PUBLISH q2 1", "PUBLISH q2 2", "PUBLISH q2 3"]
        );
        for id in [3, 1, 2] {
            feed(&mut client, Packet::PubRec(PubRec::new(pid(id))));
        }
        assert_eq!(
            transmitted(&mut client),
            ["PUBREL 3", "PUBREL 1", "PUBREL 2"],
            "{version:?}"
        );
        for id in [3, 1, 2] {
            feed(&mut client, Packet::PubComp(PubComp::new(pid(id))));
        }
        assert_eq!(
            outcomes(&events(&mut client)),
            ["completed 3", "completed 1", "completed 2"]
        );
        assert!(client.session().is_empty());
    }
}

/// 5.0 MQTT-4.6.0-4 / 3.1.1 MQTT-4.6.0-4, on the resend path: the PUBRELs resent on
/// resume must also follow the order in which their PUBRECs arrived.
#[test]
fn resent_pubrels_keep_pubrec_arrival_order() {
    for version in VERSIONS {
        let mut client = hand_client(version, SessionConfig::default());
        for payload in ["1", "2", "3"] {
            client
                .publish(QoS::ExactlyOnce, message("t/r", payload))
                .unwrap();
        }
        for id in [3, 1, 2] {
            feed(&mut client, Packet::PubRec(PubRec::new(pid(id))));
        }
        assert_eq!(
            transmitted(&mut client)[3..],
            ["PUBREL 3", "PUBREL 1", "PUBREL 2"]
        );
        assert_eq!(
            hand_resume(&mut client, version),
            ["PUBREL 3", "PUBREL 1", "PUBREL 2"],
            "{version:?}"
        );
    }
}

/// 5.0 MQTT-3.3.1-1, MQTT-4.3.2-2 and MQTT-4.9.0-2: DUP marks a retransmission only. A
/// message held back by the peer's Receive Maximum was never sent: after the resume it goes
/// out with DUP 0, behind the resent one (DUP 1), in publish order (MQTT-4.6.0-1).
#[test]
fn v5_message_held_by_receive_maximum_goes_out_with_dup_0_after_resume() {
    for side in Side::BOTH {
        let mut peer = SessionConfig::default();
        peer.receive_maximum = NonZeroU16::new(1).unwrap();
        let mut pair = side.pair_with_peer_config(ProtocolVersion::V5, peer);
        pair.connect(false);
        let a = side.send(&mut pair, QoS::AtLeastOnce, "a");
        let b = side.send(&mut pair, QoS::AtLeastOnce, "b");
        assert_eq!(side.state(&pair).unacknowledged(), 2);
        pair.flush();
        pair.drop_link();
        let mark = pair.log.len();
        pair.connect(false);
        assert_eq!(
            flows(&pair, mark, side.out()),
            [format!("PUBLISH q1 {a} dup"), format!("PUBLISH q1 {b}")],
            "{side:?}"
        );
        assert_eq!(side.peer_got(&pair), ["a", "b"]);
        assert_eq!(
            outcomes(side.events(&pair)),
            [format!("acked {a}"), format!("acked {b}")]
        );
    }
}

// =======================================================================================
// Packet identifiers
// =======================================================================================

/// 5.0 MQTT-2.2.1-3, MQTT-2.2.1-4, MQTT-4.3.2-1, MQTT-4.3.3-1 / 3.1.1 MQTT-2.3.1-1,
/// MQTT-2.3.1-2, MQTT-2.3.1-4: identifiers are non-zero and distinct among everything in
/// flight (PUBLISH, SUBSCRIBE, UNSUBSCRIBE), on the wire too; SUBACK and UNSUBACK echo
/// theirs (5.0 MQTT-2.2.1-6 / 3.1.1 MQTT-2.3.1-7).
#[test]
fn packet_ids_are_nonzero_and_distinct_across_publish_subscribe_unsubscribe() {
    for version in VERSIONS {
        let mut pair = Pair::new(version);
        pair.connect(false);
        let mark = pair.log.len();
        let p1 = Side::Client.send(&mut pair, QoS::AtLeastOnce, "p1");
        let sub = pair
            .client
            .subscribe(
                vec![Subscription::new(
                    TopicFilter::new("a/#").unwrap(),
                    QoS::AtLeastOnce,
                )],
                SubscribeProperties::default(),
            )
            .unwrap();
        let p2 = Side::Client.send(&mut pair, QoS::ExactlyOnce, "p2");
        let unsub = pair
            .client
            .unsubscribe(
                vec![TopicFilter::new("a/#").unwrap()],
                UnsubscribeProperties::default(),
            )
            .unwrap();
        let p3 = Side::Client.send(&mut pair, QoS::AtLeastOnce, "p3");
        let all = [p1, sub, p2, unsub, p3].map(PacketId::get);
        for (i, a) in all.iter().enumerate() {
            assert_ne!(*a, 0);
            assert!(!all[i + 1..].contains(a), "{version:?}: {all:?}");
        }
        pair.run();
        assert_eq!(
            since(&pair, mark, Dir::ToServer)[..5],
            [
                format!("PUBLISH q1 {p1}"),
                format!("SUBSCRIBE {sub}"),
                format!("PUBLISH q2 {p2}"),
                format!("UNSUBSCRIBE {unsub}"),
                format!("PUBLISH q1 {p3}"),
            ]
        );
        // On the wire: the identifier follows the topic "t/qos" of a PUBLISH and the fixed
        // header of SUBSCRIBE and UNSUBSCRIBE (one-byte Remaining Length here).
        let wire: Vec<u16> = crossings(&pair, mark, Dir::ToServer)[..5]
            .iter()
            .map(|c| {
                let at = if matches!(c.packet, Packet::Publish(_)) {
                    2 + 2 + 5
                } else {
                    2
                };
                u16::from_be_bytes([c.bytes[at], c.bytes[at + 1]])
            })
            .collect();
        assert_eq!(wire, all, "{version:?}");
        let to_client = since(&pair, mark, Dir::ToClient);
        assert!(to_client.contains(&format!("SUBACK {sub}")));
        assert!(to_client.contains(&format!("UNSUBACK {unsub}")));
        assert!(pair
            .client_events
            .iter()
            .any(|e| matches!(e, Event::Subscribed(s) if s.packet_id == sub)));
        assert!(pair
            .client_events
            .iter()
            .any(|e| matches!(e, Event::Unsubscribed(u) if u.packet_id == unsub)));
        assert!(pair.client.session().is_empty());

        // The server's own messages: non-zero, distinct.
        let s1 = Side::Server.send(&mut pair, QoS::AtLeastOnce, "s1");
        let s2 = Side::Server.send(&mut pair, QoS::ExactlyOnce, "s2");
        let s3 = Side::Server.send(&mut pair, QoS::AtLeastOnce, "s3");
        assert!(s1 != s2 && s2 != s3 && s1 != s3);
        pair.run();
        assert!(pair.server.session().is_empty());
    }
}

/// 5.0 MQTT-2.2.1-4 and untagged §2.2.1 / 3.1.1 MQTT-2.3.1-4: client and server allocate
/// from independent pools; the same identifier in flight both ways is fine.
#[test]
fn client_and_server_packet_id_pools_are_independent() {
    for version in VERSIONS {
        let mut pair = Pair::new(version);
        pair.connect(false);
        let up = Side::Client.send(&mut pair, QoS::ExactlyOnce, "up");
        pair.deliver_to_server(); // the server now waits for PUBREL on `up`
        let down = Side::Server.send(&mut pair, QoS::AtLeastOnce, "down");
        assert_eq!((up.get(), down.get()), (1, 1), "{version:?}");
        pair.run();
        assert_eq!(pair.server_messages(), ["up"]);
        assert_eq!(pair.client_messages(), ["down"]);
        assert_eq!(outcomes(&pair.client_events), ["completed 1"]);
        assert_eq!(outcomes(&pair.server_events), ["acked 1"]);
    }
}

fn publish_qos1_n(client: &mut Client, n: usize) {
    for _ in 0..n {
        let id = client
            .publish(QoS::AtLeastOnce, message("t/x", "x"))
            .unwrap()
            .unwrap();
        assert_ne!(id.get(), 0);
        while client.poll_transmit(T0).is_some() {}
    }
}

/// 5.0 MQTT-2.2.1-3 / 3.1.1 MQTT-2.3.1-2: with all 65,535 identifiers held by
/// unacknowledged messages, `publish`, `subscribe` and `unsubscribe` fail with
/// `PacketIdsExhausted` (no panic, nothing changes); a PUBACK frees one for reuse
/// (3.1.1 MQTT-2.3.1-3).
#[test]
fn packet_id_exhaustion_is_an_error_and_a_puback_frees_one() {
    for version in VERSIONS {
        let mut config = SessionConfig::default();
        config.max_outgoing = usize::MAX; // let the identifiers, not the queue, run out
        let mut client = hand_client(version, config);
        publish_qos1_n(&mut client, 65_535);
        assert_eq!(client.session().unacknowledged(), 65_535);
        assert_eq!(
            client.publish(QoS::AtLeastOnce, message("t/x", "one more")),
            Err(SessionError::PacketIdsExhausted),
            "{version:?}"
        );
        assert_eq!(
            client.publish(QoS::ExactlyOnce, message("t/x", "one more")),
            Err(SessionError::PacketIdsExhausted)
        );
        let filter = TopicFilter::new("t/#").unwrap();
        assert_eq!(
            client.subscribe(
                vec![Subscription::new(filter.clone(), QoS::AtMostOnce)],
                SubscribeProperties::default()
            ),
            Err(SessionError::PacketIdsExhausted)
        );
        assert_eq!(
            client.unsubscribe(vec![filter], UnsubscribeProperties::default()),
            Err(SessionError::PacketIdsExhausted)
        );
        // QoS 0 needs no identifier.
        assert_eq!(
            client.publish(QoS::AtMostOnce, message("t/x", "zero")),
            Ok(None)
        );
        assert_eq!(transmitted(&mut client), ["PUBLISH q0"]);
        assert_eq!(client.session().unacknowledged(), 65_535);
        assert!(client.is_connected());
        assert!(events(&mut client).is_empty());

        feed(&mut client, Packet::PubAck(PubAck::new(pid(40_000))));
        assert_eq!(outcomes(&events(&mut client)), ["acked 40000"]);
        assert_eq!(
            client.publish(QoS::AtLeastOnce, message("t/x", "reuse")),
            Ok(Some(pid(40_000)))
        );
        assert_eq!(
            client.publish(QoS::AtLeastOnce, message("t/x", "again")),
            Err(SessionError::PacketIdsExhausted)
        );
    }
}

/// 5.0 untagged §2.2.1 and MQTT-4.3.3-5 / 3.1.1 MQTT-2.3.1-3: a QoS 2 identifier stays
/// busy after PUBREC and is freed by PUBCOMP.
#[test]
fn qos2_packet_id_stays_busy_after_pubrec_until_pubcomp() {
    for version in VERSIONS {
        let mut config = SessionConfig::default();
        config.max_outgoing = usize::MAX;
        let mut client = hand_client(version, config);
        publish_qos1_n(&mut client, 65_534);
        let last = client
            .publish(QoS::ExactlyOnce, message("t/x", "two"))
            .unwrap()
            .unwrap();
        assert_eq!(last.get(), 65_535);
        transmitted(&mut client);
        let more = || message("t/x", "more");
        assert_eq!(
            client.publish(QoS::AtLeastOnce, more()),
            Err(SessionError::PacketIdsExhausted)
        );
        // (Acknowledgements of the wrong kind end the connection and free nothing:
        // `acks_of_the_wrong_kind_are_violations_that_free_nothing`.)
        feed(&mut client, Packet::PubRec(PubRec::new(last)));
        assert_eq!(transmitted(&mut client), ["PUBREL 65535"]);
        assert_eq!(
            client.publish(QoS::AtLeastOnce, more()),
            Err(SessionError::PacketIdsExhausted),
            "{version:?}: busy until PUBCOMP"
        );
        feed(&mut client, Packet::PubComp(PubComp::new(last)));
        assert_eq!(outcomes(&events(&mut client)), ["completed 65535"]);
        assert_eq!(client.publish(QoS::AtLeastOnce, more()), Ok(Some(last)));
    }
}

/// 5.0 untagged §2.2.1 and MQTT-2.2.1-3 / 3.1.1 MQTT-2.3.1-3: SUBSCRIBE and UNSUBSCRIBE
/// share the pool with PUBLISH; SUBACK and UNSUBACK free their identifiers. With the
/// default configuration (at most 65,535 unacknowledged messages) the last identifiers
/// are taken by the two requests.
#[test]
fn suback_and_unsuback_free_their_packet_ids() {
    for version in VERSIONS {
        let mut client = hand_client(version, SessionConfig::default());
        publish_qos1_n(&mut client, 65_533);
        let filter = TopicFilter::new("t/#").unwrap();
        let sub = client
            .subscribe(
                vec![Subscription::new(filter.clone(), QoS::AtLeastOnce)],
                SubscribeProperties::default(),
            )
            .unwrap();
        let unsub = client
            .unsubscribe(vec![filter], UnsubscribeProperties::default())
            .unwrap();
        assert_eq!((sub.get(), unsub.get()), (65_534, 65_535));
        transmitted(&mut client);
        let more = || message("t/x", "more");
        assert_eq!(
            client.publish(QoS::AtLeastOnce, more()),
            Err(SessionError::PacketIdsExhausted),
            "{version:?}"
        );
        // (A PUBACK or PUBCOMP carrying a request's identifier, or a SUBACK for the
        // UNSUBSCRIBE's, ends the connection and frees nothing:
        // `acks_of_the_wrong_kind_are_violations_that_free_nothing`.)

        let codes = if version.is_v5() {
            vec![UnsubAckReasonCode::Success]
        } else {
            Vec::new()
        };
        feed(&mut client, Packet::UnsubAck(UnsubAck::new(unsub, codes)));
        assert!(matches!(
            events(&mut client)[..],
            [Event::Unsubscribed(ref u)] if u.packet_id == unsub
        ));
        assert_eq!(client.publish(QoS::AtLeastOnce, more()), Ok(Some(unsub)));
        assert_eq!(
            client.publish(QoS::AtLeastOnce, more()),
            Err(SessionError::PacketIdsExhausted)
        );

        let ack = SubAck::new(sub, vec![SubAckReasonCode::GrantedQoS1]);
        feed(&mut client, Packet::SubAck(ack));
        assert!(matches!(
            events(&mut client)[..],
            [Event::Subscribed(ref s)] if s.packet_id == sub
        ));
        assert_eq!(client.publish(QoS::AtLeastOnce, more()), Ok(Some(sub)));
    }
}

/// 3.1.1 MQTT-3.8.4-5 and 5.0 MQTT-3.8.4-6 (one reason code per topic filter), 5.0
/// MQTT-3.11.3-1 (the UNSUBACK's, in the filters' order): an answer with another number of
/// codes than its request has filters is a protocol violation. The request it claims to
/// answer is reported dropped, as any request the closed connection leaves unanswered, and
/// its identifier is free for the next connection.
#[test]
fn mismatched_suback_or_unsuback_reports_its_request_dropped_mqtt_3_8_4_5_v311_mqtt_3_8_4_6_v5() {
    for version in VERSIONS {
        // A 3.1.1 UNSUBACK has no reason codes to count.
        let kinds: &[bool] = if version.is_v5() {
            &[false, true]
        } else {
            &[false]
        };
        for &unsubscribe in kinds {
            let mut client = hand_client(version, SessionConfig::default());
            let filter = TopicFilter::new("t/#").unwrap();
            let (id, answer, rule) = if unsubscribe {
                let id = client
                    .unsubscribe(vec![filter], UnsubscribeProperties::default())
                    .unwrap();
                let codes = vec![UnsubAckReasonCode::Success; 2];
                (
                    id,
                    Packet::UnsubAck(UnsubAck::new(id, codes)),
                    "MQTT-3.11.3-1",
                )
            } else {
                let id = client
                    .subscribe(
                        vec![Subscription::new(filter, QoS::AtLeastOnce)],
                        SubscribeProperties::default(),
                    )
                    .unwrap();
                let codes = vec![SubAckReasonCode::GrantedQoS1, SubAckReasonCode::GrantedQoS0];
                let rule = if version.is_v5() {
                    "MQTT-3.8.4-6"
                } else {
                    "MQTT-3.8.4-5"
                };
                (id, Packet::SubAck(SubAck::new(id, codes)), rule)
            };
            transmitted(&mut client);
            let err = client.handle_incoming(T0, answer).unwrap_err();
            assert_eq!(err.rule(), Some(rule), "{version:?}");
            assert!(
                matches!(
                    events(&mut client)[..],
                    [
                        Event::RequestDropped { packet_id },
                        Event::Disconnected(DisconnectCause::ProtocolViolation(_)),
                    ] if packet_id == id
                ),
                "{version:?}, unsubscribe {unsubscribe}"
            );
            client.handle_connection_lost();
            let mut connect = connect_packet(version);
            connect.clean_start = true;
            client.connect(T0, connect).unwrap();
            let ack = ConnAck::new(ConnectReasonCode::Success);
            client.handle_incoming(T0, Packet::ConnAck(ack)).unwrap();
            let again = client
                .unsubscribe(vec![TopicFilter::new("u").unwrap()], Default::default())
                .unwrap();
            assert_eq!(again, id, "{version:?}: the identifier is free again");
        }
    }
}

/// CONFORMANCE section 7, last item (3.1.1+5.0 untagged): acknowledgements for identifiers
/// not in flight, or for a flow at another stage, change nothing: no identifier freed, no
/// event, no disconnect. (5.0 answers an unknown PUBREC with PUBREL 0x92, the code for an
/// identifier it does not know.)
#[test]
fn acks_for_unknown_packet_ids_change_nothing() {
    for version in VERSIONS {
        let mut client = hand_client(version, SessionConfig::default());
        let q1 = client
            .publish(QoS::AtLeastOnce, message("t/u", "q1"))
            .unwrap()
            .unwrap();
        let q2 = client
            .publish(QoS::ExactlyOnce, message("t/u", "q2"))
            .unwrap()
            .unwrap();
        let sub = client
            .subscribe(
                vec![Subscription::new(
                    TopicFilter::new("t/#").unwrap(),
                    QoS::AtMostOnce,
                )],
                SubscribeProperties::default(),
            )
            .unwrap();
        transmitted(&mut client);
        let unknown = pid(99);
        for packet in [
            Packet::PubAck(PubAck::new(unknown)),
            Packet::PubComp(PubComp::new(unknown)),
            Packet::SubAck(SubAck::new(unknown, vec![SubAckReasonCode::GrantedQoS0])),
            Packet::UnsubAck(UnsubAck::new(unknown, Vec::new())),
        ] {
            let what = format!("{version:?} {}", show(&packet));
            client.handle_incoming(T0, packet).unwrap();
            assert!(client.is_connected(), "{what}");
            assert!(transmitted(&mut client).is_empty(), "{what}");
            assert!(events(&mut client).is_empty(), "{what}");
            assert_eq!(ids(client.session()), [q1.get(), q2.get()], "{what}");
        }
        feed(&mut client, Packet::PubRec(PubRec::new(unknown)));
        let expected: &[&str] = if version.is_v5() {
            &["PUBREL 99 rc=0x92"]
        } else {
            &[]
        };
        assert_eq!(transmitted(&mut client), expected);
        assert!(events(&mut client).is_empty());
        assert_eq!(ids(client.session()), [q1.get(), q2.get()]);

        // The real acknowledgements still work.
        feed(&mut client, Packet::PubAck(PubAck::new(q1)));
        feed(&mut client, Packet::PubRec(PubRec::new(q2)));
        feed(&mut client, Packet::PubComp(PubComp::new(q2)));
        let ack = SubAck::new(sub, vec![SubAckReasonCode::GrantedQoS0]);
        feed(&mut client, Packet::SubAck(ack));
        let got = events(&mut client);
        assert_eq!(
            outcomes(&got),
            [format!("acked {q1}"), format!("completed {q2}")]
        );
        assert!(matches!(got.last(), Some(Event::Subscribed(_))));
        assert!(client.session().is_empty());
    }
}

/// An acknowledgement whose kind does not fit what its identifier is in use for (a PUBACK
/// for a QoS 2 message, as a broker without QoS 2 sends; a PUBCOMP before PUBREC; a
/// PUBREC or PUBCOMP for a QoS 1 message; any publish acknowledgement for a SUBSCRIBE;
/// a SUBACK for an UNSUBSCRIBE or a PUBLISH) answers a packet that was never sent: a
/// protocol violation (5.0 MQTT-4.3.2-3, MQTT-4.3.3-3, MQTT-3.8.4-2, MQTT-2.2.1-6; 3.1.1
/// MQTT-4.3.2-1, MQTT-4.3.3-1, MQTT-3.8.4-2, MQTT-3.10.4-4). The connection ends (5.0:
/// DISCONNECT 0x82), it is reported, and the identifier stays in use: the message is
/// resent on the next connection, never reported completed.
#[test]
fn acks_of_the_wrong_kind_are_violations_that_free_nothing() {
    for version in VERSIONS {
        for case in 0..9 {
            let mut client = hand_client(version, SessionConfig::default());
            let q1 = client
                .publish(QoS::AtLeastOnce, message("t/u", "q1"))
                .unwrap()
                .unwrap();
            let q2 = client
                .publish(QoS::ExactlyOnce, message("t/u", "q2"))
                .unwrap()
                .unwrap();
            let filter = TopicFilter::new("t/#").unwrap();
            let sub = client
                .subscribe(
                    vec![Subscription::new(filter.clone(), QoS::AtMostOnce)],
                    SubscribeProperties::default(),
                )
                .unwrap();
            let unsub = client
                .unsubscribe(vec![filter], UnsubscribeProperties::default())
                .unwrap();
            transmitted(&mut client);
            let granted = || vec![SubAckReasonCode::GrantedQoS0];
            let (packet, rule) = match case {
                0 => (
                    Packet::PubAck(PubAck::new(q2)),
                    ("MQTT-4.3.3-1", "MQTT-4.3.3-3"),
                ),
                1 => (
                    Packet::PubComp(PubComp::new(q2)),
                    ("MQTT-4.3.3-1", "MQTT-4.3.3-3"),
                ),
                2 => (
                    Packet::PubRec(PubRec::new(q1)),
                    ("MQTT-4.3.2-1", "MQTT-4.3.2-3"),
                ),
                3 => (
                    Packet::PubComp(PubComp::new(q1)),
                    ("MQTT-4.3.2-1", "MQTT-4.3.2-3"),
                ),
                4 => (
                    Packet::PubAck(PubAck::new(sub)),
                    ("MQTT-4.3.2-1", "MQTT-4.3.2-3"),
                ),
                5 => (
                    Packet::PubRec(PubRec::new(unsub)),
                    ("MQTT-4.3.3-1", "MQTT-4.3.3-3"),
                ),
                6 => (
                    Packet::SubAck(SubAck::new(unsub, granted())),
                    ("MQTT-3.8.4-2", "MQTT-3.8.4-2"),
                ),
                7 => (
                    Packet::SubAck(SubAck::new(q1, granted())),
                    ("MQTT-3.8.4-2", "MQTT-3.8.4-2"),
                ),
                _ => (
                    Packet::UnsubAck(UnsubAck::new(sub, Vec::new())),
                    ("MQTT-3.10.4-4", "MQTT-2.2.1-6"),
                ),
            };
            let what = format!("{version:?} {}", show(&packet));
            let error = client.handle_incoming(T0, packet).unwrap_err();
            assert_eq!(
                error.reason_code(),
                DisconnectReasonCode::ProtocolError,
                "{what}"
            );
            let rule = if version.is_v5() { rule.1 } else { rule.0 };
            assert_eq!(error.rule(), Some(rule), "{what}");
            assert!(!client.is_connected(), "{what}");
            let sent: Vec<Packet> = std::iter::from_fn(|| client.poll_transmit(T0)).collect();
            let expected = if version.is_v5() {
                vec![Packet::Disconnect(mqttwire::Disconnect::new(
                    DisconnectReasonCode::ProtocolError,
                ))]
            } else {
                Vec::new()
            };
            assert_eq!(sent, expected, "{what}");
            let got = events(&mut client);
            assert!(
                matches!(got.as_slice(), [.., Event::Disconnected(DisconnectCause::ProtocolViolation(e))]
                    if *e == error),
                "{what}: {got:?}"
            );
            assert!(
                !got.iter().any(|e| matches!(
                    e,
                    Event::PublishAcknowledged { .. } | Event::PublishCompleted { .. }
                )),
                "{what}: {got:?}"
            );
            assert_eq!(ids(client.session()), [q1.get(), q2.get()], "{what}");
        }
    }
}

/// 5.0 MQTT-4.3.3-11 (and Table 3-6: 0x92 Packet Identifier not found) / 3.1.1
/// MQTT-4.3.3-2: a PUBREL for an identifier the receiver does not know is still answered
/// with PUBCOMP, carrying 0x92 in 5.0; on either side.
#[test]
fn pubrel_for_unknown_id_is_answered_with_pubcomp_0x92_in_v5() {
    for version in VERSIONS {
        for side in Side::BOTH {
            let mut pair = Pair::new(version);
            pair.connect(false);
            let mark = pair.log.len();
            // `side` sends a PUBREL its peer never saw a PUBLISH for.
            inject(&mut pair, side.out(), &Packet::PubRel(PubRel::new(pid(77))));
            pair.run();
            let (shown, bytes): (&str, &[u8]) = if version.is_v5() {
                ("PUBCOMP 77 rc=0x92", &[0x70, 0x03, 0x00, 0x4D, 0x92])
            } else {
                ("PUBCOMP 77", &[0x70, 0x02, 0x00, 0x4D])
            };
            assert_eq!(
                since(&pair, mark, side.back()),
                [shown],
                "{version:?} {side:?}"
            );
            assert_eq!(&crossings(&pair, mark, side.back())[0].bytes[..], bytes);
            assert!(pair.client.is_connected() && pair.server.is_connected());
            assert!(side.peer_state(&pair).is_empty());
        }
    }
}

// =======================================================================================
// 5.0 failure reason codes
// =======================================================================================

/// 5.0 MQTT-4.4.0-2 and MQTT-4.3.2-3: a PUBACK with a reason code of 0x80 or above ends
/// the QoS 1 flow: `PublishFailed`, the identifier is freed, and the message is not resent
/// after a resume.
#[test]
fn v5_puback_failure_ends_the_flow_and_is_not_resent() {
    for side in Side::BOTH {
        let mut pair = Pair::new(ProtocolVersion::V5);
        pair.connect(false);
        let id = side.send(&mut pair, QoS::AtLeastOnce, "refused");
        side.to_peer(&mut pair);
        let mut ack = PubAck::new(id);
        ack.reason_code = PubAckReasonCode::NotAuthorized;
        replace_next(
            &mut pair,
            side.back(),
            &format!("PUBACK {id}"),
            &Packet::PubAck(ack),
        );
        let ack = side.take_answer(&mut pair).unwrap();
        assert_eq!(show(&ack), format!("PUBACK {id} rc=0x87"));
        assert_eq!(
            outcomes(side.events(&pair)),
            [format!("failed {id} rc=0x87")]
        );
        assert!(side.events(&pair).contains(&Event::PublishFailed {
            packet_id: id,
            reason_code: PubAckReasonCode::NotAuthorized,
        }));
        assert!(side.state(&pair).is_empty(), "{side:?}: identifier freed");

        pair.drop_link();
        let mark = pair.log.len();
        pair.connect(false);
        assert!(session_present_on_last_connack(&pair));
        assert!(
            flows(&pair, mark, side.out()).is_empty(),
            "{side:?}: not resent"
        );
        assert_eq!(side.peer_got(&pair), ["refused"]);
        assert_eq!(outcomes(side.events(&pair)).len(), 1);
    }
}

/// 5.0 MQTT-4.3.3-4 and MQTT-4.4.0-2: a PUBREC with a reason code of 0x80 or above ends
/// the QoS 2 flow: no PUBREL, `PublishFailed`, the identifier is freed, and nothing is
/// resent after a resume.
#[test]
fn v5_pubrec_failure_ends_the_flow_without_pubrel_and_is_not_resent() {
    for side in Side::BOTH {
        let mut pair = Pair::new(ProtocolVersion::V5);
        pair.connect(false);
        let mark = pair.log.len();
        let id = side.send(&mut pair, QoS::ExactlyOnce, "refused");
        side.to_peer(&mut pair);
        let mut rec = PubRec::new(id);
        rec.reason_code = PubAckReasonCode::QuotaExceeded;
        replace_next(
            &mut pair,
            side.back(),
            &format!("PUBREC {id}"),
            &Packet::PubRec(rec),
        );
        side.take_answer(&mut pair).unwrap();
        pair.run();
        assert_eq!(
            since(&pair, mark, side.out()),
            [format!("PUBLISH q2 {id}")],
            "{side:?}: no PUBREL"
        );
        assert_eq!(
            outcomes(side.events(&pair)),
            [format!("failed {id} rc=0x97")]
        );
        assert!(side.state(&pair).is_empty(), "{side:?}: identifier freed");

        pair.drop_link();
        let mark = pair.log.len();
        pair.connect(false);
        assert!(
            flows(&pair, mark, side.out()).is_empty(),
            "{side:?}: not resent"
        );
        assert_eq!(outcomes(side.events(&pair)).len(), 1);
    }
}

// =======================================================================================
// Manual acknowledgement
// =======================================================================================

fn manual() -> SessionConfig {
    let mut config = SessionConfig::default();
    config.manual_acks = true;
    config
}

/// MQTT-4.6.0-2 and MQTT-4.6.0-3 (same tags in 3.1.1 and 5.0): with manual
/// acknowledgement nothing is acknowledged before the application's `ack`, and PUBACK and
/// PUBREC leave in the order the PUBLISH packets arrived, even when the application
/// acknowledges the later messages first.
#[test]
fn manual_acks_leave_in_arrival_order_when_acked_out_of_order() {
    for version in VERSIONS {
        for side in Side::BOTH {
            let what = format!("{version:?} {side:?}");
            let mut pair = side.pair_with_peer_config(version, manual());
            pair.connect(false);
            let mark = pair.log.len();
            let a = side.send(&mut pair, QoS::AtLeastOnce, "a");
            let b = side.send(&mut pair, QoS::ExactlyOnce, "b");
            let c = side.send(&mut pair, QoS::AtLeastOnce, "c");
            let d = side.send(&mut pair, QoS::ExactlyOnce, "d");
            pair.run();
            assert_eq!(side.peer_got(&pair), ["a", "b", "c", "d"], "{what}");
            assert!(
                flows(&pair, mark, side.back()).is_empty(),
                "{what}: nothing acked"
            );

            for id in [d, c, b] {
                side.peer_ack(&mut pair, id).unwrap();
                pair.run();
                assert!(
                    flows(&pair, mark, side.back()).is_empty(),
                    "{what}: waits for a"
                );
            }
            assert_eq!(side.state(&pair).unacknowledged(), 4);
            side.peer_ack(&mut pair, a).unwrap();
            pair.run();
            let acks: Vec<String> = flows(&pair, mark, side.back())
                .into_iter()
                .filter(|s| s.starts_with("PUBACK") || s.starts_with("PUBREC"))
                .collect();
            assert_eq!(
                acks,
                [
                    format!("PUBACK {a}"),
                    format!("PUBREC {b}"),
                    format!("PUBACK {c}"),
                    format!("PUBREC {d}"),
                ],
                "{what}"
            );
            assert!(side.state(&pair).is_empty(), "{what}");
            assert!(side.peer_state(&pair).is_empty(), "{what}");
            assert_eq!(side.peer_got(&pair).len(), 4);
        }
    }
}

/// `ack` of an identifier with no delivered message awaiting acknowledgement is
/// `NoPendingAck`: unknown, already acknowledged, or with manual acknowledgement off.
#[test]
fn manual_ack_of_unknown_or_acked_id_is_no_pending_ack() {
    for version in VERSIONS {
        let mut pair = Pair::with_configs(version, SessionConfig::default(), manual());
        pair.connect(false);
        assert_eq!(
            pair.server.ack(pid(999)),
            Err(SessionError::NoPendingAck(pid(999)))
        );
        let a = Side::Client.send(&mut pair, QoS::AtLeastOnce, "a");
        let b = Side::Client.send(&mut pair, QoS::ExactlyOnce, "b");
        pair.run();
        assert_eq!(pair.server.ack(a), Ok(()));
        assert_eq!(pair.server.ack(a), Err(SessionError::NoPendingAck(a)));
        assert_eq!(pair.server.ack(b), Ok(()));
        pair.run();
        assert_eq!(pair.server.ack(b), Err(SessionError::NoPendingAck(b)));
        assert_eq!(
            outcomes(&pair.client_events),
            [format!("acked {a}"), format!("completed {b}")]
        );
        assert!(pair.server.is_connected());

        // Without manual acknowledgement there is never anything to release.
        let mut pair = Pair::new(version);
        pair.connect(false);
        let c = Side::Client.send(&mut pair, QoS::AtLeastOnce, "c");
        pair.deliver_to_server();
        assert_eq!(pair.server.ack(c), Err(SessionError::NoPendingAck(c)));
    }
}

/// MQTT-4.6.0-3 (3.1.1 and 5.0) with 5.0 MQTT-4.3.3-10 / 3.1.1 MQTT-4.3.3-2: a QoS 2
/// message delivered on a link that dropped before the application acknowledged it is
/// resent by the sender; it is not delivered again, and the application's `ack` on the new
/// link releases the PUBREC.
#[test]
fn manual_ack_of_qos2_delivered_on_previous_link_releases_pubrec_after_resume() {
    for version in VERSIONS {
        for side in Side::BOTH {
            let what = format!("{version:?} {side:?}");
            let mut pair = side.pair_with_peer_config(version, manual());
            pair.connect(false);
            let id = side.send(&mut pair, QoS::ExactlyOnce, "once");
            side.to_peer(&mut pair);
            assert_eq!(side.peer_got(&pair), ["once"]);
            pair.drop_link();
            let mark = pair.log.len();
            pair.connect(false);
            assert_eq!(
                flows(&pair, mark, side.out()),
                [format!("PUBLISH q2 {id} dup")],
                "{what}"
            );
            assert!(
                flows(&pair, mark, side.back()).is_empty(),
                "{what}: not acked yet"
            );
            side.peer_ack(&mut pair, id).unwrap();
            pair.run();
            assert_eq!(
                flows(&pair, mark, side.back()),
                [format!("PUBREC {id}"), format!("PUBCOMP {id}")],
                "{what}"
            );
            assert_eq!(side.peer_got(&pair), ["once"], "{what}: exactly once");
            assert_eq!(outcomes(side.events(&pair)), [format!("completed {id}")]);
        }
    }
}

/// 5.0 MQTT-4.3.3-10 and MQTT-4.6.0-2/-3 / 3.1.1 MQTT-4.3.3-2 and MQTT-4.6.0-2/-3: with
/// manual acknowledgement, a QoS 2 PUBLISH duplicated before the application's `ack` is
/// delivered once; once the application has acknowledged every delivered message, every
/// PUBLISH received is acknowledged (a PUBREC for each copy, in arrival order) without
/// waiting for anything from the peer.
/// (Regression: fixed in commit 9d6c273; before it the second PUBREC was never released.)
#[test]
fn manual_ack_releases_pubrec_for_a_duplicate_qos2_publish() {
    for version in VERSIONS {
        for side in Side::BOTH {
            let what = format!("{version:?} {side:?}");
            let mut pair = side.pair_with_peer_config(version, manual());
            pair.connect(false);
            let mark = pair.log.len();
            let two = side.send(&mut pair, QoS::ExactlyOnce, "two");
            side.duplicate_next_to_peer(&mut pair);
            side.to_peer(&mut pair);
            side.to_peer(&mut pair);
            let one = side.send(&mut pair, QoS::AtLeastOnce, "one");
            side.to_peer(&mut pair);
            assert_eq!(side.peer_got(&pair), ["two", "one"], "{what}");
            side.peer_ack(&mut pair, two).unwrap();
            side.peer_ack(&mut pair, one).unwrap();
            pair.flush();
            // Everything the peer sends now, before hearing from `side` again.
            let waiting: Vec<String> = link(&mut pair, side.back())
                .iter()
                .map(|b| show(&Packet::decode(b, version).unwrap().0))
                .collect();
            // One PUBREC answers both copies: the second arrived while the first's was
            // pending, so it is the same message, and one acknowledgement per identifier
            // keeps what a repeating peer can make the session hold bounded.
            assert_eq!(
                waiting,
                [format!("PUBREC {two}"), format!("PUBACK {one}")],
                "{what}"
            );
            pair.run();
            assert_eq!(side.peer_got(&pair), ["two", "one"]);
            assert!(since(&pair, mark, side.back()).contains(&format!("PUBACK {one}")));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Identifiers the peer may still hold, and what a repeating peer can make us keep.
// ---------------------------------------------------------------------------------------

/// Resumes `client` with a CONNACK (Session Present 1) carrying the server's new limits.
fn resume_with_limits(
    client: &mut Client,
    version: ProtocolVersion,
    max_packet_size: Option<u32>,
    receive_maximum: Option<u16>,
) -> Vec<String> {
    client.handle_connection_lost();
    client.connect(T0, connect_packet(version)).unwrap();
    assert_eq!(transmitted(client)[..1], ["CONNECT"]);
    let mut ack = ConnAck::new(ConnectReasonCode::Success);
    ack.session_present = true;
    ack.properties.maximum_packet_size = max_packet_size.and_then(std::num::NonZeroU32::new);
    ack.properties.receive_maximum = receive_maximum.and_then(NonZeroU16::new);
    client.handle_incoming(T0, Packet::ConnAck(ack)).unwrap();
    transmitted(client)
}

/// A QoS 2 message sent before the link dropped (its PUBREC lost with it) that can no
/// longer be resent (the server's Maximum Packet Size shrank, or a 5.0 session resumes at
/// 3.1.1 with a message that has properties) may be held by the server, awaiting PUBREL.
/// Its identifier is therefore not freed: the session reports the message dropped, sends
/// PUBREL for it (answered whether or not the server has it, 5.0 MQTT-4.3.3-11, 3.1.1
/// MQTT-4.3.3-2) and keeps the identifier, counting against the server's Receive Maximum,
/// until the PUBCOMP, which reports nothing more. No new message gets that identifier
/// before then (5.0 MQTT-2.2.1-3, 3.1.1 MQTT-2.3.1-2), however many go by, and the send
/// quota recovers.
#[test]
fn a_qos2_message_that_cannot_be_resent_keeps_its_identifier_until_pubcomp() {
    for (version, shrink) in [
        (ProtocolVersion::V5, true),
        (ProtocolVersion::V5, false),
        (ProtocolVersion::V3_1_1, false),
    ] {
        let what = format!("{version:?} shrink={shrink}");
        let mut config = SessionConfig::default();
        config.max_outgoing = usize::MAX;
        let mut client = hand_client(ProtocolVersion::V5, config);
        let mut big = message("t/big", "a message of some sixty bytes, too large for 50");
        big.properties.message_expiry_interval = Some(600);
        let held = client.publish(QoS::ExactlyOnce, big).unwrap().unwrap();
        assert_eq!(transmitted(&mut client), [format!("PUBLISH q2 {held}")]);
        // The link drops with the PUBREC; the server comes back with a smaller limit and a
        // Receive Maximum of 1, or the client resumes at 3.1.1.
        let resumed = if shrink {
            resume_with_limits(&mut client, version, Some(50), Some(1))
        } else if version.is_v5() {
            resume_with_limits(&mut client, version, None, Some(1))
        } else {
            resume_with_limits(&mut client, version, None, None)
        };
        if !shrink && version.is_v5() {
            // Nothing changed: the message is resent as usual.
            assert_eq!(resumed, [format!("PUBLISH q2 {held} dup")], "{what}");
            continue;
        }
        assert_eq!(resumed, [format!("PUBREL {held}")], "{what}");
        assert_eq!(
            outcomes(&events(&mut client)),
            [format!(
                "dropped {held} (a message of some sixty bytes, too large for 50)"
            )],
            "{what}"
        );
        assert_eq!(ids(client.session()), [held.get()], "{what}: still held");

        // The released identifier holds the only slot of a Receive Maximum of 1: a new
        // message waits for the PUBCOMP instead of ending in 0x93.
        let next = client
            .publish(QoS::ExactlyOnce, message("t/small", "next"))
            .unwrap()
            .unwrap();
        assert_ne!(next, held, "{what}");
        let waiting = transmitted(&mut client);
        if version.is_v5() {
            assert!(waiting.is_empty(), "{what}: {waiting:?}");
        }
        let mut comp = PubComp::new(held);
        if version.is_v5() {
            comp.reason_code = mqttwire::PubRelReasonCode::PacketIdentifierNotFound;
        }
        feed(&mut client, Packet::PubComp(comp));
        assert!(
            outcomes(&events(&mut client)).is_empty(),
            "{what}: the PUBCOMP reported a completion that did not happen"
        );
        if version.is_v5() {
            assert_eq!(transmitted(&mut client), [format!("PUBLISH q2 {next}")]);
        }
        assert_eq!(ids(client.session()), [next.get()], "{what}");
    }
}

/// The identifier of such a message is not handed out while its PUBREL is unanswered,
/// however many identifiers go round meanwhile (here 70,000 QoS 1 messages, more than the
/// 65,535 identifiers there are).
#[test]
fn a_released_identifier_is_not_reused_before_its_pubcomp_however_many_go_round() {
    let mut client = hand_client(ProtocolVersion::V5, SessionConfig::default());
    let held = client
        .publish(
            QoS::ExactlyOnce,
            message("t/big", "some sixty bytes, too large for 30"),
        )
        .unwrap()
        .unwrap();
    transmitted(&mut client);
    assert_eq!(
        resume_with_limits(&mut client, ProtocolVersion::V5, Some(30), None),
        [format!("PUBREL {held}")]
    );
    for _ in 0..70_000 {
        let id = client
            .publish(QoS::AtLeastOnce, message("t/w", "x"))
            .unwrap()
            .unwrap();
        assert_ne!(id, held);
        feed(&mut client, Packet::PubAck(PubAck::new(id)));
        while client.poll_transmit(T0).is_some() {}
        while client.poll_event().is_some() {}
    }
    feed(&mut client, Packet::PubComp(PubComp::new(held)));
    assert!(client.session().is_empty());
}

/// With manual acknowledgement and a Receive Maximum of 10, a peer that retransmits one
/// unacknowledged QoS 1 or QoS 2 PUBLISH 200,000 times gets it delivered once and, after
/// the application's single `ack`, one acknowledgement: a copy that arrives while the
/// acknowledgement is pending is answered by it (5.0 MQTT-4.3.3-10, 3.1.1 MQTT-4.3.3-2),
/// so what the session keeps does not grow with what the peer repeats.
#[test]
fn a_retransmission_flood_under_manual_acks_ends_in_one_acknowledgement() {
    for version in VERSIONS {
        for qos2 in [false, true] {
            let what = format!("{version:?} qos2={qos2}");
            let mut config = manual();
            config.receive_maximum = NonZeroU16::new(10).unwrap();
            let mut client = hand_client(version, config);
            let id = pid(7);
            let qos = if qos2 {
                QosPid::ExactlyOnce(id)
            } else {
                QosPid::AtLeastOnce(id)
            };
            feed(&mut client, publish_packet(qos, "flood"));
            let mut copy = publish_packet(qos, "flood");
            if let Packet::Publish(p) = &mut copy {
                p.dup = true;
            }
            for _ in 0..200_000 {
                client.handle_incoming(T0, copy.clone()).unwrap();
                assert!(client.poll_transmit(T0).is_none(), "{what}");
            }
            let delivered = events(&mut client)
                .into_iter()
                .filter(|e| matches!(e, Event::Message(_)))
                .count();
            assert_eq!(delivered, 1, "{what}");
            client.ack(id).unwrap();
            let kind = if qos2 { "PUBREC" } else { "PUBACK" };
            assert_eq!(transmitted(&mut client), [format!("{kind} 7")], "{what}");
            assert_eq!(
                client.ack(id),
                Err(SessionError::NoPendingAck(id)),
                "{what}"
            );
        }
    }
}

/// `in_flight` counts what was sent on the current connection: a QoS 2 message past
/// PUBREC counts while its PUBREL is unanswered, not once the connection has ended (it
/// waits to be sent again), and again after the resume has resent its PUBREL (5.0
/// MQTT-4.9.0-2: the PUBREL's flow still counts against the peer's Receive Maximum).
/// (Found by the `session` fuzz target's seeds.)
#[test]
fn in_flight_counts_only_the_current_connection() {
    for version in VERSIONS {
        let mut client = hand_client(version, SessionConfig::default());
        let id = client
            .publish(QoS::ExactlyOnce, message("t/q", "two"))
            .unwrap()
            .unwrap();
        feed(&mut client, Packet::PubRec(PubRec::new(id)));
        transmitted(&mut client);
        assert_eq!(client.in_flight(), 1, "{version:?}");
        client.handle_connection_lost();
        assert_eq!(client.in_flight(), 0, "{version:?}: no connection");
        assert_eq!(ids(client.session()), [id.get()]);
        assert_eq!(hand_resume(&mut client, version), [format!("PUBREL {id}")]);
        assert_eq!(client.in_flight(), 1, "{version:?}");
    }
}
