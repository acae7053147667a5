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
use crate::codec::fixed_header::check_connect_flags;
use crate::codec::reader::Reader;
use crate::codec::writer::{put_binary, put_str};
use crate::codec::Trim;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::properties::check_binary;
use crate::properties::{ConnectProperties, WillProperties};
use crate::types::{MqttString, ProtocolVersion, QoS, TopicName};
use bytes::{BufMut, Bytes};

const USER_NAME: u8 = 0x80;
const PASSWORD: u8 = 0x40;
const WILL_RETAIN: u8 = 0x20;
const WILL_QOS_SHIFT: u8 = 3;
const WILL_FLAG: u8 = 0x04;
const CLEAN_START: u8 = 0x02;
const RESERVED: u8 = 0x01;

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
    /// Client Identifier; may be empty for the server to assign one.
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

impl Will {
    /// A QoS 0, non-retained will.
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

impl Connect {
    /// A clean-start CONNECT with keep alive 60 s and nothing else set.
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

    /// Decodes the body; sets `r.version` to the level the packet declares.
    pub(crate) fn decode(r: &mut Reader<'_>, fixed_flags: u8) -> Result<Self, DecodeError> {
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
        check_connect_flags(fixed_flags, version)?;

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
            let p = ConnectProperties::decode(r)?;
            if p.authentication_data.is_some() && p.authentication_method.is_none() {
                return Err(DecodeErrorKind::AuthenticationDataWithoutMethod.into());
            }
            p
        } else {
            ConnectProperties::default()
        };

        let client_id = r
            .string("client identifier")
            .map_err(|e| e.or_rule("MQTT-3.1.3-3"))?;
        let will = if will_flag {
            Some(decode_will(r, will_qos_bits, will_retain)?)
        } else {
            None
        };
        let user_name = if has_user {
            let rule = r.tag("MQTT-3.1.2-19", "MQTT-3.1.2-17");
            Some(r.string("user name").map_err(|e| e.or_rule(rule))?)
        } else {
            None
        };
        let password = if has_password {
            let rule = r.tag("MQTT-3.1.2-21", "MQTT-3.1.2-19");
            Some(r.binary("password").map_err(|e| e.or_rule(rule))?)
        } else {
            None
        };
        // Bytes after the last field the flags announce: a field whose flag is clear.
        let rule = match (has_user, has_password) {
            (false, _) => r.tag("MQTT-3.1.2-18", "MQTT-3.1.2-16"),
            _ => r.tag("MQTT-3.1.2-20", "MQTT-3.1.2-18"),
        };
        r.finish().map_err(|e| e.with_rule(rule))?;

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
}

fn decode_will(r: &mut Reader<'_>, qos_bits: u8, retain: bool) -> Result<Will, DecodeError> {
    let present = r.tag("MQTT-3.1.2-9", "MQTT-3.1.2-9");
    let properties = if r.version.is_v5() {
        WillProperties::decode(r).map_err(|e| e.or_rule(present))?
    } else {
        WillProperties::default()
    };
    let field = "will topic";
    let topic = r.string(field).map_err(|e| e.or_rule(present))?;
    if topic.is_empty() {
        return Err(DecodeError::new(DecodeErrorKind::EmptyTopicName { field })
            .with_reason(crate::ReasonCode::MALFORMED_PACKET)
            .with_rule("MQTT-4.7.3-1"));
    }
    let topic = TopicName::from_string(topic).map_err(|reason| {
        DecodeError::new(DecodeErrorKind::InvalidTopic { field, reason })
            .with_rule(r.tag("MQTT-4.7.1-1", "MQTT-4.7.0-1"))
    })?;
    let payload = r.binary("will payload").map_err(|e| e.or_rule(present))?;
    Ok(Will {
        topic,
        payload,
        qos: QoS::from_bits(qos_bits).unwrap_or_default(),
        retain,
        properties,
    })
}

impl EncodeBody for Connect {
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
        if self.client_id.is_empty() && !self.clean_start && !v5 {
            return Err(EncodeError::invalid(
                "empty client identifier without clean session",
                Some("MQTT-3.1.3-7"),
            ));
        }
        self.properties.check()?;
        if self.properties.authentication_data.is_some()
            && self.properties.authentication_method.is_none()
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
            check_binary(&will.payload, "will payload")?;
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

    fn put_body<B: BufMut + ?Sized>(&self, _version: ProtocolVersion, _trim: Trim, buf: &mut B) {
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
        put_str(buf, &self.client_id);
        if let Some(will) = &self.will {
            if version.is_v5() {
                will.properties.put(buf, Trim::Nothing);
            }
            put_str(buf, will.topic.as_mqtt_str());
            put_binary(buf, &will.payload);
        }
        if let Some(user) = &self.user_name {
            put_str(buf, user);
        }
        if let Some(password) = &self.password {
            put_binary(buf, password);
        }
    }
}
