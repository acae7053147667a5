//! PUBACK, PUBREC, PUBREL and PUBCOMP: the acknowledgements of the QoS 1 and QoS 2 flows
//! (MQTT 5.0 sections 3.4 to 3.7, 3.1.1 sections 3.4 to 3.7). They share one shape.
//!
//! ```text
//! fixed header    0x40 PUBACK, 0x50 PUBREC, 0x62 PUBREL, 0x70 PUBCOMP; Remaining Length
//! variable header Packet Identifier two-byte integer
//!                 Reason Code       byte       (5.0; absent when Remaining Length is 2: Success)
//!                 Properties                   (5.0; absent when Remaining Length is below 4)
//! ```
//!
//! MQTT 3.1.1 acknowledgements are always exactly the packet identifier.

use super::EncodeBody;
use crate::codec::reader::Reader;
use crate::codec::Trim;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::packet::PacketType;
use crate::properties::AckProperties;
use crate::types::reason_code::{PubAckReasonCode, PubRelReasonCode};
use crate::types::{PacketId, ProtocolVersion};
use bytes::BufMut;

macro_rules! ack_packet {
    (
        $(#[$meta:meta])*
        $name:ident, $reason:ident, $packet_type:ident, flags = $flags:literal, rule = $rule:literal
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            /// The packet identifier of the PUBLISH this acknowledges.
            pub packet_id: PacketId,
            /// The reason code (MQTT 5.0); `Success` below 5.0.
            pub reason_code: $reason,
            /// Properties (MQTT 5.0).
            pub properties: AckProperties,
        }

        impl $name {
            /// A successful acknowledgement of `packet_id`, without properties.
            pub fn new(packet_id: PacketId) -> Self {
                Self {
                    packet_id,
                    reason_code: $reason::Success,
                    properties: AckProperties::default(),
                }
            }

            pub(crate) fn detach(&self) -> Self {
                Self {
                    properties: self.properties.detach(),
                    ..*self
                }
            }

            pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                let packet_id = r.packet_id(PacketType::$packet_type)?;
                let mut ack = Self::new(packet_id);
                // 5.0 short forms: Remaining Length 2 means Success and no properties,
                // 3 means a reason code and no properties.
                if r.version.is_v5() && r.has_remaining() {
                    let code = r.u8("reason code")?;
                    ack.reason_code = $reason::from_code(code).ok_or_else(|| {
                        DecodeError::new(DecodeErrorKind::InvalidReasonCode { code })
                            .with_rule($rule)
                    })?;
                    if r.has_remaining() {
                        ack.properties = AckProperties::decode(r)?;
                    }
                }
                Ok(ack)
            }
        }

        impl EncodeBody for $name {
            fn flags(&self) -> u8 {
                $flags
            }

            fn body_len(&self, version: ProtocolVersion, trim: Trim) -> Result<usize, EncodeError> {
                if !version.is_v5() {
                    if self.reason_code != $reason::Success || !self.properties.is_empty() {
                        return Err(EncodeError::UnsupportedInVersion {
                            what: concat!(stringify!($packet_type), " reason code or properties"),
                            version,
                        });
                    }
                    return Ok(2);
                }
                self.properties.check()?;
                let props = self.properties.wire_len(trim);
                Ok(match (self.reason_code, props) {
                    ($reason::Success, 1) => 2,
                    (_, 1) => 3,
                    _ => 3 + props,
                })
            }

            fn put_body<B: BufMut + ?Sized>(&self, version: ProtocolVersion, trim: Trim, buf: &mut B) {
                buf.put_u16(self.packet_id.get());
                if !version.is_v5() {
                    return;
                }
                // An empty property set is the single byte 0: then the short forms apply.
                let has_props = self.properties.wire_len(trim) > 1;
                if has_props || self.reason_code != $reason::Success {
                    buf.put_u8(self.reason_code.code());
                }
                if has_props {
                    self.properties.put(buf, trim);
                }
            }
        }
    };
}

ack_packet! {
    /// PUBACK: the answer to a QoS 1 PUBLISH.
    PubAck, PubAckReasonCode, PubAck, flags = 0, rule = "MQTT-3.4.2-1"
}

ack_packet! {
    /// PUBREC: the first answer to a QoS 2 PUBLISH. A failure code ends the exchange.
    PubRec, PubAckReasonCode, PubRec, flags = 0, rule = "MQTT-3.5.2-1"
}

ack_packet! {
    /// PUBREL: the sender's answer to PUBREC. Its fixed header flags are `0010`.
    PubRel, PubRelReasonCode, PubRel, flags = 0b0010, rule = "MQTT-3.6.2-1"
}

ack_packet! {
    /// PUBCOMP: the receiver's answer to PUBREL, which ends a QoS 2 exchange.
    PubComp, PubRelReasonCode, PubComp, flags = 0, rule = "MQTT-3.7.2-1"
}
