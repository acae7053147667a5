//! MQTT 5.0 reason codes: [`ReasonCode`] for any code, and one enum per packet type holding
//! exactly the codes that packet may carry (MQTT 5.0 Table 2-6 and the per-packet tables).
//!
//! MQTT 3.1.1 CONNACK return codes and SUBACK codes map onto the same enums: return code
//! 1 is [`ConnectReasonCode::UnsupportedProtocolVersion`], 2 `ClientIdentifierNotValid`,
//! 3 `ServerUnavailable`, 4 `BadUserNameOrPassword`, 5 `NotAuthorized`.

use crate::types::QoS;

/// Any MQTT 5.0 reason code, as a byte. Values of 0x80 and above are failures.
///
/// Used where the packet type is not fixed, such as [`DecodeError::reason_code`]
/// (the code to disconnect with).
///
/// [`DecodeError::reason_code`]: crate::DecodeError::reason_code
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReasonCode(pub u8);

macro_rules! reason_code_consts {
    ($($name:ident = $value:literal, $text:literal;)+) => {
        impl ReasonCode {
            $(
                #[doc = concat!("`", stringify!($value), "` ", $text, ".")]
                pub const $name: Self = Self($value);
            )+

            /// The specification's name for the code (for 0x00 and the QoS grants, the
            /// general names "Success", "Granted QoS 1" and "Granted QoS 2").
            #[must_use]
            pub const fn name(self) -> &'static str {
                match self.0 {
                    $($value => $text,)+
                    _ => "Unknown reason code",
                }
            }
        }
    };
}

reason_code_consts! {
    SUCCESS = 0x00, "Success";
    GRANTED_QOS_1 = 0x01, "Granted QoS 1";
    GRANTED_QOS_2 = 0x02, "Granted QoS 2";
    DISCONNECT_WITH_WILL_MESSAGE = 0x04, "Disconnect with Will Message";
    NO_MATCHING_SUBSCRIBERS = 0x10, "No matching subscribers";
    NO_SUBSCRIPTION_EXISTED = 0x11, "No subscription existed";
    CONTINUE_AUTHENTICATION = 0x18, "Continue authentication";
    RE_AUTHENTICATE = 0x19, "Re-authenticate";
    UNSPECIFIED_ERROR = 0x80, "Unspecified error";
    MALFORMED_PACKET = 0x81, "Malformed Packet";
    PROTOCOL_ERROR = 0x82, "Protocol Error";
    IMPLEMENTATION_SPECIFIC_ERROR = 0x83, "Implementation specific error";
    UNSUPPORTED_PROTOCOL_VERSION = 0x84, "Unsupported Protocol Version";
    CLIENT_IDENTIFIER_NOT_VALID = 0x85, "Client Identifier not valid";
    BAD_USER_NAME_OR_PASSWORD = 0x86, "Bad User Name or Password";
    NOT_AUTHORIZED = 0x87, "Not authorized";
    SERVER_UNAVAILABLE = 0x88, "Server unavailable";
    SERVER_BUSY = 0x89, "Server busy";
    BANNED = 0x8A, "Banned";
    SERVER_SHUTTING_DOWN = 0x8B, "Server shutting down";
    BAD_AUTHENTICATION_METHOD = 0x8C, "Bad authentication method";
    KEEP_ALIVE_TIMEOUT = 0x8D, "Keep Alive timeout";
    SESSION_TAKEN_OVER = 0x8E, "Session taken over";
    TOPIC_FILTER_INVALID = 0x8F, "Topic Filter invalid";
    TOPIC_NAME_INVALID = 0x90, "Topic Name invalid";
    PACKET_IDENTIFIER_IN_USE = 0x91, "Packet Identifier in use";
    PACKET_IDENTIFIER_NOT_FOUND = 0x92, "Packet Identifier not found";
    RECEIVE_MAXIMUM_EXCEEDED = 0x93, "Receive Maximum exceeded";
    TOPIC_ALIAS_INVALID = 0x94, "Topic Alias invalid";
    PACKET_TOO_LARGE = 0x95, "Packet too large";
    MESSAGE_RATE_TOO_HIGH = 0x96, "Message rate too high";
    QUOTA_EXCEEDED = 0x97, "Quota exceeded";
    ADMINISTRATIVE_ACTION = 0x98, "Administrative action";
    PAYLOAD_FORMAT_INVALID = 0x99, "Payload format invalid";
    RETAIN_NOT_SUPPORTED = 0x9A, "Retain not supported";
    QOS_NOT_SUPPORTED = 0x9B, "QoS not supported";
    USE_ANOTHER_SERVER = 0x9C, "Use another server";
    SERVER_MOVED = 0x9D, "Server moved";
    SHARED_SUBSCRIPTIONS_NOT_SUPPORTED = 0x9E, "Shared Subscriptions not supported";
    CONNECTION_RATE_EXCEEDED = 0x9F, "Connection rate exceeded";
    MAXIMUM_CONNECT_TIME = 0xA0, "Maximum connect time";
    SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED = 0xA1, "Subscription Identifiers not supported";
    WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED = 0xA2, "Wildcard Subscriptions not supported";
}

impl ReasonCode {
    /// Whether the code reports a failure (0x80 and above).
    #[must_use]
    pub const fn is_error(self) -> bool {
        self.0 >= 0x80
    }
}

impl core::fmt::Debug for ReasonCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ReasonCode({:#04x} {})", self.0, self.name())
    }
}

impl core::fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:#04x} {}", self.0, self.name())
    }
}

macro_rules! packet_reason_codes {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum $name {
            $( $(#[$vmeta])* $variant = $value, )+
        }

        impl $name {
            /// The code as a byte.
            #[must_use]
            pub const fn code(self) -> u8 {
                self as u8
            }

            /// The code for a byte, if this packet type may carry it.
            #[must_use]
            pub const fn from_code(code: u8) -> Option<Self> {
                match code {
                    $( $value => Some(Self::$variant), )+
                    _ => None,
                }
            }

            /// Whether the code reports a failure (0x80 and above).
            #[must_use]
            pub const fn is_error(self) -> bool {
                (self as u8) >= 0x80
            }
        }

        impl From<$name> for ReasonCode {
            fn from(code: $name) -> ReasonCode {
                ReasonCode(code as u8)
            }
        }

        impl From<$name> for u8 {
            fn from(code: $name) -> u8 {
                code as u8
            }
        }

        impl TryFrom<u8> for $name {
            type Error = u8;
            /// Converts a code this packet type may carry; gives back any other byte.
            fn try_from(code: u8) -> Result<Self, u8> {
                Self::from_code(code).ok_or(code)
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                core::fmt::Display::fmt(&ReasonCode(*self as u8), f)
            }
        }
    };
}

packet_reason_codes! {
    /// CONNACK reason codes (MQTT 5.0 Table 3-1, [MQTT-3.2.2-8]); in 3.1.1 the return codes
    /// 0 to 5 map to `Success` and the five refusals noted on each variant.
    ConnectReasonCode {
        /// Connection accepted (3.1.1 return code 0).
        Success = 0x00,
        /// Unspecified error.
        UnspecifiedError = 0x80,
        /// Malformed Packet.
        MalformedPacket = 0x81,
        /// Protocol Error.
        ProtocolError = 0x82,
        /// Implementation specific error.
        ImplementationSpecificError = 0x83,
        /// Unsupported Protocol Version (3.1.1 return code 1).
        UnsupportedProtocolVersion = 0x84,
        /// Client Identifier not valid (3.1.1 return code 2).
        ClientIdentifierNotValid = 0x85,
        /// Bad User Name or Password (3.1.1 return code 4).
        BadUserNameOrPassword = 0x86,
        /// Not authorized (3.1.1 return code 5).
        NotAuthorized = 0x87,
        /// Server unavailable (3.1.1 return code 3).
        ServerUnavailable = 0x88,
        /// Server busy.
        ServerBusy = 0x89,
        /// Banned.
        Banned = 0x8A,
        /// Bad authentication method.
        BadAuthenticationMethod = 0x8C,
        /// Topic Name invalid (the Will Topic was refused).
        TopicNameInvalid = 0x90,
        /// Packet too large.
        PacketTooLarge = 0x95,
        /// Quota exceeded.
        QuotaExceeded = 0x97,
        /// Payload format invalid.
        PayloadFormatInvalid = 0x99,
        /// Retain not supported.
        RetainNotSupported = 0x9A,
        /// QoS not supported.
        QoSNotSupported = 0x9B,
        /// Use another server.
        UseAnotherServer = 0x9C,
        /// Server moved.
        ServerMoved = 0x9D,
        /// Connection rate exceeded.
        ConnectionRateExceeded = 0x9F,
    }
}

impl ConnectReasonCode {
    /// The MQTT 3.1.1 CONNACK return code, for the six codes 3.1.1 has.
    #[must_use]
    pub const fn v3_return_code(self) -> Option<u8> {
        Some(match self {
            Self::Success => 0,
            Self::UnsupportedProtocolVersion => 1,
            Self::ClientIdentifierNotValid => 2,
            Self::ServerUnavailable => 3,
            Self::BadUserNameOrPassword => 4,
            Self::NotAuthorized => 5,
            _ => return None,
        })
    }

    /// The code for an MQTT 3.1.1 CONNACK return code (0 to 5; 6 to 255 are reserved).
    #[must_use]
    pub const fn from_v3_return_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::Success,
            1 => Self::UnsupportedProtocolVersion,
            2 => Self::ClientIdentifierNotValid,
            3 => Self::ServerUnavailable,
            4 => Self::BadUserNameOrPassword,
            5 => Self::NotAuthorized,
            _ => return None,
        })
    }
}

packet_reason_codes! {
    /// PUBACK and PUBREC reason codes (MQTT 5.0 Tables 3-4 and 3-5, [MQTT-3.4.2-1],
    /// [MQTT-3.5.2-1]). A PUBREC with a failure code ends the QoS 2 exchange.
    PubAckReasonCode {
        /// The message is accepted.
        Success = 0x00,
        /// Accepted, but nobody is subscribed (sent by servers only).
        NoMatchingSubscribers = 0x10,
        /// Unspecified error.
        UnspecifiedError = 0x80,
        /// Implementation specific error.
        ImplementationSpecificError = 0x83,
        /// Not authorized.
        NotAuthorized = 0x87,
        /// Topic Name invalid.
        TopicNameInvalid = 0x90,
        /// Packet Identifier in use.
        PacketIdentifierInUse = 0x91,
        /// Quota exceeded.
        QuotaExceeded = 0x97,
        /// Payload format invalid.
        PayloadFormatInvalid = 0x99,
    }
}

packet_reason_codes! {
    /// PUBREL and PUBCOMP reason codes (MQTT 5.0 Tables 3-6 and 3-7, [MQTT-3.6.2-1],
    /// [MQTT-3.7.2-1]).
    PubRelReasonCode {
        /// The packet identifier was found.
        Success = 0x00,
        /// The packet identifier is unknown (normal during session recovery).
        PacketIdentifierNotFound = 0x92,
    }
}

packet_reason_codes! {
    /// SUBACK reason codes, one per topic filter (MQTT 5.0 Table 3-8, [MQTT-3.9.3-2]);
    /// MQTT 3.1.1 allows only the three grants and `UnspecifiedError` (its 0x80 "Failure").
    SubAckReasonCode {
        /// Granted QoS 0.
        GrantedQoS0 = 0x00,
        /// Granted QoS 1.
        GrantedQoS1 = 0x01,
        /// Granted QoS 2.
        GrantedQoS2 = 0x02,
        /// Unspecified error (3.1.1: Failure).
        UnspecifiedError = 0x80,
        /// Implementation specific error.
        ImplementationSpecificError = 0x83,
        /// Not authorized.
        NotAuthorized = 0x87,
        /// Topic Filter invalid.
        TopicFilterInvalid = 0x8F,
        /// Packet Identifier in use.
        PacketIdentifierInUse = 0x91,
        /// Quota exceeded.
        QuotaExceeded = 0x97,
        /// Shared Subscriptions not supported.
        SharedSubscriptionsNotSupported = 0x9E,
        /// Subscription Identifiers not supported.
        SubscriptionIdentifiersNotSupported = 0xA1,
        /// Wildcard Subscriptions not supported.
        WildcardSubscriptionsNotSupported = 0xA2,
    }
}

impl SubAckReasonCode {
    /// Whether MQTT 3.1.1 can carry this code (0x00, 0x01, 0x02 or 0x80, [MQTT-3.9.3-2]).
    #[must_use]
    pub const fn is_v3(self) -> bool {
        matches!(
            self,
            Self::GrantedQoS0 | Self::GrantedQoS1 | Self::GrantedQoS2 | Self::UnspecifiedError
        )
    }

    /// The code granting `qos`: `GrantedQoS0`, `GrantedQoS1` or `GrantedQoS2`. Also
    /// available as `From<QoS>`.
    ///
    /// ```
    /// use mqttwire::{QoS, SubAckReasonCode};
    ///
    /// let code = SubAckReasonCode::granted(QoS::AtLeastOnce);
    /// assert_eq!(code, SubAckReasonCode::GrantedQoS1);
    /// assert_eq!(code.granted_qos(), Some(QoS::AtLeastOnce));
    /// assert_eq!(SubAckReasonCode::NotAuthorized.granted_qos(), None);
    /// assert_eq!(SubAckReasonCode::from(QoS::ExactlyOnce), SubAckReasonCode::GrantedQoS2);
    /// ```
    #[must_use]
    pub const fn granted(qos: QoS) -> Self {
        match qos {
            QoS::AtMostOnce => Self::GrantedQoS0,
            QoS::AtLeastOnce => Self::GrantedQoS1,
            QoS::ExactlyOnce => Self::GrantedQoS2,
        }
    }

    /// The QoS this code grants; `None` for a failure code.
    #[must_use]
    pub const fn granted_qos(self) -> Option<QoS> {
        match self {
            Self::GrantedQoS0 => Some(QoS::AtMostOnce),
            Self::GrantedQoS1 => Some(QoS::AtLeastOnce),
            Self::GrantedQoS2 => Some(QoS::ExactlyOnce),
            _ => None,
        }
    }
}

impl From<QoS> for SubAckReasonCode {
    /// The code granting `qos` (see [`SubAckReasonCode::granted`]).
    fn from(qos: QoS) -> Self {
        Self::granted(qos)
    }
}

packet_reason_codes! {
    /// UNSUBACK reason codes, one per topic filter (MQTT 5.0 Table 3-9, [MQTT-3.11.3-2]).
    /// MQTT 3.1.1 UNSUBACK carries none.
    UnsubAckReasonCode {
        /// The subscription is deleted.
        Success = 0x00,
        /// No matching subscription existed.
        NoSubscriptionExisted = 0x11,
        /// Unspecified error.
        UnspecifiedError = 0x80,
        /// Implementation specific error.
        ImplementationSpecificError = 0x83,
        /// Not authorized.
        NotAuthorized = 0x87,
        /// Topic Filter invalid.
        TopicFilterInvalid = 0x8F,
        /// Packet Identifier in use.
        PacketIdentifierInUse = 0x91,
    }
}

packet_reason_codes! {
    /// DISCONNECT reason codes (MQTT 5.0 Table 3-10, [MQTT-3.14.2-1]), plus 0x8C
    /// "Bad authentication method", which Table 2-6 lists for DISCONNECT and Table 3-10
    /// omits: mqttwire accepts it both ways rather than reject a peer over the discrepancy.
    DisconnectReasonCode {
        /// Normal disconnection: the will is not published.
        NormalDisconnection = 0x00,
        /// The client asks the server to publish its will.
        DisconnectWithWillMessage = 0x04,
        /// Unspecified error.
        UnspecifiedError = 0x80,
        /// Malformed Packet.
        MalformedPacket = 0x81,
        /// Protocol Error.
        ProtocolError = 0x82,
        /// Implementation specific error.
        ImplementationSpecificError = 0x83,
        /// Not authorized.
        NotAuthorized = 0x87,
        /// Server busy.
        ServerBusy = 0x89,
        /// Server shutting down.
        ServerShuttingDown = 0x8B,
        /// Bad authentication method.
        BadAuthenticationMethod = 0x8C,
        /// Keep Alive timeout.
        KeepAliveTimeout = 0x8D,
        /// Session taken over.
        SessionTakenOver = 0x8E,
        /// Topic Filter invalid.
        TopicFilterInvalid = 0x8F,
        /// Topic Name invalid.
        TopicNameInvalid = 0x90,
        /// Receive Maximum exceeded.
        ReceiveMaximumExceeded = 0x93,
        /// Topic Alias invalid.
        TopicAliasInvalid = 0x94,
        /// Packet too large.
        PacketTooLarge = 0x95,
        /// Message rate too high.
        MessageRateTooHigh = 0x96,
        /// Quota exceeded.
        QuotaExceeded = 0x97,
        /// Administrative action.
        AdministrativeAction = 0x98,
        /// Payload format invalid.
        PayloadFormatInvalid = 0x99,
        /// Retain not supported.
        RetainNotSupported = 0x9A,
        /// QoS not supported.
        QoSNotSupported = 0x9B,
        /// Use another server.
        UseAnotherServer = 0x9C,
        /// Server moved.
        ServerMoved = 0x9D,
        /// Shared Subscriptions not supported.
        SharedSubscriptionsNotSupported = 0x9E,
        /// Connection rate exceeded.
        ConnectionRateExceeded = 0x9F,
        /// Maximum connect time.
        MaximumConnectTime = 0xA0,
        /// Subscription Identifiers not supported.
        SubscriptionIdentifiersNotSupported = 0xA1,
        /// Wildcard Subscriptions not supported.
        WildcardSubscriptionsNotSupported = 0xA2,
    }
}

packet_reason_codes! {
    /// AUTH reason codes (MQTT 5.0 Table 3-11, [MQTT-3.15.2-1]).
    AuthReasonCode {
        /// Authentication is successful (sent by the server).
        Success = 0x00,
        /// Continue the authentication with another step.
        ContinueAuthentication = 0x18,
        /// Start re-authentication (sent by the client).
        ReAuthenticate = 0x19,
    }
}

macro_rules! default_to {
    ($($ty:ident => $variant:ident),+) => {$(
        impl Default for $ty {
            fn default() -> Self {
                Self::$variant
            }
        }
    )+};
}
default_to!(
    ConnectReasonCode => Success,
    PubAckReasonCode => Success,
    PubRelReasonCode => Success,
    UnsubAckReasonCode => Success,
    DisconnectReasonCode => NormalDisconnection,
    AuthReasonCode => Success
);

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn failure_starts_at_0x80_section_2_4() {
        assert!(!ReasonCode(0x7F).is_error());
        assert!(ReasonCode(0x80).is_error());
        assert!(PubAckReasonCode::NotAuthorized.is_error());
        assert!(!PubAckReasonCode::NoMatchingSubscribers.is_error());
    }

    #[test]
    fn per_packet_sets_reject_foreign_codes() {
        assert_eq!(PubAckReasonCode::from_code(0x92), None); // MQTT-3.4.2-1
        assert_eq!(PubRelReasonCode::from_code(0x80), None); // MQTT-3.6.2-1
        assert_eq!(SubAckReasonCode::from_code(0x11), None); // MQTT-3.9.3-2
        assert_eq!(UnsubAckReasonCode::from_code(0x02), None); // MQTT-3.11.3-2
        assert_eq!(ConnectReasonCode::from_code(0x10), None); // MQTT-3.2.2-8
        assert_eq!(ConnectReasonCode::from_code(0x8E), None); // MQTT-3.2.2-8
        assert_eq!(AuthReasonCode::from_code(0x80), None); // MQTT-3.15.2-1
        assert_eq!(
            DisconnectReasonCode::from_code(0x8C),
            Some(DisconnectReasonCode::BadAuthenticationMethod)
        );
    }

    #[test]
    fn v3_connack_return_codes_map_both_ways() {
        for rc in 0..=5u8 {
            let code = ConnectReasonCode::from_v3_return_code(rc).unwrap();
            assert_eq!(code.v3_return_code(), Some(rc));
        }
        assert_eq!(ConnectReasonCode::from_v3_return_code(6), None);
        assert_eq!(ConnectReasonCode::Banned.v3_return_code(), None);
    }

    #[test]
    fn suback_grants_map_to_qos_both_ways() {
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            let code = SubAckReasonCode::from(qos);
            assert_eq!(code.code(), qos.bits());
            assert_eq!(code.granted_qos(), Some(qos));
        }
        let failures = (0x80..=0xFF).filter_map(SubAckReasonCode::from_code);
        for code in failures {
            assert_eq!(code.granted_qos(), None, "{code}");
        }
    }

    #[test]
    fn names_come_from_table_2_6() {
        assert_eq!(ReasonCode::PACKET_TOO_LARGE.name(), "Packet too large");
        assert_eq!(ReasonCode(0x95).to_string(), "0x95 Packet too large");
        assert_eq!(ReasonCode(0x03).name(), "Unknown reason code");
    }
}
