//! proptest strategies that generate VALID packets of every type at protocol levels 3, 4
//! and 5: what a level cannot carry is never generated for it (no properties, reason codes
//! or AUTH below 5.0; no Session Present in 3.1; no password without a user name and no
//! empty client identifier without clean start below 5.0), so every generated packet
//! encodes at its level, and decoding the bytes must give it back.
//!
//! Coverage, beyond every field and every property of every packet:
//! - strings from an alphabet with '/', '$', multi-byte UTF-8 (2, 3 and 4 bytes), U+FEFF,
//!   control characters and a non-character; empty strings; rarely strings of 127 to
//!   65,535 bytes (length prefix edges);
//! - topic filters with '+' and '#' in every valid place, and `$share/{name}/{filter}`
//!   (at 3.1.1 and 3.1, also `$share` forms that are only ordinary filters there);
//! - Remaining Lengths at the Variable Byte Integer edges 127/128 and 16,383/16,384
//!   (PUBLISH payload, SUBACK and UNSUBACK reason codes, CONNECT password) and, rarely and
//!   only in [`any_packet`], 2,097,151/2,097,152 (a PUBLISH payload of about 2 MiB);
//! - several Subscription Identifiers at the varint edges, repeated User Property names;
//! - the 5.0 short forms: acknowledgements with Success and no properties (Remaining
//!   Length 2) or a reason code alone (3), DISCONNECT with Remaining Length 0 and 1, AUTH
//!   with Remaining Length 0 (mqttwire refuses AUTH with Remaining Length 1, which section
//!   3.15.2.1 does not allow), an empty topic with a Topic Alias;
//! - CONNECT will / user name / password combinations valid for the level.
//!
//! Build packets with [`any_packet`], [`any_modest_packet`] (no 2 MiB payloads) or
//! [`any_version_and_packet`]; one packet type with [`packet_of_type`].

#![allow(dead_code)]

use bytes::Bytes;
use core::num::{NonZeroU16, NonZeroU32};
use mqttwire::properties::{
    AckProperties, AuthProperties, ConnAckProperties, ConnectProperties, DisconnectProperties,
    PayloadFormat, PublishProperties, SubscribeProperties, SubscriptionIds, UnsubscribeProperties,
    UserProperties, WillProperties,
};
use mqttwire::{
    Auth, AuthReasonCode, ConnAck, Connect, ConnectReasonCode, Disconnect, DisconnectReasonCode,
    MqttString, Packet, PacketId, PacketType, ProtocolVersion, PubAck, PubAckReasonCode, PubComp,
    PubRec, PubRel, PubRelReasonCode, Publish, QoS, QosPid, RetainHandling, SubAck,
    SubAckReasonCode, Subscribe, Subscription, SubscriptionId, SubscriptionOptions, TopicFilter,
    TopicName, UnsubAck, UnsubAckReasonCode, Unsubscribe, VarInt, Will,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::Union;

pub const V31: ProtocolVersion = ProtocolVersion::V3_1;
pub const V311: ProtocolVersion = ProtocolVersion::V3_1_1;
pub const V5: ProtocolVersion = ProtocolVersion::V5;
pub const LEVELS: [ProtocolVersion; 3] = [V31, V311, V5];

/// How large generated packets may get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Sometimes size a packet so that its Remaining Length is one of these (at most
    /// 16,384; see [`RL_EDGES`]).
    pub rl_edges: &'static [usize],
    /// Rarely size a PUBLISH so its Remaining Length is 2,097,151 or 2,097,152.
    pub huge: bool,
    /// Rarely use strings and binary data of 127 to 65,535 bytes.
    pub long_strings: bool,
}

/// Everything, the 2 MiB PUBLISH included (rarely).
pub const FULL: Sizes = Sizes {
    rl_edges: &RL_EDGES,
    huge: true,
    long_strings: true,
};

/// Everything but the 2 MiB PUBLISH: for tests that do more than a few passes per packet.
pub const MODEST: Sizes = Sizes {
    rl_edges: &RL_EDGES,
    huge: false,
    long_strings: true,
};

/// Small packets only (at most a few hundred bytes).
pub const SMALL: Sizes = Sizes {
    rl_edges: &[],
    huge: false,
    long_strings: false,
};

/// Small packets, and now and then one with Remaining Length 127 or 128: for sweeps that
/// cost the square of a packet's size.
pub const SWEEP: Sizes = Sizes {
    rl_edges: &[127, 128],
    huge: false,
    long_strings: false,
};

/// Remaining Lengths at the edges of the one-, two- and three-byte forms.
pub const RL_EDGES: [usize; 4] = [127, 128, 16_383, 16_384];
/// Remaining Lengths at the edge of the three- and four-byte forms.
pub const RL_HUGE: [usize; 2] = [2_097_151, 2_097_152];

// ------------------------------------------------------------------------------------------
// Entry points
// ------------------------------------------------------------------------------------------

/// A protocol level.
pub fn any_version() -> BoxedStrategy<ProtocolVersion> {
    select(LEVELS.to_vec()).boxed()
}

/// Any valid packet at `version`, 2 MiB PUBLISH included (rarely).
pub fn any_packet(version: ProtocolVersion) -> BoxedStrategy<Packet> {
    packet_with(version, FULL)
}

/// Any valid packet at `version`, without the 2 MiB PUBLISH.
pub fn any_modest_packet(version: ProtocolVersion) -> BoxedStrategy<Packet> {
    packet_with(version, MODEST)
}

/// Any valid packet at `version`, at most a few hundred bytes.
pub fn any_small_packet(version: ProtocolVersion) -> BoxedStrategy<Packet> {
    packet_with(version, SMALL)
}

/// A level and any valid packet at it.
pub fn any_version_and_packet() -> BoxedStrategy<(ProtocolVersion, Packet)> {
    version_and_packet_with(FULL)
}

/// A level and any valid packet at it, without the 2 MiB PUBLISH.
pub fn any_version_and_modest_packet() -> BoxedStrategy<(ProtocolVersion, Packet)> {
    version_and_packet_with(MODEST)
}

pub fn version_and_packet_with(sizes: Sizes) -> BoxedStrategy<(ProtocolVersion, Packet)> {
    any_version()
        .prop_flat_map(move |v| packet_with(v, sizes).prop_map(move |p| (v, p)))
        .boxed()
}

/// The packet types a level has: all fifteen at 5.0, all but AUTH below.
pub fn packet_types(version: ProtocolVersion) -> Vec<PacketType> {
    use PacketType::*;
    let mut types = vec![
        Connect,
        ConnAck,
        Publish,
        PubAck,
        PubRec,
        PubRel,
        PubComp,
        Subscribe,
        SubAck,
        Unsubscribe,
        UnsubAck,
        PingReq,
        PingResp,
        Disconnect,
    ];
    if version.is_v5() {
        types.push(Auth);
    }
    types
}

/// Any valid packet at `version` within `sizes`, each type equally likely.
pub fn packet_with(version: ProtocolVersion, sizes: Sizes) -> BoxedStrategy<Packet> {
    Union::new(
        packet_types(version)
            .into_iter()
            .map(|t| packet_of_type(version, t, sizes)),
    )
    .boxed()
}

/// A valid packet of type `packet_type` at `version` (which must have the type).
pub fn packet_of_type(
    version: ProtocolVersion,
    packet_type: PacketType,
    sizes: Sizes,
) -> BoxedStrategy<Packet> {
    use PacketType as T;
    match packet_type {
        T::Connect => connect(version, sizes),
        T::ConnAck => connack(version, sizes),
        T::Publish => publish(version, sizes),
        T::PubAck => pub_ack_like(version, sizes, |id, rc, props| {
            Packet::PubAck(PubAck {
                reason_code: rc,
                properties: props,
                ..PubAck::new(id)
            })
        }),
        T::PubRec => pub_ack_like(version, sizes, |id, rc, props| {
            Packet::PubRec(PubRec {
                reason_code: rc,
                properties: props,
                ..PubRec::new(id)
            })
        }),
        T::PubRel => pub_rel_like(version, sizes, |id, rc, props| {
            Packet::PubRel(PubRel {
                reason_code: rc,
                properties: props,
                ..PubRel::new(id)
            })
        }),
        T::PubComp => pub_rel_like(version, sizes, |id, rc, props| {
            Packet::PubComp(PubComp {
                reason_code: rc,
                properties: props,
                ..PubComp::new(id)
            })
        }),
        T::Subscribe => subscribe(version, sizes),
        T::SubAck => suback(version, sizes),
        T::Unsubscribe => unsubscribe(version, sizes),
        T::UnsubAck => unsuback(version, sizes),
        T::PingReq => Just(Packet::PingReq).boxed(),
        T::PingResp => Just(Packet::PingResp).boxed(),
        T::Disconnect => disconnect(version, sizes),
        T::Auth => {
            assert!(version.is_v5(), "AUTH exists only in MQTT 5.0");
            auth(sizes)
        }
    }
}

// ------------------------------------------------------------------------------------------
// Remaining Length arithmetic
// ------------------------------------------------------------------------------------------

/// Bytes a Variable Byte Integer of `value` takes.
pub fn varint_len(value: usize) -> usize {
    match value {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// The Remaining Length of a packet of `total` bytes.
pub fn remaining_length_of_total(total: usize) -> usize {
    (1..=4)
        .map(|n| total - 1 - n)
        .find(|&body| varint_len(body) == total - 1 - body)
        .expect("a total length has one Remaining Length")
}

/// The Remaining Length `packet` has when encoded at `version` (a CONNECT at its own).
pub fn remaining_length(packet: &Packet, version: ProtocolVersion) -> usize {
    let total = packet
        .encoded_len(version)
        .unwrap_or_else(|e| panic!("generated packet does not encode: {e}: {packet:?}"));
    remaining_length_of_total(total)
}

/// `Some(target Remaining Length)` now and then; `None` mostly.
fn rl_target(sizes: Sizes, allow_huge: bool) -> BoxedStrategy<Option<usize>> {
    let mut choices: Vec<(u32, BoxedStrategy<Option<usize>>)> = vec![(85, Just(None).boxed())];
    if !sizes.rl_edges.is_empty() {
        choices.push((12, select(sizes.rl_edges.to_vec()).prop_map(Some).boxed()));
    }
    if sizes.huge && allow_huge {
        choices.push((2, select(RL_HUGE.to_vec()).prop_map(Some).boxed()));
    }
    Union::new_weighted(choices).boxed()
}

/// `n` bytes of printable ASCII (valid UTF-8 too), cheap to build even for 2 MiB.
pub fn filler(n: usize) -> Bytes {
    let mut out = b"abcdefghijklmnopqrstuvwxyz0123456789".repeat(n / 36 + 1);
    out.truncate(n);
    Bytes::from(out)
}

// ------------------------------------------------------------------------------------------
// Scalars
// ------------------------------------------------------------------------------------------

pub fn packet_id() -> BoxedStrategy<PacketId> {
    prop_oneof![
        1 => Just(1u16),
        1 => Just(u16::MAX),
        1 => Just(0x00FFu16),
        1 => Just(0x0100u16),
        6 => 1..=u16::MAX,
    ]
    .prop_map(|id| PacketId::new(id).unwrap())
    .boxed()
}

pub fn qos() -> BoxedStrategy<QoS> {
    select(vec![QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]).boxed()
}

fn u16_value() -> BoxedStrategy<u16> {
    prop_oneof![Just(0u16), Just(1), Just(u16::MAX), any::<u16>()].boxed()
}

fn u32_value() -> BoxedStrategy<u32> {
    prop_oneof![Just(0u32), Just(1), Just(u32::MAX), any::<u32>()].boxed()
}

fn nonzero_u16() -> BoxedStrategy<NonZeroU16> {
    prop_oneof![Just(1u16), Just(u16::MAX), 1..=u16::MAX]
        .prop_map(|v| NonZeroU16::new(v).unwrap())
        .boxed()
}

fn nonzero_u32() -> BoxedStrategy<NonZeroU32> {
    prop_oneof![Just(1u32), Just(u32::MAX), 1..=u32::MAX]
        .prop_map(|v| NonZeroU32::new(v).unwrap())
        .boxed()
}

/// Subscription Identifiers, weighted to the edges of the varint forms.
pub fn subscription_id() -> BoxedStrategy<SubscriptionId> {
    prop_oneof![
        1 => select(vec![1u32, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, VarInt::MAX]),
        2 => 1..=VarInt::MAX,
    ]
    .prop_map(|v| SubscriptionId::new(v).unwrap())
    .boxed()
}

/// Present with probability 0.4.
fn opt<T: core::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    option::weighted(0.4, s).boxed()
}

// ------------------------------------------------------------------------------------------
// Strings, topics and binary data
// ------------------------------------------------------------------------------------------

/// The characters strings are made of: ASCII, the topic level separator, '$', 2-, 3- and
/// 4-byte UTF-8, U+FEFF (which must be kept, [MQTT-1.5.4-3]), control characters and a
/// non-character (well-formed, refused only by a strict decoder). No U+0000, '+' or '#'.
pub const CHARS: &[char] = &[
    'a', 'b', 'z', 'A', 'Q', '0', '9', ' ', '-', '_', '.', '$', '/', '/', 'é', 'ß', '€', '中',
    '😀', '\u{FEFF}', '\u{1}', '\u{1F}', '\u{7F}', '\u{9F}', '\u{FFFF}',
];

/// [`CHARS`] without '/': for one topic level or a share name.
pub fn level_chars() -> Vec<char> {
    CHARS.iter().copied().filter(|&c| c != '/').collect()
}

/// Strings of `min..=max` characters from [`CHARS`] (or `chars`).
pub fn text_from(chars: Vec<char>, min: usize, max: usize) -> BoxedStrategy<String> {
    vec(select(chars), min..=max)
        .prop_map(|cs| cs.into_iter().collect())
        .boxed()
}

pub fn text(min: usize, max: usize) -> BoxedStrategy<String> {
    text_from(CHARS.to_vec(), min, max)
}

/// A string of exactly `n` bytes mixing 2-byte and 1-byte characters.
pub fn long_text(n: usize) -> String {
    let mut s = "é".repeat(n / 2);
    if n % 2 == 1 {
        s.push('a');
    }
    debug_assert_eq!(s.len(), n);
    s
}

/// Byte lengths of the rare long strings: one- and two-byte varint edges of the length
/// prefix's bytes, and the longest string.
pub const LONG_LENGTHS: [usize; 6] = [127, 128, 255, 256, 16_384, 65_535];

/// A valid MQTT string: usually short (possibly empty), rarely long.
pub fn mqtt_string(sizes: Sizes) -> BoxedStrategy<MqttString> {
    let short = text(0, 10);
    let s = if sizes.long_strings {
        prop_oneof![
            60 => short,
            1 => select(LONG_LENGTHS.to_vec()).prop_map(long_text),
        ]
        .boxed()
    } else {
        short
    };
    s.prop_map(|s| MqttString::new(&s).unwrap()).boxed()
}

/// Binary Data: usually short (possibly empty), rarely up to 65,535 bytes.
pub fn binary(sizes: Sizes) -> BoxedStrategy<Bytes> {
    let short = vec(any::<u8>(), 0..12).prop_map(Bytes::from).boxed();
    if sizes.long_strings {
        prop_oneof![
            60 => short,
            1 => select(LONG_LENGTHS.to_vec()).prop_map(filler),
        ]
        .boxed()
    } else {
        short
    }
}

/// A non-empty topic name (no wildcards), sometimes starting with '$'.
pub fn topic_name(sizes: Sizes) -> BoxedStrategy<TopicName> {
    let short = text(1, 12);
    let s = if sizes.long_strings {
        prop_oneof![
            60 => short,
            1 => select(LONG_LENGTHS.to_vec()).prop_map(long_text),
        ]
        .boxed()
    } else {
        short
    };
    s.prop_map(|s| TopicName::new(&s).unwrap()).boxed()
}

/// A filter (without any `$share/` prefix): levels of text or '+', optionally ending
/// in '#'.
fn plain_filter() -> BoxedStrategy<String> {
    let level = prop_oneof![
        5 => text_from(level_chars(), 0, 5),
        2 => Just("+".to_string()),
    ];
    (vec(level, 1..=4), any::<bool>())
        .prop_map(|(mut levels, hash)| {
            if hash {
                levels.push("#".to_string());
            }
            let filter = levels.join("/");
            if filter.is_empty() {
                "#".to_string()
            } else {
                filter
            }
        })
        .boxed()
}

/// A topic filter valid at `version`: plain, or (5.0) a valid shared subscription, or
/// (below 5.0) a `$share` filter, which is an ordinary filter there even when it would
/// not be a valid shared subscription in 5.0.
pub fn topic_filter(version: ProtocolVersion) -> BoxedStrategy<TopicFilter> {
    let share_name = text_from(level_chars(), 1, 4);
    let shared = (share_name, plain_filter())
        .prop_map(|(name, filter)| format!("$share/{name}/{filter}"))
        .boxed();
    let s = if version.is_v5() {
        prop_oneof![4 => plain_filter(), 1 => shared].boxed()
    } else {
        let ordinary_share = select(vec![
            "$share",
            "$share/",
            "$share/g",
            "$share//a",
            "$share/g/",
        ])
        .prop_map(str::to_string);
        prop_oneof![8 => plain_filter(), 1 => shared, 1 => ordinary_share].boxed()
    };
    s.prop_map(move |f| {
        let filter = TopicFilter::new(&f).unwrap_or_else(|e| panic!("{f:?}: {e}"));
        if version.is_v5() {
            assert!(filter.shared_parts().is_ok(), "{f:?}");
        }
        filter
    })
    .boxed()
}

// ------------------------------------------------------------------------------------------
// Properties
// ------------------------------------------------------------------------------------------

/// User Properties: 0 to 4 pairs, names often repeated ("k"), built in one of the three
/// ways the API offers (from_pairs, collect, push).
pub fn user_properties(sizes: Sizes) -> BoxedStrategy<UserProperties> {
    let name = prop_oneof![
        3 => Just("k".to_string()),
        2 => text(0, 4),
    ];
    let value = mqtt_string(sizes).prop_map(|s| s.as_str().to_string());
    (vec((name, value), 0..=4), 0..3u8)
        .prop_map(|(pairs, how)| match how {
            0 => UserProperties::from_pairs(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())))
                .unwrap(),
            1 => pairs
                .iter()
                .map(|(n, v)| (MqttString::new(n).unwrap(), MqttString::new(v).unwrap()))
                .collect(),
            _ => {
                let mut props = UserProperties::new();
                for (n, v) in &pairs {
                    props.push(MqttString::new(n).unwrap(), MqttString::new(v).unwrap());
                }
                props
            }
        })
        .boxed()
}

/// 0 to 4 Subscription Identifiers, collected or pushed.
pub fn subscription_ids() -> BoxedStrategy<SubscriptionIds> {
    (vec(subscription_id(), 0..=4), any::<bool>())
        .prop_map(|(ids, collect)| {
            if collect {
                ids.into_iter().collect()
            } else {
                let mut out = SubscriptionIds::new();
                for id in ids {
                    out.push(id);
                }
                out
            }
        })
        .boxed()
}

pub fn connect_properties(sizes: Sizes) -> BoxedStrategy<ConnectProperties> {
    (
        opt(u32_value()),
        opt(nonzero_u16()),
        opt(nonzero_u32()),
        opt(u16_value()),
        opt(any::<bool>()),
        opt(any::<bool>()),
        opt(mqtt_string(sizes)),
        opt(binary(sizes)),
        user_properties(sizes),
    )
        .prop_map(
            |(expiry, receive_max, max_size, alias_max, rri, rpi, method, data, user)| {
                let mut p = ConnectProperties::default();
                p.session_expiry_interval = expiry;
                p.receive_maximum = receive_max;
                p.maximum_packet_size = max_size;
                p.topic_alias_maximum = alias_max;
                p.request_response_information = rri;
                p.request_problem_information = rpi;
                // Authentication Data only with an Authentication Method.
                p.set_authentication_data(data.filter(|_| method.is_some()))
                    .unwrap();
                p.set_authentication_method(method);
                p.set_user_properties(user);
                p
            },
        )
        .boxed()
}

fn payload_format() -> BoxedStrategy<PayloadFormat> {
    select(vec![PayloadFormat::Unspecified, PayloadFormat::Utf8]).boxed()
}

pub fn will_properties(sizes: Sizes) -> BoxedStrategy<WillProperties> {
    (
        opt(u32_value()),
        opt(payload_format()),
        opt(u32_value()),
        opt(mqtt_string(sizes)),
        opt(topic_name(sizes)),
        opt(binary(sizes)),
        user_properties(sizes),
    )
        .prop_map(|(delay, format, expiry, content, response, corr, user)| {
            let mut p = WillProperties::default();
            p.will_delay_interval = delay;
            p.payload_format_indicator = format;
            p.message_expiry_interval = expiry;
            p.set_content_type(content);
            p.set_response_topic(response).unwrap();
            p.set_correlation_data(corr).unwrap();
            p.set_user_properties(user);
            p
        })
        .boxed()
}

pub fn connack_properties(sizes: Sizes) -> BoxedStrategy<ConnAckProperties> {
    let first = (
        opt(u32_value()),
        opt(nonzero_u16()),
        // Maximum QoS is 0 or 1; its absence means 2.
        opt(select(vec![QoS::AtMostOnce, QoS::AtLeastOnce])),
        opt(any::<bool>()),
        opt(nonzero_u32()),
        opt(mqtt_string(sizes)),
        opt(u16_value()),
        opt(mqtt_string(sizes)),
    );
    let second = (
        opt(any::<bool>()),
        opt(any::<bool>()),
        opt(any::<bool>()),
        opt(u16_value()),
        opt(mqtt_string(sizes)),
        opt(mqtt_string(sizes)),
        opt(mqtt_string(sizes)),
        opt(binary(sizes)),
        user_properties(sizes),
    );
    (first, second)
        .prop_map(
            |(
                (expiry, receive_max, max_qos, retain, max_size, assigned, alias_max, reason),
                (wildcard, sub_ids, shared, keep_alive, response, server, method, data, user),
            )| {
                let mut p = ConnAckProperties::default();
                p.session_expiry_interval = expiry;
                p.receive_maximum = receive_max;
                p.maximum_qos = max_qos;
                p.retain_available = retain;
                p.maximum_packet_size = max_size;
                p.set_assigned_client_identifier(assigned);
                p.topic_alias_maximum = alias_max;
                p.set_reason_string(reason);
                p.wildcard_subscription_available = wildcard;
                p.subscription_identifier_available = sub_ids;
                p.shared_subscription_available = shared;
                p.server_keep_alive = keep_alive;
                p.set_response_information(response);
                p.set_server_reference(server);
                p.set_authentication_data(data.filter(|_| method.is_some()))
                    .unwrap();
                p.set_authentication_method(method);
                p.set_user_properties(user);
                p
            },
        )
        .boxed()
}

pub fn publish_properties(sizes: Sizes) -> BoxedStrategy<PublishProperties> {
    (
        opt(payload_format()),
        opt(u32_value()),
        opt(nonzero_u16()),
        opt(topic_name(sizes)),
        opt(binary(sizes)),
        opt(mqtt_string(sizes)),
        user_properties(sizes),
        subscription_ids(),
    )
        .prop_map(
            |(format, expiry, alias, response, corr, content, user, sub_ids)| {
                let mut p = PublishProperties::default();
                p.payload_format_indicator = format;
                p.message_expiry_interval = expiry;
                p.topic_alias = alias;
                p.set_response_topic(response).unwrap();
                p.set_correlation_data(corr).unwrap();
                p.set_content_type(content);
                p.set_user_properties(user);
                p.set_subscription_identifiers(sub_ids);
                p
            },
        )
        .boxed()
}

pub fn ack_properties(sizes: Sizes) -> BoxedStrategy<AckProperties> {
    (opt(mqtt_string(sizes)), user_properties(sizes))
        .prop_map(|(reason, user)| {
            let mut p = AckProperties::default();
            p.set_reason_string(reason);
            p.set_user_properties(user);
            p
        })
        .boxed()
}

pub fn subscribe_properties(sizes: Sizes) -> BoxedStrategy<SubscribeProperties> {
    (opt(subscription_id()), user_properties(sizes))
        .prop_map(|(id, user)| {
            let mut p = SubscribeProperties::default();
            p.subscription_identifier = id;
            p.set_user_properties(user);
            p
        })
        .boxed()
}

pub fn unsubscribe_properties(sizes: Sizes) -> BoxedStrategy<UnsubscribeProperties> {
    user_properties(sizes)
        .prop_map(|user| {
            let mut p = UnsubscribeProperties::default();
            p.set_user_properties(user);
            p
        })
        .boxed()
}

pub fn disconnect_properties(sizes: Sizes) -> BoxedStrategy<DisconnectProperties> {
    (
        opt(u32_value()),
        opt(mqtt_string(sizes)),
        opt(mqtt_string(sizes)),
        user_properties(sizes),
    )
        .prop_map(|(expiry, reason, server, user)| {
            let mut p = DisconnectProperties::default();
            p.session_expiry_interval = expiry;
            p.set_reason_string(reason);
            p.set_server_reference(server);
            p.set_user_properties(user);
            p
        })
        .boxed()
}

/// AUTH properties with an Authentication Method, which every AUTH but the empty one needs.
pub fn auth_properties(sizes: Sizes) -> BoxedStrategy<AuthProperties> {
    (
        mqtt_string(sizes),
        opt(binary(sizes)),
        opt(mqtt_string(sizes)),
        user_properties(sizes),
    )
        .prop_map(|(method, data, reason, user)| {
            let mut p = AuthProperties::default();
            p.set_authentication_method(Some(method));
            p.set_authentication_data(data).unwrap();
            p.set_reason_string(reason);
            p.set_user_properties(user);
            p
        })
        .boxed()
}

/// `s` at 5.0, the default (empty) value below.
fn v5_or_default<T: core::fmt::Debug + Clone + Default + 'static>(
    version: ProtocolVersion,
    s: BoxedStrategy<T>,
) -> BoxedStrategy<T> {
    if version.is_v5() {
        s
    } else {
        Just(T::default()).boxed()
    }
}

// ------------------------------------------------------------------------------------------
// Reason codes
// ------------------------------------------------------------------------------------------

/// Every value `from_code` accepts.
fn all_codes<T: Clone + core::fmt::Debug + 'static>(from_code: fn(u8) -> Option<T>) -> Vec<T> {
    (0..=255u8).filter_map(from_code).collect()
}

/// CONNACK codes: all of Table 3-1 at 5.0, the six return codes below.
pub fn connect_reason_code(version: ProtocolVersion) -> BoxedStrategy<ConnectReasonCode> {
    let codes = all_codes(ConnectReasonCode::from_code)
        .into_iter()
        .filter(|c| version.is_v5() || c.v3_return_code().is_some())
        .collect::<Vec<_>>();
    select(codes).boxed()
}

/// SUBACK codes: all at 5.0; the three grants and 0x80 at 3.1.1; the grants at 3.1, whose
/// SUBACK carries only granted QoS levels.
pub fn suback_reason_code(version: ProtocolVersion) -> BoxedStrategy<SubAckReasonCode> {
    let codes = all_codes(SubAckReasonCode::from_code)
        .into_iter()
        .filter(|c| match version {
            ProtocolVersion::V5 => true,
            ProtocolVersion::V3_1_1 => c.is_v3(),
            ProtocolVersion::V3_1 => c.is_v3() && !c.is_error(),
        })
        .collect::<Vec<_>>();
    select(codes).boxed()
}

// ------------------------------------------------------------------------------------------
// Packets
// ------------------------------------------------------------------------------------------

pub fn will(version: ProtocolVersion, sizes: Sizes) -> BoxedStrategy<Will> {
    (
        topic_name(sizes),
        binary(sizes),
        qos(),
        any::<bool>(),
        v5_or_default(version, will_properties(sizes)),
    )
        .prop_map(|(topic, payload, qos, retain, properties)| {
            let payload = if properties.payload_format_indicator == Some(PayloadFormat::Utf8) {
                ascii(&payload)
            } else {
                payload
            };
            Will {
                qos,
                retain,
                properties,
                ..Will::new(topic, payload)
            }
        })
        .boxed()
}

/// UTF-8 (ASCII) bytes of the same length, for payloads declared UTF-8.
fn ascii(bytes: &[u8]) -> Bytes {
    bytes
        .iter()
        .map(|b| b'a' + b % 26)
        .collect::<Vec<_>>()
        .into()
}

pub fn connect(version: ProtocolVersion, sizes: Sizes) -> BoxedStrategy<Packet> {
    // MQTT 3.1 requires 1 to 23 characters; 3.1.1 and 5.0 allow an empty identifier.
    let client_id = if version == V31 {
        text(1, 23)
    } else {
        prop_oneof![
            1 => Just(String::new()),
            6 => text(0, 23),
        ]
        .boxed()
    };
    (
        any::<bool>(),
        u16_value(),
        client_id,
        opt(will(version, sizes)),
        opt(mqtt_string(sizes)),
        opt(binary(sizes)),
        v5_or_default(version, connect_properties(sizes)),
        rl_target(sizes, false),
    )
        .prop_map(
            move |(clean_start, keep_alive, client_id, will, user, password, props, target)| {
                let v5 = version.is_v5();
                let mut c = Connect::new(version, MqttString::new(&client_id).unwrap());
                // Below 5.0 an empty client identifier needs clean start (MQTT-3.1.3-7)...
                c.clean_start = clean_start || (!v5 && client_id.is_empty());
                c.keep_alive = keep_alive;
                c.will = will;
                // ... and a password needs a user name (MQTT-3.1.2-22).
                c.password = password.filter(|_| v5 || user.is_some());
                c.user_name = user;
                c.properties = props;
                if let Some(target) = target {
                    // Size a password (with a user name below 5.0) so that the Remaining
                    // Length is `target`.
                    if !v5 && c.user_name.is_none() {
                        c.user_name = Some(MqttString::from_static("u").unwrap());
                    }
                    c.password = Some(Bytes::new());
                    let base = remaining_length(&Packet::from(c.clone()), version);
                    if let Some(n) = target.checked_sub(base).filter(|&n| n <= 65_535) {
                        c.password = Some(filler(n));
                    }
                }
                Packet::from(c)
            },
        )
        .boxed()
}

pub fn connack(version: ProtocolVersion, sizes: Sizes) -> BoxedStrategy<Packet> {
    (
        any::<bool>(),
        connect_reason_code(version),
        v5_or_default(version, connack_properties(sizes)),
    )
        .prop_map(move |(session_present, reason_code, properties)| {
            Packet::ConnAck(ConnAck {
                // No Session Present in 3.1, nor on a refusal (MQTT-3.2.2-4 / -6).
                session_present: session_present && version != V31 && !reason_code.is_error(),
                reason_code,
                properties,
            })
        })
        .boxed()
}

/// Payloads: mostly short random bytes, sometimes sized for a Remaining Length edge.
pub fn publish(version: ProtocolVersion, sizes: Sizes) -> BoxedStrategy<Packet> {
    let topic = if version.is_v5() {
        // An empty topic name with a Topic Alias, now and then.
        prop_oneof![
            8 => topic_name(sizes).prop_map(Some),
            1 => Just(None),
        ]
        .boxed()
    } else {
        topic_name(sizes).prop_map(Some).boxed()
    };
    (
        any::<bool>(),
        qos(),
        packet_id(),
        any::<bool>(),
        topic,
        vec(any::<u8>(), 0..40),
        v5_or_default(version, publish_properties(sizes)),
        rl_target(sizes, true),
        nonzero_u16(),
    )
        .prop_map(
            move |(dup, qos, id, retain, topic, payload, mut props, target, alias)| {
                let topic = topic.unwrap_or_else(|| {
                    props.topic_alias.get_or_insert(alias);
                    TopicName::default()
                });
                let utf8 = props.payload_format_indicator == Some(PayloadFormat::Utf8);
                let qos = match qos {
                    QoS::AtMostOnce => QosPid::AtMostOnce,
                    QoS::AtLeastOnce => QosPid::AtLeastOnce(id),
                    QoS::ExactlyOnce => QosPid::ExactlyOnce(id),
                };
                let payload = if utf8 {
                    ascii(&payload)
                } else {
                    Bytes::from(payload)
                };
                let mut p = Publish {
                    // DUP only on QoS 1 and 2 (MQTT-3.3.1-2).
                    dup: dup && qos != QosPid::AtMostOnce,
                    qos,
                    retain,
                    properties: props,
                    ..Publish::new(topic, payload)
                };
                if let Some(target) = target {
                    p.payload = Bytes::new();
                    let base = remaining_length(&Packet::Publish(p.clone()), version);
                    p.payload = filler(target.saturating_sub(base));
                }
                Packet::Publish(p)
            },
        )
        .boxed()
}

/// The three forms of a 5.0 acknowledgement: short (Success, no properties), a reason code
/// alone, and a reason code with properties (which may still be empty).
fn ack_parts<R: Clone + core::fmt::Debug + Default + 'static>(
    version: ProtocolVersion,
    sizes: Sizes,
    codes: Vec<R>,
) -> BoxedStrategy<(PacketId, R, AckProperties)> {
    if !version.is_v5() {
        return packet_id()
            .prop_map(|id| (id, R::default(), AckProperties::default()))
            .boxed();
    }
    let code = select(codes);
    prop_oneof![
        1 => packet_id().prop_map(|id| (id, R::default(), AckProperties::default())),
        1 => (packet_id(), code.clone()).prop_map(|(id, rc)| (id, rc, AckProperties::default())),
        3 => (packet_id(), code, ack_properties(sizes)),
    ]
    .boxed()
}

fn pub_ack_like(
    version: ProtocolVersion,
    sizes: Sizes,
    build: fn(PacketId, PubAckReasonCode, AckProperties) -> Packet,
) -> BoxedStrategy<Packet> {
    ack_parts(version, sizes, all_codes(PubAckReasonCode::from_code))
        .prop_map(move |(id, rc, props)| build(id, rc, props))
        .boxed()
}

fn pub_rel_like(
    version: ProtocolVersion,
    sizes: Sizes,
    build: fn(PacketId, PubRelReasonCode, AckProperties) -> Packet,
) -> BoxedStrategy<Packet> {
    ack_parts(version, sizes, all_codes(PubRelReasonCode::from_code))
        .prop_map(move |(id, rc, props)| build(id, rc, props))
        .boxed()
}

pub fn subscription(version: ProtocolVersion) -> BoxedStrategy<Subscription> {
    let handling = select(vec![
        RetainHandling::SendAtSubscribe,
        RetainHandling::SendIfNew,
        RetainHandling::DoNotSend,
    ]);
    (
        topic_filter(version),
        qos(),
        any::<bool>(),
        any::<bool>(),
        handling,
    )
        .prop_map(move |(filter, qos, no_local, rap, rh)| {
            let options = if version.is_v5() {
                SubscriptionOptions {
                    qos,
                    // No Local on a shared subscription is a Protocol Error (MQTT-3.8.3-4).
                    no_local: no_local && !filter.is_shared(),
                    retain_as_published: rap,
                    retain_handling: rh,
                }
            } else {
                SubscriptionOptions {
                    qos,
                    ..SubscriptionOptions::default()
                }
            };
            Subscription { filter, options }
        })
        .boxed()
}

pub fn subscribe(version: ProtocolVersion, sizes: Sizes) -> BoxedStrategy<Packet> {
    (
        packet_id(),
        vec(subscription(version), 1..=4),
        v5_or_default(version, subscribe_properties(sizes)),
    )
        .prop_map(|(id, subscriptions, properties)| {
            Packet::Subscribe(Subscribe {
                properties,
                ..Subscribe::new(id, subscriptions)
            })
        })
        .boxed()
}

/// Extends `codes` cyclically so that `packet` reaches Remaining Length `target` (when it
/// can: a target below the packet's size is ignored).
fn fit_codes<C: Clone>(codes: &mut Vec<C>, target: Option<usize>, rl: impl Fn(&[C]) -> usize) {
    if let Some(target) = target {
        let base = rl(codes);
        if let Some(extra) = target.checked_sub(base) {
            let more: Vec<C> = codes.iter().cycle().take(extra).cloned().collect();
            codes.extend(more);
        }
    }
}

pub fn suback(version: ProtocolVersion, sizes: Sizes) -> BoxedStrategy<Packet> {
    (
        packet_id(),
        vec(suback_reason_code(version), 1..=6),
        v5_or_default(version, ack_properties(sizes)),
        rl_target(sizes, false),
    )
        .prop_map(move |(id, mut codes, properties, target)| {
            let build = |codes: Vec<SubAckReasonCode>| SubAck {
                properties: properties.clone(),
                ..SubAck::new(id, codes)
            };
            fit_codes(&mut codes, target, |c| {
                remaining_length(&Packet::SubAck(build(c.to_vec())), version)
            });
            Packet::SubAck(build(codes))
        })
        .boxed()
}

pub fn unsubscribe(version: ProtocolVersion, sizes: Sizes) -> BoxedStrategy<Packet> {
    (
        packet_id(),
        vec(topic_filter(version), 1..=4),
        v5_or_default(version, unsubscribe_properties(sizes)),
    )
        .prop_map(|(id, filters, properties)| {
            Packet::Unsubscribe(Unsubscribe {
                properties,
                ..Unsubscribe::new(id, filters)
            })
        })
        .boxed()
}

/// UNSUBACK: below 5.0 just the packet identifier (no reason codes, which the decoder
/// gives back as an empty list); at 5.0 one or more reason codes.
pub fn unsuback(version: ProtocolVersion, sizes: Sizes) -> BoxedStrategy<Packet> {
    if !version.is_v5() {
        return packet_id()
            .prop_map(|id| Packet::UnsubAck(UnsubAck::new(id, Vec::new())))
            .boxed();
    }
    (
        packet_id(),
        vec(select(all_codes(UnsubAckReasonCode::from_code)), 1..=6),
        ack_properties(sizes),
        rl_target(sizes, false),
    )
        .prop_map(move |(id, mut codes, properties, target)| {
            let build = |codes: Vec<UnsubAckReasonCode>| UnsubAck {
                properties: properties.clone(),
                ..UnsubAck::new(id, codes)
            };
            fit_codes(&mut codes, target, |c| {
                remaining_length(&Packet::UnsubAck(build(c.to_vec())), version)
            });
            Packet::UnsubAck(build(codes))
        })
        .boxed()
}

/// DISCONNECT: below 5.0 always empty; at 5.0 Remaining Length 0 (normal, no properties),
/// 1 (a reason code alone) or a reason code with properties.
pub fn disconnect(version: ProtocolVersion, sizes: Sizes) -> BoxedStrategy<Packet> {
    if !version.is_v5() {
        return Just(Packet::Disconnect(Disconnect::default())).boxed();
    }
    let code = select(all_codes(DisconnectReasonCode::from_code));
    prop_oneof![
        1 => Just(Disconnect::default()),
        1 => code.clone().prop_map(Disconnect::new),
        3 => (code, disconnect_properties(sizes)).prop_map(|(reason_code, properties)| {
            Disconnect {
                reason_code,
                properties,
            }
        }),
    ]
    .prop_map(Packet::Disconnect)
    .boxed()
}

/// AUTH (5.0 only): Remaining Length 0 (Success, no properties) or a reason code with
/// properties holding the Authentication Method.
pub fn auth(sizes: Sizes) -> BoxedStrategy<Packet> {
    let code = select(all_codes(AuthReasonCode::from_code));
    prop_oneof![
        1 => Just(Auth::default()),
        3 => (code, auth_properties(sizes)).prop_map(|(reason_code, properties)| Auth {
            reason_code,
            properties,
        }),
    ]
    .prop_map(Packet::Auth)
    .boxed()
}

// ------------------------------------------------------------------------------------------
// Helpers shared by the tests
// ------------------------------------------------------------------------------------------

/// The level a packet is encoded at on a connection of `version`: a CONNECT's own.
pub fn encode_version(packet: &Packet, version: ProtocolVersion) -> ProtocolVersion {
    match packet {
        Packet::Connect(c) => c.protocol_version,
        _ => version,
    }
}

/// Encodes a packet that must encode, into a `Vec`.
pub fn encode(packet: &Packet, version: ProtocolVersion) -> Vec<u8> {
    let mut out = Vec::new();
    packet
        .encode(version, &mut out)
        .unwrap_or_else(|e| panic!("generated packet does not encode at {version}: {e}"));
    out
}

/// Upper-case hex of at most the first 64 bytes, for failure messages.
pub fn hex(bytes: &[u8]) -> String {
    let mut s: String = bytes
        .iter()
        .take(64)
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ");
    if bytes.len() > 64 {
        s.push_str(&format!(" ... ({} bytes)", bytes.len()));
    }
    s
}
