//! `tokio_util::codec` for mqttwire's [`Decoder`] and [`Encoder`] (feature `tokio-util`).
//!
//! The inherent [`Decoder::decode`] already has the contract of
//! [`tokio_util::codec::Decoder::decode`], so the trait implementations only forward to the
//! inherent methods and put their errors into [`CodecError`], which tokio-util's traits
//! need (`Error: From<std::io::Error>`).
//!
//! The trait methods have the same names as the inherent ones, and method-call syntax
//! (`decoder.decode(&mut buf)`) always picks the inherent method. Reach the trait version
//! through tokio-util itself (`FramedRead`, `FramedWrite`, `Framed`), or with
//! fully qualified syntax: `<Decoder as tokio_util::codec::Decoder>::decode(&mut decoder,
//! &mut buf)`, or a function generic over the trait.

use super::{Decoder, Encoder};
use crate::error::{DecodeError, EncodeError};
use crate::packet::Packet;
use bytes::BytesMut;
use std::io;

/// The error of the `tokio_util::codec` implementations of [`Decoder`] and [`Encoder`]:
/// the transport failed, or a packet could not be decoded or encoded. Its `Display` and
/// `source` are those of the error it holds.
///
/// After any error the connection must close. A [`Decode`](CodecError::Decode) error names
/// the reason code to close it with ([`DecodeError::reason_code`]; hand it to the session
/// with `handle_decode_error`); an [`Io`](CodecError::Io) error means the transport is gone
/// (the session's `handle_connection_lost`).
///
/// ```
/// use bytes::BytesMut;
/// use mqttwire::codec::CodecError;
/// use mqttwire::{Decoder, ProtocolVersion, ReasonCode};
/// use tokio_util::codec::Decoder as _;
///
/// // A PUBLISH whose two QoS bits are both set.
/// let mut buf = BytesMut::from(&[0x36, 0x06, 0x00, 0x01, b'a', 0x00, 0x01, 0x00][..]);
/// let mut decoder = Decoder::new(ProtocolVersion::V5);
/// // Fully qualified: `decoder.decode(&mut buf)` would call the inherent method.
/// let err = <Decoder as tokio_util::codec::Decoder>::decode(&mut decoder, &mut buf).unwrap_err();
/// let CodecError::Decode(err) = err else { panic!("{err:?}") };
/// assert_eq!(err.reason_code(), ReasonCode::MALFORMED_PACKET);
/// assert_eq!(err.rule(), Some("MQTT-3.3.1-4"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// Reading or writing the transport failed, or the stream ended in the middle of a
    /// packet (kind [`UnexpectedEof`](io::ErrorKind::UnexpectedEof), from `decode_eof`).
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The received bytes are not a valid packet: close the connection, in MQTT 5.0 with a
    /// DISCONNECT carrying the error's reason code.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A packet to send cannot be encoded at the encoder's protocol version and maximum
    /// packet size. Nothing was written.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// Decodes [`Packet`]s for tokio-util's `FramedRead` and `Framed` by forwarding to the
/// inherent [`Decoder::decode`]: `Ok(None)` until a whole packet is buffered, with the
/// packet's size checked against the maximum at its fixed header, before the buffer is
/// grown for it.
///
/// ```
/// use bytes::BytesMut;
/// use mqttwire::{Decoder, Packet, ProtocolVersion};
///
/// // Generic over the trait, so `decode` is the trait's.
/// fn next<D: tokio_util::codec::Decoder>(d: &mut D, buf: &mut BytesMut) -> Option<D::Item> {
///     d.decode(buf).ok().flatten()
/// }
///
/// let mut decoder = Decoder::new(ProtocolVersion::V3_1_1);
/// let mut buf = BytesMut::from(&[0x30, 0x05, 0x00, 0x01, b'a'][..]); // half a PUBLISH
/// assert_eq!(next(&mut decoder, &mut buf), None);
/// buf.extend_from_slice(b"hi");
/// let Some(Packet::Publish(publish)) = next(&mut decoder, &mut buf) else { panic!() };
/// assert_eq!((publish.topic.as_str(), &publish.payload[..]), ("a", &b"hi"[..]));
/// ```
impl tokio_util::codec::Decoder for Decoder {
    type Item = Packet;
    type Error = CodecError;

    /// Forwards to the inherent [`Decoder::decode`].
    #[inline]
    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Packet>, CodecError> {
        Ok(Decoder::decode(self, buf)?)
    }

    /// At the end of the stream: the last whole packet if one is buffered, `Ok(None)` when
    /// the buffer is empty, and [`CodecError::Io`] with kind
    /// [`UnexpectedEof`](io::ErrorKind::UnexpectedEof) when the stream ended in the middle
    /// of a packet. That is tokio-util's default behaviour, with a more precise error.
    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Packet>, CodecError> {
        if let Some(packet) = Decoder::decode(self, buf)? {
            return Ok(Some(packet));
        }
        if buf.is_empty() {
            return Ok(None);
        }
        let missing = match self.bytes_needed(buf) {
            Some(n) => alloc::format!("{n} more bytes"),
            None => "the rest of its fixed header".into(),
        };
        Err(CodecError::Io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            alloc::format!(
                "the stream ended in the middle of a packet: {} bytes buffered, {missing} needed",
                buf.len()
            ),
        )))
    }
}

/// Encodes [`Packet`]s for tokio-util's `FramedWrite` and `Framed` by forwarding to the
/// inherent [`Encoder::encode`].
///
/// ```
/// use bytes::BytesMut;
/// use mqttwire::{Encoder, Packet, PacketId, ProtocolVersion, PubAck};
/// use tokio_util::codec::Encoder as _;
///
/// let mut encoder = Encoder::new(ProtocolVersion::V5);
/// let mut buf = BytesMut::new();
/// let ack = Packet::PubAck(PubAck::new(PacketId::new(7).unwrap()));
/// // `encoder.encode(&ack, &mut buf)` would call the inherent method, which returns the size.
/// tokio_util::codec::Encoder::encode(&mut encoder, ack, &mut buf).unwrap();
/// assert_eq!(&buf[..], [0x40, 0x02, 0x00, 0x07]);
/// ```
impl tokio_util::codec::Encoder<Packet> for Encoder {
    type Error = CodecError;

    /// Forwards to the inherent [`Encoder::encode`]: on error nothing is written.
    #[inline]
    fn encode(&mut self, packet: Packet, buf: &mut BytesMut) -> Result<(), CodecError> {
        Encoder::encode(self, &packet, buf)?;
        Ok(())
    }
}

/// Encodes borrowed [`Packet`]s, as the `Encoder<Packet>` implementation does owned ones,
/// for a caller that keeps the packet (to trace it, or to send it again).
impl tokio_util::codec::Encoder<&Packet> for Encoder {
    type Error = CodecError;

    /// Forwards to the inherent [`Encoder::encode`]: on error nothing is written.
    #[inline]
    fn encode(&mut self, packet: &Packet, buf: &mut BytesMut) -> Result<(), CodecError> {
        Encoder::encode(self, packet, buf)?;
        Ok(())
    }
}
