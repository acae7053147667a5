//! `client`: a small mosquitto_pub / mosquitto_sub work-alike on mqttwire's session engine,
//! driven over a blocking `TcpStream` (see `blocking/mod.rs`).
//!
//! ```text
//! cargo run --example client -- pub -t TOPIC -m MESSAGE [-m MESSAGE ...] [-q 0|1|2] [-r] [OPTIONS]
//! cargo run --example client -- sub -t FILTER [-t FILTER ...] [-q 0|1|2] [-C COUNT] [OPTIONS]
//!
//! OPTIONS: --mqtt 3.1.1|5 (default 5)   --host HOST (default 127.0.0.1)
//!          --port PORT (default 1883)    --user NAME   --pass PASSWORD
//!          --id CLIENT_ID                -k KEEP_ALIVE_SECONDS (default 60)
//!          --session FILE                --session-expiry SECONDS (default 3600)
//!          --max-packet-size BYTES (default 1048576)
//!          -d, --debug (every packet and save to stderr)    -h, --help
//! ```
//!
//! `pub` connects, publishes its messages in order and, at QoS 1 or 2, waits until every
//! one is acknowledged before it disconnects. `sub` subscribes and prints each message as
//! `TOPIC PAYLOAD` (the payload as UTF-8, invalid bytes replaced), one per line, until
//! `COUNT` messages have arrived (forever without `-C`).
//!
//! With `--session FILE` the session survives a crash: the state is saved to FILE after
//! every input that changed it, before the packets of that input are written (see
//! `BlockingClient::persist_to` in `blocking/mod.rs`), and a run that finds FILE resumes
//! it with Clean Start 0, so the messages a killed run left unacknowledged are completed
//! without loss or duplicate QoS 2 delivery. `pub` with `--session` and no `-m` only
//! completes the saved messages.
//!
//! Exit codes: 0 success; 1 when the broker refuses the connection, a subscription or the
//! message, the network fails, or FILE cannot be restored; 2 for bad arguments.
//!
//! Against a local mosquitto:
//!
//! ```text
//! $ cargo run --example client -- sub -t 'sensors/#' -q 2 -C 1 &
//! $ cargo run --example client -- pub -t sensors/17 -m 21.5 -q 2
//! sensors/17 21.5
//! ```

mod blocking;

use blocking::{load_session, BlockingClient, Direction, Error, Saved, Traced};
use bytes::Bytes;
use mqttwire::properties::SubscribeProperties;
use mqttwire::session::{Event, SessionConfig};
use mqttwire::{
    Connect, DisconnectReasonCode, MqttString, Packet, ProtocolVersion, Publish, QoS, Subscription,
    TopicFilter, TopicName, MAX_PACKET_SIZE,
};
use std::io::Write as _;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "\
usage: client pub -t TOPIC -m MESSAGE [-m MESSAGE ...] [-q 0|1|2] [-r] [OPTIONS]
       client pub --session FILE --id CLIENT_ID [OPTIONS]
       client sub -t FILTER [-t FILTER ...] [-q 0|1|2] [-C COUNT] [OPTIONS]
       client --help

Publishes messages (pub) or prints the messages of subscriptions as
'TOPIC PAYLOAD' lines (sub), with mqttwire's session engine over TCP.

  -t TOPIC|FILTER   topic to publish to, or filter to subscribe to (sub: repeatable)
  -m MESSAGE        a message to publish (repeatable: published in order, and
                    pub waits until every QoS 1 and 2 one is acknowledged)
  -q 0|1|2          QoS (default 0). pub: each -m gets the QoS of the last -q
                    before it; -m before the first -q get the first -q's
  -r                publish retained
  -C COUNT          sub: exit after COUNT messages
  --mqtt 3.1.1|5    protocol version (default 5)
  --host HOST       broker host (default 127.0.0.1)
  --port PORT       broker port (default 1883)
  --user NAME       user name
  --pass PASSWORD   password
  --id CLIENT_ID    client identifier (default mqttwire-client-PID; empty: the
                    broker assigns one)
  -k SECONDS        keep alive (default 60; 0 turns it off)
  --session FILE    keep the session in FILE so that it survives a crash (needs
                    --id): saved after every input that changed it, before the
                    packets it produced are written (FILE.tmp, fsync, rename).
                    If FILE exists the run resumes it (Clean Start 0): what a
                    killed run left unacknowledged is completed, and no QoS 2
                    message is delivered twice. pub --session without -m only
                    completes the saved messages. FILE stays after a clean
                    finish (holding an empty state), as the broker keeps the
                    session too; delete it to start afresh. sub prints a message
                    after saving its acknowledgement: a crash in between loses
                    that line, and never repeats a QoS 2 one
  --session-expiry SECONDS
                    MQTT 5.0: how long the broker keeps the session after a
                    connection ends (default 3600 with --session)
  --max-packet-size BYTES
                    the largest packet accepted from the broker (default
                    1048576, mqttwire's default: a message with a 1 MiB payload
                    needs more; at most 268435460); announced to a 5.0 broker, which then sends
                    nothing larger
  -d, --debug       print every packet sent and received, and every save of the
                    session, to stderr
  -h, --help        show this help

Exit codes: 0 success; 1 connection, subscription or message refused, a
network error, or a --session FILE that cannot be restored; 2 bad arguments.";

/// The Session Expiry Interval asked for with `--session` and no `--session-expiry`: an
/// hour, long enough for a restart, short enough that a client gone for good does not
/// leave its session on the broker for long.
const DEFAULT_SESSION_EXPIRY: u32 = 3600;

#[derive(Debug, PartialEq)]
enum Mode {
    Pub,
    Sub,
}

#[derive(Debug)]
struct Args {
    mode: Mode,
    topics: Vec<String>,
    /// pub: the messages and their QoS, in order.
    messages: Vec<(QoS, String)>,
    /// sub: the QoS of the subscriptions (the last -q).
    qos: QoS,
    retain: bool,
    count: Option<u64>,
    version: ProtocolVersion,
    host: String,
    port: u16,
    user: Option<String>,
    pass: Option<String>,
    id: Option<String>,
    keep_alive: u16,
    session: Option<PathBuf>,
    session_expiry: u32,
    /// Our Maximum Packet Size.
    max_packet_size: NonZeroU32,
    debug: bool,
}

/// `Ok(None)`: help was asked for.
fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
    let mut args = args.into_iter();
    let mut parsed = Args {
        mode: Mode::Pub,
        topics: Vec::new(),
        messages: Vec::new(),
        qos: QoS::AtMostOnce,
        retain: false,
        count: None,
        version: ProtocolVersion::V5,
        host: "127.0.0.1".into(),
        port: 1883,
        user: None,
        pass: None,
        id: None,
        keep_alive: 60,
        session: None,
        session_expiry: DEFAULT_SESSION_EXPIRY,
        max_packet_size: SessionConfig::default().maximum_packet_size,
        debug: false,
    };
    let mut mode = None;
    // Each -m with the -q before it, if any.
    let mut messages: Vec<(Option<QoS>, String)> = Vec::new();
    let mut first_qos = None;
    let mut last_qos = None;
    let mut session_expiry = None;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "pub" | "sub" if mode.is_none() => {
                mode = Some(if arg == "pub" { Mode::Pub } else { Mode::Sub });
            }
            "-t" => parsed.topics.push(value("-t")?),
            "-m" => messages.push((last_qos, value("-m")?)),
            "-q" => {
                let qos = match value("-q")?.as_str() {
                    "0" => QoS::AtMostOnce,
                    "1" => QoS::AtLeastOnce,
                    "2" => QoS::ExactlyOnce,
                    other => return Err(format!("-q: QoS must be 0, 1 or 2, not {other:?}")),
                };
                first_qos.get_or_insert(qos);
                last_qos = Some(qos);
            }
            "-r" => parsed.retain = true,
            "-C" => {
                let v = value("-C")?;
                match v.parse::<u64>() {
                    Ok(n) if n > 0 => parsed.count = Some(n),
                    _ => return Err(format!("-C: a count of at least 1, not {v:?}")),
                }
            }
            "--mqtt" | "-V" => {
                parsed.version = match value("--mqtt")?.as_str() {
                    "5" | "5.0" | "mqttv5" => ProtocolVersion::V5,
                    "3.1.1" | "311" | "mqttv311" => ProtocolVersion::V3_1_1,
                    other => return Err(format!("--mqtt: 5 or 3.1.1, not {other:?}")),
                }
            }
            "--host" => parsed.host = value("--host")?,
            "--port" | "-p" => {
                let v = value("--port")?;
                parsed.port = v
                    .parse()
                    .ok()
                    .filter(|&p| p != 0)
                    .ok_or(format!("--port: a port number, not {v:?}"))?;
            }
            "--user" | "-u" => parsed.user = Some(value("--user")?),
            "--pass" | "-P" => parsed.pass = Some(value("--pass")?),
            "--id" | "-i" => parsed.id = Some(value("--id")?),
            "-k" => {
                let v = value("-k")?;
                parsed.keep_alive = v
                    .parse()
                    .map_err(|_| format!("-k: seconds from 0 to 65535, not {v:?}"))?;
            }
            "--session" => parsed.session = Some(PathBuf::from(value("--session")?)),
            "--session-expiry" => {
                let v = value("--session-expiry")?;
                session_expiry = Some(v.parse::<u32>().ok().filter(|&s| s > 0).ok_or(format!(
                    "--session-expiry: seconds from 1 to 4294967295, not {v:?}"
                ))?);
            }
            "--max-packet-size" => {
                let v = value("--max-packet-size")?;
                parsed.max_packet_size = v
                    .parse::<NonZeroU32>()
                    .ok()
                    .filter(|m| m.get() <= MAX_PACKET_SIZE as u32)
                    .ok_or(format!(
                        "--max-packet-size: bytes from 1 to {MAX_PACKET_SIZE}, not {v:?}"
                    ))?;
            }
            "-d" | "--debug" => parsed.debug = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    parsed.mode = mode.ok_or("say pub or sub")?;
    parsed.qos = last_qos.unwrap_or(QoS::AtMostOnce);
    let first_qos = first_qos.unwrap_or(QoS::AtMostOnce);
    parsed.messages = messages
        .into_iter()
        .map(|(qos, text)| (qos.unwrap_or(first_qos), text))
        .collect();
    if let Some(expiry) = session_expiry {
        if parsed.session.is_none() {
            // The broker would keep a session that we do not: a restart could not resume it.
            return Err("--session-expiry needs --session".into());
        }
        parsed.session_expiry = expiry;
    }
    if parsed.session.is_some() && parsed.id.as_deref().map_or(true, str::is_empty) {
        return Err("--session needs --id: the broker finds the session by client id".into());
    }
    // pub --session without messages completes the saved ones and needs no topic.
    let resume_only = parsed.mode == Mode::Pub
        && parsed.session.is_some()
        && parsed.messages.is_empty()
        && parsed.topics.is_empty();
    if parsed.topics.is_empty() && !resume_only {
        return Err("-t is required".into());
    }
    match parsed.mode {
        Mode::Pub => {
            if parsed.topics.len() > 1 {
                return Err("pub takes one -t".into());
            }
            if parsed.messages.is_empty() && !resume_only {
                return Err("pub needs -m MESSAGE".into());
            }
            if parsed.count.is_some() {
                return Err("-C is for sub".into());
            }
        }
        Mode::Sub => {
            if !parsed.messages.is_empty() || parsed.retain {
                return Err("-m and -r are for pub".into());
            }
        }
    }
    Ok(Some(parsed))
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("client: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(e)) => {
            eprintln!("client: {e}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Run(e)) => {
            eprintln!("client: {e}");
            ExitCode::from(1)
        }
    }
}

enum Failure {
    /// An argument the protocol does not allow (a topic with a wildcard, ...).
    Usage(String),
    /// The broker or the network said no.
    Run(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Run(e.to_string())
    }
}

fn run(args: &Args) -> Result<(), Failure> {
    let mut config = SessionConfig::default();
    config.maximum_packet_size = args.max_packet_size;
    let saved = match &args.session {
        Some(path) => load_session(path)?,
        None => None,
    };
    let resumed = saved.is_some();
    let mut client = match saved {
        Some(state) => {
            if args.debug {
                eprintln!("restored the session: {state:?}");
            }
            BlockingClient::with_session(config, state)
        }
        None => BlockingClient::new(config),
    };
    if args.debug {
        client.enable_trace();
    }
    let id = args
        .id
        .clone()
        .unwrap_or_else(|| format!("mqttwire-client-{}", std::process::id()));
    let id = MqttString::new(&id).map_err(|e| Failure::Usage(format!("--id: {e}")))?;
    let mut connect = Connect::new(args.version, id);
    connect.keep_alive = args.keep_alive;
    if let Some(user) = &args.user {
        connect.user_name =
            Some(MqttString::new(user).map_err(|e| Failure::Usage(format!("--user: {e}")))?);
    }
    connect.password = args.pass.clone().map(Bytes::from);

    let addr = (args.host.as_str(), args.port);
    if let Some(path) = &args.session {
        client.persist_to(path);
        if args.version.is_v5() {
            connect.properties.session_expiry_interval = Some(args.session_expiry);
        } else if !resumed {
            // A 3.1.1 session outlives its connection only with Clean Session 0, which
            // also resumes whatever the broker kept under this id from before FILE: its
            // packet identifiers in use would swallow our new messages. One clean
            // connection first discards that.
            connected(&mut client, addr, connect.clone(), args)?;
            client.disconnect()?;
            print_trace(&mut client);
            // Its Connected and Disconnected events are not news for what follows.
            while let Ok(Some(_)) = client.next_event(Duration::ZERO) {}
        }
        // With FILE, resume; without it, start clean (5.0: Clean Start 1 with an expiry;
        // 3.1.1: cleaned above).
        connect.clean_start = args.version.is_v5() && !resumed;
    }
    connected(&mut client, addr, connect, args)?;
    let result = match args.mode {
        Mode::Pub => publish(&mut client, args),
        Mode::Sub => subscribe(&mut client, args),
    };
    if client.is_connected() {
        let _ = client.disconnect();
    }
    print_trace(&mut client);
    result
}

/// Connects, with the messages a refusal deserves.
fn connected(
    client: &mut BlockingClient,
    addr: (&str, u16),
    connect: Connect,
    args: &Args,
) -> Result<(), Failure> {
    let connected = client.connect(addr, connect);
    print_trace(client);
    let connected = connected.map_err(|e| match e {
        Error::Session(e) => Failure::Usage(e.to_string()),
        e @ Error::Save(..) => e.into(),
        e => Failure::Run(format!("{}:{}: {e}", args.host, args.port)),
    })?;
    if args.debug {
        eprintln!("connected: {connected:?}");
    }
    Ok(())
}

/// Publishes the messages of `-m` in order, then waits until no message of the session is
/// unacknowledged: the new ones and, with `--session`, those a previous run left.
fn publish(client: &mut BlockingClient, args: &Args) -> Result<(), Failure> {
    if let Some(name) = args.topics.first() {
        let topic =
            TopicName::new(name).map_err(|e| Failure::Usage(format!("-t {name:?}: {e}")))?;
        for (qos, text) in &args.messages {
            let mut message = Publish::new(topic.clone(), text.clone());
            message.retain = args.retain;
            let published = client.publish(*qos, message);
            print_trace(client);
            published.map_err(|e| match e {
                Error::Session(e) => Failure::Usage(e.to_string()),
                e => e.into(),
            })?;
        }
    }
    let mut failures = Vec::new();
    while client.session().session().unacknowledged() > 0 {
        let event = client.next_event(Duration::from_secs(10));
        print_trace(client);
        match event? {
            Some(Event::PublishFailed {
                packet_id,
                reason_code,
            }) => failures.push(format!(
                "the broker refused message {packet_id}: {reason_code}"
            )),
            Some(Event::PublishDropped { packet_id, .. }) => failures.push(format!(
                "message {packet_id} was dropped unacknowledged (Session Present 0, or it no \
                 longer fits the broker's limits)"
            )),
            Some(Event::Disconnected(cause)) => return Err(Error::Closed(Box::new(cause)).into()),
            Some(_) => {}
            None if !client.is_connected() => {
                return Err(Failure::Run("connection lost".into()));
            }
            None => {
                return Err(Failure::Run(format!(
                    "{} messages still unacknowledged after 10 s",
                    client.session().session().unacknowledged()
                )))
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Failure::Run(failures.join("; ")))
    }
}

fn subscribe(client: &mut BlockingClient, args: &Args) -> Result<(), Failure> {
    let mut subscriptions = Vec::new();
    for filter in &args.topics {
        let parsed =
            TopicFilter::new(filter).map_err(|e| Failure::Usage(format!("-t {filter:?}: {e}")))?;
        subscriptions.push(Subscription::new(parsed, args.qos));
    }
    let ack = client.subscribe(subscriptions, SubscribeProperties::default());
    print_trace(client);
    let ack = ack?;
    for (filter, code) in args.topics.iter().zip(&ack.reason_codes) {
        if code.is_error() {
            return Err(Failure::Run(format!(
                "the broker refused the subscription to {filter:?}: {code}"
            )));
        }
    }
    let mut received = 0;
    let stdout = std::io::stdout();
    loop {
        if args.count.is_some_and(|count| received >= count) {
            return Ok(());
        }
        let event = client.next_event(Duration::from_secs(3600));
        print_trace(client);
        match event? {
            Some(Event::Message(message)) => {
                received += 1;
                let mut out = stdout.lock();
                let line = writeln!(
                    out,
                    "{} {}",
                    message.topic,
                    String::from_utf8_lossy(&message.payload)
                );
                if line.and_then(|()| out.flush()).is_err() {
                    // The reader went away (a closed pipe): nothing left to do.
                    return Ok(());
                }
            }
            Some(Event::Disconnected(cause)) => return Err(Error::Closed(Box::new(cause)).into()),
            Some(_) => {}
            None if !client.is_connected() => {
                return Err(Failure::Run("connection lost".into()));
            }
            None => {}
        }
    }
}

/// With `--debug`, prints the packets and saves recorded since the last call to stderr, in
/// the order they happened.
fn print_trace(client: &mut BlockingClient) {
    let mut saves = client.take_saves().into_iter().peekable();
    for Traced {
        direction,
        at,
        packet,
        size,
    } in client.take_trace()
    {
        while let Some(save) = saves.next_if(|s| s.at <= at) {
            print_save(&save);
        }
        let arrow = match direction {
            Direction::Sent => "->",
            Direction::Received => "<-",
            Direction::Lost => "-x",
        };
        eprintln!("{arrow} {} ({size} bytes)", describe(&packet));
    }
    saves.for_each(|save| print_save(&save));
}

fn print_save(save: &Saved) {
    eprintln!(
        "== session saved: {} unacknowledged, {} awaiting PUBREL ({} bytes)",
        save.unacknowledged, save.incomplete_incoming, save.size
    );
}

fn describe(packet: &Packet) -> String {
    let name = packet.packet_type().name();
    match packet {
        Packet::Publish(p) => format!(
            "{name} qos={} id={} dup={} retain={} topic={:?} alias={:?} payload={} bytes",
            p.qos.qos() as u8,
            p.qos.packet_id().map_or(0, |id| id.get()),
            u8::from(p.dup),
            u8::from(p.retain),
            p.topic.as_str(),
            p.properties.topic_alias.map(|a| a.get()),
            p.payload.len()
        ),
        Packet::ConnAck(a) => format!(
            "{name} session_present={} reason={}",
            u8::from(a.session_present),
            a.reason_code
        ),
        Packet::PubAck(a) => format!("{name} id={} reason={}", a.packet_id, a.reason_code),
        Packet::PubRec(a) => format!("{name} id={} reason={}", a.packet_id, a.reason_code),
        Packet::PubRel(a) => format!("{name} id={} reason={}", a.packet_id, a.reason_code),
        Packet::PubComp(a) => format!("{name} id={} reason={}", a.packet_id, a.reason_code),
        Packet::SubAck(a) => format!("{name} id={} codes={:?}", a.packet_id, a.reason_codes),
        Packet::Subscribe(s) => format!(
            "{name} id={} filters={}",
            s.packet_id,
            s.subscriptions.len()
        ),
        Packet::Disconnect(d) if d.reason_code != DisconnectReasonCode::NormalDisconnection => {
            format!("{name} reason={}", d.reason_code)
        }
        _ => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Result<Option<Args>, String> {
        parse(line.split_whitespace().map(String::from))
    }

    #[test]
    fn parses_pub_and_sub() {
        let a = args("pub -t a/b -m hi -q 2 -r --mqtt 3.1.1 --port 1999")
            .unwrap()
            .unwrap();
        assert_eq!(a.mode, Mode::Pub);
        assert_eq!(a.messages, [(QoS::ExactlyOnce, "hi".to_owned())]);
        assert!(a.retain);
        assert_eq!(a.version, ProtocolVersion::V3_1_1);
        assert_eq!(a.port, 1999);
        let s = args("sub -t a/# -t b -C 3").unwrap().unwrap();
        assert_eq!((s.mode, s.topics.len(), s.count), (Mode::Sub, 2, Some(3)));
        assert!(args("--help").unwrap().is_none());
    }

    #[test]
    fn each_message_takes_the_qos_before_it_or_the_first_one() {
        let a = args("pub -t t -m A -q 2 -m B -q 1 -m C -m D")
            .unwrap()
            .unwrap();
        let got: Vec<(QoS, &str)> = a.messages.iter().map(|(q, m)| (*q, m.as_str())).collect();
        assert_eq!(
            got,
            [
                (QoS::ExactlyOnce, "A"),
                (QoS::ExactlyOnce, "B"),
                (QoS::AtLeastOnce, "C"),
                (QoS::AtLeastOnce, "D")
            ]
        );
        let zero = args("pub -t t -m A").unwrap().unwrap();
        assert_eq!(zero.messages, [(QoS::AtMostOnce, "A".to_owned())]);
    }

    #[test]
    fn session_options() {
        let a = args("pub --session s.bin --id c").unwrap().unwrap();
        assert_eq!(a.session.as_deref(), Some(std::path::Path::new("s.bin")));
        assert_eq!(a.session_expiry, DEFAULT_SESSION_EXPIRY);
        assert!(a.messages.is_empty(), "resumes only");
        let s = args("sub -t a --session s --id c --session-expiry 60")
            .unwrap()
            .unwrap();
        assert_eq!(s.session_expiry, 60);
        for bad in [
            "pub -t a -m x --session s",
            "pub -t a -m x --session-expiry 60 --id c",
            "pub -t a -m x --session s --id c --session-expiry 0",
            "pub --session s --id c -t a",
            "sub --session s --id c",
        ] {
            assert!(args(bad).is_err(), "{bad:?} accepted");
        }
    }

    /// The 1 MiB default refuses a message with a 1 MiB payload; the flag raises the limit
    /// the decoder enforces and a 5.0 CONNECT announces, within MQTT's 256 MiB.
    #[test]
    fn max_packet_size_raises_the_limit() {
        let default = args("sub -t a").unwrap().unwrap();
        assert_eq!(default.max_packet_size.get(), 1 << 20);
        let raised = args("sub -t a --max-packet-size 2000000").unwrap().unwrap();
        assert_eq!(raised.max_packet_size.get(), 2_000_000);
        let top = format!("sub -t a --max-packet-size {MAX_PACKET_SIZE}");
        assert!(args(&top).is_ok());
        let over = (MAX_PACKET_SIZE + 1).to_string();
        for bad in ["0", over.as_str(), "1M"] {
            let line = format!("sub -t a --max-packet-size {bad}");
            assert!(args(&line).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn refuses_bad_arguments() {
        for bad in [
            "",
            "pub -m x",
            "pub -t a",
            "pub -t a -m x -q 3",
            "sub -t a -C 0",
            "sub -t a -m x",
            "pub -t a -m x --mqtt 4",
            "pub -t a -m x --port 0",
            "pub -t a -m x -t b",
            "pub -t a -m x --bogus",
            "pub -t",
        ] {
            assert!(args(bad).is_err(), "{bad:?} accepted");
        }
    }
}
