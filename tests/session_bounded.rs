//! What a session keeps is bounded by its configuration and by what is in flight, never by
//! what the peer repeats or by how many identifiers have gone round: once the tables have
//! grown to their working size, none of these allocate (a growing table would).
//!
//! - a flood of retransmissions of one unacknowledged QoS 1 or QoS 2 PUBLISH under manual
//!   acknowledgement (each copy is answered by the one pending acknowledgement);
//! - a publish and its PUBACK with thousands of other messages in flight, identifiers
//!   going round many times;
//! - received QoS 2 messages with identifiers spread over the whole range (the peer picks
//!   them), each completed by its PUBREL;
//! - a server's unanswered SUBSCRIBE packets under identifiers the client picks.

#[path = "fixtures/alloc_counter.rs"]
mod alloc_counter;

use mqttwire::properties::AckProperties;
use mqttwire::session::{Client, Event, Instant, Server, SessionConfig};
use mqttwire::{
    ConnAck, Connect, ConnectReasonCode, MqttString, Packet, PacketId, ProtocolVersion, PubAck,
    PubRel, Publish, QoS, QosPid, SubAckReasonCode, Subscribe, Subscription, TopicFilter,
    TopicName,
};
use std::num::NonZeroU16;

const NOW: Instant = Instant::ZERO;

fn pid(id: u16) -> PacketId {
    PacketId::new(id).unwrap()
}

fn drain<R>(session: &mut mqttwire::session::Session<R>) -> (usize, usize) {
    let sent = std::iter::from_fn(|| session.poll_transmit(NOW)).count();
    let events = std::iter::from_fn(|| session.poll_event()).count();
    (sent, events)
}

fn client(config: SessionConfig) -> Client {
    let mut client = Client::new(config);
    let connect = Connect::new(ProtocolVersion::V5, MqttString::new("c").unwrap());
    client.connect(NOW, connect).unwrap();
    let ack = ConnAck::new(ConnectReasonCode::Success);
    client.handle_incoming(NOW, Packet::ConnAck(ack)).unwrap();
    drain(&mut client);
    client
}

fn publish(qos: QosPid) -> Packet {
    let mut p = Publish::new(TopicName::from_static("t/b").unwrap(), &b"payload"[..]);
    p.qos = qos;
    Packet::Publish(p)
}

#[test]
fn a_retransmission_flood_under_manual_acks_allocates_nothing() {
    for qos in [QosPid::AtLeastOnce(pid(7)), QosPid::ExactlyOnce(pid(7))] {
        let mut config = SessionConfig::default();
        config.manual_acks = true;
        config.receive_maximum = NonZeroU16::new(10).unwrap();
        let mut client = client(config);
        client.handle_incoming(NOW, publish(qos)).unwrap();
        assert_eq!(
            drain(&mut client),
            (0, 1),
            "{qos:?}: delivered, not acknowledged"
        );
        let copy = match publish(qos) {
            Packet::Publish(mut p) => {
                p.dup = true;
                Packet::Publish(p)
            }
            _ => unreachable!(),
        };
        let (allocations, ()) = alloc_counter::count(|| {
            for _ in 0..200_000 {
                client.handle_incoming(NOW, copy.clone()).unwrap();
                assert_eq!(drain(&mut client), (0, 0));
            }
        });
        assert_eq!(allocations, 0, "{qos:?}: the session grew with the copies");
        client.ack(pid(7)).unwrap();
        assert_eq!(drain(&mut client), (1, 0), "{qos:?}: one acknowledgement");
    }
}

#[test]
fn publishing_with_thousands_in_flight_allocates_nothing_as_identifiers_go_round() {
    let mut client = client(SessionConfig::default());
    let message = Publish::new(TopicName::from_static("t/x").unwrap(), &b"x"[..]);
    for _ in 0..4_095 {
        client.publish(QoS::AtLeastOnce, message.clone()).unwrap();
    }
    drain(&mut client);
    let mut cycle = || {
        let id = client
            .publish(QoS::AtLeastOnce, message.clone())
            .unwrap()
            .unwrap();
        client
            .handle_incoming(NOW, Packet::PubAck(PubAck::new(id)))
            .unwrap();
        assert_eq!(drain(&mut client), (1, 1));
    };
    for _ in 0..100 {
        cycle();
    }
    let (allocations, ()) = alloc_counter::count(|| (0..100_000).for_each(|_| cycle()));
    assert_eq!(allocations, 0);
    assert_eq!(client.in_flight(), 4_095);
}

#[test]
fn received_qos2_spread_over_every_identifier_allocates_nothing_once_warm() {
    let mut client = client(SessionConfig::default());
    // 64 messages at a time, identifiers striding over the whole range, as a peer may pick.
    let ids: Vec<u16> = (0..65_535u32)
        .map(|i| (i * 7_919 % 65_535 + 1) as u16)
        .collect();
    let mut round = |chunk: &[u16]| {
        for &id in chunk {
            let packet = publish(QosPid::ExactlyOnce(pid(id)));
            client.handle_incoming(NOW, packet).unwrap();
        }
        for &id in chunk {
            let packet = Packet::PubRel(PubRel::new(pid(id)));
            client.handle_incoming(NOW, packet).unwrap();
        }
        assert_eq!(drain(&mut client), (2 * chunk.len(), chunk.len()));
    };
    ids.chunks(64).take(100).for_each(&mut round);
    let (allocations, ()) = alloc_counter::count(|| ids.chunks(64).skip(100).for_each(&mut round));
    assert_eq!(allocations, 0);
    assert_eq!(client.session().incomplete_incoming(), 0);
}

#[test]
fn a_server_holding_subscribe_requests_allocates_nothing_once_warm() {
    let mut server = Server::new(SessionConfig::default());
    let connect = Connect::new(ProtocolVersion::V5, MqttString::new("c").unwrap());
    server
        .handle_incoming(NOW, Packet::Connect(Box::new(connect)))
        .unwrap();
    drain(&mut server);
    server
        .accept(None, Default::default())
        .unwrap_or_else(|e| panic!("{e}"));
    drain(&mut server);
    let filter = TopicFilter::from_static("a/+").unwrap();
    let ids: Vec<u16> = (0..65_535u32)
        .map(|i| (i * 7_919 % 65_535 + 1) as u16)
        .collect();
    // The packets and answers are the application's and the decoder's allocations: made
    // before counting.
    let mut packets: Vec<(Packet, Vec<SubAckReasonCode>)> = ids
        .iter()
        .map(|&id| {
            let s = Subscribe::new(
                pid(id),
                vec![Subscription::new(filter.clone(), QoS::AtMostOnce)],
            );
            (Packet::Subscribe(s), vec![SubAckReasonCode::GrantedQoS0])
        })
        .collect();
    let mut round = |batch: &mut dyn Iterator<Item = (Packet, Vec<SubAckReasonCode>)>| {
        let mut answers = [const { None }; 64];
        for (slot, (packet, codes)) in answers.iter_mut().zip(batch) {
            let Packet::Subscribe(s) = &packet else {
                unreachable!()
            };
            let id = s.packet_id;
            server.handle_incoming(NOW, packet).unwrap();
            *slot = Some((id, codes));
        }
        while let Some(e) = server.poll_event() {
            assert!(matches!(e, Event::Subscribe(_)));
        }
        for (id, codes) in answers.into_iter().flatten() {
            server.suback(id, codes, AckProperties::default()).unwrap();
        }
        while server.poll_transmit(NOW).is_some() {}
    };
    let mut all = packets.drain(..);
    for _ in 0..100 {
        round(&mut all);
    }
    let (allocations, ()) = alloc_counter::count(|| {
        for _ in 100..1_024 {
            round(&mut all);
        }
    });
    assert_eq!(allocations, 0);
}
