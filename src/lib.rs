//! # mqttwire
//!
//! A strict, zero-copy, sans-IO codec for MQTT 3.1, 3.1.1 and 5.0 control packets.
//!
//! - **One packet model** for protocol levels 3, 4 and 5: [`Packet`] holds all fifteen
//!   control packets; what only MQTT 5.0 has (properties, reason codes, AUTH) is typed and
//!   simply empty below 5.0, and encoding it at 3.1.1 is an error, never silent data loss.
//! - **Strict**: every rule of the specification that a codec can check is checked when
//!   decoding and when encoding. A [`DecodeError`] names the MQTT 5.0 reason code to
//!   disconnect with and the normative statement it enforces.
//! - **Safe on hostile input**: no input panics, and the [`Decoder`] checks a packet's size
//!   against its maximum at the fixed header, then grows its buffer with the bytes that
//!   arrive (at most twice them plus 4 KiB), never to the size a header claims.
//! - **Zero-copy**: topics, payloads, strings and binary properties of a decoded packet are
//!   [`Bytes`](bytes::Bytes) slices of the received frame; [`Packet::detach`] copies a
//!   packet out when it must outlive a large buffer.
//! - **Sans-IO**: no sockets, no clock, no threads: bytes in, packets out, and back.
//! - **A QoS engine**: the [`session`] module runs MQTT's QoS 0, 1 and 2 flows, connection
//!   set-up, flow control, topic aliases and keep alive for a client or for the server side
//!   of a connection, driven by your transport and your clock.
//! - **Two ways in**, over one decoder and one encoder: the owned API ([`Packet`],
//!   [`Decoder`], [`Encoder`], the [`session`] engine; feature `alloc`) for servers and
//!   async code, and the borrowed core ([`PacketRef`]: views into your `&[u8]`, encoded into
//!   your `&mut [u8]`) for firmware and peak speed, which needs `core` alone: no allocator,
//!   no atomics. The owned packets are made from the views, so both check exactly the same
//!   rules and report the same errors.
//!
//! ## Decoding a stream
//!
//! ```
//! use bytes::BytesMut;
//! use mqttwire::{Decoder, Packet, ProtocolVersion};
//!
//! let mut decoder = Decoder::new(ProtocolVersion::V5).with_max_packet_size(64 * 1024);
//! let mut rx = BytesMut::from(&[0x30, 0x08, 0x00, 0x03, b'a', b'/', b'b', 0x00, b'h', b'i'][..]);
//! while let Some(packet) = decoder.decode(&mut rx).unwrap() {
//!     if let Packet::Publish(publish) = packet {
//!         assert_eq!(publish.topic, "a/b");
//!         assert_eq!(&publish.payload[..], b"hi");
//!     }
//! }
//! ```
//!
//! ## Decoding one packet
//!
//! Without a stream, decode from `&[u8]` (or [`Bytes`](bytes::Bytes), zero-copy with
//! [`Packet::decode`]) and learn how many bytes the packet used:
//!
//! ```
//! use mqttwire::{Packet, ProtocolVersion};
//!
//! let input = [0x40, 0x02, 0x00, 0x07, 0xC0, 0x00]; // PUBACK 7, then a PINGREQ
//! let (packet, used) = Packet::decode_slice(&input, ProtocolVersion::V3_1_1).unwrap();
//! assert!(matches!(packet, Packet::PubAck(ref ack) if ack.packet_id.get() == 7));
//! assert_eq!(used, 4);
//! ```
//!
//! ## Encoding
//!
//! ```
//! use bytes::BytesMut;
//! use mqttwire::{Encoder, Packet, PacketId, ProtocolVersion, PubAck};
//!
//! let encoder = Encoder::new(ProtocolVersion::V5);
//! let mut tx = BytesMut::new();
//! encoder.encode(&Packet::PubAck(PubAck::new(PacketId::new(7).unwrap())), &mut tx).unwrap();
//! assert_eq!(&tx[..], [0x40, 0x02, 0x00, 0x07]);
//! ```
//!
//! ## How the pieces fit
//!
//! ```text
//!  bytes from your transport                                 bytes to your transport
//!           |                                                          ^
//!           v                                                          |
//!      [ Decoder ] --Packet--> [ session::Client / Server ] --Packet--> [ encode ]
//!                                  ^        |        |
//!                 now, commands ---+        |        +--> poll_timeout: when to wake up
//!                                           v
//!                               poll_event: messages, acks, connection changes
//! ```
//!
//! The codec alone ([`Decoder`], [`Packet::decode`], [`Encoder`], [`Packet::encode`]) is
//! enough for tools, bridges and brokers with their own state. The [`session`] module adds
//! MQTT's delivery guarantees on top; both do no I/O and read no clock.
//!
//! ## Running a session over `std::net`
//!
//! The [`session`] module documents the run loop in full; this is it over a blocking
//! socket, publishing one QoS 1 message and waiting for its acknowledgement
//! (`examples/client.rs` is a complete client):
//!
//! ```no_run
//! use bytes::BytesMut;
//! use mqttwire::session::{Client, Event, Instant, SessionConfig};
//! use mqttwire::{Connect, MqttString, ProtocolVersion, Publish, QoS, TopicName};
//! use std::io::{ErrorKind, Read, Write};
//! use std::net::TcpStream;
//! use std::time::Duration;
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let mut stream = TcpStream::connect("127.0.0.1:1883")?;
//!     let config = SessionConfig::default();
//!     let mut decoder = config.client_decoder(ProtocolVersion::V5);
//!     let mut client = Client::new(config);
//!     let (mut rx, mut tx) = (BytesMut::new(), BytesMut::new());
//!     let now = || Instant::from(std::time::Instant::now());
//!
//!     let id = MqttString::new("sensor-17")?;
//!     client.connect(now(), Connect::new(ProtocolVersion::V5, id))?;
//!     let mut published = false;
//!     loop {
//!         // 1. Send what the session has to send.
//!         while client.poll_transmit_into(now(), &mut tx)?.is_some() {}
//!         stream.write_all(&tx.split())?;
//!         // 2. Handle what happened (which may queue more packets: back to 1).
//!         let mut acted = false;
//!         while let Some(event) = client.poll_event() {
//!             match event {
//!                 Event::Connected(_) if !published => {
//!                     let message = Publish::new(TopicName::new("sensors/17")?, "21.5");
//!                     client.publish(QoS::AtLeastOnce, message)?;
//!                     (published, acted) = (true, true);
//!                 }
//!                 Event::PublishAcknowledged { .. } => return Ok(()),
//!                 Event::Disconnected(cause) => return Err(format!("{cause:?}").into()),
//!                 _ => {}
//!             }
//!         }
//!         if acted {
//!             continue;
//!         }
//!         // 3. Wait for bytes, at most until the session's next deadline.
//!         let wait = client.poll_timeout().map_or(Duration::from_secs(60), |t| {
//!             std::time::Instant::from(t).saturating_duration_since(std::time::Instant::now())
//!         });
//!         stream.set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
//!         let mut chunk = [0; 4096];
//!         match stream.read(&mut chunk) {
//!             Ok(0) => client.handle_connection_lost(),
//!             Ok(n) => {
//!                 rx.extend_from_slice(&chunk[..n]);
//!                 while let Some(packet) = decoder.decode(&mut rx)? {
//!                     client.handle_incoming(now(), packet)?;
//!                 }
//!             }
//!             Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
//!                 client.handle_timeout(now())
//!             }
//!             Err(e) => return Err(e.into()),
//!         }
//!     }
//! }
//! ```
//!
//! ## The borrowed core, without an allocator
//!
//! With `default-features = false` the crate needs `core` alone (it builds for
//! `thumbv6m-none-eabi`). [`PacketRef::decode`] answers a complete packet, with the bytes it
//! used, or how many more bytes it needs; [`PacketRef::encode`] writes into a slice, and
//! writes nothing if the packet does not fit:
//!
//! ```
//! use mqttwire::{Decoded, PacketId, PacketRef, ProtocolVersion, PublishRef, QosPid, TopicStr};
//!
//! let version = ProtocolVersion::V5;
//! let mut publish = PublishRef::new(TopicStr::new("sensors/7").unwrap(), b"21.5");
//! publish.qos = QosPid::AtLeastOnce(PacketId::new(1).unwrap());
//! let mut tx = [0u8; 64];
//! let n = PacketRef::Publish(publish).encode(version, &mut tx).unwrap();
//!
//! // The peer's answer, which may arrive in pieces.
//! let rx = [0x40, 0x02, 0x00, 0x01];
//! assert_eq!(PacketRef::decode(&rx[..3], version), Ok(Decoded::Partial { needed: Some(1) }));
//! let Ok(Decoded::Complete(PacketRef::PubAck(ack), 4)) = PacketRef::decode(&rx, version) else {
//!     panic!("a PUBACK")
//! };
//! assert_eq!(ack.packet_id.get(), 1);
//! # assert_eq!(&tx[..n], b"\x32\x12\x00\x09sensors/7\x00\x01\x0021.5");
//! ```
//!
//! Each view also encodes on its own ([`PublishRef::encode`], [`PubAckRef::encode`], ...):
//! the same bytes, but a firmware that sends only some packet types links only their
//! encoders, where [`PacketRef::encode`] links all fifteen. `firmware/` in the repository
//! runs this core on emulated Cortex-M0 and M3 boards with no heap at all.
//!
//! ## Errors name the rule
//!
//! ```
//! use bytes::Bytes;
//! use mqttwire::{Packet, ProtocolVersion, ReasonCode};
//!
//! // A SUBSCRIBE whose fixed header flags are 0000 instead of 0010.
//! let err = Packet::decode(&Bytes::from_static(&[0x80, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x00]),
//!                          ProtocolVersion::V3_1_1).unwrap_err();
//! assert_eq!(err.reason_code(), ReasonCode::MALFORMED_PACKET);
//! assert_eq!(err.rule(), Some("MQTT-3.8.1-1"));
//! ```
//!
//! ## Crate features
//!
//! - `std` (default): `std` support in `bytes` and `thiserror`; implies `alloc`.
//! - `alloc` (on through `std`): the owned API, which needs a heap allocator: [`Packet`] and
//!   the packet types with [`Bytes`](bytes::Bytes) fields, [`MqttString`], [`TopicName`],
//!   [`TopicFilter`], [`Decoder`], [`Encoder`] and the [`session`] engine. Without it the
//!   crate is the borrowed core and needs `core` alone.
//! - `arbitrary`: implements [`Arbitrary`](https://docs.rs/arbitrary/1/arbitrary/trait.Arbitrary.html)
//!   for [`Packet`], its packet structs, [`PacketType`] and every value type they hold
//!   (property sets, reason codes, strings, topics, identifiers), so that code using
//!   mqttwire can be fuzzed with structured packets. Generated values are valid for their
//!   types and lean towards the edges (multi-byte UTF-8, wildcards and shared
//!   subscriptions, repeated User Properties, Remaining Length boundaries); a generated
//!   packet may still be unencodable at a given protocol level, which the encoder reports.
//!   Enables `std`.
//! - `tokio-util`: implements tokio-util's
//!   [`Decoder`](https://docs.rs/tokio-util/0.7/tokio_util/codec/trait.Decoder.html) for
//!   [`Decoder`] and [`Encoder`](https://docs.rs/tokio-util/0.7/tokio_util/codec/trait.Encoder.html)
//!   (of [`Packet`] and `&Packet`) for [`Encoder`], forwarding to their own methods, with
//!   [`CodecError`](codec/enum.CodecError.html) as the error type, for `FramedRead`,
//!   `FramedWrite` and `Framed`. Method-call syntax picks the inherent methods, which share
//!   the traits' names: call a trait's with fully qualified syntax
//!   (`<Decoder as tokio_util::codec::Decoder>::decode(&mut decoder, &mut buf)`).
//!   `examples/tokio_client.rs` drives a [`session::Client`] over a tokio `TcpStream`.
//!   Enables `std`. tokio-util 0.7.20 and later need Rust 1.85.
//! - `portable-atomic` (implies `alloc`): the owned API on targets without atomic compare-and-swap, such
//!   as Cortex-M0 and M0+ (`thumbv6m-none-eabi`: RP2040, STM32F0/L0, nRF51), whose `bytes`
//!   otherwise does not compile. It turns on `bytes`' `extra-platforms`, whose reference
//!   counts then use [`portable-atomic`](https://docs.rs/portable-atomic/1). The firmware
//!   decides how those operations are made atomic, and must say so or the build fails:
//!   either portable-atomic's `critical-section` feature together with one
//!   [`critical-section`](https://docs.rs/critical-section/1) implementation (on a
//!   single-core Cortex-M, `cortex-m`'s `critical-section-single-core` feature, which a heap
//!   allocator such as `embedded-alloc` needs anyway):
//!
//!   ```toml
//!   [dependencies]
//!   mqttwire = { version = "0.1", default-features = false, features = ["portable-atomic"] }
//!   portable-atomic = { version = "1.3", default-features = false, features = ["critical-section"] }
//!   cortex-m = { version = "0.7", features = ["critical-section-single-core"] }
//!   ```
//!
//!   or, on a single-core chip whose code runs privileged, portable-atomic's
//!   `unsafe-assume-single-core` feature (or `--cfg portable_atomic_unsafe_assume_single_core`
//!   in `rustflags`), which disables interrupts itself. Both run the firmware in the
//!   repository's `firmware/` on an emulated Cortex-M0 (the BBC micro:bit under QEMU).
//!
//! ## Minimum supported Rust version
//!
//! Rust 1.81, for `core::error::Error`. Raising it is a minor-version change.

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

// Remaining Lengths up to 268,435,455 must fit in a usize.
#[cfg(target_pointer_width = "16")]
compile_error!("mqttwire needs a target with 32-bit or wider pointers");

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod codec;
pub mod error;
pub mod packet;
pub mod properties;
#[cfg(feature = "alloc")]
pub mod session;
pub mod types;
mod wire;

#[cfg(feature = "arbitrary")]
mod arbitrary;

/// Compiles the README's examples as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

#[cfg(feature = "tokio-util")]
pub use codec::CodecError;
pub use codec::MAX_PACKET_SIZE;
#[cfg(feature = "alloc")]
pub use codec::{Decoder, Encoder};
pub use error::{DecodeError, DecodeErrorKind, EncodeError};
#[cfg(feature = "alloc")]
pub use packet::{
    Auth, ConnAck, Connect, Disconnect, Packet, PubAck, PubComp, PubRec, PubRel, Publish, SubAck,
    Subscribe, Subscription, Subscriptions, SubscriptionsIter, TopicFilters, TopicFiltersIter,
    UnsubAck, Unsubscribe, Will,
};
pub use packet::{
    AuthRef, ConnAckRef, ConnectRef, Decoded, DisconnectRef, PacketRef, PacketType, PubAckRef,
    PubCompRef, PubRecRef, PubRelRef, PublishRef, RetainHandling, SubAckCodesIter, SubAckCodesRef,
    SubAckRef, SubscribeRef, SubscriptionOptions, SubscriptionRef, SubscriptionsRef,
    SubscriptionsRefIter, TopicFiltersRef, TopicFiltersRefIter, UnsubAckCodesIter,
    UnsubAckCodesRef, UnsubAckRef, UnsubscribeRef, WillRef,
};
pub use types::reason_code::{
    AuthReasonCode, ConnectReasonCode, DisconnectReasonCode, PubAckReasonCode, PubRelReasonCode,
    ReasonCode, SubAckReasonCode, UnsubAckReasonCode,
};
pub use types::{
    InvalidString, InvalidTopic, MqttStr, PacketId, ProtocolVersion, QoS, QosPid, SubscriptionId,
    TopicStr, VarInt,
};
#[cfg(feature = "alloc")]
pub use types::{MqttString, TopicFilter, TopicName};
