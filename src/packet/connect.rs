//! CONNECT: the client's request to connect (MQTT 5.0 section 3.1, 3.1.1 section 3.1).
//!
//! ```text
//! fixed header    0x10, Remaining Length
//! variable header Protocol Name   string "MQTT" (levels 4, 5) or "MQIsdp" (level 3)
//!                 Protocol Level  byte 3, 4 or 5
//!                 Connect Flags   byte: 7 user name, 6 password, 5 will retain,
//!                                 4-3 will QoS, 2 will flag, 1 clean start, 0 reserved (0)
//!                 Keep Alive      two-byte integer, seconds
//!                 Properties      (5.0 only)
//! payload         Client Identifier string
//!                 Will Properties (5.0 only), Will Topic string, Will Payload binary   if will flag
//!                 User Name string                                                     if user name flag
//!                 Password binary                                                      if password flag
//! ```

use super::{v5_only, EncodeBody};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::properties::check_binary;
#[cfg(feature = "alloc")]
use crate::properties::{ConnectProperties, WillProperties};
use crate::properties::{ConnectPropertiesRef, WillPropertiesRef};
#[cfg(feature = "alloc")]
use crate::types::string::slice_of;
use crate::types::PacketType;
use crate::types::{InvalidTopic, MqttStr, ProtocolVersion, QoS, TopicStr};
#[cfg(feature = "alloc")]
use crate::types::{MqttString, TopicName};
use crate::wire::reader::Reader;
use crate::wire::writer::Sink;
use crate::wire::writer::{put_binary, put_str};
use crate::wire::Trim;
#[cfg(feature = "alloc")]
use bytes::Bytes;

const USER_NAME: u8 = 0x80;
const PASSWORD: u8 = 0x40;
const WILL_RETAIN: u8 = 0x20;
const WILL_QOS_SHIFT: u8 = 3;
const WILL_FLAG: u8 = 0x04;
const CLEAN_START: u8 = 0x02;
const RESERVED: u8 = 0x01;

#[cfg(feature = "alloc")]
/// CONNECT: the first packet a client sends on a connection.
///
/// ```
/// use mqttwire::{Connect, MqttString, ProtocolVersion};
///
/// let mut connect = Connect::new(ProtocolVersion::V5, MqttString::new("sensor-17").unwrap());
/// connect.keep_alive = 30;
/// connect.user_name = Some(MqttString::new("alice").unwrap());
/// connect.password = Some(bytes::Bytes::from_static(b"secret"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// The protocol level the CONNECT declares; the whole connection speaks it.
    pub protocol_version: ProtocolVersion,
    /// Clean Start (5.0) or Clean Session (3.1.1): discard any existing session.
    pub clean_start: bool,
    /// Keep Alive, seconds; 0 turns keep alive off.
    pub keep_alive: u16,
    /// Client Identifier; may be empty for the server to assign one. At MQTT 3.1.1 an empty
    /// one needs `clean_start`: the encoder refuses it otherwise ([MQTT-3.1.3-7]). MQTT 3.1
    /// has no assigned identifiers: there it is 1 to 23 characters, and the encoder refuses
    /// any other. The decoder accepts both, so that a server can answer with return code 2
    /// ([MQTT-3.1.3-8]).
    pub client_id: MqttString,
    /// The will message.
    pub will: Option<Will>,
    /// User Name.
    pub user_name: Option<MqttString>,
    /// Password, binary. Before MQTT 5.0 it needs a user name ([MQTT-3.1.2-22]).
    pub password: Option<Bytes>,
    /// Properties (MQTT 5.0).
    pub properties: ConnectProperties,
}

#[cfg(feature = "alloc")]
/// The will message the server publishes when the connection ends without a DISCONNECT
/// that discards it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Will {
    /// Will Topic; not empty, no wildcards.
    pub topic: TopicName,
    /// Will Payload, at most 65,535 bytes.
    pub payload: Bytes,
    /// Will QoS.
    pub qos: QoS,
    /// Will Retain.
    pub retain: bool,
    /// Will Properties (MQTT 5.0).
    pub properties: WillProperties,
}

#[cfg(feature = "alloc")]
impl Will {
    /// A QoS 0, non-retained will.
    #[must_use]
    pub fn new(topic: TopicName, payload: impl Into<Bytes>) -> Self {
        Self {
            topic,
            payload: payload.into(),
            qos: QoS::AtMostOnce,
            retain: false,
            properties: WillProperties::default(),
        }
    }

    fn detach(&self) -> Self {
        Self {
            topic: self.topic.detach(),
            payload: Bytes::copy_from_slice(&self.payload),
            qos: self.qos,
            retain: self.retain,
            properties: self.properties.detach(),
        }
    }
}

#[cfg(feature = "alloc")]
impl Connect {
    /// A clean-start CONNECT with keep alive 60 s and nothing else set.
    #[must_use]
    pub fn new(protocol_version: ProtocolVersion, client_id: MqttString) -> Self {
        Self {
            protocol_version,
            clean_start: true,
            keep_alive: 60,
            client_id,
            will: None,
            user_name: None,
            password: None,
            properties: ConnectProperties::default(),
        }
    }

    pub(crate) fn detach(&self) -> Self {
        Self {
            protocol_version: self.protocol_version,
            clean_start: self.clean_start,
            keep_alive: self.keep_alive,
            client_id: self.client_id.detach(),
            will: self.will.as_ref().map(Will::detach),
            user_name: self.user_name.as_ref().map(MqttString::detach),
            password: self.password.as_deref().map(Bytes::copy_from_slice),
            properties: self.properties.detach(),
        }
    }
}

/// Names the rule that requires a field when the packet ends before it; any other error
/// (a bad string, a duplicate property, ...) keeps its own rule or none.
fn missing(tag: &'static str) -> impl Fn(DecodeError) -> DecodeError {
    move |e| e.when_missing(tag)
}

/// CONNECT as a borrowed view of the received bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectRef<'a> {
    /// The protocol level the CONNECT declares.
    pub protocol_version: ProtocolVersion,
    /// Clean Start (5.0) or Clean Session (3.1.1).
    pub clean_start: bool,
    /// Keep Alive, seconds; 0 turns keep alive off.
    pub keep_alive: u16,
    /// Client Identifier; may be empty.
    pub client_id: MqttStr<'a>,
    /// The will message.
    pub will: Option<WillRef<'a>>,
    /// User Name.
    pub user_name: Option<MqttStr<'a>>,
    /// Password, binary.
    pub password: Option<&'a [u8]>,
    /// Properties (MQTT 5.0).
    pub properties: ConnectPropertiesRef<'a>,
}

/// The will message of a [`ConnectRef`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WillRef<'a> {
    /// Will Topic; not empty, no wildcards.
    pub topic: TopicStr<'a>,
    /// Will Payload.
    pub payload: &'a [u8],
    /// Will QoS.
    pub qos: QoS,
    /// Will Retain.
    pub retain: bool,
    /// Will Properties (MQTT 5.0).
    pub properties: WillPropertiesRef<'a>,
}

impl<'a> ConnectRef<'a> {
    fn flags_byte(&self) -> u8 {
        let mut flags = 0;
        if self.clean_start {
            flags |= CLEAN_START;
        }
        if let Some(will) = &self.will {
            flags |= WILL_FLAG | will.qos.bits() << WILL_QOS_SHIFT;
            if will.retain {
                flags |= WILL_RETAIN;
            }
        }
        if self.user_name.is_some() {
            flags |= USER_NAME;
        }
        if self.password.is_some() {
            flags |= PASSWORD;
        }
        flags
    }

    /// Decodes the body; sets `r.version` to the level the packet declares.
    pub(crate) fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let name = r.binary("protocol name")?;
        let level = r.u8("protocol level")?;
        let named = |v: ProtocolVersion| name == v.protocol_name().as_bytes();
        if !named(ProtocolVersion::V3_1) && !named(ProtocolVersion::V5) {
            return Err(
                DecodeError::new(DecodeErrorKind::InvalidProtocolName { level })
                    .with_rule("MQTT-3.1.2-1"),
            );
        }
        let version = ProtocolVersion::from_level(level).ok_or_else(|| {
            DecodeError::new(DecodeErrorKind::UnsupportedProtocolVersion { level })
                .with_rule("MQTT-3.1.2-2")
        })?;
        if !named(version) {
            return Err(
                DecodeError::new(DecodeErrorKind::InvalidProtocolName { level })
                    .with_rule("MQTT-3.1.2-1"),
            );
        }
        r.version = version;

        let flags = r.u8("connect flags")?;
        if flags & RESERVED != 0 {
            return Err(
                DecodeError::new(DecodeErrorKind::ConnectReservedFlag).with_rule("MQTT-3.1.2-3")
            );
        }
        let will_flag = flags & WILL_FLAG != 0;
        let will_qos_bits = (flags >> WILL_QOS_SHIFT) & 0b11;
        let will_retain = flags & WILL_RETAIN != 0;
        if will_flag && will_qos_bits == 3 {
            return Err(
                DecodeError::new(DecodeErrorKind::InvalidQoS { field: "will QoS" })
                    .with_rule(r.tag("MQTT-3.1.2-14", "MQTT-3.1.2-12")),
            );
        }
        if !will_flag && will_qos_bits != 0 {
            return Err(DecodeError::new(DecodeErrorKind::WillFieldsWithoutWill)
                .with_rule(r.tag("MQTT-3.1.2-13", "MQTT-3.1.2-11")));
        }
        if !will_flag && will_retain {
            return Err(DecodeError::new(DecodeErrorKind::WillFieldsWithoutWill)
                .with_rule(r.tag("MQTT-3.1.2-15", "MQTT-3.1.2-13")));
        }
        let has_user = flags & USER_NAME != 0;
        let has_password = flags & PASSWORD != 0;
        if has_password && !has_user && !version.is_v5() {
            return Err(DecodeError::new(DecodeErrorKind::PasswordWithoutUserName)
                .with_rule("MQTT-3.1.2-22"));
        }
        let keep_alive = r.u16("keep alive")?;
        let properties = if version.is_v5() {
            let p = ConnectPropertiesRef::decode(r)?;
            if p.authentication_data().is_some() && p.authentication_method().is_none() {
                return Err(DecodeErrorKind::AuthenticationDataWithoutMethod.into());
            }
            p
        } else {
            ConnectPropertiesRef::default()
        };

        let client_id = r
            .string("client identifier")
            .map_err(missing("MQTT-3.1.3-3"))?;
        let will = if will_flag {
            Some(decode_will(r, will_qos_bits, will_retain)?)
        } else {
            None
        };
        let user_name = if has_user {
            let rule = r.tag("MQTT-3.1.2-19", "MQTT-3.1.2-17");
            Some(r.string("user name").map_err(missing(rule))?)
        } else {
            None
        };
        let password = if has_password {
            let rule = r.tag("MQTT-3.1.2-21", "MQTT-3.1.2-19");
            Some(r.binary("password").map_err(missing(rule))?)
        } else {
            None
        };
        // Bytes after the last field the flags announce: a field whose flag is clear. After
        // a password no such field can follow, so no flag rule is broken.
        let rule = match (has_user, has_password) {
            (false, false) => Some(r.tag("MQTT-3.1.2-18", "MQTT-3.1.2-16")),
            (true, false) => Some(r.tag("MQTT-3.1.2-20", "MQTT-3.1.2-18")),
            (_, true) => None,
        };
        r.finish().map_err(|e| match rule {
            Some(rule) => e.with_rule(rule),
            None => e,
        })?;

        Ok(Self {
            protocol_version: version,
            clean_start: flags & CLEAN_START != 0,
            keep_alive,
            client_id,
            will,
            user_name,
            password,
            properties,
        })
    }
}

fn decode_will<'a>(
    r: &mut Reader<'a>,
    qos_bits: u8,
    retain: bool,
) -> Result<WillRef<'a>, DecodeError> {
    let present = r.tag("MQTT-3.1.2-9", "MQTT-3.1.2-9");
    let properties = if r.version.is_v5() {
        WillPropertiesRef::decode(r).map_err(|e| match e.kind() {
            // MQTT-3.3.2-14 is PUBLISH's; a will's Response Topic breaks the general rule.
            DecodeErrorKind::InvalidTopic { .. } => e.with_rule("MQTT-4.7.0-1"),
            _ => e.when_missing(present),
        })?
    } else {
        WillPropertiesRef::default()
    };
    let field = "will topic";
    // The string check reports wildcards too: no second pass over the topic.
    let (topic, wildcards) = r.string_and_wildcards(field).map_err(missing(present))?;
    if topic.is_empty() {
        return Err(DecodeError::new(DecodeErrorKind::EmptyTopicName { field })
            .with_reason(crate::ReasonCode::MALFORMED_PACKET)
            .with_rule("MQTT-4.7.3-1"));
    }
    if wildcards {
        let reason = InvalidTopic::WildcardInName;
        return Err(
            DecodeError::new(DecodeErrorKind::InvalidTopic { field, reason })
                .with_rule(r.tag("MQTT-4.7.1-1", "MQTT-4.7.0-1")),
        );
    }
    let payload = r.binary("will payload").map_err(missing(present))?;
    Ok(WillRef {
        topic: TopicStr::from_checked(topic),
        payload,
        qos: QoS::from_bits(qos_bits).unwrap_or_default(),
        retain,
        properties,
    })
}

#[cfg(feature = "alloc")]
impl Connect {
    /// The packet as a borrowed view of its own fields.
    #[must_use]
    pub fn as_view(&self) -> ConnectRef<'_> {
        ConnectRef {
            protocol_version: self.protocol_version,
            clean_start: self.clean_start,
            keep_alive: self.keep_alive,
            client_id: self.client_id.as_borrowed(),
            will: self.will.as_ref().map(|will| WillRef {
                topic: will.topic.as_borrowed(),
                payload: &will.payload,
                qos: will.qos,
                retain: will.retain,
                properties: will.properties.as_view(),
            }),
            user_name: self.user_name.as_ref().map(MqttString::as_borrowed),
            password: self.password.as_deref(),
            properties: self.properties.as_view(),
        }
    }

    /// The owned packet whose fields are `view`'s, sliced from `frame`, which holds them.
    pub(crate) fn from_view(view: &ConnectRef<'_>, frame: &Bytes) -> Self {
        let string = |s| MqttString::in_frame(frame, s);
        Self {
            protocol_version: view.protocol_version,
            clean_start: view.clean_start,
            keep_alive: view.keep_alive,
            client_id: string(view.client_id),
            will: view.will.as_ref().map(|will| Will {
                topic: TopicName::from_checked(string(will.topic.as_mqtt_str())),
                payload: slice_of(frame, will.payload),
                qos: will.qos,
                retain: will.retain,
                properties: WillProperties::from_view(&will.properties, frame),
            }),
            user_name: view.user_name.map(string),
            password: view.password.map(|p| slice_of(frame, p)),
            properties: ConnectProperties::from_view(&view.properties, frame),
        }
    }
}

/// Whether a client identifier is one a server answers with return code 2 below MQTT 5.0,
/// and the encoder refuses: MQTT 3.1 (untagged text) allows 1 to 23 characters and assigns
/// none; 3.1.1 an empty one only with Clean Session ([MQTT-3.1.3-7], [MQTT-3.1.3-8]).
pub(crate) fn client_id_refused(
    version: ProtocolVersion,
    client_id: MqttStr<'_>,
    clean_start: bool,
) -> bool {
    match version {
        ProtocolVersion::V3_1 => !(1..=23).contains(&client_id.as_str().chars().count()),
        ProtocolVersion::V3_1_1 => client_id.is_empty() && !clean_start,
        ProtocolVersion::V5 => false,
    }
}

impl EncodeBody for ConnectRef<'_> {
    const TYPE: PacketType = PacketType::Connect;

    /// CONNECT is encoded at its own `protocol_version`, whatever the caller's version.
    fn body_len(&self, _version: ProtocolVersion, _trim: Trim) -> Result<usize, EncodeError> {
        let version = self.protocol_version;
        let v5 = version.is_v5();
        v5_only(version, self.properties.is_empty(), "CONNECT properties")?;
        if self.password.is_some() && self.user_name.is_none() && !v5 {
            return Err(EncodeError::invalid(
                "password without a user name",
                Some("MQTT-3.1.2-22"),
            ));
        }
        if client_id_refused(version, self.client_id, self.clean_start) {
            return Err(if version == ProtocolVersion::V3_1 {
                EncodeError::invalid("MQTT 3.1 client identifier not of 1 to 23 characters", None)
            } else {
                EncodeError::invalid(
                    "empty client identifier without clean session",
                    Some("MQTT-3.1.3-7"),
                )
            });
        }
        self.properties.check()?;
        if self.properties.authentication_data().is_some()
            && self.properties.authentication_method().is_none()
        {
            return Err(EncodeError::invalid(
                "Authentication Data without Authentication Method",
                None,
            ));
        }
        let mut len = 2 + version.protocol_name().len() + 1 + 1 + 2;
        if v5 {
            len += self.properties.wire_len(Trim::Nothing);
        }
        len += self.client_id.wire_len();
        if let Some(will) = &self.will {
            v5_only(version, will.properties.is_empty(), "will properties")?;
            will.properties.check()?;
            if will.topic.is_empty() {
                return Err(EncodeError::invalid(
                    "will topic is empty",
                    Some("MQTT-4.7.3-1"),
                ));
            }
            check_binary(will.payload, "will payload")?;
            if v5 {
                len += will.properties.wire_len(Trim::Nothing);
            }
            len += will.topic.as_mqtt_str().wire_len() + 2 + will.payload.len();
        }
        if let Some(user) = &self.user_name {
            len += user.wire_len();
        }
        if let Some(password) = &self.password {
            check_binary(password, "password")?;
            len += 2 + password.len();
        }
        Ok(len)
    }

    fn put_body<B: Sink + ?Sized>(&self, _version: ProtocolVersion, _trim: Trim, buf: &mut B) {
        let version = self.protocol_version;
        let name = version.protocol_name();
        buf.put_u16(name.len() as u16);
        buf.put_slice(name.as_bytes());
        buf.put_u8(version.level());
        buf.put_u8(self.flags_byte());
        buf.put_u16(self.keep_alive);
        if version.is_v5() {
            self.properties.put(buf, Trim::Nothing);
        }
        put_str(buf, self.client_id);
        if let Some(will) = &self.will {
            if version.is_v5() {
                will.properties.put(buf, Trim::Nothing);
            }
            put_str(buf, will.topic.as_mqtt_str());
            put_binary(buf, will.payload);
        }
        if let Some(user) = self.user_name {
            put_str(buf, user);
        }
        if let Some(password) = &self.password {
            put_binary(buf, password);
        }
    }
}

#[cfg(test)]
mod tests {
    //! Byte vectors from CONFORMANCE.md (`C4(ff)`, `C5(ff)`, ...) and hand-assembled ones;
    //! every expected byte below was counted by hand against the layout at the top of this
    //! file.

    use super::*;
    use crate::packet::test_util::{self, both_ways, encode, rejects, s, topic, M, P, V3, V4, V5};
    use crate::packet::Packet;
    use crate::properties::PayloadFormat;
    #[cfg(feature = "alloc")]
    use crate::properties::UserProperties;
    use crate::types::InvalidTopic;
    use crate::ReasonCode;
    use alloc::vec;
    #[cfg(feature = "alloc")]
    use alloc::vec::Vec;
    use core::num::{NonZeroU16, NonZeroU32};

    /// `C4(ff)`: 3.1.1 CONNECT, empty client id, keep alive 60, connect flags `ff`.
    fn c4(flags: u8) -> [u8; 14] {
        [
            0x10, 0x0C, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, flags, 0x00, 0x3C, 0x00, 0x00,
        ]
    }

    /// `C5(ff)`: 5.0 CONNECT, no properties, empty client id, keep alive 60, flags `ff`.
    fn c5(flags: u8) -> [u8; 15] {
        [
            0x10, 0x0D, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, flags, 0x00, 0x3C, 0x00, 0x00,
            0x00,
        ]
    }

    /// Decodes `bytes`, which must be exactly one CONNECT. The version handed to the decoder
    /// is deliberately wrong half of the time: CONNECT declares its own level.
    fn decode(bytes: &[u8]) -> Connect {
        let assumed_v4: Connect = test_util::decode_as(bytes, V4);
        let assumed_v5: Connect = test_util::decode_as(bytes, V5);
        assert_eq!(assumed_v4, assumed_v5, "the assumed version mattered");
        assumed_v5
    }

    /// Both directions: `bytes` decodes to `expected`, and `expected` encodes to `bytes`
    /// whatever version the caller asks for (CONNECT is encoded at its own level).
    #[track_caller]
    fn assert_vector(bytes: &[u8], expected: &Connect) {
        for version in [V3, V4, V5] {
            both_ways(bytes, version, expected);
        }
    }

    /// [`rejects`] whatever version the decoder assumes: CONNECT declares its own level.
    #[track_caller]
    fn assert_rejects(bytes: &[u8], kind: DecodeErrorKind, reason: ReasonCode, rule: Option<&str>) {
        for assumed in [V3, V4, V5] {
            rejects(bytes, assumed, kind.clone(), reason, rule);
        }
    }

    /// The encoder's refusal, the same whatever version the caller asks for (CONNECT is
    /// encoded at its own level).
    #[track_caller]
    fn encode_err(connect: &Connect) -> EncodeError {
        let [v3, v4, v5] = [V3, V4, V5].map(|version| test_util::encode_err(connect, version));
        assert!(v3 == v5 && v4 == v5, "the version asked for mattered");
        v5
    }

    fn unexpected_end(field: &'static str) -> DecodeErrorKind {
        DecodeErrorKind::UnexpectedEnd { field }
    }

    // ---- byte vectors ------------------------------------------------------------------

    #[test]
    fn c4_02_minimal_v311() {
        let mut expected = Connect::new(V4, MqttString::empty());
        expected.keep_alive = 60;
        assert_vector(&c4(0x02), &expected);
        assert_vector(
            &[
                0x10, 0x0C, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x00,
            ],
            &expected,
        );
    }

    #[test]
    fn c5_02_minimal_v5() {
        let expected = Connect::new(V5, MqttString::empty());
        assert_vector(
            &[
                0x10, 0x0D, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3C, 0x00, 0x00,
                0x00,
            ],
            &expected,
        );
    }

    #[test]
    fn c4n_and_c5n_with_client_id_and_clean_flag_clear() {
        let mut expected = Connect::new(V4, s("c1"));
        expected.clean_start = false;
        assert_vector(
            &[
                0x10, 0x0E, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x00, 0x00, 0x3C, 0x00, 0x02,
                0x63, 0x31,
            ],
            &expected,
        );
        expected.protocol_version = V5;
        assert_vector(
            &[
                0x10, 0x0F, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x00, 0x00, 0x3C, 0x00, 0x00,
                0x02, 0x63, 0x31,
            ],
            &expected,
        );
    }

    #[test]
    fn mqtt_3_1_uses_mqisdp_and_level_3() {
        let expected = Connect::new(V3, s("c1"));
        assert_vector(
            &[
                0x10, 0x10, 0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p', 0x03, 0x02, 0x00, 0x3C,
                0x00, 0x02, 0x63, 0x31,
            ],
            &expected,
        );
    }

    fn every_field(version: ProtocolVersion) -> Connect {
        Connect {
            protocol_version: version,
            clean_start: true,
            keep_alive: 10,
            client_id: s("c1"),
            will: Some(Will {
                topic: topic("w"),
                payload: Bytes::from_static(b"bye"),
                qos: QoS::AtLeastOnce,
                retain: true,
                properties: WillProperties::default(),
            }),
            user_name: Some(s("u")),
            password: Some(Bytes::from_static(b"pw")),
            properties: ConnectProperties::default(),
        }
    }

    /// [MQTT-3.1.3-1]: client id, will topic, will message, user name, password, in order.
    #[test]
    fn every_field_in_order_v311_mqtt_3_1_3_1() {
        // Flags 0xEE: user 0x80, password 0x40, will retain 0x20, will QoS 1 0x08,
        // will 0x04, clean 0x02. Remaining Length 10 + 4 + 3 + 5 + 3 + 4 = 29.
        let bytes = [
            0x10, 0x1D, // fixed header
            0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0xEE, 0x00, 0x0A, // variable header
            0x00, 0x02, b'c', b'1', // client id
            0x00, 0x01, b'w', // will topic
            0x00, 0x03, b'b', b'y', b'e', // will message
            0x00, 0x01, b'u', // user name
            0x00, 0x02, b'p', b'w', // password
        ];
        assert_vector(&bytes, &every_field(V4));
    }

    #[test]
    fn every_field_in_order_v31() {
        // As above with the six-byte name "MQIsdp": Remaining Length 31.
        let bytes = [
            0x10, 0x1F, // fixed header
            0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p', 0x03, 0xEE, 0x00, 0x0A, 0x00, 0x02,
            b'c', b'1', // client id
            0x00, 0x01, b'w', // will topic
            0x00, 0x03, b'b', b'y', b'e', // will message
            0x00, 0x01, b'u', // user name
            0x00, 0x02, b'p', b'w', // password
        ];
        assert_vector(&bytes, &every_field(V3));
    }

    fn every_field_v5() -> Connect {
        let mut connect = every_field(V5);
        connect.properties = ConnectProperties {
            session_expiry_interval: Some(60),
            receive_maximum: NonZeroU16::new(20),
            maximum_packet_size: NonZeroU32::new(4096),
            topic_alias_maximum: Some(5),
            request_response_information: Some(true),
            request_problem_information: Some(false),
            ..Default::default()
        }
        .with_authentication_method(s("M"))
        .with_authentication_data(Bytes::from_static(&[0xAB, 0xCD]))
        .unwrap()
        .with_user_properties(UserProperties::from_pairs([("k", "v")]).unwrap());
        let will = connect.will.as_mut().unwrap();
        will.qos = QoS::ExactlyOnce;
        will.properties = WillProperties {
            will_delay_interval: Some(5),
            payload_format_indicator: Some(PayloadFormat::Utf8),
            message_expiry_interval: Some(10),
            ..Default::default()
        }
        .with_content_type(s("t"))
        .with_response_topic(topic("r"))
        .unwrap()
        .with_correlation_data(Bytes::from_static(&[0xAB]))
        .unwrap()
        .with_user_properties(UserProperties::from_pairs([("a", "b")]).unwrap());
        connect
    }

    /// 5.0 [MQTT-3.1.3-1]: client id, will properties, will topic, will payload, user name,
    /// password; every CONNECT and will property once.
    #[test]
    fn every_field_and_property_v5() {
        // Flags 0xF6: user, password, will retain, will QoS 2 (0x10), will, clean.
        // Properties 5+3+5+3+2+2+4+5+7 = 36 (0x24); will properties 5+2+5+4+4+4+7 = 31
        // (0x1F). Remaining Length 10 + 37 + 4 + 32 + 3 + 5 + 3 + 4 = 98 (0x62).
        let bytes = [
            0x10, 0x62, // fixed header
            0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0xF6, 0x00, 0x0A, // variable header
            0x24, // property length
            0x11, 0x00, 0x00, 0x00, 0x3C, // Session Expiry Interval 60
            0x21, 0x00, 0x14, // Receive Maximum 20
            0x27, 0x00, 0x00, 0x10, 0x00, // Maximum Packet Size 4096
            0x22, 0x00, 0x05, // Topic Alias Maximum 5
            0x19, 0x01, // Request Response Information 1
            0x17, 0x00, // Request Problem Information 0
            0x15, 0x00, 0x01, b'M', // Authentication Method "M"
            0x16, 0x00, 0x02, 0xAB, 0xCD, // Authentication Data
            0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property k=v
            0x00, 0x02, b'c', b'1', // client id
            0x1F, // will property length
            0x18, 0x00, 0x00, 0x00, 0x05, // Will Delay Interval 5
            0x01, 0x01, // Payload Format Indicator UTF-8
            0x02, 0x00, 0x00, 0x00, 0x0A, // Message Expiry Interval 10
            0x03, 0x00, 0x01, b't', // Content Type "t"
            0x08, 0x00, 0x01, b'r', // Response Topic "r"
            0x09, 0x00, 0x01, 0xAB, // Correlation Data
            0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'b', // User Property a=b
            0x00, 0x01, b'w', // will topic
            0x00, 0x03, b'b', b'y', b'e', // will payload
            0x00, 0x01, b'u', // user name
            0x00, 0x02, b'p', b'w', // password
        ];
        assert_eq!(bytes.len(), 2 + 0x62);
        assert_vector(&bytes, &every_field_v5());
    }

    /// Section 2.2.2.2: the order of properties carries no meaning (User Properties keep
    /// theirs); the encoder writes its own order.
    #[test]
    fn properties_in_any_order_decode_alike_v5() {
        let bytes = [
            0x10, 0x62, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0xF6, 0x00, 0x0A, 0x24, 0x26,
            0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property k=v
            0x16, 0x00, 0x02, 0xAB, 0xCD, // Authentication Data
            0x15, 0x00, 0x01, b'M', // Authentication Method "M"
            0x17, 0x00, // Request Problem Information 0
            0x19, 0x01, // Request Response Information 1
            0x22, 0x00, 0x05, // Topic Alias Maximum 5
            0x27, 0x00, 0x00, 0x10, 0x00, // Maximum Packet Size 4096
            0x21, 0x00, 0x14, // Receive Maximum 20
            0x11, 0x00, 0x00, 0x00, 0x3C, // Session Expiry Interval 60
            0x00, 0x02, b'c', b'1', 0x1F, 0x26, 0x00, 0x01, b'a', 0x00, 0x01,
            b'b', // User Property a=b
            0x09, 0x00, 0x01, 0xAB, // Correlation Data
            0x08, 0x00, 0x01, b'r', // Response Topic "r"
            0x03, 0x00, 0x01, b't', // Content Type "t"
            0x02, 0x00, 0x00, 0x00, 0x0A, // Message Expiry Interval 10
            0x01, 0x01, // Payload Format Indicator UTF-8
            0x18, 0x00, 0x00, 0x00, 0x05, // Will Delay Interval 5
            0x00, 0x01, b'w', 0x00, 0x03, b'b', b'y', b'e', 0x00, 0x01, b'u', 0x00, 0x02, b'p',
            b'w',
        ];
        assert_eq!(decode(&bytes), every_field_v5());
    }

    #[test]
    fn user_properties_keep_order_and_repeated_names_v5() {
        // Properties: two User Properties k=1, k=2 (7 bytes each); RL 10 + 15 + 2 = 27.
        let bytes = [
            0x10, 0x1B, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3C, 0x0E, 0x26,
            0x00, 0x01, b'k', 0x00, 0x01, b'1', 0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'2', 0x00,
            0x00,
        ];
        let connect = decode(&bytes);
        let users = connect.properties.user_properties();
        let pairs: Vec<_> = users.iter().collect();
        assert_eq!(pairs, [("k", "1"), ("k", "2")]);
        let mut expected = Connect::new(V5, MqttString::empty());
        expected
            .properties
            .set_user_properties(UserProperties::from_pairs([("k", "1"), ("k", "2")]).unwrap());
        assert_vector(&bytes, &expected);
    }

    /// 5.0 [MQTT-3.1.2-19]: a password without a user name is allowed in 5.0.
    #[test]
    fn password_without_user_name_is_fine_in_v5_mqtt_3_1_2_19() {
        let bytes = [
            0x10, 0x11, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x05, 0x42, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x00, 0x02, 0x70, 0x77,
        ];
        let mut expected = Connect::new(V5, MqttString::empty());
        expected.password = Some(Bytes::from_static(b"pw"));
        assert_vector(&bytes, &expected);
        assert_eq!(decode(&bytes).user_name, None);
    }

    /// 5.0: an empty client id needs no Clean Start (the server assigns one).
    #[test]
    fn empty_client_id_without_clean_start_is_fine_in_v5() {
        let mut expected = Connect::new(V5, MqttString::empty());
        expected.clean_start = false;
        assert_vector(&c5(0x00), &expected);
    }

    /// [MQTT-1.5.4-3] / 3.1.1 [MQTT-1.5.3-3]: EF BB BF is U+FEFF and is kept, never stripped.
    #[test]
    fn keeps_u_feff_in_client_id_mqtt_1_5_3_3_and_1_5_4_3() {
        let v4 = [
            0x10, 0x10, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x04,
            0xEF, 0xBB, 0xBF, 0x61,
        ];
        let v5 = [
            0x10, 0x11, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3C, 0x00, 0x00,
            0x04, 0xEF, 0xBB, 0xBF, 0x61,
        ];
        for (bytes, version) in [(&v4[..], V4), (&v5[..], V5)] {
            let connect = decode(bytes);
            assert_eq!(connect.client_id, "\u{FEFF}a");
            assert_vector(bytes, &Connect::new(version, s("\u{FEFF}a")));
        }
        // A strict decoder still keeps it: U+FEFF is neither a control character nor a
        // non-character.
        let mut rx = bytes::BytesMut::from(&v5[..]);
        let mut decoder = crate::Decoder::for_server().with_strict_strings(true);
        let Some(Packet::Connect(connect)) = decoder.decode(&mut rx).unwrap() else {
            panic!("no CONNECT");
        };
        assert_eq!(connect.client_id.as_bytes(), [0xEF, 0xBB, 0xBF, 0x61]);
    }

    /// Decoded strings and binary fields are slices of the input, and `detach` copies them.
    #[test]
    fn fields_share_the_input_until_detached() {
        let bytes = [
            0x10, 0x1D, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0xEE, 0x00, 0x0A, 0x00, 0x02,
            b'c', b'1', 0x00, 0x01, b'w', 0x00, 0x03, b'b', b'y', b'e', 0x00, 0x01, b'u', 0x00,
            0x02, b'p', b'w',
        ];
        let input = Bytes::copy_from_slice(&bytes);
        let range = input.as_ptr_range();
        let (packet, _) = Packet::decode(&input, V4).unwrap();
        let Packet::Connect(connect) = &packet else {
            panic!()
        };
        let will = connect.will.as_ref().unwrap();
        assert!(range.contains(&connect.client_id.as_ptr()));
        assert!(range.contains(&will.payload.as_ptr()));
        assert!(range.contains(&connect.password.as_ref().unwrap().as_ptr()));
        let detached = packet.detach();
        assert_eq!(detached, packet);
        let Packet::Connect(connect) = &detached else {
            panic!()
        };
        let will = connect.will.as_ref().unwrap();
        assert!(!range.contains(&connect.client_id.as_ptr()));
        assert!(!range.contains(&will.topic.as_ptr()));
        assert!(!range.contains(&will.payload.as_ptr()));
        assert!(!range.contains(&connect.password.as_ref().unwrap().as_ptr()));
    }

    // ---- decoder rejections ------------------------------------------------------------

    /// [MQTT-3.1.2-1]: the protocol name is "MQTT" (or "MQIsdp" for level 3).
    #[test]
    fn rejects_wrong_protocol_name_mqtt_3_1_2_1() {
        // "MQTX", level 5.
        let bytes = [
            0x10, 0x0D, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x58, 0x05, 0x02, 0x00, 0x3C, 0x00, 0x00,
            0x00,
        ];
        let kind = DecodeErrorKind::InvalidProtocolName { level: 5 };
        let unsupported = ReasonCode::UNSUPPORTED_PROTOCOL_VERSION;
        assert_rejects(&bytes, kind, unsupported, Some("MQTT-3.1.2-1"));
        // Lower case "mqtt", level 4.
        let bytes = [
            0x10, 0x0C, 0x00, 0x04, b'm', b'q', b't', b't', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x00,
        ];
        let kind = DecodeErrorKind::InvalidProtocolName { level: 4 };
        assert_rejects(&bytes, kind, unsupported, Some("MQTT-3.1.2-1"));
    }

    /// [MQTT-3.1.2-1]: a known name with the other version's level.
    #[test]
    fn rejects_protocol_name_mismatched_with_level_mqtt_3_1_2_1() {
        let unsupported = ReasonCode::UNSUPPORTED_PROTOCOL_VERSION;
        // "MQTT" with level 3.
        let bytes = [
            0x10, 0x0C, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x03, 0x02, 0x00, 0x3C, 0x00, 0x00,
        ];
        let kind = DecodeErrorKind::InvalidProtocolName { level: 3 };
        assert_rejects(&bytes, kind, unsupported, Some("MQTT-3.1.2-1"));
        // "MQIsdp" with levels 4 and 5.
        for level in [4, 5] {
            let bytes = [
                0x10, 0x0E, 0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p', level, 0x02, 0x00,
                0x3C, 0x00, 0x00,
            ];
            let kind = DecodeErrorKind::InvalidProtocolName { level };
            assert_rejects(&bytes, kind, unsupported, Some("MQTT-3.1.2-1"));
        }
    }

    /// [MQTT-3.1.2-2]: levels other than 3, 4 and 5 are refused with reason 0x84.
    #[test]
    fn rejects_unsupported_protocol_level_mqtt_3_1_2_2() {
        for level in [0, 1, 2, 6, 0xFF] {
            let bytes = [
                0x10, 0x0C, 0x00, 0x04, b'M', b'Q', b'T', b'T', level, 0x02, 0x00, 0x3C, 0x00, 0x00,
            ];
            let kind = DecodeErrorKind::UnsupportedProtocolVersion { level };
            let reason = ReasonCode::UNSUPPORTED_PROTOCOL_VERSION;
            assert_rejects(&bytes, kind, reason, Some("MQTT-3.1.2-2"));
        }
    }

    /// 3.1.1 [MQTT-2.2.2-1], 5.0 [MQTT-2.1.3-1]: CONNECT's fixed header flags are 0000; the
    /// tag follows the level the packet declares.
    #[test]
    fn rejects_connect_fixed_header_flags_mqtt_2_2_2_1_v311_mqtt_2_1_3_1_v5() {
        let mut v4 = c4(0x02);
        v4[0] = 0x11;
        let kind = DecodeErrorKind::InvalidFlags { flags: 1 };
        assert_rejects(&v4, kind.clone(), M, Some("MQTT-2.2.2-1"));
        let mut v5 = c5(0x02);
        v5[0] = 0x11;
        assert_rejects(&v5, kind, M, Some("MQTT-2.1.3-1"));
    }

    /// 3.1.1 [MQTT-2.2.2-1], 5.0 [MQTT-2.1.3-1]: bad CONNECT flags are refused as soon as
    /// the protocol level byte, which picks the tag, has arrived: a partial CONNECT is
    /// waited for up to that byte only, never to its end.
    #[test]
    fn bad_connect_flags_are_refused_at_the_level_byte_mqtt_2_2_2_1_v311_mqtt_2_1_3_1_v5() {
        use crate::packet::{Decoded, PacketRef};
        let mut v3 = [
            0x10, 0x0E, 0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p', 0x03, 0x02, 0x00, 0x3C,
            0x00, 0x00,
        ];
        let (mut v4, mut v5) = (c4(0x02), c5(0x02));
        for flags in 1..=0x0F {
            for (bytes, level_at, rule) in [
                (&mut v3[..], 10, "MQTT-2.2.2-1"),
                (&mut v4[..], 8, "MQTT-2.2.2-1"),
                (&mut v5[..], 8, "MQTT-2.1.3-1"),
            ] {
                bytes[0] = 0x10 | flags;
                for assumed in [None, Some(V3), Some(V4), Some(V5)] {
                    for end in 0..=bytes.len() {
                        let got = PacketRef::decode_limited(&bytes[..end], assumed, 1 << 20, false);
                        if end <= level_at {
                            assert_eq!(got, Ok(Decoded::Partial { needed: None }), "{end}");
                            continue;
                        }
                        let err = got.unwrap_err();
                        assert_eq!(err.kind(), &DecodeErrorKind::InvalidFlags { flags });
                        assert_eq!((err.reason_code(), err.rule()), (M, Some(rule)));
                        assert_eq!(err.packet_type(), Some(PacketType::Connect));
                    }
                }
            }
        }
    }

    /// A CONNECT with bad flags that ends before a protocol level of MQTT or MQIsdp can be
    /// read is refused at once, without a tag: no version names its rule.
    #[test]
    fn bad_connect_flags_without_a_level_byte_are_refused_untagged() {
        for bytes in [
            &[0x1F, 0x00][..],
            &[0x12, 0x01, 0x00],
            &[0x1F, 0x05, 0x00, 0x04, b'M', b'Q', b'T'],
            // A protocol name of neither length: where a level would be means nothing.
            &[0x11, 0x05, 0x00, 0x01, b'M', 0x04, 0x02],
        ] {
            let kind = DecodeErrorKind::InvalidFlags {
                flags: bytes[0] & 0x0F,
            };
            for assumed in [V3, V4, V5] {
                rejects(bytes, assumed, kind.clone(), M, None);
            }
        }
    }

    /// [MQTT-3.1.2-3] (both versions): Connect Flags bit 0 is reserved.
    #[test]
    fn rejects_connect_reserved_flag_mqtt_3_1_2_3() {
        let kind = DecodeErrorKind::ConnectReservedFlag;
        assert_rejects(&c4(0x03), kind.clone(), M, Some("MQTT-3.1.2-3"));
        assert_rejects(&c5(0x03), kind, M, Some("MQTT-3.1.2-3"));
    }

    /// 3.1.1 [MQTT-3.1.2-14], 5.0 [MQTT-3.1.2-12]: will QoS 3, refused before the payload.
    #[test]
    fn rejects_will_qos_3_mqtt_3_1_2_14_v311_mqtt_3_1_2_12_v5() {
        let kind = DecodeErrorKind::InvalidQoS { field: "will QoS" };
        assert_rejects(&c4(0x1E), kind.clone(), M, Some("MQTT-3.1.2-14"));
        assert_rejects(&c5(0x1E), kind, M, Some("MQTT-3.1.2-12"));
    }

    /// 3.1.1 [MQTT-3.1.2-13], 5.0 [MQTT-3.1.2-11]: will QoS set without the will flag.
    #[test]
    fn rejects_will_qos_without_will_flag_mqtt_3_1_2_13_v311_mqtt_3_1_2_11_v5() {
        let kind = DecodeErrorKind::WillFieldsWithoutWill;
        assert_rejects(&c4(0x0A), kind.clone(), M, Some("MQTT-3.1.2-13"));
        assert_rejects(&c4(0x12), kind.clone(), M, Some("MQTT-3.1.2-13"));
        assert_rejects(&c5(0x0A), kind.clone(), M, Some("MQTT-3.1.2-11"));
        assert_rejects(&c5(0x12), kind, M, Some("MQTT-3.1.2-11"));
    }

    /// 3.1.1 [MQTT-3.1.2-15], 5.0 [MQTT-3.1.2-13]: will retain set without the will flag.
    #[test]
    fn rejects_will_retain_without_will_flag_mqtt_3_1_2_15_v311_mqtt_3_1_2_13_v5() {
        let kind = DecodeErrorKind::WillFieldsWithoutWill;
        assert_rejects(&c4(0x22), kind.clone(), M, Some("MQTT-3.1.2-15"));
        assert_rejects(&c5(0x22), kind, M, Some("MQTT-3.1.2-13"));
    }

    /// 3.1.1 [MQTT-3.1.2-22]: a password needs a user name (also in 3.1).
    #[test]
    fn rejects_password_without_user_name_v311_mqtt_3_1_2_22() {
        let bytes = [
            0x10, 0x10, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0x42, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x02, 0x70, 0x77,
        ];
        let kind = DecodeErrorKind::PasswordWithoutUserName;
        assert_rejects(&bytes, kind.clone(), M, Some("MQTT-3.1.2-22"));
        let bytes = [
            0x10, 0x12, 0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p', 0x03, 0x42, 0x00, 0x3C,
            0x00, 0x00, 0x00, 0x02, 0x70, 0x77,
        ];
        assert_rejects(&bytes, kind, M, Some("MQTT-3.1.2-22"));
    }

    /// [MQTT-3.1.3-3]: the client id is mandatory.
    #[test]
    fn rejects_missing_client_id_mqtt_3_1_3_3() {
        // 3.1.1: the packet ends after Keep Alive.
        let v4 = [
            0x10, 0x0A, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3C,
        ];
        let field = "client identifier";
        assert_rejects(&v4, unexpected_end(field), M, Some("MQTT-3.1.3-3"));
        // 5.0: the packet ends after the property length.
        let v5 = [
            0x10, 0x0B, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3C, 0x00,
        ];
        assert_rejects(&v5, unexpected_end(field), M, Some("MQTT-3.1.3-3"));
        // A length prefix promising more than the packet holds.
        let v4 = [
            0x10, 0x0D, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x05,
            b'c',
        ];
        assert_rejects(&v4, unexpected_end(field), M, Some("MQTT-3.1.3-3"));
    }

    /// 3.1.1 and 5.0 [MQTT-3.1.2-9]: the will flag requires the will fields.
    #[test]
    fn rejects_missing_will_fields_mqtt_3_1_2_9() {
        let rule = Some("MQTT-3.1.2-9");
        assert_rejects(&c4(0x06), unexpected_end("will topic"), M, rule);
        // 5.0: the will properties come first.
        assert_rejects(&c5(0x06), unexpected_end("property length"), M, rule);
        // A will topic but no will message.
        let bytes = [
            0x10, 0x0F, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x06, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x01, b'w',
        ];
        assert_rejects(&bytes, unexpected_end("will payload"), M, rule);
        // 5.0: property length, client id, will property length, will topic "w".
        let bytes = [
            0x10, 0x11, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x06, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x01, b'w',
        ];
        assert_rejects(&bytes, unexpected_end("will payload"), M, rule);
    }

    /// 3.1.1 [MQTT-3.1.2-19], 5.0 [MQTT-3.1.2-17]: the user name flag requires a user name.
    #[test]
    fn rejects_missing_user_name_mqtt_3_1_2_19_v311_mqtt_3_1_2_17_v5() {
        let kind = unexpected_end("user name");
        assert_rejects(&c4(0x82), kind.clone(), M, Some("MQTT-3.1.2-19"));
        assert_rejects(&c5(0x82), kind, M, Some("MQTT-3.1.2-17"));
    }

    /// 3.1.1 [MQTT-3.1.2-21], 5.0 [MQTT-3.1.2-19]: the password flag requires a password.
    #[test]
    fn rejects_missing_password_mqtt_3_1_2_21_v311_mqtt_3_1_2_19_v5() {
        let kind = unexpected_end("password");
        // C4(C2) and C5(C2) with a user name "u" only.
        let v4 = [
            0x10, 0x0F, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0xC2, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x01, b'u',
        ];
        assert_rejects(&v4, kind.clone(), M, Some("MQTT-3.1.2-21"));
        let v5 = [
            0x10, 0x10, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0xC2, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x00, 0x01, b'u',
        ];
        assert_rejects(&v5, kind.clone(), M, Some("MQTT-3.1.2-19"));
        // 5.0 password flag alone, payload ends after the client id.
        assert_rejects(&c5(0x42), kind, M, Some("MQTT-3.1.2-19"));
    }

    /// 3.1.1 [MQTT-3.1.2-18], 5.0 [MQTT-3.1.2-16]: no user name without the flag, so bytes
    /// after the client id are left over.
    #[test]
    fn rejects_user_name_without_flag_mqtt_3_1_2_18_v311_mqtt_3_1_2_16_v5() {
        let kind = DecodeErrorKind::TrailingBytes { count: 3 };
        let v4 = [
            0x10, 0x0F, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x01, 0x75,
        ];
        assert_rejects(&v4, kind.clone(), M, Some("MQTT-3.1.2-18"));
        let v5 = [
            0x10, 0x10, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x00, 0x01, 0x75,
        ];
        assert_rejects(&v5, kind, M, Some("MQTT-3.1.2-16"));
    }

    /// 3.1.1 [MQTT-3.1.2-20], 5.0 [MQTT-3.1.2-18]: no password without the flag, so bytes
    /// after the user name are left over.
    #[test]
    fn rejects_password_without_flag_mqtt_3_1_2_20_v311_mqtt_3_1_2_18_v5() {
        let kind = DecodeErrorKind::TrailingBytes { count: 4 };
        let v4 = [
            0x10, 0x13, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x82, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x01, b'u', 0x00, 0x02, b'p', b'w',
        ];
        assert_rejects(&v4, kind.clone(), M, Some("MQTT-3.1.2-20"));
        let v5 = [
            0x10, 0x14, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x82, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x00, 0x01, b'u', 0x00, 0x02, b'p', b'w',
        ];
        assert_rejects(&v5, kind, M, Some("MQTT-3.1.2-18"));
    }

    /// Bytes after a password: no flag rule is broken, only the Remaining Length is wrong.
    #[test]
    fn rejects_trailing_bytes_after_password() {
        let kind = DecodeErrorKind::TrailingBytes { count: 1 };
        let v4 = [
            0x10, 0x14, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0xC2, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x01, b'u', 0x00, 0x02, b'p', b'w', 0x00,
        ];
        assert_rejects(&v4, kind.clone(), M, None);
        // 5.0 password without user name, then one stray byte.
        let v5 = [
            0x10, 0x12, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x05, 0x42, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x00, 0x02, 0x70, 0x77, 0x00,
        ];
        assert_rejects(&v5, kind, M, None);
    }

    /// 3.1.1 [MQTT-1.5.3-1], 5.0 [MQTT-1.5.4-1]: the client id is well-formed UTF-8
    /// ([MQTT-3.1.3-4]).
    #[test]
    fn rejects_invalid_utf8_client_id_mqtt_1_5_3_1_v311_mqtt_1_5_4_1_v5() {
        let kind = DecodeErrorKind::InvalidUtf8 {
            field: "client identifier",
        };
        let v4 = [
            0x10, 0x0D, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3C, 0x00, 0x01,
            0xFF,
        ];
        assert_rejects(&v4, kind.clone(), M, Some("MQTT-1.5.3-1"));
        // An encoded surrogate, U+D800.
        let v5 = [
            0x10, 0x10, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x05, 0x02, 0x00, 0x3C, 0x00, 0x00,
            0x03, 0xED, 0xA0, 0x80,
        ];
        assert_rejects(&v5, kind, M, Some("MQTT-1.5.4-1"));
    }

    /// 3.1.1 [MQTT-1.5.3-2], 5.0 [MQTT-1.5.4-2]: no U+0000 in the client id.
    #[test]
    fn rejects_null_in_client_id_mqtt_1_5_3_2_v311_mqtt_1_5_4_2_v5() {
        let kind = DecodeErrorKind::NullCharacter {
            field: "client identifier",
        };
        let v4 = [
            0x10, 0x0F, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x03,
            0x61, 0x00, 0x62,
        ];
        assert_rejects(&v4, kind.clone(), M, Some("MQTT-1.5.3-2"));
        let v5 = [
            0x10, 0x10, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3C, 0x00, 0x00,
            0x03, 0x61, 0x00, 0x62,
        ];
        assert_rejects(&v5, kind, M, Some("MQTT-1.5.4-2"));
    }

    /// 3.1.1 [MQTT-3.1.3-10], 5.0 [MQTT-3.1.3-11]: the will topic is a UTF-8 string; the
    /// string rule's own tag is reported.
    #[test]
    fn rejects_bad_will_topic_string_mqtt_3_1_3_10_v311_mqtt_3_1_3_11_v5() {
        // 3.1.1 will topic "a\0b", empty will message.
        let v4 = [
            0x10, 0x13, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x06, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x03, 0x61, 0x00, 0x62, 0x00, 0x00,
        ];
        let field = "will topic";
        let kind = DecodeErrorKind::NullCharacter { field };
        assert_rejects(&v4, kind, M, Some("MQTT-1.5.3-2"));
        // 5.0 will topic `00 01 FF`.
        let v5 = [
            0x10, 0x13, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x06, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x01, 0xFF, 0x00, 0x00,
        ];
        let kind = DecodeErrorKind::InvalidUtf8 { field };
        assert_rejects(&v5, kind, M, Some("MQTT-1.5.4-1"));
    }

    /// 3.1.1 [MQTT-3.1.3-11], 5.0 [MQTT-3.1.3-12]: the user name is a UTF-8 string.
    #[test]
    fn rejects_bad_user_name_string_mqtt_3_1_3_11_v311_mqtt_3_1_3_12_v5() {
        let field = "user name";
        // 3.1.1 `00 01 FF`.
        let v4 = [
            0x10, 0x0F, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x82, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x01, 0xFF,
        ];
        let kind = DecodeErrorKind::InvalidUtf8 { field };
        assert_rejects(&v4, kind.clone(), M, Some("MQTT-1.5.3-1"));
        // 5.0 `00 02 C3 28`.
        let v5 = [
            0x10, 0x11, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x82, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x00, 0x02, 0xC3, 0x28,
        ];
        assert_rejects(&v5, kind, M, Some("MQTT-1.5.4-1"));
        // 5.0 `00 01 00`.
        let v5 = [
            0x10, 0x10, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x82, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x00, 0x01, 0x00,
        ];
        let kind = DecodeErrorKind::NullCharacter { field };
        assert_rejects(&v5, kind, M, Some("MQTT-1.5.4-2"));
    }

    /// 5.0 section 1.5.4: a strict decoder refuses control characters; that is not a
    /// missing client id ([MQTT-3.1.3-3]), so no rule is named.
    #[test]
    fn rejects_control_character_in_client_id_when_strict() {
        // Client id `00 01 07` (U+0007).
        let bytes = [
            0x10, 0x0D, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x01,
            0x07,
        ];
        let mut decoder = crate::Decoder::for_server().with_strict_strings(true);
        let err = decoder
            .decode(&mut bytes::BytesMut::from(&bytes[..]))
            .unwrap_err();
        let field = "client identifier";
        assert_eq!(err.kind(), &DecodeErrorKind::DiscouragedCharacter { field });
        assert_eq!(err.reason_code(), M);
        assert_eq!(err.rule(), None);
        // The default decoder accepts it.
        assert_eq!(decode(&bytes).client_id, "\u{7}");
    }

    /// [MQTT-4.7.3-1]: the will topic is at least one character.
    #[test]
    fn rejects_empty_will_topic_mqtt_4_7_3_1() {
        let kind = DecodeErrorKind::EmptyTopicName {
            field: "will topic",
        };
        let v4 = [
            0x10, 0x10, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x06, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00,
        ];
        assert_rejects(&v4, kind.clone(), M, Some("MQTT-4.7.3-1"));
        let v5 = [
            0x10, 0x12, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x06, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        assert_rejects(&v5, kind, M, Some("MQTT-4.7.3-1"));
    }

    /// 3.1.1 [MQTT-4.7.1-1], 5.0 [MQTT-4.7.0-1]: no wildcards in the will topic.
    #[test]
    fn rejects_wildcard_in_will_topic_mqtt_4_7_1_1_v311_mqtt_4_7_0_1_v5() {
        let kind = DecodeErrorKind::InvalidTopic {
            field: "will topic",
            reason: InvalidTopic::WildcardInName,
        };
        // 3.1.1 will topic "a/#".
        let v4 = [
            0x10, 0x13, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x06, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x03, 0x61, 0x2F, 0x23, 0x00, 0x00,
        ];
        assert_rejects(&v4, kind.clone(), M, Some("MQTT-4.7.1-1"));
        // 5.0 will topic "a/+".
        let v5 = [
            0x10, 0x15, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x06, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x03, 0x61, 0x2F, 0x2B, 0x00, 0x00,
        ];
        assert_rejects(&v5, kind, M, Some("MQTT-4.7.0-1"));
    }

    /// 5.0 section 3.1.2.11.10: Authentication Data without Authentication Method is a
    /// Protocol Error.
    #[test]
    fn rejects_authentication_data_without_method() {
        let bytes = [
            0x10, 0x10, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3C, 0x03, 0x16,
            0x00, 0x00, 0x00, 0x00,
        ];
        let kind = DecodeErrorKind::AuthenticationDataWithoutMethod;
        assert_rejects(&bytes, kind, P, None);
    }

    /// 5.0 section 3.1.2.11: a property that may appear once appears twice: Protocol Error.
    #[test]
    fn rejects_duplicate_connect_property() {
        // Receive Maximum 10, twice.
        let bytes = [
            0x10, 0x13, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3C, 0x06, 0x21,
            0x00, 0x0A, 0x21, 0x00, 0x0A, 0x00, 0x00,
        ];
        let kind = DecodeErrorKind::DuplicateProperty { id: 0x21 };
        assert_rejects(&bytes, kind, P, None);
    }

    /// 5.0 section 3.1.3.2: a will property twice is a Protocol Error, and not a missing
    /// will field.
    #[test]
    fn rejects_duplicate_will_property() {
        // Will properties: Payload Format Indicator 0, twice; will topic "w", empty payload.
        // Remaining Length 11 + 2 + 5 + 3 + 2 = 23.
        let bytes = [
            0x10, 0x17, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x06, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x04, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, b'w', 0x00, 0x00,
        ];
        let kind = DecodeErrorKind::DuplicateProperty { id: 0x01 };
        assert_rejects(&bytes, kind, P, None);
    }

    /// 5.0 section 2.2.2.2: a property CONNECT may not carry is a Malformed Packet.
    #[test]
    fn rejects_property_not_allowed_in_connect() {
        // Topic Alias 1 in CONNECT.
        let bytes = [
            0x10, 0x10, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3C, 0x03, 0x23,
            0x00, 0x01, 0x00, 0x00,
        ];
        let kind = DecodeErrorKind::PropertyNotAllowed { id: 0x23 };
        assert_rejects(&bytes, kind, M, None);
        // Session Expiry Interval among the will properties. RL 11 + 2 + 6 + 3 + 2 = 24.
        let bytes = [
            0x10, 0x18, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x06, 0x00, 0x3C, 0x00, 0x00,
            0x00, 0x05, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, b'w', 0x00, 0x00,
        ];
        let kind = DecodeErrorKind::PropertyNotAllowed { id: 0x11 };
        assert_rejects(&bytes, kind, M, None);
        // An identifier MQTT 5.0 does not define.
        let bytes = [
            0x10, 0x0F, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3C, 0x02, 0x7F,
            0x00, 0x00, 0x00,
        ];
        let kind = DecodeErrorKind::UnknownProperty { id: 0x7F };
        assert_rejects(&bytes, kind, M, None);
    }

    /// 5.0 section 3.1.2.11.3: Receive Maximum 0 is a Protocol Error.
    #[test]
    fn rejects_receive_maximum_0() {
        let bytes = [
            0x10, 0x10, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x05, 0x02, 0x00, 0x3C, 0x03, 0x21,
            0x00, 0x00, 0x00, 0x00,
        ];
        let kind = DecodeErrorKind::InvalidPropertyValue { id: 0x21, value: 0 };
        assert_rejects(&bytes, kind, P, None);
    }

    /// 5.0 section 3.1.2.11.4: Maximum Packet Size 0 is a Protocol Error.
    #[test]
    fn rejects_maximum_packet_size_0() {
        let bytes = [
            0x10, 0x12, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3C, 0x05, 0x27,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        let kind = DecodeErrorKind::InvalidPropertyValue { id: 0x27, value: 0 };
        assert_rejects(&bytes, kind, P, None);
    }

    /// 5.0 sections 3.1.2.11.6 and 3.1.2.11.7: the request bytes are 0 or 1.
    #[test]
    fn rejects_request_information_bytes_above_1() {
        for id in [0x17, 0x19] {
            let bytes = [
                0x10, 0x0F, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3C, 0x02, id,
                0x02, 0x00, 0x00,
            ];
            let kind = DecodeErrorKind::InvalidPropertyValue { id, value: 2 };
            assert_rejects(&bytes, kind, P, None);
        }
    }

    // ---- encoder refusals --------------------------------------------------------------

    #[test]
    fn encoder_refuses_properties_below_v5() {
        for version in [V3, V4] {
            let mut connect = Connect::new(version, s("c1"));
            connect.properties.session_expiry_interval = Some(1);
            assert_eq!(
                encode_err(&connect),
                EncodeError::UnsupportedInVersion {
                    what: "CONNECT properties",
                    version
                }
            );
            let mut connect = Connect::new(version, s("c1"));
            let mut will = Will::new(topic("w"), &b""[..]);
            will.properties.will_delay_interval = Some(1);
            connect.will = Some(will);
            assert_eq!(
                encode_err(&connect),
                EncodeError::UnsupportedInVersion {
                    what: "will properties",
                    version
                }
            );
        }
    }

    /// 3.1.1 [MQTT-3.1.2-22]: no password without a user name below 5.0.
    #[test]
    fn encoder_refuses_password_without_user_name_below_v5_mqtt_3_1_2_22() {
        for version in [V3, V4] {
            let mut connect = Connect::new(version, s("c1"));
            connect.password = Some(Bytes::from_static(b"pw"));
            let err = encode_err(&connect);
            assert!(
                matches!(
                    err,
                    EncodeError::Invalid {
                        rule: Some("MQTT-3.1.2-22"),
                        ..
                    }
                ),
                "{err:?}"
            );
        }
    }

    /// 3.1.1 [MQTT-3.1.3-7]: an empty client id needs Clean Session 1.
    #[test]
    fn encoder_refuses_empty_client_id_without_clean_session_mqtt_3_1_3_7() {
        let mut connect = Connect::new(V4, MqttString::empty());
        connect.clean_start = false;
        let err = encode_err(&connect);
        assert!(
            matches!(
                err,
                EncodeError::Invalid {
                    rule: Some("MQTT-3.1.3-7"),
                    ..
                }
            ),
            "{err:?}"
        );
    }

    /// MQTT 3.1 (untagged): the client identifier is 1 to 23 characters; the decoder
    /// accepts any, for the server to answer return code 2.
    #[test]
    fn encoder_refuses_3_1_client_id_not_of_1_to_23_characters() {
        for id in ["", "abcdefghijklmnopqrstuvwx", "ééééééééééééééééééééééééé"]
        {
            for clean_start in [false, true] {
                let mut connect = Connect::new(V3, s(id));
                connect.clean_start = clean_start;
                let err = encode_err(&connect);
                assert!(
                    matches!(err, EncodeError::Invalid { rule: None, what } if what.contains("3.1 client identifier")),
                    "{id:?}: {err:?}"
                );
                // What a non-conforming 3.1 client sends still decodes.
                let mut wire = connect.clone();
                wire.protocol_version = V4;
                wire.clean_start = true;
                let mut bytes = encode(&Packet::from(wire), V4).unwrap();
                let name_end = 2 + 2 + 4;
                bytes.splice(2..name_end + 1, *b"\x00\x06MQIsdp\x03");
                bytes[1] += 2;
                let decoded: Connect = test_util::decode_as(&bytes, V3);
                assert_eq!(decoded.client_id, id);
            }
        }
        for id in ["a", "abcdefghijklmnopqrstuvw", "éééééééééééééééééééééé"] {
            let connect = Connect::new(V3, s(id));
            let bytes = encode(&Packet::from(connect.clone()), V3).unwrap();
            assert_eq!(test_util::decode_as::<Connect>(&bytes, V3), connect);
        }
    }

    /// [MQTT-4.7.3-1]: the will topic is not empty.
    #[test]
    fn encoder_refuses_empty_will_topic_mqtt_4_7_3_1() {
        for version in [V3, V4, V5] {
            let mut connect = Connect::new(version, s("c1"));
            connect.will = Some(Will::new(TopicName::default(), &b"x"[..]));
            let err = encode_err(&connect);
            assert!(
                matches!(
                    err,
                    EncodeError::Invalid {
                        rule: Some("MQTT-4.7.3-1"),
                        ..
                    }
                ),
                "{err:?}"
            );
        }
    }

    #[test]
    fn encoder_refuses_authentication_data_without_method() {
        let mut connect = Connect::new(V5, s("c1"));
        connect
            .properties
            .set_authentication_data(Some(Bytes::from_static(b"x")))
            .unwrap();
        let err = encode_err(&connect);
        assert!(matches!(err, EncodeError::Invalid { .. }), "{err:?}");
    }

    /// Section 1.5.6: Binary Data holds at most 65,535 bytes.
    #[test]
    fn encoder_refuses_binary_fields_over_65535_bytes() {
        let big = Bytes::from(vec![0u8; 65_536]);
        let mut connect = Connect::new(V5, s("c1"));
        connect.password = Some(big.clone());
        assert_eq!(
            encode_err(&connect),
            EncodeError::BinaryTooLong {
                field: "password",
                len: 65_536
            }
        );
        let mut connect = Connect::new(V4, s("c1"));
        connect.will = Some(Will::new(topic("w"), big));
        assert_eq!(
            encode_err(&connect),
            EncodeError::BinaryTooLong {
                field: "will payload",
                len: 65_536
            }
        );
        // 65,535 bytes is fine: RL 10 + 4 + 3 + 2 + 65,535 = 65,554, three bytes of
        // Remaining Length.
        let mut connect = Connect::new(V4, s("c1"));
        connect.will = Some(Will::new(topic("w"), Bytes::from(vec![7u8; 65_535])));
        let bytes = encode(&connect, V4).unwrap();
        assert_eq!(bytes.len(), 1 + 3 + 65_554);
        assert_eq!(bytes[..4], [0x10, 0x92, 0x80, 0x04]);
        assert_eq!(decode(&bytes), connect);
    }
}
