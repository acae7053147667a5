//! AUTH: a step of enhanced authentication (MQTT 5.0 section 3.15; MQTT 3.1.1 reserves
//! packet type 15).
//!
//! ```text
//! fixed header    0xF0, Remaining Length
//! variable header Reason Code  byte        (absent when Remaining Length is 0: Success)
//!                 Properties   (always present after a Reason Code; they must hold the
//!                               Authentication Method, unless Success has none at all)
//! ```
//!
//! Unlike DISCONNECT, AUTH has no Remaining Length 1 form: section 3.15.2.1 lets a sender
//! leave out the reason code and the properties only together. mqttwire refuses `F0 01 xx`
//! as malformed.

use super::EncodeBody;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
#[cfg(feature = "alloc")]
use crate::properties::AuthProperties;
use crate::properties::AuthPropertiesRef;
use crate::types::reason_code::AuthReasonCode;
use crate::types::PacketType;
use crate::types::ProtocolVersion;
use crate::wire::reader::Reader;
use crate::wire::writer::Sink;
use crate::wire::Trim;
#[cfg(feature = "alloc")]
use bytes::Bytes;

#[cfg(feature = "alloc")]
/// AUTH: exchanges authentication data during or after connecting (MQTT 5.0 only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Auth {
    /// The reason code.
    pub reason_code: AuthReasonCode,
    /// Properties; they must name the Authentication Method unless the packet is a bare
    /// `Success`.
    pub properties: AuthProperties,
}

#[cfg(feature = "alloc")]
impl Auth {
    /// An AUTH with `reason_code` and no properties.
    #[must_use]
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
}

/// [`Auth`] as a borrowed view of the received bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuthRef<'a> {
    /// The reason code.
    pub reason_code: AuthReasonCode,
    /// Properties.
    pub properties: AuthPropertiesRef<'a>,
}

impl<'a> AuthRef<'a> {
    pub(crate) fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        if !r.has_remaining() {
            return Ok(Self::default());
        }
        let code = r.u8("reason code")?;
        let reason_code = AuthReasonCode::from_code(code).ok_or_else(|| {
            DecodeError::new(DecodeErrorKind::InvalidReasonCode { code }).with_rule("MQTT-3.15.2-1")
        })?;
        let properties = AuthPropertiesRef::decode(r)?;
        // Success without properties may drop both fields (`F0 00`, section 3.15.2.1, in
        // untagged text); written out (`F0 02 00 00`) it is the same packet. Section
        // 3.15.2.2.2 makes omitting the Authentication Method a Protocol Error, which read
        // literally refuses the short form too: mqttwire reads 3.15.2.1 as the exception,
        // for both forms. Any other AUTH must name the method; that it is the CONNECT's is
        // the session's check ([MQTT-4.12.0-5]), the same for both forms.
        let bare_success = reason_code == AuthReasonCode::Success && properties.is_empty();
        if properties.authentication_method().is_none() && !bare_success {
            return Err(DecodeErrorKind::MissingAuthenticationMethod.into());
        }
        Ok(Self {
            reason_code,
            properties,
        })
    }
}

#[cfg(feature = "alloc")]
impl Auth {
    /// The owned packet whose fields are `view`'s, sliced from `frame`, which holds them.
    pub(crate) fn from_view(view: &AuthRef<'_>, frame: &Bytes) -> Self {
        Self {
            reason_code: view.reason_code,
            properties: AuthProperties::from_view(&view.properties, frame),
        }
    }

    /// The packet as a borrowed view of its own fields.
    #[must_use]
    pub fn as_view(&self) -> AuthRef<'_> {
        AuthRef {
            reason_code: self.reason_code,
            properties: self.properties.as_view(),
        }
    }
}

impl EncodeBody for AuthRef<'_> {
    const TYPE: PacketType = PacketType::Auth;

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
        if self.properties.authentication_method().is_none() {
            return Err(EncodeError::invalid(
                "AUTH without an Authentication Method",
                None,
            ));
        }
        Ok(1 + props)
    }

    fn put_body<B: Sink + ?Sized>(&self, _version: ProtocolVersion, trim: Trim, buf: &mut B) {
        if self.reason_code == AuthReasonCode::Success && self.properties.wire_len(trim) == 1 {
            return;
        }
        buf.put_u8(self.reason_code.code());
        self.properties.put(buf, trim);
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
    use crate::types::PacketType;
    use crate::Packet;
    #[cfg(feature = "alloc")]
    use bytes::Bytes;
    use AuthReasonCode as C;

    fn auth(code: C, f: impl FnOnce(&mut AuthProperties)) -> Packet {
        let mut packet = Auth::new(code);
        f(&mut packet.properties);
        Packet::Auth(packet)
    }

    // ---- byte vectors -------------------------------------------------------------------

    #[test]
    fn remaining_length_0_is_success() {
        both_ways("F0 00", V5, &Packet::Auth(Auth::default()));
        both_ways("F0 00", V5, &Packet::Auth(Auth::new(C::Success)));
    }

    /// Section 3.15.2.1 (untagged text): Success without properties may leave out the
    /// reason code and the Property Length. Written out in full it is the same packet, and
    /// both forms decode alike; the encoder writes the short one.
    #[test]
    fn success_without_properties_decodes_alike_in_short_and_full_form_section_3_15_2_1() {
        let bare = Packet::Auth(Auth::new(C::Success));
        assert_eq!(decode(&hex("F0 00"), V5), Ok(bare.clone()));
        assert_eq!(decode(&hex("F0 02 00 00"), V5), Ok(bare.clone()));
        assert_eq!(encode(&bare, V5).unwrap(), hex("F0 00"));
        assert_eq!(encode_limited(&bare, V5, 2).unwrap(), hex("F0 00"));
    }

    #[test]
    fn continue_and_re_authenticate_with_method() {
        // Authentication Method "M": 15 00 01 4D.
        let packet = auth(C::ContinueAuthentication, |p| {
            p.set_authentication_method(Some(s("M")))
        });
        both_ways("F0 06 18 04 15 00 01 4D", V5, &packet);
        let packet = auth(C::ReAuthenticate, |p| {
            p.set_authentication_method(Some(s("M")))
        });
        both_ways("F0 06 19 04 15 00 01 4D", V5, &packet);
        let packet = auth(C::Success, |p| p.set_authentication_method(Some(s("M"))));
        both_ways("F0 06 00 04 15 00 01 4D", V5, &packet);
    }

    #[test]
    fn method_and_data() {
        // 15 00 01 4D (4) + 16 00 02 AB CD (5) = 9 bytes of properties.
        let packet = auth(C::ContinueAuthentication, |p| {
            p.set_authentication_method(Some(s("M")));
            p.set_authentication_data(Some(Bytes::from_static(&[0xAB, 0xCD])))
                .unwrap();
        });
        both_ways("F0 0B 18 09 15 00 01 4D 16 00 02 AB CD", V5, &packet);
    }

    #[test]
    fn every_code_of_table_3_11_decodes_and_no_other() {
        for code in 0..=255u8 {
            let bytes = [0xF0, 0x06, code, 0x04, 0x15, 0x00, 0x01, 0x4D];
            let ok = matches!(code, 0x00 | 0x18 | 0x19);
            assert_eq!(decode(&bytes, V5).is_ok(), ok, "{code:02X}");
        }
    }

    // ---- rejected input -----------------------------------------------------------------

    #[test]
    fn rejects_auth_with_flags_set_mqtt_3_15_1_1() {
        let kind = K::InvalidFlags { flags: 2 };
        rejects("F2 00", V5, kind, M, Some("MQTT-3.15.1-1"));
        let kind = K::InvalidFlags { flags: 1 };
        rejects(
            "F1 06 18 04 15 00 01 4D",
            V5,
            kind,
            M,
            Some("MQTT-3.15.1-1"),
        );
    }

    #[test]
    fn rejects_auth_below_5_0_as_reserved_packet_type() {
        // 3.1.1 section 2.2.1: packet type 15 is reserved. No fixed header check runs
        // after the type, so the flags do not matter.
        for v in [V3, V4] {
            let kind = K::ReservedPacketType { packet_type: 15 };
            rejects("F0 00", v, kind.clone(), M, None);
            rejects("F2 00", v, kind, M, None);
            let err = decode(&hex("F0 00"), v).unwrap_err();
            assert_eq!(err.packet_type(), None);
        }
    }

    #[test]
    fn rejects_auth_with_remaining_length_1() {
        // mqttwire's documented choice: section 3.15.2.1 omits the reason code and the
        // properties only together, so a bare reason code lacks its Property Length.
        let kind = K::UnexpectedEnd {
            field: "property length",
        };
        rejects("F0 01 18", V5, kind.clone(), M, None);
        rejects("F0 01 00", V5, kind, M, None);
        let err = decode(&hex("F0 01 18"), V5).unwrap_err();
        assert_eq!(err.packet_type(), Some(PacketType::Auth));
    }

    /// Every AUTH but a bare Success (see
    /// `success_without_properties_decodes_alike_in_short_and_full_form_section_3_15_2_1`)
    /// names the method, Success with other properties included.
    #[test]
    fn rejects_auth_without_authentication_method_section_3_15_2_2_2() {
        rejects("F0 02 18 00", V5, K::MissingAuthenticationMethod, P, None);
        rejects("F0 02 19 00", V5, K::MissingAuthenticationMethod, P, None);
        // Success with a Reason String "r" (1F 00 01 72) and no method.
        rejects(
            "F0 06 00 04 1F 00 01 72",
            V5,
            K::MissingAuthenticationMethod,
            P,
            None,
        );
        // Authentication Data alone: 16 00 02 AB CD.
        rejects(
            "F0 07 18 05 16 00 02 AB CD",
            V5,
            K::MissingAuthenticationMethod,
            P,
            None,
        );
    }

    #[test]
    fn rejects_two_authentication_methods_section_3_15_2_2_2() {
        rejects(
            "F0 0A 18 08 15 00 01 4D 15 00 01 4E",
            V5,
            K::DuplicateProperty { id: 0x15 },
            P,
            None,
        );
    }

    #[test]
    fn rejects_auth_code_outside_table_3_11_mqtt_3_15_2_1() {
        let kind = K::InvalidReasonCode { code: 0x80 };
        rejects("F0 02 80 00", V5, kind, P, Some("MQTT-3.15.2-1"));
    }

    #[test]
    fn rejects_properties_auth_may_not_carry() {
        // Session Expiry Interval: Malformed Packet (section 2.2.2.2).
        rejects(
            "F0 0B 18 09 15 00 01 4D 11 00 00 00 00",
            V5,
            K::PropertyNotAllowed { id: 0x11 },
            M,
            None,
        );
    }

    #[test]
    fn rejects_bytes_after_the_properties() {
        let kind = K::TrailingBytes { count: 1 };
        rejects("F0 07 18 04 15 00 01 4D 00", V5, kind, M, None);
    }

    // ---- encoder ------------------------------------------------------------------------

    #[test]
    fn refuses_auth_below_5_0() {
        let with_method = auth(C::ContinueAuthentication, |p| {
            p.set_authentication_method(Some(s("M")))
        });
        for packet in [Packet::Auth(Auth::default()), with_method] {
            for v in [V3, V4] {
                assert_eq!(
                    encode(&packet, v),
                    Err(EncodeError::UnsupportedInVersion {
                        what: "AUTH",
                        version: v,
                    })
                );
            }
        }
    }

    #[test]
    fn refuses_auth_without_authentication_method() {
        let err = EncodeError::invalid("AUTH without an Authentication Method", None);
        for packet in [
            Packet::Auth(Auth::new(C::ContinueAuthentication)),
            Packet::Auth(Auth::new(C::ReAuthenticate)),
            auth(C::Success, |p| p.set_reason_string(Some(s("ok")))),
            auth(C::ContinueAuthentication, |p| {
                p.set_authentication_data(Some(Bytes::from_static(b"x")))
                    .unwrap()
            }),
        ] {
            assert_eq!(encode(&packet, V5), Err(err.clone()));
            assert_eq!(encode_limited(&packet, V5, 100), Err(err.clone()));
        }
    }

    #[test]
    fn encode_with_limit_keeps_the_method_mqtt_3_15_2_2_and_3() {
        // Method "M" (4) + Data AB CD (5) + Reason String "r" 1F 00 01 72 (4) + User
        // Property (k, v) (7) = 20: body 22, 24 bytes. Without the Reason String body 18,
        // 20 bytes; without both body 11, 13 bytes.
        let packet = auth(C::ContinueAuthentication, |p| {
            p.set_authentication_method(Some(s("M")));
            p.set_authentication_data(Some(Bytes::from_static(&[0xAB, 0xCD])))
                .unwrap();
            p.set_reason_string(Some(s("r")));
            p.set_user_properties(UserProperties::from_pairs([("k", "v")]).unwrap());
        });
        let full = hex("F0 16 18 14 15 00 01 4D 16 00 02 AB CD 1F 00 01 72 26 00 01 6B 00 01 76");
        let no_reason_string = hex("F0 12 18 10 15 00 01 4D 16 00 02 AB CD 26 00 01 6B 00 01 76");
        let bare = hex("F0 0B 18 09 15 00 01 4D 16 00 02 AB CD");
        assert_eq!(encode(&packet, V5).unwrap(), full);
        assert_eq!(encode_limited(&packet, V5, 24).unwrap(), full);
        assert_eq!(encode_limited(&packet, V5, 23).unwrap(), no_reason_string);
        assert_eq!(encode_limited(&packet, V5, 20).unwrap(), no_reason_string);
        assert_eq!(encode_limited(&packet, V5, 19).unwrap(), bare);
        assert_eq!(encode_limited(&packet, V5, 13).unwrap(), bare);
        assert_eq!(
            encode_limited(&packet, V5, 12),
            Err(EncodeError::PacketTooLarge { size: 13, max: 12 })
        );
    }
}
