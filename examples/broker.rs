//! `broker`: a small, complete MQTT 3.1, 3.1.1 and 5.0 broker on mqttwire's session engine,
//! over `std::net` with a thread per connection. Written to be read: it shows what a server
//! built on [`Server`] does itself, and what it leaves to the engine.
//!
//! ```text
//! cargo run --example broker -- [-p PORT] [--host ADDRESS] [--max-packet-size BYTES] [-d]
//! ```
//!
//! It listens on 127.0.0.1:1883 unless told otherwise. `-d` prints every packet as it
//! crosses, in both directions, with a field-by-field dissection (the one `inspect
//! --explain` prints), so that you can watch CONNECT, SUBSCRIBE and the QoS 2 four-way
//! exchange happen:
//!
//! ```text
//! $ cargo run --example broker -- -d &
//! $ mosquitto_sub -t 'sensors/#' -q 2 &
//! $ mosquitto_pub -t sensors/17 -m 21.5 -q 2
//! ```
//!
//! What the engine does, per connection: CONNECT and CONNACK, the QoS 0, 1 and 2 flows in
//! both directions (exactly once for QoS 2), flow control, Topic Aliases, keep alive, and
//! resending what a resumed session had in flight. What this file does: who may connect
//! (everyone), subscriptions (wildcards, QoS, No Local, Retain As Published, Retain
//! Handling, Subscription Identifiers), routing each message to its subscribers at the
//! lower of the message's and the subscription's QoS, retained messages, wills (with Will
//! Delay Interval), sessions that outlive their connection (Session Expiry Interval, and
//! QoS 1 and 2 messages queued while the client is away), and taking a session over when
//! its client connects again. Shared subscriptions (`$share/...`) are not supported, and
//! said so in the CONNACK. Message Expiry Intervals are forwarded unchanged, not counted
//! down.
//!
//! The tests in `tests/interop_broker.rs` run this broker against mosquitto_pub and
//! mosquitto_sub, paho-mqtt and MQTT.js, and the paho interop tests run their clients
//! against it too (see `tests/paho_util`).

#[path = "dissect/mod.rs"]
mod dissect;

use bytes::BytesMut;
use mqttwire::properties::{AckProperties, ConnAckProperties};
use mqttwire::session::{
    DisconnectCause, Event, Instant, Server, SessionConfig, SessionError, SessionState,
};
use mqttwire::{
    Connect, Decoder, Disconnect, DisconnectReasonCode, MqttString, Packet, ProtocolVersion,
    Publish, QoS, RetainHandling, SubAckReasonCode, Subscribe, SubscriptionId, TopicFilter,
    UnsubAckReasonCode, Unsubscribe,
};
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

const USAGE: &str = "\
usage: broker [-p PORT] [--host ADDRESS] [--max-packet-size BYTES] [-d]

An MQTT 3.1, 3.1.1 and 5.0 broker on mqttwire's session engine.

  -p, --port PORT          port to listen on (default 1883)
  --host ADDRESS           address to listen on (default 127.0.0.1, this machine
                           only; 0.0.0.0 for every interface)
  --max-packet-size BYTES  the largest packet accepted from a client (default
                           1048576, mqttwire's default: a message with a 1 MiB
                           payload needs more; at most 268435460)
  -d, --debug              print every packet in both directions, dissected
  -h, --help               show this help";

/// How many QoS 1 and 2 messages wait for a client that is away before newer ones are
/// dropped: a client gone for good must not take all the broker's memory.
const MAX_QUEUED: usize = 1_000;

/// Topic Aliases clients may use towards the broker (MQTT 5.0). The engine's default is 0,
/// which keeps clients from using any.
const TOPIC_ALIAS_MAXIMUM: u16 = 16;

/// How often to look for wills that are due and sessions that expired.
const SWEEP_EVERY: Duration = Duration::from_millis(250);

/// How long a new connection may take to send its CONNECT before it is closed (a server
/// should not wait forever, MQTT 3.1.1 and 5.0 section 3.1.4).
const CONNECT_WITHIN: Duration = Duration::from_secs(10);

fn main() -> std::process::ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return std::process::ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("broker: {e}\n\n{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind((options.host.as_str(), options.port)) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("broker: {}:{}: {e}", options.host, options.port);
            return std::process::ExitCode::from(1);
        }
    };
    let tap: Option<Box<dyn Tap>> = options.debug.then(|| Box::new(Dissector) as Box<dyn Tap>);
    let broker = Broker::new(options.config(), tap);
    if let Ok(addr) = listener.local_addr() {
        println!("broker: listening on {addr}");
    }
    broker.serve(listener);
    std::process::ExitCode::SUCCESS
}

#[derive(Debug, PartialEq)]
struct Options {
    host: String,
    port: u16,
    max_packet_size: NonZeroU32,
    debug: bool,
}

impl Options {
    /// The engine's configuration: its defaults, but for the two a server usually raises.
    fn config(&self) -> SessionConfig {
        let mut config = SessionConfig::default();
        config.maximum_packet_size = self.max_packet_size;
        config.topic_alias_maximum = TOPIC_ALIAS_MAXIMUM;
        config
    }
}

/// `Ok(None)`: help was asked for.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options {
        host: "127.0.0.1".into(),
        port: 1883,
        max_packet_size: SessionConfig::default().maximum_packet_size,
        debug: false,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "-p" | "--port" => {
                let v = value("--port")?;
                options.port = v
                    .parse()
                    .map_err(|_| format!("--port: not a port: {v:?}"))?;
            }
            "--host" => options.host = value("--host")?,
            "--max-packet-size" => {
                let v = value("--max-packet-size")?;
                options.max_packet_size = v
                    .parse::<NonZeroU32>()
                    .ok()
                    .filter(|m| m.get() as usize <= mqttwire::MAX_PACKET_SIZE)
                    .ok_or(format!(
                        "--max-packet-size: 1 to {}, not {v:?}",
                        mqttwire::MAX_PACKET_SIZE
                    ))?;
            }
            "-d" | "--debug" => options.debug = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(options))
}

fn now() -> Instant {
    Instant::from(std::time::Instant::now())
}

// ---------------------------------------------------------------------------------------
// Watching the broker: every packet and event goes past a tap, if there is one. `-d`
// prints them; the tests record them (and may cut a link at a chosen packet).

/// Which way a packet crosses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// From the client to the broker.
    In,
    /// From the broker to the client.
    Out,
}

/// The connection a tap hears about.
pub struct Link<'a> {
    /// The connection's number, in accept order from 1.
    pub conn: u64,
    /// Empty until the CONNECT arrives.
    pub client_id: &'a str,
    /// The connection's protocol version (5.0 until the CONNECT says).
    pub version: ProtocolVersion,
}

/// What watches the broker.
pub trait Tap: Send + Sync {
    /// A packet crosses: `frame` is its bytes. Returning `false` loses it and the
    /// connection with it, as a failing network would.
    fn packet(&self, link: &Link, dir: Dir, frame: &[u8]) -> bool;
    /// The connection's session reported `event`.
    fn event(&self, _link: &Link, _event: &Event) {}
    /// Something went wrong that the broker can only report.
    fn fault(&self, link: &Link, what: &str) {
        eprintln!(
            "broker: connection {} ({}): {what}",
            link.conn, link.client_id
        );
    }
}

/// `-d`: prints each packet and its dissection.
struct Dissector;

impl Tap for Dissector {
    fn packet(&self, link: &Link, dir: Dir, frame: &[u8]) -> bool {
        let who = if link.client_id.is_empty() {
            "?"
        } else {
            link.client_id
        };
        let arrow = match dir {
            Dir::In => format!("{who} -> broker"),
            Dir::Out => format!("broker -> {who}"),
        };
        let kind = frame
            .first()
            .and_then(|b| mqttwire::PacketType::from_bits(b >> 4));
        let name = kind.map_or("?", |k| k.name());
        let mut text = format!("[{}] {arrow}: {name} ({} bytes)\n", link.conn, frame.len());
        for line in dissect::dissect(frame, link.version) {
            text.push_str(&line);
            text.push('\n');
        }
        // One write per packet, so that connections' lines do not interleave.
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
        true
    }
}

// ---------------------------------------------------------------------------------------
// What connections share: subscriptions, retained messages, who is online, the sessions of
// clients that are away, and wills waiting for their delay. One mutex guards it all; no
// session engine lives behind it (each belongs to its connection's thread).

/// One client's subscription to one topic filter.
struct Subscription {
    client_id: String,
    filter: TopicFilter,
    /// The QoS granted: the most a message is delivered with on this subscription.
    qos: QoS,
    no_local: bool,
    retain_as_published: bool,
    id: Option<SubscriptionId>,
}

/// What a connection's thread waits for.
enum Input {
    /// Bytes from the client.
    Bytes(Vec<u8>),
    /// The client closed the connection, or it failed.
    Closed,
    /// A message for this client, at this QoS.
    Deliver(QoS, Publish),
    /// A new connection with the same client identifier takes the session over.
    TakeOver,
}

struct Online {
    conn: u64,
    inbox: Sender<Input>,
}

/// The session of a client that is away, kept for its next connection.
struct Away {
    session: SessionState,
    /// `None`: never expires.
    expires: Option<std::time::Instant>,
}

/// A will waiting for its Will Delay Interval to pass (MQTT 5.0).
struct DelayedWill {
    due: std::time::Instant,
    qos: QoS,
    message: Publish,
}

#[derive(Default)]
struct State {
    subscriptions: Vec<Subscription>,
    /// Topic → the retained message and its QoS.
    retained: BTreeMap<String, (QoS, Publish)>,
    online: HashMap<String, Online>,
    away: HashMap<String, Away>,
    wills: HashMap<String, DelayedWill>,
}

struct Shared {
    config: SessionConfig,
    state: Mutex<State>,
    /// Notified when a connection leaves `online`, which a take-over waits for.
    left: Condvar,
    tap: Option<Box<dyn Tap>>,
    connections: AtomicU64,
}

/// The broker: serves connections from a listener, one thread each.
#[derive(Clone)]
pub struct Broker {
    shared: Arc<Shared>,
}

impl Broker {
    /// A broker whose connections run with `config`, watched by `tap`.
    pub fn new(config: SessionConfig, tap: Option<Box<dyn Tap>>) -> Self {
        let shared = Shared {
            config,
            state: Mutex::default(),
            left: Condvar::new(),
            tap,
            connections: AtomicU64::new(0),
        };
        Self {
            shared: Arc::new(shared),
        }
    }

    /// Serves every connection `listener` accepts, for as long as it accepts them.
    pub fn serve(&self, listener: TcpListener) {
        let sweeper = Arc::clone(&self.shared);
        thread::spawn(move || loop {
            thread::sleep(SWEEP_EVERY);
            sweeper.sweep();
        });
        for stream in listener.incoming().flatten() {
            let conn = self.shared.connections.fetch_add(1, Ordering::Relaxed) + 1;
            let shared = Arc::clone(&self.shared);
            thread::spawn(move || Connection::start(shared, conn, stream));
        }
    }

    /// Publishes `message` at `qos` as if a client had.
    #[allow(dead_code)] // for the tests, which include this file as a module
    pub fn publish(&self, qos: QoS, message: &Publish) {
        self.shared.lock().route(None, qos, message);
    }

    /// Whether the broker keeps a session for `client_id`, which is away.
    #[allow(dead_code)] // for the tests
    pub fn has_session(&self, client_id: &str) -> bool {
        self.shared.lock().away.contains_key(client_id)
    }

    /// Whether `client_id` has a connection.
    #[allow(dead_code)] // for the tests
    pub fn is_online(&self, client_id: &str) -> bool {
        self.shared.lock().online.contains_key(client_id)
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers connection `conn` as `client_id`'s, taking over the connection already
    /// there ([MQTT-3.1.4-3] in 5.0, [MQTT-3.1.4-2] in 3.1.1), and returns the session
    /// to resume: the one kept while the client was away, or the one the taken-over
    /// connection leaves. `None` on a clean start, which discards both the session and
    /// its subscriptions ([MQTT-3.1.2-4] in 5.0, [MQTT-3.1.2-6] in 3.1.1).
    fn claim(
        &self,
        client_id: &str,
        conn: u64,
        inbox: Sender<Input>,
        clean: bool,
    ) -> Option<SessionState> {
        let mut state = self.lock();
        if let Some(old) = state.online.get(client_id) {
            let _ = old.inbox.send(Input::TakeOver);
            // The old connection stores its session as it leaves; wait for that, or give
            // up on a connection too stuck to answer.
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while state.online.contains_key(client_id) {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    break;
                }
                state = self
                    .left
                    .wait_timeout(state, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
        }
        state
            .online
            .insert(client_id.to_owned(), Online { conn, inbox });
        // A will waiting for its delay: the session's new connection cancels it
        // ([MQTT-3.1.3-9] in 5.0), unless this connection ends the session, which is
        // when the will is due ([MQTT-3.1.2-8] in 5.0).
        if let Some(will) = state.wills.remove(client_id) {
            if clean {
                state.route(None, will.qos, &will.message);
            }
        }
        let away = state.away.remove(client_id);
        if clean {
            state.subscriptions.retain(|s| s.client_id != client_id);
            return None;
        }
        away.map(|a| a.session)
    }

    /// Connection `conn` of `client_id` is over. Its session is kept for `expiry` seconds
    /// if that is above 0, and its subscriptions with it; otherwise both go.
    fn release(
        &self,
        client_id: &str,
        conn: u64,
        mut session: SessionState,
        expiry: u32,
        inbox: &Receiver<Input>,
    ) {
        let mut state = self.lock();
        if !state.online.get(client_id).is_some_and(|o| o.conn == conn) {
            return; // never registered: the CONNECT was refused or never came
        }
        state.online.remove(client_id);
        // Messages routed here after the connection's last look at its inbox.
        while let Ok(input) = inbox.try_recv() {
            if let Input::Deliver(qos, message) = input {
                queue(&mut session, qos, message);
            }
        }
        if expiry == 0 {
            state.subscriptions.retain(|s| s.client_id != client_id);
        } else {
            let expires = (expiry != u32::MAX)
                .then(|| std::time::Instant::now() + Duration::from_secs(expiry.into()));
            state
                .away
                .insert(client_id.to_owned(), Away { session, expires });
        }
        drop(state);
        self.left.notify_all();
    }

    /// Forgets the sessions that expired ([MQTT-4.1.0-2] in 5.0) and publishes the wills
    /// that are due, which is never after their session's end: the delay was capped by it.
    fn sweep(&self) {
        let now = std::time::Instant::now();
        let mut state = self.lock();
        let expired: Vec<String> = state
            .away
            .iter()
            .filter(|(_, a)| a.expires.is_some_and(|t| t <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in &expired {
            state.away.remove(id);
            state.subscriptions.retain(|s| s.client_id != *id);
        }
        let due: Vec<String> = state
            .wills
            .iter()
            .filter(|(_, w)| w.due <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            if let Some(will) = state.wills.remove(&id) {
                state.route(None, will.qos, &will.message);
            }
        }
    }
}

impl State {
    /// Hands `message` to every client with a matching subscription, once per client, at
    /// the highest QoS its matching subscriptions grant and never above the message's
    /// (5.0 [MQTT-3.3.4-2], 3.1.1 [MQTT-3.3.5-1]), with the identifiers of all of them
    /// ([MQTT-3.3.4-3] in 5.0). `from` is the publisher, for No Local ([MQTT-3.8.3-3] in
    /// 5.0). Keeps it if it is retained.
    fn route(&mut self, from: Option<&str>, qos: QoS, message: &Publish) {
        if message.retain {
            self.retain(qos, message);
        }
        let mut targets: BTreeMap<&str, (QoS, bool, Vec<SubscriptionId>)> = BTreeMap::new();
        for sub in &self.subscriptions {
            let own = from == Some(sub.client_id.as_str());
            if !sub.filter.matches(&message.topic) || (sub.no_local && own) {
                continue;
            }
            let target =
                targets
                    .entry(&sub.client_id)
                    .or_insert((QoS::AtMostOnce, false, Vec::new()));
            target.0 = target.0.max(sub.qos.min(qos));
            target.1 |= sub.retain_as_published;
            target.2.extend(sub.id);
        }
        for (client_id, (qos, retain_as_published, ids)) in targets {
            let mut copy = message.clone();
            // RETAIN is kept only where the subscription asks for it (5.0
            // [MQTT-3.3.1-12], [MQTT-3.3.1-13]); 3.1.1 clears it ([MQTT-3.3.1-9]).
            copy.retain = message.retain && retain_as_published;
            copy.properties
                .set_subscription_identifiers(ids.into_iter().collect());
            deliver(&self.online, &mut self.away, client_id, qos, copy);
        }
    }

    /// Stores a retained message, or deletes the topic's for an empty payload (5.0
    /// [MQTT-3.3.1-6], 3.1.1 [MQTT-3.3.1-10]).
    fn retain(&mut self, qos: QoS, message: &Publish) {
        let topic = message.topic.as_str().to_owned();
        if message.payload.is_empty() {
            self.retained.remove(&topic);
        } else {
            let mut kept = message.clone();
            kept.properties
                .set_subscription_identifiers(Default::default());
            self.retained.insert(topic, (qos, kept));
        }
    }

    /// The retained messages matching `filter`, at most at `qos`, to send with RETAIN 1 when
    /// a subscription is made (5.0 [MQTT-3.3.1-9], 3.1.1 [MQTT-3.3.1-8]).
    fn retained_for(
        &self,
        filter: &TopicFilter,
        qos: QoS,
        id: Option<SubscriptionId>,
    ) -> Vec<(QoS, Publish)> {
        let matching = self
            .retained
            .values()
            .filter(|(_, m)| filter.matches(&m.topic));
        matching
            .map(|(stored_qos, m)| {
                let mut copy = m.clone();
                copy.properties
                    .set_subscription_identifiers(id.into_iter().collect());
                ((*stored_qos).min(qos), copy)
            })
            .collect()
    }
}

/// Sends `message` to a client that is online, or queues it in the session of one that is
/// away (3.1.1 [MQTT-3.1.2-5]).
fn deliver(
    online: &HashMap<String, Online>,
    away: &mut HashMap<String, Away>,
    client_id: &str,
    qos: QoS,
    message: Publish,
) {
    if let Some(online) = online.get(client_id) {
        let _ = online.inbox.send(Input::Deliver(qos, message));
    } else if let Some(away) = away.get_mut(client_id) {
        queue(&mut away.session, qos, message);
    }
}

/// Queues a QoS 1 or 2 message in the session of a client that is away, up to
/// [`MAX_QUEUED`]; QoS 0 messages are not kept.
fn queue(session: &mut SessionState, qos: QoS, message: Publish) {
    if qos != QoS::AtMostOnce && session.unacknowledged() < MAX_QUEUED {
        // Refused only for QoS 0 or an empty topic, both excluded here.
        let _ = session.queue(qos, message);
    }
}

// ---------------------------------------------------------------------------------------
// One connection: a thread that owns its `Server` engine and follows the engine's run loop
// (mqttwire::session): hand it what arrives, send what it has to send, handle its events,
// and call `handle_timeout` when its deadline passes. A second thread only reads the
// socket, so that the first can wait for bytes, messages for its client, and its deadline
// all at once, on one channel.

/// A will, kept from the CONNECT until the connection ends.
struct PendingWill {
    qos: QoS,
    message: Publish,
    delay: u32,
}

struct Connection {
    shared: Arc<Shared>,
    conn: u64,
    stream: TcpStream,
    server: Server,
    decoder: Decoder,
    input: BytesMut,
    output: BytesMut,
    inbox: Receiver<Input>,
    /// For the broker's table of who is online: messages for this client come here.
    sender: Sender<Input>,
    client_id: String,
    will: Option<PendingWill>,
    /// A new connection took the session over.
    taken_over: bool,
    /// The engine ended the connection, or the transport is gone.
    ended: bool,
}

impl Connection {
    fn start(shared: Arc<Shared>, conn: u64, stream: TcpStream) {
        let (sender, inbox) = mpsc::channel();
        let _ = stream.set_nodelay(true);
        let Ok(reader) = stream.try_clone() else {
            return;
        };
        let bytes = sender.clone();
        thread::spawn(move || read_socket(reader, &bytes));
        let config = shared.config.clone();
        let connection = Connection {
            conn,
            stream,
            decoder: config.server_decoder(),
            server: Server::new(config),
            shared,
            input: BytesMut::with_capacity(4096),
            output: BytesMut::with_capacity(4096),
            inbox,
            sender,
            client_id: String::new(),
            will: None,
            taken_over: false,
            ended: false,
        };
        connection.run();
    }

    fn run(mut self) {
        while !self.ended {
            // Wake for the engine's deadline (keep alive), or give up on a silent newcomer.
            let deadline = self
                .server
                .poll_timeout()
                .map(|t| t.saturating_duration_since(now()));
            let input = match deadline {
                Some(wait) => self.inbox.recv_timeout(wait),
                None if self.client_id.is_empty() => {
                    match self.inbox.recv_timeout(CONNECT_WITHIN) {
                        Err(RecvTimeoutError::Timeout) => Ok(Input::Closed),
                        other => other,
                    }
                }
                None => self
                    .inbox
                    .recv()
                    .map_err(|_| RecvTimeoutError::Disconnected),
            };
            match input {
                Ok(Input::Bytes(bytes)) => {
                    self.input.extend_from_slice(&bytes);
                    self.decode();
                }
                Ok(Input::Closed) | Err(RecvTimeoutError::Disconnected) => self.lost(),
                Ok(Input::Deliver(qos, message)) => self.publish(qos, message),
                Ok(Input::TakeOver) => self.take_over(),
                Err(RecvTimeoutError::Timeout) => self.server.handle_timeout(now()),
            }
            self.pump();
        }
        self.finish();
    }

    /// Hands every whole packet received to the engine, handling what each causes before
    /// decoding the next: a delivered message borrows the input buffer.
    fn decode(&mut self) {
        while !self.ended {
            // Only a tap needs the packet's bytes as they came; copy them only for it.
            let frame = self.shared.tap.as_ref().and_then(|_| {
                let len = dissect::frame_len(&self.input)?;
                Some(self.input.get(..len)?.to_vec())
            });
            match self.decoder.decode(&mut self.input) {
                Ok(Some(packet)) => {
                    if let Packet::Connect(connect) = &packet {
                        self.client_id = connect.client_id.as_str().to_owned();
                    }
                    if !self.tapped(Dir::In, frame.as_deref().unwrap_or_default()) {
                        return self.lost();
                    }
                    // A violation ends the connection; the engine reports it as an event.
                    let _ = self.server.handle_incoming(now(), packet);
                    self.pump();
                }
                Ok(None) => return,
                Err(error) => {
                    self.fault(&format!("undecodable bytes: {error}"));
                    self.server.handle_decode_error(&error);
                    return;
                }
            }
        }
    }

    /// Sends what the engine has to send, then handles its events, until neither has more.
    fn pump(&mut self) {
        loop {
            self.transmit();
            match self.server.poll_event() {
                Some(event) => self.event(event),
                None => return,
            }
        }
    }

    fn transmit(&mut self) {
        loop {
            self.output.clear();
            match self.server.poll_transmit_into(now(), &mut self.output) {
                Ok(Some(_)) => {}
                Ok(None) => return,
                // The packet is dropped and the session out of step: end the connection.
                Err(e) => {
                    self.fault(&format!("encoding: {e}"));
                    return self.lost();
                }
            }
            let sent =
                self.tapped(Dir::Out, &self.output) && self.stream.write_all(&self.output).is_ok();
            if !sent {
                return self.lost();
            }
        }
    }

    fn event(&mut self, event: Event) {
        if let Some(tap) = &self.shared.tap {
            tap.event(&self.link(), &event);
        }
        match event {
            Event::ConnectRequest(connect) => self.connect(&connect),
            Event::Message(message) => {
                // One owned copy for every subscriber, so the input buffer can be reused.
                let qos = message.qos.qos();
                let message = message.detach();
                self.shared
                    .lock()
                    .route(Some(&self.client_id), qos, &message);
            }
            Event::Subscribe(subscribe) => self.subscribe(&subscribe),
            Event::Unsubscribe(unsubscribe) => self.unsubscribe(&unsubscribe),
            Event::Disconnected(cause) => self.disconnected(&cause),
            // A message the client's new limits no longer let through: gone.
            Event::PublishDropped { packet_id, .. } => {
                self.fault(&format!("message {packet_id} could not be sent again"));
            }
            _ => {}
        }
    }

    /// Everyone may connect. The client's will is kept until the connection ends, and the
    /// session it asks to resume is found (or taken over) by its client identifier.
    fn connect(&mut self, connect: &Connect) {
        let mut properties = ConnAckProperties::default();
        if connect.client_id.is_empty() {
            // Allowed with a clean start (the engine refuses it otherwise at 3.1.1): the
            // broker names the client ([MQTT-3.1.3-6] in 3.1.1 and 5.0) and tells a 5.0
            // client ([MQTT-3.1.3-7], [MQTT-3.2.2-16]).
            self.client_id = format!("mqttwire-{}", self.conn);
            if connect.protocol_version.is_v5() {
                let id = MqttString::new(&self.client_id).ok();
                properties.set_assigned_client_identifier(id);
            }
        }
        if connect.protocol_version.is_v5() {
            properties.shared_subscription_available = Some(false);
        }
        self.will = connect.will.as_ref().map(|will| PendingWill {
            qos: will.qos,
            message: will.to_publish(),
            delay: will.properties.will_delay_interval.unwrap_or(0),
        });
        let session = self.shared.claim(
            &self.client_id,
            self.conn,
            self.sender.clone(),
            connect.clean_start,
        );
        if let Err(e) = self.server.accept(session, properties) {
            self.fault(&format!("accept: {e}"));
        }
    }

    /// Grants each subscription at most the QoS the broker supports, sends the retained
    /// messages it asks for, and answers with one code per filter.
    fn subscribe(&mut self, subscribe: &Subscribe) {
        let v5 = self.server.protocol_version().is_v5();
        let id = subscribe.properties.subscription_identifier;
        let mut codes = Vec::new();
        let mut retained = Vec::new();
        let mut state = self.shared.lock();
        for s in subscribe.subscriptions.iter() {
            if v5 && s.filter.is_shared() {
                codes.push(SubAckReasonCode::SharedSubscriptionsNotSupported);
                continue;
            }
            // An owned copy: the SUBSCRIBE's bytes belong to the receive buffer.
            let Ok(filter) = TopicFilter::new(s.filter.as_str()) else {
                codes.push(SubAckReasonCode::TopicFilterInvalid);
                continue;
            };
            let qos = s.options.qos.min(self.shared.config.maximum_qos);
            codes.push(SubAckReasonCode::granted(qos));
            let subscription = Subscription {
                client_id: self.client_id.clone(),
                filter,
                qos,
                no_local: s.options.no_local,
                retain_as_published: s.options.retain_as_published,
                id,
            };
            // The same filter again replaces the subscription ([MQTT-3.8.4-3]).
            let existing = state
                .subscriptions
                .iter_mut()
                .find(|x| x.client_id == self.client_id && x.filter == s.filter);
            let new = existing.is_none();
            match existing {
                Some(x) => *x = subscription,
                None => state.subscriptions.push(subscription),
            }
            let send_retained = match s.options.retain_handling {
                RetainHandling::SendAtSubscribe => true,
                RetainHandling::SendIfNew => new,
                RetainHandling::DoNotSend => false,
            };
            if send_retained {
                retained.extend(state.retained_for(&s.filter, qos, id));
            }
        }
        drop(state);
        let answer = self
            .server
            .suback(subscribe.packet_id, codes, AckProperties::default());
        if let Err(e) = answer {
            self.fault(&format!("suback: {e}"));
        }
        for (qos, message) in retained {
            self.publish(qos, message);
        }
    }

    fn unsubscribe(&mut self, unsubscribe: &Unsubscribe) {
        let mut codes = Vec::new();
        let mut state = self.shared.lock();
        for filter in unsubscribe.filters.iter() {
            let before = state.subscriptions.len();
            let id = &self.client_id;
            state
                .subscriptions
                .retain(|s| !(s.client_id == *id && s.filter == *filter));
            codes.push(if state.subscriptions.len() < before {
                UnsubAckReasonCode::Success
            } else {
                UnsubAckReasonCode::NoSubscriptionExisted
            });
        }
        drop(state);
        // Below 5.0 the engine leaves the codes out.
        let answer = self
            .server
            .unsuback(unsubscribe.packet_id, codes, AckProperties::default());
        if let Err(e) = answer {
            self.fault(&format!("unsuback: {e}"));
        }
    }

    /// Sends a routed message. The engine checks it against the client's limits; one
    /// larger than the client accepts is dropped ([MQTT-3.1.2-25] in 5.0).
    fn publish(&mut self, qos: QoS, message: Publish) {
        match self.server.publish(qos, message) {
            Ok(_) | Err(SessionError::PacketTooLarge { .. }) => {}
            Err(e) => self.fault(&format!("publish at QoS {}: {e}", qos as u8)),
        }
    }

    /// Another connection claims this client's session: 5.0 says why with DISCONNECT 0x8E
    /// ([MQTT-3.1.4-3]); 3.1.1 just closes ([MQTT-3.1.4-2]), as `disconnect` does there.
    fn take_over(&mut self) {
        self.taken_over = true;
        let taken = Disconnect::new(DisconnectReasonCode::SessionTakenOver);
        if self.server.disconnect(taken).is_err() {
            self.lost(); // not connected yet: nothing to say
        }
    }

    /// The connection is over: the will is published, now or after its delay, unless the
    /// client's DISCONNECT removed it.
    fn disconnected(&mut self, cause: &DisconnectCause) {
        self.ended = true;
        let Some(will) = self.will.take().filter(|_| cause.publishes_will()) else {
            return;
        };
        let delay = will.delay.min(self.server.session_expiry_interval());
        if delay == 0 {
            self.shared
                .lock()
                .route(Some(&self.client_id), will.qos, &will.message);
        } else if !self.taken_over {
            let due = std::time::Instant::now() + Duration::from_secs(delay.into());
            let delayed = DelayedWill {
                due,
                qos: will.qos,
                message: will.message,
            };
            self.shared
                .lock()
                .wills
                .insert(self.client_id.clone(), delayed);
        }
        // Taken over with a delay: the new connection to the session came within it
        // ([MQTT-3.1.3-9] in 5.0).
    }

    fn lost(&mut self) {
        self.server.handle_connection_lost();
        self.ended = true;
    }

    /// Closes the socket (the engine has ended the connection and everything it had to
    /// send is sent) and keeps the session for as long as it lasts.
    fn finish(mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
        let expiry = self.server.session_expiry_interval();
        let session = self.server.take_session();
        self.shared
            .release(&self.client_id, self.conn, session, expiry, &self.inbox);
    }

    fn link(&self) -> Link<'_> {
        Link {
            conn: self.conn,
            client_id: &self.client_id,
            // The decoder learns the version from the CONNECT, before the engine does.
            version: self
                .decoder
                .version()
                .unwrap_or(self.server.protocol_version()),
        }
    }

    fn tapped(&self, dir: Dir, frame: &[u8]) -> bool {
        let tap = self.shared.tap.as_ref();
        tap.map_or(true, |tap| tap.packet(&self.link(), dir, frame))
    }

    fn fault(&self, what: &str) {
        match &self.shared.tap {
            Some(tap) => tap.fault(&self.link(), what),
            None => eprintln!(
                "broker: connection {} ({}): {what}",
                self.conn, self.client_id
            ),
        }
    }
}

/// Reads the socket until it closes, handing each chunk to the connection's thread.
fn read_socket(mut stream: TcpStream, to: &Sender<Input>) {
    let mut chunk = vec![0; 16 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.send(Input::Bytes(chunk[..n].to_vec())).is_err() {
                    return;
                }
            }
        }
    }
    let _ = to.send(Input::Closed);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Result<Option<Options>, String> {
        parse_args(line.split_whitespace().map(String::from))
    }

    #[test]
    fn listens_on_loopback_port_1883_by_default() {
        let o = args("").unwrap().unwrap();
        assert_eq!(
            (o.host.as_str(), o.port, o.debug),
            ("127.0.0.1", 1883, false)
        );
        assert_eq!(o.config().maximum_packet_size.get(), 1 << 20);
        assert_eq!(o.config().topic_alias_maximum, TOPIC_ALIAS_MAXIMUM);
        let o = args("-p 1999 -d --max-packet-size 2000000")
            .unwrap()
            .unwrap();
        assert_eq!((o.port, o.debug), (1999, true));
        assert_eq!(o.config().maximum_packet_size.get(), 2_000_000);
        assert!(args("--help").unwrap().is_none());
        for bad in ["-p", "-p x", "--max-packet-size 0", "--bogus"] {
            assert!(args(bad).is_err(), "{bad:?} accepted");
        }
    }
}
