//! Session state: what outlives a network connection (MQTT 5.0 section 4.1, 3.1.1
//! section 4.1): our unacknowledged QoS 1 and 2 messages and the QoS 2 messages we received
//! but whose PUBREL has not arrived yet. Topic aliases and the send quota are not part of it.

use super::id_table::IdTable;
use super::outgoing::{List, OutTable};
use crate::types::PacketId;

/// A received QoS 2 message awaiting its PUBREL ([MQTT-4.3.3-10] in 5.0).
pub(crate) const RECEIVED: u8 = 1;
/// ... that the application acknowledged (always, without manual acknowledgement), so a
/// retransmission may be answered with PUBREC at once.
pub(crate) const ACKED: u8 = 2;

/// The state of one MQTT session that outlives its network connections: our QoS 1 and 2
/// messages not yet acknowledged, in the order they were published, and the QoS 2 messages
/// received whose exchange has not completed.
///
/// A client session keeps it across `connect` calls. A server hands it from the engine of
/// a connection that ended to the engine of the client's next connection with
/// [`Session::take_session`] and [`Server::accept`]. Its memory is bounded by the number of
/// unacknowledged messages, which the configuration bounds, and every lookup in it is
/// O(1) whatever that number.
///
/// [`Session::take_session`]: super::Session::take_session
/// [`Server::accept`]: super::Server::accept
#[derive(Clone, Default)]
pub struct SessionState {
    /// Our packet identifiers in use and what for.
    pub(crate) out: OutTable,
    /// Received QoS 2 messages awaiting PUBREL: [`RECEIVED`], with [`ACKED`] once the
    /// application acknowledged them.
    pub(crate) received: IdTable<u8>,
}

impl SessionState {
    /// Whether there is nothing to resume.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.unacknowledged() == 0 && self.received.is_empty()
    }

    /// How many of our QoS 1 and 2 messages are not acknowledged yet (PUBCOMP not received,
    /// for QoS 2).
    #[must_use]
    pub fn unacknowledged(&self) -> usize {
        self.out.len(List::Sent) + self.out.len(List::Released) + self.out.len(List::Queued)
    }

    /// The packet identifiers of our unacknowledged messages, in the order they will be
    /// sent again when the session resumes: the QoS 2 messages past PUBREC (their PUBREL,
    /// in the order the PUBRECs arrived), then the others (their PUBLISH, in publish
    /// order).
    pub fn unacknowledged_ids(&self) -> impl Iterator<Item = PacketId> + '_ {
        let out = &self.out;
        out.iter(List::Released)
            .chain(out.iter(List::Sent))
            .chain(out.iter(List::Queued))
    }

    /// Puts a state that enters an engine in its resting form: nothing is on a connection.
    /// A state taken with `take_session` already is; a clone of a live one still lists
    /// what its connection sent (resent from the queue on the next one) and its requests
    /// (which end with their connection, reported by the engine they belong to).
    pub(crate) fn settle(&mut self) {
        self.out.prepend(List::Sent, List::Queued);
        while let Some(id) = self.out.front(List::Requests) {
            self.out.remove(id);
        }
    }

    /// How many received QoS 2 messages await their PUBREL.
    #[must_use]
    pub fn incomplete_incoming(&self) -> usize {
        self.received.len()
    }
}

impl core::fmt::Debug for SessionState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SessionState")
            .field(
                "unacknowledged",
                &DebugIds(|| self.unacknowledged_ids().map(PacketId::get)),
            )
            .field(
                "awaiting_pubrel",
                &DebugIds(|| self.received.iter().map(|(id, _)| id)),
            )
            .finish()
    }
}

/// Lists identifiers without collecting them.
struct DebugIds<F>(F);

impl<F: Fn() -> I, I: Iterator<Item = u16>> core::fmt::Debug for DebugIds<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries((self.0)()).finish()
    }
}
