//! The variable-length properties of a set (strings, binary data, User Properties and the
//! Subscription Identifiers of PUBLISH), kept as their wire encoding in one `Bytes`.
//!
//! Why: a set of typed `Option<MqttString>` fields costs 32 bytes a field, which made every
//! [`Packet`](crate::Packet) 288 bytes and every decode a chain of large copies. One block
//! costs 36 bytes whatever the set holds, decodes as a single slice of the frame, and
//! re-encodes as one copy.
//!
//! A decoded block is the span of the received property block from the first
//! variable-length entry to the last, so it may hold entries the set keeps as typed fields
//! (a Topic Alias between two User Properties, say); `len` counts only the bytes of the
//! block's own entries, and equals the block's length when nothing else is inside.

use super::value_len;
use crate::wire::writer::Sink;
use crate::wire::Trim;
#[cfg(feature = "alloc")]
use bytes::{Bytes, BytesMut};

/// Whether an encoder that must shrink the packet leaves out property `id`.
pub(crate) fn dropped(id: u8, trim: Trim) -> bool {
    match id {
        super::id::REASON_STRING => trim >= Trim::ReasonString,
        super::id::USER_PROPERTY => trim >= Trim::ReasonStringAndUserProperties,
        _ => false,
    }
}

/// The entries of a validated block: identifier, value (without the identifier) and the
/// entry's bytes on the wire.
#[derive(Clone)]
pub(crate) struct Entries<'a> {
    rest: &'a [u8],
}

impl<'a> Entries<'a> {
    pub(crate) fn new(block: &'a [u8]) -> Self {
        Self { rest: block }
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = (u8, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<(u8, &'a [u8])> {
        // Identifiers are below 0x80, so one byte each in a validated block.
        let (&id, data) = self.rest.split_first()?;
        let n = value_len(id, data)?;
        // `value_len` keeps `n` within `data`: the check is never failed, and cannot panic.
        let (value, rest) = data.split_at_checked(n)?;
        self.rest = rest;
        Some((id, value))
    }
}

#[derive(Clone, Copy)]
/// The block of one property set: `bytes`, of which `len` belong to the set's own
/// variable-length entries, the identifiers in `order`.
pub(crate) struct Block<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) len: u32,
    /// The set's variable-length properties, in the order a built set encodes them.
    pub(crate) order: &'static [u8],
}

impl<'a> Block<'a> {
    /// Whether the block holds nothing but its own entries, so it encodes as one copy.
    fn is_compact(&self) -> bool {
        self.len as usize == self.bytes.len()
    }

    /// The set's own entries that an encoder trimming by `trim` keeps.
    fn kept(&self, trim: Trim) -> impl Iterator<Item = (u8, &'a [u8])> {
        let order = self.order;
        Entries::new(self.bytes).filter(move |&(id, _)| order.contains(&id) && !dropped(id, trim))
    }

    /// The values with identifier `id`, in order.
    pub(crate) fn values(&self, id: u8) -> impl Iterator<Item = &'a [u8]> {
        Entries::new(self.bytes).filter_map(move |(i, v)| (i == id).then_some(v))
    }

    /// The first value with identifier `id`.
    pub(crate) fn first(&self, id: u8) -> Option<&'a [u8]> {
        self.values(id).next()
    }

    /// Bytes on the wire once trimmed by `trim`.
    #[inline]
    pub(crate) fn wire_len(&self, trim: Trim) -> usize {
        if trim == Trim::Nothing {
            return self.len as usize;
        }
        self.kept(trim).map(|(_, v)| 1 + v.len()).sum()
    }

    #[inline]
    pub(crate) fn put<B: Sink + ?Sized>(&self, buf: &mut B, trim: Trim) {
        if trim == Trim::Nothing && self.is_compact() {
            buf.put_slice(self.bytes);
            return;
        }
        for (id, value) in self.kept(trim) {
            buf.put_u8(id);
            buf.put_slice(value);
        }
    }

    #[cfg(feature = "alloc")]
    /// The own entries alone, in a new buffer: a copy that shares no received frame.
    pub(crate) fn detached(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.len as usize);
        self.put(&mut out, Trim::Nothing);
        out.freeze()
    }

    #[cfg(feature = "alloc")]
    /// A new block with every entry of `id` replaced by what `write` appends (`extra`
    /// bytes), in the set's order, so that a built set encodes the same whatever order its
    /// properties were set in; returns it and its length.
    pub(crate) fn replaced(
        &self,
        id: u8,
        extra: usize,
        write: impl FnOnce(&mut BytesMut),
    ) -> (Bytes, u32) {
        let rank = |id: u8| self.order.iter().position(|&i| i == id);
        let at = rank(id);
        let mut out = BytesMut::with_capacity(self.len as usize + extra);
        let copy = |out: &mut BytesMut, before: bool| {
            for (i, value) in Entries::new(self.bytes) {
                match rank(i) {
                    Some(r) if i != id && (Some(r) < at) == before => {
                        out.put_u8(i);
                        out.put_slice(value);
                    }
                    _ => {}
                }
            }
        };
        copy(&mut out, true);
        write(&mut out);
        copy(&mut out, false);
        let len = u32::try_from(out.len()).unwrap_or(u32::MAX);
        (out.freeze(), len)
    }

    /// Whether both blocks hold the same values of `id`, in the same order.
    pub(crate) fn same_values(&self, other: &Block<'_>, id: u8) -> bool {
        self.values(id).eq(other.values(id))
    }
}
