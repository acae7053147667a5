//! A session saved to a file survives `kill -9`: the `client` example, run as a separate
//! process with `--session FILE`, is killed with SIGKILL while it has a message in every
//! unfinished stage, restarted from FILE, and every message reaches a subscriber of a real
//! mosquitto exactly once (QoS 1: at least once, and no more often than the broker
//! received it). At MQTT 3.1.1 and 5.0 (`mqtt_3_1_1::*`, `mqtt_5::*`).
//!
//! The stages are made deterministic by a proxy between the client and mosquitto that
//! decodes every packet and drops four of them, as a link dying at the worst moment would:
//!
//! | message | QoS | dropped by the proxy | stage when killed |
//! |---|---|---|---|
//! | A | 2 | the client's PUBREL | past PUBREC, PUBREL sent, awaiting PUBCOMP |
//! | B | 2 | mosquitto's PUBREC | PUBLISH sent and received by mosquitto, awaiting PUBREC |
//! | C | 1 | mosquitto's PUBACK | PUBLISH sent, delivered by mosquitto, awaiting PUBACK |
//! | D | 1 | the client's PUBLISH | PUBLISH sent, never reached mosquitto |
//!
//! The proxy also checks the order "save, then write" on every QoS 1 or 2 PUBLISH and every
//! PUBREL the client sends, in both runs: when it reads the packet, the file must already
//! make a restart send it again (its PUBLISH, or for a message past PUBREC its PUBREL), as
//! worked out by a sans-IO session restored from the file. The client wrote the packet
//! before the proxy read it, so a save that came after the write would show.
//!
//! Once the proxy has seen all four, the client has nothing more to do and is killed.
//! Because it saves before it writes, the file must already hold all four; the restarted
//! client (through the proxy, now forwarding everything) must send A's PUBREL and not its
//! PUBLISH, and B, C, D again with DUP 1 and their identifiers.
//!
//! What "exactly once" can mean for C: mosquitto delivered C when it received the first
//! PUBLISH, and MQTT has no way for a QoS 1 sender to know that once the PUBACK is lost, so
//! the resend may be delivered again (mosquitto does). The assertion for every QoS 1
//! message is therefore: delivered at least once, and at most once per copy of its PUBLISH
//! that reached the broker, as the proxy counts them. For D that is exactly once (its only
//! copy to arrive is the resend); for C once or twice. A, B (QoS 2): exactly once.
//!
//! The subscriber is mqttwire's blocking client in this process; its trace shows that
//! mosquitto sent it no retransmission, so its counts are the broker's deliveries and not
//! the result of its own duplicate detection.
//!
//! The client is the example's binary, built by `cargo build --example client` with this
//! test's features and profile (once per test process). Without mosquitto the scenario
//! prints a skip message and passes; with `MQTTWIRE_REQUIRE_PEERS=1` it fails instead.

mod peers;

#[path = "../examples/blocking/mod.rs"]
mod blocking;

use blocking::{BlockingClient, Direction};
use bytes::{Bytes, BytesMut};
use mqttwire::session::{Client, Event, SessionConfig, SessionState};
use mqttwire::{
    ConnAck, Connect, ConnectReasonCode, MqttString, Packet, PacketId, ProtocolVersion, Publish,
    QoS, QosPid, TopicFilter, TopicName,
};
use peers::{Mosquitto, Options};
use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The longest any single step may take.
const WAIT: Duration = Duration::from_secs(10);

mod mqtt_3_1_1 {
    #[test]
    fn every_message_arrives_once_after_the_publisher_is_killed_in_each_stage() {
        super::killed_publisher_resumes_from_its_file(mqttwire::ProtocolVersion::V3_1_1);
    }
}

mod mqtt_5 {
    #[test]
    fn every_message_arrives_once_after_the_publisher_is_killed_in_each_stage() {
        super::killed_publisher_resumes_from_its_file(mqttwire::ProtocolVersion::V5);
    }
}

#[test]
fn a_session_file_that_does_not_restore_is_refused_before_connecting() {
    let dir = TempDir::new("corrupt");
    let file = dir.path().join("session");
    let mut saved = BytesMut::new();
    SessionState::default().save(&mut saved).unwrap();
    let last = saved.len() - 1;
    saved[last] ^= 1;
    std::fs::write(&file, &saved).unwrap();
    // Nothing may connect here: the client must stop before opening a connection.
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let out = Command::new(client_example())
        .args(["pub", "-t", "t", "-m", "x", "-q", "1", "--id", "c"])
        .args(["--port", &port, "--session"])
        .arg(&file)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot restore the session saved in") && stderr.contains("checksum"),
        "{stderr}"
    );
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_err(), "the client connected anyway");
    assert_eq!(std::fs::read(&file).unwrap(), saved, "the file was changed");
}

// ---------------------------------------------------------------------------- scenario

fn killed_publisher_resumes_from_its_file(v: ProtocolVersion) {
    let Some(broker) = Mosquitto::start(Options::default()) else {
        return;
    };
    let dir = TempDir::new(if v.is_v5() { "v5" } else { "v311" });
    let file = dir.path().join("session");
    let id = format!("persist-{}", if v.is_v5() { "5" } else { "311" });
    let mut sub = subscriber(&broker, v);
    let proxy = Proxy::start(broker.port, v, file.clone());

    // First run: A and B at QoS 2, C and D at QoS 1, through the filtering proxy.
    let mut first = Run::start(
        &dir,
        "first",
        &[
            "pub",
            "-t",
            "persist/x",
            "-q",
            "2",
            "-m",
            "A",
            "-m",
            "B",
            "-q",
            "1",
            "-m",
            "C",
            "-m",
            "D",
        ],
        &id,
        proxy.port,
        &file,
        v,
    );
    proxy.wait_for("the four dropped packets", &mut first, |log| {
        let dropped = |name: &str, kind: &str| {
            log.iter()
                .any(|s| s.dropped && s.name.as_deref() == Some(name) && s.kind() == kind)
        };
        dropped("A", "PUBREL")
            && dropped("B", "PUBREC")
            && dropped("C", "PUBACK")
            && dropped("D", "PUBLISH")
    });
    // Saved before written: the PUBREL of A and the PUBLISH of D were on the wire, so the
    // file holds all four (A past PUBREC, first, as it will be resent first).
    let state = SessionState::restore(&std::fs::read(&file).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}\n{}", file.display(), first.stderr()));
    let ids: Vec<u16> = state.unacknowledged_ids().map(PacketId::get).collect();
    let log = proxy.log();
    assert_eq!(
        ids,
        ["A", "B", "C", "D"].map(|name| id_of(&log, name)),
        "the file holds A, B, C and D in resend order: {state:?}"
    );
    assert_eq!(state.incomplete_incoming(), 0);
    let status = first.kill();
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        assert_eq!(
            status.signal(),
            Some(9),
            "the first run ended before SIGKILL ({status}): {}",
            first.stderr()
        );
    }
    #[cfg(not(unix))]
    let _ = status;

    // Second run from the file, no new messages: it only completes the saved ones.
    proxy.forward_everything();
    let restart = proxy.connections();
    let mut second = Run::start(&dir, "second", &["pub"], &id, proxy.port, &file, v);
    let status = second.wait();
    assert!(
        status.success(),
        "the restarted client failed ({status}): {}",
        second.stderr()
    );

    let log = proxy.log();
    let resumed: Vec<&Seen> = log.iter().filter(|s| s.conn >= restart).collect();
    let connect = resumed
        .iter()
        .find_map(|s| match &s.packet {
            Packet::Connect(c) => Some(c),
            _ => None,
        })
        .expect("the restarted client connected");
    assert!(!connect.clean_start, "resumed with Clean Start 0");
    if v.is_v5() {
        assert_eq!(connect.properties.session_expiry_interval, Some(3600));
    }
    assert!(
        resumed
            .iter()
            .any(|s| matches!(&s.packet, Packet::ConnAck(a) if a.session_present)),
        "mosquitto kept the session: {resumed:#?}"
    );
    // What the restarted client sent before anything else: PUBREL for A (never its
    // PUBLISH again, [MQTT-4.3.3-6] in 5.0), then B, C, D with DUP 1 and the identifiers
    // they had, in publish order ([MQTT-4.4.0-1], [MQTT-3.3.1-1]).
    let resent: Vec<String> = resumed
        .iter()
        .filter(|s| s.from_client && !matches!(s.packet, Packet::Connect(_)))
        .take(4)
        .map(|s| s.describe())
        .collect();
    let expected = vec![
        format!("PUBREL A id={}", id_of(&log, "A")),
        format!("PUBLISH B id={} qos=2 dup=1", id_of(&log, "B")),
        format!("PUBLISH C id={} qos=1 dup=1", id_of(&log, "C")),
        format!("PUBLISH D id={} qos=1 dup=1", id_of(&log, "D")),
    ];
    assert_eq!(resent, expected, "{}", second.stderr());
    assert!(
        !resumed
            .iter()
            .any(|s| s.from_client && s.kind() == "PUBLISH" && s.name.as_deref() == Some("A")),
        "A's PUBLISH was sent again after its PUBREC"
    );

    // The subscriber: a marker published now arrives after anything the two runs caused.
    let got = before_marker(&mut sub);
    let delivered = |name: &str| {
        got.iter()
            .filter(|m| m.topic.as_str() == "persist/x" && &m.payload[..] == name.as_bytes())
            .count()
    };
    let payloads: Vec<String> = got
        .iter()
        .map(|m| String::from_utf8_lossy(&m.payload).into_owned())
        .collect();
    for name in ["A", "B"] {
        assert_eq!(
            delivered(name),
            1,
            "QoS 2 {name} exactly once: {payloads:?}"
        );
    }
    let reached = |name: &str| {
        log.iter()
            .filter(|s| {
                s.from_client
                    && !s.dropped
                    && s.kind() == "PUBLISH"
                    && s.name.as_deref() == Some(name)
            })
            .count()
    };
    assert_eq!(
        (reached("C"), reached("D")),
        (2, 1),
        "copies that reached mosquitto"
    );
    for name in ["C", "D"] {
        assert!(
            (1..=reached(name)).contains(&delivered(name)),
            "QoS 1 {name}: at least once, at most once per copy mosquitto received ({}): \
             {payloads:?}",
            reached(name)
        );
    }
    let retransmitted = sub
        .trace()
        .iter()
        .filter(|t| t.direction == Direction::Received)
        .filter(|t| matches!(&t.packet, Packet::Publish(p) if p.dup))
        .count();
    assert_eq!(
        retransmitted, 0,
        "mosquitto retransmitted to the subscriber"
    );

    // A clean finish keeps the file, with nothing left in it.
    let after = SessionState::restore(&std::fs::read(&file).unwrap()).unwrap();
    assert!(after.is_empty(), "{after:?}");
    assert_eq!(proxy.undecodable(), 0, "packets the proxy could not decode");
    let unsaved = proxy.unsaved();
    assert!(
        unsaved.is_empty(),
        "written before the file could resend them: {unsaved:#?}"
    );
    let checked = log
        .iter()
        .filter(|s| s.from_client && matches!(s.kind(), "PUBLISH" | "PUBREL"))
        .count();
    // The first run's 4 PUBLISHes and 1 PUBREL, the second's 4 resends and B's PUBREL.
    assert_eq!(checked, 10, "packets checked against the file");
}

/// What a client restored from `file` would send first on resuming: `(true, id)` for a
/// PUBREL, `(false, id)` for a PUBLISH.
fn resends(file: &Path, v: ProtocolVersion) -> Result<Vec<(bool, u16)>, String> {
    let bytes = std::fs::read(file).map_err(|e| e.to_string())?;
    let state = SessionState::restore(&bytes).map_err(|e| e.to_string())?;
    let mut client = Client::with_session(SessionConfig::default(), state);
    let now = mqttwire::session::Instant::from(std::time::Instant::now());
    let mut connect = Connect::new(v, MqttString::new("restored").unwrap());
    connect.clean_start = false;
    client.connect(now, connect).map_err(|e| e.to_string())?;
    while client.poll_transmit(now).is_some() {}
    let mut ack = ConnAck::new(ConnectReasonCode::Success);
    ack.session_present = true;
    client
        .handle_incoming(now, Packet::ConnAck(ack))
        .map_err(|e| e.to_string())?;
    let mut sent = Vec::new();
    while let Some(packet) = client.poll_transmit(now) {
        match packet {
            Packet::PubRel(r) => sent.push((true, r.packet_id.get())),
            Packet::Publish(p) => sent.extend(p.qos.packet_id().map(|id| (false, id.get()))),
            _ => {}
        }
    }
    Ok(sent)
}

/// The identifier the client gave the message named `name` (its payload).
fn id_of(log: &[Seen], name: &str) -> u16 {
    log.iter()
        .find(|s| s.from_client && s.kind() == "PUBLISH" && s.name.as_deref() == Some(name))
        .and_then(|s| match &s.packet {
            Packet::Publish(p) => p.qos.packet_id().map(PacketId::get),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no PUBLISH of {name} seen"))
}

fn subscriber(broker: &Mosquitto, v: ProtocolVersion) -> BlockingClient {
    let mut sub = BlockingClient::new(SessionConfig::default());
    sub.enable_trace();
    sub.set_timeout(WAIT);
    let connect = Connect::new(v, MqttString::new("persist-sub").unwrap());
    sub.connect(broker.addr(), connect).unwrap();
    let ack = sub
        .subscribe_to(TopicFilter::new("persist/#").unwrap(), QoS::ExactlyOnce)
        .unwrap();
    assert!(ack.reason_codes.iter().all(|c| !c.is_error()), "{ack:?}");
    sub
}

/// Publishes a marker from the subscriber itself (it is subscribed to it), waits for it,
/// and returns the messages received before it. mosquitto forwards messages to one
/// subscriber in the order it handled them, so a late duplicate would come before it.
fn before_marker(sub: &mut BlockingClient) -> Vec<Publish> {
    let marker = Publish::new(TopicName::new("persist/marker").unwrap(), "marker");
    let outcome = sub.publish_and_wait(QoS::AtLeastOnce, marker).unwrap();
    assert!(
        matches!(outcome, Some(Event::PublishAcknowledged { .. })),
        "{outcome:?}"
    );
    sub.wait_for(
        |e| matches!(e, Event::Message(m) if m.topic.as_str() == "persist/marker"),
        WAIT,
    )
    .unwrap_or_else(|e| panic!("marker not received: {e}"));
    sub.take_messages()
}

// ------------------------------------------------------------------------- the client

/// The `client` example's binary, built once per test process with this test's features
/// and profile, so that it reuses the library `cargo test` built.
fn client_example() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let mut features = Vec::new();
        if cfg!(feature = "std") {
            features.push("std");
        }
        if cfg!(feature = "arbitrary") {
            features.push("arbitrary");
        }
        if cfg!(feature = "tokio-util") {
            features.push("tokio-util");
        }
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args([
                "build",
                "--quiet",
                "--example",
                "client",
                "--message-format=json",
            ])
            .arg("--manifest-path")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
            .args(["--no-default-features", "--features", &features.join(",")]);
        if !cfg!(debug_assertions) {
            cargo.arg("--release");
        }
        let out = cargo
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .expect("cannot run cargo to build the client example");
        assert!(out.status.success(), "cargo build --example client failed");
        // The compiler-artifact message of the example names its executable.
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains(r#""reason":"compiler-artifact""#))
            .filter(|l| l.contains(r#""kind":["example"]"#) && l.contains(r#""name":"client""#))
            .find_map(|l| {
                let start = l.find(r#""executable":""#)? + r#""executable":""#.len();
                let end = start + l[start..].find('"')?;
                Some(PathBuf::from(&l[start..end]))
            })
            .expect("cargo named no executable for the client example")
    })
}

/// One run of the client example, its output in files of the test's directory.
struct Run {
    child: Child,
    stderr: PathBuf,
}

impl Run {
    fn start(
        dir: &TempDir,
        name: &str,
        args: &[&str],
        id: &str,
        port: u16,
        file: &Path,
        v: ProtocolVersion,
    ) -> Run {
        let stderr = dir.path().join(format!("{name}.stderr"));
        let version = if v.is_v5() { "5" } else { "3.1.1" };
        let child = Command::new(client_example())
            .args(args)
            .args([
                "--id",
                id,
                "--mqtt",
                version,
                "-d",
                "--port",
                &port.to_string(),
            ])
            .arg("--session")
            .arg(file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("cannot start the client example");
        Run { child, stderr }
    }

    /// What it printed with `-d`: every packet and save, for failure messages.
    fn stderr(&self) -> String {
        format!(
            "client output ({}):\n{}",
            self.stderr.display(),
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        )
    }

    /// Whether it ended by itself.
    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().unwrap()
    }

    /// SIGKILL, where the platform has it.
    fn kill(&mut self) -> ExitStatus {
        let _ = self.child.kill();
        self.child.wait().unwrap()
    }

    fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.exited() {
                return status;
            }
            if Instant::now() > deadline {
                let status = self.kill();
                panic!("the client did not finish ({status}): {}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// -------------------------------------------------------------------------- the proxy

/// One packet the proxy saw.
#[derive(Debug, Clone)]
struct Seen {
    /// Which connection through the proxy, counted from 0.
    conn: usize,
    /// Client to broker (else broker to client).
    from_client: bool,
    packet: Packet,
    /// The payload of the message it belongs to (PUBLISH, or an acknowledgement of one).
    name: Option<String>,
    /// Not forwarded.
    dropped: bool,
}

impl Seen {
    fn kind(&self) -> &'static str {
        self.packet.packet_type().name()
    }

    fn describe(&self) -> String {
        let name = self.name.as_deref().unwrap_or("?");
        match &self.packet {
            Packet::Publish(p) => format!(
                "PUBLISH {name} id={} qos={} dup={}",
                p.qos.packet_id().map_or(0, PacketId::get),
                p.qos.qos() as u8,
                u8::from(p.dup)
            ),
            Packet::PubRel(r) => format!("PUBREL {name} id={}", r.packet_id),
            other => other.packet_type().name().to_owned(),
        }
    }
}

#[derive(Default)]
struct ProxyState {
    log: Vec<Seen>,
    /// The client's packet identifiers and the payloads of their messages.
    names: HashMap<u16, String>,
    /// Client packets that the session file would not have sent again when they arrived,
    /// with what it would have sent.
    unsaved: Vec<String>,
}

/// A TCP proxy to mosquitto that decodes each packet, logs it and, while filtering,
/// drops the four packets of the scenario (see the module documentation).
struct Proxy {
    port: u16,
    state: Arc<Mutex<ProxyState>>,
    filtering: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    connections: Arc<AtomicUsize>,
    undecodable: Arc<AtomicUsize>,
    accept: Option<JoinHandle<()>>,
}

impl Proxy {
    fn start(broker_port: u16, v: ProtocolVersion, file: PathBuf) -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(ProxyState::default()));
        let filtering = Arc::new(AtomicBool::new(true));
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
        let undecodable = Arc::new(AtomicUsize::new(0));
        let accept = {
            let (state, filtering, stop) = (state.clone(), filtering.clone(), stop.clone());
            let (connections, undecodable) = (connections.clone(), undecodable.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let client = match listener.accept() {
                        Ok((client, _)) => client,
                        Err(_) => {
                            std::thread::sleep(Duration::from_millis(2));
                            continue;
                        }
                    };
                    client.set_nonblocking(false).unwrap();
                    let broker = TcpStream::connect(("127.0.0.1", broker_port)).unwrap();
                    let _ = client.set_nodelay(true);
                    let _ = broker.set_nodelay(true);
                    let conn = connections.fetch_add(1, Ordering::SeqCst);
                    for from_client in [true, false] {
                        let (src, dst) = if from_client {
                            (client.try_clone().unwrap(), broker.try_clone().unwrap())
                        } else {
                            (broker.try_clone().unwrap(), client.try_clone().unwrap())
                        };
                        let pump = Pump {
                            conn,
                            from_client,
                            version: v,
                            file: file.clone(),
                            state: state.clone(),
                            filtering: filtering.clone(),
                            undecodable: undecodable.clone(),
                        };
                        std::thread::spawn(move || pump.run(src, dst));
                    }
                }
            })
        };
        Proxy {
            port,
            state,
            filtering,
            stop,
            connections,
            undecodable,
            accept: Some(accept),
        }
    }

    fn log(&self) -> Vec<Seen> {
        self.state.lock().unwrap().log.clone()
    }

    /// Connections accepted so far: the next one gets this number.
    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn unsaved(&self) -> Vec<String> {
        self.state.lock().unwrap().unsaved.clone()
    }

    fn undecodable(&self) -> usize {
        self.undecodable.load(Ordering::SeqCst)
    }

    fn forward_everything(&self) {
        self.filtering.store(false, Ordering::SeqCst);
    }

    /// Waits until the log satisfies `done`, failing if `run` exits first.
    fn wait_for(&self, what: &str, run: &mut Run, done: impl Fn(&[Seen]) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !done(&self.state.lock().unwrap().log) {
            if let Some(status) = run.exited() {
                panic!(
                    "the client exited ({status}) before {what}: {}",
                    run.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {:#?}\n{}",
                self.log(),
                run.stderr()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// One direction of one proxied connection.
struct Pump {
    conn: usize,
    from_client: bool,
    version: ProtocolVersion,
    /// The client's session file.
    file: PathBuf,
    state: Arc<Mutex<ProxyState>>,
    filtering: Arc<AtomicBool>,
    undecodable: Arc<AtomicUsize>,
}

impl Pump {
    fn run(self, mut src: TcpStream, mut dst: TcpStream) {
        let mut buf = BytesMut::new();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let n = match src.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            buf.extend_from_slice(&chunk[..n]);
            while let Some(len) = frame_len(&buf) {
                let frame = buf.split_to(len).freeze();
                if self.forward(&frame) && dst.write_all(&frame).is_err() {
                    break;
                }
            }
        }
        // One side is gone (a killed client's socket closes): so is the other, at once,
        // as when a link dies.
        let _ = src.shutdown(Shutdown::Both);
        let _ = dst.shutdown(Shutdown::Both);
    }

    /// Logs one packet; whether to forward it.
    fn forward(&self, frame: &Bytes) -> bool {
        let Ok((packet, _)) = Packet::decode(frame, self.version) else {
            self.undecodable.fetch_add(1, Ordering::SeqCst);
            return true;
        };
        // Before anything else: the client wrote this packet, so it must have saved it.
        let covered = match &packet {
            Packet::Publish(p) if self.from_client => p.qos.packet_id().map(|id| (false, id.get())),
            Packet::PubRel(r) if self.from_client => Some((true, r.packet_id.get())),
            _ => None,
        }
        .map(|wanted| match resends(&self.file, self.version) {
            Ok(resends) if resends.contains(&wanted) => Ok(()),
            Ok(resends) => Err(format!("{packet:?}: the file resends {resends:?}")),
            Err(e) => Err(format!("{packet:?}: the file does not restore: {e}")),
        });
        let mut state = self.state.lock().unwrap();
        if let Some(Err(e)) = covered {
            state.unsaved.push(e);
        }
        let name = match &packet {
            Packet::Publish(p) if self.from_client => {
                let name = String::from_utf8_lossy(&p.payload).into_owned();
                if let QosPid::AtLeastOnce(id) | QosPid::ExactlyOnce(id) = p.qos {
                    state.names.insert(id.get(), name.clone());
                }
                Some(name)
            }
            Packet::PubAck(a) => state.names.get(&a.packet_id.get()).cloned(),
            Packet::PubRec(a) => state.names.get(&a.packet_id.get()).cloned(),
            Packet::PubRel(a) => state.names.get(&a.packet_id.get()).cloned(),
            Packet::PubComp(a) => state.names.get(&a.packet_id.get()).cloned(),
            _ => None,
        };
        let dropped = self.filtering.load(Ordering::SeqCst)
            && matches!(
                (
                    self.from_client,
                    packet.packet_type().name(),
                    name.as_deref()
                ),
                (true, "PUBREL", Some("A"))
                    | (false, "PUBREC", Some("B"))
                    | (false, "PUBACK", Some("C"))
                    | (true, "PUBLISH", Some("D"))
            );
        state.log.push(Seen {
            conn: self.conn,
            from_client: self.from_client,
            packet,
            name,
            dropped,
        });
        !dropped
    }
}

/// The length of the first whole packet in `buf`, if it is all there: the fixed header's
/// first byte, the Remaining Length (1 to 4 bytes) and that many more.
fn frame_len(buf: &[u8]) -> Option<usize> {
    let mut remaining = 0usize;
    for i in 0..4 {
        let byte = *buf.get(1 + i)?;
        remaining |= usize::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            let total = 2 + i + remaining;
            return (buf.len() >= total).then_some(total);
        }
    }
    // A malformed length: hand everything over as one frame and let the peer judge it.
    Some(buf.len())
}

// ---------------------------------------------------------------------------- temp dir

/// A fresh directory, removed when dropped unless the test is failing (its session file
/// and the client's `-d` output are then kept, and named on stderr).
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "mqttwire-persist-{tag}-{}-{nanos:09}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept {} for inspection", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
