//! PINGREQ and PINGRESP: keep-alive probes (MQTT 5.0 sections 3.12 and 3.13, 3.1.1 the
//! same). Both are the fixed header alone: `C0 00` and `D0 00`. A body is malformed.
//!
//! They carry no fields, so [`Packet::PingReq`](crate::Packet::PingReq) and
//! [`Packet::PingResp`](crate::Packet::PingResp) are unit variants; the trailing-bytes
//! check every packet goes through refuses a body.

#[cfg(test)]
mod tests {
    use crate::error::DecodeErrorKind as K;
    use crate::packet::test_util::{decode, encode, rejects, M, V3, V4, V5};
    use crate::{EncodeError, Packet};
    #[cfg(feature = "alloc")]
    use bytes::Bytes;

    #[test]
    fn pingreq_and_pingresp_are_two_bytes_at_every_level() {
        for v in [V3, V4, V5] {
            assert_eq!(decode(&[0xC0, 0x00], v).unwrap(), Packet::PingReq);
            assert_eq!(decode(&[0xD0, 0x00], v).unwrap(), Packet::PingResp);
            assert_eq!(encode(&Packet::PingReq, v).unwrap(), [0xC0, 0x00]);
            assert_eq!(encode(&Packet::PingResp, v).unwrap(), [0xD0, 0x00]);
        }
    }

    #[test]
    fn decodes_one_ping_and_leaves_the_next() {
        let input = Bytes::from_static(&[0xC0, 0x00, 0xD0, 0x00]);
        assert_eq!(Packet::decode(&input, V5).unwrap(), (Packet::PingReq, 2));
        let rest = input.slice(2..);
        assert_eq!(Packet::decode(&rest, V5).unwrap(), (Packet::PingResp, 2));
    }

    #[test]
    fn rejects_pingreq_with_a_body() {
        // The fields must fill the Remaining Length exactly, and PINGREQ has none.
        for v in [V4, V5] {
            rejects(
                &[0xC0, 0x01, 0x00],
                v,
                K::TrailingBytes { count: 1 },
                M,
                None,
            );
            rejects(
                &[0xD0, 0x01, 0x00],
                v,
                K::TrailingBytes { count: 1 },
                M,
                None,
            );
            rejects(
                &[0xC0, 0x02, 0x00, 0x00],
                v,
                K::TrailingBytes { count: 2 },
                M,
                None,
            );
        }
    }

    #[test]
    fn rejects_pingreq_pingresp_with_flags_set_mqtt_2_1_3_1_and_3_1_1_mqtt_2_2_2_1() {
        let c1 = K::InvalidFlags { flags: 1 };
        rejects(&[0xC1, 0x00], V5, c1.clone(), M, Some("MQTT-2.1.3-1"));
        rejects(&[0xC1, 0x00], V4, c1, M, Some("MQTT-2.2.2-1"));
        let d8 = K::InvalidFlags { flags: 8 };
        rejects(&[0xD8, 0x00], V5, d8.clone(), M, Some("MQTT-2.1.3-1"));
        rejects(&[0xD8, 0x00], V4, d8, M, Some("MQTT-2.2.2-1"));
    }

    #[test]
    fn encode_with_limit_cannot_shrink_a_ping() {
        let mut buf = [0xAA; 4];
        assert_eq!(
            Packet::PingReq.encode_with_limit(V5, 1, &mut &mut buf[..]),
            Err(EncodeError::PacketTooLarge { size: 2, max: 1 })
        );
        assert_eq!(buf, [0xAA; 4]);
        assert_eq!(
            Packet::PingResp.encode_with_limit(V5, 2, &mut &mut buf[..]),
            Ok(2)
        );
        assert_eq!(buf, [0xD0, 0x00, 0xAA, 0xAA]);
    }
}
