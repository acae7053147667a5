//! The repeatable properties, User Property and (in PUBLISH) Subscription Identifier.
//!
//! A decoded list is a slice of the received property block, walked on demand, so decoding
//! a packet with User Properties allocates nothing. A list built by hand holds only its
//! own entries, encoded.

use super::block::Entries;
use super::id;
use crate::error::DecodeError;
use crate::types::SubscriptionId;
#[cfg(feature = "alloc")]
use crate::types::{InvalidString, MqttString};
use crate::wire::reader::Reader;
use crate::wire::varint;
#[cfg(feature = "alloc")]
use crate::wire::writer::Sink;
#[cfg(feature = "alloc")]
use bytes::{Bytes, BytesMut};

#[cfg(feature = "alloc")]
/// Entries with one property identifier inside a block of properties (which may hold other
/// properties too, when decoded).
#[derive(Clone, Default)]
struct RawList {
    block: Bytes,
    count: usize,
    /// Bytes of this list's entries, identifiers included.
    wire_len: usize,
}

#[cfg(feature = "alloc")]
impl RawList {
    /// Whether `block` holds nothing but this list's entries.
    fn is_compact(&self) -> bool {
        self.wire_len == self.block.len()
    }

    fn values(&self, id: u8) -> RawValues<'_> {
        RawValues {
            entries: Entries::new(&self.block),
            id,
        }
    }

    fn put<B: Sink + ?Sized>(&self, buf: &mut B, id: u8) {
        if self.is_compact() {
            buf.put_slice(&self.block);
        } else {
            for value in self.values(id) {
                buf.put_u8(id);
                buf.put_slice(value);
            }
        }
    }

    fn push_encoded(&mut self, id: u8, value: impl FnOnce(&mut BytesMut), value_len: usize) {
        let mut out = BytesMut::with_capacity(self.wire_len + 1 + value_len);
        self.put(&mut out, id);
        out.put_u8(id);
        value(&mut out);
        self.block = out.freeze();
        self.count += 1;
        self.wire_len += 1 + value_len;
    }
}

/// The values of one identifier in a validated property block.
#[derive(Clone)]
struct RawValues<'a> {
    entries: Entries<'a>,
    id: u8,
}

impl<'a> Iterator for RawValues<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let id = self.id;
        self.entries
            .find_map(|(i, value)| (i == id).then_some(value))
    }
}

fn str_at(value: &[u8]) -> (&str, &[u8]) {
    let n = value
        .get(..2)
        .map_or(0, |b| usize::from(u16::from_be_bytes([b[0], b[1]])));
    let s = value.get(2..2 + n).unwrap_or_default();
    let rest = value.get(2 + n..).unwrap_or_default();
    (core::str::from_utf8(s).unwrap_or_default(), rest)
}

#[cfg(feature = "alloc")]
/// User Properties (0x26): name/value string pairs, in order, names free to repeat
/// (MQTT 5.0 section 3.1.2.11.8).
///
/// ```
/// use mqttwire::properties::UserProperties;
///
/// let props = UserProperties::from_pairs([("region", "eu"), ("region", "us")]).unwrap();
/// assert_eq!(props.len(), 2);
/// assert_eq!(props.get("region"), Some("eu"));
/// assert_eq!(props.iter().collect::<Vec<_>>(), [("region", "eu"), ("region", "us")]);
/// ```
#[derive(Clone, Default)]
pub struct UserProperties(RawList);

#[cfg(feature = "alloc")]
impl UserProperties {
    /// Checks and copies name/value pairs.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, InvalidString> {
        let mut out = Self::new();
        let mut buf = BytesMut::new();
        for (name, value) in pairs {
            let (name, value) = (MqttString::new(name)?, MqttString::new(value)?);
            put_pair(&mut buf, &name, &value);
            out.0.count += 1;
        }
        out.0.wire_len = buf.len();
        out.0.block = buf.freeze();
        Ok(out)
    }

    /// Appends a pair. This copies the list: build large lists with
    /// [`from_pairs`](Self::from_pairs) or `collect`.
    pub fn push(&mut self, name: MqttString, value: MqttString) {
        let len = name.wire_len() + value.wire_len();
        self.0.push_encoded(
            id::USER_PROPERTY,
            |buf| {
                crate::wire::writer::put_str(buf, name.as_borrowed());
                crate::wire::writer::put_str(buf, value.as_borrowed());
            },
            len,
        );
    }

    /// The pairs, in order.
    pub fn iter(&self) -> UserPropertiesIter<'_> {
        UserPropertiesIter(self.0.values(id::USER_PROPERTY))
    }

    /// The value of the first pair named `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

#[cfg(feature = "alloc")]
fn put_pair(buf: &mut BytesMut, name: &MqttString, value: &MqttString) {
    buf.put_u8(id::USER_PROPERTY);
    crate::wire::writer::put_str(buf, name.as_borrowed());
    crate::wire::writer::put_str(buf, value.as_borrowed());
}

#[cfg(feature = "alloc")]
impl FromIterator<(MqttString, MqttString)> for UserProperties {
    fn from_iter<I: IntoIterator<Item = (MqttString, MqttString)>>(iter: I) -> Self {
        let mut out = Self::new();
        let mut buf = BytesMut::new();
        for (name, value) in iter {
            put_pair(&mut buf, &name, &value);
            out.0.count += 1;
        }
        out.0.wire_len = buf.len();
        out.0.block = buf.freeze();
        out
    }
}

#[cfg(feature = "alloc")]
impl<'a> IntoIterator for &'a UserProperties {
    type Item = (&'a str, &'a str);
    type IntoIter = UserPropertiesIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(feature = "alloc")]
impl core::fmt::Debug for UserProperties {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over [`UserProperties`]: `(name, value)` pairs.
#[derive(Clone)]
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct UserPropertiesIter<'a>(RawValues<'a>);

impl<'a> Iterator for UserPropertiesIter<'a> {
    type Item = (&'a str, &'a str);
    fn next(&mut self) -> Option<Self::Item> {
        let value = self.0.next()?;
        let (name, rest) = str_at(value);
        let (value, _) = str_at(rest);
        Some((name, value))
    }
}

impl core::fmt::Debug for UserPropertiesIter<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

#[cfg(feature = "alloc")]
/// The Subscription Identifiers (0x0B) of a PUBLISH a server forwards: one for each
/// matching subscription that has one, in any order (MQTT 5.0 section 3.3.4).
///
/// ```
/// use mqttwire::properties::SubscriptionIds;
/// use mqttwire::SubscriptionId;
///
/// let ids: SubscriptionIds = [1, 268_435_455].into_iter().filter_map(SubscriptionId::new).collect();
/// assert_eq!(ids.iter().map(|id| id.get()).collect::<Vec<_>>(), [1, 268_435_455]);
/// ```
#[derive(Clone, Default)]
pub struct SubscriptionIds(RawList);

#[cfg(feature = "alloc")]
impl SubscriptionIds {
    /// Appends an identifier. This copies the list; build long lists with `collect`.
    pub fn push(&mut self, id: SubscriptionId) {
        let n = varint::len(id.get() as usize);
        self.0.push_encoded(
            id::SUBSCRIPTION_IDENTIFIER,
            |buf| varint::put(buf, id.get() as usize),
            n,
        );
    }

    /// The identifiers, in order.
    pub fn iter(&self) -> SubscriptionIdsIter<'_> {
        SubscriptionIdsIter(self.0.values(id::SUBSCRIPTION_IDENTIFIER))
    }
}

#[cfg(feature = "alloc")]
impl FromIterator<SubscriptionId> for SubscriptionIds {
    fn from_iter<I: IntoIterator<Item = SubscriptionId>>(iter: I) -> Self {
        let mut buf = BytesMut::new();
        let mut count = 0;
        for id in iter {
            buf.put_u8(id::SUBSCRIPTION_IDENTIFIER);
            varint::put(&mut buf, id.get() as usize);
            count += 1;
        }
        Self(RawList {
            wire_len: buf.len(),
            block: buf.freeze(),
            count,
        })
    }
}

#[cfg(feature = "alloc")]
impl core::fmt::Debug for SubscriptionIds {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over [`SubscriptionIds`].
#[derive(Clone)]
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct SubscriptionIdsIter<'a>(RawValues<'a>);

impl Iterator for SubscriptionIdsIter<'_> {
    type Item = SubscriptionId;
    fn next(&mut self) -> Option<SubscriptionId> {
        let value = self.0.next()?;
        let (v, _) = varint::decode(value, "", None).ok().flatten()?;
        SubscriptionId::new(v)
    }
}

impl core::fmt::Debug for SubscriptionIdsIter<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

#[cfg(feature = "alloc")]
/// What both lists share: an empty constructor, counts, equality by content, and the
/// crate's encoding hooks.
macro_rules! raw_list {
    ($ty:ident, $id:expr, $empty:literal, $count:literal) => {
        impl $ty {
            #[doc = $empty]
            #[must_use]
            pub const fn new() -> Self {
                Self(RawList {
                    block: Bytes::new(),
                    count: 0,
                    wire_len: 0,
                })
            }

            #[doc = $count]
            #[must_use]
            pub fn len(&self) -> usize {
                self.0.count
            }

            /// Whether there are none.
            #[must_use]
            pub fn is_empty(&self) -> bool {
                self.0.count == 0
            }

            /// Bytes on the wire, identifiers included.
            pub(crate) fn wire_len(&self) -> usize {
                self.0.wire_len
            }

            pub(crate) fn put<B: Sink + ?Sized>(&self, buf: &mut B) {
                self.0.put(buf, $id);
            }

            /// The list inside a decoded property block, whose `count` entries of this
            /// identifier take `wire_len` bytes.
            pub(crate) fn from_block(block: Bytes, count: usize, wire_len: usize) -> Self {
                if count == 0 {
                    return Self::new();
                }
                Self(RawList {
                    block,
                    count,
                    wire_len,
                })
            }
        }

        impl PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                self.len() == other.len() && self.iter().eq(other.iter())
            }
        }

        impl Eq for $ty {}
    };
}

#[cfg(feature = "alloc")]
raw_list!(
    UserProperties,
    id::USER_PROPERTY,
    "No properties.",
    "How many pairs."
);
#[cfg(feature = "alloc")]
raw_list!(
    SubscriptionIds,
    id::SUBSCRIPTION_IDENTIFIER,
    "No identifiers.",
    "How many identifiers."
);

/// What both borrowed lists share: a view of the entries of one identifier in a validated
/// property block, walked on demand.
macro_rules! list_view {
    ($(#[$m:meta])* $view:ident, $iter:ident, $item:ty, $id:expr) => {
        $(#[$m])*
        #[derive(Clone, Copy, Default)]
        pub struct $view<'a> {
            block: &'a [u8],
        }

        impl<'a> $view<'a> {
            /// The entries of this list in `block`, a validated property block.
            pub(crate) fn in_block(block: &'a [u8]) -> Self {
                Self { block }
            }

            /// The entries, in order.
            pub fn iter(&self) -> $iter<'a> {
                $iter(RawValues {
                    entries: Entries::new(self.block),
                    id: $id,
                })
            }

            /// How many entries there are (a walk of the block).
            #[must_use]
            pub fn len(&self) -> usize {
                self.iter().count()
            }

            /// Whether there are none.
            #[must_use]
            pub fn is_empty(&self) -> bool {
                self.iter().next().is_none()
            }
        }

        impl<'a> IntoIterator for $view<'a> {
            type Item = $item;
            type IntoIter = $iter<'a>;
            fn into_iter(self) -> Self::IntoIter {
                self.iter()
            }
        }

        impl PartialEq for $view<'_> {
            fn eq(&self, other: &Self) -> bool {
                self.iter().eq(other.iter())
            }
        }

        impl Eq for $view<'_> {}

        impl core::fmt::Debug for $view<'_> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_list().entries(self.iter()).finish()
            }
        }
    };
}

list_view!(
    /// User Properties of a borrowed view ([`PacketRef`](crate::PacketRef)): the
    /// `(name, value)` pairs, in order, read from the received bytes as they are iterated.
    UserPropertiesRef,
    UserPropertiesIter,
    (&'a str, &'a str),
    id::USER_PROPERTY
);

list_view!(
    /// Subscription Identifiers of a borrowed PUBLISH view, in order, read from the received
    /// bytes as they are iterated.
    SubscriptionIdsRef,
    SubscriptionIdsIter,
    SubscriptionId,
    id::SUBSCRIPTION_IDENTIFIER
);

impl SubscriptionIdsRef<'_> {
    /// Checks one Subscription Identifier whose identifier `r` has just read.
    pub(crate) fn read_entry(r: &mut Reader<'_>) -> Result<usize, DecodeError> {
        use super::value::PropValue as _;
        let value =
            <SubscriptionId as super::value::FixedValue>::read(r, id::SUBSCRIPTION_IDENTIFIER)?;
        Ok(1 + value.wire_len())
    }
}

impl<'a> UserPropertiesRef<'a> {
    /// Checks one User Property whose identifier `r` has just read.
    pub(crate) fn read_entry(r: &mut Reader<'_>) -> Result<usize, DecodeError> {
        let name = r.skip_string("User Property name")?;
        let value = r.skip_string("User Property value")?;
        Ok(1 + name + value)
    }

    /// The value of the first pair named `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}
