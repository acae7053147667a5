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
    frame: &'a [u8],
    pos: usize,
    end: usize,
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
            frame,
            pos: header.header_len,
            end: header.total_len(),
            version,
            strict_strings,
        }
    }

    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.end - self.pos
    }

    #[inline]
    pub(crate) fn has_remaining(&self) -> bool {
        self.pos < self.end
    }

    /// Picks the tag for this reader's version.
    pub(crate) fn tag(&self, v3: &'static str, v5: &'static str) -> &'static str {
        self.version.tag(v3, v5)
    }

    #[inline]
    fn take(&mut self, n: usize, field: &'static str) -> Result<usize, DecodeError> {
        if self.remaining() < n {
            return Err(DecodeErrorKind::UnexpectedEnd { field }.into());
        }
        let start = self.pos;
        self.pos += n;
        Ok(start)
    }

    #[inline]
    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        let at = self.take(1, field)?;
        Ok(self.frame[at])
    }

    #[inline]
    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        let at = self.take(2, field)?;
        Ok(u16::from_be_bytes([self.frame[at], self.frame[at + 1]]))
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let at = self.take(4, field)?;
        let b = &self.frame[at..at + 4];
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn varint(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        match varint::decode(&self.frame[self.pos..self.end], field, Some(self.version))? {
            Some((value, used)) => {
                self.pos += used;
                Ok(value)
            }
            None => Err(DecodeErrorKind::UnexpectedEnd { field }.into()),
        }
    }

    /// Steps over the next byte if it is 0, and says whether it did.
    #[inline]
    pub(crate) fn skip_zero_byte(&mut self) -> bool {
        let zero = self.pos < self.end && self.frame[self.pos] == 0;
        self.pos += usize::from(zero);
        zero
    }

    #[inline]
    pub(crate) fn packet_id(&mut self, packet_type: PacketType) -> Result<PacketId, DecodeError> {
        let id = self.u16("packet identifier")?;
        PacketId::new(id).ok_or_else(|| zero_packet_id(packet_type, self.version))
    }

    /// `n` bytes as a slice of the frame.
    pub(crate) fn bytes(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let at = self.take(n, field)?;
        Ok(&self.frame[at..at + n])
    }

    /// The rest of the packet as a slice of the frame.
    #[inline]
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let at = self.pos;
        self.pos = self.end;
        &self.frame[at..self.end]
    }

    /// Binary Data: a two-byte length and that many bytes.
    pub(crate) fn binary(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let n = self.u16(field)?;
        self.bytes(usize::from(n), field)
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
        let (at, n, wildcards) = self.checked_string(field)?;
        Ok((MqttStr::from_checked(&self.frame[at..at + n]), wildcards))
    }

    /// Checks a string and steps over it; returns its bytes on the wire, length prefix
    /// included.
    pub(crate) fn skip_string(&mut self, field: &'static str) -> Result<usize, DecodeError> {
        self.checked_string(field).map(|(_, n, _)| 2 + n)
    }

    /// Reads a string's length, checks its bytes and steps over them: where they start, how
    /// many, and whether they hold `+` or `#`. One pass settles the common case, since most
    /// MQTT strings are plain ASCII: no U+0000, nothing to decode as UTF-8.
    // Inlined into every string read where code size is cheap (about 6% of an owned
    // PUBLISH's decoding); left to the compiler on bare metal, where it is not (1.5 KB of a
    // Cortex-M firmware).
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline)]
    fn checked_string(&mut self, field: &'static str) -> Result<(usize, usize, bool), DecodeError> {
        let n = usize::from(self.u16(field)?);
        let at = self.take(n, field)?;
        let bytes = &self.frame[at..at + n];
        // A short string with 16 bytes of frame from its start (most topics, in most
        // packets) is scanned in one block of the frame, the bytes past it masked out.
        let window = self
            .frame
            .get(at..at + 16)
            .and_then(|w| <&[u8; 16]>::try_from(w).ok());
        let (plain, wildcards) = match window {
            Some(window) if n < 16 => scan_prefix(window, n),
            _ => scan(bytes),
        };
        if !plain || self.strict_strings {
            self.check_string(bytes, field)?;
        }
        Ok((at, n, wildcards))
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
        let at = self.take(n, field)?;
        Ok(Reader {
            frame: self.frame,
            pos: at,
            end: at + n,
            version: self.version,
            strict_strings: self.strict_strings,
        })
    }

    /// The bytes not read yet.
    #[inline]
    pub(crate) fn remaining_bytes(&self) -> &'a [u8] {
        &self.frame[self.pos..self.end]
    }

    #[inline]
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Bytes `start..end` of the frame, as a slice of it.
    #[inline]
    pub(crate) fn slice(&self, start: usize, end: usize) -> &'a [u8] {
        &self.frame[start..end]
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

/// [`scan`] of the first `n` (below 16) bytes of `window`, without copying them out: one
/// or two eight-byte words, the bytes past the string replaced by `a`, tested a word at a
/// time.
#[inline(always)]
fn scan_prefix(window: &[u8; 16], n: usize) -> (bool, bool) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const FILL: u64 = 0x6161_6161_6161_6161; // `a`
    const PLUS: u64 = 0x2B2B_2B2B_2B2B_2B2B;
    const HASH: u64 = 0x2323_2323_2323_2323;
    // Bytes that are 0: exact for whether any is, which is all that is asked.
    let zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGH;
    // The first `kept` (0 to 8) bytes of `w`, the rest `a`.
    let masked = |w: u64, kept: usize| {
        if kept >= 8 {
            return w;
        }
        let keep = (1u64 << (8 * kept)) - 1;
        (w & keep) | (FILL & !keep)
    };
    let word = |half: usize| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&window[half * 8..half * 8 + 8]);
        u64::from_le_bytes(bytes)
    };
    let test = |w: u64| (w & HIGH | zero(w), zero(w ^ PLUS) | zero(w ^ HASH));
    let (odd, wild) = if n <= 8 {
        test(masked(word(0), n))
    } else {
        let (odd_lo, wild_lo) = test(word(0));
        let (odd_hi, wild_hi) = test(masked(word(1), n - 8));
        (odd_lo | odd_hi, wild_lo | wild_hi)
    };
    (odd == 0, wild != 0)
}

/// Whether `bytes` are all plain ASCII (0x01 to 0x7F), and whether any is `+` or `#`.
///
/// Sixteen bytes at a time, in blocks whose loops compile to a few vector instructions;
/// the last block overlaps the one before it, since checking a byte twice changes nothing,
/// and a string shorter than a block is copied into one padded with `a`.
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
    if bytes.len() < N {
        let mut padded = [b'a'; N];
        padded[..bytes.len()].copy_from_slice(bytes);
        return block(&padded);
    }
    let (mut plain, mut wildcards) = (true, false);
    let mut blocks = bytes.chunks_exact(N);
    for b in &mut blocks {
        let (p, w) = block(b.try_into().unwrap_or(&[0; N]));
        plain &= p;
        wildcards |= w;
    }
    if !blocks.remainder().is_empty() {
        let last = &bytes[bytes.len() - N..];
        let (p, w) = block(last.try_into().unwrap_or(&[0; N]));
        plain &= p;
        wildcards |= w;
    }
    (plain, wildcards)
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

    /// The one-block scan of a string inside a longer frame agrees with [`scan`] for every
    /// length below 16, with every odd byte at every position, inside the string or just
    /// past it (which must not count).
    #[test]
    fn scan_prefix_agrees_with_scan() {
        let bytes = [b'+', b'#', 0x00, 0x80, 0xFF, 0x7F, 0x01, b'a'];
        for n in 0..16 {
            for at in 0..16 {
                for &byte in &bytes {
                    let mut window = [b'a'; 16];
                    window[at] = byte;
                    assert_eq!(
                        super::scan_prefix(&window, n),
                        scan(&window[..n]),
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
