//! Property value types: how each is read, checked, sized and written.

use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::properties::{id, name};
use crate::types::{MqttStr, QoS, SubscriptionId};
#[cfg(feature = "alloc")]
use crate::types::{MqttString, TopicName};
use crate::wire::reader::Reader;
use crate::wire::varint;
use crate::wire::writer::Sink;
#[cfg(feature = "alloc")]
use crate::wire::writer::{put_binary, put_str};
use crate::ReasonCode;
#[cfg(feature = "alloc")]
use bytes::Bytes;
use core::num::{NonZeroU16, NonZeroU32};

/// Payload Format Indicator (0x01): what the payload of a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PayloadFormat {
    /// 0: unspecified bytes.
    #[default]
    Unspecified = 0,
    /// 1: UTF-8 encoded character data.
    Utf8 = 1,
}

fn invalid_value(id: u8, value: u32) -> DecodeError {
    let err = DecodeError::new(DecodeErrorKind::InvalidPropertyValue { id, value });
    if id == id::TOPIC_ALIAS {
        // Topic Alias 0 is answered with DISCONNECT 0x94 ([MQTT-3.3.2-8]).
        err.with_reason(ReasonCode::TOPIC_ALIAS_INVALID)
            .with_rule("MQTT-3.3.2-8")
    } else {
        err
    }
}

/// A property value: checked before encoding, written after.
pub(crate) trait PropValue: Sized {
    /// Bytes of the value, without the identifier.
    fn wire_len(&self) -> usize;
    fn put<B: Sink + ?Sized>(&self, buf: &mut B);
    fn check(&self, _id: u8) -> Result<(), EncodeError> {
        Ok(())
    }
}

/// A fixed-size property value, kept as a typed field of its set: read while decoding.
pub(crate) trait FixedValue: PropValue + Copy {
    fn read(r: &mut Reader<'_>, id: u8) -> Result<Self, DecodeError>;
}

impl FixedValue for bool {
    fn read(r: &mut Reader<'_>, id: u8) -> Result<Self, DecodeError> {
        match r.u8(name(id))? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(invalid_value(id, v.into())),
        }
    }
}

impl PropValue for bool {
    fn wire_len(&self) -> usize {
        1
    }
    fn put<B: Sink + ?Sized>(&self, buf: &mut B) {
        buf.put_u8(u8::from(*self));
    }
}

impl FixedValue for PayloadFormat {
    fn read(r: &mut Reader<'_>, id: u8) -> Result<Self, DecodeError> {
        match r.u8(name(id))? {
            0 => Ok(Self::Unspecified),
            1 => Ok(Self::Utf8),
            v => Err(invalid_value(id, v.into())),
        }
    }
}

impl PropValue for PayloadFormat {
    fn wire_len(&self) -> usize {
        1
    }
    fn put<B: Sink + ?Sized>(&self, buf: &mut B) {
        buf.put_u8(*self as u8);
    }
}

/// Maximum QoS (0x24): 0 or 1; the absence of the property means 2.
impl FixedValue for QoS {
    fn read(r: &mut Reader<'_>, id: u8) -> Result<Self, DecodeError> {
        match r.u8(name(id))? {
            0 => Ok(QoS::AtMostOnce),
            1 => Ok(QoS::AtLeastOnce),
            v => Err(invalid_value(id, v.into())),
        }
    }
}

impl PropValue for QoS {
    fn wire_len(&self) -> usize {
        1
    }
    fn put<B: Sink + ?Sized>(&self, buf: &mut B) {
        buf.put_u8(self.bits());
    }
    fn check(&self, _id: u8) -> Result<(), EncodeError> {
        if *self == QoS::ExactlyOnce {
            return Err(EncodeError::invalid(
                "Maximum QoS must be 0 or 1 (leave it out to mean 2)",
                None,
            ));
        }
        Ok(())
    }
}

impl FixedValue for u16 {
    fn read(r: &mut Reader<'_>, id: u8) -> Result<Self, DecodeError> {
        r.u16(name(id))
    }
}

impl PropValue for u16 {
    fn wire_len(&self) -> usize {
        2
    }
    fn put<B: Sink + ?Sized>(&self, buf: &mut B) {
        buf.put_u16(*self);
    }
}

impl FixedValue for NonZeroU16 {
    fn read(r: &mut Reader<'_>, id: u8) -> Result<Self, DecodeError> {
        NonZeroU16::new(r.u16(name(id))?).ok_or_else(|| invalid_value(id, 0))
    }
}

impl PropValue for NonZeroU16 {
    fn wire_len(&self) -> usize {
        2
    }
    fn put<B: Sink + ?Sized>(&self, buf: &mut B) {
        buf.put_u16(self.get());
    }
}

impl FixedValue for u32 {
    fn read(r: &mut Reader<'_>, id: u8) -> Result<Self, DecodeError> {
        r.u32(name(id))
    }
}

impl PropValue for u32 {
    fn wire_len(&self) -> usize {
        4
    }
    fn put<B: Sink + ?Sized>(&self, buf: &mut B) {
        buf.put_u32(*self);
    }
}

impl FixedValue for NonZeroU32 {
    fn read(r: &mut Reader<'_>, id: u8) -> Result<Self, DecodeError> {
        NonZeroU32::new(r.u32(name(id))?).ok_or_else(|| invalid_value(id, 0))
    }
}

impl PropValue for NonZeroU32 {
    fn wire_len(&self) -> usize {
        4
    }
    fn put<B: Sink + ?Sized>(&self, buf: &mut B) {
        buf.put_u32(self.get());
    }
}

impl FixedValue for SubscriptionId {
    fn read(r: &mut Reader<'_>, id: u8) -> Result<Self, DecodeError> {
        let v = r.varint(name(id))?;
        SubscriptionId::new(v).ok_or_else(|| invalid_value(id, v))
    }
}

impl PropValue for SubscriptionId {
    fn wire_len(&self) -> usize {
        varint::len(self.get() as usize)
    }
    fn put<B: Sink + ?Sized>(&self, buf: &mut B) {
        varint::put(buf, self.get() as usize);
    }
}

#[cfg(feature = "alloc")]
impl PropValue for MqttString {
    fn wire_len(&self) -> usize {
        self.wire_len()
    }
    fn put<B: Sink + ?Sized>(&self, buf: &mut B) {
        put_str(buf, self.as_borrowed());
    }
}

#[cfg(feature = "alloc")]
/// Response Topic (0x08): a Topic Name, so no wildcards ([MQTT-3.3.2-14]) and not empty
/// ([MQTT-4.7.3-1]).
impl PropValue for TopicName {
    fn wire_len(&self) -> usize {
        self.as_mqtt_str().wire_len()
    }
    fn put<B: Sink + ?Sized>(&self, buf: &mut B) {
        put_str(buf, self.as_mqtt_str().as_borrowed());
    }
    fn check(&self, _id: u8) -> Result<(), EncodeError> {
        if self.is_empty() {
            return Err(EncodeError::invalid(
                "Response Topic is empty",
                Some("MQTT-4.7.3-1"),
            ));
        }
        Ok(())
    }
}

#[cfg(feature = "alloc")]
impl PropValue for Bytes {
    fn wire_len(&self) -> usize {
        2 + self.len()
    }
    fn put<B: Sink + ?Sized>(&self, buf: &mut B) {
        put_binary(buf, self);
    }
    fn check(&self, id: u8) -> Result<(), EncodeError> {
        check_binary(self, name(id))
    }
}

/// Binary Data holds at most 65,535 bytes (section 1.5.6).
pub(crate) fn check_binary(b: &[u8], field: &'static str) -> Result<(), EncodeError> {
    if b.len() > usize::from(u16::MAX) {
        return Err(EncodeError::BinaryTooLong {
            field,
            len: b.len(),
        });
    }
    Ok(())
}

#[cfg(feature = "alloc")]
/// A variable-length property value, kept encoded in its set's [block](super::block).
pub(crate) trait BlockValue: PropValue {
    /// The value encoded as `value` (length prefix included), a slice of `block`.
    fn from_block(block: &Bytes, value: &[u8]) -> Self;
}

/// A variable-length value as the borrowed views return it, from its encoding `value`
/// (length prefix included) in a validated block.
pub(crate) trait ViewValue<'a> {
    fn from_value(value: &'a [u8]) -> Self;
}

/// A value's bytes after its two-byte length prefix.
fn after_length(value: &[u8]) -> &[u8] {
    value.get(2..).unwrap_or_default()
}

impl<'a> ViewValue<'a> for MqttStr<'a> {
    fn from_value(value: &'a [u8]) -> Self {
        MqttStr::from_checked(after_length(value))
    }
}

impl<'a> ViewValue<'a> for &'a [u8] {
    fn from_value(value: &'a [u8]) -> Self {
        after_length(value)
    }
}

#[cfg(feature = "alloc")]
impl BlockValue for MqttString {
    fn from_block(block: &Bytes, value: &[u8]) -> Self {
        MqttString::from_checked(crate::types::string::slice_of(block, after_length(value)))
    }
}

#[cfg(feature = "alloc")]
impl BlockValue for TopicName {
    fn from_block(block: &Bytes, value: &[u8]) -> Self {
        TopicName::from_checked(MqttString::from_block(block, value))
    }
}

#[cfg(feature = "alloc")]
impl BlockValue for Bytes {
    fn from_block(block: &Bytes, value: &[u8]) -> Self {
        crate::types::string::slice_of(block, after_length(value))
    }
}

/// Checks the variable-length property value at the front of `r` (its identifier `id` just
/// read) and steps over it.
pub(crate) fn skip_variable(r: &mut Reader<'_>, id: u8) -> Result<(), DecodeError> {
    match id {
        id::RESPONSE_TOPIC => skip_topic(r, id),
        id::CORRELATION_DATA | id::AUTHENTICATION_DATA => r.skip_binary(name(id)),
        _ => r.skip_string(name(id)).map(drop),
    }
}

/// Response Topic (0x08): a Topic Name, so not empty ([MQTT-4.7.3-1]) and free of
/// wildcards ([MQTT-3.3.2-14]).
fn skip_topic(r: &mut Reader<'_>, id: u8) -> Result<(), DecodeError> {
    let field = name(id);
    let (s, wildcards) = r.string_and_wildcards(field)?;
    if s.is_empty() {
        return Err(DecodeError::new(DecodeErrorKind::EmptyTopicName { field })
            .with_reason(ReasonCode::MALFORMED_PACKET)
            .with_rule("MQTT-4.7.3-1"));
    }
    if wildcards {
        let reason = crate::types::InvalidTopic::WildcardInName;
        return Err(
            DecodeError::new(DecodeErrorKind::InvalidTopic { field, reason })
                .with_reason(ReasonCode::PROTOCOL_ERROR)
                .with_rule("MQTT-3.3.2-14"),
        );
    }
    Ok(())
}
