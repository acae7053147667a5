//! The packet identifier pool of one direction: PUBLISH (QoS 1 and 2), SUBSCRIBE and
//! UNSUBSCRIBE share it (MQTT 5.0 section 2.2.1, 3.1.1 section 2.3.1).

use crate::types::PacketId;
use alloc::vec::Vec;

/// Identifiers in use, kept sorted, handed out round-robin from 1 to 65,535 so that a freed
/// identifier is not reused at once (a late acknowledgement of the old use then cannot be
/// mistaken for the new one). Memory is two bytes per identifier in use; allocation is a
/// binary search plus a walk over the run of used identifiers that follows it.
#[derive(Debug, Clone, Default)]
pub(crate) struct PacketIds {
    used: Vec<u16>,
    next: u16,
}

impl PacketIds {
    /// A fresh, unused identifier ([MQTT-2.2.1-3] in 5.0, [MQTT-2.3.1-2] in 3.1.1), or
    /// `None` when all 65,535 are in use.
    pub(crate) fn allocate(&mut self) -> Option<PacketId> {
        if self.used.len() == usize::from(u16::MAX) {
            return None;
        }
        let mut candidate = self.next.max(1);
        let (Ok(mut i) | Err(mut i)) = self.used.binary_search(&candidate);
        // Skip the run of used identifiers starting at `candidate`, wrapping once past
        // 65,535; a free one exists, so this ends.
        while i < self.used.len() && self.used[i] == candidate {
            if candidate == u16::MAX {
                candidate = 1;
                i = 0;
            } else {
                candidate += 1;
                i += 1;
            }
        }
        self.used.insert(i, candidate);
        self.next = candidate.wrapping_add(1);
        PacketId::new(candidate)
    }

    /// Frees `id`; freeing an unused identifier does nothing.
    pub(crate) fn release(&mut self, id: PacketId) {
        if let Ok(i) = self.used.binary_search(&id.get()) {
            self.used.remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(v: u16) -> PacketId {
        PacketId::new(v).unwrap()
    }

    #[test]
    fn starts_at_one_and_never_hands_out_zero_mqtt_2_2_1_3() {
        let mut ids = PacketIds::default();
        assert_eq!(ids.allocate(), Some(pid(1)));
        assert_eq!(ids.allocate(), Some(pid(2)));
    }

    #[test]
    fn wraps_from_65535_to_1_skipping_used_ones() {
        let mut ids = PacketIds::default();
        ids.used.push(1);
        ids.next = u16::MAX;
        assert_eq!(ids.allocate(), Some(pid(u16::MAX)));
        assert_eq!(ids.allocate(), Some(pid(2)));
    }

    #[test]
    fn does_not_reuse_a_freed_identifier_at_once() {
        let mut ids = PacketIds::default();
        let a = ids.allocate().unwrap();
        ids.release(a);
        assert_ne!(ids.allocate(), Some(a));
    }

    #[test]
    fn exhaustion_is_none_and_a_release_makes_room_mqtt_2_2_1_3() {
        let mut ids = PacketIds::default();
        for _ in 0..u16::MAX {
            assert!(ids.allocate().is_some());
        }
        assert_eq!(ids.allocate(), None);
        ids.release(pid(40_000));
        assert_eq!(ids.allocate(), Some(pid(40_000)));
        assert_eq!(ids.allocate(), None);
    }

    #[test]
    fn releasing_an_unused_identifier_changes_nothing() {
        let mut ids = PacketIds::default();
        let a = ids.allocate().unwrap();
        ids.release(pid(9));
        assert_eq!(ids.used, [a.get()]);
    }
}
