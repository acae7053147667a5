//! Model check of the session engine: proptest generates random sequences of up to 60
//! operations on a client/server [`Pair`] (tests/session_util: both sides encode, the link
//! decodes, virtual time) and a model follows every packet sent, every packet delivered
//! and every event, asserting the delivery guarantees after each step and once more after a
//! final reconnect that runs the link to quiescence.
//!
//! Operations: the client or the server publishes at QoS 0, 1 or 2 (one of three topics, a
//! payload unique in the run); one packet is delivered to the server or to the client; the
//! next packet either way is duplicated on the link; the link drops and the client
//! connects again with Clean Start 0 (its CONNECT waits on the new link like any packet, so
//! links also drop mid-handshake), the broker resuming the session it kept; virtual time
//! advances by up to 8 s (keep alive is 10 s: pings, and timeouts when nothing is
//! delivered); the client subscribes; the application acknowledges one of its pending
//! messages, in random order (when that side has manual acknowledgement). Every generated
//! case runs at MQTT 3.1.1 and at 5.0. At 5.0 each side's Receive Maximum is 1 to 4 and
//! its Topic Alias Maximum 0 to 2, so flow control and aliases are exercised; 3.1.1 has no
//! Receive Maximum, and a small one would only make the receiver end connections
//! (the engine still bounds what it keeps), so it keeps the default.
//!
//! Invariants, one property each (every property runs the whole model and also fails on
//! the model's own consistency checks: an unknown message, a wrong topic or QoS, a command
//! refused while connected):
//!
//! - (a) a QoS 2 message is delivered at most once (5.0 [MQTT-4.3.3-10], 3.1.1
//!   [MQTT-4.3.3-2]);
//! - (b) nothing is lost across resumed sessions: after the final reconnect every QoS 1
//!   and 2 message was delivered at least once and its sender saw `PublishAcknowledged` or
//!   `PublishCompleted` ([MQTT-4.4.0-1] at both levels); no message is ever refused or
//!   dropped, and no session state is left over;
//! - (c) a sender never has more QoS 1 and 2 PUBLISH unacknowledged than the receiver's
//!   Receive Maximum (5.0 [MQTT-4.9.0-2]): `in_flight()`, and the distinct identifiers of
//!   the PUBLISH packets sent on the connection minus those whose PUBACK, PUBCOMP or
//!   failing PUBREC came back;
//! - (d) a packet identifier is never reused while in use (5.0 [MQTT-2.2.1-3], 3.1.1
//!   [MQTT-2.3.1-2]): from the packets sent and delivered (PUBLISH QoS > 0 until its
//!   PUBACK or PUBCOMP reaches the sender, SUBSCRIBE until its SUBACK or the end of the
//!   connection) a new PUBLISH (DUP 0) or SUBSCRIBE never carries an identifier in use, and
//!   from the API and events the identifier `publish` or `subscribe` returns is not one of
//!   an unacknowledged message or pending request, and every PUBLISH sent carries its own
//!   message's identifier;
//! - (e) DUP is set on every PUBLISH that is a resend and only there ([MQTT-3.3.1-1]; QoS 0
//!   never, [MQTT-3.3.1-2]), and a QoS 2 PUBLISH is never sent again once its PUBREL was
//!   (5.0 [MQTT-4.3.3-6], 3.1.1 [MQTT-4.3.3-1]);
//! - (f) a connection on which the test duplicated no packet never ends in a protocol
//!   violation: flow control keeps the receiver within its Receive Maximum (5.0
//!   [MQTT-3.3.4-7], [MQTT-3.3.4-9]) and the rest of the exchange is valid. (A duplicate
//!   may end one rightly: a second CONNECT, or a copy of a QoS 1 PUBLISH that the receiver
//!   counts as one more unacknowledged message.)
//!
//! `Pair::drop_link` stores the session of the link's server engine; when the link drops
//! before the CONNECT arrived, that engine has none, so the model keeps the session the
//! broker still holds (`Pair::stored`), as a broker would.
//!
//! Case counts follow `PROPTEST_CASES` (default 256; each case runs at both levels).
//! Failures are persisted in `proptest-regressions/session_model.txt`. The test at the end
//! pins an engine bug found while writing the `session` fuzz target (now fixed).

mod session_util;

use bytes::Bytes;
use core::num::NonZeroU16;
use mqttwire::properties::SubscribeProperties;
use mqttwire::session::{DisconnectCause, Event, SessionConfig, SessionError};
use mqttwire::{Packet, ProtocolVersion, Publish, QoS, Subscription, TopicFilter};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use session_util::{topic, Pair};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proptest-regressions/session_model.txt"
);

/// `PROPTEST_CASES` (default 256) cases, failures persisted.
fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        ..ProptestConfig::default()
    }
}

const TOPICS: [&str; 3] = ["a", "b/c", "d/e/f"];
const MAX_OPS: usize = 60;

// ------------------------------------------------------------------------------------------
// What is generated
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Client,
    Server,
}

use Side::{Client, Server};

impl Side {
    fn index(self) -> usize {
        match self {
            Client => 0,
            Server => 1,
        }
    }

    fn peer(self) -> Side {
        match self {
            Client => Server,
            Server => Client,
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// `from` publishes a new message at `qos` on `TOPICS[topic]`.
    Publish { from: Side, qos: QoS, topic: usize },
    /// One packet is delivered to this side.
    Deliver(Side),
    /// The next packet to this side arrives twice.
    Duplicate(Side),
    /// The link drops; the client connects again with Clean Start 0 (the CONNECT waits on
    /// the new link) and the broker resumes the session.
    Reconnect,
    /// Virtual time advances by this many milliseconds.
    Advance(u64),
    /// This side's application acknowledges one of its pending messages (manual acks):
    /// the one at this position modulo their number, in arrival order.
    Ack(Side, u8),
    /// The client subscribes.
    Subscribe,
}

/// The configuration knobs of one case (Receive Maximum and Topic Alias Maximum apply at
/// 5.0 only).
#[derive(Debug, Clone, Copy)]
struct Knobs {
    receive_maximum: [u16; 2],
    manual_acks: [bool; 2],
    topic_aliases: [u16; 2],
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Client), Just(Server)]
}

fn op() -> impl Strategy<Value = Op> {
    let qos = prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ];
    prop_oneof![
        4 => (side(), qos, 0..TOPICS.len())
            .prop_map(|(from, qos, topic)| Op::Publish { from, qos, topic }),
        6 => side().prop_map(Op::Deliver),
        1 => side().prop_map(Op::Duplicate),
        1 => Just(Op::Reconnect),
        1 => (0u64..8_000).prop_map(Op::Advance),
        2 => (side(), any::<u8>()).prop_map(|(side, pick)| Op::Ack(side, pick)),
        1 => Just(Op::Subscribe),
    ]
}

fn knobs() -> impl Strategy<Value = Knobs> {
    (
        [1u16..=4, 1u16..=4],
        any::<[bool; 2]>(),
        [0u16..=2, 0u16..=2],
    )
        .prop_map(|(receive_maximum, manual_acks, topic_aliases)| Knobs {
            receive_maximum,
            manual_acks,
            topic_aliases,
        })
}

fn case() -> impl Strategy<Value = (Knobs, Vec<Op>)> {
    (knobs(), vec(op(), 0..=MAX_OPS))
}

// ------------------------------------------------------------------------------------------
// The model
// ------------------------------------------------------------------------------------------

/// The invariants; a run checks a set of them (the model's own consistency always).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inv {
    Model,
    Qos2Once,
    NoLoss,
    ReceiveMaximum,
    PacketIds,
    Dup,
    NoViolation,
}

const ALL: &[Inv] = &[
    Inv::Qos2Once,
    Inv::NoLoss,
    Inv::ReceiveMaximum,
    Inv::PacketIds,
    Inv::Dup,
    Inv::NoViolation,
];

macro_rules! check {
    ($self:ident, $inv:expr, $cond:expr, $($fmt:tt)+) => {
        if ($inv == Inv::Model || $self.checks.contains(&$inv)) && !$cond {
            return Err(TestCaseError::fail(format!(
                "{:?} violated at step {}: {}",
                $inv,
                $self.step,
                format!($($fmt)+)
            )));
        }
    };
}

/// One message published by the test.
#[derive(Debug)]
struct Msg {
    from: Side,
    qos: QoS,
    topic: &'static str,
    id: Option<u16>,
    /// A PUBLISH of it was sent (moved onto the link) at least once.
    sent: bool,
    /// Its PUBREL was sent (QoS 2).
    released: bool,
    /// The sender saw PublishAcknowledged or PublishCompleted.
    completed: bool,
    /// How many times the receiver's application got it.
    delivered: usize,
}

/// What the model tracks of one side.
#[derive(Debug, Default)]
struct SideModel {
    /// From the API and events: our unacknowledged QoS 1 and 2 messages, by identifier.
    outstanding: BTreeMap<u16, usize>,
    /// From the API and events: our SUBSCRIBE packets awaiting SUBACK.
    requests: BTreeSet<u16>,
    /// From the packets: identifiers in use by what we sent (PUBLISH QoS > 0, SUBSCRIBE).
    in_use: BTreeSet<u16>,
    /// From the packets: the SUBSCRIBE identifiers among `in_use`.
    sent_requests: BTreeSet<u16>,
    /// From the packets: PUBLISH identifiers sent on this connection and not acknowledged.
    in_flight: BTreeSet<u16>,
    /// Received QoS 1 and 2 messages the application has not acknowledged yet (manual
    /// acks): identifier and whether it is QoS 2.
    pending_acks: Vec<(u16, bool)>,
    /// Events already looked at.
    events_seen: usize,
}

struct Model {
    pair: Pair,
    knobs: Knobs,
    checks: Vec<Inv>,
    msgs: Vec<Msg>,
    by_payload: HashMap<Bytes, usize>,
    sides: [SideModel; 2],
    /// A packet was duplicated on the current link.
    duplicated: bool,
    step: usize,
}

impl Model {
    fn new(version: ProtocolVersion, knobs: Knobs, checks: &[Inv]) -> Self {
        let v5 = version.is_v5();
        let config = |side: Side| {
            let i = side.index();
            let mut config = SessionConfig::default();
            config.manual_acks = knobs.manual_acks[i];
            if v5 {
                config.receive_maximum = NonZeroU16::new(knobs.receive_maximum[i]).unwrap();
                config.topic_alias_maximum = knobs.topic_aliases[i];
            }
            config
        };
        Self {
            pair: Pair::with_configs(version, config(Client), config(Server)),
            knobs,
            checks: checks.to_vec(),
            msgs: Vec::new(),
            by_payload: HashMap::new(),
            sides: Default::default(),
            duplicated: false,
            step: 0,
        }
    }

    fn v5(&self) -> bool {
        self.pair.version.is_v5()
    }

    /// The Receive Maximum `side` announced (what its peer may have in flight towards it).
    fn receive_maximum(&self, side: Side) -> usize {
        if self.v5() {
            usize::from(self.knobs.receive_maximum[side.index()])
        } else {
            usize::from(u16::MAX)
        }
    }

    fn connected(&self, side: Side) -> bool {
        match side {
            Client => self.pair.client.is_connected(),
            Server => self.pair.server.is_connected(),
        }
    }

    fn run(&mut self, ops: &[Op]) -> Result<(), TestCaseError> {
        self.handshake()?;
        for (i, op) in ops.iter().enumerate() {
            self.step = i + 1;
            self.apply(op)?;
            self.flush()?;
            self.events()?;
            self.check_in_flight()?;
        }
        self.step = ops.len() + 1;
        self.finish()
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match *op {
            Op::Publish { from, qos, topic } => self.publish(from, qos, TOPICS[topic])?,
            Op::Deliver(to) => {
                self.deliver(to)?;
            }
            Op::Duplicate(to) => {
                self.flush()?;
                let queue = match to {
                    Client => &self.pair.to_client,
                    Server => &self.pair.to_server,
                };
                self.duplicated |= !queue.is_empty();
                match to {
                    Client => self.pair.duplicate_next_to_client(),
                    Server => self.pair.duplicate_next_to_server(),
                }
            }
            Op::Reconnect => self.reconnect()?,
            Op::Advance(ms) => self.pair.advance(Duration::from_millis(ms)),
            Op::Ack(side, pick) => self.ack(side, pick)?,
            Op::Subscribe => self.subscribe()?,
        }
        Ok(())
    }

    fn publish(
        &mut self,
        from: Side,
        qos: QoS,
        topic_name: &'static str,
    ) -> Result<(), TestCaseError> {
        let n = self.msgs.len();
        let payload = Bytes::from(format!("{from:?}-{n}-{qos:?}"));
        let message = Publish::new(topic(topic_name), payload.clone());
        let connected = self.connected(from);
        let result = match from {
            Client => self.pair.client.publish(qos, message),
            Server => self.pair.server.publish(qos, message),
        };
        let id = match result {
            Ok(id) => id.map(|id| id.get()),
            Err(SessionError::NotConnected) if !connected => return Ok(()),
            Err(e) => {
                check!(self, Inv::Model, false, "{from:?} publish refused: {e:?}");
                return Ok(());
            }
        };
        check!(
            self,
            Inv::Model,
            id.is_some() == (qos != QoS::AtMostOnce),
            "{from:?} publish at {qos:?} returned id {id:?}"
        );
        let s = &mut self.sides[from.index()];
        if let Some(id) = id {
            check!(
                self,
                Inv::PacketIds,
                !s.outstanding.contains_key(&id) && !s.requests.contains(&id),
                "{from:?} publish got id {id}, in use by {:?} [MQTT-2.2.1-3, 3.1.1 MQTT-2.3.1-2]",
                s.outstanding.get(&id).map(|&m| &self.msgs[m])
            );
            s.outstanding.insert(id, n);
        }
        self.by_payload.insert(payload, n);
        self.msgs.push(Msg {
            from,
            qos,
            topic: topic_name,
            id,
            sent: false,
            released: false,
            completed: false,
            delivered: 0,
        });
        Ok(())
    }

    fn subscribe(&mut self) -> Result<(), TestCaseError> {
        let connected = self.connected(Client);
        let filter = TopicFilter::new("a/#").unwrap();
        let result = self.pair.client.subscribe(
            vec![Subscription::new(filter, QoS::ExactlyOnce)],
            SubscribeProperties::default(),
        );
        let id = match result {
            Ok(id) => id.get(),
            Err(SessionError::NotConnected) if !connected => return Ok(()),
            Err(e) => {
                check!(self, Inv::Model, false, "subscribe refused: {e:?}");
                return Ok(());
            }
        };
        let s = &mut self.sides[Client.index()];
        check!(
            self,
            Inv::PacketIds,
            !s.outstanding.contains_key(&id) && !s.requests.contains(&id),
            "subscribe got id {id}, in use [MQTT-2.2.1-3, 3.1.1 MQTT-2.3.1-2]"
        );
        s.requests.insert(id);
        Ok(())
    }

    fn ack(&mut self, side: Side, pick: u8) -> Result<(), TestCaseError> {
        // The broker keeps the session outside any engine until a CONNECT arrives.
        if side == Server && self.pair.stored.is_some() {
            return Ok(());
        }
        let pending = &mut self.sides[side.index()].pending_acks;
        if pending.is_empty() {
            return Ok(());
        }
        let (id, _) = pending.remove(usize::from(pick) % pending.len());
        let id = mqttwire::PacketId::new(id).unwrap();
        let result = match side {
            Client => self.pair.client.ack(id),
            Server => self.pair.server.ack(id),
        };
        check!(
            self,
            Inv::Model,
            result.is_ok(),
            "{side:?} ack({id:?}) of a delivered message: {result:?}"
        );
        Ok(())
    }

    /// Queues the client's CONNECT (Clean Start 0) on the link; later deliveries complete
    /// the exchange.
    fn connect(&mut self) -> Result<(), TestCaseError> {
        let connect = self.pair.connect_packet(false);
        let result = self.pair.client.connect(self.pair.now, connect);
        check!(self, Inv::Model, result.is_ok(), "connect: {result:?}");
        self.flush()
    }

    /// The first connection: CONNECT and CONNACK cross at once.
    fn handshake(&mut self) -> Result<(), TestCaseError> {
        self.connect()?;
        self.deliver(Server)?;
        self.deliver(Client)?;
        self.flush()?;
        self.events()?;
        check!(
            self,
            Inv::Model,
            self.connected(Client) && self.connected(Server),
            "the handshake did not connect"
        );
        Ok(())
    }

    /// The link drops and the client connects again with Clean Start 0, its CONNECT left
    /// on the new link.
    fn reconnect(&mut self) -> Result<(), TestCaseError> {
        self.flush()?;
        self.events()?;
        // `Pair::drop_link` stores the state of the server engine of the link; when the
        // CONNECT never reached it, that is empty while the broker still keeps the session
        // the last link left (`stored`, not taken yet): keep that one.
        let kept = self.pair.stored.take();
        self.pair.drop_link();
        if kept.is_some() {
            self.pair.stored = kept;
        }
        self.duplicated = false;
        for s in &mut self.sides {
            s.in_flight.clear();
        }
        self.events()?;
        self.connect()
    }

    /// Moves what both sides have to send onto the link and checks each packet sent.
    fn flush(&mut self) -> Result<(), TestCaseError> {
        let (to_server, to_client) = (self.pair.to_server.len(), self.pair.to_client.len());
        self.pair.flush();
        let version = self.pair.version;
        let decode = |bytes: &Bytes| Packet::decode(bytes, version).unwrap().0;
        let by_client: Vec<Packet> = self.pair.to_server.range(to_server..).map(decode).collect();
        let by_server: Vec<Packet> = self.pair.to_client.range(to_client..).map(decode).collect();
        for packet in by_client {
            self.sent(Client, packet)?;
        }
        for packet in by_server {
            self.sent(Server, packet)?;
        }
        Ok(())
    }

    fn sent(&mut self, from: Side, packet: Packet) -> Result<(), TestCaseError> {
        let peer_receive_maximum = self.receive_maximum(from.peer());
        match packet {
            Packet::Publish(p) => {
                let Some(id) = p.qos.packet_id().map(|id| id.get()) else {
                    check!(
                        self,
                        Inv::Dup,
                        !p.dup,
                        "{from:?} sent QoS 0 with DUP [MQTT-3.3.1-2]"
                    );
                    return Ok(());
                };
                let m = self.by_payload.get(&p.payload).copied();
                check!(
                    self,
                    Inv::Model,
                    m.is_some(),
                    "{from:?} sent an unknown message {p:?}"
                );
                let m = m.unwrap_or_default();
                let msg = &self.msgs[m];
                check!(self, Inv::Model, msg.from == from, "{from:?} sent {msg:?}");
                let s = &self.sides[from.index()];
                check!(
                    self,
                    Inv::PacketIds,
                    msg.id == Some(id) && s.outstanding.get(&id) == Some(&m),
                    "{from:?} sent {msg:?} with id {id}, outstanding with it: {:?} \
                     [MQTT-2.2.1-3, 3.1.1 MQTT-2.3.1-2]",
                    s.outstanding.get(&id)
                );
                check!(
                    self,
                    Inv::Dup,
                    p.dup == msg.sent,
                    "{from:?} sent {msg:?} with DUP {} [MQTT-3.3.1-1]",
                    p.dup
                );
                check!(
                    self,
                    Inv::Dup,
                    !msg.released,
                    "{from:?} sent the PUBLISH of {msg:?} after its PUBREL \
                     [MQTT-4.3.3-6, 3.1.1 MQTT-4.3.3-1]"
                );
                let s = &mut self.sides[from.index()];
                if p.dup {
                    check!(
                        self,
                        Inv::PacketIds,
                        s.in_use.contains(&id),
                        "{from:?} resent id {id}, not in use"
                    );
                } else {
                    check!(
                        self,
                        Inv::PacketIds,
                        !s.in_use.contains(&id),
                        "{from:?} sent a new PUBLISH with id {id}, in use \
                         [MQTT-2.2.1-3, 3.1.1 MQTT-2.3.1-2]"
                    );
                    s.in_use.insert(id);
                }
                s.in_flight.insert(id);
                check!(
                    self,
                    Inv::ReceiveMaximum,
                    s.in_flight.len() <= peer_receive_maximum,
                    "{from:?} has {} PUBLISH unacknowledged ({:?}), the peer's Receive Maximum \
                     is {peer_receive_maximum} [MQTT-4.9.0-2]",
                    s.in_flight.len(),
                    s.in_flight
                );
                self.msgs[m].sent = true;
            }
            Packet::PubRel(r) => {
                let s = &self.sides[from.index()];
                if let Some(&m) = s.outstanding.get(&r.packet_id.get()) {
                    self.msgs[m].released = true;
                }
            }
            Packet::Subscribe(sub) => {
                let id = sub.packet_id.get();
                let s = &mut self.sides[from.index()];
                check!(
                    self,
                    Inv::PacketIds,
                    s.requests.contains(&id) && !s.in_use.contains(&id),
                    "SUBSCRIBE with id {id}, in use or not ours \
                     [MQTT-2.2.1-3, 3.1.1 MQTT-2.3.1-2]"
                );
                s.in_use.insert(id);
                s.sent_requests.insert(id);
            }
            _ => {}
        }
        Ok(())
    }

    /// Delivers the next packet to `to`, if any; returns whether one moved.
    fn deliver(&mut self, to: Side) -> Result<bool, TestCaseError> {
        self.flush()?;
        let connected = self.connected(to);
        let packet = match to {
            Client => self.pair.deliver_to_client(),
            Server => self.pair.deliver_to_server(),
        };
        let Some(packet) = packet else {
            return Ok(false);
        };
        if !connected {
            // Ignored (the connection ended) or the CONNECT itself.
            return Ok(true);
        }
        // Acknowledgements of what `to` sent free identifiers and send quota.
        let s = &mut self.sides[to.index()];
        let freed = match &packet {
            Packet::PubAck(a) => Some(a.packet_id),
            Packet::PubComp(c) => Some(c.packet_id),
            Packet::PubRec(r) if r.reason_code.is_error() => Some(r.packet_id),
            Packet::SubAck(a) if s.sent_requests.remove(&a.packet_id.get()) => Some(a.packet_id),
            Packet::UnsubAck(a) if s.sent_requests.remove(&a.packet_id.get()) => Some(a.packet_id),
            _ => None,
        };
        if let Some(id) = freed {
            s.in_use.remove(&id.get());
            s.in_flight.remove(&id.get());
        }
        Ok(true)
    }

    /// Looks at the events both sides reported since the last call.
    fn events(&mut self) -> Result<(), TestCaseError> {
        for side in [Client, Server] {
            let events = match side {
                Client => &self.pair.client_events,
                Server => &self.pair.server_events,
            };
            let new: Vec<Event> = events[self.sides[side.index()].events_seen..].to_vec();
            self.sides[side.index()].events_seen = events.len();
            for event in new {
                self.event(side, event)?;
            }
        }
        Ok(())
    }

    fn event(&mut self, side: Side, event: Event) -> Result<(), TestCaseError> {
        let manual = self.pair.client.config().manual_acks && side == Client
            || self.pair.server_config.manual_acks && side == Server;
        match event {
            Event::Message(p) => {
                let m = self.by_payload.get(&p.payload).copied();
                check!(
                    self,
                    Inv::Model,
                    m.is_some(),
                    "{side:?} got an unknown message {p:?}"
                );
                let m = m.unwrap_or_default();
                let msg = &mut self.msgs[m];
                msg.delivered += 1;
                let msg = &self.msgs[m];
                check!(
                    self,
                    Inv::Model,
                    msg.from == side.peer()
                        && p.topic.as_str() == msg.topic
                        && p.qos.qos() == msg.qos,
                    "{side:?} got {p:?} for {msg:?}"
                );
                check!(
                    self,
                    Inv::Qos2Once,
                    msg.qos != QoS::ExactlyOnce || msg.delivered == 1,
                    "{side:?} got QoS 2 {msg:?} again [MQTT-4.3.3-10, 3.1.1 MQTT-4.3.3-2]"
                );
                if let (true, Some(id)) = (manual, p.qos.packet_id()) {
                    let qos2 = msg.qos == QoS::ExactlyOnce;
                    self.sides[side.index()].pending_acks.push((id.get(), qos2));
                }
            }
            Event::PublishAcknowledged { packet_id, .. }
            | Event::PublishCompleted { packet_id } => {
                let s = &mut self.sides[side.index()];
                let m = s.outstanding.remove(&packet_id.get());
                check!(
                    self,
                    Inv::Model,
                    m.is_some(),
                    "{side:?}: completion of id {packet_id:?}, not outstanding"
                );
                let m = m.unwrap_or_default();
                self.msgs[m].completed = true;
            }
            Event::PublishFailed { .. } | Event::PublishDropped { .. } => {
                check!(
                    self,
                    Inv::NoLoss,
                    false,
                    "{side:?}: {event:?}, though nothing is refused and sessions resume"
                );
            }
            Event::Subscribed(ack) => {
                let removed = self.sides[side.index()]
                    .requests
                    .remove(&ack.packet_id.get());
                check!(
                    self,
                    Inv::Model,
                    removed,
                    "SUBACK for an unknown request: {ack:?}"
                );
            }
            Event::RequestDropped { packet_id } => {
                let removed = self.sides[side.index()].requests.remove(&packet_id.get());
                check!(
                    self,
                    Inv::Model,
                    removed,
                    "dropped an unknown request {packet_id:?}"
                );
            }
            Event::Disconnected(cause) => {
                check!(
                    self,
                    Inv::NoViolation,
                    self.duplicated || !matches!(cause, DisconnectCause::ProtocolViolation(_)),
                    "{side:?} ended a connection on which nothing was duplicated: {cause:?}"
                );
                let s = &mut self.sides[side.index()];
                // The engine forgets unreleased QoS 1 acknowledgements with the connection
                // (the message comes again); QoS 2 ones stay with the session.
                s.pending_acks.retain(|&(_, qos2)| qos2);
                // A client's SUBSCRIBE identifiers are freed with the connection.
                for id in std::mem::take(&mut s.sent_requests) {
                    s.in_use.remove(&id);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// (c) through the API: never more in flight than the peer's Receive Maximum.
    fn check_in_flight(&mut self) -> Result<(), TestCaseError> {
        let client = self.pair.client.in_flight();
        let server = self.pair.server.in_flight();
        let (server_max, client_max) = (self.receive_maximum(Server), self.receive_maximum(Client));
        check!(
            self,
            Inv::ReceiveMaximum,
            client <= server_max && server <= client_max,
            "in flight: client {client} (server's Receive Maximum {server_max}), server \
             {server} (client's {client_max}) [MQTT-4.9.0-2]"
        );
        Ok(())
    }

    /// The final reconnect: runs the link to quiescence, the applications acknowledging
    /// everything, then checks that nothing was lost.
    fn finish(&mut self) -> Result<(), TestCaseError> {
        self.reconnect()?;
        for _ in 0..10_000 {
            let a = self.deliver(Server)?;
            let b = self.deliver(Client)?;
            self.flush()?;
            self.events()?;
            self.check_in_flight()?;
            if a || b {
                continue;
            }
            let mut acked = false;
            for side in [Client, Server] {
                for _ in 0..self.sides[side.index()].pending_acks.len() {
                    self.ack(side, 0)?;
                    acked = true;
                }
            }
            self.flush()?;
            if !acked {
                check!(
                    self,
                    Inv::Model,
                    self.connected(Client) && self.connected(Server),
                    "the final connection did not connect"
                );
                return self.check_nothing_lost();
            }
        }
        check!(self, Inv::Model, false, "the link does not quiesce");
        Ok(())
    }

    fn check_nothing_lost(&mut self) -> Result<(), TestCaseError> {
        for msg in &self.msgs {
            if msg.qos == QoS::AtMostOnce {
                continue;
            }
            check!(
                self,
                Inv::NoLoss,
                msg.delivered >= 1 && msg.completed,
                "{msg:?} lost after the final reconnect [MQTT-4.4.0-1]"
            );
        }
        let left = [
            self.pair.client.session().unacknowledged(),
            self.pair.server.session().unacknowledged(),
            self.pair.client.session().incomplete_incoming(),
            self.pair.server.session().incomplete_incoming(),
        ];
        check!(
            self,
            Inv::NoLoss,
            left == [0; 4],
            "session state left over (client, server unacknowledged; client, server \
             incomplete incoming): {left:?}"
        );
        Ok(())
    }
}

/// Runs `ops` at both levels, checking `checks`.
fn run_both(knobs: Knobs, ops: &[Op], checks: &[Inv]) -> Result<(), TestCaseError> {
    for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
        Model::new(version, knobs, checks)
            .run(ops)
            .map_err(|e| TestCaseError::fail(format!("at {version:?}: {e}")))?;
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// The properties
// ------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// (a) A QoS 2 message reaches the receiving application at most once, whatever is
    /// duplicated, dropped and resent (5.0 [MQTT-4.3.3-10], 3.1.1 [MQTT-4.3.3-2]).
    #[test]
    fn qos2_is_never_delivered_twice_5_0_mqtt_4_3_3_10_and_3_1_1_mqtt_4_3_3_2(
        (knobs, ops) in case()
    ) {
        run_both(knobs, &ops, &[Inv::Qos2Once])?;
    }

    /// (b) After a final resumed connection runs to quiescence, every QoS 1 and 2 message
    /// was delivered at least once and acknowledged to its sender; nothing was refused or
    /// dropped, and no session state is left ([MQTT-4.4.0-1] at 5.0 and 3.1.1).
    #[test]
    fn no_qos1_or_qos2_message_is_lost_across_resumed_sessions_mqtt_4_4_0_1(
        (knobs, ops) in case()
    ) {
        run_both(knobs, &ops, &[Inv::NoLoss])?;
    }

    /// (c) A sender never has more QoS 1 and 2 PUBLISH awaiting acknowledgement than the
    /// receiver's Receive Maximum, counted by `in_flight()` and from the packets sent and
    /// acknowledged on each connection (5.0 [MQTT-4.9.0-2]).
    #[test]
    fn never_more_in_flight_than_the_receive_maximum_5_0_mqtt_4_9_0_2(
        (knobs, ops) in case()
    ) {
        run_both(knobs, &ops, &[Inv::ReceiveMaximum])?;
    }

    /// (d) A packet identifier is never given to a new PUBLISH or SUBSCRIBE while an
    /// earlier packet still uses it, and every PUBLISH carries its own message's
    /// identifier (5.0 [MQTT-2.2.1-3], 3.1.1 [MQTT-2.3.1-2]).
    #[test]
    fn packet_identifiers_in_use_are_never_reused_5_0_mqtt_2_2_1_3_and_3_1_1_mqtt_2_3_1_2(
        (knobs, ops) in case()
    ) {
        run_both(knobs, &ops, &[Inv::PacketIds])?;
    }

    /// (e) Every resent PUBLISH has DUP set and no first one does ([MQTT-3.3.1-1]; never
    /// at QoS 0, [MQTT-3.3.1-2]); a QoS 2 PUBLISH is not sent again once its PUBREL was
    /// (5.0 [MQTT-4.3.3-6], 3.1.1 [MQTT-4.3.3-1]).
    #[test]
    fn dup_is_set_on_every_resent_publish_and_only_there_mqtt_3_3_1_1(
        (knobs, ops) in case()
    ) {
        run_both(knobs, &ops, &[Inv::Dup])?;
    }

    /// (f) Two engines on a link that only delays, loses (with the connection) and resumes
    /// never accuse each other of a protocol violation: in particular flow control keeps
    /// each receiver within its Receive Maximum (5.0 [MQTT-3.3.4-7], [MQTT-3.3.4-9]).
    #[test]
    fn an_undisturbed_link_never_ends_in_a_protocol_violation_mqtt_3_3_4_7_and_3_3_4_9(
        (knobs, ops) in case()
    ) {
        run_both(knobs, &ops, &[Inv::NoViolation])?;
    }
}

/// The model with every invariant on a hand-written sequence that touches every
/// operation, at both levels (a sanity check of the model itself).
#[test]
fn the_model_accepts_a_sequence_using_every_operation() {
    let knobs = Knobs {
        receive_maximum: [2, 1],
        manual_acks: [true, true],
        topic_aliases: [2, 1],
    };
    let ops = [
        Op::Publish {
            from: Client,
            qos: QoS::ExactlyOnce,
            topic: 0,
        },
        Op::Publish {
            from: Client,
            qos: QoS::AtLeastOnce,
            topic: 0,
        },
        Op::Publish {
            from: Server,
            qos: QoS::ExactlyOnce,
            topic: 1,
        },
        Op::Duplicate(Server),
        Op::Deliver(Server),
        Op::Deliver(Server),
        Op::Subscribe,
        Op::Ack(Server, 0),
        Op::Deliver(Client),
        Op::Reconnect,
        Op::Publish {
            from: Server,
            qos: QoS::AtMostOnce,
            topic: 2,
        },
        Op::Deliver(Client),
        Op::Ack(Client, 1),
        Op::Advance(7_000),
        Op::Deliver(Server),
    ];
    run_both(knobs, &ops, ALL).unwrap();
}

/// Found while building the `session` fuzz target: `Server::accept` takes the stored
/// session by value and, when it refuses (here [MQTT-3.2.2-16]: an empty client identifier
/// accepted without assigning one), drops it. The broker cannot retry with the session,
/// and its unacknowledged messages vanish without the `PublishDropped` events that
/// account for every message leaving a session.
#[test]
fn a_failed_accept_keeps_the_session_or_reports_its_messages_dropped() {
    let mut pair = Pair::new(ProtocolVersion::V5);
    pair.connect(false);
    let id = pair
        .server
        .publish(QoS::AtLeastOnce, Publish::new(topic("a"), "kept"))
        .unwrap()
        .unwrap();
    pair.drop_link();
    assert_eq!(pair.stored.as_ref().map(|s| s.unacknowledged()), Some(1));

    pair.auto_answer = false;
    let mut connect = pair.connect_packet(false);
    connect.client_id = mqttwire::MqttString::new("").unwrap();
    pair.client.connect(pair.now, connect).unwrap();
    pair.deliver_to_server();
    assert!(matches!(
        pair.server_events.last(),
        Some(Event::ConnectRequest(_))
    ));
    let refused = pair
        .server
        .accept(pair.stored.take(), Default::default())
        .unwrap_err();
    assert!(matches!(refused.error(), SessionError::Forbidden { .. }));
    pair.drain_events();

    // Kept by the engine, or handed back with the error.
    let kept = pair.server.session().unacknowledged()
        + refused.session().map_or(0, |s| s.unacknowledged());
    let dropped = pair
        .server_events
        .iter()
        .any(|e| matches!(e, Event::PublishDropped { packet_id, .. } if *packet_id == id));
    assert!(
        kept == 1 || dropped,
        "the message {id:?} left the session unreported (kept {kept}, no PublishDropped)"
    );
}
