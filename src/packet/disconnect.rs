//! DISCONNECT: the last packet on a connection (MQTT 5.0 section 3.14, 3.1.1 section 3.14).
//!
//! ```text
//! fixed header    0xE0, Remaining Length (3.1.1: always 0)
//! variable header Reason Code  byte (5.0; absent when Remaining Length is 0: Normal disconnection)
//!                 Properties   (5.0; absent when Remaining Length is below 2)
//! ```

use super::EncodeBody;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
#[cfg(feature = "alloc")]
use crate::properties::DisconnectProperties;
use crate::properties::DisconnectPropertiesRef;
use crate::types::reason_code::DisconnectReasonCode;
use crate::types::PacketType;
use crate::types::ProtocolVersion;
use crate::wire::reader::Reader;
use crate::wire::writer::Sink;
use crate::wire::Trim;
#[cfg(feature = "alloc")]
use bytes::Bytes;

#[cfg(feature = "alloc")]
/// DISCONNECT: why the connection ends. In 3.1.1 only the client sends it, and it is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Disconnect {
    /// The reason code (MQTT 5.0); `NormalDisconnection` below 5.0.
    pub reason_code: DisconnectReasonCode,
    /// Properties (MQTT 5.0).
    pub properties: DisconnectProperties,
}

#[cfg(feature = "alloc")]
impl Disconnect {
    /// A DISCONNECT with `reason_code` and no properties.
    #[must_use]
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
}

/// [`Disconnect`] as a borrowed view of the received bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DisconnectRef<'a> {
    /// The reason code (MQTT 5.0); `NormalDisconnection` below 5.0.
    pub reason_code: DisconnectReasonCode,
    /// Properties (MQTT 5.0).
    pub properties: DisconnectPropertiesRef<'a>,
}

impl<'a> DisconnectRef<'a> {
    pub(crate) fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let mut disconnect = Self::default();
        // 5.0 short forms: Remaining Length 0 is a normal disconnection, 1 a bare reason code.
        if r.version.is_v5() && r.has_remaining() {
            let code = r.u8("reason code")?;
            disconnect.reason_code = DisconnectReasonCode::from_code(code).ok_or_else(|| {
                DecodeError::new(DecodeErrorKind::InvalidReasonCode { code })
                    .with_rule("MQTT-3.14.2-1")
            })?;
            if r.has_remaining() {
                disconnect.properties = DisconnectPropertiesRef::decode(r)?;
            }
        }
        Ok(disconnect)
    }
}

#[cfg(feature = "alloc")]
impl Disconnect {
    /// The owned packet whose fields are `view`'s, sliced from `frame`, which holds them.
    pub(crate) fn from_view(view: &DisconnectRef<'_>, frame: &Bytes) -> Self {
        Self {
            reason_code: view.reason_code,
            properties: DisconnectProperties::from_view(&view.properties, frame),
        }
    }

    /// The packet as a borrowed view of its own fields.
    #[must_use]
    pub fn as_view(&self) -> DisconnectRef<'_> {
        DisconnectRef {
            reason_code: self.reason_code,
            properties: self.properties.as_view(),
        }
    }
}

impl EncodeBody for DisconnectRef<'_> {
    const TYPE: PacketType = PacketType::Disconnect;

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

    fn put_body<B: Sink + ?Sized>(&self, version: ProtocolVersion, trim: Trim, buf: &mut B) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DecodeErrorKind as K;
    use crate::packet::test_util::{
        both_ways, decode, encode, encode_limited, hex, rejects, s, M, P, V3, V4, V5,
    };
    #[cfg(feature = "alloc")]
    use crate::properties::UserProperties;
    use crate::Packet;
    use alloc::vec;
    use DisconnectReasonCode as C;

    fn disconnect(code: C) -> Packet {
        Packet::Disconnect(Disconnect::new(code))
    }

    fn with_props(code: C, f: impl FnOnce(&mut DisconnectProperties)) -> Packet {
        let mut packet = Disconnect::new(code);
        f(&mut packet.properties);
        Packet::Disconnect(packet)
    }

    fn user_kv() -> UserProperties {
        UserProperties::from_pairs([("k", "v")]).unwrap()
    }

    // ---- byte vectors -------------------------------------------------------------------

    #[test]
    fn empty_at_3_1_and_3_1_1() {
        for v in [V3, V4] {
            both_ways("E0 00", v, &disconnect(C::NormalDisconnection));
        }
    }

    #[test]
    fn remaining_length_0_is_normal_disconnection_at_5_0() {
        both_ways("E0 00", V5, &disconnect(C::NormalDisconnection));
    }

    #[test]
    fn remaining_length_1_is_a_bare_reason_code_at_5_0() {
        both_ways("E0 01 04", V5, &disconnect(C::DisconnectWithWillMessage));
        both_ways("E0 01 8E", V5, &disconnect(C::SessionTakenOver));
        // Table 2-6 lists 0x8C for DISCONNECT, Table 3-10 does not: accepted both ways.
        both_ways("E0 01 8C", V5, &disconnect(C::BadAuthenticationMethod));
    }

    #[test]
    fn longer_forms_decode_and_the_encoder_picks_the_shortest() {
        let packet = decode(&hex("E0 02 8E 00"), V5).unwrap();
        assert_eq!(packet, disconnect(C::SessionTakenOver));
        assert_eq!(encode(&packet, V5).unwrap(), hex("E0 01 8E"));
        for bytes in ["E0 01 00", "E0 02 00 00"] {
            let packet = decode(&hex(bytes), V5).unwrap();
            assert_eq!(packet, disconnect(C::NormalDisconnection), "{bytes}");
            assert_eq!(encode(&packet, V5).unwrap(), hex("E0 00"));
        }
    }

    #[test]
    fn properties_need_the_reason_code_even_for_normal_disconnection() {
        // Session Expiry Interval 60: 11 00 00 00 3C.
        let packet = with_props(C::NormalDisconnection, |p| {
            p.session_expiry_interval = Some(60)
        });
        both_ways("E0 07 00 05 11 00 00 00 3C", V5, &packet);
        // Server Reference "b": 1C 00 01 62.
        let packet = with_props(C::UseAnotherServer, |p| {
            p.set_server_reference(Some(s("b")))
        });
        both_ways("E0 06 9C 04 1C 00 01 62", V5, &packet);
    }

    #[test]
    fn every_code_of_table_3_10_decodes_and_no_other() {
        let mut codes = vec![
            0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8C, 0x8D, 0x8E, 0x8F, 0x90,
        ];
        codes.extend(0x93..=0xA2);
        for code in 0..=255u8 {
            let result = decode(&[0xE0, 0x01, code], V5);
            assert_eq!(result.is_ok(), codes.contains(&code), "{code:02X}");
            if let Ok(packet) = result {
                let expected: &[u8] = if code == 0 {
                    &[0xE0, 0x00]
                } else {
                    &[0xE0, 0x01, code]
                };
                assert_eq!(encode(&packet, V5).unwrap(), expected);
            }
        }
    }

    // ---- rejected input -----------------------------------------------------------------

    #[test]
    fn rejects_disconnect_with_flags_set_mqtt_3_14_1_1() {
        for v in [V4, V5] {
            rejects(
                "E1 00",
                v,
                K::InvalidFlags { flags: 1 },
                M,
                Some("MQTT-3.14.1-1"),
            );
            rejects(
                "E2 00",
                v,
                K::InvalidFlags { flags: 2 },
                M,
                Some("MQTT-3.14.1-1"),
            );
        }
    }

    #[test]
    fn rejects_3_1_1_disconnect_with_a_body() {
        // 3.1.1 section 3.14: the Remaining Length is 0 (untagged).
        for v in [V3, V4] {
            rejects("E0 01 00", v, K::TrailingBytes { count: 1 }, M, None);
            rejects("E0 02 8E 00", v, K::TrailingBytes { count: 2 }, M, None);
        }
    }

    #[test]
    fn rejects_disconnect_code_outside_table_3_10_mqtt_3_14_2_1() {
        for code in [0x01, 0x11, 0x18, 0x84, 0x92] {
            let bytes = alloc::format!("E0 01 {code:02X}");
            let kind = K::InvalidReasonCode { code };
            rejects(&bytes, V5, kind, P, Some("MQTT-3.14.2-1"));
        }
    }

    #[test]
    fn rejects_properties_disconnect_may_not_carry() {
        // Topic Alias, Authentication Method: Malformed Packet (section 2.2.2.2).
        let kind = K::PropertyNotAllowed { id: 0x23 };
        rejects("E0 05 00 03 23 00 01", V5, kind, M, None);
        let kind = K::PropertyNotAllowed { id: 0x15 };
        rejects("E0 06 00 04 15 00 01 4D", V5, kind, M, None);
    }

    #[test]
    fn rejects_two_session_expiry_intervals() {
        rejects(
            "E0 0C 00 0A 11 00 00 00 01 11 00 00 00 02",
            V5,
            K::DuplicateProperty { id: 0x11 },
            P,
            None,
        );
    }

    #[test]
    fn rejects_properties_past_the_end() {
        let kind = K::UnexpectedEnd {
            field: "properties",
        };
        rejects("E0 03 00 05 11", V5, kind, M, None);
        let kind = K::UnexpectedEnd {
            field: "Session Expiry Interval",
        };
        rejects("E0 04 00 02 11 00", V5, kind, M, None);
    }

    // ---- encoder ------------------------------------------------------------------------

    #[test]
    fn refuses_reason_codes_and_properties_below_5_0() {
        for packet in [
            disconnect(C::DisconnectWithWillMessage),
            disconnect(C::UnspecifiedError),
            with_props(C::NormalDisconnection, |p| {
                p.session_expiry_interval = Some(0)
            }),
            with_props(C::NormalDisconnection, |p| p.set_user_properties(user_kv())),
        ] {
            for v in [V3, V4] {
                assert_eq!(
                    encode(&packet, v),
                    Err(EncodeError::UnsupportedInVersion {
                        what: "DISCONNECT reason code or properties",
                        version: v,
                    })
                );
            }
            assert!(encode(&packet, V5).is_ok());
        }
    }

    #[test]
    fn encode_with_limit_drops_reason_string_then_user_properties_mqtt_3_14_2_3_and_4() {
        // Reason String "bye": 1F 00 03 62 79 65 (6); User Property (k, v): 7. Full: body
        // 1 + 1 + 13 = 15, 17 bytes; without the Reason String body 9, 11 bytes; without
        // both the bare reason code, 3 bytes.
        let packet = with_props(C::UnspecifiedError, |p| {
            p.set_reason_string(Some(s("bye")));
            p.set_user_properties(user_kv());
        });
        let full = hex("E0 0F 80 0D 1F 00 03 62 79 65 26 00 01 6B 00 01 76");
        let no_reason_string = hex("E0 09 80 07 26 00 01 6B 00 01 76");
        assert_eq!(encode(&packet, V5).unwrap(), full);
        assert_eq!(encode_limited(&packet, V5, 17).unwrap(), full);
        assert_eq!(encode_limited(&packet, V5, 16).unwrap(), no_reason_string);
        assert_eq!(encode_limited(&packet, V5, 11).unwrap(), no_reason_string);
        assert_eq!(encode_limited(&packet, V5, 10).unwrap(), hex("E0 01 80"));
        assert_eq!(encode_limited(&packet, V5, 3).unwrap(), hex("E0 01 80"));
        assert_eq!(
            encode_limited(&packet, V5, 2),
            Err(EncodeError::PacketTooLarge { size: 3, max: 2 })
        );
    }

    #[test]
    fn encode_with_limit_keeps_other_properties() {
        // Server Reference "b" stays; only the Reason String may go.
        let packet = with_props(C::UseAnotherServer, |p| {
            p.set_server_reference(Some(s("b")));
            p.set_reason_string(Some(s("bye")));
        });
        assert_eq!(
            encode(&packet, V5).unwrap(),
            hex("E0 0C 9C 0A 1F 00 03 62 79 65 1C 00 01 62")
        );
        assert_eq!(
            encode_limited(&packet, V5, 8).unwrap(),
            hex("E0 06 9C 04 1C 00 01 62")
        );
        assert_eq!(
            encode_limited(&packet, V5, 7),
            Err(EncodeError::PacketTooLarge { size: 8, max: 7 })
        );
    }

    #[test]
    fn encode_with_limit_falls_back_to_remaining_length_0() {
        let packet = with_props(C::NormalDisconnection, |p| {
            p.set_reason_string(Some(s("bye")))
        });
        assert_eq!(
            encode(&packet, V5).unwrap(),
            hex("E0 08 00 06 1F 00 03 62 79 65")
        );
        assert_eq!(encode_limited(&packet, V5, 2).unwrap(), hex("E0 00"));
    }
}
