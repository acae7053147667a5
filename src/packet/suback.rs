//! SUBACK: the server's answer to SUBSCRIBE (MQTT 5.0 section 3.9, 3.1.1 section 3.9).
//!
//! ```text
//! fixed header    0x90, Remaining Length
//! variable header Packet Identifier two-byte integer
//!                 Properties        (5.0 only)
//! payload         one reason code byte per topic filter, in the SUBSCRIBE's order
//! ```

use super::{v5_only, EncodeBody};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
#[cfg(feature = "alloc")]
use crate::properties::AckProperties;
use crate::properties::AckPropertiesRef;
use crate::types::reason_code::SubAckReasonCode;
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

#[cfg(feature = "alloc")]
impl SubAck {
    /// A SUBACK without properties.
    #[must_use]
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
}

/// SUBACK as a borrowed view of the received bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubAckRef<'a> {
    /// The SUBSCRIBE's packet identifier.
    pub packet_id: PacketId,
    /// One code per filter, in order; at least one.
    pub reason_codes: SubAckCodesRef<'a>,
    /// Properties (MQTT 5.0).
    pub properties: AckPropertiesRef<'a>,
}

reason_code_list!(
    /// The reason codes of a [`SubAckRef`].
    SubAckCodesRef,
    SubAckCodesIter,
    SubAckReasonCode
);

impl<'a> SubAckRef<'a> {
    pub(crate) fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let packet_id = r.packet_id(PacketType::SubAck)?;
        let properties = if r.version.is_v5() {
            AckPropertiesRef::decode(r)?
        } else {
            AckPropertiesRef::default()
        };
        let codes = r.rest();
        for &code in codes {
            SubAckReasonCode::from_code(code)
                .filter(|&c| allowed(c, r.version))
                .ok_or_else(|| {
                    DecodeError::new(DecodeErrorKind::InvalidReasonCode { code })
                        .with_rule("MQTT-3.9.3-2")
                })?;
        }
        if codes.is_empty() {
            return Err(DecodeErrorKind::NoReasonCodes.into());
        }
        Ok(Self {
            packet_id,
            reason_codes: SubAckCodesRef::from_wire(codes),
            properties,
        })
    }
}

#[cfg(feature = "alloc")]
impl SubAck {
    /// The packet as a borrowed view of its own fields.
    #[must_use]
    pub fn as_view(&self) -> SubAckRef<'_> {
        SubAckRef {
            packet_id: self.packet_id,
            reason_codes: SubAckCodesRef::from_codes(&self.reason_codes),
            properties: self.properties.as_view(),
        }
    }

    /// The owned packet whose fields are `view`'s, sliced from `frame`, which holds them.
    pub(crate) fn from_view(view: &SubAckRef<'_>, frame: &Bytes) -> Self {
        Self {
            packet_id: view.packet_id,
            reason_codes: view.reason_codes.iter().collect(),
            properties: AckProperties::from_view(&view.properties, frame),
        }
    }
}

/// Whether `version` can carry `code`: 5.0 all of Table 3-8; 3.1.1 the grants and 0x80
/// ([MQTT-3.9.3-2]); 3.1 only the grants, its failure code came with 3.1.1.
fn allowed(code: SubAckReasonCode, version: ProtocolVersion) -> bool {
    match version {
        ProtocolVersion::V5 => true,
        ProtocolVersion::V3_1_1 => code.is_v3(),
        ProtocolVersion::V3_1 => code.is_v3() && code != SubAckReasonCode::UnspecifiedError,
    }
}

impl EncodeBody for SubAckRef<'_> {
    const TYPE: PacketType = PacketType::SubAck;

    fn body_len(&self, version: ProtocolVersion, trim: Trim) -> Result<usize, EncodeError> {
        if self.reason_codes.is_empty() {
            return Err(EncodeError::invalid("SUBACK without a reason code", None));
        }
        if !version.is_v5() {
            v5_only(version, self.properties.is_empty(), "SUBACK properties")?;
            if !self.reason_codes.iter().all(|c| allowed(c, version)) {
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

    fn put_body<B: Sink + ?Sized>(&self, version: ProtocolVersion, trim: Trim, buf: &mut B) {
        buf.put_u16(self.packet_id.get());
        if version.is_v5() {
            self.properties.put(buf, trim);
        }
        for code in self.reason_codes.iter() {
            buf.put_u8(code.code());
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
    use SubAckReasonCode as C;

    fn suback(id: u16, codes: &[C]) -> SubAck {
        SubAck::new(pid(id), codes.to_vec())
    }

    // ---- byte vectors -------------------------------------------------------------------

    #[test]
    fn return_codes_at_3_1_and_3_1_1() {
        for v in [V3, V4] {
            both_ways(
                "90 03 00 07 01",
                v,
                &Packet::SubAck(suback(7, &[C::GrantedQoS1])),
            );
            let grants = [C::GrantedQoS0, C::GrantedQoS1, C::GrantedQoS2];
            both_ways(
                "90 05 00 01 00 01 02",
                v,
                &Packet::SubAck(suback(1, &grants)),
            );
        }
        // 3.1.1 added the failure code 0x80 ([MQTT-3.9.3-2]).
        let codes = [
            C::GrantedQoS0,
            C::GrantedQoS1,
            C::GrantedQoS2,
            C::UnspecifiedError,
        ];
        both_ways(
            "90 06 00 01 00 01 02 80",
            V4,
            &Packet::SubAck(suback(1, &codes)),
        );
    }

    /// MQTT 3.1's SUBACK grants QoS 0 to 2 and has no failure code: 0x80 came with 3.1.1.
    #[test]
    fn rejects_failure_code_at_3_1() {
        let kind = K::InvalidReasonCode { code: 0x80 };
        rejects("90 03 00 01 80", V3, kind, P, Some("MQTT-3.9.3-2"));
        let packet = Packet::SubAck(suback(1, &[C::UnspecifiedError]));
        assert_eq!(
            encode(&packet, V3),
            Err(EncodeError::UnsupportedInVersion {
                what: "this SUBACK reason code",
                version: V3,
            })
        );
    }

    #[test]
    fn reason_codes_after_empty_properties_at_5_0() {
        both_ways(
            "90 04 00 01 00 01",
            V5,
            &Packet::SubAck(suback(1, &[C::GrantedQoS1])),
        );
        let codes = [
            C::GrantedQoS0,
            C::UnspecifiedError,
            C::WildcardSubscriptionsNotSupported,
            C::SharedSubscriptionsNotSupported,
        ];
        both_ways(
            "90 07 00 01 00 00 80 A2 9E",
            V5,
            &Packet::SubAck(suback(1, &codes)),
        );
    }

    #[test]
    fn reason_string_and_user_property_at_5_0() {
        // 1F 00 01 78 (4) + 26 00 01 6B 00 01 76 (7) = 11 bytes of properties.
        let mut packet = suback(1, &[C::NotAuthorized]);
        packet.properties = ack_props(Some("x"), &[("k", "v")]);
        both_ways(
            "90 0F 00 01 0B 1F 00 01 78 26 00 01 6B 00 01 76 87",
            V5,
            &Packet::SubAck(packet),
        );
    }

    #[test]
    fn every_code_of_table_3_8_decodes_and_no_other() {
        let v5_codes = [
            0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2,
        ];
        let v3_codes = [0x00, 0x01, 0x02, 0x80];
        for code in 0..=255u8 {
            let at5 = decode(&[0x90, 0x04, 0x00, 0x01, 0x00, code], V5);
            assert_eq!(at5.is_ok(), v5_codes.contains(&code), "{code:02X} at 5.0");
            let at4 = decode(&[0x90, 0x03, 0x00, 0x01, code], V4);
            assert_eq!(at4.is_ok(), v3_codes.contains(&code), "{code:02X} at 3.1.1");
        }
    }

    // ---- rejected input -----------------------------------------------------------------

    #[test]
    fn rejects_suback_with_flags_set_mqtt_2_1_3_1_and_3_1_1_mqtt_2_2_2_1() {
        let kind = K::InvalidFlags { flags: 2 };
        rejects("92 03 00 01 00", V4, kind.clone(), M, Some("MQTT-2.2.2-1"));
        rejects("92 04 00 01 00 00", V5, kind, M, Some("MQTT-2.1.3-1"));
    }

    /// It carries its request's identifier, never 0: 5.0 [MQTT-2.2.1-6], 3.1.1 [MQTT-2.3.1-7].
    #[test]
    fn rejects_packet_id_0_mqtt_2_2_1_6_and_3_1_1_mqtt_2_3_1_7() {
        rejects(
            "90 03 00 00 00",
            V4,
            K::ZeroPacketId,
            M,
            Some("MQTT-2.3.1-7"),
        );
        rejects(
            "90 04 00 00 00 00",
            V5,
            K::ZeroPacketId,
            M,
            Some("MQTT-2.2.1-6"),
        );
    }

    #[test]
    fn rejects_suback_code_outside_table_3_8_mqtt_3_9_3_2() {
        let kind = K::InvalidReasonCode { code: 0x11 };
        rejects("90 04 00 01 00 11", V5, kind, P, Some("MQTT-3.9.3-2"));
    }

    #[test]
    fn rejects_3_1_1_return_code_outside_00_01_02_80_mqtt_3_9_3_2() {
        let kind = K::InvalidReasonCode { code: 0x03 };
        rejects("90 03 00 01 03", V4, kind, P, Some("MQTT-3.9.3-2"));
        // A 5.0-only code is no 3.1.1 return code.
        let kind = K::InvalidReasonCode { code: 0x87 };
        rejects("90 04 00 01 00 87", V4, kind, P, Some("MQTT-3.9.3-2"));
    }

    #[test]
    fn rejects_suback_without_reason_codes() {
        // 5.0 section 3.9.3 and 3.1.1 section 3.9.3: one code per filter, and a SUBSCRIBE
        // has at least one.
        rejects("90 03 00 01 00", V5, K::NoReasonCodes, M, None);
        rejects("90 02 00 01", V4, K::NoReasonCodes, M, None);
    }

    #[test]
    fn rejects_5_0_suback_without_property_length() {
        let kind = K::UnexpectedEnd {
            field: "property length",
        };
        rejects("90 02 00 01", V5, kind, M, None);
    }

    #[test]
    fn rejects_properties_suback_may_not_carry() {
        // Topic Alias, Subscription Identifier: Malformed Packet (section 2.2.2.2).
        let kind = K::PropertyNotAllowed { id: 0x23 };
        rejects("90 07 00 01 03 23 00 01 00", V5, kind, M, None);
        let kind = K::PropertyNotAllowed { id: 0x0B };
        rejects("90 06 00 01 02 0B 01 00", V5, kind, M, None);
    }

    #[test]
    fn rejects_two_reason_strings() {
        let kind = K::DuplicateProperty { id: 0x1F };
        rejects(
            "90 0C 00 01 08 1F 00 01 61 1F 00 01 62 00",
            V5,
            kind,
            P,
            None,
        );
    }

    // ---- encoder ------------------------------------------------------------------------

    #[test]
    fn refuses_5_0_codes_and_properties_below_5_0_mqtt_3_9_3_2() {
        let packet = Packet::SubAck(suback(1, &[C::GrantedQoS1, C::NotAuthorized]));
        for v in [V3, V4] {
            assert_eq!(
                encode(&packet, v),
                Err(EncodeError::UnsupportedInVersion {
                    what: "this SUBACK reason code",
                    version: v,
                })
            );
        }
        assert_eq!(encode(&packet, V5).unwrap(), hex("90 05 00 01 00 01 87"));

        let mut packet = suback(1, &[C::GrantedQoS1]);
        packet.properties = ack_props(Some("x"), &[]);
        assert_eq!(
            encode(&Packet::SubAck(packet), V4),
            Err(EncodeError::UnsupportedInVersion {
                what: "SUBACK properties",
                version: V4,
            })
        );
    }

    #[test]
    fn refuses_suback_without_reason_codes() {
        let packet = Packet::SubAck(suback(1, &[]));
        for v in [V3, V4, V5] {
            assert_eq!(
                encode(&packet, v),
                Err(EncodeError::invalid("SUBACK without a reason code", None))
            );
        }
    }

    #[test]
    fn encode_with_limit_drops_reason_string_then_user_properties_mqtt_3_9_2_1_and_2() {
        // Reason String "denied" (9) + User Property (k, v) (7) = 16 bytes of properties:
        // body 2 + 1 + 16 + 2 = 21, 23 bytes; without the Reason String body 12, 14 bytes;
        // without both body 5, 7 bytes. The reason codes always stay.
        let mut packet = suback(1, &[C::GrantedQoS1, C::NotAuthorized]);
        packet.properties = ack_props(Some("denied"), &[("k", "v")]);
        let packet = Packet::SubAck(packet);
        let full = hex("90 15 00 01 10 1F 00 06 64 65 6E 69 65 64 26 00 01 6B 00 01 76 01 87");
        let no_reason_string = hex("90 0C 00 01 07 26 00 01 6B 00 01 76 01 87");
        let bare = hex("90 05 00 01 00 01 87");
        assert_eq!(encode(&packet, V5).unwrap(), full);
        assert_eq!(encode_limited(&packet, V5, 23).unwrap(), full);
        assert_eq!(encode_limited(&packet, V5, 22).unwrap(), no_reason_string);
        assert_eq!(encode_limited(&packet, V5, 14).unwrap(), no_reason_string);
        assert_eq!(encode_limited(&packet, V5, 13).unwrap(), bare);
        assert_eq!(encode_limited(&packet, V5, 7).unwrap(), bare);
        assert_eq!(
            encode_limited(&packet, V5, 6),
            Err(EncodeError::PacketTooLarge { size: 7, max: 6 })
        );
    }
}
