//! The server side of the paho-mqtt interop tests, and the runner for the paho side.
//!
//! [`TestBroker`] is a small MQTT broker over `std::net` built from mqttwire's sans-IO
//! [`Server`] session: one thread per TCP connection, each owning the `Server` of its
//! connection and following the run loop of `mqttwire::session` (decode, `handle_incoming`,
//! drain `poll_transmit_into` and write, drain `poll_event`, `handle_timeout` at
//! `poll_timeout`, `handle_connection_lost` on EOF or error). What connections share sits
//! behind one mutex: subscriptions, retained messages, the sessions of clients that left
//! with Clean Start 0 (or Clean Session 0), who is online, and a record of every packet and
//! event. A message for another connection travels through that connection's channel, and
//! its own thread publishes it into its own session.
//!
//! [`PahoClient`] runs `tests/paho/client.py` (paho-mqtt 2.x) with a script of steps and
//! parses the JSON line it prints per event.

#![allow(dead_code)]

use bytes::{Bytes, BytesMut};
use mqttwire::properties::{AckProperties, ConnAckProperties};
use mqttwire::session::{DisconnectCause, Event, Instant, Server, SessionConfig, SessionState};
use mqttwire::{
    Connect, Disconnect, DisconnectReasonCode, MqttString, Packet, PacketType, ProtocolVersion,
    Publish, QoS, RetainHandling, SubAckReasonCode, Subscribe, TopicFilter, TopicName,
    UnsubAckReasonCode, Unsubscribe,
};
use std::collections::{BTreeMap, HashMap};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command as Process, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread;
use std::time::Duration;

/// How long a test waits for the broker to see something.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a paho script may run in all (each of its waits has its own 5 s limit).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest a connection thread blocks in `read`, so that it sees messages routed to it.
const TICK: Duration = Duration::from_millis(5);

fn now() -> Instant {
    Instant::from(std::time::Instant::now())
}

// ------------------------------------------------------------------------------------------
// The broker
// ------------------------------------------------------------------------------------------

/// What the broker saw on one connection.
#[derive(Debug, Clone)]
pub enum Seen {
    /// A packet it received and handed to the session, as decoded.
    Received(Packet),
    /// A packet it sent: the bytes written, decoded again.
    Sent(Packet),
    /// An event the connection's `Server` session reported.
    Event(Event),
    /// An armed [`Cut`] fired: the packet did not cross, and the link went down.
    Cut(Cut),
    /// Something that should not happen (a command the session refused, bytes it produced
    /// that do not decode, ...): tests fail on these through [`TestBroker::check`].
    Fault(String),
}

/// One entry of the broker's record.
#[derive(Debug, Clone)]
pub struct Record {
    /// The connection's number, in accept order from 1.
    pub conn: u64,
    /// The client identifier (empty before the CONNECT arrived).
    pub client_id: String,
    pub seen: Seen,
}

/// A link failure to inject, once, on a client's connection: the broker closes the TCP
/// connection when a packet of this type would cross it, without handing it to the session
/// (`Receiving`) or without writing it (`Sending`), as if the network lost the packet and
/// then the connection. Recorded as [`Seen::Cut`] instead of `Received` or `Sent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    Receiving(PacketType),
    Sending(PacketType),
}

/// A subscription: filter → client, granted QoS.
#[derive(Debug, Clone)]
struct Subscription {
    filter: TopicFilter,
    client_id: String,
    qos: QoS,
    no_local: bool,
    retain_as_published: bool,
}

/// What other threads ask of a connection's thread.
enum Command {
    /// Publish this message into the session at this QoS.
    Deliver(QoS, Box<Publish>),
    /// A new connection with the same client identifier takes the session over.
    TakeOver,
}

struct Online {
    conn: u64,
    commands: Sender<Command>,
}

#[derive(Default)]
struct State {
    subscriptions: Vec<Subscription>,
    /// Topic → (QoS, message).
    retained: BTreeMap<String, (QoS, Publish)>,
    /// Sessions of clients that left and may come back (they never expire here).
    sessions: HashMap<String, SessionState>,
    online: HashMap<String, Online>,
    /// Armed link failures: client, cut, how many matching packets still pass first.
    cuts: Vec<(String, Cut, usize)>,
    records: Vec<Record>,
}

struct Shared {
    config: SessionConfig,
    state: Mutex<State>,
    /// Notified whenever `state` changes.
    changed: Condvar,
    stopping: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, conn: u64, client_id: &str, seen: Seen) {
        self.lock().records.push(Record {
            conn,
            client_id: client_id.to_owned(),
            seen,
        });
        self.changed.notify_all();
    }

    /// Registers `conn` as the connection of `client_id` and hands it the stored session
    /// unless `clean_start`. A connection already there for the client is taken over first
    /// ([MQTT-3.1.4-3] in 5.0, [MQTT-3.1.4-2] in 3.1.1): its thread closes it, stores the
    /// session, and leaves.
    fn claim(
        &self,
        client_id: &str,
        conn: u64,
        commands: Sender<Command>,
        clean_start: bool,
    ) -> Option<SessionState> {
        let mut state = self.lock();
        if let Some(old) = state.online.get(client_id) {
            let _ = old.commands.send(Command::TakeOver);
        }
        let deadline = std::time::Instant::now() + TIMEOUT;
        while state.online.contains_key(client_id) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                let fault = Seen::Fault(format!("{client_id}: take-over timed out"));
                state.records.push(Record {
                    conn,
                    client_id: client_id.to_owned(),
                    seen: fault,
                });
                break;
            }
            state = self.changed.wait_timeout(state, left).unwrap().0;
        }
        state
            .online
            .insert(client_id.to_owned(), Online { conn, commands });
        if clean_start {
            state.subscriptions.retain(|s| s.client_id != client_id);
            state.sessions.remove(client_id);
            return None;
        }
        state.sessions.remove(client_id)
    }

    /// The connection `conn` of `client_id` is over: keep its session for a later resume
    /// or forget it (and its subscriptions).
    fn release(&self, client_id: &str, conn: u64, session: Option<SessionState>) {
        let mut state = self.lock();
        if state.online.get(client_id).is_some_and(|o| o.conn == conn) {
            state.online.remove(client_id);
            match session {
                Some(session) => {
                    state.sessions.insert(client_id.to_owned(), session);
                }
                None => state.subscriptions.retain(|s| s.client_id != client_id),
            }
        }
        drop(state);
        self.changed.notify_all();
    }

    /// Hands `message` (from `from`, a client identifier, or `None` for the test itself)
    /// to every online subscriber with a matching filter, once per subscriber at the
    /// highest QoS its matching subscriptions grant, at most the message's QoS
    /// ([MQTT-3.8.4-8] in 5.0, [MQTT-3.8.4-6] in 3.1.1). Keeps it if retained.
    fn route(&self, from: Option<&str>, message: &Publish) {
        let message = owned(message);
        let qos = message.qos.qos();
        let mut state = self.lock();
        if message.retain {
            if message.payload.is_empty() {
                state.retained.remove(message.topic.as_str());
            } else {
                let key = message.topic.as_str().to_owned();
                state.retained.insert(key, (qos, message.clone()));
            }
        }
        let mut targets: BTreeMap<&str, (QoS, bool)> = BTreeMap::new();
        for sub in &state.subscriptions {
            if !sub.filter.matches(&message.topic)
                || (sub.no_local && from == Some(sub.client_id.as_str()))
            {
                continue;
            }
            let target = targets
                .entry(&sub.client_id)
                .or_insert((QoS::AtMostOnce, false));
            target.0 = target.0.max(sub.qos.min(qos));
            target.1 |= sub.retain_as_published;
        }
        for (client_id, (qos, retain_as_published)) in targets {
            if let Some(online) = state.online.get(client_id) {
                let mut copy = message.clone();
                // RETAIN 0 when forwarding (3.1.1 [MQTT-3.3.1-9]), or as published if the
                // subscription asked for it (5.0 [MQTT-3.3.1-12], [MQTT-3.3.1-13]).
                copy.retain = message.retain && retain_as_published;
                let _ = online.commands.send(Command::Deliver(qos, Box::new(copy)));
            }
        }
    }
}

/// A copy of `message` that owns its bytes, without what belongs to the connection it
/// came in on (Topic Alias, Subscription Identifiers).
fn owned(message: &Publish) -> Publish {
    let Packet::Publish(mut copy) = Packet::Publish(message.clone()).detach() else {
        unreachable!()
    };
    copy.properties.topic_alias = None;
    copy.properties
        .set_subscription_identifiers(Default::default());
    copy.dup = false;
    copy
}

/// `event` with every message, CONNECT, SUBSCRIBE or UNSUBSCRIBE owning its bytes, so that
/// recording it does not keep the connection's receive buffer alive.
fn detached(event: &Event) -> Event {
    let packet = match event {
        Event::ConnectRequest(c) => Packet::Connect(c.clone()),
        Event::Message(p) => Packet::Publish(p.clone()),
        Event::Subscribe(s) => Packet::Subscribe(s.clone()),
        Event::Unsubscribe(u) => Packet::Unsubscribe(u.clone()),
        other => return other.clone(),
    };
    match packet.detach() {
        Packet::Connect(c) => Event::ConnectRequest(c),
        Packet::Publish(p) => Event::Message(p),
        Packet::Subscribe(s) => Event::Subscribe(s),
        Packet::Unsubscribe(u) => Event::Unsubscribe(u),
        _ => unreachable!(),
    }
}

/// A broker listening on 127.0.0.1 (a free port), every connection served by a
/// [`Server`] session with the same configuration. Stops when dropped.
pub struct TestBroker {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl TestBroker {
    pub fn start(config: SessionConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a test port");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            config,
            state: Mutex::default(),
            changed: Condvar::new(),
            stopping: AtomicBool::new(false),
        });
        let accepting = Arc::clone(&shared);
        thread::spawn(move || {
            for (conn, stream) in (1..).zip(listener.incoming()) {
                if accepting.stopping.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let shared = Arc::clone(&accepting);
                thread::spawn(move || Connection::new(shared, conn, stream).run());
            }
        });
        Self { addr, shared }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Arms a one-shot link failure for `client_id` (see [`Cut`]) at the next matching
    /// packet.
    pub fn cut_link(&self, client_id: &str, cut: Cut) {
        self.cut_link_after(client_id, cut, 0);
    }

    /// Arms a one-shot link failure for `client_id` that lets `pass` matching packets
    /// through first.
    pub fn cut_link_after(&self, client_id: &str, cut: Cut, pass: usize) {
        let armed = (client_id.to_owned(), cut, pass);
        self.shared.lock().cuts.push(armed);
    }

    /// Publishes a message as if a client had: to every matching subscriber, and into the
    /// retained store if `retain`.
    pub fn publish(&self, topic: &str, payload: &str, qos: QoS, retain: bool) {
        let mut message = Publish::new(TopicName::new(topic).unwrap(), payload.to_owned());
        message.retain = retain;
        // The identifier is a stand-in: each subscriber's session allocates its own.
        message.qos = match qos {
            QoS::AtMostOnce => mqttwire::QosPid::AtMostOnce,
            QoS::AtLeastOnce => mqttwire::QosPid::AtLeastOnce(mqttwire::PacketId::MIN),
            QoS::ExactlyOnce => mqttwire::QosPid::ExactlyOnce(mqttwire::PacketId::MIN),
        };
        self.shared.route(None, &message);
    }

    /// Everything recorded so far.
    pub fn records(&self) -> Vec<Record> {
        self.shared.lock().records.clone()
    }

    /// The events the sessions of `client_id`'s connections reported, in order.
    pub fn events(&self, client_id: &str) -> Vec<Event> {
        let records = self.shared.lock();
        let mine = records.records.iter().filter(|r| r.client_id == client_id);
        mine.filter_map(|r| match &r.seen {
            Seen::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
    }

    /// The packets the broker received from `client_id`, in order.
    pub fn received(&self, client_id: &str) -> Vec<Packet> {
        self.packets(client_id, |s| match s {
            Seen::Received(p) => Some(p.clone()),
            _ => None,
        })
    }

    /// The packets the broker sent to `client_id`, in order.
    pub fn sent(&self, client_id: &str) -> Vec<Packet> {
        self.packets(client_id, |s| match s {
            Seen::Sent(p) => Some(p.clone()),
            _ => None,
        })
    }

    fn packets(&self, client_id: &str, pick: impl Fn(&Seen) -> Option<Packet>) -> Vec<Packet> {
        let state = self.shared.lock();
        let mine = state.records.iter().filter(|r| r.client_id == client_id);
        mine.filter_map(|r| pick(&r.seen)).collect()
    }

    /// The messages `client_id` published, as its sessions delivered them to the broker.
    pub fn messages(&self, client_id: &str) -> Vec<Publish> {
        let events = self.events(client_id).into_iter();
        events
            .filter_map(|e| match e {
                Event::Message(m) => Some(m),
                _ => None,
            })
            .collect()
    }

    /// Whether the broker holds a stored session for `client_id`.
    pub fn has_session(&self, client_id: &str) -> bool {
        self.shared.lock().sessions.contains_key(client_id)
    }

    /// Waits (at most [`TIMEOUT`]) until `done` holds for the record; panics otherwise.
    pub fn wait_until(&self, what: &str, mut done: impl FnMut(&[Record]) -> bool) {
        let deadline = std::time::Instant::now() + TIMEOUT;
        let mut state = self.shared.lock();
        while !done(&state.records) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                let records = state.records.clone();
                drop(state);
                panic!("timed out waiting for the broker: {what}\n{records:#?}");
            }
            state = self.shared.changed.wait_timeout(state, left).unwrap().0;
        }
    }

    /// Waits until the broker sent `count` packets of type `kind` to `client_id`.
    pub fn wait_for_sent(&self, client_id: &str, kind: PacketType, count: usize) {
        self.wait_until(
            &format!("{count} {kind:?} sent to {client_id}"),
            |records| count_sent(records, client_id, kind) >= count,
        );
    }

    /// Waits until `client_id` has no connection left.
    pub fn wait_offline(&self, client_id: &str) {
        let deadline = std::time::Instant::now() + TIMEOUT;
        let mut state = self.shared.lock();
        while state.online.contains_key(client_id) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            assert!(!left.is_zero(), "{client_id} still connected");
            state = self.shared.changed.wait_timeout(state, left).unwrap().0;
        }
    }

    /// Panics if anything went wrong on the broker's side (see [`Seen::Fault`]).
    pub fn check(&self) {
        let faults: Vec<_> = self
            .records()
            .into_iter()
            .filter(|r| matches!(r.seen, Seen::Fault(_)))
            .collect();
        assert!(faults.is_empty(), "broker faults: {faults:#?}");
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
    }
}

/// How many packets of type `kind` the broker sent to `client_id`.
pub fn count_sent(records: &[Record], client_id: &str, kind: PacketType) -> usize {
    let mine = records.iter().filter(|r| r.client_id == client_id);
    mine.filter(|r| matches!(&r.seen, Seen::Sent(p) if p.packet_type() == kind))
        .count()
}

/// One client connection: its thread, its socket and its `Server` session.
struct Connection {
    shared: Arc<Shared>,
    conn: u64,
    stream: TcpStream,
    server: Server,
    decoder: mqttwire::Decoder,
    input: BytesMut,
    output: BytesMut,
    commands: Sender<Command>,
    inbox: Receiver<Command>,
    client_id: String,
    clean_start: bool,
    /// Whether the session outlives the connection (Clean Session 0, or Session Expiry
    /// Interval above 0 in 5.0).
    persistent: bool,
    /// The session ended the connection: send what is left, then close.
    ending: bool,
    /// The transport is gone.
    lost: bool,
}

impl Connection {
    fn new(shared: Arc<Shared>, conn: u64, stream: TcpStream) -> Self {
        let config = shared.config.clone();
        let (commands, inbox) = mpsc::channel();
        let _ = stream.set_nodelay(true);
        Self {
            shared,
            conn,
            stream,
            decoder: config.server_decoder(),
            server: Server::new(config),
            input: BytesMut::with_capacity(4096),
            output: BytesMut::with_capacity(4096),
            commands,
            inbox,
            client_id: String::new(),
            clean_start: true,
            persistent: false,
            ending: false,
            lost: false,
        }
    }

    fn run(mut self) {
        let mut chunk = [0u8; 4096];
        while !self.ending && !self.lost && !self.shared.stopping.load(Ordering::Relaxed) {
            while let Ok(command) = self.inbox.try_recv() {
                self.command(command);
            }
            self.pump();
            if self.ending || self.lost {
                break;
            }
            let before = now();
            let wait = self
                .server
                .poll_timeout()
                .map_or(TICK, |t| t.saturating_duration_since(before))
                .clamp(Duration::from_millis(1), TICK);
            let _ = self.stream.set_read_timeout(Some(wait));
            match self.stream.read(&mut chunk) {
                Ok(0) => self.link_lost(),
                Ok(n) => {
                    self.input.extend_from_slice(&chunk[..n]);
                    self.decode();
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => self.link_lost(),
            }
            self.server.handle_timeout(now());
        }
        self.finish();
    }

    /// Hands every whole packet in the input buffer to the session, handling what each
    /// one causes before the next (delivered messages borrow the buffer).
    fn decode(&mut self) {
        while !self.ending && !self.lost {
            match self.decoder.decode(&mut self.input) {
                Ok(Some(packet)) => self.incoming(packet),
                Ok(None) => return,
                Err(error) => {
                    // Bytes from paho that mqttwire refuses: an interop finding either way.
                    self.fault(format!("decoding the client's bytes: {error}"));
                    self.server.handle_decode_error(&error);
                    self.pump();
                    return;
                }
            }
        }
    }

    fn incoming(&mut self, packet: Packet) {
        if let Packet::Connect(connect) = &packet {
            self.client_id = connect.client_id.as_str().to_owned();
        }
        if self.take_cut(Cut::Receiving(packet.packet_type())) {
            return self.link_lost();
        }
        self.record(Seen::Received(packet.detach()));
        // A violation also comes out as `Event::Disconnected`.
        let _ = self.server.handle_incoming(now(), packet);
        self.pump();
    }

    /// Sends what the session has to send, then handles its events, until neither has more.
    fn pump(&mut self) {
        loop {
            self.transmit();
            let Some(event) = self.server.poll_event() else {
                return;
            };
            self.event(event);
        }
    }

    fn transmit(&mut self) {
        while !self.lost {
            self.output.clear();
            match self.server.poll_transmit_into(now(), &mut self.output) {
                Ok(Some(_)) => {}
                Ok(None) => return,
                Err(e) => return self.fault(format!("poll_transmit_into: {e}")),
            }
            let bytes = Bytes::copy_from_slice(&self.output);
            let packet = match Packet::decode(&bytes, self.server.protocol_version()) {
                Ok((packet, n)) if n == bytes.len() => packet,
                other => return self.fault(format!("sent bytes {bytes:02x?} decode as {other:?}")),
            };
            if self.take_cut(Cut::Sending(packet.packet_type())) {
                return self.link_lost();
            }
            self.record(Seen::Sent(packet));
            if self.stream.write_all(&self.output).is_err() {
                self.link_lost();
            }
        }
    }

    fn event(&mut self, event: Event) {
        self.record(Seen::Event(detached(&event)));
        match event {
            Event::ConnectRequest(connect) => self.connect(&connect),
            Event::Connected(connected) => {
                self.persistent = if connected.protocol_version.is_v5() {
                    connected.session_expiry_interval > 0
                } else {
                    !self.clean_start
                };
            }
            Event::Subscribe(subscribe) => self.subscribe(subscribe),
            Event::Unsubscribe(unsubscribe) => self.unsubscribe(unsubscribe),
            Event::Message(message) => self.shared.route(Some(&self.client_id), &message),
            Event::Disconnected(cause) => {
                // A 5.0 client may change the Session Expiry Interval on DISCONNECT.
                if let DisconnectCause::Peer(d) = &cause {
                    if let Some(expiry) = d.properties.session_expiry_interval {
                        self.persistent = expiry > 0;
                    }
                }
                self.ending = true;
            }
            _ => {}
        }
    }

    fn connect(&mut self, connect: &Connect) {
        let mut properties = ConnAckProperties::default();
        if connect.client_id.is_empty() {
            self.client_id = format!("mqttwire-{}", self.conn);
            if connect.protocol_version.is_v5() {
                let assigned = MqttString::new(&self.client_id).unwrap();
                properties.set_assigned_client_identifier(Some(assigned));
            }
        }
        self.clean_start = connect.clean_start;
        let session = self.shared.claim(
            &self.client_id,
            self.conn,
            self.commands.clone(),
            connect.clean_start,
        );
        if let Err(e) = self.server.accept(session, properties) {
            self.fault(format!("accept: {e}"));
        }
    }

    fn subscribe(&mut self, subscribe: Subscribe) {
        let v5 = self.server.protocol_version().is_v5();
        let maximum = self.shared.config.maximum_qos;
        let mut codes = Vec::new();
        let mut retained = Vec::new();
        let mut state = self.shared.lock();
        for s in &subscribe.subscriptions {
            let qos = s.options.qos.min(maximum);
            codes.push(SubAckReasonCode::from_code(qos.bits()).unwrap());
            let sub = Subscription {
                filter: s.filter.clone(),
                client_id: self.client_id.clone(),
                qos,
                no_local: s.options.no_local,
                retain_as_published: s.options.retain_as_published,
            };
            // The same filter again replaces the subscription ([MQTT-3.8.4-3]).
            let existing = state
                .subscriptions
                .iter_mut()
                .find(|x| x.client_id == sub.client_id && x.filter == sub.filter);
            let existed = existing.is_some();
            match existing {
                Some(x) => *x = sub,
                None => state.subscriptions.push(sub),
            }
            let send_retained = !v5
                || match s.options.retain_handling {
                    RetainHandling::SendAtSubscribe => true,
                    RetainHandling::SendIfNew => !existed,
                    RetainHandling::DoNotSend => false,
                };
            if send_retained {
                let matching = state
                    .retained
                    .values()
                    .filter(|(_, m)| s.filter.matches(&m.topic));
                retained.extend(matching.map(|(q, m)| (qos.min(*q), m.clone())));
            }
        }
        drop(state);
        let answer = self
            .server
            .suback(subscribe.packet_id, codes, AckProperties::default());
        if let Err(e) = answer {
            self.fault(format!("suback: {e}"));
        }
        for (qos, message) in retained {
            self.deliver(qos, message);
        }
    }

    fn unsubscribe(&mut self, unsubscribe: Unsubscribe) {
        let mut state = self.shared.lock();
        let mut codes = Vec::new();
        for filter in &unsubscribe.filters {
            let before = state.subscriptions.len();
            let mine = |s: &Subscription| s.client_id == self.client_id && s.filter == *filter;
            state.subscriptions.retain(|s| !mine(s));
            codes.push(if state.subscriptions.len() < before {
                UnsubAckReasonCode::Success
            } else {
                UnsubAckReasonCode::NoSubscriptionExisted
            });
        }
        drop(state);
        if !self.server.protocol_version().is_v5() {
            codes.clear(); // a 3.1.1 UNSUBACK carries no codes
        }
        let answer = self
            .server
            .unsuback(unsubscribe.packet_id, codes, AckProperties::default());
        if let Err(e) = answer {
            self.fault(format!("unsuback: {e}"));
        }
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Deliver(qos, message) => self.deliver(qos, *message),
            // 5.0 sends DISCONNECT 0x8E first ([MQTT-3.1.4-3]); 3.1.1 just closes
            // ([MQTT-3.1.4-2]), which `disconnect` does below 5.0.
            Command::TakeOver => {
                let taken = Disconnect::new(DisconnectReasonCode::SessionTakenOver);
                if let Err(e) = self.server.disconnect(taken) {
                    self.fault(format!("disconnect on take-over: {e}"));
                    self.ending = true;
                }
            }
        }
    }

    fn deliver(&mut self, qos: QoS, message: Publish) {
        if let Err(e) = self.server.publish(qos, message) {
            self.fault(format!("publish at {qos:?}: {e}"));
        }
    }

    /// Whether an armed cut fires for this packet.
    fn take_cut(&self, cut: Cut) -> bool {
        let mut state = self.shared.lock();
        let armed = state.cuts.iter_mut().enumerate();
        let mut armed = armed.filter(|(_, (id, c, _))| *id == self.client_id && *c == cut);
        match armed.next() {
            Some((_, (_, _, pass))) if *pass > 0 => {
                *pass -= 1;
                false
            }
            Some((i, _)) => {
                state.cuts.remove(i);
                state.records.push(Record {
                    conn: self.conn,
                    client_id: self.client_id.clone(),
                    seen: Seen::Cut(cut),
                });
                true
            }
            None => false,
        }
    }

    fn link_lost(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
        self.lost = true;
        self.server.handle_connection_lost();
        while let Some(event) = self.server.poll_event() {
            self.event(event);
        }
    }

    fn finish(mut self) {
        self.pump();
        let _ = self.stream.shutdown(Shutdown::Both);
        if !self.lost {
            self.server.handle_connection_lost();
            while let Some(event) = self.server.poll_event() {
                self.event(event);
            }
        }
        let session = self.server.take_session();
        let keep = self.persistent.then_some(session);
        self.shared.release(&self.client_id, self.conn, keep);
    }

    fn record(&self, seen: Seen) {
        self.shared.record(self.conn, &self.client_id, seen);
    }

    fn fault(&self, what: String) {
        self.record(Seen::Fault(what));
    }
}

// ------------------------------------------------------------------------------------------
// The paho side
// ------------------------------------------------------------------------------------------

const INSTALL: &str = "python3 -m venv .venv && .venv/bin/pip install 'paho-mqtt>=2,<3', \
                       then MQTTWIRE_PYTHON=.venv/bin/python";

/// The Python interpreter to run paho with: `MQTTWIRE_PYTHON`, or `python3`.
pub fn python() -> String {
    std::env::var("MQTTWIRE_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Whether paho-mqtt 2.x can be imported (checked once per test binary), or why not.
fn paho_usable() -> &'static Result<(), String> {
    static USABLE: OnceLock<Result<(), String>> = OnceLock::new();
    USABLE.get_or_init(|| {
        let check = "import paho.mqtt.client as m; m.CallbackAPIVersion.VERSION2";
        match Process::new(python()).args(["-c", check]).output() {
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => {
                // The traceback's last line names the problem.
                let stderr = String::from_utf8_lossy(&out.stderr);
                let last = stderr.lines().last().map(str::to_owned);
                Err(last.unwrap_or_else(|| out.status.to_string()))
            }
            Err(e) => Err(e.to_string()),
        }
    })
}

/// The peer policy: `true` when paho-mqtt is usable. Otherwise the test fails if
/// `MQTTWIRE_REQUIRE_PEERS=1`, and is skipped (with a message on stderr) if not.
pub fn paho_available(test: &str) -> bool {
    let Err(why) = paho_usable() else {
        return true;
    };
    let python = python();
    if std::env::var("MQTTWIRE_REQUIRE_PEERS").is_ok_and(|v| v == "1") {
        panic!(
            "{test}: MQTTWIRE_REQUIRE_PEERS=1 but paho-mqtt 2.x cannot be imported with \
             `{python}` ({why}). Install it: {INSTALL}"
        );
    }
    // Straight to the process's stderr: the test harness captures `eprintln!` of tests
    // that pass, and a skip must be visible.
    let line = format!(
        "SKIPPED {test}: paho-mqtt 2.x cannot be imported with `{python}` ({why}). \
         To run the paho interop tests: {INSTALL}\n"
    );
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
    false
}

/// A paho-mqtt client to run `tests/paho/client.py` as.
#[derive(Debug, Clone)]
pub struct PahoClient {
    pub id: String,
    pub version: ProtocolVersion,
    pub clean_start: bool,
    /// 5.0 Session Expiry Interval in CONNECT.
    pub session_expiry: Option<u32>,
    /// 5.0 Receive Maximum in CONNECT.
    pub receive_maximum: Option<u16>,
    /// Acknowledge received messages only at the script's `ack` steps.
    pub manual_ack: bool,
}

impl PahoClient {
    pub fn new(id: &str, version: ProtocolVersion) -> Self {
        Self {
            id: id.to_owned(),
            version,
            clean_start: true,
            session_expiry: None,
            receive_maximum: None,
            manual_ack: false,
        }
    }

    /// Clean Start 0 (Clean Session 0 in 3.1.1), with a Session Expiry Interval of an hour
    /// in 5.0 so that the session outlives the connection.
    pub fn persistent(mut self) -> Self {
        self.clean_start = false;
        if self.version.is_v5() {
            self.session_expiry = Some(3600);
        }
        self
    }

    pub fn manual_ack(mut self) -> Self {
        self.manual_ack = true;
        self
    }

    /// Starts the script against `broker`; [`PahoRun::finish`] waits for its end.
    pub fn spawn(&self, broker: &TestBroker, steps: &[&str]) -> PahoRun {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/paho/client.py");
        let mut cmd = Process::new(python());
        let protocol = if self.version.is_v5() { "5" } else { "3.1.1" };
        let port = broker.port().to_string();
        cmd.args([
            script,
            "--port",
            &port,
            "--protocol",
            protocol,
            "--id",
            &self.id,
        ]);
        cmd.args(["--clean-start", if self.clean_start { "1" } else { "0" }]);
        if let Some(expiry) = self.session_expiry {
            cmd.args(["--session-expiry", &expiry.to_string()]);
        }
        if let Some(maximum) = self.receive_maximum {
            cmd.args(["--receive-maximum", &maximum.to_string()]);
        }
        if self.manual_ack {
            cmd.arg("--manual-ack");
        }
        cmd.arg("--").args(steps);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start the paho client");
        let stdout = read_all(child.stdout.take().unwrap());
        let stderr = read_all(child.stderr.take().unwrap());
        PahoRun {
            id: self.id.clone(),
            child,
            stdout,
            stderr,
        }
    }

    /// Runs the script to its end.
    pub fn run(&self, broker: &TestBroker, steps: &[&str]) -> PahoOutput {
        self.spawn(broker, steps).finish()
    }
}

fn read_all(mut from: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        let _ = from.read_to_string(&mut text);
        text
    })
}

/// A running paho script.
pub struct PahoRun {
    id: String,
    child: Child,
    stdout: thread::JoinHandle<String>,
    stderr: thread::JoinHandle<String>,
}

impl PahoRun {
    /// Waits for the script to end; panics if it fails or takes too long.
    pub fn finish(mut self) -> PahoOutput {
        let deadline = std::time::Instant::now() + SCRIPT_TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for paho") {
                break Some(status);
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            thread::sleep(Duration::from_millis(10));
        };
        let stdout = self.stdout.join().unwrap_or_default();
        let stderr = self.stderr.join().unwrap_or_default();
        match status {
            Some(s) if s.success() => {}
            Some(s) => panic!("paho {} failed ({s}):\n{stdout}\n{stderr}", self.id),
            None => panic!("paho {} timed out:\n{stdout}\n{stderr}", self.id),
        }
        let events = stdout.lines().filter(|l| l.starts_with('{'));
        let events = events.map(|l| Json::parse(l).unwrap_or_else(|e| panic!("{e}: {l}")));
        PahoOutput {
            events: events.collect(),
            stderr,
        }
    }
}

/// What a paho script printed: one JSON object per event.
#[derive(Debug)]
pub struct PahoOutput {
    pub events: Vec<Json>,
    pub stderr: String,
}

/// A message paho received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PahoMessage {
    pub topic: String,
    pub payload: String,
    pub qos: u8,
    pub dup: bool,
    pub retain: bool,
}

impl PahoOutput {
    /// The events named `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&Json> {
        let named = self.events.iter();
        named
            .filter(|e| e.get("event").as_str() == Some(name))
            .collect()
    }

    /// The messages received, in order.
    pub fn messages(&self) -> Vec<PahoMessage> {
        let messages = self.all("message").into_iter();
        messages
            .map(|m| PahoMessage {
                topic: m.get("topic").as_str().unwrap().to_owned(),
                payload: m.get("payload").as_str().unwrap().to_owned(),
                qos: m.get("qos").as_u8(),
                dup: m.get("dup").as_bool().unwrap(),
                retain: m.get("retain").as_bool().unwrap(),
            })
            .collect()
    }

    /// (session present, reason code) of each CONNACK.
    pub fn connacks(&self) -> Vec<(bool, u8)> {
        let connacks = self.all("connected").into_iter();
        connacks
            .map(|c| {
                let present = c.get("session_present").as_bool().unwrap();
                (present, c.get("reason_code").as_u8())
            })
            .collect()
    }

    /// The reason code of each publish acknowledgement paho reported, by mid.
    pub fn acks(&self) -> Vec<(u64, u8)> {
        let acks = self.all("published").into_iter();
        acks.map(|a| (a.get("mid").as_u64(), a.get("reason_code").as_u8()))
            .collect()
    }
}

/// A JSON value (just enough JSON for what `client.py` prints).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub fn parse(text: &str) -> Result<Json, String> {
        let mut p = JsonParser {
            chars: text.chars().peekable(),
        };
        let value = p.value()?;
        p.skip_ws();
        match p.chars.next() {
            None => Ok(value),
            Some(c) => Err(format!("unexpected {c:?} after the value")),
        }
    }

    /// The member `key` of an object (`Null` when missing).
    pub fn get(&self, key: &str) -> &Json {
        match self {
            Json::Obj(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
        .unwrap_or(&Json::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A whole number; panics on anything else.
    pub fn as_u64(&self) -> u64 {
        match self {
            Json::Num(n) if n.fract() == 0.0 && *n >= 0.0 => *n as u64,
            other => panic!("not a whole number: {other:?}"),
        }
    }

    pub fn as_u8(&self) -> u8 {
        u8::try_from(self.as_u64()).expect("a byte")
    }

    pub fn as_array(&self) -> &[Json] {
        match self {
            Json::Arr(items) => items,
            _ => &[],
        }
    }
}

struct JsonParser<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
}

impl JsonParser<'_> {
    fn skip_ws(&mut self) {
        while self.chars.next_if(|c| c.is_ascii_whitespace()).is_some() {}
    }

    fn expect(&mut self, want: char) -> Result<(), String> {
        match self.chars.next() {
            Some(c) if c == want => Ok(()),
            other => Err(format!("expected {want:?}, found {other:?}")),
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.skip_ws();
        match self.chars.peek().copied() {
            Some('{') => {
                self.chars.next();
                let mut members = Vec::new();
                self.skip_ws();
                if self.chars.next_if_eq(&'}').is_some() {
                    return Ok(Json::Obj(members));
                }
                loop {
                    self.skip_ws();
                    let key = self.string()?;
                    self.skip_ws();
                    self.expect(':')?;
                    members.push((key, self.value()?));
                    self.skip_ws();
                    match self.chars.next() {
                        Some(',') => {}
                        Some('}') => return Ok(Json::Obj(members)),
                        other => return Err(format!("expected ',' or '}}', found {other:?}")),
                    }
                }
            }
            Some('[') => {
                self.chars.next();
                let mut items = Vec::new();
                self.skip_ws();
                if self.chars.next_if_eq(&']').is_some() {
                    return Ok(Json::Arr(items));
                }
                loop {
                    items.push(self.value()?);
                    self.skip_ws();
                    match self.chars.next() {
                        Some(',') => {}
                        Some(']') => return Ok(Json::Arr(items)),
                        other => return Err(format!("expected ',' or ']', found {other:?}")),
                    }
                }
            }
            Some('"') => self.string().map(Json::Str),
            Some('t') => self.word("true", Json::Bool(true)),
            Some('f') => self.word("false", Json::Bool(false)),
            Some('n') => self.word("null", Json::Null),
            Some(c) if c == '-' || c.is_ascii_digit() => {
                let mut number = String::new();
                while let Some(c) = self
                    .chars
                    .next_if(|c| c.is_ascii_digit() || "+-.eE".contains(*c))
                {
                    number.push(c);
                }
                number
                    .parse()
                    .map(Json::Num)
                    .map_err(|e| format!("{number}: {e}"))
            }
            other => Err(format!("unexpected {other:?}")),
        }
    }

    fn word(&mut self, word: &str, value: Json) -> Result<Json, String> {
        for want in word.chars() {
            self.expect(want)?;
        }
        Ok(value)
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect('"')?;
        let mut s = String::new();
        loop {
            match self.chars.next().ok_or("unterminated string")? {
                '"' => return Ok(s),
                '\\' => match self.chars.next().ok_or("unterminated escape")? {
                    'n' => s.push('\n'),
                    't' => s.push('\t'),
                    'r' => s.push('\r'),
                    'b' => s.push('\u{8}'),
                    'f' => s.push('\u{c}'),
                    'u' => {
                        let hex: String = (0..4).filter_map(|_| self.chars.next()).collect();
                        let unit = u32::from_str_radix(&hex, 16).map_err(|e| e.to_string())?;
                        // Surrogate pairs are not needed here: replace them.
                        s.push(char::from_u32(unit).unwrap_or('\u{fffd}'));
                    }
                    c => s.push(c), // '"', '\\', '/'
                },
                c => s.push(c),
            }
        }
    }
}
