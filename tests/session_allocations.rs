//! Heap allocations per session publish cycle in steady state: a connected client and
//! server exchange one message's whole flow (QoS 0: PUBLISH; QoS 1: PUBLISH, PUBACK; QoS 2:
//! PUBLISH, PUBREC, PUBREL, PUBCOMP) and both sides' events are drained. Once warm-up
//! cycles have grown the session's queues to their working size, a cycle must allocate
//! nothing, in both directions, at 3.1.1 and 5.0, with packets handed across as values and
//! over the wire (encoded into and decoded from reused buffers).
//!
//! The message is a clone of one prepared message (its payload and topic shared, as an
//! application republishing a buffer would); building a fresh message is the application's
//! cost, not the session's. CONNECT (boxed), SUBSCRIBE and UNSUBSCRIBE (lists) and
//! `Event::PublishDropped` (boxed) allocate by design and are not part of a publish cycle.

#[path = "fixtures/alloc_counter.rs"]
mod alloc_counter;
mod fixtures;

use fixtures::{CycleEvents, Direction, SessionPair};
use mqttwire::session::{Instant, Session, SessionConfig};
use mqttwire::{Packet, ProtocolVersion, Publish, QoS, TopicName};
use std::num::NonZeroU16;

/// Cycles run before counting, so that every queue reaches its working capacity and the
/// shared payload and topic have been promoted to reference-counted buffers.
const WARM_UP: u64 = 100;
/// Cycles counted.
const ROUNDS: u64 = 1000;

const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V3_1_1, ProtocolVersion::V5];
const DIRECTIONS: [Direction; 2] = [Direction::ClientToServer, Direction::ServerToClient];

fn transport(wire: bool) -> &'static str {
    if wire {
        "over the wire"
    } else {
        "without the wire"
    }
}

/// Allocations in `ROUNDS` runs of `cycle` after `WARM_UP` runs, checking that every run
/// reported `expected`.
fn steady_state(
    pair: &mut SessionPair,
    expected: CycleEvents,
    mut cycle: impl FnMut(&mut SessionPair) -> CycleEvents,
) -> u64 {
    for _ in 0..WARM_UP {
        assert_eq!(cycle(pair), expected, "a warm-up cycle did not complete");
    }
    let (allocations, incomplete) =
        alloc_counter::count(|| (0..ROUNDS).filter(|_| cycle(pair) != expected).count());
    assert_eq!(incomplete, 0, "cycles that did not complete");
    allocations
}

/// Allocations in `ROUNDS` publish cycles of one 64-byte message on a 20-byte topic.
fn cycle_allocations(version: ProtocolVersion, wire: bool, direction: Direction, qos: QoS) -> u64 {
    let mut pair = SessionPair::connected(version, wire);
    let message = fixtures::message(64);
    steady_state(&mut pair, CycleEvents::of_one(qos), |pair| {
        pair.cycle(direction, qos, &message)
    })
}

/// Checks every version and direction, reporting all the cases that allocate at once.
fn assert_publish_cycles_allocate_nothing(qos: QoS, wire: bool) {
    let mut failures = Vec::new();
    for version in VERSIONS {
        for direction in DIRECTIONS {
            let allocations = cycle_allocations(version, wire, direction, qos);
            if allocations != 0 {
                failures.push(format!(
                    "{version} {direction:?}: {allocations} allocations in {ROUNDS} cycles"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{qos:?} publish cycles {}: {failures:#?}",
        transport(wire)
    );
}

#[test]
fn qos0_cycle_allocates_nothing_without_the_wire() {
    assert_publish_cycles_allocate_nothing(QoS::AtMostOnce, false);
}

#[test]
fn qos0_cycle_allocates_nothing_over_the_wire() {
    assert_publish_cycles_allocate_nothing(QoS::AtMostOnce, true);
}

#[test]
fn qos1_cycle_allocates_nothing_without_the_wire() {
    assert_publish_cycles_allocate_nothing(QoS::AtLeastOnce, false);
}

#[test]
fn qos1_cycle_allocates_nothing_over_the_wire() {
    assert_publish_cycles_allocate_nothing(QoS::AtLeastOnce, true);
}

#[test]
fn qos2_cycle_allocates_nothing_without_the_wire() {
    assert_publish_cycles_allocate_nothing(QoS::ExactlyOnce, false);
}

#[test]
fn qos2_cycle_allocates_nothing_over_the_wire() {
    assert_publish_cycles_allocate_nothing(QoS::ExactlyOnce, true);
}

/// Many messages in flight at once, both ways, QoS 0, 1 and 2 interleaved; at 5.0 both
/// sides announce a Receive Maximum of 4, so most of the 16 messages a side publishes per
/// cycle wait in the outgoing queue and leave as acknowledgements make room.
#[test]
fn bursts_under_flow_control_allocate_nothing_in_steady_state() {
    const BURST: usize = 16;
    let qos_of = |i: usize| [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce][i % 3];
    let per_side = (0..BURST).fold(CycleEvents::default(), |mut sum, i| {
        let one = CycleEvents::of_one(qos_of(i));
        sum.delivered += one.delivered;
        sum.acknowledged += one.acknowledged;
        sum.completed += one.completed;
        sum
    });
    let expected = CycleEvents {
        delivered: 2 * per_side.delivered,
        acknowledged: 2 * per_side.acknowledged,
        completed: 2 * per_side.completed,
        other: 0,
    };
    let message = fixtures::message(64);
    let mut failures = Vec::new();
    for version in VERSIONS {
        let mut config = SessionConfig::default();
        // Below 5.0 a Receive Maximum is not announced, so the peer would exceed it.
        if version.is_v5() {
            config.receive_maximum = NonZeroU16::new(4).unwrap();
        }
        for wire in [false, true] {
            let mut pair =
                SessionPair::connected_with(version, wire, config.clone(), config.clone());
            let mut most_queued = 0;
            let allocations = steady_state(&mut pair, expected, |pair| {
                for i in 0..BURST {
                    for direction in DIRECTIONS {
                        pair.publish(direction, qos_of(i), &message);
                    }
                }
                let client = &pair.client;
                most_queued =
                    most_queued.max(client.session().unacknowledged() - client.in_flight());
                pair.pump();
                pair.drain_events()
            });
            if allocations != 0 {
                failures.push(format!(
                    "{version} {}: {allocations} allocations in {ROUNDS} bursts",
                    transport(wire)
                ));
            }
            if version.is_v5() {
                assert!(most_queued > 0, "no message waited for the Receive Maximum");
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Messages that differ from [`fixtures::message`] only in their topic.
fn messages_on(topics: &[&str]) -> Vec<Publish> {
    topics
        .iter()
        .map(|topic| {
            let mut message = fixtures::message(64);
            message.topic = TopicName::new(topic).unwrap();
            message
        })
        .collect()
}

/// `message` with the caller's own Topic Alias `alias`, and with an empty topic unless
/// `topic` (the sending session fills it in from the alias).
fn with_alias(message: &Publish, alias: u16, topic: bool) -> Publish {
    let mut message = message.clone();
    message.properties.topic_alias = NonZeroU16::new(alias);
    if !topic {
        message.topic = TopicName::default();
    }
    message
}

/// Runs `messages` in turn through 5.0 publish cycles in every direction, QoS and transport
/// with a receiver whose Topic Alias Maximum is `alias_maximum`, and reports (as failures)
/// the cases that allocate in steady state. `after` then checks how the sender of each
/// case sends the next message, to show that the cycles did exercise aliases.
fn assert_alias_cycles_allocate_nothing(
    alias_maximum: u16,
    messages: &[Publish],
    after: impl Fn(Direction, &Publish),
) {
    let mut config = SessionConfig::default();
    config.topic_alias_maximum = alias_maximum;
    let mut failures = Vec::new();
    for wire in [false, true] {
        for direction in DIRECTIONS {
            for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
                let mut pair = SessionPair::connected_with(
                    ProtocolVersion::V5,
                    wire,
                    config.clone(),
                    config.clone(),
                );
                let mut next = messages.iter().cycle();
                let allocations = steady_state(&mut pair, CycleEvents::of_one(qos), |pair| {
                    pair.cycle(direction, qos, next.next().unwrap())
                });
                if allocations != 0 {
                    failures.push(format!(
                        "{direction:?} {qos:?} {}: {allocations} allocations in {ROUNDS} cycles",
                        transport(wire)
                    ));
                }
                // The next message is not delivered; the pair is not used again.
                let now = pair.now;
                let message = next.next().unwrap().clone();
                let sent = match direction {
                    Direction::ClientToServer => first_sent(&mut pair.client, now, message),
                    Direction::ServerToClient => first_sent(&mut pair.server, now, message),
                };
                after(direction, &sent);
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The PUBLISH `session` sends for `message` (at QoS 0).
fn first_sent<R>(session: &mut Session<R>, now: Instant, message: Publish) -> Publish {
    session.publish(QoS::AtMostOnce, message).unwrap();
    match session.poll_transmit(now) {
        Some(Packet::Publish(p)) => p,
        other => panic!("expected the PUBLISH, got {other:?}"),
    }
}

/// MQTT 5.0 Topic Aliases, assigned by the sending session, on three topics that fit its
/// alias slots: after the first message on each topic sets up its alias, messages carry an
/// empty topic and the receiver maps it back, sharing the topic it stored.
#[test]
fn topic_aliases_allocate_nothing_in_steady_state() {
    let messages = messages_on(&["sensors/site-17/temp", "sensors/site-17/hum", "a/b"]);
    assert_alias_cycles_allocate_nothing(8, &messages, |direction, sent| {
        let aliased = sent.topic.is_empty() && sent.properties.topic_alias.is_some();
        assert!(aliased, "{direction:?}: no Topic Alias in use");
    });
}

/// Three topics over two automatic alias slots: each message finds its topic evicted, so
/// the sender reassigns its least recently used alias and the receiver remaps it, on every
/// PUBLISH. Both sides reuse the slots' topic buffers.
#[test]
fn topic_alias_churn_allocates_nothing_in_steady_state() {
    let messages = messages_on(&["sensors/site-17/temp", "sensors/site-17/hum", "a/b"]);
    assert_alias_cycles_allocate_nothing(2, &messages, |direction, sent| {
        let remapped = !sent.topic.is_empty() && sent.properties.topic_alias.is_some();
        assert!(remapped, "{direction:?}: the alias was not reassigned");
    });
}

/// A peer that keeps remapping one Topic Alias (its own choice) between two topics: the
/// receiver copies each new topic into the alias's buffer, reclaimed once the application
/// has dropped the message delivered before.
#[test]
fn incoming_alias_remapped_on_every_publish_allocates_nothing_in_steady_state() {
    let topics = messages_on(&["sensors/site-17/temp", "a/b"]);
    let messages = [
        with_alias(&topics[0], 1, true),
        with_alias(&topics[1], 1, true),
    ];
    assert_alias_cycles_allocate_nothing(1, &messages, |direction, sent| {
        let remapped = sent.topic == topics[0].topic && sent.properties.topic_alias.is_some();
        assert!(remapped, "{direction:?}: the alias was not remapped");
    });
}

/// A peer that alternates a remap of its Topic Alias with a PUBLISH that carries only the
/// alias: the delivered alias-only message shares the receiver's stored topic, and once
/// the application has dropped it the next remap reuses that buffer. The sender fills in
/// the empty topic of the caller's alias from its own slot, also without copying.
#[test]
fn incoming_alias_alternating_remaps_and_alias_only_allocates_nothing_in_steady_state() {
    let topics = messages_on(&["sensors/site-17/temp", "a/b"]);
    let messages = [
        with_alias(&topics[0], 1, true),
        with_alias(&topics[0], 1, false),
        with_alias(&topics[1], 1, true),
        with_alias(&topics[1], 1, false),
    ];
    assert_alias_cycles_allocate_nothing(1, &messages, |direction, sent| {
        let remapped = sent.topic == topics[0].topic && sent.properties.topic_alias.is_some();
        assert!(remapped, "{direction:?}: the alias was not remapped");
    });
}

/// The counter does see this binary's allocations: a zero above is not a broken counter.
#[test]
fn the_first_cycles_allocate_and_are_counted() {
    let mut pair = SessionPair::connected(ProtocolVersion::V5, true);
    let message = fixtures::message(64);
    let (allocations, events) =
        alloc_counter::count(|| pair.cycle(Direction::ClientToServer, QoS::ExactlyOnce, &message));
    assert_eq!(events, CycleEvents::of_one(QoS::ExactlyOnce));
    assert!(allocations > 0, "queues start empty and grow on first use");
}
