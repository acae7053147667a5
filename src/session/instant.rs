//! The engine's clock type: a monotonic instant the caller supplies, so the engine needs no
//! clock of its own and runs without `std`.

use core::time::Duration;

/// A point in time, in milliseconds since an origin the caller chooses (boot, the start of
/// the program, ...). The session engine only compares instants and adds durations to them,
/// so the origin does not matter as long as it stays the same for the life of a session.
///
/// Under the `std` feature it converts to and from [`std::time::Instant`] against one
/// process-wide origin, fixed the first time a conversion happens:
///
/// ```
/// use mqttwire::session::Instant;
///
/// let now = Instant::from(std::time::Instant::now());
/// let later = now + core::time::Duration::from_secs(5);
/// assert_eq!(later.saturating_duration_since(now).as_secs(), 5);
/// let deadline: std::time::Instant = later.into();
/// assert!(deadline > std::time::Instant::now());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// The origin.
    pub const ZERO: Instant = Instant(0);

    /// The instant `millis` milliseconds after the origin.
    #[must_use]
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the origin.
    #[must_use]
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The time from `earlier` to `self`, or zero if `earlier` is later.
    #[must_use]
    pub const fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }

    /// `self` plus `duration`, saturating at the far future instead of overflowing.
    #[must_use]
    pub fn saturating_add(self, duration: Duration) -> Self {
        let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        Self(self.0.saturating_add(millis))
    }
}

impl core::ops::Add<Duration> for Instant {
    type Output = Instant;

    /// Saturates at the far future instead of overflowing.
    fn add(self, duration: Duration) -> Instant {
        self.saturating_add(duration)
    }
}

#[cfg(feature = "std")]
fn std_origin() -> std::time::Instant {
    static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *ORIGIN.get_or_init(std::time::Instant::now)
}

#[cfg(feature = "std")]
impl From<std::time::Instant> for Instant {
    /// Instants before the process-wide origin map to [`Instant::ZERO`].
    fn from(instant: std::time::Instant) -> Self {
        let since = instant.saturating_duration_since(std_origin());
        Self(u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
    }
}

#[cfg(feature = "std")]
impl From<Instant> for std::time::Instant {
    /// Saturates at the latest instant `std` can represent.
    fn from(instant: Instant) -> Self {
        let origin = std_origin();
        let mut offset = Duration::from_millis(instant.0);
        // `checked_add` fails for instants beyond what the platform represents; halve the
        // offset until it fits rather than panic.
        loop {
            if let Some(t) = origin.checked_add(offset) {
                return t;
            }
            offset /= 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_saturates_instead_of_overflowing() {
        let far = Instant::from_millis(u64::MAX - 1);
        assert_eq!(
            far + Duration::from_secs(10),
            Instant::from_millis(u64::MAX)
        );
        assert_eq!(
            Instant::ZERO + Duration::from_secs(u64::MAX),
            Instant::from_millis(u64::MAX)
        );
    }

    #[test]
    fn duration_since_a_later_instant_is_zero() {
        let a = Instant::from_millis(5);
        assert_eq!(
            a.saturating_duration_since(Instant::from_millis(9)),
            Duration::ZERO
        );
        assert_eq!(
            Instant::from_millis(9).saturating_duration_since(a),
            Duration::from_millis(4)
        );
    }

    #[cfg(feature = "std")]
    #[test]
    fn std_instants_round_trip_to_the_millisecond() {
        let now = std::time::Instant::now();
        let back: std::time::Instant = Instant::from(now).into();
        assert!(now.saturating_duration_since(back) < Duration::from_millis(1));
        assert!(back.saturating_duration_since(now) < Duration::from_millis(1));
    }
}
