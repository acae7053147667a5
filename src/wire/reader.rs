//! A bounded reader over one packet's frame. Every read is length-checked and fails with
//! `UnexpectedEnd` instead of panicking; byte-string reads return slices of the frame, which
//! is borrowed: this is the one place the wire format is read, for the borrowed views and
//! (through them) the owned packets.

use super::fixed_header::FixedHeader;
use super::varint;
use crate::error::{DecodeError, DecodeErrorKind};
use crate::types::string::has_discouraged_char;
use crate::types::PacketType;
use crate::types::{MqttStr, PacketId, ProtocolVersion};

pub(crate) struct Reader<'a> {
    /// The packet's bytes not read yet. Every read splits its bytes off the front, so the
    /// slice's own length is the one bound checked: no index the compiler cannot prove, and
    /// so no panic path, even where nothing is inlined (a Cortex-M firmware at opt-level z).
    rest: &'a [u8],
    pub(crate) version: ProtocolVersion,
    /// Refuse control characters and non-characters in strings (MQTT 5.0 section 1.5.4).
    pub(crate) strict_strings: bool,
}

impl<'a> Reader<'a> {
    /// A reader over the body of the packet whose fixed header is `header`, at the front of
    /// `frame` (which holds all of it, and may hold more).
    #[inline]
    pub(crate) fn new(
        frame: &'a [u8],
        header: &FixedHeader,
        version: ProtocolVersion,
        strict_strings: bool,
    ) -> Self {
        Self {
            // The callers have checked that the whole packet is there; were it not, the body
            // would read as cut short.
            rest: frame
                .get(header.header_len..header.total_len())
                .unwrap_or_default(),
            version,
            strict_strings,
        }
    }

    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }

    #[inline]
    pub(crate) fn has_remaining(&self) -> bool {
        !self.rest.is_empty()
    }

    /// Picks the tag for this reader's version.
    pub(crate) fn tag(&self, v3: &'static str, v5: &'static str) -> &'static str {
        self.version.tag(v3, v5)
    }

    /// The next `n` bytes, as a slice of the frame.
    #[inline]
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let Some((taken, rest)) = self.rest.split_at_checked(n) else {
            return Err(DecodeErrorKind::UnexpectedEnd { field }.into());
        };
        self.rest = rest;
        Ok(taken)
    }

    /// The next `N` bytes, as an array.
    #[inline]
    fn take_array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let Some((taken, rest)) = self.rest.split_first_chunk::<N>() else {
            return Err(DecodeErrorKind::UnexpectedEnd { field }.into());
        };
        self.rest = rest;
        Ok(*taken)
    }

    #[inline]
    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        let Some((&byte, rest)) = self.rest.split_first() else {
            return Err(DecodeErrorKind::UnexpectedEnd { field }.into());
        };
        self.rest = rest;
        Ok(byte)
    }

    #[inline]
    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        self.take_array(field).map(u16::from_be_bytes)
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        self.take_array(field).map(u32::from_be_bytes)
    }

    #[inline]
    pub(crate) fn varint(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        // One byte, as most property identifiers and lengths are: split off in place.
        match self.rest.split_first() {
            Some((&byte, rest)) if byte < 0x80 => {
                self.rest = rest;
                Ok(u32::from(byte))
            }
            _ => self.long_varint(field),
        }
    }

    /// [`varint`](Self::varint) of more than one byte, or cut short.
    fn long_varint(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        match varint::decode(self.rest, field, Some(self.version))? {
            Some((value, used)) => {
                // `used` is at most `rest.len()`: the fallback is never taken.
                self.rest = self.rest.get(used..).unwrap_or_default();
                Ok(value)
            }
            None => Err(DecodeErrorKind::UnexpectedEnd { field }.into()),
        }
    }

    /// Steps over the next byte if it is 0, and says whether it did.
    #[inline]
    pub(crate) fn skip_zero_byte(&mut self) -> bool {
        match self.rest {
            [0, rest @ ..] => {
                self.rest = rest;
                true
            }
            _ => false,
        }
    }

    #[inline]
    pub(crate) fn packet_id(&mut self, packet_type: PacketType) -> Result<PacketId, DecodeError> {
        let id = self.u16("packet identifier")?;
        PacketId::new(id).ok_or_else(|| zero_packet_id(packet_type, self.version))
    }

    /// The rest of the packet as a slice of the frame.
    #[inline]
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.rest)
    }

    /// Binary Data: a two-byte length and that many bytes.
    pub(crate) fn binary(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let n = self.u16(field)?;
        self.take(usize::from(n), field)
    }

    /// Steps over Binary Data without slicing the frame.
    pub(crate) fn skip_binary(&mut self, field: &'static str) -> Result<(), DecodeError> {
        let n = self.u16(field)?;
        self.take(usize::from(n), field).map(drop)
    }

    /// A UTF-8 Encoded String, checked by the rules of [MQTT-1.5.4-1] and [MQTT-1.5.4-2]
    /// ([MQTT-1.5.3-1] and [MQTT-1.5.3-2] in 3.1.1).
    pub(crate) fn string(&mut self, field: &'static str) -> Result<MqttStr<'a>, DecodeError> {
        self.string_and_wildcards(field).map(|(s, _)| s)
    }

    /// A string, and whether it holds `+` or `#`.
    #[inline(always)]
    pub(crate) fn string_and_wildcards(
        &mut self,
        field: &'static str,
    ) -> Result<(MqttStr<'a>, bool), DecodeError> {
        let (bytes, wildcards) = self.checked_string(field)?;
        Ok((MqttStr::from_checked(bytes), wildcards))
    }

    /// Checks a string and steps over it; returns its bytes on the wire, length prefix
    /// included.
    pub(crate) fn skip_string(&mut self, field: &'static str) -> Result<usize, DecodeError> {
        self.checked_string(field).map(|(bytes, _)| 2 + bytes.len())
    }

    /// Reads a string's length, checks its bytes and steps over them: the bytes, and
    /// whether they hold `+` or `#`. One pass settles the common case, since most MQTT
    /// strings are plain ASCII: no U+0000, nothing to decode as UTF-8.
    // Inlined into every string read where code size is cheap (about 6% of an owned
    // PUBLISH's decoding); left to the compiler on bare metal, where it is not (1.5 KB of a
    // Cortex-M firmware).
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline)]
    fn checked_string(&mut self, field: &'static str) -> Result<(&'a [u8], bool), DecodeError> {
        let n = usize::from(self.u16(field)?);
        let bytes = self.take(n, field)?;
        let (plain, wildcards) = scan(bytes);
        if !plain || self.strict_strings {
            self.check_string(bytes, field)?;
        }
        Ok((bytes, wildcards))
    }

    /// The full string rules, for strings that are not plain ASCII.
    #[cold]
    fn check_string(&self, bytes: &[u8], field: &'static str) -> Result<(), DecodeError> {
        let Ok(s) = core::str::from_utf8(bytes) else {
            let rule = self.tag("MQTT-1.5.3-1", "MQTT-1.5.4-1");
            return Err(DecodeError::new(DecodeErrorKind::InvalidUtf8 { field }).with_rule(rule));
        };
        if s.as_bytes().contains(&0) {
            let rule = self.tag("MQTT-1.5.3-2", "MQTT-1.5.4-2");
            return Err(DecodeError::new(DecodeErrorKind::NullCharacter { field }).with_rule(rule));
        }
        if self.strict_strings && has_discouraged_char(s) {
            return Err(DecodeErrorKind::DiscouragedCharacter { field }.into());
        }
        Ok(())
    }

    /// A reader over the next `n` bytes (a property block); this reader skips past them.
    pub(crate) fn sub(&mut self, n: usize, field: &'static str) -> Result<Reader<'a>, DecodeError> {
        Ok(Reader {
            rest: self.take(n, field)?,
            version: self.version,
            strict_strings: self.strict_strings,
        })
    }

    /// The bytes not read yet: a mark that [`read_since`](Self::read_since) measures from.
    #[inline]
    pub(crate) fn remaining_bytes(&self) -> &'a [u8] {
        self.rest
    }

    /// The bytes read since `mark` (what [`remaining_bytes`](Self::remaining_bytes) was
    /// then), as a slice of the frame.
    #[inline]
    pub(crate) fn read_since(&self, mark: &'a [u8]) -> &'a [u8] {
        between(mark, mark.len(), self.remaining())
    }

    /// Fails if anything is left: the fields must fill the Remaining Length exactly.
    #[inline]
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        if self.has_remaining() {
            return Err(DecodeErrorKind::TrailingBytes {
                count: self.remaining(),
            }
            .into());
        }
        Ok(())
    }
}

/// The bytes of `mark` (a reader's [`remaining_bytes`](Reader::remaining_bytes)) from
/// where the reader had `from` bytes left to where it had `to`: what it read in between.
#[inline]
pub(crate) fn between(mark: &[u8], from: usize, to: usize) -> &[u8] {
    // A reader only shrinks its rest, which is a tail of `mark`: the fallback is never taken.
    let len = mark.len();
    mark.get(len.wrapping_sub(from)..len.wrapping_sub(to))
        .unwrap_or_default()
}

/// [`scan`] of a string shorter than 16 bytes (most topics), in place: one or two
/// eight-byte words made of its own bytes only, overlapping where it is shorter than they
/// are (a byte tested twice changes nothing), tested a word at a time. Nothing is read past
/// the string, and nothing is copied.
#[inline(always)]
fn scan_short(bytes: &[u8]) -> (bool, bool) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const PLUS: u64 = 0x2B2B_2B2B_2B2B_2B2B;
    const BIT3: u64 = 0x0808_0808_0808_0808;
    // Bytes that are 0: exact for whether any is, which is all that is asked.
    let zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGH;
    // Bytes outside 0x01..=0x7F; bytes that are `+` or `#`, which differ only in bit 3, so
    // that setting it leaves `+` for both, and for no other byte.
    let odd = |w: u64| w & HIGH | zero(w);
    let wild = |w: u64| zero((w | BIT3) ^ PLUS);
    let (odd, wild) = if let Some(lo) = bytes.first_chunk() {
        let (lo, hi) = (
            u64::from_le_bytes(*lo),
            u64::from_le_bytes(*last_chunk(bytes, lo)),
        );
        (odd(lo) | odd(hi), wild(lo) | wild(hi))
    } else {
        let w = if let Some(lo) = bytes.first_chunk() {
            let hi = last_chunk(bytes, lo);
            u64::from(u32::from_le_bytes(*lo)) | u64::from(u32::from_le_bytes(*hi)) << 32
        } else if let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) {
            // One to three bytes: the first, the second (or the first again) and the last.
            let second = bytes.get(1).copied().unwrap_or(first);
            u64::from_le_bytes([first, second, last, last, last, last, last, last])
        } else {
            return (true, false);
        };
        (odd(w), wild(w))
    };
    (odd == 0, wild != 0)
}

/// Whether `bytes` are all plain ASCII (0x01 to 0x7F), and whether any is `+` or `#`.
///
/// A string shorter than 16 bytes goes to [`scan_short`]; a longer one, sixteen bytes at a
/// time, in blocks whose loops compile to a few vector instructions; the last block overlaps
/// the one before it, since checking a byte twice changes nothing.
#[inline(always)]
pub(crate) fn scan(bytes: &[u8]) -> (bool, bool) {
    const N: usize = 16;
    // No early exit, so the loop vectorises.
    fn block(b: &[u8; N]) -> (bool, bool) {
        let (mut odd, mut wild) = (0u8, 0u8);
        for &c in b {
            odd |= u8::from(c.wrapping_sub(1) >= 0x7F); // outside 0x01..=0x7F
            wild |= u8::from(c == b'+') | u8::from(c == b'#');
        }
        (odd == 0, wild != 0)
    }
    let Some(first) = bytes.first_chunk() else {
        return scan_short(bytes);
    };
    let (mut plain, mut wildcards) = (true, false);
    let mut blocks = bytes.chunks_exact(N);
    for b in &mut blocks {
        let (p, w) = block(b.try_into().unwrap_or(&[0; N]));
        plain &= p;
        wildcards |= w;
    }
    if !blocks.remainder().is_empty() {
        let (p, w) = block(last_chunk(bytes, first));
        plain &= p;
        wildcards |= w;
    }
    (plain, wildcards)
}

/// The last `N` bytes of `bytes`, whose first `N` are `first`: `<[u8]>::last_chunk` without
/// its call to `split_at`, whose bounds assertion a firmware built for size keeps out of
/// line, and without an `Option` the caller would test again.
#[inline(always)]
fn last_chunk<'a, const N: usize>(bytes: &'a [u8], first: &'a [u8; N]) -> &'a [u8; N] {
    // `bytes` holds `first`, so the fallback is never taken.
    bytes
        .get(bytes.len().wrapping_sub(N)..)
        .and_then(<[u8]>::first_chunk)
        .unwrap_or(first)
}

/// Packet identifier 0 where one is required. A request (PUBLISH, SUBSCRIBE, UNSUBSCRIBE)
/// breaks the rule that its identifier is non-zero ([MQTT-2.3.1-1] in 3.1.1, [MQTT-2.2.1-3]
/// in 5.0); an acknowledgement, the rule that it carries its request's identifier, which is
/// never 0 ([MQTT-2.3.1-6] and [MQTT-2.3.1-7], [MQTT-2.2.1-5] and [MQTT-2.2.1-6]; 3.1.1
/// states none for PUBCOMP). MQTT 5.0 names no reason code; like mosquitto, mqttwire answers
/// Protocol Error for PUBLISH and Malformed Packet elsewhere.
fn zero_packet_id(packet_type: PacketType, version: ProtocolVersion) -> DecodeError {
    use PacketType::*;
    let rule = match packet_type {
        Publish | Subscribe | Unsubscribe => Some(version.tag("MQTT-2.3.1-1", "MQTT-2.2.1-3")),
        PubAck | PubRec | PubRel => Some(version.tag("MQTT-2.3.1-6", "MQTT-2.2.1-5")),
        PubComp => version.is_v5().then_some("MQTT-2.2.1-5"),
        _ => Some(version.tag("MQTT-2.3.1-7", "MQTT-2.2.1-6")),
    };
    let mut err = DecodeError::new(DecodeErrorKind::ZeroPacketId);
    if let Some(rule) = rule {
        err = err.with_rule(rule);
    }
    if packet_type == Publish {
        err.with_reason(crate::ReasonCode::PROTOCOL_ERROR)
    } else {
        err
    }
}

#[cfg(test)]
mod tests {
    use super::scan;
    use alloc::vec;

    /// What [`scan`] answers, byte by byte.
    fn scan_bytewise(bytes: &[u8]) -> (bool, bool) {
        let plain = bytes.iter().all(|&c| (0x01..=0x7F).contains(&c));
        let wildcards = bytes.iter().any(|&c| c == b'+' || c == b'#');
        (plain, wildcards)
    }

    /// The in-place scan of a short string agrees with the byte-by-byte answer for every
    /// length below 16, with every byte value at every position, inside the string or just
    /// past it (which must not count).
    #[test]
    fn scan_short_agrees_with_bytewise() {
        for n in 0..16 {
            for at in 0..16 {
                for byte in 0..=u8::MAX {
                    let mut window = [b'a'; 16];
                    window[at] = byte;
                    assert_eq!(
                        super::scan_short(&window[..n]),
                        scan_bytewise(&window[..n]),
                        "{byte:#04x} at {at} of a {n}-byte string"
                    );
                }
            }
        }
    }

    /// Every length around the 16-byte blocks, with the odd byte at every position: the
    /// blocks, the overlapping last block and the padded short string miss none.
    #[test]
    fn scan_sees_every_byte_at_every_length() {
        for len in 0..=70 {
            let plain = vec![b'a'; len];
            assert_eq!(scan(&plain), (true, false), "length {len}");
            for at in 0..len {
                for (byte, want) in [
                    (b'+', (true, true)),
                    (b'#', (true, true)),
                    (0x00, (false, false)),
                    (0x80, (false, false)),
                    (0xFF, (false, false)),
                    (0x7F, (true, false)),
                    (0x01, (true, false)),
                ] {
                    let mut s = plain.clone();
                    s[at] = byte;
                    assert_eq!(scan(&s), want, "length {len}, {byte:#04x} at {at}");
                }
            }
        }
    }
}
