//! The lists of SUBSCRIBE and UNSUBSCRIBE, kept as they go on the wire: a borrowed view
//! (received bytes, checked once when decoded, or entries given by a sender) and, with
//! `alloc`, an owned list in one buffer that a decoded packet shares with its frame.

use crate::types::MqttStr;
use crate::wire::writer::{put_str, Sink};
#[cfg(feature = "alloc")]
use bytes::Bytes;

/// An entry of a list, as its view reads and writes it.
pub(crate) trait WireEntry<'a>: Copy {
    /// The entry at the front of checked bytes, and what follows it.
    fn split(bytes: &'a [u8]) -> Option<(Self, &'a [u8])>;
    /// Writes the entry as it goes on the wire.
    fn put<B: Sink + ?Sized>(self, buf: &mut B);
}

/// A topic filter of UNSUBSCRIBE: a length-prefixed string.
impl<'a> WireEntry<'a> for MqttStr<'a> {
    fn split(bytes: &'a [u8]) -> Option<(Self, &'a [u8])> {
        let (&[high, low], rest) = bytes.split_first_chunk::<2>()?;
        let n = usize::from(u16::from_be_bytes([high, low]));
        let (s, rest) = (rest.get(..n)?, rest.get(n..)?);
        Some((MqttStr::from_checked(s), rest))
    }

    fn put<B: Sink + ?Sized>(self, buf: &mut B) {
        put_str(buf, self);
    }
}

/// An owned entry, made of its borrowed one.
#[cfg(feature = "alloc")]
pub(crate) trait OwnedEntry {
    /// The borrowed entry.
    type Entry<'a>: WireEntry<'a>
    where
        Self: 'a;
    /// The owned entry whose bytes are `entry`'s, sliced from `frame`, which holds them.
    fn from_entry(frame: &Bytes, entry: Self::Entry<'_>) -> Self;
    /// The entry borrowed.
    fn entry(&self) -> Self::Entry<'_>;
}

/// Where a borrowed list lives: bytes as on the wire (received, or an owned list's), or
/// entries given by the sender.
#[derive(Clone, Copy)]
pub(crate) enum List<'a, T> {
    Wire(&'a [u8]),
    Parts(&'a [T]),
}

impl<'a, T: WireEntry<'a>> List<'a, T> {
    /// Takes the first entry off the list.
    #[inline]
    pub(crate) fn next(&mut self) -> Option<T> {
        match self {
            List::Wire(rest) => {
                let (entry, after) = T::split(rest)?;
                *rest = after;
                Some(entry)
            }
            List::Parts(parts) => {
                let (first, rest) = parts.split_first()?;
                *parts = rest;
                Some(*first)
            }
        }
    }

    /// How many entries there are: a walk of wire bytes.
    pub(crate) fn len(&self) -> usize {
        match self {
            List::Wire(_) => {
                let mut list = *self;
                core::iter::from_fn(|| list.next()).count()
            }
            List::Parts(parts) => parts.len(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        match self {
            List::Wire(bytes) => bytes.is_empty(),
            List::Parts(parts) => parts.is_empty(),
        }
    }
}

/// A borrowed list (`$view`, iterated by `$view_iter`, of `$entry`), and the owned one
/// (`$owned`, iterated by `$owned_iter`, of `$item`) that keeps the wire bytes.
macro_rules! wire_list {
    (
        $(#[$vm:meta])* view $view:ident, $view_iter:ident => $entry:ty;
        $(#[$om:meta])* owned $owned:ident, $owned_iter:ident => $item:ty;
    ) => {
        $(#[$vm])*
        #[derive(Clone, Copy)]
        pub struct $view<'a> {
            list: $crate::packet::wire_list::List<'a, $entry>,
        }

        impl<'a> $view<'a> {
            /// Entries given by the sender, such as a client without an allocator builds on
            /// its stack; they are checked when encoded.
            #[must_use]
            pub fn from_parts(parts: &'a [$entry]) -> Self {
                Self {
                    list: $crate::packet::wire_list::List::Parts(parts),
                }
            }

            /// Entries as on the wire, checked by the decoder or written by an owned list.
            pub(crate) fn from_wire(bytes: &'a [u8]) -> Self {
                Self {
                    list: $crate::packet::wire_list::List::Wire(bytes),
                }
            }

            /// The entries, in order.
            pub fn iter(&self) -> $view_iter<'a> {
                $view_iter { list: self.list }
            }

            /// How many there are (for received ones, a walk of the entries).
            #[must_use]
            pub fn len(&self) -> usize {
                self.list.len()
            }

            /// Whether there are none (never, in a decoded packet).
            #[must_use]
            pub fn is_empty(&self) -> bool {
                self.list.is_empty()
            }
        }

        impl PartialEq for $view<'_> {
            fn eq(&self, other: &Self) -> bool {
                self.iter().eq(other.iter())
            }
        }

        impl Eq for $view<'_> {}

        impl<'a> IntoIterator for $view<'a> {
            type Item = $entry;
            type IntoIter = $view_iter<'a>;
            fn into_iter(self) -> Self::IntoIter {
                self.iter()
            }
        }

        impl core::fmt::Debug for $view<'_> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_list().entries(self.iter()).finish()
            }
        }

        #[doc = concat!("Iterator over [`", stringify!($view), "`].")]
        #[derive(Clone)]
        #[must_use = "iterators are lazy and do nothing unless consumed"]
        pub struct $view_iter<'a> {
            list: $crate::packet::wire_list::List<'a, $entry>,
        }

        impl core::fmt::Debug for $view_iter<'_> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_list().entries(self.clone()).finish()
            }
        }

        impl<'a> Iterator for $view_iter<'a> {
            type Item = $entry;

            fn next(&mut self) -> Option<$entry> {
                self.list.next()
            }
        }

        $(#[$om])*
        #[cfg(feature = "alloc")]
        #[derive(Clone, Default, PartialEq, Eq)]
        pub struct $owned {
            bytes: bytes::Bytes,
            count: usize,
        }

        #[cfg(feature = "alloc")]
        impl $owned {
            /// An empty list.
            #[must_use]
            pub const fn new() -> Self {
                Self {
                    bytes: bytes::Bytes::new(),
                    count: 0,
                }
            }

            /// How many entries there are.
            #[must_use]
            pub fn len(&self) -> usize {
                self.count
            }

            /// Whether there are none.
            #[must_use]
            pub fn is_empty(&self) -> bool {
                self.count == 0
            }

            /// The entries, in order.
            pub fn iter(&self) -> $owned_iter<'_> {
                $owned_iter {
                    bytes: &self.bytes,
                    rest: self.as_view().iter(),
                }
            }

            /// The list as a borrowed view.
            #[must_use]
            pub fn as_view(&self) -> $view<'_> {
                $view::from_wire(&self.bytes)
            }

            /// The list `view` holds, its bytes sliced from `frame` when they are received
            /// ones, written anew when they are parts.
            pub(crate) fn from_view(view: $view<'_>, frame: &bytes::Bytes) -> Self {
                use $crate::packet::wire_list::{List, WireEntry};
                let bytes = match view.list {
                    List::Wire(bytes) => $crate::types::string::slice_of(frame, bytes),
                    List::Parts(_) => {
                        let mut out = bytes::BytesMut::new();
                        view.iter().for_each(|e| e.put(&mut out));
                        out.freeze()
                    }
                };
                Self {
                    bytes,
                    count: view.len(),
                }
            }

            /// A copy that shares no received frame.
            pub(crate) fn detach(&self) -> Self {
                Self {
                    bytes: bytes::Bytes::copy_from_slice(&self.bytes),
                    count: self.count,
                }
            }
        }

        #[cfg(feature = "alloc")]
        impl FromIterator<$item> for $owned {
            fn from_iter<I: IntoIterator<Item = $item>>(iter: I) -> Self {
                use $crate::packet::wire_list::{OwnedEntry, WireEntry};
                let mut out = bytes::BytesMut::new();
                let mut count = 0;
                for item in iter {
                    item.entry().put(&mut out);
                    count += 1;
                }
                Self {
                    bytes: out.freeze(),
                    count,
                }
            }
        }

        #[cfg(feature = "alloc")]
        impl From<alloc::vec::Vec<$item>> for $owned {
            fn from(list: alloc::vec::Vec<$item>) -> Self {
                list.into_iter().collect()
            }
        }

        #[cfg(feature = "alloc")]
        impl<'a> IntoIterator for &'a $owned {
            type Item = $item;
            type IntoIter = $owned_iter<'a>;
            fn into_iter(self) -> Self::IntoIter {
                self.iter()
            }
        }

        #[cfg(feature = "alloc")]
        impl core::fmt::Debug for $owned {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_list().entries(self.iter()).finish()
            }
        }

        #[cfg(feature = "alloc")]
        #[doc = concat!("Iterator over [`", stringify!($owned), "`]: each entry a slice of its buffer.")]
        #[derive(Clone, Debug)]
        #[must_use = "iterators are lazy and do nothing unless consumed"]
        pub struct $owned_iter<'a> {
            bytes: &'a bytes::Bytes,
            rest: $view_iter<'a>,
        }

        #[cfg(feature = "alloc")]
        impl Iterator for $owned_iter<'_> {
            type Item = $item;

            fn next(&mut self) -> Option<$item> {
                let entry = self.rest.next()?;
                Some(<$item as $crate::packet::wire_list::OwnedEntry>::from_entry(self.bytes, entry))
            }
        }
    };
}
