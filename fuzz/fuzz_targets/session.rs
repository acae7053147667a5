//! `session`: a client and a server session engine on a simulated link, driven by a
//! fuzz-chosen sequence of operations, some of which feed arbitrary packets to either side.
//!
//! Input, read with `arbitrary::Unstructured`:
//! - 1 byte: the protocol level (even: MQTT 3.1.1, odd: 5.0);
//! - per side (client, then server): Receive Maximum (`1 + byte % 4` at 5.0; the default
//!   65,535 at 3.1.1, which has none), manual acknowledgement (a bool) and Topic Alias
//!   Maximum (`byte % 3`, 5.0 only);
//! - then operations until the input runs out (at most 512), each a byte choosing one of:
//!   publish (side, QoS, topic, retain) with a payload unique in the run; deliver the next
//!   packet to a side; duplicate the next packet to a side; drop the link (the broker keeps
//!   the session); connect (Clean Start from a byte, 1 in 8 a clean start) on a link that has
//!   none yet; advance virtual time (`u16` milliseconds); acknowledge a received message
//!   (one the application got, picked by a byte, or any `u16` identifier); subscribe or
//!   unsubscribe (client); disconnect (either side, with a reason code byte); inject a
//!   `Packet` from mqttwire's `Arbitrary` implementation into a side's `handle_incoming`
//!   as that side's `Decoder` gives it: encoded and decoded at the side's level (a packet
//!   that does not round-trip, so could not come off the wire, is not injected).
//!
//! Packets cross the link as bytes: `poll_transmit_into`, then the receiver's `Decoder`
//! (`handle_decode_error` when it fails). The server side plays a broker: it accepts every
//! CONNECT (resuming the session the last link left unless Clean Start is set, refusing when
//! `accept` does), grants every subscription and answers every unsubscription.
//!
//! Checked after every operation, besides "no panic":
//! - a QoS 2 message is delivered at most once (5.0 [MQTT-4.3.3-10], 3.1.1
//!   [MQTT-4.3.3-2]). Messages are told apart by payload; deliveries caused by an injected
//!   packet are not counted, and a message is exempt once an injected PUBREL with its
//!   packet identifier reached its receiver, or an injected CONNECT or CONNACK, or a clean
//!   start, may have replaced a session (then the protocol allows a new delivery);
//! - packet identifiers in use are never reused (5.0 [MQTT-2.2.1-3], 3.1.1 [MQTT-2.3.1-2]):
//!   `publish`, `subscribe` and `unsubscribe` never return the identifier of a message or
//!   request not yet finished (as the events report them), and every PUBLISH sent carries
//!   its own message's identifier;
//! - DUP is set exactly on the PUBLISH packets that are resends ([MQTT-3.3.1-1]) and never
//!   at QoS 0 ([MQTT-3.3.1-2]) (after a packet of a side failed to encode, which only an
//!   injected CONNECT or CONNACK allows, a DUP on that side's messages is not checked: the
//!   engine counts the lost packet as sent);
//! - never more unacknowledged QoS 1 and 2 PUBLISH than the peer's Receive Maximum, the
//!   `send_quota` of the side's last `Connected` event (5.0 [MQTT-4.9.0-2]): `in_flight()`,
//!   and the distinct identifiers of the PUBLISH packets sent on the connection whose
//!   acknowledgement, failure or drop the events have not reported yet;
//! - until an injected CONNECT or CONNACK may have changed a side's protocol level, every
//!   packet an engine sends encodes within the peer's limit and decodes on the other side.

#![no_main]

use arbitrary::{Arbitrary, Result, Unstructured};
use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use mqttwire::properties::{AckProperties, ConnAckProperties};
use mqttwire::session::{Client, Event, Instant, Server, SessionConfig, SessionState};
use mqttwire::{
    Connect, ConnectReasonCode, Decoder, Disconnect, DisconnectReasonCode, MqttString, Packet,
    PacketId, ProtocolVersion, Publish, QoS, SubAckReasonCode, Subscription, TopicFilter,
    TopicName, UnsubAckReasonCode,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::num::NonZeroU16;
use std::time::Duration;

macro_rules! trace {
    ($driver:expr, $($fmt:tt)+) => {
        if $driver.trace {
            eprintln!($($fmt)+);
        }
    };
}

const TOPICS: [&str; 3] = ["a", "b/c", "d/e/f"];
const FILTERS: [&str; 3] = ["a", "b/+", "#"];
const MAX_OPS: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Client,
    Server,
}

use Side::{Client as C, Server as S};

impl Side {
    fn i(self) -> usize {
        self as usize
    }

    fn peer(self) -> Side {
        match self {
            C => S,
            S => C,
        }
    }

    fn arbitrary(u: &mut Unstructured) -> Result<Side> {
        Ok(if bool::arbitrary(u)? { S } else { C })
    }
}

/// One message published through the API.
#[derive(Debug)]
struct Msg {
    from: Side,
    qos: QoS,
    id: Option<u16>,
    /// A PUBLISH of it went onto the link.
    sent: bool,
    /// Deliveries to the receiver's application (not counting injected copies).
    delivered: usize,
    /// An injection or a clean start may legitimately make it arrive again.
    exempt: bool,
}

/// What the driver tracks of one side.
#[derive(Debug, Default)]
struct Track {
    /// Unfinished QoS 1 and 2 messages, by identifier (from `publish` and the events).
    outstanding: BTreeMap<u16, usize>,
    /// SUBSCRIBE and UNSUBSCRIBE identifiers awaiting their answer.
    requests: BTreeSet<u16>,
    /// PUBLISH identifiers sent on this connection and not reported finished.
    sent_unacked: BTreeSet<u16>,
    /// The peer's Receive Maximum on this connection (the last `Connected` event).
    quota: Option<u16>,
    /// Identifiers of received QoS 1 and 2 messages, for `ack` (the last 64).
    received: Vec<u16>,
    /// The protocol level or limits may differ from the other side's (an injected CONNECT
    /// or CONNACK).
    confused: bool,
    /// A packet failed to encode: a message may count as sent without the driver seeing it.
    lost_packet: bool,
}

struct Driver {
    version: ProtocolVersion,
    now: Instant,
    client: Client,
    server: Server,
    server_config: SessionConfig,
    to_server: VecDeque<Bytes>,
    to_client: VecDeque<Bytes>,
    client_decoder: Decoder,
    server_decoder: Decoder,
    /// The session the broker keeps for the client between links, when no engine has it.
    stored: Option<SessionState>,
    /// The client has sent its CONNECT on this link.
    connected_once: bool,
    msgs: Vec<Msg>,
    by_payload: HashMap<Bytes, usize>,
    track: [Track; 2],
    /// Events are being caused by an injected packet: deliveries do not count.
    injecting: bool,
    /// Print every operation, packet and event (`SESSION_FUZZ_TRACE` set).
    trace: bool,
}

impl Driver {
    fn new(u: &mut Unstructured) -> Result<Self> {
        let version = if u8::arbitrary(u)? % 2 == 0 {
            ProtocolVersion::V3_1_1
        } else {
            ProtocolVersion::V5
        };
        let mut configs = [SessionConfig::default(), SessionConfig::default()];
        for config in &mut configs {
            let receive_maximum = 1 + u16::from(u8::arbitrary(u)? % 4);
            config.manual_acks = bool::arbitrary(u)?;
            let aliases = u16::from(u8::arbitrary(u)? % 3);
            if version.is_v5() {
                config.receive_maximum = NonZeroU16::new(receive_maximum).unwrap();
                config.topic_alias_maximum = aliases;
            }
        }
        let [client_config, server_config] = configs;
        Ok(Self {
            version,
            now: Instant::from_millis(1_000),
            client_decoder: client_config.client_decoder(version),
            server_decoder: server_config.server_decoder(),
            client: Client::new(client_config),
            server: Server::new(server_config.clone()),
            server_config,
            to_server: VecDeque::new(),
            to_client: VecDeque::new(),
            stored: None,
            connected_once: false,
            msgs: Vec::new(),
            by_payload: HashMap::new(),
            track: Default::default(),
            injecting: false,
            trace: std::env::var_os("SESSION_FUZZ_TRACE").is_some(),
        })
    }

    fn version_of(&self, side: Side) -> ProtocolVersion {
        match side {
            C => self.client.protocol_version(),
            S => self.server.protocol_version(),
        }
    }

    fn op(&mut self, u: &mut Unstructured) -> Result<()> {
        match u.choose_index(14)? {
            0 | 1 => {
                let from = Side::arbitrary(u)?;
                let qos =
                    [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce][u.choose_index(3)?];
                let topic = TOPICS[u.choose_index(TOPICS.len())?];
                let retain = u.ratio(1, 8)?;
                self.publish(from, qos, topic, retain);
            }
            2..=4 => self.deliver(Side::arbitrary(u)?),
            5 => {
                self.flush();
                let link = match Side::arbitrary(u)? {
                    C => &mut self.to_client,
                    S => &mut self.to_server,
                };
                if let Some(bytes) = link.front().cloned() {
                    link.push_front(bytes);
                    trace!(self, "the next packet is duplicated");
                }
            }
            6 => self.drop_link(),
            7 => {
                let clean_start = u.ratio(1, 8)?;
                self.connect(clean_start);
            }
            8 => {
                let by = Duration::from_millis(u16::arbitrary(u)?.into());
                trace!(self, "time advances by {by:?}");
                self.now = self.now + by;
                self.client.handle_timeout(self.now);
                self.server.handle_timeout(self.now);
            }
            9 => {
                let side = Side::arbitrary(u)?;
                let id = if bool::arbitrary(u)? {
                    let received = &self.track[side.i()].received;
                    if received.is_empty() {
                        return Ok(());
                    }
                    received[u.choose_index(received.len())?]
                } else {
                    u16::arbitrary(u)?
                };
                if let Some(id) = PacketId::new(id) {
                    let result = match side {
                        C => self.client.ack(id),
                        S => self.server.ack(id),
                    };
                    trace!(self, "{side:?} acks {id:?}: {result:?}");
                }
            }
            10 => {
                let filter = TopicFilter::new(FILTERS[u.choose_index(FILTERS.len())?]).unwrap();
                let request = if bool::arbitrary(u)? {
                    let qos =
                        [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce][u.choose_index(3)?];
                    self.client
                        .subscribe(vec![Subscription::new(filter, qos)], Default::default())
                } else {
                    self.client.unsubscribe(vec![filter], Default::default())
                };
                if let Ok(id) = request {
                    let t = &mut self.track[C.i()];
                    assert!(
                        !t.outstanding.contains_key(&id.get()) && t.requests.insert(id.get()),
                        "request got identifier {id:?}, in use [MQTT-2.2.1-3]"
                    );
                }
            }
            11 => {
                let code = DisconnectReasonCode::from_code(u8::arbitrary(u)?)
                    .unwrap_or(DisconnectReasonCode::NormalDisconnection);
                let side = Side::arbitrary(u)?;
                let result = match side {
                    C => self.client.disconnect(Disconnect::new(code)),
                    S => self.server.disconnect(Disconnect::new(code)),
                };
                trace!(self, "{side:?} disconnects with {code:?}: {result:?}");
            }
            _ => {
                let to = Side::arbitrary(u)?;
                let packet = Packet::arbitrary(u)?;
                self.inject(to, &packet);
            }
        }
        Ok(())
    }

    fn publish(&mut self, from: Side, qos: QoS, topic: &str, retain: bool) {
        let n = self.msgs.len();
        let payload = Bytes::from(format!("{from:?}-{n}"));
        let mut message = Publish::new(TopicName::new(topic).unwrap(), payload.clone());
        message.retain = retain;
        let result = match from {
            C => self.client.publish(qos, message),
            S => self.server.publish(qos, message),
        };
        trace!(
            self,
            "{from:?} publishes {payload:?} at {qos:?}: {result:?}"
        );
        let Ok(id) = result else {
            return;
        };
        assert_eq!(id.is_some(), qos != QoS::AtMostOnce, "{qos:?} got {id:?}");
        let id = id.map(PacketId::get);
        if let Some(id) = id {
            let t = &mut self.track[from.i()];
            assert!(
                !t.requests.contains(&id),
                "publish got identifier {id}, in use by a request [MQTT-2.2.1-3]"
            );
            if let Some(&m) = t.outstanding.get(&id) {
                panic!(
                    "publish got identifier {id}, in use by {:?} [MQTT-2.2.1-3]",
                    self.msgs[m]
                );
            }
            t.outstanding.insert(id, n);
        }
        self.by_payload.insert(payload, n);
        self.msgs.push(Msg {
            from,
            qos,
            id,
            sent: false,
            delivered: 0,
            exempt: false,
        });
    }

    fn connect(&mut self, clean_start: bool) {
        if self.connected_once {
            return;
        }
        let mut connect = Connect::new(self.version, MqttString::new("c1").unwrap());
        connect.clean_start = clean_start;
        connect.keep_alive = 10;
        if self.version.is_v5() {
            connect.properties.session_expiry_interval = Some(3_600);
        }
        let result = self.client.connect(self.now, connect);
        trace!(
            self,
            "Client connects, clean start {clean_start}: {result:?}"
        );
        if result.is_ok() {
            self.connected_once = true;
            if clean_start {
                // The server may still resume the old session if this CONNECT is lost.
                self.exempt_all();
            }
        }
    }

    fn exempt_all(&mut self) {
        for m in &mut self.msgs {
            m.exempt = true;
        }
    }

    fn drop_link(&mut self) {
        self.flush();
        trace!(self, "the link drops");
        self.to_server.clear();
        self.to_client.clear();
        self.client.handle_connection_lost();
        self.server.handle_connection_lost();
        let state = self.server.take_session();
        // A server engine that never took the kept session over has nothing of it.
        if self.stored.is_none() {
            self.stored = Some(state);
        }
        self.events();
        self.server = Server::new(self.server_config.clone());
        self.client_decoder = self.client.config().client_decoder(self.version);
        self.server_decoder = self.server_config.server_decoder();
        self.connected_once = false;
        self.track[S.i()].confused = false;
        self.track[C.i()].confused = false;
    }

    fn deliver(&mut self, to: Side) {
        self.flush();
        let (link, decoder) = match to {
            C => (&mut self.to_client, &mut self.client_decoder),
            S => (&mut self.to_server, &mut self.server_decoder),
        };
        let Some(bytes) = link.pop_front() else {
            return;
        };
        let mut buf = BytesMut::from(&bytes[..]);
        let decoded = decoder.decode(&mut buf);
        let confused = self.track[S.i()].confused || self.track[C.i()].confused;
        match decoded {
            Ok(Some(packet)) => {
                trace!(self, "  -> {to:?}: {packet:?}");
                assert!(buf.is_empty(), "one packet per transmission");
                let _ = match to {
                    C => self.client.handle_incoming(self.now, packet),
                    S => self.server.handle_incoming(self.now, packet),
                };
            }
            Ok(None) => panic!("a partial packet: {bytes:02x?}"),
            Err(e) => {
                assert!(
                    confused,
                    "the {:?} sent {bytes:02x?}, which fails: {e}",
                    to.peer()
                );
                // The connection's byte stream is broken from here on.
                *decoder = match to {
                    C => self.client.config().client_decoder(self.version),
                    S => self.server_config.server_decoder(),
                };
                let _ = match to {
                    C => self.client.handle_decode_error(&e),
                    S => self.server.handle_decode_error(&e),
                };
            }
        }
    }

    fn inject(&mut self, to: Side, packet: &Packet) {
        let version = self.version_of(to);
        let mut bytes = BytesMut::new();
        if packet.encode(version, &mut bytes).is_err() {
            return;
        }
        let mut decoder = match to {
            C => Decoder::new(version),
            S => Decoder::for_server(),
        };
        let Ok(Some(packet)) = decoder.decode(&mut bytes) else {
            return;
        };
        match &packet {
            Packet::PubRel(rel) => {
                // The receiver forgets the QoS 2 message: its sender's copy may come again.
                for m in &mut self.msgs {
                    if m.from == to.peer() && m.id == Some(rel.packet_id.get()) {
                        m.exempt = true;
                    }
                }
            }
            Packet::Connect(_) | Packet::ConnAck(_) => {
                self.exempt_all();
                self.track[to.i()].confused = true;
            }
            _ => {}
        }
        trace!(self, "inject into {to:?}: {packet:?}");
        self.injecting = true;
        let _ = match to {
            C => self.client.handle_incoming(self.now, packet),
            S => self.server.handle_incoming(self.now, packet),
        };
        self.events();
        self.injecting = false;
    }

    /// Moves what both engines send onto the link, checking each packet.
    fn flush(&mut self) {
        for from in [C, S] {
            let mut buf = BytesMut::new();
            loop {
                let result = match from {
                    C => self.client.poll_transmit_into(self.now, &mut buf),
                    S => self.server.poll_transmit_into(self.now, &mut buf),
                };
                match result {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(e) => {
                        let confused = self.track[S.i()].confused || self.track[C.i()].confused;
                        assert!(confused, "the {from:?} cannot encode what it sends: {e}");
                        trace!(self, "  {from:?} cannot encode a packet: {e}");
                        self.track[from.i()].lost_packet = true;
                        continue;
                    }
                }
                let bytes = buf.split().freeze();
                self.sent(from, &bytes);
                match from {
                    C => self.to_server.push_back(bytes),
                    S => self.to_client.push_back(bytes),
                }
            }
        }
    }

    fn sent(&mut self, from: Side, bytes: &Bytes) {
        let decoded = Packet::decode(bytes, self.version_of(from));
        trace!(self, "  {from:?} sends {decoded:?}");
        let Ok((Packet::Publish(p), _)) = decoded else {
            return;
        };
        let Some(id) = p.qos.packet_id().map(PacketId::get) else {
            assert!(!p.dup, "QoS 0 PUBLISH with DUP [MQTT-3.3.1-2]");
            return;
        };
        let Some(&m) = self.by_payload.get(&p.payload) else {
            panic!("the {from:?} sent a message never published: {p:?}");
        };
        let msg = &self.msgs[m];
        assert_eq!(msg.from, from, "{p:?}");
        let t = &mut self.track[from.i()];
        assert!(
            msg.id == Some(id) && t.outstanding.get(&id) == Some(&m),
            "the {from:?} sent {msg:?} as id {id} [MQTT-2.2.1-3]; outstanding: {:?}",
            t.outstanding.get(&id)
        );
        let lost_packet = t.lost_packet;
        assert!(
            p.dup == msg.sent || (lost_packet && p.dup),
            "DUP {} on {msg:?} [MQTT-3.3.1-1]",
            p.dup
        );
        self.msgs[m].sent = true;
        t.sent_unacked.insert(id);
        let quota = t.quota.map_or(0, usize::from);
        assert!(
            t.sent_unacked.len() <= quota,
            "the {from:?} has {:?} unacknowledged, the peer's Receive Maximum is {quota} \
             [MQTT-4.9.0-2]",
            t.sent_unacked
        );
    }

    /// Answers the server's requests as a broker and checks every new event.
    fn events(&mut self) {
        while let Some(event) = self.client.poll_event() {
            self.event(C, event);
        }
        while let Some(event) = self.server.poll_event() {
            match &event {
                Event::ConnectRequest(_) => {
                    // The engine drops the kept session itself on a clean start, reporting
                    // each message. A failed `accept` hands the session back untouched:
                    // keep it for the client's next attempt.
                    let session = self.stored.take();
                    let accepted = self.server.accept(session, ConnAckProperties::default());
                    trace!(self, "Server accepts: {accepted:?}");
                    if let Err(e) = accepted {
                        self.stored = e.into_session();
                        let _ = self.server.reject(ConnectReasonCode::UnspecifiedError);
                    }
                }
                Event::Subscribe(s) => {
                    let codes = s
                        .subscriptions
                        .iter()
                        .map(|sub| match sub.options.qos {
                            QoS::AtMostOnce => SubAckReasonCode::GrantedQoS0,
                            QoS::AtLeastOnce => SubAckReasonCode::GrantedQoS1,
                            QoS::ExactlyOnce => SubAckReasonCode::GrantedQoS2,
                        })
                        .collect();
                    let _ = self
                        .server
                        .suback(s.packet_id, codes, AckProperties::default());
                }
                Event::Unsubscribe(un) => {
                    let codes = if self.server.protocol_version().is_v5() {
                        vec![UnsubAckReasonCode::Success; un.filters.len()]
                    } else {
                        Vec::new()
                    };
                    let _ = self
                        .server
                        .unsuback(un.packet_id, codes, AckProperties::default());
                }
                _ => {}
            }
            self.event(S, event);
        }
    }

    fn event(&mut self, side: Side, event: Event) {
        trace!(self, "  {side:?} event: {event:?}");
        let t = &mut self.track[side.i()];
        match event {
            Event::Connected(c) => {
                t.quota = Some(c.send_quota);
                t.sent_unacked.clear();
            }
            Event::Disconnected(_) => {
                t.quota = None;
                t.sent_unacked.clear();
            }
            Event::Message(p) => {
                if let Some(id) = p.qos.packet_id() {
                    t.received.push(id.get());
                    if t.received.len() > 64 {
                        t.received.remove(0);
                    }
                }
                if self.injecting {
                    return;
                }
                let Some(&m) = self.by_payload.get(&p.payload) else {
                    panic!("the {side:?} got a message never published: {p:?}");
                };
                let msg = &mut self.msgs[m];
                msg.delivered += 1;
                assert!(
                    msg.qos != QoS::ExactlyOnce || msg.exempt || msg.delivered == 1,
                    "the {side:?} got QoS 2 {msg:?} again [MQTT-4.3.3-10, 3.1.1 MQTT-4.3.3-2]"
                );
            }
            Event::PublishAcknowledged { packet_id, .. }
            | Event::PublishCompleted { packet_id }
            | Event::PublishFailed { packet_id, .. }
            | Event::PublishDropped { packet_id, .. } => {
                let id = packet_id.get();
                assert!(
                    t.outstanding.remove(&id).is_some(),
                    "the {side:?} finished id {id}, not outstanding: {event:?}"
                );
                t.sent_unacked.remove(&id);
            }
            Event::Subscribed(ack) => {
                t.requests.remove(&ack.packet_id.get());
            }
            Event::Unsubscribed(ack) => {
                t.requests.remove(&ack.packet_id.get());
            }
            Event::RequestDropped { packet_id } => {
                t.requests.remove(&packet_id.get());
            }
            _ => {}
        }
    }

    /// After every operation: events, then what they made the engines send, then the
    /// Receive Maximum through the API.
    fn after(&mut self) {
        self.events();
        self.flush();
        self.events();
        for (side, in_flight) in [(C, self.client.in_flight()), (S, self.server.in_flight())] {
            let quota = self.track[side.i()].quota.map_or(0, usize::from);
            assert!(
                in_flight <= quota,
                "the {side:?} has {in_flight} in flight, the peer's Receive Maximum is \
                 {quota} [MQTT-4.9.0-2]"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(mut driver) = Driver::new(&mut u) else {
        return;
    };
    driver.connect(false);
    driver.after();
    for _ in 0..MAX_OPS {
        if u.is_empty() || driver.op(&mut u).is_err() {
            break;
        }
        driver.after();
    }
});
