//! The fixed header: packet type and flags in the first byte, then the Remaining Length.
//!
//! ```text
//! bit    7  6  5  4 | 3  2  1  0
//! byte 1 packet type | flags (PUBLISH: DUP, QoS, QoS, RETAIN)
//! byte 2..5          Remaining Length, a Variable Byte Integer of 1 to 4 bytes
//! ```
//!
//! Everything the first bytes can tell is checked here, before the body is waited for or
//! buffered: the type, the flags, the Remaining Length's form, and the packet's whole size
//! against the maximum. A CONNECT's flags pick their rule's tag by the protocol level in its
//! body, so they wait for that byte, a few bytes in ([`connect_flags_refusal`]).

use super::varint;
use crate::error::{DecodeError, DecodeErrorKind};
use crate::types::PacketType;
use crate::types::ProtocolVersion;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FixedHeader {
    pub(crate) packet_type: PacketType,
    pub(crate) flags: u8,
    /// 1 + the bytes of the Remaining Length.
    pub(crate) header_len: usize,
    pub(crate) remaining_len: usize,
}

impl FixedHeader {
    pub(crate) fn total_len(&self) -> usize {
        self.header_len + self.remaining_len
    }

    /// How many more bytes the packet, of which `buf` holds the start but not all, needs:
    /// `None` for at least one more, while a CONNECT with bad flags waits for its level
    /// byte ([`connect_flags_refusal`]), or the refusal once `buf` decides it.
    pub(crate) fn needed(&self, buf: &[u8]) -> Result<Option<usize>, DecodeError> {
        if self.packet_type == PacketType::Connect && self.flags != 0 {
            let body = buf.get(self.header_len..).unwrap_or_default();
            connect_flags_refusal(self.flags, body, self.remaining_len)?;
            return Ok(None);
        }
        Ok(Some(self.total_len().saturating_sub(buf.len())))
    }

    /// Parses the fixed header at the front of `buf`; `Ok(None)` when `buf` ends inside it.
    #[inline(always)]
    pub(crate) fn parse(
        buf: &[u8],
        version: Option<ProtocolVersion>,
        max_packet_size: usize,
    ) -> Result<Option<Self>, DecodeError> {
        let Some((&first, rest)) = buf.split_first() else {
            return Ok(None);
        };
        let (bits, flags) = (first >> 4, first & 0x0F);
        let packet_type = match PacketType::from_bits(bits) {
            Some(PacketType::Auth) if version.is_some_and(|v| !v.is_v5()) => None,
            other => other,
        }
        .ok_or(DecodeErrorKind::ReservedPacketType { packet_type: bits })?;
        check_flags(packet_type, flags, version).map_err(|e| e.in_packet(packet_type))?;

        let Some((remaining_len, n)) = varint::decode(rest, "remaining length", version)
            .map_err(|e| e.in_packet(packet_type))?
        else {
            return Ok(None);
        };
        let header = Self {
            packet_type,
            flags,
            header_len: 1 + n,
            remaining_len: remaining_len as usize,
        };
        if header.total_len() > max_packet_size {
            // Malformed comes before too large, as for the other types' flags.
            if packet_type == PacketType::Connect && flags != 0 {
                let body = buf.get(header.header_len..).unwrap_or_default();
                connect_flags_refusal(flags, body, header.remaining_len)?;
                return Ok(None);
            }
            return Err(DecodeError::new(DecodeErrorKind::PacketTooLarge {
                size: header.total_len(),
                max: max_packet_size,
            })
            .in_packet(packet_type));
        }
        Ok(Some(header))
    }
}

/// The fixed header flag rules ([MQTT-2.1.3-1] in 5.0, [MQTT-2.2.2-1] in 3.1.1, and the
/// per-packet statements). CONNECT's flags wait for its protocol level, which picks the
/// tag ([`connect_flags_refusal`]).
fn check_flags(
    packet_type: PacketType,
    flags: u8,
    version: Option<ProtocolVersion>,
) -> Result<(), DecodeError> {
    if packet_type == PacketType::Connect {
        return Ok(());
    }
    let Some(required) = packet_type.required_flags() else {
        return check_publish_flags(flags);
    };
    if flags == required {
        return Ok(());
    }
    // MQTT 3.1 sends PUBREL, SUBSCRIBE and UNSUBSCRIBE at QoS 1 with DUP set on a resend;
    // the flag carries nothing a receiver needs, so it is accepted and not kept.
    if version == Some(ProtocolVersion::V3_1) && required == 0b0010 && flags == 0b1010 {
        return Ok(());
    }
    let err = DecodeError::new(DecodeErrorKind::InvalidFlags { flags });
    let rule = match packet_type {
        PacketType::PubRel => Some("MQTT-3.6.1-1"),
        PacketType::Subscribe => Some("MQTT-3.8.1-1"),
        PacketType::Unsubscribe => Some("MQTT-3.10.1-1"),
        PacketType::Disconnect => Some("MQTT-3.14.1-1"),
        PacketType::Auth => Some("MQTT-3.15.1-1"),
        _ => version.map(|v| v.tag("MQTT-2.2.2-1", "MQTT-2.1.3-1")),
    };
    Err(match rule {
        Some(rule) => err.with_rule(rule),
        None => err,
    })
}

/// PUBLISH: QoS 3 is malformed ([MQTT-3.3.1-4]) and so is DUP on QoS 0 ([MQTT-3.3.1-2]).
fn check_publish_flags(flags: u8) -> Result<(), DecodeError> {
    let qos = (flags >> 1) & 0b11;
    if qos == 3 {
        return Err(
            DecodeError::new(DecodeErrorKind::InvalidQoS { field: "QoS" })
                .with_rule("MQTT-3.3.1-4"),
        );
    }
    if qos == 0 && flags & 0b1000 != 0 {
        return Err(DecodeError::new(DecodeErrorKind::DupOnQoS0).with_rule("MQTT-3.3.1-2"));
    }
    Ok(())
}

/// Refuses a CONNECT whose fixed header flags are not 0000 (3.1.1 [MQTT-2.2.2-1], 5.0
/// [MQTT-2.1.3-1]) once `arrived`, what has arrived of its `body_len`-byte body, decides
/// the tag; `Ok(())` while it does not. The tag follows the protocol level the packet
/// declares, so the level byte is waited for: a few bytes, never the body. A packet that
/// holds no level byte of MQTT or MQIsdp (it ends before, or the protocol name is of
/// another length) is refused at once, without a tag. With the whole body there, the
/// answer is always the refusal.
#[cold]
#[inline(never)]
pub(crate) fn connect_flags_refusal(
    flags: u8,
    arrived: &[u8],
    body_len: usize,
) -> Result<(), DecodeError> {
    let arrived = &arrived[..arrived.len().min(body_len)];
    let level = match arrived.first_chunk::<2>() {
        None if body_len >= 2 => return Ok(()),
        None => None,
        Some(&name_len) => {
            let at = 2 + usize::from(u16::from_be_bytes(name_len));
            let named = matches!(at, 6 | 8) && at < body_len;
            match arrived.get(at) {
                Some(&level) if named => ProtocolVersion::from_level(level),
                None if named => return Ok(()),
                _ => None,
            }
        }
    };
    let err = DecodeError::new(DecodeErrorKind::InvalidFlags { flags });
    Err(match level {
        Some(v) => err.with_rule(v.tag("MQTT-2.2.2-1", "MQTT-2.1.3-1")),
        None => err,
    }
    .in_packet(PacketType::Connect))
}
