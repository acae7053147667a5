//! How a session behaves and what it announces to its peer.

use crate::codec::Decoder;
use crate::types::{ProtocolVersion, QoS};
use core::num::{NonZeroU16, NonZeroU32};
use core::time::Duration;

/// Settings of a [`Session`](super::Session), for either role. The defaults a server
/// usually changes are the 1 MiB [`maximum_packet_size`](Self::maximum_packet_size) and the
/// [`topic_alias_maximum`](Self::topic_alias_maximum) of 0 (see the
/// [module documentation](super#defaults-to-know-before-serving-clients)).
///
/// The limits under "ours" are what the session enforces on what it receives; in MQTT 5.0
/// the session also announces them, writing them into the CONNECT (client) or the CONNACK
/// (server) it sends, so the peer knows them.
///
/// ```
/// use mqttwire::session::SessionConfig;
/// use core::num::NonZeroU16;
///
/// let mut config = SessionConfig::default();
/// config.receive_maximum = NonZeroU16::new(32).unwrap();
/// config.manual_acks = true;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionConfig {
    /// Ours: how many received QoS 1 and 2 messages may await our acknowledgement at once.
    /// One more is a protocol violation (0x93 in 5.0). Counted per connection, as the
    /// sender's send quota is: a QoS 2 message awaiting PUBREL from an earlier connection
    /// counts once its PUBLISH arrives again. It bounds the acknowledgements kept per
    /// connection; the QoS 2 messages kept awaiting PUBREL across connections are bounded
    /// by the 65,535 packet identifiers (a byte each). Default 65,535, the protocol's
    /// default.
    pub receive_maximum: NonZeroU16,
    /// Ours: the largest packet we accept, in bytes. Configure the [`Decoder`] with it
    /// ([`client_decoder`](Self::client_decoder), [`server_decoder`](Self::server_decoder)).
    /// Default 1 MiB, the decoder's default: a PUBLISH with a 1 MiB payload is larger and
    /// is refused, so raise it (up to [`MAX_PACKET_SIZE`](crate::MAX_PACKET_SIZE)) to carry
    /// such messages.
    pub maximum_packet_size: NonZeroU32,
    /// Ours: the highest Topic Alias the peer may use towards us. Default 0: none; a
    /// server that wants clients to use aliases announces more (MQTT 5.0).
    pub topic_alias_maximum: u16,
    /// How many Topic Aliases the session keeps track of when sending (at most the peer's
    /// Topic Alias Maximum). Default 16.
    pub outgoing_topic_aliases: u16,
    /// Whether the session assigns Topic Aliases to outgoing messages by itself, replacing
    /// the least recently used one when all are taken. A message that carries a Topic
    /// Alias property keeps the caller's choice. Default true.
    pub auto_topic_aliases: bool,
    /// Whether received QoS 1 and 2 messages wait for the application's `ack` before
    /// PUBACK or PUBREC goes out. Acknowledgements still leave in the order the messages
    /// arrived ([MQTT-4.6.0-2], [MQTT-4.6.0-3]). Default false.
    pub manual_acks: bool,
    /// How many of our QoS 1 and 2 messages may be unacknowledged, sent or waiting for the
    /// peer's Receive Maximum, before `publish` refuses more. Default 65,535.
    pub max_outgoing: usize,
    /// Client: how long to wait for CONNACK and for PINGRESP before giving up on the
    /// connection. Default 30 s.
    pub response_timeout: Duration,
    /// Server: the highest QoS accepted from clients (announced as Maximum QoS). Default 2.
    pub maximum_qos: QoS,
    /// Server: whether clients may publish retained messages (Retain Available). Default true.
    pub retain_available: bool,
    /// Server: a Keep Alive that replaces the client's (Server Keep Alive, 5.0). Default
    /// none.
    pub server_keep_alive: Option<u16>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            receive_maximum: NonZeroU16::MAX,
            maximum_packet_size: NonZeroU32::new(1 << 20).unwrap_or(NonZeroU32::MAX),
            topic_alias_maximum: 0,
            outgoing_topic_aliases: 16,
            auto_topic_aliases: true,
            manual_acks: false,
            max_outgoing: usize::from(u16::MAX),
            response_timeout: Duration::from_secs(30),
            maximum_qos: QoS::ExactlyOnce,
            retain_available: true,
            server_keep_alive: None,
        }
    }
}

impl SessionConfig {
    /// A [`Decoder`] for a client connection at `version` enforcing our Maximum Packet Size.
    #[must_use]
    pub fn client_decoder(&self, version: ProtocolVersion) -> Decoder {
        Decoder::new(version).with_max_packet_size(self.max_incoming())
    }

    /// A [`Decoder`] for a server connection (learning the version from CONNECT) enforcing
    /// our Maximum Packet Size.
    #[must_use]
    pub fn server_decoder(&self) -> Decoder {
        Decoder::for_server().with_max_packet_size(self.max_incoming())
    }

    fn max_incoming(&self) -> usize {
        usize::try_from(self.maximum_packet_size.get()).unwrap_or(usize::MAX)
    }
}
