//! The wire format's building blocks, below the packet types: Variable Byte Integers, the
//! fixed header, the bounded reader and the write helpers. Nothing here knows a packet
//! but by its [`PacketType`](crate::PacketType).

pub(crate) mod fixed_header;
pub(crate) mod reader;
pub(crate) mod varint;
pub(crate) mod writer;

/// The largest packet the protocol allows: a 5-byte fixed header and a Remaining Length of
/// 268,435,455 bytes.
pub const MAX_PACKET_SIZE: usize = 1 + 4 + crate::types::VarInt::MAX as usize;

/// How much optional diagnostic content an encoder may leave out to fit the peer's Maximum
/// Packet Size. MQTT 5.0 lets a sender drop the Reason String and the User Properties of
/// CONNACK, the four publish acknowledgements, SUBACK, UNSUBACK, DISCONNECT and AUTH, and
/// nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Trim {
    Nothing,
    ReasonString,
    ReasonStringAndUserProperties,
}
