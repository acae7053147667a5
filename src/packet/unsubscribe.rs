//! UNSUBSCRIBE: the client's request to remove subscriptions (MQTT 5.0 section 3.10,
//! 3.1.1 section 3.10).
//!
//! ```text
//! fixed header    0xA2, Remaining Length
//! variable header Packet Identifier two-byte integer
//!                 Properties        (5.0 only)
//! payload         one or more Topic Filter strings
//! ```

use super::subscribe::{check_filter, read_filter};
use super::{v5_only, EncodeBody};
use crate::codec::reader::Reader;
use crate::codec::writer::put_str;
use crate::codec::Trim;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::packet::PacketType;
use crate::properties::UnsubscribeProperties;
use crate::types::{PacketId, ProtocolVersion, TopicFilter};
use alloc::vec::Vec;
use bytes::BufMut;

/// UNSUBSCRIBE: the topic filters to remove, compared character by character with the
/// session's subscriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    /// The packet identifier, echoed by the UNSUBACK.
    pub packet_id: PacketId,
    /// The filters; at least one ([MQTT-3.10.3-2]).
    pub filters: Vec<TopicFilter>,
    /// Properties (MQTT 5.0).
    pub properties: UnsubscribeProperties,
}

impl Unsubscribe {
    /// An UNSUBSCRIBE without properties.
    pub fn new(packet_id: PacketId, filters: Vec<TopicFilter>) -> Self {
        Self {
            packet_id,
            filters,
            properties: UnsubscribeProperties::default(),
        }
    }

    pub(crate) fn detach(&self) -> Self {
        Self {
            packet_id: self.packet_id,
            filters: self.filters.iter().map(TopicFilter::detach).collect(),
            properties: self.properties.detach(),
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let packet_id = r.packet_id(PacketType::Unsubscribe)?;
        let properties = if r.version.is_v5() {
            UnsubscribeProperties::decode(r)?
        } else {
            UnsubscribeProperties::default()
        };
        let mut filters = Vec::new();
        while r.has_remaining() {
            filters.push(read_filter(r)?);
        }
        if filters.is_empty() {
            return Err(
                DecodeError::new(DecodeErrorKind::NoTopicFilters).with_rule("MQTT-3.10.3-2")
            );
        }
        Ok(Self {
            packet_id,
            filters,
            properties,
        })
    }
}

impl EncodeBody for Unsubscribe {
    fn flags(&self) -> u8 {
        0b0010
    }

    fn body_len(&self, version: ProtocolVersion, _trim: Trim) -> Result<usize, EncodeError> {
        if self.filters.is_empty() {
            return Err(EncodeError::invalid(
                "UNSUBSCRIBE without a topic filter",
                Some("MQTT-3.10.3-2"),
            ));
        }
        v5_only(
            version,
            self.properties.is_empty(),
            "UNSUBSCRIBE properties",
        )?;
        self.properties.check()?;
        let mut len = 2;
        if version.is_v5() {
            len += self.properties.wire_len(Trim::Nothing);
        }
        for filter in &self.filters {
            check_filter(filter, version)?;
            len += filter.as_mqtt_str().wire_len();
        }
        Ok(len)
    }

    fn put_body<B: BufMut + ?Sized>(&self, version: ProtocolVersion, _trim: Trim, buf: &mut B) {
        buf.put_u16(self.packet_id.get());
        if version.is_v5() {
            self.properties.put(buf, Trim::Nothing);
        }
        for filter in &self.filters {
            put_str(buf, filter.as_mqtt_str());
        }
    }
}
