//! DISCONNECT: the last packet on a connection (MQTT 5.0 section 3.14, 3.1.1 section 3.14).
//!
//! ```text
//! fixed header    0xE0, Remaining Length (3.1.1: always 0)
//! variable header Reason Code  byte (5.0; absent when Remaining Length is 0: Normal disconnection)
//!                 Properties   (5.0; absent when Remaining Length is below 2)
//! ```

use super::EncodeBody;
use crate::codec::reader::Reader;
use crate::codec::Trim;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::properties::DisconnectProperties;
use crate::types::reason_code::DisconnectReasonCode;
use crate::types::ProtocolVersion;
use bytes::BufMut;

/// DISCONNECT: why the connection ends. In 3.1.1 only the client sends it, and it is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Disconnect {
    /// The reason code (MQTT 5.0); `NormalDisconnection` below 5.0.
    pub reason_code: DisconnectReasonCode,
    /// Properties (MQTT 5.0).
    pub properties: DisconnectProperties,
}

impl Disconnect {
    /// A DISCONNECT with `reason_code` and no properties.
    pub fn new(reason_code: DisconnectReasonCode) -> Self {
        Self {
            reason_code,
            properties: DisconnectProperties::default(),
        }
    }

    pub(crate) fn detach(&self) -> Self {
        Self {
            reason_code: self.reason_code,
            properties: self.properties.detach(),
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut disconnect = Self::default();
        // 5.0 short forms: Remaining Length 0 is a normal disconnection, 1 a bare reason code.
        if r.version.is_v5() && r.has_remaining() {
            let code = r.u8("reason code")?;
            disconnect.reason_code = DisconnectReasonCode::from_code(code).ok_or_else(|| {
                DecodeError::new(DecodeErrorKind::InvalidReasonCode { code })
                    .with_rule("MQTT-3.14.2-1")
            })?;
            if r.has_remaining() {
                disconnect.properties = DisconnectProperties::decode(r)?;
            }
        }
        Ok(disconnect)
    }
}

impl EncodeBody for Disconnect {
    fn body_len(&self, version: ProtocolVersion, trim: Trim) -> Result<usize, EncodeError> {
        if !version.is_v5() {
            if self.reason_code != DisconnectReasonCode::NormalDisconnection
                || !self.properties.is_empty()
            {
                return Err(EncodeError::UnsupportedInVersion {
                    what: "DISCONNECT reason code or properties",
                    version,
                });
            }
            return Ok(0);
        }
        self.properties.check()?;
        let props = self.properties.wire_len(trim);
        Ok(match (self.reason_code, props) {
            (DisconnectReasonCode::NormalDisconnection, 1) => 0,
            (_, 1) => 1,
            _ => 1 + props,
        })
    }

    fn put_body<B: BufMut + ?Sized>(&self, version: ProtocolVersion, trim: Trim, buf: &mut B) {
        if !version.is_v5() {
            return;
        }
        let has_props = self.properties.wire_len(trim) > 1;
        if has_props || self.reason_code != DisconnectReasonCode::NormalDisconnection {
            buf.put_u8(self.reason_code.code());
        }
        if has_props {
            self.properties.put(buf, trim);
        }
    }
}
