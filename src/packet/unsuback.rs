//! UNSUBACK: the server's answer to UNSUBSCRIBE (MQTT 5.0 section 3.11, 3.1.1 section 3.11).
//!
//! ```text
//! fixed header    0xB0, Remaining Length (3.1.1: always 2)
//! variable header Packet Identifier two-byte integer
//!                 Properties        (5.0 only)
//! payload         (5.0 only) one reason code byte per topic filter, in order
//! ```

use super::{v5_only, EncodeBody};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
#[cfg(feature = "alloc")]
use crate::properties::AckProperties;
use crate::properties::AckPropertiesRef;
use crate::types::reason_code::UnsubAckReasonCode;
use crate::types::PacketType;
use crate::types::{PacketId, ProtocolVersion};
use crate::wire::reader::Reader;
use crate::wire::writer::Sink;
use crate::wire::Trim;
#[cfg(feature = "alloc")]
use alloc::vec::Vec;
#[cfg(feature = "alloc")]
use bytes::Bytes;

#[cfg(feature = "alloc")]
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

#[cfg(feature = "alloc")]
impl UnsubAck {
    /// An UNSUBACK without properties.
    #[must_use]
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
}

/// UNSUBACK as a borrowed view of the received bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsubAckRef<'a> {
    /// The UNSUBSCRIBE's packet identifier.
    pub packet_id: PacketId,
    /// One code per filter, in order (MQTT 5.0, at least one); empty below 5.0.
    pub reason_codes: UnsubAckCodesRef<'a>,
    /// Properties (MQTT 5.0).
    pub properties: AckPropertiesRef<'a>,
}

reason_code_list!(
    /// The reason codes of an [`UnsubAckRef`].
    UnsubAckCodesRef,
    UnsubAckCodesIter,
    UnsubAckReasonCode
);

impl<'a> UnsubAckRef<'a> {
    pub(crate) fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let packet_id = r.packet_id(PacketType::UnsubAck)?;
        if !r.version.is_v5() {
            return Ok(Self {
                packet_id,
                reason_codes: UnsubAckCodesRef::default(),
                properties: AckPropertiesRef::default(),
            });
        }
        let properties = AckPropertiesRef::decode(r)?;
        let codes = r.rest();
        for &code in codes {
            UnsubAckReasonCode::from_code(code).ok_or_else(|| {
                DecodeError::new(DecodeErrorKind::InvalidReasonCode { code })
                    .with_rule("MQTT-3.11.3-2")
            })?;
        }
        if codes.is_empty() {
            return Err(DecodeErrorKind::NoReasonCodes.into());
        }
        Ok(Self {
            packet_id,
            reason_codes: UnsubAckCodesRef::from_wire(codes),
            properties,
        })
    }
}

#[cfg(feature = "alloc")]
impl UnsubAck {
    /// The packet as a borrowed view of its own fields.
    #[must_use]
    pub fn as_view(&self) -> UnsubAckRef<'_> {
        UnsubAckRef {
            packet_id: self.packet_id,
            reason_codes: UnsubAckCodesRef::from_codes(&self.reason_codes),
            properties: self.properties.as_view(),
        }
    }

    /// The owned packet whose fields are `view`'s, sliced from `frame`, which holds them.
    pub(crate) fn from_view(view: &UnsubAckRef<'_>, frame: &Bytes) -> Self {
        Self {
            packet_id: view.packet_id,
            reason_codes: view.reason_codes.iter().collect(),
            properties: AckProperties::from_view(&view.properties, frame),
        }
    }
}

impl EncodeBody for UnsubAckRef<'_> {
    const TYPE: PacketType = PacketType::UnsubAck;

    fn body_len(&self, version: ProtocolVersion, trim: Trim) -> Result<usize, EncodeError> {
        if !version.is_v5() {
            v5_only(version, self.properties.is_empty(), "UNSUBACK properties")?;
            if self
                .reason_codes
                .iter()
                .any(|c| c != UnsubAckReasonCode::Success)
            {
                return Err(EncodeError::UnsupportedInVersion {
                    what: "UNSUBACK reason codes",
                    version,
                });
            }
            return Ok(2);
        }
        if self.reason_codes.is_empty() {
            return Err(EncodeError::invalid("UNSUBACK without a reason code", None));
        }
        self.properties.check()?;
        Ok(2 + self.properties.wire_len(trim) + self.reason_codes.len())
    }

    fn put_body<B: Sink + ?Sized>(&self, version: ProtocolVersion, trim: Trim, buf: &mut B) {
        buf.put_u16(self.packet_id.get());
        if version.is_v5() {
            self.properties.put(buf, trim);
            for code in self.reason_codes.iter() {
                buf.put_u8(code.code());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DecodeErrorKind as K;
    use crate::packet::test_util::{
        ack_props, both_ways, decode, encode, encode_limited, hex, pid, rejects, M, P, V3, V4, V5,
    };
    use crate::Packet;
    use UnsubAckReasonCode as C;

    fn unsuback(id: u16, codes: &[C]) -> UnsubAck {
        UnsubAck::new(pid(id), codes.to_vec())
    }

    // ---- byte vectors -------------------------------------------------------------------

    #[test]
    fn packet_id_alone_at_3_1_and_3_1_1() {
        for v in [V3, V4] {
            both_ways("B0 02 00 09", v, &Packet::UnsubAck(unsuback(9, &[])));
            // Success codes have no 3.1.1 form: the encoder leaves them out.
            let packet = Packet::UnsubAck(unsuback(9, &[C::Success, C::Success]));
            assert_eq!(encode(&packet, v).unwrap(), hex("B0 02 00 09"));
        }
    }

    #[test]
    fn reason_codes_after_empty_properties_at_5_0() {
        let packet = unsuback(9, &[C::NoSubscriptionExisted]);
        both_ways("B0 04 00 09 00 11", V5, &Packet::UnsubAck(packet));
        let packet = unsuback(1, &[C::Success, C::NoSubscriptionExisted]);
        both_ways("B0 05 00 01 00 00 11", V5, &Packet::UnsubAck(packet));
    }

    #[test]
    fn reason_string_at_5_0() {
        // 1F 00 01 78 = 4 bytes of properties: body 2 + 1 + 4 + 1.
        let mut packet = unsuback(1, &[C::NotAuthorized]);
        packet.properties = ack_props(Some("x"), &[]);
        both_ways(
            "B0 08 00 01 04 1F 00 01 78 87",
            V5,
            &Packet::UnsubAck(packet),
        );
    }

    #[test]
    fn every_code_of_table_3_9_decodes_and_no_other() {
        let codes = [0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91];
        for code in 0..=255u8 {
            let result = decode(&[0xB0, 0x04, 0x00, 0x01, 0x00, code], V5);
            assert_eq!(result.is_ok(), codes.contains(&code), "{code:02X}");
        }
    }

    // ---- rejected input -----------------------------------------------------------------

    #[test]
    fn rejects_unsuback_with_flags_set_mqtt_2_1_3_1_and_3_1_1_mqtt_2_2_2_1() {
        let kind = K::InvalidFlags { flags: 2 };
        rejects("B2 02 00 01", V4, kind.clone(), M, Some("MQTT-2.2.2-1"));
        rejects("B2 04 00 01 00 00", V5, kind, M, Some("MQTT-2.1.3-1"));
    }

    /// It carries its request's identifier, never 0: 5.0 [MQTT-2.2.1-6], 3.1.1 [MQTT-2.3.1-7].
    #[test]
    fn rejects_packet_id_0_mqtt_2_2_1_6_and_3_1_1_mqtt_2_3_1_7() {
        rejects("B0 02 00 00", V4, K::ZeroPacketId, M, Some("MQTT-2.3.1-7"));
        rejects(
            "B0 04 00 00 00 00",
            V5,
            K::ZeroPacketId,
            M,
            Some("MQTT-2.2.1-6"),
        );
    }

    #[test]
    fn rejects_3_1_1_unsuback_with_payload() {
        // 3.1.1 section 3.11: the Remaining Length is 2 (untagged).
        rejects("B0 03 00 01 00", V4, K::TrailingBytes { count: 1 }, M, None);
        rejects("B0 03 00 01 00", V3, K::TrailingBytes { count: 1 }, M, None);
    }

    #[test]
    fn rejects_5_0_unsuback_without_reason_codes() {
        rejects("B0 03 00 01 00", V5, K::NoReasonCodes, M, None);
        let kind = K::UnexpectedEnd {
            field: "property length",
        };
        rejects("B0 02 00 01", V5, kind, M, None);
    }

    #[test]
    fn rejects_unsuback_code_outside_table_3_9_mqtt_3_11_3_2() {
        let kind = K::InvalidReasonCode { code: 0x02 };
        rejects("B0 04 00 01 00 02", V5, kind, P, Some("MQTT-3.11.3-2"));
    }

    #[test]
    fn rejects_properties_unsuback_may_not_carry() {
        let kind = K::PropertyNotAllowed { id: 0x23 };
        rejects("B0 07 00 01 03 23 00 01 00", V5, kind, M, None);
    }

    // ---- encoder ------------------------------------------------------------------------

    #[test]
    fn refuses_5_0_codes_and_properties_below_5_0() {
        let packet = Packet::UnsubAck(unsuback(1, &[C::Success, C::NoSubscriptionExisted]));
        for v in [V3, V4] {
            assert_eq!(
                encode(&packet, v),
                Err(EncodeError::UnsupportedInVersion {
                    what: "UNSUBACK reason codes",
                    version: v,
                })
            );
        }
        let mut packet = unsuback(1, &[]);
        packet.properties = ack_props(None, &[("k", "v")]);
        assert_eq!(
            encode(&Packet::UnsubAck(packet), V4),
            Err(EncodeError::UnsupportedInVersion {
                what: "UNSUBACK properties",
                version: V4,
            })
        );
    }

    #[test]
    fn refuses_5_0_unsuback_without_reason_codes() {
        let packet = Packet::UnsubAck(unsuback(1, &[]));
        assert_eq!(
            encode(&packet, V5),
            Err(EncodeError::invalid("UNSUBACK without a reason code", None))
        );
    }

    #[test]
    fn encode_with_limit_drops_reason_string_then_user_properties_mqtt_3_11_2_1_and_2() {
        // Properties 9 + 7 = 16: body 2 + 1 + 16 + 2 = 21, 23 bytes; without the Reason
        // String 14 bytes; without both 7 bytes. The reason codes always stay.
        let mut packet = unsuback(1, &[C::Success, C::NotAuthorized]);
        packet.properties = ack_props(Some("denied"), &[("k", "v")]);
        let packet = Packet::UnsubAck(packet);
        let full = hex("B0 15 00 01 10 1F 00 06 64 65 6E 69 65 64 26 00 01 6B 00 01 76 00 87");
        let no_reason_string = hex("B0 0C 00 01 07 26 00 01 6B 00 01 76 00 87");
        let bare = hex("B0 05 00 01 00 00 87");
        assert_eq!(encode(&packet, V5).unwrap(), full);
        assert_eq!(encode_limited(&packet, V5, 23).unwrap(), full);
        assert_eq!(encode_limited(&packet, V5, 22).unwrap(), no_reason_string);
        assert_eq!(encode_limited(&packet, V5, 13).unwrap(), bare);
        assert_eq!(
            encode_limited(&packet, V5, 6),
            Err(EncodeError::PacketTooLarge { size: 7, max: 6 })
        );
    }
}
