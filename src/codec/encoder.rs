//! The encoder: one per connection, writing packets into the connection's send buffer.

use crate::error::EncodeError;
use crate::packet::Packet;
use crate::types::ProtocolVersion;
use bytes::BytesMut;

/// Encodes packets at one protocol version into a `BytesMut`, reserving each packet's exact
/// size first so that writing never reallocates, and, once the peer's Maximum Packet Size is
/// known, keeping every packet within it.
///
/// ```
/// use bytes::BytesMut;
/// use mqttwire::{Encoder, Packet, ProtocolVersion};
///
/// let encoder = Encoder::new(ProtocolVersion::V5);
/// let mut buf = BytesMut::new();
/// encoder.encode(&Packet::PingReq, &mut buf).unwrap();
/// assert_eq!(&buf[..], [0xC0, 0x00]);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Encoder {
    version: ProtocolVersion,
    max_packet_size: Option<usize>,
}

impl Encoder {
    /// An encoder for `version` with no size limit beyond the protocol's.
    #[must_use]
    pub fn new(version: ProtocolVersion) -> Self {
        Self {
            version,
            max_packet_size: None,
        }
    }

    /// Keeps every packet within the peer's Maximum Packet Size, leaving out Reason Strings
    /// and User Properties where MQTT 5.0 allows it (see [`Packet::encode_with_limit`]).
    #[must_use]
    pub fn with_max_packet_size(mut self, max_packet_size: usize) -> Self {
        self.max_packet_size = Some(max_packet_size);
        self
    }

    /// The protocol version.
    #[must_use]
    #[inline]
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// The peer's Maximum Packet Size, if one was set.
    #[inline]
    pub(crate) fn max_packet_size(&self) -> Option<usize> {
        self.max_packet_size
    }

    /// Appends `packet` to `buf` and returns the bytes written. On error nothing is written.
    #[inline]
    pub fn encode(&self, packet: &Packet, buf: &mut BytesMut) -> Result<usize, EncodeError> {
        packet.append(self.version(), self.max_packet_size(), buf)
    }
}

#[cfg(test)]
mod tests {
    //! The `Encoder` and `Packet::encode` write through different sinks (straight into a
    //! `BytesMut`'s reserved room, and a staged `BufMut` writer) from the one sizing and
    //! writing of the borrowed views: they must agree byte for byte and error for error.
    //! And every decoding entry point gives the same packet.

    use super::*;
    use crate::properties::ConnAckProperties;
    use crate::{
        ConnAck, ConnectReasonCode, Decoded, MqttString, PacketId, PacketRef, PubAck, PubComp,
        PubRec, PubRel, Publish, QosPid, TopicName,
    };
    use alloc::vec;
    use core::num::NonZeroU16;

    /// Every protocol level, for the tests that must hold at each.
    const LEVELS: [ProtocolVersion; 3] = [
        ProtocolVersion::V3_1,
        ProtocolVersion::V3_1_1,
        ProtocolVersion::V5,
    ];

    /// The `Encoder` (which appends straight into the `BytesMut`) writes what
    /// `Packet::encode` (through the staged writer) writes for a PUBLISH, at every level: each QoS, DUP and RETAIN, topics either side of what its stage holds,
    /// payloads either side of a one-byte Remaining Length, and a peer maximum at and just
    /// below the packet's size. What it refuses (DUP on QoS 0 [MQTT-3.3.1-2], an empty
    /// topic [MQTT-4.7.3-1]) is refused alike, with nothing written.
    #[test]
    fn encoder_and_packet_encode_agree_on_publish() {
        let id = PacketId::new(0x0102).unwrap();
        let qoses = [
            QosPid::AtMostOnce,
            QosPid::AtLeastOnce(id),
            QosPid::ExactlyOnce(id),
        ];
        let mut cases = 0;
        for version in LEVELS {
            for topic_len in [0, 1, 20, 48, 49, 50, 51, 60, 300] {
                for payload_len in [0, 1, 64, 123, 200] {
                    for qos in qoses {
                        for (dup, retain) in [(false, false), (true, false), (false, true)] {
                            let topic = TopicName::new(&"t".repeat(topic_len)).unwrap();
                            let mut publish = Publish::new(topic, vec![0xA5; payload_len]);
                            publish.qos = qos;
                            publish.dup = dup;
                            publish.retain = retain;
                            let packet = Packet::Publish(publish);
                            let size = packet.encoded_len(version).unwrap_or(10);
                            for max in [None, Some(size), Some(size - 1)] {
                                let mut general = BytesMut::new();
                                let want = match max {
                                    Some(max) => {
                                        packet.encode_with_limit(version, max, &mut general)
                                    }
                                    None => packet.encode(version, &mut general),
                                };
                                let encoder = match max {
                                    Some(max) => Encoder::new(version).with_max_packet_size(max),
                                    None => Encoder::new(version),
                                };
                                let mut out = BytesMut::from(&b"xy"[..]);
                                let got = encoder.encode(&packet, &mut out);
                                assert_eq!(got, want, "{packet:?} at {version:?} within {max:?}");
                                assert_eq!(&out[2..], &general[..], "{packet:?} at {version:?}");
                                cases += 1;
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(cases, 3 * 9 * 5 * 3 * 3 * 3);
    }

    /// Publishes with properties, empty topics, long Remaining Lengths and long heads are
    /// encoded (or refused) alike by the `Encoder` and `Packet::encode`: properties (which 3.1.1 cannot carry: `UnsupportedInVersion`), an empty topic
    /// with or without a Topic Alias, Remaining Lengths of three and four bytes, and heads
    /// longer than the staged writer holds.
    #[test]
    fn encoder_and_packet_encode_agree_on_publish_edge_cases() {
        let mut cases = 0;
        for version in LEVELS {
            for topic_len in [0, 20, 55] {
                for payload_len in [0, 16_384, 2_097_152] {
                    for (expiry, alias) in [(None, None), (Some(60), None), (None, Some(4))] {
                        let topic = TopicName::new(&"t".repeat(topic_len)).unwrap();
                        let mut publish = Publish::new(topic, vec![0xA5; payload_len]);
                        publish.properties.message_expiry_interval = expiry;
                        publish.properties.topic_alias = alias.and_then(NonZeroU16::new);
                        let packet = Packet::Publish(publish);
                        let mut general = BytesMut::new();
                        let want = packet.encode(version, &mut general);
                        let mut out = BytesMut::from(&b"xy"[..]);
                        let got = Encoder::new(version).encode(&packet, &mut out);
                        // Compared without printing: the largest packet is 2 MiB.
                        let what = alloc::format!("{topic_len} {payload_len} {expiry:?} {alias:?}");
                        assert!(got == want, "{what} at {version:?}: {got:?}, {want:?}");
                        assert!(out[2..] == general[..], "{what} at {version:?}");
                        cases += 1;
                    }
                }
            }
        }
        assert_eq!(cases, 3 * 3 * 3 * 3);
    }

    /// The `Encoder`'s four-byte acknowledgements are what `Packet::encode` writes, at
    /// every level, and obey a Maximum Packet Size below four bytes.
    #[test]
    fn encoder_and_packet_encode_agree_on_short_acks() {
        let id = PacketId::new(0x1234).unwrap();
        let acks = [
            Packet::PubAck(PubAck::new(id)),
            Packet::PubRec(PubRec::new(id)),
            Packet::PubRel(PubRel::new(id)),
            Packet::PubComp(PubComp::new(id)),
        ];
        for version in LEVELS {
            for ack in &acks {
                let mut general = BytesMut::new();
                ack.encode(version, &mut general).unwrap();
                let mut out = BytesMut::from(&b"xy"[..]);
                assert_eq!(Encoder::new(version).encode(ack, &mut out), Ok(4));
                assert_eq!(&out[2..], &general[..], "{ack:?} at {version:?}");
                for max in [3, 4] {
                    let limited = Encoder::new(version).with_max_packet_size(max);
                    let mut out = BytesMut::new();
                    let want = ack.encode_with_limit(version, max, &mut BytesMut::new());
                    assert_eq!(limited.encode(ack, &mut out), want, "{ack:?} within {max}");
                    assert_eq!(out.len(), if max == 4 { 4 } else { 0 });
                }
            }
        }
    }

    /// The encoder's short CONNACKs are what the general encoding writes, for every code
    /// and both Session Present values at every level, and obey a Maximum Packet Size just
    /// below them; whatever the short form cannot write goes the general way with its error.
    #[test]
    fn encoder_and_packet_encode_agree_on_connack() {
        let mut short = 0;
        for version in LEVELS {
            for code in (0..=u8::MAX).filter_map(ConnectReasonCode::from_code) {
                for session_present in [false, true] {
                    let packet = Packet::ConnAck(ConnAck {
                        session_present,
                        ..ConnAck::new(code)
                    });
                    let mut general = BytesMut::new();
                    let want = packet.encode(version, &mut general);
                    let mut out = BytesMut::from(&b"xy"[..]);
                    let got = Encoder::new(version).encode(&packet, &mut out);
                    assert_eq!(got, want, "{packet:?} at {version:?}");
                    assert_eq!(&out[2..], &general[..], "{packet:?} at {version:?}");
                    let Ok(len) = want else { continue };
                    short += 1;
                    for max in [len - 1, len] {
                        let limited = Encoder::new(version).with_max_packet_size(max);
                        let want = packet.encode_with_limit(version, max, &mut BytesMut::new());
                        let mut out = BytesMut::new();
                        assert_eq!(limited.encode(&packet, &mut out), want, "within {max}");
                        assert_eq!(out.len(), if max == len { len } else { 0 });
                    }
                }
            }
        }
        // With a property, the general path writes it (or, below 5.0, refuses it).
        let props =
            ConnAckProperties::default().with_reason_string(MqttString::from_static("r").unwrap());
        let packet = Packet::ConnAck(ConnAck {
            properties: props,
            ..ConnAck::default()
        });
        for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
            let want = packet.encode(version, &mut BytesMut::new());
            assert_eq!(
                Encoder::new(version).encode(&packet, &mut BytesMut::new()),
                want
            );
            assert_eq!(want.is_ok(), version.is_v5());
        }
        // 3.1: six codes; 3.1.1: six, one of them with Session Present; 5.0: every code,
        // Session Present with those below 0x80.
        let v5_codes = (0..=u8::MAX).filter(|&c| ConnectReasonCode::from_code(c).is_some());
        let v5 = v5_codes
            .map(|c| if c < 0x80 { 2 } else { 1 })
            .sum::<usize>();
        assert_eq!(short, 6 + 7 + v5);
    }

    /// A PUBLISH of every Remaining Length size (one to four bytes), with and without
    /// properties, with an ASCII and a non-ASCII topic, decodes alike through every entry
    /// point (`PacketRef::decode`, `Packet::decode`, `Packet::decode_slice`, `Decoder`).
    #[test]
    fn publish_decodes_alike_at_every_length_through_every_entry() {
        #[cfg(feature = "alloc")]
        use crate::properties::UserProperties;
        #[cfg(feature = "alloc")]
        use crate::types::MqttString;
        let id = PacketId::new(9).unwrap();
        let mut cases = 0;
        for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
            for payload_len in [0, 124, 125, 16_380, 16_381, 2_097_148] {
                for topic in ["sensors/house-7/temp", "température/é"] {
                    for with_properties in [false, true] {
                        if with_properties && !version.is_v5() {
                            continue;
                        }
                        let mut publish =
                            Publish::new(TopicName::new(topic).unwrap(), vec![0x5A; payload_len]);
                        publish.qos = QosPid::AtLeastOnce(id);
                        if with_properties {
                            let p = &mut publish.properties;
                            p.message_expiry_interval = Some(60);
                            p.set_content_type(Some(MqttString::new("text/plain").unwrap()));
                            let pairs = UserProperties::from_pairs([("a", "1"), ("b", "2")]);
                            p.set_user_properties(pairs.unwrap());
                        }
                        let packet = Packet::Publish(publish);
                        let mut bytes = BytesMut::new();
                        packet.encode(version, &mut bytes).unwrap();
                        let bytes = bytes.freeze();
                        // Compared without printing: the largest packet is 2 MiB.
                        let what = alloc::format!("{topic}, {payload_len} B at {version:?}");
                        let Ok(Decoded::Complete(view, used)) = PacketRef::decode(&bytes, version)
                        else {
                            panic!("{what}: not one whole packet")
                        };
                        assert_eq!(used, bytes.len(), "{what}");
                        assert!(Packet::from_view(&view, &bytes) == packet, "{what}");
                        let whole = Ok((packet.clone(), bytes.len()));
                        assert!(Packet::decode(&bytes, version) == whole, "{what}");
                        assert!(Packet::decode_slice(&bytes, version) == whole, "{what}");
                        let mut decoder =
                            crate::Decoder::new(version).with_max_packet_size(4 << 20);
                        let decoded = decoder.decode(&mut BytesMut::from(&bytes[..]));
                        assert!(decoded == Ok(Some(packet)), "{what}");
                        cases += 1;
                    }
                }
            }
        }
        assert_eq!(cases, 6 * 2 + 6 * 2 * 2);
    }
}
