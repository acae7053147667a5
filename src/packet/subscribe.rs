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

#[cfg(feature = "alloc")]
use super::wire_list::OwnedEntry;
use super::wire_list::WireEntry;
use super::{v5_only, EncodeBody};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
#[cfg(feature = "alloc")]
use crate::properties::SubscribeProperties;
use crate::properties::SubscribePropertiesRef;
use crate::types::topic::{check_filter_bytes, check_shared};
use crate::types::PacketType;
use crate::types::{InvalidTopic, MqttStr, PacketId, ProtocolVersion, QoS};
#[cfg(feature = "alloc")]
use crate::types::{MqttString, TopicFilter};
use crate::wire::reader::Reader;
use crate::wire::writer::put_str;
use crate::wire::writer::Sink;
use crate::wire::Trim;
use crate::ReasonCode;
#[cfg(feature = "alloc")]
use bytes::Bytes;

#[cfg(feature = "alloc")]
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
    pub subscriptions: Subscriptions,
    /// Properties (MQTT 5.0).
    pub properties: SubscribeProperties,
}

#[cfg(feature = "alloc")]
/// One topic filter of a SUBSCRIBE and its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The topic filter.
    pub filter: TopicFilter,
    /// The subscription options.
    pub options: SubscriptionOptions,
}

#[cfg(feature = "alloc")]
impl Subscription {
    /// A subscription to `filter` at `qos` with the other options at their defaults.
    #[must_use]
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
pub(crate) fn read_filter<'a>(r: &mut Reader<'a>) -> Result<MqttStr<'a>, DecodeError> {
    let field = "topic filter";
    let (s, wildcards) = r.string_and_wildcards(field)?;
    let topic_error = |reason: InvalidTopic| {
        let rule = match reason {
            InvalidTopic::EmptyFilter => "MQTT-4.7.3-1",
            InvalidTopic::MisplacedMultiLevelWildcard => r.tag("MQTT-4.7.1-2", "MQTT-4.7.1-1"),
            InvalidTopic::MisplacedSingleLevelWildcard => r.tag("MQTT-4.7.1-3", "MQTT-4.7.1-2"),
            _ => "MQTT-4.8.2-2",
        };
        DecodeError::new(DecodeErrorKind::InvalidTopic { field, reason }).with_rule(rule)
    };
    // Without `+` or `#` only emptiness can break a wildcard rule.
    if wildcards || s.is_empty() {
        check_filter_bytes(s.as_bytes()).map_err(topic_error)?;
    }
    if r.version.is_v5() {
        check_shared(s.as_bytes()).map_err(|reason| {
            DecodeError::new(DecodeErrorKind::InvalidTopic { field, reason })
                .with_rule(shared_rule(s.as_bytes()))
        })?;
    }
    Ok(s)
}

/// The rule an invalid `$share/` filter breaks: [MQTT-4.8.2-1] when the ShareName is
/// missing (`$share/`, `$share//a`), [MQTT-4.8.2-2] when it is not followed by `/` and a
/// filter (`$share/g`, `$share/g/`).
fn shared_rule(filter: &[u8]) -> &'static str {
    match crate::types::topic::strip_share(filter) {
        Some(rest) if rest.is_empty() || rest.starts_with(b"/") => "MQTT-4.8.2-1",
        _ => "MQTT-4.8.2-2",
    }
}

/// Checks an outgoing topic filter: the wildcard rules ([MQTT-4.7.1-1] and [MQTT-4.7.1-2] in
/// 5.0, [MQTT-4.7.1-2] and [MQTT-4.7.1-3] in 3.1.1, [MQTT-4.7.3-1]) and, at 5.0, the
/// shared-subscription syntax. A filter from a decoded packet or a [`TopicFilter`] passes the
/// first part by construction; one given as a plain string need not.
pub(crate) fn check_filter(
    filter: MqttStr<'_>,
    version: ProtocolVersion,
) -> Result<(), EncodeError> {
    let bytes = filter.as_bytes();
    if let Err(reason) = check_filter_bytes(bytes) {
        let rule = match reason {
            InvalidTopic::EmptyFilter => "MQTT-4.7.3-1",
            InvalidTopic::MisplacedMultiLevelWildcard => {
                version.tag("MQTT-4.7.1-2", "MQTT-4.7.1-1")
            }
            _ => version.tag("MQTT-4.7.1-3", "MQTT-4.7.1-2"),
        };
        return Err(EncodeError::invalid("invalid topic filter", Some(rule)));
    }
    if version.is_v5() && check_shared(bytes).is_err() {
        return Err(EncodeError::invalid(
            "invalid shared subscription filter",
            Some(shared_rule(bytes)),
        ));
    }
    Ok(())
}

#[cfg(feature = "alloc")]
impl Subscribe {
    /// A SUBSCRIBE without properties.
    #[must_use]
    pub fn new(packet_id: PacketId, subscriptions: impl IntoIterator<Item = Subscription>) -> Self {
        Self {
            packet_id,
            subscriptions: subscriptions.into_iter().collect(),
            properties: SubscribeProperties::default(),
        }
    }

    pub(crate) fn detach(&self) -> Self {
        Self {
            packet_id: self.packet_id,
            subscriptions: self.subscriptions.detach(),
            properties: self.properties.detach(),
        }
    }

    /// The packet as a borrowed view of its own fields.
    #[must_use]
    pub fn as_view(&self) -> SubscribeRef<'_> {
        SubscribeRef {
            packet_id: self.packet_id,
            subscriptions: SubscriptionsRef::from_wire(&self.subscriptions.bytes),
            properties: self.properties.as_view(),
        }
    }

    /// The owned packet whose fields are `view`'s, sliced from `frame`, which holds them.
    pub(crate) fn from_view(view: &SubscribeRef<'_>, frame: &Bytes) -> Self {
        Self {
            packet_id: view.packet_id,
            subscriptions: Subscriptions::from_view(view.subscriptions, frame),
            properties: SubscribeProperties::from_view(&view.properties, frame),
        }
    }
}

#[cfg(feature = "alloc")]
impl Subscription {
    /// The subscription as a borrowed view.
    #[must_use]
    pub fn as_view(&self) -> SubscriptionRef<'_> {
        SubscriptionRef {
            filter: self.filter.as_mqtt_str().as_borrowed(),
            options: self.options,
        }
    }
}

/// SUBSCRIBE as a borrowed view of the received bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscribeRef<'a> {
    /// The packet identifier, echoed by the SUBACK.
    pub packet_id: PacketId,
    /// The subscriptions, at least one, checked when the packet was decoded.
    pub subscriptions: SubscriptionsRef<'a>,
    /// Properties (MQTT 5.0).
    pub properties: SubscribePropertiesRef<'a>,
}

impl<'a> SubscribeRef<'a> {
    pub(crate) fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let packet_id = r.packet_id(PacketType::Subscribe)?;
        let properties = if r.version.is_v5() {
            SubscribePropertiesRef::decode(r)?
        } else {
            SubscribePropertiesRef::default()
        };
        let start = r.remaining_bytes();
        while r.has_remaining() {
            let filter = read_filter(r)?;
            let options = SubscriptionOptions::from_byte(r.u8("subscription options")?, r.version)?;
            if options.no_local && r.version.is_v5() && filter.as_bytes().starts_with(b"$share/") {
                return Err(
                    DecodeError::new(DecodeErrorKind::NoLocalOnSharedSubscription)
                        .with_rule("MQTT-3.8.3-4"),
                );
            }
        }
        if r.remaining() == start.len() {
            return Err(DecodeError::new(DecodeErrorKind::NoTopicFilters)
                .with_rule(r.tag("MQTT-3.8.3-3", "MQTT-3.8.3-2")));
        }
        Ok(Self {
            packet_id,
            subscriptions: SubscriptionsRef::from_wire(r.read_since(start)),
            properties,
        })
    }
}

/// One subscription of a [`SubscribeRef`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionRef<'a> {
    /// The topic filter.
    pub filter: MqttStr<'a>,
    /// The subscription options.
    pub options: SubscriptionOptions,
}

wire_list! {
    /// The subscriptions of a [`SubscribeRef`]: the received entries, checked once when the
    /// packet was decoded and read again, without checks, as they are iterated; or
    /// subscriptions given by the sender ([`from_parts`](Self::from_parts)), checked when
    /// encoded.
    view SubscriptionsRef, SubscriptionsRefIter => SubscriptionRef<'a>;
    /// The subscriptions of a [`Subscribe`], kept as they go on the wire (each topic filter and
    /// its options byte, one after another) in one buffer, a slice of the received frame when
    /// decoded: a SUBSCRIBE takes no more memory than its bytes, however many filters it holds.
    /// Iterating yields each [`Subscription`] (its filter a slice of that buffer).
    ///
    /// ```
    /// use mqttwire::{QoS, Subscription, Subscriptions, TopicFilter};
    ///
    /// let list: Subscriptions = [
    ///     Subscription::new(TopicFilter::new("a/+").unwrap(), QoS::AtLeastOnce),
    ///     Subscription::new(TopicFilter::new("b/#").unwrap(), QoS::ExactlyOnce),
    /// ]
    /// .into_iter()
    /// .collect();
    /// assert_eq!(list.len(), 2);
    /// assert_eq!(list.iter().nth(1).unwrap().filter, "b/#");
    /// ```
    owned Subscriptions, SubscriptionsIter => Subscription;
}

/// A subscription on the wire: its topic filter, then its options byte.
impl<'a> WireEntry<'a> for SubscriptionRef<'a> {
    fn split(bytes: &'a [u8]) -> Option<(Self, &'a [u8])> {
        let (filter, rest) = MqttStr::split(bytes)?;
        let (&options, rest) = rest.split_first()?;
        // Checked when written: a 3.1.1 options byte has only QoS bits set, read alike at
        // 5.0.
        let options = SubscriptionOptions::from_byte(options, ProtocolVersion::V5).ok()?;
        Some((SubscriptionRef { filter, options }, rest))
    }

    fn put<B: Sink + ?Sized>(self, buf: &mut B) {
        put_str(buf, self.filter);
        buf.put_u8(self.options.byte());
    }
}

#[cfg(feature = "alloc")]
impl OwnedEntry for Subscription {
    type Entry<'a> = SubscriptionRef<'a>;

    fn from_entry(frame: &Bytes, entry: SubscriptionRef<'_>) -> Self {
        Subscription {
            filter: TopicFilter::from_plain(MqttString::in_frame(frame, entry.filter)),
            options: entry.options,
        }
    }

    fn entry(&self) -> SubscriptionRef<'_> {
        self.as_view()
    }
}

impl EncodeBody for SubscribeRef<'_> {
    const TYPE: PacketType = PacketType::Subscribe;

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
        for s in self.subscriptions.iter() {
            if !version.is_v5() && !s.options.is_v3() {
                return Err(EncodeError::UnsupportedInVersion {
                    what: "No Local, Retain As Published or Retain Handling",
                    version,
                });
            }
            check_filter(s.filter, version)?;
            if version.is_v5() && s.options.no_local && s.filter.as_bytes().starts_with(b"$share/")
            {
                return Err(EncodeError::invalid(
                    "No Local on a shared subscription",
                    Some("MQTT-3.8.3-4"),
                ));
            }
            // Saturating: on a 32-bit target, a list that repeats one long (shared) filter
            // can count past `usize::MAX`; the Remaining Length check then refuses it.
            len = len.saturating_add(s.filter.wire_len() + 1);
        }
        Ok(len)
    }

    fn put_body<B: Sink + ?Sized>(&self, version: ProtocolVersion, _trim: Trim, buf: &mut B) {
        buf.put_u16(self.packet_id.get());
        if version.is_v5() {
            self.properties.put(buf, Trim::Nothing);
        }
        for s in self.subscriptions.iter() {
            s.put(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DecodeErrorKind as K;
    use crate::packet::test_util::{
        both_ways, decode, encode, encode_err, hex, invalid_filter, one_filter_frame, pid, rejects,
        M, P, V3, V4, V5,
    };
    #[cfg(feature = "alloc")]
    use crate::properties::UserProperties;
    use crate::types::SubscriptionId;
    use crate::Packet;
    use alloc::vec;
    use alloc::vec::Vec;

    /// A SUBSCRIBE, packet identifier 1, of one filter (raw bytes, under 100) and options.
    fn frame(version: ProtocolVersion, filter: &[u8], options: u8) -> Vec<u8> {
        one_filter_frame(0x82, version, filter, Some(options))
    }

    fn sub(filter: &str, options: SubscriptionOptions) -> Subscription {
        Subscription {
            filter: TopicFilter::new(filter).unwrap(),
            options,
        }
    }

    fn qos(qos: QoS) -> SubscriptionOptions {
        SubscriptionOptions {
            qos,
            ..SubscriptionOptions::default()
        }
    }

    #[test]
    fn frame_helper_matches_hand_computed_vectors() {
        assert_eq!(frame(V4, b"a", 0x01), hex("82 06 00 01 00 01 61 01"));
        assert_eq!(frame(V5, b"a", 0x01), hex("82 07 00 01 00 00 01 61 01"));
    }

    // ---- byte vectors -------------------------------------------------------------------

    #[test]
    fn one_filter_at_3_1_and_3_1_1() {
        for v in [V3, V4] {
            let packet = Subscribe::new(pid(1), vec![sub("a", qos(QoS::AtLeastOnce))]);
            both_ways("82 06 00 01 00 01 61 01", v, &Packet::Subscribe(packet));
        }
    }

    #[test]
    fn two_filters_at_3_1_1() {
        let packet = Subscribe::new(
            pid(10),
            vec![
                sub("a/b", qos(QoS::AtMostOnce)),
                sub("c/#", qos(QoS::ExactlyOnce)),
            ],
        );
        both_ways(
            "82 0E 00 0A 00 03 61 2F 62 00 00 03 63 2F 23 02",
            V4,
            &Packet::Subscribe(packet),
        );
    }

    #[test]
    fn one_filter_with_empty_properties_at_5_0_mqtt_2_2_2_1() {
        let packet = Subscribe::new(pid(1), vec![sub("a", qos(QoS::AtLeastOnce))]);
        both_ways("82 07 00 01 00 00 01 61 01", V5, &Packet::Subscribe(packet));
    }

    #[test]
    fn options_2d_are_qos_1_no_local_retain_as_published_retain_handling_2() {
        let options = SubscriptionOptions {
            qos: QoS::AtLeastOnce,
            no_local: true,
            retain_as_published: true,
            retain_handling: RetainHandling::DoNotSend,
        };
        let packet = Subscribe::new(pid(1), vec![sub("a", options)]);
        both_ways("82 07 00 01 00 00 01 61 2D", V5, &Packet::Subscribe(packet));
        // 0x1A = 0001 1010: QoS 2, Retain As Published, Retain Handling 1.
        let options = SubscriptionOptions {
            qos: QoS::ExactlyOnce,
            no_local: false,
            retain_as_published: true,
            retain_handling: RetainHandling::SendIfNew,
        };
        let packet = Subscribe::new(pid(1), vec![sub("a", options)]);
        both_ways("82 07 00 01 00 00 01 61 1A", V5, &Packet::Subscribe(packet));
    }

    #[test]
    fn subscription_identifier_and_user_property_at_5_0() {
        // 0B 05 (2) + 26 00 01 6B 00 01 76 (7) = 9 bytes of properties.
        let mut packet = Subscribe::new(pid(1), vec![sub("a", qos(QoS::AtLeastOnce))]);
        packet.properties.subscription_identifier = SubscriptionId::new(5);
        packet
            .properties
            .set_user_properties(UserProperties::from_pairs([("k", "v")]).unwrap());
        both_ways(
            "82 10 00 01 09 0B 05 26 00 01 6B 00 01 76 00 01 61 01",
            V5,
            &Packet::Subscribe(packet),
        );
        // The largest identifier takes four bytes: FF FF FF 7F.
        let mut packet = Subscribe::new(pid(1), vec![sub("a", qos(QoS::AtMostOnce))]);
        packet.properties.subscription_identifier = SubscriptionId::new(268_435_455);
        both_ways(
            "82 0C 00 01 05 0B FF FF FF 7F 00 01 61 00",
            V5,
            &Packet::Subscribe(packet),
        );
    }

    #[test]
    fn shared_subscription_at_5_0_is_an_ordinary_filter_at_3_1_1() {
        let packet = Subscribe::new(pid(1), vec![sub("$share/g/a", qos(QoS::AtLeastOnce))]);
        both_ways(
            "82 10 00 01 00 00 0A 24 73 68 61 72 65 2F 67 2F 61 01",
            V5,
            &Packet::Subscribe(packet.clone()),
        );
        both_ways(
            "82 0F 00 01 00 0A 24 73 68 61 72 65 2F 67 2F 61 01",
            V4,
            &Packet::Subscribe(packet),
        );
    }

    // ---- rejected input -----------------------------------------------------------------

    #[test]
    fn rejects_subscribe_with_flags_0000_mqtt_3_8_1_1() {
        let flags = K::InvalidFlags { flags: 0 };
        rejects(
            "80 06 00 01 00 01 61 00",
            V4,
            flags.clone(),
            M,
            Some("MQTT-3.8.1-1"),
        );
        rejects(
            "80 07 00 01 00 00 01 61 00",
            V5,
            flags,
            M,
            Some("MQTT-3.8.1-1"),
        );
        let flags = K::InvalidFlags { flags: 0b1010 };
        rejects(
            "8A 06 00 01 00 01 61 00",
            V4,
            flags,
            M,
            Some("MQTT-3.8.1-1"),
        );
    }

    #[test]
    fn rejects_packet_id_0_mqtt_2_3_1_1_and_5_0_mqtt_2_2_1_3() {
        rejects(
            "82 06 00 00 00 01 61 00",
            V4,
            K::ZeroPacketId,
            M,
            Some("MQTT-2.3.1-1"),
        );
        rejects(
            "82 07 00 00 00 00 01 61 00",
            V5,
            K::ZeroPacketId,
            M,
            Some("MQTT-2.2.1-3"),
        );
    }

    #[test]
    fn rejects_subscribe_without_filters_5_0_mqtt_3_8_3_2() {
        rejects(
            "82 03 00 01 00",
            V5,
            K::NoTopicFilters,
            P,
            Some("MQTT-3.8.3-2"),
        );
    }

    #[test]
    fn rejects_subscribe_without_filters_3_1_1_mqtt_3_8_3_3() {
        rejects(
            "82 02 00 01",
            V4,
            K::NoTopicFilters,
            P,
            Some("MQTT-3.8.3-3"),
        );
        rejects(
            "82 02 00 01",
            V3,
            K::NoTopicFilters,
            P,
            Some("MQTT-3.8.3-3"),
        );
    }

    #[test]
    fn rejects_5_0_subscribe_without_property_length_mqtt_2_2_2_1() {
        // 00 is read as the Property Length, then 01 61 as a 353-byte filter length.
        let end = K::UnexpectedEnd {
            field: "topic filter",
        };
        rejects("82 06 00 01 00 01 61 01", V5, end, M, None);
    }

    #[test]
    fn rejects_filter_without_options_byte() {
        let end = K::UnexpectedEnd {
            field: "subscription options",
        };
        rejects("82 05 00 01 00 01 61", V4, end.clone(), M, None);
        rejects("82 06 00 01 00 00 01 61", V5, end, M, None);
    }

    #[test]
    fn rejects_options_bits_6_and_7_mqtt_3_8_3_5() {
        for options in [0xC1, 0x40, 0x80] {
            let kind = K::InvalidSubscriptionOptions { options };
            rejects(&frame(V5, b"a", options), V5, kind, M, Some("MQTT-3.8.3-5"));
        }
        let kind = K::InvalidSubscriptionOptions { options: 0xC1 };
        rejects(
            "82 07 00 01 00 00 01 61 C1",
            V5,
            kind,
            M,
            Some("MQTT-3.8.3-5"),
        );
    }

    #[test]
    fn rejects_qos_3_in_options_5_0_section_3_8_3_1() {
        let kind = K::InvalidSubscriptionOptions { options: 0x03 };
        rejects("82 07 00 01 00 00 01 61 03", V5, kind, P, None);
    }

    #[test]
    fn rejects_retain_handling_3_5_0_section_3_8_3_1() {
        let kind = K::InvalidSubscriptionOptions { options: 0x30 };
        rejects("82 07 00 01 00 00 01 61 30", V5, kind, P, None);
    }

    #[test]
    fn rejects_3_1_1_options_reserved_bits_and_qos_3_mqtt_3_8_3_4() {
        for options in [0x04, 0x03, 0x2D, 0x80] {
            let kind = K::InvalidSubscriptionOptions { options };
            for v in [V3, V4] {
                rejects(
                    &frame(v, b"a", options),
                    v,
                    kind.clone(),
                    M,
                    Some("MQTT-3.8.3-4"),
                );
            }
        }
        let kind = K::InvalidSubscriptionOptions { options: 0x04 };
        rejects("82 06 00 01 00 01 61 04", V4, kind, M, Some("MQTT-3.8.3-4"));
    }

    #[test]
    fn rejects_no_local_on_shared_subscription_5_0_mqtt_3_8_3_4() {
        rejects(
            "82 10 00 01 00 00 0A 24 73 68 61 72 65 2F 67 2F 61 05",
            V5,
            K::NoLocalOnSharedSubscription,
            P,
            Some("MQTT-3.8.3-4"),
        );
        // No Local on an ordinary filter is fine.
        assert!(decode(&frame(V5, b"a", 0x05), V5).is_ok());
    }

    #[test]
    fn rejects_empty_filter_mqtt_4_7_3_1() {
        let kind = invalid_filter(InvalidTopic::EmptyFilter);
        rejects(
            "82 05 00 01 00 00 00",
            V4,
            kind.clone(),
            M,
            Some("MQTT-4.7.3-1"),
        );
        rejects("82 06 00 01 00 00 00 00", V5, kind, M, Some("MQTT-4.7.3-1"));
    }

    #[test]
    fn rejects_misplaced_multi_level_wildcard_5_0_mqtt_4_7_1_1_and_3_1_1_mqtt_4_7_1_2() {
        let kind = invalid_filter(InvalidTopic::MisplacedMultiLevelWildcard);
        rejects(
            "82 07 00 01 00 02 61 23 00",
            V4,
            kind.clone(),
            M,
            Some("MQTT-4.7.1-2"),
        );
        rejects(
            "82 08 00 01 00 00 02 61 23 00",
            V5,
            kind.clone(),
            M,
            Some("MQTT-4.7.1-1"),
        );
        for filter in ["a/#/b", "#/", "a/b#"] {
            let bytes = filter.as_bytes();
            rejects(
                &frame(V4, bytes, 0),
                V4,
                kind.clone(),
                M,
                Some("MQTT-4.7.1-2"),
            );
            rejects(
                &frame(V5, bytes, 0),
                V5,
                kind.clone(),
                M,
                Some("MQTT-4.7.1-1"),
            );
        }
    }

    #[test]
    fn rejects_misplaced_single_level_wildcard_5_0_mqtt_4_7_1_2_and_3_1_1_mqtt_4_7_1_3() {
        let kind = invalid_filter(InvalidTopic::MisplacedSingleLevelWildcard);
        rejects(
            "82 07 00 01 00 02 61 2B 00",
            V4,
            kind.clone(),
            M,
            Some("MQTT-4.7.1-3"),
        );
        rejects(
            "82 08 00 01 00 00 02 61 2B 00",
            V5,
            kind.clone(),
            M,
            Some("MQTT-4.7.1-2"),
        );
        for filter in ["+a", "a/b+/c"] {
            let bytes = filter.as_bytes();
            rejects(
                &frame(V4, bytes, 0),
                V4,
                kind.clone(),
                M,
                Some("MQTT-4.7.1-3"),
            );
            rejects(
                &frame(V5, bytes, 0),
                V5,
                kind.clone(),
                M,
                Some("MQTT-4.7.1-2"),
            );
        }
    }

    #[test]
    fn rejects_shared_filter_without_share_name_5_0_mqtt_4_8_2_1() {
        let kind = invalid_filter(InvalidTopic::InvalidSharedSubscription);
        // "$share//a" = 24 73 68 61 72 65 2F 2F 61.
        let bytes = "82 0F 00 01 00 00 09 24 73 68 61 72 65 2F 2F 61 01";
        rejects(bytes, V5, kind.clone(), M, Some("MQTT-4.8.2-1"));
        rejects(&frame(V5, b"$share/", 1), V5, kind, M, Some("MQTT-4.8.2-1"));
    }

    #[test]
    fn rejects_shared_filter_without_slash_and_filter_5_0_mqtt_4_8_2_2() {
        let kind = invalid_filter(InvalidTopic::InvalidSharedSubscription);
        for filter in ["$share/g", "$share/g/"] {
            let bytes = frame(V5, filter.as_bytes(), 1);
            rejects(&bytes, V5, kind.clone(), M, Some("MQTT-4.8.2-2"));
        }
        // Wildcards in the share name break the wildcard rules first.
        let kind = invalid_filter(InvalidTopic::MisplacedSingleLevelWildcard);
        rejects(
            &frame(V5, b"$share/g+/a", 1),
            V5,
            kind,
            M,
            Some("MQTT-4.7.1-2"),
        );
    }

    #[test]
    fn accepts_share_like_filters_as_plain_filters_at_3_1_1() {
        for filter in ["$share//a", "$share/g", "$share/g/", "$share/"] {
            for v in [V3, V4] {
                let packet = decode(&frame(v, filter.as_bytes(), 1), v).unwrap();
                let expected = Subscribe::new(pid(1), vec![sub(filter, qos(QoS::AtLeastOnce))]);
                assert_eq!(packet, Packet::Subscribe(expected), "{filter}");
            }
        }
        // "$share/g" = 24 73 68 61 72 65 2F 67: body 2 + 10 + 1.
        let packet = Subscribe::new(pid(1), vec![sub("$share/g", qos(QoS::AtMostOnce))]);
        both_ways(
            "82 0D 00 01 00 08 24 73 68 61 72 65 2F 67 00",
            V4,
            &Packet::Subscribe(packet),
        );
        // Valid shared filters at 5.0.
        for filter in ["$share/consumer1//finance", "$share/g/#"] {
            assert!(
                decode(&frame(V5, filter.as_bytes(), 1), V5).is_ok(),
                "{filter}"
            );
        }
    }

    #[test]
    fn rejects_invalid_utf8_filter_mqtt_3_8_3_1() {
        // The string rule tags it: 3.1.1 MQTT-1.5.3-1, 5.0 MQTT-1.5.4-1.
        let kind = K::InvalidUtf8 {
            field: "topic filter",
        };
        rejects(
            "82 06 00 01 00 01 FF 00",
            V4,
            kind.clone(),
            M,
            Some("MQTT-1.5.3-1"),
        );
        rejects(
            "82 07 00 01 00 00 01 FF 00",
            V5,
            kind,
            M,
            Some("MQTT-1.5.4-1"),
        );
    }

    #[test]
    fn rejects_null_character_in_filter_mqtt_4_7_3_2() {
        let kind = K::NullCharacter {
            field: "topic filter",
        };
        rejects(
            "82 08 00 01 00 03 61 00 62 00",
            V4,
            kind.clone(),
            M,
            Some("MQTT-1.5.3-2"),
        );
        rejects(
            "82 09 00 01 00 00 03 61 00 62 00",
            V5,
            kind,
            M,
            Some("MQTT-1.5.4-2"),
        );
    }

    #[test]
    fn rejects_two_subscription_identifiers_section_3_8_2_1_2() {
        rejects(
            "82 0B 00 01 04 0B 01 0B 02 00 01 61 01",
            V5,
            K::DuplicateProperty { id: 0x0B },
            P,
            None,
        );
    }

    #[test]
    fn rejects_subscription_identifier_0_section_3_8_2_1_2() {
        rejects(
            "82 09 00 01 02 0B 00 00 01 61 01",
            V5,
            K::InvalidPropertyValue { id: 0x0B, value: 0 },
            P,
            None,
        );
    }

    #[test]
    fn rejects_properties_subscribe_may_not_carry() {
        // Reason String, Topic Alias: Malformed Packet (section 2.2.2.2).
        let kind = K::PropertyNotAllowed { id: 0x1F };
        rejects("82 0B 00 01 04 1F 00 01 61 00 01 61 01", V5, kind, M, None);
        let kind = K::PropertyNotAllowed { id: 0x23 };
        rejects("82 0A 00 01 03 23 00 01 00 01 61 01", V5, kind, M, None);
    }

    // ---- encoder ------------------------------------------------------------------------

    #[test]
    fn refuses_5_0_options_below_5_0() {
        let with = |f: fn(&mut SubscriptionOptions)| {
            let mut options = qos(QoS::AtLeastOnce);
            f(&mut options);
            Packet::Subscribe(Subscribe::new(pid(1), vec![sub("a", options)]))
        };
        for packet in [
            with(|o| o.no_local = true),
            with(|o| o.retain_as_published = true),
            with(|o| o.retain_handling = RetainHandling::SendIfNew),
            with(|o| o.retain_handling = RetainHandling::DoNotSend),
        ] {
            for v in [V3, V4] {
                assert_eq!(
                    encode(&packet, v),
                    Err(EncodeError::UnsupportedInVersion {
                        what: "No Local, Retain As Published or Retain Handling",
                        version: v,
                    })
                );
            }
            assert!(encode(&packet, V5).is_ok());
        }
    }

    #[test]
    fn refuses_properties_below_5_0() {
        let mut packet = Subscribe::new(pid(1), vec![sub("a", qos(QoS::AtLeastOnce))]);
        packet.properties.subscription_identifier = SubscriptionId::new(1);
        assert_eq!(
            encode(&Packet::Subscribe(packet), V4),
            Err(EncodeError::UnsupportedInVersion {
                what: "SUBSCRIBE properties",
                version: V4,
            })
        );
    }

    #[test]
    fn refuses_subscribe_without_filters_mqtt_3_8_3_2_and_3_1_1_mqtt_3_8_3_3() {
        let packet = Packet::Subscribe(Subscribe::new(pid(1), vec![]));
        let what = "SUBSCRIBE without a topic filter";
        assert_eq!(
            encode(&packet, V5),
            Err(EncodeError::invalid(what, Some("MQTT-3.8.3-2")))
        );
        assert_eq!(
            encode(&packet, V4),
            Err(EncodeError::invalid(what, Some("MQTT-3.8.3-3")))
        );
    }

    #[test]
    fn refuses_no_local_on_shared_subscription_mqtt_3_8_3_4() {
        let options = SubscriptionOptions {
            no_local: true,
            ..qos(QoS::AtLeastOnce)
        };
        let packet = Packet::Subscribe(Subscribe::new(pid(1), vec![sub("$share/g/a", options)]));
        assert_eq!(
            encode(&packet, V5),
            Err(EncodeError::invalid(
                "No Local on a shared subscription",
                Some("MQTT-3.8.3-4")
            ))
        );
    }

    #[test]
    fn refuses_invalid_shared_filters_at_5_0_only_mqtt_4_8_2_1_and_2() {
        let what = "invalid shared subscription filter";
        for (filter, rule) in [
            ("$share//a", "MQTT-4.8.2-1"),
            ("$share/", "MQTT-4.8.2-1"),
            ("$share/g", "MQTT-4.8.2-2"),
            ("$share/g/", "MQTT-4.8.2-2"),
        ] {
            let packet = Subscribe::new(pid(1), vec![sub(filter, qos(QoS::AtMostOnce))]);
            let packet = Packet::Subscribe(packet);
            assert_eq!(
                encode(&packet, V5),
                Err(EncodeError::invalid(what, Some(rule))),
                "{filter}"
            );
            assert_eq!(
                encode(&packet, V4).unwrap(),
                frame(V4, filter.as_bytes(), 0)
            );
        }
    }

    #[test]
    fn encode_with_limit_drops_nothing_from_subscribe() {
        // User Properties of a SUBSCRIBE are not the sender's to drop.
        let mut packet = Subscribe::new(pid(1), vec![sub("a", qos(QoS::AtLeastOnce))]);
        packet.properties.subscription_identifier = SubscriptionId::new(5);
        packet
            .properties
            .set_user_properties(UserProperties::from_pairs([("k", "v")]).unwrap());
        let packet = Packet::Subscribe(packet);
        let mut buf = [0xAA; 24];
        assert_eq!(
            packet.encode_with_limit(V5, 17, &mut &mut buf[..]),
            Err(EncodeError::PacketTooLarge { size: 18, max: 17 })
        );
        assert_eq!(buf, [0xAA; 24]);
        assert_eq!(packet.encode_with_limit(V5, 18, &mut &mut buf[..]), Ok(18));
        assert_eq!(
            buf[..18],
            hex("82 10 00 01 09 0B 05 26 00 01 6B 00 01 76 00 01 61 01")[..]
        );
        assert_eq!(buf[18..], [0xAA; 6]);
    }

    /// The decoded list is the received bytes, checked, not a copy: a SUBSCRIBE takes no
    /// more memory than its frame, however many filters it holds.
    #[test]
    fn the_subscription_list_is_a_slice_of_the_received_bytes() {
        let mut body = alloc::vec![0x00, 0x01]; // packet identifier 1
        for i in 0..10u8 {
            body.extend_from_slice(&[0x00, 0x01, b'a' + i, 0x01]);
        }
        let mut bytes = alloc::vec![0x82, body.len() as u8];
        bytes.extend_from_slice(&body);
        let input = bytes::Bytes::from(bytes);
        let (packet, _) = Packet::decode(&input, ProtocolVersion::V3_1_1).unwrap();
        let Packet::Subscribe(subscribe) = packet else {
            panic!("not a SUBSCRIBE: {packet:?}");
        };
        assert_eq!(subscribe.subscriptions.len(), 10);
        let received = input.as_ptr_range();
        for s in &subscribe.subscriptions {
            assert!(
                received.contains(&s.filter.as_str().as_ptr()),
                "{s:?} was copied"
            );
        }
    }

    /// A list repeating one 65,535-byte filter (shared, so cheap to build) is refused by its
    /// Remaining Length. The length sum saturates: on a 32-bit target such a list can count
    /// past `usize::MAX`, which must not panic or wrap to a small, wrong length.
    #[test]
    fn repeated_long_filter_is_refused_by_remaining_length() {
        let long = TopicFilter::new(&"a".repeat(65_535)).unwrap();
        let subscriptions = vec![Subscription::new(long, QoS::AtMostOnce); 4096];
        let subscribe = Subscribe::new(pid(1), subscriptions);
        // 2 + 4,096 × (2 + 65,535 + 1) bytes.
        let expected = EncodeError::RemainingLengthTooLarge(268_443_650);
        assert_eq!(encode_err(&subscribe, V4), expected);
    }
}
