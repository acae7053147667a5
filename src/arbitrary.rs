//! [`Arbitrary`] for the packet model (crate feature `arbitrary`), to fuzz mqttwire and the
//! code built on it with structured inputs.
//!
//! # What is generated
//!
//! Every value is valid for its type: it is built through the type's checked constructor,
//! so it holds whatever the type guarantees (an [`MqttString`] never holds U+0000, a
//! [`TopicFilter`] obeys the wildcard rules, a [`PacketId`] or [`SubscriptionId`] is never
//! 0, a [`VarInt`] is at most 268,435,455, a reason code is one its packet may carry).
//! Within that, the generators aim at the edges a codec gets wrong:
//!
//! - **Strings** are drawn piece by piece from a small alphabet: ASCII, two-, three- and
//!   four-byte UTF-8, U+FEFF, control characters, non-characters and the topic separators
//!   `/`, `+` and `#`, now and then any character; often empty, usually short.
//! - **Topic names** are built level by level (empty levels included, `$SYS/` now and then,
//!   no wildcard); the empty name, valid only with a Topic Alias, is rare.
//! - **Topic filters** are built level by level from text, empty levels, `+` and a final
//!   `#`, with `$share/{ShareName}/` and `$SYS/` prefixes; rarely a `$share/` form that
//!   MQTT 5.0 refuses (`$share/g`, `$share//a`, ...), which is still a valid `TopicFilter`
//!   and an ordinary filter in MQTT 3.1.1.
//! - **Numbers** are half the time an edge: 0, 1, the maximum, and the Variable Byte
//!   Integer boundaries 127/128, 16,383/16,384, 2,097,151/2,097,152.
//! - **Property sets** are empty half the time; otherwise each property is present one time
//!   in three. User Properties take their names from a tiny set, so that names repeat;
//!   PUBLISH carries up to five Subscription Identifiers.
//! - **Reason codes** are half the time a common one (success; for CONNACK and SUBACK the
//!   codes MQTT 3.1.1 can carry too; for AUTH its three), otherwise any code the packet may
//!   carry.
//! - **Sizes** stay small, except that now and then a PUBLISH payload or a SUBACK or
//!   UNSUBACK reason code list is sized so that the Remaining Length lands on 127, 128,
//!   16,383, 16,384, 2,097,151 or 2,097,152 bytes at MQTT 3.1.1 or 5.0. Those sizes are
//!   taken only when the input still holds that many bytes: nothing is made larger than
//!   the input that drives it.
//! - **Exhausted input** gives the smallest values: absent options, empty property sets,
//!   the first alternative, the topic `a`.
//!
//! # Valid types, not always encodable packets
//!
//! A generated [`Packet`] is not necessarily encodable at every protocol level, and some
//! are encodable at none; the encoder reports why with an [`EncodeError`](crate::EncodeError)
//! and writes nothing. Among the cases: MQTT 5.0 content (properties, reason codes,
//! subscription options, AUTH) at 3.1 or 3.1.1, an empty topic name without a Topic
//! Alias, DUP on a QoS 0 PUBLISH, a 3.1.1 CONNECT with an empty client identifier and no
//! clean session, No Local on a shared subscription, a Maximum QoS of 2, an AUTH with
//! properties but no Authentication Method, an empty SUBSCRIBE. Most are rare, so that
//! most packets encode at MQTT 5.0 and many at 3.1.1.

use crate::packet::{
    Auth, ConnAck, Connect, Disconnect, Packet, PacketType, PubAck, PubComp, PubRec, PubRel,
    Publish, RetainHandling, SubAck, Subscribe, Subscription, SubscriptionOptions, UnsubAck,
    Unsubscribe, Will,
};
use crate::properties::{
    AckProperties, AuthProperties, ConnAckProperties, ConnectProperties, DisconnectProperties,
    PayloadFormat, PublishProperties, SubscribeProperties, SubscriptionIds, UnsubscribeProperties,
    UserProperties, WillProperties,
};
use crate::types::reason_code::{
    AuthReasonCode, ConnectReasonCode, DisconnectReasonCode, PubAckReasonCode, PubRelReasonCode,
    ReasonCode, SubAckReasonCode, UnsubAckReasonCode,
};
use crate::types::{
    MqttString, PacketId, ProtocolVersion, QoS, QosPid, SubscriptionId, TopicFilter, TopicName,
    VarInt,
};
use ::arbitrary::{Arbitrary, Result, Unstructured};
use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;
use core::num::{NonZeroU16, NonZeroU32};

/// True about once in `n` draws (`n` at least 2); false once the input is exhausted.
fn one_in(u: &mut Unstructured<'_>, n: u8) -> Result<bool> {
    Ok(u8::arbitrary(u)? % n == n - 1)
}

/// `Some` one time in three.
fn maybe<'a, T>(
    u: &mut Unstructured<'a>,
    f: impl FnOnce(&mut Unstructured<'a>) -> Result<T>,
) -> Result<Option<T>> {
    Ok(if one_in(u, 3)? { Some(f(u)?) } else { None })
}

/// Half the time one of `edges`, otherwise `any`.
fn edge_or<'a, T: Copy>(
    u: &mut Unstructured<'a>,
    edges: &[T],
    any: impl FnOnce(&mut Unstructured<'a>) -> Result<T>,
) -> Result<T> {
    if one_in(u, 2)? {
        Ok(*u.choose(edges)?)
    } else {
        any(u)
    }
}

/// The Variable Byte Integer boundaries.
const VARINT_EDGES: [u32; 10] = [
    0,
    1,
    127,
    128,
    16_383,
    16_384,
    2_097_151,
    2_097_152,
    268_435_454,
    VarInt::MAX,
];

/// Remaining Lengths where the Variable Byte Integer grows by a byte.
const RL_EDGES: [usize; 6] = [127, 128, 16_383, 16_384, 2_097_151, 2_097_152];

/// How many more bytes (or one-byte items) a body of `fixed` bytes needs for its Remaining
/// Length to land on an edge: `None` when the edge is behind it or the input cannot pay
/// for that many bytes.
fn rl_edge_fill(u: &mut Unstructured<'_>, fixed: usize) -> Result<Option<usize>> {
    let target = *u.choose(&RL_EDGES)?;
    Ok(target.checked_sub(fixed).filter(|&n| n <= u.len()))
}

/// String pieces: ASCII, multi-byte UTF-8, U+FEFF, controls, non-characters, separators.
const PIECES: [&str; 27] = [
    "a",
    "b",
    "z",
    "0",
    "7",
    "-",
    "_",
    ".",
    " ",
    "$",
    "\u{E9}",     // two bytes
    "\u{DF}",     // two bytes
    "\u{20AC}",   // three bytes
    "\u{4E2D}",   // three bytes
    "\u{FEFF}",   // zero width no-break space, kept as is ([MQTT-1.5.4-3])
    "\u{1F600}",  // four bytes
    "\u{10FFFF}", // four bytes, the last code point
    "\u{1}",      // control characters: well-formed, discouraged
    "\u{1F}",
    "\u{7F}",
    "\u{85}",
    "\u{FFFF}", // non-characters: well-formed, discouraged
    "\u{FDD0}",
    "/",
    "+",
    "#",
    "ab",
];

/// Text without any of `forbid`: short and often empty, rarely up to 512 pieces.
fn text(u: &mut Unstructured<'_>, forbid: &[char]) -> Result<String> {
    let count = if one_in(u, 16)? {
        u.int_in_range(0..=u.len().min(512))?
    } else {
        u.int_in_range(0..=8)?
    };
    let allowed = |p: &&&str| !p.contains(forbid);
    let choices = PIECES.iter().filter(allowed).count();
    let mut s = String::new();
    for _ in 0..count {
        if one_in(u, 16)? {
            let c = char::arbitrary(u)?;
            if c != '\0' && !forbid.contains(&c) {
                s.push(c);
                continue;
            }
        }
        let i = u.choose_index(choices)?;
        if let Some(piece) = PIECES.iter().filter(allowed).nth(i) {
            s.push_str(piece);
        }
    }
    Ok(s)
}

/// Text of at least one character.
fn nonempty_text(u: &mut Unstructured<'_>, forbid: &[char]) -> Result<String> {
    let s = text(u, forbid)?;
    Ok(if s.is_empty() { String::from("a") } else { s })
}

/// Binary data: short and often empty, rarely up to 65,535 bytes.
fn binary(u: &mut Unstructured<'_>) -> Result<Bytes> {
    let len = if one_in(u, 16)? {
        u.int_in_range(0..=u.len().min(usize::from(u16::MAX)))?
    } else {
        u.int_in_range(0..=16)?
    };
    let len = len.min(u.len());
    Ok(Bytes::copy_from_slice(u.bytes(len)?))
}

fn mqtt_string(s: String) -> MqttString {
    MqttString::try_from(s).expect("generated strings are valid MQTT strings")
}

fn any_u32(u: &mut Unstructured<'_>) -> Result<u32> {
    edge_or(u, &[0, 1, 0xFFFF_FFFF], u32::arbitrary)
}

fn any_u16(u: &mut Unstructured<'_>) -> Result<u16> {
    edge_or(u, &[0, 1, 0xFFFF], u16::arbitrary)
}

fn nonzero_u16(u: &mut Unstructured<'_>) -> Result<NonZeroU16> {
    let v = edge_or(u, &[1, 2, 0xFFFF], u16::arbitrary)?;
    Ok(NonZeroU16::new(v).unwrap_or(NonZeroU16::MIN))
}

fn nonzero_u32(u: &mut Unstructured<'_>) -> Result<NonZeroU32> {
    let v = edge_or(u, &[1, 127, 128, 268_435_460, 0xFFFF_FFFF], u32::arbitrary)?;
    Ok(NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN))
}

/// A topic name that is not empty (for the will and the Response Topic), but for a rare
/// empty one.
fn mostly_nonempty_topic(u: &mut Unstructured<'_>) -> Result<TopicName> {
    let topic = TopicName::arbitrary(u)?;
    if topic.is_empty() && !one_in(u, 4)? {
        return Ok(TopicName::from_static("a").expect("a valid topic name"));
    }
    Ok(topic)
}

/// A code `from_code` accepts: half the time one of `preferred`, otherwise any.
fn reason_code<T>(
    u: &mut Unstructured<'_>,
    from_code: fn(u8) -> Option<T>,
    preferred: &[u8],
) -> Result<T> {
    let code = if u8::arbitrary(u)? & 1 == 0 {
        *u.choose(preferred)?
    } else {
        let valid = || (0..=u8::MAX).filter(|&c| from_code(c).is_some());
        let i = u.choose_index(valid().count())?;
        valid().nth(i).expect("an index below the count")
    };
    Ok(from_code(code).expect("a code the packet may carry"))
}

macro_rules! arbitrary_reason_code {
    ($($ty:ident: [$($preferred:literal),+];)+) => {$(
        impl<'a> Arbitrary<'a> for $ty {
            fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
                reason_code(u, $ty::from_code, &[$($preferred),+])
            }
        }
    )+};
}

arbitrary_reason_code! {
    ConnectReasonCode: [0x00, 0x00, 0x00, 0x84, 0x85, 0x86, 0x87, 0x88];
    PubAckReasonCode: [0x00];
    PubRelReasonCode: [0x00];
    SubAckReasonCode: [0x00, 0x01, 0x02, 0x80];
    UnsubAckReasonCode: [0x00];
    DisconnectReasonCode: [0x00];
    AuthReasonCode: [0x00, 0x18, 0x19];
}

/// Any byte: the general reason code is not tied to a packet type.
impl<'a> Arbitrary<'a> for ReasonCode {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(ReasonCode(u8::arbitrary(u)?))
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (1, Some(1))
    }
}

macro_rules! arbitrary_choice {
    ($($ty:ident: [$($value:expr),+];)+) => {$(
        impl<'a> Arbitrary<'a> for $ty {
            fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
                Ok(*u.choose(&[$($value),+])?)
            }

            fn size_hint(_depth: usize) -> (usize, Option<usize>) {
                (1, Some(1))
            }
        }
    )+};
}

arbitrary_choice! {
    ProtocolVersion: [ProtocolVersion::V3_1, ProtocolVersion::V3_1_1, ProtocolVersion::V5];
    QoS: [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce];
    RetainHandling: [
        RetainHandling::SendAtSubscribe,
        RetainHandling::SendIfNew,
        RetainHandling::DoNotSend
    ];
    PayloadFormat: [PayloadFormat::Unspecified, PayloadFormat::Utf8];
    PacketType: [
        PacketType::Connect,
        PacketType::ConnAck,
        PacketType::Publish,
        PacketType::PubAck,
        PacketType::PubRec,
        PacketType::PubRel,
        PacketType::PubComp,
        PacketType::Subscribe,
        PacketType::SubAck,
        PacketType::Unsubscribe,
        PacketType::UnsubAck,
        PacketType::PingReq,
        PacketType::PingResp,
        PacketType::Disconnect,
        PacketType::Auth
    ];
}

impl<'a> Arbitrary<'a> for PacketId {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(PacketId::from(nonzero_u16(u)?))
    }
}

impl<'a> Arbitrary<'a> for QosPid {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match QoS::arbitrary(u)? {
            QoS::AtMostOnce => QosPid::AtMostOnce,
            QoS::AtLeastOnce => QosPid::AtLeastOnce(PacketId::arbitrary(u)?),
            QoS::ExactlyOnce => QosPid::ExactlyOnce(PacketId::arbitrary(u)?),
        })
    }
}

impl<'a> Arbitrary<'a> for VarInt {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let v = edge_or(u, &VARINT_EDGES, |u| u.int_in_range(0..=VarInt::MAX))?;
        Ok(VarInt::new(v).expect("at most VarInt::MAX"))
    }
}

impl<'a> Arbitrary<'a> for SubscriptionId {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let v = edge_or(u, &VARINT_EDGES[1..], |u| u.int_in_range(1..=VarInt::MAX))?;
        Ok(SubscriptionId::new(v).expect("1 to VarInt::MAX"))
    }
}

impl<'a> Arbitrary<'a> for MqttString {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(mqtt_string(text(u, &[])?))
    }
}

impl<'a> Arbitrary<'a> for TopicName {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        if one_in(u, 16)? {
            return Ok(TopicName::default());
        }
        let mut s = String::new();
        if one_in(u, 16)? {
            s.push_str("$SYS/");
        }
        for level in 0..u.int_in_range(1..=4)? {
            if level > 0 {
                s.push('/');
            }
            s.push_str(&text(u, &['/', '+', '#'])?);
        }
        if s.is_empty() {
            s.push('a');
        }
        Ok(TopicName::from_string(mqtt_string(s)).expect("no wildcard in a generated name"))
    }
}

/// A filter that is not a shared subscription: one to four levels, each text, empty, `+`,
/// or (the last) `#`.
fn plain_filter(u: &mut Unstructured<'_>) -> Result<String> {
    let mut s = String::new();
    let levels = u.int_in_range(1..=4)?;
    for level in 0..levels {
        if level > 0 {
            s.push('/');
        }
        match u8::arbitrary(u)? % 8 {
            0 => s.push('+'),
            1 => {}
            2 if level == levels - 1 => s.push('#'),
            _ => s.push_str(&text(u, &['/', '+', '#'])?),
        }
    }
    if s.is_empty() {
        s.push('#');
    }
    Ok(s)
}

impl<'a> Arbitrary<'a> for TopicFilter {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let s = match u8::arbitrary(u)? % 32 {
            24..=29 => {
                let name = nonempty_text(u, &['/', '+', '#'])?;
                alloc::format!("$share/{name}/{}", plain_filter(u)?)
            }
            30 => alloc::format!("$SYS/{}", plain_filter(u)?),
            // Valid filters that MQTT 5.0 refuses as shared subscriptions.
            31 => String::from(*u.choose(&[
                "$share/",
                "$share/g",
                "$share//a",
                "$share/g/",
                "$share/+/a",
            ])?),
            _ => plain_filter(u)?,
        };
        Ok(TopicFilter::from_string(mqtt_string(s)).expect("generated filters obey the rules"))
    }
}

impl<'a> Arbitrary<'a> for UserProperties {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut pairs = Vec::new();
        for _ in 0..u.int_in_range(0..=5)? {
            let name = if one_in(u, 2)? {
                // A tiny set, so that names repeat.
                MqttString::from_static(u.choose(&["k", "k", "region", "", "\u{FEFF}k\u{E9}"])?)
                    .expect("valid names")
            } else {
                MqttString::arbitrary(u)?
            };
            pairs.push((name, MqttString::arbitrary(u)?));
        }
        Ok(pairs.into_iter().collect())
    }
}

impl<'a> Arbitrary<'a> for SubscriptionIds {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut ids = Vec::new();
        for _ in 0..u.int_in_range(0..=5)? {
            ids.push(SubscriptionId::arbitrary(u)?);
        }
        Ok(ids.into_iter().collect())
    }
}

fn user_properties(u: &mut Unstructured<'_>) -> Result<UserProperties> {
    Ok(maybe(u, UserProperties::arbitrary)?.unwrap_or_default())
}

fn string(u: &mut Unstructured<'_>) -> Result<MqttString> {
    MqttString::arbitrary(u)
}

fn flag(u: &mut Unstructured<'_>) -> Result<bool> {
    bool::arbitrary(u)
}

impl<'a> Arbitrary<'a> for ConnectProperties {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        if !one_in(u, 2)? {
            return Ok(Self::default());
        }
        let mut p = Self {
            session_expiry_interval: maybe(u, any_u32)?,
            receive_maximum: maybe(u, nonzero_u16)?,
            maximum_packet_size: maybe(u, nonzero_u32)?,
            topic_alias_maximum: maybe(u, any_u16)?,
            request_response_information: maybe(u, flag)?,
            request_problem_information: maybe(u, flag)?,
            ..Self::default()
        };
        p.set_authentication_method(maybe(u, string)?);
        p.set_user_properties(user_properties(u)?);
        // Authentication Data needs a method: only rarely without one.
        if p.authentication_method().is_some() || one_in(u, 16)? {
            p.set_authentication_data(maybe(u, binary)?).unwrap();
        }
        Ok(p)
    }
}

impl<'a> Arbitrary<'a> for WillProperties {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        if !one_in(u, 2)? {
            return Ok(Self::default());
        }
        let mut p = Self {
            will_delay_interval: maybe(u, any_u32)?,
            payload_format_indicator: maybe(u, PayloadFormat::arbitrary)?,
            message_expiry_interval: maybe(u, any_u32)?,
            ..Self::default()
        };
        p.set_content_type(maybe(u, string)?);
        // An empty Response Topic, which the setter refuses, is left out.
        let _ = p.set_response_topic(maybe(u, mostly_nonempty_topic)?);
        let _ = p.set_correlation_data(maybe(u, binary)?);
        p.set_user_properties(user_properties(u)?);
        Ok(p)
    }
}

impl<'a> Arbitrary<'a> for ConnAckProperties {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        if !one_in(u, 2)? {
            return Ok(Self::default());
        }
        let mut p = Self {
            session_expiry_interval: maybe(u, any_u32)?,
            receive_maximum: maybe(u, nonzero_u16)?,
            // 0 or 1; 2 (which must be left out instead) only rarely.
            maximum_qos: maybe(u, |u| {
                Ok(if one_in(u, 16)? {
                    QoS::ExactlyOnce
                } else {
                    *u.choose(&[QoS::AtMostOnce, QoS::AtLeastOnce])?
                })
            })?,
            retain_available: maybe(u, flag)?,
            maximum_packet_size: maybe(u, nonzero_u32)?,
            topic_alias_maximum: maybe(u, any_u16)?,
            wildcard_subscription_available: maybe(u, flag)?,
            subscription_identifier_available: maybe(u, flag)?,
            shared_subscription_available: maybe(u, flag)?,
            server_keep_alive: maybe(u, any_u16)?,
            ..Self::default()
        };
        p.set_assigned_client_identifier(maybe(u, string)?);
        p.set_reason_string(maybe(u, string)?);
        p.set_response_information(maybe(u, string)?);
        p.set_server_reference(maybe(u, string)?);
        p.set_authentication_method(maybe(u, string)?);
        let _ = p.set_authentication_data(maybe(u, binary)?);
        p.set_user_properties(user_properties(u)?);
        Ok(p)
    }
}

impl<'a> Arbitrary<'a> for PublishProperties {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        if !one_in(u, 2)? {
            return Ok(Self::default());
        }
        let mut p = Self {
            payload_format_indicator: maybe(u, PayloadFormat::arbitrary)?,
            message_expiry_interval: maybe(u, any_u32)?,
            topic_alias: maybe(u, nonzero_u16)?,
            ..Self::default()
        };
        // An empty Response Topic, which the setter refuses, is left out.
        let _ = p.set_response_topic(maybe(u, mostly_nonempty_topic)?);
        let _ = p.set_correlation_data(maybe(u, binary)?);
        p.set_content_type(maybe(u, string)?);
        p.set_user_properties(user_properties(u)?);
        p.set_subscription_identifiers(maybe(u, SubscriptionIds::arbitrary)?.unwrap_or_default());
        Ok(p)
    }
}

impl<'a> Arbitrary<'a> for AckProperties {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        if !one_in(u, 2)? {
            return Ok(Self::default());
        }
        let mut p = Self { ..Self::default() };
        p.set_reason_string(maybe(u, string)?);
        p.set_user_properties(user_properties(u)?);
        Ok(p)
    }
}

impl<'a> Arbitrary<'a> for SubscribeProperties {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        if !one_in(u, 2)? {
            return Ok(Self::default());
        }
        let mut p = Self {
            subscription_identifier: maybe(u, SubscriptionId::arbitrary)?,
            ..Self::default()
        };
        p.set_user_properties(user_properties(u)?);
        Ok(p)
    }
}

impl<'a> Arbitrary<'a> for UnsubscribeProperties {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        if !one_in(u, 2)? {
            return Ok(Self::default());
        }
        let mut p = Self { ..Self::default() };
        p.set_user_properties(user_properties(u)?);
        Ok(p)
    }
}

impl<'a> Arbitrary<'a> for DisconnectProperties {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        if !one_in(u, 2)? {
            return Ok(Self::default());
        }
        let mut p = Self {
            session_expiry_interval: maybe(u, any_u32)?,
            ..Self::default()
        };
        p.set_reason_string(maybe(u, string)?);
        p.set_server_reference(maybe(u, string)?);
        p.set_user_properties(user_properties(u)?);
        Ok(p)
    }
}

impl<'a> Arbitrary<'a> for AuthProperties {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        if !one_in(u, 2)? {
            return Ok(Self::default());
        }
        let mut p = Self { ..Self::default() };
        p.set_authentication_method(maybe(u, string)?);
        let _ = p.set_authentication_data(maybe(u, binary)?);
        p.set_reason_string(maybe(u, string)?);
        p.set_user_properties(user_properties(u)?);
        Ok(p)
    }
}

impl<'a> Arbitrary<'a> for Will {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(Will {
            topic: mostly_nonempty_topic(u)?,
            payload: binary(u)?,
            qos: QoS::arbitrary(u)?,
            retain: flag(u)?,
            properties: WillProperties::arbitrary(u)?,
        })
    }
}

impl<'a> Arbitrary<'a> for Connect {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let protocol_version = ProtocolVersion::arbitrary(u)?;
        let v5 = protocol_version.is_v5();
        // Properties below 5.0 cannot be encoded: only rarely.
        let v5_content = |u: &mut Unstructured<'a>| -> Result<bool> { Ok(v5 || one_in(u, 16)?) };
        let clean_start = !one_in(u, 4)?;
        let keep_alive = edge_or(u, &[0, 60, 0xFFFF], u16::arbitrary)?;
        let client_id = MqttString::arbitrary(u)?;
        let will = if one_in(u, 3)? {
            let mut will = Will::arbitrary(u)?;
            if !v5_content(u)? {
                will.properties = WillProperties::default();
            }
            Some(will)
        } else {
            None
        };
        let user_name = maybe(u, string)?;
        // Below 5.0 a password needs a user name: only rarely without one.
        let password = if user_name.is_some() || v5 || one_in(u, 16)? {
            maybe(u, binary)?
        } else {
            None
        };
        let properties = if v5_content(u)? {
            ConnectProperties::arbitrary(u)?
        } else {
            ConnectProperties::default()
        };
        Ok(Connect {
            protocol_version,
            clean_start,
            keep_alive,
            client_id,
            will,
            user_name,
            password,
            properties,
        })
    }
}

impl<'a> Arbitrary<'a> for ConnAck {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let reason_code = ConnectReasonCode::arbitrary(u)?;
        // Session Present on a refusal is unencodable: only rarely.
        let session_present = if reason_code.is_error() {
            one_in(u, 32)?
        } else {
            flag(u)?
        };
        Ok(ConnAck {
            session_present,
            reason_code,
            properties: ConnAckProperties::arbitrary(u)?,
        })
    }
}

impl<'a> Arbitrary<'a> for Publish {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let qos = QosPid::arbitrary(u)?;
        // DUP on QoS 0 is unencodable: only rarely.
        let dup = if qos == QosPid::AtMostOnce {
            one_in(u, 32)?
        } else {
            flag(u)?
        };
        let retain = flag(u)?;
        let topic = TopicName::arbitrary(u)?;
        let mut properties = PublishProperties::arbitrary(u)?;
        // An empty topic name needs a Topic Alias: mostly give it one.
        if topic.is_empty() && properties.topic_alias.is_none() && !one_in(u, 8)? {
            properties.topic_alias = Some(nonzero_u16(u)?);
        }
        let payload = if one_in(u, 12)? {
            // Land the Remaining Length on an edge, at 5.0 or (without properties) 3.1.1.
            let mut fixed =
                topic.as_mqtt_str().wire_len() + 2 * usize::from(qos != QosPid::AtMostOnce);
            if !properties.is_empty() || flag(u)? {
                fixed += properties.as_view().wire_len(crate::wire::Trim::Nothing);
            }
            match rl_edge_fill(u, fixed)? {
                Some(n) => Bytes::copy_from_slice(u.bytes(n)?),
                None => binary(u)?,
            }
        } else {
            binary(u)?
        };
        Ok(Publish {
            dup,
            qos,
            retain,
            topic,
            payload,
            properties,
        })
    }
}

macro_rules! arbitrary_ack {
    ($($ty:ident: $reason:ident;)+) => {$(
        impl<'a> Arbitrary<'a> for $ty {
            fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
                Ok($ty {
                    packet_id: PacketId::arbitrary(u)?,
                    reason_code: $reason::arbitrary(u)?,
                    properties: AckProperties::arbitrary(u)?,
                })
            }
        }
    )+};
}

arbitrary_ack! {
    PubAck: PubAckReasonCode;
    PubRec: PubAckReasonCode;
    PubRel: PubRelReasonCode;
    PubComp: PubRelReasonCode;
}

impl<'a> Arbitrary<'a> for SubscriptionOptions {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let qos = QoS::arbitrary(u)?;
        // The 5.0-only options half the time, so that many SUBSCRIBEs suit 3.1.1 too.
        if !one_in(u, 2)? {
            return Ok(SubscriptionOptions {
                qos,
                ..SubscriptionOptions::default()
            });
        }
        Ok(SubscriptionOptions {
            qos,
            no_local: flag(u)?,
            retain_as_published: flag(u)?,
            retain_handling: RetainHandling::arbitrary(u)?,
        })
    }
}

impl<'a> Arbitrary<'a> for Subscription {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let filter = TopicFilter::arbitrary(u)?;
        let mut options = SubscriptionOptions::arbitrary(u)?;
        // No Local on a shared subscription is a Protocol Error: only rarely.
        if filter.is_shared() && options.no_local && !one_in(u, 8)? {
            options.no_local = false;
        }
        Ok(Subscription { filter, options })
    }
}

/// How many entries a list that must not be empty gets: one to four, rarely none.
fn list_len(u: &mut Unstructured<'_>) -> Result<usize> {
    if one_in(u, 32)? {
        return Ok(0);
    }
    u.int_in_range(1..=4)
}

impl<'a> Arbitrary<'a> for Subscribe {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let packet_id = PacketId::arbitrary(u)?;
        let properties = SubscribeProperties::arbitrary(u)?;
        let mut subscriptions = Vec::new();
        for _ in 0..list_len(u)? {
            subscriptions.push(Subscription::arbitrary(u)?);
        }
        Ok(Subscribe {
            packet_id,
            subscriptions: subscriptions.into(),
            properties,
        })
    }
}

/// The length of a SUBACK or UNSUBACK reason code list: usually one to four, now and then
/// enough for the Remaining Length to land on an edge.
fn code_list_len(u: &mut Unstructured<'_>, properties: &AckProperties) -> Result<usize> {
    if one_in(u, 12)? {
        let mut fixed = 2;
        if !properties.is_empty() || flag(u)? {
            fixed += properties.as_view().wire_len(crate::wire::Trim::Nothing);
        }
        if let Some(n) = rl_edge_fill(u, fixed)? {
            return Ok(n);
        }
    }
    list_len(u)
}

impl<'a> Arbitrary<'a> for SubAck {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let packet_id = PacketId::arbitrary(u)?;
        let properties = AckProperties::arbitrary(u)?;
        let mut reason_codes = Vec::new();
        for _ in 0..code_list_len(u, &properties)? {
            reason_codes.push(SubAckReasonCode::arbitrary(u)?);
        }
        Ok(SubAck {
            packet_id,
            reason_codes,
            properties,
        })
    }
}

impl<'a> Arbitrary<'a> for UnsubAck {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let packet_id = PacketId::arbitrary(u)?;
        let properties = AckProperties::arbitrary(u)?;
        let len = code_list_len(u, &properties)?;
        // All Success a third of the time: the only list MQTT 3.1.1 can encode.
        let reason_codes = if one_in(u, 3)? {
            alloc::vec![UnsubAckReasonCode::Success; len]
        } else {
            let mut codes = Vec::new();
            for _ in 0..len {
                codes.push(UnsubAckReasonCode::arbitrary(u)?);
            }
            codes
        };
        Ok(UnsubAck {
            packet_id,
            reason_codes,
            properties,
        })
    }
}

impl<'a> Arbitrary<'a> for Unsubscribe {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let packet_id = PacketId::arbitrary(u)?;
        let properties = UnsubscribeProperties::arbitrary(u)?;
        let mut filters = Vec::new();
        for _ in 0..list_len(u)? {
            filters.push(TopicFilter::arbitrary(u)?);
        }
        Ok(Unsubscribe {
            packet_id,
            filters: filters.into(),
            properties,
        })
    }
}

impl<'a> Arbitrary<'a> for Disconnect {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(Disconnect {
            reason_code: DisconnectReasonCode::arbitrary(u)?,
            properties: DisconnectProperties::arbitrary(u)?,
        })
    }
}

impl<'a> Arbitrary<'a> for Auth {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let reason_code = AuthReasonCode::arbitrary(u)?;
        let mut properties = AuthProperties::arbitrary(u)?;
        // Anything but a bare Success needs an Authentication Method: mostly give it one.
        let bare = reason_code == AuthReasonCode::Success && properties.is_empty();
        if !bare && properties.authentication_method().is_none() && !one_in(u, 16)? {
            properties.set_authentication_method(Some(MqttString::arbitrary(u)?));
        }
        Ok(Auth {
            reason_code,
            properties,
        })
    }
}

impl<'a> Arbitrary<'a> for Packet {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match u.choose_index(15)? {
            0 => Connect::arbitrary(u)?.into(),
            1 => Packet::ConnAck(ConnAck::arbitrary(u)?),
            2 => Packet::Publish(Publish::arbitrary(u)?),
            3 => Packet::PubAck(PubAck::arbitrary(u)?),
            4 => Packet::PubRec(PubRec::arbitrary(u)?),
            5 => Packet::PubRel(PubRel::arbitrary(u)?),
            6 => Packet::PubComp(PubComp::arbitrary(u)?),
            7 => Packet::Subscribe(Subscribe::arbitrary(u)?),
            8 => Packet::SubAck(SubAck::arbitrary(u)?),
            9 => Packet::Unsubscribe(Unsubscribe::arbitrary(u)?),
            10 => Packet::UnsubAck(UnsubAck::arbitrary(u)?),
            11 => Packet::PingReq,
            12 => Packet::PingResp,
            13 => Packet::Disconnect(Disconnect::arbitrary(u)?),
            _ => Packet::Auth(Auth::arbitrary(u)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;

    const V5: ProtocolVersion = ProtocolVersion::V5;

    /// xorshift64*: a deterministic source of pseudo-random input bytes.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn bytes(&mut self, n: usize) -> Vec<u8> {
            (0..n).map(|_| (self.next() >> 32) as u8).collect()
        }
    }

    /// The Remaining Length of an encoded packet.
    fn remaining_length(frame: &[u8]) -> usize {
        let mut value = 0;
        for (i, b) in frame[1..].iter().take(4).enumerate() {
            value += usize::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                break;
            }
        }
        value
    }

    #[test]
    fn generated_packets_that_encode_at_v5_decode_back_equal() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        // One large pool of input, read through windows of assorted sizes.
        let pool = rng.bytes(1 << 20);
        let mut encodable = 0;
        let mut types = [0usize; 16];
        let mut repeated_user_property_names = 0;
        let mut several_subscription_ids = 0;
        let mut multibyte_topics = 0;
        let rounds = 6000;
        for round in 0..rounds {
            let len = if round % 8 == 0 {
                rng.below(20_000)
            } else {
                rng.below(400)
            };
            let start = rng.below(pool.len() - len);
            let mut u = Unstructured::new(&pool[start..start + len]);
            let packet = Packet::arbitrary(&mut u).expect("the generators never fail");
            let Ok(expected_len) = packet.encoded_len(V5) else {
                let mut buf = BytesMut::new();
                assert!(packet.encode(V5, &mut buf).is_err(), "{packet:?}");
                assert!(buf.is_empty());
                continue;
            };
            let mut buf = BytesMut::new();
            let written = packet
                .encode(V5, &mut buf)
                .expect("encoded_len said it encodes");
            assert_eq!(written, expected_len, "{packet:?}");
            assert_eq!(buf.len(), written, "{packet:?}");
            let frame = buf.freeze();
            let (decoded, used) = Packet::decode(&frame, V5)
                .unwrap_or_else(|e| panic!("{packet:?} encoded as {frame:02x?}: {e}"));
            assert_eq!(used, written, "{packet:?}");
            assert_eq!(decoded, packet, "encoded as {frame:02x?}");

            encodable += 1;
            types[packet.packet_type() as usize] += 1;
            if let Packet::Publish(p) = &packet {
                let users = p.properties.user_properties();
                let names: Vec<&str> = users.iter().map(|(n, _)| n).collect();
                if (1..names.len()).any(|i| names[..i].contains(&names[i])) {
                    repeated_user_property_names += 1;
                }
                if p.properties.subscription_identifiers().len() >= 2 {
                    several_subscription_ids += 1;
                }
                if p.topic.chars().any(|c| c.len_utf8() > 1) {
                    multibyte_topics += 1;
                }
            }
        }
        // Most generated packets are encodable at 5.0, and every type is among them.
        assert!(
            encodable * 10 > rounds * 7,
            "only {encodable} of {rounds} encodable"
        );
        for t in 1..=15 {
            let name = PacketType::from_bits(t).unwrap().name();
            assert!(types[usize::from(t)] > 0, "no {name} encoded");
        }
        // The generators reach the edges they promise.
        assert!(repeated_user_property_names > 0);
        assert!(several_subscription_ids > 0);
        assert!(multibyte_topics > 0);
    }

    #[test]
    fn sizes_reach_the_remaining_length_edges() {
        let mut rng = Rng(42);
        let pool = rng.bytes(1 << 16);
        let mut seen = Vec::new();
        for round in 0..3000 {
            let len = 16_500 + rng.below(3000);
            let start = rng.below(pool.len() - len);
            let mut u = Unstructured::new(&pool[start..start + len]);
            let packet = match round % 3 {
                0 => Packet::Publish(Publish::arbitrary(&mut u).unwrap()),
                1 => Packet::SubAck(SubAck::arbitrary(&mut u).unwrap()),
                _ => Packet::UnsubAck(UnsubAck::arbitrary(&mut u).unwrap()),
            };
            for version in [ProtocolVersion::V3_1_1, V5] {
                let mut buf = BytesMut::new();
                if packet.encode(version, &mut buf).is_ok() {
                    let rl = remaining_length(&buf);
                    if RL_EDGES.contains(&rl) && !seen.contains(&(rl, version)) {
                        seen.push((rl, version));
                    }
                }
            }
        }
        for rl in [127, 128, 16_383, 16_384] {
            for version in [ProtocolVersion::V3_1_1, V5] {
                assert!(
                    seen.contains(&(rl, version)),
                    "no Remaining Length {rl} at {version}"
                );
            }
        }
    }

    #[test]
    fn generated_values_are_valid_for_their_types() {
        let mut rng = Rng(7);
        let pool = rng.bytes(1 << 16);
        let (mut shared, mut multi_level, mut single_level, mut feff) = (0, 0, 0, 0);
        for _ in 0..5000 {
            let len = rng.below(64);
            let start = rng.below(pool.len() - len);
            let mut u = Unstructured::new(&pool[start..start + len]);
            let filter = TopicFilter::arbitrary(&mut u).unwrap();
            assert!(TopicFilter::new(filter.as_str()).is_ok(), "{filter:?}");
            shared += usize::from(matches!(filter.shared_parts(), Ok(Some(_))));
            multi_level += usize::from(filter.ends_with('#'));
            single_level += usize::from(filter.split('/').any(|l| l == "+"));
            let name = TopicName::arbitrary(&mut u).unwrap();
            assert!(TopicName::new(name.as_str()).is_ok(), "{name:?}");
            let s = MqttString::arbitrary(&mut u).unwrap();
            assert!(!s.contains('\0'));
            feff += usize::from(s.contains('\u{FEFF}'));
            let id = SubscriptionId::arbitrary(&mut u).unwrap();
            assert!((1..=VarInt::MAX).contains(&id.get()));
            assert!(VarInt::arbitrary(&mut u).unwrap().get() <= VarInt::MAX);
        }
        assert!(shared > 0 && multi_level > 0 && single_level > 0 && feff > 0);
    }

    #[test]
    fn exhausted_input_gives_the_smallest_packets() {
        let mut u = Unstructured::new(&[]);
        let packet = Packet::arbitrary(&mut u).unwrap();
        let Packet::Connect(connect) = &packet else {
            panic!("{packet:?}")
        };
        assert!(connect.will.is_none() && connect.properties.is_empty());
        let mut u = Unstructured::new(&[]);
        assert_eq!(TopicName::arbitrary(&mut u).unwrap(), "a");
    }
}
