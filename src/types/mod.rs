//! Validated value types: protocol version, QoS, packet identifiers, strings, topics,
//! variable byte integers and reason codes.

mod packet_id;
mod qos;
pub mod reason_code;
pub(crate) mod string;
pub(crate) mod topic;
mod varint;
mod version;

pub use packet_id::PacketId;
pub use qos::{QoS, QosPid};
pub use string::{InvalidString, MqttStr, MqttString};
pub use topic::{InvalidTopic, TopicFilter, TopicName};
pub use varint::{SubscriptionId, VarInt};
pub use version::ProtocolVersion;
