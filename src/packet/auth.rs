//! AUTH: a step of enhanced authentication (MQTT 5.0 section 3.15; MQTT 3.1.1 reserves
//! packet type 15).
//!
//! ```text
//! fixed header    0xF0, Remaining Length
//! variable header Reason Code  byte        (absent when Remaining Length is 0: Success)
//!                 Properties   (always present after a Reason Code; they must hold the
//!                               Authentication Method)
//! ```
//!
//! Unlike DISCONNECT, AUTH has no Remaining Length 1 form: section 3.15.2.1 lets a sender
//! leave out the reason code and the properties only together. mqttwire refuses `F0 01 xx`
//! as malformed.

use super::EncodeBody;
use crate::codec::reader::Reader;
use crate::codec::Trim;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::properties::AuthProperties;
use crate::types::reason_code::AuthReasonCode;
use crate::types::ProtocolVersion;
use bytes::BufMut;

/// AUTH: exchanges authentication data during or after connecting (MQTT 5.0 only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Auth {
    /// The reason code.
    pub reason_code: AuthReasonCode,
    /// Properties; they must name the Authentication Method unless the packet is a bare
    /// `Success`.
    pub properties: AuthProperties,
}

impl Auth {
    /// An AUTH with `reason_code` and no properties.
    pub fn new(reason_code: AuthReasonCode) -> Self {
        Self {
            reason_code,
            properties: AuthProperties::default(),
        }
    }

    pub(crate) fn detach(&self) -> Self {
        Self {
            reason_code: self.reason_code,
            properties: self.properties.detach(),
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if !r.has_remaining() {
            return Ok(Self::default());
        }
        let code = r.u8("reason code")?;
        let reason_code = AuthReasonCode::from_code(code).ok_or_else(|| {
            DecodeError::new(DecodeErrorKind::InvalidReasonCode { code }).with_rule("MQTT-3.15.2-1")
        })?;
        let properties = AuthProperties::decode(r)?;
        if properties.authentication_method.is_none() {
            return Err(DecodeErrorKind::MissingAuthenticationMethod.into());
        }
        Ok(Self {
            reason_code,
            properties,
        })
    }
}

impl EncodeBody for Auth {
    fn body_len(&self, version: ProtocolVersion, trim: Trim) -> Result<usize, EncodeError> {
        if !version.is_v5() {
            return Err(EncodeError::UnsupportedInVersion {
                what: "AUTH",
                version,
            });
        }
        self.properties.check()?;
        let props = self.properties.wire_len(trim);
        if self.reason_code == AuthReasonCode::Success && props == 1 {
            return Ok(0);
        }
        if self.properties.authentication_method.is_none() {
            return Err(EncodeError::invalid(
                "AUTH without an Authentication Method",
                None,
            ));
        }
        Ok(1 + props)
    }

    fn put_body<B: BufMut + ?Sized>(&self, _version: ProtocolVersion, trim: Trim, buf: &mut B) {
        if self.reason_code == AuthReasonCode::Success && self.properties.wire_len(trim) == 1 {
            return;
        }
        buf.put_u8(self.reason_code.code());
        self.properties.put(buf, trim);
    }
}
