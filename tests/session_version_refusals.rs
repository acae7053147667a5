//! Refusals of the protocol version, both ways round, through real decoders.
//!
//! - Server: a CONNECT of a protocol level the server does not speak is answered with the
//!   CONNACK 3.1.1 requires, return code 1 in the 3.1.1 layout `20 02 00 01` (3.1.1
//!   MQTT-3.1.2-2; 5.0 MQTT-3.1.2-2 allows CONNACK 0x84), and the connection ends as a
//!   refusal. A wrong protocol name is not MQTT: no CONNACK (3.1.1 and 5.0 MQTT-3.1.2-1).
//! - Client: a broker that speaks only 3.1.1 (aedes, amqtt) answers a 5.0 CONNECT with
//!   that same `20 02 00 01`. The 5.0 client reads it as a refusal with 0x84 Unsupported
//!   Protocol Version, sends nothing back (no 5.0 DISCONNECT to a 3.1.1 peer), and the
//!   application can retry at 3.1.1.

#[path = "../examples/blocking/mod.rs"]
mod blocking;

use blocking::BlockingClient;
use bytes::BytesMut;
use mqttwire::session::{Client, DisconnectCause, Event, Instant, Server, SessionConfig};
use mqttwire::{
    ConnAck, Connect, ConnectReasonCode, DecodeErrorKind, Decoder, MqttString, Packet,
    ProtocolVersion,
};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

const V311: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;

/// What a 3.1.1 server answers a CONNECT of a level it does not speak.
const V311_REFUSAL: [u8; 4] = [0x20, 0x02, 0x00, 0x01];

/// A CONNECT with protocol name `name`, level `level`, clean start, keep alive 60 and
/// client identifier "c" (and an empty property block at level 5).
fn connect_bytes(name: &[u8], level: u8) -> Vec<u8> {
    let mut body = vec![0x00, name.len() as u8];
    body.extend_from_slice(name);
    body.extend([level, 0x02, 0x00, 0x3C]);
    if level == 5 {
        body.push(0x00);
    }
    body.extend([0x00, 0x01, b'c']);
    let mut bytes = vec![0x10, body.len() as u8];
    bytes.extend(body);
    bytes
}

/// Everything the session has to send, each packet encoded as it goes on the wire.
fn sent<R>(session: &mut mqttwire::session::Session<R>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = BytesMut::new();
    while let Some(n) = session.poll_transmit_into(Instant::ZERO, &mut buf).unwrap() {
        out.push(buf.split_to(n).to_vec());
    }
    out
}

fn events<R>(session: &mut mqttwire::session::Session<R>) -> Vec<Event> {
    std::iter::from_fn(|| session.poll_event()).collect()
}

fn unsupported() -> ConnAck {
    ConnAck::new(ConnectReasonCode::UnsupportedProtocolVersion)
}

/// Feeds `bytes` to a server session the way a transport would: through the server's
/// decoder, errors to `handle_decode_error`.
fn serve(bytes: &[u8]) -> Server {
    let mut server = Server::new(SessionConfig::default());
    let mut decoder = server.config().server_decoder();
    match decoder.decode(&mut BytesMut::from(bytes)) {
        Ok(Some(packet)) => server.handle_incoming(Instant::ZERO, packet).map(drop),
        Ok(None) => panic!("{bytes:02x?} is not a whole packet"),
        Err(e) => Err(server.handle_decode_error(&e)),
    }
    .expect_err("the CONNECT is refused by the decoder");
    server
}

/// 3.1.1 MQTT-3.1.2-2 (5.0 MQTT-3.1.2-2 allows CONNACK 0x84): a CONNECT of level 6, or
/// of any level but 3, 4 and 5, is answered with `20 02 00 01`, and the connection ends
/// as a refusal with Unsupported Protocol Version. mosquitto 2.0.11 answers level 7 the
/// same way (MOSQUITTO.md).
#[test]
fn server_answers_an_unsupported_protocol_level_with_connack_1_then_closes_mqtt_3_1_2_2() {
    let levels = [6, 7, 0, 2, 0x85, 0xFF].map(|level| (&b"MQTT"[..], level));
    for (name, level) in levels.into_iter().chain([(&b"MQIsdp"[..], 6)]) {
        let mut server = serve(&connect_bytes(name, level));
        assert_eq!(sent(&mut server), [V311_REFUSAL], "level {level}");
        assert_eq!(
            events(&mut server),
            [Event::Disconnected(DisconnectCause::Rejected(
                ConnectReasonCode::UnsupportedProtocolVersion
            ))],
            "level {level}"
        );
        assert!(!server.is_connected());
        // The connection is over: a good CONNECT on it now is not processed.
        let late = Connect::new(V5, MqttString::from_static("c").unwrap());
        server
            .handle_incoming(Instant::ZERO, Packet::from(late))
            .unwrap();
        assert!(events(&mut server).is_empty());
        assert!(sent(&mut server).is_empty());
    }
}

/// 3.1.1 and 5.0 MQTT-3.1.2-1: a CONNECT whose protocol name is not MQTT's (the
/// CONFORMANCE.md vector "MQTX") is closed without a CONNACK, as a protocol violation.
#[test]
fn server_closes_without_connack_on_a_wrong_protocol_name_mqtt_3_1_2_1() {
    let mqtx = [
        0x10, 0x0D, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x58, 0x05, 0x02, 0x00, 0x3C, 0x00, 0x00, 0x00,
    ];
    // "MQIsdp" is MQTT 3.1's name, for level 3 only.
    for bytes in [&mqtx[..], &connect_bytes(b"MQIsdp", 4)] {
        let err = Decoder::for_server()
            .decode(&mut BytesMut::from(bytes))
            .unwrap_err();
        assert!(
            matches!(err.kind(), DecodeErrorKind::InvalidProtocolName { .. }),
            "{err}"
        );
        let mut server = serve(bytes);
        assert!(sent(&mut server).is_empty(), "{bytes:02x?}");
        match &events(&mut server)[..] {
            [Event::Disconnected(DisconnectCause::ProtocolViolation(e))] => {
                assert_eq!(e.rule(), Some("MQTT-3.1.2-1"));
            }
            other => panic!("{other:?}"),
        }
    }
}

/// A 5.0 client connecting: the session and the decoder it reads the server with.
fn connecting_client() -> (Client, Decoder) {
    let mut client = Client::new(SessionConfig::default());
    let connect = Connect::new(V5, MqttString::from_static("sensor").unwrap());
    client.connect(Instant::ZERO, connect).unwrap();
    assert_eq!(sent(&mut client).len(), 1, "the CONNECT");
    let decoder = client.config().client_decoder(V5);
    (client, decoder)
}

/// 3.1.1 MQTT-3.1.2-2 is the 3.1.1 server's obligation: its refusal `20 02 00 01`, read
/// at 5.0 whole or a byte at a time, is a refusal with 0x84 Unsupported Protocol Version,
/// not a malformed CONNACK; the client sends nothing back (no 5.0 DISCONNECT to a peer
/// that speaks 3.1.1).
#[test]
fn client_refused_by_a_3_1_1_server_reports_unsupported_protocol_version_and_sends_nothing() {
    for pieces in [&[4][..], &[1, 1, 1, 1], &[2, 2]] {
        let (mut client, mut decoder) = connecting_client();
        let mut rx = BytesMut::new();
        let mut at = 0;
        let mut packets = Vec::new();
        for &n in pieces {
            rx.extend_from_slice(&V311_REFUSAL[at..at + n]);
            at += n;
            packets.extend(decoder.decode(&mut rx).unwrap());
        }
        assert_eq!(packets, [Packet::ConnAck(unsupported())], "{pieces:?}");
        for packet in packets {
            client.handle_incoming(Instant::ZERO, packet).unwrap();
        }
        assert!(sent(&mut client).is_empty(), "{pieces:?}");
        assert_eq!(
            events(&mut client),
            [Event::Disconnected(DisconnectCause::Refused(unsupported()))]
        );
        assert!(!client.is_connected());
    }
}

/// Only that exact refusal: a 3.1.1-layout CONNACK with another code is still an invalid
/// 5.0 CONNACK, a violation the 5.0 client answers with a DISCONNECT (5.0 MQTT-4.13.1-1):
/// 0x82 for a return code outside Table 3-1 (5.0 MQTT-3.2.2-8), 0x81 for an acceptance
/// without its Property Length.
#[test]
fn client_at_5_0_still_rejects_other_3_1_1_layout_connacks() {
    for (bytes, reason) in [
        ([0x20, 0x02, 0x00, 0x05], 0x82),
        ([0x20, 0x02, 0x00, 0x00], 0x81),
    ] {
        let (mut client, mut decoder) = connecting_client();
        let err = decoder.decode(&mut BytesMut::from(&bytes[..])).unwrap_err();
        client.handle_decode_error(&err);
        assert_eq!(sent(&mut client), [[0xE0, 0x01, reason]], "{bytes:02x?}");
        assert!(matches!(
            &events(&mut client)[..],
            [Event::Disconnected(DisconnectCause::ProtocolViolation(_))]
        ));
    }
}

/// Our server's refusal of a level it does not know, read by our 5.0 client: the same
/// Unsupported Protocol Version a 3.1.1 broker's gives.
#[test]
fn our_server_refusal_reads_as_unsupported_protocol_version_at_every_level() {
    let mut server = serve(&connect_bytes(b"MQTT", 6));
    let refusal = sent(&mut server).concat();
    for version in [ProtocolVersion::V3_1, V311, V5] {
        let packet = Decoder::new(version)
            .decode(&mut BytesMut::from(&refusal[..]))
            .unwrap();
        assert_eq!(packet, Some(Packet::ConnAck(unsupported())), "{version:?}");
    }
}

/// What the fake broker saw on one connection.
#[derive(Debug)]
struct Seen {
    connect: Connect,
    /// Every byte after the CONNECT, until the client closed its side.
    after: Vec<u8>,
}

/// Reads one CONNECT, answers `answer`, closes its own side when `close` (as a broker
/// does after a refusal), then reads whatever else comes until the client closes.
fn broker_connection(mut stream: TcpStream, answer: &[u8], close: bool) -> Seen {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut decoder = Decoder::for_server();
    let mut rx = BytesMut::new();
    let mut buf = [0u8; 1024];
    let connect = loop {
        if let Some(packet) = decoder.decode(&mut rx).unwrap() {
            let Packet::Connect(connect) = packet else {
                panic!("first packet {packet:?}")
            };
            break *connect;
        }
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "closed before CONNECT");
        rx.extend_from_slice(&buf[..n]);
    };
    stream.write_all(answer).unwrap();
    if close {
        stream.shutdown(Shutdown::Write).unwrap();
    }
    let mut after = rx.to_vec();
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => after.extend_from_slice(&buf[..n]),
        }
    }
    Seen { connect, after }
}

/// Interop with a broker that speaks only 3.1.1, as aedes and amqtt do: it refuses the
/// 5.0 CONNECT with `20 02 00 01` (3.1.1 MQTT-3.1.2-2) and closes. The blocking client
/// reports the refusal as Unsupported Protocol Version and writes nothing more; the
/// application retries at 3.1.1 on a new connection, which the broker accepts.
#[test]
fn client_refused_by_a_3_1_1_only_broker_over_tcp_retries_at_3_1_1() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    let broker = std::thread::spawn(move || {
        let (first, _) = listener.accept().unwrap();
        tx.send(broker_connection(first, &V311_REFUSAL, true))
            .unwrap();
        let (second, _) = listener.accept().unwrap();
        tx.send(broker_connection(second, &[0x20, 0x02, 0x00, 0x00], false))
            .unwrap();
    });

    let mut client = BlockingClient::new(SessionConfig::default());
    client.set_timeout(Duration::from_secs(10));
    let id = MqttString::from_static("fallback").unwrap();
    let err = client
        .connect(addr, Connect::new(V5, id.clone()))
        .unwrap_err();
    let refused = err.refused().unwrap_or_else(|| panic!("{err}"));
    assert_eq!(
        refused.reason_code,
        ConnectReasonCode::UnsupportedProtocolVersion
    );
    let first = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(first.connect.protocol_version, V5);
    assert!(
        first.after.is_empty(),
        "the client wrote {:02x?} after the refusal",
        first.after
    );

    // The application's fallback.
    let connected = client.connect(addr, Connect::new(V311, id)).unwrap();
    assert_eq!(connected.protocol_version, V311);
    client.disconnect().unwrap();
    let second = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(second.connect.protocol_version, V311);
    // The 3.1.1 DISCONNECT.
    assert_eq!(second.after, [0xE0, 0x00]);
    broker.join().unwrap();
}
