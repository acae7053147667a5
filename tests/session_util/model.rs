//! The session model shared by the model check (tests/session_model.rs, random operation
//! sequences) and the exhaustive exploration (tests/session_exhaustive.rs, every sequence
//! of a small configuration): a client/server [`Pair`] driven by [`Op`]s, and a model that
//! follows every packet sent, every packet delivered and every event, asserting the
//! delivery guarantees after each step, after a final reconnect that runs the link to
//! quiescence, and after tail traffic that hands every freed packet identifier out again.
//!
//! Include it with `#[path = "session_util/model.rs"] mod model;` next to
//! `mod session_util;`.
//!
//! What the model tracks of each side:
//!
//! - from the API and events: its unfinished QoS 1 and 2 messages (`outstanding`) and
//!   requests, by packet identifier;
//! - from the packets: the identifiers the peer may hold (`in_use`: a QoS 1 or 2 PUBLISH
//!   sent until its PUBACK, failing PUBREC or PUBCOMP reaches the sender, also across
//!   connections for QoS 2; a SUBSCRIBE until its SUBACK or the end of the connection);
//! - a mirror of the engine's acknowledgement queue: for every PUBLISH delivered, whether it
//!   is a new message, a copy answered by the acknowledgement already pending, or a QoS 2
//!   retransmission answered by PUBREC again; so the model predicts exactly which PUBACK
//!   and PUBREC packets each delivery, `ack` and PUBREL sends, and in what order.
//!
//! The broker side of the pair can defer its answer to CONNECT (so packets arriving
//! meanwhile are held by the engine), make `accept` fail before it succeeds (retrying with
//! the session handed back), and both sessions can go through `SessionState::save` and
//! `restore` at every link drop and at every step the broker holds its session. Each link
//! may change the limits: the protocol version (3.1.1 and 5.0 on the same session), and at
//! 5.0 each side's Receive Maximum and Maximum Packet Size.

#![allow(dead_code)] // Each includer uses part of it.

use crate::session_util::{topic, Pair};
use bytes::Bytes;
use core::num::{NonZeroU16, NonZeroU32};
use mqttwire::properties::SubscribeProperties;
use mqttwire::session::{DisconnectCause, Event, SessionConfig, SessionError};
use mqttwire::{
    Packet, PacketId, ProtocolVersion, PubAck, PubComp, PubRec, Publish, QoS, QosPid, Subscription,
    TopicFilter,
};
use proptest::test_runner::TestCaseError;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Duration;

pub const TOPICS: [&str; 3] = ["a", "b/c", "d/e/f"];

/// The Maximum Packet Size of a side with small packets: above every packet the model
/// sends but a big message, which cannot be sent to that side.
pub const SMALL_PACKET_LIMIT: u32 = 128;

/// What makes a message big.
const BIG_PADDING: usize = 160;

/// Rounds of tail traffic after the final reconnect: each side that published QoS 1 or 2
/// messages (or subscribed) during the run publishes one more per round, and the link
/// runs to quiescence. The engine hands a freed identifier out again
/// once 16 others are free, so this reuses every identifier the run freed.
pub const TAIL_ROUNDS: usize = 18;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Client,
    Server,
}

use Side::{Client, Server};

impl Side {
    pub fn index(self) -> usize {
        match self {
            Client => 0,
            Server => 1,
        }
    }

    pub fn peer(self) -> Side {
        match self {
            Client => Server,
            Server => Client,
        }
    }
}

/// The limits of one link. Receive Maximum and Maximum Packet Size are announced at 5.0
/// only; a 3.1.1 link keeps the defaults (a small limit the peer was never told about
/// would only make the receiver end connections).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub v5: bool,
    /// Each side's Receive Maximum (client, server).
    pub receive_maximum: [u16; 2],
    /// Whether each side's Maximum Packet Size is [`SMALL_PACKET_LIMIT`].
    pub small_packets: [bool; 2],
}

impl Limits {
    pub fn version(&self) -> ProtocolVersion {
        if self.v5 {
            ProtocolVersion::V5
        } else {
            ProtocolVersion::V3_1_1
        }
    }

    fn config(&self, side: Side, knobs: &Knobs) -> SessionConfig {
        let i = side.index();
        let mut config = SessionConfig::default();
        config.manual_acks = knobs.manual_acks[i];
        if self.v5 {
            config.receive_maximum = NonZeroU16::new(self.receive_maximum[i]).unwrap();
            config.topic_alias_maximum = knobs.topic_aliases[i];
            if self.small_packets[i] {
                config.maximum_packet_size = NonZeroU32::new(SMALL_PACKET_LIMIT).unwrap();
            }
        }
        config
    }

    /// The Receive Maximum `side` announced: what its peer may have in flight to it.
    fn receive_maximum(&self, side: Side) -> usize {
        if self.v5 {
            usize::from(self.receive_maximum[side.index()])
        } else {
            usize::from(u16::MAX)
        }
    }
}

#[derive(Debug, Clone)]
pub enum Op {
    /// `from` publishes a new message at `qos` on `TOPICS[topic]`; a big one does not fit a
    /// small Maximum Packet Size; `props` gives it a property (5.0 links only), so it
    /// cannot be resent on a 3.1.1 link.
    Publish {
        from: Side,
        qos: QoS,
        topic: usize,
        big: bool,
        props: bool,
    },
    /// One packet is delivered to this side.
    Deliver(Side),
    /// The next packet to this side arrives this many times more (a retransmission
    /// flood).
    Duplicate(Side, u8),
    /// The link drops; the client connects again with Clean Start 0 (its CONNECT waits on
    /// the new link) and the broker resumes the session. `Some` changes the limits.
    Reconnect(Option<Limits>),
    /// Virtual time advances by this many milliseconds.
    Advance(u64),
    /// This side's application acknowledges one of its pending messages (manual acks):
    /// the one at this position modulo their number, in arrival order.
    Ack(Side, u8),
    /// The client subscribes.
    Subscribe,
    /// The peer acknowledges one of this side's unfinished messages or requests with a
    /// packet of the wrong kind: the low seven bits pick the target (in identifier order,
    /// messages before requests), the high bit the kind.
    WrongAck(Side, u8),
    /// The broker answers the CONNECT it deferred.
    Answer,
}

/// The configuration of one run.
#[derive(Debug, Clone, Copy)]
pub struct Knobs {
    /// The first link's limits.
    pub limits: Limits,
    pub manual_acks: [bool; 2],
    /// Each side's Topic Alias Maximum (5.0).
    pub topic_aliases: [u16; 2],
    /// Both sessions go through `save` and `restore` at every link drop, and the one the
    /// broker keeps at every step it keeps it.
    pub restore: bool,
    /// The broker answers a CONNECT only on [`Op::Answer`] (and when the run finishes).
    pub defer_accept: bool,
    /// Each answer first fails this many times.
    pub failing_accepts: u8,
}

impl Knobs {
    pub fn plain(v5: bool) -> Self {
        Self {
            limits: Limits {
                v5,
                receive_maximum: [u16::MAX; 2],
                small_packets: [false; 2],
            },
            manual_acks: [false; 2],
            topic_aliases: [0; 2],
            restore: false,
            defer_accept: false,
            failing_accepts: 0,
        }
    }
}

/// The invariants; a run checks a set of them (the model's own consistency always).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inv {
    Model,
    Qos2Once,
    NoLoss,
    ReceiveMaximum,
    PacketIds,
    Dup,
    NoViolation,
    NoFalseCompletion,
    NoWedge,
    Acks,
    WrongAck,
    Accept,
    SecondConnect,
}

pub const ALL: &[Inv] = &[
    Inv::Qos2Once,
    Inv::NoLoss,
    Inv::ReceiveMaximum,
    Inv::PacketIds,
    Inv::Dup,
    Inv::NoViolation,
    Inv::NoFalseCompletion,
    Inv::NoWedge,
    Inv::Acks,
    Inv::WrongAck,
    Inv::Accept,
    Inv::SecondConnect,
];

macro_rules! check {
    ($self:ident, $inv:expr, $cond:expr, $($fmt:tt)+) => {
        if ($inv == Inv::Model || $self.checks.contains(&$inv)) && !$cond {
            return Err(TestCaseError::fail(format!(
                "{:?} violated at step {}: {}\nlast of the transcript:\n{}",
                $inv,
                $self.step,
                format!($($fmt)+),
                $self.transcript_tail()
            )));
        }
    };
}

/// What an identifier in use stands for: a message (index into the model's messages) or
/// a request (in the order they were made). Transcripts name packets by it, so that two
/// runs can be compared whatever identifiers the engines picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    Msg(usize),
    Req(usize),
}

/// One message published by the test.
#[derive(Debug)]
struct Msg {
    from: Side,
    qos: QoS,
    topic: &'static str,
    payload: Bytes,
    props: bool,
    id: Option<u16>,
    /// A PUBLISH of it was sent (moved onto the link) at least once.
    sent: bool,
    /// Its PUBREL was sent (QoS 2).
    released: bool,
    /// The sender saw PublishAcknowledged or PublishCompleted.
    completed: bool,
    /// The sender saw PublishDropped.
    dropped: bool,
    /// How many times the receiver's application got it.
    delivered: usize,
}

/// What the model tracks of one side.
#[derive(Debug, Default)]
struct SideModel {
    /// From the API and events: our unfinished QoS 1 and 2 messages, by identifier.
    outstanding: BTreeMap<u16, usize>,
    /// From the API and events: our SUBSCRIBE packets awaiting SUBACK, by identifier.
    requests: BTreeMap<u16, usize>,
    /// From the packets: identifiers the peer may hold because of what we sent.
    in_use: BTreeMap<u16, Label>,
    /// From the packets: the SUBSCRIBE identifiers among `in_use`.
    sent_requests: BTreeSet<u16>,
    /// From the packets: PUBLISH identifiers sent on this connection and not acknowledged.
    in_flight: BTreeSet<u16>,
    /// Received QoS 1 and 2 messages the application has not acknowledged yet (manual
    /// acks): identifier and whether it is QoS 2.
    pending_acks: Vec<(u16, bool)>,
    /// The mirror of the engine's acknowledgement queue on this connection: identifier,
    /// PUBREC (else PUBACK), released by the application.
    ack_queue: VecDeque<(u16, bool, bool)>,
    /// Acknowledgements the mirror says must have left, not seen on the link yet.
    expected_acks: VecDeque<(u16, bool)>,
    /// Received QoS 2 messages awaiting PUBREL (session state): whether the application
    /// acknowledged them.
    received: BTreeMap<u16, bool>,
    /// Events already looked at.
    events_seen: usize,
}

pub struct Model {
    pub pair: Pair,
    knobs: Knobs,
    /// The current link's limits.
    limits: Limits,
    /// The largest Receive Maximum each side announced on any link of the session: what
    /// it may keep of the peer's messages (a session resumed with a smaller one keeps
    /// what it already holds).
    max_receive_maximum: [usize; 2],
    checks: Vec<Inv>,
    msgs: Vec<Msg>,
    by_payload: HashMap<Bytes, usize>,
    sides: [SideModel; 2],
    requests_made: usize,
    /// A packet was duplicated on, or a wrong acknowledgement injected into, the current
    /// link: a protocol violation may be right.
    disturbed: bool,
    /// A CONNECT reached a server engine that already had one: the connection must end
    /// in a protocol violation, once the engine handles it.
    second_connect: bool,
    step: usize,
    /// What crossed the link and what each side reported, with packets and messages
    /// named by [`Label`] and payload instead of packet identifier.
    pub transcript: Vec<String>,
}

impl Model {
    pub fn new(knobs: Knobs, checks: &[Inv]) -> Self {
        let limits = knobs.limits;
        let mut pair = Pair::with_configs(
            limits.version(),
            limits.config(Client, &knobs),
            limits.config(Server, &knobs),
        );
        pair.defer_accept = knobs.defer_accept;
        pair.failing_accepts = knobs.failing_accepts;
        Self {
            pair,
            knobs,
            limits,
            max_receive_maximum: [Client, Server].map(|side| limits.receive_maximum(side)),
            checks: checks.to_vec(),
            msgs: Vec::new(),
            by_payload: HashMap::new(),
            sides: Default::default(),
            requests_made: 0,
            disturbed: false,
            second_connect: false,
            step: 0,
            transcript: Vec::new(),
        }
    }

    /// The end of the transcript, for failure messages.
    fn transcript_tail(&self) -> String {
        let start = self.transcript.len().saturating_sub(30);
        self.transcript[start..].join("\n")
    }

    fn connected(&self, side: Side) -> bool {
        match side {
            Client => self.pair.client.is_connected(),
            Server => self.pair.server.is_connected(),
        }
    }

    fn manual(&self, side: Side) -> bool {
        self.knobs.manual_acks[side.index()]
    }

    /// How many packets wait on the link to `side` (after moving what the engines send).
    pub fn queued(&mut self, side: Side) -> Result<usize, TestCaseError> {
        self.flush()?;
        Ok(match side {
            Client => self.pair.to_client.len(),
            Server => self.pair.to_server.len(),
        })
    }

    /// How many received messages `side`'s application has not acknowledged (manual
    /// acks): what [`Op::Ack`] can pick from.
    pub fn pending_acks(&self, side: Side) -> usize {
        if side == Server && self.pair.stored.is_some() {
            return 0;
        }
        self.sides[side.index()].pending_acks.len()
    }

    /// What [`Op::WrongAck`] can pick from on `side`: its unfinished messages and
    /// requests, while it is connected.
    pub fn wrong_ack_targets(&self, side: Side) -> usize {
        let s = &self.sides[side.index()];
        if self.connected(side) {
            s.outstanding.len() + s.sent_requests.len()
        } else {
            0
        }
    }

    /// Whether the broker has a CONNECT to answer.
    pub fn connect_pending(&self) -> bool {
        self.pair.pending_connect.is_some()
    }

    /// The whole run: handshake, `ops`, then the final reconnect and tail traffic.
    pub fn run(&mut self, ops: &[Op]) -> Result<(), TestCaseError> {
        self.start()?;
        for op in ops {
            self.step(op)?;
        }
        self.finish()
    }

    /// The first connection: CONNECT and CONNACK cross at once.
    pub fn start(&mut self) -> Result<(), TestCaseError> {
        self.connect()?;
        self.deliver(Server)?;
        self.pair.answer_connect();
        self.events()?;
        self.deliver(Client)?;
        self.after_step()?;
        check!(
            self,
            Inv::Model,
            self.connected(Client) && self.connected(Server),
            "the handshake did not connect"
        );
        Ok(())
    }

    /// One operation and the checks after it.
    pub fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        self.step += 1;
        self.apply(op)?;
        self.after_step()
    }

    fn after_step(&mut self) -> Result<(), TestCaseError> {
        self.flush()?;
        self.events()?;
        self.flush()?;
        self.check_step()?;
        if self.knobs.restore {
            // The broker's copy of the session, outside any engine until the CONNECT
            // arrives, as if it were reloaded from storage now.
            self.pair.roundtrip_stored();
        }
        Ok(())
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match *op {
            Op::Publish {
                from,
                qos,
                topic,
                big,
                props,
            } => self.publish(from, qos, TOPICS[topic], big, props)?,
            Op::Deliver(to) => {
                self.deliver(to)?;
            }
            Op::Duplicate(to, copies) => {
                self.flush()?;
                let queue = match to {
                    Client => &mut self.pair.to_client,
                    Server => &mut self.pair.to_server,
                };
                if let Some(bytes) = queue.front().cloned() {
                    self.disturbed = true;
                    for _ in 0..copies {
                        queue.push_front(bytes.clone());
                    }
                }
            }
            Op::Reconnect(limits) => self.reconnect(limits)?,
            Op::Advance(ms) => self.pair.advance(Duration::from_millis(ms)),
            Op::Ack(side, pick) => self.ack(side, pick)?,
            Op::Subscribe => self.subscribe()?,
            Op::WrongAck(side, pick) => self.wrong_ack(side, pick)?,
            Op::Answer => self.pair.answer_connect(),
        }
        Ok(())
    }

    fn publish(
        &mut self,
        from: Side,
        qos: QoS,
        topic_name: &'static str,
        big: bool,
        props: bool,
    ) -> Result<(), TestCaseError> {
        let n = self.msgs.len();
        let mut text = format!("{from:?}-{n}-{qos:?}");
        if big {
            text.push_str(&".".repeat(BIG_PADDING));
        }
        let payload = Bytes::from(text);
        // Properties only where the link can carry them: publishing them at 3.1.1 is a
        // caller mistake, not what is explored.
        let props = props && self.limits.v5;
        let mut message = Publish::new(topic(topic_name), payload.clone());
        if props {
            message.properties.message_expiry_interval = Some(3_600);
        }
        let connected = self.connected(from);
        let result = match from {
            Client => self.pair.client.publish(qos, message),
            Server => self.pair.server.publish(qos, message),
        };
        let peer_small = self.limits.v5 && self.limits.small_packets[from.peer().index()];
        let id = match result {
            Ok(id) => id.map(|id| id.get()),
            Err(SessionError::NotConnected) if !connected => return Ok(()),
            Err(SessionError::PacketTooLarge { .. }) if big && peer_small => return Ok(()),
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
                !s.outstanding.contains_key(&id) && !s.requests.contains_key(&id),
                "{from:?} publish got id {id}, in use by {:?} (5.0 MQTT-2.2.1-3, 3.1.1 \
                 MQTT-2.3.1-2)",
                s.outstanding.get(&id).map(|&m| &self.msgs[m])
            );
            check!(
                self,
                Inv::PacketIds,
                !s.in_use.contains_key(&id),
                "{from:?} publish got id {id}, which the peer may still hold for {:?} (5.0 \
                 MQTT-2.2.1-3, 3.1.1 MQTT-2.3.1-2)",
                s.in_use.get(&id)
            );
            s.outstanding.insert(id, n);
        }
        self.by_payload.insert(payload.clone(), n);
        self.msgs.push(Msg {
            from,
            qos,
            topic: topic_name,
            payload,
            props,
            id,
            sent: false,
            released: false,
            completed: false,
            dropped: false,
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
            !s.outstanding.contains_key(&id)
                && !s.requests.contains_key(&id)
                && !s.in_use.contains_key(&id),
            "subscribe got id {id}, in use (5.0 MQTT-2.2.1-3, 3.1.1 MQTT-2.3.1-2)"
        );
        s.requests.insert(id, self.requests_made);
        self.requests_made += 1;
        Ok(())
    }

    fn ack(&mut self, side: Side, pick: u8) -> Result<(), TestCaseError> {
        // The broker keeps the session outside any engine until a CONNECT is answered.
        if side == Server && self.pair.stored.is_some() {
            return Ok(());
        }
        let s = &mut self.sides[side.index()];
        if s.pending_acks.is_empty() {
            return Ok(());
        }
        let (id, _) = s
            .pending_acks
            .remove(usize::from(pick) % s.pending_acks.len());
        // The mirror: the pending acknowledgement is released, and a QoS 2 message's
        // retransmission will be answered at once (also one delivered on an earlier
        // connection, which has no acknowledgement pending).
        if let Some(entry) = s.ack_queue.iter_mut().find(|a| a.0 == id) {
            entry.2 = true;
        }
        if let Some(acked) = s.received.get_mut(&id) {
            *acked = true;
        }
        self.release_acks(side);
        let packet_id = PacketId::new(id).unwrap();
        let result = match side {
            Client => self.pair.client.ack(packet_id),
            Server => self.pair.server.ack(packet_id),
        };
        check!(
            self,
            Inv::Model,
            result.is_ok(),
            "{side:?} ack({id}) of a delivered message: {result:?}"
        );
        Ok(())
    }

    /// Moves the released head of `side`'s mirrored acknowledgement queue to what must
    /// go out ([MQTT-4.6.0-2], [MQTT-4.6.0-3]: in arrival order).
    fn release_acks(&mut self, side: Side) {
        let s = &mut self.sides[side.index()];
        while let Some(&(id, qos2, true)) = s.ack_queue.front() {
            s.ack_queue.pop_front();
            s.expected_acks.push_back((id, qos2));
        }
    }

    /// The peer answers one of `side`'s messages or requests with an acknowledgement of a
    /// kind that does not fit it, delivered at once.
    fn wrong_ack(&mut self, side: Side, pick: u8) -> Result<(), TestCaseError> {
        if !self.connected(side) {
            return Ok(());
        }
        let s = &self.sides[side.index()];
        let targets: Vec<(u16, Option<usize>)> = s
            .outstanding
            .iter()
            .map(|(&id, &m)| (id, Some(m)))
            .chain(s.sent_requests.iter().map(|&id| (id, None)))
            .collect();
        if targets.is_empty() {
            return Ok(());
        }
        // The low seven bits pick the target, the high bit the kind of acknowledgement.
        let (id, m) = targets[usize::from(pick & 0x7f) % targets.len()];
        let pid = PacketId::new(id).unwrap();
        let alternative = pick & 0x80 != 0;
        let packet = match m.map(|m| (self.msgs[m].qos, self.msgs[m].released)) {
            // QoS 1: PUBREC or PUBCOMP.
            Some((QoS::AtLeastOnce, _)) if alternative => Packet::PubRec(PubRec::new(pid)),
            Some((QoS::AtLeastOnce, _)) => Packet::PubComp(PubComp::new(pid)),
            // QoS 2 before PUBREC: PUBACK or PUBCOMP; after: PUBACK (a PUBREC or PUBCOMP
            // would be right).
            Some((_, false)) if alternative => Packet::PubComp(PubComp::new(pid)),
            Some(_) => Packet::PubAck(PubAck::new(pid)),
            // A SUBSCRIBE: any publish acknowledgement.
            None if alternative => Packet::PubAck(PubAck::new(pid)),
            None => Packet::PubRec(PubRec::new(pid)),
        };
        self.disturbed = true;
        let name = self.describe(side, &packet);
        self.transcript.push(format!("injected: {name}"));
        let now = self.pair.now;
        let result = match side {
            Client => self.pair.client.handle_incoming(now, packet.clone()),
            Server => self.pair.server.handle_incoming(now, packet.clone()),
        };
        self.pair.drain_events();
        self.events()?;
        check!(
            self,
            Inv::WrongAck,
            result.is_err() && !self.connected(side),
            "{side:?} took {packet:?} for {:?} without ending the connection: {result:?} \
             (5.0 MQTT-4.3.2-3, MQTT-4.3.3-3; 3.1.1 MQTT-4.3.2-1, MQTT-4.3.3-1)",
            m.map(|m| &self.msgs[m])
        );
        if let Some(m) = m {
            let still = match side {
                Client => self
                    .pair
                    .client
                    .session()
                    .unacknowledged_ids()
                    .any(|i| i == pid),
                Server => self
                    .pair
                    .server
                    .session()
                    .unacknowledged_ids()
                    .any(|i| i == pid),
            };
            check!(
                self,
                Inv::WrongAck,
                still && self.sides[side.index()].outstanding.get(&id) == Some(&m),
                "{side:?} freed id {id} or reported {:?} finished on {packet:?}",
                self.msgs[m]
            );
        }
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

    /// The link drops and the client connects again with Clean Start 0, its CONNECT left
    /// on the new link, which has `limits` (or the same as before).
    fn reconnect(&mut self, limits: Option<Limits>) -> Result<(), TestCaseError> {
        self.flush()?;
        self.events()?;
        // `Pair::drop_link` stores the state of the server engine of the link; when the
        // CONNECT never reached it (or was never answered), that is empty while the
        // broker still keeps the session the last link left: keep that one.
        let kept = self.pair.stored.take();
        self.pair.drop_link();
        if kept.is_some() {
            self.pair.stored = kept;
        }
        if let Some(limits) = limits {
            // Any new limits, lower ones too, even for a side holding QoS 2 messages
            // awaiting PUBREL (those count on the new connection only once they arrive
            // again, as in the sender's quota:
            // `a_session_resumed_with_a_lower_receive_maximum_delivers_everything_...`).
            self.limits = limits;
            for side in [Client, Server] {
                let max = &mut self.max_receive_maximum[side.index()];
                *max = (*max).max(limits.receive_maximum(side));
            }
        }
        let knobs = self.knobs;
        self.pair.relink(
            self.limits.version(),
            self.limits.config(Client, &knobs),
            self.limits.config(Server, &knobs),
            knobs.restore,
        );
        self.disturbed = false;
        self.second_connect = false;
        for s in &mut self.sides {
            s.in_flight.clear();
        }
        self.events()?;
        self.transcript.push(format!("link: {:?}", self.limits));
        self.connect()
    }

    /// Moves what both sides have to send onto the link and checks each packet sent.
    fn flush(&mut self) -> Result<(), TestCaseError> {
        let (to_server, to_client) = (self.pair.to_server.len(), self.pair.to_client.len());
        self.pair.flush();
        let client_version = self.pair.client.protocol_version();
        let server_version = self.pair.server.protocol_version();
        let decode = |bytes: &Bytes, version| Packet::decode(bytes, version).unwrap().0;
        let by_client: Vec<Packet> = (self.pair.to_server.range(to_server..))
            .map(|b| decode(b, client_version))
            .collect();
        let by_server: Vec<Packet> = (self.pair.to_client.range(to_client..))
            .map(|b| decode(b, server_version))
            .collect();
        for packet in by_client {
            self.sent(Client, packet)?;
        }
        for packet in by_server {
            self.sent(Server, packet)?;
        }
        Ok(())
    }

    fn sent(&mut self, from: Side, packet: Packet) -> Result<(), TestCaseError> {
        let peer_receive_maximum = self.limits.receive_maximum(from.peer());
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
                     (5.0 MQTT-2.2.1-3, 3.1.1 MQTT-2.3.1-2)",
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
                     (5.0 MQTT-4.3.3-6, 3.1.1 MQTT-4.3.3-1)"
                );
                let s = &mut self.sides[from.index()];
                if p.dup {
                    check!(
                        self,
                        Inv::PacketIds,
                        s.in_use.get(&id) == Some(&Label::Msg(m)),
                        "{from:?} resent id {id}, not in use by it: {:?}",
                        s.in_use.get(&id)
                    );
                } else {
                    check!(
                        self,
                        Inv::PacketIds,
                        !s.in_use.contains_key(&id),
                        "{from:?} sent a new PUBLISH with id {id}, which the peer may still \
                         hold for {:?} (5.0 MQTT-2.2.1-3, 3.1.1 MQTT-2.3.1-2)",
                        s.in_use.get(&id)
                    );
                    s.in_use.insert(id, Label::Msg(m));
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
                // Named by what the identifier was in use for: a message abandoned on
                // resume is released after its PublishDropped.
                let s = &self.sides[from.index()];
                if let Some(&Label::Msg(m)) = s.in_use.get(&r.packet_id.get()) {
                    self.msgs[m].released = true;
                }
            }
            Packet::PubAck(a) => self.sent_ack(from, a.packet_id.get(), false)?,
            Packet::PubRec(r) => self.sent_ack(from, r.packet_id.get(), true)?,
            Packet::Subscribe(sub) => {
                let id = sub.packet_id.get();
                let s = &mut self.sides[from.index()];
                let request = s.requests.get(&id).copied();
                check!(
                    self,
                    Inv::PacketIds,
                    request.is_some() && !s.in_use.contains_key(&id),
                    "SUBSCRIBE with id {id}, in use or not ours (5.0 MQTT-2.2.1-3, 3.1.1 \
                     MQTT-2.3.1-2)"
                );
                s.in_use.insert(id, Label::Req(request.unwrap_or_default()));
                s.sent_requests.insert(id);
            }
            _ => {}
        }
        Ok(())
    }

    /// A PUBACK (`qos2` false) or PUBREC went out: it must be the next one the mirror
    /// expects.
    fn sent_ack(&mut self, from: Side, id: u16, qos2: bool) -> Result<(), TestCaseError> {
        let s = &mut self.sides[from.index()];
        let expected = s.expected_acks.pop_front();
        let kind = if qos2 { "PUBREC" } else { "PUBACK" };
        check!(
            self,
            Inv::Acks,
            expected == Some((id, qos2)),
            "{from:?} sent {kind} {id}, the acknowledgement expected next is {expected:?} \
             (one per received message, in arrival order once released: MQTT-4.6.0-2, \
             MQTT-4.6.0-3)"
        );
        Ok(())
    }

    /// Delivers the next packet to `to`, if any; returns whether one moved.
    fn deliver(&mut self, to: Side) -> Result<bool, TestCaseError> {
        self.flush()?;
        let connected = self.connected(to);
        let had_connect =
            to == Server && (self.connected(Server) || self.pair.pending_connect.is_some());
        let packet = match to {
            Client => self.pair.deliver_to_client(),
            Server => self.pair.deliver_to_server(),
        };
        let Some(packet) = packet else {
            return Ok(false);
        };
        let name = self.describe(to, &packet);
        self.transcript.push(name);
        if had_connect && matches!(packet, Packet::Connect(_)) {
            self.second_connect = true;
        }
        if connected && self.connected(to) {
            self.delivered(to, &packet);
        }
        if connected {
            // Acknowledgements of what `to` sent free identifiers and send quota.
            let s = &mut self.sides[to.index()];
            let freed = match &packet {
                Packet::PubAck(a) => Some(a.packet_id),
                Packet::PubComp(c) => Some(c.packet_id),
                Packet::PubRec(r) if r.reason_code.is_error() => Some(r.packet_id),
                Packet::SubAck(a) if s.sent_requests.remove(&a.packet_id.get()) => {
                    Some(a.packet_id)
                }
                Packet::UnsubAck(a) if s.sent_requests.remove(&a.packet_id.get()) => {
                    Some(a.packet_id)
                }
                _ => None,
            };
            if let Some(id) = freed {
                s.in_use.remove(&id.get());
                s.in_flight.remove(&id.get());
            }
        }
        // Look at the events now, so that a completion is judged against the deliveries
        // that happened before it.
        self.events()?;
        Ok(true)
    }

    /// The acknowledgement mirror follows a packet `to` handled on a connection that is
    /// still up.
    fn delivered(&mut self, to: Side, packet: &Packet) {
        let manual = self.manual(to);
        let s = &mut self.sides[to.index()];
        match packet {
            Packet::Publish(p) => {
                let (id, qos2) = match p.qos {
                    QosPid::AtMostOnce => return,
                    QosPid::AtLeastOnce(id) => (id.get(), false),
                    QosPid::ExactlyOnce(id) => (id.get(), true),
                };
                if s.ack_queue.iter().any(|a| a.0 == id) {
                    // A copy: answered by the acknowledgement already pending.
                } else if let (true, Some(&acked)) = (qos2, s.received.get(&id)) {
                    // A retransmission before PUBREL: PUBREC again, once acknowledged.
                    s.ack_queue.push_back((id, true, acked));
                } else {
                    s.ack_queue.push_back((id, qos2, !manual));
                    if qos2 {
                        s.received.insert(id, !manual);
                    }
                }
                self.release_acks(to);
            }
            Packet::PubRel(r) => {
                // The sender is done with the message: an acknowledgement the application
                // has not released yet is moot (its `ack` is refused from now on).
                let id = r.packet_id.get();
                s.received.remove(&id);
                s.ack_queue.retain(|a| a.0 != id);
                s.pending_acks.retain(|a| a.0 != id);
                self.release_acks(to);
            }
            _ => {}
        }
    }

    /// A transcript line for `packet` delivered to `to`.
    fn describe(&self, to: Side, packet: &Packet) -> String {
        let label = |owner: Side, id: PacketId| {
            let s = &self.sides[owner.index()];
            s.in_use
                .get(&id.get())
                .map_or_else(|| "stale".to_string(), |l| format!("{l:?}"))
        };
        let from = to.peer();
        match packet {
            Packet::Publish(p) => format!(
                "{to:?} <- PUBLISH {:?} {:?} dup {} retain {}",
                p.payload,
                p.qos.qos(),
                p.dup,
                p.retain
            ),
            Packet::PubAck(a) => format!(
                "{to:?} <- PUBACK {} {:?}",
                label(to, a.packet_id),
                a.reason_code
            ),
            Packet::PubRec(r) => format!(
                "{to:?} <- PUBREC {} {:?}",
                label(to, r.packet_id),
                r.reason_code
            ),
            Packet::PubComp(c) => format!(
                "{to:?} <- PUBCOMP {} {:?}",
                label(to, c.packet_id),
                c.reason_code
            ),
            Packet::PubRel(r) => format!(
                "{to:?} <- PUBREL {} {:?}",
                label(from, r.packet_id),
                r.reason_code
            ),
            Packet::Subscribe(s) => format!("{to:?} <- SUBSCRIBE {}", label(from, s.packet_id)),
            Packet::SubAck(a) => format!(
                "{to:?} <- SUBACK {} {:?}",
                label(to, a.packet_id),
                a.reason_codes
            ),
            other => format!("{to:?} <- {other:?}"),
        }
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
        let line = self.describe_event(side, &event);
        self.transcript.push(line);
        let manual = self.manual(side);
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
                    "{side:?} got QoS 2 {msg:?} again (5.0 MQTT-4.3.3-10, 3.1.1 MQTT-4.3.3-2)"
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
                let qos1 = matches!(event, Event::PublishAcknowledged { .. });
                let msg = &self.msgs[m];
                check!(
                    self,
                    Inv::NoFalseCompletion,
                    qos1 == (msg.qos == QoS::AtLeastOnce) && msg.delivered >= 1,
                    "{side:?} reported {event:?} for {msg:?}, which its peer's application \
                     never received (the peer acknowledges only what it took: 5.0 \
                     MQTT-4.3.2-4, MQTT-4.3.3-8; 3.1.1 MQTT-4.3.2-2, MQTT-4.3.3-2)"
                );
                self.msgs[m].completed = true;
            }
            Event::PublishFailed { .. } => {
                check!(
                    self,
                    Inv::NoLoss,
                    false,
                    "{side:?}: {event:?}, though the peer refuses nothing"
                );
            }
            Event::PublishDropped { packet_id, .. } => {
                let s = &mut self.sides[side.index()];
                let m = s.outstanding.remove(&packet_id.get());
                check!(
                    self,
                    Inv::Model,
                    m.is_some(),
                    "{side:?}: dropped id {packet_id:?}, not outstanding"
                );
                let m = m.unwrap_or_default();
                let fits = self.fits(side, m);
                check!(
                    self,
                    Inv::NoLoss,
                    !fits,
                    "{side:?}: {event:?}, though {:?} can be sent on this connection \
                     (5.0 MQTT-4.4.0-1, 3.1.1 MQTT-4.4.0-1)",
                    self.msgs[m]
                );
                let msg = &mut self.msgs[m];
                msg.dropped = true;
                // The peer holds nothing of a QoS 1 message across connections, nor of
                // one never sent; a QoS 2 message it may have stays in use until PUBCOMP.
                if msg.qos == QoS::AtLeastOnce || !msg.sent {
                    self.sides[side.index()].in_use.remove(&packet_id.get());
                }
            }
            Event::Subscribed(ack) => {
                let removed = self.sides[side.index()]
                    .requests
                    .remove(&ack.packet_id.get());
                check!(
                    self,
                    Inv::Model,
                    removed.is_some(),
                    "SUBACK for an unknown request: {ack:?}"
                );
            }
            Event::RequestDropped { packet_id } => {
                let removed = self.sides[side.index()].requests.remove(&packet_id.get());
                check!(
                    self,
                    Inv::Model,
                    removed.is_some(),
                    "dropped an unknown request {packet_id:?}"
                );
            }
            Event::Disconnected(cause) => {
                let violation = matches!(cause, DisconnectCause::ProtocolViolation(_));
                check!(
                    self,
                    Inv::NoViolation,
                    self.disturbed || !violation,
                    "{side:?} ended a connection on which nothing was duplicated or \
                     injected: {cause:?}"
                );
                if side == Server && violation {
                    self.second_connect = false;
                }
                let s = &mut self.sides[side.index()];
                // The engine forgets unreleased QoS 1 acknowledgements with the connection
                // (the message comes again); QoS 2 ones stay with the session.
                s.pending_acks.retain(|&(_, qos2)| qos2);
                s.ack_queue.clear();
                // A client's SUBSCRIBE identifiers are freed with the connection.
                for id in std::mem::take(&mut s.sent_requests) {
                    s.in_use.remove(&id);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A transcript line for `event` reported by `side`.
    fn describe_event(&self, side: Side, event: &Event) -> String {
        let s = &self.sides[side.index()];
        let message = |id: PacketId| {
            s.outstanding.get(&id.get()).map_or_else(
                || "unknown".to_string(),
                |m| format!("{:?}", Label::Msg(*m)),
            )
        };
        match event {
            Event::Message(p) => format!("{side:?}: Message {:?} {:?}", p.payload, p.qos.qos()),
            Event::PublishAcknowledged {
                packet_id,
                reason_code,
            } => format!(
                "{side:?}: PublishAcknowledged {} {reason_code:?}",
                message(*packet_id)
            ),
            Event::PublishCompleted { packet_id } => {
                format!("{side:?}: PublishCompleted {}", message(*packet_id))
            }
            Event::PublishDropped {
                packet_id,
                message: m,
            } => format!(
                "{side:?}: PublishDropped {} with message {}",
                message(*packet_id),
                m.is_some()
            ),
            Event::Subscribe(sub) => {
                let client = &self.sides[Client.index()];
                format!(
                    "{side:?}: Subscribe {:?}",
                    client.in_use.get(&sub.packet_id.get())
                )
            }
            Event::Subscribed(ack) => format!(
                "{side:?}: Subscribed {:?} {:?}",
                s.requests.get(&ack.packet_id.get()),
                ack.reason_codes
            ),
            Event::RequestDropped { packet_id } => format!(
                "{side:?}: RequestDropped {:?}",
                s.requests.get(&packet_id.get())
            ),
            other => format!("{side:?}: {other:?}"),
        }
    }

    /// Whether message `m` of `side` can be sent on `side`'s connection: it encodes at
    /// the connection's protocol version within the peer's Maximum Packet Size.
    fn fits(&self, side: Side, m: usize) -> bool {
        let msg = &self.msgs[m];
        let (version, max) = match side {
            Client => (
                self.pair.client.protocol_version(),
                self.pair.client.max_outgoing_packet_size(),
            ),
            Server => (
                self.pair.server.protocol_version(),
                self.pair.server.max_outgoing_packet_size(),
            ),
        };
        let mut p = Publish::new(topic(msg.topic), msg.payload.clone());
        let id = PacketId::new(msg.id.unwrap_or(1)).unwrap();
        p.qos = match msg.qos {
            QoS::AtMostOnce => QosPid::AtMostOnce,
            QoS::AtLeastOnce => QosPid::AtLeastOnce(id),
            QoS::ExactlyOnce => QosPid::ExactlyOnce(id),
        };
        if msg.props {
            p.properties.message_expiry_interval = Some(3_600);
        }
        Packet::Publish(p)
            .encoded_len(version)
            .is_ok_and(|len| len <= max)
    }

    /// After every step: the Receive Maximum through the API, every predicted
    /// acknowledgement sent, what the session keeps bounded, failed accepts, a second
    /// CONNECT.
    fn check_step(&mut self) -> Result<(), TestCaseError> {
        for side in [Client, Server] {
            let (in_flight, incomplete) = match side {
                Client => (
                    self.pair.client.in_flight(),
                    self.pair.client.session().incomplete_incoming(),
                ),
                Server => (
                    self.pair.server.in_flight(),
                    self.pair.server.session().incomplete_incoming(),
                ),
            };
            // PUBRELs carried over from an earlier connection count too, and go out
            // whatever the quota ([MQTT-3.3.4-8]).
            let s = &self.sides[side.index()];
            let carried = (s.in_use.values())
                .filter(|l| matches!(l, Label::Msg(m) if self.msgs[*m].released))
                .count();
            let max = self.limits.receive_maximum(side.peer());
            check!(
                self,
                Inv::ReceiveMaximum,
                in_flight <= max.max(carried),
                "{side:?} has {in_flight} in flight, the peer's Receive Maximum is {max} \
                 ({carried} PUBREL awaiting PUBCOMP) [MQTT-4.9.0-2]"
            );
            let own = self.max_receive_maximum[side.index()];
            check!(
                self,
                Inv::Acks,
                incomplete <= own && s.ack_queue.len() <= own,
                "{side:?} keeps {incomplete} QoS 2 messages awaiting PUBREL and {} \
                 acknowledgements, its largest Receive Maximum is {own}",
                s.ack_queue.len()
            );
            check!(
                self,
                Inv::Acks,
                s.expected_acks.is_empty(),
                "{side:?} did not send {:?} (MQTT-4.6.0-2, MQTT-4.6.0-3)",
                s.expected_acks
            );
        }
        check!(
            self,
            Inv::Accept,
            self.pair.accept_breaches.is_empty(),
            "failed accept: {:?}",
            self.pair.accept_breaches
        );
        check!(
            self,
            Inv::SecondConnect,
            !(self.second_connect && self.connected(Server)),
            "a second CONNECT reached the server and the connection is up (MQTT-3.1.0-2)"
        );
        Ok(())
    }

    /// Runs the link until nothing moves: deliveries both ways, the deferred CONNECT
    /// answered, every pending message acknowledged.
    fn quiesce(&mut self) -> Result<(), TestCaseError> {
        for _ in 0..100_000 {
            let a = self.deliver(Server)?;
            let b = self.deliver(Client)?;
            self.after_step()?;
            if a || b {
                continue;
            }
            if self.pair.pending_connect.is_some() {
                self.pair.answer_connect();
                self.after_step()?;
                continue;
            }
            let mut acked = false;
            for side in [Client, Server] {
                for _ in 0..self.sides[side.index()].pending_acks.len() {
                    self.ack(side, 0)?;
                    acked = true;
                }
            }
            self.after_step()?;
            if !acked {
                return Ok(());
            }
        }
        check!(self, Inv::Model, false, "the link does not quiesce");
        Ok(())
    }

    /// The final reconnect: runs the link to quiescence, the applications acknowledging
    /// everything, then checks that nothing was lost; then tail traffic, which hands out
    /// every identifier freed during the run again, and checks that it all completes.
    pub fn finish(&mut self) -> Result<(), TestCaseError> {
        self.step += 1;
        self.reconnect(None)?;
        self.quiesce()?;
        check!(
            self,
            Inv::Model,
            self.connected(Client) && self.connected(Server),
            "the final connection did not connect"
        );
        self.check_nothing_lost(Inv::NoLoss)?;
        // Only a side that used identifiers has any to hand out again.
        let senders: Vec<Side> = [Client, Server]
            .into_iter()
            .filter(|&side| {
                let used = |m: &Msg| m.from == side && m.qos != QoS::AtMostOnce;
                self.msgs.iter().any(used) || (side == Client && self.requests_made > 0)
            })
            .collect();
        let first_tail = self.msgs.len();
        for round in 0..TAIL_ROUNDS {
            self.step += 1;
            let qos = if round % 2 == 0 {
                QoS::AtLeastOnce
            } else {
                QoS::ExactlyOnce
            };
            for &side in &senders {
                self.publish(side, qos, TOPICS[round % TOPICS.len()], false, false)?;
            }
            self.after_step()?;
            self.quiesce()?;
        }
        check!(
            self,
            Inv::NoWedge,
            self.msgs.len() == first_tail + senders.len() * TAIL_ROUNDS,
            "the final connection refused tail traffic"
        );
        self.check_nothing_lost(Inv::NoWedge)
    }

    fn check_nothing_lost(&mut self, inv: Inv) -> Result<(), TestCaseError> {
        for msg in &self.msgs {
            if msg.qos == QoS::AtMostOnce {
                continue;
            }
            check!(
                self,
                inv,
                (msg.delivered >= 1 && msg.completed) || msg.dropped,
                "{msg:?} lost after the final reconnect (5.0 MQTT-4.4.0-1, 3.1.1 \
                 MQTT-4.4.0-1)"
            );
        }
        let left = [
            self.pair.client.session().unacknowledged(),
            self.pair.server.session().unacknowledged(),
            self.pair.client.session().incomplete_incoming(),
            self.pair.server.session().incomplete_incoming(),
            self.pair.client.in_flight(),
            self.pair.server.in_flight(),
        ];
        check!(
            self,
            inv,
            left == [0; 6],
            "session state left over (client, server unacknowledged; client, server \
             incomplete incoming; client, server in flight): {left:?} [MQTT-4.9.0-2]"
        );
        Ok(())
    }
}
