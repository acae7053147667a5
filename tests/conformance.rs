//! The codec's conformance table: every byte vector of ../shared/spec/CONFORMANCE.md
//! (sections 1 to 5, 7, 10 and 11) that a stateless codec can judge, one test each, named
//! for the statement it checks. Tags are per version: `v5_*` tests cite MQTT 5.0 numbers,
//! `v311_*` tests MQTT 3.1.1 numbers.

use bytes::Bytes;
use mqttwire::{DecodeErrorKind, Packet, ProtocolVersion};

enum Expect {
    /// Decodes, and re-encodes to exactly the same bytes.
    Same,
    /// Decodes, and the re-encoded form (shorter, canonical) decodes to the same packet.
    Decodes,
    /// Fails with this reason code and rule tag.
    Err(u8, Option<&'static str>),
    /// The input ends before the packet does.
    Incomplete,
}
use Expect::*;

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

fn check(version: ProtocolVersion, input: &str, expect: Expect) {
    let bytes = Bytes::from(hex(input));
    let result = Packet::decode(&bytes, version);
    match expect {
        Same | Decodes => {
            let (packet, used) = result.unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(used, bytes.len(), "{input}: bytes used");
            let mut out = Vec::new();
            packet.encode(version, &mut out).unwrap();
            if matches!(expect, Same) {
                assert_eq!(out, &bytes[..], "{input}: re-encoded bytes");
            }
            let (again, _) = Packet::decode(&Bytes::from(out), version).unwrap();
            assert_eq!(again, packet, "{input}: decode(encode(p)) == p");
        }
        Err(reason, rule) => {
            let err = result.expect_err(input);
            assert!(!err.is_incomplete(), "{input}: {err}");
            assert_eq!(err.reason_code().0, reason, "{input}: {err}");
            assert_eq!(err.rule(), rule, "{input}: {err}");
        }
        Incomplete => {
            let err = result.expect_err(input);
            assert!(
                matches!(err.kind(), DecodeErrorKind::Incomplete { .. }),
                "{input}: {err}"
            );
        }
    }
}

macro_rules! vectors {
    ($( $name:ident: $version:ident $input:literal => $expect:expr; )+) => {$(
        #[test]
        fn $name() {
            check(ProtocolVersion::$version, $input, $expect);
        }
    )+};
}

const M: u8 = 0x81;
const P: u8 = 0x82;

vectors! {
    // 1.2 UTF-8 Encoded Strings
    v5_rejects_encoded_surrogate_mqtt_1_5_4_1: V5 "30 07 00 04 61 ED A0 80 00" => Err(M, Some("MQTT-1.5.4-1"));
    v5_rejects_overlong_utf8_mqtt_1_5_4_1: V5 "30 05 00 02 C0 AF 00" => Err(M, Some("MQTT-1.5.4-1"));
    v311_rejects_encoded_surrogate_mqtt_1_5_3_1: V3_1_1 "30 06 00 04 61 ED A0 80" => Err(M, Some("MQTT-1.5.3-1"));
    v5_rejects_null_in_topic_mqtt_1_5_4_2: V5 "30 06 00 03 61 00 62 00" => Err(M, Some("MQTT-1.5.4-2"));
    v311_rejects_null_in_topic_mqtt_1_5_3_2: V3_1_1 "30 05 00 03 61 00 62" => Err(M, Some("MQTT-1.5.3-2"));
    v311_rejects_null_in_client_id_mqtt_1_5_3_2: V3_1_1 "10 0F 00 04 4D 51 54 54 04 02 00 3C 00 03 61 00 62" => Err(M, Some("MQTT-1.5.3-2"));
    v5_keeps_leading_bom_mqtt_1_5_4_3: V5 "30 07 00 04 EF BB BF 61 00" => Same;
    v311_keeps_leading_bom_mqtt_1_5_3_3: V3_1_1 "30 06 00 04 EF BB BF 61" => Same;
    v311_rejects_string_longer_than_packet: V3_1_1 "30 03 00 05 61" => Err(M, Some("MQTT-3.3.2-1"));

    // 1.3 Variable Byte Integer and Remaining Length
    v5_rejects_five_byte_remaining_length_mqtt_1_5_5_1: V5 "30 FF FF FF FF 01" => Err(M, Some("MQTT-1.5.5-1"));
    v5_rejects_non_minimal_remaining_length_mqtt_1_5_5_1: V5 "30 80 00" => Err(M, Some("MQTT-1.5.5-1"));
    v311_rejects_five_byte_remaining_length: V3_1_1 "30 FF FF FF FF 01" => Err(M, None);
    v311_remaining_length_cut_short_is_incomplete: V3_1_1 "30 C1" => Incomplete;

    // 1.4 Binary Data and String Pairs
    v5_round_trips_correlation_data: V5 "30 09 00 01 61 05 09 00 02 AB CD" => Same;
    v5_rejects_binary_running_past_its_block: V5 "30 08 00 01 61 04 09 00 05 AB" => Err(M, None);
    v5_rejects_null_in_user_property_mqtt_1_5_7_1: V5 "30 0B 00 01 61 07 26 00 01 6B 00 01 00" => Err(M, Some("MQTT-1.5.4-2"));
    v5_accepts_empty_user_property_pair: V5 "30 09 00 01 61 05 26 00 00 00 00" => Same;

    // 2 Fixed header
    v5_rejects_packet_type_0: V5 "00 00" => Err(M, None);
    v311_rejects_packet_type_0: V3_1_1 "00 00" => Err(M, None);
    v311_rejects_packet_type_15: V3_1_1 "F0 00" => Err(M, None);
    v5_accepts_auth: V5 "F0 00" => Same;
    v5_rejects_connack_flags_mqtt_2_1_3_1: V5 "21 03 00 00 00" => Err(M, Some("MQTT-2.1.3-1"));
    v5_rejects_puback_flags_mqtt_2_1_3_1: V5 "41 02 00 01" => Err(M, Some("MQTT-2.1.3-1"));
    v5_rejects_pingreq_flags_mqtt_2_1_3_1: V5 "C1 00" => Err(M, Some("MQTT-2.1.3-1"));
    v5_rejects_pingresp_flags_mqtt_2_1_3_1: V5 "D8 00" => Err(M, Some("MQTT-2.1.3-1"));
    v5_accepts_pubrel_flags_0010: V5 "62 02 00 01" => Same;
    v311_rejects_pingreq_flags_mqtt_2_2_2_1: V3_1_1 "C1 00" => Err(M, Some("MQTT-2.2.2-1"));
    v311_rejects_suback_flags_mqtt_2_2_2_1: V3_1_1 "B2 02 00 01" => Err(M, Some("MQTT-2.2.2-1"));
    v311_partial_body_is_incomplete: V3_1_1 "32 06 00 01 61" => Incomplete;
    v5_rejects_pingreq_with_body: V5 "C0 01 00" => Err(M, None);
    v311_rejects_connack_of_length_3: V3_1_1 "20 03 00 00 00" => Err(M, None);
    v311_rejects_puback_of_length_3: V3_1_1 "40 03 00 01 00" => Err(M, None);
    v5_rejects_publish_qos_3_mqtt_3_3_1_4: V5 "36 06 00 01 61 00 01 00" => Err(M, Some("MQTT-3.3.1-4"));
    v311_rejects_publish_qos_3_mqtt_3_3_1_4: V3_1_1 "36 05 00 01 61 00 01" => Err(M, Some("MQTT-3.3.1-4"));
    v5_rejects_pubrel_flags_0000_mqtt_3_6_1_1: V5 "60 02 00 01" => Err(M, Some("MQTT-3.6.1-1"));
    v5_rejects_pubrel_flags_0011_mqtt_3_6_1_1: V5 "63 02 00 01" => Err(M, Some("MQTT-3.6.1-1"));
    v311_rejects_subscribe_flags_0000_mqtt_3_8_1_1: V3_1_1 "80 06 00 01 00 01 61 00" => Err(M, Some("MQTT-3.8.1-1"));
    v5_rejects_subscribe_flags_0000_mqtt_3_8_1_1: V5 "80 07 00 01 00 00 01 61 00" => Err(M, Some("MQTT-3.8.1-1"));
    v311_rejects_unsubscribe_flags_0000_mqtt_3_10_1_1: V3_1_1 "A0 05 00 01 00 01 61" => Err(M, Some("MQTT-3.10.1-1"));
    v5_rejects_disconnect_flags_mqtt_3_14_1_1: V5 "E1 00" => Err(M, Some("MQTT-3.14.1-1"));
    v5_rejects_auth_flags_mqtt_3_15_1_1: V5 "F2 00" => Err(M, Some("MQTT-3.15.1-1"));

    // 3.1 CONNECT
    v5_rejects_protocol_name_mqtx_mqtt_3_1_2_1: V5 "10 0D 00 04 4D 51 54 58 05 02 00 3C 00 00 00" => Err(0x84, Some("MQTT-3.1.2-1"));
    v5_rejects_protocol_level_6_mqtt_3_1_2_2: V5 "10 0D 00 04 4D 51 54 54 06 02 00 3C 00 00 00" => Err(0x84, Some("MQTT-3.1.2-2"));
    v311_rejects_connect_reserved_flag_mqtt_3_1_2_3: V3_1_1 "10 0C 00 04 4D 51 54 54 04 03 00 3C 00 00" => Err(M, Some("MQTT-3.1.2-3"));
    v5_rejects_connect_reserved_flag_mqtt_3_1_2_3: V5 "10 0D 00 04 4D 51 54 54 05 03 00 3C 00 00 00" => Err(M, Some("MQTT-3.1.2-3"));
    v5_rejects_will_flag_without_will_mqtt_3_1_2_9: V5 "10 0D 00 04 4D 51 54 54 05 06 00 3C 00 00 00" => Err(M, Some("MQTT-3.1.2-9"));
    v5_rejects_will_qos_without_will_flag_mqtt_3_1_2_11: V5 "10 0D 00 04 4D 51 54 54 05 0A 00 3C 00 00 00" => Err(M, Some("MQTT-3.1.2-11"));
    v5_rejects_will_qos_3_mqtt_3_1_2_12: V5 "10 0D 00 04 4D 51 54 54 05 1E 00 3C 00 00 00" => Err(M, Some("MQTT-3.1.2-12"));
    v5_rejects_will_retain_without_will_flag_mqtt_3_1_2_13: V5 "10 0D 00 04 4D 51 54 54 05 22 00 3C 00 00 00" => Err(M, Some("MQTT-3.1.2-13"));
    v5_rejects_user_name_without_flag_mqtt_3_1_2_16: V5 "10 10 00 04 4D 51 54 54 05 02 00 3C 00 00 00 00 01 75" => Err(M, Some("MQTT-3.1.2-16"));
    v5_rejects_missing_user_name_mqtt_3_1_2_17: V5 "10 0D 00 04 4D 51 54 54 05 82 00 3C 00 00 00" => Err(M, Some("MQTT-3.1.2-17"));
    v5_rejects_password_without_flag_mqtt_3_1_2_18: V5 "10 13 00 04 4D 51 54 54 05 82 00 3C 00 00 00 00 01 75 00 01 70" => Err(M, Some("MQTT-3.1.2-18"));
    v5_accepts_password_without_user_name_mqtt_3_1_2_19: V5 "10 11 00 04 4D 51 54 54 05 42 00 3C 00 00 00 00 02 70 77" => Same;
    v311_rejects_will_flag_without_will_mqtt_3_1_2_9: V3_1_1 "10 0C 00 04 4D 51 54 54 04 06 00 3C 00 00" => Err(M, Some("MQTT-3.1.2-9"));
    v311_rejects_will_qos_without_will_flag_mqtt_3_1_2_13: V3_1_1 "10 0C 00 04 4D 51 54 54 04 0A 00 3C 00 00" => Err(M, Some("MQTT-3.1.2-13"));
    v311_rejects_will_qos_2_without_will_flag_mqtt_3_1_2_13: V3_1_1 "10 0C 00 04 4D 51 54 54 04 12 00 3C 00 00" => Err(M, Some("MQTT-3.1.2-13"));
    v311_rejects_will_qos_3_mqtt_3_1_2_14: V3_1_1 "10 0C 00 04 4D 51 54 54 04 1E 00 3C 00 00" => Err(M, Some("MQTT-3.1.2-14"));
    v311_rejects_will_retain_without_will_flag_mqtt_3_1_2_15: V3_1_1 "10 0C 00 04 4D 51 54 54 04 22 00 3C 00 00" => Err(M, Some("MQTT-3.1.2-15"));
    v311_rejects_missing_user_name_mqtt_3_1_2_19: V3_1_1 "10 0C 00 04 4D 51 54 54 04 82 00 3C 00 00" => Err(M, Some("MQTT-3.1.2-19"));
    v311_rejects_missing_password_mqtt_3_1_2_21: V3_1_1 "10 0F 00 04 4D 51 54 54 04 C2 00 3C 00 00 00 01 75" => Err(M, Some("MQTT-3.1.2-21"));
    v311_rejects_password_without_user_name_mqtt_3_1_2_22: V3_1_1 "10 10 00 04 4D 51 54 54 04 42 00 3C 00 00 00 02 70 77" => Err(M, Some("MQTT-3.1.2-22"));
    v5_rejects_missing_client_id_mqtt_3_1_3_3: V5 "10 0B 00 04 4D 51 54 54 05 02 00 3C 00" => Err(M, Some("MQTT-3.1.3-3"));
    v311_rejects_invalid_utf8_client_id_mqtt_3_1_3_4: V3_1_1 "10 0D 00 04 4D 51 54 54 04 02 00 3C 00 01 FF" => Err(M, Some("MQTT-1.5.3-1"));
    // MQTT-3.1.3-11: the Will Topic is a UTF-8 string; the failing check is the string rule.
    v5_rejects_invalid_utf8_will_topic_mqtt_3_1_3_11: V5 "10 13 00 04 4D 51 54 54 05 06 00 3C 00 00 00 00 00 01 FF 00 00" => Err(M, Some("MQTT-1.5.4-1"));
    // MQTT-3.1.3-12: the User Name is a UTF-8 string.
    v5_rejects_invalid_utf8_user_name_mqtt_3_1_3_12: V5 "10 11 00 04 4D 51 54 54 05 82 00 3C 00 00 00 00 02 C3 28" => Err(M, Some("MQTT-1.5.4-1"));
    v3_1_accepts_mqisdp_connect: V3_1 "10 0F 00 06 4D 51 49 73 64 70 03 02 00 3C 00 01 63" => Same;
    v3_1_rejects_mqtt_name_at_level_3_mqtt_3_1_2_1: V3_1 "10 0C 00 04 4D 51 54 54 03 02 00 3C 00 00" => Err(0x84, Some("MQTT-3.1.2-1"));

    // 3.2 CONNACK
    v5_rejects_connack_reserved_flags_mqtt_3_2_2_1: V5 "20 03 02 00 00" => Err(M, Some("MQTT-3.2.2-1"));
    v311_rejects_connack_reserved_flags: V3_1_1 "20 02 02 00" => Err(M, None);
    v311_rejects_connack_return_code_6: V3_1_1 "20 02 00 06" => Err(P, None);
    v5_rejects_session_present_with_refusal_mqtt_3_2_2_6: V5 "20 03 01 87 00" => Err(P, Some("MQTT-3.2.2-6"));
    v311_rejects_session_present_with_refusal_mqtt_3_2_2_4: V3_1_1 "20 02 01 05" => Err(P, Some("MQTT-3.2.2-4"));
    v5_rejects_connack_reason_0x8e_mqtt_3_2_2_8: V5 "20 03 00 8E 00" => Err(P, Some("MQTT-3.2.2-8"));
    v5_rejects_connack_reason_0x10_mqtt_3_2_2_8: V5 "20 03 00 10 00" => Err(P, Some("MQTT-3.2.2-8"));
    v5_accepts_assigned_client_identifier_mqtt_3_2_2_16: V5 "20 08 00 00 05 12 00 02 78 31" => Same;
    v5_accepts_server_keep_alive_mqtt_3_2_2_21: V5 "20 06 00 00 03 13 00 05" => Same;

    // 3.3 PUBLISH
    v5_rejects_publish_without_topic_mqtt_3_3_2_1: V5 "30 01 00" => Err(M, Some("MQTT-3.3.2-1"));
    v5_rejects_wildcard_in_topic_name_mqtt_3_3_2_2: V5 "30 06 00 03 61 2F 23 00" => Err(M, Some("MQTT-3.3.2-2"));
    v311_rejects_wildcard_in_topic_name_mqtt_3_3_2_2: V3_1_1 "30 05 00 03 61 2F 2B" => Err(M, Some("MQTT-3.3.2-2"));
    v5_rejects_empty_topic_without_alias: V5 "30 03 00 00 00" => Err(P, None);
    v311_rejects_empty_topic_mqtt_4_7_3_1: V3_1_1 "30 02 00 00" => Err(M, Some("MQTT-4.7.3-1"));
    v311_qos0_bytes_after_topic_are_payload: V3_1_1 "30 05 00 01 61 00 01" => Same;
    v5_accepts_empty_payload: V5 "30 04 00 01 61 00" => Same;
    v5_rejects_invalid_utf8_response_topic_mqtt_3_3_2_13: V5 "30 08 00 01 61 04 08 00 01 FF" => Err(M, Some("MQTT-1.5.4-1"));
    v5_rejects_wildcard_in_response_topic_mqtt_3_3_2_14: V5 "30 0A 00 01 61 06 08 00 03 61 2F 23" => Err(P, Some("MQTT-3.3.2-14"));
    v5_rejects_null_in_content_type_mqtt_3_3_2_19: V5 "30 08 00 01 61 04 03 00 01 00" => Err(M, Some("MQTT-1.5.4-2"));
    v5_rejects_dup_on_qos_0_mqtt_3_3_1_2: V5 "38 04 00 01 61 00" => Err(M, Some("MQTT-3.3.1-2"));

    // 3.4 to 3.11: acknowledgements, SUBSCRIBE, UNSUBSCRIBE
    v311_accepts_puback: V3_1_1 "40 02 00 01" => Same;
    v311_accepts_pubrec: V3_1_1 "50 02 00 01" => Same;
    v311_accepts_pubrel: V3_1_1 "62 02 00 01" => Same;
    v311_accepts_pubcomp: V3_1_1 "70 02 00 01" => Same;
    v5_accepts_puback_short_form_length_2: V5 "40 02 00 01" => Same;
    v5_accepts_puback_short_form_length_3: V5 "40 03 00 01 10" => Same;
    v5_accepts_puback_with_empty_properties: V5 "40 04 00 01 00 00" => Decodes;
    v311_rejects_invalid_utf8_filter_mqtt_3_8_3_1: V3_1_1 "82 06 00 01 00 01 FF 00" => Err(M, Some("MQTT-1.5.3-1"));
    v5_rejects_subscribe_without_filters_mqtt_3_8_3_2: V5 "82 03 00 01 00" => Err(P, Some("MQTT-3.8.3-2"));
    v311_rejects_subscribe_without_filters_mqtt_3_8_3_3: V3_1_1 "82 02 00 01" => Err(P, Some("MQTT-3.8.3-3"));
    v311_rejects_reserved_option_bits_mqtt_3_8_3_4: V3_1_1 "82 06 00 01 00 01 61 04" => Err(M, Some("MQTT-3.8.3-4"));
    v311_rejects_requested_qos_3_mqtt_3_8_3_4: V3_1_1 "82 06 00 01 00 01 61 03" => Err(M, Some("MQTT-3.8.3-4"));
    v5_rejects_subscription_qos_3: V5 "82 07 00 01 00 00 01 61 03" => Err(P, None);
    v5_rejects_retain_handling_3: V5 "82 07 00 01 00 00 01 61 30" => Err(P, None);
    v5_accepts_all_subscription_options: V5 "82 07 00 01 00 00 01 61 2D" => Same;
    v5_rejects_reserved_option_bits_mqtt_3_8_3_5: V5 "82 07 00 01 00 00 01 61 C1" => Err(M, Some("MQTT-3.8.3-5"));
    v5_rejects_no_local_on_shared_subscription_mqtt_3_8_3_4: V5 "82 10 00 01 00 00 0A 24 73 68 61 72 65 2F 67 2F 61 05" => Err(P, Some("MQTT-3.8.3-4"));
    v5_rejects_subscription_identifier_0: V5 "82 09 00 01 02 0B 00 00 01 61 01" => Err(P, None);
    v5_rejects_two_subscription_identifiers_in_subscribe: V5 "82 0B 00 01 04 0B 01 0B 02 00 01 61 01" => Err(P, None);
    v311_rejects_suback_code_3_mqtt_3_9_3_2: V3_1_1 "90 03 00 01 03" => Err(P, Some("MQTT-3.9.3-2"));
    v5_accepts_suback: V5 "90 04 00 01 00 01" => Same;
    v5_rejects_suback_without_codes: V5 "90 03 00 01 00" => Err(M, None);
    v5_accepts_unsubscribe_with_two_filters_mqtt_3_10_3_1: V5 "A2 09 00 01 00 00 01 61 00 01 62" => Same;
    v311_rejects_unsubscribe_without_filters_mqtt_3_10_3_2: V3_1_1 "A2 02 00 01" => Err(P, Some("MQTT-3.10.3-2"));
    v5_rejects_unsubscribe_without_filters_mqtt_3_10_3_2: V5 "A2 03 00 01 00" => Err(P, Some("MQTT-3.10.3-2"));
    v311_rejects_unsuback_with_payload: V3_1_1 "B0 03 00 01 00" => Err(M, None);
    v5_accepts_unsuback_with_codes: V5 "B0 05 00 09 00 00 11" => Same;

    // 3.10 DISCONNECT, 3.11 AUTH
    v5_accepts_disconnect_length_0: V5 "E0 00" => Same;
    v5_accepts_disconnect_with_will_length_1: V5 "E0 01 04" => Same;
    v5_accepts_disconnect_with_empty_properties: V5 "E0 02 8E 00" => Decodes;
    v311_rejects_disconnect_with_body: V3_1_1 "E0 01 00" => Err(M, None);
    v5_accepts_auth_continue_with_method: V5 "F0 06 18 04 15 00 01 4D" => Same;
    v5_rejects_auth_without_method: V5 "F0 02 18 00" => Err(P, None);

    // 4 Properties
    v5_rejects_duplicate_receive_maximum: V5 "20 09 00 00 06 21 00 02 21 00 02" => Err(P, None);
    v5_rejects_duplicate_payload_format_indicator: V5 "30 08 00 01 61 04 01 00 01 00" => Err(P, None);
    v5_rejects_receive_maximum_0: V5 "10 10 00 04 4D 51 54 54 05 02 00 3C 03 21 00 00 00 00" => Err(P, None);
    v5_rejects_maximum_qos_2: V5 "20 05 00 00 02 24 02" => Err(P, None);
    v5_rejects_authentication_data_without_method: V5 "10 10 00 04 4D 51 54 54 05 02 00 3C 03 16 00 00 00 00" => Err(P, None);
    v5_rejects_properties_overrunning_their_length: V5 "20 05 00 00 05 21 00" => Err(M, None);
    v5_rejects_session_expiry_in_publish: V5 "30 09 00 01 61 05 11 00 00 00 00" => Err(M, None);
    v5_rejects_unknown_property: V5 "30 06 00 01 61 02 7F 00" => Err(M, None);
    v5_rejects_subscribe_without_property_length_mqtt_2_2_2_1: V5 "82 06 00 01 00 01 61 01" => Err(M, None);
    v5_rejects_maximum_packet_size_0: V5 "10 12 00 04 4D 51 54 54 05 02 00 3C 05 27 00 00 00 00 00 00" => Err(P, None);

    // 5 Reason codes
    v5_rejects_puback_reason_0x92_mqtt_3_4_2_1: V5 "40 03 00 01 92" => Err(P, Some("MQTT-3.4.2-1"));
    v5_rejects_pubrec_reason_0x8f_mqtt_3_5_2_1: V5 "50 03 00 01 8F" => Err(P, Some("MQTT-3.5.2-1"));
    v5_rejects_pubrel_reason_0x80_mqtt_3_6_2_1: V5 "62 03 00 01 80" => Err(P, Some("MQTT-3.6.2-1"));
    v5_rejects_pubcomp_reason_0x80_mqtt_3_7_2_1: V5 "70 03 00 01 80" => Err(P, Some("MQTT-3.7.2-1"));
    v5_rejects_suback_reason_0x11_mqtt_3_9_3_2: V5 "90 04 00 01 00 11" => Err(P, Some("MQTT-3.9.3-2"));
    v5_rejects_unsuback_reason_0x02_mqtt_3_11_3_2: V5 "B0 04 00 01 00 02" => Err(P, Some("MQTT-3.11.3-2"));
    v5_rejects_disconnect_reason_0x01_mqtt_3_14_2_1: V5 "E0 01 01" => Err(P, Some("MQTT-3.14.2-1"));
    v5_rejects_auth_reason_0x80_mqtt_3_15_2_1: V5 "F0 02 80 00" => Err(P, Some("MQTT-3.15.2-1"));

    // 7 Packet identifiers
    v311_rejects_publish_packet_id_0_mqtt_2_3_1_1: V3_1_1 "32 05 00 01 61 00 00" => Err(P, Some("MQTT-2.3.1-1"));
    v311_rejects_subscribe_packet_id_0_mqtt_2_3_1_1: V3_1_1 "82 06 00 00 00 01 61 00" => Err(M, Some("MQTT-2.3.1-1"));
    v5_rejects_publish_packet_id_0_mqtt_2_2_1_3: V5 "32 06 00 01 61 00 00 00" => Err(P, Some("MQTT-2.2.1-3"));
    v5_rejects_subscribe_packet_id_0_mqtt_2_2_1_3: V5 "82 07 00 00 00 00 01 61 00" => Err(M, Some("MQTT-2.2.1-3"));
    v5_qos0_publish_has_no_packet_id_mqtt_2_2_1_2: V5 "30 04 00 01 61 00" => Same;
    v311_qos0_publish_has_no_packet_id_mqtt_2_3_1_5: V3_1_1 "30 05 00 01 61 00 01" => Same;

    // 10 Topic aliases
    v5_accepts_empty_topic_with_alias: V5 "30 06 00 00 03 23 00 01" => Same;
    v5_rejects_topic_alias_0_mqtt_3_3_2_8: V5 "30 07 00 01 61 03 23 00 00" => Err(0x94, Some("MQTT-3.3.2-8"));
    v5_rejects_two_topic_aliases: V5 "30 0A 00 01 61 06 23 00 01 23 00 02" => Err(P, None);
}

/// Section 1.5.4 lets a receiver treat control characters as malformed; mqttwire accepts
/// them by default and refuses them when asked.
#[test]
fn v5_control_characters_are_refused_only_in_strict_mode() {
    use bytes::BytesMut;
    use mqttwire::Decoder;

    let publish = hex("30 05 00 01 07 00 78"); // topic "\u{7}", payload "x"
    let mut lenient = Decoder::new(ProtocolVersion::V5);
    let packet = lenient.decode(&mut BytesMut::from(&publish[..])).unwrap();
    assert!(matches!(packet, Some(Packet::Publish(p)) if p.topic == "\u{7}"));

    let mut strict = Decoder::new(ProtocolVersion::V5).with_strict_strings(true);
    let err = strict
        .decode(&mut BytesMut::from(&publish[..]))
        .unwrap_err();
    assert_eq!(
        err.kind(),
        &DecodeErrorKind::DiscouragedCharacter {
            field: "topic name"
        }
    );
    assert_eq!(err.reason_code().0, M);
}

/// MQTT 3.1 resends PUBREL, SUBSCRIBE and UNSUBSCRIBE with DUP set (QoS 1 packets there);
/// 3.1.1 fixed their flags at 0010 ([MQTT-2.2.2-1]).
#[test]
fn v3_1_accepts_dup_on_pubrel_subscribe_and_unsubscribe() {
    for input in [
        "6A 02 00 01",
        "8A 06 00 01 00 01 61 00",
        "AA 05 00 01 00 01 61",
    ] {
        let bytes = Bytes::from(hex(input));
        assert!(
            Packet::decode(&bytes, ProtocolVersion::V3_1).is_ok(),
            "{input}"
        );
        let err = Packet::decode(&bytes, ProtocolVersion::V3_1_1).unwrap_err();
        assert_eq!(
            err.rule(),
            Some(match input.as_bytes()[0] {
                b'6' => "MQTT-3.6.1-1",
                b'8' => "MQTT-3.8.1-1",
                _ => "MQTT-3.10.1-1",
            }),
            "{input}"
        );
    }
}

/// A CONNECT with wrong fixed-header flags is malformed whatever protocol level it claims:
/// 0x81, not the 0x84 an unsupported level would earn (which would tell a 3.1.1 server to
/// answer CONNACK 0x01 instead of closing, [MQTT-3.1.4-1]).
#[test]
fn connect_flags_are_checked_before_its_protocol_level() {
    let cases = [
        ("11 0D 00 04 4D 51 54 54 06 02 00 3C 00 00 00", None),
        (
            "11 0C 00 04 4D 51 54 54 04 02 00 3C 00 00",
            Some("MQTT-2.2.2-1"),
        ),
        (
            "11 0D 00 04 4D 51 54 54 05 02 00 3C 00 00 00",
            Some("MQTT-2.1.3-1"),
        ),
    ];
    for (input, rule) in cases {
        let err = Packet::decode(&Bytes::from(hex(input)), ProtocolVersion::V5).unwrap_err();
        assert_eq!(
            err.kind(),
            &DecodeErrorKind::InvalidFlags { flags: 1 },
            "{input}"
        );
        assert_eq!(err.reason_code().0, M, "{input}");
        assert_eq!(err.rule(), rule, "{input}");
    }
}
