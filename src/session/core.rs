//! The machinery both roles share: the QoS flows in both directions, flow control, topic
//! aliases, keep alive, and the queues of packets to send and events to report.

use super::acks::AckQueue;
use super::aliases::TopicAliases;
use super::error::{ProtocolError, SessionError};
use super::event::{DisconnectCause, Event};
use super::id_table::IdTable;
use super::outgoing::{List, Stage};
use super::state::{SessionState, ACKED, RECEIVED};
use super::{Instant, SessionConfig};
use crate::codec::{Encoder, MAX_PACKET_SIZE};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::packet::{
    encoded_len_of, Auth, ConnAck, Connect, Disconnect, Packet, PubAck, PubComp, PubRec, PubRel,
    Publish,
};
use crate::properties::PublishProperties;
use crate::types::reason_code::{ConnectReasonCode, DisconnectReasonCode, PubRelReasonCode};
use crate::types::{MqttString, PacketId, ProtocolVersion, QoS, QosPid};
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use bytes::BytesMut;
use core::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// No connection.
    Idle,
    /// Client: CONNECT queued, no CONNACK yet. Server: CONNECT received, waiting for the
    /// application to accept or reject it.
    Connecting,
    /// CONNACK exchanged.
    Connected,
    /// The session ended the connection; input is ignored until the transport is replaced.
    Closed,
}

/// What the peer announced about itself.
#[derive(Debug, Clone)]
pub(crate) struct PeerLimits {
    pub(crate) receive_maximum: u16,
    pub(crate) max_packet_size: usize,
    pub(crate) topic_alias_maximum: u16,
    pub(crate) maximum_qos: QoS,
    pub(crate) retain_available: bool,
}

impl PeerLimits {
    /// A Maximum Packet Size property as a limit: absent means the protocol's.
    pub(crate) fn packet_size(property: Option<core::num::NonZeroU32>) -> usize {
        property
            .and_then(|m| usize::try_from(m.get()).ok())
            .map_or(MAX_PACKET_SIZE, |m| m.min(MAX_PACKET_SIZE))
    }
}

impl Default for PeerLimits {
    fn default() -> Self {
        Self {
            receive_maximum: u16::MAX,
            max_packet_size: MAX_PACKET_SIZE,
            topic_alias_maximum: 0,
            maximum_qos: QoS::ExactlyOnce,
            retain_available: true,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) config: SessionConfig,
    pub(crate) server: bool,
    pub(crate) status: Status,
    pub(crate) version: ProtocolVersion,
    pub(crate) state: SessionState,
    pub(crate) peer: PeerLimits,
    /// Server: the client's SUBSCRIBE (`filters << 1 | 1`) and UNSUBSCRIBE (`filters << 1`)
    /// packets awaiting the application's answer, by packet identifier.
    pub(crate) peer_requests: IdTable<u32>,
    acks: AckQueue,
    /// The received QoS 2 messages awaiting PUBREL whose PUBLISH arrived (first or again)
    /// on this connection: they count against our Receive Maximum until their PUBREL, as
    /// they count against the sender's send quota, which starts afresh on each connection
    /// (5.0 section 4.9). Kept here, not in the [`SessionState`], as it ends with the
    /// connection.
    received_here: IdTable<bool>,
    pub(crate) transmit: VecDeque<Packet>,
    pub(crate) events: VecDeque<Event>,
    aliases: TopicAliases,
    pub(crate) keep_alive: Duration,
    pub(crate) last_sent: Instant,
    pub(crate) last_received: Instant,
    pub(crate) ping_sent: Option<Instant>,
    pub(crate) connect_sent: Option<Instant>,
    /// The CONNECT's Authentication Method (5.0 enhanced authentication).
    pub(crate) auth_method: Option<MqttString>,
    /// The CONNECT's Clean Start.
    pub(crate) clean_start: bool,
    /// The Session Expiry Interval in force.
    pub(crate) session_expiry: u32,
    /// Server: packets that arrived after CONNECT, before the application answered it.
    pub(crate) held: VecDeque<Packet>,
    /// Server: the CONNECT had an empty client identifier.
    pub(crate) empty_client_id: bool,
}

/// The Session Expiry Interval a CONNECT asks for, in seconds. Below 5.0 there is no such
/// property: Clean Session 1 ends the session with the connection (0), and Clean Session 0
/// keeps it after the connection with no set end (3.1.1 MQTT-3.1.2-4), which 5.0 spells
/// 0xFFFFFFFF ([MQTT-3.1.2-23] in 5.0).
pub(crate) fn session_expiry_of(connect: &Connect) -> u32 {
    match (connect.protocol_version.is_v5(), connect.clean_start) {
        (true, _) => connect.properties.session_expiry_interval.unwrap_or(0),
        (false, true) => 0,
        (false, false) => u32::MAX,
    }
}

impl Core {
    pub(crate) fn new(config: SessionConfig, server: bool, mut state: SessionState) -> Self {
        state.settle();
        Self {
            config,
            server,
            status: Status::Idle,
            version: ProtocolVersion::V5,
            state,
            peer: PeerLimits::default(),
            peer_requests: IdTable::default(),
            acks: AckQueue::new(),
            received_here: IdTable::default(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            aliases: TopicAliases::default(),
            keep_alive: Duration::ZERO,
            last_sent: Instant::ZERO,
            last_received: Instant::ZERO,
            ping_sent: None,
            connect_sent: None,
            auth_method: None,
            clean_start: true,
            session_expiry: 0,
            held: VecDeque::new(),
            empty_client_id: false,
        }
    }

    pub(crate) fn tag(&self, v3: &'static str, v5: &'static str) -> &'static str {
        self.version.tag(v3, v5)
    }

    /// Starts a connection: per-connection state from scratch, our limits in force.
    pub(crate) fn open(&mut self, version: ProtocolVersion) {
        self.version = version;
        self.status = Status::Connecting;
        self.peer = PeerLimits::default();
        self.aliases.open(version, &self.config);
        self.ping_sent = None;
        self.connect_sent = None;
    }

    /// The connection is established with the peer's limits in `peer`.
    pub(crate) fn establish(&mut self, peer: PeerLimits) {
        self.aliases.establish(&peer, &self.config);
        self.peer = peer;
        self.status = Status::Connected;
    }

    /// Forgets the stored session, reporting every message it drops.
    pub(crate) fn discard_session(&mut self) {
        let state = core::mem::take(&mut self.state);
        self.report_dropped(state);
    }

    pub(crate) fn report_dropped(&mut self, mut state: SessionState) {
        for list in [List::Released, List::Sent, List::Queued] {
            while let Some(packet_id) = state.out.front(list) {
                let message = match state.out.remove(packet_id) {
                    Some(Stage::Qos1(p) | Stage::Qos2(p)) => Some(Box::new(p)),
                    Some(Stage::Released { reported: true }) => continue,
                    _ => None,
                };
                self.events
                    .push_back(Event::PublishDropped { packet_id, message });
            }
        }
    }

    /// Sends again what the session holds: PUBREL for the QoS 2 flows past PUBREC, in the
    /// order the PUBRECs arrived (never the PUBLISH, [MQTT-4.3.3-6] in 5.0; [MQTT-4.6.0-4]),
    /// and PUBREL is never held back by flow control ([MQTT-3.3.4-8]); then the rest as
    /// PUBLISH with DUP set ([MQTT-3.3.1-1]), in publish order ([MQTT-4.6.0-1]), as far as
    /// the peer's Receive Maximum allows ([MQTT-4.4.0-1]).
    pub(crate) fn resume(&mut self) {
        for id in self.state.out.iter(List::Released) {
            self.transmit.push_back(Packet::PubRel(PubRel::new(id)));
        }
        self.pump();
    }

    /// Sends queued messages while the peer's Receive Maximum allows ([MQTT-4.9.0-2]).
    fn pump(&mut self) {
        while self.status == Status::Connected && self.has_quota() {
            let Some(id) = self.state.out.front(List::Queued) else {
                break;
            };
            self.send_queued(id);
        }
    }

    /// Messages sent on this connection and not completed, PUBREL included: what counts
    /// against the peer's Receive Maximum. Without a connection, none: what the last one
    /// sent waits to be sent again.
    pub(crate) fn in_flight(&self) -> usize {
        if self.status != Status::Connected {
            return 0;
        }
        self.state.out.len(List::Sent) + self.state.out.len(List::Released)
    }

    fn has_quota(&self) -> bool {
        self.in_flight() < usize::from(self.peer.receive_maximum)
    }

    /// Sends the PUBLISH of queued message `id`, with DUP when it was sent before.
    fn send_queued(&mut self, id: PacketId) {
        let ever_sent = self.state.out.ever_sent(id);
        let Some(Stage::Qos1(message) | Stage::Qos2(message)) = self.state.out.stage(id) else {
            // Only PUBLISH stages are queued.
            self.state.out.move_to(id, List::Sent);
            return;
        };
        let mut publish = message.clone();
        publish.dup = ever_sent;
        self.fit_version(&mut publish);
        // The peer of a resumed session may have announced a smaller limit since, or speak
        // a version without the message's properties.
        let size = encoded_len_of(&publish.as_view(), self.version).unwrap_or(usize::MAX);
        if size > self.peer.max_packet_size {
            self.abandon(id, publish);
            return;
        }
        self.state.out.mark_sent(id);
        self.state.out.move_to(id, List::Sent);
        self.send_publish(publish, size);
    }

    /// Gives up on a message that cannot be sent again, telling the application. An
    /// identifier the peer may still hold (a QoS 2 PUBLISH it may have received, awaiting
    /// PUBREL) is not free: reusing it would make the peer take a new message for the old
    /// one. It is released with a PUBREL instead, which completes the old delivery if the
    /// peer has it and is answered in any case ([MQTT-4.3.3-11] in 5.0, [MQTT-4.3.3-2] in
    /// 3.1.1), and it stays in use, counting against the peer's Receive Maximum, until the
    /// PUBCOMP.
    fn abandon(&mut self, id: PacketId, publish: Publish) {
        let out = &mut self.state.out;
        let peer_may_hold = matches!(out.stage(id), Some(Stage::Qos2(_))) && out.ever_sent(id);
        if peer_may_hold {
            if let Some(stage) = out.stage_mut(id) {
                *stage = Stage::Released { reported: true };
            }
            out.move_to(id, List::Released);
            self.transmit.push_back(Packet::PubRel(PubRel::new(id)));
        } else {
            out.remove(id);
        }
        self.events.push_back(Event::PublishDropped {
            packet_id: id,
            message: Some(Box::new(publish)),
        });
    }

    /// Server: a message for a client below 5.0 goes without its properties, which that
    /// version cannot carry. A server's messages are mostly forwarded from 5.0 publishers,
    /// and what a 3.1.1 subscriber is owed is the topic, payload, QoS and retain flag. A
    /// client's own properties are refused instead (an encoding error), never dropped.
    fn fit_version(&self, message: &mut Publish) {
        if self.server && !self.version.is_v5() && !message.properties.is_empty() {
            message.properties = PublishProperties::default();
        }
    }

    /// Queues a PUBLISH of `size` bytes (without an automatic alias).
    fn send_publish(&mut self, mut publish: Publish, size: usize) {
        self.aliases
            .apply_outgoing(&mut publish, size, &self.peer, &self.config);
        self.transmit.push_back(Packet::Publish(publish));
    }

    /// Accepts one of our messages: QoS 0 goes out at once and is forgotten
    /// ([MQTT-4.3.1-1]); QoS 1 and 2 get a fresh packet identifier ([MQTT-4.3.2-1],
    /// [MQTT-4.3.3-1] in 5.0) and are kept until acknowledged.
    pub(crate) fn publish(
        &mut self,
        qos: QoS,
        mut message: Publish,
    ) -> Result<Option<PacketId>, SessionError> {
        if self.status != Status::Connected {
            return Err(SessionError::NotConnected);
        }
        if qos > self.peer.maximum_qos {
            return Err(SessionError::QosNotSupported {
                maximum: self.peer.maximum_qos,
            });
        }
        if message.retain && !self.peer.retain_available {
            return Err(SessionError::RetainNotSupported);
        }
        message.dup = false;
        self.fit_version(&mut message);
        self.aliases.fill_caller_topic(&mut message, &self.peer)?;
        // Any identifier has the same size: measure with a stand-in.
        message.qos = match qos {
            QoS::AtMostOnce => QosPid::AtMostOnce,
            QoS::AtLeastOnce => QosPid::AtLeastOnce(PacketId::MIN),
            QoS::ExactlyOnce => QosPid::ExactlyOnce(PacketId::MIN),
        };
        let size = encoded_len_of(&message.as_view(), self.version)?;
        if size > self.peer.max_packet_size {
            return Err(SessionError::PacketTooLarge {
                size,
                max: self.peer.max_packet_size,
            });
        }
        if qos == QoS::AtMostOnce {
            self.send_publish(message, size);
            return Ok(None);
        }
        if self.state.unacknowledged() >= self.config.max_outgoing {
            return Err(SessionError::OutgoingQueueFull {
                max: self.config.max_outgoing,
            });
        }
        let id = self
            .state
            .push(qos, message)
            .ok_or(SessionError::PacketIdsExhausted)?;
        self.pump();
        Ok(Some(id))
    }

    /// Allocates the identifier of an outgoing SUBSCRIBE or UNSUBSCRIBE, after checking
    /// that `packet` (built with a stand-in identifier) can be sent.
    pub(crate) fn start_request(
        &mut self,
        packet: &Packet,
        subscribe: bool,
        filters: usize,
    ) -> Result<PacketId, SessionError> {
        if self.status != Status::Connected {
            return Err(SessionError::NotConnected);
        }
        self.check_size(packet)?;
        self.state
            .out
            .allocate(Stage::Request { subscribe, filters }, List::Requests)
            .ok_or(SessionError::PacketIdsExhausted)
    }

    /// Checks that `packet` can be encoded and fits the peer's Maximum Packet Size (after
    /// dropping what MQTT 5.0 lets a sender drop).
    pub(crate) fn check_size(&self, packet: &Packet) -> Result<(), SessionError> {
        match packet.fit(self.version, Some(self.peer.max_packet_size)) {
            Ok(_) => Ok(()),
            Err(EncodeError::PacketTooLarge { size, max }) => {
                Err(SessionError::PacketTooLarge { size, max })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Client: the number of topic filters of the SUBSCRIBE (`subscribe`) or UNSUBSCRIBE
    /// with identifier `id` that a SUBACK or UNSUBACK answers, or `None` when no request
    /// has it (a late answer changes nothing). An identifier in use by another kind of
    /// packet is a violation: the peer answered a packet we never sent.
    pub(crate) fn answered_request(
        &self,
        id: PacketId,
        subscribe: bool,
    ) -> Result<Option<usize>, ProtocolError> {
        match self.state.out.stage(id) {
            None => Ok(None),
            Some(Stage::Request {
                subscribe: s,
                filters,
            }) if *s == subscribe => Ok(Some(*filters)),
            Some(_) if subscribe => Err(ProtocolError::protocol(
                "SUBACK for a packet identifier not in use by a SUBSCRIBE",
                self.tag("MQTT-3.8.4-2", "MQTT-3.8.4-2"),
            )),
            Some(_) => Err(ProtocolError::protocol(
                "UNSUBACK for a packet identifier not in use by an UNSUBSCRIBE",
                self.tag("MQTT-3.10.4-4", "MQTT-2.2.1-6"),
            )),
        }
    }

    /// Server: the client's SUBSCRIBE (`subscribe`) or UNSUBSCRIBE `id` with `filters`
    /// topic filters awaits the application's answer. Its identifier must not be one
    /// still awaiting an answer ([MQTT-2.2.1-3] in 5.0, [MQTT-2.3.1-2] in 3.1.1), which
    /// also bounds what is kept to one entry per identifier.
    pub(crate) fn hold_request(
        &mut self,
        id: PacketId,
        subscribe: bool,
        filters: usize,
    ) -> Result<(), ProtocolError> {
        if self.peer_requests.get(id.get()) != 0 {
            return Err(ProtocolError::protocol(
                "SUBSCRIBE or UNSUBSCRIBE with the packet identifier of one still unanswered",
                self.tag("MQTT-2.3.1-2", "MQTT-2.2.1-3"),
            ));
        }
        // A packet holds fewer than 2^31 filters (three bytes each at least).
        let filters = u32::try_from(filters)
            .unwrap_or(u32::MAX)
            .clamp(1, u32::MAX >> 1);
        self.peer_requests
            .set(id.get(), filters << 1 | u32::from(subscribe));
        Ok(())
    }

    /// Server: the client's request `id` awaiting an answer: `(is SUBSCRIBE, filters)`.
    pub(crate) fn peer_request(&self, id: PacketId) -> Option<(bool, usize)> {
        match self.peer_requests.get(id.get()) {
            0 => None,
            v => Some((v & 1 == 1, (v >> 1) as usize)),
        }
    }

    /// Client: the request `id` got its answer, reported as `event`.
    pub(crate) fn complete_request(&mut self, id: PacketId, event: Event) {
        self.state.out.remove(id);
        self.events.push_back(event);
    }

    /// An acknowledgement of a kind that does not fit the stage of the message it names
    /// (a PUBACK for a QoS 2 message, a PUBCOMP before PUBREC, ...): the peer answered a
    /// packet we never sent.
    fn wrong_ack(&self, what: &'static str, qos2: bool) -> ProtocolError {
        let rule = if qos2 {
            self.tag("MQTT-4.3.3-1", "MQTT-4.3.3-3")
        } else {
            self.tag("MQTT-4.3.2-1", "MQTT-4.3.2-3")
        };
        ProtocolError::protocol(what, rule)
    }

    /// PUBACK: the QoS 1 flow ends, whatever the reason code ([MQTT-4.3.2-3] in 5.0,
    /// [MQTT-4.4.0-2] for failures). An acknowledgement of an identifier we are not
    /// waiting for on this connection changes nothing; one of an identifier in use by
    /// anything but a QoS 1 message is a violation.
    pub(crate) fn on_puback(&mut self, ack: PubAck) -> Result<(), ProtocolError> {
        let id = ack.packet_id;
        match self.state.out.stage(id) {
            Some(Stage::Qos1(_)) if self.state.out.list_of(id) == Some(List::Sent) => {}
            None | Some(Stage::Qos1(_)) => return Ok(()),
            Some(Stage::Request { .. }) => {
                return Err(self.wrong_ack("PUBACK for a SUBSCRIBE or UNSUBSCRIBE", false))
            }
            Some(_) => return Err(self.wrong_ack("PUBACK for a QoS 2 message", true)),
        }
        self.state.out.remove(id);
        self.events.push_back(if ack.reason_code.is_error() {
            Event::PublishFailed {
                packet_id: id,
                reason_code: ack.reason_code,
            }
        } else {
            Event::PublishAcknowledged {
                packet_id: id,
                reason_code: ack.reason_code,
            }
        });
        self.pump();
        Ok(())
    }

    /// PUBREC: answer with PUBREL and forget the message ([MQTT-4.3.3-4], [MQTT-4.3.3-6]
    /// in 5.0, [MQTT-4.3.3-1] in 3.1.1); a failure code ends the flow ([MQTT-4.4.0-2]).
    /// PUBRELs leave in the order the PUBRECs arrived ([MQTT-4.6.0-4]).
    pub(crate) fn on_pubrec(&mut self, rec: PubRec) -> Result<(), ProtocolError> {
        let id = rec.packet_id;
        let out = &mut self.state.out;
        match out.stage(id) {
            Some(Stage::Qos2(_)) if out.list_of(id) != Some(List::Sent) => {}
            Some(Stage::Qos2(_)) if rec.reason_code.is_error() => {
                out.remove(id);
                self.events.push_back(Event::PublishFailed {
                    packet_id: id,
                    reason_code: rec.reason_code,
                });
                self.pump();
            }
            Some(Stage::Qos2(_)) => {
                if let Some(stage) = out.stage_mut(id) {
                    *stage = Stage::Released { reported: false };
                }
                out.move_to(id, List::Released);
                self.transmit.push_back(Packet::PubRel(PubRel::new(id)));
            }
            // A repeated PUBREC: PUBREL again.
            Some(Stage::Released { .. }) => {
                self.transmit.push_back(Packet::PubRel(PubRel::new(id)));
            }
            Some(Stage::Qos1(_)) => return Err(self.wrong_ack("PUBREC for a QoS 1 message", false)),
            Some(Stage::Request { .. }) => {
                return Err(self.wrong_ack("PUBREC for a SUBSCRIBE or UNSUBSCRIBE", true))
            }
            // 5.0 lets the peer finish its side of an exchange we no longer know.
            None if self.version.is_v5() && !rec.reason_code.is_error() => {
                let mut rel = PubRel::new(id);
                rel.reason_code = PubRelReasonCode::PacketIdentifierNotFound;
                self.transmit.push_back(Packet::PubRel(rel));
            }
            None => {}
        }
        Ok(())
    }

    /// PUBCOMP: the QoS 2 flow ends ([MQTT-4.3.3-5] in 5.0), and its identifier is free.
    pub(crate) fn on_pubcomp(&mut self, comp: PubComp) -> Result<(), ProtocolError> {
        let id = comp.packet_id;
        match self.state.out.stage(id) {
            None => return Ok(()),
            Some(&Stage::Released { reported }) => {
                self.state.out.remove(id);
                if !reported {
                    self.events
                        .push_back(Event::PublishCompleted { packet_id: id });
                }
                self.pump();
            }
            Some(Stage::Qos2(_)) => return Err(self.wrong_ack("PUBCOMP before PUBREC", true)),
            Some(Stage::Qos1(_)) => {
                return Err(self.wrong_ack("PUBCOMP for a QoS 1 message", false))
            }
            Some(Stage::Request { .. }) => {
                return Err(self.wrong_ack("PUBCOMP for a SUBSCRIBE or UNSUBSCRIBE", true))
            }
        }
        Ok(())
    }

    /// A received PUBLISH, after the role's own checks.
    ///
    /// A copy of a QoS 1 or 2 message whose acknowledgement has not gone out yet is the
    /// same message again (the sender may not reuse the identifier before that
    /// acknowledgement, [MQTT-2.2.1-3] in 5.0, [MQTT-2.3.1-2] in 3.1.1): it is answered by
    /// the acknowledgement already pending, and not delivered again. So whatever the peer
    /// repeats, one acknowledgement per identifier is pending at most.
    pub(crate) fn on_publish(&mut self, mut publish: Publish) -> Result<(), ProtocolError> {
        self.aliases.resolve_incoming(&mut publish, self.server)?;
        let ready = !self.config.manual_acks;
        let (id, qos2) = match publish.qos {
            QosPid::AtMostOnce => {
                self.events.push_back(Event::Message(publish));
                return Ok(());
            }
            QosPid::AtLeastOnce(id) => (id, false),
            QosPid::ExactlyOnce(id) => (id, true),
        };
        let pending = self.acks.pending(id.get());
        let received = self.state.received.get(id.get());
        if pending.is_some_and(|p| p != qos2) || (!qos2 && received != 0) {
            return Err(ProtocolError::protocol(
                "PUBLISH with a packet identifier its sender still uses for another QoS",
                self.tag("MQTT-2.3.1-2", "MQTT-2.2.1-3"),
            ));
        }
        if pending.is_some() {
            return Ok(());
        }
        if received != 0 {
            // A retransmission before PUBREL: PUBREC again, no second delivery
            // ([MQTT-4.3.3-10] in 5.0, [MQTT-4.3.3-2] in 3.1.1). Received on an earlier
            // connection, it counts against this one from now, as in the sender's quota.
            if !self.received_here.get(id.get()) {
                self.check_receive_maximum()?;
                self.received_here.set(id.get(), true);
            }
            self.acks.push(id.get(), true, received & ACKED != 0);
            self.flush_acks();
            return Ok(());
        }
        // A QoS 1 message after its PUBACK is a new one ([MQTT-4.3.2-5] in 5.0,
        // [MQTT-4.3.2-2] in 3.1.1).
        self.check_receive_maximum()?;
        if qos2 {
            let flags = if ready { RECEIVED | ACKED } else { RECEIVED };
            self.state.received.set(id.get(), flags);
            self.received_here.set(id.get(), true);
        }
        self.acks.push(id.get(), qos2, ready);
        self.events.push_back(Event::Message(publish));
        self.flush_acks();
        Ok(())
    }

    /// More unacknowledged QoS 1 and 2 messages than our Receive Maximum is a protocol
    /// violation (0x93; [MQTT-3.3.4-9] for a client, [MQTT-3.3.4-7] for a server). Below
    /// 5.0 the peer was never told, but the limit still bounds what we keep. Counted, as
    /// the sender's quota is, on this connection: QoS 2 messages awaiting PUBREL carried
    /// over from an earlier one count once they arrive again (5.0 section 4.9), so a
    /// resume with a lower limit does not refuse the sender's first resend.
    fn check_receive_maximum(&self) -> Result<(), ProtocolError> {
        let unacked = self.acks.qos1() + self.received_here.len();
        if unacked < usize::from(self.config.receive_maximum.get()) {
            return Ok(());
        }
        let rule = match (self.version.is_v5(), self.server) {
            (true, true) => Some("MQTT-3.3.4-7"),
            (true, false) => Some("MQTT-3.3.4-9"),
            (false, _) => None,
        };
        let e = ProtocolError::new(
            DisconnectReasonCode::ReceiveMaximumExceeded,
            "more unacknowledged QoS 1 and 2 messages than the Receive Maximum",
        );
        Err(match rule {
            Some(rule) => e.with_rule(rule),
            None => e,
        })
    }

    /// Sends the acknowledgements that are ready, stopping at the first one the
    /// application has not released, so they leave in arrival order ([MQTT-4.6.0-2],
    /// [MQTT-4.6.0-3]).
    fn flush_acks(&mut self) {
        while let Some((id, qos2)) = self.acks.pop_ready() {
            let Some(id) = PacketId::new(id) else {
                continue;
            };
            self.transmit.push_back(if qos2 {
                Packet::PubRec(PubRec::new(id))
            } else {
                Packet::PubAck(PubAck::new(id))
            });
        }
    }

    /// The application's acknowledgement of a received message (manual acknowledgement).
    pub(crate) fn ack(&mut self, id: PacketId) -> Result<(), SessionError> {
        let raw = id.get();
        let received = self.state.received.get(raw);
        if let Some(qos2) = self.acks.release(raw) {
            if qos2 {
                self.state.received.set(raw, received | ACKED);
            }
            self.flush_acks();
            return Ok(());
        }
        // A QoS 2 message delivered on an earlier connection: its retransmission will be
        // answered at once.
        if received != 0 && received & ACKED == 0 {
            self.state.received.set(raw, received | ACKED);
            return Ok(());
        }
        Err(SessionError::NoPendingAck(id))
    }

    /// PUBREL: answer with PUBCOMP and forget the identifier ([MQTT-4.3.3-11],
    /// [MQTT-4.3.3-12] in 5.0); an unknown one gets PUBCOMP with 0x92 in 5.0.
    pub(crate) fn on_pubrel(&mut self, rel: PubRel) {
        let id = rel.packet_id;
        let mut comp = PubComp::new(id);
        let received = self.state.received.get(id.get());
        if received != 0 {
            self.received_here.set(id.get(), false);
            self.state.received.set(id.get(), 0);
            // A PUBREC the application never released is moot now.
            if self.acks.cancel(id.get()) {
                self.flush_acks();
            }
        } else if self.version.is_v5() {
            comp.reason_code = PubRelReasonCode::PacketIdentifierNotFound;
        }
        self.transmit.push_back(Packet::PubComp(comp));
    }

    /// Checks an AUTH against the CONNECT's Authentication Method ([MQTT-4.12.0-5]).
    pub(crate) fn check_auth_method(&self, auth: &Auth) -> bool {
        self.version.is_v5()
            && self.auth_method.is_some()
            && auth.properties.authentication_method() == self.auth_method
    }

    /// A received AUTH: reported if it repeats the CONNECT's Authentication Method
    /// ([MQTT-4.12.0-5]).
    pub(crate) fn on_auth(&mut self, auth: Auth) -> Result<(), ProtocolError> {
        if !self.check_auth_method(&auth) {
            return Err(ProtocolError::protocol(
                "AUTH without the CONNECT's Authentication Method",
                "MQTT-4.12.0-5",
            ));
        }
        self.events.push_back(Event::Auth(auth));
        Ok(())
    }

    /// Queues our AUTH, filling in the Authentication Method.
    pub(crate) fn send_auth(&mut self, mut auth: Auth) -> Result<(), SessionError> {
        if auth.properties.authentication_method().is_none() {
            auth.properties
                .set_authentication_method(self.auth_method.clone());
        }
        if !self.check_auth_method(&auth) {
            return Err(SessionError::AuthNotNegotiated);
        }
        let packet = Packet::Auth(auth);
        self.check_size(&packet)?;
        self.transmit.push_back(packet);
        Ok(())
    }

    /// The peer broke the protocol: tell it why (MQTT 5.0, once the connection is
    /// established or, for a client, being set up; a server that has not sent CONNACK must
    /// not send DISCONNECT, [MQTT-3.14.0-1]) and end the connection.
    pub(crate) fn violation(&mut self, error: ProtocolError) -> ProtocolError {
        let may_disconnect =
            self.status == Status::Connected || (!self.server && self.status == Status::Connecting);
        if self.version.is_v5() && may_disconnect {
            self.transmit
                .push_back(Packet::Disconnect(Disconnect::new(error.reason_code())));
        }
        self.close(DisconnectCause::ProtocolViolation(error));
        error
    }

    /// A decoding error on the connection, as a violation; for a server, a first CONNECT
    /// of a protocol level it does not speak is refused instead.
    pub(crate) fn decode_error(&mut self, error: &DecodeError) -> ProtocolError {
        if let DecodeErrorKind::UnsupportedProtocolVersion { .. } = error.kind() {
            if self.server && self.status == Status::Idle {
                return self.refuse_protocol_level();
            }
        }
        let code = DisconnectReasonCode::from_code(error.reason_code().0)
            .unwrap_or(DisconnectReasonCode::ProtocolError);
        let what = if code == DisconnectReasonCode::MalformedPacket {
            "malformed packet"
        } else {
            "packet breaking the protocol"
        };
        let e = ProtocolError::new(code, what);
        self.violation(match error.rule() {
            Some(rule) => e.with_rule(rule),
            None => e,
        })
    }

    /// Server: refuses a CONNECT whose protocol level we do not speak with the CONNACK
    /// 3.1.1 requires, return code 1 (3.1.1 MQTT-3.1.2-2; 5.0 MQTT-3.1.2-2 allows 0x84),
    /// then ends the connection. The connection takes 3.1.1 as its version so that the
    /// CONNACK encodes as `20 02 00 01`, the one refusal every level can read: 3.1 and
    /// 3.1.1 clients as return code 1, 5.0 clients (mqttwire, libmosquitto) as 0x84. The
    /// 5.0 layout would be malformed to any client below 5.0. mosquitto answers the same.
    fn refuse_protocol_level(&mut self) -> ProtocolError {
        let reason = ConnectReasonCode::UnsupportedProtocolVersion;
        self.version = ProtocolVersion::V3_1_1;
        self.transmit
            .push_back(Packet::ConnAck(ConnAck::new(reason)));
        self.close(DisconnectCause::Rejected(reason));
        ProtocolError::protocol("CONNECT of an unsupported protocol level", "MQTT-3.1.2-2")
    }

    /// Ends the connection: what was in flight waits for the next one, requests awaiting
    /// an answer are dropped, per-connection state goes.
    pub(crate) fn close(&mut self, cause: DisconnectCause) {
        if self.status == Status::Closed {
            return;
        }
        self.end_connection();
        self.status = Status::Closed;
        self.events.push_back(Event::Disconnected(cause));
    }

    fn end_connection(&mut self) {
        let out = &mut self.state.out;
        out.prepend(List::Sent, List::Queued);
        while let Some(packet_id) = out.front(List::Requests) {
            out.remove(packet_id);
            self.events.push_back(Event::RequestDropped { packet_id });
        }
        self.peer_requests.clear();
        self.acks.clear();
        self.received_here.clear();
        self.aliases.clear();
        self.ping_sent = None;
        self.connect_sent = None;
        self.held.clear();
    }

    /// The transport is gone: nothing more can be sent on it.
    pub(crate) fn connection_lost(&mut self) {
        self.transmit.clear();
        if matches!(self.status, Status::Connecting | Status::Connected) {
            self.close(DisconnectCause::ConnectionLost);
        }
        self.status = Status::Idle;
    }

    /// Takes the session state out, ending the connection first if there is one.
    pub(crate) fn take_session(&mut self) -> SessionState {
        if matches!(self.status, Status::Connecting | Status::Connected) {
            self.close(DisconnectCause::ConnectionLost);
        }
        core::mem::take(&mut self.state)
    }

    pub(crate) fn poll_transmit(&mut self, now: Instant) -> Option<Packet> {
        let packet = self.transmit.pop_front()?;
        self.last_sent = now;
        Some(packet)
    }

    pub(crate) fn poll_transmit_into(
        &mut self,
        now: Instant,
        buf: &mut BytesMut,
    ) -> Result<Option<usize>, EncodeError> {
        let Some(packet) = self.poll_transmit(now) else {
            return Ok(None);
        };
        let encoder = Encoder::new(self.version).with_max_packet_size(self.peer.max_packet_size);
        encoder.encode(&packet, buf).map(Some)
    }

    /// Keep alive and response deadlines.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let ka = self.keep_alive;
        match (self.status, self.server) {
            (Status::Connecting, false) => {
                self.connect_sent.map(|t| t + self.config.response_timeout)
            }
            (Status::Connected, false) => match self.ping_sent {
                Some(t) => Some(t + self.config.response_timeout),
                None if !ka.is_zero() => Some(self.last_sent + ka),
                None => None,
            },
            (Status::Connected, true) if !ka.is_zero() => Some(self.last_received + ka + ka / 2),
            _ => None,
        }
    }

    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        let Some(deadline) = self.poll_timeout() else {
            return;
        };
        if now < deadline {
            return;
        }
        match (self.status, self.server) {
            (Status::Connected, false) if self.ping_sent.is_none() => {
                // Idle for the Keep Alive: ping ([MQTT-3.1.2-20] in 5.0, [MQTT-3.1.2-23]
                // in 3.1.1). The deadline for PINGRESP starts now.
                self.ping_sent = Some(now);
                self.transmit.push_back(Packet::PingReq);
            }
            (_, false) => self.close(DisconnectCause::KeepAliveTimeout),
            (_, true) => {
                // One and a half Keep Alives of silence ([MQTT-3.1.2-22] in 5.0,
                // [MQTT-3.1.2-24] in 3.1.1).
                if self.version.is_v5() {
                    self.transmit.push_back(Packet::Disconnect(Disconnect::new(
                        DisconnectReasonCode::KeepAliveTimeout,
                    )));
                }
                self.close(DisconnectCause::KeepAliveTimeout);
            }
        }
    }
}
