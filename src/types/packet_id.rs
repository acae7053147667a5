use core::num::NonZeroU16;

/// A packet identifier: never zero ([MQTT-2.2.1-3] in 5.0, [MQTT-2.3.1-1] in 3.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PacketId(NonZeroU16);

impl PacketId {
    /// The smallest identifier, 1.
    pub const MIN: PacketId = PacketId(NonZeroU16::MIN);
    /// The largest identifier, 65,535.
    pub const MAX: PacketId = PacketId(NonZeroU16::MAX);

    /// The packet identifier `value`, or `None` for 0.
    #[must_use]
    pub const fn new(value: u16) -> Option<Self> {
        match NonZeroU16::new(value) {
            Some(id) => Some(Self(id)),
            None => None,
        }
    }

    /// The identifier as a number, 1 to 65,535.
    #[must_use]
    pub const fn get(self) -> u16 {
        self.0.get()
    }
}

impl From<NonZeroU16> for PacketId {
    fn from(id: NonZeroU16) -> Self {
        Self(id)
    }
}

impl From<PacketId> for u16 {
    fn from(id: PacketId) -> u16 {
        id.get()
    }
}

impl TryFrom<u16> for PacketId {
    type Error = u16;

    /// Converts a non-zero value; gives back 0 as the error.
    fn try_from(value: u16) -> Result<Self, u16> {
        Self::new(value).ok_or(value)
    }
}

impl core::fmt::Display for PacketId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}
