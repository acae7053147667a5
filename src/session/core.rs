//! The machinery both roles share: the QoS flows in both directions, flow control, topic
//! aliases, keep alive, and the queues of packets to send and events to report.

use super::aliases::TopicAliases;
use super::error::{ProtocolError, SessionError};
use super::event::{DisconnectCause, Event};
use super::state::{Outgoing, Received, SessionState, Stage};
use super::{Instant, SessionConfig};
use crate::codec::{Encoder, MAX_PACKET_SIZE};
use crate::error::{DecodeError, EncodeError};
use crate::packet::{
    encoded_len_of, Auth, Disconnect, Packet, PubAck, PubComp, PubRec, PubRel, Publish,
};
use crate::types::reason_code::{DisconnectReasonCode, PubRelReasonCode};
use crate::types::{MqttString, PacketId, ProtocolVersion, QoS, QosPid};
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
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

/// A SUBSCRIBE or UNSUBSCRIBE awaiting its answer: ours (client) or the peer's (server).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request {
    pub(crate) id: PacketId,
    pub(crate) subscribe: bool,
    pub(crate) filters: usize,
}

/// A received QoS 1 or 2 message whose PUBACK or PUBREC has not gone out yet.
#[derive(Debug, Clone, Copy)]
struct PendingAck {
    id: PacketId,
    qos2: bool,
    ready: bool,
}

#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) config: SessionConfig,
    pub(crate) server: bool,
    pub(crate) status: Status,
    pub(crate) version: ProtocolVersion,
    pub(crate) state: SessionState,
    pub(crate) peer: PeerLimits,
    pub(crate) requests: Vec<Request>,
    acks: VecDeque<PendingAck>,
    qos1_unacked: usize,
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

impl Core {
    pub(crate) fn new(config: SessionConfig, server: bool, state: SessionState) -> Self {
        Self {
            config,
            server,
            status: Status::Idle,
            version: ProtocolVersion::V5,
            state,
            peer: PeerLimits::default(),
            requests: Vec::new(),
            acks: VecDeque::new(),
            qos1_unacked: 0,
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

    pub(crate) fn report_dropped(&mut self, state: SessionState) {
        for entry in state.inflight.into_iter().chain(state.queued) {
            let message = match entry.stage {
                Stage::Qos1(p) | Stage::Qos2(p) => Some(Box::new(p)),
                Stage::Released => None,
            };
            self.events.push_back(Event::PublishDropped {
                packet_id: entry.id,
                message,
            });
        }
    }

    /// Sends again what the session holds, in the original order: PUBREL for the QoS 2
    /// flows past PUBREC (never the PUBLISH, [MQTT-4.3.3-6] in 5.0), the rest as PUBLISH
    /// with DUP set ([MQTT-3.3.1-1]) as far as the peer's Receive Maximum allows
    /// ([MQTT-4.4.0-1]). PUBREL is never held back by flow control ([MQTT-3.3.4-8]).
    pub(crate) fn resume(&mut self) {
        let mut blocked = false;
        for _ in 0..self.state.queued.len() {
            let Some(entry) = self.state.queued.pop_front() else {
                break;
            };
            if matches!(entry.stage, Stage::Released) {
                self.send_entry(entry);
            } else if blocked || !self.has_quota() {
                blocked = true;
                self.state.queued.push_back(entry);
            } else {
                self.send_entry(entry);
            }
        }
    }

    /// Sends queued messages while the peer's Receive Maximum allows ([MQTT-4.9.0-2]).
    /// After `resume`, the queue holds only messages waiting for their first PUBLISH.
    fn pump(&mut self) {
        while self.status == Status::Connected && self.has_quota() {
            let Some(entry) = self.state.queued.pop_front() else {
                break;
            };
            self.send_entry(entry);
        }
    }

    fn has_quota(&self) -> bool {
        self.state.inflight.len() < usize::from(self.peer.receive_maximum)
    }

    /// Sends what `entry` waits on: its PUBREL once released, else its PUBLISH.
    fn send_entry(&mut self, mut entry: Outgoing) {
        let (Stage::Qos1(message) | Stage::Qos2(message)) = &entry.stage else {
            self.transmit
                .push_back(Packet::PubRel(PubRel::new(entry.id)));
            self.state.inflight.push_back(entry);
            return;
        };
        let mut publish = message.clone();
        publish.dup = entry.ever_sent;
        // The peer of a resumed session may have announced a smaller limit since.
        let size = encoded_len_of(&publish, self.version).unwrap_or(usize::MAX);
        if size > self.peer.max_packet_size {
            self.state.ids.release(entry.id);
            self.events.push_back(Event::PublishDropped {
                packet_id: entry.id,
                message: Some(Box::new(publish)),
            });
            return;
        }
        entry.ever_sent = true;
        self.state.inflight.push_back(entry);
        self.send_publish(publish, size);
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
        self.aliases.fill_caller_topic(&mut message, &self.peer)?;
        // Any identifier has the same size: measure with a stand-in.
        message.qos = match qos {
            QoS::AtMostOnce => QosPid::AtMostOnce,
            QoS::AtLeastOnce => QosPid::AtLeastOnce(PacketId::MIN),
            QoS::ExactlyOnce => QosPid::ExactlyOnce(PacketId::MIN),
        };
        let size = encoded_len_of(&message, self.version)?;
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
            .ids
            .allocate()
            .ok_or(SessionError::PacketIdsExhausted)?;
        let stage = if qos == QoS::AtLeastOnce {
            message.qos = QosPid::AtLeastOnce(id);
            Stage::Qos1(message)
        } else {
            message.qos = QosPid::ExactlyOnce(id);
            Stage::Qos2(message)
        };
        self.state.queued.push_back(Outgoing {
            id,
            stage,
            ever_sent: false,
        });
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
        let id = self
            .state
            .ids
            .allocate()
            .ok_or(SessionError::PacketIdsExhausted)?;
        self.requests.push(Request {
            id,
            subscribe,
            filters,
        });
        Ok(id)
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

    /// The SUBSCRIBE (`subscribe`) or UNSUBSCRIBE awaiting an answer with identifier `id`.
    pub(crate) fn find_request(&self, id: PacketId, subscribe: bool) -> Option<&Request> {
        self.requests
            .iter()
            .find(|r| r.id == id && r.subscribe == subscribe)
    }

    /// Removes the request answered by an acknowledgement, if there is one.
    pub(crate) fn take_request(&mut self, id: PacketId, subscribe: bool) -> Option<Request> {
        let i = self
            .requests
            .iter()
            .position(|r| r.id == id && r.subscribe == subscribe)?;
        Some(self.requests.swap_remove(i))
    }

    /// PUBACK: the QoS 1 flow ends, whatever the reason code ([MQTT-4.3.2-3] in 5.0,
    /// [MQTT-4.4.0-2] for failures). An acknowledgement of an identifier we are not
    /// waiting for changes nothing.
    pub(crate) fn on_puback(&mut self, ack: PubAck) {
        let Some(i) = self.find_inflight(ack.packet_id, |s| matches!(s, Stage::Qos1(_))) else {
            return;
        };
        self.state.inflight.remove(i);
        self.state.ids.release(ack.packet_id);
        self.events.push_back(if ack.reason_code.is_error() {
            Event::PublishFailed {
                packet_id: ack.packet_id,
                reason_code: ack.reason_code,
            }
        } else {
            Event::PublishAcknowledged {
                packet_id: ack.packet_id,
                reason_code: ack.reason_code,
            }
        });
        self.pump();
    }

    /// PUBREC: answer with PUBREL and forget the message ([MQTT-4.3.3-4], [MQTT-4.3.3-6]
    /// in 5.0, [MQTT-4.3.3-1] in 3.1.1); a failure code ends the flow ([MQTT-4.4.0-2]).
    pub(crate) fn on_pubrec(&mut self, rec: PubRec) {
        let id = rec.packet_id;
        match self.find_inflight(id, |_| true) {
            Some(i) => match self.state.inflight[i].stage {
                Stage::Qos2(_) if rec.reason_code.is_error() => {
                    self.state.inflight.remove(i);
                    self.state.ids.release(id);
                    self.events.push_back(Event::PublishFailed {
                        packet_id: id,
                        reason_code: rec.reason_code,
                    });
                    self.pump();
                }
                Stage::Qos2(_) => {
                    self.state.inflight[i].stage = Stage::Released;
                    // A resume resends in the original order, but PUBRELs in the order the
                    // PUBRECs arrived ([MQTT-4.6.0-4]): a flow released after a later one
                    // moves behind it.
                    let last = self
                        .state
                        .inflight
                        .iter()
                        .rposition(|o| matches!(o.stage, Stage::Released) && o.id != id);
                    if let Some(last) = last.filter(|&last| last > i) {
                        if let Some(entry) = self.state.inflight.remove(i) {
                            self.state.inflight.insert(last, entry);
                        }
                    }
                    self.transmit.push_back(Packet::PubRel(PubRel::new(id)));
                }
                Stage::Released => self.transmit.push_back(Packet::PubRel(PubRel::new(id))),
                Stage::Qos1(_) => {}
            },
            // 5.0 lets the peer finish its side of an exchange we no longer know.
            None if self.version.is_v5() && !rec.reason_code.is_error() => {
                let mut rel = PubRel::new(id);
                rel.reason_code = PubRelReasonCode::PacketIdentifierNotFound;
                self.transmit.push_back(Packet::PubRel(rel));
            }
            None => {}
        }
    }

    /// PUBCOMP: the QoS 2 flow ends ([MQTT-4.3.3-5] in 5.0).
    pub(crate) fn on_pubcomp(&mut self, comp: PubComp) {
        let id = comp.packet_id;
        let Some(i) = self.find_inflight(id, |s| matches!(s, Stage::Released)) else {
            return;
        };
        self.state.inflight.remove(i);
        self.state.ids.release(id);
        self.events
            .push_back(Event::PublishCompleted { packet_id: id });
        self.pump();
    }

    fn find_inflight(&self, id: PacketId, stage: impl Fn(&Stage) -> bool) -> Option<usize> {
        self.state
            .inflight
            .iter()
            .position(|o| o.id == id && stage(&o.stage))
    }

    /// A received PUBLISH, after the role's own checks.
    pub(crate) fn on_publish(&mut self, mut publish: Publish) -> Result<(), ProtocolError> {
        self.aliases.resolve_incoming(&mut publish, self.server)?;
        let manual = self.config.manual_acks;
        match publish.qos {
            QosPid::AtMostOnce => {}
            QosPid::AtLeastOnce(id) => {
                // Each copy is a new message, delivered and acknowledged ([MQTT-4.3.2-4],
                // [MQTT-4.3.2-5] in 5.0, [MQTT-4.3.2-2] in 3.1.1).
                self.check_receive_maximum()?;
                self.qos1_unacked += 1;
                self.acks.push_back(PendingAck {
                    id,
                    qos2: false,
                    ready: !manual,
                });
            }
            QosPid::ExactlyOnce(id) => match self.state.find_received(id) {
                // A retransmission before PUBREL: PUBREC again, no second delivery
                // ([MQTT-4.3.3-10] in 5.0, [MQTT-4.3.3-2] in 3.1.1).
                Ok(i) => {
                    let ready = self.state.received[i].acked;
                    self.acks.push_back(PendingAck {
                        id,
                        qos2: true,
                        ready,
                    });
                    self.flush_acks();
                    return Ok(());
                }
                Err(i) => {
                    self.check_receive_maximum()?;
                    self.state.received.insert(
                        i,
                        Received {
                            id: id.get(),
                            acked: !manual,
                        },
                    );
                    self.acks.push_back(PendingAck {
                        id,
                        qos2: true,
                        ready: !manual,
                    });
                }
            },
        }
        self.events.push_back(Event::Message(publish));
        self.flush_acks();
        Ok(())
    }

    /// More unacknowledged QoS 1 and 2 messages than our Receive Maximum is a protocol
    /// violation (0x93; [MQTT-3.3.4-9] for a client, [MQTT-3.3.4-7] for a server). Below
    /// 5.0 the peer was never told, but the limit still bounds what we keep.
    fn check_receive_maximum(&self) -> Result<(), ProtocolError> {
        let unacked = self.qos1_unacked + self.state.received.len();
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
        while let Some(front) = self.acks.front() {
            if !front.ready {
                break;
            }
            let PendingAck { id, qos2, .. } = *front;
            self.acks.pop_front();
            if qos2 {
                self.transmit.push_back(Packet::PubRec(PubRec::new(id)));
            } else {
                self.qos1_unacked -= 1;
                self.transmit.push_back(Packet::PubAck(PubAck::new(id)));
            }
        }
    }

    /// The application's acknowledgement of a received message (manual acknowledgement).
    pub(crate) fn ack(&mut self, id: PacketId) -> Result<(), SessionError> {
        if let Some(pending) = self.acks.iter_mut().find(|a| a.id == id && !a.ready) {
            pending.ready = true;
            if pending.qos2 {
                // Copies of the same QoS 2 message (retransmissions) are one message.
                for copy in self.acks.iter_mut().filter(|a| a.id == id && a.qos2) {
                    copy.ready = true;
                }
                if let Ok(i) = self.state.find_received(id) {
                    self.state.received[i].acked = true;
                }
            }
            self.flush_acks();
            return Ok(());
        }
        // A QoS 2 message delivered on an earlier connection: its retransmission will be
        // answered at once.
        match self.state.find_received(id) {
            Ok(i) if !self.state.received[i].acked => {
                self.state.received[i].acked = true;
                Ok(())
            }
            _ => Err(SessionError::NoPendingAck(id)),
        }
    }

    /// PUBREL: answer with PUBCOMP and forget the identifier ([MQTT-4.3.3-11],
    /// [MQTT-4.3.3-12] in 5.0); an unknown one gets PUBCOMP with 0x92 in 5.0.
    pub(crate) fn on_pubrel(&mut self, rel: PubRel) {
        let id = rel.packet_id;
        let mut comp = PubComp::new(id);
        match self.state.find_received(id) {
            Ok(i) => {
                self.state.received.remove(i);
                // PUBRECs the application never released are moot now.
                let pending = self.acks.len();
                self.acks.retain(|a| !(a.id == id && a.qos2));
                if self.acks.len() != pending {
                    self.flush_acks();
                }
            }
            Err(_) if self.version.is_v5() => {
                comp.reason_code = PubRelReasonCode::PacketIdentifierNotFound;
            }
            Err(_) => {}
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

    /// A decoding error on the connection, as a violation.
    pub(crate) fn decode_error(&mut self, error: &DecodeError) -> ProtocolError {
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
        self.state.requeue();
        for request in self.requests.drain(..) {
            if !self.server {
                self.state.ids.release(request.id);
                self.events.push_back(Event::RequestDropped {
                    packet_id: request.id,
                });
            }
        }
        self.acks.clear();
        self.qos1_unacked = 0;
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
