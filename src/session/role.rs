//! [`Session`], generic over its role, and what both roles offer.

use super::core::{Core, Status};
use super::{Event, Instant, ProtocolError, SessionConfig, SessionError, SessionState};
use crate::error::{DecodeError, EncodeError};
use crate::packet::{Auth, Disconnect, Packet, Publish};
use crate::types::{PacketId, ProtocolVersion, QoS};
use bytes::BytesMut;
use core::marker::PhantomData;

/// The client role: connects, publishes, subscribes.
#[derive(Debug, Clone, Copy)]
pub struct ClientRole;

/// The server role: the broker's side of one client connection.
#[derive(Debug, Clone, Copy)]
pub struct ServerRole;

/// A client session.
pub type Client = Session<ClientRole>;

/// The server side of one client connection.
///
/// Feed its decoder's errors to [`handle_decode_error`](Session::handle_decode_error): a
/// CONNECT of a protocol level the server does not speak is refused there with the CONNACK
/// `20 02 00 01` (3.1.1 MQTT-3.1.2-2).
pub type Server = Session<ServerRole>;

/// The sans-IO session engine of one MQTT session, in the client role ([`Client`]) or the
/// server role ([`Server`]). See the [module documentation](super) for the run loop and
/// the delivery guarantees.
///
/// Role-specific commands live on [`Client`] (`connect`, `subscribe`, `unsubscribe`) and
/// [`Server`] (`accept`, `reject`, `suback`, `unsuback`); the rest is shared.
///
/// Its `Debug` output is a summary (the role, the connection's state, the sizes of the
/// queues and the configuration), not the engine's private tables.
pub struct Session<R> {
    pub(crate) core: Core,
    role: PhantomData<R>,
}

impl<R> core::fmt::Debug for Session<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let core = &self.core;
        f.debug_struct("Session")
            .field("role", &if core.server { "server" } else { "client" })
            .field("status", &core.status)
            .field("protocol_version", &core.version)
            .field("keep_alive", &core.keep_alive)
            .field("in_flight", &core.in_flight())
            .field("queued", &(core.state.unacknowledged() - core.in_flight()))
            .field("awaiting_pubrel", &core.state.received.len())
            .field("pending_transmit", &core.transmit.len())
            .field("pending_events", &core.events.len())
            .field("config", &core.config)
            .finish_non_exhaustive()
    }
}

impl<R> Session<R> {
    pub(crate) fn from_core(core: Core) -> Self {
        Self {
            core,
            role: PhantomData,
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &SessionConfig {
        &self.core.config
    }

    /// The protocol version of the current (or last) connection.
    #[must_use]
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.core.version
    }

    /// Whether CONNECT and CONNACK have been exchanged and the connection is still up.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.core.status == Status::Connected
    }

    /// The state that outlives connections.
    #[must_use]
    pub fn session(&self) -> &SessionState {
        &self.core.state
    }

    /// Takes the session state out (to persist it, or to hand it to the engine of the
    /// client's next connection with [`Server::accept`](super::Server::accept)), leaving an
    /// empty one. A connection still up is treated as lost first.
    #[must_use = "the taken state holds the unacknowledged messages: dropping it loses them"]
    pub fn take_session(&mut self) -> SessionState {
        self.core.take_session()
    }

    /// The Session Expiry Interval in force on the current (or last) connection, in seconds:
    /// 0 when the session ends with the connection, `u32::MAX` when it never expires.
    ///
    /// It starts as [`Connected::session_expiry_interval`](super::Connected) says, and
    /// follows a Session Expiry Interval in the client's DISCONNECT (MQTT 5.0 section
    /// 3.14.2.2.2), so once the connection is over it says how long to keep the session
    /// state. Before a connection it is 0.
    #[must_use]
    pub fn session_expiry_interval(&self) -> u32 {
        self.core.session_expiry
    }

    /// How many of our QoS 1 and 2 messages have been sent on this connection and await
    /// their acknowledgement: at most the peer's Receive Maximum.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.core.in_flight()
    }

    /// The largest packet the peer accepts, in bytes.
    #[must_use]
    pub fn max_outgoing_packet_size(&self) -> usize {
        self.core.peer.max_packet_size
    }

    /// Publishes `message` at `qos` and returns the packet identifier it got (QoS 1 and 2).
    ///
    /// The session sets the message's QoS, packet identifier and DUP flag; the rest goes
    /// as given, the RETAIN flag and properties included (but see the Topic Alias and the
    /// versions below). So a message delivered by [`Event::Message`] can be published
    /// onward as it is: its Topic Alias is already gone, and its properties (Payload Format
    /// Indicator, Message Expiry Interval, Content Type, Response Topic, Correlation Data,
    /// User Properties) reach a 5.0 peer unaltered ([MQTT-3.3.2-4], [MQTT-3.3.2-15] to
    /// [MQTT-3.3.2-18], [MQTT-3.3.2-20]). A broker sets RETAIN, the Message Expiry
    /// Interval and the Subscription Identifiers for each subscriber itself.
    ///
    /// - **Topic Alias.** A message with an empty topic and a Topic Alias property uses the
    ///   topic that alias maps to on this connection; a message with a topic and no alias
    ///   may get one (see [`SessionConfig::auto_topic_aliases`]), never above the peer's
    ///   Topic Alias Maximum, which is 0 (no aliases) unless the peer announced one.
    /// - **Versions.** On a connection below 5.0 a [`Server`](super::Server) sends the
    ///   message without its properties, which 3.1.1 cannot carry; a
    ///   [`Client`](super::Client) refuses a message with properties there
    ///   ([`SessionError::Encode`]), since they are its own.
    /// - **Flow control.** QoS 1 and 2 messages beyond the peer's Receive Maximum are
    ///   queued and sent as acknowledgements make room.
    ///
    /// To queue a message for a client that is not connected, see [`SessionState::queue`].
    ///
    /// # Errors
    ///
    /// Nothing is sent or kept: [`SessionError::NotConnected`]; the peer's Maximum QoS
    /// ([`SessionError::QosNotSupported`]) and Retain Available
    /// ([`SessionError::RetainNotSupported`]); the peer's Maximum Packet Size
    /// ([`SessionError::PacketTooLarge`], a server must not send more, [MQTT-3.1.2-25]);
    /// the caller's own Topic Alias above the peer's Topic Alias Maximum, or an empty topic
    /// with an alias not mapped on this connection ([`SessionError::TopicAliasInvalid`]); a
    /// full queue ([`SessionError::OutgoingQueueFull`]); no free packet identifier
    /// ([`SessionError::PacketIdsExhausted`]); a client's message the version cannot carry
    /// ([`SessionError::Encode`]).
    pub fn publish(
        &mut self,
        qos: QoS,
        message: Publish,
    ) -> Result<Option<PacketId>, SessionError> {
        self.core.publish(qos, message)
    }

    /// Releases the acknowledgement of the received message with packet identifier `id`,
    /// when [`SessionConfig::manual_acks`] is on. Acknowledgements still leave in the order
    /// the messages arrived: a later message acknowledged first waits for the earlier ones.
    pub fn ack(&mut self, id: PacketId) -> Result<(), SessionError> {
        self.core.ack(id)
    }

    /// Sends an AUTH (MQTT 5.0 enhanced authentication), filling in the connection's
    /// Authentication Method if `auth` has none. Refused unless the CONNECT carried an
    /// Authentication Method and `auth` repeats it ([MQTT-4.12.0-5] to [MQTT-4.12.0-7]).
    pub fn auth(&mut self, auth: Auth) -> Result<(), SessionError> {
        if matches!(self.core.status, Status::Idle | Status::Closed) {
            return Err(SessionError::NotConnected);
        }
        self.core.send_auth(auth)
    }

    /// The transport is gone (closed, reset, or given up on). Packets not yet sent are
    /// dropped; unacknowledged messages stay in the session for a resume.
    pub fn handle_connection_lost(&mut self) {
        self.core.connection_lost();
    }

    /// The decoder failed on this connection's bytes: in MQTT 5.0 a DISCONNECT with the
    /// error's reason code is queued ([MQTT-4.13.1-1]), and the connection ends. Returns the
    /// violation, as [`handle_incoming`](Self::handle_incoming) would.
    ///
    /// A server that has not received a CONNECT yet sends no DISCONNECT ([MQTT-3.14.0-1]),
    /// with one exception: a CONNECT of a protocol level other than 3, 4 and 5
    /// ([`UnsupportedProtocolVersion`](crate::DecodeErrorKind::UnsupportedProtocolVersion))
    /// is refused with CONNACK return code 1, "unacceptable protocol level", as 3.1.1
    /// requires (3.1.1 MQTT-3.1.2-2; 5.0 MQTT-3.1.2-2 allows CONNACK 0x84), whatever the
    /// level. The connection's [`protocol_version`](Self::protocol_version) becomes 3.1.1,
    /// so the CONNACK encodes as `20 02 00 01`: the one refusal every client can read (3.1
    /// and 3.1.1 clients as return code 1, 5.0 clients such as mqttwire's and
    /// libmosquitto's as 0x84), and what mosquitto sends. The connection ends with
    /// [`DisconnectCause::Rejected`](super::DisconnectCause::Rejected)`(UnsupportedProtocolVersion)`;
    /// the returned error names the rule, and its reason code (a DISCONNECT code) is not
    /// sent. A CONNECT with a wrong protocol name
    /// ([`InvalidProtocolName`](crate::DecodeErrorKind::InvalidProtocolName)) is not this
    /// protocol at all: the connection ends without a CONNACK (3.1.1 and 5.0
    /// MQTT-3.1.2-1), as a protocol violation.
    pub fn handle_decode_error(&mut self, error: &DecodeError) -> ProtocolError {
        self.core.decode_error(error)
    }

    /// Acts on deadlines that have passed (keep alive, response timeouts). Calling it
    /// before [`poll_timeout`](Self::poll_timeout) does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.core.handle_timeout(now);
    }

    /// The next packet to send, if any. Send them in the order given.
    #[must_use = "a packet the session hands out is gone from its queue: send it, in order"]
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Packet> {
        self.core.poll_transmit(now)
    }

    /// Encodes the next packet to send onto the end of `buf` (within the peer's Maximum
    /// Packet Size) and returns its size, or `None` if there is nothing to send. It takes
    /// the same packet [`poll_transmit`](Self::poll_transmit) would.
    ///
    /// # Errors
    ///
    /// The session checks each packet against the connection's protocol version and the
    /// peer's Maximum Packet Size when it queues it, so this does not fail for packets it
    /// built. Should encoding fail all the same, the packet is dropped: it is not yielded
    /// again, nothing is written to `buf`, and the next call moves on to the next packet.
    /// The session counts it as sent (a QoS 1 or 2 PUBLISH stays unacknowledged and goes
    /// again when the session resumes), so the peer may now be out of step: end the
    /// connection ([`handle_connection_lost`](Self::handle_connection_lost)) rather than
    /// carry on.
    pub fn poll_transmit_into(
        &mut self,
        now: Instant,
        buf: &mut BytesMut,
    ) -> Result<Option<usize>, EncodeError> {
        self.core.poll_transmit_into(now, buf)
    }

    /// The next event, if any.
    #[must_use = "an event the session hands out is gone from its queue: handle it"]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.core.events.pop_front()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next, if ever.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.core.poll_timeout()
    }

    /// Ends the connection with `disconnect` (MQTT 5.0; a 3.1.1 client sends the empty
    /// DISCONNECT, a 3.1.1 server sends nothing). Nothing more is sent on this connection
    /// afterwards ([MQTT-3.14.4-1]): send what `poll_transmit` yields, then close.
    pub fn disconnect(&mut self, disconnect: Disconnect) -> Result<(), SessionError> {
        if !matches!(self.core.status, Status::Connected | Status::Connecting) {
            return Err(SessionError::NotConnected);
        }
        let code = disconnect.reason_code;
        let v5 = self.core.version.is_v5();
        if v5 && self.core.server {
            if self.core.status != Status::Connected {
                // A server refuses a connection with CONNACK, never DISCONNECT.
                return Err(SessionError::Forbidden {
                    what: "DISCONNECT before CONNACK",
                    rule: "MQTT-3.14.0-1",
                });
            }
            if disconnect.properties.session_expiry_interval.is_some() {
                return Err(SessionError::Forbidden {
                    what: "Session Expiry Interval in a server's DISCONNECT",
                    rule: "MQTT-3.14.2-2",
                });
            }
        }
        if v5 && !self.core.server && self.core.session_expiry == 0 {
            if let Some(expiry) = disconnect.properties.session_expiry_interval {
                if expiry != 0 {
                    return Err(SessionError::Forbidden {
                        what: "Session Expiry Interval set in DISCONNECT after 0 in CONNECT",
                        rule: "section 3.14.2.2.2",
                    });
                }
            }
        }
        let expiry = disconnect.properties.session_expiry_interval;
        if v5 || !self.core.server {
            let packet = Packet::Disconnect(disconnect);
            self.core.check_size(&packet)?;
            self.core.transmit.push_back(packet);
        }
        if let (true, Some(expiry)) = (v5, expiry) {
            self.core.session_expiry = expiry;
        }
        self.core.close(super::DisconnectCause::Local(code));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    /// `Debug` is a summary: even with the largest incoming Topic Alias table it stays one
    /// short line, and it names the role and the state.
    #[test]
    fn debug_is_a_summary() {
        let config = SessionConfig {
            topic_alias_maximum: u16::MAX,
            ..SessionConfig::default()
        };
        let mut client = Client::new(config.clone());
        let connect = crate::Connect::new(
            ProtocolVersion::V5,
            crate::MqttString::from_static("c").unwrap(),
        );
        client.connect(Instant::ZERO, connect).unwrap();
        let text = format!("{client:?}");
        assert!(
            text.starts_with(
                "Session { role: \"client\", status: Connecting, protocol_version: V5,"
            ),
            "{text}"
        );
        assert!(text.contains("pending_transmit: 1,"), "{text}");
        assert!(text.len() < 1_000, "{} bytes: {text}", text.len());
        let server = Server::new(config);
        assert!(format!("{server:?}").starts_with("Session { role: \"server\", status: Idle,"));
    }

    /// A CONNECT with protocol name "MQTT" (or `name`) and `level`, clean start, keep alive
    /// 60, client identifier "c", through a server's decoder.
    fn decode_connect(name: &[u8], level: u8) -> Result<Option<Packet>, DecodeError> {
        let mut bytes = alloc::vec![0x10, 0];
        bytes.extend([0, name.len() as u8]);
        bytes.extend_from_slice(name);
        bytes.extend([level, 0x02, 0x00, 0x3C, 0x00, 0x01, b'c']);
        bytes[1] = bytes.len() as u8 - 2;
        SessionConfig::default()
            .server_decoder()
            .decode(&mut BytesMut::from(&bytes[..]))
    }

    /// A server that has accepted a CONNECT at `version`, its event taken.
    fn accepted_server(version: ProtocolVersion) -> Server {
        let mut server = Server::new(SessionConfig::default());
        let connect = crate::Connect::new(version, crate::MqttString::from_static("c").unwrap());
        server
            .handle_incoming(Instant::ZERO, Packet::from(connect))
            .unwrap();
        let _ = server.poll_event();
        let properties = crate::properties::ConnAckProperties::default();
        server.accept(None, properties).unwrap();
        server
    }

    /// Everything the session has to send, encoded as it would go on the wire.
    fn sent<R>(session: &mut Session<R>) -> alloc::vec::Vec<alloc::vec::Vec<u8>> {
        let mut out = alloc::vec::Vec::new();
        let mut buf = BytesMut::new();
        while let Some(n) = session.poll_transmit_into(Instant::ZERO, &mut buf).unwrap() {
            out.push(buf.split_to(n).to_vec());
        }
        out
    }

    /// `poll_transmit_into` after an encoding error: the packet is dropped, nothing is
    /// written, and the next call yields the next packet. The session never queues a packet
    /// it cannot encode, so the failing one is put in its queue by hand: a PUBLISH with
    /// properties on a 3.1.1 connection.
    #[test]
    fn poll_transmit_into_drops_a_packet_it_cannot_encode_and_moves_on() {
        let mut server = accepted_server(ProtocolVersion::V3_1_1);
        let mut bad = Publish::new(crate::TopicName::from_static("t").unwrap(), "x");
        bad.properties.message_expiry_interval = Some(5);
        server.core.transmit.push_back(Packet::Publish(bad));
        server.core.transmit.push_back(Packet::PingResp);
        let mut buf = BytesMut::new();
        assert_eq!(
            server.poll_transmit_into(Instant::ZERO, &mut buf),
            Ok(Some(4))
        );
        buf.clear();
        let err = server.poll_transmit_into(Instant::ZERO, &mut buf);
        assert!(
            matches!(err, Err(EncodeError::UnsupportedInVersion { .. })),
            "{err:?}"
        );
        assert!(buf.is_empty());
        assert_eq!(
            server.poll_transmit_into(Instant::ZERO, &mut buf),
            Ok(Some(2))
        );
        assert_eq!(&buf[..], [0xD0, 0x00]);
        assert_eq!(server.poll_transmit_into(Instant::ZERO, &mut buf), Ok(None));
    }

    /// 3.1.1 MQTT-3.1.2-2 (5.0 MQTT-3.1.2-2 allows it): a CONNECT of a level the server
    /// does not speak gets CONNACK return code 1, `20 02 00 01` whatever the level, and the
    /// connection ends as a refusal with 0x84, not as a protocol violation.
    #[test]
    fn server_refuses_an_unsupported_protocol_level_with_connack_1_mqtt_3_1_2_2() {
        for level in [0, 1, 2, 6, 7, 0x84, 0xFF] {
            let err = decode_connect(b"MQTT", level).unwrap_err();
            assert_eq!(
                err.kind(),
                &crate::DecodeErrorKind::UnsupportedProtocolVersion { level }
            );
            let mut server = Server::new(SessionConfig::default());
            let refusal = server.handle_decode_error(&err);
            assert_eq!(refusal.rule(), Some("MQTT-3.1.2-2"), "level {level}");
            assert_eq!(server.protocol_version(), ProtocolVersion::V3_1_1);
            assert_eq!(
                sent(&mut server),
                [[0x20, 0x02, 0x00, 0x01]],
                "level {level}"
            );
            assert_eq!(
                server.poll_event(),
                Some(Event::Disconnected(
                    super::super::DisconnectCause::Rejected(
                        crate::ConnectReasonCode::UnsupportedProtocolVersion
                    )
                ))
            );
            assert_eq!(server.poll_event(), None);
            assert!(!server.is_connected());
        }
    }

    /// 3.1.1 and 5.0 MQTT-3.1.2-1: a wrong protocol name is not MQTT: the server closes
    /// without a CONNACK, as for any other violation before CONNECT was understood; so
    /// does a known name with a level it does not go with ("MQTT" 3, "MQIsdp" 4).
    #[test]
    fn server_closes_without_connack_on_a_wrong_protocol_name_mqtt_3_1_2_1() {
        for (name, level) in [
            (&b"MQTX"[..], 5),
            (b"mqtt", 4),
            (b"MQTT", 3),
            (b"MQIsdp", 4),
        ] {
            let err = decode_connect(name, level).unwrap_err();
            assert_eq!(
                err.kind(),
                &crate::DecodeErrorKind::InvalidProtocolName { level }
            );
            let mut server = Server::new(SessionConfig::default());
            let violation = server.handle_decode_error(&err);
            assert_eq!(violation.rule(), Some("MQTT-3.1.2-1"));
            assert!(sent(&mut server).is_empty(), "{name:?} level {level}");
            assert_eq!(
                server.poll_event(),
                Some(Event::Disconnected(
                    super::super::DisconnectCause::ProtocolViolation(violation)
                ))
            );
        }
    }

    /// The refusal answers a first CONNECT only: an unsupported level in a second CONNECT
    /// is a second CONNECT, a violation (5.0 MQTT-3.1.0-2), answered with DISCONNECT 0x82.
    #[test]
    fn server_refuses_the_level_of_a_first_connect_only() {
        let mut server = accepted_server(ProtocolVersion::V5);
        let _ = sent(&mut server);
        let err = decode_connect(b"MQTT", 6).unwrap_err();
        server.handle_decode_error(&err);
        assert_eq!(sent(&mut server), [[0xE0, 0x01, 0x82]]);
        assert_eq!(server.protocol_version(), ProtocolVersion::V5);
    }
}
