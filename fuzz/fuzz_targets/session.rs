//! `session`: a client and a server session engine on a simulated link, driven by a
//! fuzz-chosen sequence of operations, some of which feed arbitrary packets to either side.
//!
//! Input, read with `arbitrary::Unstructured`:
//! - 1 byte: the protocol level (even: MQTT 3.1.1, odd: 5.0);
//! - per side (client, then server): Receive Maximum (`1 + byte % 4` at 5.0; the default
//!   65,535 at 3.1.1, which has none), manual acknowledgement (a bool) and Topic Alias
//!   Maximum (`byte % 3`, 5.0 only);
//! - then operations until the input runs out (at most 512), each a byte choosing one of:
//!   publish (side, QoS, topic, retain, and a byte: bit 0 a big payload, bit 1 a property
//!   3.1.1 cannot carry) with a payload unique in the run; deliver the next packet to a
//!   side; duplicate the next packet to a side (`1 + byte % 16` copies: a retransmission
//!   flood); drop the link (the broker keeps the session); connect (Clean Start from a
//!   byte, 1 in 8 a clean start) on a link that has none yet; advance virtual time (`u16`
//!   milliseconds); acknowledge a received message (one the application got, picked by a
//!   byte, or any `u16` identifier); subscribe or unsubscribe (client); disconnect (either
//!   side, with a reason code byte); inject a `Packet` from mqttwire's `Arbitrary`
//!   implementation into a side's `handle_incoming` as that side's `Decoder` gives it:
//!   encoded and decoded at the side's level (a packet that does not round-trip, so could
//!   not come off the wire, is not injected); drop the link and change the next links'
//!   limits (a byte: switch the protocol version 3.1.1 <-> 5.0 on the same session, each
//!   side's Receive Maximum and whether its Maximum Packet Size is small, 128 bytes, at
//!   5.0; whether both sessions go through `SessionState::save` and `restore` at every
//!   link drop); set the broker's manner (a byte: answer each CONNECT at once or only on
//!   the next operation, and fail `accept` 0 to 2 times first); answer the CONNECT the
//!   broker deferred; acknowledge one of a side's unfinished messages with the wrong kind
//!   of packet (side, a byte picking message and kind); a client CONNECT of a protocol
//!   level byte to a new server engine; the broker refusing the client's 5.0 CONNECT as a
//!   3.1.1-only broker does (`20 02 00 01`), after which the links speak 3.1.1.
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
//!   request not yet finished (as the events report them), nor, unless an injected CONNECT
//!   or CONNACK confused the side, that of a QoS 2 PUBLISH it sent whose PUBCOMP or failing
//!   PUBREC has not arrived (the peer may still hold it, also when the message was dropped
//!   on a resume); every PUBLISH sent carries its own message's identifier;
//! - DUP is set exactly on the PUBLISH packets that are resends ([MQTT-3.3.1-1]) and never
//!   at QoS 0 ([MQTT-3.3.1-2]) (after a packet of a side failed to encode, which only an
//!   injected CONNECT or CONNACK allows, a DUP on that side's messages is not checked: the
//!   engine counts the lost packet as sent);
//! - never more unacknowledged QoS 1 and 2 PUBLISH than the peer's Receive Maximum, the
//!   `send_quota` of the side's last `Connected` event (5.0 [MQTT-4.9.0-2]): `in_flight()`
//!   (beyond PUBRELs awaiting PUBCOMP, which go out whatever the quota, [MQTT-3.3.4-8]),
//!   and the distinct identifiers of the PUBLISH packets sent on the connection whose
//!   acknowledgement, failure or drop the events have not reported yet;
//! - what a side keeps of its peer's QoS 2 messages (`incomplete_incoming()`) stays within
//!   the largest Receive Maximum it announced, whatever the peer repeats;
//! - until an injected CONNECT or CONNACK may have changed a side's protocol level, every
//!   packet an engine sends encodes within the peer's limit and decodes on the other side;
//! - `SessionState::restore` of a `save` saves the same bytes;
//! - a failed `accept` sends nothing, reports nothing and hands back the session it was
//!   given, unchanged; a CONNECT the broker answered late, after packets arrived behind it,
//!   ends exactly as if it had been accepted at once and those packets arrived afterwards
//!   (same bytes sent, same events), for a CONNECT that came over the link;
//! - an acknowledgement of the wrong kind (PUBACK for a QoS 2 message, PUBCOMP before
//!   PUBREC, PUBREC or PUBCOMP for a QoS 1 message) ends the connection as a protocol
//!   violation, finishes nothing and frees no identifier (5.0 [MQTT-4.3.2-3],
//!   [MQTT-4.3.3-3]; 3.1.1 [MQTT-4.3.2-1], [MQTT-4.3.3-1]);
//! - a CONNECT of a protocol level other than 3, 4 and 5 gets `20 02 00 01` and the
//!   connection ends as a refusal (3.1.1 MQTT-3.1.2-2); a 5.0 client refused with those
//!   bytes reports `Refused` with 0x84, sends nothing back and keeps its session as it was.

#![no_main]

use arbitrary::{Arbitrary, Result, Unstructured};
use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use mqttwire::properties::{AckProperties, ConnAckProperties};
use mqttwire::session::{
    Client, DisconnectCause, Event, Instant, Server, SessionConfig, SessionState,
};
use mqttwire::{
    Connect, ConnectReasonCode, Decoder, Disconnect, DisconnectReasonCode, MqttString, Packet,
    PacketId, ProtocolVersion, PubAck, PubComp, PubRec, Publish, QoS, QosPid, SubAckReasonCode,
    Subscription, TopicFilter, TopicName, UnsubAckReasonCode,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::num::{NonZeroU16, NonZeroU32};
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
/// A small Maximum Packet Size: a big message does not fit it.
const SMALL_PACKETS: u32 = 128;
const BIG_PADDING: usize = 200;
/// What a 3.1.1 server answers a CONNECT of a level it does not speak.
const V311_REFUSAL: [u8; 4] = [0x20, 0x02, 0x00, 0x01];

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
    /// Identifiers of QoS 2 PUBLISH packets sent whose PUBCOMP or failing PUBREC has not
    /// arrived: the peer may hold them (across connections, also once the message was
    /// reported dropped).
    peer_holds: BTreeSet<u16>,
    /// Identifiers whose PUBREL was sent and whose PUBCOMP has not arrived.
    released: BTreeSet<u16>,
    /// The peer's Receive Maximum on this connection (the last `Connected` event).
    quota: Option<u16>,
    /// The largest Receive Maximum this side announced in the session.
    max_receive_maximum: usize,
    /// Identifiers of received QoS 1 and 2 messages, for `ack` (the last 64).
    received: Vec<u16>,
    /// The protocol level or limits may differ from the other side's (an injected CONNECT
    /// or CONNACK).
    confused: bool,
    /// A packet failed to encode: a message may count as sent without the driver seeing it.
    lost_packet: bool,
}

/// A CONNECT the broker has not answered yet, and what arrived behind it.
struct Pending {
    connect: Box<Connect>,
    /// It came over the link (not injected): its twin can be replayed.
    from_link: bool,
    held: Vec<Packet>,
}

struct Driver {
    version: ProtocolVersion,
    now: Instant,
    client: Client,
    server: Server,
    /// The configurations of the next links (manual acks and aliases never change).
    base: [SessionConfig; 2],
    server_config: SessionConfig,
    to_server: VecDeque<Bytes>,
    to_client: VecDeque<Bytes>,
    client_decoder: Decoder,
    server_decoder: Decoder,
    /// The session the broker keeps for the client between links, when no engine has it.
    stored: Option<SessionState>,
    /// The client has sent its CONNECT on this link.
    connected_once: bool,
    /// A CONNECT reached the server engine of this link.
    server_got_connect: bool,
    /// The client's connection on this link ended (it no longer awaits a CONNACK).
    client_ended: bool,
    /// Sessions go through `save` and `restore` at every link drop.
    restore: bool,
    /// The broker answers a CONNECT only on the next "answer" operation.
    defer: bool,
    /// Each answer first fails this many times.
    failing: u8,
    pending: Option<Pending>,
    msgs: Vec<Msg>,
    by_payload: HashMap<Bytes, usize>,
    track: [Track; 2],
    /// Events are being caused by an injected packet: deliveries do not count.
    injecting: bool,
    /// Print every operation, packet and event (`SESSION_FUZZ_TRACE` set).
    trace: bool,
}

/// The bytes `save` writes for `state`.
fn saved(state: &SessionState) -> Vec<u8> {
    let mut buf = BytesMut::new();
    state.save(&mut buf).expect("a session's own state saves");
    buf.to_vec()
}

/// What `restore` makes of `state`'s `save`, which must save as the same bytes.
fn roundtrip(state: &SessionState) -> SessionState {
    let bytes = saved(state);
    let restored = SessionState::restore(&bytes).expect("a saved session restores");
    assert_eq!(
        saved(&restored),
        bytes,
        "restore(save(s)) saves differently"
    );
    restored
}

/// A CONNECT named "MQTT" of protocol level `level`, Clean Start, client identifier "c".
fn connect_bytes(level: u8) -> Vec<u8> {
    let mut body = vec![0x00, 0x04, b'M', b'Q', b'T', b'T', level, 0x02, 0x00, 0x3C];
    body.extend([0x00, 0x01, b'c']);
    let mut bytes = vec![0x10, body.len() as u8];
    bytes.extend(body);
    bytes
}

impl Driver {
    fn new(u: &mut Unstructured) -> Result<Self> {
        let version = if u8::arbitrary(u)? % 2 == 0 {
            ProtocolVersion::V3_1_1
        } else {
            ProtocolVersion::V5
        };
        let mut configs = [SessionConfig::default(), SessionConfig::default()];
        let mut receive_maximum = [0; 2];
        for (config, rm) in configs.iter_mut().zip(&mut receive_maximum) {
            *rm = 1 + u16::from(u8::arbitrary(u)? % 4);
            config.manual_acks = bool::arbitrary(u)?;
            config.topic_alias_maximum = u16::from(u8::arbitrary(u)? % 3);
        }
        let base = configs.clone();
        for (config, rm) in configs.iter_mut().zip(receive_maximum) {
            if version.is_v5() {
                config.receive_maximum = NonZeroU16::new(rm).unwrap();
            } else {
                config.topic_alias_maximum = 0;
            }
        }
        let [client_config, server_config] = configs;
        let mut track: [Track; 2] = Default::default();
        track[C.i()].max_receive_maximum = usize::from(client_config.receive_maximum.get());
        track[S.i()].max_receive_maximum = usize::from(server_config.receive_maximum.get());
        Ok(Self {
            version,
            now: Instant::from_millis(1_000),
            client_decoder: client_config.client_decoder(version),
            server_decoder: server_config.server_decoder(),
            client: Client::new(client_config),
            server: Server::new(server_config.clone()),
            base,
            server_config,
            to_server: VecDeque::new(),
            to_client: VecDeque::new(),
            stored: None,
            connected_once: false,
            server_got_connect: false,
            client_ended: false,
            restore: false,
            defer: false,
            failing: 0,
            pending: None,
            msgs: Vec::new(),
            by_payload: HashMap::new(),
            track,
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

    fn connected(&self, side: Side) -> bool {
        match side {
            C => self.client.is_connected(),
            S => self.server.is_connected(),
        }
    }

    fn op(&mut self, u: &mut Unstructured) -> Result<()> {
        match u.choose_index(20)? {
            0 | 1 => {
                let from = Side::arbitrary(u)?;
                let qos =
                    [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce][u.choose_index(3)?];
                let topic = TOPICS[u.choose_index(TOPICS.len())?];
                let retain = u.ratio(1, 8)?;
                let shape = u8::arbitrary(u)?;
                self.publish(from, qos, topic, retain, shape);
            }
            2..=4 => self.deliver(Side::arbitrary(u)?),
            5 => {
                self.flush();
                let side = Side::arbitrary(u)?;
                let copies = 1 + u8::arbitrary(u)? % 16;
                let link = match side {
                    C => &mut self.to_client,
                    S => &mut self.to_server,
                };
                if let Some(bytes) = link.front().cloned() {
                    for _ in 0..copies {
                        link.push_front(bytes.clone());
                    }
                    trace!(
                        self,
                        "the next packet to {side:?} arrives {copies} more times"
                    );
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
                    assert!(
                        t.confused || !t.peer_holds.contains(&id.get()),
                        "request got identifier {id:?}, which the server may still hold \
                         [MQTT-2.2.1-3]"
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
            12 | 13 => {
                let to = Side::arbitrary(u)?;
                let packet = Packet::arbitrary(u)?;
                self.inject(to, &packet);
            }
            14 => {
                let limits = u8::arbitrary(u)?;
                let receive_maximum = u8::arbitrary(u)?;
                self.relink(limits, receive_maximum);
            }
            15 => {
                let manner = u8::arbitrary(u)?;
                self.defer = manner & 1 != 0;
                self.failing = (manner >> 1) % 3;
                trace!(
                    self,
                    "the broker answers {}, failing {} times first",
                    if self.defer { "late" } else { "at once" },
                    self.failing
                );
            }
            16 => self.answer_deferred(),
            17 => {
                let side = Side::arbitrary(u)?;
                let pick = u8::arbitrary(u)?;
                self.wrong_ack(side, pick);
            }
            18 => self.unsupported_level(u8::arbitrary(u)?),
            _ => self.refused_by_a_3_1_1_broker(),
        }
        Ok(())
    }

    fn publish(&mut self, from: Side, qos: QoS, topic: &str, retain: bool, shape: u8) {
        let n = self.msgs.len();
        let mut text = format!("{from:?}-{n}");
        if shape & 1 != 0 {
            text.push_str(&".".repeat(BIG_PADDING));
        }
        let payload = Bytes::from(text);
        let mut message = Publish::new(TopicName::new(topic).unwrap(), payload.clone());
        message.retain = retain;
        if shape & 2 != 0 {
            message.properties.message_expiry_interval = Some(3_600);
        }
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
            assert!(
                t.confused || !t.peer_holds.contains(&id),
                "the {from:?} reused identifier {id}: its peer may still hold the QoS 2 \
                 PUBLISH sent with it, no PUBCOMP came back [MQTT-2.2.1-3]"
            );
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
            self.client_ended = false;
            if clean_start {
                // The server may still resume the old session if this CONNECT is lost.
                self.exempt_all();
                // The client forgot its identifiers; that the server may still hold them
                // (if this CONNECT is lost) is what a clean start risks.
                let t = &mut self.track[C.i()];
                t.peer_holds.clear();
                t.released.clear();
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
        self.pending = None;
        if self.restore {
            trace!(self, "both sessions go through save and restore");
            self.stored = self.stored.as_ref().map(roundtrip);
            let session = roundtrip(&self.client.take_session());
            self.client = Client::with_session(self.client.config().clone(), session);
        }
        self.server = Server::new(self.server_config.clone());
        self.client_decoder = self.client.config().client_decoder(self.version);
        self.server_decoder = self.server_config.server_decoder();
        self.connected_once = false;
        self.server_got_connect = false;
        self.track[S.i()].confused = false;
        self.track[C.i()].confused = false;
    }

    /// Drops the link; the next ones have the limits `limits` and `receive_maximum` say.
    fn relink(&mut self, limits: u8, receive_maximum: u8) {
        if limits & 1 != 0 {
            self.version = if self.version.is_v5() {
                ProtocolVersion::V3_1_1
            } else {
                ProtocolVersion::V5
            };
        }
        self.restore = limits & 2 != 0;
        let v5 = self.version.is_v5();
        let mut configs = self.base.clone();
        for side in [C, S] {
            let config = &mut configs[side.i()];
            // Receive Maximum and Maximum Packet Size are announced at 5.0 only.
            if v5 {
                let rm = 1 + u16::from(receive_maximum >> (4 * side.i()) & 3);
                config.receive_maximum = NonZeroU16::new(rm).unwrap();
                if limits & (4 << side.i()) != 0 {
                    config.maximum_packet_size = NonZeroU32::new(SMALL_PACKETS).unwrap();
                }
            } else {
                config.topic_alias_maximum = 0;
            }
        }
        trace!(
            self,
            "the next links: {:?}, configurations {configs:?}, save and restore {}",
            self.version,
            self.restore
        );
        self.drop_link();
        self.install(configs);
    }

    /// Between links: the client goes on with its session and `configs[0]`, the broker
    /// with `configs[1]`.
    fn install(&mut self, configs: [SessionConfig; 2]) {
        for side in [C, S] {
            let t = &mut self.track[side.i()];
            let announced = usize::from(configs[side.i()].receive_maximum.get());
            t.max_receive_maximum = t.max_receive_maximum.max(announced);
        }
        let [client_config, server_config] = configs;
        let session = self.client.take_session();
        self.client = Client::with_session(client_config, session);
        self.server_config = server_config;
        self.server = Server::new(self.server_config.clone());
        self.client_decoder = self.client.config().client_decoder(self.version);
        self.server_decoder = self.server_config.server_decoder();
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
                self.before_handling(to, &packet);
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

    /// Tracking of a packet `to` is about to handle: what it holds for the deferred
    /// CONNECT, and the identifiers a PUBCOMP frees.
    fn before_handling(&mut self, to: Side, packet: &Packet) {
        if to == S {
            if let Some(pending) = &mut self.pending {
                pending.held.push(packet.clone());
            }
            if matches!(packet, Packet::Connect(_)) {
                self.server_got_connect = true;
            }
        }
        if let Packet::PubComp(comp) = packet {
            if self.connected(to) {
                let t = &mut self.track[to.i()];
                let id = comp.packet_id.get();
                if t.released.remove(&id) {
                    t.peer_holds.remove(&id);
                }
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
        self.before_handling(to, &packet);
        if let Some(pending) = &mut self.pending {
            if to == S && matches!(packet, Packet::Connect(_)) {
                // The twin replays what came over the link only.
                pending.from_link = false;
            }
        }
        self.injecting = true;
        let _ = match to {
            C => self.client.handle_incoming(self.now, packet),
            S => self.server.handle_incoming(self.now, packet),
        };
        self.events();
        self.injecting = false;
    }

    /// The peer acknowledges one of `side`'s unfinished messages with a packet of the
    /// wrong kind: the connection must end as a violation, the message stay unfinished and
    /// its identifier in use.
    fn wrong_ack(&mut self, side: Side, pick: u8) {
        self.events();
        let t = &self.track[side.i()];
        if !self.connected(side) || t.confused || t.outstanding.is_empty() {
            return;
        }
        let targets: Vec<(u16, usize)> = t.outstanding.iter().map(|(&id, &m)| (id, m)).collect();
        let (id, m) = targets[usize::from(pick & 0x7f) % targets.len()];
        let pid = PacketId::new(id).unwrap();
        let alternative = pick & 0x80 != 0;
        let packet = match (self.msgs[m].qos, t.released.contains(&id)) {
            (QoS::AtLeastOnce, _) if alternative => Packet::PubRec(PubRec::new(pid)),
            (QoS::AtLeastOnce, _) => Packet::PubComp(PubComp::new(pid)),
            (_, false) if alternative => Packet::PubComp(PubComp::new(pid)),
            _ => Packet::PubAck(PubAck::new(pid)),
        };
        trace!(self, "wrong acknowledgement into {side:?}: {packet:?}");
        let result = match side {
            C => self.client.handle_incoming(self.now, packet.clone()),
            S => self.server.handle_incoming(self.now, packet.clone()),
        };
        self.events();
        let kept = match side {
            C => self.client.session().unacknowledged_ids().any(|i| i == pid),
            S => self.server.session().unacknowledged_ids().any(|i| i == pid),
        };
        assert!(
            result.is_err() && !self.connected(side),
            "the {side:?} took {packet:?} for {:?} without ending the connection: {result:?} \
             (5.0 MQTT-4.3.2-3, MQTT-4.3.3-3; 3.1.1 MQTT-4.3.2-1, MQTT-4.3.3-1)",
            self.msgs[m]
        );
        assert!(
            kept && self.track[side.i()].outstanding.get(&id) == Some(&m),
            "the {side:?} finished {:?} or freed its identifier on {packet:?}",
            self.msgs[m]
        );
    }

    /// A client CONNECT of protocol level `level` to a server engine of its own: a level
    /// other than 3, 4 and 5 is refused with `20 02 00 01` (3.1.1 MQTT-3.1.2-2).
    fn unsupported_level(&mut self, level: u8) {
        if (3..=5).contains(&level) {
            return;
        }
        let mut server = Server::new(self.server_config.clone());
        let mut decoder = self.server_config.server_decoder();
        let mut bytes = BytesMut::from(&connect_bytes(level)[..]);
        let Err(e) = decoder.decode(&mut bytes) else {
            panic!("a CONNECT of level {level} decoded");
        };
        let _ = server.handle_decode_error(&e);
        let mut buf = BytesMut::new();
        let mut sent = Vec::new();
        while let Some(n) = server.poll_transmit_into(self.now, &mut buf).unwrap() {
            sent.push(buf.split_to(n).to_vec());
        }
        let events: Vec<Event> = std::iter::from_fn(|| server.poll_event()).collect();
        trace!(self, "a CONNECT of level {level}: {sent:02x?}, {events:?}");
        assert_eq!(
            sent,
            [V311_REFUSAL.to_vec()],
            "a CONNECT of level {level} [3.1.1 MQTT-3.1.2-2]"
        );
        assert_eq!(
            events,
            [Event::Disconnected(DisconnectCause::Rejected(
                ConnectReasonCode::UnsupportedProtocolVersion
            ))]
        );
    }

    /// The client's 5.0 CONNECT on this link meets a broker that speaks only 3.1.1, which
    /// answers `20 02 00 01`: the client reports the refusal, sends nothing back and keeps
    /// its session; it connects at 3.1.1 from now on, on the same session.
    fn refused_by_a_3_1_1_broker(&mut self) {
        self.flush();
        self.events();
        let connecting = self.connected_once
            && !self.client_ended
            && !self.connected(C)
            && !self.track[C.i()].confused;
        if !connecting || !self.version.is_v5() || self.server_got_connect {
            return;
        }
        self.events();
        trace!(self, "a 3.1.1 broker refuses the 5.0 CONNECT");
        let before = saved(self.client.session());
        let mut bytes = BytesMut::from(&V311_REFUSAL[..]);
        let _ = match self.client_decoder.decode(&mut bytes) {
            Ok(Some(packet)) => self.client.handle_incoming(self.now, packet),
            Ok(None) => unreachable!("four bytes are a whole CONNACK"),
            Err(e) => Err(self.client.handle_decode_error(&e)),
        };
        let mut buf = BytesMut::new();
        let mut sent = Vec::new();
        while let Some(n) = self.client.poll_transmit_into(self.now, &mut buf).unwrap() {
            sent.push(buf.split_to(n).to_vec());
        }
        let events: Vec<Event> = std::iter::from_fn(|| self.client.poll_event()).collect();
        assert!(
            sent.is_empty(),
            "a 5.0 client answered a 3.1.1 broker's refusal with {sent:02x?}"
        );
        assert!(
            matches!(&events[..], [Event::Disconnected(DisconnectCause::Refused(ack))]
                if ack.reason_code == ConnectReasonCode::UnsupportedProtocolVersion),
            "a 5.0 client refused with 20 02 00 01 reported {events:?} [3.1.1 MQTT-3.1.2-2]"
        );
        assert_eq!(
            saved(self.client.session()),
            before,
            "the refusal changed the session"
        );
        for event in events {
            self.event(C, event);
        }
        self.drop_link();
        self.version = ProtocolVersion::V3_1_1;
        let mut configs = self.base.clone();
        for config in &mut configs {
            config.topic_alias_maximum = 0;
        }
        self.install(configs);
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
        let p = match decoded {
            Ok((Packet::Publish(p), _)) => p,
            Ok((Packet::PubRel(rel), _)) => {
                self.track[from.i()].released.insert(rel.packet_id.get());
                return;
            }
            _ => return,
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
        if matches!(p.qos, QosPid::ExactlyOnce(_)) {
            t.peer_holds.insert(id);
        }
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
            self.server_event(event);
        }
    }

    /// A server event: the broker answers, then the event is checked.
    fn server_event(&mut self, event: Event) {
        match &event {
            Event::ConnectRequest(connect) if self.defer => {
                trace!(self, "  Server event: {event:?} (answered later)");
                self.pending = Some(Pending {
                    connect: connect.clone(),
                    from_link: !self.injecting,
                    held: Vec::new(),
                });
            }
            Event::ConnectRequest(connect) => {
                let connect = connect.clone();
                // The engine drops the kept session itself on a clean start, reporting
                // each message. A failed `accept` hands the session back untouched: the
                // broker keeps it for the client's next attempt.
                let session = self.stored.take();
                self.accept(&connect, session);
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

    /// The broker's answer to `connect`: `failing` refused attempts, each of which must
    /// send and report nothing and hand `session` back unchanged, then the real one; when
    /// that fails too, the broker keeps the session it handed back and refuses the
    /// connection. Returns whether the connection was accepted.
    fn accept(&mut self, connect: &Connect, mut session: Option<SessionState>) -> bool {
        // An Authentication Method makes the answer part of an exchange the driver does
        // not play; refused properties are only certain without one.
        let refusable = connect.properties.authentication_method().is_none();
        for attempt in 0..self.failing {
            if !refusable {
                break;
            }
            let mut properties = ConnAckProperties::default();
            if self.server.protocol_version().is_v5() {
                let method = MqttString::new("none-such").unwrap();
                properties.set_authentication_method(Some(method));
            } else {
                properties.session_expiry_interval = Some(60);
            }
            let before = session.as_ref().map(saved);
            let Err(refused) = self.server.accept(session, properties) else {
                panic!("accept took CONNACK properties it must refuse");
            };
            trace!(self, "Server accept {attempt} fails: {:?}", refused.error());
            let sent = self.server.poll_transmit(self.now);
            let event = self.server.poll_event();
            assert!(
                sent.is_none() && event.is_none(),
                "a failed accept sent {sent:?} and reported {event:?}"
            );
            session = refused.into_session();
            assert!(
                session.as_ref().map(saved) == before,
                "a failed accept did not hand back the session it was given: {} \
                 given, {:?} handed back",
                if before.is_some() { "one" } else { "none" },
                session
            );
        }
        let accepted = self.server.accept(session, ConnAckProperties::default());
        trace!(self, "Server accepts: {accepted:?}");
        match accepted {
            Ok(()) => true,
            Err(e) => {
                self.stored = e.into_session();
                let _ = self.server.reject(ConnectReasonCode::UnspecifiedError);
                false
            }
        }
    }

    /// Answers the deferred CONNECT; when it came over the link, checks that the engine
    /// ends exactly like a twin that accepted at once and then got the held packets.
    fn answer_deferred(&mut self) {
        self.events();
        let Some(pending) = self.pending.take() else {
            return;
        };
        trace!(
            self,
            "the broker answers the CONNECT, {} packets held",
            pending.held.len()
        );
        let session = self.stored.take();
        let twin_session = session.clone();
        if !self.accept(&pending.connect, session) {
            return;
        }
        let real = self.drain_server();
        let comparable = pending.from_link
            && pending.connect.properties.authentication_method().is_none()
            && !self.track[S.i()].confused;
        if comparable {
            let mut twin = Server::new(self.server_config.clone());
            let _ = twin.handle_incoming(self.now, Packet::Connect(pending.connect.clone()));
            let _ = twin.poll_event();
            twin.accept(twin_session, ConnAckProperties::default())
                .expect("the twin accepts what the broker accepted");
            for packet in &pending.held {
                let _ = twin.handle_incoming(self.now, packet.clone());
            }
            let twin = drain(&mut twin, self.now);
            assert!(
                real == twin,
                "packets held until the CONNECT was answered were handled differently \
                 from the same packets after an immediate accept:\nheld: {real:?}\ntwin: \
                 {twin:?}\nheld packets: {:?}",
                pending.held
            );
        }
        // Now in the order it happened: the events up to `Connected` (which sets the quota
        // the packets are checked against), the packets, then the events of the held
        // packets (a DISCONNECT among them ends the connection after those packets).
        let (sent, mut events) = real;
        let connected = events
            .iter()
            .position(|e| matches!(e, Event::Connected(_)))
            .map_or(0, |i| i + 1);
        let later = events.split_off(connected);
        for event in events {
            self.server_event(event);
        }
        for bytes in sent.into_iter().flatten() {
            self.sent(S, &bytes);
            self.to_client.push_back(bytes);
        }
        for event in later {
            self.server_event(event);
        }
    }

    /// What the server engine has to send and report now (a packet that fails to encode as
    /// its error).
    fn drain_server(&mut self) -> Drained {
        drain(&mut self.server, self.now)
    }

    fn event(&mut self, side: Side, event: Event) {
        trace!(self, "  {side:?} event: {event:?}");
        let t = &mut self.track[side.i()];
        match event {
            Event::Connected(c) => {
                t.quota = Some(c.send_quota);
                t.sent_unacked.clear();
                if !c.session_present {
                    // No session was resumed: the peer holds nothing of ours.
                    t.peer_holds.clear();
                    t.released.clear();
                }
            }
            Event::Disconnected(_) => {
                t.quota = None;
                t.sent_unacked.clear();
                if side == C {
                    self.client_ended = true;
                }
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
                let Some(m) = t.outstanding.remove(&id) else {
                    panic!("the {side:?} finished id {id}, not outstanding: {event:?}");
                };
                t.sent_unacked.remove(&id);
                let msg = &self.msgs[m];
                let peer_may_hold = msg.qos == QoS::ExactlyOnce && msg.sent;
                match event {
                    // The peer gave the identifier back.
                    Event::PublishCompleted { .. } | Event::PublishFailed { .. } => {
                        t.peer_holds.remove(&id);
                        t.released.remove(&id);
                    }
                    // A QoS 2 message the peer may hold stays in use until PUBCOMP.
                    Event::PublishDropped { .. } if !peer_may_hold => {
                        t.peer_holds.remove(&id);
                    }
                    _ => {}
                }
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
    /// Receive Maximum and what the sessions keep through the API.
    fn after(&mut self) {
        self.events();
        self.flush();
        self.events();
        for side in [C, S] {
            let (in_flight, incoming) = match side {
                C => (
                    self.client.in_flight(),
                    self.client.session().incomplete_incoming(),
                ),
                S => (
                    self.server.in_flight(),
                    self.server.session().incomplete_incoming(),
                ),
            };
            let t = &self.track[side.i()];
            if t.confused {
                continue;
            }
            let quota = t.quota.map_or(0, usize::from);
            // PUBRELs carried over from a link with a larger quota go out regardless.
            let allowed = quota.max(t.released.len());
            assert!(
                in_flight <= allowed,
                "the {side:?} has {in_flight} in flight, the peer's Receive Maximum is \
                 {quota} ({} PUBREL awaiting PUBCOMP) [MQTT-4.9.0-2]",
                t.released.len()
            );
            assert!(
                incoming <= t.max_receive_maximum,
                "the {side:?} keeps {incoming} QoS 2 messages awaiting PUBREL, its largest \
                 Receive Maximum is {}",
                t.max_receive_maximum
            );
        }
    }
}

/// What a server engine sent (encoded, or why it could not be) and reported.
type Drained = (Vec<std::result::Result<Bytes, String>>, Vec<Event>);

fn drain(server: &mut Server, now: Instant) -> Drained {
    let mut sent = Vec::new();
    let mut buf = BytesMut::new();
    loop {
        match server.poll_transmit_into(now, &mut buf) {
            Ok(Some(_)) => sent.push(Ok(buf.split().freeze())),
            Ok(None) => break,
            Err(e) => sent.push(Err(e.to_string())),
        }
    }
    (sent, std::iter::from_fn(|| server.poll_event()).collect())
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
