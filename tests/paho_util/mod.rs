//! The server side of the paho-mqtt interop tests, and the runner for the paho side.
//!
//! [`TestBroker`] is the example broker, `examples/broker.rs` (one broker, not two), on a
//! free loopback port, watched by a [`Tap`] that records every packet and event of every
//! connection and can cut a client's link at a chosen packet. The broker's own faults
//! (a command its session refused, bytes it cannot decode or produced that do not decode)
//! are recorded too, and [`TestBroker::check`] fails a test on them.
//!
//! [`PahoClient`] runs `tests/paho/client.py` (paho-mqtt 2.x) with a script of steps and
//! parses the JSON line it prints per event.

#![allow(dead_code)]

#[path = "../../examples/broker.rs"]
mod broker;

use broker::{Broker, Dir, Link, Tap};
use bytes::Bytes;
use mqttwire::session::{Event, SessionConfig};
use mqttwire::{Packet, PacketType, ProtocolVersion, Publish, QoS, QosPid, TopicName};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command as Process, Stdio};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread;
use std::time::Duration;

/// How long a test waits for the broker to see something.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a paho script may run in all (each of its waits has its own 5 s limit).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);

// ------------------------------------------------------------------------------------------
// The broker, recorded
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

#[derive(Default)]
struct Recorded {
    records: Vec<Record>,
    /// Armed link failures: client, cut, how many matching packets still pass first.
    cuts: Vec<(String, Cut, usize)>,
}

/// The broker's tap: records everything, and fires the armed cuts.
#[derive(Default)]
struct Recorder {
    recorded: Mutex<Recorded>,
    /// Notified whenever something is recorded.
    changed: Condvar,
}

impl Recorder {
    fn lock(&self) -> MutexGuard<'_, Recorded> {
        self.recorded.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, link: &Link, seen: Seen) {
        self.lock().records.push(Record {
            conn: link.conn,
            client_id: link.client_id.to_owned(),
            seen,
        });
        self.changed.notify_all();
    }

    /// Whether an armed cut fires for this packet.
    fn take_cut(&self, client_id: &str, cut: Cut) -> bool {
        let mut recorded = self.lock();
        let armed = recorded.cuts.iter_mut().enumerate();
        let mut armed = armed.filter(|(_, (id, c, _))| id == client_id && *c == cut);
        match armed.next() {
            Some((_, (_, _, pass))) if *pass > 0 => {
                *pass -= 1;
                false
            }
            Some((i, _)) => {
                recorded.cuts.remove(i);
                true
            }
            None => false,
        }
    }
}

impl Tap for &'static Recorder {
    fn packet(&self, link: &Link, dir: Dir, frame: &[u8]) -> bool {
        let bytes = Bytes::copy_from_slice(frame);
        let packet = match Packet::decode(&bytes, link.version) {
            Ok((packet, n)) if n == bytes.len() => packet,
            other => {
                let what = format!("{dir:?} bytes {bytes:02x?} decode as {other:?}");
                self.record(link, Seen::Fault(what));
                return true;
            }
        };
        let cut = match dir {
            Dir::In => Cut::Receiving(packet.packet_type()),
            Dir::Out => Cut::Sending(packet.packet_type()),
        };
        if self.take_cut(link.client_id, cut) {
            self.record(link, Seen::Cut(cut));
            return false;
        }
        let seen = match dir {
            Dir::In => Seen::Received(packet),
            Dir::Out => Seen::Sent(packet),
        };
        self.record(link, seen);
        true
    }

    fn event(&self, link: &Link, event: &Event) {
        self.record(link, Seen::Event(detached(event)));
    }

    fn fault(&self, link: &Link, what: &str) {
        self.record(link, Seen::Fault(what.to_owned()));
    }
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

/// The example broker on 127.0.0.1 (a free port), every connection served by a [`Server`]
/// session with the same configuration, recorded. It serves until the test process ends.
///
/// [`Server`]: mqttwire::session::Server
pub struct TestBroker {
    port: u16,
    broker: Broker,
    recorder: &'static Recorder,
}

impl TestBroker {
    pub fn start(config: SessionConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a test port");
        let port = listener.local_addr().expect("local address").port();
        // Leaked: the broker's threads outlive the test, which ends with its process.
        let recorder: &'static Recorder = Box::leak(Box::default());
        let broker = Broker::new(config, Some(Box::new(recorder)));
        let serving = broker.clone();
        thread::spawn(move || serving.serve(listener));
        Self {
            port,
            broker,
            recorder,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
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
        self.recorder.lock().cuts.push(armed);
    }

    /// Publishes a message as if a client had: to every matching subscriber, and into the
    /// retained store if `retain`.
    pub fn publish(&self, topic: &str, payload: &str, qos: QoS, retain: bool) {
        let mut message = Publish::new(TopicName::new(topic).unwrap(), payload.to_owned());
        message.retain = retain;
        message.qos = QosPid::AtMostOnce; // each subscriber's session sets its own
        self.broker.publish(qos, &message);
    }

    /// Everything recorded so far.
    pub fn records(&self) -> Vec<Record> {
        self.recorder.lock().records.clone()
    }

    /// The events the sessions of `client_id`'s connections reported, in order.
    pub fn events(&self, client_id: &str) -> Vec<Event> {
        let recorded = self.recorder.lock();
        let mine = recorded.records.iter().filter(|r| r.client_id == client_id);
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
        let recorded = self.recorder.lock();
        let mine = recorded.records.iter().filter(|r| r.client_id == client_id);
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
        self.broker.has_session(client_id)
    }

    /// Waits (at most [`TIMEOUT`]) until `done` holds for the record; panics otherwise.
    pub fn wait_until(&self, what: &str, mut done: impl FnMut(&[Record]) -> bool) {
        let deadline = std::time::Instant::now() + TIMEOUT;
        let mut recorded = self.recorder.lock();
        while !done(&recorded.records) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                let records = recorded.records.clone();
                drop(recorded);
                panic!("timed out waiting for the broker: {what}\n{records:#?}");
            }
            recorded = self
                .recorder
                .changed
                .wait_timeout(recorded, left)
                .unwrap()
                .0;
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
        while self.broker.is_online(client_id) {
            assert!(
                std::time::Instant::now() < deadline,
                "{client_id} still connected"
            );
            thread::sleep(Duration::from_millis(5));
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

/// How many packets of type `kind` the broker sent to `client_id`.
pub fn count_sent(records: &[Record], client_id: &str, kind: PacketType) -> usize {
    let mine = records.iter().filter(|r| r.client_id == client_id);
    mine.filter(|r| matches!(&r.seen, Seen::Sent(p) if p.packet_type() == kind))
        .count()
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
    /// A will: topic, payload, QoS.
    pub will: Option<(String, String, u8)>,
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
            will: None,
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

    pub fn with_will(mut self, topic: &str, payload: &str, qos: u8) -> Self {
        self.will = Some((topic.to_owned(), payload.to_owned(), qos));
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
        if let Some((topic, payload, qos)) = &self.will {
            cmd.args(["--will", topic, payload, &qos.to_string()]);
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
