//! The borrowed core as a firmware without an allocator uses it: packets built from
//! borrowed parts encode exactly as their owned equivalents; a topic name with a wildcard
//! cannot be made, and a filter breaking a rule is refused at encoding with its rule and
//! nothing written; decoding answers "need more bytes" with the count it knows.

use mqttwire::properties::PublishPropertiesRef;
use mqttwire::{
    ConnectRef, Decoded, EncodeError, InvalidTopic, MqttStr, Packet, PacketId, PacketRef,
    ProtocolVersion, PubAckRef, PublishRef, QoS, QosPid, SubscribeRef, Subscription,
    SubscriptionOptions, SubscriptionRef, SubscriptionsRef, TopicFilter, TopicFiltersRef,
    TopicName, TopicStr, UnsubscribeRef, WillRef,
};

const V4: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;

fn s(text: &str) -> MqttStr<'_> {
    MqttStr::new(text).unwrap()
}

fn t(text: &str) -> TopicStr<'_> {
    TopicStr::new(text).unwrap()
}

fn id(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

/// Encodes `packet` into a slice, as firmware does; `Err` leaves the slice untouched.
fn encode(packet: PacketRef<'_>, version: ProtocolVersion) -> Result<Vec<u8>, EncodeError> {
    let mut out = [0xEEu8; 512];
    match packet.encode(version, &mut out) {
        Ok(n) => Ok(out[..n].to_vec()),
        Err(e) => {
            assert!(out.iter().all(|&b| b == 0xEE), "bytes written before {e:?}");
            Err(e)
        }
    }
}

fn owned(packet: &Packet, version: ProtocolVersion) -> Vec<u8> {
    let mut out = Vec::new();
    packet.encode(version, &mut out).unwrap();
    out
}

fn rule(err: EncodeError) -> Option<&'static str> {
    match err {
        EncodeError::Invalid { rule, .. } => rule,
        other => panic!("not Invalid: {other:?}"),
    }
}

#[test]
fn a_publish_and_its_acknowledgement_built_from_parts_encode_as_the_owned_ones() {
    for version in [V4, V5] {
        let mut publish = PublishRef::new(t("sensors/7"), b"21.5");
        publish.qos = QosPid::AtLeastOnce(id(9));
        publish.retain = true;
        let mut want = mqttwire::Publish::new(TopicName::new("sensors/7").unwrap(), "21.5");
        want.qos = QosPid::AtLeastOnce(id(9));
        want.retain = true;
        let bytes = encode(PacketRef::Publish(publish), version).unwrap();
        assert_eq!(bytes, owned(&Packet::from(want), version), "{version}");
        assert_eq!(
            PacketRef::decode(&bytes, version),
            Ok(Decoded::Complete(PacketRef::Publish(publish), bytes.len()))
        );
        let ack = encode(PacketRef::PubAck(PubAckRef::new(id(9))), version).unwrap();
        assert_eq!(ack, [0x40, 0x02, 0x00, 0x09]);
    }
}

/// [MQTT-3.3.2-2]: a topic name holds no wildcard, so a `TopicStr` with one cannot be
/// made (the topic of a PUBLISH and of a will); [MQTT-4.7.3-1]: an empty one is refused when
/// encoded, unless a 5.0 Topic Alias stands for it.
#[test]
fn a_topic_name_with_a_wildcard_cannot_be_made_mqtt_3_3_2_2() {
    for topic in ["a/+", "#", "a/#/b", "+"] {
        assert_eq!(
            TopicStr::new(topic),
            Err(InvalidTopic::WildcardInName),
            "{topic}"
        );
    }
    for version in [V4, V5] {
        let err = encode(PacketRef::Publish(PublishRef::new(t(""), b"")), version);
        assert_eq!(err.map_err(rule), Err(Some("MQTT-4.7.3-1")));
        let mut connect = ConnectRef {
            protocol_version: version,
            clean_start: true,
            keep_alive: 60,
            client_id: s("c1"),
            will: None,
            user_name: None,
            password: None,
            properties: Default::default(),
        };
        connect.will = Some(WillRef {
            topic: t("dead/c1"),
            payload: b"bye",
            qos: QoS::AtMostOnce,
            retain: false,
            properties: Default::default(),
        });
        assert!(encode(PacketRef::Connect(connect), version).is_ok());
    }
    // 5.0: an empty topic with a Topic Alias stands for the aliased one.
    let mut aliased = PublishRef::new(t(""), b"x");
    aliased.properties = PublishPropertiesRef::default();
    aliased.properties.topic_alias = core::num::NonZeroU16::new(3);
    assert!(encode(PacketRef::Publish(aliased), V5).is_ok());
}

/// Subscriptions from parts encode as the owned SUBSCRIBE, and a filter breaking the
/// wildcard rules (5.0 [MQTT-4.7.1-1], [MQTT-4.7.1-2]; 3.1.1 [MQTT-4.7.1-2],
/// [MQTT-4.7.1-3]) or, at 5.0, the shared-subscription syntax ([MQTT-4.8.2-2]) is refused.
#[test]
fn filters_from_parts_are_checked_when_encoded() {
    let qos1 = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        ..SubscriptionOptions::default()
    };
    let parts = [
        SubscriptionRef {
            filter: s("a/+/c"),
            options: qos1,
        },
        SubscriptionRef {
            filter: s("#"),
            options: qos1,
        },
    ];
    let want = mqttwire::Subscribe::new(
        id(3),
        ["a/+/c", "#"].map(|f| Subscription::new(TopicFilter::new(f).unwrap(), QoS::AtLeastOnce)),
    );
    for version in [V4, V5] {
        let subscribe = SubscribeRef {
            packet_id: id(3),
            subscriptions: SubscriptionsRef::from_parts(&parts),
            properties: Default::default(),
        };
        let bytes = encode(PacketRef::Subscribe(subscribe), version).unwrap();
        assert_eq!(bytes, owned(&Packet::from(want.clone()), version));
        for (filter, v4, v5) in [
            ("a/#/b", "MQTT-4.7.1-2", "MQTT-4.7.1-1"),
            ("a+", "MQTT-4.7.1-3", "MQTT-4.7.1-2"),
            ("", "MQTT-4.7.3-1", "MQTT-4.7.3-1"),
        ] {
            let bad = [SubscriptionRef {
                filter: s(filter),
                options: qos1,
            }];
            let subscribe = SubscribeRef {
                subscriptions: SubscriptionsRef::from_parts(&bad),
                ..subscribe
            };
            let want = Some(if version.is_v5() { v5 } else { v4 });
            let err = encode(PacketRef::Subscribe(subscribe), version).map_err(rule);
            assert_eq!(err, Err(want), "{filter:?} at {version}");
            let filters = [s(filter)];
            let unsubscribe = UnsubscribeRef {
                packet_id: id(4),
                filters: TopicFiltersRef::from_parts(&filters),
                properties: Default::default(),
            };
            let err = encode(PacketRef::Unsubscribe(unsubscribe), version).map_err(rule);
            assert_eq!(err, Err(want), "UNSUBSCRIBE {filter:?} at {version}");
        }
    }
    let filters = [s("$share/g")];
    let unsubscribe = UnsubscribeRef {
        packet_id: id(4),
        filters: TopicFiltersRef::from_parts(&filters),
        properties: Default::default(),
    };
    let err = encode(PacketRef::Unsubscribe(unsubscribe), V5).map_err(rule);
    assert_eq!(err, Err(Some("MQTT-4.8.2-2")));
    // At 3.1.1 `$share/` is an ordinary filter.
    assert!(encode(PacketRef::Unsubscribe(unsubscribe), V4).is_ok());
}

/// A partial packet is "need more bytes", never an error: the count is exact once the
/// fixed header is in, unknown (`None`) while it is not.
#[test]
fn a_partial_packet_says_how_many_more_bytes_it_needs() {
    let publish = [0x30, 0x05, 0x00, 0x01, b'a', b'h', b'i'];
    for cut in 0..publish.len() {
        let needed = if cut < 2 {
            None
        } else {
            Some(publish.len() - cut)
        };
        assert_eq!(
            PacketRef::decode(&publish[..cut], V4),
            Ok(Decoded::Partial { needed }),
            "cut at {cut}"
        );
    }
    // A Remaining Length cut inside its continuation bytes is still partial.
    assert_eq!(
        PacketRef::decode(&[0x30, 0x80, 0x80], V4),
        Ok(Decoded::Partial { needed: None })
    );
}
