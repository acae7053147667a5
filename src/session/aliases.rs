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
use core::num::NonZeroU16;

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

/// No slot: the end of a bucket's chain or of the recency list.
const NONE: u16 = u16::MAX;

/// One of our aliases, linked into its topic's hash bucket and into the recency list.
#[derive(Debug, Default)]
struct AliasSlot {
    topic: TopicSlot,
    /// The hash of `topic` when mapped.
    hash: u64,
    /// The next slot in the same bucket.
    next_in_bucket: u16,
    /// The neighbours in the recency list.
    newer: u16,
    older: u16,
}

/// Our aliases: alias `n` is slot `n - 1`. A hash table chained through the slots finds
/// the alias of a topic, and a recency list threaded through them gives the least recently
/// used alias to reassign, both in constant time (a scan of the slots on every PUBLISH
/// would cost up to 65,535 comparisons) and without allocating after `reset`.
///
/// Our topics may be chosen by others (a server forwards other clients' messages), who
/// could make them collide: at worst a bucket's chain holds every slot, which costs what
/// the scan did.
#[derive(Debug, Default)]
struct OutgoingAliases {
    slots: Vec<AliasSlot>,
    /// The first slot of each bucket's chain: a power of two of them, at least one per slot.
    buckets: Vec<u16>,
    newest: u16,
    /// The next alias to reassign.
    oldest: u16,
}

impl OutgoingAliases {
    /// `count` unmapped slots, reassigned from slot 0 up.
    fn reset(&mut self, count: u16) {
        self.slots.clear();
        self.buckets.clear();
        if count == 0 {
            return;
        }
        self.slots.extend((0..count).map(|i| AliasSlot {
            next_in_bucket: NONE,
            newer: if i + 1 == count { NONE } else { i + 1 },
            older: i.checked_sub(1).unwrap_or(NONE),
            ..AliasSlot::default()
        }));
        self.buckets
            .resize(usize::from(count).next_power_of_two(), NONE);
        self.newest = count - 1;
        self.oldest = 0;
    }

    fn slot(&self, i: u16) -> &AliasSlot {
        &self.slots[usize::from(i)]
    }

    fn slot_mut(&mut self, i: u16) -> &mut AliasSlot {
        &mut self.slots[usize::from(i)]
    }

    fn bucket(&self, hash: u64) -> usize {
        // `topic_hash` mixes best into the high bits.
        (hash >> 32) as usize & (self.buckets.len() - 1)
    }

    /// The slot mapped to `topic`, whose hash is `hash`.
    fn find(&self, topic: &TopicName, hash: u64) -> Option<u16> {
        let mut i = self.buckets[self.bucket(hash)];
        while i != NONE {
            let slot = self.slot(i);
            if slot.hash == hash && slot.topic.holds(topic) {
                return Some(i);
            }
            i = slot.next_in_bucket;
        }
        None
    }

    /// Makes slot `i` the most recently used.
    fn touch(&mut self, i: u16) {
        if i == self.newest {
            return;
        }
        // Not the newest, so there is a newer one.
        let (newer, older) = (self.slot(i).newer, self.slot(i).older);
        self.slot_mut(newer).older = older;
        match older {
            NONE => self.oldest = newer,
            older => self.slot_mut(older).newer = newer,
        }
        let newest = self.newest;
        self.slot_mut(newest).newer = i;
        let slot = self.slot_mut(i);
        slot.older = newest;
        slot.newer = NONE;
        self.newest = i;
    }

    /// Maps slot `i` to a copy of `topic`, whose hash is `hash`.
    fn assign(&mut self, i: u16, topic: &TopicName, hash: u64) {
        if self.slot(i).topic.get().is_some() {
            let bucket = self.bucket(self.slot(i).hash);
            let next = self.slot(i).next_in_bucket;
            if self.buckets[bucket] == i {
                self.buckets[bucket] = next;
            } else {
                let mut before = self.buckets[bucket];
                while self.slot(before).next_in_bucket != i {
                    before = self.slot(before).next_in_bucket;
                }
                self.slot_mut(before).next_in_bucket = next;
            }
        }
        let bucket = self.bucket(hash);
        let first = self.buckets[bucket];
        self.buckets[bucket] = i;
        let slot = self.slot_mut(i);
        slot.topic.set(topic);
        slot.hash = hash;
        slot.next_in_bucket = first;
    }
}

/// FxHash's step over the topic's 8-byte words, from its length: fast, and enough to
/// spread topics over the buckets.
fn topic_hash(topic: &TopicName) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let step = |hash: u64, word: u64| (hash.rotate_left(5) ^ word).wrapping_mul(K);
    let bytes = topic.as_mqtt_str().as_bytes();
    let mut words = bytes.chunks_exact(8);
    let mut hash = bytes.len() as u64;
    let mut word = [0; 8];
    for chunk in &mut words {
        word.copy_from_slice(chunk);
        hash = step(hash, u64::from_le_bytes(word));
    }
    let rest = words.remainder();
    word = [0; 8];
    word[..rest.len()].copy_from_slice(rest);
    step(hash, u64::from_le_bytes(word))
}

/// Both directions' alias mappings of the current connection.
#[derive(Debug, Default)]
pub(crate) struct TopicAliases {
    /// The peer's: alias `n` is slot `n - 1`.
    incoming: Vec<TopicSlot>,
    outgoing: OutgoingAliases,
}

impl TopicAliases {
    /// A connection starts at `version` with no mappings; at 5.0 the peer may use aliases
    /// up to our Topic Alias Maximum.
    pub(crate) fn open(&mut self, version: ProtocolVersion, config: &SessionConfig) {
        self.clear();
        if version.is_v5() {
            self.incoming
                .resize_with(usize::from(config.topic_alias_maximum), TopicSlot::default);
        }
    }

    /// The connection is established with `peer`: we keep track of as many aliases as
    /// configured, never more than the peer's Topic Alias Maximum.
    pub(crate) fn establish(&mut self, peer: &PeerLimits, config: &SessionConfig) {
        let slots = peer.topic_alias_maximum.min(config.outgoing_topic_aliases);
        self.outgoing.reset(slots);
    }

    /// The connection is over: its mappings go with it.
    pub(crate) fn clear(&mut self) {
        self.incoming.clear();
        self.outgoing.reset(0);
    }

    /// Uses or sets up a Topic Alias for an outgoing message: the caller's, or one the
    /// session picks if configured to (the least recently used when all are taken).
    /// Aliases never exceed the peer's Topic Alias Maximum ([MQTT-3.2.2-17], [MQTT-3.3.2-9]
    /// for a client; [MQTT-3.1.2-26], [MQTT-3.3.2-11] for a server).
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
        let out = &mut self.outgoing;
        let caller = publish.properties.topic_alias;
        if out.slots.is_empty()
            || (caller.is_none() && (!config.auto_topic_aliases || size + 5 > peer.max_packet_size))
        {
            return;
        }
        let (i, known, hash) = match caller {
            // A caller's alias beyond the slots tracked: sent with its topic, which maps it.
            Some(alias) if usize::from(alias.get()) > out.slots.len() => return,
            Some(alias) => {
                let i = alias.get() - 1;
                (i, out.slot(i).topic.holds(&publish.topic), None)
            }
            None => {
                let hash = topic_hash(&publish.topic);
                let found = out.find(&publish.topic, hash);
                (found.unwrap_or(out.oldest), found.is_some(), Some(hash))
            }
        };
        out.touch(i);
        publish.properties.topic_alias = NonZeroU16::new(i + 1);
        if known {
            publish.topic = TopicName::default();
        } else {
            let hash = hash.unwrap_or_else(|| topic_hash(&publish.topic));
            out.assign(i, &publish.topic, hash);
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
            let slot = self.outgoing.slots.get(usize::from(alias.get()) - 1);
            let topic = slot.and_then(|s| s.topic.get()).ok_or(invalid)?;
            message.topic = topic.clone();
        }
        Ok(())
    }

    /// Maps an incoming Topic Alias (MQTT 5.0 section 3.3.2.3.4) to its topic and removes
    /// the alias from the message; `server` is our role.
    pub(crate) fn resolve_incoming(
        &mut self,
        publish: &mut Publish,
        server: bool,
    ) -> Result<(), ProtocolError> {
        let Some(alias) = publish.properties.topic_alias else {
            return Ok(());
        };
        let Some(slot) = self.incoming.get_mut(usize::from(alias.get()) - 1) else {
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
        // The alias served this connection only ([MQTT-3.3.2-7]): a delivered message has
        // its full topic and no alias, so that forwarding it cannot carry the number on.
        publish.properties.topic_alias = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::String;

    /// The linear scan the table replaced: per slot its topic and when it was last used.
    struct Scan {
        slots: Vec<(Option<String>, u64)>,
        clock: u64,
    }

    impl Scan {
        /// The slot the scan would use for `topic` (the caller's `alias`, or automatic).
        fn choose(&self, topic: &str, alias: Option<u16>) -> usize {
            if let Some(alias) = alias {
                return usize::from(alias) - 1;
            }
            let known = self
                .slots
                .iter()
                .position(|s| s.0.as_deref() == Some(topic));
            known.unwrap_or_else(|| {
                let lru = self.slots.iter().enumerate();
                lru.min_by_key(|(_, s)| (s.0.is_some(), s.1))
                    .map_or(0, |(i, _)| i)
            })
        }
    }

    fn connected(slots: u16) -> (TopicAliases, PeerLimits, SessionConfig) {
        let peer = PeerLimits {
            topic_alias_maximum: slots,
            ..PeerLimits::default()
        };
        let config = SessionConfig {
            outgoing_topic_aliases: slots,
            ..SessionConfig::default()
        };
        let mut aliases = TopicAliases::default();
        aliases.open(ProtocolVersion::V5, &config);
        aliases.establish(&peer, &config);
        (aliases, peer, config)
    }

    /// Pseudo-random topics (and now and then the caller's own alias, which may map a topic
    /// a second slot already holds) over a few slot counts: every PUBLISH gets the alias
    /// the scan would have picked, or another slot holding its topic, and goes without its
    /// topic exactly when that alias already stood for it.
    #[test]
    fn outgoing_aliases_pick_what_a_scan_of_the_slots_picks() {
        for (slots, topics) in [(1, 3), (2, 3), (5, 12), (64, 200), (300, 280)] {
            let (mut aliases, peer, config) = connected(slots);
            let mut scan = Scan {
                slots: (0..slots).map(|_| (None, 0)).collect(),
                clock: 0,
            };
            let mut seed = 0x2545_f491_4f6c_dd1d_u64;
            for step in 0..20_000 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let topic = format!("t/{}", seed % topics);
                let alias = (seed % 7 == 0).then(|| (seed >> 8) as u16 % slots + 1);
                let mut publish = Publish::new(TopicName::new(&topic).unwrap(), "x");
                publish.properties.topic_alias = alias.and_then(NonZeroU16::new);
                aliases.apply_outgoing(&mut publish, 16, &peer, &config);

                let sent = publish
                    .properties
                    .topic_alias
                    .map(|a| usize::from(a.get()) - 1);
                let sent = sent.unwrap_or_else(|| panic!("step {step}: no alias"));
                let expected = scan.choose(&topic, alias);
                let known = scan.slots[sent].0.as_deref() == Some(topic.as_str());
                assert!(
                    sent == expected || (alias.is_none() && known),
                    "step {step}: {topic} on alias {} where the scan picks {}",
                    sent + 1,
                    expected + 1
                );
                assert_eq!(publish.topic.is_empty(), known, "step {step}: {topic}");
                scan.clock += 1;
                scan.slots[sent] = (Some(topic), scan.clock);
            }
        }
    }

    /// Each of our aliases maps its own topic: reassigning one slot leaves the others, and a
    /// caller's alias with an empty topic is filled in from the alias.
    #[test]
    fn outgoing_aliases_map_the_topic_last_assigned() {
        let (mut aliases, peer, config) = connected(3);
        let send = |aliases: &mut TopicAliases, topic: &str, alias: Option<u16>| {
            let mut publish = Publish::new(TopicName::new(topic).unwrap(), "x");
            publish.properties.topic_alias = alias.and_then(NonZeroU16::new);
            aliases.fill_caller_topic(&mut publish, &peer).unwrap();
            let full = publish.topic.clone();
            aliases.apply_outgoing(&mut publish, 16, &peer, &config);
            let alias = publish.properties.topic_alias.map(NonZeroU16::get);
            (
                String::from(full.as_str()),
                String::from(publish.topic.as_str()),
                alias,
            )
        };
        let owned = |full: &str, sent: &str, alias: u16| (full.into(), sent.into(), Some(alias));
        assert_eq!(send(&mut aliases, "a", None), owned("a", "a", 1));
        assert_eq!(send(&mut aliases, "b", None), owned("b", "b", 2));
        assert_eq!(send(&mut aliases, "c", Some(1)), owned("c", "c", 1));
        assert_eq!(send(&mut aliases, "", Some(1)), owned("c", "", 1));
        assert_eq!(send(&mut aliases, "b", None), owned("b", "", 2));
        assert_eq!(send(&mut aliases, "a", None), owned("a", "a", 3));
        assert_eq!(send(&mut aliases, "c", None), owned("c", "", 1));
        // The least recently used is now alias 2.
        assert_eq!(send(&mut aliases, "d", None), owned("d", "d", 2));
        assert_eq!(send(&mut aliases, "b", None), owned("b", "b", 3));
    }
}
