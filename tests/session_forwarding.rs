//! What a broker built on `Server` relies on when it forwards messages: a delivered message
//! carries no Topic Alias onward, a 5.0 message reaches a 3.1.1 subscriber without its
//! properties, `Connected` says how long a session outlives its connection at every
//! version, messages queued for a client that is away go out after what its session
//! already held, and one `unsuback` call serves every version.
//!
//! Rule tags follow /work/shared/spec/CONFORMANCE.md and are per version.

mod session_util;

use bytes::Bytes;
use core::num::NonZeroU16;
use mqttwire::properties::{AckProperties, ConnAckProperties};
use mqttwire::session::{Connected, Event, Instant, Server, SessionConfig, SessionError};
use mqttwire::{
    Connect, Disconnect, DisconnectReasonCode, EncodeError, MqttString, Packet, PacketType,
    ProtocolVersion, Publish, QoS, QosPid, TopicFilter, UnsubAckReasonCode, Unsubscribe,
};
use session_util::{message, Dir, Pair};

const V3: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;

fn publishes(pair: &Pair, dir: Dir) -> Vec<Publish> {
    pair.crossed(dir, PacketType::Publish)
        .into_iter()
        .map(|p| match p {
            Packet::Publish(p) => p,
            _ => unreachable!(),
        })
        .collect()
}

fn delivered(events: &[Event]) -> Vec<Publish> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

fn connected(events: &[Event]) -> Connected {
    events
        .iter()
        .find_map(|e| match e {
            Event::Connected(c) => Some(c.clone()),
            _ => None,
        })
        .expect("Connected")
}

/// A 5.0 message with the properties a broker forwards.
fn rich(topic: &str, payload: &'static str) -> Publish {
    let mut m = message(topic, payload);
    m.properties.message_expiry_interval = Some(600);
    m.properties
        .set_content_type(Some(MqttString::new("text/plain").unwrap()));
    m
}

/// 5.0 MQTT-3.3.2-7: an alias belongs to one connection. The server resolves the
/// publisher's alias and delivers the message without it (first with its topic, then with
/// the empty topic that used the alias), and publishing it unchanged to a subscriber whose
/// Topic Alias Maximum is 0 (mosquitto_sub's and paho's default) goes out with the full
/// topic instead of failing with `TopicAliasInvalid`.
#[test]
fn a_delivered_message_carries_no_topic_alias_onward_mqtt_3_3_2_7() {
    let mut server_config = SessionConfig::default();
    server_config.topic_alias_maximum = 4;
    let mut publisher = Pair::with_configs(V5, SessionConfig::default(), server_config);
    publisher.connect(true);
    for payload in ["1", "2"] {
        let mut m = message("sensors/17", payload);
        m.properties.topic_alias = NonZeroU16::new(3);
        publisher.client.publish(QoS::AtLeastOnce, m).unwrap();
    }
    publisher.run();
    let sent = publishes(&publisher, Dir::ToServer);
    assert_eq!(sent[1].topic, "", "the second crossed through the alias");
    let messages = delivered(&publisher.server_events);
    assert_eq!(messages.len(), 2);
    for m in &messages {
        assert_eq!(m.topic, "sensors/17");
        assert_eq!(m.properties.topic_alias, None, "{m:?}");
    }

    let mut subscriber = Pair::new(V5);
    subscriber.connect(true);
    assert_eq!(
        connected(&subscriber.server_events).peer_topic_alias_maximum,
        0
    );
    for m in messages {
        subscriber.server.publish(QoS::AtLeastOnce, m).unwrap();
    }
    subscriber.run();
    let forwarded = publishes(&subscriber, Dir::ToClient);
    assert_eq!(forwarded.len(), 2);
    assert!(forwarded
        .iter()
        .all(|p| p.topic == "sensors/17" && p.properties.topic_alias.is_none()));
    assert_eq!(subscriber.client_messages(), ["1", "2"]);
}

/// A server publishing a 5.0 message with properties on a 3.1.1 connection sends it
/// without them (3.1.1 has none), live and when a stored session resumes at 3.1.1; a
/// client's own properties at 3.1.1 are still refused, never dropped.
#[test]
fn a_server_forwards_a_5_0_message_to_a_3_1_1_client_without_its_properties() {
    let mut pair = Pair::new(V3);
    pair.connect(false);
    pair.server
        .publish(QoS::AtLeastOnce, rich("news", "live"))
        .unwrap();
    pair.run();
    let sent = publishes(&pair, Dir::ToClient);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].properties.is_empty());
    assert_eq!(pair.client_messages(), ["live"]);

    // Queued while the client is away, sent when it comes back at 3.1.1.
    pair.drop_link();
    let stored = pair.stored.as_mut().unwrap();
    stored
        .queue(QoS::ExactlyOnce, rich("news", "queued"))
        .unwrap();
    pair.connect(false);
    assert_eq!(pair.client_messages(), ["live", "queued"]);
    let dropped = pair
        .server_events
        .iter()
        .any(|e| matches!(e, Event::PublishDropped { .. }));
    assert!(!dropped, "{:?}", pair.server_events);

    let err = pair
        .client
        .publish(QoS::AtLeastOnce, rich("news", "mine"))
        .unwrap_err();
    assert!(
        matches!(
            err,
            SessionError::Encode(EncodeError::UnsupportedInVersion { .. })
        ),
        "{err:?}"
    );
}

/// 3.1.1 MQTT-3.1.2-4: a Clean Session 0 session is kept after the connection with no set
/// end, which `Connected` reports as `u32::MAX` on both sides (Clean Session 1: 0), as 5.0
/// spells a session that never expires (5.0 MQTT-3.1.2-23).
#[test]
fn connected_reports_a_3_1_1_persistent_session_as_never_expiring_mqtt_3_1_2_4() {
    for (clean_session, expiry) in [(false, u32::MAX), (true, 0)] {
        let mut pair = Pair::new(V3);
        pair.connect(clean_session);
        for events in [&pair.client_events, &pair.server_events] {
            let c = connected(events);
            assert_eq!(c.session_expiry_interval, expiry, "clean {clean_session}");
        }
        assert_eq!(pair.server.session_expiry_interval(), expiry);
        assert_eq!(pair.client.session_expiry_interval(), expiry);
    }
}

/// 5.0 MQTT-3.1.2-23: the CONNECT's Session Expiry Interval, replaced by the CONNACK's when
/// the server sets one (section 3.2.2.3.2), and changed by the client's DISCONNECT (section
/// 3.14.2.2.2), which `session_expiry_interval` follows once the connection is over.
#[test]
fn the_session_expiry_in_force_follows_connack_and_disconnect_mqtt_3_1_2_23() {
    let now = Instant::ZERO;
    let mut server = Server::new(SessionConfig::default());
    let mut connect = Connect::new(V5, MqttString::new("c").unwrap());
    connect.properties.session_expiry_interval = Some(60);
    server.handle_incoming(now, Packet::from(connect)).unwrap();
    let _ = server.poll_event();
    let mut properties = ConnAckProperties::default();
    properties.session_expiry_interval = Some(30);
    server.accept(None, properties).unwrap();
    let events: Vec<_> = std::iter::from_fn(|| server.poll_event()).collect();
    assert_eq!(connected(&events).session_expiry_interval, 30);
    assert_eq!(server.session_expiry_interval(), 30);
    let mut bye = Disconnect::new(DisconnectReasonCode::NormalDisconnection);
    bye.properties.session_expiry_interval = Some(0);
    server
        .handle_incoming(now, Packet::Disconnect(bye))
        .unwrap();
    assert_eq!(server.session_expiry_interval(), 0);
}

/// 3.1.1 MQTT-3.1.2-5 (5.0 section 4.1): messages queued into the state of a client that
/// is away go out when it resumes, after what the session already held: the PUBREL of the
/// QoS 2 message past PUBREC first, then the unacknowledged PUBLISH again with DUP, then
/// the queued ones in the order they were queued, without DUP, each with its own packet
/// identifier. (The last PUBREL is the new exchange of `d` going on.)
#[test]
fn queued_messages_go_out_after_what_the_session_held_mqtt_3_1_2_5() {
    for version in [V3, V5] {
        let mut pair = Pair::new(version);
        pair.connect(false);
        let a = pair.server.publish(QoS::ExactlyOnce, message("t", "a"));
        let b = pair.server.publish(QoS::AtLeastOnce, message("t", "b"));
        let (a, b) = (a.unwrap().unwrap(), b.unwrap().unwrap());
        pair.deliver_to_client(); // a: the client answers PUBREC
        pair.deliver_to_client(); // b: its PUBACK is lost with the link
        pair.deliver_to_server(); // PUBREC a: the server answers PUBREL, lost too
        pair.drop_link();

        let stored = pair.stored.as_mut().unwrap();
        let mut with_alias = message("t", "c");
        with_alias.properties.topic_alias = NonZeroU16::new(1);
        with_alias.dup = true;
        let c = stored.queue(QoS::AtLeastOnce, with_alias).unwrap();
        let d = stored.queue(QoS::ExactlyOnce, message("t", "d")).unwrap();
        let ids: Vec<_> = stored.unacknowledged_ids().collect();
        assert_eq!(ids, [a, b, c, d], "{version}");
        let before = pair.log.len();
        pair.connect(false);

        let resent: Vec<_> = pair.log[before..]
            .iter()
            .filter(|x| x.dir == Dir::ToClient)
            .filter_map(|x| match &x.packet {
                Packet::PubRel(r) => Some(("PUBREL", r.packet_id, false, Bytes::new())),
                Packet::Publish(p) => {
                    assert_eq!(p.properties.topic_alias, None, "{version}");
                    let id = p.qos.packet_id().unwrap();
                    Some(("PUBLISH", id, p.dup, p.payload.clone()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            resent,
            [
                ("PUBREL", a, false, Bytes::new()),
                ("PUBLISH", b, true, Bytes::from("b")),
                ("PUBLISH", c, false, Bytes::from("c")),
                ("PUBLISH", d, false, Bytes::from("d")),
                ("PUBREL", d, false, Bytes::new()),
            ],
            "{version}"
        );
        assert!(
            pair.server.session().is_empty(),
            "{version}: all acknowledged"
        );
        let qos = publishes(&pair, Dir::ToClient).iter().map(|p| p.qos).last();
        assert_eq!(qos, Some(QosPid::ExactlyOnce(d)), "{version}");
    }
}

/// A state holds QoS 1 and 2 messages only (MQTT 5.0 section 4.1), and a queued message
/// needs its topic (MQTT-4.7.3-1, in 3.1.1 and 5.0): both are refused, queueing nothing.
#[test]
fn queueing_refuses_qos_0_and_an_empty_topic() {
    let mut state = mqttwire::session::SessionState::default();
    let err = state.queue(QoS::AtMostOnce, message("t", "x")).unwrap_err();
    assert!(matches!(
        err,
        SessionError::Forbidden {
            rule: "section 4.1",
            ..
        }
    ));
    let mut aliased = message("t", "x");
    aliased.topic = Default::default();
    aliased.properties.topic_alias = NonZeroU16::new(2);
    let err = state.queue(QoS::AtLeastOnce, aliased).unwrap_err();
    assert!(matches!(
        err,
        SessionError::Forbidden {
            rule: "MQTT-4.7.3-1",
            ..
        }
    ));
    assert!(state.is_empty());
}

/// 3.1.1 has no reason codes in UNSUBACK (3.1.1 section 3.11): the codes a broker computes
/// for 5.0 are left out at 3.1.1, so the same call answers both; the UNSUBACK is
/// `b0 02 00 05` (3.1.1 MQTT-3.10.4-4, the packet identifier of the UNSUBSCRIBE).
#[test]
fn unsuback_leaves_the_reason_codes_out_below_5_0_mqtt_3_10_4_4() {
    for version in [V3, V5] {
        let now = Instant::ZERO;
        let mut server = Server::new(SessionConfig::default());
        let connect = Connect::new(version, MqttString::new("c").unwrap());
        server.handle_incoming(now, Packet::from(connect)).unwrap();
        let _ = server.poll_event();
        server.accept(None, ConnAckProperties::default()).unwrap();
        let id = mqttwire::PacketId::new(5).unwrap();
        let filters = vec![
            TopicFilter::new("a").unwrap(),
            TopicFilter::new("b").unwrap(),
        ];
        let request = Packet::Unsubscribe(Unsubscribe::new(id, filters));
        server.handle_incoming(now, request).unwrap();
        let codes = vec![UnsubAckReasonCode::Success; 2];
        server
            .unsuback(id, codes, AckProperties::default())
            .unwrap();
        let mut buf = bytes::BytesMut::new();
        let mut sent = Vec::new();
        while let Some(n) = server.poll_transmit_into(now, &mut buf).unwrap() {
            sent.push(buf.split_to(n).to_vec());
        }
        let expected: &[u8] = if version.is_v5() {
            &[0xB0, 0x05, 0x00, 0x05, 0x00, 0x00, 0x00]
        } else {
            &[0xB0, 0x02, 0x00, 0x05]
        };
        assert_eq!(sent.last().map(Vec::as_slice), Some(expected), "{version}");
    }
}
