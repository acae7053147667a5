//! One property set per packet type. The `property_set!` invocations below are the table of
//! which property each packet may carry (MQTT 5.0 Table 2-4).

use super::value::PropValue;
use super::{id, read_id, PayloadFormat, SubscriptionIds, UserProperties};
use crate::codec::reader::Reader;
use crate::codec::writer::Sink;
use crate::codec::{varint, Trim};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::types::{MqttString, QoS, SubscriptionId, TopicName};
use bytes::Bytes;
use core::num::{NonZeroU16, NonZeroU32};

/// Whether an encoder that must shrink the packet leaves out property `pid`.
fn dropped(pid: u8, trim: Trim) -> bool {
    match pid {
        id::REASON_STRING => trim >= Trim::ReasonString,
        id::USER_PROPERTY => trim >= Trim::ReasonStringAndUserProperties,
        _ => false,
    }
}

macro_rules! property_set {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty = $pid:ident, )*
        }
        repeated {
            $( $(#[$lmeta:meta])* $list:ident : $lty:ty = $lid:ident, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: Option<$ty>, )*
            $( $(#[$lmeta])* pub $list: $lty, )+
        }

        impl $name {
            /// Whether no property is set (the set encodes as a single zero byte).
            #[must_use]
            pub fn is_empty(&self) -> bool {
                $( self.$field.is_none() && )* $( self.$list.is_empty() && )+ true
            }

            /// Reads the Property Length and the properties it covers.
            pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                let len = r.varint("property length")?;
                let mut p = r.sub(len as usize, "properties")?;
                let block_start = p.position();
                let mut out = Self::default();
                $( let mut $list = (0usize, 0usize); )+
                while p.has_remaining() {
                    let pid = read_id(&mut p)?;
                    match pid {
                        $( id::$pid => {
                            if out.$field.is_some() {
                                return Err(DecodeErrorKind::DuplicateProperty { id: pid }.into());
                            }
                            out.$field = Some(<$ty as PropValue>::read(&mut p, pid)?);
                        } )*
                        $( id::$lid => {
                            $list.0 += 1;
                            $list.1 += <$lty>::read_entry(&mut p)?;
                        } )+
                        other => {
                            return Err(DecodeErrorKind::PropertyNotAllowed { id: other }.into());
                        }
                    }
                }
                $(
                    if $list.0 > 0 {
                        out.$list = <$lty>::from_block(p.slice_from(block_start), $list.0, $list.1);
                    }
                )+
                Ok(out)
            }

            /// Bytes of the properties, without the Property Length.
            fn content_len(&self, trim: Trim) -> usize {
                let mut n = 0;
                $(
                    if let Some(v) = &self.$field {
                        if !dropped(id::$pid, trim) {
                            n += 1 + v.wire_len();
                        }
                    }
                )*
                $(
                    if !dropped(id::$lid, trim) {
                        n += self.$list.wire_len();
                    }
                )+
                n
            }

            /// Bytes on the wire, Property Length included.
            pub(crate) fn wire_len(&self, trim: Trim) -> usize {
                let n = self.content_len(trim);
                varint::len(n) + n
            }

            /// Checks the values that their types cannot rule out.
            pub(crate) fn check(&self) -> Result<(), EncodeError> {
                $( if let Some(v) = &self.$field { v.check(id::$pid)?; } )*
                Ok(())
            }

            pub(crate) fn put<B: Sink + ?Sized>(&self, buf: &mut B, trim: Trim) {
                varint::put(buf, self.content_len(trim));
                $(
                    if let Some(v) = &self.$field {
                        if !dropped(id::$pid, trim) {
                            buf.put_u8(id::$pid);
                            v.put(buf);
                        }
                    }
                )*
                $(
                    if !dropped(id::$lid, trim) {
                        self.$list.put(buf);
                    }
                )+
            }

            /// A copy that shares no received frame.
            pub(crate) fn detach(&self) -> Self {
                Self {
                    $( $field: self.$field.as_ref().map(PropValue::detach), )*
                    $( $list: self.$list.detach(), )+
                }
            }
        }
    };
}

property_set! {
    /// CONNECT properties (MQTT 5.0 section 3.1.2.11).
    ConnectProperties {
        /// Session Expiry Interval (0x11), seconds; absent means 0: the session ends with the
        /// connection. 0xFFFFFFFF means it never expires.
        session_expiry_interval: u32 = SESSION_EXPIRY_INTERVAL,
        /// Receive Maximum (0x21): how many QoS 1 and 2 PUBLISH the client accepts
        /// unacknowledged; absent means 65,535.
        receive_maximum: NonZeroU16 = RECEIVE_MAXIMUM,
        /// Maximum Packet Size (0x27) the client accepts; absent means no limit beyond the
        /// protocol's.
        maximum_packet_size: NonZeroU32 = MAXIMUM_PACKET_SIZE,
        /// Topic Alias Maximum (0x22): the highest alias the client accepts; absent means 0.
        topic_alias_maximum: u16 = TOPIC_ALIAS_MAXIMUM,
        /// Request Response Information (0x19); absent means false.
        request_response_information: bool = REQUEST_RESPONSE_INFORMATION,
        /// Request Problem Information (0x17); absent means true.
        request_problem_information: bool = REQUEST_PROBLEM_INFORMATION,
        /// Authentication Method (0x15) for enhanced authentication.
        authentication_method: MqttString = AUTHENTICATION_METHOD,
        /// Authentication Data (0x16); only together with an Authentication Method.
        authentication_data: Bytes = AUTHENTICATION_DATA,
    }
    repeated {
        /// User Properties (0x26).
        user_properties: UserProperties = USER_PROPERTY,
    }
}

property_set! {
    /// Will Properties, in the CONNECT payload (MQTT 5.0 section 3.1.3.2).
    WillProperties {
        /// Will Delay Interval (0x18), seconds before the server publishes the will; absent
        /// means 0.
        will_delay_interval: u32 = WILL_DELAY_INTERVAL,
        /// Payload Format Indicator (0x01).
        payload_format_indicator: PayloadFormat = PAYLOAD_FORMAT_INDICATOR,
        /// Message Expiry Interval (0x02), seconds.
        message_expiry_interval: u32 = MESSAGE_EXPIRY_INTERVAL,
        /// Content Type (0x03).
        content_type: MqttString = CONTENT_TYPE,
        /// Response Topic (0x08).
        response_topic: TopicName = RESPONSE_TOPIC,
        /// Correlation Data (0x09).
        correlation_data: Bytes = CORRELATION_DATA,
    }
    repeated {
        /// User Properties (0x26).
        user_properties: UserProperties = USER_PROPERTY,
    }
}

property_set! {
    /// CONNACK properties (MQTT 5.0 section 3.2.2.3).
    ConnAckProperties {
        /// Session Expiry Interval (0x11) the server uses instead of the client's.
        session_expiry_interval: u32 = SESSION_EXPIRY_INTERVAL,
        /// Receive Maximum (0x21) of the server; absent means 65,535.
        receive_maximum: NonZeroU16 = RECEIVE_MAXIMUM,
        /// Maximum QoS (0x24): 0 or 1; absent means 2.
        maximum_qos: QoS = MAXIMUM_QOS,
        /// Retain Available (0x25); absent means true.
        retain_available: bool = RETAIN_AVAILABLE,
        /// Maximum Packet Size (0x27) the server accepts.
        maximum_packet_size: NonZeroU32 = MAXIMUM_PACKET_SIZE,
        /// Assigned Client Identifier (0x12), when the client sent an empty one.
        assigned_client_identifier: MqttString = ASSIGNED_CLIENT_IDENTIFIER,
        /// Topic Alias Maximum (0x22) of the server; absent means 0.
        topic_alias_maximum: u16 = TOPIC_ALIAS_MAXIMUM,
        /// Reason String (0x1F), diagnostics for people.
        reason_string: MqttString = REASON_STRING,
        /// Wildcard Subscription Available (0x28); absent means true.
        wildcard_subscription_available: bool = WILDCARD_SUBSCRIPTION_AVAILABLE,
        /// Subscription Identifier Available (0x29); absent means true.
        subscription_identifier_available: bool = SUBSCRIPTION_IDENTIFIER_AVAILABLE,
        /// Shared Subscription Available (0x2A); absent means true.
        shared_subscription_available: bool = SHARED_SUBSCRIPTION_AVAILABLE,
        /// Server Keep Alive (0x13), seconds, replacing the client's Keep Alive.
        server_keep_alive: u16 = SERVER_KEEP_ALIVE,
        /// Response Information (0x1A).
        response_information: MqttString = RESPONSE_INFORMATION,
        /// Server Reference (0x1C), another server to use.
        server_reference: MqttString = SERVER_REFERENCE,
        /// Authentication Method (0x15), the same as in CONNECT.
        authentication_method: MqttString = AUTHENTICATION_METHOD,
        /// Authentication Data (0x16).
        authentication_data: Bytes = AUTHENTICATION_DATA,
    }
    repeated {
        /// User Properties (0x26).
        user_properties: UserProperties = USER_PROPERTY,
    }
}

property_set! {
    /// PUBLISH properties (MQTT 5.0 section 3.3.2.3).
    PublishProperties {
        /// Payload Format Indicator (0x01).
        payload_format_indicator: PayloadFormat = PAYLOAD_FORMAT_INDICATOR,
        /// Message Expiry Interval (0x02), seconds.
        message_expiry_interval: u32 = MESSAGE_EXPIRY_INTERVAL,
        /// Topic Alias (0x23), 1 or more.
        topic_alias: NonZeroU16 = TOPIC_ALIAS,
        /// Response Topic (0x08).
        response_topic: TopicName = RESPONSE_TOPIC,
        /// Correlation Data (0x09).
        correlation_data: Bytes = CORRELATION_DATA,
        /// Content Type (0x03).
        content_type: MqttString = CONTENT_TYPE,
    }
    repeated {
        /// User Properties (0x26).
        user_properties: UserProperties = USER_PROPERTY,
        /// Subscription Identifiers (0x0B), only in a PUBLISH from the server
        /// ([MQTT-3.3.4-6]); one per matching subscription.
        subscription_identifiers: SubscriptionIds = SUBSCRIPTION_IDENTIFIER,
    }
}

property_set! {
    /// Properties of PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK and UNSUBACK: a Reason String
    /// and User Properties, both left out by [`Packet::encode_with_limit`] when the packet
    /// would exceed the peer's Maximum Packet Size.
    ///
    /// [`Packet::encode_with_limit`]: crate::Packet::encode_with_limit
    AckProperties {
        /// Reason String (0x1F), diagnostics for people.
        reason_string: MqttString = REASON_STRING,
    }
    repeated {
        /// User Properties (0x26).
        user_properties: UserProperties = USER_PROPERTY,
    }
}

property_set! {
    /// SUBSCRIBE properties (MQTT 5.0 section 3.8.2.1).
    SubscribeProperties {
        /// Subscription Identifier (0x0B), at most one in SUBSCRIBE.
        subscription_identifier: SubscriptionId = SUBSCRIPTION_IDENTIFIER,
    }
    repeated {
        /// User Properties (0x26).
        user_properties: UserProperties = USER_PROPERTY,
    }
}

property_set! {
    /// UNSUBSCRIBE properties (MQTT 5.0 section 3.10.2.1).
    UnsubscribeProperties {}
    repeated {
        /// User Properties (0x26).
        user_properties: UserProperties = USER_PROPERTY,
    }
}

property_set! {
    /// DISCONNECT properties (MQTT 5.0 section 3.14.2.2).
    DisconnectProperties {
        /// Session Expiry Interval (0x11); only a client may send it ([MQTT-3.14.2-2]).
        session_expiry_interval: u32 = SESSION_EXPIRY_INTERVAL,
        /// Reason String (0x1F), diagnostics for people.
        reason_string: MqttString = REASON_STRING,
        /// Server Reference (0x1C), another server to use.
        server_reference: MqttString = SERVER_REFERENCE,
    }
    repeated {
        /// User Properties (0x26).
        user_properties: UserProperties = USER_PROPERTY,
    }
}

property_set! {
    /// AUTH properties (MQTT 5.0 section 3.15.2.2).
    AuthProperties {
        /// Authentication Method (0x15), required whenever AUTH has properties.
        authentication_method: MqttString = AUTHENTICATION_METHOD,
        /// Authentication Data (0x16).
        authentication_data: Bytes = AUTHENTICATION_DATA,
        /// Reason String (0x1F), diagnostics for people.
        reason_string: MqttString = REASON_STRING,
    }
    repeated {
        /// User Properties (0x26).
        user_properties: UserProperties = USER_PROPERTY,
    }
}
