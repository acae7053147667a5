//! The server role: the broker's side of one client connection. The application (the
//! broker) decides who may connect and what a subscription is granted; the session runs the
//! protocol around those decisions.

use super::core::{Core, PeerLimits, Status};
use super::{
    AcceptError, Connected, DisconnectCause, Event, Instant, ProtocolError, ServerRole, Session,
    SessionConfig, SessionError, SessionState,
};
use crate::packet::client_id_refused;
use crate::packet::{ConnAck, Connect, Disconnect, Packet, SubAck, UnsubAck};
use crate::properties::{AckProperties, ConnAckProperties, ConnectProperties};
use crate::types::reason_code::{
    ConnectReasonCode, DisconnectReasonCode, SubAckReasonCode, UnsubAckReasonCode,
};
use crate::types::{PacketId, QoS};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::num::NonZeroU16;
use core::time::Duration;

/// Packets a client may send after CONNECT without waiting for CONNACK, held until the
/// application answers the CONNECT. Answering at once (as the run loop does) holds none.
const HELD_MAX: usize = 64;

impl Session<ServerRole> {
    /// The server side of a new client connection, waiting for its CONNECT.
    #[must_use]
    pub fn new(config: SessionConfig) -> Self {
        Self::from_core(Core::new(config, true, SessionState::default()))
    }

    /// Handles a packet from the client. An error means the client broke the protocol: the
    /// connection is over (see [`ProtocolError`]). Packets arriving after the connection
    /// ended are ignored ([MQTT-3.1.4-5] in 3.1.1, [MQTT-3.1.4-6] in 5.0).
    ///
    /// Between the CONNECT and the application's answer, packets are held (returning `Ok`)
    /// and handled by [`accept`](Self::accept) as if they arrived after the CONNACK, or
    /// dropped by [`reject`](Self::reject); a violation among them is reported then. Only
    /// the enhanced authentication exchange (AUTH, or DISCONNECT) is handled at once.
    pub fn handle_incoming(&mut self, now: Instant, packet: Packet) -> Result<(), ProtocolError> {
        if self.core.status == Status::Closed {
            return Ok(());
        }
        self.core.last_received = now;
        self.dispatch(now, packet)
            .map_err(|e| self.core.violation(e))
    }

    fn dispatch(&mut self, now: Instant, packet: Packet) -> Result<(), ProtocolError> {
        let core = &mut self.core;
        let v5 = core.version.is_v5();
        match core.status {
            Status::Idle => {
                return match packet {
                    Packet::Connect(connect) => self.on_connect(now, connect),
                    _ => Err(ProtocolError::protocol(
                        "first packet is not CONNECT",
                        "MQTT-3.1.0-1",
                    )),
                }
            }
            // Enhanced authentication is part of answering the CONNECT: its AUTH exchange
            // (or the client's DISCONNECT) is handled at once, and nothing else may come
            // before the CONNACK.
            Status::Connecting if core.auth_method.is_some() => {
                return match packet {
                    Packet::Auth(auth) => self.core.on_auth(auth),
                    Packet::Disconnect(d) => self.on_disconnect(d),
                    Packet::Connect(_) => {
                        Err(ProtocolError::protocol("second CONNECT", "MQTT-3.1.0-2"))
                    }
                    _ => Err(ProtocolError::protocol(
                        "packet other than AUTH or DISCONNECT during enhanced authentication",
                        "MQTT-3.1.2-30",
                    )),
                };
            }
            // Anything else waits for the application's answer and is then handled, in
            // order, as if it had arrived after the CONNACK (`accept`), or dropped with the
            // connection (`reject`). Even a violation waits, so that it ends the connection
            // as it would after the CONNACK: with a DISCONNECT in 5.0, which must not
            // precede the CONNACK ([MQTT-3.14.0-1]).
            Status::Connecting => {
                if core.held.len() >= HELD_MAX {
                    return Err(ProtocolError::new(
                        DisconnectReasonCode::QuotaExceeded,
                        "too many packets before the CONNECT was answered",
                    ));
                }
                core.held.push_back(packet);
                return Ok(());
            }
            _ => {}
        }
        match packet {
            Packet::Publish(p) => {
                if v5 && p.qos.qos() > core.config.maximum_qos {
                    return Err(ProtocolError::new(
                        DisconnectReasonCode::QoSNotSupported,
                        "PUBLISH above the Maximum QoS",
                    )
                    .with_rule("MQTT-3.2.2-11"));
                }
                if v5 && p.retain && !core.config.retain_available {
                    return Err(ProtocolError::new(
                        DisconnectReasonCode::RetainNotSupported,
                        "retained PUBLISH while Retain Available is 0",
                    )
                    .with_rule("MQTT-3.2.2-14"));
                }
                if p.properties.has_subscription_identifiers() {
                    return Err(ProtocolError::protocol(
                        "Subscription Identifier in a client's PUBLISH",
                        "MQTT-3.3.4-6",
                    ));
                }
                core.on_publish(p)?;
            }
            Packet::PubAck(a) => core.on_puback(a)?,
            Packet::PubRec(r) => core.on_pubrec(r)?,
            Packet::PubRel(r) => core.on_pubrel(r),
            Packet::PubComp(c) => core.on_pubcomp(c)?,
            Packet::Subscribe(s) => {
                core.hold_request(s.packet_id, true, s.subscriptions.len())?;
                core.events.push_back(Event::Subscribe(s));
            }
            Packet::Unsubscribe(u) => {
                core.hold_request(u.packet_id, false, u.filters.len())?;
                core.events.push_back(Event::Unsubscribe(u));
            }
            // Answered whatever the flow-control state ([MQTT-3.12.4-1], [MQTT-4.9.0-3]).
            Packet::PingReq => core.transmit.push_back(Packet::PingResp),
            Packet::Disconnect(d) => self.on_disconnect(d)?,
            Packet::Auth(auth) => self.core.on_auth(auth)?,
            Packet::Connect(_) => {
                return Err(ProtocolError::protocol("second CONNECT", "MQTT-3.1.0-2"))
            }
            // CONNACK, SUBACK, UNSUBACK and PINGRESP only travel from server to client.
            _ => {
                return Err(ProtocolError::new(
                    DisconnectReasonCode::ProtocolError,
                    "packet a client never sends",
                ))
            }
        }
        Ok(())
    }

    fn on_connect(&mut self, now: Instant, connect: Box<Connect>) -> Result<(), ProtocolError> {
        let core = &mut self.core;
        let version = connect.protocol_version;
        core.open(version);
        core.last_received = now;
        core.clean_start = connect.clean_start;
        core.keep_alive = Duration::from_secs(connect.keep_alive.into());
        // Below 5.0 a CONNECT has no properties; one built by hand with some is not obeyed.
        let none = ConnectProperties::default();
        let p = if version.is_v5() {
            &connect.properties
        } else {
            &none
        };
        core.auth_method = p.authentication_method();
        core.session_expiry = super::core::session_expiry_of(&connect);
        core.empty_client_id = connect.client_id.is_empty();
        core.peer = PeerLimits {
            receive_maximum: p.receive_maximum.map_or(u16::MAX, NonZeroU16::get),
            max_packet_size: PeerLimits::packet_size(p.maximum_packet_size),
            topic_alias_maximum: p.topic_alias_maximum.unwrap_or(0),
            maximum_qos: QoS::ExactlyOnce,
            retain_available: true,
        };
        // Refusals the session can decide alone.
        let refusal = if client_id_refused(
            version,
            connect.client_id.as_borrowed(),
            connect.clean_start,
        ) {
            // [MQTT-3.1.3-8] in 3.1.1; MQTT 3.1's untagged 1 to 23 characters.
            Some(ConnectReasonCode::ClientIdentifierNotValid)
        } else {
            match &connect.will {
                // [MQTT-3.2.2-12] and [MQTT-3.2.2-13] in 5.0.
                Some(will) if will.qos > core.config.maximum_qos => {
                    Some(ConnectReasonCode::QoSNotSupported)
                }
                Some(will) if will.retain && !core.config.retain_available => {
                    Some(ConnectReasonCode::RetainNotSupported)
                }
                _ => None,
            }
        };
        match refusal {
            Some(code) => self.refuse(code),
            None => self.core.events.push_back(Event::ConnectRequest(connect)),
        }
        Ok(())
    }

    /// Accepts the connection the last [`Event::ConnectRequest`] asked for, resuming
    /// `session`: the state the client's previous connection left (from
    /// [`take_session`](Session::take_session), or restored from storage), or `None` when
    /// the server keeps no session for this client.
    ///
    /// # On success
    ///
    /// 1. The CONNACK is queued. It carries `properties` (set the Assigned Client
    ///    Identifier there when the client sent an empty one, [MQTT-3.2.2-16] in 5.0) plus
    ///    the session's own limits from its [`SessionConfig`]: Receive Maximum, Maximum
    ///    QoS, Retain Available, Maximum Packet Size, Topic Alias Maximum, Server Keep
    ///    Alive, and the CONNECT's Authentication Method ([MQTT-4.12.0-5]).
    /// 2. Session Present is 1 exactly when the CONNECT's Clean Start (Clean Session in
    ///    3.1.1) is 0 and `session` is `Some`, even `Some` of an empty state: the server
    ///    has a session (its subscriptions, kept by the application, are part of it) that
    ///    holds no message ([MQTT-3.2.2-3] in 5.0; [MQTT-3.2.2-2], [MQTT-3.2.2-3] in
    ///    3.1.1). Pass `None` when there is no session. On a clean start it is 0
    ///    ([MQTT-3.2.2-2] in 5.0, [MQTT-3.2.2-1] in 3.1.1).
    /// 3. When the session resumes, `session` becomes this engine's state: our
    ///    unacknowledged messages go out again (PUBLISH with DUP, PUBREL), and a
    ///    retransmitted QoS 2 message whose PUBREL has not arrived yet is acknowledged
    ///    without being delivered again. On a clean start `session` is discarded
    ///    ([MQTT-3.1.2-4] in 5.0, [MQTT-3.1.2-6] in 3.1.1). Any state this engine still
    ///    held from an earlier connection is discarded too. Each discarded message of
    ///    ours is reported with [`Event::PublishDropped`].
    /// 4. [`Event::Connected`] is reported.
    /// 5. The packets the client sent after its CONNECT without waiting for the CONNACK
    ///    (clients may, section 3.1.4) are handled in order, exactly as
    ///    [`handle_incoming`](Session::handle_incoming) would handle them arriving now:
    ///    messages are delivered and acknowledged, requests reported. One that breaks the
    ///    protocol ends the connection as there (a DISCONNECT in 5.0, then
    ///    [`Event::Disconnected`] with [`DisconnectCause::ProtocolViolation`]) and the
    ///    packets after it are ignored; `accept` still returns `Ok`, since the connection
    ///    was accepted.
    ///
    /// # Errors
    ///
    /// Whatever the error, nothing is sent, no event is reported, the engine is as it was,
    /// and `session` comes back untouched in the [`AcceptError`]
    /// ([`into_session`](AcceptError::into_session)): call `accept` again with it once
    /// the problem is fixed, or keep it for the client's next connection, and the failed
    /// call has no effect on what follows. [`AcceptError::error`] says why:
    ///
    /// - [`SessionError::NotConnected`]: no CONNECT awaits an answer. None arrived, or the
    ///   connection ended first (lost, the client's DISCONNECT or a protocol violation
    ///   during enhanced authentication, too many packets before the answer,
    ///   [`reject`](Self::reject)).
    /// - [`SessionError::AlreadyConnected`]: the CONNECT was already accepted.
    /// - [`SessionError::Forbidden`]: in 5.0, the client identifier is empty and
    ///   `properties` assigns none ([MQTT-3.2.2-16]).
    /// - [`SessionError::AuthNotNegotiated`]: `properties` has an Authentication Method
    ///   other than the CONNECT's, or one when the CONNECT had none ([MQTT-4.12.0-5],
    ///   [MQTT-4.12.0-6]).
    /// - [`SessionError::PacketTooLarge`]: the CONNACK exceeds the client's Maximum
    ///   Packet Size ([MQTT-3.1.2-24] in 5.0).
    /// - [`SessionError::Encode`]: the CONNACK cannot be encoded at the connection's
    ///   protocol version. On a 3.1.1 connection, whose CONNACK has no properties, any
    ///   property in `properties` is this error
    ///   ([`EncodeError::UnsupportedInVersion`](crate::EncodeError::UnsupportedInVersion)).
    pub fn accept(
        &mut self,
        session: Option<SessionState>,
        properties: ConnAckProperties,
    ) -> Result<(), AcceptError> {
        let session_present = !self.core.clean_start && session.is_some();
        let (packet, connected) = match self.connack(session_present, properties) {
            Ok(answer) => answer,
            Err(e) => return Err(AcceptError::new(e, session)),
        };
        let core = &mut self.core;
        core.keep_alive = connected.keep_alive;
        core.session_expiry = connected.session_expiry_interval;
        // A clean start (or no stored session) begins empty ([MQTT-3.1.2-4] in 5.0,
        // [MQTT-3.1.2-6] in 3.1.1).
        let old = core::mem::take(&mut core.state);
        core.report_dropped(old);
        match session {
            Some(mut state) if session_present => {
                state.settle();
                core.state = state;
            }
            Some(state) => core.report_dropped(state),
            None => {}
        }
        core.transmit.push_back(packet);
        let peer = core.peer.clone();
        core.establish(peer);
        core.events.push_back(Event::Connected(connected));
        core.resume();
        // The packets the client sent before it knew the answer, through the same door as
        // any later one. Their arrival is already accounted in `last_received`; after a
        // violation the connection is closed and the rest are ignored.
        let now = self.core.last_received;
        while let Some(packet) = self.core.held.pop_front() {
            // A violation is reported by event and DISCONNECT; the accept itself succeeded.
            let _ = self.handle_incoming(now, packet);
        }
        Ok(())
    }

    /// The CONNACK accepting the connection, once everything about it checks out, and the
    /// [`Event::Connected`] to report with it. Changes nothing: `accept` commits.
    fn connack(
        &self,
        session_present: bool,
        mut properties: ConnAckProperties,
    ) -> Result<(Packet, Connected), SessionError> {
        let core = &self.core;
        match core.status {
            Status::Connecting => {}
            Status::Connected => return Err(SessionError::AlreadyConnected),
            _ => return Err(SessionError::NotConnected),
        }
        if core.version.is_v5() {
            let config = &core.config;
            if core.empty_client_id && properties.assigned_client_identifier().is_none() {
                return Err(SessionError::Forbidden {
                    what: "accepting an empty client identifier without assigning one",
                    rule: "MQTT-3.2.2-16",
                });
            }
            let p = &mut properties;
            if config.receive_maximum != NonZeroU16::MAX {
                p.receive_maximum = Some(config.receive_maximum);
            }
            if config.maximum_qos < QoS::ExactlyOnce {
                p.maximum_qos = Some(config.maximum_qos);
            }
            if !config.retain_available {
                p.retain_available = Some(false);
            }
            p.maximum_packet_size = Some(config.maximum_packet_size);
            if config.topic_alias_maximum > 0 {
                p.topic_alias_maximum = Some(config.topic_alias_maximum);
            }
            if config.server_keep_alive.is_some() {
                p.server_keep_alive = config.server_keep_alive;
            }
            if p.authentication_method().is_none() {
                p.set_authentication_method(core.auth_method.clone());
            }
            if p.authentication_method() != core.auth_method {
                return Err(SessionError::AuthNotNegotiated);
            }
        }
        let keep_alive = properties
            .server_keep_alive
            .map_or(core.keep_alive, |k| Duration::from_secs(k.into()));
        let connected = Connected {
            protocol_version: core.version,
            session_present,
            send_quota: core.peer.receive_maximum,
            max_outgoing_packet_size: core.peer.max_packet_size,
            peer_topic_alias_maximum: core.peer.topic_alias_maximum,
            maximum_qos: core.config.maximum_qos,
            retain_available: core.config.retain_available,
            keep_alive,
            assigned_client_id: properties.assigned_client_identifier(),
            // The server's own value wins (5.0 section 3.2.2.3.2); a 3.1.1 CONNACK has none.
            session_expiry_interval: properties
                .session_expiry_interval
                .unwrap_or(core.session_expiry),
        };
        let mut ack = ConnAck::new(ConnectReasonCode::Success);
        ack.session_present = session_present;
        ack.properties = properties;
        let packet = Packet::ConnAck(ack);
        core.check_size(&packet)?;
        Ok((packet, connected))
    }

    /// Refuses the connection the last [`Event::ConnectRequest`] asked for with `reason`, a
    /// failure code: CONNACK with it (below 5.0, the matching return code, or no CONNACK
    /// when none matches, [MQTT-3.2.2-6] in 3.1.1), then the connection ends
    /// ([MQTT-3.2.2-7] in 5.0, [MQTT-3.2.2-5] in 3.1.1).
    pub fn reject(&mut self, reason: ConnectReasonCode) -> Result<(), SessionError> {
        match self.core.status {
            Status::Connecting => {}
            Status::Connected => return Err(SessionError::AlreadyConnected),
            _ => return Err(SessionError::NotConnected),
        }
        if !reason.is_error() {
            return Err(SessionError::Forbidden {
                what: "refusing a connection with a success code",
                rule: self.core.tag("MQTT-3.2.2-5", "MQTT-3.2.2-7"),
            });
        }
        self.refuse(reason);
        Ok(())
    }

    fn refuse(&mut self, reason: ConnectReasonCode) {
        let core = &mut self.core;
        if core.version.is_v5() || reason.v3_return_code().is_some() {
            core.transmit
                .push_back(Packet::ConnAck(ConnAck::new(reason)));
        }
        core.close(DisconnectCause::Rejected(reason));
    }

    /// Answers the SUBSCRIBE with `packet_id` with one reason code per topic filter, in
    /// the order of the filters ([MQTT-3.9.3-1] in 5.0, [MQTT-3.8.4-5] in 3.1.1).
    pub fn suback(
        &mut self,
        packet_id: PacketId,
        reason_codes: Vec<SubAckReasonCode>,
        properties: AckProperties,
    ) -> Result<(), SessionError> {
        let mut ack = SubAck::new(packet_id, reason_codes);
        ack.properties = properties;
        let count = ack.reason_codes.len();
        self.answer(Packet::SubAck(ack), packet_id, true, count)
    }

    /// Answers the UNSUBSCRIBE with `packet_id`: one reason code per topic filter, in the
    /// order of the filters ([MQTT-3.11.3-1] in 5.0). Below 5.0 the UNSUBACK has no reason
    /// codes: the ones given are left out, so one call serves every version, and an empty
    /// list is accepted too.
    pub fn unsuback(
        &mut self,
        packet_id: PacketId,
        mut reason_codes: Vec<UnsubAckReasonCode>,
        properties: AckProperties,
    ) -> Result<(), SessionError> {
        let count = reason_codes.len();
        if !self.core.version.is_v5() {
            reason_codes.clear();
        }
        let mut ack = UnsubAck::new(packet_id, reason_codes);
        ack.properties = properties;
        self.answer(Packet::UnsubAck(ack), packet_id, false, count)
    }

    fn answer(
        &mut self,
        packet: Packet,
        id: PacketId,
        subscribe: bool,
        count: usize,
    ) -> Result<(), SessionError> {
        let core = &mut self.core;
        if core.status != Status::Connected {
            return Err(SessionError::NotConnected);
        }
        let expected = |filters: usize| {
            filters == count || (!subscribe && !core.version.is_v5() && count == 0)
        };
        if !core
            .peer_request(id)
            .is_some_and(|(s, filters)| s == subscribe && expected(filters))
        {
            return Err(SessionError::NoPendingRequest(id));
        }
        core.check_size(&packet)?;
        core.peer_requests.set(id.get(), 0);
        core.transmit.push_back(packet);
        Ok(())
    }

    fn on_disconnect(&mut self, disconnect: Disconnect) -> Result<(), ProtocolError> {
        let core = &mut self.core;
        if core.session_expiry == 0
            && disconnect
                .properties
                .session_expiry_interval
                .is_some_and(|e| e != 0)
        {
            // Not a normal DISCONNECT: the will is still published (section 3.14.2.2.2).
            return Err(ProtocolError::new(
                DisconnectReasonCode::ProtocolError,
                "Session Expiry Interval set in DISCONNECT after 0 in CONNECT",
            ));
        }
        if let Some(expiry) = disconnect.properties.session_expiry_interval {
            core.session_expiry = expiry;
        }
        core.close(DisconnectCause::Peer(disconnect));
        Ok(())
    }
}
