//! A deterministic client/server pair on virtual time for the session tests: every packet
//! crosses a simulated link as bytes (encoded, then decoded by a real `Decoder`), and the
//! test decides when packets arrive, whether one is duplicated or lost, and when the link
//! drops. The server side plays a minimal broker: it accepts every CONNECT (resuming the
//! session it stored for the client when asked), grants every subscription, and keeps the
//! session state across links.
//!
//! The broker can be made harder to serve: `defer_accept` leaves each CONNECT unanswered
//! until `answer_connect` (so what arrives meanwhile is held by the engine), and
//! `failing_accepts` makes each answer first call `accept` that many times with properties
//! it must refuse, retrying with the session the error hands back. `relink` changes
//! either side's configuration and the protocol version between links, and can pass both
//! sessions through `SessionState::save` and `restore` on the way.

#![allow(dead_code)]

use bytes::{Bytes, BytesMut};
use mqttwire::properties::{AckProperties, ConnAckProperties};
use mqttwire::session::{Client, Event, Instant, Server, SessionConfig, SessionState};
use mqttwire::{
    Connect, Decoder, MqttString, Packet, PacketType, ProtocolVersion, Publish, QoS,
    SubAckReasonCode, TopicName, UnsubAckReasonCode,
};
use std::collections::VecDeque;
use std::time::Duration;

/// Which way a packet travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    ToServer,
    ToClient,
}

/// A packet as it crossed the link.
#[derive(Debug, Clone)]
pub struct Crossed {
    pub dir: Dir,
    pub packet: Packet,
    pub bytes: Bytes,
}

pub struct Pair {
    pub version: ProtocolVersion,
    pub now: Instant,
    pub client: Client,
    pub server: Server,
    pub server_config: SessionConfig,
    /// Encoded packets on the link, not yet delivered.
    pub to_server: VecDeque<Bytes>,
    pub to_client: VecDeque<Bytes>,
    /// Everything delivered, in order.
    pub log: Vec<Crossed>,
    /// Events each side reported, in order (the server's include its automatic answers'
    /// triggers: ConnectRequest, Subscribe, ...).
    pub client_events: Vec<Event>,
    pub server_events: Vec<Event>,
    /// What the server stored of the client's session when the last link dropped.
    pub stored: Option<SessionState>,
    /// Whether the server side answers CONNECT, SUBSCRIBE and UNSUBSCRIBE by itself.
    pub auto_answer: bool,
    /// Whether the broker keeps the session after the link (Clean Start 0 sessions).
    pub keep_session: bool,
    /// Whether the broker leaves a CONNECT unanswered until `answer_connect`.
    pub defer_accept: bool,
    /// A CONNECT awaits the broker's answer (its Clean Start).
    pub pending_connect: Option<bool>,
    /// How many times each answer first calls `accept` with properties it must refuse.
    pub failing_accepts: u8,
    /// Every way a failed `accept` broke its contract (it succeeded, sent something, or did
    /// not hand the session back as it was given), described.
    pub accept_breaches: Vec<String>,
    client_decoder: Decoder,
    server_decoder: Decoder,
}

pub fn topic(s: &str) -> TopicName {
    TopicName::new(s).unwrap()
}

pub fn message(t: &str, payload: &'static str) -> Publish {
    Publish::new(topic(t), payload)
}

impl Pair {
    pub fn new(version: ProtocolVersion) -> Self {
        Self::with_configs(version, SessionConfig::default(), SessionConfig::default())
    }

    pub fn with_configs(
        version: ProtocolVersion,
        client_config: SessionConfig,
        server_config: SessionConfig,
    ) -> Self {
        Self {
            version,
            now: Instant::from_millis(1_000),
            client_decoder: client_config.client_decoder(version),
            server_decoder: server_config.server_decoder(),
            client: Client::new(client_config),
            server: Server::new(server_config.clone()),
            server_config,
            to_server: VecDeque::new(),
            to_client: VecDeque::new(),
            log: Vec::new(),
            client_events: Vec::new(),
            server_events: Vec::new(),
            stored: None,
            auto_answer: true,
            keep_session: true,
            defer_accept: false,
            pending_connect: None,
            failing_accepts: 0,
            accept_breaches: Vec::new(),
        }
    }

    /// A CONNECT for client id "c1" at the pair's version.
    pub fn connect_packet(&self, clean_start: bool) -> Connect {
        let mut connect = Connect::new(self.version, MqttString::new("c1").unwrap());
        connect.clean_start = clean_start;
        connect.keep_alive = 10;
        if self.version.is_v5() && !clean_start {
            connect.properties.session_expiry_interval = Some(3_600);
        }
        connect
    }

    /// Connects and runs the link until CONNACK is through.
    pub fn connect(&mut self, clean_start: bool) {
        let connect = self.connect_packet(clean_start);
        self.connect_with(connect);
    }

    pub fn connect_with(&mut self, connect: Connect) {
        self.client.connect(self.now, connect).unwrap();
        self.run();
    }

    /// Moves the client's and server's outgoing packets onto the link (not delivering).
    pub fn flush(&mut self) {
        let now = self.now;
        let mut buf = BytesMut::new();
        while self
            .client
            .poll_transmit_into(now, &mut buf)
            .unwrap()
            .is_some()
        {
            self.to_server.push_back(buf.split().freeze());
        }
        while self
            .server
            .poll_transmit_into(now, &mut buf)
            .unwrap()
            .is_some()
        {
            self.to_client.push_back(buf.split().freeze());
        }
    }

    /// Delivers the next packet waiting for the server, if any; returns it.
    pub fn deliver_to_server(&mut self) -> Option<Packet> {
        self.flush();
        let bytes = self.to_server.pop_front()?;
        let packet = decode(&mut self.server_decoder, &bytes);
        self.log.push(Crossed {
            dir: Dir::ToServer,
            packet: packet.clone(),
            bytes,
        });
        let _ = self.server.handle_incoming(self.now, packet.clone());
        self.drain_events();
        Some(packet)
    }

    /// Delivers the next packet waiting for the client, if any; returns it.
    pub fn deliver_to_client(&mut self) -> Option<Packet> {
        self.flush();
        let bytes = self.to_client.pop_front()?;
        let packet = decode(&mut self.client_decoder, &bytes);
        self.log.push(Crossed {
            dir: Dir::ToClient,
            packet: packet.clone(),
            bytes,
        });
        let _ = self.client.handle_incoming(self.now, packet.clone());
        self.drain_events();
        Some(packet)
    }

    /// Delivers packets both ways until nothing moves.
    pub fn run(&mut self) {
        loop {
            self.flush();
            let a = self.deliver_to_server().is_some();
            let b = self.deliver_to_client().is_some();
            if !a && !b {
                return;
            }
        }
    }

    /// Duplicates the next packet waiting for the server (a copy arrives right after it).
    pub fn duplicate_next_to_server(&mut self) {
        self.flush();
        if let Some(b) = self.to_server.front().cloned() {
            self.to_server.push_front(b);
        }
    }

    /// Duplicates the next packet waiting for the client.
    pub fn duplicate_next_to_client(&mut self) {
        self.flush();
        if let Some(b) = self.to_client.front().cloned() {
            self.to_client.push_front(b);
        }
    }

    /// The link drops: undelivered packets are lost and both sides learn it. The broker
    /// keeps the client's session state for the next link (when `keep_session`).
    pub fn drop_link(&mut self) {
        self.flush();
        self.to_server.clear();
        self.to_client.clear();
        self.client.handle_connection_lost();
        self.server.handle_connection_lost();
        let state = self.server.take_session();
        // A session the last link never got to resume (it dropped before the CONNECT
        // arrived) is still the one stored.
        if !self.keep_session {
            self.stored = None;
        } else if self.stored.is_none() {
            self.stored = Some(state);
        }
        self.drain_events();
        self.pending_connect = None;
        self.server = Server::new(self.server_config.clone());
        self.client_decoder = self.client.config().client_decoder(self.version);
        self.server_decoder = self.server_config.server_decoder();
    }

    /// Between links (after `drop_link`): the next link speaks `version`, the client goes
    /// on with `client_config` and the broker with `server_config`. With `roundtrip` both
    /// sessions (the client's and the one the broker keeps) are replaced by what
    /// `SessionState::restore` makes of their `save`, as after a restart of both processes.
    pub fn relink(
        &mut self,
        version: ProtocolVersion,
        client_config: SessionConfig,
        server_config: SessionConfig,
        roundtrip: bool,
    ) {
        self.drain_events();
        let mut session = self.client.take_session();
        if roundtrip {
            session = save_and_restore(&session);
            self.roundtrip_stored();
        }
        self.version = version;
        self.client = Client::with_session(client_config, session);
        self.server_config = server_config;
        self.server = Server::new(self.server_config.clone());
        self.client_decoder = self.client.config().client_decoder(self.version);
        self.server_decoder = self.server_config.server_decoder();
    }

    /// Replaces the session the broker keeps outside any engine by what `restore` makes
    /// of its `save`.
    pub fn roundtrip_stored(&mut self) {
        if let Some(stored) = &self.stored {
            self.stored = Some(save_and_restore(stored));
        }
    }

    /// Answers the CONNECT that `defer_accept` left waiting, as `drain_events` would have.
    pub fn answer_connect(&mut self) {
        if let Some(clean_start) = self.pending_connect.take() {
            self.accept(clean_start);
            self.drain_events();
        }
    }

    /// The broker's answer to a CONNECT: `failing_accepts` refused attempts, each handing
    /// the session back, then the accept that succeeds.
    fn accept(&mut self, clean_start: bool) {
        let mut session = if clean_start {
            self.stored = None;
            None
        } else {
            self.stored.take()
        };
        for attempt in 0..self.failing_accepts {
            let before = session.as_ref().map(saved);
            let properties = self.refused_properties();
            match self.server.accept(session, properties) {
                Ok(()) => {
                    self.accept_breaches
                        .push(format!("attempt {attempt}: accepted refused properties"));
                    return;
                }
                Err(e) => {
                    if let Some(p) = self.server.poll_transmit(self.now) {
                        self.accept_breaches
                            .push(format!("attempt {attempt}: {:?} sent {p:?}", e.error()));
                    }
                    session = e.into_session();
                    let after = session.as_ref().map(saved);
                    if after != before {
                        self.accept_breaches.push(format!(
                            "attempt {attempt}: given {} session, handed back {}",
                            if before.is_some() { "a" } else { "no" },
                            match (&before, &after) {
                                (_, None) => "none",
                                _ => "a different one",
                            }
                        ));
                    }
                }
            }
        }
        self.server
            .accept(session, ConnAckProperties::default())
            .unwrap();
    }

    /// CONNACK properties `accept` must refuse on this connection: at 5.0 an
    /// Authentication Method the CONNECT did not ask for ([MQTT-4.12.0-6]); below 5.0 any
    /// property, which a 3.1.1 CONNACK cannot carry.
    fn refused_properties(&self) -> ConnAckProperties {
        let mut properties = ConnAckProperties::default();
        if self.server.protocol_version().is_v5() {
            properties.set_authentication_method(Some(MqttString::new("none-such").unwrap()));
        } else {
            properties.session_expiry_interval = Some(60);
        }
        properties
    }

    /// Advances virtual time, firing both sides' timers.
    pub fn advance(&mut self, by: Duration) {
        self.now = self.now + by;
        self.client.handle_timeout(self.now);
        self.server.handle_timeout(self.now);
        self.drain_events();
    }

    /// Collects both sides' events, answering the server's requests when `auto_answer`.
    pub fn drain_events(&mut self) {
        while let Some(e) = self.client.poll_event() {
            self.client_events.push(e);
        }
        while let Some(e) = self.server.poll_event() {
            if self.auto_answer {
                match &e {
                    Event::ConnectRequest(connect) if self.defer_accept => {
                        self.pending_connect = Some(connect.clean_start);
                    }
                    Event::ConnectRequest(connect) => self.accept(connect.clean_start),
                    Event::Subscribe(s) => {
                        let codes = s
                            .subscriptions
                            .iter()
                            .map(|sub| match sub.options.qos {
                                QoS::AtMostOnce => SubAckReasonCode::GrantedQoS0,
                                QoS::AtLeastOnce => SubAckReasonCode::GrantedQoS1,
                                QoS::ExactlyOnce => SubAckReasonCode::GrantedQoS2,
                            })
                            .collect();
                        self.server
                            .suback(s.packet_id, codes, AckProperties::default())
                            .unwrap();
                    }
                    Event::Unsubscribe(u) => {
                        let codes = if self.version.is_v5() {
                            vec![UnsubAckReasonCode::Success; u.filters.len()]
                        } else {
                            Vec::new()
                        };
                        self.server
                            .unsuback(u.packet_id, codes, AckProperties::default())
                            .unwrap();
                    }
                    _ => {}
                }
            }
            self.server_events.push(e);
        }
    }

    /// Packets of `ty` that crossed towards `dir`, in order.
    pub fn crossed(&self, dir: Dir, ty: PacketType) -> Vec<Packet> {
        self.log
            .iter()
            .filter(|c| c.dir == dir && c.packet.packet_type() == ty)
            .map(|c| c.packet.clone())
            .collect()
    }

    /// Payloads of the messages the server side delivered to its application, in order.
    pub fn server_messages(&self) -> Vec<Bytes> {
        messages(&self.server_events)
    }

    /// Payloads of the messages the client side delivered to its application, in order.
    pub fn client_messages(&self) -> Vec<Bytes> {
        messages(&self.client_events)
    }
}

pub fn messages(events: &[Event]) -> Vec<Bytes> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message(p) => Some(p.payload.clone()),
            _ => None,
        })
        .collect()
}

/// The bytes `SessionState::save` writes for `state`.
pub fn saved(state: &SessionState) -> Vec<u8> {
    let mut buf = BytesMut::new();
    state.save(&mut buf).expect("a session's own state saves");
    buf.to_vec()
}

/// What `SessionState::restore` makes of `state`'s `save`.
pub fn save_and_restore(state: &SessionState) -> SessionState {
    let bytes = saved(state);
    let restored = SessionState::restore(&bytes).expect("a saved session restores");
    assert_eq!(saved(&restored), bytes, "restore(save(s)) saves as s");
    restored
}

fn decode(decoder: &mut Decoder, bytes: &Bytes) -> Packet {
    let mut buf = BytesMut::from(&bytes[..]);
    let packet = decoder
        .decode(&mut buf)
        .expect("the session sent an undecodable packet")
        .expect("the session sent a partial packet");
    assert!(buf.is_empty(), "one packet per transmission");
    packet
}
