//! Validated value types: protocol version, QoS, packet identifiers, strings, topics,
//! variable byte integers and reason codes.

mod packet_id;
mod packet_type;
mod qos;
pub mod reason_code;
pub(crate) mod string;
pub(crate) mod topic;
pub(crate) mod varint;
mod version;

pub use packet_id::PacketId;
pub use packet_type::PacketType;
pub use qos::{QoS, QosPid};
#[cfg(feature = "alloc")]
pub use string::MqttString;
pub use string::{InvalidString, MqttStr};
pub use topic::{InvalidTopic, TopicStr};
#[cfg(feature = "alloc")]
pub use topic::{TopicFilter, TopicName};
pub use varint::{SubscriptionId, VarInt};
pub use version::ProtocolVersion;
