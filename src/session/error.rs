//! The two ways a session call can fail: the caller's mistake ([`SessionError`], or
//! [`AcceptError`] when the call handed over a session state) or the peer's
//! ([`ProtocolError`]).

use super::SessionState;
use crate::error::EncodeError;
use crate::types::reason_code::DisconnectReasonCode;
use crate::types::{PacketId, QoS};
use alloc::boxed::Box;

/// A command the session cannot carry out as asked. Nothing was sent and the session is
/// unchanged: the connection is fine, only this call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The command needs an established connection (after CONNACK).
    #[error("not connected")]
    NotConnected,
    /// `connect` (client) or a second answer to CONNECT (server) while a connection is
    /// already being set up or established.
    #[error("a connection is already established or being set up")]
    AlreadyConnected,
    /// All 65,535 packet identifiers are held by unacknowledged PUBLISH, SUBSCRIBE or
    /// UNSUBSCRIBE packets ([MQTT-2.2.1-3]).
    #[error("all 65,535 packet identifiers are in use")]
    PacketIdsExhausted,
    /// As many QoS 1 and 2 messages as [`SessionConfig::max_outgoing`] are already waiting
    /// for acknowledgement or for the peer's Receive Maximum to make room.
    ///
    /// [`SessionConfig::max_outgoing`]: super::SessionConfig::max_outgoing
    #[error("the outgoing queue holds its maximum of {max} messages")]
    OutgoingQueueFull {
        /// The configured maximum.
        max: usize,
    },
    /// The peer's Maximum QoS is lower than the QoS asked for ([MQTT-3.2.2-11]).
    #[error("the peer accepts QoS {} at most", *maximum as u8)]
    QosNotSupported {
        /// The highest QoS the peer accepts.
        maximum: QoS,
    },
    /// The server does not support retained messages ([MQTT-3.2.2-14]).
    #[error("the peer does not support retained messages")]
    RetainNotSupported,
    /// The packet exceeds the peer's Maximum Packet Size ([MQTT-3.2.2-15] for a client;
    /// a server drops such a message, [MQTT-3.1.2-25]).
    #[error("packet of {size} bytes exceeds the peer's maximum packet size of {max} bytes")]
    PacketTooLarge {
        /// The packet's size.
        size: usize,
        /// The peer's limit.
        max: usize,
    },
    /// A Topic Alias of 0, above the peer's Topic Alias Maximum ([MQTT-3.2.2-17],
    /// [MQTT-3.1.2-26]), or an empty topic with an alias this connection has not mapped.
    #[error("topic alias {alias} is not usable (the peer accepts 1 to {maximum})")]
    TopicAliasInvalid {
        /// The alias asked for.
        alias: u16,
        /// The peer's Topic Alias Maximum.
        maximum: u16,
    },
    /// `ack` for a packet identifier with no delivered message awaiting acknowledgement.
    #[error("no received message with packet identifier {0} awaits acknowledgement")]
    NoPendingAck(PacketId),
    /// An answer (SUBACK, UNSUBACK) for a packet identifier with no request awaiting one, or
    /// with a number of reason codes that differs from the request's number of filters.
    #[error("no request with packet identifier {0} awaits this answer")]
    NoPendingRequest(PacketId),
    /// AUTH without an Authentication Method in the CONNECT, or with another one
    /// ([MQTT-4.12.0-5], [MQTT-4.12.0-6], [MQTT-4.12.0-7]), or below MQTT 5.0.
    #[error("enhanced authentication was not negotiated with this method on this connection")]
    AuthNotNegotiated,
    /// The command breaks a rule of the specification on the sending side.
    #[error("{what} [{rule}]")]
    Forbidden {
        /// What is wrong.
        what: &'static str,
        /// The normative statement.
        rule: &'static str,
    },
    /// The packet cannot be encoded at the connection's protocol version.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// [`Server::accept`] could not accept the connection: the [`SessionError`] saying why,
/// and the session state the call was given, handed back untouched.
///
/// Nothing was sent, no event was reported, and the engine is as it was before the call.
/// Every message and every packet identifier of the state is in
/// [`into_session`](Self::into_session): keep it for a corrected `accept`, for the client's
/// next connection, or to store it; a later `accept` with it behaves as if the failed call
/// never happened.
///
/// ```
/// use mqttwire::properties::ConnAckProperties;
/// use mqttwire::session::{Server, SessionConfig, SessionError, SessionState};
///
/// // No CONNECT has arrived: there is nothing to accept yet.
/// let mut server = Server::new(SessionConfig::default());
/// let stored = SessionState::default();
/// let err = server
///     .accept(Some(stored), ConnAckProperties::default())
///     .unwrap_err();
/// assert_eq!(err.error(), &SessionError::NotConnected);
/// let stored: Option<SessionState> = err.into_session();
/// assert!(stored.is_some(), "the state is back with the caller");
/// ```
///
/// [`Server::accept`]: super::Server::accept
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct AcceptError {
    error: SessionError,
    // Boxed: a `Result` carrying the whole state inline would be large on the success path.
    session: Option<Box<SessionState>>,
}

impl AcceptError {
    pub(crate) fn new(error: SessionError, session: Option<SessionState>) -> Self {
        Self {
            error,
            session: session.map(Box::new),
        }
    }

    /// Why the connection could not be accepted.
    #[must_use]
    pub fn error(&self) -> &SessionError {
        &self.error
    }

    /// The session state given to `accept`, untouched.
    #[must_use]
    pub fn session(&self) -> Option<&SessionState> {
        self.session.as_deref()
    }

    /// Takes back the session state given to `accept`, untouched.
    #[must_use = "the state holds the session's messages: dropping it loses them"]
    pub fn into_session(self) -> Option<SessionState> {
        self.session.map(|s| *s)
    }

    /// The error and the session state given to `accept`.
    #[must_use = "the state holds the session's messages: dropping it loses them"]
    pub fn into_parts(self) -> (SessionError, Option<SessionState>) {
        (self.error, self.session.map(|s| *s))
    }
}

/// The peer broke the protocol. The session has queued the DISCONNECT to send (MQTT 5.0;
/// MQTT 3.1.1 just closes) and reported [`Event::Disconnected`]; send what
/// `poll_transmit` still yields, then close the connection.
///
/// [`Event::Disconnected`]: super::Event::Disconnected
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtocolError {
    reason_code: DisconnectReasonCode,
    what: &'static str,
    rule: Option<&'static str>,
}

impl ProtocolError {
    pub(crate) const fn new(reason_code: DisconnectReasonCode, what: &'static str) -> Self {
        Self {
            reason_code,
            what,
            rule: None,
        }
    }

    pub(crate) const fn with_rule(mut self, rule: &'static str) -> Self {
        self.rule = Some(rule);
        self
    }

    pub(crate) const fn protocol(what: &'static str, rule: &'static str) -> Self {
        Self::new(DisconnectReasonCode::ProtocolError, what).with_rule(rule)
    }

    /// The reason code of the DISCONNECT sent for it (MQTT 5.0).
    #[must_use]
    pub fn reason_code(&self) -> DisconnectReasonCode {
        self.reason_code
    }

    /// The normative statement broken, where the specification numbers one. The tag is
    /// that of the connection's protocol version.
    #[must_use]
    pub fn rule(&self) -> Option<&'static str> {
        self.rule
    }

    /// What the peer did.
    #[must_use]
    pub fn description(&self) -> &'static str {
        self.what
    }
}

impl core::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} ({})", self.what, self.reason_code)?;
        if let Some(rule) = self.rule {
            write!(f, " [{rule}]")?;
        }
        Ok(())
    }
}

impl core::error::Error for ProtocolError {}
