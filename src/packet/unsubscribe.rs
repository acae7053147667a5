//! UNSUBSCRIBE: the client's request to remove subscriptions (MQTT 5.0 section 3.10,
//! 3.1.1 section 3.10).
//!
//! ```text
//! fixed header    0xA2, Remaining Length
//! variable header Packet Identifier two-byte integer
//!                 Properties        (5.0 only)
//! payload         one or more Topic Filter strings
//! ```

use super::subscribe::{check_filter, read_filter};
#[cfg(feature = "alloc")]
use super::wire_list::OwnedEntry;
use super::{v5_only, EncodeBody};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
#[cfg(feature = "alloc")]
use crate::properties::UnsubscribeProperties;
use crate::properties::UnsubscribePropertiesRef;
use crate::types::PacketType;
use crate::types::{MqttStr, PacketId, ProtocolVersion};
#[cfg(feature = "alloc")]
use crate::types::{MqttString, TopicFilter};
use crate::wire::reader::Reader;
use crate::wire::writer::put_str;
use crate::wire::writer::Sink;
use crate::wire::Trim;
#[cfg(feature = "alloc")]
use bytes::Bytes;

#[cfg(feature = "alloc")]
/// UNSUBSCRIBE: the topic filters to remove, compared character by character with the
/// session's subscriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    /// The packet identifier, echoed by the UNSUBACK.
    pub packet_id: PacketId,
    /// The filters; at least one ([MQTT-3.10.3-2]).
    pub filters: TopicFilters,
    /// Properties (MQTT 5.0).
    pub properties: UnsubscribeProperties,
}

#[cfg(feature = "alloc")]
impl Unsubscribe {
    /// An UNSUBSCRIBE without properties.
    #[must_use]
    pub fn new(packet_id: PacketId, filters: impl IntoIterator<Item = TopicFilter>) -> Self {
        Self {
            packet_id,
            filters: filters.into_iter().collect(),
            properties: UnsubscribeProperties::default(),
        }
    }

    pub(crate) fn detach(&self) -> Self {
        Self {
            packet_id: self.packet_id,
            filters: self.filters.detach(),
            properties: self.properties.detach(),
        }
    }

    /// The packet as a borrowed view of its own fields.
    #[must_use]
    pub fn as_view(&self) -> UnsubscribeRef<'_> {
        UnsubscribeRef {
            packet_id: self.packet_id,
            filters: TopicFiltersRef::from_wire(&self.filters.bytes),
            properties: self.properties.as_view(),
        }
    }

    /// The owned packet whose fields are `view`'s, sliced from `frame`, which holds them.
    pub(crate) fn from_view(view: &UnsubscribeRef<'_>, frame: &Bytes) -> Self {
        Self {
            packet_id: view.packet_id,
            filters: TopicFilters::from_view(view.filters, frame),
            properties: UnsubscribeProperties::from_view(&view.properties, frame),
        }
    }
}

/// UNSUBSCRIBE as a borrowed view of the received bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsubscribeRef<'a> {
    /// The packet identifier, echoed by the UNSUBACK.
    pub packet_id: PacketId,
    /// The filters, at least one, checked when the packet was decoded.
    pub filters: TopicFiltersRef<'a>,
    /// Properties (MQTT 5.0).
    pub properties: UnsubscribePropertiesRef<'a>,
}

impl<'a> UnsubscribeRef<'a> {
    pub(crate) fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let packet_id = r.packet_id(PacketType::Unsubscribe)?;
        let properties = if r.version.is_v5() {
            UnsubscribePropertiesRef::decode(r)?
        } else {
            UnsubscribePropertiesRef::default()
        };
        let start = r.remaining_bytes();
        while r.has_remaining() {
            read_filter(r)?;
        }
        if r.remaining() == start.len() {
            return Err(
                DecodeError::new(DecodeErrorKind::NoTopicFilters).with_rule("MQTT-3.10.3-2")
            );
        }
        Ok(Self {
            packet_id,
            filters: TopicFiltersRef::from_wire(r.read_since(start)),
            properties,
        })
    }
}

wire_list! {
    /// The topic filters of an [`UnsubscribeRef`]: the received strings, checked once when the
    /// packet was decoded and read again, without checks, as they are iterated; or filters
    /// given by the sender ([`from_parts`](Self::from_parts)), checked when encoded.
    view TopicFiltersRef, TopicFiltersRefIter => MqttStr<'a>;
    /// The topic filters of an [`Unsubscribe`], kept as they go on the wire (length-prefixed
    /// strings, one after another) in one buffer, a slice of the received frame when decoded:
    /// an UNSUBSCRIBE takes no more memory than its bytes. Iterating yields each
    /// [`TopicFilter`] (a slice of that buffer).
    ///
    /// ```
    /// use mqttwire::{TopicFilter, TopicFilters};
    ///
    /// let list: TopicFilters = ["a/+", "b/#"].into_iter().map(|f| TopicFilter::new(f).unwrap()).collect();
    /// assert_eq!(list.len(), 2);
    /// assert_eq!(list.iter().last().unwrap(), "b/#");
    /// ```
    owned TopicFilters, TopicFiltersIter => TopicFilter;
}

#[cfg(feature = "alloc")]
impl OwnedEntry for TopicFilter {
    type Entry<'a> = MqttStr<'a>;

    fn from_entry(frame: &Bytes, entry: MqttStr<'_>) -> Self {
        TopicFilter::from_plain(MqttString::in_frame(frame, entry))
    }

    fn entry(&self) -> MqttStr<'_> {
        self.as_mqtt_str().as_borrowed()
    }
}

impl EncodeBody for UnsubscribeRef<'_> {
    const TYPE: PacketType = PacketType::Unsubscribe;

    fn flags(&self) -> u8 {
        0b0010
    }

    fn body_len(&self, version: ProtocolVersion, _trim: Trim) -> Result<usize, EncodeError> {
        if self.filters.is_empty() {
            return Err(EncodeError::invalid(
                "UNSUBSCRIBE without a topic filter",
                Some("MQTT-3.10.3-2"),
            ));
        }
        v5_only(
            version,
            self.properties.is_empty(),
            "UNSUBSCRIBE properties",
        )?;
        self.properties.check()?;
        let mut len = 2;
        if version.is_v5() {
            len += self.properties.wire_len(Trim::Nothing);
        }
        for filter in self.filters.iter() {
            check_filter(filter, version)?;
            // Saturating, as in SUBSCRIBE: a repeated long filter can count past `usize::MAX`
            // on a 32-bit target; the Remaining Length check then refuses it.
            len = len.saturating_add(filter.wire_len());
        }
        Ok(len)
    }

    fn put_body<B: Sink + ?Sized>(&self, version: ProtocolVersion, _trim: Trim, buf: &mut B) {
        buf.put_u16(self.packet_id.get());
        if version.is_v5() {
            self.properties.put(buf, Trim::Nothing);
        }
        for filter in self.filters.iter() {
            put_str(buf, filter);
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
    use crate::types::InvalidTopic;
    use crate::Packet;
    use alloc::vec::Vec;

    /// An UNSUBSCRIBE, packet identifier 1, of one filter (raw bytes, under 100).
    fn frame(version: ProtocolVersion, filter: &[u8]) -> Vec<u8> {
        one_filter_frame(0xA2, version, filter, None)
    }

    fn unsubscribe(id: u16, filters: &[&str]) -> Unsubscribe {
        let filters = filters.iter().map(|f| TopicFilter::new(f).unwrap());
        Unsubscribe::new(pid(id), filters)
    }

    #[test]
    fn frame_helper_matches_hand_computed_vectors() {
        assert_eq!(frame(V4, b"a"), hex("A2 05 00 01 00 01 61"));
        assert_eq!(frame(V5, b"a"), hex("A2 06 00 01 00 00 01 61"));
    }

    // ---- byte vectors -------------------------------------------------------------------

    #[test]
    fn filters_at_3_1_and_3_1_1() {
        for v in [V3, V4] {
            both_ways(
                "A2 05 00 09 00 01 61",
                v,
                &Packet::Unsubscribe(unsubscribe(9, &["a"])),
            );
            both_ways(
                "A2 0A 00 01 00 03 61 2F 2B 00 01 23",
                v,
                &Packet::Unsubscribe(unsubscribe(1, &["a/+", "#"])),
            );
        }
    }

    #[test]
    fn filters_packed_back_to_back_at_5_0_mqtt_3_10_3_1() {
        both_ways(
            "A2 09 00 01 00 00 01 61 00 01 62",
            V5,
            &Packet::Unsubscribe(unsubscribe(1, &["a", "b"])),
        );
    }

    #[test]
    fn user_property_at_5_0() {
        // 26 00 01 6B 00 01 76 = 7 bytes of properties: body 2 + 1 + 7 + 3.
        let mut packet = unsubscribe(1, &["a"]);
        packet
            .properties
            .set_user_properties(UserProperties::from_pairs([("k", "v")]).unwrap());
        both_ways(
            "A2 0D 00 01 07 26 00 01 6B 00 01 76 00 01 61",
            V5,
            &Packet::Unsubscribe(packet),
        );
    }

    #[test]
    fn shared_filter_at_5_0() {
        // "$share/g/a" = 24 73 68 61 72 65 2F 67 2F 61.
        both_ways(
            "A2 0F 00 01 00 00 0A 24 73 68 61 72 65 2F 67 2F 61",
            V5,
            &Packet::Unsubscribe(unsubscribe(1, &["$share/g/a"])),
        );
    }

    // ---- rejected input -----------------------------------------------------------------

    #[test]
    fn rejects_unsubscribe_with_flags_0000_mqtt_3_10_1_1() {
        let kind = K::InvalidFlags { flags: 0 };
        rejects(
            "A0 05 00 01 00 01 61",
            V4,
            kind.clone(),
            M,
            Some("MQTT-3.10.1-1"),
        );
        rejects(
            "A0 06 00 01 00 00 01 61",
            V5,
            kind,
            M,
            Some("MQTT-3.10.1-1"),
        );
        let kind = K::InvalidFlags { flags: 0b0011 };
        rejects("A3 05 00 01 00 01 61", V4, kind, M, Some("MQTT-3.10.1-1"));
    }

    #[test]
    fn rejects_packet_id_0_mqtt_2_3_1_1_and_5_0_mqtt_2_2_1_3() {
        rejects(
            "A2 05 00 00 00 01 61",
            V4,
            K::ZeroPacketId,
            M,
            Some("MQTT-2.3.1-1"),
        );
        rejects(
            "A2 06 00 00 00 00 01 61",
            V5,
            K::ZeroPacketId,
            M,
            Some("MQTT-2.2.1-3"),
        );
    }

    #[test]
    fn rejects_unsubscribe_without_filters_mqtt_3_10_3_2() {
        rejects(
            "A2 02 00 01",
            V4,
            K::NoTopicFilters,
            P,
            Some("MQTT-3.10.3-2"),
        );
        rejects(
            "A2 02 00 01",
            V3,
            K::NoTopicFilters,
            P,
            Some("MQTT-3.10.3-2"),
        );
        rejects(
            "A2 03 00 01 00",
            V5,
            K::NoTopicFilters,
            P,
            Some("MQTT-3.10.3-2"),
        );
    }

    #[test]
    fn rejects_5_0_unsubscribe_without_property_length_mqtt_2_2_2_1() {
        // 00 is read as the Property Length, then 01 61 as a 353-byte filter length.
        let kind = K::UnexpectedEnd {
            field: "topic filter",
        };
        rejects("A2 05 00 01 00 01 61", V5, kind, M, None);
    }

    #[test]
    fn rejects_options_byte_after_a_filter() {
        // UNSUBSCRIBE filters have no options: a SUBSCRIBE-shaped payload runs short.
        let kind = K::UnexpectedEnd {
            field: "topic filter",
        };
        rejects("A2 06 00 01 00 01 61 01", V4, kind, M, None);
    }

    #[test]
    fn rejects_empty_filter_mqtt_4_7_3_1() {
        let kind = invalid_filter(InvalidTopic::EmptyFilter);
        rejects(
            "A2 04 00 01 00 00",
            V4,
            kind.clone(),
            M,
            Some("MQTT-4.7.3-1"),
        );
        rejects("A2 05 00 01 00 00 00", V5, kind, M, Some("MQTT-4.7.3-1"));
    }

    #[test]
    fn rejects_misplaced_wildcards_5_0_mqtt_4_7_1_1_and_2_3_1_1_mqtt_4_7_1_2_and_3() {
        let multi = invalid_filter(InvalidTopic::MisplacedMultiLevelWildcard);
        rejects(
            "A2 06 00 01 00 02 61 23",
            V4,
            multi.clone(),
            M,
            Some("MQTT-4.7.1-2"),
        );
        rejects(
            "A2 07 00 01 00 00 02 61 23",
            V5,
            multi,
            M,
            Some("MQTT-4.7.1-1"),
        );
        let single = invalid_filter(InvalidTopic::MisplacedSingleLevelWildcard);
        rejects(
            "A2 06 00 01 00 02 61 2B",
            V4,
            single.clone(),
            M,
            Some("MQTT-4.7.1-3"),
        );
        rejects(
            "A2 07 00 01 00 00 02 61 2B",
            V5,
            single,
            M,
            Some("MQTT-4.7.1-2"),
        );
    }

    #[test]
    fn rejects_invalid_shared_filters_at_5_0_only_mqtt_4_8_2_1_and_2() {
        let kind = invalid_filter(InvalidTopic::InvalidSharedSubscription);
        for (filter, rule) in [
            ("$share//a", "MQTT-4.8.2-1"),
            ("$share/g", "MQTT-4.8.2-2"),
            ("$share/g/", "MQTT-4.8.2-2"),
        ] {
            rejects(
                &frame(V5, filter.as_bytes()),
                V5,
                kind.clone(),
                M,
                Some(rule),
            );
            let packet = decode(&frame(V4, filter.as_bytes()), V4).unwrap();
            assert_eq!(packet, Packet::Unsubscribe(unsubscribe(1, &[filter])));
        }
    }

    #[test]
    fn rejects_invalid_utf8_filter_mqtt_3_10_3_1() {
        // The string rule tags it: 3.1.1 MQTT-1.5.3-1, 5.0 MQTT-1.5.4-1.
        let kind = K::InvalidUtf8 {
            field: "topic filter",
        };
        rejects(
            "A2 05 00 01 00 01 FF",
            V4,
            kind.clone(),
            M,
            Some("MQTT-1.5.3-1"),
        );
        rejects("A2 06 00 01 00 00 01 FF", V5, kind, M, Some("MQTT-1.5.4-1"));
    }

    #[test]
    fn rejects_properties_unsubscribe_may_not_carry() {
        // Subscription Identifier, Reason String: Malformed Packet (section 2.2.2.2).
        let kind = K::PropertyNotAllowed { id: 0x0B };
        rejects("A2 08 00 01 02 0B 01 00 01 61", V5, kind, M, None);
        let kind = K::PropertyNotAllowed { id: 0x1F };
        rejects("A2 0A 00 01 04 1F 00 01 78 00 01 61", V5, kind, M, None);
    }

    // ---- encoder ------------------------------------------------------------------------

    #[test]
    fn refuses_unsubscribe_without_filters_mqtt_3_10_3_2() {
        let packet = Packet::Unsubscribe(unsubscribe(1, &[]));
        for v in [V3, V4, V5] {
            assert_eq!(
                encode(&packet, v),
                Err(EncodeError::invalid(
                    "UNSUBSCRIBE without a topic filter",
                    Some("MQTT-3.10.3-2")
                ))
            );
        }
    }

    #[test]
    fn refuses_properties_below_5_0() {
        let mut packet = unsubscribe(1, &["a"]);
        packet
            .properties
            .set_user_properties(UserProperties::from_pairs([("k", "v")]).unwrap());
        let packet = Packet::Unsubscribe(packet);
        for v in [V3, V4] {
            assert_eq!(
                encode(&packet, v),
                Err(EncodeError::UnsupportedInVersion {
                    what: "UNSUBSCRIBE properties",
                    version: v,
                })
            );
        }
    }

    #[test]
    fn refuses_invalid_shared_filters_at_5_0_only() {
        let what = "invalid shared subscription filter";
        for (filter, rule) in [
            ("$share//a", "MQTT-4.8.2-1"),
            ("$share/g", "MQTT-4.8.2-2"),
            ("$share/g/", "MQTT-4.8.2-2"),
        ] {
            let packet = Packet::Unsubscribe(unsubscribe(1, &[filter]));
            assert_eq!(
                encode(&packet, V5),
                Err(EncodeError::invalid(what, Some(rule)))
            );
            assert_eq!(encode(&packet, V4).unwrap(), frame(V4, filter.as_bytes()));
        }
    }

    #[test]
    fn encode_with_limit_drops_nothing_from_unsubscribe() {
        let mut packet = unsubscribe(1, &["a"]);
        packet
            .properties
            .set_user_properties(UserProperties::from_pairs([("k", "v")]).unwrap());
        let packet = Packet::Unsubscribe(packet);
        let mut buf = [0xAA; 20];
        assert_eq!(
            packet.encode_with_limit(V5, 14, &mut &mut buf[..]),
            Err(EncodeError::PacketTooLarge { size: 15, max: 14 })
        );
        assert_eq!(buf, [0xAA; 20]);
        assert_eq!(packet.encode_with_limit(V5, 15, &mut &mut buf[..]), Ok(15));
        assert_eq!(
            buf[..15],
            hex("A2 0D 00 01 07 26 00 01 6B 00 01 76 00 01 61")[..]
        );
        assert_eq!(buf[15..], [0xAA; 5]);
    }

    /// As in SUBSCRIBE: a list repeating one 65,535-byte filter is refused by its Remaining
    /// Length, the length sum saturating instead of overflowing on a 32-bit target.
    #[test]
    fn repeated_long_filter_is_refused_by_remaining_length() {
        let long = TopicFilter::new(&"a".repeat(65_535)).unwrap();
        let unsubscribe = Unsubscribe::new(pid(1), alloc::vec![long; 4096]);
        // 2 + 4,096 × (2 + 65,535) bytes.
        let expected = EncodeError::RemainingLengthTooLarge(268_439_554);
        assert_eq!(encode_err(&unsubscribe, V4), expected);
    }
}
