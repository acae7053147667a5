//! Decode and encode errors.
//!
//! A [`DecodeError`] means the byte stream is unusable and the connection must close. It
//! names the MQTT 5.0 reason code to disconnect with ([`DecodeError::reason_code`]) and,
//! where one exists, the normative statement it enforces ([`DecodeError::rule`]), tagged for
//! the protocol version being decoded (tag numbers differ between 3.1.1 and 5.0).

use crate::types::reason_code::ReasonCode;
use crate::types::PacketType;
use crate::types::ProtocolVersion;

/// What is wrong with the bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ends before the packet does. Only the one-shot decode reports this; the
    /// streaming [`Decoder`](crate::Decoder) answers `Ok(None)` instead.
    #[error("input ends before the packet does ({})", Needed(*needed))]
    Incomplete {
        /// Bytes still missing, when the Remaining Length is complete.
        needed: Option<usize>,
    },
    /// Packet type 0, or 15 (AUTH) below MQTT 5.0.
    #[error("packet type {packet_type} is reserved")]
    ReservedPacketType {
        /// The four type bits.
        packet_type: u8,
    },
    /// The fixed header's flag bits are not the ones this packet type requires.
    #[error("fixed header flags {flags:#06b} are invalid")]
    InvalidFlags {
        /// The four flag bits.
        flags: u8,
    },
    /// A Variable Byte Integer runs over four bytes.
    #[error("{field} is longer than 4 bytes")]
    VarIntTooLong {
        /// Which integer.
        field: &'static str,
    },
    /// A Variable Byte Integer is not in its shortest form.
    #[error("{field} is not minimally encoded")]
    VarIntNotMinimal {
        /// Which integer.
        field: &'static str,
    },
    /// The whole packet is larger than the configured maximum.
    #[error("packet of {size} bytes exceeds the maximum packet size of {max} bytes")]
    PacketTooLarge {
        /// Fixed header plus Remaining Length.
        size: usize,
        /// The configured maximum.
        max: usize,
    },
    /// A field runs past the end of the packet (or of its property block).
    #[error("{field} runs past the end of the packet")]
    UnexpectedEnd {
        /// Which field.
        field: &'static str,
    },
    /// Bytes remain after the last field of the packet.
    #[error("{count} byte{} left over after the last field", if *count == 1 { "" } else { "s" })]
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// A string is not well-formed UTF-8 (this includes encoded surrogates and overlong forms).
    #[error("{field} is not well-formed UTF-8")]
    InvalidUtf8 {
        /// Which string.
        field: &'static str,
    },
    /// A string contains U+0000.
    #[error("{field} contains U+0000")]
    NullCharacter {
        /// Which string.
        field: &'static str,
    },
    /// A string contains a control character or non-character, and the decoder was told
    /// to refuse them.
    #[error("{field} contains a control character or Unicode non-character")]
    DiscouragedCharacter {
        /// Which string.
        field: &'static str,
    },
    /// A topic name with a wildcard, or a topic filter breaking the wildcard or shared
    /// subscription syntax.
    #[error("{field} is not valid: {reason}")]
    InvalidTopic {
        /// Which topic.
        field: &'static str,
        /// What is wrong with it.
        reason: crate::types::InvalidTopic,
    },
    /// The CONNECT protocol name is neither `MQTT` nor `MQIsdp`, or does not go with the level.
    #[error("protocol name does not match protocol level {level}")]
    InvalidProtocolName {
        /// The protocol level byte.
        level: u8,
    },
    /// The CONNECT protocol level is not 3, 4 or 5.
    #[error("protocol level {level} is not supported")]
    UnsupportedProtocolVersion {
        /// The protocol level byte.
        level: u8,
    },
    /// The CONNECT reserved flag (bit 0) is set.
    #[error("CONNECT reserved flag is set")]
    ConnectReservedFlag,
    /// Will QoS or Will Retain is set without the Will Flag.
    #[error("will QoS or will retain set without the will flag")]
    WillFieldsWithoutWill,
    /// QoS 3.
    #[error("{field} is 3, a reserved QoS value")]
    InvalidQoS {
        /// Which QoS.
        field: &'static str,
    },
    /// DUP set on a QoS 0 PUBLISH.
    #[error("DUP flag set on a QoS 0 PUBLISH")]
    DupOnQoS0,
    /// A password without a user name (forbidden before MQTT 5.0).
    #[error("password present without a user name")]
    PasswordWithoutUserName,
    /// A Topic Name is empty where it may not be.
    #[error("{field} is empty")]
    EmptyTopicName {
        /// Which topic.
        field: &'static str,
    },
    /// A packet identifier is 0.
    #[error("packet identifier is 0")]
    ZeroPacketId,
    /// SUBSCRIBE or UNSUBSCRIBE without any topic filter.
    #[error("no topic filter in the payload")]
    NoTopicFilters,
    /// SUBACK or UNSUBACK (5.0) without any reason code.
    #[error("no reason code in the payload")]
    NoReasonCodes,
    /// Reserved bits, QoS 3 or Retain Handling 3 in subscription options.
    #[error("subscription options byte {options:#04x} is invalid")]
    InvalidSubscriptionOptions {
        /// The options byte.
        options: u8,
    },
    /// No Local set on a shared subscription.
    #[error("No Local is set on a shared subscription")]
    NoLocalOnSharedSubscription,
    /// A reason code this packet type may not carry.
    #[error("reason code {code:#04x} is not allowed here")]
    InvalidReasonCode {
        /// The code.
        code: u8,
    },
    /// CONNACK acknowledge flags bits 7 to 1 are not zero.
    #[error("CONNACK flags {flags:#04x} have reserved bits set")]
    ConnAckReservedFlags {
        /// The flags byte.
        flags: u8,
    },
    /// Session Present set on a refused connection.
    #[error("Session Present is set together with a refusal")]
    SessionPresentOnRefusal,
    /// A property identifier MQTT 5.0 does not define.
    #[error("unknown property identifier {id:#04x}")]
    UnknownProperty {
        /// The identifier.
        id: u32,
    },
    /// A property this packet may not carry.
    #[error("property {id:#04x} is not allowed here")]
    PropertyNotAllowed {
        /// The identifier.
        id: u8,
    },
    /// A property that may appear once appears again.
    #[error("property {id:#04x} appears more than once")]
    DuplicateProperty {
        /// The identifier.
        id: u8,
    },
    /// A property value outside its range (Receive Maximum 0, a byte property above 1, ...).
    #[error("property {id:#04x} has the invalid value {value}")]
    InvalidPropertyValue {
        /// The identifier.
        id: u8,
        /// The value received.
        value: u32,
    },
    /// Authentication Data without an Authentication Method.
    #[error("Authentication Data without Authentication Method")]
    AuthenticationDataWithoutMethod,
    /// AUTH without an Authentication Method.
    #[error("Authentication Method is missing")]
    MissingAuthenticationMethod,
    /// A packet other than CONNECT arrived before the protocol version was known.
    #[error("first packet is not CONNECT")]
    ExpectedConnect,
}

/// Why a packet could not be decoded: the stream is unusable and the connection must close.
///
/// ```
/// use mqttwire::{Packet, ProtocolVersion, ReasonCode};
///
/// // PUBLISH with both QoS bits set.
/// let bytes = bytes::Bytes::from_static(&[0x36, 0x06, 0x00, 0x01, 0x61, 0x00, 0x01, 0x00]);
/// let err = Packet::decode(&bytes, ProtocolVersion::V5).unwrap_err();
/// assert_eq!(err.reason_code(), ReasonCode::MALFORMED_PACKET);
/// assert_eq!(err.rule(), Some("MQTT-3.3.1-4"));
/// assert_eq!(err.to_string(), "PUBLISH: QoS is 3, a reserved QoS value [MQTT-3.3.1-4]");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    packet_type: Option<PacketType>,
    rule: Option<&'static str>,
    reason: ReasonCode,
}

impl DecodeError {
    /// An error of `kind` with the reason code this kind implies.
    pub(crate) fn new(kind: DecodeErrorKind) -> Self {
        let reason = default_reason(&kind);
        Self {
            kind,
            packet_type: None,
            rule: None,
            reason,
        }
    }

    /// Names the normative statement the failed check enforces.
    pub(crate) fn with_rule(mut self, tag: &'static str) -> Self {
        self.rule = Some(tag);
        self
    }

    /// Names `tag`, a "this field is present" statement, when the error is the field running
    /// past the packet; any other error keeps its own rule.
    pub(crate) fn when_missing(mut self, tag: &'static str) -> Self {
        if matches!(self.kind, DecodeErrorKind::UnexpectedEnd { .. }) {
            self.rule.get_or_insert(tag);
        }
        self
    }

    /// Replaces the reason code, where the specification names a more specific one.
    pub(crate) fn with_reason(mut self, reason: ReasonCode) -> Self {
        self.reason = reason;
        self
    }

    pub(crate) fn in_packet(mut self, packet_type: PacketType) -> Self {
        self.packet_type.get_or_insert(packet_type);
        self
    }

    /// What is wrong.
    #[must_use]
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.kind
    }

    /// The packet being decoded, once the fixed header named it.
    #[must_use]
    pub fn packet_type(&self) -> Option<PacketType> {
        self.packet_type
    }

    /// The MQTT 5.0 reason code to close the connection with: in a DISCONNECT, or in a
    /// CONNACK when the error is in the CONNECT. MQTT 3.1.1 has no reason codes: there the
    /// connection simply closes ([MQTT-4.8.0-1]).
    #[must_use]
    pub fn reason_code(&self) -> ReasonCode {
        self.reason
    }

    /// The normative statement tag the failed check enforces (such as `MQTT-3.3.1-4`),
    /// numbered for the protocol version that was decoded; `None` where the rule is in
    /// untagged specification text.
    #[must_use]
    pub fn rule(&self) -> Option<&'static str> {
        self.rule
    }

    /// Whether the one-shot decode ran out of input before the packet ended.
    #[must_use]
    pub fn is_incomplete(&self) -> bool {
        matches!(self.kind, DecodeErrorKind::Incomplete { .. })
    }
}

fn default_reason(kind: &DecodeErrorKind) -> ReasonCode {
    use DecodeErrorKind::*;
    match kind {
        PacketTooLarge { .. } => ReasonCode::PACKET_TOO_LARGE,
        UnsupportedProtocolVersion { .. } | InvalidProtocolName { .. } => {
            ReasonCode::UNSUPPORTED_PROTOCOL_VERSION
        }
        EmptyTopicName { .. }
        | NoTopicFilters
        | NoLocalOnSharedSubscription
        | InvalidReasonCode { .. }
        | SessionPresentOnRefusal
        | DuplicateProperty { .. }
        | InvalidPropertyValue { .. }
        | AuthenticationDataWithoutMethod
        | MissingAuthenticationMethod
        | ExpectedConnect => ReasonCode::PROTOCOL_ERROR,
        _ => ReasonCode::MALFORMED_PACKET,
    }
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if let Some(packet_type) = self.packet_type {
            write!(f, "{packet_type}: ")?;
        }
        write!(f, "{}", self.kind)?;
        if let Some(rule) = self.rule {
            write!(f, " [{rule}]")?;
        }
        Ok(())
    }
}

impl core::error::Error for DecodeError {}

impl From<DecodeErrorKind> for DecodeError {
    fn from(kind: DecodeErrorKind) -> Self {
        Self::new(kind)
    }
}

/// Why a packet could not be encoded. Nothing was written to the buffer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The packet is larger than the peer's Maximum Packet Size even without the Reason
    /// String and User Properties that MQTT 5.0 lets a sender drop.
    #[error("packet of {size} bytes exceeds the maximum packet size of {max} bytes")]
    PacketTooLarge {
        /// The smallest size the packet could be encoded in.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The body is larger than a Remaining Length can count (268,435,455 bytes).
    #[error("remaining length of {0} bytes exceeds 268,435,455")]
    RemainingLengthTooLarge(usize),
    /// The destination buffer cannot take the whole packet.
    #[error("buffer has room for {available} bytes, the packet needs {needed}")]
    BufferTooSmall {
        /// The packet's size.
        needed: usize,
        /// Room in the buffer.
        available: usize,
    },
    /// The packet holds content its protocol version cannot carry (properties, reason codes
    /// or AUTH below MQTT 5.0): encoding it would lose data silently.
    #[error("{what} cannot be encoded in {version}")]
    UnsupportedInVersion {
        /// The content.
        what: &'static str,
        /// The version asked for.
        version: ProtocolVersion,
    },
    /// Binary data longer than 65,535 bytes.
    #[error("{field} is {len} bytes, longer than 65,535")]
    BinaryTooLong {
        /// Which field.
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// The packet breaks a rule of the specification.
    #[error("{what}{}", RuleSuffix(*rule))]
    Invalid {
        /// What is wrong.
        what: &'static str,
        /// The normative statement, where one exists.
        rule: Option<&'static str>,
    },
}

impl EncodeError {
    pub(crate) const fn invalid(what: &'static str, rule: Option<&'static str>) -> Self {
        Self::Invalid { what, rule }
    }
}

/// How an `Incomplete` error names what is missing, without an allocator.
struct Needed(Option<usize>);

impl core::fmt::Display for Needed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(n) => write!(f, "{n} more bytes needed"),
            None => f.write_str("the Remaining Length is cut short"),
        }
    }
}

/// ` [tag]` after a message when a rule is known, nothing otherwise.
struct RuleSuffix(Option<&'static str>);

impl core::fmt::Display for RuleSuffix {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(rule) => write!(f, " [{rule}]"),
            None => Ok(()),
        }
    }
}
