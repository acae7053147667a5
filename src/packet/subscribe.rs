//! SUBSCRIBE: the client's request for subscriptions (MQTT 5.0 section 3.8, 3.1.1
//! section 3.8).
//!
//! ```text
//! fixed header    0x82, Remaining Length
//! variable header Packet Identifier two-byte integer
//!                 Properties        (5.0 only)
//! payload         one or more of: Topic Filter string, Subscription Options byte
//!                 options: bits 7-6 reserved, 5-4 Retain Handling, 3 Retain As Published,
//!                 2 No Local, 1-0 Maximum QoS (3.1.1: bits 7-2 reserved, 1-0 QoS)
//! ```

use super::{v5_only, EncodeBody};
use crate::codec::reader::Reader;
use crate::codec::writer::put_str;
use crate::codec::Trim;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::packet::PacketType;
use crate::properties::SubscribeProperties;
use crate::types::{InvalidTopic, PacketId, ProtocolVersion, QoS, TopicFilter};
use crate::ReasonCode;
use alloc::vec::Vec;
use bytes::BufMut;

/// SUBSCRIBE: one or more topic filters with their options.
///
/// ```
/// use mqttwire::{PacketId, QoS, Subscribe, Subscription, TopicFilter};
///
/// let subscribe = Subscribe::new(
///     PacketId::new(1).unwrap(),
///     vec![Subscription::new(TopicFilter::new("sensors/#").unwrap(), QoS::AtLeastOnce)],
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    /// The packet identifier, echoed by the SUBACK.
    pub packet_id: PacketId,
    /// The subscriptions; at least one ([MQTT-3.8.3-2] in 5.0, [MQTT-3.8.3-3] in 3.1.1).
    pub subscriptions: Vec<Subscription>,
    /// Properties (MQTT 5.0).
    pub properties: SubscribeProperties,
}

/// One topic filter of a SUBSCRIBE and its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The topic filter.
    pub filter: TopicFilter,
    /// The subscription options.
    pub options: SubscriptionOptions,
}

impl Subscription {
    /// A subscription to `filter` at `qos` with the other options at their defaults.
    pub fn new(filter: TopicFilter, qos: QoS) -> Self {
        Self {
            filter,
            options: SubscriptionOptions {
                qos,
                ..SubscriptionOptions::default()
            },
        }
    }
}

/// Subscription Options (MQTT 5.0 section 3.8.3.1); below 5.0 only the QoS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SubscriptionOptions {
    /// Maximum QoS the server may deliver on this subscription.
    pub qos: QoS,
    /// No Local (5.0): never deliver the client's own messages back to it.
    pub no_local: bool,
    /// Retain As Published (5.0): keep the RETAIN flag of forwarded messages.
    pub retain_as_published: bool,
    /// Retain Handling (5.0): when to send retained messages.
    pub retain_handling: RetainHandling,
}

/// Retain Handling: whether retained messages are sent when the subscription is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RetainHandling {
    /// 0: send retained messages at subscribe.
    #[default]
    SendAtSubscribe = 0,
    /// 1: send them only if the subscription did not exist.
    SendIfNew = 1,
    /// 2: do not send them.
    DoNotSend = 2,
}

impl SubscriptionOptions {
    fn byte(self) -> u8 {
        self.qos.bits()
            | u8::from(self.no_local) << 2
            | u8::from(self.retain_as_published) << 3
            | (self.retain_handling as u8) << 4
    }

    fn is_v3(self) -> bool {
        !self.no_local
            && !self.retain_as_published
            && self.retain_handling == RetainHandling::SendAtSubscribe
    }

    fn from_byte(options: u8, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let invalid = || DecodeError::new(DecodeErrorKind::InvalidSubscriptionOptions { options });
        if !version.is_v5() {
            // 3.1.1: bits 7-2 reserved and QoS at most 2 ([MQTT-3.8.3-4]).
            let qos = QoS::from_bits(options).ok_or_else(|| invalid().with_rule("MQTT-3.8.3-4"))?;
            return Ok(Self {
                qos,
                ..Self::default()
            });
        }
        if options & 0xC0 != 0 {
            return Err(invalid().with_rule("MQTT-3.8.3-5"));
        }
        // QoS 3 and Retain Handling 3 are Protocol Errors (section 3.8.3.1).
        let qos = QoS::from_bits(options & 0b11)
            .ok_or_else(|| invalid().with_reason(ReasonCode::PROTOCOL_ERROR))?;
        let retain_handling = match (options >> 4) & 0b11 {
            0 => RetainHandling::SendAtSubscribe,
            1 => RetainHandling::SendIfNew,
            2 => RetainHandling::DoNotSend,
            _ => return Err(invalid().with_reason(ReasonCode::PROTOCOL_ERROR)),
        };
        Ok(Self {
            qos,
            no_local: options & 0b0100 != 0,
            retain_as_published: options & 0b1000 != 0,
            retain_handling,
        })
    }
}

/// Reads and checks one topic filter of a SUBSCRIBE or UNSUBSCRIBE.
pub(crate) fn read_filter(r: &mut Reader<'_>) -> Result<TopicFilter, DecodeError> {
    let field = "topic filter";
    let s = r.string(field)?;
    let topic_error = |reason: InvalidTopic| {
        let rule = match reason {
            InvalidTopic::EmptyFilter => "MQTT-4.7.3-1",
            InvalidTopic::MisplacedMultiLevelWildcard => r.tag("MQTT-4.7.1-2", "MQTT-4.7.1-1"),
            InvalidTopic::MisplacedSingleLevelWildcard => r.tag("MQTT-4.7.1-3", "MQTT-4.7.1-2"),
            _ => "MQTT-4.8.2-2",
        };
        DecodeError::new(DecodeErrorKind::InvalidTopic { field, reason }).with_rule(rule)
    };
    let filter = TopicFilter::from_string(s).map_err(topic_error)?;
    if r.version.is_v5() {
        filter.shared_parts().map_err(topic_error)?;
    }
    Ok(filter)
}

/// Checks an outgoing filter's shared-subscription syntax (MQTT 5.0 only).
pub(crate) fn check_filter(
    filter: &TopicFilter,
    version: ProtocolVersion,
) -> Result<(), EncodeError> {
    if version.is_v5() && filter.shared_parts().is_err() {
        return Err(EncodeError::invalid(
            "invalid shared subscription filter",
            Some("MQTT-4.8.2-2"),
        ));
    }
    Ok(())
}

impl Subscribe {
    /// A SUBSCRIBE without properties.
    pub fn new(packet_id: PacketId, subscriptions: Vec<Subscription>) -> Self {
        Self {
            packet_id,
            subscriptions,
            properties: SubscribeProperties::default(),
        }
    }

    pub(crate) fn detach(&self) -> Self {
        Self {
            packet_id: self.packet_id,
            subscriptions: self
                .subscriptions
                .iter()
                .map(|s| Subscription {
                    filter: s.filter.detach(),
                    options: s.options,
                })
                .collect(),
            properties: self.properties.detach(),
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let packet_id = r.packet_id(PacketType::Subscribe)?;
        let properties = if r.version.is_v5() {
            SubscribeProperties::decode(r)?
        } else {
            SubscribeProperties::default()
        };
        let mut subscriptions = Vec::new();
        while r.has_remaining() {
            let filter = read_filter(r)?;
            let options = SubscriptionOptions::from_byte(r.u8("subscription options")?, r.version)?;
            if options.no_local && filter.is_shared() && r.version.is_v5() {
                return Err(
                    DecodeError::new(DecodeErrorKind::NoLocalOnSharedSubscription)
                        .with_rule("MQTT-3.8.3-4"),
                );
            }
            subscriptions.push(Subscription { filter, options });
        }
        if subscriptions.is_empty() {
            return Err(DecodeError::new(DecodeErrorKind::NoTopicFilters)
                .with_rule(r.tag("MQTT-3.8.3-3", "MQTT-3.8.3-2")));
        }
        Ok(Self {
            packet_id,
            subscriptions,
            properties,
        })
    }
}

impl EncodeBody for Subscribe {
    fn flags(&self) -> u8 {
        0b0010
    }

    fn body_len(&self, version: ProtocolVersion, _trim: Trim) -> Result<usize, EncodeError> {
        if self.subscriptions.is_empty() {
            return Err(EncodeError::invalid(
                "SUBSCRIBE without a topic filter",
                Some(version.tag("MQTT-3.8.3-3", "MQTT-3.8.3-2")),
            ));
        }
        v5_only(version, self.properties.is_empty(), "SUBSCRIBE properties")?;
        self.properties.check()?;
        let mut len = 2;
        if version.is_v5() {
            len += self.properties.wire_len(Trim::Nothing);
        }
        for s in &self.subscriptions {
            if !version.is_v5() && !s.options.is_v3() {
                return Err(EncodeError::UnsupportedInVersion {
                    what: "No Local, Retain As Published or Retain Handling",
                    version,
                });
            }
            check_filter(&s.filter, version)?;
            if version.is_v5() && s.options.no_local && s.filter.is_shared() {
                return Err(EncodeError::invalid(
                    "No Local on a shared subscription",
                    Some("MQTT-3.8.3-4"),
                ));
            }
            len += s.filter.as_mqtt_str().wire_len() + 1;
        }
        Ok(len)
    }

    fn put_body<B: BufMut + ?Sized>(&self, version: ProtocolVersion, _trim: Trim, buf: &mut B) {
        buf.put_u16(self.packet_id.get());
        if version.is_v5() {
            self.properties.put(buf, Trim::Nothing);
        }
        for s in &self.subscriptions {
            put_str(buf, s.filter.as_mqtt_str());
            buf.put_u8(s.options.byte());
        }
    }
}
