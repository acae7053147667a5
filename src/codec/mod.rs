//! The streaming codec over the owned packets: the [`Decoder`] that splits packets off a
//! connection's receive buffer, the [`Encoder`] that appends them to its send buffer, and
//! their tokio-util traits.

#[cfg(feature = "alloc")]
mod decoder;
#[cfg(feature = "alloc")]
mod encoder;
#[cfg(feature = "tokio-util")]
mod tokio_codec;

#[cfg(feature = "alloc")]
pub use decoder::Decoder;
#[cfg(feature = "alloc")]
pub use encoder::Encoder;
#[cfg(feature = "tokio-util")]
pub use tokio_codec::CodecError;

/// The largest packet the protocol allows (re-exported from the wire layer, where the fixed
/// header checks it).
pub use crate::wire::MAX_PACKET_SIZE;
