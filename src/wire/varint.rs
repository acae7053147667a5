//! Variable Byte Integers ([MQTT-1.5.5-1] in 5.0, section 2.2.3 in 3.1.1): seven bits per
//! byte, least significant group first, at most four bytes, and (mqttwire's strict choice)
//! always in the shortest form.

use crate::error::{DecodeError, DecodeErrorKind};
use crate::types::ProtocolVersion;
use crate::wire::writer::Sink;

/// The rule a Variable Byte Integer check enforces: tagged in 5.0, untagged in 3.1.1.
pub(crate) fn rule(version: Option<ProtocolVersion>) -> Option<&'static str> {
    version.filter(|v| v.is_v5()).map(|_| "MQTT-1.5.5-1")
}

/// Decodes from the front of `buf`: `Ok(None)` when `buf` ends inside the integer,
/// otherwise the value and how many bytes it took.
#[inline]
pub(crate) fn decode(
    buf: &[u8],
    field: &'static str,
    version: Option<ProtocolVersion>,
) -> Result<Option<(u32, usize)>, DecodeError> {
    // One byte, as most Remaining Lengths and Property Lengths are.
    if let Some(&byte) = buf.first() {
        if byte < 0x80 {
            return Ok(Some((u32::from(byte), 1)));
        }
    }
    let mut value = 0u32;
    for (i, &byte) in buf.iter().enumerate() {
        if i == 4 {
            let err = DecodeError::new(DecodeErrorKind::VarIntTooLong { field });
            return Err(with_rule(err, version));
        }
        value |= u32::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            // A final zero byte after a continuation adds nothing: a longer form than needed.
            if i > 0 && byte == 0 {
                let err = DecodeError::new(DecodeErrorKind::VarIntNotMinimal { field });
                return Err(with_rule(err, version));
            }
            return Ok(Some((value, i + 1)));
        }
    }
    if buf.len() >= 4 {
        let err = DecodeError::new(DecodeErrorKind::VarIntTooLong { field });
        return Err(with_rule(err, version));
    }
    Ok(None)
}

fn with_rule(err: DecodeError, version: Option<ProtocolVersion>) -> DecodeError {
    match rule(version) {
        Some(tag) => err.with_rule(tag),
        None => err,
    }
}

/// Bytes needed for `value`, which the caller keeps at or below 268,435,455.
pub(crate) use crate::types::varint::len;

/// Writes `value`, which the caller keeps at or below 268,435,455.
pub(crate) fn put<B: Sink + ?Sized>(buf: &mut B, mut value: usize) {
    loop {
        let mut byte = (value & 0x7F) as u8;
        value >>= 7;
        if value > 0 {
            byte |= 0x80;
        }
        buf.put_u8(byte);
        if value == 0 {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    const V5: Option<ProtocolVersion> = Some(ProtocolVersion::V5);

    #[test]
    fn encodes_boundaries_mqtt_1_5_5_1() {
        let rows: [(usize, &[u8]); 9] = [
            (0, &[0x00]),
            (127, &[0x7F]),
            (128, &[0x80, 0x01]),
            (321, &[0xC1, 0x02]),
            (16_383, &[0xFF, 0x7F]),
            (16_384, &[0x80, 0x80, 0x01]),
            (2_097_151, &[0xFF, 0xFF, 0x7F]),
            (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
            (268_435_455, &[0xFF, 0xFF, 0xFF, 0x7F]),
        ];
        for (value, bytes) in rows {
            let mut out = Vec::new();
            put(&mut out, value);
            assert_eq!(out, bytes, "{value}");
            assert_eq!(len(value), bytes.len());
            assert_eq!(
                decode(bytes, "x", V5).unwrap(),
                Some((value as u32, bytes.len()))
            );
        }
    }

    #[test]
    fn rejects_five_byte_integer_mqtt_1_5_5_1() {
        let err = decode(&[0xFF, 0xFF, 0xFF, 0xFF, 0x01], "x", V5).unwrap_err();
        assert_eq!(err.kind(), &DecodeErrorKind::VarIntTooLong { field: "x" });
        assert_eq!(err.rule(), Some("MQTT-1.5.5-1"));
        // Four continuation bytes are already too long, before a fifth arrives.
        assert!(decode(&[0x80, 0x80, 0x80, 0x80], "x", V5).is_err());
    }

    #[test]
    fn rejects_non_minimal_encoding_mqtt_1_5_5_1() {
        for bytes in [
            &[0x80, 0x00][..],
            &[0xFF, 0x80, 0x00],
            &[0x80, 0x80, 0x80, 0x00],
        ] {
            let err = decode(bytes, "x", V5).unwrap_err();
            assert_eq!(
                err.kind(),
                &DecodeErrorKind::VarIntNotMinimal { field: "x" }
            );
        }
    }

    #[test]
    fn partial_integer_needs_more() {
        assert_eq!(decode(&[], "x", V5).unwrap(), None);
        assert_eq!(decode(&[0xC1], "x", V5).unwrap(), None);
        assert_eq!(decode(&[0x80, 0x80, 0x80], "x", V5).unwrap(), None);
    }

    #[test]
    fn v3_errors_carry_no_5_0_tag() {
        let err = decode(&[0x80, 0x00], "x", Some(ProtocolVersion::V3_1_1)).unwrap_err();
        assert_eq!(err.rule(), None);
    }
}
