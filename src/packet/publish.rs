//! PUBLISH: an application message (MQTT 5.0 section 3.3, 3.1.1 section 3.3).
//!
//! ```text
//! fixed header    0x30 | DUP << 3 | QoS << 1 | RETAIN, Remaining Length
//! variable header Topic Name        string, no wildcards
//!                 Packet Identifier two-byte integer, QoS 1 and 2 only
//!                 Properties        (5.0 only)
//! payload         the rest of the packet, possibly empty
//! ```

use super::{v5_only, EncodeBody};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
#[cfg(feature = "alloc")]
use crate::properties::PublishProperties;
use crate::properties::PublishPropertiesRef;
#[cfg(feature = "alloc")]
use crate::types::string::slice_of;
use crate::types::PacketType;
use crate::types::{InvalidTopic, ProtocolVersion, QosPid, TopicStr};
#[cfg(feature = "alloc")]
use crate::types::{MqttString, TopicName};
use crate::wire::reader::Reader;
use crate::wire::writer::{put_str, Sink};
use crate::wire::Trim;
use crate::ReasonCode;
#[cfg(feature = "alloc")]
use bytes::Bytes;

#[cfg(feature = "alloc")]
/// PUBLISH: an application message on a topic.
///
/// ```
/// use mqttwire::{PacketId, Publish, QosPid, TopicName};
///
/// let mut publish = Publish::new(TopicName::new("sensors/temp").unwrap(), &b"21.5"[..]);
/// publish.qos = QosPid::AtLeastOnce(PacketId::new(7).unwrap());
/// publish.retain = true;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    /// DUP: this is a retransmission. Never set with QoS 0 ([MQTT-3.3.1-2]).
    pub dup: bool,
    /// QoS and, for QoS 1 and 2, the packet identifier.
    pub qos: QosPid,
    /// RETAIN.
    pub retain: bool,
    /// Topic Name; empty only with a Topic Alias property (MQTT 5.0).
    pub topic: TopicName,
    /// The application message, a slice of the received frame when decoded.
    pub payload: Bytes,
    /// Properties (MQTT 5.0).
    pub properties: PublishProperties,
}

#[cfg(feature = "alloc")]
impl Publish {
    /// A QoS 0 message, neither retained nor duplicate.
    #[must_use]
    pub fn new(topic: TopicName, payload: impl Into<Bytes>) -> Self {
        Self {
            dup: false,
            qos: QosPid::AtMostOnce,
            retain: false,
            topic,
            payload: payload.into(),
            properties: PublishProperties::default(),
        }
    }

    /// A copy whose topic, payload and properties own their bytes instead of sharing the
    /// frame they were decoded from, so that keeping it (a retained message, a message
    /// queued for an offline client) does not keep a large receive buffer alive. The same
    /// as [`Packet::detach`](crate::Packet::detach) for a PUBLISH.
    #[must_use]
    pub fn detach(&self) -> Self {
        Self {
            topic: self.topic.detach(),
            payload: Bytes::copy_from_slice(&self.payload),
            properties: self.properties.detach(),
            ..*self
        }
    }
}

/// PUBLISH as a borrowed view of the received bytes: what [`Publish`] holds, with the topic,
/// payload and properties as slices of the input. [`PacketRef::decode`] makes one, with
/// every check the owned decoder makes.
///
/// ```
/// use mqttwire::{Decoded, PacketRef, ProtocolVersion};
///
/// let input = [0x30, 0x05, 0x00, 0x01, b'a', b'h', b'i'];
/// let Ok(Decoded::Complete(PacketRef::Publish(publish), used)) =
///     PacketRef::decode(&input, ProtocolVersion::V3_1_1)
/// else {
///     panic!()
/// };
/// assert_eq!((publish.topic.as_str(), publish.payload, used), ("a", &b"hi"[..], 7));
/// ```
///
/// [`PacketRef::decode`]: crate::PacketRef::decode
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishRef<'a> {
    /// DUP: this is a retransmission.
    pub dup: bool,
    /// QoS and, for QoS 1 and 2, the packet identifier.
    pub qos: QosPid,
    /// RETAIN.
    pub retain: bool,
    /// Topic Name, free of wildcards; empty only with a Topic Alias property (MQTT 5.0).
    pub topic: TopicStr<'a>,
    /// The application message.
    pub payload: &'a [u8],
    /// Properties (MQTT 5.0).
    pub properties: PublishPropertiesRef<'a>,
}

impl<'a> PublishRef<'a> {
    /// A QoS 0 message on `topic`, neither retained nor duplicate, without properties: a
    /// PUBLISH to encode, built from borrowed parts.
    #[must_use]
    pub fn new(topic: TopicStr<'a>, payload: &'a [u8]) -> Self {
        Self {
            dup: false,
            qos: QosPid::AtMostOnce,
            retain: false,
            topic,
            payload,
            properties: PublishPropertiesRef::default(),
        }
    }

    #[inline(always)]
    pub(crate) fn decode(r: &mut Reader<'a>, flags: u8) -> Result<Self, DecodeError> {
        let field = "topic name";
        let (topic, wildcards) = r
            .string_and_wildcards(field)
            .map_err(|e| e.when_missing("MQTT-3.3.2-1"))?;
        if wildcards {
            let reason = InvalidTopic::WildcardInName;
            return Err(
                DecodeError::new(DecodeErrorKind::InvalidTopic { field, reason })
                    .with_rule("MQTT-3.3.2-2"),
            );
        }
        // The fixed header parser has already refused QoS 3 and DUP on QoS 0.
        let qos = match (flags >> 1) & 0b11 {
            0 => QosPid::AtMostOnce,
            1 => QosPid::AtLeastOnce(r.packet_id(PacketType::Publish)?),
            _ => QosPid::ExactlyOnce(r.packet_id(PacketType::Publish)?),
        };
        let properties = if r.version.is_v5() {
            PublishPropertiesRef::decode(r)?
        } else {
            PublishPropertiesRef::default()
        };
        if topic.is_empty() {
            let err = DecodeError::new(DecodeErrorKind::EmptyTopicName { field });
            if !r.version.is_v5() {
                return Err(err
                    .with_rule("MQTT-4.7.3-1")
                    .with_reason(ReasonCode::MALFORMED_PACKET));
            }
            // 5.0: an empty Topic Name stands for the one the Topic Alias maps to.
            if properties.topic_alias.is_none() {
                return Err(err);
            }
        }
        Ok(Self {
            dup: flags & 0b1000 != 0,
            qos,
            retain: flags & 1 != 0,
            topic: TopicStr::from_checked(topic),
            payload: r.rest(),
            properties,
        })
    }
}

#[cfg(feature = "alloc")]
impl Publish {
    /// The owned PUBLISH whose fields are `view`'s, sliced from `frame`, which holds them.
    #[inline(always)]
    pub(crate) fn from_view(view: &PublishRef<'_>, frame: &Bytes) -> Self {
        Self {
            dup: view.dup,
            qos: view.qos,
            retain: view.retain,
            topic: TopicName::from_checked(MqttString::in_frame(frame, view.topic.as_mqtt_str())),
            payload: slice_of(frame, view.payload),
            properties: PublishProperties::from_view(&view.properties, frame),
        }
    }

    /// The PUBLISH as a borrowed view of its own fields.
    #[must_use]
    pub fn as_view(&self) -> PublishRef<'_> {
        PublishRef {
            dup: self.dup,
            qos: self.qos,
            retain: self.retain,
            topic: self.topic.as_borrowed(),
            payload: &self.payload,
            properties: self.properties.as_view(),
        }
    }
}

impl EncodeBody for PublishRef<'_> {
    const TYPE: PacketType = PacketType::Publish;

    fn flags(&self) -> u8 {
        u8::from(self.dup) << 3 | self.qos.qos().bits() << 1 | u8::from(self.retain)
    }

    #[inline(always)]
    fn body_len(&self, version: ProtocolVersion, _trim: Trim) -> Result<usize, EncodeError> {
        if self.dup && self.qos == QosPid::AtMostOnce {
            return Err(EncodeError::invalid(
                "DUP set on a QoS 0 PUBLISH",
                Some("MQTT-3.3.1-2"),
            ));
        }
        let mut len = self.topic.as_mqtt_str().wire_len() + self.payload.len();
        if self.qos.packet_id().is_some() {
            len += 2;
        }
        if !version.is_v5() {
            // Below 5.0 there are no properties, hence no Topic Alias and nothing to check.
            v5_only(version, self.properties.is_empty(), "PUBLISH properties")?;
            if self.topic.is_empty() {
                return Err(no_topic());
            }
            return Ok(len);
        }
        if self.topic.is_empty() && self.properties.topic_alias.is_none() {
            return Err(no_topic());
        }
        self.properties.check()?;
        Ok(len + self.properties.wire_len(Trim::Nothing))
    }

    #[inline(always)]
    fn put_body<B: Sink + ?Sized>(&self, version: ProtocolVersion, _trim: Trim, buf: &mut B) {
        put_str(buf, self.topic.as_mqtt_str());
        if let Some(id) = self.qos.packet_id() {
            buf.put_u16(id.get());
        }
        if version.is_v5() {
            self.properties.put(buf, Trim::Nothing);
        }
        buf.put_slice(self.payload);
    }
}

fn no_topic() -> EncodeError {
    EncodeError::invalid(
        "empty topic name without a Topic Alias",
        Some("MQTT-4.7.3-1"),
    )
}

#[cfg(test)]
mod tests {
    //! Byte vectors from CONFORMANCE.md and hand-assembled ones, checked by hand against the
    //! layout at the top of this file.

    use super::*;
    use crate::packet::test_util::{
        both_ways, decode_as, encode, encode_err, pid, rejects, topic, M, P, V3, V4, V5,
    };
    use crate::properties::PayloadFormat;
    #[cfg(feature = "alloc")]
    use crate::properties::{SubscriptionIds, UserProperties};
    #[cfg(feature = "alloc")]
    use crate::types::MqttString;
    use crate::types::{InvalidTopic, SubscriptionId};
    use crate::Packet;
    use alloc::vec;
    #[cfg(feature = "alloc")]
    use alloc::vec::Vec;
    use core::num::NonZeroU16;

    fn publish(name: &str, payload: &'static [u8]) -> Publish {
        Publish::new(topic(name), payload)
    }

    fn invalid_rule(err: &EncodeError) -> Option<&'static str> {
        match err {
            EncodeError::Invalid { rule, .. } => *rule,
            other => panic!("not EncodeError::Invalid: {other:?}"),
        }
    }

    // ---- byte vectors ------------------------------------------------------------------

    /// Section 3.3.3, 3.1.1 [MQTT-2.3.1-5]: QoS 0 has no packet identifier, so the bytes
    /// after the topic are payload.
    #[test]
    fn qos0_bytes_after_topic_are_payload_v3_v311_mqtt_2_3_1_5() {
        let bytes = [0x30, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01];
        let expected = publish("a", &[0x00, 0x01]);
        both_ways(&bytes, V4, &expected);
        both_ways(&bytes, V3, &expected);
    }

    /// 5.0 [MQTT-2.2.1-2]: no packet identifier at QoS 0; the payload may be empty.
    #[test]
    fn qos0_empty_payload_v5_mqtt_2_2_1_2() {
        let bytes = [0x30, 0x04, 0x00, 0x01, 0x61, 0x00];
        let decoded: Publish = decode_as(&bytes, V5);
        assert!(decoded.payload.is_empty());
        assert_eq!(decoded.qos.packet_id(), None);
        both_ways(&bytes, V5, &publish("a", b""));
    }

    #[test]
    fn qos0_with_payload_v311_v5() {
        let expected = publish("a/b", b"hello");
        let v4 = [
            0x30, 0x0A, 0x00, 0x03, b'a', b'/', b'b', b'h', b'e', b'l', b'l', b'o',
        ];
        both_ways(&v4, V4, &expected);
        let v5 = [
            0x30, 0x0B, 0x00, 0x03, b'a', b'/', b'b', 0x00, b'h', b'e', b'l', b'l', b'o',
        ];
        both_ways(&v5, V5, &expected);
    }

    #[test]
    fn qos1_and_qos2_carry_packet_identifier() {
        let mut expected = publish("a", b"");
        expected.qos = QosPid::AtLeastOnce(pid(1));
        both_ways(&[0x32, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01], V4, &expected);
        expected.qos = QosPid::AtLeastOnce(pid(0x2A));
        let bytes = [0x32, 0x06, 0x00, 0x01, 0x61, 0x00, 0x2A, 0x00];
        both_ways(&bytes, V5, &expected);
        expected.qos = QosPid::ExactlyOnce(pid(7));
        let bytes = [0x34, 0x06, 0x00, 0x01, 0x61, 0x00, 0x07, 0x00];
        both_ways(&bytes, V5, &expected);
        expected.qos = QosPid::ExactlyOnce(pid(0xFFFF));
        both_ways(&[0x34, 0x05, 0x00, 0x01, 0x61, 0xFF, 0xFF], V4, &expected);
    }

    /// [MQTT-3.3.1-1]: DUP, QoS and RETAIN in the first byte (0x30 | 8 | 2 << 1 | 1).
    #[test]
    fn dup_qos2_retain_flags() {
        let mut expected = publish("a", b"hi");
        expected.dup = true;
        expected.retain = true;
        expected.qos = QosPid::ExactlyOnce(pid(7));
        let bytes = [0x3D, 0x07, 0x00, 0x01, 0x61, 0x00, 0x07, b'h', b'i'];
        both_ways(&bytes, V3, &expected);
        both_ways(&bytes, V4, &expected);
        let bytes = [0x3D, 0x08, 0x00, 0x01, 0x61, 0x00, 0x07, 0x00, b'h', b'i'];
        both_ways(&bytes, V5, &expected);
        // DUP on QoS 1: 0x30 | 8 | 2 = 0x3A.
        expected.retain = false;
        expected.qos = QosPid::AtLeastOnce(pid(7));
        expected.payload = Bytes::new();
        let bytes = [0x3A, 0x05, 0x00, 0x01, 0x61, 0x00, 0x07];
        both_ways(&bytes, V4, &expected);
    }

    /// 3.1.1 [MQTT-3.3.1-10], 5.0 [MQTT-3.3.1-6]: a retained message with an empty payload.
    #[test]
    fn retained_empty_payload() {
        let mut expected = publish("t", b"");
        expected.retain = true;
        both_ways(&[0x31, 0x03, 0x00, 0x01, 0x74], V4, &expected);
        both_ways(&[0x31, 0x04, 0x00, 0x01, 0x74, 0x00], V5, &expected);
    }

    /// A two-byte Remaining Length: 3 + 200 = 203 = `CB 01`.
    #[test]
    fn two_byte_remaining_length() {
        let payload: &'static [u8] = &[0x5A; 200];
        let mut bytes = vec![0x30, 0xCB, 0x01, 0x00, 0x01, 0x61];
        bytes.extend_from_slice(payload);
        both_ways(&bytes, V4, &publish("a", payload));
    }

    fn every_property() -> Publish {
        Publish {
            dup: false,
            qos: QosPid::AtLeastOnce(pid(5)),
            retain: true,
            topic: topic("a/b"),
            payload: Bytes::from_static(b"hi"),
            properties: PublishProperties {
                payload_format_indicator: Some(PayloadFormat::Utf8),
                message_expiry_interval: Some(60),
                topic_alias: NonZeroU16::new(1),
                ..Default::default()
            }
            .with_response_topic(topic("r"))
            .unwrap()
            .with_correlation_data(Bytes::from_static(&[0xAB, 0xCD]))
            .unwrap()
            .with_content_type(MqttString::new("t").unwrap())
            .with_user_properties(UserProperties::from_pairs([("k", "1"), ("k", "2")]).unwrap())
            .with_subscription_identifiers(
                [1, 128]
                    .into_iter()
                    .filter_map(SubscriptionId::new)
                    .collect(),
            ),
        }
    }

    /// Every PUBLISH property once, User Property twice with the same name and two
    /// Subscription Identifiers; the payload follows the properties exactly.
    #[test]
    fn every_property_v5() {
        // Properties 2+5+3+4+5+4+7+7+2+3 = 42 (0x2A); RL 5 + 2 + 1 + 42 + 2 = 52 (0x34).
        let bytes = [
            0x33, 0x34, // QoS 1, RETAIN
            0x00, 0x03, b'a', b'/', b'b', // topic
            0x00, 0x05, // packet identifier
            0x2A, // property length
            0x01, 0x01, // Payload Format Indicator UTF-8
            0x02, 0x00, 0x00, 0x00, 0x3C, // Message Expiry Interval 60
            0x23, 0x00, 0x01, // Topic Alias 1
            0x08, 0x00, 0x01, b'r', // Response Topic "r"
            0x09, 0x00, 0x02, 0xAB, 0xCD, // Correlation Data
            0x03, 0x00, 0x01, b't', // Content Type "t"
            0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'1', // User Property k=1
            0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'2', // User Property k=2
            0x0B, 0x01, // Subscription Identifier 1
            0x0B, 0x80, 0x01, // Subscription Identifier 128
            b'h', b'i', // payload
        ];
        assert_eq!(bytes.len(), 2 + 0x34);
        both_ways(&bytes, V5, &every_property());
        let decoded: Publish = decode_as(&bytes, V5);
        let users = decoded.properties.user_properties();
        let pairs: Vec<_> = users.iter().collect();
        assert_eq!(pairs, [("k", "1"), ("k", "2")]);
        let ids: Vec<_> = decoded
            .properties
            .subscription_identifiers()
            .iter()
            .map(SubscriptionId::get)
            .collect();
        assert_eq!(ids, [1, 128]);
    }

    /// DESIGN.md section 5: several Subscription Identifiers, interleaved with another
    /// property, are all kept in order (not refused as duplicates), the property length is
    /// counted right (the payload is exactly "p"), and re-encoding keeps the received order;
    /// the same packet built by hand writes the User Property first.
    #[test]
    fn several_subscription_identifiers_kept_in_order() {
        // Properties `0B 02`, User Property k=v, `0B 01`: 11 bytes; RL 3 + 1 + 11 + 1 = 16.
        let bytes = [
            0x30, 0x10, 0x00, 0x01, 0x61, 0x0B, 0x0B, 0x02, 0x26, 0x00, 0x01, b'k', 0x00, 0x01,
            b'v', 0x0B, 0x01, b'p',
        ];
        let decoded: Publish = decode_as(&bytes, V5);
        let ids: Vec<_> = decoded
            .properties
            .subscription_identifiers()
            .iter()
            .map(SubscriptionId::get)
            .collect();
        assert_eq!(ids, [2, 1]);
        assert_eq!(&decoded.payload[..], b"p");
        let mut expected = publish("a", b"p");
        expected
            .properties
            .set_user_properties(UserProperties::from_pairs([("k", "v")]).unwrap());
        expected.properties.set_subscription_identifiers(
            [2, 1].into_iter().filter_map(SubscriptionId::new).collect(),
        );
        assert_eq!(decoded, expected);
        let canonical = [
            0x30, 0x10, 0x00, 0x01, 0x61, 0x0B, 0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', 0x0B,
            0x02, 0x0B, 0x01, b'p',
        ];
        assert_eq!(encode(&decoded, V5).unwrap(), bytes);
        both_ways(&canonical, V5, &expected);
    }

    /// The largest Subscription Identifier, 268,435,455 (`FF FF FF 7F`), then another one,
    /// then the payload.
    #[test]
    fn largest_subscription_identifier() {
        // Properties 5 + 2 = 7; RL 3 + 1 + 7 + 2 = 13.
        let bytes = [
            0x30, 0x0D, 0x00, 0x01, 0x61, 0x07, 0x0B, 0xFF, 0xFF, 0xFF, 0x7F, 0x0B, 0x01, b'h',
            b'i',
        ];
        let mut expected = publish("a", b"hi");
        let mut ids = SubscriptionIds::new();
        ids.push(SubscriptionId::new(268_435_455).unwrap());
        ids.push(SubscriptionId::new(1).unwrap());
        expected.properties.set_subscription_identifiers(ids);
        both_ways(&bytes, V5, &expected);
    }

    /// The lists are found by walking the property block: a Correlation Data value holding
    /// the bytes `26 0B` is not taken for a User Property or a Subscription Identifier.
    #[test]
    fn lists_skip_other_property_values() {
        // Properties 5 + 7 + 2 = 14; RL 3 + 1 + 14 = 18.
        let bytes = [
            0x30, 0x12, 0x00, 0x01, 0x61, 0x0E, 0x09, 0x00, 0x02, 0x26, 0x0B, 0x26, 0x00, 0x01,
            b'k', 0x00, 0x01, b'v', 0x0B, 0x05,
        ];
        let mut expected = publish("a", b"");
        expected
            .properties
            .set_correlation_data(Some(Bytes::from_static(&[0x26, 0x0B])))
            .unwrap();
        expected
            .properties
            .set_user_properties(UserProperties::from_pairs([("k", "v")]).unwrap());
        expected
            .properties
            .set_subscription_identifiers(SubscriptionId::new(5).into_iter().collect());
        both_ways(&bytes, V5, &expected);
        let decoded: Publish = decode_as(&bytes, V5);
        assert_eq!(decoded.properties.user_properties().len(), 1);
        assert_eq!(decoded.properties.subscription_identifiers().len(), 1);
        assert_eq!(encode(&decoded, V5).unwrap(), bytes);
        assert_eq!(encode(&decoded.detach(), V5).unwrap(), bytes);
    }

    /// Section 3.3.2.1: an empty Topic Name with a Topic Alias is fine in 5.0.
    #[test]
    fn empty_topic_with_topic_alias_v5() {
        let bytes = [0x30, 0x06, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01];
        let mut expected = Publish::new(TopicName::default(), &b""[..]);
        expected.properties.topic_alias = NonZeroU16::new(1);
        both_ways(&bytes, V5, &expected);
    }

    /// Section 3.3.2.3.2: the codec does not check that a UTF-8 payload is UTF-8 (that is
    /// the receiver's choice, answered with 0x99).
    #[test]
    fn payload_format_indicator_does_not_make_the_codec_check_the_payload() {
        let bytes = [
            0x32, 0x09, 0x00, 0x01, 0x61, 0x00, 0x01, 0x02, 0x01, 0x01, 0xFF,
        ];
        let decoded: Publish = decode_as(&bytes, V5);
        assert_eq!(
            decoded.properties.payload_format_indicator,
            Some(PayloadFormat::Utf8)
        );
        assert_eq!(&decoded.payload[..], [0xFF]);
    }

    /// Topic, payload and binary properties are slices of the input: nothing is copied.
    #[test]
    fn decoding_is_zero_copy() {
        let bytes = [
            0x33, 0x34, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x05, 0x2A, 0x01, 0x01, 0x02, 0x00,
            0x00, 0x00, 0x3C, 0x23, 0x00, 0x01, 0x08, 0x00, 0x01, b'r', 0x09, 0x00, 0x02, 0xAB,
            0xCD, 0x03, 0x00, 0x01, b't', 0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'1', 0x26, 0x00,
            0x01, b'k', 0x00, 0x01, b'2', 0x0B, 0x01, 0x0B, 0x80, 0x01, b'h', b'i',
        ];
        // Extra bytes after the packet: the decoder slices instead of cloning.
        let mut owned = bytes.to_vec();
        owned.extend_from_slice(&[0xC0, 0x00]);
        let input = Bytes::from(owned);
        let range = input.as_ptr_range();
        let (packet, used) = Packet::decode(&input, V5).unwrap();
        assert_eq!(used, bytes.len());
        let Packet::Publish(decoded) = &packet else {
            panic!()
        };
        assert_eq!(decoded, &every_property());
        // Exactly where they are in the frame.
        assert_eq!(decoded.topic.as_ptr(), input[4..].as_ptr());
        assert_eq!(decoded.payload.as_ptr(), input[52..].as_ptr());
        let props = &decoded.properties;
        assert!(range.contains(&props.correlation_data().as_ref().unwrap().as_ptr()));
        assert!(range.contains(&props.response_topic().as_ref().unwrap().as_ptr()));
        assert!(range.contains(&props.content_type().as_ref().unwrap().as_ptr()));
        let users = props.user_properties();
        let (name, _) = users.iter().next().unwrap();
        assert!(range.contains(&name.as_ptr()));
    }

    /// `Packet::detach` gives an equal packet that no longer shares the input.
    #[test]
    fn detach_copies_out_of_the_input() {
        let bytes = [
            0x33, 0x34, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x05, 0x2A, 0x01, 0x01, 0x02, 0x00,
            0x00, 0x00, 0x3C, 0x23, 0x00, 0x01, 0x08, 0x00, 0x01, b'r', 0x09, 0x00, 0x02, 0xAB,
            0xCD, 0x03, 0x00, 0x01, b't', 0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'1', 0x26, 0x00,
            0x01, b'k', 0x00, 0x01, b'2', 0x0B, 0x01, 0x0B, 0x80, 0x01, b'h', b'i',
        ];
        let input = Bytes::copy_from_slice(&bytes);
        let range = input.as_ptr_range();
        let (packet, _) = Packet::decode(&input, V5).unwrap();
        let detached = packet.detach();
        assert_eq!(detached, packet);
        let Packet::Publish(detached) = &detached else {
            panic!()
        };
        assert!(!range.contains(&detached.topic.as_ptr()));
        assert!(!range.contains(&detached.payload.as_ptr()));
        let props = &detached.properties;
        assert!(!range.contains(&props.correlation_data().as_ref().unwrap().as_ptr()));
        assert!(!range.contains(&props.response_topic().as_ref().unwrap().as_ptr()));
        assert!(!range.contains(&props.content_type().as_ref().unwrap().as_ptr()));
        for (name, value) in props.user_properties().iter() {
            assert!(!range.contains(&name.as_ptr()));
            assert!(!range.contains(&value.as_ptr()));
        }
        // And it encodes to the same bytes.
        assert_eq!(encode(detached, V5).unwrap(), bytes);
    }

    // ---- decoder rejections ------------------------------------------------------------

    /// [MQTT-3.3.1-4] (both versions): both QoS bits set.
    #[test]
    fn rejects_qos_3_mqtt_3_3_1_4() {
        let kind = DecodeErrorKind::InvalidQoS { field: "QoS" };
        let bytes = [0x36, 0x06, 0x00, 0x01, 0x61, 0x00, 0x01, 0x00];
        rejects(&bytes, V5, kind.clone(), M, Some("MQTT-3.3.1-4"));
        let bytes = [0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01];
        rejects(&bytes, V4, kind, M, Some("MQTT-3.3.1-4"));
    }

    /// [MQTT-3.3.1-2] (both versions): DUP is 0 on QoS 0.
    #[test]
    fn rejects_dup_on_qos0_mqtt_3_3_1_2() {
        let kind = DecodeErrorKind::DupOnQoS0;
        let bytes = [0x38, 0x04, 0x00, 0x01, 0x61, 0x00];
        rejects(&bytes, V5, kind.clone(), M, Some("MQTT-3.3.1-2"));
        let bytes = [0x39, 0x03, 0x00, 0x01, 0x61];
        rejects(&bytes, V4, kind, M, Some("MQTT-3.3.1-2"));
    }

    /// [MQTT-3.3.2-2] (both versions): no wildcards in a Topic Name.
    #[test]
    fn rejects_wildcard_in_topic_mqtt_3_3_2_2() {
        let kind = DecodeErrorKind::InvalidTopic {
            field: "topic name",
            reason: InvalidTopic::WildcardInName,
        };
        let bytes = [0x30, 0x06, 0x00, 0x03, 0x61, 0x2F, 0x23, 0x00];
        rejects(&bytes, V5, kind.clone(), M, Some("MQTT-3.3.2-2"));
        let bytes = [0x30, 0x05, 0x00, 0x03, 0x61, 0x2F, 0x2B];
        rejects(&bytes, V4, kind.clone(), M, Some("MQTT-3.3.2-2"));
        // Also where the packet has more to it: QoS 1, "+".
        let bytes = [0x32, 0x05, 0x00, 0x01, 0x2B, 0x00, 0x01];
        rejects(&bytes, V4, kind, M, Some("MQTT-3.3.2-2"));
    }

    /// 3.1.1 [MQTT-4.7.3-1]: a Topic Name is at least one character (no Topic Alias in
    /// 3.1.1).
    #[test]
    fn rejects_empty_topic_v311_mqtt_4_7_3_1() {
        let kind = DecodeErrorKind::EmptyTopicName {
            field: "topic name",
        };
        let bytes = [0x30, 0x02, 0x00, 0x00];
        rejects(&bytes, V4, kind.clone(), M, Some("MQTT-4.7.3-1"));
        rejects(&bytes, V3, kind, M, Some("MQTT-4.7.3-1"));
    }

    /// 5.0 section 3.3.2.1 (untagged): an empty Topic Name without a Topic Alias is a
    /// Protocol Error.
    #[test]
    fn rejects_empty_topic_without_topic_alias_v5() {
        let kind = DecodeErrorKind::EmptyTopicName {
            field: "topic name",
        };
        rejects(&[0x30, 0x03, 0x00, 0x00, 0x00], V5, kind, P, None);
    }

    /// 3.1.1 [MQTT-2.3.1-1], 5.0 [MQTT-2.2.1-3]: packet identifier 0. PUBLISH answers
    /// Protocol Error, like mosquitto.
    #[test]
    fn rejects_packet_id_0_mqtt_2_3_1_1_v311_mqtt_2_2_1_3_v5() {
        let kind = DecodeErrorKind::ZeroPacketId;
        let bytes = [0x32, 0x05, 0x00, 0x01, 0x61, 0x00, 0x00];
        rejects(&bytes, V4, kind.clone(), P, Some("MQTT-2.3.1-1"));
        let bytes = [0x34, 0x05, 0x00, 0x01, 0x61, 0x00, 0x00];
        rejects(&bytes, V3, kind.clone(), P, Some("MQTT-2.3.1-1"));
        let bytes = [0x32, 0x06, 0x00, 0x01, 0x61, 0x00, 0x00, 0x00];
        rejects(&bytes, V5, kind, P, Some("MQTT-2.2.1-3"));
    }

    /// [MQTT-3.3.2-1]: the Topic Name comes first; a length running past the end is a
    /// Malformed Packet, never a panic.
    #[test]
    fn rejects_topic_running_past_the_end_mqtt_3_3_2_1() {
        let kind = DecodeErrorKind::UnexpectedEnd {
            field: "topic name",
        };
        for version in [V4, V5] {
            let rule = Some("MQTT-3.3.2-1");
            rejects(&[0x30, 0x01, 0x00], version, kind.clone(), M, rule);
            rejects(&[0x30, 0x00], version, kind.clone(), M, rule);
            let bytes = [0x30, 0x03, 0x00, 0x05, 0x61];
            rejects(&bytes, version, kind.clone(), M, rule);
            let bytes = [0x32, 0x04, 0xFF, 0xFF, 0x61, 0x00];
            rejects(&bytes, version, kind.clone(), M, rule);
        }
    }

    /// QoS 1 and 2 need the whole packet identifier.
    #[test]
    fn rejects_packet_id_running_past_the_end() {
        let kind = DecodeErrorKind::UnexpectedEnd {
            field: "packet identifier",
        };
        rejects(
            &[0x32, 0x04, 0x00, 0x01, 0x61, 0x00],
            V4,
            kind.clone(),
            M,
            None,
        );
        rejects(&[0x34, 0x03, 0x00, 0x01, 0x61], V5, kind, M, None);
    }

    /// 3.1.1 [MQTT-1.5.3-1] and [MQTT-1.5.3-2], 5.0 [MQTT-1.5.4-1] and [MQTT-1.5.4-2]: the
    /// Topic Name is a well-formed UTF-8 string without U+0000.
    #[test]
    fn rejects_bad_topic_string_mqtt_1_5_3_v311_mqtt_1_5_4_v5() {
        let field = "topic name";
        let bytes = [0x30, 0x03, 0x00, 0x01, 0xFF];
        let kind = DecodeErrorKind::InvalidUtf8 { field };
        rejects(&bytes, V4, kind.clone(), M, Some("MQTT-1.5.3-1"));
        // The encoded surrogate U+D800.
        let bytes = [0x30, 0x07, 0x00, 0x04, 0x61, 0xED, 0xA0, 0x80, 0x00];
        rejects(&bytes, V5, kind, M, Some("MQTT-1.5.4-1"));
        let kind = DecodeErrorKind::NullCharacter { field };
        let bytes = [0x30, 0x05, 0x00, 0x03, 0x61, 0x00, 0x62];
        rejects(&bytes, V4, kind.clone(), M, Some("MQTT-1.5.3-2"));
        let bytes = [0x30, 0x06, 0x00, 0x03, 0x61, 0x00, 0x62, 0x00];
        rejects(&bytes, V5, kind, M, Some("MQTT-1.5.4-2"));
    }

    /// 5.0 section 2.2.2.2: Session Expiry Interval is not a PUBLISH property: Malformed
    /// Packet (mosquitto answers 0x82).
    #[test]
    fn rejects_session_expiry_in_publish() {
        let bytes = [
            0x30, 0x09, 0x00, 0x01, 0x61, 0x05, 0x11, 0x00, 0x00, 0x00, 0x00,
        ];
        let kind = DecodeErrorKind::PropertyNotAllowed { id: 0x11 };
        rejects(&bytes, V5, kind, M, None);
        let bytes = [0x30, 0x06, 0x00, 0x01, 0x61, 0x02, 0x7F, 0x00];
        let kind = DecodeErrorKind::UnknownProperty { id: 0x7F };
        rejects(&bytes, V5, kind, M, None);
    }

    /// 5.0 section 3.3.2.3: a single-valued property twice is a Protocol Error.
    #[test]
    fn rejects_duplicate_payload_format_indicator_and_topic_alias() {
        let bytes = [0x30, 0x08, 0x00, 0x01, 0x61, 0x04, 0x01, 0x00, 0x01, 0x00];
        let kind = DecodeErrorKind::DuplicateProperty { id: 0x01 };
        rejects(&bytes, V5, kind, P, None);
        let bytes = [
            0x30, 0x0A, 0x00, 0x01, 0x61, 0x06, 0x23, 0x00, 0x01, 0x23, 0x00, 0x01,
        ];
        let kind = DecodeErrorKind::DuplicateProperty { id: 0x23 };
        rejects(&bytes, V5, kind, P, None);
    }

    /// 5.0 section 3.3.2.3.2: Payload Format Indicator is 0 or 1.
    #[test]
    fn rejects_payload_format_indicator_2() {
        let bytes = [0x30, 0x06, 0x00, 0x01, 0x61, 0x02, 0x01, 0x02];
        let kind = DecodeErrorKind::InvalidPropertyValue { id: 0x01, value: 2 };
        rejects(&bytes, V5, kind, P, None);
    }

    /// 5.0 [MQTT-3.3.2-8]: Topic Alias 0 is answered with DISCONNECT 0x94.
    #[test]
    fn rejects_topic_alias_0_mqtt_3_3_2_8() {
        let bytes = [0x30, 0x07, 0x00, 0x01, 0x61, 0x03, 0x23, 0x00, 0x00];
        let kind = DecodeErrorKind::InvalidPropertyValue { id: 0x23, value: 0 };
        let reason = ReasonCode::TOPIC_ALIAS_INVALID;
        rejects(&bytes, V5, kind, reason, Some("MQTT-3.3.2-8"));
    }

    /// 5.0 section 3.3.2.3.8: Subscription Identifier 0 is a Protocol Error.
    #[test]
    fn rejects_subscription_identifier_0() {
        let bytes = [0x30, 0x06, 0x00, 0x01, 0x61, 0x02, 0x0B, 0x00];
        let kind = DecodeErrorKind::InvalidPropertyValue { id: 0x0B, value: 0 };
        rejects(&bytes, V5, kind, P, None);
    }

    /// 5.0 [MQTT-3.3.2-14]: no wildcards in the Response Topic (Protocol Error).
    #[test]
    fn rejects_wildcard_in_response_topic_mqtt_3_3_2_14() {
        let bytes = [
            0x30, 0x0A, 0x00, 0x01, 0x61, 0x06, 0x08, 0x00, 0x03, 0x61, 0x2F, 0x23,
        ];
        let kind = DecodeErrorKind::InvalidTopic {
            field: "Response Topic",
            reason: InvalidTopic::WildcardInName,
        };
        rejects(&bytes, V5, kind, P, Some("MQTT-3.3.2-14"));
    }

    /// 5.0 [MQTT-4.7.3-1]: the Response Topic, a Topic Name, is not empty. Malformed, like
    /// every other topic that breaks MQTT-4.7.3-1.
    #[test]
    fn rejects_empty_response_topic_mqtt_4_7_3_1() {
        let bytes = [0x30, 0x07, 0x00, 0x01, 0x61, 0x03, 0x08, 0x00, 0x00];
        let kind = DecodeErrorKind::EmptyTopicName {
            field: "Response Topic",
        };
        rejects(&bytes, V5, kind, M, Some("MQTT-4.7.3-1"));
    }

    /// 5.0 [MQTT-3.3.2-13] and [MQTT-3.3.2-19]: Response Topic and Content Type are UTF-8
    /// strings; the string rule's tag is reported.
    #[test]
    fn rejects_bad_property_strings_mqtt_3_3_2_13_and_19() {
        let bytes = [0x30, 0x08, 0x00, 0x01, 0x61, 0x04, 0x08, 0x00, 0x01, 0xFF];
        let kind = DecodeErrorKind::InvalidUtf8 {
            field: "Response Topic",
        };
        rejects(&bytes, V5, kind, M, Some("MQTT-1.5.4-1"));
        let bytes = [0x30, 0x08, 0x00, 0x01, 0x61, 0x04, 0x03, 0x00, 0x01, 0x00];
        let kind = DecodeErrorKind::NullCharacter {
            field: "Content Type",
        };
        rejects(&bytes, V5, kind, M, Some("MQTT-1.5.4-2"));
    }

    /// 5.0 section 2.2.2: the Property Length must not overrun the packet, and no property
    /// may overrun the Property Length.
    #[test]
    fn rejects_properties_overrunning() {
        let bytes = [0x30, 0x05, 0x00, 0x01, 0x61, 0x05, 0x01];
        let kind = DecodeErrorKind::UnexpectedEnd {
            field: "properties",
        };
        rejects(&bytes, V5, kind, M, None);
        // Correlation Data promising 5 bytes inside a 4-byte property block; the payload
        // byte after the block must not be taken for it.
        let bytes = [
            0x30, 0x09, 0x00, 0x01, 0x61, 0x04, 0x09, 0x00, 0x05, 0xAB, 0xCD,
        ];
        let kind = DecodeErrorKind::UnexpectedEnd {
            field: "Correlation Data",
        };
        rejects(&bytes, V5, kind, M, None);
    }

    // ---- encoder refusals --------------------------------------------------------------

    /// [MQTT-3.3.1-2]: the encoder never writes DUP on QoS 0.
    #[test]
    fn encoder_refuses_dup_on_qos0_mqtt_3_3_1_2() {
        let mut p = publish("a", b"");
        p.dup = true;
        for version in [V3, V4, V5] {
            let err = encode_err(&p, version);
            assert_eq!(invalid_rule(&err), Some("MQTT-3.3.1-2"));
        }
    }

    #[test]
    fn encoder_refuses_properties_below_v5() {
        let mut p = publish("a", b"");
        p.properties.message_expiry_interval = Some(1);
        for version in [V3, V4] {
            assert_eq!(
                encode_err(&p, version),
                EncodeError::UnsupportedInVersion {
                    what: "PUBLISH properties",
                    version
                }
            );
        }
        // A Topic Alias is a property too: an aliased PUBLISH cannot go out in 3.1.1.
        let mut p = Publish::new(TopicName::default(), &b""[..]);
        p.properties.topic_alias = NonZeroU16::new(1);
        assert!(matches!(
            encode_err(&p, V4),
            EncodeError::UnsupportedInVersion { .. }
        ));
    }

    /// [MQTT-4.7.3-1]: an empty Topic Name needs a Topic Alias.
    #[test]
    fn encoder_refuses_empty_topic_without_alias_mqtt_4_7_3_1() {
        let p = Publish::new(TopicName::default(), &b"x"[..]);
        for version in [V3, V4, V5] {
            let err = encode_err(&p, version);
            assert_eq!(invalid_rule(&err), Some("MQTT-4.7.3-1"));
        }
        // An empty Response Topic is refused when it is set, so it never reaches the wire.
        let mut p = publish("a", b"");
        let err = p
            .properties
            .set_response_topic(Some(TopicName::default()))
            .unwrap_err();
        assert_eq!(invalid_rule(&err), Some("MQTT-4.7.3-1"));
        assert!(p.properties.response_topic().is_none());
    }

    /// Section 1.5.6: Correlation Data is Binary Data, at most 65,535 bytes; a longer value
    /// is refused when it is set.
    #[test]
    fn refuses_correlation_data_over_65535_bytes() {
        let mut p = publish("a", b"");
        assert_eq!(
            p.properties
                .set_correlation_data(Some(Bytes::from(vec![0u8; 65_536]))),
            Err(EncodeError::BinaryTooLong {
                field: "Correlation Data",
                len: 65_536
            })
        );
        assert!(p.properties.is_empty());
        p.properties
            .set_correlation_data(Some(Bytes::from(vec![0u8; 65_535])))
            .unwrap();
        assert_eq!(encode(&p, V5).unwrap().len(), 2 + 4 + 3 + 1 + 3 + 65_535);
    }
}
