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
            return Err(EncodeError::invalid("UNSUBACK without a reason code", None));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DecodeErrorKind as K;
    use crate::properties::UserProperties;
    use crate::types::MqttString;
    use crate::{Packet, ReasonCode};
    use alloc::vec;
    use bytes::Bytes;
    use UnsubAckReasonCode as C;

    const V3: ProtocolVersion = ProtocolVersion::V3_1;
    const V4: ProtocolVersion = ProtocolVersion::V3_1_1;
    const V5: ProtocolVersion = ProtocolVersion::V5;
    const M: ReasonCode = ReasonCode::MALFORMED_PACKET;
    const P: ReasonCode = ReasonCode::PROTOCOL_ERROR;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    fn pid(n: u16) -> PacketId {
        PacketId::new(n).unwrap()
    }

    /// Decodes one whole packet, from `Bytes` and from a slice alike.
    fn decode(bytes: &[u8], version: ProtocolVersion) -> Result<Packet, DecodeError> {
        let shared = Packet::decode(&Bytes::copy_from_slice(bytes), version);
        assert_eq!(shared, Packet::decode_slice(bytes, version));
        let (packet, used) = shared?;
        assert_eq!(used, bytes.len());
        assert_eq!(packet.detach(), packet);
        Ok(packet)
    }

    /// Encodes into a slice of 0xAA sentinels longer than needed; checks that exactly
    /// `encoded_len` bytes were written and nothing at all on error.
    fn encode(packet: &Packet, version: ProtocolVersion) -> Result<Vec<u8>, EncodeError> {
        let len = packet.encoded_len(version);
        let mut buf = vec![0xAA; len.clone().unwrap_or(0) + 8];
        let mut out = &mut buf[..];
        let result = packet.encode(version, &mut out);
        let left = out.len();
        let written = buf.len() - left;
        match (result, len) {
            (Ok(n), Ok(len)) => {
                assert_eq!((n, written), (len, len));
                assert!(buf[n..].iter().all(|&b| b == 0xAA), "wrote past the end");
                buf.truncate(n);
                Ok(buf)
            }
            (Err(e), Err(len_err)) => {
                assert_eq!(e, len_err);
                assert!(buf.iter().all(|&b| b == 0xAA), "wrote on error");
                Err(e)
            }
            (r, l) => panic!("encode gave {r:?}, encoded_len {l:?}"),
        }
    }

    /// `encode_with_limit` into a sentinel slice; nothing may be written on error.
    fn encode_limited(
        packet: &Packet,
        version: ProtocolVersion,
        max: usize,
    ) -> Result<Vec<u8>, EncodeError> {
        let mut buf = vec![0xAA; max + 8];
        let mut out = &mut buf[..];
        let result = packet.encode_with_limit(version, max, &mut out);
        let left = out.len();
        let written = buf.len() - left;
        match result {
            Ok(n) => {
                assert_eq!(n, written);
                assert!(n <= max);
                assert!(buf[n..].iter().all(|&b| b == 0xAA), "wrote past the end");
                buf.truncate(n);
                Ok(buf)
            }
            Err(e) => {
                assert!(buf.iter().all(|&b| b == 0xAA), "wrote on error");
                Err(e)
            }
        }
    }

    #[track_caller]
    fn both_ways(bytes: &str, version: ProtocolVersion, packet: Packet) {
        let bytes = hex(bytes);
        let decoded = decode(&bytes, version).unwrap();
        assert_eq!(decoded, packet, "decode at {version}");
        assert_eq!(
            encode(&packet, version).unwrap(),
            bytes,
            "encode at {version}"
        );
        assert_eq!(
            encode(&decoded, version).unwrap(),
            bytes,
            "re-encode at {version}"
        );
    }

    #[track_caller]
    fn rejects(
        bytes: &str,
        version: ProtocolVersion,
        kind: K,
        reason: ReasonCode,
        rule: Option<&str>,
    ) {
        let bytes = hex(bytes);
        let err = decode(&bytes, version).unwrap_err();
        assert_eq!(err.kind(), &kind, "{bytes:02X?} at {version}");
        assert_eq!(err.reason_code(), reason, "{bytes:02X?} at {version}");
        assert_eq!(err.rule(), rule, "{bytes:02X?} at {version}");
        assert_eq!(err.packet_type(), Some(PacketType::UnsubAck));
    }

    fn unsuback(id: u16, codes: &[C]) -> UnsubAck {
        UnsubAck::new(pid(id), codes.to_vec())
    }

    fn props(reason_string: Option<&str>, user: &[(&str, &str)]) -> AckProperties {
        AckProperties {
            reason_string: reason_string.map(|s| MqttString::new(s).unwrap()),
            user_properties: UserProperties::from_pairs(user.iter().copied()).unwrap(),
        }
    }

    // ---- byte vectors -------------------------------------------------------------------

    #[test]
    fn packet_id_alone_at_3_1_and_3_1_1() {
        for v in [V3, V4] {
            both_ways("B0 02 00 09", v, Packet::UnsubAck(unsuback(9, &[])));
            // Success codes have no 3.1.1 form: the encoder leaves them out.
            let packet = Packet::UnsubAck(unsuback(9, &[C::Success, C::Success]));
            assert_eq!(encode(&packet, v).unwrap(), hex("B0 02 00 09"));
        }
    }

    #[test]
    fn reason_codes_after_empty_properties_at_5_0() {
        let packet = unsuback(9, &[C::NoSubscriptionExisted]);
        both_ways("B0 04 00 09 00 11", V5, Packet::UnsubAck(packet));
        let packet = unsuback(1, &[C::Success, C::NoSubscriptionExisted]);
        both_ways("B0 05 00 01 00 00 11", V5, Packet::UnsubAck(packet));
    }

    #[test]
    fn reason_string_at_5_0() {
        // 1F 00 01 78 = 4 bytes of properties: body 2 + 1 + 4 + 1.
        let mut packet = unsuback(1, &[C::NotAuthorized]);
        packet.properties = props(Some("x"), &[]);
        both_ways(
            "B0 08 00 01 04 1F 00 01 78 87",
            V5,
            Packet::UnsubAck(packet),
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

    #[test]
    fn rejects_packet_id_0_mqtt_2_2_1_3_and_3_1_1_mqtt_2_3_1_1() {
        rejects("B0 02 00 00", V4, K::ZeroPacketId, M, Some("MQTT-2.3.1-1"));
        rejects(
            "B0 04 00 00 00 00",
            V5,
            K::ZeroPacketId,
            M,
            Some("MQTT-2.2.1-3"),
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
        packet.properties = props(None, &[("k", "v")]);
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
        packet.properties = props(Some("denied"), &[("k", "v")]);
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
