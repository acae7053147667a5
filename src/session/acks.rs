//! The acknowledgements we owe the peer on this connection: one PUBACK or PUBREC per
//! received QoS 1 or 2 message, sent in the order the messages arrived ([MQTT-4.6.0-2],
//! [MQTT-4.6.0-3]) once the application released them (manual acknowledgement).

use super::id_table::IdTable;
use alloc::vec::Vec;

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Node {
    id: u16,
    qos2: bool,
    ready: bool,
    prev: u32,
    next: u32,
}

/// Arrival order is a linked list through a slab of nodes, and each packet identifier
/// maps to its node, so every operation is O(1). An identifier has at most one pending
/// acknowledgement: a copy of a message whose acknowledgement has not gone out yet is
/// answered by that one acknowledgement, so the queue holds at most one node per
/// identifier whatever the peer sends.
#[derive(Debug, Clone, Default)]
pub(crate) struct AckQueue {
    nodes: Vec<Node>,
    /// Free nodes, linked through `next`.
    free: u32,
    head: u32,
    tail: u32,
    /// Node index + 1 of each identifier's pending acknowledgement.
    by_id: IdTable<u32>,
    qos1: usize,
}

impl AckQueue {
    pub(crate) fn new() -> Self {
        Self {
            free: NONE,
            head: NONE,
            tail: NONE,
            ..Self::default()
        }
    }

    /// The pending acknowledgement of `id`: whether it is a PUBREC.
    pub(crate) fn pending(&self, id: u16) -> Option<bool> {
        self.node(id).map(|n| self.nodes[n].qos2)
    }

    /// How many PUBACKs have not gone out yet.
    pub(crate) fn qos1(&self) -> usize {
        self.qos1
    }

    /// Queues the acknowledgement of `id`, which has none pending.
    pub(crate) fn push(&mut self, id: u16, qos2: bool, ready: bool) {
        let node = Node {
            id,
            qos2,
            ready,
            prev: self.tail,
            next: NONE,
        };
        let n = if self.free == NONE {
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        } else {
            let n = self.free;
            self.free = self.nodes[n as usize].next;
            self.nodes[n as usize] = node;
            n
        };
        match self.tail {
            NONE => self.head = n,
            tail => self.nodes[tail as usize].next = n,
        }
        self.tail = n;
        self.by_id.set(id, n + 1);
        if !qos2 {
            self.qos1 += 1;
        }
    }

    /// Releases the pending acknowledgement of `id` if the application still held it;
    /// returns whether it is a PUBREC.
    pub(crate) fn release(&mut self, id: u16) -> Option<bool> {
        let n = self.node(id)?;
        let node = &mut self.nodes[n];
        if node.ready {
            return None;
        }
        node.ready = true;
        Some(node.qos2)
    }

    /// Forgets the pending acknowledgement of `id`, if any.
    pub(crate) fn cancel(&mut self, id: u16) -> bool {
        let Some(n) = self.node(id) else {
            return false;
        };
        self.unlink(n);
        true
    }

    /// The first acknowledgement, if it may go out: `(id, is PUBREC)`.
    pub(crate) fn pop_ready(&mut self) -> Option<(u16, bool)> {
        let n = self.head;
        let node = *self.nodes.get(n as usize)?;
        if !node.ready {
            return None;
        }
        self.unlink(n as usize);
        Some((node.id, node.qos2))
    }

    /// Forgets everything (the connection ended), keeping the memory.
    pub(crate) fn clear(&mut self) {
        self.nodes.clear();
        self.by_id.clear();
        self.free = NONE;
        self.head = NONE;
        self.tail = NONE;
        self.qos1 = 0;
    }

    fn node(&self, id: u16) -> Option<usize> {
        match self.by_id.get(id) {
            0 => None,
            n => Some(n as usize - 1),
        }
    }

    fn unlink(&mut self, n: usize) {
        let Node {
            id,
            qos2,
            prev,
            next,
            ..
        } = self.nodes[n];
        match prev {
            NONE => self.head = next,
            prev => self.nodes[prev as usize].next = next,
        }
        match next {
            NONE => self.tail = prev,
            next => self.nodes[next as usize].prev = prev,
        }
        self.nodes[n].next = self.free;
        self.free = n as u32;
        self.by_id.set(id, 0);
        if !qos2 {
            self.qos1 -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(queue: &mut AckQueue) -> Vec<(u16, bool)> {
        core::iter::from_fn(|| queue.pop_ready()).collect()
    }

    #[test]
    fn acknowledgements_leave_in_arrival_order_mqtt_4_6_0_2() {
        let mut queue = AckQueue::new();
        queue.push(5, false, false);
        queue.push(6, true, true);
        queue.push(7, false, true);
        assert_eq!(drain(&mut queue), []);
        assert_eq!(queue.release(5), Some(false));
        assert_eq!(drain(&mut queue), [(5, false), (6, true), (7, false)]);
        assert_eq!(queue.qos1(), 0);
    }

    #[test]
    fn a_cancelled_acknowledgement_unblocks_the_ones_behind_it() {
        let mut queue = AckQueue::new();
        queue.push(1, true, false);
        queue.push(2, false, true);
        assert!(queue.cancel(1));
        assert!(!queue.cancel(1));
        assert_eq!(queue.pending(1), None);
        assert_eq!(drain(&mut queue), [(2, false)]);
    }

    #[test]
    fn releasing_twice_or_an_unknown_identifier_is_none() {
        let mut queue = AckQueue::new();
        queue.push(9, true, false);
        assert_eq!(queue.release(9), Some(true));
        assert_eq!(queue.release(9), None);
        assert_eq!(queue.release(10), None);
    }

    #[test]
    fn nodes_are_reused() {
        let mut queue = AckQueue::new();
        for id in 1..=1_000 {
            queue.push(id, false, true);
            assert_eq!(queue.pop_ready(), Some((id, false)));
        }
        assert_eq!(queue.nodes.len(), 1);
    }
}
