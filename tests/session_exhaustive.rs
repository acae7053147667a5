//! Exhaustive exploration of small session configurations, for what random exploration
//! (tests/session_model.rs, the `session` fuzz target) reaches only by luck.
//!
//! 1. Link cuts (`every_schedule_*`): the model of tests/session_util/model.rs, with every
//!    invariant of tests/session_model.rs on, runs every schedule of two or three messages
//!    (QoS 1 and 2 mixes, some too big for a small Maximum Packet Size or carrying a
//!    property 3.1.1 cannot): every interleaving of the publishes and the packet deliveries
//!    in both directions, and, between any two of them, the link is cut and the session
//!    resumed on a link with each of a few limit changes (the server's or client's Maximum
//!    Packet Size shrinking, its Receive Maximum changing, the protocol version switching
//!    3.1.1 <-> 5.0 on the same session), then cut again after every delivery of the
//!    resumed link's first few, then resumed for good; after that, tail traffic hands out
//!    every freed packet identifier again (reuse starts once 16 are free). Some
//!    configurations also let the application acknowledge at any point (manual
//!    acknowledgement, in any order), inject one acknowledgement of the wrong kind at any
//!    point, defer the broker's answer to CONNECT and make its first `accept` fail, or
//!    pass the sessions through `SessionState::save` and `restore` at every link drop.
//! 2. Pipelined packets and failed accepts (`packets_pipelined_before_accept_*`): every
//!    sequence of up to three client packets sent after CONNECT before the broker answers,
//!    with zero to two failing `accept` calls first, is handled exactly as the same packets
//!    arriving after an immediate accept: same bytes sent, same events, same session.
//! 3. Protocol levels (`every_unsupported_protocol_level_*`, `a_5_0_client_refused_*`): a
//!    CONNECT of every level the server does not speak gets `20 02 00 01`; a 5.0 client
//!    refused that way by a 3.1.1-only broker, with each kind of session state, reports
//!    the refusal, answers nothing, and resumes its session at 3.1.1.
//! 4. Retransmission floods (`a_flood_of_copies_*`): ten thousand copies of a message
//!    under every combination of QoS, protocol version and acknowledgement mode leave what
//!    the receiving engine holds in memory unchanged, and one `ack` sends one
//!    acknowledgement.
//!
//! Each test prints how many schedules or cases it ran (`--nocapture`). The whole file
//! runs in well under a minute in debug on two cores.

#[path = "session_util/model.rs"]
mod model;
mod session_util;

use bytes::{Bytes, BytesMut};
use model::{Knobs, Limits, Model, Op, Side, ALL};
use mqttwire::properties::ConnAckProperties;
use mqttwire::session::{DisconnectCause, Event, Instant, Server, SessionConfig, SessionState};
use mqttwire::{
    Connect, ConnectReasonCode, Disconnect, DisconnectReasonCode, MqttString, Packet, PacketId,
    ProtocolVersion, PubAck, PubComp, PubRec, PubRel, Publish, QoS, QosPid, Subscribe,
    Subscription, TopicFilter,
};
use session_util::{saved, topic, Pair};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use Side::{Client as C, Server as S};

// ------------------------------------------------------------------------------------------
// 1. Every schedule, the link cut at every point
// ------------------------------------------------------------------------------------------

/// A message a schedule publishes (in list order, at a point the schedule picks).
#[derive(Debug, Clone, Copy)]
struct Planned {
    from: Side,
    qos: QoS,
    /// Too big for a small Maximum Packet Size, with a property 3.1.1 cannot carry: it
    /// cannot be resent after either change.
    heavy: bool,
}

struct Exploration {
    knobs: Knobs,
    msgs: Vec<Planned>,
    /// The limits a resumed link may have: each is tried at every cut.
    resumes: Vec<Limits>,
    /// The applications acknowledge (manual acks) at points the schedule picks, in any
    /// order.
    acks: bool,
    /// One acknowledgement of the wrong kind may be injected at any point.
    wrong_acks: bool,
    /// The resumed link is cut again after each of its first this many deliveries.
    second_cuts: usize,
}

impl Exploration {
    fn publish(&self, k: usize) -> Op {
        let m = self.msgs[k];
        Op::Publish {
            from: m.from,
            qos: m.qos,
            topic: k % 3,
            big: m.heavy,
            props: m.heavy,
        }
    }

    fn fail(&self, ops: &[Op], e: impl std::fmt::Display) -> ! {
        panic!(
            "knobs {:?}\nmessages {:?}\nschedule {ops:?}\n{e}",
            self.knobs, self.msgs
        )
    }

    /// The model after the handshake and `ops`.
    fn replay(&self, ops: &[Op]) -> Model {
        let mut model = Model::new(self.knobs, ALL);
        let result = model
            .start()
            .and_then(|()| ops.iter().try_for_each(|op| model.step(op)));
        if let Err(e) = result {
            self.fail(ops, e);
        }
        model
    }

    /// One whole schedule, with every invariant.
    fn run(&self, ops: &[Op]) {
        if let Err(e) = Model::new(self.knobs, ALL).run(ops) {
            self.fail(ops, e);
        }
    }

    /// Depth first through every interleaving; at every point, every cut and resume.
    /// Returns the number of schedules run.
    fn explore(&self) -> usize {
        let mut schedules = 0;
        let mut stack = vec![Vec::<Op>::new()];
        while let Some(prefix) = stack.pop() {
            let mut model = self.replay(&prefix);
            let mut next = Vec::new();
            let published = (prefix.iter())
                .filter(|op| matches!(op, Op::Publish { .. }))
                .count();
            if published < self.msgs.len() {
                next.push(self.publish(published));
            }
            for side in [S, C] {
                if model.queued(side).unwrap_or(0) > 0 {
                    next.push(Op::Deliver(side));
                }
            }
            if model.connect_pending() {
                next.push(Op::Answer);
            }
            if self.acks {
                for side in [C, S] {
                    for pick in 0..model.pending_acks(side) {
                        next.push(Op::Ack(side, pick as u8));
                    }
                }
            }
            let injected = prefix.iter().any(|op| matches!(op, Op::WrongAck(..)));
            if self.wrong_acks && !injected {
                for side in [C, S] {
                    for target in 0..model.wrong_ack_targets(side) {
                        for kind in [0, 0x80] {
                            let mut ops = prefix.clone();
                            ops.push(Op::WrongAck(side, target as u8 | kind));
                            self.run(&ops);
                            schedules += 1;
                        }
                    }
                }
            }
            // The cut here, and the resumed link cut again after each of its first
            // deliveries (the last cut is the final reconnect of `Model::run`).
            for &limits in &self.resumes {
                let mut ops = prefix.clone();
                ops.push(Op::Reconnect(Some(limits)));
                for k in 0..=self.second_cuts {
                    if k > 0 {
                        ops.push(if k % 2 == 1 {
                            Op::Deliver(S)
                        } else {
                            Op::Deliver(C)
                        });
                        if self.knobs.defer_accept && k == 1 {
                            ops.push(Op::Answer);
                        }
                    }
                    self.run(&ops);
                    schedules += 1;
                }
            }
            for op in next {
                let mut child = prefix.clone();
                child.push(op);
                stack.push(child);
            }
        }
        schedules
    }
}

const QOS12: [QoS; 2] = [QoS::AtLeastOnce, QoS::ExactlyOnce];

fn limits(v5: bool, receive_maximum: [u16; 2], small_packets: [bool; 2]) -> Limits {
    Limits {
        v5,
        receive_maximum,
        small_packets,
    }
}

/// Knobs with a first link at `v5` and the Receive Maximum `rm` on both sides.
fn knobs(v5: bool, rm: u16) -> Knobs {
    let mut knobs = Knobs::plain(v5);
    knobs.limits.receive_maximum = [rm, rm];
    knobs
}

/// Every pair of QoS 1 and 2 messages from `from`, each plain or heavy.
fn pairs(from: [Side; 2]) -> Vec<Vec<Planned>> {
    let mut sets = Vec::new();
    for qos in QOS12 {
        for qos2 in QOS12 {
            for heavy in [[false, false], [true, false], [false, true], [true, true]] {
                sets.push(vec![
                    Planned {
                        from: from[0],
                        qos,
                        heavy: heavy[0],
                    },
                    Planned {
                        from: from[1],
                        qos: qos2,
                        heavy: heavy[1],
                    },
                ]);
            }
        }
    }
    sets
}

fn report(name: &str, sets: usize, schedules: usize, started: std::time::Instant) {
    println!(
        "{name}: {sets} message sets, {schedules} schedules in {:.1?}",
        started.elapsed()
    );
}

/// Two messages from the client at 5.0 with the server's Receive Maximum 1 and 2, cut
/// anywhere, resumed with the server's Maximum Packet Size shrunk (a heavy message is
/// dropped; a QoS 2 one the server may hold is released with PUBREL and its identifier
/// kept until PUBCOMP: 5.0 [MQTT-2.2.1-3]), its Receive Maximum changed, or at 3.1.1 (a
/// heavy message's property cannot go). The defect this exploration was written for: an
/// identifier freed while the server still held it, so that a later message with it was
/// taken for the old one and never delivered while reported completed.
#[test]
fn every_schedule_of_two_client_messages_at_5_0_with_every_resume_mqtt_2_2_1_3() {
    let started = std::time::Instant::now();
    let mut schedules = 0;
    let mut sets = 0;
    for rm in [1, 2] {
        for msgs in pairs([C, C]) {
            let e = Exploration {
                knobs: knobs(true, rm),
                msgs,
                resumes: vec![
                    limits(true, [rm, rm], [false, false]),
                    limits(true, [rm, rm], [false, true]),
                    limits(true, [rm, 3 - rm], [false, false]),
                    limits(false, [rm, rm], [false, false]),
                ],
                acks: false,
                wrong_acks: false,
                // Deepest where one message at a time is in flight.
                second_cuts: if rm == 1 { 2 } else { 1 },
            };
            schedules += e.explore();
            sets += 1;
        }
    }
    report("two client messages at 5.0", sets, schedules, started);
}

/// Two messages from the server to the client at 5.0 with Receive Maximum 1 (the server
/// resumes its session in `accept`, not on CONNACK), and one plain message each way with
/// Receive Maximum 2; the broker defers its answer to every CONNECT and its first `accept`
/// fails, retried with the session handed back (5.0 [MQTT-3.2.2-3]).
#[test]
fn every_schedule_of_server_and_mixed_messages_with_a_failing_accept_mqtt_3_2_2_3() {
    let started = std::time::Instant::now();
    let mut schedules = 0;
    let mut sets = 0;
    for (rm, from) in [(1, [S, S]), (2, [C, S])] {
        for msgs in pairs(from) {
            // Heavy messages both ways would mostly repeat the one-way cases.
            if from == [C, S] && msgs.iter().any(|m| m.heavy) {
                continue;
            }
            let mut knobs = knobs(true, rm);
            knobs.defer_accept = true;
            knobs.failing_accepts = 1;
            let e = Exploration {
                knobs,
                msgs,
                resumes: vec![
                    limits(true, [rm, rm], [true, false]),
                    limits(true, [3 - rm, rm], [false, false]),
                    limits(false, [rm, rm], [false, false]),
                ],
                acks: false,
                wrong_acks: false,
                second_cuts: 2,
            };
            schedules += e.explore();
            sets += 1;
        }
    }
    report("server and mixed messages", sets, schedules, started);
}

/// Two client messages at 3.1.1 (no Receive Maximum), resumed at 3.1.1 or at 5.0 with a
/// small Maximum Packet Size and Receive Maximum 1; both sessions go through
/// `SessionState::save` and `restore` at every link drop (3.1.1 [MQTT-4.1.0-1]).
#[test]
fn every_schedule_of_two_client_messages_at_3_1_1_with_save_and_restore_mqtt_4_1_0_1() {
    let started = std::time::Instant::now();
    let mut schedules = 0;
    let mut sets = 0;
    for msgs in pairs([C, C]) {
        let mut knobs = knobs(false, 1);
        knobs.restore = true;
        let e = Exploration {
            knobs,
            msgs,
            resumes: vec![
                limits(false, [1, 1], [false, false]),
                limits(true, [1, 1], [false, true]),
            ],
            acks: false,
            wrong_acks: false,
            second_cuts: 2,
        };
        schedules += e.explore();
        sets += 1;
    }
    report("two client messages at 3.1.1", sets, schedules, started);
}

/// Three client messages (every QoS 1 and 2 mix, the middle one heavy or not) at 5.0 with
/// Receive Maximum 1, so each waits for the one before: where an identifier freed while
/// the server still held it used to take the only slot of the quota for good (5.0
/// [MQTT-4.9.0-2]).
#[test]
fn every_schedule_of_three_client_messages_at_receive_maximum_1_mqtt_4_9_0_2() {
    let started = std::time::Instant::now();
    let mut schedules = 0;
    let mut sets = 0;
    for qos in QOS12 {
        for qos2 in QOS12 {
            for qos3 in QOS12 {
                for heavy in [false, true] {
                    let planned = |qos, heavy| Planned {
                        from: C,
                        qos,
                        heavy,
                    };
                    let e = Exploration {
                        knobs: knobs(true, 1),
                        msgs: vec![
                            planned(qos, false),
                            planned(qos2, heavy),
                            planned(qos3, false),
                        ],
                        resumes: vec![
                            limits(true, [1, 1], [false, true]),
                            limits(false, [1, 1], [false, false]),
                        ],
                        acks: false,
                        wrong_acks: false,
                        second_cuts: 0,
                    };
                    schedules += e.explore();
                    sets += 1;
                }
            }
        }
    }
    report("three client messages", sets, schedules, started);
}

/// Manual acknowledgement on both sides: every order and moment of `ack`, two messages
/// from the client at 5.0 (Receive Maximum 2) and one each way at 3.1.1; acknowledgements
/// leave once each, in arrival order ([MQTT-4.6.0-2], [MQTT-4.6.0-3]).
#[test]
fn every_schedule_with_manual_acks_in_any_order_mqtt_4_6_0_2_and_4_6_0_3() {
    let started = std::time::Instant::now();
    let mut schedules = 0;
    let mut sets = 0;
    for (v5, from) in [(true, [C, C]), (false, [C, S])] {
        {
            for qos in QOS12 {
                for qos2 in QOS12 {
                    let mut knobs = knobs(v5, 2);
                    knobs.manual_acks = [true, true];
                    let e = Exploration {
                        knobs,
                        msgs: vec![
                            Planned {
                                from: from[0],
                                qos,
                                heavy: false,
                            },
                            Planned {
                                from: from[1],
                                qos: qos2,
                                heavy: false,
                            },
                        ],
                        resumes: vec![limits(v5, [2, 2], [false, false])],
                        acks: true,
                        wrong_acks: false,
                        second_cuts: 1,
                    };
                    schedules += e.explore();
                    sets += 1;
                }
            }
        }
    }
    report("manual acks", sets, schedules, started);
}

/// At every point, every acknowledgement of the wrong kind for every unfinished message
/// (PUBACK for QoS 2, PUBCOMP before PUBREC, PUBREC or PUBCOMP for QoS 1) ends the
/// connection as a violation, reports nothing finished and keeps the identifier (5.0
/// [MQTT-4.3.2-3], [MQTT-4.3.3-3]; 3.1.1 [MQTT-4.3.2-1], [MQTT-4.3.3-1]).
#[test]
fn every_wrong_kind_of_acknowledgement_at_every_point_5_0_mqtt_4_3_3_3_and_3_1_1_mqtt_4_3_3_1() {
    let started = std::time::Instant::now();
    let mut schedules = 0;
    let mut sets = 0;
    for v5 in [true, false] {
        for from in [[C, C], [S, S]] {
            for qos in QOS12 {
                for qos2 in QOS12 {
                    let e = Exploration {
                        knobs: knobs(v5, 2),
                        msgs: vec![
                            Planned {
                                from: from[0],
                                qos,
                                heavy: false,
                            },
                            Planned {
                                from: from[1],
                                qos: qos2,
                                heavy: false,
                            },
                        ],
                        resumes: vec![],
                        acks: false,
                        wrong_acks: true,
                        second_cuts: 0,
                    };
                    schedules += e.explore();
                    sets += 1;
                }
            }
        }
    }
    report("wrong acknowledgements", sets, schedules, started);
}

// ------------------------------------------------------------------------------------------
// 2. Packets pipelined before accept, and failed accepts
// ------------------------------------------------------------------------------------------

const NOW: Instant = Instant::ZERO;

fn pid(id: u16) -> PacketId {
    PacketId::new(id).unwrap()
}

/// A session the broker keeps for "c1" after a link at `version`: its own QoS 2 message
/// past PUBREC (awaiting PUBCOMP), its own QoS 1 message unacknowledged, and the client's
/// QoS 2 message received and awaiting PUBREL. Returns it with those three identifiers.
fn stored_session(version: ProtocolVersion) -> (SessionState, [u16; 3]) {
    let mut pair = Pair::new(version);
    pair.connect(false);
    let released = pair
        .server
        .publish(QoS::ExactlyOnce, Publish::new(topic("s"), "released"))
        .unwrap()
        .unwrap();
    pair.deliver_to_client();
    let received = pair
        .client
        .publish(QoS::ExactlyOnce, Publish::new(topic("c"), "received"))
        .unwrap()
        .unwrap();
    pair.deliver_to_server(); // PUBREC: the server's PUBREL waits on the link.
    pair.deliver_to_server(); // The client's QoS 2 message: its PUBREC waits on the link.
    let unacked = pair
        .server
        .publish(QoS::AtLeastOnce, Publish::new(topic("s"), "unacknowledged"))
        .unwrap()
        .unwrap();
    pair.drop_link();
    let stored = pair.stored.take().unwrap();
    assert_eq!(stored.unacknowledged(), 2);
    assert_eq!(stored.incomplete_incoming(), 1);
    (stored, [released.get(), unacked.get(), received.get()])
}

/// What a client may send after its CONNECT without waiting for CONNACK, given the stored
/// session's identifiers: new messages, a retransmission, PUBREL, acknowledgements right
/// and wrong, a SUBSCRIBE, PINGREQ, DISCONNECT, a second CONNECT (a violation,
/// [MQTT-3.1.0-2]) and a QoS 1 PUBLISH with the identifier of a QoS 2 message awaiting
/// PUBREL (a violation, 5.0 [MQTT-2.2.1-3], 3.1.1 [MQTT-2.3.1-2]).
fn pipelined(version: ProtocolVersion, [released, unacked, received]: [u16; 3]) -> Vec<Packet> {
    let publish = |qos: QosPid, dup, payload: &'static str| {
        let mut p = Publish::new(topic("p"), payload);
        p.qos = qos;
        p.dup = dup;
        Packet::Publish(p)
    };
    vec![
        publish(QosPid::AtLeastOnce(pid(100)), false, "new-1"),
        publish(QosPid::ExactlyOnce(pid(101)), false, "new-2"),
        publish(QosPid::ExactlyOnce(pid(received)), true, "received"),
        Packet::PubRel(PubRel::new(pid(received))),
        Packet::PubAck(PubAck::new(pid(unacked))),
        Packet::PubRec(PubRec::new(pid(unacked))),
        Packet::PubRec(PubRec::new(pid(released))),
        Packet::PubComp(PubComp::new(pid(released))),
        Packet::Subscribe(Subscribe::new(
            pid(5),
            vec![Subscription::new(
                TopicFilter::new("a/#").unwrap(),
                QoS::AtLeastOnce,
            )],
        )),
        Packet::PingReq,
        Packet::Disconnect(Disconnect::new(DisconnectReasonCode::NormalDisconnection)),
        Packet::from(connect(version, false)),
        publish(QosPid::AtLeastOnce(pid(received)), false, "other-qos"),
    ]
}

fn connect(version: ProtocolVersion, clean_start: bool) -> Connect {
    let mut connect = Connect::new(version, MqttString::new("c1").unwrap());
    connect.clean_start = clean_start;
    connect.keep_alive = 10;
    if version.is_v5() && !clean_start {
        connect.properties.session_expiry_interval = Some(3_600);
    }
    connect
}

/// CONNACK properties `accept` must refuse (as `Pair` uses them): at 5.0 an
/// Authentication Method the CONNECT did not ask for ([MQTT-4.12.0-6]); at 3.1.1 any
/// property.
fn refused_properties(version: ProtocolVersion) -> ConnAckProperties {
    let mut properties = ConnAckProperties::default();
    if version.is_v5() {
        properties.set_authentication_method(Some(MqttString::new("none-such").unwrap()));
    } else {
        properties.session_expiry_interval = Some(60);
    }
    properties
}

/// Everything `server` has to send (encoded) and to report.
fn drain(server: &mut Server) -> (Vec<Bytes>, Vec<Event>) {
    let mut sent = Vec::new();
    let mut buf = BytesMut::new();
    while let Some(n) = server.poll_transmit_into(NOW, &mut buf).unwrap() {
        sent.push(buf.split_to(n).freeze());
    }
    (sent, std::iter::from_fn(|| server.poll_event()).collect())
}

/// `packets` arrive after the CONNECT and before the broker answers it, the first
/// `failing` answers fail, then it accepts `stored`: the engine must behave exactly as
/// when it accepts at once and the same packets arrive afterwards.
fn check_pipelined(
    version: ProtocolVersion,
    clean_start: bool,
    stored: Option<&SessionState>,
    failing: usize,
    packets: &[Packet],
) -> Result<(), String> {
    let config = SessionConfig::default();
    let connect = Packet::from(connect(version, clean_start));

    let mut held = Server::new(config.clone());
    held.handle_incoming(NOW, connect.clone()).unwrap();
    let (sent, events) = drain(&mut held);
    if !sent.is_empty() || !matches!(events[..], [Event::ConnectRequest(_)]) {
        return Err(format!("CONNECT answered with {sent:?} and {events:?}"));
    }
    for packet in packets {
        held.handle_incoming(NOW, packet.clone())
            .map_err(|e| format!("{packet:?} before the answer: {e:?}"))?;
    }
    let (sent, events) = drain(&mut held);
    if !sent.is_empty() || !events.is_empty() {
        return Err(format!(
            "before the answer: sent {sent:?}, reported {events:?}"
        ));
    }
    let mut session = stored.cloned();
    for attempt in 0..failing {
        let before = session.as_ref().map(saved);
        let refused = held
            .accept(session, refused_properties(version))
            .map(|()| format!("attempt {attempt} accepted refused properties"))
            .err()
            .ok_or_else(|| "a failing accept succeeded".to_string())?;
        let (sent, events) = drain(&mut held);
        if !sent.is_empty() || !events.is_empty() {
            return Err(format!("failed accept sent {sent:?}, reported {events:?}"));
        }
        session = refused.into_session();
        if session.as_ref().map(saved) != before {
            return Err(format!(
                "failed accept {attempt} did not hand back the session it was given: {:?} \
                 became {session:?}",
                stored
            ));
        }
    }
    held.accept(session, ConnAckProperties::default())
        .map_err(|e| format!("accept: {e:?}"))?;
    let held_out = drain(&mut held);

    let mut direct = Server::new(config);
    direct.handle_incoming(NOW, connect).unwrap();
    let _ = drain(&mut direct);
    direct
        .accept(stored.cloned(), ConnAckProperties::default())
        .unwrap();
    for packet in packets {
        let _ = direct.handle_incoming(NOW, packet.clone());
    }
    let direct_out = drain(&mut direct);
    if held_out != direct_out {
        return Err(format!(
            "held then accepted: {held_out:?}\naccepted then arrived: {direct_out:?}"
        ));
    }
    let state = |s: &Server| (s.is_connected(), saved(s.session()));
    if state(&held) != state(&direct) {
        return Err(format!(
            "connected, session: held {:?}, direct {:?}",
            (held.is_connected(), held.session()),
            (direct.is_connected(), direct.session())
        ));
    }
    Ok(())
}

/// Every sequence of up to three of 13 packets a client may pipeline after CONNECT, at
/// 3.1.1 and 5.0, Clean Start 0 and 1, with and without a stored session, after zero to
/// two failed `accept` calls: handled as if they arrived after the CONNACK (a violation
/// among them ends the connection then, with a DISCONNECT at 5.0, [MQTT-3.1.0-2]; none
/// precedes the CONNACK, 5.0 [MQTT-3.14.0-1]), and every failed `accept` sends nothing and
/// hands the session back as it was (Session Present 1 on the retry: 5.0 [MQTT-3.2.2-3],
/// 3.1.1 [MQTT-3.2.2-2]).
#[test]
fn packets_pipelined_before_accept_are_handled_as_after_connack_mqtt_3_1_0_2_and_3_2_2_3() {
    let started = std::time::Instant::now();
    let mut cases = 0;
    for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
        let (stored, ids) = stored_session(version);
        let alphabet = pipelined(version, ids);
        let n = alphabet.len();
        let mut sequences: Vec<Vec<usize>> = vec![vec![]];
        for len in 1..=3u32 {
            for code in 0..n.pow(len) {
                let mut code = code;
                let seq = (0..len)
                    .map(|_| {
                        let i = code % n;
                        code /= n;
                        i
                    })
                    .collect();
                sequences.push(seq);
            }
        }
        for seq in &sequences {
            let packets: Vec<Packet> = seq.iter().map(|&i| alphabet[i].clone()).collect();
            for clean_start in [false, true] {
                for session in [None, Some(&stored)] {
                    for failing in 0..=2 {
                        if let Err(e) =
                            check_pipelined(version, clean_start, session, failing, &packets)
                        {
                            panic!(
                                "{version:?}, clean start {clean_start}, session {}, {failing} \
                                 failed accepts, pipelined {packets:?}:\n{e}",
                                session.is_some()
                            );
                        }
                        cases += 1;
                    }
                }
            }
        }
    }
    println!(
        "pipelined packets and failed accepts: {cases} cases in {:.1?}",
        started.elapsed()
    );
}

// ------------------------------------------------------------------------------------------
// 3. Protocol levels
// ------------------------------------------------------------------------------------------

/// What a 3.1.1 server answers a CONNECT of a level it does not speak.
const V311_REFUSAL: [u8; 4] = [0x20, 0x02, 0x00, 0x01];

/// A CONNECT with protocol name "MQTT" and level `level`, Clean Start, keep alive 60,
/// client identifier "c".
fn connect_bytes(level: u8) -> Vec<u8> {
    let mut body = vec![0x00, 0x04, b'M', b'Q', b'T', b'T', level, 0x02, 0x00, 0x3C];
    if level == 5 {
        body.push(0x00);
    }
    body.extend([0x00, 0x01, b'c']);
    let mut bytes = vec![0x10, body.len() as u8];
    bytes.extend(body);
    bytes
}

/// Every protocol level but 4 and 5 (3 is MQTT 3.1, whose name is "MQIsdp") in a CONNECT
/// named "MQTT" is refused with the 3.1.1 CONNACK `20 02 00 01` (3.1.1 MQTT-3.1.2-2; 5.0
/// MQTT-3.1.2-2 allows it), the connection ends as a refusal, and nothing else is sent or
/// handled.
#[test]
fn every_unsupported_protocol_level_gets_connack_1_3_1_1_mqtt_3_1_2_2() {
    let mut cases = 0;
    for level in (0..=255u8).filter(|l| ![3, 4, 5].contains(l)) {
        let mut server = Server::new(SessionConfig::default());
        let mut decoder = server.config().server_decoder();
        let mut bytes = BytesMut::from(&connect_bytes(level)[..]);
        match decoder.decode(&mut bytes) {
            Err(e) => {
                let _ = server.handle_decode_error(&e);
            }
            Ok(p) => panic!("level {level}: the decoder took {p:?}"),
        }
        // Anything after the refusal is ignored (3.1.1 MQTT-3.1.4-5, 5.0 MQTT-3.1.4-6).
        let _ = server.handle_incoming(NOW, Packet::PingReq);
        let (sent, events) = drain(&mut server);
        assert_eq!(
            sent,
            [Bytes::from_static(&V311_REFUSAL)],
            "level {level}: sent {sent:02x?}"
        );
        assert_eq!(
            events,
            [Event::Disconnected(DisconnectCause::Rejected(
                ConnectReasonCode::UnsupportedProtocolVersion
            ))],
            "level {level}"
        );
        cases += 1;
    }
    println!("unsupported protocol levels: {cases} cases");
}

/// Builds a client session at 5.0 holding `kinds` of state, leaves it with the link
/// dropped, and returns the pair (its broker keeps the matching session).
fn session_with(kinds: &[&'static str]) -> Pair {
    let mut pair = Pair::new(ProtocolVersion::V5);
    pair.connect(false);
    for kind in kinds {
        match *kind {
            // Unacknowledged QoS 1, and QoS 2 before PUBREC: the PUBLISH never arrives.
            "qos1" | "qos2" => {
                let qos = if *kind == "qos1" {
                    QoS::AtLeastOnce
                } else {
                    QoS::ExactlyOnce
                };
                pair.client
                    .publish(qos, Publish::new(topic("a"), *kind))
                    .unwrap();
                pair.flush();
                pair.to_server.clear();
            }
            // QoS 2 past PUBREC: the PUBREL never arrives.
            "released" => {
                pair.client
                    .publish(QoS::ExactlyOnce, Publish::new(topic("a"), "released"))
                    .unwrap();
                pair.deliver_to_server();
                pair.deliver_to_client();
                pair.flush();
                pair.to_server.clear();
            }
            // The server's QoS 2 message received, its PUBREC lost.
            "received" => {
                pair.server
                    .publish(QoS::ExactlyOnce, Publish::new(topic("a"), "received"))
                    .unwrap();
                pair.deliver_to_client();
                pair.flush();
                pair.to_server.clear();
            }
            // A message 3.1.1 cannot carry.
            "props" => {
                let mut message = Publish::new(topic("a"), "props");
                message.properties.message_expiry_interval = Some(60);
                pair.client.publish(QoS::AtLeastOnce, message).unwrap();
                pair.flush();
                pair.to_server.clear();
            }
            other => unreachable!("{other}"),
        }
    }
    pair.drop_link();
    pair
}

/// A 5.0 client whose CONNECT a 3.1.1-only broker refuses with `20 02 00 01` (3.1.1
/// MQTT-3.1.2-2), whatever its session holds: it reports `Refused` with 0x84 Unsupported
/// Protocol Version, sends nothing back (no 5.0 DISCONNECT to a 3.1.1 peer) and keeps its
/// session untouched; connecting again at 3.1.1 resumes it, and everything completes but
/// the message 3.1.1 cannot carry, reported dropped (3.1.1 MQTT-4.4.0-1).
#[test]
fn a_5_0_client_refused_by_a_3_1_1_broker_resumes_at_3_1_1_mqtt_3_1_2_2_and_4_4_0_1() {
    const KINDS: [&str; 5] = ["qos1", "qos2", "released", "received", "props"];
    let mut cases = 0;
    for mask in 0..1u32 << KINDS.len() {
        let kinds: Vec<&str> = (0..KINDS.len())
            .filter(|i| mask & 1 << i != 0)
            .map(|i| KINDS[i])
            .collect();
        let mut pair = session_with(&kinds);
        let before = saved(pair.client.session());
        let events_before = pair.client_events.len();

        // The 3.1.1-only broker reads the level byte and refuses.
        pair.client
            .connect(pair.now, pair.connect_packet(false))
            .unwrap();
        let mut buf = BytesMut::new();
        let n = pair
            .client
            .poll_transmit_into(pair.now, &mut buf)
            .unwrap()
            .unwrap();
        assert_eq!(buf[..n][8], 5, "{kinds:?}: a level 5 CONNECT");
        buf.clear();
        let mut decoder = pair.client.config().client_decoder(ProtocolVersion::V5);
        let mut answer = BytesMut::from(&V311_REFUSAL[..]);
        match decoder.decode(&mut answer) {
            Ok(Some(packet)) => {
                let _ = pair.client.handle_incoming(pair.now, packet);
            }
            Ok(None) => unreachable!(),
            Err(e) => {
                let _ = pair.client.handle_decode_error(&e);
            }
        }
        let mut sent = Vec::new();
        while let Some(n) = pair.client.poll_transmit_into(pair.now, &mut buf).unwrap() {
            sent.push(buf.split_to(n).to_vec());
        }
        let events: Vec<Event> = std::iter::from_fn(|| pair.client.poll_event()).collect();
        assert!(
            sent.is_empty(),
            "{kinds:?}: answered the refusal with {sent:02x?}"
        );
        assert!(
            matches!(&events[..], [Event::Disconnected(DisconnectCause::Refused(ack))]
                if ack.reason_code == ConnectReasonCode::UnsupportedProtocolVersion),
            "{kinds:?}: {events:?}"
        );
        assert_eq!(
            saved(pair.client.session()),
            before,
            "{kinds:?}: the session changed"
        );

        // The fall back: the same session at 3.1.1.
        pair.client.handle_connection_lost();
        let (client, server) = (pair.client.config().clone(), pair.server_config.clone());
        pair.relink(ProtocolVersion::V3_1_1, client, server, false);
        pair.connect(false);
        pair.run();
        let outcomes: Vec<&Event> = pair.client_events[events_before..]
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    Event::PublishAcknowledged { .. }
                        | Event::PublishCompleted { .. }
                        | Event::PublishDropped { .. }
                )
            })
            .collect();
        let dropped = outcomes
            .iter()
            .filter(|e| matches!(e, Event::PublishDropped { .. }))
            .count();
        let ours = kinds.iter().filter(|k| **k != "received").count();
        assert_eq!(
            (outcomes.len(), dropped),
            (ours, usize::from(kinds.contains(&"props"))),
            "{kinds:?}: {outcomes:?}"
        );
        let left = [
            pair.client.session().unacknowledged(),
            pair.client.session().incomplete_incoming(),
            pair.server.session().unacknowledged(),
            pair.server.session().incomplete_incoming(),
        ];
        assert_eq!(left, [0; 4], "{kinds:?}: left over");
        cases += 1;
    }
    println!("5.0 clients refused by a 3.1.1 broker: {cases} session kinds");
}

// ------------------------------------------------------------------------------------------
// 4. Retransmission floods
// ------------------------------------------------------------------------------------------

/// Counts the bytes each thread holds allocated, so that a test can tell whether an
/// engine's memory grew (tests in this binary run in parallel on their own threads).
struct LiveBytes;

thread_local! {
    // `const` initialisation and no destructor: reading it never allocates.
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn live() -> isize {
    LIVE.with(Cell::get)
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for LiveBytes {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.with(|n| n.set(n.get() + layout.size() as isize));
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.with(|n| n.set(n.get() - layout.size() as isize));
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.with(|n| n.set(n.get() + new_size as isize - layout.size() as isize));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: LiveBytes = LiveBytes;

const FLOOD: usize = 10_000;

/// A server engine connected at `version`, with `manual` acknowledgement.
fn connected_server(version: ProtocolVersion, manual: bool) -> Server {
    let mut config = SessionConfig::default();
    config.manual_acks = manual;
    let mut server = Server::new(config);
    server
        .handle_incoming(NOW, Packet::from(connect(version, false)))
        .unwrap();
    server.accept(None, ConnAckProperties::default()).unwrap();
    let _ = drain(&mut server);
    server
}

/// Hands `packet` to `server` and runs its output as a run loop would; returns the
/// acknowledgements it sent (PUBACK or PUBREC identifiers).
fn feed(server: &mut Server, packet: &Packet) -> Vec<u16> {
    let _ = server.handle_incoming(NOW, packet.clone());
    let mut acks = Vec::new();
    while let Some(p) = server.poll_transmit(NOW) {
        match p {
            Packet::PubAck(a) => acks.push(a.packet_id.get()),
            Packet::PubRec(r) => acks.push(r.packet_id.get()),
            _ => {}
        }
    }
    while server.poll_event().is_some() {}
    acks
}

/// Ten thousand copies of a QoS 1 or 2 PUBLISH, at 3.1.1 and 5.0, with automatic and
/// manual acknowledgement, before and after the application's `ack`: what the engine holds
/// does not grow (a copy whose acknowledgement is pending adds nothing: 5.0
/// [MQTT-2.2.1-3] and 3.1.1 [MQTT-2.3.1-2] keep the identifier the same message's), the
/// connection stays up, and one `ack` sends exactly one acknowledgement
/// ([MQTT-4.6.0-2], [MQTT-4.6.0-3]).
#[test]
fn a_flood_of_copies_leaves_the_engine_memory_unchanged_mqtt_4_6_0_2_and_4_6_0_3() {
    let mut cases = 0;
    for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
        for qos in QOS12 {
            for manual in [false, true] {
                for ack_first in [false, true] {
                    let case = format!(
                        "{version:?} {qos:?} manual {manual} ack before the flood {ack_first}"
                    );
                    let mut server = connected_server(version, manual);
                    let mut publish = Publish::new(topic("f"), "flood");
                    publish.qos = match qos {
                        QoS::AtLeastOnce => QosPid::AtLeastOnce(pid(7)),
                        _ => QosPid::ExactlyOnce(pid(7)),
                    };
                    let copy = {
                        let mut dup = publish.clone();
                        dup.dup = true;
                        Packet::Publish(dup)
                    };
                    let first = feed(&mut server, &Packet::Publish(publish));
                    assert_eq!(first.len(), usize::from(!manual), "{case}: first {first:?}");
                    if manual && ack_first {
                        server.ack(pid(7)).unwrap();
                        let acks = feed_nothing(&mut server);
                        assert_eq!(acks, [7], "{case}: ack sent {acks:?}");
                    }
                    // Let every table reach its size for this traffic, then measure.
                    for _ in 0..100 {
                        feed(&mut server, &copy);
                    }
                    let before = live();
                    let mut acks = 0;
                    for _ in 0..FLOOD {
                        acks += feed(&mut server, &copy).len();
                    }
                    let grown = live() - before;
                    assert!(
                        grown <= 0,
                        "{case}: {FLOOD} copies grew the engine by {grown} bytes"
                    );
                    assert!(
                        server.is_connected(),
                        "{case}: the flood ended the connection"
                    );
                    // A QoS 1 copy after its PUBACK is a new message (5.0 [MQTT-4.3.2-5],
                    // 3.1.1 [MQTT-4.3.2-2]) and a QoS 2 copy before PUBREL gets PUBREC
                    // again (5.0 [MQTT-4.3.3-10], 3.1.1 [MQTT-4.3.3-2]): each copy is
                    // answered, unless an acknowledgement the application holds is pending
                    // (with manual acks, not acknowledged yet; or, at QoS 1, the new
                    // message the first copy after the PUBACK was).
                    let pending = manual && (!ack_first || qos == QoS::AtLeastOnce);
                    assert_eq!(acks, if pending { 0 } else { FLOOD }, "{case}");
                    if pending {
                        server.ack(pid(7)).unwrap();
                        let acks = feed_nothing(&mut server);
                        assert_eq!(acks, [7], "{case}: one ack sent {acks:?}");
                    }
                    cases += 1;
                }
            }
        }
    }
    println!("floods: {cases} cases of {FLOOD} copies");
}

/// What `server` sends now (after an `ack`): the acknowledgement identifiers.
fn feed_nothing(server: &mut Server) -> Vec<u16> {
    let mut acks = Vec::new();
    while let Some(p) = server.poll_transmit(NOW) {
        match p {
            Packet::PubAck(a) => acks.push(a.packet_id.get()),
            Packet::PubRec(r) => acks.push(r.packet_id.get()),
            _ => {}
        }
    }
    acks
}
