/// The protocol level a connection speaks, as carried in the CONNECT packet.
///
/// MQTT 3.1 has no numbered conformance statements of its own; where mqttwire cites a
/// rule for a level 3 connection it cites the MQTT 3.1.1 statement that carries it over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProtocolVersion {
    /// MQTT 3.1: protocol level 3, protocol name `MQIsdp`.
    V3_1,
    /// MQTT 3.1.1: protocol level 4, protocol name `MQTT`.
    V3_1_1,
    /// MQTT 5.0: protocol level 5, protocol name `MQTT`.
    V5,
}

impl ProtocolVersion {
    /// The protocol level byte of the CONNECT packet (3, 4 or 5).
    #[must_use]
    pub const fn level(self) -> u8 {
        match self {
            Self::V3_1 => 3,
            Self::V3_1_1 => 4,
            Self::V5 => 5,
        }
    }

    /// The version for a protocol level byte, if mqttwire speaks it.
    #[must_use]
    pub const fn from_level(level: u8) -> Option<Self> {
        match level {
            3 => Some(Self::V3_1),
            4 => Some(Self::V3_1_1),
            5 => Some(Self::V5),
            _ => None,
        }
    }

    /// The protocol name this level requires in CONNECT: `MQIsdp` for 3.1, `MQTT` otherwise.
    #[must_use]
    pub const fn protocol_name(self) -> &'static str {
        match self {
            Self::V3_1 => "MQIsdp",
            _ => "MQTT",
        }
    }

    /// Whether this is MQTT 5.0, the only level with properties and reason codes.
    #[must_use]
    pub const fn is_v5(self) -> bool {
        matches!(self, Self::V5)
    }

    /// Picks the normative statement tag of this version: tag numbers differ between
    /// 3.1.1 (also used for 3.1) and 5.0.
    pub(crate) const fn tag(self, v3: &'static str, v5: &'static str) -> &'static str {
        if self.is_v5() {
            v5
        } else {
            v3
        }
    }
}

impl core::fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::V3_1 => "MQTT 3.1",
            Self::V3_1_1 => "MQTT 3.1.1",
            Self::V5 => "MQTT 5.0",
        })
    }
}
