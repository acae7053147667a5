//! UNSUBACK: the server's answer to UNSUBSCRIBE (MQTT 5.0 section 3.11, 3.1.1 section 3.11).
//!
//! ```text
//! fixed header    0xB0, Remaining Length (3.1.1: always 2)
//! variable header Packet Identifier two-byte integer
//!                 Properties        (5.0 only)
//! payload         (5.0 only) one reason code byte per topic filter, in order
//! ```

use super::{v5_only, EncodeBody};
use crate::codec::reader::Reader;
use crate::codec::Trim;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::packet::PacketType;
use crate::properties::AckProperties;
use crate::types::reason_code::UnsubAckReasonCode;
use crate::types::{PacketId, ProtocolVersion};
use alloc::vec::Vec;
use bytes::BufMut;

/// UNSUBACK: in MQTT 5.0 one reason code per topic filter of the UNSUBSCRIBE; in 3.1.1
/// just the packet identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubAck {
    /// The UNSUBSCRIBE's packet identifier.
    pub packet_id: PacketId,
    /// One code per filter, in order (MQTT 5.0, at least one). Below 5.0 this is empty when
    /// decoded, and may only hold `Success` codes, which the encoder leaves out, when encoded.
    pub reason_codes: Vec<UnsubAckReasonCode>,
    /// Properties (MQTT 5.0).
    pub properties: AckProperties,
}

impl UnsubAck {
    /// An UNSUBACK without properties.
    pub fn new(packet_id: PacketId, reason_codes: Vec<UnsubAckReasonCode>) -> Self {
        Self {
            packet_id,
            reason_codes,
            properties: AckProperties::default(),
        }
    }

    pub(crate) fn detach(&self) -> Self {
        Self {
            packet_id: self.packet_id,
            reason_codes: self.reason_codes.clone(),
            properties: self.properties.detach(),
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let packet_id = r.packet_id(PacketType::UnsubAck)?;
        if !r.version.is_v5() {
            return Ok(Self::new(packet_id, Vec::new()));
        }
        let properties = AckProperties::decode(r)?;
        let mut reason_codes = Vec::with_capacity(r.remaining());
        while r.has_remaining() {
            let code = r.u8("reason code")?;
            reason_codes.push(UnsubAckReasonCode::from_code(code).ok_or_else(|| {
                DecodeError::new(DecodeErrorKind::InvalidReasonCode { code })
                    .with_rule("MQTT-3.11.3-2")
            })?);
        }
        if reason_codes.is_empty() {
            return Err(DecodeErrorKind::NoReasonCodes.into());
        }
        Ok(Self {
            packet_id,
            reason_codes,
            properties,
        })
    }
}

impl EncodeBody for UnsubAck {
    fn body_len(&self, version: ProtocolVersion, trim: Trim) -> Result<usize, EncodeError> {
        if !version.is_v5() {
            v5_only(version, self.properties.is_empty(), "UNSUBACK properties")?;
            if self
                .reason_codes
                .iter()
                .any(|&c| c != UnsubAckReasonCode::Success)
            {
                return Err(EncodeError::UnsupportedInVersion {
                    what: "UNSUBACK reason codes",
                    version,
                });
            }
            return Ok(2);
        }
        if self.reason_codes.is_empty() {
            return Err(EncodeError::invalid(
                "UNSUBACK without a reason code",
                Some("MQTT-3.11.3-1"),
            ));
        }
        self.properties.check()?;
        Ok(2 + self.properties.wire_len(trim) + self.reason_codes.len())
    }

    fn put_body<B: BufMut + ?Sized>(&self, version: ProtocolVersion, trim: Trim, buf: &mut B) {
        buf.put_u16(self.packet_id.get());
        if version.is_v5() {
            self.properties.put(buf, trim);
            for code in &self.reason_codes {
                buf.put_u8(code.code());
            }
        }
    }
}
