#[cfg(feature = "alloc")]
use super::MqttString;
use super::{InvalidString, MqttStr};
#[cfg(feature = "alloc")]
use alloc::string::String;

/// Why a string is not a valid topic name or topic filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidTopic {
    /// The string itself is not an MQTT string.
    #[error(transparent)]
    String(#[from] InvalidString),
    /// A topic name holds `+` or `#` ([MQTT-3.3.2-2], [MQTT-4.7.0-1]).
    #[error("topic name contains a wildcard character")]
    WildcardInName,
    /// A topic filter is empty ([MQTT-4.7.3-1]).
    #[error("topic filter is empty")]
    EmptyFilter,
    /// `#` is not alone in the last level ([MQTT-4.7.1-1] in 5.0, [MQTT-4.7.1-2] in 3.1.1).
    #[error("'#' must be the last character and fill its whole level")]
    MisplacedMultiLevelWildcard,
    /// `+` does not fill a whole level ([MQTT-4.7.1-2] in 5.0, [MQTT-4.7.1-3] in 3.1.1).
    #[error("'+' must fill a whole topic level")]
    MisplacedSingleLevelWildcard,
    /// A `$share/` filter without a valid share name and filter ([MQTT-4.8.2-1], [MQTT-4.8.2-2]).
    #[error("shared subscription must be $share/<name>/<filter> with a share name free of '/', '+' and '#'")]
    InvalidSharedSubscription,
}

#[cfg(feature = "alloc")]
/// A topic name, as PUBLISH and the will carry it: an MQTT string without wildcards.
///
/// The empty name is representable because an MQTT 5.0 PUBLISH may send it together
/// with a Topic Alias; encoding and decoding check that pairing at the packet level.
///
/// ```
/// use mqttwire::TopicName;
///
/// assert!(TopicName::new("sport/tennis/player1").is_ok());
/// assert!(TopicName::new("sport/+").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TopicName(MqttString);

#[cfg(feature = "alloc")]
impl TopicName {
    /// Checks and copies `name`.
    pub fn new(name: &str) -> Result<Self, InvalidTopic> {
        Self::from_string(MqttString::new(name)?)
    }

    /// Checks a `&'static str` and wraps it without copying.
    pub fn from_static(name: &'static str) -> Result<Self, InvalidTopic> {
        Self::from_string(MqttString::from_static(name)?)
    }

    /// Checks an [`MqttString`] for wildcards.
    pub fn from_string(name: MqttString) -> Result<Self, InvalidTopic> {
        if has_wildcard(name.as_bytes()) {
            return Err(InvalidTopic::WildcardInName);
        }
        Ok(Self(name))
    }

    /// Wraps a string the decoder has found free of wildcards.
    pub(crate) fn from_checked(name: MqttString) -> Self {
        Self(name)
    }

    /// The name as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The name as an [`MqttString`].
    #[must_use]
    pub fn as_mqtt_str(&self) -> &MqttString {
        &self.0
    }

    /// Whether the name is empty (valid only with a Topic Alias in MQTT 5.0).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The name as a borrowed [`TopicStr`].
    #[must_use]
    pub fn as_borrowed(&self) -> TopicStr<'_> {
        TopicStr::from_checked(self.0.as_borrowed())
    }

    pub(crate) fn detach(&self) -> Self {
        Self(self.0.detach())
    }
}

#[cfg(feature = "alloc")]
/// A topic filter, as SUBSCRIBE and UNSUBSCRIBE carry it: non-empty, `+` filling whole
/// levels and `#` only as the last level.
///
/// `$share/{ShareName}/{filter}` is checked as a shared subscription by the MQTT 5.0 codec;
/// in 3.1.1 it is an ordinary filter.
///
/// ```
/// use mqttwire::{TopicFilter, TopicName};
///
/// let filter = TopicFilter::new("sport/+/player1").unwrap();
/// assert!(filter.matches(&TopicName::new("sport/tennis/player1").unwrap()));
/// assert!(TopicFilter::new("sport/tennis#").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicFilter(MqttString);

#[cfg(feature = "alloc")]
impl TopicFilter {
    /// Checks and copies `filter`.
    pub fn new(filter: &str) -> Result<Self, InvalidTopic> {
        Self::from_string(MqttString::new(filter)?)
    }

    /// Checks a `&'static str` and wraps it without copying.
    pub fn from_static(filter: &'static str) -> Result<Self, InvalidTopic> {
        Self::from_string(MqttString::from_static(filter)?)
    }

    /// Checks an [`MqttString`] for the wildcard rules.
    pub fn from_string(filter: MqttString) -> Result<Self, InvalidTopic> {
        check_filter_bytes(filter.as_bytes())?;
        Ok(Self(filter))
    }

    /// Wraps a string the decoder has checked, which breaks no filter rule.
    pub(crate) fn from_plain(filter: MqttString) -> Self {
        debug_assert!(check_filter_bytes(filter.as_bytes()).is_ok());
        Self(filter)
    }

    /// The filter as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The filter as an [`MqttString`].
    #[must_use]
    pub fn as_mqtt_str(&self) -> &MqttString {
        &self.0
    }

    /// Whether the filter holds `+` or `#`.
    #[must_use]
    pub fn has_wildcards(&self) -> bool {
        has_wildcard(self.0.as_bytes())
    }

    /// Whether the filter names a shared subscription (`$share/...`, MQTT 5.0).
    #[must_use]
    pub fn is_shared(&self) -> bool {
        self.as_str().starts_with("$share/")
    }

    /// For a shared subscription, the share name and the filter behind it.
    ///
    /// Fails with [`InvalidTopic::InvalidSharedSubscription`] when the filter starts with
    /// `$share/` but the share name is empty or holds `/`, `+` or `#`, or no filter follows
    /// ([MQTT-4.8.2-1], [MQTT-4.8.2-2]).
    pub fn shared_parts(&self) -> Result<Option<(&str, &str)>, InvalidTopic> {
        let Some(rest) = self.as_str().strip_prefix("$share/") else {
            return Ok(None);
        };
        let (name, filter) = rest
            .split_once('/')
            .ok_or(InvalidTopic::InvalidSharedSubscription)?;
        if name.is_empty() || name.contains(['+', '#']) || filter.is_empty() {
            return Err(InvalidTopic::InvalidSharedSubscription);
        }
        Ok(Some((name, filter)))
    }

    /// Whether `topic` matches this filter, by the rules of MQTT section 4.7: levels compare
    /// byte for byte, `+` matches one level, `#` the parent and any number of levels below,
    /// and a filter starting with a wildcard never matches a topic starting with `$`
    /// ([MQTT-4.7.2-1]). A shared subscription matches on the filter behind its share name.
    #[must_use]
    pub fn matches(&self, topic: &TopicName) -> bool {
        // On bytes: `/`, `+`, `#` and `$` are ASCII, so levels split and compare alike
        // without decoding either string, which a broker does for every subscription.
        let filter = self.0.as_bytes();
        let filter = shared_filter(filter).unwrap_or(filter);
        let topic = topic.as_mqtt_str().as_bytes();
        if topic.first() == Some(&b'$') && matches!(filter.first(), Some(b'+' | b'#')) {
            return false;
        }
        let mut topic_levels = topic.split(|&b| b == b'/');
        for level in filter.split(|&b| b == b'/') {
            match level {
                b"#" => return true,
                b"+" => {
                    if topic_levels.next().is_none() {
                        return false;
                    }
                }
                _ => {
                    if topic_levels.next() != Some(level) {
                        return false;
                    }
                }
            }
        }
        topic_levels.next().is_none()
    }
}

/// A borrowed topic name: what [`TopicName`] is, as a slice of someone else's buffer (the
/// received packet, when decoded): an MQTT string without wildcards, checked when made. The
/// borrowed views ([`PublishRef`](crate::PublishRef), [`WillRef`](crate::WillRef)) carry
/// their topic as one, so encoding them needs no second check.
///
/// ```
/// use mqttwire::TopicStr;
///
/// assert_eq!(TopicStr::new("sport/tennis").unwrap(), "sport/tennis");
/// assert!(TopicStr::new("sport/+").is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TopicStr<'a>(MqttStr<'a>);

impl<'a> TopicStr<'a> {
    /// Checks `name` (an MQTT string without `+` or `#`, [MQTT-3.3.2-2]) and borrows it.
    pub fn new(name: &'a str) -> Result<Self, InvalidTopic> {
        let s = MqttStr::new(name)?;
        if has_wildcard(s.as_bytes()) {
            return Err(InvalidTopic::WildcardInName);
        }
        Ok(Self(s))
    }

    /// Wraps a string the decoder, or a [`TopicName`], has found free of wildcards.
    pub(crate) fn from_checked(name: MqttStr<'a>) -> Self {
        debug_assert!(!has_wildcard(name.as_bytes()));
        Self(name)
    }

    /// The name as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &'a str {
        self.0.as_str()
    }

    /// The name as an [`MqttStr`].
    #[must_use]
    pub fn as_mqtt_str(&self) -> MqttStr<'a> {
        self.0
    }

    /// The UTF-8 bytes, without the length prefix.
    #[must_use]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0.as_bytes()
    }

    /// Whether the name is empty (valid only with a Topic Alias in MQTT 5.0).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl core::fmt::Debug for TopicStr<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl core::fmt::Display for TopicStr<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for TopicStr<'_> {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for TopicStr<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

/// Whether `bytes` hold `+` or `#`: no topic name may ([MQTT-3.3.2-2]), nor a share name.
fn has_wildcard(bytes: &[u8]) -> bool {
    bytes.iter().any(|&b| b == b'+' || b == b'#')
}

/// The filter behind the share name of a valid shared subscription, as
/// [`TopicFilter::shared_parts`] finds it; `None` for any other filter.
fn shared_filter(filter: &[u8]) -> Option<&[u8]> {
    let rest = strip_share(filter)?;
    let slash = rest.iter().position(|&b| b == b'/')?;
    let (name, filter) = (&rest[..slash], &rest[slash + 1..]);
    let bad_name = name.is_empty() || has_wildcard(name);
    (!bad_name && !filter.is_empty()).then_some(filter)
}

/// What follows `$share/` in a filter that starts with it. `<[u8]>::strip_prefix` would do,
/// but calls `split_at`, whose bounds assertion a firmware built for size keeps out of line.
pub(crate) fn strip_share(filter: &[u8]) -> Option<&[u8]> {
    match filter.split_first_chunk::<7>() {
        Some((b"$share/", rest)) => Some(rest),
        _ => None,
    }
}

/// A `$share/` filter's syntax ([MQTT-4.8.2-1], [MQTT-4.8.2-2]); any other filter passes.
pub(crate) fn check_shared(filter: &[u8]) -> Result<(), InvalidTopic> {
    if filter.starts_with(b"$share/") && shared_filter(filter).is_none() {
        return Err(InvalidTopic::InvalidSharedSubscription);
    }
    Ok(())
}

/// The wildcard rules, on bytes: `/`, `+` and `#` are ASCII, so no UTF-8 decoding is needed.
pub(crate) fn check_filter_bytes(filter: &[u8]) -> Result<(), InvalidTopic> {
    if filter.is_empty() {
        return Err(InvalidTopic::EmptyFilter);
    }
    let mut levels = filter.split(|&b| b == b'/').peekable();
    while let Some(level) = levels.next() {
        if level.contains(&b'#') && (level != b"#" || levels.peek().is_some()) {
            return Err(InvalidTopic::MisplacedMultiLevelWildcard);
        }
        if level.contains(&b'+') && level != b"+" {
            return Err(InvalidTopic::MisplacedSingleLevelWildcard);
        }
    }
    Ok(())
}

#[cfg(feature = "alloc")]
macro_rules! topic_common_impls {
    ($ty:ident) => {
        impl core::ops::Deref for $ty {
            type Target = str;
            fn deref(&self) -> &str {
                self.as_str()
            }
        }
        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
        impl core::fmt::Debug for $ty {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                core::fmt::Debug::fmt(self.as_str(), f)
            }
        }
        impl core::fmt::Display for $ty {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl PartialEq<str> for $ty {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }
        impl PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
        impl TryFrom<&str> for $ty {
            type Error = InvalidTopic;
            fn try_from(s: &str) -> Result<Self, InvalidTopic> {
                Self::new(s)
            }
        }
        impl TryFrom<String> for $ty {
            type Error = InvalidTopic;
            /// Takes over the `String`'s buffer without copying it.
            fn try_from(s: String) -> Result<Self, InvalidTopic> {
                Self::from_string(MqttString::try_from(s)?)
            }
        }
        impl From<$ty> for MqttString {
            fn from(t: $ty) -> MqttString {
                t.0
            }
        }
    };
}
#[cfg(feature = "alloc")]
topic_common_impls!(TopicName);
#[cfg(feature = "alloc")]
topic_common_impls!(TopicFilter);

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Result<TopicFilter, InvalidTopic> {
        TopicFilter::new(s)
    }

    #[test]
    fn accepts_valid_multi_level_wildcards_mqtt_4_7_1_1() {
        for ok in ["#", "a/#", "/#", "+/#", "sport/tennis/#"] {
            assert!(f(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_misplaced_multi_level_wildcard_mqtt_4_7_1_1() {
        for bad in ["a#", "a/#/b", "#/", "a/b#", "##"] {
            assert_eq!(
                f(bad),
                Err(InvalidTopic::MisplacedMultiLevelWildcard),
                "{bad}"
            );
        }
    }

    #[test]
    fn accepts_valid_single_level_wildcards_mqtt_4_7_1_2() {
        for ok in ["+", "+/+", "/+", "a/+/b", "+/tennis/#"] {
            assert!(f(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_misplaced_single_level_wildcard_mqtt_4_7_1_2() {
        for bad in ["a+", "+a", "a/b+/c", "++"] {
            assert_eq!(
                f(bad),
                Err(InvalidTopic::MisplacedSingleLevelWildcard),
                "{bad}"
            );
        }
    }

    #[test]
    fn rejects_empty_filter_mqtt_4_7_3_1() {
        assert_eq!(f(""), Err(InvalidTopic::EmptyFilter));
    }

    #[test]
    fn rejects_wildcards_in_topic_names_mqtt_4_7_0_1() {
        assert_eq!(TopicName::new("a/+"), Err(InvalidTopic::WildcardInName));
        assert_eq!(TopicName::new("a/#"), Err(InvalidTopic::WildcardInName));
        assert!(TopicName::new("a/b").is_ok());
    }

    #[test]
    fn shared_subscription_syntax_mqtt_4_8_2_1_and_2() {
        let shared = |s| f(s).and_then(|t| t.shared_parts().map(|_| ()));
        for bad in ["$share//a", "$share/g", "$share/g/"] {
            assert_eq!(
                shared(bad),
                Err(InvalidTopic::InvalidSharedSubscription),
                "{bad}"
            );
        }
        // Wildcards in the share name already break the general wildcard rules.
        assert_eq!(
            shared("$share/g+/a"),
            Err(InvalidTopic::MisplacedSingleLevelWildcard)
        );
        assert_eq!(
            shared("$share/#/a"),
            Err(InvalidTopic::MisplacedMultiLevelWildcard)
        );
        assert_eq!(
            f("$share/g/a").unwrap().shared_parts(),
            Ok(Some(("g", "a")))
        );
        assert_eq!(
            f("$share/consumer1//finance").unwrap().shared_parts(),
            Ok(Some(("consumer1", "/finance")))
        );
        assert_eq!(
            f("$share/g/#").unwrap().shared_parts(),
            Ok(Some(("g", "#")))
        );
    }

    #[test]
    fn matching_follows_section_4_7_examples() {
        let rows = [
            ("sport/#", "sport", true),
            ("sport/+", "sport/", true),
            ("sport/+", "sport", false),
            ("+/+", "/finance", true),
            ("/+", "/finance", true),
            ("+", "/finance", false),
            ("#", "$SYS/x", false),
            ("+/monitor/Clients", "$SYS/monitor/Clients", false),
            ("$SYS/#", "$SYS/x", true),
            ("ACCOUNTS", "Accounts", false),
            ("\u{e9}", "e\u{301}", false),
            ("$share/g/a/+", "a/b", true),
            ("$share/g/#", "$SYS/x", false),
            // Not a valid shared subscription: matched as written.
            ("$share//a", "$share//a", true),
            ("$share/g", "$share/g", true),
            ("a/+/c", "a//c", true),
            ("a/#", "a", true),
            ("#", "", true),
        ];
        for (filter, topic, expected) in rows {
            let m = f(filter).unwrap().matches(&TopicName::new(topic).unwrap());
            assert_eq!(m, expected, "{filter} vs {topic}");
        }
    }
}
