//! MQTT 5.0 properties (section 2.2.2), typed, one set per packet type.
//!
//! Each packet has its own property struct holding exactly the properties that packet may
//! carry (MQTT 5.0 Table 2-4), so a property in the wrong packet cannot be encoded,
//! and decoding one is a Malformed Packet. Single-valued properties may appear once (twice
//! is a Protocol Error); [`UserProperties`] and, in PUBLISH, [`SubscriptionIds`] repeat and
//! keep their order.
//!
//! Fixed-size properties are public `Option` fields. Strings, binary data and the lists
//! stay encoded in one buffer (a slice of the received frame, when decoded), read through
//! getters that return zero-copy values and written through `set_` and `with_` methods:
//! this keeps every packet small to move, and decoding free of allocations.
//!
//! ```
//! use mqttwire::properties::{PublishProperties, UserProperties};
//! use mqttwire::MqttString;
//!
//! let mut props = PublishProperties::default()
//!     .with_content_type(MqttString::new("application/json").unwrap())
//!     .with_user_properties(UserProperties::from_pairs([("region", "eu")]).unwrap());
//! props.message_expiry_interval = Some(60);
//! assert_eq!(props.content_type().unwrap(), "application/json");
//! assert_eq!(props.user_properties().get("region"), Some("eu"));
//!
//! props.set_content_type(None);
//! assert!(props.content_type().is_none());
//! ```

mod block;
mod lists;
mod sets;
mod value;

#[cfg(feature = "alloc")]
pub use lists::{SubscriptionIds, UserProperties};
pub use lists::{SubscriptionIdsIter, SubscriptionIdsRef, UserPropertiesIter, UserPropertiesRef};
#[cfg(feature = "alloc")]
pub use sets::{
    AckProperties, AuthProperties, ConnAckProperties, ConnectProperties, DisconnectProperties,
    PublishProperties, SubscribeProperties, UnsubscribeProperties, WillProperties,
};
pub use sets::{
    AckPropertiesRef, AuthPropertiesRef, ConnAckPropertiesRef, ConnectPropertiesRef,
    DisconnectPropertiesRef, PublishPropertiesRef, SubscribePropertiesRef,
    UnsubscribePropertiesRef, WillPropertiesRef,
};
pub(crate) use value::check_binary;
pub use value::PayloadFormat;

use crate::error::{DecodeError, DecodeErrorKind};
use crate::wire::reader::Reader;

/// Property identifiers (MQTT 5.0 Table 2-4).
pub mod id {
    /// Payload Format Indicator (Byte).
    pub const PAYLOAD_FORMAT_INDICATOR: u8 = 0x01;
    /// Message Expiry Interval (Four Byte Integer).
    pub const MESSAGE_EXPIRY_INTERVAL: u8 = 0x02;
    /// Content Type (UTF-8 Encoded String).
    pub const CONTENT_TYPE: u8 = 0x03;
    /// Response Topic (UTF-8 Encoded String).
    pub const RESPONSE_TOPIC: u8 = 0x08;
    /// Correlation Data (Binary Data).
    pub const CORRELATION_DATA: u8 = 0x09;
    /// Subscription Identifier (Variable Byte Integer).
    pub const SUBSCRIPTION_IDENTIFIER: u8 = 0x0B;
    /// Session Expiry Interval (Four Byte Integer).
    pub const SESSION_EXPIRY_INTERVAL: u8 = 0x11;
    /// Assigned Client Identifier (UTF-8 Encoded String).
    pub const ASSIGNED_CLIENT_IDENTIFIER: u8 = 0x12;
    /// Server Keep Alive (Two Byte Integer).
    pub const SERVER_KEEP_ALIVE: u8 = 0x13;
    /// Authentication Method (UTF-8 Encoded String).
    pub const AUTHENTICATION_METHOD: u8 = 0x15;
    /// Authentication Data (Binary Data).
    pub const AUTHENTICATION_DATA: u8 = 0x16;
    /// Request Problem Information (Byte).
    pub const REQUEST_PROBLEM_INFORMATION: u8 = 0x17;
    /// Will Delay Interval (Four Byte Integer).
    pub const WILL_DELAY_INTERVAL: u8 = 0x18;
    /// Request Response Information (Byte).
    pub const REQUEST_RESPONSE_INFORMATION: u8 = 0x19;
    /// Response Information (UTF-8 Encoded String).
    pub const RESPONSE_INFORMATION: u8 = 0x1A;
    /// Server Reference (UTF-8 Encoded String).
    pub const SERVER_REFERENCE: u8 = 0x1C;
    /// Reason String (UTF-8 Encoded String).
    pub const REASON_STRING: u8 = 0x1F;
    /// Receive Maximum (Two Byte Integer).
    pub const RECEIVE_MAXIMUM: u8 = 0x21;
    /// Topic Alias Maximum (Two Byte Integer).
    pub const TOPIC_ALIAS_MAXIMUM: u8 = 0x22;
    /// Topic Alias (Two Byte Integer).
    pub const TOPIC_ALIAS: u8 = 0x23;
    /// Maximum QoS (Byte).
    pub const MAXIMUM_QOS: u8 = 0x24;
    /// Retain Available (Byte).
    pub const RETAIN_AVAILABLE: u8 = 0x25;
    /// User Property (UTF-8 String Pair).
    pub const USER_PROPERTY: u8 = 0x26;
    /// Maximum Packet Size (Four Byte Integer).
    pub const MAXIMUM_PACKET_SIZE: u8 = 0x27;
    /// Wildcard Subscription Available (Byte).
    pub const WILDCARD_SUBSCRIPTION_AVAILABLE: u8 = 0x28;
    /// Subscription Identifier Available (Byte).
    pub const SUBSCRIPTION_IDENTIFIER_AVAILABLE: u8 = 0x29;
    /// Shared Subscription Available (Byte).
    pub const SHARED_SUBSCRIPTION_AVAILABLE: u8 = 0x2A;
}

/// The data type of a property's value (MQTT 5.0 section 1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueType {
    Byte,
    TwoByte,
    FourByte,
    VarInt,
    String,
    Binary,
    StringPair,
}

/// The specification's name and value type of property `id`, if MQTT 5.0 defines it.
pub(crate) const fn info(id: u8) -> Option<(&'static str, ValueType)> {
    use ValueType::*;
    Some(match id {
        id::PAYLOAD_FORMAT_INDICATOR => ("Payload Format Indicator", Byte),
        id::MESSAGE_EXPIRY_INTERVAL => ("Message Expiry Interval", FourByte),
        id::CONTENT_TYPE => ("Content Type", String),
        id::RESPONSE_TOPIC => ("Response Topic", String),
        id::CORRELATION_DATA => ("Correlation Data", Binary),
        id::SUBSCRIPTION_IDENTIFIER => ("Subscription Identifier", VarInt),
        id::SESSION_EXPIRY_INTERVAL => ("Session Expiry Interval", FourByte),
        id::ASSIGNED_CLIENT_IDENTIFIER => ("Assigned Client Identifier", String),
        id::SERVER_KEEP_ALIVE => ("Server Keep Alive", TwoByte),
        id::AUTHENTICATION_METHOD => ("Authentication Method", String),
        id::AUTHENTICATION_DATA => ("Authentication Data", Binary),
        id::REQUEST_PROBLEM_INFORMATION => ("Request Problem Information", Byte),
        id::WILL_DELAY_INTERVAL => ("Will Delay Interval", FourByte),
        id::REQUEST_RESPONSE_INFORMATION => ("Request Response Information", Byte),
        id::RESPONSE_INFORMATION => ("Response Information", String),
        id::SERVER_REFERENCE => ("Server Reference", String),
        id::REASON_STRING => ("Reason String", String),
        id::RECEIVE_MAXIMUM => ("Receive Maximum", TwoByte),
        id::TOPIC_ALIAS_MAXIMUM => ("Topic Alias Maximum", TwoByte),
        id::TOPIC_ALIAS => ("Topic Alias", TwoByte),
        id::MAXIMUM_QOS => ("Maximum QoS", Byte),
        id::RETAIN_AVAILABLE => ("Retain Available", Byte),
        id::USER_PROPERTY => ("User Property", StringPair),
        id::MAXIMUM_PACKET_SIZE => ("Maximum Packet Size", FourByte),
        id::WILDCARD_SUBSCRIPTION_AVAILABLE => ("Wildcard Subscription Available", Byte),
        id::SUBSCRIPTION_IDENTIFIER_AVAILABLE => ("Subscription Identifier Available", Byte),
        id::SHARED_SUBSCRIPTION_AVAILABLE => ("Shared Subscription Available", Byte),
        _ => return None,
    })
}

/// The name of property `id`, for messages.
#[must_use]
pub fn name(id: u8) -> &'static str {
    match info(id) {
        Some((name, _)) => name,
        None => "unknown property",
    }
}

/// Reads a property identifier (a Variable Byte Integer) and checks that MQTT 5.0 defines
/// it; an unknown identifier is a Malformed Packet (section 2.2.2.2).
pub(crate) fn read_id(r: &mut Reader<'_>) -> Result<u8, DecodeError> {
    let id = r.varint("property identifier")?;
    match u8::try_from(id) {
        Ok(id) if info(id).is_some() => Ok(id),
        _ => Err(DecodeErrorKind::UnknownProperty { id }.into()),
    }
}

/// How many bytes the value of property `id` takes at the front of `data`; `None` when
/// `data` is too short or `id` is unknown. Used to walk property blocks that were
/// validated when decoded.
pub(crate) fn value_len(id: u8, data: &[u8]) -> Option<usize> {
    let prefixed = |at: usize| -> Option<usize> {
        let b = data.get(at..at + 2)?;
        Some(2 + usize::from(u16::from_be_bytes([b[0], b[1]])))
    };
    let n = match info(id)?.1 {
        ValueType::Byte => 1,
        ValueType::TwoByte => 2,
        ValueType::FourByte => 4,
        ValueType::VarInt => 1 + data.iter().take(4).position(|b| b & 0x80 == 0)?,
        ValueType::String | ValueType::Binary => prefixed(0)?,
        ValueType::StringPair => {
            let first = prefixed(0)?;
            first + prefixed(first)?
        }
    };
    (n <= data.len()).then_some(n)
}
