//! `client`: a small mosquitto_pub / mosquitto_sub work-alike on mqttwire's session engine,
//! driven over a blocking `TcpStream` (see `blocking/mod.rs`).
//!
//! ```text
//! cargo run --example client -- pub -t TOPIC -m MESSAGE [-q 0|1|2] [-r] [OPTIONS]
//! cargo run --example client -- sub -t FILTER [-t FILTER ...] [-q 0|1|2] [-C COUNT] [OPTIONS]
//!
//! OPTIONS: --mqtt 3.1.1|5 (default 5)   --host HOST (default 127.0.0.1)
//!          --port PORT (default 1883)    --user NAME   --pass PASSWORD
//!          --id CLIENT_ID                -k KEEP_ALIVE_SECONDS (default 60)
//!          -d, --debug (every packet to stderr)    -h, --help
//! ```
//!
//! `pub` connects, publishes one message and, at QoS 1 or 2, waits for its
//! acknowledgement before it disconnects. `sub` subscribes and prints each message as
//! `TOPIC PAYLOAD` (the payload as UTF-8, invalid bytes replaced), one per line, until
//! `COUNT` messages have arrived (forever without `-C`).
//!
//! Exit codes: 0 success; 1 when the broker refuses the connection, a subscription or the
//! message, or the network fails; 2 for bad arguments.
//!
//! Against a local mosquitto:
//!
//! ```text
//! $ cargo run --example client -- sub -t 'sensors/#' -q 2 -C 1 &
//! $ cargo run --example client -- pub -t sensors/17 -m 21.5 -q 2
//! sensors/17 21.5
//! ```

mod blocking;

use blocking::{BlockingClient, Direction, Error, Traced};
use bytes::Bytes;
use mqttwire::properties::SubscribeProperties;
use mqttwire::session::{Event, SessionConfig};
use mqttwire::{
    Connect, DisconnectReasonCode, MqttString, Packet, ProtocolVersion, Publish, QoS, Subscription,
    TopicFilter, TopicName,
};
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "\
usage: client pub -t TOPIC -m MESSAGE [-q 0|1|2] [-r] [OPTIONS]
       client sub -t FILTER [-t FILTER ...] [-q 0|1|2] [-C COUNT] [OPTIONS]
       client --help

Publishes one message (pub) or prints the messages of subscriptions as
'TOPIC PAYLOAD' lines (sub), with mqttwire's session engine over TCP.

  -t TOPIC|FILTER   topic to publish to, or filter to subscribe to (sub: repeatable)
  -m MESSAGE        the message to publish
  -q 0|1|2          QoS (default 0)
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
  -d, --debug       print every packet sent and received to stderr
  -h, --help        show this help

Exit codes: 0 success; 1 connection, subscription or message refused, or a
network error; 2 bad arguments.";

#[derive(Debug, PartialEq)]
enum Mode {
    Pub,
    Sub,
}

#[derive(Debug)]
struct Args {
    mode: Mode,
    topics: Vec<String>,
    message: Option<String>,
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
    debug: bool,
}

/// `Ok(None)`: help was asked for.
fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
    let mut args = args.into_iter();
    let mut parsed = Args {
        mode: Mode::Pub,
        topics: Vec::new(),
        message: None,
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
        debug: false,
    };
    let mut mode = None;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "pub" | "sub" if mode.is_none() => {
                mode = Some(if arg == "pub" { Mode::Pub } else { Mode::Sub });
            }
            "-t" => parsed.topics.push(value("-t")?),
            "-m" => parsed.message = Some(value("-m")?),
            "-q" => {
                parsed.qos = match value("-q")?.as_str() {
                    "0" => QoS::AtMostOnce,
                    "1" => QoS::AtLeastOnce,
                    "2" => QoS::ExactlyOnce,
                    other => return Err(format!("-q: QoS must be 0, 1 or 2, not {other:?}")),
                }
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
            "-d" | "--debug" => parsed.debug = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    parsed.mode = mode.ok_or("say pub or sub")?;
    if parsed.topics.is_empty() {
        return Err("-t is required".into());
    }
    match parsed.mode {
        Mode::Pub => {
            if parsed.topics.len() > 1 {
                return Err("pub takes one -t".into());
            }
            if parsed.message.is_none() {
                return Err("pub needs -m MESSAGE".into());
            }
            if parsed.count.is_some() {
                return Err("-C is for sub".into());
            }
        }
        Mode::Sub => {
            if parsed.message.is_some() || parsed.retain {
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
    let mut client = BlockingClient::new(SessionConfig::default());
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
    let connected = client.connect(addr, connect);
    print_trace(&mut client);
    let connected = connected.map_err(|e| match e {
        Error::Session(e) => Failure::Usage(e.to_string()),
        e => Failure::Run(format!("{}:{}: {e}", args.host, args.port)),
    })?;
    if args.debug {
        eprintln!("connected: {connected:?}");
    }
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

fn publish(client: &mut BlockingClient, args: &Args) -> Result<(), Failure> {
    let topic = TopicName::new(&args.topics[0])
        .map_err(|e| Failure::Usage(format!("-t {:?}: {e}", args.topics[0])))?;
    let mut message = Publish::new(topic, args.message.clone().unwrap_or_default());
    message.retain = args.retain;
    let outcome = client.publish_and_wait(args.qos, message);
    print_trace(client);
    match outcome.map_err(|e| match e {
        Error::Session(e) => Failure::Usage(e.to_string()),
        e => e.into(),
    })? {
        None | Some(Event::PublishAcknowledged { .. } | Event::PublishCompleted { .. }) => Ok(()),
        Some(Event::PublishFailed { reason_code, .. }) => Err(Failure::Run(format!(
            "the broker refused the message: {reason_code}"
        ))),
        Some(other) => Err(Failure::Run(format!(
            "the message was not delivered: {other:?}"
        ))),
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

/// With `--debug`, prints the packets recorded since the last call to stderr.
fn print_trace(client: &mut BlockingClient) {
    for Traced {
        direction,
        packet,
        size,
        ..
    } in client.take_trace()
    {
        let arrow = match direction {
            Direction::Sent => "->",
            Direction::Received => "<-",
            Direction::Lost => "-x",
        };
        eprintln!("{arrow} {} ({size} bytes)", describe(&packet));
    }
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
        assert_eq!(a.qos, QoS::ExactlyOnce);
        assert!(a.retain);
        assert_eq!(a.version, ProtocolVersion::V3_1_1);
        assert_eq!(a.port, 1999);
        let s = args("sub -t a/# -t b -C 3").unwrap().unwrap();
        assert_eq!((s.mode, s.topics.len(), s.count), (Mode::Sub, 2, Some(3)));
        assert!(args("--help").unwrap().is_none());
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
