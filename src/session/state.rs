//! Session state: what outlives a network connection (MQTT 5.0 section 4.1, 3.1.1
//! section 4.1): our unacknowledged QoS 1 and 2 messages and the QoS 2 messages we received
//! but whose PUBREL has not arrived yet. Topic aliases and the send quota are not part of it.

use super::id_table::IdTable;
use super::outgoing::{List, OutTable, Stage};
use super::SessionError;
use crate::packet::Publish;
use crate::types::{PacketId, QoS, QosPid};

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

    /// Queues `message` at `qos` (1 or 2) for a client that is not connected, as a server
    /// does for a session that outlives its connection (3.1.1 MQTT-3.1.2-5; MQTT 5.0
    /// section 4.1), and returns the packet identifier it got.
    ///
    /// The message goes after everything the state already holds. When the session resumes
    /// ([`Server::accept`]), the engine sends the PUBRELs of QoS 2 messages past PUBREC
    /// first, then the PUBLISHes, in the order they were published or queued: those sent
    /// before with DUP set, the queued ones without, as far as the client's Receive
    /// Maximum allows. Until then it is one of the state's unacknowledged messages like any
    /// other, and is saved and restored with it.
    ///
    /// The message is stored as given but for its DUP flag (cleared), its QoS and packet
    /// identifier (set), and its Topic Alias (removed: an alias belongs to one connection,
    /// [MQTT-3.3.2-7] in 5.0); keep the Subscription Identifiers it should carry. Store an
    /// owned copy ([`Publish::detach`]) so that a queued message does not keep a receive
    /// buffer alive. Properties a client below 5.0 cannot receive are left out when it is
    /// sent, if the session resumes at such a version.
    ///
    /// The state does not know [`SessionConfig::max_outgoing`]: bound how much you queue
    /// with [`unacknowledged`](Self::unacknowledged). An engine given a state that holds
    /// more sends it all in order and refuses new `publish` calls until it drains.
    ///
    /// # Errors
    ///
    /// Nothing is queued if:
    /// - `qos` is 0 ([`SessionError::Forbidden`]): QoS 0 messages are not part of the
    ///   session state here (MQTT 5.0 section 4.1 makes them optional);
    /// - the topic is empty ([`SessionError::Forbidden`], [MQTT-4.7.3-1]), as is an aliased
    ///   message whose topic was not filled in;
    /// - all 65,535 packet identifiers are in use ([`SessionError::PacketIdsExhausted`]).
    ///
    /// ```
    /// use mqttwire::session::SessionState;
    /// use mqttwire::{Publish, QoS, TopicName};
    ///
    /// let mut stored = SessionState::default();
    /// let message = Publish::new(TopicName::new("alerts/door").unwrap(), "open");
    /// let id = stored.queue(QoS::AtLeastOnce, message).unwrap();
    /// assert_eq!(stored.unacknowledged_ids().collect::<Vec<_>>(), [id]);
    /// ```
    ///
    /// [`Server::accept`]: super::Server::accept
    /// [`SessionConfig::max_outgoing`]: super::SessionConfig::max_outgoing
    pub fn queue(&mut self, qos: QoS, mut message: Publish) -> Result<PacketId, SessionError> {
        if qos == QoS::AtMostOnce {
            return Err(SessionError::Forbidden {
                what: "queueing a QoS 0 message in a session state",
                rule: "section 4.1",
            });
        }
        if message.topic.is_empty() {
            return Err(SessionError::Forbidden {
                what: "queueing a message with an empty topic",
                rule: "MQTT-4.7.3-1",
            });
        }
        message.dup = false;
        message.properties.topic_alias = None;
        self.push(qos, message)
            .ok_or(SessionError::PacketIdsExhausted)
    }

    /// Appends our QoS 1 or 2 `message` to the messages waiting to be sent, under a fresh
    /// packet identifier ([MQTT-2.2.1-3] in 5.0, [MQTT-2.3.1-2] in 3.1.1); `None` when all
    /// are in use.
    pub(crate) fn push(&mut self, qos: QoS, message: Publish) -> Option<PacketId> {
        let stage = if qos == QoS::AtLeastOnce {
            Stage::Qos1(message)
        } else {
            Stage::Qos2(message)
        };
        let id = self.out.allocate(stage, List::Queued)?;
        if let Some(Stage::Qos1(m) | Stage::Qos2(m)) = self.out.stage_mut(id) {
            m.qos = if qos == QoS::AtLeastOnce {
                QosPid::AtLeastOnce(id)
            } else {
                QosPid::ExactlyOnce(id)
            };
        }
        Some(id)
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
