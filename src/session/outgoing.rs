//! Our side of the packet identifier space: every PUBLISH (QoS 1 and 2), SUBSCRIBE and
//! UNSUBSCRIBE we sent or will send, in one table indexed by packet identifier, with the
//! orders the protocol needs kept as linked lists through it.

use crate::packet::Publish;
use crate::types::PacketId;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// A freed identifier waits until this many others are free before it is handed out again,
/// so that a stray late acknowledgement of its last use is unlikely to meet its next one.
const REUSE_AFTER: usize = 16;

/// What an identifier is in use for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stage {
    /// QoS 1, waiting for PUBACK.
    Qos1(Publish),
    /// QoS 2, waiting for PUBREC.
    Qos2(Publish),
    /// QoS 2 after PUBREL: waiting for PUBCOMP. Only the PUBREL is ever sent again
    /// ([MQTT-4.3.3-6] in 5.0), so the message itself is no longer kept.
    Released {
        /// The application was already told how the message ended (a QoS 2 message that
        /// could not be resent, released so that the peer frees the identifier): its
        /// PUBCOMP reports nothing more.
        reported: bool,
    },
    /// A SUBSCRIBE (`subscribe`) or UNSUBSCRIBE with `filters` topic filters awaiting its
    /// answer on this connection.
    Request { subscribe: bool, filters: usize },
}

/// The orders kept: each identifier in use is in exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum List {
    /// PUBLISH sent on this connection awaiting PUBACK or PUBREC, in send order.
    Sent = 0,
    /// PUBREL awaiting PUBCOMP, in the order the PUBRECs arrived ([MQTT-4.6.0-4]).
    Released = 1,
    /// PUBLISH not sent on this connection yet, in publish order.
    Queued = 2,
    /// SUBSCRIBE and UNSUBSCRIBE awaiting their answer.
    Requests = 3,
}

#[derive(Debug, Clone)]
struct Slot {
    /// `None` when the identifier is free.
    stage: Option<Stage>,
    /// Sent at least once, on any connection: a resend carries DUP ([MQTT-3.3.1-1]).
    ever_sent: bool,
    list: List,
    /// Neighbours in `list`, as identifiers; 0 ends the list.
    prev: u16,
    next: u16,
}

impl Slot {
    const FREE: Self = Self {
        stage: None,
        ever_sent: false,
        list: List::Queued,
        prev: 0,
        next: 0,
    };
}

#[derive(Debug, Clone, Copy, Default)]
struct Ends {
    head: u16,
    tail: u16,
    len: usize,
}

/// Slot `i` holds identifier `i + 1`. Identifiers are handed out from the free ones first
/// (oldest freed first), so the table grows only to the most identifiers ever in use at
/// once (plus [`REUSE_AFTER`]), never to 65,535 because of traffic. Every operation is
/// O(1) but moving a whole list, which happens once per connection.
#[derive(Debug, Clone, Default)]
pub(crate) struct OutTable {
    slots: Vec<Slot>,
    free: VecDeque<u16>,
    lists: [Ends; 4],
}

impl OutTable {
    /// A fresh identifier ([MQTT-2.2.1-3] in 5.0, [MQTT-2.3.1-2] in 3.1.1) for `stage`, at
    /// the end of `list`; `None` when all 65,535 are in use.
    pub(crate) fn allocate(&mut self, stage: Stage, list: List) -> Option<PacketId> {
        let grow = self.slots.len() < usize::from(u16::MAX) && self.free.len() < REUSE_AFTER;
        let id = if grow {
            self.slots.push(Slot::FREE);
            self.slots.len() as u16
        } else {
            self.free.pop_front()?
        };
        self.occupy(id, stage, list, false);
        PacketId::new(id)
    }

    /// Puts `stage` under `id` at the end of `list`, for rebuilding a saved session with
    /// its own identifiers; `false` (and nothing changed) when `id` is 0 or in use. Call
    /// [`rebuild_free`](Self::rebuild_free) once all are in.
    pub(crate) fn restore(&mut self, id: u16, stage: Stage, list: List, ever_sent: bool) -> bool {
        let Some(i) = usize::from(id).checked_sub(1) else {
            return false;
        };
        if self.slots.len() <= i {
            self.slots.resize_with(i + 1, || Slot::FREE);
        } else if self.slots[i].stage.is_some() {
            return false;
        }
        self.occupy(id, stage, list, ever_sent);
        true
    }

    /// Makes every identifier not in use free again, in increasing order.
    pub(crate) fn rebuild_free(&mut self) {
        self.free.clear();
        for (i, slot) in self.slots.iter().enumerate() {
            if slot.stage.is_none() {
                self.free.push_back(i as u16 + 1);
            }
        }
    }

    /// What `id` is in use for, if it is.
    pub(crate) fn stage(&self, id: PacketId) -> Option<&Stage> {
        self.slot(id.get())?.stage.as_ref()
    }

    pub(crate) fn stage_mut(&mut self, id: PacketId) -> Option<&mut Stage> {
        let slot = self.slots.get_mut(usize::from(id.get()) - 1)?;
        slot.stage.as_mut()
    }

    /// The list `id` is in, if it is in use.
    pub(crate) fn list_of(&self, id: PacketId) -> Option<List> {
        self.slot(id.get())
            .filter(|s| s.stage.is_some())
            .map(|s| s.list)
    }

    pub(crate) fn ever_sent(&self, id: PacketId) -> bool {
        self.slot(id.get()).is_some_and(|s| s.ever_sent)
    }

    pub(crate) fn mark_sent(&mut self, id: PacketId) {
        if let Some(slot) = self.slots.get_mut(usize::from(id.get()) - 1) {
            slot.ever_sent = true;
        }
    }

    /// Frees `id` and returns what it held.
    pub(crate) fn remove(&mut self, id: PacketId) -> Option<Stage> {
        let raw = id.get();
        let slot = self.slots.get_mut(usize::from(raw) - 1)?;
        let stage = slot.stage.take()?;
        let list = slot.list;
        self.unlink(raw, list);
        self.free.push_back(raw);
        Some(stage)
    }

    /// Moves `id` to the end of `list`.
    pub(crate) fn move_to(&mut self, id: PacketId, list: List) {
        let Some(from) = self.list_of(id) else {
            return;
        };
        self.unlink(id.get(), from);
        self.slots[usize::from(id.get()) - 1].list = list;
        self.link_back(id.get(), list);
    }

    /// The first identifier of `list`.
    pub(crate) fn front(&self, list: List) -> Option<PacketId> {
        PacketId::new(self.lists[list as usize].head)
    }

    pub(crate) fn len(&self, list: List) -> usize {
        self.lists[list as usize].len
    }

    /// The identifiers of `list`, in its order.
    pub(crate) fn iter(&self, list: List) -> impl Iterator<Item = PacketId> + '_ {
        let mut next = self.lists[list as usize].head;
        core::iter::from_fn(move || {
            let id = PacketId::new(next)?;
            next = self.slots[usize::from(next) - 1].next;
            Some(id)
        })
    }

    /// Moves all of `from` to the front of `to`, keeping its order.
    pub(crate) fn prepend(&mut self, from: List, to: List) {
        while let Some(id) = PacketId::new(self.lists[from as usize].tail) {
            self.unlink(id.get(), from);
            self.slots[usize::from(id.get()) - 1].list = to;
            self.link_front(id.get(), to);
        }
    }

    /// Puts `stage` under the free identifier `id`, at the end of `list`.
    fn occupy(&mut self, id: u16, stage: Stage, list: List, ever_sent: bool) {
        let slot = &mut self.slots[usize::from(id) - 1];
        slot.stage = Some(stage);
        slot.ever_sent = ever_sent;
        slot.list = list;
        self.link_back(id, list);
    }

    fn slot(&self, id: u16) -> Option<&Slot> {
        self.slots.get(usize::from(id).checked_sub(1)?)
    }

    fn link_back(&mut self, id: u16, list: List) {
        let ends = &mut self.lists[list as usize];
        let tail = ends.tail;
        ends.tail = id;
        ends.len += 1;
        if tail == 0 {
            ends.head = id;
        } else {
            self.slots[usize::from(tail) - 1].next = id;
        }
        let slot = &mut self.slots[usize::from(id) - 1];
        slot.prev = tail;
        slot.next = 0;
    }

    fn link_front(&mut self, id: u16, list: List) {
        let ends = &mut self.lists[list as usize];
        let head = ends.head;
        ends.head = id;
        ends.len += 1;
        if head == 0 {
            ends.tail = id;
        } else {
            self.slots[usize::from(head) - 1].prev = id;
        }
        let slot = &mut self.slots[usize::from(id) - 1];
        slot.prev = 0;
        slot.next = head;
    }

    fn unlink(&mut self, id: u16, list: List) {
        let Slot { prev, next, .. } = self.slots[usize::from(id) - 1];
        let ends = &mut self.lists[list as usize];
        ends.len -= 1;
        if prev == 0 {
            ends.head = next;
        } else {
            self.slots[usize::from(prev) - 1].next = next;
        }
        if next == 0 {
            self.lists[list as usize].tail = prev;
        } else {
            self.slots[usize::from(next) - 1].prev = prev;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(v: u16) -> PacketId {
        PacketId::new(v).unwrap()
    }

    fn request() -> Stage {
        Stage::Request {
            subscribe: true,
            filters: 1,
        }
    }

    fn ids(table: &OutTable, list: List) -> Vec<u16> {
        table.iter(list).map(PacketId::get).collect()
    }

    #[test]
    fn starts_at_one_and_never_hands_out_zero_mqtt_2_2_1_3() {
        let mut table = OutTable::default();
        assert_eq!(table.allocate(request(), List::Requests), Some(pid(1)));
        assert_eq!(table.allocate(request(), List::Requests), Some(pid(2)));
    }

    #[test]
    fn does_not_reuse_a_freed_identifier_at_once() {
        let mut table = OutTable::default();
        let a = table.allocate(request(), List::Requests).unwrap();
        table.remove(a);
        for _ in 0..REUSE_AFTER {
            let b = table.allocate(request(), List::Requests).unwrap();
            assert_ne!(b, a);
        }
    }

    #[test]
    fn the_table_grows_with_identifiers_in_use_not_with_traffic() {
        let mut table = OutTable::default();
        for _ in 0..100_000 {
            let id = table.allocate(request(), List::Requests).unwrap();
            table.remove(id);
        }
        assert!(
            table.slots.len() <= REUSE_AFTER + 1,
            "{}",
            table.slots.len()
        );
    }

    #[test]
    fn exhaustion_is_none_and_a_release_makes_room_mqtt_2_2_1_3() {
        let mut table = OutTable::default();
        for _ in 0..u16::MAX {
            assert!(table.allocate(request(), List::Requests).is_some());
        }
        assert_eq!(table.allocate(request(), List::Requests), None);
        table.remove(pid(40_000));
        assert_eq!(table.allocate(request(), List::Requests), Some(pid(40_000)));
        assert_eq!(table.allocate(request(), List::Requests), None);
    }

    #[test]
    fn lists_keep_their_order_through_removals_and_moves() {
        let mut table = OutTable::default();
        for _ in 0..5 {
            table.allocate(request(), List::Queued);
        }
        table.remove(pid(3));
        table.move_to(pid(1), List::Sent);
        table.move_to(pid(4), List::Sent);
        assert_eq!(ids(&table, List::Queued), [2, 5]);
        assert_eq!(ids(&table, List::Sent), [1, 4]);
        table.prepend(List::Sent, List::Queued);
        assert_eq!(ids(&table, List::Queued), [1, 4, 2, 5]);
        assert_eq!(table.len(List::Queued), 4);
        assert_eq!(table.len(List::Sent), 0);
        assert_eq!(table.front(List::Sent), None);
        table.remove(pid(5));
        table.remove(pid(1));
        assert_eq!(ids(&table, List::Queued), [4, 2]);
        assert_eq!(table.list_of(pid(1)), None);
        assert_eq!(table.list_of(pid(4)), Some(List::Queued));
    }

    #[test]
    fn a_restored_table_hands_out_only_identifiers_not_in_use() {
        let mut table = OutTable::default();
        assert!(table.restore(5, request(), List::Requests, true));
        assert!(table.restore(2, request(), List::Requests, false));
        assert!(
            !table.restore(5, request(), List::Requests, false),
            "5 twice"
        );
        assert!(!table.restore(0, request(), List::Requests, false), "0");
        table.rebuild_free();
        assert_eq!(ids(&table, List::Requests), [5, 2]);
        assert!(table.ever_sent(pid(5)) && !table.ever_sent(pid(2)));
        let mut handed = Vec::new();
        for _ in 0..REUSE_AFTER + 4 {
            handed.push(table.allocate(request(), List::Requests).unwrap().get());
        }
        assert!(!handed.contains(&5) && !handed.contains(&2), "{handed:?}");
        let mut unique = handed.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), handed.len());
    }
}
