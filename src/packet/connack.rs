//! CONNACK: the server's answer to CONNECT (MQTT 5.0 section 3.2, 3.1.1 section 3.2).
//!
//! ```text
//! fixed header    0x20, Remaining Length (3.1.1: always 2)
//! variable header Acknowledge Flags  byte: bit 0 Session Present, bits 7-1 reserved (0)
//!                 Reason Code        byte (3.1.1: Return Code 0 to 5)
//!                 Properties         (5.0 only)
//! ```

use super::{v5_only, EncodeBody};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
#[cfg(feature = "alloc")]
use crate::properties::ConnAckProperties;
use crate::properties::ConnAckPropertiesRef;
use crate::types::reason_code::ConnectReasonCode;
use crate::types::PacketType;
use crate::types::ProtocolVersion;
use crate::wire::reader::Reader;
use crate::wire::writer::Sink;
use crate::wire::Trim;
#[cfg(feature = "alloc")]
use bytes::Bytes;

/// The body of a 3.1.1 server's CONNACK refusing the protocol level: no Session Present,
/// return code 1 (3.1.1 MQTT-3.1.2-2).
const V311_UNACCEPTABLE_LEVEL: [u8; 2] = [0x00, 0x01];

#[cfg(feature = "alloc")]
/// CONNACK: whether the connection is accepted, and the server's limits (MQTT 5.0).
///
/// Decoded at MQTT 5.0, the 3.1.1 refusal `20 02 00 01` (return code 1, "unacceptable
/// protocol level", what a server that speaks only 3.1.1 must answer a 5.0 CONNECT with,
/// 3.1.1 MQTT-3.1.2-2) is a CONNACK with reason code
/// [`UnsupportedProtocolVersion`](ConnectReasonCode::UnsupportedProtocolVersion) and no
/// properties, so that a client can tell it apart and retry at 3.1.1. Re-encoded at 5.0
/// it is the 5.0 CONNACK `20 03 00 84 00`. Every other CONNACK in the 3.1.1 layout stays
/// malformed at 5.0.
///
/// ```
/// use mqttwire::{ConnectReasonCode, Packet, ProtocolVersion};
///
/// let bytes = bytes::Bytes::from_static(&[0x20, 0x02, 0x00, 0x01]);
/// let (packet, _) = Packet::decode(&bytes, ProtocolVersion::V5).unwrap();
/// let Packet::ConnAck(connack) = packet else { panic!() };
/// assert_eq!(connack.reason_code, ConnectReasonCode::UnsupportedProtocolVersion);
/// ```
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

#[cfg(feature = "alloc")]
impl ConnAck {
    /// A CONNACK with `reason_code`, no session, no properties.
    #[must_use]
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
}

/// [`ConnAck`] as a borrowed view of the received bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConnAckRef<'a> {
    /// Session Present: the server resumes a stored session.
    pub session_present: bool,
    /// The reason code; below 5.0 one of the six with a 3.1.1 return code.
    pub reason_code: ConnectReasonCode,
    /// Properties (MQTT 5.0).
    pub properties: ConnAckPropertiesRef<'a>,
}

impl<'a> ConnAckRef<'a> {
    pub(crate) fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let flags = r.u8("acknowledge flags")?;
        // MQTT 3.1 has no Session Present: its whole first byte is reserved.
        let reserved = if r.version == ProtocolVersion::V3_1 {
            0xFF
        } else {
            0xFE
        };
        if flags & reserved != 0 {
            let err = DecodeError::new(DecodeErrorKind::ConnAckReservedFlags { flags });
            return Err(if r.version.is_v5() {
                err.with_rule("MQTT-3.2.2-1")
            } else {
                err
            });
        }
        let code = r.u8("reason code")?;
        let reason_code = if r.version.is_v5() {
            match ConnectReasonCode::from_code(code) {
                Some(reason_code) => reason_code,
                // A server that speaks only 3.1.1 must refuse our 5.0 CONNECT with return
                // code 1 in its own layout (3.1.1 MQTT-3.1.2-2). Read as 5.0's 0x84, so the
                // application sees why and can retry at 3.1.1 (libmosquitto does the same);
                // any other two-byte CONNACK stays malformed at 5.0. Checked here, where 1
                // has already failed as a 5.0 reason code, to keep it off the common path.
                None if [flags, code] == V311_UNACCEPTABLE_LEVEL && !r.has_remaining() => {
                    return Ok(Self {
                        reason_code: ConnectReasonCode::UnsupportedProtocolVersion,
                        ..Self::default()
                    });
                }
                None => {
                    return Err(
                        DecodeError::new(DecodeErrorKind::InvalidReasonCode { code })
                            .with_rule("MQTT-3.2.2-8"),
                    )
                }
            }
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
            ConnAckPropertiesRef::decode(r)?
        } else {
            ConnAckPropertiesRef::default()
        };
        Ok(Self {
            session_present,
            reason_code,
            properties,
        })
    }
}

#[cfg(feature = "alloc")]
impl ConnAck {
    /// The owned packet whose fields are `view`'s, sliced from `frame`, which holds them.
    pub(crate) fn from_view(view: &ConnAckRef<'_>, frame: &Bytes) -> Self {
        Self {
            session_present: view.session_present,
            reason_code: view.reason_code,
            properties: ConnAckProperties::from_view(&view.properties, frame),
        }
    }

    /// The packet as a borrowed view of its own fields.
    #[must_use]
    pub fn as_view(&self) -> ConnAckRef<'_> {
        ConnAckRef {
            session_present: self.session_present,
            reason_code: self.reason_code,
            properties: self.properties.as_view(),
        }
    }
}

impl EncodeBody for ConnAckRef<'_> {
    const TYPE: PacketType = PacketType::ConnAck;

    fn body_len(&self, version: ProtocolVersion, trim: Trim) -> Result<usize, EncodeError> {
        if self.session_present && version == ProtocolVersion::V3_1 {
            return Err(EncodeError::UnsupportedInVersion {
                what: "Session Present",
                version,
            });
        }
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

    fn put_body<B: Sink + ?Sized>(&self, version: ProtocolVersion, trim: Trim, buf: &mut B) {
        buf.put_u8(u8::from(self.session_present));
        if version.is_v5() {
            buf.put_u8(self.reason_code.code());
            self.properties.put(buf, trim);
        } else {
            buf.put_u8(self.reason_code.v3_return_code().unwrap_or_default());
        }
    }
}

#[cfg(test)]
mod tests {
    //! Byte vectors from CONFORMANCE.md and hand-assembled ones, checked by hand against the
    //! layout at the top of this file.

    use super::*;
    use crate::packet::test_util::{
        both_ways, decode_as, encode, encode_err, rejects, s, M, P, V3, V4, V5,
    };
    use crate::packet::Packet;
    #[cfg(feature = "alloc")]
    use crate::properties::UserProperties;
    use crate::types::QoS;
    #[cfg(feature = "alloc")]
    use bytes::Bytes;
    use core::num::{NonZeroU16, NonZeroU32};

    /// MQTT 5.0 Table 3-1, the CONNACK reason codes ([MQTT-3.2.2-8]).
    const TABLE_3_1: [u8; 22] = [
        0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95,
        0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F,
    ];

    /// MQTT 3.1.1 return codes 0 to 5 and their 5.0 counterparts.
    const RETURN_CODES: [(u8, ConnectReasonCode); 6] = [
        (0, ConnectReasonCode::Success),
        (1, ConnectReasonCode::UnsupportedProtocolVersion),
        (2, ConnectReasonCode::ClientIdentifierNotValid),
        (3, ConnectReasonCode::ServerUnavailable),
        (4, ConnectReasonCode::BadUserNameOrPassword),
        (5, ConnectReasonCode::NotAuthorized),
    ];

    // ---- byte vectors ------------------------------------------------------------------

    #[test]
    fn accepted_without_session_v3_v311_v5() {
        let expected = ConnAck::new(ConnectReasonCode::Success);
        both_ways(&[0x20, 0x02, 0x00, 0x00], V3, &expected);
        both_ways(&[0x20, 0x02, 0x00, 0x00], V4, &expected);
        both_ways(&[0x20, 0x03, 0x00, 0x00, 0x00], V5, &expected);
    }

    /// 3.1.1 [MQTT-3.2.2-2], 5.0 [MQTT-3.2.2-3]: Session Present is bit 0 of the flags.
    #[test]
    fn accepted_with_session_present_v311_v5() {
        let mut expected = ConnAck::new(ConnectReasonCode::Success);
        expected.session_present = true;
        both_ways(&[0x20, 0x02, 0x01, 0x00], V4, &expected);
        both_ways(&[0x20, 0x03, 0x01, 0x00, 0x00], V5, &expected);
    }

    /// 3.1.1 section 3.2.2.3: return codes 0 to 5 map to their 5.0 reason codes, both ways
    /// (3.1 uses the same codes).
    #[test]
    fn v311_return_codes_map_both_ways() {
        for (code, reason) in RETURN_CODES {
            for version in [V3, V4] {
                both_ways(&[0x20, 0x02, 0x00, code], version, &ConnAck::new(reason));
            }
        }
        // In 5.0 the same refusals carry their own codes.
        let expected = ConnAck::new(ConnectReasonCode::NotAuthorized);
        both_ways(&[0x20, 0x03, 0x00, 0x87, 0x00], V5, &expected);
        let expected = ConnAck::new(ConnectReasonCode::UnsupportedProtocolVersion);
        both_ways(&[0x20, 0x03, 0x00, 0x84, 0x00], V5, &expected);
    }

    /// 5.0 [MQTT-3.2.2-8]: exactly the codes of Table 3-1 decode, and each re-encodes.
    #[test]
    fn v5_reason_codes_are_table_3_1() {
        for code in 0..=u8::MAX {
            let bytes = [0x20, 0x03, 0x00, code, 0x00];
            let result = Packet::decode(&Bytes::copy_from_slice(&bytes), V5);
            if TABLE_3_1.contains(&code) {
                let reason = ConnectReasonCode::from_code(code).unwrap();
                both_ways(&bytes, V5, &ConnAck::new(reason));
            } else {
                let err = result.unwrap_err();
                assert_eq!(err.kind(), &DecodeErrorKind::InvalidReasonCode { code });
            }
        }
    }

    /// 3.1.1 MQTT-3.1.2-2: a server that speaks only 3.1.1 refuses a 5.0 CONNECT with
    /// return code 1 in the 3.1.1 layout. Decoded at 5.0 (one-shot, slice and streaming
    /// alike) that is reason 0x84 Unsupported Protocol Version without properties, which
    /// re-encodes at 5.0 as a valid 5.0 CONNACK that decodes to the same packet.
    #[test]
    fn v5_reads_the_v311_unacceptable_protocol_level_refusal_as_0x84_mqtt_3_1_2_2() {
        let refusal = [0x20, 0x02, 0x00, 0x01];
        let expected = ConnAck::new(ConnectReasonCode::UnsupportedProtocolVersion);
        let decoded: ConnAck = decode_as(&refusal, V5);
        assert_eq!(decoded, expected);
        let mut rx = bytes::BytesMut::from(&refusal[..]);
        let streamed = crate::Decoder::new(V5).decode(&mut rx).unwrap();
        assert_eq!(streamed, Some(Packet::ConnAck(expected.clone())));
        assert!(rx.is_empty());
        let v5 = [0x20, 0x03, 0x00, 0x84, 0x00];
        assert_eq!(encode(&decoded, V5).unwrap(), v5);
        both_ways(&v5, V5, &expected);
        // At 3.1 and 3.1.1 it was always return code 1.
        both_ways(&refusal, V4, &expected);
        both_ways(&refusal, V3, &expected);
    }

    /// Only that exact refusal: every other CONNACK in the 3.1.1 layout is still refused
    /// at 5.0, by the rule it breaks there (the reason code from Table 3-1, 5.0
    /// MQTT-3.2.2-8; Session Present on a refusal, 5.0 MQTT-3.2.2-6; reserved flags, 5.0
    /// MQTT-3.2.2-1; the Property Length).
    #[test]
    fn v5_rejects_every_other_v311_layout_connack() {
        let no_properties = DecodeErrorKind::UnexpectedEnd {
            field: "property length",
        };
        rejects(&[0x20, 0x02, 0x00, 0x00], V5, no_properties, M, None);
        for code in 2..=5 {
            let kind = DecodeErrorKind::InvalidReasonCode { code };
            rejects(&[0x20, 0x02, 0x00, code], V5, kind, P, Some("MQTT-3.2.2-8"));
        }
        let kind = DecodeErrorKind::InvalidReasonCode { code: 1 };
        rejects(
            &[0x20, 0x02, 0x01, 0x01],
            V5,
            kind.clone(),
            P,
            Some("MQTT-3.2.2-8"),
        );
        let flags = DecodeErrorKind::ConnAckReservedFlags { flags: 0x02 };
        rejects(
            &[0x20, 0x02, 0x02, 0x01],
            V5,
            flags,
            M,
            Some("MQTT-3.2.2-1"),
        );
        // Return code 1 in the 5.0 layout is not a 5.0 reason code.
        rejects(
            &[0x20, 0x03, 0x00, 0x01, 0x00],
            V5,
            kind,
            P,
            Some("MQTT-3.2.2-8"),
        );
    }

    /// Single properties from CONFORMANCE.md sections 3.2, 8, 10, 11 and 12.
    #[test]
    fn single_property_vectors_v5() {
        let rows: [(&[u8], ConnAckProperties); 7] = [
            (
                // Assigned Client Identifier "x1" ([MQTT-3.2.2-16]).
                &[0x20, 0x08, 0x00, 0x00, 0x05, 0x12, 0x00, 0x02, 0x78, 0x31],
                ConnAckProperties::default().with_assigned_client_identifier(s("x1")),
            ),
            (
                // Receive Maximum 2.
                &[0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x02],
                ConnAckProperties {
                    receive_maximum: NonZeroU16::new(2),
                    ..Default::default()
                },
            ),
            (
                // Topic Alias Maximum 4.
                &[0x20, 0x06, 0x00, 0x00, 0x03, 0x22, 0x00, 0x04],
                ConnAckProperties {
                    topic_alias_maximum: Some(4),
                    ..Default::default()
                },
            ),
            (
                // Server Keep Alive 5.
                &[0x20, 0x06, 0x00, 0x00, 0x03, 0x13, 0x00, 0x05],
                ConnAckProperties {
                    server_keep_alive: Some(5),
                    ..Default::default()
                },
            ),
            (
                // Maximum QoS 1.
                &[0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x01],
                ConnAckProperties {
                    maximum_qos: Some(QoS::AtLeastOnce),
                    ..Default::default()
                },
            ),
            (
                // Retain Available 0.
                &[0x20, 0x05, 0x00, 0x00, 0x02, 0x25, 0x00],
                ConnAckProperties {
                    retain_available: Some(false),
                    ..Default::default()
                },
            ),
            (
                // Maximum Packet Size 20.
                &[0x20, 0x08, 0x00, 0x00, 0x05, 0x27, 0x00, 0x00, 0x00, 0x14],
                ConnAckProperties {
                    maximum_packet_size: NonZeroU32::new(20),
                    ..Default::default()
                },
            ),
        ];
        for (bytes, properties) in rows {
            let expected = ConnAck {
                properties,
                ..ConnAck::new(ConnectReasonCode::Success)
            };
            both_ways(bytes, V5, &expected);
        }
    }

    fn every_property() -> ConnAck {
        ConnAck {
            session_present: true,
            reason_code: ConnectReasonCode::Success,
            properties: ConnAckProperties {
                session_expiry_interval: Some(10),
                receive_maximum: NonZeroU16::new(10),
                maximum_qos: Some(QoS::AtLeastOnce),
                retain_available: Some(false),
                maximum_packet_size: NonZeroU32::new(1024),
                topic_alias_maximum: Some(5),
                wildcard_subscription_available: Some(false),
                subscription_identifier_available: Some(false),
                shared_subscription_available: Some(true),
                server_keep_alive: Some(30),
                ..Default::default()
            }
            .with_assigned_client_identifier(s("x1"))
            .with_reason_string(s("ok"))
            .with_response_information(s("r"))
            .with_server_reference(s("s"))
            .with_authentication_method(s("M"))
            .with_authentication_data(Bytes::from_static(&[0xAB]))
            .unwrap()
            .with_user_properties(UserProperties::from_pairs([("k", "v")]).unwrap()),
        }
    }

    /// Every property; a built set writes the fixed-size ones first, then strings, binary
    /// data and User Properties, while any order decodes (MQTT 5.0 prescribes none).
    #[test]
    fn every_property_v5() {
        // Properties 5+3+2+2+5+3+2+2+2+3+5+5+4+4+4+4+7 = 62 (0x3E); RL 2 + 1 + 62 = 65.
        let bytes = [
            0x20, 0x41, // fixed header
            0x01, 0x00, // session present, success
            0x3E, // property length
            0x11, 0x00, 0x00, 0x00, 0x0A, // Session Expiry Interval 10
            0x21, 0x00, 0x0A, // Receive Maximum 10
            0x24, 0x01, // Maximum QoS 1
            0x25, 0x00, // Retain Available 0
            0x27, 0x00, 0x00, 0x04, 0x00, // Maximum Packet Size 1024
            0x22, 0x00, 0x05, // Topic Alias Maximum 5
            0x28, 0x00, // Wildcard Subscription Available 0
            0x29, 0x00, // Subscription Identifier Available 0
            0x2A, 0x01, // Shared Subscription Available 1
            0x13, 0x00, 0x1E, // Server Keep Alive 30
            0x12, 0x00, 0x02, b'x', b'1', // Assigned Client Identifier "x1"
            0x1F, 0x00, 0x02, b'o', b'k', // Reason String "ok"
            0x1A, 0x00, 0x01, b'r', // Response Information "r"
            0x1C, 0x00, 0x01, b's', // Server Reference "s"
            0x15, 0x00, 0x01, b'M', // Authentication Method "M"
            0x16, 0x00, 0x01, 0xAB, // Authentication Data
            0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property k=v
        ];
        assert_eq!(bytes.len(), 2 + 0x41);
        both_ways(&bytes, V5, &every_property());

        // The same properties interleaved decode to the same packet, which encodes as above.
        let interleaved = [
            0x20, 0x41, 0x01, 0x00, 0x3E, //
            0x11, 0x00, 0x00, 0x00, 0x0A, 0x21, 0x00, 0x0A, 0x24, 0x01, 0x25, 0x00, 0x27, 0x00,
            0x00, 0x04, 0x00, //
            0x12, 0x00, 0x02, b'x', b'1', // Assigned Client Identifier "x1"
            0x22, 0x00, 0x05, // Topic Alias Maximum 5
            0x1F, 0x00, 0x02, b'o', b'k', // Reason String "ok"
            0x28, 0x00, 0x29, 0x00, 0x2A, 0x01, 0x13, 0x00, 0x1E, //
            0x1A, 0x00, 0x01, b'r', 0x1C, 0x00, 0x01, b's', 0x15, 0x00, 0x01, b'M', 0x16, 0x00,
            0x01, 0xAB, 0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v',
        ];
        let decoded: ConnAck = decode_as(&interleaved, V5);
        assert_eq!(decoded, every_property());
        assert_eq!(encode(&decoded, V5).unwrap(), bytes);
    }

    /// Decoded strings share the input; `detach` copies them out.
    #[test]
    fn detach_copies_out_of_the_input() {
        let bytes = [0x20, 0x08, 0x00, 0x00, 0x05, 0x12, 0x00, 0x02, 0x78, 0x31];
        let input = Bytes::copy_from_slice(&bytes);
        let range = input.as_ptr_range();
        let (packet, _) = Packet::decode(&input, V5).unwrap();
        let id = |p: &Packet| match p {
            Packet::ConnAck(c) => c.properties.assigned_client_identifier().unwrap(),
            _ => panic!(),
        };
        assert!(range.contains(&id(&packet).as_ptr()));
        let detached = packet.detach();
        assert_eq!(detached, packet);
        assert!(!range.contains(&id(&detached).as_ptr()));
    }

    /// 5.0 [MQTT-3.2.2-19] and [MQTT-3.2.2-20]: to fit the client's Maximum Packet Size the
    /// Reason String goes first, then the User Properties.
    #[test]
    fn encode_with_limit_drops_reason_string_then_user_properties_mqtt_3_2_2_19_20() {
        let mut connack = ConnAck::new(ConnectReasonCode::Success);
        connack.properties.set_reason_string(Some(s("ok")));
        connack
            .properties
            .set_user_properties(UserProperties::from_pairs([("k", "v")]).unwrap());
        let packet = Packet::ConnAck(connack);
        let full: &[u8] = &[
            0x20, 0x0F, 0x00, 0x00, 0x0C, 0x1F, 0x00, 0x02, b'o', b'k', 0x26, 0x00, 0x01, b'k',
            0x00, 0x01, b'v',
        ];
        let no_reason: &[u8] = &[
            0x20, 0x0A, 0x00, 0x00, 0x07, 0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v',
        ];
        let bare: &[u8] = &[0x20, 0x03, 0x00, 0x00, 0x00];
        for (limit, expected) in [(17, full), (16, no_reason), (12, no_reason), (11, bare)] {
            let mut buf = [0xAA; 32];
            let written = packet
                .encode_with_limit(V5, limit, &mut &mut buf[..])
                .unwrap();
            assert_eq!(&buf[..written], expected, "limit {limit}");
            assert!(buf[written..].iter().all(|&b| b == 0xAA));
        }
        let mut buf = [0xAA; 32];
        let err = packet.encode_with_limit(V5, 4, &mut &mut buf[..]);
        assert_eq!(err, Err(EncodeError::PacketTooLarge { size: 5, max: 4 }));
        assert!(buf.iter().all(|&b| b == 0xAA));
    }

    // ---- decoder rejections ------------------------------------------------------------

    /// 3.1.1 [MQTT-2.2.2-1], 5.0 [MQTT-2.1.3-1]: CONNACK's fixed header flags are 0000.
    #[test]
    fn rejects_fixed_header_flags_mqtt_2_2_2_1_v311_mqtt_2_1_3_1_v5() {
        let kind = DecodeErrorKind::InvalidFlags { flags: 1 };
        rejects(
            &[0x21, 0x02, 0x00, 0x00],
            V4,
            kind.clone(),
            M,
            Some("MQTT-2.2.2-1"),
        );
        let bytes = [0x21, 0x03, 0x00, 0x00, 0x00];
        rejects(&bytes, V5, kind, M, Some("MQTT-2.1.3-1"));
    }

    /// 5.0 [MQTT-3.2.2-1]: acknowledge flags bits 7-1 are reserved. 3.1.1 has the same rule
    /// in untagged text (its MQTT-3.2.2-1 is about Clean Session), so no tag there.
    #[test]
    fn rejects_connack_reserved_flags_mqtt_3_2_2_1() {
        for flags in [0x02, 0x80, 0xFF] {
            let kind = DecodeErrorKind::ConnAckReservedFlags { flags };
            let bytes = [0x20, 0x03, flags, 0x00, 0x00];
            rejects(&bytes, V5, kind.clone(), M, Some("MQTT-3.2.2-1"));
            rejects(&[0x20, 0x02, flags, 0x00], V4, kind, M, None);
        }
    }

    /// 5.0 [MQTT-3.2.2-8]: the reason code comes from Table 3-1; a code from another table
    /// (0x10 No matching subscribers, 0x8E Session taken over) is a Protocol Error.
    #[test]
    fn rejects_reason_code_not_in_table_3_1_mqtt_3_2_2_8() {
        for code in [0x10, 0x8E, 0x01, 0x8B, 0xA2, 0xFF] {
            let bytes = [0x20, 0x03, 0x00, code, 0x00];
            let kind = DecodeErrorKind::InvalidReasonCode { code };
            rejects(&bytes, V5, kind, P, Some("MQTT-3.2.2-8"));
        }
        // The encoder cannot even be handed one.
        assert_eq!(ConnectReasonCode::try_from(0x10), Err(0x10));
        assert_eq!(ConnectReasonCode::try_from(0x8E), Err(0x8E));
    }

    /// 3.1.1 section 3.2.2.3: return codes 6 to 255 are reserved (and so are the 5.0
    /// codes).
    #[test]
    fn rejects_v311_reserved_return_code() {
        for code in [0x06, 0x80, 0x87, 0xFF] {
            let kind = DecodeErrorKind::InvalidReasonCode { code };
            rejects(&[0x20, 0x02, 0x00, code], V4, kind.clone(), P, None);
            rejects(&[0x20, 0x02, 0x00, code], V3, kind, P, None);
        }
    }

    /// MQTT 3.1 has no Session Present: the first byte of its CONNACK is reserved.
    #[test]
    fn v3_1_connack_has_no_session_present() {
        let kind = DecodeErrorKind::ConnAckReservedFlags { flags: 0x01 };
        rejects(&[0x20, 0x02, 0x01, 0x00], V3, kind, M, None);
        assert!(Packet::decode(&Bytes::from_static(&[0x20, 0x02, 0x01, 0x00]), V4).is_ok());

        let connack = ConnAck {
            session_present: true,
            ..ConnAck::new(ConnectReasonCode::Success)
        };
        assert_eq!(
            encode_err(&connack, V3),
            EncodeError::UnsupportedInVersion {
                what: "Session Present",
                version: V3
            }
        );
    }

    /// 3.1.1 [MQTT-3.2.2-4], 5.0 [MQTT-3.2.2-6]: no Session Present on a refusal.
    #[test]
    fn rejects_session_present_with_refusal_mqtt_3_2_2_4_v311_mqtt_3_2_2_6_v5() {
        let kind = DecodeErrorKind::SessionPresentOnRefusal;
        for code in 1..=5 {
            let bytes = [0x20, 0x02, 0x01, code];
            rejects(&bytes, V4, kind.clone(), P, Some("MQTT-3.2.2-4"));
        }
        let bytes = [0x20, 0x03, 0x01, 0x87, 0x00];
        rejects(&bytes, V5, kind, P, Some("MQTT-3.2.2-6"));

        // And the encoder will not build one.
        let connack = ConnAck {
            session_present: true,
            ..ConnAck::new(ConnectReasonCode::NotAuthorized)
        };
        for (version, rule) in [(V4, "MQTT-3.2.2-4"), (V5, "MQTT-3.2.2-6")] {
            let err = encode_err(&connack, version);
            assert!(
                matches!(err, EncodeError::Invalid { rule: Some(r), .. } if r == rule),
                "{err:?}"
            );
        }
    }

    /// 5.0 section 3.2.2.3.4: Maximum QoS is 0 or 1 (absent means 2).
    #[test]
    fn rejects_maximum_qos_2() {
        let bytes = [0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02];
        let kind = DecodeErrorKind::InvalidPropertyValue { id: 0x24, value: 2 };
        rejects(&bytes, V5, kind, P, None);
        let mut connack = ConnAck::new(ConnectReasonCode::Success);
        connack.properties.maximum_qos = Some(QoS::ExactlyOnce);
        let err = encode_err(&connack, V5);
        assert!(matches!(err, EncodeError::Invalid { .. }), "{err:?}");
    }

    /// 5.0 sections 3.2.2.3.3 and 3.2.2.3.6: Receive Maximum and Maximum Packet Size are
    /// never 0.
    #[test]
    fn rejects_receive_maximum_and_maximum_packet_size_0() {
        let bytes = [0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x00];
        let kind = DecodeErrorKind::InvalidPropertyValue { id: 0x21, value: 0 };
        rejects(&bytes, V5, kind, P, None);
        let bytes = [0x20, 0x08, 0x00, 0x00, 0x05, 0x27, 0x00, 0x00, 0x00, 0x00];
        let kind = DecodeErrorKind::InvalidPropertyValue { id: 0x27, value: 0 };
        rejects(&bytes, V5, kind, P, None);
    }

    /// 5.0 sections 3.2.2.3.5 and 3.2.2.3.11 to 3.2.2.3.13: the availability bytes are 0
    /// or 1.
    #[test]
    fn rejects_availability_byte_above_1() {
        for id in [0x25, 0x28, 0x29, 0x2A] {
            let bytes = [0x20, 0x05, 0x00, 0x00, 0x02, id, 0x02];
            let kind = DecodeErrorKind::InvalidPropertyValue { id, value: 2 };
            rejects(&bytes, V5, kind, P, None);
        }
    }

    /// 5.0 section 3.2.2.3: a property twice is a Protocol Error.
    #[test]
    fn rejects_duplicate_receive_maximum() {
        let bytes = [
            0x20, 0x09, 0x00, 0x00, 0x06, 0x21, 0x00, 0x02, 0x21, 0x00, 0x02,
        ];
        let kind = DecodeErrorKind::DuplicateProperty { id: 0x21 };
        rejects(&bytes, V5, kind, P, None);
    }

    /// 5.0 section 2.2.2.2: a property CONNACK may not carry is a Malformed Packet.
    #[test]
    fn rejects_property_not_allowed_in_connack() {
        // Topic Alias 1.
        let bytes = [0x20, 0x06, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01];
        let kind = DecodeErrorKind::PropertyNotAllowed { id: 0x23 };
        rejects(&bytes, V5, kind, M, None);
        // Request Problem Information 1 (a CONNECT property).
        let bytes = [0x20, 0x05, 0x00, 0x00, 0x02, 0x17, 0x01];
        let kind = DecodeErrorKind::PropertyNotAllowed { id: 0x17 };
        rejects(&bytes, V5, kind, M, None);
    }

    /// 5.0 section 2.2.2.1: properties overrunning the Property Length, or a Property Length
    /// overrunning the packet, are a Malformed Packet.
    #[test]
    fn rejects_property_length_overrunning_the_packet() {
        let bytes = [0x20, 0x05, 0x00, 0x00, 0x05, 0x21, 0x00];
        let kind = DecodeErrorKind::UnexpectedEnd {
            field: "properties",
        };
        rejects(&bytes, V5, kind, M, None);
        // Property Length 2 holding a three-byte Receive Maximum.
        let bytes = [0x20, 0x06, 0x00, 0x00, 0x02, 0x21, 0x00, 0x0A];
        let kind = DecodeErrorKind::UnexpectedEnd {
            field: "Receive Maximum",
        };
        rejects(&bytes, V5, kind, M, None);
    }

    /// 5.0 [MQTT-2.2.2-1]: CONNACK always has a Property Length, unlike the short acks.
    #[test]
    fn rejects_v5_connack_without_property_length() {
        let kind = DecodeErrorKind::UnexpectedEnd {
            field: "property length",
        };
        rejects(&[0x20, 0x02, 0x00, 0x00], V5, kind, M, None);
    }

    /// The fields fill the Remaining Length exactly: 3.1.1 CONNACK is always two bytes.
    #[test]
    fn rejects_wrong_remaining_length() {
        let kind = DecodeErrorKind::TrailingBytes { count: 1 };
        rejects(&[0x20, 0x03, 0x00, 0x00, 0x00], V4, kind, M, None);
        let kind = DecodeErrorKind::UnexpectedEnd {
            field: "reason code",
        };
        rejects(&[0x20, 0x01, 0x00], V4, kind.clone(), M, None);
        rejects(&[0x20, 0x01, 0x00], V5, kind, M, None);
        let kind = DecodeErrorKind::UnexpectedEnd {
            field: "acknowledge flags",
        };
        rejects(&[0x20, 0x00], V4, kind, M, None);
        // 5.0: a byte after the (empty) properties.
        let kind = DecodeErrorKind::TrailingBytes { count: 1 };
        rejects(&[0x20, 0x04, 0x00, 0x00, 0x00, 0x00], V5, kind, M, None);
    }

    // ---- encoder refusals --------------------------------------------------------------

    /// Reason codes with no 3.1.1 return code cannot be encoded below 5.0.
    #[test]
    fn encoder_refuses_v5_only_reason_codes_below_v5() {
        for code in TABLE_3_1 {
            let reason = ConnectReasonCode::from_code(code).unwrap();
            let connack = ConnAck::new(reason);
            if RETURN_CODES.iter().any(|&(_, r)| r == reason) {
                continue;
            }
            for version in [V3, V4] {
                assert_eq!(
                    encode_err(&connack, version),
                    EncodeError::UnsupportedInVersion {
                        what: "this CONNACK reason code",
                        version
                    },
                    "{reason:?}"
                );
            }
        }
    }

    #[test]
    fn encoder_refuses_properties_below_v5() {
        let mut connack = ConnAck::new(ConnectReasonCode::Success);
        connack.properties.server_keep_alive = Some(5);
        for version in [V3, V4] {
            assert_eq!(
                encode_err(&connack, version),
                EncodeError::UnsupportedInVersion {
                    what: "CONNACK properties",
                    version
                }
            );
        }
    }
}
