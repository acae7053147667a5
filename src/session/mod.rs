//! The sans-IO session engine: MQTT's QoS 0, 1 and 2 delivery flows, connection set-up,
//! flow control, topic aliases and keep alive, for a client ([`Client`]) or for the server
//! side of one client connection ([`Server`]).
//!
//! A [`Session`] does no I/O and reads no clock. The caller owns the transport and the
//! time: it decodes packets with a [`Decoder`](crate::Decoder) and hands them to the
//! session with the current [`Instant`], and sends what the session gives back. The same
//! engine therefore runs under an async runtime, over blocking sockets, or on a
//! microcontroller.
//!
//! # The run loop
//!
//! Inputs are [`handle_incoming`](Session::handle_incoming) (a decoded packet),
//! [`handle_timeout`](Session::handle_timeout) (a deadline passed; calling it early does
//! nothing), [`handle_connection_lost`](Session::handle_connection_lost), and the
//! application's commands (`connect`, [`publish`](Session::publish), `subscribe`,
//! [`ack`](Session::ack), [`disconnect`](Session::disconnect), ...). After any input:
//!
//! 1. send every packet [`poll_transmit`](Session::poll_transmit) (or
//!    [`poll_transmit_into`](Session::poll_transmit_into)) yields, until `None`;
//! 2. handle every [`Event`] [`poll_event`](Session::poll_event) yields, until `None`
//!    (handling one may issue commands: loop back to 1);
//! 3. wait for the next packet or until [`poll_timeout`](Session::poll_timeout), whichever
//!    comes first, and call `handle_timeout` when the deadline passes.
//!
//! A delivered message's topic and payload are slices of the buffer it was received in
//! (zero-copy): handle events before reading more bytes, and copy out
//! ([`Publish::detach`](crate::Publish::detach), [`Packet::detach`](crate::Packet::detach))
//! what must outlive the moment, or the decoder cannot reuse its buffer and allocates a
//! new one.
//!
//! A client and a server talking over an in-memory "link", a QoS 1 message from one to the
//! other:
//!
//! ```
//! use mqttwire::session::{Client, Event, Instant, Server, SessionConfig};
//! use mqttwire::properties::ConnAckProperties;
//! use mqttwire::{Connect, MqttString, ProtocolVersion, Publish, QoS, TopicName};
//!
//! let now = Instant::ZERO;
//! let mut client = Client::new(SessionConfig::default());
//! let mut server = Server::new(SessionConfig::default());
//!
//! // Moves every packet one side has to send to the other, as a network would.
//! fn pump(now: Instant, client: &mut Client, server: &mut Server) {
//!     loop {
//!         let mut moved = false;
//!         while let Some(packet) = client.poll_transmit(now) {
//!             server.handle_incoming(now, packet).unwrap();
//!             moved = true;
//!         }
//!         while let Some(packet) = server.poll_transmit(now) {
//!             client.handle_incoming(now, packet).unwrap();
//!             moved = true;
//!         }
//!         if !moved {
//!             return;
//!         }
//!     }
//! }
//!
//! let id = MqttString::new("sensor-17").unwrap();
//! client.connect(now, Connect::new(ProtocolVersion::V5, id)).unwrap();
//! pump(now, &mut client, &mut server);
//! // The server application decides whether to let the client in.
//! assert!(matches!(server.poll_event(), Some(Event::ConnectRequest(_))));
//! server.accept(None, ConnAckProperties::default()).unwrap();
//! pump(now, &mut client, &mut server);
//! assert!(matches!(client.poll_event(), Some(Event::Connected(_))));
//!
//! let message = Publish::new(TopicName::new("sensors/17").unwrap(), "21.5");
//! let packet_id = client.publish(QoS::AtLeastOnce, message).unwrap().unwrap();
//! pump(now, &mut client, &mut server);
//! let _ = server.poll_event(); // Connected
//! match server.poll_event() {
//!     Some(Event::Message(m)) => assert_eq!(&m.payload[..], b"21.5"),
//!     other => panic!("{other:?}"),
//! }
//! assert_eq!(
//!     client.poll_event(),
//!     Some(Event::PublishAcknowledged { packet_id, reason_code: Default::default() })
//! );
//! ```
//!
//! # Defaults to know before serving clients
//!
//! [`SessionConfig::default`] is conservative, and a broker usually raises two limits:
//!
//! - **Maximum Packet Size: 1 MiB** ([`SessionConfig::maximum_packet_size`]), enforced by
//!   the decoder from [`SessionConfig::server_decoder`]. A PUBLISH with a 1 MiB payload is
//!   a little more than 1 MiB and is refused (0x95 in 5.0, the connection closes). The
//!   protocol allows 256 MiB ([`MAX_PACKET_SIZE`](crate::MAX_PACKET_SIZE)).
//! - **Topic Alias Maximum: 0** ([`SessionConfig::topic_alias_maximum`]): clients may not
//!   use Topic Aliases towards the server until it announces more (5.0).
//!
//! The peer's limits are its own: a client that announces no Topic Alias Maximum (most do
//! not) gets no aliases from the server, and one that announces a Maximum Packet Size gets
//! nothing larger ([`Session::publish`] refuses it). [`Connected`] reports what is in force.
//!
//! # Serving a broker
//!
//! A broker runs one [`Server`] per client connection and does the rest itself: it
//! decides who may connect ([`Server::accept`], [`Server::reject`]), what a subscription
//! is granted ([`Server::suback`]), and where each [`Event::Message`] goes. To forward a
//! message, it [`publish`](Session::publish)es it to each subscriber's session, at the
//! lower of its QoS and the subscription's. A delivered message carries no Topic Alias (an
//! alias belongs to one connection), and a server sends a message without its properties
//! to a client below 5.0, so the same message can go to every subscriber; RETAIN,
//! Subscription Identifiers and the Message Expiry Interval are the broker's to set per
//! subscriber. The session state of a client that left with a session that outlives the
//! connection ([`Connected::session_expiry_interval`],
//! [`Session::session_expiry_interval`]) comes out with [`Session::take_session`]; the
//! broker queues QoS 1 and 2 messages into it while the client is away
//! ([`SessionState::queue`]) and hands it to the engine of the client's next connection
//! ([`Server::accept`]). The will is the broker's too: [`DisconnectCause::publishes_will`]
//! says whether an ended connection's will is due, and
//! [`Will::to_publish`](crate::Will::to_publish) makes it a message. `examples/broker.rs`
//! is a complete broker built this way.
//!
//! # Delivery and flow control
//!
//! - **QoS 2 is delivered on PUBLISH.** A received QoS 2 message is handed to the
//!   application when its PUBLISH first arrives; its packet identifier is kept until PUBREL
//!   so that a retransmission is answered with PUBREC but not delivered again. This is the
//!   earliest exactly-once point and needs no copy of the message.
//! - **Our QoS 1 and 2 messages queue behind the peer's Receive Maximum.** `publish` never
//!   waits and never exceeds the peer's limit: a message beyond it is queued, in order, and
//!   sent when an acknowledgement makes room. The queue is bounded by
//!   [`SessionConfig::max_outgoing`]; past it `publish` returns
//!   [`SessionError::OutgoingQueueFull`]. QoS 0 messages are never queued.
//! - **Retransmission happens only when a session resumes** (MQTT 5.0 [MQTT-4.4.0-1]):
//!   first PUBREL, in the order the PUBRECs arrived, then PUBLISH with DUP set, in publish
//!   order. No retry timers.
//! - Acknowledgements leave in the order the messages arrived, with manual acknowledgement
//!   too ([`SessionConfig::manual_acks`]).
//!
//! - **A packet identifier is reused only once the peer cannot hold it any more**: after
//!   PUBACK, PUBCOMP or a failing PUBREC, or when the peer has no session. An
//!   acknowledgement whose kind does not fit its identifier's stage (a PUBACK for a QoS 2
//!   message, a PUBCOMP before PUBREC, ...) is a protocol violation.
//!
//! # State, memory and cost
//!
//! Memory grows only with the configured limits and what is actually in flight, never with
//! what the peer repeats: unacknowledged outgoing messages
//! ([`SessionConfig::max_outgoing`]), received QoS 2 messages awaiting PUBREL and pending
//! acknowledgements ([`SessionConfig::receive_maximum`]; a copy of a message whose
//! acknowledgement is pending adds nothing), topic aliases. The tables reuse their memory,
//! so the steady state allocates nothing per call. Every operation costs O(1) per packet
//! whatever the number of messages in flight: the tables are indexed by packet identifier,
//! and the orders (acknowledgements in arrival order, resends in publish order) are linked
//! lists through them. What outlives a connection is the [`SessionState`].

mod acks;
mod aliases;
mod client;
mod config;
mod core;
mod error;
mod event;
mod id_table;
mod instant;
mod outgoing;
mod persist;
mod role;
mod server;
mod state;
mod will;

pub use self::config::SessionConfig;
pub use self::error::{AcceptError, ProtocolError, SessionError};
pub use self::event::{Connected, DisconnectCause, Event};
pub use self::instant::Instant;
pub use self::persist::RestoreError;
pub use self::role::{Client, ClientRole, Server, ServerRole, Session};
pub use self::state::SessionState;
