//! The will, as a server sees it: whether a connection's end publishes it, and the message
//! it becomes. When to publish it (the Will Delay Interval, a reconnect within it) is the
//! application's, which owns the clock and the sessions of clients that left.

use super::DisconnectCause;
use crate::packet::{Publish, Will};
use crate::properties::PublishProperties;
use crate::types::reason_code::DisconnectReasonCode;
use bytes::Bytes;

impl DisconnectCause {
    /// Server: whether the connection's will, if it had one, is now due. Every end of an
    /// accepted connection publishes it but the client's own DISCONNECT with reason code
    /// 0x00: in 3.1.1 every DISCONNECT removes the will (3.1.1 MQTT-3.14.4-3, MQTT-3.1.2-8),
    /// and in 5.0 one with 0x00 does while 0x04 "Disconnect with Will Message" and the
    /// error codes do not ([MQTT-3.14.4-3], [MQTT-3.1.2-8] in 5.0). A lost link, a keep
    /// alive timeout, a protocol violation, and our own `disconnect` (a take-over
    /// included) publish it. A refused CONNECT never had a will (`Rejected`, `Refused`).
    ///
    /// "Due" means the connection no longer holds it back: in 5.0 the application still
    /// waits for the Will Delay Interval, or the session's end if that comes first, and
    /// drops the will if the client reconnects to the session before then
    /// ([MQTT-3.1.2-8], [MQTT-3.1.3-9] in 5.0).
    ///
    /// ```
    /// use mqttwire::session::DisconnectCause;
    /// use mqttwire::{Disconnect, DisconnectReasonCode};
    ///
    /// let normal = Disconnect::new(DisconnectReasonCode::NormalDisconnection);
    /// assert!(!DisconnectCause::Peer(normal).publishes_will());
    /// assert!(DisconnectCause::ConnectionLost.publishes_will());
    /// ```
    #[must_use]
    pub fn publishes_will(&self) -> bool {
        match self {
            Self::Peer(d) => d.reason_code != DisconnectReasonCode::NormalDisconnection,
            Self::Rejected(_) | Self::Refused(_) => false,
            Self::Local(_)
            | Self::ProtocolViolation(_)
            | Self::KeepAliveTimeout
            | Self::ConnectionLost => true,
        }
    }
}

impl Will {
    /// The will as the message to publish: its topic, payload and RETAIN flag, and the
    /// properties a PUBLISH carries (Payload Format Indicator, Message Expiry Interval,
    /// Content Type, Response Topic, Correlation Data, User Properties; MQTT 5.0 section
    /// 3.1.3.2). The Will Delay Interval is the server's to apply, not part of the
    /// message.
    ///
    /// The message owns its bytes, so it can be kept past the CONNECT's receive buffer
    /// until the will is due. Its `qos` field is QoS 0: route it at the will's
    /// [`qos`](Will::qos), as [`Session::publish`](super::Session::publish) sets each
    /// copy's QoS and packet identifier anyway.
    ///
    /// ```
    /// use mqttwire::{QoS, TopicName, Will};
    ///
    /// let mut will = Will::new(TopicName::new("status/sensor-17").unwrap(), "offline");
    /// will.qos = QoS::AtLeastOnce;
    /// will.retain = true;
    /// let message = will.to_publish();
    /// assert_eq!(message.topic, "status/sensor-17");
    /// assert!(message.retain);
    /// ```
    #[must_use]
    pub fn to_publish(&self) -> Publish {
        let mut message = Publish::new(self.topic.detach(), Bytes::copy_from_slice(&self.payload));
        message.retain = self.retain;
        let w = &self.properties;
        let p = &mut message.properties;
        *p = PublishProperties::default();
        p.payload_format_indicator = w.payload_format_indicator;
        p.message_expiry_interval = w.message_expiry_interval;
        // These were valid in the will's property set, so they are in this one: the sets
        // check the same rules (no empty Response Topic, binary data within 65,535 bytes).
        p.set_content_type(w.content_type());
        let _ = p.set_response_topic(w.response_topic());
        let _ = p.set_correlation_data(w.correlation_data());
        p.set_user_properties(w.user_properties());
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Disconnect;
    use crate::types::reason_code::ConnectReasonCode;
    use crate::types::{MqttString, QoS, TopicName};

    /// 3.1.1 and 5.0 MQTT-3.14.4-3, MQTT-3.1.2-8: only the client's DISCONNECT 0x00 removes
    /// the will; 0x04, the error codes, and every other end publish it; a refused CONNECT
    /// has none.
    #[test]
    fn only_a_normal_disconnect_from_the_client_keeps_the_will_back_mqtt_3_14_4_3() {
        use DisconnectReasonCode as Code;
        let peer = |code| DisconnectCause::Peer(Disconnect::new(code));
        let rejected = DisconnectCause::Rejected(ConnectReasonCode::NotAuthorized);
        let due = [
            (peer(Code::NormalDisconnection), false),
            (peer(Code::DisconnectWithWillMessage), true),
            (peer(Code::UnspecifiedError), true),
            (DisconnectCause::Local(Code::SessionTakenOver), true),
            (DisconnectCause::Local(Code::NormalDisconnection), true),
            (DisconnectCause::KeepAliveTimeout, true),
            (DisconnectCause::ConnectionLost, true),
            (rejected, false),
        ];
        for (cause, publishes) in due {
            assert_eq!(cause.publishes_will(), publishes, "{cause:?}");
        }
    }

    /// MQTT 5.0 section 3.1.3.2: the will's PUBLISH properties go with it, the Will Delay
    /// Interval does not; topic, payload and RETAIN are the will's.
    #[test]
    fn a_will_becomes_a_publish_with_its_message_properties() {
        let mut will = Will::new(TopicName::new("w/t").unwrap(), "bye");
        will.qos = QoS::ExactlyOnce;
        will.retain = true;
        let w = &mut will.properties;
        w.will_delay_interval = Some(30);
        w.message_expiry_interval = Some(60);
        w.set_content_type(Some(MqttString::new("text/plain").unwrap()));
        w.set_response_topic(Some(TopicName::new("w/reply").unwrap()))
            .unwrap();
        w.set_correlation_data(Some(Bytes::from_static(b"42")))
            .unwrap();
        let message = will.to_publish();
        assert_eq!(message.topic, "w/t");
        assert_eq!(&message.payload[..], b"bye");
        assert!(message.retain && !message.dup);
        let p = &message.properties;
        assert_eq!(p.message_expiry_interval, Some(60));
        assert_eq!(p.content_type().unwrap(), "text/plain");
        assert_eq!(p.response_topic().unwrap(), "w/reply");
        assert_eq!(&p.correlation_data().unwrap()[..], b"42");
        assert!(p.topic_alias.is_none());
    }
}
