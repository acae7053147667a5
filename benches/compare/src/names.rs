// Shared by build.rs (which generates one `#[inline(never)]` function per case and codec
// for callgrind's --toggle-collect) and by the program. Identifiers only: they become
// parts of function names.

/// Codecs, in table order. `framing` is the floor: frames split off, nothing decoded;
/// `strict` adds the checks the specification requires of a PUBLISH; `strict_ref` makes
/// them and hands out slices instead of `Bytes`, the floor of a borrowed decoder.
pub const CODECS: &[&str] = &[
    "mqttwire",
    "mqttwire_ref",
    "rumqttc",
    "mqttbytes",
    "mqttrs",
    "mqtt_protocol_core",
    "rmqtt_codec",
    "framing",
    "strict",
    "strict_ref",
];

/// Cases, in table order: `{op}_{workload}_{version}`.
pub const CASES: &[&str] = &[
    "decode_publish0_v311",
    "decode_publish64_v311",
    "decode_publish1k_v311",
    "decode_publish64k_v311",
    "decode_connect_v311",
    "decode_connack_v311",
    "decode_puback_v311",
    "decode_stream_v311",
    "decode_chunks7_v311",
    "decode_publish0_v5",
    "decode_publish64_v5",
    "decode_publish1k_v5",
    "decode_publish64k_v5",
    "decode_publishqos1props_v5",
    "decode_connect_v5",
    "decode_connack_v5",
    "decode_puback_v5",
    "decode_stream_v5",
    "decode_chunks7_v5",
    "encode_publish0_v311",
    "encode_publish64_v311",
    "encode_publish1k_v311",
    "encode_publish64k_v311",
    "encode_connect_v311",
    "encode_connack_v311",
    "encode_puback_v311",
    "encode_stream_v311",
    "encode_publish0_v5",
    "encode_publish64_v5",
    "encode_publish1k_v5",
    "encode_publish64k_v5",
    "encode_publishqos1props_v5",
    "encode_connect_v5",
    "encode_connack_v5",
    "encode_puback_v5",
    "encode_stream_v5",
];
