//! CONNACK: the server's answer to CONNECT (MQTT 5.0 section 3.2, 3.1.1 section 3.2).
//!
//! ```text
//! fixed header    0x20, Remaining Length (3.1.1: always 2)
//! variable header Acknowledge Flags  byte: bit 0 Session Present, bits 7-1 reserved (0)
//!                 Reason Code        byte (3.1.1: Return Code 0 to 5)
//!                 Properties         (5.0 only)
//! ```

use super::{v5_only, EncodeBody};
use crate::codec::reader::Reader;
use crate::codec::Trim;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::properties::ConnAckProperties;
use crate::types::reason_code::ConnectReasonCode;
use crate::types::ProtocolVersion;
use bytes::BufMut;

/// CONNACK: whether the connection is accepted, and the server's limits (MQTT 5.0).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnAck {
    /// Session Present: the server resumes a stored session. Never set on a refusal
    /// ([MQTT-3.2.2-6] in 5.0, [MQTT-3.2.2-4] in 3.1.1).
    pub session_present: bool,
    /// The reason code; below 5.0 only the six codes with a 3.1.1 return code.
    pub reason_code: ConnectReasonCode,
    /// Properties (MQTT 5.0).
    pub properties: ConnAckProperties,
}

impl ConnAck {
    /// A CONNACK with `reason_code`, no session, no properties.
    pub fn new(reason_code: ConnectReasonCode) -> Self {
        Self {
            reason_code,
            ..Self::default()
        }
    }

    pub(crate) fn detach(&self) -> Self {
        Self {
            properties: self.properties.detach(),
            ..*self
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let flags = r.u8("acknowledge flags")?;
        if flags & 0xFE != 0 {
            let err = DecodeError::new(DecodeErrorKind::ConnAckReservedFlags { flags });
            return Err(if r.version.is_v5() {
                err.with_rule("MQTT-3.2.2-1")
            } else {
                err
            });
        }
        let code = r.u8("reason code")?;
        let reason_code = if r.version.is_v5() {
            ConnectReasonCode::from_code(code).ok_or_else(|| {
                DecodeError::new(DecodeErrorKind::InvalidReasonCode { code })
                    .with_rule("MQTT-3.2.2-8")
            })?
        } else {
            ConnectReasonCode::from_v3_return_code(code)
                .ok_or(DecodeErrorKind::InvalidReasonCode { code })?
        };
        let session_present = flags & 1 != 0;
        if session_present && reason_code.is_error() {
            return Err(DecodeError::new(DecodeErrorKind::SessionPresentOnRefusal)
                .with_rule(r.tag("MQTT-3.2.2-4", "MQTT-3.2.2-6")));
        }
        let properties = if r.version.is_v5() {
            ConnAckProperties::decode(r)?
        } else {
            ConnAckProperties::default()
        };
        Ok(Self {
            session_present,
            reason_code,
            properties,
        })
    }
}

impl EncodeBody for ConnAck {
    fn body_len(&self, version: ProtocolVersion, trim: Trim) -> Result<usize, EncodeError> {
        if self.session_present && self.reason_code.is_error() {
            return Err(EncodeError::invalid(
                "Session Present set on a refused connection",
                Some(version.tag("MQTT-3.2.2-4", "MQTT-3.2.2-6")),
            ));
        }
        if !version.is_v5() {
            v5_only(version, self.properties.is_empty(), "CONNACK properties")?;
            if self.reason_code.v3_return_code().is_none() {
                return Err(EncodeError::UnsupportedInVersion {
                    what: "this CONNACK reason code",
                    version,
                });
            }
            return Ok(2);
        }
        self.properties.check()?;
        Ok(2 + self.properties.wire_len(trim))
    }

    fn put_body<B: BufMut + ?Sized>(&self, version: ProtocolVersion, trim: Trim, buf: &mut B) {
        buf.put_u8(u8::from(self.session_present));
        if version.is_v5() {
            buf.put_u8(self.reason_code.code());
            self.properties.put(buf, trim);
        } else {
            buf.put_u8(self.reason_code.v3_return_code().unwrap_or_default());
        }
    }
}
