//! The encoder: one per connection, writing packets into the connection's send buffer.

use crate::error::EncodeError;
use crate::packet::Packet;
use crate::types::ProtocolVersion;
use bytes::BytesMut;

/// Encodes packets at one protocol version into a `BytesMut`, reserving each packet's exact
/// size first so that writing never reallocates, and, once the peer's Maximum Packet Size is
/// known, keeping every packet within it.
///
/// ```
/// use bytes::BytesMut;
/// use mqttwire::{Encoder, Packet, ProtocolVersion};
///
/// let encoder = Encoder::new(ProtocolVersion::V5);
/// let mut buf = BytesMut::new();
/// encoder.encode(&Packet::PingReq, &mut buf).unwrap();
/// assert_eq!(&buf[..], [0xC0, 0x00]);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Encoder {
    version: ProtocolVersion,
    max_packet_size: Option<usize>,
}

impl Encoder {
    /// An encoder for `version` with no size limit beyond the protocol's.
    #[must_use]
    pub fn new(version: ProtocolVersion) -> Self {
        Self {
            version,
            max_packet_size: None,
        }
    }

    /// Keeps every packet within the peer's Maximum Packet Size, leaving out Reason Strings
    /// and User Properties where MQTT 5.0 allows it (see [`Packet::encode_with_limit`]).
    #[must_use]
    pub fn with_max_packet_size(mut self, max_packet_size: usize) -> Self {
        self.max_packet_size = Some(max_packet_size);
        self
    }

    /// The protocol version.
    #[must_use]
    #[inline]
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// The peer's Maximum Packet Size, if one was set.
    #[inline]
    pub(crate) fn max_packet_size(&self) -> Option<usize> {
        self.max_packet_size
    }

    /// Appends `packet` to `buf` and returns the bytes written. On error nothing is written.
    #[inline]
    pub fn encode(&self, packet: &Packet, buf: &mut BytesMut) -> Result<usize, EncodeError> {
        packet.append(self, buf)
    }
}
