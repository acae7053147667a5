//! A `SessionState` copied from a live session (`session().clone()`), handed to a new
//! engine, behaves like one taken with `take_session`: what the live connection sent is
//! resent, nothing of that connection's bookkeeping carries over. Also: restoring crafted
//! records yields an error or a whole state, and odd acknowledgements at the edges of the
//! identifier space with a Receive Maximum of 1 never wedge or panic. Public API only.

use bytes::BytesMut;
use mqttwire::properties::ConnAckProperties;
use mqttwire::session::{Client, Event, Instant, Server, Session, SessionConfig, SessionState};
use mqttwire::{
    ConnAck, Connect, ConnectReasonCode, MqttString, Packet, PacketId, ProtocolVersion, PubAck,
    PubComp, PubRec, PubRel, Publish, QoS, QosPid, TopicName,
};
use std::num::NonZeroU16;

#[path = "fixtures/sealed_session.rs"]
mod sealed_session;

use sealed_session::sealed;

const T0: Instant = Instant::ZERO;

fn pid(v: u16) -> PacketId {
    PacketId::new(v).unwrap()
}

fn msg(payload: &'static str) -> Publish {
    Publish::new(TopicName::new("t").unwrap(), payload)
}

fn connect_packet(version: ProtocolVersion, clean: bool) -> Connect {
    let mut c = Connect::new(version, MqttString::new("c").unwrap());
    c.clean_start = clean;
    c
}

fn show(p: &Packet) -> String {
    match p {
        Packet::Publish(p) => {
            let q = match p.qos {
                QosPid::AtMostOnce => "q0".to_string(),
                QosPid::AtLeastOnce(id) => format!("q1 {id}"),
                QosPid::ExactlyOnce(id) => format!("q2 {id}"),
            };
            format!("PUBLISH {q}{}", if p.dup { " dup" } else { "" })
        }
        Packet::PubAck(a) => format!("PUBACK {}", a.packet_id),
        Packet::PubRec(a) => format!("PUBREC {}", a.packet_id),
        Packet::PubRel(a) => format!("PUBREL {}", a.packet_id),
        Packet::PubComp(a) => format!("PUBCOMP {} rc={:#x}", a.packet_id, a.reason_code.code()),
        Packet::ConnAck(a) => format!("CONNACK sp={}", u8::from(a.session_present)),
        Packet::Connect(_) => "CONNECT".into(),
        other => format!("{:?}", other.packet_type()),
    }
}

fn tx<R>(s: &mut Session<R>) -> Vec<String> {
    std::iter::from_fn(|| s.poll_transmit(T0))
        .map(|p| show(&p))
        .collect()
}

fn evs<R>(s: &mut Session<R>) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn connack(sp: bool, recv_max: Option<u16>) -> Packet {
    let mut a = ConnAck::new(ConnectReasonCode::Success);
    a.session_present = sp;
    a.properties.receive_maximum = recv_max.and_then(NonZeroU16::new);
    Packet::ConnAck(a)
}

fn client_connected(c: &mut Client, clean: bool, sp: bool, recv_max: Option<u16>) -> Vec<String> {
    c.connect(T0, connect_packet(ProtocolVersion::V5, clean))
        .unwrap();
    assert_eq!(tx(c), ["CONNECT"]);
    c.handle_incoming(T0, connack(sp, recv_max)).unwrap();
    tx(c)
}

fn server_connecting(s: &mut Server, clean: bool) {
    let c = connect_packet(ProtocolVersion::V5, clean);
    s.handle_incoming(T0, Packet::Connect(Box::new(c))).unwrap();
    let e = evs(s);
    assert!(matches!(e[..], [Event::ConnectRequest(_)]), "{e:?}");
}

fn publish_in(qos: QosPid) -> Packet {
    let mut p = msg("in");
    p.qos = qos;
    Packet::Publish(p)
}

// ---------------------------------------------------------------------------------------
// A: `SessionState` is `Clone` and `Session::session()` hands out `&SessionState`: a copy
// of a live session carries per-connection layout (the Sent list, the HERE flag).
// ---------------------------------------------------------------------------------------

/// A clone of a live client's state, resumed by a new client, resends the message the live
/// connection sent (with DUP, [MQTT-3.3.1-1]) and counts it once against the server's
/// Receive Maximum: it neither stays unsent nor holds a send-quota slot forever.
#[test]
fn a_copy_of_a_live_client_session_resends_what_the_live_connection_sent() {
    let mut live = Client::new(SessionConfig::default());
    client_connected(&mut live, true, false, None);
    let id = live.publish(QoS::AtLeastOnce, msg("a")).unwrap().unwrap();
    assert_eq!(tx(&mut live), [format!("PUBLISH q1 {id}")]);

    let copy = live.session().clone();
    assert_eq!(copy.unacknowledged(), 1);
    let mut next = Client::with_session(SessionConfig::default(), copy);
    let resent = client_connected(&mut next, false, true, Some(1));
    // As after take_session or save/restore.
    let id2 = next.publish(QoS::AtLeastOnce, msg("b")).unwrap().unwrap();
    let after = tx(&mut next);
    assert_eq!(
        (resent, after, next.in_flight()),
        (vec![format!("PUBLISH q1 {id} dup")], vec![], 1),
        "second message {id2}"
    );
}

/// A clone of a live server's state (a QoS 2 message received on the live connection,
/// awaiting PUBREL) given to `accept`: the PUBREL completes it, and what counts against
/// the new connection's Receive Maximum starts afresh (5.0 section 4.9), so later
/// messages are accepted (before, a per-connection counter carried over and underflowed).
#[test]
fn a_copy_of_a_live_server_session_counts_the_receive_maximum_afresh() {
    let mut live = Server::new(SessionConfig::default());
    server_connecting(&mut live, true);
    live.accept(None, ConnAckProperties::default()).unwrap();
    tx(&mut live);
    evs(&mut live);
    live.handle_incoming(T0, publish_in(QosPid::ExactlyOnce(pid(5))))
        .unwrap();
    assert_eq!(tx(&mut live), ["PUBREC 5"]);

    let copy = live.session().clone();
    let mut next = Server::new(SessionConfig::default());
    server_connecting(&mut next, false);
    next.accept(Some(copy), ConnAckProperties::default())
        .unwrap();
    tx(&mut next);
    evs(&mut next);
    next.handle_incoming(T0, Packet::PubRel(PubRel::new(pid(5))))
        .unwrap();
    assert_eq!(tx(&mut next), ["PUBCOMP 5 rc=0x0"]);
    next.handle_incoming(T0, publish_in(QosPid::AtLeastOnce(pid(6))))
        .unwrap();
    assert_eq!(tx(&mut next), ["PUBACK 6"]);
}

/// The same state passed through save/restore is fine (control for the two above).
#[test]
fn save_restore_of_a_live_session_resends() {
    let mut live = Client::new(SessionConfig::default());
    client_connected(&mut live, true, false, None);
    let id = live.publish(QoS::AtLeastOnce, msg("a")).unwrap().unwrap();
    tx(&mut live);
    let mut buf = BytesMut::new();
    live.session().save(&mut buf).unwrap();
    let state = SessionState::restore(&buf).unwrap();
    let mut next = Client::with_session(SessionConfig::default(), state);
    let resent = client_connected(&mut next, false, true, Some(1));
    assert_eq!(resent, [format!("PUBLISH q1 {id} dup")]);
}

// ---------------------------------------------------------------------------------------
// B: save/restore with crafted records (valid checksum) and edge identifiers.
// ---------------------------------------------------------------------------------------

#[test]
fn crafted_records_are_errors_or_whole_states_never_panics() {
    let mut pubrec = BytesMut::new();
    let mut p = msg("x");
    p.qos = QosPid::ExactlyOnce(pid(65_535));
    Packet::Publish(p)
        .encode(ProtocolVersion::V5, &mut pubrec)
        .unwrap();
    let mut cases: Vec<Vec<u8>> = vec![
        vec![1, 0, 0, 0],
        vec![1, 0xff, 0xff, 0],
        vec![1, 0xff, 0xff, 1, 1, 0xff, 0xff, 0],
        vec![3, 0, 0, 0],
        vec![3, 0xff, 0xff, 1, 3, 0xff, 0xff, 1],
        vec![2],
        vec![2, 1],
        vec![2, 2],
        vec![1, 0xff],
        vec![9],
    ];
    let mut r = vec![2, 1];
    r.extend_from_slice(&pubrec);
    cases.push(r.clone());
    let mut r2 = vec![1, 0xff, 0xff, 0];
    r2.extend_from_slice(&r);
    cases.push(r2);
    let mut r3 = r.clone();
    r3.truncate(r3.len() - 1);
    cases.push(r3);
    // Every prefix and every single-byte change of a valid record list.
    let mut big = vec![1, 0, 7, 1, 3, 0, 9, 0];
    big.extend_from_slice(&r);
    for n in 0..=big.len() {
        cases.push(big[..n].to_vec());
    }
    for i in 0..big.len() {
        for b in [0u8, 1, 2, 3, 0x30, 0x32, 0x34, 0x3a, 0x80, 0xff] {
            let mut m = big.clone();
            m[i] = b;
            cases.push(m);
        }
    }
    for records in cases {
        let bytes = sealed(&records);
        if let Ok(state) = SessionState::restore(&bytes) {
            let mut again = BytesMut::new();
            state.save(&mut again).unwrap();
            let back = SessionState::restore(&again).unwrap();
            let mut third = BytesMut::new();
            back.save(&mut third).unwrap();
            assert_eq!(again, third, "{records:?}");
            // Usable: resume it and publish around the restored identifiers.
            let mut c = Client::with_session(SessionConfig::default(), state);
            client_connected(&mut c, false, true, Some(1));
            for _ in 0..40 {
                c.publish(QoS::ExactlyOnce, msg("y")).unwrap();
            }
            let ids: Vec<u16> = c
                .session()
                .unacknowledged_ids()
                .map(PacketId::get)
                .collect();
            let mut d = ids.clone();
            d.sort_unstable();
            d.dedup();
            assert_eq!(d.len(), ids.len(), "{records:?}");
        }
    }
}

/// Receive Maximum 1, the only identifier left is 65,535 after a restore; odd acks.
#[test]
fn id_65535_and_receive_maximum_1_and_random_acks() {
    let mut c = Client::new(SessionConfig::default());
    client_connected(&mut c, true, false, Some(1));
    for id in [0u16, 1, 2, 65_535, 40_000] {
        if let Some(id) = PacketId::new(id) {
            let _ = c.ack(id);
            c.handle_incoming(T0, Packet::PubAck(PubAck::new(id)))
                .unwrap();
            c.handle_incoming(T0, Packet::PubComp(PubComp::new(id)))
                .unwrap();
            c.handle_incoming(T0, Packet::PubRec(PubRec::new(id)))
                .unwrap();
            c.handle_incoming(T0, Packet::PubRel(PubRel::new(id)))
                .unwrap();
        }
    }
    tx(&mut c);
    let a = c.publish(QoS::ExactlyOnce, msg("a")).unwrap().unwrap();
    let b = c.publish(QoS::AtLeastOnce, msg("b")).unwrap().unwrap();
    assert_eq!(tx(&mut c), [format!("PUBLISH q2 {a}")]);
    c.handle_incoming(T0, Packet::PubRec(PubRec::new(a)))
        .unwrap();
    c.handle_incoming(T0, Packet::PubRec(PubRec::new(a)))
        .unwrap();
    assert_eq!(tx(&mut c), [format!("PUBREL {a}"), format!("PUBREL {a}")]);
    c.handle_incoming(T0, Packet::PubComp(PubComp::new(a)))
        .unwrap();
    assert_eq!(tx(&mut c), [format!("PUBLISH q1 {b}")]);
    // A stale PUBCOMP for a, now free: nothing.
    c.handle_incoming(T0, Packet::PubComp(PubComp::new(a)))
        .unwrap();
    c.handle_incoming(T0, Packet::PubAck(PubAck::new(b)))
        .unwrap();
    let e = evs(&mut c);
    assert_eq!(e.len(), 3, "{e:?}");
}
