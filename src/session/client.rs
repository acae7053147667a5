//! The client role: CONNECT and CONNACK, SUBSCRIBE and UNSUBSCRIBE, keep-alive pings.

use super::core::{Core, PeerLimits, Status};
use super::{
    ClientRole, Connected, DisconnectCause, Event, Instant, ProtocolError, Session, SessionConfig,
    SessionError, SessionState,
};
use crate::packet::{ConnAck, Connect, Disconnect, Packet, Subscribe, Subscription, Unsubscribe};
use crate::properties::{ConnAckProperties, SubscribeProperties, UnsubscribeProperties};
use crate::types::reason_code::DisconnectReasonCode;
use crate::types::{PacketId, QoS, TopicFilter};
use alloc::vec::Vec;
use core::num::NonZeroU16;
use core::time::Duration;

impl Session<ClientRole> {
    /// A client with an empty session.
    #[must_use]
    pub fn new(config: SessionConfig) -> Self {
        Self::with_session(config, SessionState::default())
    }

    /// A client that resumes `session` (taken from an earlier client with
    /// [`take_session`](Session::take_session)) on its next `connect` with Clean Start 0.
    #[must_use]
    pub fn with_session(config: SessionConfig, session: SessionState) -> Self {
        Self::from_core(Core::new(config, false, session))
    }

    /// Starts a connection by queueing `connect`; the transport must be open.
    ///
    /// The session fills in our Receive Maximum, Maximum Packet Size and Topic Alias
    /// Maximum from its [`SessionConfig`] (MQTT 5.0). With `clean_start` set, the stored
    /// session is discarded now ([MQTT-3.1.2-4] in 5.0, [MQTT-3.1.2-6] in 3.1.1) and each
    /// dropped message is reported as [`Event::PublishDropped`].
    ///
    /// A server that does not speak `connect`'s protocol version refuses it: the
    /// connection ends with [`DisconnectCause::Refused`] and reason code
    /// `UnsupportedProtocolVersion`, also when a server that speaks only 3.1.1 answers a
    /// 5.0 CONNECT in its own layout (`20 02 00 01`), and nothing is sent back. Retry on a
    /// new transport with a CONNECT at `ProtocolVersion::V3_1_1` (and a decoder at 3.1.1);
    /// see [`DisconnectCause::Refused`].
    pub fn connect(&mut self, now: Instant, mut connect: Connect) -> Result<(), SessionError> {
        let core = &mut self.core;
        if matches!(core.status, Status::Connecting | Status::Connected) {
            return Err(SessionError::AlreadyConnected);
        }
        let version = connect.protocol_version;
        if version.is_v5() {
            let config = &core.config;
            let p = &mut connect.properties;
            p.receive_maximum =
                (config.receive_maximum != NonZeroU16::MAX).then_some(config.receive_maximum);
            p.maximum_packet_size = Some(config.maximum_packet_size);
            p.topic_alias_maximum =
                (config.topic_alias_maximum > 0).then_some(config.topic_alias_maximum);
        }
        let packet = Packet::from(connect);
        packet.encoded_len(version)?;
        let Packet::Connect(connect) = &packet else {
            return Ok(());
        };
        core.transmit.clear();
        if connect.clean_start {
            core.discard_session();
        }
        core.open(version);
        core.clean_start = connect.clean_start;
        core.keep_alive = Duration::from_secs(connect.keep_alive.into());
        core.auth_method = connect.properties.authentication_method();
        core.session_expiry = super::core::session_expiry_of(connect);
        core.connect_sent = Some(now);
        core.last_sent = now;
        core.transmit.push_back(packet);
        Ok(())
    }

    /// Subscribes to `subscriptions` and returns the SUBSCRIBE's packet identifier; the
    /// answer arrives as [`Event::Subscribed`].
    pub fn subscribe(
        &mut self,
        subscriptions: Vec<Subscription>,
        properties: SubscribeProperties,
    ) -> Result<PacketId, SessionError> {
        let filters = subscriptions.len();
        let mut subscribe = Subscribe::new(PacketId::MIN, subscriptions);
        subscribe.properties = properties;
        let mut packet = Packet::Subscribe(subscribe);
        let id = self.core.start_request(&packet, true, filters)?;
        if let Packet::Subscribe(s) = &mut packet {
            s.packet_id = id;
        }
        self.core.transmit.push_back(packet);
        Ok(id)
    }

    /// Unsubscribes from `filters` and returns the UNSUBSCRIBE's packet identifier; the
    /// answer arrives as [`Event::Unsubscribed`].
    pub fn unsubscribe(
        &mut self,
        filters: Vec<TopicFilter>,
        properties: UnsubscribeProperties,
    ) -> Result<PacketId, SessionError> {
        let count = filters.len();
        let mut unsubscribe = Unsubscribe::new(PacketId::MIN, filters);
        unsubscribe.properties = properties;
        let mut packet = Packet::Unsubscribe(unsubscribe);
        let id = self.core.start_request(&packet, false, count)?;
        if let Packet::Unsubscribe(u) = &mut packet {
            u.packet_id = id;
        }
        self.core.transmit.push_back(packet);
        Ok(id)
    }

    /// Handles a packet from the server. An error means the server broke the protocol:
    /// the connection is over (see [`ProtocolError`]). Packets arriving after the
    /// connection ended are ignored.
    pub fn handle_incoming(&mut self, now: Instant, packet: Packet) -> Result<(), ProtocolError> {
        if matches!(self.core.status, Status::Idle | Status::Closed) {
            return Ok(());
        }
        self.core.last_received = now;
        self.dispatch(packet).map_err(|e| self.core.violation(e))
    }

    fn dispatch(&mut self, packet: Packet) -> Result<(), ProtocolError> {
        let core = &mut self.core;
        let v5 = core.version.is_v5();
        if core.status == Status::Connecting {
            return match packet {
                Packet::ConnAck(ack) => self.on_connack(ack),
                Packet::Auth(auth) => self.core.on_auth(auth),
                // A server refuses a connection with CONNACK, never DISCONNECT.
                Packet::Disconnect(_) if v5 => Err(ProtocolError::protocol(
                    "DISCONNECT before CONNACK",
                    "MQTT-3.14.0-1",
                )),
                _ => Err(ProtocolError::protocol(
                    "packet other than CONNACK or AUTH before CONNACK",
                    core.tag("MQTT-3.2.0-1", "MQTT-3.2.0-1"),
                )),
            };
        }
        match packet {
            Packet::Publish(p) => core.on_publish(p)?,
            Packet::PubAck(a) => core.on_puback(a)?,
            Packet::PubRec(r) => core.on_pubrec(r)?,
            Packet::PubRel(r) => core.on_pubrel(r),
            Packet::PubComp(c) => core.on_pubcomp(c)?,
            // An answer that does not fit its request leaves the request pending: the
            // violation ends the connection, which reports it dropped and frees its
            // identifier, as for any request left unanswered.
            Packet::SubAck(ack) => {
                if let Some(filters) = core.answered_request(ack.packet_id, true)? {
                    if filters != ack.reason_codes.len() {
                        return Err(ProtocolError::protocol(
                            "SUBACK without one reason code per topic filter",
                            core.tag("MQTT-3.8.4-5", "MQTT-3.8.4-6"),
                        ));
                    }
                    core.complete_request(ack.packet_id, Event::Subscribed(ack));
                }
            }
            Packet::UnsubAck(ack) => {
                if let Some(filters) = core.answered_request(ack.packet_id, false)? {
                    if v5 && filters != ack.reason_codes.len() {
                        return Err(ProtocolError::protocol(
                            "UNSUBACK without one reason code per topic filter",
                            "MQTT-3.11.3-1",
                        ));
                    }
                    core.complete_request(ack.packet_id, Event::Unsubscribed(ack));
                }
            }
            Packet::PingResp => core.ping_sent = None,
            Packet::Disconnect(d) if v5 => self.on_disconnect(d)?,
            Packet::Auth(auth) => self.core.on_auth(auth)?,
            Packet::ConnAck(_) => {
                let e = ProtocolError::new(DisconnectReasonCode::ProtocolError, "second CONNACK");
                return Err(if v5 { e.with_rule("MQTT-3.2.0-2") } else { e });
            }
            // CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, and DISCONNECT below 5.0, only
            // travel from client to server (Table 2-1).
            _ => {
                return Err(ProtocolError::new(
                    DisconnectReasonCode::ProtocolError,
                    "packet a server never sends",
                ))
            }
        }
        Ok(())
    }

    fn on_connack(&mut self, ack: ConnAck) -> Result<(), ProtocolError> {
        let core = &mut self.core;
        if ack.reason_code.is_error() {
            core.close(DisconnectCause::Refused(ack));
            return Ok(());
        }
        if ack.session_present && core.clean_start {
            // We have no session state for the server to have kept.
            return Err(ProtocolError::protocol(
                "Session Present after a clean start",
                core.tag("MQTT-3.2.2-1", "MQTT-3.2.2-4"),
            ));
        }
        // Below 5.0 a CONNACK has no properties; one built by hand with some is not obeyed.
        let none = ConnAckProperties::default();
        let p = if core.version.is_v5() {
            &ack.properties
        } else {
            &none
        };
        let peer = PeerLimits {
            receive_maximum: p.receive_maximum.map_or(u16::MAX, NonZeroU16::get),
            max_packet_size: PeerLimits::packet_size(p.maximum_packet_size),
            topic_alias_maximum: p.topic_alias_maximum.unwrap_or(0),
            maximum_qos: p.maximum_qos.unwrap_or(QoS::ExactlyOnce),
            retain_available: p.retain_available.unwrap_or(true),
        };
        // The server's Keep Alive and Session Expiry win ([MQTT-3.2.2-21]).
        if let Some(keep_alive) = p.server_keep_alive {
            core.keep_alive = Duration::from_secs(keep_alive.into());
        }
        if let Some(expiry) = p.session_expiry_interval {
            core.session_expiry = expiry;
        }
        let connected = Connected {
            protocol_version: core.version,
            session_present: ack.session_present,
            send_quota: peer.receive_maximum,
            max_outgoing_packet_size: peer.max_packet_size,
            peer_topic_alias_maximum: peer.topic_alias_maximum,
            maximum_qos: peer.maximum_qos,
            retain_available: peer.retain_available,
            keep_alive: core.keep_alive,
            assigned_client_id: p.assigned_client_identifier(),
            session_expiry_interval: core.session_expiry,
        };
        core.connect_sent = None;
        core.establish(peer);
        core.events.push_back(Event::Connected(connected));
        if ack.session_present {
            core.resume();
        } else {
            // The server has no session: neither do we ([MQTT-3.2.2-5] in 5.0).
            core.discard_session();
        }
        Ok(())
    }

    fn on_disconnect(&mut self, disconnect: Disconnect) -> Result<(), ProtocolError> {
        if disconnect.properties.session_expiry_interval.is_some() {
            return Err(ProtocolError::protocol(
                "Session Expiry Interval in a server's DISCONNECT",
                "MQTT-3.14.2-2",
            ));
        }
        self.core.close(DisconnectCause::Peer(disconnect));
        Ok(())
    }
}
