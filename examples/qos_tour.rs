//! `qos_tour`: a guided tour of MQTT's packets and QoS levels, played by mqttwire's
//! sans-IO session engine.
//!
//! ```text
//! cargo run --example qos_tour -- [--mqtt 5|3.1.1]
//! ```
//!
//! A client ([`Client`], the sensor "sensor-17") and the broker's side of its connection
//! ([`Server`]) talk over an in-memory link. Every packet is encoded to bytes by the
//! sending session (`poll_transmit_into`), carried as bytes, and decoded by the receiving
//! side's [`Decoder`], exactly as over a socket. The tour:
//!
//! 1. CONNECT / CONNACK, asking the broker to keep the session if the link drops;
//! 2. SUBSCRIBE / SUBACK for the sensor's command topic;
//! 3. a QoS 0, a QoS 1 and a QoS 2 PUBLISH from the client, with their acknowledgements;
//! 4. a QoS 2 command from the broker to the client on the subscription, while the client
//!    publishes another QoS 2 reading; the link drops in the middle of both exchanges;
//! 5. the client connects again with Clean Start 0 (Clean Session 0 in 3.1.1); the broker
//!    resumes the session it kept (`take_session` on the old [`Server`],
//!    `accept(Some(state), ..)` on a new one); both sides resend what is unfinished (a
//!    PUBLISH with DUP 1, a PUBREL) and each QoS 2 message is delivered exactly once;
//! 6. DISCONNECT.
//!
//! Each packet is printed as it crosses, with its direction, type, key fields and bytes
//! (the fixed header, then `|`, then the rest); a packet lost with the link is shown with a
//! broken arrow (`-x`). The events each application sees (`poll_event`) are printed as
//! `[client app]` and `[server app]` lines.
//!
//! The default protocol is MQTT 5.0; `--mqtt 3.1.1` plays the same tour in MQTT 3.1.1. The
//! tour checks its own outcome: the exit code is 0 when every QoS 2 message was delivered
//! exactly once and the resends happened, 1 otherwise (with a message saying what went
//! wrong), and 2 for bad arguments.

use bytes::{Bytes, BytesMut};
use mqttwire::properties::{AckProperties, ConnAckProperties, SubscribeProperties};
use mqttwire::session::{
    Client, DisconnectCause, Event, Instant, Server, SessionConfig, SessionState,
};
use mqttwire::{
    Connect, Decoder, Disconnect, DisconnectReasonCode, MqttString, Packet, PacketId, PacketType,
    ProtocolVersion, Publish, QoS, SubAckReasonCode, Subscription, TopicFilter, TopicName,
};
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::process::ExitCode;

const USAGE: &str = "\
usage: qos_tour [--mqtt 5|3.1.1]
       qos_tour --help

Plays CONNECT, SUBSCRIBE, QoS 0, 1 and 2 PUBLISH, a dropped link and a resumed
session between an in-memory MQTT client and server, printing every packet
(type, key fields, bytes) and every event the applications see.

  --mqtt 5|3.1.1    protocol version (default 5; 5.0 and 3.1.1 are accepted)
  -h, --help        show this help

Exit code: 0 when every QoS 2 message was delivered exactly once, 1 when not,
2 for bad arguments.
";

/// The sensor's client identifier.
const CLIENT_ID: &str = "sensor-17";
/// The topic the sensor subscribes to; the broker forwards commands on it.
const COMMAND_TOPIC: &str = "sensors/17/cmd";
/// The command forwarded to the sensor at QoS 2 when the link drops.
const COMMAND: &str = "reboot";
/// The QoS 2 reading the client publishes when the link drops.
const INTERRUPTED_READING: &str = "1043";
/// How long the broker keeps the session after the link ends (MQTT 5.0), seconds.
const SESSION_EXPIRY: u32 = 3_600;
/// Where narration lines wrap.
const WIDTH: usize = 92;
/// Where packet lines wrap (between fields).
const PACKET_WIDTH: usize = 100;

// ---------------------------------------------------------------------------------------
// The command line.

#[derive(Debug, PartialEq, Eq)]
enum Command {
    Tour(ProtocolVersion),
    Help,
}

/// Parses the arguments after the program name; `Err` says what is wrong with them.
fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Command, String> {
    let mut version = ProtocolVersion::V5;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--mqtt" => {
                let value = args.next().ok_or("--mqtt needs a version")?;
                version = parse_version(&value)?;
            }
            _ => match arg.strip_prefix("--mqtt=") {
                Some(value) => version = parse_version(value)?,
                None => return Err(format!("unknown argument {arg:?}")),
            },
        }
    }
    Ok(Command::Tour(version))
}

fn parse_version(value: &str) -> Result<ProtocolVersion, String> {
    match value {
        "5" | "5.0" => Ok(ProtocolVersion::V5),
        "3.1.1" => Ok(ProtocolVersion::V3_1_1),
        _ => Err(format!("--mqtt must be 5 or 3.1.1, not {value:?}")),
    }
}

fn main() -> ExitCode {
    let args = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned());
    let version = match parse_args(args) {
        Ok(Command::Tour(version)) => version,
        Ok(Command::Help) => {
            write_stdout(USAGE);
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprint!("qos_tour: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let tour = run_tour(version);
    write_stdout(&tour.output);
    match tour.outcome() {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("qos_tour: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// Writes `text` to stdout; a reader that has gone away (`| head`) is not an error.
fn write_stdout(text: &str) {
    let mut out = io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

// ---------------------------------------------------------------------------------------
// The tour itself: what happens, section by section.

/// A played tour: its printed output, whether the script ran to its end, and what
/// happened to the QoS 2 messages.
struct TourRun {
    output: String,
    played: Result<(), String>,
    facts: Facts,
}

impl TourRun {
    /// `Ok` when the script ran to its end and MQTT's promises held.
    fn outcome(&self) -> Result<(), String> {
        self.played.clone().and_then(|()| self.facts.check())
    }
}

/// Plays the whole tour at `version`. The output is complete up to the point where the
/// script stopped, if it did.
fn run_tour(version: ProtocolVersion) -> TourRun {
    let mut tour = Tour::new(version);
    let played = play(&mut tour);
    let facts = tour.facts();
    if played.is_ok() {
        tour.summary(&facts);
    }
    TourRun {
        output: tour.out,
        played,
        facts,
    }
}

fn play(t: &mut Tour) -> Result<(), String> {
    t.title();
    connect(t)?;
    subscribe(t)?;
    qos0(t)?;
    qos1(t)?;
    qos2(t)?;
    interrupted(t)?;
    resume(t)?;
    disconnect(t)
}

fn connect(t: &mut Tour) -> Result<(), String> {
    t.section("1. CONNECT: open the session");
    if t.v5() {
        t.say(&format!(
            "Clean Start 1: a new session. Session Expiry Interval {SESSION_EXPIRY} s: the broker \
             keeps it for an hour after the link ends."
        ));
        t.say(
            "Bytes: name \"MQTT\", level 05, flags 02 (Clean Start), Keep Alive 00 3c (60 s), \
             properties (length 0a; 11 Session Expiry Interval, 27 Maximum Packet Size), \
             client id.",
        );
    } else {
        t.say(
            "Clean Session 0: the broker keeps the session after the link ends. It has none \
             yet, so Session Present is 0.",
        );
        t.say(
            "Bytes: name \"MQTT\", level 04, flags 00 (Clean Session 0), Keep Alive 00 3c \
             (60 s), client id.",
        );
    }
    t.client_connect(Start::New)?;
    t.run()
}

fn subscribe(t: &mut Tour) -> Result<(), String> {
    t.section("2. SUBSCRIBE: ask for the commands");
    t.say(
        "SUBSCRIBE: a packet id and a topic filter with the highest QoS wanted. SUBACK: the \
         same id and the QoS granted.",
    );
    let filter = TopicFilter::new(COMMAND_TOPIC).expect("the command topic is a valid filter");
    let subscription = Subscription::new(filter, QoS::ExactlyOnce);
    t.client
        .subscribe(vec![subscription], SubscribeProperties::default())
        .map_err(|e| format!("subscribe: {e}"))?;
    t.run()
}

fn qos0(t: &mut Tour) -> Result<(), String> {
    t.section("3. QoS 0: at most once");
    t.say(
        "No packet id, no acknowledgement, no state: lost with the link, it is gone. First \
         byte 0x30: type 3 (PUBLISH) in the high four bits, then DUP, QoS (two bits), RETAIN. \
         Second byte: the Remaining Length, the size of what follows '|'.",
    );
    t.client_publish(QoS::AtMostOnce, "sensors/17/temp", "21.5")?;
    t.run()
}

fn qos1(t: &mut Tour) -> Result<(), String> {
    t.section("4. QoS 1: at least once");
    t.say(
        "QoS bits 01 (0x32); a packet id follows the topic. The sender keeps the message \
         until PUBACK: a resend after a lost PUBACK would deliver it twice.",
    );
    if t.v5() {
        t.say(
            "MQTT 5.0 adds a property length (00) after the id. An acknowledgement with reason \
             0x00 and no properties leaves both out: the same 4 bytes as in MQTT 3.1.1.",
        );
    }
    t.client_publish(QoS::AtLeastOnce, "sensors/17/door", "open")?;
    t.run()
}

fn qos2(t: &mut Tour) -> Result<(), String> {
    t.section("5. QoS 2: exactly once");
    t.say(
        "QoS bits 10 (0x34). PUBLISH and PUBREC hand the message over, PUBREL and PUBCOMP free \
         the packet id. mqttwire delivers on PUBLISH and remembers the id until PUBREL, so a \
         resent PUBLISH is acknowledged but not delivered again. PUBREL is 0x62: its flags \
         must be 0010.",
    );
    t.client_publish(QoS::ExactlyOnce, "sensors/17/meter", "1042")?;
    t.run()
}

fn interrupted(t: &mut Tour) -> Result<(), String> {
    t.section("6. QoS 2 both ways, and the link drops");
    t.say(&format!(
        "Another client publishes {COMMAND:?} on {COMMAND_TOPIC}: the broker forwards it at \
         the subscription's QoS 2, with a packet id of its own (each direction has its own \
         ids)."
    ));
    let command = t.broker_forward(COMMAND_TOPIC, COMMAND)?;
    t.expect(Dir::ToClient, PacketType::Publish)?;
    t.say("The client answers PUBREC and publishes its next meter reading, at QoS 2.");
    let reading = t.client_publish(QoS::ExactlyOnce, "sensors/17/meter", INTERRUPTED_READING)?;
    t.expect(Dir::ToServer, PacketType::PubRec)?;
    t.expect(Dir::ToServer, PacketType::Publish)?;
    t.say(&format!(
        "The link drops: the broker's PUBREL {command} (command) and PUBREC {reading} \
         (reading) are lost on the way."
    ));
    t.drop_link()?;
    t.say(&format!(
        "Both messages were delivered, but both exchanges are unfinished: each side keeps them \
         in its SessionState, the client in its Client, the broker with take_session(). Client: \
         id {reading} awaits PUBREC, id {command} PUBREL. Broker: id {command} awaits PUBCOMP, \
         id {reading} PUBREL."
    ));
    t.print_states();
    Ok(())
}

fn resume(t: &mut Tour) -> Result<(), String> {
    let clean = clean_flag(t.version);
    t.section(&format!("7. Resume: {clean} 0, Session Present 1, resends"));
    t.say(
        "The client connects again to resume; the broker hands the session it kept to the \
         new connection's Server with accept(Some(state)).",
    );
    let command = t.first_id(Dir::ToClient, COMMAND);
    let reading = t.first_id(Dir::ToServer, INTERRUPTED_READING);
    t.client_connect(Start::Resume)?;
    t.expect(Dir::ToServer, PacketType::Connect)?;
    t.expect(Dir::ToClient, PacketType::ConnAck)?;
    t.say(&format!(
        "Session Present 1: each side resends what is unfinished. The client: PUBLISH \
         {reading} with DUP 1 (0x3c). The broker: PUBREL {command} only, never the PUBLISH, \
         since it got PUBREC {command}."
    ));
    t.expect(Dir::ToClient, PacketType::PubRel)?;
    t.say(&format!(
        "The client still knows id {command}: PUBCOMP, and no second delivery of {COMMAND:?}."
    ));
    t.expect(Dir::ToServer, PacketType::Publish)?;
    t.say(&format!(
        "The broker still knows id {reading}: PUBREC again, and no second delivery of \
         {INTERRUPTED_READING:?}."
    ));
    t.expect(Dir::ToServer, PacketType::PubComp)?;
    t.expect(Dir::ToClient, PacketType::PubRec)?;
    t.expect(Dir::ToServer, PacketType::PubRel)?;
    t.expect(Dir::ToClient, PacketType::PubComp)?;
    t.run()
}

fn disconnect(t: &mut Tour) -> Result<(), String> {
    t.section("8. DISCONNECT");
    if t.v5() {
        t.say("Reason 0x00 (normal), left out: 2 bytes. The broker keeps the session, now empty.");
    } else {
        t.say("2 bytes. The broker keeps the session, now empty.");
    }
    t.client
        .disconnect(Disconnect::new(DisconnectReasonCode::NormalDisconnection))
        .map_err(|e| format!("disconnect: {e}"))?;
    t.run()
}

// ---------------------------------------------------------------------------------------
// What the tour checks.

/// What happened to the two QoS 2 messages caught by the dropped link.
#[derive(Debug, Clone, Default)]
struct Facts {
    /// How often the broker's application received the interrupted reading.
    reading_deliveries: usize,
    /// How often the client's application received the interrupted command.
    command_deliveries: usize,
    /// A PUBLISH with DUP 1 crossed on the resumed connection.
    dup_resent: bool,
    /// A PUBREL lost with the first link crossed again on the resumed connection.
    pubrel_resent: bool,
    /// The client saw its reading's exchange complete (PUBCOMP).
    reading_completed: bool,
    /// The broker saw the command's exchange complete (PUBCOMP).
    command_completed: bool,
}

impl Facts {
    /// `Ok` when MQTT's promises held: each QoS 2 message delivered exactly once, the
    /// unfinished exchanges resent and completed.
    fn check(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        if self.reading_deliveries != 1 {
            problems.push(format!(
                "the broker received {INTERRUPTED_READING:?} {} times, not exactly once",
                self.reading_deliveries
            ));
        }
        if self.command_deliveries != 1 {
            problems.push(format!(
                "the client received {COMMAND:?} {} times, not exactly once",
                self.command_deliveries
            ));
        }
        if !self.dup_resent {
            problems.push("no PUBLISH was resent with DUP 1 after the resume".to_owned());
        }
        if !self.pubrel_resent {
            problems.push("the lost PUBREL was not resent after the resume".to_owned());
        }
        if !self.reading_completed || !self.command_completed {
            problems.push("a QoS 2 exchange never completed with PUBCOMP".to_owned());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!("FAILED: {}", problems.join("; ")))
        }
    }
}

// ---------------------------------------------------------------------------------------
// The stage: a client, the broker's side of its connection, and the link between them.

/// Which way a packet travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    ToServer,
    ToClient,
}

impl Dir {
    fn arrow(self, lost: bool) -> &'static str {
        match (self, lost) {
            (Dir::ToServer, false) => "client -> server",
            (Dir::ToServer, true) => "client -x server",
            (Dir::ToClient, false) => "server -> client",
            (Dir::ToClient, true) => "server -x client",
        }
    }
}

/// How the client starts a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// A new session (MQTT 5.0 Clean Start 1).
    New,
    /// Resume the session the broker kept (Clean Start 0).
    Resume,
}

/// A packet that was sent, on which connection, and whether it arrived.
struct Crossing {
    dir: Dir,
    connection: u32,
    packet: Packet,
    lost: bool,
}

/// The application behind the [`Server`]: a minimal broker for one client. It accepts the
/// connection, grants every subscription, and keeps the client's session state while no
/// connection is up.
#[derive(Default)]
struct Broker {
    /// The session kept for the client between connections.
    stored: Option<SessionState>,
    /// Whether the current connection asked for its session to be kept.
    keep_session: bool,
    /// The client's subscriptions and the QoS granted to each.
    subscriptions: Vec<(TopicFilter, QoS)>,
}

struct Tour {
    version: ProtocolVersion,
    /// Virtual time. The tour needs no timer (keep alive, response timeouts), so the clock
    /// stands still.
    now: Instant,
    client: Client,
    server: Server,
    server_config: SessionConfig,
    client_decoder: Decoder,
    server_decoder: Decoder,
    /// Encoded packets on the link, one per transmission, not yet delivered.
    to_server: VecDeque<Bytes>,
    to_client: VecDeque<Bytes>,
    /// Which connection is up: 1, then 2 after the resume.
    connection: u32,
    broker: Broker,
    crossings: Vec<Crossing>,
    client_events: Vec<Event>,
    server_events: Vec<Event>,
    /// What the tour printed so far.
    out: String,
}

impl Tour {
    fn new(version: ProtocolVersion) -> Self {
        let client_config = SessionConfig::default();
        let server_config = SessionConfig::default();
        Self {
            version,
            now: Instant::ZERO,
            client_decoder: client_config.client_decoder(version),
            server_decoder: server_config.server_decoder(),
            client: Client::new(client_config),
            server: Server::new(server_config.clone()),
            server_config,
            to_server: VecDeque::new(),
            to_client: VecDeque::new(),
            connection: 0,
            broker: Broker::default(),
            crossings: Vec::new(),
            client_events: Vec::new(),
            server_events: Vec::new(),
            out: String::new(),
        }
    }

    fn v5(&self) -> bool {
        self.version.is_v5()
    }

    // --- Printing ---

    fn line(&mut self, line: &str) {
        self.out.push_str(line);
        self.out.push('\n');
    }

    fn title(&mut self) {
        let version = self.version;
        self.line(&format!("mqttwire QoS tour, {version}"));
        self.say(
            "A client and the broker's side of its connection (Server) over an in-memory link. \
             Each packet: direction, type, key fields, then its bytes as fixed header | rest. \
             [client app] and [server app]: the events each application sees.",
        );
    }

    fn section(&mut self, title: &str) {
        self.line("");
        self.line(&format!("== {title} =="));
    }

    /// A line of narration, wrapped.
    fn say(&mut self, text: &str) {
        for line in wrap(text, WIDTH) {
            self.line(&line);
        }
    }

    /// A packet's line (wrapped after a field when long), then its bytes.
    fn print_packet(&mut self, dir: Dir, packet: &Packet, bytes: &[u8], lost: bool) {
        let name = packet.packet_type().name();
        let mut fields = describe(packet, self.version);
        if lost {
            fields.push_str(" (lost)");
        }
        let head = format!("{}  {name:<10} ", dir.arrow(lost));
        let mut line = head.clone();
        for (i, field) in fields.split(", ").enumerate() {
            if i > 0 {
                line.push(',');
                if line.len() + 1 + field.len() > PACKET_WIDTH {
                    self.line(&line);
                    line = " ".repeat(head.len() - 1);
                }
                line.push(' ');
            }
            line.push_str(field);
        }
        self.line(line.trim_end());
        for row in hex_rows(bytes) {
            self.line(&format!("{:18}{row}", ""));
        }
    }

    fn print_event(&mut self, side: &str, event: &Event, reaction: &str) {
        let text = describe_event(event, self.version);
        self.line(&format!("  [{side} app] {text}{reaction}"));
    }

    // --- The applications' commands ---

    /// The client's CONNECT, asking the broker to keep the session after the link ends.
    fn client_connect(&mut self, start: Start) -> Result<(), String> {
        let id = MqttString::new(CLIENT_ID).expect("the client id is a valid string");
        let mut connect = Connect::new(self.version, id);
        if self.v5() {
            connect.clean_start = start == Start::New;
            connect.properties.session_expiry_interval = Some(SESSION_EXPIRY);
        } else {
            // MQTT 3.1.1 has no expiry: only Clean Session 0 keeps the session, and it
            // resumes the one the broker has, if any.
            connect.clean_start = false;
        }
        self.connection += 1;
        self.client
            .connect(self.now, connect)
            .map_err(|e| format!("connect: {e}"))?;
        self.drain_events()
    }

    /// The client publishes; returns the packet id, for narration ("-" for QoS 0).
    fn client_publish(
        &mut self,
        qos: QoS,
        topic: &str,
        payload: &'static str,
    ) -> Result<String, String> {
        let topic = TopicName::new(topic).expect("the tour's topics are valid");
        let id = self
            .client
            .publish(qos, Publish::new(topic, payload))
            .map_err(|e| format!("publish {payload:?}: {e}"))?;
        Ok(id_text(id))
    }

    /// The broker forwards a message published on `topic` to the client, at the QoS of
    /// the client's subscription; returns the packet id, for narration.
    fn broker_forward(&mut self, topic: &str, payload: &'static str) -> Result<String, String> {
        let topic = TopicName::new(topic).expect("the tour's topics are valid");
        let qos = self
            .broker
            .subscriptions
            .iter()
            .filter(|(filter, _)| filter.matches(&topic))
            .map(|&(_, qos)| qos)
            .max()
            .ok_or_else(|| format!("the client has no subscription matching {topic}"))?;
        let id = self
            .server
            .publish(qos, Publish::new(topic, payload))
            .map_err(|e| format!("forward {payload:?}: {e}"))?;
        Ok(id_text(id))
    }

    // --- The link ---

    /// Moves every packet the two sessions have to send onto the link, as bytes.
    fn flush(&mut self) -> Result<(), String> {
        let now = self.now;
        let mut buf = BytesMut::new();
        while self
            .client
            .poll_transmit_into(now, &mut buf)
            .map_err(|e| format!("the client cannot encode a packet: {e}"))?
            .is_some()
        {
            self.to_server.push_back(buf.split().freeze());
        }
        while self
            .server
            .poll_transmit_into(now, &mut buf)
            .map_err(|e| format!("the server cannot encode a packet: {e}"))?
            .is_some()
        {
            self.to_client.push_back(buf.split().freeze());
        }
        Ok(())
    }

    /// Delivers the next packet travelling `dir`, if there is one: decoded by the
    /// receiver's decoder, printed, handed to the receiving session.
    fn deliver(&mut self, dir: Dir) -> Result<Option<PacketType>, String> {
        self.flush()?;
        let queue = match dir {
            Dir::ToServer => &mut self.to_server,
            Dir::ToClient => &mut self.to_client,
        };
        let Some(bytes) = queue.pop_front() else {
            return Ok(None);
        };
        let packet = self.decode(dir, &bytes)?;
        self.print_packet(dir, &packet, &bytes, false);
        self.record(dir, &packet, false);
        let ty = packet.packet_type();
        let handled = match dir {
            Dir::ToServer => self.server.handle_incoming(self.now, packet),
            Dir::ToClient => self.client.handle_incoming(self.now, packet),
        };
        handled.map_err(|e| format!("{} broke the protocol: {e}", ty.name()))?;
        self.drain_events()?;
        Ok(Some(ty))
    }

    fn decode(&mut self, dir: Dir, bytes: &Bytes) -> Result<Packet, String> {
        let mut buf = BytesMut::from(&bytes[..]);
        let (decoder, receiver) = match dir {
            Dir::ToServer => (&mut self.server_decoder, "server"),
            Dir::ToClient => (&mut self.client_decoder, "client"),
        };
        match decoder.decode(&mut buf) {
            Ok(Some(packet)) if buf.is_empty() => Ok(packet),
            Ok(_) => Err(format!(
                "the {receiver} got a partial packet: {}",
                hex(bytes)
            )),
            Err(e) => Err(format!("the {receiver} cannot decode {}: {e}", hex(bytes))),
        }
    }

    /// Delivers the next packet travelling `dir`, which the script says is a `ty`.
    fn expect(&mut self, dir: Dir, ty: PacketType) -> Result<(), String> {
        match self.deliver(dir)? {
            Some(got) if got == ty => Ok(()),
            got => Err(format!(
                "expected {} {}, but {} came",
                dir.arrow(false),
                ty.name(),
                got.map_or("nothing", PacketType::name)
            )),
        }
    }

    /// Delivers packets both ways until neither side has anything to send.
    fn run(&mut self) -> Result<(), String> {
        loop {
            let to_server = self.deliver(Dir::ToServer)?;
            let to_client = self.deliver(Dir::ToClient)?;
            if to_server.is_none() && to_client.is_none() {
                return Ok(());
            }
        }
    }

    /// The link drops: what is still on it is lost, both sessions learn it, and the broker
    /// stores the client's session state for its next connection.
    fn drop_link(&mut self) -> Result<(), String> {
        self.flush()?;
        let lost: Vec<_> = self
            .to_server
            .drain(..)
            .map(|b| (Dir::ToServer, b))
            .chain(self.to_client.drain(..).map(|b| (Dir::ToClient, b)))
            .collect();
        for (dir, bytes) in lost {
            let (packet, _) = Packet::decode(&bytes, self.version)
                .map_err(|e| format!("cannot decode a lost packet {}: {e}", hex(&bytes)))?;
            self.print_packet(dir, &packet, &bytes, true);
            self.record(dir, &packet, true);
        }
        self.client.handle_connection_lost();
        self.server.handle_connection_lost();
        let state = self.server.take_session();
        self.drain_events()?;
        self.broker.stored = self.broker.keep_session.then_some(state);
        // A new connection: a new server engine and fresh decoders.
        self.server = Server::new(self.server_config.clone());
        self.client_decoder = self.client.config().client_decoder(self.version);
        self.server_decoder = self.server_config.server_decoder();
        Ok(())
    }

    /// What the client and the broker keep while no connection is up.
    fn print_states(&mut self) {
        let client = describe_state(self.client.session());
        let broker = match &self.broker.stored {
            Some(state) => describe_state(state),
            None => "nothing".to_owned(),
        };
        self.line(&format!("  client session: {client}"));
        self.line(&format!("  broker session: {broker}"));
    }

    fn record(&mut self, dir: Dir, packet: &Packet, lost: bool) {
        self.crossings.push(Crossing {
            dir,
            connection: self.connection,
            packet: packet.clone(),
            lost,
        });
    }

    // --- Events ---

    /// Prints both sides' events; the broker answers the ones that ask for an answer.
    fn drain_events(&mut self) -> Result<(), String> {
        while let Some(event) = self.client.poll_event() {
            self.print_event("client", &event, "");
            self.client_events.push(event);
        }
        while let Some(event) = self.server.poll_event() {
            let reaction = self.broker_reacts(&event)?;
            self.print_event("server", &event, &reaction);
            self.server_events.push(event);
        }
        Ok(())
    }

    /// The broker's answer to `event`, if it needs one; returns what it did, for the log.
    fn broker_reacts(&mut self, event: &Event) -> Result<String, String> {
        match event {
            Event::ConnectRequest(connect) => {
                self.broker.keep_session = match self.version {
                    ProtocolVersion::V5 => connect
                        .properties
                        .session_expiry_interval
                        .is_some_and(|s| s > 0),
                    _ => !connect.clean_start,
                };
                let stored = self.broker.stored.take();
                let (session, what) = match stored {
                    Some(state) if !connect.clean_start => (Some(state), "resume its session"),
                    _ => (None, "new session"),
                };
                self.server
                    .accept(session, ConnAckProperties::default())
                    .map_err(|e| format!("accept: {e}"))?;
                Ok(format!(" -> accept: {what}"))
            }
            Event::Subscribe(subscribe) => {
                let mut codes = Vec::new();
                for s in &subscribe.subscriptions {
                    let qos = s.options.qos;
                    self.broker.subscriptions.push((s.filter.clone(), qos));
                    codes.push(granted(qos));
                }
                self.server
                    .suback(subscribe.packet_id, codes, AckProperties::default())
                    .map_err(|e| format!("suback: {e}"))?;
                Ok(" -> grant it".to_owned())
            }
            _ => Ok(String::new()),
        }
    }

    // --- The outcome ---

    fn facts(&self) -> Facts {
        let delivered = |events: &[Event], payload: &str| {
            events
                .iter()
                .filter(|e| matches!(e, Event::Message(m) if m.payload == payload.as_bytes()))
                .count()
        };
        let dup_resent = self.crossings.iter().any(|c| {
            c.connection > 1 && !c.lost && matches!(&c.packet, Packet::Publish(p) if p.dup)
        });
        let lost_pubrels: Vec<(Dir, PacketId)> = self
            .crossings
            .iter()
            .filter(|c| c.lost)
            .filter_map(|c| match &c.packet {
                Packet::PubRel(r) => Some((c.dir, r.packet_id)),
                _ => None,
            })
            .collect();
        let pubrel_resent = self.crossings.iter().any(|c| match &c.packet {
            Packet::PubRel(r) => c.connection > 1 && lost_pubrels.contains(&(c.dir, r.packet_id)),
            _ => false,
        });
        Facts {
            reading_deliveries: delivered(&self.server_events, INTERRUPTED_READING),
            command_deliveries: delivered(&self.client_events, COMMAND),
            dup_resent,
            pubrel_resent,
            reading_completed: self.completed(Dir::ToServer, INTERRUPTED_READING),
            command_completed: self.completed(Dir::ToClient, COMMAND),
        }
    }

    /// The packet id of the first PUBLISH of `payload` sent towards `dir`.
    fn publish_id(&self, dir: Dir, payload: &str) -> Option<PacketId> {
        self.crossings.iter().find_map(|c| match &c.packet {
            Packet::Publish(p) if c.dir == dir && p.payload == payload.as_bytes() => {
                p.qos.packet_id()
            }
            _ => None,
        })
    }

    /// [`publish_id`](Self::publish_id), for narration.
    fn first_id(&self, dir: Dir, payload: &str) -> String {
        id_text(self.publish_id(dir, payload))
    }

    /// Whether the sender of the message `payload` (sent towards `dir`) saw PUBCOMP for it.
    fn completed(&self, dir: Dir, payload: &str) -> bool {
        let id = self.publish_id(dir, payload);
        let sender_events = match dir {
            Dir::ToServer => &self.client_events,
            Dir::ToClient => &self.server_events,
        };
        id.is_some_and(|id| sender_events.contains(&Event::PublishCompleted { packet_id: id }))
    }

    fn summary(&mut self, facts: &Facts) {
        self.section("Summary");
        let times = |n: usize| {
            if n == 1 {
                "once".to_owned()
            } else {
                format!("{n} times")
            }
        };
        let reading = times(facts.reading_deliveries);
        let dup = yes_no(facts.dup_resent);
        self.line(&format!(
            "reading {INTERRUPTED_READING:?} (QoS 2, client -> server): delivered {reading}, \
             resent with DUP 1: {dup}"
        ));
        let command = times(facts.command_deliveries);
        let pubrel = yes_no(facts.pubrel_resent);
        self.line(&format!(
            "command {COMMAND:?} (QoS 2, server -> client): delivered {command}, \
             PUBREL resent: {pubrel}"
        ));
        if facts.check().is_ok() {
            self.line("OK: each QoS 2 message was delivered exactly once across the dropped link.");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Describing packets, events and session state.

/// A packet's key fields, in the specification's terms.
fn describe(packet: &Packet, version: ProtocolVersion) -> String {
    let v5 = version.is_v5();
    match packet {
        Packet::Connect(c) => {
            let clean = clean_flag(version);
            let mut s = format!(
                "protocol {:?} level {}, client id {:?}, {clean} {}, Keep Alive {} s",
                c.protocol_version.protocol_name(),
                c.protocol_version.level(),
                c.client_id.as_str(),
                u8::from(c.clean_start),
                c.keep_alive
            );
            if let Some(expiry) = c.properties.session_expiry_interval {
                let _ = write!(s, ", Session Expiry Interval {expiry} s");
            }
            if let Some(max) = c.properties.maximum_packet_size {
                let _ = write!(s, ", Maximum Packet Size {max}");
            }
            s
        }
        Packet::ConnAck(a) => {
            let present = u8::from(a.session_present);
            let code = a.reason_code;
            let mut s = match code.v3_return_code() {
                Some(0) if !v5 => format!("Session Present {present}, return code 0 (accepted)"),
                Some(rc) if !v5 => format!("Session Present {present}, return code {rc} ({code})"),
                _ => format!("Session Present {present}, reason {code}"),
            };
            if let Some(max) = a.properties.maximum_packet_size {
                let _ = write!(s, ", Maximum Packet Size {max}");
            }
            s
        }
        Packet::Publish(p) => {
            let id = match p.qos.packet_id() {
                Some(id) => format!("id {id}"),
                None => "no id".to_owned(),
            };
            format!(
                "QoS {}, {id}, DUP {}, RETAIN {}, topic {:?}, payload {}",
                p.qos.qos() as u8,
                u8::from(p.dup),
                u8::from(p.retain),
                p.topic.as_str(),
                payload(&p.payload)
            )
        }
        Packet::PubAck(a) => ack(a.packet_id, v5.then(|| a.reason_code.to_string())),
        Packet::PubRec(a) => ack(a.packet_id, v5.then(|| a.reason_code.to_string())),
        Packet::PubRel(a) => ack(a.packet_id, v5.then(|| a.reason_code.to_string())),
        Packet::PubComp(a) => ack(a.packet_id, v5.then(|| a.reason_code.to_string())),
        Packet::Subscribe(s) => {
            let filters: Vec<String> = s
                .subscriptions
                .iter()
                .map(|sub| format!("{:?} QoS {}", sub.filter.as_str(), sub.options.qos as u8))
                .collect();
            format!("id {}, {}", s.packet_id, filters.join(", "))
        }
        Packet::SubAck(a) => {
            let codes: Vec<String> = a.reason_codes.iter().map(ToString::to_string).collect();
            format!("id {}, {}", a.packet_id, codes.join(", "))
        }
        Packet::Disconnect(d) if v5 => match d.reason_code {
            DisconnectReasonCode::NormalDisconnection => {
                "reason 0x00 Normal disconnection".to_owned()
            }
            code => format!("reason {code}"),
        },
        Packet::Disconnect(_) | Packet::PingReq | Packet::PingResp => String::new(),
        other => format!("{other:?}"),
    }
}

/// The fields of PUBACK, PUBREC, PUBREL and PUBCOMP: the identifier, and in MQTT 5.0 the
/// reason code.
fn ack(id: PacketId, reason: Option<String>) -> String {
    match reason {
        Some(reason) => format!("id {id}, reason {reason}"),
        None => format!("id {id}"),
    }
}

/// What an application event says.
fn describe_event(event: &Event, version: ProtocolVersion) -> String {
    match event {
        Event::ConnectRequest(c) => {
            let clean = clean_flag(version);
            format!(
                "ConnectRequest from {:?}, {clean} {}",
                c.client_id.as_str(),
                u8::from(c.clean_start)
            )
        }
        Event::Connected(c) => {
            format!("Connected, Session Present {}", u8::from(c.session_present))
        }
        Event::Message(p) => format!(
            "Message {} on {:?}, QoS {}",
            payload(&p.payload),
            p.topic.as_str(),
            p.qos.qos() as u8
        ),
        Event::PublishAcknowledged {
            packet_id,
            reason_code,
        } if version.is_v5() => format!("PublishAcknowledged id {packet_id}, {reason_code}"),
        Event::PublishAcknowledged { packet_id, .. } => {
            format!("PublishAcknowledged id {packet_id}")
        }
        Event::PublishCompleted { packet_id } => format!("PublishCompleted id {packet_id}"),
        Event::Subscribe(s) => {
            let filters: Vec<String> = s
                .subscriptions
                .iter()
                .map(|sub| format!("{:?} at QoS {}", sub.filter.as_str(), sub.options.qos as u8))
                .collect();
            format!("Subscribe id {}: {}", s.packet_id, filters.join(", "))
        }
        Event::Subscribed(a) => {
            let codes: Vec<String> = a.reason_codes.iter().map(ToString::to_string).collect();
            format!("Subscribed id {}: {}", a.packet_id, codes.join(", "))
        }
        Event::Disconnected(cause) => format!("Disconnected: {}", describe_cause(cause)),
        other => format!("{other:?}"),
    }
}

fn describe_cause(cause: &DisconnectCause) -> String {
    match cause {
        DisconnectCause::ConnectionLost => "connection lost".to_owned(),
        DisconnectCause::Local(_) => "we sent DISCONNECT".to_owned(),
        DisconnectCause::Peer(_) => "the peer sent DISCONNECT".to_owned(),
        other => format!("{other:?}"),
    }
}

/// What a session state holds, through its public accessors.
fn describe_state(state: &SessionState) -> String {
    let ids: Vec<String> = state
        .unacknowledged_ids()
        .map(|id| id.to_string())
        .collect();
    let sent = match ids.len() {
        0 => "no unacknowledged message".to_owned(),
        1 => format!("1 unacknowledged message (id {})", ids.join(", ")),
        n => format!("{n} unacknowledged messages (ids {})", ids.join(", ")),
    };
    let received = match state.incomplete_incoming() {
        1 => "1 received QoS 2 message awaiting PUBREL".to_owned(),
        n => format!("{n} received QoS 2 messages awaiting PUBREL"),
    };
    format!("{sent}; {received}")
}

/// The name of the CONNECT flag that asks for a new session: Clean Session before 5.0.
fn clean_flag(version: ProtocolVersion) -> &'static str {
    if version.is_v5() {
        "Clean Start"
    } else {
        "Clean Session"
    }
}

/// The SUBACK code granting `qos`.
fn granted(qos: QoS) -> SubAckReasonCode {
    match qos {
        QoS::AtMostOnce => SubAckReasonCode::GrantedQoS0,
        QoS::AtLeastOnce => SubAckReasonCode::GrantedQoS1,
        QoS::ExactlyOnce => SubAckReasonCode::GrantedQoS2,
    }
}

/// A packet id for narration; "-" for none.
fn id_text(id: Option<PacketId>) -> String {
    id.map_or_else(|| "-".to_owned(), |id| id.to_string())
}

fn payload(bytes: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(bytes))
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

// ---------------------------------------------------------------------------------------
// Formatting helpers.

fn hex(bytes: &[u8]) -> String {
    let digits: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    digits.join(" ")
}

/// A packet's bytes as rows of at most 16: the fixed header (type and flags byte, then the
/// Remaining Length), `|`, then the rest, continued under itself.
fn hex_rows(bytes: &[u8]) -> Vec<String> {
    // The Remaining Length is a variable byte integer: a set high bit means "more follows".
    let length_bytes = bytes
        .iter()
        .skip(1)
        .take(4)
        .position(|b| b & 0x80 == 0)
        .map_or(1, |i| i + 1);
    let split = (1 + length_bytes).min(bytes.len());
    let (header, rest) = bytes.split_at(split);
    let header = hex(header);
    if rest.is_empty() {
        return vec![header];
    }
    let indent = header.len() + 3;
    rest.chunks(16)
        .enumerate()
        .map(|(i, chunk)| match i {
            0 => format!("{header} | {}", hex(chunk)),
            _ => format!("{:indent$}{}", "", hex(chunk)),
        })
        .collect()
}

/// `text` in lines of at most `width` characters, broken at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Command, String> {
        parse_args(list.iter().map(|s| (*s).to_owned()))
    }

    /// The packet type of each packet line (`client -> server  PUBLISH ...`).
    fn packet_types(output: &str) -> Vec<&str> {
        output
            .lines()
            .filter(|l| l.starts_with("client -") || l.starts_with("server -"))
            .filter_map(|l| l.split_whitespace().nth(3))
            .collect()
    }

    #[test]
    fn the_tour_succeeds_at_both_versions() {
        for version in [ProtocolVersion::V5, ProtocolVersion::V3_1_1] {
            let run = run_tour(version);
            assert_eq!(run.outcome(), Ok(()), "{version}:\n{}", run.output);
            assert!(run.output.contains("OK: each QoS 2 message"), "{version}");
        }
    }

    #[test]
    fn each_interrupted_qos2_message_is_delivered_exactly_once() {
        for version in [ProtocolVersion::V5, ProtocolVersion::V3_1_1] {
            let facts = run_tour(version).facts;
            assert_eq!(facts.reading_deliveries, 1, "{version}");
            assert_eq!(facts.command_deliveries, 1, "{version}");
            assert!(
                facts.reading_completed && facts.command_completed,
                "{version}"
            );
        }
    }

    #[test]
    fn the_resume_resends_a_dup_publish_and_a_pubrel() {
        for version in [ProtocolVersion::V5, ProtocolVersion::V3_1_1] {
            let run = run_tour(version);
            assert!(run.facts.dup_resent, "{version}");
            assert!(run.facts.pubrel_resent, "{version}");
            // The resent reading: DUP 1, first byte 0x3c = 0x30 | DUP | QoS 2.
            let resent = "client -> server  PUBLISH    QoS 2";
            let dup = run
                .output
                .lines()
                .find(|l| l.starts_with(resent) && l.contains("DUP 1"));
            assert!(dup.is_some(), "{version}:\n{}", run.output);
            assert!(bytes_after(&run.output, "DUP 1, RETAIN").starts_with("3c "));
            // The broker's PUBREL for the command: lost, then resent with the same id.
            let (before, after) = run.output.split_once("== 7.").expect("section 7");
            let lost = ids(before, "server -x client  PUBREL");
            assert_eq!(lost.len(), 1, "{version}:\n{}", run.output);
            let resent = ids(after, "server -> client  PUBREL");
            assert_eq!(resent, lost, "{version}:\n{}", run.output);
        }
    }

    #[test]
    fn the_output_shows_every_packet_type_of_the_tour() {
        for version in [ProtocolVersion::V5, ProtocolVersion::V3_1_1] {
            let output = run_tour(version).output;
            let seen = packet_types(&output);
            for ty in [
                PacketType::Connect,
                PacketType::ConnAck,
                PacketType::Subscribe,
                PacketType::SubAck,
                PacketType::Publish,
                PacketType::PubAck,
                PacketType::PubRec,
                PacketType::PubRel,
                PacketType::PubComp,
                PacketType::Disconnect,
            ] {
                assert!(seen.contains(&ty.name()), "{version}: no {ty} in\n{output}");
            }
        }
    }

    /// The packet identifiers of the packet lines starting with `prefix`.
    fn ids(text: &str, prefix: &str) -> Vec<u16> {
        text.lines()
            .filter_map(|l| l.strip_prefix(prefix)?.trim().strip_prefix("id "))
            .filter_map(|rest| {
                let digits = rest.split(|c: char| !c.is_ascii_digit()).next()?;
                digits.parse().ok()
            })
            .collect()
    }

    /// The first row of bytes printed under the first packet line that contains `marker`
    /// (after the fields' continuation lines, if any).
    fn bytes_after<'a>(output: &'a str, marker: &str) -> &'a str {
        let is_hex_row = |l: &&str| {
            let first = l.split_whitespace().next().unwrap_or_default();
            first.len() == 2 && first.chars().all(|c| c.is_ascii_hexdigit())
        };
        let mut lines = output.lines().map(str::trim);
        lines
            .find(|l| l.contains(marker))
            .and_then(|_| lines.find(is_hex_row))
            .unwrap_or_default()
    }

    #[test]
    fn the_bytes_follow_the_protocol_level() {
        let v5 = run_tour(ProtocolVersion::V5).output;
        let v311 = run_tour(ProtocolVersion::V3_1_1).output;
        // The level byte of CONNECT, after the protocol name.
        assert!(
            bytes_after(&v5, "-> server  CONNECT").starts_with("10 20 | 00 04 4d 51 54 54 05 02")
        );
        assert!(
            bytes_after(&v311, "-> server  CONNECT").starts_with("10 15 | 00 04 4d 51 54 54 04 00")
        );
        // CONNACK on the resumed connection: Session Present 1, then success; 5.0 adds a
        // property block.
        let resumed = "-> client  CONNACK    Session Present 1";
        assert!(
            bytes_after(&v5, resumed).starts_with("20 08 | 01 00 05 27"),
            "{v5}"
        );
        assert_eq!(bytes_after(&v311, resumed), "20 02 | 01 00", "{v311}");
        // PUBACK: the short form in 5.0 is the 3.1.1 packet.
        assert_eq!(bytes_after(&v5, "-> client  PUBACK"), "40 02 | 00 02");
        assert_eq!(bytes_after(&v311, "-> client  PUBACK"), "40 02 | 00 02");
        // A QoS 1 PUBLISH: a property length byte after the packet identifier in 5.0 only.
        let publish = "-> server  PUBLISH    QoS 1";
        assert!(bytes_after(&v5, publish).starts_with("32 18 |"));
        assert!(bytes_after(&v311, publish).starts_with("32 17 |"));
        // DISCONNECT: two bytes in both (reason 0x00 left out in 5.0).
        assert_eq!(bytes_after(&v5, "-> server  DISCONNECT"), "e0 00");
        assert_eq!(bytes_after(&v311, "-> server  DISCONNECT"), "e0 00");
    }

    #[test]
    fn the_check_fails_on_a_double_delivery() {
        let facts = Facts {
            reading_deliveries: 2,
            ..run_tour(ProtocolVersion::V5).facts
        };
        let err = facts.check().expect_err("two deliveries are a failure");
        assert!(err.contains("2 times"), "{err}");
    }

    #[test]
    fn arguments() {
        assert_eq!(args(&[]), Ok(Command::Tour(ProtocolVersion::V5)));
        assert_eq!(
            args(&["--mqtt", "3.1.1"]),
            Ok(Command::Tour(ProtocolVersion::V3_1_1))
        );
        assert_eq!(args(&["--mqtt=5"]), Ok(Command::Tour(ProtocolVersion::V5)));
        assert_eq!(
            args(&["--mqtt", "5.0"]),
            Ok(Command::Tour(ProtocolVersion::V5))
        );
        assert_eq!(args(&["--help"]), Ok(Command::Help));
        assert_eq!(args(&["-h"]), Ok(Command::Help));
        assert!(args(&["--mqtt"]).is_err());
        assert!(args(&["--mqtt", "4"]).is_err());
        assert!(args(&["--verbose"]).is_err());
    }

    #[test]
    fn hex_rows_split_the_fixed_header_and_wrap() {
        assert_eq!(hex_rows(&[0xe0, 0x00]), ["e0 00"]);
        assert_eq!(hex_rows(&[0x40, 0x02, 0x00, 0x07]), ["40 02 | 00 07"]);
        let long: Vec<u8> = [0x30, 0x11].into_iter().chain(0..17).collect();
        let rows = hex_rows(&long);
        assert_eq!(rows.len(), 2);
        assert!(rows[0].starts_with("30 11 | 00 01"));
        assert_eq!(rows[1], "        10");
    }

    #[test]
    fn narration_wraps() {
        let lines = wrap("aaa bbb ccc", 7);
        assert_eq!(lines, ["aaa bbb", "ccc"]);
    }
}
