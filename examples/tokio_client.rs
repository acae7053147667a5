//! `tokio_client`: mqttwire's session [`Client`] driven over a tokio `TcpStream`, with the
//! `tokio-util` feature's codec traits: it connects, subscribes to a topic, publishes a
//! message to it, prints the message as it comes back, and disconnects.
//!
//! ```text
//! cargo run --example tokio_client --features tokio-util -- \
//!     [--host HOST] [--port PORT] [--mqtt 3.1.1|5] -t TOPIC -m MESSAGE [-q 0|1|2]
//! ```
//!
//! The received message is printed as `TOPIC PAYLOAD` (the payload as UTF-8, invalid bytes
//! replaced). Exit codes: 0 success; 1 when the broker refuses the connection, the
//! subscription or the message, the network fails, or the whole exchange takes more than
//! 10 s; 2 for bad arguments.
//!
//! Against a local mosquitto:
//!
//! ```text
//! $ mosquitto -p 1883 &
//! $ cargo run --example tokio_client --features tokio-util -- -t greetings -m hello -q 1
//! greetings hello
//! ```
//!
//! The run loop is the one the [`session`](mqttwire::session) module documents, on a
//! current-thread runtime: after every input, encode and write everything `poll_transmit`
//! yields (with `tokio_util::codec::Encoder`), then take the session's events; when there
//! is none, decode the next buffered packet (with `tokio_util::codec::Decoder`), or wait
//! for the socket to be readable or for `poll_timeout`, whichever comes first. Both traits
//! are called with fully qualified syntax: `decoder.decode(..)` would pick mqttwire's
//! inherent method, which has the same name.

use bytes::BytesMut;
use mqttwire::codec::CodecError;
use mqttwire::properties::SubscribeProperties;
use mqttwire::session::{Client, DisconnectCause, Event, Instant, SessionConfig};
use mqttwire::{
    Connect, Decoder, Disconnect, DisconnectReasonCode, Encoder, MqttString, ProtocolVersion,
    Publish, QoS, Subscription, TopicFilter, TopicName,
};
use std::process::ExitCode;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_util::codec::{Decoder as FrameDecoder, Encoder as FrameEncoder};

const USAGE: &str = "\
usage: tokio_client [--host HOST] [--port PORT] [--mqtt 3.1.1|5] -t TOPIC -m MESSAGE [-q 0|1|2]
       tokio_client --help

Connects to an MQTT broker, subscribes to TOPIC, publishes MESSAGE to it and prints
the message as it comes back, as 'TOPIC PAYLOAD', then disconnects: mqttwire's
session engine on tokio.

  -t TOPIC          the topic to subscribe and publish to (no wildcards)
  -m MESSAGE        the message to publish
  -q 0|1|2          QoS of the subscription and the message (default 0)
  --mqtt 3.1.1|5    protocol version (default 5)
  --host HOST       broker host (default 127.0.0.1)
  --port PORT       broker port (default 1883)
  -h, --help        show this help

Exit codes: 0 success; 1 refused, network error, or no answer within 10 s;
2 bad arguments.";

/// How long the whole exchange, connection included, may take.
const TIME_LIMIT: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct Args {
    topic: TopicName,
    message: String,
    qos: QoS,
    version: ProtocolVersion,
    host: String,
    port: u16,
}

/// `Ok(None)`: help was asked for.
fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
    let mut args = args.into_iter();
    let (mut topic, mut message) = (None, None);
    let mut qos = QoS::AtMostOnce;
    let mut version = ProtocolVersion::V5;
    let mut host = String::from("127.0.0.1");
    let mut port = 1883;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "-t" => {
                let t = value("-t")?;
                topic = Some(TopicName::new(&t).map_err(|e| format!("-t {t:?}: {e}"))?);
            }
            "-m" => message = Some(value("-m")?),
            "-q" => {
                qos = match value("-q")?.as_str() {
                    "0" => QoS::AtMostOnce,
                    "1" => QoS::AtLeastOnce,
                    "2" => QoS::ExactlyOnce,
                    other => return Err(format!("-q: QoS must be 0, 1 or 2, not {other:?}")),
                }
            }
            "--mqtt" | "-V" => {
                version = match value("--mqtt")?.as_str() {
                    "5" | "5.0" | "mqttv5" => ProtocolVersion::V5,
                    "3.1.1" | "311" | "mqttv311" => ProtocolVersion::V3_1_1,
                    other => return Err(format!("--mqtt: 5 or 3.1.1, not {other:?}")),
                }
            }
            "--host" => host = value("--host")?,
            "--port" | "-p" => {
                let v = value("--port")?;
                port = v
                    .parse()
                    .ok()
                    .filter(|&p| p != 0)
                    .ok_or(format!("--port: a port number, not {v:?}"))?;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(Args {
        topic: topic.ok_or("-t TOPIC is required")?,
        message: message.ok_or("-m MESSAGE is required")?,
        qos,
        version,
        host,
        port,
    }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("tokio_client: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tokio_client: {e}");
            ExitCode::from(1)
        }
    }
}

fn now() -> Instant {
    Instant::from(std::time::Instant::now())
}

async fn run(args: &Args) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + TIME_LIMIT;
    let address = format!("{}:{}", args.host, args.port);
    let stream = tokio::time::timeout_at(deadline, TcpStream::connect((&*args.host, args.port)))
        .await
        .map_err(|_| format!("{address}: no connection within {} s", TIME_LIMIT.as_secs()))?
        .map_err(|e| format!("{address}: {e}"))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("{address}: {e}"))?;
    let mut conn = Connection::new(stream, args.version, deadline);

    // CONNECT, and wait for CONNACK.
    let id = MqttString::new(&format!("mqttwire-tokio-{}", std::process::id()))
        .map_err(|e| e.to_string())?;
    let mut connect = Connect::new(args.version, id);
    connect.keep_alive = 30;
    conn.session
        .connect(now(), connect)
        .map_err(|e| e.to_string())?;
    match conn.next_event("CONNACK").await? {
        Event::Connected(_) => {}
        other => return Err(unexpected(other)),
    }

    // SUBSCRIBE, and wait for SUBACK.
    let filter = TopicFilter::new(args.topic.as_str()).map_err(|e| e.to_string())?;
    let subscribe_id = conn
        .session
        .subscribe(
            vec![Subscription::new(filter, args.qos)],
            SubscribeProperties::default(),
        )
        .map_err(|e| e.to_string())?;
    loop {
        match conn.next_event("SUBACK").await? {
            Event::Subscribed(ack) if ack.packet_id == subscribe_id => {
                if let Some(code) = ack.reason_codes.iter().find(|c| c.is_error()) {
                    return Err(format!("the broker refused the subscription: {code}"));
                }
                break;
            }
            // A retained message on the topic, delivered as the subscription starts.
            Event::Message(_) => {}
            other => return Err(unexpected(other)),
        }
    }

    // PUBLISH, then wait for the message to come back and (QoS 1, 2) for the outcome.
    let message = Publish::new(args.topic.clone(), args.message.clone());
    let publish_id = conn
        .session
        .publish(args.qos, message)
        .map_err(|e| e.to_string())?;
    let mut received = false;
    let mut acknowledged = publish_id.is_none();
    while !(received && acknowledged) {
        match conn.next_event("the message").await? {
            // Skip retained messages: they were there before we published.
            Event::Message(m) if !received && !m.retain && m.topic == args.topic => {
                println!("{} {}", m.topic, String::from_utf8_lossy(&m.payload));
                received = true;
            }
            Event::Message(_) => {}
            Event::PublishAcknowledged { packet_id, .. }
            | Event::PublishCompleted { packet_id }
                if Some(packet_id) == publish_id =>
            {
                acknowledged = true;
            }
            Event::PublishFailed { reason_code, .. } => {
                return Err(format!("the broker refused the message: {reason_code}"));
            }
            other => return Err(unexpected(other)),
        }
    }

    // A QoS 2 message we received completes when the broker's PUBREL is answered.
    while conn.session.session().incomplete_incoming() > 0 {
        match conn.step("PUBREL").await? {
            None | Some(Event::Message(_)) => {}
            Some(other) => return Err(unexpected(other)),
        }
    }

    // DISCONNECT, and close the connection.
    conn.session
        .disconnect(Disconnect::new(DisconnectReasonCode::NormalDisconnection))
        .map_err(|e| e.to_string())?;
    loop {
        if let Event::Disconnected(_) = conn.next_event("DISCONNECT to be sent").await? {
            break;
        }
    }
    conn.close().await;
    Ok(())
}

/// An event the exchange did not expect at this point: the end of the connection, or
/// something the session should not have reported.
fn unexpected(event: Event) -> String {
    match event {
        Event::Disconnected(DisconnectCause::Refused(ack)) => {
            format!("the broker refused the connection: {}", ack.reason_code)
        }
        Event::Disconnected(DisconnectCause::Peer(d)) => {
            let why = d.properties.reason_string().map(|s| format!(" ({s})"));
            format!(
                "the broker closed the connection: {}{}",
                d.reason_code,
                why.unwrap_or_default()
            )
        }
        Event::Disconnected(DisconnectCause::ProtocolViolation(e)) => {
            format!("the broker broke the protocol: {e}")
        }
        Event::Disconnected(DisconnectCause::KeepAliveTimeout) => {
            "the broker stopped answering (keep alive timeout)".into()
        }
        Event::Disconnected(DisconnectCause::ConnectionLost) => "connection lost".into(),
        Event::Disconnected(cause) => format!("the connection ended: {cause:?}"),
        other => format!("unexpected event: {other:?}"),
    }
}

/// One connection: the session, the socket, and the codec with its buffers.
struct Connection {
    session: Client,
    stream: TcpStream,
    /// Whether bytes from the socket are still wanted (not after an error or the end).
    reading: bool,
    /// Whether the socket can still be written.
    writing: bool,
    decoder: Decoder,
    rx: BytesMut,
    tx: BytesMut,
    /// When to give up.
    deadline: tokio::time::Instant,
}

/// What woke the run loop.
enum Wake {
    /// The socket was readable.
    Read(std::io::Result<usize>),
    /// The session's deadline, or the time limit, passed.
    Timer,
}

impl Connection {
    /// A connection at `version`, whose CONNECT is yet to be sent.
    fn new(stream: TcpStream, version: ProtocolVersion, deadline: tokio::time::Instant) -> Self {
        let session = Client::new(SessionConfig::default());
        // Our Maximum Packet Size, the limit the decoder enforces.
        let decoder = session.config().client_decoder(version);
        Self {
            session,
            stream,
            reading: true,
            writing: true,
            decoder,
            rx: BytesMut::with_capacity(8 * 1024),
            tx: BytesMut::with_capacity(8 * 1024),
            deadline,
        }
    }

    /// Runs the loop until the session has an event. `waiting_for` names it in the error
    /// when the time limit passes first.
    async fn next_event(&mut self, waiting_for: &str) -> Result<Event, String> {
        loop {
            if let Some(event) = self.step(waiting_for).await? {
                return Ok(event);
            }
        }
    }

    /// One turn of the run loop: the session's next event, or `None` once one input (a
    /// packet, bytes, a deadline) has been handled.
    async fn step(&mut self, waiting_for: &str) -> Result<Option<Event>, String> {
        // 1. Send everything the session has to send.
        self.flush().await?;
        // 2. Hand its events to the caller, one at a time.
        if let Some(event) = self.session.poll_event() {
            return Ok(Some(event));
        }
        if !self.reading {
            // The session reports the end as an event, which came above.
            return Err("the connection is closed".into());
        }
        // 3. Feed the session the next packet already buffered...
        if self.decode_one() {
            return Ok(None);
        }
        // ...or wait for more bytes, the session's deadline, or the time limit.
        let timer = self.session.poll_timeout();
        let wake_at = timer.map_or(self.deadline, |t| {
            tokio::time::Instant::from_std(t.into()).min(self.deadline)
        });
        let wake = tokio::select! {
            read = self.stream.read_buf(&mut self.rx) => Wake::Read(read),
            () = tokio::time::sleep_until(wake_at) => Wake::Timer,
        };
        match wake {
            Wake::Read(Ok(0)) => self.end_of_stream(),
            Wake::Read(Ok(_)) => {}
            Wake::Read(Err(_)) => self.lost(),
            Wake::Timer if tokio::time::Instant::now() >= self.deadline => {
                return Err(format!(
                    "no answer within {} s (waiting for {waiting_for})",
                    TIME_LIMIT.as_secs()
                ));
            }
            // Early calls do nothing, so this needs no check of its own.
            Wake::Timer => self.session.handle_timeout(now()),
        }
        Ok(None)
    }

    /// Decodes the next packet in the receive buffer, with the tokio-util `Decoder` trait,
    /// and hands it to the session. False when no whole packet is buffered.
    fn decode_one(&mut self) -> bool {
        match FrameDecoder::decode(&mut self.decoder, &mut self.rx) {
            Ok(Some(packet)) => {
                // A violation is also reported as Event::Disconnected.
                let _ = self.session.handle_incoming(now(), packet);
                true
            }
            Ok(None) => false,
            Err(CodecError::Decode(e)) => {
                // The stream is unusable. The session ends the connection (in MQTT 5.0 with
                // a DISCONNECT carrying the error's reason code, which `flush` still sends).
                self.session.handle_decode_error(&e);
                self.reading = false;
                true
            }
            Err(_) => {
                self.lost();
                true
            }
        }
    }

    /// The broker closed its side: whatever whole packets are left go to the session,
    /// a partial one is an error (`decode_eof`), and the connection is lost.
    fn end_of_stream(&mut self) {
        while let Ok(Some(packet)) = FrameDecoder::decode_eof(&mut self.decoder, &mut self.rx) {
            let _ = self.session.handle_incoming(now(), packet);
        }
        self.lost();
    }

    /// The transport is gone.
    fn lost(&mut self) {
        self.reading = false;
        self.writing = false;
        self.session.handle_connection_lost();
    }

    /// The encoder for the connection as negotiated so far: the session's protocol version,
    /// and the broker's Maximum Packet Size once CONNACK has told it.
    fn encoder(&self) -> Encoder {
        Encoder::new(self.session.protocol_version())
            .with_max_packet_size(self.session.max_outgoing_packet_size())
    }

    /// Encodes every packet the session has to send, with the tokio-util `Encoder` trait,
    /// and writes them in one go.
    async fn flush(&mut self) -> Result<(), String> {
        let mut encoder = self.encoder();
        while let Some(packet) = self.session.poll_transmit(now()) {
            FrameEncoder::encode(&mut encoder, packet, &mut self.tx)
                .map_err(|e| format!("cannot encode a packet: {e}"))?;
        }
        if self.tx.is_empty() {
            return Ok(());
        }
        if !self.writing {
            // Nothing can be sent any more.
            self.tx.clear();
            return Ok(());
        }
        let write = self.stream.write_all_buf(&mut self.tx);
        match tokio::time::timeout_at(self.deadline, write).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => {
                self.tx.clear();
                self.lost();
            }
            Err(_) => {
                return Err(format!(
                    "the broker took no data for {} s",
                    TIME_LIMIT.as_secs()
                ))
            }
        }
        Ok(())
    }

    /// Closes our side once everything is written, then reads until the broker closes its
    /// side (briefly), so that neither side resets the connection.
    async fn close(mut self) {
        let _ = self.stream.shutdown().await;
        let mut sink = [0u8; 1024];
        let drain = async {
            while let Ok(n) = self.stream.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Result<Option<Args>, String> {
        parse(line.split_whitespace().map(String::from))
    }

    #[test]
    fn parses_arguments() {
        let a = args("-t a/b -m hi -q 2 --mqtt 3.1.1 --host broker --port 1999")
            .unwrap()
            .unwrap();
        assert_eq!((a.topic.as_str(), a.message.as_str()), ("a/b", "hi"));
        assert_eq!(a.qos, QoS::ExactlyOnce);
        assert_eq!(a.version, ProtocolVersion::V3_1_1);
        assert_eq!((a.host.as_str(), a.port), ("broker", 1999));
        let d = args("-t a -m x").unwrap().unwrap();
        assert_eq!(
            (d.qos, d.version, d.port),
            (QoS::AtMostOnce, ProtocolVersion::V5, 1883)
        );
        assert!(args("--help").unwrap().is_none());
    }

    #[test]
    fn refuses_bad_arguments() {
        for bad in [
            "",
            "-m x",
            "-t a",
            "-t a/# -m x",
            "-t a -m x -q 3",
            "-t a -m x --mqtt 4",
            "-t a -m x --port 0",
            "-t a -m x --bogus",
            "-t",
        ] {
            assert!(args(bad).is_err(), "{bad:?} accepted");
        }
    }
}
