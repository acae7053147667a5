//! The fifteen MQTT control packets, one module each, in one model for MQTT 3.1, 3.1.1 and
//! 5.0: fields only MQTT 5.0 has are property sets and reason codes that stay empty or at
//! their success value below 5.0, and encoding anything else below 5.0 is an error.

/// A borrowed list of reason codes (SUBACK, UNSUBACK): the received bytes, each checked
/// once when the packet was decoded and converted, without checks, as they are iterated; or
/// codes given by the sender.
macro_rules! reason_code_list {
    ($(#[$m:meta])* $list:ident, $iter:ident, $code:ty) => {
        $(#[$m])*
        #[derive(Clone, Copy)]
        pub struct $list<'a> {
            codes: crate::packet::CodeList<'a, $code>,
        }

        impl<'a> $list<'a> {
            /// A list of `codes` to encode.
            #[must_use]
            pub fn from_codes(codes: &'a [$code]) -> Self {
                Self { codes: crate::packet::CodeList::Codes(codes) }
            }

            /// The received codes, checked by the decoder.
            pub(crate) fn from_wire(bytes: &'a [u8]) -> Self {
                Self { codes: crate::packet::CodeList::Wire(bytes) }
            }

            /// The codes, in order.
            pub fn iter(&self) -> $iter<'a> {
                $iter {
                    codes: match self.codes {
                        crate::packet::CodeList::Wire(bytes) => crate::packet::CodeIter::Wire(bytes.iter()),
                        crate::packet::CodeList::Codes(codes) => crate::packet::CodeIter::Codes(codes.iter()),
                    },
                }
            }

            /// How many there are.
            #[must_use]
            pub fn len(&self) -> usize {
                match self.codes {
                    crate::packet::CodeList::Wire(bytes) => bytes.len(),
                    crate::packet::CodeList::Codes(codes) => codes.len(),
                }
            }

            /// Whether there are none.
            #[must_use]
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }
        }

        impl Default for $list<'_> {
            fn default() -> Self {
                Self::from_wire(&[])
            }
        }

        impl PartialEq for $list<'_> {
            fn eq(&self, other: &Self) -> bool {
                self.iter().eq(other.iter())
            }
        }

        impl Eq for $list<'_> {}

        impl<'a> IntoIterator for $list<'a> {
            type Item = $code;
            type IntoIter = $iter<'a>;
            fn into_iter(self) -> Self::IntoIter {
                self.iter()
            }
        }

        impl core::fmt::Debug for $list<'_> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_list().entries(self.iter()).finish()
            }
        }

        #[doc = concat!("Iterator over [`", stringify!($list), "`].")]
        #[derive(Clone, Debug)]
        #[must_use = "iterators are lazy and do nothing unless consumed"]
        pub struct $iter<'a> {
            codes: crate::packet::CodeIter<'a, $code>,
        }

        impl Iterator for $iter<'_> {
            type Item = $code;
            fn next(&mut self) -> Option<$code> {
                match &mut self.codes {
                    // Every byte was checked when the packet was decoded.
                    crate::packet::CodeIter::Wire(bytes) => bytes.find_map(|&c| <$code>::from_code(c)),
                    crate::packet::CodeIter::Codes(codes) => codes.next().copied(),
                }
            }
            fn size_hint(&self) -> (usize, Option<usize>) {
                let n = match &self.codes {
                    crate::packet::CodeIter::Wire(bytes) => bytes.len(),
                    crate::packet::CodeIter::Codes(codes) => codes.len(),
                };
                (n, Some(n))
            }
        }

        impl ExactSizeIterator for $iter<'_> {}
    };
}

/// Where a list of reason codes lives: received bytes, or codes given by the sender.
#[derive(Clone, Copy)]
pub(crate) enum CodeList<'a, C> {
    Wire(&'a [u8]),
    Codes(&'a [C]),
}

#[derive(Clone, Debug)]
pub(crate) enum CodeIter<'a, C> {
    Wire(core::slice::Iter<'a, u8>),
    Codes(core::slice::Iter<'a, C>),
}

#[macro_use]
mod wire_list;
mod ack;
mod decode;
pub(crate) use decode::check_first_packet;
use decode::decode_view;
#[cfg(feature = "alloc")]
pub(crate) use decode::{decode_owned, decode_owned_in};
mod auth;
mod connack;
mod connect;
#[cfg(feature = "alloc")]
pub(crate) use connect::client_id_refused;
mod disconnect;
mod ping;
mod publish;
mod suback;
mod subscribe;
#[cfg(test)]
pub(crate) mod test_util;
mod unsuback;
mod unsubscribe;

pub use ack::{PubAckRef, PubCompRef, PubRecRef, PubRelRef};
pub use auth::AuthRef;
pub use connack::ConnAckRef;
pub use connect::{ConnectRef, WillRef};
pub use disconnect::DisconnectRef;
pub use publish::PublishRef;
pub use suback::{SubAckCodesIter, SubAckCodesRef, SubAckRef};
pub use subscribe::{
    RetainHandling, SubscribeRef, SubscriptionOptions, SubscriptionRef, SubscriptionsRef,
    SubscriptionsRefIter,
};
pub use unsuback::{UnsubAckCodesIter, UnsubAckCodesRef, UnsubAckRef};
pub use unsubscribe::{TopicFiltersRef, TopicFiltersRefIter, UnsubscribeRef};
#[cfg(feature = "alloc")]
pub use {
    ack::{PubAck, PubComp, PubRec, PubRel},
    auth::Auth,
    connack::ConnAck,
    connect::{Connect, Will},
    disconnect::Disconnect,
    publish::Publish,
    suback::SubAck,
    subscribe::{Subscribe, Subscription, Subscriptions, SubscriptionsIter},
    unsuback::UnsubAck,
    unsubscribe::{TopicFilters, TopicFiltersIter, Unsubscribe},
};

#[cfg(feature = "alloc")]
use crate::error::DecodeErrorKind;
use crate::error::{DecodeError, EncodeError};
pub use crate::types::PacketType;
use crate::types::{ProtocolVersion, VarInt};
use crate::wire::fixed_header::FixedHeader;
#[cfg(feature = "alloc")]
use crate::wire::writer::Staged;
use crate::wire::writer::{Cursor, Sink};
use crate::wire::{varint, Trim, MAX_PACKET_SIZE};
#[cfg(feature = "alloc")]
use alloc::boxed::Box;
#[cfg(feature = "alloc")]
use bytes::{BufMut, Bytes, BytesMut};

#[cfg(feature = "alloc")]
/// An MQTT control packet.
///
/// Decode one with [`Packet::decode`] or a [`Decoder`](crate::Decoder); encode one with
/// [`Packet::encode`] (or [`Packet::encode_with_limit`] to respect the peer's Maximum
/// Packet Size) or an [`Encoder`](crate::Encoder).
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
}

macro_rules! dispatch {
    ($packet:expr, $p:ident => $body:expr, ping => $ping:expr) => {
        match $packet {
            PacketRef::Connect($p) => $body,
            PacketRef::ConnAck($p) => $body,
            PacketRef::Publish($p) => $body,
            PacketRef::PubAck($p) => $body,
            PacketRef::PubRec($p) => $body,
            PacketRef::PubRel($p) => $body,
            PacketRef::PubComp($p) => $body,
            PacketRef::Subscribe($p) => $body,
            PacketRef::SubAck($p) => $body,
            PacketRef::Unsubscribe($p) => $body,
            PacketRef::UnsubAck($p) => $body,
            PacketRef::Disconnect($p) => $body,
            PacketRef::Auth($p) => $body,
            PacketRef::PingReq | PacketRef::PingResp => $ping,
        }
    };
}

#[cfg(feature = "alloc")]
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
        let header = whole_packet(input, Some(version), MAX_PACKET_SIZE)?
            .map_err(|needed| DecodeError::from(DecodeErrorKind::Incomplete { needed }))?;
        let total = header.total_len();
        decode_owned(input, &header, Some(version), false, |packet| {
            (packet, total)
        })
    }

    /// Like [`Packet::decode`], for a byte slice: the packet's bytes are copied once into a
    /// new buffer that its fields then share.
    pub fn decode_slice(
        input: &[u8],
        version: ProtocolVersion,
    ) -> Result<(Packet, usize), DecodeError> {
        let header = whole_packet(input, Some(version), MAX_PACKET_SIZE)?
            .map_err(|needed| DecodeError::from(DecodeErrorKind::Incomplete { needed }))?;
        let frame = Bytes::copy_from_slice(&input[..header.total_len()]);
        let total = header.total_len();
        decode_owned(&frame, &header, Some(version), false, |packet| {
            (packet, total)
        })
    }

    /// The owned packet with `view`'s fields: those that are slices of `frame` share its
    /// bytes (no copy), any other is copied. Decode a [`PacketRef`] from a `Bytes` frame,
    /// look at it, and keep it only if needed:
    ///
    /// ```
    /// use bytes::Bytes;
    /// use mqttwire::{Decoded, Packet, PacketRef, ProtocolVersion};
    ///
    /// let frame = Bytes::from_static(&[0x30, 0x05, 0x00, 0x01, b'a', b'h', b'i']);
    /// let version = ProtocolVersion::V3_1_1;
    /// let Ok(Decoded::Complete(view, _)) = PacketRef::decode(&frame, version) else { panic!() };
    /// let Packet::Publish(publish) = Packet::from_view(&view, &frame) else { panic!() };
    /// assert_eq!(&publish.payload[..], b"hi");
    /// ```
    #[must_use]
    pub fn from_view(view: &PacketRef<'_>, frame: &Bytes) -> Packet {
        match view {
            PacketRef::Connect(p) => Packet::Connect(Box::new(Connect::from_view(p, frame))),
            PacketRef::ConnAck(p) => Packet::ConnAck(ConnAck::from_view(p, frame)),
            PacketRef::Publish(p) => Packet::Publish(Publish::from_view(p, frame)),
            PacketRef::PubAck(p) => Packet::PubAck(PubAck::from_view(p, frame)),
            PacketRef::PubRec(p) => Packet::PubRec(PubRec::from_view(p, frame)),
            PacketRef::PubRel(p) => Packet::PubRel(PubRel::from_view(p, frame)),
            PacketRef::PubComp(p) => Packet::PubComp(PubComp::from_view(p, frame)),
            PacketRef::Subscribe(p) => Packet::Subscribe(Subscribe::from_view(p, frame)),
            PacketRef::SubAck(p) => Packet::SubAck(SubAck::from_view(p, frame)),
            PacketRef::Unsubscribe(p) => Packet::Unsubscribe(Unsubscribe::from_view(p, frame)),
            PacketRef::UnsubAck(p) => Packet::UnsubAck(UnsubAck::from_view(p, frame)),
            PacketRef::PingReq => Packet::PingReq,
            PacketRef::PingResp => Packet::PingResp,
            PacketRef::Disconnect(p) => Packet::Disconnect(Disconnect::from_view(p, frame)),
            PacketRef::Auth(p) => Packet::Auth(Auth::from_view(p, frame)),
        }
    }

    /// The packet as a borrowed view of its own fields: what every encoding goes through.
    #[must_use]
    pub fn as_view(&self) -> PacketRef<'_> {
        match self {
            Self::Connect(p) => PacketRef::Connect(p.as_view()),
            Self::ConnAck(p) => PacketRef::ConnAck(p.as_view()),
            Self::Publish(p) => PacketRef::Publish(p.as_view()),
            Self::PubAck(p) => PacketRef::PubAck(p.as_view()),
            Self::PubRec(p) => PacketRef::PubRec(p.as_view()),
            Self::PubRel(p) => PacketRef::PubRel(p.as_view()),
            Self::PubComp(p) => PacketRef::PubComp(p.as_view()),
            Self::Subscribe(p) => PacketRef::Subscribe(p.as_view()),
            Self::SubAck(p) => PacketRef::SubAck(p.as_view()),
            Self::Unsubscribe(p) => PacketRef::Unsubscribe(p.as_view()),
            Self::UnsubAck(p) => PacketRef::UnsubAck(p.as_view()),
            Self::PingReq => PacketRef::PingReq,
            Self::PingResp => PacketRef::PingResp,
            Self::Disconnect(p) => PacketRef::Disconnect(p.as_view()),
            Self::Auth(p) => PacketRef::Auth(p.as_view()),
        }
    }

    /// Bytes the packet takes when encoded at `version`, or why it cannot be encoded there.
    /// A CONNECT is always encoded at its own `protocol_version`.
    pub fn encoded_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        self.as_view().encoded_len(version)
    }

    /// Encodes the packet at `version` into `buf` and returns the bytes written, exactly
    /// [`encoded_len`](Self::encoded_len). On error nothing is written. A CONNECT is always
    /// encoded at its own `protocol_version`.
    ///
    /// `buf` must have room for the whole packet; a growable buffer such as `BytesMut` or
    /// `Vec<u8>` always has, and reserving `encoded_len` first avoids any reallocation (the
    /// [`Encoder`](crate::Encoder) does that).
    pub fn encode<B: BufMut + ?Sized>(
        &self,
        version: ProtocolVersion,
        buf: &mut B,
    ) -> Result<usize, EncodeError> {
        self.encode_to(version, None, buf)
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
        self.encode_to(version, Some(max_packet_size), buf)
    }

    /// [`encode`](Self::encode) and [`encode_with_limit`](Self::encode_with_limit): one
    /// match on the packet, then sizing and writing specialised to its type.
    fn encode_to<B: BufMut + ?Sized>(
        &self,
        version: ProtocolVersion,
        max: Option<usize>,
        buf: &mut B,
    ) -> Result<usize, EncodeError> {
        match self {
            Packet::Connect(p) => put_owned(&p.as_view(), version, max, buf),
            Packet::ConnAck(p) => put_owned(&p.as_view(), version, max, buf),
            Packet::Publish(p) => put_owned(&p.as_view(), version, max, buf),
            Packet::PubAck(p) => put_owned(&p.as_view(), version, max, buf),
            Packet::PubRec(p) => put_owned(&p.as_view(), version, max, buf),
            Packet::PubRel(p) => put_owned(&p.as_view(), version, max, buf),
            Packet::PubComp(p) => put_owned(&p.as_view(), version, max, buf),
            Packet::Subscribe(p) => put_owned(&p.as_view(), version, max, buf),
            Packet::SubAck(p) => put_owned(&p.as_view(), version, max, buf),
            Packet::Unsubscribe(p) => put_owned(&p.as_view(), version, max, buf),
            Packet::UnsubAck(p) => put_owned(&p.as_view(), version, max, buf),
            Packet::Disconnect(p) => put_owned(&p.as_view(), version, max, buf),
            Packet::Auth(p) => put_owned(&p.as_view(), version, max, buf),
            Packet::PingReq | Packet::PingResp => {
                let fitted = fit_ping(self.packet_type(), max)?;
                if buf.remaining_mut() < 2 {
                    return Err(EncodeError::BufferTooSmall {
                        needed: 2,
                        available: buf.remaining_mut(),
                    });
                }
                buf.put_slice(&[fitted.first, 0]);
                Ok(2)
            }
        }
    }

    /// Sizes the packet, leaving out what MQTT 5.0 lets a sender drop until it fits `max`.
    pub(crate) fn fit(
        &self,
        version: ProtocolVersion,
        max: Option<usize>,
    ) -> Result<Fitted, EncodeError> {
        self.as_view().fit(version, max)
    }

    /// Appends the packet to `buf` (what [`Encoder::encode`](crate::Encoder::encode) does):
    /// one match on the packet, then sizing and writing specialised to its type, where its
    /// view is made (so that only the fields used are read).
    #[inline]
    pub(crate) fn append(
        &self,
        version: ProtocolVersion,
        max: Option<usize>,
        buf: &mut BytesMut,
    ) -> Result<usize, EncodeError> {
        macro_rules! each {
            ($append:ident($($max:ident)?)) => {
                match self {
                    Packet::Connect(p) => $append(&**p, Connect::as_view, version, $($max,)? buf),
                    Packet::ConnAck(p) => $append(p, ConnAck::as_view, version, $($max,)? buf),
                    Packet::Publish(p) => $append(p, Publish::as_view, version, $($max,)? buf),
                    Packet::PubAck(p) => $append(p, PubAck::as_view, version, $($max,)? buf),
                    Packet::PubRec(p) => $append(p, PubRec::as_view, version, $($max,)? buf),
                    Packet::PubRel(p) => $append(p, PubRel::as_view, version, $($max,)? buf),
                    Packet::PubComp(p) => $append(p, PubComp::as_view, version, $($max,)? buf),
                    Packet::Subscribe(p) => $append(p, Subscribe::as_view, version, $($max,)? buf),
                    Packet::SubAck(p) => $append(p, SubAck::as_view, version, $($max,)? buf),
                    Packet::Unsubscribe(p) => {
                        $append(p, Unsubscribe::as_view, version, $($max,)? buf)
                    }
                    Packet::UnsubAck(p) => $append(p, UnsubAck::as_view, version, $($max,)? buf),
                    Packet::Disconnect(p) => {
                        $append(p, Disconnect::as_view, version, $($max,)? buf)
                    }
                    Packet::Auth(p) => $append(p, Auth::as_view, version, $($max,)? buf),
                    Packet::PingReq | Packet::PingResp => {
                        append_ping(self.packet_type(), max, buf)
                    }
                }
            };
        }
        match max {
            None => each!(append_owned()),
            Some(within) => each!(append_limited(within)),
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
}

/// Whether MQTT 5.0 lets the sender of a packet of type `t` leave out its Reason String and
/// User Properties to fit the peer's Maximum Packet Size.
fn may_trim(t: PacketType) -> bool {
    !matches!(
        t,
        PacketType::Connect
            | PacketType::Publish
            | PacketType::Subscribe
            | PacketType::Unsubscribe
            | PacketType::PingReq
            | PacketType::PingResp
    )
}

/// The body's size and the whole packet's, with what `trim` leaves out.
#[inline]
fn size_of<T: EncodeBody>(
    body: &T,
    version: ProtocolVersion,
    trim: Trim,
) -> Result<(usize, usize), EncodeError> {
    let len = body.body_len(version, trim)?;
    if len > VarInt::MAX as usize {
        return Err(EncodeError::RemainingLengthTooLarge(len));
    }
    Ok((len, 1 + varint::len(len) + len))
}

/// Sizes `body`, leaving out what MQTT 5.0 lets a sender drop until it fits `max`.
fn fit<T: EncodeBody>(
    body: &T,
    version: ProtocolVersion,
    max: Option<usize>,
) -> Result<Fitted, EncodeError> {
    let mut smallest = usize::MAX;
    for trim in [
        Trim::Nothing,
        Trim::ReasonString,
        Trim::ReasonStringAndUserProperties,
    ] {
        if trim > Trim::Nothing && !may_trim(T::TYPE) {
            break;
        }
        let (body_len, total) = size_of(body, version, trim)?;
        if max.map_or(true, |max| total <= max) {
            return Ok(Fitted {
                trim,
                body: body_len,
                total,
                first: body.first_byte(),
            });
        }
        smallest = smallest.min(total);
    }
    Err(EncodeError::PacketTooLarge {
        size: smallest,
        max: max.unwrap_or_default(),
    })
}

/// PINGREQ or PINGRESP, fitted: two bytes, which a maximum below 2 refuses.
fn fit_ping(t: PacketType, max: Option<usize>) -> Result<Fitted, EncodeError> {
    match max {
        Some(max) if max < 2 => Err(EncodeError::PacketTooLarge { size: 2, max }),
        _ => Ok(Fitted {
            trim: Trim::Nothing,
            body: 0,
            total: 2,
            first: (t as u8) << 4,
        }),
    }
}

/// Bytes `body` takes as a whole packet at `version`.
#[cfg(feature = "alloc")]
pub(crate) fn encoded_len_of<T: EncodeBody>(
    body: &T,
    version: ProtocolVersion,
) -> Result<usize, EncodeError> {
    size_of(body, version, Trim::Nothing).map(|(_, total)| total)
}

/// A packet's encoded size, once checked, and what it leaves out to get there.
pub(crate) struct Fitted {
    trim: Trim,
    body: usize,
    /// Bytes on the wire.
    pub(crate) total: usize,
    /// The first byte of the fixed header.
    first: u8,
}

impl Fitted {
    /// A packet sent whole: `len` bytes of body, `total` on the wire.
    #[inline(always)]
    fn whole<T: EncodeBody>(body: &T, len: usize, total: usize) -> Self {
        Self {
            trim: Trim::Nothing,
            body: len,
            total,
            first: body.first_byte(),
        }
    }

    #[cfg(feature = "alloc")]
    /// Writes the packet into `buf`, which must have room for it (`BufferTooSmall`, with
    /// nothing written, if not).
    #[inline(always)]
    fn write<T: EncodeBody, B: BufMut + ?Sized>(
        &self,
        body: &T,
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
        put_fixed_header(&mut out, self.first, self.body);
        body.put_body(version, self.trim, &mut out);
        out.finish();
        Ok(self.total)
    }

    /// Writes a packet whose body is `body` at the front of `out` (`BufferTooSmall`, with
    /// nothing written, if it is shorter than the packet).
    #[inline(always)]
    fn write_slice<T: EncodeBody>(
        &self,
        body: &T,
        version: ProtocolVersion,
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        let Some(out) = out.get_mut(..self.total) else {
            return Err(EncodeError::BufferTooSmall {
                needed: self.total,
                available: out.len(),
            });
        };
        let mut cursor = Cursor::new(out);
        put_fixed_header(&mut cursor, self.first, self.body);
        body.put_body(version, self.trim, &mut cursor);
        debug_assert_eq!(cursor.position(), self.total);
        Ok(self.total)
    }

    #[cfg(feature = "alloc")]
    /// Appends a packet whose body is `body`: room for all of it is reserved once, then
    /// every piece is written straight into it (no staging, no zeroing).
    #[inline(always)]
    fn append<T: EncodeBody>(&self, body: &T, version: ProtocolVersion, buf: &mut BytesMut) {
        buf.reserve(self.total);
        put_fixed_header(buf, self.first, self.body);
        body.put_body(version, self.trim, buf);
    }
}

/// Sizes one packet whose body is `body` and writes it at the front of `out`, with no size
/// limit. Not inlined: one function per packet type; and apart from
/// [`encode_into_limited`], whose trimming calls out would make every packet save
/// registers.
#[inline(never)]
fn encode_into<T: EncodeBody>(
    body: &T,
    version: ProtocolVersion,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    let (len, total) = size_of(body, version, Trim::Nothing)?;
    Fitted::whole(body, len, total).write_slice(body, version, out)
}

/// [`encode_into`] within `max`, trimmed to fit if MQTT 5.0 allows it.
#[inline(never)]
fn encode_into_limited<T: EncodeBody>(
    body: &T,
    version: ProtocolVersion,
    max: Option<usize>,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    sized(body, version, max)?.write_slice(body, version, out)
}

/// Sizes a packet whose body is `body` within `max`: the common case (no limit, or within
/// it) in a straight line, trimming through [`fit`].
#[inline(always)]
fn sized<T: EncodeBody>(
    body: &T,
    version: ProtocolVersion,
    max: Option<usize>,
) -> Result<Fitted, EncodeError> {
    let (len, total) = size_of(body, version, Trim::Nothing)?;
    match max {
        Some(max) if total > max => fit(body, version, Some(max)),
        _ => Ok(Fitted::whole(body, len, total)),
    }
}

/// Writes PINGREQ or PINGRESP at the front of `out`.
fn encode_ping(t: PacketType, max: Option<usize>, out: &mut [u8]) -> Result<usize, EncodeError> {
    let fitted = fit_ping(t, max)?;
    match out.get_mut(..2) {
        Some(out) => {
            out.copy_from_slice(&[fitted.first, 0]);
            Ok(2)
        }
        None => Err(EncodeError::BufferTooSmall {
            needed: 2,
            available: out.len(),
        }),
    }
}

/// Writes a fixed header: one write when the Remaining Length takes one byte, as it does
/// for all but large packets.
#[inline(always)]
fn put_fixed_header<S: Sink + ?Sized>(out: &mut S, first: u8, body: usize) {
    if body < 0x80 {
        out.put_slice(&[first, body as u8]);
    } else {
        out.put_u8(first);
        varint::put(out, body);
    }
}

#[cfg(feature = "alloc")]
/// Sizes one packet whose body is `body` and writes it into `buf`, as [`encode_into`] does
/// into a slice. Not inlined: one function per packet type.
#[inline(never)]
fn put_owned<T: EncodeBody, B: BufMut + ?Sized>(
    body: &T,
    version: ProtocolVersion,
    max: Option<usize>,
    buf: &mut B,
) -> Result<usize, EncodeError> {
    sized(body, version, max)?.write(body, version, buf)
}

#[cfg(feature = "alloc")]
/// Sizes and appends one owned packet, `view` giving the borrowed view the one encoder
/// works on, with no size limit. Not inlined: one function per packet type keeps each frame
/// small, where one function for all spills more; and apart from [`append_limited`], whose
/// trimming calls out would make every packet save registers. The view is made here and
/// never referred to out of line, so that it need not be stored: only the fields used are
/// read.
#[inline(never)]
fn append_owned<'p, O: ?Sized, T: EncodeBody>(
    packet: &'p O,
    view: impl FnOnce(&'p O) -> T,
    version: ProtocolVersion,
    buf: &mut BytesMut,
) -> Result<usize, EncodeError> {
    let body = view(packet);
    let (len, total) = size_of(&body, version, Trim::Nothing)?;
    Fitted::whole(&body, len, total).append(&body, version, buf);
    Ok(total)
}

#[cfg(feature = "alloc")]
/// [`append_owned`] within `max`, trimmed to fit if MQTT 5.0 allows it.
#[inline(never)]
fn append_limited<'p, O: ?Sized, T: EncodeBody>(
    packet: &'p O,
    view: impl FnOnce(&'p O) -> T,
    version: ProtocolVersion,
    max: usize,
    buf: &mut BytesMut,
) -> Result<usize, EncodeError> {
    let body = view(packet);
    let fitted = sized(&body, version, Some(max))?;
    fitted.append(&body, version, buf);
    Ok(fitted.total)
}

#[cfg(feature = "alloc")]
/// Appends PINGREQ or PINGRESP, which have no body.
#[inline(never)]
fn append_ping(
    t: PacketType,
    max: Option<usize>,
    buf: &mut BytesMut,
) -> Result<usize, EncodeError> {
    let fitted = fit_ping(t, max)?;
    buf.extend_from_slice(&[fitted.first, 0]);
    Ok(2)
}

/// An MQTT control packet as a borrowed view of the bytes it was decoded from: the same
/// fields as [`Packet`], with strings, topics, payloads, binary properties and lists as
/// slices of the input. It needs no allocator, and costs no reference counts.
///
/// Decoding checks exactly what the owned decoder checks, with the same [`DecodeError`]s
/// (the owned packets are made from these views); lists (subscriptions, reason codes, User
/// Properties, Subscription Identifiers) are checked once then and iterated without checks.
///
/// ```
/// use mqttwire::{Decoded, PacketRef, ProtocolVersion};
///
/// // A QoS 1 PUBLISH on "a/b" with packet identifier 7 and payload "hi", then half a PUBACK.
/// let input = [0x32, 0x09, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x07, b'h', b'i', 0x40, 0x02];
/// let Decoded::Complete(PacketRef::Publish(publish), used) =
///     PacketRef::decode(&input, ProtocolVersion::V3_1_1).unwrap()
/// else {
///     panic!("a whole PUBLISH")
/// };
/// assert_eq!((publish.topic.as_str(), publish.payload), ("a/b", &b"hi"[..]));
/// assert_eq!(
///     PacketRef::decode(&input[used..], ProtocolVersion::V3_1_1),
///     Ok(Decoded::Partial { needed: Some(2) })
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketRef<'a> {
    /// CONNECT.
    Connect(ConnectRef<'a>),
    /// CONNACK.
    ConnAck(ConnAckRef<'a>),
    /// PUBLISH.
    Publish(PublishRef<'a>),
    /// PUBACK.
    PubAck(PubAckRef<'a>),
    /// PUBREC.
    PubRec(PubRecRef<'a>),
    /// PUBREL.
    PubRel(PubRelRef<'a>),
    /// PUBCOMP.
    PubComp(PubCompRef<'a>),
    /// SUBSCRIBE.
    Subscribe(SubscribeRef<'a>),
    /// SUBACK.
    SubAck(SubAckRef<'a>),
    /// UNSUBSCRIBE.
    Unsubscribe(UnsubscribeRef<'a>),
    /// UNSUBACK.
    UnsubAck(UnsubAckRef<'a>),
    /// PINGREQ.
    PingReq,
    /// PINGRESP.
    PingResp,
    /// DISCONNECT.
    Disconnect(DisconnectRef<'a>),
    /// AUTH (MQTT 5.0 only).
    Auth(AuthRef<'a>),
}

/// What [`PacketRef::decode`] found at the front of its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A whole packet, and how many bytes of the input it took; the rest is left alone.
    Complete(PacketRef<'a>, usize),
    /// The input ends before the packet does: nothing is wrong so far.
    Partial {
        /// How many more bytes the packet needs; `None` while its fixed header is itself
        /// incomplete (at least one more byte).
        needed: Option<usize>,
    },
}

impl<'a> PacketRef<'a> {
    /// Decodes the packet at the front of `input` at `version`. A CONNECT is decoded at the
    /// protocol level its own bytes declare, whatever `version` says. No size limit applies
    /// beyond the protocol's.
    ///
    /// # Errors
    ///
    /// Malformed input, with the reason code and the rule it breaks. Input that is merely
    /// short is [`Decoded::Partial`], never an error.
    #[inline]
    pub fn decode(input: &'a [u8], version: ProtocolVersion) -> Result<Decoded<'a>, DecodeError> {
        Self::decode_limited(input, Some(version), MAX_PACKET_SIZE, false)
    }

    /// [`decode`](Self::decode) with the [`Decoder`](crate::Decoder)'s settings: `version`
    /// `None` for the server side of a connection before its CONNECT (any other packet is
    /// refused, [MQTT-3.1.0-1]), a maximum packet size, checked at the fixed header (0x95),
    /// and strict strings (see [`Decoder::with_strict_strings`](crate::Decoder::with_strict_strings)).
    ///
    /// # Errors
    ///
    /// As [`decode`](Self::decode).
    #[inline]
    pub fn decode_limited(
        input: &'a [u8],
        version: Option<ProtocolVersion>,
        max_packet_size: usize,
        strict_strings: bool,
    ) -> Result<Decoded<'a>, DecodeError> {
        if version.is_none() {
            check_first_packet(input)?;
        }
        let header = match whole_packet(input, version, max_packet_size)? {
            Ok(header) => header,
            Err(needed) => return Ok(Decoded::Partial { needed }),
        };
        decode_view(input, &header, version, strict_strings)
    }

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

    /// Bytes the packet takes when encoded at `version`, or why it cannot be encoded there.
    /// A CONNECT is always encoded at its own `protocol_version`.
    pub fn encoded_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        self.fit(version, None).map(|fitted| fitted.total)
    }

    /// Encodes the packet at `version` at the front of `out` and returns the bytes written,
    /// exactly [`encoded_len`](Self::encoded_len): everything is checked and sized first,
    /// and on any error, [`BufferTooSmall`](EncodeError::BufferTooSmall) included, nothing
    /// is written. A CONNECT is always encoded at its own `protocol_version`.
    ///
    /// ```
    /// use mqttwire::{PacketId, PacketRef, ProtocolVersion, PubAckRef, PubAck};
    ///
    /// let ack = PubAck::new(PacketId::new(7).unwrap());
    /// let mut out = [0u8; 16];
    /// let n = PacketRef::PubAck(ack.as_view()).encode(ProtocolVersion::V5, &mut out).unwrap();
    /// assert_eq!(&out[..n], [0x40, 0x02, 0x00, 0x07]);
    /// ```
    #[inline]
    pub fn encode(&self, version: ProtocolVersion, out: &mut [u8]) -> Result<usize, EncodeError> {
        dispatch!(self, p => encode_into(p, version, out), ping => {
            encode_ping(self.packet_type(), None, out)
        })
    }

    /// [`encode`](Self::encode) within the peer's Maximum Packet Size, leaving out what
    /// MQTT 5.0 lets a sender leave out, as [`Packet::encode_with_limit`] does.
    pub fn encode_with_limit(
        &self,
        version: ProtocolVersion,
        max_packet_size: usize,
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        let max = Some(max_packet_size);
        dispatch!(self, p => encode_into_limited(p, version, max, out), ping => {
            encode_ping(self.packet_type(), max, out)
        })
    }

    /// Sizes the packet, leaving out what MQTT 5.0 lets a sender drop until it fits `max`.
    pub(crate) fn fit(
        &self,
        version: ProtocolVersion,
        max: Option<usize>,
    ) -> Result<Fitted, EncodeError> {
        dispatch!(self, p => fit(p, version, max), ping => fit_ping(self.packet_type(), max))
    }
}

/// Each packet type's view encodes on its own too: the same bytes and errors as
/// [`PacketRef::encode`] of that packet, but a program links only the encoders of the
/// types it calls this on, where `PacketRef::encode`, which dispatches over all fifteen,
/// links every one (about 7 KB on a Cortex-M: a client that sends PUBLISH and
/// acknowledgements needs a fraction of it). The four acknowledgements share one encoder
/// here (`$body`: [`ack::AckBody`]), for some 700 bytes less, at a few instructions more
/// per packet than `PacketRef::encode`'s, which are specialised to each type for speed.
macro_rules! encode_view {
    ($($view:ident => $variant:ident $(, $body:ident)?);+ $(;)?) => {$(
        impl $view<'_> {
            /// Encodes the packet at `version` at the front of `out` and returns the bytes
            #[doc = concat!("written: exactly what [`PacketRef::", stringify!($variant), "`]")]
            /// of it encodes, linking the encoder of this packet type alone. Everything is
            /// checked and sized first; on any error nothing is written.
            ///
            /// # Errors
            ///
            /// As [`PacketRef::encode`].
            pub fn encode(
                &self,
                version: ProtocolVersion,
                out: &mut [u8],
            ) -> Result<usize, EncodeError> {
                encode_into(&(*self)$(.$body())?, version, out)
            }
        }
    )+};
}

encode_view!(
    ConnectRef => Connect;
    ConnAckRef => ConnAck;
    PublishRef => Publish;
    PubAckRef => PubAck, ack;
    PubRecRef => PubRec, ack;
    PubRelRef => PubRel, ack;
    PubCompRef => PubComp, ack;
    SubscribeRef => Subscribe;
    SubAckRef => SubAck;
    UnsubscribeRef => Unsubscribe;
    UnsubAckRef => UnsubAck;
    DisconnectRef => Disconnect;
    AuthRef => Auth;
);

/// The fixed header of the packet at the front of `input` when all its bytes are there, or
/// how many more it needs (`None` while the fixed header itself is cut short).
#[inline(always)]
fn whole_packet(
    input: &[u8],
    version: Option<ProtocolVersion>,
    max_packet_size: usize,
) -> Result<Result<FixedHeader, Option<usize>>, DecodeError> {
    Ok(match FixedHeader::parse(input, version, max_packet_size)? {
        Some(header) if header.total_len() <= input.len() => Ok(header),
        Some(header) => Err(header.needed(input)?),
        None => Err(None),
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

#[cfg(feature = "alloc")]
macro_rules! impl_from_packet {
    ($($variant:ident),+) => {$(
        impl From<$variant> for Packet {
            fn from(p: $variant) -> Packet {
                Packet::$variant(p)
            }
        }
    )+};
}
#[cfg(feature = "alloc")]
impl From<Connect> for Packet {
    fn from(p: Connect) -> Packet {
        Packet::Connect(Box::new(p))
    }
}

#[cfg(feature = "alloc")]
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
}
