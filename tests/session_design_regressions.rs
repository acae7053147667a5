//! One regression test per session mistake listed in DESIGN.md section 5 ("Mistakes other
//! MQTT codecs make"): each drives a session by hand, packet by packet, and is named for the
//! behaviour mqttwire must keep; the comment above it names the mistake.

use mqttwire::session::{Client, Event, Instant, SessionConfig};
use mqttwire::{
    ConnAck, Connect, ConnectReasonCode, DisconnectReasonCode, MqttString, Packet, PacketId,
    ProtocolVersion, PubAck, Publish, QoS, QosPid, Subscription, TopicFilter, TopicName,
};
use std::collections::HashSet;

const NOW: Instant = Instant::ZERO;
const BOTH: [ProtocolVersion; 2] = [ProtocolVersion::V3_1_1, ProtocolVersion::V5];

fn pid(v: u16) -> PacketId {
    PacketId::new(v).unwrap()
}

fn sent(client: &mut Client) -> Vec<Packet> {
    std::iter::from_fn(|| client.poll_transmit(NOW)).collect()
}

fn events(client: &mut Client) -> Vec<Event> {
    std::iter::from_fn(|| client.poll_event()).collect()
}

/// Connects `client` (Clean Start 0, so a session can resume) and feeds the CONNACK.
fn connect(client: &mut Client, version: ProtocolVersion, session_present: bool) {
    let mut connect = Connect::new(version, MqttString::new("c1").unwrap());
    connect.clean_start = false;
    client.connect(NOW, connect).unwrap();
    let mut ack = ConnAck::new(ConnectReasonCode::Success);
    ack.session_present = session_present;
    assert!(matches!(sent(client)[..], [Packet::Connect(_)]));
    client.handle_incoming(NOW, Packet::ConnAck(ack)).unwrap();
}

fn connected(version: ProtocolVersion, config: SessionConfig) -> Client {
    let mut client = Client::new(config);
    connect(&mut client, version, false);
    events(&mut client);
    client
}

fn message(payload: &'static str) -> Publish {
    Publish::new(TopicName::new("a/b").unwrap(), payload)
}

fn incoming(qos: QosPid, dup: bool) -> Packet {
    let mut p = message("m");
    p.qos = qos;
    p.dup = dup;
    Packet::Publish(p)
}

// Mistake: never setting DUP on resend.
#[test]
fn resent_publish_has_dup_and_its_packet_id_mqtt_3_3_1_1() {
    for version in BOTH {
        let mut client = connected(version, SessionConfig::default());
        let id = client
            .publish(QoS::AtLeastOnce, message("x"))
            .unwrap()
            .unwrap();
        let first = sent(&mut client);
        assert!(
            matches!(&first[..], [Packet::Publish(p)] if !p.dup),
            "{version}"
        );

        client.handle_connection_lost();
        connect(&mut client, version, true);
        let resent = sent(&mut client);
        assert!(
            matches!(&resent[..], [Packet::Publish(p)] if p.dup && p.qos == QosPid::AtLeastOnce(id)),
            "{version}: {resent:?}"
        );
    }
}

// Mistake: delivering a resent QoS 2 PUBLISH twice (5.0 MQTT-4.3.3-10, 3.1.1 MQTT-4.3.3-2).
#[test]
fn retransmitted_qos2_publish_is_acknowledged_but_delivered_once() {
    for version in BOTH {
        let mut client = connected(version, SessionConfig::default());
        let qos = QosPid::ExactlyOnce(pid(7));
        client.handle_incoming(NOW, incoming(qos, false)).unwrap();
        client.handle_incoming(NOW, incoming(qos, true)).unwrap();
        let recs = sent(&mut client);
        assert!(
            matches!(&recs[..], [Packet::PubRec(a), Packet::PubRec(b)] if a.packet_id == pid(7) && b.packet_id == pid(7)),
            "{version}: {recs:?}"
        );
        let delivered = events(&mut client)
            .into_iter()
            .filter(|e| matches!(e, Event::Message(_)))
            .count();
        assert_eq!(delivered, 1, "{version}");
    }
}

// Mistake: ignoring our own Receive Maximum for inbound QoS 2, so a peer can grow the
// receiver's state without bound (5.0 MQTT-3.3.4-9: DISCONNECT 0x93).
#[test]
fn inbound_qos2_state_is_bounded_by_our_receive_maximum_mqtt_3_3_4_9() {
    let mut config = SessionConfig::default();
    config.receive_maximum = core::num::NonZeroU16::new(2).unwrap();
    let mut client = connected(ProtocolVersion::V5, config);
    for id in 1..=2 {
        let qos = QosPid::ExactlyOnce(pid(id));
        client.handle_incoming(NOW, incoming(qos, false)).unwrap();
    }
    sent(&mut client);
    let third = QosPid::ExactlyOnce(pid(3));
    let err = client
        .handle_incoming(NOW, incoming(third, false))
        .unwrap_err();
    assert_eq!(
        err.reason_code(),
        DisconnectReasonCode::ReceiveMaximumExceeded
    );
    assert_eq!(err.rule(), Some("MQTT-3.3.4-9"));
    assert!(matches!(
        &sent(&mut client)[..],
        [Packet::Disconnect(d)] if d.reason_code == DisconnectReasonCode::ReceiveMaximumExceeded
    ));
    assert_eq!(client.session().incomplete_incoming(), 2);
}

// Mistake: packet identifier collisions between PUBLISH and SUBSCRIBE/UNSUBSCRIBE
// (5.0 MQTT-2.2.1-3, 3.1.1 MQTT-2.3.1-2).
#[test]
fn subscribe_and_unsubscribe_never_take_an_identifier_a_publish_holds() {
    for version in BOTH {
        let mut client = connected(version, SessionConfig::default());
        let mut in_use = HashSet::new();
        for round in 0..50 {
            let p = client
                .publish(QoS::AtLeastOnce, message("x"))
                .unwrap()
                .unwrap();
            let filter = TopicFilter::new("a/#").unwrap();
            let s = client
                .subscribe(
                    vec![Subscription::new(filter.clone(), QoS::AtMostOnce)],
                    Default::default(),
                )
                .unwrap();
            let u = client
                .unsubscribe(vec![filter], Default::default())
                .unwrap();
            for id in [p, s, u] {
                assert!(in_use.insert(id), "{version}: {id} reused while in use");
            }
            // Free some so that allocation has to step around the rest.
            if round % 3 == 0 {
                client
                    .handle_incoming(NOW, Packet::PubAck(PubAck::new(p)))
                    .unwrap();
                in_use.remove(&p);
            }
        }
    }
}

// Mistake: acknowledgements sent out of order under manual acknowledgement
// (MQTT-4.6.0-2, the same statement in 3.1.1 and 5.0).
#[test]
fn manual_acks_leave_in_arrival_order_mqtt_4_6_0_2() {
    for version in BOTH {
        let mut config = SessionConfig::default();
        config.manual_acks = true;
        let mut client = connected(version, config);
        for id in [5, 6] {
            let qos = QosPid::AtLeastOnce(pid(id));
            client.handle_incoming(NOW, incoming(qos, false)).unwrap();
        }
        client.ack(pid(6)).unwrap();
        assert!(sent(&mut client).is_empty(), "{version}: 6 overtook 5");
        client.ack(pid(5)).unwrap();
        let acks: Vec<u16> = sent(&mut client)
            .iter()
            .map(|p| match p {
                Packet::PubAck(a) => a.packet_id.get(),
                other => panic!("{version}: {other:?}"),
            })
            .collect();
        assert_eq!(acks, [5, 6], "{version}");
    }
}

// Mistake: resuming a session the server said it does not have (5.0 MQTT-3.2.2-5; 3.1.1
// section 3.2.2.2 gives the server's side of the same rule).
#[test]
fn session_present_0_discards_the_stored_session_and_resends_nothing() {
    for version in BOTH {
        let mut client = connected(version, SessionConfig::default());
        let a = client
            .publish(QoS::AtLeastOnce, message("a"))
            .unwrap()
            .unwrap();
        let b = client
            .publish(QoS::ExactlyOnce, message("b"))
            .unwrap()
            .unwrap();
        sent(&mut client);
        client.handle_connection_lost();
        events(&mut client);

        connect(&mut client, version, false);
        assert!(
            sent(&mut client).is_empty(),
            "{version}: resent into a new session"
        );
        let dropped: Vec<PacketId> = events(&mut client)
            .into_iter()
            .filter_map(|e| match e {
                Event::PublishDropped { packet_id, message } => {
                    assert!(message.is_some(), "{version}: the message is handed back");
                    Some(packet_id)
                }
                _ => None,
            })
            .collect();
        assert_eq!(dropped, [a, b], "{version}");
        assert!(client.session().is_empty(), "{version}");
    }
}
