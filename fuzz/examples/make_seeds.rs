//! Writes the committed seed corpus, `fuzz/seeds/<target>/<shape>`, from scratch:
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example make_seeds
//! ```
//!
//! - `decode`: the level byte (3, 4 or 5) and one packet on the wire: every packet type at
//!   3.1.1 and 5.0, MQTT 3.1 packets, 5.0 packets with properties, the 5.0 short forms, the
//!   accepted-but-unencodable 3.1.1 CONNECT, Remaining Length edges (whole packets at 127
//!   and 128, fixed headers alone for the larger edges, which are cut short on purpose to
//!   keep the corpus small).
//! - `decode_stream`: the level byte, a fragment count, the fragment lengths (little-endian
//!   `u16`) and a stream of packets, as that target reads them.
//! - `encode`: inputs that mqttwire's `Arbitrary` implementation turns into one packet of
//!   each shape, found by a deterministic search over pseudo-random inputs, smallest
//!   first: the search runs the real generator, so a seed is what its name says for the
//!   generator it was made with. After a change to the generator, run this again.
//!
//! - `restore`: a byte choosing whether the rest is sealed as a saved session (odd) or
//!   taken as it is (even), then saved sessions written by `SessionState::save` (empty; a
//!   message in every stage) and bare records to seal.
//!
//! The packets are built with mqttwire's own API or written out byte by byte; every
//! `decode` seed is checked to decode (or, for the header-only ones, to be incomplete).

use arbitrary::{Arbitrary, Unstructured};
use bytes::{Bytes, BytesMut};
use mqttwire::properties::{
    AckProperties, AuthProperties, ConnAckProperties, ConnectProperties, DisconnectProperties,
    PayloadFormat, PublishProperties, SubscribeProperties, SubscriptionIds, UnsubscribeProperties,
    UserProperties, WillProperties,
};
use mqttwire::*;
use std::fs;
use std::num::{NonZeroU16, NonZeroU32};
use std::path::{Path, PathBuf};

const V31: ProtocolVersion = ProtocolVersion::V3_1;
const V311: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;

fn s(text: &str) -> MqttString {
    MqttString::new(text).unwrap()
}

fn topic(text: &str) -> TopicName {
    TopicName::new(text).unwrap()
}

fn filter(text: &str) -> TopicFilter {
    TopicFilter::new(text).unwrap()
}

fn pid(id: u16) -> PacketId {
    PacketId::new(id).unwrap()
}

fn users(pairs: &[(&str, &str)]) -> UserProperties {
    UserProperties::from_pairs(pairs.iter().copied()).unwrap()
}

fn encode(packet: &Packet, version: ProtocolVersion) -> Vec<u8> {
    let mut buf = BytesMut::new();
    packet.encode(version, &mut buf).unwrap();
    buf.to_vec()
}

/// Every packet shape for the `decode` target: (name, level, packet bytes).
fn wire_seeds() -> Vec<(String, ProtocolVersion, Vec<u8>)> {
    let mut out: Vec<(String, ProtocolVersion, Vec<u8>)> = Vec::new();
    let mut add = |name: &str, version: ProtocolVersion, packet: Packet| {
        let bytes = encode(&packet, version);
        out.push((name.to_string(), version, bytes));
    };

    // CONNECT.
    add(
        "v311-connect-minimal",
        V311,
        Connect::new(V311, s("c")).into(),
    );
    let mut c = Connect::new(V311, s("sensor-17"));
    c.clean_start = false;
    c.keep_alive = 0xFFFF;
    c.will = Some(Will {
        qos: QoS::AtLeastOnce,
        retain: true,
        ..Will::new(topic("dev/17/status"), &b"offline"[..])
    });
    c.user_name = Some(s("alice"));
    c.password = Some(Bytes::from_static(b"secret"));
    add("v311-connect-will-user-password", V311, c.into());
    let mut c = Connect::new(V31, s("legacy"));
    c.will = Some(Will::new(topic("w"), &b""[..]));
    c.user_name = Some(s("u"));
    add("v31-connect-mqisdp-will-user", V31, c.into());
    let mut c = Connect::new(V5, s(""));
    let mut p = ConnectProperties::default();
    p.session_expiry_interval = Some(0xFFFF_FFFF);
    p.receive_maximum = NonZeroU16::new(20);
    p.maximum_packet_size = NonZeroU32::new(1 << 20);
    p.topic_alias_maximum = Some(10);
    p.request_response_information = Some(true);
    p.request_problem_information = Some(false);
    p.set_authentication_method(Some(s("SCRAM-SHA-1")));
    p.set_authentication_data(Some(Bytes::from_static(b"\x00\x01")))
        .unwrap();
    p.set_user_properties(users(&[("k", "v"), ("k", "w")]));
    c.properties = p;
    let mut wp = WillProperties::default();
    wp.will_delay_interval = Some(5);
    wp.payload_format_indicator = Some(PayloadFormat::Utf8);
    wp.message_expiry_interval = Some(60);
    wp.set_content_type(Some(s("text/plain")));
    wp.set_response_topic(Some(topic("reply/\u{FEFF}")))
        .unwrap();
    wp.set_correlation_data(Some(Bytes::from_static(b"id")))
        .unwrap();
    c.will = Some(Will {
        qos: QoS::ExactlyOnce,
        properties: wp,
        ..Will::new(topic("dev/\u{E9}t\u{E9}"), &b"bye"[..])
    });
    c.user_name = Some(s("\u{1F600}"));
    c.password = Some(Bytes::from_static(b"pw"));
    add("v5-connect-props-will-props", V5, c.into());
    add("v5-connect-minimal", V5, Connect::new(V5, s("c5")).into());

    // CONNACK.
    add(
        "v311-connack-accepted-session",
        V311,
        ConnAck {
            session_present: true,
            ..ConnAck::new(ConnectReasonCode::Success)
        }
        .into(),
    );
    add(
        "v311-connack-refused-not-authorized",
        V311,
        ConnAck::new(ConnectReasonCode::NotAuthorized).into(),
    );
    add(
        "v31-connack-refused-identifier",
        V31,
        ConnAck::new(ConnectReasonCode::ClientIdentifierNotValid).into(),
    );
    let mut p = ConnAckProperties::default();
    p.session_expiry_interval = Some(30);
    p.receive_maximum = NonZeroU16::new(10);
    p.maximum_qos = Some(QoS::AtLeastOnce);
    p.retain_available = Some(false);
    p.maximum_packet_size = NonZeroU32::new(4096);
    p.set_assigned_client_identifier(Some(s("auto-1")));
    p.topic_alias_maximum = Some(5);
    p.set_reason_string(Some(s("ok")));
    p.wildcard_subscription_available = Some(true);
    p.subscription_identifier_available = Some(true);
    p.shared_subscription_available = Some(false);
    p.server_keep_alive = Some(120);
    p.set_response_information(Some(s("resp/")));
    p.set_server_reference(Some(s("other:1883")));
    p.set_authentication_method(Some(s("m")));
    p.set_authentication_data(Some(Bytes::from_static(b"d")))
        .unwrap();
    p.set_user_properties(users(&[("a", "b")]));
    add(
        "v5-connack-all-props",
        V5,
        ConnAck {
            properties: p,
            ..ConnAck::new(ConnectReasonCode::Success)
        }
        .into(),
    );
    add(
        "v5-connack-refused-bad-auth-method",
        V5,
        ConnAck::new(ConnectReasonCode::BadAuthenticationMethod).into(),
    );

    // PUBLISH.
    add(
        "v311-publish-qos0",
        V311,
        Publish::new(topic("a/b"), &b"hello"[..]).into(),
    );
    add(
        "v311-publish-qos1-dup-retain",
        V311,
        Publish {
            dup: true,
            retain: true,
            qos: QosPid::AtLeastOnce(pid(1)),
            ..Publish::new(topic("t/\u{4E2D}"), &b"x"[..])
        }
        .into(),
    );
    add(
        "v311-publish-qos2-empty-payload",
        V311,
        Publish {
            qos: QosPid::ExactlyOnce(pid(0xFFFF)),
            ..Publish::new(topic("/"), Bytes::new())
        }
        .into(),
    );
    add(
        "v31-publish-qos1",
        V31,
        Publish {
            qos: QosPid::AtLeastOnce(pid(7)),
            ..Publish::new(topic("old"), &b"v"[..])
        }
        .into(),
    );
    add(
        "v5-publish-qos0-no-props",
        V5,
        Publish::new(topic("a"), &b"p"[..]).into(),
    );
    let mut p = PublishProperties::default();
    p.payload_format_indicator = Some(PayloadFormat::Utf8);
    p.message_expiry_interval = Some(3600);
    p.topic_alias = NonZeroU16::new(3);
    p.set_response_topic(Some(topic("reply/to"))).unwrap();
    p.set_correlation_data(Some(Bytes::from_static(b"\x01\x02")))
        .unwrap();
    p.set_content_type(Some(s("application/json")));
    p.set_user_properties(users(&[("region", "eu"), ("region", "us"), ("", "")]));
    p.set_subscription_identifiers(
        [1, 128, 268_435_455]
            .into_iter()
            .filter_map(SubscriptionId::new)
            .collect::<SubscriptionIds>(),
    );
    add(
        "v5-publish-qos1-props",
        V5,
        Publish {
            qos: QosPid::AtLeastOnce(pid(42)),
            properties: p,
            ..Publish::new(topic("s/t"), &b"{}"[..])
        }
        .into(),
    );
    let mut p = PublishProperties::default();
    p.topic_alias = NonZeroU16::new(1);
    add(
        "v5-publish-qos2-topic-alias-empty-topic",
        V5,
        Publish {
            qos: QosPid::ExactlyOnce(pid(9)),
            properties: p,
            ..Publish::new(TopicName::default(), &b"z"[..])
        }
        .into(),
    );
    // Remaining Length 127 and 128: topic "a" (3 bytes) + payload.
    add(
        "v311-publish-rl127",
        V311,
        Publish::new(topic("a"), vec![b'x'; 124]).into(),
    );
    add(
        "v311-publish-rl128",
        V311,
        Publish::new(topic("a"), vec![b'x'; 125]).into(),
    );
    add(
        "v5-publish-rl127",
        V5,
        Publish::new(topic("a"), vec![b'x'; 123]).into(),
    );
    add(
        "v5-publish-rl128",
        V5,
        Publish::new(topic("a"), vec![b'x'; 124]).into(),
    );

    // PUBACK, PUBREC, PUBREL, PUBCOMP.
    add("v311-puback", V311, PubAck::new(pid(1)).into());
    add("v311-pubrec", V311, PubRec::new(pid(2)).into());
    add("v311-pubrel", V311, PubRel::new(pid(3)).into());
    add("v311-pubcomp", V311, PubComp::new(pid(4)).into());
    add("v5-puback-short-rl2", V5, PubAck::new(pid(1)).into());
    add(
        "v5-puback-reason-only-rl3",
        V5,
        PubAck {
            reason_code: PubAckReasonCode::NoMatchingSubscribers,
            ..PubAck::new(pid(1))
        }
        .into(),
    );
    let mut ack = AckProperties::default();
    ack.set_reason_string(Some(s("quota")));
    ack.set_user_properties(users(&[("k", "v")]));
    add(
        "v5-puback-props",
        V5,
        PubAck {
            reason_code: PubAckReasonCode::QuotaExceeded,
            properties: ack.clone(),
            ..PubAck::new(pid(5))
        }
        .into(),
    );
    add(
        "v5-pubrec-props",
        V5,
        PubRec {
            reason_code: PubAckReasonCode::PacketIdentifierInUse,
            properties: ack.clone(),
            ..PubRec::new(pid(6))
        }
        .into(),
    );
    add(
        "v5-pubrel-not-found",
        V5,
        PubRel {
            reason_code: PubRelReasonCode::PacketIdentifierNotFound,
            ..PubRel::new(pid(7))
        }
        .into(),
    );
    add(
        "v5-pubcomp-props",
        V5,
        PubComp {
            properties: ack.clone(),
            ..PubComp::new(pid(8))
        }
        .into(),
    );

    // SUBSCRIBE and SUBACK.
    add(
        "v311-subscribe-three-filters",
        V311,
        Subscribe::new(
            pid(1),
            vec![
                Subscription::new(filter("a/+/c"), QoS::AtMostOnce),
                Subscription::new(filter("#"), QoS::AtLeastOnce),
                Subscription::new(filter("$SYS/\u{FEFF}/+"), QoS::ExactlyOnce),
            ],
        )
        .into(),
    );
    add(
        "v31-subscribe",
        V31,
        Subscribe::new(
            pid(2),
            vec![Subscription::new(filter("x/#"), QoS::AtLeastOnce)],
        )
        .into(),
    );
    let mut sp = SubscribeProperties::default();
    sp.subscription_identifier = SubscriptionId::new(16_384);
    sp.set_user_properties(users(&[("k", "1"), ("k", "2")]));
    add(
        "v5-subscribe-options-shared-props",
        V5,
        Subscribe {
            properties: sp,
            ..Subscribe::new(
                pid(3),
                vec![
                    Subscription {
                        filter: filter("$share/g/a/#"),
                        options: SubscriptionOptions {
                            qos: QoS::AtLeastOnce,
                            no_local: false,
                            retain_as_published: true,
                            retain_handling: RetainHandling::DoNotSend,
                        },
                    },
                    Subscription {
                        filter: filter("+/+"),
                        options: SubscriptionOptions {
                            qos: QoS::ExactlyOnce,
                            no_local: true,
                            retain_as_published: false,
                            retain_handling: RetainHandling::SendIfNew,
                        },
                    },
                ],
            )
        }
        .into(),
    );
    add(
        "v311-suback-grants-and-failure",
        V311,
        SubAck::new(
            pid(1),
            vec![
                SubAckReasonCode::GrantedQoS0,
                SubAckReasonCode::GrantedQoS2,
                SubAckReasonCode::UnspecifiedError,
            ],
        )
        .into(),
    );
    add(
        "v5-suback-props",
        V5,
        SubAck {
            properties: ack.clone(),
            ..SubAck::new(
                pid(3),
                vec![
                    SubAckReasonCode::GrantedQoS1,
                    SubAckReasonCode::SharedSubscriptionsNotSupported,
                ],
            )
        }
        .into(),
    );

    // UNSUBSCRIBE and UNSUBACK.
    add(
        "v311-unsubscribe",
        V311,
        Unsubscribe::new(pid(4), vec![filter("a/b"), filter("/")]).into(),
    );
    let mut up = UnsubscribeProperties::default();
    up.set_user_properties(users(&[("why", "done")]));
    add(
        "v5-unsubscribe-props",
        V5,
        Unsubscribe {
            properties: up,
            ..Unsubscribe::new(pid(5), vec![filter("$share/g/x")])
        }
        .into(),
    );
    add("v311-unsuback", V311, UnsubAck::new(pid(4), vec![]).into());
    add(
        "v5-unsuback-props",
        V5,
        UnsubAck {
            properties: ack.clone(),
            ..UnsubAck::new(
                pid(5),
                vec![
                    UnsubAckReasonCode::Success,
                    UnsubAckReasonCode::NoSubscriptionExisted,
                ],
            )
        }
        .into(),
    );

    // PINGREQ, PINGRESP.
    add("v311-pingreq", V311, Packet::PingReq);
    add("v311-pingresp", V311, Packet::PingResp);
    add("v5-pingreq", V5, Packet::PingReq);
    add("v5-pingresp", V5, Packet::PingResp);

    // DISCONNECT.
    add("v311-disconnect", V311, Disconnect::default().into());
    add(
        "v5-disconnect-reason-only-rl1",
        V5,
        Disconnect::new(DisconnectReasonCode::DisconnectWithWillMessage).into(),
    );
    let mut dp = DisconnectProperties::default();
    dp.session_expiry_interval = Some(0);
    dp.set_reason_string(Some(s("bye")));
    dp.set_server_reference(Some(s("elsewhere")));
    dp.set_user_properties(users(&[("k", "v")]));
    add(
        "v5-disconnect-props",
        V5,
        Disconnect {
            properties: dp,
            ..Disconnect::new(DisconnectReasonCode::ServerMoved)
        }
        .into(),
    );

    // AUTH.
    add("v5-auth-bare-rl0", V5, Auth::default().into());
    let mut ap = AuthProperties::default();
    ap.set_authentication_method(Some(s("SCRAM-SHA-1")));
    ap.set_authentication_data(Some(Bytes::from_static(b"client-first")))
        .unwrap();
    ap.set_reason_string(Some(s("more")));
    ap.set_user_properties(users(&[("k", "v")]));
    add(
        "v5-auth-continue-props",
        V5,
        Auth {
            properties: ap,
            ..Auth::new(AuthReasonCode::ContinueAuthentication)
        }
        .into(),
    );

    // Written out: forms the encoder never produces.
    let raw: [(&str, ProtocolVersion, &[u8]); 10] = [
        // A 3.1.1 CONNECT with an empty client id and no clean session: decodes, must not
        // be encoded ([MQTT-3.1.3-7], [MQTT-3.1.3-8]).
        (
            "v311-connect-empty-id-no-clean-session",
            V311,
            b"\x10\x0c\x00\x04MQTT\x04\x00\x00\x3c\x00\x00",
        ),
        // A 3.1.1 server's refusal of a 5.0 CONNECT (3.1.1 MQTT-3.1.2-2), which 5.0
        // decodes as reason 0x84 and re-encodes in the 5.0 layout.
        ("v5-connack-v311-refusal", V5, b"\x20\x02\x00\x01"),
        // MQTT 3.1 SUBSCRIBE resent with DUP (flags 1010).
        (
            "v31-subscribe-dup-flag",
            V31,
            b"\x8a\x06\x00\x01\x00\x01a\x01",
        ),
        // 5.0 long forms: PUBACK with reason 0x00 and an empty property block, DISCONNECT
        // with reason 0x00 and no properties.
        ("v5-puback-long-form-rl4", V5, b"\x40\x04\x00\x01\x00\x00"),
        ("v5-disconnect-long-form-rl2", V5, b"\xe0\x02\x00\x00"),
        // Fixed headers alone at the larger Remaining Length edges.
        (
            "v5-publish-rl16383-header-only",
            V5,
            b"\x30\xff\x7f\x00\x01a",
        ),
        (
            "v5-publish-rl16384-header-only",
            V5,
            b"\x30\x80\x80\x01\x00\x01a",
        ),
        (
            "v311-publish-rl2097151-header-only",
            V311,
            b"\x32\xff\xff\x7f\x00\x01a\x00\x01",
        ),
        (
            "v311-publish-rl2097152-header-only",
            V311,
            b"\x32\x80\x80\x80\x01\x00\x01a",
        ),
        (
            "v5-publish-rl268435455-header-only",
            V5,
            b"\x30\xff\xff\xff\x7f",
        ),
    ];
    for (name, version, bytes) in raw {
        out.push((name.to_string(), version, bytes.to_vec()));
    }
    out
}

/// Streams for `decode_stream`: (name, level, fragment lengths, packets).
fn stream_seeds() -> Vec<(String, ProtocolVersion, Vec<u16>, Vec<u8>)> {
    let seeds = wire_seeds();
    let get = |name: &str| -> Vec<u8> {
        seeds
            .iter()
            .find(|(n, ..)| n == name)
            .unwrap_or_else(|| panic!("{name}"))
            .2
            .clone()
    };
    let cat = |names: &[&str]| -> Vec<u8> { names.iter().flat_map(|n| get(n)).collect() };
    vec![
        (
            "v311-session-byte-by-byte".into(),
            V311,
            vec![1],
            cat(&[
                "v311-connect-will-user-password",
                "v311-subscribe-three-filters",
                "v311-publish-qos1-dup-retain",
                "v311-puback",
                "v311-pingreq",
                "v311-disconnect",
            ]),
        ),
        (
            "v5-session-mixed-fragments".into(),
            V5,
            vec![3, 7, 0, 1, 64],
            cat(&[
                "v5-connect-props-will-props",
                "v5-connack-all-props",
                "v5-publish-qos1-props",
                "v5-puback-short-rl2",
                "v5-auth-continue-props",
                "v5-disconnect-props",
            ]),
        ),
        (
            "v311-then-v5-connect-switches-level".into(),
            V311,
            vec![2, 5],
            cat(&[
                "v5-connect-minimal",
                "v5-publish-qos1-props",
                "v5-disconnect-reason-only-rl1",
            ]),
        ),
        (
            "v5-rl128-split-headers".into(),
            V5,
            vec![1, 1, 1, 200],
            cat(&["v5-publish-rl128", "v5-publish-rl127", "v5-pingresp"]),
        ),
        (
            "v31-session".into(),
            V31,
            vec![4],
            cat(&[
                "v31-connect-mqisdp-will-user",
                "v31-subscribe-dup-flag",
                "v31-publish-qos1",
                "v311-pingreq",
            ]),
        ),
        ("v311-ends-mid-packet".into(), V311, vec![], {
            let mut s = cat(&["v311-publish-qos0", "v311-puback"]);
            s.extend_from_slice(&get("v311-subscribe-three-filters")[..9]);
            s
        }),
        ("v5-error-after-packets".into(), V5, vec![6], {
            let mut s = cat(&["v5-pingresp", "v5-puback-props"]);
            s.extend_from_slice(b"\x80\x06\x00\x01\x00\x01a\x00"); // SUBSCRIBE, flags 0000
            s
        }),
        ("v311-too-large-header".into(), V311, vec![2, 3], {
            let mut s = get("v311-pingreq");
            s.extend_from_slice(b"\x30\x80\x80\x80\x01\x00\x01a"); // claims 2 MiB
            s
        }),
    ]
}

/// xorshift64*: deterministic pseudo-random input for the `encode` search.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

type Shape = (
    &'static str,
    ProtocolVersion,
    fn(&Packet, ProtocolVersion) -> bool,
);

fn encodes(p: &Packet, v: ProtocolVersion) -> bool {
    p.encoded_len(v).is_ok()
}

/// The shapes the `encode` seeds cover: every packet type at 3.1.1 and at 5.0 (there with
/// properties where the type has them), and a few edges.
fn shapes() -> Vec<Shape> {
    macro_rules! shape {
        ($name:literal, $v:expr, |$p:ident| $pred:expr) => {
            ($name, $v, |$p: &Packet, v: ProtocolVersion| {
                encodes($p, v) && $pred
            })
        };
    }
    vec![
        shape!(
            "v311-connect",
            V311,
            |p| matches!(p, Packet::Connect(c) if c.protocol_version == V311 && c.will.is_some())
        ),
        shape!(
            "v31-connect",
            V31,
            |p| matches!(p, Packet::Connect(c) if c.protocol_version == V31)
        ),
        shape!(
            "v5-connect-props",
            V5,
            |p| matches!(p, Packet::Connect(c) if c.protocol_version == V5 && !c.properties.is_empty() && c.will.is_some())
        ),
        shape!("v311-connack", V311, |p| matches!(p, Packet::ConnAck(_))),
        shape!(
            "v5-connack-props",
            V5,
            |p| matches!(p, Packet::ConnAck(c) if !c.properties.is_empty())
        ),
        shape!(
            "v311-publish-qos0",
            V311,
            |p| matches!(p, Packet::Publish(x) if x.qos == QosPid::AtMostOnce)
        ),
        shape!(
            "v311-publish-qos2",
            V311,
            |p| matches!(p, Packet::Publish(x) if matches!(x.qos, QosPid::ExactlyOnce(_)))
        ),
        shape!(
            "v5-publish-qos1-props",
            V5,
            |p| matches!(p, Packet::Publish(x) if matches!(x.qos, QosPid::AtLeastOnce(_)) && !x.properties.is_empty())
        ),
        shape!(
            "v5-publish-several-subscription-ids",
            V5,
            |p| matches!(p, Packet::Publish(x) if x.properties.subscription_identifiers().len() >= 2)
        ),
        shape!(
            "v5-publish-topic-alias-empty-topic",
            V5,
            |p| matches!(p, Packet::Publish(x) if x.topic.is_empty())
        ),
        shape!("v311-publish-rl127", V311, |p| matches!(
            p,
            Packet::Publish(_)
        ) && rl(p, V311) == 127),
        shape!("v5-publish-rl128", V5, |p| matches!(p, Packet::Publish(_))
            && rl(p, V5) == 128),
        shape!("v311-puback", V311, |p| matches!(p, Packet::PubAck(_))),
        shape!(
            "v5-puback-props",
            V5,
            |p| matches!(p, Packet::PubAck(x) if !x.properties.is_empty())
        ),
        shape!("v311-pubrec", V311, |p| matches!(p, Packet::PubRec(_))),
        shape!(
            "v5-pubrec-reason",
            V5,
            |p| matches!(p, Packet::PubRec(x) if x.reason_code != PubAckReasonCode::Success)
        ),
        shape!("v311-pubrel", V311, |p| matches!(p, Packet::PubRel(_))),
        shape!(
            "v5-pubrel-props",
            V5,
            |p| matches!(p, Packet::PubRel(x) if !x.properties.is_empty())
        ),
        shape!("v311-pubcomp", V311, |p| matches!(p, Packet::PubComp(_))),
        shape!(
            "v5-pubcomp-props",
            V5,
            |p| matches!(p, Packet::PubComp(x) if !x.properties.is_empty())
        ),
        shape!(
            "v311-subscribe",
            V311,
            |p| matches!(p, Packet::Subscribe(x) if x.subscriptions.len() >= 2)
        ),
        shape!(
            "v5-subscribe-shared-props",
            V5,
            |p| matches!(p, Packet::Subscribe(x) if !x.properties.is_empty() && x.subscriptions.iter().any(|s| s.filter.is_shared()))
        ),
        shape!(
            "v311-suback",
            V311,
            |p| matches!(p, Packet::SubAck(x) if x.reason_codes.len() >= 2)
        ),
        shape!(
            "v5-suback-props",
            V5,
            |p| matches!(p, Packet::SubAck(x) if !x.properties.is_empty())
        ),
        shape!(
            "v311-unsubscribe",
            V311,
            |p| matches!(p, Packet::Unsubscribe(x) if x.filters.len() >= 2)
        ),
        shape!(
            "v5-unsubscribe-props",
            V5,
            |p| matches!(p, Packet::Unsubscribe(x) if !x.properties.is_empty())
        ),
        shape!("v311-unsuback", V311, |p| matches!(p, Packet::UnsubAck(_))),
        shape!(
            "v5-unsuback-props",
            V5,
            |p| matches!(p, Packet::UnsubAck(x) if !x.properties.is_empty())
        ),
        shape!("v311-pingreq", V311, |p| matches!(p, Packet::PingReq)),
        shape!("v5-pingresp", V5, |p| matches!(p, Packet::PingResp)),
        shape!("v311-disconnect", V311, |p| matches!(
            p,
            Packet::Disconnect(_)
        )),
        shape!(
            "v5-disconnect-props",
            V5,
            |p| matches!(p, Packet::Disconnect(x) if !x.properties.is_empty())
        ),
        shape!(
            "v5-auth-props",
            V5,
            |p| matches!(p, Packet::Auth(x) if x.properties.authentication_method().is_some() && x.properties.user_properties().len() >= 2)
        ),
        // Unencodable at the level asked: the encoder's refusals are seeds too.
        (
            "v311-publish-with-props-refused",
            V311,
            |p: &Packet, v: ProtocolVersion| {
                matches!(p, Packet::Publish(x) if !x.properties.is_empty()) && !encodes(p, v)
            },
        ),
    ]
}

/// The Remaining Length of `p` at `v`.
fn rl(p: &Packet, v: ProtocolVersion) -> usize {
    let bytes = encode(p, v);
    let mut value = 0;
    for (i, b) in bytes[1..].iter().take(4).enumerate() {
        value += usize::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            break;
        }
    }
    value
}

/// The smallest input found for each shape: level byte, generator input, limit bytes.
fn encode_seeds() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (name, version, pred) in shapes() {
        let mut rng = Rng(0x5EED_0000 + name.len() as u64);
        let found = [16, 32, 64, 128, 256].iter().find_map(|&len| {
            (0..200_000).find_map(|_| {
                let mut input = vec![version.level()];
                input.extend((0..len).map(|_| (rng.next() >> 32) as u8));
                let mut u = Unstructured::new(&input);
                u.choose(&[V31, V311, V5]).unwrap();
                let packet = Packet::arbitrary(&mut u).ok()?;
                pred(&packet, version).then_some(input)
            })
        });
        let input = found.unwrap_or_else(|| panic!("no input found for {name}"));
        out.push((name.to_string(), input));
    }
    out
}

fn write_dir(dir: &Path, files: Vec<(String, Vec<u8>)>) {
    if dir.exists() {
        fs::remove_dir_all(dir).unwrap();
    }
    fs::create_dir_all(dir).unwrap();
    for (name, bytes) in files {
        fs::write(dir.join(name), bytes).unwrap();
    }
}

/// Saved sessions, taken as they are (first byte 0), and bare records to seal (first
/// byte 1).
fn restore_seeds() -> Vec<(String, Vec<u8>)> {
    use mqttwire::session::{Client, Instant, SessionConfig, SessionState};
    let saved = |state: &SessionState| {
        let mut buf = BytesMut::new();
        state.save(&mut buf).unwrap();
        [&[0u8][..], &buf].concat()
    };
    let now = Instant::ZERO;
    let mut client = Client::new(SessionConfig::default());
    let mut connect = Connect::new(ProtocolVersion::V5, MqttString::new("seed").unwrap());
    connect.clean_start = false;
    client.connect(now, connect).unwrap();
    let ack = Packet::ConnAck(ConnAck::new(ConnectReasonCode::Success));
    client.handle_incoming(now, ack).unwrap();
    let message = |payload: &'static str| {
        let mut p = Publish::new(TopicName::new("seed/t").unwrap(), payload);
        p.properties.message_expiry_interval = Some(60);
        p
    };
    let released = client.publish(QoS::ExactlyOnce, message("released")).unwrap();
    client.publish(QoS::AtLeastOnce, message("sent")).unwrap();
    client.publish(QoS::ExactlyOnce, message("sent q2")).unwrap();
    while client.poll_transmit(now).is_some() {}
    let rec = Packet::PubRec(PubRec::new(released.unwrap()));
    client.handle_incoming(now, rec).unwrap();
    let mut incoming = Publish::new(TopicName::new("seed/in").unwrap(), "in");
    incoming.qos = QosPid::ExactlyOnce(pid(300));
    client.handle_incoming(now, Packet::Publish(incoming)).unwrap();
    client.handle_connection_lost();
    let every_stage = client.take_session();
    assert_eq!(every_stage.unacknowledged(), 3);
    assert_eq!(every_stage.incomplete_incoming(), 1);
    let publish = [0x34, 0x07, 0x00, 0x01, b't', 0x00, 0x09, 0x00, b'x'];
    vec![
        ("empty".into(), saved(&SessionState::default())),
        ("every-stage".into(), saved(&every_stage)),
        (
            "records-released-and-received".into(),
            vec![1, 0x01, 0x00, 0x07, 0x00, 0x03, 0x01, 0x00, 0x01],
        ),
        ("records-publish".into(), [&[1, 0x02, 0x01][..], &publish].concat()),
    ]
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("seeds");

    let mut decode = Vec::new();
    for (name, version, bytes) in wire_seeds() {
        // Every whole packet decodes; the header-only ones are incomplete.
        let result = Packet::decode(&Bytes::from(bytes.clone()), version);
        if name.ends_with("header-only") {
            assert!(result.unwrap_err().is_incomplete(), "{name}");
        } else {
            result.unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let mut input = vec![version.level()];
        input.extend(bytes);
        decode.push((name, input));
    }
    write_dir(&root.join("decode"), decode);

    let mut stream = Vec::new();
    for (name, version, fragments, packets) in stream_seeds() {
        let mut input = vec![version.level(), fragments.len() as u8];
        for len in fragments {
            input.extend(len.to_le_bytes());
        }
        input.extend(packets);
        stream.push((name, input));
    }
    write_dir(&root.join("decode_stream"), stream);

    write_dir(&root.join("encode"), encode_seeds());
    write_dir(&root.join("restore"), restore_seeds());

    let mut total = 0;
    for target in ["decode", "decode_stream", "encode", "restore"] {
        let dir = root.join(target);
        let (count, bytes) = fs::read_dir(&dir).unwrap().fold((0, 0), |(n, b), e| {
            (n + 1, b + e.unwrap().metadata().unwrap().len())
        });
        println!("{target}: {count} seeds, {bytes} bytes");
        total += bytes;
    }
    println!("total: {total} bytes");
}
