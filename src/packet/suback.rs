//! SUBACK: the server's answer to SUBSCRIBE (MQTT 5.0 section 3.9, 3.1.1 section 3.9).
//!
//! ```text
//! fixed header    0x90, Remaining Length
//! variable header Packet Identifier two-byte integer
//!                 Properties        (5.0 only)
//! payload         one reason code byte per topic filter, in the SUBSCRIBE's order
//! ```

use super::{v5_only, EncodeBody};
use crate::codec::reader::Reader;
use crate::codec::Trim;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::packet::PacketType;
use crate::properties::AckProperties;
use crate::types::reason_code::SubAckReasonCode;
use crate::types::{PacketId, ProtocolVersion};
use alloc::vec::Vec;
use bytes::BufMut;

/// SUBACK: one reason code per topic filter of the SUBSCRIBE it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAck {
    /// The SUBSCRIBE's packet identifier.
    pub packet_id: PacketId,
    /// One code per filter, in order; at least one. Below 5.0 only the QoS grants and
    /// `UnspecifiedError` (3.1.1's Failure) ([MQTT-3.9.3-2]).
    pub reason_codes: Vec<SubAckReasonCode>,
    /// Properties (MQTT 5.0).
    pub properties: AckProperties,
}

impl SubAck {
    /// A SUBACK without properties.
    pub fn new(packet_id: PacketId, reason_codes: Vec<SubAckReasonCode>) -> Self {
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
        let packet_id = r.packet_id(PacketType::SubAck)?;
        let properties = if r.version.is_v5() {
            AckProperties::decode(r)?
        } else {
            AckProperties::default()
        };
        let mut reason_codes = Vec::with_capacity(r.remaining());
        while r.has_remaining() {
            let code = r.u8("reason code")?;
            let reason = SubAckReasonCode::from_code(code)
                .filter(|c| r.version.is_v5() || c.is_v3())
                .ok_or_else(|| {
                    DecodeError::new(DecodeErrorKind::InvalidReasonCode { code })
                        .with_rule("MQTT-3.9.3-2")
                })?;
            reason_codes.push(reason);
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

impl EncodeBody for SubAck {
    fn body_len(&self, version: ProtocolVersion, trim: Trim) -> Result<usize, EncodeError> {
        if self.reason_codes.is_empty() {
            return Err(EncodeError::invalid("SUBACK without a reason code", None));
        }
        if !version.is_v5() {
            v5_only(version, self.properties.is_empty(), "SUBACK properties")?;
            if !self.reason_codes.iter().all(|c| c.is_v3()) {
                return Err(EncodeError::UnsupportedInVersion {
                    what: "this SUBACK reason code",
                    version,
                });
            }
            return Ok(2 + self.reason_codes.len());
        }
        self.properties.check()?;
        Ok(2 + self.properties.wire_len(trim) + self.reason_codes.len())
    }

    fn put_body<B: BufMut + ?Sized>(&self, version: ProtocolVersion, trim: Trim, buf: &mut B) {
        buf.put_u16(self.packet_id.get());
        if version.is_v5() {
            self.properties.put(buf, trim);
        }
        for code in &self.reason_codes {
            buf.put_u8(code.code());
        }
    }
}
