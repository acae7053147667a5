//! What a session reports to its application through `poll_event`.

use super::ProtocolError;
use crate::packet::{
    Auth, ConnAck, Connect, Disconnect, Publish, SubAck, Subscribe, UnsubAck, Unsubscribe,
};
use crate::types::reason_code::{ConnectReasonCode, DisconnectReasonCode, PubAckReasonCode};
use crate::types::{PacketId, ProtocolVersion, QoS};
use alloc::boxed::Box;
use core::time::Duration;

/// Something the application should know about, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Client: the server accepted the connection; these are the limits both sides agreed.
    /// Server: the application accepted the connection.
    Connected(Connected),
    /// Server: a client asked to connect. Answer with [`Server::accept`] or
    /// [`Server::reject`].
    ///
    /// [`Server::accept`]: super::Server::accept
    /// [`Server::reject`]: super::Server::reject
    ConnectRequest(Box<Connect>),
    /// An application message arrived, as the peer sent it but for the Topic Alias: its
    /// topic is always the full topic, and the Topic Alias property is removed (an alias
    /// belongs to the connection it came in on, [MQTT-3.3.2-7] in 5.0), so the message can
    /// be published onward, to any peer, as it is. Its QoS, packet identifier, DUP, RETAIN
    /// and other properties are the peer's; in the server role, [`Session::publish`]
    /// replaces QoS, identifier and DUP, and drops the properties for a peer below 5.0.
    ///
    /// QoS 2 messages are delivered once, when their PUBLISH first arrives; a
    /// retransmission of one is acknowledged but not delivered again. A copy of a QoS 1
    /// message that arrives before its PUBACK has gone out is the same message: it is
    /// answered by that PUBACK and not delivered again (after the PUBACK, a copy is a new
    /// message, [MQTT-4.3.2-5] in 5.0). With manual acknowledgement, a QoS 1 or 2 message
    /// is acknowledged only once the application calls `ack` with its packet identifier.
    ///
    /// Its topic, payload and properties are slices of the receive buffer: keep an owned
    /// copy ([`Publish::detach`]) of what must outlive the moment.
    ///
    /// [`Session::publish`]: super::Session::publish
    Message(Publish),
    /// Our QoS 1 message was acknowledged by a PUBACK with a success code.
    PublishAcknowledged {
        /// Its packet identifier, now free.
        packet_id: PacketId,
        /// `Success` or `NoMatchingSubscribers`.
        reason_code: PubAckReasonCode,
    },
    /// Our QoS 2 message completed: PUBCOMP arrived.
    PublishCompleted {
        /// Its packet identifier, now free.
        packet_id: PacketId,
    },
    /// The peer refused our QoS 1 or 2 message with a PUBACK or PUBREC failure code
    /// (MQTT 5.0). It counts as acknowledged and is not sent again ([MQTT-4.4.0-2]).
    PublishFailed {
        /// Its packet identifier, now free.
        packet_id: PacketId,
        /// The peer's reason.
        reason_code: PubAckReasonCode,
    },
    /// One of our QoS 1 or 2 messages left the session without being acknowledged: the
    /// peer does not have the session any more (Session Present 0, or a clean start), or
    /// the message cannot be sent again on the resumed connection (it no longer fits the
    /// peer's new Maximum Packet Size, or, in the client role, has properties and the
    /// session resumed below 5.0; a server sends it without them).
    ///
    /// A message that was sent before may have reached the peer (and its subscribers)
    /// anyway. For a QoS 2 message the peer may still hold its packet identifier,
    /// awaiting PUBREL: the session then sends that PUBREL itself, which completes such a
    /// delivery or is answered as unknown ([MQTT-4.3.3-11] in 5.0), and keeps the
    /// identifier in use, counting against the peer's Receive Maximum, until the PUBCOMP
    /// arrives; nothing more is reported for it.
    PublishDropped {
        /// The packet identifier it had: free now, or once the PUBCOMP for the PUBREL
        /// described above arrives.
        packet_id: PacketId,
        /// The message, unless it had already been received by the peer (a QoS 2 message
        /// waiting for PUBCOMP; the peer has it).
        message: Option<Box<Publish>>,
    },
    /// Client: the SUBACK for one of our SUBSCRIBE packets.
    Subscribed(SubAck),
    /// Client: the UNSUBACK for one of our UNSUBSCRIBE packets.
    Unsubscribed(UnsubAck),
    /// Client: a SUBSCRIBE or UNSUBSCRIBE went unanswered because the connection ended;
    /// send it again on the next connection if it is still wanted.
    RequestDropped {
        /// The packet identifier it had, now free.
        packet_id: PacketId,
    },
    /// Server: the client subscribes. Answer with [`Server::suback`].
    ///
    /// [`Server::suback`]: super::Server::suback
    Subscribe(Subscribe),
    /// Server: the client unsubscribes. Answer with [`Server::unsuback`].
    ///
    /// [`Server::unsuback`]: super::Server::unsuback
    Unsubscribe(Unsubscribe),
    /// An AUTH packet arrived (MQTT 5.0 enhanced authentication).
    Auth(Auth),
    /// The connection is over; close the transport once `poll_transmit` is drained. The
    /// session state (unacknowledged messages) is kept for a later resume.
    Disconnected(DisconnectCause),
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectCause {
    /// We asked for it with `disconnect`.
    Local(DisconnectReasonCode),
    /// The peer sent DISCONNECT.
    Peer(Disconnect),
    /// Client: the server refused the connection with this CONNACK.
    ///
    /// A reason code of [`UnsupportedProtocolVersion`](ConnectReasonCode::UnsupportedProtocolVersion)
    /// means the server does not speak the CONNECT's protocol version: a 5.0 server's
    /// CONNACK 0x84, or, for a 5.0 CONNECT, a server that speaks only 3.1.1 and answered
    /// `20 02 00 01` (3.1.1 MQTT-3.1.2-2), which the 5.0 decoder reads as 0x84. Nothing was
    /// sent in reply. To fall back, open a new transport and `connect` again with a
    /// CONNECT at [`ProtocolVersion::V3_1_1`], and decode that connection at 3.1.1:
    ///
    /// ```
    /// use mqttwire::session::DisconnectCause;
    /// use mqttwire::ConnectReasonCode;
    ///
    /// fn retry_at_3_1_1(cause: &DisconnectCause) -> bool {
    ///     matches!(cause, DisconnectCause::Refused(ack)
    ///         if ack.reason_code == ConnectReasonCode::UnsupportedProtocolVersion)
    /// }
    /// ```
    Refused(ConnAck),
    /// Server: the application (or the session, for a CONNECT it cannot accept) refused
    /// the connection with this reason. A CONNECT of a protocol level the server does not
    /// speak ends with `UnsupportedProtocolVersion` (see
    /// [`Session::handle_decode_error`](super::Session::handle_decode_error)).
    Rejected(ConnectReasonCode),
    /// The peer broke the protocol; in MQTT 5.0 a DISCONNECT with its reason code is queued.
    ProtocolViolation(ProtocolError),
    /// Client: no PINGRESP came back in time. Server: nothing arrived for one and a half
    /// times the Keep Alive ([MQTT-3.1.2-22] in 5.0, [MQTT-3.1.2-24] in 3.1.1).
    KeepAliveTimeout,
    /// The caller reported the transport gone (`handle_connection_lost`).
    ConnectionLost,
}

/// The limits in force on a connection once CONNECT and CONNACK have been exchanged,
/// reported by [`Event::Connected`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Connected {
    /// The connection's protocol version.
    pub protocol_version: ProtocolVersion,
    /// Whether the session continues one the server already had.
    pub session_present: bool,
    /// How many of our QoS 1 and 2 messages may await acknowledgement at once (the peer's
    /// Receive Maximum; 65,535 below 5.0).
    pub send_quota: u16,
    /// The largest packet the peer accepts, in bytes.
    pub max_outgoing_packet_size: usize,
    /// The highest Topic Alias the peer accepts (0: none).
    pub peer_topic_alias_maximum: u16,
    /// The highest QoS the server accepts.
    pub maximum_qos: QoS,
    /// Whether the server accepts retained messages.
    pub retain_available: bool,
    /// The keep alive in force; zero when off.
    pub keep_alive: Duration,
    /// The client identifier the server assigned, if it did.
    pub assigned_client_id: Option<crate::MqttString>,
    /// The Session Expiry Interval in force, in seconds: how long the session state
    /// outlives this connection. 0: it ends with the connection; `u32::MAX`: it never
    /// expires ([MQTT-3.1.2-23] in 5.0).
    ///
    /// In 5.0 it is the CONNECT's Session Expiry Interval (absent: 0), or the CONNACK's
    /// when the server set one (5.0 section 3.2.2.3.2). Below 5.0, which has no such
    /// property, it follows Clean Session: 0 for Clean Session 1, `u32::MAX` for Clean
    /// Session 0, whose session is kept after the connection with no set end (3.1.1
    /// MQTT-3.1.2-4). A 5.0 client may change it in its DISCONNECT:
    /// [`Session::session_expiry_interval`](super::Session::session_expiry_interval)
    /// follows that.
    pub session_expiry_interval: u32,
}
