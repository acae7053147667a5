//! The streaming decoder: one per connection, fed from the connection's receive buffer.

use crate::error::DecodeError;
use crate::packet::{check_first_packet, decode_owned, decode_owned_in, Packet};
use crate::types::PacketType;
use crate::types::ProtocolVersion;
use crate::wire::fixed_header::FixedHeader;
use alloc::vec::Vec;
use bytes::{Buf, Bytes, BytesMut};

/// Packets this short, PUBLISH aside, hold no string or binary field: a 5.0 acknowledgement
/// with a reason code and Property Length 0 takes six bytes, and the shortest packet with a
/// non-empty field but a PUBLISH (an UNSUBSCRIBE of a one-character filter) seven. The
/// `Decoder` decodes them in place; a field it did meet would be copied, never lost.
const SLICE_FREE: usize = 6;

/// Decodes packets one after another from a connection's receive buffer, with the contract
/// of tokio-util's `Decoder`: `Ok(Some(packet))` when a whole packet was there (its bytes
/// are split off the buffer), `Ok(None)` when more bytes are needed (nothing is consumed),
/// `Err` when the stream is unusable and the connection must close.
///
/// The packet's whole size is checked against the maximum as soon as its fixed header is
/// in: a 5-byte header that claims 256 MiB fails at once. The header is remembered, so a
/// packet that arrives in pieces is not parsed again for each piece. Decoded packets share
/// the buffer's memory: a topic or payload is a slice of the frame, not a copy.
///
/// # Memory
///
/// The buffer grows with what has arrived, never to the size a header claims: a peer that
/// sends a header claiming 1 MiB and then nothing costs about 4 KiB, not 1 MiB. Whenever
/// `decode` returns `Ok(None)` with part of a packet in `buf`, `buf` has spare capacity for
/// at least 2 KiB more bytes, or for the rest of the packet when less is missing (before
/// the fixed header is complete, the packet may be as large as the maximum). So a caller
/// that reads into spare capacity, as `tokio::io::AsyncReadExt::read_buf` and tokio-util's
/// `FramedRead` do, always has room to read into. When the decoder has to grow the buffer
/// for that, and cannot reuse the buffer's own allocation, it allocates exactly
/// `len + min(missing, max(len, 4 KiB))` bytes, `len` being the bytes of the packet
/// buffered and `missing` the rest of it: at most `max(2 × len, len + 4 KiB)`, twice the
/// bytes received plus 4 KiB, and never more than the packet's size, so never more than the
/// maximum packet size. Growth doubles, so the bytes copied while a large packet arrives in
/// small pieces come to at most about twice its size. The decoder never shrinks a buffer
/// the caller made larger, and leaves an empty buffer alone: room for a new packet's first
/// bytes is the caller's to give.
///
/// ```
/// use bytes::BytesMut;
/// use mqttwire::{Decoder, Packet, ProtocolVersion};
///
/// let mut decoder = Decoder::new(ProtocolVersion::V3_1_1);
/// let mut buf = BytesMut::new();
///
/// buf.extend_from_slice(&[0x30, 0x05, 0x00, 0x01]); // half a PUBLISH
/// assert_eq!(decoder.decode(&mut buf).unwrap(), None);
/// assert_eq!(decoder.bytes_needed(&buf), Some(3));
///
/// buf.extend_from_slice(&[b'a', b'h', b'i', 0xC0, 0x00]); // its end, then a PINGREQ
/// let Some(Packet::Publish(publish)) = decoder.decode(&mut buf).unwrap() else { panic!() };
/// assert_eq!((publish.topic.as_str(), &publish.payload[..]), ("a", &b"hi"[..]));
/// assert_eq!(decoder.decode(&mut buf).unwrap(), Some(Packet::PingReq));
/// assert!(buf.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct Decoder {
    version: Option<ProtocolVersion>,
    max_packet_size: usize,
    strict_strings: bool,
    /// The fixed header of a packet whose body has not fully arrived.
    pending: Option<FixedHeader>,
    /// While that packet is pending, a buffer shorter than this needs nothing: the packet
    /// is incomplete and the buffer had room for the next read when last looked at (its
    /// capacity only grows while the caller appends). 0 when no packet is pending.
    quiet_below: usize,
}

impl Decoder {
    /// The maximum packet size a new decoder accepts: 1 MiB. Raise it with
    /// [`with_max_packet_size`](Self::with_max_packet_size) to what the connection
    /// announces (the Maximum Packet Size property in MQTT 5.0).
    pub const DEFAULT_MAX_PACKET_SIZE: usize = 1 << 20;

    /// A decoder for a connection that speaks `version`, such as a client's.
    #[must_use]
    pub fn new(version: ProtocolVersion) -> Self {
        Self {
            version: Some(version),
            max_packet_size: Self::DEFAULT_MAX_PACKET_SIZE,
            strict_strings: false,
            pending: None,
            quiet_below: 0,
        }
    }

    /// A decoder for the server side of a connection: it learns the version from the
    /// CONNECT packet, and refuses any other packet before it ([MQTT-3.1.0-1]).
    #[must_use]
    pub fn for_server() -> Self {
        Self {
            version: None,
            ..Self::new(ProtocolVersion::V5)
        }
    }

    /// Sets the largest packet accepted, fixed header included; larger ones fail with
    /// [`PacketTooLarge`](crate::DecodeErrorKind::PacketTooLarge) (reason code 0x95) before their
    /// body is buffered. [`MAX_PACKET_SIZE`](crate::MAX_PACKET_SIZE) lifts every limit but
    /// the protocol's.
    #[must_use]
    pub fn with_max_packet_size(mut self, max_packet_size: usize) -> Self {
        self.max_packet_size = max_packet_size;
        self
    }

    /// Refuses strings holding control characters (U+0001 to U+001F, U+007F to U+009F) or
    /// Unicode non-characters, which MQTT 5.0 section 1.5.4 lets a receiver treat as a
    /// Malformed Packet. Off by default: such strings are well-formed.
    #[must_use]
    pub fn with_strict_strings(mut self, strict: bool) -> Self {
        self.strict_strings = strict;
        self
    }

    /// The protocol version, once known.
    #[must_use]
    pub fn version(&self) -> Option<ProtocolVersion> {
        self.version
    }

    /// The largest packet accepted.
    #[must_use]
    pub fn max_packet_size(&self) -> usize {
        self.max_packet_size
    }

    /// Decodes the next packet from the front of `buf`.
    ///
    /// After a CONNECT, the decoder speaks the protocol level the CONNECT declares. After an
    /// error the connection must be closed: the decoder's position in the stream is lost.
    #[inline]
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Packet>, DecodeError> {
        // While a packet trickles in, most calls find its body still short and the buffer
        // still roomy: answer those without touching anything else.
        if buf.len() < self.quiet_below {
            return Ok(None);
        }
        self.decode_available(buf)
    }

    /// Everything but the waiting case: parse a new header, or split off a complete packet.
    #[inline(never)]
    fn decode_available(&mut self, buf: &mut BytesMut) -> Result<Option<Packet>, DecodeError> {
        let header = match self.pending {
            Some(header) => header,
            None => {
                if self.version.is_none() {
                    check_first_packet(buf)?;
                }
                match FixedHeader::parse(buf, self.version, self.max_packet_size)? {
                    Some(header) => header,
                    None => return Ok(self.await_header(buf)),
                }
            }
        };
        let total = header.total_len();
        if buf.len() < total {
            let Some(_) = header.needed(buf)? else {
                // A CONNECT with bad flags, refused at its protocol level byte, a few bytes
                // on: looked at as they arrive, with room kept as for a header.
                return Ok(self.await_header(buf));
            };
            self.pending = Some(header);
            if !has_room(buf, total) {
                make_room(buf, total);
            }
            // Until the buffer holds `total` bytes, or so many that the room left is short.
            self.quiet_below = if buf.capacity() >= total {
                total
            } else {
                total.min(buf.capacity() + 1 - READ_ROOM)
            };
            return Ok(None);
        }
        self.pending = None;
        self.quiet_below = 0;
        if total <= SLICE_FREE && header.packet_type != PacketType::Publish {
            // Too short for a string or binary field (a PUBLISH is the one type that fits a
            // one-byte topic in five bytes, a CONNECT is longer): decoded in place, no frame
            // split off and freed.
            let packet = decode_in_place(&buf[..total], &header, self.version, self.strict_strings);
            buf.advance(total);
            return packet;
        }
        let frame = buf.split_to(total).freeze();
        let packet = decode_owned(&frame, &header, self.version, self.strict_strings, Some);
        if let Ok(Some(Packet::Connect(connect))) = &packet {
            self.version = Some(connect.protocol_version);
        }
        packet
    }

    /// Waits for more of a fixed header (or of what decides a CONNECT's bad flags): the
    /// packet may be as large as the maximum, so the buffer keeps room for a read.
    fn await_header(&self, buf: &mut BytesMut) -> Option<Packet> {
        let total = self.max_packet_size.max(buf.len() + 1);
        if !buf.is_empty() && !has_room(buf, total) {
            make_room(buf, total);
        }
        None
    }

    /// How many more bytes `buf` needs before the next packet is complete: `Some(0)` when
    /// it is, `None` while the fixed header itself is incomplete (at least one more byte,
    /// as for a CONNECT with bad fixed header flags until its protocol level byte, which
    /// picks the rule it is refused under) or would be refused by [`decode`](Self::decode).
    #[must_use]
    pub fn bytes_needed(&self, buf: &[u8]) -> Option<usize> {
        let header = match self.pending {
            Some(header) => header,
            None => {
                if self.version.is_none() {
                    check_first_packet(buf).ok()?;
                }
                FixedHeader::parse(buf, self.version, self.max_packet_size).ok()??
            }
        };
        if buf.len() < header.total_len() {
            return header.needed(buf).ok()?;
        }
        Some(0)
    }
}

/// Decodes a packet of no string or binary field from the receive buffer itself. Not
/// inlined: the general path stays the one `decode_available` holds.
#[inline(never)]
fn decode_in_place(
    bytes: &[u8],
    header: &FixedHeader,
    version: Option<ProtocolVersion>,
    strict_strings: bool,
) -> Result<Option<Packet>, DecodeError> {
    decode_owned_in(bytes, &Bytes::new(), header, version, strict_strings, Some)
}

/// While a packet is incomplete, `buf` keeps room for at least this many more bytes (or
/// for the rest of the packet, when less is missing), so that a caller reading into its
/// spare capacity reads in chunks of a useful size.
const READ_ROOM: usize = 2 * 1024;

/// The least a buffer that must grow is grown by (unless less of the packet is missing).
/// Twice [`READ_ROOM`], so that a buffer just grown takes at least `READ_ROOM` bytes
/// before it must grow again.
const MIN_GROWTH: usize = 2 * READ_ROOM;

/// Whether `buf`, holding the start of a `total`-byte packet, has the room
/// [`READ_ROOM`] asks for.
#[inline]
fn has_room(buf: &BytesMut, total: usize) -> bool {
    buf.capacity() >= total.min(buf.len() + READ_ROOM)
}

/// Grows `buf`, which holds the start of a `total`-byte packet (checked against the
/// maximum), by `more = min(missing, max(len, MIN_GROWTH))`: doubling, for amortised linear
/// copying, but bounded by what has arrived rather than by what the header claims, and
/// never past the packet's end. `BytesMut::reserve` would round an allocation up to twice
/// the old capacity, past the packet's end; this reuses the buffer's own allocation when it
/// can, and otherwise grows it to exactly `len + more` bytes.
#[cold]
#[inline(never)]
fn make_room(buf: &mut BytesMut, total: usize) {
    let len = buf.len();
    let more = (total - len).min(len.max(MIN_GROWTH));
    if buf.try_reclaim(more) {
        return;
    }
    // As a `Vec` the allocation is grown in place where the allocator can (`realloc`):
    // allocating afresh at each doubling would copy every byte again and, for a large
    // packet, fault in fresh pages each time (1.3 ms instead of 55 µs for 1 MiB). A
    // buffer still shared with earlier frames is copied out first, at most once per
    // packet. `Bytes` is the way back to a `BytesMut` that copies nothing.
    let mut vec = Vec::from(core::mem::take(buf));
    vec.reserve_exact(more);
    *buf = BytesMut::from(bytes::Bytes::from(vec));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DecodeErrorKind;
    use crate::packet::PubAck;
    use crate::types::PacketId;

    fn buf(bytes: &[u8]) -> BytesMut {
        BytesMut::from(bytes)
    }

    /// A CONNECT claiming the largest body with bad fixed header flags is waited for only
    /// up to its protocol level byte, then refused with the rule of that level (3.1.1
    /// [MQTT-2.2.2-1]): the buffer never grows toward the claimed size. Malformed comes
    /// before too large, whatever the maximum packet size; with flags 0000 the same header
    /// is too large at once.
    #[test]
    fn connect_with_bad_flags_is_refused_at_its_level_not_its_end_mqtt_2_2_2_1() {
        let header = [0x1F, 0xFF, 0xFF, 0xFF, 0x7F];
        for max in [Decoder::DEFAULT_MAX_PACKET_SIZE, crate::MAX_PACKET_SIZE] {
            let mut decoder = Decoder::for_server().with_max_packet_size(max);
            let mut rx = buf(&header);
            assert_eq!(decoder.decode(&mut rx), Ok(None));
            rx.extend_from_slice(&[0x00, 0x04, b'M', b'Q', b'T', b'T']);
            assert_eq!(decoder.decode(&mut rx), Ok(None));
            assert!(rx.capacity() <= 2 * MIN_GROWTH, "{}", rx.capacity());
            rx.extend_from_slice(&[0x04]);
            let err = decoder.decode(&mut rx).unwrap_err();
            assert_eq!(err.kind(), &DecodeErrorKind::InvalidFlags { flags: 0x0F });
            assert_eq!(err.rule(), Some("MQTT-2.2.2-1"));
        }
        let err = Decoder::for_server()
            .decode(&mut buf(&[0x10, 0xFF, 0xFF, 0xFF, 0x7F]))
            .unwrap_err();
        assert_eq!(err.reason_code(), crate::ReasonCode::PACKET_TOO_LARGE);
    }

    /// Short packets (acknowledgements, CONNACK without properties) keep the decoder's
    /// rules: such a packet before CONNECT is refused ([MQTT-3.1.0-1]), one above the
    /// maximum packet size is too large, and one behind a pending packet waits its turn.
    #[test]
    fn short_packets_keep_the_decoders_rules() {
        let ack = [0x40, 0x02, 0x00, 0x07];
        let connack = [0x20, 0x03, 0x00, 0x00, 0x00];
        for short in [&ack[..], &connack] {
            let err = Decoder::for_server().decode(&mut buf(short)).unwrap_err();
            assert_eq!(err.kind(), &DecodeErrorKind::ExpectedConnect);

            let max = short.len() - 1;
            let mut small = Decoder::new(ProtocolVersion::V5).with_max_packet_size(max);
            let err = small.decode(&mut buf(short)).unwrap_err();
            assert!(
                matches!(err.kind(), &DecodeErrorKind::PacketTooLarge { size, max: m } if size == short.len() && m == max),
                "{err}"
            );
            // Exactly at the maximum: taken.
            let mut tight = Decoder::new(ProtocolVersion::V5).with_max_packet_size(short.len());
            assert!(tight.decode(&mut buf(short)).unwrap().is_some());
        }

        // A PUBLISH whose body has not all arrived, then the rest of it and an ack.
        let mut d = Decoder::new(ProtocolVersion::V3_1_1);
        let mut rx = buf(&[0x30, 0x04, 0x00, 0x01]);
        assert_eq!(d.decode(&mut rx).unwrap(), None);
        rx.extend_from_slice(b"ax");
        rx.extend_from_slice(&ack);
        assert!(matches!(
            d.decode(&mut rx).unwrap(),
            Some(Packet::Publish(_))
        ));
        let want = Packet::PubAck(PubAck::new(PacketId::new(7).unwrap()));
        assert_eq!(d.decode(&mut rx).unwrap(), Some(want));
        assert!(rx.is_empty());
    }
}
