#[cfg(feature = "alloc")]
use alloc::string::String;
#[cfg(feature = "alloc")]
use bytes::Bytes;

/// Why a string cannot be an MQTT UTF-8 Encoded String.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidString {
    /// Longer than the 65,535 bytes a two-byte length prefix can count.
    #[error("string of {0} bytes is longer than 65,535 bytes")]
    TooLong(usize),
    /// Contains U+0000, which MQTT forbids ([MQTT-1.5.4-2], [MQTT-1.5.3-2] in 3.1.1).
    #[error("string contains U+0000")]
    NullCharacter,
    /// Not well-formed UTF-8 ([MQTT-1.5.4-1], [MQTT-1.5.3-1] in 3.1.1).
    #[error("string is not well-formed UTF-8")]
    InvalidUtf8,
}

#[cfg(feature = "alloc")]
/// An MQTT UTF-8 Encoded String: well-formed UTF-8 (so no surrogates), no U+0000,
/// at most 65,535 bytes.
///
/// It holds its bytes as [`Bytes`], so a decoded string is a slice of the packet's frame
/// rather than a copy. U+FEFF is an ordinary character and is kept wherever it occurs
/// ([MQTT-1.5.4-3]).
///
/// ```
/// use mqttwire::MqttString;
///
/// let s = MqttString::new("sensors/\u{FEFF}temp").unwrap();
/// assert_eq!(s.as_str(), "sensors/\u{FEFF}temp");
/// assert!(MqttString::new("a\0b").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MqttString(Bytes);

#[cfg(feature = "alloc")]
impl MqttString {
    /// The longest string, in bytes, that a two-byte length prefix can count.
    pub const MAX_LEN: usize = MAX_LEN;

    /// Copies `s` into a new string after checking it.
    pub fn new(s: &str) -> Result<Self, InvalidString> {
        check(s)?;
        Ok(Self(Bytes::copy_from_slice(s.as_bytes())))
    }

    /// Wraps a `&'static str` without copying it, after checking it.
    pub fn from_static(s: &'static str) -> Result<Self, InvalidString> {
        check(s)?;
        Ok(Self(Bytes::from_static(s.as_bytes())))
    }

    /// Checks raw bytes, such as a slice of a received frame, and wraps them without copying.
    pub fn from_utf8(bytes: Bytes) -> Result<Self, InvalidString> {
        let s = core::str::from_utf8(&bytes).map_err(|_| InvalidString::InvalidUtf8)?;
        check(s)?;
        Ok(Self(bytes))
    }

    /// Wraps bytes the decoder has already checked (UTF-8, no U+0000, two-byte length).
    pub(crate) fn from_checked(bytes: Bytes) -> Self {
        debug_assert!(core::str::from_utf8(&bytes).is_ok());
        Self(bytes)
    }

    /// The empty string.
    #[must_use]
    pub const fn empty() -> Self {
        Self(Bytes::new())
    }

    /// The string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Every constructor checked the bytes, so this never falls back to "".
        core::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The UTF-8 bytes, without the length prefix.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The underlying [`Bytes`].
    #[must_use]
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// Length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the string is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Bytes on the wire: the two-byte length prefix plus the string.
    pub(crate) fn wire_len(&self) -> usize {
        2 + self.0.len()
    }

    /// A copy that owns its bytes instead of sharing a received frame.
    pub(crate) fn detach(&self) -> Self {
        Self(Bytes::copy_from_slice(&self.0))
    }
}

/// The longest string, in bytes, that a two-byte length prefix can count.
const MAX_LEN: usize = 65_535;

fn check(s: &str) -> Result<(), InvalidString> {
    if s.len() > MAX_LEN {
        return Err(InvalidString::TooLong(s.len()));
    }
    if s.as_bytes().contains(&0) {
        return Err(InvalidString::NullCharacter);
    }
    Ok(())
}

/// A borrowed MQTT UTF-8 Encoded String: what [`MqttString`] is, as a slice of someone
/// else's buffer (the received packet, when decoded). The borrowed views of
/// [`PacketRef`](crate::PacketRef) carry their strings as `MqttStr`.
///
/// It keeps the checked bytes rather than a `&str`, so that decoding a string costs one scan
/// of its bytes and nothing more; [`as_str`](Self::as_str) converts when asked.
///
/// ```
/// use mqttwire::MqttStr;
///
/// let s = MqttStr::new("sensors/temp").unwrap();
/// assert_eq!(s, "sensors/temp");
/// assert_eq!(s.as_bytes().len(), 12);
/// assert!(MqttStr::new("a\0b").is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MqttStr<'a>(&'a [u8]);

impl<'a> MqttStr<'a> {
    /// Checks `s` (no U+0000, at most 65,535 bytes) and borrows it.
    pub fn new(s: &'a str) -> Result<Self, InvalidString> {
        check(s)?;
        Ok(Self(s.as_bytes()))
    }

    /// Wraps bytes the decoder has already checked (UTF-8, no U+0000, two-byte length).
    pub(crate) fn from_checked(bytes: &'a [u8]) -> Self {
        debug_assert!(core::str::from_utf8(bytes).is_ok());
        Self(bytes)
    }

    /// The string slice.
    #[must_use]
    pub fn as_str(&self) -> &'a str {
        // Every constructor checked the bytes, so this never falls back to "".
        core::str::from_utf8(self.0).unwrap_or_default()
    }

    /// The UTF-8 bytes, without the length prefix.
    #[must_use]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// Length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the string is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Bytes on the wire: the two-byte length prefix plus the string.
    pub(crate) fn wire_len(&self) -> usize {
        2 + self.0.len()
    }
}

impl core::fmt::Debug for MqttStr<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl core::fmt::Display for MqttStr<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for MqttStr<'_> {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for MqttStr<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

#[cfg(feature = "alloc")]
impl<'a> From<&'a MqttString> for MqttStr<'a> {
    fn from(s: &'a MqttString) -> Self {
        Self(s.as_bytes())
    }
}

#[cfg(feature = "alloc")]
impl MqttString {
    /// The string as a borrowed [`MqttStr`].
    #[must_use]
    pub fn as_borrowed(&self) -> MqttStr<'_> {
        MqttStr(&self.0)
    }

    /// `s`'s bytes as a slice of `frame`, which holds them: no copy, no check.
    #[inline]
    pub(crate) fn in_frame(frame: &Bytes, s: MqttStr<'_>) -> Self {
        Self(slice_of(frame, s.0))
    }
}

/// Whether `s` contains a character that senders should avoid (U+0001..U+001F,
/// U+007F..U+009F, or a Unicode non-character) and a strict receiver may treat as malformed
/// (MQTT 5.0 section 1.5.4).
pub(crate) fn has_discouraged_char(s: &str) -> bool {
    s.chars().any(|c| {
        let c = c as u32;
        matches!(c, 0x01..=0x1F | 0x7F..=0x9F | 0xFDD0..=0xFDEF) || (c & 0xFFFE) == 0xFFFE
    })
}

#[cfg(feature = "alloc")]
impl core::ops::Deref for MqttString {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

#[cfg(feature = "alloc")]
impl AsRef<str> for MqttString {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

#[cfg(feature = "alloc")]
impl core::fmt::Debug for MqttString {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(feature = "alloc")]
impl core::fmt::Display for MqttString {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "alloc")]
impl PartialEq<str> for MqttString {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

#[cfg(feature = "alloc")]
impl PartialEq<&str> for MqttString {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

#[cfg(feature = "alloc")]
impl TryFrom<&str> for MqttString {
    type Error = InvalidString;
    fn try_from(s: &str) -> Result<Self, InvalidString> {
        Self::new(s)
    }
}

#[cfg(feature = "alloc")]
impl TryFrom<String> for MqttString {
    type Error = InvalidString;
    /// Takes over the `String`'s buffer without copying it.
    fn try_from(s: String) -> Result<Self, InvalidString> {
        check(&s)?;
        Ok(Self(Bytes::from(s)))
    }
}

/// `part`, a slice of `frame`'s bytes, as a [`Bytes`] sharing them: [`Bytes::slice_ref`]
/// without its second range check, since the decoder made `part` from `frame`. A `part`
/// from elsewhere is copied rather than risk a panic.
#[cfg(feature = "alloc")]
#[inline]
pub(crate) fn slice_of(frame: &Bytes, part: &[u8]) -> Bytes {
    if part.is_empty() {
        return Bytes::new();
    }
    let start = (part.as_ptr() as usize).wrapping_sub(frame.as_ptr() as usize);
    match start.checked_add(part.len()) {
        Some(end) if end <= frame.len() => frame.slice(start..end),
        _ => Bytes::copy_from_slice(part),
    }
}
