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
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
#[cfg(feature = "alloc")]
use crate::properties::AckProperties;
use crate::properties::AckPropertiesRef;
use crate::types::reason_code::{PubAckReasonCode, PubRelReasonCode};
use crate::types::PacketType;
use crate::types::{PacketId, ProtocolVersion};
use crate::wire::reader::Reader;
use crate::wire::writer::Sink;
use crate::wire::Trim;
#[cfg(feature = "alloc")]
use bytes::Bytes;

macro_rules! ack_packet {
    (
        $(#[$meta:meta])*
        $name:ident / $view:ident, $reason:ident, $packet_type:ident, flags = $flags:literal, rule = $rule:literal
    ) => {
        $(#[$meta])*
        #[cfg(feature = "alloc")]
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            /// The packet identifier of the PUBLISH this acknowledges.
            pub packet_id: PacketId,
            /// The reason code (MQTT 5.0); `Success` below 5.0.
            pub reason_code: $reason,
            /// Properties (MQTT 5.0).
            pub properties: AckProperties,
        }

        #[cfg(feature = "alloc")]
        impl $name {
            /// A successful acknowledgement of `packet_id`, without properties.
            #[must_use]
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

            /// The owned acknowledgement whose fields are `view`'s, sliced from `frame`.
            #[inline(always)]
            pub(crate) fn from_view(view: &$view<'_>, frame: &Bytes) -> Self {
                Self {
                    packet_id: view.packet_id,
                    reason_code: view.reason_code,
                    properties: AckProperties::from_view(&view.properties, frame),
                }
            }

            /// The acknowledgement as a borrowed view of its own fields.
            #[must_use]
            pub fn as_view(&self) -> $view<'_> {
                $view {
                    packet_id: self.packet_id,
                    reason_code: self.reason_code,
                    properties: self.properties.as_view(),
                }
            }
        }

        #[doc = concat!("[`", stringify!($name), "`] as a borrowed view of the received bytes.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $view<'a> {
            /// The packet identifier of the PUBLISH this acknowledges.
            pub packet_id: PacketId,
            /// The reason code (MQTT 5.0); `Success` below 5.0.
            pub reason_code: $reason,
            /// Properties (MQTT 5.0).
            pub properties: AckPropertiesRef<'a>,
        }

        impl<'a> $view<'a> {
            /// A successful acknowledgement of `packet_id`, without properties.
            #[must_use]
            pub fn new(packet_id: PacketId) -> Self {
                Self {
                    packet_id,
                    reason_code: $reason::Success,
                    properties: AckPropertiesRef::default(),
                }
            }

            #[inline(always)]
            pub(crate) fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
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
                        ack.properties = AckPropertiesRef::decode(r)?;
                    }
                }
                Ok(ack)
            }
        }

        impl<'a> $view<'a> {
            /// The packet as the body the four acknowledgements share.
            #[inline(always)]
            pub(crate) fn ack(&self) -> AckBody<'_, 'a> {
                AckBody {
                    first: (PacketType::$packet_type as u8) << 4 | $flags,
                    reason_code: self.reason_code.code(),
                    packet_id: self.packet_id,
                    properties: &self.properties,
                }
            }
        }

        impl EncodeBody for $view<'_> {
            const TYPE: PacketType = PacketType::$packet_type;

            fn flags(&self) -> u8 {
                $flags
            }

            #[inline(always)]
            fn body_len(&self, version: ProtocolVersion, trim: Trim) -> Result<usize, EncodeError> {
                self.ack().body_len(version, trim)
            }

            #[inline(always)]
            fn put_body<B: Sink + ?Sized>(&self, version: ProtocolVersion, trim: Trim, buf: &mut B) {
                self.ack().put_body(version, trim, buf)
            }
        }
    };
}

/// An acknowledgement to encode: the four differ in their first byte and their reason
/// code's type alone. Their views encode through it, so that `PubAckRef::encode` and the
/// three others share one encoder, which a firmware links once for all four; the
/// specialised encoders `PacketRef::encode` dispatches to are made from it too.
#[derive(Clone, Copy)]
pub(crate) struct AckBody<'v, 'a> {
    first: u8,
    /// The reason code's byte; 0 is Success for the four.
    reason_code: u8,
    packet_id: PacketId,
    /// By reference: a body made for each packet encoded stays two words.
    properties: &'v AckPropertiesRef<'a>,
}

impl EncodeBody for AckBody<'_, '_> {
    /// Stands for the four, whose encoding is the same but for [`first_byte`]; it decides
    /// only what may be trimmed, which is alike for them.
    ///
    /// [`first_byte`]: EncodeBody::first_byte
    const TYPE: PacketType = PacketType::PubAck;

    fn first_byte(&self) -> u8 {
        self.first
    }

    #[inline(always)]
    fn body_len(&self, version: ProtocolVersion, trim: Trim) -> Result<usize, EncodeError> {
        if !version.is_v5() {
            if self.reason_code != 0 || !self.properties.is_empty() {
                return Err(self.unsupported(version));
            }
            return Ok(2);
        }
        self.properties.check()?;
        let props = self.properties.wire_len(trim);
        Ok(match (self.reason_code, props) {
            (0, 1) => 2,
            (_, 1) => 3,
            _ => 3 + props,
        })
    }

    #[inline(always)]
    fn put_body<B: Sink + ?Sized>(&self, version: ProtocolVersion, trim: Trim, buf: &mut B) {
        buf.put_u16(self.packet_id.get());
        if !version.is_v5() {
            return;
        }
        // An empty property set is the single byte 0: then the short forms apply.
        let has_props = self.properties.wire_len(trim) > 1;
        if has_props || self.reason_code != 0 {
            buf.put_u8(self.reason_code);
        }
        if has_props {
            self.properties.put(buf, trim);
        }
    }
}

impl AckBody<'_, '_> {
    /// The refusal of a reason code or properties below MQTT 5.0.
    #[cold]
    fn unsupported(&self, version: ProtocolVersion) -> EncodeError {
        let what = match self.first >> 4 {
            4 => "PubAck reason code or properties",
            5 => "PubRec reason code or properties",
            6 => "PubRel reason code or properties",
            _ => "PubComp reason code or properties",
        };
        EncodeError::UnsupportedInVersion { what, version }
    }
}

ack_packet! {
    /// PUBACK: the answer to a QoS 1 PUBLISH.
    PubAck / PubAckRef, PubAckReasonCode, PubAck, flags = 0, rule = "MQTT-3.4.2-1"
}

ack_packet! {
    /// PUBREC: the first answer to a QoS 2 PUBLISH. A failure code ends the exchange.
    PubRec / PubRecRef, PubAckReasonCode, PubRec, flags = 0, rule = "MQTT-3.5.2-1"
}

ack_packet! {
    /// PUBREL: the sender's answer to PUBREC. Its fixed header flags are `0010`.
    PubRel / PubRelRef, PubRelReasonCode, PubRel, flags = 0b0010, rule = "MQTT-3.6.2-1"
}

ack_packet! {
    /// PUBCOMP: the receiver's answer to PUBREL, which ends a QoS 2 exchange.
    PubComp / PubCompRef, PubRelReasonCode, PubComp, flags = 0, rule = "MQTT-3.7.2-1"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DecodeErrorKind as K;
    use crate::packet::test_util::{
        ack_props, both_ways, decode, encode, encode_limited, hex, pid, rejects, M, P, V3, V4, V5,
    };
    use crate::Packet;
    use alloc::vec;

    // ---- byte vectors -------------------------------------------------------------------

    #[test]
    fn acks_are_the_packet_id_alone_at_3_1_and_3_1_1() {
        for v in [V3, V4] {
            both_ways("40 02 00 01", v, &Packet::PubAck(PubAck::new(pid(1))));
            both_ways("50 02 00 01", v, &Packet::PubRec(PubRec::new(pid(1))));
            both_ways("62 02 00 01", v, &Packet::PubRel(PubRel::new(pid(1))));
            both_ways("70 02 00 01", v, &Packet::PubComp(PubComp::new(pid(1))));
            both_ways("40 02 12 34", v, &Packet::PubAck(PubAck::new(pid(0x1234))));
            both_ways(
                "70 02 FF FF",
                v,
                &Packet::PubComp(PubComp::new(pid(0xFFFF))),
            );
        }
    }

    #[test]
    fn remaining_length_2_is_success_at_5_0() {
        both_ways("40 02 00 01", V5, &Packet::PubAck(PubAck::new(pid(1))));
        both_ways("50 02 00 01", V5, &Packet::PubRec(PubRec::new(pid(1))));
        both_ways("62 02 00 01", V5, &Packet::PubRel(PubRel::new(pid(1))));
        both_ways("70 02 00 01", V5, &Packet::PubComp(PubComp::new(pid(1))));
    }

    #[test]
    fn remaining_length_3_is_a_bare_reason_code_at_5_0() {
        let mut puback = PubAck::new(pid(1));
        puback.reason_code = PubAckReasonCode::NoMatchingSubscribers;
        both_ways("40 03 00 01 10", V5, &Packet::PubAck(puback));

        let mut pubrec = PubRec::new(pid(1));
        pubrec.reason_code = PubAckReasonCode::QuotaExceeded;
        both_ways("50 03 00 01 97", V5, &Packet::PubRec(pubrec));

        let mut pubrel = PubRel::new(pid(1));
        pubrel.reason_code = PubRelReasonCode::PacketIdentifierNotFound;
        both_ways("62 03 00 01 92", V5, &Packet::PubRel(pubrel));

        let mut pubcomp = PubComp::new(pid(1));
        pubcomp.reason_code = PubRelReasonCode::PacketIdentifierNotFound;
        both_ways("70 03 00 01 92", V5, &Packet::PubComp(pubcomp));
    }

    #[test]
    fn longer_forms_decode_and_the_encoder_picks_the_shortest() {
        // RL 3 with Success, RL 4 with an empty property set: both plain successes, which
        // the encoder writes in the 2-byte form.
        for bytes in ["40 03 00 01 00", "40 04 00 01 00 00"] {
            let packet = decode(&hex(bytes), V5).unwrap();
            assert_eq!(packet, Packet::PubAck(PubAck::new(pid(1))), "{bytes}");
            assert_eq!(encode(&packet, V5).unwrap(), hex("40 02 00 01"));
        }
        // A reason code with an empty property set is written without the property length.
        let packet = decode(&hex("62 04 00 01 92 00"), V5).unwrap();
        let mut pubrel = PubRel::new(pid(1));
        pubrel.reason_code = PubRelReasonCode::PacketIdentifierNotFound;
        assert_eq!(packet, Packet::PubRel(pubrel));
        assert_eq!(encode(&packet, V5).unwrap(), hex("62 03 00 01 92"));
    }

    #[test]
    fn properties_need_the_reason_code_even_on_success() {
        // Reason String "no": 1F 00 02 6E 6F (5 bytes).
        let mut puback = PubAck::new(pid(1));
        puback.properties = ack_props(Some("no"), &[]);
        both_ways(
            "40 09 00 01 00 05 1F 00 02 6E 6F",
            V5,
            &Packet::PubAck(puback),
        );
    }

    #[test]
    fn reason_string_and_user_property_both_ways() {
        // 1F 00 01 78 (4) + 26 00 01 6B 00 01 76 (7) = 11 bytes of properties.
        let mut pubrel = PubRel::new(pid(1));
        pubrel.reason_code = PubRelReasonCode::PacketIdentifierNotFound;
        pubrel.properties = ack_props(Some("x"), &[("k", "v")]);
        both_ways(
            "62 0F 00 01 92 0B 1F 00 01 78 26 00 01 6B 00 01 76",
            V5,
            &Packet::PubRel(pubrel),
        );
        let mut pubrec = PubRec::new(pid(2));
        pubrec.reason_code = PubAckReasonCode::PayloadFormatInvalid;
        pubrec.properties = ack_props(None, &[("k", "v")]);
        both_ways(
            "50 0B 00 02 99 07 26 00 01 6B 00 01 76",
            V5,
            &Packet::PubRec(pubrec),
        );
    }

    #[test]
    fn every_code_of_tables_3_4_to_3_7_decodes_and_no_other() {
        let puback_codes = [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
        let pubrel_codes = [0x00, 0x92];
        for code in 0..=255u8 {
            for (first, allowed) in [
                (0x40, &puback_codes[..]),
                (0x50, &puback_codes[..]),
                (0x62, &pubrel_codes[..]),
                (0x70, &pubrel_codes[..]),
            ] {
                let result = decode(&[first, 0x03, 0x00, 0x01, code], V5);
                assert_eq!(
                    result.is_ok(),
                    allowed.contains(&code),
                    "{first:02X} {code:02X}"
                );
                if let Ok(packet) = result {
                    // A bare reason code re-encodes as it came, Success as the 2-byte form.
                    let expected: &[u8] = if code == 0 {
                        &[first, 0x02, 0x00, 0x01]
                    } else {
                        &[first, 0x03, 0x00, 0x01, code]
                    };
                    assert_eq!(encode(&packet, V5).unwrap(), expected);
                }
            }
        }
    }

    #[test]
    fn incomplete_input_is_not_malformed() {
        let err = decode(&hex("40 02 00"), V5).unwrap_err();
        assert_eq!(err.kind(), &K::Incomplete { needed: Some(1) });
        let err = decode(&hex("40"), V4).unwrap_err();
        assert!(err.is_incomplete());
    }

    // ---- rejected input -----------------------------------------------------------------

    #[test]
    fn rejects_pubrel_with_flags_0000_mqtt_3_6_1_1() {
        for v in [V4, V5] {
            rejects(
                "60 02 00 01",
                v,
                K::InvalidFlags { flags: 0 },
                M,
                Some("MQTT-3.6.1-1"),
            );
        }
    }

    #[test]
    fn rejects_pubrel_with_flags_0011_mqtt_3_6_1_1() {
        for v in [V4, V5] {
            rejects(
                "63 02 00 01",
                v,
                K::InvalidFlags { flags: 3 },
                M,
                Some("MQTT-3.6.1-1"),
            );
        }
    }

    #[test]
    fn rejects_puback_pubrec_pubcomp_with_flags_set_mqtt_2_1_3_1_and_3_1_1_mqtt_2_2_2_1() {
        for (bytes, flags) in [("41 02 00 01", 1), ("52 02 00 01", 2), ("78 02 00 01", 8)] {
            rejects(
                bytes,
                V5,
                K::InvalidFlags { flags },
                M,
                Some("MQTT-2.1.3-1"),
            );
            rejects(
                bytes,
                V4,
                K::InvalidFlags { flags },
                M,
                Some("MQTT-2.2.2-1"),
            );
        }
    }

    /// An acknowledgement carries its PUBLISH's identifier, never 0: 5.0 [MQTT-2.2.1-5],
    /// 3.1.1 [MQTT-2.3.1-6] (which names PUBACK, PUBREC and PUBREL, not PUBCOMP).
    #[test]
    fn rejects_packet_id_0_mqtt_2_2_1_5_and_3_1_1_mqtt_2_3_1_6() {
        for bytes in ["40 02 00 00", "50 02 00 00", "62 02 00 00", "70 02 00 00"] {
            rejects(bytes, V5, K::ZeroPacketId, M, Some("MQTT-2.2.1-5"));
        }
        for bytes in ["40 02 00 00", "50 02 00 00", "62 02 00 00"] {
            rejects(bytes, V4, K::ZeroPacketId, M, Some("MQTT-2.3.1-6"));
        }
        rejects("70 02 00 00", V4, K::ZeroPacketId, M, None);
        rejects(
            "40 03 00 00 10",
            V5,
            K::ZeroPacketId,
            M,
            Some("MQTT-2.2.1-5"),
        );
    }

    #[test]
    fn rejects_3_1_1_ack_longer_than_2() {
        // 3.1.1 sections 3.4 to 3.7: the Remaining Length is 2 (untagged).
        for bytes in [
            "40 03 00 01 00",
            "50 03 00 01 00",
            "62 03 00 01 00",
            "70 03 00 01 00",
        ] {
            rejects(bytes, V4, K::TrailingBytes { count: 1 }, M, None);
            rejects(bytes, V3, K::TrailingBytes { count: 1 }, M, None);
        }
        rejects(
            "40 04 00 01 00 00",
            V4,
            K::TrailingBytes { count: 2 },
            M,
            None,
        );
    }

    #[test]
    fn rejects_ack_without_a_whole_packet_id() {
        let end = K::UnexpectedEnd {
            field: "packet identifier",
        };
        rejects("40 01 00", V5, end.clone(), M, None);
        rejects("40 00", V4, end, M, None);
    }

    #[test]
    fn rejects_puback_reason_outside_table_3_4_mqtt_3_4_2_1() {
        rejects(
            "40 03 00 01 92",
            V5,
            K::InvalidReasonCode { code: 0x92 },
            P,
            Some("MQTT-3.4.2-1"),
        );
    }

    #[test]
    fn rejects_pubrec_reason_outside_table_3_5_mqtt_3_5_2_1() {
        rejects(
            "50 03 00 01 8F",
            V5,
            K::InvalidReasonCode { code: 0x8F },
            P,
            Some("MQTT-3.5.2-1"),
        );
    }

    #[test]
    fn rejects_pubrel_reason_outside_table_3_6_mqtt_3_6_2_1() {
        rejects(
            "62 03 00 01 80",
            V5,
            K::InvalidReasonCode { code: 0x80 },
            P,
            Some("MQTT-3.6.2-1"),
        );
    }

    #[test]
    fn rejects_pubcomp_reason_outside_table_3_7_mqtt_3_7_2_1() {
        rejects(
            "70 03 00 01 80",
            V5,
            K::InvalidReasonCode { code: 0x80 },
            P,
            Some("MQTT-3.7.2-1"),
        );
    }

    #[test]
    fn rejects_properties_acks_may_not_carry() {
        // Section 2.2.2.2 / Table 2-4: Malformed Packet. Topic Alias in PUBACK, Subscription
        // Identifier in PUBREC, Session Expiry Interval in PUBREL, Authentication Method in
        // PUBCOMP.
        rejects(
            "40 07 00 01 00 03 23 00 01",
            V5,
            K::PropertyNotAllowed { id: 0x23 },
            M,
            None,
        );
        rejects(
            "50 06 00 01 00 02 0B 01",
            V5,
            K::PropertyNotAllowed { id: 0x0B },
            M,
            None,
        );
        rejects(
            "62 09 00 01 00 05 11 00 00 00 00",
            V5,
            K::PropertyNotAllowed { id: 0x11 },
            M,
            None,
        );
        rejects(
            "70 08 00 01 00 04 15 00 01 4D",
            V5,
            K::PropertyNotAllowed { id: 0x15 },
            M,
            None,
        );
    }

    #[test]
    fn rejects_two_reason_strings() {
        // A property that may appear once appears twice: Protocol Error.
        rejects(
            "40 0C 00 01 00 08 1F 00 01 61 1F 00 01 62",
            V5,
            K::DuplicateProperty { id: 0x1F },
            P,
            None,
        );
    }

    #[test]
    fn rejects_unknown_property_identifier() {
        rejects(
            "40 05 00 01 00 01 7F",
            V5,
            K::UnknownProperty { id: 0x7F },
            M,
            None,
        );
    }

    #[test]
    fn rejects_property_length_past_the_end_and_bytes_after_the_properties() {
        rejects(
            "40 05 00 01 00 05 1F",
            V5,
            K::UnexpectedEnd {
                field: "properties",
            },
            M,
            None,
        );
        rejects(
            "40 05 00 01 00 00 00",
            V5,
            K::TrailingBytes { count: 1 },
            M,
            None,
        );
        // A Reason String whose length runs past the property block.
        rejects(
            "40 07 00 01 00 03 1F 00 05",
            V5,
            K::UnexpectedEnd {
                field: "Reason String",
            },
            M,
            None,
        );
    }

    #[test]
    fn rejects_invalid_utf8_reason_string_mqtt_1_5_4_1() {
        rejects(
            "40 08 00 01 00 04 1F 00 01 FF",
            V5,
            K::InvalidUtf8 {
                field: "Reason String",
            },
            M,
            Some("MQTT-1.5.4-1"),
        );
    }

    // ---- encoder ------------------------------------------------------------------------

    #[test]
    fn refuses_reason_codes_and_properties_below_5_0() {
        let mut puback = PubAck::new(pid(1));
        puback.reason_code = PubAckReasonCode::NotAuthorized;
        let mut pubrec = PubRec::new(pid(1));
        pubrec.properties = ack_props(None, &[("k", "v")]);
        let mut pubrel = PubRel::new(pid(1));
        pubrel.reason_code = PubRelReasonCode::PacketIdentifierNotFound;
        let mut pubcomp = PubComp::new(pid(1));
        pubcomp.properties = ack_props(Some("x"), &[]);
        for packet in [
            Packet::PubAck(puback),
            Packet::PubRec(pubrec),
            Packet::PubRel(pubrel),
            Packet::PubComp(pubcomp),
        ] {
            for version in [V3, V4] {
                let err = encode(&packet, version).unwrap_err();
                assert!(
                    matches!(err, EncodeError::UnsupportedInVersion { version: v, .. } if v == version),
                    "{err:?}"
                );
                assert_eq!(encode_limited(&packet, version, 1000), Err(err));
            }
            assert!(encode(&packet, V5).is_ok());
        }
    }

    #[test]
    fn refuses_a_buffer_too_small() {
        let packet = Packet::PubAck(PubAck::new(pid(1)));
        let mut buf = [0xAA; 3];
        let err = packet.encode(V5, &mut &mut buf[..]).unwrap_err();
        assert_eq!(
            err,
            EncodeError::BufferTooSmall {
                needed: 4,
                available: 3
            }
        );
        assert_eq!(buf, [0xAA; 3]);
    }

    #[test]
    fn encode_with_limit_drops_reason_string_then_user_properties_mqtt_3_4_2_2_and_3() {
        // Reason String "denied": 1F 00 06 64 65 6E 69 65 64 (9); User Property (k, v): 7.
        // Full: body 2 + 1 + 1 + 16 = 20, 22 bytes. Without the Reason String: body 11,
        // 13 bytes. Without both: body 3, 5 bytes. The reason code always stays.
        let full = hex("40 14 00 01 87 10 1F 00 06 64 65 6E 69 65 64 26 00 01 6B 00 01 76");
        let no_reason_string = hex("40 0B 00 01 87 07 26 00 01 6B 00 01 76");
        let bare = hex("40 03 00 01 87");
        let mut puback = PubAck::new(pid(1));
        puback.reason_code = PubAckReasonCode::NotAuthorized;
        puback.properties = ack_props(Some("denied"), &[("k", "v")]);
        let packet = Packet::PubAck(puback);
        assert_eq!(encode(&packet, V5).unwrap(), full);
        assert_eq!(encode_limited(&packet, V5, 22).unwrap(), full);
        assert_eq!(encode_limited(&packet, V5, 21).unwrap(), no_reason_string);
        assert_eq!(encode_limited(&packet, V5, 13).unwrap(), no_reason_string);
        assert_eq!(encode_limited(&packet, V5, 12).unwrap(), bare);
        assert_eq!(encode_limited(&packet, V5, 5).unwrap(), bare);
        assert_eq!(
            encode_limited(&packet, V5, 4),
            Err(EncodeError::PacketTooLarge { size: 5, max: 4 })
        );
    }

    #[test]
    fn encode_with_limit_trims_pubrec_pubrel_pubcomp_mqtt_3_5_2_2_to_3_7_2_3() {
        // The same properties on the other three: type byte and reason code differ.
        let cases: [(u8, Packet); 3] = [
            (0x50, {
                let mut p = PubRec::new(pid(1));
                p.reason_code = PubAckReasonCode::NotAuthorized;
                p.properties = ack_props(Some("denied"), &[("k", "v")]);
                Packet::PubRec(p)
            }),
            (0x62, {
                let mut p = PubRel::new(pid(1));
                p.reason_code = PubRelReasonCode::PacketIdentifierNotFound;
                p.properties = ack_props(Some("denied"), &[("k", "v")]);
                Packet::PubRel(p)
            }),
            (0x70, {
                let mut p = PubComp::new(pid(1));
                p.reason_code = PubRelReasonCode::PacketIdentifierNotFound;
                p.properties = ack_props(Some("denied"), &[("k", "v")]);
                Packet::PubComp(p)
            }),
        ];
        for (first, packet) in cases {
            let code = if first == 0x50 { 0x87 } else { 0x92 };
            let mut no_reason_string = vec![first, 0x0B, 0x00, 0x01, code];
            no_reason_string.extend(hex("07 26 00 01 6B 00 01 76"));
            assert_eq!(encode(&packet, V5).unwrap().len(), 22);
            assert_eq!(encode_limited(&packet, V5, 21).unwrap(), no_reason_string);
            assert_eq!(
                encode_limited(&packet, V5, 12).unwrap(),
                [first, 0x03, 0x00, 0x01, code]
            );
            assert_eq!(
                encode_limited(&packet, V5, 4),
                Err(EncodeError::PacketTooLarge { size: 5, max: 4 })
            );
        }
    }

    #[test]
    fn encode_with_limit_falls_back_to_the_2_byte_form_for_success() {
        let mut pubcomp = PubComp::new(pid(7));
        pubcomp.properties = ack_props(Some("done"), &[]);
        let packet = Packet::PubComp(pubcomp);
        // 1F 00 04 64 6F 6E 65 (7): body 2 + 1 + 1 + 7 = 11.
        assert_eq!(
            encode(&packet, V5).unwrap(),
            hex("70 0B 00 07 00 07 1F 00 04 64 6F 6E 65")
        );
        assert_eq!(encode_limited(&packet, V5, 4).unwrap(), hex("70 02 00 07"));
        assert_eq!(
            encode_limited(&packet, V5, 3),
            Err(EncodeError::PacketTooLarge { size: 4, max: 3 })
        );
    }
}
