//! The example broker (`examples/broker.rs`) against real clients: mosquitto_pub and
//! mosquitto_sub, paho-mqtt (Python) and MQTT.js (Node), at MQTT 3.1.1 and 5.0.
//!
//! Each scenario is written once against [`Peer`], what every client program can do
//! (subscribe and collect messages, publish, leave a persistent session, die with a will),
//! and runs for each peer at each version: `mosquitto::v5::will_on_an_abrupt_close`, ...
//! The broker is the one `paho_util` records ([`TestBroker`]), so a scenario can check the
//! packets too. Spec tags are per version (CONFORMANCE.md).
//!
//! Peers: `mosquitto_pub`/`mosquitto_sub` on `PATH` (Debian `mosquitto-clients`); Python
//! with paho-mqtt 2.x (`MQTTWIRE_PYTHON`); Node with the npm package `mqtt` 5.x, found
//! through `MQTTWIRE_NODE_PATH` (default `target/node-peers/node_modules`, where `.ci/run`
//! installs it). A missing peer skips its tests with a message, or fails them under
//! `MQTTWIRE_REQUIRE_PEERS=1`.

mod paho_util;
mod peers;

use mqttwire::session::SessionConfig;
use mqttwire::{Packet, PacketType, ProtocolVersion};
use paho_util::{count_sent, paho_available, Json, PahoClient, TestBroker};
use std::io::{Read, Write};
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::Duration;

const V3: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;

/// The payload size of the large-message scenario, and the broker limit that lets it in.
const ONE_MIB: usize = 1 << 20;
const RAISED_LIMIT: u32 = 2 << 20;

/// A message as a client received it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Received {
    topic: String,
    /// The payload, or its size in bytes for a large one.
    payload: String,
    qos: u8,
    retain: bool,
}

fn received(topic: &str, payload: &str, qos: u8, retain: bool) -> Received {
    Received {
        topic: topic.to_owned(),
        payload: payload.to_owned(),
        qos,
        retain,
    }
}

/// Shows a large payload by its size.
fn shown(payload: String) -> String {
    if payload.len() > 64 {
        format!("<{} bytes>", payload.len())
    } else {
        payload
    }
}

/// A message to publish: topic, payload (`size=N` for N bytes), QoS, retain.
type Message<'a> = (&'a str, &'a str, u8, bool);

/// What a subscriber does: subscribe to `filters` at `qos`, unsubscribe from
/// `unsubscribe`, and wait for `count` messages; `persistent`: Clean Start 0 (Clean
/// Session 0), with a Session Expiry Interval in 5.0.
#[derive(Default)]
struct Sub<'a> {
    filters: &'a [&'a str],
    qos: u8,
    unsubscribe: &'a [&'a str],
    count: usize,
    persistent: bool,
}

impl<'a> Sub<'a> {
    fn new(filters: &'a [&'a str], qos: u8, count: usize) -> Self {
        Self {
            filters,
            qos,
            count,
            ..Self::default()
        }
    }

    /// The steps of the paho and MQTT.js scripts: a request per filter, then the wait.
    fn steps(&self) -> Vec<String> {
        let subscribe = self.filters.iter().map(|f| format!("sub {f} {}", self.qos));
        let unsubscribe = self.unsubscribe.iter().map(|f| format!("unsub {f}"));
        let wait = format!("expect {}", self.count);
        subscribe.chain(unsubscribe).chain([wait]).collect()
    }

    /// The SUBSCRIBE and UNSUBSCRIBE packets of those steps.
    fn requests(&self) -> (usize, usize) {
        (self.filters.len(), self.unsubscribe.len())
    }
}

/// A subscriber started with [`Peer::subscribe`], collecting its messages.
trait Running {
    /// Waits for it to have its messages and end; returns them, sorted.
    fn finish(self: Box<Self>) -> Vec<Received>;
}

/// What each client program does for the scenarios.
trait Peer {
    /// Connects as `id`, subscribes and unsubscribes as `sub` says, and collects its
    /// messages; returns once the broker has answered the requests.
    fn subscribe(
        &self,
        broker: &TestBroker,
        version: ProtocolVersion,
        id: &str,
        sub: &Sub,
    ) -> Box<dyn Running>;

    /// Connects as `id`, publishes `messages` in order (each acknowledged before the next),
    /// and disconnects.
    fn publish(
        &self,
        broker: &TestBroker,
        version: ProtocolVersion,
        id: &str,
        messages: &[Message],
    );

    /// Connects as `id` with a persistent session, subscribes to `filter` at `qos`, and
    /// disconnects, leaving the session on the broker.
    fn leave_subscribed(
        &self,
        broker: &TestBroker,
        version: ProtocolVersion,
        id: &str,
        filter: &str,
        qos: u8,
    );

    /// Connects as `id` with a QoS 1 will (`topic`, `payload`), and then its connection ends
    /// without DISCONNECT.
    fn die_with_will(
        &self,
        broker: &TestBroker,
        version: ProtocolVersion,
        id: &str,
        topic: &str,
        payload: &str,
    );
}

/// Waits until the broker has sent `id` at least `requests` more SUBACKs and UNSUBACKs
/// than it had at `before` (see [`answered`]).
fn wait_answered(broker: &TestBroker, id: &str, before: (usize, usize), requests: (usize, usize)) {
    broker.wait_until(&format!("{id}'s subscriptions answered"), |records| {
        count_sent(records, id, PacketType::SubAck) >= before.0 + requests.0
            && count_sent(records, id, PacketType::UnsubAck) >= before.1 + requests.1
    });
}

/// How many SUBACKs and UNSUBACKs the broker has sent `id`.
fn answered(broker: &TestBroker, id: &str) -> (usize, usize) {
    let records = broker.records();
    (
        count_sent(&records, id, PacketType::SubAck),
        count_sent(&records, id, PacketType::UnsubAck),
    )
}

/// The output of a finished child process, failing the test if it failed.
fn succeeded(what: &str, output: Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // A large payload would drown the failure message.
    let head: String = stdout.chars().take(2_000).collect();
    let status = output.status;
    assert!(
        status.success(),
        "{what} failed ({status}):\n{head}\n{stderr}"
    );
    stdout
}

/// Waits for `child` (at most 30 s, then kills it), reading its output meanwhile so that a
/// large message cannot fill the pipe and stall it; fails the test if it failed.
fn wait_child(what: &str, mut child: Child) -> String {
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    let status = child.wait().expect("wait");
    let output = Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    succeeded(what, output)
}

/// Reads `pipe` to its end on a thread of its own.
fn drain(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// A message as a `pub` step of the paho and MQTT.js scripts, which take `size=N` for a
/// payload of N bytes (an empty one too).
fn pub_step((topic, payload, qos, retain): &Message) -> String {
    let (payload, size) = match payload.strip_prefix("size=") {
        Some(n) => ("x", format!(" size={n}")),
        None if payload.is_empty() => ("x", " size=0".to_owned()),
        None => (*payload, String::new()),
    };
    let retain = if *retain { " retain" } else { "" };
    format!("pub {topic} {payload} {qos}{retain}{size}")
}

// ---------------------------------------------------------------------------------------
// mosquitto_pub and mosquitto_sub

struct Mosquitto {
    pub_bin: PathBuf,
    sub_bin: PathBuf,
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn mosquitto_clients() -> Option<Mosquitto> {
    match (find_on_path("mosquitto_pub"), find_on_path("mosquitto_sub")) {
        (Some(pub_bin), Some(sub_bin)) => Some(Mosquitto { pub_bin, sub_bin }),
        _ => {
            let install = "apt-get install mosquitto-clients";
            peers::peer_missing("mosquitto_pub/mosquitto_sub", install, "not on PATH");
            None
        }
    }
}

impl Mosquitto {
    fn command(
        &self,
        bin: &PathBuf,
        broker: &TestBroker,
        version: ProtocolVersion,
        id: &str,
    ) -> Command {
        let mut cmd = Command::new(bin);
        let v = if version.is_v5() {
            "mqttv5"
        } else {
            "mqttv311"
        };
        cmd.args([
            "-h",
            "127.0.0.1",
            "-p",
            &broker.port().to_string(),
            "-V",
            v,
            "-i",
            id,
        ]);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    fn persistent(cmd: &mut Command, version: ProtocolVersion) {
        cmd.arg("-c");
        if version.is_v5() {
            cmd.args(["-x", "600"]);
        }
    }
}

struct MosquittoSub(Child);

impl Running for MosquittoSub {
    fn finish(self: Box<Self>) -> Vec<Received> {
        let out = wait_child("mosquitto_sub", self.0);
        let mut all: Vec<_> = out
            .lines()
            .map(|line| {
                let mut f = line.splitn(4, '\t');
                let mut next = || f.next().unwrap_or_default().to_owned();
                let (topic, qos, retain, payload) = (next(), next(), next(), next());
                Received {
                    topic,
                    payload: shown(payload),
                    qos: qos.parse().unwrap_or(9),
                    retain: retain == "1",
                }
            })
            .collect();
        all.sort();
        all
    }
}

impl Peer for Mosquitto {
    fn subscribe(
        &self,
        broker: &TestBroker,
        version: ProtocolVersion,
        id: &str,
        sub: &Sub,
    ) -> Box<dyn Running> {
        let before = answered(broker, id);
        let mut cmd = self.command(&self.sub_bin, broker, version, id);
        cmd.args([
            "-q",
            &sub.qos.to_string(),
            "-C",
            &sub.count.to_string(),
            "-W",
            "20",
        ]);
        cmd.args(["-F", "%t\t%q\t%r\t%p"]);
        for f in sub.filters {
            cmd.args(["-t", f]);
        }
        for f in sub.unsubscribe {
            cmd.args(["-U", f]);
        }
        if sub.persistent {
            Mosquitto::persistent(&mut cmd, version);
        }
        let child = cmd.spawn().expect("start mosquitto_sub");
        // One SUBSCRIBE for all the filters, one UNSUBSCRIBE.
        let unsubscribes = usize::from(!sub.unsubscribe.is_empty());
        wait_answered(broker, id, before, (1, unsubscribes));
        Box::new(MosquittoSub(child))
    }

    fn publish(
        &self,
        broker: &TestBroker,
        version: ProtocolVersion,
        id: &str,
        messages: &[Message],
    ) {
        for (topic, payload, qos, retain) in messages {
            let mut cmd = self.command(&self.pub_bin, broker, version, id);
            cmd.args(["-t", topic, "-q", &qos.to_string()]);
            if *retain {
                cmd.arg("-r");
            }
            // A large payload goes through stdin (-s): an argument that long is refused.
            let large = payload
                .strip_prefix("size=")
                .map(|n| vec![b'x'; n.parse().unwrap()]);
            match (&large, payload.is_empty()) {
                (Some(_), _) => cmd.arg("-s").stdin(Stdio::piped()),
                (None, true) => cmd.arg("-n"),
                (None, false) => cmd.args(["-m", payload]),
            };
            let mut child = cmd.spawn().expect("start mosquitto_pub");
            if let (Some(bytes), Some(mut stdin)) = (large, child.stdin.take()) {
                stdin.write_all(&bytes).expect("write the payload");
            }
            wait_child("mosquitto_pub", child);
        }
    }

    fn leave_subscribed(
        &self,
        broker: &TestBroker,
        version: ProtocolVersion,
        id: &str,
        filter: &str,
        qos: u8,
    ) {
        let mut cmd = self.command(&self.sub_bin, broker, version, id);
        cmd.args(["-t", filter, "-q", &qos.to_string(), "-E"]);
        Mosquitto::persistent(&mut cmd, version);
        succeeded("mosquitto_sub -E", cmd.output().expect("run mosquitto_sub"));
    }

    fn die_with_will(
        &self,
        broker: &TestBroker,
        version: ProtocolVersion,
        id: &str,
        topic: &str,
        payload: &str,
    ) {
        let before = answered(broker, id);
        let mut cmd = self.command(&self.sub_bin, broker, version, id);
        cmd.args([
            "-t",
            "nobody/listens",
            "--will-topic",
            topic,
            "--will-payload",
            payload,
        ]);
        cmd.args(["--will-qos", "1"]);
        let mut child = cmd.spawn().expect("start mosquitto_sub");
        wait_answered(broker, id, before, (1, 0));
        // SIGKILL: the process cannot send DISCONNECT; the kernel closes its socket.
        child.kill().expect("kill mosquitto_sub");
        let _ = child.wait();
    }
}

// ---------------------------------------------------------------------------------------
// paho-mqtt, through tests/paho/client.py

struct Paho;

struct PahoSub(paho_util::PahoRun);

impl Running for PahoSub {
    fn finish(self: Box<Self>) -> Vec<Received> {
        let mut all: Vec<_> = self
            .0
            .finish()
            .messages()
            .into_iter()
            .map(|m| received(&m.topic, &shown(m.payload), m.qos, m.retain))
            .collect();
        all.sort();
        all
    }
}

fn paho(id: &str, version: ProtocolVersion, persistent: bool) -> PahoClient {
    let client = PahoClient::new(id, version);
    if persistent {
        client.persistent()
    } else {
        client
    }
}

impl Peer for Paho {
    fn subscribe(
        &self,
        broker: &TestBroker,
        version: ProtocolVersion,
        id: &str,
        sub: &Sub,
    ) -> Box<dyn Running> {
        let before = answered(broker, id);
        let steps = sub.steps();
        let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
        let run = paho(id, version, sub.persistent).spawn(broker, &steps);
        wait_answered(broker, id, before, sub.requests());
        Box::new(PahoSub(run))
    }

    fn publish(
        &self,
        broker: &TestBroker,
        version: ProtocolVersion,
        id: &str,
        messages: &[Message],
    ) {
        let steps: Vec<String> = messages.iter().map(pub_step).collect();
        let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
        PahoClient::new(id, version).run(broker, &steps);
    }

    fn leave_subscribed(
        &self,
        broker: &TestBroker,
        version: ProtocolVersion,
        id: &str,
        filter: &str,
        qos: u8,
    ) {
        let step = format!("sub {filter} {qos}");
        paho(id, version, true).run(broker, &[&step]);
    }

    fn die_with_will(
        &self,
        broker: &TestBroker,
        version: ProtocolVersion,
        id: &str,
        topic: &str,
        payload: &str,
    ) {
        let client = PahoClient::new(id, version).with_will(topic, payload, 1);
        client.run(broker, &["sub nobody/listens 0", "drop"]);
    }
}

// ---------------------------------------------------------------------------------------
// MQTT.js, through tests/mqttjs/client.js

struct MqttJs {
    node_path: PathBuf,
}

fn mqttjs() -> Option<MqttJs> {
    let node_path = std::env::var_os("MQTTWIRE_NODE_PATH").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/node-peers/node_modules"),
        PathBuf::from,
    );
    let check = Command::new("node")
        .args(["-e", "require('mqtt')"])
        .env("NODE_PATH", &node_path)
        .output();
    match check {
        Ok(out) if out.status.success() => Some(MqttJs { node_path }),
        other => {
            let why = match other {
                Ok(out) => String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_owned(),
                Err(e) => format!("node: {e}"),
            };
            let install = "npm install --prefix target/node-peers mqtt@5";
            peers::peer_missing("MQTT.js (npm package mqtt)", install, &why);
            None
        }
    }
}

/// How an MQTT.js client connects.
#[derive(Default)]
struct JsOptions<'a> {
    persistent: bool,
    topic_alias_maximum: Option<u16>,
    will: Option<(&'a str, &'a str)>,
    will_delay: Option<u32>,
}

struct JsRun(Child);

impl JsRun {
    fn events(self) -> Vec<Json> {
        let out = wait_child("MQTT.js client", self.0);
        out.lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| Json::parse(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

impl Running for JsRun {
    fn finish(self: Box<Self>) -> Vec<Received> {
        let mut all: Vec<_> = self
            .events()
            .iter()
            .filter(|e| e.get("event").as_str() == Some("message"))
            .map(|m| {
                let size = m.get("size").as_u64() as usize;
                let payload = m
                    .get("payload")
                    .as_str()
                    .map_or_else(|| format!("<{size} bytes>"), str::to_owned);
                received(
                    m.get("topic").as_str().unwrap(),
                    &payload,
                    m.get("qos").as_u8(),
                    m.get("retain").as_bool().unwrap(),
                )
            })
            .collect();
        all.sort();
        all
    }
}

impl MqttJs {
    fn spawn(
        &self,
        broker: &TestBroker,
        version: ProtocolVersion,
        id: &str,
        options: &JsOptions,
        steps: &[String],
    ) -> JsRun {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mqttjs/client.js");
        let mut cmd = Command::new("node");
        cmd.env("NODE_PATH", &self.node_path);
        let protocol = if version.is_v5() { "5" } else { "4" };
        cmd.args([
            script,
            "--port",
            &broker.port().to_string(),
            "--protocol",
            protocol,
            "--id",
            id,
        ]);
        if options.persistent {
            cmd.args(["--clean", "0"]);
            if version.is_v5() {
                cmd.args(["--session-expiry", "600"]);
            }
        }
        if let Some(maximum) = options.topic_alias_maximum {
            cmd.args(["--topic-alias-maximum", &maximum.to_string()]);
        }
        if let Some((topic, payload)) = options.will {
            cmd.args(["--will", topic, payload, "1"]);
        }
        if let Some(delay) = options.will_delay {
            cmd.args(["--will-delay", &delay.to_string()]);
        }
        cmd.arg("--").args(steps);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        JsRun(cmd.spawn().expect("start node"))
    }

    fn run(
        &self,
        broker: &TestBroker,
        version: ProtocolVersion,
        id: &str,
        options: &JsOptions,
        steps: &[String],
    ) -> Vec<Json> {
        self.spawn(broker, version, id, options, steps).events()
    }
}

impl Peer for MqttJs {
    fn subscribe(
        &self,
        broker: &TestBroker,
        version: ProtocolVersion,
        id: &str,
        sub: &Sub,
    ) -> Box<dyn Running> {
        let before = answered(broker, id);
        let steps = sub.steps();
        let options = JsOptions {
            persistent: sub.persistent,
            ..JsOptions::default()
        };
        let run = self.spawn(broker, version, id, &options, &steps);
        wait_answered(broker, id, before, sub.requests());
        Box::new(run)
    }

    fn publish(
        &self,
        broker: &TestBroker,
        version: ProtocolVersion,
        id: &str,
        messages: &[Message],
    ) {
        let steps: Vec<String> = messages.iter().map(pub_step).collect();
        self.run(broker, version, id, &JsOptions::default(), &steps);
    }

    fn leave_subscribed(
        &self,
        broker: &TestBroker,
        version: ProtocolVersion,
        id: &str,
        filter: &str,
        qos: u8,
    ) {
        let options = JsOptions {
            persistent: true,
            ..JsOptions::default()
        };
        self.run(
            broker,
            version,
            id,
            &options,
            &[format!("sub {filter} {qos}")],
        );
    }

    fn die_with_will(
        &self,
        broker: &TestBroker,
        version: ProtocolVersion,
        id: &str,
        topic: &str,
        payload: &str,
    ) {
        let options = JsOptions {
            will: Some((topic, payload)),
            ..JsOptions::default()
        };
        let steps = ["sub nobody/listens 0".to_owned(), "drop".to_owned()];
        self.run(broker, version, id, &options, &steps);
    }
}

// ---------------------------------------------------------------------------------------
// The scenarios, for any peer

/// The broker as `examples/broker.rs` configures it by default: mqttwire's defaults, and
/// Topic Aliases from clients.
fn broker() -> TestBroker {
    let mut config = SessionConfig::default();
    config.topic_alias_maximum = 16;
    TestBroker::start(config)
}

fn id(peer: &str, scenario: &str, version: ProtocolVersion) -> String {
    format!("{peer}-{scenario}-v{}", version.level())
}

/// QoS 0, 1 and 2 from one client to another, each delivered once, at the lower of its
/// QoS and the subscription's (5.0 MQTT-3.8.4-8, 3.1.1 MQTT-3.8.4-6): a QoS 1
/// subscription gets the QoS 2 message at QoS 1.
fn qos_0_1_2_between_two_clients(peer: &dyn Peer, name: &str, version: ProtocolVersion) {
    let broker = broker();
    let sub = id(name, "qos-sub", version);
    let sub1 = id(name, "qos-sub1", version);
    let both = peer.subscribe(&broker, version, &sub, &Sub::new(&["q/#"], 2, 3));
    let one = peer.subscribe(&broker, version, &sub1, &Sub::new(&["q/#"], 1, 3));
    let messages = [
        ("q/0", "zero", 0, false),
        ("q/1", "one", 1, false),
        ("q/2", "two", 2, false),
    ];
    peer.publish(&broker, version, &id(name, "qos-pub", version), &messages);
    let expected = |top: u8| -> Vec<_> {
        let all = messages
            .iter()
            .map(|(t, p, q, _)| received(t, p, (*q).min(top), false));
        all.collect()
    };
    assert_eq!(both.finish(), expected(2));
    assert_eq!(one.finish(), expected(1));
    broker.check();
}

/// A retained message reaches a later subscriber with RETAIN 1 (5.0 MQTT-3.3.1-9, 3.1.1
/// MQTT-3.3.1-6 and MQTT-3.3.1-8), and an empty retained message deletes it (5.0
/// MQTT-3.3.1-6, 3.1.1 MQTT-3.3.1-10): the next subscriber gets only the other topic's.
fn retained_messages(peer: &dyn Peer, name: &str, version: ProtocolVersion) {
    let broker = broker();
    let publisher = id(name, "ret-pub", version);
    let messages = [("r/a", "kept", 1, true), ("r/b", "gone", 2, true)];
    peer.publish(&broker, version, &publisher, &messages);
    let first = peer.subscribe(
        &broker,
        version,
        &id(name, "ret-sub", version),
        &Sub::new(&["r/#"], 2, 2),
    );
    let expected = [
        received("r/a", "kept", 1, true),
        received("r/b", "gone", 2, true),
    ];
    assert_eq!(first.finish(), expected);
    peer.publish(&broker, version, &publisher, &[("r/b", "", 1, true)]);
    let second = peer.subscribe(
        &broker,
        version,
        &id(name, "ret-sub2", version),
        &Sub::new(&["r/#"], 2, 1),
    );
    assert_eq!(second.finish(), [received("r/a", "kept", 1, true)]);
    broker.check();
}

/// A connection that ends without DISCONNECT publishes its will (5.0 MQTT-3.1.2-8, 3.1.1
/// MQTT-3.1.2-8).
fn will_on_an_abrupt_close(peer: &dyn Peer, name: &str, version: ProtocolVersion) {
    let broker = broker();
    let watcher = peer.subscribe(
        &broker,
        version,
        &id(name, "will-watch", version),
        &Sub::new(&["w/#"], 1, 1),
    );
    let doomed = id(name, "will-doomed", version);
    peer.die_with_will(&broker, version, &doomed, "w/doomed", "gone");
    assert_eq!(watcher.finish(), [received("w/doomed", "gone", 1, false)]);
    broker.check();
}

/// QoS 1 and 2 messages for a subscriber that is away wait in its session and arrive when
/// it resumes (3.1.1 MQTT-3.1.2-5; 5.0 MQTT-3.1.2-5, a Session Expiry Interval of 600 s).
fn offline_queue_on_resume(peer: &dyn Peer, name: &str, version: ProtocolVersion) {
    let broker = broker();
    let sub = id(name, "away", version);
    peer.leave_subscribed(&broker, version, &sub, "o/#", 2);
    broker.wait_offline(&sub);
    assert!(broker.has_session(&sub));
    let messages = [
        ("o/1", "one", 1, false),
        ("o/2", "two", 2, false),
        ("o/0", "lost", 0, false),
    ];
    peer.publish(&broker, version, &id(name, "away-pub", version), &messages);
    let back = peer.subscribe(
        &broker,
        version,
        &sub,
        &Sub {
            persistent: true,
            ..Sub::new(&["o/#"], 2, 2)
        },
    );
    let expected = [
        received("o/1", "one", 1, false),
        received("o/2", "two", 2, false),
    ];
    assert_eq!(back.finish(), expected);
    broker.check();
}

/// A 1 MiB payload crosses a broker whose Maximum Packet Size is raised to 2 MiB (the
/// default, 1 MiB, is less than such a PUBLISH).
fn a_1_mib_payload_with_the_limit_raised(peer: &dyn Peer, name: &str, version: ProtocolVersion) {
    let mut config = SessionConfig::default();
    config.maximum_packet_size = NonZeroU32::new(RAISED_LIMIT).unwrap();
    let broker = TestBroker::start(config);
    let sub = peer.subscribe(
        &broker,
        version,
        &id(name, "big-sub", version),
        &Sub::new(&["big"], 1, 1),
    );
    let size = format!("size={ONE_MIB}");
    peer.publish(
        &broker,
        version,
        &id(name, "big-pub", version),
        &[("big", &size, 1, false)],
    );
    let expected = received("big", &format!("<{ONE_MIB} bytes>"), 1, false);
    assert_eq!(sub.finish(), [expected]);
    broker.check();
}

/// After UNSUBSCRIBE the filter's messages stop (5.0 and 3.1.1 MQTT-3.10.4-1); the other
/// subscription goes on.
fn unsubscribe(peer: &dyn Peer, name: &str, version: ProtocolVersion) {
    let broker = broker();
    let sub_id = id(name, "unsub", version);
    let sub = peer.subscribe(
        &broker,
        version,
        &sub_id,
        &Sub {
            unsubscribe: &["u/a"],
            ..Sub::new(&["u/a", "u/b"], 1, 1)
        },
    );
    let messages = [("u/a", "dropped", 1, false), ("u/b", "kept", 1, false)];
    peer.publish(&broker, version, &id(name, "unsub-pub", version), &messages);
    assert_eq!(sub.finish(), [received("u/b", "kept", 1, false)]);
    let unsubscribed = broker
        .received(&sub_id)
        .iter()
        .any(|p| matches!(p, Packet::Unsubscribe(_)));
    assert!(unsubscribed);
    broker.check();
}

/// The scenarios, as tests for `$peer` (made by `$make`, `None` when it is missing) at
/// each version.
macro_rules! peer_tests {
    ($peer:ident = $make:expr; $($scenario:ident),* $(,)?) => {
        mod $peer {
            use super::*;

            fn run(scenario: fn(&dyn Peer, &str, ProtocolVersion), version: ProtocolVersion) {
                if let Some(peer) = $make {
                    scenario(&peer, stringify!($peer), version);
                }
            }

            mod v3_1_1 {
                $(
                    #[test]
                    fn $scenario() {
                        super::run(super::super::$scenario, super::super::V3);
                    }
                )*
            }

            mod v5 {
                $(
                    #[test]
                    fn $scenario() {
                        super::run(super::super::$scenario, super::super::V5);
                    }
                )*
            }
        }
    };
}

peer_tests!(mosquitto = mosquitto_clients();
    qos_0_1_2_between_two_clients, retained_messages, will_on_an_abrupt_close,
    offline_queue_on_resume, a_1_mib_payload_with_the_limit_raised, unsubscribe);
peer_tests!(paho = paho_available(thread::current().name().unwrap_or("paho")).then_some(Paho);
    qos_0_1_2_between_two_clients, retained_messages, will_on_an_abrupt_close,
    offline_queue_on_resume, a_1_mib_payload_with_the_limit_raised, unsubscribe);
peer_tests!(mqttjs = mqttjs();
    qos_0_1_2_between_two_clients, retained_messages, will_on_an_abrupt_close,
    offline_queue_on_resume, a_1_mib_payload_with_the_limit_raised, unsubscribe);

/// 5.0 Topic Aliases both ways with MQTT.js (5.0 section 3.3.2.3.4): MQTT.js aliases its
/// topic towards the broker (the broker announces a Topic Alias Maximum of 16), and the
/// broker aliases the topic towards a subscriber that announces 10, never above it (5.0
/// MQTT-3.3.2-11): the second PUBLISH each way crosses with an empty topic.
#[test]
fn mqttjs_topic_aliases_both_ways_v5() {
    let Some(js) = mqttjs() else { return };
    let broker = broker();
    let (sub, publisher) = ("mqttjs-alias-sub", "mqttjs-alias-pub");
    let before = answered(&broker, sub);
    let options = JsOptions {
        topic_alias_maximum: Some(10),
        ..JsOptions::default()
    };
    let steps = ["sub a/# 1".to_owned(), "expect 2".to_owned()];
    let run = js.spawn(&broker, V5, sub, &options, &steps);
    wait_answered(&broker, sub, before, (1, 0));
    let topic = "a/rather/long/topic/name";
    let steps: Vec<String> = (1..=2).map(|n| format!("pub {topic} m{n} 1")).collect();
    js.run(&broker, V5, publisher, &JsOptions::default(), &steps);
    let got = Box::new(run).finish();
    assert_eq!(
        got,
        [
            received(topic, "m1", 1, false),
            received(topic, "m2", 1, false)
        ]
    );

    let aliased = |packets: Vec<Packet>| -> Vec<(String, Option<u16>)> {
        packets
            .into_iter()
            .filter_map(|p| match p {
                Packet::Publish(p) => Some((
                    p.topic.as_str().to_owned(),
                    p.properties.topic_alias.map(|a| a.get()),
                )),
                _ => None,
            })
            .collect()
    };
    let incoming = aliased(broker.received(publisher));
    assert_eq!(incoming.len(), 2);
    assert!(
        incoming[0].0 == topic && incoming[0].1.is_some(),
        "{incoming:?}"
    );
    assert_eq!(incoming[1], (String::new(), incoming[0].1), "{incoming:?}");
    let outgoing = aliased(broker.sent(sub));
    assert_eq!(outgoing.len(), 2);
    assert!(
        outgoing[0].0 == topic && outgoing[0].1.is_some_and(|a| a <= 10),
        "{outgoing:?}"
    );
    assert_eq!(outgoing[1], (String::new(), outgoing[0].1), "{outgoing:?}");
    broker.check();
}

/// A 5.0 message with a User Property reaches a 5.0 subscriber with it, unaltered (5.0
/// MQTT-3.3.2-17), and a 3.1.1 subscriber without it (3.1.1 has no properties): the
/// broker forwards one message to both.
#[test]
fn a_5_0_message_reaches_3_1_1_and_5_0_subscribers() {
    let (Some(js), Some(mosquitto)) = (mqttjs(), mosquitto_clients()) else {
        return;
    };
    let broker = broker();
    let v3_sub = mosquitto.subscribe(&broker, V3, "cross-v3", &Sub::new(&["x/#"], 1, 1));
    let before = answered(&broker, "cross-v5");
    let steps = ["sub x/# 1".to_owned(), "expect 1".to_owned()];
    let v5_sub = js.spawn(&broker, V5, "cross-v5", &JsOptions::default(), &steps);
    wait_answered(&broker, "cross-v5", before, (1, 0));
    let steps = ["pub x/y hello 1 user=origin:mqttjs".to_owned()];
    js.run(&broker, V5, "cross-pub", &JsOptions::default(), &steps);
    assert_eq!(v3_sub.finish(), [received("x/y", "hello", 1, false)]);
    let events = v5_sub.events();
    let message = events
        .iter()
        .find(|e| e.get("event").as_str() == Some("message"))
        .expect("a message");
    let user = message
        .get("properties")
        .get("userProperties")
        .get("origin");
    assert_eq!(user.as_str(), Some("mqttjs"), "{message:?}");
    broker.check();
}

/// The messages an MQTT.js run received: topic, payload, RETAIN, Subscription Identifiers.
fn js_messages(events: &[Json]) -> Vec<(String, String, bool, Vec<u64>)> {
    let messages = events
        .iter()
        .filter(|e| e.get("event").as_str() == Some("message"));
    let mut all: Vec<_> = messages
        .map(|m| {
            let ids = m.get("properties").get("subscriptionIdentifier");
            let mut ids: Vec<u64> = match ids {
                Json::Null => Vec::new(),
                Json::Arr(ids) => ids.iter().map(Json::as_u64).collect(),
                id => vec![id.as_u64()],
            };
            ids.sort_unstable();
            let text = |key| m.get(key).as_str().unwrap_or_default().to_owned();
            (
                text("topic"),
                text("payload"),
                m.get("retain").as_bool().unwrap(),
                ids,
            )
        })
        .collect();
    all.sort();
    all
}

fn steps(steps: &[&str]) -> Vec<String> {
    steps.iter().map(|s| (*s).to_owned()).collect()
}

/// 5.0 subscription options the broker applies: one copy per client with the identifiers
/// of every matching subscription (MQTT-3.3.4-3, MQTT-3.3.4-4), RETAIN kept under Retain As
/// Published on any of them (MQTT-3.3.1-13), and No Local keeping a client's own message
/// from it (MQTT-3.8.3-3).
#[test]
fn mqttjs_subscription_identifiers_retain_as_published_and_no_local_v5() {
    let Some(js) = mqttjs() else { return };
    let broker = broker();
    let (sub, other) = ("mqttjs-options-sub", "mqttjs-options-other");
    let sub_steps = steps(&[
        "sub s/# 1 id=7 rap",
        "sub s/x 1 id=9",
        "sub n/# 1 nl",
        "pub n/self loop 1",
        "expect 2",
        "wait 300",
    ]);
    let run = js.spawn(&broker, V5, sub, &JsOptions::default(), &sub_steps);
    broker.wait_until("the subscriber's own message", |records| {
        records.iter().any(|r| {
            r.client_id == sub && matches!(&r.seen, paho_util::Seen::Received(Packet::Publish(_)))
        })
    });
    let other_steps = steps(&["pub s/x both 1 retain", "pub n/other hi 1"]);
    js.run(&broker, V5, other, &JsOptions::default(), &other_steps);
    let got = js_messages(&run.events());
    let expected = [
        ("n/other".to_owned(), "hi".to_owned(), false, vec![]),
        ("s/x".to_owned(), "both".to_owned(), true, vec![7, 9]),
    ];
    assert_eq!(got, expected);
    broker.check();
}

/// 5.0 Retain Handling: 1 sends the retained messages only for a new subscription, 2 never
/// (MQTT-3.3.1-10, MQTT-3.3.1-11); 0 (the default) on every SUBSCRIBE (MQTT-3.3.1-9).
#[test]
fn mqttjs_retain_handling_v5() {
    let Some(js) = mqttjs() else { return };
    let broker = broker();
    let retained = steps(&["pub r/a kept 1 retain", "pub q/a kept 1 retain"]);
    js.run(
        &broker,
        V5,
        "mqttjs-rh-pub",
        &JsOptions::default(),
        &retained,
    );
    let sub_steps = steps(&[
        "sub r/# 1 rh=1",
        "sub r/# 1 rh=1",
        "sub q/# 1 rh=2",
        "expect 1",
        "wait 300",
    ]);
    let events = js.run(
        &broker,
        V5,
        "mqttjs-rh-sub",
        &JsOptions::default(),
        &sub_steps,
    );
    let got = js_messages(&events);
    assert_eq!(got, [("r/a".to_owned(), "kept".to_owned(), true, vec![])]);
    broker.check();
}

/// 5.0 Will Delay Interval: the will of a connection that ended goes out once the delay
/// has passed (MQTT-3.1.2-8), and not at all when the client resumes the session within
/// it (MQTT-3.1.3-9).
#[test]
fn mqttjs_will_delay_interval_v5() {
    let Some(js) = mqttjs() else { return };
    let broker = broker();
    let watch = ["sub w/# 1", "expect 1", "wait 1500"];
    let watcher = js.spawn(
        &broker,
        V5,
        "mqttjs-delay-watch",
        &JsOptions::default(),
        &steps(&watch),
    );
    wait_answered(&broker, "mqttjs-delay-watch", (0, 0), (1, 0));
    let delayed = |topic| JsOptions {
        persistent: true,
        will: Some((topic, "gone")),
        will_delay: Some(1),
        ..JsOptions::default()
    };
    // Back within the delay: no will.
    js.run(
        &broker,
        V5,
        "mqttjs-delay-back",
        &delayed("w/back"),
        &steps(&["drop"]),
    );
    js.run(
        &broker,
        V5,
        "mqttjs-delay-back",
        &JsOptions {
            persistent: true,
            ..JsOptions::default()
        },
        &[],
    );
    // Gone for good: the will, a second later.
    let start = std::time::Instant::now();
    js.run(
        &broker,
        V5,
        "mqttjs-delay-gone",
        &delayed("w/gone"),
        &steps(&["drop"]),
    );
    let got = js_messages(&watcher.events());
    assert_eq!(
        got,
        [("w/gone".to_owned(), "gone".to_owned(), false, vec![])]
    );
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "{:?}",
        start.elapsed()
    );
    broker.check();
}

/// Keep alive is the engine's: a client silent for one and a half times its Keep Alive is
/// disconnected (3.1.1 MQTT-3.1.2-24, 5.0 MQTT-3.1.2-22), with DISCONNECT 0x8D in 5.0. The
/// client here is a bare socket that sends a CONNECT with Keep Alive 1 and nothing more.
#[test]
fn a_silent_client_is_disconnected_after_one_and_a_half_keep_alives() {
    use mqttwire::{Connect, DisconnectReasonCode, MqttString};
    let broker = broker();
    for version in [V3, V5] {
        let id = format!("silent-v{}", version.level());
        let mut connect = Connect::new(version, MqttString::new(&id).unwrap());
        connect.keep_alive = 1;
        let mut bytes = bytes::BytesMut::new();
        Packet::from(connect).encode(version, &mut bytes).unwrap();
        let mut socket = std::net::TcpStream::connect(("127.0.0.1", broker.port())).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let start = std::time::Instant::now();
        socket.write_all(&bytes).unwrap();
        let mut received = Vec::new();
        socket
            .read_to_end(&mut received)
            .expect("the broker closes the connection");
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(1400),
            "{version}: {elapsed:?}"
        );
        let sent = broker.sent(&id);
        let ending = sent.last().map(Packet::packet_type);
        if version.is_v5() {
            let reason = match sent.last() {
                Some(Packet::Disconnect(d)) => Some(d.reason_code),
                _ => None,
            };
            assert_eq!(
                reason,
                Some(DisconnectReasonCode::KeepAliveTimeout),
                "{sent:?}"
            );
        } else {
            assert_eq!(ending, Some(PacketType::ConnAck), "{sent:?}");
        }
    }
    broker.check();
}
