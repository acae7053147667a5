//! Session state: what outlives a network connection (MQTT 5.0 section 4.1, 3.1.1
//! section 4.1): our unacknowledged QoS 1 and 2 messages and the QoS 2 messages we received
//! but whose PUBREL has not arrived yet. Topic aliases and the send quota are not part of it.

use super::packet_ids::PacketIds;
use crate::packet::Publish;
use crate::types::PacketId;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// Which acknowledgement one of our QoS 1 or 2 messages waits for.
#[derive(Debug, Clone)]
pub(crate) enum Stage {
    /// QoS 1, waiting for PUBACK.
    Qos1(Publish),
    /// QoS 2, waiting for PUBREC.
    Qos2(Publish),
    /// QoS 2 after PUBREC: only PUBREL is ever sent again ([MQTT-4.3.3-6] in 5.0), so the
    /// message itself is no longer kept.
    Released,
}

#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub(crate) id: PacketId,
    pub(crate) stage: Stage,
    /// Sent at least once, on any connection: a resend carries DUP ([MQTT-3.3.1-1]).
    pub(crate) ever_sent: bool,
}

/// A QoS 2 message we received and delivered, kept until its PUBREL so that a
/// retransmission is acknowledged but not delivered twice ([MQTT-4.3.3-10] in 5.0).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Received {
    pub(crate) id: u16,
    /// The application acknowledged it (always true without manual acknowledgement), so a
    /// retransmission may be answered with PUBREC at once.
    pub(crate) acked: bool,
}

/// The state of one MQTT session that outlives its network connections: our QoS 1 and 2
/// messages not yet acknowledged, in the order they were published, and the QoS 2 messages
/// received whose exchange has not completed.
///
/// A client session keeps it across `connect` calls. A server hands it from the engine of
/// a connection that ended to the engine of the client's next connection with
/// [`Session::take_session`] and [`Server::accept`]. Its memory is bounded by the number of
/// unacknowledged messages, which the configuration bounds.
///
/// [`Session::take_session`]: super::Session::take_session
/// [`Server::accept`]: super::Server::accept
#[derive(Debug, Clone, Default)]
pub struct SessionState {
    /// Sent on the current connection and awaiting an acknowledgement, in send order.
    pub(crate) inflight: VecDeque<Outgoing>,
    /// Not sent on the current connection yet (waiting for the peer's Receive Maximum, or
    /// for the session to resume), in publish order.
    pub(crate) queued: VecDeque<Outgoing>,
    /// Identifiers of the messages above (and, while connected, of SUBSCRIBE and
    /// UNSUBSCRIBE packets awaiting their answer).
    pub(crate) ids: PacketIds,
    /// Received QoS 2 messages awaiting PUBREL, sorted by packet identifier.
    pub(crate) received: Vec<Received>,
}

impl SessionState {
    /// Whether there is nothing to resume.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.inflight.is_empty() && self.queued.is_empty() && self.received.is_empty()
    }

    /// How many of our QoS 1 and 2 messages are not acknowledged yet.
    #[must_use]
    pub fn unacknowledged(&self) -> usize {
        self.inflight.len() + self.queued.len()
    }

    /// The packet identifiers of our unacknowledged messages, in the order they will be
    /// sent again when the session resumes.
    pub fn unacknowledged_ids(&self) -> impl Iterator<Item = PacketId> + '_ {
        self.inflight.iter().chain(&self.queued).map(|o| o.id)
    }

    /// How many received QoS 2 messages await their PUBREL.
    #[must_use]
    pub fn incomplete_incoming(&self) -> usize {
        self.received.len()
    }

    /// Moves everything sent on the ended connection back to the queue, ahead of what was
    /// never sent, keeping the original order.
    pub(crate) fn requeue(&mut self) {
        while let Some(entry) = self.inflight.pop_back() {
            self.queued.push_front(entry);
        }
    }

    pub(crate) fn find_received(&self, id: PacketId) -> Result<usize, usize> {
        self.received.binary_search_by_key(&id.get(), |r| r.id)
    }
}
