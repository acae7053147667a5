//! MQTT 5.0 Topic Aliases (section 3.3.2.3.4): the peer's, which map an alias it sends
//! back to a topic, and ours, which stand in for the topics of the messages we send.
//! Mappings belong to one connection ([MQTT-3.3.2-7]); 3.1.1 has no aliases.

use super::core::PeerLimits;
use super::error::{ProtocolError, SessionError};
use super::SessionConfig;
use crate::packet::Publish;
use crate::types::reason_code::DisconnectReasonCode;
use crate::types::{MqttString, ProtocolVersion, TopicName};
use alloc::vec::Vec;
use bytes::BytesMut;

/// The topic one alias stands for, in a buffer the alias keeps for its next topic.
///
/// A remapped alias must own its topic's bytes (the frame or message the topic came in may
/// be large, and is not ours to pin), yet the topic is handed out as a [`TopicName`]. The
/// topic is therefore written into `spare` and split off it, frozen, so that the two share
/// one allocation; on the next remap, once the previous topic is dropped everywhere,
/// `BytesMut::reserve` reclaims that allocation instead of allocating (it checks that
/// `spare` is the only handle left). While a delivered or queued message still holds the
/// previous topic, `reserve` allocates afresh and never writes over it.
///
/// Memory: one allocation per alias, smaller than twice the longest topic it has held
/// (`reserve` grows it only for a topic longer than the whole allocation, to at most
/// twice that topic).
#[derive(Debug, Default)]
struct TopicSlot {
    /// The mapped topic, `None` when unmapped (a mapped topic is never empty).
    topic: Option<TopicName>,
    /// Always empty: the free part of the allocation `topic` was split from.
    spare: BytesMut,
}

impl TopicSlot {
    fn get(&self) -> Option<&TopicName> {
        self.topic.as_ref()
    }

    fn holds(&self, topic: &TopicName) -> bool {
        self.topic.as_ref() == Some(topic)
    }

    /// Maps the alias to a copy of `topic`.
    fn set(&mut self, topic: &TopicName) {
        // Our own handle on the previous topic would keep its allocation shared.
        self.topic = None;
        let bytes = topic.as_mqtt_str().as_bytes();
        self.spare.reserve(bytes.len());
        self.spare.extend_from_slice(bytes);
        let copy = MqttString::from_checked(self.spare.split().freeze());
        self.topic = Some(TopicName::from_checked(copy));
    }
}

#[derive(Debug, Default)]
struct AliasSlot {
    topic: TopicSlot,
    last_used: u64,
}

/// Both directions' alias mappings of the current connection.
#[derive(Debug, Default)]
pub(crate) struct TopicAliases {
    in_aliases: Vec<TopicSlot>,
    out_aliases: Vec<AliasSlot>,
    alias_clock: u64,
}

impl TopicAliases {
    /// A connection starts at `version` with no mappings; at 5.0 the peer may use aliases
    /// up to our Topic Alias Maximum.
    pub(crate) fn open(&mut self, version: ProtocolVersion, config: &SessionConfig) {
        self.clear();
        if version.is_v5() {
            self.in_aliases
                .resize_with(usize::from(config.topic_alias_maximum), TopicSlot::default);
        }
    }

    /// The connection is established with `peer`: we keep track of as many aliases as
    /// configured, never more than the peer's Topic Alias Maximum.
    pub(crate) fn establish(&mut self, peer: &PeerLimits, config: &SessionConfig) {
        let slots = peer.topic_alias_maximum.min(config.outgoing_topic_aliases);
        self.out_aliases.clear();
        self.out_aliases
            .resize_with(usize::from(slots), AliasSlot::default);
    }

    /// The connection is over: its mappings go with it.
    pub(crate) fn clear(&mut self) {
        self.in_aliases.clear();
        self.out_aliases.clear();
    }

    /// Uses or sets up a Topic Alias for an outgoing message: the caller's, or one the
    /// session picks if configured to (the least recently used when all are taken). Aliases never
    /// exceed the peer's Topic Alias Maximum ([MQTT-3.2.2-17], [MQTT-3.3.2-9] for a client;
    /// [MQTT-3.1.2-26], [MQTT-3.3.2-11] for a server).
    ///
    /// `size` is the packet's size as it stands; an automatic alias is only added when the
    /// packet still fits the peer's Maximum Packet Size with it (the property takes three
    /// bytes, and may lengthen the Property Length and Remaining Length by one each).
    pub(crate) fn apply_outgoing(
        &mut self,
        publish: &mut Publish,
        size: usize,
        peer: &PeerLimits,
        config: &SessionConfig,
    ) {
        // A message stored on an earlier connection may carry an alias the peer of this
        // one does not accept ([MQTT-3.3.2-7]): its full topic goes instead.
        if publish
            .properties
            .topic_alias
            .is_some_and(|a| a.get() > peer.topic_alias_maximum)
        {
            publish.properties.topic_alias = None;
        }
        if self.out_aliases.is_empty()
            || (publish.properties.topic_alias.is_none() && size + 5 > peer.max_packet_size)
        {
            return;
        }
        self.alias_clock += 1;
        let slot = match publish.properties.topic_alias {
            Some(alias) => usize::from(alias.get()) - 1,
            None if config.auto_topic_aliases => {
                let known = self
                    .out_aliases
                    .iter()
                    .position(|s| s.topic.holds(&publish.topic));
                known.unwrap_or_else(|| {
                    let lru = self.out_aliases.iter().enumerate();
                    lru.min_by_key(|(_, s)| (s.topic.get().is_some(), s.last_used))
                        .map_or(0, |(i, _)| i)
                })
            }
            None => return,
        };
        let Some(entry) = self.out_aliases.get_mut(slot) else {
            // A caller's alias beyond the slots tracked: sent with its topic, which maps it.
            return;
        };
        entry.last_used = self.alias_clock;
        publish.properties.topic_alias = core::num::NonZeroU16::new(slot as u16 + 1);
        if entry.topic.holds(&publish.topic) {
            publish.topic = TopicName::default();
        } else {
            entry.topic.set(&publish.topic);
        }
    }

    /// Checks the caller's own Topic Alias on a message it publishes against the peer's
    /// Topic Alias Maximum, and fills in the topic the alias stands for when the message
    /// has none.
    pub(crate) fn fill_caller_topic(
        &self,
        message: &mut Publish,
        peer: &PeerLimits,
    ) -> Result<(), SessionError> {
        let maximum = peer.topic_alias_maximum;
        let Some(alias) = message.properties.topic_alias else {
            return Ok(());
        };
        let invalid = SessionError::TopicAliasInvalid {
            alias: alias.get(),
            maximum,
        };
        if alias.get() > maximum {
            return Err(invalid);
        }
        // Keep the full topic: aliases do not outlive the connection ([MQTT-3.3.2-7]),
        // and a resend may happen on another one.
        if message.topic.is_empty() {
            let slot = self.out_aliases.get(usize::from(alias.get()) - 1);
            let topic = slot.and_then(|s| s.topic.get()).ok_or(invalid)?;
            message.topic = topic.clone();
        }
        Ok(())
    }

    /// Maps an incoming Topic Alias (MQTT 5.0 section 3.3.2.3.4); `server` is our role.
    pub(crate) fn resolve_incoming(
        &mut self,
        publish: &mut Publish,
        server: bool,
    ) -> Result<(), ProtocolError> {
        let Some(alias) = publish.properties.topic_alias else {
            return Ok(());
        };
        let Some(slot) = self.in_aliases.get_mut(usize::from(alias.get()) - 1) else {
            let rule = if server {
                "MQTT-3.3.2-9"
            } else {
                "MQTT-3.3.2-11"
            };
            return Err(ProtocolError::new(
                DisconnectReasonCode::TopicAliasInvalid,
                "Topic Alias above our Topic Alias Maximum",
            )
            .with_rule(rule));
        };
        if publish.topic.is_empty() {
            let topic = slot.get().ok_or(ProtocolError::new(
                DisconnectReasonCode::ProtocolError,
                "empty topic with a Topic Alias not mapped on this connection",
            ))?;
            publish.topic = topic.clone();
        } else if !slot.holds(&publish.topic) {
            slot.set(&publish.topic);
        }
        Ok(())
    }
}
