//! The decoder's dispatch: the fixed header names the packet type, that type's view reads
//! the body, and the result is built once, where the caller wants it: a [`Decoded`] view for
//! the borrowed core, a [`Packet`] (the view with its slices taken from the frame) for the
//! owned API. One small function per packet type and result: the owned ones out of line,
//! so that the common packets do not pay for the registers and stack of the rare ones; the
//! borrowed ones left to the compiler, which builds each view straight into the `Decoded`.

#[cfg(feature = "alloc")]
use super::{
    Auth, ConnAck, Connect, Disconnect, Packet, PubAck, PubComp, PubRec, PubRel, Publish, SubAck,
    Subscribe, UnsubAck, Unsubscribe,
};
use super::{
    AuthRef, ConnAckRef, ConnectRef, Decoded, DisconnectRef, PacketRef, PubAckRef, PubCompRef,
    PubRecRef, PubRelRef, PublishRef, SubAckRef, SubscribeRef, UnsubAckRef, UnsubscribeRef,
};
use crate::error::{DecodeError, DecodeErrorKind};
use crate::types::{PacketType, ProtocolVersion};
use crate::wire::fixed_header::{connect_flags_refusal, FixedHeader};
use crate::wire::reader::Reader;
#[cfg(feature = "alloc")]
use alloc::boxed::Box;
#[cfg(feature = "alloc")]
use bytes::Bytes;

/// A packet type's body as the decoder reads it: its view, and what the view becomes.
trait Body<'a>: Sized {
    /// Reads the body; `flags` are the fixed header's low four bits.
    fn read(r: &mut Reader<'a>, flags: u8) -> Result<Self, DecodeError>;

    /// The view as a [`PacketRef`].
    fn into_ref(self) -> PacketRef<'a>;

    /// The owned packet, its slices taken from `frame` where they lie in it.
    #[cfg(feature = "alloc")]
    fn to_packet(&self, frame: &Bytes) -> Packet;
}

macro_rules! body {
    ($($view:ident => $variant:ident($owned:ident) $(, $flags:ident)?;)+) => {$(
        impl<'a> Body<'a> for $view<'a> {
            #[inline(always)]
            fn read(r: &mut Reader<'a>, _flags: u8) -> Result<Self, DecodeError> {
                Self::decode(r $(, body!(@$flags _flags))?)
            }

            #[inline(always)]
            fn into_ref(self) -> PacketRef<'a> {
                PacketRef::$variant(self)
            }

            #[cfg(feature = "alloc")]
            #[inline(always)]
            fn to_packet(&self, frame: &Bytes) -> Packet {
                Packet::$variant(<$owned>::from_view(self, frame))
            }
        }
    )+};
    (@flags $f:ident) => { $f };
}

body! {
    ConnAckRef => ConnAck(ConnAck);
    PublishRef => Publish(Publish), flags;
    PubAckRef => PubAck(PubAck);
    PubRecRef => PubRec(PubRec);
    PubRelRef => PubRel(PubRel);
    PubCompRef => PubComp(PubComp);
    SubscribeRef => Subscribe(Subscribe);
    SubAckRef => SubAck(SubAck);
    UnsubscribeRef => Unsubscribe(Unsubscribe);
    UnsubAckRef => UnsubAck(UnsubAck);
    DisconnectRef => Disconnect(Disconnect);
    AuthRef => Auth(Auth);
}

impl<'a> Body<'a> for ConnectRef<'a> {
    #[inline(always)]
    fn read(r: &mut Reader<'a>, flags: u8) -> Result<Self, DecodeError> {
        if flags != 0 {
            // The whole body is there: the refusal, with the tag of its level if it has one.
            let body = r.rest();
            connect_flags_refusal(flags, body, body.len())?;
        }
        Self::decode(r)
    }

    #[inline(always)]
    fn into_ref(self) -> PacketRef<'a> {
        PacketRef::Connect(self)
    }

    #[cfg(feature = "alloc")]
    #[inline(always)]
    fn to_packet(&self, frame: &Bytes) -> Packet {
        Packet::Connect(Box::new(Connect::from_view(self, frame)))
    }
}

/// PINGREQ and PINGRESP: no body.
struct Ping<const REQUEST: bool>;

impl<'a, const REQUEST: bool> Body<'a> for Ping<REQUEST> {
    #[inline(always)]
    fn read(_: &mut Reader<'a>, _: u8) -> Result<Self, DecodeError> {
        Ok(Self)
    }

    #[inline(always)]
    fn into_ref(self) -> PacketRef<'a> {
        if REQUEST {
            PacketRef::PingReq
        } else {
            PacketRef::PingResp
        }
    }

    #[cfg(feature = "alloc")]
    #[inline(always)]
    fn to_packet(&self, _: &Bytes) -> Packet {
        if REQUEST {
            Packet::PingReq
        } else {
            Packet::PingResp
        }
    }
}

/// Calls `$f::<View, $g...>($args)` for the packet type `$t`.
macro_rules! by_type {
    ($t:expr, $f:ident $(::<$($g:ty),*>)? ($($arg:expr),*)) => {
        match $t {
            PacketType::Connect => $f::<ConnectRef<'_> $($(, $g)*)?>($($arg),*),
            PacketType::ConnAck => $f::<ConnAckRef<'_> $($(, $g)*)?>($($arg),*),
            PacketType::Publish => $f::<PublishRef<'_> $($(, $g)*)?>($($arg),*),
            PacketType::PubAck => $f::<PubAckRef<'_> $($(, $g)*)?>($($arg),*),
            PacketType::PubRec => $f::<PubRecRef<'_> $($(, $g)*)?>($($arg),*),
            PacketType::PubRel => $f::<PubRelRef<'_> $($(, $g)*)?>($($arg),*),
            PacketType::PubComp => $f::<PubCompRef<'_> $($(, $g)*)?>($($arg),*),
            PacketType::Subscribe => $f::<SubscribeRef<'_> $($(, $g)*)?>($($arg),*),
            PacketType::SubAck => $f::<SubAckRef<'_> $($(, $g)*)?>($($arg),*),
            PacketType::Unsubscribe => $f::<UnsubscribeRef<'_> $($(, $g)*)?>($($arg),*),
            PacketType::UnsubAck => $f::<UnsubAckRef<'_> $($(, $g)*)?>($($arg),*),
            PacketType::PingReq => $f::<Ping<true> $($(, $g)*)?>($($arg),*),
            PacketType::PingResp => $f::<Ping<false> $($(, $g)*)?>($($arg),*),
            PacketType::Disconnect => $f::<DisconnectRef<'_> $($(, $g)*)?>($($arg),*),
            PacketType::Auth => $f::<AuthRef<'_> $($(, $g)*)?>($($arg),*),
        }
    };
}

/// Decodes the packet at the front of `frame`, whose fixed header has been checked and whose
/// bytes are all there; anything after the packet is left alone.
#[inline]
pub(crate) fn decode_view<'a>(
    frame: &'a [u8],
    header: &FixedHeader,
    version: Option<ProtocolVersion>,
    strict_strings: bool,
) -> Result<Decoded<'a>, DecodeError> {
    let mut r = reader(frame, header, version, strict_strings)?;
    by_type!(header.packet_type, view(&mut r, header))
}

/// [`decode_view`], made owned: each packet type's view becomes its owned packet at once,
/// with its slices taken from `frame`, and `wrap` makes it the caller's result in place
/// (a packet is large: moved into a tuple or an `Option` after the fact, it is copied).
#[cfg(feature = "alloc")]
#[inline]
pub(crate) fn decode_owned<T>(
    frame: &Bytes,
    header: &FixedHeader,
    version: Option<ProtocolVersion>,
    strict_strings: bool,
    wrap: impl FnOnce(Packet) -> T,
) -> Result<T, DecodeError> {
    decode_owned_in(frame, frame, header, version, strict_strings, wrap)
}

/// [`decode_owned`] reading `bytes`, with the owned fields' bytes sliced from `frame` where
/// they lie in it and copied where not: the `Decoder` decodes a packet too short to hold a
/// string or binary field (an acknowledgement, a ping, a bare DISCONNECT) straight from its
/// receive buffer with an empty `frame`, without splitting a frame off for nothing.
#[cfg(feature = "alloc")]
#[inline]
pub(crate) fn decode_owned_in<T>(
    bytes: &[u8],
    frame: &Bytes,
    header: &FixedHeader,
    version: Option<ProtocolVersion>,
    strict_strings: bool,
    wrap: impl FnOnce(Packet) -> T,
) -> Result<T, DecodeError> {
    let mut r = reader(bytes, header, version, strict_strings)?;
    by_type!(header.packet_type, owned::<_>(&mut r, header, frame, wrap))
}

/// A reader over the packet's body at the right protocol level.
#[inline(always)]
fn reader<'a>(
    frame: &'a [u8],
    header: &FixedHeader,
    version: Option<ProtocolVersion>,
    strict_strings: bool,
) -> Result<Reader<'a>, DecodeError> {
    // CONNECT declares its own level; until it is read, 3.1.1 stands in.
    let version = match (header.packet_type, version) {
        (PacketType::Connect, v) => v.unwrap_or(ProtocolVersion::V3_1_1),
        (_, Some(v)) => v,
        (_, None) => return Err(expected_connect(header.packet_type)),
    };
    Ok(Reader::new(frame, header, version, strict_strings))
}

/// One packet type's view, checked to fill the Remaining Length exactly, then built once
/// into the caller's result; errors name the packet type. ([`owned`] repeats the match
/// rather than share a helper returning the view: measured, the extra `Result` costs the
/// borrowed PUBLISH 8 instructions.)
#[inline]
fn view<'a, B: Body<'a>>(
    r: &mut Reader<'a>,
    header: &FixedHeader,
) -> Result<Decoded<'a>, DecodeError> {
    match B::read(r, header.flags) {
        Ok(body) => match r.finish() {
            Ok(()) => Ok(Decoded::Complete(body.into_ref(), header.total_len())),
            Err(e) => Err(named(e, header.packet_type)),
        },
        Err(e) => Err(named(e, header.packet_type)),
    }
}

/// [`view`], made owned.
#[cfg(feature = "alloc")]
#[inline(never)]
fn owned<'a, B: Body<'a>, T>(
    r: &mut Reader<'a>,
    header: &FixedHeader,
    frame: &Bytes,
    wrap: impl FnOnce(Packet) -> T,
) -> Result<T, DecodeError> {
    match B::read(r, header.flags) {
        Ok(body) => match r.finish() {
            Ok(()) => Ok(wrap(body.to_packet(frame))),
            Err(e) => Err(named(e, header.packet_type)),
        },
        Err(e) => Err(named(e, header.packet_type)),
    }
}

/// Before the version is known, only a CONNECT may come ([MQTT-3.1.0-1]): the first byte is
/// enough to tell.
pub(crate) fn check_first_packet(input: &[u8]) -> Result<(), DecodeError> {
    match input.first().and_then(|b| PacketType::from_bits(b >> 4)) {
        Some(packet_type) if packet_type != PacketType::Connect => {
            Err(expected_connect(packet_type))
        }
        _ => Ok(()),
    }
}

/// Names the packet type in an error from its body: out of line, off the decoding path.
#[cold]
#[inline(never)]
fn named(e: DecodeError, packet_type: PacketType) -> DecodeError {
    e.in_packet(packet_type)
}

/// Anything but a CONNECT before the version is known ([MQTT-3.1.0-1]).
#[cold]
#[inline(never)]
fn expected_connect(packet_type: PacketType) -> DecodeError {
    DecodeError::new(DecodeErrorKind::ExpectedConnect)
        .with_rule("MQTT-3.1.0-1")
        .in_packet(packet_type)
}
