//! Interoperability with paho-mqtt (Python, 2.x): paho clients against a broker built from
//! mqttwire's `Server` session over `std::net` (see `paho_util`), at MQTT 3.1.1 and 5.0.
//!
//! Each test checks both sides: what the broker's sessions reported and put on the wire,
//! and what paho printed (`tests/paho/client.py`, one JSON line per event). Spec tags are
//! those of the connection's version: 3.1.1 and 5.0 number their statements differently
//! (CONFORMANCE.md section 15.2), so a test run at both versions picks its tag with
//! [`tag`].
//!
//! Peers: Python comes from `MQTTWIRE_PYTHON` (default `python3`) and needs paho-mqtt 2.x.
//! Without it the tests are skipped with a message, or fail if `MQTTWIRE_REQUIRE_PEERS=1`.

mod paho_util;

use core::num::{NonZeroU16, NonZeroU32};
use core::time::Duration;
use mqttwire::session::{DisconnectCause, Event, SessionConfig};
use mqttwire::{
    DisconnectReasonCode, Packet, PacketId, PacketType, ProtocolVersion, PubRelReasonCode, Publish,
    QoS, SubAckReasonCode, UnsubAckReasonCode,
};
use paho_util::{paho_available, Cut, PahoClient, PahoMessage, PahoOutput, TestBroker};

const V3: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;

/// The tag of a statement in `version`'s numbering.
fn tag(version: ProtocolVersion, v3: &'static str, v5: &'static str) -> &'static str {
    if version.is_v5() {
        v5
    } else {
        v3
    }
}

/// Two tests running `scenario` at 3.1.1 and at 5.0, if paho is there (see
/// [`paho_available`]).
macro_rules! at_both_versions {
    ($scenario:ident: $v3:ident, $v5:ident) => {
        #[test]
        fn $v3() {
            if paho_available(stringify!($v3)) {
                $scenario(V3);
            }
        }

        #[test]
        fn $v5() {
            if paho_available(stringify!($v5)) {
                $scenario(V5);
            }
        }
    };
}

/// A client identifier for `name`, unique per version so that tests run in parallel.
fn client_id(name: &str, version: ProtocolVersion) -> String {
    format!("{name}-v{}", version.level())
}

/// paho's messages as (topic, payload, QoS), sorted: delivery order is only promised per
/// topic and QoS, and paho hands a QoS 2 message over at PUBREL, later than QoS 0 and 1.
fn sorted(messages: &[PahoMessage]) -> Vec<(&str, &str, u8)> {
    let mut all: Vec<_> = messages
        .iter()
        .map(|m| (m.topic.as_str(), m.payload.as_str(), m.qos))
        .collect();
    all.sort();
    all
}

/// How many of paho's messages carry `payload`.
fn copies(out: &PahoOutput, payload: &str) -> usize {
    out.messages()
        .iter()
        .filter(|m| m.payload == payload)
        .count()
}

fn publishes(packets: &[Packet]) -> Vec<&Publish> {
    let publishes = packets.iter().filter_map(|p| match p {
        Packet::Publish(p) => Some(p),
        _ => None,
    });
    publishes.collect()
}

/// A client's sent packets split per connection (each starts with its CONNACK).
fn per_connection(sent: &[Packet]) -> Vec<&[Packet]> {
    let starts: Vec<usize> = (0..sent.len())
        .filter(|&i| matches!(sent[i], Packet::ConnAck(_)))
        .collect();
    let ends = starts.iter().skip(1).copied().chain([sent.len()]);
    starts.iter().zip(ends).map(|(&s, e)| &sent[s..e]).collect()
}

fn payload(p: &Publish) -> &str {
    core::str::from_utf8(&p.payload).unwrap()
}

fn id_of(p: &Publish) -> PacketId {
    p.qos.packet_id().expect("a QoS 1 or 2 PUBLISH")
}

/// The message id (the packet identifier) paho gave its publish of `payload`.
fn mid(out: &PahoOutput, payload: &str) -> u64 {
    let sent = out.all("publish").into_iter();
    let mut sent = sent.filter(|p| p.get("payload").as_str() == Some(payload));
    sent.next().expect("paho published it").get("mid").as_u64()
}

// ---------------------------------------------------------------------------------------
// Connecting
// ---------------------------------------------------------------------------------------

/// 3.1.1: CONNECT and CONNACK, and Session Present for both Clean Session values.
#[test]
fn connect_v3_1_1() {
    if !paho_available("connect_v3_1_1") {
        return;
    }
    let broker = TestBroker::start(SessionConfig::default());
    let id = client_id("connect", V3);
    let out = PahoClient::new(&id, V3).run(&broker, &[]);
    broker.wait_offline(&id);

    // [MQTT-3.1.4-4] CONNACK 0; [MQTT-3.2.2-1] Clean Session 1 ⇒ Session Present 0.
    assert_eq!(out.connacks(), [(false, 0)]);
    let events = broker.events(&id);
    let Some(Event::ConnectRequest(connect)) = events.first() else {
        panic!("{events:?}")
    };
    assert_eq!(
        (
            connect.protocol_version,
            connect.clean_start,
            connect.keep_alive
        ),
        (V3, true, 60)
    );
    assert!(matches!(&events[1], Event::Connected(c) if !c.session_present));
    assert!(
        matches!(
            events.last(),
            Some(Event::Disconnected(DisconnectCause::Peer(_)))
        ),
        "paho's DISCONNECT ends the connection: {events:?}"
    );
    // [MQTT-3.2.0-1] the first packet the server sends is CONNACK; a 3.1.1 server sends
    // no DISCONNECT.
    let sent = broker.sent(&id);
    assert!(
        matches!(&sent[..], [Packet::ConnAck(a)] if !a.session_present),
        "{sent:?}"
    );
    let received: Vec<_> = broker
        .received(&id)
        .iter()
        .map(Packet::packet_type)
        .collect();
    assert_eq!(received, [PacketType::Connect, PacketType::Disconnect]);

    // Clean Session 0: no stored session the first time ([MQTT-3.2.2-3]), resumed the
    // second ([MQTT-3.2.2-2], [MQTT-3.1.2-4]).
    let id = client_id("connect-persistent", V3);
    let client = PahoClient::new(&id, V3).persistent();
    assert_eq!(client.run(&broker, &[]).connacks(), [(false, 0)]);
    broker.wait_offline(&id);
    assert!(broker.has_session(&id));
    assert_eq!(client.run(&broker, &[]).connacks(), [(true, 0)]);
    broker.check();
}

/// 5.0: CONNACK properties as paho reads them, an assigned client identifier, and Session
/// Present with Clean Start and the Session Expiry Interval.
#[test]
fn connect_v5() {
    if !paho_available("connect_v5") {
        return;
    }
    let mut config = SessionConfig::default();
    config.receive_maximum = NonZeroU16::new(20).unwrap();
    config.topic_alias_maximum = 5;
    config.maximum_packet_size = NonZeroU32::new(65_536).unwrap();
    config.server_keep_alive = Some(30);
    let broker = TestBroker::start(config);
    let id = client_id("connect", V5);
    let out = PahoClient::new(&id, V5).run(&broker, &[]);
    broker.wait_offline(&id);

    // [MQTT-3.1.4-5] reason code 0; [MQTT-3.2.2-2] Clean Start 1 ⇒ Session Present 0.
    assert_eq!(out.connacks(), [(false, 0)]);
    // The server's limits, announced in CONNACK (§3.2.2.3), as paho decoded them.
    let props = out.all("connected")[0].get("properties");
    assert_eq!(props.get("ReceiveMaximum").as_u64(), 20);
    assert_eq!(props.get("TopicAliasMaximum").as_u64(), 5);
    assert_eq!(props.get("MaximumPacketSize").as_u64(), 65_536);
    assert_eq!(props.get("ServerKeepAlive").as_u64(), 30);
    // The Server Keep Alive replaces paho's 60 s on the server side too (§3.2.2.3.14).
    let events = broker.events(&id);
    let connected = events.iter().find_map(|e| match e {
        Event::Connected(c) => Some(c),
        _ => None,
    });
    let connected = connected.expect("Connected");
    assert_eq!(connected.keep_alive, Duration::from_secs(30));
    assert_eq!(connected.protocol_version, V5);
    // paho announces nothing: the defaults (§3.1.2.11).
    assert_eq!(connected.send_quota, u16::MAX);
    assert_eq!(connected.peer_topic_alias_maximum, 0);
    assert!(matches!(
        events.last(),
        Some(Event::Disconnected(DisconnectCause::Peer(d)))
            if d.reason_code == DisconnectReasonCode::NormalDisconnection
    ));

    // An empty client identifier gets an Assigned Client Identifier ([MQTT-3.2.2-16]).
    let out = PahoClient::new("", V5).run(&broker, &[]);
    let props = out.all("connected")[0].get("properties");
    let assigned = props
        .get("AssignedClientIdentifier")
        .as_str()
        .expect("assigned");
    assert!(assigned.starts_with("mqttwire-"), "{assigned}");
    let events = broker.events(assigned);
    assert!(events.iter().any(|e| matches!(e,
        Event::Connected(c) if c.assigned_client_id.as_deref() == Some(assigned))));

    // Clean Start 0 with a Session Expiry Interval: new session ([MQTT-3.1.2-6]), then
    // resumed ([MQTT-3.1.2-5]); Session Present follows ([MQTT-3.2.2-3]).
    let id = client_id("connect-persistent", V5);
    let client = PahoClient::new(&id, V5).persistent();
    assert_eq!(client.run(&broker, &[]).connacks(), [(false, 0)]);
    broker.wait_offline(&id);
    assert_eq!(client.run(&broker, &[]).connacks(), [(true, 0)]);
    // Clean Start 0 without one: the session ends with the connection ([MQTT-3.1.2-23]).
    let id = client_id("connect-no-expiry", V5);
    let mut client = PahoClient::new(&id, V5);
    client.clean_start = false;
    assert_eq!(client.run(&broker, &[]).connacks(), [(false, 0)]);
    broker.wait_offline(&id);
    assert!(!broker.has_session(&id));
    assert_eq!(client.run(&broker, &[]).connacks(), [(false, 0)]);
    broker.check();
}

/// A second connection with the same client identifier takes the session over: the first
/// gets DISCONNECT 0x8E in 5.0 ([MQTT-3.1.4-3]) and is just closed in 3.1.1
/// ([MQTT-3.1.4-2]).
fn take_over(v: ProtocolVersion) {
    let broker = TestBroker::start(SessionConfig::default());
    let id = client_id("take-over", v);
    let first = PahoClient::new(&id, v).spawn(&broker, &["lost"]);
    broker.wait_for_sent(&id, PacketType::ConnAck, 1);
    let second = PahoClient::new(&id, v).run(&broker, &[]);
    let first = first.finish();
    broker.wait_offline(&id);

    let rule = tag(v, "MQTT-3.1.4-2", "MQTT-3.1.4-3");
    assert_eq!(second.connacks(), [(false, 0)]);
    let lost = first.all("disconnected");
    assert_eq!(lost.len(), 1, "{:?}", first.events);
    assert_eq!(
        lost[0].get("from_server").as_bool(),
        Some(v.is_v5()),
        "[{rule}]"
    );
    if v.is_v5() {
        assert_eq!(lost[0].get("reason_code").as_u64(), 0x8E, "[{rule}]");
    }
    let sent = broker.sent(&id);
    let first_connection = per_connection(&sent)[0];
    let last = first_connection.last().unwrap();
    match v {
        V5 => assert!(
            matches!(last, Packet::Disconnect(d)
                if d.reason_code == DisconnectReasonCode::SessionTakenOver),
            "[{rule}] {last:?}"
        ),
        _ => assert!(matches!(last, Packet::ConnAck(_)), "[{rule}] {last:?}"),
    }
    let taken = Event::Disconnected(DisconnectCause::Local(
        DisconnectReasonCode::SessionTakenOver,
    ));
    assert!(broker.events(&id).contains(&taken));
    broker.check();
}

at_both_versions!(take_over: take_over_v3_1_1, take_over_v5);

// ---------------------------------------------------------------------------------------
// Subscribing
// ---------------------------------------------------------------------------------------

/// One SUBSCRIBE with three filters: one SUBACK, with the SUBSCRIBE's packet identifier
/// ([MQTT-3.8.4-2]) and the requested QoS granted per filter, in order ([MQTT-3.9.3-1];
/// 3.1.1 [MQTT-3.8.4-4], [MQTT-3.8.4-5]; 5.0 [MQTT-3.8.4-5], [MQTT-3.8.4-6]). A retained
/// message arrives with RETAIN 1 (3.1.1 [MQTT-3.3.1-6], [MQTT-3.3.1-8]; 5.0
/// [MQTT-3.3.1-9]), and a message arrives at the lower of its QoS and the granted one
/// (3.1.1 [MQTT-3.8.4-6]; 5.0 [MQTT-3.8.4-8]).
fn subscribe(v: ProtocolVersion) {
    let broker = TestBroker::start(SessionConfig::default());
    broker.publish("c", "kept", QoS::ExactlyOnce, true);
    let id = client_id("subscribe", v);
    let steps = ["sub a/+ 0 b/# 1 c 2", "expect 3", "wait 0.2", "count 3"];
    let run = PahoClient::new(&id, v).spawn(&broker, &steps);
    broker.wait_for_sent(&id, PacketType::SubAck, 1);
    broker.publish("a/x", "to-a", QoS::ExactlyOnce, false);
    broker.publish("b/y/z", "to-b", QoS::ExactlyOnce, false);
    broker.publish("elsewhere", "to-nobody", QoS::AtLeastOnce, false);
    let out = run.finish();
    broker.wait_offline(&id);

    // paho's view.
    let subscribed = out.all("subscribed");
    assert_eq!(subscribed.len(), 1);
    let codes: Vec<u64> = subscribed[0]
        .get("codes")
        .as_array()
        .iter()
        .map(|c| c.as_u64())
        .collect();
    assert_eq!(codes, [0, 1, 2]);
    assert_eq!(
        sorted(&out.messages()),
        [("a/x", "to-a", 0), ("b/y/z", "to-b", 1), ("c", "kept", 2)]
    );
    let retained: Vec<_> = out.messages().into_iter().filter(|m| m.retain).collect();
    assert_eq!(retained.len(), 1, "only the retained message has RETAIN 1");
    assert_eq!(retained[0].payload, "kept");

    // The broker's view.
    let subscribe = broker.events(&id).into_iter().find_map(|e| match e {
        Event::Subscribe(s) => Some(s),
        _ => None,
    });
    let subscribe = subscribe.expect("Event::Subscribe");
    let asked: Vec<_> = subscribe
        .subscriptions
        .as_view()
        .iter()
        .map(|s| (s.filter.as_str(), s.options.qos))
        .collect();
    use QoS::*;
    assert_eq!(
        asked,
        [
            ("a/+", AtMostOnce),
            ("b/#", AtLeastOnce),
            ("c", ExactlyOnce)
        ]
    );
    assert_eq!(
        u64::from(subscribe.packet_id.get()),
        subscribed[0].get("mid").as_u64()
    );
    let subacks: Vec<_> = broker
        .sent(&id)
        .into_iter()
        .filter_map(|p| match p {
            Packet::SubAck(a) => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(subacks.len(), 1);
    assert_eq!(subacks[0].packet_id, subscribe.packet_id);
    use SubAckReasonCode::*;
    assert_eq!(
        subacks[0].reason_codes,
        [GrantedQoS0, GrantedQoS1, GrantedQoS2]
    );
    broker.check();
}

at_both_versions!(subscribe: subscribe_v3_1_1, subscribe_v5);

/// UNSUBSCRIBE with a subscribed filter and an unknown one: one UNSUBACK with the same
/// packet identifier ([MQTT-3.10.4-4], [MQTT-3.10.4-5], [MQTT-3.10.4-6]; 5.0: one reason
/// code per filter, in order, [MQTT-3.11.3-1]); no more messages for the removed filter
/// ([MQTT-3.10.4-1], [MQTT-3.10.4-2]).
fn unsubscribe(v: ProtocolVersion) {
    let broker = TestBroker::start(SessionConfig::default());
    let id = client_id("unsubscribe", v);
    let steps = [
        "sub a 1 b 1",
        "unsub a nothing/here",
        "expect 1",
        "wait 0.3",
        "count 1",
    ];
    let run = PahoClient::new(&id, v).spawn(&broker, &steps);
    broker.wait_for_sent(&id, PacketType::UnsubAck, 1);
    broker.publish("a", "to-a", QoS::AtLeastOnce, false);
    broker.publish("b", "to-b", QoS::AtLeastOnce, false);
    let out = run.finish();
    broker.wait_offline(&id);

    assert_eq!(sorted(&out.messages()), [("b", "to-b", 1)]);
    let unsubscribed = out.all("unsubscribed");
    assert_eq!(unsubscribed.len(), 1);
    let codes: Vec<u64> = unsubscribed[0]
        .get("codes")
        .as_array()
        .iter()
        .map(|c| c.as_u64())
        .collect();
    if v.is_v5() {
        assert_eq!(codes, [0x00, 0x11], "[MQTT-3.11.3-1]");
    } else {
        assert_eq!(codes, [0u64; 0], "a 3.1.1 UNSUBACK has no payload");
    }

    let unsubscribe = broker.events(&id).into_iter().find_map(|e| match e {
        Event::Unsubscribe(u) => Some(u),
        _ => None,
    });
    let unsubscribe = unsubscribe.expect("Event::Unsubscribe");
    let filters: Vec<_> = unsubscribe
        .filters
        .as_view()
        .iter()
        .map(|f| f.as_str())
        .collect();
    assert_eq!(filters, ["a", "nothing/here"]);
    let sent = broker.sent(&id);
    let unsubacks: Vec<_> = sent
        .iter()
        .filter_map(|p| match p {
            Packet::UnsubAck(a) => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(unsubacks.len(), 1);
    assert_eq!(unsubacks[0].packet_id, unsubscribe.packet_id);
    let expected = match v {
        V5 => vec![
            UnsubAckReasonCode::Success,
            UnsubAckReasonCode::NoSubscriptionExisted,
        ],
        _ => vec![],
    };
    assert_eq!(unsubacks[0].reason_codes, expected);
    let delivered: Vec<_> = publishes(&sent).into_iter().map(payload).collect();
    assert_eq!(delivered, ["to-b"]);
    broker.check();
}

at_both_versions!(unsubscribe: unsubscribe_v3_1_1, unsubscribe_v5);

// ---------------------------------------------------------------------------------------
// Publishing
// ---------------------------------------------------------------------------------------

/// paho publishes at QoS 0, 1 and 2 to the broker, which forwards to another paho client
/// subscribed at QoS 2. The broker's session answers per QoS ([MQTT-3.3.4-1]): PUBACK
/// (3.1.1 [MQTT-4.3.2-2]; 5.0 [MQTT-4.3.2-4]), PUBREC then PUBCOMP with the PUBLISH's
/// packet identifier (3.1.1 [MQTT-4.3.3-2], [MQTT-2.3.1-6]; 5.0 [MQTT-4.3.3-8],
/// [MQTT-4.3.3-11], [MQTT-2.2.1-5]), and delivers each message once; the subscriber gets
/// each once at its QoS with DUP 0 ([MQTT-3.3.1-3]).
fn publish_from_paho(v: ProtocolVersion) {
    let broker = TestBroker::start(SessionConfig::default());
    let (sub_id, pub_id) = (client_id("from-paho-sub", v), client_id("from-paho-pub", v));
    let steps = ["sub t 2", "expect 3", "wait 0.3", "count 3"];
    let subscriber = PahoClient::new(&sub_id, v).spawn(&broker, &steps);
    broker.wait_for_sent(&sub_id, PacketType::SubAck, 1);
    let steps = ["pub t zero 0", "pub t one 1", "pub t two 2"];
    let publisher = PahoClient::new(&pub_id, v).run(&broker, &steps);
    let subscriber = subscriber.finish();
    broker.wait_offline(&pub_id);
    broker.wait_offline(&sub_id);

    // The publisher: QoS 1 and 2 acknowledged with Success.
    let (one, two) = (mid(&publisher, "one"), mid(&publisher, "two"));
    let acks = publisher.acks();
    assert!(
        acks.contains(&(one, 0)) && acks.contains(&(two, 0)),
        "{acks:?}"
    );

    // The broker: each message delivered once, at its QoS, with paho's packet identifiers.
    let messages = broker.messages(&pub_id);
    let got: Vec<_> = messages.iter().map(|m| (payload(m), m.qos.qos())).collect();
    use QoS::*;
    assert_eq!(
        got,
        [
            ("zero", AtMostOnce),
            ("one", AtLeastOnce),
            ("two", ExactlyOnce)
        ]
    );
    let (id1, id2) = (id_of(&messages[1]), id_of(&messages[2]));
    assert_eq!((u64::from(id1.get()), u64::from(id2.get())), (one, two));
    let flow: Vec<_> = broker
        .sent(&pub_id)
        .into_iter()
        .chain(broker.received(&pub_id))
        .filter_map(|p| match p {
            Packet::PubAck(a) => Some((PacketType::PubAck, a.packet_id)),
            Packet::PubRec(a) => Some((PacketType::PubRec, a.packet_id)),
            Packet::PubRel(a) => Some((PacketType::PubRel, a.packet_id)),
            Packet::PubComp(a) => Some((PacketType::PubComp, a.packet_id)),
            _ => None,
        })
        .collect();
    use PacketType::*;
    // Sent first, then received.
    assert_eq!(
        flow,
        [(PubAck, id1), (PubRec, id2), (PubComp, id2), (PubRel, id2)]
    );

    // The subscriber: each once, QoS 2 included.
    assert_eq!(
        sorted(&subscriber.messages()),
        [("t", "one", 1), ("t", "two", 2), ("t", "zero", 0)]
    );
    assert!(subscriber.messages().iter().all(|m| !m.dup && !m.retain));
    broker.check();
}

at_both_versions!(publish_from_paho: publish_from_paho_v3_1_1, publish_from_paho_v5);

/// The broker publishes at QoS 0, 1 and 2 into paho's connection. The session sends QoS 1
/// and 2 with fresh packet identifiers and DUP 0 and keeps them until PUBACK, or PUBREC
/// then PUBCOMP (3.1.1 [MQTT-4.3.2-1], [MQTT-4.3.3-1]; 5.0 [MQTT-4.3.2-1] to
/// [MQTT-4.3.2-3], [MQTT-4.3.3-1] to [MQTT-4.3.3-5]); paho gets each once.
fn publish_to_paho(v: ProtocolVersion) {
    let broker = TestBroker::start(SessionConfig::default());
    let id = client_id("to-paho", v);
    let steps = ["sub t 2", "expect 3", "wait 0.3", "count 3"];
    let run = PahoClient::new(&id, v).spawn(&broker, &steps);
    broker.wait_for_sent(&id, PacketType::SubAck, 1);
    broker.publish("t", "zero", QoS::AtMostOnce, false);
    broker.publish("t", "one", QoS::AtLeastOnce, false);
    broker.publish("t", "two", QoS::ExactlyOnce, false);
    let out = run.finish();
    broker.wait_offline(&id);

    assert_eq!(
        sorted(&out.messages()),
        [("t", "one", 1), ("t", "two", 2), ("t", "zero", 0)]
    );
    assert!(out.messages().iter().all(|m| !m.dup && !m.retain));

    let sent = broker.sent(&id);
    let sent_publishes = publishes(&sent);
    let got: Vec<_> = sent_publishes
        .iter()
        .map(|m| (payload(m), m.qos.qos(), m.dup))
        .collect();
    use QoS::*;
    assert_eq!(
        got,
        [
            ("zero", AtMostOnce, false),
            ("one", AtLeastOnce, false),
            ("two", ExactlyOnce, false)
        ]
    );
    let (id1, id2) = (id_of(sent_publishes[1]), id_of(sent_publishes[2]));
    assert_ne!(id1, id2);
    let events = broker.events(&id);
    assert!(events.iter().any(|e| matches!(e,
        Event::PublishAcknowledged { packet_id, .. } if *packet_id == id1)));
    assert!(events.contains(&Event::PublishCompleted { packet_id: id2 }));
    let received: Vec<_> = broker
        .received(&id)
        .into_iter()
        .filter_map(|p| match p {
            Packet::PubAck(a) => Some((PacketType::PubAck, a.packet_id)),
            Packet::PubRec(a) => Some((PacketType::PubRec, a.packet_id)),
            Packet::PubComp(a) => Some((PacketType::PubComp, a.packet_id)),
            _ => None,
        })
        .collect();
    use PacketType::*;
    assert_eq!(received, [(PubAck, id1), (PubRec, id2), (PubComp, id2)]);
    assert!(sent
        .iter()
        .any(|p| matches!(p, Packet::PubRel(r) if r.packet_id == id2)));
    broker.check();
}

at_both_versions!(publish_to_paho: publish_to_paho_v3_1_1, publish_to_paho_v5);

/// 5.0 flow control: paho announces Receive Maximum 2 and holds its acknowledgements; the
/// broker's session never has more than 2 QoS 1 messages unacknowledged towards it
/// ([MQTT-3.3.4-9], [MQTT-4.9.0-2]), queues the rest, and sends them in order as
/// PUBACKs come back ([MQTT-4.6.0-6]).
#[test]
fn receive_maximum_v5() {
    if !paho_available("receive_maximum_v5") {
        return;
    }
    let broker = TestBroker::start(SessionConfig::default());
    let id = client_id("receive-maximum", V5);
    let mut client = PahoClient::new(&id, V5).manual_ack();
    client.receive_maximum = Some(2);
    let steps = [
        "sub t 1", "expect 2", "wait 0.2", "count 2", "ack", "expect 4", "wait 0.2", "count 4",
        "ack", "expect 6", "ack",
    ];
    let run = client.spawn(&broker, &steps);
    broker.wait_for_sent(&id, PacketType::SubAck, 1);
    let all = ["m0", "m1", "m2", "m3", "m4", "m5"];
    for m in all {
        broker.publish("t", m, QoS::AtLeastOnce, false);
    }
    let out = run.finish();
    broker.wait_offline(&id);

    let received: Vec<_> = out.messages().into_iter().map(|m| m.payload).collect();
    assert_eq!(received, all);
    let connected = broker.events(&id).into_iter().find_map(|e| match e {
        Event::Connected(c) => Some(c),
        _ => None,
    });
    assert_eq!(connected.expect("Connected").send_quota, 2);
    // Walk the wire: PUBLISH out adds one, PUBACK in removes one.
    let (mut in_flight, mut most) = (0i32, 0);
    for record in broker.records().iter().filter(|r| r.client_id == id) {
        match &record.seen {
            paho_util::Seen::Sent(Packet::Publish(_)) => in_flight += 1,
            paho_util::Seen::Received(Packet::PubAck(_)) => in_flight -= 1,
            _ => {}
        }
        most = most.max(in_flight);
    }
    assert_eq!((most, in_flight), (2, 0), "[MQTT-3.3.4-9]");
    let acked = broker.events(&id).into_iter();
    let acked = acked.filter(|e| matches!(e, Event::PublishAcknowledged { .. }));
    assert_eq!(acked.count(), 6);
    broker.check();
}

/// 5.0 Topic Aliases from paho: the broker announces Topic Alias Maximum 3; paho maps
/// alias 1 to "a/b", reuses it with an empty topic, remaps it to "a/c". The broker's
/// session accepts any alias up to its maximum ([MQTT-3.3.2-12]) and resolves each
/// (§3.3.2.3.4); the subscriber gets full topics. Alias 4 is a protocol error: DISCONNECT
/// 0x94 ([MQTT-3.3.2-9]).
#[test]
fn topic_alias_from_paho_v5() {
    if !paho_available("topic_alias_from_paho_v5") {
        return;
    }
    let mut config = SessionConfig::default();
    config.topic_alias_maximum = 3;
    let broker = TestBroker::start(config);
    let (sub_id, pub_id) = (client_id("alias-sub", V5), client_id("alias-pub", V5));
    let steps = ["sub a/# 2", "expect 4", "wait 0.2", "count 4"];
    let subscriber = PahoClient::new(&sub_id, V5).spawn(&broker, &steps);
    broker.wait_for_sent(&sub_id, PacketType::SubAck, 1);
    let steps = [
        "pub a/b one 1 alias=1",
        "pub - two 2 alias=1",
        "pub a/c three 1 alias=1",
        "pub - four 1 alias=1",
        "fire - five 0 alias=4",
        "lost",
    ];
    let publisher = PahoClient::new(&pub_id, V5).run(&broker, &steps);
    let subscriber = subscriber.finish();
    broker.wait_offline(&pub_id);
    broker.wait_offline(&sub_id);

    let props = publisher.all("connected")[0].get("properties");
    assert_eq!(props.get("TopicAliasMaximum").as_u64(), 3);
    // On the wire: paho's topics as sent; delivered: resolved (not "five", refused).
    let received = broker.received(&pub_id);
    let on_wire: Vec<_> = publishes(&received)
        .into_iter()
        .map(|p| (p.topic.as_str(), p.properties.topic_alias.map(|a| a.get())))
        .collect();
    let expected = [("a/b", 1), ("", 1), ("a/c", 1), ("", 1), ("", 4)];
    let expected: Vec<_> = expected.iter().map(|&(t, a)| (t, Some(a))).collect();
    assert_eq!(on_wire, expected);
    let delivered: Vec<_> = broker
        .messages(&pub_id)
        .iter()
        .map(|m| (m.topic.as_str().to_owned(), payload(m).to_owned()))
        .collect();
    let expected = [
        ("a/b", "one"),
        ("a/b", "two"),
        ("a/c", "three"),
        ("a/c", "four"),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|&(t, p)| (t.to_owned(), p.to_owned()))
        .collect();
    assert_eq!(delivered, expected);
    assert_eq!(
        sorted(&subscriber.messages()),
        [
            ("a/b", "one", 1),
            ("a/b", "two", 2),
            ("a/c", "four", 1),
            ("a/c", "three", 1)
        ]
    );

    // Alias 4: DISCONNECT 0x94, which paho reports as coming from the server.
    let last = broker.sent(&pub_id).pop();
    assert!(
        matches!(&last, Some(Packet::Disconnect(d))
            if d.reason_code == DisconnectReasonCode::TopicAliasInvalid),
        "[MQTT-3.3.2-9] {last:?}"
    );
    let lost = publisher.all("disconnected");
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].get("reason_code").as_u64(), 0x94);
    assert_eq!(lost[0].get("from_server").as_bool(), Some(true));
    broker.check();
}

// ---------------------------------------------------------------------------------------
// Resuming a session
// ---------------------------------------------------------------------------------------

/// A persistent paho publisher whose link fails while its QoS 1 and QoS 2 messages are in
/// flight: the broker cuts the connection instead of sending PUBACK, then PUBREC, then
/// PUBCOMP. Each time paho reconnects with Clean Start 0, the session is present (3.1.1
/// [MQTT-3.2.2-2]; 5.0 [MQTT-3.2.2-3]), paho resends with DUP 1 ([MQTT-3.3.1-1]) and the
/// flow completes (3.1.1 [MQTT-4.4.0-1]; 5.0 [MQTT-4.4.0-1]). The QoS 1 message is
/// delivered again (a resent QoS 1 PUBLISH is a new message: 3.1.1 [MQTT-4.3.2-2]; 5.0
/// [MQTT-4.3.2-5]); the QoS 2 messages once (3.1.1 [MQTT-4.3.3-2]; 5.0 [MQTT-4.3.3-10]).
fn resume_paho_publisher(v: ProtocolVersion) {
    let broker = TestBroker::start(SessionConfig::default());
    let (sub_id, pub_id) = (client_id("resume-pub-sub", v), client_id("resume-pub", v));
    let steps = ["sub t 2", "expect 4", "wait 0.3", "count 4"];
    let subscriber = PahoClient::new(&sub_id, v).spawn(&broker, &steps);
    broker.wait_for_sent(&sub_id, PacketType::SubAck, 1);
    broker.cut_link(&pub_id, Cut::Sending(PacketType::PubAck));
    broker.cut_link(&pub_id, Cut::Sending(PacketType::PubRec));
    // The PUBCOMP of "two" passes; that of "three" is lost.
    broker.cut_link_after(&pub_id, Cut::Sending(PacketType::PubComp), 1);
    let steps = [
        "fire t one 1",
        "lost",
        "reconnect",
        "acks 1", // PUBACK lost
        "fire t two 2",
        "lost",
        "reconnect",
        "acks 2", // PUBREC lost
        "fire t three 2",
        "lost",
        "reconnect",
        "acks 3", // PUBCOMP lost
    ];
    let publisher = PahoClient::new(&pub_id, v)
        .persistent()
        .run(&broker, &steps);
    let subscriber = subscriber.finish();
    broker.wait_offline(&pub_id);
    broker.wait_offline(&sub_id);

    let present = tag(v, "MQTT-3.2.2-2", "MQTT-3.2.2-3");
    assert_eq!(
        publisher.connacks(),
        [(false, 0), (true, 0), (true, 0), (true, 0)],
        "[{present}]"
    );
    // What reached the broker: "one" twice (the second with DUP), the rest once.
    let delivered: Vec<_> = broker
        .messages(&pub_id)
        .iter()
        .map(|m| (payload(m).to_owned(), m.dup))
        .collect();
    let expected = [
        ("one", false),
        ("one", true),
        ("two", false),
        ("three", false),
    ];
    let expected: Vec<_> = expected.iter().map(|(p, d)| (p.to_string(), *d)).collect();
    assert_eq!(
        delivered,
        expected,
        "[{}]",
        tag(v, "MQTT-4.3.3-2", "MQTT-4.3.3-10")
    );
    // "two" came twice on the wire, the same packet identifier, DUP on the resend.
    let received = broker.received(&pub_id);
    let twos: Vec<_> = publishes(&received)
        .into_iter()
        .filter(|p| payload(p) == "two")
        .map(|p| (id_of(p), p.dup))
        .collect();
    assert_eq!(twos.len(), 2);
    assert_eq!(
        (twos[0].0, twos[0].1, twos[1].1),
        (twos[1].0, false, true),
        "[MQTT-3.3.1-1]"
    );
    // "three": its PUBCOMP was lost, paho resends its PUBREL; the broker had finished
    // that flow, so in 5.0 its new PUBCOMP says Packet Identifier not found (0x92,
    // [MQTT-4.3.3-11]); 3.1.1 has no reason codes (a plain PUBCOMP, [MQTT-4.3.3-2]).
    let three = mid(&publisher, "three");
    let comps: Vec<_> = broker
        .sent(&pub_id)
        .into_iter()
        .filter_map(|p| match p {
            Packet::PubComp(c) if u64::from(c.packet_id.get()) == three => Some(c.reason_code),
            _ => None,
        })
        .collect();
    let again = match v {
        V5 => PubRelReasonCode::PacketIdentifierNotFound,
        _ => PubRelReasonCode::Success,
    };
    assert_eq!(comps, [again]);
    let cuts = broker
        .records()
        .into_iter()
        .filter(|r| r.client_id == pub_id);
    let cuts: Vec<_> = cuts
        .filter_map(|r| match r.seen {
            paho_util::Seen::Cut(Cut::Sending(kind)) => Some(kind),
            _ => None,
        })
        .collect();
    use PacketType::*;
    assert_eq!(cuts, [PubAck, PubRec, PubComp]);
    let acks = publisher.acks();
    assert!(acks.contains(&(mid(&publisher, "one"), 0)), "{acks:?}");
    assert!(acks.contains(&(mid(&publisher, "two"), 0)), "{acks:?}");
    assert!(acks.contains(&(three, again as u8)), "{acks:?}");

    // The subscriber: the QoS 2 messages once each.
    assert_eq!(copies(&subscriber, "one"), 2);
    assert_eq!(copies(&subscriber, "two"), 1);
    assert_eq!(copies(&subscriber, "three"), 1);
    broker.check();
}

at_both_versions!(resume_paho_publisher: resume_paho_publisher_v3_1_1, resume_paho_publisher_v5);

/// A persistent paho subscriber with manual acknowledgement holds back its PUBACK (QoS 1)
/// and its PUBCOMP (QoS 2, which paho delivers at PUBREL), then drops the TCP connection
/// without DISCONNECT. On reconnect the session is present, the broker resends the QoS 1
/// PUBLISH with DUP 1 and, for QoS 2, only the PUBREL (3.1.1 [MQTT-4.4.0-1],
/// [MQTT-4.3.3-1]; 5.0 [MQTT-4.4.0-1], [MQTT-4.3.3-6]); paho's acknowledgements then
/// complete both, and the QoS 2 message was delivered once.
fn resume_paho_subscriber_after_drop(v: ProtocolVersion) {
    let broker = TestBroker::start(SessionConfig::default());
    let id = client_id("resume-sub-drop", v);
    let client = PahoClient::new(&id, v).persistent().manual_ack();
    let steps = [
        "sub t 2",
        "expect 2",
        "drop",
        "reconnect",
        "expect 3",
        "ack",
        "wait 0.3",
        "count 3",
    ];
    let run = client.spawn(&broker, &steps);
    broker.wait_for_sent(&id, PacketType::SubAck, 1);
    broker.publish("t", "one", QoS::AtLeastOnce, false);
    broker.publish("t", "two", QoS::ExactlyOnce, false);
    let out = run.finish();
    broker.wait_offline(&id);

    assert_eq!(out.connacks(), [(false, 0), (true, 0)]);
    assert_eq!(out.all("dropped").len(), 1);
    let got: Vec<_> = out
        .messages()
        .into_iter()
        .map(|m| (m.payload, m.qos, m.dup))
        .collect();
    let expected = [("one", 1, false), ("two", 2, false), ("one", 1, true)];
    let expected: Vec<_> = expected
        .iter()
        .map(|(p, q, d)| (p.to_string(), *q, *d))
        .collect();
    assert_eq!(got, expected);

    let sent = broker.sent(&id);
    let connections = per_connection(&sent);
    assert_eq!(connections.len(), 2);
    let first = publishes(connections[0]);
    let (id1, id2) = (id_of(first[0]), id_of(first[1]));
    // The resumed connection: CONNACK with Session Present, PUBLISH "one" again (same
    // identifier, DUP 1), PUBREL for "two" and no PUBLISH of it.
    let resumed = connections[1];
    assert!(matches!(&resumed[0], Packet::ConnAck(a) if a.session_present));
    let again = publishes(resumed);
    assert_eq!(again.len(), 1, "{resumed:?}");
    assert_eq!(
        (payload(again[0]), id_of(again[0]), again[0].dup),
        ("one", id1, true)
    );
    assert!(resumed
        .iter()
        .any(|p| matches!(p, Packet::PubRel(r) if r.packet_id == id2)));
    let events = broker.events(&id);
    assert!(events.iter().any(|e| matches!(e,
        Event::PublishAcknowledged { packet_id, .. } if *packet_id == id1)));
    assert!(events.contains(&Event::PublishCompleted { packet_id: id2 }));
    // The first connection ended when the broker read the end of the TCP stream or, if
    // paho's new CONNECT came first, by take-over (3.1.1 [MQTT-3.1.4-2]; 5.0
    // [MQTT-3.1.4-3]).
    let ended = events.iter().find_map(|e| match e {
        Event::Disconnected(cause) => Some(cause),
        _ => None,
    });
    let taken = DisconnectCause::Local(DisconnectReasonCode::SessionTakenOver);
    let ended = ended.expect("Disconnected");
    assert!(
        *ended == DisconnectCause::ConnectionLost || *ended == taken,
        "{ended:?}"
    );
    broker.check();
}

at_both_versions!(
    resume_paho_subscriber_after_drop: resume_paho_subscriber_after_drop_v3_1_1,
    resume_paho_subscriber_after_drop_v5
);

/// A persistent paho subscriber receives QoS 2 messages while the link fails: first the
/// broker loses paho's PUBREC (it resends the PUBLISH with DUP 1, [MQTT-3.3.1-1]), then
/// its own PUBREL (it resends only the PUBREL: 3.1.1 [MQTT-4.3.3-1]; 5.0 [MQTT-4.3.3-6]).
/// paho gets each message once.
fn resume_paho_subscriber_after_cut(v: ProtocolVersion) {
    let broker = TestBroker::start(SessionConfig::default());
    let id = client_id("resume-sub-cut", v);
    let steps = [
        "sub t 2",
        "lost",
        "reconnect",
        "expect 1",
        "lost",
        "reconnect",
        "expect 2",
        "wait 0.3",
        "count 2",
    ];
    let run = PahoClient::new(&id, v).persistent().spawn(&broker, &steps);
    broker.wait_for_sent(&id, PacketType::SubAck, 1);
    broker.cut_link(&id, Cut::Receiving(PacketType::PubRec));
    broker.publish("t", "a", QoS::ExactlyOnce, false);
    broker.wait_until("the first message to complete", |records| {
        records.iter().any(|r| {
            r.client_id == id
                && matches!(
                    r.seen,
                    paho_util::Seen::Event(Event::PublishCompleted { .. })
                )
        })
    });
    broker.cut_link(&id, Cut::Sending(PacketType::PubRel));
    broker.publish("t", "b", QoS::ExactlyOnce, false);
    let out = run.finish();
    broker.wait_offline(&id);

    assert_eq!(out.connacks(), [(false, 0), (true, 0), (true, 0)]);
    assert_eq!(sorted(&out.messages()), [("t", "a", 2), ("t", "b", 2)]);

    let sent = broker.sent(&id);
    let connections = per_connection(&sent);
    assert_eq!(connections.len(), 3);
    let publish_of = |c: &[Packet]| -> Vec<(String, bool)> {
        publishes(c)
            .into_iter()
            .map(|p| (payload(p).to_owned(), p.dup))
            .collect()
    };
    let pubrels = |c: &[Packet]| c.iter().filter(|p| matches!(p, Packet::PubRel(_))).count();
    // 1: "a" sent, PUBREC lost. 2: "a" again with DUP, completed; "b" sent, PUBREL lost.
    // 3: only the PUBREL of "b".
    assert_eq!(publish_of(connections[0]), [("a".to_owned(), false)]);
    let second = [("a".to_owned(), true), ("b".to_owned(), false)];
    assert_eq!(publish_of(connections[1]), second);
    assert_eq!(
        pubrels(connections[1]),
        1,
        "PUBREL of \"a\"; that of \"b\" was lost"
    );
    assert_eq!(publish_of(connections[2]), []);
    assert_eq!(pubrels(connections[2]), 1);
    let completed = broker.events(&id).into_iter();
    let completed = completed.filter(|e| matches!(e, Event::PublishCompleted { .. }));
    assert_eq!(completed.count(), 2);
    broker.check();
}

at_both_versions!(
    resume_paho_subscriber_after_cut: resume_paho_subscriber_after_cut_v3_1_1,
    resume_paho_subscriber_after_cut_v5
);
