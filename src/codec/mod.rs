//! Wire-level building blocks: Variable Byte Integers, the bounded reader, write helpers,
//! the fixed header, and the streaming [`Decoder`] and [`Encoder`].

#[cfg(feature = "alloc")]
mod decoder;
#[cfg(feature = "alloc")]
mod encoder;
pub(crate) mod fixed_header;
pub(crate) mod reader;
#[cfg(feature = "tokio-util")]
mod tokio_codec;
pub(crate) mod varint;
pub(crate) mod writer;

#[cfg(feature = "alloc")]
pub use decoder::Decoder;
#[cfg(feature = "alloc")]
pub use encoder::Encoder;
#[cfg(feature = "tokio-util")]
pub use tokio_codec::CodecError;

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
