/// A Variable Byte Integer value: 0 to 268,435,455, written in one to four bytes
/// ([MQTT-1.5.5-1]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct VarInt(u32);

impl VarInt {
    /// The largest value a Variable Byte Integer can hold.
    pub const MAX: u32 = 268_435_455;

    /// `value` as a Variable Byte Integer, or `None` above [`VarInt::MAX`].
    #[must_use]
    pub const fn new(value: u32) -> Option<Self> {
        if value <= Self::MAX {
            Some(Self(value))
        } else {
            None
        }
    }

    /// The value.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }

    /// How many bytes the value takes on the wire (1 to 4).
    #[must_use]
    pub const fn encoded_len(self) -> usize {
        len(self.0 as usize)
    }
}

/// A Subscription Identifier: 1 to 268,435,455 (0 is a Protocol Error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionId(u32);

impl SubscriptionId {
    /// `value` as a Subscription Identifier, or `None` for 0 or above [`VarInt::MAX`].
    #[must_use]
    pub const fn new(value: u32) -> Option<Self> {
        if value >= 1 && value <= VarInt::MAX {
            Some(Self(value))
        } else {
            None
        }
    }

    /// The identifier as a number.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl core::fmt::Display for SubscriptionId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

/// Bytes a Variable Byte Integer of `value` takes on the wire (1 to 4; values beyond
/// 268,435,455 cannot be encoded and are refused before this is asked).
pub(crate) const fn len(value: usize) -> usize {
    if value < 0x80 {
        1
    } else if value < 0x4000 {
        2
    } else if value < 0x20_0000 {
        3
    } else {
        4
    }
}
