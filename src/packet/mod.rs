//! The fifteen MQTT control packets, one module each, in one model for MQTT 3.1, 3.1.1 and
//! 5.0: fields only MQTT 5.0 has are property sets and reason codes that stay empty or at
//! their success value below 5.0, and encoding anything else below 5.0 is an error.

mod ack;
mod auth;
mod connack;
mod connect;
mod disconnect;
mod ping;
mod publish;
mod suback;
mod subscribe;
#[cfg(test)]
pub(crate) mod test_util;
mod unsuback;
mod unsubscribe;

pub use ack::{PubAck, PubComp, PubRec, PubRel};
pub use auth::Auth;
pub use connack::ConnAck;
pub use connect::{Connect, Will};
pub use disconnect::Disconnect;
pub use publish::Publish;
pub use suback::SubAck;
pub use subscribe::{RetainHandling, Subscribe, Subscription, SubscriptionOptions};
pub use unsuback::UnsubAck;
pub use unsubscribe::Unsubscribe;

use crate::codec::fixed_header::FixedHeader;
use crate::codec::reader::Reader;
use crate::codec::writer::{put_small, Cursor, Sink, Staged};
use crate::codec::{varint, Encoder, Trim, MAX_PACKET_SIZE};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::types::{PacketId, ProtocolVersion, VarInt};
use alloc::boxed::Box;
use bytes::{BufMut, Bytes, BytesMut};

/// The type of a control packet: the upper four bits of its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PacketType {
    /// 1: client request to connect.
    Connect = 1,
    /// 2: connect acknowledgement.
    ConnAck = 2,
    /// 3: publish message.
    Publish = 3,
    /// 4: publish acknowledgement (QoS 1).
    PubAck = 4,
    /// 5: publish received (QoS 2, part 1).
    PubRec = 5,
    /// 6: publish release (QoS 2, part 2).
    PubRel = 6,
    /// 7: publish complete (QoS 2, part 3).
    PubComp = 7,
    /// 8: subscribe request.
    Subscribe = 8,
    /// 9: subscribe acknowledgement.
    SubAck = 9,
    /// 10: unsubscribe request.
    Unsubscribe = 10,
    /// 11: unsubscribe acknowledgement.
    UnsubAck = 11,
    /// 12: ping request.
    PingReq = 12,
    /// 13: ping response.
    PingResp = 13,
    /// 14: disconnect notification.
    Disconnect = 14,
    /// 15: authentication exchange (MQTT 5.0 only).
    Auth = 15,
}

impl PacketType {
    /// The type for its four-bit value; `None` for 0, which is reserved.
    #[must_use]
    pub const fn from_bits(bits: u8) -> Option<Self> {
        use PacketType::*;
        Some(match bits {
            1 => Connect,
            2 => ConnAck,
            3 => Publish,
            4 => PubAck,
            5 => PubRec,
            6 => PubRel,
            7 => PubComp,
            8 => Subscribe,
            9 => SubAck,
            10 => Unsubscribe,
            11 => UnsubAck,
            12 => PingReq,
            13 => PingResp,
            14 => Disconnect,
            15 => Auth,
            _ => return None,
        })
    }

    /// The upper-case name the specification uses, such as `PUBLISH`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        use PacketType::*;
        match self {
            Connect => "CONNECT",
            ConnAck => "CONNACK",
            Publish => "PUBLISH",
            PubAck => "PUBACK",
            PubRec => "PUBREC",
            PubRel => "PUBREL",
            PubComp => "PUBCOMP",
            Subscribe => "SUBSCRIBE",
            SubAck => "SUBACK",
            Unsubscribe => "UNSUBSCRIBE",
            UnsubAck => "UNSUBACK",
            PingReq => "PINGREQ",
            PingResp => "PINGRESP",
            Disconnect => "DISCONNECT",
            Auth => "AUTH",
        }
    }

    /// The fixed header flags this type requires ([MQTT-2.1.3-1], [MQTT-2.2.2-1] in 3.1.1);
    /// `None` for PUBLISH, whose flags carry DUP, QoS and RETAIN.
    #[must_use]
    pub const fn required_flags(self) -> Option<u8> {
        match self {
            Self::Publish => None,
            Self::PubRel | Self::Subscribe | Self::Unsubscribe => Some(0b0010),
            _ => Some(0),
        }
    }
}

impl core::fmt::Display for PacketType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// An MQTT control packet.
///
/// Decode one with [`Packet::decode`] or a [`Decoder`](crate::Decoder); encode one with
/// [`Packet::encode`] (or [`Packet::encode_with_limit`] to respect the peer's Maximum
/// Packet Size) or an [`Encoder`].
///
/// ```
/// use bytes::BytesMut;
/// use mqttwire::{Packet, ProtocolVersion, Publish, TopicName};
///
/// let publish = Publish::new(TopicName::new("a/b").unwrap(), &b"hello"[..]);
/// let packet = Packet::Publish(publish);
/// let mut buf = BytesMut::new();
/// let written = packet.encode(ProtocolVersion::V3_1_1, &mut buf).unwrap();
/// assert_eq!(&buf[..], b"\x30\x0a\x00\x03a/bhello");
/// assert_eq!(written, packet.encoded_len(ProtocolVersion::V3_1_1).unwrap());
///
/// let (decoded, used) = Packet::decode(&buf.freeze(), ProtocolVersion::V3_1_1).unwrap();
/// assert_eq!((decoded, used), (packet, written));
/// ```
///
/// CONNECT is boxed: it is the largest packet by far and comes once per connection, so the
/// one allocation keeps `Packet` small for every other packet, which is then cheaper to
/// move. Every other packet decodes and encodes without allocating (SUBSCRIBE, SUBACK,
/// UNSUBSCRIBE and UNSUBACK allocate their list once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// CONNECT, boxed (see above); build one with `Packet::from(connect)`.
    Connect(Box<Connect>),
    /// CONNACK.
    ConnAck(ConnAck),
    /// PUBLISH.
    Publish(Publish),
    /// PUBACK.
    PubAck(PubAck),
    /// PUBREC.
    PubRec(PubRec),
    /// PUBREL.
    PubRel(PubRel),
    /// PUBCOMP.
    PubComp(PubComp),
    /// SUBSCRIBE.
    Subscribe(Subscribe),
    /// SUBACK.
    SubAck(SubAck),
    /// UNSUBSCRIBE.
    Unsubscribe(Unsubscribe),
    /// UNSUBACK.
    UnsubAck(UnsubAck),
    /// PINGREQ.
    PingReq,
    /// PINGRESP.
    PingResp,
    /// DISCONNECT.
    Disconnect(Disconnect),
    /// AUTH (MQTT 5.0 only).
    Auth(Auth),
}

/// The body encoding each packet type implements: size first (checking everything that can
/// make the packet unencodable), then writing, which cannot fail.
pub(crate) trait EncodeBody {
    /// The packet type, so that code generic over the body knows it without a `Packet`.
    const TYPE: PacketType;
    fn flags(&self) -> u8 {
        0
    }
    /// The first byte of the fixed header.
    fn first_byte(&self) -> u8 {
        (Self::TYPE as u8) << 4 | self.flags()
    }
    fn body_len(&self, version: ProtocolVersion, trim: Trim) -> Result<usize, EncodeError>;
    fn put_body<B: Sink + ?Sized>(&self, version: ProtocolVersion, trim: Trim, buf: &mut B);
    /// What [`put_body`](Self::put_body) leaves to [`Sink::put_payload`]: appended last.
    fn payload(&self) -> &[u8] {
        &[]
    }
}

macro_rules! dispatch {
    ($packet:expr, $p:ident => $body:expr, ping => $ping:expr) => {
        match $packet {
            Packet::Connect($p) => $body,
            Packet::ConnAck($p) => $body,
            Packet::Publish($p) => $body,
            Packet::PubAck($p) => $body,
            Packet::PubRec($p) => $body,
            Packet::PubRel($p) => $body,
            Packet::PubComp($p) => $body,
            Packet::Subscribe($p) => $body,
            Packet::SubAck($p) => $body,
            Packet::Unsubscribe($p) => $body,
            Packet::UnsubAck($p) => $body,
            Packet::Disconnect($p) => $body,
            Packet::Auth($p) => $body,
            Packet::PingReq | Packet::PingResp => $ping,
        }
    };
}

impl Packet {
    /// The packet's type.
    #[must_use]
    pub fn packet_type(&self) -> PacketType {
        match self {
            Self::Connect(_) => PacketType::Connect,
            Self::ConnAck(_) => PacketType::ConnAck,
            Self::Publish(_) => PacketType::Publish,
            Self::PubAck(_) => PacketType::PubAck,
            Self::PubRec(_) => PacketType::PubRec,
            Self::PubRel(_) => PacketType::PubRel,
            Self::PubComp(_) => PacketType::PubComp,
            Self::Subscribe(_) => PacketType::Subscribe,
            Self::SubAck(_) => PacketType::SubAck,
            Self::Unsubscribe(_) => PacketType::Unsubscribe,
            Self::UnsubAck(_) => PacketType::UnsubAck,
            Self::PingReq => PacketType::PingReq,
            Self::PingResp => PacketType::PingResp,
            Self::Disconnect(_) => PacketType::Disconnect,
            Self::Auth(_) => PacketType::Auth,
        }
    }

    /// Decodes the first packet of `input` at `version` and says how many bytes it used;
    /// the rest of `input` is left alone. A CONNECT is decoded at the protocol level its own
    /// bytes declare, whatever `version` says.
    ///
    /// Strings, topics, payloads and binary properties of the result are slices of `input`:
    /// nothing is copied. Input that ends before the packet does is an error of kind
    /// [`Incomplete`](DecodeErrorKind::Incomplete); to wait for more bytes instead, use a
    /// [`Decoder`](crate::Decoder). No size limit applies beyond the protocol's.
    pub fn decode(input: &Bytes, version: ProtocolVersion) -> Result<(Packet, usize), DecodeError> {
        // Ahead of the general decoder, whose frame a four-byte packet need not set up.
        if let Some(ack) = short_ack(input) {
            return Ok((ack, 4));
        }
        decode_one(input, Some(version), MAX_PACKET_SIZE, false)
    }

    /// Like [`Packet::decode`], for a byte slice: the packet's bytes are copied once into a
    /// new buffer that its fields then share.
    pub fn decode_slice(
        input: &[u8],
        version: ProtocolVersion,
    ) -> Result<(Packet, usize), DecodeError> {
        let header = FixedHeader::parse(input, Some(version), MAX_PACKET_SIZE)?
            .ok_or_else(|| incomplete(input, Some(version)))?;
        let frame = input
            .get(..header.total_len())
            .ok_or_else(|| incomplete(input, Some(version)))?;
        decode_one(
            &Bytes::copy_from_slice(frame),
            Some(version),
            MAX_PACKET_SIZE,
            false,
        )
    }

    /// Bytes the packet takes when encoded at `version`, or why it cannot be encoded there.
    /// A CONNECT is always encoded at its own `protocol_version`.
    pub fn encoded_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        self.size(version, Trim::Nothing).map(|(_, total)| total)
    }

    /// Encodes the packet at `version` into `buf` and returns the bytes written, exactly
    /// [`encoded_len`](Self::encoded_len). On error nothing is written. A CONNECT is always
    /// encoded at its own `protocol_version`.
    ///
    /// `buf` must have room for the whole packet; a growable buffer such as `BytesMut` or
    /// `Vec<u8>` always has, and reserving `encoded_len` first avoids any reallocation (the
    /// [`Encoder`] does that).
    pub fn encode<B: BufMut + ?Sized>(
        &self,
        version: ProtocolVersion,
        buf: &mut B,
    ) -> Result<usize, EncodeError> {
        self.fit(version, None)?.write(self, version, buf)
    }

    /// Encodes the packet so that it is no larger than `max_packet_size`, the peer's Maximum
    /// Packet Size. Where MQTT 5.0 allows it (CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP,
    /// SUBACK, UNSUBACK, DISCONNECT and AUTH), the Reason String is left out first, then the
    /// User Properties too ([MQTT-3.2.2-19], [MQTT-3.2.2-20], [MQTT-3.4.2-2] and the like);
    /// if the packet still does not fit, nothing is written and the error is
    /// [`EncodeError::PacketTooLarge`].
    pub fn encode_with_limit<B: BufMut + ?Sized>(
        &self,
        version: ProtocolVersion,
        max_packet_size: usize,
        buf: &mut B,
    ) -> Result<usize, EncodeError> {
        self.fit(version, Some(max_packet_size))?
            .write(self, version, buf)
    }

    /// Sizes the packet, leaving out what MQTT 5.0 lets a sender drop until it fits `max`.
    pub(crate) fn fit(
        &self,
        version: ProtocolVersion,
        max: Option<usize>,
    ) -> Result<Fitted, EncodeError> {
        let mut smallest = usize::MAX;
        for trim in [
            Trim::Nothing,
            Trim::ReasonString,
            Trim::ReasonStringAndUserProperties,
        ] {
            if trim > Trim::Nothing && !self.may_trim() {
                break;
            }
            let (body, total) = self.size(version, trim)?;
            if max.map_or(true, |max| total <= max) {
                return Ok(Fitted { trim, body, total });
            }
            smallest = smallest.min(total);
        }
        Err(EncodeError::PacketTooLarge {
            size: smallest,
            max: max.unwrap_or_default(),
        })
    }

    /// Appends the packet to `buf` (what [`Encoder::encode`](crate::Encoder::encode) does):
    /// one match on the packet, then sizing and writing specialised to its type. Every arm
    /// is a single call, so that this needs no frame of its own.
    pub(crate) fn append(
        &self,
        encoder: &Encoder,
        buf: &mut BytesMut,
    ) -> Result<usize, EncodeError> {
        match self {
            Packet::Connect(p) => append_body(self, &**p, encoder, buf),
            Packet::ConnAck(p) if p.properties.is_empty() => append_connack(self, p, encoder, buf),
            Packet::ConnAck(p) => append_body(self, p, encoder, buf),
            // Properties send a PUBLISH the general way at once.
            Packet::Publish(p) if p.properties.is_empty() => append_publish(self, p, encoder, buf),
            Packet::Publish(p) => append_body(self, p, encoder, buf),
            // The four-byte forms, most of the packets of a QoS 1 or 2 flow, need no sizing.
            Packet::PubAck(p) if p.is_short() => {
                append_short_ack(p.first_byte(), p.packet_id, encoder, buf)
            }
            Packet::PubRec(p) if p.is_short() => {
                append_short_ack(p.first_byte(), p.packet_id, encoder, buf)
            }
            Packet::PubRel(p) if p.is_short() => {
                append_short_ack(p.first_byte(), p.packet_id, encoder, buf)
            }
            Packet::PubComp(p) if p.is_short() => {
                append_short_ack(p.first_byte(), p.packet_id, encoder, buf)
            }
            Packet::PubAck(p) => append_body(self, p, encoder, buf),
            Packet::PubRec(p) => append_body(self, p, encoder, buf),
            Packet::PubRel(p) => append_body(self, p, encoder, buf),
            Packet::PubComp(p) => append_body(self, p, encoder, buf),
            Packet::Subscribe(p) => append_body(self, p, encoder, buf),
            Packet::SubAck(p) => append_body(self, p, encoder, buf),
            Packet::Unsubscribe(p) => append_body(self, p, encoder, buf),
            Packet::UnsubAck(p) => append_body(self, p, encoder, buf),
            Packet::Disconnect(p) => append_body(self, p, encoder, buf),
            Packet::Auth(p) => append_body(self, p, encoder, buf),
            Packet::PingReq | Packet::PingResp => append_ping(self, encoder, buf),
        }
    }

    /// A copy whose strings, topics, payloads and binary properties own their bytes instead
    /// of sharing the frame they were decoded from, so that keeping it (say, a small
    /// retained message) does not keep a large receive buffer alive.
    #[must_use]
    pub fn detach(&self) -> Packet {
        match self {
            Self::Connect(p) => Self::Connect(Box::new(p.detach())),
            Self::ConnAck(p) => Self::ConnAck(p.detach()),
            Self::Publish(p) => Self::Publish(p.detach()),
            Self::PubAck(p) => Self::PubAck(p.detach()),
            Self::PubRec(p) => Self::PubRec(p.detach()),
            Self::PubRel(p) => Self::PubRel(p.detach()),
            Self::PubComp(p) => Self::PubComp(p.detach()),
            Self::Subscribe(p) => Self::Subscribe(p.detach()),
            Self::SubAck(p) => Self::SubAck(p.detach()),
            Self::Unsubscribe(p) => Self::Unsubscribe(p.detach()),
            Self::UnsubAck(p) => Self::UnsubAck(p.detach()),
            Self::Disconnect(p) => Self::Disconnect(p.detach()),
            Self::Auth(p) => Self::Auth(p.detach()),
            Self::PingReq => Self::PingReq,
            Self::PingResp => Self::PingResp,
        }
    }

    fn may_trim(&self) -> bool {
        !matches!(
            self,
            Self::Connect(_)
                | Self::Publish(_)
                | Self::Subscribe(_)
                | Self::Unsubscribe(_)
                | Self::PingReq
                | Self::PingResp
        )
    }

    fn size(&self, version: ProtocolVersion, trim: Trim) -> Result<(usize, usize), EncodeError> {
        let body = dispatch!(self, p => p.body_len(version, trim)?, ping => 0);
        if body > VarInt::MAX as usize {
            return Err(EncodeError::RemainingLengthTooLarge(body));
        }
        Ok((body, 1 + varint::len(body) + body))
    }
}

/// Bytes `body` takes as a whole packet at `version`, without building a [`Packet`].
pub(crate) fn encoded_len_of<T: EncodeBody>(
    body: &T,
    version: ProtocolVersion,
) -> Result<usize, EncodeError> {
    let len = body.body_len(version, Trim::Nothing)?;
    if len > VarInt::MAX as usize {
        return Err(EncodeError::RemainingLengthTooLarge(len));
    }
    Ok(1 + varint::len(len) + len)
}

/// A packet's encoded size, once checked, and what it leaves out to get there.
pub(crate) struct Fitted {
    trim: Trim,
    body: usize,
    /// Bytes on the wire.
    pub(crate) total: usize,
}

impl Fitted {
    /// The fixed header, then the body.
    #[inline]
    fn put<S: Sink + ?Sized>(&self, packet: &Packet, version: ProtocolVersion, out: &mut S) {
        let flags = dispatch!(packet, p => p.flags(), ping => 0);
        out.put_u8((packet.packet_type() as u8) << 4 | flags);
        varint::put(out, self.body);
        dispatch!(packet, p => p.put_body(version, self.trim, out), ping => ());
    }

    pub(crate) fn write<B: BufMut + ?Sized>(
        &self,
        packet: &Packet,
        version: ProtocolVersion,
        buf: &mut B,
    ) -> Result<usize, EncodeError> {
        if buf.remaining_mut() < self.total {
            return Err(EncodeError::BufferTooSmall {
                needed: self.total,
                available: buf.remaining_mut(),
            });
        }
        let mut out = Staged::new(buf);
        self.put(packet, version, &mut out);
        out.finish();
        Ok(self.total)
    }

    /// Appends a packet whose body is `body`.
    /// Everything before a PUBLISH payload is written by index into a stack buffer when it
    /// fits there (as it does for all but large CONNECT, SUBSCRIBE and property-laden
    /// packets), then appended with one copy: no room in `buf` is zeroed first. The payload
    /// follows with one more copy.
    #[inline(always)]
    fn append<T: EncodeBody>(&self, body: &T, version: ProtocolVersion, buf: &mut BytesMut) {
        let first = body.first_byte();
        let payload = body.payload();
        let header = 1 + varint::len(self.body);
        let head = self.total - payload.len();
        if !payload.is_empty() {
            buf.reserve(self.total);
        }
        if head - header <= HEAD_STAGE - MAX_FIXED_HEADER {
            // The body goes at a fixed offset, so that its writes land at known places, and
            // the fixed header, whose length varies, right before it.
            let mut stage = [0u8; MAX_FIXED_HEADER + HEAD_STAGE];
            let mut out = Cursor::new(&mut stage[MAX_FIXED_HEADER..]);
            body.put_body(version, self.trim, &mut out);
            debug_assert_eq!(out.position(), head - header);
            let start = MAX_FIXED_HEADER - header;
            if header == 2 {
                stage[start] = first;
                stage[start + 1] = self.body as u8;
            } else {
                let mut out = Cursor::new(&mut stage[start..]);
                out.put_u8(first);
                varint::put(&mut out, self.body);
            }
            put_small(buf, &stage[start..start + HEAD_STAGE], head);
        } else {
            let start = buf.len();
            buf.resize(start + head, 0);
            let mut out = Cursor::new(&mut buf[start..]);
            out.put_u8(first);
            varint::put(&mut out, self.body);
            body.put_body(version, self.trim, &mut out);
            debug_assert_eq!(out.position(), head);
        }
        if !payload.is_empty() {
            buf.extend_from_slice(payload);
        }
    }
}

/// The most bytes a fixed header takes: the first byte and a four-byte Remaining Length.
const MAX_FIXED_HEADER: usize = 5;

/// The stack buffer in which [`Fitted::append`] writes the head (packet minus PUBLISH
/// payload): enough for acknowledgements, pings and PUBLISH with topics of usual length.
const HEAD_STAGE: usize = 64;

/// Sizes and appends one packet whose body is `body`: the common case (it fits, nothing
/// trimmed) in a straight line, the rest through [`Packet::fit`]. Not inlined: one function
/// per packet type keeps each frame small, where one function for all spills more.
#[inline(never)]
fn append_body<T: EncodeBody>(
    packet: &Packet,
    body: &T,
    encoder: &Encoder,
    buf: &mut BytesMut,
) -> Result<usize, EncodeError> {
    let version = encoder.version();
    let len = body.body_len(version, Trim::Nothing)?;
    if len > VarInt::MAX as usize {
        return Err(EncodeError::RemainingLengthTooLarge(len));
    }
    let total = 1 + varint::len(len) + len;
    let fitted = match encoder.max_packet_size() {
        Some(max) if total > max => packet.fit(version, Some(max))?,
        _ => Fitted {
            trim: Trim::Nothing,
            body: len,
            total,
        },
    };
    fitted.append(body, version, buf);
    Ok(fitted.total)
}

/// Appends a PUBLISH, without properties in a straight line ([`Publish::append_plain`]).
/// Not inlined, so that the other packet types keep [`Packet::append`]'s frame small.
#[inline(never)]
fn append_publish(
    packet: &Packet,
    publish: &Publish,
    encoder: &Encoder,
    buf: &mut BytesMut,
) -> Result<usize, EncodeError> {
    match publish.append_plain(encoder, buf) {
        Some(written) => Ok(written),
        None => append_body(packet, publish, encoder, buf),
    }
}

/// Appends a publish acknowledgement in its four-byte form: the fixed header (`first`, then
/// Remaining Length 2) and the packet identifier.
#[inline]
fn append_short_ack(
    first: u8,
    packet_id: PacketId,
    encoder: &Encoder,
    buf: &mut BytesMut,
) -> Result<usize, EncodeError> {
    if let Some(max) = encoder.max_packet_size().filter(|&max| max < 4) {
        return Err(EncodeError::PacketTooLarge { size: 4, max });
    }
    let [high, low] = packet_id.get().to_be_bytes();
    buf.extend_from_slice(&[first, 2, high, low]);
    Ok(4)
}

/// Appends a CONNACK without properties, in its short form when it has one.
#[inline(never)]
fn append_connack(
    packet: &Packet,
    connack: &ConnAck,
    encoder: &Encoder,
    buf: &mut BytesMut,
) -> Result<usize, EncodeError> {
    match connack.encode_short(encoder.version()) {
        Some((bytes, len)) if encoder.max_packet_size().map_or(true, |max| len <= max) => {
            // Fixed-size copies rather than one of variable length, which is a call.
            let [a, b, c, d, e] = bytes;
            if len == 4 {
                buf.extend_from_slice(&[a, b, c, d]);
            } else {
                buf.extend_from_slice(&[a, b, c, d, e]);
            }
            Ok(len)
        }
        _ => append_body(packet, connack, encoder, buf),
    }
}

/// Appends PINGREQ or PINGRESP, which have no body.
#[inline(never)]
fn append_ping(
    packet: &Packet,
    encoder: &Encoder,
    buf: &mut BytesMut,
) -> Result<usize, EncodeError> {
    if encoder.max_packet_size().is_some_and(|max| max < 2) {
        packet.fit(encoder.version(), encoder.max_packet_size())?;
    }
    buf.extend_from_slice(&[(packet.packet_type() as u8) << 4, 0]);
    Ok(2)
}

/// The error for input that ends before its packet does.
fn incomplete(input: &[u8], version: Option<ProtocolVersion>) -> DecodeError {
    let needed = match FixedHeader::parse(input, version, MAX_PACKET_SIZE) {
        Ok(Some(header)) => Some(header.total_len() - input.len()),
        _ => None,
    };
    DecodeErrorKind::Incomplete { needed }.into()
}

/// The four-byte publish acknowledgement at the front of `input`, if that is what it holds:
/// PUBACK, PUBREC, PUBREL or PUBCOMP with Remaining Length 2, a packet identifier and (in
/// 5.0) Success without properties. These are most of the packets of a QoS 1 or 2 flow, and
/// need none of the general decoder's machinery. `None` for anything else, a zero packet
/// identifier or another PUBREL flag included: the general path decodes or reports those.
/// The caller has checked that the protocol version is known and that four bytes are
/// within the maximum packet size.
#[inline]
pub(crate) fn short_ack(input: &[u8]) -> Option<Packet> {
    let &[first, 2, high, low, ..] = input else {
        return None;
    };
    let id = PacketId::new(u16::from_be_bytes([high, low]))?;
    Some(match first {
        0x40 => Packet::PubAck(PubAck::new(id)),
        0x50 => Packet::PubRec(PubRec::new(id)),
        0x62 => Packet::PubRel(PubRel::new(id)),
        0x70 => Packet::PubComp(PubComp::new(id)),
        _ => return None,
    })
}

/// The CONNACK in `frame` when [`ConnAck::decode_short`] takes it: after the PUBLISH
/// shortcut, which should not pay for this check, and before a general decode.
#[inline(always)]
pub(crate) fn short_connack(
    frame: &[u8],
    header: &FixedHeader,
    version: Option<ProtocolVersion>,
) -> Option<Packet> {
    match (header.packet_type, version) {
        (PacketType::ConnAck, Some(version)) => {
            ConnAck::decode_short(frame, version).map(|(connack, _)| Packet::ConnAck(connack))
        }
        _ => None,
    }
}

/// Decodes the packet at the front of `input`, whose fixed header says it is complete or not.
#[inline]
pub(crate) fn decode_one(
    input: &Bytes,
    version: Option<ProtocolVersion>,
    max_packet_size: usize,
    strict_strings: bool,
) -> Result<(Packet, usize), DecodeError> {
    let header = FixedHeader::parse(input, version, max_packet_size)?
        .ok_or_else(|| incomplete(input, version))?;
    let total = header.total_len();
    if input.len() < total {
        return Err(incomplete(input, version));
    }
    if let Some(publish) = plain_publish(input, &header, version, strict_strings) {
        return Ok((Packet::Publish(publish), total));
    }
    if let Some(connack) = short_connack(input, &header, version) {
        return Ok((connack, total));
    }
    let packet = decode_frame(input, &header, version, strict_strings)?;
    Ok((packet, total))
}

/// The PUBLISH in `frame` when [`Publish::decode_plain`] takes it: before a general decode,
/// which does the rest.
#[inline(always)]
pub(crate) fn plain_publish(
    frame: &Bytes,
    header: &FixedHeader,
    version: Option<ProtocolVersion>,
    strict_strings: bool,
) -> Option<Publish> {
    match (header.packet_type, version) {
        (PacketType::Publish, Some(version)) if !strict_strings => {
            Publish::decode_plain(frame, header, version)
        }
        _ => None,
    }
}

/// Decodes the packet at the front of `frame`, whose fixed header has been checked and whose
/// bytes are all there; anything after the packet is left alone.
#[inline]
pub(crate) fn decode_frame(
    frame: &Bytes,
    header: &FixedHeader,
    version: Option<ProtocolVersion>,
    strict_strings: bool,
) -> Result<Packet, DecodeError> {
    let packet_type = header.packet_type;
    // CONNECT declares its own level; until it is read, 3.1.1 stands in.
    let version = match (packet_type, version) {
        (PacketType::Connect, v) => v.unwrap_or(ProtocolVersion::V3_1_1),
        (_, Some(v)) => v,
        (_, None) => {
            return Err(DecodeError::new(DecodeErrorKind::ExpectedConnect)
                .with_rule("MQTT-3.1.0-1")
                .in_packet(packet_type))
        }
    };
    let mut r = Reader::new(frame, header, version, strict_strings);
    // Plain matches rather than combinators: the packet is large, and this keeps it in place.
    match decode_body(&mut r, header) {
        Ok(packet) => match r.finish() {
            Ok(()) => Ok(packet),
            Err(e) => Err(e.in_packet(packet_type)),
        },
        Err(e) => Err(e.in_packet(packet_type)),
    }
}

#[inline]
fn decode_body(r: &mut Reader<'_>, header: &FixedHeader) -> Result<Packet, DecodeError> {
    Ok(match header.packet_type {
        PacketType::Connect => Packet::Connect(Box::new(Connect::decode(r, header.flags)?)),
        PacketType::ConnAck => Packet::ConnAck(ConnAck::decode(r)?),
        PacketType::Publish => Packet::Publish(Publish::decode(r, header.flags)?),
        PacketType::PubAck => Packet::PubAck(PubAck::decode(r)?),
        PacketType::PubRec => Packet::PubRec(PubRec::decode(r)?),
        PacketType::PubRel => Packet::PubRel(PubRel::decode(r)?),
        PacketType::PubComp => Packet::PubComp(PubComp::decode(r)?),
        PacketType::Subscribe => Packet::Subscribe(Subscribe::decode(r)?),
        PacketType::SubAck => Packet::SubAck(SubAck::decode(r)?),
        PacketType::Unsubscribe => Packet::Unsubscribe(Unsubscribe::decode(r)?),
        PacketType::UnsubAck => Packet::UnsubAck(UnsubAck::decode(r)?),
        PacketType::PingReq => Packet::PingReq,
        PacketType::PingResp => Packet::PingResp,
        PacketType::Disconnect => Packet::Disconnect(Disconnect::decode(r)?),
        PacketType::Auth => Packet::Auth(Auth::decode(r)?),
    })
}

/// Checks that a packet type below MQTT 5.0 carries no properties.
pub(crate) fn v5_only(
    version: ProtocolVersion,
    is_empty: bool,
    what: &'static str,
) -> Result<(), EncodeError> {
    if !version.is_v5() && !is_empty {
        return Err(EncodeError::UnsupportedInVersion { what, version });
    }
    Ok(())
}

macro_rules! impl_from_packet {
    ($($variant:ident),+) => {$(
        impl From<$variant> for Packet {
            fn from(p: $variant) -> Packet {
                Packet::$variant(p)
            }
        }
    )+};
}
impl From<Connect> for Packet {
    fn from(p: Connect) -> Packet {
        Packet::Connect(Box::new(p))
    }
}

impl_from_packet!(
    ConnAck,
    Publish,
    PubAck,
    PubRec,
    PubRel,
    PubComp,
    Subscribe,
    SubAck,
    Unsubscribe,
    UnsubAck,
    Disconnect,
    Auth
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::properties::ConnAckProperties;
    use crate::{ConnectReasonCode, MqttString, QosPid, TopicName};
    use alloc::vec;
    use core::num::NonZeroU16;

    /// Every protocol level, for the tests that must hold at each.
    const LEVELS: [ProtocolVersion; 3] = [
        ProtocolVersion::V3_1,
        ProtocolVersion::V3_1_1,
        ProtocolVersion::V5,
    ];

    /// Every decode and every session event moves a `Packet`: it stays within 120 bytes on
    /// 64-bit targets (three `Bytes` and a few words), because variable-length properties
    /// live in one encoded block and CONNECT is boxed.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn packet_stays_small_to_move() {
        assert!(core::mem::size_of::<Packet>() <= 120);
        assert!(core::mem::size_of::<crate::properties::PublishProperties>() <= 48);
        assert!(core::mem::size_of::<crate::properties::ConnAckProperties>() <= 64);
    }

    /// The encoder's PUBLISH without properties is what the general encoding writes, at
    /// every level: each QoS, DUP and RETAIN, topics either side of what its stage holds,
    /// payloads either side of a one-byte Remaining Length, and a peer maximum at and just
    /// below the packet's size. What it refuses (DUP on QoS 0 [MQTT-3.3.1-2], an empty
    /// topic [MQTT-4.7.3-1]) is refused alike, with nothing written.
    #[test]
    fn encoder_plain_publish_agrees_with_the_general_path() {
        let id = PacketId::new(0x0102).unwrap();
        let qoses = [
            QosPid::AtMostOnce,
            QosPid::AtLeastOnce(id),
            QosPid::ExactlyOnce(id),
        ];
        let mut cases = 0;
        for version in LEVELS {
            for topic_len in [0, 1, 20, 48, 49, 50, 51, 60, 300] {
                for payload_len in [0, 1, 64, 123, 200] {
                    for qos in qoses {
                        for (dup, retain) in [(false, false), (true, false), (false, true)] {
                            let topic = TopicName::new(&"t".repeat(topic_len)).unwrap();
                            let mut publish = Publish::new(topic, vec![0xA5; payload_len]);
                            publish.qos = qos;
                            publish.dup = dup;
                            publish.retain = retain;
                            let packet = Packet::Publish(publish);
                            let size = packet.encoded_len(version).unwrap_or(10);
                            for max in [None, Some(size), Some(size - 1)] {
                                let mut general = BytesMut::new();
                                let want = match max {
                                    Some(max) => {
                                        packet.encode_with_limit(version, max, &mut general)
                                    }
                                    None => packet.encode(version, &mut general),
                                };
                                let encoder = match max {
                                    Some(max) => Encoder::new(version).with_max_packet_size(max),
                                    None => Encoder::new(version),
                                };
                                let mut out = BytesMut::from(&b"xy"[..]);
                                let got = encoder.encode(&packet, &mut out);
                                assert_eq!(got, want, "{packet:?} at {version:?} within {max:?}");
                                assert_eq!(&out[2..], &general[..], "{packet:?} at {version:?}");
                                cases += 1;
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(cases, 3 * 9 * 5 * 3 * 3 * 3);
    }

    /// What the encoder's PUBLISH path must leave to the general one is encoded (or refused)
    /// alike: properties (which 3.1.1 cannot carry: `UnsupportedInVersion`), an empty topic
    /// with or without a Topic Alias, Remaining Lengths of three and four bytes, and heads
    /// longer than the stack stage.
    #[test]
    fn encoder_plain_publish_leaves_the_rest_to_the_general_path() {
        let mut cases = 0;
        for version in LEVELS {
            for topic_len in [0, 20, 55] {
                for payload_len in [0, 16_384, 2_097_152] {
                    for (expiry, alias) in [(None, None), (Some(60), None), (None, Some(4))] {
                        let topic = TopicName::new(&"t".repeat(topic_len)).unwrap();
                        let mut publish = Publish::new(topic, vec![0xA5; payload_len]);
                        publish.properties.message_expiry_interval = expiry;
                        publish.properties.topic_alias = alias.and_then(NonZeroU16::new);
                        let packet = Packet::Publish(publish);
                        let mut general = BytesMut::new();
                        let want = packet.encode(version, &mut general);
                        let mut out = BytesMut::from(&b"xy"[..]);
                        let got = Encoder::new(version).encode(&packet, &mut out);
                        // Compared without printing: the largest packet is 2 MiB.
                        let what = alloc::format!("{topic_len} {payload_len} {expiry:?} {alias:?}");
                        assert!(got == want, "{what} at {version:?}: {got:?}, {want:?}");
                        assert!(out[2..] == general[..], "{what} at {version:?}");
                        cases += 1;
                    }
                }
            }
        }
        assert_eq!(cases, 3 * 3 * 3 * 3);
    }

    /// The encoder's four-byte acknowledgements are what the general encoding writes, at
    /// every level, and obey a Maximum Packet Size below four bytes.
    #[test]
    fn encoder_short_acks_agree_with_the_general_path() {
        let id = PacketId::new(0x1234).unwrap();
        let acks = [
            Packet::PubAck(PubAck::new(id)),
            Packet::PubRec(PubRec::new(id)),
            Packet::PubRel(PubRel::new(id)),
            Packet::PubComp(PubComp::new(id)),
        ];
        for version in LEVELS {
            for ack in &acks {
                let mut general = BytesMut::new();
                ack.encode(version, &mut general).unwrap();
                let mut out = BytesMut::from(&b"xy"[..]);
                assert_eq!(Encoder::new(version).encode(ack, &mut out), Ok(4));
                assert_eq!(&out[2..], &general[..], "{ack:?} at {version:?}");
                for max in [3, 4] {
                    let limited = Encoder::new(version).with_max_packet_size(max);
                    let mut out = BytesMut::new();
                    let want = ack.encode_with_limit(version, max, &mut BytesMut::new());
                    assert_eq!(limited.encode(ack, &mut out), want, "{ack:?} within {max}");
                    assert_eq!(out.len(), if max == 4 { 4 } else { 0 });
                }
            }
        }
    }

    /// The short CONNACK decode gives what the general path gives for every flags byte and
    /// every code at every level, and takes every short CONNACK the general path accepts.
    /// Reserved flags (5.0 MQTT-3.2.2-1), unknown codes (5.0 MQTT-3.2.2-8) and Session
    /// Present on a refusal (3.1.1 MQTT-3.2.2-4, 5.0 MQTT-3.2.2-6) go to the general path,
    /// which refuses them.
    #[test]
    fn short_connack_agrees_with_the_general_path() {
        let mut taken = [0usize; 3];
        for (i, version) in LEVELS.into_iter().enumerate() {
            for flags in 0..=u8::MAX {
                for code in 0..=u8::MAX {
                    for input in [
                        &[0x20, 2, flags, code][..],
                        &[0x20, 3, flags, code, 0],
                        &[0x20, 3, flags, code, 0, 0x40],
                    ] {
                        let input = Bytes::copy_from_slice(input);
                        let general = FixedHeader::parse(&input, Some(version), MAX_PACKET_SIZE)
                            .unwrap()
                            .ok_or(())
                            .and_then(|header| {
                                decode_frame(&input, &header, Some(version), false)
                                    .map(|p| (p, header.total_len()))
                                    .map_err(drop)
                            });
                        match ConnAck::decode_short(&input, version) {
                            Some((fast, len)) => {
                                taken[i] += 1;
                                let fast = (Packet::ConnAck(fast), len);
                                assert_eq!(Ok(fast), general, "{input:02x?} at {version:?}");
                            }
                            // Nothing valid that the short form covers is declined.
                            None => assert!(
                                general.map_or(true, |(_, len)| len
                                    != 4 + usize::from(version.is_v5())),
                                "{input:02x?} declined at {version:?}"
                            ),
                        }
                    }
                }
            }
        }
        // 3.1: no Session Present, six return codes; 3.1.1: six codes without, one with.
        // 5.0: Session Present only with a code below 0x80; three bytes after the header.
        let v5_codes = (0..=u8::MAX).filter(|&c| ConnectReasonCode::from_code(c).is_some());
        let v5 = v5_codes
            .map(|c| if c < 0x80 { 2 } else { 1 })
            .sum::<usize>();
        assert_eq!(taken, [6, 7, 2 * v5]);
        // The one 3.1.1-layout CONNACK 5.0 decodes, a 3.1.1 server's refusal (3.1.1
        // MQTT-3.1.2-2), is declined here and read by the general path as 0x84.
        let refusal = Bytes::from_static(&[0x20, 2, 0, 1]);
        assert_eq!(ConnAck::decode_short(&refusal, ProtocolVersion::V5), None);
        let unsupported = ConnAck::new(ConnectReasonCode::UnsupportedProtocolVersion);
        assert_eq!(
            decode_one(&refusal, Some(ProtocolVersion::V5), MAX_PACKET_SIZE, false),
            Ok((Packet::ConnAck(unsupported), 4))
        );
    }

    /// The encoder's short CONNACKs are what the general encoding writes, for every code
    /// and both Session Present values at every level, and obey a Maximum Packet Size just
    /// below them; whatever the short form cannot write goes the general way with its error.
    #[test]
    fn encoder_short_connack_agrees_with_the_general_path() {
        let mut short = 0;
        for version in LEVELS {
            for code in (0..=u8::MAX).filter_map(ConnectReasonCode::from_code) {
                for session_present in [false, true] {
                    let packet = Packet::ConnAck(ConnAck {
                        session_present,
                        ..ConnAck::new(code)
                    });
                    let mut general = BytesMut::new();
                    let want = packet.encode(version, &mut general);
                    let mut out = BytesMut::from(&b"xy"[..]);
                    let got = Encoder::new(version).encode(&packet, &mut out);
                    assert_eq!(got, want, "{packet:?} at {version:?}");
                    assert_eq!(&out[2..], &general[..], "{packet:?} at {version:?}");
                    let Ok(len) = want else { continue };
                    short += 1;
                    for max in [len - 1, len] {
                        let limited = Encoder::new(version).with_max_packet_size(max);
                        let want = packet.encode_with_limit(version, max, &mut BytesMut::new());
                        let mut out = BytesMut::new();
                        assert_eq!(limited.encode(&packet, &mut out), want, "within {max}");
                        assert_eq!(out.len(), if max == len { len } else { 0 });
                    }
                }
            }
        }
        // With a property, the general path writes it (or, below 5.0, refuses it).
        let props =
            ConnAckProperties::default().with_reason_string(MqttString::from_static("r").unwrap());
        let packet = Packet::ConnAck(ConnAck {
            properties: props,
            ..ConnAck::default()
        });
        for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
            let want = packet.encode(version, &mut BytesMut::new());
            assert_eq!(
                Encoder::new(version).encode(&packet, &mut BytesMut::new()),
                want
            );
            assert_eq!(want.is_ok(), version.is_v5());
        }
        // 3.1: six codes; 3.1.1: six, one of them with Session Present; 5.0: every code,
        // Session Present with those below 0x80.
        let v5_codes = (0..=u8::MAX).filter(|&c| ConnectReasonCode::from_code(c).is_some());
        let v5 = v5_codes
            .map(|c| if c < 0x80 { 2 } else { 1 })
            .sum::<usize>();
        assert_eq!(short, 6 + 7 + v5);
    }

    /// The straight-line PUBLISH decode gives what the general path gives, for every value
    /// of every byte of PUBLISH packets at each QoS and level (topics shorter than, as long
    /// as and longer than a scan block, with and without a payload, and at 5.0 with a
    /// property), and takes all the unaltered ones. Whatever it declines, the general path
    /// decodes or refuses on its own.
    #[test]
    fn plain_publish_agrees_with_the_general_path() {
        let id = PacketId::new(0x0102).unwrap();
        let (mut taken, mut declined) = (0, 0);
        for version in LEVELS {
            for qos in [
                QosPid::AtMostOnce,
                QosPid::AtLeastOnce(id),
                QosPid::ExactlyOnce(id),
            ] {
                for topic in ["a/b", "0123456789abcdef", "sensors/house-7/temp"] {
                    for (payload, alias) in [(&b""[..], None), (&b"hi"[..], None), (b"x", Some(3))]
                    {
                        if alias.is_some() && !version.is_v5() {
                            continue;
                        }
                        let mut publish = Publish::new(TopicName::new(topic).unwrap(), payload);
                        publish.qos = qos;
                        publish.retain = true;
                        publish.properties.topic_alias = alias.and_then(NonZeroU16::new);
                        let mut base = BytesMut::new();
                        Packet::Publish(publish).encode(version, &mut base).unwrap();
                        let base = base.freeze();
                        let unaltered = Bytes::clone(&base);
                        let header = FixedHeader::parse(&base, Some(version), MAX_PACKET_SIZE)
                            .unwrap()
                            .unwrap();
                        let fast = plain_publish(&unaltered, &header, Some(version), false);
                        assert!(fast.is_some(), "{base:?}");
                        assert!(plain_publish(&unaltered, &header, Some(version), true).is_none());
                        for at in 0..base.len() {
                            for byte in 0..=u8::MAX {
                                let mut input = base.to_vec();
                                input[at] = byte;
                                let input = Bytes::from(input);
                                let parsed =
                                    FixedHeader::parse(&input, Some(version), MAX_PACKET_SIZE);
                                let Ok(Some(header)) = parsed else { continue };
                                if header.total_len() > input.len() {
                                    continue;
                                }
                                let general = decode_frame(&input, &header, Some(version), false);
                                match plain_publish(&input, &header, Some(version), false) {
                                    Some(fast) => {
                                        assert_eq!(general, Ok(Packet::Publish(fast)), "{input:?}");
                                        taken += 1;
                                    }
                                    None => declined += 1,
                                }
                            }
                        }
                    }
                }
            }
        }
        // Both ways are exercised: most single-byte changes still give a plain PUBLISH (a
        // payload or topic byte), many do not.
        assert!(
            taken > 10_000 && declined > 1_000,
            "{taken} taken, {declined} declined"
        );
    }

    /// The straight-line PUBLISH decode takes packets of every Remaining Length size (one to
    /// four bytes) and with any properties, through every entry point (`Packet::decode`,
    /// `Packet::decode_slice`, `Decoder`), giving what the general path gives; a topic that
    /// is not plain ASCII goes the general way and decodes alike.
    #[test]
    fn plain_publish_takes_every_length_and_property_through_every_entry() {
        use crate::properties::UserProperties;
        use crate::types::MqttString;
        let id = PacketId::new(9).unwrap();
        let mut cases = 0;
        for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
            for payload_len in [0, 124, 125, 16_380, 16_381, 2_097_148] {
                for (topic, ascii) in [("sensors/house-7/temp", true), ("température/é", false)] {
                    for with_properties in [false, true] {
                        if with_properties && !version.is_v5() {
                            continue;
                        }
                        let mut publish =
                            Publish::new(TopicName::new(topic).unwrap(), vec![0x5A; payload_len]);
                        publish.qos = QosPid::AtLeastOnce(id);
                        if with_properties {
                            let p = &mut publish.properties;
                            p.message_expiry_interval = Some(60);
                            p.set_content_type(Some(MqttString::new("text/plain").unwrap()));
                            let pairs = UserProperties::from_pairs([("a", "1"), ("b", "2")]);
                            p.set_user_properties(pairs.unwrap());
                        }
                        let packet = Packet::Publish(publish);
                        let mut bytes = BytesMut::new();
                        packet.encode(version, &mut bytes).unwrap();
                        let bytes = bytes.freeze();
                        let header = FixedHeader::parse(&bytes, Some(version), MAX_PACKET_SIZE)
                            .unwrap()
                            .unwrap();
                        // Compared without printing: the largest packet is 2 MiB.
                        let what = alloc::format!("{topic}, {payload_len} B at {version:?}");
                        let general = decode_frame(&bytes, &header, Some(version), false);
                        assert!(general.as_ref() == Ok(&packet), "{what}");
                        let fast = plain_publish(&bytes, &header, Some(version), false);
                        assert_eq!(fast.is_some(), ascii, "{what}");
                        if let Some(fast) = fast {
                            assert!(Packet::Publish(fast) == packet, "{what}");
                        }
                        let whole = Ok((packet.clone(), bytes.len()));
                        assert!(Packet::decode(&bytes, version) == whole, "{what}");
                        assert!(Packet::decode_slice(&bytes, version) == whole, "{what}");
                        let mut decoder =
                            crate::Decoder::new(version).with_max_packet_size(4 << 20);
                        let decoded = decoder.decode(&mut BytesMut::from(&bytes[..]));
                        assert!(decoded == Ok(Some(packet)), "{what}");
                        cases += 1;
                    }
                }
            }
        }
        assert_eq!(cases, 6 * 2 + 6 * 2 * 2);
    }

    /// The four-byte acknowledgement shortcut gives what the general path gives, for every
    /// first byte, at every level, and leaves a zero packet identifier (and everything not a
    /// plain acknowledgement) to the general path.
    #[test]
    fn short_ack_agrees_with_the_general_path() {
        let mut taken = 0;
        for version in LEVELS {
            for first in 0..=u8::MAX {
                for id in [0u16, 1, 0x1234, u16::MAX] {
                    let [high, low] = id.to_be_bytes();
                    let input = Bytes::copy_from_slice(&[first, 2, high, low]);
                    let Some(fast) = short_ack(&input) else {
                        continue;
                    };
                    taken += 1;
                    assert_ne!(id, 0, "{first:#04x}: a zero packet identifier is an error");
                    let header = FixedHeader::parse(&input, Some(version), MAX_PACKET_SIZE)
                        .unwrap()
                        .unwrap();
                    let general = decode_frame(&input, &header, Some(version), false).unwrap();
                    assert_eq!(fast, general, "{first:#04x} {id} at {version:?}");
                }
            }
        }
        // PUBACK, PUBREC, PUBREL and PUBCOMP, three non-zero identifiers, three levels.
        assert_eq!(taken, 4 * 3 * 3);
    }
}
