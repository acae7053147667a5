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
use crate::codec::reader::Reader;
use crate::codec::writer::put_str;
use crate::codec::Trim;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::packet::PacketType;
use crate::properties::PublishProperties;
use crate::types::{ProtocolVersion, QoS, QosPid, TopicName};
use crate::ReasonCode;
use bytes::{BufMut, Bytes};

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

impl Publish {
    /// A QoS 0 message, neither retained nor duplicate.
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

    pub(crate) fn detach(&self) -> Self {
        Self {
            topic: self.topic.detach(),
            payload: Bytes::copy_from_slice(&self.payload),
            properties: self.properties.detach(),
            ..*self
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>, flags: u8) -> Result<Self, DecodeError> {
        // The fixed header parser has already refused QoS 3 and DUP on QoS 0.
        let qos = QoS::from_bits((flags >> 1) & 0b11).unwrap_or_default();
        let field = "topic name";
        let topic = r.string(field).map_err(|e| e.or_rule("MQTT-3.3.2-1"))?;
        let topic = TopicName::from_string(topic).map_err(|reason| {
            DecodeError::new(DecodeErrorKind::InvalidTopic { field, reason })
                .with_rule("MQTT-3.3.2-2")
        })?;
        let qos = match qos {
            QoS::AtMostOnce => QosPid::AtMostOnce,
            QoS::AtLeastOnce => QosPid::AtLeastOnce(r.packet_id(PacketType::Publish)?),
            QoS::ExactlyOnce => QosPid::ExactlyOnce(r.packet_id(PacketType::Publish)?),
        };
        let properties = if r.version.is_v5() {
            PublishProperties::decode(r)?
        } else {
            PublishProperties::default()
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
            topic,
            payload: r.rest(),
            properties,
        })
    }
}

impl EncodeBody for Publish {
    fn flags(&self) -> u8 {
        u8::from(self.dup) << 3 | self.qos.qos().bits() << 1 | u8::from(self.retain)
    }

    fn body_len(&self, version: ProtocolVersion, _trim: Trim) -> Result<usize, EncodeError> {
        if self.dup && self.qos == QosPid::AtMostOnce {
            return Err(EncodeError::invalid(
                "DUP set on a QoS 0 PUBLISH",
                Some("MQTT-3.3.1-2"),
            ));
        }
        v5_only(version, self.properties.is_empty(), "PUBLISH properties")?;
        if self.topic.is_empty() && self.properties.topic_alias.is_none() {
            return Err(EncodeError::invalid(
                "empty topic name without a Topic Alias",
                Some("MQTT-4.7.3-1"),
            ));
        }
        self.properties.check()?;
        let mut len = self.topic.as_mqtt_str().wire_len() + self.payload.len();
        if self.qos.packet_id().is_some() {
            len += 2;
        }
        if version.is_v5() {
            len += self.properties.wire_len(Trim::Nothing);
        }
        Ok(len)
    }

    fn put_body<B: BufMut + ?Sized>(&self, version: ProtocolVersion, _trim: Trim, buf: &mut B) {
        put_str(buf, self.topic.as_mqtt_str());
        if let Some(id) = self.qos.packet_id() {
            buf.put_u16(id.get());
        }
        if version.is_v5() {
            self.properties.put(buf, Trim::Nothing);
        }
        buf.put_slice(&self.payload);
    }
}
