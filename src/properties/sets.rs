//! One property set per packet type. The `property_set!` invocations below are the table of
//! which property each packet may carry (MQTT 5.0 Table 2-4).

use super::block::Block;
#[cfg(feature = "alloc")]
use super::value::BlockValue;
use super::value::{skip_variable, FixedValue, PropValue, ViewValue};
use super::{id, read_id, PayloadFormat, SubscriptionIdsRef, UserPropertiesRef};
#[cfg(feature = "alloc")]
use super::{SubscriptionIds, UserProperties};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::types::{MqttStr, QoS, SubscriptionId};
#[cfg(feature = "alloc")]
use crate::types::{MqttString, TopicName};
use crate::wire::reader::{between, Reader};
use crate::wire::writer::Sink;
use crate::wire::{varint, Trim};
#[cfg(feature = "alloc")]
use bytes::Bytes;
use core::num::{NonZeroU16, NonZeroU32};

/// The getter and setters of one variable-length property, by kind: `string` (setting
/// cannot fail), `checked` (the setter checks what the type allows but the property cannot
/// carry) and `list`.
#[cfg(feature = "alloc")]
macro_rules! accessors {
    (string $(#[$m:meta])* $v:ident, $set:ident, $with:ident : $ty:ty = $id:ident) => {
        $(#[$m])*
        #[must_use]
        pub fn $v(&self) -> Option<$ty> {
            self.get(id::$id)
        }

        #[doc = concat!("Sets or, with `None`, removes [`", stringify!($v), "`](Self::", stringify!($v), ").")]
        pub fn $set(&mut self, value: Option<$ty>) {
            self.replace(id::$id, value.as_ref());
        }

        #[doc = concat!("With [`", stringify!($v), "`](Self::", stringify!($v), ") set to `value`.")]
        #[must_use]
        pub fn $with(mut self, value: $ty) -> Self {
            self.$set(Some(value));
            self
        }
    };
    (checked $(#[$m:meta])* $v:ident, $set:ident, $with:ident : $ty:ty = $id:ident) => {
        $(#[$m])*
        #[must_use]
        pub fn $v(&self) -> Option<$ty> {
            self.get(id::$id)
        }

        #[doc = concat!("Sets or, with `None`, removes [`", stringify!($v), "`](Self::", stringify!($v), ").")]
        ///
        /// # Errors
        ///
        /// A value this property cannot carry: Binary Data longer than 65,535 bytes, or an
        /// empty Response Topic ([MQTT-4.7.3-1]).
        pub fn $set(&mut self, value: Option<$ty>) -> Result<(), EncodeError> {
            if let Some(v) = &value {
                v.check(id::$id)?;
            }
            self.replace(id::$id, value.as_ref());
            Ok(())
        }

        #[doc = concat!("With [`", stringify!($v), "`](Self::", stringify!($v), ") set to `value`.")]
        ///
        /// # Errors
        ///
        #[doc = concat!("As [`", stringify!($set), "`](Self::", stringify!($set), ").")]
        pub fn $with(mut self, value: $ty) -> Result<Self, EncodeError> {
            self.$set(Some(value))?;
            Ok(self)
        }
    };
    (list $(#[$m:meta])* $v:ident, $set:ident, $with:ident : $ty:ty = $id:ident) => {
        $(#[$m])*
        #[must_use]
        pub fn $v(&self) -> $ty {
            let (count, len) = self
                .block()
                .values(id::$id)
                .fold((0, 0), |(n, len), v| (n + 1, len + 1 + v.len()));
            if count == 0 {
                return <$ty>::new();
            }
            <$ty>::from_block(self.block.clone(), count, len)
        }

        #[doc = concat!("Replaces [`", stringify!($v), "`](Self::", stringify!($v), ").")]
        pub fn $set(&mut self, list: $ty) {
            let (block, len) = self.block().replaced(id::$id, list.wire_len(), |buf| list.put(buf));
            self.block = block;
            self.block_len = len;
        }

        #[doc = concat!("With [`", stringify!($v), "`](Self::", stringify!($v), ") set to `list`.")]
        #[must_use]
        pub fn $with(mut self, list: $ty) -> Self {
            self.$set(list);
            self
        }
    };
}

/// Checks one variable-length property whose identifier has just been read and steps over
/// it; evaluates to whether the property may repeat.
macro_rules! skip_value {
    (list $ty:ty, $r:expr, $id:expr) => {
        <$ty>::read_entry($r).map(|_| true)
    };
    ($kind:ident $ty:ty, $r:expr, $id:expr) => {
        skip_variable($r, $id).map(|()| false)
    };
}

/// The getter of one variable-length property on a borrowed view, by kind.
macro_rules! view_accessor {
    (list $(#[$m:meta])* $v:ident : $vref:ty = $id:ident) => {
        $(#[$m])*
        #[must_use]
        pub fn $v(&self) -> $vref {
            <$vref>::in_block(self.block)
        }
    };
    ($kind:ident $(#[$m:meta])* $v:ident : $vref:ty = $id:ident) => {
        $(#[$m])*
        #[must_use]
        pub fn $v(&self) -> Option<$vref> {
            self.block().first(id::$id).map(<$vref as ViewValue<'a>>::from_value)
        }
    };
}

macro_rules! property_set {
    (
        $(#[$meta:meta])*
        $name:ident / $view:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty = $pid:ident, )*
        }
        variable {
            $( $(#[$vmeta:meta])* $kind:ident $v:ident, $set_v:ident, $with_v:ident : $vty:ty => $vref:ty = $vid:ident, )+
        }
    ) => {
        #[cfg(feature = "alloc")]
        $(#[$meta])*
        ///
        /// Fixed-size properties are public fields. Strings, binary data and lists are kept
        /// encoded, in one buffer shared with the received frame, and read and written
        /// through methods: a getter returns a zero-copy value, a `set_` method replaces or
        /// (with `None`) removes the property, and a `with_` method sets it on a value under
        /// construction.
        #[derive(Clone, Default)]
        #[non_exhaustive]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: Option<$ty>, )*
            /// The variable-length properties, encoded (see `properties::block`).
            pub(crate) block: Bytes,
            /// Bytes of `block` that are this set's own entries.
            pub(crate) block_len: u32,
        }

        $(#[$meta])*
        ///
        /// The borrowed view, as [`PacketRef`](crate::PacketRef) decodes it: fixed-size
        /// properties are public fields, and the getters of strings, binary data and lists
        /// return slices of the received bytes, validated once when the packet was decoded.
        #[derive(Clone, Copy, Default)]
        #[non_exhaustive]
        pub struct $view<'a> {
            $( $(#[$fmeta])* pub $field: Option<$ty>, )*
            /// The variable-length properties, encoded, a slice of the received packet.
            pub(crate) block: &'a [u8],
            /// Bytes of `block` that are this set's own entries.
            pub(crate) block_len: u32,
        }

        impl<'a> $view<'a> {
            /// The variable-length properties in the order they are encoded.
            const ORDER: &'static [u8] = &[$( id::$vid, )+];

            /// Whether no property is set (the set encodes as a single zero byte).
            #[must_use]
            #[inline]
            pub fn is_empty(&self) -> bool {
                $( self.$field.is_none() && )* self.block_len == 0
            }

            $( view_accessor!($kind $(#[$vmeta])* $v : $vref = $vid); )+

            fn block(&self) -> Block<'a> {
                Block { bytes: self.block, len: self.block_len, order: Self::ORDER }
            }

            /// Bytes of the properties, without the Property Length.
            fn content_len(&self, trim: Trim) -> usize {
                #[allow(unused_mut)] // sets without fixed-size properties
                let mut n = self.block().wire_len(trim);
                $(
                    if let Some(v) = &self.$field {
                        n += 1 + v.wire_len();
                    }
                )*
                n
            }

            /// Bytes on the wire, Property Length included.
            #[inline]
            pub(crate) fn wire_len(&self, trim: Trim) -> usize {
                // Most packets carry none: the single byte 0.
                if self.is_empty() {
                    return 1;
                }
                let n = self.content_len(trim);
                varint::len(n) + n
            }

            /// Checks the values that their types cannot rule out.
            pub(crate) fn check(&self) -> Result<(), EncodeError> {
                $( if let Some(v) = &self.$field { v.check(id::$pid)?; } )*
                Ok(())
            }

            #[inline]
            pub(crate) fn put<B: Sink + ?Sized>(&self, buf: &mut B, trim: Trim) {
                if self.is_empty() {
                    buf.put_u8(0);
                    return;
                }
                varint::put(buf, self.content_len(trim));
                $(
                    if let Some(v) = &self.$field {
                        buf.put_u8(id::$pid);
                        v.put(buf);
                    }
                )*
                self.block().put(buf, trim);
            }

            /// Reads the Property Length and the properties it covers.
            #[inline]
            pub(crate) fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
                // Most packets carry none: Property Length 0, one byte, checked where the
                // packet is decoded; the rest out of line.
                if r.skip_zero_byte() {
                    return Ok(Self::default());
                }
                Self::decode_block(r)
            }

            /// [`decode`](Self::decode) of a Property Length other than 0.
            #[inline(never)]
            fn decode_block(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
                let len = r.varint("property length")?;
                let mut p = r.sub(len as usize, "properties")?;
                let all = p.remaining_bytes();
                let mut out = Self::default();
                // Which single-valued variable-length properties were read, by identifier.
                let mut seen = 0u64;
                // Positions as the bytes left then: where the first own entry starts, and
                // where the last one ends.
                let (mut first, mut last, mut own) = (None, 0, 0);
                while p.has_remaining() {
                    let start = p.remaining();
                    let pid = read_id(&mut p)?;
                    let repeatable = match pid {
                        $( id::$pid => {
                            if out.$field.is_some() {
                                return Err(DecodeErrorKind::DuplicateProperty { id: pid }.into());
                            }
                            out.$field = Some(<$ty as FixedValue>::read(&mut p, pid)?);
                            continue;
                        } )*
                        $( id::$vid => skip_value!($kind $vref, &mut p, pid)?, )+
                        other => {
                            return Err(DecodeErrorKind::PropertyNotAllowed { id: other }.into());
                        }
                    };
                    if !repeatable {
                        if seen & (1 << pid) != 0 {
                            return Err(DecodeErrorKind::DuplicateProperty { id: pid }.into());
                        }
                        seen |= 1 << pid;
                    }
                    first.get_or_insert(start);
                    last = p.remaining();
                    own += start - last;
                }
                if let Some(first) = first {
                    out.block = between(all, first, last);
                    out.block_len = own as u32;
                }
                Ok(out)
            }
        }

        impl PartialEq for $view<'_> {
            fn eq(&self, other: &Self) -> bool {
                let (a, b) = (self.block(), other.block());
                $( self.$field == other.$field && )*
                $( a.same_values(&b, id::$vid) && )+
                true
            }
        }

        impl Eq for $view<'_> {}

        impl core::fmt::Debug for $view<'_> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_struct(stringify!($view))
                    $( .field(stringify!($field), &self.$field) )*
                    $( .field(stringify!($v), &self.$v()) )+
                    .finish()
            }
        }

        #[cfg(feature = "alloc")]
        impl $name {
            /// Whether no property is set (the set encodes as a single zero byte).
            #[must_use]
            pub fn is_empty(&self) -> bool {
                self.as_view().is_empty()
            }

            $( accessors!($kind $(#[$vmeta])* $v, $set_v, $with_v : $vty = $vid); )+

            /// The set as a borrowed view of its own bytes.
            #[must_use]
            pub fn as_view(&self) -> $view<'_> {
                $view {
                    $( $field: self.$field, )*
                    block: &self.block,
                    block_len: self.block_len,
                }
            }

            /// The owned set whose bytes are `view`'s, sliced from `frame`, which holds them.
            #[inline]
            pub(crate) fn from_view(view: &$view<'_>, frame: &Bytes) -> Self {
                Self {
                    $( $field: view.$field, )*
                    block: crate::types::string::slice_of(frame, view.block),
                    block_len: view.block_len,
                }
            }

            fn block(&self) -> Block<'_> {
                self.as_view().block()
            }

            #[allow(dead_code)] // in sets without single-valued variable-length properties
            fn get<T: BlockValue>(&self, id: u8) -> Option<T> {
                self.block().first(id).map(|v| T::from_block(&self.block, v))
            }

            #[allow(dead_code)]
            fn replace<T: BlockValue>(&mut self, id: u8, value: Option<&T>) {
                if value.is_none() && self.block().first(id).is_none() {
                    return;
                }
                let extra = value.map_or(0, |v| 1 + v.wire_len());
                let (block, len) = self.block().replaced(id, extra, |buf| {
                    if let Some(v) = value {
                        buf.put_u8(id);
                        v.put(buf);
                    }
                });
                self.block = block;
                self.block_len = len;
            }

            /// A copy that shares no received frame.
            pub(crate) fn detach(&self) -> Self {
                Self {
                    $( $field: self.$field, )*
                    block: self.block().detached(),
                    block_len: self.block_len,
                }
            }
        }

        #[cfg(feature = "alloc")]
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.as_view() == other.as_view()
            }
        }

        #[cfg(feature = "alloc")]
        impl Eq for $name {}

        #[cfg(feature = "alloc")]
        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_struct(stringify!($name))
                    $( .field(stringify!($field), &self.$field) )*
                    $( .field(stringify!($v), &self.$v()) )+
                    .finish()
            }
        }
    };
}

property_set! {
    /// CONNECT properties (MQTT 5.0 section 3.1.2.11).
    ConnectProperties / ConnectPropertiesRef {
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
    }
    variable {
        /// Authentication Method (0x15) for enhanced authentication.
        string authentication_method, set_authentication_method, with_authentication_method: MqttString => MqttStr<'a> = AUTHENTICATION_METHOD,
        /// Authentication Data (0x16); only together with an Authentication Method.
        checked authentication_data, set_authentication_data, with_authentication_data: Bytes => &'a [u8] = AUTHENTICATION_DATA,
        /// User Properties (0x26).
        list user_properties, set_user_properties, with_user_properties: UserProperties => UserPropertiesRef<'a> = USER_PROPERTY,
    }
}

property_set! {
    /// Will Properties, in the CONNECT payload (MQTT 5.0 section 3.1.3.2).
    WillProperties / WillPropertiesRef {
        /// Will Delay Interval (0x18), seconds before the server publishes the will; absent
        /// means 0.
        will_delay_interval: u32 = WILL_DELAY_INTERVAL,
        /// Payload Format Indicator (0x01).
        payload_format_indicator: PayloadFormat = PAYLOAD_FORMAT_INDICATOR,
        /// Message Expiry Interval (0x02), seconds.
        message_expiry_interval: u32 = MESSAGE_EXPIRY_INTERVAL,
    }
    variable {
        /// Content Type (0x03).
        string content_type, set_content_type, with_content_type: MqttString => MqttStr<'a> = CONTENT_TYPE,
        /// Response Topic (0x08).
        checked response_topic, set_response_topic, with_response_topic: TopicName => MqttStr<'a> = RESPONSE_TOPIC,
        /// Correlation Data (0x09).
        checked correlation_data, set_correlation_data, with_correlation_data: Bytes => &'a [u8] = CORRELATION_DATA,
        /// User Properties (0x26).
        list user_properties, set_user_properties, with_user_properties: UserProperties => UserPropertiesRef<'a> = USER_PROPERTY,
    }
}

property_set! {
    /// CONNACK properties (MQTT 5.0 section 3.2.2.3).
    ConnAckProperties / ConnAckPropertiesRef {
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
        /// Topic Alias Maximum (0x22) of the server; absent means 0.
        topic_alias_maximum: u16 = TOPIC_ALIAS_MAXIMUM,
        /// Wildcard Subscription Available (0x28); absent means true.
        wildcard_subscription_available: bool = WILDCARD_SUBSCRIPTION_AVAILABLE,
        /// Subscription Identifier Available (0x29); absent means true.
        subscription_identifier_available: bool = SUBSCRIPTION_IDENTIFIER_AVAILABLE,
        /// Shared Subscription Available (0x2A); absent means true.
        shared_subscription_available: bool = SHARED_SUBSCRIPTION_AVAILABLE,
        /// Server Keep Alive (0x13), seconds, replacing the client's Keep Alive.
        server_keep_alive: u16 = SERVER_KEEP_ALIVE,
    }
    variable {
        /// Assigned Client Identifier (0x12), when the client sent an empty one.
        string assigned_client_identifier, set_assigned_client_identifier, with_assigned_client_identifier: MqttString => MqttStr<'a> = ASSIGNED_CLIENT_IDENTIFIER,
        /// Reason String (0x1F), diagnostics for people.
        string reason_string, set_reason_string, with_reason_string: MqttString => MqttStr<'a> = REASON_STRING,
        /// Response Information (0x1A).
        string response_information, set_response_information, with_response_information: MqttString => MqttStr<'a> = RESPONSE_INFORMATION,
        /// Server Reference (0x1C), another server to use.
        string server_reference, set_server_reference, with_server_reference: MqttString => MqttStr<'a> = SERVER_REFERENCE,
        /// Authentication Method (0x15), the same as in CONNECT.
        string authentication_method, set_authentication_method, with_authentication_method: MqttString => MqttStr<'a> = AUTHENTICATION_METHOD,
        /// Authentication Data (0x16).
        checked authentication_data, set_authentication_data, with_authentication_data: Bytes => &'a [u8] = AUTHENTICATION_DATA,
        /// User Properties (0x26).
        list user_properties, set_user_properties, with_user_properties: UserProperties => UserPropertiesRef<'a> = USER_PROPERTY,
    }
}

property_set! {
    /// PUBLISH properties (MQTT 5.0 section 3.3.2.3).
    PublishProperties / PublishPropertiesRef {
        /// Payload Format Indicator (0x01).
        payload_format_indicator: PayloadFormat = PAYLOAD_FORMAT_INDICATOR,
        /// Message Expiry Interval (0x02), seconds.
        message_expiry_interval: u32 = MESSAGE_EXPIRY_INTERVAL,
        /// Topic Alias (0x23), 1 or more.
        topic_alias: NonZeroU16 = TOPIC_ALIAS,
    }
    variable {
        /// Response Topic (0x08).
        checked response_topic, set_response_topic, with_response_topic: TopicName => MqttStr<'a> = RESPONSE_TOPIC,
        /// Correlation Data (0x09).
        checked correlation_data, set_correlation_data, with_correlation_data: Bytes => &'a [u8] = CORRELATION_DATA,
        /// Content Type (0x03).
        string content_type, set_content_type, with_content_type: MqttString => MqttStr<'a> = CONTENT_TYPE,
        /// User Properties (0x26).
        list user_properties, set_user_properties, with_user_properties: UserProperties => UserPropertiesRef<'a> = USER_PROPERTY,
        /// Subscription Identifiers (0x0B), only in a PUBLISH from the server
        /// ([MQTT-3.3.4-6]); one per matching subscription.
        list subscription_identifiers, set_subscription_identifiers, with_subscription_identifiers: SubscriptionIds => SubscriptionIdsRef<'a> = SUBSCRIPTION_IDENTIFIER,
    }
}

property_set! {
    /// Properties of PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK and UNSUBACK: a Reason String
    /// and User Properties, both left out by [`Packet::encode_with_limit`] when the packet
    /// would exceed the peer's Maximum Packet Size.
    ///
    /// [`Packet::encode_with_limit`]: crate::Packet::encode_with_limit
    AckProperties / AckPropertiesRef {    }
    variable {
        /// Reason String (0x1F), diagnostics for people.
        string reason_string, set_reason_string, with_reason_string: MqttString => MqttStr<'a> = REASON_STRING,
        /// User Properties (0x26).
        list user_properties, set_user_properties, with_user_properties: UserProperties => UserPropertiesRef<'a> = USER_PROPERTY,
    }
}

property_set! {
    /// SUBSCRIBE properties (MQTT 5.0 section 3.8.2.1).
    SubscribeProperties / SubscribePropertiesRef {
        /// Subscription Identifier (0x0B), at most one in SUBSCRIBE.
        subscription_identifier: SubscriptionId = SUBSCRIPTION_IDENTIFIER,
    }
    variable {
        /// User Properties (0x26).
        list user_properties, set_user_properties, with_user_properties: UserProperties => UserPropertiesRef<'a> = USER_PROPERTY,
    }
}

property_set! {
    /// UNSUBSCRIBE properties (MQTT 5.0 section 3.10.2.1).
    UnsubscribeProperties / UnsubscribePropertiesRef {    }
    variable {
        /// User Properties (0x26).
        list user_properties, set_user_properties, with_user_properties: UserProperties => UserPropertiesRef<'a> = USER_PROPERTY,
    }
}

property_set! {
    /// DISCONNECT properties (MQTT 5.0 section 3.14.2.2).
    DisconnectProperties / DisconnectPropertiesRef {
        /// Session Expiry Interval (0x11); only a client may send it ([MQTT-3.14.2-2]).
        session_expiry_interval: u32 = SESSION_EXPIRY_INTERVAL,
    }
    variable {
        /// Reason String (0x1F), diagnostics for people.
        string reason_string, set_reason_string, with_reason_string: MqttString => MqttStr<'a> = REASON_STRING,
        /// Server Reference (0x1C), another server to use.
        string server_reference, set_server_reference, with_server_reference: MqttString => MqttStr<'a> = SERVER_REFERENCE,
        /// User Properties (0x26).
        list user_properties, set_user_properties, with_user_properties: UserProperties => UserPropertiesRef<'a> = USER_PROPERTY,
    }
}

property_set! {
    /// AUTH properties (MQTT 5.0 section 3.15.2.2).
    AuthProperties / AuthPropertiesRef {    }
    variable {
        /// Authentication Method (0x15), required whenever AUTH has properties.
        string authentication_method, set_authentication_method, with_authentication_method: MqttString => MqttStr<'a> = AUTHENTICATION_METHOD,
        /// Authentication Data (0x16).
        checked authentication_data, set_authentication_data, with_authentication_data: Bytes => &'a [u8] = AUTHENTICATION_DATA,
        /// Reason String (0x1F), diagnostics for people.
        string reason_string, set_reason_string, with_reason_string: MqttString => MqttStr<'a> = REASON_STRING,
        /// User Properties (0x26).
        list user_properties, set_user_properties, with_user_properties: UserProperties => UserPropertiesRef<'a> = USER_PROPERTY,
    }
}

#[cfg(feature = "alloc")]
impl PublishProperties {
    /// Whether any Subscription Identifier is set, without building the list.
    pub(crate) fn has_subscription_identifiers(&self) -> bool {
        self.block().first(id::SUBSCRIPTION_IDENTIFIER).is_some()
    }
}
